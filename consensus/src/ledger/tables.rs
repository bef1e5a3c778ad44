//! Tables: creation, seats, closing, and the per-game state each table
//! holds ([`Play`]).
//!
//! Ids come from a counter starting at 1. A table is created by any
//! account (which owns it but is not seated); players join up to
//! `max_players` (at most the genesis `max_players_per_table`) and must be
//! seated to bet. A player leaves only without bets outstanding at the
//! table; the owner closes it only when no bet is outstanding at all (craps:
//! no bet on the table, no roll pending; crash: the round is still taking
//! bets and has none, or is over).

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use game_rules::Chips;
use game_rules::craps::{CrapsTable, Working};
use game_rules::crash::{BetStatus, CrashRound, CrashRules, Multiplier};
use serde::{Deserialize, Serialize};
use wallet::Address;

use super::exec::{Env, Out, Sender, TxResult, text};
use super::records::IntervalRecord;
use super::state::State;
use crate::encoding::codec;
use crate::receipt::{LedgerEvent, RejectReason, Wager};
use crate::tx::{TableGame, TableId, TableName};

/// A table.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Table {
    /// Its id.
    pub id: TableId,
    /// Who created it (and alone may close it).
    pub owner: Address,
    /// Its name.
    pub name: TableName,
    /// Its seats.
    pub max_players: u16,
    /// Its game and limits.
    pub game: TableGame,
    /// The seated players, each with its seat number (seats are numbered
    /// in the order players joined; the craps shooter order).
    pub players: BTreeMap<Address, u64>,
    /// The seat number of the next player to join.
    pub next_seat: u64,
    /// The height it was created at.
    pub created_height: u64,
    /// The game state.
    pub play: Play,
}

impl Table {
    /// Whether `player` is seated.
    pub fn is_seated(&self, player: &Address) -> bool {
        self.players.contains_key(player)
    }

    /// The seated players in the order they joined.
    pub fn seating_order(&self) -> Vec<Address> {
        let mut seats: Vec<(u64, Address)> = self.players.iter().map(|(a, s)| (*s, *a)).collect();
        seats.sort_unstable();
        seats.into_iter().map(|(_, a)| a).collect()
    }

    /// The chips held in escrow at the table: craps stakes and odds, or the
    /// crash round's unsettled stakes.
    pub fn escrow(&self) -> Option<Chips> {
        match &self.play {
            Play::Craps(craps) => craps.table.escrow().ok(),
            Play::Crash(crash) => crash.escrow(),
        }
    }

    /// What the table reserves in the bankroll now.
    pub fn reserved(&self) -> Chips {
        match &self.play {
            Play::Craps(craps) => craps.reserved,
            Play::Crash(crash) => crash.reserved,
        }
    }

    /// The bets still on the table, in bet id order: every craps bet on
    /// the layout, or the current crash round's bets not yet settled.
    pub fn open_bets(&self) -> Vec<OpenBet> {
        match &self.play {
            Play::Craps(craps) => craps
                .table
                .bets()
                .filter_map(|bet| {
                    let id = bet.id();
                    Some(OpenBet {
                        bet: id.0,
                        player: *craps.owners.get(&id.0)?,
                        amount: bet.amount(),
                        wager: Wager::Craps { kind: bet.kind() },
                        state: OpenBetState::Craps {
                            odds: bet.odds(),
                            point: bet.point().map(|p| p.total()),
                            working: bet.working(),
                            works_next_roll: craps.table.works_next_roll(id).ok()?,
                        },
                    })
                })
                .collect(),
            Play::Crash(crash) => crash
                .round
                .bets()
                .filter_map(|bet| {
                    let state = match bet.status {
                        BetStatus::Riding => CrashBetState::Riding,
                        BetStatus::CashingOut(pending) => CrashBetState::CashingOut {
                            at: pending.multiplier,
                        },
                        BetStatus::Settled(_) => return None,
                    };
                    Some(OpenBet {
                        bet: bet.id.0,
                        player: *crash.bettors.get(&bet.id.0)?,
                        amount: bet.amount,
                        wager: Wager::Crash {
                            auto_cash_out: bet.auto_cash_out.map(|m| m.hundredths()),
                        },
                        state: OpenBetState::Crash {
                            round: crash.round_number,
                            state,
                        },
                    })
                })
                .collect(),
        }
    }
}

