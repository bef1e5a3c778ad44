//! What a transaction does: [`Action`].
//!
//! Each variant's borsh tag is its position below, from 0; the order is part
//! of the protocol (append only). [`Action::check_well_formed`] applies every
//! rule that needs no ledger state; the ledger applies the rest and reports a
//! refusal in the transaction's receipt.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use game_rules::Chips;
use game_rules::craps::{BetKind, OddsLimit, TableRules, Working};
use game_rules::crash::Multiplier;
use serde::{Deserialize, Serialize};
use wallet::{Address, PublicKey};

use super::TxError;
use super::evidence::Evidence;
use crate::encoding::{BoundedBytes, BoundedString, codec};

/// The longest table name, in bytes of UTF-8.
pub const MAX_TABLE_NAME_BYTES: usize = 32;

/// The longest validator network address (e.g. a libp2p multiaddr), in
/// bytes.
pub const MAX_NETWORK_ADDRESS_BYTES: usize = 128;

/// The most bytes a dealer log of a resharing round
/// ([`Action::DealerLog`]) may have: what is left of [`super::MAX_TX_BYTES`]
/// after the transaction's envelope (256 bytes are reserved for it; the
/// envelope of a dealer-log transaction is 170). This bounds the player
/// set a round can have: the ledger opens no round whose logs could be
/// larger ([`crate::beacon::dkg::max_reshare_players`]), which is every
/// round of up to [`crate::beacon::MAX_PARTICIPANTS`] players.
pub const MAX_DEALER_LOG_BYTES: usize = super::MAX_TX_BYTES - 256;

/// A dealer's signed log of a resharing round, in commonware's encoding
/// (`SignedDealerLog`), at most [`MAX_DEALER_LOG_BYTES`]; hex in text.
pub type DealerLogBytes = BoundedBytes<MAX_DEALER_LOG_BYTES>;

/// The largest bet limit a table may set, for crash and craps alike:
/// [`TableRules::MAX_BET_CAP`] (2^48 chips), so no stake, odds or win can
/// overflow 64 bits.
pub const MAX_TABLE_BET: Chips = TableRules::MAX_BET_CAP;

/// A table's name: at most [`MAX_TABLE_NAME_BYTES`] bytes of UTF-8 with no
/// control characters (checked when decoded); non-empty (checked by
/// [`Action::check_well_formed`]).
pub type TableName = BoundedString<MAX_TABLE_NAME_BYTES>;

/// A validator's network address, at most [`MAX_NETWORK_ADDRESS_BYTES`].
pub type NetworkAddress = BoundedString<MAX_NETWORK_ADDRESS_BYTES>;

/// The ledger's number for a table. Text: the number.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct TableId(pub u64);

impl fmt::Display for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "table {}", self.0)
    }
}

/// The game a new table plays and its limits.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TableGame {
    /// Crash (tag 0).
    Crash {
        /// The smallest stake.
        min_bet: Chips,
        /// The largest stake.
        max_bet: Chips,
    },
    /// Craps (tag 1).
    Craps {
        /// The smallest bet (not applied to odds).
        min_bet: Chips,
        /// The largest bet (not applied to odds).
        max_bet: Chips,
        /// How much odds a line bet may carry.
        #[borsh(
            serialize_with = "codec::odds_limit::write",
            deserialize_with = "codec::odds_limit::read"
        )]
        #[serde(with = "codec::odds_limit")]
        odds: OddsLimit,
    },
}

impl TableGame {
    /// The smallest bet.
    pub const fn min_bet(&self) -> Chips {
        match *self {
            TableGame::Crash { min_bet, .. } | TableGame::Craps { min_bet, .. } => min_bet,
        }
    }

    /// The largest bet.
    pub const fn max_bet(&self) -> Chips {
        match *self {
            TableGame::Crash { max_bet, .. } | TableGame::Craps { max_bet, .. } => max_bet,
        }
    }

    /// The craps rules of this table (default come-out working rules), if
    /// it is a craps table.
    pub fn craps_rules(&self) -> Option<TableRules> {
        match *self {
            TableGame::Craps {
                min_bet,
                max_bet,
                odds,
            } => Some(TableRules {
                min_bet,
                max_bet,
                odds_limit: odds,
                ..TableRules::default()
            }),
            TableGame::Crash { .. } => None,
        }
    }

    /// `1 ≤ min_bet ≤ max_bet ≤ MAX_TABLE_BET`, and for craps a flat odds
    /// multiple of at most [`TableRules::MAX_ODDS_MULTIPLE`].
    pub fn check(&self) -> Result<(), TxError> {
        let reason = if self.min_bet() == Chips::ZERO {
            "the minimum bet is 0 chips; set it to at least 1"
        } else if self.min_bet() > self.max_bet() {
            "the minimum bet is above the maximum bet"
        } else if self.max_bet() > MAX_TABLE_BET {
            "the maximum bet is above 2^48 chips"
        } else if let Some(rules) = self.craps_rules()
            && rules.validate().is_err()
        {
            "the flat odds multiple is above 1000×"
        } else {
            return Ok(());
        };
        Err(TxError::InvalidTable { reason })
    }
}

