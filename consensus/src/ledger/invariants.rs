//! The ledger's invariants, checked from scratch
//! ([`Ledger::check_invariants`](super::Ledger::check_invariants)): after
//! every block in debug builds (a violation refuses the block), and after
//! every block in the tests.
//!
//! 1. **Supply**: Σ balances + bankroll chips + Σ bonded stakes + Σ
//!    unbonding + Σ escrow (craps stakes and odds on the tables, crash
//!    stakes not yet settled) + fee pool = genesis supply + faucet minted −
//!    burned (fees and slashing), in 128-bit sums.
//! 2. **Bankroll**: the reserve is the sum of the tables' reserves, each
//!    equal to what it recomputes to from its bets, and at most the pool's
//!    chips; the total shares are the shares held plus the shares locked in
//!    withdrawals.
//! 3. **Books**: every craps bet has an owner and every owner entry a bet;
//!    every crash bet has an owner and each player at most one bet per
//!    round; a crash round's phase matches its table's timing. Settled
//!    bets leave the books: craps bets that come down are removed from the
//!    table and the owners, and crash escrow counts only unsettled stakes,
//!    so a bet cannot be paid twice.
//! 4. **Pending randomness**: every pending item is something that really
//!    waits, and everything that waits has its pending item.
//! 5. **No empty records**: no stored account is empty, no share entry is
//!    zero, the open-table counter is the number of tables.
//!
//! Amounts are `u64` and every change is checked arithmetic, so nothing can
//! go below zero; nonces only ever go up by one per charged transaction
//! (checked by the tests across blocks).

use std::collections::BTreeSet;

use game_rules::crash::{BetStatus, Phase};

use super::craps::table_reserve;
use super::error::InvariantError;
use super::state::{Account, PendingItem, State};
use super::tables::{CrashTiming, Play};

fn broken(what: String) -> InvariantError {
    InvariantError::Broken(what)
}

