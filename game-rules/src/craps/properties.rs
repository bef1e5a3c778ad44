//! Property tests over random sequences of requests and rolls, and a
//! simulation check of the exact edges.

use num_bigint::BigInt;
use num_rational::BigRational;
use proptest::prelude::*;

use super::analysis::bet_edge;
use super::*;
use crate::{Chips, Purpose, Randomness, Roll};

#[derive(Clone, Debug)]
enum Action {
    Place { id: u64, kind: BetKind, amount: u64 },
    Odds { pick: usize, amount: u64 },
    MaxOdds { pick: usize },
    Working { pick: usize, working: Working },
    TakeDown { pick: usize },
    Roll(u8, u8),
}

fn number() -> impl Strategy<Value = PointNumber> {
    (0usize..6).prop_map(|i| PointNumber::ALL[i])
}

fn kind() -> impl Strategy<Value = BetKind> {
    prop_oneof![
        6 => prop_oneof![
            Just(BetKind::Pass),
            Just(BetKind::DontPass),
            Just(BetKind::Come),
            Just(BetKind::DontCome),
        ],
        3 => prop_oneof![
            number().prop_map(BetKind::Place),
            number().prop_map(BetKind::Buy),
            number().prop_map(BetKind::Lay),
        ],
        1 => (0usize..4).prop_map(|i| BetKind::Hard(HardNumber::ALL[i])),
        1 => prop_oneof![Just(BetKind::Big6), Just(BetKind::Big8)],
        3 => prop_oneof![
            Just(BetKind::Field),
            Just(BetKind::AnySeven),
            Just(BetKind::AnyCraps),
            Just(BetKind::Two),
            Just(BetKind::Three),
            Just(BetKind::Eleven),
            Just(BetKind::Twelve),
            Just(BetKind::Horn),
            Just(BetKind::CrapsEleven),
        ],
        1 => (1u8..=6, 1u8..=6).prop_map(|(a, b)| match Hop::new(a, b) {
            Ok(hop) => BetKind::Hop(hop),
            Err(_) => BetKind::Field,
        }),
    ]
}

fn working() -> impl Strategy<Value = Working> {
    prop_oneof![
        Just(Working::TableDefault),
        Just(Working::On),
        Just(Working::Off)
    ]
}

fn action() -> impl Strategy<Value = Action> {
    let amount = prop_oneof![0u64..=8, 1u64..=3000, 2990u64..=3010, Just(120u64)];
    prop_oneof![
        4 => (0u64..40, kind(), amount).prop_map(|(id, kind, amount)| Action::Place { id, kind, amount }),
        1 => (any::<usize>(), 0u64..=20_000).prop_map(|(pick, amount)| Action::Odds { pick, amount }),
        2 => any::<usize>().prop_map(|pick| Action::MaxOdds { pick }),
        1 => (any::<usize>(), working()).prop_map(|(pick, working)| Action::Working { pick, working }),
        1 => any::<usize>().prop_map(|pick| Action::TakeDown { pick }),
        5 => (1u8..=6, 1u8..=6).prop_map(|(a, b)| Action::Roll(a, b)),
    ]
}

fn rules() -> impl Strategy<Value = TableRules> {
    let limit = prop_oneof![
        3 => Just(OddsLimit::ThreeFourFive),
        1 => (0u32..=10).prop_map(OddsLimit::Flat),
    ];
    (limit, proptest::collection::vec(any::<bool>(), 8)).prop_map(|(odds_limit, flags)| {
        let flag = |i: usize| flags.get(i).copied().unwrap_or(false);
        TableRules {
            min_bet: Chips(5),
            max_bet: Chips(3000),
            odds_limit,
            come_out: ComeOutWorking {
                come_odds: flag(0),
                dont_come_odds: flag(1),
                place: flag(2),
                buy: flag(3),
                lay: flag(4),
                hardways: flag(5),
                big: flag(6),
                one_roll: flag(7),
            },
        }
    })
}

/// The id of an existing bet chosen by `pick`, or an id no bet has.
fn pick_bet(table: &CrapsTable, pick: usize) -> BetId {
    let ids: Vec<BetId> = table.bets().map(Bet::id).collect();
    if ids.is_empty() {
        BetId(1_000 + pick as u64 % 10)
    } else {
        ids[pick % ids.len()]
    }
}

