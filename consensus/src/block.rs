//! # Blocks
//!
//! A [`Block`] is a [`BlockHeader`], the transactions it orders and the
//! beacon entries it carries. Execution is deferred (as in CometBFT): a
//! block's header commits to the state root *after its parent was applied*
//! (`parent_state_root`), so a proposer can propose before executing its
//! own block, and every validator agrees on the state of the previous block
//! by agreeing on this one.
//!
//! ## Header and hash
//!
//! ```text
//! BlockHeader = chain_id [32] ‖ height u64 ‖ view u64 ‖ parent [32] ‖ timestamp_ms u64 ‖ proposer [32]
//!             ‖ parent_state_root [32] ‖ transactions_root [32] ‖ transaction_count u32
//!             ‖ beacon_root [32] ‖ beacon_entry_count u32
//! Block       = BlockHeader ‖ u32 count ‖ SignedTransaction* ‖ u32 count ‖ BeaconEntry*
//! ```
//!
//! The block hash is `BLAKE3-derive-key("bitcraps v1 block header",
//! borsh(header))`. The header commits to the transactions and beacon
//! entries through their list roots ([`crate::hash`]): `transactions_root`
//! is the list root of the transaction hashes and `beacon_root` that of the
//! beacon entry hashes, in block order, and the counts let a light client
//! check an inclusion proof against the header alone
//! ([`BlockHeader::verify_transaction_inclusion`]).
//!
//! The first block has height [`FIRST_BLOCK_HEIGHT`] and its `parent` is the
//! genesis hash ([`crate::genesis::Genesis::hash`], the chain id's bytes).
//! `timestamp_ms` is the proposer's value, agreed by the validators who vote
//! for the block; this crate never reads a clock. [`BlockHeader::check_extends`]
//! checks the rules between a header and its parent (next height, parent
//! hash, strictly later timestamp).
//!
//! `view` is the simplex view the block was proposed in (views restart at 1
//! in every epoch). The engine refuses a block whose view is not its
//! consensus round's, or, within an epoch, not later than its parent's
//! ([`BlockHeader::check_view`]), so the views a chain skipped — views
//! whose leader produced no finalized block — can be read from the chain
//! alone.
//!
//! ## Limits
//!
//! [`Block::decode`] refuses more than [`MAX_BLOCK_BYTES`] before decoding.
//! A block holds at most [`MAX_TXS_PER_BLOCK`] transactions (and the genesis
//! `max_block_txs`, which the ledger checks) and at most
//! [`MAX_BEACON_ENTRIES_PER_BLOCK`] beacon entries, each signature at most
//! [`MAX_BEACON_SIGNATURE_BYTES`]. Transactions other than dealer logs are
//! under 2 KiB, so a block full of them fits in `MAX_BLOCK_BYTES`; a dealer
//! log may be 52 KiB, so proposers also keep a block's transactions within
//! [`MAX_BLOCK_TX_BYTES`], which leaves room for the header and the most
//! beacon entries (tests check both). A block over the bound is refused
//! whole by every node, like any undecodable proposal.
//!
//! ## Validity without state
//!
//! [`Block::check_well_formed`] checks what needs no ledger state and no
//! signature: chain ids, counts, roots, no duplicate transaction, beacon
//! entries in increasing height order below the block's height, and every
//! transaction well formed. [`Block::verify_signatures`] checks every
//! transaction's (and any evidence's) signatures, the transactions' as one
//! batch (`wallet::verify_batch`: the consensus rule, with the verdicts of
//! checking each alone). [`Block::check`] does both,
//! skipping the signatures of transactions this process already verified
//! ([`crate::tx::SignatureCache`]; same verdict, less work).

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use wallet::{ChainId, PublicKey, SignedMessage};

use crate::encoding::{BoundError, BoundedBytes, BoundedVec, DecodeError, decode, encode};
use crate::hash::{
    BlockHash, Hash, HashDomain, ListKind, ListProof, TxHash, hash, list_proof, list_root,
};
use crate::tx::{Action, SignatureCache, SignedTransaction, TxError};

