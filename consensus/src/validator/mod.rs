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
//! - **finalized** `B`: apply it durably to the shared ledger — a `B`
//!   cached here is not executed again: its cached result is written and
//!   its post-state adopted ([`Ledger::adopt`]); a block already applied
//!   is a no-op, so redelivery after a restart is safe — make `B`'s cached
//!   post-state the new mirror (or apply `B` to the mirror if it was never
//!   seen here), drop cached states at or below `B`'s
//!   height, tell the mempool and the sink, and — if `B`'s height committed
//!   something that waits for randomness — sign this validator's beacon
//!   share of `(chain, epoch, height, B's hash)`, add it to the pool and
//!   hand it to the share gossip; then let the [`Resharer`] follow the
//!   block (submit this dealer's log, or take the new share when a
//!   resharing round completed: the share of a height is always signed
//!   before the share is replaced) and open the next epoch's aggregator
//!   once its keys are certain.
//!
//! - **equivocation** reported by the engine: checked against the
//!   committee of its epoch and, for a new offence by another validator, turned into a
//!   `SlashingEvidence` transaction signed with this validator's key and
//!   submitted to the [`TransactionSource`]; pursued until the offence is
//!   punished or the ledger refused it (`validator/slashing.rs`).
//!
//! Proposing and verifying cost one copy of the state (not of the chain)
//! plus the block's execution; finalizing a block seen here costs one copy
//! of its post-state and the store write. Shares are signed only here, after finality, only
//! for the finalized block at a height (see [`crate::beacon`] for why the
//! per-view VRF seed must never settle a bet).
//!
//! ## Limits
//!
//! - A block whose parent is neither the finalized head nor a block cached
//!   here (e.g. one notarized while this validator was down) cannot be
//!   built on or verified until that parent is finalized: the verdict is
//!   then `false` and the other validators carry the view.
//! - Resharing ([`Resharer`], optional: [`ValidatorApp::with_resharer`])
//!   moves the key to each new set: the app swaps its signer (or drops its
//!   share) when a round completes, opens each epoch's aggregator with that
//!   epoch's sharing, and gives the engine each epoch's committee
//!   ([`Executor::committee`]: the sharing's players, polynomial and this
//!   validator's share), so from the next epoch the new set votes and
//!   leads with the new shares (see [`crate::engine`]). After a restart
//!   that left the ledger past the epoch marshal resumes in, that epoch's
//!   committee is unknown here: the validator follows it without voting
//!   and votes again from the next epoch. Equivocation evidence is checked
//!   against the committee of its epoch (the ledger's rule), reshared or
//!   not.
//! - New shares are persisted with a [`ShareStore`]
//!   ([`ValidatorApp::use_share_store`]): each is written durably before
//!   it signs anything, the files of older sharings are deleted once it is,
//!   and a restarted validator loads the share of the sharing in force
//!   (checked against that sharing's public polynomial at its index; the
//!   key file's genesis share serves epoch 0). The resharer persists, in
//!   the same directory ([`DealingStore`]), each dealing it accepts before
//!   acknowledging it, the seed of its own dealing before dealing and its
//!   signed log before submitting it; the round's files
//!   are deleted once the new share is durable. So a validator restarted
//!   during a round rebuilds its part from them and derives its share when
//!   the round completes, and one that stopped between the ledger
//!   completing a round and the share's write (or was down through the
//!   round) derives it at its first finalized block after the restart, from
//!   the files and the dealers' reveals; it signs beacon shares from then
//!   on (its engine, which took the committee of the epoch it resumed in
//!   at its start, votes with the share from the next epoch). A restarted
//!   dealer re-creates its dealing, collects the acknowledgements again and
//!   logs it, or submits again the log it signed (see [`Resharer`]). A
//!   validator gets no
//!   share of the new sharing — and signs no beacon shares until a later
//!   round gives it one — only if a dealing it acknowledged is lost
//!   (a file missing, altered or never written: each is reported) and the
//!   round's output uses that dealer's log, or if it restarts only once the
//!   ledger no longer keeps the round (a later round opened) or the sharing
//!   the round replaced.

