//! # The local API (REST + WebSocket)
//!
//! [`ApiServer::bind`] serves the node's HTTP API (axum, HTTP/1.1, JSON) on
//! `127.0.0.1:7380` by default. It reads through the [`NodeView`] trait,
//! spends through [`NodeWallet`], and pushes the node's [`ApiEvent`]s to
//! WebSocket subscribers. The OpenAPI document of every route is served at
//! `/v1/openapi.json` and checked in as `node/openapi.json` (a test fails if
//! they differ; `BITCRAPS_UPDATE_OPENAPI=1 cargo test -p bitcraps-node api`
//! rewrites the file).
//!
//! ## Routes
//!
//! | route | what | auth |
//! |---|---|---|
//! | `GET /health` | 200 while the process runs | open |
//! | `GET /ready` | 200 when synced, else 503 with the sync progress | open |
//! | `GET /metrics` | Prometheus (OpenMetrics text), see [`crate::metrics`] | open |
//! | `GET /v1/openapi.json` | this API's OpenAPI 3.1 document | open |
//! | `GET /v1/status` | chain id, height, epoch, peers, the chain's `min_fee`, sync progress | open |
//! | `GET /v1/blocks/{height}` | a block (`latest` for the newest): hash, encoding (hex), its finality certificate (`proof`, hex or `null`), decoded | open |
//! | `GET /v1/blocks/hash/{hash}` | the same by block hash | open |
//! | `GET /v1/txs/{hash}` | a transaction, its status, block and receipt | open |
//! | `POST /v1/txs` | submit a signed transaction (raw, hex, or `{"tx": hex}`) | open (it carries its own signature) |
//! | `POST /v1/txs/batch` | submit up to 1,024 signed transactions (`{"txs": [hex, …]}`); one result per transaction, in order | open (each carries its own signature) |
//! | `GET /v1/accounts/{address}` | balance, nonce, pending nonce (after its transactions in this node's mempool), stake, shares, history (`?history_before=&limit=`) | open |
//! | `GET /v1/validators` | stake, uptime, missed views, slashing | open |
//! | `GET /v1/tables` | open tables: game, name, limits, players | open |
//! | `GET /v1/tables/{id}/rounds` | a table's rounds, newest first (`?before=&limit=`) | open |
//! | `GET /v1/tables/{id}/bets` | the bets still on a table: stake, odds, point, working switch and whether it works on the next roll (craps), riding or cashing out (crash) (`?player=`) | open |
//! | `GET /v1/rounds/{table}/{round}` | a round with its randomness and events (enough to verify it offline) | open |
//! | `GET /v1/leaderboard` | top players by net winnings (`?game=crash\|craps\|all&limit=`) | open |
//! | `GET /v1/bankroll` | the shared bankroll | open |
//! | `POST /v1/wallet/transfer` | send chips from the node's wallet | token |
//! | `POST /v1/wallet/crash/bet` | bet on the next crash round | token |
//! | `POST /v1/wallet/crash/cash-out` | cash out the running crash bet | token |
//! | `POST /v1/wallet/craps/bet` | place a craps bet | token |
//! | `POST /v1/wallet/stake` | bond validator stake | token |
//! | `GET /v1/ws` | WebSocket topic subscriptions (protocol in `ws.rs`) | open |
//!
//! Lists take `limit` from 1 to 100. Errors are always
//! `{"code": "...", "message": "..."}` ([`ErrorBody`]) with a message that
//! says what to do; unknown routes answer 404, wrong methods 405, unknown
//! query parameters and malformed JSON, hex or path values 400.
//!
//! ## Security layers, outermost first
//!
//! 1. **Metrics** — every answer, rejections included, is counted in
//!    `bitcraps_api_requests_total{route, method, status}`; `route` is the
//!    route template (or `unmatched`), so clients cannot create series.
//! 2. **Rate limit** — a token bucket per client IP (IPv6 per /64):
//!    `rate_limit_burst` requests at once, refilled at
//!    `rate_limit_per_second`; over it, 429 `rate_limited` with
//!    `Retry-After`. Other clients keep their own buckets. It comes first so
//!    floods of bad requests are throttled too. All local processes come
//!    from `127.0.0.1`, so requests carrying the auth token (the owner's
//!    CLI and TUI) take from a bucket of their own: a local flood without
//!    the token cannot starve the owner.
//! 3. **Host and Origin** (DNS rebinding, cross-site requests) — `Host`
//!    must be `localhost`, a loopback IP literal (`127.0.0.1`, `[::1]`), the
//!    bound IP, or a name in `allowed_hosts`, with the API's port or none
//!    (an `allowed_hosts` entry with a port matches exactly); an `Origin`,
//!    if sent, must be `http(s)://` one of those. Else 403
//!    `forbidden_host` / `forbidden_origin`. Applies to the WebSocket
//!    upgrade too.
//! 4. **Body size** — a `Content-Length` over `max_body_bytes` (64 KiB) is
//!    refused with 413 before reading; bodies without one are cut at the
//!    limit (also 413). A transaction is at most 52 KiB
//!    ([`consensus::tx::MAX_TX_BYTES`], which only a resharing dealer log
//!    approaches: send one that large as raw bytes, not hex); a longer one is 413
//!    `transaction_too_large`. The batch route has its own limit,
//!    `max_batch_body_bytes` (1 MiB), and takes at most
//!    [`MAX_BATCH_TRANSACTIONS`]; more is 413 `too_many_transactions`.
//!    For the rate limit a batch costs one token per transaction: the
//!    request takes one to be admitted and the rest are taken after it
//!    is parsed, as a debt the client's next requests wait out.
//! 5. **Auth** (wallet routes only) — `Authorization: Bearer <token>`,
//!    compared in constant time; else 401 `missing_token` /
//!    `invalid_token`. The token is 32 random bytes as 64 hex characters,
//!    new at every start, written to `cookie_file` with mode 0600 (as
//!    Bitcoin Core does; the file holds only the token, no `__cookie__:`
//!    user name since this is a bearer token) and removed at shutdown.
//!    Anyone who can read the file can spend from the node's wallet.
//!
//! Reads are open: the API binds to loopback by default, and binding it to
//! another address exposes the reads (not the wallet) to that network.
//!
//! ## WebSocket
//!
//! Subscribe to `blocks`, `crash:{table}`, `craps:{table}`,
//! `receipts:{address}`, `leaderboard` (at most `ws_max_subscriptions`
//! topics, `ws_max_clients` clients). Each client has a bounded queue of
//! `ws_queue` messages; a client that does not keep up is disconnected, the
//! node never waits for it.

