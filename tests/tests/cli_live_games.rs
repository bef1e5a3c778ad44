//! The rest of the player's CLI against a live local testnet (`testnet up
//! --detach`: 4 validators, 1 player node, the house tables; craps rolls
//! 20 s apart, a faucet of at most 500 chips a request), through the player
//! node's wallet and the testnet's funded `wallet-1` keystore, every effect
//! read back from the ledger through the API (receipts of `--wait --json`,
//! `wallet balance`, `tables`, `explore round`):
//!
//! - `wallet faucet`: within the limit it mints; over it the ledger
//!   refuses it (exit 7) and only the fee moves; 0 is refused before
//!   anything is sent;
//! - `tables join`: an unknown table is refused by the ledger; a seat at a
//!   new one-seat craps table is taken and listed; then that table is full
//!   for `wallet-1`, both for `tables join` (the ledger) and `play craps
//!   bet` (refused before sending);
//! - `play craps odds`, `take-down`, `working`: before the table's first
//!   roll (no roll can come for 20 s after the table opens) odds behind a
//!   pass bet are refused (no point) and the pass bet comes down with its
//!   stake; once a roll sets a point, odds go behind it (over the 3-4-5×
//!   limit refused), the odds are switched off (`tables bets` shows the
//!   switch and that they no longer work), the contract bet cannot come
//!   down, a switch on an unknown bet is refused, and zero odds take the
//!   odds down again;
//! - `play crash bet --auto`: the ledger cashes the bet out at the
//!   multiplier and pays it;
//! - `completions` (another test, no testnet): each shell's script names
//!   every subcommand; the bash one is valid bash and completes them.
//!
//! Ports: 31400–31699 (`base_port(31_400, 3)`).

use std::time::{Duration, Instant};

use bitcraps_tests::{LiveTestnet, base_port, flag_value, run_bitcraps};
use serde_json::Value;

/// The chain's craps roll interval: a table takes no roll for this long
/// after it opens or rolls, so the phase of its bets is known meanwhile.
const ROLL_INTERVAL_MS: u64 = 20_000;

/// The most one faucet transaction mints on this testnet.
const FAUCET_MAX: u64 = 500;

/// One signer's command line tail (`--api`, and the cookie or a keystore).
struct Cli<'a> {
    net: &'a LiveTestnet,
    tail: Vec<String>,
    address: String,
}

/// A finalized transaction's `--wait --json` output: the exit code, what
/// was printed and the last included transaction's reply.
struct Sent {
    code: i32,
    stdout: String,
    stderr: String,
    reply: Value,
}

impl Sent {
    /// Its receipt's events.
    fn events(&self) -> &[Value] {
        self.reply["receipt"]["events"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The first event named `name` (`bet_placed`, `odds_changed`…).
    fn event(&self, name: &str) -> &Value {
        self.events()
            .iter()
            .find_map(|e| e.get(name))
            .unwrap_or_else(|| panic!("no {name} event in {}", self.reply))
    }

    /// What its receipt moved on `address`'s balance (fee included).
    fn balance_moved(&self, address: &str) -> i64 {
        self.events()
            .iter()
            .filter_map(|e| e.get("balance_changed"))
            .filter(|change| change["account"] == address)
            .map(|change| chips(&change["after"]) - chips(&change["before"]))
            .sum()
    }

    /// The fee its receipt charged.
    fn fee(&self) -> i64 {
        chips(&self.reply["receipt"]["fee_charged"])
    }
}

/// A chip amount of the API's JSON.
fn chips(value: &Value) -> i64 {
    value
        .as_u64()
        .and_then(|c| i64::try_from(c).ok())
        .unwrap_or_else(|| panic!("{value} is not a chip amount"))
}

impl<'a> Cli<'a> {
    /// Runs `bitcraps <args> <tail>`: the exit code, stdout and stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut line = args.to_vec();
        line.extend(self.tail.iter().map(String::as_str));
        run_bitcraps(&line, &[], None)
    }

    /// Runs a command that must succeed and print one JSON value.
    fn json(&self, args: &[&str]) -> Value {
        let (code, stdout, stderr) = self.run(args);
        if code != 0 {
            self.net
                .fail(format!("{args:?} exited {code}: {stdout}{stderr}"));
        }
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| self.net.fail(format!("{args:?}: {e}: {stdout}")))
    }

