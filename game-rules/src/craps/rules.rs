//! Table rules (limits, odds, what works on the come-out) and the payout of
//! every bet.

use core::fmt;

use super::bet::{BetKind, HardNumber, PointNumber};
use super::error::CrapsError;
use crate::Chips;

/// A payout "win to per", such as 7:6 (win 7 chips for every 6 bet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pays {
    /// Chips won...
    pub win: u64,
    /// ...for this many chips bet.
    pub per: u64,
}

impl Pays {
    /// `win:per`.
    pub const fn new(win: u64, per: u64) -> Self {
        Pays { win, per }
    }

    /// The winnings on `stake`, rounded down to the chip (the rounding rule:
    /// winnings round towards the house). `None` only if `per` is zero or the
    /// result does not fit in 64 bits.
    pub fn on(self, stake: Chips) -> Option<Chips> {
        stake.mul_ratio_floor(self.win, self.per)
    }
}

impl fmt::Display for Pays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.win, self.per)
    }
}

/// Pass, don't pass, come, don't come, big 6 and big 8: 1:1.
pub const EVEN_MONEY: Pays = Pays::new(1, 1);

/// The commission on buy bets (of the bet) and lay bets (of the win): 5%,
/// taken only on a win, rounded up to the chip.
pub const COMMISSION: Pays = Pays::new(5, 100);

/// The commission on `base` (the bet of a buy, the win of a lay), rounded up
/// to the chip (the rounding rule: commissions round towards the house, so a
/// tiny buy bet still pays one chip of commission).
pub fn commission_on(base: Chips) -> Option<Chips> {
    base.mul_ratio_ceil(COMMISSION.win, COMMISSION.per)
}

/// True odds of a point against the 7: 4/10 2:1, 5/9 3:2, 6/8 6:5. Pays
/// odds behind pass and come, and buy bets.
pub const fn true_odds(point: PointNumber) -> Pays {
    match point {
        PointNumber::Four | PointNumber::Ten => Pays::new(2, 1),
        PointNumber::Five | PointNumber::Nine => Pays::new(3, 2),
        PointNumber::Six | PointNumber::Eight => Pays::new(6, 5),
    }
}

/// True odds of the 7 against a point: 4/10 1:2, 5/9 2:3, 6/8 5:6. Pays lay
/// odds behind don't pass and don't come, and lay bets.
pub const fn lay_true_odds(point: PointNumber) -> Pays {
    match point {
        PointNumber::Four | PointNumber::Ten => Pays::new(1, 2),
        PointNumber::Five | PointNumber::Nine => Pays::new(2, 3),
        PointNumber::Six | PointNumber::Eight => Pays::new(5, 6),
    }
}

/// Place bets: 4/10 9:5, 5/9 7:5, 6/8 7:6.
pub const fn place_pays(number: PointNumber) -> Pays {
    match number {
        PointNumber::Four | PointNumber::Ten => Pays::new(9, 5),
        PointNumber::Five | PointNumber::Nine => Pays::new(7, 5),
        PointNumber::Six | PointNumber::Eight => Pays::new(7, 6),
    }
}

/// Hardways: hard 4/10 7:1, hard 6/8 9:1.
pub const fn hard_pays(number: HardNumber) -> Pays {
    match number {
        HardNumber::Four | HardNumber::Ten => Pays::new(7, 1),
        HardNumber::Six | HardNumber::Eight => Pays::new(9, 1),
    }
}

/// The field on a total: 2 pays 2:1, 12 pays 3:1, 3, 4, 9, 10, 11 pay 1:1;
/// `None` (the field loses) on 5, 6, 7, 8.
pub const fn field_pays(total: u8) -> Option<Pays> {
    match total {
        2 => Some(Pays::new(2, 1)),
        12 => Some(Pays::new(3, 1)),
        3 | 4 | 9 | 10 | 11 => Some(EVEN_MONEY),
        _ => None,
    }
}

/// Any 7: 4:1.
pub const ANY_SEVEN_PAYS: Pays = Pays::new(4, 1);
/// Any craps (2, 3, 12), and the craps half of C&E: 7:1.
pub const ANY_CRAPS_PAYS: Pays = Pays::new(7, 1);
/// 2 or 12, the 2/12 quarter of a horn, and a hard hop: 30:1.
pub const THIRTY_TO_ONE: Pays = Pays::new(30, 1);
/// 3 or 11, the 3/11 quarter of a horn, the 11 half of C&E, and an easy
/// hop: 15:1.
pub const FIFTEEN_TO_ONE: Pays = Pays::new(15, 1);

