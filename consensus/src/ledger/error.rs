//! Why the ledger refused a block, or could not open or commit.

use wallet::PublicKey;

use crate::block::BlockError;
use crate::genesis::GenesisError;
use crate::hash::Hash;
use crate::merkle::MerkleError;
use crate::storage::StoreError;
use crate::tx::TableId;

/// Why a beacon verifier refused a beacon entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct BeaconError {
    /// What is wrong with the signature.
    pub reason: String,
}

impl BeaconError {
    /// A refusal with `reason`.
    pub fn new(reason: impl Into<String>) -> Self {
        BeaconError {
            reason: reason.into(),
        }
    }
}

/// Why slashing evidence's epoch cannot be judged: the ledger keeps the
/// sets and sharings of the current epoch and of the epochs of the
/// evidence window only (see [`super::staking`]). A transaction with such
/// evidence is refused (`EvidenceNotApplicable`, this error's message):
/// fee and nonce only.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceEpochError {
    /// The chain has no beacon sharing, so no committee signs consensus
    /// votes that could be checked.
    #[error("this chain has no beacon sharing: no consensus committee to check votes against")]
    NoCommittee,
    /// The votes are for an epoch that has not started.
    #[error("the votes are for epoch {epoch}, after the current epoch {current}")]
    Future {
        /// The votes' epoch.
        epoch: u64,
        /// The ledger's epoch.
        current: u64,
    },
    /// The votes are older than the evidence window.
    #[error(
        "the votes are from epoch {epoch}, more than {window} epochs before the current epoch \
         {current}: too old to punish"
    )]
    TooOld {
        /// The votes' epoch.
        epoch: u64,
        /// The ledger's epoch.
        current: u64,
        /// The evidence window, in epochs.
        window: u64,
    },
    /// The ledger has no record of the sharing in force in the votes'
    /// epoch (within the window, so only a chain that lost it: refused
    /// rather than judged against another epoch's committee).
    #[error("the ledger has no record of the sharing in force in epoch {epoch}")]
    NoSharingRecord {
        /// The votes' epoch.
        epoch: u64,
    },
}

/// An invariant of the ledger that does not hold: a bug (or a corrupt
/// store), never the fault of a transaction. See
/// [`Ledger::check_invariants`](super::Ledger::check_invariants).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvariantError {
    /// The chips held everywhere do not add up to the supply.
    #[error(
        "supply mismatch: balances, bankroll, stakes, unbonding, escrow and fee pool hold \
         {held} chips, but genesis + minted - burned is {expected}"
    )]
    Supply {
        /// What the books hold.
        held: u128,
        /// Genesis supply + faucet minted − burned.
        expected: u128,
    },
    /// Any other broken rule, named.
    #[error("ledger invariant broken: {0}")]
    Broken(String),
}

