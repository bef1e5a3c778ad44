//! Encrypted keystore files, in the spirit of Ethereum's keystore v3.
//!
//! # Format (version 1)
//!
//! One line of compact JSON (no white space, no trailing newline), fields in
//! this order:
//!
//! ```json
//! {"version":1,
//!  "address":"craps1…",
//!  "crypto":{"kdf":"argon2id",
//!            "kdfparams":{"m_cost_kib":65536,"t_cost":3,"p_cost":1,"salt":"<32 bytes, hex>"},
//!            "cipher":"xchacha20-poly1305",
//!            "cipherparams":{"nonce":"<24 bytes, hex>"},
//!            "ciphertext":"<48 bytes, hex>"}}
//! ```
//!
//! - `address`: the key's [`Address`] in clear, so keystores can be listed
//!   without a password; checked against the decrypted key.
//! - `kdf`: Argon2id, version 0x13, 32-byte output, with memory `m_cost_kib`
//!   KiB, `t_cost` passes and `p_cost` lanes; default m = 64 MiB, t = 3,
//!   p = 1 ([`KdfParams::default`]). Parameters read from a file must lie
//!   within [`KdfParams::new`]'s bounds, so a hostile file cannot make us
//!   allocate gigabytes or spin for minutes.
//! - `cipher`: XChaCha20-Poly1305 keyed by the Argon2id output, with a random
//!   24-byte nonce. `ciphertext` is the encrypted 32-byte ed25519 secret
//!   followed by the 16-byte Poly1305 tag, which is the MAC: the associated
//!   data is `"bitcraps/v1/keystore" ‖ 0x00 ‖ u32 LE version ‖ address (20
//!   bytes)`, so the tag also authenticates the version and the address.
//! - Hex is lower case. Every byte of a file we write is significant: any
//!   single-byte change is refused (with a typed error, never a panic).
//!
//! Files are at most [`MAX_KEYSTORE_SIZE`] bytes; a larger file is refused
//! before it is parsed. They are written atomically with mode 0600: a
//! temporary file in the same directory, created 0600, written, fsynced,
//! renamed over the target, then the directory is fsynced. Reading or
//! failing to decrypt never modifies a file.

use std::fmt;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::{AeadInOut, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::address::Address;
use crate::error::KeystoreError;
use crate::keys::{Keypair, fill_random};

/// The keystore format version this build writes and reads.
pub const KEYSTORE_VERSION: u32 = 1;

/// The largest keystore file accepted; larger files are refused before
/// parsing. (A keystore is about 330 bytes.)
pub const MAX_KEYSTORE_SIZE: u64 = 64 * 1024;

const KDF_NAME: &str = "argon2id";
const CIPHER_NAME: &str = "xchacha20-poly1305";
const AAD_DOMAIN: &[u8] = b"bitcraps/v1/keystore\0";
const SALT_LENGTH: usize = 32;
const NONCE_LENGTH: usize = 24;
const SECRET_LENGTH: usize = Keypair::SECRET_LENGTH;
const TAG_LENGTH: usize = 16;
const CIPHERTEXT_LENGTH: usize = SECRET_LENGTH + TAG_LENGTH;

/// Argon2id cost parameters.
///
/// [`KdfParams::default`] gives the strong parameters every real keystore
/// should use; [`KdfParams::insecure_for_tests`] gives cheap ones for tests
/// and throw-away testnet keys only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
}

impl KdfParams {
    /// Default memory cost: 64 MiB.
    pub const DEFAULT_M_COST_KIB: u32 = 64 * 1024;
    /// Default number of passes.
    pub const DEFAULT_T_COST: u32 = 3;
    /// Default number of lanes.
    pub const DEFAULT_P_COST: u32 = 1;
    /// Largest memory cost accepted: 256 MiB.
    pub const MAX_M_COST_KIB: u32 = 256 * 1024;
    /// Largest number of passes accepted.
    pub const MAX_T_COST: u32 = 16;
    /// Largest number of lanes accepted.
    pub const MAX_P_COST: u32 = 16;
    /// Largest total work m·t accepted (KiB × passes): 1 GiB of memory
    /// traffic, about five times the default.
    pub const MAX_WORK: u64 = 1024 * 1024;

