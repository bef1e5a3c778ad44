//! A realistic UI state built only through `App::update`, as a node would
//! drive it: a wallet, two tables, a crash round in progress, craps bets
//! and rolls, validators and blocks. The crash history's rounds carry real
//! threshold signatures from a testnet dealer (`node::client::testing`), so
//! the verify view checks genuine σ.

use consensus::hash::{Hash, TxHash};
use consensus::receipt::{BetResult, LedgerEvent, Wager};
use consensus::tx::{Action, TableGame, TableId};
use game_rules::craps::{BetKind, OddsLimit, PointNumber};
use game_rules::crash::Multiplier;
use game_rules::{Chips, Roll};
use node::api::{
    AccountInfo, ApiEvent, Game, HistoryEntry, LeaderboardEntry, NodeStatus, RoundInfo,
    RoundOutcome, RoundStatus, RoundSummary, TableInfo, ValidatorInfo,
};
use node::client::testing::{Beacon, chain, crashed_round};
use node::client::{Status, SubscriptionUpdate, WalletReply};
use tui::app::{Answer, App, Event, Key};
use wallet::{Address, Keypair};

pub const CRASH: TableId = TableId(1);
pub const CRAPS: TableId = TableId(2);

pub fn me() -> Address {
    Address::from_bytes([9; 20])
}

pub fn other(n: u8) -> Address {
    Address::from_bytes([n; 20])
}

pub fn status(height: u64) -> Status {
    Status {
        version: "0.1.0".into(),
        node: NodeStatus {
            chain_id: chain(),
            height: Some(height),
            block_hash: Some(Hash::new([1; 32])),
            epoch: 3,
            peers: 5,
            mempool_transactions: 2,
            min_fee: 1,
            syncing: false,
            sync: None,
        },
        wallet: Some(me()),
    }
}

pub fn tables() -> Vec<TableInfo> {
    vec![
        TableInfo {
            id: CRASH,
            name: "Moon".into(),
            owner: other(1),
            game: TableGame::Crash {
                min_bet: Chips(1),
                max_bet: Chips(1_000),
            },
            max_players: 10,
            players: vec![me(), other(1), other(2)],
            round: Some(42),
            shooter: None,
        },
        TableInfo {
            id: CRAPS,
            name: "Pit".into(),
            owner: other(1),
            game: TableGame::Craps {
                min_bet: Chips(5),
                max_bet: Chips(500),
                odds: OddsLimit::ThreeFourFive,
            },
            max_players: 8,
            players: vec![me()],
            round: Some(7),
            shooter: Some(me()),
        },
    ]
}

fn account() -> AccountInfo {
    let balance = |before, after| LedgerEvent::BalanceChanged {
        account: me(),
        before: Chips(before),
        after: Chips(after),
    };
    // (height, from a transaction, events): what the node's history holds.
    let history = [
        (
            120,
            true,
            vec![
                LedgerEvent::FaucetPaid {
                    account: me(),
                    amount: Chips(5_000),
                },
                balance(0, 5_000),
            ],
        ),
        (
            121,
            true,
            vec![
                balance(5_000, 4_999),
                LedgerEvent::PlayerJoined {
                    table: CRASH,
                    player: me(),
                },
            ],
        ),
        (
            130,
            true,
            vec![
                balance(4_999, 4_998),
                balance(4_998, 4_948),
                LedgerEvent::BetPlaced {
                    table: CRASH,
                    round: 41,
                    bet: 3,
                    player: me(),
                    wager: Wager::Crash {
                        auto_cash_out: None,
                    },
                    amount: Chips(50),
                },
            ],
        ),
        (
            131,
            false,
            vec![
                LedgerEvent::BetSettled {
                    table: CRASH,
                    round: 41,
                    bet: 3,
                    player: me(),
                    result: BetResult::Win,
                    paid: Chips(123),
                },
                balance(4_948, 5_071),
            ],
        ),
        (
            140,
            true,
            vec![
                balance(5_071, 5_070),
                balance(5_070, 4_870),
                LedgerEvent::Staked {
                    account: me(),
                    amount: Chips(200),
                },
            ],
        ),
    ];
    AccountInfo {
        address: me(),
        balance: 4_870,
        nonce: 7,
        pending_nonce: 7,
        stake: 200,
        bankroll_shares: 0,
        history: history
            .into_iter()
            .enumerate()
            .rev()
            .map(|(seq, (height, from_tx, events))| HistoryEntry {
                seq: seq as u64,
                height,
                tx: from_tx.then(|| TxHash::new([seq as u8; 32])),
                events,
            })
            .collect(),
        next_before: None,
    }
}

