//! The bootstrap peer against real node networks (`node::network`) on
//! loopback: nodes that know only the bootstrap peer find each other through
//! it, a node of another chain is disconnected, and `/health` and
//! `/metrics` answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use bootstrap::{Bootstrap, BootstrapConfig};
use node::mempool::CheckedTransaction;
use node::network::{
    BlockValidator, FinalizedBlock, Network, NetworkConfig, NetworkServices, NoBlocks, NodeKey,
    PeerId, TransactionValidator, Verdict,
};
use wallet::ChainId;

const CHAIN: ChainId = ChainId::new([42; 32]);

/// Judges nothing: these nodes only test discovery.
struct IgnoreAll;

impl TransactionValidator for IgnoreAll {
    fn validate_transaction(&self, _tx: CheckedTransaction, _from: &PeerId) -> Verdict {
        Verdict::Ignore
    }
}

impl BlockValidator for IgnoreAll {
    fn validate_block(&self, _block: &FinalizedBlock, _from: &PeerId) -> Verdict {
        Verdict::Ignore
    }
}

async fn start_bootstrap() -> Bootstrap {
    let mut config = BootstrapConfig::new(CHAIN);
    config.http_listen = "127.0.0.1:0".parse().unwrap();
    Bootstrap::start(config).await.expect("bootstrap starts")
}

async fn start_node(chain: ChainId, bootstrap: &Bootstrap) -> Network {
    let mut config = NetworkConfig::new(chain);
    config.mdns = false;
    config.kademlia_server = true;
    config.listen_addrs = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    config.bootstrap_peers = vec![bootstrap.listen_addrs()[0].clone()];
    let services = NetworkServices {
        transactions: Arc::new(IgnoreAll),
        blocks: Arc::new(IgnoreAll),
        block_source: Arc::new(NoBlocks),
    };
    let (network, _events) = Network::start(config, NodeKey::generate(), services)
        .await
        .expect("node network starts");
    network
}

/// A plain HTTP/1.1 GET: the status code and the body.
async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let status = text.split(' ').nth(1).unwrap().parse().unwrap();
        let body = text.split_once("\r\n\r\n").unwrap().1.to_owned();
        (status, body)
    })
    .await
    .unwrap()
}

async fn eventually<F: Fn() -> bool>(what: &str, check: F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_that_know_only_the_bootstrap_peer_find_each_other() {
    let bootstrap = start_bootstrap().await;
    let addr = bootstrap.listen_addrs()[0].to_string();
    assert!(
        addr.ends_with(&format!("/p2p/{}", bootstrap.peer_id())),
        "{addr}"
    );

    let a = start_node(CHAIN, &bootstrap).await;
    eventually("the first node is in the routing table", || {
        bootstrap.metrics().snapshot().routing_table_peers >= 1
    })
    .await;

    let b = start_node(CHAIN, &bootstrap).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let peers = a.connected_peers().await.unwrap();
        if peers.contains(&b.local_peer_id()) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the nodes never met; a's peers: {peers:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let snapshot = bootstrap.metrics().snapshot();
    assert!(snapshot.identified >= 2, "{snapshot:?}");
    assert!(snapshot.kademlia_requests >= 1, "{snapshot:?}");
    assert_eq!(snapshot.wrong_chain, 0);

    // /health and /metrics over real HTTP.
    let (status, health) = http_get(bootstrap.http_addr(), "/health").await;
    assert_eq!(status, 200, "{health}");
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["peer_id"], bootstrap.peer_id().to_string());
    assert!(health["connected_peers"].as_i64().unwrap() >= 1, "{health}");
    let (status, metrics) = http_get(bootstrap.http_addr(), "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("bitcraps_bootstrap_routing_table_peers"),
        "{metrics}"
    );
    assert!(
        metrics.contains("bitcraps_bootstrap_connections_total{direction=\"inbound\"}"),
        "{metrics}"
    );
    let (status, _) = http_get(bootstrap.http_addr(), "/nothing").await;
    assert_eq!(status, 404);

    a.shutdown().await;
    b.shutdown().await;
    bootstrap.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_of_another_chain_is_disconnected_and_not_handed_out() {
    let bootstrap = start_bootstrap().await;
    let stranger = start_node(ChainId::new([7; 32]), &bootstrap).await;
    // Both ends check the chain in identify and either may close first, so
    // the other may never count it: one refusal on either side is enough.
    eventually("the stranger is refused", || {
        bootstrap.metrics().snapshot().wrong_chain + stranger.metrics().snapshot().peers_wrong_chain
            >= 1
    })
    .await;
    let snapshot = bootstrap.metrics().snapshot();
    assert_eq!(snapshot.routing_table_peers, 0, "{snapshot:?}");
    stranger.shutdown().await;
    bootstrap.shutdown().await;
}

#[tokio::test]
async fn the_address_file_holds_the_full_multiaddrs_and_a_busy_http_port_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = BootstrapConfig::new(CHAIN);
    config.http_listen = "127.0.0.1:0".parse().unwrap();
    config.key_file = Some(dir.path().join("bootstrap.key"));
    config.addr_file = Some(dir.path().join("bootstrap.addr"));
    let first = Bootstrap::start(config.clone()).await.unwrap();
    let text = std::fs::read_to_string(dir.path().join("bootstrap.addr")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (line, addr) in lines.iter().zip(first.listen_addrs()) {
        assert_eq!(*line, addr.to_string());
    }
    let peer_id = first.peer_id();

    // The same key file gives the same peer id; the HTTP port in use is a
    // clear error.
    let mut busy = config.clone();
    busy.http_listen = first.http_addr();
    let error = Bootstrap::start(busy).await.unwrap_err().to_string();
    assert!(error.contains("choose another --http address"), "{error}");
    first.shutdown().await;
    let second = Bootstrap::start(config).await.unwrap();
    assert_eq!(second.peer_id(), peer_id);
    second.shutdown().await;
}
