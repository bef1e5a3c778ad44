use std::collections::BTreeMap;

use consensus::encoding::DecodeError;
use consensus::tx::{Action, MAX_TX_BYTES, Transaction, TxError};
use consensus::tx::{DealerLogBytes, MAX_DEALER_LOG_BYTES};
use wallet::{Keypair, PublicKey, Signature};

use super::*;

const CHAIN: ChainId = ChainId::new([7; 32]);

/// A ledger stand-in: accounts by address, the next height, the min fee,
/// the (dealer, round) pairs whose dealer log the ledger would take.
struct View {
    accounts: BTreeMap<Address, AccountState>,
    next_height: u64,
    min_fee: Chips,
    dealer_logs: Vec<(PublicKey, u64)>,
}

impl View {
    fn new() -> View {
        View {
            accounts: BTreeMap::new(),
            next_height: 1,
            min_fee: Chips(1),
            dealer_logs: Vec::new(),
        }
    }

    fn expect_log(mut self, dealer: &Keypair, round: u64) -> View {
        self.dealer_logs.push((dealer.public_key(), round));
        self
    }

    fn fund(mut self, who: &Keypair, balance: u64, nonce: u64) -> View {
        self.accounts.insert(
            who.address(),
            AccountState {
                balance: Chips(balance),
                nonce,
            },
        );
        self
    }
}

impl AccountView for View {
    fn account(&self, address: &Address) -> Option<AccountState> {
        self.accounts.get(address).copied()
    }

    fn next_height(&self) -> u64 {
        self.next_height
    }

    fn min_fee(&self) -> Chips {
        self.min_fee
    }

    fn takes_dealer_log(&self, sender: &PublicKey, round: u64) -> bool {
        self.dealer_logs.contains(&(*sender, round))
    }
}

fn key(i: u8) -> Keypair {
    Keypair::from_secret_bytes(&[i; 32])
}

fn transfer(from: &Keypair, nonce: u64, fee: u64, amount: u64) -> SignedTransaction {
    Transaction {
        chain_id: CHAIN,
        sender: from.public_key(),
        nonce,
        fee: Chips(fee),
        expiry_height: 100,
        action: Action::Transfer {
            to: key(200).address(),
            amount: Chips(amount),
        },
    }
    .sign(from)
}

fn checked(tx: SignedTransaction) -> CheckedTransaction {
    CheckedTransaction::check(tx, &CHAIN).expect("valid test transaction")
}

fn pool() -> Mempool {
    Mempool::new(MempoolConfig::new(CHAIN))
}

fn nonces(txs: &[SignedTransaction]) -> Vec<(Address, u64)> {
    txs.iter()
        .map(|t| (t.sender_address(), t.tx.nonce))
        .collect()
}

#[test]
fn admits_once_and_refuses_duplicates() {
    let alice = key(1);
    let view = View::new().fund(&alice, 1_000, 0);
    let mut pool = pool();
    let tx = transfer(&alice, 0, 5, 10);
    let admitted = pool.insert(checked(tx.clone()), &view).unwrap();
    assert_eq!(admitted.hash, tx.hash());
    assert!(pool.contains(&tx.hash()));
    assert_eq!(pool.get(&tx.hash()), Some(&tx));
    assert_eq!(pool.bytes(), tx.encode().len());
    let again = pool.insert(checked(tx.clone()), &view).unwrap_err();
    assert_eq!(again, MempoolError::AlreadyKnown { hash: tx.hash() });
    assert!(!again.is_invalid_everywhere());
    // The same through the byte path.
    let bytes_again = pool.insert_bytes(&tx.encode(), &view).unwrap_err();
    assert_eq!(bytes_again.reason(), "already_known");
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.metrics().admitted, 1);
    assert_eq!(pool.metrics().rejected["already_known"], 2);
}