/// The most a bet of `stake` on `kind` may win, from the payout table
/// (written out again here, independently of the engine).
fn max_winnings(kind: BetKind, stake: u64) -> u64 {
    let (win, per): (u64, u64) = match kind {
        BetKind::Pass
        | BetKind::DontPass
        | BetKind::Come
        | BetKind::DontCome
        | BetKind::Big6
        | BetKind::Big8 => (1, 1),
        BetKind::Place(n) => match n.total() {
            4 | 10 => (9, 5),
            5 | 9 => (7, 5),
            _ => (7, 6),
        },
        BetKind::Buy(n) => match n.total() {
            4 | 10 => (2, 1),
            5 | 9 => (3, 2),
            _ => (6, 5),
        },
        BetKind::Lay(n) => match n.total() {
            4 | 10 => (1, 2),
            5 | 9 => (2, 3),
            _ => (5, 6),
        },
        BetKind::Field => (3, 1),
        BetKind::Hard(h) => match h.total() {
            6 | 8 => (9, 1),
            _ => (7, 1),
        },
        BetKind::AnySeven => (4, 1),
        BetKind::AnyCraps => (7, 1),
        BetKind::Two | BetKind::Twelve => (30, 1),
        BetKind::Three | BetKind::Eleven => (15, 1),
        BetKind::Horn => (30, 4),
        BetKind::CrapsEleven => (15, 2),
        BetKind::Hop(h) => {
            if h.is_hard() {
                (30, 1)
            } else {
                (15, 1)
            }
        }
    };
    stake * win / per
}

/// The most odds of `odds` behind a `dont` or do line bet on `point` may win.
fn max_odds_winnings(dont: bool, point: PointNumber, odds: u64) -> u64 {
    let ways = u64::from(point.ways());
    if dont {
        odds * ways / 6
    } else {
        odds * 6 / ways
    }
}

fn u(chips: Chips) -> u128 {
    u128::from(chips.get())
}

