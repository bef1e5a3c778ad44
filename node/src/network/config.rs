//! The network's configuration ([`NetworkConfig`], [`NetworkLimits`]) and
//! the node's libp2p identity ([`NodeKey`]).

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use consensus::block::MAX_BLOCK_BYTES;
use libp2p::identity::{self, Keypair as Libp2pKeypair};
use libp2p::{Multiaddr, PeerId};
use wallet::ChainId;
use zeroize::Zeroizing;

use super::NetworkError;

/// Everything the network needs to start. [`NetworkConfig::new`] gives
/// defaults that work with nothing else set.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// The chain: topics, protocol names and transaction checks are bound
    /// to it, so nodes of different chains never exchange messages.
    pub chain_id: ChainId,
    /// Where to listen. Default: TCP and QUIC on 127.0.0.1 with
    /// OS-chosen ports — reachable only from this machine; a validator or
    /// a bootstrap peer sets public addresses.
    pub listen_addrs: Vec<Multiaddr>,
    /// Peers dialled at start and added to Kademlia; each must end in
    /// `/p2p/<peer id>`.
    pub bootstrap_peers: Vec<Multiaddr>,
    /// Discover peers on the local network with mDNS (off in tests).
    pub mdns: bool,
    /// Answer Kademlia queries (validators and bootstrap peers). Off: the
    /// mode follows whether the node has a confirmed external address.
    pub kademlia_server: bool,
    /// Bounds on connections, queues and messages.
    pub limits: NetworkLimits,
    /// How long a peer whose gossip score fell below the graylist
    /// threshold stays disconnected and refused.
    pub ban_duration: Duration,
    /// How often gossipsub maintains its mesh (and peer scores decay).
    pub heartbeat_interval: Duration,
    /// How long an idle connection is kept open.
    pub idle_connection_timeout: Duration,
    /// How long the first transaction of a gossip batch waits for more
    /// before the batch is published (a full batch goes at once). Longer
    /// means fuller batches (less CPU per transaction at high rates),
    /// shorter means less added latency; at most
    /// [`MAX_TX_BATCH_LINGER`](super::MAX_TX_BATCH_LINGER). Default
    /// [`DEFAULT_TX_BATCH_LINGER`](super::DEFAULT_TX_BATCH_LINGER), 5 ms.
    pub tx_batch_linger: Duration,
}

impl NetworkConfig {
    /// Defaults for `chain_id`: loopback TCP and QUIC listeners, no
    /// bootstrap peers, mDNS on, Kademlia in automatic mode, default
    /// limits, 10-minute bans, a 700 ms heartbeat, transaction batches
    /// that linger 5 ms.
    pub fn new(chain_id: ChainId) -> NetworkConfig {
        NetworkConfig {
            chain_id,
            listen_addrs: vec![
                "/ip4/127.0.0.1/tcp/0".parse().expect("valid multiaddr"),
                "/ip4/127.0.0.1/udp/0/quic-v1"
                    .parse()
                    .expect("valid multiaddr"),
            ],
            bootstrap_peers: Vec::new(),
            mdns: true,
            kademlia_server: false,
            limits: NetworkLimits::default(),
            ban_duration: Duration::from_secs(600),
            heartbeat_interval: Duration::from_millis(700),
            idle_connection_timeout: Duration::from_secs(60),
            tx_batch_linger: super::DEFAULT_TX_BATCH_LINGER,
        }
    }
}

/// Stop accepting connections when the process uses this much memory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MemoryLimit {
    /// No memory-based limit.
    Off,
    /// At most this many bytes of process memory.
    Bytes(usize),
    /// At most this fraction (0 to 1) of the machine's physical memory.
    FractionOfPhysical(f64),
}

