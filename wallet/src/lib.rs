//! # BitCraps wallet
//!
//! Owns a player's or validator's identity: ed25519 keys, addresses with a
//! checksum and a human-readable form, encrypted keystore files, the mnemonic
//! backup, and signing with the chain id and a domain string in what is signed.
//!
//! It must not know about blocks, ledgers or networks: it signs bytes that the
//! `consensus` crate defines, and nothing in it decides a game outcome. It
//! never logs, never prints a secret (`Debug` of every secret-holding type is
//! redacted), keeps secrets in memory only as long as needed and zeroizes
//! them on drop, draws randomness only from the operating system, and never
//! panics on input from outside (strings, files, signatures).
//!
//! # Modules and formats
//!
//! | concept | module | format |
//! |---|---|---|
//! | keys | [`keys`] | ed25519 (RFC 8032) via `ed25519-dalek`: 32-byte secret, 32-byte public key (valid, canonical, not small-order), 64-byte signature; hex as text |
//! | address | [`address`] | `blake3("bitcraps/v1/address" ‖ pk)[..20]`, bech32m with prefix `craps`: `craps1…`, 44 characters |
//! | signing | [`signing`] | signed bytes = `"bitcraps/v1/" ‖ domain tag ‖ 0x00 ‖ chain id (32 bytes) ‖ message`; one verification rule (strict encodings, cofactored equation), one by one or in batches with the same result |
//! | keystore | [`keystore`] | compact JSON v1: Argon2id (default m = 64 MiB, t = 3, p = 1) + XChaCha20-Poly1305, address in clear, ≤ 64 KiB, written atomically with mode 0600 |
//! | mnemonic | [`mnemonic`] | 24-word BIP39 English phrase; secret = `blake3::derive_key("bitcraps v1 ed25519 key from bip39 seed", bip39_seed(phrase, passphrase))` |
//! | errors | [`error`] | one `thiserror` enum per concept |
//!
//! Every derivation above is pinned by test vectors computed by an
//! independent Python script (`vectors/generate_wallet_vectors.py`, output
//! `vectors/wallet-v1.json`); changing one would change every address or
//! every restored backup, so the tests fail if any changes.
//!
//! # Example
//!
//! ```
//! use wallet::{ChainId, KdfParams, Keypair, Keystore, Mnemonic, SignDomain};
//!
//! let mnemonic = Mnemonic::generate()?;
//! let keypair = mnemonic.to_keypair("");
//! let chain = ChainId::new([7; 32]);
//! let signature = keypair.sign(SignDomain::Transaction, &chain, b"tx bytes");
//! keypair
//!     .public_key()
//!     .verify(SignDomain::Transaction, &chain, b"tx bytes", &signature)?;
//!
//! // Real keystores use `KdfParams::default()`; this example uses cheap ones.
//! let keystore = Keystore::encrypt(&keypair, b"password", KdfParams::insecure_for_tests())?;
//! let restored = Keystore::from_json(keystore.to_json().as_bytes())?.decrypt(b"password")?;
//! assert_eq!(restored.address(), keypair.address());
//! println!("your address: {}", keypair.address());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod address;
pub mod error;
pub mod keycache;
pub mod keys;
pub mod keystore;
pub mod mnemonic;
pub mod signing;

pub use address::{ADDRESS_HRP, Address};
pub use error::{
    AddressError, BatchVerifyError, KeyError, KeystoreError, MnemonicError, RandomnessError,
    VerifyError,
};
pub use keys::{Keypair, PublicKey, Signature};
pub use keystore::{KEYSTORE_VERSION, KdfParams, Keystore, MAX_KEYSTORE_SIZE};
pub use mnemonic::{MNEMONIC_WORDS, Mnemonic};
pub use signing::{
    ChainId, SIGNING_PREFIX, SignDomain, SignedMessage, signing_bytes, verify_batch, verify_each,
};
