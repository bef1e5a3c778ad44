//! Network counters, readable at any time without asking the network task.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, updated by the network task (relaxed atomics: each is
/// exact, they are not a consistent snapshot of each other).
#[derive(Debug, Default)]
pub struct NetworkMetrics {
    pub(crate) connected_peers: AtomicU64,
    pub(crate) tx_accepted: AtomicU64,
    pub(crate) tx_rejected: AtomicU64,
    pub(crate) tx_ignored: AtomicU64,
    pub(crate) gossip_txs_admitted: AtomicU64,
    pub(crate) gossip_txs_ignored: AtomicU64,
    pub(crate) tx_batches_published: AtomicU64,
    pub(crate) tx_batch_txs_published: AtomicU64,
    pub(crate) tx_batch_publish_failures: AtomicU64,
    pub(crate) txs_held: AtomicU64,
    pub(crate) txs_held_dropped: AtomicU64,
    pub(crate) block_accepted: AtomicU64,
    pub(crate) block_rejected: AtomicU64,
    pub(crate) block_ignored: AtomicU64,
    pub(crate) validation_overflow: AtomicU64,
    pub(crate) gossip_send_failures: AtomicU64,
    pub(crate) stuck_peers_disconnected: AtomicU64,
    pub(crate) events_dropped: AtomicU64,
    pub(crate) peers_banned: AtomicU64,
    pub(crate) peers_wrong_chain: AtomicU64,
    pub(crate) sync_served: AtomicU64,
    pub(crate) sync_refused: AtomicU64,
    pub(crate) sync_inbound_failures: AtomicU64,
    pub(crate) sync_outbound_failures: AtomicU64,
}

/// The counters at one moment, as plain numbers (for the metrics module:
/// `bitcraps_peers`, `bitcraps_gossip_*`, …).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkMetricsSnapshot {
    /// Peers with at least one connection now.
    pub connected_peers: u64,
    /// Gossiped transaction batches accepted and relayed (at least one of
    /// their transactions was admitted).
    pub tx_accepted: u64,
    /// Gossiped transaction batches rejected (the sender was penalized).
    pub tx_rejected: u64,
    /// Gossiped transaction batches ignored (none of their transactions
    /// was admitted; no penalty).
    pub tx_ignored: u64,
    /// Transactions from gossiped batches this node admitted.
    pub gossip_txs_admitted: u64,
    /// Transactions from gossiped batches (not rejected) that this node
    /// did not admit: already known, stale, over a local limit.
    pub gossip_txs_ignored: u64,
    /// Transaction batches this node published.
    pub tx_batches_published: u64,
    /// Transactions in the batches this node published (divided by
    /// `tx_batches_published`: the mean batch size).
    pub tx_batch_txs_published: u64,
    /// Transaction batches that could not be published (no peers, a
    /// duplicate); their transactions wait for the mempool's re-gossip.
    pub tx_batch_publish_failures: u64,
    /// Transactions held because no connected peer subscribed to the
    /// transaction topic when they were to be published (a partition, a
    /// node alone): each goes out as soon as a peer subscribes.
    pub txs_held: u64,
    /// Held transactions dropped because too many were held (the
    /// mempool's re-gossip publishes them again).
    pub txs_held_dropped: u64,
    /// Gossiped blocks accepted and relayed.
    pub block_accepted: u64,
    /// Gossiped blocks rejected.
    pub block_rejected: u64,
    /// Gossiped blocks ignored.
    pub block_ignored: u64,
    /// Gossiped messages dropped because too many were being validated.
    pub validation_overflow: u64,
    /// Gossip messages (publishes, forwards, IHAVE/IWANT, control) that
    /// did not reach a peer: its send queue was full, or they waited in it
    /// past their deadline (gossipsub's `SlowPeer` reports).
    pub gossip_send_failures: u64,
    /// Peers disconnected (and dialled again) because their gossip send
    /// queue kept overflowing for `stuck_send_queue_after`.
    pub stuck_peers_disconnected: u64,
    /// Events dropped because the node did not read them fast enough.
    pub events_dropped: u64,
    /// Peers disconnected and banned for a score below the graylist
    /// threshold.
    pub peers_banned: u64,
    /// Peers disconnected for speaking another chain's protocol.
    pub peers_wrong_chain: u64,
    /// Sync requests answered with blocks.
    pub sync_served: u64,
    /// Sync requests refused (busy or malformed).
    pub sync_refused: u64,
    /// Inbound sync exchanges that failed (timeouts, bad requests, closed
    /// connections).
    pub sync_inbound_failures: u64,
    /// This node's sync requests that failed.
    pub sync_outbound_failures: u64,
}

impl NetworkMetrics {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> NetworkMetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        NetworkMetricsSnapshot {
            connected_peers: get(&self.connected_peers),
            tx_accepted: get(&self.tx_accepted),
            tx_rejected: get(&self.tx_rejected),
            tx_ignored: get(&self.tx_ignored),
            gossip_txs_admitted: get(&self.gossip_txs_admitted),
            gossip_txs_ignored: get(&self.gossip_txs_ignored),
            tx_batches_published: get(&self.tx_batches_published),
            tx_batch_txs_published: get(&self.tx_batch_txs_published),
            tx_batch_publish_failures: get(&self.tx_batch_publish_failures),
            txs_held: get(&self.txs_held),
            txs_held_dropped: get(&self.txs_held_dropped),
            block_accepted: get(&self.block_accepted),
            block_rejected: get(&self.block_rejected),
            block_ignored: get(&self.block_ignored),
            validation_overflow: get(&self.validation_overflow),
            gossip_send_failures: get(&self.gossip_send_failures),
            stuck_peers_disconnected: get(&self.stuck_peers_disconnected),
            events_dropped: get(&self.events_dropped),
            peers_banned: get(&self.peers_banned),
            peers_wrong_chain: get(&self.peers_wrong_chain),
            sync_served: get(&self.sync_served),
            sync_refused: get(&self.sync_refused),
            sync_inbound_failures: get(&self.sync_inbound_failures),
            sync_outbound_failures: get(&self.sync_outbound_failures),
        }
    }
}
