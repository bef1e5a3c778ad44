//! From a beacon output to dice, uniform values and bounded integers.
//!
//! The derivation is versioned; version 1 is:
//!
//! 1. `r = blake3("bitcraps/v1/randomness" ‖ σ)`, where `σ` is the beacon output
//!    (the bytes of the threshold signature).
//! 2. For each use, a stream: the blake3 extendable output of the keyed hash with
//!    key `r` over `purpose ‖ 0x00 ‖ len(label) as u64 little-endian ‖ label`. The
//!    purpose names the game decision ([`Purpose`]); the label tells apart several
//!    decisions of one purpose from the same beacon output (say, one per table).
//! 3. From a stream:
//!    - a die: take bytes, reject any `≥ 252`, die `= 1 + b mod 6` (252 is the
//!      largest multiple of 6 that fits in a byte, so there is no modulo bias);
//!    - a 64-bit word: the next 8 bytes, big-endian;
//!    - a uniform `U ∈ [0, 1)`: the top 52 bits of a word, as `u / 2^52`;
//!    - an integer below `n`: words with rejection of the biased top range.
//!
//! `vectors/randomness-v1.json` holds published vectors for every step so any
//! other implementation (and the explorer) can check itself against this one.

use core::fmt;

/// The version of the derivation implemented here.
pub const DERIVATION_VERSION: u32 = 1;

/// Domain separation for `r = blake3(domain ‖ σ)`.
pub const RANDOMNESS_DOMAIN: &[u8] = b"bitcraps/v1/randomness";

/// What a stream is used for. Each purpose has its own domain string so two
/// decisions can never read the same bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// The two dice of one craps roll.
    CrapsRoll,
    /// Whether a crash round crashes instantly at 1.00×.
    CrashInstant,
    /// Whether a crash round survives one interval between ticks.
    CrashInterval,
    /// Offline simulation (never used to settle a real bet).
    Simulation,
}

impl Purpose {
    /// The domain string of this purpose, part of the published derivation.
    pub const fn domain(self) -> &'static [u8] {
        match self {
            Purpose::CrapsRoll => b"bitcraps/v1/craps-roll",
            Purpose::CrashInstant => b"bitcraps/v1/crash-instant",
            Purpose::CrashInterval => b"bitcraps/v1/crash-interval",
            Purpose::Simulation => b"bitcraps/v1/simulation",
        }
    }
}

/// The 32-byte randomness `r` derived from one beacon output.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Randomness([u8; 32]);

impl Randomness {
    /// Derives `r = blake3(RANDOMNESS_DOMAIN ‖ σ)` from a beacon output `σ`.
    pub fn from_beacon_output(sigma: &[u8]) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(RANDOMNESS_DOMAIN);
        hasher.update(sigma);
        Randomness(*hasher.finalize().as_bytes())
    }

    /// Wraps an already derived `r` (for example one read back from storage).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Randomness(bytes)
    }

    /// The 32 bytes of `r`.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The stream for one decision of `purpose`, told apart by `label`.
    pub fn stream(&self, purpose: Purpose, label: &[u8]) -> RandomStream {
        let mut hasher = blake3::Hasher::new_keyed(&self.0);
        hasher.update(purpose.domain());
        hasher.update(&[0]);
        hasher.update(&(label.len() as u64).to_le_bytes());
        hasher.update(label);
        RandomStream {
            reader: hasher.finalize_xof(),
            buffer: [0; 64],
            position: 64,
        }
    }
}

impl fmt::Debug for Randomness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Randomness(")?;
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        write!(f, ")")
    }
}

/// An endless, deterministic stream of bytes for one decision.
pub struct RandomStream {
    reader: blake3::OutputReader,
    buffer: [u8; 64],
    position: usize,
}

