//! Addresses: who owns an account, in a form people can copy without
//! mistakes.
//!
//! An address is the first 20 bytes of `blake3("bitcraps/v1/address" ‖ pk)`,
//! where `pk` is the 32-byte ed25519 public key, written as bech32m
//! (BIP-350) with the human-readable part `craps` and no witness version:
//! `craps1` followed by 32 data characters and a 6-character checksum, 44
//! characters in all, always lower case when written.
//!
//! Parsing is strict: a wrong prefix, mixed case, a bad checksum, a bech32
//! (BIP-173) checksum instead of bech32m, or a payload that is not 20 bytes
//! are each a distinct [`AddressError`]. An all-upper-case address (as
//! BIP-350 allows, e.g. from a QR code) is accepted and means the same
//! address.

use std::fmt;
use std::str::FromStr;

use bech32::primitives::decode::{CharError, UncheckedHrpstring, UncheckedHrpstringError};
use bech32::{Bech32, Bech32m, Hrp};

use crate::error::AddressError;
use crate::keys::PublicKey;

/// The human-readable part of every BitCraps address.
pub const ADDRESS_HRP: &str = "craps";

/// The domain string hashed in front of the public key.
pub const ADDRESS_DOMAIN: &[u8] = b"bitcraps/v1/address";

/// Length in characters of an address written as text.
pub const ADDRESS_STRING_LENGTH: usize = 44;

const HRP: Hrp = Hrp::parse_unchecked(ADDRESS_HRP);

/// The longest string bech32 defines (BIP-173); anything longer is refused
/// before decoding.
const MAX_BECH32_LENGTH: usize = 90;

/// A BitCraps address: a 20-byte hash of an ed25519 public key.
///
/// `Display` writes the bech32m form (`craps1…`) and `FromStr` parses it
/// strictly; the two round-trip. Serde uses the same text form.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct Address([u8; Address::LENGTH]);

impl Address {
    /// Length of the address payload in bytes.
    pub const LENGTH: usize = 20;

    /// The address of a public key: `blake3("bitcraps/v1/address" ‖ pk)[..20]`.
    pub fn from_public_key(public_key: &PublicKey) -> Address {
        let mut hasher = blake3::Hasher::new();
        hasher.update(ADDRESS_DOMAIN);
        hasher.update(public_key.as_bytes());
        let digest = hasher.finalize();
        let mut bytes = [0u8; Address::LENGTH];
        bytes.copy_from_slice(&digest.as_bytes()[..Address::LENGTH]);
        Address(bytes)
    }

    /// An address from its raw 20 bytes (for example as stored by the
    /// ledger). Any 20 bytes are an address; whether a key for it exists is
    /// not knowable.
    pub const fn from_bytes(bytes: [u8; Address::LENGTH]) -> Address {
        Address(bytes)
    }

    /// The raw 20 bytes.
    pub const fn as_bytes(&self) -> &[u8; Address::LENGTH] {
        &self.0
    }

