//! # The journal of local transactions
//!
//! The mempool lives in memory. A transaction a player submitted to this
//! node's own API is normally on its way to the validators within
//! milliseconds, but while the node has no peer on the transaction topic
//! (cut off, every peer restarting) the network holds it, and a node
//! killed then lost it for good: the API had answered "accepted", and the
//! wallet's later nonces waited behind the gap forever. [`TxJournal`]
//! keeps those local transactions on disk, as go-ethereum's journal of
//! local transactions (`transactions.rlp`) and Bitcoin Core's
//! `mempool.dat` do: only transactions this node accepted from its own API
//! (or its wallet routes), never gossip, which the peers that sent it
//! still hold.
//!
//! ## Format
//!
//! One file, `<data_dir>/mempool.journal` ([`JOURNAL_FILE`]):
//!
//! ```text
//! magic: "BCMPJRN1" (8 bytes: the format and its version)
//! records: { len: u32 LE (1 ..= MAX_TX_BYTES),
//!            checksum: the first 8 bytes of BLAKE3 (derive-key mode) of len ‖ payload,
//!            payload: len bytes, a signed transaction's canonical encoding }*
//! ```
//!
//! Reading ([`read_journal`]) never panics and never blocks the start: the
//! length is checked before anything is allocated for the payload, and the
//! whole read is bounded by [`JournalLimits::max_file_bytes`]. A record
//! whose checksum does not match is skipped (its length still frames the
//! next one). The first length out of range, a file that ends inside a
//! record (a crash cut an append short) or a file past its bound ends the
//! read: what follows cannot be framed. Either way the node logs a warning
//! and starts with what it could read; the journal is then rewritten
//! before anything is appended to it, so a torn tail never hides later
//! records.
//!
//! ## Writing
//!
//! [`TxJournal::record`] appends the records of newly admitted local
//! transactions in one write, then `fdatasync`s, before the API answers:
//! the API's "accepted" is the promise the journal keeps, so it is made
//! only once the transaction would survive a crash or a power cut.
//! `fdatasync` rather than `fsync`: it persists the data and the file's
//! new length, all a reader needs, without the timestamps.
//!
//! The node does not call it once per API request: requests go through
//! [`GroupCommit`], whose writer thread appends the records of every
//! request waiting at that moment in one write and covers them all with
//! one `fdatasync` (*group commit*), answering each request only once
//! that sync returned. A request alone costs one sync, as before;
//! concurrent requests (single-transaction submits from many wallets, or
//! `bitcraps testnet load --batch 1`) share one instead of queueing for
//! one each. A failed write or sync fails every request it covered.
//!
//! Nothing is written when a transaction leaves the pool. Instead the
//! journal is *compacted* ([`TxJournal::rewrite`]): written anew with only
//! the local transactions still pooled — one a finalized block included,
//! that expired, or that was replaced or evicted is gone — into a
//! temporary file that is synced and renamed over the journal (then the
//! directory is synced), so a crash leaves the old journal or the new one,
//! never a mix. The node compacts at start (after the journal's
//! transactions went back into the mempool), when
//! [`TxJournal::compaction_due`] says the dead records outweigh the live
//! ones (checked periodically), and instead of an append that would
//! take the file past its bound or follow a failed write.
//!
//! ## Bounds
//!
//! The journal's live records are the mempool's local transactions, so the
//! mempool's limits bound them: `max_txs_per_sender` per sender, `max_txs`
//! and `max_bytes` in all. The file, live records plus dead ones not yet
//! compacted away, is bounded at twice that
//! ([`JournalLimits::for_mempool`]): an append that would pass the bound
//! compacts instead. At start every record goes through the mempool's
//! normal admission, which applies the same per-sender and total limits
//! again (and drops what was finalized meanwhile or is now invalid).

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use consensus::tx::MAX_TX_BYTES;

use super::MempoolConfig;

pub mod group;

pub use group::{GroupCommit, LocalPool};

/// The journal's file name inside the node's data directory.
pub const JOURNAL_FILE: &str = "mempool.journal";

/// The first bytes of a journal: this format, version 1.
const MAGIC: [u8; 8] = *b"BCMPJRN1";

/// A record's length prefix.
const LEN_BYTES: usize = 4;

/// A record's checksum.
const SUM_BYTES: usize = 8;

/// The bytes a record adds to its transaction: the length prefix and the
/// checksum.
pub const RECORD_OVERHEAD: usize = LEN_BYTES + SUM_BYTES;

