//! Randomness waiting for the beacon: what each height committed, the
//! beacon entries that settle it (step 1), and the void of what waited too
//! long (step 5).
//!
//! When a block at height `h` records a crash tick or commits a craps roll,
//! the ledger notes it under `h` ([`PendingRandomness`], with `h`'s block
//! hash and epoch). The beacon signs `(epoch, h, block hash)` only after
//! block `h` is fixed; a later block carries that signature σ as a
//! [`BeaconEntry`](crate::block::BeaconEntry) for `h`:
//!
//! - every entry must be for a height with something pending, and verify
//!   with the [`BeaconVerifier`] (the epoch's threshold group key), or the
//!   whole block is refused;
//! - the entries of one crash round's ticks must come in tick order (an
//!   interval can only be decided after the one before it);
//! - an entry settles everything its height committed, in the order it was
//!   committed.
//!
//! If no entry for `h` has come by the end of block `h +
//! beacon_void_after_blocks` (so entries are accepted in blocks `h + 1` to
//! `h + beacon_void_after_blocks`), everything waiting at `h` is void: its
//! crash rounds are voided (unsettled stakes refunded) and its craps rolls
//! dropped with every bet on the table refunded. A voided roll is never
//! rolled again.

use std::collections::BTreeMap;

use super::error::{BeaconError, LedgerError};
use super::exec::{Env, Out};
use super::records::BeaconProof;
use super::state::{PendingItem, PendingRandomness, State};
use super::tables::{CrashTiming, Play};
use crate::block::Block;
use crate::hash::BlockHash;
use crate::tx::TableId;

/// Verifies beacon signatures: the threshold BLS signature σ of `epoch`'s
/// validators over `(epoch, height, block_hash)`.
///
/// The real verifier (the epoch's group key from the DKG) belongs to the
/// beacon; the ledger only asks. It must be deterministic: every node must
/// accept exactly the same signatures.
pub trait BeaconVerifier {
    /// `Ok` if `signature` is the beacon's signature for the block
    /// `block_hash` at `height` in `epoch`.
    fn verify(
        &self,
        epoch: u64,
        height: u64,
        block_hash: &BlockHash,
        signature: &[u8],
    ) -> Result<(), BeaconError>;
}

impl State {
    /// Notes that this block's height waits for randomness for `item`.
    pub(crate) fn add_pending(
        &mut self,
        env: &Env<'_>,
        item: PendingItem,
    ) -> Result<(), LedgerError> {
        match self.pending.get_mut(&env.height) {
            Some(pending) => pending.items.push(item),
            None => self.pending.insert(
                env.height,
                PendingRandomness {
                    block_hash: env.block_hash,
                    epoch: env.epoch,
                    items: vec![item],
                },
            ),
        }
        Ok(())
    }

    /// Forgets `item` at `height` (its round ended first).
    pub(crate) fn remove_pending_item(&mut self, height: u64, item: &PendingItem) {
        let empty = match self.pending.get_mut(&height) {
            Some(pending) => {
                pending.items.retain(|i| i != item);
                pending.items.is_empty()
            }
            None => false,
        };
        if empty {
            self.pending.remove(&height);
        }
    }

    /// Whether interval `tick` of `round` at `table` is the next one to
    /// decide.
    fn crash_waits(&self, table: TableId, round: u64, tick: u32) -> bool {
        self.tables.get(&table).is_some_and(|t| match &t.play {
            Play::Crash(crash) => {
                crash.round_number == round
                    && matches!(crash.timing, CrashTiming::Running { .. })
                    && !crash.round.phase().is_over()
                    && crash.round.decided_intervals().checked_add(1) == Some(tick)
            }
            Play::Craps(_) => false,
        })
    }

