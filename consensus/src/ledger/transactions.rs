//! Step 3: one transaction.
//!
//! First the stateful checks: the nonce is the sender's next, the block is
//! not past `expiry_height`, the fee is at least `min_fee` (faucet
//! transactions are exempt, so a brand-new account with no chips can send
//! one with fee 0), and the balance covers the fee. A transaction failing
//! any of them gets a `Rejected` receipt with **no** charge and its nonce
//! is **not** used: such a transaction should never be in a block, and
//! proposers filter them out (they cost the chain nothing, so they must not
//! cost their sender either — otherwise anyone could replay an old one to
//! drain its sender's fees).
//!
//! Otherwise the fee goes to the fee pool and the nonce goes up by one,
//! then the action runs. A refused action gives a `Rejected { reason }`
//! receipt and changes nothing but that fee and nonce: every handler checks
//! everything before it changes anything.

use game_rules::Chips;

use super::error::LedgerError;
use super::exec::{Env, Out, Sender, TxFailure, TxResult};
use super::state::State;
use crate::encoding::BoundedVec;
use crate::hash::TxHash;
use crate::receipt::{Receipt, RejectReason, TxStatus};
use crate::tx::{Action, SignedTransaction};

/// The stateful checks before any charge.
fn precheck(
    state: &State,
    env: &Env<'_>,
    signed: &SignedTransaction,
    sender: &Sender,
) -> Result<(), RejectReason> {
    let tx = &signed.tx;
    let account = state.account(&sender.address);
    if tx.nonce != account.nonce {
        return Err(RejectReason::BadNonce {
            expected: account.nonce,
            found: tx.nonce,
        });
    }
    if env.height > tx.expiry_height {
        return Err(RejectReason::Expired {
            expiry_height: tx.expiry_height,
            height: env.height,
        });
    }
    let faucet = matches!(tx.action, Action::Faucet { .. });
    if !faucet && tx.fee < env.params.min_fee {
        return Err(RejectReason::FeeTooLow {
            min: env.params.min_fee,
            offered: tx.fee,
        });
    }
    if account.balance < tx.fee {
        return Err(RejectReason::InsufficientBalance {
            needed: tx.fee,
            available: account.balance,
        });
    }
    if account.nonce.checked_add(1).is_none() {
        return Err(RejectReason::Overflow);
    }
    Ok(())
}

impl State {
    /// Executes one transaction; returns its receipt and the accounts it
    /// touched. `Err` only for a ledger fault (the block is refused).
    pub(crate) fn execute_transaction(
        &mut self,
        env: &Env<'_>,
        signed: &SignedTransaction,
        hash: TxHash,
    ) -> Result<(Receipt, Out), LedgerError> {
        let tx = &signed.tx;
        let sender = Sender {
            address: tx.sender.address(),
            key: tx.sender,
        };
        let mut out = Out::default();
        out.touch(sender.address);
        #[cfg(test)]
        let audit = self.audit.then(|| self.all_entries());
        if let Err(reason) = precheck(self, env, signed, &sender) {
            #[cfg(test)]
            if let Some(before) = audit {
                assert!(
                    before == self.all_entries(),
                    "a transaction refused before its fee changed the state: {reason:?}"
                );
            }
            let receipt = Receipt {
                tx: hash,
                status: TxStatus::Rejected { reason },
                fee_charged: Chips::ZERO,
                events: BoundedVec::empty(),
            };
            return Ok((receipt, out));
        }
        // The fee and the nonce.
        self.debit(&mut out, sender.address, tx.fee)?;
        let mut account = self.account(&sender.address);
        account.nonce = account
            .nonce
            .checked_add(1)
            .ok_or(LedgerError::overflow("a nonce"))?;
        self.set_account(sender.address, account);
        let fee_pool = self
            .globals
            .get()
            .fee_pool
            .checked_add(tx.fee)
            .ok_or(LedgerError::overflow("the fee pool"))?;
        self.globals.get_mut().fee_pool = fee_pool;
        let charged_events = out.events.len();
        #[cfg(test)]
        let audit = self.audit.then(|| self.all_entries());

        let status = match self.dispatch(env, &sender, &mut out, &tx.action) {
            Ok(()) => TxStatus::Applied,
            Err(TxFailure::Reject(reason)) => {
                #[cfg(test)]
                if let Some(before) = audit {
                    assert!(
                        before == self.all_entries(),
                        "a refused {} changed more than the fee and nonce: {reason:?}",
                        tx.action.name()
                    );
                    self.audited_rejections += 1;
                }
                // Nothing of the action happened; drop anything it noted.
                out.events.truncate(charged_events);
                TxStatus::Rejected { reason }
            }
            Err(TxFailure::Fatal(error)) => return Err(error),
        };
        let events = BoundedVec::new(std::mem::take(&mut out.events))
            .map_err(|_| LedgerError::overflow("a receipt's events"))?;
        let receipt = Receipt {
            tx: hash,
            status,
            fee_charged: tx.fee,
            events,
        };
        Ok((receipt, out))
    }

