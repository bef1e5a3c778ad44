//! Typed errors of the wallet, one enum per concept.
//!
//! Every message says what was wrong and, where the caller can do something
//! about it, what to do. No message ever contains a secret: not a key, not a
//! password, not a mnemonic word.

use std::path::PathBuf;

use crate::address::Address;

/// The operating system's random number generator failed.
///
/// Keys, salts and nonces are only ever drawn from the OS generator; if it
/// fails there is no safe fallback, so the operation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the operating system's random number generator failed ({0}); no key, salt or nonce was \
     made — check that the system has a working entropy source and retry"
)]
pub struct RandomnessError(pub(crate) getrandom::Error);

/// A string or byte string is not a valid BitCraps address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The string is longer than any bech32 string may be.
    #[error(
        "address is {length} characters long, but no bech32 string is longer than {max} (a \
         BitCraps address has 44); check that only the address was copied"
    )]
    TooLong {
        /// Characters found.
        length: usize,
        /// The bech32 limit.
        max: usize,
    },
    /// Upper and lower case letters are mixed, which bech32 forbids.
    #[error("address mixes upper and lower case letters; write it all in lower case")]
    MixedCase,
    /// The string is not bech32 at all (no `1` separator, a character outside
    /// the bech32 alphabet, an empty part, …).
    #[error("not a bech32 address: {reason}; a BitCraps address looks like `craps1…`")]
    NotBech32 {
        /// What the bech32 decoder found wrong.
        reason: String,
    },
    /// The human-readable part is not `craps`.
    #[error(
        "address is for `{found}`, not BitCraps (expected the prefix `{expected}1`); check that \
         this is a BitCraps address"
    )]
    WrongHrp {
        /// The human-readable part found, in lower case.
        found: String,
        /// The expected human-readable part.
        expected: &'static str,
    },
    /// The checksum is valid bech32 (BIP-173), not bech32m (BIP-350).
    #[error(
        "address has a bech32 checksum, but BitCraps addresses use bech32m; it was not made by a \
         BitCraps wallet"
    )]
    Bech32NotBech32m,
    /// The checksum does not match: at least one character is wrong.
    #[error("address checksum does not match: a character is mistyped or missing; copy it again")]
    InvalidChecksum,
    /// The checksum is right but the payload is not 20 bytes.
    #[error("address holds {found} bits of data, a BitCraps address holds {expected} bits")]
    WrongPayloadLength {
        /// Payload bits found (5 per data character).
        found: usize,
        /// Payload bits of an address.
        expected: usize,
    },
}

/// Bytes or text that do not encode a valid public key, signature or chain id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Wrong number of bytes.
    #[error("{what} must be {expected} bytes, got {found}")]
    WrongLength {
        /// What was being decoded.
        what: &'static str,
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// Text that is not hexadecimal.
    #[error("{what} is not valid hexadecimal: {reason}")]
    InvalidHex {
        /// What was being decoded.
        what: &'static str,
        /// What the hex decoder found wrong.
        reason: String,
    },
    /// The bytes are not the encoding of a point on the curve.
    #[error("public key is not a point on ed25519; it is corrupted or not an ed25519 key")]
    NotOnCurve,
    /// The point is encoded in a non-canonical way (a field element ≥ p).
    #[error("public key is not canonically encoded; only the canonical encoding is accepted")]
    NonCanonicalPublicKey,
    /// The point has small order, so signatures by it prove nothing.
    #[error("public key is a weak (small-order) point and can never sign anything; refused")]
    WeakPublicKey,
}

/// A signature did not verify.
///
/// Deliberately carries no detail: the signature is not valid for this key,
/// signing domain, chain id and message, whatever the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid signature: it is malformed, or was not made by this key over this message with this \
     signing domain and chain id"
)]
pub struct VerifyError;

/// One or more signatures of a batch did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} of {total} signatures did not verify (at indices {failed:?})",
    failed.len()
)]
pub struct BatchVerifyError {
    /// Indices (into the slice passed in) of every signature that failed
    /// verification, in increasing order; never empty.
    pub failed: Vec<usize>,
    /// How many signatures the batch held.
    pub total: usize,
}

