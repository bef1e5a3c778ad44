//! # The craps screen
//!
//! State ([`CrapsState`]) follows one craps table from its WebSocket
//! events: the point, the rolls, a roll in the air (committed, waiting for
//! its randomness), my bets and how each roll resolved them. A bet is
//! chosen from every [`BetKind`] the rules engine has — arrows move
//! through them, letters jump to the common ones — and placed with the
//! stake preset.
//!
//! My bets form a list with a cursor (`[` and `]` move it; a bet I place
//! takes it, and when its bet goes the cursor falls back to my newest
//! one), so `O` puts odds behind the line or come bet I chose and `X`
//! takes down the bet I chose, not merely the newest.
//!
//! The dice shown while a roll is in the air are an animation, labelled as
//! such; the result is only ever the ledger's.

use std::collections::BTreeMap;

use consensus::receipt::{BetResult, LedgerEvent, Wager};
use consensus::tx::{Action, TableId};
use game_rules::craps::{BetKind, HardNumber, PointNumber};
use game_rules::{Chips, Roll};
use node::api::{Game, RoundInfo};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use wallet::Address;

use crate::app::{App, Key, Level, PromptKind, Request};
use crate::ui;

/// How many past rolls are kept.
pub const HISTORY: usize = 12;

/// The stake presets, chips.
pub const AMOUNTS: [u64; 8] = [1, 5, 10, 25, 50, 100, 250, 500];

/// How long a new roll is highlighted, ms.
const FLASH_MS: u64 = 1_500;

/// How many resolution lines are kept.
const RESULTS: usize = 6;

/// One of my bets on the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MyBet {
    /// What it is on.
    pub kind: BetKind,
    /// The stake.
    pub amount: u64,
    /// Odds behind it (line bets).
    pub odds: u64,
    /// The last time a roll decided it and it stayed up (won).
    pub last_win: Option<u64>,
}

/// The craps screen's state.
#[derive(Clone, Debug, PartialEq)]
pub struct CrapsState {
    /// The table shown.
    pub table: Option<TableId>,
    /// The point, if one is on (`None` also before the first roll seen).
    pub point: Option<u8>,
    /// Whether the point is known (a roll has been seen).
    pub point_known: bool,
    /// Past rolls, newest first: (roll number, dice, seven-out).
    pub rolls: Vec<(u64, Roll, bool)>,
    /// A roll committed and waiting for randomness: (roll number, since).
    pub in_air: Option<(u64, u64)>,
    /// When the last roll landed (app clock), to highlight it.
    pub landed_at: Option<u64>,
    /// My bets by id.
    pub bets: BTreeMap<u64, MyBet>,
    /// How the last rolls resolved my bets, newest first.
    pub results: Vec<String>,
    /// Others' bets seen since the table was opened.
    pub others_bets: u64,
    /// The bet kind selected (index into [`BetKind::all`]).
    pub selected: usize,
    /// The stake for the next bet.
    pub amount: u64,
    /// The bet of mine the cursor is on (see [`CrapsState::selected_bet`]).
    pub bet_cursor: Option<u64>,
}

impl Default for CrapsState {
    fn default() -> Self {
        CrapsState {
            table: None,
            point: None,
            point_known: false,
            rolls: Vec::new(),
            in_air: None,
            landed_at: None,
            bets: BTreeMap::new(),
            results: Vec::new(),
            others_bets: 0,
            selected: 0,
            amount: 10,
            bet_cursor: None,
        }
    }
}

/// Every bet kind in selection order.
pub fn kinds() -> Vec<BetKind> {
    BetKind::all().collect()
}

impl CrapsState {
    /// The selected bet kind.
    pub fn selected_kind(&self) -> BetKind {
        let all = kinds();
        all[self.selected % all.len()]
    }

    /// The bet of mine the cursor is on: the one chosen with `[`/`]` (or
    /// placed last) while it is on the table, else my newest.
    pub fn selected_bet(&self) -> Option<u64> {
        self.bet_cursor
            .filter(|bet| self.bets.contains_key(bet))
            .or_else(|| self.bets.keys().next_back().copied())
    }

