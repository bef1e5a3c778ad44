//! Two real nodes (`node::daemon::Node::start`) on loopback: A has the
//! chain, B starts empty with A as its bootstrap peer, catches up by block
//! sync (its API reports the progress), then follows new blocks A finalizes;
//! shutdown removes the API cookie. And a node killed while alone keeps
//! what its API accepted, in its mempool journal.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use consensus::encoding::encode;
use consensus::ledger::Ledger;
use consensus::storage::Store;
use consensus::tx::Action;
use game_rules::Chips;
use node::chain::Heard;
use node::client::ApiClient;
use node::config::NodeConfig;
use node::daemon::{Node, RunningNode};
use node::mempool::JOURNAL_FILE;
use node::mempool::journal::read_journal;
use tokio::time::{Instant, sleep};

use support::{TestChain, kp, write_genesis};

fn config(home: &Path, genesis: &Path, bootstrap: Vec<node::network::Multiaddr>) -> NodeConfig {
    let mut config = NodeConfig {
        genesis_file: genesis.to_path_buf(),
        ..NodeConfig::default()
    };
    config.network.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    config.network.bootstrap = bootstrap;
    config.network.mdns = false;
    config.api.listen = "127.0.0.1:0".parse().unwrap();
    config.make_absolute(home);
    config
}

async fn wait_for_height(node: &RunningNode, height: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if node.chain().height().unwrap() == Some(height) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_node_catches_up_by_sync_then_follows() {
    let mut test = TestChain::new();
    test.play(40);
    let total = test.blocks.len() as u64;
    let shared = tempfile::tempdir().unwrap();
    let genesis = write_genesis(&test.genesis, shared.path());

    let home_a = tempfile::tempdir().unwrap();
    let a = Node::start(config(home_a.path(), &genesis, Vec::new()))
        .await
        .expect("A starts");
    // A has all but the last two blocks.
    for (block, proof) in &test.blocks[..total as usize - 2] {
        a.chain()
            .apply_finalized(block, Some(proof), Heard::Elsewhere)
            .unwrap();
    }

    let home_b = tempfile::tempdir().unwrap();
    let b = Node::start(config(home_b.path(), &genesis, a.listen_addrs().to_vec()))
        .await
        .expect("B starts");
    let cookie = home_b.path().join("api.cookie");
    assert!(cookie.exists(), "the API cookie is written at start");
    wait_for_height(&b, total - 3, "B to sync").await;

    // The API of B reports the chain and that it is synced.
    let client = ApiClient::new(&format!("http://{}", b.api_addr())).unwrap();
    let status = client.status().await.unwrap();
    assert_eq!(status.node.height, Some(total - 3));
    assert_eq!(status.node.chain_id, test.genesis.chain_id());
    assert!(status.node.peers >= 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client.ready().await.unwrap().ready {
        assert!(Instant::now() < deadline, "B never became ready");
        sleep(Duration::from_millis(100)).await;
    }
    let metrics = client.metrics().await.unwrap();
    assert!(
        metrics.contains(&format!("bitcraps_height {}", total - 3)),
        "{metrics}"
    );

    // New blocks finalized at A reach B (gossip, or sync if the mesh is
    // not formed yet), with the leaderboard and rounds B indexed itself.
    for (block, proof) in &test.blocks[total as usize - 2..] {
        a.chain()
            .apply_finalized(block, Some(proof), Heard::Elsewhere)
            .unwrap();
    }
    wait_for_height(&b, total - 1, "B to follow").await;
    let leaderboard = client.leaderboard(None, 10).await.unwrap();
    assert_eq!(leaderboard.len(), 4);

    b.shutdown().await;
    assert!(!cookie.exists(), "shutdown removes the API cookie");
    a.shutdown().await;
}

/// Issue #5: a node that joins a live chain ten thousand blocks late
/// catches up by sync over real libp2p on loopback, verifying every
/// finality proof, and shows its progress on the API while it does: the
/// height it reached, the chain's head as the target (learned from the
/// proofs of blocks gossiped meanwhile, not from the batch it asked for),
/// a rate and an ETA. Then it follows the head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_ten_thousand_blocks_late_catches_up_showing_progress() {
    const LATE: usize = 10_000;
    const LIVE: usize = 150;
    const BLOCK_INTERVAL: Duration = Duration::from_millis(100);
    let mut test = TestChain::new();
    test.play(4);
    while test.blocks.len() < LATE + LIVE {
        test.next_block(Vec::new());
    }
    let last = (LATE + LIVE) as u64 - 1;
    let shared = tempfile::tempdir().unwrap();
    let genesis = write_genesis(&test.genesis, shared.path());

    let home_a = tempfile::tempdir().unwrap();
    let a = Node::start(config(home_a.path(), &genesis, Vec::new()))
        .await
        .expect("A starts");
    for (block, proof) in &test.blocks[..LATE] {
        a.chain()
            .apply_finalized(block, Some(proof), Heard::Elsewhere)
            .unwrap();
    }

    let home_b = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let b = Node::start(config(home_b.path(), &genesis, a.listen_addrs().to_vec()))
        .await
        .expect("B starts");
    // The chain stays live while B syncs: A finalizes (and gossips) a
    // block every BLOCK_INTERVAL.
    let live = test.blocks[LATE..].to_vec();
    let chain_a = a.chain().clone();
    let producer = tokio::spawn(async move {
        for (block, proof) in live {
            sleep(BLOCK_INTERVAL).await;
            chain_a
                .apply_finalized(&block, Some(&proof), Heard::Elsewhere)
                .unwrap();
        }
    });
    let client = ApiClient::new(&format!("http://{}", b.api_addr())).unwrap();

    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let status = client.status().await.unwrap();
        if let Some(progress) = status.node.sync.clone() {
            seen.push(progress);
        }
        if status.node.height == Some(last) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B reached {:?} of {last} in 600 s",
            status.node.height
        );
        sleep(Duration::from_millis(250)).await;
    }
    let took = started.elapsed();
    producer.await.unwrap();
    assert!(
        seen.len() >= 4,
        "progress was shown only {} times while syncing",
        seen.len()
    );
    assert!(
        seen.iter()
            .all(|p| p.height <= p.target && p.target <= last),
        "progress never runs past the chain: {seen:?}"
    );
    assert!(
        seen.windows(2)
            .all(|w| w[0].height <= w[1].height && w[0].target <= w[1].target),
        "progress only moves forward: {seen:?}"
    );
    assert!(
        seen.iter().any(|p| p.target >= LATE as u64
            && p.height + 1_000 < p.target
            && p.blocks_per_second > 0.0
            && p.eta_seconds.is_some_and(|eta| eta > 1)),
        "while far behind, the target is the chain's head and a rate and an ETA are shown: {seen:?}"
    );
    assert_eq!(
        b.chain().ledger().read().unwrap().state_root(),
        a.chain().ledger().read().unwrap().state_root(),
        "B's state after catching up is A's"
    );
    eprintln!(
        "caught up {} blocks in {:.1} s ({:.0} blocks/s); {} progress samples",
        last + 1,
        took.as_secs_f64(),
        (last + 1) as f64 / took.as_secs_f64(),
        seen.len()
    );
    b.shutdown().await;
    a.shutdown().await;
}

