//! The published vectors (`vectors/crash-v1.json`, written by the independent
//! `vectors/generate_crash.py`) against this implementation.

use num_bigint::BigInt;
use num_rational::BigRational;
use serde::Deserialize;

use super::analysis::{TickSchedule, auto_cash_out};
use super::{Draws, IntervalDecision, Multiplier};
use crate::Randomness;

#[derive(Deserialize)]
struct Vectors {
    version: u32,
    fraction_bits: u32,
    max_bits: u64,
    t_max_ms: u64,
    full_range_blake3: String,
    samples: Vec<(u64, u64)>,
    hundredths: Vec<(u64, u64)>,
    decisions: Vec<DecisionCase>,
    analysis: Vec<AnalysisCase>,
}

#[derive(Deserialize)]
struct DecisionCase {
    sigma: String,
    label: String,
    first: bool,
    from_ms: u64,
    to_ms: u64,
    from_bits: u64,
    to_bits: u64,
    instant_crash: bool,
    draw: u64,
    survives: bool,
    crash_point_bits: Option<u64>,
    targets: Vec<(u64, bool)>,
}

#[derive(Deserialize)]
struct AnalysisCase {
    interval_ms: u64,
    target_bits: u64,
    reach_probability: String,
    expected_return: String,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("../../vectors/crash-v1.json")).expect("vectors parse")
}

fn rational(text: &str) -> BigRational {
    let (n, d) = text.split_once('/').expect("n/d");
    BigRational::new(n.parse::<BigInt>().unwrap(), d.parse::<BigInt>().unwrap())
}

#[test]
fn constants_match() {
    let v = vectors();
    assert_eq!(v.version, 1);
    assert_eq!(v.fraction_bits, Multiplier::FRACTION_BITS);
    assert_eq!(v.max_bits, Multiplier::MAX.bits());
    assert_eq!(v.t_max_ms, Multiplier::T_MAX_MS);
}

#[test]
fn multiplier_samples_match() {
    let v = vectors();
    assert!(v.samples.len() > 50);
    for (t, bits) in v.samples {
        assert_eq!(Multiplier::at(t).bits(), bits, "t = {t}");
    }
    for (h, bits) in v.hundredths {
        assert_eq!(
            Multiplier::from_hundredths(h).unwrap().bits(),
            bits,
            "{h} hundredths"
        );
    }
}

/// Every value from 0 to T_MAX ms, bit for bit, through one digest.
#[test]
fn every_multiplier_matches_the_reference_digest() {
    let v = vectors();
    let mut hasher = blake3::Hasher::new();
    for t in 0..=Multiplier::T_MAX_MS {
        hasher.update(&Multiplier::at(t).bits().to_le_bytes());
    }
    assert_eq!(hasher.finalize().to_hex().as_str(), v.full_range_blake3);
}

#[test]
fn decisions_match() {
    let v = vectors();
    assert!(v.decisions.iter().any(|c| c.instant_crash));
    assert!(v.decisions.iter().any(|c| !c.survives && !c.instant_crash));
    for case in &v.decisions {
        let sigma = hex::decode(&case.sigma).unwrap();
        let label = hex::decode(&case.label).unwrap();
        let from = Multiplier::at(case.from_ms);
        let to = Multiplier::at(case.to_ms);
        assert_eq!((from.bits(), to.bits()), (case.from_bits, case.to_bits));
        let r = Randomness::from_beacon_output(&sigma);
        let d = IntervalDecision::derive(&r, &label, case.first, from, to).unwrap();
        let what = format!("sigma {} label {}", case.sigma, case.label);
        assert_eq!(d.draws().instant_crash, case.instant_crash, "{what}");
        assert_eq!(d.draws().draw.numerator(), case.draw, "{what}");
        assert_eq!(d.survives(), case.survives, "{what}");
        assert_eq!(
            d.crash_point().map(Multiplier::bits),
            case.crash_point_bits,
            "{what}"
        );
        assert_eq!(Draws::derive(&r, &label, case.first), d.draws());
        for &(x, reached) in &case.targets {
            let x = Multiplier::from_bits(x).unwrap();
            assert_eq!(d.reaches(x), Some(reached), "{what} target {x}");
        }
    }
}

#[test]
fn exact_analysis_matches() {
    let v = vectors();
    for case in v.analysis {
        let schedule = TickSchedule::every(case.interval_ms).unwrap();
        let target = Multiplier::from_bits(case.target_bits).unwrap();
        let a = auto_cash_out(&schedule, target).unwrap();
        assert_eq!(a.reach_probability, rational(&case.reach_probability));
        assert_eq!(a.expected_return, rational(&case.expected_return));
    }
}
