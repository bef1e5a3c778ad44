//! The player and explorer commands against a live local testnet:
//! `testnet up --detach` (4 validators, 1 player node, the house tables),
//! then, on the player node, `bitcraps tables --json`, `play craps bet`
//! (which takes the seat first), `wallet show --json` until the ledger
//! shows the bet, and `explore block 1`.

use std::process::Command;
use std::time::{Duration, Instant};

use bitcraps_tests::{
    Down, base_port, bitcraps_binary, flag_value, logs, testnet, tui_command, up_detached,
};

/// Runs `bitcraps <args> --api <api> --cookie <cookie>`; returns success,
/// stdout and stderr.
fn bitcraps(api: &str, cookie: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(bitcraps_binary())
        .args(args)
        .args(["--api", api, "--cookie", cookie])
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_player_bets_on_craps_and_explores_from_the_cli() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("net");
    let _down = Down(dir.clone());
    let output = up_detached(
        &dir,
        &format!(
            "validators = 4\nplayers = 1\nbase_port = {}\n",
            base_port(28_000, 40)
        ),
    );
    let line = tui_command(&output);
    let (api, cookie) = (flag_value(&line, "--api"), flag_value(&line, "--cookie"));

    let (ok, stdout, stderr) = bitcraps(&api, &cookie, &["tables", "--json"]);
    assert!(ok, "tables --json failed: {stderr}");
    let tables: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let craps = tables["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["game"].get("craps").is_some())
        .unwrap_or_else(|| panic!("no craps table in {stdout}"));
    assert_eq!(craps["id"], 2, "the house craps table is table 2: {stdout}");

    let (ok, stdout, _) = bitcraps(&api, &cookie, &["wallet", "show", "--json"]);
    assert!(ok, "wallet show failed");
    let before: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let balance_before = before["balance"].as_u64().unwrap();

    let (ok, stdout, stderr) = bitcraps(&api, &cookie, &["play", "craps", "bet", "2", "pass", "5"]);
    assert!(
        ok,
        "play craps bet failed: {stdout}{stderr}\n{}",
        logs(&dir)
    );
    let sent: Vec<&str> = stdout.lines().filter(|l| l.starts_with("sent ")).collect();
    assert_eq!(sent.len(), 2, "a seat, then the bet:\n{stdout}");
    assert!(sent[0].contains("join_table"), "{stdout}");
    assert!(
        sent[1].contains("craps_bet") && sent[1].contains("kind=pass"),
        "{stdout}"
    );

    // The ledger shows the bet: the balance went down or the history has it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (ok, stdout, stderr) = bitcraps(&api, &cookie, &["wallet", "show", "--json"]);
        assert!(ok, "wallet show failed: {stderr}");
        let account: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        // The stake is 5 chips; the seat's fee alone is not enough.
        let staked = account["balance"].as_u64().unwrap() + 5 <= balance_before;
        if staked || stdout.contains("\"bet_placed\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the bet never showed in the wallet:\n{stdout}\n{}",
            logs(&dir)
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    let (ok, stdout, stderr) = bitcraps(&api, &cookie, &["explore", "block", "1"]);
    assert!(ok, "explore block 1 failed: {stderr}");
    assert!(stdout.starts_with("block      1\n"), "{stdout}");
    assert!(stdout.contains("hash "), "{stdout}");

    let (ok, output) = testnet(&dir, &["down"]);
    assert!(ok, "testnet down failed:\n{output}");
}
