//! # App state
//!
//! [`App`] is the whole model of the UI. It changes only in
//! [`App::update`], from one [`Event`] at a time — a key press, an API
//! answer, a WebSocket update or a clock tick — and answers with the
//! [`Request`]s to send to the node. Nothing here does I/O or reads a
//! clock, so every state change is a unit test and every screen renders
//! from a state built in a test.
//!
//! The UI only shows what the node reports and asks the node to act: it
//! holds no key, builds no transaction and decides no outcome. What it
//! computes itself is display: the crash curve between ticks (from the
//! game rules' exact multiplier), rates, and the offline check of a
//! round's randomness ([`crate::verify`]).

use std::collections::BTreeMap;

use consensus::receipt::LedgerEvent;
use consensus::tx::{Action, TableGame, TableId, TableName};
use game_rules::Chips;
use node::api::{
    AccountInfo, ApiEvent, Game, LeaderboardEntry, RoundInfo, TableInfo, Topic, ValidatorInfo,
};
use node::client::{ClientError, Status, SubscriptionUpdate, WalletReply};
use wallet::Address;

use crate::craps::CrapsState;
use crate::crash::CrashState;
use crate::validator::ValidatorState;
use crate::wallet::WalletState;

/// How often the node's status is re-read, ms.
const STATUS_EVERY_MS: u64 = 2_000;
/// How often the table list is re-read, ms.
const TABLES_EVERY_MS: u64 = 5_000;
/// The fewest ms between two account reads (blocks trigger them).
const ACCOUNT_EVERY_MS: u64 = 1_000;
/// How often the validator set is re-read while its screen is shown, ms.
const VALIDATORS_EVERY_MS: u64 = 3_000;
/// How long an informational notice stays in the status line, ms.
const NOTICE_MS: u64 = 6_000;

/// A key press, as the UI sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Enter.
    Enter,
    /// Escape.
    Esc,
    /// Backspace.
    Backspace,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Ctrl-C: quit from anywhere.
    Interrupt,
}

/// Why a call to the node failed, as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The node's message, or what went wrong reaching it.
    pub message: String,
    /// The node could not be reached at all (down, or not answering).
    pub unreachable: bool,
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Failure {
        let unreachable = matches!(
            error,
            ClientError::Unreachable { .. } | ClientError::Timeout(_) | ClientError::Http(_)
        );
        let message = match &error {
            // The node's message already says what to do; the code is for programs.
            ClientError::Api { message, .. } => message.clone(),
            other => other.to_string(),
        };
        Failure {
            message,
            unreachable,
        }
    }
}

/// Why a round was fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundPurpose {
    /// The crash round in progress, to show the bets already in it.
    Current,
    /// To verify its outcome offline.
    Verify,
}

/// The seats and limits of a table opened from the wallet screen.
const NEW_TABLE_SEATS: u16 = 8;
/// The bet limits of a table opened from the wallet screen, chips.
const NEW_TABLE_LIMITS: (u64, u64) = (1, 1_000);

/// Reads `crash NAME` or `craps NAME` into a table to open.
pub fn parse_new_table(text: &str) -> Result<Action, String> {
    let (game, name) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    let (min_bet, max_bet) = (Chips(NEW_TABLE_LIMITS.0), Chips(NEW_TABLE_LIMITS.1));
    let game = match game {
        "crash" => TableGame::Crash { min_bet, max_bet },
        "craps" => TableGame::Craps {
            min_bet,
            max_bet,
            odds: game_rules::craps::OddsLimit::ThreeFourFive,
        },
        other => {
            return Err(format!(
                "{other:?} is not a game; type crash NAME or craps NAME"
            ));
        }
    };
    if name.trim().is_empty() {
        return Err("the table needs a name; type crash NAME or craps NAME".into());
    }
    let name = TableName::new(name.trim().to_owned())
        .map_err(|e| format!("not a table name ({e}); type crash NAME or craps NAME"))?;
    Ok(Action::CreateTable {
        name,
        max_players: NEW_TABLE_SEATS,
        game,
    })
}

