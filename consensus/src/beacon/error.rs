//! Why a beacon operation was refused.

use wallet::PublicKey;

use super::share::BeaconEvidence;

/// Why a beacon operation was refused.
///
/// For shares arriving by gossip, the variants fall in three groups:
///
/// - **proven misbehaviour** ([`BeaconError::Misbehaved`]): the sender's
///   own signature convicts it; keep the [`Misbehaviour`] as evidence, drop
///   the share, penalize the peer;
/// - **junk** ([`BeaconError::Malformed`], [`BeaconError::TooLarge`],
///   [`BeaconError::BadEnvelope`], [`BeaconError::UnknownSigner`]):
///   nobody can be blamed but the peer that relayed it; reject it;
/// - **not useful now** ([`BeaconError::WrongEpoch`],
///   [`BeaconError::HeightBelowWatermark`],
///   [`BeaconError::HeightTooFarAhead`], [`BeaconError::SignerExcluded`]):
///   honest peers can send these when they are ahead or behind; ignore it.
///
/// [`BeaconError::is_misbehaviour`] and [`BeaconError::is_junk`] tell them
/// apart.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BeaconError {
    /// Input longer than its kind can be; it was not looked at.
    #[error("{what} is {len} bytes, over the limit of {max}: refused before decoding")]
    TooLarge {
        /// The kind of input.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Bytes that are not a valid encoding of what they claim to be (wrong
    /// length, not a curve point, not in the subgroup, not canonical, …).
    #[error("{what} is malformed: {reason}")]
    Malformed {
        /// The kind of input.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A beacon signature σ that does not verify for its message under the
    /// group key.
    #[error("the beacon signature does not verify for epoch {epoch}, height {height}")]
    InvalidSignature {
        /// The message's epoch.
        epoch: u64,
        /// The message's height.
        height: u64,
    },
    /// A share or message for another epoch than the one at hand.
    #[error("beacon share is for epoch {found}, but this is epoch {expected}")]
    WrongEpoch {
        /// The epoch expected.
        expected: u64,
        /// The epoch found.
        found: u64,
    },
    /// A share index that is not one of the epoch's validators.
    #[error("beacon share index {index} is not a validator (the epoch has {validators})")]
    UnknownSigner {
        /// The index found.
        index: u32,
        /// How many validators the epoch has.
        validators: u32,
    },
    /// A share whose ed25519 envelope does not verify under the validator
    /// key of its index. Not evidence against that validator: anyone can
    /// write its index into a message.
    #[error("beacon share claims validator {index}, but its envelope signature does not verify")]
    BadEnvelope {
        /// The index claimed.
        index: u32,
    },
    /// A validator provably misbehaved; the evidence is attached.
    #[error("{0}")]
    Misbehaved(Box<Misbehaviour>),
    /// A share from a validator already convicted at this height; not
    /// looked at again.
    #[error("validator {index} already sent a bad beacon share for height {height}: ignored")]
    SignerExcluded {
        /// The height.
        height: u64,
        /// The validator's index.
        index: u32,
    },
    /// A share for a height already pruned.
    #[error("beacon share for height {height} is below the watermark {watermark}")]
    HeightBelowWatermark {
        /// The share's height.
        height: u64,
        /// The lowest height still collected.
        watermark: u64,
    },
    /// A share for a height too far above the watermark to be collected
    /// (the bound on the aggregator's memory).
    #[error("beacon share for height {height} is above the highest collected height {limit}")]
    HeightTooFarAhead {
        /// The share's height.
        height: u64,
        /// The highest height collected.
        limit: u64,
    },
    /// Key material that cannot serve the beacon (wrong threshold, wrong
    /// size, mismatched validator list, …).
    #[error("invalid beacon key material: {reason}")]
    InvalidKeys {
        /// What is wrong.
        reason: String,
    },
    /// Signing refused: the share is for another epoch than the message.
    #[error("this beacon share is for epoch {share_epoch}, not {message_epoch}")]
    SignerEpochMismatch {
        /// The signer's epoch.
        share_epoch: u64,
        /// The message's epoch.
        message_epoch: u64,
    },
    /// Interpolation failed or gave a σ that does not verify. With verified
    /// shares this cannot happen; it means a bug or corrupt key material.
    #[error("beacon recovery failed: {reason}")]
    RecoveryFailed {
        /// What failed.
        reason: String,
    },
    /// The DKG or resharing did not complete.
    #[error("beacon key generation failed: {reason}")]
    Dkg {
        /// Why.
        reason: String,
    },
}

impl BeaconError {
    /// The misbehaviour proven, if this is [`BeaconError::Misbehaved`].
    pub fn misbehaviour(&self) -> Option<&Misbehaviour> {
        match self {
            BeaconError::Misbehaved(m) => Some(m),
            _ => None,
        }
    }

    /// Whether this proves misbehaviour by a validator.
    pub fn is_misbehaviour(&self) -> bool {
        matches!(self, BeaconError::Misbehaved(_))
    }

    /// Whether the input is junk no honest peer would relay (see the type's
    /// documentation).
    pub fn is_junk(&self) -> bool {
        matches!(
            self,
            BeaconError::TooLarge { .. }
                | BeaconError::Malformed { .. }
                | BeaconError::BadEnvelope { .. }
                | BeaconError::UnknownSigner { .. }
        )
    }
}

/// Proof that a validator misbehaved in the beacon, and who it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misbehaviour {
    /// The validator's share index in the epoch.
    pub index: u32,
    /// The validator's ed25519 key, under which the evidence is signed.
    pub signer: PublicKey,
    /// The signed shares that prove it.
    pub evidence: BeaconEvidence,
}

impl std::fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.evidence {
            BeaconEvidence::InvalidShare(share) => write!(
                f,
                "validator {} ({}) signed an invalid beacon share for epoch {}, height {}",
                self.index,
                self.signer.address(),
                share.share.epoch,
                share.share.height
            ),
            BeaconEvidence::ConflictingShares(a, b) => write!(
                f,
                "validator {} ({}) signed beacon shares for two blocks at epoch {}, height {} \
                 ({} and {})",
                self.index,
                self.signer.address(),
                a.share.epoch,
                a.share.height,
                a.share.block,
                b.share.block
            ),
        }
    }
}
