//! Why a craps request was refused.
//!
//! Every refusal names what was wrong and what to do instead. A refused request
//! leaves the table exactly as it was.

use super::bet::{BetId, BetKind, PointNumber};
use super::table::Phase;
use crate::Chips;

/// A request to a [`CrapsTable`](super::CrapsTable) that was refused, or a
/// computation whose result would not fit in 64 bits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CrapsError {
    /// The bet amount is zero.
    #[error("a bet of 0 chips on {kind}: a bet must be at least the table minimum of {min}")]
    ZeroAmount {
        /// What the bet was on.
        kind: BetKind,
        /// The table minimum.
        min: Chips,
    },

    /// The bet amount is under the table minimum.
    #[error("{amount} on {kind} is under the table minimum of {min}: bet at least the minimum")]
    BelowMinimum {
        /// What the bet was on.
        kind: BetKind,
        /// The amount offered.
        amount: Chips,
        /// The table minimum.
        min: Chips,
    },

    /// The bet amount is over the table maximum.
    #[error("{amount} on {kind} is over the table maximum of {max}: bet at most the maximum")]
    AboveMaximum {
        /// What the bet was on.
        kind: BetKind,
        /// The amount offered.
        amount: Chips,
        /// The table maximum.
        max: Chips,
    },

    /// A split bet (horn, C&E) whose amount does not divide into equal parts.
    #[error(
        "{kind} is split in {parts} equal parts, so its amount must be a multiple of {parts}; \
         {amount} is not: bet a multiple of {parts}"
    )]
    UnevenSplit {
        /// What the bet was on.
        kind: BetKind,
        /// The amount offered.
        amount: Chips,
        /// How many equal parts the bet is split into.
        parts: u64,
    },

    /// The bet kind may not be placed in the table's current phase.
    #[error("{kind} cannot be placed {phase}: {rule}")]
    NotAllowedInPhase {
        /// What the bet was on.
        kind: BetKind,
        /// The phase the table is in.
        phase: Phase,
        /// The rule that refuses it, and what to bet instead.
        rule: &'static str,
    },

    /// The bet id is already used by a bet on this table.
    #[error("bet id {id} is already on this table: give each bet a new id")]
    DuplicateBetId {
        /// The id offered.
        id: BetId,
    },

    /// No bet with this id is on the table.
    #[error(
        "no bet {id} on this table: it was never placed, or it has been resolved or taken down"
    )]
    UnknownBet {
        /// The id asked for.
        id: BetId,
    },

    /// Odds were asked for behind something that is not a line bet with a point.
    #[error(
        "odds without a line bet: bet {id} is {kind} without an established point; odds go \
         behind a pass, don't pass, come or don't come bet once its point is set"
    )]
    OddsWithoutLineBet {
        /// The bet the odds were asked for.
        id: BetId,
        /// What that bet is.
        kind: BetKind,
    },

    /// The odds asked for exceed the table's odds limit for this bet.
    #[error(
        "{odds} of odds on bet {id} (point {point}) is over the table limit of {max}: take at \
         most {max}"
    )]
    OddsOverLimit {
        /// The line bet the odds are behind.
        id: BetId,
        /// The point of that line bet.
        point: PointNumber,
        /// The odds asked for.
        odds: Chips,
        /// The most odds the table allows behind this bet.
        max: Chips,
    },

    /// A contract bet cannot be taken down.
    #[error(
        "bet {id} ({kind}) is a contract bet on point {point} and cannot be taken down: it stays \
         until the point or a seven decides it (its odds can be taken down with zero odds)"
    )]
    ContractBet {
        /// The bet asked to come down.
        id: BetId,
        /// What it is.
        kind: BetKind,
        /// Its point.
        point: PointNumber,
    },

    /// A number that is not a box number (4, 5, 6, 8, 9, 10).
    #[error(
        "{total} is not a box number: points and place, buy and lay bets are on 4, 5, 6, 8, 9 or 10"
    )]
    InvalidNumber {
        /// The number offered.
        total: u8,
    },

    /// A hardway on a number that has none.
    #[error("there is no hard {total}: hardways are 4, 6, 8 and 10")]
    InvalidHardway {
        /// The number offered.
        total: u8,
    },

    /// A hop on faces that are not dice.
    #[error("hop {first}-{second} is not a pair of dice: each die shows 1 to 6")]
    InvalidHop {
        /// The first face offered.
        first: u8,
        /// The second face offered.
        second: u8,
    },

    /// The table rules are inconsistent or outside what the engine supports.
    #[error("table rules rejected: {reason}")]
    InvalidRules {
        /// What is wrong and what to change.
        reason: &'static str,
    },

    /// A sum or product of amounts does not fit in 64 bits. With validated
    /// [`TableRules`](super::TableRules) this does not happen for a single bet;
    /// it guards the totals.
    #[error(
        "amount overflow computing {what}: the amounts are too large for 64-bit chips; use \
         smaller bets"
    )]
    Overflow {
        /// What was being computed.
        what: &'static str,
    },
}
