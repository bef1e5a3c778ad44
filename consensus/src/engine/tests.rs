//! Engine tests in commonware's deterministic runtime with the simulated
//! network: simulated time, seeded, reproducible. The executor here is a
//! stand-in (empty blocks whose `parent_state_root` is a counter chained
//! through the parent's hash), so these test the engine, not the ledger.

use std::collections::BTreeMap;
use std::num::{NonZeroU64, NonZeroUsize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use commonware_cryptography::Signer as _;
use commonware_cryptography::ed25519;
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_runtime::{Clock as _, Runner as _, Supervisor as _, deterministic};
use commonware_utils::probability;
use wallet::ChainId;

use super::*;
use crate::block::{Block, BlockTemplate};
use crate::hash::{BlockHash, Hash, HashDomain, hash};

const CHAIN: [u8; 32] = [7; 32];

/// The stand-in "state root" after applying `parent` (or the genesis).
fn counter_root(parent: Option<&Block>) -> Hash {
    match parent {
        None => hash(HashDomain::Receipt, b"counter genesis"),
        Some(parent) => {
            let mut bytes = (parent.header.height + 1).to_le_bytes().to_vec();
            bytes.extend_from_slice(parent.header.hash().as_bytes());
            hash(HashDomain::Receipt, &bytes)
        }
    }
}

/// What a validator's executor applied: durable across a restart of the
/// validator (the test keeps it), like the ledger's RocksDB.
#[derive(Default)]
struct Applied {
    /// Height → (block hash, block, proof bytes if it has its own).
    chain: BTreeMap<u64, (BlockHash, Block, Option<Vec<u8>>)>,
    /// Deliveries of an already applied height (at-least-once delivery).
    redelivered: u64,
    /// `verify` verdicts.
    verified: u64,
    rejected: u64,
}

#[derive(Clone, Default)]
struct Ledger(Arc<StdMutex<Applied>>);

impl Ledger {
    fn height(&self) -> Option<u64> {
        self.0.lock().unwrap().chain.keys().next_back().copied()
    }

    fn hashes(&self) -> BTreeMap<u64, BlockHash> {
        let applied = self.0.lock().unwrap();
        applied
            .chain
            .iter()
            .map(|(h, (hash, ..))| (*h, *hash))
            .collect()
    }
}

struct CounterExecutor {
    ledger: Ledger,
    /// Whether a block would carry work (`None`: always, no pacing).
    work: Option<Arc<AtomicBool>>,
}

impl Executor for CounterExecutor {
    fn has_work(&mut self, _: Option<&Block>, _: u64) -> bool {
        self.work
            .as_ref()
            .is_none_or(|work| work.load(Ordering::SeqCst))
    }

    fn propose(&mut self, parent: Option<&Block>, mut template: BlockTemplate) -> Option<Block> {
        template.parent_state_root = counter_root(parent);
        Block::assemble(template, vec![], vec![]).ok()
    }

    fn verify(&mut self, parent: Option<&Block>, block: &Block) -> bool {
        let ok = block.header.parent_state_root == counter_root(parent);
        let mut applied = self.ledger.0.lock().unwrap();
        if ok {
            applied.verified += 1;
        } else {
            applied.rejected += 1;
        }
        ok
    }

    fn finalized(&mut self, block: &Block, certificate: Option<&[u8]>) {
        let mut applied = self.ledger.0.lock().unwrap();
        let height = block.header.height;
        let hash = block.header.hash();
        if let Some((existing, ..)) = applied.chain.get(&height) {
            assert_eq!(*existing, hash, "a different block redelivered at {height}");
            applied.redelivered += 1;
            return;
        }
        let expected = applied.chain.keys().next_back().map_or(0, |h| h + 1);
        assert_eq!(height, expected, "finalized out of order");
        if let Some((_, parent, _)) = applied.chain.get(&height.wrapping_sub(1)) {
            block.header.check_extends(&parent.header).unwrap();
        }
        applied.chain.insert(
            height,
            (hash, block.clone(), certificate.map(<[u8]>::to_vec)),
        );
    }
}

const MAX_BLOCK: usize = 64 * 1024;

fn test_storage() -> Storage {
    Storage {
        page_cache_pages: NonZeroUsize::new(64).unwrap(),
        buffer_bytes: NonZeroUsize::new(8 * 1024).unwrap(),
        items_per_section: NonZeroU64::new(16).unwrap(),
        ..Storage::default()
    }
}

const FAST: Link = Link {
    latency: Duration::from_millis(20),
    jitter: Duration::from_millis(5),
    success_rate: probability!(1.0),
};

/// A committee running in one deterministic runtime.
struct Cluster {
    committee: Committee,
    oracle: Oracle<ed25519::PublicKey, deterministic::Context>,
    ledgers: Vec<Ledger>,
    running: Vec<Option<Running>>,
    /// Each validator's incarnation (its channels are registered afresh).
    starts: Vec<u32>,
    /// What the executors say about work (`None`: always busy).
    work: Option<Arc<AtomicBool>>,
}

impl Cluster {
    async fn new(context: &deterministic::Context, n: u32, seed: u64) -> Cluster {
        let committee = dealer_committee(n, &[seed as u8; 32]).unwrap();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: max_message_size(n, MAX_BLOCK),
                max_peers_per_set: NonZeroUsize::new(n as usize).unwrap(),
                disconnect_on_block: true,
                tracked_peer_sets: NonZeroUsize::new(1).unwrap(),
            },
            committee.participants.iter().cloned(),
        )
        .await;
        network.start();
        Cluster {
            committee,
            oracle,
            ledgers: (0..n).map(|_| Ledger::default()).collect(),
            running: (0..n).map(|_| None).collect(),
            starts: vec![0; n as usize],
            work: None,
        }
    }

    fn key(&self, i: usize) -> ed25519::PublicKey {
        self.committee.validators[i].identity.public_key()
    }

    async fn link_all(&self, link: Link) {
        let n = self.committee.validators.len();
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    self.oracle
                        .add_link(self.key(a), self.key(b), link.clone())
                        .await
                        .unwrap();
                }
            }
        }
    }

    async fn cut(&self, i: usize) {
        for j in 0..self.committee.validators.len() {
            if j != i {
                let _ = self.oracle.remove_link(self.key(i), self.key(j)).await;
                let _ = self.oracle.remove_link(self.key(j), self.key(i)).await;
            }
        }
    }

    async fn heal(&self, i: usize, link: Link) {
        for j in 0..self.committee.validators.len() {
            if j != i {
                self.oracle
                    .add_link(self.key(i), self.key(j), link.clone())
                    .await
                    .unwrap();
                self.oracle
                    .add_link(self.key(j), self.key(i), link.clone())
                    .await
                    .unwrap();
            }
        }
    }

    async fn start(&mut self, context: &deterministic::Context, i: usize) {
        let keys = &self.committee.validators[i];
        let timing = Timing::default();
        let control = self.oracle.control(keys.identity.public_key());
        let q = quota(&timing);
        let register = async |c| control.register(c, q).await.unwrap();
        let channels = Channels {
            votes: register(channel::VOTES).await,
            certificates: register(channel::CERTIFICATES).await,
            resolver: register(channel::RESOLVER).await,
            backfill: register(channel::BACKFILL).await,
            broadcast: register(channel::BROADCAST).await,
        };
        let mut config = Config::new(
            ChainId::new(CHAIN),
            0,
            keys.identity.clone(),
            self.committee.participants.clone(),
            self.committee.sharing.clone(),
            Some(keys.share.clone()),
            CounterExecutor {
                ledger: self.ledgers[i].clone(),
                work: self.work.clone(),
            },
            format!("validator-{i}"),
        );
        config.max_block_bytes = MAX_BLOCK;
        config.storage = test_storage();
        config.timing = timing;
        self.starts[i] += 1;
        let running = start(
            context
                .child("validator")
                .with_attribute("index", i)
                .with_attribute("start", self.starts[i]),
            config,
            channels,
            control.clone(),
            self.oracle.manager(),
        )
        .unwrap();
        self.running[i] = Some(running);
    }

    fn stop(&mut self, i: usize) {
        if let Some(running) = self.running[i].take() {
            running.abort();
        }
    }

    fn height(&self, i: usize) -> u64 {
        self.ledgers[i].height().map_or(0, |h| h + 1)
    }

    /// Waits (in simulated time) until every validator in `who` has applied
    /// at least `blocks` blocks.
    async fn wait_for(&self, context: &deterministic::Context, who: &[usize], blocks: u64) {
        // Fail fast (with a diagnosis) when nothing moves for a simulated
        // minute, instead of running into the runtime's timeout.
        let mut last = Vec::new();
        let mut still = 0u32;
        while who.iter().any(|&i| self.height(i) < blocks) {
            context.sleep(Duration::from_millis(50)).await;
            let heights: Vec<u64> = (0..self.ledgers.len()).map(|i| self.height(i)).collect();
            if heights == last {
                still += 1;
            } else {
                still = 0;
                last = heights;
            }
            if still >= 1200 {
                let blocked = self.oracle.blocked().await.unwrap();
                let faults: Vec<_> = self
                    .running
                    .iter()
                    .map(|r| r.as_ref().map(Running::faults))
                    .collect();
                panic!(
                    "no progress towards {blocks} on {who:?}: heights {last:?}, blocked {blocked:?}, faults {faults:?}"
                );
            }
        }
    }

    /// Every pair of validators in `who` agrees at every height both have.
    fn assert_agree(&self, who: &[usize]) {
        let chains: Vec<_> = who.iter().map(|&i| self.ledgers[i].hashes()).collect();
        for (a, chain_a) in chains.iter().enumerate() {
            for chain_b in &chains[a + 1..] {
                for (height, hash) in chain_a {
                    if let Some(other) = chain_b.get(height) {
                        assert_eq!(hash, other, "fork at height {height}");
                    }
                }
            }
        }
    }

    async fn assert_honest(&self, who: &[usize]) {
        for &i in who {
            if let Some(running) = &self.running[i] {
                let faults = running.faults();
                assert!(!faults.any(), "validator {i} saw equivocation: {faults:?}");
            }
            let applied = self.ledgers[i].0.lock().unwrap();
            assert_eq!(
                applied.rejected, 0,
                "validator {i} rejected an honest block"
            );
        }
        assert!(
            self.oracle.blocked().await.unwrap().is_empty(),
            "an honest peer was blocked"
        );
    }
}

