//! The dealings a validator accepted in a resharing round, on disk, so
//! that a restart during the round does not cost it its share.
//!
//! A player of a round ([`super::Resharer`]) derives its share of the new
//! sharing, once the ledger completes the round, from the private dealings
//! it acknowledged ([`dkg::finalize_player`]): a dealer whose log lists the
//! player's acknowledgement does not reveal that dealing, so a player that
//! lost it (a restart) cannot derive its share. So each dealing the player
//! accepts is written here *before* its acknowledgement is sent, and a
//! restarted validator rebuilds its player from the files of the round
//! (each dealing verified again against its dealer's commitment, exactly as
//! when it arrived).
//!
//! A dealer keeps its part here too (see [`super::Resharer`]): before it
//! sends its first dealing, the seed of the generator its dealing was
//! drawn from (commonware's dealer is deterministic in it, so a restarted
//! dealer re-creates the identical dealing, sends it again and collects
//! the acknowledgements again), and once it signed its log, the log
//! (before submitting it: a restarted dealer submits those exact bytes
//! again and never signs another log for the round).
//!
//! **Layout.** The directory is the [`super::ShareStore`]'s (mode 0700 on
//! Unix); names do not collide with the share files:
//!
//! - `dealing-<round, 20 digits>-<dealer's key, 64 hex digits>.bin`, one
//!   per accepted dealing: an 8-byte magic (`BCDEAL01`), the round (u64,
//!   little endian), the dealer's ed25519 key (32 bytes), the private
//!   dealing (a 32-byte scalar), then the dealer's public commitment
//!   (commonware's encoding; a file is at most [`max_dealing_file_bytes`]);
//! - `dealer-<round, 20 digits>.bin`: this validator's dealing of the
//!   round: an 8-byte magic (`BCDSEED1`), the round, the 32-byte seed of
//!   the dealing's generator (secret: with it the dealing is re-created)
//!   and the [`dkg::commitment_digest`] of the dealing it gives;
//! - `dealerlog-<round, 20 digits>.bin`: this validator's signed log of
//!   the round: an 8-byte magic (`BCDLOG01`), the round, the log as a
//!   dealer-log transaction carries it (at most
//!   [`crate::tx::MAX_DEALER_LOG_BYTES`]);
//! - `dealt-<round, 20 digits>.bin` (read, never written): the marker
//!   that versions before the dealer file wrote when they dealt in the
//!   round. With no dealer file for the round, it means this validator
//!   dealt a dealing it cannot re-create, so it stays out of the round
//!   ([`DealingStore::has_legacy_dealt`]): dealing again would give a
//!   second, different dealing, which every player that kept the first
//!   refuses.
//!
//! Files are written like share files: mode 0600, a temporary name,
//! fsync, rename, directory fsync (a crash leaves the whole file or none).
//!
//! **Loading is checked.** A file is read only up to the largest size a
//! file of its kind can have, and accepted only if it decodes exactly
//! (canonical, no trailing byte; for a dealing a non-zero scalar, for a
//! log a canonical signed log) and names the round (and dealer) its file
//! name does; anything else is a typed [`DealingStoreError`], never a
//! panic. The resharer then verifies each dealing against its commitment
//! and the round, a re-created dealing against the recorded digest, and a
//! log's signature for the round ([`DealingStoreError::Invalid`]): a
//! refused dealing is reported and the validator carries on without it; a
//! refused dealer file or log is reported and the validator does not deal
//! in the round (not dealing is always safe: the round needs only a
//! quorum of dealers).
//!
//! **Dealings are erased with their round.** A dealing (and a dealer's
//! seed, which gives all of its dealings) is secret material of the *new*
//! sharing (with a threshold of them, or of the shares they make, the key
//! can be signed with). Once the new share is durable in the
//! share store, or the round failed, or this validator has no share to
//! derive from it, the files of that round and every earlier one are
//! deleted ([`DealingStore::prune_before`]); opening a round also deletes
//! those of earlier rounds. This is the dealing side of the proactive
//! security described in [`super::ShareStore`]'s documentation.

use std::fs;
use std::path::{Path, PathBuf};

use commonware_codec::{Copying, DecodeExt as _, Encode as _, EncodeSize as _, FixedSize, Read};
use zeroize::Zeroize as _;

use super::share_store::{
    RecordError, create_private_dir, read_record, remove_durably, write_durably,
};
use crate::beacon::MAX_PARTICIPANTS;
use crate::beacon::dkg::{self, DealerPrivate, DealerPublic};

/// The first bytes of a dealing file (format version 1).
const DEALING_MAGIC: &[u8; 8] = b"BCDEAL01";

/// The first bytes of a dealer file (format version 1).
const DEALER_MAGIC: &[u8; 8] = b"BCDSEED1";

/// The first bytes of a dealer-log file (format version 1).
const LOG_MAGIC: &[u8; 8] = b"BCDLOG01";

