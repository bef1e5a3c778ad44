//! # Mempool
//!
//! The transactions this node knows that no finalized block has included
//! yet: what the proposer draws its blocks from and what gossip relays.
//!
//! ## Admission
//!
//! A transaction enters through [`Mempool::insert`] as a
//! [`CheckedTransaction`], which can only be made by
//! [`CheckedTransaction::decode`] (at most `MAX_TX_BYTES`, canonical, never
//! panics) or [`CheckedTransaction::check`] — both run
//! `SignedTransaction::check` (chain id, well-formedness, signature)
//! once, so the network's gossip validation and the mempool never verify a
//! signature twice. [`Mempool::insert`] then applies the stateful rules
//! against an [`AccountView`] of the latest applied block, cheapest first:
//!
//! 1. not already pooled (by `TxHash`);
//! 2. not expired: `expiry_height ≥ next_height`;
//! 3. fee ≥ the chain's `min_fee` and ≥ this node's `min_relay_fee`
//!    (faucet requests excepted, as in the ledger);
//! 4. a dealer log only from a dealer of the open resharing round whose log
//!    is not in yet ([`AccountView::takes_dealer_log`]): the ledger would
//!    refuse any other, and at up to 52 KiB for a flat fee junk logs would
//!    be a cheap way to fill blocks;
//! 5. `account_nonce ≤ nonce < account_nonce + max_nonce_ahead` — a nonce
//!    gap is allowed (gossip can deliver nonce 5 before nonce 4), but only
//!    a contiguous run from the account nonce is *executable*;
//! 6. same sender and nonce as a pooled transaction: a replacement, only
//!    if its fee is at least `replacement_fee_bump_percent` higher;
//! 7. at most `max_txs_per_sender` per sender;
//! 8. affordable: the balance covers this fee and *obvious spend* (the
//!    amount of a transfer, bankroll deposit, stake, craps or crash bet)
//!    plus those of the sender's pooled transactions with lower nonces.
//!    Winnings can raise a balance, so this is a conservative filter, not
//!    the ledger's rule;
//! 9. room: at most `max_txs` transactions and `max_bytes` encoded bytes.
//!    When full, the new transaction evicts transactions of *other*
//!    senders with a strictly lower fee, lowest fee first, then oldest by
//!    arrival. Only the last (highest-nonce) transaction of a sender is
//!    ever evicted, so eviction never opens a nonce gap. If that cannot
//!    make room it is refused ([`MempoolError::Full`], with the fee to
//!    beat).
//!
//! Every refusal is a typed [`MempoolError`] whose message says what to do;
//! [`MempoolError::is_invalid_everywhere`] separates what no honest peer
//! would relay (gossip *rejects* it and punishes the relayer) from what
//! depends on this node's view (gossip *ignores* it).
//!
//! ## Leaving
//!
//! [`Mempool::remove_included`] drops a finalized block's transactions (and
//! any pooled transaction of the same sender at or below an included
//! nonce). [`Mempool::on_new_height`] re-validates everything against the
//! new view: stale nonces, expired transactions, fees below a raised
//! minimum and transactions the balance no longer covers are dropped.
//!
//! ## Local transactions and the journal
//!
//! A transaction submitted through this node's own API enters by
//! [`Mempool::insert_local`]: the same rules, but it is marked local
//! (gossip uses [`Mempool::insert`]). The pool is memory only; the
//! [`journal`] keeps the local transactions on disk — appended and synced
//! before the API answers, compacted to [`Mempool::local_transactions`]
//! once the dead records (transactions that left the pool by any of the
//! ways above, or were replaced or evicted) outweigh the live ones — and
//! at start puts them back through [`Mempool::insert_local`], so the
//! admission rules drop what was finalized meanwhile or is no longer
//! valid. Gossiped transactions are not journaled: the peers that sent
//! them still have them.
//!
//! ## Proposing and re-gossip
//!
//! [`Mempool::select`] returns what a proposer should put in a block: from
//! each sender only its executable run, in nonce order; across senders the
//! highest fee first, then the earliest arrival; within a count and a byte
//! budget. [`Mempool::due_for_regossip`] returns the executable
//! transactions that have waited `regossip_after_heights` blocks since they
//! were last published — a transaction published before the gossip mesh
//! formed, or lost to a partition, is published again rather than waiting
//! forever. [`MempoolSource`] hands [`Mempool::select`] to the validator's
//! proposer (`consensus::validator::TransactionSource`). Each batch the
//! network publishes carries a fresh nonce (`network::batch`), so a
//! re-gossiped transaction goes out at once even though gossipsub still
//! remembers the batch that carried it first; peers that have it skip it
//! by hash, before any signature check.
//!
//! ## Determinism
//!
//! All state is in `BTreeMap`s and `BTreeSet`s and "age" is an arrival
//! counter, not a clock: the same calls in the same order give the same
//! pool and the same selections on every machine.

