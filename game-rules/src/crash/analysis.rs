//! Exact analysis of the crash game, from the decision rule itself.
//!
//! For a tick schedule (the elapsed times of ticks 1, 2, …) and an auto-cash-out
//! target `x`, with `j` the first tick where `m_j ≥ x`:
//!
//! ```text
//! P(reach x) = 99/100 · Π_{k<j} reach_count(m_{k−1}, m_k)/2^52 · reach_count(m_{j−1}, x)/2^52
//! E[return]  = P(reach x) · x           (multiplier units, before rounding to the chip)
//! ```
//!
//! Each count is the exact number of draws `u ∈ [0, 2^52)` that pass the rule
//! ([`reach_count`]), so these are exact rationals. Since
//! `m_{k−1}/m_k ≤ count/2^52 ≤ m_{k−1}/m_k + 2^-52`, the product telescopes to
//! `0.99·m_0/x = 0.99/x` up to a relative excess below `S·2^-51`, where `S` sums
//! `⌈m_k/m_{k−1}⌉` over the intervals that advance (zero-length ones are exact):
//!
//! ```text
//! 0.99 ≤ E[return] ≤ 0.99 · (1 + S·2^-51)
//! ```
//!
//! (`(1+a_k)` multiplied over intervals is at most `e^{Σa_k} ≤ 1 + 2Σa_k` for
//! `Σa_k ≤ 1`; here `Σa_k = S·2^-52 < 2^-31` always, since the ratios multiply to at
//! most 10^6 over at most 230,260 distinct multipliers.) With ticks every 50 ms and
//! `x = 100`, `S ≈ 3072`, so the excess is below `1.4·10^-12`. The same bound holds
//! for every cash-out strategy: `m_k·1{survived to k}` grows in expectation by a
//! factor in `[1, 1 + ⌈m_k/m_{k−1}⌉·2^-52]` per interval, so whatever rule picks the
//! stopping tick, the expected return is `0.99` up to that excess. Rounding payouts
//! down to the chip then costs the player less than one chip per bet.

use num_bigint::{BigInt, BigUint};
use num_rational::BigRational;

use super::{CrashError, Multiplier, decision::reach_count};
use crate::Unit52;

/// The ticks of a round, as elapsed milliseconds since its start (tick 0 at 0 ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TickSchedule {
    elapsed_ms: Vec<u64>,
}

impl TickSchedule {
    /// Ticks every `interval_ms`: at `Δ, 2Δ, …` up to the first at or beyond
    /// [`Multiplier::T_MAX_MS`].
    ///
    /// # Errors
    /// [`CrashError::ZeroTickInterval`] for `interval_ms = 0`.
    pub fn every(interval_ms: u64) -> Result<Self, CrashError> {
        if interval_ms == 0 {
            return Err(CrashError::ZeroTickInterval);
        }
        let mut elapsed_ms = Vec::new();
        let mut t = 0u64;
        while t < Multiplier::T_MAX_MS {
            t = t.saturating_add(interval_ms);
            elapsed_ms.push(t);
        }
        Ok(TickSchedule { elapsed_ms })
    }

    /// Ticks at the given elapsed times (ticks 1, 2, …), which must not decrease.
    ///
    /// # Errors
    /// [`CrashError::ScheduleOutOfOrder`] if a time is before the previous one.
    pub fn from_elapsed(elapsed_ms: Vec<u64>) -> Result<Self, CrashError> {
        if let Some(i) = elapsed_ms.windows(2).position(|w| w[1] < w[0]) {
            return Err(CrashError::ScheduleOutOfOrder { index: i + 2 });
        }
        Ok(TickSchedule { elapsed_ms })
    }

    /// The elapsed times of ticks 1, 2, …
    pub fn elapsed_ms(&self) -> &[u64] {
        &self.elapsed_ms
    }

    /// The tick multipliers `m_0 = 1.00×, m_1, m_2, …`.
    pub fn multipliers(&self) -> impl Iterator<Item = Multiplier> + '_ {
        core::iter::once(Multiplier::ONE).chain(self.elapsed_ms.iter().map(|&t| Multiplier::at(t)))
    }
}

/// The exact figures for "auto-cash-out at `target`" under one tick schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnAnalysis {
    /// The auto-cash-out target.
    pub target: Multiplier,
    /// The interval in which the target is decided (its tick is the first with
    /// `m_j ≥ target`).
    pub interval: u32,
    /// `P(reach target)`, exactly.
    pub reach_probability: BigRational,
    /// `P(reach target) · target`: the expected return per unit staked, before payouts
    /// are rounded down to the chip.
    pub expected_return: BigRational,
    /// The bound `0.99·S·2^-51` of the module doc: `0.99 ≤ expected_return ≤ 0.99 +
    /// error_bound`.
    pub error_bound: BigRational,
}

/// The house's promise: `99/100` of every stake comes back on average.
pub fn house_return() -> BigRational {
    BigRational::new(BigInt::from(99), BigInt::from(100))
}

