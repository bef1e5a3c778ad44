//! # BitCraps consensus
//!
//! Will own everything every honest node must agree on: transaction and block
//! types and their canonical encoding, the ledger state machine (accounts,
//! bankroll, staking, tables, rounds), the threshold randomness beacon, the BFT
//! engine binding, and persistent storage in RocksDB.
//!
//! It must not read the wall clock, iterate a hash map into a decision, or hold
//! networking code: given the same finalized blocks, every node computes the same
//! state root. Game outcomes come from `bitcraps-game-rules`, never from here.

pub mod block;
pub mod encoding;
pub mod fuzz;
pub mod genesis;
pub mod hash;
pub mod merkle;
pub mod receipt;
pub mod storage;
pub mod tx;