mod error;
mod first_seen;
pub mod journal;
mod source;
mod view;

#[cfg(test)]
mod tests;

pub use error::MempoolError;
pub use journal::{GroupCommit, JOURNAL_FILE, JournalError, JournalLimits, LocalPool, TxJournal};
pub use source::MempoolSource;
pub use view::{AccountState, AccountView};

use first_seen::FirstSeen;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::time::Instant;

use consensus::encoding::encode;
use consensus::hash::{HashDomain, TxHash, hash};
use consensus::tx::{Action, MAX_TX_BYTES, SignedTransaction};
use game_rules::Chips;
use wallet::{Address, ChainId};

/// Limits and policy of a [`Mempool`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// The chain whose transactions are admitted.
    pub chain_id: ChainId,
    /// The most transactions held.
    pub max_txs: usize,
    /// The most encoded bytes held.
    pub max_bytes: usize,
    /// The most transactions held for one sender.
    pub max_txs_per_sender: usize,
    /// How far beyond the sender's next nonce a nonce may be (exclusive).
    pub max_nonce_ahead: u64,
    /// This node's minimum fee, applied on top of the chain's.
    pub min_relay_fee: Chips,
    /// How much higher (in percent, at least one chip more) a fee must be
    /// to replace a pooled transaction with the same sender and nonce.
    pub replacement_fee_bump_percent: u64,
    /// After how many blocks without inclusion a transaction is published
    /// again.
    pub regossip_after_heights: u64,
}

impl MempoolConfig {
    /// The defaults for `chain_id`: 8192 transactions, 4 MiB, 64 per
    /// sender, nonces up to 64 ahead, no relay minimum beyond the chain's,
    /// a 10% replacement bump, re-gossip after 60 blocks (about a minute
    /// at one block a second: past gossipsub's duplicate window).
    pub fn new(chain_id: ChainId) -> MempoolConfig {
        MempoolConfig {
            chain_id,
            max_txs: 8192,
            max_bytes: 4 * 1024 * 1024,
            max_txs_per_sender: 64,
            max_nonce_ahead: 64,
            min_relay_fee: Chips::ZERO,
            replacement_fee_bump_percent: 10,
            regossip_after_heights: 60,
        }
    }
}

/// A transaction that passed every stateless check
/// (`SignedTransaction::check`) for a chain, with its hash and encoded size.
///
/// Only [`CheckedTransaction::decode`], [`CheckedTransaction::check`] and
/// `CheckedTransaction::check_decoded_all` make one, so holding one proves
/// the signature was verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedTransaction {
    tx: SignedTransaction,
    hash: TxHash,
    size: usize,
}

impl CheckedTransaction {
    /// Decodes bytes from outside (at most `MAX_TX_BYTES`, checked first;
    /// canonical; never panics) and checks the result for `chain_id`.
    pub fn decode(bytes: &[u8], chain_id: &ChainId) -> Result<CheckedTransaction, MempoolError> {
        let tx = SignedTransaction::decode(bytes).map_err(MempoolError::Malformed)?;
        tx.check(chain_id).map_err(MempoolError::Invalid)?;
        // `decode` accepted only the canonical encoding, so `bytes` is it.
        Ok(CheckedTransaction {
            hash: hash(HashDomain::SignedTransaction, bytes),
            size: bytes.len(),
            tx,
        })
    }

    /// Checks transactions already decoded from their canonical bytes for
    /// `chain_id`, without encoding them again: each comes with its hash
    /// and encoded size. One result each, in order, the same as checking
    /// each alone; their signatures are verified as one batch
    /// ([`SignedTransaction::check_all`]).
    pub(crate) fn check_decoded_all(
        decoded: Vec<(SignedTransaction, TxHash, usize)>,
        chain_id: &ChainId,
    ) -> Vec<Result<CheckedTransaction, MempoolError>> {
        let (txs, known): (Vec<SignedTransaction>, Vec<(TxHash, usize)>) = decoded
            .into_iter()
            .map(|(tx, hash, size)| (tx, (hash, size)))
            .unzip();
        let verdicts = SignedTransaction::check_all(&txs, chain_id);
        txs.into_iter()
            .zip(known)
            .zip(verdicts)
            .map(|((tx, (hash, size)), verdict)| {
                verdict.map_err(MempoolError::Invalid)?;
                Ok(CheckedTransaction { tx, hash, size })
            })
            .collect()
    }

