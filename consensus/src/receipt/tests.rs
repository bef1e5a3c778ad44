use super::*;
use crate::tx::tests::{keypair, strategies};
use game_rules::craps::{HardNumber, OddsLimit};
use proptest::prelude::*;

fn m(hundredths: u64) -> Multiplier {
    Multiplier::from_hundredths(hundredths).unwrap()
}

/// One event of every kind.
fn every_event() -> Vec<LedgerEvent> {
    let a = keypair(1).address();
    let v = keypair(2).public_key();
    let t = TableId(3);
    vec![
        LedgerEvent::BalanceChanged {
            account: a,
            before: Chips(10),
            after: Chips(4),
        },
        LedgerEvent::TableCreated {
            table: t,
            owner: a,
            name: "Lucky 7".parse().unwrap(),
            game: TableGame::Craps {
                min_bet: Chips(1),
                max_bet: Chips(100),
                odds: OddsLimit::Flat(2),
            },
        },
        LedgerEvent::TableClosed { table: t },
        LedgerEvent::PlayerJoined {
            table: t,
            player: a,
        },
        LedgerEvent::PlayerLeft {
            table: t,
            player: a,
        },
        LedgerEvent::BetPlaced {
            table: t,
            round: 9,
            bet: 4,
            player: a,
            wager: Wager::Craps {
                kind: BetKind::Hard(HardNumber::Eight),
            },
            amount: Chips(5),
        },
        LedgerEvent::BetPlaced {
            table: t,
            round: 9,
            bet: 5,
            player: a,
            wager: Wager::Crash {
                auto_cash_out: Some(231),
            },
            amount: Chips(5),
        },
        LedgerEvent::OddsChanged {
            table: t,
            bet: 4,
            before: Chips(0),
            after: Chips(10),
        },
        LedgerEvent::BetTakenDown {
            table: t,
            bet: 4,
            returned: Chips(15),
        },
        LedgerEvent::BetSettled {
            table: t,
            round: 9,
            bet: 4,
            player: a,
            result: BetResult::Win,
            paid: Chips(50),
        },
        LedgerEvent::DiceRolled {
            table: t,
            roll_number: 12,
            dice: Roll::new(6, 1).unwrap(),
            beacon_height: 77,
            point: None,
            seven_out: true,
        },
        LedgerEvent::CrashRoundStarted {
            table: t,
            round: 9,
            start_ms: 1_000,
        },
        LedgerEvent::CrashTick {
            table: t,
            round: 9,
            multiplier: Multiplier::at(13_950),
            elapsed_ms: 13_950,
        },
        LedgerEvent::CrashCashedOut {
            table: t,
            round: 9,
            bet: 5,
            at: m(231),
        },
        LedgerEvent::CrashRiskCapReached {
            table: t,
            round: 9,
            at: m(5000),
        },
        LedgerEvent::Crashed {
            table: t,
            round: 9,
            at: Multiplier::ONE,
            beacon_height: 78,
        },
        LedgerEvent::RoundVoid {
            table: t,
            round: 10,
            reason: VoidReason::BeaconTimeout,
        },
        LedgerEvent::BankrollDeposited {
            account: a,
            amount: Chips(100),
            shares: u128::MAX,
        },
        LedgerEvent::BankrollWithdrawalQueued {
            account: a,
            shares: 5,
            payable_at: 1_000,
        },
        LedgerEvent::BankrollWithdrawalPaid {
            account: a,
            shares: 5,
            amount: Chips(6),
        },
        LedgerEvent::ValidatorRegistered {
            validator: v,
            account: a,
        },
        LedgerEvent::Staked {
            account: a,
            amount: Chips(1),
        },
        LedgerEvent::UnstakeQueued {
            account: a,
            amount: Chips(1),
            release_at: 50,
        },
        LedgerEvent::StakeReleased {
            account: a,
            amount: Chips(1),
        },
        LedgerEvent::Slashed {
            validator: v,
            amount: Chips(500),
            reason: "double vote at epoch 1 height 2 view 0".parse().unwrap(),
        },
        LedgerEvent::FeesPaid {
            validator: v,
            amount: Chips(3),
        },
        LedgerEvent::FaucetPaid {
            account: a,
            amount: Chips(1_000),
        },
        LedgerEvent::CrapsRollCommitted {
            table: TableId(1),
            roll_number: 4,
            height: 10,
        },
        LedgerEvent::CrashBettingOpened {
            table: TableId(2),
            round: 3,
            betting_ends_ms: 20_000,
        },
        LedgerEvent::CrashRoundFinished {
            table: TableId(2),
            round: 3,
        },
        LedgerEvent::FeesBurned { amount: Chips(2) },
        LedgerEvent::EpochStarted {
            epoch: 1,
            start_height: 1_000,
            validators: 4,
        },
    ]
}

