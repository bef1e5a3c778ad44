//! # Prometheus metrics
//!
//! One [`Metrics`] per node: a `prometheus-client` registry and typed
//! handles that the modules owning each quantity update (the chain
//! follower, the consensus binding, the mempool, the network task, the
//! games indexer and the API middleware). Handles are cheap atomics; hold
//! the `Metrics` in an `Arc` and call its methods from any thread.
//!
//! Every metric is named `bitcraps_*` and is in base units: seconds for
//! durations, chips for amounts, plain counts otherwise. Counters end in
//! `_total` (added by the OpenMetrics encoder). [`Metrics::encode`] renders
//! the OpenMetrics text served at `GET /metrics`.
//!
//! | metric | type | labels | updated by |
//! |---|---|---|---|
//! | `bitcraps_height` | gauge | | chain follower ([`Metrics::set_height`]) |
//! | `bitcraps_epoch` | gauge | | chain follower ([`Metrics::set_epoch`]) |
//! | `bitcraps_finalized_views_total` | counter | | chain, per finalized block applied ([`Metrics::inc_finalized_views`]) |
//! | `bitcraps_block_interval_seconds` | histogram | | chain, wall clock between applies ([`Metrics::observe_block_interval`]) |
//! | `bitcraps_finality_latency_seconds` | histogram | | chain, first seen to applied ([`Metrics::observe_finality_latency`]) |
//! | `bitcraps_mempool_transactions` | gauge | | mempool ([`Metrics::set_mempool`]) |
//! | `bitcraps_mempool_bytes` | gauge | | mempool ([`Metrics::set_mempool`]) |
//! | `bitcraps_peers` | gauge | | network ([`Metrics::set_peers`]) |
//! | `bitcraps_gossip_messages_total` | counter | `topic`, `verdict` | network ([`Metrics::inc_gossip`]) |
//! | `bitcraps_sync_lag_blocks` | gauge | | sync ([`Metrics::set_sync_lag`]) |
//! | `bitcraps_rounds_total` | counter | `game` | games indexer ([`Metrics::inc_rounds`]) |
//! | `bitcraps_bets_total` | counter | `game` | games indexer ([`Metrics::record_bet`]) |
//! | `bitcraps_bet_chips_total` | counter | `game` | games indexer ([`Metrics::record_bet`]) |
//! | `bitcraps_api_requests_total` | counter | `route`, `method`, `status` | API middleware |
//! | `bitcraps_api_request_duration_seconds` | histogram | `route` | API middleware |
//! | `bitcraps_api_rate_limited_total` | counter | | API rate limiter |
//! | `bitcraps_api_websocket_clients` | gauge | | API WebSocket |
//! | `bitcraps_api_websocket_dropped_total` | counter | `reason` | API WebSocket |
//! | `bitcraps_equivocations_total` | counter | `kind` | validator core ([`Metrics::set_equivocations`]) |
//! | `bitcraps_gossip_send_failures_total` | counter | | network, read at encoding ([`Metrics::attach_network`]) |
//! | `bitcraps_gossip_validation_overflow_total` | counter | | network, read at encoding |
//! | `bitcraps_gossip_stuck_peer_reconnects_total` | counter | | network, read at encoding |
//! | `bitcraps_network_events_dropped_total` | counter | | network, read at encoding |
//! | `bitcraps_gossip_transactions_admitted_total` | counter | | network, read at encoding |
//! | `bitcraps_gossip_transactions_ignored_total` | counter | | network, read at encoding |
//! | `bitcraps_tx_batches_published_total` | counter | | network, read at encoding |
//! | `bitcraps_tx_batch_transactions_published_total` | counter | | network, read at encoding |
//! | `bitcraps_tx_batch_publish_failures_total` | counter | | network, read at encoding |
//! | `bitcraps_txs_held_total` | counter | | network, read at encoding |
//! | `bitcraps_txs_held_dropped_total` | counter | | network, read at encoding |
//! | `bitcraps_signature_checks_total` | counter | `result` (`verified`, `invalid`, `cached`) | the process's [`SignatureCache`], read at encoding |
//!
//! Once a network is attached, `bitcraps_peers` and
//! `bitcraps_gossip_messages_total` are also brought up to its counters at
//! each encoding.
//!
//! `bitcraps_signature_checks_total` counts transaction signature verdicts:
//! `verified` and `invalid` were computed (ed25519), `cached` were
//! answered by the process-wide [`SignatureCache`] without verifying. With
//! each transaction verified once per node, `verified` grows by one per
//! transaction and `cached` by the number of later checks. The cache is per
//! process, so several nodes in one process (tests) share these counts.
//!
//! Label values come from closed sets (enums, the API's route templates,
//! HTTP status codes), so the number of series is bounded whatever clients
//! send.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use consensus::tx::SignatureCache;

