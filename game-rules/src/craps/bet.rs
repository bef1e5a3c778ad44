//! What a bet is on ([`BetKind`]), who it is ([`BetId`]) and its state on the
//! table ([`Bet`]).

use core::fmt;

use super::error::CrapsError;
use crate::{Chips, Roll};

/// The caller-assigned identity of a bet on one table.
///
/// The engine does not know players; the ledger maps ids to players. An id
/// may not be used by two bets on the table at the same time.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct BetId(pub u64);

impl fmt::Display for BetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A box number: 4, 5, 6, 8, 9 or 10. These are the possible points, and
/// the numbers of place, buy and lay bets.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub enum PointNumber {
    /// 4.
    Four,
    /// 5.
    Five,
    /// 6.
    Six,
    /// 8.
    Eight,
    /// 9.
    Nine,
    /// 10.
    Ten,
}

impl PointNumber {
    /// The six box numbers, in increasing order.
    pub const ALL: [PointNumber; 6] = [
        PointNumber::Four,
        PointNumber::Five,
        PointNumber::Six,
        PointNumber::Eight,
        PointNumber::Nine,
        PointNumber::Ten,
    ];

    /// The box number `total`, or [`CrapsError::InvalidNumber`] if `total`
    /// is not 4, 5, 6, 8, 9 or 10.
    pub fn new(total: u8) -> Result<Self, CrapsError> {
        Self::from_total(total).ok_or(CrapsError::InvalidNumber { total })
    }

    /// The box number `total`, or `None` if `total` is not one.
    pub const fn from_total(total: u8) -> Option<Self> {
        match total {
            4 => Some(PointNumber::Four),
            5 => Some(PointNumber::Five),
            6 => Some(PointNumber::Six),
            8 => Some(PointNumber::Eight),
            9 => Some(PointNumber::Nine),
            10 => Some(PointNumber::Ten),
            _ => None,
        }
    }

    /// The number itself.
    pub const fn total(self) -> u8 {
        match self {
            PointNumber::Four => 4,
            PointNumber::Five => 5,
            PointNumber::Six => 6,
            PointNumber::Eight => 8,
            PointNumber::Nine => 9,
            PointNumber::Ten => 10,
        }
    }

    /// In how many of the 36 rolls this number comes up (3, 4 or 5); a seven
    /// comes up in 6.
    pub const fn ways(self) -> u8 {
        match self {
            PointNumber::Four | PointNumber::Ten => 3,
            PointNumber::Five | PointNumber::Nine => 4,
            PointNumber::Six | PointNumber::Eight => 5,
        }
    }
}

impl fmt::Display for PointNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.total())
    }
}

/// A number that can be rolled the hard way: 4, 6, 8 or 10.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub enum HardNumber {
    /// Hard 4 (2-2).
    Four,
    /// Hard 6 (3-3).
    Six,
    /// Hard 8 (4-4).
    Eight,
    /// Hard 10 (5-5).
    Ten,
}

impl HardNumber {
    /// The four hardways, in increasing order.
    pub const ALL: [HardNumber; 4] = [
        HardNumber::Four,
        HardNumber::Six,
        HardNumber::Eight,
        HardNumber::Ten,
    ];

    /// The hardway on `total`, or [`CrapsError::InvalidHardway`] if `total`
    /// is not 4, 6, 8 or 10.
    pub fn new(total: u8) -> Result<Self, CrapsError> {
        match total {
            4 => Ok(HardNumber::Four),
            6 => Ok(HardNumber::Six),
            8 => Ok(HardNumber::Eight),
            10 => Ok(HardNumber::Ten),
            _ => Err(CrapsError::InvalidHardway { total }),
        }
    }

    /// The number itself.
    pub const fn total(self) -> u8 {
        match self {
            HardNumber::Four => 4,
            HardNumber::Six => 6,
            HardNumber::Eight => 8,
            HardNumber::Ten => 10,
        }
    }
}

impl fmt::Display for HardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.total())
    }
}

/// A hop bet's pair of dice, in either order: an easy hop (two different
/// faces, two ways to roll it) or a hard hop (a pair, one way).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct Hop {
    low: u8,
    high: u8,
}

