//! `GET /v1/ws`: topic subscriptions over a WebSocket.
//!
//! ## Protocol (JSON text frames)
//!
//! Client to node:
//!
//! ```text
//! {"op": "subscribe",   "topics": ["blocks", "crash:1", "receipts:craps1…"]}
//! {"op": "unsubscribe", "topics": ["crash:1"]}
//! ```
//!
//! Node to client:
//!
//! ```text
//! {"type": "subscribed",   "topics": [...]}          the client's whole set after the change
//! {"type": "unsubscribed", "topics": [...]}
//! {"type": "event", "topic": "crash:1", "event": {"type": "table", ...}}
//! {"type": "error", "code": "...", "message": "..."}  a bad message; the connection stays open
//! ```
//!
//! ## Flow control
//!
//! Each client has a task that reads its messages and the node's event
//! broadcast, and a writer task that drains a bounded queue
//! (`ws_queue` messages) into the socket. Events are put on the queue
//! without waiting: when it is full the client is not reading fast enough
//! and is disconnected (`bitcraps_api_websocket_dropped_total{reason="slow"}`);
//! a client whose reader falls more than the broadcast capacity behind —
//! counted in blocks: the node sends one [`EventBatch`](super::EventBatch)
//! per block — is disconnected too (`reason="lagged"`). The node's
//! `broadcast::Sender::send` never waits for anyone.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use super::AppState;
use super::error::ApiError;
use super::types::{ApiEvent, Topic};
use crate::metrics::WsDropReason;

/// The largest message a client may send, bytes.
pub(crate) const MAX_CLIENT_MESSAGE_BYTES: usize = 4096;

/// A client's request.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum ClientMessage {
    Subscribe { topics: Vec<String> },
    Unsubscribe { topics: Vec<String> },
}

/// What the node sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMessage<'a> {
    Subscribed { topics: Vec<String> },
    Unsubscribed { topics: Vec<String> },
    Event { topic: String, event: &'a ApiEvent },
    Error { code: &'static str, message: String },
}

impl ServerMessage<'_> {
    fn to_message(&self) -> Message {
        let text = serde_json::to_string(self)
            .unwrap_or_else(|e| format!(r#"{{"type":"error","code":"internal","message":"{e}"}}"#));
        Message::Text(Utf8Bytes::from(text))
    }
}

/// Releases a client slot when the client ends.
struct ClientSlot(Arc<AppState>);

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.0.ws_clients.fetch_sub(1, Ordering::SeqCst);
        self.0.metrics.add_ws_clients(-1);
    }
}

/// `GET /v1/ws`: upgrades, if a client slot is free.
pub(crate) async fn upgrade(
    State(state): State<Arc<AppState>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "websocket_required",
                format!(
                    "{}; connect with a WebSocket client (Upgrade: websocket)",
                    rejection.body_text()
                ),
            )
            .into_response();
        }
    };
    let max = state.config.ws_max_clients;
    if state
        .ws_clients
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < max).then_some(n + 1)
        })
        .is_err()
    {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_clients",
            format!("{max} WebSocket clients are connected already; retry later"),
        )
        .retry_after(5)
        .into_response();
    }
    state.metrics.add_ws_clients(1);
    let slot = ClientSlot(state.clone());
    ws.max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .max_frame_size(MAX_CLIENT_MESSAGE_BYTES)
        .on_upgrade(move |socket| client(socket, state, slot))
}

/// Why a client's loop ended.
enum End {
    /// The client closed or the socket failed.
    Closed,
    /// The writer stopped (the socket failed).
    WriterDone,
    /// The node is shutting down.
    Shutdown,
    /// Dropped by the node.
    Dropped(WsDropReason),
}

