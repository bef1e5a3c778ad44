//! Real libp2p nodes on 127.0.0.1: gossip, validation, scoring, bans and
//! block sync. No part of libp2p is mocked.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consensus::block::{Block, BlockTemplate};
use consensus::hash::Hash;
use consensus::tx::{Action, SignedTransaction, Transaction};
use game_rules::Chips;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, timeout};
use wallet::{Address, ChainId, Keypair, Signature};

use super::*;
use crate::mempool::{AccountState, AccountView, CheckedTransaction, Mempool, MempoolConfig};

const CHAIN: ChainId = ChainId::new([42; 32]);

/// Every test finishes well within this, or fails.
const TEST_TIMEOUT: Duration = Duration::from_secs(25);

/// Every account is rich and fresh.
struct RichView;

impl AccountView for RichView {
    fn account(&self, _: &Address) -> Option<AccountState> {
        Some(AccountState {
            balance: Chips(1_000_000_000),
            nonce: 0,
        })
    }

    fn next_height(&self) -> u64 {
        1
    }

    fn min_fee(&self) -> Chips {
        Chips(1)
    }

    fn takes_dealer_log(&self, _: &wallet::PublicKey, _: u64) -> bool {
        false
    }
}

/// Accepts every block that passed the stateless checks.
struct AcceptBlocks;

impl BlockValidator for AcceptBlocks {
    fn validate_block(&self, _: &FinalizedBlock, _: &PeerId) -> Verdict {
        Verdict::Accept
    }
}

/// A block source from a function.
struct FnSource<F>(F);

impl<F: Fn(u64, usize) -> Vec<Vec<u8>> + Send + Sync + 'static> BlockSource for FnSource<F> {
    fn blocks(&self, from_height: u64, max: usize) -> Vec<Vec<u8>> {
        (self.0)(from_height, max)
    }
}

/// Serves `blocks[h]` for height `h`.
fn serve(blocks: Vec<Vec<u8>>) -> Arc<dyn BlockSource> {
    Arc::new(FnSource(move |from: u64, max: usize| {
        blocks
            .iter()
            .skip(from as usize)
            .take(max)
            .cloned()
            .collect()
    }))
}

struct Node {
    net: Network,
    events: mpsc::Receiver<NetworkEvent>,
    mempool: Arc<Mutex<Mempool>>,
    addr: Multiaddr,
}

fn test_config(quic: bool) -> NetworkConfig {
    let mut config = NetworkConfig::new(CHAIN);
    config.mdns = false;
    config.heartbeat_interval = Duration::from_millis(200);
    config.limits.memory = MemoryLimit::Off;
    config.listen_addrs = vec![if quic {
        "/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap()
    } else {
        "/ip4/127.0.0.1/tcp/0".parse().unwrap()
    }];
    config
}

async fn start(config: NetworkConfig, blocks: Arc<dyn BlockSource>, hooks: TestHooks) -> Node {
    let mempool = Arc::new(Mutex::new(Mempool::new(MempoolConfig::new(CHAIN))));
    let services = NetworkServices {
        transactions: Arc::new(MempoolGossip::new(mempool.clone(), RichView)),
        blocks: Arc::new(AcceptBlocks),
        block_source: blocks,
    };
    let (net, events) = Network::start_with(config, NodeKey::generate(), services, hooks)
        .await
        .expect("network starts");
    let addr = net.listen_addrs().await.unwrap()[0].clone();
    Node {
        net,
        events,
        mempool,
        addr,
    }
}

async fn node(quic: bool) -> Node {
    start(test_config(quic), Arc::new(NoBlocks), TestHooks::default()).await
}

/// Polls `check` every 50 ms until it holds (the test timeout bounds it).
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        sleep(Duration::from_millis(50)).await;
    }
}

/// Dials `b` from `a` until both see the connection. One dial can fail on a
/// starved machine (a handshake past its timeout), so it is repeated every
/// 3 s; a connection that never comes names what each side saw.
async fn connect(a: &Node, b: &Node) {
    let (pa, pb) = (a.net.local_peer_id(), b.net.local_peer_id());
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut redial = Instant::now();
    loop {
        if a.net.connected_peers().await.unwrap().contains(&pb)
            && b.net.connected_peers().await.unwrap().contains(&pa)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for a connection: a sees {:?} ({:?}), b sees {:?} ({:?})",
            a.net.connected_peers().await,
            a.net.metrics().snapshot(),
            b.net.connected_peers().await,
            b.net.metrics().snapshot(),
        );
        if Instant::now() >= redial {
            a.net.dial(b.addr.clone()).await.unwrap();
            redial = Instant::now() + Duration::from_secs(3);
        }
        sleep(Duration::from_millis(50)).await;
    }
}

