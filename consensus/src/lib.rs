//! # BitCraps consensus
//!
//! Owns everything every honest node must agree on: transaction and block
//! types and their canonical encoding, the ledger state machine (accounts,
//! bankroll, staking, tables, rounds), the threshold randomness beacon, the BFT
//! engine binding, and persistent storage in RocksDB.
//!
//! It must not read the wall clock, iterate a hash map into a decision, or hold
//! networking code: given the same finalized blocks, every node computes the same
//! state root. Time enters only as block timestamps, which the engine binding
//! takes from the consensus runtime's clock when proposing (simulated time in
//! tests) and validators check; the ledger never reads a clock. The engine is
//! generic over its network channels, which the node supplies. Game outcomes come
//! from `bitcraps-game-rules`, never from here.
//!
//! | module | concept |
//! |---|---|
//! | [`encoding`] | the canonical borsh encoding, bounded decoding |
//! | [`hash`] | hashes, hashing domains, list roots and proofs |
//! | [`tx`] | transactions, actions, slashing evidence |
//! | [`block`] | blocks, headers, beacon entries, stateless checks |
//! | [`genesis`] | the genesis document, parameters, the chain id |
//! | [`receipt`] | receipts, refusal reasons, ledger events |
//! | [`ledger`] | the ledger state machine: accounts, bankroll, staking, tables, craps and crash rounds, pending randomness, invariants |
//! | [`merkle`] | the state tree: state root and proofs |
//! | [`storage`] | RocksDB: atomic block commits and the explorer's indexes |
//! | [`beacon`] | the threshold randomness beacon |
//! | [`engine`] | the BFT engine binding |
//! | [`validator`] | the validator application: speculative execution on the ledger, the post-finality beacon shares |
//! | [`fuzz`] | fuzzing entry points for the decoders |

pub mod beacon;
pub mod block;
pub mod encoding;
pub mod engine;
pub mod fuzz;
pub mod genesis;
pub mod hash;
pub mod ledger;
pub mod merkle;
pub mod receipt;
pub mod storage;
pub mod tx;
pub mod validator;
