//! # The crash screen
//!
//! State ([`CrashState`]) follows one crash table from its WebSocket
//! events: the round's phase, the ledger's ticks, everyone's bets and
//! cash-outs, and the last rounds' crash points. Between ticks the
//! multiplier is animated locally: from the last ledger point (a tick, or
//! the round's start at 1.00×) the elapsed time runs on with the local
//! clock and the multiplier is [`Multiplier::at`] of it — the game rules'
//! exact fixed-point curve, the same function the ledger ticks with — so
//! when the next tick arrives the display snaps to the ledger's value and
//! the two agree to the bit. If no tick comes for [`MAX_AHEAD_MS`] the
//! animation holds rather than run ahead of a stalled chain.
//!
//! Rendering ([`render`]) is a pure function of the [`App`].

use consensus::receipt::{BetResult, LedgerEvent, VoidReason, Wager};
use consensus::tx::{Action, TableId};
use game_rules::Chips;
use game_rules::crash::Multiplier;
use node::api::{Game, RoundInfo, RoundStatus};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Wrap};
use wallet::Address;

use crate::app::{App, Key, PromptKind, Request, RoundPurpose};
use crate::ui;
use crate::verify::Verification;

/// How many past rounds are listed.
pub const HISTORY: usize = 10;

/// The stake presets, chips.
pub const AMOUNTS: [u64; 9] = [1, 5, 10, 25, 50, 100, 250, 500, 1_000];

/// How far the animation may run past the last ledger point, ms (a few
/// block intervals).
pub const MAX_AHEAD_MS: u64 = 3_000;

/// Where the current round is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    /// Not known yet (no event seen).
    #[default]
    Unknown,
    /// Taking bets until `ends_ms` (chain time).
    Betting {
        /// When betting closes, chain ms.
        ends_ms: u64,
    },
    /// Running.
    Running,
    /// Crashed at the point.
    Crashed(Multiplier),
    /// Survived to 1,000,000×.
    Finished,
    /// Void: stakes refunded.
    Void,
}

/// How a past round ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundEnd {
    /// Crashed at this point.
    Crashed(Multiplier),
    /// Reached 1,000,000×.
    Finished,
    /// Void.
    Void,
}

/// The last point the ledger fixed and when (app clock) it was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// Elapsed ms of the round at that point.
    pub elapsed_ms: u64,
    /// The ledger's multiplier there.
    pub multiplier: Multiplier,
    /// When it arrived, app clock.
    pub seen_ms: u64,
}

/// A bet in the current round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundBet {
    /// Its id.
    pub bet: u64,
    /// Whose.
    pub player: Address,
    /// The stake.
    pub amount: u64,
    /// Auto-cash-out, hundredths.
    pub auto_cash_out: Option<u64>,
    /// Where it cashed out.
    pub cashed_at: Option<Multiplier>,
    /// How it ended and what it paid.
    pub settled: Option<(BetResult, u64)>,
}

/// The crash screen's state.
#[derive(Clone, Debug, PartialEq)]
pub struct CrashState {
    /// The table shown.
    pub table: Option<TableId>,
    /// The current round.
    pub round: Option<u64>,
    /// Its phase.
    pub phase: Phase,
    /// The last ledger point of a running round.
    pub anchor: Option<Anchor>,
    /// The ledger's ticks of this round: (elapsed ms, multiplier).
    pub ticks: Vec<(u64, Multiplier)>,
    /// Bets in this round, in order.
    pub bets: Vec<RoundBet>,
    /// Past rounds, newest first.
    pub history: Vec<(u64, RoundEnd)>,
    /// The selected past round (for verify).
    pub selected: usize,
    /// The stake for the next bet.
    pub amount: u64,
    /// The auto-cash-out for the next bet, hundredths.
    pub auto_cash_out: Option<u64>,
    /// The verify view, when open.
    pub verify: Option<Verification>,
    /// The chain's clock: (a block's timestamp, when it was seen).
    pub chain_clock: Option<(u64, u64)>,
}

