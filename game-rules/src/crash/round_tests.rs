//! Scenario tests and property tests of [`CrashRound`].

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::{Chips, Randomness, Unit52};

const RULES: CrashRules = CrashRules {
    min_bet: Chips(10),
    max_bet: Chips(1_000),
    max_bets: 8,
};

fn m(hundredths: u64) -> Multiplier {
    Multiplier::from_hundredths(hundredths).unwrap()
}

fn draws(u: u64) -> Draws {
    Draws {
        instant_crash: false,
        draw: Unit52::new(u).unwrap(),
    }
}

/// A draw that survives any interval.
fn survive() -> Draws {
    draws(0)
}

/// A draw that crashes any interval that grows at all, just above its start.
fn crash() -> Draws {
    draws((1 << 52) - 1)
}

/// The draw whose crash point, from `from`, is (just at or above) `at`.
fn crash_at(from: Multiplier, at: Multiplier) -> Draws {
    draws(((u128::from(from.bits()) << 52) / u128::from(at.bits())) as u64)
}

fn won(settlement: &Settlement) -> Option<(Multiplier, Chips)> {
    match settlement.outcome {
        Outcome::Won {
            multiplier, payout, ..
        } => Some((multiplier, payout)),
        _ => None,
    }
}

fn running_round(bets: &[(u64, u64, Option<Multiplier>)], cap: u64) -> CrashRound {
    let mut round = CrashRound::new(RULES).unwrap();
    for &(id, amount, target) in bets {
        round.place_bet(BetId(id), Chips(amount), target).unwrap();
    }
    round.start(1_000_000, Chips(cap)).unwrap();
    round
}

#[test]
fn a_round_from_bets_to_crash() {
    let mut round = running_round(
        &[(1, 100, None), (2, 100, Some(m(150))), (3, 100, None)],
        1_000_000,
    );
    assert_eq!(round.phase(), Phase::Running);
    // Tick 1 at 5 s (1.34×), tick 2 at 10 s (1.82×): bet 2's target lies in interval 2.
    let t1 = round.record_tick(1_005_000).unwrap();
    assert_eq!((t1.index, t1.multiplier), (1, Multiplier::at(5_000)));
    let cash = round.cash_out(BetId(1)).unwrap();
    assert_eq!(
        (cash.tick, cash.multiplier, cash.settlement),
        (1, t1.multiplier, None)
    );
    round.record_tick(1_010_000).unwrap();
    assert!(matches!(
        round.bet(BetId(2)).unwrap().status,
        BetStatus::CashingOut(PendingCashOut {
            interval: 2,
            reason: CashOutReason::AutoTarget,
            ..
        })
    ));
    // Interval 1 survives: bet 1 is paid 1.34×.
    let s = round.decide_next_with(survive()).unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(won(&s[0]), Some((t1.multiplier, Chips(134))));
    // Interval 2 crashes at 1.60×: bet 2 (1.50×) wins, bet 3 (riding) loses.
    let s = round
        .decide_next_with(crash_at(t1.multiplier, m(160)))
        .unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(won(&s[0]), Some((m(150), Chips(150))));
    assert_eq!((s[1].bet, s[1].outcome), (BetId(3), Outcome::Lost));
    let Phase::Crashed { at, interval } = round.phase() else {
        panic!("should have crashed: {}", round.phase());
    };
    assert_eq!((at.to_string().as_str(), interval), ("1.60×", 2));
    assert!(
        round
            .bets()
            .all(|b| matches!(b.status, BetStatus::Settled(_)))
    );
}

#[test]
fn the_ledger_drives_a_round_with_real_randomness() {
    let mut round = running_round(&[(1, 500, Some(m(120))), (2, 500, None)], 1_000_000);
    let mut settled = BTreeMap::new();
    let mut tick = 0u32;
    while !round.phase().is_over() {
        if round.latest_tick().unwrap().multiplier < Multiplier::MAX {
            tick = round
                .record_tick(1_000_000 + u64::from(tick + 1) * 1_000)
                .unwrap()
                .index;
        }
        if tick == 3 {
            round.cash_out(BetId(2)).ok();
        }
        let label = [b"table-7/round-1/tick-".as_slice(), &tick.to_le_bytes()].concat();
        let r = Randomness::from_beacon_output(&label);
        for s in round.decide_next(&r, &label).unwrap() {
            assert!(settled.insert(s.bet, s.outcome).is_none());
        }
    }
    assert_eq!(settled.len(), 2);
}

