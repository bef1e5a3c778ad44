//! Crash tables through blocks.
//!
//! A table's rounds cycle through
//!
//! ```text
//! Betting { ends_ms } ──(timestamp ≥ ends_ms, bets)──▶ Running ──(crash, 1,000,000×, void)──▶ Cooldown { until_ms } ──(timestamp ≥ until_ms)──▶ next round Betting
//!        └──(timestamp ≥ ends_ms, no bets)──▶ Betting { timestamp + crash_betting_ms }
//! ```
//!
//! driven by step 2 of each block with the header's timestamp `t`:
//!
//! - **start**: `round.start(t, cap)` with `t₀ = t` and `cap = max(risk cap
//!   of the bankroll's free chips, total staked)`; the round reserves `cap −
//!   staked` (see the [`bankroll`](super::bankroll) module);
//! - **tick**: every later block of a running round records tick `k` at `t`
//!   (`m_k = e^(λ·(t − t₀))`, riding bets whose target `m_k` reaches start
//!   cashing out) and remembers that tick `k` is at this height: the beacon
//!   entry for this height, in a later block, decides the interval
//!   `(t_{k−1}, t_k]` with `CrashRound::decide_next(r, table ‖ round ‖ k)`;
//! - **over** (crashed, survived to 1,000,000×, or void): the round's record
//!   is written, its reserve released, and the next round opens for bets
//!   `crash_cooldown_ms` after the block that ended it.
//!
//! A crash bet (`CrashBet`) is one per seated player per round, during
//! betting, within the table limits, and only while the round's total
//! stakes stay within the risk cap on the free chips. A cash-out
//! (`CrashCashOut`) by the bet's owner commits at the latest tick — this
//! block's, as ticks are recorded before transactions — and pays `m_k` if
//! the interval ending there survives (at once if it is already decided).
//!
//! Book-keeping: a stake goes player → escrow (the round's unsettled
//! stakes). A win moves the stake escrow → bankroll and pays the payout
//! bankroll → player; a loss moves the stake escrow → bankroll; a refund
//! (void) moves the stake escrow → player. Each settlement changes the
//! round's reserve by `stake − paid`, which keeps the free chips unchanged.

use game_rules::Chips;
use game_rules::crash::{
    BetId, BetStatus, CashOutReason, CrashError, CrashRound, Multiplier, Outcome, Phase, Settlement,
};
use wallet::Address;

use super::bankroll::risk_cap;
use super::error::LedgerError;
use super::exec::{Env, Out, Sender, TxResult, text};
use super::records::{
    BeaconProof, CrashBetRecord, CrashEnd, CrashRoundRecord, IntervalRecord, RoundRecord,
    crash_label,
};
use super::state::{PendingItem, State};
use super::tables::{CrashPlay, CrashTiming, Play, Table};
use crate::receipt::{BetResult, LedgerEvent, RejectReason, VoidReason, Wager};
use crate::tx::TableId;

fn refused(error: impl std::fmt::Display) -> RejectReason {
    RejectReason::BetRefused {
        reason: text(&error.to_string()),
    }
}

fn crash_mut(table: &mut Table) -> Result<&mut CrashPlay, LedgerError> {
    match &mut table.play {
        Play::Crash(crash) => Ok(crash),
        Play::Craps(_) => Err(LedgerError::corrupt(format!(
            "{} waits for a crash decision but plays craps",
            table.id
        ))),
    }
}

/// A settlement with what the ledger needs to pay it.
struct Payment {
    bet: u64,
    owner: Address,
    amount: Chips,
    outcome: Outcome,
}

fn payments(crash: &CrashPlay, settlements: &[Settlement]) -> Result<Vec<Payment>, LedgerError> {
    settlements
        .iter()
        .map(|s| {
            let owner = *crash
                .bettors
                .get(&s.bet.0)
                .ok_or_else(|| LedgerError::corrupt(format!("crash {} has no owner", s.bet)))?;
            let amount = crash
                .round
                .bet(s.bet)
                .ok_or_else(|| {
                    LedgerError::corrupt(format!("crash {} is not in its round", s.bet))
                })?
                .amount;
            Ok(Payment {
                bet: s.bet.0,
                owner,
                amount,
                outcome: s.outcome,
            })
        })
        .collect()
}

