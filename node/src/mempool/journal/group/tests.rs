use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use super::super::tests::{SyncProbe, wait_until};
use super::super::{JOURNAL_FILE, JournalLimits, RECORD_OVERHEAD, TxJournal};
use super::*;
use consensus::tx::MAX_TX_BYTES;

const LIMITS: JournalLimits = JournalLimits {
    max_file_bytes: 1 << 24,
};

/// Record `j` of request `i`, about as long as a transfer's encoding.
fn record(i: usize, j: usize) -> Vec<u8> {
    let mut bytes = format!("request {i} record {j} ").into_bytes();
    bytes.resize(160, b'.');
    bytes
}

fn request(i: usize, len: usize) -> Vec<Vec<u8>> {
    (0..len).map(|j| record(i, j)).collect()
}

/// A stand-in for the mempool's local transactions: their encodings.
struct Pool(Arc<Mutex<Vec<Vec<u8>>>>);

impl LocalPool for Pool {
    fn live(&mut self) -> Option<Vec<Vec<u8>>> {
        Some(self.0.lock().unwrap().clone())
    }

    fn refuse(&mut self, records: &[Vec<u8>]) {
        self.0.lock().unwrap().retain(|r| !records.contains(r));
    }
}

/// A journal in `dir`, rewritten once so that records are appended,
/// behind a writer whose rewrites list `pool`; with `probe` watching its
/// syncs.
fn start(
    dir: &std::path::Path,
    pool: &Arc<Mutex<Vec<Vec<u8>>>>,
    probe: &Arc<SyncProbe>,
) -> GroupCommit {
    let (mut journal, _) = TxJournal::open(dir.join(JOURNAL_FILE), LIMITS).unwrap();
    journal.rewrite(&pool.lock().unwrap()).unwrap();
    journal.probe_syncs(probe.clone());
    GroupCommit::start(journal, Pool(pool.clone())).unwrap()
}

fn reopen(dir: &std::path::Path) -> Vec<Vec<u8>> {
    TxJournal::open(dir.join(JOURNAL_FILE), LIMITS)
        .unwrap()
        .1
        .records
}

/// Requests queued while a sync runs are written by the next one, all
/// together: 17 requests, 2 syncs. None is answered before the sync that
/// covers its records returned.
#[test]
fn requests_queued_during_a_sync_share_the_next_one() {
    const WAITING: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(SyncProbe::default());
    let group = Arc::new(start(dir.path(), &Arc::default(), &probe));
    let answered = Arc::new(AtomicUsize::new(0));
    let submit = |i: usize, len: usize| {
        let (group, probe, answered) = (group.clone(), probe.clone(), answered.clone());
        thread::spawn(move || {
            let records = request(i, len);
            group.record(records.clone()).unwrap();
            assert!(
                probe.covers(&records),
                "request {i} was answered before its records were synced"
            );
            answered.fetch_add(1, Ordering::SeqCst);
        })
    };

    probe.hold();
    let first = submit(0, 1);
    wait_until("the first request's sync started", || probe.entered() == 1);
    let waiting: Vec<_> = (1..=WAITING).map(|i| submit(i, 3)).collect();
    wait_until("every request is queued", || {
        group.queued.load(Ordering::SeqCst) == WAITING + 1
    });
    assert_eq!(
        answered.load(Ordering::SeqCst),
        0,
        "nothing is answered while its sync is held"
    );
    probe.release();
    first.join().unwrap();
    for thread in waiting {
        thread.join().unwrap();
    }

    let groups = probe.synced_groups();
    assert_eq!(groups.len(), 2, "one sync for the first, one for the rest");
    assert_eq!(groups[0], request(0, 1));
    // The second group holds every waiting request, each one's records
    // together and in order.
    let mut seen = BTreeSet::new();
    for chunk in groups[1].chunks(3) {
        let i = (1..=WAITING)
            .find(|&i| chunk == request(i, 3).as_slice())
            .expect("a request's records are contiguous and in order");
        assert!(seen.insert(i), "request {i} written twice");
    }
    assert_eq!(seen.len(), WAITING);
    assert_eq!(reopen(dir.path()), groups.concat());
}