    /// Moves the cursor to my next (`forward`) or previous bet, stopping
    /// at either end.
    pub fn move_bet_cursor(&mut self, forward: bool) {
        let Some(current) = self.selected_bet() else {
            return;
        };
        let next = if forward {
            self.bets.range(current + 1..).next()
        } else {
            self.bets.range(..current).next_back()
        };
        if let Some((&bet, _)) = next {
            self.bet_cursor = Some(bet);
        } else {
            self.bet_cursor = Some(current);
        }
    }

    fn select(&mut self, kind: BetKind) {
        if let Some(i) = kinds().iter().position(|k| *k == kind) {
            self.selected = i;
        }
    }

    fn result(&mut self, text: String) {
        self.results.insert(0, text);
        self.results.truncate(RESULTS);
    }

    fn rolled(&mut self, roll_number: u64, dice: Roll, point: Option<u8>, seven_out: bool) {
        self.point = point;
        self.point_known = true;
        self.rolls.retain(|(n, _, _)| *n != roll_number);
        self.rolls.insert(0, (roll_number, dice, seven_out));
        self.rolls.truncate(HISTORY);
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
            LedgerEvent::CrapsRollCommitted { roll_number, .. } => {
                self.in_air = Some((roll_number, now_ms));
                None
            }
            LedgerEvent::DiceRolled {
                roll_number,
                dice,
                point,
                seven_out,
                ..
            } => {
                self.in_air = None;
                self.landed_at = Some(now_ms);
                self.rolled(roll_number, dice, point, seven_out);
                let call = roll_call(dice, point, seven_out);
                Some(format!("roll {roll_number}: {dice} — {call}"))
            }
            LedgerEvent::BetPlaced {
                bet,
                player,
                wager: Wager::Craps { kind },
                amount,
                ..
            } => {
                if !mine(&player) {
                    self.others_bets += 1;
                    return None;
                }
                self.bets.insert(
                    bet,
                    MyBet {
                        kind,
                        amount: amount.get(),
                        odds: 0,
                        last_win: None,
                    },
                );
                self.bet_cursor = Some(bet);
                Some(format!("your {kind} bet of {amount} is on the table"))
            }
            LedgerEvent::OddsChanged { bet, after, .. } => {
                let entry = self.bets.get_mut(&bet)?;
                entry.odds = after.get();
                None
            }
            LedgerEvent::BetTakenDown { bet, returned, .. } => {
                let entry = self.bets.remove(&bet)?;
                Some(format!("{} taken down, {returned} returned", entry.kind))
            }
            LedgerEvent::BetSettled {
                bet,
                player,
                result,
                paid,
                round,
                ..
            } if mine(&player) => {
                let entry = self.bets.get(&bet)?.clone();
                let text = match result {
                    BetResult::Win => format!("{} won, paid {}", entry.kind, paid.get()),
                    BetResult::Lose => format!("{} lost {}", entry.kind, entry.amount),
                    BetResult::Push => format!("{} pushed, {} back", entry.kind, paid.get()),
                    BetResult::Refund => format!("{} refunded {}", entry.kind, paid.get()),
                };
                if result == BetResult::Win && entry.kind.stays_up_after_win() {
                    if let Some(e) = self.bets.get_mut(&bet) {
                        e.last_win = Some(paid.get());
                    }
                } else {
                    self.bets.remove(&bet);
                }
                self.result(format!("#{round} {text}"));
                None
            }
            _ => None,
        }
    }

    /// Loads the table's recent rolls (newest first), read when it is
    /// opened.
    pub fn load_history(&mut self, rounds: &[RoundInfo]) {
        let mut rolled: Vec<(u64, Roll, Option<u8>, bool)> = rounds
            .iter()
            .filter(|r| r.summary.game == Game::Craps)
            .flat_map(|r| {
                r.events.iter().filter_map(|e| match *e {
                    LedgerEvent::DiceRolled {
                        roll_number,
                        dice,
                        point,
                        seven_out,
                        ..
                    } => Some((roll_number, dice, point, seven_out)),
                    _ => None,
                })
            })
            .collect();
        rolled.sort_by_key(|r| r.0);
        let newest_live = self.rolls.first().map(|r| r.0);
        for (n, dice, point, seven_out) in rolled {
            // A roll seen live since is newer than what was read.
            if newest_live.is_some_and(|live| n < live) {
                self.rolls.push((n, dice, seven_out));
            } else {
                self.rolled(n, dice, point, seven_out);
            }
        }
        self.rolls.sort_by_key(|r| std::cmp::Reverse(r.0));
        self.rolls.dedup_by_key(|r| r.0);
        self.rolls.truncate(HISTORY);
    }

    /// My total stake on bets of `kind`.
    pub fn staked_on(&self, kind: BetKind) -> u64 {
        self.bets
            .values()
            .filter(|b| b.kind == kind)
            .map(|b| b.amount + b.odds)
            .sum()
    }
}