fn runner(seed: u64, timeout_s: u64) -> deterministic::Runner {
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(Duration::from_secs(timeout_s))),
    )
}

fn report(name: &str, seed: u64, wall: Instant, simulated: Duration, heights: &[u64]) {
    eprintln!(
        "{name} seed={seed}: wall {:?}, simulated {:?}, heights {heights:?}",
        wall.elapsed(),
        simulated
    );
}

/// Runs `n` validators of which `down` never start, until the others have
/// finalized `blocks` blocks; returns their chains.
fn finalize_with_crashed(
    name: &str,
    seed: u64,
    n: u32,
    down: &[usize],
    blocks: u64,
    link: Link,
) -> Vec<BTreeMap<u64, BlockHash>> {
    let wall = Instant::now();
    let down = down.to_vec();
    let name = name.to_string();
    runner(seed, 600).start(|context| async move {
        let mut cluster = Cluster::new(&context, n, seed).await;
        cluster.link_all(link).await;
        let up: Vec<usize> = (0..n as usize).filter(|i| !down.contains(i)).collect();
        for &i in &up {
            cluster.start(&context, i).await;
        }
        let begin = context.current();
        cluster.wait_for(&context, &up, blocks).await;
        cluster.assert_agree(&up);
        cluster.assert_honest(&up).await;
        let heights: Vec<u64> = (0..n as usize).map(|i| cluster.height(i)).collect();
        report(
            &name,
            seed,
            wall,
            context.current().duration_since(begin).unwrap(),
            &heights,
        );
        up.iter().map(|&i| cluster.ledgers[i].hashes()).collect()
    })
}