/// How much odds a line bet may carry.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub enum OddsLimit {
    /// 3× the line bet on 4/10, 4× on 5/9, 5× on 6/8 (the odds then win 6×
    /// the line bet on every point); lay odds up to what wins that same
    /// multiple (3×, 4×, 5× the line bet), which is a lay of 6× the line bet
    /// on every point.
    ThreeFourFive,
    /// N× the line bet on every point; lay odds up to what wins N× the line
    /// bet. `Flat(0)` allows no odds.
    Flat(u32),
}

impl OddsLimit {
    /// The multiple of the line bet allowed behind pass/come on `point` (and
    /// the multiple of the line bet that lay odds may win).
    pub const fn multiple(self, point: PointNumber) -> u32 {
        match self {
            OddsLimit::Flat(n) => n,
            OddsLimit::ThreeFourFive => match point {
                PointNumber::Four | PointNumber::Ten => 3,
                PointNumber::Five | PointNumber::Nine => 4,
                PointNumber::Six | PointNumber::Eight => 5,
            },
        }
    }

    /// The most odds allowed behind a line bet of `line` chips on `point`:
    /// `multiple × line` behind pass/come; behind don't pass/don't come the
    /// largest lay whose win `lay × ways/6` is at most `multiple × line`.
    /// `None` on overflow.
    pub fn max_odds(self, dont: bool, point: PointNumber, line: Chips) -> Option<Chips> {
        let multiple = u64::from(self.multiple(point));
        if dont {
            line.mul_ratio_floor(multiple.checked_mul(6)?, u64::from(point.ways()))
        } else {
            line.mul_ratio_floor(multiple, 1)
        }
    }
}

/// Which bets work on the come-out roll unless the player switched them
/// (see [`Working`](super::Working)). While a point is on every bet works
/// unless switched off.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct ComeOutWorking {
    /// Odds behind come bets (default off).
    pub come_odds: bool,
    /// Lay odds behind don't come bets (default on).
    pub dont_come_odds: bool,
    /// Place bets (default off).
    pub place: bool,
    /// Buy bets (default off).
    pub buy: bool,
    /// Lay bets (default on).
    pub lay: bool,
    /// Hardways (default off).
    pub hardways: bool,
    /// Big 6 and big 8 (default on).
    pub big: bool,
    /// One-roll bets (default on).
    pub one_roll: bool,
}

impl Default for ComeOutWorking {
    fn default() -> Self {
        ComeOutWorking {
            come_odds: false,
            dont_come_odds: true,
            place: false,
            buy: false,
            lay: true,
            hardways: false,
            big: true,
            one_roll: true,
        }
    }
}

impl ComeOutWorking {
    /// Whether a bet of `kind` works on the come-out by default. For line bets
    /// this is about their odds (the line bet itself always works).
    pub const fn works(&self, kind: BetKind) -> bool {
        match kind {
            BetKind::Pass | BetKind::Come => self.come_odds,
            BetKind::DontPass | BetKind::DontCome => self.dont_come_odds,
            BetKind::Place(_) => self.place,
            BetKind::Buy(_) => self.buy,
            BetKind::Lay(_) => self.lay,
            BetKind::Hard(_) => self.hardways,
            BetKind::Big6 | BetKind::Big8 => self.big,
            BetKind::Field
            | BetKind::AnySeven
            | BetKind::AnyCraps
            | BetKind::Two
            | BetKind::Three
            | BetKind::Eleven
            | BetKind::Twelve
            | BetKind::Horn
            | BetKind::CrapsEleven
            | BetKind::Hop(_) => self.one_roll,
        }
    }
}

/// The rules of one table. Validated by
/// [`CrapsTable::new`](super::CrapsTable::new).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
pub struct TableRules {
    /// The smallest bet (not applied to odds), at least 1 chip.
    pub min_bet: Chips,
    /// The largest bet (not applied to odds, which have [`OddsLimit`]), at
    /// most [`TableRules::MAX_BET_CAP`].
    pub max_bet: Chips,
    /// How much odds a line bet may carry.
    pub odds_limit: OddsLimit,
    /// Which bets work on the come-out by default.
    pub come_out: ComeOutWorking,
}

impl TableRules {
    /// The largest `max_bet` the engine accepts, 2^48 chips. With it and
    /// [`TableRules::MAX_ODDS_MULTIPLE`], no single bet's stake, odds or
    /// winnings can overflow 64 bits.
    pub const MAX_BET_CAP: Chips = Chips(1 << 48);

    /// The largest flat odds multiple the engine accepts: 1000×.
    pub const MAX_ODDS_MULTIPLE: u32 = 1000;

