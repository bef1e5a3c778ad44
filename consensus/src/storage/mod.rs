//! # Persistent storage (RocksDB)
//!
//! [`Store`] is the node's database: the ledger state machine writes finalized
//! blocks into it with [`Store::apply_block`], consensus records its votes and
//! locks with [`Store::put_synced_meta`], and the explorer API reads blocks,
//! receipts, transactions, account histories and game rounds from it.
//!
//! Values are opaque bytes: the ledger defines their encodings. This module owns
//! the key layout, atomicity and durability.
//!
//! ## Column families and key layouts
//!
//! All integers in keys are **big-endian**, so RocksDB's bytewise key order is
//! numeric order and range scans come out sorted by height, position or round.
//! `‖` is concatenation.
//!
//! | column family | key | value |
//! |---|---|---|
//! | `meta` | `0x00 ‖ "last_applied_height"` | u64 BE, the height of the last applied block |
//! | `meta` | `0x00 ‖ "schema_version"` | u32 BE, [`SCHEMA_VERSION`] |
//! | `meta` | `0x01 ‖ key` | the caller's value for `key` ([`Store::put_synced_meta`]) |
//! | `state` | the ledger's key | the ledger's value |
//! | `blocks` | height (u64 BE) | the block's bytes |
//! | `receipts` | height (u64 BE) ‖ position (u32 BE) | the transaction's receipt |
//! | `tx_index` | tx hash (32 bytes) | height (u64 BE) ‖ position (u32 BE) |
//! | `account_history` | len(address) (u8) ‖ address ‖ height (u64 BE) ‖ position (u32 BE) | tx hash (32 bytes), or empty at [`BLOCK_EVENTS_POSITION`] |
//! | `rounds` | table (u64 BE) ‖ round (u64 BE) | the round's record |
//! | `block_events` | height (u64 BE) | the events the block caused itself |
//!
//! The `0x00` / `0x01` prefixes in `meta` keep the caller's keys apart from the
//! store's own. The length byte in `account_history` keeps the entries of
//! address `ab` apart from those of `abc`; addresses are 1 to
//! [`MAX_ADDRESS_LEN`] bytes. An account's history holds its transactions and,
//! at position [`BLOCK_EVENTS_POSITION`] of a height, the events that block
//! caused itself and that concern it (a settlement, a refund, a payout).
//! The first block applied must have height [`GENESIS_HEIGHT`].
//!
//! Reads decode every stored key and value they interpret and check its length
//! first (a height must be 8 bytes, a location 12, a hash 32); a mismatch is a
//! [`StoreError::Corrupt`], never a panic.
//!
//! ## Atomicity and crash consistency
//!
//! Everything one finalized block changes — state puts and deletes, the block,
//! its receipts and own events, the tx index, account histories, round
//! records — is described
//! by one [`BlockCommit`] and written by [`Store::apply_block`] in **one**
//! RocksDB `WriteBatch`, together with the new `last_applied_height` in `meta`.
//! A write batch is a single checksummed record in the write-ahead log: on
//! restart RocksDB replays whole records and drops a torn last one
//! (point-in-time recovery), and flushes of the column families' memtables are
//! atomic across column families. So:
//!
//! > **After a kill at any point, reopening yields the state before or after a
//! > block, never a mix** — and `last_applied_height` always names the last block
//! > whose changes are all there.
//!
//! `consensus/tests/storage_crash.rs` checks this by SIGKILLing a process that
//! commits blocks in a loop, dozens of times, and verifying every key after each
//! reopen.
//!
//! Applying is idempotent: offering a block at or below the last applied height
//! is a no-op that returns [`ApplyOutcome::AlreadyApplied`] (so a node that
//! crashed after the write but before noting it can simply re-apply), unless the
//! stored block at that height has different bytes, which is a
//! [`StoreError::ConflictingBlock`]. Offering a height past the next one is a
//! [`StoreError::HeightGap`].
//!
//! ## Durability
//!
//! Both [`Store::apply_block`] and [`Store::put_synced_meta`] write with
//! `sync = true`: the write-ahead log is fsynced before they return, so what
//! they wrote survives a power loss or kernel crash, not only a process crash.
//! (A killed process loses nothing the OS already has; syncing is what protects
//! against losing the machine.) Consensus safety depends on this for votes and
//! locks: a validator must never act on a vote it might forget, or after a
//! restart it could vote twice.
//!
//! ## Options
//!
//! See [`StoreConfig`] for the tunable sizes. Fixed choices: the database and
//! missing column families are created on open; the write-ahead log is always
//! on and recovery is point-in-time; flushes are atomic across column families;
//! one LRU block cache of bounded size is shared by all column families, and
//! index and filter blocks are charged to it so it bounds read memory; tables
//! have 10-bit-per-key Bloom filters for point lookups; compression is the
//! library's default (Snappy in Debian's build); old info logs are capped.
//!
//! ## Concurrency
//!
//! [`Store`] is `Send + Sync`; share it with an `Arc`. Block application is
//! serialized inside the store. Each single read sees the latest committed
//! state; to see several reads (or an iteration and a height) at one point in
//! time, take a [`StoreSnapshot`] with [`Store::snapshot`]. A database
//! directory can be open in one [`Store`] at a time: RocksDB's lock file makes a
//! second open, from any process, fail with [`StoreError::Locked`].
//!
//! ## Linking
//!
//! The `rocksdb` crate is pinned at 0.20.1 and linked against the system
//! librocksdb (Debian's 7.8; see `.cargo/config.toml`). Its bindings are
//! generated from RocksDB 7.9's C header; the few functions added in 7.9
//! (`DB::latest_sequence_number`, `DB::get_updates_since`) are absent from the
//! system library and must not be used.

