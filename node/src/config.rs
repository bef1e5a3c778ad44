//! # Node configuration
//!
//! [`NodeConfig`] is everything `bitcraps node start` needs, read from a
//! TOML file and overridden, key by key, by environment variables and
//! command-line flags ([`ConfigArgs`]): **file < environment < flag**.
//! Every key has all three forms: `[api] listen` is `BITCRAPS_API_LISTEN`
//! and `--api-listen`. List values (`network.listen`, `network.bootstrap`,
//! `api.allowed_hosts`) are comma-separated in the environment and in a
//! flag.
//!
//! The *home* directory (`--home`, `BITCRAPS_HOME`, default
//! `~/.bitcraps`) holds `config.toml` (or `--config`) and is the base of
//! every relative path in the configuration, so the defaults need nothing
//! else: the RocksDB database in `home/data`, the genesis in
//! `home/genesis.json`, the libp2p key in `home/node.key`, the API cookie
//! in `home/api.cookie`. A missing `config.toml` means all defaults.
//!
//! ```toml
//! data_dir = "data"
//! genesis_file = "genesis.json"
//!
//! [network]
//! listen = ["/ip4/127.0.0.1/tcp/7370", "/ip4/127.0.0.1/udp/7370/quic-v1"]
//! bootstrap = []
//! node_key_file = "node.key"
//! identity = "node_key" # or "wallet": the wallet's key is the peer id
//! mdns = true
//! tx_batch_linger_ms = 5   # how long a gossiped transaction waits for others to share its message
//! max_established_incoming = 64   # connection limits: further connections are refused
//! max_established_outgoing = 32
//! max_established_per_peer = 2
//! max_pending_incoming = 16
//! max_pending_outgoing = 16
//! max_memory_percent = 90 # refuse new connections above this share of physical memory; 0: off
//!
//! [mempool]
//! journal = true        # keep this node's own API transactions on disk until they leave the pool
//!
//! [api]                 # node::api::ApiConfig
//! listen = "127.0.0.1:7380"
//! cookie_file = "api.cookie"
//!
//! [log]
//! format = "pretty"     # or "json"
//! level = "info"        # tracing directives, e.g. "info,node::network=debug"
//!
//! [wallet]              # optional: the node's own key for the wallet API routes
//! keystore = "wallet.json"
//! password_file = "wallet.password"   # else BITCRAPS_WALLET_PASSWORD
//!
//! [validator]           # optional: run the validator core too
//! key_file = "validator.key"
//! listen = "127.0.0.1:7390"
//!
//! [fault_injection]     # optional, test networks only: see node::partition
//! partition_file = "partition.toml"
//! ```
//!
//! An unknown key anywhere is an error naming it (and its line): a typo
//! never silently falls back to a default. The file is read under
//! [`MAX_CONFIG_BYTES`]. This module only reads and checks settings; it
//! opens no database, key or socket.

use std::fmt;
use std::io::Read as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use libp2p::Multiaddr;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::api::ApiConfig;
use crate::network::{MemoryLimit, NetworkLimits};

/// The configuration file's name inside the home directory.
pub const CONFIG_FILE_NAME: &str = "config.toml";

/// The largest configuration file read, in bytes.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The environment variable holding the wallet keystore's password (used
/// when `wallet.password_file` is not set).
pub const WALLET_PASSWORD_ENV: &str = "BITCRAPS_WALLET_PASSWORD";

/// The default libp2p port (TCP and QUIC).
pub const DEFAULT_P2P_PORT: u16 = 7370;

/// The default port of the validator-to-validator network.
pub const DEFAULT_VALIDATOR_PORT: u16 = 7390;

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No home directory was given and `$HOME` is not set.
    #[error("no home directory: pass --home or set BITCRAPS_HOME (or HOME)")]
    NoHome,
    /// The configuration file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration file is over [`MAX_CONFIG_BYTES`].
    #[error(
        "the configuration file {path} is over {MAX_CONFIG_BYTES} bytes; is it the right file?"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The file is not valid TOML for a [`NodeConfig`] (a syntax error, an
    /// unknown key, a value of the wrong type); the message names the key
    /// and the line.
    #[error("invalid configuration file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
    },
    /// A value is not acceptable.
    #[error("invalid configuration value for {key}: {reason}")]
    Invalid {
        /// The key, e.g. `log.level`.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The configuration could not be written.
    #[error("cannot write the configuration file {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable, coloured on a terminal.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The `[log]` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` or `json`.
    pub format: LogFormat,
    /// `tracing` filter directives, e.g. `info` or
    /// `info,node::network=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Pretty,
            level: "info".into(),
        }
    }
}

/// The `[network]` section (libp2p).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSection {
    /// Where libp2p listens (multiaddrs). Default: TCP and QUIC on
    /// `127.0.0.1:7370`, reachable from this machine only; a node that
    /// others should reach lists a public address.
    #[serde(with = "multiaddr_list")]
    pub listen: Vec<Multiaddr>,
    /// Peers dialled at start, each ending in `/p2p/<peer id>`.
    #[serde(with = "multiaddr_list")]
    pub bootstrap: Vec<Multiaddr>,
    /// The libp2p identity key (created at first start if missing), used
    /// while `identity` is `node_key`.
    pub node_key_file: PathBuf,
    /// Which key is the node's libp2p identity, and so its peer id.
    pub identity: NetworkIdentity,
    /// Discover peers on the local network with mDNS.
    pub mdns: bool,
    /// Milliseconds the first transaction of a gossip batch waits for
    /// others before the batch is published (a full batch — 256
    /// transactions or 64 KiB — goes at once). Default 5: a bet from a
    /// terminal is not visibly delayed (a block takes hundreds of
    /// milliseconds), while at a few hundred bets a second each gossip
    /// message carries several. 0 publishes each transaction on its own
    /// (unless several were queued at once); at most 1000.
    pub tx_batch_linger_ms: u64,
    /// Established inbound connections at most; more are refused (at
    /// least 1).
    pub max_established_incoming: u32,
    /// Established outbound connections at most (at least 1).
    pub max_established_outgoing: u32,
    /// Connections to one peer at most (TCP and QUIC at once need 2; at
    /// least 1).
    pub max_established_per_peer: u32,
    /// Inbound connections still handshaking at most (at least 1).
    pub max_pending_incoming: u32,
    /// Dials under way at most (at least 1).
    pub max_pending_outgoing: u32,
    /// New connections are refused while the process uses more than this
    /// percentage of the machine's physical memory (1 to 100; 0 turns the
    /// check off).
    pub max_memory_percent: u32,
}

