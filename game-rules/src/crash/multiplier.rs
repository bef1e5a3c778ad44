//! The crash multiplier `m(t) = e^(0.00006·t)` in Q32.32 fixed point, computed with
//! integers only.
//!
//! # Definition
//!
//! For an elapsed time of `t` whole milliseconds since the round started,
//!
//! ```text
//! Multiplier::at(t).bits() = floor(e^(6·t/100000) · 2^32)   for 0 ≤ t < T_MAX_MS,
//!                          = 1,000,000 · 2^32                for t ≥ T_MAX_MS = 230,259,
//! ```
//!
//! `T_MAX_MS` being the first whole millisecond at which `e^(6t/100000) ≥ 10^6`.
//!
//! # Computation
//!
//! Everything runs in 120-bit fixed point held in `u128` ("work" units of `2^-120`):
//!
//! 1. `X = floor(x·2^120)` for `x = 3t/50000`, by long division (error `< 1` unit);
//! 2. range reduction by `ln 2`: `k = X div LN2`, `R = X − k·LN2` with
//!    `LN2 = floor(ln 2·2^120)` (a test re-derives it from `Σ 1/(i·2^i)`), so
//!    `e^x = 2^k·e^r` with `0 ≤ r < ln 2` and `|R − r·2^120| < 19` units (`k ≤ 19`);
//! 3. `e^R` by its Taylor series to the 30th power in Horner form, with a
//!    256-bit product (truncation `< 2^-123`, rounding `< 4` units);
//! 4. `bits = E >> (88 − k)`.
//!
//! The result `E` is within `ERROR_BOUND_UNITS = 2^6` work units of
//! `e^r·2^120` (measured against a 90-digit reference: at most 24.4 units), i.e.
//! within `2^(6 + k − 88) ≤ 2^-63` of `e^x·2^32`. The floor is exact whenever the
//! discarded bits stay further than that from a multiple of `2^(88−k)`; a test checks
//! it for every `t` in range (the closest call is ~2^53 units, at `t = 195,455`; the
//! closest `e^x·2^32` comes to an integer is 3.1·10^-7, at `t = 141,395`), and another
//! hashes all values and compares them with the independent `decimal` reference in
//! `vectors/generate_crash.py`.

use core::fmt;

use super::CrashError;
use crate::Chips;

/// Fraction bits of the work fixed point.
const WORK_BITS: u32 = 120;
/// `1.0` in work units.
const WORK_ONE: u128 = 1 << WORK_BITS;
/// `floor(ln 2 · 2^120)`.
const LN2_WORK: u128 = 0x00b1_7217_f7d1_cf79_abc9_e3b3_9803_f2f6;
/// Taylor terms: `ln2^31 / 31! < 2^-123`.
const TAYLOR_TERMS: u128 = 30;
/// The bound, in work units, on `|E − e^r·2^120|` (analysis in the module doc).
pub(crate) const ERROR_BOUND_UNITS: u128 = 64;
/// The growth rate as the fraction `λ = 3/50000` per millisecond (`0.00006`).
const RATE_NUMERATOR: u128 = 3;
const RATE_DENOMINATOR: u64 = 50_000;

/// A crash multiplier in unsigned Q32.32 fixed point: `bits / 2^32`, from 1.00× to
/// 1,000,000×.
///
/// 32 fraction bits resolve `2.3·10^-10`, far finer than a chip of any bet that could
/// matter, and the largest value (`10^6·2^32 < 2^52`) times a 64-bit amount fits in
/// 128 bits, as does a 52-bit uniform draw times any multiplier.
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
pub struct Multiplier(u64);

impl Multiplier {
    /// Fraction bits of the fixed-point format.
    pub const FRACTION_BITS: u32 = 32;
    /// 1.00×.
    pub const ONE: Multiplier = Multiplier(1 << 32);
    /// The largest multiplier, 1,000,000×, where every round ends.
    pub const MAX: Multiplier = Multiplier(1_000_000 << 32);
    /// The first elapsed millisecond at which the multiplier is [`Multiplier::MAX`]
    /// (`e^(0.00006·230259) ≥ 10^6 > e^(0.00006·230258)`).
    pub const T_MAX_MS: u64 = 230_259;
    /// The largest multiplier in hundredths (1,000,000.00×).
    pub const MAX_HUNDREDTHS: u64 = 100_000_000;

