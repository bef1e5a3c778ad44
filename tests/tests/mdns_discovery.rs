//! mDNS discovery between two real nodes: `bitcraps node start` with mDNS
//! on and no bootstrap peer, each in a network namespace of its own, the
//! two namespaces joined by a veth pair (a two-host LAN on one machine).
//! Each must find the other and connect: in a namespace holding nothing
//! else, a peer can only have come from mDNS.
//!
//! Why namespaces: libp2p's mDNS ignores loopback interfaces and announces
//! a listen address only on the interface it belongs to
//! (`libp2p-mdns` 0.49, `behaviour.rs` and `behaviour/iface.rs`), so two
//! nodes on 127.0.0.1 never see each other. Creating namespaces needs root
//! and `ip` (iproute2); where that fails the test says so on standard error
//! and skips.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bitcraps_tests::{bitcraps_binary, run_bitcraps};
use testnet::layout::Layout;
use testnet::manifest::Manifest;

/// The libp2p and API ports of each node (its own namespace, so both use
/// the same ones).
const P2P_PORT: u16 = 34_000;
const API_PORT: u16 = 34_001;

/// Two namespaces joined by a veth pair, removed (with the pair) on drop.
struct Lan {
    namespaces: [String; 2],
}

impl Lan {
    /// Makes the namespaces `bcmdns-<pid>-a|b` with `10.77.0.1/24` and
    /// `10.77.0.2/24` on the two ends of a veth pair. `Err` says what
    /// failed (no root, no `ip`, no netns support).
    fn create() -> Result<Lan, String> {
        let pid = std::process::id();
        let lan = Lan {
            namespaces: [format!("bcmdns-{pid}-a"), format!("bcmdns-{pid}-b")],
        };
        let [a, b] = &lan.namespaces;
        // Interface names are at most 15 bytes and live in each namespace.
        let (link_a, link_b) = (
            format!("bcm{}a", pid % 100_000),
            format!("bcm{}b", pid % 100_000),
        );
        ip(&["netns", "add", a])?;
        ip(&["netns", "add", b])?;
        ip(&[
            "link", "add", &link_a, "netns", a, "type", "veth", "peer", "name", &link_b, "netns", b,
        ])?;
        for (namespace, link, address) in
            [(a, &link_a, "10.77.0.1/24"), (b, &link_b, "10.77.0.2/24")]
        {
            ip(&["-n", namespace, "link", "set", "lo", "up"])?;
            ip(&["-n", namespace, "addr", "add", address, "dev", link])?;
            ip(&["-n", namespace, "link", "set", link, "up"])?;
            // mDNS's multicast group goes out on the veth.
            ip(&["-n", namespace, "route", "add", "224.0.0.0/4", "dev", link])?;
        }
        Ok(lan)
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for namespace in &self.namespaces {
            // Deleting a namespace deletes its end of the pair, and so the
            // pair.
            let _ = ip(&["netns", "del", namespace]);
        }
    }
}

/// Runs `ip <args>`; `Err` with its output when it fails.
fn ip(args: &[&str]) -> Result<(), String> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip {}`: {e}", args.join(" ")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// A node process in a namespace, killed on drop.
struct NodeProcess {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `bitcraps node init` then `node start` of a player node in `namespace`,
/// home `home`, with mDNS on and no bootstrap peer.
fn start_node(namespace: &str, home: &Path, genesis: &Path) -> NodeProcess {
    let binary = bitcraps_binary();
    let home_arg = home.to_str().expect("a UTF-8 path");
    let (code, stdout, stderr) = run_bitcraps(
        &[
            "node",
            "init",
            "--home",
            home_arg,
            "--genesis",
            genesis.to_str().expect("a UTF-8 path"),
        ],
        &[],
        None,
    );
    assert_eq!(code, 0, "node init failed: {stdout}{stderr}");
    let log = home.join("node.log");
    let log_file = std::fs::File::create(&log).expect("a log file");
    let child = Command::new("ip")
        .args(["netns", "exec", namespace])
        .arg(&binary)
        .args([
            "node",
            "start",
            "--home",
            home_arg,
            "--network-listen",
            &format!("/ip4/0.0.0.0/tcp/{P2P_PORT}"),
            "--network-mdns",
            "true",
            "--api-listen",
            &format!("127.0.0.1:{API_PORT}"),
            "--log-format",
            "json",
        ])
        .env_remove("BITCRAPS_NETWORK_BOOTSTRAP")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("a log file"))
        .stderr(log_file)
        .spawn()
        .expect("ip netns exec runs");
    NodeProcess { child, log }
}

/// The node's connected peers, from `bitcraps node status --json` run in
/// its namespace (its API is on the namespace's loopback); `None` while it
/// does not answer.
fn peers(namespace: &str, home: &Path) -> Option<u64> {
    let output = Command::new("ip")
        .args(["netns", "exec", namespace])
        .arg(bitcraps_binary())
        .args([
            "node",
            "status",
            "--json",
            "--home",
            home.to_str().expect("a UTF-8 path"),
            "--api-listen",
            &format!("127.0.0.1:{API_PORT}"),
        ])
        .output()
        .expect("ip netns exec runs");
    if !output.status.success() {
        return None;
    }
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    status["peers"].as_u64()
}

#[test]
fn two_nodes_on_a_lan_find_each_other_by_mdns() {
    let lan = match Lan::create() {
        Ok(lan) => lan,
        Err(reason) => {
            eprintln!(
                "SKIPPED two_nodes_on_a_lan_find_each_other_by_mdns: cannot make network \
                 namespaces here ({reason}); it needs root and iproute2"
            );
            return;
        }
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let manifest = Manifest::parse(&format!(
        "validators = 1\nplayers = 2\nbase_port = {P2P_PORT}\n"
    ))
    .expect("a manifest");
    let layout = Layout::plan(dir.path(), &bitcraps_binary(), &manifest);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_millis() as u64;
    let material = testnet::genesis::build(&layout, now_ms).expect("a genesis");
    let genesis = dir.path().join("genesis.json");
    std::fs::write(&genesis, material.genesis.to_json()).expect("the genesis is written");

    let homes = [dir.path().join("a"), dir.path().join("b")];
    let nodes: Vec<NodeProcess> = lan
        .namespaces
        .iter()
        .zip(&homes)
        .map(|(namespace, home)| start_node(namespace, home, &genesis))
        .collect();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen: Vec<Option<u64>> = lan
            .namespaces
            .iter()
            .zip(&homes)
            .map(|(namespace, home)| peers(namespace, home))
            .collect();
        if seen.iter().all(|peers| *peers == Some(1)) {
            break;
        }
        if Instant::now() >= deadline {
            let logs: Vec<String> = nodes
                .iter()
                .map(|node| std::fs::read_to_string(&node.log).unwrap_or_default())
                .collect();
            panic!(
                "the nodes did not find each other by mDNS in 60 s (peers {seen:?}):\n{}",
                logs.join("\n----\n")
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}
