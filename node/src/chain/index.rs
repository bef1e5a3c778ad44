//! The node's own explorer index: what the API serves that the ledger's
//! state and the store's indexes do not keep — players' winnings (the
//! leaderboard), each table's game (tables close, their rounds stay),
//! the views each validator led in the current epoch — with a finalized
//! block or without ([`EpochViews`]) — and stake slashed.
//!
//! It is folded from each applied block's receipts and block events
//! ([`Index::apply`]) and is a pure function of the chain: persisted after
//! every block and, if it is ever behind the ledger (a crash between the
//! block's commit and the index's write), rebuilt by replaying the stored
//! blocks (see [`super::Chain::open`]).
//!
//! Money flows counted per player and game: **wagered** = stakes of bets
//! placed plus odds added; **paid** = everything credited back (wins with
//! their stake, pushes, refunds, bets and odds taken down). Net winnings =
//! paid − wagered, so a bet still open counts as staked until it settles.

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use consensus::block::Block;
use consensus::engine::leaders::{EpochViews, Leaders};
use consensus::ledger::AppliedBlock;
use consensus::receipt::{LedgerEvent, Wager};
use consensus::tx::TableId;
use wallet::{Address, PublicKey};

use crate::api::{Game, LeaderboardEntry};

/// The largest persisted index read back, in bytes.
pub(crate) const MAX_INDEX_BYTES: usize = 512 * 1024 * 1024;

/// One player's figures in one game.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct PlayerStats {
    /// Chips staked (bets and odds).
    pub wagered: u64,
    /// Chips credited back.
    pub paid: u64,
    /// Bets placed.
    pub bets: u64,
}

impl PlayerStats {
    fn add(self, other: PlayerStats) -> PlayerStats {
        PlayerStats {
            wagered: self.wagered.saturating_add(other.wagered),
            paid: self.paid.saturating_add(other.paid),
            bets: self.bets.saturating_add(other.bets),
        }
    }

    /// Paid − wagered, saturating at the `i64` range.
    pub fn net(&self) -> i64 {
        let net = i128::from(self.paid) - i128::from(self.wagered);
        i64::try_from(net).unwrap_or(if net < 0 { i64::MIN } else { i64::MAX })
    }
}

/// A game as stored (0 crash, 1 craps).
fn game_code(game: Game) -> u8 {
    match game {
        Game::Crash => 0,
        Game::Craps => 1,
    }
}

fn game_of_code(code: u8) -> Game {
    if code == 0 { Game::Crash } else { Game::Craps }
}

/// What one block changed that WebSocket subscribers see.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct IndexChanges {
    /// Whether any player's figures changed (the leaderboard may have).
    pub players_changed: bool,
    /// Bets placed, by game: (count, chips).
    pub bets: Vec<(Game, u64)>,
    /// Rounds finished, by game.
    pub rounds: Vec<Game>,
}

/// The index (see the [module documentation](self)).
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub(crate) struct Index {
    /// The last height folded in.
    pub height: Option<u64>,
    /// Each table's game (code), including closed tables.
    tables: BTreeMap<u64, u8>,
    /// Each player's figures: `[crash, craps]`.
    players: BTreeMap<Address, [PlayerStats; 2]>,
    /// The views of the current epoch: led, with and without a block.
    views: EpochViews,
    /// The current epoch's committee (as the engine orders its leaders);
    /// `None` until known, or if the chain no longer keeps it.
    committee: Option<Vec<PublicKey>>,
    /// Stake slashed in total, by consensus key.
    slashed: BTreeMap<PublicKey, u64>,
    /// Bets placed and chips staked per `(table, round)` (craps: the roll
    /// number the bet was placed before).
    rounds: BTreeMap<(u64, u64), (u64, u64)>,
}

impl Index {
    /// Decodes a persisted index (ours, but still bounded).
    pub fn decode(bytes: &[u8]) -> Option<Index> {
        if bytes.len() > MAX_INDEX_BYTES {
            return None;
        }
        borsh::from_slice(bytes).ok()
    }

