//! # Network
//!
//! The node's libp2p stack, run by one tokio task and driven through a
//! cloneable [`Network`] handle; what arrives from peers comes out as
//! [`NetworkEvent`]s on a bounded channel.
//!
//! ## Stack
//!
//! | layer | what | why |
//! |---|---|---|
//! | transports | TCP (noise + yamux) and QUIC v1 | QUIC for fast handshakes and no head-of-line blocking; TCP where UDP is blocked |
//! | identity | ed25519 [`NodeKey`] from 32 secret bytes | a dedicated node key file by default; a wallet secret works too |
//! | gossipsub | topics `bitcraps/<chain>/txs/3`, `bitcraps/<chain>/block/1` | batches of transactions ([`batch`]) and finalized blocks |
//! | identify | protocol version `/bitcraps/<chain>/1.0.0` | a peer of another chain is disconnected; listen addresses feed Kademlia |
//! | Kademlia | protocol `/bitcraps/<chain>/kad/1.0.0`, records never stored from peers | discovery; server mode on validators and bootstrap peers |
//! | mDNS | optional | discovery on a LAN (off in tests) |
//! | ping | | liveness |
//! | request-response | `/bitcraps/<chain>/sync/1`, our borsh codec ([`sync`]) | block sync |
//! | limits | connection counts, pending dials, process memory, a block list | a node under attack keeps serving |
//! | partition | the same block list, set by [`Network::partition`] | fault injection on test networks ([`crate::partition`]) |
//!
//! `<chain>` is the first 8 bytes of the chain id in hex ([`chain_prefix`]):
//! nodes of different chains never share a topic, a DHT or a protocol.
//!
//! ## Gossip validation pipeline
//!
//! Gossipsub runs with `validate_messages()`: nothing is relayed until this
//! node has judged it, and every verdict is reported with
//! `report_message_validation_result`. Messages are *anonymous* (no author,
//! sequence number or gossipsub signature — the payloads carry their own
//! ed25519 signatures, and no relayer learns which node a bet came from),
//! and a message's id is BLAKE3 of its data, so the same batch from two
//! peers is one message. Each batch carries its publisher's nonce, so the
//! same transactions published again (re-gossip) are a new message.
//!
//! **Transactions travel in batches** ([`batch`]): [`Network::publish_transaction`]
//! queues a transaction, and the network task publishes the queue as one
//! message when it holds [`MAX_BATCH_TXS`] transactions or
//! [`MAX_BATCH_BYTES`], or when its first transaction has waited
//! [`NetworkConfig::tx_batch_linger`] (default 5 ms). A relayer forwards a
//! batch it accepted as it is (gossipsub's own relaying).
//!
//! 1. **Size.** Gossipsub refuses, before decoding, a frame over
//!    `max_gossip_block_bytes` + 1 KiB and a transaction-topic message over
//!    `MAX_BATCH_BYTES` + 1 KiB; such a message counts as invalid against
//!    the peer. The decoders check the exact limits again.
//! 2. **Bounded queue.** At most `max_pending_tx_validations`
//!    transaction batches and `max_pending_block_validations` blocks are
//!    under validation at once, on blocking threads (signature checks
//!    never stall the swarm). Beyond that a message is *ignored* and
//!    counted (`validation_overflow`).
//! 3. **Stateless.** A batch's framing is read within its bounds (count
//!    and lengths checked before allocation, canonical, never panics);
//!    transactions already pooled ([`TransactionValidator::is_known`]) are
//!    skipped before decoding or verifying them, stale ones
//!    ([`TransactionValidator::is_stale`]: nonce already used) after
//!    decoding but before verifying them; every other one is
//!    `SignedTransaction::check`ed for this chain, all before any is
//!    admitted. A block is decoded and `Block::check`ed (well
//!    formed, every signature). Any failure → **Reject**.
//! 4. **Stateful.** The node's [`TransactionValidator`] (normally
//!    [`MempoolGossip`]: admission to the mempool) or [`BlockValidator`]
//!    decides. Refusals that hold on every honest node (fee below the
//!    chain minimum) → **Reject** (for a batch: if any of its
//!    transactions is); duplicates, stale nonces, expired, unaffordable as
//!    far as this node knows, over local limits → not admitted, no
//!    penalty. A batch of which at least one transaction was admitted is
//!    **accepted** (relayed whole: peers skip what they have by hash) unless
//!    it held stale transactions whose signatures were not checked: then
//!    it is **ignored** and this node publishes what it admitted in its
//!    own batches. A batch of which none was admitted is **ignored**, so a
//!    relayer whose batch crossed a block, or that re-gossips what peers
//!    already hold, is never penalized.
//! 5. **Accept** → relayed to the mesh; each admitted transaction and
//!    each accepted block is delivered as a [`NetworkEvent`].
//!
//! ## Peer scoring (parameters in [`gossip`])
//!
//! The point is to make junk expensive and honest silence free:
//!
//! - **P4, invalid messages**, is the main signal: weight −10 per squared
//!   count on the transaction topic and −50 on the block topic, decaying to
//!   a tenth in an hour. One invalid transaction takes a peer below zero;
//!   three graylist a newcomer and four any peer.
//! - **P1/P2** (time in mesh, first deliveries) give small rewards, and all
//!   topic rewards together are capped at +20, so good behaviour cannot
//!   bank credit to spend on junk.
//! - **P3/P3b** (mesh delivery rates) are off: transaction and block traffic
//!   is bursty and often quiet, so a delivery deficit would punish honest
//!   peers.
//! - **Slow peers** (gossipsub's penalty per message a peer's full send
//!   queue drops) are not penalized: under a saturating burst an honest
//!   node falls behind and would be graylisted, hence banned, within a
//!   second. A peer whose send queue stays full for
//!   `stuck_send_queue_after` is disconnected and dialled again instead
//!   (gossipsub never closes such a connection, and a queue whose stream
//!   stopped draining stays full for the connection's life).
//! - **P6** (many peers on one IP) is mild — players behind one NAT share
//!   an address — and off for loopback (a local testnet's processes);
//!   **P7** (protocol misbehaviour: grafting during backoff, broken IWANT
//!   promises) is on past 6 offences.
//! - Thresholds: gossip −10, publish −50, graylist −80. Gossipsub ignores a
//!   graylisted peer; the network then **disconnects and bans** it for
//!   `ban_duration` (the block list refuses its reconnections), checked
//!   right after each rejection and every second. Scores are retained for
//!   an hour, so reconnecting after a ban does not wipe the record.
//!
//! Gossiped blocks can be as large as `MAX_BLOCK_BYTES` (16 MiB), so a peer
//! can make this node buffer one such frame per connection; lower
//! `max_gossip_block_bytes` on small machines (sync is not affected).
//!
//! ## Limits (defaults in [`NetworkLimits`])
//!
//! Every queue and every input is bounded: command and event channels,
//! validations in flight, gossip frames, sync requests (64 bytes) and
//! responses (≤ 64 blocks, each ≤ `MAX_BLOCK_BYTES`, ≤ 32 MiB in all, read
//! under the limit before decoding), outstanding and served sync requests
//! (globally and per peer), established and pending connections (so
//! pending dials), and connections refused above a share of physical
//! memory, at most 4096 bans at once, at most 16 addresses taken from a
//! peer's identify. Kademlia never stores records pushed by peers. Events
//! the node does not read in time are dropped and counted, never buffered
//! without bound; the mempool and block sync hold the state.

