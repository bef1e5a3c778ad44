//! # The ledger state machine
//!
//! [`Ledger::apply`] takes a finalized [`Block`] and computes, purely and
//! deterministically, the next state: accounts and balances, the bankroll,
//! validators, stakes and epochs, tables with their craps and crash games,
//! the randomness still pending. It returns the new state root, one
//! [`Receipt`] per transaction, the block-level events ([`BlockEvents`]:
//! rolls, ticks, crashes, voids, round transitions, payouts), the finished
//! rounds for the explorer ([`records`]), and the [`BlockCommit`] that
//! writes all of it to RocksDB in one atomic batch.
//!
//! Nothing here reads a clock, iterates a hash map, or uses a float: time
//! is the header's `timestamp_ms`, randomness is the beacon entries of later
//! blocks, every map is a `BTreeMap`, and every amount is checked integer
//! arithmetic (an overflow is a refused transaction or a typed error, never
//! a wrap or a panic).
//!
//! ## Refusing a block
//!
//! A block is refused as a whole — with a [`LedgerError`], changing nothing
//! in memory or in the store — when its header is not the next one
//! (height, parent hash, `parent_state_root`, a timestamp after its
//! parent's or the genesis time, a proposer of the current validator set,
//! at most `max_block_txs` transactions), when it fails
//! [`Block::check_well_formed`] (chain id, roots, counts, duplicates,
//! stateless transaction rules) or [`Block::verify_signatures`] (the
//! ed25519 rule, in one batch), or when a beacon entry is unexpected, out of order
//! or does not verify. [`Ledger::apply_verified`] is the same without the
//! signature pass, for a caller that verified the block's signatures
//! already. A block at or below the last applied height is a no-op if it is
//! the block applied there ([`BlockOutcome::AlreadyApplied`]), else
//! [`LedgerError::ConflictingBlock`].
//!
//! ## Order inside a block
//!
//! 1. **Beacon entries**, in height order: each settles what its height
//!    committed — crash intervals (`CrashRound::decide_next` with label
//!    `table ‖ round ‖ tick`) and craps rolls (`Randomness::from_beacon_output(σ)
//!    .stream(CrapsRoll, table ‖ roll number).roll()`). See [`beacon`].
//! 2. **Time**, per crash table in id order, with the header's timestamp:
//!    rounds start, tick, and open again after their cooldown. See
//!    [`crash`].
//! 3. **Transactions**, in block order: stateful checks (nonce, expiry,
//!    minimum fee, balance for the fee — a failure is a `Rejected` receipt
//!    with no charge and no nonce used; proposers should never include such
//!    a transaction), then the fee to the fee pool and the nonce, then the
//!    action, which is applied whole or refused with a reason changing
//!    nothing but fee and nonce. See [`transactions`].
//! 4. **Craps roll commits**, per craps table in id order: a table with
//!    bets, no roll pending, and the roll interval passed commits its next
//!    roll at this height (this block's bets are in it). See [`craps`].
//! 5. **Void**: what has waited `beacon_void_after_blocks` blocks for its
//!    randomness is void and refunded — never re-rolled.
//! 6. **Payouts and epochs**: unbonded stake and due bankroll withdrawals
//!    are paid; in the middle of an epoch a resharing round opens if the
//!    next set differs, and at its last block the round closes, the fees
//!    are split among the epoch's validators (remainder burned) and the
//!    next set takes over. See [`reshare`], [`staking`] and [`bankroll`].
//! 7. **Invariants** ([`invariants`]): checked after every block in debug
//!    builds (a violation refuses the block) and by the tests.
//!
//! ## Book-keeping
//!
//! Chips are always somewhere: an account balance, the bankroll's pool, a
//! validator's bonded stake, an unbonding entry, a table's escrow (craps
//! stakes and odds, crash stakes not yet settled), or the fee pool; their
//! sum is the genesis supply plus the faucet's mints minus what was burned
//! (fee remainders, slashing). Bets move player → escrow; settlements move
//! escrow → player or bankroll and bankroll → player as the game engine's
//! settlements say; the bankroll keeps a reserve so it can always pay (see
//! [`bankroll`]).
//!
//! ## Storage
//!
//! The state lives in memory (typed `BTreeMap`s) and in the store's `state`
//! column family (keys in [`keys`]); the state tree ([`crate::merkle`])
//! commits to every record, and its root is stored with each block and is
//! the next block's `parent_state_root`. See [`persistence`] for the
//! genesis and reopening. [`Ledger::in_memory`] runs the same machine with
//! no store (the tree in memory); its commits are identical.