/// A dealer log is admitted only from a dealer of the open round whose log
/// the ledger would take; any other is refused without blaming the relayer
/// (another node may have seen the round open already). The largest log a
/// round may have (52 KiB) fits.
#[test]
fn dealer_logs_only_from_the_rounds_dealers() {
    let (dealer, stranger) = (key(1), key(2));
    let view = View::new()
        .fund(&dealer, 1_000, 0)
        .fund(&stranger, 1_000, 0)
        .expect_log(&dealer, 3);
    let log = |from: &Keypair, round: u64| {
        Transaction {
            chain_id: CHAIN,
            sender: from.public_key(),
            nonce: 0,
            fee: Chips(1),
            expiry_height: 100,
            action: Action::DealerLog {
                round,
                log: DealerLogBytes::new(vec![0x5a; MAX_DEALER_LOG_BYTES]).unwrap(),
            },
        }
        .sign(from)
    };
    let mut pool = pool();
    for (tx, round) in [(log(&stranger, 3), 3), (log(&dealer, 4), 4)] {
        let err = pool.insert_bytes(&tx.encode(), &view).unwrap_err();
        assert_eq!(err, MempoolError::DealerLogNotExpected { round });
        assert!(!err.is_invalid_everywhere());
        assert_eq!(err.reason(), "dealer_log_not_expected");
    }
    assert!(pool.is_empty());
    let tx = log(&dealer, 3);
    assert!(tx.encode().len() > 50 * 1024);
    pool.insert_bytes(&tx.encode(), &view).unwrap();
    assert_eq!(pool.bytes(), tx.encode().len());
}

#[test]
fn stateless_failures_are_invalid_everywhere() {
    let alice = key(1);
    let view = View::new().fund(&alice, 1_000, 0);
    let mut pool = pool();

    let mut forged = transfer(&alice, 0, 5, 10);
    forged.signature = Signature::from_bytes([3; 64]);
    let err = CheckedTransaction::check(forged.clone(), &CHAIN).unwrap_err();
    assert_eq!(err, MempoolError::Invalid(TxError::BadSignature));
    assert!(err.is_invalid_everywhere());
    let err = pool.insert_bytes(&forged.encode(), &view).unwrap_err();
    assert_eq!(err, MempoolError::Invalid(TxError::BadSignature));

    let other_chain = ChainId::new([8; 32]);
    let err = CheckedTransaction::check(transfer(&alice, 0, 5, 10), &other_chain).unwrap_err();
    assert!(matches!(
        err,
        MempoolError::Invalid(TxError::WrongChain { .. })
    ));

    let oversized = vec![0u8; MAX_TX_BYTES + 1];
    let err = pool.insert_bytes(&oversized, &view).unwrap_err();
    assert!(matches!(
        err,
        MempoolError::Malformed(DecodeError::TooLarge { .. })
    ));
    assert!(err.is_invalid_everywhere());
    let err = pool.insert_bytes(&[1, 2, 3], &view).unwrap_err();
    assert!(matches!(
        err,
        MempoolError::Malformed(DecodeError::Malformed { .. })
    ));
    // Arbitrary bytes never panic.
    for len in 0..300 {
        let junk: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
        assert!(pool.insert_bytes(&junk, &view).is_err());
    }
    assert!(pool.is_empty());
    assert!(pool.metrics().rejected["malformed"] >= 300);
}

#[test]
fn nonces_must_be_current_or_slightly_ahead_and_gaps_wait() {
    let alice = key(1);
    let view = View::new().fund(&alice, 1_000, 3);
    let mut pool = pool();
    let err = pool
        .insert(checked(transfer(&alice, 2, 5, 1)), &view)
        .unwrap_err();
    assert_eq!(
        err,
        MempoolError::NonceTooLow {
            nonce: 2,
            account_nonce: 3
        }
    );
    let err = pool
        .insert(checked(transfer(&alice, 3 + 64, 5, 1)), &view)
        .unwrap_err();
    assert!(matches!(err, MempoolError::NonceTooFarAhead { .. }));
    assert!(err.to_string().contains("submit the missing nonces first"));

    // 3 and 5 pooled: only 3 is executable; 4 closes the gap.
    pool.insert(checked(transfer(&alice, 3, 5, 1)), &view)
        .unwrap();
    pool.insert(checked(transfer(&alice, 5, 5, 1)), &view)
        .unwrap();
    assert_eq!(
        nonces(&pool.select(100, usize::MAX)),
        [(alice.address(), 3)]
    );
    assert_eq!(pool.pending_nonce(&alice.address()), Some(4));
    pool.insert(checked(transfer(&alice, 4, 5, 1)), &view)
        .unwrap();
    let a = alice.address();
    assert_eq!(
        nonces(&pool.select(100, usize::MAX)),
        [(a, 3), (a, 4), (a, 5)]
    );
    assert_eq!(pool.pending_nonce(&a), Some(6));
    assert_eq!(pool.pending_nonce(&key(9).address()), None);
}

