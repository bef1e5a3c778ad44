//! Key material: the group key, the public sharing, secret shares, and the
//! testnet dealer.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use commonware_codec::{Copying, Decode, DecodeExt, Encode, EncodeFixed};
use commonware_cryptography::bls12381::dkg::feldman_desmedt;
use commonware_cryptography::bls12381::primitives::group::{G1, G2, Share};
use commonware_cryptography::bls12381::primitives::ops::threshold;
use commonware_cryptography::bls12381::primitives::sharing::{Mode, ModeVersion, Sharing};
use commonware_cryptography::bls12381::primitives::variant::PartialSignature;
use commonware_utils::{N3f1, Participant, TryCollect, ordered::Set};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use zeroize::Zeroizing;

use super::{BEACON_NAMESPACE, BeaconError, GROUP_KEY_LENGTH, MAX_PARTICIPANTS, V, quorum};

/// The BLAKE3 key-derivation context that turns a testnet dealer seed into
/// the ChaCha20 seed of [`dealer_keys`] and [`super::dkg::deal`].
pub(crate) const DEALER_SEED_CONTEXT: &str = "bitcraps v1 testnet beacon dealer";

/// The deterministic generator of a testnet dealer seed.
pub(crate) fn dealer_rng(seed: &[u8; 32]) -> ChaCha20Rng {
    ChaCha20Rng::from_seed(blake3::derive_key(DEALER_SEED_CONTEXT, seed))
}

fn malformed(what: &'static str, reason: impl fmt::Display) -> BeaconError {
    BeaconError::Malformed {
        what,
        reason: reason.to_string(),
    }
}

/// An epoch's threshold group public key: a G2 point, 96 bytes compressed,
/// 192 lower-case hex characters in text (and in serde).
///
/// It is the only thing needed to verify a beacon signature
/// ([`super::verify_beacon`]). It is never the identity, always in the
/// prime-order subgroup, and always canonically encoded. Resharing keeps
/// it: one chain has one group key for as long as each epoch's keys come
/// from resharing the previous epoch's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct GroupKey {
    point: G2,
    bytes: [u8; GROUP_KEY_LENGTH],
}

impl GroupKey {
    /// Decodes a group key: exactly 96 bytes, a valid compressed G2 point in
    /// the subgroup, not the identity, canonically encoded.
    pub fn from_bytes(bytes: &[u8]) -> Result<GroupKey, BeaconError> {
        const WHAT: &str = "beacon group key";
        if bytes.len() != GROUP_KEY_LENGTH {
            return Err(malformed(
                WHAT,
                format!("{} bytes, not {GROUP_KEY_LENGTH}", bytes.len()),
            ));
        }
        let point = G2::decode(Copying(bytes)).map_err(|e| malformed(WHAT, e))?;
        GroupKey::from_point(point).and_then(|key| {
            if key.bytes[..] == *bytes {
                Ok(key)
            } else {
                Err(malformed(WHAT, "not canonically encoded"))
            }
        })
    }

    pub(crate) fn from_point(point: G2) -> Result<GroupKey, BeaconError> {
        Ok(GroupKey {
            point,
            bytes: point.encode_fixed(),
        })
    }

    /// The 96-byte compressed encoding.
    pub const fn to_bytes(&self) -> [u8; GROUP_KEY_LENGTH] {
        self.bytes
    }

    /// The 96-byte compressed encoding, by reference.
    pub const fn as_bytes(&self) -> &[u8; GROUP_KEY_LENGTH] {
        &self.bytes
    }

    pub(crate) const fn point(&self) -> &G2 {
        &self.point
    }
}

impl std::hash::Hash for GroupKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl fmt::Display for GroupKey {
    /// 192 lower-case hex characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.bytes))
    }
}

impl fmt::Debug for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupKey({self})")
    }
}

impl FromStr for GroupKey {
    type Err = BeaconError;

    /// Parses 192 hex characters (either case).
    fn from_str(s: &str) -> Result<GroupKey, BeaconError> {
        if s.len() != 2 * GROUP_KEY_LENGTH {
            return Err(malformed(
                "beacon group key",
                format!("{} hex characters, not {}", s.len(), 2 * GROUP_KEY_LENGTH),
            ));
        }
        let bytes = hex::decode(s).map_err(|e| malformed("beacon group key", e))?;
        GroupKey::from_bytes(&bytes)
    }
}