pub mod bankroll;
pub mod beacon;
pub mod craps;
pub mod crash;
mod error;
mod exec;
pub mod invariants;
pub mod keys;
pub mod persistence;
pub mod records;
pub mod reshare;
pub mod staking;
mod state;
pub mod tables;
pub mod transactions;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use borsh::{BorshDeserialize, BorshSerialize};
use wallet::{Address, ChainId, PublicKey};

pub use beacon::BeaconVerifier;
pub use error::{BeaconError, EvidenceEpochError, InvariantError, LedgerError};
pub use records::RoundRecord;
pub use state::{
    Account, Bankroll, EpochRecord, EvidenceUsed, Globals, Head, PendingItem, PendingRandomness,
    Unbonding, Validator, Withdrawal,
};
pub use tables::{
    CrapsPlay, CrashBetState, CrashPlay, CrashTiming, OpenBet, OpenBetState, PendingRoll, Play,
    Table,
};

use crate::beacon::dkg::DkgOutput;
use crate::block::Block;
use crate::encoding::{DecodeError, decode, encode};
use crate::genesis::{Genesis, Params};
use crate::hash::{BlockHash, Hash, TxHash};
use crate::merkle::{
    MemoryNodeStore, NodeBatch, NodeKey, NodeStore, NodeStoreError, Overlay, Proof, StateTree,
    TreeUpdate,
};
use crate::receipt::{LedgerEvent, Receipt};
use crate::storage::{ApplyOutcome, BlockCommit, Store};
use crate::tx::{ConsensusCommittee, Slot, TableId};
use exec::{Env, Out};
use persistence::StoreNodes;
use state::State;

/// The block-level events of a block (not caused by one transaction), in
/// the order of the steps: settlements by beacon entries, crash rounds
/// starting and ticking, craps rolls committed, voids and refunds, payouts
/// and the epoch change.
///
/// The store keeps them ([`Store::block_events`]), and every account one
/// of them names ([`LedgerEvent::account`]) has the block in its history,
/// so a player's settlements are there beside the bets that made them.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BlockEvents {
    /// The block's height.
    pub height: u64,
    /// The events.
    pub events: Vec<LedgerEvent>,
}

/// The largest stored [`BlockEvents`] encoding [`BlockEvents::decode`]
/// accepts: far above what a block of [`crate::block::MAX_TXS_PER_BLOCK`]
/// transactions can settle.
pub const MAX_BLOCK_EVENTS_BYTES: usize = 64 * 1024 * 1024;

impl BlockEvents {
    /// The canonical encoding (what the store keeps).
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes stored block events: at most [`MAX_BLOCK_EVENTS_BYTES`],
    /// canonical.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] if the bytes are too long, malformed or not canonical.
    pub fn decode(bytes: &[u8]) -> Result<BlockEvents, DecodeError> {
        decode("block events", bytes, MAX_BLOCK_EVENTS_BYTES)
    }

    /// The accounts the events name, each once, in address order.
    pub fn accounts(&self) -> BTreeSet<Address> {
        self.events
            .iter()
            .filter_map(LedgerEvent::account)
            .copied()
            .collect()
    }
}

/// What applying a block produced.
#[derive(Debug)]
pub struct AppliedBlock {
    /// The block's height.
    pub height: u64,
    /// The block's hash.
    pub block_hash: BlockHash,
    /// The state root after it (the next block's `parent_state_root`).
    pub state_root: Hash,
    /// One receipt per transaction, in block order.
    pub receipts: Vec<Receipt>,
    /// Its block-level events.
    pub events: BlockEvents,
    /// The rounds it finished: `(table, round or roll number, record)`.
    pub rounds: Vec<(TableId, u64, RoundRecord)>,
    /// Everything it writes to the store (already written by a ledger
    /// opened on a store).
    pub commit: BlockCommit,
}

/// The result of [`Ledger::apply`].
#[derive(Debug)]
pub enum BlockOutcome {
    /// The block was applied.
    Applied(Box<AppliedBlock>),
    /// This very block was applied before: nothing changed.
    AlreadyApplied {
        /// Its height.
        height: u64,
    },
}

impl BlockOutcome {
    /// The applied block, if it was applied now.
    pub fn applied(self) -> Option<AppliedBlock> {
        match self {
            BlockOutcome::Applied(applied) => Some(*applied),
            BlockOutcome::AlreadyApplied { .. } => None,
        }
    }
}

/// A state key's value and its proof against the state root.
#[derive(Clone, Debug)]
pub struct StateProof {
    /// The state root the proof is against.
    pub root: Hash,
    /// The key.
    pub key: Vec<u8>,
    /// Its value, or `None` if absent.
    pub value: Option<Vec<u8>>,
    /// The proof; check it with [`crate::merkle::verify`].
    pub proof: Proof,
}