/// What the stickman calls for a roll.
pub fn roll_call(dice: Roll, point: Option<u8>, seven_out: bool) -> String {
    let total = dice.total();
    if seven_out {
        return "seven out, the dice pass".to_owned();
    }
    match (total, point) {
        (7 | 11, None) => format!("{total}, front line winner"),
        (2 | 3 | 12, None) => format!("{total}, craps"),
        (_, Some(p)) if p == total => format!("{total}, the point is on"),
        (_, Some(p)) => format!("{total}, point is {p}"),
        (_, None) => format!("{total}, winner: the point is made"),
    }
}

/// Keys of the craps screen.
pub fn key(app: &mut App, key: Key) -> Vec<Request> {
    let state = &mut app.craps;
    let count = kinds().len();
    let jump = |c: char| -> Option<BetKind> {
        Some(match c {
            'p' => BetKind::Pass,
            'd' => BetKind::DontPass,
            'c' => BetKind::Come,
            'n' => BetKind::DontCome,
            'f' => BetKind::Field,
            'y' => BetKind::AnySeven,
            'r' => BetKind::AnyCraps,
            'o' => BetKind::Horn,
            'e' => BetKind::CrapsEleven,
            '4' => BetKind::Place(PointNumber::Four),
            '5' => BetKind::Place(PointNumber::Five),
            '6' => BetKind::Place(PointNumber::Six),
            '8' => BetKind::Place(PointNumber::Eight),
            '9' => BetKind::Place(PointNumber::Nine),
            '0' => BetKind::Place(PointNumber::Ten),
            'h' => BetKind::Hard(HardNumber::Four),
            _ => return None,
        })
    };
    match key {
        Key::Right => state.selected = (state.selected + 1) % count,
        Key::Left => state.selected = (state.selected + count - 1) % count,
        Key::Up | Key::Down => {
            // Up and down move by a row of the bet list: a group of six.
            let step = if key == Key::Down { 6 } else { count - 6 };
            state.selected = (state.selected + step) % count;
        }
        Key::Char('+') | Key::Char('=') => {
            state.amount = ui::next_preset(&AMOUNTS, state.amount, true)
        }
        Key::Char('-') => state.amount = ui::next_preset(&AMOUNTS, state.amount, false),
        Key::Char('a') => app.ask(PromptKind::CrapsAmount),
        Key::Char('t') => {
            if let Some(id) = ui::next_table(&app.tables, Game::Craps, state.table) {
                return app.open_table(id);
            }
        }
        Key::Char(c @ ('[' | ']')) => state.move_bet_cursor(c == ']'),
        Key::Char(c @ ('O' | 'X')) => {
            // Odds go behind the line or come bet the cursor is on; X takes
            // that bet down. The ledger has the last word (odds only once a
            // point is on, contract bets stay up) and says why in the status
            // line.
            let (table, amount) = (state.table, Chips(state.amount));
            let chosen = state
                .selected_bet()
                .and_then(|bet| Some((bet, state.bets.get(&bet)?.kind)));
            let (Some(table), Some((bet, kind))) = (table, chosen) else {
                app.notify(Level::Error, "no bet of yours on the table");
                return Vec::new();
            };
            if c == 'O' && !kind.is_line() {
                app.notify(
                    Level::Error,
                    format!(
                        "bet #{bet} ({kind}) takes no odds: choose a line or come bet with [ ]"
                    ),
                );
                return Vec::new();
            }
            return app.send(if c == 'O' {
                Action::CrapsOdds { table, bet, amount }
            } else {
                Action::CrapsTakeDown { table, bet }
            });
        }
        Key::Enter => {
            let Some(table) = state.table else {
                app.notify(Level::Error, "there is no craps table to bet at");
                return Vec::new();
            };
            let kind = state.selected_kind();
            let amount = state.amount;
            return app.send(Action::CrapsBet {
                table,
                kind,
                amount: Chips(amount),
            });
        }
        Key::Char(c) => {
            if let Some(kind) = jump(c) {
                // Pressing `h` again walks through the four hardways.
                let kind = match (kind, state.selected_kind()) {
                    (BetKind::Hard(_), BetKind::Hard(current)) => {
                        let all = HardNumber::ALL;
                        let i = all.iter().position(|h| *h == current).unwrap_or(0);
                        BetKind::Hard(all[(i + 1) % all.len()])
                    }
                    _ => kind,
                };
                state.select(kind);
            }
        }
        _ => {}
    }
    Vec::new()
}

