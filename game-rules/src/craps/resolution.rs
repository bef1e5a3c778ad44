//! Resolving a roll: what happens to every bet, the chips each resolution
//! moves, and the table's new phase and shooter.

use std::collections::BTreeMap;

use super::bet::{Bet, BetId, BetKind, PointNumber};
use super::error::CrapsError;
use super::rules::{
    self, ANY_CRAPS_PAYS, ANY_SEVEN_PAYS, EVEN_MONEY, FIFTEEN_TO_ONE, Pays, THIRTY_TO_ONE,
    TableRules,
};
use super::table::{CrapsTable, Phase, bet_works, odds_work};
use crate::{Chips, Roll};

/// The chips one part of a bet (its stake, or its odds) moves on a roll.
///
/// Before the roll the part held `returned + lost + kept` in escrow. After it:
///
/// - `returned` goes from escrow back to the player;
/// - `lost` goes from escrow to the bankroll;
/// - `kept` stays in escrow (the bet stays up, or travelled);
/// - `winnings` are paid by the bankroll to the player, rounded down;
/// - `commission` is charged on the winnings, rounded up: the player receives
///   `winnings − commission` from the bankroll (never negative:
///   `commission ≤ winnings`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Settlement {
    /// Stake returned from escrow to the player.
    pub returned: Chips,
    /// Stake lost from escrow to the bankroll.
    pub lost: Chips,
    /// Stake staying in escrow.
    pub kept: Chips,
    /// Winnings the bankroll owes the player, before commission.
    pub winnings: Chips,
    /// Commission the player owes the bankroll, out of the winnings.
    pub commission: Chips,
}

impl Settlement {
    /// What the part held in escrow before the roll: `returned + lost + kept`.
    pub fn staked(&self) -> Option<Chips> {
        self.returned.checked_add(self.lost)?.checked_add(self.kept)
    }

    /// What the player receives: `returned + winnings − commission`.
    pub fn to_player(&self) -> Option<Chips> {
        self.returned
            .checked_add(self.winnings)?
            .checked_sub(self.commission)
    }

    /// What the bankroll receives: `lost + commission`.
    pub fn to_bankroll(&self) -> Option<Chips> {
        self.lost.checked_add(self.commission)
    }

    /// The player's gain on this part, counting kept stake as still the
    /// player's: `winnings − commission − lost`.
    pub fn net(&self) -> i128 {
        i128::from(self.winnings.get())
            - i128::from(self.commission.get())
            - i128::from(self.lost.get())
    }

    /// The sum of two settlements, field by field.
    pub fn checked_add(&self, other: &Settlement) -> Option<Settlement> {
        Some(Settlement {
            returned: self.returned.checked_add(other.returned)?,
            lost: self.lost.checked_add(other.lost)?,
            kept: self.kept.checked_add(other.kept)?,
            winnings: self.winnings.checked_add(other.winnings)?,
            commission: self.commission.checked_add(other.commission)?,
        })
    }

    fn returned(stake: Chips) -> Self {
        Settlement {
            returned: stake,
            ..Settlement::default()
        }
    }

    fn lost(stake: Chips) -> Self {
        Settlement {
            lost: stake,
            ..Settlement::default()
        }
    }

    fn kept(stake: Chips) -> Self {
        Settlement {
            kept: stake,
            ..Settlement::default()
        }
    }
}

/// What happened to a bet (or to its odds) on a roll.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Won; the stake comes back with the winnings and the bet comes down.
    /// (For a horn or C&E, the losing parts of the stake are in `lost`.)
    Won,
    /// Won; the winnings are paid and the stake stays up (place, buy, lay,
    /// hardways, big 6/8).
    WonStaysUp,
    /// Lost; the stake goes to the bankroll and the bet comes down.
    Lost,
    /// A tie (don't pass or don't come rolling 12 on its first roll): the
    /// stake comes back and the bet comes down.
    Pushed,
    /// Odds that were off when their line bet was decided: returned.
    ReturnedWhileOff,
    /// A line bet's first roll was a box number: it now has this point and
    /// stays up. No chips move.
    Travelled(PointNumber),
}

/// What one roll did to one bet. Bets the roll did not touch have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Resolution {
    /// The bet.
    pub bet: BetId,
    /// What it was on.
    pub kind: BetKind,
    /// Its point before the roll (line bets only).
    pub point: Option<PointNumber>,
    /// What happened to the bet proper.
    pub outcome: Outcome,
    /// The chips its stake moved.
    pub stake: Settlement,
    /// What happened to its odds, if it carried any and the line bet was
    /// decided.
    pub odds_outcome: Option<Outcome>,
    /// The chips its odds moved (all zero without odds).
    pub odds: Settlement,
}

impl Resolution {
    /// Whether the bet left the table (everything but [`Outcome::WonStaysUp`]
    /// and [`Outcome::Travelled`]).
    pub const fn comes_down(&self) -> bool {
        !matches!(self.outcome, Outcome::WonStaysUp | Outcome::Travelled(_))
    }

