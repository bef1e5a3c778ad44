//! # The daemon
//!
//! [`Node::start`] wires a [`NodeConfig`] into a running node: it reads the
//! genesis, opens the chain (RocksDB store, shared ledger, explorer index),
//! starts the libp2p network with the mempool judging gossiped
//! transactions and the chain follower judging gossiped blocks, serves the
//! local API over the chain (and the node's wallet, if it has one), and
//! runs the follower plus four small tasks: network events, the gossip
//! publisher of finalized blocks, the mempool's re-gossip and the
//! compaction of its journal.
//!
//! With `mempool.journal` on (the default), before the validator core or
//! the API start it reads the journal of the transactions this node's API
//! accepted before it stopped (`<data_dir>/mempool.journal`, see
//! [`crate::mempool::journal`]), puts them back into the mempool through
//! its normal admission and publishes them: a node killed while cut off
//! from its peers loses none of them.
//!
//! [`RunningNode::shutdown`] stops everything in reverse order (the API
//! removes its cookie file; every store write is already synced). [`run`]
//! is `bitcraps node start`: start, log where everything is, wait for
//! Ctrl-C or SIGTERM, shut down.
//!
//! With a `[fault_injection]` section (test networks) it also watches the
//! partition file ([`crate::partition`]), applied once before the
//! validator starts.
//!
//! It must not implement consensus: with a `[validator]` section the node
//! runs the validator core ([`crate::validator::start`]) over the same
//! shared ledger, mempool and chain sink, and follows as well: outside the
//! set its engine learns of finality only at epoch boundaries (see
//! [`crate::follow`]).

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consensus::genesis::{Genesis, MAX_GENESIS_JSON_BYTES};
use consensus::storage::Store;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use wallet::Keystore;
use zeroize::Zeroizing;

use crate::api::{ApiHandle, ApiServer, ApiStartError, NodeView, NodeWallet};
use crate::chain::{Chain, ChainError, ChainSink, KeyWallet, LedgerAccounts};
use crate::config::{LogConfig, LogFormat, NetworkIdentity, NodeConfig, WALLET_PASSWORD_ENV};
use crate::follow::{FinalityVerifier, FollowConfig, FollowError, Follower};
use crate::mempool::{
    JOURNAL_FILE, JournalError, JournalLimits, Mempool, MempoolConfig, MempoolSource, TxJournal,
};
use crate::metrics::Metrics;
use crate::network::{
    FinalizedBlock, MempoolGossip, Multiaddr, Network, NetworkError, NetworkEvent, NetworkServices,
    NodeKey, PeerId,
};
use crate::partition::{PartitionWatch, ValidatorCut};
use crate::validator::{Validator, ValidatorError};

/// Blocks of WebSocket events ([`crate::api::EventBatch`]) buffered for
/// the slowest subscriber before it is dropped. A batch is freed once
/// every subscriber has read it, so this costs memory only while one lags.
pub const EVENT_CAPACITY: usize = 64;

/// Finalized blocks waiting to be gossiped.
pub const GOSSIP_QUEUE: usize = 64;

/// How often the mempool's due transactions are published again.
pub const REGOSSIP_INTERVAL: Duration = Duration::from_secs(10);

/// The most transactions re-published per round.
pub const REGOSSIP_BATCH: usize = 256;

