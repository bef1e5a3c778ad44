//! Borsh readers and writers (and serde text forms) for types of other crates,
//! used through `#[borsh(serialize_with = "…::write", deserialize_with =
//! "…::read")]` and `#[serde(with = "…")]` on fields.
//!
//! Every reader validates: what it returns satisfies the foreign type's
//! invariants, and anything else is an `InvalidData` error. The byte layouts
//! are defined here, not by the other crates' declaration order, so
//! reordering an enum there cannot change the protocol.
//!
//! The wallet's `PublicKey` (32 bytes, decoding validates the point),
//! `Signature` (64 bytes), `Address` (20 bytes) and `ChainId` (32 bytes), and
//! game-rules' `Chips` (`u64`), implement borsh themselves with those layouts,
//! so fields of those types need no attribute.
//!
//! | type | borsh layout |
//! |---|---|
//! | `BetKind` | tag `u8` (table in [`bet_kind`]) then for place/buy/lay/hard the number's total (`u8`), for hop the two faces (`u8`, lower first) |
//! | `OddsLimit` | tag `0` 3-4-5×, tag `1` flat then the multiple `u32` |
//! | `Working` | `0` table default, `1` on, `2` off |
//! | `Multiplier` | its Q32.32 bits, `u64`, in `2^32 ..= 10^6·2^32` |
//! | `Roll` | two `u8` faces, 1 to 6, first die first |
//! | `u128` (serde only) | a decimal string |

use borsh::io::{Read, Result, Write};
use borsh::{BorshDeserialize, BorshSerialize};

use super::invalid;

/// `u128` amounts (bankroll shares) in serde as a decimal string, since JSON
/// numbers past 2^53 lose precision in many readers (and `serde_json::Value`
/// holds none past 2^64). Only plain digits, no leading zeros.
pub(crate) mod u128_text {
    pub(crate) fn serialize<S: serde::Serializer>(
        value: &u128,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<u128, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        let plain = !text.is_empty()
            && text.len() <= 39
            && text.bytes().all(|b| b.is_ascii_digit())
            && (text.len() == 1 || !text.starts_with('0'));
        if !plain {
            return Err(serde::de::Error::custom(format!(
                "{text:?} is not a decimal number of shares"
            )));
        }
        text.parse()
            .map_err(|_| serde::de::Error::custom(format!("{text:?} does not fit in 128 bits")))
    }
}

/// `game_rules::craps::BetKind`.
///
/// | tag | bet | then |
/// |---|---|---|
/// | 0 | pass | |
/// | 1 | don't pass | |
/// | 2 | come | |
/// | 3 | don't come | |
/// | 4 | place | number (4, 5, 6, 8, 9, 10) |
/// | 5 | buy | number |
/// | 6 | lay | number |
/// | 7 | field | |
/// | 8 | hardway | number (4, 6, 8, 10) |
/// | 9 | any 7 | |
/// | 10 | any craps | |
/// | 11 | 2 | |
/// | 12 | 3 | |
/// | 13 | 11 | |
/// | 14 | 12 | |
/// | 15 | horn | |
/// | 16 | C&E | |
/// | 17 | hop | low face, high face (1 to 6, low ≤ high) |
/// | 18 | big 6 | |
/// | 19 | big 8 | |
///
/// Text (serde, CLI): `pass`, `dont-pass`, `come`, `dont-come`, `place-6`,
/// `buy-4`, `lay-10`, `field`, `hard-8`, `any-seven`, `any-craps`, `two`,
/// `three`, `eleven`, `twelve`, `horn`, `craps-eleven`, `hop-2-3`, `big-6`,
/// `big-8`.
pub(crate) mod bet_kind {
    use super::*;
    use game_rules::craps::{BetKind, HardNumber, Hop, PointNumber};

    pub(crate) fn write<W: Write>(kind: &BetKind, writer: &mut W) -> Result<()> {
        let bytes: ([u8; 3], usize) = match *kind {
            BetKind::Pass => ([0, 0, 0], 1),
            BetKind::DontPass => ([1, 0, 0], 1),
            BetKind::Come => ([2, 0, 0], 1),
            BetKind::DontCome => ([3, 0, 0], 1),
            BetKind::Place(n) => ([4, n.total(), 0], 2),
            BetKind::Buy(n) => ([5, n.total(), 0], 2),
            BetKind::Lay(n) => ([6, n.total(), 0], 2),
            BetKind::Field => ([7, 0, 0], 1),
            BetKind::Hard(n) => ([8, n.total(), 0], 2),
            BetKind::AnySeven => ([9, 0, 0], 1),
            BetKind::AnyCraps => ([10, 0, 0], 1),
            BetKind::Two => ([11, 0, 0], 1),
            BetKind::Three => ([12, 0, 0], 1),
            BetKind::Eleven => ([13, 0, 0], 1),
            BetKind::Twelve => ([14, 0, 0], 1),
            BetKind::Horn => ([15, 0, 0], 1),
            BetKind::CrapsEleven => ([16, 0, 0], 1),
            BetKind::Hop(hop) => {
                let (low, high) = hop.faces();
                ([17, low, high], 3)
            }
            BetKind::Big6 => ([18, 0, 0], 1),
            BetKind::Big8 => ([19, 0, 0], 1),
        };
        writer.write_all(&bytes.0[..bytes.1])
    }