impl NetworkSection {
    /// `tx_batch_linger_ms` as a duration.
    pub fn tx_batch_linger(&self) -> Duration {
        Duration::from_millis(self.tx_batch_linger_ms)
    }

    /// The connection and memory limits of this section, the rest of
    /// `base` unchanged.
    pub fn limits(&self, base: NetworkLimits) -> NetworkLimits {
        NetworkLimits {
            max_established_incoming: self.max_established_incoming,
            max_established_outgoing: self.max_established_outgoing,
            max_established_per_peer: self.max_established_per_peer,
            max_pending_incoming: self.max_pending_incoming,
            max_pending_outgoing: self.max_pending_outgoing,
            memory: match self.max_memory_percent {
                0 => MemoryLimit::Off,
                percent => MemoryLimit::FractionOfPhysical(f64::from(percent) / 100.0),
            },
            ..base
        }
    }
}

impl Default for NetworkSection {
    fn default() -> Self {
        // One source of the defaults: the network's own.
        let limits = NetworkLimits::default();
        NetworkSection {
            listen: vec![
                format!("/ip4/127.0.0.1/tcp/{DEFAULT_P2P_PORT}")
                    .parse()
                    .expect("a valid multiaddr"),
                format!("/ip4/127.0.0.1/udp/{DEFAULT_P2P_PORT}/quic-v1")
                    .parse()
                    .expect("a valid multiaddr"),
            ],
            bootstrap: Vec::new(),
            node_key_file: PathBuf::from("node.key"),
            identity: NetworkIdentity::NodeKey,
            mdns: true,
            tx_batch_linger_ms: crate::network::DEFAULT_TX_BATCH_LINGER.as_millis() as u64,
            max_established_incoming: limits.max_established_incoming,
            max_established_outgoing: limits.max_established_outgoing,
            max_established_per_peer: limits.max_established_per_peer,
            max_pending_incoming: limits.max_pending_incoming,
            max_pending_outgoing: limits.max_pending_outgoing,
            max_memory_percent: match limits.memory {
                MemoryLimit::FractionOfPhysical(fraction) => (fraction * 100.0).round() as u32,
                MemoryLimit::Off | MemoryLimit::Bytes(_) => 0,
            },
        }
    }
}

/// Which key is the node's libp2p identity (`network.identity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum NetworkIdentity {
    /// The dedicated key in `network.node_key_file` (the default): peers
    /// cannot link this machine to the account it plays with.
    #[default]
    #[value(name = "node_key")]
    NodeKey,
    /// The wallet's key (`wallet.keystore`, required): the peer id is
    /// derived from the same ed25519 key as the account, so peers can
    /// tell which account this node is — a choice for nodes that want to
    /// be known as that account, at the cost of that privacy.
    Wallet,
}

impl fmt::Display for NetworkIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetworkIdentity::NodeKey => "node_key",
            NetworkIdentity::Wallet => "wallet",
        })
    }
}

/// The `[mempool]` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolSection {
    /// Keep the transactions submitted through this node's own API in a
    /// journal, `<data_dir>/mempool.journal`, synced before the API
    /// answers, and put them back into the mempool (and publish them) at
    /// the next start: a node killed while cut off from its peers does
    /// not lose what it accepted (see `node::mempool::journal`). Default
    /// on. Off, the node neither reads nor removes an existing journal.
    pub journal: bool,
}

impl Default for MempoolSection {
    fn default() -> Self {
        MempoolSection { journal: true }
    }
}

/// The `[wallet]` section: the node's own key, which the auth-gated wallet
/// routes of the API spend from. Without a keystore those routes answer
/// 503 `no_wallet`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WalletConfig {
    /// The encrypted keystore file, if the node has a wallet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keystore: Option<PathBuf>,
    /// A file holding the keystore's password (first line); without it the
    /// password comes from `BITCRAPS_WALLET_PASSWORD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
}

/// The optional `[validator]` section: with it the node also runs the
/// validator core.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorConfig {
    /// The validator's key material.
    pub key_file: PathBuf,
    /// Where the validator-to-validator network listens.
    #[serde(default = "default_validator_listen")]
    pub listen: SocketAddr,
}

fn default_validator_listen() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_VALIDATOR_PORT))
}

/// The optional `[fault_injection]` section, for test networks only
/// (`bitcraps testnet` sets it): with it the node obeys a partition file
/// ([`crate::partition`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultInjectionConfig {
    /// The file listing the peers this node is cut off from; watched while
    /// the node runs, missing means none.
    pub partition_file: PathBuf,
}

/// The node's whole configuration. See the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Where the node keeps its database.
    pub data_dir: PathBuf,
    /// The chain's genesis document (JSON).
    pub genesis_file: PathBuf,
    /// libp2p.
    pub network: NetworkSection,
    /// The mempool.
    pub mempool: MempoolSection,
    /// The local API.
    pub api: ApiConfig,
    /// Logging.
    pub log: LogConfig,
    /// The node's own wallet.
    pub wallet: WalletConfig,
    /// The validator, if this node validates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validator: Option<ValidatorConfig>,
    /// Fault injection (test networks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_injection: Option<FaultInjectionConfig>,
}