/// How long a seat asked for is taken for granted before a bet asks again.
pub const JOIN_RETRY_MS: u64 = 10_000;

/// A few words for the status line about a wallet action.
pub fn describe(action: &Action) -> String {
    match action {
        Action::CrashBet {
            amount,
            auto_cash_out,
            ..
        } => match auto_cash_out {
            Some(h) => format!("crash bet of {amount} (auto {}.{:02}×)", h / 100, h % 100),
            None => format!("crash bet of {amount}"),
        },
        Action::CrashCashOut { .. } => "cash-out".to_owned(),
        Action::CrapsBet { kind, amount, .. } => format!("{kind} bet of {amount}"),
        Action::Transfer { to, amount } => {
            format!("transfer of {amount} to {}", crate::ui::short_address(to))
        }
        Action::Stake { amount } => format!("stake of {amount}"),
        Action::JoinTable { table } => format!("seat at table {}", table.0),
        Action::LeaveTable { table } => format!("leaving table {}", table.0),
        Action::CreateTable { name, game, .. } => {
            let kind = match game {
                TableGame::Crash { .. } => "crash",
                TableGame::Craps { .. } => "craps",
            };
            format!("new {kind} table {name:?}")
        }
        Action::Faucet { amount } => format!("faucet request of {amount}"),
        Action::CrapsOdds { bet, amount, .. } => format!("odds of {amount} behind bet #{bet}"),
        Action::CrapsTakeDown { bet, .. } => format!("take-down of bet #{bet}"),
        other => other.name().replace('_', " "),
    }
}

/// What the UI asks of the node ([`crate::client`] carries it out and
/// answers with an [`Answer`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `GET /v1/status`.
    Status,
    /// `GET /v1/accounts/{address}`.
    Account(Address),
    /// `GET /v1/tables`.
    Tables,
    /// `GET /v1/leaderboard` (overall).
    Leaderboard,
    /// `GET /v1/validators`.
    Validators,
    /// The last `limit` rounds of a table, each in full.
    RecentRounds {
        /// The table.
        table: TableId,
        /// How many.
        limit: usize,
    },
    /// One round in full.
    Round {
        /// The table.
        table: TableId,
        /// The round.
        round: u64,
        /// Why.
        purpose: RoundPurpose,
    },
    /// Wallet actions, submitted one after the other in this order (so
    /// their nonces are too: a seat is taken before the bet that needs it).
    Send(Vec<Action>),
    /// Add WebSocket topics.
    Subscribe(Vec<Topic>),
    /// Drop WebSocket topics.
    Unsubscribe(Vec<Topic>),
}

/// An answer to a [`Request`].
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // A few answers a second, each moved once; boxing buys nothing.
pub enum Answer {
    /// To [`Request::Status`].
    Status(Result<Status, Failure>),
    /// To [`Request::Account`].
    Account(Result<AccountInfo, Failure>),
    /// To [`Request::Tables`].
    Tables(Result<Vec<TableInfo>, Failure>),
    /// To [`Request::Leaderboard`].
    Leaderboard(Result<Vec<LeaderboardEntry>, Failure>),
    /// To [`Request::Validators`].
    Validators(Result<Vec<ValidatorInfo>, Failure>),
    /// To [`Request::RecentRounds`], newest first.
    RecentRounds {
        /// The table.
        table: TableId,
        /// The rounds.
        rounds: Result<Vec<RoundInfo>, Failure>,
    },
    /// To [`Request::Round`].
    Round {
        /// Why it was asked.
        purpose: RoundPurpose,
        /// The round.
        round: Result<RoundInfo, Failure>,
    },
    /// To [`Request::Send`].
    Sent {
        /// What was asked.
        action: Action,
        /// What the node did.
        result: Result<WalletReply, Failure>,
    },
}

