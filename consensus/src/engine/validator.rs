//! Wiring one validator: simplex, marshal (with its archives, block buffer
//! and backfill resolver), the application and the finalizer.

use std::sync::Arc;
use std::time::Duration;

use commonware_broadcast::buffered;
use commonware_consensus::Reporters;
use commonware_consensus::marshal::core::Actor;
use commonware_consensus::marshal::resolver::p2p as marshal_resolver;
use commonware_consensus::marshal::standard::{Deferred, Standard};
use commonware_consensus::marshal::{self, Start};
use commonware_consensus::simplex::elector::RoundRobin;
use commonware_consensus::simplex::{self, Floor, ForwardPolicy, SkipBudget, SkipPolicy};
use commonware_consensus::types::{Epoch, FixedEpocher, ViewDelta};
use commonware_cryptography::certificate::{ConstantProvider, Verifier as _};
use commonware_cryptography::{Digested, Digestible as _, Sha256, Signer as _};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage as RuntimeStorage};
use commonware_storage::archive::immutable;
use commonware_utils::NonZeroDuration;
use commonware_utils::channel::mpsc;
use commonware_utils::sync::Mutex;
use rand_chacha::rand_core::CryptoRng;

use super::application::{App, FaultMonitor, Faults, FinalizerInbox, run_evidence, run_finalizer};
use super::block::ConsensusBlock;
use super::{Config, Digest, EngineError, Executor, PAGE_SIZE, Scheme, namespace};
use crate::block::MAX_BLOCK_BYTES;
use crate::hash::Hash;

/// The validator's p2p channels (each a sender and receiver pair): three for
/// simplex, two for marshal. All five must admit [`max_message_size`].
pub struct Channels<S, R> {
    /// Simplex votes.
    pub votes: (S, R),
    /// Simplex certificates.
    pub certificates: (S, R),
    /// Simplex's fetches of missing certificates.
    pub resolver: (S, R),
    /// Marshal's backfill of missing blocks and finalizations.
    pub backfill: (S, R),
    /// Marshal's block broadcast.
    pub broadcast: (S, R),
}

/// The conventional channel numbers of [`Channels`] on one p2p network.
pub mod channel {
    /// Simplex votes.
    pub const VOTES: u64 = 0;
    /// Simplex certificates.
    pub const CERTIFICATES: u64 = 1;
    /// Simplex's certificate fetches.
    pub const RESOLVER: u64 = 2;
    /// Marshal's backfill.
    pub const BACKFILL: u64 = 3;
    /// Marshal's block broadcast.
    pub const BROADCAST: u64 = 4;
}

/// A running validator: its tasks and what it has reported.
pub struct Running {
    root: Handle<()>,
    faults: FaultMonitor,
}

impl Running {
    /// Evidence of equivocation (and finalizations) simplex reported here.
    pub fn faults(&self) -> Faults {
        self.faults.faults()
    }

    /// Stops every task of the validator at once (they all descend from one
    /// supervised root task), as a crash would; what was synced to storage
    /// stays and a later [`start`] with the same partitions recovers from
    /// it.
    pub fn abort(self) {
        self.root.abort();
    }
}

/// The largest p2p message a committee of `participants` exchanges with
/// blocks of at most `max_block_bytes` (consensus votes and certificates,
/// marshal's blocks and backfill responses).
pub fn max_message_size(participants: u32, max_block_bytes: usize) -> u32 {
    let consensus = simplex::max_payload_size::<Scheme, Digest>(participants);
    let blocks = marshal::max_payload_size::<Standard<ConsensusBlock>, Scheme>(
        participants,
        &max_block_bytes.min(MAX_BLOCK_BYTES),
    );
    commonware_p2p::max_message_size(&[consensus, blocks])
}

/// The rate limit for each p2p channel of a validator:
/// [`super::Timing::messages_per_second`] per peer, bursts of the same size.
pub fn quota(timing: &super::Timing) -> commonware_runtime::Quota {
    commonware_runtime::Quota::per_second(
        std::num::NonZeroU32::new(timing.messages_per_second.max(1)).expect("non-zero"),
    )
}

/// The partition names of one immutable archive.
struct ArchiveNames {
    base: String,
}

impl ArchiveNames {
    fn new(prefix: &str, name: &str) -> ArchiveNames {
        ArchiveNames {
            base: format!("{prefix}-{name}"),
        }
    }

    fn config<C>(
        &self,
        codec_config: C,
        page_cache: &CacheRef,
        storage: &super::Storage,
    ) -> immutable::Config<C> {
        let base = &self.base;
        immutable::Config {
            metadata_partition: format!("{base}-metadata"),
            freezer_table_partition: format!("{base}-freezer-table"),
            freezer_table_initial_size: 64,
            freezer_table_resize_frequency: 10,
            freezer_table_resize_chunk_size: 10,
            freezer_key_partition: format!("{base}-freezer-key"),
            freezer_key_page_cache: page_cache.clone(),
            freezer_value_partition: format!("{base}-freezer-value"),
            freezer_value_target_size: 1024 * 1024,
            freezer_value_compression: None,
            ordinal_partition: format!("{base}-ordinal"),
            items_per_section: storage.items_per_section,
            codec_config,
            replay_buffer: storage.buffer_bytes,
            freezer_key_write_buffer: storage.buffer_bytes,
            freezer_value_write_buffer: storage.buffer_bytes,
            ordinal_write_buffer: storage.buffer_bytes,
        }
    }
}

