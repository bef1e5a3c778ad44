//! `bitcraps testnet chaos` end to end: a real testnet (bootstrap peer, 4
//! validators, 1 player) under signed bets, five faults — one each of kill,
//! pause, restart and partition, then a second partition, on validators or
//! the player node — at random moments, with the run's own checks after
//! each fault (nothing acknowledged lost, every node agreeing on blocks,
//! state roots and supply, no equivocation reported) — and the test
//! checking the report says so. The seed is one whose two partitions
//! overlap: the player node is cut off for 1.3 s and validator-0 0.1 s
//! after it, so for about a second the testnet is split in three
//! (`player-0 | validator-0 | the rest`), with one validator down (f = 1).
//!
//! `BITCRAPS_CHAOS_TEST_PORT` sets the testnet's base port (a run that
//! must stay in a port range of its own); by default it is one of the
//! suite's slots.
//!
//! `bitcraps testnet chaos --kills 100` is the full run (README,
//! Reliability); this one stays short so CI stays fast.

use std::process::Command;
use std::time::Duration;

use bitcraps_tests::{Down, base_port, bitcraps_binary, logs};
use serde_json::Value;
use testnet::chaos::{self, ChaosFault, ChaosOptions, Targets};
use testnet::layout::Layout;
use testnet::load::LoadOptions;

/// The seed: its fourth and fifth faults are partitions of player-0 (1.34
/// s) and validator-0 (after 0.10 s), so they overlap.
const SEED: u64 = 13_437;

/// The faults.
const FAULTS: u32 = 5;

fn port() -> u16 {
    match std::env::var("BITCRAPS_CHAOS_TEST_PORT") {
        Ok(port) => port
            .parse()
            .unwrap_or_else(|e| panic!("BITCRAPS_CHAOS_TEST_PORT={port:?}: {e}")),
        Err(_) => base_port(32_000, 7),
    }
}

#[test]
fn nodes_killed_paused_restarted_and_cut_off_under_load_lose_nothing_and_agree() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("net");
    let _down = Down(dir.clone());
    let manifest = work.path().join("net.toml");
    std::fs::write(
        &manifest,
        format!(
            "validators = 4\nplayers = 1\nbase_port = {}\n\n[chain]\n\
             crash_betting_ms = 2000\ncrash_cooldown_ms = 1000\ncraps_roll_interval_ms = 1000\n",
            port()
        ),
    )
    .unwrap();

    // The testnet comes up with the run (`--up`), and the report is still
    // standard output alone: `up`'s lines and the progress go to standard
    // error.
    let output = Command::new(bitcraps_binary())
        .args([
            "testnet",
            "chaos",
            "--up",
            "--fresh",
            "--manifest",
            manifest.to_str().expect("a UTF-8 path"),
            "--kills",
            &FAULTS.to_string(),
            "--faults",
            "kill,pause,restart,partition",
            "--targets",
            "all",
            "--seed",
            &SEED.to_string(),
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
    assert_eq!(count("kills"), u64::from(FAULTS), "{report}");
    // One of each kind, and a second partition.
    for (kind, n) in [("kill", 1), ("pause", 1), ("restart", 1), ("partition", 2)] {
        assert_eq!(report["faults_by_kind"][kind], n, "{kind}: {report}");
    }
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
    assert_eq!(iterations.len(), FAULTS as usize);
    let last_target = iterations
        .iter()
        .map(|i| i["target_height"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(count("checked_height") >= last_target, "{report}");
    assert!(report["load_average_max"].as_f64().is_some(), "{report}");
    // Two partitions in force at once: validator-0 was cut off while
    // player-0 still was, and never more than f = 1 validator was down.
    assert_eq!(
        iterations[4]["overlapped"],
        serde_json::json!(["player-0"]),
        "{report}"
    );
    assert_eq!(iterations[4]["node"], "validator-0", "{report}");
    assert!(count("overlapping") >= 1, "{report}");
    assert_eq!(count("max_validators_down"), 1, "{report}");
    assert_eq!(count("validators_down_limit"), 1, "{report}");
    // The seed alone picks the victims and the kinds: the schedule replays.
    let victims: Vec<(String, String)> = iterations
        .iter()
        .map(|i| {
            (
                i["node"].as_str().unwrap().to_owned(),
                i["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let layout = Layout::load(&dir).unwrap();
    let targets: Vec<String> = chaos::targets(&layout, Targets::All)
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(targets.len(), 5, "4 validators and the player");
    let options = ChaosOptions {
        kills: FAULTS,
        faults: ChaosFault::ALL.to_vec(),
        targets: Targets::All,
        seed: SEED,
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
    let planned: Vec<(String, String)> = chaos::schedule(&options, targets.len())
        .iter()
        .map(|k| (targets[k.validator].clone(), k.kind.name().to_owned()))
        .collect();
    assert_eq!(victims, planned);
    eprintln!("chaos: victims {victims:?}, {acknowledged} bets acknowledged");
}