/// Everything a roll must satisfy, given the table before and after it.
fn check_roll(
    before: &CrapsTable,
    roll: Roll,
    outcome: &RollOutcome,
    after: &CrapsTable,
) -> Result<(), TestCaseError> {
    let escrow_before = before
        .escrow()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let escrow_after = after
        .escrow()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(outcome.roll, roll);
    prop_assert_eq!(outcome.phase_before, before.phase());
    prop_assert_eq!(outcome.phase_after, after.phase());
    prop_assert_eq!(outcome.shooter, after.shooter());
    let seven_out = matches!(before.phase(), Phase::Point(_)) && roll.total() == 7;
    prop_assert_eq!(outcome.is_seven_out(), seven_out);
    prop_assert_eq!(outcome.shooter_changed, seven_out);
    prop_assert_eq!(after.shooter(), before.shooter() + u64::from(seven_out));

    // Resolutions: in increasing id order, one per touched bet.
    let ids: Vec<BetId> = outcome.resolutions.iter().map(|r| r.bet).collect();
    prop_assert!(ids.windows(2).all(|w| w[0] < w[1]), "order {ids:?}");

    let (mut returned, mut lost, mut kept, mut winnings, mut commission) = (0u128, 0, 0, 0, 0);
    let (mut to_player, mut to_bankroll) = (0u128, 0u128);
    for r in &outcome.resolutions {
        let bet = before.bet(r.bet);
        prop_assert!(bet.is_some(), "resolution for a bet not on the table");
        let Some(bet) = bet else { continue };
        prop_assert_eq!(r.kind, bet.kind());
        prop_assert_eq!(r.point, bet.point());
        // Each part's escrow is fully accounted for.
        prop_assert_eq!(r.stake.staked(), Some(bet.amount()));
        prop_assert_eq!(r.odds.staked(), Some(bet.odds()));
        for s in [r.stake, r.odds] {
            prop_assert!(
                s.commission <= s.winnings,
                "commission over winnings: {s:?}"
            );
            returned += u(s.returned);
            lost += u(s.lost);
            kept += u(s.kept);
            winnings += u(s.winnings);
            commission += u(s.commission);
            let player = s.to_player();
            let bank = s.to_bankroll();
            prop_assert!(player.is_some() && bank.is_some());
            to_player += player.map_or(0, u);
            to_bankroll += bank.map_or(0, u);
        }
        // Payout limits and commission rules.
        let stake = bet.amount().get();
        prop_assert!(
            r.stake.winnings.get() <= max_winnings(bet.kind(), stake),
            "{} won {} on {}",
            bet.kind(),
            r.stake.winnings,
            stake
        );
        match (bet.kind(), r.outcome) {
            (BetKind::Buy(_), Outcome::WonStaysUp) => {
                prop_assert_eq!(r.stake.commission.get(), stake.div_ceil(20));
            }
            (BetKind::Lay(_), Outcome::WonStaysUp) => {
                prop_assert_eq!(
                    r.stake.commission.get(),
                    r.stake.winnings.get().div_ceil(20)
                );
            }
            _ => prop_assert_eq!(r.stake.commission, Chips::ZERO),
        }
        prop_assert_eq!(r.odds.commission, Chips::ZERO);
        match r.outcome {
            Outcome::Lost => {
                prop_assert_eq!(r.stake.lost, bet.amount());
                prop_assert_eq!(r.stake.winnings, Chips::ZERO);
            }
            Outcome::Won => {
                let parts = bet.kind().parts();
                prop_assert_eq!(r.stake.returned.get(), stake / parts);
                prop_assert_eq!(r.stake.kept, Chips::ZERO);
            }
            Outcome::WonStaysUp => {
                prop_assert!(bet.kind().stays_up_after_win());
                prop_assert_eq!(r.stake.kept, bet.amount());
            }
            Outcome::Pushed => {
                prop_assert!(bet.kind().is_dont_line() && bet.point().is_none());
                prop_assert_eq!(roll.total(), 12);
                prop_assert_eq!(r.stake.returned, bet.amount());
            }
            Outcome::ReturnedWhileOff => prop_assert!(false, "only odds are returned while off"),
            Outcome::Travelled(p) => {
                prop_assert!(bet.kind().is_line() && bet.point().is_none());
                prop_assert_eq!(p.total(), roll.total());
                prop_assert_eq!(r.stake.kept, bet.amount());
            }
        }
        if let (Some(point), Some(odds_outcome)) = (bet.point(), r.odds_outcome) {
            prop_assert!(
                r.odds.winnings.get()
                    <= max_odds_winnings(bet.kind().is_dont_line(), point, bet.odds().get())
            );
            if odds_outcome == Outcome::ReturnedWhileOff {
                prop_assert!(!before.odds_working(r.bet).unwrap_or(true));
                prop_assert_eq!(r.odds.returned, bet.odds());
            }
        }
        // What comes down is gone; what stays up holds exactly what was kept.
        match after.bet(r.bet) {
            None => prop_assert!(r.comes_down()),
            Some(stays) => {
                prop_assert!(!r.comes_down());
                prop_assert_eq!(stays.amount(), r.stake.kept);
                prop_assert_eq!(stays.odds(), r.odds.kept);
                prop_assert_eq!(stays.kind(), bet.kind());
            }
        }
    }
    // Bets the roll did not touch are unchanged; no bet appears from nowhere.
    for bet in before.bets() {
        let touched = ids.contains(&bet.id());
        if !touched {
            prop_assert_eq!(after.bet(bet.id()), Some(bet));
            // A working one-roll bet is always decided by the roll.
            let works = before.is_working(bet.id()).unwrap_or(false);
            prop_assert!(
                !(bet.kind().is_one_roll() && works),
                "{} not rolled",
                bet.kind()
            );
        } else if !bet.kind().is_line() {
            prop_assert!(
                before.is_working(bet.id()).unwrap_or(false),
                "an off bet was touched"
            );
        }
    }
    for bet in after.bets() {
        prop_assert!(before.bet(bet.id()).is_some());
    }
    if roll.total() == 7 {
        prop_assert!(
            after.bets().all(|b| !b.kind().is_line()),
            "a 7 decides every line bet"
        );
    }

    // Conservation, exactly:
    //   returned + lost + kept = escrow held by the resolved bets;
    //   escrow_after = escrow_before − returned − lost;
    //   to_player + to_bankroll + escrow_after = escrow_before + winnings.
    let untouched: u128 = before
        .bets()
        .filter(|b| !ids.contains(&b.id()))
        .map(|b| b.escrow().map_or(0, u))
        .sum();
    prop_assert_eq!(returned + lost + kept + untouched, u(escrow_before));
    prop_assert_eq!(u(escrow_after) + returned + lost, u(escrow_before));
    prop_assert_eq!(to_player, returned + winnings - commission);
    prop_assert_eq!(to_bankroll, lost + commission);
    prop_assert_eq!(
        to_player + to_bankroll + u(escrow_after),
        u(escrow_before) + winnings
    );
    let total = outcome.total();
    prop_assert!(total.is_some());
    if let Some(total) = total {
        prop_assert_eq!(u(total.winnings), winnings);
        prop_assert_eq!(u(total.kept), kept);
    }
    Ok(())
}

