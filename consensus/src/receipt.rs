//! # Receipts and ledger events
//!
//! The ledger writes one [`Receipt`] per transaction it executes: whether it
//! was applied or rejected and why ([`RejectReason`]), the fee charged, and
//! the [`LedgerEvent`]s it caused (balance changes, bets placed and
//! settled, …). Events caused by a block rather than a transaction — dice
//! rolls, crash ticks, settlements, voided rounds — use the same
//! [`LedgerEvent`] type.
//!
//! These are plain data: borsh for storage and hashing
//! ([`HashDomain::Receipt`]), serde for the API and the explorer (addresses
//! as `craps1…`, hashes and keys as hex, amounts as numbers, bankroll shares
//! (`u128`) as decimal strings, craps bets as
//! text such as `place-6`, multipliers as `{"bits", "hundredths"}`, dice as
//! `[first, second]`). Enum tags follow declaration order; append only.

use borsh::{BorshDeserialize, BorshSerialize};
use game_rules::craps::BetKind;
use game_rules::crash::Multiplier;
use game_rules::{Chips, Roll};
use serde::{Deserialize, Serialize};
use wallet::{Address, PublicKey};

use crate::encoding::{BoundedString, BoundedVec, DecodeError, codec, decode, encode};
use crate::hash::{Hash, HashDomain, TxHash, hash};
use crate::tx::{TableGame, TableId, TableName};

/// The longest reason text carried in a receipt, in bytes.
pub const MAX_REASON_BYTES: usize = 256;

/// The most events one receipt carries.
pub const MAX_EVENTS_PER_RECEIPT: usize = 16_384;

/// The largest receipt encoding [`Receipt::decode`] accepts.
pub const MAX_RECEIPT_BYTES: usize = 4 * 1024 * 1024;

/// A human-readable reason, e.g. a game-rules error message
/// ([`BoundedString::lossy`] fits any message into it).
pub type ReasonText = BoundedString<MAX_REASON_BYTES>;

/// What became of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    /// Its action took effect (tag 0).
    Applied,
    /// Its action was refused and changed nothing but the fee charged and
    /// the nonce (tag 1).
    Rejected {
        /// Why.
        reason: RejectReason,
    },
}

