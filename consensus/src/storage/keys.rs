//! Column family names and key layouts (see the module doc of `storage` for the
//! table). Every integer in a key is big-endian so that RocksDB's bytewise
//! ordering is numeric ordering.

use super::{MAX_ADDRESS_LEN, StoreError, TxHash, TxLocation};

/// Store bookkeeping and the caller's synced single-key values.
pub(crate) const CF_META: &str = "meta";
/// The ledger's state: opaque key → opaque value.
pub(crate) const CF_STATE: &str = "state";
/// height → block bytes.
pub(crate) const CF_BLOCKS: &str = "blocks";
/// height ‖ position → receipt bytes.
pub(crate) const CF_RECEIPTS: &str = "receipts";
/// tx hash → height ‖ position.
pub(crate) const CF_TX_INDEX: &str = "tx_index";
/// len(address) ‖ address ‖ height ‖ position → tx hash, or nothing for
/// the block's own events.
pub(crate) const CF_ACCOUNT_HISTORY: &str = "account_history";
/// table ‖ round → round record.
pub(crate) const CF_ROUNDS: &str = "rounds";
/// height → the block's own events.
pub(crate) const CF_BLOCK_EVENTS: &str = "block_events";

/// Every column family the store opens, in a fixed order.
pub(crate) const COLUMN_FAMILIES: [&str; 8] = [
    CF_META,
    CF_STATE,
    CF_BLOCKS,
    CF_RECEIPTS,
    CF_TX_INDEX,
    CF_ACCOUNT_HISTORY,
    CF_ROUNDS,
    CF_BLOCK_EVENTS,
];

/// First byte of the store's own keys in `meta`.
const META_INTERNAL: u8 = 0x00;
/// First byte of the caller's keys in `meta` (`put_synced_meta`).
const META_USER: u8 = 0x01;

/// `meta` key of the last applied height (value: u64 BE).
pub(crate) const META_LAST_APPLIED: &[u8] = b"\x00last_applied_height";
/// `meta` key of the schema version (value: u32 BE).
pub(crate) const META_SCHEMA_VERSION: &[u8] = b"\x00schema_version";

const _: () = assert!(META_LAST_APPLIED[0] == META_INTERNAL);
const _: () = assert!(META_SCHEMA_VERSION[0] == META_INTERNAL);

/// Length of an encoded [`TxLocation`]: u64 height ‖ u32 position.
pub(crate) const LOCATION_LEN: usize = 12;

/// The `meta` key under which the caller's `key` is stored.
pub(crate) fn meta_user_key(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + key.len());
    out.push(META_USER);
    out.extend_from_slice(key);
    out
}

/// Key of `blocks` (and the height part of other keys).
pub(crate) fn height_key(height: u64) -> [u8; 8] {
    height.to_be_bytes()
}

/// A height stored as a value or key (`what` names it in the error).
pub(crate) fn decode_height(
    column_family: &'static str,
    what: &str,
    bytes: &[u8],
) -> Result<u64, StoreError> {
    let bytes: [u8; 8] = bytes.try_into().map_err(|_| {
        StoreError::corrupt(
            column_family,
            format!("{what} is {} bytes, expected 8", bytes.len()),
        )
    })?;
    Ok(u64::from_be_bytes(bytes))
}

/// height ‖ position: the key of `receipts`, the value of `tx_index`, the tail
/// of `account_history` keys.
pub(crate) fn location_bytes(location: TxLocation) -> [u8; LOCATION_LEN] {
    let mut out = [0u8; LOCATION_LEN];
    out[..8].copy_from_slice(&location.height.to_be_bytes());
    out[8..].copy_from_slice(&location.position.to_be_bytes());
    out
}

/// Inverse of [`location_bytes`]; `None` unless `bytes` is exactly 12 bytes.
pub(crate) fn decode_location(bytes: &[u8]) -> Option<TxLocation> {
    let bytes: &[u8; LOCATION_LEN] = bytes.try_into().ok()?;
    let (height, position) = bytes.split_at(8);
    Some(TxLocation {
        height: u64::from_be_bytes(height.try_into().ok()?),
        position: u32::from_be_bytes(position.try_into().ok()?),
    })
}