#[test]
fn an_instant_crash_takes_everything() {
    let mut round = running_round(&[(1, 100, Some(m(101))), (2, 100, None)], 1_000_000);
    round.record_tick(1_001_000).unwrap();
    round.cash_out(BetId(2)).unwrap();
    let instant = Draws {
        instant_crash: true,
        draw: Unit52::new(0).unwrap(),
    };
    let s = round.decide_next_with(instant).unwrap();
    assert!(s.iter().all(|s| s.outcome == Outcome::Lost));
    assert_eq!(s.len(), 2);
    assert_eq!(
        round.phase(),
        Phase::Crashed {
            at: Multiplier::ONE,
            interval: 1
        }
    );
}

#[test]
fn cash_outs_made_moot_by_an_earlier_crash_lose() {
    let mut round = running_round(&[(1, 100, None), (2, 100, None)], 1_000_000);
    round.record_tick(1_001_000).unwrap();
    round.record_tick(1_002_000).unwrap();
    round.cash_out(BetId(1)).unwrap(); // committed at tick 2
    round.record_tick(1_003_000).unwrap();
    round.cash_out(BetId(2)).unwrap(); // committed at tick 3
    assert!(round.decide_next_with(survive()).unwrap().is_empty());
    let s = round.decide_next_with(crash()).unwrap();
    assert_eq!(
        s.iter().map(|s| s.outcome).collect::<Vec<_>>(),
        [Outcome::Lost, Outcome::Lost]
    );
    assert!(round.phase().is_over());
    // Deciding again is an error and changes nothing.
    let before = round.clone();
    assert!(matches!(
        round.decide_next_with(survive()),
        Err(CrashError::NotRunning { .. })
    ));
    assert_eq!(round, before);
}

#[test]
fn a_cash_out_at_an_already_decided_tick_settles_at_once() {
    let mut round = running_round(&[(1, 100, None)], 1_000_000);
    round.record_tick(1_011_553).unwrap(); // 2.00×
    round.decide_next_with(survive()).unwrap();
    let cash = round.cash_out(BetId(1)).unwrap();
    assert_eq!(
        cash.settlement.and_then(|s| won(&s)),
        Some((Multiplier::at(11_553), Chips(200)))
    );
    assert!(matches!(
        round.bet(BetId(1)).unwrap().status,
        BetStatus::Settled(_)
    ));
}

#[test]
fn the_risk_cap_cashes_everyone_out_at_m_star() {
    // 3 × 100 staked, cap 600: m* = 2.00× while all ride; own target 1.50× first.
    let mut round = running_round(
        &[(1, 100, Some(m(150))), (2, 100, None), (3, 100, None)],
        600,
    );
    // P(m) = 150 + 200·m ≤ 600 ⇒ m* = 2.25×
    assert_eq!(round.risk_cap_multiplier(), m(225));
    assert_eq!(round.effective_target(BetId(1)), Some(m(150)));
    assert_eq!(round.effective_target(BetId(2)), Some(m(225)));
    round.record_tick(1_005_000).unwrap(); // 1.34×
    // Bet 3 cashes out at 1.34×: P(m) = 134 + 150 + 100·m ⇒ m* = 3.16× rounded down
    // to 2^-32, so 3.1599…×.
    round.cash_out(BetId(3)).unwrap();
    assert_eq!(round.risk_cap_multiplier().bits(), (316u64 << 32) / 100);
    round.record_tick(1_020_000).unwrap(); // 3.32×
    let BetStatus::CashingOut(p) = round.bet(BetId(2)).unwrap().status else {
        panic!("bet 2 should be cashing out at the cap");
    };
    assert_eq!((p.reason, p.interval), (CashOutReason::RiskCap, 2));
    assert_eq!(p.multiplier, round.risk_cap_multiplier());
    assert!(round.max_possible_payout().unwrap() <= Chips(600));
    round.decide_next_with(survive()).unwrap();
    let s = round.decide_next_with(survive()).unwrap();
    let total: u64 = round
        .bets()
        .map(|b| match b.status {
            BetStatus::Settled(o) => o.paid().get(),
            _ => 0,
        })
        .sum();
    assert_eq!(s.len(), 2);
    assert!(total <= 600, "paid {total}");
    assert_eq!(total, 150 + 134 + 315);
}

