//! Epochs over real processes: a testnet of 5 validators and a player node
//! whose genesis sets 40-block epochs, so the chain crosses several epoch
//! boundaries within a minute while crash bets (the player node's wallet)
//! and craps bets (the load generator) flow:
//!
//! 1. one genesis validator unstakes all its stake with `bitcraps validator
//!    unstake` (signed with its keystore): the ledger picks a set of 4 at
//!    the next epoch's middle block, the 5 reshare the group key to the 4
//!    over the validator network and the chain, and from the next epoch the
//!    4 vote and sign with their new shares;
//! 2. a validator of the new set is SIGKILLed before a boundary and started
//!    again after it: it must reload its reshared share from its share
//!    store (`beacon share of the sharing in force loaded` in its log, and
//!    no refusal) and follow the chain again;
//! 3. then, through the API: the epoch advanced past every step; every
//!    finished round settled (none void) with σ that verifies, with the
//!    `game-rules` derivation, under the genesis's group key (unchanged by
//!    resharing), and rounds settled in every epoch from the first bet on —
//!    on both sides of each boundary; every acknowledged bet is in the
//!    same block with the same receipt on every node; `testnet check`
//!    passes (all nodes agree on blocks and roots, supply conserved).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use bitcraps_tests::{LiveTestnet, base_port, bitcraps};
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
async fn validators_cross_epochs_reshare_to_a_new_set_and_a_restarted_one_reloads_its_share() {
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

    // 1. The leaver unstakes everything, signed with its own keystore.
    let (_, first_epoch) = height_and_epoch(&net, "validator-0").await;
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
    // The round opens at the next middle block and completes at the end of
    // that epoch (a failed round is retried an epoch later).
    let deadline = Instant::now() + Duration::from_secs(150);
    let reshared_epoch = loop {
        let (_, epoch) = height_and_epoch(&net, "validator-0").await;
        if !validator_entry(&net, LEAVER).await.active && active_count(&net).await == 4 {
            break epoch;
        }
        if Instant::now() >= deadline {
            net.fail("the set never changed to the 4 validators that kept their stake");
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
    wait_for(
        &net,
        "validator-0",
        "the last quarter of an epoch",
        Duration::from_secs(60),
        |h, _| h % EPOCH >= EPOCH * 3 / 4,
    )
    .await;
    let (ok, output) = net.testnet(&["kill", VICTIM]);
    assert!(ok, "kill failed:\n{output}\n{}", net.logs());
    let (killed_at, killed_epoch) = height_and_epoch(&net, "validator-0").await;
    // The other three are a quorum of the four.
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
    let (_, restarted_epoch) = height_and_epoch(&net, "validator-0").await;

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
        "{VICTIM} did not reload its reshared share\n{}",
        net.logs()
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
    // The leaver, outside the set, learns blocks only at epoch boundaries
    // (its validator core's marshal fetches each boundary block; the
    // node's libp2p follower does not apply blocks on a validator node):
    // it may trail by up to an epoch, so wait for every node to hold the
    // last acknowledged block.
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

    let (ok, output) = net.testnet(&["check"]);
    assert!(ok, "check failed:\n{output}\n{}", net.logs());
    assert!(output.contains("OK: every node agrees"), "{output}");
    eprintln!(
        "epochs {first_epoch}..{last_epoch}, resharing in force from epoch {reshared_epoch}, \
         {VICTIM} down over the boundary after height {killed_at}; settled rounds per epoch \
         {per_epoch:?}; {} bets acknowledged; {:?}",
        acknowledged.len(),
        started.elapsed()
    );
}
