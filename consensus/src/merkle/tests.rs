use std::collections::BTreeMap;

use proptest::prelude::*;

use super::proof::verify_hashed;
use super::*;

// ---------------------------------------------------------------------------
// The reference: the definition of the root, written out directly (blake3 and
// literal context strings, its own bit order), over a sorted list of entries.

fn derive(context: &str, parts: &[&[u8]]) -> Digest {
    let mut hasher = blake3::Hasher::new_derive_key(context);
    for part in parts {
        hasher.update(part);
    }
    *hasher.finalize().as_bytes()
}

fn reference_subtree(entries: &[(Digest, Digest)], depth: usize) -> Digest {
    match entries {
        [] => [0; 32],
        [(key, value)] => derive("bitcraps v1 state tree leaf", &[key, value]),
        _ => {
            let is_right = |path: &Digest| path[depth / 8] & (0x80 >> (depth % 8)) != 0;
            let left: Vec<_> = entries
                .iter()
                .copied()
                .filter(|(k, _)| !is_right(k))
                .collect();
            let right: Vec<_> = entries
                .iter()
                .copied()
                .filter(|(k, _)| is_right(k))
                .collect();
            derive(
                "bitcraps v1 state tree node",
                &[
                    &reference_subtree(&left, depth + 1),
                    &reference_subtree(&right, depth + 1),
                ],
            )
        }
    }
}

fn reference_hashed(entries: &BTreeMap<Digest, Digest>) -> Digest {
    let sorted: Vec<_> = entries.iter().map(|(k, v)| (*k, *v)).collect();
    reference_subtree(&sorted, 0)
}

fn reference_root(map: &BTreeMap<Vec<u8>, Vec<u8>>) -> Digest {
    let entries = map
        .iter()
        .map(|(k, v)| {
            (
                derive("bitcraps v1 state tree key", &[k]),
                derive("bitcraps v1 state tree value", &[v]),
            )
        })
        .collect();
    reference_hashed(&entries)
}

// ---------------------------------------------------------------------------
// Helpers.

type Changes = Vec<(Vec<u8>, Option<Vec<u8>>)>;

fn key(i: u32) -> Vec<u8> {
    format!("acct/{i}").into_bytes()
}

fn value(i: u32, version: u32) -> Vec<u8> {
    format!("balance {i} v{version}").into_bytes()
}

/// Applies `changes` to the store and returns the new root.
fn apply(store: &mut MemoryNodeStore, changes: Changes) -> Digest {
    let update = StateTree::new(&*store).update(changes).unwrap();
    store.apply(&update.batch);
    assert_eq!(StateTree::new(&*store).root().unwrap(), update.root);
    update.root
}

fn build(map: &BTreeMap<Vec<u8>, Vec<u8>>) -> MemoryNodeStore {
    let mut store = MemoryNodeStore::new();
    apply(
        &mut store,
        map.iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect(),
    );
    store
}

fn numbered(n: u32) -> BTreeMap<Vec<u8>, Vec<u8>> {
    (0..n).map(|i| (key(i), value(i, 0))).collect()
}

fn hashed_update(store: &mut MemoryNodeStore, changes: &[(Digest, Option<Digest>)]) -> Digest {
    let changes = changes
        .iter()
        .map(|&(path, value)| Change { path, value })
        .collect();
    let update = StateTree::new(&*store).update_hashed(changes).unwrap();
    store.apply(&update.batch);
    update.root
}

// ---------------------------------------------------------------------------
// Roots.

#[test]
fn empty_tree_has_the_zero_root() {
    assert_eq!(EMPTY_ROOT, [0u8; 32]);
    let store = MemoryNodeStore::new();
    let tree = StateTree::new(&store);
    assert_eq!(tree.root().unwrap(), EMPTY_ROOT);
    assert_eq!(reference_root(&BTreeMap::new()), EMPTY_ROOT);
    let update = tree.update(Changes::new()).unwrap();
    assert_eq!(update.root, EMPTY_ROOT);
    assert!(update.batch.is_empty());
    // Deleting absent keys from the empty tree writes nothing.
    let update = tree.update([(b"nobody", None::<&[u8]>)]).unwrap();
    assert_eq!(update.root, EMPTY_ROOT);
    assert!(update.batch.is_empty());
}