/// The BLAKE3 derive-key context of the checksum: a journal record's
/// checksum never equals a hash the node computes for anything else.
const CHECKSUM_CONTEXT: &str = "bitcraps 2026 mempool journal record v1";

/// What a compaction's temporary file adds to the journal's name.
const TMP_SUFFIX: &str = ".tmp";

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The journal exists but could not be read (not a matter of its
    /// contents: those are skipped with a warning).
    #[error(
        "cannot read the mempool journal {path}: {source}; move the file away to start without it, or set mempool.journal = false"
    )]
    Read {
        /// The journal.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Appending or rewriting failed.
    #[error(
        "cannot write the mempool journal {path}: {source}; free space in its directory or fix its permissions (or set mempool.journal = false to run without one)"
    )]
    Write {
        /// The journal.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A record to write is empty or longer than a transaction can be.
    #[error(
        "a mempool journal record of {len} bytes is outside 1..={MAX_TX_BYTES}; only a signed transaction's encoding can be journaled"
    )]
    BadRecord {
        /// Its length.
        len: usize,
    },
    /// The journal's writer thread ([`GroupCommit`]) could not be started.
    #[error(
        "cannot start the mempool journal's writer thread: {source}; the system is out of threads or memory: free some and restart the node, or set mempool.journal = false"
    )]
    Start {
        /// Why.
        source: io::Error,
    },
    /// The mempool or the journal is unusable after a panic elsewhere in
    /// the node, so the pooled local transactions cannot be listed or the
    /// journal cannot be reached.
    #[error(
        "the mempool or its journal is unusable after an earlier panic; restart the node (the journal on disk is intact)"
    )]
    Unusable,
}

impl JournalError {
    /// The same error again, for each request a failed group commit
    /// covered. An [`io::Error`] cannot be cloned: its kind and message
    /// are copied, which is all the error reports.
    fn duplicate(&self) -> JournalError {
        let copy = |source: &io::Error| io::Error::new(source.kind(), source.to_string());
        match self {
            JournalError::Read { path, source } => JournalError::Read {
                path: path.clone(),
                source: copy(source),
            },
            JournalError::Write { path, source } => JournalError::Write {
                path: path.clone(),
                source: copy(source),
            },
            JournalError::BadRecord { len } => JournalError::BadRecord { len: *len },
            JournalError::Start { source } => JournalError::Start {
                source: copy(source),
            },
            JournalError::Unusable => JournalError::Unusable,
        }
    }
}

/// How large a journal may grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalLimits {
    /// The most bytes of the file, live and dead records together, and the
    /// most read of it at start.
    pub max_file_bytes: u64,
}

impl JournalLimits {
    /// The bound for a mempool of `config`: twice what its local
    /// transactions could take (every transaction in it local, each with
    /// its record overhead), so that dead records can be as many as the
    /// live ones before an append forces a compaction. For the defaults
    /// (8192 transactions, 4 MiB) about 8.4 MiB.
    pub fn for_mempool(config: &MempoolConfig) -> JournalLimits {
        let live = MAGIC.len() as u64
            + config.max_bytes as u64
            + config.max_txs as u64 * RECORD_OVERHEAD as u64;
        JournalLimits {
            max_file_bytes: live.saturating_mul(2),
        }
    }
}

/// Why [`read_journal`] stopped before the end of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// The file does not start with this format's magic bytes: another
    /// format or version, or a file cut short inside its first bytes.
    BadHeader,
    /// The file ends inside a record: a crash cut an append short.
    TornTail,
    /// A length prefix outside `1..=MAX_TX_BYTES`: the bytes from there on
    /// cannot be framed.
    BadLength(u32),
    /// The next record would end past [`JournalLimits::max_file_bytes`].
    OverLimit,
}

/// What [`read_journal`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// The payload of every intact record, in file order.
    pub records: Vec<Vec<u8>>,
    /// Records skipped because their checksum did not match.
    pub corrupt: usize,
    /// Why reading stopped early, if it did.
    pub stopped: Option<Stopped>,
    /// The bytes read up to the end of the last well-framed record (the
    /// magic included): the file's usable prefix.
    pub intact_bytes: u64,
}

/// The checksum of a record: BLAKE3 (derive-key mode) over its length
/// prefix and payload, so a damaged length is caught as well as a damaged
/// payload.
fn checksum(len: &[u8; LEN_BYTES], payload: &[u8]) -> [u8; SUM_BYTES] {
    let mut hasher = blake3::Hasher::new_derive_key(CHECKSUM_CONTEXT);
    hasher.update(len);
    hasher.update(payload);
    let mut sum = [0u8; SUM_BYTES];
    sum.copy_from_slice(&hasher.finalize().as_bytes()[..SUM_BYTES]);
    sum
}

