//! # The wallet screen
//!
//! The node wallet's balance, address and recent history, a transfer form,
//! the leaderboard, and the list of open tables: Enter opens the selected
//! table on its game's screen, `j`/`l` take or leave a seat there, `n`
//! opens a new table, `f` asks the faucet (where the chain has one).

use consensus::receipt::LedgerEvent;
use consensus::tx::Action;
use node::api::{Game, HistoryEntry, LeaderboardEntry};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{App, Key, PromptKind, Request, Screen};
use crate::ui;

/// The wallet screen's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalletState {
    /// The overall leaderboard.
    pub leaderboard: Vec<LeaderboardEntry>,
    /// The selected table (index into the table list).
    pub selected: usize,
}

/// Keys of the wallet screen.
pub fn key(app: &mut App, key: Key) -> Vec<Request> {
    let count = app.tables.len();
    match key {
        Key::Char('t') => app.ask(PromptKind::TransferTo),
        Key::Char('f') => app.ask(PromptKind::Faucet),
        Key::Char('n') => app.ask(PromptKind::NewTable),
        Key::Char(c @ ('j' | 'l')) => {
            let Some(table) = app.tables.get(app.wallet.selected).map(|t| t.id) else {
                return Vec::new();
            };
            return app.send(if c == 'j' {
                Action::JoinTable { table }
            } else {
                Action::LeaveTable { table }
            });
        }
        Key::Up => app.wallet.selected = app.wallet.selected.saturating_sub(1),
        Key::Down => app.wallet.selected = (app.wallet.selected + 1).min(count.saturating_sub(1)),
        Key::Enter => {
            let Some(table) = app.tables.get(app.wallet.selected).cloned() else {
                return Vec::new();
            };
            let mut requests = app.open_table(table.id);
            requests.extend(app.show(match Game::of(&table.game) {
                Game::Crash => Screen::Crash,
                Game::Craps => Screen::Craps,
            }));
            return requests;
        }
        _ => {}
    }
    Vec::new()
}

/// The key help of this screen.
pub const KEYS: &str = "t transfer · f faucet · ↑↓ table · Enter open · j join · l leave · n new";

/// Draws the wallet screen into `area`.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    let [account, history] =
        Layout::vertical([Constraint::Length(6), Constraint::Min(3)]).areas(left);
    let [tables, leaders] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(right);
    render_account(frame, account, app);
    render_history(frame, history, app);
    render_tables(frame, tables, app);
    render_leaderboard(frame, leaders, app);
}

fn render_account(frame: &mut Frame, area: Rect, app: &App) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let lines = match (app.me(), &app.account) {
        (None, _) if app.node.is_some() => {
            vec![Line::raw("this node has no wallet loaded: reads only")]
        }
        (None, _) => vec![Line::raw("waiting for the node…")],
        (Some(me), None) => vec![Line::raw(me.to_string()), Line::raw("reading the account…")],
        (Some(me), Some(a)) => vec![
            Line::raw(me.to_string()),
            Line::from(vec![
                Span::raw("balance "),
                Span::styled(a.balance.to_string(), bold.fg(Color::Yellow)),
                Span::raw(format!("  nonce {}", a.nonce)),
            ]),
            Line::raw(format!(
                "stake {}  pool shares {}",
                a.stake, a.bankroll_shares
            )),
        ],
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" wallet (t transfer) ")),
        area,
    );
}

fn render_history(frame: &mut Frame, area: Rect, app: &App) {
    let rows = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = match &app.account {
        Some(a) if !a.history.is_empty() => a
            .history
            .iter()
            .take(rows)
            .map(|h| {
                let text = format!("{:>6} {}", h.height, describe_entry(h));
                Line::raw(ui::fit(&text, width))
            })
            .collect(),
        _ => vec![Line::styled(
            "no transactions yet",
            Style::new().fg(Color::DarkGray),
        )],
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" recent (height, what) ")),
        area,
    );
}