use crate::network::{NetworkMetrics, NetworkMetricsSnapshot};

/// The content type of [`Metrics::encode`]'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A gossipsub topic, for `bitcraps_gossip_messages_total{topic}`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum GossipTopic {
    /// Transactions.
    Transactions,
    /// Finalized blocks with their certificates.
    Blocks,
    /// Beacon signature shares.
    BeaconShares,
}

/// What validation decided about a gossiped message, for
/// `bitcraps_gossip_messages_total{verdict}`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum GossipVerdict {
    /// Valid: relayed.
    Accepted,
    /// Invalid: not relayed, the sender penalized.
    Rejected,
    /// Not relayed, no penalty (duplicate, stale, local policy).
    Ignored,
}

/// A game, for the `game` label.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum GameLabel {
    /// Crash.
    Crash,
    /// Craps.
    Craps,
}

/// Why the API dropped a WebSocket client, for
/// `bitcraps_api_websocket_dropped_total{reason}`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum WsDropReason {
    /// Its outgoing queue was full: it does not read fast enough.
    Slow,
    /// It fell behind the node's event stream.
    Lagged,
}

/// A kind of equivocation evidence the consensus engine reported, for
/// `bitcraps_equivocations_total{kind}`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum EquivocationKind {
    /// One signer notarized two proposals in one view.
    ConflictingNotarize,
    /// One signer finalized two proposals in one view.
    ConflictingFinalize,
    /// One signer voted both nullify and finalize in one view.
    NullifyFinalize,
}

impl EquivocationKind {
    /// Every kind, in label order.
    pub const ALL: [EquivocationKind; 3] = [
        EquivocationKind::ConflictingNotarize,
        EquivocationKind::ConflictingFinalize,
        EquivocationKind::NullifyFinalize,
    ];
}

/// Label values in snake case.
macro_rules! label_values {
    ($($ty:ty { $($variant:ident => $text:literal),+ $(,)? })+) => {$(
        impl $ty {
            /// The label value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(<$ty>::$variant => $text),+
                }
            }
        }

        impl EncodeLabelValue for $ty {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                EncodeLabelValue::encode(&self.as_str(), encoder)
            }
        }
    )+};
}

label_values! {
    GossipTopic {
        Transactions => "transactions",
        Blocks => "blocks",
        BeaconShares => "beacon_shares",
    }
    GossipVerdict {
        Accepted => "accepted",
        Rejected => "rejected",
        Ignored => "ignored",
    }
    GameLabel {
        Crash => "crash",
        Craps => "craps",
    }
    WsDropReason {
        Slow => "slow",
        Lagged => "lagged",
    }
    EquivocationKind {
        ConflictingNotarize => "conflicting_notarize",
        ConflictingFinalize => "conflicting_finalize",
        NullifyFinalize => "nullify_finalize",
    }
    SignatureCheckResult {
        Verified => "verified",
        Invalid => "invalid",
        Cached => "cached",
    }
}