#[test]
fn fees_below_the_chain_minimum_are_invalid_below_relay_minimum_ignored() {
    let alice = key(1);
    let mut view = View::new().fund(&alice, 1_000, 0);
    view.min_fee = Chips(5);
    let mut config = MempoolConfig::new(CHAIN);
    config.min_relay_fee = Chips(8);
    let mut pool = Mempool::new(config);
    let err = pool
        .insert(checked(transfer(&alice, 0, 4, 1)), &view)
        .unwrap_err();
    assert_eq!(
        err,
        MempoolError::FeeBelowChainMinimum {
            fee: Chips(4),
            min_fee: Chips(5)
        }
    );
    assert!(err.is_invalid_everywhere());
    let err = pool
        .insert(checked(transfer(&alice, 0, 6, 1)), &view)
        .unwrap_err();
    assert!(matches!(err, MempoolError::FeeBelowRelayMinimum { .. }));
    assert!(!err.is_invalid_everywhere());
    pool.insert(checked(transfer(&alice, 0, 8, 1)), &view)
        .unwrap();
}

#[test]
fn balance_must_cover_fees_and_amounts_of_earlier_nonces() {
    let alice = key(1);
    let view = View::new().fund(&alice, 100, 0);
    let mut pool = pool();
    pool.insert(checked(transfer(&alice, 0, 10, 50)), &view)
        .unwrap();
    // 60 already committed; 10 + 31 = 41 more is 101 > 100.
    let err = pool
        .insert(checked(transfer(&alice, 1, 10, 31)), &view)
        .unwrap_err();
    assert_eq!(
        err,
        MempoolError::InsufficientBalance {
            needed: Chips(101),
            balance: Chips(100)
        }
    );
    pool.insert(checked(transfer(&alice, 1, 10, 30)), &view)
        .unwrap();
    // An unknown account has nothing.
    let bob = key(2);
    let err = pool
        .insert(checked(transfer(&bob, 0, 1, 1)), &view)
        .unwrap_err();
    assert!(matches!(err, MempoolError::InsufficientBalance { .. }));
    // Overflowing amounts are never affordable.
    let rich = key(3);
    let view = View::new().fund(&rich, u64::MAX - 1, 0);
    let err = pool
        .insert(checked(transfer(&rich, 0, 2, u64::MAX)), &view)
        .unwrap_err();
    assert!(matches!(err, MempoolError::InsufficientBalance { .. }));
}

#[test]
fn expired_transactions_are_refused_and_pruned() {
    let alice = key(1);
    let mut view = View::new().fund(&alice, 1_000, 0);
    view.next_height = 101;
    let mut pool = pool();
    let err = pool
        .insert(checked(transfer(&alice, 0, 5, 1)), &view)
        .unwrap_err();
    assert_eq!(
        err,
        MempoolError::Expired {
            expiry_height: 100,
            next_height: 101
        }
    );
    view.next_height = 100;
    let tx = transfer(&alice, 0, 5, 1);
    pool.insert(checked(tx.clone()), &view).unwrap();
    assert!(pool.on_new_height(&view).is_empty());
    view.next_height = 101;
    let pruned = pool.on_new_height(&view);
    assert_eq!(pruned.expired, [tx.hash()]);
    assert!(pool.is_empty());
    assert_eq!(pool.metrics().dropped_expired, 1);
}

#[test]
fn per_sender_limit() {
    let alice = key(1);
    let view = View::new().fund(&alice, 1_000_000, 0);
    let mut config = MempoolConfig::new(CHAIN);
    config.max_txs_per_sender = 4;
    let mut pool = Mempool::new(config);
    for nonce in 0..4 {
        pool.insert(checked(transfer(&alice, nonce, 5, 1)), &view)
            .unwrap();
    }
    let err = pool
        .insert(checked(transfer(&alice, 4, 5, 1)), &view)
        .unwrap_err();
    assert_eq!(err, MempoolError::SenderFull { limit: 4 });
    // A replacement is not an extra transaction.
    pool.insert(checked(transfer(&alice, 3, 50, 1)), &view)
        .unwrap();
    assert_eq!(pool.len(), 4);
}