#[test]
fn the_maximum_multiplier_ends_the_round() {
    let mut round = running_round(&[(1, 10, None), (2, 10, Some(m(500_000)))], u64::MAX);
    round.record_tick(1_100_000).unwrap();
    round
        .record_tick(1_000_000 + Multiplier::T_MAX_MS + 5)
        .unwrap();
    assert!(matches!(
        round.record_tick(1_999_999),
        Err(CrashError::MaximumReached { tick: 2 })
    ));
    round.decide_next_with(survive()).unwrap();
    let s = round.decide_next_with(survive()).unwrap();
    assert_eq!(round.phase(), Phase::Finished);
    assert_eq!(won(&s[0]), Some((Multiplier::MAX, Chips(10_000_000))));
    assert_eq!(won(&s[1]), Some((m(500_000), Chips(50_000))));
    assert!(matches!(
        s[0].outcome,
        Outcome::Won {
            reason: CashOutReason::MaxMultiplier,
            ..
        }
    ));
}

#[test]
fn void_refunds_what_is_not_settled() {
    let mut round = running_round(&[(1, 100, None), (2, 200, None)], 1_000_000);
    round.record_tick(1_011_553).unwrap();
    round.decide_next_with(survive()).unwrap();
    round.cash_out(BetId(1)).unwrap();
    let s = round.void().unwrap();
    assert_eq!(
        s,
        [Settlement {
            bet: BetId(2),
            outcome: Outcome::Refunded { amount: Chips(200) }
        }]
    );
    assert_eq!(round.phase(), Phase::Void);
    assert!(matches!(round.void(), Err(CrashError::RoundOver { .. })));
    let mut betting = CrashRound::new(RULES).unwrap();
    betting.place_bet(BetId(9), Chips(10), None).unwrap();
    assert_eq!(betting.void().unwrap().len(), 1);
}

