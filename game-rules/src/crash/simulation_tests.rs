//! Simulation: many rounds through the decision functions (and some through the whole
//! state machine), measured against the exact figures. Floating point appears here
//! only for statistics.

use super::analysis::{TickSchedule, auto_cash_out};
use super::{BetId, CrashRound, CrashRules, Draws, IntervalDecision, Multiplier, Outcome};
use crate::{Chips, Purpose, Randomness};

/// The targets whose reach probability is measured, in hundredths.
const TARGETS: [u64; 11] = [
    101, 110, 125, 150, 200, 300, 500, 1_000, 2_000, 5_000, 10_000,
];

/// How many standard errors a measured figure may stray.
const TOLERANCE_SE: f64 = 4.0;

fn target(i: usize) -> Multiplier {
    Multiplier::from_hundredths(TARGETS[i]).unwrap()
}

/// How many simulated rounds reached each target.
struct Measured {
    interval_ms: u64,
    rounds: u64,
    reached: [u64; TARGETS.len()],
}

impl Measured {
    fn p(&self, i: usize) -> f64 {
        self.reached[i] as f64 / self.rounds as f64
    }

    /// The standard error of `p(i)` (from the measured figure).
    fn se(&self, i: usize) -> f64 {
        let p = self.p(i);
        (p * (1.0 - p) / self.rounds as f64).sqrt()
    }
}

/// Plays `rounds` rounds with ticks every `interval_ms`, each from its own
/// `Simulation` stream: the instant crash, then one uniform per interval, decided by
/// [`IntervalDecision`]. A round is followed only until it crashes or passes the
/// largest target, since nothing later changes what is counted.
fn simulate(interval_ms: u64, rounds: u64) -> Measured {
    let top = target(TARGETS.len() - 1);
    let schedule = TickSchedule::every(interval_ms).unwrap();
    let mut ticks: Vec<Multiplier> = schedule.multipliers().take_while(|&m| m < top).collect();
    ticks.push(Multiplier::at(
        top.time_to_reach().next_multiple_of(interval_ms),
    ));
    let r = Randomness::from_beacon_output(b"bitcraps crash simulation test");
    let mut measured = Measured {
        interval_ms,
        rounds,
        reached: [0; TARGETS.len()],
    };
    for round in 0..rounds {
        let label = [interval_ms.to_le_bytes(), round.to_le_bytes()].concat();
        let mut stream = r.stream(Purpose::Simulation, &label);
        // The largest multiplier reached (None: beyond the largest target).
        let crash_point = if stream.below(100) == 0 {
            Some(Multiplier::ONE)
        } else {
            ticks.windows(2).find_map(|pair| {
                let draws = Draws {
                    instant_crash: false,
                    draw: stream.uniform(),
                };
                IntervalDecision::new(draws, pair[0], pair[1])
                    .unwrap()
                    .crash_point()
            })
        };
        for (i, reached) in measured.reached.iter_mut().enumerate() {
            if crash_point.is_none_or(|c| target(i) <= c) {
                *reached += 1;
            }
        }
    }
    measured
}