#[test]
fn hashing_domains_are_the_documented_ones() {
    assert_eq!(
        key_hash(b"k"),
        derive("bitcraps v1 state tree key", &[b"k"])
    );
    assert_eq!(
        value_hash(b"v"),
        derive("bitcraps v1 state tree value", &[b"v"])
    );
    let (a, b) = ([1u8; 32], [2u8; 32]);
    assert_eq!(
        leaf_hash(&a, &b),
        derive("bitcraps v1 state tree leaf", &[&a, &b])
    );
    assert_eq!(
        node_hash(&a, &b),
        derive("bitcraps v1 state tree node", &[&a, &b])
    );
    assert_ne!(leaf_hash(&a, &b), node_hash(&a, &b));
    // A one-entry tree's root is that entry's leaf.
    let mut store = MemoryNodeStore::new();
    let root = apply(&mut store, vec![(b"k".to_vec(), Some(b"v".to_vec()))]);
    assert_eq!(root, leaf_hash(&key_hash(b"k"), &value_hash(b"v")));
}

#[test]
fn known_root_vector() {
    let map: BTreeMap<Vec<u8>, Vec<u8>> = [
        (&b"alice"[..], &b"100"[..]),
        (b"bob", b"250"),
        (b"carol", b""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_vec(), v.to_vec()))
    .collect();
    let root = StateTree::new(build(&map)).root().unwrap();
    assert_eq!(root, reference_root(&map));
    let hex: String = root.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "386301df8fb5e5c04b29a5f747fa53f900bdb0449c089788dc880bda7ae0ca09"
    );
}

#[test]
fn batch_order_does_not_matter() {
    let base = numbered(300);
    let store = build(&base);
    let mut changes: Changes = (0..120)
        .map(|i| match i % 3 {
            0 => (key(i), Some(value(i, 1))),        // update
            1 => (key(i), None),                     // delete
            _ => (key(1000 + i), Some(value(i, 1))), // insert
        })
        .collect();
    let tree = StateTree::new(&store);
    let expected = tree.update(changes.clone()).unwrap();
    // Deterministic shuffles.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..10 {
        for i in (1..changes.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            changes.swap(i, (state % (i as u64 + 1)) as usize);
        }
        assert_eq!(tree.update(changes.clone()).unwrap(), expected);
    }
    changes.reverse();
    assert_eq!(tree.update(changes).unwrap(), expected);
}

#[test]
fn last_change_to_a_key_wins() {
    let store = build(&numbered(10));
    let tree = StateTree::new(&store);
    let set = tree
        .update(vec![
            (key(3), Some(b"a".to_vec())),
            (key(3), None),
            (key(3), Some(b"b".to_vec())),
        ])
        .unwrap();
    let direct = tree.update(vec![(key(3), Some(b"b".to_vec()))]).unwrap();
    assert_eq!(set, direct);
    let deleted = tree
        .update(vec![(key(3), Some(b"a".to_vec())), (key(3), None)])
        .unwrap();
    assert_eq!(
        deleted,
        tree.update(vec![(key(3), None::<Vec<u8>>)]).unwrap()
    );
}

#[test]
fn unchanged_values_write_nothing() {
    let store = build(&numbered(50));
    let tree = StateTree::new(&store);
    let update = tree
        .update((0..50).map(|i| (key(i), Some(value(i, 0)))))
        .unwrap();
    assert_eq!(update.root, tree.root().unwrap());
    assert!(update.batch.is_empty());
}

#[test]
fn deleting_everything_gives_the_empty_root() {
    let map = numbered(500);
    let mut store = build(&map);
    assert!(store.len() > 500);
    for chunk in (0..500).collect::<Vec<u32>>().chunks(77) {
        apply(&mut store, chunk.iter().map(|&i| (key(i), None)).collect());
    }
    assert_eq!(StateTree::new(&store).root().unwrap(), EMPTY_ROOT);
    assert!(store.is_empty(), "stale nodes left: {}", store.len());
}

