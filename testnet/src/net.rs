//! # Bringing a testnet up and down
//!
//! [`prepare`] makes (or reuses) the testnet directory: the manifest, keys
//! and genesis ([`crate::genesis`]), one configuration per node, the
//! bootstrap peer's and the validators' libp2p keys (so their multiaddrs
//! with `/p2p/<peer id>` are known before anything starts and go into every
//! node's `network.bootstrap`), and the [`Layout`]. [`start_all`] starts the bootstrap peer, the
//! validators and the players as child processes of the given binary
//! (`bitcraps bootstrap …`, `bitcraps node start --home <dir> --config
//! <dir>/config.toml`); [`wait_ready`] waits until the bootstrap peer's
//! `/health` and every node's `/ready` answer and every node's height has
//! advanced; [`stop_all`] stops them in reverse order (SIGTERM, SIGKILL
//! after the grace period). [`status`] reads pid files and APIs.
//!
//! Every node configuration turns the API rate limit off (the load
//! generator and the checks all come from 127.0.0.1), mDNS off (the
//! bootstrap peer is the discovery path under test) and fault injection
//! on (the node obeys `partition.toml` in its directory, see
//! [`crate::partition`]).

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use consensus::genesis::Genesis;
use node::client::ApiClient;
use node::config::{FaultInjectionConfig, NodeConfig, ValidatorConfig};
use node::network::{Multiaddr, NodeKey};
use tokio::time::Instant;

use crate::genesis::{self, GenesisBuildError, Material, WalletFiles};
use crate::layout::{Layout, LayoutError, NodeEntry, Role};
use crate::manifest::{Manifest, ManifestError};
use crate::process::{self, ProcessError, ProcessSpec, Stopped};

/// The node's configuration file, relative to its directory.
const CONFIG_FILE: &str = "config.toml";

/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(250);

/// Why bringing a testnet up or down failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The layout could not be read or written.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// Keys or the genesis could not be made.
    #[error(transparent)]
    Genesis(#[from] GenesisBuildError),
    /// A process could not be controlled.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The directory holds a testnet made from another manifest.
    #[error(
        "{dir} holds a testnet made from another manifest; pass --fresh to wipe it and start over"
    )]
    ManifestChanged {
        /// The directory.
        dir: PathBuf,
    },
    /// The testnet in the directory is still running.
    #[error(
        "the testnet in {dir} is still running ({name} is pid {pid}); run `bitcraps testnet down --dir {dir}` first"
    )]
    StillRunning {
        /// The directory.
        dir: PathBuf,
        /// A live node.
        name: String,
        /// Its pid.
        pid: i32,
    },
    /// A node did not become ready in time.
    #[error("{name} was not ready after {waited:?}: {reason}; see its log {log}")]
    NotReady {
        /// The node.
        name: String,
        /// How long we waited.
        waited: Duration,
        /// The last thing it said.
        reason: String,
        /// Its log.
        log: PathBuf,
    },
    /// A node's configuration has fault injection off, so it would ignore
    /// a partition.
    #[error(
        "{name} has fault injection off (no [fault_injection] in {config}), so it cannot be partitioned; this testnet predates partitions: start a new one with `bitcraps testnet up --fresh`"
    )]
    FaultInjectionOff {
        /// The node.
        name: String,
        /// Its configuration file.
        config: PathBuf,
    },
    /// A partition that cannot be made.
    #[error("cannot partition the testnet: {reason}")]
    BadPartition {
        /// What is wrong and what to do.
        reason: String,
    },
    /// An equivocating twin that cannot be started or stopped.
    #[error("twin: {reason}")]
    Twin {
        /// What is wrong and what to do.
        reason: String,
    },
    /// A node exited while starting.
    #[error("{name} exited while starting ({status}); see its log {log}")]
    Exited {
        /// The node.
        name: String,
        /// How it ended.
        status: String,
        /// Its log.
        log: PathBuf,
    },
}

fn file_error(path: &Path) -> impl Fn(std::io::Error) -> NetError + '_ {
    move |e| NetError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// What `prepare` does with the directory.
