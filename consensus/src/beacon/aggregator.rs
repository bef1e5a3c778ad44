//! Collecting shares into beacon signatures.

use std::collections::{BTreeMap, BTreeSet};

use commonware_codec::EncodeFixed;
use commonware_cryptography::bls12381::primitives::ops::threshold;
use commonware_cryptography::bls12381::primitives::variant::PartialSignature;
use commonware_parallel::Sequential;
use commonware_utils::Participant;
use game_rules::randomness::Randomness;
use wallet::{ChainId, PublicKey};

use super::keys::decode_g1;
use super::{
    BeaconError, BeaconEvidence, BeaconMessage, Misbehaviour, PublicSharing, SIGNATURE_LENGTH,
    SignedBeaconShare, V, verify_beacon,
};
use crate::hash::BlockHash;

/// The default number of heights, from the watermark up, for which an
/// aggregator collects shares.
pub const DEFAULT_HEIGHT_WINDOW: u64 = 256;

/// A beacon signature recovered from `t` shares and verified against the
/// group key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveredBeacon {
    /// The message signed (the finalized block it is for).
    pub message: BeaconMessage,
    /// σ: 48 bytes, canonical; what a block's beacon entry carries.
    pub signature: [u8; SIGNATURE_LENGTH],
}

impl RecoveredBeacon {
    /// The randomness `r` of σ ([`super::beacon_randomness`]).
    pub fn randomness(&self) -> Randomness {
        Randomness::from_beacon_output(&self.signature)
    }
}

/// What is known about one height.
#[derive(Default)]
struct HeightState {
    /// The first valid share of each validator (by index).
    shares: BTreeMap<u32, SignedBeaconShare>,
    /// Validators convicted at this height; their shares are not looked at
    /// again.
    excluded: BTreeSet<u32>,
    /// Evidence found at this height and not yet taken.
    evidence: Vec<Misbehaviour>,
    /// σ, once recovered.
    recovered: Option<RecoveredBeacon>,
}

/// Collects one epoch's beacon shares and recovers σ for each height.
///
/// For each share, [`BeaconAggregator::add`]:
///
/// 1. refuses another epoch, a height outside
///    `[watermark, watermark + window)`, an unknown index;
/// 2. ignores it if σ for its height is already recovered or it repeats a
///    share already held;
/// 3. verifies the ed25519 envelope under the index's validator key (a
///    failure is [`BeaconError::BadEnvelope`], not evidence), then the
///    partial signature against the public sharing; an invalid partial, or
///    a valid one for another block than the validator's earlier share at
///    that height, is [`BeaconError::Misbehaved`] with the evidence, which
///    the aggregator also keeps ([`BeaconAggregator::take_evidence`]), and
///    the validator's further shares at that height are ignored;
/// 4. once `t` valid shares for one block of a height are held,
///    interpolates σ, verifies it against the group key (so a σ it returns
///    always passes [`verify_beacon`]), returns it once, and frees the
///    height's shares.
///
/// Memory is bounded: at most `window` heights, each with at most one share
/// and one piece of evidence per validator. The caller moves the watermark
/// up with [`BeaconAggregator::prune_below`] (for example past heights
/// whose σ is recorded in a finalized block, or that were voided).
///
/// Which block to sign is not the aggregator's business: honest validators
/// only sign the finalized block, so only it can gather `t` shares; the
/// caller should still check that a recovered σ is for its finalized block.
pub struct BeaconAggregator {
    chain_id: ChainId,
    epoch: u64,
    sharing: PublicSharing,
    signers: Vec<PublicKey>,
    watermark: u64,
    window: u64,
    heights: BTreeMap<u64, HeightState>,
}