/// How often the mempool journal is checked for dead records (local
/// transactions that left the pool: finalized, expired, replaced,
/// evicted) and compacted if they outweigh the live ones. Between checks
/// they only cost a few signature checks at the next start.
pub const JOURNAL_COMPACT_INTERVAL: Duration = Duration::from_secs(10);

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The genesis file is missing or unreadable.
    #[error(
        "cannot read the genesis file {path}: {reason}; copy the chain's genesis.json there or set genesis_file (--genesis-file)"
    )]
    Genesis {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The chain could not be opened.
    #[error("{0}")]
    Chain(#[from] ChainError),
    /// The database could not be opened.
    #[error("cannot open the database in {path}: {source}")]
    Store {
        /// The data directory.
        path: PathBuf,
        /// Why.
        source: consensus::storage::StoreError,
    },
    /// Finality cannot be checked for this chain.
    #[error("{0}")]
    Follow(#[from] FollowError),
    /// The network could not start.
    #[error("network: {0}")]
    Network(#[from] NetworkError),
    /// The API could not start.
    #[error("{0}")]
    Api(#[from] ApiStartError),
    /// The wallet keystore could not be opened.
    #[error("wallet keystore {path}: {reason}")]
    Wallet {
        /// The keystore.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `network.identity` is `wallet` but the node has no wallet.
    #[error(
        "network.identity = \"wallet\" needs the node's wallet: set wallet.keystore, or use network.identity = \"node_key\""
    )]
    NoWalletIdentity,
    /// The validator core could not start.
    #[error("validator: {0}")]
    Validator(#[from] ValidatorError),
    /// The mempool journal could not be read.
    #[error("{0}")]
    Journal(#[from] JournalError),
    /// A start-up task failed unexpectedly.
    #[error("a start-up task failed: {0}")]
    Task(String),
    /// Logging could not be set up.
    #[error("cannot set up logging: {0}")]
    Logging(String),
    /// Waiting for a signal failed.
    #[error("cannot wait for a shutdown signal: {0}")]
    Signal(std::io::Error),
}

/// Sets up the process's `tracing` output from the `[log]` section. Call
/// once, before [`Node::start`].
pub fn init_logging(config: &LogConfig) -> Result<(), DaemonError> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.level)
        .map_err(|e| DaemonError::Logging(format!("log.level {:?}: {e}", config.level)))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match config.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|e| DaemonError::Logging(e.to_string()))
}

/// Reads and validates the genesis file (bounded).
pub fn read_genesis(path: &Path) -> Result<Genesis, DaemonError> {
    let error = |reason: String| DaemonError::Genesis {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| error(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_GENESIS_JSON_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| error(e.to_string()))?;
    Genesis::from_json_bytes(&bytes).map_err(|e| error(e.to_string()))
}

/// Opens the node's wallet keystore with its password from the password
/// file or `BITCRAPS_WALLET_PASSWORD`.
pub fn open_wallet(
    keystore: &Path,
    password_file: Option<&Path>,
) -> Result<wallet::Keypair, DaemonError> {
    let error = |reason: String| DaemonError::Wallet {
        path: keystore.to_path_buf(),
        reason,
    };
    let store = Keystore::read(keystore).map_err(|e| error(e.to_string()))?;
    let password = match password_file {
        Some(file) => {
            let mut text = Zeroizing::new(String::new());
            std::fs::File::open(file)
                .and_then(|f| f.take(4096).read_to_string(&mut text))
                .map_err(|e| {
                    error(format!(
                        "cannot read the password file {}: {e}",
                        file.display()
                    ))
                })?;
            Zeroizing::new(text.lines().next().unwrap_or("").to_string())
        }
        None => Zeroizing::new(std::env::var(WALLET_PASSWORD_ENV).map_err(|_| {
            error(format!(
                "no password: set {WALLET_PASSWORD_ENV} or wallet.password_file"
            ))
        })?),
    };
    store
        .decrypt(password.as_bytes())
        .map_err(|e| error(e.to_string()))
}

/// The daemon's entry point.
#[derive(Debug)]
pub struct Node;

/// A started node.
#[derive(Debug)]
pub struct RunningNode {
    validator: Option<Validator>,
    chain: Arc<Chain>,
    network: Network,
    api: Option<ApiHandle>,
    api_addr: SocketAddr,
    listen_addrs: Vec<Multiaddr>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Node {
    /// Starts a node from `config` (paths absolute, as
    /// [`NodeConfig::load`] makes them) on the current tokio runtime.
    pub async fn start(config: NodeConfig) -> Result<RunningNode, DaemonError> {
        let genesis = read_genesis(&config.genesis_file)?;
        let chain_id = genesis.chain_id();
        let beacon = genesis.beacon_verifier().ok_or(FollowError::NoGroupKey)?;
        let verifier = FinalityVerifier::from_genesis(&genesis)?;
        let data_dir = config.data_dir.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&data_dir))
            .await
            .map_err(|e| DaemonError::Task(e.to_string()))?
            .map_err(|source| DaemonError::Store {
                path: config.data_dir.clone(),
                source,
            })?;
        let metrics = Arc::new(Metrics::new());
        let mempool_config = MempoolConfig::new(chain_id);
        let journal_limits = JournalLimits::for_mempool(&mempool_config);
        let mempool = Arc::new(Mutex::new(Mempool::new(mempool_config)));
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let chain = {
            let (mempool, events, metrics) = (mempool.clone(), events.clone(), metrics.clone());
            tokio::task::spawn_blocking(move || {
                Chain::open(
                    genesis,
                    Arc::new(store),
                    Arc::new(beacon),
                    mempool,
                    events,
                    metrics,
                )
            })
            .await
            .map_err(|e| DaemonError::Task(e.to_string()))??
        };
        let chain = Arc::new(chain);
        let follower = Arc::new(Follower::new(
            chain.clone(),
            verifier,
            FollowConfig::default(),
        ));

        // The wallet is opened before the network: it may be the network's
        // identity.
        let wallet_key = match &config.wallet.keystore {
            None => None,
            Some(keystore) => {
                let (keystore, password) = (keystore.clone(), config.wallet.password_file.clone());
                let key = tokio::task::spawn_blocking(move || {
                    open_wallet(&keystore, password.as_deref())
                })
                .await
                .map_err(|e| DaemonError::Task(e.to_string()))??;
                tracing::info!(address = %key.address(), "wallet loaded");
                Some(key)
            }
        };
        let key = match (config.network.identity, &wallet_key) {
            (NetworkIdentity::NodeKey, _) => {
                NodeKey::load_or_generate(&config.network.node_key_file)?
            }
            (NetworkIdentity::Wallet, Some(wallet)) => {
                NodeKey::from_secret_bytes(&mut wallet.secret_bytes())
            }
            (NetworkIdentity::Wallet, None) => return Err(DaemonError::NoWalletIdentity),
        };
        tracing::info!(peer_id = %key.peer_id(), identity = %config.network.identity, "network identity");
        let network_config = config.network_config(chain_id);
        let services = NetworkServices {
            transactions: Arc::new(MempoolGossip::new(
                mempool.clone(),
                LedgerAccounts::new(chain.ledger().clone()),
            )),
            blocks: follower.clone(),
            block_source: chain.clone(),
        };
        let (network, network_events) = Network::start(network_config, key, services).await?;
        chain.attach_network(network.clone());
        chain.metrics().attach_network(network.shared_metrics());
        let listen_addrs = network.listen_addrs().await?;
        if config.mempool.journal {
            let path = config.data_dir.join(JOURNAL_FILE);
            let chain = chain.clone();
            let restored =
                tokio::task::spawn_blocking(move || restore_journal(&chain, path, journal_limits))
                    .await
                    .map_err(|e| DaemonError::Task(e.to_string()));
            if let Err(error) = restored.and_then(|r| r.map_err(DaemonError::from)) {
                network.shutdown().await;
                return Err(error);
            }
        }

        let wallet: Option<Arc<dyn NodeWallet>> = match wallet_key {
            None => None,
            Some(key) => Some(Arc::new(KeyWallet::new(key, chain.clone()))),
        };

        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let (gossip_tx, gossip_rx) = mpsc::channel(GOSSIP_QUEUE);
        chain.attach_gossip(gossip_tx);
        tasks.push(tokio::spawn(publish_blocks(network.clone(), gossip_rx)));
        tasks.push(tokio::spawn(network_events_loop(
            chain.clone(),
            network.clone(),
            network_events,
        )));
        tasks.push(tokio::spawn(regossip(
            mempool.clone(),
            network.clone(),
            shutdown_rx.clone(),
        )));
        if config.mempool.journal {
            tasks.push(tokio::spawn(compact_journal(
                chain.clone(),
                shutdown_rx.clone(),
            )));
        }
        let cut = ValidatorCut::default();
        if let Some(faults) = &config.fault_injection {
            tracing::warn!(file = %faults.partition_file.display(), "fault injection on: this node obeys its partition file");
            let mut partition =
                PartitionWatch::new(faults.partition_file.clone(), network.clone(), cut.clone());
            partition.poll().await?;
            tasks.push(tokio::spawn(partition.run(shutdown_rx.clone())));
        }

        let validator = match &config.validator {
            // The validator core: it applies finalized blocks to the shared
            // ledger, proposes from the mempool and reports each finalized
            // block to `Chain::on_finalized` (which gossips it to followers).
            Some(validator_config) => {
                let (validator_config, data_dir, chain_for_core, mempool, cut) = (
                    validator_config.clone(),
                    config.data_dir.clone(),
                    chain.clone(),
                    mempool.clone(),
                    cut.clone(),
                );
                let started = tokio::task::spawn_blocking(move || {
                    crate::validator::start(
                        &validator_config,
                        &data_dir,
                        chain_for_core.genesis(),
                        crate::validator::ValidatorWiring {
                            ledger: chain_for_core.ledger().clone(),
                            transactions: MempoolSource::new(mempool),
                            sink: ChainSink(chain_for_core.clone()),
                            metrics: chain_for_core.metrics().clone(),
                            cut,
                        },
                    )
                })
                .await
                .map_err(|e| DaemonError::Task(e.to_string()))?;
                match started {
                    Ok(validator) => {
                        tracing::info!(identity = %validator.identity.address(), listen = %validator.listen, "validator started");
                        Some(validator)
                    }
                    Err(error) => {
                        let _ = shutdown.send(true);
                        network.shutdown().await;
                        return Err(error.into());
                    }
                }
            }
            None => None,
        };
        tasks.push(tokio::spawn(
            follower.run(network.clone(), shutdown_rx.clone()),
        ));

        let view: Arc<dyn NodeView> = chain.clone();
        let (api_addr, api) =
            ApiServer::bind(config.api.clone(), view, wallet, events, metrics.clone()).await?;
        tracing::info!(
            chain = %chain_id,
            height = %chain
                .height()?
                .map_or_else(|| "none (at genesis)".to_string(), |h| h.to_string()),
            peer_id = %network.local_peer_id(),
            listen = ?listen_addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
            api = %format!("http://{api_addr}"),
            metrics = %format!("http://{api_addr}/metrics"),
            cookie = %api.cookie_file().display(),
            data_dir = %config.data_dir.display(),
            "node started"
        );
        Ok(RunningNode {
            validator,
            chain,
            network,
            api: Some(api),
            api_addr,
            listen_addrs,
            shutdown,
            tasks,
        })
    }
}

impl RunningNode {
    /// The API's bound address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The chain state.
    pub fn chain(&self) -> &Arc<Chain> {
        &self.chain
    }

    /// The network handle.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The libp2p peer id.
    pub fn peer_id(&self) -> PeerId {
        self.network.local_peer_id()
    }

    /// The libp2p addresses, each ending in `/p2p/<peer id>`.
    pub fn listen_addrs(&self) -> &[Multiaddr] {
        &self.listen_addrs
    }

    /// Stops the follower and tasks, the API (removing its cookie file)
    /// and the network, then releases the database.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(validator) = self.validator.take() {
            // Stopping joins the engine's thread.
            let _ = tokio::task::spawn_blocking(move || validator.stop()).await;
        }
        if let Some(api) = self.api.take()
            && let Err(error) = api.shutdown().await
        {
            tracing::warn!(%error, "the API did not stop cleanly");
        }
        self.network.shutdown().await;
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        tracing::info!("node stopped");
    }
}