#[derive(Clone, Debug)]
pub struct PrepareOptions {
    /// The testnet directory.
    pub dir: PathBuf,
    /// The manifest file (`None`: the one already in the directory, or the
    /// default).
    pub manifest: Option<PathBuf>,
    /// Wipe the directory first.
    pub fresh: bool,
    /// The `bitcraps` binary that runs every node.
    pub binary: PathBuf,
}

/// Whether [`prepare`] made a new testnet or found one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prepared {
    /// New keys and genesis were made.
    Created,
    /// The directory's testnet is reused (same keys, chain and data).
    Reused,
}

/// Makes or reuses the testnet in `options.dir` (see the module doc).
/// Refuses while any of its processes is still running.
pub fn prepare(options: &PrepareOptions) -> Result<(Layout, Prepared), NetError> {
    let dir = absolute(&options.dir)?;
    let manifest = match &options.manifest {
        Some(path) => Some(Manifest::read(path)?),
        None => None,
    };
    if let Ok(existing) = Layout::load(&dir) {
        refuse_if_running(&existing)?;
        if !options.fresh {
            if manifest.as_ref().is_some_and(|m| *m != existing.manifest) {
                return Err(NetError::ManifestChanged { dir });
            }
            let mut layout = existing;
            layout.binary = options.binary.clone();
            // A twin of the last run is not restarted: its copy of the
            // validator's data is stale.
            layout.twins.clear();
            let genesis_file = layout.genesis_file();
            for node in &mut layout.nodes {
                node.args = arguments(node, &genesis_file);
            }
            layout.save()?;
            // A partition left from the last run would outlive the restart.
            crate::partition::heal(&layout)?;
            return Ok((layout, Prepared::Reused));
        }
    }
    if options.fresh && dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(file_error(&dir))?;
    }
    let manifest = manifest.unwrap_or_default();
    std::fs::create_dir_all(&dir).map_err(file_error(&dir))?;
    let mut layout = Layout::plan(&dir, &options.binary, &manifest);
    let manifest_file = dir.join("manifest.toml");
    std::fs::write(&manifest_file, manifest.to_toml()).map_err(file_error(&manifest_file))?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let material = genesis::build(&layout, now_ms)?;
    let wallets = material.write(&layout)?;
    layout.chain_id = material.genesis.chain_id().to_string();
    let bootstrap_addr = bootstrap_identity(&layout)?;
    let validator_addrs = validator_identities(&layout)?;
    let genesis_file = layout.genesis_file();
    for index in 0..layout.nodes.len() {
        let node = layout.nodes[index].clone();
        let mut peers = vec![bootstrap_addr.clone()];
        peers.extend(
            validator_addrs
                .iter()
                .filter(|(name, _)| *name != node.name)
                .map(|(_, addr)| addr.clone()),
        );
        let wallet = write_node_files(&layout, &node, &material, &wallets, &peers)?;
        let entry = &mut layout.nodes[index];
        entry.wallet = wallet;
        entry.args = arguments(entry, &genesis_file);
    }
    layout.save()?;
    Ok((layout, Prepared::Created))
}

fn absolute(dir: &Path) -> Result<PathBuf, NetError> {
    if dir.is_absolute() {
        return Ok(dir.to_path_buf());
    }
    let cwd = std::env::current_dir().map_err(file_error(dir))?;
    Ok(cwd.join(dir))
}

fn refuse_if_running(layout: &Layout) -> Result<(), NetError> {
    for node in layout
        .nodes
        .iter()
        .chain(layout.twins.iter().map(|t| &t.node))
    {
        if let Some(record) = process::live(&node.pid_file()) {
            return Err(NetError::StillRunning {
                dir: layout.dir.clone(),
                name: node.name.clone(),
                pid: record.pid,
            });
        }
    }
    Ok(())
}

/// Makes the bootstrap peer's key file and returns its TCP multiaddr with
/// `/p2p/<peer id>`.
fn bootstrap_identity(layout: &Layout) -> Result<Multiaddr, NetError> {
    let node = layout
        .nodes
        .iter()
        .find(|n| n.role == Role::Bootstrap)
        .expect("every layout has a bootstrap peer");
    p2p_identity(node, "bootstrap.key")
}