mod commit;
mod error;
mod keys;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DB, DBRawIterator,
    DBRecoveryMode, ErrorKind, Options, ReadOptions, WriteBatch, WriteOptions,
};

pub use commit::BlockCommit;
pub use error::StoreError;

use keys::{
    CF_ACCOUNT_HISTORY, CF_BLOCK_EVENTS, CF_BLOCKS, CF_META, CF_RECEIPTS, CF_ROUNDS, CF_STATE,
    CF_TX_INDEX, COLUMN_FAMILIES, LOCATION_LEN, META_LAST_APPLIED, META_SCHEMA_VERSION,
};

/// The version of the key layout this build reads and writes, stored in `meta`.
/// Opening a database with another version fails with
/// [`StoreError::UnsupportedSchema`]. Version 2 added the block's own events
/// and their account history entries.
pub const SCHEMA_VERSION: u32 = 2;

/// The position, within its height, of a block's own events in account
/// histories: after every transaction's (a block holds fewer), and within 16
/// bits so that `height ‖ position` cursors stay compact.
pub const BLOCK_EVENTS_POSITION: u32 = u16::MAX as u32;

/// The height of the first block a new store accepts.
pub const GENESIS_HEIGHT: u64 = 0;

/// The longest account address the store indexes, in bytes (its length is
/// stored in one byte).
pub const MAX_ADDRESS_LEN: usize = u8::MAX as usize;

/// The most entries one page of [`Store::account_history`] or [`Store::rounds`]
/// returns; larger limits are lowered to it.
pub const MAX_PAGE_LEN: usize = 1000;

/// A transaction hash (BLAKE3, 32 bytes).
pub type TxHash = [u8; 32];

/// Where a transaction is: its block's height and its position in the block.
/// Orders by height, then position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxLocation {
    /// Height of the block holding the transaction.
    pub height: u64,
    /// Index of the transaction within its block, from 0.
    pub position: u32,
}

/// What [`Store::apply_block`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The block was written and is now the last applied one.
    Applied,
    /// The block's height was already applied; nothing was written.
    AlreadyApplied {
        /// The last applied height, at or above the offered one.
        last_applied: u64,
    },
}

