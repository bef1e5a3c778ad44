//! The shared bankroll: pool shares, withdrawals, and the reserve.
//!
//! ## Shares
//!
//! A deposit of `amount` chips mints `amount` shares when no shares exist
//! (one share per chip; a first depositor after every share was redeemed
//! also receives any chips left in the pool by rounding), and otherwise
//! `floor(amount · total_shares / pool chips)` — rounded down, so a deposit
//! never dilutes the holders. A deposit that would buy no share, or into a
//! pool that has shares but no chips, is refused.
//!
//! A withdrawal of `shares` locks them at once (they are no longer the
//! holder's, but still count in `total_shares`, so the pool's wins and
//! losses during the delay are shared by them) and is paid at the first
//! block at height ≥ request height + `withdrawal_delay_blocks`:
//! `floor(shares · pool chips / total_shares)` chips, at the price of that
//! block. Arithmetic is exact in 256 bits ([`mul_div`]).
//!
//! ## Reserve
//!
//! The pool must always be able to pay what it may owe, so part of it is
//! *reserved* ([`Bankroll::reserved`](super::Bankroll::reserved), always at
//! most the pool's chips):
//!
//! - each craps bet on a table reserves its largest possible win, of its
//!   stake and of its odds ([`max_win`](super::craps::max_win)), while it is
//!   on the table;
//! - a running crash round reserves `cap − Σ paid to settled bets − Σ stakes
//!   still unsettled`, which starts at `cap − total staked` (the stakes
//!   themselves sit in escrow) and never goes below zero, because the
//!   engine's risk cap keeps everything the round can pay at or under
//!   `cap`.
//!
//! What is not reserved is *free*. A craps bet (or more odds) whose largest
//! win the free chips cannot cover is refused
//! ([`RejectReason::InsufficientBankroll`]); a crash bet is refused if the
//! round's total stakes would pass the risk cap on the free chips. A crash
//! round starts with `cap = max(crash_risk_cap_bps of the free chips, total
//! staked)`: its reserve `cap − staked` is then never more than the free
//! chips, so a start is never refused (when the cap equals the stakes,
//! every bet cashes out at 1.00× at the first tick).
//!
//! Withdrawals are paid only from free chips: if the first withdrawal due
//! is larger, it and every later one wait (first in, first out) until
//! settlements free enough chips.
//!
//! A craps bet that wins and stays up (place, buy, lay, hardways, big 6/8)
//! keeps its reserve after its winnings are paid, which could leave the
//! reserve above the pool; in that case the bets that just won and stayed
//! up come down after being paid (stake returned to their owners), in bet
//! order, until the reserve fits again — taking down exactly those bets
//! always suffices, since each of their winnings was at most its reserve.

use game_rules::Chips;

use super::error::LedgerError;
use super::exec::{Env, Out, Sender, TxResult, text};
use super::state::{State, Withdrawal};
use crate::genesis::BPS_DENOMINATOR;
use crate::receipt::{LedgerEvent, RejectReason};

/// `floor(a · b / d)`, exactly, with a 256-bit product; `None` if `d` is 0
/// or the quotient does not fit in 128 bits.
pub fn mul_div(a: u128, b: u128, d: u128) -> Option<u128> {
    if d == 0 {
        return None;
    }
    if let Some(product) = a.checked_mul(b) {
        return Some(product / d);
    }
    let (hi, lo) = mul_wide(a, b);
    if hi >= d {
        return None;
    }
    // Long division of hi·2^128 + lo by d, one bit at a time; the remainder
    // stays below d, so `rem·2 + bit` is below 2^129: the bit shifted out
    // is kept in `carry`, and the subtraction's wrap is exact.
    let mut rem = hi;
    let mut quotient = 0u128;
    for i in (0..128).rev() {
        let carry = rem >> 127;
        rem = (rem << 1) | ((lo >> i) & 1);
        quotient <<= 1;
        if carry == 1 || rem >= d {
            rem = rem.wrapping_sub(d);
            quotient |= 1;
        }
    }
    Some(quotient)
}

/// The 256-bit product of two `u128`, as (high, low) halves.
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const MASK: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & MASK);
    let (b1, b0) = (b >> 64, b & MASK);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & MASK) + (p10 & MASK);
    let lo = (p00 & MASK) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// The shares a deposit of `amount` buys (see the module doc).