/// A bet still on a table, as the API and explorers show it
/// ([`Table::open_bets`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenBet {
    /// Its id.
    pub bet: u64,
    /// Whose it is.
    pub player: Address,
    /// The stake (a craps line bet's odds apart).
    pub amount: Chips,
    /// What it is on.
    pub wager: Wager,
    /// Where it is.
    pub state: OpenBetState,
}

/// Where an [`OpenBet`] is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenBetState {
    /// A craps bet on the layout.
    Craps {
        /// The odds behind a line bet (0 for other bets).
        odds: Chips,
        /// A line bet's point, once it has one.
        point: Option<u8>,
        /// The player's working switch (for a line bet: on its odds).
        #[serde(with = "codec::working")]
        working: Working,
        /// Whether the part the switch governs (the bet, or a line bet's
        /// odds) works if the dice are rolled now: the switch, else the
        /// table's rules for the phase.
        works_next_roll: bool,
    },
    /// A crash bet in the table's current round.
    Crash {
        /// The round.
        round: u64,
        /// Riding or cashing out.
        state: CrashBetState,
    },
}

/// Where an unsettled crash bet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrashBetState {
    /// In the round, no cash-out yet.
    Riding,
    /// Cashed out at `at`; it is paid if the round reaches `at`, which the
    /// interval's randomness decides.
    CashingOut {
        /// The multiplier.
        #[serde(with = "codec::multiplier")]
        at: Multiplier,
    },
}

/// The state of a table's game.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Play {
    /// Craps.
    Craps(CrapsPlay),
    /// Crash.
    Crash(CrashPlay),
}

/// A committed craps roll waiting for its randomness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PendingRoll {
    /// The roll number.
    pub roll_number: u64,
    /// The height it was committed at.
    pub height: u64,
}

/// A craps table's state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CrapsPlay {
    /// The engine's table: phase, shooter counter, bets.
    pub table: CrapsTable,
    /// The id of the next bet.
    pub next_bet: u64,
    /// Who owns each bet on the table.
    pub owners: BTreeMap<u64, Address>,
    /// The number of the next roll (rolls made or voided so far).
    pub next_roll: u64,
    /// When the last roll settled (or the table opened), ms.
    pub last_roll_ms: u64,
    /// The committed roll, if one waits for randomness.
    pub pending_roll: Option<PendingRoll>,
    /// Added to the engine's shooter counter (which restarts when a void
    /// resets the table) to find the shooter.
    pub shooter_base: u64,
    /// What the table's bets reserve in the bankroll.
    pub reserved: Chips,
}

impl CrapsPlay {
    /// The seat holding the dice: `(shooter_base + shooter counter) mod
    /// players`.
    pub fn shooter(&self, players: &[Address]) -> Option<Address> {
        let count = u64::try_from(players.len()).ok().filter(|c| *c > 0)?;
        let turn = self.shooter_base.wrapping_add(self.table.shooter()) % count;
        players.get(usize::try_from(turn).ok()?).copied()
    }
}

/// Where a crash table's current round is in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum CrashTiming {
    /// Taking bets until `ends_ms` (then starting, or extending if no bets).
    Betting {
        /// When betting closes.
        ends_ms: u64,
    },
    /// Running since `start_height`.
    Running {
        /// The height of tick 0.
        start_height: u64,
    },
    /// Over; the next round opens at `until_ms`.
    Cooldown {
        /// When the next round opens.
        until_ms: u64,
    },
}

/// A crash table's state.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CrashPlay {
    /// The current round's number, from 1.
    pub round_number: u64,
    /// The engine's round.
    pub round: CrashRound,
    /// Where the round is in time.
    pub timing: CrashTiming,
    /// The id of the next bet (unique over the table's life).
    pub next_bet: u64,
    /// Who owns each bet of the round.
    pub bettors: BTreeMap<u64, Address>,
    /// Each player's bet in the round (one per player).
    pub by_player: BTreeMap<Address, u64>,
    /// The height of each recorded tick (index = tick).
    pub tick_heights: Vec<u64>,
    /// The decided intervals, for the round's record.
    pub intervals: Vec<IntervalRecord>,
    /// What the round reserves in the bankroll.
    pub reserved: Chips,
    /// Whether the risk-cap event was emitted this round.
    pub cap_reached: bool,
}

