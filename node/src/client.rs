//! # API client
//!
//! [`ApiClient`] is a typed async client of a node's local API
//! ([`crate::api`]): every REST route as a method returning the API's own
//! types, and [`ApiClient::subscribe`], a WebSocket subscription that
//! reconnects by itself with exponential backoff and re-subscribes its
//! topics.
//!
//! - **Transport:** plain HTTP/1.1 (hyper) over a keep-alive pool shared
//!   by a client and its clones: a request takes an idle connection (the
//!   most recently used one), or opens one, and gives it back once the
//!   whole answer is read. Opening a TCP connection and an HTTP session
//!   per request cost the node more than handling the request did (a
//!   third of a player node's CPU per submitted bet, see
//!   `docs/performance-profile.md`). At most [`MAX_IDLE_CONNECTIONS`] stay
//!   idle, each for at most [`IDLE_CONNECTION_LIFETIME`] (less than the
//!   server's 30 s header-read timeout, so the node rarely closes one under
//!   us).
//! - **Stale connections:** after a node restarts, pooled connections are
//!   dead. A request that finds its pooled connection closed, or whose
//!   pooled connection fails before an answer arrives, empties the pool
//!   and goes again on a new connection — but only when resending cannot
//!   act twice: always if hyper reports the request was never written, and
//!   otherwise only for idempotent requests (every `GET`, and submitting a
//!   signed transaction, which the node identifies by its hash: a second
//!   copy is `already_known`, never a second transaction). A wallet route
//!   (the node signs a new transaction with its next nonce) that may have
//!   reached the node is never sent again: its error is returned.
//! - **Auth:** the wallet routes read the bearer token from the node's
//!   cookie file ([`ApiClient::with_cookie`]) at every call, because the
//!   node writes a new token each time it starts.
//! - **Errors:** every failure is a [`ClientError`]; the API's structured
//!   errors (`{"code", "message"}`) become [`ClientError::Api`] with the
//!   status and `Retry-After`.
//! - **Timeouts:** each request (connect, send, read the whole body) is
//!   bounded by [`ApiClient::with_timeout`] (10 s by default).
//! - **Finality:** [`ApiClient::wait_included`] polls a submitted
//!   transaction until a finalized block includes it, and [`verify`]
//!   re-derives a round's outcome from what the API serves, offline.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consensus::block::Block;
use consensus::hash::{BlockHash, TxHash};
use consensus::receipt::Receipt;
use consensus::tx::{Action, SignedTransaction, TableId};
use futures_util::{SinkExt, StreamExt};
use hyper::body::{Body as _, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode, Uri, header};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use wallet::Address;

use crate::api::{
    AccountInfo, ApiEvent, BATCH_SUBMIT_PATH, BankrollInfo, BatchItemStatus, BatchSubmitted,
    DEFAULT_MAX_BATCH_BODY_BYTES, ErrorBody, Game, LeaderboardEntry, MAX_BATCH_TRANSACTIONS,
    NodeStatus, OpenBet, RoundInfo, RoundSummary, SyncProgress, TableInfo, Topic, ValidatorInfo,
    wallet_request_body, wallet_route_of,
};

#[cfg(any(test, feature = "test-fixtures"))]
pub mod testing;
pub mod verify;

/// The default time one request may take, end to end.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often [`ApiClient::wait_included`] asks about a pending
/// transaction.
pub const WAIT_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// The largest response body read, bytes (a block is the largest answer).
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The most idle keep-alive connections a client (with its clones) keeps;
/// more than a load generator's concurrent submitters.
pub const MAX_IDLE_CONNECTIONS: usize = 64;

/// How long a connection may stay idle in the pool before it is closed
/// instead of reused (the node's HTTP server closes connections that send
/// no request for 30 s).
pub const IDLE_CONNECTION_LIFETIME: Duration = Duration::from_secs(20);

/// How often an idle WebSocket is pinged, and how long without any frame
/// from the node before the connection counts as dead (a paused node keeps
/// its socket open but answers nothing).
const WS_PING_EVERY: Duration = Duration::from_secs(5);
const WS_SILENCE_LIMIT: Duration = Duration::from_secs(15);

