//! # Hashes and hashing domains
//!
//! Every consensus hash is 32 bytes of BLAKE3 in its **key derivation mode**
//! (`blake3::Hasher::new_derive_key(context)`), with one context string per
//! kind of thing hashed ([`HashDomain`]). BLAKE3 derives a distinct key from
//! each context, so a hash made in one domain is never a hash in another: a
//! transaction hash cannot collide with a block hash, or a Merkle leaf with a
//! Merkle node, whatever the bytes.
//!
//! | domain | context string | input |
//! |---|---|---|
//! | [`HashDomain::SignedTransaction`] | `bitcraps v1 signed transaction` | borsh of the signed transaction |
//! | [`HashDomain::BlockHeader`] | `bitcraps v1 block header` | borsh of the block header |
//! | [`HashDomain::BeaconEntry`] | `bitcraps v1 beacon entry` | borsh of the beacon entry |
//! | [`HashDomain::Genesis`] | `bitcraps v1 chain id from genesis` | borsh of the genesis |
//! | [`HashDomain::Receipt`] | `bitcraps v1 receipt` | borsh of the receipt |
//! | [`HashDomain::TransactionsLeaf`] | `bitcraps v1 transactions root leaf` | a transaction hash |
//! | [`HashDomain::TransactionsNode`] | `bitcraps v1 transactions root node` | left ‖ right, or nothing for the empty list |
//! | [`HashDomain::BeaconLeaf`] | `bitcraps v1 beacon entries root leaf` | a beacon entry hash |
//! | [`HashDomain::BeaconNode`] | `bitcraps v1 beacon entries root node` | left ‖ right, or nothing for the empty list |
//!
//! ## List roots (Merkle trees over a block's lists)
//!
//! A block commits to its transactions and its beacon entries with a binary
//! Merkle tree of the shape of RFC 6962 / RFC 9162 §2.1 (Certificate
//! Transparency), with that RFC's `0x00`/`0x01` prefixes replaced by the leaf
//! and node domains of the list ([`ListKind`]). For the item hashes
//! `D = [d_0, …, d_{n−1}]`:
//!
//! ```text
//! root([])      = H_node("")                          (the empty list)
//! root([d])     = H_leaf(d)
//! root(D), n>1  = H_node(root(D[0..k]) ‖ root(D[k..n]))  k = the largest power of two < n
//! ```
//!
//! An unbalanced last subtree is not padded or duplicated, so no two lists
//! share a root (the duplicated-last-leaf flaw of Bitcoin's tree, CVE-2012-2459,
//! does not arise), and leaves and nodes cannot be confused. [`ListProof`] is
//! the RFC's inclusion proof (audit path) and is verified with its algorithm
//! (RFC 9162 §2.1.3.2); together with the item count in the block header it
//! proves that an item is at a position in a block.

use std::fmt;
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSerialize};

use crate::encoding::{BoundError, BoundedVec};

/// A 32-byte BLAKE3 hash. Text form: 64 lower-case hex characters (serde
/// uses it too).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, BorshSerialize, BorshDeserialize,
)]
pub struct Hash([u8; Hash::LENGTH]);

/// The hash of a signed transaction ([`HashDomain::SignedTransaction`]).
pub type TxHash = Hash;

/// The hash of a block, which is the hash of its header
/// ([`HashDomain::BlockHeader`]).
pub type BlockHash = Hash;

impl Hash {
    /// Length in bytes.
    pub const LENGTH: usize = 32;

    /// All zeros; not the hash of anything (used where "none" must be a
    /// hash).
    pub const ZERO: Hash = Hash([0; Hash::LENGTH]);

    /// A hash from its bytes.
    pub const fn new(bytes: [u8; Hash::LENGTH]) -> Hash {
        Hash(bytes)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; Hash::LENGTH] {
        &self.0
    }

    /// The bytes, by value.
    pub const fn to_bytes(self) -> [u8; Hash::LENGTH] {
        self.0
    }
}

impl From<[u8; Hash::LENGTH]> for Hash {
    fn from(bytes: [u8; Hash::LENGTH]) -> Hash {
        Hash(bytes)
    }
}

impl From<Hash> for [u8; Hash::LENGTH] {
    fn from(hash: Hash) -> [u8; Hash::LENGTH] {
        hash.0
    }
}

