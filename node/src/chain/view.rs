//! The API's reads over the chain: [`NodeView`] for [`Chain`], and the
//! mempool's [`AccountView`] of the ledger ([`LedgerAccounts`]).
//!
//! Everything comes from the ledger's state (accounts, validators, tables,
//! bankroll), the store's explorer indexes (blocks, receipts, the tx
//! index, account histories, finished rounds) and the node's own index
//! (leaderboard, per-round bet totals, proposer counts). Reads take the
//! ledger's read lock briefly and never hold it across store reads of
//! many items.

use std::sync::{Arc, RwLock};

use consensus::beacon::BeaconMessage;
use consensus::block::{BeaconEntry, Block};
use consensus::hash::{BlockHash, TxHash};
use consensus::ledger::CrashTiming;
use consensus::ledger::records::{
    BeaconProof, CrapsRollResult, CrashEnd, RoundRecord as LedgerRound,
};
use consensus::ledger::{BlockEvents, Ledger, Play};
use consensus::receipt::{BetResult, LedgerEvent, Receipt, VoidReason, Wager};
use consensus::storage::TxLocation;
use consensus::tx::{SignedTransaction, TableId};
use game_rules::Chips;
use game_rules::crash::Outcome;
use wallet::{Address, ChainId, PublicKey};

use super::{Chain, ChainError};
use crate::api::{
    AccountInfo, BankrollInfo, Game, HistoryEntry, LeaderboardEntry, NodeStatus, NodeView, OpenBet,
    Page, RoundInfo, RoundOutcome, RoundRandomness, RoundStatus, RoundSummary, SubmitError,
    TableInfo, TxInclusion, TxRecord, ValidatorInfo, ViewError,
};
use crate::mempool::{AccountState, AccountView};

/// History cursors: `height << 16 | position` (a block holds far fewer
/// than 2^16 transactions).
const POSITION_BITS: u32 = 16;

fn internal(error: impl std::fmt::Display) -> ViewError {
    ViewError::Internal(error.to_string())
}

impl From<ChainError> for ViewError {
    fn from(error: ChainError) -> ViewError {
        internal(error)
    }
}

/// The mempool's view of the shared ledger.
#[derive(Clone, Debug)]
pub struct LedgerAccounts {
    ledger: Arc<RwLock<Ledger>>,
}

impl LedgerAccounts {
    /// A view of `ledger`.
    pub fn new(ledger: Arc<RwLock<Ledger>>) -> LedgerAccounts {
        LedgerAccounts { ledger }
    }
}

impl AccountView for LedgerAccounts {
    fn account(&self, address: &Address) -> Option<AccountState> {
        let ledger = self.ledger.read().ok()?;
        let account = ledger.account(address);
        (account.balance > Chips::ZERO || account.nonce > 0).then_some(AccountState {
            balance: account.balance,
            nonce: account.nonce,
        })
    }

    fn next_height(&self) -> u64 {
        self.ledger.read().map_or(0, |l| l.next_height())
    }

    fn min_fee(&self) -> Chips {
        // A poisoned ledger admits nothing: no fee is high enough.
        self.ledger
            .read()
            .map_or(Chips(u64::MAX), |l| l.params().min_fee)
    }

    fn takes_dealer_log(&self, sender: &PublicKey, round: u64) -> bool {
        self.ledger
            .read()
            .is_ok_and(|l| l.takes_dealer_log(sender, round))
    }
}

impl Chain {
    fn stored_block(&self, height: u64) -> Result<Option<Block>, ViewError> {
        Ok(self.block(height)?)
    }

