//! # The node's chain state
//!
//! [`Chain`] owns what the node knows of the finalized chain: the RocksDB
//! [`Store`], the [`Ledger`] opened on it for the chain's [`Genesis`]
//! (shared as `Arc<RwLock<Ledger>>` with whatever applies blocks — the
//! chain follower, or the validator core), the finality proofs of applied
//! blocks, a block-hash index and the node's explorer [`index`]
//! (leaderboard, tables' games, proposer counts). It serves the API's
//! [`NodeView`] from them (see [`view`]) and the node's own key through
//! [`NodeWallet`] ([`wallet`]).
//!
//! Whoever applies a finalized block to the ledger calls
//! [`Chain::on_finalized`] afterwards (with the ledger's lock released):
//! it stores the proof, indexes the block, updates the mempool and the
//! metrics, publishes [`ApiEvent`]s and hands the block with its proof to
//! the gossip publisher for followers — unless it came by gossip (the mesh
//! relays it already) or had been applied before.
//!
//! Transactions from the API (and the wallet routes) go through
//! `submit.rs`: admitted to the mempool as local, made durable
//! in the mempool journal (one sync shared by the requests journaling at
//! the same moment) before the API answers,
//! then published. The journal loses its dead records by compaction, not
//! when [`Chain::on_finalized`] prunes the mempool: pruning only changes
//! what the mempool lists as local, and the daemon compacts periodically
//! off the finality path.
//!
//! It must not decide anything consensus-critical: it only reads the
//! ledger, and applies blocks only through [`Chain::apply_finalized`],
//! which the follower calls once a block is proven final.
//!
//! ## What it keeps beside the ledger (store `meta`, synced writes)
//!
//! | key | value |
//! |---|---|
//! | `node/proof/` ‖ height (u64 BE) | the block's encoded finality proof, if it had its own |
//! | `node/block-hash/` ‖ hash | height (u64 BE) |
//! | `node/index` | the explorer [`index`], with the height it covers |
//!
//! These are written after the block's own atomic commit; after a crash in
//! between, a missing proof is simply not served (peers prove such a block
//! by a certified descendant), and the hash entry and the index are
//! rebuilt from the stored blocks at the next [`Chain::open`].

pub(crate) mod index;
mod submit;
mod view;
mod wallet;

pub use submit::Restored;
pub use view::LedgerAccounts;
pub use wallet::{DEFAULT_EXPIRY_BLOCKS, KeyWallet};

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use ::wallet::ChainId;
use consensus::block::Block;
use consensus::engine::leaders;
use consensus::genesis::Genesis;
use consensus::hash::BlockHash;
use consensus::ledger::{AppliedBlock, BeaconVerifier, BlockOutcome, Ledger, LedgerError};
use consensus::receipt::LedgerEvent;
use consensus::storage::{Store, StoreError};
use consensus::tx::SignatureCache;
use consensus::validator::FinalizedSink;
use tokio::sync::mpsc;

use crate::api::{ApiEvent, EventBatch, EventSender, Game, SyncProgress};
use crate::mempool::{GroupCommit, Mempool};
use crate::metrics::{GameLabel, Metrics};
use crate::network::{BlockSource, FinalizedBlock, Network};
use index::{Index, event_table};

/// A beacon verifier the chain can share between threads.
pub type SharedBeacon = Arc<dyn BeaconVerifier + Send + Sync>;

/// Meta key prefix of finality proofs.
const PROOF_KEY: &[u8] = b"node/proof/";
/// Meta key prefix of the block-hash index.
const HASH_KEY: &[u8] = b"node/block-hash/";
/// Meta key of the explorer index.
const INDEX_KEY: &[u8] = b"node/index";

/// How many entries a leaderboard event carries.
pub const LEADERBOARD_EVENT_ENTRIES: usize = 10;

/// How many blocks behind the best known height still count as synced.
pub const SYNCED_WITHIN_BLOCKS: u64 = 2;