mod dealing_store;
#[cfg(test)]
mod epochs;
mod reshare;
#[cfg(test)]
mod reshare_restart;
#[cfg(test)]
mod schedule;
mod share_store;
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
use crate::block::{BeaconEntry, Block, BlockTemplate, MAX_BLOCK_TX_BYTES};
use crate::encoding::BoundedBytes;
use crate::engine::{EpochCommittee, EpochMembers, Executor};
use crate::hash::{BlockHash, TxHash};
use crate::ledger::{AppliedBlock, BlockOutcome, CrashTiming, Ledger, LedgerError, Play};
use crate::tx::{Equivocation, SignedTransaction};
use commonware_utils::TryCollect as _;
use slashing::Slashing;

pub use dealing_store::{
    DealingStore, DealingStoreError, LoadedDealings, StoredDealing, max_dealing_file_bytes,
};
pub use reshare::{DkgSend, ReshareStep, Resharer};
pub use share_store::{ShareStore, ShareStoreError};

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

/// The leading `candidates` whose encodings add up to at most
/// [`MAX_BLOCK_TX_BYTES`]: the first that would pass it ends the proposal
/// (skipping it could leave a later nonce of its sender without the
/// earlier one). Only dealer logs, up to 52 KiB each, can reach the budget.
fn within_block_budget(
    candidates: impl Iterator<Item = SignedTransaction>,
) -> Vec<SignedTransaction> {
    let mut bytes = 0usize;
    candidates
        .take_while(|tx| {
            bytes = bytes.saturating_add(tx.encoded_len());
            bytes <= MAX_BLOCK_TX_BYTES
        })
        .collect()
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
/// randomness: one [`BeaconAggregator`] per epoch, each with that epoch's
/// sharing and signers (the [`ValidatorApp`] opens each epoch once its
/// keys are certain: see [`BeaconPool::open_epoch`]). Shared between the [`ValidatorApp`] (which adds its own shares
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
    /// A share of an epoch whose keys are not known here yet
    /// ([`BeaconPool::open_epoch`]) is refused as
    /// [`ShareError::WrongEpoch`] (not evidence: after a resharing the
    /// epoch's polynomial is new, and checking a share against the old one
    /// would convict an honest signer), as is one of an epoch before the
    /// oldest kept (nothing waits on it).
    pub fn add(&self, share: SignedBeaconShare) -> Result<Option<RecoveredBeacon>, ShareError> {
        let mut state = self.lock();
        let epoch = share.share.epoch;
        let latest = state.latest;
        match state.aggregators.get_mut(&epoch) {
            Some(aggregator) => aggregator.add(share),
            None => Err(ShareError::WrongEpoch {
                expected: latest,
                found: epoch,
            }),
        }
    }

    /// Starts collecting shares of `aggregator`'s epoch with its keys (the
    /// epoch's sharing and signers), unless that epoch is open already.
    pub fn open_epoch(&self, aggregator: BeaconAggregator) {
        let mut state = self.lock();
        let epoch = aggregator.epoch();
        let oldest = state.aggregators.first_key_value().map_or(0, |(e, _)| *e);
        if epoch >= oldest {
            state.aggregators.entry(epoch).or_insert(aggregator);
        }
    }

    /// An empty aggregator for `epoch` with the keys of the latest epoch
    /// open here (for a chain without resharing).
    fn template(&self, epoch: u64) -> BeaconAggregator {
        let state = self.lock();
        let (_, latest) = state
            .aggregators
            .last_key_value()
            .expect("the pool always keeps an aggregator");
        latest.for_epoch(epoch)
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
    /// This validator's share of the epoch's key; `None` for a validator
    /// that holds none yet (one joining the set through a resharing).
    pub signer: Option<BeaconSigner>,
    /// Its ed25519 key, which signs the share envelopes (the key the
    /// pool's aggregator lists at the signer's index).
    pub keypair: Keypair,
    /// The verifier of σ (the chain and the group key).
    pub verifier: ThresholdBeaconVerifier,
}

/// A block proposed or verified here, the ledger state after it and what
/// applying it produced (written as it is when the block is finalized).
struct Speculative {
    block: Block,
    state: Ledger,
    applied: Box<AppliedBlock>,
}

/// The [`Executor`] of a validator: ledger, beacon and transactions (see
/// the [module documentation](self)).
pub struct ValidatorApp<T, K = ()> {
    ledger: SharedLedger,
    /// An in-memory copy of the finalized state.
    mirror: Ledger,
    /// This validator's share of the sharing in force (`None`: it holds
    /// none, e.g. after a resharing that left it out: the old share is
    /// erased).
    signer: Option<BeaconSigner>,
    /// The first epoch `signer`'s share signs for: heights of earlier
    /// epochs are never signed with it (their sharing was another).
    signer_from: u64,
    keypair: Keypair,
    verifier: ThresholdBeaconVerifier,
    resharer: Option<Resharer>,
    /// Where new shares are persisted (`None`: in memory only).
    shares: Option<ShareStore>,
    /// The dealer-log transaction in flight: (round, nonce).
    reshare_tx: Option<(u64, u64)>,
    /// The (epoch, next epoch certain) the pool was last opened for.
    pool_synced: Option<(u64, bool)>,
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
        let BeaconKeys {
            signer,
            keypair,
            verifier,
        } = beacon;
        let mut app = ValidatorApp {
            ledger,
            mirror,
            signer,
            signer_from: 0,
            keypair,
            verifier,
            resharer: None,
            shares: None,
            reshare_tx: None,
            pool_synced: None,
            pool,
            transactions,
            sink: (),
            gossip,
            speculative: BTreeMap::new(),
            max_block_txs,
            slashing: Slashing::default(),
        };
        app.check_signer();
        app.sync_pool();
        Ok(app)
    }
}

