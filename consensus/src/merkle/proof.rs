//! Membership and non-membership proofs, their encoding and verification.

use super::hash::{
    Digest, EMPTY_ROOT, KEY_BITS, bit, key_hash, leaf_hash, node_hash, same_prefix, value_hash,
};

/// Version byte of the encoded proof format.
pub const PROOF_VERSION: u8 = 1;

/// The most siblings a proof can have: one per level of a full-depth path.
pub const MAX_PROOF_SIBLINGS: usize = KEY_BITS;

/// The longest encoded proof, in bytes: version, terminal tag, a leaf (64),
/// the sibling count (2) and [`MAX_PROOF_SIBLINGS`] siblings of 32 bytes —
/// 8,260 bytes. [`Proof::from_bytes`] refuses anything longer before reading it.
pub const MAX_PROOF_LEN: usize = 1 + 1 + 64 + 2 + 32 * MAX_PROOF_SIBLINGS;

const TERMINAL_EMPTY: u8 = 0x00;
const TERMINAL_LEAF: u8 = 0x01;

/// The leaf where a proof's path ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofLeaf {
    /// The leaf's key path: the proven key's (membership) or another key's
    /// that shares the path down to the leaf (non-membership).
    pub key_hash: Digest,
    /// The hash of the leaf's value.
    pub value_hash: Digest,
}

/// A proof that a key has a given value, or is absent, under a state root.
///
/// It is the path from the root towards the key's path
/// ([`key_hash`]): the hashes of the siblings along it, and what the path ends
/// at — the key's own leaf (membership), another key's leaf sharing the path
/// so far, or an empty subtree (both non-membership). Built by
/// [`StateTree::prove`](super::StateTree::prove), checked by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    leaf: Option<ProofLeaf>,
    siblings: Vec<Digest>,
}

/// Why a proof was rejected: it could not be decoded, or it does not show
/// what was claimed under the given root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The encoded proof is longer than [`MAX_PROOF_LEN`].
    #[error("proof is {len} bytes, more than the maximum of {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// [`MAX_PROOF_LEN`].
        max: usize,
    },
    /// The encoded proof ends early.
    #[error("proof is truncated")]
    Truncated,
    /// The encoded proof has a version other than [`PROOF_VERSION`].
    #[error("unsupported proof version {0}")]
    UnsupportedVersion(u8),
    /// The encoded proof's terminal tag is neither empty (0) nor leaf (1).
    #[error("unknown proof terminal tag {0}")]
    UnknownTerminal(u8),
    /// The proof has more than [`MAX_PROOF_SIBLINGS`] siblings.
    #[error("proof has {0} siblings, more than the maximum of 256")]
    TooManySiblings(usize),
    /// The encoded proof has bytes after its last sibling.
    #[error("proof has {0} trailing bytes")]
    TrailingBytes(usize),
    /// A value was claimed but the proof shows the key absent.
    #[error("the proof shows the key absent")]
    KeyAbsent,
    /// Absence was claimed but the proof shows the key present.
    #[error("the proof shows the key present")]
    KeyPresent,
    /// The proof's leaf is for another key, not on the key's path.
    #[error("the proof is for another key")]
    KeyMismatch,
    /// The proof's leaf holds another value than the one claimed.
    #[error("the proof is for another value")]
    ValueMismatch,
    /// The proof's deepest sibling is an empty subtree, which a canonical
    /// tree never has next to the end of a path.
    #[error("the proof is not canonical")]
    NonCanonical,
    /// The proof does not hash to the expected root.
    #[error("the proof does not match the state root")]
    RootMismatch,
}

impl Proof {
    pub(crate) fn new(leaf: Option<ProofLeaf>, siblings: Vec<Digest>) -> Self {
        Proof { leaf, siblings }
    }

    /// The leaf the path ends at, or `None` if it ends at an empty subtree.
    pub fn leaf(&self) -> Option<&ProofLeaf> {
        self.leaf.as_ref()
    }

    /// The sibling hashes from the top of the tree down: `siblings()[i]` is
    /// the hash of the subtree at depth `i + 1` beside the path.
    pub fn siblings(&self) -> &[Digest] {
        &self.siblings
    }

    /// The depth at which the path ends (the number of siblings).
    pub fn depth(&self) -> usize {
        self.siblings.len()
    }

    /// The length of [`to_bytes`](Self::to_bytes)'s output.
    pub fn encoded_len(&self) -> usize {
        2 + if self.leaf.is_some() { 64 } else { 0 } + 2 + 32 * self.siblings.len()
    }

    /// The canonical encoding:
    ///
    /// ```text
    /// version u8 (= 1) ‖ terminal u8 (0 empty, 1 leaf)
    ///   ‖ [key_hash 32 ‖ value_hash 32, if leaf]
    ///   ‖ sibling count u16 BE (≤ 256) ‖ siblings 32 each, top down
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.push(PROOF_VERSION);
        match &self.leaf {
            None => out.push(TERMINAL_EMPTY),
            Some(leaf) => {
                out.push(TERMINAL_LEAF);
                out.extend_from_slice(&leaf.key_hash);
                out.extend_from_slice(&leaf.value_hash);
            }
        }
        // A proof holds at most 256 siblings (checked when built and decoded).
        let count = u16::try_from(self.siblings.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for sibling in &self.siblings {
            out.extend_from_slice(sibling);
        }
        out
    }