/// One client: reads its requests and the event stream, queues what it
/// should get, and drops it when the queue is full.
async fn client(socket: WebSocket, state: Arc<AppState>, _slot: ClientSlot) {
    let (mut sink, mut stream) = socket.split();
    let (queue, mut outgoing) = mpsc::channel::<Message>(state.config.ws_queue.max(1));
    let mut writer = tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut events = state.events.subscribe();
    let mut shutdown = state.shutdown.clone();
    let mut topics: BTreeSet<Topic> = BTreeSet::new();
    // Queue a message; false if the queue is full (the client is slow) or
    // the writer is gone.
    let push = |message: Message| queue.try_send(message).is_ok();

    let end = loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break End::Shutdown,
            _ = &mut writer => break End::WriterDone,
            incoming = stream.next() => {
                let reply = match incoming {
                    Some(Ok(Message::Text(text))) => handle(&state, &mut topics, text.as_str()),
                    Some(Ok(Message::Binary(_))) => ServerMessage::Error {
                        code: "bad_message",
                        message: "send JSON text frames, e.g. {\"op\":\"subscribe\",\"topics\":[\"blocks\"]}".into(),
                    }
                    .to_message(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break End::Closed,
                };
                if !push(reply) {
                    break End::Dropped(WsDropReason::Slow);
                }
            }
            batch = events.recv() => match batch {
                Ok(batch) => {
                    let queued = batch.iter().all(|event| {
                        let topic = event.topic();
                        !topics.contains(&topic)
                            || push(ServerMessage::Event { topic: topic.to_string(), event }.to_message())
                    });
                    if !queued {
                        break End::Dropped(WsDropReason::Slow);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => break End::Dropped(WsDropReason::Lagged),
                Err(broadcast::error::RecvError::Closed) => break End::Shutdown,
            },
        }
    };
    match end {
        End::WriterDone => {}
        End::Dropped(reason) => {
            // The client is not reading: do not wait for it.
            state.metrics.inc_ws_dropped(reason);
            writer.abort();
            let _ = writer.await;
        }
        End::Shutdown => {
            let _ = queue.try_send(Message::Close(Some(CloseFrame {
                code: 1001,
                reason: Utf8Bytes::from_static("node shutting down"),
            })));
            drop(queue);
            if tokio::time::timeout(Duration::from_secs(1), &mut writer)
                .await
                .is_err()
            {
                writer.abort();
                let _ = writer.await;
            }
        }
        End::Closed => {
            writer.abort();
            let _ = writer.await;
        }
    }
}

/// Applies one client request and says what to answer.
fn handle(state: &AppState, topics: &mut BTreeSet<Topic>, text: &str) -> Message {
    let request = match serde_json::from_str::<ClientMessage>(text) {
        Ok(request) => request,
        Err(e) => {
            return ServerMessage::Error {
                code: "malformed_json",
                message: format!(
                    "{e}; send {{\"op\":\"subscribe\"|\"unsubscribe\",\"topics\":[...]}}"
                ),
            }
            .to_message();
        }
    };
    let (names, subscribe) = match request {
        ClientMessage::Subscribe { topics } => (topics, true),
        ClientMessage::Unsubscribe { topics } => (topics, false),
    };
    let mut parsed = Vec::with_capacity(names.len());
    for name in &names {
        match name.parse::<Topic>() {
            Ok(topic) => parsed.push(topic),
            Err(message) => {
                return ServerMessage::Error {
                    code: "bad_topic",
                    message,
                }
                .to_message();
            }
        }
    }
    if subscribe {
        let max = state.config.ws_max_subscriptions;
        let mut next = topics.clone();
        next.extend(parsed);
        if next.len() > max {
            return ServerMessage::Error {
                code: "too_many_topics",
                message: format!("at most {max} topics per connection; unsubscribe some first"),
            }
            .to_message();
        }
        *topics = next;
    } else {
        for topic in &parsed {
            topics.remove(topic);
        }
    }
    let list = topics.iter().map(Topic::to_string).collect();
    if subscribe {
        ServerMessage::Subscribed { topics: list }
    } else {
        ServerMessage::Unsubscribed { topics: list }
    }
    .to_message()
}
