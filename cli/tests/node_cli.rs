//! `bitcraps config show` and `bitcraps node init | status` as a user runs
//! them: configuration precedence (file < environment < flag), refusals by
//! key name, and exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn bitcraps(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bitcraps"));
    command.args(args);
    // Only what the test sets: no BITCRAPS_* from the caller's shell.
    for (key, _) in std::env::vars() {
        if key.starts_with("BITCRAPS_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    command.output().expect("the bitcraps binary runs")
}

fn show(home: &Path, flags: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let home = home.to_str().unwrap();
    let mut args = vec!["config", "show", "--json", "--home", home];
    args.extend_from_slice(flags);
    let out = bitcraps(&args, env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn file_then_environment_then_flag() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        "data_dir = \"/srv/bitcraps\"\n[api]\nlisten = \"127.0.0.1:9000\"\n[log]\nlevel = \"warn\"\n",
    )
    .unwrap();
    let file = show(home.path(), &[], &[]);
    assert_eq!(file["api"]["listen"], "127.0.0.1:9000");
    assert_eq!(file["log"]["level"], "warn");
    assert_eq!(file["data_dir"], "/srv/bitcraps");

    let env = [
        ("BITCRAPS_API_LISTEN", "127.0.0.1:9001"),
        ("BITCRAPS_LOG_LEVEL", "debug"),
        (
            "BITCRAPS_NETWORK_BOOTSTRAP",
            "/ip4/10.0.0.1/tcp/7370,/ip4/10.0.0.2/tcp/7370",
        ),
    ];
    let from_env = show(home.path(), &[], &env);
    assert_eq!(from_env["api"]["listen"], "127.0.0.1:9001");
    assert_eq!(from_env["log"]["level"], "debug");
    assert_eq!(
        from_env["network"]["bootstrap"].as_array().unwrap().len(),
        2
    );
    assert_eq!(from_env["data_dir"], "/srv/bitcraps");

    let from_flag = show(home.path(), &["--api-listen", "127.0.0.1:9002"], &env);
    assert_eq!(from_flag["api"]["listen"], "127.0.0.1:9002");
    assert_eq!(from_flag["log"]["level"], "debug");

    // TOML output too, with a comment saying where it came from.
    let out = bitcraps(
        &["config", "show", "--home", home.path().to_str().unwrap()],
        &[],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listen = \"127.0.0.1:9000\""), "{text}");
}

#[test]
fn unknown_keys_and_bad_values_exit_3_naming_the_key() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), "[api]\nlisen = \"x\"\n").unwrap();
    let out = bitcraps(
        &["config", "show", "--home", home.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lisen"));

    let empty = tempfile::tempdir().unwrap();
    let out = bitcraps(
        &["config", "show", "--home", empty.path().to_str().unwrap()],
        &[("BITCRAPS_LOG_FORMAT", "xml")],
    );
    assert_eq!(out.status.code(), Some(2), "clap refuses the value");
    assert!(String::from_utf8_lossy(&out.stderr).contains("xml"));
}

#[test]
fn init_writes_a_home_once_and_status_reports_an_absent_node() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("node");
    let dir_text = dir.to_str().unwrap();
    let out = bitcraps(
        &[
            "node",
            "init",
            "--home",
            dir_text,
            "--api-listen",
            "127.0.0.1:1",
            "--json",
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["peer_id"].as_str().unwrap().starts_with("12D3"));
    assert!(dir.join("node.key").exists());
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(config.contains("127.0.0.1:1"), "{config}");

    let again = bitcraps(&["node", "init", "--home", dir_text], &[]);
    assert_eq!(again.status.code(), Some(5));

    // Nothing listens on port 1: unreachable.
    let status = bitcraps(&["node", "status", "--home", dir_text], &[]);
    assert_eq!(status.status.code(), Some(4));

    // A wallet needs a password.
    let other = home.path().join("other");
    let out = bitcraps(
        &[
            "node",
            "init",
            "--home",
            other.to_str().unwrap(),
            "--wallet",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BITCRAPS_WALLET_PASSWORD"));
}

/// `node init --wallet --network-identity wallet` makes the wallet and
/// reports the peer id the node will have: the wallet key's, with no node
/// key file; without a wallet to use, the identity is refused.
#[test]
fn init_with_the_wallet_identity_reports_the_wallets_peer_id() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("node");
    let out = bitcraps(
        &[
            "node",
            "init",
            "--home",
            dir.to_str().unwrap(),
            "--wallet",
            "--network-identity",
            "wallet",
            "--json",
        ],
        &[("BITCRAPS_WALLET_PASSWORD", "a test password")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let phrase = report["wallet"]["mnemonic"].as_str().unwrap();
    let keypair = wallet::Mnemonic::parse(phrase).unwrap().to_keypair("");
    let expected = node::network::NodeKey::from_secret_bytes(&mut keypair.secret_bytes()).peer_id();
    assert_eq!(
        report["peer_id"].as_str(),
        Some(expected.to_string().as_str())
    );
    assert!(!dir.join("node.key").exists());
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(config.contains("identity = \"wallet\""), "{config}");

    let other = home.path().join("other");
    let refused = bitcraps(
        &[
            "node",
            "init",
            "--home",
            other.to_str().unwrap(),
            "--network-identity",
            "wallet",
        ],
        &[],
    );
    assert_eq!(refused.status.code(), Some(3));
    assert!(!other.join("config.toml").exists());
}
