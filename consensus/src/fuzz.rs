//! Entry points for fuzzing the decoders of outside input.
//!
//! Each function takes arbitrary bytes, runs the decoder a node runs on input
//! from the network or a file, and then exercises what a node does with a
//! decoded value. They are pure (no I/O, no clock, no randomness) so a
//! `cargo fuzz` target is one line:
//!
//! ```ignore
//! fuzz_target!(|data: &[u8]| consensus::fuzz::transaction(data));
//! ```
//!
//! The decoders never panic. These functions panic **only** when an invariant
//! is broken — a decoded value that does not re-encode to exactly its input,
//! or a genesis whose JSON or borsh form does not read back as itself — which
//! would be a bug for the fuzzer to report.

use crate::block::Block;
use crate::genesis::Genesis;
use crate::receipt::Receipt;
use crate::tx::SignedTransaction;

/// [`SignedTransaction::decode`], then the canonical round trip, the hash and
/// every stateless check.
pub fn transaction(data: &[u8]) {
    if let Ok(tx) = SignedTransaction::decode(data) {
        assert_eq!(
            tx.encode(),
            data,
            "a decoded transaction re-encodes differently"
        );
        let _ = tx.hash();
        let _ = tx.check(&tx.tx.chain_id);
    }
}

/// [`Block::decode`], then the canonical round trip, the hash and the
/// well-formedness checks.
pub fn block(data: &[u8]) {
    if let Ok(block) = Block::decode(data) {
        assert_eq!(
            block.encode(),
            data,
            "a decoded block re-encodes differently"
        );
        let _ = block.hash();
        let _ = block.check_well_formed(&block.header.chain_id);
    }
}

/// [`Genesis::from_json_bytes`], then the JSON and borsh round trips and the
/// chain id.
pub fn genesis_json(data: &[u8]) {
    if let Ok(genesis) = Genesis::from_json_bytes(data) {
        let json = genesis.to_json();
        assert_eq!(
            Genesis::from_json_bytes(json.as_bytes()).as_ref(),
            Ok(&genesis),
            "a genesis does not read back from its own JSON"
        );
        assert_eq!(
            Genesis::decode(&genesis.encode()).as_ref(),
            Ok(&genesis),
            "a genesis does not read back from its own encoding"
        );
        let _ = genesis.chain_id();
    }
}

/// [`Receipt::decode`], then the canonical round trip.
pub fn receipt(data: &[u8]) {
    if let Ok(receipt) = Receipt::decode(data) {
        assert_eq!(
            receipt.encode(),
            data,
            "a decoded receipt re-encodes differently"
        );
        let _ = receipt.hash();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_entry_points_hold_on_random_input(data in prop::collection::vec(any::<u8>(), 0..1024)) {
            transaction(&data);
            block(&data);
            genesis_json(&data);
            receipt(&data);
        }

        #[test]
        fn fuzz_entry_points_hold_on_mutated_valid_input(
            t in crate::tx::tests::strategies::signed_transaction(),
            at in any::<prop::sample::Index>(),
            value in any::<u8>(),
        ) {
            let mut data = t.encode();
            transaction(&data);
            let i = at.index(data.len());
            data[i] = value;
            transaction(&data);
        }
    }
}