    /// Checks the rules: `1 ≤ min_bet ≤ max_bet ≤ MAX_BET_CAP` and a flat
    /// odds multiple of at most `MAX_ODDS_MULTIPLE`.
    pub fn validate(&self) -> Result<(), CrapsError> {
        if self.min_bet == Chips::ZERO {
            return Err(CrapsError::InvalidRules {
                reason: "the minimum bet is 0 chips; set it to at least 1",
            });
        }
        if self.min_bet > self.max_bet {
            return Err(CrapsError::InvalidRules {
                reason: "the minimum bet is above the maximum bet; lower the minimum or raise the maximum",
            });
        }
        if self.max_bet > Self::MAX_BET_CAP {
            return Err(CrapsError::InvalidRules {
                reason: "the maximum bet is above 2^48 chips; lower it",
            });
        }
        if let OddsLimit::Flat(n) = self.odds_limit
            && n > Self::MAX_ODDS_MULTIPLE
        {
            return Err(CrapsError::InvalidRules {
                reason: "the flat odds multiple is above 1000×; lower it",
            });
        }
        Ok(())
    }
}

impl Default for TableRules {
    /// Minimum 1 chip, maximum 10^9 chips, 3-4-5× odds, come odds, place,
    /// buy and hardways off on the come-out (lay, don't come odds, big 6/8 and
    /// one-roll bets on). The ledger sets real limits when a table is created.
    fn default() -> Self {
        TableRules {
            min_bet: Chips(1),
            max_bet: Chips(1_000_000_000),
            odds_limit: OddsLimit::ThreeFourFive,
            come_out: ComeOutWorking::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_four_five_wins_six_times_the_line_on_every_point() {
        let line = Chips(10);
        for p in PointNumber::ALL {
            let max = OddsLimit::ThreeFourFive.max_odds(false, p, line);
            let win = max.and_then(|m| true_odds(p).on(m));
            assert_eq!(win, Some(Chips(60)), "odds on {p}");
            let lay = OddsLimit::ThreeFourFive.max_odds(true, p, line);
            assert_eq!(lay, Some(Chips(60)), "lay odds on {p}");
            let multiple = u64::from(OddsLimit::ThreeFourFive.multiple(p));
            assert_eq!(
                lay.and_then(|l| lay_true_odds(p).on(l)),
                Some(Chips(10 * multiple)),
                "lay odds on {p} win the 3-4-5 multiple of the line"
            );
        }
    }

    #[test]
    fn flat_odds_limit_the_lay_by_its_win() {
        let line = Chips(10);
        let flat = OddsLimit::Flat(2);
        assert_eq!(
            flat.max_odds(false, PointNumber::Four, line),
            Some(Chips(20))
        );
        assert_eq!(
            flat.max_odds(true, PointNumber::Four, line),
            Some(Chips(40))
        );
        assert_eq!(
            flat.max_odds(true, PointNumber::Five, line),
            Some(Chips(30))
        );
        assert_eq!(flat.max_odds(true, PointNumber::Six, line), Some(Chips(24)));
        assert_eq!(
            OddsLimit::Flat(0).max_odds(true, PointNumber::Six, line),
            Some(Chips::ZERO)
        );
    }

    #[test]
    fn true_odds_are_true() {
        for p in PointNumber::ALL {
            let odds = true_odds(p);
            assert_eq!(odds.win * u64::from(p.ways()), odds.per * 6);
            let lay = lay_true_odds(p);
            assert_eq!(lay.win * 6, lay.per * u64::from(p.ways()));
        }
    }

    #[test]
    fn commission_rounds_up_and_winnings_round_down() {
        assert_eq!(commission_on(Chips(1)), Some(Chips(1)));
        assert_eq!(commission_on(Chips(20)), Some(Chips(1)));
        assert_eq!(commission_on(Chips(21)), Some(Chips(2)));
        assert_eq!(commission_on(Chips::ZERO), Some(Chips::ZERO));
        assert_eq!(place_pays(PointNumber::Six).on(Chips(5)), Some(Chips(5)));
        assert_eq!(true_odds(PointNumber::Five).on(Chips(3)), Some(Chips(4)));
    }

    #[test]
    fn rules_are_validated() {
        assert_eq!(TableRules::default().validate(), Ok(()));
        let zero_min = TableRules {
            min_bet: Chips::ZERO,
            ..TableRules::default()
        };
        assert!(zero_min.validate().is_err());
        let inverted = TableRules {
            min_bet: Chips(10),
            max_bet: Chips(5),
            ..TableRules::default()
        };
        assert!(inverted.validate().is_err());
        let huge = TableRules {
            max_bet: Chips(u64::MAX),
            ..TableRules::default()
        };
        assert!(huge.validate().is_err());
        let wild_odds = TableRules {
            odds_limit: OddsLimit::Flat(1001),
            ..TableRules::default()
        };
        assert!(wild_odds.validate().is_err());
    }
}