impl Default for CrashState {
    fn default() -> Self {
        CrashState {
            table: None,
            round: None,
            phase: Phase::Unknown,
            anchor: None,
            ticks: Vec::new(),
            bets: Vec::new(),
            history: Vec::new(),
            selected: 0,
            amount: 10,
            auto_cash_out: None,
            verify: None,
            chain_clock: None,
        }
    }
}

impl CrashState {
    /// The multiplier to show now and the round's elapsed ms, while it
    /// runs.
    pub fn live(&self, now_ms: u64) -> Option<(Multiplier, u64)> {
        if self.phase != Phase::Running {
            return None;
        }
        let anchor = self.anchor?;
        let ahead = now_ms.saturating_sub(anchor.seen_ms).min(MAX_AHEAD_MS);
        let elapsed = anchor.elapsed_ms + ahead;
        Some((Multiplier::at(elapsed).max(anchor.multiplier), elapsed))
    }

    /// Remembers a block's timestamp, to count down the betting phase.
    pub fn observe_block(&mut self, timestamp_ms: u64, now_ms: u64) {
        self.chain_clock = Some((timestamp_ms, now_ms));
    }

    /// Seconds of betting left, if betting and the chain clock is known.
    pub fn betting_left_ms(&self, now_ms: u64) -> Option<u64> {
        let Phase::Betting { ends_ms } = self.phase else {
            return None;
        };
        let (chain, seen) = self.chain_clock?;
        Some(ends_ms.saturating_sub(chain + now_ms.saturating_sub(seen)))
    }

    /// My bet in this round.
    pub fn my_bet(&self, me: Option<Address>) -> Option<&RoundBet> {
        let me = me?;
        self.bets.iter().find(|b| b.player == me)
    }

    fn new_round(&mut self, round: u64, phase: Phase) {
        self.round = Some(round);
        self.phase = phase;
        self.anchor = None;
        self.ticks.clear();
        self.bets.clear();
    }

    fn ended(&mut self, round: u64, end: RoundEnd) {
        self.history.retain(|(r, _)| *r != round);
        self.history.insert(0, (round, end));
        self.history.truncate(HISTORY);
    }