/// One entry of an account's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Where the transaction is; position [`BLOCK_EVENTS_POSITION`] for the
    /// block's own events.
    pub location: TxLocation,
    /// The transaction's hash; `None` for the block's own events.
    pub tx_hash: Option<TxHash>,
}

/// A page of an account's history, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryPage {
    /// The entries, newest (highest location) first.
    pub entries: Vec<HistoryEntry>,
    /// `Some(cursor)` if older entries exist: pass it as `before` to get the next page.
    pub next: Option<TxLocation>,
}

/// One game round's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundRecord {
    /// The round number within its table.
    pub round: u64,
    /// The record, as the ledger encoded it.
    pub record: Vec<u8>,
}

/// A page of a table's rounds, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundPage {
    /// The rounds, highest round number first.
    pub rounds: Vec<RoundRecord>,
    /// `Some(cursor)` if older rounds exist: pass it as `before` to get the next page.
    pub next: Option<u64>,
}

/// Sizes of the store's memory use. The defaults suit one node of a
/// several-node testnet on one machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Capacity of the LRU block cache shared by all column families, which also
    /// holds index and filter blocks. Default 64 MiB.
    pub block_cache_bytes: usize,
    /// Total size of the memtables of all column families before they are
    /// flushed to disk. Default 64 MiB.
    pub write_buffer_bytes: usize,
    /// The most files RocksDB keeps open; `-1` means no limit. Default 512.
    pub max_open_files: i32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            block_cache_bytes: 64 << 20,
            write_buffer_bytes: 64 << 20,
            max_open_files: 512,
        }
    }
}

