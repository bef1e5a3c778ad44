//! What the network carries for a finalized block: the block and, when it
//! was finalized by its own certificate, its finality proof.
//!
//! ```text
//! FinalizedBlock = block (Block, borsh) ‖ proof (Option<bytes ≤ MAX_FINALITY_PROOF_BYTES>)
//! ```
//!
//! It is the payload of the block gossip topic and each item of a sync
//! response. A block without a proof was finalized through a descendant's
//! certificate; a follower accepts it only once a certified descendant
//! proves it by the chain of parent hashes. Decoding is bounded and
//! canonical ([`FinalizedBlock::decode`]); checking the proof is the chain
//! follower's job.

use borsh::{BorshDeserialize, BorshSerialize};
use consensus::block::{Block, MAX_BLOCK_BYTES};
use consensus::encoding::{BoundedBytes, DecodeError, decode, encode};

/// The largest finality proof carried (an encoded
/// `consensus::engine::FinalityProof` is a few hundred bytes).
pub const MAX_FINALITY_PROOF_BYTES: usize = 4096;

/// The largest encoded [`FinalizedBlock`].
pub const MAX_FINALIZED_BLOCK_BYTES: usize = MAX_BLOCK_BYTES + MAX_FINALITY_PROOF_BYTES + 16;

/// A finalized block and its finality proof, if it has its own.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct FinalizedBlock {
    /// The block.
    pub block: Block,
    /// The encoded finality proof, `None` for a block finalized through a
    /// descendant.
    pub proof: Option<BoundedBytes<MAX_FINALITY_PROOF_BYTES>>,
}

impl FinalizedBlock {
    /// A block with an optional proof; a proof over
    /// [`MAX_FINALITY_PROOF_BYTES`] is dropped (it cannot be a valid one).
    pub fn new(block: Block, proof: Option<&[u8]>) -> FinalizedBlock {
        FinalizedBlock {
            block,
            proof: proof.and_then(|p| BoundedBytes::from_slice(p).ok()),
        }
    }

    /// The proof's bytes.
    pub fn proof_bytes(&self) -> Option<&[u8]> {
        self.proof.as_deref()
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// The encoding of a block already encoded (as stored) and its proof,
    /// without decoding the block: the same bytes as
    /// [`FinalizedBlock::encode`]. A proof over
    /// [`MAX_FINALITY_PROOF_BYTES`] is left out.
    pub fn encode_parts(block: &[u8], proof: Option<&[u8]>) -> Vec<u8> {
        let proof = proof.filter(|p| p.len() <= MAX_FINALITY_PROOF_BYTES);
        let mut out = Vec::with_capacity(block.len() + 5 + proof.map_or(0, <[u8]>::len));
        out.extend_from_slice(block);
        match proof {
            None => out.push(0),
            Some(proof) => {
                out.push(1);
                // Bounded above, so the length fits in the u32 prefix.
                out.extend_from_slice(&(proof.len() as u32).to_le_bytes());
                out.extend_from_slice(proof);
            }
        }
        out
    }

    /// Decodes bytes from a peer: at most `max` bytes (checked first, and
    /// never above [`MAX_FINALIZED_BLOCK_BYTES`]), canonical, never panics.
    pub fn decode(bytes: &[u8], max: usize) -> Result<FinalizedBlock, DecodeError> {
        decode("finalized block", bytes, max.min(MAX_FINALIZED_BLOCK_BYTES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consensus::block::BlockTemplate;
    use consensus::hash::Hash;
    use wallet::{ChainId, Keypair};

    fn block() -> Block {
        Block::assemble(
            BlockTemplate {
                chain_id: ChainId::new([1; 32]),
                height: 3,
                view: 4,
                parent: Hash::ZERO,
                timestamp_ms: 5,
                proposer: Keypair::from_secret_bytes(&[2; 32]).public_key(),
                parent_state_root: Hash::ZERO,
            },
            Vec::new(),
            Vec::new(),
        )
        .unwrap()
    }

    #[test]
    fn parts_encode_like_the_whole_and_decode_bounded() {
        for proof in [None, Some(&[7u8; 300][..])] {
            let whole = FinalizedBlock::new(block(), proof);
            let bytes = FinalizedBlock::encode_parts(&block().encode(), proof);
            assert_eq!(bytes, whole.encode());
            assert_eq!(FinalizedBlock::decode(&bytes, usize::MAX).unwrap(), whole);
            assert!(FinalizedBlock::decode(&bytes, bytes.len() - 1).is_err());
            assert!(FinalizedBlock::decode(&bytes[..bytes.len() - 1], usize::MAX).is_err());
        }
        let too_long = vec![0u8; MAX_FINALITY_PROOF_BYTES + 1];
        assert_eq!(FinalizedBlock::new(block(), Some(&too_long)).proof, None);
        assert_eq!(
            FinalizedBlock::encode_parts(&block().encode(), Some(&too_long)),
            FinalizedBlock::new(block(), None).encode()
        );
    }
}
