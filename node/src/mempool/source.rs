//! The mempool as the validator's proposal source: [`MempoolSource`]
//! implements `consensus::validator::TransactionSource` over the node's
//! shared mempool.

use std::sync::{Arc, Mutex};

use consensus::block::MAX_BLOCK_TX_BYTES;
use consensus::hash::TxHash;
use consensus::tx::SignedTransaction;
use consensus::validator::{SharedLedger, SubmitError, TransactionSource};

use super::{CheckedTransaction, Mempool};
use crate::chain::LedgerAccounts;

/// The shared mempool, feeding the consensus proposer.
#[derive(Clone, Debug)]
pub struct MempoolSource {
    mempool: Arc<Mutex<Mempool>>,
}

impl MempoolSource {
    /// A source drawing from `mempool`.
    pub fn new(mempool: Arc<Mutex<Mempool>>) -> MempoolSource {
        MempoolSource { mempool }
    }
}

impl TransactionSource for MempoolSource {
    fn candidates(&mut self, max: usize) -> Vec<SignedTransaction> {
        // A poisoned mempool proposes nothing; the block is still valid.
        self.mempool
            .lock()
            .map(|m| m.select(max, MAX_BLOCK_TX_BYTES))
            .unwrap_or_default()
    }

    fn finalized(&mut self, included: &[TxHash]) {
        if let Ok(mut mempool) = self.mempool.lock() {
            mempool.remove_included(included);
        }
    }

    /// The validator's own slashing transactions: admitted like any other
    /// (checked against the finalized ledger), proposed from here, and
    /// published with the daemon's next re-gossip round.
    fn submit(
        &mut self,
        tx: SignedTransaction,
        finalized: &SharedLedger,
    ) -> Result<(), SubmitError> {
        let refused = |reason: String| SubmitError { reason };
        let mut mempool = self
            .mempool
            .lock()
            .map_err(|_| refused("the mempool is poisoned".into()))?;
        let checked = CheckedTransaction::check(tx, &mempool.config().chain_id)
            .map_err(|e| refused(e.to_string()))?;
        mempool
            .insert(checked, &LedgerAccounts::new(finalized.clone()))
            .map(|_| ())
            .map_err(|e| refused(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::RwLock;

    use consensus::encoding::BoundedVec;
    use consensus::genesis::{Genesis, GenesisAccount, GenesisBankroll, GenesisValidator, Params};
    use consensus::ledger::Ledger;
    use consensus::tx::{Action, Transaction};
    use game_rules::Chips;
    use wallet::Keypair;

    use super::*;
    use crate::mempool::MempoolConfig;

    fn key(seed: u8) -> Keypair {
        Keypair::from_secret_bytes(&[seed; 32])
    }

    /// A chain where key 5 holds 100 chips.
    fn genesis() -> Genesis {
        let params = Params::default();
        Genesis {
            chain_name: "source-test".parse().unwrap(),
            genesis_time_ms: 0,
            accounts: BoundedVec::new(vec![GenesisAccount {
                address: key(5).address(),
                balance: Chips(100),
            }])
            .unwrap(),
            bankroll: GenesisBankroll {
                initial: Chips(0),
                owner: key(1).address(),
            },
            validators: BoundedVec::new(vec![GenesisValidator {
                consensus_key: key(9).public_key(),
                network_address: "127.0.0.1:9000".parse().unwrap(),
                stake: params.min_validator_stake,
            }])
            .unwrap(),
            params,
            dealer_beacon: true,
            beacon_sharing: None,
        }
    }

    fn transfer(genesis: &Genesis, from: &Keypair) -> SignedTransaction {
        Transaction {
            chain_id: genesis.chain_id(),
            sender: from.public_key(),
            nonce: 0,
            fee: Chips(1),
            expiry_height: 100,
            action: Action::Transfer {
                to: key(1).address(),
                amount: Chips(1),
            },
        }
        .sign(from)
    }

    #[test]
    fn submitted_transactions_pass_admission_and_are_proposed() {
        let genesis = genesis();
        let ledger: SharedLedger = Arc::new(RwLock::new(Ledger::in_memory(&genesis).unwrap()));
        let mempool = Arc::new(Mutex::new(Mempool::new(MempoolConfig::new(
            genesis.chain_id(),
        ))));
        let mut source = MempoolSource::new(mempool);
        let tx = transfer(&genesis, &key(5));
        assert_eq!(source.submit(tx.clone(), &ledger), Ok(()));
        assert_eq!(source.candidates(10), vec![tx.clone()]);
        // Admission is the mempool's: a duplicate, or a sender who cannot
        // pay the fee, is refused.
        assert!(source.submit(tx, &ledger).is_err());
        assert!(source.submit(transfer(&genesis, &key(6)), &ledger).is_err());
        assert_eq!(source.candidates(10).len(), 1);
    }
}
