//! # The frame
//!
//! [`render`] draws the whole UI from an [`App`]: a header with the screen
//! tabs and the chain position, the current screen, the key help, and the
//! status line (errors, reconnection, notices), with the prompt and the
//! help as pop-ups. It is a pure function of the state, so tests render it
//! on ratatui's `TestBackend`. Also the small formatting helpers the
//! screens share.

use consensus::receipt::RejectReason;
use consensus::tx::TableId;
use game_rules::crash::Multiplier;
use node::api::{Game, TableInfo};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use wallet::Address;

use crate::app::{App, Level, Link, Screen};

/// Draws the UI.
pub fn render(frame: &mut Frame, app: &App) {
    let [header, body, keys, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(10),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    render_header(frame, header, app);
    match app.screen {
        Screen::Crash => crate::crash::render(frame, body, app),
        Screen::Craps => crate::craps::render(frame, body, app),
        Screen::Wallet => crate::wallet::render(frame, body, app),
        Screen::Validator => crate::validator::render(frame, body, app),
    }
    let help = match app.screen {
        Screen::Crash if app.crash.verify.is_some() => "Esc close",
        Screen::Crash => crate::crash::KEYS,
        Screen::Craps => crate::craps::KEYS,
        Screen::Wallet => crate::wallet::KEYS,
        Screen::Validator => crate::validator::KEYS,
    };
    frame.render_widget(
        Paragraph::new(Line::styled(
            fit(
                &format!("{help} · Tab screens · ? help · q quit"),
                keys.width as usize,
            ),
            Style::new().fg(Color::DarkGray),
        )),
        keys,
    );
    render_status(frame, status, app);
    if app.help {
        render_help(frame, body);
    }
    if let Some(prompt) = &app.prompt {
        let title = format!(" {} · Enter ok · Esc cancel ", prompt.kind.question());
        let area = popup(body, title.chars().count() as u16 + 4, 3);
        frame.render_widget(Clear, area);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::raw(prompt.text.clone()),
                Span::styled("█", Style::new().fg(Color::Gray)),
            ]))
            .block(
                Block::bordered()
                    .title(title)
                    .border_style(Style::new().fg(Color::Yellow)),
            ),
            area,
        );
    }
}

fn render_header(frame: &mut Frame, area: Rect, app: &App) {
    let mut spans = vec![Span::styled(
        " BitCraps ",
        Style::new()
            .fg(Color::Black)
            .bg(Color::Yellow)
            .add_modifier(Modifier::BOLD),
    )];
    for (i, screen) in Screen::ALL.iter().enumerate() {
        let style = if *screen == app.screen {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::new().fg(Color::Gray)
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!("{} {}", i + 1, screen.title()), style));
    }
    let position = match &app.node {
        Some(status) => format!(
            "  h {} · epoch {} · {} peers",
            status.node.height.map_or("—".to_owned(), |h| h.to_string()),
            status.node.epoch,
            status.node.peers
        ),
        None => format!("  {}", app.api),
    };
    spans.push(Span::styled(position, Style::new().fg(Color::Gray)));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_status(frame: &mut Frame, area: Rect, app: &App) {
    let width = area.width as usize;
    let (text, style) = if let Some(reason) = &app.unreachable {
        (
            format!("{reason} · retrying"),
            Style::new().fg(Color::White).bg(Color::Red),
        )
    } else if let Link::Reconnecting {
        reason,
        attempt,
        retry_at_ms,
    } = &app.link
    {
        let left = retry_at_ms.saturating_sub(app.now_ms).div_ceil(1000);
        (
            format!("reconnecting (attempt {attempt}, next in {left} s): {reason}"),
            Style::new().fg(Color::Black).bg(Color::Yellow),
        )
    } else if let Some(notice) = app.current_notice() {
        let style = match notice.level {
            Level::Error => Style::new().fg(Color::White).bg(Color::Red),
            Level::Info => Style::new().fg(Color::Black).bg(Color::Cyan),
        };
        (notice.text.clone(), style)
    } else {
        let text = match (&app.link, &app.node) {
            (Link::Connecting, _) => format!("connecting to {}…", app.api),
            (_, Some(s)) if s.node.syncing => "connected · the node is catching up".to_owned(),
            (_, Some(_)) => "connected · live".to_owned(),
            (_, None) => "connected".to_owned(),
        };
        (text, Style::new().fg(Color::Gray))
    };
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!(" {}", fit(&text, width.saturating_sub(1))),
            style,
        ))
        .style(style),
        area,
    );
}

fn render_help(frame: &mut Frame, area: Rect) {
    let lines = [
        "Tab / Shift-Tab    next / previous screen (1-4 outside craps)",
        "q, Ctrl-C          quit          Esc   clear the message",
        "",
        "Crash   Enter bet · Space cash out · +/- stake preset",
        "        a type a stake · x auto cash-out · t next table",
        "        ↑↓ pick a past round · v verify it offline",
        "Craps   ←→ every bet · ↑↓ by six · p pass d don't c come",
        "        n don't come f field 4 5 6 8 9 0 place h hardways",
        "        y any 7 r any craps o horn e C&E · Enter bet",
        "        [ ] choose my bet · O odds behind it · X take it down",
        "Wallet  t transfer · ↑↓ tables · Enter open the table",
        "Validator  s bond stake",
        "",
        "any key closes this help",
    ];
    let area = popup(area, 66, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines.map(Line::raw).to_vec())
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" keys ")),
        area,
    );
}

