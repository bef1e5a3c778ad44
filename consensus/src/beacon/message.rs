//! What the beacon signs, and checking a beacon signature.

use borsh::{BorshDeserialize, BorshSerialize};
use commonware_cryptography::bls12381::primitives::ops;
use game_rules::randomness::Randomness;
use serde::{Deserialize, Serialize};
use wallet::ChainId;

use super::keys::decode_g1;
use super::{BEACON_NAMESPACE, BeaconError, GroupKey, SIGNATURE_LENGTH, V};
use crate::encoding::encode;
use crate::hash::BlockHash;

/// The message the validators threshold-sign for a finalized height.
///
/// Sign it only once block `height` is finalized, and only for that block
/// (see the [module documentation](super)).
///
/// Canonical encoding (borsh, 80 bytes): `chain_id (32) ‖ epoch (u64 LE) ‖
/// height (u64 LE) ‖ block (32)`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct BeaconMessage {
    /// The chain.
    pub chain_id: ChainId,
    /// The validator-set epoch whose validators sign (the epoch of the
    /// block at `height`).
    pub epoch: u64,
    /// The finalized height.
    pub height: u64,
    /// The hash of the finalized block at `height`.
    pub block: BlockHash,
}

impl BeaconMessage {
    /// Length of the encoding.
    pub const ENCODED_LENGTH: usize = 80;

    /// The canonical 80-byte encoding (what the BLS signature covers, after
    /// the namespace).
    pub fn encode(&self) -> Vec<u8> {
        let bytes = encode(self);
        debug_assert_eq!(bytes.len(), BeaconMessage::ENCODED_LENGTH);
        bytes
    }
}

/// Checks a beacon signature σ: `signature` must be exactly 48 bytes, the
/// canonical compressed encoding of a G1 point in the subgroup other than
/// the identity, and a valid BLS signature of `message` under `group_key`
/// with [`BEACON_NAMESPACE`].
///
/// This is what the ledger (for every beacon entry in a block) and any
/// explorer call; it needs nothing but the epoch's group key. Because σ is
/// unique for (group key, message) and its encoding is canonical, at most
/// one byte string passes for a given message.
pub fn verify_beacon(
    group_key: &GroupKey,
    message: &BeaconMessage,
    signature: &[u8],
) -> Result<(), BeaconError> {
    let bytes: &[u8; SIGNATURE_LENGTH] =
        signature.try_into().map_err(|_| BeaconError::Malformed {
            what: "beacon signature",
            reason: format!("{} bytes, not {SIGNATURE_LENGTH}", signature.len()),
        })?;
    let sigma = decode_g1(bytes).map_err(|reason| BeaconError::Malformed {
        what: "beacon signature",
        reason,
    })?;
    ops::verify_message::<V>(
        group_key.point(),
        BEACON_NAMESPACE,
        &message.encode(),
        &sigma,
    )
    .map_err(|_| BeaconError::InvalidSignature {
        epoch: message.epoch,
        height: message.height,
    })
}

/// The randomness of a beacon signature:
/// `r = blake3("bitcraps/v1/randomness" ‖ σ)`
/// ([`Randomness::from_beacon_output`]). Verify σ first
/// ([`verify_beacon`]); this only hashes.
pub fn beacon_randomness(signature: &[u8]) -> Randomness {
    Randomness::from_beacon_output(signature)
}
