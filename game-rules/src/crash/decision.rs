//! The crash decisions: the instant crash and the survival of each interval.
//!
//! For the interval `(t_{k−1}, t_k]` with multipliers `m_{k−1} ≤ m_k`, the randomness
//! produced after tick `k` was fixed gives:
//!
//! - only for the first interval, `instant = stream(CrashInstant, label).below(100) == 0`
//!   (exactly 1 in 100: `below` rejects the biased range);
//! - `u = stream(CrashInterval, label).uniform()`, a numerator over `2^52`.
//!
//! A target `x` with `m_{k−1} < x ≤ m_k` is *reached* iff `!instant` and
//! `u·x ≤ m_{k−1}·2^52` (compared exactly in `u128`: both sides are below `2^105`).
//! The interval survives iff `m_k` is reached. So the round crashes at the real
//! number `c = m_{k−1}·2^52 / u` (never, in this interval, if `u = 0`), and in fixed
//! point the crash point `floor(m_{k−1}·2^52 / u)` is exactly the largest multiplier
//! reached; an instant crash is at 1.00×.
//!
//! Given the round reached `m_{k−1}`, `x` is reached with probability
//! `reach_count(m_{k−1}, x) / 2^52`, which lies in `[m_{k−1}/x, m_{k−1}/x + 2^-52]`
//! — the survival `e^(−λ·Δt)` of the design, up to the grid of `u`.

use super::{CrashError, Multiplier};
use crate::{Purpose, Randomness, Unit52};

/// One round in this many crashes instantly at 1.00×.
pub const INSTANT_CRASH_ONE_IN: u64 = 100;

/// `2^52`: the denominator of every draw.
const UNIT: u128 = 1 << Unit52::BITS;

/// The raw draws that decide one interval, read from the beacon randomness (or, in a
/// simulation, from any stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Draws {
    /// Whether the round crashes instantly at 1.00× (only ever set for the first
    /// interval).
    pub instant_crash: bool,
    /// The uniform draw `u` that decides the interval.
    pub draw: Unit52,
}

impl Draws {
    /// Reads the draws for one interval: the instant crash (only if `first`, the
    /// interval that starts at the round's start) from
    /// `stream(CrashInstant, label).below(100) == 0`, and `u` from
    /// `stream(CrashInterval, label).uniform()`.
    ///
    /// `label` tells apart the decisions made from one beacon output; the ledger uses
    /// table id, round number and tick index.
    pub fn derive(randomness: &Randomness, label: &[u8], first: bool) -> Draws {
        let instant_crash = first
            && randomness
                .stream(Purpose::CrashInstant, label)
                .below(INSTANT_CRASH_ONE_IN)
                == 0;
        let draw = randomness.stream(Purpose::CrashInterval, label).uniform();
        Draws {
            instant_crash,
            draw,
        }
    }
}

/// The decision for one interval `(t_{k−1}, t_k]`: what it reached and whether it
/// survived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IntervalDecision {
    from: Multiplier,
    to: Multiplier,
    draws: Draws,
}

impl IntervalDecision {
    /// Decides the interval from `from = m_{k−1}` to `to = m_k` with `draws`.
    ///
    /// # Errors
    /// [`CrashError::IntervalBackwards`] if `to < from` (tick multipliers never
    /// decrease).
    pub fn new(draws: Draws, from: Multiplier, to: Multiplier) -> Result<Self, CrashError> {
        if to < from {
            return Err(CrashError::IntervalBackwards { from, to });
        }
        Ok(IntervalDecision { from, to, draws })
    }

    /// Derives the draws from `randomness` and `label` ([`Draws::derive`]) and
    /// decides the interval.
    ///
    /// # Errors
    /// As [`IntervalDecision::new`].
    pub fn derive(
        randomness: &Randomness,
        label: &[u8],
        first: bool,
        from: Multiplier,
        to: Multiplier,
    ) -> Result<Self, CrashError> {
        Self::new(Draws::derive(randomness, label, first), from, to)
    }

    /// The multiplier at the start of the interval, `m_{k−1}`.
    pub fn from(&self) -> Multiplier {
        self.from
    }

    /// The multiplier at the end of the interval, `m_k`.
    pub fn to(&self) -> Multiplier {
        self.to
    }

    /// The draws that decided it.
    pub fn draws(&self) -> Draws {
        self.draws
    }

    /// Whether a target inside the interval is reached: `Some(!instant && u·x ≤
    /// m_{k−1}·2^52)` for `x ≤ m_k`, and `None` for `x > m_k`, which later
    /// intervals decide. (Targets at or below `m_{k−1}` are reached unless the round
    /// crashed instantly.)
    pub fn reaches(&self, target: Multiplier) -> Option<bool> {
        if target > self.to {
            return None;
        }
        Some(!self.draws.instant_crash && reaches_with(self.draws.draw, self.from, target))
    }

    /// Whether the round survives the whole interval, i.e. reaches `m_k`.
    pub fn survives(&self) -> bool {
        !self.draws.instant_crash && reaches_with(self.draws.draw, self.from, self.to)
    }

    /// Where the round crashed if it did not survive: 1.00× for an instant crash,
    /// otherwise `floor(m_{k−1}·2^52 / u)`, the largest multiplier reached, which
    /// lies in `[m_{k−1}, m_k)`. `None` if the interval survived.
    pub fn crash_point(&self) -> Option<Multiplier> {
        if self.survives() {
            return None;
        }
        if self.draws.instant_crash {
            return Some(Multiplier::ONE);
        }
        // Not surviving means u·m_k > m_{k−1}·2^52 ≥ 0, so u > 0, and the quotient is
        // below m_k ≤ MAX and at least m_{k−1} because u < 2^52.
        let u = u128::from(self.draws.draw.numerator());
        let bits = u128::from(self.from.bits()) * UNIT / u.max(1);
        let bits = u64::try_from(bits).unwrap_or(self.to.bits());
        Some(Multiplier::from_bits(bits).unwrap_or(self.from))
    }
}