impl Hop {
    /// The hop on faces `first` and `second` (order does not matter), or
    /// [`CrapsError::InvalidHop`] unless both are 1 to 6.
    pub fn new(first: u8, second: u8) -> Result<Self, CrapsError> {
        if (1..=6).contains(&first) && (1..=6).contains(&second) {
            Ok(Hop {
                low: first.min(second),
                high: first.max(second),
            })
        } else {
            Err(CrapsError::InvalidHop { first, second })
        }
    }

    /// The two faces, the lower first.
    pub const fn faces(self) -> (u8, u8) {
        (self.low, self.high)
    }

    /// Whether both faces are the same (one way to roll it, pays 30:1).
    pub const fn is_hard(self) -> bool {
        self.low == self.high
    }

    /// Whether `roll` shows exactly these two faces, in either order.
    pub const fn matches(self, roll: Roll) -> bool {
        let a = roll.first.face();
        let b = roll.second.face();
        (a == self.low && b == self.high) || (a == self.high && b == self.low)
    }
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.low, self.high)
    }
}

/// What a bet is on. One enum for every bet at the table; its payouts are in
/// [`rules`](super::rules) and the module documentation.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub enum BetKind {
    /// Pass line: placed on the come-out; 7 or 11 wins, 2, 3 or 12 loses,
    /// another number becomes its point, which must repeat before a 7. 1:1.
    Pass,
    /// Don't pass: placed on the come-out; 2 or 3 wins, 12 pushes (bar 12),
    /// 7 or 11 loses; then 7 before the point wins. 1:1.
    DontPass,
    /// Come: like pass, placed while a point is on; its first roll is its own
    /// come-out and a box number makes it travel to that point. 1:1.
    Come,
    /// Don't come: like don't pass, placed while a point is on. 1:1.
    DontCome,
    /// Place bet on a number: the number before a 7; 4/10 pay 9:5, 5/9 7:5,
    /// 6/8 7:6. Stays up after a win.
    Place(PointNumber),
    /// Buy bet: the number before a 7 at true odds (4/10 2:1, 5/9 3:2, 6/8
    /// 6:5), 5% commission of the bet taken only on a win. Stays up after a win.
    Buy(PointNumber),
    /// Lay bet: a 7 before the number at true odds (4/10 1:2, 5/9 2:3, 6/8
    /// 5:6), 5% commission of the win taken only on a win. Stays up after a win.
    Lay(PointNumber),
    /// Field, one roll: 3, 4, 9, 10, 11 pay 1:1, 2 pays 2:1, 12 pays 3:1;
    /// 5, 6, 7, 8 lose.
    Field,
    /// Hardway: the pair before a 7 or the easy way; hard 6/8 pay 9:1,
    /// hard 4/10 7:1. Stays up after a win.
    Hard(HardNumber),
    /// Any 7, one roll: 4:1.
    AnySeven,
    /// Any craps (2, 3 or 12), one roll: 7:1.
    AnyCraps,
    /// 2 (aces), one roll: 30:1.
    Two,
    /// 3 (ace-deuce), one roll: 15:1.
    Three,
    /// 11 (yo), one roll: 15:1.
    Eleven,
    /// 12 (boxcars), one roll: 30:1.
    Twelve,
    /// Horn, one roll: the bet split in four equal parts on 2, 3, 11 and 12;
    /// the winning quarter pays 30:1 (2, 12) or 15:1 (3, 11), the other three
    /// quarters lose. The amount must be a multiple of 4.
    Horn,
    /// C&E, one roll: the bet split in two, half on any craps (7:1), half on
    /// 11 (15:1); the other half loses. The amount must be even.
    CrapsEleven,
    /// Hop, one roll: an exact pair of dice; easy 15:1, hard 30:1.
    Hop(Hop),
    /// Big 6: a 6 before a 7, 1:1. Stays up after a win.
    Big6,
    /// Big 8: an 8 before a 7, 1:1. Stays up after a win.
    Big8,
}

