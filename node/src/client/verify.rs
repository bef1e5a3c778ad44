//! # Verifying a round offline
//!
//! [`verify`] re-checks a finished round from what the API serves
//! (`GET /v1/rounds/{table}/{round}`, a [`RoundInfo`]), with the same
//! functions the ledger uses and nothing from the node but data. It is
//! pure: no network, no clock. The terminal UI's verify screen and
//! `bitcraps explore round` both use it; the CLI adds the checks that need
//! more than the round (the genesis's group key, the signed block, its
//! finality certificate).
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
use wallet::ChainId;

use crate::api::{RoundInfo, RoundRandomness};

/// What the ledger recorded and what was derived again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A crash round's crash.
    Crash {
        /// The interval that crashed, from 1.
        interval: u32,
        /// Its start multiplier.
        from: Multiplier,
        /// Its end multiplier.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Game, RoundStatus, RoundSummary};
    use crate::client::testing::{Beacon, chain, crashed_round};

    const CRASH: TableId = TableId(1);
    const CRAPS: TableId = TableId(2);

    fn summary(table: TableId, round: u64, game: Game) -> RoundSummary {
        RoundSummary {
            table,
            round,
            game,
            status: RoundStatus::Settled,
            opened_height: round,
            settled_height: Some(round + 2),
            bets: 1,
            wagered: 10,
            paid: 0,
            outcome: None,
        }
    }

    /// A craps roll decided by σ of block `roll_number`, recorded as
    /// `recorded` (the derived dice if `None`).
    fn craps_roll(beacon: &mut Beacon, roll_number: u64, recorded: Option<Roll>) -> RoundInfo {
        let entry = beacon.sign(roll_number);
        let derived = craps_dice(entry.entry.signature.as_bytes(), CRAPS, roll_number);
        RoundInfo {
            summary: summary(CRAPS, roll_number, Game::Craps),
            randomness: vec![entry],
            events: vec![LedgerEvent::DiceRolled {
                table: CRAPS,
                roll_number,
                dice: recorded.unwrap_or(derived),
                beacon_height: roll_number,
                point: None,
                seven_out: false,
            }],
        }
    }

    #[test]
    fn a_crash_round_verifies_and_a_changed_crash_point_does_not() {
        let mut beacon = Beacon::new();
        let round = crashed_round(&mut beacon, CRASH, 41);
        let verification = verify(&round, Some(chain()));
        assert!(verification.passed(), "{verification:?}");
        let Ok(Outcome::Crash { interval, .. }) = verification.outcome else {
            panic!("{verification:?}");
        };
        assert_eq!(interval as usize, round.randomness.len());
        assert_eq!(
            verification.signed_block.map(|m| m.height),
            Some(41_000 + u64::from(interval))
        );

        let mut lied = round.clone();
        for event in &mut lied.events {
            if let LedgerEvent::Crashed { at, .. } = event {
                *at = Multiplier::from_hundredths(at.hundredths() + 1_000).unwrap();
            }
        }
        let verification = verify(&lied, Some(chain()));
        assert!(verification.signature.is_ok());
        assert!(!verification.passed(), "a moved crash point is caught");
    }

    #[test]
    fn craps_dice_verify_and_other_dice_do_not() {
        let mut beacon = Beacon::new();
        let honest = verify(&craps_roll(&mut beacon, 9, None), Some(chain()));
        assert!(honest.passed(), "{honest:?}");
        let Ok(Outcome::Dice { derived, .. }) = honest.outcome else {
            panic!("{honest:?}");
        };
        let other = Roll::new(derived.first.face() % 6 + 1, derived.second.face()).unwrap();
        let lied = verify(&craps_roll(&mut beacon, 10, Some(other)), Some(chain()));
        assert!(lied.signature.is_ok());
        assert!(!lied.passed(), "{lied:?}");
    }

    #[test]
    fn a_forged_signature_or_another_chain_fails() {
        let mut beacon = Beacon::new();
        let mut round = craps_roll(&mut beacon, 9, None);
        let elsewhere = verify(&round, Some(ChainId::new([8; 32])));
        assert_eq!(
            elsewhere.signature,
            Err("the message is for another chain".to_owned())
        );
        // σ of another block: a valid signature, but not of this message.
        round.randomness[0].entry.signature = beacon.sign(10).entry.signature;
        let forged = verify(&round, Some(chain()));
        assert!(forged.signature.is_err(), "{forged:?}");
        assert!(!forged.passed());
    }

    #[test]
    fn an_undecided_round_or_a_missing_entry_says_why() {
        let mut beacon = Beacon::new();
        let mut round = craps_roll(&mut beacon, 9, None);
        round.randomness.clear();
        let missing = verify(&round, Some(chain()));
        assert_eq!(
            missing.signature,
            Err("the node served no beacon entry for height 9".to_owned())
        );
        round.events.clear();
        let open = verify(&round, None);
        assert!(open.randomness.is_none() && !open.passed());
        assert!(open.signature.unwrap_err().contains("no recorded outcome"));
    }
}
