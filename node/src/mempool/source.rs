//! The mempool as the validator's proposal source: [`MempoolSource`]
//! implements `consensus::validator::TransactionSource` over the node's
//! shared mempool.

use std::sync::{Arc, Mutex};

use consensus::block::MAX_BLOCK_BYTES;
use consensus::hash::TxHash;
use consensus::tx::SignedTransaction;
use consensus::validator::TransactionSource;

use super::Mempool;

/// The bytes of transactions proposed in one block at most: the block
/// bound less room for the header and beacon entries.
pub const MAX_PROPOSAL_TX_BYTES: usize = MAX_BLOCK_BYTES - 64 * 1024;

/// The shared mempool, feeding the consensus proposer.
#[derive(Clone, Debug)]
pub struct MempoolSource {
    mempool: Arc<Mutex<Mempool>>,
}

impl MempoolSource {
    /// A source drawing from `mempool`.
    pub fn new(mempool: Arc<Mutex<Mempool>>) -> MempoolSource {
        MempoolSource { mempool }
    }
}

impl TransactionSource for MempoolSource {
    fn candidates(&mut self, max: usize) -> Vec<SignedTransaction> {
        // A poisoned mempool proposes nothing; the block is still valid.
        self.mempool
            .lock()
            .map(|m| m.select(max, MAX_PROPOSAL_TX_BYTES))
            .unwrap_or_default()
    }

    fn finalized(&mut self, included: &[TxHash]) {
        if let Ok(mut mempool) = self.mempool.lock() {
            mempool.remove_included(included);
        }
    }
}