fn validators() -> Vec<ValidatorInfo> {
    (1..=4u8)
        .map(|n| {
            let key = Keypair::from_secret_bytes(&[n; 32]);
            ValidatorInfo {
                address: if n == 4 { me() } else { other(n + 20) },
                consensus_key: key.public_key(),
                stake: 10_000 + u64::from(n) * 500,
                unbonding: 0,
                active: n != 3,
                uptime: 1.0 - f64::from(n) / 100.0,
                missed_heights: u64::from(n) * 2,
                slashed: n == 3,
                slashed_amount: if n == 3 { 500 } else { 0 },
                network_address: format!("/ip4/127.0.0.1/tcp/{}", 7000 + u16::from(n)),
            }
        })
        .collect()
}

fn leaderboard() -> Vec<LeaderboardEntry> {
    [
        (other(3), 1_250),
        (me(), 73),
        (other(4), -40),
        (other(5), -310),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (address, net))| LeaderboardEntry {
        rank: i as u32 + 1,
        address,
        net_winnings: net,
        wagered: 1_000,
        bets: 12,
    })
    .collect()
}

fn table_event(table: TableId, game: Game, event: LedgerEvent) -> Event {
    Event::Subscription(SubscriptionUpdate::Event(Box::new(ApiEvent::Table {
        table,
        game,
        height: 1_234,
        event,
    })))
}

pub fn crash_event(event: LedgerEvent) -> Event {
    table_event(CRASH, Game::Crash, event)
}

pub fn craps_event(event: LedgerEvent) -> Event {
    table_event(CRAPS, Game::Craps, event)
}

fn roll(a: u8, b: u8) -> Roll {
    Roll::new(a, b).unwrap()
}

fn craps_round(roll_number: u64, dice: Roll, point: Option<u8>, seven_out: bool) -> RoundInfo {
    RoundInfo {
        summary: RoundSummary {
            table: CRAPS,
            round: roll_number,
            game: Game::Craps,
            status: RoundStatus::Settled,
            opened_height: roll_number,
            settled_height: Some(roll_number + 2),
            bets: 1,
            wagered: 10,
            paid: 0,
            outcome: Some(RoundOutcome::Rolled {
                dice: [dice.first.face(), dice.second.face()],
                total: dice.total(),
                point,
                seven_out,
            }),
        },
        randomness: Vec::new(),
        events: vec![LedgerEvent::DiceRolled {
            table: CRAPS,
            roll_number,
            dice,
            beacon_height: roll_number,
            point,
            seven_out,
        }],
    }
}