    /// A transaction this node's ledger includes, with its receipt.
    fn included_transaction(&self, hash: &TxHash) -> Result<Option<TxRecord>, ViewError> {
        let Some(location) = self.store.tx_location(&hash.to_bytes()).map_err(internal)? else {
            return Ok(None);
        };
        let Some(block) = self.stored_block(location.height)? else {
            return Ok(None);
        };
        let Some(tx) = block.transactions.get(location.position as usize).cloned() else {
            return Err(internal(format!(
                "the tx index points past the transactions of block {}",
                location.height
            )));
        };
        let receipt = self
            .store
            .receipt(location)
            .map_err(internal)?
            .ok_or_else(|| internal("an included transaction has no receipt"))?;
        let receipt = Receipt::decode(&receipt).map_err(internal)?;
        Ok(Some(TxRecord {
            tx,
            inclusion: Some(TxInclusion {
                height: location.height,
                block_hash: block.hash(),
                index: location.position,
                receipt,
            }),
        }))
    }

    /// Round bets and stakes from the node's index.
    fn round_totals(&self, table: TableId, round: u64) -> (u64, u64) {
        self.index
            .lock()
            .map_or((0, 0), |index| index.round_totals(table, round))
    }

    fn game_of(&self, table: TableId) -> Option<Game> {
        self.index.lock().ok().and_then(|index| index.game(table))
    }

    fn randomness(&self, beacon: &BeaconProof) -> RoundRandomness {
        let message = BeaconMessage {
            chain_id: self.chain_id,
            epoch: beacon.epoch,
            height: beacon.height,
            block: beacon.block_hash,
        };
        RoundRandomness {
            entry: BeaconEntry {
                height: beacon.height,
                signature: beacon.signature.clone(),
            },
            published_height: beacon.included_at,
            epoch: beacon.epoch,
            message: hex::encode(message.encode()),
            group_public_key: self
                .genesis
                .beacon_sharing
                .as_ref()
                .map(|sharing| hex::encode(sharing.group_key().as_bytes()))
                .unwrap_or_default(),
            derivation: String::new(),
        }
    }