    /// The strong default: m = 64 MiB, t = 3, p = 1.
    pub const STRONG: KdfParams = KdfParams {
        m_cost_kib: KdfParams::DEFAULT_M_COST_KIB,
        t_cost: KdfParams::DEFAULT_T_COST,
        p_cost: KdfParams::DEFAULT_P_COST,
    };

    /// Parameters within the accepted bounds: 1 ≤ p ≤ [`Self::MAX_P_COST`],
    /// 8·p ≤ m ≤ [`Self::MAX_M_COST_KIB`], 1 ≤ t ≤ [`Self::MAX_T_COST`] and
    /// m·t ≤ [`Self::MAX_WORK`].
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<KdfParams, KeystoreError> {
        let in_bounds = (1..=KdfParams::MAX_P_COST).contains(&p_cost)
            && (8 * p_cost..=KdfParams::MAX_M_COST_KIB).contains(&m_cost_kib)
            && (1..=KdfParams::MAX_T_COST).contains(&t_cost)
            && u64::from(m_cost_kib) * u64::from(t_cost) <= KdfParams::MAX_WORK;
        if in_bounds {
            Ok(KdfParams {
                m_cost_kib,
                t_cost,
                p_cost,
            })
        } else {
            Err(KeystoreError::KdfParamsOutOfBounds {
                m_cost_kib,
                t_cost,
                p_cost,
                max_m: KdfParams::MAX_M_COST_KIB,
                max_t: KdfParams::MAX_T_COST,
                max_p: KdfParams::MAX_P_COST,
                max_work: KdfParams::MAX_WORK,
            })
        }
    }

    /// Cheap parameters (m = 8 KiB, t = 1, p = 1) that make a password
    /// trivial to brute-force. For tests and throw-away testnet keys only;
    /// never for a key that holds anything.
    pub const fn insecure_for_tests() -> KdfParams {
        KdfParams {
            m_cost_kib: 8,
            t_cost: 1,
            p_cost: 1,
        }
    }

    /// Memory cost in KiB.
    pub const fn m_cost_kib(&self) -> u32 {
        self.m_cost_kib
    }

    /// Number of passes.
    pub const fn t_cost(&self) -> u32 {
        self.t_cost
    }

    /// Number of lanes.
    pub const fn p_cost(&self) -> u32 {
        self.p_cost
    }

    /// Argon2id(password, salt) → 32-byte key.
    fn derive_key(
        &self,
        password: &[u8],
        salt: &[u8; SALT_LENGTH],
    ) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
        let kdf_error = |e: argon2::Error| KeystoreError::Kdf {
            reason: e.to_string(),
        };
        let params =
            Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32)).map_err(kdf_error)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon2
            .hash_password_into(password, salt, &mut key[..])
            .map_err(kdf_error)?;
        Ok(key)
    }
}

impl Default for KdfParams {
    /// [`KdfParams::STRONG`].
    fn default() -> KdfParams {
        KdfParams::STRONG
    }
}

/// An encrypted keypair, as stored in a keystore file.
///
/// Holds no secret in clear; [`Keystore::decrypt`] gives the keypair back.
#[derive(Clone, PartialEq, Eq)]
pub struct Keystore {
    address: Address,
    kdf: KdfParams,
    salt: [u8; SALT_LENGTH],
    nonce: [u8; NONCE_LENGTH],
    ciphertext: [u8; CIPHERTEXT_LENGTH],
}