/// Why the ledger refused a transaction's action.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The balance does not cover what the action needs.
    InsufficientBalance {
        /// What was needed.
        needed: Chips,
        /// What the account had.
        available: Chips,
    },
    /// The nonce is not the sender's next.
    BadNonce {
        /// The sender's next nonce.
        expected: u64,
        /// The transaction's nonce.
        found: u64,
    },
    /// The block is past the transaction's expiry height.
    Expired {
        /// The transaction's last height.
        expiry_height: u64,
        /// The block's height.
        height: u64,
    },
    /// The fee is below the genesis minimum.
    FeeTooLow {
        /// The minimum.
        min: Chips,
        /// The fee offered.
        offered: Chips,
    },
    /// No such table (or it was closed).
    TableNotFound {
        /// The table.
        table: TableId,
    },
    /// The action is for the other game.
    WrongGame {
        /// The table.
        table: TableId,
    },
    /// The table has no free seat.
    TableFull {
        /// The table.
        table: TableId,
        /// Its seats.
        max_players: u16,
    },
    /// The sender is not seated at the table.
    NotAtTable {
        /// The table.
        table: TableId,
    },
    /// The sender is already seated at the table.
    AlreadyAtTable {
        /// The table.
        table: TableId,
    },
    /// Only the table's owner may do this.
    NotTableOwner {
        /// The table.
        table: TableId,
    },
    /// The table limit of the chain is reached.
    TooManyTables {
        /// The limit.
        max: u32,
    },
    /// A table parameter outside the genesis limits (e.g. too many seats).
    TableLimits {
        /// What is wrong.
        reason: ReasonText,
    },
    /// The game refused the bet or request; the game-rules error message.
    BetRefused {
        /// The message.
        reason: ReasonText,
    },
    /// No such bet of the sender's on the table.
    BetNotFound {
        /// The table.
        table: TableId,
        /// The bet id.
        bet: u64,
    },
    /// The sender holds fewer bankroll shares than it asked to redeem.
    InsufficientShares {
        /// Shares asked for.
        #[serde(with = "codec::u128_text")]
        requested: u128,
        /// Shares held.
        #[serde(with = "codec::u128_text")]
        held: u128,
    },
    /// The sender has less bonded stake than it asked to unbond.
    InsufficientStake {
        /// Asked for.
        requested: Chips,
        /// Bonded.
        staked: Chips,
    },
    /// The sender is not a registered validator.
    NotAValidator,
    /// The sender (its consensus key) is already registered.
    AlreadyRegistered,
    /// The validator set is full.
    TooManyValidators {
        /// The limit.
        max: u32,
    },
    /// Evidence against a validator unknown in that epoch, too old, or
    /// already used.
    EvidenceNotApplicable {
        /// Which.
        reason: ReasonText,
    },
    /// The genesis disables the faucet.
    FaucetDisabled,
    /// More than the faucet's per-request maximum.
    FaucetLimit {
        /// The maximum.
        max: Chips,
    },
    /// An amount would overflow 64 bits.
    Overflow,
    /// The bankroll's free chips (its chips less what open bets and running
    /// rounds reserve) cannot cover what the action would reserve.
    InsufficientBankroll {
        /// What the action needs covered: a craps bet's largest possible
        /// win, or a crash round's total stakes against the round's risk cap.
        needed: Chips,
        /// What is available: the free chips (craps) or the risk cap on
        /// them (crash).
        available: Chips,
    },
    /// The table's next roll is committed and waits for its randomness:
    /// its bets cannot change until it is rolled.
    RollInProgress {
        /// The table.
        table: TableId,
    },
    /// The table (or the sender at it) still has bets outstanding.
    BetsOutstanding {
        /// The table.
        table: TableId,
    },
    /// The bankroll refused a deposit or withdrawal.
    BankrollRefused {
        /// Why.
        reason: ReasonText,
    },
    /// A validator registration whose consensus key is not the sender's
    /// key.
    ConsensusKeyNotSender,
    /// The sender already has a bet in this crash round.
    AlreadyBet {
        /// The table.
        table: TableId,
        /// The round.
        round: u64,
    },
    /// A resharing round's dealer log that the ledger does not take: no
    /// such open round, past its deadline, not a dealer of it, a second
    /// log, or a log that does not decode or is not signed for the round.
    DealerLogRefused {
        /// Why.
        reason: ReasonText,
    },
}

/// How a bet ended.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BetResult {
    /// Won: stake back (unless it stays up) plus winnings less commission.
    Win,
    /// Lost: the stake went to the bankroll.
    Lose,
    /// Pushed: the stake came back.
    Push,
    /// Refunded: the round was void or the table closed.
    Refund,
}

/// What a bet is, for events.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Wager {
    /// A craps bet (tag 0).
    Craps {
        /// What it is on.
        #[borsh(
            serialize_with = "codec::bet_kind::write",
            deserialize_with = "codec::bet_kind::read"
        )]
        #[serde(with = "codec::bet_kind")]
        kind: BetKind,
    },
    /// A crash bet (tag 1).
    Crash {
        /// Its auto-cash-out target in hundredths, if any.
        auto_cash_out: Option<u64>,
    },
}

/// Why a round was void.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum VoidReason {
    /// No randomness within `beacon_void_after_blocks`.
    BeaconTimeout,
    /// The table was closed.
    TableClosed,
}