impl RandomStream {
    /// The next byte of the stream.
    pub fn next_byte(&mut self) -> u8 {
        if self.position == self.buffer.len() {
            self.reader.fill(&mut self.buffer);
            self.position = 0;
        }
        let byte = self.buffer[self.position];
        self.position += 1;
        byte
    }

    /// The next 8 bytes as a big-endian word.
    pub fn next_u64(&mut self) -> u64 {
        let mut word = [0u8; 8];
        for byte in &mut word {
            *byte = self.next_byte();
        }
        u64::from_be_bytes(word)
    }

    /// One fair die: bytes `≥ 252` are rejected, then `1 + b mod 6`.
    pub fn die(&mut self) -> Die {
        loop {
            let byte = self.next_byte();
            if byte < 252 {
                return Die(1 + byte % 6);
            }
        }
    }

    /// Two dice, the first drawn first.
    pub fn roll(&mut self) -> Roll {
        let first = self.die();
        let second = self.die();
        Roll { first, second }
    }

    /// A uniform value in `[0, 1)` with 52 bits: the top 52 bits of a word.
    pub fn uniform(&mut self) -> Unit52 {
        Unit52(self.next_u64() >> 12)
    }

    /// A uniform integer in `[0, bound)`, by rejecting words in the top partial
    /// range so every value is equally likely. Returns 0 when `bound` is 0.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        // The largest multiple of `bound` that fits: words at or above it are rejected.
        let zone = u64::MAX - (u64::MAX % bound + 1) % bound;
        loop {
            let word = self.next_u64();
            if word <= zone {
                return word % bound;
            }
        }
    }
}

/// A uniform value `u / 2^52` with `u ∈ [0, 2^52)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Unit52(u64);

impl Unit52 {
    /// The number of bits of a [`Unit52`].
    pub const BITS: u32 = 52;
    /// `2^52`, the denominator of every [`Unit52`].
    pub const SCALE: u64 = 1 << 52;

    /// The value `u / 2^52` from its numerator; `None` if `u ≥ 2^52`.
    pub const fn new(numerator: u64) -> Option<Self> {
        if numerator < Self::SCALE {
            Some(Unit52(numerator))
        } else {
            None
        }
    }

    /// The numerator `u` of `u / 2^52`.
    pub const fn numerator(self) -> u64 {
        self.0
    }
}

/// One die, showing 1 to 6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Die(u8);

impl Die {
    /// The die showing `face`; `None` unless `1 ≤ face ≤ 6`.
    pub const fn new(face: u8) -> Option<Self> {
        if face >= 1 && face <= 6 {
            Some(Die(face))
        } else {
            None
        }
    }

    /// The face shown, 1 to 6.
    pub const fn face(self) -> u8 {
        self.0
    }
}

/// Two dice thrown together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Roll {
    /// The first die drawn from the stream.
    pub first: Die,
    /// The second die drawn from the stream.
    pub second: Die,
}

impl Roll {
    /// The roll of `first` and `second`; `None` unless both are 1 to 6.
    pub const fn new(first: u8, second: u8) -> Option<Self> {
        match (Die::new(first), Die::new(second)) {
            (Some(first), Some(second)) => Some(Roll { first, second }),
            _ => None,
        }
    }

    /// The sum of the two faces, 2 to 12.
    pub const fn total(self) -> u8 {
        self.first.0 + self.second.0
    }

    /// Whether both dice show the same face (a "hard" number, or a hard hop).
    pub const fn is_pair(self) -> bool {
        self.first.0 == self.second.0
    }

    /// All 36 equally likely rolls, in a fixed order.
    pub fn all() -> impl Iterator<Item = Roll> {
        (1..=6u8).flat_map(|a| {
            (1..=6u8).map(move |b| Roll {
                first: Die(a),
                second: Die(b),
            })
        })
    }
}

