//! Transaction batches: the payload of the transaction gossip topic
//! (`bitcraps/<chain>/txs/3`).
//!
//! One gossip message per transaction made gossipsub, noise/yamux and the
//! network task about a fifth of a validator's CPU (docs/performance-profile.md):
//! each message pays the same per-message costs (message id, duplicate
//! cache, validation round trip, one frame per mesh peer, IHAVE entries)
//! whatever its size. A batch pays them once for up to [`MAX_BATCH_TXS`]
//! transactions.
//!
//! ## Wire format
//!
//! ```text
//! nonce: u64 LE (any value, chosen by the publisher)
//! count: u32 LE (1 ..= MAX_BATCH_TXS)
//! count × { len: u32 LE (1 ..= MAX_TX_BYTES), len bytes: one signed transaction }
//! ```
//!
//! The whole message is at most [`MAX_BATCH_BYTES`] (checked first, then
//! the nonce and the count before anything is allocated, then each length
//! before its bytes are looked at). Fixed-width integers have one
//! encoding, each transaction must be its own canonical encoding, nothing
//! may follow the last one and no transaction may appear twice, so a
//! batch has exactly one encoding and its gossip message id (BLAKE3 of the
//! bytes) names it: relays of one batch, whoever sends them, are one
//! message, deduplicated by every node's duplicate cache.
//!
//! ## Why a nonce
//!
//! The nonce makes two publications of the same transactions two
//! messages. Gossipsub refuses to publish a message id it published in
//! the last minute (its duplicate cache), and without the nonce a
//! re-gossip of the same transactions (after a partition heals, or to a
//! peer that joined since) is the same bytes, so the same id: nothing went
//! out until the cache expired. The `TxBatcher` gives each batch the
//! next value of a counter that starts at a random value, so a node's
//! batches stay distinct across restarts too. Receivers attach no meaning
//! to the nonce; a peer that picks the same one twice only gets its
//! second message dropped as a duplicate, and a peer that varies it
//! to resend known transactions only costs receivers a hash per
//! transaction (`split_batch`; known ones are skipped before their
//! signature is checked).
//!
//! Version 2 of the topic (`txs/2`) had no nonce; the topic name changed
//! with the format (see [`Topics`](super::Topics)).

use std::collections::HashSet;
use std::time::Duration;

use consensus::encoding::DecodeError;
use consensus::hash::{HashDomain, TxHash, hash};
use consensus::tx::{MAX_TX_BYTES, SignedTransaction};
use tokio::time::Instant;

/// The most transactions in one batch.
pub const MAX_BATCH_TXS: usize = 256;

/// The largest batch on the wire, in bytes: far below gossipsub's frame
/// limit, and small enough that one batch takes a few milliseconds on a
/// slow link rather than holding up block gossip behind it.
pub const MAX_BATCH_BYTES: usize = 64 * 1024;

/// The bytes of the publisher's nonce in front of a batch.
const NONCE_BYTES: usize = 8;
/// The bytes of the count after the nonce.
const COUNT_BYTES: usize = 4;
/// The bytes in front of the first transaction.
const HEADER_BYTES: usize = NONCE_BYTES + COUNT_BYTES;
/// The bytes of the length in front of each transaction.
const LEN_BYTES: usize = 4;

/// The default time the first transaction of a batch waits for others
/// before the batch is published (`network.tx_batch_linger_ms`). Short
/// enough that a bet from a terminal is not visibly slower (a block takes
/// hundreds of milliseconds), long enough that at a few hundred bets a
/// second each batch carries several.
pub const DEFAULT_TX_BATCH_LINGER: Duration = Duration::from_millis(5);

/// The longest linger accepted: past it, batching costs more latency than
/// it saves CPU.
pub const MAX_TX_BATCH_LINGER: Duration = Duration::from_secs(1);

// The largest transaction always fits in a batch on its own.
const _: () = assert!(HEADER_BYTES + LEN_BYTES + MAX_TX_BYTES <= MAX_BATCH_BYTES);

