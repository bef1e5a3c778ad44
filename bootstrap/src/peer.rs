//! The libp2p swarm of the bootstrap peer, run by one tokio task, and the
//! [`Bootstrap`] handle that starts and stops it (with the HTTP server).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use libp2p::futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, StreamProtocol, Swarm, SwarmBuilder, connection_limits, identify, kad,
    memory_connection_limits, noise, ping, tcp, yamux,
};
use node::network::{NodeKey, chain_prefix};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::BootstrapConfig;
use crate::metrics::{BootstrapMetrics, DirectionLabel};
use crate::{BootstrapError, http};

/// How long `start` waits for the listeners to report addresses.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the routing-table gauge is refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(1);

#[derive(NetworkBehaviour)]
struct Behaviour {
    limits: connection_limits::Behaviour,
    memory: memory_connection_limits::Behaviour,
    identify: identify::Behaviour,
    kademlia: kad::Behaviour<kad::store::MemoryStore>,
    ping: ping::Behaviour,
}

/// The protocol names of the node's network for one chain (see the crate
/// documentation).
#[derive(Clone, Debug)]
struct Protocols {
    identify: String,
    kademlia: StreamProtocol,
}

impl Protocols {
    fn new(config: &BootstrapConfig) -> Protocols {
        let prefix = chain_prefix(&config.chain_id);
        Protocols {
            identify: format!("/bitcraps/{prefix}/1.0.0"),
            kademlia: StreamProtocol::try_from_owned(format!("/bitcraps/{prefix}/kad/1.0.0"))
                .expect("starts with a slash"),
        }
    }
}

fn build_behaviour(
    key: &Keypair,
    config: &BootstrapConfig,
    protocols: &Protocols,
) -> Result<Behaviour, BootstrapError> {
    let peer_id = key.public().to_peer_id();
    if !(config.max_memory_fraction > 0.0 && config.max_memory_fraction <= 1.0) {
        return Err(BootstrapError::Config(format!(
            "max_memory_fraction must be in (0, 1], not {}",
            config.max_memory_fraction
        )));
    }
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(config.max_pending_incoming))
        .with_max_established_incoming(Some(config.max_established_incoming))
        .with_max_established_per_peer(Some(config.max_established_per_peer));
    let identify = identify::Behaviour::new(
        identify::Config::new(protocols.identify.clone(), key.public())
            .with_agent_version(format!("bitcraps-bootstrap/{}", env!("CARGO_PKG_VERSION"))),
    );
    let mut kad_config = kad::Config::new(protocols.kademlia.clone());
    kad_config.set_record_filtering(kad::StoreInserts::FilterBoth);
    let mut kademlia =
        kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kad_config);
    kademlia.set_mode(Some(kad::Mode::Server));
    Ok(Behaviour {
        limits: connection_limits::Behaviour::new(limits),
        memory: memory_connection_limits::Behaviour::with_max_percentage(
            config.max_memory_fraction,
        ),
        identify,
        kademlia,
        ping: ping::Behaviour::default(),
    })
}

/// A running bootstrap peer: its swarm task and its HTTP server. Dropping
/// the handle does not stop them; call [`Bootstrap::shutdown`].
#[derive(Debug)]
pub struct Bootstrap {
    peer_id: PeerId,
    listen_addrs: Vec<Multiaddr>,
    http_addr: SocketAddr,
    metrics: Arc<BootstrapMetrics>,
    stop: watch::Sender<bool>,
    swarm_task: JoinHandle<()>,
    http_task: JoinHandle<()>,
}

impl Bootstrap {
    /// Loads or makes the identity, starts listening on every configured
    /// address (waiting until each reports an address, at most 10 s),
    /// binds the HTTP server, writes the address file if configured, and
    /// spawns both on the current tokio runtime.
    pub async fn start(config: BootstrapConfig) -> Result<Bootstrap, BootstrapError> {
        if config.listen_addrs.is_empty() {
            return Err(BootstrapError::Config(
                "no listen address: give at least one --listen multiaddr".into(),
            ));
        }
        let keypair = match &config.key_file {
            Some(path) => NodeKey::load_or_generate(path)
                .map_err(|e| BootstrapError::Key {
                    path: path.clone(),
                    reason: e.to_string(),
                })?
                .keypair()
                .clone(),
            None => Keypair::generate_ed25519(),
        };
        let peer_id = keypair.public().to_peer_id();
        let protocols = Protocols::new(&config);
        let mut behaviour_error = None;
        let mut swarm = SwarmBuilder::with_existing_identity(keypair)
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .map_err(|e| BootstrapError::Transport(e.to_string()))?
            .with_quic()
            .with_behaviour(|key| match build_behaviour(key, &config, &protocols) {
                Ok(behaviour) => Ok(behaviour),
                Err(error) => {
                    let text = error.to_string();
                    behaviour_error = Some(error);
                    Err(text.into())
                }
            })
            .map_err(|e| {
                behaviour_error
                    .take()
                    .unwrap_or_else(|| BootstrapError::Transport(e.to_string()))
            })?
            .with_swarm_config(|c| c.with_idle_connection_timeout(config.idle_connection_timeout))
            .build();

        let listen_addrs: Vec<Multiaddr> = listen(&mut swarm, &config.listen_addrs)
            .await?
            .into_iter()
            .map(|addr| addr.with_p2p(peer_id).unwrap_or_else(|a| a))
            .collect();

        let metrics = Arc::new(BootstrapMetrics::default());
        let (stop, stopped) = watch::channel(false);
        let status = http::Status {
            peer_id,
            listen_addrs: listen_addrs.clone(),
            metrics: metrics.clone(),
        };
        let (http_addr, http_task) =
            http::serve(config.http_listen, status, stopped.clone()).await?;

        if let Some(path) = &config.addr_file {
            let text: String = listen_addrs.iter().map(|a| format!("{a}\n")).collect();
            write_atomically(path, text.as_bytes()).map_err(|source| BootstrapError::AddrFile {
                path: path.clone(),
                source,
            })?;
        }

        let task = SwarmTask {
            swarm,
            protocols,
            metrics: metrics.clone(),
            connected: BTreeSet::new(),
            max_addrs_per_peer: config.max_addrs_per_peer,
        };
        let swarm_task = tokio::spawn(task.run(stopped));
        tracing::info!(%peer_id, addrs = ?listen_addrs, %http_addr, "bootstrap peer started");
        Ok(Bootstrap {
            peer_id,
            listen_addrs,
            http_addr,
            metrics,
            stop,
            swarm_task,
            http_task,
        })
    }

