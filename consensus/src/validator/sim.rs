//! Test support shared by the validator simulations ([`super::tests`], the
//! scenario tests, and [`super::schedule`], the seeded fault-schedule
//! driver): the committee and genesis, a recorder of what each validator
//! finalized, a FIFO mempool, and a [`Cluster`] of validators in
//! commonware's deterministic runtime over the simulated network.
//!
//! Everything here is deterministic given the runtime's seed: no wall
//! clock (except for reporting), no `HashMap` iteration, and the only
//! randomness is the runtime's or derived from a seed.

use std::collections::{BTreeMap, BTreeSet};
use std::num::{NonZeroU64, NonZeroUsize};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use commonware_cryptography::Signer as _;
use commonware_cryptography::ed25519;
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_p2p::{Receiver, Recipients};
use commonware_runtime::{Clock as _, Handle, Spawner as _, Supervisor as _, deterministic};
use commonware_utils::probability;
use game_rules::Chips;
use wallet::{ChainId, Keypair, PublicKey};

use super::*;
use crate::beacon::{PublicSharing, SecretShare};
use crate::encoding::BoundedVec;
use crate::engine::{
    ClockSkew, Committee, Config, Faults, Running, Storage, Timing, channel, dealer_committee,
    max_message_size, quota, start,
};
use crate::genesis::{Genesis, GenesisAccount, GenesisBankroll, Params};
use crate::hash::Hash;
use crate::ledger::RoundRecord;
use crate::receipt::LedgerEvent;
use crate::storage::Store;
use crate::tx::{Action, TableGame, Transaction};

/// The p2p channel of beacon shares (after the engine's five).
pub(super) const SHARES: u64 = 5;
/// The p2p channel of resharing rounds (dealings and acknowledgements).
pub(super) const DKG: u64 = 6;
pub(super) const MAX_BLOCK: usize = 64 * 1024;

/// The healthy link of the simulations.
pub(super) const FAST: Link = Link {
    latency: Duration::from_millis(20),
    jitter: Duration::from_millis(5),
    success_rate: probability!(1.0),
};

/// The bankroll owner's key seed.
pub(super) const BANK: u8 = 100;

/// Each validator's stake at genesis.
pub(super) const VALIDATOR_STAKE: Chips = Chips(10_000);

/// What each validator's account holds at genesis.
pub(super) const VALIDATOR_BALANCE: Chips = Chips(1_000);

/// Opens a craps table named `craps` (8 seats, 1 to 100,000 chips,
/// 3-4-5× odds), as the simulation tests play it.
pub(super) fn craps_table() -> Action {
    Action::CreateTable {
        name: "craps".parse().expect("a valid name"),
        max_players: 8,
        game: TableGame::Craps {
            min_bet: Chips(1),
            max_bet: Chips(100_000),
            odds: game_rules::craps::OddsLimit::ThreeFourFive,
        },
    }
}

/// Opens a crash table named `crash` (8 seats, 1 to 100,000 chips), as
/// the simulation tests play it.
pub(super) fn crash_table() -> Action {
    Action::CreateTable {
        name: "crash".parse().expect("a valid name"),
        max_players: 8,
        game: TableGame::Crash {
            min_bet: Chips(1),
            max_bet: Chips(100_000),
        },
    }
}

pub(super) fn player(seed: u8) -> Keypair {
    Keypair::from_secret_bytes(&[seed; 32])
}

/// The scenario tests' parameters.
pub(super) fn params() -> Params {
    Params {
        beacon_void_after_blocks: 30,
        crash_betting_ms: 1_000,
        crash_cooldown_ms: 1_000,
        craps_roll_interval_ms: 500,
        // Epochs change every 50 blocks, so every run settles rounds on
        // both sides of epoch boundaries (with the same sharing).
        epoch_length_blocks: 50,
        ..Params::default()
    }
}

/// Everything a simulation derives from the committee.
pub(super) struct Keys {
    pub(super) committee: Committee,
    pub(super) sharing: PublicSharing,
    pub(super) wallets: Vec<Keypair>,
    pub(super) genesis: Genesis,
    /// Identities outside the genesis committee, run as extra nodes after
    /// the committee's (they may join the set through a resharing).
    pub(super) newcomers: Vec<ed25519::PrivateKey>,
}

impl Keys {
    /// Validator `i`'s beacon share.
    pub(super) fn share(&self, i: usize) -> SecretShare {
        self.committee.validators[i].beacon_share()
    }
}