#[test]
fn incremental_updates_match_a_rebuild_and_the_reference() {
    let mut map = numbered(400);
    let mut store = build(&map);
    for round in 1..6u32 {
        let mut changes = Changes::new();
        for i in (0..600).filter(|i| i % (round + 1) == 0) {
            if (i + round) % 4 == 0 {
                map.remove(&key(i));
                changes.push((key(i), None));
            } else {
                map.insert(key(i), value(i, round));
                changes.push((key(i), Some(value(i, round))));
            }
        }
        let root = apply(&mut store, changes);
        assert_eq!(root, reference_root(&map));
        assert_eq!(store, build(&map), "store differs from a rebuild");
    }
}

#[test]
fn value_hash_reads_the_leaf() {
    let store = build(&numbered(100));
    let tree = StateTree::new(&store);
    assert_eq!(
        tree.value_hash(&key(7)).unwrap(),
        Some(value_hash(&value(7, 0)))
    );
    assert_eq!(tree.value_hash(b"absent").unwrap(), None);
}

#[test]
fn overlay_sees_uncommitted_writes() {
    let mut store = build(&numbered(200));
    let first: Changes = (0..50).map(|i| (key(i), Some(value(i, 1)))).collect();
    let second: Changes = (25..75).map(|i| (key(i), None)).collect();
    let update1 = StateTree::new(&store).update(first.clone()).unwrap();
    let update2 = StateTree::new(Overlay::new(&store, &update1.batch))
        .update(second.clone())
        .unwrap();
    let mut combined = update1.batch.clone();
    combined.extend(update2.batch);

    let mut sequential = store.clone();
    apply(&mut sequential, first);
    assert_eq!(apply(&mut sequential, second), update2.root);
    store.apply(&combined);
    assert_eq!(store, sequential);
}

#[test]
fn full_depth_paths() {
    // Two paths that differ only in their last bit: leaves at depth 256.
    let a = [0u8; 32];
    let mut b = [0u8; 32];
    b[31] = 1;
    let mut c = [0u8; 32];
    c[0] = 0x80;
    let (va, vb, vc) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let mut store = MemoryNodeStore::new();
    let root = hashed_update(&mut store, &[(a, Some(va)), (b, Some(vb)), (c, Some(vc))]);
    let expected: BTreeMap<_, _> = [(a, va), (b, vb), (c, vc)].into_iter().collect();
    assert_eq!(root, reference_hashed(&expected));
    assert_eq!(store.len(), 256 + 2 + 1); // internal nodes at depths 0..=255, three leaves
    let tree = StateTree::new(&store);
    let proof = tree.prove_hashed(&b).unwrap();
    assert_eq!(proof.depth(), 256);
    assert_eq!(proof.encoded_len(), MAX_PROOF_LEN);
    assert_eq!(Proof::from_bytes(&proof.to_bytes()).unwrap(), proof);
    verify_hashed(&root, &b, Some(&vb), &proof).unwrap();
    assert_eq!(
        verify_hashed(&root, &b, Some(&va), &proof),
        Err(ProofError::ValueMismatch)
    );
    // A path between a and b's branch and c: ends at an empty subtree.
    let mut d = [0u8; 32];
    d[0] = 0x40;
    let proof = tree.prove_hashed(&d).unwrap();
    assert!(proof.leaf().is_none());
    verify_hashed(&root, &d, None, &proof).unwrap();

    // Deleting b lifts a back up to depth 1.
    let root = hashed_update(&mut store, &[(b, None)]);
    let expected: BTreeMap<_, _> = [(a, va), (c, vc)].into_iter().collect();
    assert_eq!(root, reference_hashed(&expected));
    assert_eq!(store.len(), 3);
    let root = hashed_update(&mut store, &[(c, None)]);
    assert_eq!(root, leaf_hash(&a, &va));
    assert_eq!(store.len(), 1);
}

/// A store that counts its reads.
struct Counting<'a> {
    inner: &'a MemoryNodeStore,
    reads: std::cell::Cell<usize>,
}