fn non_zero(duration: Duration) -> Result<NonZeroDuration, EngineError> {
    NonZeroDuration::new(duration)
        .ok_or_else(|| EngineError::InvalidConfig("a timeout of zero".into()))
}

/// Starts a validator in `context`: opens (or recovers) its storage under
/// `config.partition_prefix` and runs simplex, marshal and the executor on
/// `channels`, all under one supervised root task. `blocker` blocks
/// misbehaving peers; `peers` tells marshal's resolver and broadcast whom to
/// ask (the committee).
pub fn start<E, X, S, R, B, P>(
    context: E,
    config: Config<X>,
    channels: Channels<S, R>,
    blocker: B,
    peers: P,
) -> Result<Running, EngineError>
where
    E: Clock + CryptoRng + Spawner + RuntimeStorage + Metrics,
    X: Executor,
    S: Sender<PublicKey = commonware_cryptography::ed25519::PublicKey>,
    R: Receiver<PublicKey = commonware_cryptography::ed25519::PublicKey>,
    B: Blocker<PublicKey = commonware_cryptography::ed25519::PublicKey>,
    P: Provider<PublicKey = commonware_cryptography::ed25519::PublicKey>,
{
    let namespace = namespace(&config.chain_id);
    let me = config.identity.public_key();
    let scheme = Scheme::signer(
        &namespace,
        config.participants.clone(),
        config.sharing.clone(),
        config.share.clone(),
    )
    .ok_or_else(|| {
        EngineError::InvalidConfig("the share does not belong to this committee".into())
    })?;
    if commonware_utils::ordered::Quorum::index(&config.participants, &me).is_none() {
        return Err(EngineError::InvalidConfig(
            "this identity is not in the committee".into(),
        ));
    }
    let fetch_timeout = non_zero(config.timing.fetch_timeout)?;
    let timing = &config.timing;
    if !timing.max_block_interval.is_zero()
        && (timing.pacing_poll.is_zero()
            || timing.max_block_interval.saturating_mul(2) > timing.leader_timeout)
    {
        return Err(EngineError::InvalidConfig(format!(
            "max_block_interval {:?} must be at most half of leader_timeout {:?}, with a non-zero pacing_poll",
            timing.max_block_interval, timing.leader_timeout
        )));
    }
    let faults = FaultMonitor::default();
    let monitor = faults.clone();
    let root = context.spawn(move |context| async move {
        if let Err(error) = run(
            context,
            config,
            channels,
            blocker,
            peers,
            scheme,
            fetch_timeout,
            monitor,
        )
        .await
        {
            tracing::error!(%error, "validator stopped");
        }
    });
    Ok(Running { root, faults })
}