    /// Stake and odds settlements added together.
    pub fn total(&self) -> Option<Settlement> {
        self.stake.checked_add(&self.odds)
    }
}

/// What the dice did at the table level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RollEvent {
    /// Come-out 7 or 11.
    Natural,
    /// Come-out 2, 3 or 12.
    Craps,
    /// Come-out box number: the point is on.
    PointEstablished(PointNumber),
    /// The point repeated: back to the come-out, same shooter.
    PointMade(PointNumber),
    /// A 7 with the point on: back to the come-out, next shooter.
    SevenOut,
    /// Any other roll with the point on.
    NoDecision,
}

/// Everything one roll did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollOutcome {
    /// The dice.
    pub roll: Roll,
    /// The phase the roll was made in.
    pub phase_before: Phase,
    /// The phase of the next roll.
    pub phase_after: Phase,
    /// What the dice did at the table level.
    pub event: RollEvent,
    /// The shooter of the next roll.
    pub shooter: u64,
    /// Whether the shooter changed (a seven-out).
    pub shooter_changed: bool,
    /// One resolution per bet the roll touched, in increasing [`BetId`] order.
    pub resolutions: Vec<Resolution>,
}

impl RollOutcome {
    /// Whether the roll was a seven-out.
    pub const fn is_seven_out(&self) -> bool {
        matches!(self.event, RollEvent::SevenOut)
    }

    /// All settlements of the roll added together.
    pub fn total(&self) -> Option<Settlement> {
        self.resolutions
            .iter()
            .try_fold(Settlement::default(), |sum, r| sum.checked_add(&r.total()?))
    }
}

fn overflow(what: &'static str) -> CrapsError {
    CrapsError::Overflow { what }
}

fn pay(pays: Pays, stake: Chips) -> Result<Chips, CrapsError> {
    pays.on(stake).ok_or(overflow("winnings"))
}

/// A winning bet that comes down: stake back plus winnings.
fn won(stake: Chips, pays: Pays) -> Result<(Outcome, Settlement), CrapsError> {
    Ok((
        Outcome::Won,
        Settlement {
            returned: stake,
            winnings: pay(pays, stake)?,
            ..Settlement::default()
        },
    ))
}

/// A winning bet that stays up: winnings paid (less commission), stake kept.
fn won_stays_up(stake: Chips, winnings: Chips, commission: Chips) -> (Outcome, Settlement) {
    (
        Outcome::WonStaysUp,
        Settlement {
            kept: stake,
            winnings,
            commission,
            ..Settlement::default()
        },
    )
}

fn lost(stake: Chips) -> (Outcome, Settlement) {
    (Outcome::Lost, Settlement::lost(stake))
}

/// A split bet (horn, C&E) with one winning part: that part back with its
/// winnings, the other parts lost.
fn split_won(stake: Chips, parts: u64, pays: Pays) -> Result<(Outcome, Settlement), CrapsError> {
    let part = Chips(stake.get() / parts);
    Ok((
        Outcome::Won,
        Settlement {
            returned: part,
            lost: stake.checked_sub(part).ok_or(overflow("a split bet"))?,
            winnings: pay(pays, part)?,
            ..Settlement::default()
        },
    ))
}

