//! # Transactions
//!
//! A [`Transaction`] is who ([`Transaction::sender`]), on which chain, with
//! which nonce and fee, until which height, does what ([`Action`]). A
//! [`SignedTransaction`] adds the sender's ed25519 signature over
//!
//! ```text
//! wallet::signing_bytes(SignDomain::Transaction, tx.chain_id, borsh(tx))
//!   = "bitcraps/v1/transaction" ‖ 0x00 ‖ chain_id ‖ borsh(tx)
//! ```
//!
//! so a signature is worthless on another chain or as any other kind of
//! message. Its hash ([`TxHash`]) is
//! `BLAKE3-derive-key("bitcraps v1 signed transaction", borsh(signed tx))`:
//! it covers the signature too. Strict ed25519 verification makes signatures
//! non-malleable, so a third party cannot change a transaction's hash.
//!
//! ## Encoding (borsh, see [`crate::encoding`])
//!
//! ```text
//! Transaction       = chain_id [32] ‖ sender [32] ‖ nonce u64 ‖ fee u64 ‖ expiry_height u64 ‖ action
//! SignedTransaction = Transaction ‖ signature [64]
//! ```
//!
//! [`SignedTransaction::decode`] refuses more than [`MAX_TX_BYTES`] before
//! decoding; every field is bounded, and the largest possible transaction
//! (53,157 bytes: a resharing round's dealer log at its largest,
//! [`MAX_DEALER_LOG_BYTES`]) is below the limit, which a test checks. Every
//! other action keeps a transaction under 2 KiB; a dealer log needs the
//! room because a round of [`crate::beacon::MAX_PARTICIPANTS`] players must
//! fit in one (a block's byte bound, not its count bound, limits how many
//! such transactions it holds: [`crate::block::MAX_BLOCK_TX_BYTES`]).
//!
//! ## Validity
//!
//! [`SignedTransaction::check`] applies every rule that needs no ledger
//! state: the chain id, [`Action::check_well_formed`], the signature, and the
//! signatures of slashing evidence (of an [`Evidence::Equivocation`] only
//! its form: its threshold signatures need the chain's committee, which the
//! ledger holds). A block holding a transaction that fails it is not well
//! formed. The ledger then applies the stateful rules — the
//! nonce is the sender's next (accounts start at 0), the block height is at
//! most `expiry_height`, the fee is at least the genesis `min_fee`, the
//! balance covers fee and amount — and records a refusal in the receipt.

mod action;
pub(crate) mod equivocation;
mod evidence;
mod verdicts;

pub use action::{
    Action, DealerLogBytes, MAX_DEALER_LOG_BYTES, MAX_NETWORK_ADDRESS_BYTES, MAX_TABLE_BET,
    MAX_TABLE_NAME_BYTES, NetworkAddress, TableGame, TableId, TableName,
};
pub use equivocation::{
    CommitteeError, ConflictKind, ConsensusCommittee, Equivocation, MAX_EQUIVOCATION_BYTES, Offence,
};
pub use evidence::{Evidence, EvidenceError, SignedVote, Slot, Vote, VoteSide};
pub use verdicts::{DEFAULT_CAPACITY, SHARDS, SignatureCache, SignatureCheckCounts};

use borsh::{BorshDeserialize, BorshSerialize};
use game_rules::Chips;
use serde::{Deserialize, Serialize};
use wallet::{Address, ChainId, Keypair, PublicKey, SignDomain, Signature, SignedMessage};

use crate::encoding::{DecodeError, decode, encode};
use crate::hash::{HashDomain, TxHash, hash};

/// The most bytes a signed transaction's encoding may have; longer input is
/// refused before decoding. Sized for a dealer log of a resharing round
/// with [`crate::beacon::MAX_PARTICIPANTS`] players (a test pins that every
/// legal validator set can be reshared); every other transaction is under
/// 2 KiB.
pub const MAX_TX_BYTES: usize = 52 * 1024;

