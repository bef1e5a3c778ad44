//! Random transaction sequences: every refused action changes nothing but
//! its fee and nonce (audited inside the ledger), and the invariants hold
//! after every block.

use game_rules::Chips;
use proptest::prelude::*;

use super::support::*;
use crate::genesis::{Genesis, Params};
use wallet::Address;

use crate::ledger::{Ledger, Play};
use crate::tx::{Action, SignedTransaction, TableId};

/// SplitMix64: a small deterministic generator for test inputs.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

pub(crate) const PLAYERS: u8 = 6;

pub(crate) fn random_params() -> Params {
    Params {
        epoch_length_blocks: 7,
        unbonding_blocks: 14,
        withdrawal_delay_blocks: 3,
        beacon_void_after_blocks: 2,
        ..params()
    }
}

pub(crate) fn random_genesis() -> Genesis {
    genesis_with(PLAYERS, 100_000, 200_000, random_params())
}

fn amount(rng: &mut Rng) -> Chips {
    Chips(rng.pick(&[1, 2, 5, 10, 60, 120, 1_000, 50_000, 1_000_000_000]))
}

/// A well-formed random action by a random player, mostly about the
/// tables and bets that exist.
pub(crate) fn random_action(rng: &mut Rng, ledger: &Ledger) -> (u8, Action) {
    let mut who = 1 + rng.below(u64::from(PLAYERS)) as u8;
    let choice = rng.below(40);
    // Craps actions look at craps tables, crash actions at crash tables.
    let want_craps = match choice {
        11..=23 => Some(true),
        24..=31 => Some(false),
        _ => None,
    };
    let open: Vec<(TableId, Vec<(u64, Address)>)> = ledger
        .tables()
        .filter(|(_, t)| want_craps.is_none_or(|craps| matches!(t.play, Play::Craps(_)) == craps))
        .map(|(id, t)| {
            let bets = match &t.play {
                Play::Craps(c) => c.owners.iter().map(|(b, a)| (*b, *a)).collect(),
                Play::Crash(c) => c.bettors.iter().map(|(b, a)| (*b, *a)).collect(),
            };
            (*id, bets)
        })
        .collect();
    let (table, bets) = if !open.is_empty() && rng.below(8) != 0 {
        open[rng.below(open.len() as u64) as usize].clone()
    } else {
        (TableId(1 + rng.below(6)), Vec::new())
    };
    let bet = if !bets.is_empty() && rng.below(5) != 0 {
        let (bet, owner) = bets[rng.below(bets.len() as u64) as usize];
        // Usually the owner asks.
        if rng.below(4) != 0
            && let Some(seed) = (1..=PLAYERS).find(|s| addr(*s) == owner)
        {
            who = seed;
        }
        bet
    } else {
        1 + rng.below(20)
    };
    let tables = ledger.tables().count();
    let kinds = crate::tx::tests::all_bet_kinds();
    let action = match choice {
        0..=2 => Action::Transfer {
            to: addr(1 + rng.below(u64::from(PLAYERS)) as u8),
            amount: amount(rng),
        },
        3 if tables < 6 => create_table("craps", craps_game(1 + rng.below(5), 10_000)),
        4 if tables < 6 => create_table("crash", crash_game(1, 10_000)),
        5..=9 => Action::JoinTable { table },
        10 => Action::LeaveTable { table },
        11..=17 => Action::CrapsBet {
            table,
            kind: kinds[rng.below(kinds.len() as u64) as usize],
            amount: Chips(rng.pick(&[1, 4, 6, 10, 12, 60, 400, 20_000])),
        },
        18..=20 => Action::CrapsOdds {
            table,
            bet,
            amount: Chips(rng.pick(&[0, 5, 10, 30, 60, 10_000])),
        },
        21 | 22 => Action::CrapsTakeDown { table, bet },
        23 => Action::CrapsSetWorking {
            table,
            bet,
            working: rng.pick(&[
                game_rules::craps::Working::On,
                game_rules::craps::Working::Off,
                game_rules::craps::Working::TableDefault,
            ]),
        },
        24..=28 => Action::CrashBet {
            table,
            amount: Chips(rng.pick(&[1, 10, 100, 5_000, 20_000])),
            auto_cash_out: rng.pick(&[None, Some(101), Some(150), Some(300)]),
        },
        29..=31 => Action::CrashCashOut { table },
        32 => Action::BankrollDeposit {
            amount: amount(rng),
        },
        33 => Action::BankrollWithdraw {
            shares: u128::from(rng.pick(&[1u64, 100, 10_000, 1_000_000])),
        },
        34 => Action::RegisterValidator {
            consensus_key: kp(who).public_key(),
            network_address: "/ip4/127.0.0.1/tcp/1".parse().unwrap(),
        },
        35 => Action::Stake {
            amount: amount(rng),
        },
        36 => Action::Unstake {
            amount: amount(rng),
        },
        37 => Action::Faucet {
            amount: Chips(rng.pick(&[1, 999, 1_000, 1_001])),
        },
        38 => Action::CloseTable { table },
        _ => Action::JoinTable { table },
    };
    (who, action)
}

