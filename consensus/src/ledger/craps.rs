//! Craps tables through blocks.
//!
//! - **Bets** (`CrapsBet`, `CrapsOdds`, `CrapsTakeDown`,
//!   `CrapsSetWorking`): a seated player bets; bet ids come from the
//!   table's counter (from 1) and the ledger keeps each bet's owner; only
//!   the owner changes odds, takes down or switches a bet. Every request is
//!   checked in full (seat, balance, the bankroll reserve, no roll pending)
//!   before the engine is asked, and the engine's requests are all or
//!   nothing, so a refused request changes nothing.
//! - **Book-keeping** follows the engine's identity: placing moves the stake
//!   player → escrow (the table's bets); odds move the difference either
//!   way; a take-down returns stake and odds; a roll's
//!   [`Settlement`](game_rules::craps::Settlement)s move
//!   `returned` escrow → player, `lost` escrow → bankroll, `kept` stays, and
//!   `winnings − commission` bankroll → player. The escrow is always exactly
//!   [`CrapsTable::escrow`].
//! - **Rolls**: in step 4 of a block, a table with bets, no roll pending,
//!   and `timestamp ≥ last roll + craps_roll_interval_ms` commits its next
//!   roll at that height (the block's own bets are in it). A later block's
//!   beacon entry for that height rolls the dice:
//!   `Randomness::from_beacon_output(σ).stream(CrapsRoll, table ‖ roll
//!   number).roll()`, and the table's last-roll time becomes that block's
//!   timestamp. While a roll is pending its table refuses every change to
//!   its bets ([`RejectReason::RollInProgress`]): nobody who might see σ
//!   first can react to it.
//! - **Void**: a pending roll whose randomness does not come within
//!   `beacon_void_after_blocks` is dropped and every bet on the table
//!   refunded (stake and odds); the table starts again on the come-out,
//!   the shooter passing on. Never re-rolled.
//! - **Shooter**: the seated players in join order; the engine's shooter
//!   counter (plus a base kept across voids) modulo their number.
//! - **Reserve**: see [`max_win`] and the [`bankroll`](super::bankroll)
//!   module.

use game_rules::craps::rules::{
    self, ANY_CRAPS_PAYS, ANY_SEVEN_PAYS, EVEN_MONEY, FIFTEEN_TO_ONE, THIRTY_TO_ONE,
};
use game_rules::craps::{Bet, BetId, BetKind, CrapsTable, Outcome, PointNumber, Working};
use game_rules::{Chips, Purpose, Randomness};

use super::error::{InvariantError, LedgerError};
use super::exec::{Env, Out, Sender, TxResult, text};
use super::records::{
    BeaconProof, CrapsRollRecord, CrapsRollResult, RoundRecord, SettledBet, craps_label,
};
use super::state::{PendingItem, State};
use super::tables::{CrapsPlay, PendingRoll, Play, Table};
use crate::receipt::{BetResult, LedgerEvent, RejectReason, VoidReason, Wager};
use crate::tx::TableId;

