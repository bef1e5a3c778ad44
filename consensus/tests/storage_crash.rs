//! The crash-consistency test of `consensus::storage`: a child process commits
//! blocks in a loop, the parent SIGKILLs it at a random moment, reopens the store
//! and checks that it holds exactly the state after the last applied block —
//! never a mix of two blocks — then repeats.
//!
//! The child is this test binary itself, re-executed with [`CHILD_ENV`] set and
//! filtered to the `crash_child` test, which does nothing in a normal run.
//!
//! Set `BITCRAPS_CRASH_SEED` to replay a run's kill timings (the seed is printed
//! on failure).

mod support;

use std::time::{Duration, Instant};

use consensus::storage::{BlockCommit, Store, StoreConfig, StoreError, TxLocation};
use support::{Rng, spawn_child, wait_until_ready};

/// Tells the re-executed test binary to run as the writing child, in this directory.
const CHILD_ENV: &str = "BITCRAPS_STORAGE_CRASH_CHILD_DIR";
/// Kill-and-verify cycles.
const CYCLES: usize = 30;
/// State keys each block sets to its height.
const KEYS: u64 = 200;
/// The table whose rounds the child writes.
const TABLE: u64 = 7;

/// Small memtables and cache, so the child's loop also flushes to SST files and
/// compacts: kills land during flushes too, not only during WAL appends.
fn child_config() -> StoreConfig {
    StoreConfig {
        block_cache_bytes: 1 << 20,
        write_buffer_bytes: 256 << 10,
        ..StoreConfig::default()
    }
}

fn state_key(i: u64) -> Vec<u8> {
    format!("k/{i:03}").into_bytes()
}

/// Every state key of block `height` holds this value.
fn state_value(height: u64) -> Vec<u8> {
    height.to_be_bytes().repeat(4)
}

fn marker_key(height: u64) -> Vec<u8> {
    [b"marker/".as_slice(), &height.to_be_bytes()].concat()
}

fn checksum(height: u64) -> Vec<u8> {
    height.wrapping_mul(KEYS).to_be_bytes().to_vec()
}

fn block_bytes(height: u64) -> Vec<u8> {
    format!("block {height}").into_bytes()
}

fn tx_hash(height: u64) -> [u8; 32] {
    let mut out = [0x5A; 32];
    out[..8].copy_from_slice(&height.to_be_bytes());
    out
}

fn block(height: u64) -> BlockCommit {
    let mut commit = BlockCommit::new(height, block_bytes(height));
    for i in 0..KEYS {
        commit.put_state(state_key(i), state_value(height));
    }
    commit.put_state(b"checksum".to_vec(), checksum(height));
    if let Some(previous) = height.checked_sub(1) {
        commit.delete_state(marker_key(previous));
    }
    commit.put_state(marker_key(height), b"present".to_vec());
    commit
        .add_transaction(tx_hash(height), block_bytes(height), [b"player"])
        .expect("valid address");
    commit.put_round(TABLE, height, block_bytes(height));
    commit
}

/// The child: open, say so on stdout, then commit blocks until killed. Before
/// each block it records a "vote" for it with `put_synced_meta`, as a validator
/// would before acting.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return; // a normal test run: nothing to do
    };
    let store = Store::open_with(&dir, &child_config()).expect("child: open");
    println!("ready");
    let mut height = store
        .last_applied_height()
        .expect("child: read height")
        .map_or(0, |h| h + 1);
    loop {
        store
            .put_synced_meta(b"vote", &height.to_be_bytes())
            .expect("child: vote");
        store.apply_block(&block(height)).expect("child: apply");
        height += 1;
    }
}