#[test]
fn replacement_needs_a_fee_bump() {
    let alice = key(1);
    let view = View::new().fund(&alice, 1_000, 0);
    let mut pool = pool();
    let first = transfer(&alice, 0, 100, 1);
    pool.insert(checked(first.clone()), &view).unwrap();
    let err = pool
        .insert(checked(transfer(&alice, 0, 109, 2)), &view)
        .unwrap_err();
    assert_eq!(
        err,
        MempoolError::NonceTaken {
            nonce: 0,
            existing_fee: Chips(100),
            required_fee: Chips(110)
        }
    );
    let second = transfer(&alice, 0, 110, 2);
    let admitted = pool.insert(checked(second.clone()), &view).unwrap();
    assert_eq!(admitted.replaced, Some(first.hash()));
    assert!(!pool.contains(&first.hash()));
    assert_eq!(pool.select(10, usize::MAX), [second]);
    assert_eq!(pool.metrics().replaced, 1);
    assert_eq!(pool.bytes(), pool.select(10, usize::MAX)[0].encode().len());
}

#[test]
fn when_full_the_cheapest_then_oldest_tail_is_evicted() {
    let (a, b, c, d) = (key(1), key(2), key(3), key(4));
    let view = View::new()
        .fund(&a, 1_000, 0)
        .fund(&b, 1_000, 0)
        .fund(&c, 1_000, 0)
        .fund(&d, 1_000, 0);
    let mut config = MempoolConfig::new(CHAIN);
    config.max_txs = 4;
    let mut pool = Mempool::new(config);
    // a: nonce 0 fee 2, nonce 1 fee 9; b: fee 2 (arrives after a's);
    // c: fee 3.
    let a0 = transfer(&a, 0, 2, 1);
    let a1 = transfer(&a, 1, 9, 1);
    let b0 = transfer(&b, 0, 2, 1);
    let c0 = transfer(&c, 0, 3, 1);
    for tx in [&a0, &a1, &b0, &c0] {
        pool.insert(checked(tx.clone()), &view).unwrap();
    }
    // d pays 2: nothing strictly cheaper, refused with the fee to beat.
    let err = pool
        .insert(checked(transfer(&d, 0, 2, 1)), &view)
        .unwrap_err();
    assert_eq!(
        err,
        MempoolError::Full {
            min_fee_to_enter: Chips(2)
        }
    );
    // d pays 5: the cheapest tail is b0 (a0 is cheap too, but not a tail:
    // evicting it would strand a1).
    let d0 = transfer(&d, 0, 5, 1);
    let admitted = pool.insert(checked(d0.clone()), &view).unwrap();
    assert_eq!(admitted.evicted, [b0.hash()]);
    assert_eq!(pool.len(), 4);
    assert_eq!(pool.metrics().evicted, 1);
    // A second d pays 10: tails are a1 (9), c0 (3), d0 (5, own sender, not
    // a candidate): c0 goes.
    let d1 = transfer(&d, 1, 10, 1);
    let admitted = pool.insert(checked(d1), &view).unwrap();
    assert_eq!(admitted.evicted, [c0.hash()]);
    // Equal lowest fees: the older goes first.
    let (e, f) = (key(5), key(6));
    let view = view.fund(&e, 1_000, 0).fund(&f, 1_000, 0);
    let mut config = MempoolConfig::new(CHAIN);
    config.max_txs = 2;
    let mut pool = Mempool::new(config);
    let older = transfer(&e, 0, 2, 1);
    let newer = transfer(&f, 0, 2, 1);
    pool.insert(checked(older.clone()), &view).unwrap();
    pool.insert(checked(newer.clone()), &view).unwrap();
    let admitted = pool.insert(checked(transfer(&a, 0, 3, 1)), &view).unwrap();
    assert_eq!(admitted.evicted, [older.hash()]);
    assert!(pool.contains(&newer.hash()));
}

#[test]
fn eviction_exposes_a_senders_next_tail_and_respects_the_byte_limit() {
    let (a, b) = (key(1), key(2));
    let view = View::new().fund(&a, 1_000, 0).fund(&b, 1_000, 0);
    let size = transfer(&a, 0, 1, 1).encode().len();
    let mut config = MempoolConfig::new(CHAIN);
    config.max_bytes = 3 * size;
    let mut pool = Mempool::new(config);
    let a0 = transfer(&a, 0, 1, 1);
    let a1 = transfer(&a, 1, 2, 1);
    let a2 = transfer(&a, 2, 3, 1);
    for tx in [&a0, &a1, &a2] {
        pool.insert(checked(tx.clone()), &view).unwrap();
    }
    // b's transaction of the same size needs one slot: a2 (the tail) goes,
    // even though a0 is cheaper, so a's remaining nonces stay contiguous.
    let b0 = transfer(&b, 0, 4, 1);
    let admitted = pool.insert(checked(b0), &view).unwrap();
    assert_eq!(admitted.evicted, [a2.hash()]);
    assert!(pool.bytes() <= 3 * size);
    let selected = nonces(&pool.select(10, usize::MAX));
    assert_eq!(
        selected,
        [(b.address(), 0), (a.address(), 0), (a.address(), 1)]
    );
}

