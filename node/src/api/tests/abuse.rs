//! Abuse of every state-changing route, enumerated from the OpenAPI
//! document so that a new route cannot be forgotten: a missing or wrong
//! token, a foreign `Host` or `Origin`, oversized and malformed bodies, and
//! floods. Each rejection must be a structured error (`{"code", "message"}`)
//! and must leave the node's mempool and wallet untouched; each test first
//! shows that the same request, done right, is accepted — so a rejection
//! is the abuse's doing, not the body's.
//!
//! The per-route cases complement the hand-written ones in `mod.rs` (which
//! cover the first wallet routes in detail).

use super::*;
use crate::fuzz::tests::sample_actions;

/// A state-changing operation of the OpenAPI document.
#[derive(Clone, Debug)]
struct Operation {
    method: Method,
    path: String,
    /// It lists a security requirement (the cookie token).
    secured: bool,
}

/// Methods that change nothing (RFC 9110 safe methods).
fn is_safe(method: &str) -> bool {
    matches!(method, "get" | "head" | "options" | "trace")
}

/// Every operation of the served document whose method is not safe.
fn state_changing_operations() -> Vec<Operation> {
    let document = openapi_document();
    let mut operations = Vec::new();
    for (path, methods) in document["paths"].as_object().expect("paths") {
        for (method, operation) in methods.as_object().expect("operations") {
            if is_safe(method) {
                continue;
            }
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            operations.push(Operation {
                method: Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"),
                path: path.clone(),
                secured,
            });
        }
    }
    operations
}

/// A body `operation` accepts: a signed transaction in hex for
/// `/v1/txs`, the route's action for a wallet route. Panics, naming the
/// route, when there is none: a new state-changing route needs a sample
/// here before these tests pass.
fn valid_body(operation: &Operation) -> (&'static str, String) {
    if operation.path == "/v1/txs" {
        return ("text/plain", hex::encode(signed_tx(0, Chips(1)).encode()));
    }
    if operation.path == BATCH_SUBMIT_PATH {
        // Another transaction than /v1/txs's, so each control is accepted
        // whichever route goes first.
        let body = json!({ "txs": [hex::encode(signed_tx(1, Chips(1)).encode())] });
        return ("application/json", body.to_string());
    }
    let route = WALLET_ROUTES
        .iter()
        .find(|r| r.path == operation.path)
        .unwrap_or_else(|| {
            panic!(
                "{} {} changes state but is neither /v1/txs nor a wallet route: add its abuse \
                 cases to node/src/api/tests/abuse.rs",
                operation.method, operation.path
            )
        });
    let action = sample_actions()
        .into_iter()
        .find(|a| a.name() == route.action)
        .unwrap_or_else(|| {
            panic!(
                "no sample action for {}: add one to sample_actions in abuse.rs",
                route.path
            )
        });
    (
        "application/json",
        wallet_request_body(&action, None).to_string(),
    )
}

/// What `operation` done right answers: 200 with per-transaction results
/// for the batch route, 202 for the others.
fn accepted(operation: &Operation) -> StatusCode {
    if operation.path == BATCH_SUBMIT_PATH {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    }
}

/// The body limit of `operation`'s route.
fn body_limit(operation: &Operation) -> usize {
    let config = ApiConfig::default();
    if operation.path == BATCH_SUBMIT_PATH {
        config.max_batch_body_bytes
    } else {
        config.max_body_bytes
    }
}

/// A server without rate limit (these tests send hundreds of requests).
async fn unlimited() -> Server {
    Server::with(|c| c.rate_limit_per_second = 0).await
}