/// The genesis state and tree, written with the first block.
#[derive(Clone, Debug)]
struct GenesisWrites {
    state: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    nodes: NodeBatch,
}

#[derive(Debug)]
enum Backend {
    Memory {
        nodes: MemoryNodeStore,
        /// The hash of every applied block known, by height.
        applied: BTreeMap<u64, BlockHash>,
    },
    Store(Arc<Store>),
}

/// The nodes of the state tree, wherever they are.
enum Nodes<'a> {
    Memory(&'a MemoryNodeStore),
    Store(StoreNodes<'a>),
}

impl NodeStore for Nodes<'_> {
    fn get_node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, NodeStoreError> {
        match self {
            Nodes::Memory(nodes) => nodes.get_node(key),
            Nodes::Store(nodes) => nodes.get_node(key),
        }
    }
}

/// What the steps of a block produced before it is committed.
struct Executed {
    receipts: Vec<Receipt>,
    accounts: Vec<BTreeSet<Address>>,
    hashes: Vec<TxHash>,
    out: Out,
}

/// The ledger state machine. See the [module documentation](self).
#[derive(Debug)]
pub struct Ledger {
    genesis_hash: Hash,
    chain_id: ChainId,
    genesis_time_ms: u64,
    params: Params,
    state: State,
    head: Option<Head>,
    /// The genesis root, while no block is applied.
    genesis_root: Option<Hash>,
    /// The genesis writes, while no block is applied.
    pending_genesis: Option<GenesisWrites>,
    /// The output standing for the genesis `beacon_sharing`
    /// ([`crate::beacon::dkg::genesis_output`]), from which the first
    /// resharing round starts; `None` without a sharing.
    genesis_output: Option<Arc<DkgOutput>>,
    backend: Backend,
}

/// The output standing for `genesis`'s `beacon_sharing`, if it has one.
fn genesis_output(genesis: &Genesis) -> Result<Option<Arc<DkgOutput>>, LedgerError> {
    let Some(sharing) = &genesis.beacon_sharing else {
        return Ok(None);
    };
    let players = genesis
        .validators
        .iter()
        .map(|v| reshare::identity(&v.consensus_key))
        .collect::<Result<Vec<_>, _>>()?;
    crate::beacon::dkg::genesis_output(sharing, &players, &genesis.hash().to_bytes())
        .map(|output| Some(Arc::new(output)))
        .map_err(|e| LedgerError::corrupt(format!("the genesis beacon sharing: {e}")))
}

fn update_tree<S: NodeStore>(
    nodes: S,
    changes: &[(Vec<u8>, Option<Vec<u8>>)],
) -> Result<TreeUpdate, LedgerError> {
    Ok(StateTree::new(nodes).update(
        changes
            .iter()
            .map(|(key, value)| (key.as_slice(), value.as_deref())),
    )?)
}

impl Ledger {
    /// A ledger at genesis with no store: the state and the state tree in
    /// memory. Applying blocks gives the same roots, receipts and commits
    /// as a ledger on a store.
    pub fn in_memory(genesis: &Genesis) -> Result<Ledger, LedgerError> {
        let state = persistence::genesis_state(genesis)?;
        let nodes = MemoryNodeStore::new();
        let entries = state.all_entries();
        let update = update_tree(&nodes, &entries)?;
        Ok(Ledger {
            genesis_hash: genesis.hash(),
            chain_id: genesis.chain_id(),
            genesis_time_ms: genesis.genesis_time_ms,
            params: genesis.params,
            state,
            head: None,
            genesis_root: Some(Hash::new(update.root)),
            pending_genesis: Some(GenesisWrites {
                state: entries,
                nodes: update.batch,
            }),
            genesis_output: genesis_output(genesis)?,
            backend: Backend::Memory {
                nodes,
                applied: BTreeMap::new(),
            },
        })
    }

    /// Opens the ledger of `store` for the chain of `genesis`: loads the
    /// state after the last applied block, or starts at genesis if the
    /// store has no block yet. Refuses a store of another chain
    /// ([`LedgerError::GenesisMismatch`]) or whose state does not match its
    /// stored root.
    pub fn open(store: Arc<Store>, genesis: &Genesis) -> Result<Ledger, LedgerError> {
        genesis.validate()?;
        let genesis_hash = genesis.hash();
        let (state, head, genesis_root, pending_genesis) = match store.last_applied_height()? {
            None => {
                let state = persistence::genesis_state(genesis)?;
                let entries = state.all_entries();
                let update = update_tree(StoreNodes(&store), &entries)?;
                let writes = GenesisWrites {
                    state: entries,
                    nodes: update.batch,
                };
                (state, None, Some(Hash::new(update.root)), Some(writes))
            }
            Some(height) => {
                let (state, head) = persistence::load(&store, genesis_hash)?;
                if head.height != height {
                    return Err(LedgerError::corrupt(format!(
                        "the head is at height {} but the store applied {height}",
                        head.height
                    )));
                }
                let root = StateTree::new(StoreNodes(&store)).root()?;
                if Hash::new(root) != head.state_root {
                    return Err(LedgerError::corrupt(format!(
                        "the state tree's root {} is not the head's {}",
                        Hash::new(root),
                        head.state_root
                    )));
                }
                (state, Some(head), None, None)
            }
        };
        Ok(Ledger {
            genesis_hash,
            chain_id: genesis.chain_id(),
            genesis_time_ms: genesis.genesis_time_ms,
            params: genesis.params,
            state,
            head,
            genesis_root,
            pending_genesis,
            genesis_output: genesis_output(genesis)?,
            backend: Backend::Store(store),
        })
    }