impl NodeConfig {
    /// The libp2p configuration of this node for `chain_id`: the
    /// `[network]` section, with Kademlia in server mode on a validator.
    /// A validator is a stable, reachable peer that others should find
    /// and query; left in automatic mode it would stay a client until
    /// some address of its was confirmed from outside, which never
    /// happens on a private network or loopback testnet, and the DHT
    /// would then hold only the bootstrap peers. Player nodes stay in
    /// automatic mode (often behind NAT, they should not be in others'
    /// routing tables unless reachable).
    pub fn network_config(&self, chain_id: wallet::ChainId) -> crate::network::NetworkConfig {
        let mut config = crate::network::NetworkConfig::new(chain_id);
        config.listen_addrs = self.network.listen.clone();
        config.bootstrap_peers = self.network.bootstrap.clone();
        config.mdns = self.network.mdns;
        config.kademlia_server = self.validator.is_some();
        config.tx_batch_linger = self.network.tx_batch_linger();
        config.limits = self.network.limits(config.limits);
        config
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            data_dir: PathBuf::from("data"),
            genesis_file: PathBuf::from("genesis.json"),
            network: NetworkSection::default(),
            mempool: MempoolSection::default(),
            api: ApiConfig::default(),
            log: LogConfig::default(),
            wallet: WalletConfig::default(),
            validator: None,
            fault_injection: None,
        }
    }
}

