//! API tests over a real socket: a server on `127.0.0.1:0` in front of a
//! fake node, driven by a plain HTTP/1 client (hyper) and a WebSocket client
//! (tokio-tungstenite). Every rejected request is checked to have changed
//! nothing in the fake node or wallet.

mod abuse;
mod fake;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use consensus::tx::{Action, Transaction};
use futures_util::{SinkExt, StreamExt};
use game_rules::Chips;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::*;
use crate::metrics::{Metrics, WsDropReason};
use fake::{FakeNode, FakeWallet, keypair, signed_tx};

/// A running API over a fake node.
struct Server {
    addr: SocketAddr,
    handle: Option<ApiHandle>,
    node: Arc<FakeNode>,
    wallet: Arc<FakeWallet>,
    events: EventSender,
    metrics: Arc<Metrics>,
    token: String,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        Server::with(|_| {}).await
    }

    async fn with(configure: impl FnOnce(&mut ApiConfig)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ApiConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            cookie_file: dir.path().join("api.cookie"),
            ..ApiConfig::default()
        };
        configure(&mut config);
        let node = Arc::new(FakeNode::new());
        let wallet = Arc::new(FakeWallet::default());
        let (events, _) = broadcast::channel(1024);
        let metrics = Arc::new(Metrics::new());
        let (addr, handle) = ApiServer::bind(
            config.clone(),
            node.clone(),
            Some(wallet.clone()),
            events.clone(),
            metrics.clone(),
        )
        .await
        .unwrap();
        let token = std::fs::read_to_string(&config.cookie_file).unwrap();
        Server {
            addr,
            handle: Some(handle),
            node,
            wallet,
            events,
            metrics,
            token,
            _dir: dir,
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }

    /// A request builder with the right Host.
    fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.host())
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path).body(Body::empty()).unwrap())
            .await
    }

    async fn post(&self, path: &str, content_type: &str, body: impl Into<Body>) -> Reply {
        self.send(
            self.request(Method::POST, path)
                .header(header::CONTENT_TYPE, content_type)
                .body(body.into())
                .unwrap(),
        )
        .await
    }

    async fn wallet_post(&self, path: &str, body: Value) -> Reply {
        self.send(
            self.request(Method::POST, path)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        send_from(self.addr, Ipv4Addr::LOCALHOST.into(), request).await
    }

    /// How many transactions and wallet actions the node took.
    fn changes(&self) -> (usize, usize) {
        (self.node.submitted().len(), self.wallet.actions().len())
    }
}

/// A response, read whole.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {:?} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the status and the structured error body; returns the code.
    fn error(&self, status: StatusCode) -> String {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        let object = body.as_object().unwrap();
        let message = object["message"].as_str().unwrap();
        assert!(message.len() > 10, "{message}");
        object["code"].as_str().unwrap().to_owned()
    }

    fn expect(&self, status: StatusCode) -> Value {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }
}

