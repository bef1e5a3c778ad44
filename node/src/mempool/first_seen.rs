//! When this node first saw each transaction, for the finality-latency
//! metric: [`FirstSeen`] remembers the instant a transaction was first
//! admitted to the mempool (from the API, gossip, the journal or the
//! validator's own slashing) until the chain applies the block that
//! includes it.
//!
//! It is separate from the pool's entries because a validator's consensus
//! core removes a finalized block's transactions from the pool
//! (`MempoolSource::finalized`) possibly before the chain has applied that
//! block; the instant must outlive that. It is bounded: past its capacity
//! the oldest instants are forgotten (a transaction evicted or expired
//! without inclusion is never taken, so it leaves this way).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use consensus::hash::TxHash;

/// First-seen instants of recent transactions, at most `capacity`, oldest
/// forgotten first.
#[derive(Debug)]
pub(super) struct FirstSeen {
    capacity: usize,
    /// Insertion sequence → hash: the eviction order.
    order: BTreeMap<u64, TxHash>,
    /// Hash → (its sequence in `order`, when it was first seen).
    seen: HashMap<TxHash, (u64, Instant)>,
    next: u64,
}

impl FirstSeen {
    /// An empty record keeping at most `capacity` instants (at least one).
    pub(super) fn new(capacity: usize) -> FirstSeen {
        FirstSeen {
            capacity: capacity.max(1),
            order: BTreeMap::new(),
            seen: HashMap::new(),
            next: 0,
        }
    }

    /// Records `at` for `hash` unless an earlier instant is still
    /// remembered, forgetting the oldest instant if full.
    pub(super) fn note(&mut self, hash: TxHash, at: Instant) {
        if self.seen.contains_key(&hash) {
            return;
        }
        while self.seen.len() >= self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.seen.remove(&oldest);
        }
        self.order.insert(self.next, hash);
        self.seen.insert(hash, (self.next, at));
        self.next += 1;
    }

    /// Takes (and forgets) the instant `hash` was first seen, if still
    /// remembered.
    pub(super) fn take(&mut self, hash: &TxHash) -> Option<Instant> {
        let (sequence, at) = self.seen.remove(hash)?;
        self.order.remove(&sequence);
        Some(at)
    }

    /// How many instants are remembered.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use consensus::hash::{HashDomain, hash};

    use super::*;

    fn tx_hash(n: u8) -> TxHash {
        hash(HashDomain::SignedTransaction, &[n])
    }

    #[test]
    fn keeps_the_first_instant_and_forgets_the_oldest_past_capacity() {
        let start = Instant::now();
        let mut seen = FirstSeen::new(2);
        seen.note(tx_hash(1), start);
        seen.note(tx_hash(1), start + Duration::from_secs(5));
        seen.note(tx_hash(2), start + Duration::from_secs(1));
        seen.note(tx_hash(3), start + Duration::from_secs(2));
        assert_eq!(seen.len(), 2);
        assert_eq!(seen.take(&tx_hash(1)), None, "the oldest is forgotten");
        assert_eq!(seen.take(&tx_hash(2)), Some(start + Duration::from_secs(1)));
        assert_eq!(seen.take(&tx_hash(2)), None, "taken once");
        assert_eq!(seen.take(&tx_hash(3)), Some(start + Duration::from_secs(2)));
        assert_eq!(seen.len(), 0);
    }
}