/// A tx hash stored as a value.
pub(crate) fn decode_tx_hash(
    column_family: &'static str,
    bytes: &[u8],
) -> Result<TxHash, StoreError> {
    bytes.try_into().map_err(|_| {
        StoreError::corrupt(
            column_family,
            format!("tx hash is {} bytes, expected 32", bytes.len()),
        )
    })
}

/// Checks an account address's length.
pub(crate) fn check_address(address: &[u8]) -> Result<(), StoreError> {
    if address.is_empty() || address.len() > MAX_ADDRESS_LEN {
        return Err(StoreError::InvalidAddress { len: address.len() });
    }
    Ok(())
}

/// len(address) as one byte ‖ address: the prefix of all of an account's
/// `account_history` keys. The length byte keeps one address's entries apart
/// from those of a longer address that starts with the same bytes.
pub(crate) fn account_prefix(address: &[u8]) -> Result<Vec<u8>, StoreError> {
    check_address(address)?;
    let mut out = Vec::with_capacity(1 + address.len() + LOCATION_LEN);
    out.push(address.len() as u8);
    out.extend_from_slice(address);
    Ok(out)
}

/// The `account_history` key of `address`'s entry for the transaction at `location`.
pub(crate) fn account_history_key(
    address: &[u8],
    location: TxLocation,
) -> Result<Vec<u8>, StoreError> {
    let mut out = account_prefix(address)?;
    out.extend_from_slice(&location_bytes(location));
    Ok(out)
}

/// `table ‖ round`: the key of `rounds`.
pub(crate) fn round_key(table: u64, round: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&table.to_be_bytes());
    out[8..].copy_from_slice(&round.to_be_bytes());
    out
}

/// The smallest key greater than every key that starts with `prefix`, or `None`
/// when there is none (`prefix` is empty or all `0xFF`).
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last != u8::MAX {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_round_trips_and_orders() {
        let a = TxLocation {
            height: 1,
            position: u32::MAX,
        };
        let b = TxLocation {
            height: 2,
            position: 0,
        };
        assert_eq!(decode_location(&location_bytes(a)), Some(a));
        assert_eq!(decode_location(&location_bytes(b)), Some(b));
        assert!(location_bytes(a) < location_bytes(b));
        assert_eq!(decode_location(&[0; 11]), None);
        assert_eq!(decode_location(&[0; 13]), None);
    }

    #[test]
    fn heights_order_bytewise() {
        assert!(height_key(255) < height_key(256));
        assert!(height_key(0) < height_key(u64::MAX));
        assert_eq!(decode_height(CF_META, "h", &height_key(77)).unwrap(), 77);
        assert!(matches!(
            decode_height(CF_META, "h", &[1, 2, 3]),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn successor_of_prefixes() {
        assert_eq!(prefix_successor(b""), None);
        assert_eq!(prefix_successor(&[0xFF, 0xFF]), None);
        assert_eq!(prefix_successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_successor(&[1, 0xFF]), Some(vec![2]));
    }

    #[test]
    fn account_prefix_separates_addresses_sharing_bytes() {
        let short = account_prefix(b"ab").unwrap();
        let long = account_history_key(b"abc", TxLocation::default()).unwrap();
        assert!(!long.starts_with(&short));
        assert!(matches!(
            account_prefix(b""),
            Err(StoreError::InvalidAddress { len: 0 })
        ));
        assert!(account_prefix(&[7; MAX_ADDRESS_LEN]).is_ok());
        assert!(matches!(
            account_prefix(&[7; MAX_ADDRESS_LEN + 1]),
            Err(StoreError::InvalidAddress { .. })
        ));
    }

    #[test]
    fn user_meta_keys_never_collide_with_internal_ones() {
        assert_ne!(meta_user_key(b"last_applied_height"), META_LAST_APPLIED);
        assert_ne!(meta_user_key(&META_LAST_APPLIED[1..]), META_LAST_APPLIED);
        assert_eq!(meta_user_key(b"")[0], META_USER);
    }
}