fn result_of(outcome: Outcome) -> BetResult {
    match outcome {
        Outcome::Won { .. } => BetResult::Win,
        Outcome::Lost => BetResult::Lose,
        Outcome::Refunded { .. } => BetResult::Refund,
    }
}

impl State {
    /// Pays settlements of round `round` at `id`, moving the table's reserve
    /// by `stake − paid` for each (returns the table's new reserve).
    fn pay_crash(
        &mut self,
        out: &mut Out,
        id: TableId,
        round: u64,
        reserved: Chips,
        payments: &[Payment],
    ) -> Result<Chips, LedgerError> {
        let mut reserved = reserved;
        for p in payments {
            let paid = p.outcome.paid();
            match p.outcome {
                Outcome::Won { .. } | Outcome::Lost => {
                    self.pool_in(p.amount)?;
                    self.pool_out(paid)?;
                    let after = reserved
                        .checked_add(p.amount)
                        .and_then(|r| r.checked_sub(paid))
                        .ok_or(LedgerError::overflow("a crash round's reserve"))?;
                    self.move_reserve(reserved, after)?;
                    reserved = after;
                }
                Outcome::Refunded { .. } => {}
            }
            self.credit(out, p.owner, paid)?;
            out.event(LedgerEvent::BetSettled {
                table: id,
                round,
                bet: p.bet,
                player: p.owner,
                result: result_of(p.outcome),
                paid,
            });
        }
        Ok(reserved)
    }

    /// `CrashBet`.
    pub(crate) fn crash_bet(
        &mut self,
        env: &Env<'_>,
        sender: &Sender,
        out: &mut Out,
        id: TableId,
        amount: Chips,
        auto_cash_out: Option<u64>,
    ) -> TxResult {
        let table = self.table_or_reject(id)?;
        let Play::Crash(crash) = &table.play else {
            return Err(RejectReason::WrongGame { table: id }.into());
        };
        if !table.is_seated(&sender.address) {
            return Err(RejectReason::NotAtTable { table: id }.into());
        }
        if !matches!(crash.timing, CrashTiming::Betting { .. }) {
            return Err(refused(CrashError::NotBetting {
                phase: crash.round.phase(),
            })
            .into());
        }
        if crash.by_player.contains_key(&sender.address) {
            return Err(RejectReason::AlreadyBet {
                table: id,
                round: crash.round_number,
            }
            .into());
        }
        self.require_balance(&sender.address, amount)?;
        let target = auto_cash_out
            .map(Multiplier::from_hundredths)
            .transpose()
            .map_err(refused)?;
        let staked = crash
            .round
            .total_staked()
            .checked_add(amount)
            .ok_or(RejectReason::Overflow)?;
        let cap = risk_cap(self.free_chips(), env.params.crash_risk_cap_bps);
        if staked > cap {
            return Err(RejectReason::InsufficientBankroll {
                needed: staked,
                available: cap,
            }
            .into());
        }
        let bet = crash.next_bet;
        let next_bet = bet.checked_add(1).ok_or(RejectReason::Overflow)?;
        let round = crash.round_number;
        let table = self
            .tables
            .get_mut(&id)
            .ok_or(RejectReason::TableNotFound { table: id })?;
        let crash = crash_mut(table)?;
        crash
            .round
            .place_bet(BetId(bet), amount, target)
            .map_err(refused)?;
        crash.bettors.insert(bet, sender.address);
        crash.by_player.insert(sender.address, bet);
        crash.next_bet = next_bet;
        self.debit(out, sender.address, amount)?;
        out.event(LedgerEvent::BetPlaced {
            table: id,
            round,
            bet,
            player: sender.address,
            wager: Wager::Crash { auto_cash_out },
            amount,
        });
        Ok(())
    }