impl BetKind {
    /// Every bet kind at the table (58): the fixed kinds, then place, buy
    /// and lay on each point number, the four hardways, and the 21 hops.
    pub fn all() -> impl Iterator<Item = BetKind> {
        let fixed = [
            BetKind::Pass,
            BetKind::DontPass,
            BetKind::Come,
            BetKind::DontCome,
            BetKind::Field,
            BetKind::AnySeven,
            BetKind::AnyCraps,
            BetKind::Two,
            BetKind::Three,
            BetKind::Eleven,
            BetKind::Twelve,
            BetKind::Horn,
            BetKind::CrapsEleven,
            BetKind::Big6,
            BetKind::Big8,
        ];
        let numbers = PointNumber::ALL
            .into_iter()
            .flat_map(|n| [BetKind::Place(n), BetKind::Buy(n), BetKind::Lay(n)]);
        let hops =
            (1..=6u8).flat_map(|low| (low..=6).map(move |high| BetKind::Hop(Hop { low, high })));
        fixed
            .into_iter()
            .chain(numbers)
            .chain(HardNumber::ALL.map(BetKind::Hard))
            .chain(hops)
    }

    /// Pass, don't pass, come or don't come: the bets that can carry odds.
    pub const fn is_line(self) -> bool {
        matches!(
            self,
            BetKind::Pass | BetKind::DontPass | BetKind::Come | BetKind::DontCome
        )
    }

    /// Don't pass or don't come (the "wrong" side: bets on the 7).
    pub const fn is_dont_line(self) -> bool {
        matches!(self, BetKind::DontPass | BetKind::DontCome)
    }

    /// Bets decided by the next roll they work on.
    pub const fn is_one_roll(self) -> bool {
        matches!(
            self,
            BetKind::Field
                | BetKind::AnySeven
                | BetKind::AnyCraps
                | BetKind::Two
                | BetKind::Three
                | BetKind::Eleven
                | BetKind::Twelve
                | BetKind::Horn
                | BetKind::CrapsEleven
                | BetKind::Hop(_)
        )
    }

    /// Bets whose stake stays on the table after a win (only the winnings are
    /// paid): place, buy, lay, hardways, big 6 and big 8.
    pub const fn stays_up_after_win(self) -> bool {
        matches!(
            self,
            BetKind::Place(_)
                | BetKind::Buy(_)
                | BetKind::Lay(_)
                | BetKind::Hard(_)
                | BetKind::Big6
                | BetKind::Big8
        )
    }

    /// Into how many equal parts the bet is split: 4 for horn, 2 for C&E,
    /// 1 for everything else. The amount must be a multiple of it.
    pub const fn parts(self) -> u64 {
        match self {
            BetKind::Horn => 4,
            BetKind::CrapsEleven => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for BetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BetKind::Pass => write!(f, "pass"),
            BetKind::DontPass => write!(f, "don't pass"),
            BetKind::Come => write!(f, "come"),
            BetKind::DontCome => write!(f, "don't come"),
            BetKind::Place(n) => write!(f, "place {n}"),
            BetKind::Buy(n) => write!(f, "buy {n}"),
            BetKind::Lay(n) => write!(f, "lay {n}"),
            BetKind::Field => write!(f, "field"),
            BetKind::Hard(n) => write!(f, "hard {n}"),
            BetKind::AnySeven => write!(f, "any 7"),
            BetKind::AnyCraps => write!(f, "any craps"),
            BetKind::Two => write!(f, "2"),
            BetKind::Three => write!(f, "3"),
            BetKind::Eleven => write!(f, "11"),
            BetKind::Twelve => write!(f, "12"),
            BetKind::Horn => write!(f, "horn"),
            BetKind::CrapsEleven => write!(f, "C&E"),
            BetKind::Hop(h) => write!(f, "hop {h}"),
            BetKind::Big6 => write!(f, "big 6"),
            BetKind::Big8 => write!(f, "big 8"),
        }
    }
}

/// The player's switch for whether a bet works on the next roll.
///
/// For a line bet the switch applies to its odds; the line bet itself always
/// works. A bet that is off is not decided by a roll and stays on the table;
/// odds that are off when their line bet is decided are returned.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub enum Working {
    /// Follow the table rules (see [`ComeOutWorking`](super::ComeOutWorking)):
    /// on while a point is on, and on the come-out as the rules say.
    #[default]
    TableDefault,
    /// Always on.
    On,
    /// Always off.
    Off,
}

