//! The validator application end to end, in commonware's deterministic
//! runtime with the simulated network (seeded, simulated time): 4
//! validators with **dealer keys** (testnet shortcut,
//! [`crate::engine::dealer_committee`]; the same threshold key serves consensus and the
//! beacon under separate namespaces), players' transactions fed to every
//! validator's queue, beacon shares carried between validators over their
//! own simulated p2p channel.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use commonware_runtime::{Clock as _, Runner as _, deterministic};
use game_rules::Chips;
use game_rules::craps::BetKind;
use wallet::Keypair;

use super::sim::{Cluster, Keys, Seen, Shares, craps_table, crash_table, player};
use super::*;
use crate::ledger::RoundRecord;
use crate::ledger::records::{BeaconProof, CrapsRollResult, CrashEnd};
use crate::receipt::LedgerEvent;
use crate::tx::{Action, TableId};

const N: usize = 4;

/// The scenario tests' committee: [`N`] validators, players 1 to 4 funded.
fn keys(seed: u64) -> Keys {
    super::sim::keys(seed, N, super::sim::params(), &[1, 2, 3, 4])
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
        let mut cluster = Cluster::new(&context, keys(seed)).await;
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
            crash_table(),
        );
        cluster.submit(
            2,
            craps_table(),
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

/// A proposal keeps its transactions within the block's byte budget:
/// dealer logs (52 KiB at most) reach it long before the count bound, and
/// the first that would pass it ends the proposal, so the block fits
/// `MAX_BLOCK_BYTES` with room for the most beacon entries.
#[test]
fn a_proposal_stops_at_the_block_byte_budget() {
    use crate::block::{MAX_BEACON_ENTRIES_PER_BLOCK, MAX_BEACON_SIGNATURE_BYTES, MAX_BLOCK_BYTES};
    use crate::tx::{DealerLogBytes, MAX_DEALER_LOG_BYTES, Transaction};
    let dealer = Keypair::from_secret_bytes(&[3; 32]);
    let log = |nonce| {
        Transaction {
            chain_id: wallet::ChainId::new([9; 32]),
            sender: dealer.public_key(),
            nonce,
            fee: Chips(1),
            expiry_height: 100,
            action: Action::DealerLog {
                round: 0,
                log: DealerLogBytes::new(vec![0xab; MAX_DEALER_LOG_BYTES]).unwrap(),
            },
        }
        .sign(&dealer)
    };
    let logs: Vec<SignedTransaction> = (0..400).map(log).collect();
    let len = logs[0].encoded_len();
    assert_eq!(len, logs[0].encode().len());
    let taken = within_block_budget(logs.clone().into_iter());
    assert_eq!(taken.len(), MAX_BLOCK_TX_BYTES / len);
    assert!(taken.len() < 400);
    assert_eq!(taken[..], logs[..taken.len()]);
    let bytes: usize = taken.iter().map(SignedTransaction::encoded_len).sum();
    let entries = MAX_BEACON_ENTRIES_PER_BLOCK * (8 + 4 + MAX_BEACON_SIGNATURE_BYTES);
    assert!(bytes + entries + 1024 <= MAX_BLOCK_BYTES);
    // Small transactions are all taken (the count bound is the caller's).
    let small: Vec<SignedTransaction> = logs[..3]
        .iter()
        .map(|t| {
            let mut t = t.clone();
            t.tx.action = Action::DealerLog {
                round: 0,
                log: DealerLogBytes::new(vec![1; 10]).unwrap(),
            };
            t
        })
        .collect();
    assert_eq!(within_block_budget(small.clone().into_iter()), small);
}

/// A transaction a validator's source hands out twice (a restarted dealer
/// submits its unfinalized log again, and a queue need not notice) goes
/// into a block once: a block holding it twice is invalid, so a leader
/// proposing both copies proposed nothing, for as long as they stayed
/// queued (fault-schedule seed 111 lost a validator's every proposal and
/// 27 of its dealer logs that way).
#[test]
fn a_transaction_queued_twice_is_proposed_once() {
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(5)
            .with_timeout(Some(Duration::from_secs(300))),
    )
    .start(|context| async move {
        let mut cluster = Cluster::new(&context, keys(5)).await;
        let all: Vec<usize> = (0..N).collect();
        for &i in &all {
            cluster.start(&context, i, Shares::Honest).await;
        }
        let hash = cluster.submit(1, crash_table());
        // Every queue now holds the transaction twice, in front.
        for queue in &cluster.queues {
            let mut source = queue.clone();
            let held = source.candidates(1);
            assert_eq!(held.len(), 1);
            queue.push(held[0].clone());
            assert_eq!(queue.len(), 2);
        }
        cluster
            .wait(
                &context,
                &all,
                Duration::from_secs(30),
                "table created",
                |s| created(s, &player(1)).is_some(),
            )
            .await;
        for (i, queue) in cluster.queues.iter().enumerate() {
            assert_eq!(queue.len(), 0, "node {i} still queues it");
            let seen = cluster.seen[i].lock().unwrap();
            let included: usize = seen
                .txs
                .values()
                .map(|txs| txs.iter().filter(|t| **t == hash).count())
                .sum();
            assert_eq!(included, 1, "node {i}");
        }
    });
}