/// A dealer committee of `n` validators and a genesis funding `players`
/// (key seeds), the bankroll (owned by [`BANK`]) and each validator's
/// account with [`VALIDATOR_BALANCE`] (for the fees of its slashing
/// transactions).
pub(super) fn keys(seed: u64, n: usize, params: Params, players: &[u8]) -> Keys {
    let committee = dealer_committee(n as u32, &[seed as u8; 32]).unwrap();
    let sharing = committee.beacon_sharing().unwrap();
    for (i, v) in committee.validators.iter().enumerate() {
        let share = v.beacon_share();
        assert_eq!(share.index() as usize, i, "shares follow committee order");
        assert!(sharing.holds(&share));
    }
    let wallets: Vec<Keypair> = committee.validators.iter().map(|v| v.keypair()).collect();
    let addresses: Vec<_> = (0..n)
        .map(|i| format!("127.0.0.1:{}", 9000 + i).parse().unwrap())
        .collect();
    let validators = committee
        .genesis_validators(VALIDATOR_STAKE, &addresses)
        .unwrap();
    let accounts = players
        .iter()
        .chain([&BANK])
        .map(|&s| GenesisAccount {
            address: player(s).address(),
            balance: Chips(1_000_000),
        })
        .chain(wallets.iter().map(|w| GenesisAccount {
            address: w.address(),
            balance: VALIDATOR_BALANCE,
        }))
        .collect();
    let genesis = Genesis {
        chain_name: "validator-app-test".parse().unwrap(),
        genesis_time_ms: 0,
        accounts: BoundedVec::new(accounts).unwrap(),
        bankroll: GenesisBankroll {
            initial: Chips(10_000_000),
            owner: player(BANK).address(),
        },
        validators: BoundedVec::new(validators).unwrap(),
        params,
        dealer_beacon: true,
        beacon_sharing: Some(sharing.clone()),
    };
    genesis.validate().unwrap();
    Keys {
        committee,
        sharing,
        wallets,
        genesis,
        newcomers: Vec::new(),
    }
}

/// The wallet keypair of a node identity (the same ed25519 key).
pub(super) fn wallet_of(identity: &ed25519::PrivateKey) -> Keypair {
    use commonware_codec::Encode as _;
    let mut secret = [0u8; Keypair::SECRET_LENGTH];
    secret.copy_from_slice(&identity.encode());
    Keypair::from_secret_bytes(&secret)
}

/// `keys` with a newcomer node for each of `seeds`, its account funded
/// with `balance` at genesis.
pub(super) fn with_newcomers(mut keys: Keys, seeds: &[u64], balance: Chips) -> Keys {
    let newcomers: Vec<ed25519::PrivateKey> = seeds
        .iter()
        .map(|seed| ed25519::PrivateKey::from_seed(*seed))
        .collect();
    let mut accounts = keys.genesis.accounts.clone().into_vec();
    accounts.extend(newcomers.iter().map(|identity| GenesisAccount {
        address: wallet_of(identity).address(),
        balance,
    }));
    keys.genesis.accounts = BoundedVec::new(accounts).unwrap();
    keys.genesis.validate().unwrap();
    keys.newcomers = newcomers;
    keys
}

/// What one validator's observer saw, per finalized height. It outlives
/// the validator's incarnations (a restart keeps recording into it).
#[derive(Default)]
pub(super) struct Seen {
    /// Height → (block hash, state root after it).
    pub(super) chain: BTreeMap<u64, (BlockHash, Hash)>,
    /// Height → the transactions of the finalized block.
    pub(super) txs: BTreeMap<u64, Vec<TxHash>>,
    /// (height, event) for every event of every block.
    pub(super) events: Vec<(u64, LedgerEvent)>,
    /// Round records, with the height that finished them.
    pub(super) rounds: Vec<(u64, RoundRecord)>,
    /// Invariant violations (must stay empty).
    pub(super) broken: Vec<String>,
    /// Height → the simulated time this validator finalized it.
    pub(super) finalized_at: BTreeMap<u64, SystemTime>,
    /// (simulated time, height) of every beacon share received from a peer.
    pub(super) shares_received: Vec<(SystemTime, u64)>,
    /// Evidence of bad beacon shares this validator reported.
    pub(super) evidence: Vec<Misbehaviour>,
    /// Redeliveries of an already applied block (after a restart).
    pub(super) redelivered: u64,
    /// Height → the proposer of the finalized block.
    pub(super) proposers: BTreeMap<u64, PublicKey>,
    /// Height → the finalized block's timestamp (ms).
    pub(super) timestamps: BTreeMap<u64, u64>,
    /// Height → the engine epoch of the block's own finalization
    /// certificate, checked with the group key alone
    /// ([`crate::engine::verify_finalized`]; with
    /// [`Cluster::verify_proofs`] only).
    pub(super) certified: BTreeMap<u64, u64>,
    /// Height → the engine (epoch, view) the block was proposed in, from
    /// the consensus context of its finality proof (a block finalized
    /// through a descendant's certificate has no proof, so no entry).
    pub(super) proposed_in: BTreeMap<u64, (u64, u64)>,
}

/// How a validator behaves with its beacon shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shares {
    /// Sends each share once the height is final.
    Honest,
    /// Never sends a share.
    Withhold,
    /// Sends a share whose partial signature is another height's (in a
    /// valid envelope): evidence against it.
    Wrong,
}

