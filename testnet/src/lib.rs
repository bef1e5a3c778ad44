//! # BitCraps local testnet
//!
//! Will own the one-command local testnet: keys and a genesis, a bootstrap peer,
//! N validators and M player nodes as real processes on loopback, load
//! generation, fault injection (kill, pause, partition), checks and teardown.
//!
//! It must only drive real binaries through their public interfaces (CLI, API,
//! signals); it must not reach into a node's state or replace any part with a mock.
