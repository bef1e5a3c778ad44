use super::*;

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("db")).unwrap();
    (dir, store)
}

fn hash(n: u64) -> TxHash {
    let mut out = [0u8; 32];
    out[..8].copy_from_slice(&n.to_be_bytes());
    out[31] = 0xAB;
    out
}

/// A block at `height` with one state key and one transaction touching "alice".
fn simple_block(height: u64) -> BlockCommit {
    let mut commit = BlockCommit::new(height, format!("block {height}").into_bytes());
    commit.put_state(b"height".to_vec(), height.to_be_bytes().to_vec());
    commit
        .add_transaction(
            hash(height),
            format!("receipt {height}").into_bytes(),
            [b"alice"],
        )
        .unwrap();
    commit
}

#[test]
fn store_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
}

#[test]
fn empty_store_reads_nothing() {
    let (_dir, store) = temp_store();
    assert_eq!(store.last_applied_height().unwrap(), None);
    assert_eq!(store.state_get(b"x").unwrap(), None);
    assert_eq!(store.block(0).unwrap(), None);
    assert!(store.receipts(0).unwrap().is_empty());
    assert_eq!(store.tx_location(&hash(0)).unwrap(), None);
    assert_eq!(
        store.account_history(b"alice", None, 10).unwrap(),
        HistoryPage::default()
    );
    assert_eq!(store.rounds(1, None, 10).unwrap(), RoundPage::default());
    assert_eq!(store.state_prefix(b"").count(), 0);
}

