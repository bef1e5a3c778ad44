//! State updates: which requests keys and answers make, and what WebSocket
//! events do to the model.

use std::time::Duration;

use consensus::hash::Hash;
use consensus::receipt::{BetResult, LedgerEvent, Receipt, RejectReason, TxStatus, Wager};
use consensus::tx::{Action, TableGame, TableId};
use game_rules::craps::{BetKind, OddsLimit, PointNumber};
use game_rules::crash::Multiplier;
use game_rules::{Chips, Roll};
use node::api::{ApiEvent, Game, NodeStatus, TableInfo, Topic};
use node::client::{Status, SubscriptionUpdate};
use wallet::{Address, ChainId};

use super::*;
use crate::crash::{MAX_AHEAD_MS, Phase, RoundEnd};

const CRASH: TableId = TableId(1);
const CRAPS: TableId = TableId(2);

fn me() -> Address {
    Address::from_bytes([9; 20])
}

fn status(wallet: Option<Address>) -> Status {
    Status {
        version: "0.1.0".into(),
        node: NodeStatus {
            chain_id: ChainId::new([7; 32]),
            height: Some(10),
            block_hash: None,
            epoch: 1,
            peers: 3,
            mempool_transactions: 0,
            min_fee: 1,
            syncing: false,
            sync: None,
        },
        wallet,
    }
}

fn tables() -> Vec<TableInfo> {
    vec![
        TableInfo {
            id: CRASH,
            name: "Moon".into(),
            owner: me(),
            game: TableGame::Crash {
                min_bet: Chips(1),
                max_bet: Chips(1_000),
            },
            max_players: 10,
            players: vec![me()],
            round: Some(42),
            shooter: None,
        },
        TableInfo {
            id: CRAPS,
            name: "Pit".into(),
            owner: me(),
            game: TableGame::Craps {
                min_bet: Chips(5),
                max_bet: Chips(500),
                odds: OddsLimit::ThreeFourFive,
            },
            max_players: 8,
            players: vec![me()],
            round: None,
            shooter: Some(me()),
        },
    ]
}

/// An app that knows its wallet and tables.
fn ready_app() -> App {
    let mut app = App::new("http://127.0.0.1:7380");
    app.start();
    app.update(Event::Answer(Answer::Status(Ok(status(Some(me()))))));
    app.update(Event::Answer(Answer::Tables(Ok(tables()))));
    app
}

fn keys(app: &mut App, keys: &[Key]) -> Vec<Request> {
    keys.iter()
        .flat_map(|key| app.update(Event::Key(*key)))
        .collect()
}

fn typed(text: &str) -> Vec<Key> {
    text.chars().map(Key::Char).collect()
}

fn table_event(table: TableId, game: Game, event: LedgerEvent) -> Event {
    Event::Subscription(SubscriptionUpdate::Event(Box::new(ApiEvent::Table {
        table,
        game,
        height: 11,
        event,
    })))
}

#[test]
fn start_reads_the_node_and_subscribes() {
    let mut app = App::new("http://127.0.0.1:7380");
    let requests = app.start();
    assert!(requests.contains(&Request::Status));
    assert!(requests.contains(&Request::Tables));
    assert!(requests.contains(&Request::Subscribe(vec![Topic::Blocks, Topic::Leaderboard])));
}

#[test]
fn the_wallet_and_the_first_tables_are_followed() {
    let mut app = App::new("http://127.0.0.1:7380");
    app.start();
    let requests = app.update(Event::Answer(Answer::Status(Ok(status(Some(me()))))));
    assert_eq!(
        requests,
        [
            Request::Subscribe(vec![Topic::Receipts(me())]),
            Request::Account(me()),
        ]
    );
    let requests = app.update(Event::Answer(Answer::Tables(Ok(tables()))));
    assert_eq!(
        requests,
        [
            Request::Subscribe(vec![Topic::Crash(CRASH)]),
            Request::RecentRounds {
                table: CRASH,
                limit: crate::crash::HISTORY
            },
            Request::Round {
                table: CRASH,
                round: 42,
                purpose: RoundPurpose::Current
            },
            Request::Subscribe(vec![Topic::Craps(CRAPS)]),
            Request::RecentRounds {
                table: CRAPS,
                limit: crate::craps::HISTORY
            },
        ]
    );
    assert_eq!(
        (app.crash.table, app.craps.table),
        (Some(CRASH), Some(CRAPS))
    );
    // The same list again changes nothing.
    assert!(
        app.update(Event::Answer(Answer::Tables(Ok(tables()))))
            .is_empty()
    );
}

