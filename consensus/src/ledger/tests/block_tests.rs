//! Whole blocks: header checks, signatures, beacon entries, idempotence,
//! proofs, determinism across ledgers and reopening.

use std::sync::Arc;

use game_rules::Chips;

use super::property_tests::{Rng, random_genesis, random_txs};
use super::support::*;
use crate::block::{BeaconEntry, Block, BlockError};
use crate::encoding::BoundedBytes;
use crate::genesis::Params;
use crate::hash::Hash;
use crate::ledger::{BlockEvents, BlockOutcome, Ledger, LedgerError, OpenBetState, keys};
use crate::receipt::LedgerEvent;
use crate::storage::{BLOCK_EVENTS_POSITION, Store};
use crate::tx::{Action, TableId, TxError};

fn transfer(chain: &mut Chain, from: u8, to: u8, amount: u64) -> crate::tx::SignedTransaction {
    chain.tx(
        &kp(from),
        Action::Transfer {
            to: addr(to),
            amount: Chips(amount),
        },
    )
}

/// Asserts `block` is refused with an error matching `expected` and that
/// the ledger did not change.
fn refused(chain: &mut Chain, block: &Block, expected: impl Fn(&LedgerError) -> bool) {
    let root = chain.ledger.state_root();
    let head = chain.ledger.head();
    let balances: Vec<u64> = (1..=3).map(|s| chain.balance(s)).collect();
    let error = chain
        .ledger
        .apply(block, &chain.beacon)
        .expect_err("refused");
    assert!(expected(&error), "unexpected error: {error}");
    assert_eq!(chain.ledger.state_root(), root);
    assert_eq!(chain.ledger.head(), head);
    assert_eq!(
        balances,
        (1..=3).map(|s| chain.balance(s)).collect::<Vec<_>>()
    );
    chain.ledger.check_invariants().expect("invariants");
}

#[test]
fn bad_headers_and_signatures_are_refused_whole() {
    let mut chain = Chain::new(&genesis_with(
        4,
        1_000,
        1_000,
        Params {
            max_block_txs: 3,
            ..params()
        },
    ));
    chain.apply(Vec::new());
    let tx = transfer(&mut chain, 1, 2, 10);
    let good = chain.build(vec![tx.clone()], Vec::new());

    let mut bad = good.clone();
    bad.header.parent_state_root = Hash::new([9; 32]);
    refused(&mut chain, &bad, |e| {
        matches!(e, LedgerError::WrongParentStateRoot { .. })
    });

    let mut bad = good.clone();
    bad.header.parent = Hash::new([9; 32]);
    refused(&mut chain, &bad, |e| {
        matches!(e, LedgerError::WrongParent { .. })
    });

    let mut bad = good.clone();
    bad.header.timestamp_ms = chain.ledger.last_timestamp_ms();
    refused(&mut chain, &bad, |e| {
        matches!(e, LedgerError::TimestampNotAfterParent { .. })
    });

    let mut bad = good.clone();
    bad.header.height += 1;
    refused(&mut chain, &bad, |e| {
        matches!(e, LedgerError::WrongHeight { .. })
    });

    let mut bad = good.clone();
    bad.header.proposer = kp(1).public_key();
    refused(&mut chain, &bad, |e| {
        matches!(e, LedgerError::UnknownProposer { .. })
    });

    let mut bad = good.clone();
    bad.header.transaction_count = 0;
    refused(&mut chain, &bad, |e| {
        matches!(e, LedgerError::Block(BlockError::CountMismatch { .. }))
    });

    // A tampered signature, with the roots recomputed so only the
    // signature is wrong.
    let mut forged = tx.clone();
    let mut bytes = forged.signature.to_bytes();
    bytes[0] ^= 1;
    forged.signature = wallet::Signature::from_bytes(bytes);
    let bad = chain.build(vec![forged.clone()], Vec::new());
    refused(&mut chain, &bad, |e| {
        matches!(
            e,
            LedgerError::Block(BlockError::InvalidTransaction {
                error: TxError::BadSignature,
                ..
            })
        )
    });
    // apply_verified skips only the signature pass: every other check stays.
    let stranger = {
        let mut other = chain.tx(
            &kp(2),
            Action::Transfer {
                to: addr(1),
                amount: Chips(1),
            },
        );
        other.tx.chain_id = wallet::ChainId::new([1; 32]);
        other
    };
    let bad = chain.build(vec![stranger], Vec::new());
    let error = chain
        .ledger
        .apply_verified(&bad, &chain.beacon)
        .expect_err("another chain's transaction");
    assert!(matches!(
        error,
        LedgerError::Block(BlockError::InvalidTransaction { .. })
    ));

    let too_many = (0..4).map(|_| transfer(&mut chain, 3, 1, 1)).collect();
    let bad = chain.build(too_many, Vec::new());
    refused(&mut chain, &bad, |e| {
        matches!(e, LedgerError::TooManyTransactions { count: 4, max: 3 })
    });

    // After all that, the good block applies.
    let applied = chain.apply_block(&good).expect("the good block");
    all_applied(&applied);
    assert_eq!(chain.balance(2), 1_010);
}

