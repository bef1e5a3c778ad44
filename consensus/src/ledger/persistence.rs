//! The ledger in RocksDB: the genesis state, loading, and the state tree's
//! nodes in the store.
//!
//! State records live in the store's `state` column family under the keys
//! of the [`keys`] module, borsh-encoded; the state tree's
//! nodes live in the same column family under `0xFF ‖ node key`, so one
//! [`BlockCommit`](crate::storage::BlockCommit) writes a block's state
//! changes and its tree changes in the same atomic batch, together with the
//! new root (`0xFD ‖ height`) and the head record (`0xFE "head"`).
//!
//! ## Genesis
//!
//! The genesis state (initial balances, the bankroll and its owner's shares,
//! the genesis validators with their stake, epoch 0's set) is built in
//! memory from the [`Genesis`] document and is **not** written on its own:
//! the store's first write is the first block (height
//! [`GENESIS_HEIGHT`](crate::storage::GENESIS_HEIGHT) =
//! [`FIRST_BLOCK_HEIGHT`](crate::block::FIRST_BLOCK_HEIGHT) = 0), whose
//! commit carries the whole genesis state and tree plus the block's own
//! changes, and the genesis hash (`0xFE "genesis"`). So the store never
//! holds a state that is not the result of a block, and an empty store
//! means "at genesis". The genesis state root — what block 0 must name as
//! `parent_state_root` — is computed in memory.

use game_rules::Chips;

use super::error::LedgerError;
use super::keys;
use super::state::{Account, Bankroll, EpochRecord, Globals, Head, State, Validator};
use crate::genesis::Genesis;
use crate::hash::Hash;
use crate::merkle::{NodeKey, NodeStore, NodeStoreError};
use crate::storage::Store;

/// The state tree's nodes as stored in a [`Store`].
pub(crate) struct StoreNodes<'a>(pub(crate) &'a Store);

impl NodeStore for StoreNodes<'_> {
    fn get_node(&self, key: &NodeKey) -> Result<Option<Vec<u8>>, NodeStoreError> {
        self.0
            .state_get(&keys::node(key))
            .map_err(NodeStoreError::new)
    }
}

/// The state a chain starts from.
pub(crate) fn genesis_state(genesis: &Genesis) -> Result<State, LedgerError> {
    genesis.validate()?;
    let supply = genesis
        .total_supply()
        .ok_or(LedgerError::overflow("the genesis supply"))?;
    let mut state = State::default();
    for account in genesis.accounts.iter() {
        if account.balance > Chips::ZERO {
            state.accounts.load(
                account.address,
                Account {
                    balance: account.balance,
                    nonce: 0,
                },
            );
        }
    }
    let initial = genesis.bankroll.initial;
    state.bankroll = super::state::Cell::new(Bankroll {
        chips: initial,
        total_shares: u128::from(initial.get()),
        reserved: Chips::ZERO,
    });
    if initial > Chips::ZERO {
        state
            .shares
            .load(genesis.bankroll.owner, u128::from(initial.get()));
    }
    for validator in genesis.validators.iter() {
        state.validators.load(
            validator.consensus_key,
            Validator {
                consensus_key: validator.consensus_key,
                account: validator.consensus_key.address(),
                network_address: validator.network_address.clone(),
                stake: validator.stake,
                slashed: false,
            },
        );
    }
    let validators = state.select_validators(&genesis.params);
    state.epochs.load(
        0,
        EpochRecord {
            start_height: 0,
            validators,
        },
    );
    state.globals = super::state::Cell::new(Globals {
        genesis_supply: supply,
        next_table: 1,
        ..Globals::default()
    });
    Ok(state)
}

/// Loads the state and head of a store with blocks applied, checking that
/// it belongs to `genesis_hash`.
pub(crate) fn load(store: &Store, genesis_hash: Hash) -> Result<(State, Head), LedgerError> {
    let stored = store
        .state_get(&keys::genesis())?
        .ok_or_else(|| LedgerError::corrupt("the genesis hash is missing"))?;
    let stored: [u8; 32] = stored
        .as_slice()
        .try_into()
        .map_err(|_| LedgerError::corrupt("the stored genesis hash is not 32 bytes"))?;
    if Hash::new(stored) != genesis_hash {
        return Err(LedgerError::GenesisMismatch {
            expected: genesis_hash,
            stored: Hash::new(stored),
        });
    }
    let head = store
        .state_get(&keys::head())?
        .ok_or_else(|| LedgerError::corrupt("the head record is missing"))?;
    let head: Head = borsh::from_slice(&head)
        .map_err(|e| LedgerError::corrupt(format!("the head record does not decode: {e}")))?;
    let mut state = State::default();
    // Every committed prefix, up to the last one: a prefix left out here
    // is silently absent after a restart (the resharing record once was,
    // so a reopened ledger had the genesis sharing and another state root
    // than its head).
    for prefix in keys::GLOBALS..=keys::LAST_STATE_PREFIX {
        for entry in store.state_prefix(&[prefix]) {
            let (key, value) = entry?;
            state.load_entry(&key, &value)?;
        }
    }
    Ok((state, head))
}
