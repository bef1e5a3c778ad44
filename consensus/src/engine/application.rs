//! The commonware `Application` (propose / verify), the finalizer that
//! hands finalized blocks to the [`Executor`], and the fault monitor.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use commonware_actor::Feedback;
use commonware_consensus::marshal::Update;
use commonware_consensus::marshal::ancestry::Ancestry;
use commonware_consensus::marshal::core::Mailbox;
use commonware_consensus::marshal::standard::Standard;
use commonware_consensus::{Application, Heightable as _, Reporter};
use commonware_cryptography::{Digested, ed25519};
use commonware_runtime::Clock;
use commonware_utils::channel::mpsc;
use commonware_utils::sync::Mutex;
use futures_util::StreamExt as _;
use wallet::{ChainId, PublicKey};

use super::block::{ConsensusBlock, Kind};
use super::light::FinalityProof;
use super::{Activity, ConsensusContext, Executor, Scheme};
use crate::block::{Block, BlockTemplate, FIRST_BLOCK_HEIGHT};
use crate::hash::{BlockHash, Hash};
use crate::tx::Equivocation;

/// Milliseconds since the Unix epoch on the runtime clock (a validator
/// reads its own through [`ClockSkew`]).
pub(crate) fn now_ms(clock: &impl Clock) -> u64 {
    clock
        .current()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis().min(u128::from(u64::MAX)) as u64)
        .unwrap_or(0)
}

/// `ms` shifted by `by` milliseconds, saturating at both ends.
fn shift(ms: u64, by: i64) -> u64 {
    if by >= 0 {
        ms.saturating_add(by.unsigned_abs())
    } else {
        ms.saturating_sub(by.unsigned_abs())
    }
}

/// A validator's wall clock: the runtime's clock shifted by a signed
/// offset in milliseconds (the clock's error). Only readings of the wall
/// clock move — the timestamp a proposal is stamped with, the bound on how
/// far ahead a proposal's timestamp may be, and proposal pacing — while
/// durations (timeouts, sleeps) run at the runtime's rate, as on a machine
/// whose clock is set wrong.
///
/// A node runs with the default, zero: its clock is the operating
/// system's, right or wrong. The simulations give validators offsets, and
/// step them while they run ([`ClockSkew::set`]), to inject clock skew.
/// Clones share the offset.
#[derive(Clone, Debug, Default)]
pub struct ClockSkew(Arc<AtomicI64>);

impl ClockSkew {
    /// A clock `offset_ms` ahead of the runtime's (behind if negative).
    pub fn new(offset_ms: i64) -> ClockSkew {
        ClockSkew(Arc::new(AtomicI64::new(offset_ms)))
    }

    /// Steps the clock: from now on it is `offset_ms` ahead.
    pub fn set(&self, offset_ms: i64) {
        self.0.store(offset_ms, Ordering::Relaxed);
    }

