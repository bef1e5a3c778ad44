//! Group commit: concurrent API requests share the journal's `fdatasync`.
//!
//! Every request that journals records ([`GroupCommit::record`]) puts them
//! on a bounded queue and waits. One writer thread takes the first request
//! off the queue, then everything queued behind it (up to
//! [`MAX_GROUP_RECORDS`] records), appends the whole group in one write,
//! syncs once ([`TxJournal::record`]) and only then answers every request
//! of the group with the outcome of that sync. While it syncs, the next
//! requests queue up and form the next group, so under concurrent submits
//! a sync covers many requests instead of each request waiting for every
//! sync before its own. A lone request still costs one sync and waits for
//! nothing else: the writer takes it as soon as it is queued.
//!
//! The promise does not weaken: a request is answered only after the sync
//! that covers its records returned, and a failed write or sync fails every
//! request of its group with the same error.
//!
//! The writer holds the journal's lock while it writes and syncs; a
//! compaction takes the same lock ([`GroupCommit::lock`]), so it runs
//! between two groups, never in the middle of one. A failed group's
//! transactions leave the mempool ([`LocalPool::refuse`]) before that lock
//! is let go: a compaction waiting for it would otherwise find them still
//! pooled and write them back into the journal, and a refused transaction
//! would come back after a restart.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{JournalError, TxJournal, check_records};

/// How many requests may wait for the writer; one more blocks until the
/// writer takes a group off the queue (the API's blocking threads are
/// bounded too, so this is back-pressure, not a refusal).
pub const QUEUE_REQUESTS: usize = 1024;

/// The most records the writer puts in one group: about 8 MiB of
/// transactions at their largest, the most it holds in memory at once.
/// A single request larger than this (the API sends at most 1024) forms a
/// group of its own.
pub const MAX_GROUP_RECORDS: usize = 4096;

/// The mempool's local transactions, as the writer thread sees them. It
/// calls both methods holding the journal's lock.
pub trait LocalPool: Send + 'static {
    /// The encodings of every local transaction still pooled, or `None` if
    /// the mempool is unusable: called when the journal must be rewritten
    /// rather than appended to (see [`TxJournal::record`]).
    fn live(&mut self) -> Option<Vec<Vec<u8>>>;

    /// Takes the transactions `records` (their encodings) out of the
    /// mempool: their group's write or sync failed, so their requests are
    /// refused. Called before any of those requests is answered.
    fn refuse(&mut self, records: &[Vec<u8>]);
}

/// One request's records and where its answer goes.
struct Request {
    records: Vec<Vec<u8>>,
    answer: SyncSender<Result<(), JournalError>>,
}

/// The journal of local transactions behind its writer thread (see the
/// [module documentation](self)). Dropping it closes the queue: the writer
/// answers what is queued and exits.
#[derive(Debug)]
pub struct GroupCommit {
    journal: Arc<Mutex<TxJournal>>,
    queue: SyncSender<Request>,
    /// Requests queued so far, so that a test knows when a group is
    /// waiting to form.
    #[cfg(test)]
    queued: Arc<std::sync::atomic::AtomicUsize>,
}

impl GroupCommit {
    /// Starts the writer thread for `journal`, over the mempool's local
    /// transactions `pool`.
    pub fn start(journal: TxJournal, pool: impl LocalPool) -> Result<GroupCommit, JournalError> {
        let journal = Arc::new(Mutex::new(journal));
        let (queue, requests) = mpsc::sync_channel(QUEUE_REQUESTS);
        let writer = journal.clone();
        std::thread::Builder::new()
            .name("mempool-journal".into())
            .spawn(move || write_groups(&requests, &writer, pool))
            .map_err(|source| JournalError::Start { source })?;
        Ok(GroupCommit {
            journal,
            queue,
            #[cfg(test)]
            queued: Arc::default(),
        })
    }

    /// Makes the newly admitted local transactions `new` (their encodings)
    /// durable: returns once the sync that covers them returned, with that
    /// sync's outcome. Records are refused (and nothing is queued) if one
    /// is empty or longer than a transaction can be.
    pub fn record(&self, new: Vec<Vec<u8>>) -> Result<(), JournalError> {
        // Checked here so that one bad request never fails a group.
        check_records(&new)?;
        if new.is_empty() {
            return Ok(());
        }
        let (answer, answered) = mpsc::sync_channel(1);
        // Both fail only if the writer thread is gone: it panicked.
        self.queue
            .send(Request {
                records: new,
                answer,
            })
            .map_err(|_| JournalError::Unusable)?;
        #[cfg(test)]
        self.queued
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        answered.recv().map_err(|_| JournalError::Unusable)?
    }

    /// The journal, for compacting it: the writer waits meanwhile, so no
    /// group is half written when the journal is rewritten.
    pub fn lock(&self) -> Result<MutexGuard<'_, TxJournal>, JournalError> {
        self.journal.lock().map_err(|_| JournalError::Unusable)
    }
}

/// The writer thread: forms groups from the queue, writes and syncs each
/// with one [`TxJournal::record`], answers its requests. Ends when the
/// queue is closed and empty.
fn write_groups(
    requests: &Receiver<Request>,
    journal: &Mutex<TxJournal>,
    mut pool: impl LocalPool,
) {
    // A request that did not fit the group before: it opens the next one.
    let mut carried: Option<Request> = None;
    loop {
        // Blocks for the first request of a group (no busy loop).
        let first = match carried.take() {
            Some(request) => request,
            None => match requests.recv() {
                Ok(request) => request,
                Err(_) => return,
            },
        };
        let mut count = first.records.len();
        let mut group = vec![first];
        while count < MAX_GROUP_RECORDS {
            match requests.try_recv() {
                Ok(request) if count + request.records.len() > MAX_GROUP_RECORDS => {
                    carried = Some(request);
                    break;
                }
                Ok(request) => {
                    count += request.records.len();
                    group.push(request);
                }
                Err(_) => break,
            }
        }
        let mut records = Vec::with_capacity(count);
        let mut answers = Vec::with_capacity(group.len());
        for request in group {
            records.extend(request.records);
            answers.push(request.answer);
        }
        let outcome = match journal.lock() {
            Ok(mut journal) => {
                let outcome = journal.record(&records, || pool.live());
                if outcome.is_err() {
                    // Still holding the lock: see the module documentation.
                    pool.refuse(&records);
                }
                outcome
            }
            Err(_) => {
                pool.refuse(&records);
                Err(JournalError::Unusable)
            }
        };
        for answer in answers {
            // A requester that is gone has nobody to tell.
            let _ = answer.send(match &outcome {
                Ok(()) => Ok(()),
                Err(error) => Err(error.duplicate()),
            });
        }
    }
}

#[cfg(test)]
mod tests;