    /// Runs a sending command with `--wait --json`; the reply of the last
    /// transaction a block included.
    fn send(&self, args: &[&str]) -> Sent {
        let mut line = args.to_vec();
        line.extend(["--wait", "--json"]);
        let (code, stdout, stderr) = self.run(&line);
        let reply = stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .rfind(|reply| reply["block_height"].as_u64().is_some())
            .unwrap_or_else(|| {
                self.net.fail(format!(
                    "{args:?} exited {code} with no included transaction: {stdout}{stderr}"
                ))
            });
        Sent {
            code,
            stdout,
            stderr,
            reply,
        }
    }

    /// Sends a transaction the ledger must apply.
    fn applied(&self, args: &[&str]) -> Sent {
        let sent = self.send(args);
        if sent.code != 0 || sent.reply["receipt"]["status"] != "applied" {
            self.net.fail(format!(
                "{args:?} exited {}: {}{}",
                sent.code, sent.stdout, sent.stderr
            ));
        }
        sent
    }

    /// Sends a transaction the ledger must refuse for `reason` (exit 7,
    /// the reason printed): only its fee moves.
    fn refused(&self, args: &[&str], reason: &str) -> Sent {
        let sent = self.send(args);
        assert_eq!(sent.code, 7, "{args:?}: {}{}", sent.stdout, sent.stderr);
        let status = sent.reply["receipt"]["status"]["rejected"].to_string();
        assert!(status.contains(reason), "{args:?}: {status}");
        assert!(
            sent.stderr.contains("the ledger rejected it") && sent.stderr.contains(reason),
            "{args:?}: {}",
            sent.stderr
        );
        assert_eq!(
            sent.balance_moved(&self.address),
            -sent.fee(),
            "a refused {args:?} moves only its fee: {}",
            sent.reply
        );
        sent
    }