/// One line for a history entry: the balance's change over the whole
/// entry (a bet's stake and fee together, a settlement's payout) first, as
/// the part a narrow screen must not cut, then what happened.
pub fn describe_entry(entry: &HistoryEntry) -> String {
    let mut balances = entry.events.iter().filter_map(|e| match e {
        LedgerEvent::BalanceChanged { before, after, .. } => Some((before.get(), after.get())),
        _ => None,
    });
    let mut parts = Vec::new();
    if let Some((before, first_after)) = balances.next() {
        let after = balances.next_back().map_or(first_after, |(_, last)| last);
        parts.push(if after >= before {
            format!("+{} → {after}", after - before)
        } else {
            format!("-{} → {after}", before - after)
        });
    }
    parts.extend(
        entry
            .events
            .iter()
            .filter(|e| !matches!(e, LedgerEvent::BalanceChanged { .. }))
            .map(describe),
    );
    if parts.is_empty() {
        let source = if entry.tx.is_some() {
            "transaction"
        } else {
            "block"
        };
        parts.push(source.to_owned());
    }
    parts.join(" · ")
}

/// One line for a history event other than a balance change.
fn describe(event: &LedgerEvent) -> String {
    match event {
        LedgerEvent::BetPlaced {
            table,
            wager,
            amount,
            ..
        } => match wager {
            consensus::receipt::Wager::Craps { kind } => {
                format!("bet {amount} on {kind} at table {}", table.0)
            }
            consensus::receipt::Wager::Crash { .. } => {
                format!("crash bet {amount} at table {}", table.0)
            }
        },
        LedgerEvent::BetSettled {
            table,
            result,
            paid,
            ..
        } => format!("bet at table {} {result:?}, paid {paid}", table.0).to_lowercase(),
        LedgerEvent::CrashCashedOut { at, .. } => format!("cashed out at {at}"),
        LedgerEvent::PlayerJoined { table, .. } => format!("joined table {}", table.0),
        LedgerEvent::PlayerLeft { table, .. } => format!("left table {}", table.0),
        LedgerEvent::FaucetPaid { amount, .. } => format!("faucet paid {amount}"),
        LedgerEvent::Staked { amount, .. } => format!("staked {amount}"),
        LedgerEvent::TableCreated { table, name, .. } => {
            format!("opened table {} \"{}\"", table.0, name.as_str())
        }
        other => {
            // The variant name is the clearest short form of the rest.
            let text = format!("{other:?}");
            text.split([' ', '{', '(']).next().unwrap_or("").to_owned()
        }
    }
}

fn render_tables(frame: &mut Frame, area: Rect, app: &App) {
    let rows = area.height.saturating_sub(2) as usize;
    let first = app.wallet.selected.saturating_sub(rows.saturating_sub(1));
    let width = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = if app.tables.is_empty() {
        vec![Line::styled(
            "no open tables",
            Style::new().fg(Color::DarkGray),
        )]
    } else {
        app.tables
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .map(|(i, t)| {
                let open = [app.crash.table, app.craps.table].contains(&Some(t.id));
                let text = format!(
                    "{}{:>3} {:<5} {:<10} {}/{} {}–{}",
                    if open { "●" } else { " " },
                    t.id.0,
                    Game::of(&t.game).as_str(),
                    ui::fit(&t.name, 10),
                    t.players.len(),
                    t.max_players,
                    t.game.min_bet().get(),
                    t.game.max_bet().get(),
                );
                let style = if i == app.wallet.selected {
                    Style::new().bg(Color::Blue).fg(Color::White)
                } else {
                    Style::new()
                };
                Line::styled(ui::fit(&text, width), style)
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" tables (Enter open) ")),
        area,
    );
}

fn render_leaderboard(frame: &mut Frame, area: Rect, app: &App) {
    let rows = area.height.saturating_sub(2) as usize;
    let me = app.me();
    let lines: Vec<Line> = if app.wallet.leaderboard.is_empty() {
        vec![Line::styled(
            "nobody has played yet",
            Style::new().fg(Color::DarkGray),
        )]
    } else {
        app.wallet
            .leaderboard
            .iter()
            .take(rows)
            .map(|e| {
                let who = if Some(e.address) == me {
                    "you".to_owned()
                } else {
                    ui::short_address(&e.address)
                };
                let color = if e.net_winnings >= 0 {
                    Color::Green
                } else {
                    Color::Red
                };
                Line::from(vec![
                    Span::raw(format!("{:>2}. {who:<14}", e.rank)),
                    Span::styled(format!("{:>+9}", e.net_winnings), Style::new().fg(color)),
                ])
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" leaderboard (net) ")),
        area,
    );
}