/// `u·target ≤ from·2^52`, exactly.
fn reaches_with(draw: Unit52, from: Multiplier, target: Multiplier) -> bool {
    u128::from(draw.numerator()) * u128::from(target.bits()) <= u128::from(from.bits()) * UNIT
}

/// How many of the `2^52` equally likely draws `u` reach `target` from `from`
/// (`u·target ≤ from·2^52`): `2^52` if `target ≤ from`, otherwise
/// `floor(from·2^52 / target) + 1`. This is the exact count behind every
/// probability in [`super::analysis`].
pub fn reach_count(from: Multiplier, target: Multiplier) -> u64 {
    if target <= from {
        return 1 << Unit52::BITS;
    }
    let below = u128::from(from.bits()) * UNIT / u128::from(target.bits());
    // from < target makes the quotient < 2^52, so the count is at most 2^52.
    u64::try_from(below + 1).unwrap_or(1 << Unit52::BITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(u: u64) -> Unit52 {
        Unit52::new(u).unwrap()
    }

    fn decision(instant: bool, u: u64, from: Multiplier, to: Multiplier) -> IntervalDecision {
        let draws = Draws {
            instant_crash: instant,
            draw: unit(u),
        };
        IntervalDecision::new(draws, from, to).unwrap()
    }

    fn m(hundredths: u64) -> Multiplier {
        Multiplier::from_hundredths(hundredths).unwrap()
    }

    #[test]
    fn reach_count_is_the_boundary_of_the_rule() {
        let pairs = [
            (Multiplier::ONE, m(101)),
            (Multiplier::ONE, m(200)),
            (m(150), m(151)),
            (Multiplier::at(1000), Multiplier::at(1050)),
            (Multiplier::at(230_000), Multiplier::MAX),
            (Multiplier::ONE, Multiplier::MAX),
        ];
        for (from, target) in pairs {
            let count = reach_count(from, target);
            assert!(count > 0 && count < 1 << 52);
            assert!(reaches_with(unit(count - 1), from, target));
            assert!(!reaches_with(unit(count), from, target));
            assert!(reaches_with(unit(0), from, target));
        }
        assert_eq!(reach_count(m(200), m(200)), 1 << 52);
        assert_eq!(reach_count(m(200), m(150)), 1 << 52);
        assert!(reaches_with(unit((1 << 52) - 1), m(200), m(200)));
    }

    #[test]
    fn crash_point_is_the_largest_target_reached() {
        let (from, to) = (m(200), m(250));
        for u in [
            1u64 << 51,
            (1 << 52) - 1,
            3_000_000_000_000_000,
            1_234_567_890_123_456,
        ] {
            let d = decision(false, u, from, to);
            match d.crash_point() {
                None => assert!(d.survives()),
                Some(c) => {
                    assert!(!d.survives());
                    assert!(from <= c && c < to);
                    assert_eq!(d.reaches(c), Some(true));
                    let above = Multiplier::from_bits(c.bits() + 1).unwrap();
                    assert_eq!(d.reaches(above), Some(false));
                }
            }
        }
        // u = 2^51 from 2.00×: the crash point is exactly 4.00×, beyond 2.50×.
        assert!(decision(false, 1 << 51, from, to).survives());
        // u = 2^52·0.9 from 2.00× crashes at 2.22×.
        let d = decision(false, (1 << 52) / 10 * 9, from, to);
        assert_eq!(
            d.crash_point().map(|c| c.to_string()),
            Some("2.22×".to_string())
        );
        assert_eq!(d.reaches(m(222)), Some(true));
        assert_eq!(d.reaches(m(223)), Some(false));
        assert_eq!(d.reaches(m(251)), None);
    }

    #[test]
    fn zero_draw_never_crashes_and_instant_always_does() {
        let d = decision(false, 0, Multiplier::ONE, Multiplier::MAX);
        assert!(d.survives());
        assert_eq!(d.crash_point(), None);
        let d = decision(true, 0, Multiplier::ONE, m(101));
        assert!(!d.survives());
        assert_eq!(d.crash_point(), Some(Multiplier::ONE));
        assert_eq!(d.reaches(Multiplier::ONE), Some(false));
    }

    #[test]
    fn zero_length_interval_always_survives_unless_instant() {
        let x = Multiplier::at(5_000);
        assert!(decision(false, (1 << 52) - 1, x, x).survives());
        assert!(!decision(true, 0, x, x).survives());
    }

    #[test]
    fn backwards_interval_is_rejected() {
        let draws = Draws {
            instant_crash: false,
            draw: unit(0),
        };
        assert_eq!(
            IntervalDecision::new(draws, m(200), m(150)),
            Err(CrashError::IntervalBackwards {
                from: m(200),
                to: m(150)
            })
        );
    }

    #[test]
    fn instant_crash_is_only_drawn_for_the_first_interval() {
        // Find a beacon output whose first interval crashes instantly.
        let found = (0u32..5_000).find_map(|i| {
            let r = Randomness::from_beacon_output(&i.to_be_bytes());
            Draws::derive(&r, b"tick-1", true)
                .instant_crash
                .then_some(r)
        });
        let r = found.expect("1 in 100 should appear within 5000 tries");
        assert!(!Draws::derive(&r, b"tick-1", false).instant_crash);
        assert_eq!(
            Draws::derive(&r, b"tick-1", true).draw,
            Draws::derive(&r, b"tick-1", false).draw
        );
    }
}