#[test]
fn beacon_entries_are_checked_before_anything_changes() {
    let mut chain = Chain::new(&genesis());
    let table = TableId(1);
    all_applied(&chain.send(vec![
        (1, create_table("crash", crash_game(1, 1_000))),
        (1, Action::JoinTable { table }),
    ]));
    all_applied(&chain.send(vec![(
        1,
        Action::CrashBet {
            table,
            amount: Chips(10),
            auto_cash_out: None,
        },
    )]));
    chain.apply(Vec::new()); // start
    chain.auto_beacon = false;
    let tick1 = chain.apply(Vec::new()).height;
    let tick2 = chain.apply(Vec::new()).height;
    let entries = chain.entries();
    assert_eq!(
        entries.iter().map(|e| e.height).collect::<Vec<_>>(),
        vec![tick1, tick2]
    );
    // Tick 2 before tick 1 is out of order.
    let bad = chain.build(Vec::new(), vec![entries[1].clone()]);
    refused(&mut chain, &bad, |e| {
        matches!(
            e,
            LedgerError::BeaconOutOfOrder {
                tick: 2,
                expected: 1,
                ..
            }
        )
    });
    // A wrong signature.
    let mut wrong = entries[0].clone();
    wrong.signature = BoundedBytes::new(vec![0; 96]).unwrap();
    let bad = chain.build(Vec::new(), vec![wrong]);
    refused(&mut chain, &bad, |e| {
        matches!(e, LedgerError::BadBeaconEntry { .. })
    });
    // A height that waits for nothing.
    let nothing = BeaconEntry {
        height: 0,
        signature: BoundedBytes::new(vec![1; 96]).unwrap(),
    };
    let bad = chain.build(Vec::new(), vec![nothing]);
    refused(&mut chain, &bad, |e| {
        matches!(e, LedgerError::UnexpectedBeaconEntry { height: 0 })
    });
    // Both, in order, are fine (unless the first crashes the round, which
    // takes the second with it).
    let block = chain.build(Vec::new(), entries);
    chain.apply_block(&block).expect("in order");
}

#[test]
fn applying_a_block_twice_is_a_no_op_and_a_rival_block_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let genesis = genesis();
    let mut chain = Chain::with_ledger(Ledger::open(store.clone(), &genesis).unwrap());
    let tx = transfer(&mut chain, 1, 2, 5);
    let block = chain.next_block(vec![tx]);
    chain.apply_block(&block).expect("applies");
    let root = chain.ledger.state_root();
    let balance = chain.balance(2);
    for _ in 0..2 {
        assert!(matches!(
            chain.ledger.apply(&block, &chain.beacon),
            Ok(BlockOutcome::AlreadyApplied { height: 0 })
        ));
    }
    assert_eq!(chain.ledger.state_root(), root);
    assert_eq!(chain.balance(2), balance);
    let mut rival = block.clone();
    rival.header.timestamp_ms += 1;
    assert!(matches!(
        chain.ledger.apply(&rival, &chain.beacon),
        Err(LedgerError::ConflictingBlock { height: 0 })
    ));
    assert_eq!(store.last_applied_height().unwrap(), Some(0));

    // In memory too.
    let mut memory = Chain::new(&genesis);
    memory.apply_block(&block).expect("applies");
    assert_eq!(memory.ledger.state_root(), root, "same block, same root");
    assert!(matches!(
        memory.ledger.apply(&block, &memory.beacon),
        Ok(BlockOutcome::AlreadyApplied { height: 0 })
    ));
}