/// Hard bounds on everything the network holds or accepts.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkLimits {
    /// Established inbound connections.
    pub max_established_incoming: u32,
    /// Established outbound connections.
    pub max_established_outgoing: u32,
    /// Connections to one peer (TCP and QUIC at once need 2).
    pub max_established_per_peer: u32,
    /// Inbound connections still handshaking.
    pub max_pending_incoming: u32,
    /// Dials under way.
    pub max_pending_outgoing: u32,
    /// Refuse new connections above this memory use.
    pub memory: MemoryLimit,
    /// Requests queued from [`Network`](super::Network) handles to the
    /// network task (callers wait when it is full).
    pub command_queue: usize,
    /// Events queued for the node ([`NetworkEvent`](super::NetworkEvent));
    /// when the node does not keep up, events are dropped and counted.
    pub event_queue: usize,
    /// Gossiped transaction batches being validated at once (each up to
    /// [`MAX_BATCH_TXS`](super::MAX_BATCH_TXS) transactions); beyond it
    /// new ones are ignored (dropped without penalty) and counted.
    pub max_pending_tx_validations: usize,
    /// Gossiped blocks being validated at once.
    pub max_pending_block_validations: usize,
    /// The largest gossiped block, in bytes (at most `MAX_BLOCK_BYTES`).
    pub max_gossip_block_bytes: usize,
    /// The most blocks asked for or answered in one sync exchange (at most
    /// [`MAX_BLOCKS_PER_RESPONSE`](super::MAX_BLOCKS_PER_RESPONSE)).
    pub max_blocks_per_response: usize,
    /// The largest sync response read or written, in bytes (at most
    /// [`MAX_SYNC_RESPONSE_BYTES`](super::MAX_SYNC_RESPONSE_BYTES)).
    pub max_sync_response_bytes: usize,
    /// Sync requests this node has outstanding at once.
    pub max_outbound_sync_requests: usize,
    /// Sync requests this node serves at once (others are answered
    /// "busy").
    pub max_inbound_sync_requests: usize,
    /// Sync requests one peer may have served at once.
    pub max_inbound_sync_requests_per_peer: usize,
    /// How long a peer's gossip send queue may keep overflowing before the
    /// peer is disconnected and dialled again. Gossipsub never closes such
    /// a connection itself: when a peer's stream stops taking data (for
    /// instance a yamux stream the remote dropped while this node was out
    /// of credit), the queue stays full for the connection's life and
    /// everything for that peer is dropped. A fresh connection starts with
    /// an empty queue. Overflows separated by a quiet spell of a few
    /// seconds start the count again, so a peer that only falls behind in
    /// bursts keeps its connection.
    pub stuck_send_queue_after: Duration,
    /// How long a sync request may take.
    pub sync_request_timeout: Duration,
}

impl Default for NetworkLimits {
    fn default() -> NetworkLimits {
        NetworkLimits {
            max_established_incoming: 64,
            max_established_outgoing: 32,
            max_established_per_peer: 2,
            max_pending_incoming: 16,
            max_pending_outgoing: 16,
            memory: MemoryLimit::FractionOfPhysical(0.9),
            command_queue: 256,
            event_queue: 1024,
            max_pending_tx_validations: 64,
            max_pending_block_validations: 4,
            max_gossip_block_bytes: MAX_BLOCK_BYTES,
            max_blocks_per_response: super::MAX_BLOCKS_PER_RESPONSE,
            max_sync_response_bytes: super::MAX_SYNC_RESPONSE_BYTES,
            max_outbound_sync_requests: 16,
            max_inbound_sync_requests: 8,
            max_inbound_sync_requests_per_peer: 2,
            stuck_send_queue_after: Duration::from_secs(30),
            sync_request_timeout: Duration::from_secs(30),
        }
    }
}

