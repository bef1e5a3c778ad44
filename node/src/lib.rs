//! # BitCraps node
//!
//! Will own the daemon every player, validator and explorer runs — libp2p
//! networking, the mempool, chain following, the local REST/WebSocket API,
//! metrics and configuration — and the `bitcraps` command-line tool, a thin shell
//! over the libraries.
//!
//! Nothing consensus-critical lives here: outcomes and state transitions come from
//! `bitcraps-game-rules` and `bitcraps-consensus`.

pub mod api;
pub mod mempool;
pub mod metrics;
pub mod network;
