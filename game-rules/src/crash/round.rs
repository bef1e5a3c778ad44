//! One crash round as the ledger stores and drives it, block by block.
//!
//! ```text
//!  place_bet*  ──start(t_0, cap)──▶  record_tick(t_k) / cash_out(bet) / decide_next(r_k)
//!  (Betting)                         (Running)     ──▶ Crashed { at } | Finished | Void
//! ```
//!
//! The ledger records tick `k` (its block's timestamp) when the block is executed; the
//! randomness for that tick only exists after the block is fixed, so
//! [`CrashRound::decide_next`] for interval `k` comes in a later block. Between the
//! two, cash-outs commit at the latest recorded tick. Every operation either
//! succeeds or returns an error and leaves the round exactly as it was.
//!
//! # Settling
//!
//! A bet is *riding* until it is *cashing out* at a multiplier `x` in a known
//! interval `j` (`m_{j−1} < x ≤ m_j`), and is settled when interval `j` is decided:
//! it wins `floor(amount·x / 2^32)` iff the decision reaches `x`. It becomes cashing
//! out:
//!
//! - by a manual [`CrashRound::cash_out`], at `x = m_K` of the latest tick `K` (if
//!   interval `K` is already decided — it survived, as the round still runs — the
//!   bet wins at once);
//! - when a recorded tick reaches its *effective target* `min(auto-cash-out target,
//!   m*, MAX)`, where `m*` is the risk-cap multiplier below.
//!
//! When an interval crashes, every bet still riding, or cashing out in a later
//! interval, loses, and the round is over. When the interval ending at 1,000,000×
//! survives, everyone (all cashing out there by then) is paid and the round is
//! finished.
//!
//! # Risk cap
//!
//! `start` takes `max_total_payout`. The round's *potential payout* at a multiplier
//! `m` is
//!
//! ```text
//! P(m) = Σ payouts won or cashing out  +  Σ_riding amount·min(m, target) / 2^32
//! ```
//!
//! (the riding part exact, not rounded), and `m*` is the largest multiplier with
//! `P(m*) ≤ max_total_payout` (or 1,000,000×). `m*` acts as an auto-cash-out target
//! for every riding bet, so what the round can ever pay — each payout rounded down —
//! is at most `P(m*) ≤ max_total_payout`. It is computed at start and recomputed
//! after every manual cash-out (which can only raise it: a cash-out at `m_K` below a
//! bet's effective target lowers `P(m)` for all `m ≥ m_K`, and `m* > m_K`). Once a
//! tick reaches `m*`, every riding bet is cashing out there.

use std::collections::BTreeMap;

use core::fmt;

use super::{CrashError, Draws, IntervalDecision, Multiplier};
use crate::{Chips, Randomness};

/// The most bets one round accepts, whatever the rules say (bounds the work of a
/// cash-out, `O(n log n)`).
pub const MAX_BETS_PER_ROUND: u32 = 10_000;

/// The most ticks one round records after its start. 1,000,000× is reached
/// 230,259 ms after the start, so this only binds if timestamps stall.
pub const MAX_TICKS: u32 = 100_000;

/// The id of a bet, chosen by the caller (the ledger uses its transaction order);
/// unique within a round.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct BetId(pub u64);

impl fmt::Display for BetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bet #{}", self.0)
    }
}

/// The limits of a crash table.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct CrashRules {
    /// The smallest stake accepted (at least 1 chip).
    pub min_bet: Chips,
    /// The largest stake accepted.
    pub max_bet: Chips,
    /// The most bets in one round (at most [`MAX_BETS_PER_ROUND`]).
    pub max_bets: u32,
}

impl CrashRules {
    /// Checks the rules make sense.
    ///
    /// # Errors
    /// [`CrashError::InvalidRules`] if `min_bet` is zero, `min_bet > max_bet`, or
    /// `max_bets` is zero or above [`MAX_BETS_PER_ROUND`].
    pub fn validate(&self) -> Result<(), CrashError> {
        let reason = if self.min_bet == Chips::ZERO {
            "min_bet must be at least 1 chip"
        } else if self.min_bet > self.max_bet {
            "min_bet must not exceed max_bet"
        } else if self.max_bets == 0 {
            "max_bets must be at least 1"
        } else if self.max_bets > MAX_BETS_PER_ROUND {
            "max_bets must not exceed MAX_BETS_PER_ROUND (10000)"
        } else {
            return Ok(());
        };
        Err(CrashError::InvalidRules { reason })
    }
}