    /// `CrashCashOut`.
    pub(crate) fn crash_cash_out(
        &mut self,
        sender: &Sender,
        out: &mut Out,
        id: TableId,
    ) -> TxResult {
        let table = self.table_or_reject(id)?;
        let Play::Crash(crash) = &table.play else {
            return Err(RejectReason::WrongGame { table: id }.into());
        };
        let Some(&bet) = crash.by_player.get(&sender.address) else {
            return Err(RejectReason::BetRefused {
                reason: text(&format!(
                    "you have no bet in round {} of {id}; bet during betting first",
                    crash.round_number
                )),
            }
            .into());
        };
        let round = crash.round_number;
        let table = self
            .tables
            .get_mut(&id)
            .ok_or(RejectReason::TableNotFound { table: id })?;
        let crash = crash_mut(table)?;
        let cash_out = crash.round.cash_out(BetId(bet)).map_err(refused)?;
        out.event(LedgerEvent::CrashCashedOut {
            table: id,
            round,
            bet,
            at: cash_out.multiplier,
        });
        if let Some(settlement) = cash_out.settlement {
            let owed = payments(crash, &[settlement])?;
            let reserved = crash.reserved;
            let reserved = self.pay_crash(out, id, round, reserved, &owed)?;
            if let Some(Play::Crash(crash)) = self.tables.get_mut(&id).map(|t| &mut t.play) {
                crash.reserved = reserved;
            }
        }
        Ok(())
    }

