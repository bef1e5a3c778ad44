//! The validation pipeline of gossiped messages and the stateful verdicts
//! the node supplies ([`TransactionValidator`], [`BlockValidator`]).

use std::sync::{Arc, Mutex};

use consensus::encoding::DecodeError;
use consensus::hash::TxHash;
use consensus::tx::{SignedTransaction, Transaction};
use libp2p::PeerId;
use libp2p::gossipsub::MessageAcceptance;
use wallet::ChainId;

use super::FinalizedBlock;
use super::batch::{BatchError, split_batch};
use crate::mempool::{AccountView, CheckedTransaction, Mempool, MempoolError};

/// What gossip does with a message after validation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Valid: deliver it to the node and relay it to the mesh.
    Accept,
    /// Invalid for every honest node: drop it and lower the score of the
    /// peer that sent it (and of any peer that sent it too).
    Reject,
    /// Not useful here (duplicate, stale, not affordable as far as this
    /// node knows, over a local limit): drop it without penalty.
    #[default]
    Ignore,
}

impl From<Verdict> for MessageAcceptance {
    fn from(verdict: Verdict) -> MessageAcceptance {
        match verdict {
            Verdict::Accept => MessageAcceptance::Accept,
            Verdict::Reject => MessageAcceptance::Reject,
            Verdict::Ignore => MessageAcceptance::Ignore,
        }
    }
}

/// The stateful verdict on a gossiped transaction that passed the
/// stateless checks. Called on a blocking thread; must not block for long.
pub trait TransactionValidator: Send + Sync + 'static {
    /// Whether the transaction with this hash is already known (pooled):
    /// then it is ignored before its signature is verified. The default
    /// knows nothing.
    fn is_known(&self, hash: &TxHash) -> bool {
        let _ = hash;
        false
    }

    /// Whether `tx` is stale as far as this node knows: its nonce is below
    /// its sender's account nonce, so it can never be included. Asked
    /// before the signature is verified (a batch padded with old, validly
    /// signed transactions would otherwise cost a signature check each),
    /// so it must be cheap and must not trust anything but the sender and
    /// nonce. The default knows nothing.
    fn is_stale(&self, tx: &Transaction) -> bool {
        let _ = tx;
        false
    }

    /// Decides on `tx`, received from `from`; admitting it to the mempool
    /// is the usual way to accept it.
    fn validate_transaction(&self, tx: CheckedTransaction, from: &PeerId) -> Verdict;
}

/// The stateful verdict on a gossiped finalized block that decoded, is
/// well formed for this chain and whose transaction signatures verify.
/// Called on a blocking thread.
pub trait BlockValidator: Send + Sync + 'static {
    /// Decides on `block`, received from `from`: for example `Ignore` if it
    /// is already known or far ahead, `Reject` if its finality proof is
    /// invalid.
    fn validate_block(&self, block: &FinalizedBlock, from: &PeerId) -> Verdict;
}

/// Validates gossiped transactions by admitting them to a shared mempool
/// against a view of the ledger: admitted → `Accept`; refused for a
/// reason that holds on every honest node
/// ([`MempoolError::is_invalid_everywhere`]) → `Reject`; any other refusal
/// → `Ignore`.
#[derive(Debug)]
pub struct MempoolGossip<V> {
    mempool: Arc<Mutex<Mempool>>,
    view: V,
}

impl<V> MempoolGossip<V> {
    /// Gossip validation into `mempool`, judged against `view`.
    pub fn new(mempool: Arc<Mutex<Mempool>>, view: V) -> MempoolGossip<V> {
        MempoolGossip { mempool, view }
    }
}

impl<V: AccountView + Send + Sync + 'static> TransactionValidator for MempoolGossip<V> {
    fn is_known(&self, hash: &TxHash) -> bool {
        self.mempool.lock().is_ok_and(|m| m.contains(hash))
    }

    fn is_stale(&self, tx: &Transaction) -> bool {
        // The ledger's nonce, not the mempool's pending one: a pooled
        // transaction's nonce is not used until a block includes it.
        self.view
            .account(&tx.sender_address())
            .is_some_and(|account| tx.nonce < account.nonce)
    }

    fn validate_transaction(&self, tx: CheckedTransaction, _from: &PeerId) -> Verdict {
        // A poisoned lock means a panic elsewhere already broke the node;
        // refusing quietly is all gossip can do.
        let Ok(mut mempool) = self.mempool.lock() else {
            return Verdict::Ignore;
        };
        let hash = tx.hash();
        match mempool.insert(tx, &self.view) {
            Ok(_) => {
                tracing::trace!(target: consensus::engine::LATENCY, %hash, "transaction pooled from gossip");
                Verdict::Accept
            }
            Err(error) => verdict_for(&error),
        }
    }
}

