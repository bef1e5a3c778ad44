//! Epochs over real processes: a testnet of 5 validators and a player node
//! whose genesis sets 40-block epochs, so the chain crosses several epoch
//! boundaries within a minute while crash bets (the player node's wallet)
//! and craps bets (the load generator) flow:
//!
//! 1. a newcomer joins as an operator would: `bitcraps validator new-key`,
//!    chips from a funded wallet, `bitcraps node start` with the key file
//!    and the bootstrap peer alone (it follows the chain over libp2p while
//!    outside the set), then `validator register` and `validator stake`
//!    signed with its keystore; in the same epoch one genesis validator
//!    unstakes all its stake. The ledger picks the new set of 5 at the next
//!    epoch's middle block, the old 5 reshare the group key to it over the
//!    validator network and the chain, and from the next epoch the new set
//!    votes and signs with its new shares;
//! 2. a validator of the new set is SIGKILLed before a boundary and started
//!    again after it: it must reload its reshared share from its share
//!    store (`beacon share of the sharing in force loaded` in its log, and
//!    no refusal) and follow the chain again. Without it a quorum of the
//!    new set (4 of 5) needs the newcomer's votes: the chain finalizing
//!    across that boundary proves the newcomer votes;
//! 3. then, through the API: the epoch advanced past every step; every
//!    finished round settled (none void) with σ that verifies, with the
//!    `game-rules` derivation, under the genesis's group key (unchanged by
//!    resharing), and rounds settled in every epoch from the first bet on —
//!    on both sides of each boundary; every acknowledged bet is in the
//!    same block with the same receipt on every node (the newcomer's too);
//!    `testnet check` passes (all nodes agree on blocks and roots, supply
//!    conserved) and the newcomer has the same blocks and state roots.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bitcraps_tests::{LiveTestnet, base_port, bitcraps, bitcraps_binary};
use consensus::genesis::Genesis;
use consensus::hash::TxHash;
use consensus::tx::{Action, TableGame, TableId};
use game_rules::Chips;
use node::api::RoundStatus;
use node::client::{ApiClient, TxState};
use testnet::load::{Acknowledged, LoadOptions, Tap};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Blocks per epoch.
const EPOCH: u64 = 40;

/// Genesis validators; the last one leaves.
const VALIDATORS: u32 = 5;

/// Each validator's genesis stake (the manifest's default).
const STAKE: u64 = 100_000;

/// The leaver and the validator killed across a boundary.
const LEAVER: &str = "validator-4";
const VICTIM: &str = "validator-1";

/// What the restarted validator logs when it took its reshared share from
/// its store, and what it logs when it could not.
const SHARE_LOADED: &str = "beacon share of the sharing in force loaded";
const SHARE_REFUSED: &str = "no beacon share of the sharing in force";

/// The newcomer's name in failure messages.
const NEWCOMER: &str = "newcomer";

/// Ports of the newcomer after the testnet's (7 nodes of 10 ports each).
const NEWCOMER_PORT_OFFSET: u16 = 80;

/// A node process started outside the testnet tool, killed however the
/// test ends.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `bitcraps <args>` and returns its output; fails the test with it
/// if the command fails.
fn run_cli(net: &LiveTestnet, args: &[&str]) -> String {
    let (ok, output) = bitcraps(args);
    if !ok {
        net.fail(format!("bitcraps {args:?} failed:\n{output}"));
    }
    output
}

/// The value after `label` on a line of `output` that starts with it.
fn field(output: &str, label: &str) -> String {
    output
        .lines()
        .find_map(|line| line.strip_prefix(label))
        .map(|rest| rest.trim().to_owned())
        .unwrap_or_else(|| panic!("no {label:?} in {output}"))
}