mod actions;
mod error;
mod openapi;
mod routes;
mod security;
mod types;
mod ws;

#[cfg(test)]
mod tests;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use actions::{
    WALLET_ROUTES, WalletRoute, parse_request as parse_wallet_request,
    request_body as wallet_request_body, route_of as wallet_route_of,
};
pub use error::{ApiError, ErrorBody};
pub use openapi::document as openapi_document;
pub(crate) use routes::parse_transaction_body;
pub use types::{
    AccountInfo, ApiEvent, BankrollInfo, CrashBetState, EventBatch, EventSender, Game,
    HistoryEntry, LeaderboardEntry, NodeStatus, NodeView, NodeWallet, OpenBet, OpenBetState, Page,
    RoundInfo, RoundOutcome, RoundRandomness, RoundStatus, RoundSummary, SubmitError, SyncProgress,
    TableInfo, Topic, TxInclusion, TxRecord, ValidatorInfo, ViewError, WalletSubmission,
};
pub use types::{
    BatchItem, BatchItemError, BatchItemStatus, BatchSubmitted, DEFAULT_MAX_BATCH_BODY_BYTES,
    MAX_BATCH_TRANSACTIONS,
};

/// The batch submission route.
pub const BATCH_SUBMIT_PATH: &str = "/v1/txs/batch";

use crate::metrics::Metrics;
use security::{AllowedHosts, AuthToken, RateLimiter};

/// The API's default port.
pub const DEFAULT_API_PORT: u16 = 7380;