/// What a roll does to one bet: `None` if nothing, else its resolution and the
/// bet as it stays on the table (`None` if it comes down).
fn resolve(
    rules: &TableRules,
    phase: Phase,
    bet: &Bet,
    roll: Roll,
) -> Result<Option<(Resolution, Option<Bet>)>, CrapsError> {
    if bet.kind.is_line() {
        return resolve_line(rules, phase, bet, roll);
    }
    if !bet_works(rules, phase, bet) {
        return Ok(None);
    }
    let total = roll.total();
    let stake = bet.amount;
    let decided = match bet.kind {
        BetKind::Place(n) => {
            if total == n.total() {
                Some(won_stays_up(
                    stake,
                    pay(rules::place_pays(n), stake)?,
                    Chips::ZERO,
                ))
            } else if total == 7 {
                Some(lost(stake))
            } else {
                None
            }
        }
        BetKind::Buy(n) => {
            if total == n.total() {
                let winnings = pay(rules::true_odds(n), stake)?;
                let commission = rules::commission_on(stake).ok_or(overflow("commission"))?;
                Some(won_stays_up(stake, winnings, commission))
            } else if total == 7 {
                Some(lost(stake))
            } else {
                None
            }
        }
        BetKind::Lay(n) => {
            if total == 7 {
                let winnings = pay(rules::lay_true_odds(n), stake)?;
                let commission = rules::commission_on(winnings).ok_or(overflow("commission"))?;
                Some(won_stays_up(stake, winnings, commission))
            } else if total == n.total() {
                Some(lost(stake))
            } else {
                None
            }
        }
        BetKind::Hard(n) => {
            if total == 7 || (total == n.total() && !roll.is_pair()) {
                Some(lost(stake))
            } else if total == n.total() {
                Some(won_stays_up(
                    stake,
                    pay(rules::hard_pays(n), stake)?,
                    Chips::ZERO,
                ))
            } else {
                None
            }
        }
        BetKind::Big6 | BetKind::Big8 => {
            let number = if bet.kind == BetKind::Big6 { 6 } else { 8 };
            if total == number {
                Some(won_stays_up(stake, pay(EVEN_MONEY, stake)?, Chips::ZERO))
            } else if total == 7 {
                Some(lost(stake))
            } else {
                None
            }
        }
        BetKind::Field => Some(match rules::field_pays(total) {
            Some(pays) => won(stake, pays)?,
            None => lost(stake),
        }),
        BetKind::AnySeven => Some(one_number(total == 7, stake, ANY_SEVEN_PAYS)?),
        BetKind::AnyCraps => Some(one_number(
            matches!(total, 2 | 3 | 12),
            stake,
            ANY_CRAPS_PAYS,
        )?),
        BetKind::Two => Some(one_number(total == 2, stake, THIRTY_TO_ONE)?),
        BetKind::Three => Some(one_number(total == 3, stake, FIFTEEN_TO_ONE)?),
        BetKind::Eleven => Some(one_number(total == 11, stake, FIFTEEN_TO_ONE)?),
        BetKind::Twelve => Some(one_number(total == 12, stake, THIRTY_TO_ONE)?),
        BetKind::Horn => Some(match total {
            2 | 12 => split_won(stake, 4, THIRTY_TO_ONE)?,
            3 | 11 => split_won(stake, 4, FIFTEEN_TO_ONE)?,
            _ => lost(stake),
        }),
        BetKind::CrapsEleven => Some(match total {
            2 | 3 | 12 => split_won(stake, 2, ANY_CRAPS_PAYS)?,
            11 => split_won(stake, 2, FIFTEEN_TO_ONE)?,
            _ => lost(stake),
        }),
        BetKind::Hop(hop) => {
            let pays = if hop.is_hard() {
                THIRTY_TO_ONE
            } else {
                FIFTEEN_TO_ONE
            };
            Some(one_number(hop.matches(roll), stake, pays)?)
        }
        BetKind::Pass | BetKind::DontPass | BetKind::Come | BetKind::DontCome => None,
    };
    Ok(decided.map(|(outcome, settlement)| {
        let resolution = Resolution {
            bet: bet.id,
            kind: bet.kind,
            point: bet.point,
            outcome,
            stake: settlement,
            odds_outcome: None,
            odds: Settlement::default(),
        };
        let stays = (outcome == Outcome::WonStaysUp).then(|| bet.clone());
        (resolution, stays)
    }))
}

fn one_number(hit: bool, stake: Chips, pays: Pays) -> Result<(Outcome, Settlement), CrapsError> {
    if hit {
        won(stake, pays)
    } else {
        Ok(lost(stake))
    }
}

/// Pass, don't pass, come, don't come and their odds. Line bets always work.
fn resolve_line(
    rules: &TableRules,
    phase: Phase,
    bet: &Bet,
    roll: Roll,
) -> Result<Option<(Resolution, Option<Bet>)>, CrapsError> {
    let total = roll.total();
    let dont = bet.kind.is_dont_line();
    let stake = bet.amount;
    // Whether the line bet won (`Some(true)`), lost (`Some(false)`), or
    // neither; pushes and travels return directly.
    let line_won = match bet.point {
        None => {
            if let Some(point) = PointNumber::from_total(total) {
                let mut travelled = bet.clone();
                travelled.point = Some(point);
                let resolution = Resolution {
                    bet: bet.id,
                    kind: bet.kind,
                    point: None,
                    outcome: Outcome::Travelled(point),
                    stake: Settlement::kept(stake),
                    odds_outcome: None,
                    odds: Settlement::kept(bet.odds),
                };
                return Ok(Some((resolution, Some(travelled))));
            }
            if dont && total == 12 {
                let resolution = Resolution {
                    bet: bet.id,
                    kind: bet.kind,
                    point: None,
                    outcome: Outcome::Pushed,
                    stake: Settlement::returned(stake),
                    odds_outcome: (bet.odds > Chips::ZERO).then_some(Outcome::Pushed),
                    odds: Settlement::returned(bet.odds),
                };
                return Ok(Some((resolution, None)));
            }
            let natural = matches!(total, 7 | 11);
            natural != dont
        }
        Some(point) => {
            if total == point.total() {
                !dont
            } else if total == 7 {
                dont
            } else {
                return Ok(None);
            }
        }
    };
    let (outcome, settlement) = if line_won {
        won(stake, EVEN_MONEY)?
    } else {
        lost(stake)
    };
    let (odds_outcome, odds) = if bet.odds == Chips::ZERO {
        (None, Settlement::default())
    } else if !odds_work(rules, phase, bet) {
        (
            Some(Outcome::ReturnedWhileOff),
            Settlement::returned(bet.odds),
        )
    } else {
        match (line_won, bet.point) {
            (true, Some(point)) => {
                let pays = if dont {
                    rules::lay_true_odds(point)
                } else {
                    rules::true_odds(point)
                };
                let (o, s) = won(bet.odds, pays)?;
                (Some(o), s)
            }
            (true, None) => (
                Some(Outcome::ReturnedWhileOff),
                Settlement::returned(bet.odds),
            ),
            (false, _) => {
                let (o, s) = lost(bet.odds);
                (Some(o), s)
            }
        }
    };
    let resolution = Resolution {
        bet: bet.id,
        kind: bet.kind,
        point: bet.point,
        outcome,
        stake: settlement,
        odds_outcome,
        odds,
    };
    Ok(Some((resolution, None)))
}