    /// Decodes [`to_bytes`](Self::to_bytes)'s encoding, from an untrusted
    /// source: the length is checked against [`MAX_PROOF_LEN`] before
    /// anything is read, and every field is checked. Never panics.
    ///
    /// # Errors
    ///
    /// [`ProofError::TooLong`], [`ProofError::Truncated`],
    /// [`ProofError::UnsupportedVersion`], [`ProofError::UnknownTerminal`],
    /// [`ProofError::TooManySiblings`] or [`ProofError::TrailingBytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Proof, ProofError> {
        if bytes.len() > MAX_PROOF_LEN {
            return Err(ProofError::TooLong {
                len: bytes.len(),
                max: MAX_PROOF_LEN,
            });
        }
        let mut reader = Reader(bytes);
        let version = reader.byte()?;
        if version != PROOF_VERSION {
            return Err(ProofError::UnsupportedVersion(version));
        }
        let leaf = match reader.byte()? {
            TERMINAL_EMPTY => None,
            TERMINAL_LEAF => Some(ProofLeaf {
                key_hash: reader.digest()?,
                value_hash: reader.digest()?,
            }),
            other => return Err(ProofError::UnknownTerminal(other)),
        };
        let count = usize::from(u16::from_be_bytes([reader.byte()?, reader.byte()?]));
        if count > MAX_PROOF_SIBLINGS {
            return Err(ProofError::TooManySiblings(count));
        }
        let mut siblings = Vec::with_capacity(count);
        for _ in 0..count {
            siblings.push(reader.digest()?);
        }
        if !reader.0.is_empty() {
            return Err(ProofError::TrailingBytes(reader.0.len()));
        }
        Ok(Proof { leaf, siblings })
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, ProofError> {
        let (&first, rest) = self.0.split_first().ok_or(ProofError::Truncated)?;
        self.0 = rest;
        Ok(first)
    }

    fn digest(&mut self) -> Result<Digest, ProofError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<32>()
            .ok_or(ProofError::Truncated)?;
        self.0 = rest;
        Ok(*head)
    }
}

/// Checks that under the state root `root`, `key` has the value `value`
/// (`Some`) or is absent (`None`), as `proof` claims. Needs nothing but the
/// root: this is what light clients and the explorer call.
///
/// Cost: one hash per sibling plus three (at most 260 BLAKE3 calls on 64-byte
/// inputs).
///
/// # Errors
///
/// [`ProofError::KeyAbsent`], [`ProofError::KeyPresent`],
/// [`ProofError::KeyMismatch`], [`ProofError::ValueMismatch`],
/// [`ProofError::NonCanonical`], [`ProofError::TooManySiblings`] or
/// [`ProofError::RootMismatch`].
pub fn verify(
    root: &Digest,
    key: &[u8],
    value: Option<&[u8]>,
    proof: &Proof,
) -> Result<(), ProofError> {
    verify_hashed(root, &key_hash(key), value.map(value_hash).as_ref(), proof)
}

/// [`verify`] with the key path and the value hash already computed.
pub(crate) fn verify_hashed(
    root: &Digest,
    path: &Digest,
    value_hash: Option<&Digest>,
    proof: &Proof,
) -> Result<(), ProofError> {
    let depth = proof.siblings.len();
    if depth > MAX_PROOF_SIBLINGS {
        return Err(ProofError::TooManySiblings(depth));
    }
    let mut hash = match (value_hash, &proof.leaf) {
        (Some(value_hash), Some(leaf)) => {
            if leaf.key_hash != *path {
                return Err(ProofError::KeyMismatch);
            }
            if leaf.value_hash != *value_hash {
                return Err(ProofError::ValueMismatch);
            }
            leaf_hash(&leaf.key_hash, &leaf.value_hash)
        }
        (Some(_), None) => return Err(ProofError::KeyAbsent),
        (None, Some(leaf)) => {
            if leaf.key_hash == *path {
                return Err(ProofError::KeyPresent);
            }
            if !same_prefix(&leaf.key_hash, path, depth) {
                return Err(ProofError::KeyMismatch);
            }
            leaf_hash(&leaf.key_hash, &leaf.value_hash)
        }
        (None, None) => EMPTY_ROOT,
    };
    if proof.siblings.last() == Some(&EMPTY_ROOT) {
        return Err(ProofError::NonCanonical);
    }
    for (index, sibling) in proof.siblings.iter().enumerate().rev() {
        hash = if bit(path, index) == 0 {
            node_hash(&hash, sibling)
        } else {
            node_hash(sibling, &hash)
        };
    }
    if hash == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}