fn every_reason() -> Vec<RejectReason> {
    let t = TableId(1);
    vec![
        RejectReason::InsufficientBalance {
            needed: Chips(5),
            available: Chips(4),
        },
        RejectReason::BadNonce {
            expected: 3,
            found: 5,
        },
        RejectReason::Expired {
            expiry_height: 9,
            height: 10,
        },
        RejectReason::FeeTooLow {
            min: Chips(2),
            offered: Chips(1),
        },
        RejectReason::TableNotFound { table: t },
        RejectReason::WrongGame { table: t },
        RejectReason::TableFull {
            table: t,
            max_players: 8,
        },
        RejectReason::NotAtTable { table: t },
        RejectReason::AlreadyAtTable { table: t },
        RejectReason::NotTableOwner { table: t },
        RejectReason::TooManyTables { max: 10 },
        RejectReason::TableLimits {
            reason: ReasonText::lossy("max_players 500 is above 64"),
        },
        RejectReason::BetRefused {
            reason: ReasonText::lossy(
                &game_rules::craps::CrapsError::InvalidNumber { total: 7 }.to_string(),
            ),
        },
        RejectReason::BetNotFound { table: t, bet: 2 },
        RejectReason::InsufficientShares {
            requested: 10,
            held: 9,
        },
        RejectReason::InsufficientStake {
            requested: Chips(10),
            staked: Chips(9),
        },
        RejectReason::NotAValidator,
        RejectReason::AlreadyRegistered,
        RejectReason::TooManyValidators { max: 64 },
        RejectReason::EvidenceNotApplicable {
            reason: ReasonText::lossy("already slashed for this slot"),
        },
        RejectReason::FaucetDisabled,
        RejectReason::FaucetLimit { max: Chips(1_000) },
        RejectReason::Overflow,
        RejectReason::InsufficientBankroll {
            needed: Chips(100),
            available: Chips(99),
        },
        RejectReason::RollInProgress { table: t },
        RejectReason::BetsOutstanding { table: t },
        RejectReason::BankrollRefused {
            reason: ReasonText::lossy("the deposit buys no share"),
        },
        RejectReason::ConsensusKeyNotSender,
        RejectReason::AlreadyBet { table: t, round: 2 },
    ]
}

fn receipt(status: TxStatus, events: Vec<LedgerEvent>) -> Receipt {
    Receipt {
        tx: hash(HashDomain::SignedTransaction, b"tx"),
        status,
        fee_charged: Chips(1),
        events: BoundedVec::new(events).unwrap(),
    }
}

#[test]
fn every_event_and_reason_round_trips() {
    let applied = receipt(TxStatus::Applied, every_event());
    assert!(applied.is_applied());
    assert_eq!(Receipt::decode(&applied.encode()), Ok(applied.clone()));
    let json = serde_json::to_string(&applied).unwrap();
    assert_eq!(serde_json::from_str::<Receipt>(&json).unwrap(), applied);
    for reason in every_reason() {
        let rejected = receipt(
            TxStatus::Rejected {
                reason: reason.clone(),
            },
            vec![],
        );
        assert!(!rejected.is_applied());
        assert_eq!(Receipt::decode(&rejected.encode()), Ok(rejected.clone()));
        let json = serde_json::to_string(&rejected).unwrap();
        assert_eq!(serde_json::from_str::<Receipt>(&json).unwrap(), rejected);
    }
}