#[test]
fn crash_keys_bet_with_the_chosen_stake_and_target_and_cash_out() {
    let mut app = ready_app();
    let mut requests = keys(&mut app, &[Key::Char('+'), Key::Char('x')]);
    requests.extend(keys(&mut app, &typed("2.5")));
    requests.extend(keys(&mut app, &[Key::Enter]));
    assert!(requests.is_empty(), "{requests:?}");
    assert_eq!((app.crash.amount, app.crash.auto_cash_out), (25, Some(250)));
    assert_eq!(
        keys(&mut app, &[Key::Enter]),
        [Request::Send(vec![Action::CrashBet {
            table: CRASH,
            amount: Chips(25),
            auto_cash_out: Some(250)
        }])]
    );
    assert_eq!(
        keys(&mut app, &[Key::Char(' ')]),
        [Request::Send(vec![Action::CrashCashOut { table: CRASH }])]
    );
    // A custom stake, and a bad one that changes nothing.
    keys(&mut app, &[Key::Char('a')]);
    keys(&mut app, &typed("77"));
    keys(&mut app, &[Key::Enter, Key::Char('a')]);
    keys(&mut app, &typed("lots"));
    keys(&mut app, &[Key::Enter]);
    assert_eq!(app.crash.amount, 77);
    assert_eq!(app.notice.as_ref().unwrap().level, Level::Error);
}

#[test]
fn without_a_wallet_nothing_is_sent() {
    let mut app = App::new("http://127.0.0.1:7380");
    app.start();
    app.update(Event::Answer(Answer::Status(Ok(status(None)))));
    app.update(Event::Answer(Answer::Tables(Ok(tables()))));
    assert!(keys(&mut app, &[Key::Enter]).is_empty());
    let notice = app.notice.as_ref().unwrap();
    assert_eq!(notice.level, Level::Error);
    assert!(notice.text.contains("no wallet"), "{}", notice.text);
}

#[test]
fn craps_keys_choose_every_bet_kind() {
    let mut app = ready_app();
    app.show(Screen::Craps);
    keys(&mut app, &[Key::Char('6')]);
    assert_eq!(app.craps.selected_kind(), BetKind::Place(PointNumber::Six));
    keys(&mut app, &[Key::Char('h'), Key::Char('h')]);
    assert_eq!(
        app.craps.selected_kind(),
        BetKind::Hard(game_rules::craps::HardNumber::Six)
    );
    // Left from the first kind wraps to the last; Right walks all of them.
    keys(&mut app, &[Key::Char('p'), Key::Left]);
    assert_eq!(
        app.craps.selected_kind(),
        *crate::craps::kinds().last().unwrap()
    );
    let seen: std::collections::BTreeSet<String> = (0..crate::craps::kinds().len())
        .map(|_| {
            keys(&mut app, &[Key::Right]);
            app.craps.selected_kind().to_string()
        })
        .collect();
    assert_eq!(seen.len(), BetKind::all().count());
    keys(&mut app, &[Key::Char('d'), Key::Char('+'), Key::Char('+')]);
    assert_eq!(
        keys(&mut app, &[Key::Enter]),
        [Request::Send(vec![Action::CrapsBet {
            table: CRAPS,
            kind: BetKind::DontPass,
            amount: Chips(50)
        }])]
    );
}