/// The key help of this screen.
pub const KEYS: &str = "←→↑↓ choose · p d c n f 4-0 h y r o e jump · +/- a stake · Enter bet · [ ] my bet · O odds · X take down · t table";

/// Draws the craps screen into `area`.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let [left, right] =
        Layout::horizontal([Constraint::Min(46), Constraint::Length(30)]).areas(area);
    let [felt, chooser, mine] = Layout::vertical([
        Constraint::Length(11),
        Constraint::Length(4),
        Constraint::Min(3),
    ])
    .areas(left);
    render_felt(frame, felt, app);
    render_chooser(frame, chooser, app);
    render_my_bets(frame, mine, app);
    let [dice, rolls, results] = Layout::vertical([
        Constraint::Length(8),
        Constraint::Length(4),
        Constraint::Min(3),
    ])
    .areas(right);
    render_dice(frame, dice, app);
    render_rolls(frame, rolls, app);
    render_results(frame, results, app);
}

fn title(app: &App) -> String {
    match app.craps.table.and_then(|id| app.table(id)) {
        Some(table) => {
            let odds = match table.game {
                consensus::tx::TableGame::Craps { odds, .. } => match odds {
                    game_rules::craps::OddsLimit::ThreeFourFive => " · 3-4-5× odds".to_owned(),
                    game_rules::craps::OddsLimit::Flat(n) => format!(" · {n}× odds"),
                },
                consensus::tx::TableGame::Crash { .. } => String::new(),
            };
            format!(
                " Craps · {} #{} · {}–{}{odds} ",
                table.name,
                table.id.0,
                table.game.min_bet().get(),
                table.game.max_bet().get(),
            )
        }
        None => " Craps · no table ".to_owned(),
    }
}

/// A cell of the felt: label and my stake on `kind`, highlighted if
/// selected.
fn cell(state: &CrapsState, kind: BetKind, label: String, width: usize) -> Span<'static> {
    let staked = state.staked_on(kind);
    let amount = if staked > 0 {
        staked.to_string()
    } else {
        "·".to_owned()
    };
    let text = if label.is_empty() {
        amount
    } else {
        format!("{label} {amount}")
    };
    let mut style = if staked > 0 {
        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    if state.selected_kind() == kind {
        style = style.bg(Color::Blue).fg(Color::White);
    }
    Span::styled(format!("{text:<width$}"), style)
}