impl NodeStore for Counting<'_> {
    fn get_node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, NodeStoreError> {
        self.reads.set(self.reads.get() + 1);
        self.inner.get_node(key)
    }
}

#[test]
fn updates_touch_only_the_changed_paths() {
    let n = 20_000;
    let store = build(&numbered(n));
    let tree = StateTree::new(&store);
    // 1,000 changes: new values, deletes and inserts.
    let changes: Changes = (0..1000)
        .map(|j| match j % 10 {
            0 => (key(j * 20), None),
            1 => (key(n + j), Some(value(j, 1))),
            _ => (key(j * 20), Some(value(j, 1))),
        })
        .collect();
    // The old tree's path lengths: one read per node on each path, plus the
    // root and a sibling per collapse, at most.
    let path_nodes: usize = changes
        .iter()
        .map(|(k, _)| tree.prove(k).unwrap().depth() + 1)
        .sum();
    let counting = Counting {
        inner: &store,
        reads: Default::default(),
    };
    let update = StateTree::new(&counting).update(changes.clone()).unwrap();
    let reads = counting.reads.get();
    assert!(
        reads <= path_nodes + changes.len() + 1,
        "{reads} reads, {path_nodes} path nodes"
    );
    assert!(update.batch.len() <= path_nodes + 2 * changes.len());
    // Shared top levels are read once: far fewer reads than path nodes.
    assert!(
        reads < path_nodes * 3 / 4,
        "{reads} reads, {path_nodes} path nodes"
    );
    let mut updated = store.clone();
    updated.apply(&update.batch);
    assert_eq!(StateTree::new(&updated).root().unwrap(), update.root);
    let mut map = numbered(n);
    for (k, v) in changes {
        match v {
            Some(v) => map.insert(k, v),
            None => map.remove(&k),
        };
    }
    assert_eq!(update.root, reference_root(&map));
}

// ---------------------------------------------------------------------------
// Proofs.

struct Fixture {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    store: MemoryNodeStore,
    root: Digest,
}

fn fixture() -> Fixture {
    let map = numbered(300);
    let store = build(&map);
    let root = StateTree::new(&store).root().unwrap();
    Fixture { map, store, root }
}

/// Absent keys whose proofs end at an empty subtree and at another leaf.
fn absent_keys(tree: &StateTree<&MemoryNodeStore>) -> (Vec<u8>, Vec<u8>) {
    let (mut at_empty, mut at_leaf) = (None, None);
    for i in 0.. {
        let candidate = format!("absent/{i}").into_bytes();
        match tree.prove(&candidate).unwrap().leaf() {
            None => at_empty = at_empty.or(Some(candidate)),
            Some(_) => at_leaf = at_leaf.or(Some(candidate)),
        }
        if let (Some(e), Some(l)) = (&at_empty, &at_leaf) {
            return (e.clone(), l.clone());
        }
        assert!(i < 10_000);
    }
    unreachable!()
}

#[test]
fn membership_proofs_verify() {
    let f = fixture();
    let tree = StateTree::new(&f.store);
    for (k, v) in &f.map {
        let proof = tree.prove(k).unwrap();
        assert_eq!(proof.leaf().unwrap().key_hash, key_hash(k));
        verify(&f.root, k, Some(v), &proof).unwrap();
        let decoded = Proof::from_bytes(&proof.to_bytes()).unwrap();
        assert_eq!(decoded, proof);
        verify(&f.root, k, Some(v), &decoded).unwrap();
        assert_eq!(
            verify(&f.root, k, None, &proof),
            Err(ProofError::KeyPresent)
        );
    }
}