#[test]
fn a_state_proof_checks_against_the_root() {
    let mut chain = Chain::new(&genesis());
    let tx = transfer(&mut chain, 1, 2, 5);
    chain.apply(vec![tx]);
    let key = keys::account(&addr(2));
    let proof = chain.ledger.prove(&key).unwrap();
    assert_eq!(proof.root, chain.ledger.state_root());
    let value = proof.value.clone().expect("the account exists");
    crate::merkle::verify(proof.root.as_bytes(), &key, Some(&value), &proof.proof)
        .expect("the proof verifies");
    let account: crate::ledger::Account = borsh::from_slice(&value).unwrap();
    assert_eq!(account.balance, Chips(1_000_005));
    // An absent account is proven absent.
    let key = keys::account(&addr(99));
    let proof = chain.ledger.prove(&key).unwrap();
    assert_eq!(proof.value, None);
    crate::merkle::verify(proof.root.as_bytes(), &key, None, &proof.proof).expect("absent");
    // At genesis too.
    let fresh = Ledger::in_memory(&genesis()).unwrap();
    let key = keys::bankroll();
    let proof = fresh.prove(&key).unwrap();
    crate::merkle::verify(
        proof.root.as_bytes(),
        &key,
        proof.value.as_deref(),
        &proof.proof,
    )
    .expect("genesis proof");
}

#[test]
fn independent_ledgers_agree_at_every_height_and_reopening_changes_nothing() {
    let genesis = random_genesis();
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let open = |path: &std::path::Path| {
        let store = Arc::new(Store::open(path).unwrap());
        Ledger::open(store, &genesis).unwrap()
    };
    let mut a = Chain::with_ledger(open(dir_a.path()));
    let mut b = open(dir_b.path());
    let mut memory = Ledger::in_memory(&genesis).unwrap();
    let mut rng = Rng(2024);
    let mut roots = Vec::new();
    for i in 0..80 {
        a.auto_beacon = rng.below(6) != 0;
        let txs = random_txs(&mut a, &mut rng);
        let block = a.next_block(txs);
        let applied = a.apply_block(&block).expect("a");
        let other = b.apply(&block, &a.beacon).unwrap().applied().expect("b");
        let third = memory
            .apply(&block, &a.beacon)
            .unwrap()
            .applied()
            .expect("memory");
        assert_eq!(
            applied.state_root, other.state_root,
            "height {}",
            block.header.height
        );
        assert_eq!(applied.state_root, third.state_root);
        assert_eq!(applied.commit, other.commit, "identical writes");
        assert_eq!(
            applied.commit, third.commit,
            "a store and memory write alike"
        );
        assert_eq!(applied.receipts, other.receipts);
        assert_eq!(applied.events, other.events);
        roots.push(applied.state_root);
        // Reopen b from its store every 20 blocks.
        if i % 20 == 19 {
            drop(b);
            b = open(dir_b.path());
            assert_eq!(b.state_root(), applied.state_root);
            assert_eq!(b.head(), a.ledger.head());
            b.check_invariants().unwrap();
        }
    }
    // The stored roots are the roots at every height.
    let store = b.store().unwrap().clone();
    for (height, root) in roots.iter().enumerate() {
        let stored = store
            .state_get(&keys::root(height as u64))
            .unwrap()
            .unwrap();
        assert_eq!(stored, root.to_bytes().to_vec());
    }
    // And a fork in memory of a store-backed ledger continues alike.
    let mut fork = b.fork_in_memory().unwrap();
    let block = a.next_block(Vec::new());
    let x = a.apply_block(&block).unwrap();
    let y = fork.apply(&block, &a.beacon).unwrap().applied().unwrap();
    assert_eq!(x.state_root, y.state_root);
}