    /// The raw 20 bytes, by value.
    pub const fn to_bytes(self) -> [u8; Address::LENGTH] {
        self.0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Cannot fail: the string is 44 characters, far below bech32's limit.
        bech32::encode_lower_to_fmt::<Bech32m, _>(f, HRP, &self.0).map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Address, AddressError> {
        if s.len() > MAX_BECH32_LENGTH {
            return Err(AddressError::TooLong {
                length: s.chars().count(),
                max: MAX_BECH32_LENGTH,
            });
        }
        let has_lower = s.bytes().any(|b| b.is_ascii_lowercase());
        let has_upper = s.bytes().any(|b| b.is_ascii_uppercase());
        if has_lower && has_upper {
            return Err(AddressError::MixedCase);
        }
        let unchecked = UncheckedHrpstring::new(s).map_err(|e| match e {
            UncheckedHrpstringError::Char(CharError::MixedCase) => AddressError::MixedCase,
            other => AddressError::NotBech32 {
                reason: other.to_string(),
            },
        })?;
        let hrp = unchecked.hrp().to_lowercase();
        if hrp != ADDRESS_HRP {
            return Err(AddressError::WrongHrp {
                found: hrp,
                expected: ADDRESS_HRP,
            });
        }
        if !unchecked.has_valid_checksum::<Bech32m>() {
            return Err(if unchecked.has_valid_checksum::<Bech32>() {
                AddressError::Bech32NotBech32m
            } else {
                AddressError::InvalidChecksum
            });
        }
        let checked = unchecked.remove_checksum::<Bech32m>();
        let data_chars = checked.data_part_ascii_no_checksum().len();
        // 20 bytes are exactly 32 five-bit characters, with no padding bits.
        if data_chars * 5 != Address::LENGTH * 8 {
            return Err(AddressError::WrongPayloadLength {
                found: data_chars * 5,
                expected: Address::LENGTH * 8,
            });
        }
        let mut bytes = [0u8; Address::LENGTH];
        for (slot, byte) in bytes.iter_mut().zip(checked.byte_iter()) {
            *slot = byte;
        }
        Ok(Address(bytes))
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Address, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keypair;
    use proptest::prelude::*;

    fn sample() -> Address {
        Keypair::from_secret_bytes(&[7u8; 32]).address()
    }

    #[test]
    fn text_form_is_44_lowercase_characters_with_the_craps_prefix() {
        let text = sample().to_string();
        assert_eq!(text.len(), ADDRESS_STRING_LENGTH);
        assert!(text.starts_with("craps1"));
        assert_eq!(text, text.to_lowercase());
    }

    #[test]
    fn all_upper_case_is_the_same_address() {
        let address = sample();
        let upper = address.to_string().to_uppercase();
        assert_eq!(upper.parse::<Address>(), Ok(address));
    }

    #[test]
    fn mixed_case_is_refused() {
        let text = sample().to_string();
        let mixed = format!("C{}", &text[1..]);
        assert_eq!(mixed.parse::<Address>(), Err(AddressError::MixedCase));
    }

    #[test]
    fn wrong_hrp_is_refused() {
        let text = bech32::encode::<Bech32m>(Hrp::parse("dice").unwrap(), &[1u8; 20]).unwrap();
        assert_eq!(
            text.parse::<Address>(),
            Err(AddressError::WrongHrp {
                found: "dice".into(),
                expected: ADDRESS_HRP
            })
        );
    }

    #[test]
    fn bech32_checksum_is_refused_as_the_wrong_variant() {
        let text = bech32::encode::<Bech32>(HRP, &[1u8; 20]).unwrap();
        assert_eq!(text.parse::<Address>(), Err(AddressError::Bech32NotBech32m));
    }

    #[test]
    fn wrong_payload_lengths_are_refused() {
        for len in [0usize, 19, 21, 32] {
            let text = bech32::encode::<Bech32m>(HRP, &vec![3u8; len]).unwrap();
            assert!(
                matches!(
                    text.parse::<Address>(),
                    Err(AddressError::WrongPayloadLength { expected: 160, .. })
                ),
                "{len} bytes: {text}"
            );
        }
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let long = "q".repeat(91);
        for text in [
            "",
            "craps",
            "craps1",
            "1qqqq",
            "craps1b",
            "crapsqqqq",
            &long,
        ] {
            assert!(text.parse::<Address>().is_err(), "{text:?}");
        }
        assert!(matches!(
            long.parse::<Address>(),
            Err(AddressError::TooLong { .. })
        ));
    }

    #[test]
    fn serde_uses_the_text_form() {
        let address = sample();
        let json = serde_json::to_string(&address).unwrap();
        assert_eq!(json, format!("\"{address}\""));
        assert_eq!(serde_json::from_str::<Address>(&json).unwrap(), address);
        assert!(serde_json::from_str::<Address>("\"craps1qqqq\"").is_err());
    }

    proptest! {
        #[test]
        fn text_round_trips(bytes in any::<[u8; 20]>()) {
            let address = Address::from_bytes(bytes);
            let text = address.to_string();
            prop_assert_eq!(text.len(), ADDRESS_STRING_LENGTH);
            prop_assert_eq!(text.parse::<Address>(), Ok(address));
        }

        #[test]
        fn any_single_character_change_is_refused(
            bytes in any::<[u8; 20]>(),
            position in 0usize..ADDRESS_STRING_LENGTH,
            replacement in proptest::char::range('!', '~'),
        ) {
            let text = Address::from_bytes(bytes).to_string();
            let original = text.as_bytes()[position] as char;
            prop_assume!(replacement != original);
            let mut mutated = text.clone();
            mutated.replace_range(position..=position, &replacement.to_string());
            prop_assert!(mutated.parse::<Address>().is_err(), "{} accepted", mutated);
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(text in "\\PC{0,120}") {
            let _ = text.parse::<Address>();
        }
    }
}
