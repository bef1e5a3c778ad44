//! Round records for the explorer: every settled (or void) craps roll and
//! every finished crash round, with the beacon entries that decided them,
//! stored in the store's `rounds` column family under `table ‖ round`
//! (craps: the roll number; crash: the round number).
//!
//! A record carries everything needed to re-verify the outcome offline:
//! the beacon signature σ, the height and block hash it signs and the
//! epoch whose group key signed it ([`BeaconProof::verify`]), the label,
//! and the derived outcome — [`CrapsRollRecord::recompute_dice`] and
//! [`IntervalRecord::recompute`] derive it again with `game-rules`.
//!
//! Labels (all integers big-endian): a craps roll is `table id (u64) ‖
//! roll number (u64)`, read from `stream(Purpose::CrapsRoll, label).roll()`;
//! a crash interval is `table id (u64) ‖ round (u64) ‖ tick (u32)`, read by
//! [`Draws::derive`].

use borsh::{BorshDeserialize, BorshSerialize};
use game_rules::crash::{Draws, IntervalDecision, Multiplier, Outcome};
use game_rules::{Chips, Purpose, Randomness, Roll};
use wallet::Address;

use super::BeaconVerifier;
use super::error::BeaconError;
use crate::block::MAX_BEACON_SIGNATURE_BYTES;
use crate::encoding::{BoundedBytes, DecodeError, codec, decode, encode};
use crate::hash::Hash;
use crate::receipt::BetResult;
use crate::tx::TableId;

/// The largest round record [`RoundRecord::decode`] accepts.
pub const MAX_ROUND_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// The label of craps roll `roll_number` at `table`.
pub fn craps_label(table: TableId, roll_number: u64) -> Vec<u8> {
    let mut label = Vec::with_capacity(16);
    label.extend_from_slice(&table.0.to_be_bytes());
    label.extend_from_slice(&roll_number.to_be_bytes());
    label
}

/// The label of the interval ending at `tick` of crash round `round` at
/// `table`.
pub fn crash_label(table: TableId, round: u64, tick: u32) -> Vec<u8> {
    let mut label = Vec::with_capacity(20);
    label.extend_from_slice(&table.0.to_be_bytes());
    label.extend_from_slice(&round.to_be_bytes());
    label.extend_from_slice(&tick.to_be_bytes());
    label
}

/// The dice of craps roll `roll_number` at `table` from beacon output
/// `signature`.
pub fn craps_dice(signature: &[u8], table: TableId, roll_number: u64) -> Roll {
    Randomness::from_beacon_output(signature)
        .stream(Purpose::CrapsRoll, &craps_label(table, roll_number))
        .roll()
}

/// A beacon entry and what it signed.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct BeaconProof {
    /// The height whose commitments it settles (the block it signs).
    pub height: u64,
    /// That block's hash.
    pub block_hash: Hash,
    /// That height's epoch, whose group key signed.
    pub epoch: u64,
    /// The threshold signature σ.
    pub signature: BoundedBytes<MAX_BEACON_SIGNATURE_BYTES>,
    /// The height of the block that carried the entry.
    pub included_at: u64,
}

impl BeaconProof {
    /// Checks σ with `verifier` (the epoch's group key).
    pub fn verify(&self, verifier: &dyn BeaconVerifier) -> Result<(), BeaconError> {
        verifier.verify(self.epoch, self.height, &self.block_hash, &self.signature)
    }

    /// The randomness `r` derived from σ.
    pub fn randomness(&self) -> Randomness {
        Randomness::from_beacon_output(&self.signature)
    }
}

/// A bet's settlement in a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct SettledBet {
    /// The bet id.
    pub bet: u64,
    /// Its owner.
    pub player: Address,
    /// How it ended.
    pub result: BetResult,
    /// What the player received: stake returned plus winnings less
    /// commission.
    pub paid: Chips,
}