#[test]
fn block_commit_round_trips() {
    let (_dir, store) = temp_store();
    let mut commit = BlockCommit::new(0, b"genesis".to_vec());
    commit
        .put_state(b"a".to_vec(), b"1".to_vec())
        .put_state(b"b".to_vec(), b"2".to_vec())
        .delete_state(b"b".to_vec())
        .put_state(b"c".to_vec(), b"3".to_vec())
        .put_round(5, 0, b"round 0".to_vec());
    let first = commit
        .add_transaction(hash(1), b"r1".to_vec(), [b"alice".as_slice(), b"bob"])
        .unwrap();
    let second = commit
        .add_transaction(hash(2), b"r2".to_vec(), [b"alice"])
        .unwrap();
    assert_eq!(
        (first, second),
        (
            TxLocation {
                height: 0,
                position: 0
            },
            TxLocation {
                height: 0,
                position: 1
            }
        )
    );
    assert_eq!(commit.transaction_count(), 2);
    assert_eq!(store.apply_block(&commit).unwrap(), ApplyOutcome::Applied);

    assert_eq!(store.last_applied_height().unwrap(), Some(0));
    assert_eq!(store.state_get(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.state_get(b"b").unwrap(), None, "later delete wins");
    assert_eq!(store.state_get(b"c").unwrap(), Some(b"3".to_vec()));
    assert_eq!(store.block(0).unwrap(), Some(b"genesis".to_vec()));
    assert_eq!(store.block(1).unwrap(), None);
    assert_eq!(
        store.receipts(0).unwrap(),
        vec![b"r1".to_vec(), b"r2".to_vec()]
    );
    assert_eq!(store.receipt(second).unwrap(), Some(b"r2".to_vec()));
    assert_eq!(store.tx_location(&hash(1)).unwrap(), Some(first));
    assert_eq!(store.tx_location(&hash(2)).unwrap(), Some(second));
    assert_eq!(store.round(5, 0).unwrap(), Some(b"round 0".to_vec()));
    assert_eq!(store.round(5, 1).unwrap(), None);

    let alice = store.account_history(b"alice", None, 10).unwrap();
    assert_eq!(
        alice.entries,
        vec![
            HistoryEntry {
                location: second,
                tx_hash: Some(hash(2))
            },
            HistoryEntry {
                location: first,
                tx_hash: Some(hash(1))
            },
        ]
    );
    assert_eq!(alice.next, None);
    let bob = store.account_history(b"bob", None, 10).unwrap();
    assert_eq!(bob.entries.len(), 1);
    assert_eq!(bob.entries[0].tx_hash, Some(hash(1)));
    assert_eq!(store.block_events(0).unwrap(), None, "none were set");
}

#[test]
fn block_events_join_the_histories_after_the_transactions() {
    let (_dir, store) = temp_store();
    store.apply_block(&simple_block(0)).unwrap();
    let mut commit = simple_block(1);
    commit
        .set_block_events(b"settled".to_vec(), [b"alice".as_slice(), b"carol"])
        .unwrap();
    store.apply_block(&commit).unwrap();

    assert_eq!(store.block_events(1).unwrap(), Some(b"settled".to_vec()));
    assert_eq!(store.block_events(0).unwrap(), None);
    let own = TxLocation {
        height: 1,
        position: BLOCK_EVENTS_POSITION,
    };
    let alice = store.account_history(b"alice", None, 10).unwrap();
    let locations: Vec<_> = alice
        .entries
        .iter()
        .map(|e| (e.location, e.tx_hash))
        .collect();
    assert_eq!(
        locations,
        vec![
            (own, None),
            (
                TxLocation {
                    height: 1,
                    position: 0
                },
                Some(hash(1))
            ),
            (
                TxLocation {
                    height: 0,
                    position: 0
                },
                Some(hash(0))
            ),
        ],
        "newest first: the block's own events follow its transactions"
    );
    let carol = store.account_history(b"carol", None, 10).unwrap();
    assert_eq!(
        carol.entries,
        vec![HistoryEntry {
            location: own,
            tx_hash: None
        }]
    );
    // The block's events are not one of its receipts.
    assert_eq!(store.receipts(1).unwrap().len(), 1);
    // A page boundary inside a height resumes below the block's events.
    let first = store.account_history(b"alice", None, 1).unwrap();
    assert_eq!(first.next, Some(own));
    let rest = store.account_history(b"alice", first.next, 10).unwrap();
    assert_eq!(rest.entries.len(), 2);
}

#[test]
fn block_events_refuse_a_bad_address_and_keep_the_commit() {
    let mut commit = BlockCommit::new(0, b"genesis".to_vec());
    let long = vec![b'x'; MAX_ADDRESS_LEN + 1];
    assert!(matches!(
        commit.set_block_events(b"e".to_vec(), [long]),
        Err(StoreError::InvalidAddress { .. })
    ));
    assert_eq!(commit, BlockCommit::new(0, b"genesis".to_vec()));
}

#[test]
fn a_block_cannot_hold_a_transaction_at_the_block_events_position() {
    let mut commit = BlockCommit::new(0, b"genesis".to_vec());
    for n in 0..u64::from(BLOCK_EVENTS_POSITION) {
        commit.add_transaction(hash(n), Vec::new(), [b"a"]).unwrap();
    }
    assert!(matches!(
        commit.add_transaction(hash(u64::MAX), Vec::new(), [b"a"]),
        Err(StoreError::TooManyTransactions)
    ));
    assert_eq!(commit.transaction_count(), BLOCK_EVENTS_POSITION as usize);
}

#[test]
fn reapplying_is_a_noop_and_gaps_are_errors() {
    let (_dir, store) = temp_store();
    assert!(matches!(
        store.apply_block(&simple_block(1)),
        Err(StoreError::HeightGap {
            expected: 0,
            got: 1
        })
    ));
    for height in 0..3 {
        assert_eq!(
            store.apply_block(&simple_block(height)).unwrap(),
            ApplyOutcome::Applied
        );
    }
    // Re-applying an old block changes nothing, even if its other contents differ.
    let mut again = simple_block(1);
    again.put_state(b"height".to_vec(), b"overwritten?".to_vec());
    assert_eq!(
        store.apply_block(&again).unwrap(),
        ApplyOutcome::AlreadyApplied { last_applied: 2 }
    );
    assert_eq!(
        store.state_get(b"height").unwrap(),
        Some(2u64.to_be_bytes().to_vec())
    );
    assert_eq!(store.last_applied_height().unwrap(), Some(2));

    // A different block at an applied height is refused.
    assert!(matches!(
        store.apply_block(&BlockCommit::new(2, b"another block 2".to_vec())),
        Err(StoreError::ConflictingBlock { height: 2 })
    ));
    let err = store.apply_block(&simple_block(5)).unwrap_err();
    assert!(matches!(
        err,
        StoreError::HeightGap {
            expected: 3,
            got: 5
        }
    ));
    assert!(
        err.to_string().contains("next block to apply is 3"),
        "{err}"
    );
    assert_eq!(store.last_applied_height().unwrap(), Some(2));
    assert_eq!(
        store.apply_block(&simple_block(3)).unwrap(),
        ApplyOutcome::Applied
    );
}

#[test]
fn history_pages_newest_first() {
    let (_dir, store) = temp_store();
    let mut expected = Vec::new();
    for height in 0..5u64 {
        let mut commit = BlockCommit::new(height, vec![height as u8]);
        for i in 0..3u64 {
            let tx = hash(height * 10 + i);
            // "al" shares bytes with "alice" and must not show up in its history.
            let accounts: &[&[u8]] = if i == 1 {
                &[b"alice", b"al"]
            } else {
                &[b"alice"]
            };
            let location = commit.add_transaction(tx, vec![], accounts).unwrap();
            expected.push(HistoryEntry {
                location,
                tx_hash: Some(tx),
            });
        }
        store.apply_block(&commit).unwrap();
    }
    expected.reverse();

    let mut seen = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let page = store.account_history(b"alice", before, 4).unwrap();
        assert!(page.entries.len() <= 4);
        seen.extend(page.entries.iter().copied());
        pages += 1;
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 4, "15 entries in pages of 4");
    assert_eq!(seen, expected);
    assert!(seen.windows(2).all(|w| w[0].location > w[1].location));

    // An exact multiple of the page size does not leave a dangling empty page.
    let page = store.account_history(b"alice", None, 15).unwrap();
    assert_eq!((page.entries.len(), page.next), (15, None));
    // A limit of 0 is raised to 1.
    assert_eq!(
        store
            .account_history(b"alice", None, 0)
            .unwrap()
            .entries
            .len(),
        1
    );

    let al = store.account_history(b"al", None, 100).unwrap();
    assert_eq!(al.entries.len(), 5);
    assert!(al.entries.iter().all(|e| e.location.position == 1));
    assert!(matches!(
        store.account_history(b"", None, 1),
        Err(StoreError::InvalidAddress { len: 0 })
    ));
}

