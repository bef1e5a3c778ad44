use super::*;
use crate::tx::tests::{
    CHAIN, OTHER_CHAIN, keypair, largest_transaction_len, strategies, transfer,
};
use crate::tx::{Evidence, Transaction, Vote};
use game_rules::Chips;
use proptest::prelude::*;
use wallet::Signature;

fn template(height: u64) -> BlockTemplate {
    BlockTemplate {
        chain_id: CHAIN,
        height,
        view: height + 1,
        parent: hash(HashDomain::BlockHeader, b"parent"),
        timestamp_ms: 1_700_000_000_000 + height,
        proposer: keypair(100).public_key(),
        parent_state_root: hash(HashDomain::Genesis, b"state"),
    }
}

fn entry(height: u64) -> BeaconEntry {
    BeaconEntry {
        height,
        signature: BoundedBytes::new(vec![height as u8; 96]).unwrap(),
    }
}

fn sample_block() -> Block {
    Block::assemble(
        template(10),
        (0..5).map(|i| transfer(i, 0, 10 + u64::from(i))).collect(),
        vec![entry(7), entry(8)],
    )
    .unwrap()
}

#[test]
fn an_assembled_block_is_well_formed_and_round_trips() {
    let block = sample_block();
    assert_eq!(block.check(&CHAIN), Ok(()));
    assert_eq!(block.header.transaction_count, 5);
    assert_eq!(block.header.beacon_entry_count, 2);
    let bytes = block.encode();
    assert_eq!(Block::decode(&bytes), Ok(block.clone()));
    let json = serde_json::to_string(&block).unwrap();
    assert_eq!(serde_json::from_str::<Block>(&json).unwrap(), block);
}

#[test]
fn the_block_hash_is_the_header_hash_in_its_domain() {
    let block = sample_block();
    assert_eq!(
        block.hash(),
        hash(HashDomain::BlockHeader, &encode(&block.header))
    );
    // Changing any part of the block that the header commits to changes
    // the hash once the header is recomputed.
    let mut txs = block.transactions.clone().into_vec();
    txs.swap(0, 1);
    let reordered = Block::assemble(template(10), txs, block.beacon_entries.to_vec()).unwrap();
    assert_ne!(reordered.hash(), block.hash());
    let fewer_entries =
        Block::assemble(template(10), block.transactions.to_vec(), vec![entry(7)]).unwrap();
    assert_ne!(fewer_entries.hash(), block.hash());
    let mut later = template(10);
    later.timestamp_ms += 1;
    let later = Block::assemble(
        later,
        block.transactions.to_vec(),
        block.beacon_entries.to_vec(),
    )
    .unwrap();
    assert_ne!(later.hash(), block.hash());
}

/// Pins the header layout: if this fails, the encoding changed.
#[test]
fn golden_header_layout() {
    let block = Block::assemble(template(1), vec![], vec![]).unwrap();
    let bytes = block.header.encode();
    assert_eq!(bytes.len(), 32 + 8 + 8 + 32 + 8 + 32 + 32 + 32 + 4 + 32 + 4);
    assert_eq!(&bytes[..32], CHAIN.as_bytes());
    assert_eq!(&bytes[32..40], &1u64.to_le_bytes());
    // The view follows the height.
    assert_eq!(&bytes[40..48], &2u64.to_le_bytes());
    assert_eq!(&bytes[80..88], &1_700_000_000_001u64.to_le_bytes());
    assert_eq!(
        block.header.transactions_root,
        hash(HashDomain::TransactionsNode, b"")
    );
    assert_eq!(block.header.beacon_root, hash(HashDomain::BeaconNode, b""));
    // A block with no transactions and no entries: header, then two zero
    // counts.
    assert_eq!(block.encode().len(), bytes.len() + 8);
    assert_eq!(
        block.hash().to_string(),
        GOLDEN_EMPTY_BLOCK_HASH,
        "the block hash changed"
    );
}