/// The node's RocksDB database. See the [module docs](self) for the layout and
/// the guarantees.
pub struct Store {
    db: DB,
    path: PathBuf,
    /// Serializes [`Store::apply_block`]'s read-check-write.
    apply_lock: Mutex<()>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens the database in directory `path` with the default [`StoreConfig`],
    /// creating the directory, the database and its column families if missing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Locked`] if the database is open elsewhere,
    /// [`StoreError::CorruptDatabase`], [`StoreError::UnsupportedSchema`],
    /// [`StoreError::CreateDir`] or [`StoreError::Open`]; each names the path.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(path, &StoreConfig::default())
    }

    /// Like [`Store::open`], with explicit sizes.
    ///
    /// # Errors
    ///
    /// As [`Store::open`].
    pub fn open_with(path: impl AsRef<Path>, config: &StoreConfig) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        std::fs::create_dir_all(&path).map_err(|source| StoreError::CreateDir {
            path: path.clone(),
            source,
        })?;

        let cache =
            Cache::new_lru_cache(config.block_cache_bytes).map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&cache);
        table.set_cache_index_and_filter_blocks(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        table.set_bloom_filter(10.0, false);
        let mut cf_options = Options::default();
        cf_options.set_block_based_table_factory(&table);

        let mut db_options = cf_options.clone();
        db_options.create_if_missing(true);
        db_options.create_missing_column_families(true);
        db_options.set_wal_recovery_mode(DBRecoveryMode::PointInTime);
        db_options.set_atomic_flush(true);
        db_options.set_db_write_buffer_size(config.write_buffer_bytes);
        db_options.set_max_open_files(config.max_open_files);
        db_options.set_keep_log_file_num(4);
        db_options.set_max_log_file_size(16 << 20);

        let descriptors = COLUMN_FAMILIES
            .iter()
            .map(|name| ColumnFamilyDescriptor::new(*name, cf_options.clone()));
        let db = DB::open_cf_descriptors(&db_options, &path, descriptors)
            .map_err(|source| open_error(&path, source))?;
        let store = Store {
            db,
            path,
            apply_lock: Mutex::new(()),
        };
        store.check_schema()?;
        Ok(store)
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a fresh database's schema version, or checks an existing one's.
    fn check_schema(&self) -> Result<(), StoreError> {
        let meta = self.cf(CF_META);
        let stored = self
            .db
            .get_cf(meta, META_SCHEMA_VERSION)
            .map_err(StoreError::db("schema version read"))?;
        match stored {
            Some(bytes) => {
                let bytes: [u8; 4] = bytes.as_slice().try_into().map_err(|_| {
                    StoreError::corrupt(
                        CF_META,
                        format!("schema version is {} bytes, expected 4", bytes.len()),
                    )
                })?;
                let found = u32::from_be_bytes(bytes);
                if found != SCHEMA_VERSION {
                    return Err(StoreError::UnsupportedSchema {
                        path: self.path.clone(),
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                Ok(())
            }
            None => {
                if self.last_applied_height()?.is_some() {
                    return Err(StoreError::corrupt(
                        CF_META,
                        "blocks are applied but the schema version is missing",
                    ));
                }
                self.db
                    .put_cf_opt(
                        meta,
                        META_SCHEMA_VERSION,
                        SCHEMA_VERSION.to_be_bytes(),
                        &synced(),
                    )
                    .map_err(StoreError::db("schema version write"))
            }
        }
    }

    /// The handle of a column family opened in [`Store::open_with`].
    fn cf(&self, name: &'static str) -> &ColumnFamily {
        // Every name passed here is one of COLUMN_FAMILIES, all of which are
        // opened (or created) by `open_with`, so the handle always exists.
        self.db
            .cf_handle(name)
            .expect("column families are all opened in Store::open_with")
    }

    /// A reader of the latest committed state.
    fn reader(&self) -> Reader<'_> {
        Reader {
            store: self,
            snapshot: None,
        }
    }

    /// A consistent, read-only view of the store as it is now: later commits are
    /// not visible through it. Hold it briefly — it keeps old data from being
    /// compacted away.
    pub fn snapshot(&self) -> StoreSnapshot<'_> {
        StoreSnapshot {
            store: self,
            snapshot: self.db.snapshot(),
        }
    }

    /// Writes everything `commit` changes, and makes its height the last applied
    /// one, in one atomic batch synced to disk before returning. See the [module
    /// docs](self#atomicity-and-crash-consistency).
    ///
    /// A height at or below the last applied one is a no-op returning
    /// [`ApplyOutcome::AlreadyApplied`].
    ///
    /// # Errors
    ///
    /// [`StoreError::HeightGap`] if the height is past the next expected one
    /// (last applied + 1, or [`GENESIS_HEIGHT`] for an empty store);
    /// [`StoreError::ConflictingBlock`] if the height is applied with different
    /// block bytes; [`StoreError::Db`] if the write fails, in which case nothing
    /// was applied.
    pub fn apply_block(&self, commit: &BlockCommit) -> Result<ApplyOutcome, StoreError> {
        let _serialized = self
            .apply_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let height = commit.height;
        let expected = match self.last_applied_height()? {
            Some(last_applied) if height <= last_applied => {
                return match self.block(height)? {
                    Some(stored) if stored != commit.block => {
                        Err(StoreError::ConflictingBlock { height })
                    }
                    _ => Ok(ApplyOutcome::AlreadyApplied { last_applied }),
                };
            }
            // `last < height <= u64::MAX`, so this cannot overflow.
            Some(last_applied) => last_applied + 1,
            None => GENESIS_HEIGHT,
        };
        if height != expected {
            return Err(StoreError::HeightGap {
                expected,
                got: height,
            });
        }

        let (state, blocks, receipts) =
            (self.cf(CF_STATE), self.cf(CF_BLOCKS), self.cf(CF_RECEIPTS));
        let (tx_index, history, rounds) = (
            self.cf(CF_TX_INDEX),
            self.cf(CF_ACCOUNT_HISTORY),
            self.cf(CF_ROUNDS),
        );
        let mut batch = WriteBatch::default();
        for (key, value) in &commit.state {
            match value {
                Some(value) => batch.put_cf(state, key, value),
                None => batch.delete_cf(state, key),
            }
        }
        batch.put_cf(blocks, keys::height_key(height), &commit.block);
        for (position, tx) in (0u32..).zip(&commit.txs) {
            let location = keys::location_bytes(TxLocation { height, position });
            batch.put_cf(receipts, location, &tx.receipt);
            batch.put_cf(tx_index, tx.hash, location);
            for address in &tx.accounts {
                let key = keys::account_history_key(address, TxLocation { height, position })?;
                batch.put_cf(history, key, tx.hash);
            }
        }
        if let Some(own) = &commit.block_events {
            batch.put_cf(
                self.cf(CF_BLOCK_EVENTS),
                keys::height_key(height),
                &own.events,
            );
            let location = TxLocation {
                height,
                position: BLOCK_EVENTS_POSITION,
            };
            for address in &own.accounts {
                batch.put_cf(history, keys::account_history_key(address, location)?, []);
            }
        }
        for (table, round, record) in &commit.rounds {
            batch.put_cf(rounds, keys::round_key(*table, *round), record);
        }
        batch.put_cf(
            self.cf(CF_META),
            META_LAST_APPLIED,
            keys::height_key(height),
        );
        self.db
            .write_opt(batch, &synced())
            .map_err(StoreError::db("block write"))?;
        Ok(ApplyOutcome::Applied)
    }

    /// Durably stores `value` under the caller's `key` in `meta`: the write-ahead
    /// log is fsynced before this returns.
    ///
    /// This is for state that consensus safety depends on, such as the last
    /// vote cast or the block a validator is locked on. A validator must persist
    /// such a decision *before* acting on it (sending the vote): if it acted
    /// first and then crashed or lost power, it would restart without the
    /// record and could vote twice in the same view — equivocation, which gets
    /// it slashed and, with enough such validators, breaks safety.
    ///
    /// The key space is separate from the store's own `meta` keys.
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`] if the write fails; then nothing may be assumed stored.
    pub fn put_synced_meta(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.db
            .put_cf_opt(self.cf(CF_META), keys::meta_user_key(key), value, &synced())
            .map_err(StoreError::db("synced meta write"))
    }

    /// Durably deletes the caller's `key` from `meta` (synced like
    /// [`Store::put_synced_meta`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::Db`] if the write fails.
    pub fn delete_synced_meta(&self, key: &[u8]) -> Result<(), StoreError> {
        self.db
            .delete_cf_opt(self.cf(CF_META), keys::meta_user_key(key), &synced())
            .map_err(StoreError::db("synced meta delete"))
    }
}