/// The configuration flags, each also an environment variable. Flatten it
/// into every command that reads the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Configuration (file < environment < flag)")]
pub struct ConfigArgs {
    /// The node's home directory: config.toml and every relative path
    /// [default: ~/.bitcraps].
    #[arg(long, env = "BITCRAPS_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// The configuration file [default: HOME/config.toml]; must exist when
    /// given.
    #[arg(long, env = "BITCRAPS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// `data_dir`: the database directory.
    #[arg(long, env = "BITCRAPS_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// `genesis_file`: the chain's genesis JSON.
    #[arg(long, env = "BITCRAPS_GENESIS_FILE", value_name = "FILE")]
    pub genesis_file: Option<PathBuf>,
    /// `network.listen`: libp2p listen multiaddrs, comma-separated.
    #[arg(
        long,
        env = "BITCRAPS_NETWORK_LISTEN",
        value_delimiter = ',',
        value_name = "MULTIADDR"
    )]
    pub network_listen: Option<Vec<Multiaddr>>,
    /// `network.bootstrap`: peers to dial, each ending in /p2p/<peer id>.
    #[arg(
        long,
        env = "BITCRAPS_NETWORK_BOOTSTRAP",
        value_delimiter = ',',
        value_name = "MULTIADDR"
    )]
    pub network_bootstrap: Option<Vec<Multiaddr>>,
    /// `network.node_key_file`: the libp2p identity key.
    #[arg(long, env = "BITCRAPS_NETWORK_NODE_KEY_FILE", value_name = "FILE")]
    pub network_node_key_file: Option<PathBuf>,
    /// `network.identity`: the libp2p identity, node_key
    /// (network.node_key_file, default) or wallet (wallet.keystore's key).
    #[arg(long, env = "BITCRAPS_NETWORK_IDENTITY", value_name = "KEY")]
    pub network_identity: Option<NetworkIdentity>,
    /// `network.mdns`: discover peers on the LAN.
    #[arg(long, env = "BITCRAPS_NETWORK_MDNS", value_name = "BOOL")]
    pub network_mdns: Option<bool>,
    /// `network.tx_batch_linger_ms`: how long a gossiped transaction waits
    /// for others to share its message (default 5, at most 1000).
    #[arg(long, env = "BITCRAPS_NETWORK_TX_BATCH_LINGER_MS", value_name = "MS")]
    pub network_tx_batch_linger_ms: Option<u64>,
    /// `network.max_established_incoming`: inbound connections at most
    /// (default 64).
    #[arg(
        long,
        env = "BITCRAPS_NETWORK_MAX_ESTABLISHED_INCOMING",
        value_name = "N"
    )]
    pub network_max_established_incoming: Option<u32>,
    /// `network.max_established_outgoing`: outbound connections at most
    /// (default 32).
    #[arg(
        long,
        env = "BITCRAPS_NETWORK_MAX_ESTABLISHED_OUTGOING",
        value_name = "N"
    )]
    pub network_max_established_outgoing: Option<u32>,
    /// `network.max_established_per_peer`: connections to one peer at most
    /// (default 2).
    #[arg(
        long,
        env = "BITCRAPS_NETWORK_MAX_ESTABLISHED_PER_PEER",
        value_name = "N"
    )]
    pub network_max_established_per_peer: Option<u32>,
    /// `network.max_pending_incoming`: inbound handshakes at once (default
    /// 16).
    #[arg(long, env = "BITCRAPS_NETWORK_MAX_PENDING_INCOMING", value_name = "N")]
    pub network_max_pending_incoming: Option<u32>,
    /// `network.max_pending_outgoing`: dials at once (default 16).
    #[arg(long, env = "BITCRAPS_NETWORK_MAX_PENDING_OUTGOING", value_name = "N")]
    pub network_max_pending_outgoing: Option<u32>,
    /// `network.max_memory_percent`: refuse new connections above this
    /// share of physical memory (default 90; 0: off).
    #[arg(
        long,
        env = "BITCRAPS_NETWORK_MAX_MEMORY_PERCENT",
        value_name = "PERCENT"
    )]
    pub network_max_memory_percent: Option<u32>,
    /// `mempool.journal`: keep this node's own API transactions on disk
    /// until they leave the pool (default true).
    #[arg(long, env = "BITCRAPS_MEMPOOL_JOURNAL", value_name = "BOOL")]
    pub mempool_journal: Option<bool>,
    /// `api.listen`: the local API's address.
    #[arg(long, env = "BITCRAPS_API_LISTEN", value_name = "ADDR")]
    pub api_listen: Option<SocketAddr>,
    /// `api.cookie_file`: where the API auth token is written.
    #[arg(long, env = "BITCRAPS_API_COOKIE_FILE", value_name = "FILE")]
    pub api_cookie_file: Option<PathBuf>,
    /// `api.allowed_hosts`: extra Host names the API answers to.
    #[arg(
        long,
        env = "BITCRAPS_API_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "HOST"
    )]
    pub api_allowed_hosts: Option<Vec<String>>,
    /// `api.max_body_bytes`: the largest request body.
    #[arg(long, env = "BITCRAPS_API_MAX_BODY_BYTES", value_name = "BYTES")]
    pub api_max_body_bytes: Option<usize>,
    /// `api.max_batch_body_bytes`: the largest `POST /v1/txs/batch` body.
    #[arg(long, env = "BITCRAPS_API_MAX_BATCH_BODY_BYTES", value_name = "BYTES")]
    pub api_max_batch_body_bytes: Option<usize>,
    /// `api.rate_limit_per_second`: requests per second per client (0: off).
    #[arg(long, env = "BITCRAPS_API_RATE_LIMIT_PER_SECOND", value_name = "N")]
    pub api_rate_limit_per_second: Option<u32>,
    /// `api.rate_limit_burst`: requests a client may make at once.
    #[arg(long, env = "BITCRAPS_API_RATE_LIMIT_BURST", value_name = "N")]
    pub api_rate_limit_burst: Option<u32>,
    /// `api.rate_limit_max_clients`: client IPs tracked by the limiter.
    #[arg(long, env = "BITCRAPS_API_RATE_LIMIT_MAX_CLIENTS", value_name = "N")]
    pub api_rate_limit_max_clients: Option<usize>,
    /// `api.ws_max_clients`: WebSocket clients at once.
    #[arg(long, env = "BITCRAPS_API_WS_MAX_CLIENTS", value_name = "N")]
    pub api_ws_max_clients: Option<usize>,
    /// `api.ws_queue`: messages queued per WebSocket client.
    #[arg(long, env = "BITCRAPS_API_WS_QUEUE", value_name = "N")]
    pub api_ws_queue: Option<usize>,
    /// `api.ws_max_subscriptions`: topics per WebSocket client.
    #[arg(long, env = "BITCRAPS_API_WS_MAX_SUBSCRIPTIONS", value_name = "N")]
    pub api_ws_max_subscriptions: Option<usize>,
    /// `api.shutdown_grace_ms`: how long shutdown waits for requests.
    #[arg(long, env = "BITCRAPS_API_SHUTDOWN_GRACE_MS", value_name = "MS")]
    pub api_shutdown_grace_ms: Option<u64>,
    /// `log.format`: pretty or json.
    #[arg(long, env = "BITCRAPS_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// `log.level`: tracing filter directives, e.g. info or debug.
    #[arg(long, env = "BITCRAPS_LOG_LEVEL", value_name = "DIRECTIVES")]
    pub log_level: Option<String>,
    /// `wallet.keystore`: the node's encrypted wallet keystore.
    #[arg(long, env = "BITCRAPS_WALLET_KEYSTORE", value_name = "FILE")]
    pub wallet_keystore: Option<PathBuf>,
    /// `wallet.password_file`: the keystore's password (else
    /// BITCRAPS_WALLET_PASSWORD).
    #[arg(long, env = "BITCRAPS_WALLET_PASSWORD_FILE", value_name = "FILE")]
    pub wallet_password_file: Option<PathBuf>,
    /// `validator.key_file`: run as a validator with this key material.
    #[arg(long, env = "BITCRAPS_VALIDATOR_KEY_FILE", value_name = "FILE")]
    pub validator_key_file: Option<PathBuf>,
    /// `validator.listen`: the validator-to-validator network's address.
    #[arg(long, env = "BITCRAPS_VALIDATOR_LISTEN", value_name = "ADDR")]
    pub validator_listen: Option<SocketAddr>,
    /// `fault_injection.partition_file`: obey this partition file (test
    /// networks only).
    #[arg(
        long,
        env = "BITCRAPS_FAULT_INJECTION_PARTITION_FILE",
        value_name = "FILE"
    )]
    pub fault_injection_partition_file: Option<PathBuf>,
}

/// A configuration and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedConfig {
    /// The effective configuration, every path made absolute against
    /// `home`.
    pub config: NodeConfig,
    /// The home directory.
    pub home: PathBuf,
    /// The configuration file, and whether it existed.
    pub file: PathBuf,
    /// Whether `file` existed (else every key not overridden is a default).
    pub file_found: bool,
}