/// The most a bet can win on one roll — of its stake, plus of its odds
/// behind a line bet with a point — before commission: what it reserves in
/// the bankroll. `None` on overflow.
///
/// Stake: 1:1 for line bets and big 6/8; place, buy (true odds), lay (true
/// odds), hardways, the one-roll bets at their payouts; the field at 3:1
/// (12); horn 30:1 on a quarter; C&E 15:1 on a half; hop 30:1 hard, 15:1
/// easy. Odds: true odds on the point behind pass/come, lay odds behind
/// don't pass/don't come. Winnings are computed with the engine's own
/// [`Pays::on`](game_rules::craps::Pays::on), so a bet never wins more than
/// it reserves.
pub fn max_win(
    kind: BetKind,
    amount: Chips,
    odds: Chips,
    point: Option<PointNumber>,
) -> Option<Chips> {
    let stake = match kind {
        BetKind::Pass
        | BetKind::DontPass
        | BetKind::Come
        | BetKind::DontCome
        | BetKind::Big6
        | BetKind::Big8 => EVEN_MONEY.on(amount)?,
        BetKind::Place(n) => rules::place_pays(n).on(amount)?,
        BetKind::Buy(n) => rules::true_odds(n).on(amount)?,
        BetKind::Lay(n) => rules::lay_true_odds(n).on(amount)?,
        BetKind::Field => {
            let mut best = Chips::ZERO;
            for total in 2..=12 {
                if let Some(pays) = rules::field_pays(total) {
                    best = best.max(pays.on(amount)?);
                }
            }
            best
        }
        BetKind::Hard(n) => rules::hard_pays(n).on(amount)?,
        BetKind::AnySeven => ANY_SEVEN_PAYS.on(amount)?,
        BetKind::AnyCraps => ANY_CRAPS_PAYS.on(amount)?,
        BetKind::Two | BetKind::Twelve => THIRTY_TO_ONE.on(amount)?,
        BetKind::Three | BetKind::Eleven => FIFTEEN_TO_ONE.on(amount)?,
        BetKind::Horn => THIRTY_TO_ONE.on(Chips(amount.get() / 4))?,
        BetKind::CrapsEleven => {
            let half = Chips(amount.get() / 2);
            ANY_CRAPS_PAYS.on(half)?.max(FIFTEEN_TO_ONE.on(half)?)
        }
        BetKind::Hop(hop) => {
            if hop.is_hard() {
                THIRTY_TO_ONE.on(amount)?
            } else {
                FIFTEEN_TO_ONE.on(amount)?
            }
        }
    };
    let odds_win = match point {
        Some(p) if kind.is_line() && odds > Chips::ZERO => {
            if kind.is_dont_line() {
                rules::lay_true_odds(p).on(odds)?
            } else {
                rules::true_odds(p).on(odds)?
            }
        }
        _ => Chips::ZERO,
    };
    stake.checked_add(odds_win)
}

/// [`max_win`] of a bet on a table.
pub fn bet_reserve(bet: &Bet) -> Option<Chips> {
    max_win(bet.kind(), bet.amount(), bet.odds(), bet.point())
}

/// The reserve of every bet on `table`.
pub fn table_reserve(table: &CrapsTable) -> Option<Chips> {
    table
        .bets()
        .try_fold(Chips::ZERO, |sum, bet| sum.checked_add(bet_reserve(bet)?))
}

fn refused(error: impl std::fmt::Display) -> RejectReason {
    RejectReason::BetRefused {
        reason: text(&error.to_string()),
    }
}

fn settled_result(outcome: Outcome) -> Option<BetResult> {
    match outcome {
        Outcome::Won | Outcome::WonStaysUp => Some(BetResult::Win),
        Outcome::Lost => Some(BetResult::Lose),
        Outcome::Pushed | Outcome::ReturnedWhileOff => Some(BetResult::Push),
        Outcome::Travelled(_) => None,
    }
}

fn craps_mut(table: &mut Table) -> Result<&mut CrapsPlay, LedgerError> {
    match &mut table.play {
        Play::Craps(craps) => Ok(craps),
        Play::Crash(_) => Err(LedgerError::corrupt(format!(
            "{} waits for a craps roll but plays crash",
            table.id
        ))),
    }
}

impl State {
    /// The craps table `id`, its play, for a request by `sender` on one of
    /// its bets (`bet`: must be the sender's), refusing while a roll is
    /// pending.
    fn craps_for_request(
        &self,
        sender: &Sender,
        id: TableId,
        bet: Option<u64>,
    ) -> Result<(&Table, &CrapsPlay), RejectReason> {
        let table = self.table_or_reject(id)?;
        let Play::Craps(craps) = &table.play else {
            return Err(RejectReason::WrongGame { table: id });
        };
        match bet {
            None if !table.is_seated(&sender.address) => {
                return Err(RejectReason::NotAtTable { table: id });
            }
            Some(bet) if craps.owners.get(&bet) != Some(&sender.address) => {
                return Err(RejectReason::BetNotFound { table: id, bet });
            }
            _ => {}
        }
        if craps.pending_roll.is_some() {
            return Err(RejectReason::RollInProgress { table: id });
        }
        Ok((table, craps))
    }

