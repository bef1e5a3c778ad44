//! The ledger state in memory: typed maps of records, each change journaled
//! so a block can be rolled back as a whole and its changes listed for the
//! state tree and the store.
//!
//! Every map is a [`Tracked`] `BTreeMap`: the first time a key is touched
//! in a block its value before the block is saved. At the end of a
//! successful block the saved keys are the block's changes
//! ([`State::take_changes`]); if the block fails, [`State::rollback`] puts
//! the saved values back. Nothing is ever iterated from a hash map.

use std::collections::BTreeMap;
use std::collections::btree_map;

use borsh::{BorshDeserialize, BorshSerialize};
use game_rules::Chips;
use wallet::{Address, PublicKey};

use super::error::LedgerError;
use super::keys;
use super::reshare::{PastSharing, Resharing};
use super::tables::Table;
use crate::encoding::encode;
use crate::hash::Hash;
use crate::tx::{NetworkAddress, Slot, TableId};

/// A map whose changes within a block are journaled (see the module doc).
#[derive(Clone, Debug)]
pub(crate) struct Tracked<K, V> {
    live: BTreeMap<K, V>,
    /// The value before the block of every key touched in it.
    undo: BTreeMap<K, Option<V>>,
}

impl<K, V> Default for Tracked<K, V> {
    fn default() -> Self {
        Tracked {
            live: BTreeMap::new(),
            undo: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone, V: Clone + PartialEq> Tracked<K, V> {
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.live.get(key)
    }

    pub(crate) fn contains(&self, key: &K) -> bool {
        self.live.contains_key(key)
    }

    pub(crate) fn iter(&self) -> btree_map::Iter<'_, K, V> {
        self.live.iter()
    }

    pub(crate) fn range<R: std::ops::RangeBounds<K>>(
        &self,
        range: R,
    ) -> btree_map::Range<'_, K, V> {
        self.live.range(range)
    }

    pub(crate) fn len(&self) -> usize {
        self.live.len()
    }

    fn touch(&mut self, key: &K) {
        if !self.undo.contains_key(key) {
            self.undo.insert(key.clone(), self.live.get(key).cloned());
        }
    }

    /// The value to change in place (journaled), if present.
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        if !self.live.contains_key(key) {
            return None;
        }
        self.touch(key);
        self.live.get_mut(key)
    }

    pub(crate) fn insert(&mut self, key: K, value: V) {
        self.touch(&key);
        self.live.insert(key, value);
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        if !self.live.contains_key(key) {
            return None;
        }
        self.touch(key);
        self.live.remove(key)
    }

    /// Puts back every value touched since the last commit.
    pub(crate) fn rollback(&mut self) {
        for (key, before) in std::mem::take(&mut self.undo) {
            match before {
                Some(value) => self.live.insert(key, value),
                None => self.live.remove(&key),
            };
        }
    }

    /// The keys whose value changed since the last commit, with the value
    /// now (`None`: deleted), encoded.
    pub(crate) fn changes(
        &self,
        key_bytes: impl Fn(&K) -> Vec<u8>,
        out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) where
        V: BorshSerialize,
    {
        for (key, before) in &self.undo {
            let now = self.live.get(key);
            if now == before.as_ref() {
                continue;
            }
            out.push((key_bytes(key), now.map(encode)));
        }
    }

    /// Makes the current values the base: forgets the journal.
    pub(crate) fn accept(&mut self) {
        self.undo.clear();
    }

    /// Every entry, encoded (the genesis state, a rebuilt tree).
    pub(crate) fn all_entries(
        &self,
        key_bytes: impl Fn(&K) -> Vec<u8>,
        out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) where
        V: BorshSerialize,
    {
        for (key, value) in &self.live {
            out.push((key_bytes(key), Some(encode(value))));
        }
    }

    /// Loads an entry from the store (no journal).
    pub(crate) fn load(&mut self, key: K, value: V) {
        self.live.insert(key, value);
    }

    pub(crate) fn is_clean(&self) -> bool {
        self.undo.is_empty()
    }
}

/// A single journaled record.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cell<V> {
    live: V,
    undo: Option<V>,
}

impl<V: Clone + PartialEq + BorshSerialize> Cell<V> {
    pub(crate) fn new(value: V) -> Self {
        Cell {
            live: value,
            undo: None,
        }
    }

    pub(crate) fn get(&self) -> &V {
        &self.live
    }

    pub(crate) fn get_mut(&mut self) -> &mut V {
        if self.undo.is_none() {
            self.undo = Some(self.live.clone());
        }
        &mut self.live
    }