/// The gossip verdict for a mempool refusal.
pub fn verdict_for(error: &MempoolError) -> Verdict {
    if error.is_invalid_everywhere() {
        Verdict::Reject
    } else {
        Verdict::Ignore
    }
}

/// Why a gossiped block failed the stateless checks (all are `Reject`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum StatelessError {
    #[error("block does not decode: {0}")]
    BlockDecode(#[from] DecodeError),
    #[error("block is invalid: {0}")]
    Block(#[from] consensus::block::BlockError),
}

/// Stage 1 for a block: the size bound, decode, well-formedness for this
/// chain, then every transaction signature.
pub(crate) fn check_block(
    data: &[u8],
    max_bytes: usize,
    chain_id: &ChainId,
) -> Result<FinalizedBlock, StatelessError> {
    let block = FinalizedBlock::decode(data, max_bytes)?;
    block.block.check(chain_id)?;
    Ok(block)
}

/// What the pipeline made of one gossiped transaction batch.
#[derive(Debug, Default)]
pub(crate) struct BatchOutcome {
    /// The verdict reported to gossipsub for the whole batch.
    pub verdict: Verdict,
    /// The transactions this node admitted (delivered as events), in the
    /// batch's order.
    pub admitted: Vec<SignedTransaction>,
    /// Transactions not admitted, without blame: already known, stale,
    /// unaffordable as far as this node knows, over a local limit.
    pub ignored: usize,
    /// Whether this node should publish `admitted` itself, in its own
    /// batches: the batch held stale transactions whose signatures were
    /// not checked, so it is not relayed as is (see
    /// [`validate_tx_batch`]).
    pub republish: bool,
}

/// The whole pipeline for a transaction batch, cheapest step first.
///
/// 1. The framing ([`split_batch`]): size, count and lengths bounded
///    before anything is allocated, nothing trailing, no transaction
///    twice.
/// 2. Transactions already known ([`TransactionValidator::is_known`],
///    by the hash of their bytes) are skipped: no decode, no signature
///    check. Equal hashes mean equal bytes, and the known bytes were
///    checked when they were admitted.
/// 3. Every other transaction is decoded (canonical). One the validator
///    finds stale ([`TransactionValidator::is_stale`]: its nonce is below
///    its sender's account nonce) is skipped before its signature is
///    checked: it can never be included, and a peer padding a batch with
///    old, validly signed transactions beside one new one would otherwise
///    cost every node a signature check per old one.
/// 4. The rest are checked statelessly (this chain, well formed,
///    signature), **all of them before any is admitted**.
/// 5. Then each is offered to the node's validator in order.
///
/// The verdict is honest towards relayers:
///
/// - **Reject** (the peer loses score) only for what no honest node sends
///   or relays: a framing error, a transaction that does not decode, is
///   for another chain or badly signed (step 1 or 3), or one the
///   validator rejects as invalid everywhere (for the mempool: below the
///   chain's minimum fee). An honest relayer accepted the batch before
///   relaying it, so it checked all of that itself, and those checks give
///   the same answer on every node.
/// - **Accept** (relay the whole batch) when this node admitted at least
///   one transaction of it: the batch carries news, and peers skip what
///   they already have cheaply (step 2).
/// - **Ignore** otherwise: every transaction was known, stale, expired,
///   unaffordable here or over a local limit. Those depend on this node's
///   view and timing (a batch that crossed the block including its
///   transactions is stale on arrival), so they never cost the sender
///   anything, and nothing is relayed.
/// - **Ignore**, too, when a transaction was skipped as stale in step 3
///   and others were admitted ([`BatchOutcome::republish`]): this node
///   has not checked the skipped signatures, and a peer whose ledger is
///   behind would check them and reject the batch, penalizing this node
///   for relaying a forgery. So the batch is not relayed; the network
///   publishes the admitted transactions in this node's own batches
///   instead, without the stale ones.
///
/// A rejected batch costs at most one batch verification and
/// [`MAX_BATCH_TXS`](super::batch::MAX_BATCH_TXS) single signature checks
/// (which name the bad one), and four rejected batches get a peer banned.
pub(crate) fn validate_tx_batch(
    data: &[u8],
    chain_id: &ChainId,
    validator: &dyn TransactionValidator,
    from: &PeerId,
) -> BatchOutcome {
    let reject = |error: &dyn std::fmt::Display| {
        tracing::debug!(peer = %from, %error, "gossiped transaction batch rejected");
        BatchOutcome {
            verdict: Verdict::Reject,
            ..BatchOutcome::default()
        }
    };
    // The nonce only keeps publications apart (see `batch`).
    let items = match split_batch(data) {
        Ok(split) => split.items,
        Err(error) => return reject(&error),
    };
    let mut ignored = 0;
    let mut unverified = false;
    let mut positions = Vec::with_capacity(items.len());
    let mut decoded = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        // One span per transaction id, as around its application in a
        // block (`Chain::on_finalized`): a transaction's journey can be
        // followed by its hash. Debug level, so nothing is formatted
        // unless enabled.
        let _span = tracing::debug_span!("tx", hash = %item.hash).entered();
        if validator.is_known(&item.hash) {
            ignored += 1;
            continue;
        }
        let tx = match SignedTransaction::decode(item.bytes) {
            Ok(tx) => tx,
            Err(source) => return reject(&BatchError::Transaction { index, source }),
        };
        if validator.is_stale(&tx.tx) {
            ignored += 1;
            unverified = true;
            continue;
        }
        // `decode` accepts only the canonical encoding, so `item.bytes` is
        // it and `item.hash` the transaction's hash.
        positions.push(index);
        decoded.push((tx, item.hash, item.bytes.len()));
    }
    // The new transactions' signatures, as one batch.
    let mut fresh = Vec::with_capacity(decoded.len());
    for (index, checked) in positions
        .into_iter()
        .zip(CheckedTransaction::check_decoded_all(decoded, chain_id))
    {
        match checked {
            Ok(tx) => fresh.push(tx),
            Err(error) => return reject(&format_args!("transaction {index}: {error}")),
        }
    }
    let mut admitted = Vec::with_capacity(fresh.len());
    let mut invalid = false;
    for tx in fresh {
        let _span = tracing::debug_span!("tx", hash = %tx.hash()).entered();
        let signed = tx.tx().clone();
        match validator.validate_transaction(tx, from) {
            Verdict::Accept => admitted.push(signed),
            Verdict::Ignore => ignored += 1,
            Verdict::Reject => {
                tracing::debug!(peer = %from, hash = %signed.hash(), "gossiped transaction invalid everywhere");
                invalid = true;
            }
        }
    }
    let verdict = if invalid {
        Verdict::Reject
    } else if admitted.is_empty() || unverified {
        Verdict::Ignore
    } else {
        Verdict::Accept
    };
    BatchOutcome {
        republish: verdict == Verdict::Ignore && !admitted.is_empty(),
        verdict,
        admitted,
        ignored,
    }
}

