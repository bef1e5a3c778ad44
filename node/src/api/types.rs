//! What the API serves and how it reaches the node: the [`NodeView`] and
//! [`NodeWallet`] traits, the JSON shapes they return, and the
//! [`ApiEvent`]s the node pushes to WebSocket subscribers.
//!
//! Consensus types that already have a serde form (blocks, transactions,
//! receipts, ledger events, table games, beacon entries) are served as they
//! serialize: addresses `craps1…`, hashes and keys as hex, amounts as
//! numbers of chips, `u128` pool shares as decimal strings. The shapes
//! defined here use the same conventions.

use std::fmt;
use std::str::FromStr;

use consensus::block::{BeaconEntry, Block};
use consensus::hash::{BlockHash, TxHash};
pub use consensus::ledger::{CrashBetState, OpenBet, OpenBetState};
use consensus::receipt::{LedgerEvent, Receipt};
use consensus::tx::{Action, SignedTransaction, TableGame, TableId};
use game_rules::Chips;
use serde::{Deserialize, Serialize};
use wallet::{Address, ChainId, PublicKey};

/// Why the node could not answer a read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// The node cannot answer yet (starting, storage being opened); HTTP 503.
    #[error("{0}")]
    Unavailable(String),
    /// Something failed inside the node (a storage error); HTTP 500.
    #[error("{0}")]
    Internal(String),
}

/// Why a transaction was not accepted. Every message should say what the
/// sender can do about it; the API passes it on verbatim.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// Invalid on every node (malformed, badly signed, wrong chain, fee
    /// below the chain minimum); HTTP 400, code `invalid_transaction`.
    #[error("{0}")]
    Invalid(String),
    /// Refused by this node's view of the ledger or its policy (nonce,
    /// balance, expiry, relay fee); HTTP 422, code `transaction_refused`.
    #[error("{0}")]
    Refused(String),
    /// This exact transaction is already pending or included; HTTP 409,
    /// code `already_known`.
    #[error("transaction {0} is already known; wait for it to be included")]
    AlreadyKnown(TxHash),
    /// The mempool (or this sender's share of it) is full; HTTP 503 with
    /// `Retry-After`, code `busy`.
    #[error("{0}")]
    Busy(String),
    /// The node cannot take transactions now (syncing, no wallet loaded);
    /// HTTP 503, code `not_ready`.
    #[error("{0}")]
    NotReady(String),
    /// Something failed inside the node; HTTP 500, code `internal`.
    #[error("{0}")]
    Internal(String),
}

