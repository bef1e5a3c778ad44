//! The route handlers and the JSON shapes only they use.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consensus::block::Block;
use consensus::encoding::DecodeError;
use consensus::hash::{BlockHash, TxHash};
use consensus::receipt::{Receipt, TxStatus};
use consensus::tx::{SignedTransaction, TableId, TxError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wallet::Address;

use super::AppState;
use super::error::ApiError;
use super::types::{
    AccountInfo, BatchItem, BatchItemError, BatchItemStatus, BatchSubmitted, Game,
    LeaderboardEntry, MAX_BATCH_TRANSACTIONS, NodeStatus, NodeView, OpenBet, Page, RoundSummary,
    SyncProgress, TableInfo, ValidatorInfo, ViewError,
};
use crate::metrics::OPENMETRICS_CONTENT_TYPE;

/// Pagination: the default and the largest `limit`.
pub(crate) const DEFAULT_LIMIT: usize = 20;
/// The largest `limit` any list accepts.
pub(crate) const MAX_LIMIT: usize = 100;

/// Runs a read on the blocking pool (the view may block on storage).
async fn read<T, E>(
    state: &Arc<AppState>,
    f: impl FnOnce(&dyn NodeView) -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    let view = state.view.clone();
    match tokio::task::spawn_blocking(move || f(&*view)).await {
        Ok(result) => result.map_err(Into::into),
        Err(error) => Err(ApiError::internal(format!(
            "the node failed while answering ({error}); see its logs"
        ))),
    }
}

/// Maps a path extractor failure.
fn path<T>(extracted: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    extracted
        .map(|Path(value)| value)
        .map_err(|e| ApiError::bad_request(format!("{}; see /v1/openapi.json", e.body_text())))
}

/// Maps a query extractor failure (unknown parameters are refused).
fn query<T>(extracted: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    extracted.map(|Query(value)| value).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("{}; see /v1/openapi.json", e.body_text()),
        )
    })
}

/// Maps a body that could not be read (over the limit, or cut off).
pub(crate) fn body(
    extracted: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Bytes, ApiError> {
    extracted.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(limit)
        } else {
            ApiError::bad_request(format!("the body could not be read: {}", e.body_text()))
        }
    })
}

/// Parses a JSON body into `T` (unknown fields refused where `T` says so).
fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(ApiError::malformed_json)
}

/// A `limit` parameter checked against `1..=MAX_LIMIT`.
fn limit(limit: Option<usize>, default: usize) -> Result<usize, ApiError> {
    match limit.unwrap_or(default) {
        n @ 1..=MAX_LIMIT => Ok(n),
        n => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("limit {n} is out of range; use 1 to {MAX_LIMIT}"),
        )),
    }
}