impl CrashPlay {
    /// The unsettled stakes of the round (its escrow).
    pub fn escrow(&self) -> Option<Chips> {
        self.round
            .bets()
            .filter(|b| !matches!(b.status, BetStatus::Settled(_)))
            .try_fold(Chips::ZERO, |sum, b| sum.checked_add(b.amount))
    }

    /// What the round should reserve, computed from scratch: while running,
    /// `cap − Σ paid to settled bets − Σ unsettled stakes`; otherwise 0.
    pub fn reserve_from_scratch(&self) -> Option<Chips> {
        if !matches!(self.timing, CrashTiming::Running { .. }) || self.round.phase().is_over() {
            return Some(Chips::ZERO);
        }
        let mut reserve = self.round.max_total_payout();
        for bet in self.round.bets() {
            let used = match bet.status {
                BetStatus::Settled(outcome) => outcome.paid(),
                _ => bet.amount,
            };
            reserve = reserve.checked_sub(used)?;
        }
        Some(reserve)
    }

    /// The crash engine's rules for this table.
    pub(crate) fn rules(min_bet: Chips, max_bet: Chips, max_bets: u32) -> CrashRules {
        CrashRules {
            min_bet,
            max_bet,
            max_bets,
        }
    }
}

impl State {
    /// `CreateTable`.
    pub(crate) fn create_table(
        &mut self,
        env: &Env<'_>,
        sender: &Sender,
        out: &mut Out,
        name: &TableName,
        max_players: u16,
        game: &TableGame,
    ) -> TxResult {
        let params = env.params;
        let globals = self.globals.get();
        if globals.open_tables >= params.max_tables {
            return Err(RejectReason::TooManyTables {
                max: params.max_tables,
            }
            .into());
        }
        if max_players > params.max_players_per_table {
            return Err(RejectReason::TableLimits {
                reason: text(&format!(
                    "max_players {max_players} is above the chain's limit of {}; ask for fewer seats",
                    params.max_players_per_table
                )),
            }
            .into());
        }
        let play = match *game {
            TableGame::Craps { .. } => {
                let rules = game.craps_rules().ok_or(RejectReason::WrongGame {
                    table: TableId(globals.next_table),
                })?;
                let table = CrapsTable::new(rules).map_err(|e| RejectReason::TableLimits {
                    reason: text(&e.to_string()),
                })?;
                Play::Craps(CrapsPlay {
                    table,
                    next_bet: 1,
                    owners: BTreeMap::new(),
                    next_roll: 1,
                    last_roll_ms: env.timestamp_ms,
                    pending_roll: None,
                    shooter_base: 0,
                    reserved: Chips::ZERO,
                })
            }
            TableGame::Crash { min_bet, max_bet } => {
                let rules = CrashPlay::rules(min_bet, max_bet, params.crash_max_bets_per_round);
                let round = CrashRound::new(rules).map_err(|e| RejectReason::TableLimits {
                    reason: text(&e.to_string()),
                })?;
                let ends_ms = env
                    .timestamp_ms
                    .checked_add(params.crash_betting_ms)
                    .ok_or(RejectReason::Overflow)?;
                Play::Crash(CrashPlay {
                    round_number: 1,
                    round,
                    timing: CrashTiming::Betting { ends_ms },
                    next_bet: 1,
                    bettors: BTreeMap::new(),
                    by_player: BTreeMap::new(),
                    tick_heights: Vec::new(),
                    intervals: Vec::new(),
                    reserved: Chips::ZERO,
                    cap_reached: false,
                })
            }
        };
        let id = TableId(globals.next_table);
        let next = globals
            .next_table
            .checked_add(1)
            .ok_or(RejectReason::Overflow)?;
        let open = globals
            .open_tables
            .checked_add(1)
            .ok_or(RejectReason::Overflow)?;
        let betting_ends = match &play {
            Play::Crash(crash) => match crash.timing {
                CrashTiming::Betting { ends_ms } => Some(ends_ms),
                _ => None,
            },
            Play::Craps(_) => None,
        };
        self.tables.insert(
            id,
            Table {
                id,
                owner: sender.address,
                name: name.clone(),
                max_players,
                game: *game,
                players: BTreeMap::new(),
                next_seat: 0,
                created_height: env.height,
                play,
            },
        );
        let globals = self.globals.get_mut();
        globals.next_table = next;
        globals.open_tables = open;
        out.event(LedgerEvent::TableCreated {
            table: id,
            owner: sender.address,
            name: name.clone(),
            game: *game,
        });
        if let Some(betting_ends_ms) = betting_ends {
            out.event(LedgerEvent::CrashBettingOpened {
                table: id,
                round: 1,
                betting_ends_ms,
            });
        }
        Ok(())
    }

