//! # Canonical encoding
//!
//! Everything every node must agree on byte for byte — transactions, blocks,
//! receipts, the genesis behind the chain id — is encoded with
//! [borsh](https://borsh.io) 1.x, and only with it:
//!
//! - integers are little-endian and fixed width (`u8`, `u16`, `u32`, `u64`,
//!   `u128`); `bool` is one byte, `0` or `1`;
//! - a struct is its fields in declaration order, with no framing;
//! - an enum is a one-byte tag — the variant's position in declaration order,
//!   from 0 — followed by the variant's fields; `Option` is tag `0` (none) or
//!   `1` then the value;
//! - a sequence or a string is a `u32` length (elements, or bytes for strings
//!   and byte strings) followed by its elements; fixed-size arrays (hashes,
//!   keys, signatures) have no length.
//!
//! Field order and variant order are therefore part of the protocol: **never
//! reorder, remove or insert in the middle; only append new enum variants at
//! the end**, and pin every change with the golden vectors in the tests.
//!
//! ## Decoding rules
//!
//! [`decode`] is the only way bytes from outside become a value. It
//!
//! 1. refuses input longer than the caller's limit **before** looking at it
//!    ([`DecodeError::TooLarge`]);
//! 2. decodes with `borsh::from_slice`, which refuses trailing bytes;
//! 3. re-encodes the value and refuses it unless that gives back exactly the
//!    input ([`DecodeError::NonCanonical`]) — so every value has exactly one
//!    accepted encoding, and hashes of encodings identify values;
//! 4. never panics, whatever the input: every failure is a [`DecodeError`].
//!
//! Types that borsh cannot see into are decoded through validating readers
//! (module `codec`): a public key must be a valid, canonical, non-small-order
//! ed25519 point; a craps box number must be 4, 5, 6, 8, 9 or 10; a hop's
//! faces are 1 to 6, lower first; a multiplier is 1.00× to 1,000,000×; dice
//! show 1 to 6. Each is a decode error otherwise.
//!
//! ## Bounds
//!
//! Every variable-length field is a [`BoundedVec`], [`BoundedBytes`] or
//! [`BoundedString`] whose maximum is part of its type and is checked while
//! decoding, before anything is allocated for it. Whole messages are bounded
//! by the `MAX_*_BYTES` constants of their modules, which `decode` applies
//! first:
//!
//! | what | limit |
//! |---|---|
//! | signed transaction | [`MAX_TX_BYTES`](crate::tx::MAX_TX_BYTES) = 52 KiB (the largest possible is 53,157 bytes, a dealer log; every other kind is under 2 KiB) |
//! | block | [`MAX_BLOCK_BYTES`](crate::block::MAX_BLOCK_BYTES) = 16 MiB; [`MAX_TXS_PER_BLOCK`](crate::block::MAX_TXS_PER_BLOCK) = 4096 transactions of at most [`MAX_BLOCK_TX_BYTES`](crate::block::MAX_BLOCK_TX_BYTES) together, [`MAX_BEACON_ENTRIES_PER_BLOCK`](crate::block::MAX_BEACON_ENTRIES_PER_BLOCK) = 256 beacon entries of at most 192-byte signatures |
//! | receipt | [`MAX_RECEIPT_BYTES`](crate::receipt::MAX_RECEIPT_BYTES) = 4 MiB, [`MAX_EVENTS_PER_RECEIPT`](crate::receipt::MAX_EVENTS_PER_RECEIPT) = 16,384 events |
//! | genesis | [`MAX_GENESIS_JSON_BYTES`](crate::genesis::MAX_GENESIS_JSON_BYTES) = 16 MiB of JSON, [`MAX_GENESIS_BYTES`](crate::genesis::MAX_GENESIS_BYTES) = 16 MiB of borsh; 100,000 accounts, 256 validators |
//! | text | table name 32 bytes, network address 128, chain name 64, reason 256 |
//! | opaque bytes | dealer log ≤ 52,992 ([`MAX_DEALER_LOG_BYTES`](crate::tx::MAX_DEALER_LOG_BYTES)), equivocation votes ≤ 326, beacon signature ≤ 192 |

mod bounded;
pub(crate) mod codec;

pub use bounded::{BoundError, BoundedBytes, BoundedString, BoundedVec};

use borsh::{BorshDeserialize, BorshSerialize};