impl fmt::Display for Hash {
    /// Lower-case hex, 64 characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl FromStr for Hash {
    type Err = BoundError;

    /// Parses exactly 64 hex characters (either case).
    fn from_str(s: &str) -> Result<Hash, BoundError> {
        if s.len() != 2 * Hash::LENGTH {
            return Err(BoundError::InvalidHex {
                reason: format!(
                    "a hash is {} hex characters, not {}",
                    2 * Hash::LENGTH,
                    s.len()
                ),
            });
        }
        let mut bytes = [0u8; Hash::LENGTH];
        hex::decode_to_slice(s, &mut bytes).map_err(|e| BoundError::InvalidHex {
            reason: e.to_string(),
        })?;
        Ok(Hash(bytes))
    }
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Hash, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What is being hashed; each domain has its own BLAKE3 key-derivation
/// context (table in the [module documentation](self)). The strings are part
/// of the protocol: never change one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashDomain {
    /// A signed transaction's encoding: its [`TxHash`].
    SignedTransaction,
    /// A block header's encoding: the [`BlockHash`].
    BlockHeader,
    /// A beacon entry's encoding.
    BeaconEntry,
    /// A genesis's encoding: the chain id.
    Genesis,
    /// A receipt's encoding.
    Receipt,
    /// A leaf of a block's transactions tree.
    TransactionsLeaf,
    /// A node (or the empty root) of a block's transactions tree.
    TransactionsNode,
    /// A leaf of a block's beacon-entries tree.
    BeaconLeaf,
    /// A node (or the empty root) of a block's beacon-entries tree.
    BeaconNode,
}

impl HashDomain {
    /// Every domain.
    pub const ALL: [HashDomain; 9] = [
        HashDomain::SignedTransaction,
        HashDomain::BlockHeader,
        HashDomain::BeaconEntry,
        HashDomain::Genesis,
        HashDomain::Receipt,
        HashDomain::TransactionsLeaf,
        HashDomain::TransactionsNode,
        HashDomain::BeaconLeaf,
        HashDomain::BeaconNode,
    ];

    /// The BLAKE3 key-derivation context string.
    pub const fn context(self) -> &'static str {
        match self {
            HashDomain::SignedTransaction => "bitcraps v1 signed transaction",
            HashDomain::BlockHeader => "bitcraps v1 block header",
            HashDomain::BeaconEntry => "bitcraps v1 beacon entry",
            HashDomain::Genesis => "bitcraps v1 chain id from genesis",
            HashDomain::Receipt => "bitcraps v1 receipt",
            HashDomain::TransactionsLeaf => "bitcraps v1 transactions root leaf",
            HashDomain::TransactionsNode => "bitcraps v1 transactions root node",
            HashDomain::BeaconLeaf => "bitcraps v1 beacon entries root leaf",
            HashDomain::BeaconNode => "bitcraps v1 beacon entries root node",
        }
    }
}

/// `BLAKE3-derive-key(domain.context(), data)`.
pub fn hash(domain: HashDomain, data: &[u8]) -> Hash {
    let mut hasher = blake3::Hasher::new_derive_key(domain.context());
    hasher.update(data);
    Hash(*hasher.finalize().as_bytes())
}

/// `BLAKE3-derive-key(domain.context(), a ‖ b)`.
fn hash_pair(domain: HashDomain, a: &Hash, b: &Hash) -> Hash {
    let mut hasher = blake3::Hasher::new_derive_key(domain.context());
    hasher.update(&a.0);
    hasher.update(&b.0);
    Hash(*hasher.finalize().as_bytes())
}

/// Which list of a block a tree is over; each has its own leaf and node
/// domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// The transaction hashes, in block order.
    Transactions,
    /// The beacon entry hashes, in block order.
    BeaconEntries,
}

impl ListKind {
    /// The leaf domain.
    pub const fn leaf_domain(self) -> HashDomain {
        match self {
            ListKind::Transactions => HashDomain::TransactionsLeaf,
            ListKind::BeaconEntries => HashDomain::BeaconLeaf,
        }
    }

    /// The node domain (also used for the empty list).
    pub const fn node_domain(self) -> HashDomain {
        match self {
            ListKind::Transactions => HashDomain::TransactionsNode,
            ListKind::BeaconEntries => HashDomain::BeaconNode,
        }
    }

