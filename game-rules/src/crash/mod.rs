//! # Crash
//!
//! A multiplier grows as `m(t) = e^(0.00006·t)` (`t` in milliseconds since the round
//! started) until the round crashes; a bet cashed out before the crash pays its stake
//! times the multiplier, a bet still in at the crash loses. Nobody knows the crash
//! point in advance: each stretch of time is decided by beacon randomness produced
//! after that stretch's end was fixed.
//!
//! | module | concept |
//! |---|---|
//! | [`multiplier`] | [`Multiplier`]: Q32.32 fixed point, `m(t)` computed exactly with integers |
//! | [`decision`] | [`Draws`], [`IntervalDecision`]: the instant crash and the survival of one interval |
//! | [`round`] | [`CrashRound`]: bets, ticks, cash-outs, decisions, the risk cap, settlements |
//! | [`analysis`] | exact expected return and reach probability from the decision rule |
//!
//! ## Fixed point and precision
//!
//! A [`Multiplier`] is `bits / 2^32` in a `u64` (Q32.32), from 1.00× (`2^32`) to
//! 1,000,000× (`10^6·2^32 < 2^52`). The tick multiplier is defined exactly:
//! `Multiplier::at(t) = floor(e^(6t/100000)·2^32)` for `t < 230,259 ms`, and
//! 1,000,000× from there on. It is computed with `u128` integers — range reduction by
//! `ln 2`, a 30-term Taylor series in 120-bit fixed point — with an error below
//! `2^-63` of the last bit (see [`multiplier`]); the smallest distance from
//! `e^x·2^32` to an integer over the whole range is `3.1·10^-7`, so the floor is
//! exact everywhere. A test proves that margin for every millisecond, and another
//! checks a blake3 digest of all 230,260 values against an independent `decimal`
//! computation (`vectors/generate_crash.py`, `vectors/crash-v1.json`).
//!
//! ## The decisions
//!
//! 1% of rounds crash instantly at 1.00×: `stream(CrashInstant, label).below(100) == 0`,
//! read together with the first interval. The interval `(t_{k−1}, t_k]` then draws
//! `u = stream(CrashInterval, label).uniform()` (a numerator over `2^52`) and a
//! target `x` in it (`m_{k−1} < x ≤ m_k`) is reached iff `u·x ≤ m_{k−1}·2^52`; the
//! interval survives iff `m_k` is reached. That is a crash at `c = m_{k−1}·2^52/u`,
//! and survival has probability `≈ m_{k−1}/m_k = e^(−λ·(t_k − t_{k−1}))`,
//! independent of the past (memoryless).
//!
//! ## Why the expected return is exactly 0.99
//!
//! `P(reach x) = 0.99 · (m_0/m_1)·(m_1/m_2)·…·(m_{j−1}/x) = 0.99/x`: the ratios
//! telescope, whatever the tick times, so an auto-cash-out at `x` returns
//! `x · 0.99/x = 0.99`, and so does any other way of choosing when to cash out (the
//! value `m_k·1{survived to k}` is a martingale once the instant crash is past).
//! With `u` on a grid of `2^-52`, each ratio is over-estimated by at most `2^-52`, so
//! the exact figure is `0.99 ≤ E ≤ 0.99·(1 + S·2^-51)` with `S` about twice the
//! number of intervals (below `1.4·10^-12` for ticks every 50 ms up to 100×):
//! [`analysis`] computes it exactly and the tests check it.
//!
//! ## Rounding
//!
//! - tick multipliers: rounded down to `2^-32` (exactly, as above);
//! - targets typed in hundredths ([`Multiplier::from_hundredths`]): rounded *up*
//!   to `2^-32`, so "2.31" means at least 2.31× and displays as "2.31×";
//! - display: rounded down to the hundredth;
//! - payouts: `floor(amount·bits / 2^32)`, rounded down to the chip, in the house's
//!   favour (less than one chip per bet);
//! - the crash point: `floor(m_{k−1}·2^52/u)`, exactly the largest multiplier reached;
//! - the risk cap: computed on the unrounded potential payout, so the rounded payouts
//!   stay below it.
//!
//! Nothing here uses floating point, a clock, I/O or hash-map iteration; every
//! operation is checked and returns a [`CrashError`] rather than panicking.

pub mod analysis;
pub mod decision;
mod error;
pub mod multiplier;
pub mod round;

pub use analysis::{ReturnAnalysis, TickSchedule};
pub use decision::{Draws, INSTANT_CRASH_ONE_IN, IntervalDecision, reach_count};
pub use error::CrashError;
pub use multiplier::Multiplier;
pub use round::{
    BetId, BetStatus, CashOut, CashOutReason, CrashBet, CrashRound, CrashRules, MAX_BETS_PER_ROUND,
    MAX_TICKS, Outcome, PendingCashOut, Phase, Settlement, Tick,
};

#[cfg(test)]
mod round_tests;
#[cfg(test)]
mod simulation_tests;
#[cfg(test)]
mod vectors_tests;
