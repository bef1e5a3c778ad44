//! # Decoded public keys, remembered
//!
//! [`PublicKey::from_bytes`] decompresses the 32-byte encoding into a curve
//! point (a field square root), re-compresses it to refuse non-canonical
//! encodings (a field inversion) and checks the point is not of small
//! order. Every decode of a transaction pays this for its sender, and a
//! node decodes each transaction several times (its API or gossip entry,
//! the proposed block, the finalized block gossiped to followers): in a
//! saturated validator profile the decompressions were 12% of the CPU,
//! half of what the strict signature checks cost.
//!
//! The result is a pure function of the 32 bytes, so a [`KeyCache`]
//! remembers the decoded keys that were accepted and answers later decodes
//! of the same bytes without the curve arithmetic. Only accepted keys are
//! remembered: a refused encoding is decoded again every time and refused
//! with the same error, exactly as without the cache. A hit returns the
//! key decoded from the same bytes, so no verdict anywhere depends on what
//! the cache holds; eviction only costs one more decompression.
//!
//! ## Bounds and concurrency
//!
//! At most [`KeyCache::capacity`] keys (about 200 bytes each with the set
//! and queue overhead: under 2 MiB for the process default of
//! [`DEFAULT_CAPACITY`]), evicted first in, first out, over [`SHARDS`]
//! independently locked shards chosen by the first byte of the encoding.
//! Nothing iterates the maps, so their order never matters.

use std::collections::{HashMap, VecDeque};
use std::sync::{LazyLock, Mutex, MutexGuard};

use crate::error::KeyError;
use crate::keys::PublicKey;

/// How many keys the process-wide cache remembers: every sender active in
/// the last several blocks on a busy chain.
pub const DEFAULT_CAPACITY: usize = 1 << 13;

/// How many independently locked parts a cache has.
pub const SHARDS: usize = 16;

static PROCESS: LazyLock<KeyCache> = LazyLock::new(|| KeyCache::new(DEFAULT_CAPACITY));

type Encoding = [u8; PublicKey::LENGTH];

#[derive(Debug, Default)]
struct Shard {
    keys: HashMap<Encoding, PublicKey>,
    order: VecDeque<Encoding>,
}

/// A bounded map from public-key encodings to the keys they decoded to
/// (see the [module documentation](self)).
#[derive(Debug)]
pub struct KeyCache {
    shards: Box<[Mutex<Shard>]>,
    shard_capacity: usize,
}

impl KeyCache {
    /// A cache of at most `capacity` keys (rounded down to a multiple of
    /// the number of shards once it has [`SHARDS`] or more; 0 keeps
    /// nothing and decodes every time).
    pub fn new(capacity: usize) -> KeyCache {
        let shards = SHARDS.min(capacity);
        KeyCache {
            shards: (0..shards).map(|_| Mutex::new(Shard::default())).collect(),
            shard_capacity: capacity.checked_div(shards).unwrap_or(0),
        }
    }

    /// The process-wide cache, used by [`PublicKey::from_bytes`].
    pub fn process() -> &'static KeyCache {
        &PROCESS
    }

    /// The most keys it holds.
    pub fn capacity(&self) -> usize {
        self.shard_capacity * self.shards.len()
    }

    /// How many keys it holds now.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| lock(s).map_or(0, |s| s.keys.len()))
            .sum()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key `bytes` decode to, from the cache or by `decode` (whose
    /// success is then remembered).
    pub fn get_or_decode(
        &self,
        bytes: &Encoding,
        decode: impl FnOnce(&Encoding) -> Result<PublicKey, KeyError>,
    ) -> Result<PublicKey, KeyError> {
        let Some(shard) = self.shard(bytes) else {
            return decode(bytes);
        };
        if let Some(key) = lock(shard).and_then(|s| s.keys.get(bytes).copied()) {
            return Ok(key);
        }
        let key = decode(bytes)?;
        if let Some(mut shard) = lock(shard)
            && shard.keys.insert(*bytes, key).is_none()
        {
            shard.order.push_back(*bytes);
            while shard.order.len() > self.shard_capacity {
                if let Some(oldest) = shard.order.pop_front() {
                    shard.keys.remove(&oldest);
                }
            }
        }
        Ok(key)
    }

    fn shard(&self, bytes: &Encoding) -> Option<&Mutex<Shard>> {
        if self.shard_capacity == 0 {
            return None;
        }
        self.shards.get(usize::from(bytes[0]) % self.shards.len())
    }
}

/// A poisoned shard is skipped (decoded without the cache), never trusted
/// half-updated.
fn lock(shard: &Mutex<Shard>) -> Option<MutexGuard<'_, Shard>> {
    shard.lock().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keypair;

    fn key(i: u8) -> PublicKey {
        Keypair::from_secret_bytes(&[i; 32]).public_key()
    }

    #[test]
    fn a_hit_skips_the_decode_and_returns_the_same_key() {
        let cache = KeyCache::new(64);
        let k = key(1);
        let mut decodes = 0;
        for _ in 0..3 {
            let got = cache.get_or_decode(k.as_bytes(), |b| {
                decodes += 1;
                PublicKey::decode_uncached(b)
            });
            assert_eq!(got, Ok(k));
        }
        assert_eq!(decodes, 1);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn refusals_are_never_remembered() {
        let cache = KeyCache::new(64);
        // The identity point's encoding: on the curve, but of small order.
        let mut weak = [0u8; 32];
        weak[0] = 1;
        for _ in 0..2 {
            assert_eq!(
                cache.get_or_decode(&weak, PublicKey::decode_uncached),
                Err(KeyError::WeakPublicKey)
            );
        }
        assert!(cache.is_empty());
        assert_eq!(PublicKey::from_bytes(&weak), Err(KeyError::WeakPublicKey));
    }

    #[test]
    fn it_stays_within_its_capacity_oldest_out_first() {
        let cache = KeyCache::new(SHARDS);
        assert_eq!(cache.capacity(), SHARDS);
        let keys: Vec<PublicKey> = (0..=255).map(key).collect();
        for k in &keys {
            cache
                .get_or_decode(k.as_bytes(), PublicKey::decode_uncached)
                .unwrap();
        }
        assert!(cache.len() <= cache.capacity());
        // Every key still decodes to itself, cached or not.
        for k in &keys {
            assert_eq!(
                cache.get_or_decode(k.as_bytes(), PublicKey::decode_uncached),
                Ok(*k)
            );
        }
    }

    #[test]
    fn a_cache_of_nothing_always_decodes() {
        let cache = KeyCache::new(0);
        let k = key(2);
        let mut decodes = 0;
        for _ in 0..2 {
            cache
                .get_or_decode(k.as_bytes(), |b| {
                    decodes += 1;
                    PublicKey::decode_uncached(b)
                })
                .unwrap();
        }
        assert_eq!(decodes, 2);
    }

    proptest::proptest! {
        /// Through the process cache or not, any 32 bytes decode to the
        /// same verdict and the same key, the second time too.
        #[test]
        fn cached_and_uncached_decodes_agree(bytes: [u8; 32]) {
            let direct = PublicKey::decode_uncached(&bytes);
            proptest::prop_assert_eq!(PublicKey::from_bytes(&bytes), direct.clone());
            proptest::prop_assert_eq!(PublicKey::from_bytes(&bytes), direct);
        }
    }
}