/// What a craps roll did.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum CrapsRollResult {
    /// The dice were rolled.
    Rolled {
        /// The beacon entry.
        beacon: BeaconProof,
        /// The dice.
        #[borsh(
            serialize_with = "codec::roll::write",
            deserialize_with = "codec::roll::read"
        )]
        dice: Roll,
        /// The point before the roll, if one was on.
        point_before: Option<u8>,
        /// The point after it.
        point_after: Option<u8>,
        /// Whether it was a seven-out.
        seven_out: bool,
        /// Who held the dice.
        shooter: Option<Address>,
        /// Every bet the roll decided, in bet order.
        bets: Vec<SettledBet>,
    },
    /// No randomness came in time: every bet on the table was refunded.
    Void {
        /// The height at which it was voided.
        voided_at: u64,
        /// The refunds, in bet order.
        refunded: Vec<SettledBet>,
    },
}

/// One craps roll.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CrapsRollRecord {
    /// The table.
    pub table: TableId,
    /// The roll number.
    pub roll_number: u64,
    /// The height it was committed at (whose beacon entry rolls it).
    pub committed_height: u64,
    /// The label of its randomness stream.
    pub label: Vec<u8>,
    /// What happened.
    pub result: CrapsRollResult,
}

impl CrapsRollRecord {
    /// The dice derived again from the recorded σ (`None` for a void roll).
    pub fn recompute_dice(&self) -> Option<Roll> {
        match &self.result {
            CrapsRollResult::Rolled { beacon, .. } => Some(
                beacon
                    .randomness()
                    .stream(Purpose::CrapsRoll, &self.label)
                    .roll(),
            ),
            CrapsRollResult::Void { .. } => None,
        }
    }
}

/// One decided interval of a crash round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct IntervalRecord {
    /// The interval (the tick it ends at), from 1.
    pub interval: u32,
    /// The timestamp of its ending tick.
    pub timestamp_ms: u64,
    /// The multiplier at its start.
    pub from: Multiplier,
    /// The multiplier at its end.
    pub to: Multiplier,
    /// The label of its randomness.
    pub label: Vec<u8>,
    /// The beacon entry that decided it.
    pub beacon: BeaconProof,
    /// Whether the round survived it.
    pub survived: bool,
}

impl IntervalRecord {
    /// The decision derived again from the recorded σ.
    pub fn recompute(&self) -> Result<IntervalDecision, game_rules::crash::CrashError> {
        let draws = Draws::derive(&self.beacon.randomness(), &self.label, self.interval == 1);
        IntervalDecision::new(draws, self.from, self.to)
    }
}

/// How a crash round ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum CrashEnd {
    /// Crashed at `at` in `interval`.
    Crashed {
        /// The crash point.
        at: Multiplier,
        /// The interval.
        interval: u32,
    },
    /// Survived to 1,000,000×.
    Finished,
    /// Voided: no randomness in time; unsettled stakes refunded.
    Void {
        /// The height at which it was voided.
        voided_at: u64,
    },
}

/// A bet of a finished crash round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CrashBetRecord {
    /// The bet id.
    pub bet: u64,
    /// Its owner.
    pub player: Address,
    /// The stake.
    pub amount: Chips,
    /// Its auto-cash-out target.
    pub auto_cash_out: Option<Multiplier>,
    /// How it ended.
    pub outcome: Outcome,
}

/// One crash round.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CrashRoundRecord {
    /// The table.
    pub table: TableId,
    /// The round.
    pub round: u64,
    /// Its start time (tick 0), ms.
    pub start_ms: u64,
    /// The height it started at.
    pub start_height: u64,
    /// Its risk cap (the most it could pay in total).
    pub cap: Chips,
    /// Its decided intervals, in order.
    pub intervals: Vec<IntervalRecord>,
    /// How it ended.
    pub end: CrashEnd,
    /// Its bets, in bet order.
    pub bets: Vec<CrashBetRecord>,
}

/// A record in the store's `rounds` column family.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum RoundRecord {
    /// A craps roll (tag 0).
    CrapsRoll(CrapsRollRecord),
    /// A crash round (tag 1).
    CrashRound(CrashRoundRecord),
}

impl RoundRecord {
    /// The canonical (borsh) encoding, as stored.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a stored record (at most [`MAX_ROUND_RECORD_BYTES`]).
    pub fn decode(bytes: &[u8]) -> Result<RoundRecord, DecodeError> {
        decode("round record", bytes, MAX_ROUND_RECORD_BYTES)
    }
}