    /// Step 2: moves every crash table along in time.
    pub(crate) fn advance_crash_tables(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
    ) -> Result<(), LedgerError> {
        let ids: Vec<TableId> = self
            .tables
            .iter()
            .filter(|(_, t)| matches!(t.play, Play::Crash(_)))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let mut table = self
                .tables
                .remove(&id)
                .ok_or_else(|| LedgerError::corrupt("a crash table vanished"))?;
            self.advance_crash_table(env, out, id, crash_mut(&mut table)?)?;
            self.tables.insert(id, table);
        }
        Ok(())
    }

    fn advance_crash_table(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
        id: TableId,
        crash: &mut CrashPlay,
    ) -> Result<(), LedgerError> {
        let t = env.timestamp_ms;
        let params = env.params;
        match crash.timing {
            CrashTiming::Betting { ends_ms } if t >= ends_ms => {
                if crash.round.bets().next().is_none() {
                    crash.timing = CrashTiming::Betting {
                        ends_ms: t
                            .checked_add(params.crash_betting_ms)
                            .ok_or(LedgerError::overflow("a betting deadline"))?,
                    };
                    return Ok(());
                }
                let staked = crash.round.total_staked();
                let cap = risk_cap(self.free_chips(), params.crash_risk_cap_bps).max(staked);
                crash
                    .round
                    .start(t, cap)
                    .map_err(|e| LedgerError::game("a crash round start", e))?;
                let reserve = Chips(cap.get() - staked.get());
                self.add_reserve(reserve)?;
                crash.reserved = reserve;
                crash.timing = CrashTiming::Running {
                    start_height: env.height,
                };
                crash.tick_heights = vec![env.height];
                out.event(LedgerEvent::CrashRoundStarted {
                    table: id,
                    round: crash.round_number,
                    start_ms: t,
                });
            }
            CrashTiming::Running { .. } => {
                let Some(latest) = crash.round.latest_tick() else {
                    return Err(LedgerError::corrupt(format!(
                        "{id}'s running round has no tick"
                    )));
                };
                if latest.multiplier == Multiplier::MAX || crash.round.phase() != Phase::Running {
                    return Ok(());
                }
                let riding: Vec<BetId> = crash
                    .round
                    .bets()
                    .filter(|b| b.status == BetStatus::Riding)
                    .map(|b| b.id)
                    .collect();
                match crash.round.record_tick(t) {
                    Ok(tick) => {
                        crash.tick_heights.push(env.height);
                        self.add_pending(
                            env,
                            PendingItem::CrashTick {
                                table: id,
                                round: crash.round_number,
                                tick: tick.index,
                            },
                        )?;
                        let start_ms = crash.round.ticks().first().map_or(t, |t0| t0.timestamp_ms);
                        out.event(LedgerEvent::CrashTick {
                            table: id,
                            round: crash.round_number,
                            multiplier: tick.multiplier,
                            elapsed_ms: t.saturating_sub(start_ms),
                        });
                        for bet in riding {
                            let Some(b) = crash.round.bet(bet) else {
                                continue;
                            };
                            let BetStatus::CashingOut(pending) = b.status else {
                                continue;
                            };
                            if pending.reason == CashOutReason::RiskCap && !crash.cap_reached {
                                crash.cap_reached = true;
                                out.event(LedgerEvent::CrashRiskCapReached {
                                    table: id,
                                    round: crash.round_number,
                                    at: crash.round.risk_cap_multiplier(),
                                });
                            }
                            out.event(LedgerEvent::CrashCashedOut {
                                table: id,
                                round: crash.round_number,
                                bet: bet.0,
                                at: pending.multiplier,
                            });
                        }
                    }
                    Err(CrashError::TooManyTicks { .. }) => {
                        // Timestamps stalled for too long: nothing more can be
                        // decided, so the round is void.
                        self.void_crash_play(env, out, id, crash)?;
                    }
                    Err(e) => return Err(LedgerError::game("a crash tick", e)),
                }
            }
            CrashTiming::Cooldown { until_ms } if t >= until_ms => {
                let rules = *crash.round.rules();
                crash.round = CrashRound::new(rules)
                    .map_err(|e| LedgerError::game("a new crash round", e))?;
                crash.round_number = crash
                    .round_number
                    .checked_add(1)
                    .ok_or(LedgerError::overflow("the round counter"))?;
                let ends_ms = t
                    .checked_add(params.crash_betting_ms)
                    .ok_or(LedgerError::overflow("a betting deadline"))?;
                crash.timing = CrashTiming::Betting { ends_ms };
                crash.bettors.clear();
                crash.by_player.clear();
                crash.tick_heights.clear();
                crash.intervals.clear();
                crash.reserved = Chips::ZERO;
                crash.cap_reached = false;
                out.event(LedgerEvent::CrashBettingOpened {
                    table: id,
                    round: crash.round_number,
                    betting_ends_ms: ends_ms,
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// Step 1: decides the interval ending at `tick` of `round` at `id` with
    /// `beacon`'s randomness, and settles what it decides.
    pub(crate) fn decide_crash_interval(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
        id: TableId,
        round: u64,
        tick: u32,
        beacon: BeaconProof,
    ) -> Result<(), LedgerError> {
        let mut table = self.tables.remove(&id).ok_or_else(|| {
            LedgerError::corrupt(format!("{id} waits for a decision but is gone"))
        })?;
        let crash = crash_mut(&mut table)?;
        if crash.round_number != round
            || crash.round.decided_intervals().checked_add(1) != Some(tick)
        {
            return Err(LedgerError::corrupt(format!(
                "{id} round {round} does not wait for tick {tick}"
            )));
        }
        let ticks = crash.round.ticks();
        let (Some(from), Some(to)) = (
            ticks.get(tick as usize - 1).copied(),
            ticks.get(tick as usize).copied(),
        ) else {
            return Err(LedgerError::corrupt(format!("{id} has no tick {tick}")));
        };
        let label = crash_label(id, round, tick);
        let settlements = crash
            .round
            .decide_next(&beacon.randomness(), &label)
            .map_err(|e| LedgerError::game("a crash decision", e))?;
        let phase = crash.round.phase();
        let survived = !matches!(phase, Phase::Crashed { .. });
        let beacon_height = beacon.height;
        crash.intervals.push(IntervalRecord {
            interval: tick,
            timestamp_ms: to.timestamp_ms,
            from: from.multiplier,
            to: to.multiplier,
            label,
            beacon,
            survived,
        });
        let owed = payments(crash, &settlements)?;
        crash.reserved = self.pay_crash(out, id, round, crash.reserved, &owed)?;
        match phase {
            Phase::Crashed { at, interval } => {
                out.event(LedgerEvent::Crashed {
                    table: id,
                    round,
                    at,
                    beacon_height,
                });
                self.finish_crash_round(env, out, id, crash, CrashEnd::Crashed { at, interval })?;
            }
            Phase::Finished => {
                out.event(LedgerEvent::CrashRoundFinished { table: id, round });
                self.finish_crash_round(env, out, id, crash, CrashEnd::Finished)?;
            }
            _ => {}
        }
        self.tables.insert(id, table);
        Ok(())
    }

    /// Step 5: round `round` at `id` got no randomness in time: refunds
    /// every unsettled stake.
    pub(crate) fn void_crash_round(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
        id: TableId,
        round: u64,
    ) -> Result<(), LedgerError> {
        let mut table = self.tables.remove(&id).ok_or_else(|| {
            LedgerError::corrupt(format!("{id} waits for a decision but is gone"))
        })?;
        let crash = crash_mut(&mut table)?;
        if crash.round_number == round && !crash.round.phase().is_over() {
            self.void_crash_play(env, out, id, crash)?;
        }
        self.tables.insert(id, table);
        Ok(())
    }

    fn void_crash_play(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
        id: TableId,
        crash: &mut CrashPlay,
    ) -> Result<(), LedgerError> {
        let round = crash.round_number;
        let settlements = crash
            .round
            .void()
            .map_err(|e| LedgerError::game("voiding a crash round", e))?;
        out.event(LedgerEvent::RoundVoid {
            table: id,
            round,
            reason: VoidReason::BeaconTimeout,
        });
        let owed = payments(crash, &settlements)?;
        crash.reserved = self.pay_crash(out, id, round, crash.reserved, &owed)?;
        self.finish_crash_round(
            env,
            out,
            id,
            crash,
            CrashEnd::Void {
                voided_at: env.height,
            },
        )
    }

    /// A round is over: releases its reserve, drops its pending ticks,
    /// writes its record and starts the cooldown.
    fn finish_crash_round(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
        id: TableId,
        crash: &mut CrashPlay,
        end: CrashEnd,
    ) -> Result<(), LedgerError> {
        self.release_reserve(crash.reserved)?;
        crash.reserved = Chips::ZERO;
        let round = crash.round_number;
        let decided = crash.round.decided_intervals() as usize;
        for (tick, height) in crash.tick_heights.iter().enumerate().skip(decided + 1) {
            let tick = u32::try_from(tick).map_err(|_| LedgerError::overflow("a tick index"))?;
            self.remove_pending_item(
                *height,
                &PendingItem::CrashTick {
                    table: id,
                    round,
                    tick,
                },
            );
        }
        crash.timing = CrashTiming::Cooldown {
            until_ms: env
                .timestamp_ms
                .checked_add(env.params.crash_cooldown_ms)
                .ok_or(LedgerError::overflow("a cooldown deadline"))?,
        };
        let bets = crash
            .round
            .bets()
            .map(|b| {
                let outcome = match b.status {
                    BetStatus::Settled(outcome) => outcome,
                    _ => {
                        return Err(LedgerError::corrupt(format!(
                            "crash {} unsettled at the end of its round",
                            b.id
                        )));
                    }
                };
                Ok(CrashBetRecord {
                    bet: b.id.0,
                    player: crash.bettors.get(&b.id.0).copied().ok_or_else(|| {
                        LedgerError::corrupt(format!("crash {} has no owner", b.id))
                    })?,
                    amount: b.amount,
                    auto_cash_out: b.auto_cash_out,
                    outcome,
                })
            })
            .collect::<Result<Vec<_>, LedgerError>>()?;
        let record = CrashRoundRecord {
            table: id,
            round,
            start_ms: crash.round.ticks().first().map_or(0, |t| t.timestamp_ms),
            start_height: crash.tick_heights.first().copied().unwrap_or(env.height),
            cap: crash.round.max_total_payout(),
            intervals: std::mem::take(&mut crash.intervals),
            end,
            bets,
        };
        out.rounds
            .push((id, round, RoundRecord::CrashRound(record)));
        Ok(())
    }
}