pub mod batch;
mod config;
mod finalized;
pub mod gossip;
mod metrics;
pub mod sync;
mod task;
mod topics;
mod validation;

#[cfg(test)]
mod tests;

pub use batch::{
    Batch, BatchError, DEFAULT_TX_BATCH_LINGER, MAX_BATCH_BYTES, MAX_BATCH_TXS,
    MAX_TX_BATCH_LINGER, decode_batch, encode_batch,
};
pub use config::{MemoryLimit, NetworkConfig, NetworkLimits, NodeKey};
pub use finalized::{FinalizedBlock, MAX_FINALITY_PROOF_BYTES, MAX_FINALIZED_BLOCK_BYTES};
pub use metrics::{NetworkMetrics, NetworkMetricsSnapshot};
pub use sync::{
    BlockSource, MAX_BLOCKS_PER_RESPONSE, MAX_SYNC_REQUEST_BYTES, MAX_SYNC_RESPONSE_BYTES,
    NoBlocks, SyncError, SyncRefusal, SyncRequest, SyncResponse,
};
pub use topics::{TopicKind, Topics, chain_prefix};
pub use validation::{BlockValidator, MempoolGossip, TransactionValidator, Verdict, verdict_for};
/// The gossip pipelines, for the fuzz entry points (`crate::fuzz`).
pub(crate) use validation::{validate_block, validate_tx_batch};

