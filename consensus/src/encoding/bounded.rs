//! Variable-length values whose maximum length is part of their type and is
//! checked on construction, on borsh decoding (before allocating) and on serde
//! deserialization.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use borsh::io::{Read, Write};
use borsh::{BorshDeserialize, BorshSerialize};

use super::invalid;

/// A value refused by a bounded type's constructor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundError {
    /// Too many elements (or bytes, for strings and byte strings).
    #[error("{len} is over the maximum length of {max}")]
    TooLong {
        /// The length offered.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A string holds a control character or a bidirectional-text control,
    /// which could hide or reorder what a person sees.
    #[error(
        "character U+{code:04X} at byte {at} is not allowed (control or bidirectional-text character)"
    )]
    ForbiddenChar {
        /// The character's code point.
        code: u32,
        /// Its byte offset.
        at: usize,
    },
    /// Text that should be hex is not.
    #[error("invalid hex: {reason}")]
    InvalidHex {
        /// What the hex decoder said.
        reason: String,
    },
}

/// Whether `c` may appear in a [`BoundedString`]: no Unicode control
/// characters (`Cc`: U+0000–U+001F, U+007F–U+009F) and no bidirectional-text
/// controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069).
pub(crate) fn char_allowed(c: char) -> bool {
    !(c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

/// Reads a borsh `u32` length and checks it against `max` before anything
/// is allocated.
fn read_len<R: Read>(reader: &mut R, max: usize, what: &str) -> borsh::io::Result<usize> {
    let len = u32::deserialize_reader(reader)?;
    let len = usize::try_from(len).map_err(|_| invalid(format!("{what} length overflows")))?;
    if len > max {
        return Err(invalid(format!(
            "{what} of length {len} is over its maximum of {max}"
        )));
    }
    Ok(len)
}

/// Writes a borsh `u32` length.
fn write_len<W: Write>(writer: &mut W, len: usize) -> borsh::io::Result<()> {
    let len = u32::try_from(len).map_err(|_| invalid("length does not fit in u32"))?;
    len.serialize(writer)
}

/// Reads exactly `len` bytes, `len` already checked against a small bound.
fn read_bytes<R: Read>(reader: &mut R, len: usize) -> borsh::io::Result<Vec<u8>> {
    let mut bytes = vec![0u8; len];
    reader.read_exact(&mut bytes)?;
    Ok(bytes)
}

// ---------------------------------------------------------------------------
// BoundedVec

/// A `Vec<T>` of at most `N` elements. Encoded exactly like a borsh `Vec<T>`
/// (`u32` count, then the elements); a count over `N` is a decode error
/// found before any element is read.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BoundedVec<T, const N: usize>(Vec<T>);

impl<T, const N: usize> BoundedVec<T, N> {
    /// The most elements this type holds.
    pub const MAX: usize = {
        assert!(N <= u32::MAX as usize, "borsh lengths are u32");
        N
    };

    /// Wraps `items`, refusing more than `N` of them.
    pub fn new(items: Vec<T>) -> Result<Self, BoundError> {
        if items.len() > Self::MAX {
            return Err(BoundError::TooLong {
                len: items.len(),
                max: Self::MAX,
            });
        }
        Ok(BoundedVec(items))
    }

    /// No elements.
    pub const fn empty() -> Self {
        BoundedVec(Vec::new())
    }

    /// Appends `item`, or gives it back if the vector is full.
    pub fn try_push(&mut self, item: T) -> Result<(), T> {
        if self.0.len() >= Self::MAX {
            return Err(item);
        }
        self.0.push(item);
        Ok(())
    }

    /// The elements.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// The elements, by value.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T, const N: usize> Default for BoundedVec<T, N> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<T, const N: usize> Deref for BoundedVec<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a BoundedVec<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T, const N: usize> TryFrom<Vec<T>> for BoundedVec<T, N> {
    type Error = BoundError;

    fn try_from(items: Vec<T>) -> Result<Self, BoundError> {
        Self::new(items)
    }
}

impl<T, const N: usize> From<BoundedVec<T, N>> for Vec<T> {
    fn from(items: BoundedVec<T, N>) -> Vec<T> {
        items.0
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for BoundedVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: BorshSerialize, const N: usize> BorshSerialize for BoundedVec<T, N> {
    fn serialize<W: Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        write_len(writer, self.0.len())?;
        for item in &self.0 {
            item.serialize(writer)?;
        }
        Ok(())
    }
}

impl<T: BorshDeserialize, const N: usize> BorshDeserialize for BoundedVec<T, N> {
    fn deserialize_reader<R: Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let len = read_len(reader, Self::MAX, "list")?;
        // Never trust a length for an allocation: grow as elements arrive.
        let mut items = Vec::with_capacity(len.min(64));
        for _ in 0..len {
            items.push(T::deserialize_reader(reader)?);
        }
        Ok(BoundedVec(items))
    }
}

impl<T: serde::Serialize, const N: usize> serde::Serialize for BoundedVec<T, N> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: serde::Deserialize<'de>, const N: usize> serde::Deserialize<'de> for BoundedVec<T, N> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let items = Vec::<T>::deserialize(deserializer)?;
        Self::new(items).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// BoundedBytes

/// A byte string of at most `N` bytes (for opaque keys and signatures of
/// other schemes). Borsh: `u32` length then the bytes; text and serde:
/// lower-case hex.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct BoundedBytes<const N: usize>(Vec<u8>);

impl<const N: usize> BoundedBytes<N> {
    /// The most bytes this type holds.
    pub const MAX: usize = {
        assert!(N <= u32::MAX as usize, "borsh lengths are u32");
        N
    };

    /// Wraps `bytes`, refusing more than `N` of them.
    pub fn new(bytes: Vec<u8>) -> Result<Self, BoundError> {
        if bytes.len() > Self::MAX {
            return Err(BoundError::TooLong {
                len: bytes.len(),
                max: Self::MAX,
            });
        }
        Ok(BoundedBytes(bytes))
    }

    /// Copies `bytes`, refusing more than `N` of them.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BoundError> {
        if bytes.len() > Self::MAX {
            return Err(BoundError::TooLong {
                len: bytes.len(),
                max: Self::MAX,
            });
        }
        Ok(BoundedBytes(bytes.to_vec()))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, by value.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl<const N: usize> Deref for BoundedBytes<N> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> fmt::Display for BoundedBytes<N> {
    /// Lower-case hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl<const N: usize> fmt::Debug for BoundedBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{self}")
    }
}

impl<const N: usize> FromStr for BoundedBytes<N> {
    type Err = BoundError;

    /// Parses hex (either case), refusing more than `N` bytes before
    /// decoding.
    fn from_str(s: &str) -> Result<Self, BoundError> {
        if s.len() > 2 * Self::MAX {
            return Err(BoundError::TooLong {
                len: s.len().div_ceil(2),
                max: Self::MAX,
            });
        }
        let bytes = hex::decode(s).map_err(|e| BoundError::InvalidHex {
            reason: e.to_string(),
        })?;
        Self::new(bytes)
    }
}

impl<const N: usize> BorshSerialize for BoundedBytes<N> {
    fn serialize<W: Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        write_len(writer, self.0.len())?;
        writer.write_all(&self.0)
    }
}

impl<const N: usize> BorshDeserialize for BoundedBytes<N> {
    fn deserialize_reader<R: Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let len = read_len(reader, Self::MAX, "byte string")?;
        Ok(BoundedBytes(read_bytes(reader, len)?))
    }
}