pub(super) type Shared = Arc<Mutex<Seen>>;

/// The simulations' [`FinalizedSink`]: records what each finalized block
/// did and checks the ledger's invariants after it.
struct Recorder {
    seen: Shared,
    ledger: SharedLedger,
    clock: deterministic::Context,
    /// The group key and consensus namespace, when finality proofs are
    /// checked.
    proofs: Option<(GroupPublic, Vec<u8>)>,
}

/// The group public key as the engine's light client takes it.
type GroupPublic = <commonware_cryptography::bls12381::primitives::variant::MinSig as
    commonware_cryptography::bls12381::primitives::variant::Variant>::Public;

impl FinalizedSink for Recorder {
    fn misbehaviour(&mut self, evidence: Vec<Misbehaviour>) {
        self.seen.lock().unwrap().evidence.extend(evidence);
    }

    fn finalized(&mut self, block: &Block, proof: Option<&[u8]>, applied: Option<&AppliedBlock>) {
        let mut seen = self.seen.lock().unwrap();
        let height = block.header.height;
        if let Some(Ok(proof)) = proof.map(crate::engine::FinalityProof::from_bytes) {
            let round = proof.context.round;
            seen.proposed_in
                .insert(height, (round.epoch().get(), round.view().get()));
        }
        if let (Some((group_key, namespace)), Some(proof)) = (&self.proofs, proof) {
            match crate::engine::verify_finalized(group_key, namespace, block, proof)
                .and_then(|()| crate::engine::FinalityProof::from_bytes(proof))
            {
                Ok(proof) => {
                    seen.certified
                        .insert(height, proof.finalization.round().epoch().get());
                }
                Err(error) => seen
                    .broken
                    .push(format!("height {height}: finality proof: {error}")),
            }
        }
        let Some(applied) = applied else {
            // A redelivery (after a restart): it must be the block this
            // validator already applied at that height.
            seen.redelivered += 1;
            match seen.chain.get(&height) {
                Some((hash, _)) if *hash == block.hash() => {}
                Some((hash, _)) => {
                    let what = format!(
                        "height {height}: redelivered {} over the applied {hash}",
                        block.hash()
                    );
                    seen.broken.push(what);
                }
                None => {
                    // Applied by an earlier incarnation before the recorder
                    // saw it (cannot happen: the recorder is told after every
                    // apply), or a ledger that claims a block it never had.
                    let what = format!("height {height}: redelivered but never recorded");
                    seen.broken.push(what);
                }
            }
            return;
        };
        if let Some((hash, _)) = seen.chain.get(&applied.height) {
            let what = format!(
                "height {}: applied {} twice (first {hash})",
                applied.height, applied.block_hash
            );
            seen.broken.push(what);
        }
        seen.chain
            .insert(applied.height, (applied.block_hash, applied.state_root));
        seen.proposers.insert(applied.height, block.header.proposer);
        seen.timestamps
            .insert(applied.height, block.header.timestamp_ms);
        seen.txs.insert(applied.height, block.transaction_hashes());
        seen.finalized_at
            .insert(applied.height, self.clock.current());
        if let Err(e) = self.ledger.read().unwrap().check_invariants() {
            seen.broken.push(format!("height {}: {e}", applied.height));
        }
        let events: Vec<LedgerEvent> = applied
            .receipts
            .iter()
            .flat_map(|r| r.events.iter().cloned())
            .chain(applied.events.events.iter().cloned())
            .collect();
        seen.events
            .extend(events.into_iter().map(|e| (applied.height, e)));
        seen.rounds.extend(
            applied
                .rounds
                .iter()
                .map(|(_, _, record)| (applied.height, record.clone())),
        );
    }
}

/// A first-in first-out transaction queue standing in for the mempool.
/// Clones share the queue, so the simulation keeps one to push into.
#[derive(Clone, Debug, Default)]
pub(super) struct TxQueue {
    queue: Arc<Mutex<Vec<SignedTransaction>>>,
}

impl TxQueue {
    pub(super) fn push(&self, tx: SignedTransaction) {
        self.queue.lock().unwrap().push(tx);
    }

    pub(super) fn len(&self) -> usize {
        self.queue.lock().unwrap().len()
    }
}

impl TransactionSource for TxQueue {
    fn candidates(&mut self, max: usize) -> Vec<SignedTransaction> {
        self.queue
            .lock()
            .unwrap()
            .iter()
            .take(max)
            .cloned()
            .collect()
    }

    fn finalized(&mut self, included: &[TxHash]) {
        let included: BTreeSet<&TxHash> = included.iter().collect();
        self.queue
            .lock()
            .unwrap()
            .retain(|tx| !included.contains(&tx.hash()));
    }