    /// A finished round from its stored record.
    fn finished_round(&self, table: TableId, record: &LedgerRound) -> RoundInfo {
        let (bets, wagered) = self.round_totals(table, record_round(record));
        match record {
            LedgerRound::CrapsRoll(roll) => {
                let mut events = Vec::new();
                let (status, settled, settled_bets, randomness, outcome) = match &roll.result {
                    CrapsRollResult::Rolled {
                        beacon,
                        dice,
                        point_after,
                        seven_out,
                        bets,
                        ..
                    } => {
                        events.push(LedgerEvent::DiceRolled {
                            table,
                            roll_number: roll.roll_number,
                            dice: *dice,
                            beacon_height: beacon.height,
                            point: *point_after,
                            seven_out: *seven_out,
                        });
                        let mut randomness = self.randomness(beacon);
                        randomness.derivation = format!(
                            "game-rules randomness v1: stream(craps-roll, label {}).roll()",
                            hex::encode(&roll.label)
                        );
                        let outcome = RoundOutcome::Rolled {
                            dice: [dice.first.face(), dice.second.face()],
                            total: dice.total(),
                            point: *point_after,
                            seven_out: *seven_out,
                        };
                        (
                            RoundStatus::Settled,
                            beacon.included_at,
                            bets,
                            vec![randomness],
                            Some(outcome),
                        )
                    }
                    CrapsRollResult::Void {
                        voided_at,
                        refunded,
                    } => {
                        events.push(LedgerEvent::RoundVoid {
                            table,
                            round: roll.roll_number,
                            reason: VoidReason::BeaconTimeout,
                        });
                        (RoundStatus::Void, *voided_at, refunded, Vec::new(), None)
                    }
                };
                let mut paid = 0u64;
                for bet in settled_bets {
                    paid = paid.saturating_add(bet.paid.get());
                    events.push(LedgerEvent::BetSettled {
                        table,
                        round: roll.roll_number,
                        bet: bet.bet,
                        player: bet.player,
                        result: bet.result,
                        paid: bet.paid,
                    });
                }
                RoundInfo {
                    summary: RoundSummary {
                        table,
                        round: roll.roll_number,
                        game: Game::Craps,
                        status,
                        opened_height: roll.committed_height,
                        settled_height: Some(settled),
                        bets,
                        wagered,
                        paid,
                        outcome,
                    },
                    randomness,
                    events,
                }
            }
            LedgerRound::CrashRound(crash) => {
                let mut events = Vec::new();
                let mut wagered_recorded = 0u64;
                for bet in &crash.bets {
                    wagered_recorded = wagered_recorded.saturating_add(bet.amount.get());
                    events.push(LedgerEvent::BetPlaced {
                        table,
                        round: crash.round,
                        bet: bet.bet,
                        player: bet.player,
                        wager: Wager::Crash {
                            auto_cash_out: bet.auto_cash_out.map(|m| m.hundredths()),
                        },
                        amount: bet.amount,
                    });
                }
                events.push(LedgerEvent::CrashRoundStarted {
                    table,
                    round: crash.round,
                    start_ms: crash.start_ms,
                });
                let mut randomness = Vec::new();
                for interval in &crash.intervals {
                    events.push(LedgerEvent::CrashTick {
                        table,
                        round: crash.round,
                        multiplier: interval.to,
                        elapsed_ms: interval.timestamp_ms.saturating_sub(crash.start_ms),
                    });
                    let mut entry = self.randomness(&interval.beacon);
                    entry.derivation = format!(
                        "game-rules crash v1: Draws::derive(label {}, first interval: {}), interval {} from {} to {}: survived {}",
                        hex::encode(&interval.label),
                        interval.interval == 1,
                        interval.interval,
                        interval.from.hundredths(),
                        interval.to.hundredths(),
                        interval.survived
                    );
                    randomness.push(entry);
                }
                let last_included = crash.intervals.last().map(|i| i.beacon.included_at);
                let (status, settled, outcome) = match crash.end {
                    CrashEnd::Crashed { at, .. } => {
                        events.push(LedgerEvent::Crashed {
                            table,
                            round: crash.round,
                            at,
                            beacon_height: crash
                                .intervals
                                .last()
                                .map_or(crash.start_height, |i| i.beacon.height),
                        });
                        let outcome = RoundOutcome::Crashed {
                            at_hundredths: at.hundredths(),
                        };
                        (RoundStatus::Settled, last_included, Some(outcome))
                    }
                    CrashEnd::Finished => {
                        events.push(LedgerEvent::CrashRoundFinished {
                            table,
                            round: crash.round,
                        });
                        (
                            RoundStatus::Settled,
                            last_included,
                            Some(RoundOutcome::Capped),
                        )
                    }
                    CrashEnd::Void { voided_at } => {
                        events.push(LedgerEvent::RoundVoid {
                            table,
                            round: crash.round,
                            reason: VoidReason::BeaconTimeout,
                        });
                        (RoundStatus::Void, Some(voided_at), None)
                    }
                };
                let mut paid = 0u64;
                for bet in &crash.bets {
                    let result = match bet.outcome {
                        Outcome::Won { multiplier, .. } => {
                            events.push(LedgerEvent::CrashCashedOut {
                                table,
                                round: crash.round,
                                bet: bet.bet,
                                at: multiplier,
                            });
                            BetResult::Win
                        }
                        Outcome::Lost => BetResult::Lose,
                        Outcome::Refunded { .. } => BetResult::Refund,
                    };
                    paid = paid.saturating_add(bet.outcome.paid().get());
                    events.push(LedgerEvent::BetSettled {
                        table,
                        round: crash.round,
                        bet: bet.bet,
                        player: bet.player,
                        result,
                        paid: bet.outcome.paid(),
                    });
                }
                RoundInfo {
                    summary: RoundSummary {
                        table,
                        round: crash.round,
                        game: Game::Crash,
                        status,
                        opened_height: crash.start_height,
                        settled_height: settled,
                        bets: bets.max(crash.bets.len() as u64),
                        wagered: wagered.max(wagered_recorded),
                        paid,
                        outcome,
                    },
                    randomness,
                    events,
                }
            }
        }
    }