/// Something that changes the state.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // Moved once into `App::update`; boxing buys nothing.
pub enum Event {
    /// A key was pressed.
    Key(Key),
    /// Time passed: the app's clock, ms since it started.
    Tick(u64),
    /// The node answered a request.
    Answer(Answer),
    /// The WebSocket subscription reported something.
    Subscription(SubscriptionUpdate),
}

/// The screens, in tab order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// The crash game.
    Crash,
    /// The craps table.
    Craps,
    /// Balance, history, transfer, leaderboard, tables.
    Wallet,
    /// Stake, epoch, peers, finalization, validators.
    Validator,
}

impl Screen {
    /// Every screen, in tab order.
    pub const ALL: [Screen; 4] = [
        Screen::Crash,
        Screen::Craps,
        Screen::Wallet,
        Screen::Validator,
    ];

    /// The tab title.
    pub const fn title(self) -> &'static str {
        match self {
            Screen::Crash => "Crash",
            Screen::Craps => "Craps",
            Screen::Wallet => "Wallet",
            Screen::Validator => "Validator",
        }
    }

    fn index(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// How bad a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something happened.
    Info,
    /// Something was refused or failed.
    Error,
}

/// A message in the status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The text.
    pub text: String,
    /// How bad.
    pub level: Level,
    /// When it was posted (app clock).
    pub at_ms: u64,
}

/// The state of the WebSocket link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// Not connected yet.
    Connecting,
    /// Connected and subscribed.
    Live,
    /// Lost; reconnecting.
    Reconnecting {
        /// Why it was lost.
        reason: String,
        /// Failed attempts in a row.
        attempt: u32,
        /// When the next attempt is (app clock).
        retry_at_ms: u64,
    },
}

/// What a text prompt is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// The crash stake.
    CrashAmount,
    /// The crash auto-cash-out target ("2.5"; empty for none).
    AutoCashOut,
    /// The craps stake.
    CrapsAmount,
    /// The receiver of a transfer.
    TransferTo,
    /// The amount of a transfer to `to`.
    TransferAmount {
        /// The receiver.
        to: Address,
    },
    /// An amount of stake to bond.
    Stake,
    /// Chips to ask the faucet for.
    Faucet,
    /// A new table: `crash <name>` or `craps <name>`.
    NewTable,
}

impl PromptKind {
    /// The question shown.
    pub fn question(&self) -> &'static str {
        match self {
            PromptKind::CrashAmount | PromptKind::CrapsAmount => "Stake (chips)",
            PromptKind::AutoCashOut => "Auto cash-out (e.g. 2.5; empty: none)",
            PromptKind::TransferTo => "Send to (craps1… address)",
            PromptKind::TransferAmount { .. } => "Amount (chips)",
            PromptKind::Stake => "Stake to bond (chips)",
            PromptKind::Faucet => "Chips from the faucet",
            PromptKind::NewTable => "New table: crash NAME or craps NAME",
        }
    }
}

/// A text prompt being typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// What it is for.
    pub kind: PromptKind,
    /// What was typed.
    pub text: String,
}

/// When each periodic read was last sent (app clock), and which are in
/// flight, so a slow node is not flooded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Refresh {
    status_at: Option<u64>,
    tables_at: Option<u64>,
    account_at: Option<u64>,
    validators_at: Option<u64>,
    account_due: bool,
}

fn due(last: Option<u64>, now: u64, every: u64) -> bool {
    last.is_none_or(|at| now.saturating_sub(at) >= every)
}