impl serde::Serialize for GroupKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for GroupKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<GroupKey, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl borsh::BorshSerialize for GroupKey {
    /// The 96 bytes, no length.
    fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        writer.write_all(&self.bytes)
    }
}

impl borsh::BorshDeserialize for GroupKey {
    /// 96 bytes that must be a valid group key.
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<GroupKey> {
        let mut bytes = [0u8; GROUP_KEY_LENGTH];
        reader.read_exact(&mut bytes)?;
        GroupKey::from_bytes(&bytes).map_err(|e| crate::encoding::invalid(e.to_string()))
    }
}

/// The public side of an epoch's sharing: the commitment to the secret
/// polynomial (its coefficients times the G2 generator), from which the
/// group key (the constant term) and each validator's share public key
/// (the polynomial at the validator's point) follow.
///
/// It is what a [`super::BeaconAggregator`] verifies shares with and what
/// a third party checks [`super::BeaconEvidence`] with. Every
/// `PublicSharing` has between 1 and [`MAX_PARTICIPANTS`] participants and
/// a polynomial of degree exactly `quorum(n) − 1`, so exactly
/// [`quorum`]`(n)` shares are needed; anything else is refused.
///
/// Encoding (commonware's `Sharing`): mode byte `0` (share `i` is the
/// polynomial at `i + 1`) ‖ `n` as u32 big-endian ‖ varint `t` ‖ `t`
/// compressed G2 points. Text and serde: lower-case hex of that.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicSharing {
    sharing: Sharing<V>,
    group_key: GroupKey,
}

impl PublicSharing {
    /// The largest encoding of a sharing among [`MAX_PARTICIPANTS`].
    pub fn max_encoded_length() -> usize {
        Sharing::<V>::max_encode_size(max_participants())
    }

    /// Wraps a commonware sharing after checking it (participants, exact
    /// threshold, mode).
    pub(crate) fn from_sharing(sharing: Sharing<V>) -> Result<PublicSharing, BeaconError> {
        let n = sharing.total().get();
        if n > MAX_PARTICIPANTS {
            return Err(BeaconError::InvalidKeys {
                reason: format!("{n} participants, over the limit of {MAX_PARTICIPANTS}"),
            });
        }
        if sharing.required() != quorum(n) {
            return Err(BeaconError::InvalidKeys {
                reason: format!(
                    "the polynomial needs {} shares of {n}, but the beacon requires exactly {}",
                    sharing.required(),
                    quorum(n)
                ),
            });
        }
        // Only the counter mode (share i at point i + 1) is accepted.
        if sharing.encode().first() != Some(&0) {
            return Err(BeaconError::InvalidKeys {
                reason: "only the counter evaluation mode is supported".into(),
            });
        }
        let group_key = GroupKey::from_point(*sharing.public())?;
        Ok(PublicSharing { sharing, group_key })
    }

    /// Decodes and checks a sharing: at most
    /// [`PublicSharing::max_encoded_length`] bytes (checked first), valid
    /// points, canonical, exact threshold (see the type's documentation).
    pub fn from_bytes(bytes: &[u8]) -> Result<PublicSharing, BeaconError> {
        const WHAT: &str = "beacon public sharing";
        let max = PublicSharing::max_encoded_length();
        if bytes.len() > max {
            return Err(BeaconError::TooLarge {
                what: WHAT,
                len: bytes.len(),
                max,
            });
        }
        let sharing =
            Sharing::<V>::decode_cfg(Copying(bytes), &(max_participants(), ModeVersion::v0()))
                .map_err(|e| malformed(WHAT, e))?;
        if sharing.encode().as_ref() != bytes {
            return Err(malformed(WHAT, "not canonically encoded"));
        }
        PublicSharing::from_sharing(sharing)
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.sharing.encode().to_vec()
    }

    /// The group public key (the polynomial's constant term).
    pub const fn group_key(&self) -> &GroupKey {
        &self.group_key
    }

    /// How many participants hold shares (`n`).
    pub fn participants(&self) -> u32 {
        self.sharing.total().get()
    }

    /// How many shares are needed (`t = quorum(n)`).
    pub fn threshold(&self) -> u32 {
        self.sharing.required()
    }