/// Where a round is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub enum Phase {
    /// Accepting bets; the multiplier has not started.
    Betting,
    /// The multiplier is growing; ticks, cash-outs and decisions are accepted.
    Running,
    /// The round crashed in interval `interval` at `at` (1.00× for an instant
    /// crash); every bet is settled.
    Crashed {
        /// The crash point: the largest multiplier reached.
        at: Multiplier,
        /// The interval whose decision crashed the round (1 for an instant crash).
        interval: u32,
    },
    /// The round survived to 1,000,000× and everyone still in was paid there.
    Finished,
    /// The round was voided (its randomness could not be produced) and every stake
    /// not yet settled was refunded.
    Void,
}

impl Phase {
    /// Whether the round is over (crashed, finished or void): every bet is settled.
    pub fn is_over(&self) -> bool {
        matches!(self, Phase::Crashed { .. } | Phase::Finished | Phase::Void)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Phase::Betting => write!(f, "betting"),
            Phase::Running => write!(f, "running"),
            Phase::Crashed { at, .. } => write!(f, "crashed at {at}"),
            Phase::Finished => write!(f, "finished at {}", Multiplier::MAX),
            Phase::Void => write!(f, "void"),
        }
    }
}

/// Why a bet is cashing out, or won.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub enum CashOutReason {
    /// The player asked to cash out.
    Manual,
    /// The bet's own auto-cash-out target.
    AutoTarget,
    /// The round's risk cap (`m*`, below the bet's own target).
    RiskCap,
    /// The round reached 1,000,000×.
    MaxMultiplier,
}

/// A cash-out committed but not yet decided.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct PendingCashOut {
    /// The multiplier it pays if reached.
    pub multiplier: Multiplier,
    /// The interval whose decision settles it (`m_{j−1} < multiplier ≤ m_j`).
    pub interval: u32,
    /// What it pays if reached: `floor(amount·multiplier / 2^32)`.
    pub payout: Chips,
    /// Why the bet is cashing out.
    pub reason: CashOutReason,
}

/// How a bet ended.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub enum Outcome {
    /// Cashed out at `multiplier`, paying `payout` (stake included).
    Won {
        /// The multiplier it cashed out at.
        multiplier: Multiplier,
        /// `floor(amount·multiplier / 2^32)`, stake included.
        payout: Chips,
        /// Why it cashed out there.
        reason: CashOutReason,
    },
    /// The round crashed first; the stake is lost.
    Lost,
    /// The round was voided; the stake is returned.
    Refunded {
        /// The stake returned.
        amount: Chips,
    },
}

impl Outcome {
    /// What the bet returns to the player (0 if lost).
    pub fn paid(&self) -> Chips {
        match *self {
            Outcome::Won { payout, .. } => payout,
            Outcome::Lost => Chips::ZERO,
            Outcome::Refunded { amount } => amount,
        }
    }
}

/// The settlement of one bet, reported once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Settlement {
    /// The bet settled.
    pub bet: BetId,
    /// How it ended.
    pub outcome: Outcome,
}

/// Where a bet is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub enum BetStatus {
    /// In the round, with no cash-out committed yet.
    Riding,
    /// A cash-out is committed and waits for its interval's decision.
    CashingOut(PendingCashOut),
    /// Settled.
    Settled(Outcome),
}

/// A bet in a crash round.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct CrashBet {
    /// The bet's id.
    pub id: BetId,
    /// The stake.
    pub amount: Chips,
    /// The auto-cash-out target, if any (above 1.00×).
    pub auto_cash_out: Option<Multiplier>,
    /// Where the bet is.
    pub status: BetStatus,
}

/// One recorded tick: a finalized block's timestamp and the multiplier there.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct Tick {
    /// The tick's index: 0 for the start, then 1, 2, …
    pub index: u32,
    /// The block timestamp, in milliseconds.
    pub timestamp_ms: u64,
    /// `m_k = Multiplier::at(t_k − t_0)`.
    pub multiplier: Multiplier,
}

/// The result of a manual cash-out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CashOut {
    /// The bet cashed out.
    pub bet: BetId,
    /// The tick it is committed at (the latest recorded).
    pub tick: u32,
    /// The multiplier it pays if the round survived to that tick.
    pub multiplier: Multiplier,
    /// `Some` if the interval ending at the tick was already decided (survived), so
    /// the bet won at once; `None` if it waits for that decision.
    pub settlement: Option<Settlement>,
}

