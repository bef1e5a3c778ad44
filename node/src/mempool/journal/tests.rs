use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

/// How long a test waits for something another thread does before it
/// fails rather than hangs.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// Polls `done` until it holds; panics with `what` after [`PATIENCE`].
pub(crate) fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A test's view of a journal's append syncs ([`TxJournal::probe_syncs`]):
/// called after each append's real `fdatasync` returned, it logs the
/// records that sync covered, and can hold the sync (the writer waits in
/// it) or turn it into a failure.
#[derive(Debug, Default)]
pub(crate) struct SyncProbe {
    /// Syncs that reached the probe.
    entered: AtomicUsize,
    /// Whether a sync that reaches the probe from now on fails.
    fail: AtomicBool,
    /// Whether a sync that reaches the probe waits for [`SyncProbe::release`].
    held: Mutex<bool>,
    released: Condvar,
    /// The records of each successful sync, in order.
    synced: Mutex<Vec<Vec<Vec<u8>>>>,
}

impl SyncProbe {
    /// Called by the journal after a sync of `records`.
    pub(crate) fn synced(&self, records: &[Vec<u8>]) -> io::Result<()> {
        // Decided as the sync arrives, so a test can fail the next group
        // while an earlier one is held.
        let fail = self.fail.load(Ordering::SeqCst);
        self.entered.fetch_add(1, Ordering::SeqCst);
        let mut held = self.held.lock().unwrap();
        while *held {
            held = self.released.wait(held).unwrap();
        }
        drop(held);
        if fail {
            return Err(io::Error::other("injected sync failure"));
        }
        self.synced.lock().unwrap().push(records.to_vec());
        Ok(())
    }

    /// Syncs from now on wait until [`SyncProbe::release`].
    pub(crate) fn hold(&self) {
        *self.held.lock().unwrap() = true;
    }

    /// Lets held syncs return.
    pub(crate) fn release(&self) {
        *self.held.lock().unwrap() = false;
        self.released.notify_all();
    }

    /// Syncs that arrive from now on fail.
    pub(crate) fn fail_from_now(&self) {
        self.fail.store(true, Ordering::SeqCst);
    }

    /// Syncs that reached the probe so far.
    pub(crate) fn entered(&self) -> usize {
        self.entered.load(Ordering::SeqCst)
    }

    /// The records of each successful sync so far, in order.
    pub(crate) fn synced_groups(&self) -> Vec<Vec<Vec<u8>>> {
        self.synced.lock().unwrap().clone()
    }

    /// Whether a successful sync covered all of `records`.
    pub(crate) fn covers(&self, records: &[Vec<u8>]) -> bool {
        let synced = self.synced.lock().unwrap();
        records
            .iter()
            .all(|record| synced.iter().flatten().any(|s| s == record))
    }
}

const LIMITS: JournalLimits = JournalLimits {
    max_file_bytes: 1 << 20,
};

fn payload(i: u8, len: usize) -> Vec<u8> {
    (0..len).map(|j| i.wrapping_add(j as u8)).collect()
}

/// A journal's bytes holding `records`.
fn journal_bytes(records: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    for record in records {
        encode_record(record, &mut bytes);
    }
    bytes
}

fn read(bytes: &[u8]) -> Recovered {
    read_journal(bytes, LIMITS.max_file_bytes).expect("a slice never fails to read")
}

fn live(records: &[Vec<u8>]) -> impl FnOnce() -> Option<Vec<Vec<u8>>> {
    let records = records.to_vec();
    move || Some(records)
}

fn never() -> impl FnOnce() -> Option<Vec<Vec<u8>>> {
    || -> Option<Vec<Vec<u8>>> { panic!("the journal was rewritten where an append was expected") }
}

fn reopen(path: &Path) -> Recovered {
    TxJournal::open(path, LIMITS).expect("the journal opens").1
}