#[test]
fn non_membership_proofs_verify() {
    let f = fixture();
    let tree = StateTree::new(&f.store);
    let (at_empty, at_leaf) = absent_keys(&tree);
    for i in 0..300 {
        let absent = format!("absent/{i}").into_bytes();
        let proof = tree.prove(&absent).unwrap();
        verify(&f.root, &absent, None, &proof).unwrap();
        // A proof ending at another key's leaf names that key.
        let expected = if proof.leaf().is_some() {
            ProofError::KeyMismatch
        } else {
            ProofError::KeyAbsent
        };
        assert_eq!(verify(&f.root, &absent, Some(b"x"), &proof), Err(expected));
    }
    assert!(tree.prove(&at_empty).unwrap().leaf().is_none());
    assert!(tree.prove(&at_leaf).unwrap().leaf().is_some());
    // The empty tree: no siblings, the empty root.
    let empty = MemoryNodeStore::new();
    let proof = StateTree::new(&empty).prove(b"k").unwrap();
    assert_eq!(proof.depth(), 0);
    verify(&EMPTY_ROOT, b"k", None, &proof).unwrap();
    assert_eq!(
        verify(&EMPTY_ROOT, b"k", Some(b"v"), &proof),
        Err(ProofError::KeyAbsent)
    );
    assert_eq!(
        verify(&f.root, b"k", None, &proof),
        Err(ProofError::RootMismatch)
    );
}

#[test]
fn proofs_fail_for_wrong_value_key_or_root() {
    let f = fixture();
    let tree = StateTree::new(&f.store);
    let (k, v) = (key(42), value(42, 0));
    let proof = tree.prove(&k).unwrap();
    assert_eq!(
        verify(&f.root, &k, Some(b"wrong"), &proof),
        Err(ProofError::ValueMismatch)
    );
    assert_eq!(
        verify(&f.root, &key(43), Some(&v), &proof),
        Err(ProofError::KeyMismatch)
    );
    assert!(verify(&f.root, b"absent", None, &proof).is_err());
    let mut wrong_root = f.root;
    wrong_root[0] ^= 1;
    assert_eq!(
        verify(&wrong_root, &k, Some(&v), &proof),
        Err(ProofError::RootMismatch)
    );
    assert_eq!(
        verify(&EMPTY_ROOT, &k, Some(&v), &proof),
        Err(ProofError::RootMismatch)
    );

    // An absence proof does not prove a present key absent, nor a value.
    let (at_empty, at_leaf) = absent_keys(&tree);
    for absent in [at_empty, at_leaf] {
        let proof = tree.prove(&absent).unwrap();
        verify(&f.root, &absent, None, &proof).unwrap();
        assert!(verify(&f.root, &k, None, &proof).is_err());
        assert!(verify(&f.root, &k, Some(&v), &proof).is_err());
        assert!(verify(&wrong_root, &absent, None, &proof).is_err());
    }
    // A proof from an older root fails against the new one.
    let mut store = f.store.clone();
    apply(&mut store, vec![(k.clone(), Some(b"new".to_vec()))]);
    assert_eq!(
        verify(
            &StateTree::new(&store).root().unwrap(),
            &k,
            Some(&v),
            &proof
        ),
        Err(ProofError::RootMismatch)
    );
}

#[test]
fn every_single_byte_mutation_of_a_proof_is_rejected() {
    let f = fixture();
    let tree = StateTree::new(&f.store);
    let (at_empty, at_leaf) = absent_keys(&tree);
    let present = key(7);
    let present_value = f.map[&present].clone();
    let cases: [(&[u8], Option<&[u8]>); 3] = [
        (&present, Some(&present_value)),
        (&at_empty, None),
        (&at_leaf, None),
    ];
    for (k, v) in cases {
        let bytes = tree.prove(k).unwrap().to_bytes();
        verify(&f.root, k, v, &Proof::from_bytes(&bytes).unwrap()).unwrap();
        for i in 0..bytes.len() {
            for mask in [0x01u8, 0x80, 0xff, 0x5a] {
                let mut mutated = bytes.clone();
                mutated[i] ^= mask;
                if let Ok(proof) = Proof::from_bytes(&mutated) {
                    assert!(
                        verify(&f.root, k, v, &proof).is_err(),
                        "mutation at byte {i} with {mask:#04x} accepted"
                    );
                }
            }
        }
        for len in 0..bytes.len() {
            if let Ok(proof) = Proof::from_bytes(&bytes[..len]) {
                assert!(verify(&f.root, k, v, &proof).is_err());
            }
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            Proof::from_bytes(&longer),
            Err(ProofError::TrailingBytes(1))
        );
    }
}