    /// The encoding persisted.
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("borsh encoding into a Vec cannot fail")
    }

    /// The game of table `table`, if it was ever created.
    pub fn game(&self, table: TableId) -> Option<Game> {
        self.tables.get(&table.0).copied().map(game_of_code)
    }

    /// The views of the current epoch each validator led, with and
    /// without a finalized block.
    pub fn views(&self) -> &EpochViews {
        &self.views
    }

    /// Bets placed and chips staked in `round` at `table`.
    pub fn round_totals(&self, table: TableId, round: u64) -> (u64, u64) {
        self.rounds
            .get(&(table.0, round))
            .copied()
            .unwrap_or((0, 0))
    }

    /// Stake slashed from `validator` in total.
    pub fn slashed(&self, validator: &PublicKey) -> u64 {
        self.slashed.get(validator).copied().unwrap_or(0)
    }

    /// Folds in an applied block. `committee` gives an epoch's committee
    /// ([`consensus::engine::leaders::committee`]), asked when the index
    /// first needs the current epoch's.
    pub fn apply(
        &mut self,
        block: &Block,
        applied: &AppliedBlock,
        committee: impl Fn(u64) -> Option<Vec<PublicKey>>,
    ) -> IndexChanges {
        let mut changes = IndexChanges::default();
        let epoch = self.views.epoch();
        let committee = self
            .committee
            .get_or_insert_with(|| committee(epoch).unwrap_or_default());
        if let Some(leaders) = Leaders::new(committee) {
            self.views
                .record(&leaders, block.header.view, block.header.proposer);
        }
        for (signed, receipt) in block.transactions.iter().zip(&applied.receipts) {
            let sender = signed.sender_address();
            for event in receipt.events.iter() {
                self.event(event, Some(sender), &mut changes);
            }
        }
        for event in &applied.events.events {
            self.event(event, None, &mut changes);
        }
        for (table, _, _) in &applied.rounds {
            if let Some(game) = self.game(*table) {
                changes.rounds.push(game);
            }
        }
        self.height = Some(applied.height);
        changes
    }

    fn stats(&mut self, player: Address, game: Game) -> &mut PlayerStats {
        &mut self.players.entry(player).or_default()[usize::from(game_code(game))]
    }

    fn event(&mut self, event: &LedgerEvent, sender: Option<Address>, changes: &mut IndexChanges) {
        match event {
            LedgerEvent::TableCreated { table, game, .. } => {
                self.tables.insert(table.0, game_code(Game::of(game)));
            }
            LedgerEvent::BetPlaced {
                table,
                round,
                player,
                wager,
                amount,
                ..
            } => {
                let totals = self.rounds.entry((table.0, *round)).or_default();
                totals.0 = totals.0.saturating_add(1);
                totals.1 = totals.1.saturating_add(amount.get());
                let game = match wager {
                    Wager::Craps { .. } => Game::Craps,
                    Wager::Crash { .. } => Game::Crash,
                };
                let stats = self.stats(*player, game);
                stats.wagered = stats.wagered.saturating_add(amount.get());
                stats.bets = stats.bets.saturating_add(1);
                changes.players_changed = true;
                changes.bets.push((game, amount.get()));
            }
            LedgerEvent::OddsChanged {
                table,
                before,
                after,
                ..
            } => {
                if let (Some(player), Some(game)) = (sender, self.game(*table)) {
                    let stats = self.stats(player, game);
                    if after > before {
                        stats.wagered = stats.wagered.saturating_add(after.get() - before.get());
                    } else {
                        stats.paid = stats.paid.saturating_add(before.get() - after.get());
                    }
                    changes.players_changed = true;
                }
            }
            LedgerEvent::BetTakenDown {
                table, returned, ..
            } => {
                if let (Some(player), Some(game)) = (sender, self.game(*table)) {
                    let stats = self.stats(player, game);
                    stats.paid = stats.paid.saturating_add(returned.get());
                    changes.players_changed = true;
                }
            }
            LedgerEvent::BetSettled {
                table,
                player,
                paid,
                ..
            } => {
                if let Some(game) = self.game(*table) {
                    let stats = self.stats(*player, game);
                    stats.paid = stats.paid.saturating_add(paid.get());
                    changes.players_changed = true;
                }
            }
            LedgerEvent::Slashed {
                validator, amount, ..
            } => {
                let total = self.slashed.entry(*validator).or_default();
                *total = total.saturating_add(amount.get());
            }
            LedgerEvent::EpochStarted { epoch, .. } => {
                self.views = EpochViews::new(*epoch);
                self.committee = None;
            }
            _ => {}
        }
    }

    /// The top `limit` players by net winnings in `game` (all games if
    /// `None`); ties by more wagered, then by address. Players who never
    /// bet in that game are not listed.
    pub fn leaderboard(&self, game: Option<Game>, limit: usize) -> Vec<LeaderboardEntry> {
        let mut rows: Vec<(Address, PlayerStats)> = self
            .players
            .iter()
            .filter_map(|(address, stats)| {
                let stats = match game {
                    Some(game) => stats[usize::from(game_code(game))],
                    None => stats[0].add(stats[1]),
                };
                (stats.bets > 0).then_some((*address, stats))
            })
            .collect();
        rows.sort_by(|(a, x), (b, y)| {
            y.net()
                .cmp(&x.net())
                .then(y.wagered.cmp(&x.wagered))
                .then(a.cmp(b))
        });
        rows.into_iter()
            .take(limit)
            .enumerate()
            .map(|(i, (address, stats))| LeaderboardEntry {
                rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
                address,
                net_winnings: stats.net(),
                wagered: stats.wagered,
                bets: stats.bets,
            })
            .collect()
    }
}

