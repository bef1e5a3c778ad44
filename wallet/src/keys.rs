//! Ed25519 keys and signatures.
//!
//! A [`Keypair`] holds a 32-byte ed25519 secret (RFC 8032 seed). It is
//! zeroized when dropped, cannot be cloned, and its `Debug` shows only the
//! address. A [`PublicKey`] is always a valid, canonically encoded point
//! that is not of small order. A [`Signature`] is 64 bytes; whether it is
//! well formed is decided only when it is verified ([`PublicKey::verify`]).

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::address::Address;
use crate::error::{KeyError, RandomnessError, VerifyError};
use crate::keycache::KeyCache;
use crate::signing::{ChainId, SignDomain, signing_bytes};

/// Fills `buf` from the operating system's random number generator.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), RandomnessError> {
    getrandom::fill(buf).map_err(RandomnessError)
}

/// An ed25519 signing key and its public key.
///
/// The secret is zeroized on drop. There is deliberately no `Clone`: share a
/// keypair by reference or behind an `Arc`, so that one copy of the secret
/// exists.
pub struct Keypair {
    signing: SigningKey,
}

impl Keypair {
    /// Length of the secret in bytes.
    pub const SECRET_LENGTH: usize = 32;

    /// A new random keypair from the operating system's generator.
    pub fn generate() -> Result<Keypair, RandomnessError> {
        let mut secret = Zeroizing::new([0u8; Keypair::SECRET_LENGTH]);
        fill_random(&mut secret[..])?;
        Ok(Keypair::from_secret_bytes(&secret))
    }

    /// The keypair of a 32-byte ed25519 secret (the RFC 8032 seed).
    ///
    /// Any 32 bytes are a valid secret. The caller should zeroize its copy
    /// (for example by keeping it in a `zeroize::Zeroizing`).
    pub fn from_secret_bytes(secret: &[u8; Keypair::SECRET_LENGTH]) -> Keypair {
        Keypair {
            signing: SigningKey::from_bytes(secret),
        }
    }

    /// A copy of the secret, zeroized when dropped: for encrypting it, and
    /// for a node that uses its wallet key as its libp2p identity (the
    /// same ed25519 seed gives the same public key there).
    pub fn secret_bytes(&self) -> Zeroizing<[u8; Keypair::SECRET_LENGTH]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    /// The address of the public key.
    pub fn address(&self) -> Address {
        self.public_key().address()
    }

