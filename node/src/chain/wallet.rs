//! The node's own key behind the API's wallet routes: [`KeyWallet`], a
//! [`NodeWallet`] that signs actions with the right nonce and submits them
//! like any transaction.
//!
//! The nonce is the sender's next one after its transactions already in
//! the mempool (or the ledger's, if none are pending); choosing it and
//! admitting the transaction happen under one lock, so two wallet calls at
//! once never pick the same nonce. It holds the decrypted key in memory for
//! the node's lifetime and never writes it anywhere.

use std::sync::Arc;

use consensus::tx::{Action, Transaction};
use game_rules::Chips;
use wallet::{Address, Keypair};

use super::Chain;
use super::view::LedgerAccounts;
use crate::api::{NodeWallet, SubmitError, WalletSubmission};
use crate::mempool::AccountView;

/// How many blocks a wallet transaction stays valid for.
pub const DEFAULT_EXPIRY_BLOCKS: u64 = 600;

/// The node's own key, spending through the chain's mempool.
pub struct KeyWallet {
    key: Keypair,
    chain: Arc<Chain>,
}

impl std::fmt::Debug for KeyWallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyWallet")
            .field("address", &self.key.address())
            .finish_non_exhaustive()
    }
}

impl KeyWallet {
    /// A wallet of `key` on `chain`.
    pub fn new(key: Keypair, chain: Arc<Chain>) -> KeyWallet {
        KeyWallet { key, chain }
    }
}

impl NodeWallet for KeyWallet {
    fn address(&self) -> Address {
        self.key.address()
    }

    fn submit_action(
        &self,
        action: Action,
        fee: Option<Chips>,
    ) -> Result<WalletSubmission, SubmitError> {
        let _guard = self
            .chain
            .wallet_lock
            .lock()
            .map_err(|_| SubmitError::Internal("the wallet is unusable".into()))?;
        let address = self.key.address();
        let view = LedgerAccounts::new(self.chain.ledger.clone());
        let pending = self
            .chain
            .mempool
            .lock()
            .map_err(|_| SubmitError::Internal("the mempool is unusable".into()))?
            .pending_nonce(&address);
        let nonce = pending.unwrap_or_else(|| view.account(&address).map_or(0, |a| a.nonce));
        let min_relay = self
            .chain
            .mempool
            .lock()
            .map_or(Chips::ZERO, |m| m.config().min_relay_fee);
        let fee = fee.unwrap_or_else(|| view.min_fee().max(min_relay));
        let tx = Transaction {
            chain_id: self.chain.chain_id,
            sender: self.key.public_key(),
            nonce,
            fee,
            expiry_height: view.next_height().saturating_add(DEFAULT_EXPIRY_BLOCKS),
            action,
        }
        .sign(&self.key);
        let hash = self.chain.submit(tx)?;
        Ok(WalletSubmission {
            hash,
            nonce,
            fee: fee.get(),
        })
    }
}
