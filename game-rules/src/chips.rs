//! Amounts of the native token, in its smallest unit.

use core::fmt;

/// An amount in chips, the smallest unit of the native token.
///
/// Every amount that decides money is an integer; arithmetic is checked so an
/// overflow becomes an error at the edge instead of a wrapped balance.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Chips(pub u64);

impl Chips {
    /// No chips.
    pub const ZERO: Chips = Chips(0);

    /// The raw count of chips.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Chips) -> Option<Chips> {
        self.0.checked_add(other.0).map(Chips)
    }

    /// `self - other`, or `None` if it would go below zero.
    pub fn checked_sub(self, other: Chips) -> Option<Chips> {
        self.0.checked_sub(other.0).map(Chips)
    }

    /// `self × numerator / denominator`, rounded down (towards the house).
    ///
    /// Computed in 128 bits so it cannot overflow for any `u64` inputs; returns
    /// `None` if the result does not fit in 64 bits or `denominator` is zero.
    pub fn mul_ratio_floor(self, numerator: u64, denominator: u64) -> Option<Chips> {
        if denominator == 0 {
            return None;
        }
        let value = u128::from(self.0) * u128::from(numerator) / u128::from(denominator);
        u64::try_from(value).ok().map(Chips)
    }

    /// `self × numerator / denominator`, rounded up (towards the house when the
    /// result is something the player pays, such as a commission).
    pub fn mul_ratio_ceil(self, numerator: u64, denominator: u64) -> Option<Chips> {
        if denominator == 0 {
            return None;
        }
        let product = u128::from(self.0) * u128::from(numerator);
        let value = product.div_ceil(u128::from(denominator));
        u64::try_from(value).ok().map(Chips)
    }
}

impl fmt::Display for Chips {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} chips", self.0)
    }
}

impl From<u64> for Chips {
    fn from(value: u64) -> Self {
        Chips(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_rounding_goes_to_the_house() {
        assert_eq!(Chips(5).mul_ratio_floor(7, 6), Some(Chips(5)));
        assert_eq!(Chips(6).mul_ratio_floor(7, 6), Some(Chips(7)));
        assert_eq!(Chips(19).mul_ratio_ceil(5, 100), Some(Chips(1)));
        assert_eq!(Chips(20).mul_ratio_ceil(5, 100), Some(Chips(1)));
        assert_eq!(Chips(21).mul_ratio_ceil(5, 100), Some(Chips(2)));
        assert_eq!(Chips(u64::MAX).mul_ratio_floor(2, 1), None);
        assert_eq!(Chips(1).mul_ratio_floor(1, 0), None);
    }

    #[test]
    fn checked_arithmetic_never_wraps() {
        assert_eq!(Chips(1).checked_sub(Chips(2)), None);
        assert_eq!(Chips(u64::MAX).checked_add(Chips(1)), None);
        assert_eq!(Chips(2).checked_sub(Chips(1)), Some(Chips(1)));
    }
}
