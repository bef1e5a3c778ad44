//! Signing shares, the signed envelope they travel in, and evidence.

use borsh::{BorshDeserialize, BorshSerialize};
use commonware_codec::EncodeFixed;
use commonware_cryptography::bls12381::primitives::ops::threshold;
use wallet::{ChainId, Keypair, PublicKey, SignDomain, Signature};

use super::keys::SecretShare;
use super::{BEACON_NAMESPACE, BeaconError, BeaconMessage, PublicSharing, SIGNATURE_LENGTH, V};
use crate::encoding::{DecodeError, decode, encode};
use crate::hash::BlockHash;

/// The wallet signing domain of share envelopes.
///
/// The wallet signing domain of share envelopes: its own tag, so an envelope
/// signature is never valid as a vote, a transaction or anything else.
pub const SHARE_SIGN_DOMAIN: SignDomain = SignDomain::BeaconShare;

/// The prefix of the message an envelope signs (see
/// [`SignedBeaconShare::signing_message`]).
pub const SHARE_ENVELOPE_TAG: &[u8] = b"bitcraps beacon share v1\0";

/// One validator's partial signature of one height's [`BeaconMessage`].
///
/// The chain id is not carried: the envelope's signature and the partial
/// both cover it, so a share is only valid on its chain.
///
/// Encoding (borsh, 100 bytes): `epoch (u64 LE) ‖ height (u64 LE) ‖
/// block (32) ‖ index (u32 LE) ‖ partial (48, compressed G1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
pub struct BeaconShare {
    /// The epoch whose sharing the partial belongs to.
    pub epoch: u64,
    /// The finalized height signed.
    pub height: u64,
    /// The finalized block signed.
    pub block: BlockHash,
    /// The signer's share index (its position in the epoch's validator
    /// set).
    pub index: u32,
    /// The partial signature: a compressed G1 point, kept as bytes so that
    /// a signed but undecodable partial is still evidence.
    pub partial: [u8; SIGNATURE_LENGTH],
}

impl BeaconShare {
    /// Length of the encoding.
    pub const ENCODED_LENGTH: usize = 100;

    /// The message this share claims to sign, on chain `chain_id`.
    pub const fn message(&self, chain_id: ChainId) -> BeaconMessage {
        BeaconMessage {
            chain_id,
            epoch: self.epoch,
            height: self.height,
            block: self.block,
        }
    }

    /// Signs the share into its envelope with the validator's ed25519 key.
    pub fn seal(self, chain_id: &ChainId, keypair: &Keypair) -> SignedBeaconShare {
        let signature = keypair.sign(
            SHARE_SIGN_DOMAIN,
            chain_id,
            &SignedBeaconShare::message_of(&self),
        );
        SignedBeaconShare {
            share: self,
            signature,
        }
    }
}

/// A [`BeaconShare`] signed by its validator's ed25519 key: what is
/// gossiped, and what convicts a validator of a bad share.
///
/// Encoding (borsh, exactly [`SignedBeaconShare::ENCODED_LENGTH`] = 164
/// bytes): the share ‖ the 64-byte signature.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SignedBeaconShare {
    /// The share.
    pub share: BeaconShare,
    /// The validator's ed25519 signature of
    /// [`SignedBeaconShare::signing_message`] under [`SHARE_SIGN_DOMAIN`].
    pub signature: Signature,
}

impl SignedBeaconShare {
    /// Length of the encoding.
    pub const ENCODED_LENGTH: usize = BeaconShare::ENCODED_LENGTH + Signature::LENGTH;

    fn message_of(share: &BeaconShare) -> Vec<u8> {
        let mut message = SHARE_ENVELOPE_TAG.to_vec();
        message.extend_from_slice(&encode(share));
        message
    }

    /// The message the envelope signs: [`SHARE_ENVELOPE_TAG`] ‖ borsh of
    /// the share (the wallet adds the domain and the chain id).
    pub fn signing_message(&self) -> Vec<u8> {
        SignedBeaconShare::message_of(&self.share)
    }

    /// Whether the envelope is `signer`'s signature on chain `chain_id`
    /// (`wallet::PublicKey::verify`).
    pub fn verify_envelope(&self, chain_id: &ChainId, signer: &PublicKey) -> bool {
        signer
            .verify(
                SHARE_SIGN_DOMAIN,
                chain_id,
                &self.signing_message(),
                &self.signature,
            )
            .is_ok()
    }

    /// Whether the partial is a valid partial signature of the share's
    /// message on chain `chain_id` under `sharing` (the share's epoch's).
    pub fn verify_partial(&self, chain_id: ChainId, sharing: &PublicSharing) -> bool {
        sharing.verify_partial(
            &self.share.message(chain_id).encode(),
            self.share.index,
            &self.share.partial,
        )
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a share from outside (gossip): the length is checked before
    /// anything else, then the layout; never panics. The envelope and the
    /// partial are not verified here.
    pub fn decode(bytes: &[u8]) -> Result<SignedBeaconShare, BeaconError> {
        decode::<SignedBeaconShare>("beacon share", bytes, SignedBeaconShare::ENCODED_LENGTH)
            .map_err(|e| match e {
                DecodeError::TooLarge { what, len, max } => {
                    BeaconError::TooLarge { what, len, max }
                }
                other => BeaconError::Malformed {
                    what: "beacon share",
                    reason: other.to_string(),
                },
            })
    }
}

/// Proof that a validator misbehaved in the beacon, checkable by anyone
/// with the epoch's [`PublicSharing`] and the validator's ed25519 key
/// ([`BeaconEvidence::verify`]).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum BeaconEvidence {
    /// A share, signed by its validator, whose partial signature is not
    /// valid for its message.
    InvalidShare(SignedBeaconShare),
    /// Two shares, both signed by one validator, for two different blocks
    /// at one height of one epoch. An honest validator signs only the one
    /// finalized block of a height. The share with the smaller block hash
    /// comes first.
    ConflictingShares(SignedBeaconShare, SignedBeaconShare),
}

