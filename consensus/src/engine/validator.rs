//! Wiring one validator: simplex, marshal (with its archives, block buffer
//! and backfill resolver), the application and the finalizer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use commonware_broadcast::buffered;
use commonware_consensus::Heightable as _;
use commonware_consensus::Reporters;
use commonware_consensus::marshal::core::{Actor, Mailbox};
use commonware_consensus::marshal::resolver::p2p as marshal_resolver;
use commonware_consensus::marshal::standard::{Deferred, Standard};
use commonware_consensus::marshal::{self, Start, Update};
use commonware_consensus::simplex::{self, Floor, ForwardPolicy, SkipBudget, SkipPolicy};
use commonware_consensus::types::{Epoch, Epocher as _, Height, ViewDelta};
use commonware_cryptography::certificate::Verifier as _;
use commonware_cryptography::{Digested, Digestible as _, Signer as _, ed25519};
use commonware_p2p::utils::mux::{Builder as _, MuxHandle, Muxer};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage as RuntimeStorage};
use commonware_storage::archive::immutable;
use commonware_utils::channel::mpsc;
use commonware_utils::ordered::Quorum;
use commonware_utils::sync::Mutex;
use commonware_utils::vec::NonEmptyVec;
use commonware_utils::{Acknowledgement as _, N3f1, NonZeroDuration};
use rand_chacha::rand_core::CryptoRng;

use super::application::{
    App, FaultMonitor, Faults, FinalizerInbox, LATENCY, deliver_finalized, micros, run_evidence,
};
use super::block::ConsensusBlock;
use super::epochs::{EpochSchemes, LedgerEpocher};
use super::{
    Config, Digest, EngineError, EpochCommittee, EpochMembers, Executor, PAGE_SIZE, Scheme,
    namespace,
};
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
    status: Arc<Mutex<EpochStatus>>,
}

/// The epoch a validator's engine is in and whether it votes in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EpochStatus {
    /// The epoch entered last (that of the first block not yet final here).
    pub epoch: u64,
    /// Whether this validator runs the epoch's simplex engine (it is in the
    /// epoch's committee with a share); otherwise it only follows
    /// finalized blocks.
    pub voting: bool,
}