/// Why the chain could not be opened or a block not applied.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The database failed.
    #[error("chain storage: {0}")]
    Store(#[from] StoreError),
    /// The ledger refused to open or refused a block.
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    /// A stored block does not decode (the database is damaged).
    #[error(
        "the stored block at height {height} does not decode: {reason}; the database in {path} is damaged, restore it or sync into an empty data_dir"
    )]
    CorruptBlock {
        /// The height.
        height: u64,
        /// Why.
        reason: String,
        /// The database directory.
        path: String,
    },
    /// A lock was poisoned by a panic elsewhere in the node.
    #[error("the chain state is unusable after an earlier panic; restart the node")]
    Poisoned,
}

fn proof_key(height: u64) -> Vec<u8> {
    [PROOF_KEY, &height.to_be_bytes()].concat()
}

fn hash_key(hash: &BlockHash) -> Vec<u8> {
    [HASH_KEY, hash.as_bytes()].concat()
}

/// Catch-up progress, written by the follower and read by the API.
#[derive(Debug, Default)]
struct SyncTracker {
    /// The best finalized height known from peers.
    target: Option<u64>,
    /// Recent blocks-per-second estimate.
    rate: f64,
    /// When and at what height the rate was last sampled.
    sample: Option<(Instant, u64)>,
}