    /// Queued behind what is there (this validator's queue only: the
    /// simulation has no gossip between queues), unless the queue holds it
    /// already: refused then, as the node's mempool refuses a transaction
    /// it pools (a restarted dealer submits its unfinalized log again).
    fn submit(&mut self, tx: SignedTransaction, _: &SharedLedger) -> Result<(), SubmitError> {
        let mut queue = self.queue.lock().unwrap();
        let hash = tx.hash();
        if queue.iter().any(|held| held.hash() == hash) {
            return Err(SubmitError {
                reason: format!("transaction {hash} is already queued; wait for it to be included"),
            });
        }
        queue.push(tx);
        Ok(())
    }
}

/// A receiver that delivers some messages twice (a duplicating link):
/// `rate` per mille of the messages, chosen by a counter hashed with a
/// salt, so the choice is deterministic and the schedule can change the
/// rate while the validator runs.
#[derive(Debug)]
pub(super) struct Duplicating<R: Receiver> {
    inner: R,
    rate: Arc<AtomicU32>,
    salt: u64,
    counter: u64,
    again: Option<commonware_p2p::Message<R::PublicKey>>,
}

/// SplitMix64: a cheap, good mixer of a counter into pseudo-random bits.
pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl<R: Receiver> Receiver for Duplicating<R> {
    type Error = R::Error;
    type PublicKey = R::PublicKey;

    async fn recv(&mut self) -> Result<commonware_p2p::Message<R::PublicKey>, R::Error> {
        if let Some(message) = self.again.take() {
            return Ok(message);
        }
        let message = self.inner.recv().await?;
        let rate = u64::from(self.rate.load(Ordering::Relaxed));
        if rate > 0 {
            self.counter += 1;
            if mix(self.salt ^ self.counter) % 1000 < rate {
                self.again = Some(message.clone());
            }
        }
        Ok(message)
    }

    fn capacity(&self) -> NonZeroUsize {
        self.inner.capacity()
    }
}

/// Where a validator's finalized ledger lives between incarnations.
pub(super) enum Durable {
    /// A fresh in-memory ledger at every start (the scenario tests, which
    /// never restart a validator).
    Fresh,
    /// A RocksDB store: a restart reopens the ledger from it, as a node
    /// does after a crash.
    Store(Arc<Store>),
}

/// One incarnation of a running validator.
struct Incarnation {
    running: Running,
    shares_task: Handle<()>,
    dkg_task: Handle<()>,
}

/// Validators of one committee in one deterministic runtime.
pub(super) struct Cluster {
    pub(super) keys: Keys,
    pub(super) oracle: Oracle<ed25519::PublicKey, deterministic::Context>,
    pub(super) queues: Vec<TxQueue>,
    pub(super) seen: Vec<Shared>,
    /// Per validator: per mille of received messages delivered twice.
    pub(super) duplicate: Vec<Arc<AtomicU32>>,
    /// Per node: its wall clock's offset (kept across restarts: the
    /// clock is the machine's).
    pub(super) clocks: Vec<ClockSkew>,
    /// Per validator: where its ledger lives.
    pub(super) durable: Vec<Durable>,
    /// Per validator: where its resharing shares (and the dealings of a
    /// round running) are persisted (with a store only: a fresh ledger
    /// starts at genesis anyway).
    pub(super) share_stores: Vec<Option<ShareStore>>,
    /// Per validator: the running incarnation, if any.
    running: Vec<Option<Incarnation>>,
    /// Per validator: how many times it was started.
    pub(super) starts: Vec<u32>,
    /// Equivocation evidence reported by incarnations that were stopped.
    pub(super) past_faults: Vec<Faults>,
    /// The engine timing every validator runs with.
    pub(super) timing: Timing,
    /// The validator whose key the extra node (the last slot) shares,
    /// if there is a twin.
    pub(super) twin_of: Option<usize>,
    /// Nonces of the transactions the cluster signed, by sender.
    pub(super) key_nonces: BTreeMap<PublicKey, u64>,
    /// Whether the recorders check every finality proof with the group key
    /// (a pairing per block and node: off unless a test asks).
    pub(super) verify_proofs: bool,
}

