//! The player and explorer commands against a live local testnet:
//! `testnet up --detach` (4 validators, 1 player node, the house tables),
//! then, on the player node, `bitcraps tables --json`, `play craps bet`
//! (which takes the seat first), `wallet show --json` until the ledger
//! shows the bet, and `explore block 1`; then, on the same testnet, a
//! funded keystore that the node does not hold signs locally (`--keystore`:
//! a transfer printed with `--sign-only` and sent with `tx send`, then back
//! to back without `--nonce` — the node's pending nonce — a table created
//! (the fee from the node's `min_fee`, no genesis), a bankroll deposit, a
//! craps bet with its seat; the table closed with `--wait`, which prints
//! the receipt, and a refused `--wait` exiting 7; the node's wallet sends
//! with `--wait` too), a wrong password and an oversized raw transaction
//! change nothing, and a craps roll verifies offline against the genesis,
//! its signed block's finality certificate included (and fails, exit code
//! 6, against another chain's). Without a testnet: keystores made, listed
//! and restored from their backup phrase.

use std::time::{Duration, Instant};

use bitcraps_tests::{LiveTestnet, base_port, flag_value, run_bitcraps};

/// Runs `bitcraps <args> --api <api> --cookie <cookie>`; returns success,
/// stdout and stderr.
fn bitcraps(api: &str, cookie: &str, args: &[&str]) -> (bool, String, String) {
    let mut line = args.to_vec();
    line.extend(["--api", api, "--cookie", cookie]);
    let (code, stdout, stderr) = run_bitcraps(&line, &[], None);
    (code == 0, stdout, stderr)
}

#[test]
fn a_player_bets_on_craps_and_explores_from_the_cli() {
    let net = LiveTestnet::start(&format!(
        "validators = 4\nplayers = 1\nbase_port = {}\n",
        base_port(28_000, 40)
    ));
    let line = net.tui_command();
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
        net.logs()
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
            net.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    let (ok, stdout, stderr) = bitcraps(&api, &cookie, &["explore", "block", "1"]);
    assert!(ok, "explore block 1 failed: {stderr}");
    assert!(stdout.starts_with("block      1\n"), "{stdout}");
    assert!(stdout.contains("hash "), "{stdout}");

    keystore_signing(&net, &api, &cookie);
    round_verification(&net, &api, &cookie);

    let (ok, output) = net.testnet(&["down"]);
    assert!(ok, "testnet down failed:\n{output}");
}