/// Why [`Ledger::apply`](super::Ledger::apply) (or opening a ledger)
/// failed. A refused block changes nothing: the ledger and its store are
/// exactly as before.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The block is not the next one.
    #[error(
        "block height {found} is not the next height {expected}: apply the blocks in order, \
         without gaps"
    )]
    WrongHeight {
        /// The next height.
        expected: u64,
        /// The block's height.
        found: u64,
    },
    /// The block does not name the last applied block (or the genesis) as
    /// its parent.
    #[error("the block's parent is {found}, but the last applied block is {expected}")]
    WrongParent {
        /// The hash of the last applied block (the genesis hash before the first).
        expected: Hash,
        /// The parent named.
        found: Hash,
    },
    /// The block's `parent_state_root` is not the state root after its
    /// parent.
    #[error(
        "the block says the state root after its parent is {found}, but it is {expected}: the \
         proposer executed a different state"
    )]
    WrongParentStateRoot {
        /// The ledger's state root.
        expected: Hash,
        /// The header's.
        found: Hash,
    },
    /// The block's timestamp is not after its parent's (or after the
    /// genesis time).
    #[error("the block's timestamp {timestamp} ms is not after its parent's {parent} ms")]
    TimestampNotAfterParent {
        /// The parent's timestamp (or the genesis time).
        parent: u64,
        /// The block's.
        timestamp: u64,
    },
    /// More transactions than the genesis `max_block_txs`.
    #[error("the block has {count} transactions, over the chain's max_block_txs of {max}")]
    TooManyTransactions {
        /// How many.
        count: usize,
        /// The limit.
        max: u32,
    },
    /// The proposer is not in the current validator set.
    #[error("the block's proposer {proposer} is not a validator of the current epoch")]
    UnknownProposer {
        /// Its key (hex).
        proposer: String,
    },
    /// The block fails its stateless checks, or a signature.
    #[error("the block is invalid: {0}")]
    Block(#[from] BlockError),
    /// A beacon entry for a height that waits for no randomness (none was
    /// committed there, it was already settled, or it was voided).
    #[error(
        "the beacon entry for height {height} is unexpected: nothing waits for randomness at that \
         height (never committed, already settled, or void)"
    )]
    UnexpectedBeaconEntry {
        /// The entry's height.
        height: u64,
    },
    /// A beacon entry whose signature does not verify.
    #[error("the beacon entry for height {height} does not verify: {source}")]
    BadBeaconEntry {
        /// The entry's height.
        height: u64,
        /// The verifier's reason.
        source: BeaconError,
    },
    /// A beacon entry that would decide a crash interval before an earlier
    /// one of the same round.
    #[error(
        "the beacon entry for height {height} decides tick {tick} of {table} round {round}, but \
         interval {expected} comes first: include the entries of a round's ticks in order"
    )]
    BeaconOutOfOrder {
        /// The entry's height.
        height: u64,
        /// The table.
        table: TableId,
        /// The round.
        round: u64,
        /// The tick the entry settles.
        tick: u32,
        /// The interval that must be decided first.
        expected: u32,
    },
    /// A different block is already applied at this height.
    #[error(
        "a different block is already applied at height {height}: this node follows another \
         chain; resync from a trusted peer"
    )]
    ConflictingBlock {
        /// The height.
        height: u64,
    },
    /// The store was created with another genesis.
    #[error(
        "the data directory belongs to the chain with genesis {stored}, not {expected}: point the \
         node at the right genesis file or a fresh data directory"
    )]
    GenesisMismatch {
        /// The genesis hash given.
        expected: Hash,
        /// The genesis hash in the store.
        stored: Hash,
    },
    /// The genesis is not valid.
    #[error("invalid genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// The store failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The state tree failed.
    #[error("state tree: {0}")]
    Merkle(#[from] MerkleError),
    /// A stored state record does not decode, or the stored state does not
    /// match its root.
    #[error(
        "the stored ledger state is corrupt ({what}): restore the data directory from a backup \
         or resync"
    )]
    CorruptState {
        /// What was wrong.
        what: String,
    },
    /// An amount outside 64 bits during block processing (a bug: supply is
    /// bounded by 2^64 - 1 chips).
    #[error("amount overflow computing {what} while applying the block")]
    Overflow {
        /// What was computed.
        what: &'static str,
    },
    /// The game engine refused what the ledger asked during block
    /// processing (a bug: the ledger checks before asking).
    #[error("the game engine refused {what}: {reason}")]
    Game {
        /// What was asked.
        what: &'static str,
        /// The engine's error.
        reason: String,
    },
    /// An invariant broke after the block (a bug); the block was refused.
    #[error("{0}")]
    Invariant(#[from] InvariantError),
}

impl LedgerError {
    pub(crate) fn overflow(what: &'static str) -> LedgerError {
        LedgerError::Overflow { what }
    }

    pub(crate) fn game(what: &'static str, error: impl std::fmt::Display) -> LedgerError {
        LedgerError::Game {
            what,
            reason: error.to_string(),
        }
    }

    pub(crate) fn unknown_proposer(key: &PublicKey) -> LedgerError {
        LedgerError::UnknownProposer {
            proposer: hex::encode(key.as_bytes()),
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> LedgerError {
        LedgerError::CorruptState { what: what.into() }
    }
}