impl Cluster {
    /// A network of `keys`' committee with every link [`FAST`]; nothing
    /// started.
    pub(super) async fn new(context: &deterministic::Context, keys: Keys) -> Cluster {
        // The committee's nodes, then the newcomers'.
        let n = keys.committee.validators.len() + keys.newcomers.len();
        let peers: Vec<ed25519::PublicKey> = keys
            .committee
            .participants
            .iter()
            .cloned()
            .chain(keys.newcomers.iter().map(|identity| identity.public_key()))
            .collect();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: max_message_size(n as u32, MAX_BLOCK),
                max_peers_per_set: NonZeroUsize::new(n).unwrap(),
                disconnect_on_block: true,
                tracked_peer_sets: NonZeroUsize::new(1).unwrap(),
            },
            peers,
        )
        .await;
        network.start();
        let cluster = Cluster {
            keys,
            oracle,
            queues: (0..n).map(|_| TxQueue::default()).collect(),
            seen: (0..n).map(|_| Shared::default()).collect(),
            duplicate: (0..n).map(|_| Arc::new(AtomicU32::new(0))).collect(),
            clocks: (0..n).map(|_| ClockSkew::default()).collect(),
            durable: (0..n).map(|_| Durable::Fresh).collect(),
            share_stores: (0..n).map(|_| None).collect(),
            running: (0..n).map(|_| None).collect(),
            starts: vec![0; n],
            past_faults: vec![Faults::default(); n],
            timing: Timing::default(),
            twin_of: None,
            key_nonces: BTreeMap::new(),
            verify_proofs: false,
        };
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    cluster
                        .oracle
                        .add_link(cluster.key(a), cluster.key(b), FAST)
                        .await
                        .unwrap();
                }
            }
        }
        cluster
    }

    pub(super) fn n(&self) -> usize {
        self.keys.committee.validators.len()
    }

    /// The nodes: the validators, the newcomers, then the twin if there is
    /// one.
    pub(super) fn slots(&self) -> usize {
        self.seen.len()
    }

    /// The validator whose keys node `slot` runs with.
    pub(super) fn validator_of(&self, slot: usize) -> usize {
        if slot < self.n() + self.keys.newcomers.len() {
            slot
        } else {
            self.twin_of.expect("a slot past the committee is the twin")
        }
    }

    /// Adds a second node with validator `k`'s keys (an equivocating twin:
    /// same identity, same shares, its own storage and ledger). Started
    /// with [`Cluster::start_twins`]; call before [`Cluster::use_stores`].
    pub(super) fn add_twin(&mut self, k: usize) {
        assert!(self.twin_of.is_none(), "one twin");
        assert!(self.keys.newcomers.is_empty(), "a twin or newcomers");
        self.twin_of = Some(k);
        self.queues.push(TxQueue::default());
        self.seen.push(Shared::default());
        self.duplicate.push(Arc::new(AtomicU32::new(0)));
        self.clocks.push(ClockSkew::default());
        self.durable.push(Durable::Fresh);
        self.share_stores.push(None);
        self.running.push(None);
        self.starts.push(0);
        self.past_faults.push(Faults::default());
    }

    pub(super) fn key(&self, i: usize) -> ed25519::PublicKey {
        self.identity(i).public_key()
    }

    /// The identity of validator (or newcomer) `i`.
    fn identity(&self, i: usize) -> ed25519::PrivateKey {
        match self.keys.committee.validators.get(i) {
            Some(validator) => validator.identity.clone(),
            None => self.keys.newcomers[i - self.n()].clone(),
        }
    }

    /// The wallet of validator (or newcomer) `i`.
    pub(super) fn wallet(&self, i: usize) -> Keypair {
        wallet_of(&self.identity(i))
    }

    /// The epoch node `slot`'s engine is in, if it runs.
    pub(super) fn epoch(&self, slot: usize) -> Option<crate::engine::EpochStatus> {
        self.running[slot]
            .as_ref()
            .map(|incarnation| incarnation.running.epoch())
    }

    pub(super) fn chain_id(&self) -> ChainId {
        self.keys.genesis.chain_id()
    }

    /// Gives every validator a RocksDB ledger and a share store under
    /// `dir`.
    pub(super) fn use_stores(&mut self, dir: &Path) {
        for (i, durable) in self.durable.iter_mut().enumerate() {
            let store = Store::open(dir.join(format!("node-{i}"))).unwrap();
            *durable = Durable::Store(Arc::new(store));
            self.share_stores[i] =
                Some(ShareStore::open(dir.join(format!("node-{i}-shares"))).unwrap());
        }
    }

    pub(super) fn is_running(&self, i: usize) -> bool {
        self.running[i].is_some()
    }

    /// Equivocation evidence validator `i` reported, over all its
    /// incarnations.
    pub(super) fn faults(&self, i: usize) -> Faults {
        let mut faults = self.past_faults[i].clone();
        if let Some(incarnation) = &self.running[i] {
            let now = incarnation.running.faults();
            faults.conflicting_notarize += now.conflicting_notarize;
            faults.conflicting_finalize += now.conflicting_finalize;
            faults.nullify_finalize += now.nullify_finalize;
            faults.finalizations += now.finalizations;
            faults.nullifications += now.nullifications;
        }
        faults
    }

    /// Stops validator `i` at once, as a crash would: what its storage
    /// (the engine's journals and archives, the ledger's store) synced
    /// stays.
    pub(super) fn crash(&mut self, i: usize) {
        let faults = self.faults(i);
        if let Some(incarnation) = self.running[i].take() {
            incarnation.running.abort();
            incarnation.shares_task.abort();
            incarnation.dkg_task.abort();
        }
        self.past_faults[i] = faults;
    }

    /// The receivers of node `slot` wrapped to duplicate as the schedule
    /// says.
    fn duplicating(
        &self,
        slot: usize,
        channel: u64,
        receiver: simulated::Receiver<ed25519::PublicKey>,
    ) -> Duplicating<simulated::Receiver<ed25519::PublicKey>> {
        let salt = mix(u64::from(self.starts[slot]) << 32 | slot as u64);
        Duplicating {
            inner: receiver,
            rate: self.duplicate[slot].clone(),
            salt: mix(salt ^ channel),
            counter: 0,
            again: None,
        }
    }

    /// Starts node `i` (again, from its own storage), treating its beacon
    /// shares as `shares` says.
    pub(super) async fn start(
        &mut self,
        context: &deterministic::Context,
        i: usize,
        shares: Shares,
    ) {
        assert!(self.running[i].is_none(), "node {i} is running");
        assert!(
            self.twin_of != Some(i),
            "twins start together (start_twins)"
        );
        self.starts[i] += 1;
        let control = self.oracle.control(self.key(i));
        let q = quota(&self.timing);
        let mut pairs = Vec::new();
        for c in [
            channel::VOTES,
            channel::CERTIFICATES,
            channel::RESOLVER,
            channel::BACKFILL,
            channel::BROADCAST,
            SHARES,
            DKG,
        ] {
            let (sender, receiver) = control.register(c, q).await.unwrap();
            pairs.push((sender, self.duplicating(i, c, receiver)));
        }
        self.launch(context, i, pairs, control, shares);
    }

    /// Starts validator `k` and its twin (the last node) on one identity:
    /// the network sees one peer; the first twin talks with the validators
    /// in `first` (sends to them, hears from them), the second with the
    /// others. Each twin is honest on its own, so together they sign
    /// conflicting votes whenever they see different proposals. The
    /// validators in `bridges` talk with both twins (they are on both
    /// sides): they receive both twins' votes, so they see the
    /// equivocation and report it.
    pub(super) async fn start_twins(
        &mut self,
        context: &deterministic::Context,
        first: &[usize],
        bridges: &[usize],
    ) {
        use commonware_p2p::simulated::{SplitOrigin, SplitTarget};

        let k = self.twin_of.expect("a twin was added");
        let twin = self.slots() - 1;
        self.starts[k] += 1;
        self.starts[twin] += 1;
        let control = self.oracle.control(self.key(k));
        let q = quota(&self.timing);
        let sides: [Vec<ed25519::PublicKey>; 2] = [
            (0..self.n())
                .filter(|i| *i != k && (first.contains(i) || bridges.contains(i)))
                .map(|i| self.key(i))
                .collect(),
            (0..self.n())
                .filter(|i| *i != k && (!first.contains(i) || bridges.contains(i)))
                .map(|i| self.key(i))
                .collect(),
        ];
        let bridges: Arc<Vec<ed25519::PublicKey>> =
            Arc::new(bridges.iter().map(|i| self.key(*i)).collect());
        let sides = Arc::new(sides);
        let mut primary = Vec::new();
        let mut secondary = Vec::new();
        for c in [
            channel::VOTES,
            channel::CERTIFICATES,
            channel::RESOLVER,
            channel::BACKFILL,
            channel::BROADCAST,
            SHARES,
            DKG,
        ] {
            let (sender, receiver) = control.register(c, q).await.unwrap();
            let forward_sides = sides.clone();
            let forward = move |origin: SplitOrigin,
                                recipients: &Recipients<ed25519::PublicKey>,
                                _: &commonware_runtime::IoBuf| {
                let side = &forward_sides[usize::from(origin == SplitOrigin::Secondary)];
                match recipients {
                    Recipients::All => Some(Recipients::Some(side.clone())),
                    Recipients::One(p) => side.contains(p).then(|| Recipients::One(p.clone())),
                    Recipients::Some(list) => Some(Recipients::Some(
                        list.iter().filter(|p| side.contains(p)).cloned().collect(),
                    )),
                }
            };
            let route_sides = sides.clone();
            let route_bridges = bridges.clone();
            let route = move |(from, _): &commonware_p2p::Message<ed25519::PublicKey>| {
                if route_bridges.contains(from) {
                    SplitTarget::Both
                } else if route_sides[0].contains(from) {
                    SplitTarget::Primary
                } else {
                    SplitTarget::Secondary
                }
            };
            let (send_primary, send_secondary) = sender.split_with(forward);
            let (receive_primary, receive_secondary) = receiver.split_with(
                context.child("twin_split").with_attribute("channel", c),
                route,
            );
            primary.push((send_primary, self.duplicating(k, c, receive_primary)));
            secondary.push((send_secondary, self.duplicating(twin, c, receive_secondary)));
        }
        self.launch(context, k, primary, control.clone(), Shares::Honest);
        self.launch(context, twin, secondary, control, Shares::Honest);
    }

    /// Starts node `slot` on its seven channels (the engine's five, the
    /// beacon shares, the resharing rounds).
    fn launch<S>(
        &mut self,
        context: &deterministic::Context,
        slot: usize,
        mut pairs: Vec<(S, Duplicating<simulated::Receiver<ed25519::PublicKey>>)>,
        control: simulated::Control<ed25519::PublicKey, deterministic::Context>,
        shares: Shares,
    ) where
        S: commonware_p2p::Sender<PublicKey = ed25519::PublicKey>,
    {
        let i = self.validator_of(slot);
        let context = context
            .child("node")
            .with_attribute("slot", slot)
            .with_attribute("start", self.starts[slot]);
        let identity = self.identity(i);
        // A newcomer holds no genesis share.
        let genesis_share = self
            .keys
            .committee
            .validators
            .get(i)
            .map(|validator| validator.share.clone());
        let (mut dkg_sender, mut dkg_receiver) = pairs.pop().expect("seven channels");
        let (mut share_sender, mut share_receiver) = pairs.pop().expect("seven channels");
        let mut pairs = pairs.into_iter();
        let mut next = || pairs.next().expect("seven channels");
        let channels = crate::engine::Channels {
            votes: next(),
            certificates: next(),
            resolver: next(),
            backfill: next(),
            broadcast: next(),
        };

        let signers: Vec<PublicKey> = self.keys.wallets.iter().map(Keypair::public_key).collect();
        let aggregator =
            BeaconAggregator::new(self.chain_id(), 0, self.keys.sharing.clone(), signers).unwrap();
        let pool = BeaconPool::new(aggregator);
        let inbox = pool.clone();
        let seen = self.seen[slot].clone();
        let clock = context.child("share_clock");
        let shares_task = context.child("shares").spawn(move |_| async move {
            while let Ok((_, message)) = share_receiver.recv().await {
                if let Ok(share) = SignedBeaconShare::decode(message.as_ref()) {
                    seen.lock()
                        .unwrap()
                        .shares_received
                        .push((clock.current(), share.share.height));
                }
                // Bad or late shares are refused by the pool (and bad
                // ones kept as evidence); nothing else to do here.
                let _ = inbox.add_bytes(message.as_ref());
            }
        });
        // The dealer's randomness is derived from the slot and start, so
        // runs reproduce (a real validator seeds it from the operating
        // system).
        let dkg_seed = mix(mix(slot as u64) ^ u64::from(self.starts[slot]));
        let resharer = Resharer::new(
            identity.clone(),
            Box::new(move |to, message| {
                dkg_sender.send(Recipients::One(to.clone()), message, false);
            }),
            blake3::derive_key("bitcraps sim dealer seed", &dkg_seed.to_le_bytes()),
        )
        .unwrap();
        let dkg_inbox = resharer.clone();
        let dkg_task = context.child("dkg").spawn(move |_| async move {
            while let Ok((from, message)) = dkg_receiver.recv().await {
                dkg_inbox.receive(&from, message.as_ref());
            }
        });
        let keypair = wallet_of(&identity);
        let chain_id = self.chain_id();
        let gossip: ShareGossip = match shares {
            Shares::Honest => Box::new(move |share| {
                share_sender.send(Recipients::All, share.encode(), false);
            }),
            Shares::Withhold => Box::new(|_| {}),
            Shares::Wrong => {
                let mut signer =
                    BeaconSigner::new(0, self.keys.share(i), &self.keys.sharing).unwrap();
                Box::new(move |share| {
                    // A real partial, of the next height: well-formed, signed,
                    // and wrong for this message.
                    let mut message = share.share.message(chain_id);
                    message.height += 1;
                    signer.set_epoch(message.epoch);
                    let mut bad = signer.sign(&message).unwrap();
                    bad.height = share.share.height;
                    let bad = bad.seal(&chain_id, &keypair);
                    share_sender.send(Recipients::All, bad.encode(), false);
                })
            }
        };
        let beacon = BeaconKeys {
            signer: (i < self.n())
                .then(|| BeaconSigner::new(0, self.keys.share(i), &self.keys.sharing).unwrap()),
            keypair: wallet_of(&identity),
            verifier: ThresholdBeaconVerifier {
                chain_id: self.chain_id(),
                group_key: *self.keys.sharing.group_key(),
            },
        };
        let ledger = match &self.durable[slot] {
            Durable::Fresh => Ledger::in_memory(&self.keys.genesis).unwrap(),
            Durable::Store(store) => Ledger::open(store.clone(), &self.keys.genesis).unwrap(),
        };
        let ledger: SharedLedger = Arc::new(RwLock::new(ledger));
        let mut app = ValidatorApp::new(
            ledger.clone(),
            beacon,
            pool,
            self.queues[slot].clone(),
            gossip,
        )
        .unwrap();
        if let Some(store) = &self.share_stores[slot]
            && let Err(error) = app.use_share_store(store.clone())
        {
            // As a node does: the validator runs on without a share.
            tracing::error!(slot, %error, "no beacon share of the sharing in force");
        }
        let app = app.with_resharer(resharer).with_sink(Recorder {
            seen: self.seen[slot].clone(),
            ledger,
            clock: context.child("recorder"),
            proofs: self.verify_proofs.then(|| {
                (
                    *self.keys.committee.sharing.public(),
                    crate::engine::namespace(&self.chain_id()),
                )
            }),
        });
        let mut config = Config::new(
            self.chain_id(),
            self.keys.genesis.genesis_time_ms,
            identity,
            self.keys.committee.participants.clone(),
            self.keys.committee.sharing.clone(),
            genesis_share,
            app,
            // Each node's own storage (a twin's is not its sibling's).
            format!("node-{slot}"),
        );
        config.max_block_bytes = MAX_BLOCK;
        // The engine's epochs are the ledger's.
        config.epoch_length =
            NonZeroU64::new(self.keys.genesis.params.epoch_length_blocks).unwrap();
        config.storage = Storage {
            page_cache_pages: NonZeroUsize::new(64).unwrap(),
            buffer_bytes: NonZeroUsize::new(8 * 1024).unwrap(),
            items_per_section: NonZeroU64::new(16).unwrap(),
            ..Storage::default()
        };
        config.timing = self.timing.clone();
        config.clock_skew = self.clocks[slot].clone();
        let running = start(
            context.child("validator"),
            config,
            channels,
            control.clone(),
            self.oracle.manager(),
        )
        .unwrap();
        self.running[slot] = Some(Incarnation {
            running,
            shares_task,
            dkg_task,
        });
    }

    /// Signs `action` from player `seed` with its next nonce and hands it
    /// to every validator's queue.
    pub(super) fn submit(&mut self, seed: u8, action: Action) -> TxHash {
        self.submit_as(&player(seed), action)
    }

    /// Signs `action` from `who` (any wallet: a player's, a validator's or
    /// a newcomer's) with its next nonce and hands it to every node's queue.
    pub(super) fn submit_as(&mut self, who: &Keypair, action: Action) -> TxHash {
        let nonce = self.key_nonces.entry(who.public_key()).or_insert(0);
        let tx = Transaction {
            chain_id: self.keys.genesis.chain_id(),
            sender: who.public_key(),
            nonce: *nonce,
            fee: Chips(1),
            expiry_height: u64::MAX,
            action,
        }
        .sign(who);
        *nonce += 1;
        let hash = tx.hash();
        for queue in &self.queues {
            queue.push(tx.clone());
        }
        hash
    }

    /// Puts a transfer of 1 chip from [`BANK`] to itself (nonce 0) into
    /// node `slot`'s queue only. Given to one twin, it makes that twin's
    /// proposals differ from its sibling's: when their validator leads,
    /// they propose two blocks for one view and sign both.
    pub(super) fn submit_only_to(&mut self, slot: usize) {
        let bank = player(BANK);
        let tx = Transaction {
            chain_id: self.keys.genesis.chain_id(),
            sender: bank.public_key(),
            nonce: 0,
            fee: Chips(1),
            expiry_height: u64::MAX,
            action: Action::Transfer {
                to: bank.address(),
                amount: Chips(1),
            },
        }
        .sign(&bank);
        self.queues[slot].push(tx);
    }

    /// Finalized heights per validator.
    pub(super) fn heights(&self) -> Vec<usize> {
        self.seen
            .iter()
            .map(|s| s.lock().unwrap().chain.len())
            .collect()
    }

    /// Waits in simulated time until `done` holds for every validator in
    /// `who`; panics after `limit` of simulated time.
    pub(super) async fn wait(
        &self,
        context: &deterministic::Context,
        who: &[usize],
        limit: Duration,
        what: &str,
        done: impl Fn(&Seen) -> bool,
    ) {
        if let Err(heights) = self.wait_until(context, who, limit, what, done).await {
            panic!("{what}: not within {limit:?} (heights {heights:?})");
        }
    }

    /// [`Cluster::wait`] that gives up after `limit` with the heights
    /// reached instead of panicking.
    pub(super) async fn wait_until(
        &self,
        context: &deterministic::Context,
        who: &[usize],
        limit: Duration,
        what: &str,
        done: impl Fn(&Seen) -> bool,
    ) -> Result<(), Vec<usize>> {
        let begin = context.current();
        while !who.iter().all(|&i| done(&self.seen[i].lock().unwrap())) {
            context.sleep(Duration::from_millis(50)).await;
            let waited = context.current().duration_since(begin).unwrap();
            if waited.as_millis() % 5000 < 50 && std::env::var_os("BITCRAPS_SIM_VERBOSE").is_some()
            {
                eprintln!("{what}: {waited:?} heights {:?}", self.heights());
            }
            if waited >= limit {
                return Err(self.heights());
            }
        }
        Ok(())
    }
}
