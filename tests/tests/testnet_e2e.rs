//! A whole local testnet as real processes, end to end, through the
//! `bitcraps` binary: `testnet up --detach` (bootstrap peer, 4 validators,
//! 1 player), `check`, a SIGKILL and restart of a validator, progress on
//! every node again, `check` again, the manifest's fault schedule (a pause
//! of a validator) through `testnet faults`, `check` again, a short `load`,
//! `down`, and `up --detach` again without `--fresh` (the same chain goes
//! on from where it stopped); a second
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

use bitcraps_tests::{LiveTestnet, base_port, bitcraps_binary};
use testnet::layout::Layout;

/// A node's height and libp2p peers from its API; fails the test if it
/// does not answer.
async fn height_and_peers(net: &LiveTestnet, name: &str) -> (u64, u64) {
    match net.client(name).status().await {
        Ok(status) => (status.node.height.unwrap_or(0), status.node.peers),
        Err(e) => net.fail(format!("{name}: {e}")),
    }
}

/// The highest height among `names`.
async fn highest_of(net: &LiveTestnet, names: &[&str]) -> u64 {
    let mut top = 0;
    for name in names {
        top = top.max(height_and_peers(net, name).await.0);
    }
    top
}

/// The lowest height among `names`.
async fn lowest_of(net: &LiveTestnet, names: &[&str]) -> u64 {
    let mut low = u64::MAX;
    for name in names {
        low = low.min(height_and_peers(net, name).await.0);
    }
    low
}

