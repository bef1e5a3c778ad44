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
//! | [`client`] | a typed async client of that API, with reconnecting subscriptions |
//! | [`metrics`] | the `bitcraps_*` Prometheus metrics |
//! | [`config`] | the node's configuration: TOML file, environment, flags |
//! | [`chain`] | the chain state: store, shared ledger, explorer index, `NodeView` |
//! | [`follow`] | following finalized blocks: gossip, sync, proof checks, applying |
//! | [`validator`] | the validator core on commonware's authenticated network, its key file |
//! | [`partition`] | fault injection on test networks: a file of peers to cut off on both networks |
//! | [`fuzz`] | pure entry points for the fuzz targets in `fuzz/` (gossip, sync, config, API bodies) |
//! | [`daemon`] | `Node::start`: wiring it all together, logging, clean shutdown |

pub mod api;
pub mod chain;
pub mod client;
pub mod config;
pub mod daemon;
pub mod follow;
pub mod fuzz;
pub mod mempool;
pub mod metrics;
pub mod network;
pub mod partition;
pub mod validator;