    /// Applies a ledger event of this table; returns a notice for the
    /// player, if it concerns them.
    pub fn apply(
        &mut self,
        event: &LedgerEvent,
        me: Option<Address>,
        now_ms: u64,
    ) -> Option<String> {
        let mine = |player: &Address| me == Some(*player);
        match *event {
            LedgerEvent::CrashBettingOpened {
                round,
                betting_ends_ms,
                ..
            } => {
                self.new_round(
                    round,
                    Phase::Betting {
                        ends_ms: betting_ends_ms,
                    },
                );
                None
            }
            LedgerEvent::CrashRoundStarted { round, .. } => {
                if self.round != Some(round) {
                    self.new_round(round, Phase::Running);
                }
                self.phase = Phase::Running;
                self.anchor = Some(Anchor {
                    elapsed_ms: 0,
                    multiplier: Multiplier::ONE,
                    seen_ms: now_ms,
                });
                self.ticks = vec![(0, Multiplier::ONE)];
                None
            }
            LedgerEvent::CrashTick {
                round,
                multiplier,
                elapsed_ms,
                ..
            } => {
                if self.round != Some(round) {
                    self.new_round(round, Phase::Running);
                }
                if self.phase == Phase::Unknown || matches!(self.phase, Phase::Betting { .. }) {
                    self.phase = Phase::Running;
                }
                self.anchor = Some(Anchor {
                    elapsed_ms,
                    multiplier,
                    seen_ms: now_ms,
                });
                self.ticks.push((elapsed_ms, multiplier));
                None
            }
            LedgerEvent::BetPlaced {
                round,
                bet,
                player,
                wager: Wager::Crash { auto_cash_out },
                amount,
                ..
            } => {
                if self.round != Some(round) {
                    // Bets are only taken while betting; when it closes is unknown here.
                    self.new_round(round, Phase::Betting { ends_ms: 0 });
                }
                self.bets.push(RoundBet {
                    bet,
                    player,
                    amount: amount.get(),
                    auto_cash_out,
                    cashed_at: None,
                    settled: None,
                });
                mine(&player).then(|| format!("your bet of {amount} is in round {round}"))
            }
            LedgerEvent::CrashCashedOut { bet, at, .. } => {
                let entry = self.bets.iter_mut().find(|b| b.bet == bet)?;
                entry.cashed_at = Some(at);
                mine(&entry.player).then(|| format!("cashed out at {at}"))
            }
            LedgerEvent::CrashRiskCapReached { at, .. } => Some(format!(
                "the round reached its risk cap: every bet still in cashes out at {at}"
            )),
            LedgerEvent::Crashed { round, at, .. } => {
                if self.round == Some(round) {
                    self.phase = Phase::Crashed(at);
                }
                self.ended(round, RoundEnd::Crashed(at));
                let lost = self
                    .my_bet(me)
                    .is_some_and(|b| b.cashed_at.is_none() && self.round == Some(round));
                Some(if lost {
                    format!("crashed at {at}: your bet is lost")
                } else {
                    format!("round {round} crashed at {at}")
                })
            }
            LedgerEvent::CrashRoundFinished { round, .. } => {
                if self.round == Some(round) {
                    self.phase = Phase::Finished;
                }
                self.ended(round, RoundEnd::Finished);
                Some(format!("round {round} reached 1,000,000×"))
            }
            LedgerEvent::RoundVoid { round, reason, .. } => {
                if self.round == Some(round) {
                    self.phase = Phase::Void;
                }
                self.ended(round, RoundEnd::Void);
                Some(match reason {
                    VoidReason::BeaconTimeout => {
                        format!("round {round} is void (no randomness in time): stakes refunded")
                    }
                    VoidReason::TableClosed => {
                        format!("round {round} is void (table closed): stakes refunded")
                    }
                })
            }
            LedgerEvent::BetSettled {
                bet, result, paid, ..
            } => {
                let entry = self.bets.iter_mut().find(|b| b.bet == bet)?;
                entry.settled = Some((result, paid.get()));
                (mine(&entry.player) && result == BetResult::Win).then(|| format!("you won {paid}"))
            }
            _ => None,
        }
    }

    /// Loads the past rounds (newest first) read at start.
    pub fn load_history(&mut self, rounds: &[RoundInfo]) {
        let mut history: Vec<(u64, RoundEnd)> = rounds
            .iter()
            .filter(|r| r.summary.game == Game::Crash)
            .filter_map(|r| round_end(r).map(|end| (r.summary.round, end)))
            .collect();
        // Rounds that ended since keep their place.
        for (round, end) in &self.history {
            if !history.iter().any(|(r, _)| r == round) {
                history.push((*round, *end));
            }
        }
        history.sort_by_key(|h| std::cmp::Reverse(h.0));
        history.truncate(HISTORY);
        self.history = history;
    }

    /// Loads the round in progress (read when the table is opened): its
    /// phase, ticks and bets so far.
    pub fn load_current(&mut self, info: &RoundInfo, me: Option<Address>) {
        let round = info.summary.round;
        if self.round.is_some_and(|r| r > round) {
            return;
        }
        let phase = match info.summary.status {
            RoundStatus::Betting => Phase::Betting { ends_ms: 0 },
            RoundStatus::Running => Phase::Running,
            RoundStatus::Settled | RoundStatus::Void => self.phase,
        };
        self.new_round(round, phase);
        let now = self.chain_clock.map_or(0, |(_, seen)| seen);
        for event in &info.events {
            self.apply(event, me, now);
        }
    }
}

/// How a round ended, from its events.
pub fn round_end(info: &RoundInfo) -> Option<RoundEnd> {
    info.events.iter().find_map(|event| match *event {
        LedgerEvent::Crashed { at, .. } => Some(RoundEnd::Crashed(at)),
        LedgerEvent::CrashRoundFinished { .. } => Some(RoundEnd::Finished),
        LedgerEvent::RoundVoid { .. } => Some(RoundEnd::Void),
        _ => None,
    })
}