#[test]
fn proof_decoding_bounds() {
    assert_eq!(MAX_PROOF_LEN, 8260);
    assert_eq!(
        Proof::from_bytes(&vec![0u8; MAX_PROOF_LEN + 1]),
        Err(ProofError::TooLong {
            len: MAX_PROOF_LEN + 1,
            max: MAX_PROOF_LEN
        })
    );
    assert_eq!(Proof::from_bytes(&[]), Err(ProofError::Truncated));
    assert_eq!(
        Proof::from_bytes(&[2, 0, 0, 0]),
        Err(ProofError::UnsupportedVersion(2))
    );
    assert_eq!(
        Proof::from_bytes(&[1, 2, 0, 0]),
        Err(ProofError::UnknownTerminal(2))
    );
    let mut too_many = vec![1, 0, 0x01, 0x01];
    too_many.resize(4 + 257 * 32, 7);
    assert_eq!(
        Proof::from_bytes(&too_many),
        Err(ProofError::TooManySiblings(257))
    );
    assert_eq!(Proof::from_bytes(&[1, 0, 0, 1]), Err(ProofError::Truncated));
    let empty = Proof::from_bytes(&[1, 0, 0, 0]).unwrap();
    assert_eq!(empty.depth(), 0);
    // A deepest sibling that is empty is not canonical.
    let mut bytes = vec![1, 0, 0, 1];
    bytes.extend_from_slice(&EMPTY_ROOT);
    let proof = Proof::from_bytes(&bytes).unwrap();
    assert_eq!(
        verify(&node_hash(&EMPTY_ROOT, &EMPTY_ROOT), b"k", None, &proof),
        Err(ProofError::NonCanonical)
    );
}

// ---------------------------------------------------------------------------
// Corrupt stores fail cleanly.

#[test]
fn corrupt_stores_are_reported() {
    let f = fixture();
    let k = key(1);
    let path_nodes: Vec<NodeKey> = (0..=f.store.len())
        .map(|depth| NodeKey::new(depth.min(KEY_BITS), &key_hash(&k)))
        .filter(|node_key| f.store.nodes.contains_key(node_key))
        .collect();
    let deepest = *path_nodes.last().unwrap();
    assert!(deepest.depth() > 0);

    let mut missing = f.store.clone();
    missing.nodes.remove(&deepest);
    let err = StateTree::new(&missing).prove(&k).unwrap_err();
    assert!(
        matches!(
            err,
            MerkleError::Corrupt {
                reason: "missing",
                ..
            }
        ),
        "{err}"
    );
    let err = StateTree::new(&missing)
        .update([(k.clone(), Some(b"x"))])
        .unwrap_err();
    assert!(matches!(err, MerkleError::Corrupt { key, .. } if key == deepest));

    let mut tampered = f.store.clone();
    tampered.nodes.get_mut(&deepest).unwrap()[40] ^= 1;
    let err = StateTree::new(&tampered).prove(&k).unwrap_err();
    assert!(
        matches!(
            err,
            MerkleError::Corrupt {
                reason: "does not match its parent's hash",
                ..
            }
        ),
        "{err}"
    );

    let mut malformed = f.store.clone();
    malformed.nodes.get_mut(&deepest).unwrap().pop();
    let err = StateTree::new(&malformed).prove(&k).unwrap_err();
    assert!(matches!(
        err,
        MerkleError::Corrupt {
            reason: "malformed",
            ..
        }
    ));

    let mut bad_root = f.store.clone();
    bad_root.nodes.insert(NodeKey::ROOT, vec![9; NODE_LEN]);
    assert!(matches!(
        StateTree::new(&bad_root).root(),
        Err(MerkleError::Corrupt {
            reason: "malformed",
            ..
        })
    ));
}