    /// `CrapsBet`.
    pub(crate) fn craps_bet(
        &mut self,
        sender: &Sender,
        out: &mut Out,
        id: TableId,
        kind: BetKind,
        amount: Chips,
    ) -> TxResult {
        let (_, craps) = self.craps_for_request(sender, id, None)?;
        self.require_balance(&sender.address, amount)?;
        let reserve = max_win(kind, amount, Chips::ZERO, None).ok_or(RejectReason::Overflow)?;
        let free = self.free_chips();
        if reserve > free {
            return Err(RejectReason::InsufficientBankroll {
                needed: reserve,
                available: free,
            }
            .into());
        }
        let bet = craps.next_bet;
        let next_bet = bet.checked_add(1).ok_or(RejectReason::Overflow)?;
        let table_reserved = craps
            .reserved
            .checked_add(reserve)
            .ok_or(RejectReason::Overflow)?;
        let round = craps.next_roll;
        let table = self
            .tables
            .get_mut(&id)
            .ok_or(RejectReason::TableNotFound { table: id })?;
        let craps = craps_mut(table)?;
        craps
            .table
            .place_bet(BetId(bet), kind, amount)
            .map_err(refused)?;
        craps.owners.insert(bet, sender.address);
        craps.next_bet = next_bet;
        craps.reserved = table_reserved;
        self.debit(out, sender.address, amount)?;
        self.add_reserve(reserve)?;
        out.event(LedgerEvent::BetPlaced {
            table: id,
            round,
            bet,
            player: sender.address,
            wager: Wager::Craps { kind },
            amount,
        });
        Ok(())
    }

    /// `CrapsOdds`.
    pub(crate) fn craps_odds(
        &mut self,
        sender: &Sender,
        out: &mut Out,
        id: TableId,
        bet: u64,
        odds: Chips,
    ) -> TxResult {
        let (_, craps) = self.craps_for_request(sender, id, Some(bet))?;
        let current = craps
            .table
            .bet(BetId(bet))
            .ok_or(RejectReason::BetNotFound { table: id, bet })?;
        let before = current.odds();
        let old_reserve = bet_reserve(current).ok_or(RejectReason::Overflow)?;
        let new_reserve = max_win(current.kind(), current.amount(), odds, current.point())
            .ok_or(RejectReason::Overflow)?;
        if odds > before {
            self.require_balance(&sender.address, Chips(odds.get() - before.get()))?;
        }
        if new_reserve > old_reserve {
            let needed = Chips(new_reserve.get() - old_reserve.get());
            let free = self.free_chips();
            if needed > free {
                return Err(RejectReason::InsufficientBankroll {
                    needed,
                    available: free,
                }
                .into());
            }
        }
        let table_reserved = craps
            .reserved
            .checked_sub(old_reserve)
            .and_then(|r| r.checked_add(new_reserve))
            .ok_or(RejectReason::Overflow)?;
        let table = self
            .tables
            .get_mut(&id)
            .ok_or(RejectReason::TableNotFound { table: id })?;
        let craps = craps_mut(table)?;
        craps.table.set_odds(BetId(bet), odds).map_err(refused)?;
        craps.reserved = table_reserved;
        if odds > before {
            self.debit(out, sender.address, Chips(odds.get() - before.get()))?;
        } else {
            self.credit(out, sender.address, Chips(before.get() - odds.get()))?;
        }
        self.move_reserve(old_reserve, new_reserve)?;
        out.event(LedgerEvent::OddsChanged {
            table: id,
            bet,
            before,
            after: odds,
        });
        Ok(())
    }

    /// `CrapsTakeDown`.
    pub(crate) fn craps_take_down(
        &mut self,
        sender: &Sender,
        out: &mut Out,
        id: TableId,
        bet: u64,
    ) -> TxResult {
        let (_, craps) = self.craps_for_request(sender, id, Some(bet))?;
        let current = craps
            .table
            .bet(BetId(bet))
            .ok_or(RejectReason::BetNotFound { table: id, bet })?;
        let reserve = bet_reserve(current).ok_or(RejectReason::Overflow)?;
        let table_reserved = craps
            .reserved
            .checked_sub(reserve)
            .ok_or(RejectReason::Overflow)?;
        let table = self
            .tables
            .get_mut(&id)
            .ok_or(RejectReason::TableNotFound { table: id })?;
        let craps = craps_mut(table)?;
        let returned = craps.table.take_down(BetId(bet)).map_err(refused)?;
        craps.owners.remove(&bet);
        craps.reserved = table_reserved;
        self.credit(out, sender.address, returned)?;
        self.release_reserve(reserve)?;
        out.event(LedgerEvent::BetTakenDown {
            table: id,
            bet,
            returned,
        });
        Ok(())
    }

    /// `CrapsSetWorking`.
    pub(crate) fn craps_set_working(
        &mut self,
        sender: &Sender,
        id: TableId,
        bet: u64,
        working: Working,
    ) -> TxResult {
        self.craps_for_request(sender, id, Some(bet))?;
        let table = self
            .tables
            .get_mut(&id)
            .ok_or(RejectReason::TableNotFound { table: id })?;
        craps_mut(table)?
            .table
            .set_working(BetId(bet), working)
            .map_err(refused)?;
        Ok(())
    }