#[test]
fn rejected_operations_say_why_and_change_nothing() {
    fn rejected<T: core::fmt::Debug>(
        round: &mut CrashRound,
        op: impl FnOnce(&mut CrashRound) -> Result<T, CrashError>,
    ) -> CrashError {
        let before = round.clone();
        let err = op(round).expect_err("should be rejected");
        assert_eq!(*round, before, "{err}");
        assert!(!err.to_string().is_empty());
        err
    }
    assert!(
        CrashRound::new(CrashRules {
            min_bet: Chips(0),
            ..RULES
        })
        .is_err()
    );
    assert!(
        CrashRound::new(CrashRules {
            min_bet: Chips(11),
            max_bet: Chips(10),
            ..RULES
        })
        .is_err()
    );
    assert!(
        CrashRound::new(CrashRules {
            max_bets: 0,
            ..RULES
        })
        .is_err()
    );
    assert!(
        CrashRound::new(CrashRules {
            max_bets: MAX_BETS_PER_ROUND + 1,
            ..RULES
        })
        .is_err()
    );

    let mut round = CrashRound::new(RULES).unwrap();
    round.place_bet(BetId(1), Chips(100), None).unwrap();
    let e = rejected(&mut round, |r| r.place_bet(BetId(1), Chips(100), None));
    assert_eq!(e, CrashError::DuplicateBet { bet: BetId(1) });
    assert!(matches!(
        rejected(&mut round, |r| r.place_bet(BetId(2), Chips(9), None)),
        CrashError::BetBelowMinimum { .. }
    ));
    assert!(matches!(
        rejected(&mut round, |r| r.place_bet(BetId(2), Chips(1001), None)),
        CrashError::BetAboveMaximum { .. }
    ));
    assert!(matches!(
        rejected(&mut round, |r| r.place_bet(
            BetId(2),
            Chips(100),
            Some(Multiplier::ONE)
        )),
        CrashError::TargetTooLow { .. }
    ));
    assert!(matches!(
        rejected(&mut round, |r| r.record_tick(5)),
        CrashError::NotRunning { .. }
    ));
    assert!(matches!(
        rejected(&mut round, |r| r.cash_out(BetId(1))),
        CrashError::NotRunning { .. }
    ));
    assert!(matches!(
        rejected(&mut round, |r| r.decide_next_with(survive())),
        CrashError::NotRunning { .. }
    ));
    assert!(matches!(
        rejected(&mut round, |r| r.start(0, Chips(99))),
        CrashError::CapBelowStakes { .. }
    ));
    for id in 2..=8 {
        round.place_bet(BetId(id), Chips(10), None).unwrap();
    }
    assert_eq!(
        rejected(&mut round, |r| r.place_bet(BetId(9), Chips(10), None)),
        CrashError::TooManyBets { max: 8 }
    );

    round.start(1_000, Chips(100_000)).unwrap();
    assert!(matches!(
        rejected(&mut round, |r| r.start(1_000, Chips(100_000))),
        CrashError::NotBetting { .. }
    ));
    assert!(matches!(
        rejected(&mut round, |r| r.place_bet(BetId(9), Chips(10), None)),
        CrashError::NotBetting { .. }
    ));
    assert_eq!(
        rejected(&mut round, |r| r.cash_out(BetId(1))),
        CrashError::NoTickYet
    );
    assert_eq!(
        rejected(&mut round, |r| r.decide_next_with(survive())),
        CrashError::NothingToDecide { interval: 1 }
    );
    assert!(matches!(
        rejected(&mut round, |r| r.record_tick(999)),
        CrashError::TickBeforePrevious { .. }
    ));
    round.record_tick(2_000).unwrap();
    assert_eq!(
        rejected(&mut round, |r| r.cash_out(BetId(77))),
        CrashError::UnknownBet { bet: BetId(77) }
    );
    round.cash_out(BetId(1)).unwrap();
    assert!(matches!(
        rejected(&mut round, |r| r.cash_out(BetId(1))),
        CrashError::AlreadyCashingOut { .. }
    ));
    let instant = Draws {
        instant_crash: true,
        ..survive()
    };
    round.decide_next_with(survive()).unwrap();
    round.record_tick(3_000).unwrap();
    assert_eq!(
        rejected(&mut round, |r| r.decide_next_with(instant)),
        CrashError::InstantCrashNotFirst { interval: 2 }
    );
    assert!(matches!(
        rejected(&mut round, |r| r.cash_out(BetId(1))),
        CrashError::AlreadySettled { .. }
    ));
}

// ---------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    Bet {
        id: u64,
        amount: u64,
        target: Option<u64>,
    },
    Start {
        cap: u64,
    },
    Tick {
        advance_ms: u64,
    },
    CashOut {
        id: u64,
    },
    Decide {
        instant: bool,
        draw: u64,
    },
    Void,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        30 => (0u64..10, 0u64..1_200, proptest::option::of(Multiplier::ONE.bits()..m(2_000).bits()))
            .prop_map(|(id, amount, target)| Op::Bet { id, amount, target }),
        8 => (0u64..12_000).prop_map(|cap| Op::Start { cap }),
        40 => prop_oneof![0u64..4_000, Just(0), 200_000u64..300_000]
            .prop_map(|advance_ms| Op::Tick { advance_ms }),
        30 => (0u64..10).prop_map(|id| Op::CashOut { id }),
        40 => (proptest::bool::weighted(0.05), 0u64..(1 << 52))
            .prop_map(|(instant, draw)| Op::Decide { instant, draw }),
        // Rare, so most sequences play out; voiding is still covered.
        1 => Just(Op::Void),
    ]
}

/// What the property tests track beside the round.
#[derive(Default)]
struct Ledger {
    settled: BTreeMap<BetId, Outcome>,
    paid: u128,
    last_cap_multiplier: Option<Multiplier>,
}

