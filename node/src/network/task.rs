//! The network task: builds the swarm and runs its event loop.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, MessageId};
use libp2p::identity::Keypair;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, Swarm, SwarmBuilder, allow_block_list, connection_limits, identify, kad,
    mdns, memory_connection_limits, noise, ping, tcp, yamux,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::Instant;

use consensus::tx::SignedTransaction;

use super::batch::{
    MAX_TX_BATCH_LINGER, PushError, TxBatcher, batch_count, first_batch_nonce, split_batch,
};
use super::config::{MemoryLimit, NetworkConfig, NodeKey};
use super::gossip::{self as gossip_config, GRAYLIST_THRESHOLD};
use super::metrics::NetworkMetrics;
use super::sync::{SyncCodec, SyncRefusal, SyncRequest, SyncResponse, bounded_response};
use super::topics::{Protocols, TopicKind, Topics};
use super::validation::{self, Verdict};
use super::{
    Command, FinalizedBlock, NetworkError, NetworkEvent, NetworkServices, SyncError, TestHooks,
};

/// How long `start` waits for the listeners.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// How often scores, bans and bootstrap connections are checked.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(1);

/// Below this many peers, unconnected bootstrap peers are dialled again.
const TARGET_PEERS: usize = 8;

/// The most peers banned at once.
const MAX_BANS: usize = 4096;

/// How often unconnected bootstrap peers are dialled again.
const BOOTSTRAP_REDIAL: Duration = Duration::from_secs(10);

/// Send-queue overflows of one peer closer together than this belong to
/// one streak. Gossipsub reports them once per heartbeat (700 ms), and a
/// jammed link at idle still overflows a few times a second (block gossip,
/// IHAVE), so a longer gap means the queue drained.
const OVERFLOW_STREAK_GAP: Duration = Duration::from_secs(5);

/// The most transactions held while no connected peer subscribes to the
/// transaction topic ([`State::hold`]); past it the oldest are dropped,
/// and the mempool's re-gossip publishes them again.
const MAX_HELD_TXS: usize = 4096;
/// The most bytes of held transactions.
const MAX_HELD_BYTES: usize = 4 * 1024 * 1024;

/// A run of send-queue overflows for one peer.
#[derive(Clone, Copy, Debug)]
struct OverflowStreak {
    since: Instant,
    last: Instant,
}

#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    // Limits first: they refuse a connection before anything else spends
    // on it.
    limits: connection_limits::Behaviour,
    memory: Toggle<memory_connection_limits::Behaviour>,
    blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    gossipsub: gossipsub::Behaviour,
    identify: identify::Behaviour,
    kademlia: kad::Behaviour<kad::store::MemoryStore>,
    mdns: Toggle<mdns::tokio::Behaviour>,
    ping: ping::Behaviour,
    sync: request_response::Behaviour<SyncCodec>,
}

/// What a validation worker found.
#[allow(clippy::large_enum_variant)] // Moved once per message; boxing buys nothing.
enum Payload {
    None,
    /// The transactions of a batch this node admitted, and how many others
    /// it held that were not admitted without blame.
    Transactions {
        admitted: Vec<SignedTransaction>,
        ignored: usize,
        /// The batch was not relayed as is; this node publishes what it
        /// admitted in its own batches.
        republish: bool,
    },
    Block(Box<FinalizedBlock>),
}

struct Validated {
    id: MessageId,
    source: PeerId,
    topic: TopicKind,
    verdict: Verdict,
    payload: Payload,
}

struct Served {
    peer: PeerId,
    channel: ResponseChannel<SyncResponse>,
    response: SyncResponse,
}