const GOLDEN_EMPTY_BLOCK_HASH: &str =
    "f7a1932d130b9a55d625c16fda058141ad4b2263c325a32cf696c4ca7535ab87";

#[test]
fn the_fullest_block_fits_the_limit() {
    // Header, then the two counts, the most transactions of the largest
    // size and the most beacon entries of the largest size.
    let header = Block::assemble(template(1), vec![], vec![])
        .unwrap()
        .header
        .encode()
        .len();
    let entry = 8 + 4 + MAX_BEACON_SIGNATURE_BYTES;
    // A proposal's transactions are bounded by MAX_BLOCK_TX_BYTES …
    let fullest = header + 4 + MAX_BLOCK_TX_BYTES + 4 + MAX_BEACON_ENTRIES_PER_BLOCK * entry;
    assert!(fullest <= MAX_BLOCK_BYTES, "{fullest} > {MAX_BLOCK_BYTES}");
    // … which the most transactions of any kind but a dealer log (all
    // under 2 KiB) never reach: only dealer logs need the byte budget.
    const { assert!(MAX_TXS_PER_BLOCK * 2 * 1024 <= MAX_BLOCK_TX_BYTES) };
    assert!(largest_transaction_len() > 2 * 1024);
}

#[test]
fn a_full_block_round_trips() {
    let t = transfer(1, 0, 1);
    let txs: Vec<SignedTransaction> = (0..MAX_TXS_PER_BLOCK as u64)
        .map(|nonce| {
            let mut tx = t.clone();
            tx.tx.nonce = nonce; // signatures are not checked here
            tx
        })
        .collect();
    let entries: Vec<BeaconEntry> = (0..MAX_BEACON_ENTRIES_PER_BLOCK as u64)
        .map(entry)
        .collect();
    let block = Block::assemble(template(10_000), txs, entries).unwrap();
    assert_eq!(block.check_well_formed(&CHAIN), Ok(()));
    let bytes = block.encode();
    assert_eq!(Block::decode(&bytes), Ok(block));
    let too_many = vec![t; MAX_TXS_PER_BLOCK + 1];
    assert!(matches!(
        Block::assemble(template(1), too_many, vec![]),
        Err(BlockError::TooMany { .. })
    ));
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    let len = MAX_BLOCK_BYTES + 1;
    assert_eq!(
        Block::decode(&vec![0u8; len]),
        Err(DecodeError::TooLarge {
            what: "block",
            len,
            max: MAX_BLOCK_BYTES
        })
    );
}