async fn mesh(node: &Node, topic: TopicKind, peers: &[&Node]) {
    until("the gossip mesh", || async {
        let mesh = node.net.mesh_peers(topic).await.unwrap();
        peers.iter().all(|p| mesh.contains(&p.net.local_peer_id()))
    })
    .await;
}

/// The next transaction event, skipping other events; `None` after `wait`.
async fn next_tx(node: &mut Node, wait: Duration) -> Option<(SignedTransaction, PeerId)> {
    let deadline = Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, node.events.recv()).await {
            Ok(Some(NetworkEvent::Transaction(tx, from))) => return Some((tx, from)),
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

async fn next_block(node: &mut Node, wait: Duration) -> Option<(FinalizedBlock, PeerId)> {
    let deadline = Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, node.events.recv()).await {
            Ok(Some(NetworkEvent::Block(block, from))) => return Some((*block, from)),
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

fn key(i: u8) -> Keypair {
    Keypair::from_secret_bytes(&[i; 32])
}

fn transfer(from: &Keypair, nonce: u64) -> SignedTransaction {
    Transaction {
        chain_id: CHAIN,
        sender: from.public_key(),
        nonce,
        fee: Chips(5),
        expiry_height: 1_000,
        action: Action::Transfer {
            to: key(99).address(),
            amount: Chips(1),
        },
    }
    .sign(from)
}

fn forged(nonce: u64) -> SignedTransaction {
    let mut tx = transfer(&key(66), nonce);
    tx.signature = Signature::from_bytes([nonce as u8; 64]);
    tx
}

/// Finalized blocks (without proofs) at heights `0..n`, each extending
/// the last, encoded.
fn blocks(n: u64) -> Vec<Vec<u8>> {
    let proposer = key(7);
    let mut parent = Hash::ZERO;
    (0..n)
        .map(|height| {
            let block = Block::assemble(
                BlockTemplate {
                    chain_id: CHAIN,
                    height,
                    view: height + 1,
                    parent,
                    timestamp_ms: 1_000 + height,
                    proposer: proposer.public_key(),
                    parent_state_root: Hash::ZERO,
                },
                vec![transfer(&key(8), height)],
                Vec::new(),
            )
            .unwrap();
            parent = block.hash();
            FinalizedBlock::new(block, None).encode()
        })
        .collect()
}

async fn run<F: Future<Output = ()>>(test: F) {
    timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test finished in time");
}

/// A transaction published by A reaches B and, relayed by B, C; a block
/// too. The topology is a line, so C hears only what B relays.
async fn gossip_reaches_every_node(quic: bool) {
    let (mut a, mut b, mut c) = (node(quic).await, node(quic).await, node(quic).await);
    connect(&a, &b).await;
    connect(&b, &c).await;
    for topic in [TopicKind::Transactions, TopicKind::Blocks] {
        mesh(&b, topic, &[&a, &c]).await;
        mesh(&c, topic, &[&b]).await;
    }

    let tx = transfer(&key(1), 0);
    a.net.publish_transaction(&tx).await.unwrap();
    let (at_b, from) = next_tx(&mut b, Duration::from_secs(5))
        .await
        .expect("B hears it");
    assert_eq!((at_b, from), (tx.clone(), a.net.local_peer_id()));
    let (at_c, from) = next_tx(&mut c, Duration::from_secs(5))
        .await
        .expect("C hears it");
    assert_eq!((at_c, from), (tx.clone(), b.net.local_peer_id()));
    for n in [&b, &c] {
        assert!(n.mempool.lock().unwrap().contains(&tx.hash()));
    }
    // Publishing it again alone (a re-gossip) makes a new batch, a new
    // gossip message: it goes out, and B, which has it, ignores it without
    // relaying it.
    a.net.publish_transaction(&tx).await.unwrap();
    until("B to ignore the repeat", || async {
        b.net.metrics().snapshot().tx_ignored == 1
    })
    .await;
    assert_eq!(a.net.metrics().snapshot().tx_batch_publish_failures, 0);
    // Again beside a new one (as re-gossip does): B admits the new one and
    // relays the batch; C skips the one it has.
    let next = transfer(&key(1), 1);
    a.net.publish_transaction(&tx).await.unwrap();
    a.net.publish_transaction(&next).await.unwrap();
    let (at_c, _) = next_tx(&mut c, Duration::from_secs(5))
        .await
        .expect("C hears the new one");
    assert_eq!(at_c, next);
    let at_c = c.net.metrics().snapshot();
    assert_eq!((at_c.gossip_txs_admitted, at_c.gossip_txs_ignored), (2, 1));
    assert_eq!(a.net.metrics().snapshot().tx_batches_published, 3);
    assert!(next_tx(&mut b, Duration::from_secs(1)).await.is_some());

    let block = blocks(1).remove(0);
    a.net.publish_block(block.clone()).await.unwrap();
    let (at_c, _) = next_block(&mut c, Duration::from_secs(5))
        .await
        .expect("C gets the block");
    assert_eq!(at_c.encode(), block);
    assert!(next_block(&mut b, Duration::from_secs(1)).await.is_some());
    assert_eq!(b.net.metrics().snapshot().block_accepted, 1);
    let _ = &mut a.events;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_reaches_every_node_over_tcp() {
    run(gossip_reaches_every_node(false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_reaches_every_node_over_quic() {
    run(gossip_reaches_every_node(true)).await;
}

/// Re-gossip reaches a peer that missed the first publication at once:
/// C connects to A after A published a transaction (to B), and A's
/// re-gossip of it, while the first batch is still in A's duplicate
/// cache, reaches C. (Before batches carried a nonce the re-gossip was the
/// same gossip message, refused by A until the cache expired a minute
/// later.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regossip_reaches_a_peer_that_missed_the_first_publication() {
    run(async {
        let (a, mut b, mut c) = (node(false).await, node(false).await, node(false).await);
        connect(&a, &b).await;
        mesh(&a, TopicKind::Transactions, &[&b]).await;
        let tx = transfer(&key(1), 0);
        a.net.publish_transaction(&tx).await.unwrap();
        let (at_b, _) = next_tx(&mut b, Duration::from_secs(5))
            .await
            .expect("B hears it");
        assert_eq!(at_b, tx);
        // Past gossipsub's message cache window (3 heartbeats of 200 ms
        // advertised by IHAVE), so C can only get the transaction from a
        // new publication; the duplicate cache (a minute) still holds it.
        sleep(Duration::from_millis(1_500)).await;
        connect(&a, &c).await;
        mesh(&a, TopicKind::Transactions, &[&b, &c]).await;
        a.net.publish_transaction(&tx).await.unwrap();
        let (at_c, from) = next_tx(&mut c, Duration::from_secs(5))
            .await
            .expect("the re-gossip reaches C");
        assert_eq!((at_c, from), (tx, a.net.local_peer_id()));
        let at_a = a.net.metrics().snapshot();
        assert_eq!(
            (at_a.tx_batches_published, at_a.tx_batch_publish_failures),
            (2, 0)
        );
        // B already had it: ignored, not delivered again.
        until("B to ignore the re-gossip", || async {
            b.net.metrics().snapshot().tx_ignored == 1
        })
        .await;
        assert!(next_tx(&mut b, Duration::from_millis(300)).await.is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_and_oversized_transactions_are_rejected_and_not_relayed() {
    run(async {
        // A can send transaction-topic messages up to 128 KiB; honest
        // nodes take at most MAX_BATCH_BYTES.
        let hooks = TestHooks {
            max_tx_message_bytes: 128 * 1024,
        };
        let a = start(test_config(false), Arc::new(NoBlocks), hooks).await;
        let (b, mut c) = (node(false).await, node(false).await);
        connect(&a, &b).await;
        connect(&b, &c).await;
        mesh(&b, TopicKind::Transactions, &[&a, &c]).await;
        mesh(&c, TopicKind::Transactions, &[&b]).await;
        let pa = a.net.local_peer_id();

        // A transaction B already has is ignored: no penalty, no relay.
        let known = transfer(&key(4), 0);
        b.mempool
            .lock()
            .unwrap()
            .insert(
                CheckedTransaction::check(known.clone(), &CHAIN).unwrap(),
                &RichView,
            )
            .unwrap();
        a.net.publish_transaction(&known).await.unwrap();
        until("B to ignore it", || async {
            b.net.metrics().snapshot().tx_ignored == 1
        })
        .await;
        assert!(b.net.peer_score(pa).await.unwrap().unwrap() >= 0.0);

        // A bad signature, then bytes over MAX_BATCH_BYTES (which pass
        // gossipsub's frame limit and are refused by the decoder).
        a.net.publish_transaction(&forged(1)).await.unwrap();
        a.net
            .publish_raw(TopicKind::Transactions, vec![0; MAX_BATCH_BYTES + 100])
            .await
            .unwrap();
        until("B to reject both", || async {
            b.net.metrics().snapshot().tx_rejected == 2
        })
        .await;
        let score = b.net.peer_score(pa).await.unwrap().expect("B scores A");
        assert!(score < 0.0, "A's score on B is {score}");
        assert_eq!(b.mempool.lock().unwrap().len(), 1, "only the known one");

        // A valid transaction sent after them reaches C; the invalid ones,
        // sent first over the same connections, never did.
        let good = transfer(&key(2), 0);
        a.net.publish_transaction(&good).await.unwrap();
        let (at_c, _) = next_tx(&mut c, Duration::from_secs(5))
            .await
            .expect("C hears it");
        assert_eq!(at_c, good);
        assert!(next_tx(&mut c, Duration::from_millis(500)).await.is_none());
        let at_c = c.net.metrics().snapshot();
        assert_eq!(
            (at_c.tx_accepted, at_c.tx_rejected, at_c.tx_ignored),
            (1, 0, 0)
        );
        assert_eq!(c.mempool.lock().unwrap().len(), 1);
        // Two invalid messages lower A's score but do not ban it.
        assert_eq!(b.net.metrics().snapshot().peers_banned, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_invalid_messages_gets_the_sender_banned_while_honest_peers_are_served() {
    run(async {
        let hooks = TestHooks {
            max_tx_message_bytes: 256 * 1024,
        };
        let attacker = start(test_config(false), Arc::new(NoBlocks), hooks).await;
        let b = start(test_config(false), serve(blocks(4)), TestHooks::default()).await;
        let mut b = b;
        let honest = node(false).await;
        connect(&attacker, &b).await;
        connect(&honest, &b).await;
        mesh(&b, TopicKind::Transactions, &[&attacker, &honest]).await;
        mesh(&honest, TopicKind::Transactions, &[&b]).await;
        let (pa, ph) = (attacker.net.local_peer_id(), honest.net.local_peer_id());

        // A 100 KiB message (refused by gossipsub's frame limit for the
        // topic) and a stream of batches, each with a forged transaction
        // behind a valid one.
        attacker
            .net
            .publish_raw(TopicKind::Transactions, vec![1; 100 * 1024])
            .await
            .unwrap();
        for nonce in 0..30 {
            let junk = encode_batch(
                nonce,
                &[transfer(&key(5), nonce).encode(), forged(nonce).encode()],
            );
            // Once B bans the attacker nobody is left to publish to.
            if attacker
                .net
                .publish_raw(TopicKind::Transactions, junk)
                .await
                .is_err()
            {
                break;
            }
        }
        until("B to ban the attacker", || async {
            b.net.metrics().snapshot().peers_banned == 1
                && !b.net.connected_peers().await.unwrap().contains(&pa)
        })
        .await;
        let score = b.net.peer_score(pa).await.unwrap().unwrap_or(f64::MIN);
        assert!(score < gossip::GRAYLIST_THRESHOLD, "score {score}");

        // The attacker cannot come back while banned.
        let _ = attacker.net.dial(b.addr.clone()).await;
        sleep(Duration::from_millis(500)).await;
        assert!(!b.net.connected_peers().await.unwrap().contains(&pa));

        // The honest peer is still connected, its gossip still gets through
        // and its sync requests are still answered.
        assert!(b.net.connected_peers().await.unwrap().contains(&ph));
        let tx = transfer(&key(3), 0);
        honest.net.publish_transaction(&tx).await.unwrap();
        loop {
            let (got, from) = next_tx(&mut b, Duration::from_secs(5))
                .await
                .expect("B hears it");
            if got == tx {
                assert_eq!(from, ph);
                break;
            }
        }
        let synced = honest
            .net
            .request_blocks(b.net.local_peer_id(), 1, 3)
            .await
            .unwrap();
        assert_eq!(
            synced
                .iter()
                .map(|b| b.block.header.height)
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        let score = b.net.peer_score(ph).await.unwrap().unwrap_or(f64::MIN);
        assert!(score >= 0.0, "the honest peer's score is {score}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_sync_serves_consecutive_heights() {
    run(async {
        let chain = blocks(10);
        let a = start(
            test_config(false),
            serve(chain.clone()),
            TestHooks::default(),
        )
        .await;
        let pa = a.net.local_peer_id();
        // B finds A as its bootstrap peer.
        let mut config = test_config(false);
        config.bootstrap_peers = vec![a.addr.clone()];
        let b = start(config, Arc::new(NoBlocks), TestHooks::default()).await;
        until("B to reach its bootstrap peer", || async {
            b.net.connected_peers().await.unwrap().contains(&pa)
        })
        .await;

        let got = b.net.request_blocks(pa, 1, 6).await.unwrap();
        assert_eq!(got.len(), 6);
        for (i, block) in got.iter().enumerate() {
            assert_eq!(block.block.header.height, 1 + i as u64);
            assert_eq!(block.encode(), chain[1 + i]);
        }
        // The tail, then nothing past it.
        assert_eq!(b.net.request_blocks(pa, 8, 64).await.unwrap().len(), 2);
        assert!(b.net.request_blocks(pa, 10, 64).await.unwrap().is_empty());
        // Requests outside the bounds are refused before they are sent.
        for max in [0, 65] {
            assert!(matches!(
                b.net.request_blocks(pa, 0, max).await,
                Err(SyncError::BadRequest { .. })
            ));
        }
        assert_eq!(a.net.metrics().snapshot().sync_served, 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_or_oversized_sync_responses_are_refused_cleanly() {
    run(async {
        let chain = blocks(6);
        // Heights 0..3 are fine; from 3 on the source misbehaves: junk at
        // 3, the wrong block at 4, 100 KiB of junk at 5.
        let source = FnSource(move |from: u64, max: usize| match from {
            3 => vec![vec![0xAB; 300]],
            4 => vec![chain[2].clone()],
            5 => vec![vec![0; 100 * 1024]],
            _ => chain
                .iter()
                .skip(from as usize)
                .take(max.min(3))
                .cloned()
                .collect(),
        });
        let bad = start(test_config(false), Arc::new(source), TestHooks::default()).await;
        // B reads at most 64 KiB of blocks per response.
        let mut config = test_config(false);
        config.limits.max_sync_response_bytes = 64 * 1024;
        let b = start(config, Arc::new(NoBlocks), TestHooks::default()).await;
        connect(&b, &bad).await;
        let peer = bad.net.local_peer_id();

        assert_eq!(b.net.request_blocks(peer, 0, 3).await.unwrap().len(), 3);
        let junk = b.net.request_blocks(peer, 3, 1).await.unwrap_err();
        assert!(
            matches!(junk, SyncError::InvalidBlock { height: 3, .. }),
            "{junk}"
        );
        let wrong = b.net.request_blocks(peer, 4, 1).await.unwrap_err();
        assert!(
            matches!(
                wrong,
                SyncError::UnexpectedHeight {
                    expected: 4,
                    found: 2
                }
            ),
            "{wrong}"
        );
        let big = b.net.request_blocks(peer, 5, 1).await.unwrap_err();
        assert!(matches!(big, SyncError::Failed(_)), "{big}");
        // The connection survives, and B still syncs from the peer.
        assert_eq!(b.net.request_blocks(peer, 1, 2).await.unwrap().len(), 2);
        assert!(b.net.connected_peers().await.unwrap().contains(&peer));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_closes_and_refuses_connections_until_healed() {
    run(async {
        let (a, b) = (node(false).await, node(false).await);
        connect(&a, &b).await;
        let pb = b.net.local_peer_id();
        a.net.partition([pb].into()).await.unwrap();
        until("the cut connection to close", || async {
            a.net.connected_peers().await.unwrap().is_empty()
                && b.net.connected_peers().await.unwrap().is_empty()
        })
        .await;
        // Neither side gets through: a refuses to dial, b's dial is refused.
        assert!(matches!(
            a.net.dial(b.addr.clone()).await,
            Err(NetworkError::Dial { reason, .. }) if reason.contains("partition")
        ));
        b.net.dial(a.addr.clone()).await.unwrap();
        sleep(Duration::from_millis(500)).await;
        assert!(a.net.connected_peers().await.unwrap().is_empty());
        // Healed: connections work again.
        a.net.partition(Default::default()).await.unwrap();
        connect(&a, &b).await;
    })
    .await;
}

/// A transaction submitted while its node is cut off from every peer is
/// held and goes out when the partition heals, however often the node is
/// cut and healed; before, it was dropped (`NoPeers`), left to the
/// mempool's re-gossip dozens of blocks later, and lost for good if the
/// node stopped first: its sender's later nonces stalled behind the gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_published_while_cut_off_go_out_when_the_partition_heals() {
    run(async {
        let (a, mut b) = (node(false).await, node(false).await);
        let pb = b.net.local_peer_id();
        let sender = key(1);
        let mut nonce = 0;
        for round in 0..3 {
            connect(&a, &b).await;
            mesh(&a, TopicKind::Transactions, &[&b]).await;
            // Connected: a transaction goes straight through.
            let tx = transfer(&sender, nonce);
            nonce += 1;
            a.net.publish_transaction(&tx).await.unwrap();
            let (got, _) = next_tx(&mut b, Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("round {round}: b never got the connected transaction"));
            assert_eq!(got, tx);

            a.net.partition([pb].into()).await.unwrap();
            until("the cut connection to close", || async {
                a.net.connected_peers().await.unwrap().is_empty()
                    && b.net.connected_peers().await.unwrap().is_empty()
            })
            .await;
            let cut_off: Vec<SignedTransaction> =
                (0..3).map(|i| transfer(&sender, nonce + i)).collect();
            nonce += 3;
            for tx in &cut_off {
                assert!(matches!(
                    a.net.publish_transaction(tx).await,
                    Err(NetworkError::NoPeers)
                ));
            }
            a.net.partition(Default::default()).await.unwrap();
            connect(&a, &b).await;
            for _ in &cut_off {
                let (got, from) = next_tx(&mut b, Duration::from_secs(5))
                    .await
                    .unwrap_or_else(|| {
                        panic!("round {round}: a transaction published while cut off never arrived")
                    });
                assert!(cut_off.contains(&got), "round {round}: unexpected {got:?}");
                assert_eq!(from, a.net.local_peer_id());
            }
        }
        let snapshot = a.net.metrics().snapshot();
        assert_eq!(snapshot.txs_held, 9);
        assert_eq!(snapshot.txs_held_dropped, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_of_another_chain_is_disconnected() {
    run(async {
        let a = node(false).await;
        let mut config = test_config(false);
        config.chain_id = ChainId::new([43; 32]);
        let other = start(config, Arc::new(NoBlocks), TestHooks::default()).await;
        other.net.dial(a.addr.clone()).await.unwrap();
        until("the wrong-chain peer to be dropped", || async {
            a.net.metrics().snapshot().peers_wrong_chain
                + other.net.metrics().snapshot().peers_wrong_chain
                >= 1
        })
        .await;
        until("the connection to close", || async {
            a.net.connected_peers().await.unwrap().is_empty()
        })
        .await;
        a.net.shutdown().await;
        assert!(matches!(
            a.net.listen_addrs().await,
            Err(NetworkError::Stopped)
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_without_peers_or_over_the_limit_fails_cleanly() {
    run(async {
        let a = node(false).await;
        assert!(matches!(
            a.net.publish_transaction(&transfer(&key(1), 0)).await,
            Err(NetworkError::NoPeers)
        ));
        let too_big = vec![0; a.net.limits.max_gossip_block_bytes + 1];
        assert!(matches!(
            a.net.publish_block(too_big).await,
            Err(NetworkError::TooLarge { .. })
        ));
        let err = a
            .net
            .publish_raw(TopicKind::Transactions, vec![0; 80 * 1024])
            .await
            .unwrap_err();
        assert!(
            matches!(err, NetworkError::TooLarge { max, .. } if max < 80 * 1024),
            "{err}"
        );
        let mut config = test_config(false);
        config.tx_batch_linger = MAX_TX_BATCH_LINGER + Duration::from_millis(1);
        let err = Network::start(config, NodeKey::generate(), services())
            .await
            .unwrap_err();
        assert!(matches!(err, NetworkError::Config(_)), "{err}");
        let mut config = test_config(false);
        config.bootstrap_peers = vec!["/ip4/127.0.0.1/tcp/1".parse().unwrap()];
        let err = Network::start(config, NodeKey::generate(), services())
            .await
            .unwrap_err();
        assert!(matches!(err, NetworkError::Config(_)), "{err}");
        let mut config = test_config(false);
        config.listen_addrs = vec!["/ip4/127.0.0.1/udp/0".parse().unwrap()];
        let err = Network::start(config, NodeKey::generate(), services())
            .await
            .unwrap_err();
        assert!(matches!(err, NetworkError::Listen { .. }), "{err}");
    })
    .await;
}

/// Transactions published close together travel as one gossip message:
/// B validates one batch, admits all of them and relays the batch, so C
/// gets them too; each still arrives as its own event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_published_together_travel_in_one_batch() {
    run(async {
        let mut config = test_config(false);
        // Long enough that the 20 publications below share one batch on a
        // busy machine.
        config.tx_batch_linger = Duration::from_millis(300);
        let a = start(config, Arc::new(NoBlocks), TestHooks::default()).await;
        let (mut b, mut c) = (node(false).await, node(false).await);
        connect(&a, &b).await;
        connect(&b, &c).await;
        mesh(&b, TopicKind::Transactions, &[&a, &c]).await;
        mesh(&c, TopicKind::Transactions, &[&b]).await;

        let txs: Vec<SignedTransaction> = (0..20).map(|n| transfer(&key(1), n)).collect();
        for tx in &txs {
            a.net.publish_transaction(tx).await.unwrap();
        }
        // The same transaction twice in the waiting batch is refused.
        assert!(matches!(
            a.net.publish_transaction(&txs[0]).await,
            Err(NetworkError::Duplicate)
        ));
        for node in [&mut b, &mut c] {
            let mut got = Vec::new();
            while got.len() < txs.len() {
                let (tx, _) = next_tx(node, Duration::from_secs(5))
                    .await
                    .expect("every transaction arrives");
                got.push(tx);
            }
            assert_eq!(got, txs, "in the published order");
        }
        let at_a = a.net.metrics().snapshot();
        assert_eq!(
            (at_a.tx_batches_published, at_a.tx_batch_txs_published),
            (1, 20)
        );
        for node in [&b, &c] {
            let m = node.net.metrics().snapshot();
            assert_eq!((m.tx_accepted, m.tx_rejected, m.tx_ignored), (1, 0, 0));
            assert_eq!((m.gossip_txs_admitted, m.gossip_txs_ignored), (20, 0));
            assert_eq!(node.mempool.lock().unwrap().len(), 20);
        }
    })
    .await;
}

/// An honest relayer whose batch holds only what the receiver already has
/// or finds stale is never penalized, however many such batches it sends;
/// a batch with something new among stale transactions is relayed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_or_known_batches_cost_the_sender_nothing() {
    run(async {
        let (a, b) = (node(false).await, node(false).await);
        let mut c = node(false).await;
        connect(&a, &b).await;
        connect(&b, &c).await;
        mesh(&b, TopicKind::Transactions, &[&a, &c]).await;
        mesh(&c, TopicKind::Transactions, &[&b]).await;
        let pa = a.net.local_peer_id();

        let known: Vec<SignedTransaction> = (0..8).map(|n| transfer(&key(2), n)).collect();
        for tx in &known {
            b.mempool
                .lock()
                .unwrap()
                .insert(
                    CheckedTransaction::check(tx.clone(), &CHAIN).unwrap(),
                    &RichView,
                )
                .unwrap();
        }
        // Ten batches of known transactions (as a re-gossiping peer sends).
        for round in 0..10 {
            // The same transactions each time, as re-gossip sends them:
            // the nonce makes each batch its own gossip message.
            let batch: Vec<Vec<u8>> = known
                .iter()
                .skip(round % 7)
                .take(2)
                .map(|tx| tx.encode())
                .collect();
            a.net
                .publish_raw(TopicKind::Transactions, encode_batch(round as u64, &batch))
                .await
                .unwrap();
        }
        until("B to ignore them all", || async {
            b.net.metrics().snapshot().tx_ignored == 10
        })
        .await;
        assert!(b.net.peer_score(pa).await.unwrap().unwrap() >= 0.0);
        assert_eq!(b.net.metrics().snapshot().peers_banned, 0);
        assert_eq!(b.net.metrics().snapshot().tx_rejected, 0);
        assert!(next_tx(&mut c, Duration::from_millis(300)).await.is_none());

        // One new transaction among the known ones: B admits it and relays
        // the batch; C, which has none of them, admits all nine.
        let fresh = transfer(&key(3), 0);
        let mut batch: Vec<Vec<u8>> = known.iter().map(|tx| tx.encode()).collect();
        batch.push(fresh.encode());
        a.net
            .publish_raw(TopicKind::Transactions, encode_batch(10, &batch))
            .await
            .unwrap();
        let mut at_c = Vec::new();
        while at_c.len() < 9 {
            at_c.push(
                next_tx(&mut c, Duration::from_secs(5))
                    .await
                    .expect("relayed")
                    .0,
            );
        }
        assert_eq!(at_c.last(), Some(&fresh));
        let m = b.net.metrics().snapshot();
        assert_eq!((m.tx_accepted, m.gossip_txs_admitted), (1, 1));
        assert!(b.net.peer_score(pa).await.unwrap().unwrap() >= 0.0);
    })
    .await;
}

fn services() -> NetworkServices {
    let mempool = Arc::new(Mutex::new(Mempool::new(MempoolConfig::new(CHAIN))));
    NetworkServices {
        transactions: Arc::new(MempoolGossip::new(mempool, RichView)),
        blocks: Arc::new(AcceptBlocks),
        block_source: Arc::new(NoBlocks),
    }
}

#[test]
fn node_keys_from_a_wallet_secret_match_and_files_round_trip() {
    let secret = [5u8; 32];
    let wallet_key = Keypair::from_secret_bytes(&secret);
    let mut copy = secret;
    let node_key = NodeKey::from_secret_bytes(&mut copy);
    assert_eq!(copy, [0; 32], "the secret is wiped");
    assert_eq!(
        node_key.public_key_bytes(),
        wallet_key.public_key().to_bytes()
    );
    assert!(!format!("{node_key:?}").contains("0505"));

    let dir = tempfile::tempdir().unwrap();
    // A missing directory is created (the bootstrap peer's `keys/`).
    let path = dir.path().join("keys/node.key");
    let created = NodeKey::load_or_generate(&path).unwrap();
    let loaded = NodeKey::load_or_generate(&path).unwrap();
    assert_eq!(created.peer_id(), loaded.peer_id());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::write(&path, "not hex").unwrap();
    let error = NodeKey::load_or_generate(&path).unwrap_err();
    assert!(matches!(error, NetworkError::NodeKey { .. }));
    let error = error.to_string();
    assert!(error.contains("node.key"), "{error}");
    assert!(error.contains("64 hex characters"), "{error}");
    std::fs::write(&path, vec![b'a'; 4096]).unwrap();
    let error = NodeKey::load_or_generate(&path).unwrap_err().to_string();
    assert!(error.contains("too long"), "{error}");
}

/// `max_established_incoming` is enforced: with a limit of 2, the third
/// node dialling in is refused while the first two stay connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_connections_over_the_limit_are_refused() {
    run(async {
        let mut config = test_config(false);
        config.limits.max_established_incoming = 2;
        let a = start(config, Arc::new(NoBlocks), TestHooks::default()).await;
        let (b, c, d) = (node(false).await, node(false).await, node(false).await);
        connect(&b, &a).await;
        connect(&c, &a).await;
        d.net.dial(a.addr.clone()).await.unwrap();
        sleep(Duration::from_secs(1)).await;
        let peers = a.net.connected_peers().await.unwrap();
        assert_eq!(peers.len(), 2, "{peers:?}");
        assert!(!peers.contains(&d.net.local_peer_id()));
        assert!(d.net.connected_peers().await.unwrap().is_empty());
        // A slot freed by a closed connection lets the next one in.
        b.net.shutdown().await;
        connect(&d, &a).await;
    })
    .await;
}
