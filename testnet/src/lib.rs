//! # BitCraps local testnet
//!
//! Owns the one-command local testnet: keys and a genesis, a bootstrap peer,
//! N validators and M player nodes as real processes on loopback, load
//! generation, fault injection (kill, pause, restart, partition), checks
//! and teardown.
//!
//! It only drives real binaries through their public interfaces (CLI, API,
//! signals, the partition file their configuration names); it never reaches into a node's state or replaces any part with
//! a mock.
//!
//! | module | concept |
//! |---|---|
//! | [`manifest`] | the TOML description of a testnet and its fault schedule |
//! | [`layout`] | where a testnet's files and ports are (`testnet.json`) |
//! | [`genesis`] | keys (dealer beacon shares, wallets) and the genesis |
//! | [`process`] | the supervisor: spawn, pid files, signals, logs, teardown |
//! | [`net`] | up (prepare, start, wait ready), status, down |
//! | [`house`] | the house's crash and craps tables, opened once the chain finalizes |
//! | [`faults`] | kill, pause, restart, partition, by command or on a schedule |
//! | [`partition`] | cutting the testnet in two through the nodes' partition files, and healing it |
//! | [`check`] | agreement on blocks and state roots, supply conservation |
//! | [`twin`] | an equivocating twin: a second process with one validator's key |
//! | [`chaos`] | kill, pause, restart or partition nodes at random under load, checking after each fault |
//! | [`load`] | signed bets from many wallets at a rate, with latencies |
//! | [`bench`] | `bitcraps bench`: verification bound, throughput, latency, idle CPU, memory, disk |

pub mod bench;
pub mod chaos;
pub mod check;
pub mod faults;
pub mod genesis;
pub mod house;
pub mod layout;
pub mod load;
pub mod manifest;
pub mod net;
pub mod partition;
pub mod process;
pub mod twin;
