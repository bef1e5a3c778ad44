//! The bootstrap peer's configuration.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use libp2p::Multiaddr;
use wallet::ChainId;

/// The default HTTP port of `/health` and `/metrics`.
pub const DEFAULT_HTTP_PORT: u16 = 7390;

/// Everything the bootstrap peer needs. [`BootstrapConfig::new`] gives
/// defaults that work with nothing else set.
#[derive(Clone, Debug)]
pub struct BootstrapConfig {
    /// The chain it serves: its protocol names are bound to it, so nodes of
    /// another chain cannot use it.
    pub chain_id: ChainId,
    /// Where to listen for peers. Default: TCP and QUIC on 127.0.0.1 with
    /// OS-chosen ports; a public bootstrap peer sets public addresses.
    pub listen_addrs: Vec<Multiaddr>,
    /// Where `/health` and `/metrics` are served (default
    /// `127.0.0.1:7390`; port 0 picks a free one).
    pub http_listen: SocketAddr,
    /// The identity key file (created if missing); `None` uses a new key
    /// each start, so the peer id changes.
    pub key_file: Option<PathBuf>,
    /// A file to write the full listen addresses (with `/p2p/<peer id>`)
    /// to, one per line, once listening — for configurations and scripts.
    pub addr_file: Option<PathBuf>,
    /// Established inbound connections.
    pub max_established_incoming: u32,
    /// Connections to one peer.
    pub max_established_per_peer: u32,
    /// Inbound connections still handshaking.
    pub max_pending_incoming: u32,
    /// Refuse new connections above this fraction (0 to 1] of the
    /// machine's physical memory.
    pub max_memory_fraction: f64,
    /// How long an idle connection is kept open.
    pub idle_connection_timeout: Duration,
    /// The most addresses taken from one peer's identify.
    pub max_addrs_per_peer: usize,
}

impl BootstrapConfig {
    /// Defaults for `chain_id`: loopback TCP and QUIC with OS-chosen ports,
    /// HTTP on `127.0.0.1:7390`, a new key each start, 512 inbound
    /// connections, 2 per peer, 64 handshaking, at most 90% of physical
    /// memory, 60 s idle timeout, 16 addresses per peer.
    pub fn new(chain_id: ChainId) -> BootstrapConfig {
        BootstrapConfig {
            chain_id,
            listen_addrs: vec![
                "/ip4/127.0.0.1/tcp/0".parse().expect("valid multiaddr"),
                "/ip4/127.0.0.1/udp/0/quic-v1"
                    .parse()
                    .expect("valid multiaddr"),
            ],
            http_listen: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_HTTP_PORT)),
            key_file: None,
            addr_file: None,
            max_established_incoming: 512,
            max_established_per_peer: 2,
            max_pending_incoming: 64,
            max_memory_fraction: 0.9,
            idle_connection_timeout: Duration::from_secs(60),
            max_addrs_per_peer: 16,
        }
    }
}