#[test]
fn records_round_trip_through_appends_and_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL_FILE);
    let (mut journal, recovered) = TxJournal::open(&path, LIMITS).unwrap();
    assert_eq!(
        recovered,
        Recovered::default(),
        "a missing journal is empty"
    );
    assert!(!path.exists(), "opening writes nothing");

    let first = vec![payload(1, 100)];
    // Not yet rewritten since it was opened: the first write is a rewrite
    // with every live record.
    journal.record(&first, live(&first)).unwrap();
    let more = vec![payload(2, 1), payload(3, MAX_TX_BYTES)];
    journal.record(&more, never()).unwrap();
    journal.record(&[], never()).unwrap();

    let recovered = reopen(&path);
    assert_eq!(recovered.records, [first, more].concat());
    assert_eq!(recovered.corrupt, 0);
    assert_eq!(recovered.stopped, None);
    assert_eq!(
        recovered.intact_bytes,
        std::fs::metadata(&path).unwrap().len()
    );
}

#[test]
fn a_torn_tail_is_dropped_and_the_records_before_it_kept() {
    let records = vec![payload(1, 40), payload(2, 50), payload(3, 60)];
    let whole = journal_bytes(&records);
    let last_start = whole.len() - RECORD_OVERHEAD - 60;
    // Cut inside the last record's length, checksum and payload.
    for cut in [
        last_start + 1,
        last_start + LEN_BYTES,
        last_start + RECORD_OVERHEAD,
        whole.len() - 1,
    ] {
        let recovered = read(&whole[..cut]);
        assert_eq!(recovered.records, records[..2], "cut at {cut}");
        assert_eq!(recovered.stopped, Some(Stopped::TornTail), "cut at {cut}");
        assert_eq!(recovered.intact_bytes, last_start as u64, "cut at {cut}");
    }
    // Cut exactly between records: nothing is torn.
    let recovered = read(&whole[..last_start]);
    assert_eq!(recovered.records, records[..2]);
    assert_eq!(recovered.stopped, None);
}

#[test]
fn a_torn_journal_on_disk_is_rewritten_before_anything_is_appended() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL_FILE);
    let records = vec![payload(1, 40), payload(2, 50)];
    let whole = journal_bytes(&records);
    std::fs::write(&path, &whole[..whole.len() - 7]).unwrap();

    let (mut journal, recovered) = TxJournal::open(&path, LIMITS).unwrap();
    assert_eq!(recovered.records, records[..1]);
    assert_eq!(recovered.stopped, Some(Stopped::TornTail));
    // An append after the torn bytes would never be read back: the journal
    // is rewritten with the live records instead.
    let new = vec![payload(3, 30)];
    let kept = vec![records[0].clone(), new[0].clone()];
    journal.record(&new, live(&kept)).unwrap();
    let recovered = reopen(&path);
    assert_eq!(recovered.records, kept);
    assert_eq!(recovered.stopped, None);
}

#[test]
fn a_corrupt_record_is_skipped_and_the_next_one_read() {
    let records = vec![payload(1, 40), payload(2, 50), payload(3, 60)];
    let whole = journal_bytes(&records);
    let second = MAGIC.len() + RECORD_OVERHEAD + 40;
    // A flipped bit in the payload, and one in the checksum itself.
    for at in [second + RECORD_OVERHEAD + 7, second + LEN_BYTES + 2] {
        let mut bytes = whole.clone();
        bytes[at] ^= 0x10;
        let recovered = read(&bytes);
        assert_eq!(
            recovered.records,
            [records[0].clone(), records[2].clone()],
            "flip at {at}"
        );
        assert_eq!(recovered.corrupt, 1);
        assert_eq!(recovered.stopped, None);
        assert_eq!(recovered.intact_bytes, whole.len() as u64);
    }
}

