//! Craps through blocks.

use std::collections::BTreeMap;

use game_rules::Chips;
use game_rules::Roll;
use game_rules::craps::{BetId, BetKind, CrapsTable, PointNumber, TableRules};

use super::support::*;
use crate::ledger::craps::{bet_reserve, max_win};
use crate::ledger::records::{CrapsRollResult, RoundRecord, craps_dice};
use crate::ledger::{AppliedBlock, Play};
use crate::receipt::{BetResult, LedgerEvent, RejectReason};
use crate::tx::{Action, TableId};

fn dice_of(block: &AppliedBlock) -> Option<(u64, Roll)> {
    block.events.events.iter().find_map(|e| match e {
        LedgerEvent::DiceRolled {
            roll_number, dice, ..
        } => Some((*roll_number, *dice)),
        _ => None,
    })
}

fn committed(block: &AppliedBlock) -> bool {
    block
        .events
        .events
        .iter()
        .any(|e| matches!(e, LedgerEvent::CrapsRollCommitted { .. }))
}

fn ledger_table(chain: &Chain, id: TableId) -> CrapsTable {
    match &chain.ledger.table(id).expect("table").play {
        Play::Craps(craps) => craps.table.clone(),
        Play::Crash(_) => panic!("not craps"),
    }
}

#[test]
fn a_craps_table_plays_through_blocks_exactly_as_the_engine_says() {
    let mut chain = Chain::new(&genesis());
    let players = [kp(1), kp(2), kp(3)];
    let mut txs = vec![chain.tx(&players[0], create_table("craps", craps_game(1, 10_000)))];
    for p in &players {
        txs.push(chain.tx(p, Action::JoinTable { table: TableId(1) }));
    }
    let block = chain.apply(txs);
    all_applied(&block);
    let table = created_table(&block);
    assert_eq!(table, TableId(1));
    let rules = TableRules {
        min_bet: Chips(1),
        max_bet: Chips(10_000),
        ..TableRules::default()
    };
    let mut mirror = CrapsTable::new(rules).expect("rules");
    let mut owners: BTreeMap<u64, u8> = BTreeMap::new();

    // The first bets: pass, field, place 6, don't pass.
    let first = [
        (1u8, BetKind::Pass, 60u64),
        (2, BetKind::Field, 10),
        (3, BetKind::Place(PointNumber::Six), 60),
        (2, BetKind::DontPass, 30),
    ];
    let txs = first
        .iter()
        .map(|(who, kind, amount)| {
            chain.tx(
                &kp(*who),
                Action::CrapsBet {
                    table,
                    kind: *kind,
                    amount: Chips(*amount),
                },
            )
        })
        .collect();
    let block = chain.apply(txs);
    all_applied(&block);
    assert!(
        committed(&block),
        "the first bets commit a roll in their block"
    );
    for ((who, kind, amount), receipt) in first.iter().zip(&block.receipts) {
        let bet = placed_bet(receipt);
        mirror
            .place_bet(BetId(bet), *kind, Chips(*amount))
            .expect("mirror");
        owners.insert(bet, *who);
    }
    let mut pass_bet = placed_bet(&block.receipts[0]);

    // While the roll is pending, the table's bets cannot change.
    chain.auto_beacon = false;
    let refused = chain.send(vec![
        (
            2,
            Action::CrapsBet {
                table,
                kind: BetKind::Field,
                amount: Chips(5),
            },
        ),
        (3, Action::CrapsTakeDown { table, bet: 3 }),
    ]);
    for r in &refused.receipts {
        assert_eq!(rejection(r), Some(&RejectReason::RollInProgress { table }));
        assert_eq!(
            r.fee_charged,
            Chips(1),
            "a refused action still pays its fee"
        );
    }
    chain.auto_beacon = true;

    let mut seen_point = false;
    let mut odds_decided = false;
    let mut place_decided = false;
    let mut field_decided = false;
    let mut rolls = 0;
    while rolls < 60 && !(seen_point && odds_decided && place_decided && field_decided) {
        // Settle the pending roll in a block of its own.
        let before: Vec<u64> = [1u8, 2, 3].iter().map(|s| chain.balance(*s)).collect();
        let bankroll_before = chain.ledger.bankroll().chips.get();
        let settle = chain.apply(Vec::new());
        let (roll_number, dice) = dice_of(&settle).expect("the entry rolled the dice");
        rolls += 1;
        // The dice come from the recorded σ with the published derivation.
        let record = settle
            .rounds
            .iter()
            .find_map(|(t, r, record)| match record {
                RoundRecord::CrapsRoll(c) if *t == table && *r == roll_number => Some(c.clone()),
                _ => None,
            })
            .expect("a round record");
        let CrapsRollResult::Rolled { beacon, .. } = &record.result else {
            panic!("the roll was not void");
        };
        assert_eq!(beacon.verify(&chain.beacon), Ok(()));
        assert_eq!(craps_dice(&beacon.signature, table, roll_number), dice);
        assert_eq!(record.recompute_dice(), Some(dice));

        // The engine, on the same bets and dice.
        let point_before = mirror.point();
        let outcome = mirror.roll(dice).expect("mirror roll");
        let mut expected = [0i128; 3];
        let mut bankroll_delta = 0i128;
        for r in &outcome.resolutions {
            let total = r.total().expect("settlement");
            let who = owners[&r.bet.0];
            expected[usize::from(who - 1)] += i128::from(total.to_player().expect("pay").get());
            bankroll_delta += i128::from(total.lost.get()) + i128::from(total.commission.get())
                - i128::from(total.winnings.get());
            match r.kind {
                BetKind::Pass if r.bet.0 == pass_bet && r.odds_outcome.is_some() => {
                    odds_decided = true
                }
                BetKind::Place(_) => place_decided = true,
                BetKind::Field => field_decided = true,
                _ => {}
            }
            if r.comes_down() {
                owners.remove(&r.bet.0);
            }
        }
        for (i, seed) in [1u8, 2, 3].iter().enumerate() {
            assert_eq!(
                i128::from(chain.balance(*seed)) - i128::from(before[i]),
                expected[i],
                "player {seed} after roll {roll_number} ({dice}) from {point_before:?}"
            );
        }
        assert_eq!(
            i128::from(chain.ledger.bankroll().chips.get()) - i128::from(bankroll_before),
            bankroll_delta
        );
        assert_eq!(
            ledger_table(&chain, table),
            mirror,
            "the ledger's table is the engine's"
        );
        let settled: Vec<u64> = settle
            .events
            .events
            .iter()
            .filter_map(|e| match e {
                LedgerEvent::BetSettled { bet, .. } => Some(*bet),
                _ => None,
            })
            .collect();
        assert!(settled.len() <= outcome.resolutions.len());

        // Next bets: odds behind the pass bet once it has a point, a field
        // bet every roll, a new pass bet when the old one is gone.
        let mut txs = Vec::new();
        let mut planned = Vec::new();
        if mirror.point().is_none() && mirror.bet(BetId(pass_bet)).is_none() {
            txs.push(chain.tx(
                &kp(1),
                Action::CrapsBet {
                    table,
                    kind: BetKind::Pass,
                    amount: Chips(60),
                },
            ));
            planned.push(Some((1u8, BetKind::Pass, 60u64)));
        }
        if let Some(point) = mirror.point() {
            seen_point = true;
            if let Some(bet) = mirror.bet(BetId(pass_bet))
                && bet.odds() == Chips::ZERO
            {
                let odds = Chips(60);
                let _ = point;
                txs.push(chain.tx(
                    &kp(1),
                    Action::CrapsOdds {
                        table,
                        bet: pass_bet,
                        amount: odds,
                    },
                ));
                planned.push(None);
            }
        }
        txs.push(chain.tx(
            &kp(2),
            Action::CrapsBet {
                table,
                kind: BetKind::Field,
                amount: Chips(10),
            },
        ));
        planned.push(Some((2u8, BetKind::Field, 10u64)));
        let block = chain.apply(txs);
        all_applied(&block);
        for (plan, receipt) in planned.iter().zip(&block.receipts) {
            match plan {
                Some((who, kind, amount)) => {
                    let bet = placed_bet(receipt);
                    mirror
                        .place_bet(BetId(bet), *kind, Chips(*amount))
                        .expect("mirror bet");
                    owners.insert(bet, *who);
                    if *kind == BetKind::Pass {
                        pass_bet = bet;
                    }
                }
                None => {
                    mirror
                        .set_odds(BetId(pass_bet), Chips(60))
                        .expect("mirror odds");
                }
            }
        }
        assert!(committed(&block), "a table with bets rolls again");
    }
    assert!(
        seen_point && odds_decided && place_decided && field_decided,
        "the rolls covered a point ({seen_point}), odds ({odds_decided}), a place bet \
         ({place_decided}) and the field ({field_decided}) in {rolls} rolls"
    );
}