/// `GET /health`: the process is up.
pub(crate) async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /ready` body.
#[derive(Debug, Serialize)]
pub(crate) struct ReadyBody {
    /// Set when not ready (the error shape).
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    /// Set when not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    ready: bool,
    height: Option<u64>,
    sync: Option<SyncProgress>,
}

/// `GET /ready`: 200 when synced, else 503 with the progress.
pub(crate) async fn ready(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let status = read(&state, |v| v.status()).await?;
    if !status.syncing {
        let body = ReadyBody {
            code: None,
            message: None,
            ready: true,
            height: status.height,
            sync: None,
        };
        return Ok(Json(body).into_response());
    }
    let message = match &status.sync {
        Some(p) => format!(
            "syncing: height {} of {}{}; retry later",
            p.height,
            p.target,
            p.eta_seconds
                .map(|s| format!(", about {s} s left"))
                .unwrap_or_default()
        ),
        None => "syncing; retry later".to_owned(),
    };
    let body = ReadyBody {
        code: Some("not_ready"),
        message: Some(message),
        ready: false,
        height: status.height,
        sync: status.sync,
    };
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(5u64));
    Ok(response)
}

/// `GET /metrics`: OpenMetrics text.
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)],
        state.metrics.encode(),
    )
        .into_response()
}

/// `GET /v1/openapi.json`.
pub(crate) async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.clone(),
    )
        .into_response()
}

/// `GET /v1/status` body.
#[derive(Debug, Serialize)]
pub(crate) struct StatusBody {
    version: &'static str,
    #[serde(flatten)]
    status: NodeStatus,
    /// The node wallet's address, if one is loaded.
    wallet: Option<Address>,
}

/// `GET /v1/status`.
pub(crate) async fn status(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let status = read(&state, |v| v.status()).await?;
    Ok(Json(StatusBody {
        version: env!("CARGO_PKG_VERSION"),
        status,
        wallet: state.wallet.as_ref().map(|w| w.address()),
    })
    .into_response())
}

/// A block as served: hash, height, size, canonical encoding (hex), its
/// finality certificate (hex, `null` if this node has none of its own) and
/// the decoded block.
#[derive(Debug, Serialize)]
pub(crate) struct BlockBody {
    hash: BlockHash,
    height: u64,
    size_bytes: usize,
    encoded: String,
    proof: Option<String>,
    block: Block,
}

impl BlockBody {
    fn new(block: Block, proof: Option<Vec<u8>>) -> BlockBody {
        let encoded = block.encode();
        BlockBody {
            hash: block.header.hash(),
            height: block.header.height,
            size_bytes: encoded.len(),
            encoded: hex::encode(encoded),
            proof: proof.map(hex::encode),
            block,
        }
    }
}

/// A stored block with its finality certificate, read together.
fn block_with_proof(
    view: &dyn NodeView,
    block: Option<Block>,
) -> Result<Option<BlockBody>, ViewError> {
    let Some(block) = block else {
        return Ok(None);
    };
    let proof = view.finality_proof(block.header.height)?;
    Ok(Some(BlockBody::new(block, proof)))
}

/// `GET /v1/blocks/{height}` (`latest` for the newest).
pub(crate) async fn block_by_height(
    State(state): State<Arc<AppState>>,
    height: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let text = path(height)?;
    let height = if text == "latest" {
        let status = read(&state, |v| v.status()).await?;
        status
            .height
            .ok_or_else(|| ApiError::not_found("no block has been applied yet; retry later"))?
    } else {
        text.parse::<u64>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_height",
                format!("{text:?} is not a block height; use a number or latest"),
            )
        })?
    };
    let block = read(&state, move |v| {
        let block = v.block_by_height(height)?;
        block_with_proof(v, block)
    })
    .await?;
    match block {
        Some(body) => Ok(Json(body).into_response()),
        None => Err(ApiError::not_found(format!(
            "no block at height {height} on this node; see /v1/status for the latest height"
        ))),
    }
}

/// Parses a 64-hex-character hash path segment.
fn parse_hash(text: &str, what: &str) -> Result<BlockHash, ApiError> {
    text.parse::<BlockHash>().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_hash",
            format!("{text:?} is not a {what} hash ({e}); use 64 hex characters"),
        )
    })
}

/// `GET /v1/blocks/hash/{hash}`.
pub(crate) async fn block_by_hash(
    State(state): State<Arc<AppState>>,
    hash: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let hash = parse_hash(&path(hash)?, "block")?;
    let block = read(&state, move |v| {
        let block = v.block_by_hash(&hash)?;
        block_with_proof(v, block)
    })
    .await?;
    match block {
        Some(body) => Ok(Json(body).into_response()),
        None => Err(ApiError::not_found(format!(
            "no block {hash} on this node; check the hash, or wait if the node is syncing"
        ))),
    }
}

/// A transaction as served.
#[derive(Debug, Serialize)]
pub(crate) struct TxBody {
    hash: TxHash,
    /// `pending`, `applied` or `rejected`.
    status: &'static str,
    sender: Address,
    tx: SignedTransaction,
    block_height: Option<u64>,
    block_hash: Option<BlockHash>,
    index: Option<u32>,
    receipt: Option<Receipt>,
}

/// `GET /v1/txs/{hash}`.
pub(crate) async fn transaction(
    State(state): State<Arc<AppState>>,
    hash: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let hash: TxHash = parse_hash(&path(hash)?, "transaction")?;
    let Some(record) = read(&state, move |v| v.transaction(&hash)).await? else {
        return Err(ApiError::not_found(format!(
            "transaction {hash} is neither pending nor included on this node"
        )));
    };
    let inclusion = record.inclusion;
    let status = match &inclusion {
        None => "pending",
        Some(i) if matches!(i.receipt.status, TxStatus::Applied) => "applied",
        Some(_) => "rejected",
    };
    Ok(Json(TxBody {
        hash,
        status,
        sender: record.tx.sender_address(),
        tx: record.tx,
        block_height: inclusion.as_ref().map(|i| i.height),
        block_hash: inclusion.as_ref().map(|i| i.block_hash),
        index: inclusion.as_ref().map(|i| i.index),
        receipt: inclusion.map(|i| i.receipt),
    })
    .into_response())
}

/// `?history_before=&limit=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    history_before: Option<u64>,
    limit: Option<usize>,
}