/// How a transaction's signature verdict was reached, for
/// `bitcraps_signature_checks_total{result}`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum SignatureCheckResult {
    /// Verified (ed25519) and valid.
    Verified,
    /// Verified and invalid.
    Invalid,
    /// Known valid from the process's [`SignatureCache`]: not verified.
    Cached,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignatureLabels {
    result: SignatureCheckResult,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GossipLabels {
    topic: GossipTopic,
    verdict: GossipVerdict,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GameLabels {
    game: GameLabel,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WsDropLabels {
    reason: WsDropReason,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EquivocationLabels {
    kind: EquivocationKind,
}

/// Block intervals and finality latencies: 50 ms to ~100 s.
fn chain_buckets() -> Histogram {
    Histogram::new([
        0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0,
    ])
}

/// API request durations: 100 µs to ~10 s.
fn api_buckets() -> Histogram {
    Histogram::new([
        0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
    ])
}

/// The node's metrics: the registry and a typed handle for each metric
/// (table in the [module documentation](self)).
pub struct Metrics {
    registry: Registry,
    height: Gauge,
    epoch: Gauge,
    finalized_views: Counter,
    block_interval: Histogram,
    finality_latency: Histogram,
    mempool_transactions: Gauge,
    mempool_bytes: Gauge,
    peers: Gauge,
    gossip: Family<GossipLabels, Counter>,
    sync_lag: Gauge,
    rounds: Family<GameLabels, Counter>,
    bets: Family<GameLabels, Counter>,
    bet_chips: Family<GameLabels, Counter>,
    api_requests: Family<ApiLabels, Counter>,
    api_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    api_rate_limited: Counter,
    ws_clients: Gauge,
    ws_dropped: Family<WsDropLabels, Counter>,
    equivocations: Family<EquivocationLabels, Counter>,
    gossip_send_failures: Counter,
    gossip_validation_overflow: Counter,
    gossip_stuck_peers: Counter,
    network_events_dropped: Counter,
    gossip_txs_admitted: Counter,
    gossip_txs_ignored: Counter,
    tx_batches_published: Counter,
    tx_batch_txs_published: Counter,
    tx_batch_publish_failures: Counter,
    txs_held: Counter,
    txs_held_dropped: Counter,
    signature_checks: Family<SignatureLabels, Counter>,
    /// Serializes reading the signature cache's counts into
    /// `signature_checks`, so two encodings never raise a counter twice.
    signature_refresh: Mutex<()>,
    /// The network's live counters, copied into the registry at each
    /// encoding. The lock also keeps two encodings from raising the same
    /// counter twice.
    network: Mutex<Option<Arc<NetworkMetrics>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// A `u64` as a gauge value (saturating at `i64::MAX`).
fn gauge_value(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Metrics {
    /// A registry with every metric registered, all at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("bitcraps");
        let metrics = Metrics {
            height: Gauge::default(),
            epoch: Gauge::default(),
            finalized_views: Counter::default(),
            block_interval: chain_buckets(),
            finality_latency: chain_buckets(),
            mempool_transactions: Gauge::default(),
            mempool_bytes: Gauge::default(),
            peers: Gauge::default(),
            gossip: Family::default(),
            sync_lag: Gauge::default(),
            rounds: Family::default(),
            bets: Family::default(),
            bet_chips: Family::default(),
            api_requests: Family::default(),
            api_duration: Family::new_with_constructor(api_buckets as fn() -> Histogram),
            api_rate_limited: Counter::default(),
            ws_clients: Gauge::default(),
            ws_dropped: Family::default(),
            equivocations: Family::default(),
            gossip_send_failures: Counter::default(),
            gossip_validation_overflow: Counter::default(),
            gossip_stuck_peers: Counter::default(),
            network_events_dropped: Counter::default(),
            gossip_txs_admitted: Counter::default(),
            gossip_txs_ignored: Counter::default(),
            tx_batches_published: Counter::default(),
            tx_batch_txs_published: Counter::default(),
            tx_batch_publish_failures: Counter::default(),
            txs_held: Counter::default(),
            txs_held_dropped: Counter::default(),
            signature_checks: Family::default(),
            signature_refresh: Mutex::new(()),
            network: Mutex::new(None),
            registry: Registry::default(),
        };
        registry.register(
            "height",
            "Height of the latest finalized block applied to the ledger",
            metrics.height.clone(),
        );
        registry.register("epoch", "Current validator epoch", metrics.epoch.clone());
        registry.register(
            "finalized_views",
            "Finalized blocks applied to this node's ledger",
            metrics.finalized_views.clone(),
        );
        registry.register_with_unit(
            "block_interval",
            "Wall-clock time between this node applying consecutive finalized blocks",
            Unit::Seconds,
            metrics.block_interval.clone(),
        );
        registry.register_with_unit(
            "finality_latency",
            "Time from this node first admitting a transaction to its block being applied here",
            Unit::Seconds,
            metrics.finality_latency.clone(),
        );
        registry.register(
            "mempool_transactions",
            "Transactions in the mempool",
            metrics.mempool_transactions.clone(),
        );
        registry.register_with_unit(
            "mempool",
            "Encoded size of the transactions in the mempool",
            Unit::Bytes,
            metrics.mempool_bytes.clone(),
        );
        registry.register("peers", "Connected libp2p peers", metrics.peers.clone());
        registry.register(
            "gossip_messages",
            "Gossiped messages validated, by topic and verdict",
            metrics.gossip.clone(),
        );
        registry.register(
            "sync_lag_blocks",
            "Finalized blocks known to peers and not yet applied here",
            metrics.sync_lag.clone(),
        );
        registry.register(
            "rounds",
            "Game rounds settled or voided, by game",
            metrics.rounds.clone(),
        );
        registry.register("bets", "Bets placed, by game", metrics.bets.clone());
        registry.register(
            "bet_chips",
            "Chips staked on bets placed, by game",
            metrics.bet_chips.clone(),
        );
        registry.register(
            "api_requests",
            "Local API requests answered, by route template, method and status",
            metrics.api_requests.clone(),
        );
        registry.register_with_unit(
            "api_request_duration",
            "Local API request handling time, by route template",
            Unit::Seconds,
            metrics.api_duration.clone(),
        );
        registry.register(
            "api_rate_limited",
            "Local API requests refused by the per-client rate limit",
            metrics.api_rate_limited.clone(),
        );
        registry.register(
            "api_websocket_clients",
            "Connected local API WebSocket clients",
            metrics.ws_clients.clone(),
        );
        registry.register(
            "api_websocket_dropped",
            "Local API WebSocket clients disconnected by the node, by reason",
            metrics.ws_dropped.clone(),
        );
        registry.register(
            "equivocations",
            "Evidence of a validator signing two conflicting consensus votes, as this validator's \
             engine reported it since the process started, by kind",
            metrics.equivocations.clone(),
        );
        registry.register(
            "gossip_send_failures",
            "Gossip messages (publishes, forwards, IHAVE/IWANT) not sent to a peer because its \
             send queue was full or they waited in it past their deadline",
            metrics.gossip_send_failures.clone(),
        );
        registry.register(
            "gossip_validation_overflow",
            "Gossiped messages ignored without validation because too many were being validated",
            metrics.gossip_validation_overflow.clone(),
        );
        registry.register(
            "gossip_stuck_peer_reconnects",
            "Peers disconnected and dialled again because their gossip send queue stayed full",
            metrics.gossip_stuck_peers.clone(),
        );
        registry.register(
            "network_events_dropped",
            "Network events dropped because the node did not read them in time",
            metrics.network_events_dropped.clone(),
        );
        registry.register(
            "gossip_transactions_admitted",
            "Transactions from gossiped batches that this node admitted to its mempool",
            metrics.gossip_txs_admitted.clone(),
        );
        registry.register(
            "gossip_transactions_ignored",
            "Transactions from gossiped batches (not rejected) that this node did not admit: \
             already known, stale, unaffordable here or over a local limit",
            metrics.gossip_txs_ignored.clone(),
        );
        registry.register(
            "tx_batches_published",
            "Transaction batches this node published on the transaction topic",
            metrics.tx_batches_published.clone(),
        );
        registry.register(
            "tx_batch_transactions_published",
            "Transactions in the batches this node published (divided by \
             bitcraps_tx_batches_published_total: the mean batch size)",
            metrics.tx_batch_txs_published.clone(),
        );
        registry.register(
            "tx_batch_publish_failures",
            "Transaction batches this node could not publish (no peers, a duplicate); their \
             transactions are held until a peer subscribes",
            metrics.tx_batch_publish_failures.clone(),
        );
        registry.register(
            "txs_held",
            "Transactions held because no connected peer subscribed to the transaction topic \
             (a partition, a node alone); each is published once a peer subscribes",
            metrics.txs_held.clone(),
        );
        registry.register(
            "txs_held_dropped",
            "Held transactions dropped because too many were held (the mempool's re-gossip \
             publishes them again)",
            metrics.txs_held_dropped.clone(),
        );
        registry.register(
            "signature_checks",
            "Transaction signature verdicts in this process: verified (valid), invalid, or \
             cached (known valid, not verified again)",
            metrics.signature_checks.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// The OpenMetrics text of every metric ([`OPENMETRICS_CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        self.refresh_network();
        self.refresh_signature_checks();
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            // Writing to a String cannot fail; keep the output well formed anyway.
            let _ = writeln!(text, "# encoding failed: {error}\n# EOF");
        }
        text
    }

    /// `bitcraps_height`: the latest applied block's height.
    pub fn set_height(&self, height: u64) {
        self.height.set(gauge_value(height));
    }

    /// `bitcraps_epoch`: the current epoch.
    pub fn set_epoch(&self, epoch: u64) {
        self.epoch.set(gauge_value(epoch));
    }

    /// `bitcraps_finalized_views_total`: one more finalized block applied
    /// to this node's ledger (each finalized view that produced a block,
    /// counted once by whichever of the node's appliers applied it; a
    /// block redelivered after a restart is not counted again). The chain
    /// calls it, on validators and followers alike.
    pub fn inc_finalized_views(&self) {
        self.finalized_views.inc();
    }

    /// `bitcraps_block_interval_seconds`: the wall-clock time on this node
    /// between applying a finalized block and applying the one before it
    /// (not the blocks' timestamps: while catching up it measures the
    /// sync speed).
    pub fn observe_block_interval(&self, interval: Duration) {
        self.block_interval.observe(interval.as_secs_f64());
    }

    /// `bitcraps_finality_latency_seconds`: for each transaction this
    /// node admitted to its mempool (from its API, gossip or its journal),
    /// the time from that first admission to the block including it being
    /// applied to this node's ledger. Transactions first met inside a
    /// block are not observed.
    pub fn observe_finality_latency(&self, latency: Duration) {
        self.finality_latency.observe(latency.as_secs_f64());
    }

    /// `bitcraps_mempool_transactions` and `bitcraps_mempool_bytes`.
    pub fn set_mempool(&self, transactions: usize, bytes: usize) {
        self.mempool_transactions
            .set(gauge_value(transactions as u64));
        self.mempool_bytes.set(gauge_value(bytes as u64));
    }

    /// Reads `network`'s counters into the registry at every
    /// [`encode`](Metrics::encode) from now on (replacing a network
    /// attached before). The network task owns them as atomics, so a scrape
    /// never waits on it.
    pub fn attach_network(&self, network: Arc<NetworkMetrics>) {
        if let Ok(mut attached) = self.network.lock() {
            *attached = Some(network);
        }
    }

    /// Brings the network metrics up to the attached network's counters.
    fn refresh_network(&self) {
        let Ok(attached) = self.network.lock() else {
            return;
        };
        if let Some(network) = attached.as_ref() {
            self.set_network(&network.snapshot());
        }
    }

    /// Brings `bitcraps_signature_checks_total` up to the process-wide
    /// [`SignatureCache`]'s counts.
    fn refresh_signature_checks(&self) {
        let Ok(_serial) = self.signature_refresh.lock() else {
            return;
        };
        let counts = SignatureCache::process().counts();
        for (result, total) in [
            (SignatureCheckResult::Verified, counts.verified),
            (SignatureCheckResult::Invalid, counts.invalid),
            (SignatureCheckResult::Cached, counts.cached),
        ] {
            let counter = self
                .signature_checks
                .get_or_create(&SignatureLabels { result });
            let seen = counter.get();
            if total > seen {
                counter.inc_by(total - seen);
            }
        }
    }

    /// The process's signature verdicts so far, as
    /// `bitcraps_signature_checks_total{result}` last reported them.
    pub fn signature_checks(&self, result: SignatureCheckResult) -> u64 {
        self.signature_checks
            .get_or_create(&SignatureLabels { result })
            .get()
    }

    /// Raises every network counter to `snapshot`'s total (counters never
    /// go down) and sets `bitcraps_peers`.
    fn set_network(&self, snapshot: &NetworkMetricsSnapshot) {
        fn raise(counter: &Counter, total: u64) {
            let seen = counter.get();
            if total > seen {
                counter.inc_by(total - seen);
            }
        }
        self.set_peers(snapshot.connected_peers as usize);
        raise(&self.gossip_send_failures, snapshot.gossip_send_failures);
        raise(
            &self.gossip_validation_overflow,
            snapshot.validation_overflow,
        );
        raise(&self.gossip_stuck_peers, snapshot.stuck_peers_disconnected);
        raise(&self.network_events_dropped, snapshot.events_dropped);
        raise(&self.gossip_txs_admitted, snapshot.gossip_txs_admitted);
        raise(&self.gossip_txs_ignored, snapshot.gossip_txs_ignored);
        raise(&self.tx_batches_published, snapshot.tx_batches_published);
        raise(
            &self.tx_batch_txs_published,
            snapshot.tx_batch_txs_published,
        );
        raise(
            &self.tx_batch_publish_failures,
            snapshot.tx_batch_publish_failures,
        );
        raise(&self.txs_held, snapshot.txs_held);
        raise(&self.txs_held_dropped, snapshot.txs_held_dropped);
        for (topic, verdict, total) in [
            (
                GossipTopic::Transactions,
                GossipVerdict::Accepted,
                snapshot.tx_accepted,
            ),
            (
                GossipTopic::Transactions,
                GossipVerdict::Rejected,
                snapshot.tx_rejected,
            ),
            (
                GossipTopic::Transactions,
                GossipVerdict::Ignored,
                snapshot.tx_ignored,
            ),
            (
                GossipTopic::Blocks,
                GossipVerdict::Accepted,
                snapshot.block_accepted,
            ),
            (
                GossipTopic::Blocks,
                GossipVerdict::Rejected,
                snapshot.block_rejected,
            ),
            (
                GossipTopic::Blocks,
                GossipVerdict::Ignored,
                snapshot.block_ignored,
            ),
        ] {
            raise(
                &self.gossip.get_or_create(&GossipLabels { topic, verdict }),
                total,
            );
        }
    }

    /// `bitcraps_peers`: connected peers.
    pub fn set_peers(&self, peers: usize) {
        self.peers.set(gauge_value(peers as u64));
    }

    /// `bitcraps_gossip_messages_total{topic, verdict}`: one message
    /// validated.
    pub fn inc_gossip(&self, topic: GossipTopic, verdict: GossipVerdict) {
        self.gossip
            .get_or_create(&GossipLabels { topic, verdict })
            .inc();
    }

    /// `bitcraps_sync_lag_blocks`: how far behind the best known height
    /// this node is (0 when synced).
    pub fn set_sync_lag(&self, blocks: u64) {
        self.sync_lag.set(gauge_value(blocks));
    }

    /// `bitcraps_rounds_total{game}`: one round settled or voided.
    pub fn inc_rounds(&self, game: GameLabel) {
        self.rounds.get_or_create(&GameLabels { game }).inc();
    }

    /// `bitcraps_bets_total{game}` and `bitcraps_bet_chips_total{game}`: one
    /// bet of `chips` placed.
    pub fn record_bet(&self, game: GameLabel, chips: u64) {
        let labels = GameLabels { game };
        self.bets.get_or_create(&labels).inc();
        self.bet_chips.get_or_create(&labels).inc_by(chips);
    }

    /// `bitcraps_api_requests_total` and
    /// `bitcraps_api_request_duration_seconds`: one API request answered.
    /// `route` must come from a closed set (a route template or
    /// `"unmatched"`).
    pub fn record_api_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.api_requests
            .get_or_create(&ApiLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.api_duration
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// `bitcraps_api_rate_limited_total`: one request refused with 429.
    pub fn inc_api_rate_limited(&self) {
        self.api_rate_limited.inc();
    }

    /// `bitcraps_api_websocket_clients`: a client connected (`+1`) or left
    /// (`-1`).
    pub fn add_ws_clients(&self, delta: i64) {
        self.ws_clients.inc_by(delta);
    }

    /// `bitcraps_api_websocket_dropped_total{reason}`: the node
    /// disconnected a client.
    pub fn inc_ws_dropped(&self, reason: WsDropReason) {
        self.ws_dropped
            .get_or_create(&WsDropLabels { reason })
            .inc();
    }

    /// `bitcraps_equivocations_total{kind}`: raises the count of `kind` to
    /// `total`, the engine's count since this process started (a validator
    /// reports every kind, zeros included, so a reader can tell "none seen"
    /// from "not a validator").
    pub fn set_equivocations(&self, kind: EquivocationKind, total: u64) {
        let counter = self
            .equivocations
            .get_or_create(&EquivocationLabels { kind });
        let seen = counter.get();
        if total > seen {
            counter.inc_by(total - seen);
        }
    }

    /// How many WebSocket clients were dropped for `reason` so far.
    pub fn ws_dropped(&self, reason: WsDropReason) -> u64 {
        self.ws_dropped
            .get_or_create(&WsDropLabels { reason })
            .get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_checks_come_from_the_process_cache() {
        use consensus::tx::{Action, Transaction};
        use wallet::{Address, ChainId, Keypair};

        let key = Keypair::generate().unwrap();
        // A fresh key: no other test checks this transaction.
        let tx = Transaction {
            chain_id: ChainId::new([5; 32]),
            sender: key.public_key(),
            nonce: 0,
            fee: game_rules::Chips(1),
            expiry_height: 10,
            action: Action::Transfer {
                to: Address::from_bytes([1; 20]),
                amount: game_rules::Chips(2),
            },
        }
        .sign(&key);
        let chain = tx.tx.chain_id;
        let mut forged = tx.clone();
        forged.tx.nonce = 1;
        let metrics = Metrics::new();
        metrics.encode();
        let before = |result| metrics.signature_checks(result);
        let (verified, invalid, cached) = (
            before(SignatureCheckResult::Verified),
            before(SignatureCheckResult::Invalid),
            before(SignatureCheckResult::Cached),
        );
        tx.check(&chain).unwrap();
        tx.check(&chain).unwrap();
        assert!(forged.check(&chain).is_err());
        let text = metrics.encode();
        assert!(text.contains("bitcraps_signature_checks_total{result=\"cached\"}"));
        // Other tests in this process check signatures too: at least ours.
        assert!(metrics.signature_checks(SignatureCheckResult::Verified) > verified);
        assert!(metrics.signature_checks(SignatureCheckResult::Invalid) > invalid);
        assert!(metrics.signature_checks(SignatureCheckResult::Cached) > cached);
    }

    #[test]
    fn every_metric_is_named_bitcraps_and_in_base_units() {
        let metrics = Metrics::new();
        metrics.set_height(42);
        metrics.set_epoch(3);
        metrics.inc_finalized_views();
        metrics.observe_block_interval(Duration::from_millis(1500));
        metrics.observe_finality_latency(Duration::from_millis(700));
        metrics.set_mempool(5, 900);
        metrics.set_peers(7);
        metrics.inc_gossip(GossipTopic::Transactions, GossipVerdict::Rejected);
        metrics.set_sync_lag(9);
        metrics.inc_rounds(GameLabel::Crash);
        metrics.record_bet(GameLabel::Craps, 25);
        metrics.record_api_request("/v1/status", "GET", 200, Duration::from_micros(300));
        metrics.inc_api_rate_limited();
        metrics.add_ws_clients(1);
        metrics.inc_ws_dropped(WsDropReason::Slow);
        metrics.set_equivocations(EquivocationKind::ConflictingNotarize, 2);
        metrics.set_equivocations(EquivocationKind::ConflictingNotarize, 1);
        metrics.set_equivocations(EquivocationKind::NullifyFinalize, 0);
        let text = metrics.encode();
        for expected in [
            "bitcraps_height 42",
            "bitcraps_epoch 3",
            "bitcraps_finalized_views_total 1",
            "bitcraps_block_interval_seconds_count 1",
            "bitcraps_finality_latency_seconds_sum 0.7",
            "bitcraps_mempool_transactions 5",
            "bitcraps_mempool_bytes 900",
            "bitcraps_peers 7",
            "bitcraps_gossip_messages_total{topic=\"transactions\",verdict=\"rejected\"} 1",
            "bitcraps_sync_lag_blocks 9",
            "bitcraps_rounds_total{game=\"crash\"} 1",
            "bitcraps_bets_total{game=\"craps\"} 1",
            "bitcraps_bet_chips_total{game=\"craps\"} 25",
            "bitcraps_api_requests_total{route=\"/v1/status\",method=\"GET\",status=\"200\"} 1",
            "bitcraps_api_request_duration_seconds_count{route=\"/v1/status\"} 1",
            "bitcraps_api_rate_limited_total 1",
            "bitcraps_api_websocket_clients 1",
            "bitcraps_api_websocket_dropped_total{reason=\"slow\"} 1",
            "bitcraps_equivocations_total{kind=\"conflicting_notarize\"} 2",
            "bitcraps_equivocations_total{kind=\"nullify_finalize\"} 0",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("bitcraps_"), "{line}");
        }
        assert_eq!(metrics.ws_dropped(WsDropReason::Slow), 1);
    }

    #[test]
    fn an_attached_network_is_read_at_each_encoding() {
        use std::sync::atomic::Ordering;

        let metrics = Metrics::new();
        let network = Arc::new(NetworkMetrics::default());
        metrics.attach_network(network.clone());
        network.connected_peers.store(4, Ordering::Relaxed);
        network.gossip_send_failures.store(12, Ordering::Relaxed);
        network.validation_overflow.store(3, Ordering::Relaxed);
        network.stuck_peers_disconnected.store(1, Ordering::Relaxed);
        network.tx_accepted.store(9, Ordering::Relaxed);
        // Distinct values, so a counter wired to the wrong field shows.
        network.gossip_txs_admitted.store(21, Ordering::Relaxed);
        network.gossip_txs_ignored.store(22, Ordering::Relaxed);
        network.tx_batches_published.store(23, Ordering::Relaxed);
        network.tx_batch_txs_published.store(24, Ordering::Relaxed);
        network
            .tx_batch_publish_failures
            .store(25, Ordering::Relaxed);
        network.txs_held.store(26, Ordering::Relaxed);
        network.txs_held_dropped.store(27, Ordering::Relaxed);
        let text = metrics.encode();
        for expected in [
            "bitcraps_peers 4",
            "bitcraps_gossip_send_failures_total 12",
            "bitcraps_gossip_validation_overflow_total 3",
            "bitcraps_gossip_stuck_peer_reconnects_total 1",
            "bitcraps_network_events_dropped_total 0",
            "bitcraps_gossip_messages_total{topic=\"transactions\",verdict=\"accepted\"} 9",
            "bitcraps_gossip_transactions_admitted_total 21",
            "bitcraps_gossip_transactions_ignored_total 22",
            "bitcraps_tx_batches_published_total 23",
            "bitcraps_tx_batch_transactions_published_total 24",
            "bitcraps_tx_batch_publish_failures_total 25",
            "bitcraps_txs_held_total 26",
            "bitcraps_txs_held_dropped_total 27",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        // A second encoding adds only what is new.
        network.gossip_send_failures.store(15, Ordering::Relaxed);
        network.tx_batches_published.store(30, Ordering::Relaxed);
        let text = metrics.encode();
        assert!(
            text.contains("bitcraps_gossip_send_failures_total 15"),
            "{text}"
        );
        assert!(
            text.contains("bitcraps_tx_batches_published_total 30"),
            "{text}"
        );
    }
}