impl State {
    /// Checks every invariant of the module doc.
    pub(crate) fn check_invariants(&self) -> Result<(), InvariantError> {
        let globals = self.globals.get();
        let bankroll = self.bankroll.get();

        // 1. Supply.
        let mut held: u128 = u128::from(bankroll.chips.get()) + u128::from(globals.fee_pool.get());
        for (address, account) in self.accounts.iter() {
            if *account == Account::default() {
                return Err(broken(format!("account {address} is stored empty")));
            }
            held += u128::from(account.balance.get());
        }
        for (_, validator) in self.validators.iter() {
            held += u128::from(validator.stake.get());
        }
        for (_, entry) in self.unbonding.iter() {
            held += u128::from(entry.amount.get());
        }
        let mut reserved: u128 = 0;
        for (id, table) in self.tables.iter() {
            let escrow = table
                .escrow()
                .ok_or_else(|| broken(format!("{id}'s escrow overflows")))?;
            held += u128::from(escrow.get());
            reserved += u128::from(table.reserved().get());
        }
        let minted = u128::from(globals.genesis_supply.get()) + u128::from(globals.minted.get());
        if globals.burned() > minted {
            return Err(broken("more burned than ever existed".into()));
        }
        let expected = globals.expected_supply();
        if held != expected {
            return Err(InvariantError::Supply { held, expected });
        }

        // 2. Bankroll.
        if reserved != u128::from(bankroll.reserved.get()) {
            return Err(broken(format!(
                "the bankroll reserves {} but the tables reserve {reserved}",
                bankroll.reserved
            )));
        }
        if bankroll.reserved > bankroll.chips {
            return Err(broken(format!(
                "the reserve {} is above the bankroll's {}",
                bankroll.reserved, bankroll.chips
            )));
        }
        let mut shares: u128 = 0;
        for (address, held) in self.shares.iter() {
            if *held == 0 {
                return Err(broken(format!("{address} holds a stored zero of shares")));
            }
            shares = shares
                .checked_add(*held)
                .ok_or_else(|| broken("shares overflow".into()))?;
        }
        for (_, withdrawal) in self.withdrawals.iter() {
            shares = shares
                .checked_add(withdrawal.shares)
                .ok_or_else(|| broken("shares overflow".into()))?;
        }
        if shares != bankroll.total_shares {
            return Err(broken(format!(
                "accounts and withdrawals hold {shares} shares, the bankroll counts {}",
                bankroll.total_shares
            )));
        }
        if usize::try_from(globals.open_tables).ok() != Some(self.tables.len()) {
            return Err(broken(format!(
                "{} tables open, the counter says {}",
                self.tables.len(),
                globals.open_tables
            )));
        }

        // 3 and 4. Tables and pending randomness.
        let mut waiting = BTreeSet::new();
        for (height, pending) in self.pending.iter() {
            for item in &pending.items {
                if !waiting.insert(*item) {
                    return Err(broken(format!("{item:?} is pending twice")));
                }
                let table = self
                    .tables
                    .get(&item.table())
                    .ok_or_else(|| broken(format!("height {height} waits for a closed table")))?;
                let live = match (item, &table.play) {
                    (PendingItem::CrapsRoll { roll_number, .. }, Play::Craps(craps)) => craps
                        .pending_roll
                        .is_some_and(|p| p.roll_number == *roll_number && p.height == *height),
                    (PendingItem::CrashTick { round, tick, .. }, Play::Crash(crash)) => {
                        crash.round_number == *round
                            && crash.round.phase() == Phase::Running
                            && *tick > crash.round.decided_intervals()
                            && crash.tick_heights.get(*tick as usize) == Some(height)
                    }
                    _ => false,
                };
                if !live {
                    return Err(broken(format!(
                        "height {height} waits for {item:?}, which waits for nothing"
                    )));
                }
            }
        }
        for (id, table) in self.tables.iter() {
            match &table.play {
                Play::Craps(craps) => {
                    let bets: BTreeSet<u64> = craps.table.bets().map(|b| b.id().0).collect();
                    let owned: BTreeSet<u64> = craps.owners.keys().copied().collect();
                    if bets != owned {
                        return Err(broken(format!("{id}'s bets and owners differ")));
                    }
                    let reserve = table_reserve(&craps.table)
                        .ok_or_else(|| broken(format!("{id}'s reserve overflows")))?;
                    if reserve != craps.reserved {
                        return Err(broken(format!(
                            "{id} reserves {} but its bets need {reserve}",
                            craps.reserved
                        )));
                    }
                    if let Some(p) = craps.pending_roll {
                        let item = PendingItem::CrapsRoll {
                            table: *id,
                            roll_number: p.roll_number,
                        };
                        if !waiting.contains(&item) {
                            return Err(broken(format!("{id}'s pending roll is not pending")));
                        }
                    }
                }
                Play::Crash(crash) => {
                    let bets: BTreeSet<u64> = crash.round.bets().map(|b| b.id.0).collect();
                    let owned: BTreeSet<u64> = crash.bettors.keys().copied().collect();
                    if bets != owned || crash.by_player.len() != crash.bettors.len() {
                        return Err(broken(format!("{id}'s crash bets and owners differ")));
                    }
                    for (player, bet) in &crash.by_player {
                        if crash.bettors.get(bet) != Some(player) {
                            return Err(broken(format!("{id}'s player index is wrong")));
                        }
                    }
                    let phase = crash.round.phase();
                    let consistent = match crash.timing {
                        CrashTiming::Betting { .. } => phase == Phase::Betting,
                        CrashTiming::Running { .. } => phase == Phase::Running,
                        CrashTiming::Cooldown { .. } => phase.is_over(),
                    };
                    if !consistent {
                        return Err(broken(format!(
                            "{id}'s round is {phase} but its timing is {:?}",
                            crash.timing
                        )));
                    }
                    let reserve = crash
                        .reserve_from_scratch()
                        .ok_or_else(|| broken(format!("{id}'s round reserve is negative")))?;
                    if reserve != crash.reserved {
                        return Err(broken(format!(
                            "{id} reserves {} but its round needs {reserve}",
                            crash.reserved
                        )));
                    }
                    if phase == Phase::Running {
                        let latest = crash.round.latest_tick().map_or(0, |t| t.index);
                        for tick in crash.round.decided_intervals() + 1..=latest {
                            let item = PendingItem::CrashTick {
                                table: *id,
                                round: crash.round_number,
                                tick,
                            };
                            if !waiting.contains(&item) {
                                return Err(broken(format!(
                                    "{id} round {} tick {tick} is undecided but not pending",
                                    crash.round_number
                                )));
                            }
                        }
                    }
                    if phase.is_over() {
                        let unsettled = crash
                            .round
                            .bets()
                            .any(|b| !matches!(b.status, BetStatus::Settled(_)));
                        if unsettled {
                            return Err(broken(format!("{id}'s finished round has open bets")));
                        }
                    }
                }
            }
        }
        if self.active_validators().is_empty() {
            return Err(broken("the current epoch has no validators".into()));
        }
        Ok(())
    }
}