    /// An in-memory copy of this ledger's current state (for speculative
    /// execution, or benchmarks). For a ledger on a store the state tree is
    /// rebuilt in memory. The fork remembers only its head block (not the
    /// hashes of every block before it), so forking costs the size of the
    /// state, not of the chain: offering the fork an older block is a
    /// [`LedgerError::WrongHeight`] rather than a no-op.
    pub fn fork_in_memory(&self) -> Result<Ledger, LedgerError> {
        let (nodes, applied) = match &self.backend {
            Backend::Memory { nodes, applied } => (
                nodes.clone(),
                applied
                    .last_key_value()
                    .map(|(height, hash)| (*height, *hash))
                    .into_iter()
                    .collect(),
            ),
            Backend::Store(_) => {
                let mut nodes = MemoryNodeStore::new();
                let mut applied = BTreeMap::new();
                if let Some(head) = self.head {
                    let update = update_tree(&nodes, &self.state.all_entries())?;
                    if Hash::new(update.root) != head.state_root {
                        return Err(LedgerError::corrupt(
                            "the rebuilt state tree has another root",
                        ));
                    }
                    nodes.apply(&update.batch);
                    applied.insert(head.height, head.block_hash);
                }
                (nodes, applied)
            }
        };
        Ok(Ledger {
            genesis_hash: self.genesis_hash,
            chain_id: self.chain_id,
            genesis_time_ms: self.genesis_time_ms,
            params: self.params,
            state: self.state.clone(),
            head: self.head,
            genesis_root: self.genesis_root,
            pending_genesis: self.pending_genesis.clone(),
            genesis_output: self.genesis_output.clone(),
            backend: Backend::Memory { nodes, applied },
        })
    }

    /// Applies `block`, verifying its signatures (`Block::verify_signatures`) and
    /// its beacon entries with `beacon`. See the [module documentation](self).
    pub fn apply(
        &mut self,
        block: &Block,
        beacon: &dyn BeaconVerifier,
    ) -> Result<BlockOutcome, LedgerError> {
        self.apply_block(block, beacon, true)
    }

    /// [`Ledger::apply`] for a block whose signatures the caller already
    /// verified with [`Block::verify_signatures`] (every other check is
    /// done). Applying a block with a bad signature this way is the
    /// caller's bug.
    pub fn apply_verified(
        &mut self,
        block: &Block,
        beacon: &dyn BeaconVerifier,
    ) -> Result<BlockOutcome, LedgerError> {
        self.apply_block(block, beacon, false)
    }

