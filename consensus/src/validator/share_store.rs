//! A validator's beacon shares on disk, one file per sharing.
//!
//! A resharing round ([`super::Resharer`]) gives each player its share of
//! the next sharing from the dealings it accepted, and those are erased
//! once the share is here: a validator that loses the share (a restart)
//! cannot derive it again and signs no beacon shares until the next round,
//! and once one validator per threshold has restarted the beacon rounds
//! void. So the application writes each new share here *before* signing
//! with it, and a restarted validator loads the share of the sharing in
//! force from here.
//!
//! The same directory holds the dealings of a round still running
//! ([`super::DealingStore`], files `dealing-…`, `dealer-…` and
//! `dealerlog-…`; see
//! [`ShareStore::dealings`]), written before they are acknowledged, so
//! that a validator restarted during a round still derives its share.
//! They are deleted once the share they gave is durable here (or the round
//! failed, or gave none), and those of earlier rounds when a round opens:
//! with them this validator's share can be derived again, so they must not
//! outlive it any more than the share files may (below).
//!
//! **Layout.** One file per sharing, named by the first epoch of that
//! sharing (`share-<epoch, 20 digits>.bin`, the `since_epoch` the ledger
//! records for it): an 8-byte magic, the epoch (u64, little endian), then
//! [`SecretShare::to_bytes`]. The directory is made with mode 0700 and the
//! files with mode 0600 (on Unix). A file is written to a temporary name,
//! fsynced, renamed over its final name and the directory fsynced: a crash
//! leaves either the whole old state or the whole new file, never a torn
//! share. Epoch 0 has no file: its share is the key file's genesis share.
//!
//! **Loading is checked.** A file is accepted only if it decodes exactly,
//! names the epoch asked for (a file renamed to another epoch is refused)
//! and its share is this validator's share of that epoch's sharing: at this
//! validator's index in the sharing's players, and its public key the
//! public polynomial at that index. Anything else is a typed
//! [`ShareStoreError`], never a panic: signing with a wrong share would
//! make invalid partials, which are evidence against this validator.
//!
//! **Old shares are erased.** Once the share of a new sharing is durable
//! (or the validator learns it is not in the new set), the files of earlier
//! sharings are deleted ([`ShareStore::prune_before`]). This is the
//! validator's part of proactive security: after a resharing, shares of
//! the old polynomial must not survive anywhere a later compromise could
//! read them. (Deleting a file does not scrub the disk blocks, and the key
//! file still holds the genesis share, which the engine's committee uses:
//! see the module documentation of [`super`].)

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::beacon::SecretShare;
use crate::beacon::dkg::{self, DkgOutput};

/// The first bytes of a share file (format version 1).
const MAGIC: &[u8; 8] = b"BCSHARE1";

/// The largest share file: magic, epoch, and the largest share encoding.
const MAX_FILE_BYTES: usize = MAGIC.len() + 8 + SecretShare::MAX_ENCODED_LENGTH;

/// Why a share could not be stored or loaded.
#[derive(Debug, thiserror::Error)]
pub enum ShareStoreError {
    /// The file system refused an operation.
    #[error("beacon share store {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A share file that is not one (wrong size, magic or encoding).
    #[error("beacon share file {path} is malformed: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A well-formed file whose share is not this validator's share of the
    /// epoch's sharing (another epoch's, another validator's, or altered).
    #[error(
        "beacon share file {path} does not hold this validator's share of epoch {epoch}: {reason}"
    )]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The sharing's first epoch.
        epoch: u64,
        /// What does not match.
        reason: String,
    },
    /// This validator is a player of the sharing in force but no share of
    /// it was persisted (it restarted between the round's completion and
    /// the write, or the file was removed): it signs no beacon shares until
    /// the next round gives it one.
    #[error("no beacon share of epoch {epoch} in {dir}: not signing beacon shares")]
    Missing {
        /// The store's directory.
        dir: PathBuf,
        /// The sharing's first epoch.
        epoch: u64,
    },
}

/// A directory of this validator's beacon shares, one file per sharing
/// (see the [module documentation](self)).
#[derive(Clone, Debug)]
pub struct ShareStore {
    dir: PathBuf,
}

impl ShareStore {
    /// The store in `dir`, created (mode 0700 on Unix) if absent.
    pub fn open(dir: impl Into<PathBuf>) -> Result<ShareStore, ShareStoreError> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|source| ShareStoreError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(ShareStore { dir })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of the sharing in force from `epoch`.
    pub fn path_of(&self, epoch: u64) -> PathBuf {
        self.dir.join(format!("share-{epoch:020}.bin"))
    }

