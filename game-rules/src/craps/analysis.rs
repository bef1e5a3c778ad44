//! Exact house edges, computed from the engine itself.
//!
//! Nothing here restates the rules. A bet is put on a [`CrapsTable`] in some
//! state; each of the 36 equally likely rolls goes through
//! [`CrapsTable::roll`]; the resulting tables (with the shooter counter set to
//! zero, which no bet depends on) are the states of a Markov chain, explored
//! until the bet is decided. The expected value `E[s]` of each state solves
//!
//! ```text
//! E[s] = 1/36 · Σ_rolls ( reward(s, roll) + E[next(s, roll)] )   (E = 0 once decided)
//! ```
//!
//! — the self-loop formula `E = (Σ decided p·net + Σ other p·E[s']) / (1 − p_self)`
//! generalised to the cycles a table has (come-out → point → come-out while a
//! place bet is off) — solved exactly by Gauss–Jordan elimination over
//! [`BigRational`]. A chain in which the bet is never decided (a bet switched
//! off for good) has a singular system and is reported as
//! [`AnalysisError::NeverDecided`].
//!
//! A bet that stays up after a win (place, buy, lay, hardway, big 6/8) is
//! decided by its first win or loss. Stakes of [`EXACT_STAKE`] make every
//! payout and commission a whole number of chips, so the rounding rule does not
//! enter and the result is the edge of the rules as written.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

use super::bet::{BetId, BetKind, PointNumber};
use super::error::CrapsError;
use super::resolution::{Outcome, Resolution};
use super::rules::TableRules;
use super::table::{CrapsTable, Phase};
use crate::{Chips, Roll};

/// A stake for which every payout and commission at the table is a whole
/// number of chips (a multiple of 4, 5, 6, 20 and of 2·3 for lay odds).
pub const EXACT_STAKE: Chips = Chips(600);

/// The most distinct table states an analysis explores before giving up.
pub const MAX_STATES: usize = 2048;

/// Why an exact edge could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnalysisError {
    /// Setting up the table or rolling refused something.
    #[error("the table refused the analysis set-up: {0}")]
    Craps(#[from] CrapsError),
    /// The bet is never decided from this state.
    #[error(
        "the bet is never decided from this state (it is switched off for good, or the strategy \
         never stops betting): switch it on or let the strategy stop"
    )]
    NeverDecided,
    /// The chain has too many states.
    #[error(
        "more than {limit} distinct table states: the strategy is too complex for exact analysis; \
         use fewer simultaneous bets"
    )]
    TooManyStates {
        /// [`MAX_STATES`].
        limit: usize,
    },
    /// The strategy placed nothing on a fresh table.
    #[error("the strategy placed no bet on a fresh table: nothing to compute; make it bet")]
    NoWager,
}

/// Which part of a bet to analyse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// The bet proper.
    Stake,
    /// The odds behind a line bet.
    Odds,
}

/// The exact house edge of one bet, as fractions of its stake (positive: the
/// house wins).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// `−E[player's net] / stake`: per bet made.
    pub per_bet_made: BigRational,
    /// `−E[player's net] / (stake · P(not pushed))`: per bet resolved (pushes
    /// — bar 12, odds returned while off — do not count). `None` if the bet is
    /// always pushed.
    pub per_bet_resolved: Option<BigRational>,
    /// The probability the bet ends in a push (for odds: returned).
    pub push_probability: BigRational,
}

/// The exact edge of a strategy, per chip wagered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrategyEdge {
    /// Expected chips moved into escrow over one decision (line bet plus odds).
    pub expected_wagered: BigRational,
    /// Expected chips the player gets back (stakes returned, winnings net of
    /// commission, take-downs).
    pub expected_returned: BigRational,
    /// `(wagered − returned) / wagered`: the edge per total action.
    pub edge_per_wagered: BigRational,
}

/// A betting strategy: what the player does before each roll.
pub trait Strategy {
    /// Places, changes or takes down bets on `table` before the next roll.
    /// Called on a fresh table first, then after every roll while the table
    /// still has bets. The analysis measures what moved in and out of escrow,
    /// so the strategy does not report it.
    fn before_roll(&self, table: &mut CrapsTable) -> Result<(), CrapsError>;
}