#[test]
fn four_validators_finalize_the_same_chain() {
    for seed in [1, 2, 3] {
        let chains = finalize_with_crashed("4 validators", seed, 4, &[], 20, FAST);
        assert_eq!(chains.len(), 4);
        for chain in &chains {
            assert!(chain.len() >= 20);
        }
    }
}

#[test]
fn idle_leaders_pace_their_proposals() {
    let wall = Instant::now();
    let seed = 31;
    runner(seed, 600).start(|context| async move {
        let all = [0, 1, 2, 3];
        let mut cluster = Cluster::new(&context, 4, seed).await;
        let work = Arc::new(AtomicBool::new(false));
        cluster.work = Some(work.clone());
        cluster.link_all(FAST).await;
        for i in all {
            cluster.start(&context, i).await;
        }
        cluster.wait_for(&context, &all, 2).await;

        // Idle: about one block per interval, not one per round trip.
        let window = Duration::from_secs(10);
        let interval = Timing::default().max_block_interval;
        let most = (window.as_millis() / interval.as_millis()) as u64 + 2;
        let h0 = cluster.height(0);
        context.sleep(window).await;
        let idle = cluster.height(0) - h0;
        assert!(
            (most / 2..=most).contains(&idle),
            "{idle} idle blocks in {window:?} (interval {interval:?})"
        );

        // Work appears: the waiting leader proposes at once.
        work.store(true, Ordering::SeqCst);
        let h1 = cluster.height(0);
        let at = context.current();
        cluster.wait_for(&context, &[0], h1 + 2).await;
        let reaction = context.current().duration_since(at).unwrap();
        assert!(
            reaction < interval,
            "two blocks took {reaction:?} once there was work"
        );
        let h2 = cluster.height(0);
        context.sleep(window).await;
        let busy = cluster.height(0) - h2;
        assert!(busy >= 3 * idle, "{busy} busy blocks against {idle} idle");

        cluster.assert_agree(&all);
        cluster.assert_honest(&all).await;
        report(
            "pacing",
            seed,
            wall,
            context.current().duration_since(at).unwrap(),
            &[h0, h1, h2, cluster.height(0)],
        );
        eprintln!("pacing: {idle} blocks idle, {busy} busy in {window:?}; reaction {reaction:?}");
    });
}

