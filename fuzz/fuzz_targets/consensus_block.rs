//! `consensus::fuzz::block` (see its documentation for what it checks).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| consensus::fuzz::block(data));