#[test]
fn the_wallet_screen_joins_leaves_opens_tables_and_asks_the_faucet() {
    let mut app = ready_app();
    keys(&mut app, &[Key::Char('3')]);
    assert_eq!(
        keys(&mut app, &[Key::Char('j')]),
        [Request::Send(vec![Action::JoinTable { table: CRASH }])]
    );
    assert_eq!(
        keys(&mut app, &[Key::Down, Key::Char('l')]),
        [Request::Send(vec![Action::LeaveTable { table: CRAPS }])]
    );
    keys(&mut app, &[Key::Char('f')]);
    keys(&mut app, &typed("500"));
    assert_eq!(
        keys(&mut app, &[Key::Enter]),
        [Request::Send(vec![Action::Faucet { amount: Chips(500) }])]
    );
    keys(&mut app, &[Key::Char('n')]);
    keys(&mut app, &typed("craps High Rollers"));
    let requests = keys(&mut app, &[Key::Enter]);
    let [Request::Send(sent)] = requests.as_slice() else {
        panic!("{requests:?}");
    };
    let [Action::CreateTable { name, game, .. }] = sent.as_slice() else {
        panic!("{sent:?}");
    };
    assert_eq!(name.as_str(), "High Rollers");
    assert!(matches!(game, TableGame::Craps { .. }));
    // Bad input changes nothing and says why.
    for bad in ["roulette Big", "crash", "crash   "] {
        assert!(parse_new_table(bad).is_err(), "{bad}");
    }
    keys(&mut app, &[Key::Char('n')]);
    keys(&mut app, &typed("poker Night"));
    assert!(keys(&mut app, &[Key::Enter]).is_empty());
    assert!(app.current_notice().unwrap().text.contains("not a game"));
}

#[test]
fn a_bet_without_a_seat_takes_one_first_once() {
    let mut app = ready_app();
    for table in &mut app.tables {
        table.players.clear();
    }
    let bet = Action::CrashBet {
        table: CRASH,
        amount: Chips(app.crash.amount),
        auto_cash_out: None,
    };
    assert_eq!(
        keys(&mut app, &[Key::Enter]),
        [Request::Send(vec![
            Action::JoinTable { table: CRASH },
            bet.clone()
        ])]
    );
    // The seat is on its way: the next bet does not ask again …
    assert_eq!(
        keys(&mut app, &[Key::Enter]),
        [Request::Send(vec![bet.clone()])]
    );
    // … unless it was never seen taken within the retry bound.
    app.update(Event::Tick(app.now_ms + JOIN_RETRY_MS));
    let requests = keys(&mut app, &[Key::Enter]);
    assert!(
        requests.contains(&Request::Send(vec![
            Action::JoinTable { table: CRASH },
            bet
        ])),
        "{requests:?}"
    );
}

#[test]
fn the_multiplier_runs_between_ticks_and_snaps_to_the_ledger() {
    let mut app = ready_app();
    app.update(Event::Tick(1_000));
    app.update(table_event(
        CRASH,
        Game::Crash,
        LedgerEvent::CrashRoundStarted {
            table: CRASH,
            round: 42,
            start_ms: 0,
        },
    ));
    assert_eq!(app.crash.phase, Phase::Running);
    app.update(Event::Tick(1_700));
    assert_eq!(app.crash.live(app.now_ms), Some((Multiplier::at(700), 700)));
    // The tick at 600 ms arrives late: the display goes back to the ledger.
    app.update(table_event(
        CRASH,
        Game::Crash,
        LedgerEvent::CrashTick {
            table: CRASH,
            round: 42,
            multiplier: Multiplier::at(600),
            elapsed_ms: 600,
        },
    ));
    assert_eq!(app.crash.live(app.now_ms), Some((Multiplier::at(600), 600)));
    // A stalled chain: the animation holds MAX_AHEAD_MS past the last tick.
    app.update(Event::Tick(1_700 + 60_000));
    assert_eq!(
        app.crash.live(app.now_ms),
        Some((Multiplier::at(600 + MAX_AHEAD_MS), 600 + MAX_AHEAD_MS))
    );
    app.update(table_event(
        CRASH,
        Game::Crash,
        LedgerEvent::Crashed {
            table: CRASH,
            round: 42,
            at: Multiplier::from_hundredths(103).unwrap(),
            beacon_height: 12,
        },
    ));
    let at = Multiplier::from_hundredths(103).unwrap();
    assert_eq!(app.crash.phase, Phase::Crashed(at));
    assert_eq!(app.crash.history[0], (42, RoundEnd::Crashed(at)));
    assert_eq!(app.crash.live(app.now_ms), None);
}