/// Why a transaction fails [`SignedTransaction::check`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The transaction is for another chain.
    #[error("the transaction is for chain {found}, not this chain {expected}")]
    WrongChain {
        /// This chain.
        expected: ChainId,
        /// The transaction's chain.
        found: ChainId,
    },
    /// The signature is not the sender's over this transaction.
    #[error("the signature is not the sender's signature of this transaction on this chain")]
    BadSignature,
    /// An amount that must be positive is zero.
    #[error("{action} of 0: the amount must be at least 1")]
    ZeroAmount {
        /// The action's name.
        action: &'static str,
    },
    /// A text field that must say something is empty.
    #[error("the {field} is empty")]
    EmptyField {
        /// The field.
        field: &'static str,
    },
    /// A new table's limits make no sense.
    #[error("invalid table: {reason}")]
    InvalidTable {
        /// What is wrong.
        reason: &'static str,
    },
    /// An auto-cash-out target outside 1.01× to 1,000,000×.
    #[error(
        "an auto-cash-out at {hundredths} hundredths is outside 101 (1.01×) to 100000000 (1000000×)"
    )]
    InvalidAutoCashOut {
        /// The target, in hundredths.
        hundredths: u64,
    },
    /// Slashing evidence that proves nothing.
    #[error("invalid evidence: {0}")]
    InvalidEvidence(#[from] EvidenceError),
}

/// An unsigned transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// The chain it is for.
    pub chain_id: ChainId,
    /// Who sends it, pays its fee and signs it.
    pub sender: PublicKey,
    /// The sender's next nonce (the number of its transactions applied so
    /// far, from 0).
    pub nonce: u64,
    /// The fee, paid to the validators.
    pub fee: Chips,
    /// The last block height that may include it.
    pub expiry_height: u64,
    /// What it does.
    pub action: Action,
}

impl Transaction {
    /// The canonical encoding: the message the sender signs (the wallet adds
    /// the domain and the chain id).
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// The exact bytes the signature covers.
    pub fn signing_bytes(&self) -> Vec<u8> {
        wallet::signing_bytes(SignDomain::Transaction, &self.chain_id, &self.encode())
    }

    /// The sender's address.
    pub fn sender_address(&self) -> Address {
        self.sender.address()
    }

    /// Signs the transaction with `keypair`, which must be the sender's:
    /// signed with another key it fails [`SignedTransaction::verify`].
    pub fn sign(self, keypair: &Keypair) -> SignedTransaction {
        let signature = keypair.sign(SignDomain::Transaction, &self.chain_id, &self.encode());
        SignedTransaction {
            tx: self,
            signature,
        }
    }

    /// [`Action::check_well_formed`].
    pub fn check_well_formed(&self) -> Result<(), TxError> {
        self.action.check_well_formed()
    }
}

/// A transaction and its sender's signature: what is gossiped, put in blocks
/// and hashed.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// The sender's ed25519 signature under [`SignDomain::Transaction`].
    pub signature: Signature,
}