/// The most updates a [`Subscription`] buffers for a consumer that does not
/// read; beyond it the subscription stops reading the socket, the node
/// drops it as slow, and it reconnects.
const SUBSCRIPTION_BUFFER: usize = 1024;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL is not `http://host:port`.
    #[error("{url:?} is not an API address ({reason}); use e.g. http://127.0.0.1:7380")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing answered at the address (node down, wrong port).
    #[error("the node at {addr} is unreachable ({source}); is it running?")]
    Unreachable {
        /// `host:port`.
        addr: String,
        /// Why the connection failed.
        source: io::Error,
    },
    /// The node did not answer in time.
    #[error("the node did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The connection failed mid-request.
    #[error("the connection to the node failed: {0}")]
    Http(#[from] hyper::Error),
    /// A wallet route was called without a cookie file.
    #[error("this needs the node's auth token: give the path of its cookie file (--cookie)")]
    NoCookie,
    /// The cookie file could not be read.
    #[error(
        "cannot read the API cookie file {path}: {source}; is the node running, and may this user read it?"
    )]
    Cookie {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The API answered with an error.
    #[error("{message} ({code}, HTTP {status})")]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// The stable error code, e.g. `transaction_refused`.
        code: String,
        /// What went wrong and what to do, from the node.
        message: String,
        /// `Retry-After`, seconds, if the node sent one.
        retry_after: Option<u64>,
    },
    /// The answer was not what the API documents.
    #[error("unexpected answer from the node: {0}")]
    Protocol(String),
    /// A request argument the client cannot send.
    #[error("{0}")]
    InvalidRequest(String),
    /// [`ApiClient::wait_included`] gave up: the transaction was still
    /// pending.
    #[error(
        "transaction {hash} is still pending after {} s; it may yet be included: follow it with `bitcraps explore tx {hash}`",
        .waited.as_secs()
    )]
    StillPending {
        /// The transaction.
        hash: TxHash,
        /// How long it was waited for.
        waited: Duration,
    },
    /// [`ApiClient::wait_included`]: the transaction left the node's
    /// mempool without being included.
    #[error(
        "transaction {0} left the node's mempool without being included (it expired, was replaced by one paying more, or was evicted); check the account's nonce and send it again"
    )]
    Dropped(TxHash),
}

impl ClientError {
    /// The API's error code, if the node answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether retrying the same call later may succeed: the node was
    /// unreachable, slow, busy, rate limiting, or not ready.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } | ClientError::Timeout(_) | ClientError::Http(_) => {
                true
            }
            ClientError::Api { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS
                    || *status == StatusCode::SERVICE_UNAVAILABLE
            }
            _ => false,
        }
    }
}

/// Where the API is: a `http://host:port` base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Endpoint {
    host: String,
    port: u16,
    /// `host:port` as sent in `Host` (the API checks it).
    authority: String,
}

impl Endpoint {
    fn parse(url: &str) -> Result<Endpoint, ClientError> {
        let bad = |reason: &str| ClientError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url.parse().map_err(|e| bad(&format!("{e}")))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => return Err(bad(&format!("scheme {other} is not supported, use http"))),
            None => return Err(bad("no scheme")),
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(bad("give only scheme, host and port"));
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = authority.host();
        // `Uri` keeps the brackets of an IPv6 literal; connecting needs it bare.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(crate::api::DEFAULT_API_PORT);
        Ok(Endpoint {
            host: bare.to_owned(),
            port,
            authority: format!("{host}:{port}"),
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.authority)
    }
}

/// How a [`Subscription`] waits between reconnection attempts: `initial`,
/// doubling after each failure up to `max`, back to `initial` once a
/// connection is up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// The wait before attempt `failures` (1 after the first failure).
    pub fn delay(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(16);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// A client of one node's local API. Cheap to clone; clones share one
/// pool of keep-alive connections.
#[derive(Clone, Debug)]
pub struct ApiClient {
    endpoint: Endpoint,
    cookie: Option<PathBuf>,
    timeout: Duration,
    backoff: Backoff,
    pool: Arc<Pool>,
}

/// An open HTTP/1.1 connection: the request handle and the task driving
/// the socket (aborted when this is dropped, which closes it).
struct Connection {
    sender: SendRequest<String>,
    _task: AbortOnDrop,
}

/// Idle keep-alive connections, most recently used last.
#[derive(Default)]
struct Pool {
    idle: Mutex<Vec<(Connection, Instant)>>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let idle = self.idle.lock().map_or(0, |idle| idle.len());
        f.debug_struct("Pool").field("idle", &idle).finish()
    }
}

impl Pool {
    /// The most recently used idle connection that is still young enough.
    fn take(&self) -> Option<Connection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while let Some((connection, since)) = idle.pop() {
            if now.duration_since(since) < IDLE_CONNECTION_LIFETIME
                && !connection.sender.is_closed()
            {
                return Some(connection);
            }
        }
        None
    }

    /// Keeps `connection` for a later request, if there is room.
    fn give_back(&self, connection: Connection) {
        if connection.sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_CONNECTIONS {
            idle.push((connection, Instant::now()));
        }
    }

    /// Closes every idle connection: one turned out dead, so the node
    /// probably restarted and the others are dead too.
    fn clear(&self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    #[cfg(test)]
    fn idle(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }
}

/// Whether a request may be sent again after it may have reached the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resend {
    /// Sending it twice does what sending it once does.
    Idempotent,
    /// A second copy could act twice: never resent once it may have left.
    Never,
}

