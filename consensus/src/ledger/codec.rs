//! Borsh writers and readers for the collections of foreign types that the
//! ledger's records hold (addresses and keys in lists and maps). Layouts:
//! a `u32` count, then the items; an address is 20 bytes, a key 32 (a
//! valid ed25519 point), a `u64` little-endian as borsh writes it.

use std::collections::BTreeMap;

use borsh::io::{Read, Result, Write};
use borsh::{BorshDeserialize, BorshSerialize};
use wallet::{Address, PublicKey};

use crate::encoding::codec;

fn write_len<W: Write>(len: usize, writer: &mut W) -> Result<()> {
    let len = u32::try_from(len).map_err(|_| {
        borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, "collection too long")
    })?;
    len.serialize(writer)
}

fn read_len<R: Read>(reader: &mut R) -> Result<u32> {
    u32::deserialize_reader(reader)
}

/// `Vec<PublicKey>`.
pub(crate) mod keys {
    use super::*;

    pub(crate) fn write<W: Write>(items: &[PublicKey], writer: &mut W) -> Result<()> {
        write_len(items.len(), writer)?;
        items
            .iter()
            .try_for_each(|k| codec::public_key::write(k, writer))
    }

    pub(crate) fn read<R: Read>(reader: &mut R) -> Result<Vec<PublicKey>> {
        let len = read_len(reader)?;
        let mut items = Vec::new();
        for _ in 0..len {
            items.push(codec::public_key::read(reader)?);
        }
        Ok(items)
    }
}

/// `BTreeMap<u64, Address>` (bet id → owner), in key order.
pub(crate) mod owners {
    use super::*;

    pub(crate) fn write<W: Write>(map: &BTreeMap<u64, Address>, writer: &mut W) -> Result<()> {
        write_len(map.len(), writer)?;
        for (id, owner) in map {
            id.serialize(writer)?;
            codec::address::write(owner, writer)?;
        }
        Ok(())
    }

    pub(crate) fn read<R: Read>(reader: &mut R) -> Result<BTreeMap<u64, Address>> {
        let len = read_len(reader)?;
        let mut map = BTreeMap::new();
        for _ in 0..len {
            let id = u64::deserialize_reader(reader)?;
            map.insert(id, codec::address::read(reader)?);
        }
        Ok(map)
    }
}

/// `BTreeMap<Address, u64>` (player → bet id), in key order.
pub(crate) mod by_player {
    use super::*;

    pub(crate) fn write<W: Write>(map: &BTreeMap<Address, u64>, writer: &mut W) -> Result<()> {
        write_len(map.len(), writer)?;
        for (player, id) in map {
            codec::address::write(player, writer)?;
            id.serialize(writer)?;
        }
        Ok(())
    }

    pub(crate) fn read<R: Read>(reader: &mut R) -> Result<BTreeMap<Address, u64>> {
        let len = read_len(reader)?;
        let mut map = BTreeMap::new();
        for _ in 0..len {
            let player = codec::address::read(reader)?;
            map.insert(player, u64::deserialize_reader(reader)?);
        }
        Ok(map)
    }
}

/// `Option<Address>`.
pub(crate) mod option_address {
    use super::*;

    pub(crate) fn write<W: Write>(value: &Option<Address>, writer: &mut W) -> Result<()> {
        match value {
            None => 0u8.serialize(writer),
            Some(address) => {
                1u8.serialize(writer)?;
                codec::address::write(address, writer)
            }
        }
    }

    pub(crate) fn read<R: Read>(reader: &mut R) -> Result<Option<Address>> {
        match u8::deserialize_reader(reader)? {
            0 => Ok(None),
            1 => Ok(Some(codec::address::read(reader)?)),
            tag => Err(borsh::io::Error::new(
                borsh::io::ErrorKind::InvalidData,
                format!("option tag {tag}"),
            )),
        }
    }
}
