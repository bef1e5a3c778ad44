//! Power cuts of the real ledger: a child process applies real blocks
//! (signed bets, transfers, faucet mints, table joins on a crash and a craps
//! table, rounds voided for want of randomness) to a [`Ledger`] on RocksDB,
//! the parent SIGKILLs it at a random moment, reopens the store and checks
//! that the ledger is exactly at a block boundary:
//!
//! - [`Ledger::open`] accepts the store (it recomputes the state tree's root
//!   and compares it with the head's);
//! - its height `h`, head hash and state root are those an in-memory
//!   ledger gets by replaying the same blocks `0..=h` from the genesis, and
//!   the supply invariants hold;
//! - the indexes agree with `h`: block `h` is stored with the replay's
//!   bytes and block `h + 1` is not; the receipts of `h` are the replay's;
//!   every transaction of `h` is indexed at its position and none of
//!   `h + 1`'s is.
//!
//! The next child carries on from the reopened store, so a store that was
//! not at a boundary would also be caught by the child failing to build or
//! apply the next block. The child is this test binary itself, re-executed
//! with [`CHILD_ENV`] set and filtered to `power_cut_child`, which does
//! nothing in a normal run. `BITCRAPS_POWER_CUT_LOOPS` sets the number of
//! kills (default [`DEFAULT_LOOPS`]); `BITCRAPS_POWER_CUT_SEED` replays a
//! run's kill timings (printed on failure).
//!
//! `consensus/tests/storage_crash.rs` does the same one layer down, with
//! synthetic commits on the bare store.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use consensus::block::{Block, BlockTemplate};
use consensus::encoding::BoundedVec;
use consensus::genesis::{
    FaucetParams, Genesis, GenesisAccount, GenesisBankroll, GenesisValidator, Params,
};
use consensus::hash::BlockHash;
use consensus::ledger::{BeaconError, BeaconVerifier, Ledger};
use consensus::storage::{Store, StoreConfig, TxLocation};
use consensus::tx::{Action, SignedTransaction, TableGame, TableId, Transaction};
use game_rules::Chips;
use game_rules::craps::{BetKind, OddsLimit, PointNumber};
use support::{Rng, spawn_child, wait_until_ready};
use wallet::Keypair;

/// Tells the re-executed test binary to run as the writing child, on this
/// database.
const CHILD_ENV: &str = "BITCRAPS_POWER_CUT_CHILD_DB";
/// Kills in a normal run (CI).
const DEFAULT_LOOPS: usize = 25;
/// Players betting in every block.
const PLAYERS: usize = 12;
/// The tables the first block opens.
const CRASH: TableId = TableId(1);
const CRAPS: TableId = TableId(2);

/// No beacon entry is ever offered: rounds that need randomness void.
struct NoBeacon;

impl BeaconVerifier for NoBeacon {
    fn verify(&self, _: u64, _: u64, _: &BlockHash, _: &[u8]) -> Result<(), BeaconError> {
        Err(BeaconError::new("no beacon in this test"))
    }
}