/// Why bytes are not a transaction batch. Every one is provable junk: an
/// honest node never sends it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// Over [`MAX_BATCH_BYTES`]; not looked at.
    #[error("the batch is {len} bytes, over the limit of {max} bytes")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Shorter than its nonce and count, or ends inside a length or a
    /// transaction.
    #[error("the batch ends early, inside item {index}")]
    Truncated {
        /// The item being read (0 for the nonce and the count).
        index: usize,
    },
    /// The count is 0 or over [`MAX_BATCH_TXS`].
    #[error("a batch holds 1 to {max} transactions, not {count}")]
    BadCount {
        /// The count read.
        count: u64,
        /// The limit.
        max: usize,
    },
    /// A transaction's length is 0 or over `MAX_TX_BYTES`.
    #[error("transaction {index} claims {len} bytes; a transaction is 1 to {max} bytes")]
    BadLength {
        /// Its position.
        index: usize,
        /// The length read.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// Bytes after the last transaction.
    #[error("{extra} bytes follow the last transaction")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// The same transaction twice.
    #[error("transaction {index} repeats an earlier one")]
    Duplicate {
        /// The position of the repeat.
        index: usize,
    },
    /// A transaction does not decode (malformed or not canonical).
    #[error("transaction {index}: {source}")]
    Transaction {
        /// Its position.
        index: usize,
        /// Why.
        #[source]
        source: DecodeError,
    },
}

/// One transaction of a batch as it arrived: its canonical bytes and the
/// hash of those bytes (the transaction's hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BatchItem<'a> {
    pub bytes: &'a [u8],
    pub hash: TxHash,
}

/// A batch's framing, read by [`split_batch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SplitBatch<'a> {
    /// The publisher's nonce (no meaning to receivers).
    pub nonce: u64,
    /// The transactions, in order.
    pub items: Vec<BatchItem<'a>>,
}

/// Reads a batch's framing: the size, the nonce, the count and each
/// length within their bounds, nothing trailing, no transaction twice.
/// The transactions themselves are not decoded (see [`decode_batch`]), so
/// a caller can skip the ones it already has: equal hashes mean equal
/// bytes, and the bytes it has are canonical.
pub(crate) fn split_batch(data: &[u8]) -> Result<SplitBatch<'_>, BatchError> {
    if data.len() > MAX_BATCH_BYTES {
        return Err(BatchError::TooLarge {
            len: data.len(),
            max: MAX_BATCH_BYTES,
        });
    }
    let (nonce, rest) = data
        .split_first_chunk::<NONCE_BYTES>()
        .ok_or(BatchError::Truncated { index: 0 })?;
    let nonce = u64::from_le_bytes(*nonce);
    let (count, mut rest) = read_u32(rest).ok_or(BatchError::Truncated { index: 0 })?;
    if count == 0 || count as usize > MAX_BATCH_TXS {
        return Err(BatchError::BadCount {
            count: u64::from(count),
            max: MAX_BATCH_TXS,
        });
    }
    // Bounded by MAX_BATCH_TXS just above.
    let mut items = Vec::with_capacity(count as usize);
    let mut seen = HashSet::with_capacity(count as usize);
    for index in 0..count as usize {
        let (len, after) = read_u32(rest).ok_or(BatchError::Truncated { index })?;
        if len == 0 || len as usize > MAX_TX_BYTES {
            return Err(BatchError::BadLength {
                index,
                len: u64::from(len),
                max: MAX_TX_BYTES,
            });
        }
        let bytes = after
            .get(..len as usize)
            .ok_or(BatchError::Truncated { index })?;
        rest = &after[len as usize..];
        let item = BatchItem {
            bytes,
            hash: hash(HashDomain::SignedTransaction, bytes),
        };
        if !seen.insert(item.hash) {
            return Err(BatchError::Duplicate { index });
        }
        items.push(item);
    }
    if !rest.is_empty() {
        return Err(BatchError::TrailingBytes { extra: rest.len() });
    }
    Ok(SplitBatch { nonce, items })
}

/// A decoded batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// The publisher's nonce: it makes each publication a distinct gossip
    /// message and means nothing else (see the module documentation).
    pub nonce: u64,
    /// The transactions, in the batch's order.
    pub txs: Vec<SignedTransaction>,
}