/// `wallet balance --json` of the testnet's `wallet-1` keystore.
fn account(api: &str, wallets: &str) -> serde_json::Value {
    let (code, stdout, stderr) = run_bitcraps(
        &[
            "wallet",
            "balance",
            "--json",
            "--api",
            api,
            "--keystore",
            "wallet-1",
            "--wallet-dir",
            wallets,
        ],
        &[],
        None,
    );
    assert_eq!(code, 0, "wallet balance failed: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// Waits until the `wallet-1` account's nonce reaches `nonce`.
fn wait_for_nonce(net: &LiveTestnet, api: &str, wallets: &str, nonce: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let account = account(api, wallets);
        if account["nonce"].as_u64().unwrap() >= nonce {
            return account;
        }
        assert!(
            Instant::now() < deadline,
            "nonce {nonce} never reached: {account}\n{}",
            net.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A funded keystore the player node does not hold (`wallet-1`) signs
/// here and submits through the open route.
fn keystore_signing(net: &LiveTestnet, api: &str, cookie: &str) {
    let dir = net.dir();
    let wallets = dir.join("wallets");
    let wallets = wallets.to_str().unwrap();
    let password = dir.join("wallets/wallet-1.password");
    let genesis = dir.join("genesis.json");
    let signing = [
        "--api",
        api,
        "--keystore",
        "wallet-1",
        "--wallet-dir",
        wallets,
        "--password-file",
        password.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ];
    let with = |args: &[&str]| {
        let mut line: Vec<&str> = args.to_vec();
        line.extend_from_slice(&signing);
        run_bitcraps(&line, &[], None)
    };
    // No genesis anywhere (not given, and a home without one): the fee is
    // the min_fee the node reports.
    let no_home = dir.join("no-home");
    let without_genesis = |args: &[&str]| {
        let mut line: Vec<&str> = args.to_vec();
        line.extend_from_slice(&signing[..signing.len() - 2]);
        run_bitcraps(&line, &[("BITCRAPS_HOME", no_home.to_str().unwrap())], None)
    };

    let (code, stdout, stderr) =
        run_bitcraps(&["wallet", "list", "--wallet-dir", wallets], &[], None);
    assert_eq!(code, 0, "wallet list failed: {stderr}");
    let listed = stdout
        .lines()
        .find(|l| l.starts_with("wallet-1 "))
        .unwrap_or_else(|| panic!("no wallet-1 in:\n{stdout}"));
    let me = listed.split_whitespace().nth(1).unwrap().to_owned();
    let (code, stdout, _) = run_bitcraps(
        &[
            "wallet",
            "address",
            "--keystore",
            "wallet-1",
            "--wallet-dir",
            wallets,
        ],
        &[],
        None,
    );
    assert_eq!((code, stdout.trim()), (0, me.as_str()));
    let start = account(api, wallets);
    let nonce = start["nonce"].as_u64().unwrap();
    let (_, node_wallet, _) = bitcraps(api, cookie, &["wallet", "address"]);
    let node_wallet = node_wallet.trim().to_owned();

    // A wrong password: exit code 8, nothing sent.
    let wrong = dir.join("wrong.password");
    std::fs::write(&wrong, "not-it\n").unwrap();
    let (code, _, stderr) = run_bitcraps(
        &[
            "tx",
            "transfer",
            &node_wallet,
            "1",
            "--api",
            api,
            "--keystore",
            "wallet-1",
            "--wallet-dir",
            wallets,
            "--password-file",
            wrong.to_str().unwrap(),
            "--fee",
            "1",
        ],
        &[],
        None,
    );
    assert_eq!(code, 8, "{stderr}");
    assert!(stderr.contains("password is wrong"), "{stderr}");

    // Signed here, printed, then sent with `tx send` from stdin.
    let (code, signed, stderr) = with(&["tx", "transfer", &node_wallet, "7", "--sign-only"]);
    assert_eq!(code, 0, "tx transfer --sign-only failed: {stderr}");
    assert_eq!(signed.lines().count(), 1, "{signed}");
    let (code, stdout, stderr) = run_bitcraps(&["tx", "send", "--api", api], &[], Some(&signed));
    assert_eq!(code, 0, "tx send failed: {stderr}\n{}", net.logs());
    assert!(stdout.starts_with("sent transfer"), "{stdout}");
    // Oversized input is refused before anything is sent.
    let oversized = "ab".repeat(4096);
    let (code, _, stderr) = run_bitcraps(&["tx", "send", "--api", api], &[], Some(&oversized));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");

    // Three more back to back, without --nonce: each command takes the
    // account's pending nonce from the node (after those still in its
    // mempool). A table (its fee from the node's min_fee), a deposit, a
    // bet that takes its seat first (two transactions).
    let (code, stdout, stderr) = without_genesis(&["tables", "create", "crash", "Mine"]);
    assert_eq!(code, 0, "tables create failed: {stderr}");
    assert!(
        stdout.contains(&format!("nonce {}, fee 1)", nonce + 1)),
        "the pending nonce and the chain's min_fee: {stdout}"
    );
    let (code, stdout, stderr) = with(&["bankroll", "deposit", "100"]);
    assert_eq!(code, 0, "bankroll deposit failed: {stderr}");
    assert!(
        stdout.contains(&format!("nonce {},", nonce + 2)),
        "{stdout}"
    );
    let (code, stdout, stderr) = with(&["play", "craps", "bet", "2", "field", "3"]);
    assert_eq!(code, 0, "play craps bet failed: {stderr}");
    let sent: Vec<&str> = stdout.lines().filter(|l| l.starts_with("sent ")).collect();
    assert_eq!(sent.len(), 2, "{stdout}");
    assert!(
        sent[0].contains(&format!("nonce {},", nonce + 3))
            && sent[1].contains(&format!("nonce {},", nonce + 4)),
        "{stdout}"
    );

    let after = wait_for_nonce(net, api, wallets, nonce + 5);
    assert_ne!(
        after["bankroll_shares"], "0",
        "the deposit bought shares: {after}"
    );
    let spent = start["balance"].as_u64().unwrap() - after["balance"].as_u64().unwrap();
    assert!(
        spent >= 7 + 100,
        "the transfer and the deposit left: {start} → {after}"
    );

    let (_, stdout, _) = bitcraps(api, cookie, &["tables", "--json"]);
    let tables: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mine = tables["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Mine" && t["owner"] == me.as_str())
        .unwrap_or_else(|| panic!("no table Mine of {me} in {stdout}"));
    assert!(
        tables["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == 2
                && t["players"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| *p == me.as_str())),
        "the keystore's account has a seat at table 2: {stdout}"
    );
    let table = mine["id"].as_u64().unwrap();
    let id = table.to_string();
    // --wait: the command returns once a finalized block has the close,
    // with its receipt.
    let (code, stdout, stderr) = with(&["tables", "close", &id, "--wait"]);
    assert_eq!(code, 0, "tables close --wait failed: {stdout}{stderr}");
    let finalized = stdout
        .lines()
        .find(|l| l.starts_with("finalized in block "))
        .unwrap_or_else(|| panic!("no receipt in:\n{stdout}"));
    assert!(finalized.contains(": applied, fee charged 1"), "{stdout}");
    assert_eq!(account(api, wallets)["nonce"], nonce + 6, "no wait needed");
    let (_, stdout, _) = bitcraps(api, cookie, &["tables", "--json"]);
    let tables: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        !tables["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == table),
        "table {id} is closed: {stdout}"
    );

    // A transaction the ledger refuses (there is no table 999): --wait
    // prints the rejection and exits 7.
    let (code, stdout, stderr) =
        with(&["tables", "leave", "999", "--wait", "--wait-timeout", "60"]);
    assert_eq!(code, 7, "{stdout}{stderr}");
    assert!(
        stdout.contains("finalized in block ") && stdout.contains(": rejected reason="),
        "{stdout}"
    );
    assert!(stderr.contains("the ledger rejected it"), "{stderr}");

    // The node's wallet (the wallet-route path) waits the same way; --json
    // prints the submission, then the included transaction.
    let (ok, stdout, stderr) = bitcraps(
        api,
        cookie,
        &["wallet", "transfer", &me, "1", "--wait", "--json"],
    );
    assert!(ok, "wallet transfer --wait failed: {stdout}{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0]["status"], "pending", "{stdout}");
    assert_eq!(lines[1]["status"], "applied", "{stdout}");
    assert_eq!(lines[1]["hash"], lines[0]["hash"], "{stdout}");
    assert!(lines[1]["block_height"].as_u64().is_some(), "{stdout}");
}

/// A craps roll of the house table verifies offline against the genesis,
/// and not against another chain's.
fn round_verification(net: &LiveTestnet, api: &str, cookie: &str) {
    let dir = net.dir();
    let genesis = dir.join("genesis.json");
    let genesis = genesis.to_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let stdout = loop {
        let (ok, stdout, stderr) = bitcraps(
            api,
            cookie,
            &[
                "explore",
                "round",
                "2",
                "1",
                "--verify",
                "--genesis",
                genesis,
            ],
        );
        if ok {
            break stdout;
        }
        assert!(
            !stderr.contains("did not verify"),
            "roll 1 failed verification: {stdout}{stderr}"
        );
        assert!(
            Instant::now() < deadline,
            "roll 1 of table 2 never verified: {stdout}{stderr}\n{}",
            net.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    for check in [
        "✓ group key",
        "✓ σ",
        "✓ block",
        "✓ finalized",
        "✓ published",
        "✓ outcome",
    ] {
        assert!(stdout.contains(check), "{check}:\n{stdout}");
    }
    assert!(stdout.contains("VERIFIED: "), "{stdout}");

    // Another chain's genesis (same validators, another name): exit code 6.
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(genesis).unwrap()).unwrap();
    other["chain_name"] = "another-chain".into();
    let other_file = dir.join("other-genesis.json");
    std::fs::write(&other_file, other.to_string()).unwrap();
    let (code, stdout, stderr) = run_bitcraps(
        &[
            "explore",
            "round",
            "2",
            "1",
            "--api",
            api,
            "--genesis",
            other_file.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert_eq!(code, 6, "{stdout}{stderr}");
    assert!(
        stdout.contains("✗ σ") && stdout.contains("NOT VERIFIED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✗ finalized"),
        "another chain's key does not finalize it: {stdout}"
    );
}

#[test]
fn keystores_are_made_and_restored_without_a_node() {
    let work = tempfile::tempdir().unwrap();
    let wallets = work.path().to_str().unwrap();
    let env = [("BITCRAPS_WALLET_PASSWORD", "correct horse")];
    let (code, stdout, stderr) = run_bitcraps(
        &["wallet", "new", "alice", "--json", "--wallet-dir", wallets],
        &env,
        None,
    );
    assert_eq!(code, 0, "wallet new failed: {stderr}");
    let made: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let phrase = made["mnemonic"].as_str().unwrap().to_owned();
    assert_eq!(phrase.split_whitespace().count(), 24);

    // Not over an existing keystore (exit code 5), and not without a password (8).
    let (code, _, _) = run_bitcraps(
        &["wallet", "new", "alice", "--wallet-dir", wallets],
        &env,
        None,
    );
    assert_eq!(code, 5);
    let (code, _, stderr) = run_bitcraps(
        &["wallet", "new", "bob", "--wallet-dir", wallets],
        &[],
        None,
    );
    assert_eq!(code, 8, "{stderr}");
    assert!(stderr.contains("--password-file"), "{stderr}");

    // The phrase on stdin restores the same key.
    let (code, stdout, stderr) = run_bitcraps(
        &["wallet", "import", "restored", "--wallet-dir", wallets],
        &env,
        Some(&format!("{phrase}\n")),
    );
    assert_eq!(code, 0, "wallet import failed: {stderr}");
    assert!(
        stdout.contains(made["address"].as_str().unwrap()),
        "{stdout}"
    );
    let (code, stdout, _) = run_bitcraps(
        &["wallet", "list", "--json", "--wallet-dir", wallets],
        &[],
        None,
    );
    assert_eq!(code, 0);
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let addresses: Vec<&str> = listed["wallets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, vec![made["address"].as_str().unwrap(); 2]);
    // A bad phrase writes nothing.
    let (code, _, stderr) = run_bitcraps(
        &["wallet", "import", "junk", "--wallet-dir", wallets],
        &env,
        Some("abandon abandon\n"),
    );
    assert_eq!(code, 8, "{stderr}");
    assert!(!work.path().join("junk.json").exists());
}