/// The node's libp2p identity: an ed25519 key whose public key is the
/// [`PeerId`].
///
/// It is made from 32 secret bytes, so it can be a dedicated node key (the
/// default: [`NodeKey::load_or_generate`]) or a wallet's ed25519 secret —
/// the same RFC 8032 seed gives the same public key in both. A separate
/// node key is the private choice: a wallet key as the network identity
/// tells every peer which account this machine (and IP address) plays
/// with. `Debug` shows only the peer id, never the secret.
#[derive(Clone)]
pub struct NodeKey(Libp2pKeypair);

impl NodeKey {
    /// The length of the secret, in bytes.
    pub const SECRET_LENGTH: usize = 32;

    /// The longest node key file read, in bytes.
    pub const MAX_FILE_BYTES: u64 = 1024;

    /// A new random key from the operating system's generator.
    pub fn generate() -> NodeKey {
        NodeKey(Libp2pKeypair::generate_ed25519())
    }

    /// The key of a 32-byte ed25519 secret (an RFC 8032 seed). `secret` is
    /// zeroized.
    pub fn from_secret_bytes(secret: &mut [u8; NodeKey::SECRET_LENGTH]) -> NodeKey {
        // Any 32 bytes are an ed25519 secret, so this cannot fail.
        let keypair = Libp2pKeypair::ed25519_from_bytes(&mut secret[..])
            .expect("32 bytes are always an ed25519 secret key");
        NodeKey(keypair)
    }

    /// Reads a node key file (64 hex characters of secret, optional
    /// trailing newline), or creates one with a new random key, readable
    /// by the owner only, if there is none.
    pub fn load_or_generate(path: &Path) -> Result<NodeKey, NetworkError> {
        let key_error = |reason: String| NetworkError::NodeKey {
            path: path.display().to_string(),
            reason,
        };
        match std::fs::File::open(path) {
            Ok(file) => {
                let mut text = Zeroizing::new(String::new());
                file.take(NodeKey::MAX_FILE_BYTES + 1)
                    .read_to_string(&mut text)
                    .map_err(|e| key_error(e.to_string()))?;
                if text.len() as u64 > NodeKey::MAX_FILE_BYTES {
                    return Err(key_error("the file is too long for a node key".into()));
                }
                let mut secret = Zeroizing::new([0u8; NodeKey::SECRET_LENGTH]);
                hex::decode_to_slice(text.trim(), &mut secret[..]).map_err(|e| {
                    key_error(format!("expected 64 hex characters of ed25519 secret: {e}"))
                })?;
                Ok(NodeKey::from_secret_bytes(&mut secret))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = NodeKey::generate();
                key.write_new(path).map_err(|e| key_error(e.to_string()))?;
                Ok(key)
            }
            Err(e) => Err(key_error(e.to_string())),
        }
    }

    /// Writes the secret as hex to a new file (never overwriting, its
    /// directory created if missing), mode 0600 on Unix.
    fn write_new(&self, path: &Path) -> std::io::Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let secret = self.secret_bytes();
        let text = Zeroizing::new(format!("{}\n", hex::encode(&secret[..])));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()
    }

    fn secret_bytes(&self) -> Zeroizing<[u8; NodeKey::SECRET_LENGTH]> {
        let mut out = Zeroizing::new([0u8; NodeKey::SECRET_LENGTH]);
        if let Ok(ed) = self.0.clone().try_into_ed25519() {
            out.copy_from_slice(ed.secret().as_ref());
        }
        out
    }

    /// The peer id.
    pub fn peer_id(&self) -> PeerId {
        self.0.public().to_peer_id()
    }

    /// The 32-byte ed25519 public key (equal to the wallet's public key
    /// when made from the same secret).
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.0
            .public()
            .try_into_ed25519()
            .map(|p| p.to_bytes())
            .unwrap_or_default()
    }

    /// The libp2p keypair (for a swarm built outside this module, such as
    /// the bootstrap peer's).
    pub fn keypair(&self) -> &identity::Keypair {
        &self.0
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeKey")
            .field("peer_id", &self.peer_id())
            .field("secret", &"<redacted>")
            .finish()
    }
}