impl Ledger {
    fn record(
        &mut self,
        round: &CrashRound,
        settlements: &[Settlement],
    ) -> Result<(), TestCaseError> {
        for s in settlements {
            prop_assert!(
                self.settled.insert(s.bet, s.outcome).is_none(),
                "{} settled twice",
                s.bet
            );
            let bet = round.bet(s.bet).expect("settled bets exist");
            prop_assert_eq!(bet.status, BetStatus::Settled(s.outcome));
            match s.outcome {
                Outcome::Won {
                    multiplier,
                    payout,
                    reason,
                } => {
                    // Never more than amount × its multiplier (rounded down exactly).
                    let exact = u128::from(bet.amount.get()) * u128::from(multiplier.bits());
                    prop_assert!(u128::from(payout.get()) << 32 <= exact);
                    prop_assert_eq!(Some(payout), multiplier.payout(bet.amount));
                    if let Some(target) = bet.auto_cash_out {
                        prop_assert!(multiplier <= target);
                    }
                    if reason == CashOutReason::AutoTarget {
                        prop_assert_eq!(Some(multiplier), bet.auto_cash_out);
                    }
                    if let Phase::Crashed { at, .. } = round.phase() {
                        prop_assert!(
                            multiplier <= at,
                            "won {} above the crash at {}",
                            multiplier,
                            at
                        );
                    }
                }
                Outcome::Refunded { amount } => prop_assert_eq!(amount, bet.amount),
                Outcome::Lost => {}
            }
            self.paid += u128::from(s.outcome.paid().get());
        }
        Ok(())
    }

    fn check(&mut self, round: &CrashRound) -> Result<(), TestCaseError> {
        let started = !round.ticks().is_empty();
        if started && round.phase() != Phase::Void {
            let cap = u128::from(round.max_total_payout().get());
            prop_assert!(self.paid <= cap, "paid {} above the cap {}", self.paid, cap);
            let possible = round.max_possible_payout().expect("bounded by the cap");
            prop_assert!(u128::from(possible.get()) <= cap);
            prop_assert!(self.paid <= u128::from(possible.get()));
        }
        if round.phase() == Phase::Running {
            let m_star = round.risk_cap_multiplier();
            if let Some(previous) = self.last_cap_multiplier {
                prop_assert!(m_star >= previous, "m* went down");
            }
            self.last_cap_multiplier = Some(m_star);
            let latest = round.latest_tick().unwrap().multiplier;
            for bet in round.bets() {
                if let Some(target) = round.effective_target(bet.id) {
                    prop_assert!(target > latest, "a riding bet's target is already passed");
                }
            }
        }
        for pair in round.ticks().windows(2) {
            prop_assert!(pair[0].multiplier <= pair[1].multiplier);
            prop_assert!(pair[0].timestamp_ms <= pair[1].timestamp_ms);
        }
        for bet in round.bets() {
            let settled = matches!(bet.status, BetStatus::Settled(_));
            prop_assert_eq!(settled, self.settled.contains_key(&bet.id));
        }
        if round.phase().is_over() {
            prop_assert_eq!(
                self.settled.len(),
                round.bets().count(),
                "every bet settled once"
            );
        }
        Ok(())
    }
}