impl BeaconAggregator {
    /// An aggregator for `epoch` on chain `chain_id`, with the epoch's
    /// public `sharing` and `signers[i]`, the ed25519 key of the validator
    /// holding share `i` (one per participant, no repeats). The watermark
    /// starts at 0 and the window at [`DEFAULT_HEIGHT_WINDOW`].
    pub fn new(
        chain_id: ChainId,
        epoch: u64,
        sharing: PublicSharing,
        signers: Vec<PublicKey>,
    ) -> Result<BeaconAggregator, BeaconError> {
        if signers.len() != sharing.participants() as usize {
            return Err(BeaconError::InvalidKeys {
                reason: format!(
                    "{} validator keys for a sharing among {}",
                    signers.len(),
                    sharing.participants()
                ),
            });
        }
        let distinct: BTreeSet<[u8; 32]> = signers.iter().map(PublicKey::to_bytes).collect();
        if distinct.len() != signers.len() {
            return Err(BeaconError::InvalidKeys {
                reason: "a validator key is listed twice".into(),
            });
        }
        Ok(BeaconAggregator {
            chain_id,
            epoch,
            sharing,
            signers,
            watermark: 0,
            window: DEFAULT_HEIGHT_WINDOW,
            heights: BTreeMap::new(),
        })
    }

    /// An empty aggregator for `epoch` with this one's chain, sharing,
    /// signers, window and watermark: for an epoch that keeps the sharing
    /// (no resharing between them).
    pub fn for_epoch(&self, epoch: u64) -> BeaconAggregator {
        BeaconAggregator {
            chain_id: self.chain_id,
            epoch,
            sharing: self.sharing.clone(),
            signers: self.signers.clone(),
            watermark: self.watermark,
            window: self.window,
            heights: BTreeMap::new(),
        }
    }

    /// Collects shares for `window` heights from the watermark (at least 1).
    pub fn with_height_window(mut self, window: u64) -> BeaconAggregator {
        self.window = window.max(1);
        self
    }

    /// The epoch.
    pub const fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The epoch's public sharing.
    pub const fn sharing(&self) -> &PublicSharing {
        &self.sharing
    }

    /// How many valid shares recover σ (`t`).
    pub fn threshold(&self) -> u32 {
        self.sharing.threshold()
    }

    /// The lowest height collected.
    pub const fn watermark(&self) -> u64 {
        self.watermark
    }

    /// The highest height collected.
    pub const fn limit(&self) -> u64 {
        self.watermark.saturating_add(self.window - 1)
    }

    /// Forgets every height below `height` (shares, σ, untaken evidence)
    /// and refuses shares for them from now on. The watermark never goes
    /// down.
    pub fn prune_below(&mut self, height: u64) {
        if height <= self.watermark {
            return;
        }
        self.watermark = height;
        self.heights = self.heights.split_off(&height);
    }

    /// σ for `height`, if recovered and not pruned.
    pub fn recovered(&self, height: u64) -> Option<&RecoveredBeacon> {
        self.heights.get(&height)?.recovered.as_ref()
    }

    /// How many valid shares for `block` at `height` are held (0 once σ is
    /// recovered).
    pub fn valid_shares(&self, height: u64, block: &BlockHash) -> usize {
        self.heights.get(&height).map_or(0, |state| {
            state
                .shares
                .values()
                .filter(|s| s.share.block == *block)
                .count()
        })
    }

    /// Takes all evidence found so far (each piece is also returned once,
    /// in the error of the [`BeaconAggregator::add`] that found it).
    pub fn take_evidence(&mut self) -> Vec<Misbehaviour> {
        self.heights
            .values_mut()
            .flat_map(|state| std::mem::take(&mut state.evidence))
            .collect()
    }

    /// [`SignedBeaconShare::decode`], then [`BeaconAggregator::add`]: for
    /// bytes straight from gossip.
    pub fn add_bytes(&mut self, bytes: &[u8]) -> Result<Option<RecoveredBeacon>, BeaconError> {
        self.add(SignedBeaconShare::decode(bytes)?)
    }