    /// The multiplier with the raw value `bits / 2^32`.
    ///
    /// # Errors
    /// [`CrashError::MultiplierOutOfRange`] unless `ONE.bits() ≤ bits ≤ MAX.bits()`.
    pub const fn from_bits(bits: u64) -> Result<Multiplier, CrashError> {
        if bits >= Self::ONE.0 && bits <= Self::MAX.0 {
            Ok(Multiplier(bits))
        } else {
            Err(CrashError::MultiplierOutOfRange { bits })
        }
    }

    /// The raw value: the multiplier times `2^32`.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The multiplier `elapsed_ms` milliseconds after the round started:
    /// `floor(e^(6·t/100000)·2^32)` exactly, or [`Multiplier::MAX`] from
    /// [`Multiplier::T_MAX_MS`] on.
    pub fn at(elapsed_ms: u64) -> Multiplier {
        if elapsed_ms >= Self::T_MAX_MS {
            return Self::MAX;
        }
        let (bits, _) = exp_bits(elapsed_ms);
        Multiplier(bits.min(Self::MAX.0))
    }

    /// The smallest multiplier at or above `hundredths / 100` (so `231` is 2.31×,
    /// rounded up to the next `2^-32`, which is what a player who types "2.31" gets:
    /// at least 2.31× and displayed as "2.31×").
    ///
    /// # Errors
    /// [`CrashError::HundredthsOutOfRange`] unless `100 ≤ hundredths ≤ 100,000,000`.
    pub const fn from_hundredths(hundredths: u64) -> Result<Multiplier, CrashError> {
        if hundredths < 100 || hundredths > Self::MAX_HUNDREDTHS {
            return Err(CrashError::HundredthsOutOfRange { hundredths });
        }
        // hundredths < 2^27, so the shift cannot overflow.
        Ok(Multiplier((hundredths << 32).div_ceil(100)))
    }

    /// The multiplier in hundredths, rounded down (2.3199× is 231).
    pub const fn hundredths(self) -> u64 {
        // bits ≤ 2^52, so bits · 100 < 2^59.
        (self.0 * 100) >> 32
    }

    /// What a stake of `amount` returns at this multiplier:
    /// `floor(amount · bits / 2^32)`, rounded down to the chip (in the house's
    /// favour). `None` only if the result does not fit in 64 bits.
    pub fn payout(self, amount: Chips) -> Option<Chips> {
        let value = (u128::from(amount.get()) * u128::from(self.0)) >> Self::FRACTION_BITS;
        u64::try_from(value).ok().map(Chips)
    }

    /// The first whole elapsed millisecond at which the multiplier is at least `self`
    /// (0 for 1.00×, [`Multiplier::T_MAX_MS`] for the maximum) — for display and
    /// analysis; settlement never needs it.
    pub fn time_to_reach(self) -> u64 {
        // Invariant: at(lo) < self ≤ at(hi), after handling t = 0.
        if Self::at(0) >= self {
            return 0;
        }
        let (mut lo, mut hi) = (0u64, Self::T_MAX_MS);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if Self::at(mid) >= self {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }
}

impl fmt::Display for Multiplier {
    /// "2.31×": two decimals, rounded down.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.hundredths();
        write!(f, "{}.{:02}×", h / 100, h % 100)
    }
}

/// `(floor(e^(3t/50000)·2^32), margin)` for `t < T_MAX_MS`, where `margin` is how far
/// (in work units) the discarded bits are from flipping the floor, minus the error
/// bound; the floor is proven exact when `margin > 0`.
pub(crate) fn exp_bits(t: u64) -> (u64, i128) {
    let (k, e) = exp_work(t);
    // k ≤ 19 on the domain, so the shift is at least 69.
    let shift = WORK_BITS - Multiplier::FRACTION_BITS - k;
    let bits = e >> shift;
    let discarded = e & ((1u128 << shift) - 1);
    let gap = discarded.min((1u128 << shift) - discarded);
    let margin = i128::try_from(gap).unwrap_or(i128::MAX) - ERROR_BOUND_UNITS as i128;
    (u64::try_from(bits).unwrap_or(u64::MAX), margin)
}