/// The most bytes a block's encoding may have; longer input is refused
/// before decoding.
pub const MAX_BLOCK_BYTES: usize = 16 * 1024 * 1024;

/// The most transactions in one block (the genesis `max_block_txs` may set
/// fewer).
pub const MAX_TXS_PER_BLOCK: usize = 4096;

/// The most encoded bytes of transactions a proposer puts in one block:
/// [`MAX_BLOCK_BYTES`] less room for the header, the counts and the most
/// beacon entries.
pub const MAX_BLOCK_TX_BYTES: usize = MAX_BLOCK_BYTES - 64 * 1024;

/// The most beacon entries in one block.
pub const MAX_BEACON_ENTRIES_PER_BLOCK: usize = 256;

/// The longest beacon signature σ, in bytes (a BLS12-381 G2 point is 96
/// compressed, 192 uncompressed).
pub const MAX_BEACON_SIGNATURE_BYTES: usize = 192;

/// The height of the first block.
pub const FIRST_BLOCK_HEIGHT: u64 = 0;

/// The randomness for what block `height` committed: the epoch's threshold
/// BLS signature σ, verified against the epoch's group key by the beacon,
/// not here.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct BeaconEntry {
    /// The height of the block whose commitments this randomness settles.
    pub height: u64,
    /// The threshold signature σ (hex in text).
    pub signature: BoundedBytes<MAX_BEACON_SIGNATURE_BYTES>,
}

impl BeaconEntry {
    /// `BLAKE3-derive-key("bitcraps v1 beacon entry", borsh(entry))`: the
    /// item hashed into the block's beacon root.
    pub fn hash(&self) -> Hash {
        hash(HashDomain::BeaconEntry, &encode(self))
    }
}

/// What a block's hash covers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockHeader {
    /// The chain.
    pub chain_id: ChainId,
    /// The height, [`FIRST_BLOCK_HEIGHT`] for the first block.
    pub height: u64,
    /// The simplex view (of its epoch) the block was proposed in.
    pub view: u64,
    /// The parent block's hash (the genesis hash for the first block).
    pub parent: BlockHash,
    /// The agreed time, in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The validator that proposed it.
    pub proposer: PublicKey,
    /// The ledger's state root after applying the parent (the genesis state
    /// root for the first block).
    pub parent_state_root: Hash,
    /// The list root of the transaction hashes.
    pub transactions_root: Hash,
    /// How many transactions the block has.
    pub transaction_count: u32,
    /// The list root of the beacon entry hashes.
    pub beacon_root: Hash,
    /// How many beacon entries the block has.
    pub beacon_entry_count: u32,
}

impl BlockHeader {
    /// The block hash: `BLAKE3-derive-key("bitcraps v1 block header",
    /// borsh(header))`.
    pub fn hash(&self) -> BlockHash {
        hash(HashDomain::BlockHeader, &encode(self))
    }

