//! Local transactions: what this node's API (and its wallet routes)
//! submits — admitted to the mempool as local, made durable in the
//! mempool journal before the API answers, then published on gossip — and
//! the journal's other two duties: bringing those transactions back at
//! start ([`Chain::restore_journal`]) and dropping the ones that left the
//! pool ([`Chain::compact_journal`]). See [`crate::mempool::journal`].
//!
//! The journal is written by its own thread, group-committing what
//! concurrent requests queue ([`GroupCommit`]): a request waits for the
//! sync that covers its records, not for every request ahead of it.
//!
//! Lock order: the journal, then the mempool (a compaction, and the
//! journal's writer when it must rewrite rather than append, list the
//! pool's local transactions while holding the journal). Submission
//! releases the mempool before it queues its records and holds no lock
//! while it waits, so a compaction that runs between admitting a
//! transaction and its group's write either lists it (and the append
//! after it repeats the record, which the next start skips as already
//! pooled) or runs before the admission (and the append goes into the
//! compacted journal): a transaction is never missing. Nor is a refused
//! one ever kept: the writer takes a failed group's transactions out of
//! the pool before it lets the journal go ([`PooledLocals::refuse`]).

use std::sync::{Arc, Mutex};

use consensus::encoding::encode;
use consensus::hash::{HashDomain, TxHash, hash};
use consensus::tx::SignedTransaction;

use super::Chain;
use super::view::LedgerAccounts;
use crate::api::SubmitError;
use crate::mempool::{
    CheckedTransaction, GroupCommit, JournalError, LocalPool, Mempool, MempoolError, TxJournal,
};

/// A mempool refusal as the API reports it.
pub(crate) fn submit_error(error: MempoolError) -> SubmitError {
    match error {
        MempoolError::AlreadyKnown { hash } => SubmitError::AlreadyKnown(hash),
        MempoolError::Full { .. } | MempoolError::SenderFull { .. } => {
            SubmitError::Busy(error.to_string())
        }
        error if error.is_invalid_everywhere() => SubmitError::Invalid(error.to_string()),
        error => SubmitError::Refused(error.to_string()),
    }
}

/// What [`Chain::restore_journal`] did with the journal's transactions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Back in the mempool, and being published.
    pub admitted: usize,
    /// Refused by the mempool: included or superseded meanwhile, expired,
    /// no longer affordable, malformed.
    pub dropped: usize,
}

impl Chain {
    /// Admits a transaction to the mempool as local, journals it and
    /// publishes it on gossip.
    pub(crate) fn submit(&self, tx: SignedTransaction) -> Result<TxHash, SubmitError> {
        self.submit_all(vec![tx])
            .pop()
            .expect("submit_all gives one result per transaction")
    }

    /// Admits transactions to the mempool as local, one by one; makes
    /// those it took durable in the journal, with one disk sync shared
    /// with whatever other requests are journaling at the same moment;
    /// then publishes them. One result per transaction, in order. If the
    /// journal cannot record them they are taken out of the mempool again
    /// (by the journal's writer if their group failed, here if they never
    /// reached it) and refused (the API's "accepted" is a promise that they survive a
    /// crash); a block proposed from this node's mempool in that instant
    /// may still include one.
    pub(crate) fn submit_all(
        &self,
        txs: Vec<SignedTransaction>,
    ) -> Vec<Result<TxHash, SubmitError>> {
        let view = LedgerAccounts::new(self.ledger.clone());
        let mut results = Vec::with_capacity(txs.len());
        let mut admitted: Vec<(usize, SignedTransaction)> = Vec::new();
        for tx in txs {
            let result = CheckedTransaction::check(tx, &self.chain_id)
                .map_err(submit_error)
                .and_then(|checked| {
                    let mut mempool = self
                        .mempool
                        .lock()
                        .map_err(|_| SubmitError::Internal("the mempool is unusable".into()))?;
                    let (hash, signed) = (checked.hash(), checked.tx().clone());
                    mempool.insert_local(checked, &view).map_err(submit_error)?;
                    self.metrics.set_mempool(mempool.len(), mempool.bytes());
                    Ok((hash, signed))
                });
            match result {
                Ok((hash, signed)) => {
                    admitted.push((results.len(), signed));
                    results.push(Ok(hash));
                }
                Err(error) => results.push(Err(error)),
            }
        }
        let new: Vec<Vec<u8>> = admitted.iter().map(|(_, tx)| encode(tx)).collect();
        if let Err(error) = self.journal_new(new) {
            tracing::error!(%error, count = admitted.len(), "transactions refused: the journal cannot record them");
            let message = format!(
                "{error}; the transaction was not accepted, submit it again once that is fixed"
            );
            if let Ok(mut mempool) = self.mempool.lock() {
                for (slot, _) in &admitted {
                    if let Some(Ok(hash)) = results.get(*slot) {
                        mempool.remove(hash);
                    }
                }
                self.metrics.set_mempool(mempool.len(), mempool.bytes());
            }
            for (slot, _) in &admitted {
                results[*slot] = Err(SubmitError::Internal(message.clone()));
            }
            return results;
        }
        for (slot, signed) in admitted {
            if let Some(Ok(hash)) = results.get(slot) {
                tracing::trace!(target: consensus::engine::LATENCY, %hash, "transaction submitted");
                self.publish(*hash, signed);
            }
        }
        results
    }