/// Appends one record to `out`. The payload's length was checked.
fn encode_record(payload: &[u8], out: &mut Vec<u8>) {
    // Checked by `check_records` against MAX_TX_BYTES, far below u32::MAX.
    let len = (payload.len() as u32).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&checksum(&len, payload));
    out.extend_from_slice(payload);
}

/// Refuses a record the reader would not take back; returns the bytes the
/// records take in the file.
fn check_records(records: &[Vec<u8>]) -> Result<u64, JournalError> {
    records.iter().try_fold(0u64, |sum, record| {
        if record.is_empty() || record.len() > MAX_TX_BYTES {
            Err(JournalError::BadRecord { len: record.len() })
        } else {
            Ok(sum + (RECORD_OVERHEAD + record.len()) as u64)
        }
    })
}

/// Reads into `buf` until it is full or the input ends; returns how many
/// bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Reads a journal from `reader`, at most `max_bytes` of it (see the
/// [module documentation](self)). Never panics and allocates nothing a
/// length prefix asks for before checking it; only an I/O error of the
/// reader is an error. An empty input is an empty journal.
pub fn read_journal(mut reader: impl Read, max_bytes: u64) -> io::Result<Recovered> {
    let mut out = Recovered::default();
    let mut magic = [0u8; MAGIC.len()];
    match read_full(&mut reader, &mut magic)? {
        0 => return Ok(out),
        n if n == MAGIC.len() && magic == MAGIC => {}
        _ => {
            out.stopped = Some(Stopped::BadHeader);
            return Ok(out);
        }
    }
    let mut position = MAGIC.len() as u64;
    out.intact_bytes = position;
    loop {
        let mut frame = [0u8; RECORD_OVERHEAD];
        match read_full(&mut reader, &mut frame)? {
            0 => return Ok(out),
            RECORD_OVERHEAD => {}
            _ => {
                out.stopped = Some(Stopped::TornTail);
                return Ok(out);
            }
        }
        let len_bytes: [u8; LEN_BYTES] = [frame[0], frame[1], frame[2], frame[3]];
        let len = u32::from_le_bytes(len_bytes);
        if len == 0 || len as usize > MAX_TX_BYTES {
            out.stopped = Some(Stopped::BadLength(len));
            return Ok(out);
        }
        let end = position + (RECORD_OVERHEAD as u64) + u64::from(len);
        if end > max_bytes {
            out.stopped = Some(Stopped::OverLimit);
            return Ok(out);
        }
        // At most MAX_TX_BYTES, checked above.
        let mut payload = vec![0u8; len as usize];
        if read_full(&mut reader, &mut payload)? < payload.len() {
            out.stopped = Some(Stopped::TornTail);
            return Ok(out);
        }
        position = end;
        out.intact_bytes = position;
        if frame[LEN_BYTES..] == checksum(&len_bytes, &payload) {
            out.records.push(payload);
        } else {
            out.corrupt += 1;
        }
    }
}

/// The journal of this node's local transactions (see the
/// [module documentation](self)).
#[derive(Debug)]
pub struct TxJournal {
    path: PathBuf,
    limits: JournalLimits,
    /// The journal, open for appending, while its contents are known to be
    /// well-formed records within the bound: `None` from opening until the
    /// first rewrite, and after a failed write.
    file: Option<File>,
    /// The file's length while `file` is open.
    len: u64,
    /// A test's view of the appends' syncs (and its way to hold or fail
    /// them).
    #[cfg(test)]
    probe: Option<std::sync::Arc<tests::SyncProbe>>,
}