#[test]
fn runs_are_reproducible() {
    let a = finalize_with_crashed("repro a", 9, 4, &[], 10, FAST);
    let b = finalize_with_crashed("repro b", 9, 4, &[], 10, FAST);
    let prefix = |chains: &Vec<BTreeMap<u64, BlockHash>>| -> Vec<BlockHash> {
        chains[0].range(..10).map(|(_, h)| *h).collect()
    };
    assert_eq!(prefix(&a), prefix(&b));
}

#[test]
fn four_validators_one_never_started() {
    for seed in [11, 12] {
        finalize_with_crashed("4 validators, 1 down", seed, 4, &[3], 15, FAST);
    }
}

#[test]
fn seven_validators_two_never_started() {
    for seed in [21, 22] {
        finalize_with_crashed("7 validators, 2 down", seed, 7, &[1, 5], 15, FAST);
    }
}

#[test]
fn lossy_slow_links_keep_finalizing() {
    let lossy = Link {
        latency: Duration::from_millis(150),
        jitter: Duration::from_millis(50),
        success_rate: probability!(0.8),
    };
    for seed in [31, 32] {
        finalize_with_crashed("lossy links", seed, 4, &[], 15, lossy.clone());
    }
}

#[test]
fn validator_stopped_mid_run_others_continue() {
    for seed in [41, 42] {
        let wall = Instant::now();
        runner(seed, 600).start(|context| async move {
            let mut cluster = Cluster::new(&context, 4, seed).await;
            cluster.link_all(FAST).await;
            for i in 0..4 {
                cluster.start(&context, i).await;
            }
            let begin = context.current();
            cluster.wait_for(&context, &[0, 1, 2, 3], 5).await;
            cluster.stop(2);
            let at_stop = cluster.height(2);
            cluster.wait_for(&context, &[0, 1, 3], at_stop + 15).await;
            cluster.assert_agree(&[0, 1, 2, 3]);
            cluster.assert_honest(&[0, 1, 3]).await;
            let heights: Vec<u64> = (0..4).map(|i| cluster.height(i)).collect();
            report(
                "4 validators, 1 stopped",
                seed,
                wall,
                context.current().duration_since(begin).unwrap(),
                &heights,
            );
        });
    }
}

