//! The bootstrap peer's Prometheus metrics, all named
//! `bitcraps_bootstrap_*`:
//!
//! | metric | type | what |
//! |---|---|---|
//! | `connected_peers` | gauge | peers with at least one connection |
//! | `routing_table_peers` | gauge | peers in the Kademlia routing table |
//! | `connections_total{direction}` | counter | connections opened, `inbound` or `outbound` |
//! | `identified_total` | counter | identify exchanges with a peer of this chain |
//! | `wrong_chain_total` | counter | peers disconnected for another chain or version |
//! | `kademlia_requests_total` | counter | Kademlia requests answered |
//! | `connection_errors_total` | counter | failed incoming connections (limits, handshakes) |

use std::sync::atomic::{AtomicI64, AtomicU64};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Serialize;

/// The `direction` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DirectionLabel {
    /// `inbound` or `outbound`.
    pub direction: &'static str,
}

/// The live metrics; cheap to update from the swarm task.
#[derive(Debug, Default)]
pub struct BootstrapMetrics {
    /// Peers with at least one connection.
    pub connected_peers: Gauge<i64, AtomicI64>,
    /// Peers in the routing table.
    pub routing_table_peers: Gauge<i64, AtomicI64>,
    /// Connections opened, by direction.
    pub connections: Family<DirectionLabel, Counter<u64, AtomicU64>>,
    /// Identify exchanges with peers of this chain.
    pub identified: Counter<u64, AtomicU64>,
    /// Peers disconnected for another chain or version.
    pub wrong_chain: Counter<u64, AtomicU64>,
    /// Kademlia requests answered.
    pub kademlia_requests: Counter<u64, AtomicU64>,
    /// Failed incoming connections.
    pub connection_errors: Counter<u64, AtomicU64>,
}

/// A point-in-time copy of the metrics, as `/health` shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MetricsSnapshot {
    /// Peers with at least one connection.
    pub connected_peers: i64,
    /// Peers in the routing table.
    pub routing_table_peers: i64,
    /// Identify exchanges with peers of this chain.
    pub identified: u64,
    /// Peers disconnected for another chain or version.
    pub wrong_chain: u64,
    /// Kademlia requests answered.
    pub kademlia_requests: u64,
}

impl BootstrapMetrics {
    /// Registers every metric under the `bitcraps_bootstrap` prefix.
    pub fn register(&self, registry: &mut Registry) {
        let sub = registry.sub_registry_with_prefix("bitcraps_bootstrap");
        sub.register(
            "connected_peers",
            "Peers with at least one connection",
            self.connected_peers.clone(),
        );
        sub.register(
            "routing_table_peers",
            "Peers in the Kademlia routing table",
            self.routing_table_peers.clone(),
        );
        sub.register(
            "connections",
            "Connections opened, by direction",
            self.connections.clone(),
        );
        sub.register(
            "identified",
            "Identify exchanges with a peer of this chain",
            self.identified.clone(),
        );
        sub.register(
            "wrong_chain",
            "Peers disconnected for another chain or protocol version",
            self.wrong_chain.clone(),
        );
        sub.register(
            "kademlia_requests",
            "Kademlia requests answered",
            self.kademlia_requests.clone(),
        );
        sub.register(
            "connection_errors",
            "Failed incoming connections (limits, handshakes)",
            self.connection_errors.clone(),
        );
    }

    /// The current values.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            connected_peers: self.connected_peers.get(),
            routing_table_peers: self.routing_table_peers.get(),
            identified: self.identified.get(),
            wrong_chain: self.wrong_chain.get(),
            kademlia_requests: self.kademlia_requests.get(),
        }
    }
}