    /// Writes `share`, the share of the sharing in force from `epoch`,
    /// durably: temporary file (mode 0600), fsync, rename, directory fsync.
    /// Replaces an existing file of the same epoch.
    pub fn save(&self, epoch: u64, share: &SecretShare) -> Result<(), ShareStoreError> {
        let path = self.path_of(epoch);
        // The buffer holds the scalar: zeroized when dropped.
        let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_FILE_BYTES));
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&epoch.to_le_bytes());
        bytes.extend_from_slice(&share.to_bytes());
        write_durably(&self.dir, &path, &bytes)
            .map_err(|(path, source)| ShareStoreError::Io { path, source })
    }

    /// The store of this validator's accepted resharing dealings, in the
    /// same directory (see [`super::DealingStore`]).
    pub fn dealings(&self) -> super::DealingStore {
        super::DealingStore::in_dir(self.dir.clone())
    }

    /// The share of the sharing in force from `epoch` (`output`), if a file
    /// holds one, checked to be `me`'s share of `output` (see the
    /// [module documentation](self)). `Ok(None)`: no file.
    pub fn load(
        &self,
        epoch: u64,
        output: &DkgOutput,
        me: &dkg::PublicKey,
    ) -> Result<Option<SecretShare>, ShareStoreError> {
        let path = self.path_of(epoch);
        let malformed = |reason: &str| ShareStoreError::Malformed {
            path: path.clone(),
            reason: reason.to_owned(),
        };
        let record = match read_record(&path, MAGIC, MAX_FILE_BYTES, "share file") {
            Ok(Some(record)) => record,
            Ok(None) => return Ok(None),
            Err(RecordError::Io(source)) => {
                return Err(ShareStoreError::Io {
                    path: path.clone(),
                    source,
                });
            }
            Err(RecordError::Malformed(reason)) => return Err(malformed(&reason)),
        };
        let (stored, encoded) = (record.number, record.body.as_slice());
        let mismatch = |reason: String| ShareStoreError::Mismatch {
            path: path.clone(),
            epoch,
            reason,
        };
        if stored != epoch {
            return Err(mismatch(format!("the file is of epoch {stored}")));
        }
        let share = SecretShare::from_bytes(encoded).map_err(|e| malformed(&e.to_string()))?;
        let Some(index) = output.index_of(me) else {
            return Err(mismatch(
                "this validator is not a player of the sharing".into(),
            ));
        };
        if share.index() != index {
            return Err(mismatch(format!(
                "the share has index {} but this validator is player {index}",
                share.index()
            )));
        }
        if !output.sharing().holds(&share) {
            return Err(mismatch(
                "its public share is not the sharing's public polynomial at its index".into(),
            ));
        }
        Ok(Some(share))
    }

    /// Deletes the files of sharings before `epoch` (and temporary files
    /// left by an interrupted [`ShareStore::save`] of those epochs), then
    /// fsyncs the directory. Files that are not this store's are left.
    pub fn prune_before(&self, epoch: u64) -> Result<(), ShareStoreError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| ShareStoreError::Io { path, source }
        };
        let mut old = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let entry = entry.map_err(io(&self.dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            let Some(stored) = name
                .strip_prefix("share-")
                .and_then(|n| {
                    n.strip_suffix(".bin")
                        .or_else(|| n.strip_suffix(".bin.tmp"))
                })
                .filter(|digits| digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|digits| digits.parse::<u64>().ok())
            else {
                continue;
            };
            if stored < epoch {
                old.push(entry.path());
            }
        }
        remove_durably(old, &self.dir)
            .map_err(|(path, source)| ShareStoreError::Io { path, source })
    }
}

// The file handling both stores of this directory share (this one and
// [`super::DealingStore`]).

/// Creates `dir` (and its parents) with mode 0700 on Unix, if absent.
pub(super) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `bytes` to `path` in `dir` durably: a temporary file next to it
/// (`<path>.tmp`, mode 0600 on Unix), fsync, rename over `path`, fsync of
/// `dir`. A crash leaves the old file or the whole new one. On failure,
/// the path that failed and why.
pub(super) fn write_durably(
    dir: &Path,
    path: &Path,
    bytes: &[u8],
) -> Result<(), (PathBuf, std::io::Error)> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    let temp = PathBuf::from(temp);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| (path, source)
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temp).map_err(io(&temp))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io(&temp))?;
    drop(file);
    fs::rename(&temp, path).map_err(io(path))?;
    sync_dir(dir).map_err(io(dir))
}

/// The bytes of `path`, at most `max + 1` of them (so a file larger than
/// `max` is seen to be, without reading it whole), in a buffer zeroized
/// when dropped. `Ok(None)`: no such file.
fn read_bounded(path: &Path, max: usize) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let mut bytes = Zeroizing::new(Vec::with_capacity(max.saturating_add(1)));
    file.take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// Why [`read_record`] found no record of the kind asked for.
pub(super) enum RecordError {
    /// The file system refused to read the file.
    Io(std::io::Error),
    /// The file is not a record of that kind (what is wrong with it).
    Malformed(String),
}

/// A file of this directory's stores: an 8-byte magic (its kind and format
/// version), a number (u64, little endian: the epoch or round it is of),
/// then its body.
pub(super) struct Record {
    /// The epoch or round the file says it is of.
    pub(super) number: u64,
    /// What follows the number (zeroized when dropped: it may be secret).
    pub(super) body: Zeroizing<Vec<u8>>,
}