#[test]
fn well_formedness_refusals() {
    let good = sample_block();

    assert_eq!(
        good.check_well_formed(&OTHER_CHAIN),
        Err(BlockError::WrongChain {
            expected: OTHER_CHAIN,
            found: CHAIN
        })
    );

    let mut bad = good.clone();
    bad.header.transaction_count = 4;
    assert!(matches!(
        bad.check_well_formed(&CHAIN),
        Err(BlockError::CountMismatch {
            what: "transactions",
            ..
        })
    ));

    let mut bad = good.clone();
    bad.header.beacon_entry_count = 3;
    assert!(matches!(
        bad.check_well_formed(&CHAIN),
        Err(BlockError::CountMismatch {
            what: "beacon entries",
            ..
        })
    ));

    let mut bad = good.clone();
    let mut txs = bad.transactions.into_vec();
    txs.swap(1, 2);
    bad.transactions = BoundedVec::new(txs).unwrap();
    assert!(matches!(
        bad.check_well_formed(&CHAIN),
        Err(BlockError::RootMismatch {
            what: "transactions",
            ..
        })
    ));

    let mut bad = good.clone();
    bad.header.beacon_root = Hash::ZERO;
    assert!(matches!(
        bad.check_well_formed(&CHAIN),
        Err(BlockError::RootMismatch {
            what: "beacon entries",
            ..
        })
    ));

    let dup = transfer(3, 0, 1);
    let bad = Block::assemble(
        template(10),
        vec![dup.clone(), transfer(4, 0, 1), dup],
        vec![],
    )
    .unwrap();
    assert!(matches!(
        bad.check_well_formed(&CHAIN),
        Err(BlockError::DuplicateTransaction {
            first: 0,
            second: 2,
            ..
        })
    ));

    for entries in [
        vec![entry(8), entry(7)],
        vec![entry(7), entry(7)],
        vec![entry(10)],
        vec![entry(3), entry(11)],
    ] {
        let bad = Block::assemble(template(10), vec![], entries.clone()).unwrap();
        assert!(
            matches!(
                bad.check_well_formed(&CHAIN),
                Err(BlockError::BeaconEntryOutOfOrder { .. })
            ),
            "{entries:?}"
        );
    }

    // A transaction for another chain, correctly signed for it.
    let k = keypair(5);
    let foreign = Transaction {
        chain_id: OTHER_CHAIN,
        ..transfer(5, 0, 1).tx
    }
    .sign(&k);
    let bad = Block::assemble(template(10), vec![transfer(1, 0, 1), foreign], vec![]).unwrap();
    assert!(matches!(
        bad.check_well_formed(&CHAIN),
        Err(BlockError::InvalidTransaction {
            index: 1,
            error: TxError::WrongChain { .. },
            ..
        })
    ));

    // A malformed transaction.
    let zero = Transaction {
        action: Action::Stake { amount: Chips(0) },
        ..transfer(6, 0, 1).tx
    }
    .sign(&keypair(6));
    let bad = Block::assemble(template(10), vec![zero], vec![]).unwrap();
    assert!(matches!(
        bad.check_well_formed(&CHAIN),
        Err(BlockError::InvalidTransaction {
            index: 0,
            error: TxError::ZeroAmount { .. },
            ..
        })
    ));
}

#[test]
fn signature_checks_name_the_bad_transaction() {
    let mut txs: Vec<SignedTransaction> = (0..4).map(|i| transfer(i, 0, 1)).collect();
    txs[2].signature = Signature::from_bytes([7; 64]);
    let block = Block::assemble(template(10), txs, vec![]).unwrap();
    assert_eq!(block.check_well_formed(&CHAIN), Ok(()));
    assert!(matches!(
        block.check(&CHAIN),
        Err(BlockError::InvalidTransaction {
            index: 2,
            error: TxError::BadSignature,
            ..
        })
    ));

    // Evidence whose second vote is signed by someone else.
    let (sender, v, w) = (keypair(1), keypair(2), keypair(3));
    let vote = |b| Vote {
        epoch: 0,
        height: 5,
        view: 0,
        block: Hash::new([b; 32]),
    };
    let evidence = Evidence::DoubleVote {
        validator: v.public_key(),
        first: vote(1).sign(&CHAIN, &v),
        second: vote(2).sign(&CHAIN, &w),
    };
    let tx = Transaction {
        action: Action::SlashingEvidence { evidence },
        ..transfer(1, 0, 1).tx
    }
    .sign(&sender);
    let block = Block::assemble(template(10), vec![tx], vec![]).unwrap();
    assert!(matches!(
        block.check(&CHAIN),
        Err(BlockError::InvalidTransaction {
            index: 0,
            error: TxError::InvalidEvidence(_),
            ..
        })
    ));
}

#[test]
fn inclusion_proofs_check_against_the_header() {
    let block = sample_block();
    let hashes = block.transaction_hashes();
    for (i, tx) in hashes.iter().enumerate() {
        let proof = block.transaction_proof(i).unwrap();
        assert!(block.header.verify_transaction_inclusion(&proof, tx));
        assert!(
            !block
                .header
                .verify_transaction_inclusion(&proof, &hashes[(i + 1) % 5])
        );
        let mut wrong_size = proof.clone();
        wrong_size.size += 1;
        assert!(!block.header.verify_transaction_inclusion(&wrong_size, tx));
    }
    for (i, entry) in block.beacon_entries.iter().enumerate() {
        let proof = block.beacon_proof(i).unwrap();
        assert!(block.header.verify_beacon_inclusion(&proof, &entry.hash()));
        assert!(
            !block
                .header
                .verify_transaction_inclusion(&proof, &entry.hash())
        );
    }
    assert!(block.transaction_proof(5).is_none());
}