#[test]
fn a_length_prefix_out_of_range_stops_the_read_before_allocating() {
    let good = journal_bytes(&[payload(1, 40)]);
    for len in [u32::MAX, MAX_TX_BYTES as u32 + 1, 0] {
        let mut bytes = good.clone();
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&[0; SUM_BYTES]);
        bytes.extend_from_slice(&[7; 64]);
        let recovered = read(&bytes);
        assert_eq!(recovered.records, [payload(1, 40)], "len {len}");
        // Not a torn tail: the payload was never read, nor its buffer made.
        assert_eq!(recovered.stopped, Some(Stopped::BadLength(len)));
        assert_eq!(recovered.intact_bytes, good.len() as u64);
    }
}

#[test]
fn a_journal_past_its_bound_is_read_up_to_the_bound() {
    let records = vec![payload(1, 40), payload(2, 40), payload(3, 40)];
    let bytes = journal_bytes(&records);
    let two = (MAGIC.len() + 2 * (RECORD_OVERHEAD + 40)) as u64;
    let recovered = read_journal(&bytes[..], two).unwrap();
    assert_eq!(recovered.records, records[..2]);
    assert_eq!(recovered.stopped, Some(Stopped::OverLimit));
    assert_eq!(recovered.intact_bytes, two);
}

#[test]
fn a_file_of_another_format_reads_as_nothing() {
    for bytes in [&b"BCMPJRN2rest of it"[..], b"BCMP", b"{\"txs\": []}"] {
        let recovered = read(bytes);
        assert_eq!(recovered.records, Vec::<Vec<u8>>::new());
        assert_eq!(recovered.stopped, Some(Stopped::BadHeader), "{bytes:?}");
        assert_eq!(recovered.intact_bytes, 0);
    }
    assert_eq!(read(&[]), Recovered::default());
    assert_eq!(read(&MAGIC).stopped, None);
}

#[test]
fn compaction_keeps_only_the_live_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL_FILE);
    let (mut journal, _) = TxJournal::open(&path, LIMITS).unwrap();
    assert!(journal.compaction_due(0, 0), "due until first written");
    let records: Vec<Vec<u8>> = (0..6).map(|i| payload(i, 100)).collect();
    journal.record(&records, live(&records)).unwrap();
    assert!(!journal.compaction_due(6, 600), "everything is live");
    // Two of six left the pool: fewer dead bytes than live ones.
    assert!(!journal.compaction_due(4, 400));
    // Three left: as many dead as live.
    assert!(journal.compaction_due(3, 300));
    // All left: any dead record is worth dropping.
    assert!(journal.compaction_due(0, 0));

    // A compaction interrupted before its rename left a temporary file.
    let tmp = dir.path().join(format!("{JOURNAL_FILE}{TMP_SUFFIX}"));
    std::fs::write(&tmp, b"half a compaction").unwrap();
    let kept = vec![records[1].clone(), records[4].clone()];
    journal.rewrite(&kept).unwrap();
    assert!(!tmp.exists());
    assert!(!journal.compaction_due(2, 200));
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        (MAGIC.len() + 2 * (RECORD_OVERHEAD + 100)) as u64
    );
    // Appends go on after a compaction.
    let new = vec![payload(9, 10)];
    journal.record(&new, never()).unwrap();
    assert_eq!(reopen(&path).records, [kept, new].concat());

    journal.rewrite(&[]).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), MAGIC);
    assert!(!journal.compaction_due(0, 0));
}

#[test]
fn an_append_past_the_bound_compacts_instead() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL_FILE);
    let record = (RECORD_OVERHEAD + 100) as u64;
    let limits = JournalLimits {
        max_file_bytes: MAGIC.len() as u64 + 3 * record,
    };
    let (mut journal, _) = TxJournal::open(&path, limits).unwrap();
    let records: Vec<Vec<u8>> = (0..4).map(|i| payload(i, 100)).collect();
    journal.record(&records[..1], live(&records[..1])).unwrap();
    journal.record(&records[1..3], never()).unwrap();
    // A fourth record would pass the bound: the pool now holds only the
    // third and fourth, and the journal is rewritten with them.
    journal.record(&records[3..], live(&records[2..])).unwrap();
    assert_eq!(
        TxJournal::open(&path, limits).unwrap().1.records,
        records[2..]
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        MAGIC.len() as u64 + 2 * record
    );
}