#[test]
fn partitioned_validator_converges_after_healing() {
    for seed in [51, 52] {
        let wall = Instant::now();
        runner(seed, 600).start(|context| async move {
            let mut cluster = Cluster::new(&context, 4, seed).await;
            cluster.link_all(FAST).await;
            for i in 0..4 {
                cluster.start(&context, i).await;
            }
            let begin = context.current();
            cluster.wait_for(&context, &[0, 1, 2, 3], 5).await;
            cluster.cut(0).await;
            let at_cut = cluster.height(0);
            cluster.wait_for(&context, &[1, 2, 3], at_cut + 15).await;
            // Cut off, validator 0 finalized nothing more (it may have had a
            // few blocks in flight).
            assert!(cluster.height(0) <= at_cut + 2);
            cluster.heal(0, FAST).await;
            let target = (1..4).map(|i| cluster.height(i)).max().unwrap() + 5;
            cluster.wait_for(&context, &[0, 1, 2, 3], target).await;
            cluster.assert_agree(&[0, 1, 2, 3]);
            cluster.assert_honest(&[0, 1, 2, 3]).await;
            let heights: Vec<u64> = (0..4).map(|i| cluster.height(i)).collect();
            report(
                "partition healed",
                seed,
                wall,
                context.current().duration_since(begin).unwrap(),
                &heights,
            );
        });
    }
}

#[test]
fn restarted_validator_catches_up_without_equivocating() {
    for seed in [61, 62] {
        let wall = Instant::now();
        runner(seed, 600).start(|context| async move {
            let mut cluster = Cluster::new(&context, 4, seed).await;
            cluster.link_all(FAST).await;
            for i in 0..4 {
                cluster.start(&context, i).await;
            }
            let begin = context.current();
            cluster.wait_for(&context, &[0, 1, 2, 3], 8).await;
            // Crash validator 1 at an arbitrary point, let the others move
            // on, restart it from its own storage.
            context.sleep(Duration::from_millis(37 * (seed % 7))).await;
            cluster.stop(1);
            let at_stop = cluster.height(1);
            cluster.wait_for(&context, &[0, 2, 3], at_stop + 10).await;
            cluster.start(&context, 1).await;
            let target = [0, 2, 3].iter().map(|&i| cluster.height(i)).max().unwrap() + 5;
            cluster.wait_for(&context, &[0, 1, 2, 3], target).await;
            cluster.assert_agree(&[0, 1, 2, 3]);
            cluster.assert_honest(&[0, 1, 2, 3]).await;
            let heights: Vec<u64> = (0..4).map(|i| cluster.height(i)).collect();
            let redelivered = cluster.ledgers[1].0.lock().unwrap().redelivered;
            report(
                &format!("restart (redelivered {redelivered})"),
                seed,
                wall,
                context.current().duration_since(begin).unwrap(),
                &heights,
            );
        });
    }
}