    /// Runs a command that must be refused before anything is sent (exit
    /// `code`, `message` on stderr): the account does not change.
    fn refused_unsent(&self, args: &[&str], code: i32, message: &str) {
        let before = self.account();
        let (exit, stdout, stderr) = self.run(args);
        assert_eq!(exit, code, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(self.account(), before, "{args:?} changed the account");
    }

    /// `wallet balance --json`: balance, nonce, stake, shares.
    fn account(&self) -> Value {
        self.json(&["wallet", "balance", "--json"])
    }

    /// The spendable balance.
    fn balance(&self) -> i64 {
        chips(&self.account()["balance"])
    }
}

#[test]
fn faucet_seats_craps_odds_and_crash_auto_cash_out_on_a_live_node() {
    let net = LiveTestnet::start(&format!(
        "validators = 4\nplayers = 1\nbase_port = {}\n[chain]\n\
         craps_roll_interval_ms = {ROLL_INTERVAL_MS}\nfaucet_max_per_request = {FAUCET_MAX}\n",
        base_port(31_400, 3)
    ));
    let line = net.tui_command();
    let api = flag_value(&line, "--api");
    let mut me = Cli {
        net: &net,
        tail: vec![
            "--api".into(),
            api.clone(),
            "--cookie".into(),
            flag_value(&line, "--cookie"),
        ],
        address: String::new(),
    };
    me.address = me.json(&["wallet", "address", "--json"])["address"]
        .as_str()
        .expect("an address")
        .to_owned();
    let wallets = net.dir().join("wallets");
    let mut other = Cli {
        net: &net,
        tail: vec![
            "--api".into(),
            api,
            "--keystore".into(),
            "wallet-1".into(),
            "--wallet-dir".into(),
            wallets.to_str().expect("a UTF-8 path").into(),
            "--password-file".into(),
            wallets
                .join("wallet-1.password")
                .to_str()
                .expect("a UTF-8 path")
                .into(),
        ],
        address: String::new(),
    };
    other.address = other.account()["address"]
        .as_str()
        .expect("an address")
        .to_owned();

    faucet(&me);
    crash_auto_cash_out(&me);
    let table = seats(&me, &other);
    craps_odds_take_down_and_working(&me, table);
}

/// `wallet faucet`: minted within the limit, refused over it and at 0.
fn faucet(me: &Cli) {
    let before = me.balance();
    let minted = me.applied(&["wallet", "faucet", "300"]);
    assert_eq!(
        minted.event("faucet_paid")["amount"],
        300,
        "{}",
        minted.reply
    );
    assert_eq!(minted.balance_moved(&me.address), 300 - minted.fee());
    let over = me.refused(
        &["wallet", "faucet", &(FAUCET_MAX + 1).to_string()],
        "faucet_limit",
    );
    assert!(
        over.stderr.contains(&format!("max={FAUCET_MAX}")),
        "{}",
        over.stderr
    );
    assert_eq!(
        me.balance(),
        before + 300 - minted.fee() - over.fee(),
        "the faucet minted 300 once; the refused request cost only its fee"
    );
    me.refused_unsent(
        &["wallet", "faucet", "0"],
        1,
        "the amount must be at least 1",
    );
}

/// `play crash bet --auto 1.2` until a round reaches 1.2×: the ledger
/// cashes the bet out there and pays 120 for 100.
fn crash_auto_cash_out(me: &Cli) {
    let crash = "1";
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        assert!(
            Instant::now() < deadline,
            "no crash round reached 1.2× in 150 s"
        );
        let sent = me.send(&["play", "crash", "bet", crash, "100", "--auto", "1.2"]);
        if sent.code == 7 {
            // Refused outside the betting phase: the next round's.
            std::thread::sleep(Duration::from_millis(300));
            continue;
        }
        assert_eq!(sent.code, 0, "{}{}", sent.stdout, sent.stderr);
        let placed = sent.event("bet_placed");
        assert_eq!(placed["wager"]["crash"]["auto_cash_out"], 120, "{placed}");
        assert_eq!(sent.balance_moved(&me.address), -sent.fee() - 100);
        // The wallet's balance after the bet: nothing else of the
        // wallet's is open, so only this bet's settlement changes it.
        let after_bet = sent
            .events()
            .iter()
            .filter_map(|e| e.get("balance_changed"))
            .rfind(|change| change["account"] == me.address.as_str())
            .map(|change| chips(&change["after"]))
            .expect("the bet moved the balance");
        let (bet, round) = (placed["bet"].clone(), placed["round"].to_string());
        let settled = settled_round(me, crash, &round);
        let events = settled["events"].as_array().expect("events");
        let paid = events
            .iter()
            .filter_map(|e| e.get("bet_settled"))
            .find(|s| s["bet"] == bet && s["player"] == me.address.as_str())
            .unwrap_or_else(|| me.net.fail(format!("bet {bet} never settled: {settled}")));
        let cashed_out = events
            .iter()
            .filter_map(|e| e.get("crash_cashed_out"))
            .find(|c| c["bet"] == bet);
        let crashed_at = settled["outcome"]["crashed"]["at_hundredths"].as_u64();
        if crashed_at.is_some_and(|at| at < 120) {
            assert!(
                cashed_out.is_none(),
                "cashed out above the crash: {settled}"
            );
            assert_eq!(paid["result"], "lose", "{settled}");
            assert_eq!(me.balance(), after_bet, "a lost bet pays nothing");
            continue;
        }
        let cashed_out = cashed_out
            .unwrap_or_else(|| me.net.fail(format!("no auto cash-out at 1.2×: {settled}")));
        assert_eq!(cashed_out["at"]["hundredths"], 120, "{settled}");
        assert_eq!(
            (paid["result"].as_str(), chips(&paid["paid"])),
            (Some("win"), 120),
            "{settled}"
        );
        assert_eq!(
            me.balance(),
            after_bet + 120,
            "the payout reached the wallet"
        );
        return;
    }
}