/// Something the ledger did, for history, the explorer and WebSocket
/// subscribers.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerEvent {
    /// An account's balance changed (tag 0).
    BalanceChanged {
        /// The account.
        account: Address,
        /// Before.
        before: Chips,
        /// After.
        after: Chips,
    },
    /// A table was opened (tag 1).
    TableCreated {
        /// Its id.
        table: TableId,
        /// Its owner.
        owner: Address,
        /// Its name.
        name: TableName,
        /// Its game and limits.
        game: TableGame,
    },
    /// A table was closed (tag 2).
    TableClosed {
        /// The table.
        table: TableId,
    },
    /// A player sat down (tag 3).
    PlayerJoined {
        /// The table.
        table: TableId,
        /// The player.
        player: Address,
    },
    /// A player left (tag 4).
    PlayerLeft {
        /// The table.
        table: TableId,
        /// The player.
        player: Address,
    },
    /// A bet was accepted (tag 5).
    BetPlaced {
        /// The table.
        table: TableId,
        /// The round (crash) or the roll number it was placed before
        /// (craps).
        round: u64,
        /// The bet's id.
        bet: u64,
        /// The player.
        player: Address,
        /// What it is.
        wager: Wager,
        /// The stake.
        amount: Chips,
    },
    /// A craps line bet's odds changed (tag 6).
    OddsChanged {
        /// The table.
        table: TableId,
        /// The line bet.
        bet: u64,
        /// Odds before.
        before: Chips,
        /// Odds after.
        after: Chips,
    },
    /// A craps bet was taken down and its stake and odds returned (tag 7).
    BetTakenDown {
        /// The table.
        table: TableId,
        /// The bet.
        bet: u64,
        /// What went back to the player.
        returned: Chips,
    },
    /// A bet (or part of one) was decided (tag 8).
    BetSettled {
        /// The table.
        table: TableId,
        /// The round (crash) or roll number (craps).
        round: u64,
        /// The bet.
        bet: u64,
        /// The player.
        player: Address,
        /// How it ended.
        result: BetResult,
        /// Everything credited to the player: returned stake plus winnings
        /// less commission (0 for a loss).
        paid: Chips,
    },
    /// Dice were rolled at a craps table (tag 9).
    DiceRolled {
        /// The table.
        table: TableId,
        /// The table's roll number.
        roll_number: u64,
        /// The dice.
        #[borsh(
            serialize_with = "codec::roll::write",
            deserialize_with = "codec::roll::read"
        )]
        #[serde(with = "codec::roll")]
        dice: Roll,
        /// The height of the beacon entry whose randomness rolled them.
        beacon_height: u64,
        /// The point after the roll (4, 5, 6, 8, 9 or 10), if one is on.
        point: Option<u8>,
        /// Whether the roll was a seven-out (the dice pass on).
        seven_out: bool,
    },
    /// A crash round stopped taking bets and started running (tag 10).
    CrashRoundStarted {
        /// The table.
        table: TableId,
        /// The round.
        round: u64,
        /// The agreed start time, ms.
        start_ms: u64,
    },
    /// The multiplier at a finalized block of a running round (tag 11).
    CrashTick {
        /// The table.
        table: TableId,
        /// The round.
        round: u64,
        /// The multiplier.
        #[borsh(
            serialize_with = "codec::multiplier::write",
            deserialize_with = "codec::multiplier::read"
        )]
        #[serde(with = "codec::multiplier")]
        multiplier: Multiplier,
        /// Elapsed ms since the round started.
        elapsed_ms: u64,
    },
    /// A crash bet cashed out (manually, automatically, or by the risk
    /// cap) at `at`; its payout follows in [`LedgerEvent::BetSettled`]
    /// (tag 12).
    CrashCashedOut {
        /// The table.
        table: TableId,
        /// The round.
        round: u64,
        /// The bet.
        bet: u64,
        /// The multiplier paid.
        #[borsh(
            serialize_with = "codec::multiplier::write",
            deserialize_with = "codec::multiplier::read"
        )]
        #[serde(with = "codec::multiplier")]
        at: Multiplier,
    },
    /// The round's total potential payout reached the risk cap; every bet
    /// still in cashes out at `at` (tag 13).
    CrashRiskCapReached {
        /// The table.
        table: TableId,
        /// The round.
        round: u64,
        /// The cap multiplier.
        #[borsh(
            serialize_with = "codec::multiplier::write",
            deserialize_with = "codec::multiplier::read"
        )]
        #[serde(with = "codec::multiplier")]
        at: Multiplier,
    },
    /// A crash round crashed (tag 14).
    Crashed {
        /// The table.
        table: TableId,
        /// The round.
        round: u64,
        /// The crash point (1.00× for an instant crash).
        #[borsh(
            serialize_with = "codec::multiplier::write",
            deserialize_with = "codec::multiplier::read"
        )]
        #[serde(with = "codec::multiplier")]
        at: Multiplier,
        /// The height of the beacon entry whose randomness decided it.
        beacon_height: u64,
    },
    /// A round (or a pending roll) was void; its stakes are refunded in
    /// [`LedgerEvent::BetSettled`] events with [`BetResult::Refund`]
    /// (tag 15).
    RoundVoid {
        /// The table.
        table: TableId,
        /// The round or roll number.
        round: u64,
        /// Why.
        reason: VoidReason,
    },
    /// Chips went into the bankroll for shares (tag 16).
    BankrollDeposited {
        /// The depositor.
        account: Address,
        /// The chips.
        amount: Chips,
        /// The shares issued.
        #[serde(with = "codec::u128_text")]
        shares: u128,
    },
    /// A bankroll withdrawal was requested (tag 17).
    BankrollWithdrawalQueued {
        /// The holder.
        account: Address,
        /// The shares.
        #[serde(with = "codec::u128_text")]
        shares: u128,
        /// The height at which it is paid.
        payable_at: u64,
    },
    /// A bankroll withdrawal was paid (tag 18).
    BankrollWithdrawalPaid {
        /// The holder.
        account: Address,
        /// The shares redeemed.
        #[serde(with = "codec::u128_text")]
        shares: u128,
        /// The chips paid.
        amount: Chips,
    },
    /// A validator registered (tag 19).
    ValidatorRegistered {
        /// Its consensus key.
        validator: PublicKey,
        /// The account that registered it.
        account: Address,
    },
    /// Stake was bonded (tag 20).
    Staked {
        /// The account.
        account: Address,
        /// How much.
        amount: Chips,
    },
    /// Stake started unbonding (tag 21).
    UnstakeQueued {
        /// The account.
        account: Address,
        /// How much.
        amount: Chips,
        /// The height at which it is released.
        release_at: u64,
    },
    /// Unbonded stake was released to the balance (tag 22).
    StakeReleased {
        /// The account.
        account: Address,
        /// How much.
        amount: Chips,
    },
    /// A validator was slashed (tag 23).
    Slashed {
        /// Its consensus key.
        validator: PublicKey,
        /// How much stake it lost.
        amount: Chips,
        /// What for.
        reason: ReasonText,
    },
    /// Transaction fees paid to a validator (tag 24).
    FeesPaid {
        /// The validator.
        validator: PublicKey,
        /// How much.
        amount: Chips,
    },
    /// The faucet minted chips (tag 25).
    FaucetPaid {
        /// The account.
        account: Address,
        /// How much.
        amount: Chips,
    },
    /// A craps table's next roll was committed at this block: its dice come
    /// from the beacon entry for `height`, which a later block carries
    /// (tag 26).
    CrapsRollCommitted {
        /// The table.
        table: TableId,
        /// The roll number.
        roll_number: u64,
        /// The height whose beacon entry rolls the dice.
        height: u64,
    },
    /// A crash round opened for bets (tag 27).
    CrashBettingOpened {
        /// The table.
        table: TableId,
        /// The round.
        round: u64,
        /// When betting closes (the round starts at the first block at or
        /// after it that finds bets), ms.
        betting_ends_ms: u64,
    },
    /// A crash round survived to 1,000,000× and everyone still in was paid
    /// there (tag 28).
    CrashRoundFinished {
        /// The table.
        table: TableId,
        /// The round.
        round: u64,
    },
    /// Transaction fees that could not be split evenly among the
    /// validators (or found no validator) were burned (tag 29).
    FeesBurned {
        /// How much.
        amount: Chips,
    },
    /// A new validator-set epoch began after this block (tag 30).
    EpochStarted {
        /// The epoch.
        epoch: u64,
        /// Its first height.
        start_height: u64,
        /// How many validators it has.
        validators: u32,
    },
}

