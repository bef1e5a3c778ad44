//! The bankroll through blocks: shares, the withdrawal delay, waiting for
//! free chips.

use game_rules::Chips;
use game_rules::craps::BetKind;

use super::support::*;
use crate::genesis::Params;
use crate::ledger::bankroll::{mul_div, redemption_value};
use crate::receipt::{LedgerEvent, RejectReason};
use crate::tx::{Action, TableId};

#[test]
fn deposits_mint_shares_at_the_pool_price_and_withdrawals_wait_their_delay() {
    let mut chain = Chain::new(&genesis());
    // The house holds one share per genesis chip.
    assert_eq!(chain.ledger.shares(&addr(HOUSE)), 10_000_000);
    let block = chain.send(vec![(
        1,
        Action::BankrollDeposit {
            amount: Chips(1_000),
        },
    )]);
    all_applied(&block);
    assert_eq!(
        chain.ledger.shares(&addr(1)),
        1_000,
        "one share per chip at par"
    );

    // Let the house edge work on the pool for a while.
    let table = TableId(1);
    all_applied(&chain.send(vec![
        (2, create_table("craps", craps_game(1, 10_000))),
        (2, Action::JoinTable { table }),
    ]));
    for _ in 0..12 {
        chain.send(vec![(
            2,
            Action::CrapsBet {
                table,
                kind: BetKind::AnySeven,
                amount: Chips(500),
            },
        )]);
        chain.apply(Vec::new());
    }
    let bankroll = chain.ledger.bankroll().clone();
    assert_ne!(
        bankroll.chips.get() as u128,
        bankroll.total_shares,
        "the pool moved away from par"
    );
    // A deposit buys floor(amount · shares / chips).
    let expected = mul_div(777, bankroll.total_shares, u128::from(bankroll.chips.get())).unwrap();
    let block = chain.send(vec![(3, Action::BankrollDeposit { amount: Chips(777) })]);
    all_applied(&block);
    assert_eq!(chain.ledger.shares(&addr(3)), expected);
    assert!(block.receipts[0].events.iter().any(|e| matches!(
        e,
        LedgerEvent::BankrollDeposited { shares, .. } if *shares == expected
    )));

    // Withdraw: the shares are locked now and paid after the delay.
    let delay = chain.ledger.params().withdrawal_delay_blocks;
    let block = chain.send(vec![
        (1, Action::BankrollWithdraw { shares: 400 }),
        (1, Action::BankrollWithdraw { shares: 601 }),
    ]);
    assert!(applied(&block.receipts[0]));
    assert_eq!(
        rejection(&block.receipts[1]),
        Some(&RejectReason::InsufficientShares {
            requested: 601,
            held: 600,
        })
    );
    let requested_at = block.height;
    assert_eq!(chain.ledger.shares(&addr(1)), 600);
    let before = chain.balance(1);
    for _ in 1..delay {
        let b = chain.apply(Vec::new());
        assert!(
            !all_events(&b)
                .iter()
                .any(|e| matches!(e, LedgerEvent::BankrollWithdrawalPaid { .. }))
        );
        assert_eq!(chain.balance(1), before, "not paid before the delay");
    }
    let bankroll = chain.ledger.bankroll().clone();
    let value = redemption_value(400, bankroll.chips, bankroll.total_shares).unwrap();
    let paid = chain.apply(Vec::new());
    assert_eq!(paid.height, requested_at + delay);
    assert!(paid.events.events.iter().any(|e| matches!(
        e,
        LedgerEvent::BankrollWithdrawalPaid { shares: 400, amount, .. } if *amount == value
    )));
    assert_eq!(chain.balance(1), before + value.get());
    assert_eq!(chain.ledger.withdrawals().count(), 0);
}

#[test]
fn a_withdrawal_waits_for_free_chips() {
    let params = Params {
        withdrawal_delay_blocks: 1,
        ..params()
    };
    let mut chain = Chain::new(&genesis_with(4, 1_000_000, 100_000, params));
    let table = TableId(1);
    all_applied(&chain.send(vec![
        (1, create_table("crash", crash_game(1, 10_000))),
        (1, Action::JoinTable { table }),
    ]));
    all_applied(&chain.send(vec![(
        1,
        Action::CrashBet {
            table,
            amount: Chips(1_000),
            auto_cash_out: None,
        },
    )]));
    let started = chain.apply(Vec::new());
    assert!(
        started
            .events
            .events
            .iter()
            .any(|e| matches!(e, LedgerEvent::CrashRoundStarted { .. }))
    );
    // The round reserves 3% of 100,000 less its 1,000 staked.
    assert_eq!(chain.ledger.bankroll().reserved, Chips(2_000));
    // The beacon stops: the round runs on, undecided, until it is void.
    chain.auto_beacon = false;
    let request = chain.send(vec![(HOUSE, Action::BankrollWithdraw { shares: 100_000 })]);
    all_applied(&request);
    let house = chain.balance(HOUSE);
    let blocks = chain.run_until(10, |b| {
        b.events
            .events
            .iter()
            .any(|e| matches!(e, LedgerEvent::BankrollWithdrawalPaid { .. }))
    });
    let (last, waiting) = blocks.split_last().unwrap();
    assert!(!waiting.is_empty(), "due at once but waited");
    for b in waiting {
        assert!(chain.ledger.params().withdrawal_delay_blocks < b.height - request.height + 1);
    }
    assert!(
        last.events
            .events
            .iter()
            .any(|e| matches!(e, LedgerEvent::RoundVoid { .. })),
        "paid in the block whose void released the reserve"
    );
    assert_eq!(chain.balance(HOUSE), house + 100_000);
    assert_eq!(chain.ledger.bankroll().chips, Chips::ZERO);
    assert_eq!(chain.ledger.bankroll().total_shares, 0);
    // An empty pool starts again at par.
    chain.auto_beacon = true;
    all_applied(&chain.send(vec![(2, Action::BankrollDeposit { amount: Chips(50) })]));
    assert_eq!(chain.ledger.shares(&addr(2)), 50);
}