/// The state of one crash round.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct CrashRound {
    rules: CrashRules,
    phase: Phase,
    bets: BTreeMap<BetId, CrashBet>,
    total_staked: Chips,
    max_total_payout: Chips,
    cap_multiplier: Multiplier,
    ticks: Vec<Tick>,
    decided: u32,
}

impl CrashRound {
    /// A new round, accepting bets under `rules`.
    ///
    /// # Errors
    /// [`CrashError::InvalidRules`] as [`CrashRules::validate`].
    pub fn new(rules: CrashRules) -> Result<Self, CrashError> {
        rules.validate()?;
        Ok(CrashRound {
            rules,
            phase: Phase::Betting,
            bets: BTreeMap::new(),
            total_staked: Chips::ZERO,
            max_total_payout: Chips::ZERO,
            cap_multiplier: Multiplier::MAX,
            ticks: Vec::new(),
            decided: 0,
        })
    }

    /// The table's rules.
    pub fn rules(&self) -> &CrashRules {
        &self.rules
    }

    /// Where the round is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Every bet, in id order.
    pub fn bets(&self) -> impl Iterator<Item = &CrashBet> {
        self.bets.values()
    }

    /// One bet.
    pub fn bet(&self, id: BetId) -> Option<&CrashBet> {
        self.bets.get(&id)
    }

    /// The sum of all stakes.
    pub fn total_staked(&self) -> Chips {
        self.total_staked
    }

    /// The cap on the round's total payout (zero before the start).
    pub fn max_total_payout(&self) -> Chips {
        self.max_total_payout
    }

    /// `m*`: the multiplier at which every riding bet cashes out to respect the cap
    /// ([`Multiplier::MAX`] when the cap does not bind or before the start).
    pub fn risk_cap_multiplier(&self) -> Multiplier {
        self.cap_multiplier
    }

    /// The recorded ticks, tick 0 (the start) first; empty before the start.
    pub fn ticks(&self) -> &[Tick] {
        &self.ticks
    }

    /// The latest recorded tick.
    pub fn latest_tick(&self) -> Option<Tick> {
        self.ticks.last().copied()
    }

    /// How many intervals are decided: intervals `1..=decided_intervals()`.
    pub fn decided_intervals(&self) -> u32 {
        self.decided
    }

    /// Whether a bet is riding and, if so, the multiplier it will cash out at unless
    /// the player does first: `min(auto target, m*, MAX)`.
    pub fn effective_target(&self, id: BetId) -> Option<Multiplier> {
        let bet = self.bets.get(&id)?;
        matches!(bet.status, BetStatus::Riding).then(|| self.effective(bet))
    }

    /// The most the round can still pay in total, each payout rounded down as it
    /// will be: payouts won, committed, and every riding bet at its effective target.
    /// Never above [`CrashRound::max_total_payout`] once running; `None` only before
    /// the start, if it would not fit in 64 bits.
    pub fn max_possible_payout(&self) -> Option<Chips> {
        let total: u128 = self
            .bets
            .values()
            .map(|bet| match bet.status {
                BetStatus::Riding => payout_u128(bet.amount, self.effective(bet)),
                BetStatus::CashingOut(p) => u128::from(p.payout.get()),
                BetStatus::Settled(o) => u128::from(o.paid().get()),
            })
            .sum();
        u64::try_from(total).ok().map(Chips)
    }

    /// Places a bet of `amount`, with an optional auto-cash-out target.
    ///
    /// # Errors
    /// [`CrashError::NotBetting`] outside the betting phase;
    /// [`CrashError::DuplicateBet`], [`CrashError::TooManyBets`],
    /// [`CrashError::BetBelowMinimum`], [`CrashError::BetAboveMaximum`],
    /// [`CrashError::TargetTooLow`] (targets must exceed 1.00×),
    /// [`CrashError::StakesOverflow`].
    pub fn place_bet(
        &mut self,
        id: BetId,
        amount: Chips,
        auto_cash_out: Option<Multiplier>,
    ) -> Result<(), CrashError> {
        if self.phase != Phase::Betting {
            return Err(CrashError::NotBetting { phase: self.phase });
        }
        if self.bets.contains_key(&id) {
            return Err(CrashError::DuplicateBet { bet: id });
        }
        if self.bets.len() >= self.rules.max_bets as usize {
            return Err(CrashError::TooManyBets {
                max: self.rules.max_bets,
            });
        }
        if amount < self.rules.min_bet {
            return Err(CrashError::BetBelowMinimum {
                amount,
                min: self.rules.min_bet,
            });
        }
        if amount > self.rules.max_bet {
            return Err(CrashError::BetAboveMaximum {
                amount,
                max: self.rules.max_bet,
            });
        }
        if let Some(target) = auto_cash_out
            && target <= Multiplier::ONE
        {
            return Err(CrashError::TargetTooLow { target });
        }
        let total_staked = self
            .total_staked
            .checked_add(amount)
            .ok_or(CrashError::StakesOverflow)?;
        self.total_staked = total_staked;
        self.bets.insert(
            id,
            CrashBet {
                id,
                amount,
                auto_cash_out,
                status: BetStatus::Riding,
            },
        );
        Ok(())
    }