pub use libp2p::{Multiaddr, PeerId};

use std::collections::BTreeSet;
use std::sync::Arc;

use consensus::tx::SignedTransaction;
use tokio::sync::{mpsc, oneshot};
use wallet::ChainId;

/// Something that arrived from the network.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // A transaction is moved once; boxing it buys nothing.
pub enum NetworkEvent {
    /// A gossiped transaction that passed validation (it is in the mempool
    /// when the validator is [`MempoolGossip`]), and the peer that sent the
    /// batch holding it; one event per admitted transaction.
    Transaction(SignedTransaction, PeerId),
    /// A gossiped finalized block that passed validation, and the peer
    /// that sent it.
    Block(Box<FinalizedBlock>, PeerId),
    /// A first connection to a peer opened.
    PeerConnected(PeerId),
    /// The last connection to a peer closed.
    PeerDisconnected(PeerId),
    /// A peer was disconnected and banned for its gossip score.
    PeerBanned {
        /// The peer.
        peer: PeerId,
        /// Its score when banned.
        score: f64,
    },
}

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The configuration cannot work.
    #[error("invalid network configuration: {0}")]
    Config(String),
    /// A transport could not be set up.
    #[error("could not set up the network transports: {0}")]
    Transport(String),
    /// A listen address could not be used.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// The node key file could not be read or written.
    #[error("node key file {path}: {reason}")]
    NodeKey {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// No connected peer subscribes to the topic yet. The message was not
    /// sent; a transaction is held and published as soon as a peer
    /// subscribes (and the mempool's re-gossip publishes it again).
    #[error("no connected peer subscribes to the topic yet; publish again when peers connect")]
    NoPeers,
    /// The same message was published recently (or the same transaction
    /// waits in the batch being filled); peers already have it. (A
    /// transaction published again in a later batch is a new message: see
    /// [`batch`].)
    #[error("this message was already published recently")]
    Duplicate,
    /// The message is over the topic's size limit.
    #[error("the message is {len} bytes, over the topic's limit of {max}")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Gossipsub refused to publish for another reason.
    #[error("could not publish: {0}")]
    Publish(String),
    /// A dial could not start (a bad address, a banned peer, too many
    /// pending dials).
    #[error("cannot dial {addr}: {reason}")]
    Dial {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// The network task has stopped.
    #[error("the network has stopped")]
    Stopped,
}

/// The services the node provides to the network.
#[derive(Clone)]
pub struct NetworkServices {
    /// Judges gossiped transactions (normally [`MempoolGossip`]).
    pub transactions: Arc<dyn TransactionValidator>,
    /// Judges gossiped blocks (normally the chain follower).
    pub blocks: Arc<dyn BlockValidator>,
    /// Serves finalized blocks to syncing peers.
    pub block_source: Arc<dyn BlockSource>,
}

impl std::fmt::Debug for NetworkServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetworkServices")
    }
}

/// Knobs only tests turn: they let a node misbehave.
#[derive(Clone, Debug)]
pub(crate) struct TestHooks {
    /// The gossipsub limit of the transaction topic's data.
    pub max_tx_message_bytes: usize,
}

impl Default for TestHooks {
    fn default() -> TestHooks {
        TestHooks {
            max_tx_message_bytes: gossip::default_max_tx_message_bytes(),
        }
    }
}

