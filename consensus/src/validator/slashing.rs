//! Turning equivocation the engine saw into slashing transactions.
//!
//! When simplex reports that a committee member signed two conflicting
//! votes, the validator checks the evidence against the committee of the
//! votes' epoch in its finalized ledger (the same check the ledger makes:
//! the sharing in force in that epoch, reshared or not), and — unless the offender is itself,
//! or the offence is already punished or being pursued — signs a
//! `SlashingEvidence` transaction with its own key and submits it to its
//! [`TransactionSource`] (the node's mempool, which gossips it), so
//! whichever validator leads next includes it.
//!
//! One offence (offender, slot) gets one transaction from this validator;
//! simplex may report an offence more than once (another pair of votes of
//! the same view, a restart) and the ledger punishes it at most once
//! anyway. After every finalized block the pursuit is brought up to date
//! against the finalized ledger:
//!
//! - the offence is punished (by anyone's transaction), or the ledger
//!   would no longer judge it (its epoch left the evidence window): done;
//! - this validator's transaction ran and was refused (its nonce was used
//!   by it): done — the ledger's verdict stands;
//! - the transaction cannot run any more (expired, its nonce used by
//!   another transaction of this key, or included but refused before its
//!   fee, e.g. for want of balance): submitted again with a fresh nonce;
//! - otherwise: still waiting.
//!
//! Everything is kept in ordered maps and bounded ([`MAX_PURSUITS`],
//! [`MAX_SETTLED`]).

use std::collections::{BTreeMap, BTreeSet};

use wallet::{Keypair, PublicKey};

use super::{SharedLedger, TransactionSource};
use crate::hash::TxHash;
use crate::ledger::Ledger;
use crate::tx::{Action, Equivocation, Evidence, Slot, Transaction};

/// How many blocks a slashing transaction may wait for inclusion before it
/// is submitted again (with a fresh nonce).
pub const SLASHING_TX_LIFETIME_BLOCKS: u64 = 64;

/// The most offences pursued at once; evidence past this is dropped (the
/// other validators report it too).
pub const MAX_PURSUITS: usize = 64;

/// The most finished offences remembered (so that a repeated report does
/// not start a pursuit the ledger would refuse); the lowest slots are
/// forgotten first.
pub const MAX_SETTLED: usize = 1024;

/// One submitted slashing transaction.
#[derive(Clone, Copy, Debug)]
struct Submitted {
    hash: TxHash,
    nonce: u64,
    expiry_height: u64,
    /// Seen in a finalized block.
    included: bool,
}

/// One offence being pursued.
#[derive(Clone, Debug)]
struct Pursuit {
    evidence: Equivocation,
    submitted: Option<Submitted>,
}

/// This validator's slashing reports (see the [module documentation](self)).
#[derive(Debug, Default)]
pub(super) struct Slashing {
    pursuits: BTreeMap<(PublicKey, Slot), Pursuit>,
    settled: BTreeSet<(PublicKey, Slot)>,
    /// A nonce another of this validator's transactions (a resharing log)
    /// holds: slashing transactions take nonces after it.
    reserved: Option<u64>,
}

impl Slashing {
    /// The first nonce after those of slashing transactions still
    /// waiting, for an account whose next nonce is `account_nonce`.
    pub(super) fn next_free_nonce(&self, account_nonce: u64) -> u64 {
        self.pursuits
            .values()
            .filter_map(|p| p.submitted)
            .filter(|s| s.nonce >= account_nonce && !s.included)
            .map(|s| s.nonce.saturating_add(1))
            .max()
            .unwrap_or(account_nonce)
            .max(account_nonce)
    }

    /// Another transaction of this validator holds `nonce`.
    pub(super) fn reserve(&mut self, nonce: u64) {
        self.reserved = Some(nonce);
    }

