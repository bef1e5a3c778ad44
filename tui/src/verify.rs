//! # The verify view
//!
//! Draws the offline verification of a finished round. The check itself
//! ([`verify`], re-deriving the outcome from σ with the ledger's own
//! functions) lives in the node library's client
//! ([`node::client::verify`]), shared with `bitcraps explore round`; it is
//! re-exported here for the app, which runs it on the round the node
//! serves.

use node::client::verify::Outcome;
pub use node::client::verify::{Verification, verify};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

fn mark(ok: bool) -> Span<'static> {
    if ok {
        Span::styled(
            "✓ ",
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        )
    } else {
        Span::styled(
            "✗ ",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )
    }
}

/// Draws the verify view.
pub fn render(frame: &mut Frame, area: Rect, v: &Verification) {
    let mut lines = Vec::new();
    let verdict = if v.passed() {
        Span::styled(
            "VERIFIED: σ is the validators' signature and the outcome follows from it",
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        )
    } else {
        Span::styled(
            "NOT VERIFIED",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )
    };
    lines.push(Line::from(verdict));
    lines.push(Line::raw(""));
    if let Some(r) = &v.randomness {
        lines.push(Line::raw(format!(
            "beacon entry for height {} (published at {}, epoch {})",
            r.entry.height, r.published_height, r.epoch
        )));
        lines.push(Line::raw(format!(
            "σ = {}",
            hex::encode(r.entry.signature.as_bytes())
        )));
        lines.push(Line::raw(format!("derivation {}", r.derivation)));
    }
    if let Some(m) = &v.signed_block {
        lines.push(Line::raw(format!(
            "signs block {} at height {}, epoch {}",
            m.block, m.height, m.epoch
        )));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(match &v.signature {
        Ok(()) => vec![
            mark(true),
            Span::raw("σ verifies under the epoch's group key"),
        ],
        Err(e) => vec![mark(false), Span::raw(format!("signature: {e}"))],
    }));
    lines.push(Line::from(match &v.outcome {
        Ok(Outcome::Crash {
            interval,
            from,
            to,
            recorded,
            derived,
        }) => vec![
            mark(derived == &Some(*recorded)),
            Span::raw(format!(
                "interval {interval} ({from} → {to}): derived crash at {}, ledger {recorded}",
                derived.map_or("none (survives)".to_owned(), |d| d.to_string())
            )),
        ],
        Ok(Outcome::Dice { recorded, derived }) => vec![
            mark(recorded == derived),
            Span::raw(format!("derived dice {derived}, ledger {recorded}")),
        ],
        Err(e) => vec![mark(false), Span::raw(format!("outcome: {e}"))],
    }));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Esc or v to close",
        Style::new().fg(Color::DarkGray),
    ));
    let title = format!(" verify table {} round {} ", v.table.0, v.round);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(title)),
        area,
    );
}