    /// How far ahead of the runtime's clock this clock is, in ms.
    pub fn offset_ms(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Milliseconds since the Unix epoch on this clock.
    pub(crate) fn now_ms(&self, runtime: &impl Clock) -> u64 {
        shift(now_ms(runtime), self.offset_ms())
    }

    /// Sleeps on the runtime until this clock reads `at_ms`.
    pub(crate) async fn sleep_until_ms(&self, runtime: &impl Clock, at_ms: u64) {
        let at = shift(at_ms, self.offset_ms().saturating_neg());
        runtime
            .sleep_until(UNIX_EPOCH + Duration::from_millis(at))
            .await;
    }
}

/// The `tracing` target of the latency events (debug level; transaction
/// hashes at trace): each proposal, verification, certificate and
/// finalized block with its view or height here, and the node's hops
/// (submission, gossip, ledger, events), so one run's logs show where a
/// bet's time went (`scripts/latency-breakdown`).
pub const LATENCY: &str = "bitcraps::latency";

/// Microseconds from `from` to `to` on the runtime clock (0 if backwards).
pub(crate) fn micros(from: SystemTime, to: SystemTime) -> u64 {
    to.duration_since(from)
        .map(|d| d.as_micros().min(u128::from(u64::MAX)) as u64)
        .unwrap_or(0)
}

/// The commonware application: builds and verifies [`ConsensusBlock`]s,
/// delegating the ledger's part to the [`Executor`].
pub(crate) struct App<X> {
    pub(crate) executor: Arc<Mutex<X>>,
    pub(crate) chain_id: ChainId,
    pub(crate) genesis: BlockHash,
    pub(crate) genesis_time_ms: u64,
    pub(crate) me: ed25519::PublicKey,
    pub(crate) max_skew: Duration,
    /// This validator's wall clock (the runtime's, shifted).
    pub(crate) clock: ClockSkew,
    /// Proposal pacing (see the engine's module documentation).
    pub(crate) max_block_interval: Duration,
    pub(crate) pacing_poll: Duration,
}

impl<X> Clone for App<X> {
    fn clone(&self) -> Self {
        App {
            executor: self.executor.clone(),
            chain_id: self.chain_id,
            genesis: self.genesis,
            genesis_time_ms: self.genesis_time_ms,
            me: self.me.clone(),
            max_skew: self.max_skew,
            clock: self.clock.clone(),
            max_block_interval: self.max_block_interval,
            pacing_poll: self.pacing_poll,
        }
    }
}

/// A duration in whole milliseconds, saturating.
fn millis(duration: Duration) -> u64 {
    duration.as_millis().min(u128::from(u64::MAX)) as u64
}

/// The wallet form of a consensus identity (both are ed25519, 32 bytes).
pub(crate) fn wallet_key(key: &ed25519::PublicKey) -> Option<PublicKey> {
    let bytes: &[u8] = key.as_ref();
    let bytes: [u8; PublicKey::LENGTH] = bytes.try_into().ok()?;
    PublicKey::from_bytes(&bytes).ok()
}

impl<X: Executor> App<X> {
    /// Proposal pacing: waits on this validator's clock until the executor has
    /// work for a block on `parent`, or until `max_block_interval` after
    /// the parent's timestamp (`parent_time`, ms), whichever comes first.
    /// The deadline is never more than one interval from now, so a parent
    /// stamped by a clock ahead of ours cannot hold the proposal up.
    async fn pace(&self, runtime: &impl Clock, parent: Option<&Block>, parent_time: u64) {
        let interval = millis(self.max_block_interval);
        if interval == 0 {
            return;
        }
        let poll = millis(self.pacing_poll).max(1);
        let start = self.clock.now_ms(runtime);
        let deadline = parent_time
            .saturating_add(interval)
            .min(start.saturating_add(interval));
        loop {
            let now = self.clock.now_ms(runtime);
            if now >= deadline || self.executor.lock().has_work(parent, now) {
                return;
            }
            let wake = now.saturating_add(poll).min(deadline);
            self.clock.sleep_until_ms(runtime, wake).await;
        }
    }

    /// The parent's header facts: (height of the child, parent's timestamp).
    fn child_height_and_parent_time(&self, parent: Option<&Block>) -> Option<(u64, u64)> {
        match parent {
            None => Some((FIRST_BLOCK_HEIGHT, self.genesis_time_ms)),
            Some(parent) => Some((
                parent.header.height.checked_add(1)?,
                parent.header.timestamp_ms,
            )),
        }
    }