/// Wires and runs the validator; returns when simplex stops.
#[allow(clippy::too_many_arguments)]
async fn run<E, X, S, R, B, P>(
    context: E,
    config: Config<X>,
    channels: Channels<S, R>,
    blocker: B,
    peers: P,
    scheme: Scheme,
    fetch_timeout: NonZeroDuration,
    faults: FaultMonitor,
) -> Result<(), EngineError>
where
    E: Clock + CryptoRng + Spawner + RuntimeStorage + Metrics,
    X: Executor,
    S: Sender<PublicKey = commonware_cryptography::ed25519::PublicKey>,
    R: Receiver<PublicKey = commonware_cryptography::ed25519::PublicKey>,
    B: Blocker<PublicKey = commonware_cryptography::ed25519::PublicKey>,
    P: Provider<PublicKey = commonware_cryptography::ed25519::PublicKey>,
{
    let me = config.identity.public_key();
    let timing = &config.timing;
    let storage = &config.storage;
    let max_block_bytes = config.max_block_bytes.min(MAX_BLOCK_BYTES);
    let genesis = Hash::new(*config.chain_id.as_bytes());
    let anchor = ConsensusBlock::anchor(genesis);
    let anchor_digest = anchor.digest();
    let prefix = &config.partition_prefix;

    // One page cache for every journal and archive of this validator.
    let page_cache = CacheRef::new(PAGE_SIZE, storage.page_cache_pages);
    let buffer = storage.buffer_bytes;

    // Marshal's finalized archives (index on disk, not in memory).
    let archive = |name: &str| ArchiveNames::new(prefix, name);
    // The threshold scheme's certificate codec configuration is `()`.
    #[allow(clippy::unit_arg)]
    let finalizations_by_height = immutable::Archive::init(
        context.child("finalizations_by_height"),
        archive("finalizations-by-height").config(
            Scheme::certificate_codec_config_unbounded(),
            &page_cache,
            storage,
        ),
    )
    .await
    .map_err(|e| EngineError::InvalidConfig(format!("finalizations archive: {e}")))?;
    let finalized_blocks = immutable::Archive::init(
        context.child("finalized_blocks"),
        archive("finalized-blocks").config(max_block_bytes, &page_cache, storage),
    )
    .await
    .map_err(|e| EngineError::InvalidConfig(format!("blocks archive: {e}")))?;

    // Marshal.
    let marshal_config = marshal::Config {
        provider: ConstantProvider::new(scheme.clone()),
        epocher: FixedEpocher::new(config.epoch_length),
        start: Start::Genesis(Digested::precomputed(anchor, anchor_digest)),
        partition_prefix: format!("{prefix}-marshal"),
        mailbox_size: storage.mailbox_size,
        view_retention: ViewDelta::new(storage.view_retention),
        prunable_items_per_section: storage.items_per_section,
        page_cache: page_cache.clone(),
        replay_buffer: buffer,
        key_write_buffer: buffer,
        value_write_buffer: buffer,
        block_codec_config: max_block_bytes,
        max_repair: storage.max_repair,
        max_pending_acks: storage.max_pending_acks,
        strategy: Sequential,
    };
    let resolver = marshal_resolver::init(
        context.child("marshal_resolver"),
        marshal_resolver::Config {
            public_key: me.clone(),
            peer_provider: peers.clone(),
            blocker: blocker.clone(),
            mailbox_size: storage.mailbox_size,
            fetch_timeout,
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );
    let (broadcast_engine, block_buffer) = buffered::Engine::new(
        context.child("block_buffer"),
        buffered::Config {
            public_key: me.clone(),
            mailbox_size: storage.mailbox_size,
            deque_size: 10,
            priority: false,
            codec_config: max_block_bytes,
            peer_provider: peers,
            strategy: Sequential,
        },
    );
    broadcast_engine.start(channels.broadcast);
    let (actor, marshal_mailbox, _floor) = Actor::init(
        context.child("marshal"),
        finalizations_by_height,
        finalized_blocks,
        marshal_config,
    )
    .await;

    // The finalizer: marshal → executor → ack.
    let executor = Arc::new(Mutex::new(config.executor));
    let (updates, inbox) = mpsc::unbounded_channel();
    actor.start(FinalizerInbox { sender: updates }, block_buffer, resolver);
    {
        let executor = executor.clone();
        let marshal_mailbox = marshal_mailbox.clone();
        context
            .child("finalizer")
            .spawn(move |_| run_finalizer(executor, marshal_mailbox, inbox));
    }
    // Equivocation evidence: simplex's reporter → executor.
    let (evidence, evidence_inbox) = mpsc::unbounded_channel();
    let faults = faults.forwarding(evidence);
    {
        let executor = executor.clone();
        context
            .child("evidence")
            .spawn(move |_| run_evidence(executor, evidence_inbox));
    }

    // The application behind Deferred.
    let app = App {
        executor,
        chain_id: config.chain_id,
        genesis,
        genesis_time_ms: config.genesis_time_ms,
        me,
        max_skew: timing.max_skew,
        max_block_interval: timing.max_block_interval,
        pacing_poll: timing.pacing_poll,
    };
    let deferred = Deferred::new(
        context.child("application"),
        app,
        marshal_mailbox,
        FixedEpocher::new(config.epoch_length),
    );

    // Simplex.
    let engine = simplex::Engine::new(
        context.child("simplex"),
        simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: deferred.clone(),
            relay: deferred.clone(),
            reporter: Reporters::from((deferred, faults)),
            strategy: Sequential,
            partition: format!("{prefix}-simplex"),
            mailbox_size: storage.mailbox_size,
            epoch: Epoch::zero(),
            floor: Floor::Genesis(anchor_digest),
            replay_buffer: buffer,
            write_buffer: buffer,
            page_cache,
            leader_timeout: timing.leader_timeout,
            certification_timeout: timing.certification_timeout,
            timeout_retry: timing.timeout_retry,
            view_retention: ViewDelta::new(storage.view_retention),
            skip: SkipPolicy::Enabled {
                timeout: timing.skip_timeout,
                budget: SkipBudget::Participants,
            },
            fetch_timeout,
            fetch_retry_delay: Duration::from_millis(100),
            forward: ForwardPolicy::Disabled,
            // Keep every vote until its round leaves the retention window,
            // not only until the view's certificate: otherwise a conflicting
            // vote that arrives after the certificate (an equivocating twin
            // whose link came up late) is blocked without being reported,
            // and the offence goes unpunished. A few dozen votes per view.
            track_historical_votes: true,
        },
    );
    // The children live as long as this task: wait for simplex.
    let _ = engine
        .start(channels.votes, channels.certificates, channels.resolver)
        .await;
    Ok(())
}