impl SignedTransaction {
    /// Decodes a signed transaction from outside: at most [`MAX_TX_BYTES`]
    /// (checked first), canonical, no trailing bytes. Never panics. Does not
    /// verify anything: call [`SignedTransaction::check`].
    pub fn decode(bytes: &[u8]) -> Result<SignedTransaction, DecodeError> {
        decode("transaction", bytes, MAX_TX_BYTES)
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// The length of [`SignedTransaction::encode`], counted without
    /// allocating it.
    pub fn encoded_len(&self) -> usize {
        // Writing to a counter cannot fail.
        borsh::object_length(self).unwrap_or(usize::MAX)
    }

    /// The transaction hash: over the whole signed encoding, in
    /// [`HashDomain::SignedTransaction`].
    pub fn hash(&self) -> TxHash {
        hash(HashDomain::SignedTransaction, &self.encode())
    }

    /// The sender's address.
    pub fn sender_address(&self) -> Address {
        self.tx.sender_address()
    }

    /// Verifies the signature (the consensus rule), as the
    /// sender's over this transaction on its chain.
    pub fn verify(&self) -> Result<(), TxError> {
        self.tx
            .sender
            .verify(
                SignDomain::Transaction,
                &self.tx.chain_id,
                &self.tx.encode(),
                &self.signature,
            )
            .map_err(|_| TxError::BadSignature)
    }

    /// The sender's signature as an item of a batch, given this
    /// transaction's unsigned encoding (`self.tx.encode()`).
    pub(crate) fn signed_message<'a>(&'a self, encoded: &'a [u8]) -> SignedMessage<'a> {
        SignedMessage {
            public_key: &self.tx.sender,
            domain: SignDomain::Transaction,
            chain_id: &self.tx.chain_id,
            message: encoded,
            signature: &self.signature,
        }
    }

    /// Every check that needs no ledger state, cheapest first: the
    /// transaction is for `chain_id`, is well formed, is signed by its
    /// sender, and any slashing evidence passes [`Evidence::verify`]. The
    /// signature verdicts come from the process-wide [`SignatureCache`]
    /// when it knows this exact transaction; the result is the same either
    /// way ([`SignedTransaction::check_with`]).
    pub fn check(&self, chain_id: &ChainId) -> Result<(), TxError> {
        self.check_with(chain_id, SignatureCache::process())
    }

    /// [`SignedTransaction::check`] with the signature verdicts of
    /// `cache`: the signatures are verified only if `cache` does not know
    /// this transaction (by its [`TxHash`], over the whole signed
    /// encoding) to verify, and a success is remembered there.
    pub fn check_with(&self, chain_id: &ChainId, cache: &SignatureCache) -> Result<(), TxError> {
        if self.tx.chain_id != *chain_id {
            return Err(TxError::WrongChain {
                expected: *chain_id,
                found: self.tx.chain_id,
            });
        }
        self.tx.check_well_formed()?;
        cache.verdict(&self.hash(), || self.verify_all_signatures())
    }

    /// [`SignedTransaction::check`] of many transactions at once: one
    /// result each, in order, equal to what `check` gives that transaction
    /// alone. The sender signatures the process-wide [`SignatureCache`]
    /// does not know are verified together, as one batch
    /// (`wallet::verify_batch`, the same rule at a third to a half of the
    /// cost per signature).
    pub fn check_all(txs: &[SignedTransaction], chain_id: &ChainId) -> Vec<Result<(), TxError>> {
        SignedTransaction::check_all_with(txs, chain_id, SignatureCache::process())
    }

    /// [`SignedTransaction::check_all`] with the signature verdicts of
    /// `cache` (see [`SignedTransaction::check_with`]).
    pub fn check_all_with(
        txs: &[SignedTransaction],
        chain_id: &ChainId,
        cache: &SignatureCache,
    ) -> Vec<Result<(), TxError>> {
        let mut results = Vec::with_capacity(txs.len());
        let mut unknown = Vec::new();
        for (index, t) in txs.iter().enumerate() {
            let result = if t.tx.chain_id != *chain_id {
                Err(TxError::WrongChain {
                    expected: *chain_id,
                    found: t.tx.chain_id,
                })
            } else {
                t.tx.check_well_formed()
            };
            if result.is_ok() {
                let hash = t.hash();
                if !cache.hit(&hash) {
                    unknown.push((index, hash));
                }
            }
            results.push(result);
        }
        let messages: Vec<Vec<u8>> = unknown
            .iter()
            .map(|&(index, _)| txs[index].tx.encode())
            .collect();
        let items: Vec<SignedMessage<'_>> = unknown
            .iter()
            .zip(&messages)
            .map(|(&(index, _), message)| txs[index].signed_message(message))
            .collect();
        let bad: Vec<usize> = match wallet::verify_batch(&items) {
            Ok(()) => Vec::new(),
            Err(failure) => failure.failed,
        };
        let mut verified = Vec::with_capacity(unknown.len());
        for (position, &(index, hash)) in unknown.iter().enumerate() {
            let result = if bad.binary_search(&position).is_ok() {
                Err(TxError::BadSignature)
            } else if let Action::SlashingEvidence { evidence } = &txs[index].tx.action {
                evidence.verify(chain_id).map_err(TxError::from)
            } else {
                Ok(())
            };
            match result {
                Ok(()) => verified.push(hash),
                Err(_) => cache.record_invalid(1),
            }
            results[index] = result;
        }
        cache.record_verified(&verified);
        results
    }

    /// The signature, then any slashing evidence's signatures: everything
    /// a [`SignatureCache`] entry stands for. A pure function of the
    /// signed encoding (the evidence is checked for the transaction's own
    /// chain, which the callers have compared with theirs).
    pub(crate) fn verify_all_signatures(&self) -> Result<(), TxError> {
        self.verify()?;
        if let Action::SlashingEvidence { evidence } = &self.tx.action {
            evidence.verify(&self.tx.chain_id)?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests;