/// Applies one action, checking what it must do or, if refused, that it
/// changed nothing.
fn apply(table: &mut CrapsTable, action: &Action) -> Result<(), TestCaseError> {
    let before = table.clone();
    let escrow = |t: &CrapsTable| t.escrow().map_or(0, u);
    match *action {
        Action::Place { id, kind, amount } => match table.place_bet(BetId(id), kind, Chips(amount))
        {
            Ok(()) => {
                prop_assert_eq!(escrow(table), escrow(&before) + u128::from(amount));
                prop_assert!(before.bet(BetId(id)).is_none());
                prop_assert!((5..=3000).contains(&amount));
                prop_assert_eq!(table.bet(BetId(id)).map(Bet::amount), Some(Chips(amount)));
            }
            Err(_) => prop_assert_eq!(&*table, &before),
        },
        Action::Odds { pick, amount } => {
            let id = pick_bet(table, pick);
            match table.set_odds(id, Chips(amount)) {
                Ok(previous) => {
                    prop_assert_eq!(
                        escrow(table) + u(previous),
                        escrow(&before) + u128::from(amount)
                    );
                    prop_assert!(table.max_odds(id).is_ok_and(|max| Chips(amount) <= max));
                }
                Err(_) => prop_assert_eq!(&*table, &before),
            }
        }
        Action::MaxOdds { pick } => {
            let id = pick_bet(table, pick);
            if let Ok(max) = table.max_odds(id) {
                prop_assert!(table.set_odds(id, max).is_ok());
                let over = Chips(max.get() + 1);
                let kept = table.clone();
                let refused = matches!(
                    table.set_odds(id, over),
                    Err(CrapsError::OddsOverLimit { .. })
                );
                prop_assert!(refused, "odds over the limit must be refused");
                prop_assert_eq!(&*table, &kept);
            } else {
                prop_assert!(table.set_odds(id, Chips(1)).is_err());
                prop_assert_eq!(&*table, &before);
            }
        }
        Action::Working { pick, working } => {
            let id = pick_bet(table, pick);
            if table.set_working(id, working).is_err() {
                prop_assert_eq!(&*table, &before);
            }
        }
        Action::TakeDown { pick } => {
            let id = pick_bet(table, pick);
            match table.take_down(id) {
                Ok(returned) => {
                    let bet = before.bet(id);
                    prop_assert!(bet.is_some());
                    if let Some(bet) = bet {
                        prop_assert_eq!(Ok(returned), bet.escrow());
                        prop_assert!(
                            !matches!(bet.kind(), BetKind::Pass | BetKind::Come)
                                || bet.point().is_none()
                        );
                    }
                    prop_assert_eq!(escrow(table) + u(returned), escrow(&before));
                    prop_assert!(table.bet(id).is_none());
                }
                Err(e) => {
                    prop_assert_eq!(&*table, &before);
                    if let CrapsError::ContractBet { .. } = e {
                        let bet = before.bet(id);
                        prop_assert!(bet.is_some_and(|b| b.point().is_some()
                            && matches!(b.kind(), BetKind::Pass | BetKind::Come)));
                    }
                }
            }
        }
        Action::Roll(a, b) => {
            let roll = Roll::new(a, b).ok_or_else(|| TestCaseError::fail("dice"))?;
            let outcome = table
                .roll(roll)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            check_roll(&before, roll, &outcome, table)?;
        }
    }
    // The remembered escrow sum (what `place_bet` checks) is the real one.
    prop_assert!(table.remembered_escrow_is_exact());
    Ok(())
}