pub fn shares_for_deposit(
    amount: Chips,
    pool: Chips,
    total_shares: u128,
) -> Result<u128, RejectReason> {
    if total_shares == 0 {
        return Ok(u128::from(amount.get()));
    }
    if pool == Chips::ZERO {
        return Err(RejectReason::BankrollRefused {
            reason: text(
                "the bankroll has shares outstanding but no chips; deposits resume once it \
                 holds chips again",
            ),
        });
    }
    let shares = mul_div(
        u128::from(amount.get()),
        total_shares,
        u128::from(pool.get()),
    )
    .ok_or(RejectReason::Overflow)?;
    if shares == 0 {
        return Err(RejectReason::BankrollRefused {
            reason: text("the deposit is too small to buy one share at the current price"),
        });
    }
    Ok(shares)
}

/// What `shares` redeem from a pool of `pool` chips and `total_shares`
/// shares, rounded down.
pub fn redemption_value(shares: u128, pool: Chips, total_shares: u128) -> Option<Chips> {
    let value = mul_div(shares, u128::from(pool.get()), total_shares)?;
    u64::try_from(value).ok().map(Chips)
}

/// The risk cap of a crash round: `bps` basis points of `free`, rounded
/// down.
pub fn risk_cap(free: Chips, bps: u16) -> Chips {
    free.mul_ratio_floor(u64::from(bps), u64::from(BPS_DENOMINATOR))
        .unwrap_or(free)
}

impl State {
    /// The bankroll's free chips.
    pub(crate) fn free_chips(&self) -> Chips {
        self.bankroll.get().free()
    }

    /// Reserves `amount` more (the caller checked it is free).
    pub(crate) fn add_reserve(&mut self, amount: Chips) -> Result<(), LedgerError> {
        if amount == Chips::ZERO {
            return Ok(());
        }
        let bankroll = self.bankroll.get_mut();
        bankroll.reserved = bankroll
            .reserved
            .checked_add(amount)
            .ok_or(LedgerError::overflow("the bankroll reserve"))?;
        Ok(())
    }

    /// Releases `amount` of the reserve.
    pub(crate) fn release_reserve(&mut self, amount: Chips) -> Result<(), LedgerError> {
        if amount == Chips::ZERO {
            return Ok(());
        }
        let bankroll = self.bankroll.get_mut();
        bankroll.reserved = bankroll
            .reserved
            .checked_sub(amount)
            .ok_or(LedgerError::overflow("the bankroll reserve below zero"))?;
        Ok(())
    }

    /// Moves a table's reserve from `before` to `after`.
    pub(crate) fn move_reserve(&mut self, before: Chips, after: Chips) -> Result<(), LedgerError> {
        if after >= before {
            self.add_reserve(Chips(after.get() - before.get()))
        } else {
            self.release_reserve(Chips(before.get() - after.get()))
        }
    }

    /// Chips into the pool (lost stakes, commissions).
    pub(crate) fn pool_in(&mut self, amount: Chips) -> Result<(), LedgerError> {
        if amount == Chips::ZERO {
            return Ok(());
        }
        let bankroll = self.bankroll.get_mut();
        bankroll.chips = bankroll
            .chips
            .checked_add(amount)
            .ok_or(LedgerError::overflow("the bankroll"))?;
        Ok(())
    }

    /// Chips out of the pool (winnings); the reserve guarantees they are
    /// there.
    pub(crate) fn pool_out(&mut self, amount: Chips) -> Result<(), LedgerError> {
        if amount == Chips::ZERO {
            return Ok(());
        }
        let bankroll = self.bankroll.get_mut();
        bankroll.chips = bankroll
            .chips
            .checked_sub(amount)
            .ok_or(LedgerError::overflow("the bankroll below zero"))?;
        Ok(())
    }

    /// `BankrollDeposit`.
    pub(crate) fn bankroll_deposit(
        &mut self,
        sender: &Sender,
        out: &mut Out,
        amount: Chips,
    ) -> TxResult {
        let sender = sender.address;
        self.require_balance(&sender, amount)?;
        let bankroll = self.bankroll.get();
        let shares = shares_for_deposit(amount, bankroll.chips, bankroll.total_shares)?;
        bankroll
            .chips
            .checked_add(amount)
            .ok_or(RejectReason::Overflow)?;
        let total = bankroll
            .total_shares
            .checked_add(shares)
            .ok_or(RejectReason::Overflow)?;
        let held = self
            .shares_of(&sender)
            .checked_add(shares)
            .ok_or(RejectReason::Overflow)?;
        self.debit(out, sender, amount)?;
        self.pool_in(amount)?;
        self.bankroll.get_mut().total_shares = total;
        self.set_shares(sender, held);
        out.event(LedgerEvent::BankrollDeposited {
            account: sender,
            amount,
            shares,
        });
        Ok(())
    }