impl BeaconEvidence {
    /// Conflicting-shares evidence in its canonical order.
    pub(crate) fn conflicting(a: SignedBeaconShare, b: SignedBeaconShare) -> BeaconEvidence {
        if a.share.block <= b.share.block {
            BeaconEvidence::ConflictingShares(a, b)
        } else {
            BeaconEvidence::ConflictingShares(b, a)
        }
    }

    /// The share index of the accused validator.
    pub const fn index(&self) -> u32 {
        match self {
            BeaconEvidence::InvalidShare(s) | BeaconEvidence::ConflictingShares(s, _) => {
                s.share.index
            }
        }
    }

    /// The epoch of the shares.
    pub const fn epoch(&self) -> u64 {
        match self {
            BeaconEvidence::InvalidShare(s) | BeaconEvidence::ConflictingShares(s, _) => {
                s.share.epoch
            }
        }
    }

    /// The height of the shares.
    pub const fn height(&self) -> u64 {
        match self {
            BeaconEvidence::InvalidShare(s) | BeaconEvidence::ConflictingShares(s, _) => {
                s.share.height
            }
        }
    }

    /// Whether this proves that the validator with key `signer`, holding
    /// share [`BeaconEvidence::index`] of `sharing` (the sharing of epoch
    /// [`BeaconEvidence::epoch`]), misbehaved on chain `chain_id`.
    ///
    /// The caller looks up `sharing` and `signer` from the epoch and the
    /// index; this checks everything else: every envelope verifies under
    /// `signer`, and the partial is invalid, or the two shares are for the
    /// same epoch, height and index but different blocks.
    pub fn verify(&self, chain_id: &ChainId, sharing: &PublicSharing, signer: &PublicKey) -> bool {
        match self {
            BeaconEvidence::InvalidShare(s) => {
                s.verify_envelope(chain_id, signer) && !s.verify_partial(*chain_id, sharing)
            }
            BeaconEvidence::ConflictingShares(a, b) => {
                a.share.epoch == b.share.epoch
                    && a.share.height == b.share.height
                    && a.share.index == b.share.index
                    && a.share.block < b.share.block
                    && a.verify_envelope(chain_id, signer)
                    && b.verify_envelope(chain_id, signer)
            }
        }
    }
}

/// A validator's beacon signer for one epoch: its [`SecretShare`] of the
/// epoch's key.
///
/// The caller must sign a height only after it is finalized, only its
/// finalized block, and never two blocks at one height (that is
/// [`BeaconEvidence::ConflictingShares`]); persist what was signed if the
/// node can restart mid-height.
#[derive(Debug)]
pub struct BeaconSigner {
    epoch: u64,
    share: SecretShare,
}

impl BeaconSigner {
    /// A signer for `epoch` with `share`, which must belong to `sharing`
    /// (the epoch's): a share that does not would sign invalid partials,
    /// which are evidence against this validator.
    pub fn new(
        epoch: u64,
        share: SecretShare,
        sharing: &PublicSharing,
    ) -> Result<BeaconSigner, BeaconError> {
        if !sharing.holds(&share) {
            return Err(BeaconError::InvalidKeys {
                reason: format!(
                    "secret share {} is not a share of the epoch {epoch} sharing",
                    share.index()
                ),
            });
        }
        Ok(BeaconSigner { epoch, share })
    }

    /// The epoch.
    pub const fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Signs for `epoch` from now on, with the same share: only for an
    /// epoch that keeps this epoch's sharing (no resharing between them),
    /// or its partials would be invalid — evidence against this validator.
    pub fn set_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
    }

    /// The share index.
    pub const fn index(&self) -> u32 {
        self.share.index()
    }

    /// The share itself (a resharing dealer deals it to the next set).
    pub(crate) const fn secret(&self) -> &SecretShare {
        &self.share
    }

    /// The partial signature of `message`; refuses a message of another
    /// epoch.
    pub fn sign(&self, message: &BeaconMessage) -> Result<BeaconShare, BeaconError> {
        if message.epoch != self.epoch {
            return Err(BeaconError::SignerEpochMismatch {
                share_epoch: self.epoch,
                message_epoch: message.epoch,
            });
        }
        let partial =
            threshold::sign_message::<V>(self.share.share(), BEACON_NAMESPACE, &message.encode());
        Ok(BeaconShare {
            epoch: message.epoch,
            height: message.height,
            block: message.block,
            index: self.index(),
            partial: partial.value.encode_fixed(),
        })
    }

    /// [`BeaconSigner::sign`], then [`BeaconShare::seal`] with the
    /// validator's ed25519 key: the share ready to gossip.
    pub fn sign_sealed(
        &self,
        message: &BeaconMessage,
        keypair: &Keypair,
    ) -> Result<SignedBeaconShare, BeaconError> {
        Ok(self.sign(message)?.seal(&message.chain_id, keypair))
    }
}