    /// The header's canonical encoding (what a proposal signature covers,
    /// under [`SignDomain::BlockProposal`]).
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Whether `proof` shows the transaction `tx` in this block (its
    /// position is `proof.index`).
    pub fn verify_transaction_inclusion(&self, proof: &ListProof, tx: &TxHash) -> bool {
        proof.size == self.transaction_count
            && proof.verify(ListKind::Transactions, &self.transactions_root, tx)
    }

    /// Whether `proof` shows the beacon entry with hash `entry` in this
    /// block.
    pub fn verify_beacon_inclusion(&self, proof: &ListProof, entry: &Hash) -> bool {
        proof.size == self.beacon_entry_count
            && proof.verify(ListKind::BeaconEntries, &self.beacon_root, entry)
    }

    /// The rules between this header and its parent's: same chain, the
    /// next height, the parent's hash, and a strictly later timestamp. (How
    /// far ahead of the parent a timestamp may be is for consensus to
    /// bound.)
    pub fn check_extends(&self, parent: &BlockHeader) -> Result<(), BlockError> {
        if self.chain_id != parent.chain_id {
            return Err(BlockError::WrongChain {
                expected: parent.chain_id,
                found: self.chain_id,
            });
        }
        if parent.height.checked_add(1) != Some(self.height) {
            return Err(BlockError::NotNextHeight {
                parent: parent.height,
                height: self.height,
            });
        }
        let parent_hash = parent.hash();
        if self.parent != parent_hash {
            return Err(BlockError::WrongParent {
                expected: parent_hash,
                found: self.parent,
            });
        }
        if self.timestamp_ms <= parent.timestamp_ms {
            return Err(BlockError::TimestampNotIncreasing {
                parent: parent.timestamp_ms,
                timestamp: self.timestamp_ms,
            });
        }
        Ok(())
    }

    /// The view rules: the header names `view`, the view of the consensus
    /// round it is verified in, and, if `parent_in_epoch` (its parent's
    /// header when the parent was proposed in the same epoch) is given, a
    /// view later than the parent's.
    pub fn check_view(
        &self,
        view: u64,
        parent_in_epoch: Option<&BlockHeader>,
    ) -> Result<(), BlockError> {
        if self.view != view {
            return Err(BlockError::WrongView {
                expected: view,
                found: self.view,
            });
        }
        if let Some(parent) = parent_in_epoch
            && self.view <= parent.view
        {
            return Err(BlockError::ViewNotIncreasing {
                parent: parent.view,
                view: self.view,
            });
        }
        Ok(())
    }
}

/// The fields of a header the proposer chooses; [`Block::assemble`]
/// computes the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTemplate {
    /// The chain.
    pub chain_id: ChainId,
    /// The height.
    pub height: u64,
    /// The simplex view it is proposed in.
    pub view: u64,
    /// The parent's hash.
    pub parent: BlockHash,
    /// The proposed time, in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The proposer.
    pub proposer: PublicKey,
    /// The state root after applying the parent.
    pub parent_state_root: Hash,
}

/// A block: its header, its transactions in execution order, and the beacon
/// entries it publishes.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The transactions, in execution order.
    pub transactions: BoundedVec<SignedTransaction, MAX_TXS_PER_BLOCK>,
    /// The beacon entries, in increasing height order.
    pub beacon_entries: BoundedVec<BeaconEntry, MAX_BEACON_ENTRIES_PER_BLOCK>,
}