    /// Adds one share (see the type's documentation). `Ok(Some(σ))` the
    /// first time a height's σ is recovered, `Ok(None)` when the share was
    /// accepted or ignored without completing a height.
    pub fn add(
        &mut self,
        signed: SignedBeaconShare,
    ) -> Result<Option<RecoveredBeacon>, BeaconError> {
        let share = signed.share;
        if share.epoch != self.epoch {
            return Err(BeaconError::WrongEpoch {
                expected: self.epoch,
                found: share.epoch,
            });
        }
        if share.height < self.watermark {
            return Err(BeaconError::HeightBelowWatermark {
                height: share.height,
                watermark: self.watermark,
            });
        }
        if share.height > self.limit() {
            return Err(BeaconError::HeightTooFarAhead {
                height: share.height,
                limit: self.limit(),
            });
        }
        let signer = *self
            .signers
            .get(share.index as usize)
            .ok_or(BeaconError::UnknownSigner {
                index: share.index,
                validators: self.signers.len() as u32,
            })?;
        let earlier = match self.heights.get(&share.height) {
            Some(state) => {
                if state.recovered.is_some() {
                    return Ok(None);
                }
                if state.excluded.contains(&share.index) {
                    return Err(BeaconError::SignerExcluded {
                        height: share.height,
                        index: share.index,
                    });
                }
                match state.shares.get(&share.index) {
                    Some(earlier) if earlier.share == share => return Ok(None),
                    Some(earlier) => Some(earlier.clone()),
                    None => None,
                }
            }
            None => None,
        };
        if !signed.verify_envelope(&self.chain_id, &signer) {
            return Err(BeaconError::BadEnvelope { index: share.index });
        }
        let evidence = if !signed.verify_partial(self.chain_id, &self.sharing) {
            BeaconEvidence::InvalidShare(signed)
        } else {
            match earlier {
                Some(earlier) if earlier.share.block != share.block => {
                    BeaconEvidence::conflicting(earlier, signed)
                }
                // A valid share identical to one held but for the envelope
                // signature (ed25519 allows several): nothing new.
                Some(_) => return Ok(None),
                None => {
                    let state = self.heights.entry(share.height).or_default();
                    state.shares.insert(share.index, signed);
                    return self.try_recover(share.height, share.block);
                }
            }
        };
        let misbehaviour = Misbehaviour {
            index: share.index,
            signer,
            evidence,
        };
        let state = self.heights.entry(share.height).or_default();
        state.excluded.insert(share.index);
        state.evidence.push(misbehaviour.clone());
        Err(BeaconError::Misbehaved(Box::new(misbehaviour)))
    }

    /// Recovers σ for `block` at `height` if `t` valid shares are held.
    fn try_recover(
        &mut self,
        height: u64,
        block: BlockHash,
    ) -> Result<Option<RecoveredBeacon>, BeaconError> {
        let t = self.sharing.threshold() as usize;
        let Some(state) = self.heights.get_mut(&height) else {
            return Ok(None);
        };
        let partials: Vec<PartialSignature<V>> = state
            .shares
            .values()
            .filter(|s| s.share.block == block)
            .take(t)
            .map(|s| {
                decode_g1(&s.share.partial).map(|value| PartialSignature {
                    index: Participant::new(s.share.index),
                    value,
                })
            })
            .collect::<Result<_, _>>()
            .map_err(|reason| BeaconError::RecoveryFailed { reason })?;
        if partials.len() < t {
            return Ok(None);
        }
        let sigma = threshold::recover::<V, _>(self.sharing.sharing(), &partials, &Sequential)
            .map_err(|e| BeaconError::RecoveryFailed {
                reason: e.to_string(),
            })?;
        let message = BeaconMessage {
            chain_id: self.chain_id,
            epoch: self.epoch,
            height,
            block,
        };
        let signature: [u8; SIGNATURE_LENGTH] = sigma.encode_fixed();
        verify_beacon(self.sharing.group_key(), &message, &signature).map_err(|e| {
            BeaconError::RecoveryFailed {
                reason: format!("the interpolated signature does not verify: {e}"),
            }
        })?;
        let recovered = RecoveredBeacon { message, signature };
        state.shares.clear();
        state.recovered = Some(recovered.clone());
        Ok(Some(recovered))
    }
}

impl std::fmt::Debug for BeaconAggregator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeaconAggregator")
            .field("epoch", &self.epoch)
            .field("participants", &self.sharing.participants())
            .field("threshold", &self.sharing.threshold())
            .field("watermark", &self.watermark)
            .field("window", &self.window)
            .field("heights", &self.heights.len())
            .finish()
    }
}