    /// The table `id`, or the refusal for a missing one.
    pub(crate) fn table_or_reject(&self, id: TableId) -> Result<&Table, RejectReason> {
        self.tables
            .get(&id)
            .ok_or(RejectReason::TableNotFound { table: id })
    }

    /// `CloseTable`.
    pub(crate) fn close_table(&mut self, sender: &Sender, out: &mut Out, id: TableId) -> TxResult {
        let table = self.table_or_reject(id)?;
        if table.owner != sender.address {
            return Err(RejectReason::NotTableOwner { table: id }.into());
        }
        let idle = match &table.play {
            Play::Craps(craps) => craps.table.is_empty() && craps.pending_roll.is_none(),
            Play::Crash(crash) => match crash.timing {
                CrashTiming::Betting { .. } => crash.round.bets().next().is_none(),
                CrashTiming::Cooldown { .. } => true,
                CrashTiming::Running { .. } => false,
            },
        };
        if !idle {
            return Err(RejectReason::BetsOutstanding { table: id }.into());
        }
        let reserved = table.reserved();
        let open = self
            .globals
            .get()
            .open_tables
            .checked_sub(1)
            .ok_or(RejectReason::Overflow)?;
        // An idle table reserves nothing; release defensively.
        self.release_reserve(reserved)?;
        self.tables.remove(&id);
        self.globals.get_mut().open_tables = open;
        out.event(LedgerEvent::TableClosed { table: id });
        Ok(())
    }

    /// `JoinTable`.
    pub(crate) fn join_table(&mut self, sender: &Sender, out: &mut Out, id: TableId) -> TxResult {
        let table = self.table_or_reject(id)?;
        if table.is_seated(&sender.address) {
            return Err(RejectReason::AlreadyAtTable { table: id }.into());
        }
        if table.players.len() >= usize::from(table.max_players) {
            return Err(RejectReason::TableFull {
                table: id,
                max_players: table.max_players,
            }
            .into());
        }
        let seat = table.next_seat;
        let next_seat = seat.checked_add(1).ok_or(RejectReason::Overflow)?;
        if let Some(table) = self.tables.get_mut(&id) {
            table.players.insert(sender.address, seat);
            table.next_seat = next_seat;
        }
        out.event(LedgerEvent::PlayerJoined {
            table: id,
            player: sender.address,
        });
        Ok(())
    }

    /// `LeaveTable`.
    pub(crate) fn leave_table(&mut self, sender: &Sender, out: &mut Out, id: TableId) -> TxResult {
        let table = self.table_or_reject(id)?;
        if !table.is_seated(&sender.address) {
            return Err(RejectReason::NotAtTable { table: id }.into());
        }
        let outstanding = match &table.play {
            Play::Craps(craps) => craps.owners.values().any(|o| *o == sender.address),
            Play::Crash(crash) => crash.by_player.get(&sender.address).is_some_and(|bet| {
                crash
                    .round
                    .bet(game_rules::crash::BetId(*bet))
                    .is_some_and(|b| !matches!(b.status, BetStatus::Settled(_)))
            }),
        };
        if outstanding {
            return Err(RejectReason::BetsOutstanding { table: id }.into());
        }
        if let Some(table) = self.tables.get_mut(&id) {
            table.players.remove(&sender.address);
        }
        out.event(LedgerEvent::PlayerLeft {
            table: id,
            player: sender.address,
        });
        Ok(())
    }
}