/// Why a block is not well formed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// Too many transactions or beacon entries.
    #[error("too many {what}: {source}")]
    TooMany {
        /// Transactions or beacon entries.
        what: &'static str,
        /// The count and the bound.
        source: BoundError,
    },
    /// The block or one of its transactions is for another chain.
    #[error("the block is for chain {found}, not this chain {expected}")]
    WrongChain {
        /// This chain.
        expected: ChainId,
        /// The block's (or transaction's) chain.
        found: ChainId,
    },
    /// The header's count does not match the block's list.
    #[error("the header says {header} {what} but the block has {actual}")]
    CountMismatch {
        /// Transactions or beacon entries.
        what: &'static str,
        /// The header's count.
        header: u32,
        /// The actual count.
        actual: usize,
    },
    /// The header's root does not match the block's list.
    #[error("the header's {what} root {header} does not match the block's, {actual}")]
    RootMismatch {
        /// Transactions or beacon entries.
        what: &'static str,
        /// The header's root.
        header: Hash,
        /// The root of the block's list.
        actual: Hash,
    },
    /// The same transaction twice.
    #[error("transaction {tx} appears twice (at {first} and {second})")]
    DuplicateTransaction {
        /// Its hash.
        tx: TxHash,
        /// Its first position.
        first: usize,
        /// Its second position.
        second: usize,
    },
    /// Beacon entries out of order, repeated, or not for an earlier block.
    #[error(
        "beacon entry {index} is for height {height}: entries must be in increasing height order and below the block's height {block_height}"
    )]
    BeaconEntryOutOfOrder {
        /// Its position.
        index: usize,
        /// Its height.
        height: u64,
        /// The block's height.
        block_height: u64,
    },
    /// A transaction fails its stateless checks.
    #[error("transaction {index} ({tx}) is invalid: {error}")]
    InvalidTransaction {
        /// Its position.
        index: usize,
        /// Its hash.
        tx: TxHash,
        /// Why.
        error: TxError,
    },
    /// The header is not at the height after its parent's.
    #[error("height {height} does not follow the parent's height {parent}")]
    NotNextHeight {
        /// The parent's height.
        parent: u64,
        /// This height.
        height: u64,
    },
    /// The header does not name its parent's hash.
    #[error("the parent hash is {found}, but the parent block's hash is {expected}")]
    WrongParent {
        /// The parent's hash.
        expected: BlockHash,
        /// The hash named.
        found: BlockHash,
    },
    /// The timestamp is not after the parent's.
    #[error("timestamp {timestamp} ms is not after the parent's {parent} ms")]
    TimestampNotIncreasing {
        /// The parent's timestamp.
        parent: u64,
        /// This timestamp.
        timestamp: u64,
    },
    /// The header's view is not the round's it is verified in.
    #[error("the header says view {found}, but the block was proposed in view {expected}")]
    WrongView {
        /// The round's view.
        expected: u64,
        /// The header's view.
        found: u64,
    },
    /// The view is not after the parent's, in the same epoch.
    #[error("view {view} is not after the parent's view {parent} in the same epoch")]
    ViewNotIncreasing {
        /// The parent's view.
        parent: u64,
        /// This view.
        view: u64,
    },
}

impl Block {
    /// Builds a block from the proposer's choices, computing the roots and
    /// counts. Refuses more than the per-block maximum of transactions or
    /// beacon entries.
    pub fn assemble(
        template: BlockTemplate,
        transactions: Vec<SignedTransaction>,
        beacon_entries: Vec<BeaconEntry>,
    ) -> Result<Block, BlockError> {
        let transactions = BoundedVec::new(transactions).map_err(|source| BlockError::TooMany {
            what: "transactions",
            source,
        })?;
        let beacon_entries =
            BoundedVec::new(beacon_entries).map_err(|source| BlockError::TooMany {
                what: "beacon entries",
                source,
            })?;
        let mut block = Block {
            header: BlockHeader {
                chain_id: template.chain_id,
                height: template.height,
                view: template.view,
                parent: template.parent,
                timestamp_ms: template.timestamp_ms,
                proposer: template.proposer,
                parent_state_root: template.parent_state_root,
                transactions_root: Hash::ZERO,
                transaction_count: 0,
                beacon_root: Hash::ZERO,
                beacon_entry_count: 0,
            },
            transactions,
            beacon_entries,
        };
        block.header.transactions_root = block.computed_transactions_root();
        block.header.beacon_root = block.computed_beacon_root();
        // Both lists are bounded far below u32::MAX.
        block.header.transaction_count = block.transactions.len() as u32;
        block.header.beacon_entry_count = block.beacon_entries.len() as u32;
        Ok(block)
    }