impl Keystore {
    /// Encrypts `keypair` under `password` (its bytes as given, e.g. UTF-8,
    /// not normalised) with a fresh random salt and nonce.
    ///
    /// This runs Argon2id with `params`: with the default ones it takes a
    /// noticeable fraction of a second and 64 MiB of memory, on purpose.
    pub fn encrypt(
        keypair: &Keypair,
        password: &[u8],
        params: KdfParams,
    ) -> Result<Keystore, KeystoreError> {
        let mut salt = [0u8; SALT_LENGTH];
        fill_random(&mut salt)?;
        let mut nonce = [0u8; NONCE_LENGTH];
        fill_random(&mut nonce)?;
        let address = keypair.address();
        let key = params.derive_key(password, &salt)?;
        let cipher = cipher(&key);
        let mut buffer = keypair.secret_bytes();
        let tag = cipher
            .encrypt_inout_detached(
                &XNonce::from(nonce),
                &associated_data(&address),
                InOutBuf::from(&mut buffer[..]),
            )
            .map_err(|_| KeystoreError::Kdf {
                reason: "encryption failed".into(),
            })?;
        let mut ciphertext = [0u8; CIPHERTEXT_LENGTH];
        ciphertext[..SECRET_LENGTH].copy_from_slice(&buffer[..]);
        ciphertext[SECRET_LENGTH..].copy_from_slice(&tag);
        Ok(Keystore {
            address,
            kdf: params,
            salt,
            nonce,
            ciphertext,
        })
    }

    /// Decrypts the keypair with `password`.
    ///
    /// A wrong password and a modified file are indistinguishable by design
    /// ([`KeystoreError::WrongPasswordOrCorrupted`]). Costs one Argon2id run
    /// with the file's parameters, which were bounded when it was read.
    pub fn decrypt(&self, password: &[u8]) -> Result<Keypair, KeystoreError> {
        let key = self.kdf.derive_key(password, &self.salt)?;
        let cipher = cipher(&key);
        let mut buffer = Zeroizing::new([0u8; SECRET_LENGTH]);
        buffer.copy_from_slice(&self.ciphertext[..SECRET_LENGTH]);
        let mut tag = [0u8; TAG_LENGTH];
        tag.copy_from_slice(&self.ciphertext[SECRET_LENGTH..]);
        cipher
            .decrypt_inout_detached(
                &XNonce::from(self.nonce),
                &associated_data(&self.address),
                InOutBuf::from(&mut buffer[..]),
                &Tag::from(tag),
            )
            .map_err(|_| KeystoreError::WrongPasswordOrCorrupted)?;
        let keypair = Keypair::from_secret_bytes(&buffer);
        let actual = keypair.address();
        if actual != self.address {
            return Err(KeystoreError::AddressMismatch {
                recorded: self.address,
                actual,
            });
        }
        Ok(keypair)
    }

    /// The address recorded in clear (checked against the key on decrypt).
    pub fn address(&self) -> Address {
        self.address
    }

    /// The Argon2id parameters of this keystore.
    pub fn kdf_params(&self) -> KdfParams {
        self.kdf
    }

    /// The file contents: one line of compact JSON, without a trailing
    /// newline.
    pub fn to_json(&self) -> String {
        let file = FileV1 {
            version: KEYSTORE_VERSION,
            address: self.address.to_string(),
            crypto: CryptoV1 {
                kdf: KDF_NAME.into(),
                kdfparams: KdfParamsV1 {
                    m_cost_kib: self.kdf.m_cost_kib,
                    t_cost: self.kdf.t_cost,
                    p_cost: self.kdf.p_cost,
                    salt: hex::encode(self.salt),
                },
                cipher: CIPHER_NAME.into(),
                cipherparams: CipherParamsV1 {
                    nonce: hex::encode(self.nonce),
                },
                ciphertext: hex::encode(self.ciphertext),
            },
        };
        serde_json::to_string(&file).expect("a keystore always serializes")
    }

