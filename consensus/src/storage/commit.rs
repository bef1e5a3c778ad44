//! [`BlockCommit`]: everything one finalized block changes, written atomically.

use super::keys::check_address;
use super::{BLOCK_EVENTS_POSITION, StoreError, TxHash, TxLocation};

/// One transaction of a [`BlockCommit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TxCommit {
    pub(crate) hash: TxHash,
    pub(crate) receipt: Vec<u8>,
    pub(crate) accounts: Vec<Vec<u8>>,
}

/// Everything one finalized block changes, built by the ledger and handed to
/// [`Store::apply_block`](super::Store::apply_block), which writes all of it —
/// together with the new last applied height — in one atomic, synced write.
///
/// Values are opaque bytes: the ledger owns their encoding. Operations on the
/// same state key apply in the order they were added, so the last one wins.
///
/// ```
/// use consensus::storage::BlockCommit;
///
/// let mut commit = BlockCommit::new(0, b"genesis block bytes".to_vec());
/// commit
///     .put_state(b"acct/alice".to_vec(), b"100".to_vec())
///     .delete_state(b"acct/bob".to_vec())
///     .put_round(1, 0, b"round record".to_vec());
/// let location = commit.add_transaction([7; 32], b"receipt".to_vec(), [b"alice"])?;
/// assert_eq!((location.height, location.position), (0, 0));
/// # Ok::<(), consensus::storage::StoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockCommit {
    pub(crate) height: u64,
    pub(crate) block: Vec<u8>,
    /// `None` deletes the key.
    pub(crate) state: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    pub(crate) txs: Vec<TxCommit>,
    pub(crate) rounds: Vec<(u64, u64, Vec<u8>)>,
    pub(crate) block_events: Option<BlockEventsCommit>,
}

/// The events of a [`BlockCommit`] that its block caused itself, not one of
/// its transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockEventsCommit {
    pub(crate) events: Vec<u8>,
    pub(crate) accounts: Vec<Vec<u8>>,
}

/// Checks every address and copies it out.
fn checked_accounts<A: AsRef<[u8]>>(
    accounts: impl IntoIterator<Item = A>,
) -> Result<Vec<Vec<u8>>, StoreError> {
    accounts
        .into_iter()
        .map(|address| {
            let address = address.as_ref();
            check_address(address)?;
            Ok(address.to_vec())
        })
        .collect()
}

impl BlockCommit {
    /// An empty commit of the block at `height`, whose canonical encoding is `block`.
    pub fn new(height: u64, block: Vec<u8>) -> Self {
        BlockCommit {
            height,
            block,
            state: Vec::new(),
            txs: Vec::new(),
            rounds: Vec::new(),
            block_events: None,
        }
    }

    /// The height of the block.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The block's bytes, as they will be stored.
    pub fn block(&self) -> &[u8] {
        &self.block
    }

    /// Sets state `key` to `value`.
    pub fn put_state(&mut self, key: Vec<u8>, value: Vec<u8>) -> &mut Self {
        self.state.push((key, Some(value)));
        self
    }

    /// Deletes state `key` (a no-op if it is absent).
    pub fn delete_state(&mut self, key: Vec<u8>) -> &mut Self {
        self.state.push((key, None));
        self
    }

    /// Adds the next transaction of the block, in block order: it gets position
    /// 0, 1, 2, … within the block, which is returned. Its `receipt` is stored,
    /// its `hash` is indexed to its location, and it is added to the history of
    /// every account in `accounts` (duplicates are harmless).
    ///
    /// A hash added twice (in this block or an earlier one) is indexed to the
    /// latest location; the ledger's replay protection should make that impossible.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidAddress`] if an address is empty or longer than
    /// [`MAX_ADDRESS_LEN`](super::MAX_ADDRESS_LEN) bytes, and
    /// [`StoreError::TooManyTransactions`] at [`BLOCK_EVENTS_POSITION`]
    /// transactions (that position is the block's own events). Nothing is
    /// added on error.
    pub fn add_transaction<A: AsRef<[u8]>>(
        &mut self,
        hash: TxHash,
        receipt: Vec<u8>,
        accounts: impl IntoIterator<Item = A>,
    ) -> Result<TxLocation, StoreError> {
        let position = u32::try_from(self.txs.len())
            .ok()
            .filter(|&position| position < BLOCK_EVENTS_POSITION)
            .ok_or(StoreError::TooManyTransactions)?;
        let accounts = checked_accounts(accounts)?;
        self.txs.push(TxCommit {
            hash,
            receipt,
            accounts,
        });
        Ok(TxLocation {
            height: self.height,
            position,
        })
    }

    /// Sets the events the block caused itself (settlements, payouts, …), as
    /// the ledger encoded them, and adds them to the history of every account
    /// in `accounts` at position [`BLOCK_EVENTS_POSITION`] of the block. A
    /// second call replaces the first.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidAddress`] as for
    /// [`add_transaction`](Self::add_transaction); nothing is set on error.
    pub fn set_block_events<A: AsRef<[u8]>>(
        &mut self,
        events: Vec<u8>,
        accounts: impl IntoIterator<Item = A>,
    ) -> Result<&mut Self, StoreError> {
        let accounts = checked_accounts(accounts)?;
        self.block_events = Some(BlockEventsCommit { events, accounts });
        Ok(self)
    }

    /// Sets the record of `round` at `table` (replacing an earlier record of it).
    pub fn put_round(&mut self, table: u64, round: u64, record: Vec<u8>) -> &mut Self {
        self.rounds.push((table, round, record));
        self
    }

    /// The number of transactions added so far.
    pub fn transaction_count(&self) -> usize {
        self.txs.len()
    }
}