/// The API's settings (the `[api]` table of the node's configuration).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Where to listen; `127.0.0.1:7380` by default. Another address
    /// exposes the open reads to that network.
    pub listen: SocketAddr,
    /// Where to write the auth token (mode 0600) at start.
    pub cookie_file: PathBuf,
    /// Extra names the API answers to in `Host` and `Origin`: a bare name
    /// (`mynode.lan`, with the API's port or none) or an exact
    /// `name:port`.
    pub allowed_hosts: Vec<String>,
    /// The largest request body, bytes.
    pub max_body_bytes: usize,
    /// The largest body of `POST /v1/txs/batch`, bytes.
    pub max_batch_body_bytes: usize,
    /// Requests per second each client IP may sustain; 0 disables the
    /// limit.
    pub rate_limit_per_second: u32,
    /// Requests a client IP may make at once.
    pub rate_limit_burst: u32,
    /// How many client IPs the limiter tracks (new ones are refused with
    /// 429 while all are busy).
    pub rate_limit_max_clients: usize,
    /// The most WebSocket clients at once.
    pub ws_max_clients: usize,
    /// Messages queued for one WebSocket client before it counts as slow
    /// and is dropped.
    pub ws_queue: usize,
    /// The most topics one WebSocket client may subscribe to.
    pub ws_max_subscriptions: usize,
    /// How long shutdown waits for requests in flight, milliseconds.
    pub shutdown_grace_ms: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_API_PORT)),
            cookie_file: PathBuf::from("api.cookie"),
            allowed_hosts: Vec::new(),
            max_body_bytes: 64 * 1024,
            max_batch_body_bytes: DEFAULT_MAX_BATCH_BODY_BYTES,
            rate_limit_per_second: 50,
            rate_limit_burst: 100,
            rate_limit_max_clients: 4096,
            ws_max_clients: 64,
            ws_queue: 256,
            ws_max_subscriptions: 32,
            shutdown_grace_ms: 5_000,
        }
    }
}

/// What the handlers share.
pub(crate) struct AppState {
    view: Arc<dyn NodeView>,
    wallet: Option<Arc<dyn NodeWallet>>,
    events: EventSender,
    metrics: Arc<Metrics>,
    config: ApiConfig,
    hosts: AllowedHosts,
    token: AuthToken,
    limiter: RateLimiter,
    ws_clients: AtomicUsize,
    shutdown: watch::Receiver<bool>,
    openapi: String,
}

/// Why the API could not start.
#[derive(Debug, thiserror::Error)]
pub enum ApiStartError {
    /// The listen address could not be bound.
    #[error(
        "cannot listen on {addr}: {source}; choose another api.listen address or stop what uses it"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The auth cookie could not be written.
    #[error(
        "cannot write the API cookie file {path}: {source}; check api.cookie_file and its directory's permissions"
    )]
    Cookie {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// The local API server.
#[derive(Debug)]
pub struct ApiServer;

impl ApiServer {
    /// Binds `config.listen`, writes a new auth token to
    /// `config.cookie_file`, and serves until [`ApiHandle::shutdown`] (or
    /// the handle is dropped). Returns the bound address (useful with port
    /// 0) and the handle.
    ///
    /// `wallet` is `None` for a node without a key (the wallet routes then
    /// answer 503 `no_wallet`). `events` is the sender the node publishes
    /// each block's [`ApiEvent`]s on, as one [`EventBatch`]; each WebSocket
    /// client subscribes to it, so its capacity (in blocks) is how far a
    /// client may fall behind before it is dropped.
    pub async fn bind(
        config: ApiConfig,
        view: Arc<dyn NodeView>,
        wallet: Option<Arc<dyn NodeWallet>>,
        events: EventSender,
        metrics: Arc<Metrics>,
    ) -> Result<(SocketAddr, ApiHandle), ApiStartError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ApiStartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ApiStartError::Bind {
                addr: config.listen,
                source,
            })?;
        let cookie_error = |source| ApiStartError::Cookie {
            path: config.cookie_file.clone(),
            source,
        };
        let token = AuthToken::generate().map_err(cookie_error)?;
        token
            .write_cookie(&config.cookie_file)
            .map_err(cookie_error)?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let state = Arc::new(AppState {
            view,
            wallet,
            events,
            metrics,
            hosts: AllowedHosts::new(addr, &config.allowed_hosts),
            limiter: RateLimiter::new(
                config.rate_limit_per_second,
                config.rate_limit_burst,
                config.rate_limit_max_clients,
            ),
            token,
            ws_clients: AtomicUsize::new(0),
            shutdown: shutdown_rx.clone(),
            openapi: openapi::document_text(),
            config,
        });
        let cookie_file = state.config.cookie_file.clone();
        let grace = Duration::from_millis(state.config.shutdown_grace_ms);
        let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
        let mut stop = shutdown_rx;
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                })
                .await
        });
        tracing::info!(%addr, cookie = %cookie_file.display(), "local API listening");
        Ok((
            addr,
            ApiHandle {
                shutdown: shutdown_tx,
                task: Some(task),
                cookie_file,
                grace,
            },
        ))
    }
}