    /// Parses keystore file contents, strictly: size bounded first, then
    /// the version, then every field (names, types, lengths, lower-case hex,
    /// supported KDF and cipher, KDF parameters within bounds).
    pub fn from_json(bytes: &[u8]) -> Result<Keystore, KeystoreError> {
        if bytes.len() as u64 > MAX_KEYSTORE_SIZE {
            return Err(KeystoreError::TooLarge {
                size: bytes.len() as u64,
                max: MAX_KEYSTORE_SIZE,
            });
        }
        let probe: VersionProbe = serde_json::from_slice(bytes).map_err(malformed)?;
        match probe.version {
            None => {
                return Err(KeystoreError::Malformed {
                    reason: "missing field `version`".into(),
                });
            }
            Some(serde_json::Value::Number(n)) if n.as_u64() == Some(KEYSTORE_VERSION.into()) => {}
            Some(other) => {
                return Err(KeystoreError::UnsupportedVersion {
                    found: other.to_string(),
                    supported: KEYSTORE_VERSION,
                });
            }
        }
        let file: FileV1 = serde_json::from_slice(bytes).map_err(malformed)?;
        let crypto = file.crypto;
        if crypto.kdf != KDF_NAME {
            return Err(KeystoreError::UnsupportedKdf { found: crypto.kdf });
        }
        if crypto.cipher != CIPHER_NAME {
            return Err(KeystoreError::UnsupportedCipher {
                found: crypto.cipher,
            });
        }
        let p = &crypto.kdfparams;
        let kdf = KdfParams::new(p.m_cost_kib, p.t_cost, p.p_cost)?;
        let address: Address = file.address.parse().map_err(|e| KeystoreError::Malformed {
            reason: format!("field `address`: {e}"),
        })?;
        if address.to_string() != file.address {
            return Err(KeystoreError::Malformed {
                reason: "field `address` must be written in lower case".into(),
            });
        }
        Ok(Keystore {
            address,
            kdf,
            salt: lower_hex("crypto.kdfparams.salt", &p.salt)?,
            nonce: lower_hex("crypto.cipherparams.nonce", &crypto.cipherparams.nonce)?,
            ciphertext: lower_hex("crypto.ciphertext", &crypto.ciphertext)?,
        })
    }

    /// Reads and parses a keystore file, refusing anything that is not a
    /// regular file or is larger than [`MAX_KEYSTORE_SIZE`] before parsing.
    /// The file is opened read-only and never modified.
    pub fn read(path: impl AsRef<Path>) -> Result<Keystore, KeystoreError> {
        let path = path.as_ref();
        let io = |source| KeystoreError::Io {
            action: "read",
            path: path.to_owned(),
            source,
        };
        // Checked before opening so that a FIFO or device is not opened.
        if !fs::metadata(path).map_err(io)?.is_file() {
            return Err(KeystoreError::NotAFile {
                path: path.to_owned(),
            });
        }
        let file = File::open(path).map_err(io)?;
        let metadata = file.metadata().map_err(io)?;
        if !metadata.is_file() {
            return Err(KeystoreError::NotAFile {
                path: path.to_owned(),
            });
        }
        if metadata.len() > MAX_KEYSTORE_SIZE {
            return Err(KeystoreError::TooLarge {
                size: metadata.len(),
                max: MAX_KEYSTORE_SIZE,
            });
        }
        // The file may grow after the check: never read past the limit.
        let mut bytes = Vec::with_capacity(metadata.len() as usize);
        file.take(MAX_KEYSTORE_SIZE + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        Keystore::from_json(&bytes)
    }

    /// Writes the keystore to `path` atomically with mode 0600, refusing to
    /// replace an existing file ([`KeystoreError::AlreadyExists`]).
    pub fn write_new(&self, path: impl AsRef<Path>) -> Result<(), KeystoreError> {
        self.write_atomically(path.as_ref(), false)
    }

    /// Writes the keystore to `path` atomically with mode 0600, replacing
    /// any existing file in one step (for example after a password change):
    /// at every instant the path holds either the old or the new keystore.
    pub fn write_replace(&self, path: impl AsRef<Path>) -> Result<(), KeystoreError> {
        self.write_atomically(path.as_ref(), true)
    }

    fn write_atomically(&self, path: &Path, replace: bool) -> Result<(), KeystoreError> {
        let io = |action: &'static str| {
            move |source| KeystoreError::Io {
                action,
                path: path.to_owned(),
                source,
            }
        };
        let dir = parent_dir(path);
        let mut builder = tempfile::Builder::new();
        builder.prefix(".keystore-").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o600));
        }
        let mut temp = builder
            .tempfile_in(dir)
            .map_err(io("create a temporary file next to"))?;
        temp.write_all(self.to_json().as_bytes())
            .map_err(io("write"))?;
        temp.as_file().sync_all().map_err(io("sync"))?;
        let persisted = if replace {
            temp.persist(path)
        } else {
            temp.persist_noclobber(path)
        };
        // On error the temporary file is removed when `PersistError` drops.
        if let Err(e) = persisted {
            return Err(
                if !replace && e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    KeystoreError::AlreadyExists {
                        path: path.to_owned(),
                    }
                } else {
                    io("rename into place")(e.error)
                },
            );
        }
        #[cfg(unix)]
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io("sync the directory of"))?;
        Ok(())
    }
}