    /// Simplex reported `evidence`: start pursuing the offence if it is
    /// new, then submit what is due.
    pub(super) fn report<T: TransactionSource>(
        &mut self,
        evidence: Equivocation,
        keypair: &Keypair,
        mirror: &Ledger,
        ledger: &SharedLedger,
        transactions: &mut T,
    ) {
        let epoch = match evidence.signer_and_slot() {
            Ok((_, slot)) => slot.epoch,
            Err(error) => {
                // Simplex encoded the votes: this is a bug somewhere.
                tracing::error!(%error, "reported equivocation does not decode");
                return;
            }
        };
        let committee = match mirror.consensus_committee(epoch) {
            Ok(Ok(committee)) => committee,
            Ok(Err(refused)) => {
                tracing::warn!(epoch, %refused, "reported equivocation cannot be judged");
                return;
            }
            Err(error) => {
                tracing::error!(epoch, %error, "no committee for reported equivocation");
                return;
            }
        };
        let offence = match committee.verify(&evidence) {
            Ok(offence) => offence,
            Err(error) => {
                // Simplex verified the votes: this is a bug somewhere.
                tracing::error!(%error, "reported equivocation does not verify");
                return;
            }
        };
        let key = (offence.offender, offence.slot);
        if offence.offender == keypair.public_key()
            || self.pursuits.contains_key(&key)
            || self.settled.contains(&key)
            || mirror.is_punished(&offence.offender, &offence.slot)
        {
            return;
        }
        if self.pursuits.len() >= MAX_PURSUITS {
            tracing::warn!(offender = %offence.offender, "too many offences pursued; dropping one");
            return;
        }
        tracing::warn!(
            offender = %offence.offender,
            epoch = offence.slot.epoch,
            view = offence.slot.view,
            kind = ?evidence.kind,
            "equivocation: submitting a slashing transaction"
        );
        self.pursuits.insert(
            key,
            Pursuit {
                evidence,
                submitted: None,
            },
        );
        self.pursue(keypair, mirror, ledger, transactions);
    }

    /// `included` are the transactions of a block just finalized (and
    /// applied to `mirror`): bring every pursuit up to date.
    pub(super) fn finalized<T: TransactionSource>(
        &mut self,
        included: &[TxHash],
        keypair: &Keypair,
        mirror: &Ledger,
        ledger: &SharedLedger,
        transactions: &mut T,
    ) {
        if self.pursuits.is_empty() {
            return;
        }
        let included: BTreeSet<&TxHash> = included.iter().collect();
        for pursuit in self.pursuits.values_mut() {
            if let Some(submitted) = &mut pursuit.submitted
                && included.contains(&submitted.hash)
            {
                submitted.included = true;
            }
        }
        self.pursue(keypair, mirror, ledger, transactions);
    }