    /// Step 4: commits the next roll of every craps table that is due.
    pub(crate) fn commit_craps_rolls(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
    ) -> Result<(), LedgerError> {
        let interval = env.params.craps_roll_interval_ms;
        let due: Vec<(TableId, u64)> = self
            .tables
            .iter()
            .filter_map(|(id, table)| match &table.play {
                Play::Craps(craps)
                    if !craps.table.is_empty()
                        && craps.pending_roll.is_none()
                        && craps
                            .last_roll_ms
                            .checked_add(interval)
                            .is_some_and(|at| env.timestamp_ms >= at) =>
                {
                    Some((*id, craps.next_roll))
                }
                _ => None,
            })
            .collect();
        for (id, roll_number) in due {
            let table = self
                .tables
                .get_mut(&id)
                .ok_or_else(|| LedgerError::corrupt("a due craps table vanished"))?;
            craps_mut(table)?.pending_roll = Some(PendingRoll {
                roll_number,
                height: env.height,
            });
            self.add_pending(
                env,
                PendingItem::CrapsRoll {
                    table: id,
                    roll_number,
                },
            )?;
            out.event(LedgerEvent::CrapsRollCommitted {
                table: id,
                roll_number,
                height: env.height,
            });
        }
        Ok(())
    }

    /// Step 1: rolls the dice of `roll_number` at `id` with `beacon`'s
    /// randomness and settles every bet it decides.
    pub(crate) fn settle_craps_roll(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
        id: TableId,
        roll_number: u64,
        beacon: BeaconProof,
    ) -> Result<(), LedgerError> {
        let mut table = self
            .tables
            .remove(&id)
            .ok_or_else(|| LedgerError::corrupt(format!("{id} waits for a roll but is gone")))?;
        let shooter = match &table.play {
            Play::Craps(craps) => craps.shooter(&table.seating_order()),
            Play::Crash(_) => None,
        };
        let craps = craps_mut(&mut table)?;
        if craps.pending_roll.map(|p| p.roll_number) != Some(roll_number) {
            return Err(LedgerError::corrupt(format!(
                "{id} has no pending roll {roll_number}"
            )));
        }
        let label = craps_label(id, roll_number);
        let dice = Randomness::from_beacon_output(&beacon.signature)
            .stream(Purpose::CrapsRoll, &label)
            .roll();
        let point_before = craps.table.point().map(PointNumber::total);
        let outcome = craps
            .table
            .roll(dice)
            .map_err(|e| LedgerError::game("a craps roll", e))?;
        let mut settled = Vec::new();
        let mut stayed_up = Vec::new();
        for resolution in &outcome.resolutions {
            let bet = resolution.bet.0;
            let owner = *craps
                .owners
                .get(&bet)
                .ok_or_else(|| LedgerError::corrupt(format!("bet {bet} at {id} has no owner")))?;
            let total = resolution
                .total()
                .ok_or(LedgerError::overflow("a roll's settlement"))?;
            let net_win = total
                .winnings
                .checked_sub(total.commission)
                .ok_or(LedgerError::overflow("a commission above the winnings"))?;
            let paid = total
                .to_player()
                .ok_or(LedgerError::overflow("a roll's payment"))?;
            self.pool_in(total.lost)?;
            self.pool_out(net_win)?;
            self.credit(out, owner, paid)?;
            if resolution.comes_down() {
                craps.owners.remove(&bet);
            }
            if resolution.outcome == Outcome::WonStaysUp {
                stayed_up.push((bet, owner));
            }
            if let Some(result) = settled_result(resolution.outcome) {
                out.event(LedgerEvent::BetSettled {
                    table: id,
                    round: roll_number,
                    bet,
                    player: owner,
                    result,
                    paid,
                });
                settled.push(SettledBet {
                    bet,
                    player: owner,
                    result,
                    paid,
                });
            }
        }
        let reserved = table_reserve(&craps.table).ok_or(LedgerError::overflow("a reserve"))?;
        self.move_reserve(craps.reserved, reserved)?;
        craps.reserved = reserved;
        // Stayed-up winners come down while the pool cannot cover the reserve.
        for (bet, owner) in stayed_up {
            let bankroll = self.bankroll.get();
            if bankroll.reserved <= bankroll.chips {
                break;
            }
            let reserve = craps
                .table
                .bet(BetId(bet))
                .and_then(bet_reserve)
                .ok_or(LedgerError::overflow("a reserve"))?;
            let returned = craps
                .table
                .take_down(BetId(bet))
                .map_err(|e| LedgerError::game("taking down a bet the bankroll cannot cover", e))?;
            craps.owners.remove(&bet);
            craps.reserved = craps
                .reserved
                .checked_sub(reserve)
                .ok_or(LedgerError::overflow("a reserve"))?;
            self.release_reserve(reserve)?;
            self.credit(out, owner, returned)?;
            out.event(LedgerEvent::BetTakenDown {
                table: id,
                bet,
                returned,
            });
        }
        let bankroll = self.bankroll.get();
        if bankroll.reserved > bankroll.chips {
            return Err(InvariantError::Broken(format!(
                "after roll {roll_number} at {id} the reserve {} exceeds the bankroll {}",
                bankroll.reserved, bankroll.chips
            ))
            .into());
        }
        craps.pending_roll = None;
        craps.next_roll = roll_number
            .checked_add(1)
            .ok_or(LedgerError::overflow("the roll counter"))?;
        craps.last_roll_ms = env.timestamp_ms;
        let point_after = craps.table.point().map(PointNumber::total);
        out.event(LedgerEvent::DiceRolled {
            table: id,
            roll_number,
            dice,
            beacon_height: beacon.height,
            point: point_after,
            seven_out: outcome.is_seven_out(),
        });
        out.rounds.push((
            id,
            roll_number,
            RoundRecord::CrapsRoll(CrapsRollRecord {
                table: id,
                roll_number,
                committed_height: beacon.height,
                label,
                result: CrapsRollResult::Rolled {
                    beacon,
                    dice,
                    point_before,
                    point_after,
                    seven_out: outcome.is_seven_out(),
                    shooter,
                    bets: settled,
                },
            }),
        ));
        self.tables.insert(id, table);
        Ok(())
    }