/// `bitcraps node start`: starts the node, waits for Ctrl-C or SIGTERM,
/// shuts down.
pub async fn run(config: NodeConfig) -> Result<(), DaemonError> {
    let node = Node::start(config).await?;
    let result = wait_for_signal().await;
    tracing::info!("shutting down");
    node.shutdown().await;
    result
}

async fn wait_for_signal() -> Result<(), DaemonError> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(DaemonError::Signal)?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.map_err(DaemonError::Signal),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(DaemonError::Signal)
    }
}

/// Reads the mempool journal at `path` and hands its transactions to
/// [`Chain::restore_journal`], logging what the reading had to skip.
fn restore_journal(
    chain: &Chain,
    path: PathBuf,
    limits: JournalLimits,
) -> Result<(), JournalError> {
    let (journal, recovered) = TxJournal::open(&path, limits)?;
    if recovered.corrupt > 0 || recovered.stopped.is_some() {
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        tracing::warn!(
            journal = %path.display(),
            corrupt_records = recovered.corrupt,
            stopped = ?recovered.stopped,
            unread_bytes = size.saturating_sub(recovered.intact_bytes),
            "the mempool journal was damaged (a crash in the middle of a write leaves a torn last record); what could be read is restored, the rest dropped"
        );
    }
    let found = recovered.records.len();
    let restored = chain.restore_journal(journal, recovered.records)?;
    if found > 0 {
        tracing::info!(
            found,
            admitted = restored.admitted,
            dropped = restored.dropped,
            "local transactions restored from the mempool journal"
        );
    }
    Ok(())
}

