//! Benchmarks of the ledger state machine (`consensus::ledger`): applying a
//! block of signed bets — half crash bets (one per player, on one crash
//! table taking bets), half craps bets (pass, field, place 6, any seven,
//! round robin, on one craps table) — with signature verification measured
//! on its own:
//!
//! - `verify_signatures`: `Block::verify_signatures` alone (strict ed25519,
//!   one by one, plus the stateless checks' hashing is not included);
//! - `apply_verified`: `Ledger::apply_verified`, everything but the
//!   signature pass (header and well-formedness checks, execution, state
//!   tree update, receipts, the commit's encoding);
//! - `apply`: `Ledger::apply`, both.
//!
//! A block holds at most `MAX_TXS_PER_BLOCK` = 4,096 transactions, so the
//! sizes are 1,000 and 4,096 bets in one block, and 10,000 bets as three
//! consecutive blocks (4,096 + 4,096 + 1,808). Every iteration applies to a
//! fresh in-memory copy of the prepared ledger (10,000 funded players
//! seated at both tables), made outside the measurement.
//!
//! Run with `cargo bench -p bitcraps-consensus --bench apply`.
//!
//! `spans`: the cost of the ledger's `block` and `tx` debug spans (and the
//! debug event per transaction) on `apply_verified` of the 1,000-bet
//! block, with no subscriber, with an info-level subscriber (the node's
//! default: the spans are disabled) and with a debug-level one (the spans
//! enabled, formatted into a sink); each prints its mean time per block
//! and per transaction. Run it alone with
//! `cargo bench -p bitcraps-consensus --bench apply -- spans`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use consensus::block::{Block, BlockTemplate};
use consensus::encoding::BoundedVec;
use consensus::genesis::{Genesis, GenesisAccount, GenesisBankroll, GenesisValidator, Params};
use consensus::hash::BlockHash;
use consensus::ledger::{BeaconError, BeaconVerifier, Ledger};
use consensus::tx::{Action, SignedTransaction, TableGame, TableId, Transaction};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use game_rules::Chips;
use game_rules::craps::{BetKind, OddsLimit, PointNumber};
use wallet::Keypair;

const PLAYERS: usize = 10_000;
const CRASH: TableId = TableId(1);
const CRAPS: TableId = TableId(2);

/// No beacon entries are used here.
struct NoBeacon;

impl BeaconVerifier for NoBeacon {
    fn verify(&self, _: u64, _: u64, _: &BlockHash, _: &[u8]) -> Result<(), BeaconError> {
        Err(BeaconError::new("no beacon in this benchmark"))
    }
}

