//! # The validator application
//!
//! [`ValidatorApp`] is the [`Executor`] a validator runs behind the BFT
//! engine ([`crate::engine`]). It binds the finalized [`Ledger`] (shared
//! with the node's API as a [`SharedLedger`]), this validator's beacon
//! share ([`BeaconSigner`]), the beacon shares collected from peers
//! ([`BeaconPool`]), the mempool ([`TransactionSource`]) and whoever wants
//! to know about finalized blocks ([`FinalizedSink`]).
//!
//! ## Speculative state, one copy per block
//!
//! Simplex asks a validator to build on, and to verify blocks extending,
//! *notarized* blocks that are not final yet. Each such block's post-state
//! is cached by block hash: an in-memory [`Ledger`] forked from its
//! parent's post-state with the block applied. The post-state of the
//! finalized head is the *mirror*, an in-memory copy of the durable ledger
//! kept at the same height. So:
//!
//! - **propose** on parent `P`: fork `P`'s post-state (or the mirror), set
//!   `parent_state_root`, take mempool transactions not already in the
//!   unfinalized branch, add the beacon entries the state waits for whose σ
//!   the pool has recovered (in height order, up to the first missing one,
//!   so a crash round's ticks stay in order), apply the block to the fork —
//!   a proposal therefore never fails its own verification — and cache it;
//! - **verify** `B` on `P`: a cached `B` is valid; otherwise apply `B` to a
//!   fork of `P`'s post-state: valid iff the ledger accepts it; cache it;
//! - **finalized** `B`: apply it durably to the shared ledger (a block
//!   already applied is a no-op, so redelivery after a restart is safe),
//!   make `B`'s cached post-state the new mirror (or apply `B` to the
//!   mirror if it was never seen here), drop cached states at or below `B`'s
//!   height, tell the mempool and the sink, and — if `B`'s height committed
//!   something that waits for randomness — sign this validator's beacon
//!   share of `(chain, epoch, height, B's hash)`, add it to the pool and
//!   hand it to the share gossip.
//!
//! - **equivocation** reported by the engine: checked against the chain's
//!   committee and, for a new offence by another validator, turned into a
//!   `SlashingEvidence` transaction signed with this validator's key and
//!   submitted to the [`TransactionSource`]; pursued until the offence is
//!   punished or the ledger refused it (`validator/slashing.rs`).
//!
//! Each call costs one copy of the state (not of the chain) plus the
//! block's execution. Shares are signed only here, after finality, only
//! for the finalized block at a height (see [`crate::beacon`] for why the
//! per-view VRF seed must never settle a bet).
//!
//! ## Limits
//!
//! - A block whose parent is neither the finalized head nor a block cached
//!   here (e.g. one notarized while this validator was down) cannot be
//!   built on or verified until that parent is finalized: the verdict is
//!   then `false` and the other validators carry the view.
//! - One sharing: epochs change (the ledger's staking epochs) but the
//!   genesis sharing signs every epoch; chain-driven resharing is not
//!   wired yet.

#[cfg(test)]
mod schedule;
#[cfg(test)]
mod sim;
mod slashing;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, RwLock};

use game_rules::crash::{Multiplier, Phase};
use wallet::Keypair;

use crate::beacon::{
    BeaconAggregator, BeaconError as ShareError, BeaconMessage, BeaconSigner, Misbehaviour,
    RecoveredBeacon, SignedBeaconShare, ThresholdBeaconVerifier,
};
use crate::block::{BeaconEntry, Block, BlockTemplate};
use crate::encoding::BoundedBytes;
use crate::engine::Executor;
use crate::hash::{BlockHash, TxHash};
use crate::ledger::{AppliedBlock, BlockOutcome, CrashTiming, Ledger, LedgerError, Play};
use crate::tx::{Equivocation, SignedTransaction};
use slashing::Slashing;

/// The finalized ledger, shared between the validator (which applies
/// finalized blocks) and readers (the node's API).
pub type SharedLedger = Arc<RwLock<Ledger>>;

/// The most cached post-states of unfinalized blocks. Simplex keeps few
/// notarized blocks above the finalized one; past this, the lowest heights
/// are dropped first (they are the likeliest to be final or abandoned).
pub const MAX_SPECULATIVE_STATES: usize = 64;