#[test]
fn rounds_page_newest_first_per_table() {
    let (_dir, store) = temp_store();
    let mut commit = BlockCommit::new(0, vec![]);
    for round in 0..7u64 {
        commit.put_round(1, round, format!("t1 r{round}").into_bytes());
        commit.put_round(2, round, format!("t2 r{round}").into_bytes());
    }
    commit.put_round(1, 3, b"t1 r3 updated".to_vec());
    commit.put_round(u64::MAX, u64::MAX, b"last".to_vec());
    store.apply_block(&commit).unwrap();

    let first = store.rounds(1, None, 3).unwrap();
    let numbers: Vec<u64> = first.rounds.iter().map(|r| r.round).collect();
    assert_eq!((numbers, first.next), (vec![6, 5, 4], Some(4)));
    let second = store.rounds(1, first.next, 3).unwrap();
    assert_eq!(second.rounds[0].record, b"t1 r3 updated".to_vec());
    let third = store.rounds(1, second.next, 3).unwrap();
    let numbers: Vec<u64> = third.rounds.iter().map(|r| r.round).collect();
    assert_eq!((numbers, third.next), (vec![0], None));
    assert!(
        store
            .rounds(2, None, 100)
            .unwrap()
            .rounds
            .iter()
            .all(|r| r.record.starts_with(b"t2"))
    );
    let last = store.rounds(u64::MAX, None, 10).unwrap();
    assert_eq!(last.rounds.len(), 1);
    assert_eq!(last.rounds[0].round, u64::MAX);
    assert!(store.rounds(3, None, 10).unwrap().rounds.is_empty());
}

