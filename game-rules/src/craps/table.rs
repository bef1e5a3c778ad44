//! The table: its phase, its shooter counter, the bets on it, and the requests
//! that change them between rolls (place, odds, working switch, take down).
//!
//! Every request validates first and changes the table only if it is
//! accepted; a refused request leaves the table exactly as it was.

use core::fmt;
use std::collections::BTreeMap;

use super::bet::{Bet, BetId, BetKind, PointNumber, Working};
use super::error::CrapsError;
use super::rules::TableRules;
use crate::Chips;

/// Whether the next roll is a come-out roll or a point is on.
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
pub enum Phase {
    /// The next roll is a come-out roll (no point).
    ComeOut,
    /// The point is on.
    Point(PointNumber),
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Phase::ComeOut => write!(f, "on the come-out"),
            Phase::Point(p) => write!(f, "while the point is {p}"),
        }
    }
}

/// One craps table: rules, phase, shooter counter and the bets on it, keyed
/// and always iterated in [`BetId`] order.
///
/// The ledger stores one per table and drives it: requests between rolls
/// ([`place_bet`](Self::place_bet), [`set_odds`](Self::set_odds),
/// [`set_working`](Self::set_working), [`take_down`](Self::take_down)), then
/// [`roll`](Self::roll) once per roll. See the module documentation for the
/// chips each call moves.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct CrapsTable {
    pub(super) rules: TableRules,
    pub(super) phase: Phase,
    pub(super) shooter: u64,
    pub(super) bets: BTreeMap<BetId, Bet>,
    /// The sum of the bets' escrows, remembered so that placing a bet does
    /// not add up every bet on the table again (that made a roll interval's
    /// bets cost quadratic time). Not part of the table's state: never
    /// encoded, never compared, recomputed from `bets` when missing. Code
    /// that changes `bets` directly must call
    /// [`forget_escrow`](Self::forget_escrow).
    #[borsh(skip)]
    pub(super) escrow_total: EscrowTotal,
}

/// A remembered escrow sum (see [`CrapsTable`]): `None` until computed;
/// then `Some(None)` if some bet's own escrow does not fit in [`Chips`]
/// (its error is then computed again by [`CrapsTable::escrow`]), else
/// `Some(Some(sum))`, the exact sum (a `u128` cannot overflow here).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct EscrowTotal(Option<Option<u128>>);

/// A cache never makes two tables different.
impl PartialEq for EscrowTotal {
    fn eq(&self, _: &EscrowTotal) -> bool {
        true
    }
}

impl Eq for EscrowTotal {}

impl CrapsTable {
    /// A fresh table on the come-out with shooter 0 and no bets, or
    /// [`CrapsError::InvalidRules`] if `rules` do not validate.
    pub fn new(rules: TableRules) -> Result<Self, CrapsError> {
        rules.validate()?;
        Ok(CrapsTable {
            rules,
            phase: Phase::ComeOut,
            shooter: 0,
            bets: BTreeMap::new(),
            escrow_total: EscrowTotal(Some(Some(0))),
        })
    }

    /// Drops the remembered escrow sum; the next bet placed adds the bets
    /// up again. For code that changes `bets` without the methods below.
    pub(super) fn forget_escrow(&mut self) {
        self.escrow_total = EscrowTotal(None);
    }

    /// The escrow sum as [`EscrowTotal`] describes it, remembered.
    fn escrow_sum(&mut self) -> Option<u128> {
        if let EscrowTotal(Some(sum)) = self.escrow_total {
            return sum;
        }
        let sum = self.bets.values().try_fold(0u128, |sum, bet| {
            Some(sum + u128::from(bet.escrow().ok()?.get()))
        });
        self.escrow_total = EscrowTotal(Some(sum));
        sum
    }

    /// Whether the remembered escrow sum, if any, is the bets' sum now.
    #[cfg(test)]
    pub(super) fn remembered_escrow_is_exact(&self) -> bool {
        let fresh = self.bets.values().try_fold(0u128, |sum, bet| {
            Some(sum + u128::from(bet.escrow().ok()?.get()))
        });
        match self.escrow_total {
            EscrowTotal(None) => true,
            EscrowTotal(Some(sum)) => sum == fresh,
        }
    }