/// `GET /v1/status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The node's software version.
    pub version: String,
    /// Chain, height, epoch, peers, sync.
    #[serde(flatten)]
    pub node: NodeStatus,
    /// The node wallet's address, if it has one loaded.
    pub wallet: Option<Address>,
}

/// `GET /ready`, whether ready (200) or not (503).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Readiness {
    /// Whether the node is synced.
    pub ready: bool,
    /// Its latest applied height.
    pub height: Option<u64>,
    /// Catch-up progress while syncing.
    pub sync: Option<SyncProgress>,
    /// Why it is not ready, from the node.
    #[serde(default)]
    pub message: Option<String>,
}

/// `GET /v1/blocks/…`: a block with its hash and canonical encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockReply {
    /// The header hash.
    pub hash: BlockHash,
    /// The height.
    pub height: u64,
    /// The encoding's length.
    pub size_bytes: usize,
    /// The canonical encoding, hex.
    pub encoded: String,
    /// The block's finality certificate, hex, if the node has one of its
    /// own (`null` for a block finalized through a certified descendant).
    pub proof: Option<String>,
    /// The decoded block.
    pub block: Block,
}

impl BlockReply {
    /// The finality certificate's bytes (an encoded
    /// `consensus::engine::FinalityProof`), if the node served one.
    pub fn proof_bytes(&self) -> Result<Option<Vec<u8>>, ClientError> {
        self.proof
            .as_deref()
            .map(|text| {
                hex::decode(text).map_err(|e| {
                    ClientError::Protocol(format!(
                        "the finality certificate of block {} is not hex: {e}",
                        self.height
                    ))
                })
            })
            .transpose()
    }
}

/// Where a transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxState {
    /// In the mempool.
    Pending,
    /// Included and applied.
    Applied,
    /// Included, its action refused (it paid its fee).
    Rejected,
}

/// `GET /v1/txs/{hash}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxReply {
    /// The hash.
    pub hash: TxHash,
    /// Pending, applied or rejected.
    pub status: TxState,
    /// The signer's address.
    pub sender: Address,
    /// The transaction.
    pub tx: SignedTransaction,
    /// The including block's height.
    pub block_height: Option<u64>,
    /// The including block's hash.
    pub block_hash: Option<BlockHash>,
    /// The position in the block.
    pub index: Option<u32>,
    /// What the ledger did with it.
    pub receipt: Option<Receipt>,
}

/// `POST /v1/txs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    /// The transaction's hash.
    pub hash: TxHash,
    /// Always `pending`: accepted into the mempool.
    pub status: TxState,
}

/// What a wallet route sent (202).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletReply {
    /// The transaction's hash.
    pub hash: TxHash,
    /// Its nonce.
    pub nonce: u64,
    /// The fee it pays.
    pub fee: u64,
    /// The node wallet's address.
    pub sender: Address,
    /// What it does.
    pub action: Action,
    /// Always `pending`.
    pub status: TxState,
}

/// `GET /v1/tables/{id}/rounds`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundsPage {
    /// The table.
    pub table: TableId,
    /// Newest first.
    pub rounds: Vec<RoundSummary>,
    /// The cursor of the next (older) page, if there may be one.
    pub next_before: Option<u64>,
}

#[derive(Deserialize)]
struct ValidatorsBody {
    validators: Vec<ValidatorInfo>,
}

#[derive(Deserialize)]
struct TablesBody {
    tables: Vec<TableInfo>,
}

#[derive(Deserialize)]
struct BetsBody {
    bets: Vec<OpenBet>,
}

#[derive(Deserialize)]
struct LeaderboardBody {
    entries: Vec<LeaderboardEntry>,
}

/// A whole answer.
struct Reply {
    status: StatusCode,
    retry_after: Option<u64>,
    body: Vec<u8>,
}

impl Reply {
    /// The body as `T` if the status is a success, else the API's error.
    fn json<T: DeserializeOwned>(self) -> Result<T, ClientError> {
        if !self.status.is_success() {
            return Err(self.error());
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            ClientError::Protocol(format!("the body does not match the documented shape: {e}"))
        })
    }

    fn error(self) -> ClientError {
        match serde_json::from_slice::<ErrorBody>(&self.body) {
            Ok(body) => ClientError::Api {
                status: self.status,
                code: body.code,
                message: body.message,
                retry_after: self.retry_after,
            },
            Err(_) => ClientError::Protocol(format!(
                "HTTP {} without an error body: {}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
            )),
        }
    }
}