/// P(reach x) ≈ 0.99/x within 4 standard errors for every target, with 10^6 rounds at
/// 1 s ticks and 2·10^5 at 100 ms and 50 ms (finer ticks cost ~330 intervals per
/// round), and the three tick spacings agree with each other within 4 standard errors
/// of the difference: the crash distribution does not depend on the tick schedule.
#[test]
fn reach_probability_is_099_over_x_for_every_tick_spacing() {
    let runs: Vec<Measured> = std::thread::scope(|scope| {
        let handles: Vec<_> = [(1_000, 1_000_000), (100, 200_000), (50, 200_000)]
            .into_iter()
            .map(|(interval_ms, rounds)| scope.spawn(move || simulate(interval_ms, rounds)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in &runs {
        let schedule = TickSchedule::every(run.interval_ms).unwrap();
        for i in 0..TARGETS.len() {
            let x = target(i);
            let x_real = x.bits() as f64 / 2f64.powi(32);
            let exact = auto_cash_out(&schedule, x).unwrap();
            let exact_p = ratio_to_f64(&exact.reach_probability);
            assert!((exact_p - 0.99 / x_real).abs() < 1e-12);
            let (p, se) = (run.p(i), run.se(i));
            println!(
                "Δ={:>4} ms  x={:>7}  measured {:.6} ± {:.6}  exact {:.6}  ({:+.2} se)",
                run.interval_ms,
                x.to_string(),
                p,
                se,
                exact_p,
                (p - exact_p) / se
            );
            assert!(
                (p - exact_p).abs() <= TOLERANCE_SE * se,
                "Δ={} x={x}: measured {p} vs exact {exact_p} (se {se})",
                run.interval_ms
            );
        }
    }
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        let (a, b) = (&runs[a], &runs[b]);
        for i in 0..TARGETS.len() {
            let diff = a.p(i) - b.p(i);
            let se = (a.se(i).powi(2) + b.se(i).powi(2)).sqrt();
            assert!(
                diff.abs() <= TOLERANCE_SE * se,
                "Δ={} vs Δ={} at {}: {} vs {}",
                a.interval_ms,
                b.interval_ms,
                target(i),
                a.p(i),
                b.p(i)
            );
        }
    }
}

fn ratio_to_f64(r: &num_rational::BigRational) -> f64 {
    use num_traits::ToPrimitive;
    r.to_f64().unwrap()
}

/// Whole rounds through [`CrashRound`], with decisions lagging one tick behind as on
/// the ledger: an auto-cash-out at 2×, a manual cash-out at the first tick seen at
/// 1.5× or more, and a bet riding into the risk cap. The two measurable strategies
/// return 0.99 within 4 standard errors, the auto bet wins exactly when the decision
/// functions say 2× was reached, and no round pays more than its cap.
#[test]
fn whole_rounds_return_099_per_strategy() {
    const ROUNDS: u64 = 20_000;
    const STAKE: u64 = 1_000;
    let rules = CrashRules {
        min_bet: Chips(1),
        max_bet: Chips(STAKE),
        max_bets: 3,
    };
    let (auto, manual, rider) = (BetId(1), BetId(2), BetId(3));
    let two = Multiplier::from_hundredths(200).unwrap();
    let one_and_a_half = Multiplier::from_hundredths(150).unwrap();
    let r = Randomness::from_beacon_output(b"bitcraps crash state machine simulation");
    let mut returns = [Vec::new(), Vec::new()];
    for round_number in 0..ROUNDS {
        let mut stream = r.stream(Purpose::Simulation, &round_number.to_le_bytes());
        let mut round = CrashRound::new(rules).unwrap();
        round.place_bet(auto, Chips(STAKE), Some(two)).unwrap();
        round.place_bet(manual, Chips(STAKE), None).unwrap();
        round.place_bet(rider, Chips(STAKE), None).unwrap();
        let cap = Chips(STAKE * 60);
        round.start(0, cap).unwrap();
        let mut now = 0;
        let mut reached_two = None;
        let mut decisions = Vec::new();
        while !round.phase().is_over() {
            let latest = round.latest_tick().unwrap();
            if latest.multiplier < Multiplier::MAX {
                now += 1_000;
                let tick = round.record_tick(now).unwrap();
                if tick.multiplier >= one_and_a_half {
                    round.cash_out(manual).ok();
                }
            }
            // The randomness for the previous tick arrives now (or, once the
            // multiplier is at its maximum, for the last one).
            let behind = round.latest_tick().unwrap().index - round.decided_intervals();
            if behind >= 2 || round.latest_tick().unwrap().multiplier == Multiplier::MAX {
                let first = round.decided_intervals() == 0;
                let draws = Draws {
                    instant_crash: first && stream.below(100) == 0,
                    draw: stream.uniform(),
                };
                let j = round.decided_intervals() as usize + 1;
                let ticks = round.ticks();
                let decision =
                    IntervalDecision::new(draws, ticks[j - 1].multiplier, ticks[j].multiplier)
                        .unwrap();
                if reached_two.is_none() && ticks[j].multiplier >= two {
                    reached_two = decision.reaches(two);
                }
                if !decision.survives() && reached_two.is_none() {
                    reached_two = Some(false);
                }
                decisions.extend(round.decide_next_with(draws).unwrap());
            }
        }
        let paid = |id: BetId| {
            decisions
                .iter()
                .find(|s| s.bet == id)
                .map(|s| s.outcome.paid().get())
                .expect("every bet settled")
        };
        assert_eq!(decisions.len(), 3);
        let total: u64 = decisions.iter().map(|s| s.outcome.paid().get()).sum();
        assert!(total <= cap.get());
        let auto_won = matches!(
            decisions.iter().find(|s| s.bet == auto).unwrap().outcome,
            Outcome::Won { .. }
        );
        assert_eq!(Some(auto_won), reached_two, "round {round_number}");
        returns[0].push(paid(auto) as f64 / STAKE as f64);
        returns[1].push(paid(manual) as f64 / STAKE as f64);
    }
    for (name, sample) in ["auto 2.00×", "manual at 1.50×"].iter().zip(&returns) {
        let n = sample.len() as f64;
        let mean = sample.iter().sum::<f64>() / n;
        let var = sample.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let se = (var / n).sqrt();
        println!("{name}: mean return {mean:.4} ± {se:.4}");
        assert!(
            (mean - 0.99).abs() <= TOLERANCE_SE * se,
            "{name}: {mean} vs 0.99 (se {se})"
        );
    }
}
