//! # BitCraps game rules
//!
//! Pure, deterministic game logic that every node must compute bit for bit alike:
//!
//! - [`randomness`]: from a beacon output `σ` to dice, uniform values and bounded
//!   integers (versioned derivation with published vectors);
//! - [`craps`]: the full craps table — bets, validation, roll resolution, exact
//!   house edges from the engine itself;
//! - [`crash`]: the crash multiplier in fixed point, the instant crash and the
//!   memoryless survival of each interval, cash-outs, auto-cash-outs, the risk cap;
//! - [`simulation`]: named strategies played over many rounds, with the measured
//!   edge beside the exact one;
//! - [`chips`]: integer amounts with checked arithmetic and stated rounding.
//!
//! ## What this crate must not do
//!
//! No I/O, no async, no clock, no hash-map iteration, no floating point in anything
//! that decides money. Time arrives as agreed block timestamps (milliseconds) and
//! randomness as beacon outputs, both from the caller. Anything else would let two
//! honest nodes disagree about a payout.

pub mod chips;
pub mod crash;
pub mod craps;
pub mod randomness;
pub mod simulation;

pub use chips::Chips;
pub use randomness::{Die, Purpose, RandomStream, Randomness, Roll, Unit52};