    pub(crate) fn rollback(&mut self) {
        if let Some(before) = self.undo.take() {
            self.live = before;
        }
    }

    pub(crate) fn changes(&self, key: Vec<u8>, out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>) {
        if let Some(before) = &self.undo
            && *before != self.live
        {
            out.push((key, Some(encode(&self.live))));
        }
    }

    pub(crate) fn accept(&mut self) {
        self.undo = None;
    }

    pub(crate) fn is_clean(&self) -> bool {
        self.undo.is_none()
    }
}

/// An account: its balance and the number of its transactions applied so
/// far (its next nonce). Stored under `0x01 ‖ address`; an account with
/// no balance and nonce 0 is not stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Account {
    /// Spendable chips.
    pub balance: Chips,
    /// The nonce its next transaction must carry.
    pub nonce: u64,
}

/// Chain-wide figures and counters, under `0x00`.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Globals {
    /// The genesis supply: balances + bankroll + stakes.
    pub genesis_supply: Chips,
    /// Chips minted by the faucet.
    pub minted: Chips,
    /// Fees burned: the remainder of each epoch's split, or all of it when
    /// no validator can be paid.
    pub burned_fees: Chips,
    /// Stake burned by slashing.
    pub slashed: Chips,
    /// Fees collected in the current epoch, paid to its validators at its
    /// end.
    pub fee_pool: Chips,
    /// The current validator-set epoch.
    pub epoch: u64,
    /// The id of the next table created.
    pub next_table: u64,
    /// How many tables are open.
    pub open_tables: u32,
    /// The sequence number of the next bankroll withdrawal.
    pub next_withdrawal: u64,
    /// The sequence number of the next unbonding entry.
    pub next_unbonding: u64,
}

impl Globals {
    /// Everything burned: fees and slashed stake.
    pub fn burned(&self) -> u128 {
        u128::from(self.burned_fees.get()) + u128::from(self.slashed.get())
    }

    /// What the supply must be: genesis + minted − burned.
    pub fn expected_supply(&self) -> u128 {
        (u128::from(self.genesis_supply.get()) + u128::from(self.minted.get()))
            .saturating_sub(self.burned())
    }
}

/// The shared bankroll, under `0x02`. See the [`bankroll`](super::bankroll)
/// module for the share math and the reserve.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Bankroll {
    /// The chips in the pool.
    pub chips: Chips,
    /// All pool shares: held by accounts and locked in pending withdrawals.
    pub total_shares: u128,
    /// Chips reserved for what open craps bets and running crash rounds
    /// could still win; always at most `chips`.
    pub reserved: Chips,
}

impl Bankroll {
    /// Chips not reserved: what new bets, round starts and withdrawals may
    /// use.
    pub fn free(&self) -> Chips {
        Chips(self.chips.get().saturating_sub(self.reserved.get()))
    }
}

/// A bankroll withdrawal waiting for its delay (and for free chips), under
/// `0x04 ‖ sequence`. Its shares are locked: no longer the holder's, still
/// in the pool's total until paid.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Withdrawal {
    /// Who is paid.
    pub account: Address,
    /// The shares redeemed.
    pub shares: u128,
    /// The first height at which it may be paid.
    pub payable_at: u64,
}

/// A registered validator, under `0x05 ‖ consensus key`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Validator {
    /// Its consensus key (also the key of its account).
    pub consensus_key: PublicKey,
    /// The account that staked and receives fees and released stake.
    pub account: Address,
    /// Where peers reach it.
    pub network_address: NetworkAddress,
    /// Bonded stake.
    pub stake: Chips,
    /// Slashed for equivocation: leaves the set at the next epoch and never
    /// joins again.
    pub slashed: bool,
}

/// Stake on its way out, under `0x06 ‖ release height ‖ sequence`;
/// still slashable until released.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Unbonding {
    /// The validator it was bonded to.
    pub validator: PublicKey,
    /// Who receives it.
    pub account: Address,
    /// How much.
    pub amount: Chips,
}

/// One epoch's validator set, under `0x07 ‖ epoch`: kept while evidence
/// about the epoch can still be used.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EpochRecord {
    /// Its first height.
    pub start_height: u64,
    /// Its validators, by stake (largest first) then key.
    pub validators: Vec<PublicKey>,
}

/// Evidence already used, under `0x08 ‖ offender ‖ slot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EvidenceUsed {
    /// The height of the block whose transaction slashed.
    pub height: u64,
}