/// What a transaction does. The sender pays the fee whatever the action.
// `SlashingEvidence` holds its evidence inline (a double vote is a few
// hundred bytes, see `Evidence`), the largest variant by far: evidence is
// rare, and boxing it would change the variant's shape for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Moves `amount` from the sender to `to` (tag 0).
    Transfer {
        /// The receiving account.
        to: Address,
        /// How much, at least 1 chip.
        amount: Chips,
    },
    /// Deposits `amount` into the shared bankroll for pool shares (tag 1).
    BankrollDeposit {
        /// How much, at least 1 chip.
        amount: Chips,
    },
    /// Redeems `shares` of the bankroll; paid after the genesis withdrawal
    /// delay, at the share price then (tag 2).
    BankrollWithdraw {
        /// How many shares, at least 1.
        #[serde(with = "codec::u128_text")]
        shares: u128,
    },
    /// Opens a new table owned by the sender (tag 3).
    CreateTable {
        /// The name shown in the lobby, non-empty.
        name: TableName,
        /// The most players seated at once, at least 1.
        max_players: u16,
        /// The game and its limits.
        game: TableGame,
    },
    /// Closes a table the sender owns; refused while bets are outstanding
    /// (tag 4).
    CloseTable {
        /// The table.
        table: TableId,
    },
    /// Takes a seat at a table (tag 5).
    JoinTable {
        /// The table.
        table: TableId,
    },
    /// Leaves a table (tag 6).
    LeaveTable {
        /// The table.
        table: TableId,
    },
    /// Places a craps bet (tag 7).
    CrapsBet {
        /// The craps table.
        table: TableId,
        /// What the bet is on.
        #[borsh(
            serialize_with = "codec::bet_kind::write",
            deserialize_with = "codec::bet_kind::read"
        )]
        #[serde(with = "codec::bet_kind")]
        kind: BetKind,
        /// The stake, at least 1 chip.
        amount: Chips,
    },
    /// Sets the odds behind one of the sender's line bets to `amount`; 0
    /// takes them down (tag 8).
    CrapsOdds {
        /// The craps table.
        table: TableId,
        /// The line bet's id.
        bet: u64,
        /// The new odds amount.
        amount: Chips,
    },
    /// Takes down one of the sender's craps bets where the rules allow
    /// (tag 9).
    CrapsTakeDown {
        /// The craps table.
        table: TableId,
        /// The bet's id.
        bet: u64,
    },
    /// Switches one of the sender's craps bets (for a line bet, its odds)
    /// on, off, or back to the table default (tag 10).
    CrapsSetWorking {
        /// The craps table.
        table: TableId,
        /// The bet's id.
        bet: u64,
        /// The switch.
        #[borsh(
            serialize_with = "codec::working::write",
            deserialize_with = "codec::working::read"
        )]
        #[serde(with = "codec::working")]
        working: Working,
    },
    /// Bets on the next crash round of a table (tag 11).
    CrashBet {
        /// The crash table.
        table: TableId,
        /// The stake, at least 1 chip.
        amount: Chips,
        /// Cash out automatically at this multiplier, in hundredths (`231`
        /// is 2.31×): above 100 (1.00×), at most
        /// [`Multiplier::MAX_HUNDREDTHS`].
        auto_cash_out: Option<u64>,
    },
    /// Cashes out the sender's running bet on a crash table (tag 12).
    CrashCashOut {
        /// The crash table.
        table: TableId,
    },
    /// Registers the sender as a validator (tag 13).
    RegisterValidator {
        /// The ed25519 key that signs its consensus messages (usually the
        /// sender's own key).
        consensus_key: PublicKey,
        /// Where peers reach it (e.g. a multiaddr), non-empty.
        network_address: NetworkAddress,
    },
    /// Bonds `amount` of the sender's balance as validator stake (tag 14).
    Stake {
        /// How much, at least 1 chip.
        amount: Chips,
    },
    /// Starts unbonding `amount` of stake; released after the genesis
    /// unbonding period (tag 15).
    Unstake {
        /// How much, at least 1 chip.
        amount: Chips,
    },
    /// Proves that a validator equivocated, so it is slashed (tag 16).
    SlashingEvidence {
        /// The proof.
        evidence: Evidence,
    },
    /// Testnet faucet: mints `amount` to the sender, if the genesis enables
    /// it and `amount` is within its per-request maximum (tag 17).
    Faucet {
        /// How much, at least 1 chip.
        amount: Chips,
    },
    /// A dealer's signed log of the open resharing round `round`: its
    /// commitment and, per player, the player's acknowledgement or the
    /// revealed dealing (tag 18). Only a dealer of the round may send it
    /// (the log is signed by the sender's key), once, by the round's
    /// deadline; see `ledger::reshare`.
    DealerLog {
        /// The round number.
        round: u64,
        /// The `SignedDealerLog`, commonware-encoded; non-empty.
        log: DealerLogBytes,
    },
}

