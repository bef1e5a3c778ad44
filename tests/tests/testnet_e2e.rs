//! A whole local testnet as real processes, end to end, through the
//! `bitcraps` binary: `testnet up --detach` (bootstrap peer, 4 validators,
//! 1 player), `check`, a SIGKILL and restart of a validator, progress on
//! every node again, `check` again, a short `load`, and `down`; a second
//! testnet where one validator is partitioned away (it stalls, the other
//! three finalize), then healed (it catches up, `check` passes), then split
//! two against two (neither side has a quorum of 3: both stop), healed
//! again (both resume and agree); and a third where a validator gets an
//! equivocating twin (the honest validators report it, the chain slashes
//! it and goes on).
//!
//! The three testnets share one port slot: each takes three ports of every
//! ten (+0..+2, +3..+5 and +6..+8 of each node's ten).

use std::process::Command;
use std::time::Duration;

use bitcraps_tests::{Down, base_port, bitcraps_binary, logs, testnet, up_detached};
use node::client::ApiClient;
use testnet::layout::Layout;

/// A node's height and libp2p peers from its API.
async fn height_and_peers(layout: &Layout, name: &str) -> Result<(u64, u64), String> {
    let node = layout.node(name).map_err(|e| e.to_string())?;
    let client = ApiClient::new(&node.http_url()).unwrap();
    let status = client.status().await.map_err(|e| format!("{name}: {e}"))?;
    Ok((status.node.height.unwrap_or(0), status.node.peers))
}