/// A request to the network task.
pub(crate) enum Command {
    /// Queue an encoded transaction for the next batch.
    PublishTransaction {
        tx: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    Publish {
        topic: TopicKind,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    Dial {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    ListenAddrs {
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    Peers {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    PeerScore {
        peer: PeerId,
        reply: oneshot::Sender<Option<f64>>,
    },
    MeshPeers {
        topic: TopicKind,
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    Partition {
        peers: BTreeSet<PeerId>,
        reply: oneshot::Sender<()>,
    },
    RequestBlocks {
        peer: PeerId,
        request: SyncRequest,
        reply: oneshot::Sender<Result<SyncResponse, SyncError>>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// A handle on the running network. Cheap to clone; the network task stops
/// when every handle is dropped or [`Network::shutdown`] is called.
#[derive(Clone, Debug)]
pub struct Network {
    commands: mpsc::Sender<Command>,
    peer_id: PeerId,
    chain_id: ChainId,
    limits: NetworkLimits,
    metrics: Arc<NetworkMetrics>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::PublishTransaction { .. } => "PublishTransaction",
            Command::Publish { .. } => "Publish",
            Command::Dial { .. } => "Dial",
            Command::ListenAddrs { .. } => "ListenAddrs",
            Command::Peers { .. } => "Peers",
            Command::PeerScore { .. } => "PeerScore",
            Command::MeshPeers { .. } => "MeshPeers",
            Command::Partition { .. } => "Partition",
            Command::RequestBlocks { .. } => "RequestBlocks",
            Command::Shutdown { .. } => "Shutdown",
        })
    }
}

impl Network {
    /// Builds the swarm with `key` as identity, starts listening on every
    /// configured address (waiting until each has an address, at most 10
    /// s), dials the bootstrap peers, and spawns the network task on the
    /// current tokio runtime. Returns the handle and the event receiver.
    pub async fn start(
        config: NetworkConfig,
        key: NodeKey,
        services: NetworkServices,
    ) -> Result<(Network, mpsc::Receiver<NetworkEvent>), NetworkError> {
        Network::start_with(config, key, services, TestHooks::default()).await
    }

    pub(crate) async fn start_with(
        config: NetworkConfig,
        key: NodeKey,
        services: NetworkServices,
        hooks: TestHooks,
    ) -> Result<(Network, mpsc::Receiver<NetworkEvent>), NetworkError> {
        if config.limits.command_queue == 0 || config.limits.event_queue == 0 {
            return Err(NetworkError::Config(
                "the command and event queues need room for at least one item".into(),
            ));
        }
        let metrics = Arc::new(NetworkMetrics::default());
        let (commands, command_rx) = mpsc::channel(config.limits.command_queue);
        let (events, event_rx) = mpsc::channel(config.limits.event_queue);
        let network = Network {
            commands,
            peer_id: key.peer_id(),
            chain_id: config.chain_id,
            limits: config.limits.clone(),
            metrics: metrics.clone(),
        };
        task::spawn(config, key, services, hooks, metrics, command_rx, events).await?;
        Ok((network, event_rx))
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The live counters.
    pub fn metrics(&self) -> &NetworkMetrics {
        &self.metrics
    }

    /// The live counters, shared (for [`crate::metrics::Metrics::attach_network`]).
    pub fn shared_metrics(&self) -> Arc<NetworkMetrics> {
        self.metrics.clone()
    }

    /// How many peers are connected now.
    pub fn peer_count(&self) -> usize {
        self.metrics.snapshot().connected_peers as usize
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetworkError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(make(reply))
            .await
            .map_err(|_| NetworkError::Stopped)?;
        answer.await.map_err(|_| NetworkError::Stopped)
    }

    /// Queues a transaction for the transaction topic's next batch. The
    /// caller checks it first (normally by admitting it to the mempool).
    ///
    /// Returns once the transaction is queued, without waiting for the
    /// batch to go out (at most `tx_batch_linger` later): `NoPeers` if no
    /// connected peer subscribes to the topic (the transaction is held, a
    /// bounded number of them, and published as soon as a peer
    /// subscribes), `Duplicate` if it already waits in the batch. A batch
    /// that then fails to publish is counted (`tx_batch_publish_failures`)
    /// and logged; its transactions are held the same way if it found no
    /// peer, and the mempool's re-gossip publishes them again anyway.
    pub async fn publish_transaction(&self, tx: &SignedTransaction) -> Result<(), NetworkError> {
        let tx = tx.encode();
        self.ask(|reply| Command::PublishTransaction { tx, reply })
            .await?
    }

    /// Publishes an encoded [`FinalizedBlock`] on the block topic.
    pub async fn publish_block(&self, block: Vec<u8>) -> Result<(), NetworkError> {
        if block.len() > self.limits.max_gossip_block_bytes {
            return Err(NetworkError::TooLarge {
                len: block.len(),
                max: self.limits.max_gossip_block_bytes,
            });
        }
        self.publish_raw(TopicKind::Blocks, block).await
    }

    /// Publishes bytes as they are (tests use it to misbehave).
    pub(crate) async fn publish_raw(
        &self,
        topic: TopicKind,
        data: Vec<u8>,
    ) -> Result<(), NetworkError> {
        self.ask(|reply| Command::Publish { topic, data, reply })
            .await?
    }

    /// Starts dialling `addr` (which should end in `/p2p/<peer id>`).
    /// Returns when the dial has started; [`NetworkEvent::PeerConnected`]
    /// reports the connection.
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), NetworkError> {
        self.ask(|reply| Command::Dial { addr, reply }).await?
    }

    /// The addresses this node listens on, each ending in
    /// `/p2p/<peer id>`.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetworkError> {
        self.ask(|reply| Command::ListenAddrs { reply }).await
    }

    /// The connected peers.
    pub async fn connected_peers(&self) -> Result<Vec<PeerId>, NetworkError> {
        self.ask(|reply| Command::Peers { reply }).await
    }

    /// A peer's gossipsub score as this node sees it (`None` if unknown).
    pub async fn peer_score(&self, peer: PeerId) -> Result<Option<f64>, NetworkError> {
        self.ask(|reply| Command::PeerScore { peer, reply }).await
    }

    /// The peers in this node's gossip mesh for a topic.
    pub async fn mesh_peers(&self, topic: TopicKind) -> Result<Vec<PeerId>, NetworkError> {
        self.ask(|reply| Command::MeshPeers { topic, reply }).await
    }

    /// Cuts this node off from `peers` (fault injection, see
    /// [`crate::partition`]): their connections are closed and every
    /// connection to or from them is refused, until a later call without
    /// them (an empty set heals). Replaces the previous set; a peer also
    /// banned for its gossip score stays blocked until its ban ends.
    pub async fn partition(&self, peers: BTreeSet<PeerId>) -> Result<(), NetworkError> {
        self.ask(|reply| Command::Partition { peers, reply }).await
    }

    /// Asks `peer` for up to `max` finalized blocks from `from_height` and
    /// checks the answer: at most `max` blocks, each decoding (bounded,
    /// canonical) to a block of this chain at the next height, with its
    /// finality proof if it has one. An empty list means the peer has none
    /// from that height.
    pub async fn request_blocks(
        &self,
        peer: PeerId,
        from_height: u64,
        max: u32,
    ) -> Result<Vec<FinalizedBlock>, SyncError> {
        let limit = self
            .limits
            .max_blocks_per_response
            .min(MAX_BLOCKS_PER_RESPONSE);
        if max == 0 || max as usize > limit {
            return Err(SyncError::BadRequest {
                asked: max,
                max: limit,
            });
        }
        let request = SyncRequest::GetBlocks { from_height, max };
        let response = self
            .ask(|reply| Command::RequestBlocks {
                peer,
                request,
                reply,
            })
            .await
            .map_err(|_| SyncError::Stopped)??;
        let chain_id = self.chain_id;
        tokio::task::spawn_blocking(move || {
            sync::decode_response(&chain_id, from_height, max as usize, response)
        })
        .await
        .map_err(|_| SyncError::Stopped)?
    }

    /// Stops the network task, closing every connection, and waits for it.
    pub async fn shutdown(&self) {
        let _ = self.ask(|reply| Command::Shutdown { reply }).await;
    }
}