#[test]
fn craps_requests_are_checked_before_anything_changes() {
    let mut chain = Chain::new(&genesis());
    let block = chain.send(vec![
        (1, create_table("craps", craps_game(5, 500))),
        (1, Action::JoinTable { table: TableId(1) }),
    ]);
    all_applied(&block);
    let table = TableId(1);
    let block = chain.send(vec![
        // Not seated.
        (
            2,
            Action::CrapsBet {
                table,
                kind: BetKind::Pass,
                amount: Chips(10),
            },
        ),
        // Under the minimum.
        (
            1,
            Action::CrapsBet {
                table,
                kind: BetKind::Pass,
                amount: Chips(4),
            },
        ),
        // Come on the come-out.
        (
            1,
            Action::CrapsBet {
                table,
                kind: BetKind::Come,
                amount: Chips(10),
            },
        ),
        // More than the balance.
        (
            1,
            Action::CrapsBet {
                table,
                kind: BetKind::Pass,
                amount: Chips(2_000_000),
            },
        ),
        // Odds on somebody else's (or no) bet.
        (
            2,
            Action::CrapsOdds {
                table,
                bet: 1,
                amount: Chips(10),
            },
        ),
        // The wrong game.
        (
            1,
            Action::CrashBet {
                table,
                amount: Chips(10),
                auto_cash_out: None,
            },
        ),
        // No such table.
        (1, Action::JoinTable { table: TableId(9) }),
    ]);
    let reasons: Vec<_> = block
        .receipts
        .iter()
        .map(|r| rejection(r).cloned())
        .collect();
    assert_eq!(reasons[0], Some(RejectReason::NotAtTable { table }));
    assert!(matches!(reasons[1], Some(RejectReason::BetRefused { .. })));
    assert!(matches!(reasons[2], Some(RejectReason::BetRefused { .. })));
    assert!(matches!(
        reasons[3],
        Some(RejectReason::BetRefused { .. } | RejectReason::InsufficientBalance { .. })
    ));
    assert_eq!(
        reasons[4],
        Some(RejectReason::BetNotFound { table, bet: 1 })
    );
    assert_eq!(reasons[5], Some(RejectReason::WrongGame { table }));
    assert_eq!(
        reasons[6],
        Some(RejectReason::TableNotFound { table: TableId(9) })
    );
    assert!(chain.ledger.audited_rejections() >= 7);
    assert!(
        ledger_table(&chain, table).is_empty(),
        "nothing reached the table"
    );
}

