//! The engine follows the ledger's epochs, end to end in the deterministic
//! runtime over the simulated network: 4 genesis validators and a
//! newcomer; validator [`LEAVER`] unstakes and the newcomer registers and
//! stakes in epoch 0, the chain reshares the key to the new set at the end
//! of epoch 0, and from epoch 1 on the newcomer votes and leads while the
//! leaver's engine is stopped.

use std::collections::BTreeSet;
use std::time::Duration;

use commonware_runtime::{Clock as _, Metrics as _, Runner as _, deterministic};
use game_rules::Chips;
use game_rules::craps::BetKind;

use super::sim::{self, Cluster, Seen, Shares, player, with_newcomers};
use super::*;
use crate::engine::EpochStatus;
use crate::genesis::Params;
use crate::ledger::RoundRecord;
use crate::ledger::records::CrapsRollResult;
use crate::receipt::LedgerEvent;
use crate::tx::{Action, TableId};

/// Blocks per epoch: long enough for a craps roll in epoch 0, short enough
/// for the run to cross several boundaries.
const L: u64 = 100;
/// The genesis validator that leaves the set.
const LEAVER: usize = 1;
/// The newcomer's node (after the 4 genesis validators).
const NEWCOMER: usize = 4;

fn params() -> Params {
    Params {
        epoch_length_blocks: L,
        // The set keeps 4 members: the newcomer replaces the leaver.
        max_validators: 4,
        ..sim::params()
    }
}

fn craps_table(seen: &Seen) -> Option<TableId> {
    seen.events.iter().find_map(|(_, e)| match e {
        LedgerEvent::TableCreated { table, owner, .. } if *owner == player(1).address() => {
            Some(*table)
        }
        _ => None,
    })
}

/// How many simplex engines run in the whole simulation, from the
/// runtime's task metrics (one task per engine carries this name).
fn simplex_engines(context: &deterministic::Context) -> usize {
    context
        .encode()
        .lines()
        .filter(|line| {
            line.starts_with("runtime_tasks_running{")
                && line.contains("name=\"node_validator_epochs_simplex\"")
                && line.contains("kind=\"Task\"")
        })
        .filter_map(|line| line.trim_end().rsplit(' ').next()?.parse::<usize>().ok())
        .sum()
}