    /// Applies `block` by taking over `post`, the state an in-memory fork
    /// of this ledger ([`Ledger::fork_in_memory`]) reached by applying
    /// `block`, whose result was `applied`. Nothing is executed again: the
    /// fork's commit is written as it is (an in-memory ledger's commits are
    /// the stored one's, byte for byte) and the fork's state becomes this
    /// ledger's. A validator has already executed every block it verified,
    /// so finality costs it one write instead of a second execution.
    ///
    /// A block at or below the last applied height is handled as by
    /// [`Ledger::apply`]. Errors, changing nothing: `block` does not extend
    /// this ledger's head, or `post` and `applied` are not `block`'s
    /// post-state and result (the caller's bug), or the store failed.
    pub fn adopt(
        &mut self,
        block: &Block,
        post: &Ledger,
        applied: Box<AppliedBlock>,
    ) -> Result<BlockOutcome, LedgerError> {
        if let Some(outcome) = self.before_next(block)? {
            return Ok(outcome);
        }
        let height = block.header.height;
        let parent = self.next_parent();
        if block.header.parent != parent {
            return Err(LedgerError::WrongParent {
                expected: parent,
                found: block.header.parent,
            });
        }
        let root = self.state_root();
        if block.header.parent_state_root != root {
            return Err(LedgerError::WrongParentStateRoot {
                expected: root,
                found: block.header.parent_state_root,
            });
        }
        let block_hash = block.hash();
        let Some(head) = post.head.filter(|head| {
            head.height == height
                && head.block_hash == block_hash
                && applied.height == height
                && applied.block_hash == block_hash
                && applied.state_root == head.state_root
                && post.genesis_hash == self.genesis_hash
                && post.state.is_clean()
        }) else {
            return Err(LedgerError::corrupt(format!(
                "the state offered for height {height} is not the block's post-state"
            )));
        };
        match (&mut self.backend, &post.backend) {
            (Backend::Store(store), _) => {
                if let ApplyOutcome::AlreadyApplied { last_applied } =
                    store.apply_block(&applied.commit)?
                {
                    return Err(LedgerError::corrupt(format!(
                        "the store already applied height {last_applied} behind the ledger's back"
                    )));
                }
            }
            (
                Backend::Memory {
                    nodes,
                    applied: chain,
                },
                Backend::Memory {
                    nodes: post_nodes, ..
                },
            ) => {
                *nodes = post_nodes.clone();
                chain.insert(height, block_hash);
            }
            (Backend::Memory { .. }, Backend::Store(_)) => {
                return Err(LedgerError::corrupt(
                    "a post-state to adopt is an in-memory fork, not a store",
                ));
            }
        }
        self.state = post.state.clone();
        self.head = Some(head);
        self.genesis_root = None;
        self.pending_genesis = None;
        Ok(BlockOutcome::Applied(applied))
    }

    fn apply_block(
        &mut self,
        block: &Block,
        beacon: &dyn BeaconVerifier,
        verify_signatures: bool,
    ) -> Result<BlockOutcome, LedgerError> {
        if let Some(outcome) = self.before_next(block)? {
            return Ok(outcome);
        }
        self.check_header(block)?;
        block.check_well_formed(&self.chain_id)?;
        if verify_signatures {
            block.verify_signatures()?;
        }
        self.state.check_beacon_entries(block, beacon)?;
        let block_hash = block.hash();
        let executed = match self.execute(block, block_hash) {
            Ok(executed) => executed,
            Err(error) => {
                self.state.rollback();
                return Err(error);
            }
        };
        if cfg!(debug_assertions)
            && let Err(error) = self.state.check_invariants()
        {
            self.state.rollback();
            return Err(error.into());
        }
        match self.commit(block, block_hash, executed) {
            Ok(applied) => Ok(BlockOutcome::Applied(Box::new(applied))),
            Err(error) => {
                self.state.rollback();
                Err(error)
            }
        }
    }

    /// `block`'s outcome if it is not the next block: at or below the head
    /// it is a no-op or a conflict, past the next height an error. `None`:
    /// it is the next block, to be applied.
    fn before_next(&self, block: &Block) -> Result<Option<BlockOutcome>, LedgerError> {
        let height = block.header.height;
        let next = self.next_height();
        if height < next {
            return self.already_applied(block).map(Some);
        }
        if height > next {
            return Err(LedgerError::WrongHeight {
                expected: next,
                found: height,
            });
        }
        debug_assert!(
            self.state.is_clean(),
            "a previous block left changes behind"
        );
        Ok(None)
    }

    fn already_applied(&self, block: &Block) -> Result<BlockOutcome, LedgerError> {
        let height = block.header.height;
        let same = match &self.backend {
            Backend::Memory { applied, .. } => applied.get(&height).map(|h| *h == block.hash()),
            Backend::Store(store) => store.block(height)?.map(|b| b == block.encode()),
        };
        match same {
            Some(true) => Ok(BlockOutcome::AlreadyApplied { height }),
            Some(false) => Err(LedgerError::ConflictingBlock { height }),
            None => Err(LedgerError::WrongHeight {
                expected: self.next_height(),
                found: height,
            }),
        }
    }

    fn check_header(&self, block: &Block) -> Result<(), LedgerError> {
        let header = &block.header;
        let parent = self.head.map_or(self.genesis_hash, |h| h.block_hash);
        if header.parent != parent {
            return Err(LedgerError::WrongParent {
                expected: parent,
                found: header.parent,
            });
        }
        let parent_time = self.head.map_or(self.genesis_time_ms, |h| h.timestamp_ms);
        if header.timestamp_ms <= parent_time {
            return Err(LedgerError::TimestampNotAfterParent {
                parent: parent_time,
                timestamp: header.timestamp_ms,
            });
        }
        let root = self.state_root();
        if header.parent_state_root != root {
            return Err(LedgerError::WrongParentStateRoot {
                expected: root,
                found: header.parent_state_root,
            });
        }
        if block.transactions.len() > self.params.max_block_txs as usize {
            return Err(LedgerError::TooManyTransactions {
                count: block.transactions.len(),
                max: self.params.max_block_txs,
            });
        }
        if !self.state.active_validators().contains(&header.proposer) {
            return Err(LedgerError::unknown_proposer(&header.proposer));
        }
        Ok(())
    }