/// Generates the read methods shared by [`Store`] and [`StoreSnapshot`]; each
/// type provides `fn reader(&self) -> Reader<'_>`.
macro_rules! read_methods {
    () => {
        /// The height of the last applied block, or `None` if none has been applied.
        ///
        /// # Errors
        ///
        /// [`StoreError::Corrupt`] if the stored height is not 8 bytes;
        /// [`StoreError::Db`] if the read fails.
        pub fn last_applied_height(&self) -> Result<Option<u64>, StoreError> {
            self.reader().last_applied_height()
        }

        /// The caller's value stored under `key` by [`Store::put_synced_meta`].
        ///
        /// # Errors
        ///
        /// [`StoreError::Db`] if the read fails.
        pub fn get_meta(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            self.reader()
                .get(CF_META, &keys::meta_user_key(key), "meta read")
        }

        /// The value of state `key`.
        ///
        /// # Errors
        ///
        /// [`StoreError::Db`] if the read fails.
        pub fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            self.reader().get(CF_STATE, key, "state read")
        }

        /// Every state entry whose key starts with `prefix`, in ascending
        /// bytewise key order (an empty prefix gives the whole state), as of the
        /// moment of this call: a block committed while iterating is invisible.
        pub fn state_prefix(&self, prefix: &[u8]) -> StateIter<'_> {
            self.reader().state_prefix(prefix)
        }

        /// The bytes of the block at `height`, if applied.
        ///
        /// # Errors
        ///
        /// [`StoreError::Db`] if the read fails.
        pub fn block(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
            self.reader()
                .get(CF_BLOCKS, &keys::height_key(height), "block read")
        }

        /// The receipts of the block at `height`, in position order. Empty if the
        /// block has no transactions or is not applied ([`Self::block`] tells
        /// these apart).
        ///
        /// # Errors
        ///
        /// [`StoreError::Corrupt`] if a stored key is malformed; [`StoreError::Db`]
        /// if the read fails.
        pub fn receipts(&self, height: u64) -> Result<Vec<Vec<u8>>, StoreError> {
            self.reader().receipts(height)
        }

        /// The receipt of the transaction at `location`.
        ///
        /// # Errors
        ///
        /// [`StoreError::Db`] if the read fails.
        pub fn receipt(&self, location: TxLocation) -> Result<Option<Vec<u8>>, StoreError> {
            self.reader()
                .get(CF_RECEIPTS, &keys::location_bytes(location), "receipt read")
        }

        /// The events the block at `height` caused itself, as the ledger
        /// encoded them; `None` if it caused none or is not applied.
        ///
        /// # Errors
        ///
        /// [`StoreError::Db`] if the read fails.
        pub fn block_events(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
            self.reader().get(
                CF_BLOCK_EVENTS,
                &keys::height_key(height),
                "block events read",
            )
        }

        /// Where the transaction with hash `hash` is, if it was applied.
        ///
        /// # Errors
        ///
        /// [`StoreError::Corrupt`] if the stored location is not 12 bytes;
        /// [`StoreError::Db`] if the read fails.
        pub fn tx_location(&self, hash: &TxHash) -> Result<Option<TxLocation>, StoreError> {
            self.reader().tx_location(hash)
        }

        /// A page of at most `limit` (at least 1, at most [`MAX_PAGE_LEN`])
        /// entries of `address`'s history, newest first, starting just below
        /// `before` (or at the newest entry if `None`). Pass the page's `next` as
        /// `before` to continue.
        ///
        /// # Errors
        ///
        /// [`StoreError::InvalidAddress`] for an empty or too long address;
        /// [`StoreError::Corrupt`] if a stored entry is malformed;
        /// [`StoreError::Db`] if the read fails.
        pub fn account_history(
            &self,
            address: &[u8],
            before: Option<TxLocation>,
            limit: usize,
        ) -> Result<HistoryPage, StoreError> {
            self.reader().account_history(address, before, limit)
        }

        /// The record of `round` at `table`.
        ///
        /// # Errors
        ///
        /// [`StoreError::Db`] if the read fails.
        pub fn round(&self, table: u64, round: u64) -> Result<Option<Vec<u8>>, StoreError> {
            self.reader()
                .get(CF_ROUNDS, &keys::round_key(table, round), "round read")
        }

        /// A page of at most `limit` (at least 1, at most [`MAX_PAGE_LEN`]) of
        /// `table`'s rounds, highest round first, starting just below `before`
        /// (or at the highest round if `None`). Pass the page's `next` as
        /// `before` to continue.
        ///
        /// # Errors
        ///
        /// [`StoreError::Corrupt`] if a stored key is malformed; [`StoreError::Db`]
        /// if the read fails.
        pub fn rounds(
            &self,
            table: u64,
            before: Option<u64>,
            limit: usize,
        ) -> Result<RoundPage, StoreError> {
            self.reader().rounds(table, before, limit)
        }
    };
}