/// The size of a dealer file: magic, round, seed, commitment digest.
const DEALER_FILE_BYTES: usize = DEALER_MAGIC.len() + 8 + 32 + 32;

/// The largest dealer-log file: magic, round, the largest log.
const MAX_LOG_FILE_BYTES: usize = LOG_MAGIC.len() + 8 + crate::tx::MAX_DEALER_LOG_BYTES;

/// The bytes of a dealing file before its commitment: magic, round,
/// dealer, private dealing.
const HEADER_BYTES: usize = DEALING_MAGIC.len() + 8 + dkg::PublicKey::SIZE + DealerPrivate::SIZE;

/// The largest dealing file: the header and the largest commitment of a
/// round of [`MAX_PARTICIPANTS`] players.
pub fn max_dealing_file_bytes() -> usize {
    HEADER_BYTES + DealerPublic::max_encode_size(dkg::max_participants())
}

/// Why persisted dealings could not be stored or loaded.
#[derive(Debug, thiserror::Error)]
pub enum DealingStoreError {
    /// The file system refused an operation.
    #[error("resharing dealing store {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file that is not what its name says (a dealing, dealer or
    /// dealer-log file: wrong size, magic or encoding).
    #[error("resharing file {path} is malformed: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A well-formed file of another round (or, for a dealing, dealer)
    /// than its name says (a renamed or misplaced file).
    #[error("resharing file {path} is not the one its name says: {reason}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// A well-formed file that does not check for this validator in its
    /// round: a dealing that does not verify (against the dealer's
    /// commitment, the round's dealers or the sharing being reshared), or
    /// a log not signed by this validator for the round: altered, or
    /// another validator's.
    #[error("resharing file {path} does not verify: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why the dealing was refused.
        reason: String,
    },
}

/// A dealing this validator accepted as a player.
#[derive(Clone)]
pub struct StoredDealing {
    /// The round.
    pub round: u64,
    /// Its dealer.
    pub dealer: dkg::PublicKey,
    /// The dealer's public commitment.
    pub public: DealerPublic,
    /// The private dealing (secret).
    pub private: DealerPrivate,
}

impl std::fmt::Debug for StoredDealing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredDealing")
            .field("round", &self.round)
            .field("dealer", &self.dealer)
            .field("private", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// What this validator recorded, as a dealer of a round, before sending
/// its first dealing: enough to re-create the identical dealing.
pub struct StoredDealer {
    /// The seed of the generator the dealing is drawn from (secret).
    pub seed: zeroize::Zeroizing<[u8; 32]>,
    /// The [`dkg::commitment_digest`] of the dealing: a re-created dealing
    /// that differs (another share, another library) must not be sent.
    pub commitment: [u8; 32],
}

impl std::fmt::Debug for StoredDealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredDealer")
            .field("seed", &"<redacted>")
            .field("commitment", &hex::encode(self.commitment))
            .finish()
    }
}

/// The dealings of one round found on disk.
#[derive(Debug, Default)]
pub struct LoadedDealings {
    /// The files that decoded (in file name order, i.e. by dealer key).
    pub dealings: Vec<StoredDealing>,
    /// The files refused, and why.
    pub refused: Vec<DealingStoreError>,
}

/// A directory of this validator's accepted resharing dealings (see the
/// [module documentation](self)); the share store's directory in a node.
#[derive(Clone, Debug)]
pub struct DealingStore {
    dir: PathBuf,
}

/// What a file name of this store says.
enum Name {
    Dealing { round: u64, dealer: String },
    Dealer { round: u64 },
    Log { round: u64 },
    LegacyDealt { round: u64 },
}

impl Name {
    /// The round the file is of.
    fn round(&self) -> u64 {
        match self {
            Name::Dealing { round, .. }
            | Name::Dealer { round }
            | Name::Log { round }
            | Name::LegacyDealt { round } => *round,
        }
    }
}