    /// Checks a transaction built or decoded elsewhere for `chain_id`.
    pub fn check(
        tx: SignedTransaction,
        chain_id: &ChainId,
    ) -> Result<CheckedTransaction, MempoolError> {
        let bytes = encode(&tx);
        if bytes.len() > MAX_TX_BYTES {
            return Err(MempoolError::Malformed(
                consensus::encoding::DecodeError::TooLarge {
                    what: "transaction",
                    len: bytes.len(),
                    max: MAX_TX_BYTES,
                },
            ));
        }
        tx.check(chain_id).map_err(MempoolError::Invalid)?;
        Ok(CheckedTransaction {
            hash: hash(HashDomain::SignedTransaction, &bytes),
            size: bytes.len(),
            tx,
        })
    }

    /// The transaction.
    pub fn tx(&self) -> &SignedTransaction {
        &self.tx
    }

    /// Its hash.
    pub fn hash(&self) -> TxHash {
        self.hash
    }

    /// Its encoded size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The transaction, giving up the proof of checking.
    pub fn into_inner(self) -> SignedTransaction {
        self.tx
    }
}

/// What [`Mempool::insert`] did with an admitted transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// The admitted transaction's hash.
    pub hash: TxHash,
    /// The transaction it replaced (same sender and nonce, lower fee).
    pub replaced: Option<TxHash>,
    /// Transactions evicted to make room.
    pub evicted: Vec<TxHash>,
}

/// What [`Mempool::on_new_height`] dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Nonce below the sender's account nonce (included or superseded).
    pub stale: Vec<TxHash>,
    /// Expiry height passed.
    pub expired: Vec<TxHash>,
    /// Fee below the chain's or this node's minimum.
    pub underpriced: Vec<TxHash>,
    /// No longer covered by the sender's balance.
    pub unaffordable: Vec<TxHash>,
}

impl Pruned {
    /// How many transactions were dropped in all.
    pub fn len(&self) -> usize {
        self.stale.len() + self.expired.len() + self.underpriced.len() + self.unaffordable.len()
    }

    /// Whether nothing was dropped.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Counters since the mempool was created, for the metrics module
/// (`bitcraps_mempool_*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MempoolMetrics {
    /// Transactions admitted (replacements included).
    pub admitted: u64,
    /// Transactions replaced by a higher-fee one with the same nonce.
    pub replaced: u64,
    /// Transactions evicted for room.
    pub evicted: u64,
    /// Transactions removed because a block included them.
    pub included: u64,
    /// Transactions dropped on a new height: stale nonce.
    pub dropped_stale: u64,
    /// Transactions dropped on a new height: expired.
    pub dropped_expired: u64,
    /// Transactions dropped on a new height: fee below a minimum.
    pub dropped_underpriced: u64,
    /// Transactions dropped on a new height: balance no longer covers them.
    pub dropped_unaffordable: u64,
    /// Transactions handed out for re-gossip.
    pub regossiped: u64,
    /// Refusals by [`MempoolError::reason`].
    pub rejected: BTreeMap<&'static str, u64>,
}

/// One pooled transaction.
#[derive(Clone, Debug)]
struct Entry {
    tx: SignedTransaction,
    hash: TxHash,
    size: usize,
    fee: Chips,
    /// Fee plus obvious spend, saturating.
    cost: u64,
    /// Arrival sequence number: smaller is older.
    arrival: u64,
    /// The `next_height` at which it was last published (or admitted).
    published_at: u64,
    /// Submitted through this node's own API (or restored from its
    /// journal), not received by gossip: the journal keeps it.
    local: bool,
}

/// One sender's pooled transactions by nonce, and what the ledger said of
/// the sender when last asked.
#[derive(Clone, Debug, Default)]
struct SenderQueue {
    account_nonce: u64,
    balance: Chips,
    txs: BTreeMap<u64, Entry>,
}

impl SenderQueue {
    /// The eviction key of the highest-nonce transaction.
    fn tail_key(&self, sender: Address) -> Option<TailKey> {
        self.txs.values().next_back().map(|e| TailKey {
            fee: e.fee,
            arrival: e.arrival,
            sender,
        })
    }