#[test]
fn bets_and_cash_outs_of_the_round_are_tracked() {
    let mut app = ready_app();
    let other = Address::from_bytes([3; 20]);
    for (bet, player) in [(1, me()), (2, other)] {
        app.update(table_event(
            CRASH,
            Game::Crash,
            LedgerEvent::BetPlaced {
                table: CRASH,
                round: 42,
                bet,
                player,
                wager: Wager::Crash {
                    auto_cash_out: None,
                },
                amount: Chips(10),
            },
        ));
    }
    let at = Multiplier::from_hundredths(150).unwrap();
    app.update(table_event(
        CRASH,
        Game::Crash,
        LedgerEvent::CrashCashedOut {
            table: CRASH,
            round: 42,
            bet: 1,
            at,
        },
    ));
    assert_eq!(app.crash.bets.len(), 2);
    assert_eq!(app.crash.my_bet(Some(me())).unwrap().cashed_at, Some(at));
    assert!(
        app.notice
            .as_ref()
            .unwrap()
            .text
            .contains("cashed out at 1.50×")
    );
    // Events of another table are not this screen's.
    app.update(table_event(
        TableId(9),
        Game::Crash,
        LedgerEvent::CrashRoundStarted {
            table: TableId(9),
            round: 1,
            start_ms: 0,
        },
    ));
    assert_eq!(app.crash.round, Some(42));
}

/// The ledger's events for my craps bets `(id, kind)` of `amount` each.
fn place_my_craps_bets(app: &mut App, bets: &[(u64, BetKind)], amount: u64) {
    for &(bet, kind) in bets {
        app.update(table_event(
            CRAPS,
            Game::Craps,
            LedgerEvent::BetPlaced {
                table: CRAPS,
                round: 3,
                bet,
                player: me(),
                wager: Wager::Craps { kind },
                amount: Chips(amount),
            },
        ));
    }
}

#[test]
fn odds_and_take_down_act_on_the_bet_the_cursor_is_on() {
    let mut app = ready_app();
    keys(&mut app, &[Key::Char('2')]);
    for key in ['O', 'X'] {
        assert!(keys(&mut app, &[Key::Char(key)]).is_empty());
        assert!(
            app.current_notice()
                .unwrap()
                .text
                .contains("no bet of yours")
        );
    }
    place_my_craps_bets(
        &mut app,
        &[(7, BetKind::Pass), (8, BetKind::Field), (9, BetKind::Come)],
        10,
    );
    let odds = |bet| {
        [Request::Send(vec![Action::CrapsOdds {
            table: CRAPS,
            bet,
            amount: Chips(10),
        }])]
    };
    let take_down = |bet| {
        [Request::Send(vec![Action::CrapsTakeDown {
            table: CRAPS,
            bet,
        }])]
    };
    // The bet placed last has the cursor.
    assert_eq!(app.craps.selected_bet(), Some(9));
    assert_eq!(keys(&mut app, &[Key::Char('O')]), odds(9));
    // `[` moves up to the field bet, which takes no odds but comes down.
    assert!(keys(&mut app, &[Key::Char('[')]).is_empty());
    assert_eq!(app.craps.selected_bet(), Some(8));
    assert!(keys(&mut app, &[Key::Char('O')]).is_empty());
    let notice = &app.current_notice().unwrap().text;
    assert!(
        notice.contains("#8") && notice.contains("takes no odds"),
        "{notice}"
    );
    assert_eq!(keys(&mut app, &[Key::Char('X')]), take_down(8));
    // The cursor stops at either end.
    keys(&mut app, &[Key::Char('['), Key::Char('[')]);
    assert_eq!(app.craps.selected_bet(), Some(7));
    assert_eq!(keys(&mut app, &[Key::Char('O')]), odds(7));
    keys(&mut app, &[Key::Char(']'), Key::Char(']'), Key::Char(']')]);
    assert_eq!(app.craps.selected_bet(), Some(9));
    // When the chosen bet goes, the cursor falls back to my newest bet.
    keys(&mut app, &[Key::Char('[')]);
    app.update(table_event(
        CRAPS,
        Game::Craps,
        LedgerEvent::BetTakenDown {
            table: CRAPS,
            bet: 8,
            returned: Chips(10),
        },
    ));
    assert_eq!(app.craps.selected_bet(), Some(9));
    assert_eq!(keys(&mut app, &[Key::Char('X')]), take_down(9));
    // A new bet of mine takes the cursor.
    keys(&mut app, &[Key::Char('[')]);
    place_my_craps_bets(&mut app, &[(12, BetKind::DontPass)], 10);
    assert_eq!(app.craps.selected_bet(), Some(12));
}

