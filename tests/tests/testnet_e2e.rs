//! A whole local testnet as real processes, end to end, through the
//! `bitcraps` binary: `testnet up --detach` (bootstrap peer, 4 validators,
//! 1 player), `check`, a SIGKILL and restart of a validator, progress on
//! every node again, `check` again, a short `load`, and `down`; and a
//! second testnet where one validator is partitioned away (it stalls, the
//! other three finalize), then healed (it catches up, `check` passes).

use std::time::Duration;

use bitcraps_tests::{Down, base_port, logs, testnet, up_detached};
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
    // The other test of this file runs at the same time on the same slot:
    // its nodes use ports +0..+2 of each ten, these +5..+7.
    up_detached(
        &dir,
        &format!(
            "validators = 4\nplayers = 0\nbase_port = {}\n",
            base_port(24_000, 30) + 5
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
}