/// Aborts the connection task when the request ends, however it ends
/// (a timeout drops the request future mid-way).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl ApiClient {
    /// A client of the API at `url` (`http://host:port`; the port defaults
    /// to 7380). Nothing is contacted until the first call.
    pub fn new(url: &str) -> Result<ApiClient, ClientError> {
        Ok(ApiClient {
            endpoint: Endpoint::parse(url)?,
            cookie: None,
            timeout: DEFAULT_TIMEOUT,
            backoff: Backoff::default(),
            pool: Arc::new(Pool::default()),
        })
    }

    /// Reads the auth token for the wallet routes from `path` (the node's
    /// `api.cookie_file`).
    pub fn with_cookie(mut self, path: impl Into<PathBuf>) -> ApiClient {
        self.cookie = Some(path.into());
        self
    }

    /// Bounds each request (connect, send, read the answer) by `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> ApiClient {
        self.timeout = timeout;
        self
    }

    /// How subscriptions wait between reconnection attempts.
    pub fn with_backoff(mut self, backoff: Backoff) -> ApiClient {
        self.backoff = backoff;
        self
    }

    /// `host:port` of the API.
    pub fn address(&self) -> &str {
        &self.endpoint.authority
    }

    /// The cookie file, if one was given.
    pub fn cookie_file(&self) -> Option<&Path> {
        self.cookie.as_deref()
    }

    /// `GET /health`: `Ok` while the node's process runs.
    pub async fn health(&self) -> Result<(), ClientError> {
        let reply = self.get("/health").await?;
        if reply.status.is_success() {
            Ok(())
        } else {
            Err(reply.error())
        }
    }

    /// `GET /ready`: whether the node is synced (not an error when it is
    /// not).
    pub async fn ready(&self) -> Result<Readiness, ClientError> {
        let reply = self.get("/ready").await?;
        if reply.status == StatusCode::SERVICE_UNAVAILABLE
            && let Ok(readiness) = serde_json::from_slice::<Readiness>(&reply.body)
        {
            return Ok(readiness);
        }
        reply.json()
    }

    /// `GET /metrics`: the Prometheus text.
    pub async fn metrics(&self) -> Result<String, ClientError> {
        let reply = self.get("/metrics").await?;
        if !reply.status.is_success() {
            return Err(reply.error());
        }
        String::from_utf8(reply.body)
            .map_err(|_| ClientError::Protocol("the metrics are not UTF-8".into()))
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> Result<Status, ClientError> {
        self.get("/v1/status").await?.json()
    }

    /// `GET /v1/blocks/{height}`.
    pub async fn block(&self, height: u64) -> Result<BlockReply, ClientError> {
        self.get(&format!("/v1/blocks/{height}")).await?.json()
    }

    /// `GET /v1/blocks/latest`.
    pub async fn latest_block(&self) -> Result<BlockReply, ClientError> {
        self.get("/v1/blocks/latest").await?.json()
    }

    /// `GET /v1/blocks/hash/{hash}`.
    pub async fn block_by_hash(&self, hash: &BlockHash) -> Result<BlockReply, ClientError> {
        self.get(&format!("/v1/blocks/hash/{hash}")).await?.json()
    }

    /// `GET /v1/txs/{hash}`.
    pub async fn transaction(&self, hash: &TxHash) -> Result<TxReply, ClientError> {
        self.get(&format!("/v1/txs/{hash}")).await?.json()
    }

    /// Polls `GET /v1/txs/{hash}` every [`WAIT_POLL_INTERVAL`] until the
    /// transaction is in a finalized block (applied or rejected: see its
    /// receipt), for at most `timeout`. A node that is briefly unreachable,
    /// busy or rate limiting is asked again; the last such error is
    /// returned if it lasts until the deadline. Fails with
    /// [`ClientError::StillPending`] when time runs out and
    /// [`ClientError::Dropped`] when the node no longer knows the
    /// transaction.
    pub async fn wait_included(
        &self,
        hash: &TxHash,
        timeout: Duration,
    ) -> Result<TxReply, ClientError> {
        let start = Instant::now();
        let deadline = start + timeout;
        loop {
            let last_error = match self.transaction(hash).await {
                Ok(reply) if reply.status != TxState::Pending => return Ok(reply),
                Ok(_) => None,
                Err(ClientError::Api { status, .. }) if status == StatusCode::NOT_FOUND => {
                    return Err(ClientError::Dropped(*hash));
                }
                Err(error) if error.is_transient() => Some(error),
                Err(error) => return Err(error),
            };
            let now = Instant::now();
            if now >= deadline {
                return Err(last_error.unwrap_or(ClientError::StillPending {
                    hash: *hash,
                    waited: now - start,
                }));
            }
            tokio::time::sleep(WAIT_POLL_INTERVAL.min(deadline - now)).await;
        }
    }

    /// `POST /v1/txs`: submits a transaction signed elsewhere.
    pub async fn submit_transaction(
        &self,
        tx: &SignedTransaction,
    ) -> Result<Submitted, ClientError> {
        let body = serde_json::json!({ "tx": hex::encode(tx.encode()) });
        // Idempotent: the node knows a transaction by its hash.
        self.post("/v1/txs", None, Resend::Idempotent, &body)
            .await?
            .json()
    }

    /// `POST /v1/txs/batch`: submits transactions signed
    /// elsewhere, as few requests as the route's limits allow (at most
    /// [`MAX_BATCH_TRANSACTIONS`] and [`DEFAULT_MAX_BATCH_BODY_BYTES`] per
    /// request), and returns one result per transaction, in order: its
    /// hash, or the error `POST /v1/txs` would have given it
    /// ([`ClientError::Api`]). The outer error is for a request that
    /// failed as a whole; the transactions of requests already answered
    /// are in the mempool then. Sending a batch again is safe: a
    /// transaction already taken is `already_known`.
    pub async fn submit_transactions(
        &self,
        txs: &[SignedTransaction],
    ) -> Result<Vec<Result<TxHash, ClientError>>, ClientError> {
        // `{"txs":[` … `]}` plus, per transaction, its hex in quotes and a
        // comma.
        const ENVELOPE: usize = 16;
        let mut results = Vec::with_capacity(txs.len());
        let mut batch: Vec<String> = Vec::new();
        let mut size = ENVELOPE;
        for tx in txs {
            let text = hex::encode(tx.encode());
            let item = text.len() + 3;
            if !batch.is_empty()
                && (batch.len() == MAX_BATCH_TRANSACTIONS
                    || size + item > DEFAULT_MAX_BATCH_BODY_BYTES)
            {
                results.extend(self.submit_batch(std::mem::take(&mut batch)).await?);
                size = ENVELOPE;
            }
            size += item;
            batch.push(text);
        }
        if !batch.is_empty() {
            results.extend(self.submit_batch(batch).await?);
        }
        Ok(results)
    }

    /// One `POST /v1/txs/batch` request.
    async fn submit_batch(
        &self,
        txs: Vec<String>,
    ) -> Result<Vec<Result<TxHash, ClientError>>, ClientError> {
        let count = txs.len();
        let body = serde_json::json!({ "txs": txs });
        // Idempotent: the node knows each transaction by its hash.
        let reply: BatchSubmitted = self
            .post(BATCH_SUBMIT_PATH, None, Resend::Idempotent, &body)
            .await?
            .json()?;
        if reply.results.len() != count {
            return Err(ClientError::Protocol(format!(
                "{} results for a batch of {count} transactions",
                reply.results.len()
            )));
        }
        reply
            .results
            .into_iter()
            .map(|item| match (item.status, item.hash, item.error) {
                (BatchItemStatus::Pending, Some(hash), None) => Ok(Ok(hash)),
                (BatchItemStatus::Refused, _, Some(error)) => Ok(Err(ClientError::Api {
                    status: StatusCode::from_u16(error.http_status).map_err(|_| {
                        ClientError::Protocol(format!(
                            "a batch result with HTTP status {}",
                            error.http_status
                        ))
                    })?,
                    code: error.code,
                    message: error.message,
                    retry_after: error.retry_after,
                })),
                (status, hash, error) => Err(ClientError::Protocol(format!(
                    "a batch result that is {status:?} with hash {hash:?} and error {error:?}"
                ))),
            })
            .collect()
    }

    /// `GET /v1/accounts/{address}` with the history page before `before`
    /// (newest first), at most `limit` (1 to 100) entries.
    pub async fn account(
        &self,
        address: &Address,
        before: Option<u64>,
        limit: usize,
    ) -> Result<AccountInfo, ClientError> {
        let mut path = format!("/v1/accounts/{address}?limit={limit}");
        if let Some(before) = before {
            path.push_str(&format!("&history_before={before}"));
        }
        self.get(&path).await?.json()
    }

    /// `GET /v1/validators`.
    pub async fn validators(&self) -> Result<Vec<ValidatorInfo>, ClientError> {
        Ok(self
            .get("/v1/validators")
            .await?
            .json::<ValidatorsBody>()?
            .validators)
    }

    /// `GET /v1/tables`.
    pub async fn tables(&self) -> Result<Vec<TableInfo>, ClientError> {
        Ok(self.get("/v1/tables").await?.json::<TablesBody>()?.tables)
    }

    /// `GET /v1/tables/{id}/rounds`: rounds before `before`, newest first.
    pub async fn table_rounds(
        &self,
        table: TableId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<RoundsPage, ClientError> {
        let mut path = format!("/v1/tables/{}/rounds?limit={limit}", table.0);
        if let Some(before) = before {
            path.push_str(&format!("&before={before}"));
        }
        self.get(&path).await?.json()
    }

    /// `GET /v1/tables/{id}/bets`: the bets still on a table, only
    /// `player`'s if given.
    pub async fn table_bets(
        &self,
        table: TableId,
        player: Option<&Address>,
    ) -> Result<Vec<OpenBet>, ClientError> {
        let mut path = format!("/v1/tables/{}/bets", table.0);
        if let Some(player) = player {
            path.push_str(&format!("?player={player}"));
        }
        Ok(self.get(&path).await?.json::<BetsBody>()?.bets)
    }

    /// `GET /v1/rounds/{table}/{round}`.
    pub async fn round(&self, table: TableId, round: u64) -> Result<RoundInfo, ClientError> {
        self.get(&format!("/v1/rounds/{}/{round}", table.0))
            .await?
            .json()
    }

    /// `GET /v1/leaderboard`: the top `limit` (1 to 100) for one game or
    /// overall (`None`).
    pub async fn leaderboard(
        &self,
        game: Option<Game>,
        limit: usize,
    ) -> Result<Vec<LeaderboardEntry>, ClientError> {
        let game = game.map_or("all", Game::as_str);
        Ok(self
            .get(&format!("/v1/leaderboard?game={game}&limit={limit}"))
            .await?
            .json::<LeaderboardBody>()?
            .entries)
    }

    /// `GET /v1/bankroll`.
    pub async fn bankroll(&self) -> Result<BankrollInfo, ClientError> {
        self.get("/v1/bankroll").await?.json()
    }

    /// Signs `action` with the node's wallet and submits it, through the
    /// wallet route that carries it ([`WALLET_ROUTES`](crate::api::WALLET_ROUTES)), paying `fee` (the
    /// node's default if `None`).
    pub async fn act(&self, action: &Action, fee: Option<u64>) -> Result<WalletReply, ClientError> {
        let route = wallet_route_of(action).ok_or_else(|| {
            ClientError::InvalidRequest(format!(
                "no wallet route carries {}; sign it yourself and use submit_transaction",
                action.name()
            ))
        })?;
        let body = wallet_request_body(action, fee);
        let token = self.token()?;
        self.post(route.path, Some(token), Resend::Never, &body)
            .await?
            .json()
    }

    /// Opens a WebSocket subscription to `topics`. It connects in the
    /// background (a task on the current tokio runtime, so call it inside
    /// one) and keeps reconnecting (with [`Backoff`]) until the
    /// [`Subscription`] is dropped; see [`SubscriptionUpdate`] for what it
    /// reports.
    pub fn subscribe(&self, topics: impl IntoIterator<Item = Topic>) -> Subscription {
        let (updates_tx, updates) = mpsc::channel(SUBSCRIPTION_BUFFER);
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let worker = SubscriptionWorker {
            url: format!("ws://{}/v1/ws", self.endpoint.authority),
            timeout: self.timeout,
            backoff: self.backoff,
            topics: topics.into_iter().collect(),
            updates: updates_tx,
            commands: commands_rx,
        };
        Subscription {
            updates,
            commands,
            task: tokio::spawn(worker.run()),
        }
    }

    async fn get(&self, path: &str) -> Result<Reply, ClientError> {
        self.send(Method::GET, path, None, None, Resend::Idempotent)
            .await
    }

    async fn post(
        &self,
        path: &str,
        token: Option<String>,
        resend: Resend,
        body: &serde_json::Value,
    ) -> Result<Reply, ClientError> {
        self.send(Method::POST, path, token, Some(body.to_string()), resend)
            .await
    }

    /// The current token from the cookie file.
    fn token(&self) -> Result<String, ClientError> {
        let path = self.cookie.as_ref().ok_or(ClientError::NoCookie)?;
        let text = std::fs::read_to_string(path).map_err(|source| ClientError::Cookie {
            path: path.clone(),
            source,
        })?;
        Ok(text.trim().to_owned())
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<String>,
        body: Option<String>,
        resend: Resend,
    ) -> Result<Reply, ClientError> {
        let build = || {
            let mut request = Request::builder()
                .method(method.clone())
                .uri(path)
                .header(header::HOST, &self.endpoint.authority);
            if body.is_some() {
                request = request.header(header::CONTENT_TYPE, "application/json");
            }
            if let Some(token) = &token {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            request
                .body(body.clone().unwrap_or_default())
                .map_err(|e| ClientError::InvalidRequest(format!("cannot build the request: {e}")))
        };
        tokio::time::timeout(self.timeout, self.exchange(build, resend))
            .await
            .map_err(|_| ClientError::Timeout(self.timeout))?
    }

    /// A new connection to the node.
    async fn connect(&self) -> Result<Connection, ClientError> {
        let stream = TcpStream::connect((self.endpoint.host.as_str(), self.endpoint.port))
            .await
            .map_err(|source| ClientError::Unreachable {
                addr: self.endpoint.to_string(),
                source,
            })?;
        // Requests are small and answered at once: do not let Nagle's
        // algorithm hold a request back waiting for the previous answer's
        // acknowledgement on a reused connection.
        let _ = stream.set_nodelay(true);
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let task = AbortOnDrop(tokio::spawn(async move {
            // Its error surfaces through `send_request` or the body.
            let _ = connection.await;
        }));
        Ok(Connection {
            sender,
            _task: task,
        })
    }

    /// One request, read whole, on a pooled connection or a new one (see
    /// the [module documentation](self) for when it is sent again).
    async fn exchange(
        &self,
        build: impl Fn() -> Result<Request<String>, ClientError>,
        resend: Resend,
    ) -> Result<Reply, ClientError> {
        let mut request = build()?;
        loop {
            let (mut connection, pooled) = match self.pool.take() {
                Some(connection) => (connection, true),
                None => (self.connect().await?, false),
            };
            if connection.sender.ready().await.is_err() {
                // Closed before anything was sent: always safe to go again.
                self.pool.clear();
                if pooled {
                    continue;
                }
                return Err(ClientError::Protocol(
                    "the node closed a new connection at once".into(),
                ));
            }
            let response = match connection.sender.try_send_request(request).await {
                Ok(response) => response,
                Err(mut error) if pooled => {
                    self.pool.clear();
                    match (error.take_message(), resend) {
                        // Never written: the node has not seen it.
                        (Some(unsent), _) => request = unsent,
                        (None, Resend::Idempotent) => request = build()?,
                        (None, Resend::Never) => return Err(error.into_error().into()),
                    }
                    continue;
                }
                Err(error) => return Err(error.into_error().into()),
            };
            let reply = read_reply(response).await?;
            self.pool.give_back(connection);
            return Ok(reply);
        }
    }
}

/// Reads a whole answer, at most [`MAX_RESPONSE_BYTES`] of body.
async fn read_reply(response: hyper::Response<Incoming>) -> Result<Reply, ClientError> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let mut incoming = response.into_body();
    let mut body = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut incoming).poll_frame(cx)).await
    {
        if let Ok(data) = frame?.into_data() {
            if body.len() + data.len() > MAX_RESPONSE_BYTES {
                return Err(ClientError::Protocol(format!(
                    "the answer is over {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&data);
        }
    }
    Ok(Reply {
        status,
        retry_after,
        body,
    })
}

/// What a [`Subscription`] reports, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum SubscriptionUpdate {
    /// Connected and subscribed; `topics` is the whole set the node
    /// confirmed. Events missed while disconnected are not replayed:
    /// re-read what matters over REST.
    Connected {
        /// The topics subscribed.
        topics: Vec<Topic>,
    },
    /// An event on a subscribed topic (boxed: events are large, the other
    /// updates small).
    Event(Box<ApiEvent>),
    /// The node refused a request (e.g. too many topics); the connection
    /// stays up.
    Refused {
        /// The error code.
        code: String,
        /// The node's message.
        message: String,
    },
    /// The connection failed or could not be made; the next attempt is in
    /// `retry_in`.
    Disconnected {
        /// Why.
        reason: String,
        /// Failed attempts in a row, from 1.
        attempt: u32,
        /// The wait before the next attempt.
        retry_in: Duration,
    },
}

enum Command {
    Subscribe(Vec<Topic>),
    Unsubscribe(Vec<Topic>),
}

/// A live WebSocket subscription ([`ApiClient::subscribe`]). Dropping it
/// closes the connection.
#[derive(Debug)]
pub struct Subscription {
    updates: mpsc::Receiver<SubscriptionUpdate>,
    commands: mpsc::UnboundedSender<Command>,
    task: JoinHandle<()>,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Subscribe(t) => write!(f, "Subscribe({t:?})"),
            Command::Unsubscribe(t) => write!(f, "Unsubscribe({t:?})"),
        }
    }
}