/// The table a ledger event belongs to, if any.
pub(crate) fn event_table(event: &LedgerEvent) -> Option<TableId> {
    match event {
        LedgerEvent::TableCreated { table, .. }
        | LedgerEvent::TableClosed { table }
        | LedgerEvent::PlayerJoined { table, .. }
        | LedgerEvent::PlayerLeft { table, .. }
        | LedgerEvent::BetPlaced { table, .. }
        | LedgerEvent::OddsChanged { table, .. }
        | LedgerEvent::BetTakenDown { table, .. }
        | LedgerEvent::BetSettled { table, .. }
        | LedgerEvent::DiceRolled { table, .. }
        | LedgerEvent::CrashRoundStarted { table, .. }
        | LedgerEvent::CrashTick { table, .. }
        | LedgerEvent::CrashCashedOut { table, .. }
        | LedgerEvent::CrashRiskCapReached { table, .. }
        | LedgerEvent::Crashed { table, .. }
        | LedgerEvent::RoundVoid { table, .. }
        | LedgerEvent::CrapsRollCommitted { table, .. }
        | LedgerEvent::CrashBettingOpened { table, .. }
        | LedgerEvent::CrashRoundFinished { table, .. } => Some(*table),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use game_rules::Chips;
    use wallet::Keypair;

    fn addr(seed: u8) -> Address {
        Keypair::from_secret_bytes(&[seed; 32]).address()
    }

    #[test]
    fn net_winnings_rank_players_per_game_and_overall() {
        let mut index = Index::default();
        let mut changes = IndexChanges::default();
        index.tables.insert(1, game_code(Game::Craps));
        index.tables.insert(2, game_code(Game::Crash));
        let bet = |player, table, amount, wager| LedgerEvent::BetPlaced {
            table: TableId(table),
            round: 1,
            bet: 1,
            player,
            wager,
            amount: Chips(amount),
        };
        let settle = |player, table, paid| LedgerEvent::BetSettled {
            table: TableId(table),
            round: 1,
            bet: 1,
            player,
            result: consensus::receipt::BetResult::Win,
            paid: Chips(paid),
        };
        let craps = Wager::Craps {
            kind: game_rules::craps::BetKind::Field,
        };
        let crash = Wager::Crash {
            auto_cash_out: None,
        };
        for event in [
            bet(addr(1), 1, 100, craps),
            settle(addr(1), 1, 200),
            bet(addr(2), 2, 50, crash),
            settle(addr(2), 2, 0),
            bet(addr(2), 1, 10, craps),
            settle(addr(2), 1, 30),
        ] {
            index.event(&event, None, &mut changes);
        }
        assert!(changes.players_changed);
        let overall = index.leaderboard(None, 10);
        assert_eq!(overall[0].address, addr(1));
        assert_eq!(overall[0].net_winnings, 100);
        assert_eq!(overall[1].net_winnings, -30);
        assert_eq!(overall[1].bets, 2);
        let crash_board = index.leaderboard(Some(Game::Crash), 10);
        assert_eq!(crash_board.len(), 1);
        assert_eq!(crash_board[0].net_winnings, -50);
        assert_eq!(index.leaderboard(Some(Game::Craps), 1).len(), 1);
        let back = Index::decode(&index.encode()).unwrap();
        assert_eq!(back, index);
    }
}