fn build_behaviour(
    key: &Keypair,
    config: &NetworkConfig,
    topics: &Topics,
    protocols: &Protocols,
    hooks: &TestHooks,
) -> Result<Behaviour, NetworkError> {
    let peer_id = key.public().to_peer_id();
    let limits = &config.limits;
    let connection_limits = connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(limits.max_pending_incoming))
        .with_max_pending_outgoing(Some(limits.max_pending_outgoing))
        .with_max_established_incoming(Some(limits.max_established_incoming))
        .with_max_established_outgoing(Some(limits.max_established_outgoing))
        .with_max_established_per_peer(Some(limits.max_established_per_peer));
    let memory = match limits.memory {
        MemoryLimit::Off => None,
        MemoryLimit::Bytes(bytes) => {
            Some(memory_connection_limits::Behaviour::with_max_bytes(bytes))
        }
        MemoryLimit::FractionOfPhysical(fraction) => {
            if !(fraction > 0.0 && fraction <= 1.0) {
                return Err(NetworkError::Config(format!(
                    "the memory limit must be a fraction in (0, 1], not {fraction}"
                )));
            }
            Some(memory_connection_limits::Behaviour::with_max_percentage(
                fraction,
            ))
        }
    };

    let gossip = gossip_config::behaviour_config(config, topics, hooks.max_tx_message_bytes)
        .map_err(NetworkError::Config)?;
    let mut gossipsub = gossipsub::Behaviour::new(gossip_config::authenticity(), gossip)
        .map_err(|e| NetworkError::Config(e.to_string()))?;
    gossipsub
        .with_peer_score(
            gossip_config::score_params(topics),
            gossip_config::thresholds(),
        )
        .map_err(NetworkError::Config)?;

    let identify = identify::Behaviour::new(
        identify::Config::new(protocols.identify.clone(), key.public())
            .with_agent_version(format!("bitcraps-node/{}", env!("CARGO_PKG_VERSION"))),
    );

    let mut kad_config = kad::Config::new(protocols.kademlia.clone());
    kad_config.set_record_filtering(kad::StoreInserts::FilterBoth);
    kad_config.set_query_timeout(Duration::from_secs(30));
    let mut kademlia =
        kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kad_config);
    if config.kademlia_server {
        kademlia.set_mode(Some(kad::Mode::Server));
    }

    let mdns = if config.mdns {
        Some(
            mdns::tokio::Behaviour::new(mdns::Config::default(), peer_id)
                .map_err(|e| NetworkError::Transport(format!("mDNS: {e}")))?,
        )
    } else {
        None
    };

    let sync = request_response::Behaviour::with_codec(
        SyncCodec {
            max_response_bytes: limits.max_sync_response_bytes,
        },
        [(protocols.sync.clone(), ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(limits.sync_request_timeout)
            .with_max_concurrent_streams(
                limits.max_inbound_sync_requests + limits.max_outbound_sync_requests,
            ),
    );

    Ok(Behaviour {
        limits: connection_limits::Behaviour::new(connection_limits),
        memory: Toggle::from(memory),
        blocked: allow_block_list::Behaviour::default(),
        gossipsub,
        identify,
        kademlia,
        mdns: Toggle::from(mdns),
        ping: ping::Behaviour::default(),
        sync,
    })
}

/// Builds the swarm, listens, dials the bootstrap peers and spawns the
/// event loop.
pub(crate) async fn spawn(
    config: NetworkConfig,
    key: NodeKey,
    services: NetworkServices,
    hooks: TestHooks,
    metrics: Arc<NetworkMetrics>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<NetworkEvent>,
) -> Result<(), NetworkError> {
    if config.tx_batch_linger > MAX_TX_BATCH_LINGER {
        return Err(NetworkError::Config(format!(
            "the transaction batch linger is {:?}, over the limit of {:?}",
            config.tx_batch_linger, MAX_TX_BATCH_LINGER
        )));
    }
    if config.limits.max_gossip_block_bytes > consensus::block::MAX_BLOCK_BYTES {
        return Err(NetworkError::Config(format!(
            "max_gossip_block_bytes is above MAX_BLOCK_BYTES ({})",
            consensus::block::MAX_BLOCK_BYTES
        )));
    }
    let topics = Topics::new(&config.chain_id);
    let protocols = Protocols::new(&config.chain_id);
    let mut behaviour_error = None;
    let mut swarm = SwarmBuilder::with_existing_identity(key.keypair().clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetworkError::Transport(e.to_string()))?
        .with_quic()
        .with_behaviour(
            |key| match build_behaviour(key, &config, &topics, &protocols, &hooks) {
                Ok(behaviour) => Ok(behaviour),
                Err(error) => {
                    let text = error.to_string();
                    behaviour_error = Some(error);
                    Err(text.into())
                }
            },
        )
        .map_err(|e| {
            behaviour_error
                .take()
                .unwrap_or_else(|| NetworkError::Config(e.to_string()))
        })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(config.idle_connection_timeout))
        .build();

    for topic in [&topics.transactions, &topics.blocks] {
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(topic)
            .map_err(|e| NetworkError::Config(e.to_string()))?;
    }

    let listen_addrs = listen(&mut swarm, &config.listen_addrs).await?;

    let bootstrap: Vec<(PeerId, Multiaddr)> = config
        .bootstrap_peers
        .iter()
        .map(|addr| match peer_of(addr) {
            Some(peer) => Ok((peer, addr.clone())),
            None => Err(NetworkError::Config(format!(
                "bootstrap peer {addr} must end in /p2p/<peer id>"
            ))),
        })
        .collect::<Result<_, _>>()?;
    for (peer, addr) in &bootstrap {
        swarm
            .behaviour_mut()
            .kademlia
            .add_address(peer, addr.clone());
        if let Err(error) = swarm.dial(addr.clone()) {
            tracing::warn!(%addr, %error, "cannot dial bootstrap peer");
        }
    }

    let limits = &config.limits;
    let (validated_tx, validated_rx) =
        mpsc::channel(limits.max_pending_tx_validations + limits.max_pending_block_validations + 1);
    let (served_tx, served_rx) = mpsc::channel(limits.max_inbound_sync_requests + 1);
    let state = State {
        local_peer_id: *swarm.local_peer_id(),
        tx_permits: Arc::new(Semaphore::new(limits.max_pending_tx_validations)),
        block_permits: Arc::new(Semaphore::new(limits.max_pending_block_validations)),
        serve_permits: Arc::new(Semaphore::new(limits.max_inbound_sync_requests)),
        serving: BTreeMap::new(),
        pending_requests: BTreeMap::new(),
        bans: BTreeMap::new(),
        cut: BTreeSet::new(),
        overflowing: BTreeMap::new(),
        redial: BTreeSet::new(),
        connected: BTreeSet::new(),
        listen_addrs,
        bootstrap,
        bootstrapped: false,
        next_bootstrap_dial: Instant::now() + BOOTSTRAP_REDIAL,
        tx_gossip_limit: hooks.max_tx_message_bytes + gossip_config::ENVELOPE_BYTES,
        batcher: TxBatcher::new(config.tx_batch_linger, first_batch_nonce()),
        held: VecDeque::new(),
        held_ids: HashSet::new(),
        held_bytes: 0,
        validated_tx,
        served_tx,
        swarm,
        config,
        topics,
        protocols,
        services,
        metrics,
        events,
    };
    tokio::spawn(state.run(commands, validated_rx, served_rx));
    Ok(())
}