/// A mnemonic phrase could not be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MnemonicError {
    /// Not 24 words.
    #[error("a BitCraps backup phrase has {expected} words, this one has {found}")]
    WrongWordCount {
        /// Words found.
        found: usize,
        /// Words expected.
        expected: usize,
    },
    /// A word is not in the BIP39 English list. The word itself is not
    /// repeated, so the error can be logged without leaking the phrase.
    #[error(
        "word {position} of the backup phrase is not in the BIP39 English word list; check its \
         spelling"
    )]
    UnknownWord {
        /// 1-based position of the word.
        position: usize,
    },
    /// All words are known but the checksum does not match.
    #[error(
        "the backup phrase's checksum does not match: a word is wrong or words are out of order"
    )]
    InvalidChecksum,
    /// Any other rejection by the BIP39 decoder.
    #[error("invalid backup phrase: {reason}")]
    Invalid {
        /// The decoder's reason.
        reason: String,
    },
}

/// A keystore could not be created, read, written or decrypted.
///
/// Reading and decrypting never modify the file, whatever the error.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// An I/O operation on the file or its directory failed.
    #[error("cannot {action} keystore {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `write`, …).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The path exists but is not a regular file.
    #[error("keystore path {} is not a regular file", path.display())]
    NotAFile {
        /// The path involved.
        path: PathBuf,
    },
    /// Writing would replace an existing keystore.
    #[error(
        "keystore {} already exists and was left untouched; choose another file name, or \
         replace it explicitly",
        path.display()
    )]
    AlreadyExists {
        /// The path involved.
        path: PathBuf,
    },
    /// The file is larger than any keystore; it was not parsed.
    #[error(
        "keystore is {size} bytes, more than the {max} a keystore may have; this is not a \
         keystore file"
    )]
    TooLarge {
        /// Size found (at least; reading stops past the limit).
        size: u64,
        /// The limit.
        max: u64,
    },
    /// The file is not a well-formed keystore (not JSON, truncated, a field
    /// missing, unknown or of the wrong type or length).
    #[error(
        "keystore file is malformed ({reason}); it is truncated or corrupted — restore it from a \
         backup or from the backup phrase"
    )]
    Malformed {
        /// What is wrong, and where.
        reason: String,
    },
    /// The `version` field names a format this build cannot read.
    #[error(
        "keystore format version {found} is not supported (this build reads version {supported}); \
         use a newer bitcraps"
    )]
    UnsupportedVersion {
        /// The version found, as written in the file.
        found: String,
        /// The version this build reads.
        supported: u32,
    },
    /// The key derivation function is not `argon2id`.
    #[error("keystore key derivation function `{found}` is not supported (only `argon2id` is)")]
    UnsupportedKdf {
        /// The function named in the file.
        found: String,
    },
    /// The cipher is not `xchacha20-poly1305`.
    #[error("keystore cipher `{found}` is not supported (only `xchacha20-poly1305` is)")]
    UnsupportedCipher {
        /// The cipher named in the file.
        found: String,
    },
    /// Argon2id parameters outside the accepted bounds (too weak to be
    /// valid Argon2, or so costly that trying them would be a denial of
    /// service).
    #[error(
        "keystore key derivation parameters m = {m_cost_kib} KiB, t = {t_cost}, p = {p_cost} are \
         out of bounds (1 ≤ p ≤ {max_p}, 8·p ≤ m ≤ {max_m} KiB, 1 ≤ t ≤ {max_t}, m·t ≤ \
         {max_work}); refused without trying them"
    )]
    KdfParamsOutOfBounds {
        /// Memory cost in KiB.
        m_cost_kib: u32,
        /// Number of passes.
        t_cost: u32,
        /// Lanes.
        p_cost: u32,
        /// Largest memory cost in KiB.
        max_m: u32,
        /// Largest number of passes.
        max_t: u32,
        /// Largest number of lanes.
        max_p: u32,
        /// Largest product m·t.
        max_work: u64,
    },
    /// The authentication tag did not verify.
    #[error(
        "cannot decrypt keystore: the password is wrong, or the file was modified or corrupted"
    )]
    WrongPasswordOrCorrupted,
    /// The key decrypted fine but is not the key of the recorded address.
    #[error(
        "keystore records address {recorded} but holds the key of {actual}; the file was tampered \
         with — do not use it"
    )]
    AddressMismatch {
        /// Address written in the file.
        recorded: Address,
        /// Address of the decrypted key.
        actual: Address,
    },
    /// Argon2 itself refused to run.
    #[error("key derivation failed: {reason}")]
    Kdf {
        /// Argon2's reason.
        reason: String,
    },
    /// The OS random number generator failed.
    #[error(transparent)]
    Randomness(#[from] RandomnessError),
}