impl Store {
    read_methods!();
}

/// A consistent read-only view of a [`Store`] at one point in time, from
/// [`Store::snapshot`]. It has the same read methods as [`Store`]; all of them
/// see the same state, whatever is committed meanwhile.
pub struct StoreSnapshot<'a> {
    store: &'a Store,
    snapshot: rocksdb::Snapshot<'a>,
}

impl std::fmt::Debug for StoreSnapshot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSnapshot")
            .field("path", &self.store.path)
            .finish_non_exhaustive()
    }
}

impl StoreSnapshot<'_> {
    fn reader(&self) -> Reader<'_> {
        Reader {
            store: self.store,
            snapshot: Some(&self.snapshot),
        }
    }

    read_methods!();
}

/// Iterator over state entries under a prefix, from [`Store::state_prefix`] or
/// [`StoreSnapshot::state_prefix`]. Yields `(key, value)` pairs in ascending key
/// order; after an error it ends.
pub struct StateIter<'a> {
    raw: DBRawIterator<'a>,
    prefix: Vec<u8>,
    done: bool,
}

impl std::fmt::Debug for StateIter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateIter")
            .field("prefix", &self.prefix)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Iterator for StateIter<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // The iterator's bounds already limit it to the prefix; the check is a
        // second line of defence.
        match self.raw.item() {
            Some((key, value)) if key.starts_with(&self.prefix) => {
                let item = (key.to_vec(), value.to_vec());
                self.raw.next();
                Some(Ok(item))
            }
            _ => {
                self.done = true;
                self.raw
                    .status()
                    .err()
                    .map(|source| Err(StoreError::db("state iteration")(source)))
            }
        }
    }
}