/// What the ledger did with one transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The transaction's hash.
    pub tx: TxHash,
    /// Applied or rejected.
    pub status: TxStatus,
    /// The fee taken from the sender.
    pub fee_charged: Chips,
    /// What happened, in order.
    pub events: BoundedVec<LedgerEvent, MAX_EVENTS_PER_RECEIPT>,
}

impl LedgerEvent {
    /// The account the event concerns, if it names one: the one whose
    /// balance, bet, seat, table, stake or bankroll share it is about.
    /// Table-wide events (rolls, ticks, crashes, voids) and validator
    /// events keyed by consensus key name none; the balance changes they
    /// cause name their accounts.
    pub fn account(&self) -> Option<&Address> {
        match self {
            LedgerEvent::BalanceChanged { account, .. }
            | LedgerEvent::BankrollDeposited { account, .. }
            | LedgerEvent::BankrollWithdrawalQueued { account, .. }
            | LedgerEvent::BankrollWithdrawalPaid { account, .. }
            | LedgerEvent::Staked { account, .. }
            | LedgerEvent::UnstakeQueued { account, .. }
            | LedgerEvent::StakeReleased { account, .. }
            | LedgerEvent::FaucetPaid { account, .. }
            | LedgerEvent::ValidatorRegistered { account, .. } => Some(account),
            LedgerEvent::TableCreated { owner, .. } => Some(owner),
            LedgerEvent::PlayerJoined { player, .. }
            | LedgerEvent::PlayerLeft { player, .. }
            | LedgerEvent::BetPlaced { player, .. }
            | LedgerEvent::BetSettled { player, .. } => Some(player),
            LedgerEvent::TableClosed { .. }
            | LedgerEvent::OddsChanged { .. }
            | LedgerEvent::BetTakenDown { .. }
            | LedgerEvent::DiceRolled { .. }
            | LedgerEvent::CrashRoundStarted { .. }
            | LedgerEvent::CrashTick { .. }
            | LedgerEvent::CrashCashedOut { .. }
            | LedgerEvent::CrashRiskCapReached { .. }
            | LedgerEvent::Crashed { .. }
            | LedgerEvent::RoundVoid { .. }
            | LedgerEvent::Slashed { .. }
            | LedgerEvent::FeesPaid { .. }
            | LedgerEvent::CrapsRollCommitted { .. }
            | LedgerEvent::CrashBettingOpened { .. }
            | LedgerEvent::CrashRoundFinished { .. }
            | LedgerEvent::FeesBurned { .. }
            | LedgerEvent::EpochStarted { .. } => None,
        }
    }
}

impl Receipt {
    /// The canonical encoding (what storage keeps).
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a stored receipt: at most [`MAX_RECEIPT_BYTES`], canonical.
    pub fn decode(bytes: &[u8]) -> Result<Receipt, DecodeError> {
        decode("receipt", bytes, MAX_RECEIPT_BYTES)
    }

    /// `BLAKE3-derive-key("bitcraps v1 receipt", borsh(receipt))`.
    pub fn hash(&self) -> Hash {
        hash(HashDomain::Receipt, &self.encode())
    }

    /// Whether the action was applied.
    pub const fn is_applied(&self) -> bool {
        matches!(self.status, TxStatus::Applied)
    }
}

#[cfg(test)]
mod tests;