    /// The public key of share `index` (96 bytes), or `None` if there is no
    /// such share.
    pub fn share_public_key(&self, index: u32) -> Option<[u8; GROUP_KEY_LENGTH]> {
        self.sharing
            .partial_public(Participant::new(index))
            .ok()
            .map(|point| point.encode_fixed())
    }

    /// Whether `share` is a share of this sharing (its public key is the
    /// polynomial at its point). A node should check its own share with
    /// this after loading it.
    pub fn holds(&self, share: &SecretShare) -> bool {
        self.sharing
            .partial_public(share.share.index)
            .is_ok_and(|public| public == share.share.public::<V>())
    }

    /// Whether `partial` is share `index`'s valid partial signature of
    /// `message` (the 80-byte encoding of a [`super::BeaconMessage`]):
    /// a canonical 48-byte G1 point in the subgroup, verifying under the
    /// share's public key.
    pub(crate) fn verify_partial(&self, message: &[u8], index: u32, partial: &[u8; 48]) -> bool {
        let Ok(value) = decode_g1(partial) else {
            return false;
        };
        let partial = PartialSignature::<V> {
            index: Participant::new(index),
            value,
        };
        threshold::verify_message::<V>(&self.sharing, BEACON_NAMESPACE, message, &partial).is_ok()
    }

    /// The commonware sharing (what the BFT engine's threshold scheme
    /// takes: one key serves consensus and the beacon, under separate
    /// namespaces).
    pub const fn sharing(&self) -> &Sharing<V> {
        &self.sharing
    }
}

/// Decodes a canonical, non-identity, in-subgroup G1 point.
pub(crate) fn decode_g1(bytes: &[u8; 48]) -> Result<G1, String> {
    let point = G1::decode(Copying(&bytes[..])).map_err(|e| e.to_string())?;
    if point.encode_fixed::<48>() != *bytes {
        return Err("not canonically encoded".into());
    }
    Ok(point)
}

fn max_participants() -> NonZeroU32 {
    NonZeroU32::new(MAX_PARTICIPANTS).expect("MAX_PARTICIPANTS is not zero")
}

impl fmt::Display for PublicSharing {
    /// Lower-case hex of the encoding.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.to_bytes()))
    }
}

impl fmt::Debug for PublicSharing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicSharing")
            .field("participants", &self.participants())
            .field("threshold", &self.threshold())
            .field("group_key", &self.group_key)
            .finish()
    }
}

impl FromStr for PublicSharing {
    type Err = BeaconError;

    /// Parses hex (either case), bounded before decoding.
    fn from_str(s: &str) -> Result<PublicSharing, BeaconError> {
        let max = 2 * PublicSharing::max_encoded_length();
        if s.len() > max {
            return Err(BeaconError::TooLarge {
                what: "beacon public sharing (hex)",
                len: s.len(),
                max,
            });
        }
        let bytes = hex::decode(s).map_err(|e| malformed("beacon public sharing", e))?;
        PublicSharing::from_bytes(&bytes)
    }
}

impl serde::Serialize for PublicSharing {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PublicSharing {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<PublicSharing, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl borsh::BorshSerialize for PublicSharing {
    /// A u32 length, then the encoding.
    fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        let bytes = self.to_bytes();
        borsh::BorshSerialize::serialize(&(bytes.len() as u32), writer)?;
        writer.write_all(&bytes)
    }
}

impl borsh::BorshDeserialize for PublicSharing {
    /// A u32 length (at most [`PublicSharing::max_encoded_length`], checked
    /// before reading on), then a valid sharing.
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<PublicSharing> {
        let len = u32::deserialize_reader(reader)? as usize;
        if len > PublicSharing::max_encoded_length() {
            return Err(crate::encoding::invalid(format!(
                "a beacon public sharing of {len} bytes is over the limit"
            )));
        }
        let mut bytes = vec![0u8; len];
        reader.read_exact(&mut bytes)?;
        PublicSharing::from_bytes(&bytes).map_err(|e| crate::encoding::invalid(e.to_string()))
    }
}

/// One validator's secret share of the epoch's beacon key: its index
/// (`0..n`, the position of the validator in the epoch's ordered set) and
/// a scalar.
///
/// Not `Clone` and not printable: keep one copy, in the validator's
/// keystore. The scalar is zeroized on drop.
pub struct SecretShare {
    share: Share,
}

impl SecretShare {
    /// The length of [`SecretShare::to_bytes`] at most (a varint index of
    /// up to 5 bytes and a 32-byte scalar).
    pub const MAX_ENCODED_LENGTH: usize = 5 + 32;