fn render_felt(frame: &mut Frame, area: Rect, app: &App) {
    let s = &app.craps;
    let numbers = PointNumber::ALL;
    // Cell widths are laid out for 48 columns and stretch with the felt.
    let inner = (area.width.saturating_sub(2) as usize).max(48);
    let w = |n: usize| n * inner / 48;
    let mut lines = Vec::new();
    let mut header = vec![Span::raw("POINT  ")];
    for n in numbers {
        let on = s.point == Some(n.total());
        let style = if on {
            Style::new()
                .fg(Color::Black)
                .bg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        };
        let label = if on {
            format!("[{}]ON", n.total())
        } else {
            n.total().to_string()
        };
        header.push(Span::styled(
            format!("{label:<width$}", width = w(7)),
            style,
        ));
    }
    lines.push(Line::from(header));
    for (name, make) in [
        ("PLACE  ", BetKind::Place as fn(PointNumber) -> BetKind),
        ("BUY    ", BetKind::Buy),
        ("LAY    ", BetKind::Lay),
    ] {
        let mut row = vec![Span::raw(name)];
        for n in numbers {
            row.push(cell(s, make(n), String::new(), w(7)));
        }
        lines.push(Line::from(row));
    }
    let mut hard = vec![Span::raw("HARD   ")];
    for h in HardNumber::ALL {
        hard.push(cell(s, BetKind::Hard(h), format!("H{}", h.total()), w(7)));
    }
    hard.push(cell(s, BetKind::Big6, "BIG6".into(), w(7)));
    hard.push(cell(s, BetKind::Big8, "BIG8".into(), w(6)));
    lines.push(Line::from(hard));
    lines.push(Line::from(vec![
        cell(s, BetKind::Pass, "PASS".into(), w(10)),
        cell(s, BetKind::DontPass, "DON'T PASS".into(), w(15)),
        cell(s, BetKind::Come, "COME".into(), w(10)),
        cell(s, BetKind::DontCome, "DON'T COME".into(), w(13)),
    ]));
    lines.push(Line::from(vec![
        cell(s, BetKind::Field, "FIELD 2·3·4·9·10·11·12".into(), w(25)),
        cell(s, BetKind::AnySeven, "ANY 7".into(), w(9)),
        cell(s, BetKind::AnyCraps, "ANY CRAPS".into(), w(14)),
    ]));
    let hops: u64 = s
        .bets
        .values()
        .filter(|b| matches!(b.kind, BetKind::Hop(_)))
        .map(|b| b.amount)
        .sum();
    let hop_selected = matches!(s.selected_kind(), BetKind::Hop(_));
    let hop_style = match (hop_selected, hops > 0) {
        (true, _) => Style::new().bg(Color::Blue).fg(Color::White),
        (false, true) => Style::new().fg(Color::Yellow),
        _ => Style::new(),
    };
    lines.push(Line::from(vec![
        cell(s, BetKind::Two, "2".into(), w(5)),
        cell(s, BetKind::Three, "3".into(), w(5)),
        cell(s, BetKind::Eleven, "11".into(), w(6)),
        cell(s, BetKind::Twelve, "12".into(), w(6)),
        cell(s, BetKind::Horn, "HORN".into(), w(8)),
        cell(s, BetKind::CrapsEleven, "C&E".into(), w(7)),
        Span::styled(
            if hops > 0 {
                format!("HOP {hops}")
            } else {
                "HOP ·".to_owned()
            },
            hop_style,
        ),
    ]));
    let puck = match (s.point_known, s.point) {
        (false, _) => "point not seen yet".to_owned(),
        (true, None) => "puck OFF: come-out roll".to_owned(),
        (true, Some(p)) => format!("puck ON {p}"),
    };
    let seated = s
        .table
        .and_then(|id| app.table(id))
        .map_or(String::new(), |t| {
            format!(" · seated {}/{}", t.players.len(), t.max_players)
        });
    lines.push(Line::styled(
        format!("{puck}{seated}"),
        Style::new().fg(Color::Gray),
    ));
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(title(app))),
        area,
    );
}

fn render_chooser(frame: &mut Frame, area: Rect, app: &App) {
    let s = &app.craps;
    let kind = s.selected_kind();
    let note = if kind.is_one_roll() {
        "one roll"
    } else if kind.stays_up_after_win() {
        "stays up after a win"
    } else {
        "until decided"
    };
    let parts = match kind.parts() {
        1 => String::new(),
        n => format!(" · multiple of {n}"),
    };
    let lines = vec![
        Line::from(vec![
            Span::raw("◀ "),
            Span::styled(kind.to_string(), Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(" ▶  stake "),
            Span::styled(
                s.amount.to_string(),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw("  Enter to bet"),
        ]),
        Line::styled(format!("{note}{parts}"), Style::new().fg(Color::Gray)),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" bet ")),
        area,
    );
}