    fn dispatch(
        &mut self,
        env: &Env<'_>,
        sender: &Sender,
        out: &mut Out,
        action: &Action,
    ) -> TxResult {
        match action {
            Action::Transfer { to, amount } => {
                self.require_balance(&sender.address, *amount)?;
                let to_balance = self.account(to).balance;
                if *to != sender.address {
                    to_balance
                        .checked_add(*amount)
                        .ok_or(RejectReason::Overflow)?;
                }
                self.debit(out, sender.address, *amount)?;
                self.credit(out, *to, *amount)?;
                out.touch(*to);
                Ok(())
            }
            Action::BankrollDeposit { amount } => self.bankroll_deposit(sender, out, *amount),
            Action::BankrollWithdraw { shares } => {
                self.bankroll_withdraw(env, sender, out, *shares)
            }
            Action::CreateTable {
                name,
                max_players,
                game,
            } => self.create_table(env, sender, out, name, *max_players, game),
            Action::CloseTable { table } => self.close_table(sender, out, *table),
            Action::JoinTable { table } => self.join_table(sender, out, *table),
            Action::LeaveTable { table } => self.leave_table(sender, out, *table),
            Action::CrapsBet {
                table,
                kind,
                amount,
            } => self.craps_bet(sender, out, *table, *kind, *amount),
            Action::CrapsOdds { table, bet, amount } => {
                self.craps_odds(sender, out, *table, *bet, *amount)
            }
            Action::CrapsTakeDown { table, bet } => self.craps_take_down(sender, out, *table, *bet),
            Action::CrapsSetWorking {
                table,
                bet,
                working,
            } => self.craps_set_working(sender, *table, *bet, *working),
            Action::CrashBet {
                table,
                amount,
                auto_cash_out,
            } => self.crash_bet(env, sender, out, *table, *amount, *auto_cash_out),
            Action::CrashCashOut { table } => self.crash_cash_out(sender, out, *table),
            Action::RegisterValidator {
                consensus_key,
                network_address,
            } => self.register_validator(sender, out, consensus_key, network_address),
            Action::Stake { amount } => self.stake(sender, out, *amount),
            Action::Unstake { amount } => self.unstake(env, sender, out, *amount),
            Action::SlashingEvidence { evidence } => self.slash(env, out, evidence),
            Action::Faucet { amount } => self.faucet(env, sender, out, *amount),
            Action::DealerLog { round, log } => self.dealer_log(env, sender, *round, log),
        }
    }

    /// `Faucet`: mints up to the genesis per-request maximum.
    fn faucet(&mut self, env: &Env<'_>, sender: &Sender, out: &mut Out, amount: Chips) -> TxResult {
        let faucet = env.params.faucet.ok_or(RejectReason::FaucetDisabled)?;
        if amount > faucet.max_per_request {
            return Err(RejectReason::FaucetLimit {
                max: faucet.max_per_request,
            }
            .into());
        }
        let minted = self
            .globals
            .get()
            .minted
            .checked_add(amount)
            .ok_or(RejectReason::Overflow)?;
        // The supply must stay within 64 bits.
        u64::try_from(self.globals.get().expected_supply() + u128::from(amount.get()))
            .map_err(|_| RejectReason::Overflow)?;
        self.account(&sender.address)
            .balance
            .checked_add(amount)
            .ok_or(RejectReason::Overflow)?;
        self.credit(out, sender.address, amount)?;
        self.globals.get_mut().minted = minted;
        out.event(crate::receipt::LedgerEvent::FaucetPaid {
            account: sender.address,
            amount,
        });
        Ok(())
    }
}