/// Many threads submitting at once: every record is on disk exactly
/// once, each request's records together and in order, each thread's
/// requests in the order it made them.
#[test]
fn concurrent_requests_are_all_on_disk_in_order() {
    const THREADS: usize = 8;
    const REQUESTS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(SyncProbe::default());
    let group = Arc::new(start(dir.path(), &Arc::default(), &probe));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let group = group.clone();
            thread::spawn(move || {
                for r in 0..REQUESTS {
                    group.record(request(t * REQUESTS + r, 1 + r % 3)).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }

    let on_disk = reopen(dir.path());
    assert_eq!(on_disk, probe.synced_groups().concat());
    let mut at = 0;
    let mut next = [0; THREADS];
    while at < on_disk.len() {
        // Records are unique: the first of a request names it, and it
        // must be the next request of one of the threads.
        let t = (0..THREADS)
            .find(|&t| next[t] < REQUESTS && on_disk[at] == record(t * REQUESTS + next[t], 0))
            .expect("each thread's requests are written in the order it made them");
        let len = 1 + next[t] % 3;
        assert_eq!(on_disk[at..at + len], request(t * REQUESTS + next[t], len));
        at += len;
        next[t] += 1;
    }
    assert_eq!(next, [REQUESTS; THREADS], "every request is on disk once");
}

/// A sync that fails fails every request it covered, with an error that
/// says what to do, and takes their records out of the pool before it
/// answers; the next write rewrites the journal with what is still
/// pooled, so the failed records do not stay in it.
#[test]
fn a_failed_sync_fails_every_request_it_covered() {
    const WAITING: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(SyncProbe::default());
    let pool = Arc::new(Mutex::new(Vec::new()));
    let group = Arc::new(start(dir.path(), &pool, &probe));
    let submit = |i: usize| {
        let (group, pool) = (group.clone(), pool.clone());
        thread::spawn(move || {
            // Admitted first, then journaled, as the node does.
            pool.lock().unwrap().extend(request(i, 2));
            group.record(request(i, 2))
        })
    };

    probe.hold();
    let first = submit(0);
    wait_until("the first request's sync started", || probe.entered() == 1);
    probe.fail_from_now();
    let failing: Vec<_> = (1..=WAITING).map(submit).collect();
    wait_until("every request is queued", || {
        group.queued.load(Ordering::SeqCst) == WAITING + 1
    });
    probe.release();
    first.join().unwrap().unwrap();
    for thread in failing {
        let error = thread.join().unwrap().unwrap_err();
        assert!(matches!(error, JournalError::Write { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("injected sync failure"), "{message}");
        assert!(message.contains("mempool.journal = false"), "{message}");
    }
    assert_eq!(probe.entered(), 2, "the failed requests shared one sync");
    assert_eq!(probe.synced_groups(), [request(0, 2)]);
    assert_eq!(
        *pool.lock().unwrap(),
        request(0, 2),
        "the refused records left the pool before their requests were answered"
    );

    pool.lock().unwrap().extend(request(99, 1));
    group.record(request(99, 1)).unwrap();
    assert_eq!(reopen(dir.path()), [request(0, 2), request(99, 1)].concat());
}

/// A compaction waiting for the journal while a group's sync fails runs
/// after the group's records left the pool, so it does not write them
/// back: a refused transaction never comes back after a restart.
#[test]
fn a_compaction_after_a_failed_sync_does_not_keep_what_was_refused() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(SyncProbe::default());
    let pool = Arc::new(Mutex::new(request(0, 1)));
    let group = Arc::new(start(dir.path(), &pool, &probe));
    probe.hold();
    probe.fail_from_now();
    let refused = {
        let (group, pool) = (group.clone(), pool.clone());
        thread::spawn(move || {
            pool.lock().unwrap().extend(request(1, 2));
            group.record(request(1, 2))
        })
    };
    wait_until("the group's sync started", || probe.entered() == 1);
    let compaction = {
        let (group, pool) = (group.clone(), pool.clone());
        thread::spawn(move || {
            // The node's compaction: the journal, then the pool.
            let mut journal = group.lock().unwrap();
            let live = pool.lock().unwrap().clone();
            journal.rewrite(&live).unwrap();
        })
    };
    // The compaction is waiting for the lock the held writer has.
    thread::sleep(std::time::Duration::from_millis(50));
    probe.release();
    refused.join().unwrap().unwrap_err();
    compaction.join().unwrap();
    assert_eq!(reopen(dir.path()), request(0, 1));
}

/// A bad record is refused at once, queues nothing and does not touch
/// the journal or the requests around it.
#[test]
fn a_bad_record_is_refused_without_a_sync() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(SyncProbe::default());
    let group = start(dir.path(), &Arc::default(), &probe);
    for len in [0, MAX_TX_BYTES + 1] {
        let error = group.record(vec![record(1, 0), vec![7; len]]).unwrap_err();
        assert!(matches!(error, JournalError::BadRecord { len: l } if l == len));
    }
    group.record(Vec::new()).unwrap();
    assert_eq!(probe.entered(), 0, "nothing was written");
    group.record(request(2, 1)).unwrap();
    assert_eq!(reopen(dir.path()), request(2, 1));
    assert_eq!(
        std::fs::metadata(dir.path().join(JOURNAL_FILE))
            .unwrap()
            .len(),
        (8 + RECORD_OVERHEAD + 160) as u64
    );
}

/// Compactions running between groups while threads submit: every
/// record still pooled at the end is in the journal, and after a last
/// compaction nothing else is.
#[test]
fn compactions_between_groups_keep_every_live_record() {
    const THREADS: usize = 4;
    const REQUESTS: usize = 30;
    let dir = tempfile::tempdir().unwrap();
    let probe = Arc::new(SyncProbe::default());
    let pool = Arc::new(Mutex::new(Vec::new()));
    let group = Arc::new(start(dir.path(), &pool, &probe));
    let done = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (group, pool, done) = (group.clone(), pool.clone(), done.clone());
            thread::spawn(move || {
                for r in 0..REQUESTS {
                    let records = request(t * REQUESTS + r, 2);
                    // Admitted first, then journaled, as the node does.
                    pool.lock().unwrap().extend(records.iter().cloned());
                    group.record(records).unwrap();
                }
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let compact = |group: &GroupCommit, pool: &Mutex<Vec<Vec<u8>>>, drop_half: bool| {
        // The node's lock order: the journal, then the pool.
        let mut journal = group.lock().unwrap();
        let mut pool = pool.lock().unwrap();
        if drop_half {
            // Finalized meanwhile: the oldest half leaves the pool.
            let gone = pool.len() / 2;
            pool.drain(..gone);
        }
        journal.rewrite(&pool).unwrap();
    };
    let mut compactions = 0;
    while done.load(Ordering::SeqCst) < THREADS {
        compact(&group, &pool, true);
        compactions += 1;
        thread::sleep(std::time::Duration::from_millis(2));
    }
    for thread in threads {
        thread.join().unwrap();
    }
    assert!(compactions > 0);

    let live: BTreeSet<Vec<u8>> = pool.lock().unwrap().iter().cloned().collect();
    let on_disk: BTreeSet<Vec<u8>> = reopen(dir.path()).into_iter().collect();
    assert!(
        live.is_subset(&on_disk),
        "a pooled record is missing from the journal"
    );
    compact(&group, &pool, false);
    let on_disk: BTreeSet<Vec<u8>> = reopen(dir.path()).into_iter().collect();
    assert_eq!(on_disk, live);
}
