//! The bootstrap peer's small HTTP server:
//!
//! | route | answer |
//! |---|---|
//! | `GET /health` | 200, JSON: `status`, `peer_id`, `listen_addrs`, and the [`MetricsSnapshot`](crate::MetricsSnapshot) fields |
//! | `GET /metrics` | Prometheus text ([`crate::metrics`]) |
//!
//! Anything else is 404. It binds to loopback by default and answers reads
//! only.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use libp2p::{Multiaddr, PeerId};
use prometheus_client::registry::Registry;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::BootstrapError;
use crate::metrics::{BootstrapMetrics, MetricsSnapshot};

/// The content type of the metrics text.
const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What `/health` reports.
#[derive(Clone, Debug)]
pub struct Status {
    /// The peer id.
    pub peer_id: PeerId,
    /// The full listen addresses.
    pub listen_addrs: Vec<Multiaddr>,
    /// The live metrics.
    pub metrics: Arc<BootstrapMetrics>,
}

/// The `/health` body.
#[derive(Debug, Serialize)]
pub struct HealthBody {
    /// Always `ok` while the process serves.
    pub status: &'static str,
    /// The peer id.
    pub peer_id: String,
    /// The full listen addresses, each ending in `/p2p/<peer id>`.
    pub listen_addrs: Vec<String>,
    /// The metrics now.
    #[serde(flatten)]
    pub metrics: MetricsSnapshot,
}

struct AppState {
    status: Status,
    registry: Registry,
}

/// Binds `addr` and serves until `stop` turns true. Returns the bound
/// address (useful with port 0) and the server task.
pub async fn serve(
    addr: SocketAddr,
    status: Status,
    mut stop: watch::Receiver<bool>,
) -> Result<(SocketAddr, JoinHandle<()>), BootstrapError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| BootstrapError::Http { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| BootstrapError::Http { addr, source })?;
    let mut registry = Registry::default();
    status.metrics.register(&mut registry);
    let state = Arc::new(AppState { status, registry });
    let app = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(state);
    let task = tokio::spawn(async move {
        let shutdown = async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(%error, "the bootstrap HTTP server stopped");
        }
    });
    Ok((bound, task))
}

async fn health(State(state): State<Arc<AppState>>) -> Json<HealthBody> {
    let status = &state.status;
    Json(HealthBody {
        status: "ok",
        peer_id: status.peer_id.to_string(),
        listen_addrs: status.listen_addrs.iter().map(|a| a.to_string()).collect(),
        metrics: status.metrics.snapshot(),
    })
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, &state.registry) {
        Ok(()) => ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], text).into_response(),
        Err(error) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the metrics: {error}"),
        )
            .into_response(),
    }
}