    /// The nonces of the executable run: contiguous from the account
    /// nonce.
    fn executable(&self) -> impl Iterator<Item = &Entry> {
        let mut expected = self.account_nonce;
        self.txs
            .range(self.account_nonce..)
            .map_while(move |(n, e)| {
                if *n == expected {
                    expected += 1;
                    Some(e)
                } else {
                    None
                }
            })
    }
}

/// Orders senders' last transactions for eviction: lowest fee, then oldest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct TailKey {
    fee: Chips,
    arrival: u64,
    sender: Address,
}

/// The pool of unconfirmed transactions (see the [module documentation](self)).
#[derive(Debug)]
pub struct Mempool {
    config: MempoolConfig,
    senders: BTreeMap<Address, SenderQueue>,
    by_hash: BTreeMap<TxHash, (Address, u64)>,
    /// Every sender's highest-nonce transaction, cheapest and oldest first.
    tails: BTreeSet<TailKey>,
    bytes: usize,
    /// How many of the pooled transactions are local, and their encoded
    /// bytes: what the journal should hold.
    local_count: usize,
    local_bytes: usize,
    next_arrival: u64,
    /// The `next_height` of the latest view seen.
    height: u64,
    metrics: MempoolMetrics,
    /// When each recent transaction was first admitted, until the chain
    /// takes it at inclusion ([`Mempool::take_first_seen`]).
    first_seen: FirstSeen,
}

/// The most a transaction may cost its sender: fee plus what it obviously
/// moves out of the balance. `u64::MAX` on overflow (never affordable).
fn cost(tx: &SignedTransaction) -> u64 {
    let spend = match &tx.tx.action {
        Action::Transfer { amount, .. }
        | Action::BankrollDeposit { amount }
        | Action::Stake { amount }
        | Action::CrapsBet { amount, .. }
        | Action::CrashBet { amount, .. } => amount.get(),
        _ => 0,
    };
    tx.tx.fee.get().saturating_add(spend)
}