/// One bet on the table: its kind, stake, odds (line bets only), the player's
/// working switch and, for line bets, the point it has travelled to.
///
/// Bets are made only by the table, so every bet on a table is valid.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Bet {
    pub(super) id: BetId,
    pub(super) kind: BetKind,
    pub(super) amount: Chips,
    pub(super) odds: Chips,
    pub(super) working: Working,
    pub(super) point: Option<PointNumber>,
}

impl Bet {
    /// The caller's id of the bet.
    pub const fn id(&self) -> BetId {
        self.id
    }

    /// What it is on.
    pub const fn kind(&self) -> BetKind {
        self.kind
    }

    /// The stake of the bet proper (without odds), held in escrow.
    pub const fn amount(&self) -> Chips {
        self.amount
    }

    /// The odds behind a line bet (zero for other bets), held in escrow.
    pub const fn odds(&self) -> Chips {
        self.odds
    }

    /// The player's working switch.
    pub const fn working(&self) -> Working {
        self.working
    }

    /// The point of a line bet once established (pass, don't pass) or
    /// travelled to (come, don't come); `None` before its first roll and for
    /// other bets.
    pub const fn point(&self) -> Option<PointNumber> {
        self.point
    }

    /// Stake plus odds: everything this bet holds in escrow.
    pub fn escrow(&self) -> Result<Chips, CrapsError> {
        self.amount
            .checked_add(self.odds)
            .ok_or(CrapsError::Overflow {
                what: "a bet's stake plus odds",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_numbers_round_trip_and_reject_others() {
        for n in PointNumber::ALL {
            assert_eq!(PointNumber::new(n.total()), Ok(n));
        }
        for t in [0, 1, 2, 3, 7, 11, 12, 13, 255] {
            assert_eq!(
                PointNumber::new(t),
                Err(CrapsError::InvalidNumber { total: t })
            );
        }
        let ways: u32 = PointNumber::ALL.iter().map(|n| u32::from(n.ways())).sum();
        assert_eq!(ways, 24, "box numbers come up in 24 of 36 rolls");
    }

    #[test]
    fn hardways_exist_only_on_even_box_numbers() {
        for h in HardNumber::ALL {
            assert_eq!(HardNumber::new(h.total()), Ok(h));
        }
        for t in [2, 3, 5, 7, 9, 11, 12] {
            assert_eq!(
                HardNumber::new(t),
                Err(CrapsError::InvalidHardway { total: t })
            );
        }
    }

    #[test]
    fn hops_are_unordered_pairs_of_faces() {
        assert_eq!(Hop::new(5, 2), Hop::new(2, 5));
        assert_eq!(Hop::new(5, 2).map(Hop::faces), Ok((2, 5)));
        assert!(Hop::new(3, 3).is_ok_and(Hop::is_hard));
        assert_eq!(
            Hop::new(0, 3),
            Err(CrapsError::InvalidHop {
                first: 0,
                second: 3
            })
        );
        assert!(Hop::new(7, 1).is_err());
        let hop = Hop::new(1, 2).expect("valid hop");
        let matching = Roll::all().filter(|r| hop.matches(*r)).count();
        assert_eq!(matching, 2);
        let hard = Hop::new(6, 6).expect("valid hop");
        assert_eq!(Roll::all().filter(|r| hard.matches(*r)).count(), 1);
    }

    #[test]
    fn kinds_are_classified() {
        assert!(BetKind::Come.is_line() && !BetKind::Come.is_dont_line());
        assert!(BetKind::DontCome.is_dont_line());
        assert!(BetKind::Horn.is_one_roll() && !BetKind::Horn.stays_up_after_win());
        assert!(BetKind::Lay(PointNumber::Four).stays_up_after_win());
        assert_eq!(BetKind::Horn.parts(), 4);
        assert_eq!(BetKind::CrapsEleven.parts(), 2);
        assert_eq!(BetKind::Field.parts(), 1);
        assert_eq!(BetKind::Place(PointNumber::Six).to_string(), "place 6");
    }
}