/// Keys of the crash screen.
pub fn key(app: &mut App, key: Key) -> Vec<Request> {
    let state = &mut app.crash;
    match key {
        Key::Enter | Key::Char('b') => {
            let Some(table) = state.table else {
                app.notify(
                    crate::app::Level::Error,
                    "there is no crash table to bet at",
                );
                return Vec::new();
            };
            let action = Action::CrashBet {
                table,
                amount: Chips(state.amount),
                auto_cash_out: state.auto_cash_out,
            };
            return app.send(action);
        }
        Key::Char(' ') | Key::Char('c') => {
            let Some(table) = state.table else {
                return Vec::new();
            };
            return app.send(Action::CrashCashOut { table });
        }
        Key::Char('+') | Key::Char('=') => {
            state.amount = ui::next_preset(&AMOUNTS, state.amount, true)
        }
        Key::Char('-') => state.amount = ui::next_preset(&AMOUNTS, state.amount, false),
        Key::Char('a') => app.ask(PromptKind::CrashAmount),
        Key::Char('x') => app.ask(PromptKind::AutoCashOut),
        Key::Up => state.selected = state.selected.saturating_sub(1),
        Key::Down => {
            state.selected = (state.selected + 1).min(state.history.len().saturating_sub(1))
        }
        Key::Char('v') => {
            let (Some(table), Some((round, _))) = (state.table, state.history.get(state.selected))
            else {
                app.notify(crate::app::Level::Error, "no finished round to verify yet");
                return Vec::new();
            };
            return vec![Request::Round {
                table,
                round: *round,
                purpose: RoundPurpose::Verify,
            }];
        }
        Key::Char('t') => {
            let next = ui::next_table(&app.tables, Game::Crash, state.table);
            if let Some(id) = next {
                return app.open_table(id);
            }
        }
        _ => {}
    }
    Vec::new()
}

/// The key help of this screen.
pub const KEYS: &str =
    "Enter bet · Space cash out · +/- stake · a amount · x auto · ↑↓ v verify · t table";

/// Draws the crash screen into `area`.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let state = &app.crash;
    if let Some(verification) = &state.verify {
        crate::verify::render(frame, area, verification);
        return;
    }
    // The side column grows with the terminal, from 36 columns at 80.
    let side = (area.width * 2 / 5).clamp(36, 56);
    let [left, right] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(side)]).areas(area);
    let [number, chart] = Layout::vertical([Constraint::Length(8), Constraint::Min(5)]).areas(left);
    render_number(frame, number, app);
    render_chart(frame, chart, app);
    let history_rows = (right.height.saturating_sub(6) / 2).clamp(3, HISTORY as u16);
    let [mine, players, history] = Layout::vertical([
        Constraint::Length(6),
        Constraint::Min(4),
        Constraint::Length(history_rows + 2),
    ])
    .areas(right);
    render_my_bet(frame, mine, app);
    render_players(frame, players, app);
    render_history(frame, history, app);
}

fn title(app: &App) -> String {
    match app.crash.table.and_then(|id| app.table(id)) {
        Some(table) => format!(
            " Crash · {} #{} · {}–{} ",
            table.name,
            table.id.0,
            table.game.min_bet().get(),
            table.game.max_bet().get()
        ),
        None => " Crash · no table ".to_owned(),
    }
}