impl NodeConfig {
    /// Reads the configuration: defaults, then the file (if it exists),
    /// then the environment and flags in `args`; every relative path is
    /// then taken relative to the home directory. An explicit `--config`
    /// that does not exist is an error.
    pub fn load(args: &ConfigArgs) -> Result<LoadedConfig, ConfigError> {
        let home = match &args.home {
            Some(home) => home.clone(),
            None => default_home()?,
        };
        let file = args
            .config
            .clone()
            .unwrap_or_else(|| home.join(CONFIG_FILE_NAME));
        let (mut config, file_found) = match read_bounded(&file) {
            Ok(text) => (NodeConfig::from_toml(&text, &file)?, true),
            Err(ConfigError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound && args.config.is_none() =>
            {
                (NodeConfig::default(), false)
            }
            Err(error) => return Err(error),
        };
        config.apply(args);
        config.validate()?;
        config.make_absolute(&home);
        Ok(LoadedConfig {
            config,
            home,
            file,
            file_found,
        })
    }

    /// Parses a configuration file's text (`path` only names it in
    /// errors). Keys missing from the text keep their defaults.
    pub fn from_toml(text: &str, path: &Path) -> Result<NodeConfig, ConfigError> {
        toml::from_str(text).map_err(|error| ConfigError::Parse {
            path: path.to_path_buf(),
            message: error.to_string().trim_end().to_string(),
        })
    }

    /// The configuration as TOML (what `bitcraps config show` prints and
    /// `bitcraps node init` writes).
    pub fn to_toml(&self) -> String {
        // Every field is a string, number, bool, list or table, with the
        // scalars before the tables and `None`s skipped, so TOML can
        // always express it.
        toml::to_string(self).expect("a node configuration always serializes to TOML")
    }

    /// Applies the environment and flag overrides (clap has already put a
    /// flag above its environment variable).
    pub fn apply(&mut self, args: &ConfigArgs) {
        fn set<T: Clone>(target: &mut T, value: &Option<T>) {
            if let Some(value) = value {
                *target = value.clone();
            }
        }
        set(&mut self.data_dir, &args.data_dir);
        set(&mut self.genesis_file, &args.genesis_file);
        set(&mut self.network.listen, &args.network_listen);
        set(&mut self.network.bootstrap, &args.network_bootstrap);
        set(&mut self.network.node_key_file, &args.network_node_key_file);
        set(&mut self.network.identity, &args.network_identity);
        set(&mut self.network.mdns, &args.network_mdns);
        set(
            &mut self.network.tx_batch_linger_ms,
            &args.network_tx_batch_linger_ms,
        );
        set(
            &mut self.network.max_established_incoming,
            &args.network_max_established_incoming,
        );
        set(
            &mut self.network.max_established_outgoing,
            &args.network_max_established_outgoing,
        );
        set(
            &mut self.network.max_established_per_peer,
            &args.network_max_established_per_peer,
        );
        set(
            &mut self.network.max_pending_incoming,
            &args.network_max_pending_incoming,
        );
        set(
            &mut self.network.max_pending_outgoing,
            &args.network_max_pending_outgoing,
        );
        set(
            &mut self.network.max_memory_percent,
            &args.network_max_memory_percent,
        );
        set(&mut self.mempool.journal, &args.mempool_journal);
        set(&mut self.api.listen, &args.api_listen);
        set(&mut self.api.cookie_file, &args.api_cookie_file);
        set(&mut self.api.allowed_hosts, &args.api_allowed_hosts);
        set(&mut self.api.max_body_bytes, &args.api_max_body_bytes);
        set(
            &mut self.api.max_batch_body_bytes,
            &args.api_max_batch_body_bytes,
        );
        set(
            &mut self.api.rate_limit_per_second,
            &args.api_rate_limit_per_second,
        );
        set(&mut self.api.rate_limit_burst, &args.api_rate_limit_burst);
        set(
            &mut self.api.rate_limit_max_clients,
            &args.api_rate_limit_max_clients,
        );
        set(&mut self.api.ws_max_clients, &args.api_ws_max_clients);
        set(&mut self.api.ws_queue, &args.api_ws_queue);
        set(
            &mut self.api.ws_max_subscriptions,
            &args.api_ws_max_subscriptions,
        );
        set(&mut self.api.shutdown_grace_ms, &args.api_shutdown_grace_ms);
        set(&mut self.log.format, &args.log_format);
        set(&mut self.log.level, &args.log_level);
        if args.wallet_keystore.is_some() {
            self.wallet.keystore = args.wallet_keystore.clone();
        }
        if args.wallet_password_file.is_some() {
            self.wallet.password_file = args.wallet_password_file.clone();
        }
        if let Some(key_file) = &args.validator_key_file {
            let listen = self
                .validator
                .as_ref()
                .map_or_else(default_validator_listen, |v| v.listen);
            self.validator = Some(ValidatorConfig {
                key_file: key_file.clone(),
                listen,
            });
        }
        if let (Some(listen), Some(validator)) = (args.validator_listen, &mut self.validator) {
            validator.listen = listen;
        }
        if let Some(partition_file) = &args.fault_injection_partition_file {
            self.fault_injection = Some(FaultInjectionConfig {
                partition_file: partition_file.clone(),
            });
        }
    }

    /// Checks what serde cannot: the log directives, the API limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        tracing_subscriber::EnvFilter::try_new(&self.log.level).map_err(|e| {
            ConfigError::Invalid {
                key: "log.level",
                reason: format!("{e}; use e.g. \"info\" or \"info,node::network=debug\""),
            }
        })?;
        if self.api.max_body_bytes < consensus::tx::MAX_TX_BYTES {
            return Err(ConfigError::Invalid {
                key: "api.max_body_bytes",
                reason: format!(
                    "{} is below one transaction ({} bytes)",
                    self.api.max_body_bytes,
                    consensus::tx::MAX_TX_BYTES
                ),
            });
        }
        if self.api.max_batch_body_bytes < consensus::tx::MAX_TX_BYTES {
            return Err(ConfigError::Invalid {
                key: "api.max_batch_body_bytes",
                reason: format!(
                    "{} is below one transaction ({} bytes)",
                    self.api.max_batch_body_bytes,
                    consensus::tx::MAX_TX_BYTES
                ),
            });
        }
        for (key, value) in [
            ("api.ws_queue", self.api.ws_queue),
            ("api.ws_max_clients", self.api.ws_max_clients),
            ("api.ws_max_subscriptions", self.api.ws_max_subscriptions),
            (
                "api.rate_limit_max_clients",
                self.api.rate_limit_max_clients,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    reason: "must be at least 1".into(),
                });
            }
        }
        if self.api.rate_limit_per_second > 0 && self.api.rate_limit_burst == 0 {
            return Err(ConfigError::Invalid {
                key: "api.rate_limit_burst",
                reason: "must be at least 1 while the rate limit is on".into(),
            });
        }
        if self.network.tx_batch_linger() > crate::network::MAX_TX_BATCH_LINGER {
            return Err(ConfigError::Invalid {
                key: "network.tx_batch_linger_ms",
                reason: format!(
                    "{} ms is over the limit of {} ms; a few milliseconds is enough",
                    self.network.tx_batch_linger_ms,
                    crate::network::MAX_TX_BATCH_LINGER.as_millis()
                ),
            });
        }
        for (key, value) in [
            (
                "network.max_established_incoming",
                self.network.max_established_incoming,
            ),
            (
                "network.max_established_outgoing",
                self.network.max_established_outgoing,
            ),
            (
                "network.max_established_per_peer",
                self.network.max_established_per_peer,
            ),
            (
                "network.max_pending_incoming",
                self.network.max_pending_incoming,
            ),
            (
                "network.max_pending_outgoing",
                self.network.max_pending_outgoing,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    reason: "must be at least 1: the node could not connect to anyone".into(),
                });
            }
        }
        if self.network.max_memory_percent > 100 {
            return Err(ConfigError::Invalid {
                key: "network.max_memory_percent",
                reason: format!(
                    "{} is over 100; give a percentage of physical memory, or 0 for no limit",
                    self.network.max_memory_percent
                ),
            });
        }
        if self.network.identity == NetworkIdentity::Wallet && self.wallet.keystore.is_none() {
            return Err(ConfigError::Invalid {
                key: "network.identity",
                reason:
                    "\"wallet\" needs the node's wallet: set wallet.keystore, or use \"node_key\""
                        .into(),
            });
        }
        if self.network.listen.is_empty() {
            return Err(ConfigError::Invalid {
                key: "network.listen",
                reason: "list at least one address, e.g. /ip4/127.0.0.1/tcp/7370".into(),
            });
        }
        Ok(())
    }

    /// Makes every relative path absolute against `home`.
    pub fn make_absolute(&mut self, home: &Path) {
        let join = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = home.join(&*path);
            }
        };
        join(&mut self.data_dir);
        join(&mut self.genesis_file);
        join(&mut self.network.node_key_file);
        join(&mut self.api.cookie_file);
        if let Some(keystore) = &mut self.wallet.keystore {
            join(keystore);
        }
        if let Some(password) = &mut self.wallet.password_file {
            join(password);
        }
        if let Some(validator) = &mut self.validator {
            join(&mut validator.key_file);
        }
        if let Some(faults) = &mut self.fault_injection {
            join(&mut faults.partition_file);
        }
    }

    /// Writes this configuration to a new file (never overwriting one).
    pub fn write_new(&self, path: &Path) -> Result<(), ConfigError> {
        let error = |source| ConfigError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(error)?;
        std::io::Write::write_all(&mut file, self.to_toml().as_bytes()).map_err(error)?;
        file.sync_all().map_err(error)
    }
}