impl Server {
    /// `operation` with `body`, the right Host and `auth` (if any).
    fn abuse(
        &self,
        operation: &Operation,
        content_type: &str,
        auth: Option<&str>,
        body: impl Into<Body>,
    ) -> Request<Body> {
        let mut request = self
            .request(operation.method.clone(), &operation.path)
            .header(header::CONTENT_TYPE, content_type);
        if let Some(auth) = auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        request.body(body.into()).expect("a request")
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// Sends `operation` done right: it must be accepted (202).
    async fn control(&self, operation: &Operation) {
        let (content_type, body) = valid_body(operation);
        let bearer = self.bearer();
        let reply = self
            .send(self.abuse(operation, content_type, Some(&bearer), body))
            .await;
        assert_eq!(
            reply.status,
            accepted(operation),
            "{} {} done right: {}",
            operation.method,
            operation.path,
            String::from_utf8_lossy(&reply.body)
        );
    }
}

#[test]
fn state_changing_routes_come_from_the_openapi_document() {
    let operations = state_changing_operations();
    // The open ones carry their own signatures (one transaction, or a
    // batch of them); every other needs the token.
    let open: Vec<&str> = operations
        .iter()
        .filter(|o| !o.secured)
        .map(|o| o.path.as_str())
        .collect();
    assert_eq!(
        open,
        ["/v1/txs", BATCH_SUBMIT_PATH],
        "a state-changing route without a token must be justified here"
    );
    let mut secured: Vec<&str> = operations
        .iter()
        .filter(|o| o.secured)
        .map(|o| o.path.as_str())
        .collect();
    let mut wallet: Vec<&str> = WALLET_ROUTES.iter().map(|r| r.path).collect();
    secured.sort_unstable();
    wallet.sort_unstable();
    assert_eq!(secured, wallet);
    assert!(operations.iter().all(|o| o.method == Method::POST));
    // Every one has a body for the controls.
    for operation in &operations {
        valid_body(operation);
    }
}

/// No documented read takes a state-changing method that the document
/// does not list: each answers 405 (or, for a path that also has a
/// documented POST, is covered by the operations above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_take_no_undocumented_writing_method() {
    let server = unlimited().await;
    let document = openapi_document();
    let address = keypair().address().to_string();
    let mut checked = 0;
    for (template, methods) in document["paths"].as_object().expect("paths") {
        let path = template
            .replace("{height}", "1")
            .replace("{hash}", &"0".repeat(64))
            .replace("{address}", &address)
            .replace("{id}", "1")
            .replace("{table}", "1")
            .replace("{round}", "1");
        for method in ["post", "put", "patch", "delete"] {
            if methods.get(method).is_some() {
                continue;
            }
            let request = server
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &path,
                )
                .header(header::AUTHORIZATION, server.bearer())
                .body(Body::from("{}"))
                .unwrap();
            let reply = server.send(request).await;
            assert_eq!(
                reply.error(StatusCode::METHOD_NOT_ALLOWED),
                "method_not_allowed",
                "{method} {path}"
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
    assert_eq!(server.changes(), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_secured_route_refuses_a_missing_or_wrong_token() {
    let server = unlimited().await;
    let mut flipped = server.token.clone().into_bytes();
    flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    let wrong = [
        format!("Bearer {flipped}"),
        format!("Bearer {}", &server.token[1..]),
        format!("Bearer {}0", server.token),
        format!("Bearer {}", server.token.to_uppercase()),
        format!("Basic {}", server.token),
        format!("Token {}", server.token),
        server.token.clone(),
        "Bearer".to_owned(),
        format!("Bearer {}", "0".repeat(64)),
        format!("Bearer {}", "x".repeat(10_000)),
    ];
    let mut cases = 0;
    for operation in state_changing_operations().iter().filter(|o| o.secured) {
        let (content_type, body) = valid_body(operation);
        let reply = server
            .send(server.abuse(operation, content_type, None, body.clone()))
            .await;
        assert_eq!(
            reply.error(StatusCode::UNAUTHORIZED),
            "missing_token",
            "{}",
            operation.path
        );
        for auth in &wrong {
            let reply = server
                .send(server.abuse(operation, content_type, Some(auth), body.clone()))
                .await;
            assert_eq!(
                reply.error(StatusCode::UNAUTHORIZED),
                "invalid_token",
                "{} with {:.40}",
                operation.path,
                auth
            );
            cases += 1;
        }
        // A token that is not text at all.
        let request = server
            .request(operation.method.clone(), &operation.path)
            .header(
                header::AUTHORIZATION,
                axum::http::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
            )
            .body(Body::from(body.clone()))
            .unwrap();
        server.send(request).await.error(StatusCode::UNAUTHORIZED);
        cases += 2;
    }
    assert!(cases >= 16 * 12, "{cases}");
    assert_eq!(server.changes(), (0, 0), "a refused request got through");
    // Done right, each is accepted: the refusals were the token's doing.
    for operation in state_changing_operations().iter().filter(|o| o.secured) {
        server.control(operation).await;
    }
    assert_eq!(server.changes().1, WALLET_ROUTES.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_state_changing_route_refuses_a_foreign_host_or_origin() {
    let server = unlimited().await;
    let port = server.addr.port();
    let hosts = [
        format!("evil.example:{port}"),
        "evil.example".to_owned(),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        format!("[::1]:{port}:{port}"),
        format!("192.168.1.10:{port}"),
    ];
    let origins = [
        "http://evil.example".to_owned(),
        format!("http://evil.example:{port}"),
        format!("http://localhost:{port}.evil.example"),
        format!("http://localhost:{port}/path"),
        format!("ftp://localhost:{port}"),
        "null".to_owned(),
        "file://".to_owned(),
    ];
    let bearer = server.bearer();
    for operation in state_changing_operations() {
        let (content_type, body) = valid_body(&operation);
        for host in &hosts {
            let request = Request::builder()
                .method(operation.method.clone())
                .uri(&operation.path)
                .header(header::HOST, host.as_str())
                .header(header::CONTENT_TYPE, content_type)
                .header(header::AUTHORIZATION, bearer.as_str())
                .body(Body::from(body.clone()))
                .unwrap();
            assert_eq!(
                server.send(request).await.error(StatusCode::FORBIDDEN),
                "forbidden_host",
                "{} Host {host}",
                operation.path
            );
        }
        // No Host header at all (HTTP/1.0 style, written by hand).
        let answer = raw(
            server.addr,
            &format!(
                "POST {} HTTP/1.0\r\nAuthorization: {bearer}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
                operation.path,
                body.len()
            ),
        )
        .await;
        assert!(
            answer.starts_with("HTTP/1.0 403") || answer.starts_with("HTTP/1.1 403"),
            "{}: {answer}",
            operation.path
        );
        assert!(answer.contains("\"code\":\"forbidden_host\""), "{answer}");
        for origin in &origins {
            let mut request = server.abuse(&operation, content_type, Some(&bearer), body.clone());
            request
                .headers_mut()
                .insert(header::ORIGIN, origin.parse().unwrap());
            assert_eq!(
                server.send(request).await.error(StatusCode::FORBIDDEN),
                "forbidden_origin",
                "{} Origin {origin}",
                operation.path
            );
        }
    }
    assert_eq!(server.changes(), (0, 0), "a refused request got through");
    // With the API's own Origin, each is accepted.
    for operation in state_changing_operations() {
        let (content_type, body) = valid_body(&operation);
        let mut request = server.abuse(&operation, content_type, Some(&bearer), body);
        request.headers_mut().insert(
            header::ORIGIN,
            format!("http://localhost:{port}").parse().unwrap(),
        );
        server.send(request).await.expect(accepted(&operation));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_state_changing_route_refuses_oversized_bodies() {
    let server = unlimited().await;
    let bearer = server.bearer();
    for operation in state_changing_operations() {
        let limit = body_limit(&operation);
        let (content_type, body) = valid_body(&operation);
        // The valid body padded with white space (still valid JSON or hex
        // text) to one byte over the limit, with its Content-Length.
        // Written raw: the server answers 413 from the length and closes
        // without reading, so a client still writing a large body may see
        // a broken pipe before it reads the answer (hyper's client does).
        let mut padded = body.clone();
        padded.push_str(&" ".repeat(limit + 1 - body.len()));
        let answer = raw(
            server.addr,
            &format!(
                "POST {} HTTP/1.1\r\nHost: {}\r\nAuthorization: {bearer}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{padded}",
                operation.path,
                server.host(),
                padded.len()
            ),
        )
        .await;
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "{}: {answer}",
            operation.path
        );
        assert!(
            answer.contains("\"code\":\"payload_too_large\""),
            "{answer}"
        );
        // A huge declared length: refused before anything is read.
        let answer = raw(
            server.addr,
            &format!(
                "POST {} HTTP/1.1\r\nHost: {}\r\nAuthorization: {bearer}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                operation.path,
                server.host(),
                u64::MAX / 2
            ),
        )
        .await;
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "{}: {answer}",
            operation.path
        );
        assert!(
            answer.contains("\"code\":\"payload_too_large\""),
            "{answer}"
        );
        // Chunked, no length, past the limit: cut off as it is read.
        let mut chunked = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nAuthorization: {bearer}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            operation.path,
            server.host(),
        );
        chunked.push_str(&format!("{:x}\r\n{body}\r\n", body.len()));
        for _ in 0..=limit / 0x1000 {
            chunked.push_str(&format!("1000\r\n{}\r\n", " ".repeat(0x1000)));
        }
        chunked.push_str("0\r\n\r\n");
        let answer = raw(server.addr, &chunked).await;
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "{}: {answer}",
            operation.path
        );
        assert!(
            answer.contains("\"code\":\"payload_too_large\""),
            "{answer}"
        );
    }
    assert_eq!(server.changes(), (0, 0), "a refused request got through");
    // The same bodies padded to exactly the limit are accepted.
    for operation in state_changing_operations() {
        let limit = body_limit(&operation);
        let (content_type, body) = valid_body(&operation);
        let mut padded = body.clone();
        padded.push_str(&" ".repeat(limit - body.len()));
        let reply = server
            .send(server.abuse(&operation, content_type, Some(&bearer), padded))
            .await;
        assert_eq!(reply.status, accepted(&operation), "{}", operation.path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_gets_a_structured_4xx_on_every_route() {
    let server = unlimited().await;
    let bearer = server.bearer();
    let deep = "[".repeat(50_000);
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b"not json".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"a string\"".to_vec(),
        b"1e999999".to_vec(),
        b"{\"tx\": ".to_vec(),
        b"{\"amount\": 1e400}".to_vec(),
        b"{\"amount\": 18446744073709551616}".to_vec(),
        b"{\"amount\": -1}".to_vec(),
        b"{\"to\": null, \"amount\": {}}".to_vec(),
        b"{\"tx\": \"zz\"}".to_vec(),
        b"{\"tx\": 5}".to_vec(),
        b"{\"fee\": \"1\"}".to_vec(),
        b"{\"\xff\xfe\": 1}".to_vec(),
        b"\xef\xbb\xbf{}".to_vec(),
        b"{\"a\":1,\"a\":2}".to_vec(),
        deep.clone().into_bytes(),
        format!("{{\"tx\": \"{}\"}}", "00".repeat(5000)).into_bytes(),
        vec![0; 100],
    ];
    let mut cases = 0;
    for operation in state_changing_operations() {
        for body in &bodies {
            let reply = server
                .send(server.abuse(&operation, "application/json", Some(&bearer), body.clone()))
                .await;
            assert!(
                reply.status.is_client_error(),
                "{} {:.60?}: {}",
                operation.path,
                String::from_utf8_lossy(body),
                reply.status
            );
            // The structured error shape, with a message that says what to do.
            let code = reply.error(reply.status);
            assert!(!code.is_empty());
            cases += 1;
        }
    }
    assert!(cases >= 17 * 20, "{cases}");
    assert_eq!(server.changes(), (0, 0), "a refused request got through");
    // The server is still up and serving.
    server.get("/v1/status").await.expect(StatusCode::OK);
}

/// All local processes reach the API from 127.0.0.1: a local flood without
/// the token is limited without starving the token holder (the owner's
/// CLI or TUI), who is limited by a bucket of its own; every
/// state-changing route is limited, and a flood submits nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_flood_does_not_starve_the_token_holder() {
    let server = Server::with(|c| {
        c.rate_limit_per_second = 1;
        c.rate_limit_burst = 5;
    })
    .await;
    let bearer = server.bearer();
    let operations = state_changing_operations();
    // The flood: every state-changing route in turn, from 127.0.0.1, with
    // no token or a wrong one.
    let mut limited_routes = std::collections::BTreeSet::new();
    for (i, operation) in operations
        .iter()
        .cycle()
        .take(operations.len() * 3)
        .enumerate()
    {
        let (content_type, body) = valid_body(operation);
        let auth = (i % 2 == 0).then(|| format!("Bearer {}", "0".repeat(64)));
        let reply = server
            .send(server.abuse(operation, content_type, auth.as_deref(), body))
            .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(reply.error(StatusCode::TOO_MANY_REQUESTS), "rate_limited");
            assert!(reply.headers.contains_key(header::RETRY_AFTER));
            limited_routes.insert(operation.path.clone());
        }
    }
    assert_eq!(
        limited_routes.len(),
        operations.len(),
        "every state-changing route is rate limited"
    );
    // Only the one transaction of each open route's sample may have gone
    // in; no wallet action did (no token).
    assert!(server.node.submitted().len() <= 2);
    assert_eq!(server.wallet.actions().len(), 0);
    // The flooder is still limited …
    let read = || {
        server
            .request(Method::GET, "/v1/status")
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        server.send(read()).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // … while the owner, from the same address, is served.
    let stake = operations
        .iter()
        .find(|o| o.path == "/v1/wallet/stake")
        .expect("the stake route");
    let (content_type, body) = valid_body(stake);
    server
        .send(server.abuse(stake, content_type, Some(&bearer), body.clone()))
        .await
        .expect(StatusCode::ACCEPTED);
    let mut owner_read = read();
    owner_read
        .headers_mut()
        .insert(header::AUTHORIZATION, bearer.parse().unwrap());
    server.send(owner_read).await.expect(StatusCode::OK);
    // The owner's own flood is limited by its own bucket.
    let mut owner_limited = 0;
    for _ in 0..10 {
        let reply = server
            .send(server.abuse(stake, content_type, Some(&bearer), body.clone()))
            .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            owner_limited += 1;
        }
    }
    assert!(owner_limited >= 5, "{owner_limited}");
    assert!(server.wallet.actions().len() <= 6);
}