fn keypair(i: usize) -> Keypair {
    let mut secret = [7u8; 32];
    secret[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Keypair::from_secret_bytes(&secret)
}

struct Setup {
    ledger: Ledger,
    players: Vec<Keypair>,
    validator: Keypair,
}

fn genesis(players: &[Keypair], validator: &Keypair) -> Genesis {
    let accounts = players
        .iter()
        .map(|p| GenesisAccount {
            address: p.address(),
            balance: Chips(1_000_000),
        })
        .collect();
    Genesis {
        chain_name: "bench".parse().unwrap(),
        genesis_time_ms: 1_000,
        accounts: BoundedVec::new(accounts).unwrap(),
        bankroll: GenesisBankroll {
            initial: Chips(1_000_000_000_000),
            owner: players[0].address(),
        },
        validators: BoundedVec::new(vec![GenesisValidator {
            consensus_key: validator.public_key(),
            network_address: "/ip4/127.0.0.1/tcp/9000".parse().unwrap(),
            stake: Chips(10_000),
        }])
        .unwrap(),
        params: Params {
            // Betting stays open and no roll is committed during the
            // benchmark: every bet is accepted.
            crash_betting_ms: 3_600_000,
            craps_roll_interval_ms: 3_600_000,
            crash_max_bets_per_round: 10_000,
            max_block_txs: 4_096,
            max_players_per_table: 10_000,
            ..Params::default()
        },
        dealer_beacon: true,
        beacon_sharing: None,
    }
}

fn tx(ledger: &Ledger, who: &Keypair, nonce: u64, action: Action) -> SignedTransaction {
    Transaction {
        chain_id: ledger.chain_id(),
        sender: who.public_key(),
        nonce,
        fee: Chips(1),
        expiry_height: u64::MAX,
        action,
    }
    .sign(who)
}

fn block(ledger: &Ledger, proposer: &Keypair, txs: Vec<SignedTransaction>) -> Block {
    Block::assemble(
        BlockTemplate {
            chain_id: ledger.chain_id(),
            height: ledger.next_height(),
            view: ledger.next_height() + 1,
            parent: ledger.next_parent(),
            timestamp_ms: ledger.last_timestamp_ms() + 1,
            proposer: proposer.public_key(),
            parent_state_root: ledger.state_root(),
        },
        txs,
        Vec::new(),
    )
    .unwrap()
}

/// 10,000 players seated at a crash table and a craps table.
fn setup() -> Setup {
    let players: Vec<Keypair> = (0..PLAYERS).map(keypair).collect();
    let validator = keypair(1_000_000);
    let mut ledger = Ledger::in_memory(&genesis(&players, &validator)).unwrap();
    let create = |game| Action::CreateTable {
        name: "bench".parse().unwrap(),
        max_players: 10_000,
        game,
    };
    let first = vec![
        tx(
            &ledger,
            &players[0],
            0,
            create(TableGame::Crash {
                min_bet: Chips(1),
                max_bet: Chips(1_000),
            }),
        ),
        tx(
            &ledger,
            &players[0],
            1,
            create(TableGame::Craps {
                min_bet: Chips(1),
                max_bet: Chips(1_000),
                odds: OddsLimit::ThreeFourFive,
            }),
        ),
    ];
    let b = block(&ledger, &validator, first);
    ledger.apply(&b, &NoBeacon).unwrap();
    let mut joins = Vec::new();
    for (i, p) in players.iter().enumerate() {
        let base = if i == 0 { 2 } else { 0 };
        joins.push(tx(&ledger, p, base, Action::JoinTable { table: CRASH }));
        joins.push(tx(&ledger, p, base + 1, Action::JoinTable { table: CRAPS }));
    }
    for chunk in joins.chunks(4_096) {
        let b = block(&ledger, &validator, chunk.to_vec());
        ledger.apply(&b, &NoBeacon).unwrap();
    }
    Setup {
        ledger,
        players,
        validator,
    }
}

/// Bets by players `from..to`: even players bet on crash, odd on craps.
fn bets(ledger: &Ledger, players: &[Keypair], from: usize, to: usize) -> Vec<SignedTransaction> {
    let kinds = [
        BetKind::Pass,
        BetKind::Field,
        BetKind::Place(PointNumber::Six),
        BetKind::AnySeven,
    ];
    (from..to)
        .map(|i| {
            let p = &players[i];
            let nonce = ledger.account(&p.address()).nonce;
            let action = if i % 2 == 0 {
                Action::CrashBet {
                    table: CRASH,
                    amount: Chips(100),
                    auto_cash_out: Some(200),
                }
            } else {
                Action::CrapsBet {
                    table: CRAPS,
                    kind: kinds[(i / 2) % kinds.len()],
                    amount: Chips(60),
                }
            };
            tx(ledger, p, nonce, action)
        })
        .collect()
}

fn bench_apply(c: &mut Criterion) {
    let setup = setup();
    let mut group = c.benchmark_group("ledger");
    group.sample_size(10);
    for size in [1_000usize, 4_096] {
        let b = block(
            &setup.ledger,
            &setup.validator,
            bets(&setup.ledger, &setup.players, 0, size),
        );
        // Every bet is accepted.
        let mut check = setup.ledger.fork_in_memory().unwrap();
        let applied = check.apply(&b, &NoBeacon).unwrap().applied().unwrap();
        assert!(applied.receipts.iter().all(|r| r.is_applied()));
        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(format!("verify_signatures/{size}"), |bench| {
            bench.iter(|| black_box(&b).verify_signatures().unwrap())
        });
        group.bench_function(format!("apply_verified/{size}"), |bench| {
            bench.iter_batched(
                || setup.ledger.fork_in_memory().unwrap(),
                |mut ledger| black_box(ledger.apply_verified(&b, &NoBeacon).unwrap()),
                BatchSize::LargeInput,
            )
        });
        group.bench_function(format!("apply/{size}"), |bench| {
            bench.iter_batched(
                || setup.ledger.fork_in_memory().unwrap(),
                |mut ledger| black_box(ledger.apply(&b, &NoBeacon).unwrap()),
                BatchSize::LargeInput,
            )
        });
    }

    // 10,000 bets: three consecutive blocks.
    let mut ledger = setup.ledger.fork_in_memory().unwrap();
    let mut blocks = Vec::new();
    let bounds = [(0, 4_096), (4_096, 8_192), (8_192, PLAYERS)];
    for (from, to) in bounds {
        let txs = bets(&ledger, &setup.players, from, to);
        let b = block(&ledger, &setup.validator, txs);
        let applied = ledger.apply(&b, &NoBeacon).unwrap().applied().unwrap();
        assert!(applied.receipts.iter().all(|r| r.is_applied()));
        blocks.push(b);
    }
    group.throughput(Throughput::Elements(PLAYERS as u64));
    group.bench_function("verify_signatures/10000_in_3_blocks", |bench| {
        bench.iter(|| {
            for b in &blocks {
                black_box(b).verify_signatures().unwrap();
            }
        })
    });
    group.bench_function("apply_verified/10000_in_3_blocks", |bench| {
        bench.iter_batched(
            || setup.ledger.fork_in_memory().unwrap(),
            |mut ledger| {
                for b in &blocks {
                    black_box(ledger.apply_verified(b, &NoBeacon).unwrap());
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("apply/10000_in_3_blocks", |bench| {
        bench.iter_batched(
            || setup.ledger.fork_in_memory().unwrap(),
            |mut ledger| {
                for b in &blocks {
                    black_box(ledger.apply(b, &NoBeacon).unwrap());
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// The spans' cost: the same block applied with no subscriber, then with
/// an info-level and a debug-level one.
fn bench_spans(c: &mut Criterion) {
    const BETS: usize = 1_000;
    let setup = setup();
    let b = block(
        &setup.ledger,
        &setup.validator,
        bets(&setup.ledger, &setup.players, 0, BETS),
    );
    let mut group = c.benchmark_group("spans");
    // Each iteration also forks the 10,000-player ledger (unmeasured):
    // short targets keep the wall time to a few minutes.
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(BETS as u64));
    // No subscriber first: once one has been set, every callsite's interest
    // is computed against a dispatcher, which is what the other two measure.
    let modes = [
        ("no_subscriber", None),
        ("info_subscriber", Some(tracing::Level::INFO)),
        ("debug_subscriber", Some(tracing::Level::DEBUG)),
    ];
    for (name, level) in modes {
        // The node's subscriber (fmt), writing into a sink so the
        // measurement is the spans' and events' formatting, not a terminal.
        let _default = level.map(|level| {
            tracing::subscriber::set_default(
                tracing_subscriber::fmt()
                    .with_max_level(level)
                    .with_writer(std::io::sink)
                    .finish(),
            )
        });
        let (mut total, mut blocks) = (Duration::ZERO, 0u32);
        group.bench_function(name, |bench| {
            bench.iter_custom(|iterations| {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    let mut ledger = setup.ledger.fork_in_memory().unwrap();
                    let started = Instant::now();
                    black_box(ledger.apply_verified(&b, &NoBeacon).unwrap());
                    spent += started.elapsed();
                }
                total += spent;
                blocks += u32::try_from(iterations).unwrap_or(u32::MAX);
                spent
            })
        });
        let per_block = total / blocks.max(1);
        println!(
            "spans/{name}: {per_block:?} per block of {BETS} transactions, {:?} per transaction \
             (mean of {blocks} blocks)",
            per_block / BETS as u32
        );
    }
    group.finish();
}

criterion_group!(benches, bench_apply, bench_spans);
criterion_main!(benches);