impl Running {
    /// The epoch the engine is in, and whether it votes in it.
    pub fn epoch(&self) -> EpochStatus {
        *self.status.lock()
    }

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
    // Simplex's channels carry one subchannel per epoch: its payloads get
    // the subchannel prefix.
    let consensus = commonware_p2p::utils::mux::prefixed(
        simplex::max_payload_size::<Scheme, Digest>(participants),
    );
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

/// The partition of `epoch`'s simplex journal for a validator whose
/// partitions start with `prefix`. Epoch 0 keeps the name of the chains
/// that ran one epoch. Every epoch's engine has its own journal, removed
/// once the epoch is over and its last block durably processed, so only
/// the current epoch's (and, for a moment after a boundary, the one before)
/// exists.
pub(super) fn journal_partition(prefix: &str, epoch: u64) -> String {
    match epoch {
        0 => format!("{prefix}-simplex"),
        _ => format!("{prefix}-simplex-{epoch}"),
    }
}

/// Removes the simplex journal of `epoch`, a past epoch whose last block
/// marshal has durably processed (see [`journal_partition`]). An epoch
/// this validator did not vote in has none.
async fn remove_journal<E: RuntimeStorage>(storage: &E, prefix: &str, epoch: u64) {
    let partition = journal_partition(prefix, epoch);
    match storage.remove(&partition, None).await {
        Ok(()) => tracing::debug!(epoch, partition, "removed a past epoch's journal"),
        Err(commonware_runtime::Error::PartitionMissing(_)) => {}
        // Only disk space is lost: the journal is never opened again.
        Err(error) => {
            tracing::warn!(epoch, partition, %error, "cannot remove a past epoch's journal")
        }
    }
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
/// `config.partition_prefix` and runs marshal, the executor and one
/// simplex engine per epoch (see the [module documentation](super)) on
/// `channels`, all under one supervised root task. `config`'s committee is
/// epoch 0's; later epochs' come from [`Executor::committee`]. `blocker`
/// blocks misbehaving peers; `peers` tells marshal's resolver and broadcast
/// whom to ask (the validators of the epochs being synced).
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
    if let Some(share) = &config.share {
        if commonware_utils::ordered::Quorum::index(&config.participants, &me).is_none() {
            return Err(EngineError::InvalidConfig(
                "this identity is not in the committee".into(),
            ));
        }
        if Scheme::signer(
            &namespace,
            config.participants.clone(),
            config.sharing.clone(),
            share.clone(),
        )
        .is_none()
        {
            return Err(EngineError::InvalidConfig(
                "the share does not belong to this committee".into(),
            ));
        }
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
    let status = Arc::new(Mutex::new(EpochStatus::default()));
    let reported = status.clone();
    let root = context.spawn(move |context| async move {
        if let Err(error) = run(
            context,
            config,
            channels,
            blocker,
            peers,
            fetch_timeout,
            monitor,
            reported,
        )
        .await
        {
            tracing::error!(%error, "validator stopped");
        }
    });
    Ok(Running {
        root,
        faults,
        status,
    })
}

/// Wires and runs the validator; returns when marshal stops delivering
/// finalized blocks.
#[allow(clippy::too_many_arguments)]
async fn run<E, X, S, R, B, P>(
    context: E,
    config: Config<X>,
    channels: Channels<S, R>,
    blocker: B,
    peers: P,
    fetch_timeout: NonZeroDuration,
    faults: FaultMonitor,
    status: Arc<Mutex<EpochStatus>>,
) -> Result<(), EngineError>
where
    E: Clock + CryptoRng + Spawner + RuntimeStorage + Metrics,
    X: Executor,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
    B: Blocker<PublicKey = ed25519::PublicKey>,
    P: Provider<PublicKey = ed25519::PublicKey>,
{
    let me = config.identity.public_key();
    let timing = config.timing.clone();
    let storage = config.storage.clone();
    let max_block_bytes = config.max_block_bytes.min(MAX_BLOCK_BYTES);
    let genesis = Hash::new(*config.chain_id.as_bytes());
    let anchor = ConsensusBlock::anchor(genesis);
    let anchor_digest = anchor.digest();
    let prefix = config.partition_prefix.clone();
    let namespace = namespace(&config.chain_id);
    let epocher = LedgerEpocher::new(config.epoch_length);

    // One page cache for every journal and archive of this validator.
    let page_cache = CacheRef::new(PAGE_SIZE, storage.page_cache_pages);
    let buffer = storage.buffer_bytes;

    // Marshal's finalized archives (index on disk, not in memory).
    let archive = |name: &str| ArchiveNames::new(&prefix, name);
    // The threshold scheme's certificate codec configuration is `()`.
    #[allow(clippy::unit_arg)]
    let finalizations_by_height = immutable::Archive::init(
        context.child("finalizations_by_height"),
        archive("finalizations-by-height").config(
            Scheme::certificate_codec_config_unbounded(),
            &page_cache,
            &storage,
        ),
    )
    .await
    .map_err(|e| EngineError::InvalidConfig(format!("finalizations archive: {e}")))?;
    let finalized_blocks = immutable::Archive::init(
        context.child("finalized_blocks"),
        archive("finalized-blocks").config(max_block_bytes, &page_cache, &storage),
    )
    .await
    .map_err(|e| EngineError::InvalidConfig(format!("blocks archive: {e}")))?;

    // Marshal: certificates of any epoch verify under the group key, which
    // resharing keeps; the epochs entered here also have their full scheme.
    let schemes = EpochSchemes::new(Scheme::certificate_verifier(
        &namespace,
        *config.sharing.public(),
    ));
    let marshal_config = marshal::Config {
        provider: schemes.clone(),
        epocher,
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

    // Marshal → the epoch loop below (executor, epoch changes, ack).
    let executor = Arc::new(Mutex::new(config.executor));
    let (updates, mut inbox) = mpsc::unbounded_channel();
    actor.start(FinalizerInbox { sender: updates }, block_buffer, resolver);
    // Equivocation evidence: simplex's reporter → executor.
    let (evidence, evidence_inbox) = mpsc::unbounded_channel();
    let faults = faults.forwarding(evidence);
    {
        let executor = executor.clone();
        context
            .child("evidence")
            .spawn(move |_| run_evidence(executor, evidence_inbox));
    }

    // The application behind Deferred (one for every epoch).
    let app = App {
        executor: executor.clone(),
        chain_id: config.chain_id,
        genesis,
        genesis_time_ms: config.genesis_time_ms,
        me: me.clone(),
        max_skew: timing.max_skew,
        clock: config.clock_skew.clone(),
        max_block_interval: timing.max_block_interval,
        pacing_poll: timing.pacing_poll,
    };
    let deferred = Deferred::new(
        context.child("application"),
        app,
        marshal_mailbox.clone(),
        epocher,
    );

    // Simplex's channels carry one subchannel per epoch, so no message of
    // one epoch's engine reaches another's. A vote or certificate of an
    // epoch with no engine here goes to the backup queue: from a later
    // epoch, it tells that its sender is ahead.
    let (votes_mux, votes, votes_backup) = Muxer::builder(
        context.child("votes_mux"),
        channels.votes.0,
        channels.votes.1,
    )
    .with_backup()
    .build();
    let (certificates_mux, certificates, certificates_backup) = Muxer::builder(
        context.child("certificates_mux"),
        channels.certificates.0,
        channels.certificates.1,
    )
    .with_backup()
    .build();
    let (resolver_mux, resolver) = Muxer::new(
        context.child("resolver_mux"),
        channels.resolver.0,
        channels.resolver.1,
    );
    votes_mux.start();
    certificates_mux.start();
    resolver_mux.start();
    let current = Arc::new(AtomicU64::new(0));
    for (name, backup) in [
        ("votes_hints", votes_backup),
        ("certificates_hints", certificates_backup),
    ] {
        let current = current.clone();
        let marshal = marshal_mailbox.clone();
        context
            .child(name)
            .spawn(move |_| run_hints(backup, current, epocher, marshal));
    }

    // The epoch to resume in: the one of the first height marshal has not
    // delivered yet.
    let processed = marshal_mailbox
        .get_processed()
        .await
        .map_or(0, |processed| processed.height().get());
    let epoch = epocher
        .containing(Height::new(processed.saturating_add(1)))
        .map_or(0, |info| info.epoch().get());
    let genesis_committee = EpochCommittee {
        participants: config.participants,
        sharing: config.sharing,
        share: config.share,
    };
    let mut epochs = Epochs {
        context: context.child("epochs"),
        votes,
        certificates,
        resolver,
        blocker,
        deferred,
        faults,
        schemes,
        namespace,
        me,
        timing,
        storage,
        page_cache,
        prefix,
        current,
        committee: genesis_committee,
        engine: None,
        status,
    };
    // A crash after the last block of the epoch before was processed
    // (durably: marshal read it back) and before its journal was removed
    // leaves that journal behind; its engine never runs again.
    if let Some(previous) = epoch.checked_sub(1) {
        remove_journal(&epochs.context, &epochs.prefix, previous).await;
    }
    let (members, floor) = if epoch == 0 {
        (EpochMembers::Unchanged, anchor_digest)
    } else {
        let boundary = epocher
            .last(Epoch::new(epoch - 1))
            .ok_or_else(|| EngineError::InvalidConfig(format!("no epoch {epoch}")))?;
        let Some(block) = marshal_mailbox.get_block(boundary).await else {
            return Err(EngineError::InvalidConfig(format!(
                "the last block of epoch {} (engine height {boundary}) is not in the archive: restore the validator's storage or start it afresh",
                epoch - 1
            )));
        };
        (executor.lock().committee(epoch), block.digest())
    };
    epochs.enter(epoch, members, floor).await;

    // Finalized blocks, in height order: apply, enter the next epoch after
    // the last block of one, then acknowledge.
    while let Some(update) = inbox.recv().await {
        let Update::Block(block, ack) = update else {
            continue;
        };
        let delivered = epochs.context.current();
        deliver_finalized(&epochs.context, &executor, &marshal_mailbox, &block).await;
        let height = block.height();
        tracing::debug!(
            target: LATENCY,
            height = height.get().saturating_sub(1),
            applied_us = micros(delivered, epochs.context.current()),
            "finalized block applied"
        );
        let current = epochs.current.load(Ordering::Acquire);
        let ends_epoch = epocher.last(Epoch::new(current)) == Some(height);
        if ends_epoch {
            let next = current.saturating_add(1);
            let members = executor.lock().committee(next);
            epochs.enter(next, members, block.digest()).await;
        }
        ack.acknowledge();
        // The epoch's engine has stopped and its last block is applied;
        // once marshal has durably recorded it as processed, a restart
        // resumes in the next epoch and the journal is never read again.
        if ends_epoch {
            if wait_processed(&epochs.context, &marshal_mailbox, height).await {
                remove_journal(&epochs.context, &epochs.prefix, current).await;
            } else {
                tracing::warn!(
                    epoch = current,
                    "marshal does not report the epoch's last block processed: its journal stays"
                );
            }
        }
    }
    Ok(())
}

/// How often, and how many times, the finalizer asks marshal whether an
/// acknowledged boundary block is recorded as processed (a second of the
/// runtime's clock: marshal answers at once unless it has stopped).
const PROCESSED_POLL: Duration = Duration::from_millis(1);
const PROCESSED_POLLS: u32 = 1_000;

/// Whether marshal reports `height` processed, asking until it does (at
/// most [`PROCESSED_POLLS`] times). Marshal syncs its processed height
/// before it handles its next message, so once it reports `height` a
/// restart cannot resume below it. Finalized blocks are not taken
/// meanwhile (marshal handles the acknowledgement on its own), so at most
/// one past epoch's journal is ever waiting for removal.
async fn wait_processed<E: Clock>(
    context: &E,
    marshal: &Mailbox<Scheme, Standard<ConsensusBlock>>,
    height: Height,
) -> bool {
    for _ in 0..PROCESSED_POLLS {
        if marshal
            .get_processed()
            .await
            .is_some_and(|processed| processed.height() >= height)
        {
            return true;
        }
        context.sleep(PROCESSED_POLL).await;
    }
    false
}

/// The most epochs one hint skips ahead of this validator's epoch. A
/// hint names the epoch its sender says it is in, which only the
/// sender's channel vouches for: capping the jump bounds the heights a
/// lying peer can make marshal fetch (from that peer alone, which answers
/// with nothing a forged certificate could pass) to this many per epoch
/// of ours, while an honest hint far ahead still brings this validator
/// this many epochs closer at once.
const MAX_HINT_EPOCHS: u64 = 64;

/// Asks marshal for the last block before the epoch of a simplex message
/// from a later epoch than this validator's (its sender has finalized
/// it), at most [`MAX_HINT_EPOCHS`] epochs ahead. Marshal fetches that
/// block's finalization from the sender, verifies it under the group key
/// and backfills every block below it, so a validator that missed several
/// boundaries (or follows without an engine) goes straight to the epoch
/// the network is in, entering each epoch in between as its blocks are
/// delivered.
async fn run_hints(
    mut backup: mpsc::Receiver<(u64, commonware_p2p::Message<ed25519::PublicKey>)>,
    current: Arc<AtomicU64>,
    epocher: LedgerEpocher,
    marshal: Mailbox<Scheme, Standard<ConsensusBlock>>,
) {
    while let Some((their_epoch, (from, _))) = backup.recv().await {
        let ours = current.load(Ordering::Acquire);
        if their_epoch <= ours {
            continue;
        }
        let target = (their_epoch - 1).min(ours.saturating_add(MAX_HINT_EPOCHS));
        if let Some(boundary) = epocher.last(Epoch::new(target)) {
            marshal.hint_finalized(boundary, NonEmptyVec::new(from));
        }
    }
}

/// The simplex engine of the current epoch and what it takes to start the
/// next one.
struct Epochs<E, S, B, X>
where
    E: Clock + CryptoRng + Spawner + RuntimeStorage + Metrics,
    S: Sender<PublicKey = ed25519::PublicKey>,
    B: Blocker<PublicKey = ed25519::PublicKey>,
    X: Executor,
{
    context: E,
    votes: MuxHandle<S>,
    certificates: MuxHandle<S>,
    resolver: MuxHandle<S>,
    blocker: B,
    deferred: Deferred<E, Scheme, App<X>, ConsensusBlock, LedgerEpocher>,
    faults: FaultMonitor,
    schemes: EpochSchemes,
    namespace: Vec<u8>,
    me: ed25519::PublicKey,
    timing: super::Timing,
    storage: super::Storage,
    page_cache: CacheRef,
    prefix: String,
    /// The epoch entered last (read by the hint tasks).
    current: Arc<AtomicU64>,
    /// The committee of the epoch entered last (kept for
    /// [`EpochMembers::Unchanged`]).
    committee: EpochCommittee,
    /// The running engine, if this validator votes in the current epoch.
    engine: Option<Handle<()>>,
    /// What [`Running::epoch`] reports.
    status: Arc<Mutex<EpochStatus>>,
}

impl<E, S, B, X> Epochs<E, S, B, X>
where
    E: Clock + CryptoRng + Spawner + RuntimeStorage + Metrics,
    S: Sender<PublicKey = ed25519::PublicKey>,
    B: Blocker<PublicKey = ed25519::PublicKey>,
    X: Executor,
{
    /// Enters `epoch` with `members`, its simplex starting from the block
    /// whose digest is `floor` (the anchor, or the last block of the epoch
    /// before): starts its engine if this validator holds a share of it,
    /// then stops the previous epoch's engine.
    async fn enter(&mut self, epoch: u64, members: EpochMembers, floor: Digest) {
        self.current.store(epoch, Ordering::Release);
        let scheme = match members {
            EpochMembers::Unchanged => self.signer(),
            EpochMembers::Known(committee) => {
                self.committee = committee;
                self.signer()
            }
            EpochMembers::Unknown => {
                tracing::warn!(
                    epoch,
                    "the epoch's committee is not known here: following only"
                );
                None
            }
        };
        let previous = self.engine.take();
        if let Some(scheme) = scheme {
            self.schemes.enter(epoch, scheme.clone());
            match self.start_engine(epoch, scheme, floor).await {
                Ok(handle) => self.engine = Some(handle),
                Err(error) => tracing::error!(epoch, %error, "cannot start the epoch's engine"),
            }
        } else if let Some(verifier) = self.verifier() {
            self.schemes.enter(epoch, verifier);
        }
        if let Some(previous) = previous {
            // Its subchannels close with it: the old epoch's messages go to
            // the backup queue from now on.
            previous.abort();
        }
        let voting = self.engine.is_some();
        *self.status.lock() = EpochStatus { epoch, voting };
        tracing::info!(
            epoch,
            participants = self.committee.participants.len(),
            voting,
            "entered epoch"
        );
    }

    /// Whether the current committee's sharing fits its participants (the
    /// schemes assert it).
    fn consistent(&self) -> bool {
        let sharing = &self.committee.sharing;
        let participants = &self.committee.participants;
        sharing.total().get() as usize == participants.len()
            && sharing.required() == participants.quorum::<N3f1>()
    }

    /// This validator's signing scheme of the current committee, if it
    /// holds a share of it at its own index.
    fn signer(&self) -> Option<Scheme> {
        if !self.consistent() {
            tracing::error!("the epoch's sharing does not fit its participants");
            return None;
        }
        let committee = &self.committee;
        let share = committee.share.clone()?;
        let index = Quorum::index(&committee.participants, &self.me)?;
        if share.index != index {
            tracing::error!("this validator's share is not at its index in the committee");
            return None;
        }
        Scheme::signer(
            &self.namespace,
            committee.participants.clone(),
            committee.sharing.clone(),
            share,
        )
    }

    /// A verifier of the current committee's votes (for marshal's
    /// notarized backfill on an epoch this validator does not vote in).
    fn verifier(&self) -> Option<Scheme> {
        self.consistent().then(|| {
            Scheme::verifier(
                &self.namespace,
                self.committee.participants.clone(),
                self.committee.sharing.clone(),
            )
        })
    }

    /// Starts `epoch`'s simplex with `scheme` on the epoch's subchannels.
    async fn start_engine(
        &mut self,
        epoch: u64,
        scheme: Scheme,
        floor: Digest,
    ) -> Result<Handle<()>, EngineError> {
        let subchannel = |e: commonware_p2p::utils::mux::Error| {
            EngineError::InvalidConfig(format!("epoch {epoch}'s p2p subchannel: {e}"))
        };
        let votes = self.votes.register(epoch).await.map_err(subchannel)?;
        let certificates = self
            .certificates
            .register(epoch)
            .await
            .map_err(subchannel)?;
        let resolver = self.resolver.register(epoch).await.map_err(subchannel)?;
        let timing = &self.timing;
        let storage = &self.storage;
        let fetch_timeout = non_zero(timing.fetch_timeout)?;
        let partition = journal_partition(&self.prefix, epoch);
        let engine = simplex::Engine::new(
            self.context.child("simplex").with_attribute("epoch", epoch),
            simplex::Config {
                scheme,
                elector: super::leaders::elector_config(),
                blocker: self.blocker.clone(),
                automaton: self.deferred.clone(),
                relay: self.deferred.clone(),
                reporter: Reporters::from((self.deferred.clone(), self.faults.clone())),
                strategy: Sequential,
                partition,
                mailbox_size: storage.mailbox_size,
                epoch: Epoch::new(epoch),
                floor: Floor::Genesis(floor),
                replay_buffer: storage.buffer_bytes,
                write_buffer: storage.buffer_bytes,
                page_cache: self.page_cache.clone(),
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
                // Keep every vote until its round leaves the retention
                // window, not only until the view's certificate: otherwise a
                // conflicting vote that arrives after the certificate (an
                // equivocating twin whose link came up late) is blocked
                // without being reported, and the offence goes unpunished.
                // A few dozen votes per view.
                track_historical_votes: true,
            },
        );
        Ok(engine.start(votes, certificates, resolver))
    }
}
