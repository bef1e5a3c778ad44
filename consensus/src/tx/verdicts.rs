//! # Signature verdicts, remembered
//!
//! A node meets each transaction several times: at its API or gossip entry
//! (the mempool), in the block a leader proposes (the engine's stateless
//! check), in the finalized block gossiped to followers, and when a
//! follower applies it. Each meeting used to verify the same ed25519
//! signature again, although the answer cannot change: verification
//! is a pure function of the signed bytes. A [`SignatureCache`] remembers
//! which transactions' signatures verified so each is verified once per
//! node.
//!
//! ## What is remembered
//!
//! The key is the [`TxHash`], `BLAKE3-derive-key` over the **complete**
//! signed encoding: chain id, sender, nonce, fee, expiry, action and
//! signature. Any change to any of them is another key, so a tampered,
//! re-signed or replayed-on-another-chain transaction never hits. The
//! value is implicit: an entry means "the sender's signature over this
//! transaction, and every signature of its slashing evidence, verify" —
//! the part of [`SignedTransaction::check`] that costs. Only successes
//! are recorded, so a failure is always computed again and reported
//! exactly as without the cache; a hit can only skip work whose result is
//! known to be success. The cheap stateless rules (chain id,
//! well-formedness) are checked every time, before the cache is asked.
//!
//! ## Why a process-wide instance
//!
//! [`SignatureCache::process`] is one instance per process, used by
//! [`SignedTransaction::check`] and [`Block::check`](crate::block::Block::check).
//! The explicit forms ([`SignedTransaction::check_with`],
//! [`Block::check_with`](crate::block::Block::check_with)) take any instance, for tests and for
//! callers who want their own. The shared instance is the default
//! because of the code's shape: the checks are made at about eight call
//! sites in four subsystems (the API, the mempool's entry, gossip
//! validation, the consensus engine's stateless check, the follower's
//! apply), each constructed separately, and threading one handle through
//! all of their constructors would tie every one of them to this
//! optimisation. Sharing loses nothing: what is cached is a fact about
//! bytes, true on every node and every chain alike (the chain id is part
//! of the key), so two in-process nodes (tests) sharing it is as correct
//! as one node using it; and the memory is fixed.
//!
//! ## Bounds and concurrency
//!
//! At most [`SignatureCache::capacity`] hashes (32 bytes each plus the set
//! and queue overhead: about 5 MiB for the process default of
//! [`DEFAULT_CAPACITY`]), evicted first in, first out. The entries are
//! split over [`SHARDS`] independently locked shards chosen by the hash's
//! first byte, so concurrent checks (the API's blocking threads, the
//! engine, gossip validation) rarely wait on one another; a lookup is one
//! uncontended lock and one hash-set probe. Nothing iterates the sets, so
//! their order never matters, and no verdict depends on the cache's
//! contents (evicting an entry only costs one more verification).

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};

use crate::hash::TxHash;

/// How many transactions the process-wide cache remembers: several full
/// blocks ([`MAX_TXS_PER_BLOCK`](crate::block::MAX_TXS_PER_BLOCK) is
/// 4,096) plus what waits in a mempool between entry and finality, at
/// 10,000 transactions per second for a few seconds.
pub const DEFAULT_CAPACITY: usize = 1 << 16;

/// How many independently locked parts a cache has.
pub const SHARDS: usize = 16;

static PROCESS: LazyLock<SignatureCache> = LazyLock::new(|| SignatureCache::new(DEFAULT_CAPACITY));

/// How many transaction signature verdicts a cache computed and answered,
/// since it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignatureCheckCounts {
    /// Verified and valid (then remembered).
    pub verified: u64,
    /// Verified and invalid (never remembered).
    pub invalid: u64,
    /// Answered from the cache: no signature was verified.
    pub cached: u64,
}

/// One part of the cache: the set answers lookups, the queue keeps
/// insertion order for eviction. Both hold the same hashes.
#[derive(Debug, Default)]
struct Shard {
    set: HashSet<TxHash>,
    order: VecDeque<TxHash>,
}

/// A bounded set of transactions whose signatures verified (see the
/// [module documentation](self)).
#[derive(Debug)]
pub struct SignatureCache {
    shards: Box<[Mutex<Shard>]>,
    shard_capacity: usize,
    verified: AtomicU64,
    invalid: AtomicU64,
    cached: AtomicU64,
}

impl SignatureCache {
    /// A cache of at most `capacity` entries (rounded down to a multiple
    /// of the number of shards once it has [`SHARDS`] or more; 0 keeps
    /// nothing and verifies every time).
    pub fn new(capacity: usize) -> SignatureCache {
        let shards = SHARDS.min(capacity);
        let shard_capacity = capacity.checked_div(shards).unwrap_or(0);
        SignatureCache {
            shards: (0..shards).map(|_| Mutex::new(Shard::default())).collect(),
            shard_capacity,
            verified: AtomicU64::new(0),
            invalid: AtomicU64::new(0),
            cached: AtomicU64::new(0),
        }
    }