#[test]
fn a_newcomer_votes_and_a_leaver_stops_at_the_epoch_boundary() {
    let seed = 11;
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(Duration::from_secs(1800))),
    )
    .start(|context| async move {
        let keys = with_newcomers(
            sim::keys(seed, 4, params(), &[1, 2]),
            &[77],
            Chips(100_000),
        );
        let mut cluster = Cluster::new(&context, keys).await;
        cluster.verify_proofs = true;
        for i in 0..=NEWCOMER {
            cluster.start(&context, i, Shares::Honest).await;
        }
        let newcomer = cluster.wallet(NEWCOMER);
        let leaver = cluster.wallet(LEAVER);
        assert_eq!(
            cluster.epoch(NEWCOMER),
            Some(EpochStatus {
                epoch: 0,
                voting: false
            })
        );
        assert_eq!(simplex_engines(&context), 4, "the genesis validators' engines");

        // The set change, before the middle of epoch 0 (where the next set
        // is chosen and the resharing round opens).
        cluster.submit_as(
            &newcomer,
            Action::RegisterValidator {
                consensus_key: newcomer.public_key(),
                network_address: "127.0.0.1:9077".parse().unwrap(),
            },
        );
        cluster.submit_as(
            &newcomer,
            Action::Stake {
                amount: Chips(20_000),
            },
        );
        cluster.submit_as(
            &leaver,
            Action::Unstake {
                amount: sim::VALIDATOR_STAKE,
            },
        );
        // A craps table whose rolls need the beacon on both sides of the
        // boundary.
        cluster.submit(
            1,
            sim::craps_table(),
        );
        let all = [0, 2, 3, NEWCOMER];
        cluster
            .wait(&context, &all, Duration::from_secs(60), "table", |s| {
                craps_table(s).is_some()
            })
            .await;
        let table = craps_table(&cluster.seen[0].lock().unwrap()).unwrap();
        cluster.submit(2, Action::JoinTable { table });
        cluster.submit(
            2,
            Action::CrapsBet {
                table,
                kind: BetKind::Pass,
                amount: Chips(100),
            },
        );
        // A first roll, settled by the beacon of epoch 0's sharing.
        cluster
            .wait(&context, &all, Duration::from_secs(60), "a roll", |s| {
                s.rounds
                    .iter()
                    .any(|(_, r)| matches!(r, RoundRecord::CrapsRoll(_)))
            })
            .await;
        // A field bet after the boundary is settled by the next roll.
        let field = Action::CrapsBet {
            table,
            kind: BetKind::Field,
            amount: Chips(10),
        };

        // Into epoch 1: the newcomer votes there, the leaver does not.
        cluster
            .wait(&context, &all, Duration::from_secs(300), "epoch 1", |s| {
                s.chain.len() as u64 > L + 5
            })
            .await;
        cluster.submit(2, field);
        assert_eq!(cluster.epoch(NEWCOMER).map(|s| s.voting), Some(true));
        assert_eq!(cluster.epoch(LEAVER).map(|s| s.voting), Some(false));
        // Exactly the new set's engines run: the leaver's epoch-0 engine
        // stopped (5 otherwise), the newcomer's started (3 otherwise).
        assert_eq!(simplex_engines(&context), 4, "engines after the boundary");
        for i in [0, 2, 3, NEWCOMER] {
            assert_eq!(
                cluster.epoch(i),
                Some(EpochStatus {
                    epoch: 1,
                    voting: true
                }),
                "node {i}"
            );
        }

        // Without validator 3, a quorum of the new set (3 of 4) needs the
        // newcomer's votes: finalization goes on only if it signs them.
        cluster.crash(3);
        // An aborted task leaves the runtime's count at its next poll.
        context.sleep(Duration::from_millis(10)).await;
        assert_eq!(simplex_engines(&context), 3);
        let live = [0, 2, NEWCOMER];
        let before = cluster.heights()[0] as u64;
        cluster
            .wait(&context, &live, Duration::from_secs(900), "epoch 3", |s| {
                s.chain.len() as u64 > (3 * L + 5).max(before + 2 * L)
            })
            .await;

        // Every node agrees on every height it finalized (the leaver and
        // the crashed validator on their prefixes).
        let first = cluster.seen[0].lock().unwrap();
        for i in 1..=NEWCOMER {
            let seen = cluster.seen[i].lock().unwrap();
            assert!(seen.broken.is_empty(), "node {i}: {:?}", seen.broken);
            for (height, entry) in &seen.chain {
                if let Some(mine) = first.chain.get(height) {
                    assert_eq!(mine, entry, "node {i} differs at height {height}");
                }
            }
        }
        assert!(first.broken.is_empty(), "node 0: {:?}", first.broken);
        assert!(
            cluster.seen[LEAVER].lock().unwrap().chain.len() as u64 >= L,
            "the leaver finalized epoch 0"
        );

        // The newcomer leads from epoch 1 on; the leaver only in epoch 0.
        let newcomer_key = newcomer.public_key();
        let leaver_key = leaver.public_key();
        assert!(
            first
                .proposers
                .iter()
                .any(|(h, p)| *h >= L && *p == newcomer_key),
            "the newcomer proposed no finalized block"
        );
        assert!(
            !first
                .proposers
                .iter()
                .any(|(h, p)| *h < L && *p == newcomer_key)
        );
        assert!(
            !first
                .proposers
                .iter()
                .any(|(h, p)| *h >= L && *p == leaver_key),
            "the leaver proposed after leaving"
        );

        // Every finality proof verified with the group key alone (the
        // recorder checks each one), and its engine epoch is the ledger's
        // epoch of the block: the engines' epochs are the ledger's.
        let certified: BTreeSet<u64> = first.certified.values().copied().collect();
        assert!(
            certified.is_superset(&BTreeSet::from([0, 1, 2, 3])),
            "finalizations of epochs {certified:?}"
        );
        for (height, epoch) in &first.certified {
            assert_eq!(*epoch, height / L, "height {height}");
        }

        // The beacon settles rolls after the boundary with the reshared
        // sharing, σ under the same group key. (In this run the table's
        // first roll commits only after height L, so σ of epoch 0's sharing
        // is covered by `super::tests`, not here.)
        let verifier = ThresholdBeaconVerifier {
            chain_id: cluster.chain_id(),
            group_key: *cluster.keys.sharing.group_key(),
        };
        let mut epochs = BTreeSet::new();
        let mut heights = Vec::new();
        for (_, record) in &first.rounds {
            if let RoundRecord::CrapsRoll(roll) = record {
                let CrapsRollResult::Rolled { beacon, .. } = &roll.result else {
                    panic!("void roll {}", roll.roll_number);
                };
                beacon.verify(&verifier).unwrap();
                epochs.insert(beacon.epoch);
                heights.push(beacon.height);
            }
        }
        assert!(
            epochs.iter().any(|e| *e >= 1),
            "rolls after it: {epochs:?} (heights {heights:?})"
        );
        eprintln!(
            "epochs seed={seed}: {} heights, certificates of epochs {certified:?}, rolls of epochs {epochs:?}",
            first.chain.len()
        );
    });
}