fn render_my_bets(frame: &mut Frame, area: Rect, app: &App) {
    let s = &app.craps;
    let rows = area.height.saturating_sub(2) as usize;
    let chosen = s.selected_bet();
    // Scroll so the chosen bet is always shown.
    let position = chosen.map_or(0, |bet| s.bets.range(..bet).count());
    let skip = (position + 1).saturating_sub(rows.max(1));
    let lines: Vec<Line> = if s.bets.is_empty() {
        vec![Line::styled(
            "no bets on the table",
            Style::new().fg(Color::DarkGray),
        )]
    } else {
        s.bets
            .iter()
            .skip(skip)
            .take(rows)
            .map(|(id, b)| {
                let odds = if b.odds > 0 {
                    format!(" + odds {}", b.odds)
                } else {
                    String::new()
                };
                let state = match b.last_win {
                    Some(paid) => format!("won {paid}, still up"),
                    None => "working".to_owned(),
                };
                let text = format!(
                    "#{id:<5} {:<12} {:>6}{odds}  {state}",
                    b.kind.to_string(),
                    b.amount
                );
                if chosen == Some(*id) {
                    Line::styled(
                        format!("▶ {text}"),
                        Style::new().add_modifier(Modifier::BOLD),
                    )
                } else {
                    Line::raw(format!("  {text}"))
                }
            })
            .collect()
    };
    let balance = app
        .account
        .as_ref()
        .map_or(String::new(), |a| format!(" · balance {}", a.balance));
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(format!(" my bets ([ ] choose){balance} "))),
        area,
    );
}

fn render_dice(frame: &mut Frame, area: Rect, app: &App) {
    let s = &app.craps;
    let (faces, caption, style) = if let Some((n, since)) = s.in_air {
        // Cosmetic tumbling while the randomness is produced.
        let step = app.now_ms.saturating_sub(since) / 120;
        let a = (step % 6) as u8 + 1;
        let b = ((step * 5 + 3) % 6) as u8 + 1;
        (
            Some((a, b)),
            format!("roll {n} in the air…"),
            Style::new().fg(Color::DarkGray),
        )
    } else if let Some((n, dice, seven_out)) = s.rolls.first() {
        let fresh = s
            .landed_at
            .is_some_and(|at| app.now_ms.saturating_sub(at) < FLASH_MS);
        let style = if fresh {
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        let point = if *n == s.rolls[0].0 { s.point } else { None };
        (
            Some((dice.first.face(), dice.second.face())),
            format!("roll {n}: {}", roll_call(*dice, point, *seven_out)),
            style,
        )
    } else {
        (
            None,
            "no roll yet".to_owned(),
            Style::new().fg(Color::DarkGray),
        )
    };
    let mut lines: Vec<Line> = match faces {
        Some((a, b)) => ui::dice_art(a, b)
            .into_iter()
            .map(|l| Line::styled(l, style))
            .collect(),
        None => vec![Line::raw(""); 5],
    };
    lines.push(Line::styled(caption, Style::new().fg(Color::Gray)));
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(dice_title(app))),
        area,
    );
}

/// The dice panel's title: who holds the dice, as the node last reported
/// the table (`you` when it is the player, else a short address), or just
/// `dice` while no one is seated or the table is not loaded.
fn dice_title(app: &App) -> Line<'static> {
    let shooter = app
        .craps
        .table
        .and_then(|id| app.table(id))
        .and_then(|table| table.shooter);
    match shooter {
        Some(shooter) if app.me() == Some(shooter) => Line::from(vec![
            Span::raw(" shooter: "),
            Span::styled(
                "you",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
            Span::raw(" "),
        ]),
        Some(shooter) => Line::raw(format!(" shooter: {} ", ui::short_address(&shooter))),
        None => Line::raw(" dice "),
    }
}

fn render_rolls(frame: &mut Frame, area: Rect, app: &App) {
    let s = &app.craps;
    let spans: Vec<Span> = s
        .rolls
        .iter()
        .map(|(_, dice, seven_out)| {
            let color = match dice.total() {
                7 if *seven_out => Color::Red,
                7 | 11 => Color::Green,
                2 | 3 | 12 => Color::Red,
                _ => Color::White,
            };
            Span::styled(format!("{} ", dice.total()), Style::new().fg(color))
        })
        .collect();
    frame.render_widget(
        Paragraph::new(Line::from(spans))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(Block::bordered().title(" last rolls, newest first ")),
        area,
    );
}

fn render_results(frame: &mut Frame, area: Rect, app: &App) {
    let s = &app.craps;
    let lines: Vec<Line> = if s.results.is_empty() {
        vec![Line::styled(
            "no bet decided yet",
            Style::new().fg(Color::DarkGray),
        )]
    } else {
        s.results.iter().map(|r| Line::raw(r.clone())).collect()
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(Block::bordered().title(format!(" results · others' bets {} ", s.others_bets))),
        area,
    );
}