/// Compacts the mempool journal when its dead records outweigh the live
/// ones (see [`Chain::compact_journal`]).
async fn compact_journal(chain: Arc<Chain>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(JOURNAL_COMPACT_INTERVAL) => {}
        }
        let chain = chain.clone();
        match tokio::task::spawn_blocking(move || chain.compact_journal()).await {
            Ok(Ok(true)) => tracing::debug!("mempool journal compacted"),
            Ok(Ok(false)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "mempool journal not compacted"),
            Err(error) => tracing::warn!(%error, "the mempool journal compaction failed"),
        }
    }
}

/// Gossips finalized blocks handed over by [`Chain::on_finalized`].
async fn publish_blocks(network: Network, mut blocks: mpsc::Receiver<FinalizedBlock>) {
    while let Some(block) = blocks.recv().await {
        let height = block.block.header.height;
        match network.publish_block(block.encode()).await {
            Ok(()) => tracing::debug!(height, "finalized block gossiped"),
            Err(NetworkError::Stopped) => return,
            Err(error) => tracing::debug!(height, %error, "finalized block not gossiped"),
        }
    }
}

/// Reacts to what the network reports (transactions and blocks were
/// already handled by validation).
async fn network_events_loop(
    chain: Arc<Chain>,
    network: Network,
    mut events: mpsc::Receiver<NetworkEvent>,
) {
    while let Some(event) = events.recv().await {
        match event {
            NetworkEvent::Transaction(tx, from) => {
                tracing::trace!(hash = %tx.hash(), %from, "transaction from gossip");
                if let Ok(mempool) = chain.mempool().lock() {
                    chain.metrics().set_mempool(mempool.len(), mempool.bytes());
                }
            }
            NetworkEvent::Block(block, from) => {
                tracing::trace!(height = block.block.header.height, %from, "finalized block from gossip");
            }
            NetworkEvent::PeerConnected(peer) => {
                tracing::debug!(%peer, "peer connected");
                chain.metrics().set_peers(network.peer_count());
            }
            NetworkEvent::PeerDisconnected(peer) => {
                tracing::debug!(%peer, "peer disconnected");
                chain.metrics().set_peers(network.peer_count());
            }
            NetworkEvent::PeerBanned { peer, score } => {
                tracing::warn!(%peer, score, "peer banned for its gossip score");
            }
        }
    }
}

/// Publishes again the transactions that waited too long for inclusion.
async fn regossip(
    mempool: Arc<Mutex<Mempool>>,
    network: Network,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(REGOSSIP_INTERVAL) => {}
        }
        let due = mempool
            .lock()
            .map(|mut m| m.due_for_regossip(REGOSSIP_BATCH))
            .unwrap_or_default();
        for tx in due {
            if let Err(error) = network.publish_transaction(&tx).await {
                tracing::debug!(hash = %tx.hash(), %error, "re-gossip failed");
            }
        }
    }
}