impl std::iter::FusedIterator for StateIter<'_> {}

/// Reads from the latest state or from a snapshot.
struct Reader<'a> {
    store: &'a Store,
    snapshot: Option<&'a rocksdb::Snapshot<'a>>,
}

impl<'a> Reader<'a> {
    fn read_options(&self) -> ReadOptions {
        let mut options = ReadOptions::default();
        if let Some(snapshot) = self.snapshot {
            options.set_snapshot(snapshot);
        }
        options
    }

    fn get(
        &self,
        cf: &'static str,
        key: &[u8],
        operation: &'static str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.store
            .db
            .get_cf_opt(self.store.cf(cf), key, &self.read_options())
            .map_err(StoreError::db(operation))
    }

    /// A raw iterator over keys in `[lower, upper)` (unbounded where `None`),
    /// not yet positioned.
    fn iter(&self, cf: &'static str, lower: Vec<u8>, upper: Option<Vec<u8>>) -> DBRawIterator<'a> {
        let mut options = self.read_options();
        options.set_iterate_lower_bound(lower);
        if let Some(upper) = upper {
            options.set_iterate_upper_bound(upper);
        }
        self.store
            .db
            .raw_iterator_cf_opt(self.store.cf(cf), options)
    }

    fn last_applied_height(&self) -> Result<Option<u64>, StoreError> {
        self.get(CF_META, META_LAST_APPLIED, "last applied height read")?
            .map(|bytes| keys::decode_height(CF_META, "last applied height", &bytes))
            .transpose()
    }

    fn state_prefix(&self, prefix: &[u8]) -> StateIter<'a> {
        let mut raw = self.iter(CF_STATE, prefix.to_vec(), keys::prefix_successor(prefix));
        raw.seek_to_first();
        StateIter {
            raw,
            prefix: prefix.to_vec(),
            done: false,
        }
    }

    fn receipts(&self, height: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let prefix = keys::height_key(height);
        let mut raw = self.iter(
            CF_RECEIPTS,
            prefix.to_vec(),
            keys::prefix_successor(&prefix),
        );
        raw.seek_to_first();
        let mut out = Vec::new();
        while let Some((key, value)) = raw.item() {
            match keys::decode_location(key) {
                Some(location) if location.height == height => {}
                _ => {
                    return Err(StoreError::corrupt(
                        CF_RECEIPTS,
                        format!("key of {} bytes under height {height}", key.len()),
                    ));
                }
            }
            out.push(value.to_vec());
            raw.next();
        }
        raw.status().map_err(StoreError::db("receipts read"))?;
        Ok(out)
    }