    /// The process-wide cache, [`DEFAULT_CAPACITY`] entries, used by
    /// [`SignedTransaction::check`](crate::tx::SignedTransaction::check)
    /// and [`Block::check`](crate::block::Block::check).
    pub fn process() -> &'static SignatureCache {
        &PROCESS
    }

    /// The most entries it holds.
    pub fn capacity(&self) -> usize {
        self.shard_capacity * self.shards.len()
    }

    /// How many entries it holds now.
    pub fn len(&self) -> usize {
        (0..self.shards.len())
            .map(|i| self.shard(i).set.len())
            .sum()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the transaction with this hash is known to verify.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.shard_of(hash)
            .is_some_and(|i| self.shard(i).set.contains(hash))
    }

    /// The counts so far.
    pub fn counts(&self) -> SignatureCheckCounts {
        SignatureCheckCounts {
            verified: self.verified.load(Ordering::Relaxed),
            invalid: self.invalid.load(Ordering::Relaxed),
            cached: self.cached.load(Ordering::Relaxed),
        }
    }

    /// `Ok` at once if `hash` is known to verify; otherwise runs `verify`
    /// (which must be the full signature check of the transaction whose
    /// complete signed encoding hashes to `hash`) and remembers a success.
    pub(crate) fn verdict<E>(
        &self,
        hash: &TxHash,
        verify: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        if self.hit(hash) {
            return Ok(());
        }
        let verdict = verify();
        match verdict {
            Ok(()) => self.record_verified(std::slice::from_ref(hash)),
            Err(_) => self.record_invalid(1),
        }
        verdict
    }

    /// Like [`SignatureCache::contains`], counting a hit as `cached`.
    pub(crate) fn hit(&self, hash: &TxHash) -> bool {
        let hit = self.contains(hash);
        if hit {
            self.cached.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// Remembers transactions whose signatures were just verified, and
    /// counts them as `verified`.
    pub(crate) fn record_verified(&self, hashes: &[TxHash]) {
        self.verified
            .fetch_add(hashes.len() as u64, Ordering::Relaxed);
        if self.shard_capacity == 0 {
            return;
        }
        for hash in hashes {
            let Some(i) = self.shard_of(hash) else {
                continue;
            };
            let mut shard = self.shard(i);
            if shard.set.contains(hash) {
                continue;
            }
            while shard.order.len() >= self.shard_capacity {
                if let Some(old) = shard.order.pop_front() {
                    shard.set.remove(&old);
                }
            }
            // The queue first: if anything between here and the set's
            // insert failed, the queue would hold a hash the set does not,
            // which eviction tolerates; the reverse could exceed the bound.
            shard.order.push_back(*hash);
            shard.set.insert(*hash);
        }
    }

    /// Counts `count` verifications that failed.
    pub(crate) fn record_invalid(&self, count: usize) {
        self.invalid.fetch_add(count as u64, Ordering::Relaxed);
    }

    fn shard_of(&self, hash: &TxHash) -> Option<usize> {
        // The hash is BLAKE3 output: its first byte spreads evenly. Someone
        // grinding transactions into one shard only evicts entries there,
        // which costs re-verification, never a wrong verdict.
        (!self.shards.is_empty()).then(|| usize::from(hash.as_bytes()[0]) % self.shards.len())
    }

    fn shard(&self, index: usize) -> MutexGuard<'_, Shard> {
        // A panic while holding a shard cannot leave a wrong entry (only
        // verified hashes are ever inserted), so a poisoned lock is safe
        // to keep using.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hash::{HashDomain, hash};

    fn h(n: u64) -> TxHash {
        hash(HashDomain::SignedTransaction, &n.to_le_bytes())
    }

    #[test]
    fn a_success_is_remembered_and_a_failure_is_not() {
        let cache = SignatureCache::new(64);
        let mut calls = 0;
        let ok: Result<(), ()> = cache.verdict(&h(1), || {
            calls += 1;
            Ok(())
        });
        assert_eq!(ok, Ok(()));
        let again: Result<(), ()> = cache.verdict(&h(1), || {
            calls += 1;
            Err(())
        });
        assert_eq!(again, Ok(()), "a remembered success is not recomputed");
        assert_eq!(calls, 1);
        for _ in 0..2 {
            let bad: Result<(), &str> = cache.verdict(&h(2), || {
                calls += 1;
                Err("bad")
            });
            assert_eq!(bad, Err("bad"));
        }
        assert_eq!(calls, 3, "a failure is computed every time");
        assert!(!cache.contains(&h(2)));
        assert_eq!(
            cache.counts(),
            SignatureCheckCounts {
                verified: 1,
                invalid: 2,
                cached: 1
            }
        );
    }

    #[test]
    fn capacity_zero_remembers_nothing() {
        let cache = SignatureCache::new(0);
        assert_eq!(cache.capacity(), 0);
        cache.record_verified(&[h(1)]);
        assert!(!cache.contains(&h(1)));
        assert!(cache.is_empty());
        let small = SignatureCache::new(3);
        assert_eq!(small.capacity(), 3);
    }

    #[test]
    fn the_oldest_entry_is_evicted_first() {
        // One shard, so the order is global.
        let cache = SignatureCache::new(1);
        cache.record_verified(&[h(1)]);
        cache.record_verified(&[h(2)]);
        assert!(!cache.contains(&h(1)));
        assert!(cache.contains(&h(2)));
        assert_eq!(cache.len(), 1);
    }

    proptest! {
        #[test]
        fn the_bound_holds_and_recent_entries_stay(
            capacity in 0usize..200,
            inserts in proptest::collection::vec(0u64..500, 0..600),
        ) {
            let cache = SignatureCache::new(capacity);
            prop_assert!(cache.capacity() <= capacity);
            for n in &inserts {
                cache.record_verified(&[h(*n)]);
                prop_assert!(cache.len() <= cache.capacity());
            }
            // The most recent insert is always there (when anything fits).
            if let Some(last) = inserts.last() {
                prop_assert_eq!(cache.contains(&h(*last)), cache.capacity() > 0);
            }
            // Nothing never inserted is there.
            prop_assert!(!cache.contains(&h(1_000)));
        }
    }
}