#[test]
fn a_child_must_extend_its_parent() {
    let parent = sample_block().header;
    let child = |f: &dyn Fn(&mut BlockTemplate)| {
        let mut t = template(11);
        t.parent = parent.hash();
        t.timestamp_ms = parent.timestamp_ms + 1;
        f(&mut t);
        Block::assemble(t, vec![], vec![]).unwrap().header
    };
    assert_eq!(child(&|_| {}).check_extends(&parent), Ok(()));
    assert!(matches!(
        child(&|t| t.height = 12).check_extends(&parent),
        Err(BlockError::NotNextHeight { .. })
    ));
    assert!(matches!(
        child(&|t| t.parent = Hash::ZERO).check_extends(&parent),
        Err(BlockError::WrongParent { .. })
    ));
    assert!(matches!(
        child(&|t| t.timestamp_ms = parent.timestamp_ms).check_extends(&parent),
        Err(BlockError::TimestampNotIncreasing { .. })
    ));
    assert!(matches!(
        child(&|t| t.chain_id = OTHER_CHAIN).check_extends(&parent),
        Err(BlockError::WrongChain { .. })
    ));
}

#[test]
fn a_view_is_the_rounds_and_after_the_parents_in_its_epoch() {
    let parent = sample_block().header;
    let child = |view: u64| {
        let mut t = template(parent.height + 1);
        t.view = view;
        Block::assemble(t, vec![], vec![]).unwrap().header
    };
    let next = parent.view + 1;
    assert_eq!(child(next).check_view(next, Some(&parent)), Ok(()));
    assert_eq!(
        child(next).check_view(next + 1, Some(&parent)),
        Err(BlockError::WrongView {
            expected: next + 1,
            found: next
        })
    );
    for view in [parent.view, parent.view - 1] {
        assert_eq!(
            child(view).check_view(view, Some(&parent)),
            Err(BlockError::ViewNotIncreasing {
                parent: parent.view,
                view
            })
        );
    }
    // A new epoch's views restart: only the round's view counts.
    assert_eq!(child(1).check_view(1, None), Ok(()));
}

#[test]
fn beacon_signatures_are_bounded() {
    let mut bytes = encode(&entry(1));
    // Claim 193 bytes of signature.
    bytes[8..12].copy_from_slice(&193u32.to_le_bytes());
    bytes.resize(8 + 4 + 193, 0);
    assert!(crate::encoding::decode::<BeaconEntry>("beacon entry", &bytes, 1000).is_err());
    assert!(BoundedBytes::<MAX_BEACON_SIGNATURE_BYTES>::new(vec![0; 193]).is_err());
}