impl CrapsTable {
    /// Resolves one roll: decides every working bet the roll touches, moves
    /// line bets to their points, advances the phase and the shooter, and
    /// returns one [`Resolution`] per touched bet in [`BetId`] order.
    ///
    /// Bets that come down are removed; bets that stay up (won place, buy,
    /// lay, hardway or big 6/8; travelled come bets; untouched bets) remain.
    /// The chips to move are in each resolution's [`Settlement`]s.
    ///
    /// Fails only with [`CrapsError::Overflow`], which validated rules rule
    /// out; on failure the table is unchanged.
    pub fn roll(&mut self, roll: Roll) -> Result<RollOutcome, CrapsError> {
        let phase_before = self.phase;
        let mut resolutions = Vec::new();
        let mut bets = BTreeMap::new();
        for (id, bet) in &self.bets {
            match resolve(&self.rules, phase_before, bet, roll)? {
                None => {
                    bets.insert(*id, bet.clone());
                }
                Some((resolution, stays)) => {
                    resolutions.push(resolution);
                    if let Some(stays) = stays {
                        bets.insert(*id, stays);
                    }
                }
            }
        }
        let total = roll.total();
        let (phase_after, event) = match phase_before {
            Phase::ComeOut => match PointNumber::from_total(total) {
                Some(point) => (Phase::Point(point), RollEvent::PointEstablished(point)),
                None if matches!(total, 7 | 11) => (Phase::ComeOut, RollEvent::Natural),
                None => (Phase::ComeOut, RollEvent::Craps),
            },
            Phase::Point(point) if total == point.total() => {
                (Phase::ComeOut, RollEvent::PointMade(point))
            }
            Phase::Point(_) if total == 7 => (Phase::ComeOut, RollEvent::SevenOut),
            Phase::Point(_) => (phase_before, RollEvent::NoDecision),
        };
        let shooter_changed = event == RollEvent::SevenOut;
        let shooter = if shooter_changed {
            self.shooter
                .checked_add(1)
                .ok_or(overflow("the shooter counter"))?
        } else {
            self.shooter
        };
        self.bets = bets;
        self.forget_escrow();
        self.phase = phase_after;
        self.shooter = shooter;
        Ok(RollOutcome {
            roll,
            phase_before,
            phase_after,
            event,
            shooter,
            shooter_changed,
            resolutions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::craps::{HardNumber, Hop, Working};

    fn dice(a: u8, b: u8) -> Roll {
        Roll::new(a, b).expect("valid dice")
    }

    fn rolling(total: u8) -> Roll {
        crate::craps::analysis::dice_for(total).expect("total 2..=12")
    }

    fn n(total: u8) -> PointNumber {
        PointNumber::new(total).expect("box number")
    }

    fn table_at(point: Option<u8>) -> CrapsTable {
        let mut t = CrapsTable::new(TableRules::default()).expect("rules");
        if let Some(p) = point {
            t.roll(rolling(p)).expect("set the point");
        }
        t
    }

    /// Places `kind` for `amount` as bet #1 on a table with `point`, rolls
    /// `roll`, and returns the table and bet #1's resolution.
    fn one(
        point: Option<u8>,
        kind: BetKind,
        amount: u64,
        roll: Roll,
    ) -> (CrapsTable, Option<Resolution>) {
        let mut t = table_at(point);
        t.place_bet(BetId(1), kind, Chips(amount)).expect("bet");
        let outcome = t.roll(roll).expect("roll");
        let r = outcome
            .resolutions
            .iter()
            .find(|r| r.bet == BetId(1))
            .copied();
        (t, r)
    }

    fn won(amount: u64, winnings: u64) -> Settlement {
        Settlement {
            returned: Chips(amount),
            winnings: Chips(winnings),
            ..Settlement::default()
        }
    }

    fn stays(amount: u64, winnings: u64, commission: u64) -> Settlement {
        Settlement {
            kept: Chips(amount),
            winnings: Chips(winnings),
            commission: Chips(commission),
            ..Settlement::default()
        }
    }

    fn lost(amount: u64) -> Settlement {
        Settlement {
            lost: Chips(amount),
            ..Settlement::default()
        }
    }

    #[test]
    fn pass_and_dont_pass_on_the_come_out() {
        for total in 2..=12u8 {
            let (t, r) = one(None, BetKind::Pass, 10, rolling(total));
            let r = r.expect("a line bet is always touched by its first roll");
            match total {
                7 | 11 => assert_eq!((r.outcome, r.stake), (Outcome::Won, won(10, 10))),
                2 | 3 | 12 => assert_eq!((r.outcome, r.stake), (Outcome::Lost, lost(10))),
                p => {
                    assert_eq!(r.outcome, Outcome::Travelled(n(p)));
                    assert_eq!(r.stake.kept, Chips(10));
                    assert_eq!(t.bet(BetId(1)).and_then(|b| b.point()), Some(n(p)));
                }
            }
            assert_eq!(r.comes_down(), t.bet(BetId(1)).is_none());

            let (t, r) = one(None, BetKind::DontPass, 10, rolling(total));
            let r = r.expect("touched");
            match total {
                2 | 3 => assert_eq!((r.outcome, r.stake), (Outcome::Won, won(10, 10))),
                12 => {
                    assert_eq!(r.outcome, Outcome::Pushed, "bar 12");
                    assert_eq!(r.stake.returned, Chips(10));
                    assert!(t.bet(BetId(1)).is_none(), "a push comes down");
                }
                7 | 11 => assert_eq!((r.outcome, r.stake), (Outcome::Lost, lost(10))),
                p => assert_eq!(r.outcome, Outcome::Travelled(n(p))),
            }
        }
    }

    #[test]
    fn line_bets_with_a_point_and_their_odds() {
        for p in PointNumber::ALL {
            let (odds_win, lay_win) = match p.total() {
                4 | 10 => (120, 60),
                5 | 9 => (90, 80),
                _ => (72, 100),
            };
            for total in 2..=12u8 {
                let mut t = table_at(None);
                t.place_bet(BetId(1), BetKind::Pass, Chips(60))
                    .expect("pass");
                t.place_bet(BetId(2), BetKind::DontPass, Chips(60))
                    .expect("don't");
                t.roll(rolling(p.total())).expect("point");
                t.set_odds(BetId(1), Chips(60)).expect("odds");
                t.set_odds(BetId(2), Chips(120)).expect("lay odds");
                let outcome = t.roll(rolling(total)).expect("roll");
                let rs = &outcome.resolutions;
                if total == p.total() {
                    assert_eq!(rs.len(), 2);
                    assert_eq!((rs[0].outcome, rs[0].stake), (Outcome::Won, won(60, 60)));
                    assert_eq!(rs[0].odds_outcome, Some(Outcome::Won));
                    assert_eq!(rs[0].odds, won(60, odds_win));
                    assert_eq!((rs[1].outcome, rs[1].stake), (Outcome::Lost, lost(60)));
                    assert_eq!(rs[1].odds, lost(120));
                    assert_eq!(outcome.event, RollEvent::PointMade(p));
                } else if total == 7 {
                    assert_eq!((rs[0].outcome, rs[0].odds), (Outcome::Lost, lost(60)));
                    assert_eq!((rs[1].outcome, rs[1].stake), (Outcome::Won, won(60, 60)));
                    assert_eq!(rs[1].odds, won(120, lay_win));
                    assert!(outcome.is_seven_out());
                } else {
                    assert!(rs.is_empty(), "{total} does not decide point {p}");
                    assert_eq!(outcome.event, RollEvent::NoDecision);
                }
            }
        }
    }

    #[test]
    fn come_and_dont_come_travel_then_resolve() {
        let mut t = table_at(Some(4));
        t.place_bet(BetId(1), BetKind::Come, Chips(10))
            .expect("come");
        t.place_bet(BetId(2), BetKind::DontCome, Chips(10))
            .expect("don't come");
        let outcome = t.roll(dice(4, 5)).expect("9");
        assert_eq!(outcome.resolutions[0].outcome, Outcome::Travelled(n(9)));
        assert_eq!(outcome.resolutions[1].outcome, Outcome::Travelled(n(9)));
        assert_eq!(outcome.event, RollEvent::NoDecision);
        t.set_odds(BetId(1), Chips(40)).expect("come odds 4×");
        t.set_odds(BetId(2), Chips(60)).expect("don't come odds 6×");
        // The table point 4 is made: come bets keep their points.
        let outcome = t.roll(dice(1, 3)).expect("4");
        assert!(outcome.resolutions.is_empty());
        assert_eq!(t.phase(), Phase::ComeOut);
        // Come-out 9: the come bet wins but its odds are off by default and
        // come back; the don't come loses with its odds (working by default).
        let outcome = t.roll(dice(6, 3)).expect("9");
        let rs = &outcome.resolutions;
        assert_eq!((rs[0].outcome, rs[0].stake), (Outcome::Won, won(10, 10)));
        assert_eq!(rs[0].odds_outcome, Some(Outcome::ReturnedWhileOff));
        assert_eq!(rs[0].odds.returned, Chips(40));
        assert_eq!((rs[1].outcome, rs[1].odds), (Outcome::Lost, lost(60)));
        assert!(t.is_empty());
        assert_eq!(outcome.event, RollEvent::PointEstablished(n(9)));

        // Come bets on their first roll: 7 and 11 win, craps lose; don't come
        // bars 12.
        for (total, come, dont) in [
            (7, Outcome::Won, Outcome::Lost),
            (11, Outcome::Won, Outcome::Lost),
            (2, Outcome::Lost, Outcome::Won),
            (3, Outcome::Lost, Outcome::Won),
            (12, Outcome::Lost, Outcome::Pushed),
        ] {
            let (_, r) = one(Some(6), BetKind::Come, 10, rolling(total));
            assert_eq!(r.map(|r| r.outcome), Some(come), "come on {total}");
            let (_, r) = one(Some(6), BetKind::DontCome, 10, rolling(total));
            assert_eq!(r.map(|r| r.outcome), Some(dont), "don't come on {total}");
        }
    }

    #[test]
    fn come_odds_switched_on_work_on_the_come_out() {
        let mut t = table_at(Some(4));
        t.place_bet(BetId(1), BetKind::Come, Chips(10))
            .expect("come");
        t.roll(dice(3, 3)).expect("travels to 6");
        t.set_odds(BetId(1), Chips(50)).expect("odds");
        t.set_working(BetId(1), Working::On).expect("on");
        t.roll(dice(2, 2)).expect("point made");
        let outcome = t.roll(dice(3, 4)).expect("come-out 7");
        let r = outcome.resolutions[0];
        assert_eq!(r.outcome, Outcome::Lost);
        assert_eq!(r.odds_outcome, Some(Outcome::Lost));
        assert_eq!(r.odds, lost(50));
        assert!(!outcome.is_seven_out(), "a come-out 7 is not a seven-out");
        assert!(!outcome.shooter_changed);
    }

    #[test]
    fn place_buy_and_lay_on_every_total() {
        for number in PointNumber::ALL {
            let (place, buy) = match number.total() {
                4 | 10 => (108, 120),
                5 | 9 => (84, 90),
                _ => (70, 72),
            };
            let lay: u64 = match number.total() {
                4 | 10 => 30,
                5 | 9 => 40,
                _ => 50,
            };
            for total in 2..=12u8 {
                let roll = rolling(total);
                let (t, r) = one(Some(number.total()), BetKind::Place(number), 60, roll);
                let (_, b) = one(Some(number.total()), BetKind::Buy(number), 60, roll);
                let (_, l) = one(Some(number.total()), BetKind::Lay(number), 60, roll);
                if total == number.total() {
                    let r = r.expect("place decided");
                    assert_eq!(
                        (r.outcome, r.stake),
                        (Outcome::WonStaysUp, stays(60, place, 0))
                    );
                    assert_eq!(
                        t.bet(BetId(1)).map(|b| b.amount()),
                        Some(Chips(60)),
                        "stays up"
                    );
                    assert_eq!(b.map(|b| b.stake), Some(stays(60, buy, 3)), "5% of the bet");
                    assert_eq!(
                        l.map(|l| (l.outcome, l.stake)),
                        Some((Outcome::Lost, lost(60)))
                    );
                } else if total == 7 {
                    assert_eq!(r.map(|r| r.stake), Some(lost(60)));
                    assert_eq!(b.map(|b| b.stake), Some(lost(60)));
                    let commission = lay.div_ceil(20);
                    assert_eq!(
                        l.map(|l| l.stake),
                        Some(stays(60, lay, commission)),
                        "5% of the win"
                    );
                } else {
                    assert_eq!((r, b, l), (None, None, None));
                }
            }
        }
    }

    #[test]
    fn place_buy_and_hardways_are_off_on_the_come_out_lay_and_big_work() {
        let mut t = table_at(None);
        t.place_bet(BetId(1), BetKind::Place(n(6)), Chips(60))
            .expect("place");
        t.place_bet(BetId(2), BetKind::Buy(n(8)), Chips(60))
            .expect("buy");
        t.place_bet(BetId(3), BetKind::Hard(HardNumber::Four), Chips(60))
            .expect("hard");
        t.place_bet(BetId(4), BetKind::Lay(n(10)), Chips(60))
            .expect("lay");
        t.place_bet(BetId(5), BetKind::Big8, Chips(60))
            .expect("big 8");
        let outcome = t.roll(dice(3, 4)).expect("come-out 7");
        let ids: Vec<BetId> = outcome.resolutions.iter().map(|r| r.bet).collect();
        assert_eq!(ids, vec![BetId(4), BetId(5)]);
        assert_eq!(outcome.resolutions[0].outcome, Outcome::WonStaysUp);
        assert_eq!(outcome.resolutions[1].outcome, Outcome::Lost);
        // Switched on, a place bet works on the come-out.
        t.set_working(BetId(1), Working::On).expect("on");
        let outcome = t.roll(dice(5, 1)).expect("come-out 6");
        assert_eq!(outcome.resolutions[0].bet, BetId(1));
        assert_eq!(outcome.resolutions[0].stake, stays(60, 70, 0));
        // The hard 4 that was off is still up; with the point on it works.
        let outcome = t.roll(dice(2, 2)).expect("hard 4");
        let hard = outcome.resolutions.iter().find(|r| r.bet == BetId(3));
        assert_eq!(hard.map(|r| r.stake), Some(stays(60, 420, 0)));
    }

    #[test]
    fn hardways_win_hard_and_lose_easy_or_seven() {
        for h in HardNumber::ALL {
            let pays = if matches!(h.total(), 6 | 8) { 9 } else { 7 };
            for roll in Roll::all() {
                let (_, r) = one(Some(5), BetKind::Hard(h), 10, roll);
                let total = roll.total();
                if total == h.total() && roll.is_pair() {
                    assert_eq!(r.map(|r| r.stake), Some(stays(10, 10 * pays, 0)));
                } else if total == h.total() || total == 7 {
                    assert_eq!(r.map(|r| r.stake), Some(lost(10)), "hard {h} on {roll}");
                } else {
                    assert_eq!(r, None);
                }
            }
        }
    }

    #[test]
    fn big_six_and_eight() {
        for (kind, number) in [(BetKind::Big6, 6), (BetKind::Big8, 8)] {
            for total in 2..=12u8 {
                let (_, r) = one(None, kind, 10, rolling(total));
                let expected = if total == number {
                    Some(stays(10, 10, 0))
                } else if total == 7 {
                    Some(lost(10))
                } else {
                    None
                };
                assert_eq!(r.map(|r| r.stake), expected, "{kind} on {total}");
            }
        }
    }

    /// For one-roll bets: (returned, lost, winnings) of a 120-chip bet.
    fn one_roll_expected(kind: BetKind, roll: Roll) -> (u64, u64, u64) {
        let t = roll.total();
        let whole = |hit: bool, to_one: u64| {
            if hit {
                (120, 0, 120 * to_one)
            } else {
                (0, 120, 0)
            }
        };
        match kind {
            BetKind::Field => match t {
                2 => (120, 0, 240),
                12 => (120, 0, 360),
                3 | 4 | 9 | 10 | 11 => (120, 0, 120),
                _ => (0, 120, 0),
            },
            BetKind::AnySeven => whole(t == 7, 4),
            BetKind::AnyCraps => whole(matches!(t, 2 | 3 | 12), 7),
            BetKind::Two => whole(t == 2, 30),
            BetKind::Three => whole(t == 3, 15),
            BetKind::Eleven => whole(t == 11, 15),
            BetKind::Twelve => whole(t == 12, 30),
            BetKind::Horn => match t {
                2 | 12 => (30, 90, 900),
                3 | 11 => (30, 90, 450),
                _ => (0, 120, 0),
            },
            BetKind::CrapsEleven => match t {
                2 | 3 | 12 => (60, 60, 420),
                11 => (60, 60, 900),
                _ => (0, 120, 0),
            },
            BetKind::Hop(h) => {
                let (a, b) = h.faces();
                let hit = h.matches(roll);
                whole(hit, if a == b { 30 } else { 15 })
            }
            _ => unreachable!("not a one-roll bet"),
        }
    }

    #[test]
    fn one_roll_bets_on_every_roll() {
        let mut kinds = vec![
            BetKind::Field,
            BetKind::AnySeven,
            BetKind::AnyCraps,
            BetKind::Two,
            BetKind::Three,
            BetKind::Eleven,
            BetKind::Twelve,
            BetKind::Horn,
            BetKind::CrapsEleven,
        ];
        for a in 1..=6 {
            for b in a..=6 {
                kinds.push(BetKind::Hop(Hop::new(a, b).expect("hop")));
            }
        }
        for kind in kinds {
            for point in [None, Some(8)] {
                for roll in Roll::all() {
                    let (t, r) = one(point, kind, 120, roll);
                    let r = r.expect("one-roll bets are decided by the roll");
                    let (returned, lost, winnings) = one_roll_expected(kind, roll);
                    assert_eq!(r.stake.returned, Chips(returned), "{kind} on {roll}");
                    assert_eq!(r.stake.lost, Chips(lost), "{kind} on {roll}");
                    assert_eq!(r.stake.winnings, Chips(winnings), "{kind} on {roll}");
                    assert_eq!(r.stake.kept, Chips::ZERO);
                    assert_eq!(
                        r.outcome,
                        if winnings > 0 {
                            Outcome::Won
                        } else {
                            Outcome::Lost
                        }
                    );
                    assert!(t.bet(BetId(1)).is_none(), "one-roll bets come down");
                }
            }
        }
    }

    #[test]
    fn one_roll_bets_switched_off_stay_up() {
        let mut t = table_at(None);
        t.place_bet(BetId(1), BetKind::AnySeven, Chips(10))
            .expect("any 7");
        t.set_working(BetId(1), Working::Off).expect("off");
        let outcome = t.roll(dice(3, 4)).expect("7");
        assert!(outcome.resolutions.is_empty());
        assert!(t.bet(BetId(1)).is_some());
        assert_eq!(t.take_down(BetId(1)), Ok(Chips(10)));
    }

    #[test]
    fn rounding_favours_the_house() {
        // Winnings round down: 5 on place 6 wins 5 (5.83), 5 on buy 6 wins 6
        // (6 exact) but pays 1 commission (0.25 rounded up).
        let (_, r) = one(Some(4), BetKind::Place(n(6)), 5, dice(3, 3));
        assert_eq!(r.map(|r| r.stake), Some(stays(5, 5, 0)));
        let (_, r) = one(Some(4), BetKind::Buy(n(6)), 5, dice(3, 3));
        assert_eq!(r.map(|r| r.stake), Some(stays(5, 6, 1)));
        let (_, r) = one(Some(4), BetKind::Buy(n(4)), 1, dice(3, 1));
        assert_eq!(r.map(|r| r.stake), Some(stays(1, 2, 1)));
        // A 1-chip lay on 4 wins 0 (0.5) and so pays no commission.
        let (_, r) = one(Some(5), BetKind::Lay(n(4)), 1, dice(3, 4));
        assert_eq!(r.map(|r| r.stake), Some(stays(1, 0, 0)));
        // 21 on lay 6 wins 17 (17.5); commission ⌈0.85⌉ = 1.
        let (_, r) = one(Some(5), BetKind::Lay(n(6)), 21, dice(3, 4));
        assert_eq!(r.map(|r| r.stake), Some(stays(21, 17, 1)));
    }

    #[test]
    fn seven_out_changes_the_shooter_and_point_made_does_not() {
        let mut t = table_at(None);
        assert_eq!(t.shooter(), 0);
        let o = t.roll(dice(6, 5)).expect("11");
        assert_eq!(
            (o.event, o.shooter, o.shooter_changed),
            (RollEvent::Natural, 0, false)
        );
        let o = t.roll(dice(1, 1)).expect("2");
        assert_eq!(o.event, RollEvent::Craps);
        let o = t.roll(dice(4, 1)).expect("5");
        assert_eq!(o.event, RollEvent::PointEstablished(n(5)));
        assert_eq!(o.phase_after, Phase::Point(n(5)));
        let o = t.roll(dice(6, 5)).expect("11");
        assert_eq!(o.event, RollEvent::NoDecision);
        let o = t.roll(dice(2, 3)).expect("5");
        assert_eq!(
            (o.event, o.shooter_changed),
            (RollEvent::PointMade(n(5)), false)
        );
        assert_eq!(t.phase(), Phase::ComeOut);
        let o = t.roll(dice(3, 4)).expect("come-out 7");
        assert_eq!((o.event, o.shooter_changed), (RollEvent::Natural, false));
        t.roll(dice(5, 5)).expect("10");
        let o = t.roll(dice(6, 1)).expect("seven-out");
        assert!(o.is_seven_out());
        assert_eq!((o.shooter, o.shooter_changed), (1, true));
        assert_eq!(
            (o.phase_before, o.phase_after),
            (Phase::Point(n(10)), Phase::ComeOut)
        );
        assert_eq!(t.shooter(), 1);
    }

    #[test]
    fn resolutions_come_in_bet_id_order_and_totals_add_up() {
        let mut t = table_at(None);
        t.place_bet(BetId(30), BetKind::Field, Chips(10))
            .expect("field");
        t.place_bet(BetId(10), BetKind::Pass, Chips(10))
            .expect("pass");
        t.place_bet(BetId(20), BetKind::AnySeven, Chips(10))
            .expect("any 7");
        let o = t.roll(dice(5, 6)).expect("11");
        let ids: Vec<u64> = o.resolutions.iter().map(|r| r.bet.0).collect();
        assert_eq!(ids, vec![10, 20, 30]);
        let total = o.total().expect("sum");
        assert_eq!(total.returned, Chips(20));
        assert_eq!(total.lost, Chips(10));
        assert_eq!(total.winnings, Chips(20));
        assert_eq!(total.to_player(), Some(Chips(40)));
        assert_eq!(total.to_bankroll(), Some(Chips(10)));
    }
}