    fn point<R: Read>(reader: &mut R) -> Result<PointNumber> {
        let total = u8::deserialize_reader(reader)?;
        PointNumber::new(total).map_err(|e| invalid(e.to_string()))
    }

    pub(crate) fn read<R: Read>(reader: &mut R) -> Result<BetKind> {
        Ok(match u8::deserialize_reader(reader)? {
            0 => BetKind::Pass,
            1 => BetKind::DontPass,
            2 => BetKind::Come,
            3 => BetKind::DontCome,
            4 => BetKind::Place(point(reader)?),
            5 => BetKind::Buy(point(reader)?),
            6 => BetKind::Lay(point(reader)?),
            7 => BetKind::Field,
            8 => {
                let total = u8::deserialize_reader(reader)?;
                BetKind::Hard(HardNumber::new(total).map_err(|e| invalid(e.to_string()))?)
            }
            9 => BetKind::AnySeven,
            10 => BetKind::AnyCraps,
            11 => BetKind::Two,
            12 => BetKind::Three,
            13 => BetKind::Eleven,
            14 => BetKind::Twelve,
            15 => BetKind::Horn,
            16 => BetKind::CrapsEleven,
            17 => {
                let low = u8::deserialize_reader(reader)?;
                let high = u8::deserialize_reader(reader)?;
                if low > high {
                    return Err(invalid(format!(
                        "hop faces {low}-{high} must be written lower first"
                    )));
                }
                BetKind::Hop(Hop::new(low, high).map_err(|e| invalid(e.to_string()))?)
            }
            18 => BetKind::Big6,
            19 => BetKind::Big8,
            tag => return Err(invalid(format!("unknown craps bet kind tag {tag}"))),
        })
    }

    /// The text form (see the module table).
    pub fn to_text(kind: BetKind) -> String {
        match kind {
            BetKind::Pass => "pass".into(),
            BetKind::DontPass => "dont-pass".into(),
            BetKind::Come => "come".into(),
            BetKind::DontCome => "dont-come".into(),
            BetKind::Place(n) => format!("place-{}", n.total()),
            BetKind::Buy(n) => format!("buy-{}", n.total()),
            BetKind::Lay(n) => format!("lay-{}", n.total()),
            BetKind::Field => "field".into(),
            BetKind::Hard(n) => format!("hard-{}", n.total()),
            BetKind::AnySeven => "any-seven".into(),
            BetKind::AnyCraps => "any-craps".into(),
            BetKind::Two => "two".into(),
            BetKind::Three => "three".into(),
            BetKind::Eleven => "eleven".into(),
            BetKind::Twelve => "twelve".into(),
            BetKind::Horn => "horn".into(),
            BetKind::CrapsEleven => "craps-eleven".into(),
            BetKind::Hop(hop) => {
                let (low, high) = hop.faces();
                format!("hop-{low}-{high}")
            }
            BetKind::Big6 => "big-6".into(),
            BetKind::Big8 => "big-8".into(),
        }
    }

