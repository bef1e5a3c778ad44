//! Crash through blocks, and voids of both games.

use game_rules::Chips;
use game_rules::crash::{CashOutReason, Multiplier, Outcome, Phase};

use super::support::*;
use crate::ledger::records::{CrashEnd, RoundRecord};
use crate::ledger::{AppliedBlock, CrashBetState, CrashTiming, LedgerError, OpenBetState, Play};
use crate::receipt::{BetResult, LedgerEvent, RejectReason, Wager};
use crate::tx::{Action, TableId};

fn settled(block: &AppliedBlock, bet: u64) -> Option<(BetResult, Chips)> {
    all_events(block).into_iter().find_map(|e| match e {
        LedgerEvent::BetSettled {
            bet: b,
            result,
            paid,
            ..
        } if b == bet => Some((result, paid)),
        _ => None,
    })
}

fn crashed(block: &AppliedBlock) -> Option<Multiplier> {
    block.events.events.iter().find_map(|e| match e {
        LedgerEvent::Crashed { at, .. } => Some(*at),
        _ => None,
    })
}

/// Plays the scenario with beacon seed `seed`; `None` if the randomness
/// does not give it (an early crash), else checks every figure.
fn auto_manual_and_loser(seed: u64) -> Option<()> {
    let mut chain = Chain::new(&genesis());
    chain.beacon.seed = seed;
    let table = TableId(1);
    let block = chain.send(vec![
        (1, create_table("crash", crash_game(1, 100_000))),
        (1, Action::JoinTable { table }),
        (2, Action::JoinTable { table }),
        (3, Action::JoinTable { table }),
    ]);
    all_applied(&block);
    assert!(
        block.receipts[0]
            .events
            .iter()
            .any(|e| matches!(e, LedgerEvent::CrashBettingOpened { round: 1, .. }))
    );
    let bets = chain.send(vec![
        (
            1,
            Action::CrashBet {
                table,
                amount: Chips(1_000),
                auto_cash_out: Some(110),
            },
        ),
        (
            2,
            Action::CrashBet {
                table,
                amount: Chips(1_000),
                auto_cash_out: None,
            },
        ),
        (
            3,
            Action::CrashBet {
                table,
                amount: Chips(1_000),
                auto_cash_out: None,
            },
        ),
    ]);
    all_applied(&bets);
    let ids: Vec<u64> = bets.receipts.iter().map(placed_bet).collect();
    let open = |chain: &Chain| -> Vec<(u64, CrashBetState)> {
        chain
            .ledger
            .table(table)
            .expect("the table")
            .open_bets()
            .into_iter()
            .map(|b| match b.state {
                OpenBetState::Crash { round: 1, state } => (b.bet, state),
                other => panic!("not a round-1 crash bet: {other:?}"),
            })
            .collect()
    };
    let first = chain.ledger.table(table).expect("the table").open_bets()[0].clone();
    assert_eq!(
        (first.bet, first.player, first.amount, first.wager),
        (
            ids[0],
            addr(1),
            Chips(1_000),
            Wager::Crash {
                auto_cash_out: Some(110)
            }
        )
    );
    assert_eq!(
        open(&chain),
        ids.iter()
            .map(|id| (*id, CrashBetState::Riding))
            .collect::<Vec<_>>()
    );
    let after_bets = [chain.balance(1), chain.balance(2), chain.balance(3)];
    let bankroll_before = chain.ledger.bankroll().chips;

    // Betting closes: the round starts at this block's timestamp.
    let start = chain.apply(Vec::new());
    let t0 = chain.ledger.last_timestamp_ms();
    assert!(start.events.events.iter().any(|e| matches!(
        e,
        LedgerEvent::CrashRoundStarted { start_ms, .. } if *start_ms == t0
    )));
    assert!(
        chain.ledger.bankroll().reserved > Chips::ZERO,
        "a running round reserves"
    );
    // Tick 1.
    let tick1 = chain.apply(Vec::new());
    assert!(tick1.events.events.iter().any(|e| matches!(
        e,
        LedgerEvent::CrashTick {
            elapsed_ms: 1_000,
            ..
        }
    )));
    // Interval 1 decided; tick 2 (1.127×) passes the 1.10× target.
    let tick2 = chain.apply(Vec::new());
    if crashed(&tick2).is_some() {
        return None;
    }
    assert!(tick2.events.events.iter().any(|e| matches!(
        e,
        LedgerEvent::CrashCashedOut { bet, at, .. }
            if *bet == ids[0] && *at == Multiplier::from_hundredths(110).unwrap()
    )));
    assert_eq!(
        open(&chain)[0],
        (
            ids[0],
            CrashBetState::CashingOut {
                at: Multiplier::from_hundredths(110).unwrap()
            }
        ),
        "the auto cash-out waits for its interval"
    );
    // Interval 2 decides the auto cash-out; tick 3 is recorded; B cashes
    // out in this block, at m_3.
    let cash_out = chain.send(vec![(2, Action::CrashCashOut { table })]);
    let auto = settled(&cash_out, ids[0]);
    if auto.map(|(r, _)| r) != Some(BetResult::Win) {
        return None;
    }
    let m3 = Multiplier::at(3_000);
    all_applied(&cash_out);
    assert!(cash_out.receipts[0].events.iter().any(|e| matches!(
        e,
        LedgerEvent::CrashCashedOut { bet, at, .. } if *bet == ids[1] && *at == m3
    )));
    let auto_paid = Multiplier::from_hundredths(110)
        .unwrap()
        .payout(Chips(1_000))
        .unwrap();
    assert_eq!(auto, Some((BetResult::Win, auto_paid)));
    assert!(
        open(&chain).iter().all(|(bet, _)| *bet != ids[0]),
        "a settled bet is off the table"
    );
    // Interval 3 decides the manual cash-out.
    let decided = chain.apply(Vec::new());
    let manual = settled(&decided, ids[1]);
    if manual.map(|(r, _)| r) != Some(BetResult::Win) {
        return None;
    }
    let manual_paid = m3.payout(Chips(1_000)).unwrap();
    assert_eq!(manual, Some((BetResult::Win, manual_paid)));

    // C rides until the crash (or the risk cap, which this seed must not hit).
    let mut blocks = vec![decided];
    if crashed(&blocks[0]).is_none() {
        blocks.extend(chain.run_until(400, |b| crashed(b).is_some()));
    }
    let last = blocks.last().expect("a block");
    let at = crashed(last).expect("crashed");
    let loser = blocks.iter().find_map(|b| settled(b, ids[2]));
    if loser != Some((BetResult::Lose, Chips::ZERO)) {
        return None;
    }
    // Balances: exactly the payouts (B paid one more fee for its cash-out).
    assert_eq!(chain.balance(1), after_bets[0] + auto_paid.get());
    assert_eq!(chain.balance(2), after_bets[1] - 1 + manual_paid.get());
    assert_eq!(chain.balance(3), after_bets[2]);
    assert_eq!(
        chain.ledger.bankroll().chips.get(),
        bankroll_before.get() + 3_000 - auto_paid.get() - manual_paid.get()
    );
    assert_eq!(
        chain.ledger.bankroll().reserved,
        Chips::ZERO,
        "the reserve is released"
    );

    // The round record re-verifies offline.
    let record = last
        .rounds
        .iter()
        .find_map(|(t, r, record)| match record {
            RoundRecord::CrashRound(c) if *t == table && *r == 1 => Some(c.clone()),
            _ => None,
        })
        .expect("a crash round record");
    assert_eq!(record.start_ms, t0);
    let mut crash_point = None;
    for interval in &record.intervals {
        assert_eq!(interval.beacon.verify(&chain.beacon), Ok(()));
        let decision = interval.recompute().expect("decision");
        assert_eq!(decision.survives(), interval.survived);
        if !interval.survived {
            crash_point = decision.crash_point();
        }
    }
    assert_eq!(crash_point, Some(at));
    assert!(matches!(record.end, CrashEnd::Crashed { at: a, .. } if a == at));
    let outcomes: Vec<Outcome> = record.bets.iter().map(|b| b.outcome).collect();
    assert!(matches!(
        outcomes[0],
        Outcome::Won {
            reason: CashOutReason::AutoTarget,
            ..
        }
    ));
    assert!(matches!(
        outcomes[1],
        Outcome::Won {
            reason: CashOutReason::Manual,
            ..
        }
    ));
    assert_eq!(outcomes[2], Outcome::Lost);

    // Cooldown, then the next round takes bets.
    let next = chain.apply(Vec::new());
    assert!(
        next.events
            .events
            .iter()
            .any(|e| matches!(e, LedgerEvent::CrashBettingOpened { round: 2, .. }))
    );
    let again = chain.send(vec![(
        3,
        Action::CrashBet {
            table,
            amount: Chips(10),
            auto_cash_out: None,
        },
    )]);
    all_applied(&again);
    Some(())
}