    /// Step 5: the roll `roll_number` at `id` got no randomness in time:
    /// refunds every bet and resets the table to the come-out.
    pub(crate) fn void_craps_roll(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
        id: TableId,
        roll_number: u64,
        committed_height: u64,
    ) -> Result<(), LedgerError> {
        let mut table = self
            .tables
            .remove(&id)
            .ok_or_else(|| LedgerError::corrupt(format!("{id} waits for a roll but is gone")))?;
        let craps = craps_mut(&mut table)?;
        let mut refunded = Vec::new();
        for bet in craps.table.bets() {
            let id_ = bet.id().0;
            let owner = *craps
                .owners
                .get(&id_)
                .ok_or_else(|| LedgerError::corrupt(format!("bet {id_} at {id} has no owner")))?;
            let paid = bet.escrow().map_err(|e| LedgerError::game("a refund", e))?;
            self.credit(out, owner, paid)?;
            out.event(LedgerEvent::BetSettled {
                table: id,
                round: roll_number,
                bet: id_,
                player: owner,
                result: BetResult::Refund,
                paid,
            });
            refunded.push(SettledBet {
                bet: id_,
                player: owner,
                result: BetResult::Refund,
                paid,
            });
        }
        craps.shooter_base = craps.shooter_base.wrapping_add(craps.table.shooter());
        craps.table = CrapsTable::new(*craps.table.rules())
            .map_err(|e| LedgerError::game("resetting a voided table", e))?;
        craps.owners.clear();
        self.release_reserve(craps.reserved)?;
        craps.reserved = Chips::ZERO;
        craps.pending_roll = None;
        craps.next_roll = roll_number
            .checked_add(1)
            .ok_or(LedgerError::overflow("the roll counter"))?;
        craps.last_roll_ms = env.timestamp_ms;
        out.event(LedgerEvent::RoundVoid {
            table: id,
            round: roll_number,
            reason: VoidReason::BeaconTimeout,
        });
        out.rounds.push((
            id,
            roll_number,
            RoundRecord::CrapsRoll(CrapsRollRecord {
                table: id,
                roll_number,
                committed_height,
                label: craps_label(id, roll_number),
                result: CrapsRollResult::Void {
                    voided_at: env.height,
                    refunded,
                },
            }),
        ));
        self.tables.insert(id, table);
        Ok(())
    }
}