/// `~/.bitcraps`.
pub fn default_home() -> Result<PathBuf, ConfigError> {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home).join(".bitcraps")),
        _ => Err(ConfigError::NoHome),
    }
}

/// Reads a whole file of at most [`MAX_CONFIG_BYTES`].
fn read_bounded(path: &Path) -> Result<String, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

/// A list of multiaddrs as strings.
mod multiaddr_list {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        addrs: &[Multiaddr],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(addrs.iter().map(ToString::to_string))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Multiaddr>, D::Error> {
        Vec::<String>::deserialize(deserializer)?
            .iter()
            .map(|text| {
                Multiaddr::from_str(text).map_err(|e| {
                    serde::de::Error::custom(format!(
                        "{text:?} is not a multiaddr ({e}); write e.g. /ip4/127.0.0.1/tcp/7370"
                    ))
                })
            })
            .collect()
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Pretty => "pretty",
            LogFormat::Json => "json",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: ConfigArgs,
    }

    fn home_with(text: Option<&str>) -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        if let Some(text) = text {
            std::fs::write(home.path().join(CONFIG_FILE_NAME), text).unwrap();
        }
        home
    }

    fn args(home: &Path, extra: &[&str]) -> ConfigArgs {
        let mut argv = vec![
            "test".to_string(),
            "--home".into(),
            home.display().to_string(),
        ];
        argv.extend(extra.iter().map(|s| s.to_string()));
        Cli::try_parse_from(argv).unwrap().config
    }

    #[test]
    fn defaults_need_no_file_and_resolve_against_home() {
        let home = home_with(None);
        let loaded = NodeConfig::load(&args(home.path(), &[])).unwrap();
        assert!(!loaded.file_found);
        assert_eq!(loaded.config.data_dir, home.path().join("data"));
        assert_eq!(loaded.config.genesis_file, home.path().join("genesis.json"));
        assert_eq!(
            loaded.config.api.cookie_file,
            home.path().join("api.cookie")
        );
        assert_eq!(loaded.config.validator, None);
        assert_eq!(
            loaded.config.api.listen.port(),
            crate::api::DEFAULT_API_PORT
        );
    }

    #[test]
    fn a_flag_beats_the_file() {
        let home = home_with(Some(
            "data_dir = \"/srv/chain\"\n[api]\nlisten = \"127.0.0.1:9000\"\n[log]\nformat = \"json\"\n",
        ));
        let loaded = NodeConfig::load(&args(home.path(), &[])).unwrap();
        assert!(loaded.file_found);
        assert_eq!(loaded.config.data_dir, PathBuf::from("/srv/chain"));
        assert_eq!(loaded.config.api.listen.port(), 9000);
        assert_eq!(loaded.config.log.format, LogFormat::Json);
        let loaded = NodeConfig::load(&args(
            home.path(),
            &["--api-listen", "127.0.0.1:9001", "--log-format", "pretty"],
        ))
        .unwrap();
        assert_eq!(loaded.config.api.listen.port(), 9001);
        assert_eq!(loaded.config.log.format, LogFormat::Pretty);
        let loaded = NodeConfig::load(&args(
            home.path(),
            &["--api-max-batch-body-bytes", "200000"],
        ))
        .unwrap();
        assert_eq!(loaded.config.api.max_batch_body_bytes, 200_000);
        // Untouched keys keep the file's value.
        assert_eq!(loaded.config.data_dir, PathBuf::from("/srv/chain"));
    }

    #[test]
    fn lists_and_the_validator_section_come_from_flags() {
        let home = home_with(None);
        let loaded = NodeConfig::load(&args(
            home.path(),
            &[
                "--network-listen",
                "/ip4/0.0.0.0/tcp/1,/ip4/0.0.0.0/udp/1/quic-v1",
                "--validator-key-file",
                "v.key",
                "--fault-injection-partition-file",
                "cut.toml",
            ],
        ))
        .unwrap();
        assert_eq!(loaded.config.network.listen.len(), 2);
        assert_eq!(
            loaded.config.fault_injection.unwrap().partition_file,
            home.path().join("cut.toml")
        );
        let validator = loaded.config.validator.clone().unwrap();
        assert_eq!(validator.key_file, home.path().join("v.key"));
        assert_eq!(validator.listen, default_validator_listen());
    }

    /// A validator answers Kademlia queries; a player node stays in
    /// automatic mode. The batch linger comes from its key, flag or
    /// variable and is bounded.
    #[test]
    fn the_network_configuration_follows_the_node_role_and_keys() {
        let chain = wallet::ChainId::new([3; 32]);
        let home = home_with(Some("[network]\ntx_batch_linger_ms = 2\n"));
        let player = NodeConfig::load(&args(home.path(), &[])).unwrap().config;
        let network = player.network_config(chain);
        assert!(!network.kademlia_server);
        assert_eq!(network.tx_batch_linger, Duration::from_millis(2));
        assert_eq!(network.listen_addrs, player.network.listen);

        let validator = NodeConfig::load(&args(
            home.path(),
            &[
                "--validator-key-file",
                "v.key",
                "--network-tx-batch-linger-ms",
                "0",
            ],
        ))
        .unwrap()
        .config;
        let network = validator.network_config(chain);
        assert!(network.kademlia_server);
        assert_eq!(network.tx_batch_linger, Duration::ZERO);

        assert_eq!(
            NodeConfig::default().network.tx_batch_linger(),
            crate::network::DEFAULT_TX_BATCH_LINGER
        );
        let mut slow = NodeConfig::default();
        slow.network.tx_batch_linger_ms = 1001;
        assert!(matches!(
            slow.validate(),
            Err(ConfigError::Invalid {
                key: "network.tx_batch_linger_ms",
                ..
            })
        ));
        slow.network.tx_batch_linger_ms = 1000;
        slow.validate().unwrap();
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        for (text, key) in [
            ("colour = 1\n", "colour"),
            (
                "[api]\nlisten = \"127.0.0.1:1\"\ncookie = \"x\"\n",
                "cookie",
            ),
            ("[network]\nbootstrap_peers = []\n", "bootstrap_peers"),
            ("[validator]\nkey_file = \"k\"\nport = 3\n", "port"),
            ("[logging]\nlevel = \"info\"\n", "logging"),
        ] {
            let home = home_with(Some(text));
            let error = NodeConfig::load(&args(home.path(), &[])).unwrap_err();
            let message = error.to_string();
            assert!(
                matches!(error, ConfigError::Parse { .. }) && message.contains(key),
                "{text:?}: {message}"
            );
        }
    }

    #[test]
    fn bad_values_are_refused_with_the_key() {
        let home = home_with(Some("[log]\nlevel = \"info,=[\"\n"));
        let error = NodeConfig::load(&args(home.path(), &[])).unwrap_err();
        assert!(error.to_string().contains("log.level"), "{error}");
        let home = home_with(Some("[network]\nlisten = [\"not an address\"]\n"));
        let error = NodeConfig::load(&args(home.path(), &[])).unwrap_err();
        assert!(error.to_string().contains("not a multiaddr"), "{error}");
        let home = home_with(Some("[api]\nmax_batch_body_bytes = 10\n"));
        let error = NodeConfig::load(&args(home.path(), &[])).unwrap_err();
        assert!(
            error.to_string().contains("api.max_batch_body_bytes"),
            "{error}"
        );
        let home = home_with(None);
        let missing = args(home.path(), &["--config", "nope.toml"]);
        assert!(matches!(
            NodeConfig::load(&missing),
            Err(ConfigError::Read { .. })
        ));
    }

    /// The journal is on unless the file, the variable or the flag turns
    /// it off, and `config show` prints it.
    #[test]
    fn the_mempool_journal_is_on_by_default_and_has_every_form() {
        let home = home_with(None);
        let loaded = NodeConfig::load(&args(home.path(), &[])).unwrap();
        assert!(loaded.config.mempool.journal);
        assert!(
            loaded
                .config
                .to_toml()
                .contains("[mempool]\njournal = true\n"),
            "{}",
            loaded.config.to_toml()
        );
        let home = home_with(Some("[mempool]\njournal = false\n"));
        let loaded = NodeConfig::load(&args(home.path(), &[])).unwrap();
        assert!(!loaded.config.mempool.journal);
        let loaded = NodeConfig::load(&args(home.path(), &["--mempool-journal", "true"])).unwrap();
        assert!(loaded.config.mempool.journal);
        let command = <Cli as clap::CommandFactory>::command();
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some("mempool-journal"))
            .expect("the flag exists");
        assert_eq!(
            arg.get_env().and_then(|e| e.to_str()),
            Some("BITCRAPS_MEMPOOL_JOURNAL")
        );
        let home = home_with(Some("[mempool]\njournl = false\n"));
        let error = NodeConfig::load(&args(home.path(), &[])).unwrap_err();
        assert!(error.to_string().contains("journl"), "{error}");
    }

    /// The identity is the node key unless the file, the variable or the
    /// flag says wallet, which needs a keystore; `config show` prints it.
    #[test]
    fn the_network_identity_has_every_form_and_needs_a_wallet() {
        let home = home_with(None);
        let loaded = NodeConfig::load(&args(home.path(), &[])).unwrap();
        assert_eq!(loaded.config.network.identity, NetworkIdentity::NodeKey);
        assert!(
            loaded
                .config
                .to_toml()
                .contains("identity = \"node_key\"\n"),
            "{}",
            loaded.config.to_toml()
        );
        let home = home_with(Some(
            "[network]\nidentity = \"wallet\"\n[wallet]\nkeystore = \"w.json\"\n",
        ));
        let loaded = NodeConfig::load(&args(home.path(), &[])).unwrap();
        assert_eq!(loaded.config.network.identity, NetworkIdentity::Wallet);
        let loaded =
            NodeConfig::load(&args(home.path(), &["--network-identity", "node_key"])).unwrap();
        assert_eq!(loaded.config.network.identity, NetworkIdentity::NodeKey);
        let command = <Cli as clap::CommandFactory>::command();
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some("network-identity"))
            .expect("the flag exists");
        assert_eq!(
            arg.get_env().and_then(|e| e.to_str()),
            Some("BITCRAPS_NETWORK_IDENTITY")
        );
        let home = home_with(Some("[network]\nidentity = \"wallet\"\n"));
        let error = NodeConfig::load(&args(home.path(), &[])).unwrap_err();
        assert!(
            matches!(
                error,
                ConfigError::Invalid {
                    key: "network.identity",
                    ..
                }
            ) && error.to_string().contains("wallet.keystore"),
            "{error}"
        );
        let home = home_with(Some("[network]\nidentity = \"peer\"\n"));
        let error = NodeConfig::load(&args(home.path(), &[])).unwrap_err();
        assert!(error.to_string().contains("identity"), "{error}");
    }

    /// The connection and memory limits come from the file, variable or
    /// flag into the network's configuration; nonsense is refused by key.
    #[test]
    fn connection_and_memory_limits_have_every_form() {
        let chain = wallet::ChainId::new([3; 32]);
        let defaults = NodeConfig::default().network_config(chain).limits;
        assert_eq!(defaults, NetworkLimits::default());
        let home = home_with(Some(
            "[network]\nmax_established_incoming = 2\nmax_memory_percent = 0\n",
        ));
        let loaded = NodeConfig::load(&args(
            home.path(),
            &[
                "--network-max-established-outgoing",
                "3",
                "--network-max-established-per-peer",
                "1",
                "--network-max-pending-incoming",
                "4",
                "--network-max-pending-outgoing",
                "5",
            ],
        ))
        .unwrap()
        .config;
        assert!(
            loaded.to_toml().contains("max_established_incoming = 2\n"),
            "{}",
            loaded.to_toml()
        );
        let limits = loaded.network_config(chain).limits;
        assert_eq!(
            (
                limits.max_established_incoming,
                limits.max_established_outgoing,
                limits.max_established_per_peer,
                limits.max_pending_incoming,
                limits.max_pending_outgoing,
                limits.memory,
            ),
            (2, 3, 1, 4, 5, MemoryLimit::Off)
        );
        let loaded = NodeConfig::load(&args(home.path(), &["--network-max-memory-percent", "50"]))
            .unwrap()
            .config;
        assert_eq!(
            loaded.network_config(chain).limits.memory,
            MemoryLimit::FractionOfPhysical(0.5)
        );
        let command = <Cli as clap::CommandFactory>::command();
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some("network-max-established-incoming"))
            .expect("the flag exists");
        assert_eq!(
            arg.get_env().and_then(|e| e.to_str()),
            Some("BITCRAPS_NETWORK_MAX_ESTABLISHED_INCOMING")
        );
        for (text, key) in [
            (
                "max_established_incoming = 0",
                "network.max_established_incoming",
            ),
            ("max_pending_outgoing = 0", "network.max_pending_outgoing"),
            ("max_memory_percent = 101", "network.max_memory_percent"),
        ] {
            let home = home_with(Some(&format!("[network]\n{text}\n")));
            let error = NodeConfig::load(&args(home.path(), &[])).unwrap_err();
            assert!(error.to_string().contains(key), "{text}: {error}");
        }
    }

    #[test]
    fn toml_round_trips() {
        let mut config = NodeConfig::default();
        config.wallet.keystore = Some("wallet.json".into());
        config.validator = Some(ValidatorConfig {
            key_file: "validator.key".into(),
            listen: default_validator_listen(),
        });
        config.fault_injection = Some(FaultInjectionConfig {
            partition_file: "partition.toml".into(),
        });
        let text = config.to_toml();
        assert_eq!(
            NodeConfig::from_toml(&text, Path::new("x")).unwrap(),
            config
        );
        let plain = NodeConfig::default().to_toml();
        assert_eq!(
            NodeConfig::from_toml(&plain, Path::new("x")).unwrap(),
            NodeConfig::default()
        );
    }
}