/// Waits until every API node's height is above `above`.
async fn all_above(layout: &Layout, above: u64, limit: Duration) -> Result<u64, String> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let mut lowest = u64::MAX;
        let mut last = String::new();
        for node in layout.api_nodes() {
            let client = ApiClient::new(&node.http_url()).unwrap();
            match client.status().await {
                Ok(status) => lowest = lowest.min(status.node.height.unwrap_or(0)),
                Err(error) => {
                    lowest = 0;
                    last = format!("{}: {error}", node.name);
                }
            }
        }
        if lowest > above && lowest != u64::MAX {
            return Ok(lowest);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "not every node passed height {above} (lowest {lowest}; {last})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_testnet_finalizes_survives_a_validator_kill_and_stays_consistent() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("net");
    let _down = Down(dir.clone());
    let output = up_detached(
        &dir,
        &format!(
            "validators = 4\nplayers = 1\nbase_port = {}\n\n[chain]\n\
             crash_betting_ms = 2000\ncrash_cooldown_ms = 1000\ncraps_roll_interval_ms = 1000\n",
            base_port(24_000, 30)
        ),
    );
    assert!(output.contains("tui --api"), "{output}");
    let layout = Layout::load(&dir).unwrap();

    let (ok, output) = testnet(&dir, &["check"]);
    assert!(ok, "check failed:\n{output}");
    assert!(output.contains("OK: every node agrees"), "{output}");

    let (ok, output) = testnet(&dir, &["kill", "validator-1", "--restart-after", "3"]);
    assert!(ok, "kill failed:\n{output}\n{}", logs(&dir));
    assert!(output.contains("SIGKILL"), "{output}");
    assert!(output.contains("started again"), "{output}");

    // Every node, the restarted validator included, moves on.
    let now = all_above(&layout, 0, Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", logs(&dir)));
    all_above(&layout, now + 3, Duration::from_secs(90))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", logs(&dir)));

    let (ok, output) = testnet(&dir, &["check"]);
    assert!(ok, "check after the kill failed:\n{output}");

    let (ok, output) = testnet(
        &dir,
        &[
            "load",
            "--rate",
            "5",
            "--duration",
            "8s",
            "--wallets",
            "4",
            "--drain",
            "30s",
        ],
    );
    assert!(ok, "load failed:\n{output}\n{}", logs(&dir));
    assert!(output.contains("submitted"), "{output}");
    assert!(
        !output.contains("finalized 0 "),
        "nothing finalized:\n{output}"
    );

    let (ok, output) = testnet(&dir, &["status"]);
    assert!(ok, "{output}");
    assert!(output.contains("validator-1"), "{output}");

    let (ok, output) = testnet(&dir, &["down"]);
    assert!(ok, "down failed:\n{output}");
    for node in &layout.nodes {
        assert!(
            testnet::process::live(&node.pid_file()).is_none(),
            "{} still runs",
            node.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_validator_stalls_while_the_rest_finalize_and_catches_up_after_the_heal() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("net");
    let _down = Down(dir.clone());
    // The other tests of this file run at the same time on the same slot:
    // their nodes use ports +0..+2 and +3..+5 of each ten, these +6..+8.
    up_detached(
        &dir,
        &format!(
            "validators = 4\nplayers = 0\nbase_port = {}\n",
            base_port(24_000, 30) + 6
        ),
    );
    let layout = Layout::load(&dir).unwrap();
    let fail = |e: String| -> ! { panic!("{e}\n{}", logs(&dir)) };
    let others = ["validator-0", "validator-1", "validator-2"];

    let (ok, output) = testnet(&dir, &["partition", "validator-3"]);
    assert!(ok, "partition failed:\n{output}");
    assert!(
        output.contains("validator-3 cut off from bootstrap, validator-0"),
        "{output}"
    );
    // The cut is in force once its libp2p connections are gone (the
    // validator network's cut is set in the same step).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, peers) = height_and_peers(&layout, "validator-3")
            .await
            .unwrap_or_else(|e| fail(e));
        if peers == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "validator-3 still has {peers} libp2p peers"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A block already finalized may still be landing.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (stalled_at, _) = height_and_peers(&layout, "validator-3")
        .await
        .unwrap_or_else(|e| fail(e));
    let mut start = 0;
    for name in others {
        start = start.max(
            height_and_peers(&layout, name)
                .await
                .unwrap_or_else(|e| fail(e))
                .0,
        );
    }
    // The other three keep finalizing (a quorum of 3 of 4) while the cut
    // one stays where it was.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let target = start + 6;
    loop {
        let mut lowest = u64::MAX;
        for name in others {
            let (height, _) = height_and_peers(&layout, name)
                .await
                .unwrap_or_else(|e| fail(e));
            lowest = lowest.min(height);
        }
        let (height, peers) = height_and_peers(&layout, "validator-3")
            .await
            .unwrap_or_else(|e| fail(e));
        assert_eq!(
            (height, peers),
            (stalled_at, 0),
            "the partitioned validator moved (the others are at {lowest})\n{}",
            logs(&dir)
        );
        if lowest >= target {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            fail(format!(
                "the three connected validators did not reach {target} (lowest {lowest})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let (ok, output) = testnet(&dir, &["heal"]);
    assert!(ok, "heal failed:\n{output}");
    // It catches up on everything finalized without it, then follows.
    all_above(&layout, target, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| fail(e));
    let (ok, output) = testnet(&dir, &["check"]);
    assert!(ok, "check after the heal failed:\n{output}");
    assert!(output.contains("OK: every node agrees"), "{output}");
    let (ok, output) = testnet(&dir, &["status"]);
    assert!(ok, "{output}");
    assert!(
        output.contains("partition: none"),
        "the heal is not in the status:\n{output}"
    );

    // Two against two, for 20 s: neither side has the 3 votes of a quorum
    // of 4 (f = 1), so finalization stops on both sides.
    let split_dir = dir.clone();
    let split = std::thread::spawn(move || {
        Command::new(bitcraps_binary())
            .args([
                "testnet",
                "partition",
                "validator-0",
                "--with",
                "validator-1",
                "--hold",
                "20",
                "--dir",
            ])
            .arg(&split_dir)
            .output()
    });
    let all = ["validator-0", "validator-1", "validator-2", "validator-3"];
    // The status names the sides and the heal time.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (ok, output) = testnet(&dir, &["status"]);
        assert!(ok, "{output}");
        if let Some(line) = output
            .lines()
            .find(|l| l.starts_with("partition: validator-0"))
        {
            assert!(
                line.contains(
                    "validator-0, validator-1 cut off from bootstrap, validator-2, validator-3 for"
                ) && line.contains("heals in"),
                "{line}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the split is not in the status:\n{output}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let a block already voted land, then nobody moves for 8 s.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut frozen = Vec::new();
    for name in all {
        frozen.push(
            height_and_peers(&layout, name)
                .await
                .unwrap_or_else(|e| fail(e))
                .0,
        );
    }
    tokio::time::sleep(Duration::from_secs(8)).await;
    for (name, before) in all.iter().zip(&frozen) {
        let (now, _) = height_and_peers(&layout, name)
            .await
            .unwrap_or_else(|e| fail(e));
        assert_eq!(
            now,
            *before,
            "{name} finalized during a 2|2 split (heights before {frozen:?})\n{}",
            logs(&dir)
        );
    }
    let output = split
        .join()
        .expect("the partition thread")
        .expect("the partition command runs");
    assert!(
        output.status.success(),
        "partition --hold failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("healed"));
    // Both sides resume and agree.
    let top = frozen.iter().copied().max().unwrap_or(0);
    all_above(&layout, top + 3, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| fail(e));
    let (ok, output) = testnet(&dir, &["check"]);
    assert!(ok, "check after the split failed:\n{output}");
    assert!(output.contains("OK: every node agrees"), "{output}");
}

/// Every validator's `bitcraps_equivocations_total` (all kinds summed).
async fn equivocations(layout: &Layout) -> Vec<(String, Option<u64>)> {
    let mut out = Vec::new();
    for node in layout
        .nodes
        .iter()
        .filter(|n| n.name.starts_with("validator-"))
    {
        let client = ApiClient::new(&node.http_url()).unwrap();
        let count = match client.metrics().await {
            Ok(text) => testnet::chaos::equivocations(&text),
            Err(_) => None,
        };
        out.push((node.name.clone(), count));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_equivocating_twin_is_reported_and_slashed_while_the_chain_goes_on() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("net");
    let _down = Down(dir.clone());
    up_detached(
        &dir,
        &format!(
            "validators = 4\nplayers = 0\nbase_port = {}\n",
            base_port(24_000, 30) + 3
        ),
    );
    let layout = Layout::load(&dir).unwrap();
    let fail = |e: String| -> ! { panic!("{e}\n{}", logs(&dir)) };
    all_above(&layout, 2, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| fail(e));
    // Nobody has seen a double signature yet.
    for (name, count) in equivocations(&layout).await {
        assert_eq!(count, Some(0), "{name} before the twin");
    }

    let (ok, output) = testnet(&dir, &["twin", "validator-3", "--json"]);
    assert!(ok, "twin failed:\n{output}\n{}", logs(&dir));
    // Standard output (the JSON report) comes first, then the progress.
    let start = output
        .find('{')
        .unwrap_or_else(|| fail(format!("no report: {output}")));
    let report: serde_json::Value = serde_json::Deserializer::from_str(&output[start..])
        .into_iter()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| fail(format!("no JSON report in: {output}")));
    assert_eq!(report["twin"], "validator-3-twin", "{report}");
    assert!(
        report["detected_after_ms"].as_f64().is_some(),
        "no honest validator reported the twin: {report}"
    );
    let reporters = report["reported_by"].as_object().expect("reported_by");
    assert!(!reporters.is_empty(), "{report}");

    // The honest validators' counters rose; the offender's own did not.
    let counts = equivocations(&layout).await;
    let honest_total: u64 = counts
        .iter()
        .filter(|(name, _)| name != "validator-3")
        .filter_map(|(_, count)| *count)
        .sum();
    assert!(honest_total > 0, "{counts:?}");

    // A slashing transaction lands: validator-3's stake is cut.
    let offender_port = layout.node("validator-3").unwrap().validator_port.unwrap();
    let genesis_stake = layout.manifest.chain.validator_stake;
    let reader = ApiClient::new(&layout.node("validator-0").unwrap().http_url()).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let slashed = loop {
        let validators = reader
            .validators()
            .await
            .unwrap_or_else(|e| fail(e.to_string()));
        let offender = validators
            .iter()
            .find(|v| v.network_address.ends_with(&format!(":{offender_port}")))
            .unwrap_or_else(|| fail(format!("validator-3 is not listed: {validators:?}")));
        if offender.slashed {
            assert!(offender.stake < genesis_stake, "{offender:?}");
            assert!(offender.slashed_amount > 0, "{offender:?}");
            // Nobody else.
            assert_eq!(
                validators.iter().filter(|v| v.slashed).count(),
                1,
                "{validators:?}"
            );
            break offender.clone();
        }
        if tokio::time::Instant::now() >= deadline {
            fail(format!("validator-3 was never slashed: {validators:?}"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    // The explorer shows it too.
    let explore = Command::new(bitcraps_binary())
        .args(["explore", "validators", "--api"])
        .arg(layout.node("validator-1").unwrap().http_url())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&explore.stdout);
    assert!(explore.status.success(), "{table}");
    assert!(
        table.contains(&format!("yes ({} chips)", slashed.slashed_amount)),
        "{table}"
    );

    // The three honest validators go on finalizing, and every node agrees.
    let honest = ["validator-0", "validator-1", "validator-2"];
    let mut now = 0;
    for name in honest {
        now = now.max(
            height_and_peers(&layout, name)
                .await
                .unwrap_or_else(|e| fail(e))
                .0,
        );
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut lowest = u64::MAX;
        for name in honest {
            lowest = lowest.min(
                height_and_peers(&layout, name)
                    .await
                    .unwrap_or_else(|e| fail(e))
                    .0,
            );
        }
        if lowest >= now + 5 {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            fail(format!("the honest validators stopped at {lowest}"));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (ok, output) = testnet(&dir, &["check"]);
    assert!(ok, "check after the twin failed:\n{output}");
    assert!(output.contains("OK: every node agrees"), "{output}");

    // The twin is in the status, and down stops it with the rest.
    let (ok, output) = testnet(&dir, &["status"]);
    assert!(ok, "{output}");
    assert!(
        output.contains("twin: validator-3-twin signs with validator-3's key"),
        "{output}"
    );
    let twin = Layout::load(&dir).unwrap().twins[0].node.clone();
    assert!(testnet::process::live(&twin.pid_file()).is_some());
    let (ok, output) = testnet(&dir, &["down"]);
    assert!(ok, "down failed:\n{output}");
    assert!(
        testnet::process::live(&twin.pid_file()).is_none(),
        "the twin outlived down"
    );
}