/// A centred rectangle of at most `width` × `height` inside `area`.
pub fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

/// `craps1abcd…wxyz`: enough of an address to tell players apart.
pub fn short_address(address: &Address) -> String {
    let text = address.to_string();
    if text.len() <= 14 {
        return text;
    }
    format!("{}…{}", &text[..9], &text[text.len() - 4..])
}

/// `text` cut to `width` characters (with an ellipsis if cut).
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The next preset above (or below) `current`.
pub fn next_preset(presets: &[u64], current: u64, up: bool) -> u64 {
    if up {
        presets
            .iter()
            .copied()
            .find(|p| *p > current)
            .unwrap_or(current)
    } else {
        presets
            .iter()
            .rev()
            .copied()
            .find(|p| *p < current)
            .unwrap_or(current)
    }
}

/// The table of `game` after `current` in the list, wrapping.
pub fn next_table(tables: &[TableInfo], game: Game, current: Option<TableId>) -> Option<TableId> {
    let ids: Vec<TableId> = tables
        .iter()
        .filter(|t| Game::of(&t.game) == game)
        .map(|t| t.id)
        .collect();
    let at = current.and_then(|c| ids.iter().position(|id| *id == c));
    match at {
        Some(i) => ids.get((i + 1) % ids.len()).copied(),
        None => ids.first().copied(),
    }
}

/// A multiplier as a float, for plotting only.
pub fn multiplier_f64(m: Multiplier) -> f64 {
    m.bits() as f64 / f64::from(1u32 << 16) / f64::from(1u32 << 16)
}

/// A reject reason in a few words.
pub fn reject_reason(reason: &RejectReason) -> String {
    match reason {
        RejectReason::InsufficientBalance { needed, available } => {
            format!("not enough chips (needs {needed}, has {available})")
        }
        RejectReason::NotAtTable { table } => {
            format!("not seated at table {}", table.0)
        }
        RejectReason::BetRefused { reason } => reason.as_str().to_owned(),
        RejectReason::AlreadyBet { round, .. } => format!("already a bet in round {round}"),
        RejectReason::TableNotFound { table } => format!("no table {}", table.0),
        RejectReason::InsufficientBankroll { needed, available } => {
            format!("the bankroll cannot cover it (needs {needed}, free {available})")
        }
        RejectReason::RollInProgress { .. } => "the dice are rolling; bet after the roll".into(),
        other => {
            let text = format!("{other:?}");
            text.split([' ', '{']).next().unwrap_or("").to_owned()
        }
    }
}

/// Glyphs of the big number font: 3 columns × 5 rows.
fn glyph(c: char) -> [&'static str; 5] {
    match c {
        '0' => ["███", "█ █", "█ █", "█ █", "███"],
        '1' => [" █ ", "██ ", " █ ", " █ ", "███"],
        '2' => ["███", "  █", "███", "█  ", "███"],
        '3' => ["███", "  █", "███", "  █", "███"],
        '4' => ["█ █", "█ █", "███", "  █", "  █"],
        '5' => ["███", "█  ", "███", "  █", "███"],
        '6' => ["███", "█  ", "███", "█ █", "███"],
        '7' => ["███", "  █", "  █", "  █", "  █"],
        '8' => ["███", "█ █", "███", "█ █", "███"],
        '9' => ["███", "█ █", "███", "  █", "███"],
        '.' => ["   ", "   ", "   ", "   ", " █ "],
        '×' | 'x' => ["   ", "█ █", " █ ", "█ █", "   "],
        _ => ["   ", "   ", "   ", "   ", "   "],
    }
}

/// `text` in the big font: five lines.
pub fn big_text(text: &str) -> Vec<String> {
    (0..5)
        .map(|row| {
            text.chars()
                .map(|c| glyph(c)[row])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Pips of a die face: three rows of five columns.
fn pips(face: u8) -> [&'static str; 3] {
    match face {
        1 => ["     ", "  ●  ", "     "],
        2 => ["●    ", "     ", "    ●"],
        3 => ["●    ", "  ●  ", "    ●"],
        4 => ["●   ●", "     ", "●   ●"],
        5 => ["●   ●", "  ●  ", "●   ●"],
        _ => ["●   ●", "●   ●", "●   ●"],
    }
}

/// Two dice side by side: five lines.
pub fn dice_art(a: u8, b: u8) -> Vec<String> {
    let (pa, pb) = (pips(a), pips(b));
    let mut lines = vec!["┌─────┐ ┌─────┐".to_owned()];
    for row in 0..3 {
        lines.push(format!("│{}│ │{}│", pa[row], pb[row]));
    }
    lines.push("└─────┘ └─────┘".to_owned());
    lines
}