    /// Closes betting and starts the multiplier at `timestamp_ms` (tick 0, 1.00×),
    /// with `max_total_payout` as the risk cap.
    ///
    /// # Errors
    /// [`CrashError::NotBetting`] unless betting; [`CrashError::CapBelowStakes`] if the
    /// cap cannot even return the stakes (void the round or raise the cap).
    pub fn start(&mut self, timestamp_ms: u64, max_total_payout: Chips) -> Result<(), CrashError> {
        if self.phase != Phase::Betting {
            return Err(CrashError::NotBetting { phase: self.phase });
        }
        if self.total_staked > max_total_payout {
            return Err(CrashError::CapBelowStakes {
                staked: self.total_staked,
                cap: max_total_payout,
            });
        }
        self.phase = Phase::Running;
        self.max_total_payout = max_total_payout;
        self.ticks.push(Tick {
            index: 0,
            timestamp_ms,
            multiplier: Multiplier::ONE,
        });
        self.cap_multiplier = self.compute_cap_multiplier();
        Ok(())
    }

    /// Records the next tick at block timestamp `timestamp_ms`, with multiplier
    /// `m_k = Multiplier::at(t_k − t_0)`; riding bets whose effective target it
    /// reaches start cashing out at that target in this interval.
    ///
    /// # Errors
    /// [`CrashError::NotRunning`]; [`CrashError::TickBeforePrevious`] if the
    /// timestamp is earlier than the previous tick's; [`CrashError::MaximumReached`]
    /// once a tick is at 1,000,000× (decide it to finish the round);
    /// [`CrashError::TooManyTicks`].
    pub fn record_tick(&mut self, timestamp_ms: u64) -> Result<Tick, CrashError> {
        let last = self.running_latest_tick()?;
        if last.multiplier == Multiplier::MAX {
            return Err(CrashError::MaximumReached { tick: last.index });
        }
        if last.index >= MAX_TICKS {
            return Err(CrashError::TooManyTicks { max: MAX_TICKS });
        }
        if timestamp_ms < last.timestamp_ms {
            return Err(CrashError::TickBeforePrevious {
                timestamp_ms,
                previous_ms: last.timestamp_ms,
            });
        }
        let start_ms = self.ticks.first().map_or(timestamp_ms, |t| t.timestamp_ms);
        let multiplier = Multiplier::at(timestamp_ms - start_ms);
        let tick = Tick {
            index: last.index + 1,
            timestamp_ms,
            multiplier,
        };
        // Work out every change first, so an error leaves the round untouched.
        let mut changes = Vec::new();
        for bet in self.bets.values() {
            if bet.status != BetStatus::Riding {
                continue;
            }
            let target = self.effective(bet);
            if target > multiplier {
                continue;
            }
            let payout = target
                .payout(bet.amount)
                .ok_or(CrashError::PayoutOverflow { bet: bet.id })?;
            let reason = match bet.auto_cash_out {
                Some(own) if own <= self.cap_multiplier => CashOutReason::AutoTarget,
                _ if self.cap_multiplier < Multiplier::MAX => CashOutReason::RiskCap,
                _ => CashOutReason::MaxMultiplier,
            };
            let pending = PendingCashOut {
                multiplier: target,
                interval: tick.index,
                payout,
                reason,
            };
            changes.push((bet.id, pending));
        }
        for (id, pending) in changes {
            if let Some(bet) = self.bets.get_mut(&id) {
                bet.status = BetStatus::CashingOut(pending);
            }
        }
        self.ticks.push(tick);
        Ok(tick)
    }