    /// Keeps a remembered escrow sum up to date when one bet's escrow goes
    /// from `before` to `after` (0 for no bet; `None` for an escrow that
    /// does not fit in [`Chips`], which forgets the sum instead).
    fn escrow_moved(&mut self, before: Option<u64>, after: Option<u64>) {
        self.escrow_total = match (self.escrow_total, before, after) {
            (EscrowTotal(Some(Some(sum))), Some(before), Some(after)) => sum
                .checked_sub(u128::from(before))
                .map_or(EscrowTotal(None), |rest| {
                    EscrowTotal(Some(Some(rest + u128::from(after))))
                }),
            _ => EscrowTotal(None),
        };
    }

    /// The table rules.
    pub const fn rules(&self) -> &TableRules {
        &self.rules
    }

    /// Come-out or point.
    pub const fn phase(&self) -> Phase {
        self.phase
    }

    /// The point, if one is on.
    pub const fn point(&self) -> Option<PointNumber> {
        match self.phase {
            Phase::ComeOut => None,
            Phase::Point(p) => Some(p),
        }
    }

    /// The shooter counter: 0 for the first shooter, increased by one at every
    /// seven-out. The ledger maps it to players.
    pub const fn shooter(&self) -> u64 {
        self.shooter
    }

    /// The bet with this id, if it is on the table.
    pub fn bet(&self, id: BetId) -> Option<&Bet> {
        self.bets.get(&id)
    }

    /// Whether the part of bet `id` that its working switch governs — the
    /// bet itself, or a line bet's odds — would work if the dice were rolled
    /// now: [`Working::On`] or [`Working::Off`] as set, else the table's
    /// rules for the phase. A line bet proper always works.
    pub fn works_next_roll(&self, id: BetId) -> Result<bool, CrapsError> {
        let bet = self.get(id)?;
        Ok(if bet.kind.is_line() {
            odds_work(&self.rules, self.phase, bet)
        } else {
            bet_works(&self.rules, self.phase, bet)
        })
    }

