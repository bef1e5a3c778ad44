//! # BitCraps node
//!
//! Owns the daemon every player, validator and explorer runs — libp2p
//! networking, the mempool, chain following, the local REST/WebSocket API,
//! metrics and configuration. The `bitcraps` binary (crate `cli`) is a thin
//! shell over it.
//!
//! Nothing consensus-critical lives here: outcomes and state transitions come from
//! `bitcraps-game-rules` and `bitcraps-consensus`.
//!
//! | module | concept |
//! |---|---|
//! | [`network`] | libp2p: gossip with validation and peer scoring, discovery, block sync |
//! | [`mempool`] | pending transactions: admission checks, limits, eviction, proposer selection |
//! | [`api`] | the local REST/WebSocket API and its security layers |
//! | [`metrics`] | the `bitcraps_*` Prometheus metrics |
//!
//! The daemon that wires these to the ledger and the consensus engine, and its
//! configuration, are still to come.

pub mod api;
pub mod mempool;
pub mod metrics;
pub mod network;