/// Makes a newcomer the way an operator would (its own key file and
/// keystore, chips from wallet-1, a node started with its key file and the
/// bootstrap peer's address alone) and waits until it follows the chain.
/// Returns its process, its API client, its address and its keystore and
/// password files.
async fn start_newcomer(
    net: &LiveTestnet,
    dir: &Path,
    base: u16,
) -> (Process, ApiClient, String, PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| net.fail(e));
    let (keystore, password, key_file) = (
        dir.join("newcomer.json"),
        dir.join("password"),
        dir.join("validator.key"),
    );
    std::fs::write(&password, "newcomer password\n").unwrap_or_else(|e| net.fail(e));
    let output = run_cli(
        net,
        &[
            "validator",
            "new-key",
            keystore.to_str().expect("a UTF-8 path"),
            "--key-file",
            key_file.to_str().expect("a UTF-8 path"),
            "--password-file",
            password.to_str().expect("a UTF-8 path"),
        ],
    );
    let address = field(&output, "address");
    // From wallet-1, which no one else signs with: wallet-0 is player-0's
    // node wallet, whose crash bets take nonces concurrently (the CLI's
    // pending nonce raced them: "nonce 1 is taken by a pooled transaction").
    let wallets = net.layout().wallets_dir();
    run_cli(
        net,
        &[
            "wallet",
            "transfer",
            &address,
            &(2 * STAKE).to_string(),
            "--api",
            &net.layout().node("player-0").unwrap().http_url(),
            "--keystore",
            wallets
                .join("wallet-1.json")
                .to_str()
                .expect("a UTF-8 path"),
            "--password-file",
            wallets
                .join("wallet-1.password")
                .to_str()
                .expect("a UTF-8 path"),
            "--wait",
        ],
    );
    let bootstrap = std::fs::read_to_string(net.dir().join("nodes/bootstrap/bootstrap.addr"))
        .unwrap_or_else(|e| net.fail(e));
    let bootstrap = bootstrap
        .lines()
        .find(|line| line.contains("/tcp/"))
        .unwrap_or_else(|| net.fail("no TCP address of the bootstrap peer"))
        .to_owned();
    let log = dir.join("node.log");
    let log_file = std::fs::File::create(&log).unwrap_or_else(|e| net.fail(e));
    let child = Command::new(bitcraps_binary())
        .args([
            "node",
            "start",
            "--home",
            dir.to_str().expect("a UTF-8 path"),
            "--genesis-file",
            net.layout().genesis_file().to_str().expect("a UTF-8 path"),
            "--network-listen",
            &format!("/ip4/127.0.0.1/tcp/{base}"),
            "--network-bootstrap",
            &bootstrap,
            "--network-mdns",
            "false",
            "--log-format",
            "json",
            // The checks below read every acknowledged bet at once.
            "--api-rate-limit-per-second",
            "0",
            "--api-listen",
            &format!("127.0.0.1:{}", base + 1),
            "--validator-key-file",
            key_file.to_str().expect("a UTF-8 path"),
            "--validator-listen",
            &format!("127.0.0.1:{}", base + 2),
        ])
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap_or_else(|e| net.fail(e)))
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| net.fail(e));
    let process = Process { child, log };
    let client =
        ApiClient::new(&format!("http://127.0.0.1:{}", base + 1)).unwrap_or_else(|e| net.fail(e));
    // Outside the set, it follows the chain over libp2p.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (target, _) = height_and_epoch(net, "validator-0").await;
        let height = match client.status().await {
            Ok(status) => status.node.height.unwrap_or(0),
            Err(_) => 0,
        };
        if height >= target.max(1) {
            break;
        }
        if Instant::now() >= deadline {
            net.fail(format!(
                "{NEWCOMER} does not follow the chain (height {height} of {target}):\n{}",
                std::fs::read_to_string(&process.log).unwrap_or_default()
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    (process, client, address, keystore, password)
}

/// The ledger epoch of a height.
fn epoch_of(height: u64) -> u64 {
    height / EPOCH
}

/// A node's height and epoch; fails the test if it does not answer.
async fn height_and_epoch(net: &LiveTestnet, name: &str) -> (u64, u64) {
    match net.client(name).status().await {
        Ok(status) => (status.node.height.unwrap_or(0), status.node.epoch),
        Err(e) => net.fail(format!("{name}: {e}")),
    }
}

/// Waits until `name` satisfies `done` (given its height and epoch),
/// polling every 300 ms; fails the test with `what` and the nodes' logs
/// after `limit`.
async fn wait_for(
    net: &LiveTestnet,
    name: &str,
    what: &str,
    limit: Duration,
    done: impl Fn(u64, u64) -> bool,
) -> (u64, u64) {
    let deadline = Instant::now() + limit;
    loop {
        let (height, epoch) = height_and_epoch(net, name).await;
        if done(height, epoch) {
            return (height, epoch);
        }
        if Instant::now() >= deadline {
            net.fail(format!(
                "{name}: {what} not reached in {limit:?} (height {height}, epoch {epoch})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The validator listed at `name`'s validator-network port.
async fn validator_entry(net: &LiveTestnet, name: &str) -> node::api::ValidatorInfo {
    let port = net
        .layout()
        .node(name)
        .unwrap_or_else(|e| net.fail(e))
        .validator_port
        .unwrap_or_else(|| net.fail(format!("{name} has no validator port")));
    let validators = net
        .client("validator-0")
        .validators()
        .await
        .unwrap_or_else(|e| net.fail(e));
    validators
        .into_iter()
        .find(|v| v.network_address.ends_with(&format!(":{port}")))
        .unwrap_or_else(|| net.fail(format!("{name} is not listed")))
}

/// How many validators the ledger has in the current epoch's set.
async fn active_count(net: &LiveTestnet) -> usize {
    net.client("validator-0")
        .validators()
        .await
        .unwrap_or_else(|e| net.fail(e))
        .iter()
        .filter(|v| v.active)
        .count()
}

/// Places a crash bet (auto cash-out at 1.5×) from the player node's
/// wallet every 700 ms until `stop`, so crash rounds run and need the
/// beacon; returns the hashes of the bets the node accepted.
async fn crash_bettor(
    client: ApiClient,
    table: TableId,
    mut stop: watch::Receiver<bool>,
) -> Vec<TxHash> {
    let mut accepted = Vec::new();
    while !*stop.borrow() {
        let bet = Action::CrashBet {
            table,
            amount: Chips(10),
            auto_cash_out: Some(150),
        };
        // A refusal (a bet already riding in this round, a full mempool)
        // is retried at the next tick.
        if let Ok(reply) = client.act(&bet, None).await {
            accepted.push(reply.hash);
        }
        tokio::select! {
            _ = stop.changed() => {}
            _ = tokio::time::sleep(Duration::from_millis(700)) => {}
        }
    }
    accepted
}

/// The last lines of a log, for a failure message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// The lines of `path` containing any of `needles`, without colours.
fn log_lines(path: &Path, needles: &[&str]) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|line| needles.iter().any(|n| line.contains(n)) && !line.contains("simplex"))
        .map(|line| {
            let mut plain = String::with_capacity(line.len());
            let mut escape = false;
            for c in line.chars() {
                match (escape, c) {
                    (false, '\u{1b}') => escape = true,
                    (true, 'm') => escape = false,
                    (true, _) => {}
                    (false, c) => plain.push(c),
                }
            }
            plain
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Lines of `path` containing `needle`.
fn log_count(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains(needle))
        .count()
}

/// Every finished round of every table, checked: settled (never void),
/// its σ verifying under `group_key` and deriving the recorded outcome.
/// Returns, per epoch of the beacon entry that decided it, how many rounds
/// settled.
async fn verified_rounds(
    net: &LiveTestnet,
    genesis: &Genesis,
    group_key: &str,
) -> BTreeMap<u64, u64> {
    let client = net.client("player-0");
    let mut per_epoch = BTreeMap::new();
    let tables = client.tables().await.unwrap_or_else(|e| net.fail(e));
    for table in tables {
        let mut before = None;
        loop {
            let page = client
                .table_rounds(table.id, before, 100)
                .await
                .unwrap_or_else(|e| net.fail(e));
            for summary in &page.rounds {
                match summary.status {
                    RoundStatus::Betting | RoundStatus::Running => continue,
                    RoundStatus::Void => net.fail(format!(
                        "round {} of table {} is void (its randomness never came): {summary:?}",
                        summary.round, table.id.0
                    )),
                    RoundStatus::Settled => {}
                }
                // A crash round nobody bet on settles without randomness.
                if summary.bets == 0 {
                    continue;
                }
                let info = client
                    .round(table.id, summary.round)
                    .await
                    .unwrap_or_else(|e| net.fail(e));
                let check = node::client::verify::verify(&info, Some(genesis.chain_id()));
                assert!(
                    check.passed(),
                    "round {} of table {} does not verify: {check:?}",
                    summary.round,
                    table.id.0
                );
                let randomness = check
                    .randomness
                    .unwrap_or_else(|| net.fail(format!("no randomness: {info:?}")));
                assert_eq!(
                    randomness.group_public_key, group_key,
                    "round {} of table {} was checked under another key",
                    summary.round, table.id.0
                );
                *per_epoch
                    .entry(epoch_of(randomness.entry.height))
                    .or_insert(0) += 1;
            }
            match page.next_before {
                Some(next) if !page.rounds.is_empty() => before = Some(next),
                _ => break,
            }
        }
    }
    per_epoch
}

/// Each of `bets` (acknowledged on the observer node as included at a
/// height with a receipt) is in that block with that receipt on every API
/// node.
async fn nothing_lost(net: &LiveTestnet, bets: &[Acknowledged]) {
    for node in net.layout().api_nodes() {
        let client = net.client(&node.name);
        for bet in bets {
            let reply = client
                .transaction(&bet.receipt.tx)
                .await
                .unwrap_or_else(|e| net.fail(format!("{}: {}: {e}", node.name, bet.receipt.tx)));
            assert_ne!(
                reply.status,
                TxState::Pending,
                "{}: {} was acknowledged but is pending",
                node.name,
                bet.receipt.tx
            );
            assert_eq!(
                (reply.block_height, reply.receipt.as_ref()),
                (Some(bet.height), Some(&bet.receipt)),
                "{}: {} differs from what was acknowledged",
                node.name,
                bet.receipt.tx
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_joins_a_leaver_leaves_and_a_restarted_validator_reloads_its_share() {
    let started = Instant::now();
    let net = LiveTestnet::start(&format!(
        "validators = {VALIDATORS}\nplayers = 1\nbase_port = {}\n\n[chain]\n\
         crash_betting_ms = 1000\ncrash_cooldown_ms = 500\ncraps_roll_interval_ms = 1000\n\
         validator_stake = {STAKE}\nepoch_length_blocks = {EPOCH}\nunbonding_blocks = {EPOCH}\n",
        base_port(26_000, 9)
    ));
    let genesis = Genesis::from_json_bytes(
        &std::fs::read(net.layout().genesis_file()).unwrap_or_else(|e| net.fail(e)),
    )
    .unwrap_or_else(|e| net.fail(e));
    assert_eq!(genesis.params.epoch_length_blocks, EPOCH);
    assert_eq!(genesis.params.unbonding_blocks, EPOCH);
    let group_key = hex::encode(
        genesis
            .beacon_sharing
            .as_ref()
            .unwrap_or_else(|| net.fail("the genesis has no beacon sharing"))
            .group_key()
            .as_bytes(),
    );
    assert_eq!(active_count(&net).await, VALIDATORS as usize);

    // Crash bets from the player node's wallet on the house's crash table.
    let player = net
        .layout()
        .node("player-0")
        .unwrap_or_else(|e| net.fail(e));
    let wallet_client = net.client("player-0").with_cookie(
        player
            .cookie_file
            .clone()
            .unwrap_or_else(|| net.fail("player-0 has no API cookie")),
    );
    let crash_table = {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let tables = net.client("player-0").tables().await.unwrap_or_default();
            if let Some(table) = tables
                .iter()
                .find(|t| matches!(t.game, TableGame::Crash { .. }))
            {
                break table.id;
            }
            if Instant::now() >= deadline {
                net.fail("the house never opened a crash table");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let crash = tokio::spawn(crash_bettor(wallet_client, crash_table, stop_rx.clone()));
    // Craps field bets from the load generator, every receipt tapped.
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let load_layout = net.layout().clone();
    let load = tokio::spawn(async move {
        let options = LoadOptions {
            rate: 4.0,
            duration: Duration::from_secs(600),
            wallets: 4,
            stake: 10,
            drain: Duration::from_secs(30),
            concurrency: 2,
        };
        let tap = Tap {
            acknowledged: ack_tx,
            stop: stop_rx,
        };
        testnet::load::run_tapped(&load_layout, &options, &|_| {}, Some(tap)).await
    });

    // 1. A newcomer joins: its own keys and node, then registration and
    // stake, signed with its keystore, while the leaver unstakes.
    let newcomer_dir = net.dir().with_file_name(NEWCOMER);
    let newcomer_base = net.layout().manifest.base_port + NEWCOMER_PORT_OFFSET;
    let (newcomer, newcomer_client, newcomer_address, newcomer_keystore, newcomer_password) =
        start_newcomer(&net, &newcomer_dir, newcomer_base).await;
    let (_, first_epoch) = height_and_epoch(&net, "validator-0").await;
    let newcomer_url = format!("http://127.0.0.1:{}", newcomer_base + 1);
    let signed_by_newcomer = |args: &[&str]| {
        let mut line = args.to_vec();
        line.extend_from_slice(&[
            "--api",
            &newcomer_url,
            "--keystore",
            newcomer_keystore.to_str().expect("a UTF-8 path"),
            "--password-file",
            newcomer_password.to_str().expect("a UTF-8 path"),
            "--wait",
        ]);
        run_cli(&net, &line)
    };
    // No beacon key: its shares come from the resharing round.
    signed_by_newcomer(&[
        "validator",
        "register",
        "--network-address",
        &format!("127.0.0.1:{}", newcomer_base + 2),
    ]);
    signed_by_newcomer(&["validator", "stake", &STAKE.to_string()]);
    eprintln!(
        "{NEWCOMER} staked at (height, epoch) {:?}",
        height_and_epoch(&net, "validator-0").await
    );
    let wallets = net.layout().wallets_dir();
    let (ok, output) = bitcraps(&[
        "validator",
        "unstake",
        &STAKE.to_string(),
        "--api",
        &net.layout().node("validator-0").unwrap().http_url(),
        "--keystore",
        wallets
            .join(format!("{LEAVER}.json"))
            .to_str()
            .expect("a UTF-8 path"),
        "--password-file",
        wallets
            .join(format!("{LEAVER}.password"))
            .to_str()
            .expect("a UTF-8 path"),
        "--wait",
    ]);
    assert!(ok, "unstake failed:\n{output}\n{}", net.logs());
    let leaver = validator_entry(&net, LEAVER).await;
    assert_eq!((leaver.stake, leaver.unbonding), (0, STAKE), "{leaver:?}");
    eprintln!(
        "{LEAVER} unstaked at (height, epoch) {:?}",
        height_and_epoch(&net, "validator-0").await
    );
    let newcomer_entry = || async {
        net.client("validator-0")
            .validators()
            .await
            .unwrap_or_else(|e| net.fail(e))
            .into_iter()
            .find(|v| v.address.to_string() == newcomer_address)
            .unwrap_or_else(|| net.fail(format!("{NEWCOMER} is not registered")))
    };
    assert_eq!(newcomer_entry().await.stake, STAKE);
    // The round opens at the next middle block and completes at the end of
    // that epoch (a failed round is retried an epoch later).
    let deadline = Instant::now() + Duration::from_secs(150);
    let reshared_epoch = loop {
        if !validator_entry(&net, LEAVER).await.active
            && newcomer_entry().await.active
            && active_count(&net).await == VALIDATORS as usize
        {
            // Read after the set: the epoch in which it is in force.
            let (height, epoch) = height_and_epoch(&net, "validator-0").await;
            eprintln!("the new set is in force at height {height}, epoch {epoch}");
            break epoch;
        }
        if Instant::now() >= deadline {
            net.fail(format!(
                "the set never changed to the 4 validators that kept their stake and the \
                 newcomer\n---- {NEWCOMER} ----\n{}",
                tail(&newcomer.log)
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        reshared_epoch > first_epoch,
        "{reshared_epoch} {first_epoch}"
    );
    assert!(validator_entry(&net, VICTIM).await.active);

    // 2. SIGKILL a validator of the new set late in an epoch; start it
    // again only once the chain crossed the boundary without it.
    let victim = net.layout().node(VICTIM).unwrap().clone();
    assert_eq!(
        log_count(&victim.log_file(), SHARE_LOADED),
        0,
        "never restarted yet"
    );
    // Late in the new set's first epoch by the victim's own height: it
    // derived and stored its new share at the boundary, 30 blocks before.
    wait_for(
        &net,
        VICTIM,
        "the last quarter of the new set's first epoch",
        Duration::from_secs(60),
        |h, _| epoch_of(h) >= reshared_epoch && h % EPOCH >= EPOCH * 3 / 4,
    )
    .await;
    let (ok, output) = net.testnet(&["kill", VICTIM]);
    assert!(ok, "kill failed:\n{output}\n{}", net.logs());
    let (killed_at, killed_epoch) = height_and_epoch(&net, "validator-0").await;
    eprintln!("{VICTIM} killed at height {killed_at}, epoch {killed_epoch}");
    // The other four are a quorum of the five only with the newcomer's
    // votes.
    wait_for(
        &net,
        "validator-0",
        "the next epoch without the victim",
        Duration::from_secs(90),
        |h, e| e > killed_epoch && h > killed_at,
    )
    .await;
    let (ok, output) = net.testnet(&["restart", VICTIM]);
    assert!(ok, "restart failed:\n{output}\n{}", net.logs());
    let (restarted_at, restarted_epoch) = height_and_epoch(&net, "validator-0").await;
    eprintln!("{VICTIM} restarted at height {restarted_at}, epoch {restarted_epoch}");

    // 3. Two more boundaries, the restarted validator following.
    let (target, _) = wait_for(
        &net,
        "validator-0",
        "two more epochs",
        Duration::from_secs(120),
        |_, e| e >= restarted_epoch + 2,
    )
    .await;
    wait_for(
        &net,
        VICTIM,
        "the others' height",
        Duration::from_secs(90),
        |h, _| h >= target,
    )
    .await;
    assert_eq!(
        log_count(&victim.log_file(), SHARE_LOADED),
        1,
        "{VICTIM} did not reload its reshared share; its lines on shares and epochs:\n{}",
        log_lines(&victim.log_file(), &["share", "epoch", "====", "reshar"])
    );
    assert_eq!(
        log_count(&victim.log_file(), SHARE_REFUSED),
        0,
        "{VICTIM} refused its share store\n{}",
        net.logs()
    );

    // Stop the bets and let the last ones settle.
    stop_tx.send_replace(true);
    let crash_bets = crash.await.expect("the crash bettor does not panic");
    let report = load
        .await
        .expect("the load does not panic")
        .unwrap_or_else(|e| net.fail(e));
    let mut acknowledged = Vec::new();
    while let Ok(bet) = ack_rx.try_recv() {
        acknowledged.push(bet);
    }
    assert!(report.settled > 0, "no craps bet settled:\n{report}");
    assert!(!acknowledged.is_empty(), "nothing acknowledged:\n{report}");
    assert!(!crash_bets.is_empty(), "no crash bet was accepted");
    // The crash rounds' last tick may still wait for its beacon entry.
    let (now, _) = height_and_epoch(&net, "validator-0").await;
    wait_for(
        &net,
        "player-0",
        "a few more blocks",
        Duration::from_secs(60),
        |h, _| h >= now + 25,
    )
    .await;

    let per_epoch = verified_rounds(&net, &genesis, &group_key).await;
    let (_, last_epoch) = height_and_epoch(&net, "player-0").await;
    let first_settled = *per_epoch
        .keys()
        .next()
        .unwrap_or_else(|| net.fail("no round settled"));
    // Bets flowed from before the unstake to the end: every epoch from the
    // first settled round to the last finished one settled rounds, so
    // rounds settled on both sides of each of these boundaries.
    let expected: BTreeSet<u64> = (first_settled..last_epoch).collect();
    let seen: BTreeSet<u64> = per_epoch.keys().copied().collect();
    assert!(
        expected.is_subset(&seen),
        "epochs without a settled round: {:?} (settled per epoch: {per_epoch:?})",
        expected.difference(&seen).collect::<Vec<_>>()
    );
    assert!(
        first_settled < reshared_epoch && reshared_epoch + 2 < last_epoch,
        "rounds must settle before the resharing and two epochs after it: {per_epoch:?}, \
         resharing took effect in epoch {reshared_epoch}, now {last_epoch}"
    );

    // Nothing acknowledged was lost: the load's bets and the crash bets
    // (as player-0 recorded them) are in the same block everywhere.
    let player_client = net.client("player-0");
    for hash in &crash_bets {
        let reply = player_client
            .transaction(hash)
            .await
            .unwrap_or_else(|e| net.fail(format!("crash bet {hash}: {e}")));
        if let (Some(height), Some(receipt)) = (reply.block_height, reply.receipt) {
            acknowledged.push(Acknowledged { height, receipt });
        }
    }
    // The leaver, outside the set, hears of finality from its engine only
    // at epoch boundaries; its libp2p follower keeps it current, within
    // seconds, not an epoch (20 s here) behind.
    let (now, _) = height_and_epoch(&net, "validator-0").await;
    wait_for(
        &net,
        LEAVER,
        "the current height, outside the set",
        Duration::from_secs(5),
        |h, _| h >= now,
    )
    .await;
    let last_acknowledged = acknowledged.iter().map(|bet| bet.height).max().unwrap_or(0);
    for node in net.layout().api_nodes() {
        wait_for(
            &net,
            &node.name,
            "the last acknowledged block",
            Duration::from_secs(120),
            |h, _| h >= last_acknowledged,
        )
        .await;
    }
    nothing_lost(&net, &acknowledged).await;
    // The newcomer: every acknowledged bet in the same block with the same
    // receipt, and the same block (so the same state roots, which each
    // block's header commits to) at every height.
    let deadline = Instant::now() + Duration::from_secs(120);
    while newcomer_client
        .status()
        .await
        .ok()
        .and_then(|s| s.node.height)
        .unwrap_or(0)
        < last_acknowledged
    {
        if Instant::now() >= deadline {
            net.fail(format!(
                "{NEWCOMER} never reached height {last_acknowledged}\n{}",
                tail(&newcomer.log)
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for bet in &acknowledged {
        let reply = newcomer_client
            .transaction(&bet.receipt.tx)
            .await
            .unwrap_or_else(|e| net.fail(format!("{NEWCOMER}: {}: {e}", bet.receipt.tx)));
        assert_eq!(
            (reply.block_height, reply.receipt.as_ref()),
            (Some(bet.height), Some(&bet.receipt)),
            "{NEWCOMER}: {} differs from what was acknowledged",
            bet.receipt.tx
        );
    }
    let reference = net.client("validator-0");
    for height in 1..=last_acknowledged {
        let (mine, theirs) = (
            newcomer_client.block(height).await,
            reference.block(height).await,
        );
        let (mine, theirs) = match (mine, theirs) {
            (Ok(mine), Ok(theirs)) => (mine, theirs),
            (mine, theirs) => net.fail(format!("block {height}: {mine:?} / {theirs:?}")),
        };
        assert_eq!(
            mine.hash, theirs.hash,
            "{NEWCOMER} differs at height {height}"
        );
    }
    assert!(
        log_count(&newcomer.log, "\"voting\":true") > 0,
        "{NEWCOMER} never voted\n{}",
        tail(&newcomer.log)
    );

    let (ok, output) = net.testnet(&["check"]);
    assert!(ok, "check failed:\n{output}\n{}", net.logs());
    assert!(output.contains("OK: every node agrees"), "{output}");
    eprintln!(
        "epochs {first_epoch}..{last_epoch}, resharing (a newcomer in, {LEAVER} out) in force \
         from epoch {reshared_epoch}, {VICTIM} down over the boundary after height \
         {killed_at}; settled rounds per epoch {per_epoch:?}; {} bets acknowledged; {:?}",
        acknowledged.len(),
        started.elapsed()
    );
}