/// What one height's beacon entry will settle, under `0x0A ‖ height`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PendingRandomness {
    /// The hash of the block at that height (part of what the beacon signs).
    pub block_hash: Hash,
    /// The epoch of that height (whose group key signs).
    pub epoch: u64,
    /// What waits, in the order it was committed.
    pub items: Vec<PendingItem>,
}

/// One thing waiting for a height's randomness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize)]
pub enum PendingItem {
    /// A craps roll.
    CrapsRoll {
        /// The table.
        table: TableId,
        /// The roll number.
        roll_number: u64,
    },
    /// The interval of a crash round ending at a tick.
    CrashTick {
        /// The table.
        table: TableId,
        /// The round.
        round: u64,
        /// The tick (the interval ending at it).
        tick: u32,
    },
}

impl PendingItem {
    /// The table it belongs to.
    pub fn table(&self) -> TableId {
        match *self {
            PendingItem::CrapsRoll { table, .. } | PendingItem::CrashTick { table, .. } => table,
        }
    }
}

/// The last applied block, stored (outside the tree) under `0xFE "head"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Head {
    /// Its height.
    pub height: u64,
    /// Its hash.
    pub block_hash: Hash,
    /// Its timestamp.
    pub timestamp_ms: u64,
    /// The state root after it.
    pub state_root: Hash,
}

/// The whole ledger state.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    pub(crate) globals: Cell<Globals>,
    pub(crate) bankroll: Cell<Bankroll>,
    pub(crate) accounts: Tracked<Address, Account>,
    pub(crate) shares: Tracked<Address, u128>,
    pub(crate) withdrawals: Tracked<u64, Withdrawal>,
    pub(crate) validators: Tracked<PublicKey, Validator>,
    pub(crate) unbonding: Tracked<(u64, u64), Unbonding>,
    pub(crate) epochs: Tracked<u64, EpochRecord>,
    pub(crate) evidence: Tracked<(PublicKey, Slot), EvidenceUsed>,
    pub(crate) tables: Tracked<TableId, Table>,
    pub(crate) pending: Tracked<u64, PendingRandomness>,
    /// The beacon key material (one entry, absent until the first
    /// resharing round opens; see `reshare`).
    pub(crate) reshare: Tracked<(), Resharing>,
    /// The sharings superseded by resharing, by the first epoch each was
    /// in force, while evidence of their epochs can still be punished.
    pub(crate) past_sharings: Tracked<u64, PastSharing>,
    /// Tests: check that every refused transaction changes nothing but its
    /// fee and nonce.
    #[cfg(test)]
    pub(crate) audit: bool,
    /// Tests: how many refused actions were checked so.
    #[cfg(test)]
    pub(crate) audited_rejections: u64,
}

impl State {
    /// Undoes everything since the last commit.
    pub(crate) fn rollback(&mut self) {
        self.globals.rollback();
        self.bankroll.rollback();
        self.accounts.rollback();
        self.shares.rollback();
        self.withdrawals.rollback();
        self.validators.rollback();
        self.unbonding.rollback();
        self.epochs.rollback();
        self.evidence.rollback();
        self.tables.rollback();
        self.pending.rollback();
        self.reshare.rollback();
        self.past_sharings.rollback();
    }

    /// Whether nothing changed since the last commit.
    pub(crate) fn is_clean(&self) -> bool {
        self.globals.is_clean()
            && self.bankroll.is_clean()
            && self.accounts.is_clean()
            && self.shares.is_clean()
            && self.withdrawals.is_clean()
            && self.validators.is_clean()
            && self.unbonding.is_clean()
            && self.epochs.is_clean()
            && self.evidence.is_clean()
            && self.tables.is_clean()
            && self.pending.is_clean()
            && self.reshare.is_clean()
            && self.past_sharings.is_clean()
    }

    /// The changes since the last commit, as state-key writes, in key
    /// order of each map (the tree sorts them anyway).
    pub(crate) fn changes(&self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut out = Vec::new();
        self.globals.changes(keys::globals(), &mut out);
        self.bankroll.changes(keys::bankroll(), &mut out);
        self.accounts.changes(keys::account, &mut out);
        self.shares.changes(keys::shares, &mut out);
        self.withdrawals.changes(|s| keys::withdrawal(*s), &mut out);
        self.validators.changes(keys::validator, &mut out);
        self.unbonding
            .changes(|(r, s)| keys::unbonding(*r, *s), &mut out);
        self.epochs.changes(|e| keys::epoch(*e), &mut out);
        self.evidence
            .changes(|(k, s)| keys::evidence(k, s), &mut out);
        self.tables.changes(|t| keys::table(*t), &mut out);
        self.pending.changes(|h| keys::pending(*h), &mut out);
        self.reshare.changes(|()| keys::reshare(), &mut out);
        self.past_sharings
            .changes(|e| keys::past_sharing(*e), &mut out);
        out
    }