/// Where proposals take their transactions from (the mempool).
pub trait TransactionSource: Send + 'static {
    /// Up to `max` transactions to propose, in the order they should be
    /// included, with their signatures already checked; they stay in the
    /// source until finalized.
    fn candidates(&mut self, max: usize) -> Vec<SignedTransaction>;

    /// The transactions `included` in a finalized block: forget them.
    fn finalized(&mut self, included: &[TxHash]);

    /// Whether [`TransactionSource::candidates`] would return more than
    /// `n` transactions (the `n` being those already in the unfinalized
    /// branch, which stay in the source until finalized): proposal pacing
    /// asks this while the chain is idle, so it should be cheap. The
    /// default asks for `n + 1` candidates.
    fn more_than(&mut self, n: usize) -> bool {
        self.candidates(n.saturating_add(1)).len() > n
    }

    /// Adds `tx`, a transaction this validator made itself (a slashing
    /// transaction), so that it is proposed — here and, for a node's
    /// mempool, by the validators it is gossiped to. `finalized` is the
    /// finalized ledger, for the source's stateful checks (nonce, balance,
    /// fee). Its signature is valid.
    fn submit(
        &mut self,
        tx: SignedTransaction,
        finalized: &SharedLedger,
    ) -> Result<(), SubmitError>;
}

/// Why a [`TransactionSource`] did not take a transaction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the transaction source refused the transaction: {reason}")]
pub struct SubmitError {
    /// Why.
    pub reason: String,
}

/// Told about every finalized block once the shared ledger has applied it
/// (indexing, events, gossip to non-validators, metrics).
pub trait FinalizedSink: Send + 'static {
    /// `block` is final and applied. `proof` is its encoded
    /// [`crate::engine::FinalityProof`] when it was finalized by its own
    /// certificate; `applied` is `None` when the ledger had already applied
    /// it (a redelivery after a restart).
    fn finalized(&mut self, block: &Block, proof: Option<&[u8]>, applied: Option<&AppliedBlock>);

    /// Validators caught signing bad beacon shares, with signed evidence
    /// anyone can check ([`crate::beacon::BeaconEvidence::verify`]). Each
    /// piece is reported once. By default it is logged.
    fn misbehaviour(&mut self, evidence: Vec<Misbehaviour>) {
        for misbehaviour in evidence {
            tracing::warn!(%misbehaviour, "beacon share evidence");
        }
    }
}

impl FinalizedSink for () {
    fn finalized(&mut self, _: &Block, _: Option<&[u8]>, _: Option<&AppliedBlock>) {}
}

/// The beacon shares collected for the epochs still waiting on
/// randomness: one [`BeaconAggregator`] per epoch, all with the genesis
/// sharing (epochs change without resharing until chain-driven resharing
/// lands). Shared between the [`ValidatorApp`] (which adds its own shares
/// and reads recovered σ) and whatever receives peers' shares from the
/// network.
#[derive(Clone, Debug)]
pub struct BeaconPool {
    state: Arc<Mutex<PoolState>>,
}

#[derive(Debug)]
struct PoolState {
    /// By epoch, from the oldest still waiting to the newest seen.
    aggregators: BTreeMap<u64, BeaconAggregator>,
    /// The epoch of the last finalized block.
    latest: u64,
}