#[test]
fn adopting_a_forks_result_writes_what_applying_writes() {
    // As a validator does: execute each block on an in-memory fork of the
    // finalized state, then adopt the fork's result on the stored ledger.
    let genesis = random_genesis();
    let dir_a = tempfile::tempdir().unwrap();
    let dir_c = tempfile::tempdir().unwrap();
    let open = |path: &std::path::Path| {
        let store = Arc::new(Store::open(path).unwrap());
        Ledger::open(store, &genesis).unwrap()
    };
    let mut a = Chain::with_ledger(open(dir_a.path()));
    let mut c = open(dir_c.path());
    let mut mirror = c.fork_in_memory().unwrap();
    let mut rng = Rng(77);
    for i in 0..60 {
        a.auto_beacon = rng.below(6) != 0;
        let txs = random_txs(&mut a, &mut rng);
        let block = a.next_block(txs);
        let applied = a.apply_block(&block).expect("a");
        let mut fork = mirror.fork_in_memory().unwrap();
        let result = fork.apply(&block, &a.beacon).unwrap();
        let BlockOutcome::Applied(result) = result else {
            panic!("the fork applied height {i} before");
        };
        let adopted = c
            .adopt(&block, &fork, result)
            .unwrap()
            .applied()
            .expect("c");
        assert_eq!(
            adopted.commit, applied.commit,
            "height {i}: identical writes"
        );
        assert_eq!(adopted.receipts, applied.receipts);
        assert_eq!(c.head(), a.ledger.head());
        // Adopting again is a no-op, as applying again is.
        let again = mirror.fork_in_memory().unwrap();
        let stale = Box::new(adopted);
        assert!(matches!(
            c.adopt(&block, &again, stale),
            Ok(BlockOutcome::AlreadyApplied { .. })
        ));
        mirror = fork;
    }
    c.check_invariants().unwrap();
    let head = c.head();
    drop(c);
    let reopened = open(dir_c.path());
    assert_eq!(
        reopened.head(),
        head,
        "the adopted state is what the store holds"
    );
    assert_eq!(reopened.state_root(), a.ledger.state_root());
    reopened.check_invariants().unwrap();
}

/// `block` executed on a fork of `base`: the post-state and the result.
fn executed(
    base: &Ledger,
    block: &Block,
    beacon: &TestBeacon,
) -> (Ledger, Box<crate::ledger::AppliedBlock>) {
    let mut fork = base.fork_in_memory().unwrap();
    match fork.apply(block, beacon) {
        Ok(BlockOutcome::Applied(result)) => (fork, result),
        other => panic!("the block does not apply: {other:?}"),
    }
}

#[test]
fn a_post_state_that_is_not_the_blocks_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let mut ledger = Ledger::open(store.clone(), &genesis).unwrap();
    let base = ledger.fork_in_memory().unwrap();
    let mut chain = Chain::new(&genesis);
    let tx = transfer(&mut chain, 1, 2, 5);
    let block = chain.next_block(vec![tx]);
    let balance = ledger.account(&addr(2)).balance;
    // The post-state of another block at the same height.
    let mut rival = block.clone();
    rival.header.timestamp_ms += 1;
    let (fork, result) = executed(&base, &block, &chain.beacon);
    let error = ledger.adopt(&rival, &fork, result).unwrap_err();
    assert!(matches!(error, LedgerError::CorruptState { .. }), "{error}");
    // A block that does not extend the head.
    let mut orphan = block.clone();
    orphan.header.parent = Hash::new([9; 32]);
    let (fork, result) = executed(&base, &block, &chain.beacon);
    assert!(matches!(
        ledger.adopt(&orphan, &fork, result),
        Err(LedgerError::WrongParent { .. })
    ));
    // The state before the block, offered as its post-state.
    let (_, result) = executed(&base, &block, &chain.beacon);
    assert!(ledger.adopt(&block, &base, result).is_err());
    assert_eq!(ledger.head(), None, "nothing was applied");
    assert_eq!(store.last_applied_height().unwrap(), None);
    assert_eq!(ledger.account(&addr(2)).balance, balance);
    // The right one is adopted.
    let (fork, result) = executed(&base, &block, &chain.beacon);
    ledger
        .adopt(&block, &fork, result)
        .unwrap()
        .applied()
        .expect("adopted");
    assert_eq!(ledger.head(), fork.head());
    assert_eq!(store.last_applied_height().unwrap(), Some(0));
}