    /// The round a table has open now, from the ledger (not stored until it
    /// ends).
    fn open_round(&self, table: TableId) -> Result<Option<RoundSummary>, ViewError> {
        let ledger = self.read_ledger()?;
        let Some(state) = ledger.table(table) else {
            return Ok(None);
        };
        let (round, game, status, opened) = match &state.play {
            Play::Crash(crash) => {
                let status = match crash.timing {
                    CrashTiming::Betting { .. } => RoundStatus::Betting,
                    CrashTiming::Running { .. } => RoundStatus::Running,
                    CrashTiming::Cooldown { .. } => return Ok(None),
                };
                let opened = match crash.timing {
                    CrashTiming::Running { start_height } => start_height,
                    _ => crash
                        .tick_heights
                        .first()
                        .copied()
                        .unwrap_or(state.created_height),
                };
                (crash.round_number, Game::Crash, status, opened)
            }
            Play::Craps(craps) => {
                let status = if craps.pending_roll.is_some() {
                    RoundStatus::Running
                } else {
                    RoundStatus::Betting
                };
                let opened = craps
                    .pending_roll
                    .map_or(state.created_height, |roll| roll.height);
                (craps.next_roll, Game::Craps, status, opened)
            }
        };
        drop(ledger);
        let (bets, wagered) = self.round_totals(table, round);
        Ok(Some(RoundSummary {
            table,
            round,
            game,
            status,
            opened_height: opened,
            settled_height: None,
            bets,
            wagered,
            paid: 0,
            outcome: None,
        }))
    }
}

fn record_round(record: &LedgerRound) -> u64 {
    match record {
        LedgerRound::CrapsRoll(roll) => roll.roll_number,
        LedgerRound::CrashRound(crash) => crash.round,
    }
}

fn location_of(seq: u64) -> TxLocation {
    TxLocation {
        height: seq >> POSITION_BITS,
        position: (seq & ((1 << POSITION_BITS) - 1)) as u32,
    }
}

fn seq_of(location: TxLocation) -> u64 {
    (location.height << POSITION_BITS) | u64::from(location.position)
}

impl NodeView for Chain {
    fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    fn status(&self) -> Result<NodeStatus, ViewError> {
        let (height, block_hash, epoch, min_fee) = {
            let ledger = self.read_ledger()?;
            let head = ledger.head();
            (
                head.map(|h| h.height),
                head.map(|h| h.block_hash),
                ledger.epoch(),
                ledger.params().min_fee,
            )
        };
        let peers = self.network().map_or(0, |n| n.peer_count() as u64);
        self.metrics.set_peers(peers as usize);
        let mempool_transactions = self.mempool.lock().map_or(0, |m| m.len() as u64);
        let sync = self.refresh_sync();
        Ok(NodeStatus {
            chain_id: self.chain_id,
            height,
            block_hash,
            epoch,
            peers,
            mempool_transactions,
            min_fee: min_fee.get(),
            syncing: sync.is_some(),
            sync,
        })
    }

    fn block_by_height(&self, height: u64) -> Result<Option<Block>, ViewError> {
        self.stored_block(height)
    }

