//! What every step of block execution shares: the block's environment,
//! where events, touched accounts and round records go, how a transaction
//! fails, and balance moves.

use std::collections::BTreeSet;

use game_rules::Chips;
use wallet::{Address, ChainId, PublicKey};

use super::error::LedgerError;
use super::records::RoundRecord;
use super::state::State;
use crate::genesis::Params;
use crate::hash::Hash;
use crate::receipt::{LedgerEvent, ReasonText, RejectReason};
use crate::tx::TableId;

/// The block being applied.
pub(crate) struct Env<'a> {
    pub(crate) params: &'a Params,
    pub(crate) height: u64,
    pub(crate) timestamp_ms: u64,
    pub(crate) block_hash: Hash,
    /// The epoch of this height.
    pub(crate) epoch: u64,
    /// The chain, whose namespace consensus votes are signed under.
    pub(crate) chain_id: &'a ChainId,
    /// The output standing for the genesis `beacon_sharing` (`None`
    /// without one: no resharing).
    pub(crate) beacon: Option<&'a crate::beacon::dkg::DkgOutput>,
}

/// Who sent the transaction being executed.
pub(crate) struct Sender {
    pub(crate) address: Address,
    pub(crate) key: PublicKey,
}

/// What a step produced: events in order, the accounts a transaction
/// touched, and finished rounds for the explorer.
#[derive(Default)]
pub(crate) struct Out {
    pub(crate) events: Vec<LedgerEvent>,
    pub(crate) touched: BTreeSet<Address>,
    pub(crate) rounds: Vec<(TableId, u64, RoundRecord)>,
}

impl Out {
    pub(crate) fn event(&mut self, event: LedgerEvent) {
        self.events.push(event);
    }

    pub(crate) fn touch(&mut self, address: Address) {
        self.touched.insert(address);
    }
}

/// How a transaction's action failed: refused (a receipt says why; nothing
/// changed but the fee and nonce) or a ledger fault (the block is refused).
#[derive(Debug)]
pub(crate) enum TxFailure {
    Reject(RejectReason),
    Fatal(LedgerError),
}

impl From<RejectReason> for TxFailure {
    fn from(reason: RejectReason) -> Self {
        TxFailure::Reject(reason)
    }
}

impl From<LedgerError> for TxFailure {
    fn from(error: LedgerError) -> Self {
        TxFailure::Fatal(error)
    }
}

/// The result of executing an action.
pub(crate) type TxResult = Result<(), TxFailure>;

/// A reason text, cut to fit.
pub(crate) fn text(reason: &str) -> ReasonText {
    ReasonText::lossy(reason)
}

impl State {
    /// Refuses unless `who` has at least `amount`.
    pub(crate) fn require_balance(&self, who: &Address, amount: Chips) -> Result<(), RejectReason> {
        let available = self.account(who).balance;
        if available < amount {
            return Err(RejectReason::InsufficientBalance {
                needed: amount,
                available,
            });
        }
        Ok(())
    }

    /// Adds `amount` to `to`'s balance.
    pub(crate) fn credit(
        &mut self,
        out: &mut Out,
        to: Address,
        amount: Chips,
    ) -> Result<(), LedgerError> {
        if amount == Chips::ZERO {
            return Ok(());
        }
        let mut account = self.account(&to);
        let before = account.balance;
        account.balance = before
            .checked_add(amount)
            .ok_or(LedgerError::overflow("a balance"))?;
        self.set_account(to, account);
        out.touch(to);
        out.event(LedgerEvent::BalanceChanged {
            account: to,
            before,
            after: account.balance,
        });
        Ok(())
    }

    /// Takes `amount` from `from`'s balance (the caller checked it is there).
    pub(crate) fn debit(
        &mut self,
        out: &mut Out,
        from: Address,
        amount: Chips,
    ) -> Result<(), LedgerError> {
        if amount == Chips::ZERO {
            return Ok(());
        }
        let mut account = self.account(&from);
        let before = account.balance;
        account.balance = before
            .checked_sub(amount)
            .ok_or(LedgerError::overflow("a balance below zero"))?;
        self.set_account(from, account);
        out.touch(from);
        out.event(LedgerEvent::BalanceChanged {
            account: from,
            before,
            after: account.balance,
        });
        Ok(())
    }
}