/// Builds the router with its layers (order in the
/// [module documentation](self); the last `.layer` is the outermost).
fn router(state: Arc<AppState>) -> Router {
    let wallet = WALLET_ROUTES
        .iter()
        .fold(Router::new(), |router, route| {
            router.route(
                route.path,
                post(move |state, body| actions::submit(route, state, body)),
            )
        })
        .route_layer(from_fn_with_state(state.clone(), security::require_token));
    Router::new()
        .route("/health", get(routes::health))
        .route("/ready", get(routes::ready))
        .route("/metrics", get(routes::metrics))
        .route("/v1/openapi.json", get(routes::openapi))
        .route("/v1/status", get(routes::status))
        .route("/v1/blocks/{height}", get(routes::block_by_height))
        .route("/v1/blocks/hash/{hash}", get(routes::block_by_hash))
        .route("/v1/txs", post(routes::submit_transaction))
        .route(
            BATCH_SUBMIT_PATH,
            post(routes::submit_batch)
                .layer(DefaultBodyLimit::max(state.config.max_batch_body_bytes)),
        )
        .route("/v1/txs/{hash}", get(routes::transaction))
        .route("/v1/accounts/{address}", get(routes::account))
        .route("/v1/validators", get(routes::validators))
        .route("/v1/tables", get(routes::tables))
        .route("/v1/tables/{id}/rounds", get(routes::table_rounds))
        .route("/v1/tables/{id}/bets", get(routes::table_bets))
        .route("/v1/rounds/{table}/{round}", get(routes::round))
        .route("/v1/leaderboard", get(routes::leaderboard))
        .route("/v1/bankroll", get(routes::bankroll))
        .route("/v1/ws", get(ws::upgrade))
        .merge(wallet)
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(from_fn_with_state(
            state.clone(),
            security::check_content_length,
        ))
        .layer(from_fn_with_state(
            state.clone(),
            security::check_host_origin,
        ))
        .layer(from_fn_with_state(state.clone(), security::rate_limit))
        .layer(from_fn_with_state(state.clone(), security::record_metrics))
        .with_state(state)
}

/// A running API. [`ApiHandle::shutdown`] stops it gracefully; dropping it
/// asks it to stop without waiting.
#[derive(Debug)]
pub struct ApiHandle {
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<io::Result<()>>>,
    cookie_file: PathBuf,
    grace: Duration,
}

impl ApiHandle {
    /// The cookie file holding the auth token.
    pub fn cookie_file(&self) -> &Path {
        &self.cookie_file
    }

    /// Stops accepting connections, closes WebSocket clients (close code
    /// 1001), waits up to `shutdown_grace_ms` for requests in flight, and
    /// removes the cookie file.
    pub async fn shutdown(mut self) -> io::Result<()> {
        let _ = self.shutdown.send(true);
        let result = match self.task.take() {
            Some(mut task) => match tokio::time::timeout(self.grace, &mut task).await {
                Ok(Ok(result)) => result,
                Ok(Err(join)) => Err(io::Error::other(join.to_string())),
                Err(_) => {
                    task.abort();
                    Ok(())
                }
            },
            None => Ok(()),
        };
        remove_cookie(&self.cookie_file);
        result
    }
}

fn remove_cookie(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove the API cookie")
        }
    }
}

impl Drop for ApiHandle {
    fn drop(&mut self) {
        if self.task.is_some() {
            let _ = self.shutdown.send(true);
            remove_cookie(&self.cookie_file);
        }
    }
}
