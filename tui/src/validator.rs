//! # The validator screen
//!
//! The node's chain position (height, epoch, peers, sync), the rate at
//! which blocks are finalized — measured from the agreed timestamps of the
//! blocks the WebSocket delivers — and the validator set with each one's
//! stake, uptime and missed views (views of the current epoch it led that
//! produced no finalized block, exact from the chain); the node wallet's
//! own stake, and a key to bond more.

use std::collections::VecDeque;

use node::api::ValidatorInfo;
use node::client::Status;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};

use crate::app::{App, Key, PromptKind, Request};
use crate::ui;

/// How many recent blocks the rate is measured over.
const WINDOW: usize = 64;

/// The validator screen's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValidatorState {
    /// The validator set, once read.
    pub validators: Option<Vec<ValidatorInfo>>,
    /// Recent finalized blocks: (height, timestamp ms).
    pub blocks: VecDeque<(u64, u64)>,
}

impl ValidatorState {
    /// Records a finalized block.
    pub fn observe_block(&mut self, height: u64, timestamp_ms: u64) {
        if self.blocks.back().is_some_and(|(h, _)| *h >= height) {
            return;
        }
        self.blocks.push_back((height, timestamp_ms));
        while self.blocks.len() > WINDOW {
            self.blocks.pop_front();
        }
    }

    /// Forgets blocks older than a jump in height the status reveals (the
    /// WebSocket missed some), so the rate is not skewed.
    pub fn observe_status(&mut self, status: &Status, _now_ms: u64) {
        if let (Some(height), Some((last, _))) = (status.node.height, self.blocks.back())
            && height > last + WINDOW as u64
        {
            self.blocks.clear();
        }
    }

    /// Finalized blocks per second over the window, and the mean interval
    /// in ms: heights advanced over chain time passed.
    pub fn rate(&self) -> Option<(f64, u64)> {
        let (h0, t0) = *self.blocks.front()?;
        let (h1, t1) = *self.blocks.back()?;
        if h1 <= h0 || t1 <= t0 {
            return None;
        }
        let blocks = (h1 - h0) as f64;
        let ms = (t1 - t0) as f64;
        Some((blocks * 1000.0 / ms, ((t1 - t0) / (h1 - h0))))
    }

    /// The intervals between consecutive blocks, ms.
    pub fn intervals(&self) -> Vec<u64> {
        self.blocks
            .iter()
            .zip(self.blocks.iter().skip(1))
            .map(|(a, b)| b.1.saturating_sub(a.1))
            .collect()
    }
}

/// Keys of the validator screen.
pub fn key(app: &mut App, key: Key) -> Vec<Request> {
    if key == Key::Char('s') {
        app.ask(PromptKind::Stake);
    }
    Vec::new()
}

/// The key help of this screen.
pub const KEYS: &str = "s bond stake";

/// Draws the validator screen into `area`.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let [top, set] = Layout::vertical([Constraint::Length(8), Constraint::Min(4)]).areas(area);
    let [node, rate] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    render_node(frame, node, app);
    render_rate(frame, rate, app);
    render_set(frame, set, app);
}

fn render_node(frame: &mut Frame, area: Rect, app: &App) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    match &app.node {
        Some(status) => {
            let n = &status.node;
            lines.push(Line::from(vec![
                Span::raw("height "),
                Span::styled(n.height.map_or("—".to_owned(), |h| h.to_string()), bold),
                Span::raw("  epoch "),
                Span::styled(n.epoch.to_string(), bold),
                Span::raw("  peers "),
                Span::styled(n.peers.to_string(), bold),
            ]));
            lines.push(Line::raw(format!("mempool {} txs", n.mempool_transactions)));
            lines.push(match &n.sync {
                Some(p) if n.syncing => Line::styled(
                    format!("syncing {} of {}", p.height, p.target),
                    Style::new().fg(Color::Yellow),
                ),
                _ if n.syncing => Line::styled("syncing", Style::new().fg(Color::Yellow)),
                _ => Line::styled("synced", Style::new().fg(Color::Green)),
            });
            let hex = n.chain_id.to_string();
            lines.push(Line::raw(format!("chain {}", ui::fit(&hex, 16))));
            let mine = status.wallet.and_then(|me| {
                app.validator
                    .validators
                    .as_ref()
                    .and_then(|set| set.iter().find(|v| v.address == me))
            });
            let stake = match (mine, &app.account) {
                (Some(v), _) => format!(
                    "my stake {} ({})",
                    v.stake,
                    if v.active { "active" } else { "inactive" }
                ),
                (None, Some(a)) => format!("my stake {} (not a validator)", a.stake),
                (None, None) => "my stake —".to_owned(),
            };
            lines.push(Line::raw(stake));
        }
        None => lines.push(Line::raw("waiting for the node…")),
    }
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" node ")),
        area,
    );
}

fn render_rate(frame: &mut Frame, area: Rect, app: &App) {
    let block = Block::bordered().title(" finalization ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [text, spark] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    let line = match app.validator.rate() {
        Some((per_second, interval)) => format!(
            "{per_second:.2} blocks/s · {interval} ms/block\nover the last {} blocks",
            app.validator.blocks.len()
        ),
        None => "measuring: waiting for blocks".to_owned(),
    };
    frame.render_widget(Paragraph::new(line), text);
    let intervals = app.validator.intervals();
    let shown = &intervals[intervals.len().saturating_sub(spark.width as usize)..];
    frame.render_widget(
        Sparkline::default()
            .data(shown)
            .style(Style::new().fg(Color::Cyan)),
        spark,
    );
}

fn render_set(frame: &mut Frame, area: Rect, app: &App) {
    let rows = area.height.saturating_sub(3) as usize;
    let mut lines = vec![Line::styled(
        format!(
            "{:<16}{:>12}{:>9}{:>8}{:>8}  {}",
            "validator", "stake", "active", "uptime", "missed", "slashed"
        ),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    match &app.validator.validators {
        None => lines.push(Line::raw("reading the validator set…")),
        Some(set) if set.is_empty() => lines.push(Line::raw("no validators registered")),
        Some(set) => {
            let me = app.me();
            lines.extend(set.iter().take(rows).map(|v| {
                let who = if Some(v.address) == me {
                    "this node".to_owned()
                } else {
                    ui::short_address(&v.address)
                };
                let style = if v.slashed {
                    Style::new().fg(Color::Red)
                } else if !v.active {
                    Style::new().fg(Color::DarkGray)
                } else {
                    Style::new()
                };
                Line::styled(
                    format!(
                        "{who:<16}{:>12}{:>9}{:>7.1}%{:>8}  {}",
                        v.stake,
                        if v.active { "yes" } else { "no" },
                        v.uptime * 100.0,
                        v.missed_heights,
                        if v.slashed {
                            format!("{}", v.slashed_amount)
                        } else {
                            "no".to_owned()
                        }
                    ),
                    style,
                )
            }));
        }
    }
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" validators · missed = views led without a block, this epoch "),
        ),
        area,
    );
}