/// `(k, E)` with `e^(3t/50000) ≈ 2^k · E / 2^120` and `E ∈ [2^120, 2^121)`.
/// Only called for `t < T_MAX_MS`, where every intermediate is bounded as noted.
fn exp_work(t: u64) -> (u32, u128) {
    let n = RATE_NUMERATOR * u128::from(t); // < 2^20
    let whole = n / u128::from(RATE_DENOMINATOR); // ≤ 13
    let rest = n % u128::from(RATE_DENOMINATOR);
    let x = (whole << WORK_BITS) | frac_div(rest, RATE_DENOMINATOR, WORK_BITS); // < 2^124
    let k = x / LN2_WORK; // ≤ 19
    let r = x - k * LN2_WORK; // < LN2_WORK
    let mut acc = WORK_ONE;
    let mut i = TAYLOR_TERMS;
    while i > 0 {
        // acc ← 1 + r·acc / i; acc < 2^121 throughout.
        acc = WORK_ONE + mul_shr_work(r, acc) / i;
        i -= 1;
    }
    // k ≤ 19 fits in u32 on the domain.
    (u32::try_from(k).unwrap_or(0), acc)
}

/// `floor(numerator · 2^bits / denominator)` for `numerator < denominator`, by long
/// division in steps of at most 64 bits so nothing overflows.
fn frac_div(numerator: u128, denominator: u64, bits: u32) -> u128 {
    let d = u128::from(denominator);
    let (mut quotient, mut remainder, mut left) = (0u128, numerator, bits);
    while left > 0 {
        let step = left.min(64);
        let a = remainder << step; // remainder < d < 2^64
        quotient = (quotient << step) | (a / d);
        remainder = a % d;
        left -= step;
    }
    quotient
}