/// A 20-digit round number.
fn round_digits(digits: &str) -> Option<u64> {
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Parses a file name of this store (final or temporary).
fn parse_name(name: &str) -> Option<Name> {
    let stem = name
        .strip_suffix(".bin")
        .or_else(|| name.strip_suffix(".bin.tmp"))?;
    if let Some(rest) = stem.strip_prefix("dealing-") {
        let (round, dealer) = rest.split_once('-')?;
        let valid = dealer.len() == 2 * dkg::PublicKey::SIZE
            && dealer
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !valid {
            return None;
        }
        return Some(Name::Dealing {
            round: round_digits(round)?,
            dealer: dealer.to_owned(),
        });
    }
    if let Some(rest) = stem.strip_prefix("dealt-") {
        return Some(Name::LegacyDealt {
            round: round_digits(rest)?,
        });
    }
    if let Some(rest) = stem.strip_prefix("dealerlog-") {
        return Some(Name::Log {
            round: round_digits(rest)?,
        });
    }
    let round = round_digits(stem.strip_prefix("dealer-")?)?;
    Some(Name::Dealer { round })
}

impl DealingStore {
    /// The store in `dir`, created (mode 0700 on Unix) if absent.
    pub fn open(dir: impl Into<PathBuf>) -> Result<DealingStore, DealingStoreError> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|source| DealingStoreError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(DealingStore { dir })
    }

    /// The store in `dir`, which exists (a share store's).
    pub(super) fn in_dir(dir: PathBuf) -> DealingStore {
        DealingStore { dir }
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `dealer`'s dealing of `round`.
    pub fn path_of(&self, round: u64, dealer: &dkg::PublicKey) -> PathBuf {
        self.dir.join(format!(
            "dealing-{round:020}-{}.bin",
            hex::encode(dealer.as_ref())
        ))
    }

    /// The file of this validator's dealing of `round` (its seed).
    pub fn dealer_path(&self, round: u64) -> PathBuf {
        self.dir.join(format!("dealer-{round:020}.bin"))
    }

    /// The marker older versions wrote when this validator dealt in
    /// `round` (see [`DealingStore::has_legacy_dealt`]).
    pub fn legacy_dealt_path(&self, round: u64) -> PathBuf {
        self.dir.join(format!("dealt-{round:020}.bin"))
    }

    /// Whether a version before the dealer file recorded that this
    /// validator dealt in `round` (a `dealt-<round>` marker, whatever its
    /// contents: not dealing is always safe). Such a dealing cannot be
    /// re-created (its seed was never kept), so the caller must not deal
    /// in the round unless [`DealingStore::load_dealer`] has its seed.
    pub fn has_legacy_dealt(&self, round: u64) -> Result<bool, DealingStoreError> {
        let path = self.legacy_dealt_path(round);
        match fs::symlink_metadata(&path) {
            Ok(_) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(DealingStoreError::Io { path, source }),
        }
    }

    /// The file of this validator's signed log of `round`.
    pub fn log_path(&self, round: u64) -> PathBuf {
        self.dir.join(format!("dealerlog-{round:020}.bin"))
    }

    /// Writes `dealer`'s dealing of `round` durably (see the
    /// [module documentation](self)); replaces an existing file of the
    /// same round and dealer.
    pub fn save(
        &self,
        round: u64,
        dealer: &dkg::PublicKey,
        public: &DealerPublic,
        private: &DealerPrivate,
    ) -> Result<(), DealingStoreError> {
        let path = self.path_of(round, dealer);
        // Sized exactly, so that no reallocation leaves a copy of the
        // scalar behind; zeroized when dropped.
        let mut bytes =
            zeroize::Zeroizing::new(Vec::with_capacity(HEADER_BYTES + public.encode_size()));
        bytes.extend_from_slice(DEALING_MAGIC);
        bytes.extend_from_slice(&round.to_le_bytes());
        bytes.extend_from_slice(dealer.as_ref());
        let mut scalar = private.encode_mut();
        bytes.extend_from_slice(&scalar);
        scalar.zeroize();
        bytes.extend_from_slice(&public.encode());
        write_durably(&self.dir, &path, &bytes)
            .map_err(|(path, source)| DealingStoreError::Io { path, source })
    }

    /// `dealer`'s dealing of `round`, if a file holds one, decoded and
    /// checked to be of that round and dealer (not verified: see
    /// [`DealingStoreError::Invalid`]). `Ok(None)`: no file.
    pub fn load(
        &self,
        round: u64,
        dealer: &dkg::PublicKey,
    ) -> Result<Option<StoredDealing>, DealingStoreError> {
        self.read(&self.path_of(round, dealer), round, Some(dealer))
    }

    /// Every dealing file of `round` (at most one per dealer of a round of
    /// [`MAX_PARTICIPANTS`]; files past that many are refused unread).
    pub fn load_round(&self, round: u64) -> Result<LoadedDealings, DealingStoreError> {
        let mut paths = Vec::new();
        for (path, name) in self.entries()? {
            if let Name::Dealing { round: r, .. } = name
                && r == round
                && path.extension().is_some_and(|e| e == "bin")
            {
                paths.push(path);
            }
        }
        // Directory order is the file system's: load in name order.
        paths.sort();
        let mut loaded = LoadedDealings::default();
        for (k, path) in paths.into_iter().enumerate() {
            if k >= MAX_PARTICIPANTS as usize {
                loaded.refused.push(DealingStoreError::Mismatch {
                    path,
                    reason: format!(
                        "more dealing files than a round has dealers ({MAX_PARTICIPANTS})"
                    ),
                });
                continue;
            }
            match self.read(&path, round, None) {
                Ok(Some(dealing)) => loaded.dealings.push(dealing),
                // Removed meanwhile.
                Ok(None) => {}
                Err(error) => loaded.refused.push(error),
            }
        }
        Ok(loaded)
    }

    /// Records durably, before this validator sends its first dealing of
    /// `round`, the `seed` that dealing is drawn from and the
    /// [`dkg::commitment_digest`] of its commitment.
    pub fn save_dealer(
        &self,
        round: u64,
        seed: &[u8; 32],
        commitment: &[u8; 32],
    ) -> Result<(), DealingStoreError> {
        let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(DEALER_FILE_BYTES));
        bytes.extend_from_slice(DEALER_MAGIC);
        bytes.extend_from_slice(&round.to_le_bytes());
        bytes.extend_from_slice(seed);
        bytes.extend_from_slice(commitment);
        write_durably(&self.dir, &self.dealer_path(round), &bytes)
            .map_err(|(path, source)| DealingStoreError::Io { path, source })
    }

    /// What [`DealingStore::save_dealer`] recorded for `round`, if a file
    /// holds it. `Ok(None)`: no file (this validator did not deal).
    pub fn load_dealer(&self, round: u64) -> Result<Option<StoredDealer>, DealingStoreError> {
        let path = self.dealer_path(round);
        let Some(body) =
            self.read_round(&path, DEALER_MAGIC, DEALER_FILE_BYTES, round, "dealer file")?
        else {
            return Ok(None);
        };
        let Some((seed, commitment)) = body
            .split_first_chunk::<32>()
            .and_then(|(seed, rest)| Some((seed, <[u8; 32]>::try_from(rest).ok()?)))
        else {
            return Err(DealingStoreError::Malformed {
                path,
                reason: format!(
                    "{} bytes where a dealer file has {DEALER_FILE_BYTES}",
                    body.len() + DEALER_MAGIC.len() + 8
                ),
            });
        };
        Ok(Some(StoredDealer {
            seed: zeroize::Zeroizing::new(*seed),
            commitment,
        }))
    }

    /// Records durably this validator's signed `log` of `round` (encoded as
    /// a dealer-log transaction carries it), before it is submitted.
    pub fn save_log(&self, round: u64, log: &[u8]) -> Result<(), DealingStoreError> {
        let mut bytes = Vec::with_capacity(LOG_MAGIC.len() + 8 + log.len());
        bytes.extend_from_slice(LOG_MAGIC);
        bytes.extend_from_slice(&round.to_le_bytes());
        bytes.extend_from_slice(log);
        write_durably(&self.dir, &self.log_path(round), &bytes)
            .map_err(|(path, source)| DealingStoreError::Io { path, source })
    }

    /// The signed log [`DealingStore::save_log`] recorded for `round`, if a
    /// file holds one: its exact bytes, checked to decode canonically as a
    /// signed log (its signature is the caller's to check). `Ok(None)`: no
    /// file.
    pub fn load_log(&self, round: u64) -> Result<Option<Vec<u8>>, DealingStoreError> {
        let path = self.log_path(round);
        let Some(body) = self.read_round(
            &path,
            LOG_MAGIC,
            MAX_LOG_FILE_BYTES,
            round,
            "dealer-log file",
        )?
        else {
            return Ok(None);
        };
        dkg::decode_log(&body).map_err(|e| DealingStoreError::Malformed {
            path,
            reason: format!("the log: {e}"),
        })?;
        Ok(Some(body.to_vec()))
    }

    /// Deletes the files of rounds before `round` (dealings, dealer seeds and
    /// logs, older versions' dealt markers, and temporary files left by an
    /// interrupted write), then fsyncs the
    /// directory. Files that are not this store's are left.
    pub fn prune_before(&self, round: u64) -> Result<(), DealingStoreError> {
        let old: Vec<PathBuf> = self
            .entries()?
            .into_iter()
            .filter(|(_, name)| name.round() < round)
            .map(|(path, _)| path)
            .collect();
        remove_durably(old, &self.dir)
            .map_err(|(path, source)| DealingStoreError::Io { path, source })
    }

    /// The files of this store in its directory, with what their names say.
    fn entries(&self) -> Result<Vec<(PathBuf, Name)>, DealingStoreError> {
        let io = |source| DealingStoreError::Io {
            path: self.dir.clone(),
            source,
        };
        let mut entries = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name();
            if let Some(parsed) = name.to_str().and_then(parse_name) {
                entries.push((entry.path(), parsed));
            }
        }
        Ok(entries)
    }

    /// The body of the file `path` of this store (`what`: its kind), which
    /// starts with `magic`, is at most `max` bytes long and must be of
    /// `round`. `Ok(None)`: no such file.
    fn read_round(
        &self,
        path: &Path,
        magic: &[u8; 8],
        max: usize,
        round: u64,
        what: &str,
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, DealingStoreError> {
        let record = match read_record(path, magic, max, what) {
            Ok(Some(record)) => record,
            Ok(None) => return Ok(None),
            Err(RecordError::Io(source)) => {
                return Err(DealingStoreError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
            Err(RecordError::Malformed(reason)) => {
                return Err(DealingStoreError::Malformed {
                    path: path.to_owned(),
                    reason,
                });
            }
        };
        if record.number != round {
            return Err(DealingStoreError::Mismatch {
                path: path.to_owned(),
                reason: format!("the file is of round {}", record.number),
            });
        }
        Ok(Some(record.body))
    }

    /// Reads and decodes the dealing file `path`, which must be of `round`
    /// (and of `dealer`, if given; else of the dealer its name gives).
    fn read(
        &self,
        path: &Path,
        round: u64,
        dealer: Option<&dkg::PublicKey>,
    ) -> Result<Option<StoredDealing>, DealingStoreError> {
        let malformed = |reason: &str| DealingStoreError::Malformed {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let mismatch = |reason: String| DealingStoreError::Mismatch {
            path: path.to_owned(),
            reason,
        };
        let Some(rest) = self.read_round(
            path,
            DEALING_MAGIC,
            max_dealing_file_bytes(),
            round,
            "dealing file",
        )?
        else {
            return Ok(None);
        };
        let Some((stored_dealer, rest)) = rest.split_first_chunk::<{ dkg::PublicKey::SIZE }>()
        else {
            return Err(malformed("truncated"));
        };
        let Some((scalar, commitment)) = rest.split_first_chunk::<{ DealerPrivate::SIZE }>() else {
            return Err(malformed("truncated"));
        };
        let named = match dealer {
            Some(dealer) => hex::encode(dealer.as_ref()),
            None => path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(parse_name)
                .and_then(|name| match name {
                    Name::Dealing { dealer, .. } => Some(dealer),
                    Name::Dealer { .. } | Name::Log { .. } | Name::LegacyDealt { .. } => None,
                })
                .ok_or_else(|| mismatch("not named as a dealing file".into()))?,
        };
        if hex::encode(stored_dealer) != named {
            return Err(mismatch("the file holds another dealer's dealing".into()));
        }
        let dealer = dkg::PublicKey::decode(Copying(stored_dealer.as_slice()))
            .map_err(|e| malformed(&format!("the dealer's key: {e}")))?;
        let mut reader = Copying(commitment);
        let public = DealerPublic::read_cfg(&mut reader, &dkg::max_participants())
            .map_err(|e| malformed(&format!("the commitment: {e}")))?;
        if !reader.0.is_empty() {
            return Err(malformed("trailing bytes"));
        }
        if public.encode().as_ref() != commitment {
            return Err(malformed("the commitment is not canonically encoded"));
        }
        let private = DealerPrivate::read_cfg(&mut Copying(scalar.as_slice()), &())
            .map_err(|e| malformed(&format!("the private dealing: {e}")))?;
        Ok(Some(StoredDealing {
            round,
            dealer,
            public,
            private,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::beacon::dkg::{DkgResult, PrivateKey, RoundInfo, deal};
    use commonware_cryptography::Signer as _;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng as _;

    /// A resharing round 3 among 4 validators (dealers and players): its
    /// description, the identities, and dealer 0's dealing to player 1.
    struct Round {
        info: RoundInfo,
        keys: Vec<PrivateKey>,
        public: DealerPublic,
        /// Player `i`'s private dealing from dealer 0.
        private: Vec<DealerPrivate>,
        /// Dealer 0's signed log (no acknowledgements: all revealed).
        log: Vec<u8>,
    }

    fn round() -> Round {
        let keys: Vec<PrivateKey> = (0..4u64).map(|i| PrivateKey::from_seed(i + 1)).collect();
        let players: Vec<dkg::PublicKey> = keys.iter().map(|k| k.public_key()).collect();
        let DkgResult { output, shares } = deal(&players, &[7; 32]).unwrap();
        let info = dkg::round_info(3, Some(&output), &players, &players).unwrap();
        let share = shares.iter().find(|(p, _)| *p == players[0]).unwrap();
        let (dealer, public, private) = dkg::start_dealer(
            &mut ChaCha20Rng::seed_from_u64(1),
            &info,
            keys[0].clone(),
            &share.1,
        )
        .unwrap();
        let private = players
            .iter()
            .map(|p| private.iter().find(|(q, _)| q == p).unwrap().1.clone())
            .collect();
        Round {
            info,
            keys,
            public,
            private,
            log: dkg::finalize_dealer(dealer),
        }
    }

    /// Whether `dealing` verifies for player `i` of `round`.
    fn verifies(round: &Round, i: usize, dealing: StoredDealing) -> bool {
        let mut player = dkg::new_player(&round.info, round.keys[i].clone()).unwrap();
        matches!(
            dkg::receive_dealing(&mut player, dealing.dealer, dealing.public, dealing.private),
            Ok(Some(_))
        )
    }

    #[test]
    fn a_dealing_round_trips_and_verifies_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = DealingStore::open(dir.path().join("beacon-shares")).unwrap();
        let r = round();
        let dealer = r.keys[0].public_key();
        assert!(store.load(3, &dealer).unwrap().is_none());
        assert!(store.load_round(3).unwrap().dealings.is_empty());
        store.save(3, &dealer, &r.public, &r.private[1]).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(store.path_of(3, &dealer))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = fs::metadata(store.dir()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let back = store.load(3, &dealer).unwrap().unwrap();
        assert_eq!(back.round, 3);
        assert_eq!(back.dealer, dealer);
        assert_eq!(back.public, r.public);
        assert_eq!(back.private, r.private[1]);
        assert!(!format!("{back:?}").contains(&format!("{:?}", r.private[1])));
        let loaded = store.load_round(3).unwrap();
        assert_eq!(loaded.dealings.len(), 1);
        assert!(loaded.refused.is_empty());
        assert!(verifies(&r, 1, back));
        // Player 2 holding player 1's file: it does not verify.
        assert!(!verifies(&r, 2, loaded.dealings[0].clone()));
        assert!(store.load_round(4).unwrap().dealings.is_empty());
    }

    #[test]
    fn bad_dealing_files_are_refused_with_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let store = DealingStore::open(dir.path()).unwrap();
        let r = round();
        let dealer = r.keys[0].public_key();
        let other = r.keys[1].public_key();
        store.save(3, &dealer, &r.public, &r.private[1]).unwrap();
        let good = fs::read(store.path_of(3, &dealer)).unwrap();

        // A file copied to another round's name, or another dealer's.
        fs::write(store.path_of(4, &dealer), &good).unwrap();
        assert!(matches!(
            store.load(4, &dealer),
            Err(DealingStoreError::Mismatch { .. })
        ));
        fs::write(store.path_of(3, &other), &good).unwrap();
        assert!(matches!(
            store.load(3, &other),
            Err(DealingStoreError::Mismatch { .. })
        ));
        // Found by listing the round too: the good one loads, the
        // misnamed one is refused.
        let loaded = store.load_round(3).unwrap();
        assert_eq!(loaded.dealings.len(), 1);
        assert_eq!(loaded.dealings[0].dealer, dealer);
        assert!(matches!(
            loaded.refused.as_slice(),
            [DealingStoreError::Mismatch { .. }]
        ));
        fs::remove_file(store.path_of(3, &other)).unwrap();

        let scalar_at = HEADER_BYTES - DealerPrivate::SIZE;
        let mut wrong_magic = good.clone();
        wrong_magic[0] ^= 1;
        let mut trailing = good.clone();
        trailing.push(0);
        let mut zero_scalar = good.clone();
        zero_scalar[scalar_at..HEADER_BYTES].fill(0);
        let mut big_scalar = good.clone();
        big_scalar[scalar_at..HEADER_BYTES].fill(0xff);
        let mut bad_point = good.clone();
        bad_point[HEADER_BYTES + 2] ^= 0x55;
        let mut long_count = good.clone();
        long_count[HEADER_BYTES] = 0xff;
        let mut oversized = good.clone();
        oversized.resize(max_dealing_file_bytes() + 1, 0);
        for (name, bytes) in [
            ("wrong magic", wrong_magic),
            ("trailing byte", trailing),
            ("zero scalar", zero_scalar),
            ("scalar out of range", big_scalar),
            ("bad commitment point", bad_point),
            ("commitment length", long_count),
            ("oversized", oversized),
            ("huge", vec![0xab; 1 << 20]),
            ("truncated commitment", good[..good.len() - 1].to_vec()),
            ("no commitment", good[..HEADER_BYTES].to_vec()),
            ("truncated scalar", good[..HEADER_BYTES - 1].to_vec()),
            ("header only", good[..16].to_vec()),
            ("empty", Vec::new()),
        ] {
            fs::write(store.path_of(3, &dealer), &bytes).unwrap();
            let error = store.load(3, &dealer).unwrap_err();
            assert!(
                matches!(error, DealingStoreError::Malformed { .. }),
                "{name}: {error}"
            );
            let loaded = store.load_round(3).unwrap();
            assert!(loaded.dealings.is_empty(), "{name}");
            assert_eq!(loaded.refused.len(), 1, "{name}");
        }
        // A file with a wrong round but otherwise corrupt is still refused.
        let mut wrong_round = good.clone();
        wrong_round[8] ^= 1;
        fs::write(store.path_of(3, &dealer), &wrong_round).unwrap();
        assert!(matches!(
            store.load(3, &dealer),
            Err(DealingStoreError::Mismatch { .. })
        ));
        // An altered scalar that still decodes: loaded, but it no longer
        // verifies against the commitment (the resharer refuses it).
        let mut tampered = good.clone();
        tampered[HEADER_BYTES - 1] ^= 1;
        fs::write(store.path_of(3, &dealer), &tampered).unwrap();
        let back = store.load(3, &dealer).unwrap().unwrap();
        assert!(!verifies(&r, 1, back));
    }

    #[test]
    fn a_dealer_file_round_trips_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = DealingStore::open(dir.path()).unwrap();
        let seed = [0x5a; 32];
        let digest = dkg::commitment_digest(&round().public);
        assert!(store.load_dealer(2).unwrap().is_none());
        store.save_dealer(2, &seed, &digest).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(store.dealer_path(2))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = store.load_dealer(2).unwrap().unwrap();
        assert_eq!(*back.seed, seed);
        assert_eq!(back.commitment, digest);
        assert!(!format!("{back:?}").contains(&hex::encode(seed)));
        assert!(store.load_dealer(3).unwrap().is_none());

        let good = fs::read(store.dealer_path(2)).unwrap();
        assert_eq!(good.len(), DEALER_FILE_BYTES);
        // Another round's file under this round's name.
        fs::copy(store.dealer_path(2), store.dealer_path(3)).unwrap();
        assert!(matches!(
            store.load_dealer(3),
            Err(DealingStoreError::Mismatch { .. })
        ));
        let mut wrong_magic = good.clone();
        wrong_magic[7] ^= 1;
        let mut trailing = good.clone();
        trailing.push(0);
        let dealing = valid_file().to_vec();
        for (name, bytes) in [
            ("wrong magic", wrong_magic),
            ("trailing byte", trailing),
            ("truncated", good[..good.len() - 1].to_vec()),
            ("no digest", good[..good.len() - 32].to_vec()),
            ("header only", good[..16].to_vec()),
            ("half a header", good[..12].to_vec()),
            ("empty", Vec::new()),
            ("a dealing file", dealing),
            ("huge", vec![0xab; 1 << 20]),
        ] {
            fs::write(store.dealer_path(2), &bytes).unwrap();
            let error = store.load_dealer(2).unwrap_err();
            assert!(
                matches!(error, DealingStoreError::Malformed { .. }),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn a_log_file_keeps_the_exact_bytes_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = DealingStore::open(dir.path()).unwrap();
        let r = round();
        assert!(store.load_log(3).unwrap().is_none());
        store.save_log(3, &r.log).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(store.log_path(3))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(store.load_log(3).unwrap().unwrap(), r.log);
        // It is dealer 0's log of the round (the resharer checks that).
        let signed = dkg::decode_log(&r.log).unwrap();
        assert!(dkg::check_log(&r.info, signed, &r.keys[0].public_key()).is_ok());

        let good = fs::read(store.log_path(3)).unwrap();
        fs::copy(store.log_path(3), store.log_path(4)).unwrap();
        assert!(matches!(
            store.load_log(4),
            Err(DealingStoreError::Mismatch { .. })
        ));
        let mut wrong_magic = good.clone();
        wrong_magic[0] ^= 1;
        let mut trailing = good.clone();
        trailing.push(0);
        let mut garbage = good[..16].to_vec();
        garbage.resize(good.len(), 0xff);
        for (name, bytes) in [
            ("wrong magic", wrong_magic),
            ("trailing byte", trailing),
            ("not a log", garbage),
            ("truncated", good[..good.len() - 1].to_vec()),
            ("no log", good[..16].to_vec()),
            ("empty", Vec::new()),
            ("oversized", vec![0; MAX_LOG_FILE_BYTES + 1]),
        ] {
            fs::write(store.log_path(3), &bytes).unwrap();
            let error = store.load_log(3).unwrap_err();
            assert!(
                matches!(error, DealingStoreError::Malformed { .. }),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn pruning_deletes_every_file_of_earlier_rounds() {
        let dir = tempfile::tempdir().unwrap();
        let store = DealingStore::open(dir.path()).unwrap();
        let r = round();
        let dealer = r.keys[0].public_key();
        for round in [2, 3] {
            store.save_dealer(round, &[1; 32], &[2; 32]).unwrap();
            store.save_log(round, &r.log).unwrap();
            fs::write(store.legacy_dealt_path(round), b"BCDEALT1").unwrap();
        }
        for round in [1, 2, 3] {
            store
                .save(round, &dealer, &r.public, &r.private[1])
                .unwrap();
        }
        let share_store = super::super::ShareStore::open(dir.path()).unwrap();
        assert_eq!(share_store.dir(), store.dir());
        let mut temp = store.path_of(2, &dealer).into_os_string();
        temp.push(".tmp");
        fs::write(&temp, b"x").unwrap();
        fs::write(dir.path().join("share-00000000000000000001.bin"), b"x").unwrap();
        fs::write(dir.path().join("dealing-2-unrelated.bin"), b"x").unwrap();
        fs::write(dir.path().join("unrelated"), b"x").unwrap();
        store.prune_before(3).unwrap();
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let hex = hex::encode(dealer.as_ref());
        assert_eq!(
            left,
            vec![
                "dealer-00000000000000000003.bin".to_string(),
                "dealerlog-00000000000000000003.bin".to_string(),
                format!("dealing-00000000000000000003-{hex}.bin"),
                "dealing-2-unrelated.bin".to_string(),
                "dealt-00000000000000000003.bin".to_string(),
                "share-00000000000000000001.bin".to_string(),
                "unrelated".to_string(),
            ]
        );
        assert!(store.load(3, &dealer).unwrap().is_some());
        assert!(store.load_dealer(3).unwrap().is_some());
        assert_eq!(store.load_log(3).unwrap().unwrap(), r.log);
    }

    /// An older version's dealt marker counts whatever it holds, and only
    /// for its own round.
    #[test]
    fn a_legacy_dealt_marker_says_the_round_was_dealt() {
        let dir = tempfile::tempdir().unwrap();
        let store = DealingStore::open(dir.path()).unwrap();
        assert!(!store.has_legacy_dealt(2).unwrap());
        let mut marker = b"BCDEALT1".to_vec();
        marker.extend_from_slice(&2u64.to_le_bytes());
        fs::write(store.legacy_dealt_path(2), &marker).unwrap();
        assert!(store.has_legacy_dealt(2).unwrap());
        assert!(!store.has_legacy_dealt(3).unwrap());
        // Truncated, or another round's: still "dealt" (not dealing is
        // always safe).
        fs::write(store.legacy_dealt_path(3), b"BC").unwrap();
        assert!(store.has_legacy_dealt(3).unwrap());
        assert_eq!(
            store.legacy_dealt_path(2).file_name().unwrap(),
            "dealt-00000000000000000002.bin"
        );
    }

    /// One valid dealing file's bytes (round 3, dealer 0, player 1).
    fn valid_file() -> &'static [u8] {
        static FILE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        FILE.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let store = DealingStore::open(dir.path()).unwrap();
            let r = round();
            let dealer = r.keys[0].public_key();
            store.save(3, &dealer, &r.public, &r.private[1]).unwrap();
            fs::read(store.path_of(3, &dealer)).unwrap()
        })
    }

    /// Loads `bytes` as round 3's dealing of dealer 0: never a panic, and
    /// a file that loads is the canonical encoding of what it loaded.
    fn load_bytes(bytes: &[u8]) {
        let dir = tempfile::tempdir().unwrap();
        let store = DealingStore::open(dir.path()).unwrap();
        let dealer = PrivateKey::from_seed(1).public_key();
        fs::write(store.path_of(3, &dealer), bytes).unwrap();
        let loaded = store.load_round(3).unwrap();
        assert_eq!(loaded.dealings.len() + loaded.refused.len(), 1);
        if let Ok(Some(dealing)) = store.load(3, &dealer) {
            let again = DealingStore::open(dir.path().join("again")).unwrap();
            again
                .save(3, &dealing.dealer, &dealing.public, &dealing.private)
                .unwrap();
            assert_eq!(fs::read(again.path_of(3, &dealer)).unwrap(), bytes);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2048)) {
            load_bytes(&data);
        }

        #[test]
        fn random_headers_never_panic(tail in prop::collection::vec(any::<u8>(), 0..2048)) {
            // A valid header (magic, round, dealer), then anything.
            let mut data = valid_file()[..HEADER_BYTES - DealerPrivate::SIZE].to_vec();
            data.extend_from_slice(&tail);
            load_bytes(&data);
        }

        #[test]
        fn random_dealer_and_log_files_never_panic(
            data in prop::collection::vec(any::<u8>(), 0..2048),
            header in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let store = DealingStore::open(dir.path()).unwrap();
            for (magic, path) in [(DEALER_MAGIC, store.dealer_path(3)), (LOG_MAGIC, store.log_path(3))] {
                // Half the time past the magic and the round.
                let mut bytes = Vec::new();
                if header {
                    bytes.extend_from_slice(magic);
                    bytes.extend_from_slice(&3u64.to_le_bytes());
                }
                bytes.extend_from_slice(&data);
                fs::write(&path, &bytes).unwrap();
            }
            if let Ok(Some(stored)) = store.load_dealer(3) {
                prop_assert_eq!(data.len(), 64);
                prop_assert_eq!(&stored.seed[..], &data[..32]);
            }
            if let Ok(Some(log)) = store.load_log(3) {
                prop_assert_eq!(log, data);
            }
        }

        #[test]
        fn mutated_files_never_panic(
            at in any::<prop::sample::Index>(),
            value in any::<u8>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut data = valid_file().to_vec();
            let i = at.index(data.len());
            data[i] = value;
            load_bytes(&data);
            data.truncate(cut.index(data.len()));
            load_bytes(&data);
        }
    }
}