    fn number(text: &str) -> Option<u8> {
        // Only plain decimal digits: no sign, no leading zero, at most two.
        if text.is_empty() || text.len() > 2 || text.starts_with('0') {
            return None;
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok()
    }

    /// Parses the text form (exactly as [`to_text`] writes it; a hop's faces
    /// may be in either order).
    pub fn from_text(text: &str) -> Option<BetKind> {
        let simple = match text {
            "pass" => Some(BetKind::Pass),
            "dont-pass" => Some(BetKind::DontPass),
            "come" => Some(BetKind::Come),
            "dont-come" => Some(BetKind::DontCome),
            "field" => Some(BetKind::Field),
            "any-seven" => Some(BetKind::AnySeven),
            "any-craps" => Some(BetKind::AnyCraps),
            "two" => Some(BetKind::Two),
            "three" => Some(BetKind::Three),
            "eleven" => Some(BetKind::Eleven),
            "twelve" => Some(BetKind::Twelve),
            "horn" => Some(BetKind::Horn),
            "craps-eleven" => Some(BetKind::CrapsEleven),
            "big-6" => Some(BetKind::Big6),
            "big-8" => Some(BetKind::Big8),
            _ => None,
        };
        if simple.is_some() {
            return simple;
        }
        let (head, rest) = text.split_once('-')?;
        match head {
            "place" => PointNumber::from_total(number(rest)?).map(BetKind::Place),
            "buy" => PointNumber::from_total(number(rest)?).map(BetKind::Buy),
            "lay" => PointNumber::from_total(number(rest)?).map(BetKind::Lay),
            "hard" => HardNumber::new(number(rest)?).ok().map(BetKind::Hard),
            "hop" => {
                let (a, b) = rest.split_once('-')?;
                Hop::new(number(a)?, number(b)?).ok().map(BetKind::Hop)
            }
            _ => None,
        }
    }

    pub(crate) fn serialize<S: serde::Serializer>(
        kind: &BetKind,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&to_text(*kind))
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<BetKind, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        from_text(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown craps bet {text:?}: expected e.g. pass, place-6, hard-8, hop-2-3"
            ))
        })
    }
}

/// `game_rules::craps::OddsLimit`. Serde: `"three_four_five"` or
/// `{"flat": n}`.
pub(crate) mod odds_limit {
    use super::*;
    use game_rules::craps::OddsLimit;

    pub(crate) fn write<W: Write>(limit: &OddsLimit, writer: &mut W) -> Result<()> {
        match *limit {
            OddsLimit::ThreeFourFive => 0u8.serialize(writer),
            OddsLimit::Flat(n) => {
                1u8.serialize(writer)?;
                n.serialize(writer)
            }
        }
    }