/// Makes every validator's libp2p key file (`node.key`) and returns each
/// validator's TCP multiaddr with `/p2p/<peer id>`.
///
/// Every node lists the validators next to the bootstrap peer in
/// `network.bootstrap` (static peers): the daemon runs Kademlia in client
/// mode, so validators do not announce themselves to the bootstrap peer's
/// routing table, and a player that knew only the bootstrap peer would find
/// no one to follow.
fn validator_identities(layout: &Layout) -> Result<Vec<(String, Multiaddr)>, NetError> {
    layout
        .nodes
        .iter()
        .filter(|n| n.role == Role::Validator)
        .map(|node| Ok((node.name.clone(), p2p_identity(node, "node.key")?)))
        .collect()
}

/// Loads (or makes) the libp2p key `file_name` in a node's directory and
/// returns the node's TCP multiaddr with `/p2p/<peer id>`.
fn p2p_identity(node: &NodeEntry, file_name: &str) -> Result<Multiaddr, NetError> {
    let key_file = node.dir.join(file_name);
    let key = NodeKey::load_or_generate(&key_file).map_err(|e| NetError::File {
        path: key_file.clone(),
        reason: e.to_string(),
    })?;
    let addr = format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", node.p2p_port, key.peer_id());
    Ok(addr.parse().expect("a valid multiaddr"))
}

/// The libp2p listen addresses of a node (TCP and QUIC on its port).
fn listen_addrs(node: &NodeEntry) -> Vec<String> {
    vec![
        format!("/ip4/127.0.0.1/tcp/{}", node.p2p_port),
        format!("/ip4/127.0.0.1/udp/{}/quic-v1", node.p2p_port),
    ]
}

/// The `bitcraps` arguments that start `node`.
fn arguments(node: &NodeEntry, genesis_file: &Path) -> Vec<String> {
    match node.role {
        Role::Bootstrap => vec![
            "bootstrap".into(),
            "--genesis".into(),
            genesis_file.display().to_string(),
            "--listen".into(),
            listen_addrs(node).join(","),
            "--http".into(),
            format!("127.0.0.1:{}", node.http_port),
            "--key-file".into(),
            node.dir.join("bootstrap.key").display().to_string(),
            "--addr-file".into(),
            node.dir.join("bootstrap.addr").display().to_string(),
        ],
        Role::Validator | Role::Player => vec![
            "node".into(),
            "start".into(),
            "--home".into(),
            node.dir.display().to_string(),
            "--config".into(),
            node.dir.join(CONFIG_FILE).display().to_string(),
        ],
    }
}