#[test]
fn prefix_iteration_is_ordered_and_bounded() {
    let (_dir, store) = temp_store();
    let mut commit = BlockCommit::new(0, vec![]);
    for key in [
        &b"acct/bob"[..],
        b"acct/alice",
        b"acct",
        b"acct0",
        b"acc",
        b"table/1",
        &[0xFF, 0xFF, 1],
        &[0xFF, 0xFF],
    ] {
        commit.put_state(key.to_vec(), key.to_vec());
    }
    store.apply_block(&commit).unwrap();

    let keys = |prefix: &[u8]| -> Vec<Vec<u8>> {
        store
            .state_prefix(prefix)
            .map(|item| {
                let (key, value) = item.unwrap();
                assert_eq!(key, value);
                key
            })
            .collect()
    };
    assert_eq!(
        keys(b"acct/"),
        vec![b"acct/alice".to_vec(), b"acct/bob".to_vec()]
    );
    assert_eq!(keys(b"acct").len(), 4);
    assert_eq!(keys(b"x"), Vec::<Vec<u8>>::new());
    assert_eq!(
        keys(&[0xFF, 0xFF]),
        vec![vec![0xFF, 0xFF], vec![0xFF, 0xFF, 1]]
    );
    let all = keys(b"");
    assert_eq!(all.len(), 8);
    assert!(all.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn snapshot_sees_one_point_in_time() {
    let (_dir, store) = temp_store();
    store.apply_block(&simple_block(0)).unwrap();
    let snapshot = store.snapshot();
    store.apply_block(&simple_block(1)).unwrap();
    store.put_synced_meta(b"vote", b"v1").unwrap();

    assert_eq!(snapshot.last_applied_height().unwrap(), Some(0));
    assert_eq!(
        snapshot.state_get(b"height").unwrap(),
        Some(0u64.to_be_bytes().to_vec())
    );
    assert_eq!(snapshot.block(1).unwrap(), None);
    assert_eq!(snapshot.get_meta(b"vote").unwrap(), None);
    assert_eq!(snapshot.state_prefix(b"").count(), 1);
    assert_eq!(
        snapshot
            .account_history(b"alice", None, 10)
            .unwrap()
            .entries
            .len(),
        1
    );
    assert_eq!(store.last_applied_height().unwrap(), Some(1));
    assert_eq!(
        store
            .account_history(b"alice", None, 10)
            .unwrap()
            .entries
            .len(),
        2
    );
}

#[test]
fn reopen_persists_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dirs/db");
    {
        let store = Store::open(&path).unwrap();
        for height in 0..3 {
            store.apply_block(&simple_block(height)).unwrap();
        }
        store.put_synced_meta(b"last_vote", b"view 9").unwrap();
        store.put_synced_meta(b"lock", b"block 2").unwrap();
        store.delete_synced_meta(b"lock").unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.path(), path);
    assert_eq!(store.last_applied_height().unwrap(), Some(2));
    assert_eq!(
        store.get_meta(b"last_vote").unwrap(),
        Some(b"view 9".to_vec())
    );
    assert_eq!(store.get_meta(b"lock").unwrap(), None);
    assert_eq!(store.block(1).unwrap(), Some(b"block 1".to_vec()));
    assert_eq!(store.receipts(2).unwrap(), vec![b"receipt 2".to_vec()]);
    assert_eq!(
        store.tx_location(&hash(2)).unwrap(),
        Some(TxLocation {
            height: 2,
            position: 0
        })
    );
    assert_eq!(
        store.apply_block(&simple_block(2)).unwrap(),
        ApplyOutcome::AlreadyApplied { last_applied: 2 }
    );
    assert_eq!(
        store.apply_block(&simple_block(3)).unwrap(),
        ApplyOutcome::Applied
    );
}

#[test]
fn user_meta_cannot_clobber_the_applied_height() {
    let (_dir, store) = temp_store();
    store.apply_block(&simple_block(0)).unwrap();
    store
        .put_synced_meta(&META_LAST_APPLIED[1..], b"garbage")
        .unwrap();
    store
        .put_synced_meta(META_LAST_APPLIED, b"garbage")
        .unwrap();
    assert_eq!(store.last_applied_height().unwrap(), Some(0));
}

#[test]
fn second_open_reports_the_lock() {
    let (dir, store) = temp_store();
    let err = Store::open(store.path()).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&dir.path().join("db").display().to_string()),
        "{message}"
    );
    assert!(message.contains("another process"), "{message}");
}