    fn tx_location(&self, hash: &TxHash) -> Result<Option<TxLocation>, StoreError> {
        self.get(CF_TX_INDEX, hash, "tx index read")?
            .map(|bytes| {
                keys::decode_location(&bytes).ok_or_else(|| {
                    StoreError::corrupt(
                        CF_TX_INDEX,
                        format!("location is {} bytes, expected {LOCATION_LEN}", bytes.len()),
                    )
                })
            })
            .transpose()
    }

    fn account_history(
        &self,
        address: &[u8],
        before: Option<TxLocation>,
        limit: usize,
    ) -> Result<HistoryPage, StoreError> {
        let prefix = keys::account_prefix(address)?;
        let upper = match before {
            Some(before) => Some(keys::account_history_key(address, before)?),
            None => keys::prefix_successor(&prefix),
        };
        let mut raw = self.iter(CF_ACCOUNT_HISTORY, prefix.clone(), upper);
        raw.seek_to_last();
        let limit = limit.clamp(1, MAX_PAGE_LEN);
        let mut page = HistoryPage::default();
        while let Some((key, value)) = raw.item() {
            let location = key
                .strip_prefix(prefix.as_slice())
                .and_then(keys::decode_location)
                .ok_or_else(|| {
                    StoreError::corrupt(
                        CF_ACCOUNT_HISTORY,
                        format!("key of {} bytes under an account prefix", key.len()),
                    )
                })?;
            if page.entries.len() == limit {
                page.next = page.entries.last().map(|entry| entry.location);
                break;
            }
            let tx_hash = match (location.position, value) {
                (BLOCK_EVENTS_POSITION, []) => None,
                _ => Some(keys::decode_tx_hash(CF_ACCOUNT_HISTORY, value)?),
            };
            page.entries.push(HistoryEntry { location, tx_hash });
            raw.prev();
        }
        raw.status()
            .map_err(StoreError::db("account history read"))?;
        Ok(page)
    }

    fn rounds(
        &self,
        table: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<RoundPage, StoreError> {
        let prefix = table.to_be_bytes();
        let upper = match before {
            Some(before) => Some(keys::round_key(table, before).to_vec()),
            None => keys::prefix_successor(&prefix),
        };
        let mut raw = self.iter(CF_ROUNDS, prefix.to_vec(), upper);
        raw.seek_to_last();
        let limit = limit.clamp(1, MAX_PAGE_LEN);
        let mut page = RoundPage::default();
        while let Some((key, value)) = raw.item() {
            let round = key
                .strip_prefix(prefix.as_slice())
                .ok_or_else(|| StoreError::corrupt(CF_ROUNDS, "key outside its table"))
                .and_then(|round| keys::decode_height(CF_ROUNDS, "round number", round))?;
            if page.rounds.len() == limit {
                page.next = page.rounds.last().map(|record| record.round);
                break;
            }
            page.rounds.push(RoundRecord {
                round,
                record: value.to_vec(),
            });
            raw.prev();
        }
        raw.status().map_err(StoreError::db("rounds read"))?;
        Ok(page)
    }
}

/// Write options for writes that must reach the disk before returning.
fn synced() -> WriteOptions {
    let mut options = WriteOptions::default();
    options.set_sync(true);
    options
}

/// Classifies an error from opening the database.
fn open_error(path: &Path, source: rocksdb::Error) -> StoreError {
    let path = path.to_path_buf();
    let message = source.to_string();
    match source.kind() {
        // RocksDB reports "While lock file: …/LOCK: Resource temporarily
        // unavailable" when another process holds the lock and "lock hold by
        // current process" when this one does.
        ErrorKind::IOError if message.contains("lock file") || message.contains("lock hold by") => {
            StoreError::Locked { path, source }
        }
        ErrorKind::Corruption => StoreError::CorruptDatabase { path, source },
        _ => StoreError::Open { path, source },
    }
}