    fn block_by_hash(&self, hash: &BlockHash) -> Result<Option<Block>, ViewError> {
        let Some(bytes) = self
            .store
            .get_meta(&super::hash_key(hash))
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let height: [u8; 8] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| internal("a block-hash index entry is not 8 bytes"))?;
        Ok(self
            .stored_block(u64::from_be_bytes(height))?
            .filter(|block| block.hash() == *hash))
    }

    fn finality_proof(&self, height: u64) -> Result<Option<Vec<u8>>, ViewError> {
        Ok(self.proof(height)?)
    }

    fn transaction(&self, hash: &TxHash) -> Result<Option<TxRecord>, ViewError> {
        // The ledger first: a block's transactions leave the mempool only
        // after the block is on the ledger, so asking the mempool first
        // would call an included transaction pending for that moment (a
        // chaos run saw it on a validator catching up). The ledger again
        // last, for a transaction that moved from the mempool to a block
        // between the two reads.
        if let Some(included) = self.included_transaction(hash)? {
            return Ok(Some(included));
        }
        if let Some(tx) = self.mempool.lock().ok().and_then(|m| m.get(hash).cloned()) {
            return Ok(Some(TxRecord {
                tx,
                inclusion: None,
            }));
        }
        self.included_transaction(hash)
    }

    fn account(&self, address: &Address, page: Page) -> Result<AccountInfo, ViewError> {
        let (account, shares, stake) = {
            let ledger = self.read_ledger()?;
            let stake = ledger
                .validators()
                .filter(|(_, v)| v.account == *address)
                .fold(0u64, |sum, (_, v)| sum.saturating_add(v.stake.get()));
            (ledger.account(address), ledger.shares(address), stake)
        };
        // The pool's run starts at the account nonce it last saw, so its
        // end is right even while a just-applied block is being pruned;
        // never below the ledger's.
        let pending_nonce = self
            .mempool
            .lock()
            .map_err(|_| internal("the mempool is unusable"))?
            .pending_nonce(address)
            .map_or(account.nonce, |pending| pending.max(account.nonce));
        let history = self
            .store
            .account_history(
                &address.to_bytes(),
                page.before.map(location_of),
                page.limit,
            )
            .map_err(internal)?;
        let mut entries = Vec::with_capacity(history.entries.len());
        for entry in &history.entries {
            let events = match entry.tx_hash {
                Some(_) => self
                    .store
                    .receipt(entry.location)
                    .map_err(internal)?
                    .map(|bytes| Receipt::decode(&bytes).map(|r| r.events.into_vec()))
                    .transpose()
                    .map_err(internal)?,
                None => self
                    .store
                    .block_events(entry.location.height)
                    .map_err(internal)?
                    .map(|bytes| BlockEvents::decode(&bytes).map(|b| b.events))
                    .transpose()
                    .map_err(internal)?,
            };
            let Some(events) = events else { continue };
            // Events that name no account stay in a transaction's entry
            // (its cash-out, its closed table: what the action did) but not
            // in a block's, whose rolls and ticks are every table's.
            let events: Vec<LedgerEvent> = events
                .into_iter()
                .filter(|e| match e.account() {
                    Some(account) => account == address,
                    None => entry.tx_hash.is_some(),
                })
                .collect();
            entries.push(HistoryEntry {
                seq: seq_of(entry.location),
                height: entry.location.height,
                tx: entry.tx_hash.map(TxHash::new),
                events,
            });
        }
        Ok(AccountInfo {
            address: *address,
            balance: account.balance.get(),
            nonce: account.nonce,
            pending_nonce,
            stake,
            bankroll_shares: shares,
            history: entries,
            next_before: history.next.map(seq_of),
        })
    }

    fn validators(&self) -> Result<Vec<ValidatorInfo>, ViewError> {
        let ledger = self.read_ledger()?;
        let active = ledger.active_validators().to_vec();
        let index = self.index.lock().map_err(|_| internal("index poisoned"))?;
        Ok(ledger
            .validators()
            .map(|(key, validator)| {
                let unbonding = ledger
                    .unbonding()
                    .filter(|(_, u)| u.validator == *key)
                    .fold(0u64, |sum, (_, u)| sum.saturating_add(u.amount.get()));
                let is_active = active.contains(key);
                let views = index.views();
                let missed = views.missed(key);
                let uptime = uptime(views.produced(key), views.led(key));
                ValidatorInfo {
                    address: validator.account,
                    consensus_key: *key,
                    stake: validator.stake.get(),
                    unbonding,
                    active: is_active,
                    uptime,
                    missed_heights: missed,
                    slashed: validator.slashed,
                    slashed_amount: index.slashed(key),
                    network_address: validator.network_address.to_string(),
                }
            })
            .collect())
    }

    fn tables(&self) -> Result<Vec<TableInfo>, ViewError> {
        let ledger = self.read_ledger()?;
        Ok(ledger
            .tables()
            .map(|(id, table)| {
                let players = table.seating_order();
                let (round, shooter) = match &table.play {
                    Play::Crash(crash) => (crash.round_number, None),
                    Play::Craps(craps) => (craps.next_roll, craps.shooter(&players)),
                };
                TableInfo {
                    id: *id,
                    name: table.name.to_string(),
                    owner: table.owner,
                    game: table.game,
                    max_players: table.max_players,
                    players,
                    round: Some(round),
                    shooter,
                }
            })
            .collect())
    }

    fn table_rounds(
        &self,
        table: TableId,
        page: Page,
    ) -> Result<Option<Vec<RoundSummary>>, ViewError> {
        if self.game_of(table).is_none() {
            return Ok(None);
        }
        let mut out = Vec::new();
        if let Some(open) = self.open_round(table)?
            && page.before.is_none_or(|before| open.round < before)
        {
            out.push(open);
        }
        let want = page.limit.saturating_sub(out.len());
        if want > 0 {
            let stored = self
                .store
                .rounds(table.0, page.before, want)
                .map_err(internal)?;
            for record in stored.rounds {
                let record = LedgerRound::decode(&record.record).map_err(internal)?;
                out.push(self.finished_round(table, &record).summary);
            }
        }
        out.truncate(page.limit);
        Ok(Some(out))
    }

    fn table_bets(
        &self,
        table: TableId,
        player: Option<&Address>,
    ) -> Result<Option<Vec<OpenBet>>, ViewError> {
        let ledger = self.read_ledger()?;
        Ok(ledger.table(table).map(|t| {
            t.open_bets()
                .into_iter()
                .filter(|bet| player.is_none_or(|p| bet.player == *p))
                .collect()
        }))
    }

    fn round(&self, table: TableId, round: u64) -> Result<Option<RoundInfo>, ViewError> {
        if let Some(record) = self.store.round(table.0, round).map_err(internal)? {
            let record = LedgerRound::decode(&record).map_err(internal)?;
            return Ok(Some(self.finished_round(table, &record)));
        }
        Ok(self
            .open_round(table)?
            .filter(|open| open.round == round)
            .map(|summary| RoundInfo {
                summary,
                randomness: Vec::new(),
                events: Vec::new(),
            }))
    }

    fn leaderboard(
        &self,
        game: Option<Game>,
        limit: usize,
    ) -> Result<Vec<LeaderboardEntry>, ViewError> {
        Ok(Chain::leaderboard(self, game, limit)?)
    }

    fn bankroll(&self) -> Result<BankrollInfo, ViewError> {
        let ledger = self.read_ledger()?;
        let bankroll = ledger.bankroll();
        let pending = ledger
            .withdrawals()
            .fold(0u128, |sum, (_, w)| sum.saturating_add(w.shares));
        Ok(BankrollInfo {
            balance: bankroll.chips.get(),
            total_shares: bankroll.total_shares,
            pending_withdrawal_shares: pending,
            withdrawal_delay_blocks: ledger.params().withdrawal_delay_blocks,
            exposure: bankroll.reserved.get(),
            max_round_exposure_bps: u32::from(ledger.params().crash_risk_cap_bps),
        })
    }

    fn submit_transaction(&self, tx: SignedTransaction) -> Result<TxHash, SubmitError> {
        self.submit(tx)
    }

    fn submit_transactions(&self, txs: Vec<SignedTransaction>) -> Vec<Result<TxHash, SubmitError>> {
        self.submit_all(txs)
    }
}

/// A validator's uptime in the current epoch: of the views it led, the
/// share that produced a finalized block; 1 if it led none.
fn uptime(produced: u64, led: u64) -> f64 {
    if led == 0 {
        return 1.0;
    }
    // Display only: the counts themselves are exact integers.
    produced as f64 / led as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_cursors_round_trip() {
        for location in [
            TxLocation {
                height: 0,
                position: 0,
            },
            TxLocation {
                height: 123_456,
                position: 4095,
            },
        ] {
            assert_eq!(location_of(seq_of(location)), location);
        }
    }

    #[test]
    fn uptime_is_the_share_of_led_views_with_a_block() {
        assert_eq!(uptime(10, 10), 1.0);
        assert_eq!(uptime(5, 10), 0.5);
        assert_eq!(uptime(0, 3), 0.0);
        assert_eq!(uptime(0, 0), 1.0);
    }
}
