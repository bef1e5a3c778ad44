//! # BitCraps bootstrap peer
//!
//! The long-running discovery entry point that new nodes dial first. It runs
//! a small libp2p peer — TCP (noise + yamux) and QUIC, **identify**,
//! **Kademlia in server mode**, **ping**, connection and memory limits — and
//! a small HTTP server with `/health` and Prometheus `/metrics`. It holds no
//! stake, no ledger, no mempool and subscribes to no gossip topic: it only
//! tells nodes about each other.
//!
//! It must never be required for safety: nodes that already know each other
//! keep working without it, and a node that cannot reach it still reaches
//! the peers its configuration names.
//!
//! ## Speaking the node's protocols
//!
//! The node ([`node::network`]) binds its protocol names to the chain:
//! identify's protocol version is `/bitcraps/<chain prefix>/1.0.0` (a peer
//! announcing another version is disconnected) and Kademlia speaks
//! `/bitcraps/<chain prefix>/kad/1.0.0`, `<chain prefix>` being
//! [`node::network::chain_prefix`]. The bootstrap peer uses exactly these
//! names for its chain ([`BootstrapConfig::chain_id`]); a test starts two
//! real node networks that know only the bootstrap peer and checks that
//! they find each other through it.
//!
//! A node is added to the bootstrap peer's routing table when its identify
//! lists our Kademlia protocol (validators and other Kademlia servers);
//! nodes in client mode (most players) use the DHT without being handed out
//! to others. Peers of another chain are disconnected and counted. Records
//! pushed by peers are never stored.
//!
//! | module | concept |
//! |---|---|
//! | [`config`] | [`BootstrapConfig`]: chain, addresses, limits |
//! | [`peer`] | the libp2p swarm and the [`Bootstrap`] handle |
//! | [`metrics`] | the `bitcraps_bootstrap_*` Prometheus metrics |
//! | [`http`] | `/health` and `/metrics` |

pub mod config;
pub mod http;
pub mod metrics;
pub mod peer;

pub use config::BootstrapConfig;
pub use metrics::{BootstrapMetrics, MetricsSnapshot};
pub use peer::Bootstrap;

use std::net::SocketAddr;
use std::path::PathBuf;

use libp2p::Multiaddr;

/// Why the bootstrap peer could not start.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The configuration cannot work.
    #[error("invalid bootstrap configuration: {0}")]
    Config(String),
    /// The identity key file could not be read or written.
    #[error("bootstrap key file {path}: {reason}; fix or delete the file (a new key is made)")]
    Key {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The transports could not be set up.
    #[error("could not set up the libp2p transports: {0}")]
    Transport(String),
    /// A p2p listen address could not be used.
    #[error("cannot listen on {addr}: {reason}; choose another --listen address")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// The HTTP address could not be bound.
    #[error("cannot serve /health and /metrics on {addr}: {source}; choose another --http address")]
    Http {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// Writing the address file failed.
    #[error("cannot write the address file {path}: {source}")]
    AddrFile {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}
