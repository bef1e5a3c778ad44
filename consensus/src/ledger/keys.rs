//! The ledger's state keys: one prefix byte per kind of record, then the
//! record's id, integers big-endian (so RocksDB's byte order is numeric
//! order and prefix scans come out sorted).
//!
//! | prefix | key | value (borsh) | in the state tree |
//! |---|---|---|---|
//! | `0x00` | — | [`Globals`](super::Globals) | yes |
//! | `0x01` | address (20) | [`Account`](super::Account) | yes |
//! | `0x02` | — | [`Bankroll`](super::Bankroll) | yes |
//! | `0x03` | address (20) | bankroll shares, `u128` | yes |
//! | `0x04` | sequence `u64` | [`Withdrawal`](super::Withdrawal) | yes |
//! | `0x05` | consensus key (32) | [`Validator`](super::Validator) | yes |
//! | `0x06` | release height `u64` ‖ sequence `u64` | [`Unbonding`](super::Unbonding) | yes |
//! | `0x07` | epoch `u64` | [`EpochRecord`](super::EpochRecord) | yes |
//! | `0x08` | offender (32) ‖ epoch ‖ height ‖ view (`u64` each) | `()` (evidence used) | yes |
//! | `0x09` | table id `u64` | [`Table`](super::Table) | yes |
//! | `0x0A` | height `u64` | [`PendingRandomness`](super::PendingRandomness) | yes |
//! | `0x0B` | — | [`Resharing`](super::reshare::Resharing) (absent until a resharing round opens) | yes |
//! | `0x0C` | first epoch `u64` | [`PastSharing`](super::reshare::PastSharing) (a superseded sharing, kept for evidence) | yes |
//! | `0xFD` | height `u64` | the state root after that block (32 bytes) | no |
//! | `0xFE` | `"head"` | [`Head`](super::Head) | no |
//! | `0xFE` | `"genesis"` | the genesis hash (32 bytes) | no |
//! | `0xFF` | [`NodeKey`] bytes | a state-tree node (65 bytes) | no |
//!
//! The state tree ([`crate::merkle`]) commits to every key below
//! [`FIRST_UNCOMMITTED_PREFIX`]; the keys from there on are book-keeping
//! about the tree (its nodes, the roots) and cannot be inside it.

use wallet::{Address, PublicKey};

use crate::merkle::NodeKey;
use crate::tx::{Slot, TableId};

/// [`Globals`](super::Globals).
pub const GLOBALS: u8 = 0x00;
/// [`Account`](super::Account) by address.
pub const ACCOUNT: u8 = 0x01;
/// [`Bankroll`](super::Bankroll).
pub const BANKROLL: u8 = 0x02;
/// Bankroll shares by address.
pub const SHARES: u8 = 0x03;
/// [`Withdrawal`](super::Withdrawal) by sequence number.
pub const WITHDRAWAL: u8 = 0x04;
/// [`Validator`](super::Validator) by consensus key.
pub const VALIDATOR: u8 = 0x05;
/// [`Unbonding`](super::Unbonding) by release height and sequence number.
pub const UNBONDING: u8 = 0x06;
/// [`EpochRecord`](super::EpochRecord) by epoch.
pub const EPOCH: u8 = 0x07;
/// Evidence already used, by offender and slot.
pub const EVIDENCE: u8 = 0x08;
/// [`Table`](super::Table) by id.
pub const TABLE: u8 = 0x09;
/// [`PendingRandomness`](super::PendingRandomness) by height.
pub const PENDING: u8 = 0x0A;
/// The beacon key material and the resharing round.
pub const RESHARE: u8 = 0x0B;
/// The superseded beacon sharings, by the first epoch each was in force.
pub const PAST_SHARING: u8 = 0x0C;
/// The last prefix of a state record (every prefix from [`GLOBALS`] to
/// this one is loaded when a ledger is reopened).
pub const LAST_STATE_PREFIX: u8 = PAST_SHARING;
/// Keys at or above this prefix are not in the state tree.
pub const FIRST_UNCOMMITTED_PREFIX: u8 = 0xF0;
/// The state root after each block, by height.
pub const ROOT: u8 = 0xFD;
/// The ledger's own metadata (head, genesis hash).
pub const META: u8 = 0xFE;
/// State-tree nodes, by [`NodeKey`].
pub const NODE: u8 = 0xFF;

/// The key of the globals.
pub fn globals() -> Vec<u8> {
    vec![GLOBALS]
}

/// The key of `address`'s account.
pub fn account(address: &Address) -> Vec<u8> {
    prefixed(ACCOUNT, address.as_bytes())
}

/// The key of the bankroll.
pub fn bankroll() -> Vec<u8> {
    vec![BANKROLL]
}

/// The key of `address`'s bankroll shares.
pub fn shares(address: &Address) -> Vec<u8> {
    prefixed(SHARES, address.as_bytes())
}

/// The key of withdrawal number `sequence`.
pub fn withdrawal(sequence: u64) -> Vec<u8> {
    prefixed(WITHDRAWAL, &sequence.to_be_bytes())
}

/// The key of the validator with consensus key `key`.
pub fn validator(key: &PublicKey) -> Vec<u8> {
    prefixed(VALIDATOR, key.as_bytes())
}

/// The key of unbonding entry `sequence`, released at `release_at`.
pub fn unbonding(release_at: u64, sequence: u64) -> Vec<u8> {
    let mut key = prefixed(UNBONDING, &release_at.to_be_bytes());
    key.extend_from_slice(&sequence.to_be_bytes());
    key
}

/// The key of epoch `epoch`'s record.
pub fn epoch(epoch: u64) -> Vec<u8> {
    prefixed(EPOCH, &epoch.to_be_bytes())
}

/// The key recording that `offender` was slashed for its offence at `slot`.
pub fn evidence(offender: &PublicKey, slot: &Slot) -> Vec<u8> {
    let mut key = prefixed(EVIDENCE, offender.as_bytes());
    for part in [slot.epoch, slot.height, slot.view] {
        key.extend_from_slice(&part.to_be_bytes());
    }
    key
}

/// The key of table `table`.
pub fn table(table: TableId) -> Vec<u8> {
    prefixed(TABLE, &table.0.to_be_bytes())
}

/// The key of the randomness height `height` waits for.
pub fn pending(height: u64) -> Vec<u8> {
    prefixed(PENDING, &height.to_be_bytes())
}

/// The key of the beacon key material ([`RESHARE`]).
pub fn reshare() -> Vec<u8> {
    vec![RESHARE]
}

/// The key of the sharing that came into force at epoch `first_epoch` and
/// was superseded since.
pub fn past_sharing(first_epoch: u64) -> Vec<u8> {
    prefixed(PAST_SHARING, &first_epoch.to_be_bytes())
}

/// The key of the state root after block `height`.
pub fn root(height: u64) -> Vec<u8> {
    prefixed(ROOT, &height.to_be_bytes())
}

/// The key of the ledger's head record.
pub fn head() -> Vec<u8> {
    prefixed(META, b"head")
}

/// The key of the genesis hash the store was created with.
pub fn genesis() -> Vec<u8> {
    prefixed(META, b"genesis")
}

/// The key of state-tree node `node`.
pub fn node(node: &NodeKey) -> Vec<u8> {
    prefixed(NODE, node.as_bytes())
}

/// Whether `key` is committed to by the state tree.
pub fn in_tree(key: &[u8]) -> bool {
    key.first().is_some_and(|p| *p < FIRST_UNCOMMITTED_PREFIX)
}

fn prefixed(prefix: u8, id: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + id.len());
    key.push(prefix);
    key.extend_from_slice(id);
    key
}