    /// Settles what is over and submits what is due (see the
    /// [module documentation](self)).
    fn pursue<T: TransactionSource>(
        &mut self,
        keypair: &Keypair,
        mirror: &Ledger,
        ledger: &SharedLedger,
        transactions: &mut T,
    ) {
        let account = mirror.account(&keypair.address());
        let next_height = mirror.next_height();
        let mut done = Vec::new();
        let mut due = Vec::new();
        for (key, pursuit) in &self.pursuits {
            if mirror.is_punished(&key.0, &key.1)
                || !matches!(mirror.consensus_committee(key.1.epoch), Ok(Ok(_)))
            {
                done.push(*key);
                continue;
            }
            match pursuit.submitted {
                Some(s) if s.nonce < account.nonce && s.included => done.push(*key),
                Some(s)
                    if s.nonce >= account.nonce
                        && !s.included
                        && s.expiry_height >= next_height => {}
                _ => due.push(*key),
            }
        }
        for key in done {
            self.pursuits.remove(&key);
            self.settled.insert(key);
        }
        while self.settled.len() > MAX_SETTLED {
            self.settled.pop_first();
        }
        // Nonces above the account's still held by waiting transactions.
        let mut nonce = self
            .pursuits
            .values()
            .filter_map(|p| p.submitted)
            .filter(|s| s.nonce >= account.nonce && !s.included)
            .map(|s| s.nonce.saturating_add(1))
            .max()
            .unwrap_or(account.nonce)
            .max(account.nonce)
            .max(
                self.reserved
                    .filter(|r| *r >= account.nonce)
                    .map_or(0, |r| r.saturating_add(1)),
            );
        let fee = mirror.params().min_fee;
        if !due.is_empty() && account.balance < fee {
            // Nothing could pay the fee: wait for the account to be funded
            // (fees are paid out at epoch ends) rather than fill blocks
            // with transactions refused before their fee.
            tracing::warn!(fee = %fee, "no balance for a slashing transaction's fee yet");
            return;
        }
        for key in due {
            let Some(pursuit) = self.pursuits.get_mut(&key) else {
                continue;
            };
            let expiry_height = next_height.saturating_add(SLASHING_TX_LIFETIME_BLOCKS);
            let tx = Transaction {
                chain_id: mirror.chain_id(),
                sender: keypair.public_key(),
                nonce,
                fee,
                expiry_height,
                action: Action::SlashingEvidence {
                    evidence: Evidence::Equivocation(pursuit.evidence.clone()),
                },
            }
            .sign(keypair);
            let hash = tx.hash();
            match transactions.submit(tx, ledger) {
                Ok(()) => {
                    pursuit.submitted = Some(Submitted {
                        hash,
                        nonce,
                        expiry_height,
                        included: false,
                    });
                    nonce = nonce.saturating_add(1);
                }
                Err(error) => {
                    // Tried again after the next finalized block.
                    tracing::warn!(offender = %key.0, %error, "slashing transaction refused");
                    pursuit.submitted = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, RwLock};

    use super::*;
    use crate::ledger::tests::reshare_tests::{Reshared, reshared, votes, wallet_of};
    use crate::ledger::tests::support::all_applied;
    use crate::tx::SignedTransaction;
    use crate::validator::SubmitError;

    /// A transaction source that keeps what is submitted.
    #[derive(Default)]
    struct Submitted(Vec<SignedTransaction>);

    impl TransactionSource for Submitted {
        fn candidates(&mut self, max: usize) -> Vec<SignedTransaction> {
            self.0.iter().take(max).cloned().collect()
        }

        fn finalized(&mut self, _: &[TxHash]) {}

        fn submit(&mut self, tx: SignedTransaction, _: &SharedLedger) -> Result<(), SubmitError> {
            self.0.push(tx);
            Ok(())
        }
    }

    /// Equivocation the engine reports in a reshared epoch (votes signed
    /// with a share of the resharing) becomes a slashing transaction the
    /// ledger takes; votes signed with a superseded share but claiming the
    /// new epoch do not verify and are not reported; once the offence is
    /// punished it is not pursued again.
    #[test]
    fn equivocation_in_a_reshared_epoch_is_reported_and_slashed() {
        let Reshared {
            mut chain,
            members,
            genesis,
            output,
            old,
        } = reshared();
        let chain_id = chain.ledger.chain_id();
        let reporter = wallet_of(&members[2].identity);
        let offender = members[4].wallet.public_key();
        let mirror =
            |chain: &crate::ledger::tests::support::Chain| chain.ledger.fork_in_memory().unwrap();
        let shared: SharedLedger = Arc::new(RwLock::new(mirror(&chain)));
        let mut slashing = Slashing::default();
        let mut source = Submitted::default();

        // An old share in votes claiming epoch 1: no proof, nothing sent.
        let stale = votes(&chain_id, &genesis, old[0].as_ref().unwrap(), 1, 4);
        slashing.report(stale, &reporter, &mirror(&chain), &shared, &mut source);
        assert!(source.0.is_empty());

        let evidence = votes(&chain_id, &output, members[4].share.as_ref().unwrap(), 1, 3);
        slashing.report(
            evidence.clone(),
            &reporter,
            &mirror(&chain),
            &shared,
            &mut source,
        );
        assert_eq!(source.0.len(), 1, "one slashing transaction");
        let tx = source.0[0].clone();
        assert!(matches!(
            &tx.tx.action,
            Action::SlashingEvidence { evidence: Evidence::Equivocation(e) } if *e == evidence
        ));
        let hash = tx.hash();
        all_applied(&chain.apply(vec![tx]));
        let punished = chain.ledger.validator(&offender).unwrap();
        assert!(punished.slashed);

        // Finalized: the pursuit is over, and a repeated report of the
        // offence sends nothing.
        let finalized = mirror(&chain);
        slashing.finalized(&[hash], &reporter, &finalized, &shared, &mut source);
        assert!(slashing.pursuits.is_empty());
        slashing.report(evidence, &reporter, &finalized, &shared, &mut source);
        assert_eq!(source.0.len(), 1);
    }
}