/// Decodes a whole batch: the framing ([`split_batch`]), then every
/// transaction (bounded and canonical). What it accepts re-encodes
/// ([`encode_batch`] with its nonce) to the same bytes.
pub fn decode_batch(data: &[u8]) -> Result<Batch, BatchError> {
    let split = split_batch(data)?;
    let txs = split
        .items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            SignedTransaction::decode(item.bytes)
                .map_err(|source| BatchError::Transaction { index, source })
        })
        .collect::<Result<_, _>>()?;
    Ok(Batch {
        nonce: split.nonce,
        txs,
    })
}

/// Encodes transactions as a batch with the publisher's `nonce`. The
/// caller keeps within the bounds (the [`TxBatcher`] does); nothing here
/// checks them, so tests can build oversized batches.
pub fn encode_batch<T: AsRef<[u8]>>(nonce: u64, txs: &[T]) -> Vec<u8> {
    let len = HEADER_BYTES
        + txs
            .iter()
            .map(|tx| LEN_BYTES + tx.as_ref().len())
            .sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&nonce.to_le_bytes());
    out.extend_from_slice(&(txs.len() as u32).to_le_bytes());
    for tx in txs {
        out.extend_from_slice(&(tx.as_ref().len() as u32).to_le_bytes());
        out.extend_from_slice(tx.as_ref());
    }
    out
}

/// The transaction count of a batch this node encoded, read from its
/// header without decoding it (0 if it is too short to have one).
pub(crate) fn batch_count(batch: &[u8]) -> u64 {
    batch
        .get(NONCE_BYTES..)
        .and_then(read_u32)
        .map_or(0, |(count, _)| u64::from(count))
}

/// A random first nonce for a node's [`TxBatcher`], so that a restarted
/// node does not publish the batches it published before the restart
/// (peers' duplicate caches may still hold them). Without an OS random
/// source the clock does: it only has to differ between restarts.
pub(crate) fn first_batch_nonce() -> u64 {
    let mut bytes = [0u8; NONCE_BYTES];
    if getrandom::fill(&mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        // Truncating keeps the fast-moving low bits.
        .map_or(0, |since| since.as_nanos() as u64)
}

fn read_u32(data: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = data.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}

/// Why the batcher did not take a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PushError {
    /// The same transaction waits in the batch already.
    #[error("the transaction is already in the batch being filled")]
    Duplicate,
    /// Over `MAX_TX_BYTES`: no honest node would accept it.
    #[error("the transaction is {len} bytes, over {max}")]
    TooLarge { len: usize, max: usize },
}

/// Collects published transactions into batches: a batch goes out when it
/// is full (by count or by bytes) or when its first transaction has waited
/// `linger`. Each batch gets the next nonce, so no two of its batches are
/// the same gossip message even when they carry the same transactions (a
/// re-gossip). Pure (the caller supplies the time and the first nonce),
/// so it is tested without a network.
#[derive(Debug)]
pub(crate) struct TxBatcher {
    linger: Duration,
    txs: Vec<Vec<u8>>,
    hashes: HashSet<TxHash>,
    /// The encoded size of the batch so far.
    bytes: usize,
    deadline: Option<Instant>,
    /// The nonce of the next batch.
    next_nonce: u64,
}

impl TxBatcher {
    /// A batcher whose first batch has nonce `first_nonce` (the network
    /// picks it at random, so batches stay distinct across restarts).
    pub fn new(linger: Duration, first_nonce: u64) -> TxBatcher {
        TxBatcher {
            linger,
            txs: Vec::new(),
            hashes: HashSet::new(),
            bytes: HEADER_BYTES,
            deadline: None,
            next_nonce: first_nonce,
        }
    }