/// The reads the API serves. Implemented by the node over its ledger,
/// block store, mempool and network; by a fake in the API tests.
///
/// Methods are synchronous and may block on storage: the API calls them on
/// tokio's blocking pool, never on a runtime worker. They must not panic on
/// any argument (the API has already bounded pagination limits).
pub trait NodeView: Send + Sync + 'static {
    /// The chain this node follows (transactions for other chains are
    /// refused before [`NodeView::submit_transaction`]).
    fn chain_id(&self) -> ChainId;

    /// Height, epoch, peers and sync progress.
    fn status(&self) -> Result<NodeStatus, ViewError>;

    /// The finalized block at `height`, if this node has it.
    fn block_by_height(&self, height: u64) -> Result<Option<Block>, ViewError>;

    /// The finalized block with header hash `hash`, if this node has it.
    fn block_by_hash(&self, hash: &BlockHash) -> Result<Option<Block>, ViewError>;

    /// The encoded finality certificate of the block at `height`
    /// (`consensus::engine::FinalityProof`), if this node stored one: a
    /// block finalized through a certified descendant has none of its own.
    fn finality_proof(&self, height: u64) -> Result<Option<Vec<u8>>, ViewError>;

    /// A transaction, pending (in the mempool) or included (with its
    /// receipt).
    fn transaction(&self, hash: &TxHash) -> Result<Option<TxRecord>, ViewError>;

    /// An account; an address never seen has balance 0 and nonce 0 (not an
    /// error). `page` selects its history, newest first. Its
    /// [`AccountInfo::pending_nonce`] counts the sender's transactions
    /// waiting in this node's mempool.
    fn account(&self, address: &Address, page: Page) -> Result<AccountInfo, ViewError>;

    /// Every registered validator.
    fn validators(&self) -> Result<Vec<ValidatorInfo>, ViewError>;

    /// Every open table.
    fn tables(&self) -> Result<Vec<TableInfo>, ViewError>;

    /// A table's rounds, newest first; `None` if there is no such table.
    fn table_rounds(
        &self,
        table: TableId,
        page: Page,
    ) -> Result<Option<Vec<RoundSummary>>, ViewError>;

    /// The bets still on a table ([`consensus::ledger::Table::open_bets`]),
    /// only `player`'s if given; `None` if there is no such table.
    fn table_bets(
        &self,
        table: TableId,
        player: Option<&Address>,
    ) -> Result<Option<Vec<OpenBet>>, ViewError>;

    /// One round with its randomness and events; `None` if unknown.
    fn round(&self, table: TableId, round: u64) -> Result<Option<RoundInfo>, ViewError>;

    /// The top `limit` players by net winnings, for one game or overall.
    fn leaderboard(
        &self,
        game: Option<Game>,
        limit: usize,
    ) -> Result<Vec<LeaderboardEntry>, ViewError>;

    /// The shared bankroll.
    fn bankroll(&self) -> Result<BankrollInfo, ViewError>;

    /// Offers a signed transaction to the mempool (and so to gossip). The
    /// API has already decoded it under its size bound and checked its
    /// chain, form and signature ([`SignedTransaction::check`]).
    fn submit_transaction(&self, tx: SignedTransaction) -> Result<TxHash, SubmitError>;

    /// Offers several transactions at once (`POST /v1/txs/batch`), each
    /// as [`NodeView::submit_transaction`] would, in order; one result per
    /// transaction. The node overrides it to make the whole batch durable
    /// in its journal with one disk sync rather than one per transaction.
    fn submit_transactions(&self, txs: Vec<SignedTransaction>) -> Vec<Result<TxHash, SubmitError>> {
        txs.into_iter()
            .map(|tx| self.submit_transaction(tx))
            .collect()
    }
}

/// The node's own key, for the auth-gated wallet routes: it signs an
/// action with the node's key (choosing nonce, fee if not given, and
/// expiry) and submits it like [`NodeView::submit_transaction`].
///
/// Called on tokio's blocking pool. The API has already checked the action
/// with [`Action::check_well_formed`].
pub trait NodeWallet: Send + Sync + 'static {
    /// The address actions are sent from.
    fn address(&self) -> Address;

    /// Signs and submits `action`, paying `fee` (or the node's default).
    fn submit_action(
        &self,
        action: Action,
        fee: Option<Chips>,
    ) -> Result<WalletSubmission, SubmitError>;
}

/// What [`NodeWallet::submit_action`] sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletSubmission {
    /// The transaction's hash.
    pub hash: TxHash,
    /// Its nonce.
    pub nonce: u64,
    /// The fee it pays, chips.
    pub fee: u64,
}

/// A page of a newest-first list: entries strictly before the cursor
/// `before` (all if `None`), at most `limit` of them (1 ..= 100, checked by
/// the API).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// Exclusive upper bound on the entries' cursor (`seq` for history,
    /// the round number for rounds).
    pub before: Option<u64>,
    /// The most entries to return.
    pub limit: usize,
}

/// A game.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Game {
    /// Crash.
    Crash,
    /// Craps.
    Craps,
}

impl Game {
    /// `"crash"` or `"craps"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Game::Crash => "crash",
            Game::Craps => "craps",
        }
    }

    /// The game a table plays.
    pub const fn of(game: &TableGame) -> Game {
        match game {
            TableGame::Crash { .. } => Game::Crash,
            TableGame::Craps { .. } => Game::Craps,
        }
    }
}

