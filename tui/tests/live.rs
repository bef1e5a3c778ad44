//! The UI's state, its executor and the real API together, without a
//! terminal: a node's `ApiServer` on `127.0.0.1:0` in front of a small
//! in-memory node, driven by key presses. A bet and a cash-out travel from
//! a key to the node's wallet, WebSocket events move the crash screen, and
//! a node that goes away shows in the status line.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use consensus::block::Block;
use consensus::hash::{BlockHash, Hash, TxHash};
use consensus::receipt::{LedgerEvent, Wager};
use consensus::tx::{Action, SignedTransaction, TableGame, TableId};
use game_rules::Chips;
use game_rules::craps::OddsLimit;
use game_rules::crash::Multiplier;
use node::api::{
    AccountInfo, ApiConfig, ApiEvent, ApiServer, BankrollInfo, EventBatch, Game, LeaderboardEntry,
    NodeStatus, NodeView, NodeWallet, OpenBet, Page, RoundInfo, RoundSummary, SubmitError,
    TableInfo, TxRecord, ValidatorInfo, ViewError, WalletSubmission,
};
use node::client::{ApiClient, Backoff};
use node::metrics::Metrics;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::{broadcast, mpsc};
use tui::app::{App, Event, Key, Level, Link};
use tui::client::Executor;
use tui::crash::Phase;
use wallet::{Address, ChainId};

const CRASH: TableId = TableId(1);

fn me() -> Address {
    Address::from_bytes([9; 20])
}

struct Node;

impl NodeView for Node {
    fn chain_id(&self) -> ChainId {
        ChainId::new([7; 32])
    }

    fn status(&self) -> Result<NodeStatus, ViewError> {
        Ok(NodeStatus {
            chain_id: self.chain_id(),
            height: Some(10),
            block_hash: Some(Hash::ZERO),
            epoch: 1,
            peers: 3,
            mempool_transactions: 0,
            min_fee: 1,
            syncing: false,
            sync: None,
        })
    }

    fn block_by_height(&self, _: u64) -> Result<Option<Block>, ViewError> {
        Ok(None)
    }

    fn block_by_hash(&self, _: &BlockHash) -> Result<Option<Block>, ViewError> {
        Ok(None)
    }

    fn finality_proof(&self, _: u64) -> Result<Option<Vec<u8>>, ViewError> {
        Ok(None)
    }

    fn transaction(&self, _: &TxHash) -> Result<Option<TxRecord>, ViewError> {
        Ok(None)
    }

    fn account(&self, address: &Address, _: Page) -> Result<AccountInfo, ViewError> {
        Ok(AccountInfo {
            address: *address,
            balance: 1_000,
            nonce: 0,
            pending_nonce: 0,
            stake: 0,
            bankroll_shares: 0,
            history: Vec::new(),
            next_before: None,
        })
    }

    fn validators(&self) -> Result<Vec<ValidatorInfo>, ViewError> {
        Ok(Vec::new())
    }

    fn tables(&self) -> Result<Vec<TableInfo>, ViewError> {
        Ok(vec![
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
                round: None,
                shooter: None,
            },
            TableInfo {
                id: TableId(2),
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
        ])
    }

    fn table_rounds(&self, _: TableId, _: Page) -> Result<Option<Vec<RoundSummary>>, ViewError> {
        Ok(Some(Vec::new()))
    }

    fn table_bets(
        &self,
        _: TableId,
        _: Option<&Address>,
    ) -> Result<Option<Vec<OpenBet>>, ViewError> {
        Ok(Some(Vec::new()))
    }

    fn round(&self, _: TableId, _: u64) -> Result<Option<RoundInfo>, ViewError> {
        Ok(None)
    }

    fn leaderboard(&self, _: Option<Game>, _: usize) -> Result<Vec<LeaderboardEntry>, ViewError> {
        Ok(Vec::new())
    }

    fn bankroll(&self) -> Result<BankrollInfo, ViewError> {
        Err(ViewError::Unavailable("not needed here".into()))
    }

    fn submit_transaction(&self, _: SignedTransaction) -> Result<TxHash, SubmitError> {
        Err(SubmitError::NotReady("not needed here".into()))
    }
}

/// Takes bets; refuses cash-outs as the ledger would before the round runs.
#[derive(Default)]
struct Wallet {
    actions: Mutex<Vec<Action>>,
}

impl NodeWallet for Wallet {
    fn address(&self) -> Address {
        me()
    }

    fn submit_action(
        &self,
        action: Action,
        _: Option<Chips>,
    ) -> Result<WalletSubmission, SubmitError> {
        if matches!(action, Action::CrashCashOut { .. }) {
            return Err(SubmitError::Refused(
                "you have no running bet on table 1".into(),
            ));
        }
        let mut actions = self.actions.lock().unwrap();
        actions.push(action);
        Ok(WalletSubmission {
            hash: Hash::new([actions.len() as u8; 32]),
            nonce: actions.len() as u64,
            fee: 1,
        })
    }
}