    /// Whether no transaction is waiting.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// How many transactions are waiting.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// When the waiting batch is due, if any is waiting.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Adds an encoded transaction at `now`. Returns a batch to publish at
    /// once when one filled up: the waiting one if `tx` did not fit beside
    /// it (then `tx` starts the next), or the one `tx` completed.
    pub fn push(&mut self, tx: Vec<u8>, now: Instant) -> Result<Option<Vec<u8>>, PushError> {
        if tx.len() > MAX_TX_BYTES {
            return Err(PushError::TooLarge {
                len: tx.len(),
                max: MAX_TX_BYTES,
            });
        }
        let tx_hash = hash(HashDomain::SignedTransaction, &tx);
        if self.hashes.contains(&tx_hash) {
            return Err(PushError::Duplicate);
        }
        let mut full = None;
        if self.bytes + LEN_BYTES + tx.len() > MAX_BATCH_BYTES {
            full = self.take();
        }
        if self.txs.is_empty() {
            self.deadline = Some(now + self.linger);
        }
        self.bytes += LEN_BYTES + tx.len();
        self.hashes.insert(tx_hash);
        self.txs.push(tx);
        if self.txs.len() == MAX_BATCH_TXS {
            // Only one batch can fill per push: a fresh batch holds one
            // transaction.
            debug_assert!(full.is_none());
            full = self.take();
        }
        Ok(full)
    }

    /// The waiting batch, encoded, leaving the batcher empty.
    pub fn take(&mut self) -> Option<Vec<u8>> {
        if self.txs.is_empty() {
            return None;
        }
        let batch = encode_batch(self.next_nonce, &self.txs);
        // Wrapping: only distinctness from recent batches matters, and 2^64
        // batches are far apart in time.
        self.next_nonce = self.next_nonce.wrapping_add(1);
        debug_assert_eq!(batch.len(), self.bytes);
        self.txs.clear();
        self.hashes.clear();
        self.bytes = HEADER_BYTES;
        self.deadline = None;
        Some(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consensus::tx::{Action, Transaction};
    use game_rules::Chips;
    use proptest::prelude::*;
    use wallet::{ChainId, Keypair};

    fn tx(nonce: u64) -> SignedTransaction {
        let key = Keypair::from_secret_bytes(&[3; 32]);
        Transaction {
            chain_id: ChainId::new([1; 32]),
            sender: key.public_key(),
            nonce,
            fee: Chips(1),
            expiry_height: 100,
            action: Action::Transfer {
                to: Keypair::from_secret_bytes(&[4; 32]).address(),
                amount: Chips(nonce),
            },
        }
        .sign(&key)
    }

    #[test]
    fn a_batch_round_trips() {
        let txs: Vec<SignedTransaction> = (0..5).map(tx).collect();
        let encoded: Vec<Vec<u8>> = txs.iter().map(SignedTransaction::encode).collect();
        let batch = encode_batch(7, &encoded);
        assert_eq!(
            decode_batch(&batch).unwrap(),
            Batch {
                nonce: 7,
                txs: txs.clone()
            }
        );
        let items = split_batch(&batch).unwrap().items;
        assert_eq!(items.len(), 5);
        assert_eq!(items[2].hash, txs[2].hash());
        assert_eq!(items[2].bytes, &encoded[2][..]);
    }

    #[test]
    fn junk_and_non_canonical_batches_are_refused() {
        let one = tx(1).encode();
        let good = encode_batch(u64::MAX, &[&one]);
        assert!(decode_batch(&good).is_ok());
        let refused = |data: &[u8]| decode_batch(data).unwrap_err();

        assert_eq!(refused(&[]), BatchError::Truncated { index: 0 });
        // A nonce without a count.
        assert_eq!(refused(&good[..11]), BatchError::Truncated { index: 0 });
        assert!(matches!(
            refused(&encode_batch::<&[u8]>(0, &[])),
            BatchError::BadCount { count: 0, .. }
        ));
        // A huge count is refused before anything is allocated for it.
        let mut huge = good.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(refused(&huge), BatchError::BadCount { .. }));
        let mut too_many = good.clone();
        too_many[8..12].copy_from_slice(&(MAX_BATCH_TXS as u32 + 1).to_le_bytes());
        assert!(matches!(refused(&too_many), BatchError::BadCount { .. }));
        // A length over MAX_TX_BYTES, or zero.
        let mut long = good.clone();
        long[12..16].copy_from_slice(&(MAX_TX_BYTES as u32 + 1).to_le_bytes());
        assert!(matches!(refused(&long), BatchError::BadLength { .. }));
        let mut empty_tx = good[..16].to_vec();
        empty_tx[12..16].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(
            refused(&empty_tx),
            BatchError::BadLength { len: 0, .. }
        ));
        // Cut short, or with bytes after the end.
        assert_eq!(
            refused(&good[..good.len() - 1]),
            BatchError::Truncated { index: 0 }
        );
        let mut two = good.clone();
        two[8..12].copy_from_slice(&2u32.to_le_bytes());
        assert_eq!(refused(&two), BatchError::Truncated { index: 1 });
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(refused(&trailing), BatchError::TrailingBytes { extra: 1 });
        // The same transaction twice.
        assert_eq!(
            refused(&encode_batch(0, &[&one, &one])),
            BatchError::Duplicate { index: 1 }
        );
        // A transaction that is not canonical (a byte appended inside its
        // frame) or not a transaction.
        let mut padded = one.clone();
        padded.push(0);
        assert!(matches!(
            refused(&encode_batch(0, &[&padded])),
            BatchError::Transaction { index: 0, .. }
        ));
        assert!(matches!(
            refused(&encode_batch(0, &[&[7u8; 40][..]])),
            BatchError::Transaction { index: 0, .. }
        ));
        // Over the size limit: refused before it is read.
        let big = vec![0u8; MAX_BATCH_BYTES + 1];
        assert_eq!(
            refused(&big),
            BatchError::TooLarge {
                len: MAX_BATCH_BYTES + 1,
                max: MAX_BATCH_BYTES
            }
        );
    }