/// Sends one request on a new connection from `source` (any 127/8 address
/// is this machine, which lets a test be several clients).
async fn send_from(addr: SocketAddr, source: IpAddr, request: Request<Body>) -> Reply {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let response = sender.send_request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(Body::new(body), usize::MAX)
        .await
        .unwrap();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// Writes `request` on a raw connection and reads the answer.
async fn raw(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before reading everything.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

// ---------------------------------------------------------------- reads

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_status_and_metrics() {
    let server = Server::start().await;
    assert_eq!(
        server.get("/health").await.expect(StatusCode::OK),
        json!({"status": "ok"})
    );
    let ready = server.get("/ready").await.expect(StatusCode::OK);
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["height"], 2);

    let status = server.get("/v1/status").await.expect(StatusCode::OK);
    assert_eq!(status["chain_id"], fake::chain_id().to_string());
    assert_eq!(status["height"], 2);
    assert_eq!(status["epoch"], 1);
    assert_eq!(status["peers"], 3);
    assert_eq!(status["min_fee"], 2, "the chain's minimum fee: {status}");
    assert_eq!(status["syncing"], false);
    assert_eq!(status["wallet"], server.wallet.address().to_string());
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));

    server.metrics.set_height(2);
    let metrics = server.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = String::from_utf8(metrics.body.to_vec()).unwrap();
    assert!(text.contains("bitcraps_height 2"), "{text}");
    assert!(
        text.contains(
            "bitcraps_api_requests_total{route=\"/v1/status\",method=\"GET\",status=\"200\"} 1"
        ),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_is_503_with_progress_while_syncing() {
    let server = Server::start().await;
    server.node.set_syncing(true);
    let reply = server.get("/ready").await;
    assert_eq!(reply.error(StatusCode::SERVICE_UNAVAILABLE), "not_ready");
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    let body = reply.json();
    assert_eq!(body["ready"], false);
    assert_eq!(body["sync"]["height"], 2);
    assert_eq!(body["sync"]["target"], 10_000);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("height 2 of 10000")
    );
    // Liveness is unaffected.
    server.get("/health").await.expect(StatusCode::OK);
    let status = server.get("/v1/status").await.expect(StatusCode::OK);
    assert_eq!(status["syncing"], true);
    assert_eq!(status["sync"]["target"], 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_by_height_latest_and_hash() {
    let server = Server::start().await;
    let block = server.node.block(1);
    let hash = block.header.hash();
    let by_height = server.get("/v1/blocks/1").await.expect(StatusCode::OK);
    assert_eq!(by_height["hash"], hash.to_string());
    assert_eq!(by_height["height"], 1);
    assert_eq!(by_height["encoded"], hex::encode(block.encode()));
    assert_eq!(by_height["size_bytes"], block.encode().len());
    assert_eq!(by_height["block"], serde_json::to_value(&block).unwrap());
    assert_eq!(by_height["proof"], hex::encode(fake::proof()));

    // Block 2 has no certificate of its own: `proof` is there, null.
    let latest = server.get("/v1/blocks/latest").await.expect(StatusCode::OK);
    assert_eq!(latest["height"], 2);
    assert_eq!(latest["proof"], Value::Null, "{latest}");

    let by_hash = server
        .get(&format!("/v1/blocks/hash/{hash}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(by_hash, by_height);

    assert_eq!(
        server
            .get("/v1/blocks/99")
            .await
            .error(StatusCode::NOT_FOUND),
        "not_found"
    );
    assert_eq!(
        server
            .get("/v1/blocks/-1")
            .await
            .error(StatusCode::BAD_REQUEST),
        "bad_height"
    );
    assert_eq!(
        server
            .get("/v1/blocks/hash/abc")
            .await
            .error(StatusCode::BAD_REQUEST),
        "bad_hash"
    );
    assert_eq!(
        server
            .get(&format!("/v1/blocks/hash/{}", "0".repeat(64)))
            .await
            .error(StatusCode::NOT_FOUND),
        "not_found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_pending_and_included_with_receipts() {
    let server = Server::start().await;
    let included = server.node.block(1).transactions.as_slice()[0].clone();
    let body = server
        .get(&format!("/v1/txs/{}", included.hash()))
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["status"], "applied");
    assert_eq!(body["block_height"], 1);
    assert_eq!(body["index"], 0);
    assert_eq!(body["sender"], included.sender_address().to_string());
    assert_eq!(body["tx"], serde_json::to_value(&included).unwrap());
    assert_eq!(body["receipt"]["status"], "applied");
    assert_eq!(body["receipt"]["tx"], included.hash().to_string());

    // A submitted transaction is pending until included.
    let tx = signed_tx(5, Chips(2));
    server
        .post("/v1/txs", "text/plain", hex::encode(tx.encode()))
        .await
        .expect(StatusCode::ACCEPTED);
    let pending = server
        .get(&format!("/v1/txs/{}", tx.hash()))
        .await
        .expect(StatusCode::OK);
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["block_height"], Value::Null);
    assert_eq!(pending["receipt"], Value::Null);

    assert_eq!(
        server
            .get(&format!("/v1/txs/{}", "ab".repeat(32)))
            .await
            .error(StatusCode::NOT_FOUND),
        "not_found"
    );
    assert_eq!(
        server
            .get("/v1/txs/xyz")
            .await
            .error(StatusCode::BAD_REQUEST),
        "bad_hash"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_with_paged_history() {
    let server = Server::start().await;
    let address = keypair().address();
    let body = server
        .get(&format!("/v1/accounts/{address}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["address"], address.to_string());
    assert_eq!(body["balance"], 1_000);
    assert_eq!(
        body["bankroll_shares"],
        "340282366920938463463374607431768211455"
    );
    let seqs = |body: &Value| -> Vec<u64> {
        body["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(
        seqs(&body),
        vec![
            25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6
        ]
    );
    assert_eq!(body["next_before"], 6);
    let page = server
        .get(&format!("/v1/accounts/{address}?history_before=6&limit=3"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(seqs(&page), vec![5, 4, 3]);
    assert_eq!(
        page["history"][0]["events"][0]["balance_changed"]["account"],
        address.to_string()
    );

    for (query, code) in [
        ("?limit=0", "bad_query"),
        ("?limit=101", "bad_query"),
        ("?limit=ten", "bad_query"),
        ("?history_before=-1", "bad_query"),
        ("?page=2", "bad_query"),
    ] {
        assert_eq!(
            server
                .get(&format!("/v1/accounts/{address}{query}"))
                .await
                .error(StatusCode::BAD_REQUEST),
            code,
            "{query}"
        );
    }
    assert_eq!(
        server
            .get("/v1/accounts/craps1notanaddress")
            .await
            .error(StatusCode::BAD_REQUEST),
        "bad_address"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_report_the_nonce_after_their_pending_transactions() {
    let server = Server::start().await;
    let address = keypair().address();
    let path = format!("/v1/accounts/{address}?limit=1");
    let idle = server.get(&path).await.expect(StatusCode::OK);
    assert_eq!(
        (idle["nonce"].clone(), idle["pending_nonce"].clone()),
        (json!(0), json!(0))
    );
    for nonce in 0..2 {
        let tx = signed_tx(nonce, Chips(2));
        server
            .post("/v1/txs", "text/plain", hex::encode(tx.encode()))
            .await
            .expect(StatusCode::ACCEPTED);
    }
    let busy = server.get(&path).await.expect(StatusCode::OK);
    assert_eq!(busy["nonce"], 0, "the ledger has applied none: {busy}");
    assert_eq!(busy["pending_nonce"], 2, "two wait in the mempool: {busy}");
    // Another account is unaffected.
    let other = server
        .get(&format!(
            "/v1/accounts/{}",
            wallet::Address::from_bytes([3; 20])
        ))
        .await
        .expect(StatusCode::OK);
    assert_eq!(other["pending_nonce"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tables_open_bets_with_their_state() {
    let server = Server::start().await;
    let craps = server.get("/v1/tables/2/bets").await.expect(StatusCode::OK);
    assert_eq!(craps["table"], 2);
    let bets = craps["bets"].as_array().unwrap();
    assert_eq!(bets.len(), 2);
    assert_eq!(bets[0]["wager"]["craps"]["kind"], "place-6");
    assert_eq!(bets[0]["state"]["craps"]["working"], "off");
    assert_eq!(bets[0]["state"]["craps"]["works_next_roll"], false);
    assert_eq!(bets[1]["state"]["craps"]["odds"], 20);
    assert_eq!(bets[1]["state"]["craps"]["point"], 8);

    let me = keypair().address();
    let mine = server
        .get(&format!("/v1/tables/2/bets?player={me}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(mine["bets"].as_array().unwrap().len(), 1);
    assert_eq!(mine["bets"][0]["player"], me.to_string());

    let crash = server.get("/v1/tables/1/bets").await.expect(StatusCode::OK);
    assert_eq!(crash["bets"][0]["state"]["crash"]["round"], 3);
    assert_eq!(crash["bets"][0]["state"]["crash"]["state"], "riding");
    assert_eq!(crash["bets"][0]["wager"]["crash"]["auto_cash_out"], 200);

    for (path, status, code) in [
        ("/v1/tables/9/bets", StatusCode::NOT_FOUND, "not_found"),
        ("/v1/tables/x/bets", StatusCode::BAD_REQUEST, "bad_table"),
        (
            "/v1/tables/2/bets?player=nobody",
            StatusCode::BAD_REQUEST,
            "bad_address",
        ),
        (
            "/v1/tables/2/bets?round=1",
            StatusCode::BAD_REQUEST,
            "bad_query",
        ),
    ] {
        assert_eq!(server.get(path).await.error(status), code, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_tables_rounds_leaderboard_and_bankroll() {
    let server = Server::start().await;
    let validators = server.get("/v1/validators").await.expect(StatusCode::OK);
    assert_eq!(validators["validators"][0]["stake"], 5_000);
    assert_eq!(validators["validators"][0]["missed_heights"], 2);

    let tables = server.get("/v1/tables").await.expect(StatusCode::OK);
    assert_eq!(tables["tables"][0]["game"]["crash"]["max_bet"], 1_000);
    assert_eq!(tables["tables"][1]["name"], "Pit");
    assert_eq!(tables["tables"][1]["players"].as_array().unwrap().len(), 1);

    let rounds = server
        .get("/v1/tables/1/rounds?limit=2")
        .await
        .expect(StatusCode::OK);
    assert_eq!(rounds["rounds"][0]["round"], 3);
    assert_eq!(rounds["rounds"][1]["round"], 2);
    assert_eq!(rounds["next_before"], 2);
    let older = server
        .get("/v1/tables/1/rounds?before=2")
        .await
        .expect(StatusCode::OK);
    assert_eq!(older["rounds"].as_array().unwrap().len(), 1);
    assert_eq!(older["next_before"], Value::Null);
    assert_eq!(
        server
            .get("/v1/tables/9/rounds")
            .await
            .error(StatusCode::NOT_FOUND),
        "not_found"
    );
    assert_eq!(
        server
            .get("/v1/tables/x/rounds")
            .await
            .error(StatusCode::BAD_REQUEST),
        "bad_table"
    );

    let round = server.get("/v1/rounds/1/2").await.expect(StatusCode::OK);
    assert_eq!(round["round"], 2);
    assert_eq!(round["status"], "settled");
    assert_eq!(round["randomness"][0]["entry"]["height"], 1);
    assert_eq!(round["randomness"][0]["group_public_key"], "aa".repeat(96));
    assert_eq!(round["events"][0]["crash_tick"]["elapsed_ms"], 1_000);
    assert_eq!(
        server
            .get("/v1/rounds/1/9")
            .await
            .error(StatusCode::NOT_FOUND),
        "not_found"
    );
    assert_eq!(
        server
            .get("/v1/rounds/1/two")
            .await
            .error(StatusCode::BAD_REQUEST),
        "bad_round"
    );

    let board = server.get("/v1/leaderboard").await.expect(StatusCode::OK);
    assert_eq!(board["game"], "all");
    assert_eq!(board["entries"].as_array().unwrap().len(), 10);
    let crash = server
        .get("/v1/leaderboard?game=crash&limit=3")
        .await
        .expect(StatusCode::OK);
    assert_eq!(crash["game"], "crash");
    assert_eq!(crash["entries"].as_array().unwrap().len(), 3);
    assert_eq!(crash["entries"][0]["rank"], 1);
    assert_eq!(crash["entries"][2]["net_winnings"], -2);
    assert_eq!(
        server
            .get("/v1/leaderboard?game=poker")
            .await
            .error(StatusCode::BAD_REQUEST),
        "bad_query"
    );

    let bankroll = server.get("/v1/bankroll").await.expect(StatusCode::OK);
    assert_eq!(bankroll["balance"], 1_000_000);
    assert_eq!(bankroll["total_shares"], "1000000000000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let server = Server::start().await;
    for path in ["/", "/v2/status", "/v1/blocks", "/v1/status/extra"] {
        assert_eq!(
            server.get(path).await.error(StatusCode::NOT_FOUND),
            "not_found",
            "{path}"
        );
    }
    let reply = server
        .send(
            server
                .request(Method::DELETE, "/v1/status")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        reply.error(StatusCode::METHOD_NOT_ALLOWED),
        "method_not_allowed"
    );
    assert_eq!(
        server
            .post("/v1/status", "application/json", "{}")
            .await
            .error(StatusCode::METHOD_NOT_ALLOWED),
        "method_not_allowed"
    );
    assert_eq!(
        server.get("/v1/ws").await.error(StatusCode::BAD_REQUEST),
        "websocket_required"
    );
}

// ------------------------------------------------------- submitting txs

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_raw_hex_and_json_transactions() {
    let server = Server::start().await;
    let raw_tx = signed_tx(0, Chips(1));
    let hex_tx = signed_tx(1, Chips(1));
    let json_tx = signed_tx(2, Chips(1));
    let reply = server
        .post("/v1/txs", "application/octet-stream", raw_tx.encode())
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(
        reply,
        json!({"hash": raw_tx.hash().to_string(), "status": "pending"})
    );
    server
        .post(
            "/v1/txs",
            "text/plain",
            format!("  0x{}\n", hex::encode(hex_tx.encode())),
        )
        .await
        .expect(StatusCode::ACCEPTED);
    server
        .post(
            "/v1/txs",
            "application/json",
            json!({"tx": hex::encode(json_tx.encode())}).to_string(),
        )
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(
        server.node.submitted(),
        vec![raw_tx.clone(), hex_tx, json_tx]
    );
    // The same again: 409, nothing added.
    assert_eq!(
        server
            .post("/v1/txs", "application/octet-stream", raw_tx.encode())
            .await
            .error(StatusCode::CONFLICT),
        "already_known"
    );
    assert_eq!(server.changes(), (3, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_submit_each_transaction_and_answer_in_order() {
    let server = Server::start().await;
    let path = crate::api::BATCH_SUBMIT_PATH;
    let first = signed_tx(0, Chips(1));
    let second = signed_tx(1, Chips(1));
    let mut forged = signed_tx(2, Chips(1));
    forged.tx.nonce = 9;
    let body = json!({"txs": [
        hex::encode(first.encode()),
        "zz",
        hex::encode(forged.encode()),
        hex::encode(second.encode()),
        hex::encode(first.encode()),
    ]});
    let reply = server
        .post(path, "application/json", body.to_string())
        .await
        .expect(StatusCode::OK);
    assert_eq!(reply["accepted"], 2);
    let results = reply["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(
        results[0],
        json!({"hash": first.hash().to_string(), "status": "pending"})
    );
    let refusal = |i: usize| {
        let error = &results[i]["error"];
        assert_eq!(results[i]["status"], "refused");
        (
            error["http_status"].as_u64().unwrap(),
            error["code"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(refusal(1), (400, "malformed_hex".to_owned()));
    assert_eq!(results[1]["hash"], Value::Null);
    assert_eq!(refusal(2), (400, "invalid_transaction".to_owned()));
    assert_eq!(results[2]["hash"], forged.hash().to_string());
    assert_eq!(results[3]["status"], "pending");
    assert_eq!(refusal(4), (409, "already_known".to_owned()));
    assert_eq!(server.node.submitted(), vec![first.clone(), second]);

    // Whole-request errors: structured, and nothing submitted.
    let before = server.changes();
    let empty = server
        .post(path, "application/json", json!({"txs": []}).to_string())
        .await;
    assert_eq!(empty.error(StatusCode::BAD_REQUEST), "empty_batch");
    let too_many = json!({"txs": vec![hex::encode(first.encode()); MAX_BATCH_TRANSACTIONS + 1]});
    let reply = server
        .post(path, "application/json", too_many.to_string())
        .await;
    assert_eq!(
        reply.error(StatusCode::PAYLOAD_TOO_LARGE),
        "too_many_transactions"
    );
    let not_json = server
        .post(path, "text/plain", hex::encode(first.encode()))
        .await;
    assert_eq!(
        not_json.error(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        "unsupported_media_type"
    );
    let malformed = server.post(path, "application/json", "{\"txs\": 5}").await;
    assert_eq!(malformed.error(StatusCode::BAD_REQUEST), "malformed_json");
    // Written raw: the 413 comes from the declared length, before the
    // megabyte is read, and a client still writing it may see a broken pipe.
    let limit = ApiConfig::default().max_batch_body_bytes;
    let oversized = json!({"txs": ["00".repeat(limit / 2)]}).to_string();
    let answer = raw(
        server.addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{oversized}",
            server.host(),
            oversized.len()
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"code\":\"payload_too_large\""),
        "{answer}"
    );
    assert_eq!(server.changes(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_transactions_are_refused_and_change_nothing() {
    let server = Server::start().await;
    let good = signed_tx(0, Chips(1));
    let mut bad_signature = good.clone();
    bad_signature.tx.nonce = 7;
    let other_chain = Transaction {
        chain_id: wallet::ChainId::new([9; 32]),
        ..good.tx.clone()
    }
    .sign(&keypair());
    let zero_transfer = Transaction {
        action: Action::Transfer {
            to: keypair().address(),
            amount: Chips(0),
        },
        ..good.tx.clone()
    }
    .sign(&keypair());
    let mut trailing = good.encode();
    trailing.push(0);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "text/plain",
            b"zz".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_hex",
        ),
        (
            "text/plain",
            vec![0xff, 0xfe],
            StatusCode::BAD_REQUEST,
            "malformed_hex",
        ),
        (
            "text/plain",
            b"abc".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_hex",
        ),
        (
            "application/json",
            b"{\"tx\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "application/json",
            b"{\"tx\": \"00\", \"x\": 1}".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "application/json",
            b"[1, 2]".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "application/octet-stream",
            vec![],
            StatusCode::BAD_REQUEST,
            "malformed_transaction",
        ),
        (
            "application/octet-stream",
            vec![1, 2, 3],
            StatusCode::BAD_REQUEST,
            "malformed_transaction",
        ),
        (
            "application/octet-stream",
            trailing,
            StatusCode::BAD_REQUEST,
            "malformed_transaction",
        ),
        (
            "application/octet-stream",
            vec![0; consensus::tx::MAX_TX_BYTES + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
            "transaction_too_large",
        ),
        (
            // As hex, the largest transactions pass the body limit: a
            // dealer log that large is sent as raw bytes.
            "text/plain",
            hex::encode(vec![0u8; consensus::tx::MAX_TX_BYTES + 1]).into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "application/octet-stream",
            bad_signature.encode(),
            StatusCode::BAD_REQUEST,
            "invalid_transaction",
        ),
        (
            "application/octet-stream",
            other_chain.encode(),
            StatusCode::BAD_REQUEST,
            "invalid_transaction",
        ),
        (
            "application/octet-stream",
            zero_transfer.encode(),
            StatusCode::BAD_REQUEST,
            "invalid_transaction",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let reply = server.post("/v1/txs", content_type, body).await;
        assert_eq!(reply.error(status), code, "{content_type}");
    }
    // Refusals by the node itself pass through with their status.
    server.node.refuse_next(SubmitError::Refused(
        "nonce 0 is already used; the sender's next nonce is 1".into(),
    ));
    assert_eq!(
        server
            .post("/v1/txs", "application/octet-stream", good.encode())
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY),
        "transaction_refused"
    );
    server.node.refuse_next(SubmitError::Busy(
        "the mempool is full; pay a fee above 5 to enter".into(),
    ));
    let busy = server
        .post("/v1/txs", "application/octet-stream", good.encode())
        .await;
    assert_eq!(busy.error(StatusCode::SERVICE_UNAVAILABLE), "busy");
    assert!(busy.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(server.changes(), (0, 0));
}

// ------------------------------------------------------------- wallet

/// Every wallet route with a valid body.
fn wallet_requests() -> Vec<(&'static str, Value)> {
    vec![
        (
            "/v1/wallet/transfer",
            json!({"to": keypair().address().to_string(), "amount": 5}),
        ),
        (
            "/v1/wallet/crash/bet",
            json!({"table": 1, "amount": 10, "auto_cash_out": 231}),
        ),
        ("/v1/wallet/crash/cash-out", json!({"table": 1, "fee": 3})),
        (
            "/v1/wallet/craps/bet",
            json!({"table": 2, "kind": "place-6", "amount": 12}),
        ),
        ("/v1/wallet/stake", json!({"amount": 1000})),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_routes_need_the_cookie_token() {
    let server = Server::start().await;
    for (path, body) in wallet_requests() {
        let missing = server
            .post(path, "application/json", body.to_string())
            .await;
        assert_eq!(missing.error(StatusCode::UNAUTHORIZED), "missing_token");
        assert!(missing.headers.contains_key(header::WWW_AUTHENTICATE));
        let mut wrong_token = server.token.clone().into_bytes();
        wrong_token[0] = if wrong_token[0] == b'a' { b'b' } else { b'a' };
        for auth in [
            format!("Bearer {}", String::from_utf8(wrong_token).unwrap()),
            format!("Bearer {}", &server.token[..63]),
            format!("Basic {}", server.token),
            server.token.clone(),
            "Bearer ".to_owned(),
        ] {
            let reply = server
                .send(
                    server
                        .request(Method::POST, path)
                        .header(header::AUTHORIZATION, auth.as_str())
                        .body(Body::from(body.to_string()))
                        .unwrap(),
                )
                .await;
            assert_eq!(
                reply.error(StatusCode::UNAUTHORIZED),
                "invalid_token",
                "{auth}"
            );
        }
    }
    assert_eq!(
        server.changes(),
        (0, 0),
        "no rejected request reached the wallet"
    );

    for (path, body) in wallet_requests() {
        let reply = server
            .wallet_post(path, body)
            .await
            .expect(StatusCode::ACCEPTED);
        assert_eq!(reply["status"], "pending");
        assert_eq!(reply["sender"], server.wallet.address().to_string());
    }
    let actions = server.wallet.actions();
    assert_eq!(actions.len(), 5);
    assert!(matches!(
        actions[0].0,
        Action::Transfer {
            amount: Chips(5),
            ..
        }
    ));
    assert!(matches!(
        actions[1].0,
        Action::CrashBet {
            amount: Chips(10),
            auto_cash_out: Some(231),
            ..
        }
    ));
    assert_eq!(
        actions[2],
        (
            Action::CrashCashOut {
                table: consensus::tx::TableId(1)
            },
            Some(Chips(3))
        )
    );
    match &actions[3].0 {
        Action::CrapsBet { kind, amount, .. } => {
            assert_eq!(kind.to_string(), "place 6");
            assert_eq!(*amount, Chips(12));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        actions[4].0,
        Action::Stake {
            amount: Chips(1000)
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_bad_input_is_400_and_changes_nothing() {
    let server = Server::start().await;
    let address = keypair().address().to_string();
    let cases: Vec<(&str, String, &str)> = vec![
        ("/v1/wallet/transfer", "{\"to\": ".into(), "malformed_json"),
        ("/v1/wallet/transfer", "not json".into(), "malformed_json"),
        (
            "/v1/wallet/transfer",
            json!({"to": "craps1xyz", "amount": 5}).to_string(),
            "malformed_json",
        ),
        (
            "/v1/wallet/transfer",
            json!({"to": address, "amount": -5}).to_string(),
            "malformed_json",
        ),
        (
            "/v1/wallet/transfer",
            json!({"to": address, "amount": 5, "memo": "x"}).to_string(),
            "malformed_json",
        ),
        (
            "/v1/wallet/transfer",
            json!({"to": address, "amount": 0}).to_string(),
            "invalid_action",
        ),
        (
            "/v1/wallet/crash/bet",
            json!({"table": 1}).to_string(),
            "malformed_json",
        ),
        (
            "/v1/wallet/crash/bet",
            json!({"table": 1, "amount": 10, "auto_cash_out": 100}).to_string(),
            "invalid_action",
        ),
        (
            "/v1/wallet/crash/cash-out",
            json!({"table": "one"}).to_string(),
            "malformed_json",
        ),
        (
            "/v1/wallet/craps/bet",
            json!({"table": 2, "kind": "place-7", "amount": 5}).to_string(),
            "bad_bet_kind",
        ),
        (
            "/v1/wallet/craps/bet",
            json!({"table": 2, "kind": "pass", "amount": 0}).to_string(),
            "invalid_action",
        ),
        (
            "/v1/wallet/stake",
            json!({"amount": 0}).to_string(),
            "invalid_action",
        ),
    ];
    for (path, body, code) in cases {
        let reply = server
            .send(
                server
                    .request(Method::POST, path)
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::AUTHORIZATION, format!("Bearer {}", server.token))
                    .body(Body::from(body.clone()))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.error(StatusCode::BAD_REQUEST), code, "{path} {body}");
    }
    // The wallet's own refusal passes through.
    server.wallet.refuse_next(SubmitError::Refused(
        "the balance 3 does not cover 10; fund the account".into(),
    ));
    assert_eq!(
        server
            .wallet_post("/v1/wallet/stake", json!({"amount": 10}))
            .await
            .error(StatusCode::UNPROCESSABLE_ENTITY),
        "transaction_refused"
    );
    assert_eq!(server.changes(), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_routes_without_a_wallet_are_503() {
    let dir = tempfile::tempdir().unwrap();
    let config = ApiConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        cookie_file: dir.path().join("api.cookie"),
        ..ApiConfig::default()
    };
    let (events, _) = broadcast::channel(16);
    let (addr, handle) = ApiServer::bind(
        config.clone(),
        Arc::new(FakeNode::new()),
        None,
        events,
        Arc::new(Metrics::new()),
    )
    .await
    .unwrap();
    let token = std::fs::read_to_string(&config.cookie_file).unwrap();
    let reply = send_from(
        addr,
        Ipv4Addr::LOCALHOST.into(),
        Request::post("/v1/wallet/stake")
            .header(header::HOST, format!("localhost:{}", addr.port()))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(json!({"amount": 5}).to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(reply.error(StatusCode::SERVICE_UNAVAILABLE), "no_wallet");
    handle.shutdown().await.unwrap();
}

// ------------------------------------------------------------ security

#[test]
fn binds_loopback_by_default() {
    let config = ApiConfig::default();
    assert_eq!(config.listen, "127.0.0.1:7380".parse().unwrap());
    assert!(config.listen.ip().is_loopback());
    assert_eq!(config.max_body_bytes, 64 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_is_owner_only_and_removed_at_shutdown() {
    let mut server = Server::start().await;
    let handle = server.handle.take().unwrap();
    let path = handle.cookie_file().to_path_buf();
    assert_eq!(server.token.len(), 64);
    assert!(server.token.bytes().all(|b| b.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    handle.shutdown().await.unwrap();
    assert!(!path.exists(), "the cookie is removed at shutdown");
    // Nothing listens any more.
    assert!(TcpStream::connect(server.addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_host_or_foreign_origin_is_403_and_changes_nothing() {
    let server = Server::with(|c| c.allowed_hosts = vec!["mynode.lan".into()]).await;
    let port = server.addr.port();
    let get = |host: &str, origin: Option<&str>| {
        let mut request = Request::get("/v1/status").header(header::HOST, host);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        request.body(Body::empty()).unwrap()
    };
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_owned(),
        format!("localhost:{}", port.wrapping_add(1)),
        format!("127.0.0.1.evil.example:{port}"),
        String::new(),
    ] {
        assert_eq!(
            server
                .send(get(&host, None))
                .await
                .error(StatusCode::FORBIDDEN),
            "forbidden_host",
            "{host}"
        );
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        format!("MyNode.lan:{port}"),
    ] {
        server.send(get(&host, None)).await.expect(StatusCode::OK);
    }
    let host = server.host();
    for origin in [
        "http://evil.example",
        "null",
        &format!("http://evil.example:{port}"),
    ] {
        assert_eq!(
            server
                .send(get(&host, Some(origin)))
                .await
                .error(StatusCode::FORBIDDEN),
            "forbidden_origin",
            "{origin}"
        );
    }
    server
        .send(get(&host, Some(&format!("http://localhost:{port}"))))
        .await
        .expect(StatusCode::OK);

    // With the right token, a rebinding page's spend still goes nowhere.
    let tx = signed_tx(0, Chips(1));
    for (host, origin) in [
        (format!("evil.example:{port}"), None),
        (host.clone(), Some("http://evil.example")),
    ] {
        for (path, body) in [
            ("/v1/wallet/stake", json!({"amount": 5}).to_string()),
            ("/v1/txs", hex::encode(tx.encode())),
        ] {
            let mut request = Request::post(path)
                .header(header::HOST, host.as_str())
                .header(header::AUTHORIZATION, format!("Bearer {}", server.token));
            if let Some(origin) = origin {
                request = request.header(header::ORIGIN, origin);
            }
            let reply = server.send(request.body(Body::from(body)).unwrap()).await;
            reply.error(StatusCode::FORBIDDEN);
        }
    }
    assert_eq!(server.changes(), (0, 0));

    // The same checks guard the WebSocket upgrade.
    let mut request = format!("ws://{}/v1/ws", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN)
        }
        other => panic!("expected 403, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_413_and_change_nothing() {
    let server = Server::start().await;
    let limit = ApiConfig::default().max_body_bytes;
    // Declared too long: refused before the body is read.
    for path in ["/v1/txs", "/v1/wallet/transfer"] {
        let answer = raw(
            server.addr,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                server.host(),
                server.token,
                limit + 1
            ),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(
            answer.contains("\"code\":\"payload_too_large\""),
            "{answer}"
        );
    }
    // Streamed (chunked, no length) past the limit: cut off as it is read.
    for path in ["/v1/txs", "/v1/wallet/stake"] {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            server.host(),
            server.token,
        );
        request.push_str("1\r\n{\r\n");
        for _ in 0..9 {
            request.push_str(&format!("2000\r\n{}\r\n", " ".repeat(0x2000)));
        }
        request.push_str("0\r\n\r\n");
        let answer = raw(server.addr, &request).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(
            answer.contains("\"code\":\"payload_too_large\""),
            "{answer}"
        );
    }
    assert_eq!(server.changes(), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_gets_429_while_another_client_is_served() {
    let server = Server::with(|c| {
        c.rate_limit_per_second = 1;
        c.rate_limit_burst = 5;
    })
    .await;
    let flooder: IpAddr = Ipv4Addr::new(127, 0, 0, 1).into();
    let other: IpAddr = Ipv4Addr::new(127, 0, 0, 2).into();
    let tx = signed_tx(0, Chips(1));
    let mut limited = 0;
    let mut accepted = 0;
    for _ in 0..30 {
        let reply = send_from(
            server.addr,
            flooder,
            server
                .request(Method::POST, "/v1/txs")
                .body(Body::from(hex::encode(tx.encode())))
                .unwrap(),
        )
        .await;
        match reply.status {
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(reply.error(StatusCode::TOO_MANY_REQUESTS), "rate_limited");
                let wait: u64 = reply.headers[header::RETRY_AFTER]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=2).contains(&wait), "{wait}");
                limited += 1;
            }
            StatusCode::ACCEPTED | StatusCode::CONFLICT => accepted += 1,
            other => panic!("{other}"),
        }
    }
    assert!(limited >= 20, "{limited} limited");
    assert!(accepted <= 10, "{accepted} accepted");
    // The flood did not submit anything beyond the one transaction.
    assert_eq!(server.node.submitted(), vec![tx]);
    // Another client is still served.
    for _ in 0..3 {
        let reply = send_from(
            server.addr,
            other,
            server
                .request(Method::GET, "/v1/status")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        reply.expect(StatusCode::OK);
    }
    // /metrics from the flooder would itself be limited: read the registry.
    let text = server.metrics.encode();
    assert!(
        text.contains(&format!("bitcraps_api_rate_limited_total {limited}")),
        "{text}"
    );
    assert!(
        text.contains(
            "bitcraps_api_requests_total{route=\"/v1/txs\",method=\"POST\",status=\"429\"}"
        ),
        "{text}"
    );
}

// ------------------------------------------------------------ OpenAPI

#[test]
fn openapi_document_is_checked_in() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let served = openapi::document_text();
    if std::env::var_os("BITCRAPS_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &served).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == served,
        "node/openapi.json differs from the document the API serves; \
         run `BITCRAPS_UPDATE_OPENAPI=1 cargo test -p bitcraps-node api` and commit the file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_is_served_and_documents_every_route() {
    let server = Server::start().await;
    let reply = server.get("/v1/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        std::str::from_utf8(&reply.body).unwrap(),
        openapi::document_text()
    );
    let document = reply.json();
    let paths = document["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 19 + crate::api::WALLET_ROUTES.len());
    let address = keypair().address().to_string();
    for (template, operations) in paths {
        let path = template
            .replace("{height}", "1")
            .replace("{hash}", &"0".repeat(64))
            .replace("{address}", &address)
            .replace("{id}", "1")
            .replace("{table}", "1")
            .replace("{round}", "1");
        for method in operations.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = server
                .send(
                    server
                        .request(method.clone(), &path)
                        .header(header::AUTHORIZATION, format!("Bearer {}", server.token))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            // Routed: anything but the router's own 404 and 405.
            let body = String::from_utf8_lossy(&reply.body);
            assert!(
                !body.contains("no such route") && reply.status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {body}"
            );
        }
    }
}

// ------------------------------------------------------------ WebSocket

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn ws_connect(server: &Server) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/v1/ws", server.addr))
        .await
        .unwrap();
    ws
}

async fn ws_send(ws: &mut Ws, message: Value) {
    ws.send(tungstenite::Message::text(message.to_string()))
        .await
        .unwrap();
}

/// The next text message as JSON.
async fn ws_next(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("the connection is open")
            .unwrap();
        if let tungstenite::Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

fn block_event(height: u64) -> ApiEvent {
    ApiEvent::Block {
        height,
        hash: consensus::hash::Hash::new([height as u8; 32]),
        timestamp_ms: 1_000 * height,
        transaction_count: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_subscribe_receive_unsubscribe() {
    let mut server = Server::start().await;
    let mut ws = ws_connect(&server).await;
    let address = keypair().address();
    ws_send(
        &mut ws,
        json!({"op": "subscribe", "topics": ["blocks", "crash:1", format!("receipts:{address}")]}),
    )
    .await;
    let ack = ws_next(&mut ws).await;
    assert_eq!(ack["type"], "subscribed");
    assert_eq!(ack["topics"].as_array().unwrap().len(), 3);

    // Not subscribed: craps:1, crash:2, leaderboard. Subscribed: the rest.
    let events = fake::table_events();
    // One block's batch: each client gets its topics' events, in order.
    server
        .events
        .send(EventBatch::from(vec![
            block_event(3),
            events.craps_roll.clone(),
            events.other_crash_table.clone(),
            events.crash_tick.clone(),
            events.receipt.clone(),
        ]))
        .unwrap();
    let block = ws_next(&mut ws).await;
    assert_eq!(
        block,
        json!({"type": "event", "topic": "blocks", "event": serde_json::to_value(block_event(3)).unwrap()})
    );
    let tick = ws_next(&mut ws).await;
    assert_eq!(tick["topic"], "crash:1");
    assert_eq!(tick["event"]["type"], "table");
    assert_eq!(
        tick["event"]["event"]["crash_tick"]["multiplier"]["hundredths"],
        106
    );
    let receipt = ws_next(&mut ws).await;
    assert_eq!(receipt["topic"], format!("receipts:{address}"));
    assert_eq!(receipt["event"]["receipt"]["status"], "applied");

    // Bad requests get an error and the connection stays open.
    for (request, code) in [
        ("{\"op\": \"subscribe\"", "malformed_json"),
        ("{\"op\": \"dance\", \"topics\": []}", "malformed_json"),
        (
            "{\"op\": \"subscribe\", \"topics\": [\"crash:x\"]}",
            "bad_topic",
        ),
        (
            "{\"op\": \"subscribe\", \"topics\": [\"poker\"]}",
            "bad_topic",
        ),
        (
            "{\"op\": \"subscribe\", \"topics\": [\"receipts:craps1zzz\"]}",
            "bad_topic",
        ),
    ] {
        ws.send(tungstenite::Message::text(request)).await.unwrap();
        let error = ws_next(&mut ws).await;
        assert_eq!(error["type"], "error", "{request}");
        assert_eq!(error["code"], code, "{request}");
    }
    let too_many: Vec<String> = (0..40).map(|i| format!("craps:{i}")).collect();
    ws_send(&mut ws, json!({"op": "subscribe", "topics": too_many})).await;
    assert_eq!(ws_next(&mut ws).await["code"], "too_many_topics");

    ws_send(&mut ws, json!({"op": "unsubscribe", "topics": ["blocks"]})).await;
    let ack = ws_next(&mut ws).await;
    assert_eq!(ack["type"], "unsubscribed");
    assert_eq!(ack["topics"].as_array().unwrap().len(), 2);
    server
        .events
        .send(EventBatch::from(vec![block_event(4)]))
        .unwrap();
    server
        .events
        .send(EventBatch::from(vec![events.crash_tick.clone()]))
        .unwrap();
    assert_eq!(ws_next(&mut ws).await["topic"], "crash:1", "no more blocks");

    // Shutdown closes the socket with 1001.
    let handle = server.handle.take().unwrap();
    handle.shutdown().await.unwrap();
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(tungstenite::Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(u16::from(close.unwrap().code), 1001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_websocket_client_is_dropped_not_the_node() {
    let server = Server::with(|c| c.ws_queue = 16).await;
    let subscribe = json!({"op": "subscribe", "topics": ["leaderboard"]});
    let mut slow = ws_connect(&server).await;
    ws_send(&mut slow, subscribe.clone()).await;
    assert_eq!(ws_next(&mut slow).await["type"], "subscribed");
    let mut fast = ws_connect(&server).await;
    ws_send(&mut fast, subscribe).await;
    assert_eq!(ws_next(&mut fast).await["type"], "subscribed");

    const EVENTS: usize = 400;
    // The fast client reads everything as it comes (counting, parsing the last).
    let reader = tokio::spawn(async move {
        let mut received = 0;
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout(Duration::from_secs(10), fast.next()).await
        {
            if let tungstenite::Message::Text(text) = message {
                received += 1;
                if received == EVENTS {
                    let last: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(last["event"]["entries"][0]["rank"], EVENTS);
                    break;
                }
            }
        }
        (received, fast)
    });
    // ~40 KB per event, ~16 MB in all: far more than the socket buffers
    // hold, at a pace a reading client keeps up with.
    let started = std::time::Instant::now();
    for i in 0..EVENTS {
        let sent = server
            .events
            .send(EventBatch::from(vec![fake::big_leaderboard(
                i as u32 + 1,
                300,
            )]));
        assert!(sent.is_ok(), "every client was dropped by event {i}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the node never waited for a client"
    );

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.metrics.ws_dropped(WsDropReason::Slow) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow client was not dropped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (received, _fast) = reader.await.unwrap();
    assert_eq!(received, EVENTS, "the fast client got everything");
    assert_eq!(server.metrics.ws_dropped(WsDropReason::Slow), 1);

    // The slow client finds its connection ended before the last event.
    let mut got = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), slow.next()).await {
            Ok(Some(Ok(tungstenite::Message::Text(_)))) => got += 1,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => break,
            Err(_) => panic!("the slow client's connection was not closed"),
        }
    }
    assert!(got < EVENTS, "{got}");
    // The node still serves, and still counts the fast client.
    server.get("/v1/status").await.expect(StatusCode::OK);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !server
        .metrics
        .encode()
        .contains("bitcraps_api_websocket_clients 1\n")
    {
        assert!(std::time::Instant::now() < deadline, "one client left");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
