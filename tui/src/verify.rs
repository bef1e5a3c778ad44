//! # Verifying a round offline
//!
//! [`verify`] re-checks a finished round from what the API serves
//! (`GET /v1/rounds/{table}/{round}`), with the same functions the ledger
//! uses and nothing from the node but data:
//!
//! 1. σ is the epoch's threshold BLS signature of the beacon message
//!    ([`consensus::beacon::verify_beacon`] with the served group key);
//! 2. the outcome derived from σ with `game-rules` is the one the ledger
//!    recorded: for crash, the decision of the interval that crashed
//!    ([`Draws::derive`] with the label `table ‖ round ‖ interval`, then
//!    [`IntervalDecision::crash_point`]); for craps, the dice
//!    ([`consensus::ledger::records::craps_dice`]).
//!
//! The crashed interval is the position (from 1) of the crashing beacon
//! entry in the round's `randomness` list, which the API lists in interval
//! order; its ends are the ticks before and at it (the round starts at
//! 1.00×). A wrong pairing cannot pass: the label binds the interval.

use consensus::beacon::{BeaconMessage, GroupKey, verify_beacon};
use consensus::ledger::records::{craps_dice, crash_label};
use consensus::receipt::LedgerEvent;
use consensus::tx::TableId;
use game_rules::Roll;
use game_rules::crash::{Draws, IntervalDecision, Multiplier};
use game_rules::randomness::Randomness;
use node::api::{RoundInfo, RoundRandomness};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use wallet::ChainId;

/// What the ledger recorded and what was derived again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A crash round's crash.
    Crash {
        /// The interval that crashed, from 1.
        interval: u32,
        /// Its start and end multipliers.
        from: Multiplier,
        /// Its end.
        to: Multiplier,
        /// The crash point the ledger recorded.
        recorded: Multiplier,
        /// The crash point derived from σ (`None`: the interval survives,
        /// which contradicts the record).
        derived: Option<Multiplier>,
    },
    /// A craps roll.
    Dice {
        /// The dice the ledger recorded.
        recorded: Roll,
        /// The dice derived from σ.
        derived: Roll,
    },
}

impl Outcome {
    /// Whether the derivation agrees with the record.
    pub fn agrees(&self) -> bool {
        match self {
            Outcome::Crash {
                recorded, derived, ..
            } => *derived == Some(*recorded),
            Outcome::Dice { recorded, derived } => recorded == derived,
        }
    }
}

/// The result of checking one round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// The table.
    pub table: TableId,
    /// The round or roll number.
    pub round: u64,
    /// The beacon entry that decided it.
    pub randomness: Option<RoundRandomness>,
    /// The check of σ against the group key.
    pub signature: Result<(), String>,
    /// The block the message signs, as the message says.
    pub signed_block: Option<BeaconMessage>,
    /// The outcome check.
    pub outcome: Result<Outcome, String>,
}

impl Verification {
    /// Whether everything checks.
    pub fn passed(&self) -> bool {
        self.signature.is_ok() && self.outcome.as_ref().is_ok_and(Outcome::agrees)
    }
}

/// Checks `info`; `chain` is the chain the node follows (the signed
/// message must be for it).
pub fn verify(info: &RoundInfo, chain: Option<ChainId>) -> Verification {
    let table = info.summary.table;
    let round = info.summary.round;
    let decided = info.events.iter().find_map(|event| match *event {
        LedgerEvent::Crashed {
            at, beacon_height, ..
        } => Some((beacon_height, Some(at), None)),
        LedgerEvent::DiceRolled {
            dice,
            beacon_height,
            ..
        } => Some((beacon_height, None, Some(dice))),
        _ => None,
    });
    let Some((beacon_height, crash_point, dice)) = decided else {
        return Verification {
            table,
            round,
            randomness: None,
            signature: Err(
                "the round has no recorded outcome to check (void or not finished)".into(),
            ),
            signed_block: None,
            outcome: Err("nothing to derive".into()),
        };
    };
    let Some((position, entry)) = info
        .randomness
        .iter()
        .enumerate()
        .find(|(_, r)| r.entry.height == beacon_height)
    else {
        return Verification {
            table,
            round,
            randomness: None,
            signature: Err(format!(
                "the node served no beacon entry for height {beacon_height}"
            )),
            signed_block: None,
            outcome: Err("no randomness to derive from".into()),
        };
    };
    let (signature, signed_block) = check_signature(entry, chain);
    let sigma = entry.entry.signature.as_bytes();
    let outcome = match (crash_point, dice) {
        (Some(recorded), _) => {
            let ticks: Vec<Multiplier> = info
                .events
                .iter()
                .filter_map(|e| match *e {
                    LedgerEvent::CrashTick { multiplier, .. } => Some(multiplier),
                    _ => None,
                })
                .collect();
            let interval = position as u32 + 1;
            let from = if interval == 1 {
                Some(Multiplier::ONE)
            } else {
                ticks.get(position - 1).copied()
            };
            match (from, ticks.get(position).copied()) {
                (Some(from), Some(to)) => {
                    let label = crash_label(table, round, interval);
                    let draws = Draws::derive(
                        &Randomness::from_beacon_output(sigma),
                        &label,
                        interval == 1,
                    );
                    IntervalDecision::new(draws, from, to)
                        .map(|decision| Outcome::Crash {
                            interval,
                            from,
                            to,
                            recorded,
                            derived: decision.crash_point(),
                        })
                        .map_err(|e| e.to_string())
                }
                _ => Err(format!(
                    "the round's events have no tick for interval {interval}"
                )),
            }
        }
        (None, Some(recorded)) => Ok(Outcome::Dice {
            recorded,
            derived: craps_dice(sigma, table, round),
        }),
        (None, None) => Err("nothing to derive".into()),
    };
    Verification {
        table,
        round,
        randomness: Some(entry.clone()),
        signature,
        signed_block,
        outcome,
    }
}

fn check_signature(
    entry: &RoundRandomness,
    chain: Option<ChainId>,
) -> (Result<(), String>, Option<BeaconMessage>) {
    let message = hex::decode(&entry.message)
        .map_err(|e| format!("the message is not hex: {e}"))
        .and_then(|bytes| {
            borsh::from_slice::<BeaconMessage>(&bytes)
                .map_err(|e| format!("the message is not a beacon message: {e}"))
        });
    let message = match message {
        Ok(message) => message,
        Err(e) => return (Err(e), None),
    };
    let check = (|| {
        if message.height != entry.entry.height {
            return Err(format!(
                "the message signs height {}, not the entry's {}",
                message.height, entry.entry.height
            ));
        }
        if chain.is_some_and(|c| c != message.chain_id) {
            return Err("the message is for another chain".to_owned());
        }
        let key = hex::decode(&entry.group_public_key)
            .map_err(|e| format!("the group key is not hex: {e}"))?;
        let key = GroupKey::from_bytes(&key).map_err(|e| e.to_string())?;
        verify_beacon(&key, &message, entry.entry.signature.as_bytes()).map_err(|e| e.to_string())
    })();
    (check, Some(message))
}

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