    /// `BankrollWithdraw`: locks the shares and queues the payment.
    pub(crate) fn bankroll_withdraw(
        &mut self,
        env: &Env<'_>,
        sender: &Sender,
        out: &mut Out,
        shares: u128,
    ) -> TxResult {
        let sender = sender.address;
        let held = self.shares_of(&sender);
        if held < shares {
            return Err(RejectReason::InsufficientShares {
                requested: shares,
                held,
            }
            .into());
        }
        let payable_at = env
            .height
            .checked_add(env.params.withdrawal_delay_blocks)
            .ok_or(RejectReason::Overflow)?;
        let sequence = self.globals.get().next_withdrawal;
        let next = sequence.checked_add(1).ok_or(RejectReason::Overflow)?;
        self.set_shares(sender, held - shares);
        self.withdrawals.insert(
            sequence,
            Withdrawal {
                account: sender,
                shares,
                payable_at,
            },
        );
        self.globals.get_mut().next_withdrawal = next;
        out.event(LedgerEvent::BankrollWithdrawalQueued {
            account: sender,
            shares,
            payable_at,
        });
        Ok(())
    }

    /// Pays the withdrawals that are due, first in first out, while the
    /// free chips cover them (step 6).
    pub(crate) fn pay_withdrawals(
        &mut self,
        env: &Env<'_>,
        out: &mut Out,
    ) -> Result<(), LedgerError> {
        let due: Vec<(u64, Withdrawal)> = self
            .withdrawals
            .iter()
            .take_while(|(_, w)| w.payable_at <= env.height)
            .map(|(s, w)| (*s, w.clone()))
            .collect();
        for (sequence, withdrawal) in due {
            let bankroll = self.bankroll.get();
            let amount = redemption_value(withdrawal.shares, bankroll.chips, bankroll.total_shares)
                .ok_or(LedgerError::overflow("a withdrawal's value"))?;
            if amount > bankroll.free() {
                // It waits, and so does everything after it.
                break;
            }
            let total = bankroll
                .total_shares
                .checked_sub(withdrawal.shares)
                .ok_or(LedgerError::overflow("the bankroll's shares below zero"))?;
            self.pool_out(amount)?;
            self.bankroll.get_mut().total_shares = total;
            self.withdrawals.remove(&sequence);
            self.credit(out, withdrawal.account, amount)?;
            out.event(LedgerEvent::BankrollWithdrawalPaid {
                account: withdrawal.account,
                shares: withdrawal.shares,
                amount,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_is_exact_past_128_bits() {
        assert_eq!(mul_div(6, 7, 3), Some(14));
        assert_eq!(mul_div(1, 1, 0), None);
        let big = u128::MAX;
        assert_eq!(mul_div(big, big, big), Some(big));
        assert_eq!(mul_div(big, 3, 6), Some(big / 2));
        assert_eq!(mul_div(1 << 100, 1 << 100, 1 << 90), Some(1 << 110));
        assert_eq!(mul_div(big, 2, 1), None);
        // (2^127 + 1) · 3 / 2 = 3·2^126 + 1 (floor of …+1.5).
        assert_eq!(mul_div((1 << 127) + 1, 3, 2), Some(3 * (1 << 126) + 1));
    }

    #[test]
    fn share_math() {
        // First deposit: one share per chip.
        assert_eq!(shares_for_deposit(Chips(500), Chips(0), 0), Ok(500));
        // Pool doubled by house edge: a share costs 2 chips.
        assert_eq!(shares_for_deposit(Chips(100), Chips(1_000), 500), Ok(50));
        // Rounded down.
        assert_eq!(shares_for_deposit(Chips(3), Chips(1_000), 500), Ok(1));
        assert!(matches!(
            shares_for_deposit(Chips(1), Chips(1_000), 500),
            Err(RejectReason::BankrollRefused { .. })
        ));
        assert!(matches!(
            shares_for_deposit(Chips(1), Chips(0), 500),
            Err(RejectReason::BankrollRefused { .. })
        ));
        assert_eq!(redemption_value(50, Chips(1_100), 550), Some(Chips(100)));
        assert_eq!(redemption_value(1, Chips(1_000), 3), Some(Chips(333)));
        assert_eq!(risk_cap(Chips(10_000), 300), Chips(300));
    }
}
