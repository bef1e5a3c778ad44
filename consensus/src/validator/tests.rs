//! The validator application end to end, in commonware's deterministic
//! runtime with the simulated network (seeded, simulated time): 4
//! validators with **dealer keys** (testnet shortcut,
//! [`dealer_committee`]; the same threshold key serves consensus and the
//! beacon under separate namespaces), players' transactions fed to every
//! validator's queue, beacon shares carried between validators over their
//! own simulated p2p channel.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::num::{NonZeroU64, NonZeroUsize};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use commonware_cryptography::Signer as _;
use commonware_cryptography::ed25519;
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_p2p::{Receiver as _, Recipients, Sender as _};
use commonware_runtime::{Clock as _, Runner as _, Spawner as _, Supervisor as _, deterministic};
use commonware_utils::probability;
use game_rules::Chips;
use game_rules::craps::BetKind;
use wallet::{ChainId, Keypair, PublicKey};

use super::*;
use crate::beacon::{PublicSharing, SecretShare};
use crate::encoding::BoundedVec;
use crate::engine::{
    Committee, Config, Storage, Timing, channel, dealer_committee, max_message_size, quota, start,
};
use crate::genesis::{Genesis, GenesisAccount, GenesisBankroll, Params};
use crate::hash::Hash;
use crate::ledger::RoundRecord;
use crate::ledger::records::{BeaconProof, CrapsRollResult, CrashEnd};
use crate::receipt::LedgerEvent;
use crate::tx::{Action, TableGame, TableId, Transaction};

/// The p2p channel of beacon shares (after the engine's five).
const SHARES: u64 = 5;
const MAX_BLOCK: usize = 64 * 1024;
const N: usize = 4;

const FAST: Link = Link {
    latency: Duration::from_millis(20),
    jitter: Duration::from_millis(5),
    success_rate: probability!(1.0),
};

fn player(seed: u8) -> Keypair {
    Keypair::from_secret_bytes(&[seed; 32])
}

fn params() -> Params {
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

/// Everything the test derives from the committee.
struct Keys {
    committee: Committee,
    sharing: PublicSharing,
    wallets: Vec<Keypair>,
    genesis: Genesis,
}

impl Keys {
    /// Validator `i`'s beacon share.
    fn share(&self, i: usize) -> SecretShare {
        self.committee.validators[i].beacon_share()
    }
}

fn keys(seed: u64) -> Keys {
    let committee = dealer_committee(N as u32, &[seed as u8; 32]).unwrap();
    let sharing = committee.beacon_sharing().unwrap();
    for (i, v) in committee.validators.iter().enumerate() {
        let share = v.beacon_share();
        assert_eq!(share.index() as usize, i, "shares follow committee order");
        assert!(sharing.holds(&share));
    }
    let wallets: Vec<Keypair> = committee.validators.iter().map(|v| v.keypair()).collect();
    let addresses: Vec<_> = (0..N)
        .map(|i| format!("127.0.0.1:{}", 9000 + i).parse().unwrap())
        .collect();
    let validators = committee
        .genesis_validators(Chips(10_000), &addresses)
        .unwrap();
    let accounts = (1..=4u8)
        .map(|s| GenesisAccount {
            address: player(s).address(),
            balance: Chips(1_000_000),
        })
        .chain([GenesisAccount {
            address: player(100).address(),
            balance: Chips(1_000_000),
        }])
        .collect();
    let genesis = Genesis {
        chain_name: "validator-app-test".parse().unwrap(),
        genesis_time_ms: 0,
        accounts: BoundedVec::new(accounts).unwrap(),
        bankroll: GenesisBankroll {
            initial: Chips(10_000_000),
            owner: player(100).address(),
        },
        validators: BoundedVec::new(validators).unwrap(),
        params: params(),
        dealer_beacon: true,
        beacon_sharing: Some(sharing.clone()),
    };
    genesis.validate().unwrap();
    Keys {
        committee,
        sharing,
        wallets,
        genesis,
    }
}

/// What one validator's observer saw, per finalized height.
#[derive(Default)]
struct Seen {
    /// Height → (block hash, state root after it).
    chain: BTreeMap<u64, (BlockHash, Hash)>,
    /// (height, event) for every event of every block.
    events: Vec<(u64, LedgerEvent)>,
    /// Round records, with the height that finished them.
    rounds: Vec<(u64, RoundRecord)>,
    /// Invariant violations (must stay empty).
    broken: Vec<String>,
    /// Height → the simulated time this validator finalized it.
    finalized_at: BTreeMap<u64, SystemTime>,
    /// (simulated time, height) of every beacon share received from a peer.
    shares_received: Vec<(SystemTime, u64)>,
    /// Evidence of bad beacon shares this validator reported.
    evidence: Vec<Misbehaviour>,
}

/// How a validator behaves with its beacon shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shares {
    /// Sends each share once the height is final.
    Honest,
    /// Never sends a share.
    Withhold,
    /// Sends a share whose partial signature is another height's (in a
    /// valid envelope): evidence against it.
    Wrong,
}