/// The `/p2p/<peer id>` at the end of an address.
fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    match addr.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(peer)) => Some(peer),
        _ => None,
    }
}

/// Starts every listener and waits until each has reported an address.
async fn listen(
    swarm: &mut Swarm<Behaviour>,
    addrs: &[Multiaddr],
) -> Result<Vec<Multiaddr>, NetworkError> {
    let mut waiting = Vec::new();
    for addr in addrs {
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|e| NetworkError::Listen {
                addr: addr.clone(),
                reason: error_chain(&e),
            })?;
        waiting.push((id, addr.clone()));
    }
    let mut found = Vec::new();
    let deadline = Instant::now() + LISTEN_TIMEOUT;
    while !waiting.is_empty() {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .map_err(|_| NetworkError::Listen {
                addr: waiting
                    .first()
                    .map(|(_, a)| a.clone())
                    .unwrap_or_else(Multiaddr::empty),
                reason: "no address reported in time".into(),
            })?;
        match event {
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                waiting.retain(|(id, _)| *id != listener_id);
                found.push(address);
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                reason,
                ..
            } => {
                if let Some((_, addr)) = waiting.iter().find(|(id, _)| *id == listener_id) {
                    return Err(NetworkError::Listen {
                        addr: addr.clone(),
                        reason: format!("{reason:?}"),
                    });
                }
            }
            SwarmEvent::ListenerError { listener_id, error } => {
                if let Some((_, addr)) = waiting.iter().find(|(id, _)| *id == listener_id) {
                    return Err(NetworkError::Listen {
                        addr: addr.clone(),
                        reason: error_chain(&error),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(found)
}

/// Everything the event loop owns.
struct State {
    local_peer_id: PeerId,
    swarm: Swarm<Behaviour>,
    config: NetworkConfig,
    topics: Topics,
    protocols: Protocols,
    services: NetworkServices,
    metrics: Arc<NetworkMetrics>,
    events: mpsc::Sender<NetworkEvent>,
    tx_permits: Arc<Semaphore>,
    block_permits: Arc<Semaphore>,
    serve_permits: Arc<Semaphore>,
    /// Sync requests being served, per peer.
    serving: BTreeMap<PeerId, usize>,
    pending_requests: BTreeMap<OutboundRequestId, oneshot::Sender<Result<SyncResponse, SyncError>>>,
    /// Banned peers and when their ban ends.
    bans: BTreeMap<PeerId, Instant>,
    /// Peers cut off by fault injection ([`super::Network::partition`]).
    cut: BTreeSet<PeerId>,
    /// Peers whose gossip send queue is overflowing, since when.
    overflowing: BTreeMap<PeerId, OverflowStreak>,
    /// Peers disconnected for a stuck send queue, to dial again once
    /// their last connection has closed.
    redial: BTreeSet<PeerId>,
    connected: BTreeSet<PeerId>,
    listen_addrs: Vec<Multiaddr>,
    bootstrap: Vec<(PeerId, Multiaddr)>,
    bootstrapped: bool,
    /// When bootstrap peers may be dialled again.
    next_bootstrap_dial: Instant,
    /// The gossipsub data limit of the transaction topic.
    tx_gossip_limit: usize,
    /// Transactions waiting to go out in the next batch.
    batcher: TxBatcher,
    /// Transactions that could not be published because no connected
    /// peer subscribed to the transaction topic, oldest first: they go out
    /// as soon as one does ([`State::release_held`]).
    held: VecDeque<Vec<u8>>,
    /// The BLAKE3 hashes of `held`, so a transaction is held once.
    held_ids: HashSet<[u8; 32]>,
    /// The bytes in `held`.
    held_bytes: usize,
    validated_tx: mpsc::Sender<Validated>,
    served_tx: mpsc::Sender<Served>,
}

impl State {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut validated: mpsc::Receiver<Validated>,
        mut served: mpsc::Receiver<Served>,
    ) {
        let mut maintenance = tokio::time::interval(MAINTENANCE_INTERVAL);
        maintenance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Fires when the waiting transaction batch is due; armed only while
        // one waits (one timer, reset, rather than a new one per loop).
        let flush = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(flush);
        let mut armed: Option<Instant> = None;
        let mut stopped = None;
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    None => break,
                    Some(Command::Shutdown { reply }) => {
                        stopped = Some(reply);
                        break;
                    }
                    Some(command) => self.on_command(command),
                },
                () = &mut flush, if armed.is_some() => {
                    armed = None;
                    match self.batcher.deadline() {
                        // A batch started after the armed one went out
                        // full: wait for its own deadline.
                        Some(at) if at > Instant::now() => {
                            armed = Some(at);
                            flush.as_mut().reset(at);
                        }
                        _ => self.flush_batch(),
                    }
                }
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some(done) = validated.recv() => self.on_validated(done),
                Some(done) = served.recv() => self.on_served(done),
                _ = maintenance.tick() => self.maintain(),
            }
            // A command or a validated batch (re-batching what it admitted)
            // may have started a batch.
            let due = self.batcher.deadline();
            if due.is_some() && due != armed {
                armed = due;
                if let Some(at) = due {
                    flush.as_mut().reset(at);
                }
            }
        }
        tracing::debug!(peer = %self.local_peer_id, "network task stopped");
        // Close every connection and listener before saying so.
        drop(self);
        if let Some(reply) = stopped {
            let _ = reply.send(());
        }
    }

    fn emit(&self, event: NetworkEvent) {
        if self.events.try_send(event).is_err() {
            NetworkMetrics::bump(&self.metrics.events_dropped);
        }
    }

    fn with_peer_id(&self, addr: &Multiaddr) -> Multiaddr {
        addr.clone()
            .with_p2p(self.local_peer_id)
            .unwrap_or_else(|a| a)
    }

    /// Whether a connected peer subscribes to the transaction topic.
    fn tx_topic_has_peers(&self) -> bool {
        let topic = self.topics.hash(TopicKind::Transactions);
        self.swarm
            .behaviour()
            .gossipsub
            .all_peers()
            .any(|(_, topics)| topics.contains(&&topic))
    }

    /// Queues a transaction for the next batch, publishing a batch that
    /// fills up. With no connected peer on the transaction topic the
    /// transaction is held ([`State::hold`]) and `NoPeers` returned.
    fn queue_transaction(&mut self, tx: Vec<u8>) -> Result<(), NetworkError> {
        // Checked once per batch, not per transaction: a batch for nobody
        // fails when it is flushed, and its transactions are held then.
        if self.batcher.is_empty() && !self.tx_topic_has_peers() {
            if tx.len() > consensus::tx::MAX_TX_BYTES {
                return Err(NetworkError::TooLarge {
                    len: tx.len(),
                    max: consensus::tx::MAX_TX_BYTES,
                });
            }
            self.hold(tx);
            return Err(NetworkError::NoPeers);
        }
        match self.batcher.push(tx, Instant::now()) {
            Ok(Some(full)) => {
                self.publish_batch(full);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(PushError::Duplicate) => Err(NetworkError::Duplicate),
            Err(PushError::TooLarge { len, max }) => Err(NetworkError::TooLarge { len, max }),
        }
    }

    /// Publishes the waiting batch, if any.
    fn flush_batch(&mut self) {
        if let Some(batch) = self.batcher.take() {
            self.publish_batch(batch);
        }
    }

    /// Publishes an encoded batch on the transaction topic. A batch that
    /// finds no peer (or only full send queues) has its transactions held
    /// until a peer subscribes; any other failure leaves them to the
    /// mempool's re-gossip.
    fn publish_batch(&mut self, batch: Vec<u8>) {
        let count = batch_count(&batch);
        let topic = self.topics.hash(TopicKind::Transactions);
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic, batch.clone())
        {
            Ok(_) => {
                NetworkMetrics::bump(&self.metrics.tx_batches_published);
                NetworkMetrics::add(&self.metrics.tx_batch_txs_published, count);
            }
            Err(
                error @ (gossipsub::PublishError::NoPeersSubscribedToTopic
                | gossipsub::PublishError::AllQueuesFull(_)),
            ) => {
                NetworkMetrics::bump(&self.metrics.tx_batch_publish_failures);
                tracing::debug!(%error, count, "transaction batch not published; its transactions are held until a peer subscribes");
                if let Ok(split) = split_batch(&batch) {
                    for item in split.items {
                        self.hold(item.bytes.to_vec());
                    }
                }
            }
            Err(error) => {
                NetworkMetrics::bump(&self.metrics.tx_batch_publish_failures);
                tracing::debug!(%error, count, "transaction batch not published; re-gossip will send its transactions again");
            }
        }
    }

    /// Holds a transaction that found no peer to go to.
    ///
    /// Without this a transaction submitted while the node is cut off (a
    /// partition, every peer restarting) left only with the mempool's
    /// re-gossip, dozens of blocks later: until then every later nonce of
    /// its sender waited in the validators' mempools behind the gap (the
    /// ~30 s stalls after a player node's partition healed), and if the
    /// node stopped first the gap was never filled, which stalled every
    /// sender with a held transaction for good. (Held transactions are
    /// memory only too; those the node's own API accepted are also in the
    /// mempool journal, `crate::mempool::journal`, which publishes them
    /// again after a restart.)
    fn hold(&mut self, tx: Vec<u8>) {
        if !self.held_ids.insert(*blake3::hash(&tx).as_bytes()) {
            return;
        }
        self.held_bytes += tx.len();
        self.held.push_back(tx);
        NetworkMetrics::bump(&self.metrics.txs_held);
        while self.held.len() > MAX_HELD_TXS || self.held_bytes > MAX_HELD_BYTES {
            let Some(old) = self.held.pop_front() else {
                break;
            };
            self.held_bytes -= old.len();
            self.held_ids.remove(blake3::hash(&old).as_bytes());
            NetworkMetrics::bump(&self.metrics.txs_held_dropped);
        }
    }

    /// Publishes the held transactions, in the order they were held, once
    /// a connected peer subscribes to the transaction topic.
    fn release_held(&mut self) {
        if self.held.is_empty() || !self.tx_topic_has_peers() {
            return;
        }
        let held = std::mem::take(&mut self.held);
        self.held_ids.clear();
        self.held_bytes = 0;
        tracing::debug!(
            count = held.len(),
            "publishing the transactions held while no peer was subscribed"
        );
        for tx in held {
            match self.batcher.push(tx, Instant::now()) {
                Ok(Some(full)) => self.publish_batch(full),
                Ok(None) | Err(PushError::Duplicate) => {}
                Err(error) => tracing::debug!(%error, "held transaction dropped"),
            }
        }
        // Without waiting for the linger: they have waited long enough.
        self.flush_batch();
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::PublishTransaction { tx, reply } => {
                let result = self.queue_transaction(tx);
                let _ = reply.send(result);
            }
            Command::Publish { topic, data, reply } => {
                let len = data.len();
                let max = match topic {
                    TopicKind::Transactions => self.tx_gossip_limit,
                    TopicKind::Blocks => self.config.limits.max_gossip_block_bytes,
                };
                let result = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(self.topics.hash(topic), data)
                    .map(|_| ())
                    .map_err(|error| match error {
                        gossipsub::PublishError::Duplicate => NetworkError::Duplicate,
                        gossipsub::PublishError::NoPeersSubscribedToTopic => NetworkError::NoPeers,
                        gossipsub::PublishError::MessageTooLarge => {
                            NetworkError::TooLarge { len, max }
                        }
                        other => NetworkError::Publish(other.to_string()),
                    });
                let _ = reply.send(result);
            }
            Command::Dial { addr, reply } => {
                let result = match peer_of(&addr) {
                    Some(peer) if self.bans.contains_key(&peer) => Err(NetworkError::Dial {
                        addr,
                        reason: "the peer is banned".into(),
                    }),
                    Some(peer) if self.cut.contains(&peer) => Err(NetworkError::Dial {
                        addr,
                        reason: "the peer is cut off by a partition (fault injection)".into(),
                    }),
                    _ => self
                        .swarm
                        .dial(addr.clone())
                        .map_err(|e| NetworkError::Dial {
                            addr,
                            reason: e.to_string(),
                        }),
                };
                let _ = reply.send(result);
            }
            Command::ListenAddrs { reply } => {
                let addrs = self
                    .listen_addrs
                    .iter()
                    .map(|a| self.with_peer_id(a))
                    .collect();
                let _ = reply.send(addrs);
            }
            Command::Peers { reply } => {
                let _ = reply.send(self.connected.iter().copied().collect());
            }
            Command::PeerScore { peer, reply } => {
                let _ = reply.send(self.swarm.behaviour().gossipsub.peer_score(&peer));
            }
            Command::MeshPeers { topic, reply } => {
                let hash = self.topics.hash(topic);
                let peers = self
                    .swarm
                    .behaviour()
                    .gossipsub
                    .mesh_peers(&hash)
                    .copied()
                    .collect();
                let _ = reply.send(peers);
            }
            Command::Partition { peers, reply } => {
                self.set_cut(peers);
                let _ = reply.send(());
            }
            Command::RequestBlocks {
                peer,
                request,
                reply,
            } => {
                let max = self.config.limits.max_outbound_sync_requests;
                if self.pending_requests.len() >= max {
                    let _ = reply.send(Err(SyncError::TooManyRequests(max)));
                    return;
                }
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
                self.pending_requests.insert(id, reply);
            }
            Command::Shutdown { reply } => {
                let _ = reply.send(());
            }
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            SwarmEvent::NewListenAddr { address, .. } if !self.listen_addrs.contains(&address) => {
                self.listen_addrs.push(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listen_addrs.retain(|a| *a != address);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } if num_established.get() == 1 && self.connected.insert(peer_id) => {
                self.metrics
                    .connected_peers
                    .store(self.connected.len() as u64, Ordering::Relaxed);
                self.emit(NetworkEvent::PeerConnected(peer_id));
                if !self.bootstrapped {
                    self.bootstrapped = true;
                    let _ = self.swarm.behaviour_mut().kademlia.bootstrap();
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } if self.connected.remove(&peer_id) => {
                self.metrics
                    .connected_peers
                    .store(self.connected.len() as u64, Ordering::Relaxed);
                self.serving.remove(&peer_id);
                self.overflowing.remove(&peer_id);
                self.emit(NetworkEvent::PeerDisconnected(peer_id));
                if self.redial.remove(&peer_id)
                    && !self.bans.contains_key(&peer_id)
                    && !self.cut.contains(&peer_id)
                {
                    // The addresses come from Kademlia (bootstrap peers
                    // and identify's listen addresses).
                    let dial = DialOpts::peer_id(peer_id)
                        .condition(PeerCondition::DisconnectedAndNotDialing)
                        .build();
                    if let Err(error) = self.swarm.dial(dial) {
                        tracing::debug!(peer = %peer_id, %error, "cannot dial again a peer whose gossip queue was stuck");
                    }
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(?peer_id, %error, "outgoing connection failed");
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                tracing::debug!(%error, "incoming connection failed");
            }
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_gossip(propagation_source, message_id, message),
            BehaviourEvent::Gossipsub(gossipsub::Event::SlowPeer {
                peer_id,
                failed_messages,
            }) => self.on_slow_peer(peer_id, failed_messages),
            BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed { topic, .. })
                if topic == self.topics.hash(TopicKind::Transactions) =>
            {
                self.release_held();
            }
            BehaviourEvent::Gossipsub(_) => {}
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                if info.protocol_version != self.protocols.identify {
                    tracing::info!(peer = %peer_id, version = %info.protocol_version, "peer of another chain or version; disconnecting");
                    NetworkMetrics::bump(&self.metrics.peers_wrong_chain);
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                if info.protocols.contains(&self.protocols.kademlia) {
                    // A peer lists few addresses; bound it anyway.
                    for addr in info.listen_addrs.into_iter().take(16) {
                        self.swarm
                            .behaviour_mut()
                            .kademlia
                            .add_address(&peer_id, addr);
                    }
                }
            }
            BehaviourEvent::Identify(_) | BehaviourEvent::Ping(_) => {}
            BehaviourEvent::Kademlia(event) => {
                tracing::trace!(?event, "kademlia");
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found.into_iter().take(64) {
                    if peer == self.local_peer_id
                        || self.bans.contains_key(&peer)
                        || self.cut.contains(&peer)
                    {
                        continue;
                    }
                    self.swarm
                        .behaviour_mut()
                        .kademlia
                        .add_address(&peer, addr.clone());
                    if !self.connected.contains(&peer) && self.connected.len() < TARGET_PEERS {
                        let _ = self.swarm.dial(addr);
                    }
                }
            }
            BehaviourEvent::Mdns(mdns::Event::Expired(_)) => {}
            BehaviourEvent::Sync(event) => self.on_sync_event(event),
            BehaviourEvent::Limits(never) => match never {},
            BehaviourEvent::Memory(never) => match never {},
            BehaviourEvent::Blocked(never) => match never {},
        }
    }

    /// Counts what gossipsub could not send to `peer` since its last
    /// heartbeat, and disconnects the peer once its send queue has kept
    /// overflowing for `stuck_send_queue_after`: gossipsub itself never
    /// closes a connection whose queue stays full, and a queue that stopped
    /// draining (a dead outbound stream) never recovers on that connection.
    /// The peer is dialled again when its last connection has closed.
    fn on_slow_peer(&mut self, peer: PeerId, failed: gossipsub::FailedMessages) {
        let count = (failed.priority + failed.non_priority) as u64;
        NetworkMetrics::add(&self.metrics.gossip_send_failures, count);
        tracing::debug!(%peer, count, "gossip messages not sent: the peer's send queue was full or they expired in it");
        if !self.connected.contains(&peer) {
            return;
        }
        let now = Instant::now();
        let streak = self
            .overflowing
            .entry(peer)
            .and_modify(|streak| {
                if now.duration_since(streak.last) > OVERFLOW_STREAK_GAP {
                    streak.since = now;
                }
                streak.last = now;
            })
            .or_insert(OverflowStreak {
                since: now,
                last: now,
            });
        let overflowing_for = now.duration_since(streak.since);
        if overflowing_for < self.config.limits.stuck_send_queue_after {
            return;
        }
        tracing::warn!(
            %peer,
            seconds = overflowing_for.as_secs(),
            "the gossip send queue to this peer has been full for too long; reconnecting"
        );
        self.overflowing.remove(&peer);
        self.redial.insert(peer);
        NetworkMetrics::bump(&self.metrics.stuck_peers_disconnected);
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    /// Hands a gossiped message to a validation worker, or ignores it if
    /// too many are being validated.
    fn on_gossip(&mut self, source: PeerId, id: MessageId, message: gossipsub::Message) {
        let Some(topic) = self.topics.kind(&message.topic) else {
            self.report(&id, &source, Verdict::Ignore);
            return;
        };
        let permits = match topic {
            TopicKind::Transactions => &self.tx_permits,
            TopicKind::Blocks => &self.block_permits,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            NetworkMetrics::bump(&self.metrics.validation_overflow);
            self.report(&id, &source, Verdict::Ignore);
            return;
        };
        let chain_id = self.config.chain_id;
        let max_block_bytes = self.config.limits.max_gossip_block_bytes;
        let services = self.services.clone();
        let results = self.validated_tx.clone();
        tokio::task::spawn_blocking(move || {
            let _permit: OwnedSemaphorePermit = permit;
            let data = message.data;
            let (verdict, payload) = match topic {
                TopicKind::Transactions => {
                    let outcome = validation::validate_tx_batch(
                        &data,
                        &chain_id,
                        services.transactions.as_ref(),
                        &source,
                    );
                    (
                        outcome.verdict,
                        Payload::Transactions {
                            admitted: outcome.admitted,
                            ignored: outcome.ignored,
                            republish: outcome.republish,
                        },
                    )
                }
                TopicKind::Blocks => {
                    let (verdict, block) = validation::validate_block(
                        &data,
                        max_block_bytes,
                        &chain_id,
                        services.blocks.as_ref(),
                        &source,
                    );
                    (
                        verdict,
                        block.map_or(Payload::None, |b| Payload::Block(Box::new(b))),
                    )
                }
            };
            // The channel has room for every permit, so this never waits.
            let _ = results.blocking_send(Validated {
                id,
                source,
                topic,
                verdict,
                payload,
            });
        });
    }

    fn report(&mut self, id: &MessageId, source: &PeerId, verdict: Verdict) {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(id, source, verdict.into());
    }

    fn on_validated(&mut self, done: Validated) {
        self.report(&done.id, &done.source, done.verdict);
        let m = &self.metrics;
        let counter = match (done.topic, done.verdict) {
            (TopicKind::Transactions, Verdict::Accept) => &m.tx_accepted,
            (TopicKind::Transactions, Verdict::Reject) => &m.tx_rejected,
            (TopicKind::Transactions, Verdict::Ignore) => &m.tx_ignored,
            (TopicKind::Blocks, Verdict::Accept) => &m.block_accepted,
            (TopicKind::Blocks, Verdict::Reject) => &m.block_rejected,
            (TopicKind::Blocks, Verdict::Ignore) => &m.block_ignored,
        };
        NetworkMetrics::bump(counter);
        match done.payload {
            Payload::Transactions {
                admitted,
                ignored,
                republish,
            } => {
                NetworkMetrics::add(&m.gossip_txs_admitted, admitted.len() as u64);
                NetworkMetrics::add(&m.gossip_txs_ignored, ignored as u64);
                for tx in admitted {
                    if republish {
                        // Best effort, like a relay: no peers or already
                        // waiting in the batch are both fine, and the
                        // mempool's re-gossip covers a batch that fails.
                        let _ = self.queue_transaction(tx.encode());
                    }
                    self.emit(NetworkEvent::Transaction(tx, done.source));
                }
            }
            Payload::Block(block) => self.emit(NetworkEvent::Block(block, done.source)),
            Payload::None => {}
        }
        if done.verdict == Verdict::Reject {
            self.enforce_score(done.source);
        }
    }

    /// Disconnects and bans a peer whose score fell below the graylist
    /// threshold.
    fn enforce_score(&mut self, peer: PeerId) {
        if self.bans.contains_key(&peer) {
            return;
        }
        let Some(score) = self.swarm.behaviour().gossipsub.peer_score(&peer) else {
            return;
        };
        if score >= GRAYLIST_THRESHOLD {
            return;
        }
        tracing::info!(%peer, score, "banning peer for its gossip score");
        if self.bans.len() >= MAX_BANS {
            // Forget the ban that would end first (its score is retained).
            if let Some((&first, _)) = self.bans.iter().min_by_key(|(_, until)| **until) {
                self.bans.remove(&first);
                if !self.cut.contains(&first) {
                    self.swarm.behaviour_mut().blocked.unblock_peer(first);
                }
            }
        }
        self.bans
            .insert(peer, Instant::now() + self.config.ban_duration);
        let behaviour = self.swarm.behaviour_mut();
        behaviour.blocked.block_peer(peer);
        let _ = behaviour.kademlia.remove_peer(&peer);
        NetworkMetrics::bump(&self.metrics.peers_banned);
        self.emit(NetworkEvent::PeerBanned { peer, score });
    }

    /// Replaces the partition's cut: newly cut peers are blocked (their
    /// connections close), healed ones unblocked unless banned.
    fn set_cut(&mut self, peers: BTreeSet<PeerId>) {
        let healed: Vec<PeerId> = self.cut.difference(&peers).copied().collect();
        let added: Vec<PeerId> = peers.difference(&self.cut).copied().collect();
        let behaviour = self.swarm.behaviour_mut();
        for peer in &healed {
            if !self.bans.contains_key(peer) {
                behaviour.blocked.unblock_peer(*peer);
            }
        }
        for peer in &added {
            behaviour.blocked.block_peer(*peer);
        }
        tracing::info!(
            cut = peers.len(),
            added = added.len(),
            healed = healed.len(),
            "libp2p partition set"
        );
        self.cut = peers;
        // Reconnect to healed bootstrap peers at the next maintenance tick.
        if !healed.is_empty() {
            self.next_bootstrap_dial = Instant::now();
        }
    }

    fn maintain(&mut self) {
        let now = Instant::now();
        let expired: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in expired {
            self.bans.remove(&peer);
            if !self.cut.contains(&peer) {
                self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            }
        }
        let peers: Vec<PeerId> = self.connected.iter().copied().collect();
        for peer in peers {
            self.enforce_score(peer);
        }
        // Normally released when a peer subscribes; this retries what a
        // full send queue refused.
        self.release_held();
        self.overflowing
            .retain(|_, streak| now.duration_since(streak.last) <= OVERFLOW_STREAK_GAP);
        if self.connected.len() < TARGET_PEERS && now >= self.next_bootstrap_dial {
            self.next_bootstrap_dial = now + BOOTSTRAP_REDIAL;
            for (peer, addr) in self.bootstrap.clone() {
                if !self.connected.contains(&peer)
                    && !self.bans.contains_key(&peer)
                    && !self.cut.contains(&peer)
                    && !self.swarm.is_connected(&peer)
                {
                    let _ = self.swarm.dial(addr);
                }
            }
        }
    }

    fn on_sync_event(&mut self, event: request_response::Event<SyncRequest, SyncResponse>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.serve(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some(reply) = self.pending_requests.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                NetworkMetrics::bump(&self.metrics.sync_outbound_failures);
                if let Some(reply) = self.pending_requests.remove(&request_id) {
                    let _ = reply.send(Err(SyncError::Failed(error.to_string())));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound sync exchange failed");
                NetworkMetrics::bump(&self.metrics.sync_inbound_failures);
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// Answers a sync request from a blocking worker, within the limits.
    fn serve(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<SyncResponse>,
    ) {
        let SyncRequest::GetBlocks { from_height, max } = request;
        let max_blocks = self.config.limits.max_blocks_per_response;
        let per_peer = self.config.limits.max_inbound_sync_requests_per_peer;
        let max_bytes = self.config.limits.max_sync_response_bytes;
        let refuse = |state: &mut State, channel, refusal| {
            NetworkMetrics::bump(&state.metrics.sync_refused);
            let _ = state
                .swarm
                .behaviour_mut()
                .sync
                .send_response(channel, SyncResponse::Refused(refusal));
        };
        if max == 0 || max as usize > max_blocks {
            refuse(self, channel, SyncRefusal::BadRequest);
            return;
        }
        let in_flight = self.serving.get(&peer).copied().unwrap_or(0);
        if in_flight >= per_peer {
            refuse(self, channel, SyncRefusal::Busy);
            return;
        }
        let Ok(permit) = self.serve_permits.clone().try_acquire_owned() else {
            refuse(self, channel, SyncRefusal::Busy);
            return;
        };
        *self.serving.entry(peer).or_default() += 1;
        let source = self.services.block_source.clone();
        let results = self.served_tx.clone();
        tokio::task::spawn_blocking(move || {
            let _permit: OwnedSemaphorePermit = permit;
            let blocks = source.blocks(from_height, max as usize);
            let response = bounded_response(blocks, max as usize, max_bytes);
            let _ = results.blocking_send(Served {
                peer,
                channel,
                response,
            });
        });
    }

    fn on_served(&mut self, done: Served) {
        if let Some(count) = self.serving.get_mut(&done.peer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.serving.remove(&done.peer);
            }
        }
        NetworkMetrics::bump(&self.metrics.sync_served);
        let _ = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(done.channel, done.response);
    }
}

/// An error and its sources, for a listen failure: libp2p's transport
/// errors often print nothing themselves and keep the OS error as a source.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        let text = error.to_string();
        if !text.is_empty() && !parts.contains(&text) {
            parts.push(text);
        }
        next = error.source();
    }
    if parts.is_empty() {
        "the address is in use or not available on this machine; choose another".into()
    } else {
        parts.join(": ")
    }
}