/// The app after start: node status, tables, account, leaderboard,
/// validators, ten blocks, crash history, a running crash round and a
/// craps table with bets, at app time 12,000 ms.
pub fn app() -> App {
    let mut app = App::new("http://127.0.0.1:7380");
    app.start();
    app.update(Event::Tick(100));
    app.update(Event::Subscription(SubscriptionUpdate::Connected {
        topics: Vec::new(),
    }));
    app.update(Event::Answer(Answer::Status(Ok(status(1_234)))));
    app.update(Event::Answer(Answer::Tables(Ok(tables()))));
    app.update(Event::Answer(Answer::Account(Ok(account()))));
    app.update(Event::Answer(Answer::Leaderboard(Ok(leaderboard()))));
    app.update(Event::Answer(Answer::Validators(Ok(validators()))));
    for i in 0..10u64 {
        app.update(Event::Tick(1_000 + i * 500));
        app.update(Event::Subscription(SubscriptionUpdate::Event(Box::new(
            ApiEvent::Block {
                height: 1_225 + i,
                hash: Hash::new([i as u8; 32]),
                timestamp_ms: 1_700_000_000_000 + i * 500 + (i % 3) * 40,
                transaction_count: i as u32,
            },
        ))));
    }
    let mut beacon = Beacon::new();
    let history: Vec<RoundInfo> = (37..=41)
        .rev()
        .map(|r| crashed_round(&mut beacon, CRASH, r))
        .collect();
    app.update(Event::Answer(Answer::RecentRounds {
        table: CRASH,
        rounds: Ok(history),
    }));
    // Round 42: bets, start, a tick, a cash-out.
    app.update(Event::Tick(6_000));
    app.update(crash_event(LedgerEvent::CrashBettingOpened {
        table: CRASH,
        round: 42,
        betting_ends_ms: 1_700_000_006_000,
    }));
    for (bet, player, amount, auto) in [
        (1, me(), 50, Some(250)),
        (2, other(1), 100, None),
        (3, other(2), 20, Some(150)),
    ] {
        app.update(crash_event(LedgerEvent::BetPlaced {
            table: CRASH,
            round: 42,
            bet,
            player,
            wager: Wager::Crash {
                auto_cash_out: auto,
            },
            amount: Chips(amount),
        }));
    }
    app.update(Event::Tick(8_000));
    app.update(crash_event(LedgerEvent::CrashRoundStarted {
        table: CRASH,
        round: 42,
        start_ms: 1_700_000_008_000,
    }));
    app.update(Event::Tick(11_000));
    app.update(crash_event(LedgerEvent::CrashTick {
        table: CRASH,
        round: 42,
        multiplier: Multiplier::at(3_000),
        elapsed_ms: 3_000,
    }));
    app.update(crash_event(LedgerEvent::CrashCashedOut {
        table: CRASH,
        round: 42,
        bet: 3,
        at: Multiplier::at(3_000),
    }));
    app.update(crash_event(LedgerEvent::BetSettled {
        table: CRASH,
        round: 42,
        bet: 3,
        player: other(2),
        result: BetResult::Win,
        paid: Multiplier::at(3_000).payout(Chips(20)).unwrap(),
    }));
    // Craps: the table's past rolls, then my bets and a roll.
    app.update(Event::Answer(Answer::RecentRounds {
        table: CRAPS,
        rounds: Ok(vec![
            craps_round(6, roll(3, 3), Some(6), false),
            craps_round(5, roll(5, 4), None, false),
            craps_round(4, roll(6, 1), None, true),
        ]),
    }));
    for (bet, kind, amount) in [
        (11, BetKind::Pass, 10),
        (12, BetKind::Place(PointNumber::Eight), 12),
        (13, BetKind::Field, 5),
        (14, BetKind::Hard(game_rules::craps::HardNumber::Six), 5),
    ] {
        app.update(craps_event(LedgerEvent::BetPlaced {
            table: CRAPS,
            round: 7,
            bet,
            player: me(),
            wager: Wager::Craps { kind },
            amount: Chips(amount),
        }));
    }
    app.update(craps_event(LedgerEvent::OddsChanged {
        table: CRAPS,
        bet: 11,
        before: Chips(0),
        after: Chips(50),
    }));
    app.update(craps_event(LedgerEvent::CrapsRollCommitted {
        table: CRAPS,
        roll_number: 7,
        height: 1_233,
    }));
    app.update(craps_event(LedgerEvent::DiceRolled {
        table: CRAPS,
        roll_number: 7,
        dice: roll(4, 4),
        beacon_height: 1_233,
        point: Some(6),
        seven_out: false,
    }));
    for (bet, result, paid) in [(12, BetResult::Win, 14), (13, BetResult::Lose, 0)] {
        app.update(craps_event(LedgerEvent::BetSettled {
            table: CRAPS,
            round: 7,
            bet,
            player: me(),
            result,
            paid: Chips(paid),
        }));
    }
    app.update(Event::Tick(12_000));
    // A sent bet, to show the status line.
    app.update(Event::Answer(Answer::Sent {
        action: Action::CrashBet {
            table: CRASH,
            amount: Chips(50),
            auto_cash_out: Some(250),
        },
        result: Ok(WalletReply {
            hash: Hash::new([0xab; 32]),
            nonce: 7,
            fee: 1,
            sender: me(),
            action: consensus::tx::Action::CrashBet {
                table: CRASH,
                amount: Chips(50),
                auto_cash_out: Some(250),
            },
            status: node::client::TxState::Pending,
        }),
    }));
    app
}

/// Presses `keys` in order.
pub fn press(app: &mut App, keys: &[Key]) {
    for key in keys {
        app.update(Event::Key(*key));
    }
}