impl Action {
    /// A short stable name for logs, metrics and the API (the serde tag).
    pub const fn name(&self) -> &'static str {
        match self {
            Action::Transfer { .. } => "transfer",
            Action::BankrollDeposit { .. } => "bankroll_deposit",
            Action::BankrollWithdraw { .. } => "bankroll_withdraw",
            Action::CreateTable { .. } => "create_table",
            Action::CloseTable { .. } => "close_table",
            Action::JoinTable { .. } => "join_table",
            Action::LeaveTable { .. } => "leave_table",
            Action::CrapsBet { .. } => "craps_bet",
            Action::CrapsOdds { .. } => "craps_odds",
            Action::CrapsTakeDown { .. } => "craps_take_down",
            Action::CrapsSetWorking { .. } => "craps_set_working",
            Action::CrashBet { .. } => "crash_bet",
            Action::CrashCashOut { .. } => "crash_cash_out",
            Action::RegisterValidator { .. } => "register_validator",
            Action::Stake { .. } => "stake",
            Action::Unstake { .. } => "unstake",
            Action::SlashingEvidence { .. } => "slashing_evidence",
            Action::Faucet { .. } => "faucet",
            Action::DealerLog { .. } => "dealer_log",
        }
    }

    /// The table the action is about, if any.
    pub const fn table(&self) -> Option<TableId> {
        match *self {
            Action::CloseTable { table }
            | Action::JoinTable { table }
            | Action::LeaveTable { table }
            | Action::CrapsBet { table, .. }
            | Action::CrapsOdds { table, .. }
            | Action::CrapsTakeDown { table, .. }
            | Action::CrapsSetWorking { table, .. }
            | Action::CrashBet { table, .. }
            | Action::CrashCashOut { table } => Some(table),
            _ => None,
        }
    }

    /// Every rule that needs no ledger state: amounts that must be positive
    /// are, names and addresses are non-empty, table limits make sense, an
    /// auto-cash-out target is above 1.00× and at most 1,000,000×, a beacon
    /// key is 48 or 96 bytes, evidence is about one voting slot and two
    /// different blocks. Signatures (of the evidence too) are checked by
    /// [`super::SignedTransaction::check`].
    pub fn check_well_formed(&self) -> Result<(), TxError> {
        let positive = |amount: Chips| {
            if amount == Chips::ZERO {
                Err(TxError::ZeroAmount {
                    action: self.name(),
                })
            } else {
                Ok(())
            }
        };
        match self {
            Action::Transfer { amount, .. }
            | Action::BankrollDeposit { amount }
            | Action::CrapsBet { amount, .. }
            | Action::Stake { amount }
            | Action::Unstake { amount }
            | Action::Faucet { amount } => positive(*amount),
            Action::BankrollWithdraw { shares } => {
                if *shares == 0 {
                    Err(TxError::ZeroAmount {
                        action: self.name(),
                    })
                } else {
                    Ok(())
                }
            }
            Action::CreateTable {
                name,
                max_players,
                game,
            } => {
                if name.trim().is_empty() {
                    return Err(TxError::EmptyField { field: "name" });
                }
                if *max_players == 0 {
                    return Err(TxError::InvalidTable {
                        reason: "max_players is 0; allow at least 1 player",
                    });
                }
                game.check()
            }
            Action::CrashBet {
                amount,
                auto_cash_out,
                ..
            } => {
                positive(*amount)?;
                match *auto_cash_out {
                    Some(hundredths)
                        if !(101..=Multiplier::MAX_HUNDREDTHS).contains(&hundredths) =>
                    {
                        Err(TxError::InvalidAutoCashOut { hundredths })
                    }
                    _ => Ok(()),
                }
            }
            Action::RegisterValidator {
                network_address, ..
            } => {
                if network_address.trim().is_empty() {
                    return Err(TxError::EmptyField {
                        field: "network_address",
                    });
                }
                Ok(())
            }
            Action::DealerLog { log, .. } => {
                if log.is_empty() {
                    Err(TxError::EmptyField { field: "log" })
                } else {
                    Ok(())
                }
            }
            Action::SlashingEvidence { evidence } => evidence
                .check_well_formed()
                .map_err(TxError::InvalidEvidence),
            Action::CloseTable { .. }
            | Action::JoinTable { .. }
            | Action::LeaveTable { .. }
            | Action::CrapsOdds { .. }
            | Action::CrapsTakeDown { .. }
            | Action::CrapsSetWorking { .. }
            | Action::CrashCashOut { .. } => Ok(()),
        }
    }
}