impl fmt::Display for Game {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Game {
    type Err = String;

    fn from_str(s: &str) -> Result<Game, String> {
        match s {
            "crash" => Ok(Game::Crash),
            "craps" => Ok(Game::Craps),
            other => Err(format!("unknown game {other:?}: use crash or craps")),
        }
    }
}

/// `GET /v1/status`, as the node reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// The chain followed.
    pub chain_id: ChainId,
    /// The latest finalized block applied here; `null` before the first.
    pub height: Option<u64>,
    /// That block's hash.
    pub block_hash: Option<BlockHash>,
    /// The current validator epoch.
    pub epoch: u64,
    /// Connected peers.
    pub peers: u64,
    /// Pending transactions in the mempool.
    pub mempool_transactions: u64,
    /// The chain's minimum fee per transaction, chips (the genesis
    /// parameter `min_fee`; faucet requests are exempt).
    pub min_fee: u64,
    /// Whether the node is catching up (then `/ready` answers 503).
    pub syncing: bool,
    /// Catch-up progress while syncing.
    pub sync: Option<SyncProgress>,
}

/// How far a catching-up node is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncProgress {
    /// The height reached.
    pub height: u64,
    /// The best finalized height known from peers.
    pub target: u64,
    /// Recent rate, blocks per second.
    pub blocks_per_second: f64,
    /// Estimated seconds to reach the target, if the rate is known.
    pub eta_seconds: Option<u64>,
}

/// Where and how a transaction was included.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxInclusion {
    /// The block's height.
    pub height: u64,
    /// The block's hash.
    pub block_hash: BlockHash,
    /// The position in the block, from 0.
    pub index: u32,
    /// What the ledger did with it.
    pub receipt: Receipt,
}

/// A transaction the node knows: pending if `inclusion` is `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxRecord {
    /// The transaction.
    pub tx: SignedTransaction,
    /// Its block and receipt, once included.
    pub inclusion: Option<TxInclusion>,
}

/// An account (`GET /v1/accounts/{address}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// The account.
    pub address: Address,
    /// Spendable balance, chips.
    pub balance: u64,
    /// The nonce its next transaction must carry to be applied next (the
    /// ledger's).
    pub nonce: u64,
    /// The nonce a new transaction should carry on this node: after the
    /// account's run of transactions waiting in this node's mempool, or
    /// [`AccountInfo::nonce`] when none are.
    pub pending_nonce: u64,
    /// Bonded validator stake, chips.
    pub stake: u64,
    /// Bankroll pool shares held (a decimal string: `u128`).
    #[serde(with = "u128_text")]
    pub bankroll_shares: u128,
    /// The requested page of its history, newest first.
    pub history: Vec<HistoryEntry>,
    /// The cursor for the next (older) page (`?history_before=`), if any.
    pub next_before: Option<u64>,
}

/// One entry of an account's history: a transaction that concerns it, or
/// a block whose own events do (a settlement, a refund, a payout).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Its cursor: increasing with time, unique per account.
    pub seq: u64,
    /// The block that holds it.
    pub height: u64,
    /// The transaction, or `None` for the block's own events (settlements
    /// are caused by blocks).
    pub tx: Option<TxHash>,
    /// What happened to the account, in order: the events that name it,
    /// and a transaction's events that name no account.
    pub events: Vec<LedgerEvent>,
}

