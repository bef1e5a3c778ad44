//! The CLI paths a player, a validator and an operator lean on that
//! `cli_play` does not drive, against a live local testnet (`testnet up
//! --detach`: 4 validators, 1 player node, the house tables), through the
//! player node's wallet:
//!
//! - crash: `play crash cash-out` with no bet is refused by the ledger
//!   (exit 7, the reason printed); `play crash bet` (taking the seat; again
//!   while the ledger refuses it outside the betting phase), then `play
//!   crash cash-out` while the round runs, each with `--wait`;
//! - `explore tx` of the bet and `explore account` agree with the node's
//!   `wallet show`;
//! - `bankroll deposit`, `bankroll` (show) and `bankroll withdraw`, the
//!   shares moving into the pending withdrawals;
//! - `explore validators` and `validator status ADDRESS` (JSON and text);
//! - `explore leaderboard --game crash` lists the player, who has bet.

use std::time::{Duration, Instant};

use bitcraps_tests::{LiveTestnet, base_port, flag_value, run_bitcraps};
use serde_json::Value;

/// Runs `bitcraps <args> --api <api> --cookie <cookie>`; returns the exit
/// code, stdout and stderr.
fn bitcraps(api: &str, cookie: &str, args: &[&str]) -> (i32, String, String) {
    let mut line = args.to_vec();
    line.extend(["--api", api, "--cookie", cookie]);
    run_bitcraps(&line, &[], None)
}

/// Runs a command that must succeed and print one JSON value.
fn json(net: &LiveTestnet, api: &str, cookie: &str, args: &[&str]) -> Value {
    let (code, stdout, stderr) = bitcraps(api, cookie, args);
    if code != 0 {
        net.fail(format!("{args:?} exited {code}: {stdout}{stderr}"));
    }
    serde_json::from_str(&stdout).unwrap_or_else(|e| net.fail(format!("{args:?}: {e}: {stdout}")))
}

