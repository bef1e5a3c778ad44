//! The storage layer's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the storage layer.
///
/// Open failures name the data directory and say what to do about it. A value or
/// key in the database that does not decode is reported as [`StoreError::Corrupt`]
/// rather than a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The data directory (or one of its parents) could not be created.
    #[error(
        "cannot create the data directory {path}: {source}; check that the parent directory \
         exists and is writable by this user"
    )]
    CreateDir {
        /// The data directory.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Another process, or another open [`Store`](super::Store) in this process,
    /// holds the database's lock file.
    #[error(
        "the database at {path} is in use: another process (or another open store in this \
         process) holds its lock file; stop the other node using this data directory, or \
         choose a different one ({source})"
    )]
    Locked {
        /// The data directory.
        path: PathBuf,
        /// RocksDB's report.
        #[source]
        source: rocksdb::Error,
    },

    /// RocksDB found damaged files while opening the database.
    #[error(
        "the database at {path} is corrupt ({source}); restore the data directory from a \
         backup, or move it aside and resync from peers"
    )]
    CorruptDatabase {
        /// The data directory.
        path: PathBuf,
        /// RocksDB's report.
        #[source]
        source: rocksdb::Error,
    },

    /// The database could not be opened for another reason (permissions, disk
    /// full, not a RocksDB directory, …).
    #[error(
        "cannot open the database at {path}: {source}; check that it is a BitCraps data \
         directory that this user can read and write, and that the disk is not full"
    )]
    Open {
        /// The data directory.
        path: PathBuf,
        /// RocksDB's report.
        #[source]
        source: rocksdb::Error,
    },

    /// The database was written by a build with a different key layout.
    #[error(
        "the database at {path} uses storage schema version {found}, but this build reads only \
         version {supported}; run a matching BitCraps release, or resync into a new data directory"
    )]
    UnsupportedSchema {
        /// The data directory.
        path: PathBuf,
        /// The version stored in the database.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },

    /// A stored key or value does not have the layout this module writes.
    #[error(
        "corrupt entry in column family `{column_family}`: {detail}; restore the data directory \
         from a backup, or move it aside and resync from peers"
    )]
    Corrupt {
        /// The column family holding the bad entry.
        column_family: &'static str,
        /// What was wrong with it.
        detail: String,
    },

    /// A block was offered out of order: its height is past the next one expected.
    #[error(
        "cannot apply block {got}: the next block to apply is {expected}; the blocks in between \
         are missing"
    )]
    HeightGap {
        /// The height the store expects next (0 when nothing has been applied).
        expected: u64,
        /// The height offered.
        got: u64,
    },

    /// A block at an already-applied height was offered with different bytes
    /// than the stored one: two different finalized blocks at one height.
    #[error(
        "block {height} is already applied with different contents; two different blocks were \
         finalized at one height (a safety violation or a local bug), refusing to continue"
    )]
    ConflictingBlock {
        /// The height in question.
        height: u64,
    },

    /// An account address is empty or longer than
    /// [`MAX_ADDRESS_LEN`](super::MAX_ADDRESS_LEN) bytes.
    #[error("an account address is {len} bytes long; addresses must be 1 to {max} bytes", max = super::MAX_ADDRESS_LEN)]
    InvalidAddress {
        /// The length of the address offered.
        len: usize,
    },

    /// A block holds more transactions than a position can count (the
    /// position after the last is the block's own events).
    #[error("a block holds at most {max} transactions", max = super::BLOCK_EVENTS_POSITION)]
    TooManyTransactions,

    /// RocksDB reported an error during a read or write.
    #[error("database {operation} failed: {source}")]
    Db {
        /// What the store was doing.
        operation: &'static str,
        /// RocksDB's report.
        #[source]
        source: rocksdb::Error,
    },
}

impl StoreError {
    /// A [`StoreError::Db`] for `operation`; used with `map_err`.
    pub(crate) fn db(operation: &'static str) -> impl FnOnce(rocksdb::Error) -> StoreError {
        move |source| StoreError::Db { operation, source }
    }

    /// A [`StoreError::Corrupt`] in `column_family`.
    pub(crate) fn corrupt(column_family: &'static str, detail: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            column_family,
            detail: detail.into(),
        }
    }
}
