//! # The block consensus orders
//!
//! A [`ConsensusBlock`] is either the **anchor** — the chain's fixed
//! starting point, standing for the genesis — or a **proposed** block: the
//! simplex consensus context it was proposed in (round, leader, parent view
//! and parent digest) and our [`Block`].
//!
//! ```text
//! anchor   = 0x00 ‖ genesis hash [32]
//! proposed = 0x01 ‖ context (commonware codec) ‖ u32 BE length ‖ borsh(block)
//!
//! digest(anchor)   = BLAKE3-derive-key("bitcraps v1 consensus anchor", genesis hash)
//! digest(proposed) = BLAKE3-derive-key("bitcraps v1 consensus block",
//!                                      0x01 ‖ context ‖ block hash)
//! ```
//!
//! The digest commits to the context, as marshal's deferred verification
//! requires, and to the block through its header hash. The header commits to
//! the body through its list roots and counts, and decoding refuses a block
//! whose body does not match its header ([`Block::check_well_formed`]), so
//! one digest names exactly one encoding: a leader cannot send two bodies
//! under one digest. Decoding is canonical (`encode(decode(b)) == b` for
//! every accepted `b`), the block is bounded by the codec configuration (the
//! most bytes a block's borsh encoding may have) before it is read, and
//! nothing here panics on input.
//!
//! Engine heights are one more than block heights: the anchor is engine
//! height 0 and our block at height `h` is engine height `h + 1`.

use bytes::{Buf as _, BufMut};
use commonware_codec::{
    Buf, EncodeSize, Error as CodecError, FixedSize, MaxEncodeSize, Read, ReadExt, Write,
};
use commonware_consensus::types::Height;
use commonware_consensus::{BoundedBlock, CertifiableBlock, Heightable};
use commonware_cryptography::Digestible;

use super::{ConsensusContext, Digest};
use crate::block::{Block, MAX_BLOCK_BYTES};
use crate::hash::{BlockHash, Hash};

const ANCHOR_TAG: u8 = 0;
const PROPOSED_TAG: u8 = 1;
const ANCHOR_CONTEXT: &str = "bitcraps v1 consensus anchor";
const BLOCK_CONTEXT: &str = "bitcraps v1 consensus block";

/// What a [`ConsensusBlock`] holds.
// The anchor exists once per chain; every other value is `Proposed`, so
// boxing the context would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The chain's starting point: the genesis hash.
    Anchor(BlockHash),
    /// A proposed block and the consensus context it was proposed in.
    Proposed {
        /// Round, leader and parent (view, digest) of the proposal.
        context: ConsensusContext,
        /// The block.
        block: Box<Block>,
    },
}

/// The unit consensus orders: the anchor or a proposed block with its
/// context (encoding and digest in the [module documentation](self)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusBlock {
    kind: Kind,
    digest: Digest,
}

fn derive(context: &str, parts: &[&[u8]]) -> Digest {
    let mut hasher = blake3::Hasher::new_derive_key(context);
    for part in parts {
        hasher.update(part);
    }
    commonware_cryptography::blake3::Digest(*hasher.finalize().as_bytes())
}

impl ConsensusBlock {
    /// The anchor of the chain whose genesis hash is `genesis` (engine
    /// height 0; its digest is the first proposal's parent).
    pub fn anchor(genesis: BlockHash) -> ConsensusBlock {
        let digest = derive(ANCHOR_CONTEXT, &[genesis.as_bytes()]);
        ConsensusBlock {
            kind: Kind::Anchor(genesis),
            digest,
        }
    }

    /// A proposed block in its consensus context.
    pub fn proposed(context: ConsensusContext, block: Block) -> ConsensusBlock {
        let digest = Self::proposed_digest(&context, &block.header.hash());
        ConsensusBlock {
            kind: Kind::Proposed {
                context,
                block: Box::new(block),
            },
            digest,
        }
    }

    /// The digest of a proposed block with header hash `block_hash` in
    /// `context`.
    pub fn proposed_digest(context: &ConsensusContext, block_hash: &Hash) -> Digest {
        let context = commonware_codec::Encode::encode(context);
        derive(
            BLOCK_CONTEXT,
            &[&[PROPOSED_TAG], context.as_ref(), block_hash.as_bytes()],
        )
    }

    /// What it holds.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// Our block, or `None` for the anchor.
    pub fn block(&self) -> Option<&Block> {
        match &self.kind {
            Kind::Anchor(_) => None,
            Kind::Proposed { block, .. } => Some(block.as_ref()),
        }
    }

    /// The consensus context, or `None` for the anchor.
    pub fn consensus_context(&self) -> Option<&ConsensusContext> {
        match &self.kind {
            Kind::Anchor(_) => None,
            Kind::Proposed { context, .. } => Some(context),
        }
    }