impl<T: TransactionSource, K: FinalizedSink> ValidatorApp<T, K> {
    /// Tells `sink` about every finalized block.
    pub fn with_sink<S: FinalizedSink>(self, sink: S) -> ValidatorApp<T, S> {
        ValidatorApp {
            ledger: self.ledger,
            mirror: self.mirror,
            signer: self.signer,
            signer_from: self.signer_from,
            keypair: self.keypair,
            verifier: self.verifier,
            resharer: self.resharer,
            shares: self.shares,
            reshare_tx: self.reshare_tx,
            pool_synced: self.pool_synced,
            pool: self.pool,
            transactions: self.transactions,
            sink,
            gossip: self.gossip,
            speculative: self.speculative,
            max_block_txs: self.max_block_txs,
            slashing: self.slashing,
        }
    }

    /// Takes part in resharing rounds with `resharer` (whose receive side
    /// the caller feeds from the validator network's DKG channel). With a
    /// share store ([`ValidatorApp::use_share_store`], before or after
    /// this), the resharer persists its accepted dealings in the store's
    /// directory ([`Resharer::use_dealing_store`]).
    pub fn with_resharer(mut self, resharer: Resharer) -> ValidatorApp<T, K> {
        if let Some(store) = &self.shares {
            resharer.use_dealing_store(store.dealings());
        }
        self.resharer = Some(resharer);
        self
    }

    /// Whether this validator holds a share of the sharing in force.
    pub fn has_share(&self) -> bool {
        self.signer.is_some()
    }

