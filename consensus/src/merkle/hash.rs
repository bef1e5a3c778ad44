//! The state tree's hashing domains and key paths.

/// A 32-byte BLAKE3 digest: a state root, a node hash, a key hash or a value
/// hash.
pub type Digest = [u8; 32];

/// The root of the empty tree, and the hash of every empty subtree: 32 zero
/// bytes. It is not the output of any of the tree's hash functions (finding an
/// input that hashes to it would break BLAKE3).
pub const EMPTY_ROOT: Digest = [0; 32];

/// Context string of [`key_hash`].
pub const KEY_CONTEXT: &str = "bitcraps v1 state tree key";
/// Context string of [`value_hash`].
pub const VALUE_CONTEXT: &str = "bitcraps v1 state tree value";
/// Context string of a leaf's hash (input: key hash ‖ value hash).
pub const LEAF_CONTEXT: &str = "bitcraps v1 state tree leaf";
/// Context string of an internal node's hash (input: left ‖ right).
pub const NODE_CONTEXT: &str = "bitcraps v1 state tree node";

/// The number of bits in a key path: leaves sit at depths `0..=KEY_BITS`.
pub const KEY_BITS: usize = 256;

fn derive(context: &str, parts: &[&[u8]]) -> Digest {
    let mut hasher = blake3::Hasher::new_derive_key(context);
    for part in parts {
        hasher.update(part);
    }
    *hasher.finalize().as_bytes()
}

/// The path of a state key in the tree: `BLAKE3-derive-key(KEY_CONTEXT, key)`.
pub fn key_hash(key: &[u8]) -> Digest {
    derive(KEY_CONTEXT, &[key])
}

/// The hash of a state value as stored in its leaf:
/// `BLAKE3-derive-key(VALUE_CONTEXT, value)`.
pub fn value_hash(value: &[u8]) -> Digest {
    derive(VALUE_CONTEXT, &[value])
}

/// The hash of a leaf: `BLAKE3-derive-key(LEAF_CONTEXT, key_hash ‖ value_hash)`.
pub fn leaf_hash(key_hash: &Digest, value_hash: &Digest) -> Digest {
    derive(LEAF_CONTEXT, &[key_hash, value_hash])
}

/// The hash of an internal node: `BLAKE3-derive-key(NODE_CONTEXT, left ‖ right)`.
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    derive(NODE_CONTEXT, &[left, right])
}

/// Bit `index` of a key path, most significant bit of byte 0 first: 0 means
/// the left child, 1 the right. `index` must be below [`KEY_BITS`].
pub(crate) fn bit(path: &Digest, index: usize) -> u8 {
    (path[index / 8] >> (7 - index % 8)) & 1
}

/// `path` with bit `index` inverted (the sibling's side at depth `index + 1`).
pub(crate) fn flip_bit(path: &Digest, index: usize) -> Digest {
    let mut out = *path;
    out[index / 8] ^= 0x80 >> (index % 8);
    out
}

/// Whether `a` and `b` agree on their first `bits` bits (`bits` ≤ [`KEY_BITS`]).
pub(crate) fn same_prefix(a: &Digest, b: &Digest, bits: usize) -> bool {
    let whole = bits / 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    let rest = bits % 8;
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        (a[whole] ^ b[whole]) & mask == 0
    }
}
