//! `bitcraps testnet chaos` end to end: a real testnet (bootstrap peer, 4
//! validators, 1 player) under signed bets, three validators SIGKILLed at
//! random moments and restarted, with the run's own checks after each kill
//! (nothing acknowledged lost, every node agreeing on blocks, state roots
//! and supply, no equivocation reported) — and the test checking the
//! report says so.
//!
//! `bitcraps testnet chaos --kills 100` is the full run (README,
//! Reliability); this one stays short so CI stays fast.

use std::process::Command;
use std::time::Duration;

use bitcraps_tests::{Down, base_port, bitcraps_binary, logs, up_detached};
use serde_json::Value;
use testnet::chaos::{self, ChaosOptions};
use testnet::layout::{Layout, Role};
use testnet::load::LoadOptions;

#[test]
fn validators_killed_at_random_under_load_lose_nothing_and_agree() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("net");
    let _down = Down(dir.clone());
    up_detached(
        &dir,
        &format!(
            "validators = 4\nplayers = 1\nbase_port = {}\n\n[chain]\n\
             crash_betting_ms = 2000\ncrash_cooldown_ms = 1000\ncraps_roll_interval_ms = 1000\n",
            base_port(32_000, 7)
        ),
    );

    // The report is standard output alone (progress goes to standard error).
    let output = Command::new(bitcraps_binary())
        .args([
            "testnet",
            "chaos",
            "--kills",
            "3",
            "--seed",
            "8",
            "--rate",
            "5",
            "--wallets",
            "4",
            "--max-wait",
            "2s",
            "--max-hold",
            "1500ms",
            "--json",
            "--dir",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success(),
        "chaos failed:\n{stdout}\n{stderr}\n{}",
        logs(&dir)
    );
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}) in:\n{stdout}\n{stderr}"));
    let count = |key: &str| {
        report[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no {key} in {report}"))
    };
    assert_eq!(count("kills"), 3, "{report}");
    assert_eq!(count("lost"), 0, "{report}");
    assert_eq!(count("disagreements"), 0, "{report}");
    assert_eq!(count("double_signs"), 0, "{report}");
    assert_eq!(count("stalls"), 0, "{report}");
    assert_eq!(report["violations"], Value::Array(Vec::new()), "{report}");
    // The checks had something to check: bets were acknowledged and every
    // one compared on all five nodes at the end, each kill recovered, and
    // the chain was replayed past the last kill.
    let acknowledged = count("acknowledged");
    assert!(acknowledged > 0, "no bet acknowledged: {report}");
    assert_eq!(
        count("final_receipts_checked"),
        acknowledged * 5,
        "{report}"
    );
    assert!(report["recovery_max_ms"].as_f64().is_some(), "{report}");
    let iterations = report["iterations"].as_array().expect("iterations");
    assert_eq!(iterations.len(), 3);
    let last_target = iterations[2]["target_height"].as_u64().unwrap();
    assert!(count("checked_height") >= last_target, "{report}");
    for iteration in iterations {
        assert!(
            iteration["node"]
                .as_str()
                .is_some_and(|n| n.starts_with("validator-")),
            "{iteration}"
        );
    }
    // The seed alone picks the victims: the schedule replays.
    let victims: Vec<String> = iterations
        .iter()
        .map(|i| i["node"].as_str().unwrap().to_owned())
        .collect();
    let layout = Layout::load(&dir).unwrap();
    let validators: Vec<&str> = layout
        .nodes
        .iter()
        .filter(|n| n.role == Role::Validator)
        .map(|n| n.name.as_str())
        .collect();
    let options = ChaosOptions {
        kills: 3,
        seed: 8,
        load: LoadOptions {
            rate: 5.0,
            duration: Duration::from_secs(1),
            wallets: 4,
            stake: 10,
            drain: Duration::ZERO,
            concurrency: 1,
        },
        max_wait: Duration::from_secs(2),
        min_hold: Duration::from_millis(100),
        max_hold: Duration::from_millis(1500),
        catch_up_timeout: Duration::from_secs(120),
    };
    let planned: Vec<String> = chaos::schedule(&options, validators.len())
        .iter()
        .map(|k| validators[k.validator].to_owned())
        .collect();
    assert_eq!(victims, planned);
    eprintln!("chaos: victims {victims:?}, {acknowledged} bets acknowledged");
}
