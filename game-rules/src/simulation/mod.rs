//! Named strategies played over many rounds, measured against the exact edge.
//!
//! A simulation draws its dice and crash decisions from a seeded
//! [`Purpose::Simulation`](crate::Purpose::Simulation) stream, so a run is
//! reproducible from its seed; it drives the same engines ([`crate::craps`],
//! [`crate::crash`]) that settle real bets, and prints beside the measured edge
//! the exact one those engines give. The statistics here are reports, not money,
//! so they are the one place in this crate where floating point appears.

pub mod craps;
pub mod crash;
mod tally;

pub use tally::{EdgeEstimate, Tally};

use crate::craps::CrapsError;
use crate::crash::CrashError;

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimulationError {
    /// The strategy name is not one the simulator knows.
    #[error("unknown strategy {name:?}: use one of {known}")]
    UnknownStrategy {
        /// The name given.
        name: String,
        /// The names accepted.
        known: &'static str,
    },
    /// The craps table refused something the strategy did.
    #[error("the craps table refused the strategy: {0}")]
    Craps(#[from] CrapsError),
    /// The crash engine refused something.
    #[error("the crash engine refused the simulation: {0}")]
    Crash(#[from] CrashError),
    /// A round did not end.
    #[error(
        "a round was still undecided after {rolls} rolls: the strategy never lets its bets resolve"
    )]
    Stuck {
        /// Rolls made in that round.
        rolls: u32,
    },
}