/// The UI's whole state.
#[derive(Clone, Debug, PartialEq)]
pub struct App {
    /// The screen shown.
    pub screen: Screen,
    /// The app clock, ms since start (from [`Event::Tick`]).
    pub now_ms: u64,
    /// The API address, for the header.
    pub api: String,
    /// The node's status, once read.
    pub node: Option<Status>,
    /// Whether the last REST call failed to reach the node, and why.
    pub unreachable: Option<String>,
    /// The WebSocket link.
    pub link: Link,
    /// The last notice.
    pub notice: Option<Notice>,
    /// The node wallet's account, once read.
    pub account: Option<AccountInfo>,
    /// Every open table.
    pub tables: Vec<TableInfo>,
    /// The crash screen.
    pub crash: CrashState,
    /// The craps screen.
    pub craps: CrapsState,
    /// The wallet screen.
    pub wallet: WalletState,
    /// The validator screen.
    pub validator: ValidatorState,
    /// The open text prompt.
    pub prompt: Option<Prompt>,
    /// Whether the key help is shown.
    pub help: bool,
    /// Set when the user quits.
    pub quit: bool,
    /// Tables a seat was asked for and not yet seen taken, with when (app
    /// clock): asked again after [`JOIN_RETRY_MS`] in case it was refused.
    joining: BTreeMap<TableId, u64>,
    refresh: Refresh,
}

impl App {
    /// A new UI for the API at `api` (shown in the header).
    pub fn new(api: impl Into<String>) -> App {
        App {
            screen: Screen::Crash,
            now_ms: 0,
            api: api.into(),
            node: None,
            unreachable: None,
            link: Link::Connecting,
            notice: None,
            account: None,
            tables: Vec::new(),
            crash: CrashState::default(),
            craps: CrapsState::default(),
            wallet: WalletState::default(),
            validator: ValidatorState::default(),
            prompt: None,
            help: false,
            quit: false,
            joining: BTreeMap::new(),
            refresh: Refresh::default(),
        }
    }

    /// What to ask the node at start.
    pub fn start(&mut self) -> Vec<Request> {
        self.refresh.status_at = Some(self.now_ms);
        self.refresh.tables_at = Some(self.now_ms);
        vec![
            Request::Status,
            Request::Tables,
            Request::Leaderboard,
            Request::Subscribe(vec![Topic::Blocks, Topic::Leaderboard]),
        ]
    }

    /// The node wallet's address, once known.
    pub fn me(&self) -> Option<Address> {
        self.node.as_ref().and_then(|s| s.wallet)
    }

    /// The table `id`, if listed.
    pub fn table(&self, id: TableId) -> Option<&TableInfo> {
        self.tables.iter().find(|t| t.id == id)
    }