#[test]
fn a_store_from_another_genesis_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let genesis = genesis();
    let mut chain = Chain::with_ledger(Ledger::open(store.clone(), &genesis).unwrap());
    chain.apply(Vec::new());
    drop(chain);
    let other = genesis_with(2, 5, 5, params());
    assert!(matches!(
        Ledger::open(store, &other),
        Err(LedgerError::GenesisMismatch { .. })
    ));
}

#[test]
fn a_settlement_is_in_the_players_history_as_its_blocks_own_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let mut chain = Chain::with_ledger(Ledger::open(store.clone(), &genesis()).unwrap());
    let txs = vec![
        chain.tx(&kp(1), create_table("craps", craps_game(1, 10_000))),
        chain.tx(&kp(2), Action::JoinTable { table: TableId(1) }),
    ];
    let opened = chain.apply(txs);
    all_applied(&opened);
    let table = created_table(&opened);
    let tx = chain.tx(
        &kp(2),
        Action::CrapsBet {
            table,
            kind: game_rules::craps::BetKind::Field,
            amount: Chips(10),
        },
    );
    let bet = chain.apply(vec![tx]);
    all_applied(&bet);
    let open = chain.ledger.table(table).expect("the table").open_bets();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].player, open[0].amount), (addr(2), Chips(10)));
    assert!(matches!(
        open[0].state,
        OpenBetState::Craps {
            odds: Chips::ZERO,
            point: None,
            working: game_rules::craps::Working::TableDefault,
            works_next_roll: true,
        }
    ));
    // A field bet is decided by the next roll, which the next block's
    // beacon entry makes.
    let settle = chain.apply(Vec::new());
    let settled: Vec<&LedgerEvent> = settle
        .events
        .events
        .iter()
        .filter(|e| e.account() == Some(&addr(2)))
        .collect();
    assert!(
        settled
            .iter()
            .any(|e| matches!(e, LedgerEvent::BetSettled { player, .. } if *player == addr(2))),
        "the roll settled the field bet: {:?}",
        settle.events
    );

    assert!(
        chain
            .ledger
            .table(table)
            .expect("the table")
            .open_bets()
            .is_empty(),
        "a field bet is decided by one roll"
    );
    let stored = store.block_events(settle.height).unwrap().expect("stored");
    assert_eq!(BlockEvents::decode(&stored).unwrap(), settle.events);
    assert!(settle.events.accounts().contains(&addr(2)));
    let history = store
        .account_history(&addr(2).to_bytes(), None, 10)
        .unwrap();
    let newest: Vec<_> = history
        .entries
        .iter()
        .take(2)
        .map(|e| (e.location.height, e.location.position, e.tx_hash))
        .collect();
    assert_eq!(
        newest,
        vec![
            (settle.height, BLOCK_EVENTS_POSITION, None),
            (bet.height, 0, Some(bet.receipts[0].tx.to_bytes())),
        ],
        "the settlement's block, then the bet"
    );
    // The table owner, who did not bet, has no entry for that block.
    let owner = store
        .account_history(&addr(1).to_bytes(), None, 10)
        .unwrap();
    assert!(
        owner
            .entries
            .iter()
            .all(|e| e.location.height != settle.height)
    );
}