    /// Decodes a block from outside: at most [`MAX_BLOCK_BYTES`] (checked
    /// first), canonical, no trailing bytes. Never panics. Call
    /// [`Block::check`] before trusting it.
    pub fn decode(bytes: &[u8]) -> Result<Block, DecodeError> {
        decode("block", bytes, MAX_BLOCK_BYTES)
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// The block hash (the header's).
    pub fn hash(&self) -> BlockHash {
        self.header.hash()
    }

    /// The transaction hashes, in block order.
    pub fn transaction_hashes(&self) -> Vec<TxHash> {
        self.transactions
            .iter()
            .map(SignedTransaction::hash)
            .collect()
    }

    /// The list root of the block's transactions (what the header should
    /// say).
    pub fn computed_transactions_root(&self) -> Hash {
        list_root(ListKind::Transactions, &self.transaction_hashes())
    }

    /// The list root of the block's beacon entries (what the header should
    /// say).
    pub fn computed_beacon_root(&self) -> Hash {
        let hashes: Vec<Hash> = self.beacon_entries.iter().map(BeaconEntry::hash).collect();
        list_root(ListKind::BeaconEntries, &hashes)
    }

    /// The inclusion proof of the transaction at `index`, checkable against
    /// the header with [`BlockHeader::verify_transaction_inclusion`].
    pub fn transaction_proof(&self, index: usize) -> Option<ListProof> {
        list_proof(ListKind::Transactions, &self.transaction_hashes(), index)
    }

    /// The inclusion proof of the beacon entry at `index`.
    pub fn beacon_proof(&self, index: usize) -> Option<ListProof> {
        let hashes: Vec<Hash> = self.beacon_entries.iter().map(BeaconEntry::hash).collect();
        list_proof(ListKind::BeaconEntries, &hashes, index)
    }

    /// The checks that need neither state nor signatures (see the
    /// [module documentation](self)).
    pub fn check_well_formed(&self, chain_id: &ChainId) -> Result<(), BlockError> {
        self.well_formed_hashes(chain_id).map(drop)
    }

    /// [`Block::check_well_formed`], returning the transaction hashes it
    /// computed on the way (in block order) so the signature check can use
    /// them without hashing again.
    fn well_formed_hashes(&self, chain_id: &ChainId) -> Result<Vec<TxHash>, BlockError> {
        let header = &self.header;
        if header.chain_id != *chain_id {
            return Err(BlockError::WrongChain {
                expected: *chain_id,
                found: header.chain_id,
            });
        }
        if header.transaction_count as usize != self.transactions.len() {
            return Err(BlockError::CountMismatch {
                what: "transactions",
                header: header.transaction_count,
                actual: self.transactions.len(),
            });
        }
        if header.beacon_entry_count as usize != self.beacon_entries.len() {
            return Err(BlockError::CountMismatch {
                what: "beacon entries",
                header: header.beacon_entry_count,
                actual: self.beacon_entries.len(),
            });
        }
        let hashes = self.transaction_hashes();
        let mut seen = std::collections::BTreeMap::new();
        for (index, (tx, tx_hash)) in self.transactions.iter().zip(&hashes).enumerate() {
            if let Some(first) = seen.insert(*tx_hash, index) {
                return Err(BlockError::DuplicateTransaction {
                    tx: *tx_hash,
                    first,
                    second: index,
                });
            }
            if tx.tx.chain_id != *chain_id {
                return Err(BlockError::InvalidTransaction {
                    index,
                    tx: *tx_hash,
                    error: TxError::WrongChain {
                        expected: *chain_id,
                        found: tx.tx.chain_id,
                    },
                });
            }
            tx.tx
                .check_well_formed()
                .map_err(|error| BlockError::InvalidTransaction {
                    index,
                    tx: *tx_hash,
                    error,
                })?;
        }
        let root = list_root(ListKind::Transactions, &hashes);
        if root != header.transactions_root {
            return Err(BlockError::RootMismatch {
                what: "transactions",
                header: header.transactions_root,
                actual: root,
            });
        }
        let mut previous: Option<u64> = None;
        for (index, entry) in self.beacon_entries.iter().enumerate() {
            let in_order = previous.is_none_or(|p| entry.height > p);
            if !in_order || entry.height >= header.height {
                return Err(BlockError::BeaconEntryOutOfOrder {
                    index,
                    height: entry.height,
                    block_height: header.height,
                });
            }
            previous = Some(entry.height);
        }
        let beacon_root = self.computed_beacon_root();
        if beacon_root != header.beacon_root {
            return Err(BlockError::RootMismatch {
                what: "beacon entries",
                header: header.beacon_root,
                actual: beacon_root,
            });
        }
        Ok(hashes)
    }

    /// Verifies every transaction's signature (as one batch,
    /// `wallet::verify_batch`: the consensus rule, with the result of
    /// checking them one by one), then the signatures of any slashing
    /// evidence. Reports the first failure.
    ///
    /// This never consults a [`SignatureCache`]: it is the reference the
    /// cached forms must agree with, and what benchmarks of verification
    /// measure.
    pub fn verify_signatures(&self) -> Result<(), BlockError> {
        let all: Vec<usize> = (0..self.transactions.len()).collect();
        self.verify_signatures_of(&all, |index| self.transactions[index].hash())
    }

    /// [`Block::verify_signatures`] with the verdicts of `cache`: only the
    /// transactions `cache` does not know to verify are verified (their
    /// successes are then remembered). The result, the reported index
    /// included, is the same as [`Block::verify_signatures`]'s: `cache`
    /// holds only transactions whose signatures verified, so the first
    /// failure among the others is the first failure of the block.
    pub fn verify_signatures_with(&self, cache: &SignatureCache) -> Result<(), BlockError> {
        self.verify_signatures_hashed(&self.transaction_hashes(), cache)
    }

    fn verify_signatures_hashed(
        &self,
        hashes: &[TxHash],
        cache: &SignatureCache,
    ) -> Result<(), BlockError> {
        let unknown: Vec<usize> = (0..self.transactions.len())
            .filter(|&index| !cache.hit(&hashes[index]))
            .collect();
        match self.verify_signatures_of(&unknown, |index| hashes[index]) {
            Ok(()) => {
                let verified: Vec<TxHash> = unknown.iter().map(|&index| hashes[index]).collect();
                cache.record_verified(&verified);
                Ok(())
            }
            Err(error) => {
                // Counted as one failure: the block is refused at the first.
                cache.record_invalid(1);
                Err(error)
            }
        }
    }

    /// Verifies the transactions at `indices` (in increasing order): every
    /// sender's signature first, then any slashing evidence, reporting the
    /// first failure of each pass, as the consensus rule orders them.
    fn verify_signatures_of(
        &self,
        indices: &[usize],
        hash_of: impl Fn(usize) -> TxHash,
    ) -> Result<(), BlockError> {
        let messages: Vec<Vec<u8>> = indices
            .iter()
            .map(|&index| self.transactions[index].tx.encode())
            .collect();
        let items: Vec<SignedMessage<'_>> = indices
            .iter()
            .zip(&messages)
            .map(|(&index, message)| self.transactions[index].signed_message(message))
            .collect();
        if let Err(failure) = wallet::verify_batch(&items) {
            let index = indices[failure.failed.first().copied().unwrap_or_default()];
            return Err(BlockError::InvalidTransaction {
                index,
                tx: hash_of(index),
                error: TxError::BadSignature,
            });
        }
        for &index in indices {
            let t = &self.transactions[index];
            if let Action::SlashingEvidence { evidence } = &t.tx.action {
                evidence
                    .verify(&t.tx.chain_id)
                    .map_err(|e| BlockError::InvalidTransaction {
                        index,
                        tx: hash_of(index),
                        error: TxError::InvalidEvidence(e),
                    })?;
            }
        }
        Ok(())
    }

    /// [`Block::check_well_formed`] then [`Block::verify_signatures`], with
    /// the signature verdicts of the process-wide [`SignatureCache`] (see
    /// [`Block::check_with`]; the result is the same as without it).
    pub fn check(&self, chain_id: &ChainId) -> Result<(), BlockError> {
        self.check_with(chain_id, SignatureCache::process())
    }

    /// [`Block::check_well_formed`] then
    /// [`Block::verify_signatures_with`]`(cache)`: a node that already
    /// checked the block's transactions (at its mempool's entry, or in the
    /// proposal it voted for) verifies no signature again.
    pub fn check_with(&self, chain_id: &ChainId, cache: &SignatureCache) -> Result<(), BlockError> {
        let hashes = self.well_formed_hashes(chain_id)?;
        self.verify_signatures_hashed(&hashes, cache)
    }
}

#[cfg(test)]
mod tests;