    fn execute(&mut self, block: &Block, block_hash: BlockHash) -> Result<Executed, LedgerError> {
        let height = block.header.height;
        // Debug spans, as the node's per-transaction spans: a disabled
        // callsite costs a cached-interest check and formats nothing (the
        // hashes are recorded as `Display` only by an enabled subscriber).
        let _block_span = tracing::debug_span!("block", height, hash = %block_hash).entered();
        let env = Env {
            params: &self.params,
            height,
            timestamp_ms: block.header.timestamp_ms,
            block_hash,
            epoch: self.state.globals.get().epoch,
            chain_id: &self.chain_id,
            beacon: self.genesis_output.as_deref(),
        };
        let mut out = Out::default();
        // 1. Beacon entries.
        self.state.apply_beacon_entries(&env, &mut out, block)?;
        // 2. Time.
        self.state.advance_crash_tables(&env, &mut out)?;
        // 3. Transactions.
        let hashes = block.transaction_hashes();
        let mut receipts = Vec::with_capacity(hashes.len());
        let mut accounts = Vec::with_capacity(hashes.len());
        for (signed, hash) in block.transactions.iter().zip(&hashes) {
            let _tx_span = tracing::debug_span!("tx", %hash).entered();
            let (receipt, tx_out) = self.state.execute_transaction(&env, signed, *hash)?;
            tracing::debug!(status = ?receipt.status, fee = %receipt.fee_charged, "transaction executed");
            receipts.push(receipt);
            accounts.push(tx_out.touched);
        }
        // 4. Craps roll commits.
        self.state.commit_craps_rolls(&env, &mut out)?;
        // 5. Void.
        self.state.void_expired(&env, &mut out)?;
        // 6. Payouts and epochs.
        self.state.release_unbonded(&env, &mut out)?;
        self.state.pay_withdrawals(&env, &mut out)?;
        let epoch_length = self.params.epoch_length_blocks.max(1);
        if let Some(genesis) = env.beacon
            && reshare::open_position(epoch_length) == Some(height % epoch_length)
        {
            self.state.open_reshare(&env, genesis)?;
        }
        if (height % epoch_length) + 1 == epoch_length {
            let next_set = match env.beacon {
                Some(_) => Some(
                    self.state
                        .close_reshare(&env, env.epoch.saturating_add(1))?
                        .unwrap_or_else(|| self.state.active_validators().to_vec()),
                ),
                None => None,
            };
            self.state.end_epoch(&env, &mut out, next_set)?;
        }
        // The touched accounts of block-level steps are not transaction
        // history.
        out.touched.clear();
        Ok(Executed {
            receipts,
            accounts,
            hashes,
            out,
        })
    }

