//! Stored nodes and their positions.

use std::cmp::Ordering;
use std::fmt;

use super::hash::{Digest, EMPTY_ROOT, KEY_BITS, leaf_hash, node_hash};

/// Length of an encoded node: a tag byte and two 32-byte digests.
pub const NODE_LEN: usize = 65;

const TAG_LEAF: u8 = 0x00;
const TAG_INTERNAL: u8 = 0x01;

/// Longest encoded [`NodeKey`]: a 2-byte depth and a 32-byte path prefix.
pub const MAX_NODE_KEY_LEN: usize = 2 + 32;

/// A non-empty subtree as stored: a leaf or an internal node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    /// The only entry of its subtree.
    Leaf {
        key_hash: Digest,
        value_hash: Digest,
    },
    /// Two children's hashes; [`EMPTY_ROOT`] for an empty child. Never both
    /// empty, and never an empty child next to a leaf (that subtree is the
    /// leaf itself).
    Internal { left: Digest, right: Digest },
}

impl Node {
    pub(crate) fn hash(&self) -> Digest {
        match self {
            Node::Leaf {
                key_hash,
                value_hash,
            } => leaf_hash(key_hash, value_hash),
            Node::Internal { left, right } => node_hash(left, right),
        }
    }

    pub(crate) fn encode(&self) -> [u8; NODE_LEN] {
        let mut out = [0u8; NODE_LEN];
        let (tag, a, b) = match self {
            Node::Leaf {
                key_hash,
                value_hash,
            } => (TAG_LEAF, key_hash, value_hash),
            Node::Internal { left, right } => (TAG_INTERNAL, left, right),
        };
        out[0] = tag;
        out[1..33].copy_from_slice(a);
        out[33..].copy_from_slice(b);
        out
    }

    /// `None` unless `bytes` is a well-formed encoded node.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Node> {
        let bytes: &[u8; NODE_LEN] = bytes.try_into().ok()?;
        let a: Digest = bytes[1..33].try_into().ok()?;
        let b: Digest = bytes[33..].try_into().ok()?;
        match bytes[0] {
            TAG_LEAF => Some(Node::Leaf {
                key_hash: a,
                value_hash: b,
            }),
            TAG_INTERNAL if a == EMPTY_ROOT && b == EMPTY_ROOT => None,
            TAG_INTERNAL => Some(Node::Internal { left: a, right: b }),
            _ => None,
        }
    }

    /// The hash of an optional subtree ([`EMPTY_ROOT`] for `None`).
    pub(crate) fn hash_of(node: &Option<Node>) -> Digest {
        node.as_ref().map_or(EMPTY_ROOT, Node::hash)
    }
}

/// Where a node is stored: its depth and the first `depth` bits of the key
/// paths below it.
///
/// Encoding (see [`NodeKey::as_bytes`]): depth as a big-endian `u16`
/// (0 to 256) ‖ the first `depth` bits of the path, packed most significant
/// bit first into `⌈depth / 8⌉` bytes, the unused low bits of the last byte
/// zero. The root is `00 00`. Keys order (and compare) by these bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeKey {
    len: u8,
    bytes: [u8; MAX_NODE_KEY_LEN],
}

impl NodeKey {
    /// The root's position.
    pub const ROOT: NodeKey = NodeKey {
        len: 2,
        bytes: [0; MAX_NODE_KEY_LEN],
    };

    /// The position at `depth` (at most [`KEY_BITS`]) on `path`.
    pub(crate) fn new(depth: usize, path: &Digest) -> NodeKey {
        debug_assert!(depth <= KEY_BITS);
        let depth = depth.min(KEY_BITS);
        let prefix_len = depth.div_ceil(8);
        let mut bytes = [0u8; MAX_NODE_KEY_LEN];
        // depth ≤ 256 fits in a u16.
        bytes[..2].copy_from_slice(&(depth as u16).to_be_bytes());
        bytes[2..2 + prefix_len].copy_from_slice(&path[..prefix_len]);
        if !depth.is_multiple_of(8) {
            bytes[1 + prefix_len] &= 0xffu8 << (8 - depth % 8);
        }
        NodeKey {
            len: (2 + prefix_len) as u8,
            bytes,
        }
    }

    /// Parses an encoded key; `None` unless it is canonical (depth ≤ 256,
    /// exact length, unused bits zero).
    pub fn from_bytes(bytes: &[u8]) -> Option<NodeKey> {
        let depth_bytes: [u8; 2] = bytes.get(..2)?.try_into().ok()?;
        let depth = usize::from(u16::from_be_bytes(depth_bytes));
        if depth > KEY_BITS || bytes.len() != 2 + depth.div_ceil(8) {
            return None;
        }
        let mut path = [0u8; 32];
        path[..bytes.len() - 2].copy_from_slice(&bytes[2..]);
        let key = NodeKey::new(depth, &path);
        (key.as_bytes() == bytes).then_some(key)
    }

    /// The encoded key, 2 to [`MAX_NODE_KEY_LEN`] bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The node's depth (0 for the root).
    pub fn depth(&self) -> usize {
        usize::from(u16::from_be_bytes([self.bytes[0], self.bytes[1]]))
    }
}

impl Ord for NodeKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PartialOrd for NodeKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeKey({self})")
    }
}

/// Lower-case hex of the encoded key.
impl fmt::Display for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.as_bytes() {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}