/// Writes a node's configuration and key material; returns the wallet
/// address it spends from, if any.
fn write_node_files(
    layout: &Layout,
    node: &NodeEntry,
    material: &Material,
    wallets: &[WalletFiles],
    peers: &[Multiaddr],
) -> Result<Option<String>, NetError> {
    std::fs::create_dir_all(&node.dir).map_err(file_error(&node.dir))?;
    if node.role == Role::Bootstrap {
        return Ok(None);
    }
    let mut config = NodeConfig {
        genesis_file: layout.genesis_file(),
        ..NodeConfig::default()
    };
    config.network.listen = listen_addrs(node)
        .iter()
        .map(|a| a.parse().expect("a valid multiaddr"))
        .collect();
    config.network.bootstrap = peers.to_vec();
    config.network.mdns = false;
    config.api.listen = ([127, 0, 0, 1], node.http_port).into();
    config.api.rate_limit_per_second = 0;
    config.fault_injection = Some(FaultInjectionConfig {
        partition_file: node.dir.join(crate::partition::PARTITION_FILE),
    });
    let mut wallet = None;
    match node.role {
        Role::Validator => {
            let secrets = material
                .validators
                .iter()
                .find(|v| v.name == node.name)
                .expect("every validator node has secrets");
            let key_file = node.dir.join("validator.key");
            secrets.write_key_file(&key_file)?;
            config.validator = Some(ValidatorConfig {
                key_file,
                listen: (
                    [127, 0, 0, 1],
                    node.validator_port.expect("a validator port"),
                )
                    .into(),
            });
        }
        Role::Player => {
            let index: usize = node
                .name
                .rsplit('-')
                .next()
                .and_then(|i| i.parse().ok())
                .expect("player names end in their index");
            let files = &wallets[index];
            config.wallet.keystore = Some(files.keystore.clone());
            config.wallet.password_file = Some(files.password.clone());
            wallet = Some(files.address.to_string());
        }
        Role::Bootstrap => unreachable!("handled above"),
    }
    let path = node.dir.join(CONFIG_FILE);
    let _ = std::fs::remove_file(&path);
    config.write_new(&path).map_err(|e| NetError::File {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok(wallet)
}

/// The process spec of a node.
pub fn spec(layout: &Layout, node: &NodeEntry) -> ProcessSpec {
    ProcessSpec {
        name: node.name.clone(),
        program: layout.binary.clone(),
        args: node.args.clone(),
        dir: node.dir.clone(),
        log: node.log_file(),
        pid_file: node.pid_file(),
    }
}

/// Starts one node.
pub fn start_node(layout: &Layout, node: &NodeEntry) -> Result<Child, NetError> {
    Ok(process::spawn(&spec(layout, node))?)
}

/// Starts the bootstrap peer, waits for its `/health`, then starts every
/// validator and player. The children are returned for reaping.
pub async fn start_all(
    layout: &Layout,
    timeout: Duration,
) -> Result<Vec<(String, Child)>, NetError> {
    let mut children = Vec::new();
    for node in &layout.nodes {
        children.push((node.name.clone(), start_node(layout, node)?));
        if node.role == Role::Bootstrap {
            wait_healthy(node, timeout, &mut children).await?;
        }
    }
    Ok(children)
}

/// Fails if a child exited.
fn exited(
    children: &mut Vec<(String, Child)>,
    layout_nodes: &[&NodeEntry],
) -> Result<(), NetError> {
    if let Some((name, status)) = process::reap(children).into_iter().next() {
        let log = layout_nodes
            .iter()
            .find(|n| n.name == name)
            .map(|n| n.log_file())
            .unwrap_or_default();
        return Err(NetError::Exited {
            name,
            status: status.to_string(),
            log,
        });
    }
    Ok(())
}

async fn wait_healthy(
    node: &NodeEntry,
    timeout: Duration,
    children: &mut Vec<(String, Child)>,
) -> Result<(), NetError> {
    let client = ApiClient::new(&node.http_url()).expect("a loopback URL is valid");
    let deadline = Instant::now() + timeout;
    loop {
        exited(children, &[node])?;
        let reason = match client.health().await {
            Ok(()) => return Ok(()),
            Err(error) => error.to_string(),
        };
        if Instant::now() >= deadline {
            return Err(NetError::NotReady {
                name: node.name.clone(),
                waited: timeout,
                reason,
                log: node.log_file(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until every node with an API answers `/ready` and its height has
/// advanced past the height it first reported ready at (so it is following
/// finalization), checking that no child exited.
pub async fn wait_ready(
    layout: &Layout,
    timeout: Duration,
    children: &mut Vec<(String, Child)>,
) -> Result<(), NetError> {
    let nodes: Vec<&NodeEntry> = layout.api_nodes().collect();
    let clients: Vec<ApiClient> = nodes
        .iter()
        .map(|n| ApiClient::new(&n.http_url()).expect("a loopback URL is valid"))
        .collect();
    let mut first: Vec<Option<u64>> = vec![None; nodes.len()];
    let mut done = vec![false; nodes.len()];
    let mut last_reason = vec![String::from("no answer yet"); nodes.len()];
    let deadline = Instant::now() + timeout;
    while done.iter().any(|d| !d) {
        exited(children, &layout.nodes.iter().collect::<Vec<_>>())?;
        for (i, client) in clients.iter().enumerate() {
            if done[i] {
                continue;
            }
            match client.ready().await {
                Ok(readiness) if readiness.ready => {
                    let height = readiness.height.unwrap_or(0);
                    match first[i] {
                        None => first[i] = Some(height),
                        Some(start) if height > start => done[i] = true,
                        Some(_) => {}
                    }
                    last_reason[i] = format!("ready at height {height}, waiting for a new block");
                }
                Ok(readiness) => {
                    last_reason[i] = readiness
                        .message
                        .unwrap_or_else(|| "not ready (syncing)".into());
                }
                Err(error) => last_reason[i] = error.to_string(),
            }
        }
        if Instant::now() >= deadline {
            let i = done.iter().position(|d| !d).expect("one is not done");
            return Err(NetError::NotReady {
                name: nodes[i].name.clone(),
                waited: timeout,
                reason: last_reason[i].clone(),
                log: nodes[i].log_file(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

/// Stops every equivocating twin, then every node, players first and the
/// bootstrap peer last. Returns how each ended.
pub fn stop_all(layout: &Layout, grace: Duration) -> Vec<(String, Result<Stopped, ProcessError>)> {
    // Twins are recorded by `testnet twin` after this layout may have been
    // read: the file has the latest list.
    let twins = Layout::load(&layout.dir)
        .map(|l| l.twins)
        .unwrap_or_else(|_| layout.twins.clone());
    twins
        .iter()
        .map(|t| &t.node)
        .chain(layout.nodes.iter().rev())
        .map(|node| {
            (
                node.name.clone(),
                process::stop(&node.name, &node.pid_file(), grace),
            )
        })
        .collect()
}

/// One node's state for `testnet status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStatus {
    /// The node.
    pub name: String,
    /// `running`, `paused` or `stopped`.
    pub process: &'static str,
    /// Its pid, if running.
    pub pid: Option<i32>,
    /// Height and peers from its API, or why they could not be read.
    pub api: Result<(Option<u64>, u64), String>,
}

/// Reads every node's pid file and API.
pub async fn status(layout: &Layout) -> Vec<NodeStatus> {
    let mut out = Vec::new();
    for node in layout
        .nodes
        .iter()
        .chain(layout.twins.iter().map(|t| &t.node))
    {
        let record = process::live(&node.pid_file());
        let process_state = match record {
            Some(r) if process::is_paused(r) => "paused",
            Some(_) => "running",
            None => "stopped",
        };
        let client = ApiClient::new(&node.http_url())
            .expect("a loopback URL is valid")
            .with_timeout(Duration::from_secs(2));
        let api = if process_state != "running" {
            Err("-".into())
        } else if node.has_api() {
            client
                .status()
                .await
                .map(|s| (s.node.height, s.node.peers))
                .map_err(|e| e.to_string())
        } else {
            client
                .health()
                .await
                .map(|()| (None, 0))
                .map_err(|e| e.to_string())
        };
        out.push(NodeStatus {
            name: node.name.clone(),
            process: process_state,
            pid: record.map(|r| r.pid),
            api,
        });
    }
    out
}

/// The table `testnet up` prints: where each node's API, metrics and log
/// are, and how to open the terminal UI on a player node.
pub fn describe(layout: &Layout) -> String {
    let mut out = format!(
        "testnet in {} (chain {}), binary {}\n\n",
        layout.dir.display(),
        layout.chain_id,
        layout.binary.display()
    );
    out.push_str(&format!(
        "{:<13} {:<32} {:<32} {}\n",
        "node", "api", "metrics", "log"
    ));
    for node in &layout.nodes {
        let api = if node.has_api() {
            node.http_url()
        } else {
            format!("{}/health", node.http_url())
        };
        out.push_str(&format!(
            "{:<13} {:<32} {:<32} {}\n",
            node.name,
            api,
            format!("{}/metrics", node.http_url()),
            node.log_file().display()
        ));
    }
    if let Some(player) = layout.nodes.iter().find(|n| n.role == Role::Player) {
        let cookie = player
            .cookie_file
            .as_ref()
            .map(|c| c.display().to_string())
            .unwrap_or_default();
        out.push_str(&format!(
            "\nplay on {} (wallet {}):\n  {} tui --api {} --cookie {}\n",
            player.name,
            player.wallet.as_deref().unwrap_or("-"),
            layout.binary.display(),
            player.http_url(),
            cookie
        ));
    }
    out.push_str(&format!(
        "\nfunded wallets (keystore + password): {}\n",
        layout.wallets_dir().display()
    ));
    out
}

/// Reads the genesis of a testnet.
pub fn read_genesis(layout: &Layout) -> Result<Genesis, NetError> {
    let path = layout.genesis_file();
    let bytes = std::fs::read(&path).map_err(file_error(&path))?;
    Genesis::from_json_bytes(&bytes).map_err(|e| NetError::File {
        path,
        reason: e.to_string(),
    })
}