    /// All bets on the table, in increasing [`BetId`] order.
    pub fn bets(&self) -> impl Iterator<Item = &Bet> + '_ {
        self.bets.values()
    }

    /// How many bets are on the table.
    pub fn bet_count(&self) -> usize {
        self.bets.len()
    }

    /// Whether no bet is on the table.
    pub fn is_empty(&self) -> bool {
        self.bets.is_empty()
    }

    /// Every chip held in escrow: the stakes and odds of all bets on the table.
    pub fn escrow(&self) -> Result<Chips, CrapsError> {
        self.bets.values().try_fold(Chips::ZERO, |sum, bet| {
            sum.checked_add(bet.escrow()?).ok_or(CrapsError::Overflow {
                what: "the table's escrow",
            })
        })
    }

    /// Whether the bet proper works on the next roll: line bets always; other
    /// bets by the player's switch, else on while a point is on and on the
    /// come-out as [`ComeOutWorking`](super::ComeOutWorking) says.
    pub fn is_working(&self, id: BetId) -> Result<bool, CrapsError> {
        let bet = self.get(id)?;
        Ok(bet_works(&self.rules, self.phase, bet))
    }

    /// Whether the odds behind a line bet work on the next roll (by the
    /// player's switch, else on while a point is on and on the come-out as the
    /// rules say for come and don't come odds). `false` for other bets.
    pub fn odds_working(&self, id: BetId) -> Result<bool, CrapsError> {
        let bet = self.get(id)?;
        Ok(odds_work(&self.rules, self.phase, bet))
    }

    /// The most odds the table allows behind line bet `id` now, or
    /// [`CrapsError::OddsWithoutLineBet`] if it is not a line bet with a point.
    pub fn max_odds(&self, id: BetId) -> Result<Chips, CrapsError> {
        let bet = self.get(id)?;
        let point = match (bet.kind.is_line(), bet.point) {
            (true, Some(point)) => point,
            _ => {
                return Err(CrapsError::OddsWithoutLineBet { id, kind: bet.kind });
            }
        };
        self.rules
            .odds_limit
            .max_odds(bet.kind.is_dont_line(), point, bet.amount)
            .ok_or(CrapsError::Overflow {
                what: "the odds limit",
            })
    }

    /// Places a new bet `id` of `kind` for `amount` chips (odds come later with
    /// [`set_odds`](Self::set_odds)). The ledger moves `amount` from the player
    /// into escrow.
    ///
    /// Refused: a duplicate id; a zero amount, under the minimum or over the
    /// maximum; a horn not a multiple of 4 or C&E not even; pass and don't
    /// pass while a point is on; come and don't come on the come-out.
    pub fn place_bet(&mut self, id: BetId, kind: BetKind, amount: Chips) -> Result<(), CrapsError> {
        if self.bets.contains_key(&id) {
            return Err(CrapsError::DuplicateBetId { id });
        }
        let rules = &self.rules;
        if amount == Chips::ZERO {
            return Err(CrapsError::ZeroAmount {
                kind,
                min: rules.min_bet,
            });
        }
        if amount < rules.min_bet {
            return Err(CrapsError::BelowMinimum {
                kind,
                amount,
                min: rules.min_bet,
            });
        }
        if amount > rules.max_bet {
            return Err(CrapsError::AboveMaximum {
                kind,
                amount,
                max: rules.max_bet,
            });
        }
        let parts = kind.parts();
        if !amount.get().is_multiple_of(parts) {
            return Err(CrapsError::UnevenSplit {
                kind,
                amount,
                parts,
            });
        }
        match (kind, self.phase) {
            (BetKind::Pass | BetKind::DontPass, Phase::Point(_)) => {
                return Err(CrapsError::NotAllowedInPhase {
                    kind,
                    phase: self.phase,
                    rule: "pass and don't pass are placed only on the come-out; \
                           bet come or don't come while a point is on",
                });
            }
            (BetKind::Come | BetKind::DontCome, Phase::ComeOut) => {
                return Err(CrapsError::NotAllowedInPhase {
                    kind,
                    phase: self.phase,
                    rule: "come and don't come are placed only while a point is on; \
                           bet pass or don't pass on the come-out",
                });
            }
            _ => {}
        }
        // The escrow total must stay representable. With every bet's own
        // escrow representable, `escrow()` fails exactly when the sum is
        // over `u64::MAX`, so the remembered sum decides the same; if some
        // bet's is not, `escrow()` itself says which error comes first.
        let overflow = CrapsError::Overflow {
            what: "the table's escrow",
        };
        match self.escrow_sum() {
            Some(sum) => {
                if sum + u128::from(amount.get()) > u128::from(u64::MAX) {
                    return Err(overflow);
                }
            }
            None => {
                self.escrow()?.checked_add(amount).ok_or(overflow)?;
            }
        }
        let bet = Bet {
            id,
            kind,
            amount,
            odds: Chips::ZERO,
            working: Working::TableDefault,
            point: None,
        };
        self.escrow_moved(Some(0), Some(amount.get()));
        self.bets.insert(id, bet);
        Ok(())
    }

    /// Sets the odds behind line bet `id` to `odds` (zero takes them down) and
    /// returns the odds it had before. The ledger moves `odds − before` from
    /// the player into escrow if positive, or `before − odds` from escrow back
    /// to the player if negative.
    ///
    /// Refused: an unknown id; a bet that is not pass, don't pass, come or
    /// don't come with an established point ("odds without a line bet"); odds
    /// over the table's [`OddsLimit`](super::OddsLimit).
    pub fn set_odds(&mut self, id: BetId, odds: Chips) -> Result<Chips, CrapsError> {
        let max = self.max_odds(id)?;
        let bet = self.get(id)?;
        let before = bet.odds;
        if odds > max {
            let point = bet
                .point
                .ok_or(CrapsError::OddsWithoutLineBet { id, kind: bet.kind })?;
            return Err(CrapsError::OddsOverLimit {
                id,
                point,
                odds,
                max,
            });
        }
        let others = self
            .escrow()?
            .checked_sub(before)
            .ok_or(CrapsError::Overflow {
                what: "the table's escrow",
            })?;
        others.checked_add(odds).ok_or(CrapsError::Overflow {
            what: "the table's escrow",
        })?;
        let (escrow_before, escrow_after) = (
            bet.escrow().ok().map(Chips::get),
            bet.amount.checked_add(odds).map(Chips::get),
        );
        self.escrow_moved(escrow_before, escrow_after);
        if let Some(bet) = self.bets.get_mut(&id) {
            bet.odds = odds;
        }
        Ok(before)
    }

    /// Sets the player's working switch on bet `id` (for a line bet: on its
    /// odds). No chips move. Refused only for an unknown id.
    pub fn set_working(&mut self, id: BetId, working: Working) -> Result<(), CrapsError> {
        let bet = self
            .bets
            .get_mut(&id)
            .ok_or(CrapsError::UnknownBet { id })?;
        bet.working = working;
        Ok(())
    }

    /// Takes bet `id` down with its odds and returns its escrow (stake plus
    /// odds), which the ledger moves back to the player.
    ///
    /// Refused: an unknown id; a pass or come bet whose point is set (a
    /// contract bet). Everything else can come down at any time between
    /// rolls: don't pass and don't come (with their odds), place, buy, lay,
    /// hardways, big 6/8, one-roll bets not yet rolled, and pass and come bets
    /// before their first roll.
    pub fn take_down(&mut self, id: BetId) -> Result<Chips, CrapsError> {
        let bet = self.get(id)?;
        if let (BetKind::Pass | BetKind::Come, Some(point)) = (bet.kind, bet.point) {
            return Err(CrapsError::ContractBet {
                id,
                kind: bet.kind,
                point,
            });
        }
        let escrow = bet.escrow()?;
        self.escrow_moved(Some(escrow.get()), Some(0));
        self.bets.remove(&id);
        Ok(escrow)
    }

    fn get(&self, id: BetId) -> Result<&Bet, CrapsError> {
        self.bets.get(&id).ok_or(CrapsError::UnknownBet { id })
    }
}