fn roll_checked(table: &mut CrapsTable, a: u8, b: u8) -> Result<RollOutcome, TestCaseError> {
    let before = table.clone();
    let roll = Roll::new(a, b).ok_or_else(|| TestCaseError::fail("dice"))?;
    let outcome = table
        .roll(roll)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    check_roll(&before, roll, &outcome, table)?;
    Ok(outcome)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn random_play_keeps_every_invariant(
        rules in rules(),
        actions in proptest::collection::vec(action(), 1..120),
    ) {
        let mut table = CrapsTable::new(rules).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for action in &actions {
            apply(&mut table, action)?;
        }
        // Bounded resolution: one 7 decides every line bet (pass, don't pass,
        // come and don't come with or without a point). What is left is a bet
        // that legally stays up: a won lay, or a place, buy, lay, hardway,
        // big 6/8 or one-roll bet that was off.
        let before = table.clone();
        roll_checked(&mut table, 3, 4)?;
        for bet in table.bets() {
            prop_assert!(!bet.kind().is_line());
            let was_off = !before.is_working(bet.id()).unwrap_or(true);
            let won_lay = matches!(bet.kind(), BetKind::Lay(_));
            prop_assert!(won_lay || was_off, "{} should have been decided", bet.kind());
        }
        // Switched on, a second 7 decides everything; only the lay bets,
        // which won, stay up.
        let ids: Vec<BetId> = table.bets().map(Bet::id).collect();
        for id in ids {
            table.set_working(id, Working::On).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        roll_checked(&mut table, 4, 3)?;
        prop_assert!(table.bets().all(|b| matches!(b.kind(), BetKind::Lay(_))));
        // And a lay bet comes down when its number rolls.
        let numbers: Vec<PointNumber> = table
            .bets()
            .filter_map(|b| match b.kind() { BetKind::Lay(n) => Some(n), _ => None })
            .collect();
        for n in numbers {
            let roll = analysis::dice_for(n.total()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            roll_checked(&mut table, roll.first.face(), roll.second.face())?;
        }
        prop_assert!(table.is_empty());
    }

    #[test]
    fn refused_requests_change_nothing(
        rules in rules(),
        setup in proptest::collection::vec(action(), 0..40),
        id in 0u64..40,
        kind in kind(),
        amount in any::<u64>(),
        odds in any::<u64>(),
        pick in any::<usize>(),
    ) {
        let mut table = CrapsTable::new(rules).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for action in &setup {
            apply(&mut table, action)?;
        }
        let before = table.clone();
        if table.place_bet(BetId(id), kind, Chips(amount)).is_err() {
            prop_assert_eq!(&table, &before);
        }
        let before = table.clone();
        let target = pick_bet(&table, pick);
        if table.set_odds(target, Chips(odds)).is_err() {
            prop_assert_eq!(&table, &before);
        }
        let before = table.clone();
        if table.take_down(target).is_err() {
            prop_assert_eq!(&table, &before);
        }
    }
}

/// Checks that the mean of `count` samples with sum `sum` and sum of squares
/// `squares` is within 4 standard errors of `expected`, exactly:
/// `(sum − count·expected)² · count ≤ 16 · (squares · count − sum²)`.
fn within_four_standard_errors(sum: i128, squares: i128, count: i128, expected: &BigRational) {
    let big = |v: i128| BigRational::from_integer(BigInt::from(v));
    let deviation = big(sum) - big(count) * expected;
    let lhs = &deviation * &deviation * big(count);
    let rhs = big(16) * (big(squares) * big(count) - big(sum) * big(sum));
    assert!(
        lhs <= rhs,
        "mean {sum}/{count} is more than 4 standard errors from {expected}"
    );
}

#[test]
fn a_million_rolls_agree_with_the_exact_edges() {
    let rules = TableRules::default();
    let pass_edge = bet_edge(&rules, Phase::ComeOut, BetKind::Pass)
        .expect("pass edge")
        .per_bet_made;
    let field_edge = bet_edge(&rules, Phase::ComeOut, BetKind::Field)
        .expect("field edge")
        .per_bet_made;

    let mut stream = Randomness::from_beacon_output(b"bitcraps craps simulation test")
        .stream(Purpose::Simulation, b"pass-and-field");
    let mut table = CrapsTable::new(rules).expect("table");
    const PASS: BetId = BetId(1);
    const FIELD: BetId = BetId(2);
    let unit = Chips(1);
    let (mut pass_sum, mut pass_squares, mut pass_count) = (0i128, 0i128, 0i128);
    let (mut field_sum, mut field_squares, mut field_count) = (0i128, 0i128, 0i128);
    for _ in 0..1_000_000 {
        if table.phase() == Phase::ComeOut && table.bet(PASS).is_none() {
            table.place_bet(PASS, BetKind::Pass, unit).expect("pass");
        }
        table.place_bet(FIELD, BetKind::Field, unit).expect("field");
        let outcome = table.roll(stream.roll()).expect("roll");
        for r in &outcome.resolutions {
            let net = r.stake.net() + r.odds.net();
            match (r.bet, r.outcome) {
                (_, Outcome::Travelled(_)) => {}
                (PASS, _) => {
                    pass_sum += net;
                    pass_squares += net * net;
                    pass_count += 1;
                }
                (FIELD, _) => {
                    field_sum += net;
                    field_squares += net * net;
                    field_count += 1;
                }
                _ => panic!("unexpected bet {}", r.bet),
            }
        }
    }
    assert_eq!(field_count, 1_000_000);
    assert!(
        pass_count > 250_000,
        "about 296,000 pass decisions expected"
    );
    within_four_standard_errors(pass_sum, pass_squares, pass_count, &-pass_edge);
    within_four_standard_errors(field_sum, field_squares, field_count, &-field_edge);
}