    pub(crate) const fn new(share: Share) -> SecretShare {
        SecretShare { share }
    }

    pub(crate) const fn share(&self) -> &Share {
        &self.share
    }

    /// The share's index.
    pub const fn index(&self) -> u32 {
        self.share.index.get()
    }

    /// The encoding for a keystore: varint index ‖ 32-byte big-endian
    /// scalar. Zeroized when dropped.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut encoded = self.share.encode_mut();
        let out = Zeroizing::new(encoded.to_vec());
        zeroize::Zeroize::zeroize(&mut encoded[..]);
        out
    }

    /// Decodes [`SecretShare::to_bytes`]; refuses a zero scalar, trailing
    /// bytes and an index of [`MAX_PARTICIPANTS`] or more. Check the result
    /// against the epoch's sharing with [`PublicSharing::holds`].
    pub fn from_bytes(bytes: &[u8]) -> Result<SecretShare, BeaconError> {
        const WHAT: &str = "beacon secret share";
        if bytes.len() > SecretShare::MAX_ENCODED_LENGTH {
            return Err(BeaconError::TooLarge {
                what: WHAT,
                len: bytes.len(),
                max: SecretShare::MAX_ENCODED_LENGTH,
            });
        }
        let share = Share::decode(Copying(bytes)).map_err(|e| malformed(WHAT, e))?;
        if share.index.get() >= MAX_PARTICIPANTS {
            return Err(malformed(WHAT, "index out of range"));
        }
        Ok(SecretShare { share })
    }
}

impl fmt::Debug for SecretShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretShare")
            .field("index", &self.index())
            .field("scalar", &"<redacted>")
            .finish()
    }
}

/// What the testnet dealer hands out: the public sharing (for genesis) and
/// every validator's secret share, in index order.
#[derive(Debug)]
pub struct DealerKeys {
    /// The public sharing; its group key goes into the genesis.
    pub sharing: PublicSharing,
    /// `shares[i]` is validator `i`'s share (index `i`).
    pub shares: Vec<SecretShare>,
}

/// **Testnet shortcut:** a trusted dealer's beacon keys for `n` validators
/// with threshold [`quorum`]`(n)`, derived deterministically from `seed`.
///
/// Only for a chain whose genesis says `dealer_beacon = true`. Whoever
/// knows the seed (or ran the dealer) knows the whole secret key: they can
/// compute every σ — every dice roll and crash decision — for any message
/// before the validators do, and so bet with certainty. That is exactly
/// what the DKG ([`super::dkg::run_dkg`]) prevents; never use this where
/// real value is at stake.
///
/// Determinism: the polynomial comes from ChaCha20 seeded with
/// `BLAKE3-derive-key("bitcraps v1 testnet beacon dealer", seed)` through
/// commonware's `deal` at the pinned version, so the same seed always gives
/// the same keys (pinned by a test); validator `i` (in genesis order) gets
/// share `i`. Refuses `n = 0` and `n > MAX_PARTICIPANTS`.
pub fn dealer_keys(n: u32, seed: &[u8; 32]) -> Result<DealerKeys, BeaconError> {
    if n == 0 || n > MAX_PARTICIPANTS {
        return Err(BeaconError::InvalidKeys {
            reason: format!("{n} participants: the dealer needs 1 to {MAX_PARTICIPANTS}"),
        });
    }
    let players: Set<u32> = (0..n).try_collect().map_err(|e| BeaconError::InvalidKeys {
        reason: format!("{e:?}"),
    })?;
    let (output, shares) =
        feldman_desmedt::deal::<V, u32, N3f1>(dealer_rng(seed), Mode::NonZeroCounter, players)
            .map_err(|e| BeaconError::InvalidKeys {
                reason: e.to_string(),
            })?;
    let sharing = PublicSharing::from_sharing(output.public().clone())?;
    let shares = shares
        .values()
        .iter()
        .cloned()
        .map(SecretShare::new)
        .collect();
    Ok(DealerKeys { sharing, shares })
}