/// `GET /v1/accounts/{address}`.
pub(crate) async fn account(
    State(state): State<Arc<AppState>>,
    address: Result<Path<String>, PathRejection>,
    params: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<AccountInfo>, ApiError> {
    let address = parse_address(&path(address)?)?;
    let params = query(params)?;
    let page = Page {
        before: params.history_before,
        limit: limit(params.limit, DEFAULT_LIMIT)?,
    };
    read(&state, move |v| v.account(&address, page))
        .await
        .map(Json)
}

/// Parses an address in a path or query.
fn parse_address(text: &str) -> Result<Address, ApiError> {
    text.parse().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_address",
            format!("{text:?} is not an address ({e}); use the craps1… form"),
        )
    })
}

/// `GET /v1/validators` body.
#[derive(Debug, Serialize)]
pub(crate) struct ValidatorsBody {
    validators: Vec<ValidatorInfo>,
}

/// `GET /v1/validators`.
pub(crate) async fn validators(
    State(state): State<Arc<AppState>>,
) -> Result<Json<ValidatorsBody>, ApiError> {
    let validators = read(&state, |v| v.validators()).await?;
    Ok(Json(ValidatorsBody { validators }))
}

/// `GET /v1/tables` body.
#[derive(Debug, Serialize)]
pub(crate) struct TablesBody {
    tables: Vec<TableInfo>,
}

/// `GET /v1/tables`.
pub(crate) async fn tables(
    State(state): State<Arc<AppState>>,
) -> Result<Json<TablesBody>, ApiError> {
    let tables = read(&state, |v| v.tables()).await?;
    Ok(Json(TablesBody { tables }))
}

/// Parses a table id path segment.
fn parse_u64(text: &str, what: &'static str, code: &'static str) -> Result<u64, ApiError> {
    text.parse::<u64>().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            code,
            format!("{text:?} is not a {what}; use a number"),
        )
    })
}

/// The answer for an unknown table id.
fn no_table(table: TableId) -> ApiError {
    ApiError::not_found(format!(
        "there is no table {}; see /v1/tables for the open ones",
        table.0
    ))
}

/// `?before=&limit=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoundsQuery {
    before: Option<u64>,
    limit: Option<usize>,
}

/// `GET /v1/tables/{id}/rounds` body.
#[derive(Debug, Serialize)]
pub(crate) struct RoundsBody {
    table: TableId,
    rounds: Vec<RoundSummary>,
    /// The cursor for the next (older) page, if there may be one.
    next_before: Option<u64>,
}

/// `GET /v1/tables/{id}/rounds`.
pub(crate) async fn table_rounds(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<RoundsQuery>, QueryRejection>,
) -> Result<Json<RoundsBody>, ApiError> {
    let table = TableId(parse_u64(&path(id)?, "table id", "bad_table")?);
    let params = query(params)?;
    let page = Page {
        before: params.before,
        limit: limit(params.limit, DEFAULT_LIMIT)?,
    };
    let rounds = read(&state, move |v| v.table_rounds(table, page))
        .await?
        .ok_or_else(|| no_table(table))?;
    let next_before = if rounds.len() == page.limit {
        rounds.last().map(|r| r.round)
    } else {
        None
    };
    Ok(Json(RoundsBody {
        table,
        rounds,
        next_before,
    }))
}

/// `?player=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BetsQuery {
    player: Option<String>,
}

/// `GET /v1/tables/{id}/bets` body.
#[derive(Debug, Serialize)]
pub(crate) struct BetsBody {
    table: TableId,
    bets: Vec<OpenBet>,
}

/// `GET /v1/tables/{id}/bets`.
pub(crate) async fn table_bets(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<BetsQuery>, QueryRejection>,
) -> Result<Json<BetsBody>, ApiError> {
    let table = TableId(parse_u64(&path(id)?, "table id", "bad_table")?);
    let player = query(params)?
        .player
        .map(|text| parse_address(&text))
        .transpose()?;
    let bets = read(&state, move |v| v.table_bets(table, player.as_ref()))
        .await?
        .ok_or_else(|| no_table(table))?;
    Ok(Json(BetsBody { table, bets }))
}

/// `GET /v1/rounds/{table}/{round}`.
pub(crate) async fn round(
    State(state): State<Arc<AppState>>,
    ids: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let (table, round) = path(ids)?;
    let table = TableId(parse_u64(&table, "table id", "bad_table")?);
    let round = parse_u64(&round, "round number", "bad_round")?;
    match read(&state, move |v| v.round(table, round)).await? {
        Some(info) => Ok(Json(info).into_response()),
        None => Err(ApiError::not_found(format!(
            "table {} has no round {round}; see /v1/tables/{}/rounds",
            table.0, table.0
        ))),
    }
}