impl BeaconPool {
    /// A pool starting at `aggregator`'s epoch.
    pub fn new(aggregator: BeaconAggregator) -> BeaconPool {
        let latest = aggregator.epoch();
        BeaconPool {
            state: Arc::new(Mutex::new(PoolState {
                aggregators: BTreeMap::from([(latest, aggregator)]),
                latest,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // The pool stays consistent across a panicking holder: every
        // method finishes its update before returning.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a share received from the network: decoded (bounded), then
    /// [`BeaconPool::add`].
    pub fn add_bytes(&self, bytes: &[u8]) -> Result<Option<RecoveredBeacon>, ShareError> {
        self.add(SignedBeaconShare::decode(bytes)?)
    }

    /// Adds a share to its epoch's aggregator ([`BeaconAggregator::add`]).
    /// Shares of an epoch before the oldest kept or after the one following
    /// the latest finalized are refused (nothing waits on them).
    pub fn add(&self, share: SignedBeaconShare) -> Result<Option<RecoveredBeacon>, ShareError> {
        let mut state = self.lock();
        let epoch = share.share.epoch;
        let latest = state.latest;
        let (&oldest, template) = state
            .aggregators
            .first_key_value()
            .expect("the pool always keeps an aggregator");
        if epoch < oldest || epoch > latest.saturating_add(1) {
            return Err(ShareError::WrongEpoch {
                expected: latest,
                found: epoch,
            });
        }
        let template = template.for_epoch(epoch);
        state
            .aggregators
            .entry(epoch)
            .or_insert(template)
            .add(share)
    }

    /// σ for `height`, if recovered (and not pruned).
    pub fn recovered(&self, height: u64) -> Option<RecoveredBeacon> {
        self.lock()
            .aggregators
            .values()
            .find_map(|aggregator| aggregator.recovered(height).cloned())
    }

    /// Evidence of misbehaving signers found so far (taken: each piece is
    /// returned once).
    pub fn take_evidence(&self) -> Vec<Misbehaviour> {
        self.lock()
            .aggregators
            .values_mut()
            .flat_map(BeaconAggregator::take_evidence)
            .collect()
    }

    /// The chain reached `latest` epoch; nothing below `height` (of epoch
    /// `epoch` or later) waits for randomness any more: forgets the rest.
    pub fn prune_below(&self, height: u64, epoch: u64, latest: u64) {
        let mut state = self.lock();
        state.latest = state.latest.max(latest);
        let keep = epoch.min(state.latest);
        // Keep at least one aggregator, as the template for later epochs.
        while state.aggregators.len() > 1
            && state
                .aggregators
                .first_key_value()
                .is_some_and(|(e, _)| *e < keep)
        {
            state.aggregators.pop_first();
        }
        for aggregator in state.aggregators.values_mut() {
            aggregator.prune_below(height);
        }
    }
}

/// Called with each share this validator signs, to send it to the other
/// validators.
pub type ShareGossip = Box<dyn FnMut(&SignedBeaconShare) + Send>;

/// A validator's beacon keys for one epoch.
pub struct BeaconKeys {
    /// This validator's share of the epoch's key.
    pub signer: BeaconSigner,
    /// Its ed25519 key, which signs the share envelopes (the key the
    /// pool's aggregator lists at the signer's index).
    pub keypair: Keypair,
    /// The verifier of σ (the chain and the group key).
    pub verifier: ThresholdBeaconVerifier,
}

/// A block proposed or verified here and the ledger state after it.
struct Speculative {
    block: Block,
    state: Ledger,
}

/// The [`Executor`] of a validator: ledger, beacon and transactions (see
/// the [module documentation](self)).
pub struct ValidatorApp<T, K = ()> {
    ledger: SharedLedger,
    /// An in-memory copy of the finalized state.
    mirror: Ledger,
    beacon: BeaconKeys,
    pool: BeaconPool,
    transactions: T,
    sink: K,
    gossip: ShareGossip,
    speculative: BTreeMap<BlockHash, Speculative>,
    max_block_txs: usize,
    slashing: Slashing,
}

impl<T: TransactionSource> ValidatorApp<T, ()> {
    /// An app over `ledger` (the finalized state), signing with `beacon`,
    /// collecting shares in `pool`, proposing from `transactions` and
    /// gossiping its shares with `gossip`. Copies the ledger's state into
    /// memory once (the mirror).
    pub fn new(
        ledger: SharedLedger,
        beacon: BeaconKeys,
        pool: BeaconPool,
        transactions: T,
        gossip: ShareGossip,
    ) -> Result<ValidatorApp<T, ()>, LedgerError> {
        let (mirror, max_block_txs) = {
            let ledger = read(&ledger);
            (
                ledger.fork_in_memory()?,
                ledger.params().max_block_txs as usize,
            )
        };
        Ok(ValidatorApp {
            ledger,
            mirror,
            beacon,
            pool,
            transactions,
            sink: (),
            gossip,
            speculative: BTreeMap::new(),
            max_block_txs,
            slashing: Slashing::default(),
        })
    }
}

impl<T: TransactionSource, K: FinalizedSink> ValidatorApp<T, K> {
    /// Tells `sink` about every finalized block.
    pub fn with_sink<S: FinalizedSink>(self, sink: S) -> ValidatorApp<T, S> {
        ValidatorApp {
            ledger: self.ledger,
            mirror: self.mirror,
            beacon: self.beacon,
            pool: self.pool,
            transactions: self.transactions,
            sink,
            gossip: self.gossip,
            speculative: self.speculative,
            max_block_txs: self.max_block_txs,
            slashing: self.slashing,
        }
    }

    /// Proposes at most `max` transactions per block (and never more than
    /// the ledger's `max_block_txs`).
    pub fn with_max_block_txs(mut self, max: usize) -> ValidatorApp<T, K> {
        self.max_block_txs = max.min(self.max_block_txs);
        self
    }

    /// The post-state of `parent` (the mirror for the finalized head or
    /// the genesis), if known here.
    fn post_state(&self, parent: Option<&Block>) -> Option<&Ledger> {
        let head = self.mirror.head().map(|head| head.block_hash);
        match parent {
            None => (head.is_none()).then_some(&self.mirror),
            Some(parent) => {
                let hash = parent.hash();
                if Some(hash) == head {
                    Some(&self.mirror)
                } else {
                    self.speculative.get(&hash).map(|s| &s.state)
                }
            }
        }
    }

    /// Makes `parent`'s post-state known when `parent` directly extends the
    /// finalized head but was never proposed or verified here — the case
    /// of a block notarized while this validator was down or cut off (its
    /// cache of speculative states does not survive a restart). Without
    /// this the validator can neither verify nor build on such a block
    /// until it is finalized, and it is finalized only through a child: if
    /// the validators that know it are not a quorum, the chain stalls for
    /// good (found by the fault-schedule driver, seed 27). Applying the
    /// block to a copy of the finalized state is exactly what verifying it
    /// would have done; a block that does not apply stays unknown.
    fn recover_parent(&mut self, parent: Option<&Block>) {
        let Some(parent) = parent else {
            return;
        };
        if self.post_state(Some(parent)).is_some() {
            return;
        }
        let head = self.mirror.head().map(|head| head.block_hash);
        let extends_head = match head {
            Some(head) => parent.header.parent == head,
            None => parent.header.height == crate::block::FIRST_BLOCK_HEIGHT,
        };
        if !extends_head {
            return;
        }
        let Ok(mut state) = self.mirror.fork_in_memory() else {
            return;
        };
        // Its transactions' signatures are checked here (`apply`): nothing
        // guarantees the engine checked this block on this node.
        if let Ok(BlockOutcome::Applied(_)) = state.apply(parent, &self.beacon.verifier) {
            self.cache(parent.clone(), state);
        }
    }

    /// The hashes of the transactions in the unfinalized blocks from the
    /// finalized head up to and including `parent`.
    fn in_branch(&self, parent: Option<&Block>) -> BTreeSet<TxHash> {
        let mut hashes = BTreeSet::new();
        let mut cursor = parent.and_then(|p| self.speculative.get(&p.hash()));
        while let Some(speculative) = cursor {
            hashes.extend(speculative.block.transaction_hashes());
            cursor = self.speculative.get(&speculative.block.header.parent);
        }
        hashes
    }

    /// How many transactions the unfinalized blocks from the finalized
    /// head up to and including `parent` carry.
    fn in_branch_count(&self, parent: Option<&Block>) -> usize {
        let mut count = 0usize;
        let mut cursor = parent.and_then(|p| self.speculative.get(&p.hash()));
        while let Some(speculative) = cursor {
            count = count.saturating_add(speculative.block.transactions.len());
            cursor = self.speculative.get(&speculative.block.header.parent);
        }
        count
    }

    /// The beacon entries a block on `state` can carry: recovered σ for the
    /// heights it waits on, in height order, up to the first missing one.
    fn beacon_entries(&self, state: &Ledger) -> Vec<BeaconEntry> {
        let mut entries = Vec::new();
        for (height, pending) in state.pending_randomness() {
            let Some(recovered) = self.pool.recovered(*height) else {
                break;
            };
            if recovered.message.block != pending.block_hash
                || recovered.message.epoch != pending.epoch
            {
                break;
            }
            let Ok(signature) = BoundedBytes::new(recovered.signature.to_vec()) else {
                break;
            };
            entries.push(BeaconEntry {
                height: *height,
                signature,
            });
        }
        entries
    }

    /// Keeps `block`'s post-state, dropping the lowest heights past
    /// [`MAX_SPECULATIVE_STATES`].
    fn cache(&mut self, block: Block, state: Ledger) {
        self.speculative
            .insert(block.hash(), Speculative { block, state });
        while self.speculative.len() > MAX_SPECULATIVE_STATES {
            let lowest = self
                .speculative
                .iter()
                .min_by_key(|(hash, s)| (s.block.header.height, **hash))
                .map(|(hash, _)| *hash);
            if let Some(hash) = lowest {
                self.speculative.remove(&hash);
            }
        }
    }

    /// Signs, keeps and gossips this validator's share for the finalized
    /// block at `height`.
    fn sign_share(&mut self, epoch: u64, height: u64, block: BlockHash) {
        // A new epoch keeps the sharing (no resharing yet).
        self.beacon.signer.set_epoch(epoch);
        let message = BeaconMessage {
            chain_id: self.mirror.chain_id(),
            epoch,
            height,
            block,
        };
        match self
            .beacon
            .signer
            .sign_sealed(&message, &self.beacon.keypair)
        {
            Ok(share) => {
                if let Err(error) = self.pool.add(share.clone()) {
                    tracing::warn!(height, %error, "own beacon share refused");
                }
                (self.gossip)(&share);
            }
            Err(error) => tracing::error!(height, %error, "cannot sign the beacon share"),
        }
    }

    /// Brings the mirror to `block` (already applied durably).
    fn advance_mirror(&mut self, block: &Block) {
        let hash = block.hash();
        if self.mirror.head().map(|h| h.block_hash) == Some(hash) {
            return;
        }
        if let Some(speculative) = self.speculative.remove(&hash) {
            self.mirror = speculative.state;
            return;
        }
        match self.mirror.apply_verified(block, &self.beacon.verifier) {
            Ok(_) => {}
            Err(error) => {
                // The mirror lags or diverged (it cannot, unless the durable
                // ledger was changed behind it): copy the durable state.
                tracing::warn!(%error, "re-copying the finalized state");
                match read(&self.ledger).fork_in_memory() {
                    Ok(mirror) => self.mirror = mirror,
                    Err(error) => tracing::error!(%error, "cannot copy the finalized state"),
                }
            }
        }
    }
}

fn read(ledger: &SharedLedger) -> std::sync::RwLockReadGuard<'_, Ledger> {
    // A reader or writer that panicked left the ledger between blocks:
    // every apply is all-or-nothing.
    ledger.read().unwrap_or_else(|e| e.into_inner())
}

/// Whether a block stamped `now_ms` on `state` would take a timed step of
/// a table: a craps table with bets whose roll interval has passed, a crash
/// round with bets whose betting time is over, a running crash round (every
/// block is one of its ticks), or a cooldown that is over (the next round's
/// betting opens). Idle tables (no bets) only move their deadlines, which
/// the pacing interval bounds anyway.
fn timed_step_due(state: &Ledger, now_ms: u64) -> bool {
    let roll_interval = state.params().craps_roll_interval_ms;
    state.tables().any(|(_, table)| match &table.play {
        Play::Craps(craps) => {
            !craps.table.is_empty()
                && craps.pending_roll.is_none()
                && craps
                    .last_roll_ms
                    .checked_add(roll_interval)
                    .is_some_and(|at| now_ms >= at)
        }
        Play::Crash(crash) => match crash.timing {
            CrashTiming::Betting { ends_ms } => {
                now_ms >= ends_ms && crash.round.bets().next().is_some()
            }
            CrashTiming::Running { .. } => {
                crash.round.phase() == Phase::Running
                    && crash
                        .round
                        .latest_tick()
                        .is_some_and(|tick| tick.multiplier != Multiplier::MAX)
            }
            CrashTiming::Cooldown { until_ms } => now_ms >= until_ms,
        },
    })
}

impl<T: TransactionSource, K: FinalizedSink> Executor for ValidatorApp<T, K> {
    fn equivocation(&mut self, evidence: Equivocation) {
        self.slashing.report(
            evidence,
            &self.beacon.keypair,
            &self.mirror,
            &self.ledger,
            &mut self.transactions,
        );
    }

    fn has_work(&mut self, parent: Option<&Block>, now_ms: u64) -> bool {
        self.recover_parent(parent);
        let Some(state) = self.post_state(parent) else {
            // Nothing can be built here: let the proposal fail at once.
            return true;
        };
        if timed_step_due(state, now_ms) || !self.beacon_entries(state).is_empty() {
            return true;
        }
        let in_branch = self.in_branch_count(parent);
        self.transactions.more_than(in_branch)
    }

    fn propose(&mut self, parent: Option<&Block>, mut template: BlockTemplate) -> Option<Block> {
        self.recover_parent(parent);
        let mut state = self.post_state(parent)?.fork_in_memory().ok()?;
        template.parent_state_root = state.state_root();
        let in_branch = self.in_branch(parent);
        let transactions: Vec<SignedTransaction> = self
            .transactions
            .candidates(self.max_block_txs.saturating_add(in_branch.len()))
            .into_iter()
            .filter(|tx| !in_branch.contains(&tx.hash()))
            .take(self.max_block_txs)
            .collect();
        let entries = self.beacon_entries(&state);
        let block = match Block::assemble(template, transactions, entries) {
            Ok(block) => block,
            Err(error) => {
                tracing::warn!(%error, "cannot assemble a block");
                return None;
            }
        };
        // Signatures were checked on the mempool's entry; everything else
        // is checked here, so the proposal passes everyone's verification.
        match state.apply_verified(&block, &self.beacon.verifier) {
            Ok(BlockOutcome::Applied(_)) => {
                self.cache(block.clone(), state);
                Some(block)
            }
            Ok(BlockOutcome::AlreadyApplied { .. }) => None,
            Err(error) => {
                tracing::warn!(%error, "own proposal does not apply; skipping");
                None
            }
        }
    }

    fn verify(&mut self, parent: Option<&Block>, block: &Block) -> bool {
        if self.speculative.contains_key(&block.hash()) {
            return true;
        }
        self.recover_parent(parent);
        let Some(base) = self.post_state(parent) else {
            tracing::debug!(
                height = block.header.height,
                "the parent's state is not known here"
            );
            return false;
        };
        let Ok(mut state) = base.fork_in_memory() else {
            return false;
        };
        // The engine checked the block's signatures before asking.
        match state.apply_verified(block, &self.beacon.verifier) {
            Ok(BlockOutcome::Applied(_)) => {
                self.cache(block.clone(), state);
                true
            }
            Ok(BlockOutcome::AlreadyApplied { .. }) => false,
            Err(error) => {
                tracing::debug!(height = block.header.height, %error, "block refused");
                false
            }
        }
    }

    fn finalized(&mut self, block: &Block, proof: Option<&[u8]>) {
        let height = block.header.height;
        let hash = block.hash();
        let (outcome, epoch, waits, floor) = {
            let mut ledger = self.ledger.write().unwrap_or_else(|e| e.into_inner());
            let epoch = ledger.epoch();
            let outcome = ledger.apply_verified(block, &self.beacon.verifier);
            let waits = ledger
                .pending_randomness()
                .any(|(h, pending)| *h == height && pending.block_hash == hash);
            // Shares are only needed from the lowest height still waiting.
            let floor = ledger
                .pending_randomness()
                .map(|(h, pending)| (*h, pending.epoch))
                .next()
                .unwrap_or((height.saturating_add(1), ledger.epoch()));
            (outcome, epoch, waits, (floor, ledger.epoch()))
        };
        let applied = match outcome {
            Ok(BlockOutcome::Applied(applied)) => Some(applied),
            Ok(BlockOutcome::AlreadyApplied { .. }) => None,
            Err(error) => {
                // A finalized block the ledger refuses: this node's state is
                // not the network's. Never sign for it.
                tracing::error!(height, %error, "finalized block refused by the ledger");
                return;
            }
        };
        self.advance_mirror(block);
        self.speculative
            .retain(|_, s| s.block.header.height > height);
        let included = block.transaction_hashes();
        self.transactions.finalized(&included);
        self.slashing.finalized(
            &included,
            &self.beacon.keypair,
            &self.mirror,
            &self.ledger,
            &mut self.transactions,
        );
        self.sink.finalized(block, proof, applied.as_deref());
        if waits {
            // Redelivered after a restart: sign again (the same share, BLS
            // is deterministic) in case it was lost.
            self.sign_share(epoch, height, hash);
        }
        // Pruning forgets evidence not yet taken: take it first. (A share
        // that arrives after σ is recovered is not checked: it cannot
        // change anything.)
        let evidence = self.pool.take_evidence();
        if !evidence.is_empty() {
            self.sink.misbehaviour(evidence);
        }
        let ((floor, floor_epoch), latest) = floor;
        self.pool.prune_below(floor, floor_epoch, latest);
    }
}