#[test]
fn whole_committee_restarts_from_storage() {
    // Every validator crashes at once (the runtime stops mid-run) and
    // restarts from its own storage with `start_and_recover`.
    let seed = 71;
    let wall = Instant::now();
    let ledgers: Vec<Ledger> = (0..4).map(|_| Ledger::default()).collect();
    let first = {
        let ledgers = ledgers.clone();
        move |context: deterministic::Context| async move {
            let mut cluster = Cluster::new(&context, 4, seed).await;
            cluster.ledgers = ledgers;
            cluster.link_all(FAST).await;
            for i in 0..4 {
                cluster.start(&context, i).await;
            }
            cluster.wait_for(&context, &[0, 1, 2, 3], 6).await;
            context.sleep(Duration::from_millis(333)).await;
        }
    };
    let ((), checkpoint) = runner(seed, 600).start_and_recover(first);
    let before: Vec<u64> = ledgers
        .iter()
        .map(|l| l.height().map_or(0, |h| h + 1))
        .collect();
    deterministic::Runner::from(checkpoint).start(|context| async move {
        let mut cluster = Cluster::new(&context, 4, seed).await;
        cluster.ledgers = ledgers;
        cluster.link_all(FAST).await;
        for i in 0..4 {
            cluster.start(&context, i).await;
        }
        let target = before.iter().max().unwrap() + 10;
        cluster.wait_for(&context, &[0, 1, 2, 3], target).await;
        cluster.assert_agree(&[0, 1, 2, 3]);
        cluster.assert_honest(&[0, 1, 2, 3]).await;
        let heights: Vec<u64> = (0..4).map(|i| cluster.height(i)).collect();
        report(
            &format!("whole-committee restart (before {before:?})"),
            seed,
            wall,
            Duration::ZERO,
            &heights,
        );
    });
}

#[test]
fn light_verification_with_the_group_key_alone() {
    let seed = 81;
    runner(seed, 600).start(|context| async move {
        let mut cluster = Cluster::new(&context, 4, seed).await;
        cluster.link_all(FAST).await;
        for i in 0..4 {
            cluster.start(&context, i).await;
        }
        cluster.wait_for(&context, &[0, 1, 2, 3], 5).await;
        let group_key = cluster.committee.group_key();
        let ns = namespace(&ChainId::new(CHAIN));
        let applied = cluster.ledgers[2].0.lock().unwrap();
        let mut proven = Vec::new();
        for (block_hash, block, proof) in applied.chain.values() {
            assert_eq!(*block_hash, block.header.hash());
            if let Some(proof) = proof {
                verify_finalized(&group_key, &ns, block, proof).unwrap();
                proven.push((block, proof));
            }
        }
        // In a healthy run every block is finalized by its own certificate.
        assert_eq!(proven.len(), applied.chain.len());
        let (block, proof) = proven[3];
        let (other_block, other_proof) = proven[4];

        // Another block under this proof.
        assert!(matches!(
            verify_finalized(&group_key, &ns, other_block, proof),
            Err(EngineError::WrongBlock { .. })
        ));
        // A tampered block (timestamp moved by 1 ms).
        let mut tampered = block.clone();
        tampered.header.timestamp_ms += 1;
        assert!(verify_finalized(&group_key, &ns, &tampered, proof).is_err());
        // Another chain's namespace.
        let other_ns = namespace(&ChainId::new([8; 32]));
        assert_eq!(
            verify_finalized(&group_key, &other_ns, block, proof),
            Err(EngineError::InvalidSignature)
        );
        // Another group's key.
        let other_group = dealer_committee(4, &[99; 32]).unwrap().group_key();
        assert_eq!(
            verify_finalized(&other_group, &ns, block, proof),
            Err(EngineError::InvalidSignature)
        );
        // A certificate with one bit flipped anywhere never verifies.
        for position in [0, proof.len() / 2, proof.len() - 1] {
            let mut bad = proof.to_vec();
            bad[position] ^= 1;
            assert!(verify_finalized(&group_key, &ns, block, &bad).is_err());
        }
        // The signatures of one height with the proposal of another.
        let mut spliced = FinalityProof::from_bytes(proof).unwrap();
        let other = FinalityProof::from_bytes(other_proof).unwrap();
        spliced.finalization.certificate = other.finalization.certificate;
        assert_eq!(
            verify_finalized(&group_key, &ns, block, &spliced.to_bytes()),
            Err(EngineError::InvalidSignature)
        );
        // Truncated and extended.
        assert!(verify_finalized(&group_key, &ns, block, &proof[..proof.len() - 1]).is_err());
        let mut long = proof.to_vec();
        long.push(0);
        assert!(verify_finalized(&group_key, &ns, block, &long).is_err());
    });
}