fn apply(round: &mut CrashRound, op: &Op, now: &mut u64) -> Result<Vec<Settlement>, CrashError> {
    match *op {
        Op::Bet { id, amount, target } => {
            let target = target.map(Multiplier::from_bits).transpose()?;
            round
                .place_bet(BetId(id), Chips(amount), target)
                .map(|()| Vec::new())
        }
        Op::Start { cap } => round.start(*now, Chips(cap)).map(|()| Vec::new()),
        Op::Tick { advance_ms } => {
            let t = now.saturating_add(advance_ms);
            let result = round.record_tick(t).map(|_| Vec::new());
            if result.is_ok() {
                *now = t;
            }
            result
        }
        Op::CashOut { id } => round
            .cash_out(BetId(id))
            .map(|c| c.settlement.into_iter().collect()),
        Op::Decide { instant, draw } => {
            let draw = Unit52::new(draw).expect("generated below 2^52");
            round.decide_next_with(Draws {
                instant_crash: instant,
                draw,
            })
        }
        Op::Void => round.void(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random sequences of operations: rejected ones change nothing; payouts never
    /// exceed amount × multiplier nor, in total, the cap; every bet is settled
    /// exactly once when the round ends (driven to its end after the sequence).
    #[test]
    fn rounds_keep_their_invariants(
        ops in proptest::collection::vec(op(), 1..60),
        finish_draws in proptest::collection::vec(0u64..(1 << 52), 64),
    ) {
        let mut round = CrashRound::new(RULES).unwrap();
        let mut ledger = Ledger::default();
        let mut now = 1_700_000_000_000u64;
        for op in &ops {
            let before = round.clone();
            match apply(&mut round, op, &mut now) {
                Ok(settlements) => ledger.record(&round, &settlements)?,
                Err(e) => {
                    prop_assert_eq!(&round, &before, "rejected {:?} ({}) changed the round", op, e);
                    prop_assert!(!e.to_string().is_empty());
                }
            }
            ledger.check(&round)?;
        }
        // Drive the round to its end.
        if round.phase() == Phase::Betting {
            let cap = round.total_staked();
            round.start(now, cap).unwrap();
        }
        let mut draws = finish_draws.iter().cycle();
        while round.phase() == Phase::Running {
            if round.decided_intervals() == round.latest_tick().unwrap().index {
                now += 2_000;
                round.record_tick(now).unwrap();
            }
            let draw = Unit52::new(*draws.next().unwrap()).unwrap();
            let s = round.decide_next_with(Draws { instant_crash: false, draw }).unwrap();
            ledger.record(&round, &s)?;
            ledger.check(&round)?;
        }
        prop_assert!(round.phase().is_over());
        prop_assert!(round.bets().all(|b| matches!(b.status, BetStatus::Settled(_))));
    }

    /// The multiplier never decreases, for any two times.
    #[test]
    fn multiplier_is_monotone(a in 0u64..300_000, b in 0u64..300_000, far in any::<u64>()) {
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(Multiplier::at(lo) <= Multiplier::at(hi));
        prop_assert!(Multiplier::at(hi) <= Multiplier::at(far.max(hi)));
        let at_far = Multiplier::at(far);
        prop_assert!(at_far >= Multiplier::ONE && at_far <= Multiplier::MAX);
    }

    /// Within an interval, a target is reached iff it is at most the crash point.
    #[test]
    fn crash_point_splits_the_interval(
        t0 in 0u64..230_000,
        dt in 0u64..20_000,
        draw in 0u64..(1 << 52),
        x in any::<u64>(),
    ) {
        let from = Multiplier::at(t0);
        let to = Multiplier::at(t0 + dt);
        let d = IntervalDecision::new(draws(draw), from, to).unwrap();
        let span = to.bits() - from.bits();
        let target = Multiplier::from_bits(from.bits() + x % (span + 1)).unwrap();
        match d.crash_point() {
            None => prop_assert_eq!(d.reaches(target), Some(true)),
            Some(c) => {
                prop_assert!(from <= c && c < to);
                prop_assert_eq!(d.reaches(target), Some(target <= c));
            }
        }
    }

    /// The risk cap holds for any stakes, targets and cap: every riding bet paid at
    /// its effective target fits, and `m*` is the largest multiplier that does.
    #[test]
    fn the_cap_multiplier_is_the_largest_that_fits(
        bets in proptest::collection::vec(
            (10u64..=1_000, proptest::option::of(Multiplier::ONE.bits() + 1..m(5_000).bits())),
            1..8,
        ),
        extra in 0u64..50_000,
    ) {
        let mut round = CrashRound::new(RULES).unwrap();
        for (i, &(amount, target)) in bets.iter().enumerate() {
            let target = target.map(|t| Multiplier::from_bits(t).unwrap());
            round.place_bet(BetId(i as u64), Chips(amount), target).unwrap();
        }
        let cap = round.total_staked().get() + extra;
        round.start(0, Chips(cap)).unwrap();
        let m_star = round.risk_cap_multiplier();
        let potential = |m: Multiplier| -> u128 {
            round
                .bets()
                .map(|b| {
                    let effective = b.auto_cash_out.unwrap_or(Multiplier::MAX).min(m);
                    u128::from(b.amount.get()) * u128::from(effective.bits())
                })
                .sum()
        };
        prop_assert!(potential(m_star) <= u128::from(cap) << 32);
        if m_star < Multiplier::MAX {
            let above = Multiplier::from_bits(m_star.bits() + 1).unwrap();
            prop_assert!(potential(above) > u128::from(cap) << 32);
        }
    }
}
