//! # Craps: the full table
//!
//! A [`CrapsTable`] is a pure state machine the ledger stores per table and
//! drives block by block: requests between rolls
//! ([`place_bet`](CrapsTable::place_bet), [`set_odds`](CrapsTable::set_odds),
//! [`set_working`](CrapsTable::set_working),
//! [`take_down`](CrapsTable::take_down)), then one
//! [`roll`](CrapsTable::roll) per roll of the dice. It knows nothing of
//! players: every bet carries a caller-assigned [`BetId`] and the ledger maps
//! ids to players (and the [`shooter`](CrapsTable::shooter) counter to the
//! player holding the dice). Bets are kept in a `BTreeMap` and always handled
//! in `BetId` order, so every node computes the same resolutions in the same
//! order.
//!
//! ## Design
//!
//! - One bet type, [`Bet`], with one enum of kinds, [`BetKind`]. Odds are not
//!   a separate bet: they are the `odds` amount carried by a pass, don't pass,
//!   come or don't come bet once it has a point, set with
//!   [`set_odds`](CrapsTable::set_odds). A line bet's own point is stored on
//!   the bet (pass and don't pass get the table's point on the come-out roll
//!   that sets it; come and don't come travel on their first roll).
//! - Numbers are typed ([`PointNumber`], [`HardNumber`], [`Hop`]); their
//!   constructors refuse anything else ([`CrapsError::InvalidNumber`],
//!   [`CrapsError::InvalidHardway`], [`CrapsError::InvalidHop`]), so a bet on
//!   the table is always valid.
//! - Modules: [`bet`] (what a bet is), [`rules`] (table rules and payouts),
//!   [`table`] (state and requests), [`resolution`] (rolls), [`analysis`]
//!   (exact house edges computed from this engine), [`error`].
//!
//! ## Table rules chosen ([`TableRules`], all configurable)
//!
//! - Limits: `min_bet ≤ amount ≤ max_bet` for every bet (not for odds, which
//!   have the odds limit). Horn amounts must be a multiple of 4 and C&E
//!   amounts even, so the parts are equal.
//! - Odds: 3-4-5× by default (pass/come odds up to 3× the line bet on 4/10,
//!   4× on 5/9, 5× on 6/8); lay odds up to what wins the same multiple of the
//!   line bet, which is 6× the line bet on every point. [`OddsLimit::Flat`]
//!   gives N× on every point (lay odds up to what wins N× the line bet).
//! - Phases: pass and don't pass are placed only on the come-out; come and
//!   don't come only while a point is on; odds only behind a line bet with a
//!   point ([`CrapsError::OddsWithoutLineBet`]). Everything else any time.
//! - Working: line bets always work. By default come odds, place, buy and
//!   hardways are off on the come-out; lay bets, don't come odds, big 6/8 and
//!   one-roll bets work; while a point is on everything works. The player can
//!   switch any bet (for a line bet: its odds) [`Working::On`] or
//!   [`Working::Off`] with [`set_working`](CrapsTable::set_working). A bet
//!   that is off is not touched by the roll; odds that are off when their line
//!   bet is decided are returned ([`Outcome::ReturnedWhileOff`]).
//! - Taking down ([`take_down`](CrapsTable::take_down)): pass and come bets
//!   with a point are contract bets and cannot come down
//!   ([`CrapsError::ContractBet`]); before their first roll they can. Don't
//!   pass and don't come can come down any time (with their odds); odds any
//!   time (set them to zero); place, buy, lay, hardways, big 6/8 any time;
//!   one-roll bets any time before they are rolled (afterwards they are gone).
//! - Don't pass and don't come bar 12: a 12 on their first roll is a push —
//!   the stake is returned and the bet comes down.
//! - After a win, place, buy, lay, hardway and big 6/8 bets stay up: the
//!   winnings are paid and the stake stays in escrow, as in a casino. Line
//!   bets and one-roll bets come down when decided.
//! - A seven-out ends the shooter's turn: the [`RollOutcome`] says
//!   `shooter_changed` and the table's shooter counter goes up by one.
//!
//! ## Payouts (to 1)
//!
//! Pass/don't pass/come/don't come 1:1; odds 4/10 2:1, 5/9 3:2, 6/8 6:5; lay
//! odds 4/10 1:2, 5/9 2:3, 6/8 5:6; place 4/10 9:5, 5/9 7:5, 6/8 7:6; buy at
//! true odds with 5% of the bet as commission, lay at true odds with 5% of the
//! win as commission, both taken only on a win; field 1:1, 2 pays 2:1, 12
//! pays 3:1; hard 6/8 9:1, hard 4/10 7:1; any 7 4:1; any craps 7:1; 2 and 12
//! 30:1; 3 and 11 15:1; horn: the winning quarter pays 30:1 (2, 12) or 15:1
//! (3, 11) and the other three quarters lose; C&E: the winning half pays 7:1
//! (craps) or 15:1 (11) and the other half loses; hop easy 15:1, hard 30:1;
//! big 6/8 1:1.
//!
//! ## The rounding rule
//!
//! Amounts are whole chips. **Winnings are rounded down to the chip;
//! commissions are rounded up.** A 5-chip place 6 wins 5 (not 5.83); a
//! 1-chip buy pays a 1-chip commission. Rounding the commission down instead
//! would let a buy bet under 20 chips pay no commission at all and beat the
//! house at true odds. With stakes that make every payout whole (multiples of
//! 6 on 6/8, of 5 on 4/10 place, …) nothing is rounded; the exact edges in
//! [`analysis`] use such stakes.
//!
//! ## Book-keeping: where the chips go
//!
//! Three pots: the player's balance, the table's escrow
//! ([`CrapsTable::escrow`], the stakes and odds of all bets on the table) and
//! the bankroll.
//!
//! - [`place_bet`](CrapsTable::place_bet)`(id, kind, amount)`: player →
//!   escrow `amount`.
//! - [`set_odds`](CrapsTable::set_odds)`(id, odds)` returns the previous odds
//!   `before`: player → escrow `odds − before` if positive, escrow → player
//!   `before − odds` otherwise.
//! - [`take_down`](CrapsTable::take_down)`(id)` returns the bet's stake plus
//!   odds: escrow → player.
//! - [`roll`](CrapsTable::roll): for each [`Resolution`], for its stake and
//!   for its odds, a [`Settlement`]: escrow → player `returned`, escrow →
//!   bankroll `lost`, `kept` stays in escrow, bankroll → player `winnings −
//!   commission` (the commission is withheld from the winnings). A win that
//!   comes down therefore gives the player `stake + winnings − commission`; a
//!   win that stays up gives `winnings − commission` and keeps the stake in
//!   escrow; a loss gives the bankroll the stake; a push returns the stake.
//!
//! For every roll, exactly (checked by the property tests):
//!
//! ```text
//! Σ returned + Σ lost + Σ kept = escrow held before by the bets resolved
//! escrow_after = escrow_before − Σ returned − Σ lost
//! to_player + to_bankroll + escrow_after = escrow_before + winnings_paid
//!   where to_player = Σ (returned + winnings − commission),
//!         to_bankroll = Σ (lost + commission), winnings_paid = Σ winnings.
//! ```
//!
//! ## Exact house edges
//!
//! [`analysis`] computes every bet's house edge as an exact rational from this
//! engine itself — a bet on a fresh table, all 36 rolls through
//! [`CrapsTable::roll`], the Markov chain of table states solved in rational
//! arithmetic — and the tests compare them with the design table.

pub mod analysis;
pub mod bet;
pub mod error;
pub mod resolution;
pub mod rules;
pub mod table;

#[cfg(test)]
mod properties;

pub use bet::{Bet, BetId, BetKind, HardNumber, Hop, PointNumber, Working};
pub use error::CrapsError;
pub use resolution::{Outcome, Resolution, RollEvent, RollOutcome, Settlement};
pub use rules::{ComeOutWorking, OddsLimit, Pays, TableRules};
pub use table::{CrapsTable, Phase};