/// A validator (`GET /v1/validators`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidatorInfo {
    /// Its account.
    pub address: Address,
    /// The key that signs its votes.
    pub consensus_key: PublicKey,
    /// Bonded stake, chips.
    pub stake: u64,
    /// Stake unbonding, chips.
    pub unbonding: u64,
    /// Whether it is in the current epoch's set.
    pub active: bool,
    /// Of the views of the current epoch it led, the share that produced
    /// a finalized block, 0 to 1 (`(led − missed_heights) / led`); 1 when
    /// it led none. For display: the counts behind it are exact.
    pub uptime: f64,
    /// The views of the current epoch it led that produced no finalized
    /// block: an exact count every node derives from the chain alone. Each
    /// block header carries the view it was proposed in, and the leader of
    /// every view is the engine's round-robin elector over the epoch's
    /// committee; a view from the epoch's first (view 1) up to its last
    /// finalized block's view that has no finalized block — it was
    /// nullified, or its proposal was never finalized — counts against its
    /// leader. 0 for a validator outside the epoch's committee. (The field
    /// keeps its name; it counts views, not heights.)
    pub missed_heights: u64,
    /// Whether it has been slashed.
    pub slashed: bool,
    /// Chips slashed in total.
    pub slashed_amount: u64,
    /// Where peers reach it.
    pub network_address: String,
}

/// A table (`GET /v1/tables`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    /// Its id.
    pub id: TableId,
    /// The name shown in the lobby.
    pub name: String,
    /// Who opened it.
    pub owner: Address,
    /// The game and its limits (`{"crash": {"min_bet", "max_bet"}}` or
    /// `{"craps": {"min_bet", "max_bet", "odds"}}`).
    pub game: TableGame,
    /// The most players seated at once.
    pub max_players: u16,
    /// Who is seated now.
    pub players: Vec<Address>,
    /// The current round (crash) or roll number (craps), if one is open.
    pub round: Option<u64>,
    /// Craps: the seated player holding the dice (none at a crash table or
    /// an empty craps table). Passes to the next seat in join order on a
    /// seven-out. Absent in replies from nodes older than this field.
    #[serde(default)]
    pub shooter: Option<Address>,
}

/// Where a round is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    /// Taking bets.
    Betting,
    /// Running (crash) or waiting for its randomness (craps).
    Running,
    /// Decided and paid.
    Settled,
    /// Randomness could not be produced: every stake refunded.
    Void,
}

/// A round in a list (`GET /v1/tables/{id}/rounds`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundSummary {
    /// The table.
    pub table: TableId,
    /// The round (crash) or roll number (craps).
    pub round: u64,
    /// The game.
    pub game: Game,
    /// Where it is.
    pub status: RoundStatus,
    /// The block that opened it.
    pub opened_height: u64,
    /// The block that settled or voided it.
    pub settled_height: Option<u64>,
    /// Bets placed.
    pub bets: u64,
    /// Chips staked.
    pub wagered: u64,
    /// Chips paid out (stakes returned included).
    pub paid: u64,
    /// What the randomness decided, once it has (none while open or void).
    pub outcome: Option<RoundOutcome>,
}

/// What decided a finished round, for lists and explorers (the full record
/// is in [`RoundInfo::events`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundOutcome {
    /// The crash round crashed at `at_hundredths` (100 is an instant crash
    /// at 1.00×).
    Crashed {
        /// The crash point, hundredths of the multiplier.
        at_hundredths: u64,
    },
    /// The crash round reached its payout cap and everyone still riding
    /// was cashed out there.
    Capped,
    /// The craps roll.
    Rolled {
        /// The two dice.
        dice: [u8; 2],
        /// Their sum.
        total: u8,
        /// The point after the roll, if one is on.
        point: Option<u8>,
        /// Whether it was a seven-out.
        seven_out: bool,
    },
}

/// The randomness that decided a round and what is needed to check it
/// offline: verify `entry.signature` (σ) as the threshold BLS signature of
/// `message` under `group_public_key`, then apply `derivation` to
/// `blake3(domain ‖ σ)` as `game-rules` documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundRandomness {
    /// The beacon entry (height and σ).
    pub entry: BeaconEntry,
    /// The block that published the entry.
    pub published_height: u64,
    /// The epoch whose group key signed it.
    pub epoch: u64,
    /// The exact message signed, hex.
    pub message: String,
    /// The epoch's group public key, hex.
    pub group_public_key: String,
    /// Which versioned `game-rules` derivation turns it into the outcome.
    pub derivation: String,
}