impl fmt::Display for Roll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first.0, self.second.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Vectors {
        version: u32,
        cases: Vec<Case>,
    }

    #[derive(Deserialize)]
    struct Case {
        sigma: String,
        randomness: String,
        streams: Vec<StreamCase>,
    }

    #[derive(Deserialize)]
    struct StreamCase {
        purpose: String,
        label: String,
        first_bytes: String,
        rolls: Vec<[u8; 2]>,
        uniforms: Vec<u64>,
        below_100: Vec<u64>,
    }

    fn purpose(name: &str) -> Purpose {
        match name {
            "craps-roll" => Purpose::CrapsRoll,
            "crash-instant" => Purpose::CrashInstant,
            "crash-interval" => Purpose::CrashInterval,
            "simulation" => Purpose::Simulation,
            other => panic!("unknown purpose {other} in vectors"),
        }
    }

    #[test]
    fn published_vectors_match() {
        let vectors: Vectors =
            serde_json::from_str(include_str!("../vectors/randomness-v1.json")).unwrap();
        assert_eq!(vectors.version, DERIVATION_VERSION);
        assert!(!vectors.cases.is_empty());
        for case in &vectors.cases {
            let sigma = hex::decode(&case.sigma).unwrap();
            let r = Randomness::from_beacon_output(&sigma);
            assert_eq!(hex::encode(r.as_bytes()), case.randomness);
            for s in &case.streams {
                let label = hex::decode(&s.label).unwrap();
                let p = purpose(&s.purpose);
                let mut stream = r.stream(p, &label);
                let bytes: Vec<u8> = (0..s.first_bytes.len() / 2)
                    .map(|_| stream.next_byte())
                    .collect();
                assert_eq!(hex::encode(bytes), s.first_bytes);
                let mut stream = r.stream(p, &label);
                for roll in &s.rolls {
                    let got = stream.roll();
                    assert_eq!([got.first.face(), got.second.face()], *roll);
                }
                let mut stream = r.stream(p, &label);
                for u in &s.uniforms {
                    assert_eq!(stream.uniform().numerator(), *u);
                }
                let mut stream = r.stream(p, &label);
                for v in &s.below_100 {
                    assert_eq!(stream.below(100), *v);
                }
            }
        }
    }

    #[test]
    fn dice_are_fair_over_every_accepted_byte() {
        let mut counts = [0u32; 7];
        for byte in 0u8..252 {
            counts[usize::from(1 + byte % 6)] += 1;
        }
        assert!(counts[1..].iter().all(|&c| c == 42));
    }

    #[test]
    fn purposes_and_labels_separate_streams() {
        let r = Randomness::from_beacon_output(b"sigma");
        let a = r.stream(Purpose::CrapsRoll, b"table-1").next_u64();
        let b = r.stream(Purpose::CrapsRoll, b"table-2").next_u64();
        let c = r.stream(Purpose::CrashInterval, b"table-1").next_u64();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
    }

    #[test]
    fn constructors_reject_out_of_range() {
        assert!(Die::new(0).is_none());
        assert!(Die::new(7).is_none());
        assert!(Roll::new(6, 6).is_some());
        assert!(Unit52::new(Unit52::SCALE).is_none());
        assert!(Unit52::new(Unit52::SCALE - 1).is_some());
        assert_eq!(Roll::all().count(), 36);
    }

    proptest::proptest! {
        #[test]
        fn below_stays_below(seed in proptest::collection::vec(proptest::num::u8::ANY, 0..64), bound in 1u64..) {
            let mut stream = Randomness::from_beacon_output(&seed).stream(Purpose::Simulation, b"");
            for _ in 0..8 {
                proptest::prop_assert!(stream.below(bound) < bound);
            }
        }

        #[test]
        fn rolls_are_valid(seed in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut stream = Randomness::from_beacon_output(&seed).stream(Purpose::CrapsRoll, b"t");
            for _ in 0..16 {
                let roll = stream.roll();
                proptest::prop_assert!((2..=12).contains(&roll.total()));
            }
        }
    }
}