/// The whole pipeline for a block.
pub(crate) fn validate_block(
    data: &[u8],
    max_bytes: usize,
    chain_id: &ChainId,
    validator: &dyn BlockValidator,
    from: &PeerId,
) -> (Verdict, Option<FinalizedBlock>) {
    match check_block(data, max_bytes, chain_id) {
        Err(error) => {
            tracing::debug!(peer = %from, %error, "gossiped block rejected");
            (Verdict::Reject, None)
        }
        Ok(block) => {
            let verdict = validator.validate_block(&block, from);
            (verdict, (verdict == Verdict::Accept).then_some(block))
        }
    }
}

#[cfg(test)]
mod tests {
    //! The batch verdicts, without a network: what is rejected (the peer
    //! loses score), ignored or accepted (relayed), and what is admitted.

    use std::collections::HashSet;

    use consensus::tx::{Action, Transaction};
    use game_rules::Chips;
    use wallet::{Address, Keypair, Signature};

    use super::*;
    use crate::mempool::{AccountState, MempoolConfig};
    use crate::network::batch::{MAX_BATCH_BYTES, encode_batch};

    const CHAIN: ChainId = ChainId::new([5; 32]);

    /// Every account is rich; nonces below `nonce` are used.
    struct View {
        nonce: u64,
    }

    impl AccountView for View {
        fn account(&self, _: &Address) -> Option<AccountState> {
            Some(AccountState {
                balance: Chips(1_000_000),
                nonce: self.nonce,
            })
        }