impl<const N: usize> serde::Serialize for BoundedBytes<N> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de, const N: usize> serde::Deserialize<'de> for BoundedBytes<N> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// BoundedString

/// UTF-8 text of at most `N` bytes with no control characters and no
/// bidirectional-text controls (see [`BoundError::ForbiddenChar`]): names,
/// network addresses and reasons that people read. Borsh: `u32` byte length
/// then the UTF-8 bytes; serde: a string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct BoundedString<const N: usize>(String);

impl<const N: usize> BoundedString<N> {
    /// The most bytes (of UTF-8) this type holds.
    pub const MAX: usize = {
        assert!(N <= u32::MAX as usize, "borsh lengths are u32");
        N
    };

    /// Wraps `text`, refusing more than `N` bytes or a forbidden character.
    pub fn new(text: impl Into<String>) -> Result<Self, BoundError> {
        let text = text.into();
        Self::check(&text)?;
        Ok(BoundedString(text))
    }

    /// `text` made acceptable: every forbidden character replaced by a
    /// space, then cut at a character boundary to at most `N` bytes, with
    /// `…` at the end if anything was cut (and `N` leaves room for it). For
    /// carrying messages from elsewhere, such as a game-rules error.
    pub fn lossy(text: &str) -> Self {
        let cleaned: String = text
            .chars()
            .map(|c| if char_allowed(c) { c } else { ' ' })
            .collect();
        if cleaned.len() <= Self::MAX {
            return BoundedString(cleaned);
        }
        let ellipsis = '…';
        let budget = if Self::MAX >= ellipsis.len_utf8() {
            Self::MAX - ellipsis.len_utf8()
        } else {
            Self::MAX
        };
        let mut cut = budget;
        while !cleaned.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut out = cleaned[..cut].to_string();
        if Self::MAX >= ellipsis.len_utf8() {
            out.push(ellipsis);
        }
        BoundedString(out)
    }

