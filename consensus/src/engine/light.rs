//! Light verification: a finalized block checked with the group public key
//! alone.
//!
//! Consensus finalizes a [`ConsensusBlock`] digest, which commits to the
//! consensus context as well as to our block. So what proves a [`Block`]
//! final is a [`FinalityProof`]: the context the block was proposed in and
//! the finalization certificate. Its encoding (commonware codec) is the
//! `certificate` handed to [`super::Executor::finalized`]:
//!
//! ```text
//! FinalityProof = context (round, leader, parent view, parent digest)
//!               ‖ finalization (proposal: round, parent view, payload digest
//!                               ‖ threshold vote signature ‖ threshold seed signature)
//! ```

use bytes::BufMut;
use commonware_codec::{
    Buf, Copying, Decode as _, Encode as _, EncodeSize, Read, ReadExt as _, Write,
};
use commonware_cryptography::bls12381::primitives::variant::{MinSig, Variant};
use commonware_cryptography::certificate::Verifier as _;
use commonware_parallel::Sequential;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;

use super::block::ConsensusBlock;
use super::{ConsensusContext, EngineError, Finalization, Scheme};
use crate::block::Block;

/// What proves a block final: the consensus context it was proposed in and
/// the finalization certificate of the resulting [`ConsensusBlock`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalityProof {
    /// The consensus context the block was proposed in.
    pub context: ConsensusContext,
    /// The finalization certificate.
    pub finalization: Finalization,
}

impl FinalityProof {
    /// The proof's encoding (the `certificate` of
    /// [`super::Executor::finalized`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode().to_vec()
    }

    /// Decodes a proof from outside (canonical, no trailing bytes, bounded
    /// by its fixed-size fields).
    pub fn from_bytes(bytes: &[u8]) -> Result<FinalityProof, EngineError> {
        FinalityProof::decode_cfg(Copying(bytes), &())
            .map_err(|e| EngineError::BadCertificate(e.to_string()))
    }
}

impl Write for FinalityProof {
    fn write(&self, buf: &mut impl BufMut) {
        self.context.write(buf);
        self.finalization.write(buf);
    }
}

impl EncodeSize for FinalityProof {
    fn encode_size(&self) -> usize {
        self.context.encode_size() + self.finalization.encode_size()
    }
}

impl Read for FinalityProof {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, commonware_codec::Error> {
        let context = ConsensusContext::read(buf)?;
        let finalization =
            Finalization::read_cfg(buf, &Scheme::certificate_codec_config_unbounded())?;
        Ok(FinalityProof {
            context,
            finalization,
        })
    }
}

/// Checks that `certificate` (an encoded [`FinalityProof`]) proves `block`
/// finalized under `group_key` and `namespace` ([`super::namespace`] of the
/// chain): the certificate finalizes the digest of `block` in the proof's
/// context, in that context's round, and its threshold signature verifies.
/// Needs no committee, no state and no network.
///
/// The batch-verification coefficients come from a ChaCha20 generator
/// seeded with the hash of everything checked (Fiat–Shamir), so the check
/// is deterministic and the prover cannot choose them.
pub fn verify_finalized(
    group_key: &<MinSig as Variant>::Public,
    namespace: &[u8],
    block: &Block,
    certificate: &[u8],
) -> Result<(), EngineError> {
    let proof = FinalityProof::from_bytes(certificate)?;
    let digest = ConsensusBlock::proposed_digest(&proof.context, &block.header.hash());
    let proposal = &proof.finalization.proposal;
    if proposal.payload != digest {
        return Err(EngineError::WrongBlock {
            certified: proposal.payload.to_string(),
            block: digest.to_string(),
        });
    }
    if proposal.round != proof.context.round || proposal.parent != proof.context.parent.0 {
        return Err(EngineError::WrongRound {
            certified: proposal.round.to_string(),
            block: proof.context.round.to_string(),
        });
    }
    let scheme = Scheme::certificate_verifier(namespace, *group_key);
    let mut transcript = blake3::Hasher::new_derive_key("bitcraps v1 light verification");
    transcript.update(&group_key.encode());
    transcript.update(namespace);
    transcript.update(certificate);
    transcript.update(block.header.hash().as_bytes());
    let mut rng = ChaCha20Rng::from_seed(*transcript.finalize().as_bytes());
    if proof.finalization.verify(&mut rng, &scheme, &Sequential) {
        Ok(())
    } else {
        Err(EngineError::InvalidSignature)
    }
}