#[test]
fn craps_rolls_resolve_my_bets() {
    let mut app = ready_app();
    place_my_craps_bets(
        &mut app,
        &[(1, BetKind::Place(PointNumber::Six)), (2, BetKind::Field)],
        6,
    );
    app.update(table_event(
        CRAPS,
        Game::Craps,
        LedgerEvent::CrapsRollCommitted {
            table: CRAPS,
            roll_number: 3,
            height: 11,
        },
    ));
    assert!(app.craps.in_air.is_some());
    let dice = Roll::new(4, 2).unwrap();
    app.update(table_event(
        CRAPS,
        Game::Craps,
        LedgerEvent::DiceRolled {
            table: CRAPS,
            roll_number: 3,
            dice,
            beacon_height: 11,
            point: Some(8),
            seven_out: false,
        },
    ));
    for (bet, result, paid) in [(1, BetResult::Win, 7), (2, BetResult::Lose, 0)] {
        app.update(table_event(
            CRAPS,
            Game::Craps,
            LedgerEvent::BetSettled {
                table: CRAPS,
                round: 3,
                bet,
                player: me(),
                result,
                paid: Chips(paid),
            },
        ));
    }
    assert_eq!(app.craps.in_air, None);
    assert_eq!(app.craps.point, Some(8));
    assert_eq!(app.craps.rolls[0], (3, dice, false));
    // A place bet stays up after a win; the field bet is gone.
    assert_eq!(app.craps.bets.len(), 1);
    assert_eq!(app.craps.bets[&1].last_win, Some(7));
    assert_eq!(
        app.craps.results,
        ["#3 field lost 6", "#3 place 6 won, paid 7"]
    );
}

#[test]
fn refusals_and_rejections_reach_the_status_line() {
    let mut app = ready_app();
    app.update(Event::Answer(Answer::Sent {
        action: Action::CrashCashOut { table: CRASH },
        result: Err(Failure {
            message: "you have no running bet on table 1".into(),
            unreachable: false,
        }),
    }));
    let notice = app.current_notice().unwrap();
    assert_eq!(notice.level, Level::Error);
    assert_eq!(
        notice.text,
        "cash-out refused: you have no running bet on table 1"
    );

    app.update(Event::Subscription(SubscriptionUpdate::Event(Box::new(
        ApiEvent::Receipt {
            account: me(),
            height: 12,
            receipt: Receipt {
                tx: Hash::new([1; 32]),
                status: TxStatus::Rejected {
                    reason: RejectReason::NotAtTable { table: CRASH },
                },
                fee_charged: Chips(1),
                events: consensus::encoding::BoundedVec::new(Vec::new()).unwrap(),
            },
        },
    ))));
    assert_eq!(
        app.current_notice().unwrap().text,
        "rejected by the ledger: not seated at table 1"
    );
    // Errors stay; information fades.
    app.update(Event::Tick(60_000));
    assert!(app.current_notice().is_some());
    app.notify(Level::Info, "hello");
    app.update(Event::Tick(120_000));
    assert!(app.current_notice().is_none());
}