/// A random block's transactions for `chain` (some with a bad nonce or a
/// fee below the minimum), and whether to withhold the beacon this block.
pub(crate) fn random_txs(chain: &mut Chain, rng: &mut Rng) -> Vec<SignedTransaction> {
    let count = rng.below(9);
    (0..count)
        .map(|index| {
            let (who, action) = random_action(rng, &chain.ledger);
            match rng.below(20) {
                0 => chain.tx_with_fee(&kp(who), action, Chips::ZERO),
                1 => {
                    // A nonce from the future, distinct per transaction so two
                    // draws of the same sender and action are not one
                    // duplicated transaction (which makes the block invalid).
                    let nonce = chain.ledger.account(&addr(who)).nonce + 100 + index;
                    chain.signed(&kp(who), action, Chips(1), nonce)
                }
                _ => chain.tx(&kp(who), action),
            }
        })
        .collect()
}

/// Plays `blocks` random blocks from `seed`; returns how many refusals
/// were audited.
fn play(seed: u64, blocks: usize) -> u64 {
    let mut chain = Chain::new(&random_genesis());
    let mut rng = Rng(seed);
    chain.beacon.seed = seed;
    for _ in 0..blocks {
        chain.auto_beacon = rng.below(5) != 0;
        let txs = random_txs(&mut chain, &mut rng);
        chain.apply(txs);
    }
    chain.ledger.audited_rejections()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn refusals_change_nothing_but_fee_and_nonce(seed in any::<u64>()) {
        // The audit inside the ledger asserts it for every refusal; the
        // harness checks the invariants and nonces after every block.
        play(seed, 60);
    }
}

#[test]
fn random_play_refuses_plenty() {
    let audited: u64 = (0..4).map(|seed| play(seed, 60)).sum();
    assert!(audited > 100, "only {audited} refusals were audited");
}

#[test]
fn random_play_covers_both_games_and_never_settles_a_bet_twice() {
    // The generator must reach the interesting paths, not only refusals.
    let mut chain = Chain::new(&random_genesis());
    let mut rng = Rng(5);
    let mut applied = std::collections::BTreeMap::<&'static str, u32>::new();
    let mut events = std::collections::BTreeMap::<&'static str, u32>::new();
    // Bets that left the books: they must never be settled again.
    let mut gone = std::collections::BTreeSet::<(TableId, u64)>::new();
    for _ in 0..300 {
        chain.auto_beacon = rng.below(5) != 0;
        let txs = random_txs(&mut chain, &mut rng);
        let names: Vec<&'static str> = txs.iter().map(|t| t.tx.action.name()).collect();
        let block = chain.apply(txs);
        // A bet may have several events in one block (a win that stays up,
        // then a take-down), but none once it has left the books.
        let mut touched = std::collections::BTreeSet::new();
        for event in all_events(&block) {
            match event {
                crate::receipt::LedgerEvent::BetSettled { table, bet, .. }
                | crate::receipt::LedgerEvent::BetTakenDown { table, bet, .. } => {
                    assert!(
                        !gone.contains(&(table, bet)),
                        "bet {bet} at {table} settled twice"
                    );
                    touched.insert((table, bet));
                }
                _ => {}
            }
        }
        for (table, bet) in touched {
            let on_books = chain.ledger.table(table).is_some_and(|t| match &t.play {
                Play::Craps(c) => c.owners.contains_key(&bet),
                Play::Crash(c) => c
                    .round
                    .bet(game_rules::crash::BetId(bet))
                    .is_some_and(|b| !matches!(b.status, game_rules::crash::BetStatus::Settled(_))),
            });
            if !on_books {
                gone.insert((table, bet));
            }
        }
        for (name, receipt) in names.iter().zip(&block.receipts) {
            if receipt.is_applied() {
                *applied.entry(name).or_default() += 1;
            }
        }
        for event in &block.events.events {
            let name = match event {
                crate::receipt::LedgerEvent::DiceRolled { .. } => "rolled",
                crate::receipt::LedgerEvent::Crashed { .. } => "crashed",
                crate::receipt::LedgerEvent::RoundVoid { .. } => "void",
                crate::receipt::LedgerEvent::BetSettled { .. } => "settled",
                crate::receipt::LedgerEvent::EpochStarted { .. } => "epoch",
                _ => continue,
            };
            *events.entry(name).or_default() += 1;
        }
    }
    for action in [
        "craps_bet",
        "crash_bet",
        "crash_cash_out",
        "join_table",
        "bankroll_withdraw",
    ] {
        assert!(
            applied.get(action).copied().unwrap_or(0) > 0,
            "no {action} applied: {applied:?}"
        );
    }
    for event in ["rolled", "crashed", "void", "settled", "epoch"] {
        assert!(
            events.get(event).copied().unwrap_or(0) > 0,
            "no {event}: {events:?}"
        );
    }
}