    /// The stateless rules between a proposed block, its context and its
    /// parent (see the module documentation of `engine`).
    pub(super) fn check_stateless(
        &self,
        context: &ConsensusContext,
        parent: &ConsensusBlock,
        block: &Block,
    ) -> bool {
        let header = &block.header;
        let Some(leader) = wallet_key(&context.leader) else {
            return false;
        };
        if header.proposer != leader {
            return false;
        }
        // Views restart in every epoch, so they increase only within one.
        let parent_in_epoch = match parent.kind() {
            Kind::Proposed {
                context: parent_context,
                block: parent_block,
            } if parent_context.round.epoch() == context.round.epoch() => {
                Some(&parent_block.header)
            }
            _ => None,
        };
        if let Err(error) = header.check_view(context.round.view().get(), parent_in_epoch) {
            tracing::debug!(%error, height = header.height, "proposal refused");
            return false;
        }
        match parent.kind() {
            Kind::Anchor(genesis) => {
                if *genesis != self.genesis
                    || header.chain_id != self.chain_id
                    || header.height != FIRST_BLOCK_HEIGHT
                    || header.parent != self.genesis
                    || header.timestamp_ms <= self.genesis_time_ms
                {
                    return false;
                }
            }
            Kind::Proposed { block: parent, .. } => {
                if header.check_extends(&parent.header).is_err() {
                    return false;
                }
            }
        }
        block.check(&self.chain_id).is_ok()
    }
}

impl<E, X> Application<E> for App<X>
where
    E: Clock + Send + Sync + 'static,
    X: Executor,
{
    type SigningScheme = Scheme;
    type Context = ConsensusContext;
    type Block = ConsensusBlock;
    type Input = ();

    async fn propose(
        &mut self,
        (runtime, context): (E, ConsensusContext),
        mut ancestry: impl Ancestry<ConsensusBlock>,
        _input: (),
    ) -> Option<Digested<ConsensusBlock>> {
        let parent = ancestry.next().await?;
        let parent_block = parent.inner().block();
        let (height, parent_time) = self.child_height_and_parent_time(parent_block)?;
        let started = runtime.current();
        self.pace(&runtime, parent_block, parent_time).await;
        let paced = runtime.current();
        let timestamp_ms = self.clock.now_ms(&runtime).max(parent_time.checked_add(1)?);
        let template = BlockTemplate {
            chain_id: self.chain_id,
            height,
            view: context.round.view().get(),
            parent: parent.inner().block_hash(),
            timestamp_ms,
            proposer: wallet_key(&self.me)?,
            parent_state_root: Hash::ZERO,
        };
        let block = self
            .executor
            .lock()
            .propose(parent_block, template.clone())?;
        let header = &block.header;
        if header.chain_id != template.chain_id
            || header.height != template.height
            || header.view != template.view
            || header.parent != template.parent
            || header.timestamp_ms != template.timestamp_ms
            || header.proposer != template.proposer
        {
            tracing::warn!(height, "executor built a block off its template; skipping");
            return None;
        }
        tracing::debug!(
            target: LATENCY,
            view = context.round.view().get(),
            height,
            txs = block.transactions.len(),
            paced_us = micros(started, paced),
            built_us = micros(paced, runtime.current()),
            "proposed"
        );
        let block = ConsensusBlock::proposed(context, block);
        let digest = commonware_cryptography::Digestible::digest(&block);
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(
        &mut self,
        (runtime, context): (E, ConsensusContext),
        mut ancestry: impl Ancestry<ConsensusBlock>,
    ) -> bool {
        let entered = runtime.current();
        // Marshal's stream yields the proposed block, then its parent.
        let Some(proposed) = ancestry.next().await else {
            return false;
        };
        let Some(parent) = ancestry.next().await else {
            return false;
        };
        let Kind::Proposed {
            context: embedded,
            block,
        } = proposed.inner().kind()
        else {
            return false;
        };
        let fetched = runtime.current();
        if *embedded != context || !self.check_stateless(&context, parent.inner(), block) {
            return false;
        }
        let checked = runtime.current();
        // A block from the future is waited for, not rejected: the verdict
        // must not depend on this node's clock.
        let skew_ms = millis(self.max_skew);
        let ready_at = block.header.timestamp_ms.saturating_sub(skew_ms);
        if ready_at > self.clock.now_ms(&runtime) {
            self.clock.sleep_until_ms(&runtime, ready_at).await;
        }
        let started = runtime.current();
        let mut executor = self.executor.lock();
        let locked = runtime.current();
        let verdict = executor.verify(parent.inner().block(), block);
        drop(executor);
        tracing::debug!(
            target: LATENCY,
            view = context.round.view().get(),
            height = block.header.height,
            txs = block.transactions.len(),
            verdict,
            fetch_us = micros(entered, fetched),
            check_us = micros(fetched, checked),
            lock_us = micros(started, locked),
            verified_us = micros(locked, runtime.current()),
            "verified"
        );
        verdict
    }
}

/// Marshal's reporter: forwards finalized blocks to the finalizer task.
/// Marshal has at most `max_pending_acks` blocks unacknowledged, which bounds
/// this queue.
#[derive(Clone)]
pub(crate) struct FinalizerInbox {
    pub(crate) sender: mpsc::UnboundedSender<Update<ConsensusBlock>>,
}

impl Reporter for FinalizerInbox {
    type Activity = Update<ConsensusBlock>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match activity {
            Update::Tip(..) => Feedback::Ok,
            block @ Update::Block(..) => match self.sender.send(block) {
                Ok(()) => Feedback::Ok,
                Err(_) => Feedback::Closed,
            },
        }
    }
}

/// Hands a finalized block, with its encoded finalization, to the
/// executor (the caller acknowledges it to marshal afterwards).
pub(crate) async fn deliver_finalized<X: Executor>(
    runtime: &impl Clock,
    executor: &Arc<Mutex<X>>,
    marshal: &Mailbox<Scheme, Standard<ConsensusBlock>>,
    block: &Digested<ConsensusBlock>,
) {
    if let (Some(inner), Some(context)) = (block.inner().block(), block.inner().consensus_context())
    {
        let entered = runtime.current();
        // Marshal stores a finalization for a block finalized by its own
        // certificate; a block finalized through a descendant's
        // certificate has none.
        let proof = marshal
            .get_finalization(block.height())
            .await
            .map(|finalization| {
                FinalityProof {
                    context: context.clone(),
                    finalization,
                }
                .to_bytes()
            });
        let fetched = runtime.current();
        let mut executor = executor.lock();
        let locked = runtime.current();
        executor.finalized(inner, proof.as_deref());
        drop(executor);
        tracing::debug!(
            target: LATENCY,
            height = inner.header.height,
            proof_us = micros(entered, fetched),
            lock_us = micros(fetched, locked),
            apply_us = micros(locked, runtime.current()),
            "finalized block delivered"
        );
    }
}

/// Evidence of faults simplex reported to this validator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Conflicting notarize votes (one signer, one view, two proposals).
    pub conflicting_notarize: u64,
    /// Conflicting finalize votes.
    pub conflicting_finalize: u64,
    /// A nullify and a finalize vote from one signer in one view.
    pub nullify_finalize: u64,
    /// Finalization certificates seen.
    pub finalizations: u64,
    /// Nullification certificates seen (views skipped: a leader silent,
    /// or its proposal not certified, within the timeouts).
    pub nullifications: u64,
}