/// One round in full (`GET /v1/rounds/{table}/{round}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundInfo {
    /// The summary.
    #[serde(flatten)]
    pub summary: RoundSummary,
    /// Its randomness, once published (none for a void round).
    pub randomness: Vec<RoundRandomness>,
    /// Everything the ledger recorded for it, in order (bets, ticks, rolls,
    /// cash-outs, settlements).
    pub events: Vec<LedgerEvent>,
}

/// One line of the leaderboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderboardEntry {
    /// 1 for the first.
    pub rank: u32,
    /// The player.
    pub address: Address,
    /// Paid out minus staked, chips (negative for a loss).
    pub net_winnings: i64,
    /// Chips staked.
    pub wagered: u64,
    /// Bets placed.
    pub bets: u64,
}

/// The shared bankroll (`GET /v1/bankroll`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankrollInfo {
    /// Chips in the pool.
    pub balance: u64,
    /// Pool shares issued (decimal string).
    #[serde(with = "u128_text")]
    pub total_shares: u128,
    /// Shares queued for withdrawal (decimal string).
    #[serde(with = "u128_text")]
    pub pending_withdrawal_shares: u128,
    /// Blocks between a withdrawal request and its payment.
    pub withdrawal_delay_blocks: u64,
    /// Chips currently at risk in open rounds.
    pub exposure: u64,
    /// The most a round may put at risk, in basis points of the balance.
    pub max_round_exposure_bps: u32,
}

/// The events of one finalized block, in order. The node broadcasts one
/// batch per block, so the broadcast's capacity counts blocks however many
/// events a block has: a busy block emits thousands at once (a receipt
/// per account touched, a table event per bet placed or settled), more
/// than any fixed per-event capacity can take in one burst, and a client
/// that lags is dropped.
pub type EventBatch = std::sync::Arc<[ApiEvent]>;

/// The sender the node publishes its [`EventBatch`]es on (see
/// [`super::ApiServer::bind`]).
pub type EventSender = tokio::sync::broadcast::Sender<EventBatch>;

/// Something the node pushes to WebSocket subscribers, in an
/// [`EventBatch`] on the [`EventSender`] given to
/// [`super::ApiServer::bind`]; each goes to the clients subscribed to
/// [`ApiEvent::topic`].
///
/// JSON: tagged by `"type"` (`block`, `table`, `receipt`, `leaderboard`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ApiEvent {
    /// A block was finalized and applied (topic `blocks`).
    Block {
        /// Its height.
        height: u64,
        /// Its hash.
        hash: BlockHash,
        /// Its agreed time, ms since the Unix epoch.
        timestamp_ms: u64,
        /// How many transactions it has.
        transaction_count: u32,
    },
    /// Something happened at a table: a crash tick with the current
    /// multiplier, a cash-out, a crash, a craps roll, a bet settled (topic
    /// `crash:{table}` or `craps:{table}` by `game`).
    Table {
        /// The table.
        table: TableId,
        /// Its game.
        game: Game,
        /// The block that caused it.
        height: u64,
        /// What happened.
        event: LedgerEvent,
    },
    /// A receipt of a transaction that touched `account` (topic
    /// `receipts:{account}`).
    Receipt {
        /// The account concerned.
        account: Address,
        /// The block that included it.
        height: u64,
        /// The receipt.
        receipt: Receipt,
    },
    /// The leaderboard changed (topic `leaderboard`).
    Leaderboard {
        /// The game, or `null` for overall.
        game: Option<Game>,
        /// The new top entries.
        entries: Vec<LeaderboardEntry>,
    },
}