/// Waits until every API node's height is above `above`; fails the test
/// with the nodes' logs after `limit`.
async fn all_above(net: &LiveTestnet, above: u64, limit: Duration) -> u64 {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let mut lowest = u64::MAX;
        let mut last = String::new();
        for node in net.layout().api_nodes() {
            match net.client(&node.name).status().await {
                Ok(status) => lowest = lowest.min(status.node.height.unwrap_or(0)),
                Err(error) => {
                    lowest = 0;
                    last = format!("{}: {error}", node.name);
                }
            }
        }
        if lowest > above && lowest != u64::MAX {
            return lowest;
        }
        if tokio::time::Instant::now() >= deadline {
            net.fail(format!(
                "not every node passed height {above} (lowest {lowest}; {last})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_testnet_finalizes_survives_a_validator_kill_and_stays_consistent() {
    let net = LiveTestnet::start(&format!(
        "validators = 4\nplayers = 1\nbase_port = {}\n\n[chain]\n\
         crash_betting_ms = 2000\ncrash_cooldown_ms = 1000\ncraps_roll_interval_ms = 1000\n\n\
         [[faults]]\nat_secs = 1\nnode = \"validator-2\"\nkind = \"pause\"\nduration_secs = 3\n",
        base_port(24_000, 30)
    ));
    assert!(net.up_output().contains("tui --api"), "{}", net.up_output());

    let (ok, output) = net.testnet(&["check"]);
    assert!(ok, "check failed:\n{output}");
    assert!(output.contains("OK: every node agrees"), "{output}");

    let (ok, output) = net.testnet(&["kill", "validator-1", "--restart-after", "3"]);
    assert!(ok, "kill failed:\n{output}\n{}", net.logs());
    assert!(output.contains("SIGKILL"), "{output}");
    assert!(output.contains("started again"), "{output}");

    // Every node, the restarted validator included, moves on.
    let now = all_above(&net, 0, Duration::from_secs(30)).await;
    all_above(&net, now + 3, Duration::from_secs(90)).await;

    let (ok, output) = net.testnet(&["check"]);
    assert!(ok, "check after the kill failed:\n{output}");

    // The manifest's schedule: validator-2 is stopped and continued, then
    // every node moves on and still agrees.
    let (ok, output) = net.testnet(&["faults"]);
    assert!(ok, "faults failed:\n{output}\n{}", net.logs());
    assert!(output.contains("validator-2: SIGSTOP"), "{output}");
    assert!(output.contains("validator-2: SIGCONT"), "{output}");
    let now = all_above(&net, 0, Duration::from_secs(30)).await;
    all_above(&net, now + 3, Duration::from_secs(90)).await;
    let (ok, output) = net.testnet(&["check"]);
    assert!(ok, "check after the fault schedule failed:\n{output}");

    let (ok, output) = net.testnet(&[
        "load",
        "--rate",
        "5",
        "--duration",
        "8s",
        "--wallets",
        "4",
        "--drain",
        "30s",
    ]);
    assert!(ok, "load failed:\n{output}\n{}", net.logs());
    assert!(output.contains("submitted"), "{output}");
    assert!(
        !output.contains("finalized 0 "),
        "nothing finalized:\n{output}"
    );

    let (ok, output) = net.testnet(&["status"]);
    assert!(ok, "{output}");
    assert!(output.contains("validator-1"), "{output}");

    let validators = ["validator-0", "validator-1", "validator-2", "validator-3"];
    let reached = highest_of(&net, &validators).await;
    let chain = match net.client("validator-0").status().await {
        Ok(status) => status.node.chain_id,
        Err(e) => net.fail(format!("validator-0: {e}")),
    };
    let genesis = std::fs::read(net.layout().genesis_file()).expect("the genesis is readable");

    let (ok, output) = net.testnet(&["down"]);
    assert!(ok, "down failed:\n{output}");
    for node in &net.layout().nodes {
        assert!(
            testnet::process::live(&node.pid_file()).is_none(),
            "{} still runs",
            node.name
        );
    }

    // Up again without --fresh: the same directory, genesis and chain, from
    // at least the height reached before the stop.
    let (ok, output) = net.testnet(&["up", "--detach", "--timeout", "120"]);
    assert!(ok, "up again failed:\n{output}\n{}", net.logs());
    assert!(output.contains("reusing the testnet"), "{output}");
    assert_eq!(
        std::fs::read(net.layout().genesis_file()).expect("the genesis is readable"),
        genesis,
        "up without --fresh rewrote the genesis"
    );
    assert_eq!(
        Layout::load(net.dir()).expect("the layout").chain_id,
        net.layout().chain_id
    );
    let low = lowest_of(&net, &validators).await;
    assert!(
        low >= reached,
        "after up again a validator is at {low}, below {reached} reached before down"
    );
    for name in validators {
        match net.client(name).status().await {
            Ok(status) => assert_eq!(status.node.chain_id, chain, "{name} is on another chain"),
            Err(e) => net.fail(format!("{name}: {e}")),
        }
    }
    all_above(&net, reached, Duration::from_secs(60)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_validator_stalls_while_the_rest_finalize_and_catches_up_after_the_heal() {
    // The other tests of this file run at the same time on the same slot:
    // their nodes use ports +0..+2 and +3..+5 of each ten, these +6..+8.
    let net = LiveTestnet::start(&format!(
        "validators = 4\nplayers = 0\nbase_port = {}\n",
        base_port(24_000, 30) + 6
    ));
    let others = ["validator-0", "validator-1", "validator-2"];

    let (ok, output) = net.testnet(&["partition", "validator-3"]);
    assert!(ok, "partition failed:\n{output}");
    assert!(
        output.contains("validator-3 cut off from bootstrap, validator-0"),
        "{output}"
    );
    assert!(
        output.contains("(partition 1)") && output.contains("testnet heal --id 1"),
        "the partition's id and how to heal it: {output}"
    );
    // The cut is in force once its libp2p connections are gone (the
    // validator network's cut is set in the same step).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, peers) = height_and_peers(&net, "validator-3").await;
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
    let (stalled_at, _) = height_and_peers(&net, "validator-3").await;
    let start = highest_of(&net, &others).await;
    // The other three keep finalizing (a quorum of 3 of 4) while the cut
    // one stays where it was.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let target = start + 6;
    loop {
        let lowest = lowest_of(&net, &others).await;
        let (height, peers) = height_and_peers(&net, "validator-3").await;
        assert_eq!(
            (height, peers),
            (stalled_at, 0),
            "the partitioned validator moved (the others are at {lowest})\n{}",
            net.logs()
        );
        if lowest >= target {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            net.fail(format!(
                "the three connected validators did not reach {target} (lowest {lowest})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Healing a partition that is not in force is an error that says so,
    // and heals nothing.
    let (ok, output) = net.testnet(&["heal", "--id", "9"]);
    assert!(!ok, "healing an unknown partition succeeded:\n{output}");
    assert!(output.contains("no partition 9 is in force"), "{output}");
    let (_, peers) = height_and_peers(&net, "validator-3").await;
    assert_eq!(peers, 0, "a refused heal reconnected validator-3");
    let (ok, output) = net.testnet(&["heal", "--id", "1"]);
    assert!(ok, "heal failed:\n{output}");
    // It catches up on everything finalized without it, then follows.
    all_above(&net, target, Duration::from_secs(60)).await;
    let (ok, output) = net.testnet(&["check"]);
    assert!(ok, "check after the heal failed:\n{output}");
    assert!(output.contains("OK: every node agrees"), "{output}");
    let (ok, output) = net.testnet(&["status"]);
    assert!(ok, "{output}");
    assert!(
        output.contains("partition: none"),
        "the heal is not in the status:\n{output}"
    );

    // Two against two, for 20 s: neither side has the 3 votes of a quorum
    // of 4 (f = 1), so finalization stops on both sides.
    let split_dir = net.dir().to_owned();
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
        let (ok, output) = net.testnet(&["status"]);
        assert!(ok, "{output}");
        if let Some(line) = output
            .lines()
            .find(|l| l.starts_with("partition: [1] validator-0"))
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
        frozen.push(height_and_peers(&net, name).await.0);
    }
    tokio::time::sleep(Duration::from_secs(8)).await;
    for (name, before) in all.iter().zip(&frozen) {
        let (now, _) = height_and_peers(&net, name).await;
        assert_eq!(
            now,
            *before,
            "{name} finalized during a 2|2 split (heights before {frozen:?})\n{}",
            net.logs()
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
    all_above(&net, top + 3, Duration::from_secs(60)).await;
    let (ok, output) = net.testnet(&["check"]);
    assert!(ok, "check after the split failed:\n{output}");
    assert!(output.contains("OK: every node agrees"), "{output}");
}

/// Every validator's `bitcraps_equivocations_total` (all kinds summed).
async fn equivocations(net: &LiveTestnet) -> Vec<(String, Option<u64>)> {
    let mut out = Vec::new();
    for node in net
        .layout()
        .nodes
        .iter()
        .filter(|n| n.name.starts_with("validator-"))
    {
        let count = match net.client(&node.name).metrics().await {
            Ok(text) => testnet::chaos::equivocations(&text),
            Err(_) => None,
        };
        out.push((node.name.clone(), count));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_equivocating_twin_is_reported_and_slashed_while_the_chain_goes_on() {
    let net = LiveTestnet::start(&format!(
        "validators = 4\nplayers = 0\nbase_port = {}\n",
        base_port(24_000, 30) + 3
    ));
    let layout = net.layout();
    all_above(&net, 2, Duration::from_secs(60)).await;
    // Nobody has seen a double signature yet.
    for (name, count) in equivocations(&net).await {
        assert_eq!(count, Some(0), "{name} before the twin");
    }

    let (ok, output) = net.testnet(&["twin", "validator-3", "--json"]);
    assert!(ok, "twin failed:\n{output}\n{}", net.logs());
    // Standard output (the JSON report) comes first, then the progress.
    let start = output
        .find('{')
        .unwrap_or_else(|| net.fail(format!("no report: {output}")));
    let report: serde_json::Value = serde_json::Deserializer::from_str(&output[start..])
        .into_iter()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| net.fail(format!("no JSON report in: {output}")));
    assert_eq!(report["twin"], "validator-3-twin", "{report}");
    assert!(
        report["detected_after_ms"].as_f64().is_some(),
        "no honest validator reported the twin: {report}"
    );
    let reporters = report["reported_by"].as_object().expect("reported_by");
    assert!(!reporters.is_empty(), "{report}");

    // The honest validators' counters rose; the offender's own did not.
    let counts = equivocations(&net).await;
    let honest_total: u64 = counts
        .iter()
        .filter(|(name, _)| name != "validator-3")
        .filter_map(|(_, count)| *count)
        .sum();
    assert!(honest_total > 0, "{counts:?}");

    // A slashing transaction lands: validator-3's stake is cut.
    let offender_port = layout.node("validator-3").unwrap().validator_port.unwrap();
    let genesis_stake = layout.manifest.chain.validator_stake;
    let reader = net.client("validator-0");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let slashed = loop {
        let validators = reader.validators().await.unwrap_or_else(|e| net.fail(e));
        let offender = validators
            .iter()
            .find(|v| v.network_address.ends_with(&format!(":{offender_port}")))
            .unwrap_or_else(|| net.fail(format!("validator-3 is not listed: {validators:?}")));
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
            net.fail(format!("validator-3 was never slashed: {validators:?}"));
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
    let now = highest_of(&net, &honest).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let lowest = lowest_of(&net, &honest).await;
        if lowest >= now + 5 {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            net.fail(format!("the honest validators stopped at {lowest}"));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (ok, output) = net.testnet(&["check"]);
    assert!(ok, "check after the twin failed:\n{output}");
    assert!(output.contains("OK: every node agrees"), "{output}");

    // The twin is in the status, and down stops it with the rest.
    let (ok, output) = net.testnet(&["status"]);
    assert!(ok, "{output}");
    assert!(
        output.contains("twin: validator-3-twin signs with validator-3's key"),
        "{output}"
    );
    let twin = Layout::load(net.dir()).unwrap().twins[0].node.clone();
    assert!(testnet::process::live(&twin.pid_file()).is_some());
    let (ok, output) = net.testnet(&["down"]);
    assert!(ok, "down failed:\n{output}");
    assert!(
        testnet::process::live(&twin.pid_file()).is_none(),
        "the twin outlived down"
    );
}