/// The first value under `key` anywhere in `value`.
fn find_key(value: &Value, key: &str) -> Option<Value> {
    match value {
        Value::Object(map) => map
            .get(key)
            .cloned()
            .or_else(|| map.values().find_map(|v| find_key(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}

/// The included transactions `--wait --json` printed: of its lines (each
/// submission, then each included transaction), those with a block.
fn included(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|reply| reply["block_height"].as_u64().is_some())
        .collect()
}

/// A share count: the API writes `u128`s as decimal strings.
fn shares(value: &Value) -> Option<u128> {
    value.as_str()?.parse().ok()
}

#[test]
fn a_player_a_validator_and_an_operator_use_the_cli_on_a_live_node() {
    // One of 8 slots of 100 ports from 30600 by process id, so a rerun
    // does not meet the last run's sockets in TIME_WAIT.
    let base_port = base_port(30_600, 8);
    let net = LiveTestnet::start(&format!(
        "validators = 4\nplayers = 1\nbase_port = {base_port}\n"
    ));
    let line = net.tui_command();
    let (api, cookie) = (flag_value(&line, "--api"), flag_value(&line, "--cookie"));
    let (api, cookie) = (api.as_str(), cookie.as_str());
    let (_, me, _) = bitcraps(api, cookie, &["wallet", "address"]);
    let me = me.trim().to_owned();

    let tables = json(&net, api, cookie, &["tables", "--json"]);
    let crash = tables["tables"]
        .as_array()
        .and_then(|tables| tables.iter().find(|t| t["game"].get("crash").is_some()))
        .unwrap_or_else(|| net.fail(format!("no crash table in {tables}")))["id"]
        .to_string();

    // No bet to cash out: finalized, refused, exit 7 with the reason.
    let (code, stdout, stderr) = bitcraps(
        api,
        cookie,
        &["play", "crash", "cash-out", &crash, "--wait"],
    );
    assert_eq!(code, 7, "{stdout}{stderr}");
    assert!(stdout.contains("you have no bet in round"), "{stdout}");
    assert!(stderr.contains("the ledger rejected it"), "{stderr}");

    // A bet, then cash-outs until one lands while the round runs (before
    // the round starts, the ledger refuses it; if the round crashed first,
    // the bet is lost and the next round gets a new one).
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut bets = Vec::new();
    let cashed_out = 'rounds: loop {
        let (code, stdout, stderr) = bitcraps(
            api,
            cookie,
            &["play", "crash", "bet", &crash, "5", "--wait", "--json"],
        );
        if Instant::now() >= deadline {
            net.fail(format!(
                "no crash cash-out landed in 120 s: {stdout}{stderr}"
            ));
        }
        match code {
            0 => {}
            // Outside the betting phase the ledger refuses a bet.
            7 => {
                std::thread::sleep(Duration::from_millis(200));
                continue 'rounds;
            }
            _ => net.fail(format!("play crash bet exited {code}: {stdout}{stderr}")),
        }
        let bet = included(&stdout)
            .pop()
            .unwrap_or_else(|| net.fail(format!("no included bet in {stdout}")));
        assert_eq!(bet["receipt"]["status"], "applied", "{stdout}");
        assert!(stdout.contains("bet_placed"), "{stdout}");
        bets.push(bet);
        loop {
            if Instant::now() >= deadline {
                net.fail("no crash cash-out landed in 120 s");
            }
            let (code, stdout, stderr) = bitcraps(
                api,
                cookie,
                &["play", "crash", "cash-out", &crash, "--wait", "--json"],
            );
            match code {
                0 => {
                    let reply = included(&stdout)
                        .pop()
                        .unwrap_or_else(|| net.fail(format!("no included cash-out in {stdout}")));
                    break 'rounds reply;
                }
                7 if stdout.contains("you have no bet in round") => continue 'rounds,
                7 => std::thread::sleep(Duration::from_millis(200)),
                _ => net.fail(format!(
                    "play crash cash-out exited {code}: {stdout}{stderr}"
                )),
            }
        }
    };
    assert_eq!(cashed_out["receipt"]["status"], "applied", "{cashed_out}");
    assert!(
        cashed_out.to_string().contains("crash_cashed_out"),
        "{cashed_out}"
    );

    // The explorer agrees with the receipts and with the wallet.
    let bet = bets.last().expect("a bet");
    let hash = bet["hash"].as_str().expect("a hash");
    let explored = json(&net, api, cookie, &["explore", "tx", hash, "--json"]);
    assert_eq!(explored["block_height"], bet["block_height"], "{explored}");
    assert_eq!(explored["receipt"], bet["receipt"], "{explored}");
    let wallet = json(&net, api, cookie, &["wallet", "show", "--json"]);
    let account = json(&net, api, cookie, &["explore", "account", &me, "--json"]);
    assert_eq!(account["address"], wallet["address"], "{account}");
    assert_eq!(account["nonce"], wallet["nonce"], "{account}");
    // History is newest first: the cash-out was the wallet's last
    // transaction.
    let history = |account: &Value| account["history"].as_array().cloned().unwrap_or_default();
    let newest_tx = history(&account)
        .into_iter()
        .find(|entry| !entry["tx"].is_null())
        .unwrap_or_else(|| net.fail(format!("no transaction in the history: {account}")));
    assert_eq!(
        newest_tx["tx"], cashed_out["hash"],
        "the cash-out heads the account's transactions: {account}"
    );
    // The payout comes when the round ends, in a block's own events: the
    // history shows it too, as the block's entry.
    let cashed = cashed_out["receipt"]["events"]
        .as_array()
        .and_then(|events| events.iter().find_map(|e| e.get("crash_cashed_out")))
        .cloned()
        .unwrap_or_else(|| net.fail(format!("no crash_cashed_out in {cashed_out}")));
    let settle_deadline = Instant::now() + Duration::from_secs(60);
    let settled = loop {
        let account = json(&net, api, cookie, &["explore", "account", &me, "--json"]);
        let settled = history(&account)
            .into_iter()
            .filter(|entry| entry["tx"].is_null())
            .flat_map(|entry| entry["events"].as_array().cloned().unwrap_or_default())
            .filter_map(|event| event.get("bet_settled").cloned())
            .find(|s| s["table"] == cashed["table"] && s["bet"] == cashed["bet"]);
        if let Some(settled) = settled {
            break settled;
        }
        if Instant::now() >= settle_deadline {
            net.fail(format!(
                "the cashed-out bet's settlement is not in the history after 60 s: {account}"
            ));
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    // A cash-out wins only if the round outlived it, which the beacon
    // decided after the cash-out was applied: a round still running (its
    // survival past the cash-out proven) or capped says win, and a crash
    // point says which result the settlement must carry (at the same
    // hundredth either can be right).
    let (table, round) = (cashed["table"].to_string(), cashed["round"].to_string());
    let explored = json(
        &net,
        api,
        cookie,
        &["explore", "round", &table, &round, "--json"],
    );
    let outcome = find_key(&explored, "outcome")
        .unwrap_or_else(|| net.fail(format!("no outcome for the round: {explored}")));
    let cashed_at = cashed["at"]["hundredths"].as_u64().expect("a multiplier");
    let won = if outcome.is_null() {
        if find_key(&explored, "status") != Some(Value::from("running")) {
            net.fail(format!(
                "a round without an outcome that is not running: {explored}"
            ));
        }
        Some(true)
    } else if outcome == "capped" {
        Some(true)
    } else {
        let crashed = outcome["crashed"]["at_hundredths"]
            .as_u64()
            .unwrap_or_else(|| net.fail(format!("not a crash outcome: {explored}")));
        (crashed != cashed_at).then_some(crashed > cashed_at)
    };
    let paid = settled["paid"].as_u64().expect("paid");
    match (won, settled["result"].as_str()) {
        (Some(true) | None, Some("win")) => assert!(paid >= 5, "a win pays its stake: {settled}"),
        (Some(false) | None, Some("lose")) => assert_eq!(paid, 0, "{settled}"),
        _ => net.fail(format!(
            "the settlement {settled} disagrees with the round's outcome {outcome} for a cash-out at {cashed_at}"
        )),
    }

    // The bankroll: a deposit buys shares, a withdrawal queues them.
    let (code, stdout, stderr) = bitcraps(
        api,
        cookie,
        &["bankroll", "deposit", "100", "--wait", "--json"],
    );
    assert_eq!(code, 0, "bankroll deposit failed: {stdout}{stderr}");
    let wallet = json(&net, api, cookie, &["wallet", "show", "--json"]);
    let deposited = shares(&wallet["bankroll_shares"])
        .filter(|shares| *shares > 0)
        .unwrap_or_else(|| net.fail(format!("no shares after the deposit: {wallet}")));
    let before = json(&net, api, cookie, &["bankroll", "--json"]);
    let (code, stdout, stderr) = bitcraps(
        api,
        cookie,
        &[
            "bankroll",
            "withdraw",
            &deposited.to_string(),
            "--wait",
            "--json",
        ],
    );
    assert_eq!(code, 0, "bankroll withdraw failed: {stdout}{stderr}");
    let after = json(&net, api, cookie, &["explore", "bankroll", "--json"]);
    assert_eq!(
        shares(&after["pending_withdrawal_shares"]),
        shares(&before["pending_withdrawal_shares"]).map(|pending| pending + deposited),
        "the withdrawn shares wait out the delay: {before} then {after}"
    );

    // Validators, as an operator and a validator see them.
    let validators = json(&net, api, cookie, &["explore", "validators", "--json"]);
    let validators = validators["validators"]
        .as_array()
        .unwrap_or_else(|| net.fail(format!("no validators in {validators}")))
        .clone();
    assert_eq!(validators.len(), 4, "{validators:?}");
    for validator in &validators {
        assert_eq!(validator["active"], true, "{validator}");
        assert!(validator["stake"].as_u64().unwrap_or(0) > 0, "{validator}");
    }
    let first = validators[0]["address"].as_str().expect("an address");
    let status = json(&net, api, cookie, &["validator", "status", first, "--json"]);
    assert_eq!(
        status["validator"]["stake"], validators[0]["stake"],
        "{status}"
    );
    let (code, stdout, stderr) = bitcraps(api, cookie, &["validator", "status", first]);
    assert_eq!(code, 0, "validator status failed: {stderr}");
    assert!(
        stdout.contains("views led without a block this epoch"),
        "{stdout}"
    );

    // The player has bet on crash, so it is on the crash leaderboard (the
    // explorer index may trail the ledger by a block: polled).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let board = json(
            &net,
            api,
            cookie,
            &["explore", "leaderboard", "--game", "crash", "--json"],
        );
        if board.to_string().contains(&me) {
            break;
        }
        if Instant::now() >= deadline {
            net.fail(format!("{me} never on the crash leaderboard: {board}"));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