/// The set grows past 8 validators, the most a resharing round could have
/// while a dealer log had to fit 2 KiB: 8 genesis validators and a
/// newcomer who registers and stakes, so the next set has 9. The 8 reshare
/// to the 9 over the validator network and the chain (dealer logs of 9
/// players, ~1.8 KB, the last size the old bound took being 8), and from
/// epoch 1 on the newcomer votes. With two of the old set crashed, a
/// quorum of 9 (7) needs the newcomer's votes, so finalization going on
/// proves them; every finality proof verifies under the genesis key.
#[test]
fn the_set_grows_past_eight_validators() {
    let seed = 12;
    const GENESIS: usize = 8;
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(Duration::from_secs(1800))),
    )
    .start(|context| async move {
        let params = Params {
            max_validators: 9,
            ..sim::params()
        };
        let length = params.epoch_length_blocks;
        let keys = with_newcomers(
            sim::keys(seed, GENESIS, params, &[1]),
            &[78],
            Chips(100_000),
        );
        let mut cluster = Cluster::new(&context, keys).await;
        cluster.verify_proofs = true;
        for i in 0..=GENESIS {
            cluster.start(&context, i, Shares::Honest).await;
        }
        let newcomer = cluster.wallet(GENESIS);
        cluster.submit_as(
            &newcomer,
            Action::RegisterValidator {
                consensus_key: newcomer.public_key(),
                network_address: "127.0.0.1:9078".parse().unwrap(),
            },
        );
        cluster.submit_as(
            &newcomer,
            Action::Stake {
                amount: Chips(20_000),
            },
        );
        let all: Vec<usize> = (0..=GENESIS).collect();
        cluster
            .wait(&context, &all, Duration::from_secs(600), "epoch 1", |s| {
                s.chain.len() as u64 > length + 5
            })
            .await;
        for i in 0..=GENESIS {
            assert_eq!(
                cluster.epoch(i),
                Some(EpochStatus {
                    epoch: 1,
                    voting: true
                }),
                "node {i}"
            );
        }
        assert_eq!(simplex_engines(&context), 9, "the grown set's engines");

        cluster.crash(0);
        cluster.crash(1);
        let live: Vec<usize> = (2..=GENESIS).collect();
        let before = cluster.heights()[2] as u64;
        cluster
            .wait(&context, &live, Duration::from_secs(600), "20 more", |s| {
                s.chain.len() as u64 > before + 20
            })
            .await;
        let first = cluster.seen[2].lock().unwrap();
        assert!(first.broken.is_empty(), "{:?}", first.broken);
        for i in 3..=GENESIS {
            let seen = cluster.seen[i].lock().unwrap();
            assert!(seen.broken.is_empty(), "node {i}: {:?}", seen.broken);
            for (height, entry) in &seen.chain {
                if let Some(mine) = first.chain.get(height) {
                    assert_eq!(mine, entry, "node {i} differs at height {height}");
                }
            }
        }
        assert!(
            first
                .proposers
                .iter()
                .any(|(h, p)| *h >= length && *p == newcomer.public_key()),
            "the newcomer proposed no finalized block"
        );
        let certified: BTreeSet<u64> = first.certified.values().copied().collect();
        assert!(
            certified.contains(&1),
            "finalizations of epochs {certified:?}"
        );
        eprintln!(
            "grown set seed={seed}: {} heights, certificates of epochs {certified:?}",
            first.chain.len()
        );
    });
}