/// Reads the record at `path`, which must start with `magic` and be at
/// most `max` bytes long (a larger file is refused without being read
/// whole); `what` names its kind in error messages. `Ok(None)`: no such
/// file. The caller checks the number and decodes the body.
pub(super) fn read_record(
    path: &Path,
    magic: &[u8; 8],
    max: usize,
    what: &str,
) -> Result<Option<Record>, RecordError> {
    let Some(mut body) = read_bounded(path, max).map_err(RecordError::Io)? else {
        return Ok(None);
    };
    if body.len() > max {
        return Err(RecordError::Malformed(format!("too large for a {what}")));
    }
    if !body.starts_with(magic) {
        return Err(RecordError::Malformed(format!("not a {what} (bad magic)")));
    }
    let Some(number) = body[magic.len()..].first_chunk::<8>() else {
        return Err(RecordError::Malformed("truncated".into()));
    };
    let number = u64::from_le_bytes(*number);
    // In place, so no copy of a secret body is left behind.
    body.drain(..magic.len() + 8);
    Ok(Some(Record { number, body }))
}

/// Deletes `paths` in name order (directory order is the file system's),
/// a file already gone counting as deleted, then fsyncs `dir` so the
/// deletions are durable. Nothing to delete is a no-op. On failure, the
/// path that failed (the directory for the fsync) and the error.
pub(super) fn remove_durably(
    mut paths: Vec<PathBuf>,
    dir: &Path,
) -> Result<(), (PathBuf, std::io::Error)> {
    if paths.is_empty() {
        return Ok(());
    }
    paths.sort();
    for path in paths {
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err((path, error)),
        }
    }
    sync_dir(dir).map_err(|error| (dir.to_path_buf(), error))
}

/// Makes renames and deletions in `dir` durable.
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    // Only Unix can open and fsync a directory; elsewhere the rename's
    // durability is the file system's.
    #[cfg(unix)]
    fs::File::open(dir).and_then(|dir| dir.sync_all())?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::beacon::dkg::{PrivateKey, deal};
    use commonware_cryptography::Signer as _;

    fn setup() -> (Vec<dkg::PublicKey>, crate::beacon::dkg::DkgResult) {
        let players: Vec<dkg::PublicKey> = (0..4u64)
            .map(|i| PrivateKey::from_seed(i + 1).public_key())
            .collect();
        let result = deal(&players, &[7; 32]).unwrap();
        (players, result)
    }

    #[test]
    fn a_share_round_trips_and_bad_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = ShareStore::open(dir.path().join("shares")).unwrap();
        let (players, result) = setup();
        let output = &result.output;
        let me = &players[1];
        let share = result.share_of(me).unwrap();
        assert!(store.load(3, output, me).unwrap().is_none());
        store.save(3, share).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(store.path_of(3)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = fs::metadata(store.dir()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let back = store.load(3, output, me).unwrap().unwrap();
        assert_eq!(back.index(), share.index());
        assert_eq!(back.to_bytes(), share.to_bytes());

        // Another validator's view of the same file: not its share.
        assert!(matches!(
            store.load(3, output, &players[2]),
            Err(ShareStoreError::Mismatch { .. })
        ));
        // A file renamed to another epoch.
        fs::copy(store.path_of(3), store.path_of(4)).unwrap();
        assert!(matches!(
            store.load(4, output, me),
            Err(ShareStoreError::Mismatch { .. })
        ));
        // Another sharing (a different dealing of the same players).
        let other = deal(&players, &[8; 32]).unwrap();
        assert!(matches!(
            store.load(3, &other.output, me),
            Err(ShareStoreError::Mismatch { .. })
        ));

        let good = fs::read(store.path_of(3)).unwrap();
        let mut tampered = good.clone();
        *tampered.last_mut().unwrap() ^= 1;
        let mut wrong_magic = good.clone();
        wrong_magic[0] ^= 1;
        let mut trailing = good.clone();
        trailing.push(0);
        for (name, bytes) in [
            ("tampered scalar", tampered),
            ("wrong magic", wrong_magic),
            ("trailing byte", trailing),
            ("truncated", good[..good.len() - 1].to_vec()),
            ("header only", good[..12].to_vec()),
            ("empty", Vec::new()),
            ("huge", vec![0; 4096]),
        ] {
            fs::write(store.path_of(5), &bytes).unwrap();
            let error = store.load(5, output, me).unwrap_err();
            assert!(
                matches!(
                    error,
                    ShareStoreError::Malformed { .. } | ShareStoreError::Mismatch { .. }
                ),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn pruning_deletes_only_earlier_sharings() {
        let dir = tempfile::tempdir().unwrap();
        let store = ShareStore::open(dir.path()).unwrap();
        let (players, result) = setup();
        let share = result.share_of(&players[0]).unwrap();
        for epoch in [1, 2, 3] {
            store.save(epoch, share).unwrap();
        }
        fs::write(store.path_of(1).with_extension("bin.tmp"), b"x").unwrap();
        fs::write(dir.path().join("unrelated"), b"x").unwrap();
        store.prune_before(3).unwrap();
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![
                "share-00000000000000000003.bin".to_string(),
                "unrelated".to_string()
            ]
        );
        assert!(
            store
                .load(3, &result.output, &players[0])
                .unwrap()
                .is_some()
        );
    }
}