#[test]
fn consensus_block_encoding_is_canonical_and_bounded() {
    use commonware_codec::{Copying, Decode as _, Encode as _};
    use commonware_consensus::types::{Epoch, Round, View};
    use commonware_cryptography::Digestible as _;

    let committee = dealer_committee(4, &[1; 32]).unwrap();
    let leader = committee.validators[0].identity.public_key();
    let anchor = ConsensusBlock::anchor(Hash::new(CHAIN));
    let block = Block::assemble(
        BlockTemplate {
            chain_id: ChainId::new(CHAIN),
            height: 0,
            view: 1,
            parent: Hash::new(CHAIN),
            timestamp_ms: 5,
            proposer: application::wallet_key(&leader).unwrap(),
            parent_state_root: Hash::ZERO,
        },
        vec![],
        vec![],
    )
    .unwrap();
    let context = ConsensusContext {
        round: Round::new(Epoch::zero(), View::new(1)),
        leader: leader.clone(),
        parent: (View::zero(), anchor.digest()),
    };
    let proposed = ConsensusBlock::proposed(context.clone(), block.clone());
    for b in [&anchor, &proposed] {
        let bytes = b.encode();
        assert_eq!(bytes.len(), commonware_codec::EncodeSize::encode_size(b));
        let decoded = ConsensusBlock::decode_cfg(bytes.clone(), &MAX_BLOCK).unwrap();
        assert_eq!(&decoded, b);
        assert_eq!(decoded.encode(), bytes);
    }
    // The digest commits to the context.
    let mut moved = context.clone();
    moved.round = Round::new(Epoch::zero(), View::new(2));
    assert_ne!(
        ConsensusBlock::proposed(moved, block.clone()).digest(),
        proposed.digest()
    );
    // A block over the bound is refused before decoding.
    let bytes = proposed.encode();
    assert!(ConsensusBlock::decode_cfg(bytes.clone(), &10usize).is_err());
    // Trailing bytes, truncation and a bad tag are refused.
    let mut long = bytes.to_vec();
    long.push(0);
    assert!(ConsensusBlock::decode_cfg(Copying(&long), &MAX_BLOCK).is_err());
    assert!(ConsensusBlock::decode_cfg(Copying(&bytes[..bytes.len() - 1]), &MAX_BLOCK).is_err());
    let mut tag = bytes.to_vec();
    tag[0] = 9;
    assert!(ConsensusBlock::decode_cfg(Copying(&tag), &MAX_BLOCK).is_err());
    // A body that does not match its header is refused.
    let mut forged = block;
    forged.header.transaction_count = 1;
    let forged = ConsensusBlock::proposed(context, forged).encode();
    assert!(ConsensusBlock::decode_cfg(forged, &MAX_BLOCK).is_err());
}