#[test]
fn a_crash_round_pays_auto_and_manual_cash_outs_and_takes_the_loser() {
    let played = (0..64).find_map(auto_manual_and_loser);
    assert!(played.is_some(), "some seed gives the scenario");
}

#[test]
fn the_risk_cap_cashes_everyone_out_within_the_bankroll() {
    // Free chips 100,000: the cap is 3% = 3,000 for 2,000 staked, so every
    // riding bet cashes out at 1.50×.
    let genesis = genesis_with(4, 1_000_000, 100_000, params());
    let run = |seed: u64| -> Option<()> {
        let mut chain = Chain::new(&genesis);
        chain.beacon.seed = seed;
        let table = TableId(1);
        all_applied(&chain.send(vec![
            (1, create_table("crash", crash_game(1, 100_000))),
            (1, Action::JoinTable { table }),
            (2, Action::JoinTable { table }),
        ]));
        let over = chain.send(vec![(
            1,
            Action::CrashBet {
                table,
                amount: Chips(3_001),
                auto_cash_out: None,
            },
        )]);
        assert_eq!(
            rejection(&over.receipts[0]),
            Some(&RejectReason::InsufficientBankroll {
                needed: Chips(3_001),
                available: Chips(3_000),
            })
        );
        let bets = chain.send(vec![
            (
                1,
                Action::CrashBet {
                    table,
                    amount: Chips(1_000),
                    auto_cash_out: None,
                },
            ),
            (
                2,
                Action::CrashBet {
                    table,
                    amount: Chips(1_000),
                    auto_cash_out: None,
                },
            ),
        ]);
        all_applied(&bets);
        let blocks = chain.run_until(200, |b| {
            b.events
                .events
                .iter()
                .any(|e| matches!(e, LedgerEvent::Crashed { .. }))
        });
        let capped = blocks
            .iter()
            .flat_map(|b| b.events.events.iter())
            .find_map(|e| match e {
                LedgerEvent::CrashRiskCapReached { at, .. } => Some(*at),
                _ => None,
            });
        let paid: Vec<Chips> = blocks
            .iter()
            .flat_map(|b| b.events.events.iter())
            .filter_map(|e| match e {
                LedgerEvent::BetSettled {
                    result: BetResult::Win,
                    paid,
                    ..
                } => Some(*paid),
                _ => None,
            })
            .collect();
        let at = capped?;
        assert!(at.hundredths() == 150, "m* is 1.50×, not {at}");
        assert_eq!(paid.len(), 2, "both cashed out at the cap");
        let total: u64 = paid.iter().map(|p| p.get()).sum();
        assert!(total <= 3_000, "the round never pays more than its cap");
        Some(())
    };
    assert!((0..64).find_map(run).is_some(), "some seed reaches the cap");
}

