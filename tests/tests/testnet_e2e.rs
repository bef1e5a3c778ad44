//! A whole local testnet as real processes, end to end, through the
//! `bitcraps` binary: `testnet up --detach` (bootstrap peer, 4 validators,
//! 1 player), `check`, a SIGKILL and restart of a validator, progress on
//! every node again, `check` again, a short `load`, and `down`.

use std::time::Duration;

use bitcraps_tests::{Down, base_port, logs, testnet, up_detached};
use node::client::ApiClient;
use testnet::layout::Layout;

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