    /// Our block's hash, or the genesis hash for the anchor: what a child's
    /// header names as its parent.
    pub fn block_hash(&self) -> BlockHash {
        match &self.kind {
            Kind::Anchor(genesis) => *genesis,
            Kind::Proposed { block, .. } => block.header.hash(),
        }
    }
}

impl Write for ConsensusBlock {
    fn write(&self, buf: &mut impl BufMut) {
        match &self.kind {
            Kind::Anchor(genesis) => {
                ANCHOR_TAG.write(buf);
                buf.put_slice(genesis.as_bytes());
            }
            Kind::Proposed { context, block } => {
                PROPOSED_TAG.write(buf);
                context.write(buf);
                let bytes = crate::encoding::encode(block);
                // Bounded by MAX_BLOCK_BYTES (16 MiB) when decoded; a block
                // built locally by `Block::assemble` is far below u32::MAX.
                (bytes.len() as u32).write(buf);
                buf.put_slice(&bytes);
            }
        }
    }
}

impl EncodeSize for ConsensusBlock {
    fn encode_size(&self) -> usize {
        match &self.kind {
            Kind::Anchor(_) => 1 + Hash::LENGTH,
            Kind::Proposed { context, block } => {
                1 + context.encode_size() + u32::SIZE + borsh::object_length(block).unwrap_or(0)
            }
        }
    }
}

impl Read for ConsensusBlock {
    /// The most bytes a block's borsh encoding may have (capped at
    /// [`MAX_BLOCK_BYTES`]).
    type Cfg = usize;

    fn read_cfg(buf: &mut impl Buf, max_block_bytes: &usize) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            ANCHOR_TAG => {
                if buf.remaining() < Hash::LENGTH {
                    return Err(CodecError::EndOfBuffer);
                }
                let mut genesis = [0u8; Hash::LENGTH];
                buf.copy_to_slice(&mut genesis);
                Ok(ConsensusBlock::anchor(Hash::new(genesis)))
            }
            PROPOSED_TAG => {
                let context = ConsensusContext::read(buf)?;
                let len = u32::read(buf)? as usize;
                if len > (*max_block_bytes).min(MAX_BLOCK_BYTES) {
                    return Err(CodecError::Invalid("ConsensusBlock", "block too large"));
                }
                if buf.remaining() < len {
                    return Err(CodecError::EndOfBuffer);
                }
                let mut bytes = vec![0u8; len];
                buf.copy_to_slice(&mut bytes);
                let block = Block::decode(&bytes)
                    .map_err(|_| CodecError::Invalid("ConsensusBlock", "block does not decode"))?;
                // Bind the body to the header (and so to the digest): counts
                // and roots must match.
                block
                    .check_well_formed(&block.header.chain_id)
                    .map_err(|_| CodecError::Invalid("ConsensusBlock", "block not well formed"))?;
                Ok(ConsensusBlock::proposed(context, block))
            }
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

impl Digestible for ConsensusBlock {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        self.digest
    }
}

impl Heightable for ConsensusBlock {
    fn height(&self) -> Height {
        match &self.kind {
            Kind::Anchor(_) => Height::zero(),
            Kind::Proposed { block, .. } => Height::new(block.header.height.saturating_add(1)),
        }
    }
}

impl commonware_consensus::Block for ConsensusBlock {
    fn parent(&self) -> Digest {
        match &self.kind {
            // The anchor has no parent; marshal never asks for it.
            Kind::Anchor(_) => self.digest,
            Kind::Proposed { context, .. } => context.parent.1,
        }
    }
}

impl CertifiableBlock for ConsensusBlock {
    type Context = ConsensusContext;

    fn context(&self) -> ConsensusContext {
        match &self.kind {
            Kind::Proposed { context, .. } => context.clone(),
            // Never certified: a stand-in that matches no real round.
            Kind::Anchor(_) => ConsensusContext {
                round: commonware_consensus::types::Round::zero(),
                leader: anchor_leader(),
                parent: (commonware_consensus::types::View::zero(), self.digest),
            },
        }
    }
}

impl BoundedBlock for ConsensusBlock {
    fn max_encode_size(max_block_bytes: &usize) -> usize {
        1 + ConsensusContext::MAX_ENCODE_SIZE + u32::SIZE + (*max_block_bytes).min(MAX_BLOCK_BYTES)
    }
}

/// A fixed key (ed25519 from seed 0), the anchor's stand-in leader, which
/// nothing verifies.
fn anchor_leader() -> commonware_cryptography::ed25519::PublicKey {
    use commonware_cryptography::Signer as _;
    commonware_cryptography::ed25519::PrivateKey::from_seed(0).public_key()
}