    /// The checks on a block's beacon entries that need state, done before
    /// anything changes (see the module doc).
    pub(crate) fn check_beacon_entries(
        &self,
        block: &Block,
        verifier: &dyn BeaconVerifier,
    ) -> Result<(), LedgerError> {
        let mut next_tick: BTreeMap<(TableId, u64), u32> = BTreeMap::new();
        for entry in block.beacon_entries.iter() {
            let pending =
                self.pending
                    .get(&entry.height)
                    .ok_or(LedgerError::UnexpectedBeaconEntry {
                        height: entry.height,
                    })?;
            verifier
                .verify(
                    pending.epoch,
                    entry.height,
                    &pending.block_hash,
                    &entry.signature,
                )
                .map_err(|source| LedgerError::BadBeaconEntry {
                    height: entry.height,
                    source,
                })?;
            for item in &pending.items {
                let PendingItem::CrashTick { table, round, tick } = *item else {
                    continue;
                };
                let expected = match next_tick.get(&(table, round)) {
                    Some(next) => *next,
                    None => match self.tables.get(&table).map(|t| &t.play) {
                        Some(Play::Crash(crash)) if crash.round_number == round => crash
                            .round
                            .decided_intervals()
                            .checked_add(1)
                            .ok_or(LedgerError::overflow("an interval number"))?,
                        _ => {
                            return Err(LedgerError::corrupt(format!(
                                "height {} waits for {table} round {round}, which is gone",
                                entry.height
                            )));
                        }
                    },
                };
                if tick != expected {
                    return Err(LedgerError::BeaconOutOfOrder {
                        height: entry.height,
                        table,
                        round,
                        tick,
                        expected,
                    });
                }
                next_tick.insert(
                    (table, round),
                    tick.checked_add(1)
                        .ok_or(LedgerError::overflow("an interval number"))?,
                );
            }
        }
        Ok(())
    }

    /// Step 1: settles what each beacon entry's height committed (the
    /// entries were checked by [`State::check_beacon_entries`]).
    pub(crate) fn apply_beacon_entries(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
        block: &Block,
    ) -> Result<(), LedgerError> {
        for entry in block.beacon_entries.iter() {
            // Gone only if a round ended earlier in this block and took its
            // later ticks with it.
            let Some(pending) = self.pending.remove(&entry.height) else {
                continue;
            };
            let proof = BeaconProof {
                height: entry.height,
                block_hash: pending.block_hash,
                epoch: pending.epoch,
                signature: entry.signature.clone(),
                included_at: env.height,
            };
            for item in pending.items {
                match item {
                    PendingItem::CrapsRoll { table, roll_number } => {
                        self.settle_craps_roll(env, out, table, roll_number, proof.clone())?;
                    }
                    PendingItem::CrashTick { table, round, tick } => {
                        if self.crash_waits(table, round, tick) {
                            self.decide_crash_interval(
                                env,
                                out,
                                table,
                                round,
                                tick,
                                proof.clone(),
                            )?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Step 5: voids everything that has waited `beacon_void_after_blocks`
    /// blocks.
    pub(crate) fn void_expired(&mut self, env: &Env<'_>, out: &mut Out) -> Result<(), LedgerError> {
        let bound = env.params.beacon_void_after_blocks;
        let expired: Vec<u64> = self
            .pending
            .iter()
            .map(|(height, _)| *height)
            .take_while(|height| env.height.saturating_sub(*height) >= bound)
            .collect();
        for height in expired {
            let Some(pending) = self.pending.remove(&height) else {
                continue;
            };
            for item in pending.items {
                match item {
                    PendingItem::CrapsRoll { table, roll_number } => {
                        let waits = self.tables.get(&table).is_some_and(|t| match &t.play {
                            Play::Craps(craps) => {
                                craps.pending_roll.map(|p| p.roll_number) == Some(roll_number)
                            }
                            Play::Crash(_) => false,
                        });
                        if waits {
                            self.void_craps_roll(env, out, table, roll_number, height)?;
                        }
                    }
                    PendingItem::CrashTick { table, round, .. } => {
                        self.void_crash_round(env, out, table, round)?;
                    }
                }
            }
        }
        Ok(())
    }
}