    fn check(text: &str) -> Result<(), BoundError> {
        if text.len() > Self::MAX {
            return Err(BoundError::TooLong {
                len: text.len(),
                max: Self::MAX,
            });
        }
        if let Some((at, c)) = text.char_indices().find(|&(_, c)| !char_allowed(c)) {
            return Err(BoundError::ForbiddenChar {
                code: u32::from(c),
                at,
            });
        }
        Ok(())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, by value.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const N: usize> Deref for BoundedString<N> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const N: usize> fmt::Display for BoundedString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const N: usize> fmt::Debug for BoundedString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<const N: usize> FromStr for BoundedString<N> {
    type Err = BoundError;

    fn from_str(s: &str) -> Result<Self, BoundError> {
        Self::new(s)
    }
}

impl<const N: usize> TryFrom<&str> for BoundedString<N> {
    type Error = BoundError;

    fn try_from(s: &str) -> Result<Self, BoundError> {
        Self::new(s)
    }
}

impl<const N: usize> BorshSerialize for BoundedString<N> {
    fn serialize<W: Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        write_len(writer, self.0.len())?;
        writer.write_all(self.0.as_bytes())
    }
}

impl<const N: usize> BorshDeserialize for BoundedString<N> {
    fn deserialize_reader<R: Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let len = read_len(reader, Self::MAX, "string")?;
        let bytes = read_bytes(reader, len)?;
        let text = String::from_utf8(bytes).map_err(|_| invalid("string is not UTF-8"))?;
        Self::check(&text).map_err(|e| invalid(e.to_string()))?;
        Ok(BoundedString(text))
    }
}