/// The UI without a terminal: the app, its executor and the answers.
struct Ui {
    app: App,
    executor: Executor,
    answers: mpsc::UnboundedReceiver<Event>,
    clock: u64,
}

impl Ui {
    fn start(client: ApiClient) -> Ui {
        let (events, answers) = mpsc::unbounded_channel();
        let executor = Executor::new(client, events);
        let mut app = App::new("http://test");
        for request in app.start() {
            executor.execute(request);
        }
        Ui {
            app,
            executor,
            answers,
            clock: 0,
        }
    }

    fn apply(&mut self, event: Event) {
        for request in self.app.update(event) {
            self.executor.execute(request);
        }
    }

    fn key(&mut self, key: Key) {
        self.apply(Event::Key(key));
    }

    /// Feeds answers, updates and 50 ms ticks until `done` holds.
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut ticker = tokio::time::interval(Duration::from_millis(50));
        while !done(&self.app) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}: {:#?}",
                self.app.notice
            );
            let event = tokio::select! {
                _ = ticker.tick() => {
                    self.clock += 50;
                    Event::Tick(self.clock)
                }
                Some(event) = self.answers.recv() => event,
                Some(update) = self.executor.next_update() => Event::Subscription(update),
            };
            self.apply(event);
        }
    }

    fn screen(&self) -> String {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal
            .draw(|frame| tui::ui::render(frame, &self.app))
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..24)
            .map(|y| (0..80).map(|x| buffer[(x, y)].symbol()).collect::<String>() + "\n")
            .collect()
    }
}

fn crash(event: LedgerEvent) -> ApiEvent {
    ApiEvent::Table {
        table: CRASH,
        game: Game::Crash,
        height: 11,
        event,
    }
}

#[tokio::test]
async fn keys_reach_the_wallet_and_events_reach_the_screen() {
    let dir = tempfile::tempdir().unwrap();
    let cookie = dir.path().join("api.cookie");
    let wallet = Arc::new(Wallet::default());
    let (events, _) = broadcast::channel(64);
    let (addr, handle) = ApiServer::bind(
        ApiConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            cookie_file: cookie.clone(),
            ..ApiConfig::default()
        },
        Arc::new(Node),
        Some(wallet.clone()),
        events.clone(),
        Arc::new(Metrics::new()),
    )
    .await
    .unwrap();
    let client = ApiClient::new(&format!("http://{addr}"))
        .unwrap()
        .with_cookie(&cookie)
        .with_backoff(Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
        });
    let mut ui = Ui::start(client);
    ui.until("the node, its tables and the link", |app| {
        app.link == Link::Live && app.crash.table == Some(CRASH) && app.account.is_some()
    })
    .await;
    // The table's topic is subscribed once the server confirms; give it a
    // moment, then drive a round.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for event in [
        crash(LedgerEvent::CrashBettingOpened {
            table: CRASH,
            round: 5,
            betting_ends_ms: 0,
        }),
        crash(LedgerEvent::BetPlaced {
            table: CRASH,
            round: 5,
            bet: 1,
            player: me(),
            wager: Wager::Crash {
                auto_cash_out: Some(200),
            },
            amount: Chips(10),
        }),
        crash(LedgerEvent::CrashRoundStarted {
            table: CRASH,
            round: 5,
            start_ms: 0,
        }),
        crash(LedgerEvent::CrashTick {
            table: CRASH,
            round: 5,
            multiplier: Multiplier::at(1_000),
            elapsed_ms: 1_000,
        }),
    ] {
        events.send(EventBatch::from(vec![event])).unwrap();
    }
    ui.until("the running round", |app| {
        app.crash.phase == Phase::Running && app.crash.my_bet(Some(me())).is_some()
    })
    .await;
    let screen = ui.screen();
    assert!(screen.contains("round 5 · running"), "{screen}");
    assert!(screen.contains("bet 10 · in, auto 2.00×"), "{screen}");

    ui.key(Key::Char('+'));
    ui.key(Key::Enter);
    ui.until("the bet to be sent", |app| {
        app.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("sent (tx"))
    })
    .await;
    assert_eq!(
        *wallet.actions.lock().unwrap(),
        [Action::CrashBet {
            table: CRASH,
            amount: Chips(25),
            auto_cash_out: None,
        }]
    );
    ui.key(Key::Char(' '));
    ui.until("the refused cash-out", |app| {
        app.notice.as_ref().is_some_and(|n| n.level == Level::Error)
    })
    .await;
    let screen = ui.screen();
    assert!(
        screen.contains("cash-out refused: you have no running bet on table 1"),
        "{screen}"
    );

    // The node goes away: the status line says so, and nothing panics.
    handle.shutdown().await.unwrap();
    ui.until("the lost link", |app| {
        matches!(app.link, Link::Reconnecting { .. })
    })
    .await;
    assert!(ui.screen().contains("reconnecting (attempt"));
}