    #[test]
    fn the_batcher_flushes_when_full_by_count_or_by_bytes() {
        let start = Instant::now();
        let linger = Duration::from_millis(5);
        let mut batcher = TxBatcher::new(linger, 10);
        assert_eq!(batcher.deadline(), None);
        assert_eq!(batcher.take(), None);
        // By count: the 256th transaction completes a batch.
        let mut batches = Vec::new();
        for nonce in 0..MAX_BATCH_TXS as u64 + 1 {
            let later = start + Duration::from_micros(nonce);
            if let Some(batch) = batcher.push(tx(nonce).encode(), later).unwrap() {
                batches.push(batch);
            }
        }
        assert_eq!(batches.len(), 1);
        let first = decode_batch(&batches[0]).unwrap();
        assert_eq!((first.nonce, first.txs.len()), (10, MAX_BATCH_TXS));
        assert_eq!(batch_count(&batches[0]), MAX_BATCH_TXS as u64);
        assert_eq!(batch_count(&batches[0][..11]), 0);
        // The 257th waits in a new batch, due `linger` after it came.
        assert_eq!(batcher.len(), 1);
        assert_eq!(
            batcher.deadline(),
            Some(start + Duration::from_micros(MAX_BATCH_TXS as u64) + linger)
        );
        // The same transaction twice in one batch is refused.
        assert_eq!(
            batcher.push(tx(MAX_BATCH_TXS as u64).encode(), start),
            Err(PushError::Duplicate)
        );
        let rest = batcher.take().unwrap();
        assert_eq!(
            decode_batch(&rest).unwrap(),
            Batch {
                nonce: 11,
                txs: vec![tx(MAX_BATCH_TXS as u64)]
            }
        );
        assert!(batcher.is_empty() && batcher.deadline().is_none());

        // By bytes: transactions of 2,000 bytes (opaque to the batcher),
        // 32 fit under 64 KiB with their framing, the 33rd starts the next.
        let mut flushed = Vec::new();
        for i in 0..33u32 {
            let mut big = vec![0u8; 2_000];
            big[..4].copy_from_slice(&i.to_le_bytes());
            if let Some(batch) = batcher.push(big, start).unwrap() {
                flushed.push(batch);
            }
        }
        assert_eq!(flushed.len(), 1);
        assert!(flushed[0].len() <= MAX_BATCH_BYTES);
        assert_eq!(split_batch(&flushed[0]).unwrap().items.len(), 32);
        assert_eq!(batcher.len(), 1);
        assert_eq!(
            batcher.push(vec![0; MAX_TX_BYTES + 1], start),
            Err(PushError::TooLarge {
                len: MAX_TX_BYTES + 1,
                max: MAX_TX_BYTES
            })
        );
    }