    /// Cashes a riding bet out at the latest recorded tick `K`: it pays `m_K` iff the
    /// round survived the interval ending at `t_K`. Recomputes the risk cap.
    ///
    /// # Errors
    /// [`CrashError::NotRunning`]; [`CrashError::NoTickYet`] before the first tick
    /// after the start; [`CrashError::UnknownBet`]; [`CrashError::AlreadyCashingOut`]
    /// or [`CrashError::AlreadySettled`] unless the bet is riding.
    pub fn cash_out(&mut self, id: BetId) -> Result<CashOut, CrashError> {
        let tick = self.running_latest_tick()?;
        if tick.index == 0 {
            return Err(CrashError::NoTickYet);
        }
        let bet = self
            .bets
            .get(&id)
            .ok_or(CrashError::UnknownBet { bet: id })?;
        match bet.status {
            BetStatus::Riding => {}
            BetStatus::CashingOut(p) => {
                return Err(CrashError::AlreadyCashingOut {
                    bet: id,
                    at: p.multiplier,
                });
            }
            BetStatus::Settled(_) => return Err(CrashError::AlreadySettled { bet: id }),
        }
        let multiplier = tick.multiplier;
        let payout = multiplier
            .payout(bet.amount)
            .ok_or(CrashError::PayoutOverflow { bet: id })?;
        let (status, settlement) = if tick.index <= self.decided {
            // The interval ending at this tick already survived.
            let outcome = Outcome::Won {
                multiplier,
                payout,
                reason: CashOutReason::Manual,
            };
            (
                BetStatus::Settled(outcome),
                Some(Settlement { bet: id, outcome }),
            )
        } else {
            let pending = PendingCashOut {
                multiplier,
                interval: tick.index,
                payout,
                reason: CashOutReason::Manual,
            };
            (BetStatus::CashingOut(pending), None)
        };
        if let Some(bet) = self.bets.get_mut(&id) {
            bet.status = status;
        }
        self.cap_multiplier = self.compute_cap_multiplier();
        Ok(CashOut {
            bet: id,
            tick: tick.index,
            multiplier,
            settlement,
        })
    }

    /// Decides the next undecided interval `j` with the randomness produced after
    /// tick `j` was fixed, reading [`Draws::derive`]`(randomness, label, j == 1)`.
    /// Returns the bets it settles, in id order.
    ///
    /// # Errors
    /// [`CrashError::NotRunning`]; [`CrashError::NothingToDecide`] if tick `j` is not
    /// recorded yet.
    pub fn decide_next(
        &mut self,
        randomness: &Randomness,
        label: &[u8],
    ) -> Result<Vec<Settlement>, CrashError> {
        let interval = self.next_interval()?;
        self.decide_next_with(Draws::derive(randomness, label, interval == 1))
    }

    /// [`CrashRound::decide_next`] with the draws given directly (simulations and
    /// tests; the ledger uses `decide_next`).
    ///
    /// # Errors
    /// As `decide_next`, and [`CrashError::InstantCrashNotFirst`] if `draws` has an
    /// instant crash for an interval other than the first.
    pub fn decide_next_with(&mut self, draws: Draws) -> Result<Vec<Settlement>, CrashError> {
        let interval = self.next_interval()?;
        if draws.instant_crash && interval != 1 {
            return Err(CrashError::InstantCrashNotFirst { interval });
        }
        let (from, to) = match (
            self.ticks.get(interval as usize - 1),
            self.ticks.get(interval as usize),
        ) {
            (Some(a), Some(b)) => (a.multiplier, b.multiplier),
            _ => return Err(CrashError::NothingToDecide { interval }),
        };
        let decision = IntervalDecision::new(draws, from, to)?;
        let survived = decision.survives();
        let mut settlements = Vec::new();
        for bet in self.bets.values_mut() {
            let outcome = match bet.status {
                BetStatus::CashingOut(p) if p.interval == interval => {
                    if decision.reaches(p.multiplier) == Some(true) {
                        Outcome::Won {
                            multiplier: p.multiplier,
                            payout: p.payout,
                            reason: p.reason,
                        }
                    } else {
                        Outcome::Lost
                    }
                }
                BetStatus::Riding | BetStatus::CashingOut(_) if !survived => Outcome::Lost,
                _ => continue,
            };
            bet.status = BetStatus::Settled(outcome);
            settlements.push(Settlement {
                bet: bet.id,
                outcome,
            });
        }
        self.decided = interval;
        if let Some(at) = decision.crash_point() {
            self.phase = Phase::Crashed { at, interval };
        } else if to == Multiplier::MAX {
            self.phase = Phase::Finished;
        }
        Ok(settlements)
    }

