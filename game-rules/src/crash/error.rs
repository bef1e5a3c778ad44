//! What can go wrong in the crash engine; each message says what and what to do.

use super::{BetId, Multiplier, Phase};
use crate::Chips;

/// An operation on the crash engine was rejected. A rejected operation changes
/// nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CrashError {
    /// Raw multiplier bits outside 1.00×..=1,000,000×.
    #[error(
        "multiplier bits {bits} are outside 1.00× (2^32) to 1000000.00× (10^6·2^32); pass bits in that range"
    )]
    MultiplierOutOfRange {
        /// The bits given.
        bits: u64,
    },
    /// A multiplier in hundredths outside 1.00×..=1,000,000×.
    #[error(
        "{hundredths} hundredths is not a multiplier from 1.00× to 1000000.00×; pass 100 to 100000000"
    )]
    HundredthsOutOfRange {
        /// The hundredths given.
        hundredths: u64,
    },
    /// An interval whose end multiplier is below its start.
    #[error("the interval ends at {to}, below its start {from}; tick multipliers never decrease")]
    IntervalBackwards {
        /// The start of the interval.
        from: Multiplier,
        /// The end of the interval.
        to: Multiplier,
    },
    /// Table rules that make no sense.
    #[error("invalid crash rules: {reason}")]
    InvalidRules {
        /// What is wrong.
        reason: &'static str,
    },
    /// A bet or a start outside the betting phase.
    #[error(
        "the round is {phase}, not betting; bets are placed and rounds started only while betting"
    )]
    NotBetting {
        /// The round's phase.
        phase: Phase,
    },
    /// A bet id already used in this round.
    #[error("{bet} is already in this round; choose an unused bet id")]
    DuplicateBet {
        /// The id.
        bet: BetId,
    },
    /// The round is full.
    #[error("the round already has its maximum of {max} bets; bet in the next round")]
    TooManyBets {
        /// The table's maximum.
        max: u32,
    },
    /// A stake below the table minimum.
    #[error("a stake of {amount} is below the table minimum of {min}; stake at least the minimum")]
    BetBelowMinimum {
        /// The stake.
        amount: Chips,
        /// The minimum.
        min: Chips,
    },
    /// A stake above the table maximum.
    #[error("a stake of {amount} is above the table maximum of {max}; stake at most the maximum")]
    BetAboveMaximum {
        /// The stake.
        amount: Chips,
        /// The maximum.
        max: Chips,
    },
    /// An auto-cash-out target at or below 1.00×.
    #[error(
        "an auto-cash-out target of {target} is not above 1.00×; choose a target above 1.00× or none"
    )]
    TargetTooLow {
        /// The target.
        target: Multiplier,
    },
    /// The total staked would not fit in 64 bits.
    #[error("the round's total stake would overflow; bet in the next round")]
    StakesOverflow,
    /// The payout cap is below the total staked.
    #[error(
        "the payout cap {cap} is below the {staked} staked, so stakes could not even be returned; raise the cap or void the round"
    )]
    CapBelowStakes {
        /// The total staked.
        staked: Chips,
        /// The cap given.
        cap: Chips,
    },
    /// A tick, cash-out or decision while the round is not running.
    #[error(
        "the round is {phase}, not running; ticks, cash-outs and decisions need a running round"
    )]
    NotRunning {
        /// The round's phase.
        phase: Phase,
    },
    /// A tick after the tick that reached 1,000,000×.
    #[error(
        "tick {tick} already reached 1000000.00×; decide the remaining intervals to finish the round"
    )]
    MaximumReached {
        /// The tick at the maximum.
        tick: u32,
    },
    /// Too many ticks in one round.
    #[error("the round already has {max} ticks; timestamps must advance, or void the round")]
    TooManyTicks {
        /// The limit.
        max: u32,
    },
    /// A tick earlier than the previous one.
    #[error(
        "a tick at {timestamp_ms} ms is before the previous tick at {previous_ms} ms; block timestamps must not go back"
    )]
    TickBeforePrevious {
        /// The timestamp given.
        timestamp_ms: u64,
        /// The previous tick's timestamp.
        previous_ms: u64,
    },
    /// A cash-out before the first tick after the start.
    #[error("the round has not ticked since it started; cash out after the first tick")]
    NoTickYet,
    /// A bet id not in this round.
    #[error("{bet} is not in this round; check the bet id")]
    UnknownBet {
        /// The id.
        bet: BetId,
    },
    /// A cash-out for a bet already cashing out.
    #[error("{bet} is already cashing out at {at}; wait for its settlement")]
    AlreadyCashingOut {
        /// The id.
        bet: BetId,
        /// Where it cashes out.
        at: Multiplier,
    },
    /// A cash-out for a settled bet.
    #[error("{bet} is already settled; nothing to cash out")]
    AlreadySettled {
        /// The id.
        bet: BetId,
    },
    /// A payout that does not fit in 64 bits (the risk cap prevents it).
    #[error("the payout of {bet} would overflow 64 bits; lower the round's payout cap")]
    PayoutOverflow {
        /// The id.
        bet: BetId,
    },
    /// A decision for an interval whose ending tick is not recorded.
    #[error(
        "interval {interval} ends at tick {interval}, which is not recorded yet; record the tick first"
    )]
    NothingToDecide {
        /// The next interval to decide.
        interval: u32,
    },
    /// An instant crash given for a later interval.
    #[error(
        "an instant crash can only be decided with interval 1, not interval {interval}; draw it only for the first interval"
    )]
    InstantCrashNotFirst {
        /// The interval being decided.
        interval: u32,
    },
    /// Voiding a round that is already over.
    #[error("the round is already {phase}; there is nothing left to void")]
    RoundOver {
        /// The round's phase.
        phase: Phase,
    },
    /// A tick schedule with a zero interval.
    #[error("a tick interval of 0 ms never advances; use at least 1 ms")]
    ZeroTickInterval,
    /// A tick schedule whose times go back.
    #[error(
        "tick {index} of the schedule is earlier than the one before; list elapsed times in order"
    )]
    ScheduleOutOfOrder {
        /// The offending tick (1-based).
        index: usize,
    },
    /// A tick schedule that ends before reaching a target.
    #[error("the tick schedule ends at {reached}, before the target {target}; extend it")]
    ScheduleTooShort {
        /// The target.
        target: Multiplier,
        /// The multiplier at the schedule's last tick.
        reached: Multiplier,
    },
}
