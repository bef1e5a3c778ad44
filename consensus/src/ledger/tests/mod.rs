//! Ledger tests: whole rounds through blocks, rejections, determinism,
//! persistence, bankroll, staking, slashing, headers.

pub(crate) mod support;

mod bankroll_tests;
mod block_tests;
mod craps_tests;
mod crash_tests;
mod property_tests;
pub(crate) mod reshare_tests;
mod span_tests;
mod staking_tests;