fn render_number(frame: &mut Frame, area: Rect, app: &App) {
    let state = &app.crash;
    let block = Block::bordered().title(title(app));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (value, color, caption) = match state.phase {
        Phase::Running => match state.live(app.now_ms) {
            Some((m, elapsed)) => (
                Some(m),
                Color::Green,
                format!(
                    "round {} · running {}.{} s",
                    state.round.unwrap_or(0),
                    elapsed / 1000,
                    elapsed % 1000 / 100
                ),
            ),
            None => (None, Color::Green, "running".to_owned()),
        },
        Phase::Crashed(at) => (
            Some(at),
            Color::Red,
            format!("round {} crashed", state.round.unwrap_or(0)),
        ),
        Phase::Finished => (
            Some(Multiplier::MAX),
            Color::Yellow,
            "reached the maximum".to_owned(),
        ),
        Phase::Void => (
            None,
            Color::Yellow,
            "round void: stakes refunded".to_owned(),
        ),
        Phase::Betting { .. } => (
            None,
            Color::Cyan,
            match state.betting_left_ms(app.now_ms) {
                Some(ms) if ms > 0 => format!(
                    "round {} · betting, {} s left",
                    state.round.unwrap_or(0),
                    ms.div_ceil(1000)
                ),
                _ => format!(
                    "round {} · betting, starts at the next block with bets",
                    state.round.unwrap_or(0)
                ),
            },
        ),
        Phase::Unknown => (None, Color::DarkGray, "waiting for the table".to_owned()),
    };
    let mut lines: Vec<Line> = match value {
        Some(m) => ui::big_text(&m.to_string())
            .into_iter()
            .map(|l| Line::styled(l, Style::new().fg(color).add_modifier(Modifier::BOLD)))
            .collect(),
        None => {
            let text = if matches!(state.phase, Phase::Betting { .. }) {
                "PLACE YOUR BETS"
            } else {
                "—"
            };
            vec![
                Line::raw(""),
                Line::raw(""),
                Line::styled(text, Style::new().fg(color).add_modifier(Modifier::BOLD)),
                Line::raw(""),
                Line::raw(""),
            ]
        }
    };
    lines.push(Line::styled(caption, Style::new().fg(Color::Gray)));
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center), inner);
}

/// The curve's points from 0 to `elapsed` ms, from the exact multiplier.
fn curve(elapsed: u64, points: u64) -> Vec<(f64, f64)> {
    (0..=points)
        .map(|i| {
            let t = elapsed * i / points.max(1);
            (t as f64 / 1000.0, ui::multiplier_f64(Multiplier::at(t)))
        })
        .collect()
}

fn render_chart(frame: &mut Frame, area: Rect, app: &App) {
    let state = &app.crash;
    let block = Block::bordered().title(" multiplier × time ");
    let (end_ms, top, color) = match (state.phase, state.live(app.now_ms)) {
        (Phase::Running, Some((m, elapsed))) => (elapsed, m, Color::Green),
        (Phase::Crashed(at), _) => (
            state
                .ticks
                .last()
                .map_or(0, |t| t.0)
                .max(at.time_to_reach()),
            at,
            Color::Red,
        ),
        _ => {
            let text = Paragraph::new("The curve appears when the round starts.")
                .wrap(Wrap { trim: true })
                .block(block);
            frame.render_widget(text, area);
            return;
        }
    };
    let width = u64::from(area.width.saturating_sub(8)).max(8);
    let line = curve(end_ms, width * 2);
    let ticks: Vec<(f64, f64)> = state
        .ticks
        .iter()
        .map(|(t, m)| (*t as f64 / 1000.0, ui::multiplier_f64(*m)))
        .collect();
    let x_max = (end_ms as f64 / 1000.0).max(5.0);
    let y_max = (ui::multiplier_f64(top) * 1.1).max(2.0);
    let datasets = vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(color))
            .data(&line),
        Dataset::default()
            .marker(Marker::Dot)
            .graph_type(GraphType::Scatter)
            .style(Style::new().fg(Color::White))
            .data(&ticks),
    ];
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(
            Axis::default()
                .bounds([0.0, x_max])
                .labels(["0 s".to_owned(), format!("{x_max:.0} s")]),
        )
        .y_axis(
            Axis::default()
                .bounds([1.0, y_max])
                .labels(["1×".to_owned(), format!("{y_max:.1}×")]),
        );
    frame.render_widget(chart, area);
}