    pub(crate) fn read<R: Read>(reader: &mut R) -> Result<OddsLimit> {
        match u8::deserialize_reader(reader)? {
            0 => Ok(OddsLimit::ThreeFourFive),
            1 => Ok(OddsLimit::Flat(u32::deserialize_reader(reader)?)),
            tag => Err(invalid(format!("unknown odds limit tag {tag}"))),
        }
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Text {
        ThreeFourFive,
        Flat(u32),
    }

    pub(crate) fn serialize<S: serde::Serializer>(
        limit: &OddsLimit,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let text = match *limit {
            OddsLimit::ThreeFourFive => Text::ThreeFourFive,
            OddsLimit::Flat(n) => Text::Flat(n),
        };
        serde::Serialize::serialize(&text, serializer)
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<OddsLimit, D::Error> {
        Ok(
            match <Text as serde::Deserialize>::deserialize(deserializer)? {
                Text::ThreeFourFive => OddsLimit::ThreeFourFive,
                Text::Flat(n) => OddsLimit::Flat(n),
            },
        )
    }
}

/// `game_rules::craps::Working`. Serde: `"table_default"`, `"on"`, `"off"`.
pub(crate) mod working {
    use super::*;
    use game_rules::craps::Working;

    pub(crate) fn write<W: Write>(working: &Working, writer: &mut W) -> Result<()> {
        let tag: u8 = match working {
            Working::TableDefault => 0,
            Working::On => 1,
            Working::Off => 2,
        };
        tag.serialize(writer)
    }

    pub(crate) fn read<R: Read>(reader: &mut R) -> Result<Working> {
        match u8::deserialize_reader(reader)? {
            0 => Ok(Working::TableDefault),
            1 => Ok(Working::On),
            2 => Ok(Working::Off),
            tag => Err(invalid(format!("unknown working switch tag {tag}"))),
        }
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Text {
        TableDefault,
        On,
        Off,
    }

    pub(crate) fn serialize<S: serde::Serializer>(
        working: &Working,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let text = match working {
            Working::TableDefault => Text::TableDefault,
            Working::On => Text::On,
            Working::Off => Text::Off,
        };
        serde::Serialize::serialize(&text, serializer)
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Working, D::Error> {
        Ok(
            match <Text as serde::Deserialize>::deserialize(deserializer)? {
                Text::TableDefault => Working::TableDefault,
                Text::On => Working::On,
                Text::Off => Working::Off,
            },
        )
    }
}

/// `game_rules::crash::Multiplier`. Serde: `{"bits": …, "hundredths": …}`
/// (the exact Q32.32 value and its display value, rounded down); on input
/// the two must agree.
pub(crate) mod multiplier {
    use super::*;
    use game_rules::crash::Multiplier;

    pub(crate) fn write<W: Write>(m: &Multiplier, writer: &mut W) -> Result<()> {
        m.bits().serialize(writer)
    }

    pub(crate) fn read<R: Read>(reader: &mut R) -> Result<Multiplier> {
        let bits = u64::deserialize_reader(reader)?;
        Multiplier::from_bits(bits).map_err(|e| invalid(e.to_string()))
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Text {
        bits: u64,
        hundredths: u64,
    }

    pub(crate) fn serialize<S: serde::Serializer>(
        m: &Multiplier,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serde::Serialize::serialize(
            &Text {
                bits: m.bits(),
                hundredths: m.hundredths(),
            },
            serializer,
        )
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Multiplier, D::Error> {
        let text = <Text as serde::Deserialize>::deserialize(deserializer)?;
        let m = Multiplier::from_bits(text.bits).map_err(serde::de::Error::custom)?;
        if m.hundredths() != text.hundredths {
            return Err(serde::de::Error::custom(
                "multiplier bits and hundredths disagree",
            ));
        }
        Ok(m)
    }
}

/// `game_rules::Roll`. Serde: `[first, second]`.
pub(crate) mod roll {
    use super::*;
    use game_rules::Roll;

    pub(crate) fn write<W: Write>(roll: &Roll, writer: &mut W) -> Result<()> {
        writer.write_all(&[roll.first.face(), roll.second.face()])
    }

    pub(crate) fn read<R: Read>(reader: &mut R) -> Result<Roll> {
        let [first, second] = <[u8; 2]>::deserialize_reader(reader)?;
        Roll::new(first, second)
            .ok_or_else(|| invalid(format!("dice {first}-{second}: faces must be 1 to 6")))
    }

    pub(crate) fn serialize<S: serde::Serializer>(
        roll: &Roll,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&[roll.first.face(), roll.second.face()], serializer)
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Roll, D::Error> {
        let [first, second] = <[u8; 2] as serde::Deserialize>::deserialize(deserializer)?;
        Roll::new(first, second)
            .ok_or_else(|| serde::de::Error::custom("dice faces must be 1 to 6"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use game_rules::craps::{BetKind, Hop};

    #[test]
    fn every_bet_kind_round_trips_in_bytes_and_text() {
        let kinds: Vec<BetKind> = BetKind::all().collect();
        assert_eq!(kinds.len(), 15 + 18 + 4 + 21);
        let mut seen = std::collections::BTreeSet::new();
        for kind in kinds {
            let mut bytes = Vec::new();
            bet_kind::write(&kind, &mut bytes).unwrap();
            assert!(seen.insert(bytes.clone()), "{kind:?} shares an encoding");
            let mut slice = &bytes[..];
            assert_eq!(bet_kind::read(&mut slice).unwrap(), kind);
            assert!(slice.is_empty());
            let text = bet_kind::to_text(kind);
            assert_eq!(bet_kind::from_text(&text), Some(kind), "{text}");
        }
    }

    #[test]
    fn invalid_bet_kinds_are_refused() {
        for bad in [
            &[4u8, 7][..],
            &[5, 3],
            &[6, 11],
            &[8, 5],
            &[17, 0, 1],
            &[17, 3, 7],
            &[17, 4, 2],
            &[20],
            &[255],
            &[4],
        ] {
            let mut slice = bad;
            assert!(bet_kind::read(&mut slice).is_err(), "{bad:?}");
        }
        for bad in [
            "place-7", "hard-5", "hop-0-1", "hop-1-7", "place-06", "PASS", "buy-+4", "",
        ] {
            assert_eq!(bet_kind::from_text(bad), None, "{bad}");
        }
        assert_eq!(
            bet_kind::from_text("hop-3-2"),
            Some(BetKind::Hop(Hop::new(2, 3).unwrap()))
        );
    }

    #[test]
    fn multiplier_and_roll_readers_validate() {
        let mut zero = &0u64.to_le_bytes()[..];
        assert!(multiplier::read(&mut zero).is_err());
        let mut huge = &u64::MAX.to_le_bytes()[..];
        assert!(multiplier::read(&mut huge).is_err());
        let mut one = &(1u64 << 32).to_le_bytes()[..];
        assert!(multiplier::read(&mut one).is_ok());
        let mut bad_roll = &[0u8, 3][..];
        assert!(roll::read(&mut bad_roll).is_err());
        let mut bad_roll = &[3u8, 7][..];
        assert!(roll::read(&mut bad_roll).is_err());
    }

    #[test]
    fn invalid_public_keys_are_refused() {
        // The identity point is of small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut slice = &identity[..];
        assert!(wallet::PublicKey::deserialize_reader(&mut slice).is_err());
    }
}