#[test]
fn a_void_refunds_every_stake_in_both_games() {
    let mut chain = Chain::new(&genesis());
    let craps = TableId(1);
    let crash = TableId(2);
    let start: Vec<u64> = (1..=3).map(|s| chain.balance(s)).collect();
    all_applied(&chain.send(vec![
        (4, create_table("craps", craps_game(1, 1_000))),
        (4, create_table("crash", crash_game(1, 1_000))),
        (1, Action::JoinTable { table: craps }),
        (2, Action::JoinTable { table: craps }),
        (3, Action::JoinTable { table: crash }),
    ]));
    // From here on the beacon never answers.
    chain.auto_beacon = false;
    let bets = chain.send(vec![
        (
            1,
            Action::CrapsBet {
                table: craps,
                kind: game_rules::craps::BetKind::Pass,
                amount: Chips(100),
            },
        ),
        (
            2,
            Action::CrapsBet {
                table: craps,
                kind: game_rules::craps::BetKind::Field,
                amount: Chips(50),
            },
        ),
        (
            3,
            Action::CrashBet {
                table: crash,
                amount: Chips(200),
                auto_cash_out: Some(200),
            },
        ),
    ]);
    all_applied(&bets);
    let roll_height = bets.height;
    let blocks = chain.run_until(20, |b| {
        b.events
            .events
            .iter()
            .any(|e| matches!(e, LedgerEvent::RoundVoid { table, .. } if *table == crash))
    });
    let craps_void = blocks
        .iter()
        .find(|b| {
            b.events
                .events
                .iter()
                .any(|e| matches!(e, LedgerEvent::RoundVoid { table, .. } if *table == craps))
        })
        .expect("the craps roll is void");
    assert_eq!(
        craps_void.height,
        roll_height + chain.ledger.params().beacon_void_after_blocks,
        "void after exactly beacon_void_after_blocks blocks"
    );
    // Everyone has everything back but the fees: join and bet, one chip each.
    for (i, seed) in (1..=3).enumerate() {
        assert_eq!(chain.balance(seed), start[i] - 2, "player {seed}");
    }
    assert_eq!(chain.ledger.bankroll().reserved, Chips::ZERO);
    let Play::Craps(table) = &chain.ledger.table(craps).expect("craps").play else {
        panic!()
    };
    assert!(table.table.is_empty() && table.pending_roll.is_none());
    let Play::Crash(round) = &chain.ledger.table(crash).expect("crash").play else {
        panic!()
    };
    assert_eq!(round.round.phase(), Phase::Void);
    assert!(matches!(round.timing, CrashTiming::Cooldown { .. }));
    // The voided roll is never rolled: its entry is now unexpected.
    let pending = crate::ledger::PendingRandomness {
        block_hash: bets.block_hash,
        epoch: 0,
        items: Vec::new(),
    };
    let entry = crate::block::BeaconEntry {
        height: roll_height,
        signature: crate::encoding::BoundedBytes::new(chain.beacon.sign(
            pending.epoch,
            roll_height,
            &pending.block_hash,
        ))
        .unwrap(),
    };
    let root = chain.ledger.state_root();
    let late = chain.build(Vec::new(), vec![entry]);
    assert!(matches!(
        chain.apply_block(&late),
        Err(LedgerError::UnexpectedBeaconEntry { height }) if height == roll_height
    ));
    assert_eq!(
        chain.ledger.state_root(),
        root,
        "a refused block changes nothing"
    );
}