    /// Publishes a local transaction on gossip, in the background.
    fn publish(&self, hash: TxHash, signed: SignedTransaction) {
        let _span = tracing::debug_span!("tx", %hash).entered();
        match (self.network(), tokio::runtime::Handle::try_current()) {
            (Some(network), Ok(runtime)) => {
                runtime.spawn(async move {
                    if let Err(error) = network.publish_transaction(&signed).await {
                        // Held by the network until a peer subscribes, or
                        // published again by re-gossip.
                        tracing::debug!(%hash, %error, "transaction not published yet");
                    }
                });
            }
            _ => tracing::debug!(%hash, "no network: the transaction stays in the mempool"),
        }
    }

    /// Journals the encodings of newly admitted local transactions,
    /// returning once they are synced (a no-op without a journal).
    fn journal_new(&self, new: Vec<Vec<u8>>) -> Result<(), JournalError> {
        if new.is_empty() {
            return Ok(());
        }
        match self.journal()? {
            Some(journal) => journal.record(new),
            None => Ok(()),
        }
    }

    /// The journal's writer, if there is a journal. Cloned out, so that no
    /// lock is held while a request waits for its sync.
    fn journal(&self) -> Result<Option<Arc<GroupCommit>>, JournalError> {
        let slot = self.journal.lock().map_err(|_| JournalError::Unusable)?;
        Ok(slot.clone())
    }

    /// Puts the transactions of the journal read at start (`records`)
    /// back into the mempool as local — each through the normal admission
    /// against the current ledger, so one finalized meanwhile or now
    /// invalid is dropped (logged at debug) — compacts the journal to what
    /// was admitted, keeps it for what the API submits from now on, and
    /// publishes what was admitted (the network holds it until a peer
    /// subscribes). A journal that cannot be compacted now is logged and
    /// compacted at its next write. Fails, leaving the node without a
    /// journal, only if the journal's writer thread cannot be started.
    pub fn restore_journal(
        &self,
        mut journal: TxJournal,
        records: Vec<Vec<u8>>,
    ) -> Result<Restored, JournalError> {
        let view = LedgerAccounts::new(self.ledger.clone());
        let mut restored = Restored::default();
        let mut admitted = Vec::new();
        if let Ok(mut mempool) = self.mempool.lock() {
            for bytes in records {
                let tx_hash = hash(HashDomain::SignedTransaction, &bytes);
                let result = CheckedTransaction::decode(&bytes, &self.chain_id).and_then(|tx| {
                    let signed = tx.tx().clone();
                    mempool.insert_local(tx, &view).map(|_| signed)
                });
                match result {
                    Ok(signed) => admitted.push((tx_hash, signed)),
                    Err(error) => {
                        restored.dropped += 1;
                        tracing::debug!(hash = %tx_hash, %error, "journaled transaction dropped");
                    }
                }
            }
            self.metrics.set_mempool(mempool.len(), mempool.bytes());
        }
        restored.admitted = admitted.len();
        match local_records(&self.mempool) {
            Some(live) => {
                if let Err(error) = journal.rewrite(&live) {
                    tracing::warn!(%error, "the mempool journal could not be compacted at start; retried at its next write");
                }
            }
            None => tracing::warn!("the mempool is unusable; its journal is left as it was"),
        }
        let writer = GroupCommit::start(journal, PooledLocals(self.mempool.clone()))?;
        if let Ok(mut slot) = self.journal.lock() {
            *slot = Some(Arc::new(writer));
        }
        for (hash, signed) in admitted {
            self.publish(hash, signed);
        }
        Ok(restored)
    }

    /// Compacts the journal if [`TxJournal::compaction_due`] says so;
    /// returns whether it did. The daemon calls it periodically.
    pub fn compact_journal(&self) -> Result<bool, JournalError> {
        let Some(writer) = self.journal()? else {
            return Ok(false);
        };
        // Held to the end: no group is written while the journal is
        // rewritten.
        let mut journal = writer.lock()?;
        let (count, bytes) = {
            let mempool = self.mempool.lock().map_err(|_| JournalError::Unusable)?;
            (mempool.local_len(), mempool.local_bytes())
        };
        if !journal.compaction_due(count, bytes) {
            return Ok(false);
        }
        let live = local_records(&self.mempool).ok_or(JournalError::Unusable)?;
        journal.rewrite(&live)?;
        Ok(true)
    }
}

/// The mempool's local transactions, for the journal's writer.
struct PooledLocals(Arc<Mutex<Mempool>>);

impl LocalPool for PooledLocals {
    fn live(&mut self) -> Option<Vec<Vec<u8>>> {
        local_records(&self.0)
    }

    fn refuse(&mut self, records: &[Vec<u8>]) {
        // An unusable mempool holds nothing that could be journaled again.
        if let Ok(mut mempool) = self.0.lock() {
            for record in records {
                mempool.remove(&hash(HashDomain::SignedTransaction, record));
            }
        }
    }
}

/// The encodings of the mempool's local transactions, or `None` if the
/// mempool is unusable.
fn local_records(mempool: &Mutex<Mempool>) -> Option<Vec<Vec<u8>>> {
    let local = mempool.lock().ok()?.local_transactions();
    Some(local.iter().map(encode).collect())
}