    fn leaf(self, item: &Hash) -> Hash {
        hash(self.leaf_domain(), &item.0)
    }

    fn node(self, left: &Hash, right: &Hash) -> Hash {
        hash_pair(self.node_domain(), left, right)
    }
}

/// The largest power of two strictly below `n` (`n ≥ 2`).
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The root over already leaf-hashed, non-empty `leaves`.
fn subtree_root(kind: ListKind, leaves: &[Hash]) -> Hash {
    match leaves {
        [] => hash(kind.node_domain(), &[]),
        [only] => *only,
        _ => {
            let k = split(leaves.len());
            kind.node(
                &subtree_root(kind, &leaves[..k]),
                &subtree_root(kind, &leaves[k..]),
            )
        }
    }
}

/// The root of the list tree over `items` (the rule in the
/// [module documentation](self)).
pub fn list_root(kind: ListKind, items: &[Hash]) -> Hash {
    let leaves: Vec<Hash> = items.iter().map(|item| kind.leaf(item)).collect();
    subtree_root(kind, &leaves)
}

/// The inclusion proof of `items[index]`, or `None` if `index` is out of
/// range or the list has more than `u32::MAX` items.
pub fn list_proof(kind: ListKind, items: &[Hash], index: usize) -> Option<ListProof> {
    if index >= items.len() {
        return None;
    }
    let size = u32::try_from(items.len()).ok()?;
    let leaves: Vec<Hash> = items.iter().map(|item| kind.leaf(item)).collect();
    let mut path = Vec::new();
    audit_path(kind, &leaves, index, &mut path);
    Some(ListProof {
        index: u32::try_from(index).ok()?,
        size,
        path: BoundedVec::new(path).ok()?,
    })
}

/// RFC 6962 `PATH(m, D[n])`, leaf side first.
fn audit_path(kind: ListKind, leaves: &[Hash], m: usize, path: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split(leaves.len());
    if m < k {
        audit_path(kind, &leaves[..k], m, path);
        path.push(subtree_root(kind, &leaves[k..]));
    } else {
        audit_path(kind, &leaves[k..], m - k, path);
        path.push(subtree_root(kind, &leaves[..k]));
    }
}

/// Proof that an item is at position `index` of a list of `size` items with
/// a given root: the sibling subtree roots from the leaf up (RFC 9162
/// §2.1.3).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct ListProof {
    /// The item's position, from 0.
    pub index: u32,
    /// How many items the list has.
    pub size: u32,
    /// The sibling roots, nearest the leaf first (at most 32 for a `u32`
    /// size).
    pub path: BoundedVec<Hash, 32>,
}

impl ListProof {
    /// Whether this proves that `item` is at `self.index` in a list of
    /// `self.size` items whose root is `root` (RFC 9162 §2.1.3.2).
    ///
    /// As in the RFC, the size is an input the verifier must already trust:
    /// take it from the block header's item count, not from the prover (a
    /// path can fit trees of more than one size).
    pub fn verify(&self, kind: ListKind, root: &Hash, item: &Hash) -> bool {
        if self.index >= self.size {
            return false;
        }
        let mut f_n = u64::from(self.index);
        let mut s_n = u64::from(self.size) - 1;
        let mut r = kind.leaf(item);
        for p in self.path.iter() {
            if s_n == 0 {
                return false;
            }
            if f_n & 1 == 1 || f_n == s_n {
                r = kind.node(p, &r);
                if f_n & 1 == 0 {
                    while f_n & 1 == 0 && f_n != 0 {
                        f_n >>= 1;
                        s_n >>= 1;
                    }
                }
            } else {
                r = kind.node(&r, p);
            }
            f_n >>= 1;
            s_n >>= 1;
        }
        s_n == 0 && r == *root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn items(n: usize) -> Vec<Hash> {
        (0..n as u64)
            .map(|i| hash(HashDomain::SignedTransaction, &i.to_le_bytes()))
            .collect()
    }

    #[test]
    fn contexts_are_distinct() {
        let mut contexts: Vec<&str> = HashDomain::ALL.iter().map(|d| d.context()).collect();
        contexts.sort();
        contexts.dedup();
        assert_eq!(contexts.len(), HashDomain::ALL.len());
        assert_ne!(
            hash(HashDomain::BlockHeader, b"x"),
            hash(HashDomain::SignedTransaction, b"x")
        );
    }

    #[test]
    fn hash_is_blake3_derive_key() {
        let expected = blake3::derive_key("bitcraps v1 block header", b"abc");
        assert_eq!(hash(HashDomain::BlockHeader, b"abc").to_bytes(), expected);
    }

    #[test]
    fn hash_text_round_trips() {
        let h = hash(HashDomain::Receipt, b"r");
        assert_eq!(h.to_string().len(), 64);
        assert_eq!(h.to_string().parse::<Hash>(), Ok(h));
        assert_eq!(h.to_string().to_uppercase().parse::<Hash>(), Ok(h));
        assert!("00".parse::<Hash>().is_err());
        assert!("zz".repeat(32).parse::<Hash>().is_err());
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<Hash>(&json).unwrap(), h);
    }