/// Checks the reopened store holds exactly the state after its last applied
/// block, and returns that height.
fn verify(store: &Store) -> Option<u64> {
    let last = store.last_applied_height().expect("read height");
    let state: Vec<(Vec<u8>, Vec<u8>)> = store
        .state_prefix(b"")
        .collect::<Result<_, StoreError>>()
        .expect("iterate state");
    let vote = store.get_meta(b"vote").expect("read vote");
    let Some(height) = last else {
        assert!(state.is_empty(), "no block applied, yet state exists");
        assert_eq!(store.block(0).expect("read block"), None);
        assert!(matches!(
            vote.as_deref(),
            None | Some([0, 0, 0, 0, 0, 0, 0, 0])
        ));
        return None;
    };

    // State: exactly KEYS keys at this height, the checksum, one marker.
    let mut expected: Vec<(Vec<u8>, Vec<u8>)> = (0..KEYS)
        .map(|i| (state_key(i), state_value(height)))
        .collect();
    expected.push((b"checksum".to_vec(), checksum(height)));
    expected.push((marker_key(height), b"present".to_vec()));
    expected.sort();
    if state != expected {
        let heights: std::collections::BTreeSet<_> = state
            .iter()
            .filter(|(key, _)| key.starts_with(b"k/"))
            .map(|(_, value)| value.clone())
            .collect();
        panic!(
            "state is not that of block {height}: {} entries, {} distinct key values",
            state.len(),
            heights.len()
        );
    }

    // The other column families agree on the same height.
    let location = TxLocation {
        height,
        position: 0,
    };
    assert_eq!(store.block(height).unwrap(), Some(block_bytes(height)));
    assert_eq!(store.block(height + 1).unwrap(), None);
    assert_eq!(store.receipts(height).unwrap(), vec![block_bytes(height)]);
    assert!(store.receipts(height + 1).unwrap().is_empty());
    assert_eq!(store.tx_location(&tx_hash(height)).unwrap(), Some(location));
    assert_eq!(store.tx_location(&tx_hash(height + 1)).unwrap(), None);
    let history = store.account_history(b"player", None, 1).unwrap();
    assert_eq!(history.entries[0].location, location);
    assert_eq!(history.entries[0].tx_hash, Some(tx_hash(height)));
    let rounds = store.rounds(TABLE, None, 1).unwrap();
    assert_eq!(rounds.rounds[0].round, height);
    if height > 0 {
        assert_eq!(
            store.block(height - 1).unwrap(),
            Some(block_bytes(height - 1))
        );
    }

    // The vote for a block is synced before the block is applied.
    let vote = u64::from_be_bytes(
        vote.expect("a vote precedes every block")
            .try_into()
            .expect("8-byte vote"),
    );
    assert!(
        vote == height || vote == height + 1,
        "vote {vote} at height {height}"
    );
    Some(height)
}

#[test]
fn sigkill_during_commits_never_leaves_a_mixed_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("db");
    let log = dir.path().join("child-stderr.log");
    let seed = std::env::var("BITCRAPS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            nanos | 1
        });
    let context = || {
        format!(
            "seed {seed} (rerun with BITCRAPS_CRASH_SEED={seed}); child stderr: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    };
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut last: Option<u64> = None;
    let mut advanced = 0;

    for cycle in 0..CYCLES {
        let mut child = spawn_child("crash_child", CHILD_ENV, &db, &log);
        // Kept open until the child is dead, so that its prints never fail.
        let mut stdout = child.stdout.take();
        // Most kills land inside the commit loop: wait until the child has
        // opened the store, then a little longer. Every fifth lands at a random
        // moment after spawning instead: during startup, open or recovery.
        let delay = if cycle % 5 == 4 {
            rng.below(60)
        } else {
            let stdout = stdout.take().expect("piped stdout");
            if !wait_until_ready(stdout, Duration::from_secs(60)) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child did not open the store; {}", context());
            }
            if cycle == 0 {
                // While the child holds the database, a second open fails cleanly.
                let err = Store::open(&db).expect_err("the child holds the lock");
                assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
            }
            rng.below(40)
        };
        std::thread::sleep(Duration::from_millis(delay));
        if let Some(status) = child.try_wait().expect("poll child") {
            panic!("child exited by itself with {status}; {}", context());
        }
        child.kill().expect("SIGKILL child");
        child.wait().expect("reap child");
        drop(stdout);

        let store = Store::open(&db).unwrap_or_else(|e| panic!("reopen: {e}; {}", context()));
        let now = verify(&store);
        assert!(
            now >= last,
            "went back from {last:?} to {now:?}; {}",
            context()
        );
        if now > last {
            advanced += 1;
        }
        last = now;
    }
    eprintln!(
        "crash test: {CYCLES} kills, store advanced in {advanced}, reached height {last:?}, \
         {:.1} s, seed {seed}",
        started.elapsed().as_secs_f64()
    );
    // A sanity check that blocks were being committed when the kills came; low
    // enough not to fail on a slow, busy machine.
    assert!(
        advanced >= 3,
        "only {advanced} of {CYCLES} cycles committed anything; {}",
        context()
    );
}