        fn next_height(&self) -> u64 {
            1
        }

        fn min_fee(&self) -> Chips {
            Chips(2)
        }

        fn takes_dealer_log(&self, _: &wallet::PublicKey, _: u64) -> bool {
            false
        }
    }

    fn key(i: u8) -> Keypair {
        Keypair::from_secret_bytes(&[i; 32])
    }

    fn tx_with(sender: u8, nonce: u64, fee: u64, chain: ChainId) -> SignedTransaction {
        Transaction {
            chain_id: chain,
            sender: key(sender).public_key(),
            nonce,
            fee: Chips(fee),
            expiry_height: 100,
            action: Action::Transfer {
                to: key(99).address(),
                amount: Chips(1),
            },
        }
        .sign(&key(sender))
    }

    fn tx(sender: u8, nonce: u64) -> SignedTransaction {
        tx_with(sender, nonce, 5, CHAIN)
    }

    fn batch(txs: &[&SignedTransaction]) -> Vec<u8> {
        let encoded: Vec<Vec<u8>> = txs.iter().map(|tx| tx.encode()).collect();
        encode_batch(0, &encoded)
    }

    fn gossip(nonce: u64) -> MempoolGossip<View> {
        let mempool = Arc::new(Mutex::new(Mempool::new(MempoolConfig::new(CHAIN))));
        MempoolGossip::new(mempool, View { nonce })
    }

    fn peer() -> PeerId {
        PeerId::random()
    }

    /// Counts the signature checks the pipeline asked the validator for
    /// and the hashes it was asked about.
    struct Counting {
        known: HashSet<TxHash>,
        offered: Mutex<usize>,
    }

    impl TransactionValidator for Counting {
        fn is_known(&self, hash: &TxHash) -> bool {
            self.known.contains(hash)
        }

        fn validate_transaction(&self, _tx: CheckedTransaction, _from: &PeerId) -> Verdict {
            *self.offered.lock().unwrap() += 1;
            Verdict::Accept
        }
    }

    #[test]
    fn a_fresh_batch_is_accepted_and_every_transaction_admitted() {
        let gossip = gossip(0);
        let txs = [tx(1, 0), tx(1, 1), tx(2, 0)];
        let out = validate_tx_batch(
            &batch(&[&txs[0], &txs[1], &txs[2]]),
            &CHAIN,
            &gossip,
            &peer(),
        );
        assert_eq!(out.verdict, Verdict::Accept);
        assert_eq!(out.admitted, txs);
        assert_eq!(out.ignored, 0);
        assert_eq!(gossip.mempool.lock().unwrap().len(), 3);
    }

    #[test]
    fn known_or_stale_transactions_never_cost_the_relayer() {
        let gossip = gossip(1);
        let (fresh, also) = (tx(1, 1), tx(2, 1));
        let stale = tx(3, 0); // nonce 0 is used
        // One fresh transaction among stale ones: the stale one is not
        // admitted, and the fresh one is published again by this node
        // rather than relayed in a batch with an unchecked signature.
        let out = validate_tx_batch(&batch(&[&stale, &fresh]), &CHAIN, &gossip, &peer());
        assert_eq!(out.verdict, Verdict::Ignore);
        assert!(out.republish);
        assert_eq!((out.admitted, out.ignored), (vec![fresh.clone()], 1));
        // The same transactions again in another batch (a re-gossip, or
        // the batch crossing the block): ignored, no penalty, nothing
        // relayed.
        let out = validate_tx_batch(&batch(&[&fresh, &stale]), &CHAIN, &gossip, &peer());
        assert_eq!(out.verdict, Verdict::Ignore);
        assert_eq!((out.admitted.len(), out.ignored), (0, 2));
        // Known ones beside a new one: accepted (relayed as is) for the new
        // one.
        let out = validate_tx_batch(&batch(&[&fresh, &also]), &CHAIN, &gossip, &peer());
        assert_eq!(out.verdict, Verdict::Accept);
        assert!(!out.republish);
        assert_eq!((out.admitted, out.ignored), (vec![also], 1));
        // Unaffordable or too far ahead as far as this node knows: ignored.
        let ahead = tx(4, 1_000);
        let out = validate_tx_batch(&batch(&[&ahead]), &CHAIN, &gossip, &peer());
        assert_eq!(out.verdict, Verdict::Ignore);
    }