/// The node's chain state. See the [module documentation](self).
pub struct Chain {
    genesis: Genesis,
    chain_id: ChainId,
    store: Arc<Store>,
    ledger: Arc<RwLock<Ledger>>,
    beacon: SharedBeacon,
    index: Mutex<Index>,
    events: EventSender,
    metrics: Arc<Metrics>,
    mempool: Arc<Mutex<Mempool>>,
    /// The journal of local transactions behind its writer thread, once
    /// restored (none if `mempool.journal` is off).
    journal: Mutex<Option<Arc<GroupCommit>>>,
    network: RwLock<Option<Network>>,
    gossip: Mutex<Option<mpsc::Sender<FinalizedBlock>>>,
    sync: Mutex<SyncTracker>,
    last_block: Mutex<Option<Instant>>,
    wallet_lock: Mutex<()>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("chain_id", &self.chain_id)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Chain {
    /// Opens the chain of `genesis` in `store`: the ledger at its last
    /// applied block, and the explorer index (rebuilt by replaying the
    /// stored blocks through an in-memory ledger if it is missing or
    /// behind). `beacon` verifies beacon entries (the chain's
    /// `ThresholdBeaconVerifier`); `events` is where each block's
    /// [`ApiEvent`]s go, as one batch.
    pub fn open(
        genesis: Genesis,
        store: Arc<Store>,
        beacon: SharedBeacon,
        mempool: Arc<Mutex<Mempool>>,
        events: EventSender,
        metrics: Arc<Metrics>,
    ) -> Result<Chain, ChainError> {
        let ledger = Ledger::open(store.clone(), &genesis)?;
        let head = ledger.head().map(|h| h.height);
        let stored = store
            .get_meta(INDEX_KEY)?
            .and_then(|bytes| Index::decode(&bytes));
        let index = match stored {
            Some(index) if index.height == head => index,
            _ => rebuild_index(&genesis, &store, beacon.as_ref(), head)?,
        };
        metrics.set_height(head.unwrap_or(0));
        metrics.set_epoch(ledger.epoch());
        Ok(Chain {
            chain_id: genesis.chain_id(),
            genesis,
            store,
            ledger: Arc::new(RwLock::new(ledger)),
            beacon,
            index: Mutex::new(index),
            events,
            metrics,
            mempool,
            journal: Mutex::new(None),
            network: RwLock::new(None),
            gossip: Mutex::new(None),
            sync: Mutex::new(SyncTracker::default()),
            last_block: Mutex::new(None),
            wallet_lock: Mutex::new(()),
        })
    }

    /// The chain id.
    pub fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The ledger, shared with whatever applies finalized blocks. Hold its
    /// write lock only while applying, and release it before calling
    /// [`Chain::on_finalized`].
    pub fn ledger(&self) -> &Arc<RwLock<Ledger>> {
        &self.ledger
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The mempool.
    pub fn mempool(&self) -> &Arc<Mutex<Mempool>> {
        &self.mempool
    }

    /// The beacon verifier blocks are applied with.
    pub fn beacon(&self) -> &SharedBeacon {
        &self.beacon
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The height of the next block to apply.
    pub fn next_height(&self) -> Result<u64, ChainError> {
        Ok(self.read_ledger()?.next_height())
    }

    /// The last applied height, if any.
    pub fn height(&self) -> Result<Option<u64>, ChainError> {
        Ok(self.read_ledger()?.head().map(|h| h.height))
    }

    fn read_ledger(&self) -> Result<std::sync::RwLockReadGuard<'_, Ledger>, ChainError> {
        self.ledger.read().map_err(|_| ChainError::Poisoned)
    }

    /// Connects the running network: peers are counted from it and
    /// transactions submitted through the API are published on it.
    pub fn attach_network(&self, network: Network) {
        if let Ok(mut slot) = self.network.write() {
            *slot = Some(network);
        }
    }

    fn network(&self) -> Option<Network> {
        self.network.read().ok().and_then(|n| n.clone())
    }

    /// Where [`Chain::on_finalized`] hands finalized blocks to be gossiped
    /// (the daemon's publisher task reads the other end). Blocks are
    /// dropped, with a warning, while the channel is full.
    pub fn attach_gossip(&self, sender: mpsc::Sender<FinalizedBlock>) {
        if let Ok(mut slot) = self.gossip.lock() {
            *slot = Some(sender);
        }
    }

    /// The finality proof stored for the block at `height`.
    pub fn proof(&self, height: u64) -> Result<Option<Vec<u8>>, ChainError> {
        Ok(self.store.get_meta(&proof_key(height))?)
    }

    /// The stored block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>, ChainError> {
        match self.store.block(height)? {
            None => Ok(None),
            Some(bytes) => Block::decode(&bytes)
                .map(Some)
                .map_err(|e| ChainError::CorruptBlock {
                    height,
                    reason: e.to_string(),
                    path: self.store.path().display().to_string(),
                }),
        }
    }

    /// Applies a block proven final (by its own proof, or by a certified
    /// descendant's chain of parent hashes — the follower's job) to the
    /// ledger with the chain's beacon verifier, then runs
    /// [`Chain::on_finalized`]. Returns whether it was new.
    ///
    /// The signatures are checked through the process-wide
    /// [`SignatureCache`] before the ledger's write lock is taken: this
    /// node normally met every transaction already (at its API, its
    /// mempool's gossip entry, or in the gossiped finalized block's
    /// check), so no signature is verified again. Only a block whose
    /// signatures all verify skips the ledger's own verification; any
    /// other goes through [`Ledger::apply`] unchanged, so the outcome and
    /// the error are exactly what they were without the cache.
    pub fn apply_finalized(
        &self,
        block: &Block,
        proof: Option<&[u8]>,
        heard: Heard,
    ) -> Result<bool, ChainError> {
        let next = self.read_ledger()?.next_height();
        let verified = block.header.height == next
            && block
                .verify_signatures_with(SignatureCache::process())
                .is_ok();
        let outcome = {
            let mut ledger = self.ledger.write().map_err(|_| ChainError::Poisoned)?;
            if verified {
                ledger.apply_verified(block, self.beacon.as_ref())?
            } else {
                ledger.apply(block, self.beacon.as_ref())?
            }
        };
        match outcome {
            BlockOutcome::Applied(applied) => {
                self.on_finalized(block, proof, Some(&applied), heard);
                Ok(true)
            }
            BlockOutcome::AlreadyApplied { .. } => {
                self.on_finalized(block, proof, None, heard);
                Ok(false)
            }
        }
    }

    /// To be called after each finalized block is applied to the shared
    /// ledger (with the ledger's lock released), by the follower or the
    /// validator core. `proof` is the block's encoded finality proof if it
    /// was finalized by its own certificate; `applied` is `None` when the
    /// block had been applied before (redelivered after a restart, or
    /// applied first by the other of a validator node's two appliers).
    ///
    /// It stores the proof and the block-hash entry, folds the block into
    /// the explorer index, prunes the mempool, updates the metrics and
    /// publishes [`ApiEvent`]s, after handing the block with its proof to
    /// the gossip publisher. Failures are logged, never fatal: the block is
    /// already durably applied.
    pub fn on_finalized(
        &self,
        block: &Block,
        proof: Option<&[u8]>,
        applied: Option<&AppliedBlock>,
        heard: Heard,
    ) {
        let height = block.header.height;
        let _span = tracing::info_span!("block", height, hash = %block.hash()).entered();
        tracing::debug!(target: consensus::engine::LATENCY, height, "finalized block on the ledger");
        // Gossip first: followers need the block and its proof, not this
        // node's explorer index. Gossiping again what gossip brought, or
        // what was handled before, is a duplicate gossipsub refuses (and
        // logs).
        if applied.is_some()
            && heard == Heard::Elsewhere
            && let Some(sender) = self.gossip.lock().ok().and_then(|g| g.clone())
            && let Err(error) = sender.try_send(FinalizedBlock::new(block.clone(), proof))
        {
            tracing::warn!(%error, "finalized block not gossiped: the publisher is behind");
        }
        if let Some(proof) = proof
            && let Err(error) = self.store.put_synced_meta(&proof_key(height), proof)
        {
            tracing::warn!(%error, "cannot store the block's finality proof");
        }
        if let Some(applied) = applied {
            if let Err(error) = self
                .store
                .put_synced_meta(&hash_key(&applied.block_hash), &height.to_be_bytes())
            {
                tracing::warn!(%error, "cannot index the block's hash");
            }
            self.index_and_publish(block, applied);
        }
        self.prune_mempool(block);
    }

    fn index_and_publish(&self, block: &Block, applied: &AppliedBlock) {
        let height = applied.height;
        let (changes, games, boards) = {
            // The ledger before the index, in the order the API's readers
            // take them.
            let Ok(ledger) = self.ledger.read() else {
                return;
            };
            let Ok(mut index) = self.index.lock() else {
                return;
            };
            let changes = index.apply(block, applied, |epoch| {
                leaders::committee(&self.genesis, &ledger, epoch)
            });
            drop(ledger);
            if let Err(error) = self.store.put_synced_meta(INDEX_KEY, &index.encode()) {
                tracing::warn!(%error, "cannot store the explorer index; it is rebuilt at the next start");
            }
            let games = |event: &LedgerEvent| {
                event_table(event).and_then(|t| index.game(t).map(|g| (t, g)))
            };
            let games: Vec<_> = applied
                .receipts
                .iter()
                .flat_map(|r| r.events.iter())
                .chain(&applied.events.events)
                .map(games)
                .collect();
            let boards = changes.players_changed.then(|| {
                [None, Some(Game::Crash), Some(Game::Craps)]
                    .map(|game| (game, index.leaderboard(game, LEADERBOARD_EVENT_ENTRIES)))
            });
            (changes, games, boards)
        };
        // Metrics.
        self.metrics.inc_finalized_views();
        self.metrics.set_height(height);
        if let Ok(ledger) = self.ledger.read() {
            self.metrics.set_epoch(ledger.epoch());
        }
        if let Ok(mut last) = self.last_block.lock() {
            let now = Instant::now();
            if let Some(previous) = last.replace(now) {
                self.metrics
                    .observe_block_interval(now.saturating_duration_since(previous));
            }
        }
        for (game, chips) in &changes.bets {
            self.metrics.record_bet(label(*game), *chips);
        }
        for game in &changes.rounds {
            self.metrics.inc_rounds(label(*game));
        }
        // Events: one batch for the block.
        let mut events = Vec::new();
        let mut send = |event: ApiEvent| events.push(event);
        send(ApiEvent::Block {
            height,
            hash: applied.block_hash,
            timestamp_ms: block.header.timestamp_ms,
            transaction_count: u32::try_from(block.transactions.len()).unwrap_or(u32::MAX),
        });
        let all_events = applied
            .receipts
            .iter()
            .flat_map(|r| r.events.iter())
            .chain(&applied.events.events);
        for (event, game) in all_events.zip(games) {
            if let Some((table, game)) = game {
                send(ApiEvent::Table {
                    table,
                    game,
                    height,
                    event: event.clone(),
                });
            }
        }
        for (signed, receipt) in block.transactions.iter().zip(&applied.receipts) {
            // The node's side of the transaction's application, under its
            // hash as in gossip validation (`network::validation`); the
            // ledger executed it earlier in its own `block` and `tx` spans
            // (`consensus::ledger`).
            let _span =
                tracing::debug_span!("tx", hash = %receipt.tx, status = ?receipt.status).entered();
            tracing::debug!("transaction applied in a block");
            let mut accounts = vec![signed.sender_address()];
            for account in receipt.events.iter().filter_map(LedgerEvent::account) {
                if !accounts.contains(account) {
                    accounts.push(*account);
                }
            }
            for account in accounts {
                send(ApiEvent::Receipt {
                    account,
                    height,
                    receipt: receipt.clone(),
                });
            }
        }
        if let Some(boards) = boards {
            for (game, entries) in boards {
                send(ApiEvent::Leaderboard { game, entries });
            }
        }
        // No subscriber is not an error.
        let _ = self.events.send(EventBatch::from(events));
        tracing::debug!(target: consensus::engine::LATENCY, height, "events published");
        tracing::info!(
            txs = block.transactions.len(),
            proposer = %block.header.proposer.address(),
            "finalized block applied"
        );
    }

    fn prune_mempool(&self, block: &Block) {
        let view = LedgerAccounts::new(self.ledger.clone());
        let Ok(mut mempool) = self.mempool.lock() else {
            return;
        };
        let included = block.transaction_hashes();
        // Finality latency as this node's users see it: from the moment
        // this node first admitted a transaction to its block being on
        // this node's ledger. Taken once, so a block handled twice (both
        // appliers of a validator) counts each transaction once.
        let now = Instant::now();
        for hash in &included {
            let _span = tracing::debug_span!("tx", %hash).entered();
            if let Some(first_seen) = mempool.take_first_seen(hash) {
                self.metrics
                    .observe_finality_latency(now.saturating_duration_since(first_seen));
            }
        }
        mempool.remove_included(&included);
        let pruned = mempool.on_new_height(&view);
        if !pruned.is_empty() {
            tracing::debug!(dropped = pruned.len(), "mempool pruned at the new height");
        }
        self.metrics.set_mempool(mempool.len(), mempool.bytes());
    }

    /// Notes the best finalized height known from peers (the follower
    /// calls it); the status, `/ready` and the sync-lag metric follow.
    pub fn note_target(&self, target: u64) {
        if let Ok(mut sync) = self.sync.lock()
            && sync.target.is_none_or(|t| target > t)
        {
            sync.target = Some(target);
        }
        self.refresh_sync();
    }

    /// Recomputes the sync rate and lag; returns the progress while
    /// syncing.
    pub fn refresh_sync(&self) -> Option<SyncProgress> {
        let height = self.height().ok().flatten();
        let reached = height.unwrap_or(0);
        let Ok(mut sync) = self.sync.lock() else {
            return None;
        };
        let now = Instant::now();
        match sync.sample {
            Some((at, from)) if now.duration_since(at) >= Duration::from_secs(1) => {
                let rate =
                    reached.saturating_sub(from) as f64 / now.duration_since(at).as_secs_f64();
                sync.rate = if sync.rate == 0.0 {
                    rate
                } else {
                    0.5 * sync.rate + 0.5 * rate
                };
                sync.sample = Some((now, reached));
            }
            Some(_) => {}
            None => sync.sample = Some((now, reached)),
        }
        let target = sync.target?;
        let lag = match height {
            Some(h) => target.saturating_sub(h),
            None => target + 1,
        };
        self.metrics.set_sync_lag(lag);
        (lag > SYNCED_WITHIN_BLOCKS).then(|| SyncProgress {
            height: reached,
            target,
            blocks_per_second: sync.rate,
            eta_seconds: (sync.rate > 0.0).then(|| (lag as f64 / sync.rate).ceil() as u64),
        })
    }

    /// The leaderboard from the explorer index.
    pub(crate) fn leaderboard(
        &self,
        game: Option<Game>,
        limit: usize,
    ) -> Result<Vec<crate::api::LeaderboardEntry>, ChainError> {
        let index = self.index.lock().map_err(|_| ChainError::Poisoned)?;
        Ok(index.leaderboard(game, limit))
    }
}

fn label(game: Game) -> GameLabel {
    match game {
        Game::Crash => GameLabel::Crash,
        Game::Craps => GameLabel::Craps,
    }
}

/// Rebuilds the explorer index from the stored blocks `0..=head`, replaying
/// them through an in-memory ledger (their signatures were verified when
/// they were first applied; beacon entries are checked again).
fn rebuild_index(
    genesis: &Genesis,
    store: &Store,
    beacon: &dyn BeaconVerifier,
    head: Option<u64>,
) -> Result<Index, ChainError> {
    let mut index = Index::default();
    let Some(head) = head else {
        return Ok(index);
    };
    tracing::info!(
        blocks = head + 1,
        "rebuilding the explorer index from the stored blocks"
    );
    let mut ledger = Ledger::in_memory(genesis)?;
    for height in 0..=head {
        let bytes = store
            .block(height)?
            .ok_or_else(|| ChainError::CorruptBlock {
                height,
                reason: "it is missing".into(),
                path: store.path().display().to_string(),
            })?;
        let block = Block::decode(&bytes).map_err(|e| ChainError::CorruptBlock {
            height,
            reason: e.to_string(),
            path: store.path().display().to_string(),
        })?;
        if let BlockOutcome::Applied(applied) = ledger.apply_verified(&block, beacon)? {
            index.apply(&block, &applied, |epoch| {
                leaders::committee(genesis, &ledger, epoch)
            });
            store.put_synced_meta(&hash_key(&applied.block_hash), &height.to_be_bytes())?;
        }
    }
    store.put_synced_meta(INDEX_KEY, &index.encode())?;
    Ok(index)
}

/// How this node heard of a finalized block it applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heard {
    /// A peer gossiped it: gossipsub relays it already.
    Gossip,
    /// Its own engine finalized it, or sync fetched it: it is gossiped to
    /// followers.
    Elsewhere,
}

/// The chain as the validator core's finalized-block sink: each finalized
/// block it applies goes to [`Chain::on_finalized`].
#[derive(Clone, Debug)]
pub struct ChainSink(pub Arc<Chain>);

impl FinalizedSink for ChainSink {
    fn finalized(&mut self, block: &Block, proof: Option<&[u8]>, applied: Option<&AppliedBlock>) {
        self.0.on_finalized(block, proof, applied, Heard::Elsewhere);
    }
}

impl BlockSource for Chain {
    fn blocks(&self, from_height: u64, max: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for height in (from_height..).take(max) {
            let Ok(Some(block)) = self.store.block(height) else {
                break;
            };
            let proof = self.proof(height).ok().flatten();
            out.push(FinalizedBlock::encode_parts(&block, proof.as_deref()));
        }
        out
    }
}