#[test]
fn selection_orders_by_fee_then_arrival_within_budgets() {
    let (a, b, c) = (key(1), key(2), key(3));
    let view = View::new()
        .fund(&a, 1_000, 0)
        .fund(&b, 1_000, 0)
        .fund(&c, 1_000, 0);
    let mut pool = pool();
    // a: fees 5 then 50 (nonce order wins within a sender); b: 7; c: 7,
    // arriving after b.
    for tx in [
        transfer(&a, 0, 5, 1),
        transfer(&a, 1, 50, 1),
        transfer(&b, 0, 7, 1),
        transfer(&c, 0, 7, 1),
    ] {
        pool.insert(checked(tx), &view).unwrap();
    }
    let (a, b, c) = (a.address(), b.address(), c.address());
    assert_eq!(
        nonces(&pool.select(10, usize::MAX)),
        [(b, 0), (c, 0), (a, 0), (a, 1)]
    );
    assert_eq!(nonces(&pool.select(2, usize::MAX)), [(b, 0), (c, 0)]);
    let size = pool.select(1, usize::MAX)[0].encode().len();
    assert_eq!(nonces(&pool.select(10, 3 * size)), [(b, 0), (c, 0), (a, 0)]);
    assert!(pool.select(10, size - 1).is_empty());
    assert!(pool.select(0, usize::MAX).is_empty());
}

#[test]
fn inclusion_and_new_heights_remove_what_cannot_be_applied() {
    let (a, b) = (key(1), key(2));
    let mut view = View::new().fund(&a, 1_000, 0).fund(&b, 100, 0);
    let mut pool = pool();
    let a0 = transfer(&a, 0, 5, 1);
    let a1 = transfer(&a, 1, 5, 1);
    let a2 = transfer(&a, 2, 5, 1);
    let b0 = transfer(&b, 0, 5, 40);
    let b1 = transfer(&b, 1, 5, 40);
    for tx in [&a0, &a1, &a2, &b0, &b1] {
        pool.insert(checked(tx.clone()), &view).unwrap();
    }
    // A block included a1 (and so a0, which must have come first).
    assert_eq!(pool.remove_included(&[a1.hash(), TxHash::ZERO]), 2);
    assert_eq!(pool.metrics().included, 1);
    assert_eq!(pool.metrics().dropped_stale, 1);
    assert_eq!(pool.sender_transactions(&a.address()), [&a2]);
    assert_eq!(pool.pending_nonce(&a.address()), Some(3));

    // The ledger moves on: a's nonce is 3 (a2 included elsewhere), b spent
    // most of its balance, so b1 is no longer affordable.
    view = view.fund(&a, 1_000, 3).fund(&b, 50, 0);
    view.next_height = 2;
    let pruned = pool.on_new_height(&view);
    assert_eq!(pruned.stale, [a2.hash()]);
    assert_eq!(pruned.unaffordable, [b1.hash()]);
    assert_eq!(pool.len(), 1);
    assert!(pool.contains(&b0.hash()));

    // A raised minimum fee prices out the rest.
    view.min_fee = Chips(6);
    let pruned = pool.on_new_height(&view);
    assert_eq!(pruned.underpriced, [b0.hash()]);
    assert!(pool.is_empty());
    assert_eq!(pool.bytes(), 0);
    assert_eq!(pool.sender_count(), 0);
}