#[test]
fn open_failures_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let err = Store::open(file.join("db")).unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
    assert!(err.to_string().contains("a-file"), "{err}");
}

#[test]
fn corrupt_values_are_errors_not_panics() {
    let (_dir, store) = temp_store();
    store.apply_block(&simple_block(0)).unwrap();
    let db = &store.db;
    db.put_cf(store.cf(CF_META), META_LAST_APPLIED, [1, 2, 3])
        .unwrap();
    db.put_cf(store.cf(CF_TX_INDEX), hash(0), [0; 5]).unwrap();
    db.put_cf(
        store.cf(CF_ACCOUNT_HISTORY),
        keys::account_history_key(b"alice", TxLocation::default()).unwrap(),
        [0; 31],
    )
    .unwrap();
    let mut bad_history_key = keys::account_prefix(b"bob").unwrap();
    bad_history_key.push(1);
    db.put_cf(store.cf(CF_ACCOUNT_HISTORY), bad_history_key, hash(0))
        .unwrap();
    db.put_cf(store.cf(CF_ROUNDS), [0, 0, 0, 0, 0, 0, 0, 9, 1], b"x")
        .unwrap();
    db.put_cf(store.cf(CF_RECEIPTS), [0, 0, 0, 0, 0, 0, 0, 0, 1], b"x")
        .unwrap();

    let corrupt = |result: Result<(), StoreError>| {
        assert!(
            matches!(result, Err(StoreError::Corrupt { .. })),
            "{result:?}"
        );
    };
    corrupt(store.last_applied_height().map(drop));
    corrupt(store.apply_block(&simple_block(1)).map(drop));
    corrupt(store.tx_location(&hash(0)).map(drop));
    corrupt(store.account_history(b"alice", None, 10).map(drop));
    corrupt(store.account_history(b"bob", None, 10).map(drop));
    corrupt(store.rounds(9, None, 10).map(drop));
    corrupt(store.receipts(0).map(drop));
}

#[test]
fn unsupported_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .db
            .put_cf(store.cf(CF_META), META_SCHEMA_VERSION, 99u32.to_be_bytes())
            .unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::UnsupportedSchema {
                found: 99,
                supported: SCHEMA_VERSION,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn invalid_addresses_are_rejected_when_building() {
    let mut commit = BlockCommit::new(0, vec![]);
    assert!(matches!(
        commit.add_transaction(hash(0), vec![], [vec![0u8; MAX_ADDRESS_LEN + 1]]),
        Err(StoreError::InvalidAddress { .. })
    ));
    assert_eq!(commit.transaction_count(), 0, "nothing added on error");
    assert!(
        commit
            .add_transaction(hash(0), vec![], [vec![0xFFu8; MAX_ADDRESS_LEN]])
            .is_ok()
    );
}

#[test]
fn concurrent_appliers_apply_each_height_once() {
    let (_dir, store) = temp_store();
    let store = std::sync::Arc::new(store);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut applied = 0;
                for height in 0..20 {
                    if store.apply_block(&simple_block(height)).unwrap() == ApplyOutcome::Applied {
                        applied += 1;
                    }
                }
                applied
            })
        })
        .collect();
    let total: u32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(total, 20);
    assert_eq!(store.last_applied_height().unwrap(), Some(19));
}