    /// The peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The addresses it listens on, each ending in `/p2p/<peer id>`: what a
    /// node's configuration names.
    pub fn listen_addrs(&self) -> &[Multiaddr] {
        &self.listen_addrs
    }

    /// Where `/health` and `/metrics` are served.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The live metrics.
    pub fn metrics(&self) -> &BootstrapMetrics {
        &self.metrics
    }

    /// Stops the swarm (closing every connection) and the HTTP server, and
    /// waits for both.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.swarm_task.await;
        let _ = self.http_task.await;
    }
}

/// Writes `bytes` to a temporary file next to `path`, then renames it, so a
/// reader never sees half a file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Starts every listener and waits until each has reported an address.
async fn listen(
    swarm: &mut Swarm<Behaviour>,
    addrs: &[Multiaddr],
) -> Result<Vec<Multiaddr>, BootstrapError> {
    let mut waiting = Vec::new();
    for addr in addrs {
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|e| BootstrapError::Listen {
                addr: addr.clone(),
                reason: e.to_string(),
            })?;
        waiting.push((id, addr.clone()));
    }
    let mut found = Vec::new();
    let deadline = Instant::now() + LISTEN_TIMEOUT;
    while !waiting.is_empty() {
        let first = waiting[0].1.clone();
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .map_err(|_| BootstrapError::Listen {
                addr: first,
                reason: "no address reported in time".into(),
            })?;
        let failed = |listener_id, reason: String| {
            waiting
                .iter()
                .find(|(id, _)| *id == listener_id)
                .map(|(_, addr)| BootstrapError::Listen {
                    addr: addr.clone(),
                    reason,
                })
        };
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
                if let Some(error) = failed(listener_id, format!("{reason:?}")) {
                    return Err(error);
                }
            }
            SwarmEvent::ListenerError { listener_id, error } => {
                if let Some(error) = failed(listener_id, error.to_string()) {
                    return Err(error);
                }
            }
            _ => {}
        }
    }
    Ok(found)
}

/// What the swarm task owns.
struct SwarmTask {
    swarm: Swarm<Behaviour>,
    protocols: Protocols,
    metrics: Arc<BootstrapMetrics>,
    connected: BTreeSet<PeerId>,
    max_addrs_per_peer: usize,
}

impl SwarmTask {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut gauges = tokio::time::interval(GAUGE_INTERVAL);
        gauges.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                event = self.swarm.select_next_some() => self.on_event(event),
                _ = gauges.tick() => self.refresh_routing_gauge(),
            }
        }
        tracing::info!("bootstrap peer stopped");
    }

    fn refresh_routing_gauge(&mut self) {
        let entries: usize = self
            .swarm
            .behaviour_mut()
            .kademlia
            .kbuckets()
            .map(|bucket| bucket.num_entries())
            .sum();
        self.metrics.routing_table_peers.set(entries as i64);
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => {
                let direction = if endpoint.is_dialer() {
                    "outbound"
                } else {
                    "inbound"
                };
                self.metrics
                    .connections
                    .get_or_create(&DirectionLabel { direction })
                    .inc();
                if self.connected.insert(peer_id) {
                    self.metrics
                        .connected_peers
                        .set(self.connected.len() as i64);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } if self.connected.remove(&peer_id) => {
                self.metrics
                    .connected_peers
                    .set(self.connected.len() as i64);
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                self.metrics.connection_errors.inc();
                tracing::debug!(%error, "incoming connection failed");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => self.on_identify(peer_id, info),
            SwarmEvent::Behaviour(BehaviourEvent::Kademlia(kad::Event::InboundRequest {
                ..
            })) => {
                self.metrics.kademlia_requests.inc();
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kademlia(kad::Event::RoutingUpdated {
                peer,
                ..
            })) => {
                tracing::debug!(%peer, "routing table updated");
                self.refresh_routing_gauge();
            }
            _ => {}
        }
    }

    /// Disconnects a peer of another chain; adds a Kademlia server of this
    /// chain to the routing table under the addresses it listens on.
    fn on_identify(&mut self, peer_id: PeerId, info: identify::Info) {
        if info.protocol_version != self.protocols.identify {
            tracing::info!(peer = %peer_id, version = %info.protocol_version, "peer of another chain or version; disconnecting");
            self.metrics.wrong_chain.inc();
            let _ = self.swarm.disconnect_peer_id(peer_id);
            return;
        }
        self.metrics.identified.inc();
        if info.protocols.contains(&self.protocols.kademlia) {
            for addr in info.listen_addrs.into_iter().take(self.max_addrs_per_peer) {
                self.swarm
                    .behaviour_mut()
                    .kademlia
                    .add_address(&peer_id, addr);
            }
        }
    }
}