#[test]
fn a_bet_the_free_bankroll_cannot_cover_is_refused() {
    // A bankroll of 1,000 chips covers a 30:1 bet of 33 but not of 34.
    let mut chain = Chain::new(&genesis_with(4, 1_000_000, 1_000, params()));
    let block = chain.send(vec![
        (1, create_table("craps", craps_game(1, 10_000))),
        (1, Action::JoinTable { table: TableId(1) }),
    ]);
    all_applied(&block);
    let table = TableId(1);
    let block = chain.send(vec![
        (
            1,
            Action::CrapsBet {
                table,
                kind: BetKind::Twelve,
                amount: Chips(34),
            },
        ),
        (
            1,
            Action::CrapsBet {
                table,
                kind: BetKind::Twelve,
                amount: Chips(33),
            },
        ),
        // 990 of the 1,000 are now reserved: a field bet of 4 may win 12 (3:1 on 12).
        (
            1,
            Action::CrapsBet {
                table,
                kind: BetKind::Field,
                amount: Chips(4),
            },
        ),
    ]);
    assert_eq!(
        rejection(&block.receipts[0]),
        Some(&RejectReason::InsufficientBankroll {
            needed: Chips(34 * 30),
            available: Chips(1_000),
        })
    );
    assert!(applied(&block.receipts[1]));
    assert_eq!(
        rejection(&block.receipts[2]),
        Some(&RejectReason::InsufficientBankroll {
            needed: Chips(12),
            available: Chips(10),
        })
    );
    assert_eq!(chain.ledger.bankroll().reserved, Chips(990));
}