/// Why bytes were refused by [`decode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input is longer than the limit for its kind of message; it was not
    /// looked at.
    #[error("{what} is {len} bytes, over the limit of {max} bytes: refused before decoding")]
    TooLarge {
        /// The kind of message.
        what: &'static str,
        /// The input's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input is not an encoding of the expected kind of message (too
    /// short, trailing bytes, an unknown enum tag, an invalid key, a length
    /// over its bound, …).
    #[error("{what} is malformed: {reason}")]
    Malformed {
        /// The kind of message.
        what: &'static str,
        /// What was wrong, from the decoder.
        reason: String,
    },
    /// The input decodes, but is not the one canonical encoding of what it
    /// decodes to.
    #[error("{what} is not canonically encoded: re-encoding it gives different bytes")]
    NonCanonical {
        /// The kind of message.
        what: &'static str,
    },
}

/// The canonical encoding of `value`.
///
/// Writing to memory cannot fail, and every collection in a consensus type is
/// bounded far below borsh's `u32` length limit, so this never fails.
pub fn encode<T: BorshSerialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value
        .serialize(&mut out)
        .expect("borsh encoding into a Vec cannot fail for bounded consensus types");
    out
}

/// Decodes `bytes` as a `T` under the rules of the [module](self): at most
/// `max_len` bytes, no trailing bytes, canonical. `what` names the kind of
/// message in errors (for example `"transaction"`).
pub fn decode<T: BorshDeserialize + BorshSerialize>(
    what: &'static str,
    bytes: &[u8],
    max_len: usize,
) -> Result<T, DecodeError> {
    if bytes.len() > max_len {
        return Err(DecodeError::TooLarge {
            what,
            len: bytes.len(),
            max: max_len,
        });
    }
    let value: T = borsh::from_slice(bytes).map_err(|e| DecodeError::Malformed {
        what,
        reason: e.to_string(),
    })?;
    if encode(&value) != bytes {
        return Err(DecodeError::NonCanonical { what });
    }
    Ok(value)
}

/// An `io::Error` of kind `InvalidData` for a validating reader.
pub(crate) fn invalid(message: impl Into<String>) -> borsh::io::Error {
    borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, BorshSerialize, BorshDeserialize)]
    struct Sample {
        a: u32,
        b: Option<u8>,
        flag: bool,
    }

    #[test]
    fn round_trip_and_layout() {
        let value = Sample {
            a: 0x0102_0304,
            b: Some(9),
            flag: true,
        };
        let bytes = encode(&value);
        assert_eq!(bytes, [4, 3, 2, 1, 1, 9, 1]);
        assert_eq!(decode::<Sample>("sample", &bytes, 7), Ok(value));
    }

    #[test]
    fn oversized_input_is_refused_before_decoding() {
        assert_eq!(
            decode::<Sample>("sample", &[0; 8], 7),
            Err(DecodeError::TooLarge {
                what: "sample",
                len: 8,
                max: 7
            })
        );
    }

    #[test]
    fn trailing_bytes_bad_bools_and_bad_option_tags_are_refused() {
        assert!(matches!(
            decode::<Sample>("sample", &[4, 3, 2, 1, 0, 1, 0], 100),
            Err(DecodeError::Malformed { .. })
        ));
        assert!(matches!(
            decode::<Sample>("sample", &[4, 3, 2, 1, 0, 2], 100),
            Err(DecodeError::Malformed { .. })
        ));
        assert!(matches!(
            decode::<Sample>("sample", &[4, 3, 2, 1, 2, 0, 0], 100),
            Err(DecodeError::Malformed { .. })
        ));
        assert!(matches!(
            decode::<Sample>("sample", &[], 100),
            Err(DecodeError::Malformed { .. })
        ));
    }

    /// A type whose reader accepts two encodings of one value: `decode`
    /// must refuse the one that does not re-encode to itself.
    #[derive(Debug, PartialEq)]
    struct Loose(bool);

    impl BorshSerialize for Loose {
        fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
            u8::from(self.0).serialize(writer)
        }
    }

    impl BorshDeserialize for Loose {
        fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
            Ok(Loose(u8::deserialize_reader(reader)? != 0))
        }
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        assert_eq!(decode::<Loose>("loose", &[1], 1), Ok(Loose(true)));
        assert_eq!(
            decode::<Loose>("loose", &[2], 1),
            Err(DecodeError::NonCanonical { what: "loose" })
        );
    }
}
