//! Crash strategies played through the interval decisions with simulated draws.

use core::fmt;
use core::str::FromStr;

use num_rational::BigRational;
use num_traits::One;

use crate::crash::{
    BetId, CrashError, Draws, INSTANT_CRASH_ONE_IN, IntervalDecision, Multiplier, TickSchedule,
    analysis,
};
use crate::{Chips, Purpose, Randomness};

use super::{SimulationError, Tally};

/// The stake of every simulated bet: large enough that rounding payouts down to
/// the chip moves the measured edge by less than 10⁻⁶.
pub const SIMULATED_STAKE: Chips = Chips(1_000_000);

/// A named crash strategy for the simulator: auto-cash-out at a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrashStrategy {
    /// The auto-cash-out target.
    pub target: Multiplier,
}

impl CrashStrategy {
    /// The names [`FromStr`] accepts, for `--help` texts.
    pub const NAMES: &'static str = "auto-X (auto-cash-out at X×, e.g. auto-2, auto-1.5, auto-100)";

    /// The exact house edge per chip wagered with ticks every `tick_ms`
    /// (`1 − E[return]`, before payouts are rounded down to the chip).
    pub fn exact_edge(&self, tick_ms: u64) -> Result<BigRational, CrashError> {
        let schedule = TickSchedule::every(tick_ms)?;
        let analysis = analysis::auto_cash_out(&schedule, self.target)?;
        Ok(BigRational::one() - analysis.expected_return)
    }
}

impl FromStr for CrashStrategy {
    type Err = SimulationError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let unknown = || SimulationError::UnknownStrategy {
            name: name.to_owned(),
            known: Self::NAMES,
        };
        let target = name.strip_prefix("auto-").ok_or_else(unknown)?;
        let (whole, fraction) = target.split_once('.').unwrap_or((target, ""));
        if whole.is_empty()
            || target.ends_with('.')
            || fraction.len() > 2
            || !(whole.chars().chain(fraction.chars())).all(|c| c.is_ascii_digit())
        {
            return Err(unknown());
        }
        let whole: u64 = whole.parse().map_err(|_| unknown())?;
        let fraction: u64 = format!("{fraction:0<2}").parse().map_err(|_| unknown())?;
        let hundredths = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(fraction))
            .ok_or_else(unknown)?;
        let target = Multiplier::from_hundredths(hundredths).map_err(|_| unknown())?;
        if target <= Multiplier::ONE {
            return Err(unknown());
        }
        Ok(CrashStrategy { target })
    }
}

impl fmt::Display for CrashStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "auto-cash-out at {}", self.target)
    }
}

/// Plays `rounds` rounds of `strategy` with ticks every `tick_ms`, deciding each
/// interval exactly as a live round does ([`IntervalDecision`]), with draws from
/// the simulation stream of `seed`.
pub fn simulate(
    strategy: CrashStrategy,
    tick_ms: u64,
    rounds: u64,
    seed: &[u8],
) -> Result<Tally, SimulationError> {
    let ticks: Vec<Multiplier> = TickSchedule::every(tick_ms)?.multipliers().collect();
    let mut stream = Randomness::from_beacon_output(seed).stream(Purpose::Simulation, b"crash");
    let mut tally = Tally::default();
    let stake = SIMULATED_STAKE;
    let win = strategy
        .target
        .payout(stake)
        .ok_or(CrashError::PayoutOverflow { bet: BetId(0) })?;
    for _ in 0..rounds {
        let mut payout = Chips::ZERO;
        for (index, pair) in ticks.windows(2).enumerate() {
            let draws = Draws {
                instant_crash: index == 0 && stream.below(INSTANT_CRASH_ONE_IN) == 0,
                draw: stream.uniform(),
            };
            let decision = IntervalDecision::new(draws, pair[0], pair[1])?;
            match decision.reaches(strategy.target) {
                Some(true) => {
                    payout = win;
                    break;
                }
                Some(false) => break,
                None if !decision.survives() => break,
                None => {}
            }
        }
        tally.record(stake.get(), payout.get() as i64 - stake.get() as i64);
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::ToPrimitive;

    #[test]
    fn measured_edge_agrees_with_exact_edge() {
        for (name, tick_ms) in [("auto-1.5", 100), ("auto-2", 1000), ("auto-10", 1000)] {
            let strategy: CrashStrategy = name.parse().unwrap();
            let exact = strategy.exact_edge(tick_ms).unwrap().to_f64().unwrap();
            assert!((exact - 0.01).abs() < 1e-9, "{name}: exact edge {exact}");
            let measured = simulate(strategy, tick_ms, 50_000, name.as_bytes())
                .unwrap()
                .estimate();
            assert!(
                (measured.edge - exact).abs() <= 2.0 * measured.ci95,
                "{name}: measured {} ± {}, exact {exact}",
                measured.edge,
                measured.ci95
            );
        }
    }

    #[test]
    fn names_parse_and_bad_names_are_refused() {
        let two: CrashStrategy = "auto-2".parse().unwrap();
        assert_eq!(two.target, Multiplier::from_hundredths(200).unwrap());
        let low: CrashStrategy = "auto-1.01".parse().unwrap();
        assert_eq!(low.target, Multiplier::from_hundredths(101).unwrap());
        for bad in [
            "",
            "auto-",
            "auto-1",
            "auto-0.5",
            "auto-1.001",
            "auto-x",
            "auto-.5",
            "2",
            "auto-2.",
            "auto-99999999999",
        ] {
            assert!(bad.parse::<CrashStrategy>().is_err(), "{bad} was accepted");
        }
    }
}
