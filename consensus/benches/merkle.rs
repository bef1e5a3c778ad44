//! Benchmarks of the state tree (`consensus::merkle`) over an in-memory node
//! store: updating 1,000 and 10,000 keys of a 100,000-key tree, reading the
//! root, building the tree from scratch, and making and checking a proof.
//!
//! Run with `cargo bench -p bitcraps-consensus --bench merkle`.

use std::hint::black_box;

use consensus::merkle::{MemoryNodeStore, StateTree, verify};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// Keys in the tree the updates apply to.
const TREE_KEYS: u32 = 100_000;

fn key(i: u32) -> Vec<u8> {
    format!("account/{i:08}").into_bytes()
}

fn value(i: u32, version: u32) -> Vec<u8> {
    // A 16-byte balance-like value.
    let mut out = u64::from(i).to_be_bytes().to_vec();
    out.extend_from_slice(&u64::from(version).to_be_bytes());
    out
}

type Changes = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// All `TREE_KEYS` entries, as one batch.
fn initial() -> Changes {
    (0..TREE_KEYS)
        .map(|i| (key(i), Some(value(i, 0))))
        .collect()
}

fn tree_of_100k() -> MemoryNodeStore {
    let mut store = MemoryNodeStore::new();
    let update = StateTree::new(&store).update(initial()).unwrap();
    store.apply(&update.batch);
    store
}

/// `m` changes spread over the key space, as a block would make: of every
/// 20, 18 set a new value of an existing key, one deletes an existing key
/// and one inserts a new key.
fn changes(m: u32) -> Changes {
    let stride = TREE_KEYS / m;
    (0..m)
        .map(|j| {
            let i = j * stride;
            match j % 20 {
                0 => (key(i), None),
                1 => (key(TREE_KEYS + j), Some(value(j, 1))),
                _ => (key(i), Some(value(i, 1))),
            }
        })
        .collect()
}

fn bench_update(c: &mut Criterion) {
    let store = tree_of_100k();
    let tree = StateTree::new(&store);
    let mut group = c.benchmark_group("update_in_100k_tree");
    for m in [1_000u32, 10_000] {
        let changes = changes(m);
        group.throughput(Throughput::Elements(u64::from(m)));
        group.bench_function(format!("{m}_keys"), |b| {
            b.iter(|| {
                let update = tree
                    .update(changes.iter().map(|(k, v)| (k, v.as_ref())))
                    .unwrap();
                black_box(update)
            });
        });
    }
    group.finish();
}

fn bench_root_and_proofs(c: &mut Criterion) {
    let store = tree_of_100k();
    let tree = StateTree::new(&store);
    let root = tree.root().unwrap();
    c.bench_function("root_of_100k_tree", |b| {
        b.iter(|| black_box(tree.root().unwrap()))
    });
    let (k, v) = (key(12_345), value(12_345, 0));
    c.bench_function("prove_in_100k_tree", |b| {
        b.iter(|| black_box(tree.prove(black_box(&k)).unwrap()))
    });
    let proof = tree.prove(&k).unwrap();
    c.bench_function("verify_in_100k_tree", |b| {
        b.iter(|| verify(&root, black_box(&k), Some(&v), black_box(&proof)).unwrap())
    });
}

fn bench_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build_from_scratch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::from(TREE_KEYS)));
    group.bench_function("100000_keys", |b| {
        b.iter_batched(
            initial,
            |entries| {
                let store = MemoryNodeStore::new();
                black_box(StateTree::new(&store).update(entries).unwrap())
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench_update, bench_root_and_proofs, bench_build);
criterion_main!(benches);