#[test]
fn an_unreachable_node_and_a_lost_link_are_shown_then_recovered() {
    let mut app = ready_app();
    app.update(Event::Answer(Answer::Status(Err(Failure {
        message: "the node at 127.0.0.1:7380 is unreachable".into(),
        unreachable: true,
    }))));
    assert!(app.unreachable.is_some());
    app.update(Event::Subscription(SubscriptionUpdate::Connected {
        topics: Vec::new(),
    }));
    app.update(Event::Subscription(SubscriptionUpdate::Disconnected {
        reason: "connection refused".into(),
        attempt: 2,
        retry_in: Duration::from_millis(500),
    }));
    assert!(matches!(app.link, Link::Reconnecting { attempt: 2, .. }));
    app.update(Event::Answer(Answer::Status(Ok(status(Some(me()))))));
    assert_eq!(app.unreachable, None);
    app.update(Event::Tick(3_000));
    // Back: everything is read again, since events were missed.
    let requests = app.update(Event::Subscription(SubscriptionUpdate::Connected {
        topics: Vec::new(),
    }));
    assert_eq!(app.link, Link::Live);
    assert!(requests.contains(&Request::Status));
    assert!(requests.contains(&Request::Tables));
    assert!(requests.contains(&Request::Subscribe(vec![Topic::Crash(CRASH)])));
    assert!(requests.contains(&Request::Account(me())));
}

#[test]
fn transfers_are_typed_in_two_steps() {
    let mut app = ready_app();
    keys(&mut app, &[Key::Char('3')]);
    assert_eq!(app.screen, Screen::Wallet);
    keys(&mut app, &[Key::Char('t')]);
    let to = Address::from_bytes([4; 20]);
    keys(&mut app, &typed(&to.to_string()));
    keys(&mut app, &[Key::Enter]);
    assert_eq!(
        app.prompt.as_ref().map(|p| p.kind.clone()),
        Some(PromptKind::TransferAmount { to })
    );
    keys(&mut app, &typed("12"));
    assert_eq!(
        keys(&mut app, &[Key::Enter]),
        [Request::Send(vec![Action::Transfer {
            to,
            amount: Chips(12)
        }])]
    );
    // Esc abandons a prompt; Enter on a table opens it on its screen.
    keys(&mut app, &[Key::Char('t'), Key::Esc]);
    assert_eq!(app.prompt, None);
    keys(&mut app, &[Key::Down, Key::Enter]);
    assert_eq!(app.screen, Screen::Craps);
}

#[test]
fn reads_are_repeated_on_a_schedule() {
    let mut app = ready_app();
    assert!(app.update(Event::Tick(1_000)).is_empty());
    assert_eq!(app.update(Event::Tick(2_000)), [Request::Status]);
    assert_eq!(
        app.update(Event::Tick(5_000)),
        [Request::Status, Request::Tables]
    );
    // A block makes the account worth reading again, at most once a second.
    let block = |height| {
        Event::Subscription(SubscriptionUpdate::Event(Box::new(ApiEvent::Block {
            height,
            hash: Hash::ZERO,
            timestamp_ms: height * 500,
            transaction_count: 0,
        })))
    };
    assert_eq!(app.update(block(11)), [Request::Account(me())]);
    assert!(app.update(block(12)).is_empty());
    assert_eq!(app.update(Event::Tick(6_100)), [Request::Account(me())]);
    assert_eq!(app.validator.rate(), Some((2.0, 500)));
    // The validator set is read while its screen is shown.
    assert_eq!(keys(&mut app, &[Key::Char('4')]), [Request::Validators]);
}

#[test]
fn quitting() {
    let mut app = ready_app();
    keys(&mut app, &[Key::Char('?')]);
    assert!(app.help);
    keys(&mut app, &[Key::Char('q')]);
    assert!(!app.help && !app.quit, "the first key closes the help");
    keys(&mut app, &[Key::Char('q')]);
    assert!(app.quit);
    let mut app = ready_app();
    keys(&mut app, &[Key::Char('x'), Key::Interrupt]);
    assert!(app.quit, "Ctrl-C quits even from a prompt");
}

#[test]
fn multipliers_are_parsed_in_hundredths() {
    assert_eq!(parse_multiplier(""), Ok(None));
    assert_eq!(parse_multiplier("2"), Ok(Some(200)));
    assert_eq!(parse_multiplier("2.5"), Ok(Some(250)));
    assert_eq!(parse_multiplier("2.31x"), Ok(Some(231)));
    assert_eq!(parse_multiplier("1000000"), Ok(Some(100_000_000)));
    for bad in ["1", "1.00", "0.5", "2.345", "abc", "-3", "1000000.01"] {
        assert!(parse_multiplier(bad).is_err(), "{bad}");
    }
    assert_eq!(parse_amount("10"), Ok(10));
    assert!(parse_amount("0").is_err());
}