    #[test]
    fn the_same_transactions_published_again_make_a_different_message() {
        // A re-gossip batches transactions the batcher sent before: the
        // bytes (so the gossip message id) differ, the transactions do not.
        let now = Instant::now();
        let mut batcher = TxBatcher::new(Duration::from_millis(5), u64::MAX);
        let mut publish = || {
            batcher.push(tx(1).encode(), now).unwrap();
            batcher.take().unwrap()
        };
        let (first, second) = (publish(), publish());
        assert_ne!(first, second);
        let (first, second) = (
            decode_batch(&first).unwrap(),
            decode_batch(&second).unwrap(),
        );
        assert_eq!(first.txs, second.txs);
        // The counter wraps rather than overflowing.
        assert_eq!((first.nonce, second.nonce), (u64::MAX, 0));
    }

    proptest! {
        /// Whatever the transactions, the batcher's batches are within
        /// the bounds, decode to what was pushed, in order, and re-encode
        /// to themselves.
        #[test]
        fn batches_round_trip_within_bounds(
            nonces in proptest::collection::vec(0u64..400, 1..300),
            first_nonce in any::<u64>(),
        ) {
            let mut batcher = TxBatcher::new(Duration::from_millis(5), first_nonce);
            let now = Instant::now();
            let mut pushed = Vec::new();
            let mut batches = Vec::new();
            for nonce in nonces {
                match batcher.push(tx(nonce).encode(), now) {
                    Ok(full) => {
                        pushed.push(tx(nonce));
                        batches.extend(full);
                    }
                    Err(PushError::Duplicate) => {}
                    Err(other) => panic!("{other}"),
                }
            }
            batches.extend(batcher.take());
            let mut decoded = Vec::new();
            for (i, batch) in batches.iter().enumerate() {
                prop_assert!(batch.len() <= MAX_BATCH_BYTES);
                let Batch { nonce, txs } = decode_batch(batch).unwrap();
                // Consecutive nonces: no two batches are one gossip message.
                prop_assert_eq!(nonce, first_nonce.wrapping_add(i as u64));
                prop_assert!(!txs.is_empty() && txs.len() <= MAX_BATCH_TXS);
                let encoded: Vec<Vec<u8>> = txs.iter().map(SignedTransaction::encode).collect();
                prop_assert_eq!(&encode_batch(nonce, &encoded), batch);
                decoded.extend(txs);
            }
            prop_assert_eq!(decoded, pushed);
        }

        /// Arbitrary bytes never panic the decoder, and whatever it
        /// accepts re-encodes to the same bytes (one encoding per batch).
        #[test]
        fn the_decoder_accepts_only_canonical_batches(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(Batch { nonce, txs }) = decode_batch(&data) {
                let encoded: Vec<Vec<u8>> = txs.iter().map(SignedTransaction::encode).collect();
                prop_assert_eq!(encode_batch(nonce, &encoded), data);
            }
        }

        /// A valid batch with one byte changed, cut or extended either
        /// fails to decode or decodes to a batch that re-encodes to the
        /// changed bytes.
        #[test]
        fn mutated_batches_are_refused_or_canonical(
            n in 1u64..4,
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            cut in any::<bool>(),
        ) {
            let encoded: Vec<Vec<u8>> = (0..n).map(|i| tx(i).encode()).collect();
            let mut data = encode_batch(3, &encoded);
            let i = at.index(data.len());
            if cut {
                data.truncate(i);
            } else {
                data[i] = byte;
            }
            if let Ok(Batch { nonce, txs }) = decode_batch(&data) {
                let again: Vec<Vec<u8>> = txs.iter().map(SignedTransaction::encode).collect();
                prop_assert_eq!(encode_batch(nonce, &again), data);
            }
        }
    }
}