impl fmt::Debug for Keystore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keystore")
            .field("version", &KEYSTORE_VERSION)
            .field("address", &self.address)
            .field("kdf", &self.kdf)
            .finish_non_exhaustive()
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn cipher(key: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new_from_slice(key).expect("a 32-byte key is valid for XChaCha20-Poly1305")
}

fn associated_data(address: &Address) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_DOMAIN.len() + 4 + Address::LENGTH);
    aad.extend_from_slice(AAD_DOMAIN);
    aad.extend_from_slice(&KEYSTORE_VERSION.to_le_bytes());
    aad.extend_from_slice(address.as_bytes());
    aad
}

fn malformed(e: serde_json::Error) -> KeystoreError {
    KeystoreError::Malformed {
        reason: e.to_string(),
    }
}

/// Decodes exactly `N` bytes of lower-case hex.
fn lower_hex<const N: usize>(field: &str, text: &str) -> Result<[u8; N], KeystoreError> {
    let lower = text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !lower || text.len() != 2 * N {
        return Err(KeystoreError::Malformed {
            reason: format!(
                "field `{field}` must be {} lower-case hex characters ({N} bytes)",
                2 * N
            ),
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|e| KeystoreError::Malformed {
        reason: format!("field `{field}`: {e}"),
    })?;
    Ok(out)
}

/// Reads only the version, whatever else the file holds.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileV1 {
    version: u32,
    address: String,
    crypto: CryptoV1,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CryptoV1 {
    kdf: String,
    kdfparams: KdfParamsV1,
    cipher: String,
    cipherparams: CipherParamsV1,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfParamsV1 {
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CipherParamsV1 {
    nonce: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: KdfParams = KdfParams::insecure_for_tests();

    fn sample() -> (Keypair, Keystore) {
        let keypair = Keypair::from_secret_bytes(&[42u8; 32]);
        let keystore = Keystore::encrypt(&keypair, b"correct horse", CHEAP).unwrap();
        (keypair, keystore)
    }

    #[test]
    fn default_params_are_the_strong_ones() {
        let params = KdfParams::default();
        assert_eq!(params.m_cost_kib(), 65536);
        assert_eq!(params.t_cost(), 3);
        assert_eq!(params.p_cost(), 1);
        assert_eq!(
            KdfParams::new(65536, 3, 1).unwrap(),
            params,
            "the default is within bounds"
        );
    }

    #[test]
    fn params_out_of_bounds_are_refused() {
        for (m, t, p) in [
            (0, 3, 1),
            (7, 1, 1),
            (15, 1, 2),
            (65536, 0, 1),
            (65536, 3, 0),
            (KdfParams::MAX_M_COST_KIB + 1, 1, 1),
            (65536, KdfParams::MAX_T_COST + 1, 1),
            (65536, 3, KdfParams::MAX_P_COST + 1),
            (KdfParams::MAX_M_COST_KIB, 5, 1),
            (u32::MAX, u32::MAX, u32::MAX),
        ] {
            assert!(
                matches!(
                    KdfParams::new(m, t, p),
                    Err(KeystoreError::KdfParamsOutOfBounds { .. })
                ),
                "{m} {t} {p}"
            );
        }
        assert!(KdfParams::new(KdfParams::MAX_M_COST_KIB, 4, 1).is_ok());
        assert!(KdfParams::new(8, 1, 1).is_ok());
    }

    #[test]
    fn round_trip_in_memory() {
        let (keypair, keystore) = sample();
        assert_eq!(keystore.address(), keypair.address());
        let parsed = Keystore::from_json(keystore.to_json().as_bytes()).unwrap();
        assert_eq!(parsed, keystore);
        let restored = parsed.decrypt(b"correct horse").unwrap();
        assert_eq!(restored.public_key(), keypair.public_key());
    }

    #[test]
    fn json_is_compact_and_in_the_documented_shape() {
        let (keypair, keystore) = sample();
        let json = keystore.to_json();
        assert!(!json.contains(char::is_whitespace), "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["version"], 1);
        assert_eq!(value["address"], keypair.address().to_string());
        assert_eq!(value["crypto"]["kdf"], "argon2id");
        assert_eq!(value["crypto"]["kdfparams"]["m_cost_kib"], 8);
        assert_eq!(value["crypto"]["kdfparams"]["t_cost"], 1);
        assert_eq!(value["crypto"]["kdfparams"]["p_cost"], 1);
        assert_eq!(
            value["crypto"]["kdfparams"]["salt"].as_str().unwrap().len(),
            64
        );
        assert_eq!(value["crypto"]["cipher"], "xchacha20-poly1305");
        assert_eq!(
            value["crypto"]["cipherparams"]["nonce"]
                .as_str()
                .unwrap()
                .len(),
            48
        );
        assert_eq!(value["crypto"]["ciphertext"].as_str().unwrap().len(), 96);
        assert!(json.starts_with("{\"version\":1,\"address\":\"craps1"));
    }

    #[test]
    fn salt_and_nonce_are_fresh_each_time() {
        let keypair = Keypair::from_secret_bytes(&[1u8; 32]);
        let a = Keystore::encrypt(&keypair, b"pw", CHEAP).unwrap();
        let b = Keystore::encrypt(&keypair, b"pw", CHEAP).unwrap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn wrong_password_is_a_typed_error() {
        let (_, keystore) = sample();
        assert!(matches!(
            keystore.decrypt(b"correct horse "),
            Err(KeystoreError::WrongPasswordOrCorrupted)
        ));
        assert!(matches!(
            keystore.decrypt(b""),
            Err(KeystoreError::WrongPasswordOrCorrupted)
        ));
    }

    #[test]
    fn a_key_that_does_not_match_the_address_is_refused() {
        // Encrypt another key with the sample's address in the associated
        // data, as a buggy or malicious writer could.
        let (keypair, mut keystore) = sample();
        let other = Keypair::from_secret_bytes(&[43u8; 32]);
        let key = keystore.kdf.derive_key(b"pw", &keystore.salt).unwrap();
        let mut buffer = other.secret_bytes();
        let tag = cipher(&key)
            .encrypt_inout_detached(
                &XNonce::from(keystore.nonce),
                &associated_data(&keypair.address()),
                InOutBuf::from(&mut buffer[..]),
            )
            .unwrap();
        keystore.ciphertext[..32].copy_from_slice(&buffer[..]);
        keystore.ciphertext[32..].copy_from_slice(&tag);
        match keystore.decrypt(b"pw") {
            Err(KeystoreError::AddressMismatch { recorded, actual }) => {
                assert_eq!(recorded, keypair.address());
                assert_eq!(actual, other.address());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_and_missing_versions_are_typed_errors() {
        let (_, keystore) = sample();
        let json = keystore.to_json();
        for (version, shown) in [("2", "2"), ("0", "0"), ("\"1\"", "\"1\""), ("1.5", "1.5")] {
            let changed = json.replacen("\"version\":1", &format!("\"version\":{version}"), 1);
            match Keystore::from_json(changed.as_bytes()) {
                Err(KeystoreError::UnsupportedVersion { found, supported }) => {
                    assert_eq!(found, shown);
                    assert_eq!(supported, 1);
                }
                other => panic!("{version}: {other:?}"),
            }
        }
        // A future version with a completely different layout is still
        // reported as an unknown version, not as a malformed file.
        let future = r#"{"version":7,"whatever":{"new":true}}"#;
        assert!(matches!(
            Keystore::from_json(future.as_bytes()),
            Err(KeystoreError::UnsupportedVersion { .. })
        ));
        let missing = json.replacen("\"version\":1,", "", 1);
        assert!(matches!(
            Keystore::from_json(missing.as_bytes()),
            Err(KeystoreError::Malformed { .. })
        ));
    }

    #[test]
    fn unsupported_kdf_and_cipher_are_typed_errors() {
        let (_, keystore) = sample();
        let json = keystore.to_json();
        let scrypt = json.replace("argon2id", "scrypt");
        assert!(matches!(
            Keystore::from_json(scrypt.as_bytes()),
            Err(KeystoreError::UnsupportedKdf { found }) if found == "scrypt"
        ));
        let aes = json.replace("xchacha20-poly1305", "aes-128-ctr");
        assert!(matches!(
            Keystore::from_json(aes.as_bytes()),
            Err(KeystoreError::UnsupportedCipher { found }) if found == "aes-128-ctr"
        ));
    }

    #[test]
    fn absurd_kdf_params_are_refused_before_running_argon2() {
        let (_, keystore) = sample();
        let json = keystore.to_json();
        let huge = json.replace("\"m_cost_kib\":8", "\"m_cost_kib\":4194304");
        assert!(matches!(
            Keystore::from_json(huge.as_bytes()),
            Err(KeystoreError::KdfParamsOutOfBounds {
                m_cost_kib: 4194304,
                ..
            })
        ));
        let slow = json.replace("\"t_cost\":1", "\"t_cost\":4000000000");
        assert!(matches!(
            Keystore::from_json(slow.as_bytes()),
            Err(KeystoreError::KdfParamsOutOfBounds { .. })
        ));
        let overflow = json.replace("\"p_cost\":1", "\"p_cost\":99999999999");
        assert!(matches!(
            Keystore::from_json(overflow.as_bytes()),
            Err(KeystoreError::Malformed { .. })
        ));
    }

    #[test]
    fn unknown_fields_duplicates_and_upper_case_hex_are_refused() {
        let (_, keystore) = sample();
        let json = keystore.to_json();
        let extra = json.replacen("{\"version\":1,", "{\"version\":1,\"extra\":0,", 1);
        let duplicate = json.replacen("{\"version\":1,", "{\"version\":1,\"version\":1,", 1);
        let upper = {
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            let nonce = value["crypto"]["cipherparams"]["nonce"].as_str().unwrap();
            json.replace(nonce, &nonce.to_uppercase())
        };
        let upper_address = json.replace(
            &keystore.address().to_string(),
            &keystore.address().to_string().to_uppercase(),
        );
        for bad in [extra, duplicate, upper, upper_address] {
            assert!(
                matches!(
                    Keystore::from_json(bad.as_bytes()),
                    Err(KeystoreError::Malformed { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let big = vec![b' '; MAX_KEYSTORE_SIZE as usize + 1];
        assert!(matches!(
            Keystore::from_json(&big),
            Err(KeystoreError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_bare_file_name_is_written_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("k.json")), Path::new("."));
        assert_eq!(parent_dir(Path::new("a/k.json")), Path::new("a"));
        assert_eq!(parent_dir(Path::new("/k.json")), Path::new("/"));
    }

    #[test]
    fn debug_shows_no_key_material() {
        let (_, keystore) = sample();
        let debug = format!("{keystore:?}");
        assert!(debug.contains("craps1"));
        assert!(!debug.contains(&hex::encode(keystore.ciphertext)));
        assert!(!debug.contains(&hex::encode(keystore.salt)));
    }
}