/// Local transactions are listed for the journal until they leave the
/// pool by any way: replaced (by a gossiped one, which is not local),
/// evicted, included, pruned, removed.
#[test]
fn local_transactions_are_tracked_until_they_leave() {
    let (a, b, c) = (key(1), key(2), key(3));
    let mut view = View::new()
        .fund(&a, 1_000, 0)
        .fund(&b, 1_000, 0)
        .fund(&c, 1_000, 0);
    let size = transfer(&a, 0, 1, 1).encode().len();
    let mut config = MempoolConfig::new(CHAIN);
    config.max_txs = 5;
    let mut pool = Mempool::new(config);
    let a0 = transfer(&a, 0, 2, 1);
    let a1 = transfer(&a, 1, 2, 1);
    let a2 = transfer(&a, 2, 2, 1);
    let b0 = transfer(&b, 0, 3, 1);
    let gossip = transfer(&c, 0, 9, 1);
    for tx in [&a0, &a1, &a2, &b0] {
        pool.insert_local(checked(tx.clone()), &view).unwrap();
    }
    pool.insert(checked(gossip.clone()), &view).unwrap();
    assert_eq!(pool.local_len(), 4);
    assert_eq!(pool.local_bytes(), 4 * size);
    // By sender, then nonce.
    let local = pool.local_transactions();
    let a_first = a.address() < b.address();
    let expected = if a_first {
        [&a0, &a1, &a2, &b0]
    } else {
        [&b0, &a0, &a1, &a2]
    };
    assert_eq!(local.iter().collect::<Vec<_>>(), expected);

    // Replaced by gossip: the replacement is not local.
    let b0_gossip = transfer(&b, 0, 5, 1);
    pool.insert(checked(b0_gossip), &view).unwrap();
    assert_eq!(pool.local_transactions(), [a0.clone(), a1, a2.clone()]);
    // Evicted for room: a2 is the cheapest tail.
    let admitted = pool.insert(checked(transfer(&c, 1, 9, 1)), &view).unwrap();
    assert_eq!(admitted.evicted, [a2.hash()]);
    assert_eq!(pool.local_len(), 2);
    // Included, and pruned at the new height.
    assert_eq!(pool.remove_included(&[a0.hash()]), 1);
    assert_eq!(pool.local_len(), 1);
    view = view.fund(&a, 1_000, 2);
    view.next_height = 2;
    assert_eq!(pool.on_new_height(&view).stale.len(), 1);
    assert_eq!(pool.local_len(), 0);
    assert_eq!(pool.local_bytes(), 0);

    // Removed on purpose (the journal refused it), whatever its state.
    let c2 = transfer(&c, 2, 9, 1);
    pool.insert_local(checked(c2.clone()), &view).unwrap();
    assert_eq!(pool.local_len(), 1);
    assert!(pool.remove(&c2.hash()));
    assert!(!pool.remove(&c2.hash()));
    assert!(!pool.contains(&c2.hash()));
    assert_eq!((pool.local_len(), pool.local_bytes()), (0, 0));
    assert!(pool.contains(&gossip.hash()));
}

#[test]
fn regossip_after_the_configured_number_of_heights() {
    let a = key(1);
    let mut view = View::new().fund(&a, 1_000, 0);
    let mut config = MempoolConfig::new(CHAIN);
    config.regossip_after_heights = 3;
    let mut pool = Mempool::new(config);
    let a0 = transfer(&a, 0, 5, 1);
    let gapped = transfer(&a, 5, 5, 1);
    pool.insert(checked(a0.clone()), &view).unwrap();
    pool.insert(checked(gapped), &view).unwrap();
    assert!(pool.due_for_regossip(10).is_empty());
    view.next_height = 3;
    pool.on_new_height(&view);
    assert!(pool.due_for_regossip(10).is_empty());
    view.next_height = 4;
    pool.on_new_height(&view);
    // Only the executable one; the gapped one waits for its predecessors.
    assert_eq!(pool.due_for_regossip(10), std::slice::from_ref(&a0));
    // Marked as published: not again until three more heights pass.
    assert!(pool.due_for_regossip(10).is_empty());
    view.next_height = 7;
    pool.on_new_height(&view);
    assert_eq!(pool.due_for_regossip(0), []);
    assert_eq!(pool.due_for_regossip(10), [a0]);
    assert_eq!(pool.metrics().regossiped, 2);
}

#[test]
fn the_same_operations_give_the_same_pool() {
    let keys: Vec<Keypair> = (1..=6).map(key).collect();
    let mut view = View::new();
    for k in &keys {
        view = view.fund(k, 10_000, 0);
    }
    let txs: Vec<SignedTransaction> = (0..60u64)
        .map(|i| {
            let k = &keys[(i * 7 % 6) as usize];
            transfer(k, i / 6, 1 + (i * 13) % 17, 1 + i % 5)
        })
        .collect();
    let run = || {
        let mut config = MempoolConfig::new(CHAIN);
        config.max_txs = 25;
        let mut pool = Mempool::new(config);
        let outcomes: Vec<Result<Admitted, MempoolError>> = txs
            .iter()
            .map(|t| pool.insert(checked(t.clone()), &view))
            .collect();
        (
            outcomes,
            pool.select(1000, usize::MAX),
            pool.metrics().clone(),
        )
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.2.evicted > 0 || first.2.rejected.contains_key("full"));
}