impl<const N: usize> serde::Serialize for BoundedString<N> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de, const N: usize> serde::Deserialize<'de> for BoundedString<N> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        Self::new(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::{DecodeError, decode, encode};
    use proptest::prelude::*;

    #[test]
    fn bounded_vec_refuses_long_counts_before_reading_elements() {
        let ok = BoundedVec::<u16, 3>::new(vec![1, 2, 3]).unwrap();
        assert_eq!(encode(&ok), [3, 0, 0, 0, 1, 0, 2, 0, 3, 0]);
        assert_eq!(encode(&ok), encode(&vec![1u16, 2, 3]));
        assert_eq!(decode::<BoundedVec<u16, 3>>("v", &encode(&ok), 100), Ok(ok));
        assert!(BoundedVec::<u16, 3>::new(vec![0; 4]).is_err());
        // A count of 4 billion with no elements behind it: refused at once.
        let err = decode::<BoundedVec<u16, 3>>("v", &[0xff, 0xff, 0xff, 0xff], 100).unwrap_err();
        assert!(
            matches!(&err, DecodeError::Malformed { reason, .. } if reason.contains("maximum")),
            "{err}"
        );
        let mut full = BoundedVec::<u8, 1>::empty();
        assert_eq!(full.try_push(1), Ok(()));
        assert_eq!(full.try_push(2), Err(2));
    }

    #[test]
    fn bounded_bytes_hex_and_limits() {
        let bytes = BoundedBytes::<4>::from_slice(&[0xde, 0xad]).unwrap();
        assert_eq!(bytes.to_string(), "dead");
        assert_eq!("DEAD".parse::<BoundedBytes<4>>(), Ok(bytes.clone()));
        assert!("0011223344".parse::<BoundedBytes<4>>().is_err());
        assert!("zz".parse::<BoundedBytes<4>>().is_err());
        assert_eq!(encode(&bytes), [2, 0, 0, 0, 0xde, 0xad]);
        assert!(decode::<BoundedBytes<4>>("b", &[5, 0, 0, 0, 1, 2, 3, 4, 5], 100).is_err());
        let json = serde_json::to_string(&bytes).unwrap();
        assert_eq!(json, "\"dead\"");
        assert_eq!(
            serde_json::from_str::<BoundedBytes<4>>(&json).unwrap(),
            bytes
        );
        assert!(serde_json::from_str::<BoundedBytes<1>>(&json).is_err());
    }

    #[test]
    fn bounded_string_refuses_controls_bidi_and_length() {
        assert!(BoundedString::<8>::new("lucky 7").is_ok());
        assert!(BoundedString::<8>::new("héllo").is_ok());
        assert_eq!(
            BoundedString::<8>::new("a\nb"),
            Err(BoundError::ForbiddenChar { code: 0x0a, at: 1 })
        );
        assert!(BoundedString::<8>::new("\u{202E}abc").is_err());
        assert!(BoundedString::<8>::new("\u{7f}").is_err());
        assert!(BoundedString::<8>::new("\u{85}").is_err());
        assert_eq!(
            BoundedString::<4>::new("abcde"),
            Err(BoundError::TooLong { len: 5, max: 4 })
        );
        // Decoding applies the same rules.
        assert!(decode::<BoundedString<8>>("s", &[1, 0, 0, 0, b'\n'], 100).is_err());
        assert!(decode::<BoundedString<8>>("s", &[1, 0, 0, 0, 0xff], 100).is_err());
        assert!(decode::<BoundedString<2>>("s", &[3, 0, 0, 0, b'a', b'b', b'c'], 100).is_err());
        assert!(serde_json::from_str::<BoundedString<8>>("\"a\\u0000\"").is_err());
    }

    #[test]
    fn lossy_cleans_and_cuts_on_a_char_boundary() {
        assert_eq!(BoundedString::<16>::lossy("a\nb").as_str(), "a b");
        let cut = BoundedString::<8>::lossy("éééééééé");
        assert!(cut.len() <= 8);
        assert!(cut.ends_with('…'));
        assert_eq!(cut.as_str(), "éé…");
        assert_eq!(BoundedString::<2>::lossy("abc").as_str(), "ab");
    }

    proptest! {
        #[test]
        fn lossy_always_gives_a_valid_string(text in ".{0,80}") {
            let s = BoundedString::<24>::lossy(&text);
            prop_assert!(BoundedString::<24>::new(s.as_str()).is_ok());
            let bytes = encode(&s);
            prop_assert_eq!(decode::<BoundedString<24>>("s", &bytes, 100), Ok(s));
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode::<BoundedString<16>>("s", &bytes, 64);
            let _ = decode::<BoundedBytes<16>>("b", &bytes, 64);
            let _ = decode::<BoundedVec<u32, 8>>("v", &bytes, 64);
        }
    }
}