impl TxJournal {
    /// Reads the journal at `path` (missing: empty), at most
    /// `limits.max_file_bytes` of it, and returns what it holds. It writes
    /// nothing: the caller puts the records back into the mempool and then
    /// [rewrites](TxJournal::rewrite) the journal with those the mempool
    /// took, which also drops anything [`read_journal`] had to skip; until
    /// then [`TxJournal::record`] rewrites rather than appends. Only an
    /// I/O error is an error, never the contents.
    pub fn open(
        path: impl Into<PathBuf>,
        limits: JournalLimits,
    ) -> Result<(TxJournal, Recovered), JournalError> {
        let path = path.into();
        let read_error = |source| JournalError::Read {
            path: path.clone(),
            source,
        };
        let recovered = match File::open(&path) {
            Ok(file) => {
                read_journal(BufReader::new(file), limits.max_file_bytes).map_err(read_error)?
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => Recovered::default(),
            Err(error) => return Err(read_error(error)),
        };
        let journal = TxJournal {
            path,
            limits,
            file: None,
            len: 0,
            #[cfg(test)]
            probe: None,
        };
        Ok((journal, recovered))
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the newly admitted local transactions `new` (their
    /// encodings) durable, returning once they are synced to disk. They are
    /// appended, unless the journal is not known to be well-formed (not
    /// rewritten since it was opened, or a write failed) or the append
    /// would take it past its bound: then it is rewritten with `live()`,
    /// every local transaction still pooled — `new` among them, as they
    /// were admitted before this call. `live` returning `None` (the
    /// mempool is unusable) leaves the journal as it was.
    pub fn record(
        &mut self,
        new: &[Vec<u8>],
        live: impl FnOnce() -> Option<Vec<Vec<u8>>>,
    ) -> Result<(), JournalError> {
        let adding = check_records(new)?;
        if new.is_empty() {
            return Ok(());
        }
        match &mut self.file {
            Some(file) if self.len + adding <= self.limits.max_file_bytes => {
                let mut bytes = Vec::with_capacity(adding as usize);
                for record in new {
                    encode_record(record, &mut bytes);
                }
                let synced = file.write_all(&bytes).and_then(|()| file.sync_data());
                #[cfg(test)]
                let synced = match &self.probe {
                    Some(probe) => synced.and_then(|()| probe.synced(new)),
                    None => synced,
                };
                match synced {
                    Ok(()) => {
                        self.len += adding;
                        Ok(())
                    }
                    Err(source) => {
                        // Part of the records may be on disk, ending in a
                        // torn one that would hide anything appended after
                        // it: the next write rewrites the file instead.
                        self.file = None;
                        Err(self.write_error(source))
                    }
                }
            }
            _ => {
                let live = live().ok_or(JournalError::Unusable)?;
                self.rewrite(&live)
            }
        }
    }

    /// Whether the journal should be compacted, given the mempool's local
    /// transactions (`live_count` of them, `live_bytes` encoded bytes):
    /// when it is not known to be well-formed, or holds dead records — as
    /// many bytes of them as of live ones, or any at all once nothing is
    /// live.
    pub fn compaction_due(&self, live_count: usize, live_bytes: usize) -> bool {
        if self.file.is_none() {
            return true;
        }
        let live = (live_count * RECORD_OVERHEAD + live_bytes) as u64;
        let dead = self.len.saturating_sub(MAGIC.len() as u64 + live);
        dead > 0 && (live_count == 0 || dead >= live)
    }

    /// Replaces the journal with one holding exactly `live` (the encodings
    /// of every local transaction still pooled), atomically: written to a
    /// temporary file, synced, renamed over the journal, the directory
    /// synced. On failure the old journal is left as it was (and the next
    /// [`TxJournal::record`] rewrites again).
    pub fn rewrite(&mut self, live: &[Vec<u8>]) -> Result<(), JournalError> {
        let size = MAGIC.len() as u64 + check_records(live)?;
        if size > self.limits.max_file_bytes {
            // Cannot happen while the mempool's limits are the journal's;
            // refused rather than writing a journal the next start would
            // not read to its end.
            return Err(self.write_error(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{size} bytes of live records are over the journal's bound of {} bytes",
                    self.limits.max_file_bytes
                ),
            )));
        }
        self.file = None;
        let mut bytes = Vec::with_capacity(size as usize);
        bytes.extend_from_slice(&MAGIC);
        for record in live {
            encode_record(record, &mut bytes);
        }
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(TMP_SUFFIX);
        let tmp = PathBuf::from(tmp);
        let written = (|| {
            match std::fs::remove_file(&tmp) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
            let mut file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            sync_parent(&self.path)?;
            Ok(file)
        })();
        match written {
            Ok(file) => {
                self.file = Some(file);
                self.len = size;
                Ok(())
            }
            Err(source) => {
                let _ = std::fs::remove_file(&tmp);
                Err(self.write_error(source))
            }
        }
    }

    /// Lets `probe` watch, hold or fail the syncs of appends.
    #[cfg(test)]
    fn probe_syncs(&mut self, probe: std::sync::Arc<tests::SyncProbe>) {
        self.probe = Some(probe);
    }

    fn write_error(&self, source: io::Error) -> JournalError {
        JournalError::Write {
            path: self.path.clone(),
            source,
        }
    }
}

/// Syncs the directory holding `path`, so that a rename into it survives
/// a crash.
fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Directories cannot be opened for syncing here; the rename is as
        // durable as the platform makes it.
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