impl ApiEvent {
    /// The topic whose subscribers receive it.
    pub fn topic(&self) -> Topic {
        match self {
            ApiEvent::Block { .. } => Topic::Blocks,
            ApiEvent::Table {
                table,
                game: Game::Crash,
                ..
            } => Topic::Crash(*table),
            ApiEvent::Table {
                table,
                game: Game::Craps,
                ..
            } => Topic::Craps(*table),
            ApiEvent::Receipt { account, .. } => Topic::Receipts(*account),
            ApiEvent::Leaderboard { .. } => Topic::Leaderboard,
        }
    }
}

/// A WebSocket topic. Text: `blocks`, `crash:{table}`, `craps:{table}`,
/// `receipts:{address}`, `leaderboard`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Every finalized block.
    Blocks,
    /// Ticks, cash-outs and crashes of one crash table.
    Crash(TableId),
    /// Rolls and resolutions of one craps table.
    Craps(TableId),
    /// Receipts touching one account.
    Receipts(Address),
    /// Leaderboard changes.
    Leaderboard,
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::Blocks => f.write_str("blocks"),
            Topic::Crash(table) => write!(f, "crash:{}", table.0),
            Topic::Craps(table) => write!(f, "craps:{}", table.0),
            Topic::Receipts(address) => write!(f, "receipts:{address}"),
            Topic::Leaderboard => f.write_str("leaderboard"),
        }
    }
}

impl FromStr for Topic {
    type Err = String;

    fn from_str(s: &str) -> Result<Topic, String> {
        let table = |id: &str| {
            id.parse::<u64>()
                .map(TableId)
                .map_err(|_| format!("{s:?}: the table id must be a number, e.g. crash:1"))
        };
        match s.split_once(':') {
            None if s == "blocks" => Ok(Topic::Blocks),
            None if s == "leaderboard" => Ok(Topic::Leaderboard),
            Some(("crash", id)) => table(id).map(Topic::Crash),
            Some(("craps", id)) => table(id).map(Topic::Craps),
            Some(("receipts", address)) => address
                .parse::<Address>()
                .map(Topic::Receipts)
                .map_err(|e| format!("{s:?}: {e}")),
            _ => Err(format!(
                "unknown topic {s:?}: use blocks, crash:{{table}}, craps:{{table}}, receipts:{{address}} or leaderboard"
            )),
        }
    }
}

/// `u128` as a decimal string in JSON (JavaScript numbers lose precision
/// above 2^53).
pub(crate) mod u128_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<u128, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The most transactions one `POST /v1/txs/batch` may carry.
pub const MAX_BATCH_TRANSACTIONS: usize = 1024;

/// The default body limit of `POST /v1/txs/batch`, bytes
/// (`api.max_batch_body_bytes`): 1,024 bets as hex in JSON take about
/// 400 KB; larger transactions (a dealer log may be 52 KiB) need smaller
/// batches.
pub const DEFAULT_MAX_BATCH_BODY_BYTES: usize = 1024 * 1024;

/// `POST /v1/txs/batch` answer: one result per transaction, in
/// the request's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSubmitted {
    /// How many were accepted into the mempool.
    pub accepted: usize,
    /// Each transaction's outcome, in request order.
    pub results: Vec<BatchItem>,
}

/// What became of one transaction of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    /// Its hash, if it decoded.
    pub hash: Option<TxHash>,
    /// `pending` (accepted into the mempool) or `refused`.
    pub status: BatchItemStatus,
    /// Why it was refused: what `POST /v1/txs` would have answered for it
    /// alone. Absent when accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<BatchItemError>,
}

/// [`BatchItem::status`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchItemStatus {
    /// Accepted into the mempool.
    Pending,
    /// Refused; see [`BatchItem::error`].
    Refused,
}

/// A refused transaction's error: the status, code, message and
/// `Retry-After` that `POST /v1/txs` would answer for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchItemError {
    /// The HTTP status the single submission would have had.
    pub http_status: u16,
    /// The stable error code, e.g. `already_known`.
    pub code: String,
    /// What went wrong and what to do.
    pub message: String,
    /// Seconds to wait before trying it again, for `busy` and `not_ready`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}