    /// Makes the current state the base (after a successful commit).
    pub(crate) fn accept(&mut self) {
        self.globals.accept();
        self.bankroll.accept();
        self.accounts.accept();
        self.shares.accept();
        self.withdrawals.accept();
        self.validators.accept();
        self.unbonding.accept();
        self.epochs.accept();
        self.evidence.accept();
        self.tables.accept();
        self.pending.accept();
        self.reshare.accept();
        self.past_sharings.accept();
    }

    /// Every state entry, encoded.
    pub(crate) fn all_entries(&self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut out = vec![
            (keys::globals(), Some(encode(self.globals.get()))),
            (keys::bankroll(), Some(encode(self.bankroll.get()))),
        ];
        self.accounts.all_entries(keys::account, &mut out);
        self.shares.all_entries(keys::shares, &mut out);
        self.withdrawals
            .all_entries(|s| keys::withdrawal(*s), &mut out);
        self.validators.all_entries(keys::validator, &mut out);
        self.unbonding
            .all_entries(|(r, s)| keys::unbonding(*r, *s), &mut out);
        self.epochs.all_entries(|e| keys::epoch(*e), &mut out);
        self.evidence
            .all_entries(|(k, s)| keys::evidence(k, s), &mut out);
        self.tables.all_entries(|t| keys::table(*t), &mut out);
        self.pending.all_entries(|h| keys::pending(*h), &mut out);
        self.reshare.all_entries(|()| keys::reshare(), &mut out);
        self.past_sharings
            .all_entries(|e| keys::past_sharing(*e), &mut out);
        out
    }

    /// Loads one stored entry (key and value as stored).
    pub(crate) fn load_entry(&mut self, key: &[u8], value: &[u8]) -> Result<(), LedgerError> {
        let (prefix, id) = key
            .split_first()
            .ok_or_else(|| LedgerError::corrupt("an empty state key"))?;
        match *prefix {
            keys::GLOBALS if id.is_empty() => self.globals = Cell::new(decode_value(key, value)?),
            keys::BANKROLL if id.is_empty() => {
                self.bankroll = Cell::new(decode_value(key, value)?);
            }
            keys::ACCOUNT => self
                .accounts
                .load(address_id(key, id)?, decode_value(key, value)?),
            keys::SHARES => self
                .shares
                .load(address_id(key, id)?, decode_value(key, value)?),
            keys::WITHDRAWAL => self
                .withdrawals
                .load(u64_id(key, id)?, decode_value(key, value)?),
            keys::VALIDATOR => self
                .validators
                .load(key_id(key, id)?, decode_value(key, value)?),
            keys::UNBONDING => {
                let (release, sequence) = id.split_at_checked(8).ok_or_else(|| bad_key(key))?;
                self.unbonding.load(
                    (u64_id(key, release)?, u64_id(key, sequence)?),
                    decode_value(key, value)?,
                );
            }
            keys::EPOCH => self
                .epochs
                .load(u64_id(key, id)?, decode_value(key, value)?),
            keys::EVIDENCE => {
                let (offender, slot) = id.split_at_checked(32).ok_or_else(|| bad_key(key))?;
                let (epoch, rest) = slot.split_at_checked(8).ok_or_else(|| bad_key(key))?;
                let (height, view) = rest.split_at_checked(8).ok_or_else(|| bad_key(key))?;
                let slot = Slot {
                    epoch: u64_id(key, epoch)?,
                    height: u64_id(key, height)?,
                    view: u64_id(key, view)?,
                };
                self.evidence
                    .load((key_id(key, offender)?, slot), decode_value(key, value)?);
            }
            keys::TABLE => self
                .tables
                .load(TableId(u64_id(key, id)?), decode_value(key, value)?),
            keys::PENDING => self
                .pending
                .load(u64_id(key, id)?, decode_value(key, value)?),
            keys::RESHARE if id.is_empty() => self.reshare.load((), decode_value(key, value)?),
            keys::PAST_SHARING => self
                .past_sharings
                .load(u64_id(key, id)?, decode_value(key, value)?),
            _ => return Err(bad_key(key)),
        }
        Ok(())
    }