impl Subscription {
    /// The next update; `None` only if the background task ended (the
    /// runtime is shutting down).
    pub async fn next(&mut self) -> Option<SubscriptionUpdate> {
        self.updates.recv().await
    }

    /// Adds topics (kept across reconnections).
    pub fn subscribe(&self, topics: impl IntoIterator<Item = Topic>) {
        let _ = self
            .commands
            .send(Command::Subscribe(topics.into_iter().collect()));
    }

    /// Removes topics.
    pub fn unsubscribe(&self, topics: impl IntoIterator<Item = Topic>) {
        let _ = self
            .commands
            .send(Command::Unsubscribe(topics.into_iter().collect()));
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the node sends on the WebSocket.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMessage {
    Subscribed { topics: Vec<String> },
    Unsubscribed { topics: Vec<String> },
    Event { event: Box<ApiEvent> },
    Error { code: String, message: String },
}

/// Why one connection ended.
enum Ended {
    /// The subscription was dropped: stop.
    Stop,
    /// The connection failed; reconnect. `connected` says whether it got
    /// as far as the node confirming the subscription.
    Failed { reason: String, connected: bool },
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

struct SubscriptionWorker {
    url: String,
    timeout: Duration,
    backoff: Backoff,
    topics: BTreeSet<Topic>,
    updates: mpsc::Sender<SubscriptionUpdate>,
    commands: mpsc::UnboundedReceiver<Command>,
}

impl SubscriptionWorker {
    async fn run(mut self) {
        let mut failures = 0u32;
        loop {
            let reason = match self.connect().await {
                Ok(socket) => match self.serve(socket).await {
                    Ended::Stop => return,
                    Ended::Failed { reason, connected } => {
                        if connected {
                            failures = 0;
                        }
                        reason
                    }
                },
                Err(reason) => reason,
            };
            failures = failures.saturating_add(1);
            let retry_in = self.backoff.delay(failures);
            let update = SubscriptionUpdate::Disconnected {
                reason,
                attempt: failures,
                retry_in,
            };
            if self.updates.send(update).await.is_err() {
                return;
            }
            let wake = Instant::now() + retry_in;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(wake) => break,
                    command = self.commands.recv() => match command {
                        Some(command) => self.apply(command),
                        None => return,
                    },
                }
            }
        }
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::Subscribe(topics) => self.topics.extend(topics),
            Command::Unsubscribe(topics) => {
                for topic in topics {
                    self.topics.remove(&topic);
                }
            }
        }
    }