/// Waits until round `round` of `table` is settled (or void); returns it.
fn settled_round(me: &Cli, table: &str, round: &str) -> Value {
    let deadline = Instant::now() + Duration::from_millis(3 * ROLL_INTERVAL_MS + 30_000);
    loop {
        let (code, stdout, _) = me.run(&["explore", "round", table, round, "--json"]);
        if code == 0 {
            let info: Value = serde_json::from_str(&stdout).expect("a round");
            if info["status"] == "settled" || info["status"] == "void" {
                return info;
            }
        }
        if Instant::now() >= deadline {
            me.net.fail(format!(
                "round {round} of table {table} never settled: {stdout}"
            ));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `tables join`: an unknown table refused, a seat at a new one-seat craps
/// table taken and listed, then that table full for the other wallet.
/// Returns the new table's id; it takes no roll for `ROLL_INTERVAL_MS`
/// after it opened.
fn seats(me: &Cli, other: &Cli) -> u64 {
    me.refused(&["tables", "join", "999"], "table_not_found");

    let created = me.applied(&["tables", "create", "craps", "Solo", "--seats", "1"]);
    let table = created.event("table_created")["table"]
        .as_u64()
        .expect("a table id");
    let id = table.to_string();
    let joined = me.applied(&["tables", "join", &id]);
    assert_eq!(
        joined.event("player_joined")["player"],
        me.address.as_str(),
        "{}",
        joined.reply
    );
    assert_eq!(joined.balance_moved(&me.address), -joined.fee());
    let tables = me.json(&["tables", "--json"]);
    let listed = tables["tables"]
        .as_array()
        .and_then(|tables| tables.iter().find(|t| t["id"] == table))
        .unwrap_or_else(|| me.net.fail(format!("table {table} not listed: {tables}")));
    assert_eq!(
        listed["players"],
        serde_json::json!([me.address]),
        "{listed}"
    );

    let before = other.balance();
    let full = other.refused(&["tables", "join", &id], "table_full");
    other.refused_unsent(
        &["play", "craps", "bet", &id, "pass", "5"],
        7,
        &format!("table {table} is full (1 seats)"),
    );
    assert_eq!(
        other.balance(),
        before - full.fee(),
        "only the refused join's fee"
    );
    table
}

/// Odds, take-downs and switches at `table` (`me` seated, no bets, opened
/// less than `ROLL_INTERVAL_MS` ago).
fn craps_odds_take_down_and_working(me: &Cli, table: u64) {
    let id = table.to_string();
    // A 10-chip pass bet; its id.
    let pass = || {
        let placed = me.applied(&["play", "craps", "bet", &id, "pass", "10"]);
        assert_eq!(
            placed.balance_moved(&me.address),
            -placed.fee() - 10,
            "{}",
            placed.reply
        );
        placed.event("bet_placed")["bet"].to_string()
    };

    // Before the first roll: no point, so no odds; a pass bet not yet
    // rolled comes down with its stake.
    let first = pass();
    let no_point = me.refused(
        &["play", "craps", "odds", &id, &first, "10"],
        "odds without a line bet",
    );
    assert!(
        no_point.stderr.contains("without an established point"),
        "{}",
        no_point.stderr
    );
    let down = me.applied(&["play", "craps", "take-down", &id, &first]);
    assert_eq!(chips(&down.event("bet_taken_down")["returned"]), 10);
    assert_eq!(down.balance_moved(&me.address), 10 - down.fee());

    // A pass bet until a roll sets its point (a natural or craps decides
    // it; a void roll refunds it; then another on the new come-out).
    let mut bet = pass();
    let mut roll = 1u64;
    let point = loop {
        let rolled = settled_round(me, &id, &roll.to_string());
        if let Some(point) = rolled["outcome"]["rolled"]["point"].as_u64() {
            break point;
        }
        roll += 1;
        bet = pass();
    };

    // The point is on until the next roll, `ROLL_INTERVAL_MS` away.
    let odds = me.applied(&["play", "craps", "odds", &id, &bet, "10"]);
    let changed = odds.event("odds_changed");
    assert_eq!(
        (chips(&changed["before"]), chips(&changed["after"])),
        (0, 10)
    );
    assert_eq!(odds.balance_moved(&me.address), -odds.fee() - 10);
    // 3-4-5×: 3× behind 4 and 10, 4× behind 5 and 9, 5× behind 6 and 8.
    let limit = 10
        * match point {
            4 | 10 => 3,
            5 | 9 => 4,
            _ => 5,
        };
    me.refused(
        &["play", "craps", "odds", &id, &bet, "1000"],
        &format!("over the table limit of {limit} chips"),
    );
    // The bet on the layout, as `tables bets` shows it: its odds and point,
    // its odds working by the table's rules until switched off.
    let on_table = |expected: &str| {
        let bets = me.json(&["tables", "bets", &id, "--player", &me.address, "--json"]);
        let state = bets["bets"]
            .as_array()
            .and_then(|bets| bets.iter().find(|b| b["bet"].as_u64() == bet.parse().ok()))
            .map(|b| b["state"]["craps"].clone())
            .unwrap_or_else(|| me.net.fail(format!("bet {bet} not on the table: {bets}")));
        assert_eq!(
            (chips(&state["odds"]), state["point"].as_u64()),
            (10, Some(point)),
            "{state}"
        );
        assert_eq!(state["working"], expected, "{state}");
        state["works_next_roll"].as_bool()
    };
    assert_eq!(
        on_table("table_default"),
        Some(true),
        "odds work on a point"
    );
    let off = me.applied(&["play", "craps", "working", &id, &bet, "off"]);
    assert_eq!(off.balance_moved(&me.address), -off.fee(), "{}", off.reply);
    assert_eq!(on_table("off"), Some(false), "switched off");
    me.refused(
        &["play", "craps", "working", &id, "999", "on"],
        "bet_not_found",
    );
    me.refused_unsent(
        &["play", "craps", "working", &id, &bet, "maybe"],
        2,
        "is not a switch; use on, off or default",
    );
    me.refused(
        &["play", "craps", "take-down", &id, &bet],
        &format!("is a contract bet on point {point}"),
    );
    let zero = me.applied(&["play", "craps", "odds", &id, &bet, "0"]);
    let changed = zero.event("odds_changed");
    assert_eq!(
        (chips(&changed["before"]), chips(&changed["after"])),
        (10, 0)
    );
    assert_eq!(zero.balance_moved(&me.address), 10 - zero.fee());
}

/// The top-level subcommands `bitcraps --help` lists (`help` aside).
fn subcommands() -> Vec<String> {
    let (code, stdout, stderr) = run_bitcraps(&["--help"], &[], None);
    assert_eq!(code, 0, "{stderr}");
    let names: Vec<String> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(
        names.len() > 10 && names.iter().any(|n| n == "play"),
        "{stdout}"
    );
    names
}

/// What bash's completion for `bitcraps` offers for the words `line` (the
/// last one being completed), with the script sourced into a fresh bash.
fn bash_complete(script: &std::path::Path, line: &[&str]) -> Vec<String> {
    let words = line
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let program = format!(
        "source '{}' && COMP_WORDS=({words}) && COMP_CWORD={} && _bitcraps bitcraps '{}' '{}' \
         && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        line.len() - 1,
        line[line.len() - 1],
        line[line.len() - 2],
    );
    let output = std::process::Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn completions_name_every_subcommand_in_each_shell() {
    let names = subcommands();
    let work = tempfile::tempdir().expect("a temporary directory");
    for shell in ["bash", "zsh", "fish"] {
        let (code, script, stderr) = run_bitcraps(&["completions", shell], &[], None);
        assert_eq!(code, 0, "completions {shell}: {stderr}");
        for name in &names {
            let named = match shell {
                "bash" => script.contains(&format!("bitcraps,{name})")),
                "zsh" => script.contains(&format!("'{name}:")),
                _ => script.contains(&format!(
                    "-n \"__fish_bitcraps_needs_command\" -f -a \"{name}\""
                )),
            };
            assert!(named, "the {shell} script does not name {name}");
        }
        match shell {
            "bash" => {
                let file = work.path().join("bitcraps.bash");
                std::fs::write(&file, &script).expect("the script is written");
                let syntax = std::process::Command::new("bash")
                    .arg("-n")
                    .arg(&file)
                    .output()
                    .expect("bash runs");
                assert!(
                    syntax.status.success(),
                    "bash -n: {}",
                    String::from_utf8_lossy(&syntax.stderr)
                );
                let offered = bash_complete(&file, &["bitcraps", ""]);
                for name in &names {
                    assert!(
                        offered.contains(name),
                        "bash offers {offered:?}, not {name}"
                    );
                }
                assert_eq!(bash_complete(&file, &["bitcraps", "pl"]), ["play"]);
                let craps = bash_complete(&file, &["bitcraps", "play", "craps", ""]);
                for action in ["bet", "odds", "take-down", "working"] {
                    assert!(craps.iter().any(|w| w == action), "{craps:?}");
                }
            }
            // No zsh or fish to run here: the scripts' own framing.
            "zsh" => assert!(
                script.starts_with("#compdef bitcraps")
                    && script.contains("compdef _bitcraps bitcraps"),
                "{script}"
            ),
            _ => assert!(
                script
                    .lines()
                    .filter(|l| l.starts_with("complete "))
                    .all(|l| l.starts_with("complete -c bitcraps ")),
                "{script}"
            ),
        }
    }
    // Another shell is refused, naming the ones there are.
    let (code, stdout, stderr) = run_bitcraps(&["completions", "powershell"], &[], None);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("[possible values: bash, zsh, fish]"),
        "{stderr}"
    );
}