    /// The current value stored under state key `key`, encoded (`None` if
    /// absent or not a state key).
    pub(crate) fn encoded_value(&self, key: &[u8]) -> Option<Vec<u8>> {
        let (prefix, id) = key.split_first()?;
        let u64_of = |bytes: &[u8]| bytes.try_into().ok().map(u64::from_be_bytes);
        let address_of = |bytes: &[u8]| bytes.try_into().ok().map(Address::from_bytes);
        let key_of = |bytes: &[u8]| {
            let bytes: [u8; PublicKey::LENGTH] = bytes.try_into().ok()?;
            PublicKey::from_bytes(&bytes).ok()
        };
        match *prefix {
            keys::GLOBALS if id.is_empty() => Some(encode(self.globals.get())),
            keys::BANKROLL if id.is_empty() => Some(encode(self.bankroll.get())),
            keys::ACCOUNT => self.accounts.get(&address_of(id)?).map(encode),
            keys::SHARES => self.shares.get(&address_of(id)?).map(encode),
            keys::WITHDRAWAL => self.withdrawals.get(&u64_of(id)?).map(encode),
            keys::VALIDATOR => self.validators.get(&key_of(id)?).map(encode),
            keys::UNBONDING => {
                let (release, sequence) = id.split_at_checked(8)?;
                self.unbonding
                    .get(&(u64_of(release)?, u64_of(sequence)?))
                    .map(encode)
            }
            keys::EPOCH => self.epochs.get(&u64_of(id)?).map(encode),
            keys::EVIDENCE => {
                let (offender, slot) = id.split_at_checked(32)?;
                let (epoch, rest) = slot.split_at_checked(8)?;
                let (height, view) = rest.split_at_checked(8)?;
                let slot = Slot {
                    epoch: u64_of(epoch)?,
                    height: u64_of(height)?,
                    view: u64_of(view)?,
                };
                self.evidence.get(&(key_of(offender)?, slot)).map(encode)
            }
            keys::TABLE => self.tables.get(&TableId(u64_of(id)?)).map(encode),
            keys::PENDING => self.pending.get(&u64_of(id)?).map(encode),
            keys::RESHARE if id.is_empty() => self.reshare.get(&()).map(encode),
            keys::PAST_SHARING => self.past_sharings.get(&u64_of(id)?).map(encode),
            _ => None,
        }
    }

    // --- accounts -------------------------------------------------------

    /// `address`'s account (the default if it has none).
    pub(crate) fn account(&self, address: &Address) -> Account {
        self.accounts.get(address).copied().unwrap_or_default()
    }

    /// Stores `account` (deleting it if it is empty).
    pub(crate) fn set_account(&mut self, address: Address, account: Account) {
        if account == Account::default() {
            self.accounts.remove(&address);
        } else {
            self.accounts.insert(address, account);
        }
    }

    /// `address`'s bankroll shares.
    pub(crate) fn shares_of(&self, address: &Address) -> u128 {
        self.shares.get(address).copied().unwrap_or(0)
    }

    /// Stores `address`'s shares (deleting the entry at zero).
    pub(crate) fn set_shares(&mut self, address: Address, shares: u128) {
        if shares == 0 {
            self.shares.remove(&address);
        } else {
            self.shares.insert(address, shares);
        }
    }
}

fn decode_value<V: BorshDeserialize>(key: &[u8], value: &[u8]) -> Result<V, LedgerError> {
    borsh::from_slice(value).map_err(|e| {
        LedgerError::corrupt(format!(
            "the value of state key {} does not decode: {e}",
            hex::encode(key)
        ))
    })
}

fn bad_key(key: &[u8]) -> LedgerError {
    LedgerError::corrupt(format!("unknown state key {}", hex::encode(key)))
}

fn u64_id(key: &[u8], id: &[u8]) -> Result<u64, LedgerError> {
    let bytes: [u8; 8] = id.try_into().map_err(|_| bad_key(key))?;
    Ok(u64::from_be_bytes(bytes))
}

fn address_id(key: &[u8], id: &[u8]) -> Result<Address, LedgerError> {
    let bytes: [u8; Address::LENGTH] = id.try_into().map_err(|_| bad_key(key))?;
    Ok(Address::from_bytes(bytes))
}

fn key_id(key: &[u8], id: &[u8]) -> Result<PublicKey, LedgerError> {
    let bytes: [u8; PublicKey::LENGTH] = id.try_into().map_err(|_| bad_key(key))?;
    PublicKey::from_bytes(&bytes).map_err(|_| bad_key(key))
}