    /// Voids the round (its randomness cannot be produced): every bet not yet settled
    /// is refunded; bets already settled keep their outcome.
    ///
    /// # Errors
    /// [`CrashError::RoundOver`] if the round is already over.
    pub fn void(&mut self) -> Result<Vec<Settlement>, CrashError> {
        if self.phase.is_over() {
            return Err(CrashError::RoundOver { phase: self.phase });
        }
        let mut settlements = Vec::new();
        for bet in self.bets.values_mut() {
            if matches!(bet.status, BetStatus::Settled(_)) {
                continue;
            }
            let outcome = Outcome::Refunded { amount: bet.amount };
            bet.status = BetStatus::Settled(outcome);
            settlements.push(Settlement {
                bet: bet.id,
                outcome,
            });
        }
        self.phase = Phase::Void;
        Ok(settlements)
    }

    /// The latest tick, if the round is running.
    fn running_latest_tick(&self) -> Result<Tick, CrashError> {
        match (self.phase, self.ticks.last()) {
            (Phase::Running, Some(tick)) => Ok(*tick),
            _ => Err(CrashError::NotRunning { phase: self.phase }),
        }
    }

    /// The next interval to decide, if the round is running and its tick is recorded.
    fn next_interval(&self) -> Result<u32, CrashError> {
        let latest = self.running_latest_tick()?;
        let interval = self.decided + 1;
        if interval > latest.index {
            return Err(CrashError::NothingToDecide { interval });
        }
        Ok(interval)
    }

    /// `min(auto target, m*)` (both at most MAX).
    fn effective(&self, bet: &CrashBet) -> Multiplier {
        bet.auto_cash_out
            .unwrap_or(Multiplier::MAX)
            .min(self.cap_multiplier)
    }

    /// `m*`, the largest multiplier with `P(m*) ≤ max_total_payout` (module doc),
    /// never below 1.00× (the start guarantees `P(1.00×) ≤ cap`, and `m*` only rises).
    fn compute_cap_multiplier(&self) -> Multiplier {
        let one = u128::from(Multiplier::ONE.bits());
        // Budget and sums in units of 2^-32 chips.
        let committed: u128 = self
            .bets
            .values()
            .map(|bet| match bet.status {
                BetStatus::Riding => 0,
                BetStatus::CashingOut(p) => u128::from(p.payout.get()),
                BetStatus::Settled(o) => u128::from(o.paid().get()),
            })
            .sum();
        let cap = u128::from(self.max_total_payout.get());
        let Some(budget) = cap.checked_sub(committed).map(|b| b * one) else {
            return Multiplier::ONE;
        };
        let mut riding: Vec<(u64, u64)> = self
            .bets
            .values()
            .filter(|bet| bet.status == BetStatus::Riding)
            .map(|bet| {
                let target = bet.auto_cash_out.unwrap_or(Multiplier::MAX);
                (target.bits(), bet.amount.get())
            })
            .collect();
        riding.sort_unstable();
        // P(m) = fixed + m·rest for m between consecutive targets, where `fixed` sums
        // amount·target over targets below m and `rest` the amounts of the others.
        // `fixed` stays ≤ budget < 2^97 and `rest` ≤ total stakes < 2^64.
        let mut fixed: u128 = 0;
        let mut rest: u128 = riding.iter().map(|&(_, a)| u128::from(a)).sum();
        for &(target, amount) in &riding {
            let at_target = fixed + rest * u128::from(target);
            if at_target > budget {
                break;
            }
            fixed += u128::from(amount) * u128::from(target);
            rest -= u128::from(amount);
        }
        if rest == 0 {
            return Multiplier::MAX;
        }
        let bits = budget.saturating_sub(fixed) / rest;
        let bits = u64::try_from(bits.min(u128::from(Multiplier::MAX.bits()))).unwrap_or(0);
        Multiplier::from_bits(bits).unwrap_or(Multiplier::ONE)
    }
}

/// `floor(amount·m / 2^32)` without the 64-bit limit.
fn payout_u128(amount: Chips, m: Multiplier) -> u128 {
    (u128::from(amount.get()) * u128::from(m.bits())) >> Multiplier::FRACTION_BITS
}
