//! The follower's rules without a network: gossip verdicts on finality
//! proofs, and blocks without their own proof applied only once a
//! certified descendant proves them by parent hashes.

mod support;

use std::sync::{Arc, Mutex};

use consensus::storage::Store;
use libp2p::PeerId;
use node::chain::Chain;
use node::follow::{FinalityVerifier, FollowConfig, Follower};
use node::mempool::{Mempool, MempoolConfig};
use node::metrics::Metrics;
use node::network::{BlockValidator, FinalizedBlock, Verdict};
use tokio::sync::broadcast;

use support::TestChain;

fn follower(test: &TestChain, dir: &std::path::Path) -> (Arc<Chain>, Follower) {
    let store = Arc::new(Store::open(dir).expect("store"));
    let (events, _) = broadcast::channel(16);
    let mempool = Arc::new(Mutex::new(Mempool::new(MempoolConfig::new(
        test.genesis.chain_id(),
    ))));
    let chain = Arc::new(
        Chain::open(
            test.genesis.clone(),
            store,
            Arc::new(test.genesis.beacon_verifier().expect("sharing")),
            mempool,
            events,
            Arc::new(Metrics::new()),
        )
        .expect("chain"),
    );
    let verifier = FinalityVerifier::from_genesis(&test.genesis).expect("group key");
    let follower = Follower::new(chain.clone(), verifier, FollowConfig::default());
    (chain, follower)
}

fn finalized(test: &TestChain, height: usize, with_proof: bool) -> FinalizedBlock {
    let (block, proof) = &test.blocks[height];
    FinalizedBlock::new(block.clone(), with_proof.then_some(&proof[..]))
}

#[test]
fn gossip_verdicts_follow_the_finality_proof() {
    let dir = tempfile::tempdir().unwrap();
    let mut test = TestChain::new();
    test.play(2);
    let (chain, follower) = follower(&test, dir.path());
    let peer = PeerId::random();

    // No proof: not relayed, no penalty.
    assert_eq!(
        follower.validate_block(&finalized(&test, 0, false), &peer),
        Verdict::Ignore
    );
    // A proof of another block, or a damaged proof: rejected.
    let mut wrong = finalized(&test, 0, false);
    wrong.proof = finalized(&test, 1, true).proof;
    assert_eq!(follower.validate_block(&wrong, &peer), Verdict::Reject);
    let mut damaged = test.blocks[0].1.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    let damaged = FinalizedBlock::new(test.blocks[0].0.clone(), Some(&damaged));
    assert_eq!(follower.validate_block(&damaged, &peer), Verdict::Reject);
    // A valid proof: accepted and queued; applied by `advance`.
    assert_eq!(
        follower.validate_block(&finalized(&test, 0, true), &peer),
        Verdict::Accept
    );
    assert_eq!(follower.advance(), 1);
    assert_eq!(chain.height().unwrap(), Some(0));
    // Already applied: ignored.
    assert_eq!(
        follower.validate_block(&finalized(&test, 0, true), &peer),
        Verdict::Ignore
    );
}

#[test]
fn a_block_without_its_proof_waits_for_a_certified_descendant() {
    let dir = tempfile::tempdir().unwrap();
    let mut test = TestChain::new();
    test.play(4);
    let (chain, follower) = follower(&test, dir.path());

    // Heights 0 and 1 without proofs: nothing proves them yet.
    follower
        .ingest(vec![finalized(&test, 0, false), finalized(&test, 1, false)])
        .unwrap();
    assert_eq!(follower.advance(), 0);
    assert_eq!(chain.height().unwrap(), None);

    // Height 2 certified: its parent hash proves 1, whose parent proves 0.
    follower.ingest(vec![finalized(&test, 2, true)]).unwrap();
    assert_eq!(follower.advance(), 3);
    assert_eq!(chain.height().unwrap(), Some(2));
    // The proof of 2 is kept to serve peers; 0 and 1 had none.
    assert!(chain.proof(2).unwrap().is_some());
    assert!(chain.proof(1).unwrap().is_none());

    // A forged block at 3 (no proof) is dropped when the certified block
    // at 4 does not descend from it; the real 3 then completes the chain.
    let mut forged = finalized(&test, 3, false);
    forged.block.header.timestamp_ms += 1;
    follower
        .ingest(vec![forged, finalized(&test, 4, true)])
        .unwrap();
    assert_eq!(follower.advance(), 0);
    follower.ingest(vec![finalized(&test, 3, false)]).unwrap();
    assert_eq!(follower.advance(), 2);
    assert_eq!(chain.height().unwrap(), Some(4));

    // A sync response with one bad proof is refused whole.
    let mut bad = finalized(&test, 5, true);
    bad.proof = finalized(&test, 6, true).proof;
    assert!(
        follower
            .ingest(vec![bad, finalized(&test, 6, true)])
            .is_err()
    );
    assert_eq!(follower.advance(), 0);
}