#[test]
fn bad_records_and_a_missing_snapshot_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(JOURNAL_FILE);
    let (mut journal, _) = TxJournal::open(&path, LIMITS).unwrap();
    let first = vec![payload(1, 10)];
    journal.record(&first, live(&first)).unwrap();
    for len in [0, MAX_TX_BYTES + 1] {
        let bad = vec![payload(2, 10), vec![0; len]];
        assert!(matches!(
            journal.record(&bad, never()),
            Err(JournalError::BadRecord { len: l }) if l == len
        ));
        assert!(matches!(
            journal.rewrite(&bad),
            Err(JournalError::BadRecord { .. })
        ));
    }
    assert_eq!(reopen(&path).records, first);

    // Opened again: the next write must be a rewrite, and without a
    // snapshot of the pool it writes nothing.
    let (mut journal, _) = TxJournal::open(&path, LIMITS).unwrap();
    let error = journal.record(&[payload(3, 10)], || None).unwrap_err();
    assert!(matches!(error, JournalError::Unusable));
    assert!(error.to_string().contains("restart the node"), "{error}");
    assert_eq!(reopen(&path).records, first);
}

#[test]
fn a_journal_that_cannot_be_written_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let (mut journal, _) = TxJournal::open(data.join(JOURNAL_FILE), LIMITS).unwrap();
    // The data directory is gone: nothing can be created in it.
    std::fs::remove_dir(&data).unwrap();
    let error = journal
        .record(&[payload(1, 10)], live(&[payload(1, 10)]))
        .unwrap_err();
    assert!(matches!(error, JournalError::Write { .. }));
    assert!(
        error.to_string().contains("mempool.journal = false"),
        "{error}"
    );
    assert!(journal.compaction_due(1, 10), "retried by the next write");
}

#[test]
fn the_default_bound_holds_a_full_pool_of_local_transactions_twice() {
    let config = MempoolConfig::new(wallet::ChainId::new([1; 32]));
    let limits = JournalLimits::for_mempool(&config);
    let full = (MAGIC.len() + config.max_bytes + config.max_txs * RECORD_OVERHEAD) as u64;
    assert_eq!(limits.max_file_bytes, 2 * full);
}

proptest! {
    /// Whatever the bytes, reading returns (no panic, no error from a
    /// slice), every record it returns is in range, and the intact prefix
    /// is within the input.
    #[test]
    fn reading_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let recovered = read(&bytes);
        prop_assert!(recovered.intact_bytes <= bytes.len() as u64);
        for record in &recovered.records {
            prop_assert!(!record.is_empty() && record.len() <= MAX_TX_BYTES);
        }
    }

    /// The same behind a valid header, where random bytes reach the record
    /// framing rather than failing the magic.
    #[test]
    fn reading_any_records_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let recovered = read(&[&MAGIC[..], &bytes].concat());
        prop_assert!(recovered.intact_bytes <= (MAGIC.len() + bytes.len()) as u64);
        prop_assert_ne!(recovered.stopped, Some(Stopped::BadHeader));
    }

    /// A journal cut anywhere gives back exactly the records that ended
    /// before the cut.
    #[test]
    fn a_cut_journal_gives_back_the_records_before_the_cut(
        records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..200), 0..20),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = journal_bytes(&records);
        let cut = MAGIC.len() + cut.index(bytes.len() - MAGIC.len() + 1);
        let mut end = MAGIC.len();
        let whole = records
            .iter()
            .take_while(|r| {
                end += RECORD_OVERHEAD + r.len();
                end <= cut
            })
            .count();
        let recovered = read(&bytes[..cut]);
        prop_assert_eq!(&recovered.records[..], &records[..whole]);
        prop_assert_eq!(recovered.corrupt, 0);
    }
}