/// The payloads of the mempool journal in `home`'s data directory.
fn journal_records(home: &Path) -> Vec<Vec<u8>> {
    let file = std::fs::File::open(home.join("data").join(JOURNAL_FILE)).expect("a journal");
    let recovered = read_journal(file, u64::MAX).expect("the journal reads");
    assert_eq!(recovered.stopped, None);
    recovered.records
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Issue #8: a node whose API accepted transactions while it had no peer
/// (the network can only hold them) and that dies before it could publish
/// them — its runtime dropped with every task, nothing shut down or
/// flushed — keeps them in its mempool journal. Restarted from the same
/// directory, it puts them back through the mempool's admission (one
/// finalized meanwhile is dropped) and publishes the rest, which reach
/// its new peer. Without the journal the restarted node's mempool is
/// empty and the peer never hears of them.
#[test]
fn transactions_accepted_while_alone_survive_a_kill_and_reach_a_peer() {
    let mut test = TestChain::new();
    let shared = tempfile::tempdir().unwrap();
    let genesis = write_genesis(&test.genesis, shared.path());
    let (player, to) = (kp(1), kp(2).address());
    let transfer = |test: &mut TestChain| {
        test.tx(
            &player,
            Action::Transfer {
                to,
                amount: Chips(5),
            },
        )
    };
    let included = transfer(&mut test);
    let pending = transfer(&mut test);
    let (block, proof) = test.next_block(vec![included.clone()]);
    let home_a = tempfile::tempdir().unwrap();

    // First life: A alone accepts both.
    let first = runtime();
    first.block_on(async {
        let a = Node::start(config(home_a.path(), &genesis, Vec::new()))
            .await
            .expect("A starts");
        assert_eq!(a.network().peer_count(), 0);
        let client = ApiClient::new(&format!("http://{}", a.api_addr())).unwrap();
        for tx in [&included, &pending] {
            let submitted = client.submit_transaction(tx).await.expect("accepted");
            assert_eq!(submitted.hash, tx.hash());
        }
        // The network holds them for want of a peer.
        let deadline = Instant::now() + Duration::from_secs(10);
        while a.network().metrics().snapshot().txs_held < 2 {
            assert!(Instant::now() < deadline, "the network never held them");
            sleep(Duration::from_millis(20)).await;
        }
        // `a` is dropped, not shut down: its tasks run until the runtime
        // goes.
    });
    // Killed: the runtime goes, and with it every task of the node.
    drop(first);
    assert_eq!(
        journal_records(home_a.path()),
        [encode(&included), encode(&pending)],
        "the API answered only once both were on disk"
    );

    // Meanwhile the chain finalized the first (A learns of it as if it had
    // synced the block).
    {
        let store = Arc::new(Store::open(home_a.path().join("data")).expect("A's store"));
        let mut ledger = Ledger::open(store, &test.genesis).expect("A's ledger");
        let beacon = test.genesis.beacon_verifier().expect("a beacon");
        ledger.apply(&block, &beacon).expect("the block applies");
    }

    // Second life: B, at the same height, then A from its directory with
    // B as its peer.
    let second = runtime();
    second.block_on(async {
        let home_b = tempfile::tempdir().unwrap();
        let b = Node::start(config(home_b.path(), &genesis, Vec::new()))
            .await
            .expect("B starts");
        b.chain()
            .apply_finalized(&block, Some(&proof), Heard::Elsewhere)
            .unwrap();
        let a = Node::start(config(home_a.path(), &genesis, b.listen_addrs().to_vec()))
            .await
            .expect("A restarts from its directory");
        {
            let mempool = a.chain().mempool().lock().unwrap();
            assert!(mempool.contains(&pending.hash()), "restored");
            assert!(!mempool.contains(&included.hash()), "finalized meanwhile");
            assert_eq!(mempool.local_len(), 1);
        }
        assert_eq!(
            journal_records(home_a.path()),
            [encode(&pending)],
            "compacted at start to what was restored"
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !b
            .chain()
            .mempool()
            .lock()
            .unwrap()
            .contains(&pending.hash())
        {
            assert!(
                Instant::now() < deadline,
                "the restored transaction never reached B"
            );
            sleep(Duration::from_millis(50)).await;
        }
        a.shutdown().await;
        b.shutdown().await;
    });
}

/// `network.identity = "wallet"`: the peer id is the wallet key's, and no
/// node key file is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_the_wallet_identity_has_the_wallet_keys_peer_id() {
    let test = TestChain::new();
    let home = tempfile::tempdir().unwrap();
    let genesis = write_genesis(&test.genesis, home.path());
    let keystore = home.path().join("wallet.json");
    wallet::Keystore::encrypt(&kp(7), b"pw", wallet::KdfParams::insecure_for_tests())
        .unwrap()
        .write_new(&keystore)
        .unwrap();
    let password = home.path().join("wallet.password");
    std::fs::write(&password, "pw\n").unwrap();
    let mut config = config(home.path(), &genesis, Vec::new());
    config.wallet.keystore = Some(keystore);
    config.wallet.password_file = Some(password);
    config.network.identity = node::config::NetworkIdentity::Wallet;
    let node = Node::start(config.clone()).await.expect("the node starts");
    let expected = node::network::NodeKey::from_secret_bytes(&mut [7; 32]).peer_id();
    assert_eq!(node.peer_id(), expected);
    assert!(!config.network.node_key_file.exists());
    node.shutdown().await;

    // The default identity is the node key file, another peer id.
    config.network.identity = node::config::NetworkIdentity::NodeKey;
    let node = Node::start(config.clone()).await.expect("the node starts");
    assert_ne!(node.peer_id(), expected);
    assert!(config.network.node_key_file.exists());
    node.shutdown().await;
}