/// `?game=&limit=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeaderboardQuery {
    game: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/leaderboard` body.
#[derive(Debug, Serialize)]
pub(crate) struct LeaderboardBody {
    /// `crash`, `craps` or `all`.
    game: &'static str,
    entries: Vec<LeaderboardEntry>,
}

/// `GET /v1/leaderboard`.
pub(crate) async fn leaderboard(
    State(state): State<Arc<AppState>>,
    params: Result<Query<LeaderboardQuery>, QueryRejection>,
) -> Result<Json<LeaderboardBody>, ApiError> {
    let params = query(params)?;
    let game = match params.game.as_deref() {
        None | Some("all") => None,
        Some(text) => Some(text.parse::<Game>().map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_query", format!("{e} or all"))
        })?),
    };
    let limit = limit(params.limit, 10)?;
    let entries = read(&state, move |v| v.leaderboard(game, limit)).await?;
    Ok(Json(LeaderboardBody {
        game: game.map_or("all", Game::as_str),
        entries,
    }))
}

/// `GET /v1/bankroll`.
pub(crate) async fn bankroll(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let info = read(&state, |v| v.bankroll()).await?;
    Ok(Json(info).into_response())
}

/// `POST /v1/txs` with a JSON body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TxJson {
    tx: String,
}

/// `POST /v1/txs` answer.
#[derive(Debug, Serialize)]
pub(crate) struct SubmittedBody {
    hash: TxHash,
    status: &'static str,
}

/// Decodes hex text, ignoring surrounding whitespace and a `0x` prefix.
fn decode_hex(text: &str) -> Result<Vec<u8>, ApiError> {
    let text = text.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    hex::decode(text).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_hex",
            format!("the transaction is not valid hex ({e}); send the borsh encoding as hex, or raw with Content-Type: application/octet-stream"),
        )
    })
}

/// Reads a `POST /v1/txs` body as the route does, without a node: raw
/// bytes with `Content-Type: application/octet-stream`, `{"tx": "<hex>"}`
/// with `application/json`, hex text otherwise; then the bounded,
/// canonical decoder. Errors are the route's 400s and 413s. Public for the
/// fuzz targets ([`crate::fuzz::api_transaction_body`]).
pub(crate) fn parse_transaction_body(
    content_type: &str,
    bytes: &[u8],
) -> Result<SignedTransaction, ApiError> {
    let content_type = content_type.to_ascii_lowercase();
    let raw = if content_type.starts_with("application/octet-stream") {
        bytes.to_vec()
    } else if content_type.starts_with("application/json") {
        decode_hex(&json::<TxJson>(bytes)?.tx)?
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_hex",
                "the body is not text; send hex, or raw bytes with Content-Type: application/octet-stream",
            )
        })?;
        decode_hex(text)?
    };
    decode_transaction(&raw)
}

/// The bounded, canonical decoder, with the submit routes' errors.
fn decode_transaction(raw: &[u8]) -> Result<SignedTransaction, ApiError> {
    SignedTransaction::decode(raw).map_err(|e| match e {
        DecodeError::TooLarge { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "transaction_too_large",
            format!(
                "{e}; a signed transaction is at most {} bytes",
                consensus::tx::MAX_TX_BYTES
            ),
        ),
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_transaction",
            format!("{e}; send the canonical borsh encoding of one signed transaction"),
        ),
    })
}

/// `POST /v1/txs`: submit a signed transaction (raw bytes with
/// `Content-Type: application/octet-stream`, `{"tx": "<hex>"}` with
/// `application/json`, hex text otherwise).
pub(crate) async fn submit_transaction(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes = body(bytes, state.config.max_body_bytes)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let tx = parse_transaction_body(content_type, &bytes)?;
    let hash = read(&state, move |v| check_and_submit(v, tx)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SubmittedBody {
            hash,
            status: "pending",
        }),
    )
        .into_response())
}

/// Checks a transaction's stateless rules (its signature through the
/// process's signature cache, so the node's own checks after this one do
/// not verify it again).
fn check(view: &dyn NodeView, tx: &SignedTransaction) -> Result<(), ApiError> {
    tx.check(&view.chain_id()).map_err(invalid_transaction)
}

/// The answer to a transaction that breaks a stateless rule.
fn invalid_transaction(error: TxError) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_transaction",
        format!("{error}; fix the transaction and sign it again"),
    )
}

/// Checks a transaction ([`check`]) and submits it.
fn check_and_submit(view: &dyn NodeView, tx: SignedTransaction) -> Result<TxHash, ApiError> {
    check(view, &tx)?;
    view.submit_transaction(tx).map_err(ApiError::from)
}

/// `POST /v1/txs/batch` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchJson {
    txs: Vec<String>,
}

/// `POST /v1/txs/batch`: submits up to
/// [`MAX_BATCH_TRANSACTIONS`] signed transactions (`{"txs": ["<hex>", …]}`),
/// each exactly as `POST /v1/txs` would, in order, and answers 200 with
/// one result per transaction. The body is bounded by
/// `max_batch_body_bytes` before it is parsed; the count is checked before
/// any transaction is decoded. Each transaction costs one rate-limit token
/// (the request's own plus the rest here).
pub(crate) async fn submit_batch(
    State(state): State<Arc<AppState>>,
    request: Request,
) -> Result<Response, ApiError> {
    let ip = super::security::client_ip(&request);
    let owner =
        super::security::presented_token(request.headers()).is_some_and(|t| state.token.matches(t));
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.starts_with("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the batch as JSON, {\"txs\": [\"<hex>\", ...]}, with Content-Type: application/json",
        ));
    }
    let limit = state.config.max_batch_body_bytes;
    let bytes = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| ApiError::too_large(limit))?;
    let batch: BatchJson = json(&bytes)?;
    let count = batch.txs.len();
    if count == 0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "empty_batch",
            "the batch has no transactions; send 1 to 1024",
        ));
    }
    if count > MAX_BATCH_TRANSACTIONS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_transactions",
            format!(
                "the batch has {count} transactions; send at most {MAX_BATCH_TRANSACTIONS} per request"
            ),
        ));
    }
    // Bounded by MAX_BATCH_TRANSACTIONS, far below u32::MAX.
    state
        .limiter
        .charge(ip, owner, Instant::now(), count as u32 - 1);
    let results = read(&state, move |v| {
        Ok::<_, ApiError>(batch_items(v, &batch.txs))
    })
    .await?;
    let accepted = results
        .iter()
        .filter(|r| r.status == BatchItemStatus::Pending)
        .count();
    Ok((StatusCode::OK, Json(BatchSubmitted { accepted, results })).into_response())
}

/// The transactions of a batch, each as `POST /v1/txs` would take it:
/// decoded, then checked together (their signatures as one batch, with the
/// verdicts of checking each alone), then those that passed submitted
/// together ([`NodeView::submit_transactions`]: one journal sync for the
/// batch). One item per text, in order.
fn batch_items(view: &dyn NodeView, texts: &[String]) -> Vec<BatchItem> {
    let mut items: Vec<Option<BatchItem>> = Vec::with_capacity(texts.len());
    let mut decoded = Vec::new();
    let mut decoded_slots = Vec::new();
    for text in texts {
        match decode_hex(text).and_then(|raw| decode_transaction(&raw)) {
            Ok(tx) => {
                decoded_slots.push(items.len());
                items.push(None);
                decoded.push(tx);
            }
            Err(error) => items.push(Some(refused(None, error))),
        }
    }
    let verdicts = SignedTransaction::check_all(&decoded, &view.chain_id());
    let mut checked = Vec::new();
    let mut slots = Vec::new();
    for ((slot, tx), verdict) in decoded_slots.into_iter().zip(decoded).zip(verdicts) {
        let hash = tx.hash();
        match verdict {
            Ok(()) => {
                slots.push((slot, hash));
                checked.push(tx);
            }
            Err(error) => items[slot] = Some(refused(Some(hash), invalid_transaction(error))),
        }
    }
    let mut results = view.submit_transactions(checked).into_iter();
    for (slot, hash) in slots {
        items[slot] = Some(match results.next() {
            Some(Ok(hash)) => BatchItem {
                hash: Some(hash),
                status: BatchItemStatus::Pending,
                error: None,
            },
            Some(Err(error)) => refused(Some(hash), error.into()),
            None => refused(
                Some(hash),
                ApiError::internal("the node gave no result for this transaction; see its logs"),
            ),
        });
    }
    items.into_iter().flatten().collect()
}

fn refused(hash: Option<TxHash>, error: ApiError) -> BatchItem {
    BatchItem {
        hash,
        status: BatchItemStatus::Refused,
        error: Some(BatchItemError {
            http_status: error.status.as_u16(),
            code: error.code.to_owned(),
            message: error.message,
            retry_after: error.retry_after,
        }),
    }
}

/// Unknown route: 404.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such route; see /v1/openapi.json for the routes")
}

/// Known route, wrong method: 405.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method; see /v1/openapi.json",
    )
}