/// Whether node `slot`'s simplex journal of `epoch` exists in the
/// runtime's storage (the partition names of
/// `engine::validator::journal_partition`).
async fn has_journal(context: &deterministic::Context, slot: usize, epoch: u64) -> bool {
    use commonware_runtime::Storage as _;

    let partition = match epoch {
        0 => format!("node-{slot}-simplex"),
        _ => format!("node-{slot}-simplex-{epoch}"),
    };
    match context.scan(&partition).await {
        Ok(_) => true,
        Err(commonware_runtime::Error::PartitionMissing(_)) => false,
        Err(error) => panic!("scanning {partition}: {error}"),
    }
}

/// Past epochs' simplex journals are removed: after two boundaries only
/// the current epoch's journal is left on every validator; a validator
/// restarted from its storage (with a leftover journal of the epoch
/// before, as a crash between the boundary and the removal leaves)
/// removes the leftover, votes again in its epoch, and crosses the next
/// boundary the same way.
#[test]
fn past_epochs_journals_are_removed() {
    const SHORT: u64 = 20;
    let seed = 12;
    let dir = tempfile::tempdir().unwrap();
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(Duration::from_secs(1800))),
    )
    .start(|context| async move {
        let params = Params {
            epoch_length_blocks: SHORT,
            ..sim::params()
        };
        let mut cluster = Cluster::new(&context, sim::keys(seed, 4, params, &[1])).await;
        cluster.use_stores(dir.path());
        for i in 0..4 {
            cluster.start(&context, i, Shares::Honest).await;
        }
        let all = [0, 1, 2, 3];
        cluster
            .wait(&context, &all, Duration::from_secs(300), "epoch 2", |s| {
                s.chain.len() as u64 > 2 * SHORT + 3
            })
            .await;
        // The removal follows the boundary at once; give it a moment.
        context.sleep(Duration::from_millis(100)).await;
        for i in all {
            let epoch = cluster.epoch(i).unwrap();
            assert!(epoch.voting && epoch.epoch >= 2, "node {i}: {epoch:?}");
            for past in 0..epoch.epoch {
                assert!(
                    !has_journal(&context, i, past).await,
                    "node {i} kept epoch {past}'s journal"
                );
            }
            assert!(has_journal(&context, i, epoch.epoch).await, "node {i}");
        }

        // Node 0 crashes; a leftover journal of the epoch before its
        // current one (as a crash right after the boundary leaves) is
        // removed when it restarts.
        let before = cluster.epoch(0).unwrap().epoch;
        cluster.crash(0);
        {
            use commonware_runtime::{Blob as _, Storage as _};
            let (blob, _) = context
                .open(&format!("node-0-simplex-{}", before - 1), b"leftover")
                .await
                .unwrap();
            blob.sync().await.unwrap();
        }
        assert!(has_journal(&context, 0, before - 1).await);
        context.sleep(Duration::from_millis(500)).await;
        cluster.start(&context, 0, Shares::Honest).await;
        let target = (before + 2) * SHORT + 3;
        cluster
            .wait(
                &context,
                &all,
                Duration::from_secs(300),
                "two more epochs",
                |s| s.chain.len() as u64 > target,
            )
            .await;
        context.sleep(Duration::from_millis(100)).await;
        let epoch = cluster.epoch(0).unwrap();
        assert!(epoch.voting && epoch.epoch >= before + 2, "{epoch:?}");
        for past in 0..epoch.epoch {
            assert!(
                !has_journal(&context, 0, past).await,
                "the restarted node kept epoch {past}'s journal"
            );
        }
        assert!(has_journal(&context, 0, epoch.epoch).await);
        // Every node agrees on every height.
        let first = cluster.seen[0].lock().unwrap();
        for i in 1..4 {
            let seen = cluster.seen[i].lock().unwrap();
            assert!(seen.broken.is_empty(), "node {i}: {:?}", seen.broken);
            for (height, entry) in &seen.chain {
                if let Some(mine) = first.chain.get(height) {
                    assert_eq!(mine, entry, "node {i} differs at height {height}");
                }
            }
        }
    });
}