/// The exact reach probability and expected return of "auto-cash-out at `target`"
/// with ticks at `schedule`, counting the draws that pass each interval's rule.
///
/// # Errors
/// [`CrashError::ScheduleTooShort`] if no tick of the schedule reaches `target`.
pub fn auto_cash_out(
    schedule: &TickSchedule,
    target: Multiplier,
) -> Result<ReturnAnalysis, CrashError> {
    let mut numerator = BigUint::from(99u32); // over 100 · 2^(52·intervals)
    let mut intervals: u32 = 0;
    let mut excess_sum: u64 = 0; // S of the module doc
    let mut from = Multiplier::ONE;
    for to in schedule.multipliers().skip(1) {
        intervals = intervals.saturating_add(1);
        let end = to.min(target);
        numerator *= reach_count(from, end);
        if end > from {
            excess_sum = excess_sum.saturating_add(end.bits().div_ceil(from.bits()));
        }
        if to >= target {
            let twos = 52 * u64::from(intervals);
            let reach_probability = dyadic_over_100(numerator.clone(), twos);
            let expected_return = dyadic_over_100(
                numerator * target.bits(),
                twos + u64::from(Multiplier::FRACTION_BITS),
            );
            let error_bound = dyadic_over_100(
                BigUint::from(99u32) * excess_sum,
                u64::from(Unit52::BITS) - 1,
            );
            return Ok(ReturnAnalysis {
                target,
                interval: intervals,
                reach_probability,
                expected_return,
                error_bound,
            });
        }
        from = to;
    }
    Err(CrashError::ScheduleTooShort {
        target,
        reached: from,
    })
}

/// `numerator / (100 · 2^twos)` in lowest terms, without a general gcd (the
/// numerators run to tens of thousands of bits).
fn dyadic_over_100(mut numerator: BigUint, twos: u64) -> BigRational {
    // 100 · 2^twos = 25 · 2^(twos + 2)
    let mut twos = twos + 2;
    let shift = numerator.trailing_zeros().unwrap_or(0).min(twos);
    numerator >>= shift;
    twos -= shift;
    let five = BigUint::from(5u32);
    let mut fives = 2u32;
    while fives > 0 && (&numerator % &five) == BigUint::ZERO {
        numerator /= &five;
        fives -= 1;
    }
    let denominator = (BigUint::from(1u32) << twos) * five.pow(fives);
    BigRational::new_raw(BigInt::from(numerator), BigInt::from(denominator))
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::{One, Zero};

    fn m(hundredths: u64) -> Multiplier {
        Multiplier::from_hundredths(hundredths).unwrap()
    }

    /// The exact expected return is 0.99 within the stated bound, for every target
    /// and tick spacing of the brief, and the reach probability is 0.99/x within the
    /// same relative bound.
    #[test]
    fn expected_return_is_099_within_the_bound() {
        for interval_ms in [50, 100, 1000] {
            let schedule = TickSchedule::every(interval_ms).unwrap();
            for h in [101, 150, 200, 1000, 10_000] {
                let x = m(h);
                let a = auto_cash_out(&schedule, x).unwrap();
                let excess = &a.expected_return - house_return();
                assert!(
                    excess >= BigRational::zero(),
                    "Δ={interval_ms} x={x}: below 0.99"
                );
                assert!(
                    excess <= a.error_bound,
                    "Δ={interval_ms} x={x}: excess above bound"
                );
                // The bound itself is tiny: below 2^-38 here.
                let tiny = BigRational::new(BigInt::one(), BigInt::one() << 38);
                assert!(a.error_bound < tiny);
                // P(reach x) · x = E exactly.
                let x_rat = BigRational::new(BigInt::from(x.bits()), BigInt::one() << 32);
                assert_eq!(&a.reach_probability * x_rat, a.expected_return);
                let expected_interval = x.time_to_reach().div_ceil(interval_ms);
                assert_eq!(u64::from(a.interval), expected_interval.max(1));
            }
        }
    }

    #[test]
    fn the_reduction_is_in_lowest_terms() {
        let r = dyadic_over_100(BigUint::from(99u32 * 4 * 5), 10);
        assert_eq!(r, BigRational::new(BigInt::from(99), BigInt::from(5 << 10)));
        assert_eq!(*r.denom(), BigInt::from(5 << 10));
        let r = dyadic_over_100(BigUint::from(1u32 << 20), 3);
        assert_eq!(*r.denom(), BigInt::from(25));
        assert_eq!(*r.numer(), BigInt::from(1 << 15));
    }

    #[test]
    fn target_one_is_the_instant_crash_only() {
        let a = auto_cash_out(&TickSchedule::every(100).unwrap(), Multiplier::ONE).unwrap();
        assert_eq!(a.reach_probability, house_return());
        assert_eq!(a.expected_return, house_return());
        assert_eq!(a.interval, 1);
        assert_eq!(a.error_bound, BigRational::zero());
    }

    #[test]
    fn zero_length_intervals_change_nothing() {
        let plain = TickSchedule::from_elapsed(vec![1000, 2000, 3000]).unwrap();
        let stuttering = TickSchedule::from_elapsed(vec![0, 1000, 1000, 1000, 2000, 3000]).unwrap();
        let x = m(110);
        let a = auto_cash_out(&plain, x).unwrap();
        let b = auto_cash_out(&stuttering, x).unwrap();
        assert_eq!(a.reach_probability, b.reach_probability);
        assert_eq!(a.error_bound, b.error_bound);
    }

    #[test]
    fn schedules_are_checked() {
        assert_eq!(TickSchedule::every(0), Err(CrashError::ZeroTickInterval));
        assert_eq!(
            TickSchedule::from_elapsed(vec![5, 10, 9]),
            Err(CrashError::ScheduleOutOfOrder { index: 3 })
        );
        let short = TickSchedule::from_elapsed(vec![1000]).unwrap();
        assert!(matches!(
            auto_cash_out(&short, m(200)),
            Err(CrashError::ScheduleTooShort { .. })
        ));
        let every = TickSchedule::every(u64::MAX).unwrap();
        assert_eq!(every.elapsed_ms(), &[u64::MAX]);
        let max = auto_cash_out(&every, Multiplier::MAX).unwrap();
        assert!(&max.expected_return - house_return() <= max.error_bound);
    }
}