fn arbitrary_block() -> impl Strategy<Value = Block> {
    (
        prop::collection::vec(strategies::signed_transaction(), 0..5),
        prop::collection::vec(strategies::beacon_entry(), 0..3),
        any::<u64>(),
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
    )
        .prop_map(|(txs, entries, height, timestamp_ms, parent, state)| {
            Block::assemble(
                BlockTemplate {
                    chain_id: CHAIN,
                    height,
                    view: height + 1,
                    parent: Hash::new(parent),
                    timestamp_ms,
                    proposer: keypair(9).public_key(),
                    parent_state_root: Hash::new(state),
                },
                txs,
                entries,
            )
            .unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn blocks_round_trip(block in arbitrary_block()) {
        let bytes = block.encode();
        prop_assert_eq!(Block::decode(&bytes), Ok(block.clone()));
        let json = serde_json::to_string(&block).unwrap();
        prop_assert_eq!(serde_json::from_str::<Block>(&json).unwrap(), block.clone());
        // Well formed unless a generated transaction is malformed, for
        // another chain, or the entries are out of order: never a root or
        // count mismatch, which assemble computes.
        if let Err(e) = block.check_well_formed(&CHAIN) {
            let expected = matches!(
                e,
                BlockError::InvalidTransaction { .. }
                    | BlockError::BeaconEntryOutOfOrder { .. }
                    | BlockError::DuplicateTransaction { .. }
            );
            prop_assert!(expected, "{}", e);
        }
    }

    #[test]
    fn every_truncation_is_refused(block in arbitrary_block()) {
        let bytes = block.encode();
        for len in 0..bytes.len() {
            prop_assert!(Block::decode(&bytes[..len]).is_err());
        }
    }

    #[test]
    fn byte_mutations_never_panic_and_decode_canonically(
        block in arbitrary_block(),
        mutations in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let original = block.encode();
        let mut bytes = original.clone();
        for (index, xor) in &mutations {
            let at = index.index(bytes.len());
            bytes[at] ^= xor;
        }
        if let Ok(decoded) = Block::decode(&bytes) {
            prop_assert_eq!(decoded.encode(), bytes.clone());
            if bytes != original {
                // Whatever changed, the block no longer checks out: either
                // the header (so its hash), or a list the header commits to,
                // or a signature.
                let unchanged = decoded.hash() == block.hash() && decoded.check(&CHAIN).is_ok();
                prop_assert!(!unchanged);
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2_000)) {
        if let Ok(decoded) = Block::decode(&bytes) {
            prop_assert_eq!(decoded.encode(), bytes);
        }
    }
}

/// A block of `n` transfers from distinct senders.
fn transfers_block(n: u8) -> Block {
    let txs = (0..n).map(|i| transfer(i, 0, 1 + u64::from(i))).collect();
    Block::assemble(template(10), txs, vec![]).unwrap()
}

#[test]
fn a_block_of_transactions_already_checked_verifies_no_signature() {
    let block = transfers_block(6);
    let cache = SignatureCache::new(1_024);
    // The mempool's entry check, one transaction at a time.
    for tx in block.transactions.iter() {
        assert_eq!(tx.check_with(&CHAIN, &cache), Ok(()));
    }
    let entry = cache.counts();
    assert_eq!(entry.verified, 6);
    assert_eq!(entry.cached, 0);
    // The engine's check of the proposal, the gossiped finalized block's
    // check, the follower's apply: no ed25519 verification at all.
    for _ in 0..3 {
        assert_eq!(block.check_with(&CHAIN, &cache), Ok(()));
        assert_eq!(block.verify_signatures_with(&cache), Ok(()));
    }
    let after = cache.counts();
    assert_eq!(
        after.verified, entry.verified,
        "no signature verified again"
    );
    assert_eq!(after.invalid, 0);
    assert_eq!(after.cached, 6 * 6);
}

#[test]
fn a_block_verifies_only_what_the_cache_does_not_know() {
    let block = transfers_block(5);
    let cache = SignatureCache::new(1_024);
    block.transactions[1].check_with(&CHAIN, &cache).unwrap();
    block.transactions[3].check_with(&CHAIN, &cache).unwrap();
    assert_eq!(block.check_with(&CHAIN, &cache), Ok(()));
    assert_eq!(cache.counts().verified, 2 + 3);
    assert_eq!(cache.counts().cached, 2);
    assert_eq!(cache.len(), 5);
}

#[test]
fn transactions_checked_together_are_verified_once_as_a_batch() {
    let block = transfers_block(6);
    let mut txs = block.transactions.to_vec();
    txs[4].tx.fee = Chips(txs[4].tx.fee.0 + 1);
    let cache = SignatureCache::new(1_024);
    txs[0].check_with(&CHAIN, &cache).unwrap();
    let results = SignedTransaction::check_all_with(&txs, &CHAIN, &cache);
    let expected: Vec<Result<(), TxError>> = (0..6)
        .map(|i| {
            if i == 4 {
                Err(TxError::BadSignature)
            } else {
                Ok(())
            }
        })
        .collect();
    assert_eq!(results, expected);
    let counts = cache.counts();
    assert_eq!(
        (counts.verified, counts.invalid, counts.cached),
        (1 + 4, 1, 1)
    );
    // Now each is known: checked again, nothing is verified.
    let again = SignedTransaction::check_all_with(&txs, &CHAIN, &cache);
    assert_eq!(again, expected);
    assert_eq!(cache.counts().verified, 5);
    assert_eq!(cache.counts().cached, 1 + 5);
    assert_eq!(
        SignedTransaction::check_all_with(&[], &CHAIN, &cache),
        vec![]
    );
}

#[test]
fn a_tampered_copy_of_a_cached_transaction_is_verified_and_refused() {
    let block = transfers_block(4);
    let cache = SignatureCache::new(1_024);
    assert_eq!(block.check_with(&CHAIN, &cache), Ok(()));
    // Same body, another signature; same signature, another body.
    let mut resigned = block.transactions.to_vec();
    resigned[2].signature = Signature::from_bytes([7; 64]);
    let mut altered = block.transactions.to_vec();
    altered[1].tx.nonce += 1;
    for txs in [resigned, altered] {
        let tampered = Block::assemble(template(10), txs, vec![]).unwrap();
        let expected = tampered
            .check_well_formed(&CHAIN)
            .and_then(|()| tampered.verify_signatures());
        assert!(expected.is_err());
        let before = cache.counts();
        assert_eq!(tampered.check_with(&CHAIN, &cache), expected);
        assert_eq!(cache.counts().invalid, before.invalid + 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Whatever the cache holds and however the transactions were
    /// tampered with, the cached checks answer exactly as the uncached
    /// ones, and a tampered transaction is never a hit.
    #[test]
    fn cached_checks_agree_with_uncached_ones(
        n in 1u8..8,
        seen in prop::collection::vec(any::<bool>(), 8),
        tamper in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4), 0..4),
        capacity in 0usize..32,
    ) {
        let original = transfers_block(n);
        let cache = SignatureCache::new(capacity);
        for (tx, seen) in original.transactions.iter().zip(&seen) {
            if *seen {
                prop_assert_eq!(tx.check_with(&CHAIN, &cache), tx.check_with(&CHAIN, &SignatureCache::new(0)));
            }
        }
        let mut txs = original.transactions.to_vec();
        for (index, how) in &tamper {
            let at = index.index(txs.len());
            let t = &mut txs[at];
            match how {
                0 => t.signature = Signature::from_bytes([9; 64]),
                1 => t.tx.fee = Chips(t.tx.fee.0 + 1),
                2 => t.tx.chain_id = OTHER_CHAIN,
                _ => t.tx.expiry_height += 1,
            }
        }
        for t in &txs {
            if !original.transactions.contains(t) {
                prop_assert!(!cache.contains(&t.hash()));
            }
            let reference = t.check_with(&CHAIN, &SignatureCache::new(0));
            prop_assert_eq!(t.check_with(&CHAIN, &cache), reference.clone());
            prop_assert_eq!(t.check(&CHAIN), reference);
        }
        // All at once, as gossip and the API's batch route check them.
        let references: Vec<_> = txs
            .iter()
            .map(|t| t.check_with(&CHAIN, &SignatureCache::new(0)))
            .collect();
        prop_assert_eq!(
            SignedTransaction::check_all_with(&txs, &CHAIN, &SignatureCache::new(0)),
            references.clone()
        );
        prop_assert_eq!(SignedTransaction::check_all_with(&txs, &CHAIN, &cache), references);
        let block = Block::assemble(template(10), txs, vec![]).unwrap();
        let expected = block.check_well_formed(&CHAIN).and_then(|()| block.verify_signatures());
        prop_assert_eq!(block.check_with(&CHAIN, &cache), expected.clone());
        prop_assert_eq!(block.check_with(&CHAIN, &cache), expected);
        prop_assert!(cache.len() <= cache.capacity());
    }
}