    /// Persists the shares of later resharings in `store` and, if a
    /// resharing replaced the genesis sharing, takes this validator's share
    /// of the sharing in force from it (the key file's share serves only
    /// the genesis sharing). The store is kept even when loading fails:
    /// later rounds' shares are still written to it. The resharer (given
    /// before or after this) persists the dealings it accepts in the same
    /// directory ([`ShareStore::dealings`]), so a restart during a round
    /// keeps this validator's part in it.
    ///
    /// Errors: the file of the sharing in force is unreadable, malformed
    /// or not this validator's share of it (refused: this validator then
    /// signs no beacon shares), or this validator is one of that sharing's
    /// players and no file holds its share ([`ShareStoreError::Missing`]).
    pub fn use_share_store(&mut self, store: ShareStore) -> Result<(), ShareStoreError> {
        let loaded = self.load_share(&store);
        if let Some(resharer) = &self.resharer {
            resharer.use_dealing_store(store.dealings());
        }
        self.shares = Some(store);
        loaded
    }

    fn load_share(&mut self, store: &ShareStore) -> Result<(), ShareStoreError> {
        let since = self.mirror.resharing().map_or(0, |r| r.since_epoch);
        let Ok(Some(output)) = self.mirror.beacon_output() else {
            return Ok(());
        };
        if since == 0 || self.signer.is_some() {
            // The genesis sharing (the key file's share, checked by
            // `check_signer`), or a share already held.
            return Ok(());
        }
        let Some(me) = reshare_identity(&self.keypair) else {
            return Ok(());
        };
        if output.index_of(&me).is_none() {
            // Not in the set: nothing of an earlier sharing may be kept.
            return store.prune_before(since.saturating_add(1));
        }
        let Some(share) = store.load(since, &output, &me)? else {
            return Err(ShareStoreError::Missing {
                dir: store.dir().to_owned(),
                epoch: since,
            });
        };
        match BeaconSigner::new(since, share, output.sharing()) {
            Ok(signer) => {
                self.signer = Some(signer);
                self.signer_from = since;
                tracing::info!(epoch = since, "beacon share of the sharing in force loaded");
                // A crash after the write but before the pruning left them.
                store.prune_before(since)
            }
            Err(error) => Err(ShareStoreError::Mismatch {
                path: store.path_of(since),
                epoch: since,
                reason: error.to_string(),
            }),
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
        if let Ok(BlockOutcome::Applied(applied)) = state.apply(parent, &self.verifier) {
            self.cache(parent.clone(), state, applied);
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
    fn cache(&mut self, block: Block, state: Ledger, applied: Box<AppliedBlock>) {
        self.speculative.insert(
            block.hash(),
            Speculative {
                block,
                state,
                applied,
            },
        );
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
        // The share signs from its first epoch on, through every epoch
        // that keeps its sharing (a resharing replaces the signer).
        if epoch < self.signer_from {
            return;
        }
        let Some(signer) = self.signer.as_mut() else {
            return;
        };
        signer.set_epoch(epoch);
        let message = BeaconMessage {
            chain_id: self.mirror.chain_id(),
            epoch,
            height,
            block,
        };
        match signer.sign_sealed(&message, &self.keypair) {
            Ok(share) => {
                if let Err(error) = self.pool.add(share.clone()) {
                    tracing::warn!(height, %error, "own beacon share refused");
                }
                (self.gossip)(&share);
            }
            Err(error) => tracing::error!(height, %error, "cannot sign the beacon share"),
        }
    }

    /// Drops a share that is not this validator's share of the sharing in
    /// force (a key file's genesis share after a resharing): signing with
    /// it would make invalid partials, evidence against this validator.
    fn check_signer(&mut self) {
        let Ok(Some(output)) = self.mirror.beacon_output() else {
            return;
        };
        let holds = self.signer.as_ref().is_some_and(|signer| {
            output.sharing().holds(signer.secret())
                && reshare_identity(&self.keypair).and_then(|me| output.index_of(&me))
                    == Some(signer.index())
        });
        if !holds && self.signer.take().is_some() {
            tracing::error!(
                epoch = self.mirror.epoch(),
                "this validator's share is not a share of the sharing in force: not signing"
            );
        }
        self.signer_from = self
            .mirror
            .resharing()
            .map_or(0, |record| record.since_epoch);
    }

    /// Opens the pool's aggregators for the current epoch and, once it is
    /// certain that the next epoch keeps the sharing, the next one.
    fn sync_pool(&mut self) {
        let epoch = self.mirror.epoch();
        let length = self.mirror.params().epoch_length_blocks.max(1);
        // The position in its epoch of the next height: a round opens at
        // the end of the block at `open_position`, so once the next height
        // is past it, this epoch will open none.
        let position = self.mirror.next_height() % length;
        let open_round = self
            .mirror
            .resharing()
            .and_then(|r| r.round.as_ref())
            .is_some_and(|round| round.status == crate::ledger::reshare::RoundStatus::Open);
        let output = self.mirror.beacon_output().ok().flatten();
        // The next epoch's keys are certain once no round can open in this
        // epoch any more (its opening block is applied and none is open),
        // or on a chain that never reshares.
        let next_certain = match (&output, crate::ledger::reshare::open_position(length)) {
            (Some(_), Some(at)) => !open_round && position > at,
            _ => true,
        };
        if self.pool_synced == Some((epoch, next_certain)) {
            return;
        }
        let aggregator = match &output {
            Some(output) => {
                let signers: Result<Vec<_>, _> = output
                    .players()
                    .iter()
                    .map(crate::ledger::reshare::ledger_key)
                    .collect();
                match signers.map_err(|e| e.to_string()).and_then(|signers| {
                    BeaconAggregator::new(
                        self.mirror.chain_id(),
                        epoch,
                        output.sharing().clone(),
                        signers,
                    )
                    .map_err(|e| e.to_string())
                }) {
                    Ok(aggregator) => aggregator,
                    Err(error) => {
                        tracing::error!(epoch, %error, "no beacon aggregator for the epoch");
                        return;
                    }
                }
            }
            None => self.pool.template(epoch),
        };
        if next_certain {
            self.pool
                .open_epoch(aggregator.for_epoch(epoch.saturating_add(1)));
        }
        self.pool.open_epoch(aggregator);
        self.pool_synced = Some((epoch, next_certain));
    }

    /// Lets the resharer follow the finalized block: submits its dealer
    /// log, or takes the new share (erasing the old one) when a round
    /// completed.
    fn follow_reshare(&mut self) {
        let Some(resharer) = self.resharer.clone() else {
            return;
        };
        let share = self.signer.as_ref().map(BeaconSigner::secret);
        for step in resharer.finalized(&self.mirror, share) {
            match step {
                ReshareStep::SubmitLog { round, log } => self.submit_log(round, log),
                ReshareStep::NewShare {
                    round,
                    epoch,
                    share,
                    output,
                } => {
                    if share.is_none()
                        && epoch == self.signer_from
                        && self
                            .signer
                            .as_ref()
                            .is_some_and(|signer| output.sharing().holds(signer.secret()))
                    {
                        // A resharer started after the round completed
                        // (a restart) took no part in it and reports no
                        // share; this validator's share of that sharing
                        // was loaded from its store: keep it.
                        continue;
                    }
                    // Durable before it signs anything: once it is, the
                    // round's dealings are erased, and it cannot be derived
                    // again after a restart. (A failed write is logged and
                    // the share still used: this incarnation can sign; the
                    // dealings are kept, so a restart derives it again.)
                    let durable = match (&share, &self.shares) {
                        (Some(share), Some(store)) => match store.save(epoch, share) {
                            Ok(()) => true,
                            Err(error) => {
                                tracing::error!(
                                    epoch,
                                    %error,
                                    "cannot persist the new beacon share: after a restart this validator will not sign"
                                );
                                false
                            }
                        },
                        (Some(_), None) => false,
                        (None, _) => true,
                    };
                    // The old share is dropped here (zeroized): proactive
                    // security needs every former holder to do the same.
                    self.signer = match share {
                        Some(share) => match BeaconSigner::new(epoch, share, output.sharing()) {
                            Ok(signer) => Some(signer),
                            Err(error) => {
                                tracing::error!(epoch, %error, "the new share does not sign");
                                None
                            }
                        },
                        None => None,
                    };
                    self.signer_from = epoch;
                    self.reshare_tx = None;
                    if self.signer.is_none() {
                        tracing::info!(epoch, "not in the new set: holding no beacon share");
                    }
                    // Old sharings' files and the round's dealings go once
                    // the new share is durable (or none is due): proactive
                    // security.
                    if durable {
                        if let Some(store) = &self.shares
                            && let Err(error) = store.prune_before(epoch)
                        {
                            tracing::error!(epoch, %error, "cannot erase older beacon shares");
                        }
                        resharer.forget_dealings(round);
                    }
                }
            }
        }
    }

    /// Submits (or submits again, if it was lost) this dealer's log.
    fn submit_log(&mut self, round: u64, log: Vec<u8>) {
        let account = self.mirror.account(&self.keypair.address());
        if let Some((pending_round, nonce)) = self.reshare_tx
            && pending_round == round
            && nonce >= account.nonce
        {
            return;
        }
        let Some(deadline) = self
            .mirror
            .resharing()
            .and_then(|r| r.round.as_ref())
            .map(|r| r.deadline)
        else {
            return;
        };
        let fee = self.mirror.params().min_fee;
        if account.balance < fee {
            tracing::warn!(round, "no balance for the dealer log's fee");
            return;
        }
        let Ok(log) = crate::tx::DealerLogBytes::new(log) else {
            tracing::error!(round, "the dealer log is too large for a transaction");
            return;
        };
        let nonce = self.slashing.next_free_nonce(account.nonce);
        let tx = crate::tx::Transaction {
            chain_id: self.mirror.chain_id(),
            sender: self.keypair.public_key(),
            nonce,
            fee,
            expiry_height: deadline,
            action: crate::tx::Action::DealerLog { round, log },
        }
        .sign(&self.keypair);
        match self.transactions.submit(tx, &self.ledger) {
            Ok(()) => {
                self.reshare_tx = Some((round, nonce));
                self.slashing.reserve(nonce);
            }
            Err(error) => tracing::warn!(round, %error, "dealer log refused by the mempool"),
        }
    }

    /// Brings the mirror to `block` (already applied durably), taking
    /// `post`, the block's post-state, if it was cached here.
    fn advance_mirror(&mut self, block: &Block, post: Option<Ledger>) {
        let hash = block.hash();
        if self.mirror.head().map(|h| h.block_hash) == Some(hash) {
            return;
        }
        if let Some(post) = post {
            self.mirror = post;
            return;
        }
        match self.mirror.apply_verified(block, &self.verifier) {
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

/// The network identity of a wallet keypair (the same ed25519 key).
fn reshare_identity(keypair: &Keypair) -> Option<crate::beacon::dkg::PublicKey> {
    crate::ledger::reshare::identity(&keypair.public_key()).ok()
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
    /// The set of the sharing in force, its polynomial and this
    /// validator's share of it, once the finalized ledger is in `epoch`
    /// (so after a resharing that completed at the end of the epoch before,
    /// its new share). A chain without a sharing keeps its committee.
    fn committee(&mut self, epoch: u64) -> EpochMembers {
        let output = match self.mirror.beacon_output() {
            Ok(Some(output)) => output,
            Ok(None) => return EpochMembers::Unchanged,
            Err(error) => {
                tracing::error!(epoch, %error, "the sharing in force does not decode");
                return EpochMembers::Unknown;
            }
        };
        if self.mirror.epoch() != epoch {
            // A restart left the ledger past the epoch marshal resumes in:
            // that epoch's sharing may be gone; its blocks are final anyway.
            return EpochMembers::Unknown;
        }
        let participants = match output.players().into_iter().try_collect() {
            Ok(participants) => participants,
            Err(_) => {
                tracing::error!(epoch, "the sharing in force lists a player twice");
                return EpochMembers::Unknown;
            }
        };
        let share = self
            .signer
            .as_ref()
            .filter(|_| self.signer_from <= epoch)
            .map(|signer| signer.secret().share().clone());
        EpochMembers::Known(EpochCommittee {
            participants,
            sharing: output.sharing().sharing().clone(),
            share,
        })
    }

    fn equivocation(&mut self, evidence: Equivocation) {
        self.slashing.report(
            evidence,
            &self.keypair,
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
        let mut taken = self.in_branch(parent);
        let in_branch = taken.len();
        // A transaction the source hands out twice goes in once: a block
        // holding it twice is invalid, and proposing none would silence
        // this leader for as long as the source keeps both copies.
        let transactions = within_block_budget(
            self.transactions
                .candidates(self.max_block_txs.saturating_add(in_branch))
                .into_iter()
                .filter(|tx| taken.insert(tx.hash()))
                .take(self.max_block_txs),
        );
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
        match state.apply_verified(&block, &self.verifier) {
            Ok(BlockOutcome::Applied(applied)) => {
                if tracing::enabled!(target: crate::engine::LATENCY, tracing::Level::TRACE) {
                    let hashes: Vec<String> = block
                        .transactions
                        .iter()
                        .map(|tx| tx.hash().to_string())
                        .collect();
                    tracing::trace!(
                        target: crate::engine::LATENCY,
                        height = block.header.height,
                        txs = %hashes.join(","),
                        "proposal's transactions"
                    );
                }
                self.cache(block.clone(), state, applied);
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
        match state.apply_verified(block, &self.verifier) {
            Ok(BlockOutcome::Applied(applied)) => {
                self.cache(block.clone(), state, applied);
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
        // A block verified or proposed here was executed then: its result
        // is written as it is, not computed a second time.
        let speculative = self.speculative.remove(&hash);
        let (outcome, post, waits, floor) = {
            let mut ledger = self.ledger.write().unwrap_or_else(|e| e.into_inner());
            let (outcome, post) = match speculative {
                Some(Speculative { state, applied, .. }) if ledger.next_height() == height => {
                    (ledger.adopt(block, &state, applied), Some(state))
                }
                Some(Speculative { state, .. }) => {
                    (ledger.apply_verified(block, &self.verifier), Some(state))
                }
                None => (ledger.apply_verified(block, &self.verifier), None),
            };
            // The epoch of the block's height, as the ledger recorded it.
            let waits = ledger
                .pending_randomness()
                .find(|(h, pending)| **h == height && pending.block_hash == hash)
                .map(|(_, pending)| pending.epoch);
            // Shares are only needed from the lowest height still waiting.
            let floor = ledger
                .pending_randomness()
                .map(|(h, pending)| (*h, pending.epoch))
                .next()
                .unwrap_or((height.saturating_add(1), ledger.epoch()));
            (outcome, post, waits, (floor, ledger.epoch()))
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
        self.advance_mirror(block, post);
        self.speculative
            .retain(|_, s| s.block.header.height > height);
        let included = block.transaction_hashes();
        self.transactions.finalized(&included);
        self.slashing.finalized(
            &included,
            &self.keypair,
            &self.mirror,
            &self.ledger,
            &mut self.transactions,
        );
        self.sink.finalized(block, proof, applied.as_deref());
        if let Some(epoch) = waits {
            // Redelivered after a restart: sign again (the same share, BLS
            // is deterministic) in case it was lost.
            self.sign_share(epoch, height, hash);
        }
        // After signing: the last block of an epoch is signed with the old
        // share before a completed resharing replaces it.
        self.follow_reshare();
        self.sync_pool();
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
