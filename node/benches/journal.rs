//! The mempool journal's durability path under concurrent submits: `TXS`
//! signed transfers, each its own request (as `POST /v1/txs` or
//! `bitcraps testnet load --batch 1` sends them), from `K` threads at once,
//! into a real journal file in a temporary directory (on the disk
//! `std::env::temp_dir()` is on; not tmpfs, or syncs cost nothing), every
//! request answered only after a real `fdatasync` covered it.
//!
//! Two paths, both measured by this build:
//! - `per_request_sync`: the path before group commit — each request takes
//!   the journal's lock and calls `TxJournal::record` itself, one write and
//!   one `fdatasync` per request, as `Chain::submit_all` did;
//! - `group_commit`: each request calls `GroupCommit::record`, whose writer
//!   thread covers every request waiting at that moment with one sync.
//!
//! Criterion reports transactions per second as `thrpt` (elements/s).
//!
//! Run with `cargo bench -p bitcraps-node --bench journal`.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use consensus::encoding::encode;
use consensus::tx::{Action, Transaction};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use game_rules::Chips;
use node::mempool::{
    GroupCommit, JOURNAL_FILE, JournalLimits, LocalPool, MempoolConfig, TxJournal,
};
use wallet::{ChainId, Keypair};

/// Transactions per measured iteration.
const TXS: usize = 512;

/// Concurrent submitters.
const THREADS: [usize; 4] = [1, 4, 16, 64];

/// `TXS` signed transfers' encodings (about 200 bytes each), as the API
/// journals them.
fn transactions() -> Vec<Vec<u8>> {
    let chain_id = ChainId::new([7; 32]);
    let from = Keypair::from_secret_bytes(&[1; 32]);
    let to = Keypair::from_secret_bytes(&[2; 32]).address();
    (0..TXS as u64)
        .map(|nonce| {
            encode(
                &Transaction {
                    chain_id,
                    sender: from.public_key(),
                    nonce,
                    fee: Chips(1),
                    expiry_height: 1_000,
                    action: Action::Transfer {
                        to,
                        amount: Chips(5),
                    },
                }
                .sign(&from),
            )
        })
        .collect()
}

/// A new, empty journal in a new temporary directory, rewritten once so
/// that what follows is appended (as after the node's start).
fn fresh_journal() -> (tempfile::TempDir, TxJournal) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let limits = JournalLimits::for_mempool(&MempoolConfig::new(ChainId::new([7; 32])));
    let (mut journal, _) =
        TxJournal::open(dir.path().join(JOURNAL_FILE), limits).expect("a new journal opens");
    journal.rewrite(&[]).expect("a new journal is written");
    (dir, journal)
}

/// Every transaction of `txs` submitted once, as its own request, by
/// `threads` threads taking them in turn; `submit` makes one durable.
fn submit_all(
    txs: &Arc<Vec<Vec<u8>>>,
    threads: usize,
    submit: impl Fn(Vec<u8>) + Send + Sync + 'static,
) -> Duration {
    let submit = Arc::new(submit);
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (txs, submit) = (txs.clone(), submit.clone());
            thread::spawn(move || {
                for tx in txs.iter().skip(t).step_by(threads) {
                    submit(tx.clone());
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a submitter panicked");
    }
    start.elapsed()
}

fn bench_journal(c: &mut Criterion) {
    let txs = Arc::new(transactions());
    let mut group = c.benchmark_group("journal");
    group.sample_size(10);
    group.throughput(Throughput::Elements(TXS as u64));
    for threads in THREADS {
        group.bench_function(format!("per_request_sync/{threads}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let (_dir, journal) = fresh_journal();
                        let journal = Arc::new(Mutex::new(journal));
                        submit_all(&txs, threads, move |tx| {
                            journal
                                .lock()
                                .expect("the journal's lock")
                                .record(&[tx], || unreachable!("appends only"))
                                .expect("the journal records");
                        })
                    })
                    .sum()
            });
        });
        group.bench_function(format!("group_commit/{threads}"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let (_dir, journal) = fresh_journal();
                        let writer =
                            GroupCommit::start(journal, AppendsOnly).expect("the writer starts");
                        submit_all(&txs, threads, move |tx| {
                            writer.record(vec![tx]).expect("the journal records");
                        })
                    })
                    .sum()
            });
        });
    }
    group.finish();
}

/// The bench's pool: every write appends and none fails, so the writer
/// never asks it anything.
struct AppendsOnly;

impl LocalPool for AppendsOnly {
    fn live(&mut self) -> Option<Vec<Vec<u8>>> {
        unreachable!("appends only")
    }

    fn refuse(&mut self, _: &[Vec<u8>]) {
        unreachable!("no write fails here")
    }
}

criterion_group!(benches, bench_journal);
criterion_main!(benches);