fn keypair(i: usize) -> Keypair {
    let mut secret = [11u8; 32];
    secret[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Keypair::from_secret_bytes(&secret)
}

fn players() -> Vec<Keypair> {
    (0..PLAYERS).map(keypair).collect()
}

fn validator() -> Keypair {
    keypair(1_000)
}

fn genesis() -> Genesis {
    let players = players();
    let genesis = Genesis {
        chain_name: "power-cut".parse().unwrap(),
        genesis_time_ms: 1_000_000,
        accounts: BoundedVec::new(
            players
                .iter()
                .map(|p| GenesisAccount {
                    address: p.address(),
                    balance: Chips(10_000_000),
                })
                .collect(),
        )
        .unwrap(),
        bankroll: GenesisBankroll {
            initial: Chips(1_000_000_000),
            owner: players[0].address(),
        },
        validators: BoundedVec::new(vec![GenesisValidator {
            consensus_key: validator().public_key(),
            network_address: "/ip4/127.0.0.1/tcp/9000".parse().unwrap(),
            stake: Chips(10_000),
        }])
        .unwrap(),
        params: Params {
            // Short phases: crash rounds open and close, craps rolls come
            // due and void (no randomness) every few blocks.
            crash_betting_ms: 2_000,
            crash_cooldown_ms: 1_000,
            craps_roll_interval_ms: 1_000,
            beacon_void_after_blocks: 3,
            faucet: Some(FaucetParams {
                max_per_request: Chips(1_000),
            }),
            ..Params::default()
        },
        dealer_beacon: true,
        beacon_sharing: None,
    };
    genesis.validate().expect("a valid genesis");
    genesis
}

fn sign(ledger: &Ledger, who: &Keypair, nonce: u64, action: Action) -> SignedTransaction {
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

/// The block after `ledger`'s head: a function of its state alone, so the
/// child (on RocksDB) and the parent's replay (in memory) build the same
/// blocks as long as their states are the same.
fn next_block(ledger: &Ledger, players: &[Keypair], proposer: &Keypair) -> Block {
    let height = ledger.next_height();
    let mut txs = Vec::new();
    let nonce = |p: &Keypair| ledger.account(&p.address()).nonce;
    if ledger.table(CRAPS).is_none() {
        let owner = &players[0];
        txs.push(sign(
            ledger,
            owner,
            nonce(owner),
            Action::CreateTable {
                name: "crash".parse().unwrap(),
                max_players: 64,
                game: TableGame::Crash {
                    min_bet: Chips(1),
                    max_bet: Chips(1_000),
                },
            },
        ));
        txs.push(sign(
            ledger,
            owner,
            nonce(owner) + 1,
            Action::CreateTable {
                name: "craps".parse().unwrap(),
                max_players: 64,
                game: TableGame::Craps {
                    min_bet: Chips(1),
                    max_bet: Chips(1_000),
                    odds: OddsLimit::ThreeFourFive,
                },
            },
        ));
    } else {
        let kinds = [
            BetKind::Field,
            BetKind::Pass,
            BetKind::Place(PointNumber::Six),
            BetKind::AnySeven,
        ];
        for (i, player) in players.iter().enumerate() {
            let seated = ledger
                .table(CRAPS)
                .is_some_and(|t| t.players.contains_key(&player.address()));
            let action = if !seated {
                Action::JoinTable { table: CRAPS }
            } else {
                match (height as usize + i) % 6 {
                    0 => Action::JoinTable { table: CRASH },
                    1 => Action::CrashBet {
                        table: CRASH,
                        amount: Chips(20),
                        auto_cash_out: Some(150),
                    },
                    2 => Action::Transfer {
                        to: players[(i + 1) % players.len()].address(),
                        amount: Chips(3),
                    },
                    3 => Action::Faucet { amount: Chips(50) },
                    _ => Action::CrapsBet {
                        table: CRAPS,
                        kind: kinds[(height as usize / 6 + i) % kinds.len()],
                        amount: Chips(10),
                    },
                }
            };
            txs.push(sign(ledger, player, nonce(player), action));
        }
    }
    Block::assemble(
        BlockTemplate {
            chain_id: ledger.chain_id(),
            height,
            view: height + 1,
            parent: ledger.next_parent(),
            timestamp_ms: ledger.last_timestamp_ms() + 400,
            proposer: proposer.public_key(),
            parent_state_root: ledger.state_root(),
        },
        txs,
        Vec::new(),
    )
    .expect("a well-formed block")
}

/// Small memtables and cache, so the child also flushes and compacts: kills
/// land during flushes too, not only during write-ahead-log appends.
fn child_config() -> StoreConfig {
    StoreConfig {
        block_cache_bytes: 1 << 20,
        write_buffer_bytes: 256 << 10,
        ..StoreConfig::default()
    }
}

/// The child: open, say so, then apply blocks until killed.
#[test]
fn power_cut_child() {
    let Some(db) = std::env::var_os(CHILD_ENV) else {
        return; // a normal test run: nothing to do
    };
    let genesis = genesis();
    let store = Arc::new(Store::open_with(&db, &child_config()).expect("child: open the store"));
    let mut ledger = Ledger::open(store, &genesis).expect("child: open the ledger");
    let (players, proposer) = (players(), validator());
    println!("ready");
    loop {
        let block = next_block(&ledger, &players, &proposer);
        ledger
            .apply(&block, &NoBeacon)
            .expect("child: apply the next block");
    }
}

/// The in-memory replay: the genesis ledger and the blocks it built.
struct Replay {
    ledger: Ledger,
    players: Vec<Keypair>,
    proposer: Keypair,
    /// The last block applied and its encoded receipts.
    last: Option<(Block, Vec<Vec<u8>>)>,
}

impl Replay {
    fn new() -> Replay {
        Replay {
            ledger: Ledger::in_memory(&genesis()).expect("the genesis ledger"),
            players: players(),
            proposer: validator(),
            last: None,
        }
    }

    /// Applies blocks until the head is at `height`.
    fn advance_to(&mut self, height: u64) {
        while self.ledger.head().is_none_or(|head| head.height < height) {
            let block = next_block(&self.ledger, &self.players, &self.proposer);
            let applied = self
                .ledger
                .apply(&block, &NoBeacon)
                .expect("the replay applies its own block")
                .applied()
                .expect("a new block");
            let receipts = applied.receipts.iter().map(|r| r.encode()).collect();
            self.last = Some((block, receipts));
        }
    }

    /// The block after the head, without applying it.
    fn peek_next(&self) -> Block {
        next_block(&self.ledger, &self.players, &self.proposer)
    }
}

/// Reopens the store after a kill and checks it is exactly at a block
/// boundary (see the module documentation); returns its height.
fn verify(db: &Path, replay: &mut Replay) -> Result<Option<u64>, String> {
    let store = Arc::new(Store::open(db).map_err(|e| format!("reopen the store: {e}"))?);
    let ledger =
        Ledger::open(store.clone(), &genesis()).map_err(|e| format!("reopen the ledger: {e}"))?;
    let height = store.last_applied_height().map_err(|e| e.to_string())?;
    if ledger.head().map(|h| h.height) != height {
        return Err(format!(
            "the ledger's head {:?} is not the store's height {height:?}",
            ledger.head()
        ));
    }
    let Some(height) = height else {
        if ledger.state_root() != replay.ledger.state_root() || replay.last.is_some() {
            return Err("no block applied, yet the state is not the genesis state".into());
        }
        return Ok(None);
    };
    if replay.ledger.head().is_some_and(|h| h.height > height) {
        return Err(format!(
            "went back to height {height} from {}",
            replay.ledger.head().map_or(0, |h| h.height)
        ));
    }
    replay.advance_to(height);
    let expected = replay.ledger.head().expect("advanced to a block");
    if ledger.head() != Some(expected) {
        return Err(format!(
            "head {:?}, the replay's {expected:?}",
            ledger.head()
        ));
    }
    if ledger.state_root() != replay.ledger.state_root() {
        return Err(format!(
            "state root {} at height {height}, the replay's {}",
            ledger.state_root(),
            replay.ledger.state_root()
        ));
    }
    ledger
        .check_invariants()
        .map_err(|e| format!("invariants after reopening at {height}: {e}"))?;

    let (block, receipts) = replay.last.as_ref().expect("advanced to a block");
    let read = |what: &str, e: consensus::storage::StoreError| format!("read {what}: {e}");
    if store.block(height).map_err(|e| read("block", e))? != Some(block.encode()) {
        return Err(format!("block {height} is not the replay's"));
    }
    if store.receipts(height).map_err(|e| read("receipts", e))? != *receipts {
        return Err(format!(
            "the receipts of block {height} are not the replay's"
        ));
    }
    for (position, hash) in block.transaction_hashes().iter().enumerate() {
        let location = store
            .tx_location(hash.as_bytes())
            .map_err(|e| read("tx index", e))?;
        let expected = TxLocation {
            height,
            position: position as u32,
        };
        if location != Some(expected) {
            return Err(format!(
                "transaction {position} of block {height} is indexed at {location:?}"
            ));
        }
    }
    let next = replay.peek_next();
    if store
        .block(height + 1)
        .map_err(|e| read("block", e))?
        .is_some()
        || !store
            .receipts(height + 1)
            .map_err(|e| read("receipts", e))?
            .is_empty()
    {
        return Err(format!("parts of block {} are stored", height + 1));
    }
    for hash in next.transaction_hashes() {
        if store
            .tx_location(hash.as_bytes())
            .map_err(|e| read("tx index", e))?
            .is_some()
        {
            return Err(format!("a transaction of block {} is indexed", height + 1));
        }
    }
    Ok(Some(height))
}

#[test]
fn a_ledger_killed_mid_block_reopens_at_a_block_boundary() {
    let loops: usize = std::env::var("BITCRAPS_POWER_CUT_LOOPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_LOOPS);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("db");
    let log = dir.path().join("child-stderr.log");
    let seed = std::env::var("BITCRAPS_POWER_CUT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    let context = || {
        format!(
            "seed {seed} (rerun with BITCRAPS_POWER_CUT_SEED={seed}); child stderr: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    };
    let mut rng = Rng(seed);
    let mut replay = Replay::new();
    let started = Instant::now();
    let mut last: Option<u64> = None;
    let mut advanced = 0;
    for cycle in 0..loops {
        let mut child = spawn_child("power_cut_child", CHILD_ENV, &db, &log);
        // Kept open until the child is dead, so that its prints never fail.
        let mut stdout = child.stdout.take();
        // Most kills land in the apply loop: after the child opened the
        // ledger, within the next 250 ms (tens of blocks). Every fifth lands
        // at a random moment after spawning: during start-up, the store's
        // recovery or the ledger's load.
        let delay = if cycle % 5 == 4 {
            rng.below(80)
        } else {
            let stdout = stdout.take().expect("piped stdout");
            if !wait_until_ready(stdout, Duration::from_secs(120)) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child did not open the ledger; {}", context());
            }
            rng.below(250)
        };
        std::thread::sleep(Duration::from_millis(delay));
        if let Some(status) = child.try_wait().expect("poll the child") {
            panic!("the child exited by itself with {status}; {}", context());
        }
        child.kill().expect("SIGKILL the child");
        child.wait().expect("reap the child");
        drop(stdout);

        let now = verify(&db, &mut replay)
            .unwrap_or_else(|e| panic!("cycle {cycle}: {e}; {}", context()));
        if now > last {
            advanced += 1;
        }
        last = now;
    }
    eprintln!(
        "power cut: {loops} kills, the ledger advanced in {advanced}, reached height {last:?} \
         at a block boundary every time, {:.1} s, seed {seed}",
        started.elapsed().as_secs_f64()
    );
    // The kills came while blocks were being applied (low enough not to
    // fail on a slow, busy machine).
    assert!(
        advanced * 3 >= loops,
        "the ledger advanced in only {advanced} of {loops} cycles; {}",
        context()
    );
}