/// Whether `bet` proper works on a roll in `phase`.
pub(super) fn bet_works(rules: &TableRules, phase: Phase, bet: &Bet) -> bool {
    if bet.kind.is_line() {
        return true;
    }
    switched(bet.working, rules, phase, bet.kind)
}

/// Whether the odds behind `bet` work on a roll in `phase`.
pub(super) fn odds_work(rules: &TableRules, phase: Phase, bet: &Bet) -> bool {
    bet.kind.is_line() && switched(bet.working, rules, phase, bet.kind)
}

fn switched(working: Working, rules: &TableRules, phase: Phase, kind: BetKind) -> bool {
    match working {
        Working::On => true,
        Working::Off => false,
        Working::TableDefault => match phase {
            Phase::Point(_) => true,
            Phase::ComeOut => rules.come_out.works(kind),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Roll;
    use crate::craps::{HardNumber, Hop, OddsLimit};

    fn table() -> CrapsTable {
        let rules = TableRules {
            min_bet: Chips(5),
            max_bet: Chips(1000),
            ..TableRules::default()
        };
        CrapsTable::new(rules).expect("valid rules")
    }

    fn dice(a: u8, b: u8) -> Roll {
        Roll::new(a, b).expect("valid dice")
    }

    /// A table with the point on `total`.
    fn with_point(total: u8) -> CrapsTable {
        let mut t = table();
        let a = total.saturating_sub(6).max(1);
        t.roll(dice(a, total - a)).expect("roll");
        assert_eq!(t.point().map(PointNumber::total), Some(total));
        t
    }

    #[test]
    fn works_next_roll_follows_the_switch_then_the_phase() {
        let mut t = table();
        let six = BetKind::Place(PointNumber::Six);
        t.place_bet(BetId(1), six, Chips(30)).expect("place 6");
        t.place_bet(BetId(2), BetKind::Field, Chips(5))
            .expect("field");
        // On the come-out a place bet is off by default, a one-roll bet on.
        assert_eq!(t.works_next_roll(BetId(1)), Ok(false));
        assert_eq!(t.works_next_roll(BetId(2)), Ok(true));
        t.set_working(BetId(1), Working::On).expect("on");
        assert_eq!(t.works_next_roll(BetId(1)), Ok(true));
        t.set_working(BetId(2), Working::Off).expect("off");
        assert_eq!(t.works_next_roll(BetId(2)), Ok(false));
        assert_eq!(
            t.works_next_roll(BetId(9)),
            Err(CrapsError::UnknownBet { id: BetId(9) })
        );

        // With a point on, the table default works.
        let mut t = with_point(8);
        t.place_bet(BetId(1), six, Chips(30)).expect("place 6");
        assert_eq!(t.works_next_roll(BetId(1)), Ok(true));
        t.set_working(BetId(1), Working::Off).expect("off");
        assert_eq!(t.works_next_roll(BetId(1)), Ok(false));
    }

    #[test]
    fn amounts_are_checked() {
        let mut t = table();
        let before = t.clone();
        assert_eq!(
            t.place_bet(BetId(1), BetKind::Field, Chips(0)),
            Err(CrapsError::ZeroAmount {
                kind: BetKind::Field,
                min: Chips(5)
            })
        );
        assert!(matches!(
            t.place_bet(BetId(1), BetKind::Field, Chips(4)),
            Err(CrapsError::BelowMinimum { .. })
        ));
        assert!(matches!(
            t.place_bet(BetId(1), BetKind::Field, Chips(1001)),
            Err(CrapsError::AboveMaximum { .. })
        ));
        assert!(matches!(
            t.place_bet(BetId(1), BetKind::Horn, Chips(10)),
            Err(CrapsError::UnevenSplit { parts: 4, .. })
        ));
        assert!(matches!(
            t.place_bet(BetId(1), BetKind::CrapsEleven, Chips(7)),
            Err(CrapsError::UnevenSplit { parts: 2, .. })
        ));
        assert_eq!(t, before, "refused requests change nothing");
        t.place_bet(BetId(1), BetKind::Horn, Chips(8))
            .expect("horn 8");
        t.place_bet(BetId(2), BetKind::CrapsEleven, Chips(6))
            .expect("C&E 6");
        assert_eq!(t.escrow(), Ok(Chips(14)));
    }

    #[test]
    fn the_escrow_check_is_the_same_with_the_sum_remembered_or_not() {
        let rules = TableRules {
            min_bet: Chips(1),
            max_bet: TableRules::MAX_BET_CAP,
            ..TableRules::default()
        };
        let mut t = CrapsTable::new(rules).expect("rules");
        let big = TableRules::MAX_BET_CAP;
        // 2^16 bets of 2^48 chips fill u64 exactly: the last one overflows.
        for id in 0..(1u64 << 16) - 1 {
            t.place_bet(BetId(id), BetKind::Field, big).expect("fits");
        }
        assert_eq!(t.escrow(), Ok(Chips(u64::MAX - big.get() + 1)));
        let overflow = Err(CrapsError::Overflow {
            what: "the table's escrow",
        });
        assert_eq!(t.place_bet(BetId(u64::MAX), BetKind::Field, big), overflow);
        t.place_bet(BetId(u64::MAX), BetKind::Field, Chips(big.get() - 1))
            .expect("exactly u64::MAX");
        assert_eq!(t.escrow(), Ok(Chips(u64::MAX)));
        assert_eq!(
            t.place_bet(BetId(u64::MAX - 1), BetKind::Field, Chips(1)),
            overflow
        );
        // Decoded (nothing remembered) or cloned, the same verdicts.
        let bytes = borsh::to_vec(&t).expect("encode");
        let mut decoded: CrapsTable = borsh::from_slice(&bytes).expect("decode");
        assert_eq!(decoded, t);
        assert_eq!(
            decoded.place_bet(BetId(u64::MAX - 1), BetKind::Field, Chips(1)),
            overflow
        );
        assert!(decoded.remembered_escrow_is_exact());
        // Taking a bet down makes room again, remembered or not.
        for table in [&mut t, &mut decoded] {
            assert_eq!(table.take_down(BetId(0)), Ok(big));
            table
                .place_bet(BetId(u64::MAX - 1), BetKind::Field, big)
                .expect("room again");
            assert_eq!(
                table.place_bet(BetId(u64::MAX - 2), BetKind::Field, Chips(1)),
                overflow
            );
            assert!(table.remembered_escrow_is_exact());
        }
        // A roll settles the field bets and the sum is recomputed.
        t.roll(dice(3, 4)).expect("roll");
        assert_eq!(t.bet_count(), 0);
        t.place_bet(BetId(1), BetKind::Field, Chips(5))
            .expect("bet");
        assert!(t.remembered_escrow_is_exact());
        assert_eq!(t.escrow(), Ok(Chips(5)));
    }

    #[test]
    fn duplicate_and_unknown_ids_are_refused() {
        let mut t = table();
        t.place_bet(BetId(7), BetKind::Pass, Chips(10))
            .expect("pass");
        let before = t.clone();
        assert_eq!(
            t.place_bet(BetId(7), BetKind::Field, Chips(10)),
            Err(CrapsError::DuplicateBetId { id: BetId(7) })
        );
        assert_eq!(
            t.take_down(BetId(8)),
            Err(CrapsError::UnknownBet { id: BetId(8) })
        );
        assert_eq!(
            t.set_working(BetId(8), Working::On),
            Err(CrapsError::UnknownBet { id: BetId(8) })
        );
        assert_eq!(
            t.set_odds(BetId(8), Chips(10)),
            Err(CrapsError::UnknownBet { id: BetId(8) })
        );
        assert_eq!(t, before);
    }

    #[test]
    fn line_bets_are_placed_in_their_phase() {
        let mut t = table();
        assert!(matches!(
            t.place_bet(BetId(1), BetKind::Come, Chips(10)),
            Err(CrapsError::NotAllowedInPhase { .. })
        ));
        assert!(matches!(
            t.place_bet(BetId(1), BetKind::DontCome, Chips(10)),
            Err(CrapsError::NotAllowedInPhase { .. })
        ));
        t.place_bet(BetId(1), BetKind::Pass, Chips(10))
            .expect("pass on come-out");
        t.place_bet(BetId(2), BetKind::DontPass, Chips(10))
            .expect("don't pass on come-out");
        let mut t = with_point(6);
        assert!(matches!(
            t.place_bet(BetId(1), BetKind::Pass, Chips(10)),
            Err(CrapsError::NotAllowedInPhase { .. })
        ));
        assert!(matches!(
            t.place_bet(BetId(1), BetKind::DontPass, Chips(10)),
            Err(CrapsError::NotAllowedInPhase { .. })
        ));
        t.place_bet(BetId(1), BetKind::Come, Chips(10))
            .expect("come with a point");
        t.place_bet(BetId(2), BetKind::DontCome, Chips(10))
            .expect("don't come with a point");
        // Everything else goes up in either phase.
        for (i, kind) in [
            BetKind::Place(PointNumber::Four),
            BetKind::Buy(PointNumber::Ten),
            BetKind::Lay(PointNumber::Five),
            BetKind::Hard(HardNumber::Eight),
            BetKind::Big6,
            BetKind::Hop(Hop::new(1, 1).expect("hop")),
        ]
        .into_iter()
        .enumerate()
        {
            let id = BetId(100 + i as u64);
            table()
                .place_bet(id, kind, Chips(20))
                .expect("on the come-out");
            t.place_bet(id, kind, Chips(20)).expect("with a point");
        }
    }

    #[test]
    fn odds_need_an_established_line_bet() {
        let mut t = table();
        t.place_bet(BetId(1), BetKind::Pass, Chips(10))
            .expect("pass");
        t.place_bet(BetId(2), BetKind::Place(PointNumber::Six), Chips(12))
            .expect("place");
        let before = t.clone();
        assert_eq!(
            t.set_odds(BetId(1), Chips(10)),
            Err(CrapsError::OddsWithoutLineBet {
                id: BetId(1),
                kind: BetKind::Pass
            })
        );
        assert!(matches!(
            t.set_odds(BetId(2), Chips(10)),
            Err(CrapsError::OddsWithoutLineBet { .. })
        ));
        assert_eq!(t, before);
        t.roll(dice(2, 2)).expect("point 4");
        assert_eq!(t.set_odds(BetId(1), Chips(30)), Ok(Chips::ZERO));
        // A come bet before it travels has no point: no odds yet.
        t.place_bet(BetId(3), BetKind::Come, Chips(10))
            .expect("come");
        assert!(matches!(
            t.set_odds(BetId(3), Chips(10)),
            Err(CrapsError::OddsWithoutLineBet { .. })
        ));
        t.roll(dice(3, 3)).expect("come travels to 6");
        assert_eq!(t.bet(BetId(3)).and_then(Bet::point), Some(PointNumber::Six));
        assert_eq!(t.set_odds(BetId(3), Chips(50)), Ok(Chips::ZERO));
    }

    #[test]
    fn odds_limits_are_three_four_five_and_six_times_for_lay() {
        for p in PointNumber::ALL {
            let mut t = table();
            t.place_bet(BetId(1), BetKind::Pass, Chips(10))
                .expect("pass");
            t.place_bet(BetId(2), BetKind::DontPass, Chips(10))
                .expect("don't pass");
            let a = p.total().saturating_sub(6).max(1);
            t.roll(dice(a, p.total() - a)).expect("point");
            let multiple = match p.total() {
                4 | 10 => 3,
                5 | 9 => 4,
                _ => 5,
            };
            let max = Chips(10 * multiple);
            assert_eq!(t.max_odds(BetId(1)), Ok(max));
            let before = t.clone();
            assert_eq!(
                t.set_odds(BetId(1), Chips(max.get() + 1)),
                Err(CrapsError::OddsOverLimit {
                    id: BetId(1),
                    point: p,
                    odds: Chips(max.get() + 1),
                    max
                })
            );
            assert_eq!(t, before);
            assert_eq!(t.set_odds(BetId(1), max), Ok(Chips::ZERO));
            assert_eq!(t.max_odds(BetId(2)), Ok(Chips(60)));
            assert!(matches!(
                t.set_odds(BetId(2), Chips(61)),
                Err(CrapsError::OddsOverLimit { .. })
            ));
            assert_eq!(t.set_odds(BetId(2), Chips(60)), Ok(Chips::ZERO));
            // Odds come down (or are reduced) at any time.
            assert_eq!(t.set_odds(BetId(2), Chips(0)), Ok(Chips(60)));
            assert_eq!(t.escrow(), Ok(Chips(20 + max.get())));
        }
    }

    #[test]
    fn flat_odds_limit() {
        let rules = TableRules {
            odds_limit: OddsLimit::Flat(2),
            ..TableRules::default()
        };
        let mut t = CrapsTable::new(rules).expect("rules");
        t.place_bet(BetId(1), BetKind::Pass, Chips(10))
            .expect("pass");
        t.place_bet(BetId(2), BetKind::DontPass, Chips(10))
            .expect("don't pass");
        t.roll(dice(3, 2)).expect("point 5");
        assert_eq!(t.max_odds(BetId(1)), Ok(Chips(20)));
        assert_eq!(t.max_odds(BetId(2)), Ok(Chips(30)));
    }

    #[test]
    fn take_down_rules() {
        let mut t = table();
        t.place_bet(BetId(1), BetKind::Pass, Chips(10))
            .expect("pass");
        t.place_bet(BetId(2), BetKind::DontPass, Chips(10))
            .expect("don't pass");
        t.place_bet(BetId(9), BetKind::Pass, Chips(10))
            .expect("pass");
        // A pass bet before its first roll is not yet a contract.
        assert_eq!(t.take_down(BetId(9)), Ok(Chips(10)));
        t.roll(dice(4, 4)).expect("point 8");
        let before = t.clone();
        assert_eq!(
            t.take_down(BetId(1)),
            Err(CrapsError::ContractBet {
                id: BetId(1),
                kind: BetKind::Pass,
                point: PointNumber::Eight
            })
        );
        assert_eq!(t, before);
        t.set_odds(BetId(1), Chips(50)).expect("odds");
        assert_eq!(
            t.set_odds(BetId(1), Chips::ZERO),
            Ok(Chips(50)),
            "odds come down"
        );
        t.set_odds(BetId(2), Chips(60)).expect("lay odds");
        assert_eq!(
            t.take_down(BetId(2)),
            Ok(Chips(70)),
            "don't pass comes down with its odds"
        );

        t.place_bet(BetId(3), BetKind::Come, Chips(10))
            .expect("come");
        t.place_bet(BetId(4), BetKind::Come, Chips(10))
            .expect("come");
        t.place_bet(BetId(5), BetKind::DontCome, Chips(10))
            .expect("don't come");
        assert_eq!(
            t.take_down(BetId(4)),
            Ok(Chips(10)),
            "a come bet before it travels"
        );
        t.roll(dice(2, 3)).expect("come and don't come travel to 5");
        assert!(matches!(
            t.take_down(BetId(3)),
            Err(CrapsError::ContractBet { .. })
        ));
        assert_eq!(t.take_down(BetId(5)), Ok(Chips(10)));
        for (i, kind) in [
            BetKind::Place(PointNumber::Nine),
            BetKind::Buy(PointNumber::Four),
            BetKind::Lay(PointNumber::Ten),
            BetKind::Hard(HardNumber::Six),
            BetKind::Big8,
            BetKind::AnySeven,
        ]
        .into_iter()
        .enumerate()
        {
            let id = BetId(10 + i as u64);
            t.place_bet(id, kind, Chips(30)).expect("bet");
            assert_eq!(t.take_down(id), Ok(Chips(30)), "{kind} comes down");
        }
    }

    #[test]
    fn working_defaults_and_switches() {
        let mut t = table();
        let kinds = [
            (BetKind::Place(PointNumber::Six), false),
            (BetKind::Buy(PointNumber::Four), false),
            (BetKind::Hard(HardNumber::Ten), false),
            (BetKind::Lay(PointNumber::Four), true),
            (BetKind::Big6, true),
            (BetKind::Field, true),
            (BetKind::Pass, true),
        ];
        for (i, (kind, _)) in kinds.iter().enumerate() {
            t.place_bet(BetId(i as u64), *kind, Chips(30)).expect("bet");
        }
        for (i, (kind, on)) in kinds.iter().enumerate() {
            assert_eq!(
                t.is_working(BetId(i as u64)),
                Ok(*on),
                "{kind} on the come-out"
            );
        }
        t.set_working(BetId(0), Working::On).expect("switch");
        t.set_working(BetId(3), Working::Off).expect("switch");
        assert_eq!(t.is_working(BetId(0)), Ok(true));
        assert_eq!(t.is_working(BetId(3)), Ok(false));
        t.roll(dice(5, 5)).expect("point 10");
        assert_eq!(t.is_working(BetId(1)), Ok(true), "buy works with a point");
        assert_eq!(t.is_working(BetId(3)), Ok(false), "switched off stays off");
        assert_eq!(t.odds_working(BetId(6)), Ok(true), "pass odds work");
        assert_eq!(t.odds_working(BetId(4)), Ok(false), "not a line bet");
    }
}