/// The two line bets a [`LineWithMaxOdds`] strategy can play.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineSide {
    /// Pass line, with odds.
    Pass,
    /// Don't pass, with lay odds.
    DontPass,
}

/// Pass (or don't pass) for `line` chips on the come-out, and the most odds
/// the table allows as soon as the point is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LineWithMaxOdds {
    /// Pass or don't pass.
    pub side: LineSide,
    /// The line bet.
    pub line: Chips,
    /// The id the strategy uses for its bet.
    pub id: BetId,
}

impl Strategy for LineWithMaxOdds {
    fn before_roll(&self, table: &mut CrapsTable) -> Result<(), CrapsError> {
        match table.bet(self.id) {
            None => {
                if table.phase() == Phase::ComeOut {
                    let kind = match self.side {
                        LineSide::Pass => BetKind::Pass,
                        LineSide::DontPass => BetKind::DontPass,
                    };
                    table.place_bet(self.id, kind, self.line)?;
                }
            }
            Some(bet) => {
                if bet.point().is_some() {
                    let odds = bet.odds();
                    let max = table.max_odds(self.id)?;
                    if odds != max {
                        table.set_odds(self.id, max)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A fresh table with `rules`, brought to `phase` by rolling through the
/// engine (a come-out roll of the point's total).
pub fn table_at(rules: TableRules, phase: Phase) -> Result<CrapsTable, AnalysisError> {
    let mut table = CrapsTable::new(rules)?;
    if let Phase::Point(point) = phase {
        table.roll(dice_for(point.total())?)?;
    }
    Ok(table)
}

/// Two dice showing `total` (2 to 12).
pub fn dice_for(total: u8) -> Result<Roll, CrapsError> {
    let first = if total > 7 { total - 6 } else { 1 };
    total
        .checked_sub(first)
        .and_then(|second| Roll::new(first, second))
        .ok_or(CrapsError::InvalidNumber { total })
}

/// The exact edge of a single `kind` bet of [`EXACT_STAKE`] placed on a fresh
/// table in `phase`.
pub fn bet_edge(rules: &TableRules, phase: Phase, kind: BetKind) -> Result<Edge, AnalysisError> {
    let mut table = table_at(*rules, phase)?;
    let id = BetId(0);
    table.place_bet(id, kind, EXACT_STAKE)?;
    edge_of(&table, id, Part::Stake)
}

/// The exact edge of odds of [`EXACT_STAKE`] behind a `line` bet (pass, don't
/// pass, come or don't come) of [`EXACT_STAKE`] whose point is `point`. Come
/// bets are placed with the table's point on another number, so their odds
/// see come-out rolls too.
pub fn odds_edge(
    rules: &TableRules,
    line: BetKind,
    point: PointNumber,
) -> Result<Edge, AnalysisError> {
    let id = BetId(0);
    let mut table = match line {
        BetKind::Pass | BetKind::DontPass => table_at(*rules, Phase::ComeOut)?,
        _ => {
            let other = if point == PointNumber::Four {
                PointNumber::Five
            } else {
                PointNumber::Four
            };
            table_at(*rules, Phase::Point(other))?
        }
    };
    table.place_bet(id, line, EXACT_STAKE)?;
    table.roll(dice_for(point.total())?)?;
    table.set_odds(id, EXACT_STAKE)?;
    edge_of(&table, id, Part::Odds)
}

/// The exact edge of `part` of bet `id` on `table`, from the table's current
/// state until the bet is decided. Other bets on the table are ignored.
pub fn edge_of(table: &CrapsTable, id: BetId, part: Part) -> Result<Edge, AnalysisError> {
    let bet = table.bet(id).ok_or(CrapsError::UnknownBet { id })?;
    let stake = match part {
        Part::Stake => bet.amount(),
        Part::Odds => bet.odds(),
    };
    let mut alone = table.clone();
    alone.bets.retain(|other, _| *other == id);
    alone.forget_escrow();
    let step = |state: &CrapsTable| -> Result<Vec<Branch>, AnalysisError> {
        let mut branches = Vec::with_capacity(36);
        for roll in Roll::all() {
            let mut next = state.clone();
            let outcome = next.roll(roll)?;
            let decided = outcome
                .resolutions
                .iter()
                .find(|r| r.bet == id)
                .and_then(|r| decision(r, part));
            branches.push(match decided {
                Some((net, pushed)) => Branch {
                    rewards: vec![integer(net), integer(i128::from(pushed))],
                    next: None,
                },
                None => Branch {
                    rewards: vec![BigRational::zero(), BigRational::zero()],
                    next: Some(next),
                },
            });
        }
        Ok(branches)
    };
    let expected = expected_until_absorbed(alone, 2, &step)?;
    let [net, push]: [BigRational; 2] = expected
        .try_into()
        .map_err(|_| AnalysisError::NeverDecided)?;
    let stake = integer(i128::from(stake.get()));
    if stake.is_zero() {
        return Err(CrapsError::ZeroAmount {
            kind: bet.kind(),
            min: table.rules().min_bet,
        }
        .into());
    }
    let loss = -net;
    let resolved = BigRational::one() - &push;
    let per_bet_resolved = (!resolved.is_zero()).then(|| &loss / (&stake * &resolved));
    Ok(Edge {
        per_bet_made: loss / stake,
        per_bet_resolved,
        push_probability: push,
    })
}

/// Whether a resolution decides `part`, with the player's net and whether it
/// was a push.
fn decision(resolution: &Resolution, part: Part) -> Option<(i128, bool)> {
    match part {
        Part::Stake => match resolution.outcome {
            Outcome::Travelled(_) => None,
            outcome => Some((resolution.stake.net(), outcome == Outcome::Pushed)),
        },
        Part::Odds => resolution.odds_outcome.map(|outcome| {
            let pushed = matches!(outcome, Outcome::Pushed | Outcome::ReturnedWhileOff);
            (resolution.odds.net(), pushed)
        }),
    }
}

/// The exact edge per chip wagered of `strategy`, from a fresh table until
/// the table is empty again (one decision of its bets).
pub fn strategy_edge(
    rules: &TableRules,
    strategy: &dyn Strategy,
) -> Result<StrategyEdge, AnalysisError> {
    let step =
        |state: &CrapsTable| -> Result<Vec<Branch>, AnalysisError> {
            let mut prepared = state.clone();
            strategy.before_roll(&mut prepared)?;
            let (wagered, withdrawn) = escrow_moves(state, &prepared)?;
            let mut branches = Vec::with_capacity(36);
            for roll in Roll::all() {
                let mut next = prepared.clone();
                let outcome = next.roll(roll)?;
                let mut returned = withdrawn;
                for resolution in &outcome.resolutions {
                    let to_player = resolution.total().and_then(|s| s.to_player()).ok_or(
                        CrapsError::Overflow {
                            what: "a strategy's returns",
                        },
                    )?;
                    returned += i128::from(to_player.get());
                }
                branches.push(Branch {
                    rewards: vec![integer(wagered), integer(returned)],
                    next: (!next.is_empty()).then_some(next),
                });
            }
            Ok(branches)
        };
    let fresh = CrapsTable::new(*rules)?;
    let expected = expected_until_absorbed(fresh, 2, &step)?;
    let [wagered, returned]: [BigRational; 2] = expected
        .try_into()
        .map_err(|_| AnalysisError::NeverDecided)?;
    if wagered.is_zero() {
        return Err(AnalysisError::NoWager);
    }
    Ok(StrategyEdge {
        edge_per_wagered: (&wagered - &returned) / &wagered,
        expected_wagered: wagered,
        expected_returned: returned,
    })
}

/// The exact edge per chip wagered of a line bet of [`EXACT_STAKE`] with the
/// most odds `rules` allow (with the default 3-4-5× odds: pass 7/1870 ≈
/// 0.374%, don't pass 3/1100 ≈ 0.273%).
pub fn line_with_max_odds_edge(
    rules: &TableRules,
    side: LineSide,
) -> Result<StrategyEdge, AnalysisError> {
    strategy_edge(
        rules,
        &LineWithMaxOdds {
            side,
            line: EXACT_STAKE,
            id: BetId(0),
        },
    )
}

/// Chips the player moved into escrow and out of it between `before` and
/// `after`, bet by bet.
fn escrow_moves(before: &CrapsTable, after: &CrapsTable) -> Result<(i128, i128), CrapsError> {
    let mut wagered = 0i128;
    let mut withdrawn = 0i128;
    let ids = before.bets.keys().chain(after.bets.keys());
    let mut seen = std::collections::BTreeSet::new();
    for id in ids {
        if !seen.insert(*id) {
            continue;
        }
        let held = |t: &CrapsTable| -> Result<i128, CrapsError> {
            Ok(match t.bet(*id) {
                Some(bet) => i128::from(bet.escrow()?.get()),
                None => 0,
            })
        };
        let change = held(after)? - held(before)?;
        if change > 0 {
            wagered += change;
        } else {
            withdrawn -= change;
        }
    }
    Ok((wagered, withdrawn))
}

/// One of the equally likely ways out of a state.
struct Branch {
    /// What is collected on the way (one value per component).
    rewards: Vec<BigRational>,
    /// The next state, or `None` if the chain ends.
    next: Option<CrapsTable>,
}

/// One state's equation: its expected immediate rewards and where it goes.
struct Row {
    /// Expected rewards collected on leaving the state.
    rewards: Vec<BigRational>,
    /// (next state's index, probability), each index once.
    moves: Vec<(usize, BigRational)>,
}

fn integer(value: i128) -> BigRational {
    BigRational::from_integer(BigInt::from(value))
}

/// The expected total rewards from `initial` until the chain ends, exactly.
fn expected_until_absorbed(
    initial: CrapsTable,
    components: usize,
    step: &dyn Fn(&CrapsTable) -> Result<Vec<Branch>, AnalysisError>,
) -> Result<Vec<BigRational>, AnalysisError> {
    let mut states = vec![normalized(initial)];
    let mut rows: Vec<Row> = Vec::new();
    let mut index = 0;
    while index < states.len() {
        let branches = step(&states[index])?;
        let count = integer(i128::try_from(branches.len()).unwrap_or(i128::MAX));
        if branches.is_empty() {
            return Err(AnalysisError::NeverDecided);
        }
        let mut rewards = vec![BigRational::zero(); components];
        let mut moves: Vec<(usize, BigRational)> = Vec::new();
        for branch in branches {
            for (sum, reward) in rewards.iter_mut().zip(&branch.rewards) {
                *sum += reward / &count;
            }
            if let Some(next) = branch.next {
                let next = normalized(next);
                let target = match states.iter().position(|s| *s == next) {
                    Some(found) => found,
                    None => {
                        if states.len() >= MAX_STATES {
                            return Err(AnalysisError::TooManyStates { limit: MAX_STATES });
                        }
                        states.push(next);
                        states.len() - 1
                    }
                };
                let p = BigRational::one() / &count;
                match moves.iter_mut().find(|(t, _)| *t == target) {
                    Some((_, q)) => *q += p,
                    None => moves.push((target, p)),
                }
            }
        }
        rows.push(Row { rewards, moves });
        index += 1;
    }
    // (I − P) E = R.
    let n = states.len();
    let mut matrix = vec![vec![BigRational::zero(); n]; n];
    let mut rhs = Vec::with_capacity(n);
    for (i, Row { rewards, moves }) in rows.into_iter().enumerate() {
        matrix[i][i] = BigRational::one();
        for (j, p) in moves {
            matrix[i][j] -= p;
        }
        rhs.push(rewards);
    }
    let solution = solve(matrix, rhs).ok_or(AnalysisError::NeverDecided)?;
    solution
        .into_iter()
        .next()
        .ok_or(AnalysisError::NeverDecided)
}

/// The table as a chain state: the shooter counter does not matter to bets.
fn normalized(mut table: CrapsTable) -> CrapsTable {
    table.shooter = 0;
    table
}

/// Solves `a · x = b` (b with several columns) by Gauss–Jordan elimination;
/// `None` if `a` is singular.
fn solve(
    mut a: Vec<Vec<BigRational>>,
    mut b: Vec<Vec<BigRational>>,
) -> Option<Vec<Vec<BigRational>>> {
    let n = a.len();
    for col in 0..n {
        let pivot = (col..n).find(|&r| !a[r][col].is_zero())?;
        a.swap(col, pivot);
        b.swap(col, pivot);
        let inverse = a[col][col].recip();
        for value in a[col].iter_mut().skip(col) {
            *value = &*value * &inverse;
        }
        for value in b[col].iter_mut() {
            *value = &*value * &inverse;
        }
        let pivot_row = a[col].clone();
        let pivot_rhs = b[col].clone();
        for r in 0..n {
            if r == col || a[r][col].is_zero() {
                continue;
            }
            let factor = a[r][col].clone();
            for (value, p) in a[r].iter_mut().zip(&pivot_row).skip(col) {
                *value -= &factor * p;
            }
            for (value, p) in b[r].iter_mut().zip(&pivot_rhs) {
                *value -= &factor * p;
            }
        }
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::craps::{HardNumber, Hop, OddsLimit, Working};

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    fn edge(phase: Phase, kind: BetKind) -> BigRational {
        bet_edge(&TableRules::default(), phase, kind)
            .unwrap_or_else(|e| panic!("{kind}: {e}"))
            .per_bet_made
    }

    const COME_OUT: Phase = Phase::ComeOut;
    const POINT_4: Phase = Phase::Point(PointNumber::Four);
    const POINT_9: Phase = Phase::Point(PointNumber::Nine);

    fn n(total: u8) -> PointNumber {
        PointNumber::new(total).expect("box number")
    }

    fn hard(total: u8) -> HardNumber {
        HardNumber::new(total).expect("hardway")
    }

    fn hop(a: u8, b: u8) -> Hop {
        Hop::new(a, b).expect("hop")
    }

    // Every figure below was re-derived from first principles before being
    // asserted, and all agree with the design table:
    // - pass: P(win) = 8/36 + Σ_points P(point)·P(point before 7) = 244/495,
    //   edge = 1 − 2·244/495 = 7/495 (1.414%);
    // - don't pass: wins 3/36 + Σ P(point)·P(7 first) = 949/1980, loses
    //   976/1980, pushes 1/36: edge per bet made 27/1980 = 3/220 (1.364%),
    //   per bet resolved (3/220)/(35/36) = 27/1925 (1.403%);
    // - place 6: 5/11·7/6 − 6/11 = −1/66; place 5: 2/5·7/5 − 3/5 = −1/25;
    //   place 4: 1/3·9/5 − 2/3 = −1/15;
    // - buy 4: 1/3·(2 − 1/20) − 2/3 = −1/60; buy 5: 2/5·(3/2 − 1/20) − 3/5 =
    //   −1/50; buy 6: 5/11·(6/5 − 1/20) − 6/11 = −1/44;
    // - lay 4: 2/3·(1/2 − 1/40) − 1/3 = −1/60; lay 5: 3/5·(2/3 − 1/30) − 2/5 =
    //   −1/50; lay 6: 6/11·(5/6 − 1/24) − 5/11 = −1/44;
    // - field: (14·1 + 1·2 + 1·3 − 20)/36 = −1/36;
    // - hard 6/8: 1 way vs 10 → 9/11 − 10/11 = −1/11; hard 4/10: 1 vs 8 →
    //   7/9 − 8/9 = −1/9;
    // - any 7: 6/36·4 − 30/36 = −1/6; any craps: 4/36·7 − 32/36 = −1/9;
    //   2, 12: 30/36 − 35/36 = −5/36; 3, 11: 30/36 − 34/36 = −1/9;
    // - horn: (2·(30/4 − 3/4) + 4·(15/4 − 3/4) − 30)/36 = −4.5/36 = −1/8;
    // - C&E: (4·(7/2 − 1/2) + 2·(15/2 − 1/2) − 30)/36 = −4/36 = −1/9;
    // - hop easy: 2/36·15 − 34/36 = −1/9; hop hard: −5/36 as 2 and 12;
    // - big 6/8: 5/11 − 6/11 = −1/11.
    #[test]
    fn every_bet_has_the_design_edge() {
        let cases: Vec<(Phase, BetKind, BigRational)> = vec![
            (COME_OUT, BetKind::Pass, q(7, 495)),
            (COME_OUT, BetKind::DontPass, q(3, 220)),
            (POINT_4, BetKind::Come, q(7, 495)),
            (POINT_9, BetKind::DontCome, q(3, 220)),
            (POINT_4, BetKind::Place(n(6)), q(1, 66)),
            (COME_OUT, BetKind::Place(n(8)), q(1, 66)),
            (POINT_4, BetKind::Place(n(5)), q(1, 25)),
            (COME_OUT, BetKind::Place(n(9)), q(1, 25)),
            (POINT_9, BetKind::Place(n(4)), q(1, 15)),
            (COME_OUT, BetKind::Place(n(10)), q(1, 15)),
            (POINT_4, BetKind::Buy(n(4)), q(1, 60)),
            (COME_OUT, BetKind::Buy(n(10)), q(1, 60)),
            (POINT_4, BetKind::Buy(n(5)), q(1, 50)),
            (COME_OUT, BetKind::Buy(n(9)), q(1, 50)),
            (POINT_4, BetKind::Buy(n(6)), q(1, 44)),
            (COME_OUT, BetKind::Buy(n(8)), q(1, 44)),
            (POINT_9, BetKind::Lay(n(4)), q(1, 60)),
            (COME_OUT, BetKind::Lay(n(10)), q(1, 60)),
            (POINT_4, BetKind::Lay(n(5)), q(1, 50)),
            (COME_OUT, BetKind::Lay(n(9)), q(1, 50)),
            (POINT_4, BetKind::Lay(n(6)), q(1, 44)),
            (COME_OUT, BetKind::Lay(n(8)), q(1, 44)),
            (COME_OUT, BetKind::Field, q(1, 36)),
            (POINT_9, BetKind::Field, q(1, 36)),
            (POINT_4, BetKind::Hard(hard(6)), q(1, 11)),
            (COME_OUT, BetKind::Hard(hard(8)), q(1, 11)),
            (POINT_4, BetKind::Hard(hard(4)), q(1, 9)),
            (COME_OUT, BetKind::Hard(hard(10)), q(1, 9)),
            (COME_OUT, BetKind::AnySeven, q(1, 6)),
            (POINT_4, BetKind::AnyCraps, q(1, 9)),
            (COME_OUT, BetKind::Two, q(5, 36)),
            (COME_OUT, BetKind::Twelve, q(5, 36)),
            (COME_OUT, BetKind::Three, q(1, 9)),
            (POINT_9, BetKind::Eleven, q(1, 9)),
            (COME_OUT, BetKind::Horn, q(1, 8)),
            (COME_OUT, BetKind::CrapsEleven, q(1, 9)),
            (COME_OUT, BetKind::Hop(hop(1, 4)), q(1, 9)),
            (POINT_4, BetKind::Hop(hop(6, 2)), q(1, 9)),
            (COME_OUT, BetKind::Hop(hop(3, 3)), q(5, 36)),
            (POINT_9, BetKind::Hop(hop(1, 1)), q(5, 36)),
            (COME_OUT, BetKind::Big6, q(1, 11)),
            (POINT_4, BetKind::Big8, q(1, 11)),
        ];
        for (phase, kind, expected) in cases {
            assert_eq!(edge(phase, kind), expected, "{kind} {phase}");
        }
    }

    #[test]
    fn dont_pass_per_bet_resolved_counts_out_the_bar_12_push() {
        for (phase, kind) in [(COME_OUT, BetKind::DontPass), (POINT_4, BetKind::DontCome)] {
            let e = bet_edge(&TableRules::default(), phase, kind).expect("edge");
            assert_eq!(e.per_bet_made, q(3, 220));
            assert_eq!(e.per_bet_resolved, Some(q(27, 1925)));
            assert_eq!(e.push_probability, q(1, 36));
        }
        let pass = bet_edge(&TableRules::default(), COME_OUT, BetKind::Pass).expect("edge");
        assert_eq!(pass.per_bet_resolved, Some(q(7, 495)));
        assert_eq!(pass.push_probability, q(0, 1));
    }

    #[test]
    fn odds_and_lay_odds_have_no_edge_on_every_point() {
        let rules = TableRules::default();
        for point in PointNumber::ALL {
            for line in [
                BetKind::Pass,
                BetKind::DontPass,
                BetKind::Come,
                BetKind::DontCome,
            ] {
                let e = odds_edge(&rules, line, point).expect("odds edge");
                assert_eq!(e.per_bet_made, q(0, 1), "odds behind {line} on {point}");
            }
        }
    }

    #[test]
    fn come_odds_off_on_the_come_out_are_sometimes_returned() {
        // Come bet on 5 with the table point on 4: a 4 makes the table point,
        // then the next come-out 7 returns the (off) odds.
        let e = odds_edge(&TableRules::default(), BetKind::Come, PointNumber::Five).expect("edge");
        assert!(e.push_probability > q(0, 1));
        assert_eq!(e.per_bet_resolved, Some(q(0, 1)));
    }

    #[test]
    fn line_with_full_odds_edge_per_total_action() {
        let rules = TableRules::default();
        // Pass: 7/495 lost per line unit over 1 + (6·3 + 8·4 + 10·5)/36 = 34/9
        // units wagered: 7/1870 ≈ 0.374%.
        let pass = line_with_max_odds_edge(&rules, LineSide::Pass).expect("pass");
        assert_eq!(pass.edge_per_wagered, q(7, 1870));
        assert_eq!(pass.expected_wagered, q(600 * 34, 9));
        // Don't pass: 3/220 over 1 + 24/36·6 = 5 units: 3/1100 ≈ 0.273%.
        let dont = line_with_max_odds_edge(&rules, LineSide::DontPass).expect("don't pass");
        assert_eq!(dont.edge_per_wagered, q(3, 1100));
        // Flat 2× odds: 7/495 over 1 + 24/36·2 = 7/3: 1/165 ≈ 0.606%.
        let double = TableRules {
            odds_limit: OddsLimit::Flat(2),
            ..rules
        };
        let pass2 = line_with_max_odds_edge(&double, LineSide::Pass).expect("2× odds");
        assert_eq!(pass2.edge_per_wagered, q(1, 165));
        // No odds: the flat pass line.
        let none = TableRules {
            odds_limit: OddsLimit::Flat(0),
            ..rules
        };
        let flat = line_with_max_odds_edge(&none, LineSide::Pass).expect("no odds");
        assert_eq!(flat.edge_per_wagered, q(7, 495));
    }

    #[test]
    fn a_bet_switched_off_for_good_is_never_decided() {
        let mut table = CrapsTable::new(TableRules::default()).expect("table");
        table
            .place_bet(BetId(1), BetKind::Field, EXACT_STAKE)
            .expect("field");
        table.set_working(BetId(1), Working::Off).expect("off");
        assert_eq!(
            edge_of(&table, BetId(1), Part::Stake),
            Err(AnalysisError::NeverDecided)
        );
        assert!(matches!(
            edge_of(&table, BetId(2), Part::Stake),
            Err(AnalysisError::Craps(CrapsError::UnknownBet { .. }))
        ));
    }

    #[test]
    fn a_strategy_that_never_bets_is_reported() {
        struct Idle;
        impl Strategy for Idle {
            fn before_roll(&self, _: &mut CrapsTable) -> Result<(), CrapsError> {
                Ok(())
            }
        }
        assert_eq!(
            strategy_edge(&TableRules::default(), &Idle),
            Err(AnalysisError::NoWager)
        );
    }

    #[test]
    fn dice_for_every_total() {
        for total in 2..=12u8 {
            assert_eq!(dice_for(total).map(Roll::total), Ok(total));
        }
        assert!(dice_for(1).is_err());
        assert!(dice_for(13).is_err());
    }
}