#[test]
fn no_bet_ever_wins_more_than_it_reserves() {
    let kinds = crate::tx::tests::all_bet_kinds();
    let points = [
        None,
        Some(4u8),
        Some(5),
        Some(6),
        Some(8),
        Some(9),
        Some(10),
    ];
    for kind in kinds {
        for amount in [1u64, 2, 4, 7, 20, 60, 100, 999, 1_000] {
            for point in points {
                let mut table = CrapsTable::new(TableRules::default()).expect("rules");
                if let Some(p) = point {
                    let a = p.saturating_sub(6).max(1);
                    table
                        .roll(Roll::new(a, p - a).expect("dice"))
                        .expect("point");
                }
                if table.place_bet(BetId(1), kind, Chips(amount)).is_err() {
                    continue;
                }
                // Line bets: travel to a point, then the most odds.
                let mut tables = vec![table.clone()];
                if kind.is_line() {
                    for travel in [4u8, 5, 6, 8, 9, 10] {
                        let mut t = table.clone();
                        let a = travel.saturating_sub(6).max(1);
                        t.roll(Roll::new(a, travel - a).expect("dice"))
                            .expect("roll");
                        if let Ok(max) = t.max_odds(BetId(1))
                            && t.set_odds(BetId(1), max).is_ok()
                        {
                            tables.push(t);
                        }
                    }
                }
                for t in tables {
                    let Some(bet) = t.bet(BetId(1)) else { continue };
                    let reserve = bet_reserve(bet).expect("reserve");
                    assert_eq!(
                        max_win(bet.kind(), bet.amount(), bet.odds(), bet.point()),
                        Some(reserve)
                    );
                    for roll in Roll::all() {
                        let mut after = t.clone();
                        let outcome = after.roll(roll).expect("roll");
                        for r in outcome.resolutions {
                            let won = r.total().expect("total").winnings;
                            assert!(
                                won <= reserve,
                                "{kind} of {amount} won {won} > reserve {reserve} on {roll}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn taking_down_and_odds_move_chips_and_reserve() {
    let mut chain = Chain::new(&genesis());
    let table = TableId(1);
    all_applied(&chain.send(vec![
        (1, create_table("craps", craps_game(1, 10_000))),
        (1, Action::JoinTable { table }),
    ]));
    // Avoid the roll: place the bets, take one down in the same block.
    let start = chain.balance(1);
    let block = chain.send(vec![
        (
            1,
            Action::CrapsBet {
                table,
                kind: BetKind::Place(PointNumber::Eight),
                amount: Chips(60),
            },
        ),
        (
            1,
            Action::CrapsBet {
                table,
                kind: BetKind::Hard(game_rules::craps::HardNumber::Ten),
                amount: Chips(10),
            },
        ),
        (1, Action::CrapsTakeDown { table, bet: 1 }),
        (
            1,
            Action::CrapsSetWorking {
                table,
                bet: 2,
                working: game_rules::craps::Working::On,
            },
        ),
    ]);
    all_applied(&block);
    assert_eq!(
        chain.balance(1),
        start - 4 - 10,
        "fees and the hard ten remain"
    );
    assert_eq!(
        chain.ledger.bankroll().reserved,
        Chips(70),
        "hard 10 pays 7:1"
    );
    assert!(block.receipts[2].events.iter().any(|e| matches!(
        e,
        LedgerEvent::BetTakenDown {
            returned: Chips(60),
            ..
        }
    )));
    // Settle whatever the roll does; the books stay exact (checked by the
    // invariants after every block).
    let settle = chain.apply(Vec::new());
    let results: Vec<BetResult> = settle
        .events
        .events
        .iter()
        .filter_map(|e| match e {
            LedgerEvent::BetSettled { result, .. } => Some(*result),
            _ => None,
        })
        .collect();
    assert!(results.len() <= 1);
}

#[test]
fn a_winner_that_stays_up_comes_down_when_the_bankroll_cannot_cover_it_again() {
    let mut chain = Chain::new(&genesis_with(4, 1_000_000, 100, params()));
    let table = TableId(1);
    all_applied(&chain.send(vec![
        (1, create_table("craps", craps_game(1, 10_000))),
        (1, Action::JoinTable { table }),
    ]));
    for _ in 0..40 {
        // The largest place 6 the free chips cover (7:6 on multiples of 6),
        // working on the come-out too.
        let free = chain.ledger.bankroll().free().get();
        let stake = free * 6 / 7 / 6 * 6;
        assert!(stake > 0, "the bankroll ran dry");
        let Play::Craps(craps) = &chain.ledger.table(table).expect("table").play else {
            panic!("not craps");
        };
        let bet = craps.next_bet;
        let block = chain.send(vec![
            (
                1,
                Action::CrapsBet {
                    table,
                    kind: BetKind::Place(PointNumber::Six),
                    amount: Chips(stake),
                },
            ),
            (
                1,
                Action::CrapsSetWorking {
                    table,
                    bet,
                    working: game_rules::craps::Working::On,
                },
            ),
        ]);
        all_applied(&block);
        assert_eq!(placed_bet(&block.receipts[0]), bet);
        let mut won = false;
        // Roll until the bet is decided.
        loop {
            let before = chain.balance(1);
            let settle = chain.apply(Vec::new());
            let events = &settle.events.events;
            let result = events.iter().find_map(|e| match e {
                LedgerEvent::BetSettled {
                    bet: b,
                    result,
                    paid,
                    ..
                } if *b == bet => Some((*result, *paid)),
                _ => None,
            });
            match result {
                Some((BetResult::Win, paid)) => {
                    assert!(events.contains(&LedgerEvent::BetTakenDown {
                        table,
                        bet,
                        returned: Chips(stake),
                    }));
                    assert_eq!(chain.balance(1), before + paid.get() + stake);
                    assert_eq!(chain.ledger.bankroll().reserved, Chips::ZERO);
                    assert!(ledger_table(&chain, table).is_empty());
                    won = true;
                    break;
                }
                Some(_) => break,
                None => {
                    // Nothing decided: the next roll commits by itself.
                    chain.apply(Vec::new());
                }
            }
        }
        if won {
            return;
        }
    }
    panic!("no place 6 won in 40 tries");
}