    async fn connect(&self) -> Result<Socket, String> {
        match tokio::time::timeout(self.timeout, tokio_tungstenite::connect_async(&self.url)).await
        {
            Ok(Ok((socket, _))) => Ok(socket),
            Ok(Err(e)) => Err(format!("cannot connect to {}: {e}", self.url)),
            Err(_) => Err(format!(
                "{} did not answer within {} ms",
                self.url,
                self.timeout.as_millis()
            )),
        }
    }

    async fn request(socket: &mut Socket, op: &str, topics: &[Topic]) -> Result<(), String> {
        let names: Vec<String> = topics.iter().map(Topic::to_string).collect();
        let text = serde_json::json!({ "op": op, "topics": names }).to_string();
        socket
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| format!("cannot send to the node: {e}"))
    }

    /// Subscribes and forwards events until the connection fails or the
    /// subscription is dropped.
    async fn serve(&mut self, mut socket: Socket) -> Ended {
        let failed = |reason: String, connected: bool| Ended::Failed { reason, connected };
        let topics: Vec<Topic> = self.topics.iter().copied().collect();
        // The node answers an empty subscribe too, which confirms the
        // connection the same way.
        if let Err(e) = Self::request(&mut socket, "subscribe", &topics).await {
            return failed(e, false);
        }
        let mut connected = false;
        let mut last_heard = Instant::now();
        let mut ping = tokio::time::interval(WS_PING_EVERY);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                command = self.commands.recv() => {
                    let Some(command) = command else {
                        let _ = socket.close(None).await;
                        return Ended::Stop;
                    };
                    let (op, topics) = match &command {
                        Command::Subscribe(t) => ("subscribe", t.clone()),
                        Command::Unsubscribe(t) => ("unsubscribe", t.clone()),
                    };
                    self.apply(command);
                    if let Err(e) = Self::request(&mut socket, op, &topics).await {
                        return failed(e, connected);
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > WS_SILENCE_LIMIT {
                        return failed(
                            format!("the node sent nothing for {} s", WS_SILENCE_LIMIT.as_secs()),
                            connected,
                        );
                    }
                    if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                        return failed("cannot ping the node".into(), connected);
                    }
                }
                incoming = socket.next() => {
                    last_heard = Instant::now();
                    let text = match incoming {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(frame))) => {
                            let reason = frame.map_or_else(
                                || "the node closed the connection".to_owned(),
                                |f| format!("the node closed the connection ({} {})", f.code, f.reason),
                            );
                            return failed(reason, connected);
                        }
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => return failed(format!("connection lost: {e}"), connected),
                        None => return failed("connection closed".into(), connected),
                    };
                    let update = match serde_json::from_str::<ServerMessage>(text.as_str()) {
                        Ok(ServerMessage::Subscribed { topics })
                        | Ok(ServerMessage::Unsubscribed { topics }) => {
                            let topics = topics.iter().filter_map(|t| t.parse().ok()).collect();
                            if connected {
                                continue;
                            }
                            connected = true;
                            SubscriptionUpdate::Connected { topics }
                        }
                        Ok(ServerMessage::Event { event }) => SubscriptionUpdate::Event(event),
                        Ok(ServerMessage::Error { code, message }) => {
                            SubscriptionUpdate::Refused { code, message }
                        }
                        Err(e) => {
                            return failed(format!("the node sent an unknown message: {e}"), connected);
                        }
                    };
                    if self.updates.send(update).await.is_err() {
                        return Ended::Stop;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