impl Faults {
    /// Whether any equivocation was seen.
    pub fn any(&self) -> bool {
        self.conflicting_notarize + self.conflicting_finalize + self.nullify_finalize > 0
    }
}

/// A simplex reporter that counts evidence of equivocation (and
/// finalizations); the engine runs one per validator next to marshal and
/// hands each piece of evidence to the executor
/// ([`Executor::equivocation`]), which turns it into a slashing
/// transaction.
#[derive(Clone, Default)]
pub struct FaultMonitor {
    faults: Arc<Mutex<Faults>>,
    /// Where evidence goes: the engine's task that calls the executor
    /// (`None` for the copy that only reads the counts).
    evidence: Option<mpsc::UnboundedSender<Equivocation>>,
}

impl FaultMonitor {
    /// What has been seen so far.
    pub fn faults(&self) -> Faults {
        self.faults.lock().clone()
    }

    /// A reporter sharing these counts that also sends each piece of
    /// evidence to `evidence`.
    pub(crate) fn forwarding(&self, evidence: mpsc::UnboundedSender<Equivocation>) -> FaultMonitor {
        FaultMonitor {
            faults: self.faults.clone(),
            evidence: Some(evidence),
        }
    }
}

impl Reporter for FaultMonitor {
    type Activity = Activity;

    fn report(&mut self, activity: Activity) -> Feedback {
        {
            let mut faults = self.faults.lock();
            match activity {
                Activity::ConflictingNotarize(_) => faults.conflicting_notarize += 1,
                Activity::ConflictingFinalize(_) => faults.conflicting_finalize += 1,
                Activity::NullifyFinalize(_) => faults.nullify_finalize += 1,
                Activity::Finalization(_) => faults.finalizations += 1,
                Activity::Nullification(_) => faults.nullifications += 1,
                _ => {}
            }
        }
        if tracing::enabled!(target: LATENCY, tracing::Level::DEBUG) {
            let (event, view) = match &activity {
                Activity::Notarization(n) => ("notarized", n.proposal.round.view().get()),
                Activity::Certification(n) => ("certified", n.proposal.round.view().get()),
                Activity::Finalization(f) => ("finalized", f.proposal.round.view().get()),
                Activity::Nullification(n) => ("nullified", n.round.view().get()),
                _ => ("", 0),
            };
            if !event.is_empty() {
                tracing::debug!(target: LATENCY, view, event, "certificate");
            }
        }
        if let (Some(sender), Some(evidence)) =
            (&self.evidence, Equivocation::from_activity(&activity))
        {
            // Reporting must not block simplex: the queue is unbounded, and
            // fed only by equivocation, at most a few reports per
            // participant and view.
            let _ = sender.send(evidence);
        }
        Feedback::Ok
    }
}

/// Hands each piece of equivocation evidence to the executor.
pub(crate) async fn run_evidence<X: Executor>(
    executor: Arc<Mutex<X>>,
    mut evidence: mpsc::UnboundedReceiver<Equivocation>,
) {
    while let Some(evidence) = evidence.recv().await {
        executor.lock().equivocation(evidence);
    }
}