/// `floor(a·b / 2^120)` with a 256-bit intermediate, for `a·b < 2^248`.
fn mul_shr_work(a: u128, b: u128) -> u128 {
    const LOW: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & LOW);
    let (b1, b0) = (b >> 64, b & LOW);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & LOW) + (p10 & LOW);
    let low = (p00 & LOW) | ((mid & LOW) << 64);
    let high = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (high << (128 - WORK_BITS)) | (low >> WORK_BITS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use num_traits::{One, Zero};

    #[test]
    fn ln2_constant_is_the_floor_of_ln2_times_2_pow_120() {
        // ln 2 = Σ_{i≥1} 1/(i·2^i); the tail after n terms is below 1/((n+1)·2^n).
        // With 56 guard bits, bound `scale·ln 2` from both sides exactly with big
        // integers and check both bounds floor to the same 120-bit value.
        let n: u32 = 160;
        let scale = BigUint::one() << (WORK_BITS + n + 16);
        let mut lower = BigUint::zero(); // Σ floor(scale / (i·2^i)) ≤ scale·S_N
        for i in 1..=n {
            lower += &scale / (BigUint::from(i) << i);
        }
        // scale·ln2 ∈ [lower, lower + n + scale/((n+1)·2^n) + 1).
        let upper = &lower + BigUint::from(n) + (&scale / (BigUint::from(n + 1) << n)) + 1u32;
        let shift = n + 16;
        let lo: BigUint = &lower >> shift;
        let hi: BigUint = &upper >> shift;
        assert_eq!(lo, hi, "bounds too loose to decide the floor");
        assert_eq!(lo, BigUint::from(LN2_WORK));
    }

    #[test]
    fn wide_product_matches_big_integers() {
        let cases = [
            (0u128, 0u128),
            (WORK_ONE, WORK_ONE),
            (LN2_WORK, (1u128 << 121) - 1),
            (u128::MAX >> 8, u128::MAX >> 8),
            (
                0x1234_5678_9abc_def0_0fed_cba9_8765_4321,
                0xdead_beef_cafe_babe_f00d_1234_5678_9abc,
            ),
        ];
        for (a, b) in cases {
            let expected: BigUint = (BigUint::from(a) * BigUint::from(b)) >> WORK_BITS;
            if expected.bits() <= 128 {
                assert_eq!(BigUint::from(mul_shr_work(a, b)), expected, "{a:x} · {b:x}");
            }
        }
    }

    #[test]
    fn long_division_matches_big_integers() {
        for (n, d) in [
            (0u128, 7u64),
            (1, 3),
            (49_999, 50_000),
            (12_345, 50_000),
            (5, u64::MAX),
        ] {
            let expected = (BigUint::from(n) << WORK_BITS) / BigUint::from(d);
            assert_eq!(BigUint::from(frac_div(n, d, WORK_BITS)), expected);
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(Multiplier::at(0), Multiplier::ONE);
        assert_eq!(Multiplier::at(Multiplier::T_MAX_MS), Multiplier::MAX);
        assert_eq!(Multiplier::at(u64::MAX), Multiplier::MAX);
        assert!(Multiplier::at(Multiplier::T_MAX_MS - 1) < Multiplier::MAX);
        // e^(0.00006 · 11552) = 1.99999…, e^(0.00006 · 11553) = 2.0001…
        assert_eq!(Multiplier::at(11_552).to_string(), "1.99×");
        assert_eq!(Multiplier::at(11_553).to_string(), "2.00×");
        assert_eq!(Multiplier::at(76_753).hundredths(), 10_000);
        assert_eq!(Multiplier::MAX.to_string(), "1000000.00×");
    }

    #[test]
    fn hundredths_round_trip_and_round_up() {
        for h in [
            100,
            101,
            150,
            199,
            200,
            231,
            1000,
            12_345,
            Multiplier::MAX_HUNDREDTHS,
        ] {
            let m = Multiplier::from_hundredths(h).unwrap();
            assert_eq!(m.hundredths(), h);
            assert!(
                u128::from(m.bits()) * 100 >= u128::from(h) << 32,
                "at least h/100"
            );
            assert!(
                u128::from(m.bits() - 1) * 100 < u128::from(h) << 32,
                "the smallest such"
            );
        }
        assert_eq!(
            Multiplier::from_hundredths(231).unwrap().to_string(),
            "2.31×"
        );
        assert_eq!(Multiplier::from_hundredths(100).unwrap(), Multiplier::ONE);
        assert_eq!(
            Multiplier::from_hundredths(99),
            Err(CrashError::HundredthsOutOfRange { hundredths: 99 })
        );
        assert!(Multiplier::from_hundredths(Multiplier::MAX_HUNDREDTHS + 1).is_err());
        assert!(Multiplier::from_hundredths(u64::MAX).is_err());
    }

    #[test]
    fn bits_are_range_checked() {
        assert!(Multiplier::from_bits(Multiplier::ONE.bits() - 1).is_err());
        assert!(Multiplier::from_bits(Multiplier::MAX.bits() + 1).is_err());
        assert!(Multiplier::from_bits(0).is_err());
        assert_eq!(
            Multiplier::from_bits(Multiplier::ONE.bits()),
            Ok(Multiplier::ONE)
        );
    }

    #[test]
    fn payout_rounds_down_to_the_chip() {
        let m = Multiplier::from_hundredths(101).unwrap();
        assert_eq!(m.payout(Chips(100)), Some(Chips(101)));
        assert_eq!(m.payout(Chips(99)), Some(Chips(99)));
        assert_eq!(
            Multiplier::ONE.payout(Chips(u64::MAX)),
            Some(Chips(u64::MAX))
        );
        assert_eq!(Multiplier::MAX.payout(Chips(u64::MAX)), None);
        assert_eq!(
            Multiplier::at(11_553).payout(Chips(1_000)),
            Some(Chips(2_000))
        );
    }

    #[test]
    fn time_to_reach_inverts_at() {
        for h in [
            100,
            101,
            150,
            200,
            231,
            1000,
            10_000,
            Multiplier::MAX_HUNDREDTHS,
        ] {
            let m = Multiplier::from_hundredths(h).unwrap();
            let t = m.time_to_reach();
            assert!(Multiplier::at(t) >= m);
            assert!(t == 0 || Multiplier::at(t - 1) < m);
        }
        assert_eq!(Multiplier::MAX.time_to_reach(), Multiplier::T_MAX_MS);
        assert_eq!(Multiplier::ONE.time_to_reach(), 0);
    }

    /// Every value on the domain is exact by the error analysis (the discarded bits
    /// are never within the error bound of a rounding boundary) and the sequence never
    /// decreases. The vectors test compares the same values with the reference.
    #[test]
    fn every_value_is_proven_exact_and_monotone() {
        let mut previous = 0u64;
        let mut smallest_margin = i128::MAX;
        for t in 1..Multiplier::T_MAX_MS {
            let (bits, margin) = exp_bits(t);
            assert!(margin > 0, "t = {t}: floor not certain");
            assert!(bits >= previous, "t = {t}: decreasing");
            assert!(bits < Multiplier::MAX.bits());
            smallest_margin = smallest_margin.min(margin);
            previous = bits;
        }
        // The smallest gap in work units is ~2^53 (1.9·10^-6 of a bit at t = 195,455,
        // shift 72), against an error bound of 2^6.
        assert!(
            smallest_margin > 1 << 50,
            "smallest margin {smallest_margin}"
        );
    }
}