type Shared = Arc<Mutex<Seen>>;

/// The test's [`FinalizedSink`]: records what each finalized block did and
/// checks the ledger's invariants after it.
struct Recorder {
    seen: Shared,
    ledger: SharedLedger,
    clock: deterministic::Context,
}

impl FinalizedSink for Recorder {
    fn misbehaviour(&mut self, evidence: Vec<Misbehaviour>) {
        self.seen.lock().unwrap().evidence.extend(evidence);
    }

    fn finalized(&mut self, _: &Block, _: Option<&[u8]>, applied: Option<&AppliedBlock>) {
        let Some(applied) = applied else {
            return;
        };
        let mut seen = self.seen.lock().unwrap();
        seen.chain
            .insert(applied.height, (applied.block_hash, applied.state_root));
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
/// Clones share the queue, so the test keeps one to push into.
#[derive(Clone, Debug, Default)]
struct TxQueue {
    queue: Arc<Mutex<Vec<SignedTransaction>>>,
}

impl TxQueue {
    fn push(&self, tx: SignedTransaction) {
        self.queue.lock().unwrap().push(tx);
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
}

struct Cluster {
    keys: Keys,
    oracle: Oracle<ed25519::PublicKey, deterministic::Context>,
    queues: Vec<TxQueue>,
    seen: Vec<Shared>,
    nonces: BTreeMap<u8, u64>,
}

impl Cluster {
    async fn new(context: &deterministic::Context, seed: u64) -> Cluster {
        let keys = keys(seed);
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: max_message_size(N as u32, MAX_BLOCK),
                max_peers_per_set: NonZeroUsize::new(N).unwrap(),
                disconnect_on_block: true,
                tracked_peer_sets: NonZeroUsize::new(1).unwrap(),
            },
            keys.committee.participants.iter().cloned(),
        )
        .await;
        network.start();
        let cluster = Cluster {
            keys,
            oracle,
            queues: (0..N).map(|_| TxQueue::default()).collect(),
            seen: (0..N).map(|_| Shared::default()).collect(),
            nonces: BTreeMap::new(),
        };
        for a in 0..N {
            for b in 0..N {
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

    fn key(&self, i: usize) -> ed25519::PublicKey {
        self.keys.committee.validators[i].identity.public_key()
    }

    fn chain_id(&self) -> ChainId {
        self.keys.genesis.chain_id()
    }

    /// Starts validator `i`, treating its beacon shares as `shares` says.
    async fn start(&self, context: &deterministic::Context, i: usize, shares: Shares) {
        let keys = &self.keys.committee.validators[i];
        let timing = Timing::default();
        let control = self.oracle.control(keys.identity.public_key());
        let q = quota(&timing);
        let register = async |c| control.register(c, q).await.unwrap();
        let channels = crate::engine::Channels {
            votes: register(channel::VOTES).await,
            certificates: register(channel::CERTIFICATES).await,
            resolver: register(channel::RESOLVER).await,
            backfill: register(channel::BACKFILL).await,
            broadcast: register(channel::BROADCAST).await,
        };
        let (mut share_sender, mut share_receiver) = register(SHARES).await;

        let signers: Vec<PublicKey> = self.keys.wallets.iter().map(Keypair::public_key).collect();
        let aggregator =
            BeaconAggregator::new(self.chain_id(), 0, self.keys.sharing.clone(), signers).unwrap();
        let pool = BeaconPool::new(aggregator);
        let inbox = pool.clone();
        let seen = self.seen[i].clone();
        let clock = context.child("share_clock");
        context
            .child("shares")
            .with_attribute("index", i)
            .spawn(move |_| async move {
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
        let keypair = keys.keypair();
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
            signer: BeaconSigner::new(0, self.keys.share(i), &self.keys.sharing).unwrap(),
            keypair: keys.keypair(),
            verifier: ThresholdBeaconVerifier {
                chain_id: self.chain_id(),
                group_key: *self.keys.sharing.group_key(),
            },
        };
        let ledger: SharedLedger =
            Arc::new(RwLock::new(Ledger::in_memory(&self.keys.genesis).unwrap()));
        let app = ValidatorApp::new(ledger.clone(), beacon, pool, self.queues[i].clone(), gossip)
            .unwrap()
            .with_sink(Recorder {
                seen: self.seen[i].clone(),
                ledger,
                clock: context.child("recorder"),
            });
        let mut config = Config::new(
            self.chain_id(),
            self.keys.genesis.genesis_time_ms,
            keys.identity.clone(),
            self.keys.committee.participants.clone(),
            self.keys.committee.sharing.clone(),
            keys.share.clone(),
            app,
            format!("validator-{i}"),
        );
        config.max_block_bytes = MAX_BLOCK;
        config.storage = Storage {
            page_cache_pages: NonZeroUsize::new(64).unwrap(),
            buffer_bytes: NonZeroUsize::new(8 * 1024).unwrap(),
            items_per_section: NonZeroU64::new(16).unwrap(),
            ..Storage::default()
        };
        config.timing = timing;
        start(
            context.child("validator").with_attribute("index", i),
            config,
            channels,
            control.clone(),
            self.oracle.manager(),
        )
        .unwrap();
    }

    /// Signs `action` from player `seed` with its next nonce and hands it
    /// to every validator's queue.
    fn submit(&mut self, seed: u8, action: Action) {
        let nonce = self.nonces.entry(seed).or_insert(0);
        let who = player(seed);
        let tx = Transaction {
            chain_id: self.keys.genesis.chain_id(),
            sender: who.public_key(),
            nonce: *nonce,
            fee: Chips(1),
            expiry_height: u64::MAX,
            action,
        }
        .sign(&who);
        *nonce += 1;
        for queue in &self.queues {
            queue.push(tx.clone());
        }
    }

    /// Waits in simulated time until `done` holds for every validator in
    /// `who`; panics after `limit` of simulated time.
    async fn wait(
        &self,
        context: &deterministic::Context,
        who: &[usize],
        limit: Duration,
        what: &str,
        done: impl Fn(&Seen) -> bool,
    ) {
        let begin = context.current();
        while !who.iter().all(|&i| done(&self.seen[i].lock().unwrap())) {
            context.sleep(Duration::from_millis(50)).await;
            let waited = context.current().duration_since(begin).unwrap();
            let heights: Vec<usize> = self
                .seen
                .iter()
                .map(|s| s.lock().unwrap().chain.len())
                .collect();
            if waited.as_millis() % 5000 < 50 {
                eprintln!("{what}: {waited:?} heights {heights:?}");
            }
            assert!(
                waited < limit,
                "{what}: not within {limit:?} (heights {heights:?})"
            );
        }
    }
}

fn created(seen: &Seen, owner: &Keypair) -> Option<TableId> {
    seen.events.iter().find_map(|(_, e)| match e {
        LedgerEvent::TableCreated {
            table, owner: o, ..
        } if *o == owner.address() => Some(*table),
        _ => None,
    })
}

fn settled(seen: &Seen, table: TableId, who: &Keypair) -> bool {
    seen.events.iter().any(|(_, e)| {
        matches!(e, LedgerEvent::BetSettled { table: t, player, .. }
            if *t == table && *player == who.address())
    })
}

/// What a run produced, as seen by its first running validator.
struct Run {
    /// Every beacon proof recorded in a finished round.
    proofs: Vec<BeaconProof>,
    /// (table, roll number, dice) of every roll.
    dice: Vec<(TableId, u64, game_rules::Roll)>,
    /// Evidence of bad shares each running validator collected.
    evidence: BTreeMap<usize, Vec<Misbehaviour>>,
}

/// Plays the casino scenario on 4 validators of which `down` never start
/// and `byzantine` (if any) treats its beacon shares as it says.
fn play(seed: u64, down: &[usize], byzantine: Option<(usize, Shares)>) -> Run {
    let wall = Instant::now();
    let down = down.to_vec();
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(Duration::from_secs(900))),
    )
    .start(|context| async move {
        let mut cluster = Cluster::new(&context, seed).await;
        let up: Vec<usize> = (0..N).filter(|i| !down.contains(i)).collect();
        for &i in &up {
            let shares = match byzantine {
                Some((b, shares)) if b == i => shares,
                _ => Shares::Honest,
            };
            cluster.start(&context, i, shares).await;
        }
        let begin = context.current();
        let (crash_owner, craps_owner, crasher, shooter) = (player(1), player(2), player(3), player(4));

        // Two tables.
        cluster.submit(
            1,
            Action::CreateTable {
                name: "crash".parse().unwrap(),
                max_players: 8,
                game: TableGame::Crash {
                    min_bet: Chips(1),
                    max_bet: Chips(100_000),
                },
            },
        );
        cluster.submit(
            2,
            Action::CreateTable {
                name: "craps".parse().unwrap(),
                max_players: 8,
                game: TableGame::Craps {
                    min_bet: Chips(1),
                    max_bet: Chips(100_000),
                    odds: game_rules::craps::OddsLimit::ThreeFourFive,
                },
            },
        );
        cluster
            .wait(&context, &up, Duration::from_secs(60), "tables created", |s| {
                created(s, &crash_owner).is_some() && created(s, &craps_owner).is_some()
            })
            .await;
        let (crash_table, craps_table) = {
            let seen = cluster.seen[up[0]].lock().unwrap();
            (
                created(&seen, &crash_owner).unwrap(),
                created(&seen, &craps_owner).unwrap(),
            )
        };

        // Join, then a crash bet with auto-cash-out at 1.10× and a pass
        // line bet.
        cluster.submit(3, Action::JoinTable { table: crash_table });
        cluster.submit(
            3,
            Action::CrashBet {
                table: crash_table,
                amount: Chips(1_000),
                auto_cash_out: Some(110),
            },
        );
        cluster.submit(4, Action::JoinTable { table: craps_table });
        cluster.submit(
            4,
            Action::CrapsBet {
                table: craps_table,
                kind: BetKind::Pass,
                amount: Chips(100),
            },
        );
        cluster
            .wait(&context, &up, Duration::from_secs(300), "bets settled", |s| {
                settled(s, crash_table, &crasher)
                    && settled(s, craps_table, &shooter)
                    && s.rounds
                        .iter()
                        .any(|(_, r)| matches!(r, RoundRecord::CrashRound(_)))
            })
            .await;

        // Let every running validator reach the same height, then compare.
        let target = up
            .iter()
            .map(|&i| cluster.seen[i].lock().unwrap().chain.len())
            .max()
            .unwrap();
        cluster
            .wait(&context, &up, Duration::from_secs(60), "heights", |s| {
                s.chain.len() >= target
            })
            .await;
        let simulated = context.current().duration_since(begin).unwrap();
        let first = cluster.seen[up[0]].lock().unwrap();
        assert!(first.broken.is_empty(), "validator {}: {:?}", up[0], first.broken);
        for &i in &up[1..] {
            let seen = cluster.seen[i].lock().unwrap();
            assert!(seen.broken.is_empty(), "validator {i}: {:?}", seen.broken);
            for (height, entry) in first.chain.range(..target as u64) {
                assert_eq!(
                    seen.chain.get(height),
                    Some(entry),
                    "validator {i} differs at height {height} (block hash, state root)"
                );
            }
        }
        let heights: Vec<u64> = (0..target as u64).collect();
        assert_eq!(first.chain.keys().take(target).copied().collect::<Vec<_>>(), heights);

        // Nothing was voided; every roll and interval was settled by a
        // beacon entry in a later block, and σ verifies with the group key.
        let verifier = ThresholdBeaconVerifier {
            chain_id: cluster.chain_id(),
            group_key: *cluster.keys.sharing.group_key(),
        };
        assert!(
            !first
                .events
                .iter()
                .any(|(_, e)| matches!(e, LedgerEvent::RoundVoid { .. })),
            "a round was voided"
        );
        let mut proofs = Vec::new();
        let mut dice = Vec::new();
        let mut crash_rounds = 0;
        for (_, record) in &first.rounds {
            match record {
                RoundRecord::CrapsRoll(roll) => {
                    let CrapsRollResult::Rolled { beacon, dice: d, .. } = &roll.result else {
                        panic!("void roll {}", roll.roll_number);
                    };
                    assert_eq!(roll.recompute_dice(), Some(*d), "dice recomputed from σ");
                    assert_eq!(beacon.height, roll.committed_height);
                    proofs.push(beacon.clone());
                    dice.push((roll.table, roll.roll_number, *d));
                }
                RoundRecord::CrashRound(round) => {
                    assert!(!matches!(round.end, CrashEnd::Void { .. }), "void crash round");
                    crash_rounds += 1;
                    proofs.extend(round.intervals.iter().map(|i| i.beacon.clone()));
                }
            }
        }
        assert!(!dice.is_empty(), "the dice rolled");
        assert!(crash_rounds >= 1, "a crash round finished");
        for proof in &proofs {
            assert!(proof.included_at > proof.height, "σ comes in a later block");
            assert_eq!(first.chain.get(&proof.height).map(|c| c.0), Some(proof.block_hash));
            proof.verify(&verifier).unwrap();
        }
        drop(first);
        eprintln!(
            "validator app seed={seed} down={down:?} byzantine={byzantine:?}: wall {:?}, simulated {simulated:?}, {target} heights, {} beacon entries, {} rolls, {crash_rounds} crash rounds",
            wall.elapsed(),
            proofs.len(),
            dice.len(),
        );
        // No share of a height reached anyone before some validator had
        // finalized it: f colluders hold only their own f < t shares of a
        // height until it is final, so they cannot compute its σ (and the
        // dice or crash decision) while it can still change.
        let finalized_at: Vec<BTreeMap<u64, SystemTime>> = up
            .iter()
            .map(|&i| cluster.seen[i].lock().unwrap().finalized_at.clone())
            .collect();
        let mut received = 0;
        for &i in &up {
            for (at, height) in &cluster.seen[i].lock().unwrap().shares_received {
                let first_final = finalized_at
                    .iter()
                    .filter_map(|times| times.get(height))
                    .min()
                    .expect("a share for a height nobody finalized");
                assert!(
                    first_final <= at,
                    "validator {i} got a share of height {height} before it was final"
                );
                received += 1;
            }
        }
        assert!(received > 0, "shares flowed");
        let evidence = up
            .iter()
            .map(|&i| (i, cluster.seen[i].lock().unwrap().evidence.clone()))
            .collect();
        Run {
            proofs,
            dice,
            evidence,
        }
    })
}

/// σ recovered offline from the shares of `subset` for `proof`'s message.
fn sigma_from(keys: &Keys, subset: &[usize], proof: &BeaconProof) -> [u8; 48] {
    let chain_id = keys.genesis.chain_id();
    let signers = keys.wallets.iter().map(Keypair::public_key).collect();
    let mut aggregator =
        BeaconAggregator::new(chain_id, proof.epoch, keys.sharing.clone(), signers).unwrap();
    aggregator.prune_below(proof.height);
    let message = BeaconMessage {
        chain_id,
        epoch: proof.epoch,
        height: proof.height,
        block: proof.block_hash,
    };
    let mut sigma = None;
    for &i in subset {
        let signer = BeaconSigner::new(proof.epoch, keys.share(i), &keys.sharing).unwrap();
        let share = signer.sign_sealed(&message, &keys.wallets[i]).unwrap();
        if let Some(recovered) = aggregator.add(share).unwrap() {
            sigma = Some(recovered.signature);
        }
    }
    sigma.expect("t shares recover σ")
}

/// Every 3-of-4 subset of shares gives the recorded σ (so the same dice).
fn assert_any_quorum_gives_the_same_sigma(seed: u64, run: &Run) {
    let keys = keys(seed);
    let subsets = [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]];
    for proof in &run.proofs {
        for subset in &subsets {
            assert_eq!(
                sigma_from(&keys, subset, proof).as_slice(),
                proof.signature.as_bytes(),
                "σ at height {} from shares {subset:?}",
                proof.height
            );
        }
    }
}

#[test]
fn four_validators_settle_crash_and_craps_with_the_beacon() {
    let seed = 1;
    let run = play(seed, &[], None);
    assert_any_quorum_gives_the_same_sigma(seed, &run);
    let epochs: BTreeSet<u64> = run.proofs.iter().map(|p| p.epoch).collect();
    assert!(epochs.len() > 1, "σ of several epochs: {epochs:?}");
}

#[test]
fn one_of_four_crashed_rounds_still_settle() {
    let seed = 2;
    let run = play(seed, &[3], None);
    assert_any_quorum_gives_the_same_sigma(seed, &run);
}

#[test]
fn a_withheld_share_changes_no_outcome() {
    let seed = 3;
    let run = play(seed, &[], Some((0, Shares::Withhold)));
    // Without validator 0's share, σ (so the dice and the crash decisions)
    // is exactly what any quorum including it gives.
    assert_any_quorum_gives_the_same_sigma(seed, &run);
    let keys = keys(seed);
    for proof in &run.proofs {
        assert_eq!(
            sigma_from(&keys, &[1, 2, 3], proof),
            sigma_from(&keys, &[0, 1, 2], proof)
        );
    }
    assert!(!run.dice.is_empty());
}

#[test]
fn a_wrong_share_is_evidence_and_changes_no_outcome() {
    let seed = 4;
    let run = play(seed, &[], Some((3, Shares::Wrong)));
    // σ is what any quorum of honest shares gives. Honest validators
    // check a share while they still need it for σ: those that did hold
    // signed evidence, against validator 3 only.
    assert_any_quorum_gives_the_same_sigma(seed, &run);
    let keys = keys(seed);
    let caught: usize = run.evidence.values().map(Vec::len).sum();
    assert!(caught > 0, "no validator caught the wrong shares");
    for evidence in run.evidence.values() {
        for misbehaviour in evidence {
            assert_eq!(misbehaviour.index, 3);
            assert!(misbehaviour.evidence.verify(
                &keys.genesis.chain_id(),
                &keys.sharing,
                &keys.wallets[3].public_key()
            ));
        }
    }
}