#[test]
fn store_errors_pass_through() {
    struct Failing;
    impl NodeStore for Failing {
        fn get_node(&self, _: &NodeKey) -> Result<Option<Vec<u8>>, NodeStoreError> {
            Err(NodeStoreError::new("disk on fire"))
        }
    }
    let err = StateTree::new(Failing).root().unwrap_err();
    assert!(matches!(err, MerkleError::Store(_)));
    assert_eq!(err.to_string(), "state tree store: disk on fire");
}

#[test]
fn node_keys() {
    assert_eq!(NodeKey::ROOT.as_bytes(), [0, 0]);
    assert_eq!(NodeKey::ROOT.depth(), 0);
    let path = [0xffu8; 32];
    let key = NodeKey::new(9, &path);
    assert_eq!(key.as_bytes(), [0, 9, 0xff, 0x80]);
    assert_eq!(key.to_string(), "0009ff80");
    assert_eq!(NodeKey::from_bytes(key.as_bytes()), Some(key));
    let full = NodeKey::new(256, &path);
    assert_eq!(full.as_bytes().len(), MAX_NODE_KEY_LEN);
    assert_eq!(NodeKey::from_bytes(full.as_bytes()), Some(full));
    assert_eq!(NodeKey::from_bytes(&[0, 9, 0xff, 0xc0]), None); // unused bit set
    assert_eq!(NodeKey::from_bytes(&[0, 9, 0xff]), None); // too short
    assert_eq!(NodeKey::from_bytes(&[1, 1]), None); // depth 257
    assert_eq!(NodeKey::from_bytes(&[0]), None);
}

// ---------------------------------------------------------------------------
// Properties.

fn change_strategy() -> impl Strategy<Value = (u8, Option<Vec<u8>>)> {
    (
        0u8..48,
        prop::option::weighted(0.65, prop::collection::vec(any::<u8>(), 0..6)),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Random batches of inserts, updates and deletes: after every batch the
    /// root is the reference root of the model map, and at the end the store
    /// is identical to one built from scratch.
    #[test]
    fn random_operation_sequences(
        batches in prop::collection::vec(prop::collection::vec(change_strategy(), 0..24), 1..10),
    ) {
        let mut map = BTreeMap::new();
        let mut store = MemoryNodeStore::new();
        for batch in batches {
            let changes: Changes = batch
                .into_iter()
                .map(|(k, v)| (format!("k{k}").into_bytes(), v))
                .collect();
            for (k, v) in &changes {
                match v {
                    Some(v) => map.insert(k.clone(), v.clone()),
                    None => map.remove(k),
                };
            }
            let root = apply(&mut store, changes);
            prop_assert_eq!(root, reference_root(&map));
        }
        prop_assert_eq!(&store, &build(&map));
        let tree = StateTree::new(&store);
        let root = tree.root().unwrap();
        for k in 0u8..48 {
            let k = format!("k{k}").into_bytes();
            let proof = tree.prove(&k).unwrap();
            prop_assert!(verify(&root, &k, map.get(&k).map(Vec::as_slice), &proof).is_ok());
        }
    }

    /// Decoding arbitrary bytes never panics, and whatever decodes
    /// re-encodes to the same bytes (the encoding is canonical).
    #[test]
    fn decoding_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(proof) = Proof::from_bytes(&bytes) {
            prop_assert_eq!(proof.to_bytes(), bytes);
            prop_assert!(verify(&EMPTY_ROOT, b"k", None, &proof).is_err() || proof.depth() == 0);
        }
    }

    /// Decoding arbitrary bytes after a valid header never panics either.
    #[test]
    fn decoding_arbitrary_bodies(
        leaf in any::<bool>(),
        count in 0u16..300,
        body in prop::collection::vec(any::<u8>(), 0..2000),
    ) {
        let mut bytes = vec![PROOF_VERSION, u8::from(leaf)];
        if leaf {
            bytes.extend_from_slice(&[3; 64]);
        }
        bytes.extend_from_slice(&count.to_be_bytes());
        bytes.extend_from_slice(&body);
        if let Ok(proof) = Proof::from_bytes(&bytes) {
            prop_assert_eq!(proof.to_bytes(), bytes);
        }
    }
}