#[test]
fn json_shows_text_forms() {
    let events = every_event();
    let json = serde_json::to_value(&events).unwrap();
    assert_eq!(json[5]["bet_placed"]["wager"]["craps"]["kind"], "hard-8");
    assert_eq!(json[10]["dice_rolled"]["dice"], serde_json::json!([6, 1]));
    assert_eq!(json[13]["crash_cashed_out"]["at"]["hundredths"], 231);
    assert_eq!(json[13]["crash_cashed_out"]["at"]["bits"], m(231).bits());
    assert_eq!(
        json[17]["bankroll_deposited"]["shares"],
        u128::MAX.to_string()
    );
    for bad in [
        "\"01\"",
        "\"-1\"",
        "\"\"",
        "1",
        "\"340282366920938463463374607431768211456\"",
    ] {
        let text = format!(r#"{{"bankroll_withdraw":{{"shares":{bad}}}}}"#);
        assert!(
            serde_json::from_str::<crate::tx::Action>(&text).is_err(),
            "{bad}"
        );
    }
    assert!(
        json[0]["balance_changed"]["account"]
            .as_str()
            .unwrap()
            .starts_with("craps1")
    );
    let rejected = serde_json::to_value(TxStatus::Rejected {
        reason: RejectReason::BadNonce {
            expected: 3,
            found: 5,
        },
    })
    .unwrap();
    assert_eq!(
        rejected,
        serde_json::json!({"rejected": {"reason": {"bad_nonce": {"expected": 3, "found": 5}}}})
    );
    // Multiplier text must agree with itself.
    let bad = r#"{"crashed":{"table":1,"round":1,"at":{"bits":4294967296,"hundredths":101},"beacon_height":1}}"#;
    assert!(serde_json::from_str::<LedgerEvent>(bad).is_err());
}

#[test]
fn invalid_multipliers_and_dice_are_decode_errors() {
    let tick = receipt(
        TxStatus::Applied,
        vec![LedgerEvent::Crashed {
            table: TableId(0),
            round: 0,
            at: Multiplier::ONE,
            beacon_height: 0,
        }],
    );
    let mut bytes = tick.encode();
    // tx 32, status 1, fee 8, count 4, event tag 1, table 8, round 8, then bits.
    let at = 32 + 1 + 8 + 4 + 1 + 8 + 8;
    assert_eq!(&bytes[at..at + 8], &(1u64 << 32).to_le_bytes());
    bytes[at..at + 8].copy_from_slice(&((1u64 << 32) - 1).to_le_bytes());
    assert!(Receipt::decode(&bytes).is_err());

    let roll = receipt(TxStatus::Applied, vec![every_event()[10].clone()]);
    let mut bytes = roll.encode();
    // tx 32, status 1, fee 8, count 4, tag 1, table 8, roll number 8, dice.
    let at = 32 + 1 + 8 + 4 + 1 + 8 + 8;
    assert_eq!(&bytes[at..at + 2], &[6, 1]);
    bytes[at] = 7;
    assert!(Receipt::decode(&bytes).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mutations_never_panic_and_decode_canonically(
        pick in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        mutations in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        table in strategies::table(),
    ) {
        let events = every_event();
        let chosen: Vec<LedgerEvent> = pick.iter().map(|i| i.get(&events).clone()).collect();
        let mut r = receipt(TxStatus::Applied, chosen);
        r.events = BoundedVec::new(
            r.events
                .into_vec()
                .into_iter()
                .chain([LedgerEvent::TableClosed { table }])
                .collect(),
        )
        .unwrap();
        let original = r.encode();
        prop_assert_eq!(Receipt::decode(&original), Ok(r.clone()));
        let mut bytes = original.clone();
        for (index, xor) in &mutations {
            let at = index.index(bytes.len());
            bytes[at] ^= xor;
        }
        if let Ok(decoded) = Receipt::decode(&bytes) {
            prop_assert_eq!(decoded.encode(), bytes);
        }
        for len in 0..original.len() {
            prop_assert!(Receipt::decode(&original[..len]).is_err());
        }
    }
}