    #[test]
    fn small_roots_follow_the_documented_rule() {
        let kind = ListKind::Transactions;
        let d = items(5);
        let leaf = |i: usize| hash(HashDomain::TransactionsLeaf, d[i].as_bytes());
        let node = |a: Hash, b: Hash| {
            let mut bytes = a.to_bytes().to_vec();
            bytes.extend_from_slice(b.as_bytes());
            hash(HashDomain::TransactionsNode, &bytes)
        };
        assert_eq!(
            list_root(kind, &[]),
            hash(HashDomain::TransactionsNode, b"")
        );
        assert_eq!(list_root(kind, &d[..1]), leaf(0));
        assert_eq!(list_root(kind, &d[..2]), node(leaf(0), leaf(1)));
        assert_eq!(
            list_root(kind, &d[..3]),
            node(node(leaf(0), leaf(1)), leaf(2))
        );
        assert_eq!(
            list_root(kind, &d[..5]),
            node(
                node(node(leaf(0), leaf(1)), node(leaf(2), leaf(3))),
                leaf(4)
            )
        );
        // The two kinds never share a root.
        assert_ne!(
            list_root(ListKind::BeaconEntries, &d),
            list_root(ListKind::Transactions, &d)
        );
        // Duplicating the last item changes the root (no CVE-2012-2459).
        let mut dup = d[..3].to_vec();
        dup.push(d[2]);
        assert_ne!(list_root(kind, &d[..3]), list_root(kind, &dup));
    }

    #[test]
    fn every_proof_of_every_small_list_verifies_and_nothing_else_does() {
        let kind = ListKind::Transactions;
        for n in 0..=40usize {
            let d = items(n);
            let root = list_root(kind, &d);
            assert!(list_proof(kind, &d, n).is_none());
            for i in 0..n {
                let proof = list_proof(kind, &d, i).unwrap();
                assert!(proof.verify(kind, &root, &d[i]), "n={n} i={i}");
                assert!(!proof.verify(ListKind::BeaconEntries, &root, &d[i]));
                let other = hash(HashDomain::SignedTransaction, b"other");
                assert!(!proof.verify(kind, &root, &other));
                if n > 1 {
                    let mut moved = proof.clone();
                    moved.index = ((i + 1) % n) as u32;
                    assert!(!moved.verify(kind, &root, &d[i]), "n={n} i={i}");
                    let mut short = proof.clone();
                    let mut path = short.path.into_vec();
                    path.pop();
                    short.path = BoundedVec::new(path).unwrap();
                    assert!(!short.verify(kind, &root, &d[i]));
                }
                let mut out_of_range = proof.clone();
                out_of_range.index = n as u32;
                assert!(!out_of_range.verify(kind, &root, &d[i]));
            }
        }
    }

    proptest! {
        #[test]
        fn proofs_verify_for_random_sizes(n in 1usize..300, seed in any::<usize>()) {
            let kind = ListKind::BeaconEntries;
            let d = items(n);
            let i = seed % n;
            let root = list_root(kind, &d);
            let proof = list_proof(kind, &d, i).unwrap();
            prop_assert!(proof.path.len() <= 9);
            prop_assert!(proof.verify(kind, &root, &d[i]));
            let mut other = d.clone();
            other[i] = hash(HashDomain::SignedTransaction, b"changed");
            prop_assert_ne!(list_root(kind, &other), root);
        }
    }
}
