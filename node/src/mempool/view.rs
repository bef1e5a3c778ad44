//! What the mempool needs to know about the ledger: [`AccountView`].

use game_rules::Chips;
use wallet::{Address, PublicKey};

/// An account's spendable balance and next nonce, as the ledger has them
/// after the last applied block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountState {
    /// The balance the sender can spend on fees and amounts.
    pub balance: Chips,
    /// The nonce its next transaction must carry (the number of its
    /// transactions applied so far).
    pub nonce: u64,
}

/// A read-only view of the ledger at its latest applied block: the only
/// state the mempool's stateful checks read.
///
/// The ledger implements it (it lives in `bitcraps-consensus`, which the
/// node may not change); tests implement it with a map. Implementations
/// must be cheap: the mempool calls [`AccountView::account`] once per
/// submitted transaction and once per sender on every new height.
pub trait AccountView {
    /// The account of `address`, or `None` if it has never been touched
    /// (balance 0, nonce 0).
    fn account(&self, address: &Address) -> Option<AccountState>;

    /// The height of the next block, which is the first that could include
    /// a transaction submitted now (a transaction is expired when its
    /// `expiry_height` is below it).
    fn next_height(&self) -> u64;

    /// The chain's minimum fee (the genesis `min_fee`): a transaction paying
    /// less can never be included, on any node.
    fn min_fee(&self) -> Chips;

    /// Whether the next block would take a dealer log of resharing round
    /// `round` from `sender` (the round is open, `sender` is one of its
    /// dealers, its log is not in yet): the ledger's
    /// `Ledger::takes_dealer_log`. The mempool admits no other dealer log.
    fn takes_dealer_log(&self, sender: &PublicKey, round: u64) -> bool;
}

impl<T: AccountView + ?Sized> AccountView for &T {
    fn account(&self, address: &Address) -> Option<AccountState> {
        (**self).account(address)
    }

    fn next_height(&self) -> u64 {
        (**self).next_height()
    }

    fn min_fee(&self) -> Chips {
        (**self).min_fee()
    }

    fn takes_dealer_log(&self, sender: &PublicKey, round: u64) -> bool {
        (**self).takes_dealer_log(sender, round)
    }
}

impl<T: AccountView + ?Sized> AccountView for std::sync::Arc<T> {
    fn account(&self, address: &Address) -> Option<AccountState> {
        (**self).account(address)
    }

    fn next_height(&self) -> u64 {
        (**self).next_height()
    }

    fn min_fee(&self) -> Chips {
        (**self).min_fee()
    }

    fn takes_dealer_log(&self, sender: &PublicKey, round: u64) -> bool {
        (**self).takes_dealer_log(sender, round)
    }
}