fn render_my_bet(frame: &mut Frame, area: Rect, app: &App) {
    let state = &app.crash;
    let auto = state.auto_cash_out.map_or("none".to_owned(), |h| {
        format!("{}.{:02}×", h / 100, h % 100)
    });
    let mut lines = vec![Line::from(vec![
        Span::raw("stake "),
        Span::styled(
            state.amount.to_string(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw("  auto "),
        Span::styled(auto, Style::new().add_modifier(Modifier::BOLD)),
    ])];
    let status = match state.my_bet(app.me()) {
        None => Line::styled("no bet in this round", Style::new().fg(Color::DarkGray)),
        Some(bet) => {
            let text = bet_state(bet, state.phase);
            Line::raw(format!("bet {} · {text}", bet.amount))
        }
    };
    lines.push(status);
    if let (Some(bet), Some((m, _))) = (state.my_bet(app.me()), state.live(app.now_ms))
        && bet.cashed_at.is_none()
        && let Some(value) = m.payout(game_rules::Chips(bet.amount))
    {
        lines.push(Line::styled(
            format!("cash out now ≈ {value}"),
            Style::new().fg(Color::Green),
        ));
    }
    let balance = app.account.as_ref().map_or("balance —".to_owned(), |a| {
        format!("balance {}", a.balance)
    });
    lines.push(Line::styled(balance, Style::new().fg(Color::Gray)));
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" your bet ")),
        area,
    );
}

fn bet_state(bet: &RoundBet, phase: Phase) -> String {
    match (bet.settled, bet.cashed_at) {
        (Some((BetResult::Win, paid)), Some(at)) => {
            format!("+{} @ {at}", paid.saturating_sub(bet.amount))
        }
        (Some((BetResult::Win, paid)), None) => format!("won {paid}"),
        (Some((BetResult::Lose, _)), _) => "lost".to_owned(),
        (Some((BetResult::Refund, paid)), _) => format!("refunded {paid}"),
        (Some((BetResult::Push, paid)), _) => format!("pushed {paid}"),
        (None, Some(at)) => format!("cashed {at}"),
        (None, None) => match (phase, bet.auto_cash_out) {
            (Phase::Crashed(_), _) => "lost".to_owned(),
            (_, Some(h)) => format!("in, auto {}.{:02}×", h / 100, h % 100),
            _ => "in".to_owned(),
        },
    }
}

fn render_players(frame: &mut Frame, area: Rect, app: &App) {
    let state = &app.crash;
    let me = app.me();
    let lines: Vec<Line> = if state.bets.is_empty() {
        vec![Line::styled(
            "no bets yet",
            Style::new().fg(Color::DarkGray),
        )]
    } else {
        state
            .bets
            .iter()
            .map(|bet| {
                let who = if Some(bet.player) == me {
                    "you".to_owned()
                } else {
                    ui::short_address(&bet.player)
                };
                let style = match (bet.settled, bet.cashed_at) {
                    (Some((BetResult::Lose, _)), _) => Style::new().fg(Color::Red),
                    (_, Some(_)) => Style::new().fg(Color::Green),
                    _ => Style::new(),
                };
                Line::styled(
                    format!("{who:<14}{:>5} {}", bet.amount, bet_state(bet, state.phase)),
                    style,
                )
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(format!(" players ({}) ", state.bets.len()))),
        area,
    );
}

fn render_history(frame: &mut Frame, area: Rect, app: &App) {
    let state = &app.crash;
    let rows = area.height.saturating_sub(2) as usize;
    // Keep the selection visible.
    let first = state.selected.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line> = if state.history.is_empty() {
        vec![Line::styled(
            "no finished rounds yet",
            Style::new().fg(Color::DarkGray),
        )]
    } else {
        state
            .history
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .map(|(i, (round, end))| {
                let (text, color) = match end {
                    RoundEnd::Crashed(at) if at.hundredths() >= 200 => {
                        (at.to_string(), Color::Green)
                    }
                    RoundEnd::Crashed(at) => (at.to_string(), Color::Red),
                    RoundEnd::Finished => (Multiplier::MAX.to_string(), Color::Yellow),
                    RoundEnd::Void => ("void".to_owned(), Color::Yellow),
                };
                let marker = if i == state.selected { "▶" } else { " " };
                Line::from(vec![
                    Span::raw(format!("{marker} round {round:<6} ")),
                    Span::styled(text, Style::new().fg(color)),
                ])
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" last rounds (v verify) ")),
        area,
    );
}