    fn nodes(&self) -> Nodes<'_> {
        match &self.backend {
            Backend::Memory { nodes, .. } => Nodes::Memory(nodes),
            Backend::Store(store) => Nodes::Store(StoreNodes(store)),
        }
    }

    fn update_tree(
        &self,
        changes: &[(Vec<u8>, Option<Vec<u8>>)],
    ) -> Result<TreeUpdate, LedgerError> {
        let nodes = self.nodes();
        match &self.pending_genesis {
            Some(genesis) => {
                let mut update = update_tree(Overlay::new(&nodes, &genesis.nodes), changes)?;
                let mut batch = genesis.nodes.clone();
                batch.extend(update.batch);
                update.batch = batch;
                Ok(update)
            }
            None => update_tree(&nodes, changes),
        }
    }

    fn commit(
        &mut self,
        block: &Block,
        block_hash: BlockHash,
        executed: Executed,
    ) -> Result<AppliedBlock, LedgerError> {
        let height = block.header.height;
        let changes = self.state.changes();
        let update = self.update_tree(&changes)?;
        let state_root = Hash::new(update.root);
        let mut commit = BlockCommit::new(height, block.encode());
        if let Some(genesis) = &self.pending_genesis {
            for (key, value) in &genesis.state {
                if let Some(value) = value {
                    commit.put_state(key.clone(), value.clone());
                }
            }
            commit.put_state(keys::genesis(), self.genesis_hash.to_bytes().to_vec());
        }
        for (key, value) in changes {
            match value {
                Some(value) => commit.put_state(key, value),
                None => commit.delete_state(key),
            };
        }
        for (node, write) in update.batch.iter() {
            match write {
                Some(bytes) => commit.put_state(keys::node(node), bytes.to_vec()),
                None => commit.delete_state(keys::node(node)),
            };
        }
        let head = Head {
            height,
            block_hash,
            timestamp_ms: block.header.timestamp_ms,
            state_root,
        };
        commit.put_state(keys::root(height), state_root.to_bytes().to_vec());
        commit.put_state(keys::head(), encode(&head));
        for ((receipt, accounts), hash) in executed
            .receipts
            .iter()
            .zip(&executed.accounts)
            .zip(&executed.hashes)
        {
            commit.add_transaction(
                hash.to_bytes(),
                receipt.encode(),
                accounts.iter().map(|a| a.to_bytes()),
            )?;
        }
        for (table, round, record) in &executed.out.rounds {
            commit.put_round(table.0, *round, record.encode());
        }
        let events = BlockEvents {
            height,
            events: executed.out.events,
        };
        if !events.events.is_empty() {
            commit.set_block_events(
                events.encode(),
                events.accounts().into_iter().map(Address::to_bytes),
            )?;
        }
        match &mut self.backend {
            Backend::Store(store) => {
                if let ApplyOutcome::AlreadyApplied { last_applied } = store.apply_block(&commit)? {
                    return Err(LedgerError::corrupt(format!(
                        "the store already applied height {last_applied} behind the ledger's back"
                    )));
                }
            }
            Backend::Memory { nodes, applied } => {
                nodes.apply(&update.batch);
                applied.insert(height, block_hash);
            }
        }
        self.state.accept();
        self.head = Some(head);
        self.genesis_root = None;
        self.pending_genesis = None;
        Ok(AppliedBlock {
            height,
            block_hash,
            state_root,
            receipts: executed.receipts,
            events,
            rounds: executed.out.rounds,
            commit,
        })
    }

    // --- queries ------------------------------------------------------------

    /// The chain id.
    pub fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    /// The genesis hash (the first block's parent).
    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    /// The protocol parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The last applied block, if any.
    pub fn head(&self) -> Option<Head> {
        self.head
    }

    /// The height of the next block to apply.
    pub fn next_height(&self) -> u64 {
        self.head
            .map_or(crate::block::FIRST_BLOCK_HEIGHT, |h| h.height + 1)
    }

    /// The parent hash the next block must name.
    pub fn next_parent(&self) -> BlockHash {
        self.head.map_or(self.genesis_hash, |h| h.block_hash)
    }

    /// The timestamp the next block must exceed: the last block's, or the
    /// genesis time.
    pub fn last_timestamp_ms(&self) -> u64 {
        self.head.map_or(self.genesis_time_ms, |h| h.timestamp_ms)
    }

    /// The current state root: after the last applied block, or the
    /// genesis state's.
    pub fn state_root(&self) -> Hash {
        self.head
            .map(|h| h.state_root)
            .or(self.genesis_root)
            .unwrap_or(Hash::ZERO)
    }

    /// `address`'s account (balance 0, nonce 0 if it has none).
    pub fn account(&self, address: &Address) -> Account {
        self.state.account(address)
    }

    /// `address`'s bankroll shares (not counting shares locked in
    /// withdrawals).
    pub fn shares(&self, address: &Address) -> u128 {
        self.state.shares_of(address)
    }

    /// The bankroll.
    pub fn bankroll(&self) -> &Bankroll {
        self.state.bankroll.get()
    }

    /// The chain-wide figures and counters.
    pub fn globals(&self) -> &Globals {
        self.state.globals.get()
    }

    /// The pending bankroll withdrawals, by sequence number.
    pub fn withdrawals(&self) -> impl Iterator<Item = (&u64, &Withdrawal)> {
        self.state.withdrawals.iter()
    }

    /// The registered validator with consensus key `key`.
    pub fn validator(&self, key: &PublicKey) -> Option<&Validator> {
        self.state.validators.get(key)
    }

    /// Every registered validator, by key.
    pub fn validators(&self) -> impl Iterator<Item = (&PublicKey, &Validator)> {
        self.state.validators.iter()
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.state.globals.get().epoch
    }

    /// The record of `epoch` (its first height and set), while kept (the
    /// current epoch's always is).
    pub fn epoch_record(&self, epoch: u64) -> Option<&EpochRecord> {
        self.state.epochs.get(&epoch)
    }

    /// The current epoch's validators.
    pub fn active_validators(&self) -> &[PublicKey] {
        self.state.active_validators()
    }

    /// The beacon sharing in force (the DKG output whose players hold the
    /// current epoch's shares): the last completed resharing's, else the
    /// genesis's; `None` for a chain without a sharing.
    pub fn beacon_output(&self) -> Result<Option<DkgOutput>, LedgerError> {
        self.state.beacon_output(self.genesis_output.as_deref())
    }

    /// The beacon sharing in force in `epoch` (at most the current epoch):
    /// the one in force now from its first epoch on, a superseded one
    /// while it is kept for evidence (see [`reshare`]). `Ok(None)` if the
    /// state keeps no sharing of `epoch`.
    pub fn sharing_at(&self, epoch: u64) -> Result<Option<DkgOutput>, LedgerError> {
        self.state.sharing_at(self.genesis_output.as_deref(), epoch)
    }

    /// The output standing for the genesis `beacon_sharing`.
    pub fn genesis_beacon_output(&self) -> Option<&DkgOutput> {
        self.genesis_output.as_deref()
    }

    /// The resharing record: the sharing in force and the last round
    /// (`None` until the first round opens). See [`reshare`].
    pub fn resharing(&self) -> Option<&reshare::Resharing> {
        self.state.reshare.get(&())
    }

    /// Whether a dealer log of resharing round `round` from `sender`, in the
    /// next block, passes the round's rules: the round is open, the next
    /// block is by its deadline, `sender` is one of its dealers and its log
    /// is not in yet. The log itself is checked when applied. A mempool
    /// admits no other dealer log: one may be 52 KiB, and a flat fee would
    /// make junk logs a cheap way to fill blocks.
    pub fn takes_dealer_log(&self, sender: &PublicKey, round: u64) -> bool {
        let next = self.next_height();
        self.resharing()
            .and_then(|r| r.round.as_ref())
            .is_some_and(|r| {
                r.round == round
                    && r.status == reshare::RoundStatus::Open
                    && next <= r.deadline
                    && r.dealers.contains(sender)
                    && r.logs.iter().all(|(dealer, _)| dealer != sender)
            })
    }

    /// Whether `offender` was already slashed for its offence at `slot`
    /// (evidence for it would be refused).
    pub fn is_punished(&self, offender: &PublicKey, slot: &Slot) -> bool {
        self.state.evidence.contains(&(*offender, *slot))
    }

    /// The engine's committee of `epoch`, which verifies consensus
    /// evidence of that epoch: the players and public polynomial of the
    /// sharing in force in it (see [`staking`]). `Ok(Err(..))` says why
    /// evidence of `epoch` would be refused now (no sharing on this chain,
    /// a future epoch, one older than the evidence window); `Err` is a
    /// corrupt state.
    pub fn consensus_committee(
        &self,
        epoch: u64,
    ) -> Result<Result<ConsensusCommittee, EvidenceEpochError>, LedgerError> {
        self.state.consensus_committee(
            &self.chain_id,
            &self.params,
            self.genesis_output.as_deref(),
            epoch,
        )
    }

    /// Stake on its way out: `((release height, sequence), entry)`.
    pub fn unbonding(&self) -> impl Iterator<Item = (&(u64, u64), &Unbonding)> {
        self.state.unbonding.iter()
    }

    /// The table `id`.
    pub fn table(&self, id: TableId) -> Option<&Table> {
        self.state.tables.get(&id)
    }

    /// Every open table, by id.
    pub fn tables(&self) -> impl Iterator<Item = (&TableId, &Table)> {
        self.state.tables.iter()
    }

    /// The randomness still awaited, by height.
    pub fn pending_randomness(&self) -> impl Iterator<Item = (&u64, &PendingRandomness)> {
        self.state.pending.iter()
    }

    /// Checks every invariant ([`invariants`]) from scratch.
    pub fn check_invariants(&self) -> Result<(), InvariantError> {
        self.state.check_invariants()
    }

    /// The value of state key `key` (see [`keys`]) with its proof against
    /// the current state root.
    pub fn prove(&self, key: &[u8]) -> Result<StateProof, LedgerError> {
        let nodes = self.nodes();
        let proof = match &self.pending_genesis {
            Some(genesis) => StateTree::new(Overlay::new(&nodes, &genesis.nodes)).prove(key)?,
            None => StateTree::new(&nodes).prove(key)?,
        };
        Ok(StateProof {
            root: self.state_root(),
            key: key.to_vec(),
            value: self.state.encoded_value(key),
            proof,
        })
    }

    /// Tests: audit every refused transaction (see `State::audit`).
    #[cfg(test)]
    pub(crate) fn set_audit(&mut self, on: bool) {
        self.state.audit = on;
    }

    /// Tests: how many refused actions were audited.
    #[cfg(test)]
    pub(crate) fn audited_rejections(&self) -> u64 {
        self.state.audited_rejections
    }

    /// The store, for a ledger opened on one.
    pub fn store(&self) -> Option<&Arc<Store>> {
        match &self.backend {
            Backend::Store(store) => Some(store),
            Backend::Memory { .. } => None,
        }
    }
}