    #[test]
    fn known_transactions_are_skipped_before_their_signature_is_checked() {
        let txs: Vec<SignedTransaction> = (0..4).map(|n| tx(1, n)).collect();
        // The third is "known" although its signature is broken: a known
        // hash means the exact bytes were checked before, so it is not
        // decoded or verified again (and a forged copy has another hash).
        let mut forged = txs[2].clone();
        forged.signature = Signature::from_bytes([9; 64]);
        let validator = Counting {
            known: [txs[0].hash(), forged.hash()].into(),
            offered: Mutex::new(0),
        };
        let data = batch(&[&txs[0], &txs[1], &forged, &txs[3]]);
        let out = validate_tx_batch(&data, &CHAIN, &validator, &peer());
        assert_eq!(out.verdict, Verdict::Accept);
        assert_eq!(out.ignored, 2);
        assert_eq!(*validator.offered.lock().unwrap(), 2);
        // Not known, the same forged transaction rejects the batch.
        let validator = Counting {
            known: HashSet::new(),
            offered: Mutex::new(0),
        };
        let out = validate_tx_batch(&data, &CHAIN, &validator, &peer());
        assert_eq!(out.verdict, Verdict::Reject);
    }

    #[test]
    fn stale_transactions_are_skipped_before_their_signature_is_checked() {
        // The ledger has used nonces 0..5 of every account.
        let gossip = gossip(5);
        // Padding: old transactions, one of them with a broken signature
        // (its signature is never checked, so the batch is not rejected),
        // beside one new transaction.
        let old: Vec<SignedTransaction> = (0..4).map(|n| tx(1, n)).collect();
        let mut forged = tx(2, 3);
        forged.signature = Signature::from_bytes([9; 64]);
        let new = tx(1, 5);
        let data = batch(&[&old[0], &old[1], &forged, &old[2], &old[3], &new]);
        let out = validate_tx_batch(&data, &CHAIN, &gossip, &peer());
        assert_eq!(out.verdict, Verdict::Ignore, "ignored, not rejected");
        assert_eq!((out.admitted, out.ignored), (vec![new.clone()], 5));
        // The new one is published by this node, not relayed beside the
        // forgery.
        assert!(out.republish);
        assert_eq!(gossip.mempool.lock().unwrap().len(), 1);
        // Only padding: nothing to publish.
        let out = validate_tx_batch(&batch(&[&old[0], &forged]), &CHAIN, &gossip, &peer());
        assert_eq!((out.verdict, out.republish), (Verdict::Ignore, false));
        assert_eq!((out.admitted.len(), out.ignored), (0, 2));
        // A forgery at a nonce that is not stale is still provable junk.
        let mut current = tx(2, 5);
        current.signature = Signature::from_bytes([9; 64]);
        let out = validate_tx_batch(&batch(&[&current]), &CHAIN, &gossip, &peer());
        assert_eq!(out.verdict, Verdict::Reject);
    }

    #[test]
    fn provable_junk_rejects_the_whole_batch_and_admits_nothing() {
        let good = tx(1, 0);
        let mut forged = tx(2, 0);
        forged.signature = Signature::from_bytes([7; 64]);
        let other_chain = tx_with(3, 0, 5, ChainId::new([6; 32]));
        let below_min_fee = tx_with(4, 0, 1, CHAIN);
        let mut padded = good.encode();
        padded.push(0);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("a bad signature", batch(&[&good, &forged])),
            ("another chain", batch(&[&good, &other_chain])),
            ("below the chain's minimum fee", batch(&[&below_min_fee])),
            ("a non-canonical transaction", encode_batch(0, &[padded])),
            ("a duplicate", batch(&[&good, &good])),
            ("no transactions", encode_batch::<&[u8]>(0, &[])),
            ("junk", vec![0xff; 64]),
            ("oversized", vec![0; MAX_BATCH_BYTES + 1]),
        ];
        for (what, data) in cases {
            let gossip = gossip(0);
            let out = validate_tx_batch(&data, &CHAIN, &gossip, &peer());
            assert_eq!(out.verdict, Verdict::Reject, "{what}");
            // Stateless junk is found before anything is admitted (the
            // good transaction beside it is not pooled either).
            assert!(out.admitted.is_empty(), "{what}");
            assert!(gossip.mempool.lock().unwrap().is_empty(), "{what}");
        }
    }
}