#[test]
fn a_proposal_whose_view_is_not_its_rounds_or_not_after_its_parents_is_refused() {
    use commonware_consensus::types::{Epoch, Round, View};
    use commonware_cryptography::Digestible as _;

    let committee = dealer_committee(4, &[2; 32]).unwrap();
    let leader = committee.validators[0].identity.public_key();
    let proposer = application::wallet_key(&leader).unwrap();
    let genesis = Hash::new(CHAIN);
    let ledger = Ledger::default();
    let app = application::App {
        executor: Arc::new(commonware_utils::sync::Mutex::new(CounterExecutor {
            ledger: ledger.clone(),
            work: None,
        })),
        chain_id: ChainId::new(CHAIN),
        genesis,
        genesis_time_ms: 0,
        me: leader.clone(),
        max_skew: Timing::default().max_skew,
        clock: ClockSkew::default(),
        max_block_interval: Duration::ZERO,
        pacing_poll: Timing::default().pacing_poll,
    };
    let context =
        |epoch: u64, view: u64, parent: &ConsensusBlock, parent_view: u64| ConsensusContext {
            round: Round::new(Epoch::new(epoch), View::new(view)),
            leader: leader.clone(),
            parent: (View::new(parent_view), parent.digest()),
        };
    let block = |height: u64, view: u64, parent: BlockHash| {
        let template = BlockTemplate {
            chain_id: ChainId::new(CHAIN),
            height,
            view,
            parent,
            timestamp_ms: 10 * (height + 1),
            proposer,
            parent_state_root: Hash::ZERO,
        };
        Block::assemble(template, vec![], vec![]).unwrap()
    };
    let anchor = ConsensusBlock::anchor(genesis);
    let first = block(0, 3, genesis);
    assert!(app.check_stateless(&context(0, 3, &anchor, 0), &anchor, &first));
    assert!(
        !app.check_stateless(&context(0, 4, &anchor, 0), &anchor, &first),
        "the header's view must be the round's"
    );
    let parent = ConsensusBlock::proposed(context(0, 3, &anchor, 0), first.clone());
    let second = |view| block(1, view, first.hash());
    assert!(app.check_stateless(&context(0, 5, &parent, 3), &parent, &second(5)));
    for view in [2, 3] {
        assert!(
            !app.check_stateless(&context(0, view, &parent, 3), &parent, &second(view)),
            "view {view} is not after the parent's 3 in the same epoch"
        );
    }
    // Views restart in a new epoch.
    assert!(app.check_stateless(&context(1, 1, &parent, 3), &parent, &second(1)));
    // The refusals came before the executor: it was never asked.
    let applied = ledger.0.lock().unwrap();
    assert_eq!((applied.verified, applied.rejected), (0, 0));
    assert!(applied.chain.is_empty());
}

/// The chain alone tells who missed which view, with the engine's own
/// elector: one of four validators never starts, so every view it leads
/// is nullified and produces no block; counted from the finalized
/// headers, it missed each view it led and the others missed none.
#[test]
fn a_crashed_leaders_views_are_counted_as_missed_from_the_chain() {
    use commonware_consensus::types::{Epoch, Round, View};

    let seed = 14;
    let wall = Instant::now();
    runner(seed, 600).start(|context| async move {
        let mut cluster = Cluster::new(&context, 4, seed).await;
        cluster.link_all(FAST).await;
        let up = [0, 1, 2];
        for i in up {
            cluster.start(&context, i).await;
        }
        let begin = context.current();
        cluster.wait_for(&context, &up, 20).await;
        cluster.assert_agree(&up);
        let participants = cluster.committee.participants.clone();
        let members: Vec<wallet::PublicKey> = participants
            .iter()
            .map(|key| application::wallet_key(key).unwrap())
            .collect();
        let leaders = leaders::Leaders::new(&members).unwrap();
        let mut views = leaders::EpochViews::new(0);
        let blocks: Vec<Block> = cluster.ledgers[0]
            .0
            .lock()
            .unwrap()
            .chain
            .values()
            .map(|(_, block, _)| block.clone())
            .collect();
        for block in &blocks {
            // The leader the engine elected is the one `leader_of` names.
            let round = Round::new(Epoch::zero(), View::new(block.header.view));
            let elected = leaders::leader_of(&participants, round).unwrap();
            assert_eq!(
                application::wallet_key(&elected),
                Some(block.header.proposer),
                "view {}",
                block.header.view
            );
            views.record(&leaders, block.header.view, block.header.proposer);
        }
        let down = application::wallet_key(&cluster.key(3)).unwrap();
        assert_eq!(views.produced(&down), 0);
        assert!(views.missed(&down) > 0, "the crashed validator led no view");
        for i in up {
            let key = application::wallet_key(&cluster.key(i)).unwrap();
            assert_eq!(views.missed(&key), 0, "validator {i}");
            assert!(views.produced(&key) > 0, "validator {i}");
        }
        let led: u64 = members.iter().map(|key| views.led(key)).sum();
        assert_eq!(led, views.last_view());
        report(
            "crashed leader's views",
            seed,
            wall,
            context.current().duration_since(begin).unwrap(),
            &[blocks.len() as u64, views.missed(&down), views.last_view()],
        );
    });
}