    /// Signs `message` for `domain` on chain `chain_id`.
    ///
    /// What is signed is [`signing_bytes`]`(domain, chain_id, message)`, so
    /// the signature is worthless on another chain or for another kind of
    /// message. Ed25519 signing is deterministic: the same inputs give the
    /// same signature.
    pub fn sign(&self, domain: SignDomain, chain_id: &ChainId, message: &[u8]) -> Signature {
        let bytes = signing_bytes(domain, chain_id, message);
        Signature(self.signing.sign(&bytes).to_bytes())
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keypair")
            .field("address", &self.address())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// An ed25519 public key: a valid point, canonically encoded, not of small
/// order.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Length of an encoded public key in bytes.
    pub const LENGTH: usize = 32;

    /// Decodes a public key, refusing bytes that are not a point, are not
    /// the canonical encoding of their point, or are a small-order (weak)
    /// point.
    ///
    /// Accepted keys are remembered by the process-wide
    /// [`KeyCache`](crate::keycache::KeyCache) (the verdict is a pure
    /// function of the bytes), so decoding a key seen recently costs a
    /// lookup instead of a point decompression.
    pub fn from_bytes(bytes: &[u8; PublicKey::LENGTH]) -> Result<PublicKey, KeyError> {
        KeyCache::process().get_or_decode(bytes, PublicKey::decode_uncached)
    }

    /// [`PublicKey::from_bytes`] without the cache: always decompresses.
    pub fn decode_uncached(bytes: &[u8; PublicKey::LENGTH]) -> Result<PublicKey, KeyError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::NotOnCurve)?;
        if key.to_edwards().compress().as_bytes() != bytes {
            return Err(KeyError::NonCanonicalPublicKey);
        }
        if key.is_weak() {
            return Err(KeyError::WeakPublicKey);
        }
        Ok(PublicKey(key))
    }

    /// The 32-byte encoding.
    pub fn as_bytes(&self) -> &[u8; PublicKey::LENGTH] {
        self.0.as_bytes()
    }

    /// The 32-byte encoding, by value.
    pub fn to_bytes(&self) -> [u8; PublicKey::LENGTH] {
        self.0.to_bytes()
    }

    /// The address of this key.
    pub fn address(&self) -> Address {
        Address::from_public_key(self)
    }

    /// Verifies `signature` over `message` for `domain` on chain `chain_id`
    /// by the one rule every node applies: strict encodings of `R` and `s`
    /// (and of `A`, this key, checked when it was decoded) and the
    /// cofactored equation `[8]([s]B − R − [k]A) = 0`. See
    /// [`crate::signing`] for why, and for batches with the same result.
    pub fn verify(
        &self,
        domain: SignDomain,
        chain_id: &ChainId,
        message: &[u8],
        signature: &Signature,
    ) -> Result<(), VerifyError> {
        let bytes = signing_bytes(domain, chain_id, message);
        self.verify_signed_bytes(&bytes, signature)
    }

    /// [`PublicKey::verify`] over already-assembled signed bytes.
    pub(crate) fn verify_signed_bytes(
        &self,
        signed_bytes: &[u8],
        signature: &Signature,
    ) -> Result<(), VerifyError> {
        if crate::signing::verify_signed_bytes(self, signed_bytes, signature) {
            Ok(())
        } else {
            Err(VerifyError)
        }
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &PublicKey) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicKey {
    fn cmp(&self, other: &PublicKey) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

/// The 32-byte encoding; decoding applies every check of
/// [`PublicKey::from_bytes`], so a key read from outside is always valid.
impl borsh::BorshSerialize for PublicKey {
    fn serialize<W: std::io::Write>(&self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(self.as_bytes())
    }
}

impl borsh::BorshDeserialize for PublicKey {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let bytes = <[u8; PublicKey::LENGTH]>::deserialize_reader(reader)?;
        PublicKey::from_bytes(&bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
    }
}

impl TryFrom<&[u8]> for PublicKey {
    type Error = KeyError;

    fn try_from(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        PublicKey::from_bytes(&fixed::<{ PublicKey::LENGTH }>("public key", bytes)?)
    }
}

impl fmt::Display for PublicKey {
    /// Lower-case hex, 64 characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    /// Parses 64 hex characters.
    fn from_str(s: &str) -> Result<PublicKey, KeyError> {
        PublicKey::from_bytes(&parse_hex::<{ PublicKey::LENGTH }>("public key", s)?)
    }
}

/// An ed25519 signature: 64 bytes, `R ‖ s`.
///
/// Any 64 bytes can be held; malformed ones simply fail verification.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct Signature([u8; Signature::LENGTH]);

impl Signature {
    /// Length of a signature in bytes.
    pub const LENGTH: usize = 64;

    /// A signature from its 64 bytes.
    pub const fn from_bytes(bytes: [u8; Signature::LENGTH]) -> Signature {
        Signature(bytes)
    }

    /// The 64 bytes.
    pub const fn as_bytes(&self) -> &[u8; Signature::LENGTH] {
        &self.0
    }

    /// The 64 bytes, by value.
    pub const fn to_bytes(self) -> [u8; Signature::LENGTH] {
        self.0
    }
}

impl TryFrom<&[u8]> for Signature {
    type Error = KeyError;

    fn try_from(bytes: &[u8]) -> Result<Signature, KeyError> {
        Ok(Signature(fixed::<{ Signature::LENGTH }>(
            "signature",
            bytes,
        )?))
    }
}

impl fmt::Display for Signature {
    /// Lower-case hex, 128 characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl FromStr for Signature {
    type Err = KeyError;

    /// Parses 128 hex characters.
    fn from_str(s: &str) -> Result<Signature, KeyError> {
        Ok(Signature(parse_hex::<{ Signature::LENGTH }>(
            "signature",
            s,
        )?))
    }
}

/// Copies a slice into an array, with a typed error on a length mismatch.
pub(crate) fn fixed<const N: usize>(what: &'static str, bytes: &[u8]) -> Result<[u8; N], KeyError> {
    bytes.try_into().map_err(|_| KeyError::WrongLength {
        what,
        expected: N,
        found: bytes.len(),
    })
}

/// Decodes exactly `N` bytes of hex (either case).
pub(crate) fn parse_hex<const N: usize>(what: &'static str, s: &str) -> Result<[u8; N], KeyError> {
    if s.len() != 2 * N {
        return Err(KeyError::WrongLength {
            what,
            expected: N,
            found: s.len() / 2,
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).map_err(|e| KeyError::InvalidHex {
        what,
        reason: e.to_string(),
    })?;
    Ok(out)
}

/// Serde as hex text, for types that are `Display` + `FromStr`.
macro_rules! serde_via_text {
    ($($ty:ty),*) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
pub(crate) use serde_via_text;

serde_via_text!(PublicKey, Signature);

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use proptest::prelude::*;

    const CHAIN: ChainId = ChainId::new([9u8; 32]);

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = [0xABu8; 32];
        let keypair = Keypair::from_secret_bytes(&secret);
        let debug = format!("{keypair:?}");
        assert!(debug.contains("<redacted>"));
        assert!(debug.contains(&keypair.address().to_string()));
        assert!(!debug.to_lowercase().contains("abab"), "{debug}");
        assert!(!debug.contains("171, 171"), "{debug}");
    }

    #[test]
    fn generated_keys_differ() {
        let a = Keypair::generate().unwrap();
        let b = Keypair::generate().unwrap();
        assert_ne!(a.public_key(), b.public_key());
    }

    #[test]
    fn public_key_text_and_bytes_round_trip() {
        let key = Keypair::from_secret_bytes(&[1u8; 32]).public_key();
        assert_eq!(PublicKey::from_bytes(key.as_bytes()), Ok(key));
        assert_eq!(key.to_string().parse::<PublicKey>(), Ok(key));
        assert_eq!(PublicKey::try_from(&key.as_bytes()[..]), Ok(key));
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), key);
    }

    #[test]
    fn small_order_public_keys_are_refused() {
        for point in EIGHT_TORSION.iter() {
            let bytes = point.compress().to_bytes();
            assert_eq!(
                PublicKey::from_bytes(&bytes),
                Err(KeyError::WeakPublicKey),
                "{}",
                hex::encode(bytes)
            );
        }
    }

    #[test]
    fn non_canonical_public_keys_are_refused() {
        // y = p + 1 ≡ 1 is a non-canonical encoding of a (small-order) point;
        // y = p + 4 encodes a non-canonical point of large order if on the curve.
        let mut found_non_canonical = false;
        for extra in 0u8..19 {
            // p = 2^255 - 19: bytes ed ff .. ff 7f; p + extra for extra < 19.
            let mut bytes = [0xffu8; 32];
            bytes[0] = 0xed + extra;
            bytes[31] = 0x7f;
            match PublicKey::from_bytes(&bytes) {
                Err(KeyError::NonCanonicalPublicKey) => found_non_canonical = true,
                Err(_) => {}
                Ok(key) => panic!("accepted non-canonical {key}"),
            }
        }
        assert!(found_non_canonical);
    }

    #[test]
    fn wrong_lengths_and_bad_hex_are_typed_errors() {
        assert!(matches!(
            PublicKey::try_from(&[0u8; 31][..]),
            Err(KeyError::WrongLength { found: 31, .. })
        ));
        assert!(matches!(
            Signature::try_from(&[0u8; 65][..]),
            Err(KeyError::WrongLength { found: 65, .. })
        ));
        assert!(matches!(
            "zz".repeat(32).parse::<PublicKey>(),
            Err(KeyError::InvalidHex { .. })
        ));
        assert!(matches!(
            "00".repeat(63).parse::<Signature>(),
            Err(KeyError::WrongLength { .. })
        ));
    }

    #[test]
    fn non_canonical_s_is_refused() {
        // s + ℓ satisfies the equation; the rule's canonical-s check must
        // refuse it.
        const ELL: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let keypair = Keypair::from_secret_bytes(&[5u8; 32]);
        let mut tried = 0;
        for i in 0u8..=255 {
            let message = [i];
            let good = keypair.sign(SignDomain::Transaction, &CHAIN, &message);
            let mut bytes = good.to_bytes();
            // s + ℓ, if it still fits in 253 bits (then it is < 2^256 and
            // non-canonical).
            let mut carry = 0u16;
            for (b, l) in bytes[32..].iter_mut().zip(ELL) {
                let sum = u16::from(*b) + u16::from(l) + carry;
                *b = sum as u8;
                carry = sum >> 8;
            }
            if carry != 0 || bytes[63] & 0xe0 != 0 {
                continue;
            }
            tried += 1;
            let bad = Signature::from_bytes(bytes);
            assert_eq!(
                keypair
                    .public_key()
                    .verify(SignDomain::Transaction, &CHAIN, &message, &bad),
                Err(VerifyError)
            );
        }
        assert!(tried > 0);
    }

    #[test]
    fn torsion_in_r_is_refused() {
        let keypair = Keypair::from_secret_bytes(&[6u8; 32]);
        let good = keypair.sign(SignDomain::Transaction, &CHAIN, b"m");
        let r = curve25519_dalek::edwards::CompressedEdwardsY(
            good.as_bytes()[..32].try_into().unwrap(),
        )
        .decompress()
        .unwrap();
        for torsion in EIGHT_TORSION.iter().skip(1) {
            let mut bytes = good.to_bytes();
            bytes[..32].copy_from_slice(&(r + torsion).compress().to_bytes());
            let bad = Signature::from_bytes(bytes);
            assert_eq!(
                keypair
                    .public_key()
                    .verify(SignDomain::Transaction, &CHAIN, b"m", &bad),
                Err(VerifyError)
            );
        }
    }

    proptest! {
        #[test]
        fn signature_text_round_trips(bytes in prop::array::uniform32(any::<u8>()), more in prop::array::uniform32(any::<u8>())) {
            let mut all = [0u8; 64];
            all[..32].copy_from_slice(&bytes);
            all[32..].copy_from_slice(&more);
            let signature = Signature::from_bytes(all);
            prop_assert_eq!(signature.to_string().parse::<Signature>(), Ok(signature));
        }

        #[test]
        fn decoding_arbitrary_public_key_bytes_never_panics(bytes in any::<[u8; 32]>()) {
            if let Ok(key) = PublicKey::from_bytes(&bytes) {
                prop_assert_eq!(key.as_bytes(), &bytes);
            }
        }
    }
}
