//! The validation pipeline of gossiped messages and the stateful verdicts
//! the node supplies ([`TransactionValidator`], [`BlockValidator`]).

use std::sync::{Arc, Mutex};

use consensus::encoding::DecodeError;
use consensus::hash::{HashDomain, TxHash, hash};
use consensus::tx::SignedTransaction;
use libp2p::PeerId;
use libp2p::gossipsub::MessageAcceptance;
use wallet::ChainId;

use super::FinalizedBlock;
use crate::mempool::{AccountView, CheckedTransaction, Mempool, MempoolError};

/// What gossip does with a message after validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Valid: deliver it to the node and relay it to the mesh.
    Accept,
    /// Invalid for every honest node: drop it and lower the score of the
    /// peer that sent it (and of any peer that sent it too).
    Reject,
    /// Not useful here (duplicate, stale, not affordable as far as this
    /// node knows, over a local limit): drop it without penalty.
    Ignore,
}

impl From<Verdict> for MessageAcceptance {
    fn from(verdict: Verdict) -> MessageAcceptance {
        match verdict {
            Verdict::Accept => MessageAcceptance::Accept,
            Verdict::Reject => MessageAcceptance::Reject,
            Verdict::Ignore => MessageAcceptance::Ignore,
        }
    }
}

/// The stateful verdict on a gossiped transaction that passed the
/// stateless checks. Called on a blocking thread; must not block for long.
pub trait TransactionValidator: Send + Sync + 'static {
    /// Whether the transaction with this hash is already known (pooled):
    /// then it is ignored before its signature is verified. The default
    /// knows nothing.
    fn is_known(&self, hash: &TxHash) -> bool {
        let _ = hash;
        false
    }

    /// Decides on `tx`, received from `from`; admitting it to the mempool
    /// is the usual way to accept it.
    fn validate_transaction(&self, tx: CheckedTransaction, from: &PeerId) -> Verdict;
}

/// The stateful verdict on a gossiped finalized block that decoded, is
/// well formed for this chain and whose transaction signatures verify.
/// Called on a blocking thread.
pub trait BlockValidator: Send + Sync + 'static {
    /// Decides on `block`, received from `from`: for example `Ignore` if it
    /// is already known or far ahead, `Reject` if its finality proof is
    /// invalid.
    fn validate_block(&self, block: &FinalizedBlock, from: &PeerId) -> Verdict;
}

/// Validates gossiped transactions by admitting them to a shared mempool
/// against a view of the ledger: admitted → `Accept`; refused for a
/// reason that holds on every honest node
/// ([`MempoolError::is_invalid_everywhere`]) → `Reject`; any other refusal
/// → `Ignore`.
#[derive(Debug)]
pub struct MempoolGossip<V> {
    mempool: Arc<Mutex<Mempool>>,
    view: V,
}

impl<V> MempoolGossip<V> {
    /// Gossip validation into `mempool`, judged against `view`.
    pub fn new(mempool: Arc<Mutex<Mempool>>, view: V) -> MempoolGossip<V> {
        MempoolGossip { mempool, view }
    }
}

impl<V: AccountView + Send + Sync + 'static> TransactionValidator for MempoolGossip<V> {
    fn is_known(&self, hash: &TxHash) -> bool {
        self.mempool.lock().is_ok_and(|m| m.contains(hash))
    }

    fn validate_transaction(&self, tx: CheckedTransaction, _from: &PeerId) -> Verdict {
        // A poisoned lock means a panic elsewhere already broke the node;
        // refusing quietly is all gossip can do.
        let Ok(mut mempool) = self.mempool.lock() else {
            return Verdict::Ignore;
        };
        match mempool.insert(tx, &self.view) {
            Ok(_) => Verdict::Accept,
            Err(error) => verdict_for(&error),
        }
    }
}

/// The gossip verdict for a mempool refusal.
pub fn verdict_for(error: &MempoolError) -> Verdict {
    if error.is_invalid_everywhere() {
        Verdict::Reject
    } else {
        Verdict::Ignore
    }
}

/// Why a gossiped block failed the stateless checks (all are `Reject`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum StatelessError {
    #[error("block does not decode: {0}")]
    BlockDecode(#[from] DecodeError),
    #[error("block is invalid: {0}")]
    Block(#[from] consensus::block::BlockError),
}

/// Stage 1 for a block: the size bound, decode, well-formedness for this
/// chain, then every transaction signature.
pub(crate) fn check_block(
    data: &[u8],
    max_bytes: usize,
    chain_id: &ChainId,
) -> Result<FinalizedBlock, StatelessError> {
    let block = FinalizedBlock::decode(data, max_bytes)?;
    block.block.check(chain_id)?;
    Ok(block)
}

/// The whole pipeline for a transaction, cheapest step first: decode under
/// `MAX_TX_BYTES` (checked before anything else), skip it if already known,
/// `SignedTransaction::check` (the signature), then the node's verdict.
pub(crate) fn validate_transaction(
    data: &[u8],
    chain_id: &ChainId,
    validator: &dyn TransactionValidator,
    from: &PeerId,
) -> (Verdict, Option<SignedTransaction>) {
    let reject = |error: MempoolError| {
        tracing::debug!(peer = %from, %error, "gossiped transaction rejected");
        (Verdict::Reject, None)
    };
    let tx = match SignedTransaction::decode(data) {
        Ok(tx) => tx,
        Err(error) => return reject(MempoolError::Malformed(error)),
    };
    // `decode` accepts only the canonical encoding, so `data` is it.
    let tx_hash = hash(HashDomain::SignedTransaction, data);
    if validator.is_known(&tx_hash) {
        return (Verdict::Ignore, None);
    }
    match CheckedTransaction::check_decoded(tx, tx_hash, data.len(), chain_id) {
        Err(error) => reject(error),
        Ok(tx) => {
            let signed = tx.tx().clone();
            let verdict = validator.validate_transaction(tx, from);
            (verdict, (verdict == Verdict::Accept).then_some(signed))
        }
    }
}

/// The whole pipeline for a block.
pub(crate) fn validate_block(
    data: &[u8],
    max_bytes: usize,
    chain_id: &ChainId,
    validator: &dyn BlockValidator,
    from: &PeerId,
) -> (Verdict, Option<FinalizedBlock>) {
    match check_block(data, max_bytes, chain_id) {
        Err(error) => {
            tracing::debug!(peer = %from, %error, "gossiped block rejected");
            (Verdict::Reject, None)
        }
        Ok(block) => {
            let verdict = validator.validate_block(&block, from);
            (verdict, (verdict == Verdict::Accept).then_some(block))
        }
    }
}