    /// Posts a notice.
    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            level,
            at_ms: self.now_ms,
        });
    }

    /// The notice to show now: errors stay until replaced, information
    /// fades after a few seconds.
    pub fn current_notice(&self) -> Option<&Notice> {
        self.notice
            .as_ref()
            .filter(|n| n.level == Level::Error || self.now_ms.saturating_sub(n.at_ms) < NOTICE_MS)
    }

    /// Applies one event; returns what to ask the node.
    pub fn update(&mut self, event: Event) -> Vec<Request> {
        match event {
            Event::Key(key) => self.key(key),
            Event::Tick(now) => self.tick(now),
            Event::Answer(answer) => self.answer(answer),
            Event::Subscription(update) => self.subscription(update),
        }
    }

    fn tick(&mut self, now: u64) -> Vec<Request> {
        self.now_ms = self.now_ms.max(now);
        let mut requests = Vec::new();
        if due(self.refresh.status_at, now, STATUS_EVERY_MS) {
            self.refresh.status_at = Some(now);
            requests.push(Request::Status);
        }
        if due(self.refresh.tables_at, now, TABLES_EVERY_MS) {
            self.refresh.tables_at = Some(now);
            requests.push(Request::Tables);
        }
        if self.screen == Screen::Validator
            && due(self.refresh.validators_at, now, VALIDATORS_EVERY_MS)
        {
            self.refresh.validators_at = Some(now);
            requests.push(Request::Validators);
        }
        requests.extend(self.account_if_due());
        requests
    }

    /// The account read, if one is wanted and the last is not too recent.
    fn account_if_due(&mut self) -> Option<Request> {
        let me = self.me()?;
        if self.refresh.account_due && due(self.refresh.account_at, self.now_ms, ACCOUNT_EVERY_MS) {
            self.refresh.account_due = false;
            self.refresh.account_at = Some(self.now_ms);
            return Some(Request::Account(me));
        }
        None
    }

    fn key(&mut self, key: Key) -> Vec<Request> {
        if key == Key::Interrupt {
            self.quit = true;
            return Vec::new();
        }
        if self.prompt.is_some() {
            return self.prompt_key(key);
        }
        if self.help {
            self.help = false;
            return Vec::new();
        }
        if self.screen == Screen::Crash && self.crash.verify.is_some() {
            if matches!(key, Key::Esc | Key::Char('v') | Key::Char('q')) {
                self.crash.verify = None;
            }
            return Vec::new();
        }
        match key {
            Key::Char('q') => {
                self.quit = true;
                return Vec::new();
            }
            Key::Char('?') => {
                self.help = true;
                return Vec::new();
            }
            Key::Char(c @ '1'..='4') if self.screen != Screen::Craps => {
                return self.show(Screen::ALL[c as usize - '1' as usize]);
            }
            Key::Tab => return self.show(Screen::ALL[(self.screen.index() + 1) % 4]),
            Key::BackTab => return self.show(Screen::ALL[(self.screen.index() + 3) % 4]),
            Key::Esc => {
                self.notice = None;
                return Vec::new();
            }
            _ => {}
        }
        match self.screen {
            Screen::Crash => crate::crash::key(self, key),
            Screen::Craps => crate::craps::key(self, key),
            Screen::Wallet => crate::wallet::key(self, key),
            Screen::Validator => crate::validator::key(self, key),
        }
    }

    /// Switches to `screen`.
    pub fn show(&mut self, screen: Screen) -> Vec<Request> {
        self.screen = screen;
        if screen == Screen::Validator {
            self.refresh.validators_at = Some(self.now_ms);
            return vec![Request::Validators];
        }
        Vec::new()
    }

    /// Opens a prompt.
    pub fn ask(&mut self, kind: PromptKind) {
        self.prompt = Some(Prompt {
            kind,
            text: String::new(),
        });
    }

    fn prompt_key(&mut self, key: Key) -> Vec<Request> {
        let Some(prompt) = self.prompt.as_mut() else {
            return Vec::new();
        };
        match key {
            Key::Esc => self.prompt = None,
            Key::Backspace => {
                prompt.text.pop();
            }
            // Addresses and amounts are short; the bound keeps a stuck key harmless.
            Key::Char(c) if !c.is_control() && prompt.text.len() < 64 => prompt.text.push(c),
            Key::Enter => {
                let Some(prompt) = self.prompt.take() else {
                    return Vec::new();
                };
                return self.submit_prompt(prompt);
            }
            _ => {}
        }
        Vec::new()
    }

    fn submit_prompt(&mut self, prompt: Prompt) -> Vec<Request> {
        let text = prompt.text.trim();
        match prompt.kind {
            PromptKind::CrashAmount => match parse_amount(text) {
                Ok(amount) => self.crash.amount = amount,
                Err(e) => self.notify(Level::Error, e),
            },
            PromptKind::CrapsAmount => match parse_amount(text) {
                Ok(amount) => self.craps.amount = amount,
                Err(e) => self.notify(Level::Error, e),
            },
            PromptKind::AutoCashOut => match parse_multiplier(text) {
                Ok(target) => self.crash.auto_cash_out = target,
                Err(e) => self.notify(Level::Error, e),
            },
            PromptKind::TransferTo => match text.parse::<Address>() {
                Ok(to) => self.ask(PromptKind::TransferAmount { to }),
                Err(e) => self.notify(Level::Error, format!("not an address: {e}")),
            },
            PromptKind::TransferAmount { to } => match parse_amount(text) {
                Ok(amount) => {
                    return self.send(Action::Transfer {
                        to,
                        amount: Chips(amount),
                    });
                }
                Err(e) => self.notify(Level::Error, e),
            },
            PromptKind::Faucet => match parse_amount(text) {
                Ok(amount) => {
                    return self.send(Action::Faucet {
                        amount: Chips(amount),
                    });
                }
                Err(e) => self.notify(Level::Error, e),
            },
            PromptKind::NewTable => match parse_new_table(text) {
                Ok(action) => return self.send(action),
                Err(e) => self.notify(Level::Error, e),
            },
            PromptKind::Stake => match parse_amount(text) {
                Ok(amount) => {
                    return self.send(Action::Stake {
                        amount: Chips(amount),
                    });
                }
                Err(e) => self.notify(Level::Error, e),
            },
        }
        Vec::new()
    }

    /// Sends a wallet action, saying so in the status line. A bet at a
    /// table where the wallet has no seat takes the seat first, in the same
    /// request, so the join is ordered before the bet.
    pub fn send(&mut self, action: Action) -> Vec<Request> {
        let Some(me) = self.me() else {
            self.notify(
                Level::Error,
                "this node has no wallet loaded: start it with a wallet to play",
            );
            return Vec::new();
        };
        let mut actions = Vec::new();
        if let Action::CrashBet { table, .. } | Action::CrapsBet { table, .. } = action {
            let seated = self.table(table).is_some_and(|t| t.players.contains(&me));
            let asked = self
                .joining
                .get(&table)
                .is_some_and(|at| self.now_ms.saturating_sub(*at) < JOIN_RETRY_MS);
            if !seated && !asked {
                self.joining.insert(table, self.now_ms);
                actions.push(Action::JoinTable { table });
            }
        }
        if let Action::LeaveTable { table } = action {
            self.joining.remove(&table);
        }
        let words: Vec<String> = std::iter::once(&action)
            .chain(actions.first())
            .map(describe)
            .collect();
        self.notify(Level::Info, format!("sending {}…", words.join(" after ")));
        actions.push(action);
        vec![Request::Send(actions)]
    }

    fn answer(&mut self, answer: Answer) -> Vec<Request> {
        let mut requests = Vec::new();
        match answer {
            Answer::Status(Ok(status)) => {
                let new_wallet = status.wallet.filter(|w| self.me() != Some(*w));
                self.unreachable = None;
                self.validator.observe_status(&status, self.now_ms);
                self.node = Some(status);
                if let Some(me) = new_wallet {
                    self.refresh.account_due = true;
                    requests.push(Request::Subscribe(vec![Topic::Receipts(me)]));
                }
            }
            Answer::Account(Ok(account)) => {
                self.unreachable = None;
                self.account = Some(account);
            }
            Answer::Tables(Ok(tables)) => {
                self.unreachable = None;
                if let Some(me) = self.me() {
                    self.joining.retain(|id, _| {
                        !tables
                            .iter()
                            .any(|t| t.id == *id && t.players.contains(&me))
                    });
                }
                self.tables = tables;
                requests.extend(self.pick_tables());
            }
            Answer::Leaderboard(Ok(entries)) => self.wallet.leaderboard = entries,
            Answer::Validators(Ok(validators)) => self.validator.validators = Some(validators),
            Answer::RecentRounds {
                table,
                rounds: Ok(rounds),
            } => {
                if self.crash.table == Some(table) {
                    self.crash.load_history(&rounds);
                }
                if self.craps.table == Some(table) {
                    self.craps.load_history(&rounds);
                }
            }
            Answer::Round {
                purpose: RoundPurpose::Current,
                round: Ok(round),
            } => {
                let me = self.me();
                self.crash.load_current(&round, me);
            }
            Answer::Round {
                purpose: RoundPurpose::Verify,
                round: Ok(round),
            } => {
                let chain = self.node.as_ref().map(|s| s.node.chain_id);
                self.crash.verify = Some(crate::verify::verify(&round, chain));
            }
            Answer::Sent {
                action,
                result: Ok(reply),
            } => {
                self.notify(
                    Level::Info,
                    format!(
                        "{} sent (tx {}…), waiting for a block",
                        describe(&action),
                        &reply.hash.to_string()[..8]
                    ),
                );
                self.refresh.account_due = true;
            }
            Answer::Sent {
                action,
                result: Err(failure),
            } => {
                self.failed(&failure);
                self.notify(
                    Level::Error,
                    format!("{} refused: {}", describe(&action), failure.message),
                );
            }
            Answer::Status(Err(f))
            | Answer::Account(Err(f))
            | Answer::Tables(Err(f))
            | Answer::Leaderboard(Err(f))
            | Answer::Validators(Err(f))
            | Answer::RecentRounds { rounds: Err(f), .. } => {
                self.failed(&f);
                if !f.unreachable {
                    self.notify(Level::Error, f.message);
                }
            }
            Answer::Round { round: Err(f), .. } => {
                self.failed(&f);
                self.notify(
                    Level::Error,
                    format!("cannot read the round: {}", f.message),
                );
            }
        }
        requests.extend(self.account_if_due());
        requests
    }

    fn failed(&mut self, failure: &Failure) {
        if failure.unreachable {
            self.unreachable = Some(failure.message.clone());
        }
    }

    /// Chooses the first crash and craps tables if none is chosen yet (or
    /// the chosen one closed), and asks for what they need.
    fn pick_tables(&mut self) -> Vec<Request> {
        let mut requests = Vec::new();
        for game in [Game::Crash, Game::Craps] {
            let current = match game {
                Game::Crash => self.crash.table,
                Game::Craps => self.craps.table,
            };
            if current.is_some_and(|id| self.table(id).is_some()) {
                continue;
            }
            let first = self
                .tables
                .iter()
                .find(|t| Game::of(&t.game) == game)
                .map(|t| t.id);
            if let Some(id) = first {
                requests.extend(self.open_table(id));
            }
        }
        requests
    }

    /// Makes `id` the table of its game's screen: subscribes to it and
    /// reads its recent rounds.
    pub fn open_table(&mut self, id: TableId) -> Vec<Request> {
        let Some(table) = self.table(id).cloned() else {
            return Vec::new();
        };
        let mut requests = Vec::new();
        match Game::of(&table.game) {
            Game::Crash => {
                if let Some(old) = self.crash.table.filter(|old| *old != id) {
                    requests.push(Request::Unsubscribe(vec![Topic::Crash(old)]));
                }
                self.crash = CrashState {
                    amount: self.crash.amount,
                    auto_cash_out: self.crash.auto_cash_out,
                    ..CrashState::default()
                };
                self.crash.table = Some(id);
                requests.push(Request::Subscribe(vec![Topic::Crash(id)]));
                requests.push(Request::RecentRounds {
                    table: id,
                    limit: crate::crash::HISTORY,
                });
                if let Some(round) = table.round {
                    requests.push(Request::Round {
                        table: id,
                        round,
                        purpose: RoundPurpose::Current,
                    });
                }
            }
            Game::Craps => {
                if let Some(old) = self.craps.table.filter(|old| *old != id) {
                    requests.push(Request::Unsubscribe(vec![Topic::Craps(old)]));
                }
                self.craps = CrapsState {
                    amount: self.craps.amount,
                    selected: self.craps.selected,
                    ..CrapsState::default()
                };
                self.craps.table = Some(id);
                requests.push(Request::Subscribe(vec![Topic::Craps(id)]));
                requests.push(Request::RecentRounds {
                    table: id,
                    limit: crate::craps::HISTORY,
                });
            }
        }
        requests
    }

    fn subscription(&mut self, update: SubscriptionUpdate) -> Vec<Request> {
        match update {
            SubscriptionUpdate::Connected { .. } => {
                let reconnected = self.link != Link::Connecting;
                self.link = Link::Live;
                if reconnected {
                    // Events were missed while away: read the state again.
                    self.notify(Level::Info, "reconnected to the node");
                    self.refresh.account_due = true;
                    let mut requests = vec![Request::Status, Request::Tables];
                    for id in [self.crash.table, self.craps.table].into_iter().flatten() {
                        requests.extend(self.open_table(id));
                    }
                    requests.extend(self.account_if_due());
                    return requests;
                }
                Vec::new()
            }
            SubscriptionUpdate::Disconnected {
                reason,
                attempt,
                retry_in,
            } => {
                self.link = Link::Reconnecting {
                    reason,
                    attempt,
                    retry_at_ms: self.now_ms + retry_in.as_millis() as u64,
                };
                Vec::new()
            }
            SubscriptionUpdate::Refused { message, .. } => {
                self.notify(
                    Level::Error,
                    format!("the node refused a subscription: {message}"),
                );
                Vec::new()
            }
            SubscriptionUpdate::Event(event) => self.event(*event),
        }
    }

    fn event(&mut self, event: ApiEvent) -> Vec<Request> {
        let me = self.me();
        match event {
            ApiEvent::Block {
                height,
                timestamp_ms,
                ..
            } => {
                self.validator.observe_block(height, timestamp_ms);
                self.crash.observe_block(timestamp_ms, self.now_ms);
                if let Some(status) = self.node.as_mut() {
                    status.node.height = Some(height.max(status.node.height.unwrap_or(0)));
                }
                // Settlements move the balance without a transaction of ours.
                self.refresh.account_due = true;
            }
            ApiEvent::Table {
                table,
                game: Game::Crash,
                event,
                ..
            } if self.crash.table == Some(table) => {
                if let Some(text) = self.crash.apply(&event, me, self.now_ms) {
                    self.notify(Level::Info, text);
                }
            }
            ApiEvent::Table {
                table,
                game: Game::Craps,
                event,
                ..
            } if self.craps.table == Some(table) => {
                // A seven-out passes the dice: read the table again at the
                // next tick so the shooter shown follows without waiting
                // for the periodic refresh.
                if matches!(
                    event,
                    LedgerEvent::DiceRolled {
                        seven_out: true,
                        ..
                    }
                ) {
                    self.refresh.tables_at = None;
                }
                if let Some(text) = self.craps.apply(&event, me, self.now_ms) {
                    self.notify(Level::Info, text);
                }
            }
            ApiEvent::Table { .. } => {}
            ApiEvent::Receipt { receipt, .. } => {
                self.refresh.account_due = true;
                if let consensus::receipt::TxStatus::Rejected { reason } = &receipt.status {
                    self.notify(
                        Level::Error,
                        format!(
                            "rejected by the ledger: {}",
                            crate::ui::reject_reason(reason)
                        ),
                    );
                }
            }
            ApiEvent::Leaderboard {
                game: None,
                entries,
            } => self.wallet.leaderboard = entries,
            ApiEvent::Leaderboard { .. } => {}
        }
        self.account_if_due().into_iter().collect()
    }
}

/// Parses a whole number of chips, at least 1.
pub fn parse_amount(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("the amount must be at least 1 chip".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number of chips")),
    }
}

/// Parses a multiplier such as `2`, `2.5` or `2.31x` into hundredths; empty
/// is none.
pub fn parse_multiplier(text: &str) -> Result<Option<u64>, String> {
    let text = text.trim_end_matches(['x', 'X', '×']).trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || format!("{text:?} is not a multiplier above 1.00, e.g. 2.5");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 2 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let fraction: u64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<2}").parse().map_err(|_| bad())?
    };
    let hundredths = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(bad)?;
    if hundredths <= 100 || hundredths > game_rules::crash::Multiplier::MAX_HUNDREDTHS {
        return Err(bad());
    }
    Ok(Some(hundredths))
}

#[cfg(test)]
mod tests;