impl Mempool {
    /// An empty mempool.
    pub fn new(config: MempoolConfig) -> Mempool {
        Mempool {
            // The pooled transactions plus as many just included (a
            // validator's core removes them before the chain applies the
            // block) or dropped without inclusion.
            first_seen: FirstSeen::new(config.max_txs.saturating_mul(2)),
            config,
            senders: BTreeMap::new(),
            by_hash: BTreeMap::new(),
            tails: BTreeSet::new(),
            bytes: 0,
            local_count: 0,
            local_bytes: 0,
            next_arrival: 0,
            height: 0,
            metrics: MempoolMetrics::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MempoolConfig {
        &self.config
    }

    /// How many transactions are pooled.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The encoded bytes of all pooled transactions.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many pooled transactions are local (see
    /// [`Mempool::insert_local`]).
    pub fn local_len(&self) -> usize {
        self.local_count
    }

    /// The encoded bytes of the local pooled transactions.
    pub fn local_bytes(&self) -> usize {
        self.local_bytes
    }

    /// The local pooled transactions, by sender and then nonce: what the
    /// journal is compacted to.
    pub fn local_transactions(&self) -> Vec<SignedTransaction> {
        self.senders
            .values()
            .flat_map(|q| q.txs.values())
            .filter(|e| e.local)
            .map(|e| e.tx.clone())
            .collect()
    }

    /// How many senders have pooled transactions.
    pub fn sender_count(&self) -> usize {
        self.senders.len()
    }

    /// The counters.
    pub fn metrics(&self) -> &MempoolMetrics {
        &self.metrics
    }

    /// Whether a transaction is pooled.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// A pooled transaction.
    pub fn get(&self, hash: &TxHash) -> Option<&SignedTransaction> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.senders.get(sender)?.txs.get(nonce).map(|e| &e.tx)
    }

    /// A sender's pooled transactions in nonce order.
    pub fn sender_transactions(&self, sender: &Address) -> Vec<&SignedTransaction> {
        self.senders
            .get(sender)
            .map(|q| q.txs.values().map(|e| &e.tx).collect())
            .unwrap_or_default()
    }

    /// The nonce a sender's next transaction should use: after its
    /// executable pooled run, or `None` if it has nothing pooled (then ask
    /// the ledger).
    pub fn pending_nonce(&self, sender: &Address) -> Option<u64> {
        let queue = self.senders.get(sender)?;
        Some(queue.account_nonce + queue.executable().count() as u64)
    }

    fn refuse(&mut self, error: MempoolError) -> MempoolError {
        *self.metrics.rejected.entry(error.reason()).or_default() += 1;
        error
    }

    /// Admits a checked transaction if it passes the stateful rules against
    /// `view` (see the [module documentation](self)), evicting cheaper
    /// transactions if the pool is full.
    pub fn insert<V: AccountView + ?Sized>(
        &mut self,
        tx: CheckedTransaction,
        view: &V,
    ) -> Result<Admitted, MempoolError> {
        self.insert_from(tx, view, false)
    }

    /// Like [`Mempool::insert`], for a transaction submitted through this
    /// node's own API (or restored from its journal): the same rules, but
    /// it is marked local, so [`Mempool::local_transactions`] lists it
    /// until it leaves the pool and the journal keeps it until then. A
    /// transaction that replaces it is local only if submitted locally
    /// too.
    pub fn insert_local<V: AccountView + ?Sized>(
        &mut self,
        tx: CheckedTransaction,
        view: &V,
    ) -> Result<Admitted, MempoolError> {
        self.insert_from(tx, view, true)
    }

    fn insert_from<V: AccountView + ?Sized>(
        &mut self,
        tx: CheckedTransaction,
        view: &V,
        local: bool,
    ) -> Result<Admitted, MempoolError> {
        match self.admission(&tx, view) {
            Ok(plan) => Ok(self.apply(tx, plan, local)),
            Err(error) => Err(self.refuse(error)),
        }
    }

    /// Removes one pooled transaction, whatever its state: the API takes
    /// back a local transaction the journal could not record, so that
    /// what it refused is not kept. Returns whether it was pooled.
    pub fn remove(&mut self, hash: &TxHash) -> bool {
        match self.by_hash.get(hash).copied() {
            Some((sender, nonce)) => self.remove_entry(&sender, nonce).is_some(),
            None => false,
        }
    }

    /// Decodes, checks and admits bytes from outside (an API body, a
    /// gossip message).
    pub fn insert_bytes<V: AccountView + ?Sized>(
        &mut self,
        bytes: &[u8],
        view: &V,
    ) -> Result<Admitted, MempoolError> {
        match CheckedTransaction::decode(bytes, &self.config.chain_id) {
            Ok(tx) => self.insert(tx, view),
            Err(error) => Err(self.refuse(error)),
        }
    }

    /// Decides whether `tx` can enter and what it replaces or evicts,
    /// without changing anything.
    fn admission<V: AccountView + ?Sized>(
        &self,
        checked: &CheckedTransaction,
        view: &V,
    ) -> Result<Plan, MempoolError> {
        let tx = &checked.tx.tx;
        if self.by_hash.contains_key(&checked.hash) {
            return Err(MempoolError::AlreadyKnown { hash: checked.hash });
        }
        let next_height = view.next_height();
        if tx.expiry_height < next_height {
            return Err(MempoolError::Expired {
                expiry_height: tx.expiry_height,
                next_height,
            });
        }
        // The ledger takes faucet requests without a fee (a new wallet has
        // nothing to pay with); the faucet's per-request cap and the
        // per-sender limits bound them.
        let faucet = matches!(tx.action, Action::Faucet { .. });
        let min_fee = view.min_fee();
        if !faucet && tx.fee < min_fee {
            return Err(MempoolError::FeeBelowChainMinimum {
                fee: tx.fee,
                min_fee,
            });
        }
        if !faucet && tx.fee < self.config.min_relay_fee {
            return Err(MempoolError::FeeBelowRelayMinimum {
                fee: tx.fee,
                min_fee: self.config.min_relay_fee,
            });
        }
        if let Action::DealerLog { round, .. } = tx.action
            && !view.takes_dealer_log(&tx.sender, round)
        {
            return Err(MempoolError::DealerLogNotExpected { round });
        }
        let sender = tx.sender_address();
        let account = view.account(&sender).unwrap_or_default();
        if tx.nonce < account.nonce {
            return Err(MempoolError::NonceTooLow {
                nonce: tx.nonce,
                account_nonce: account.nonce,
            });
        }
        if tx.nonce - account.nonce >= self.config.max_nonce_ahead {
            return Err(MempoolError::NonceTooFarAhead {
                nonce: tx.nonce,
                account_nonce: account.nonce,
                max_ahead: self.config.max_nonce_ahead,
            });
        }
        let queue = self.senders.get(&sender);
        let existing = queue.and_then(|q| q.txs.get(&tx.nonce));
        if let Some(existing) = existing {
            let bump = existing
                .fee
                .get()
                .saturating_mul(self.config.replacement_fee_bump_percent)
                / 100;
            let required = Chips(existing.fee.get().saturating_add(bump.max(1)));
            if tx.fee < required {
                return Err(MempoolError::NonceTaken {
                    nonce: tx.nonce,
                    existing_fee: existing.fee,
                    required_fee: required,
                });
            }
        } else if queue.is_some_and(|q| q.txs.len() >= self.config.max_txs_per_sender) {
            return Err(MempoolError::SenderFull {
                limit: self.config.max_txs_per_sender,
            });
        }
        let earlier: u64 = queue
            .map(|q| {
                q.txs
                    .range(..tx.nonce)
                    .fold(0u64, |sum, (_, e)| sum.saturating_add(e.cost))
            })
            .unwrap_or(0);
        let needed = earlier.saturating_add(cost(&checked.tx));
        if needed > account.balance.get() {
            return Err(MempoolError::InsufficientBalance {
                needed: Chips(needed),
                balance: account.balance,
            });
        }
        let (freed_count, freed_bytes) = existing.map_or((0, 0), |e| (1, e.size));
        let evict = self.eviction_plan(
            &sender,
            tx.fee,
            (self.len() - freed_count) + 1,
            (self.bytes - freed_bytes) + checked.size,
        )?;
        Ok(Plan {
            account,
            replaces: existing.map(|e| e.hash),
            evict,
            published_at: next_height,
        })
    }

    /// Which transactions of other senders to evict so that `count`
    /// transactions of `bytes` fit, each cheaper than `fee`: the cheapest
    /// (then oldest) sender tail first, exposing that sender's next tail.
    fn eviction_plan(
        &self,
        sender: &Address,
        fee: Chips,
        mut count: usize,
        mut bytes: usize,
    ) -> Result<Vec<(Address, u64)>, MempoolError> {
        let fits = |count: usize, bytes: usize| {
            count <= self.config.max_txs && bytes <= self.config.max_bytes
        };
        if fits(count, bytes) {
            return Ok(Vec::new());
        }
        // A min-heap of candidates: the next not-yet-considered tail from
        // the index, plus tails exposed by planned evictions.
        let mut index = self.tails.iter().filter(|t| t.sender != *sender);
        let mut heap: BinaryHeap<Reverse<EvictionCandidate>> = BinaryHeap::new();
        let push_from_index = |heap: &mut BinaryHeap<_>, key: Option<&TailKey>| {
            if let Some(key) = key {
                let queue = &self.senders[&key.sender];
                if let Some((nonce, _)) = queue.txs.iter().next_back() {
                    heap.push(Reverse((key.fee, key.arrival, key.sender, *nonce, true)));
                }
            }
        };
        push_from_index(&mut heap, index.next());
        let mut plan = Vec::new();
        while !fits(count, bytes) {
            let Some(Reverse((victim_fee, _, victim, nonce, from_index))) = heap.pop() else {
                return Err(MempoolError::Full {
                    min_fee_to_enter: self.tails.first().map_or(fee, |t| t.fee),
                });
            };
            if victim_fee >= fee {
                return Err(MempoolError::Full {
                    min_fee_to_enter: victim_fee,
                });
            }
            if from_index {
                push_from_index(&mut heap, index.next());
            }
            let queue = &self.senders[&victim];
            count -= 1;
            bytes -= queue.txs[&nonce].size;
            plan.push((victim, nonce));
            if let Some((below, e)) = queue.txs.range(..nonce).next_back() {
                heap.push(Reverse((e.fee, e.arrival, victim, *below, false)));
            }
        }
        Ok(plan)
    }

    /// Carries out an admission decided by [`Mempool::admission`].
    fn apply(&mut self, checked: CheckedTransaction, plan: Plan, local: bool) -> Admitted {
        let mut evicted = Vec::with_capacity(plan.evict.len());
        for (victim, nonce) in &plan.evict {
            if let Some(entry) = self.remove_entry(victim, *nonce) {
                evicted.push(entry.hash);
                self.metrics.evicted += 1;
            }
        }
        let sender = checked.tx.sender_address();
        let nonce = checked.tx.tx.nonce;
        if plan.replaces.is_some() {
            self.remove_entry(&sender, nonce);
            self.metrics.replaced += 1;
        }
        let entry = Entry {
            fee: checked.tx.tx.fee,
            cost: cost(&checked.tx),
            hash: checked.hash,
            size: checked.size,
            arrival: self.next_arrival,
            published_at: plan.published_at,
            local,
            tx: checked.tx,
        };
        self.next_arrival += 1;
        self.height = self.height.max(plan.published_at);
        let queue = self.senders.entry(sender).or_default();
        if let Some(key) = queue.tail_key(sender) {
            self.tails.remove(&key);
        }
        queue.account_nonce = plan.account.nonce;
        queue.balance = plan.account.balance;
        self.by_hash.insert(entry.hash, (sender, nonce));
        self.bytes += entry.size;
        if local {
            self.local_count += 1;
            self.local_bytes += entry.size;
        }
        let hash = entry.hash;
        self.first_seen.note(hash, Instant::now());
        queue.txs.insert(nonce, entry);
        if let Some(key) = queue.tail_key(sender) {
            self.tails.insert(key);
        }
        self.metrics.admitted += 1;
        Admitted {
            hash,
            replaced: plan.replaces,
            evicted,
        }
    }

    /// Removes one transaction, keeping every index right.
    fn remove_entry(&mut self, sender: &Address, nonce: u64) -> Option<Entry> {
        let queue = self.senders.get_mut(sender)?;
        if let Some(key) = queue.tail_key(*sender) {
            self.tails.remove(&key);
        }
        let entry = queue.txs.remove(&nonce);
        if let Some(key) = queue.tail_key(*sender) {
            self.tails.insert(key);
        }
        if queue.txs.is_empty() {
            self.senders.remove(sender);
        }
        if let Some(entry) = &entry {
            self.by_hash.remove(&entry.hash);
            self.bytes -= entry.size;
            if entry.local {
                self.local_count -= 1;
                self.local_bytes -= entry.size;
            }
        }
        entry
    }

    /// Removes the transactions a finalized block included, and any pooled
    /// transaction of the same senders at or below an included nonce (it
    /// can no longer be applied). Returns how many were removed.
    pub fn remove_included(&mut self, hashes: &[TxHash]) -> usize {
        let mut removed = 0;
        for hash in hashes {
            let Some(&(sender, nonce)) = self.by_hash.get(hash) else {
                continue;
            };
            let stale: Vec<u64> = self
                .senders
                .get(&sender)
                .map(|q| q.txs.range(..=nonce).map(|(n, _)| *n).collect())
                .unwrap_or_default();
            for n in stale {
                if self.remove_entry(&sender, n).is_some() {
                    removed += 1;
                    if n == nonce {
                        self.metrics.included += 1;
                    } else {
                        self.metrics.dropped_stale += 1;
                    }
                }
            }
            if let Some(queue) = self.senders.get_mut(&sender) {
                queue.account_nonce = queue.account_nonce.max(nonce + 1);
            }
        }
        removed
    }

    /// When this node first admitted the transaction `hash` (by any path:
    /// API, gossip, journal), forgetting it: the chain takes it once, when
    /// it applies the block including it. `None` if it was never admitted
    /// here or is no longer remembered (at most twice `max_txs` instants
    /// are kept, the oldest forgotten first).
    pub fn take_first_seen(&mut self, hash: &TxHash) -> Option<Instant> {
        self.first_seen.take(hash)
    }

    /// Re-validates every pooled transaction against the view of a new
    /// height and drops what can no longer be included (see
    /// [`Pruned`]).
    pub fn on_new_height<V: AccountView + ?Sized>(&mut self, view: &V) -> Pruned {
        let next_height = view.next_height();
        self.height = self.height.max(next_height);
        let min_fee = view.min_fee().max(self.config.min_relay_fee);
        let mut pruned = Pruned::default();
        let senders: Vec<Address> = self.senders.keys().copied().collect();
        for sender in senders {
            let account = view.account(&sender).unwrap_or_default();
            let mut drops: Vec<(u64, DropReason)> = Vec::new();
            if let Some(queue) = self.senders.get_mut(&sender) {
                queue.account_nonce = account.nonce;
                queue.balance = account.balance;
                let mut spent = 0u64;
                let mut broke = false;
                for (nonce, entry) in &queue.txs {
                    let why = if *nonce < account.nonce {
                        DropReason::Stale
                    } else if entry.tx.tx.expiry_height < next_height {
                        DropReason::Expired
                    } else if entry.fee < min_fee
                        && !matches!(entry.tx.tx.action, Action::Faucet { .. })
                    {
                        DropReason::Underpriced
                    } else {
                        spent = spent.saturating_add(entry.cost);
                        broke |= spent > account.balance.get();
                        if broke {
                            DropReason::Unaffordable
                        } else {
                            continue;
                        }
                    };
                    drops.push((*nonce, why));
                }
            }
            for (nonce, why) in drops {
                let Some(entry) = self.remove_entry(&sender, nonce) else {
                    continue;
                };
                match why {
                    DropReason::Stale => {
                        self.metrics.dropped_stale += 1;
                        pruned.stale.push(entry.hash);
                    }
                    DropReason::Expired => {
                        self.metrics.dropped_expired += 1;
                        pruned.expired.push(entry.hash);
                    }
                    DropReason::Underpriced => {
                        self.metrics.dropped_underpriced += 1;
                        pruned.underpriced.push(entry.hash);
                    }
                    DropReason::Unaffordable => {
                        self.metrics.dropped_unaffordable += 1;
                        pruned.unaffordable.push(entry.hash);
                    }
                }
            }
        }
        pruned
    }

    /// The executable transactions in proposal order (see the
    /// [module documentation](self)), visiting `visit(entry)` until it
    /// returns `false`; a sender whose next transaction is refused by
    /// `fits` is skipped from then on (its later nonces would have a gap).
    fn in_proposal_order(&self, mut fits: impl FnMut(&Entry) -> Option<bool>) {
        // Max-heap: highest fee, then earliest arrival.
        let mut heap: BinaryHeap<(Chips, Reverse<u64>, Address, u64)> = self
            .senders
            .iter()
            .filter_map(|(sender, q)| {
                q.executable()
                    .next()
                    .map(|e| (e.fee, Reverse(e.arrival), *sender, e.tx.tx.nonce))
            })
            .collect();
        while let Some((_, _, sender, nonce)) = heap.pop() {
            let queue = &self.senders[&sender];
            let entry = &queue.txs[&nonce];
            match fits(entry) {
                None => return,
                Some(false) => continue,
                Some(true) => {}
            }
            if let Some(next) = nonce.checked_add(1).and_then(|n| queue.txs.get(&n)) {
                heap.push((next.fee, Reverse(next.arrival), sender, next.tx.tx.nonce));
            }
        }
    }

    /// What a proposer should include: at most `max_count` transactions of
    /// at most `max_bytes` encoded bytes in all, each sender's in nonce
    /// order from its account nonce, across senders by fee (highest first)
    /// then arrival (earliest first).
    pub fn select(&self, max_count: usize, max_bytes: usize) -> Vec<SignedTransaction> {
        let mut chosen = Vec::new();
        let mut bytes = 0usize;
        self.in_proposal_order(|entry| {
            if chosen.len() >= max_count {
                return None;
            }
            if bytes + entry.size > max_bytes {
                return Some(false);
            }
            bytes += entry.size;
            chosen.push(entry.tx.clone());
            Some(true)
        });
        chosen
    }

    /// Up to `max` executable transactions that have not been published
    /// for `regossip_after_heights` blocks, in proposal order; each is
    /// marked as published now. The caller publishes them again.
    pub fn due_for_regossip(&mut self, max: usize) -> Vec<SignedTransaction> {
        let now = self.height;
        let wait = self.config.regossip_after_heights;
        let mut due: Vec<(Address, u64)> = Vec::new();
        self.in_proposal_order(|entry| {
            if due.len() >= max {
                return None;
            }
            if now >= entry.published_at.saturating_add(wait) {
                due.push((entry.tx.sender_address(), entry.tx.tx.nonce));
            }
            Some(true)
        });
        let mut out = Vec::with_capacity(due.len());
        for (sender, nonce) in due {
            if let Some(entry) = self
                .senders
                .get_mut(&sender)
                .and_then(|q| q.txs.get_mut(&nonce))
            {
                entry.published_at = now;
                out.push(entry.tx.clone());
            }
        }
        self.metrics.regossiped += out.len() as u64;
        out
    }
}

/// Why [`Mempool::on_new_height`] drops a transaction.
#[derive(Clone, Copy, Debug)]
enum DropReason {
    Stale,
    Expired,
    Underpriced,
    Unaffordable,
}

/// An eviction candidate: fee, arrival, sender, nonce, and whether it came
/// from the tail index (rather than being exposed by a planned eviction).
type EvictionCandidate = (Chips, u64, Address, u64, bool);

/// An admission decision.
#[derive(Debug)]
struct Plan {
    account: AccountState,
    replaces: Option<TxHash>,
    evict: Vec<(Address, u64)>,
    published_at: u64,
}
