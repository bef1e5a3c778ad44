//! `node::fuzz::gossip_tx_batch` (see its documentation for what it checks).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| node::fuzz::gossip_tx_batch(data));
