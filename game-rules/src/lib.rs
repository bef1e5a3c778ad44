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
pub mod craps;
pub mod crash;
pub mod randomness;
pub mod simulation;

pub use chips::Chips;
pub use randomness::{Die, Purpose, RandomStream, Randomness, Roll, Unit52};

/// The ledger stores tables and rounds with their `borsh` encoding; it must give
/// back exactly the state that was stored.
#[cfg(test)]
mod state_encoding_tests {
    use crate::Chips;
    use crate::craps::{self, BetKind, CrapsTable, PointNumber, TableRules};
    use crate::crash::{self, CrashRound, CrashRules, Multiplier};
    use crate::{Randomness, Roll};

    #[test]
    fn a_craps_table_in_play_round_trips() {
        let mut table = CrapsTable::new(TableRules::default()).unwrap();
        table
            .place_bet(craps::BetId(1), BetKind::Pass, Chips(10))
            .unwrap();
        table
            .place_bet(craps::BetId(2), BetKind::Place(PointNumber::Six), Chips(12))
            .unwrap();
        table.roll(Roll::new(2, 2).unwrap()).unwrap();
        table.set_odds(craps::BetId(1), Chips(30)).unwrap();
        let bytes = borsh::to_vec(&table).unwrap();
        assert_eq!(borsh::from_slice::<CrapsTable>(&bytes).unwrap(), table);
    }

    #[test]
    fn a_running_crash_round_round_trips() {
        let mut round = CrashRound::new(CrashRules {
            min_bet: Chips(1),
            max_bet: Chips(1_000_000),
            max_bets: 100,
        })
        .unwrap();
        round
            .place_bet(
                crash::BetId(7),
                Chips(100),
                Some(Multiplier::from_hundredths(250).unwrap()),
            )
            .unwrap();
        round.place_bet(crash::BetId(8), Chips(50), None).unwrap();
        round.start(1_000, Chips(1_000_000)).unwrap();
        round.record_tick(1_500).unwrap();
        round.cash_out(crash::BetId(8)).unwrap();
        round
            .decide_next(&Randomness::from_beacon_output(b"sigma"), b"label")
            .unwrap();
        let bytes = borsh::to_vec(&round).unwrap();
        assert_eq!(borsh::from_slice::<CrashRound>(&bytes).unwrap(), round);
    }
}
