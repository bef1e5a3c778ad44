//! A small in-memory node and wallet behind the API, recording what they
//! are asked to change.

use std::sync::Mutex;

use consensus::block::{BeaconEntry, Block, BlockTemplate};
use consensus::encoding::{BoundedBytes, BoundedVec};
use consensus::hash::{BlockHash, Hash, TxHash};
use consensus::receipt::{LedgerEvent, Receipt, TxStatus, Wager};
use consensus::tx::{Action, SignedTransaction, TableGame, TableId, Transaction};
use game_rules::craps::{BetKind, PointNumber, Working};
use game_rules::crash::Multiplier;
use game_rules::{Chips, Roll};
use wallet::{Address, ChainId, Keypair};

use crate::api::{
    AccountInfo, ApiEvent, BankrollInfo, CrashBetState, Game, HistoryEntry, LeaderboardEntry,
    NodeStatus, NodeView, NodeWallet, OpenBet, OpenBetState, Page, RoundInfo, RoundOutcome,
    RoundRandomness, RoundStatus, RoundSummary, SubmitError, SyncProgress, TableInfo, TxInclusion,
    TxRecord, ValidatorInfo, ViewError, WalletSubmission,
};

/// The fake chain.
pub(super) fn chain_id() -> ChainId {
    ChainId::new([7; 32])
}

/// The players' key.
pub(super) fn keypair() -> Keypair {
    Keypair::from_secret_bytes(&[1; 32])
}

/// A transfer signed by [`keypair`].
pub(super) fn signed_tx(nonce: u64, fee: Chips) -> SignedTransaction {
    let keypair = keypair();
    Transaction {
        chain_id: chain_id(),
        sender: keypair.public_key(),
        nonce,
        fee,
        expiry_height: 1_000,
        action: Action::Transfer {
            to: Address::from_bytes([3; 20]),
            amount: Chips(5),
        },
    }
    .sign(&keypair)
}

/// The finality certificate the fake stored for block 1 (block 2 has
/// none of its own).
pub(super) fn proof() -> Vec<u8> {
    vec![0xf1; 12]
}

fn receipt(tx: TxHash) -> Receipt {
    Receipt {
        tx,
        status: TxStatus::Applied,
        fee_charged: Chips(1),
        events: BoundedVec::new(vec![LedgerEvent::BalanceChanged {
            account: keypair().address(),
            before: Chips(1_006),
            after: Chips(1_000),
        }])
        .unwrap(),
    }
}

#[derive(Default)]
struct State {
    syncing: bool,
    submitted: Vec<SignedTransaction>,
    refuse_next: Option<SubmitError>,
}

/// A node with two blocks (heights 1 and 2, one transaction in block 1), a
/// crash table 1 with rounds 1 to 3, a craps table 2, and an account with
/// 25 history entries.
pub(super) struct FakeNode {
    blocks: Vec<Block>,
    state: Mutex<State>,
}

impl FakeNode {
    pub(super) fn new() -> FakeNode {
        let proposer = keypair().public_key();
        let mut blocks = Vec::new();
        let mut parent = Hash::ZERO;
        for height in 1..=2u64 {
            let transactions = if height == 1 {
                vec![signed_tx(100, Chips(1))]
            } else {
                vec![]
            };
            let block = Block::assemble(
                BlockTemplate {
                    chain_id: chain_id(),
                    height,
                    view: height + 1,
                    parent,
                    timestamp_ms: 1_700_000_000_000 + height * 1_000,
                    proposer,
                    parent_state_root: Hash::ZERO,
                },
                transactions,
                vec![],
            )
            .unwrap();
            parent = block.header.hash();
            blocks.push(block);
        }
        FakeNode {
            blocks,
            state: Mutex::new(State::default()),
        }
    }

    /// The block at `height` (1 or 2).
    pub(super) fn block(&self, height: u64) -> Block {
        self.blocks[height as usize - 1].clone()
    }

    /// What was submitted, in order.
    pub(super) fn submitted(&self) -> Vec<SignedTransaction> {
        self.state.lock().unwrap().submitted.clone()
    }

    pub(super) fn set_syncing(&self, syncing: bool) {
        self.state.lock().unwrap().syncing = syncing;
    }

    /// Makes the next submission fail with `error`.
    pub(super) fn refuse_next(&self, error: SubmitError) {
        self.state.lock().unwrap().refuse_next = Some(error);
    }
}

impl NodeView for FakeNode {
    fn chain_id(&self) -> ChainId {
        chain_id()
    }

    fn status(&self) -> Result<NodeStatus, ViewError> {
        let syncing = self.state.lock().unwrap().syncing;
        let last = self.blocks.last().unwrap();
        Ok(NodeStatus {
            chain_id: chain_id(),
            height: Some(last.header.height),
            block_hash: Some(last.header.hash()),
            epoch: 1,
            peers: 3,
            mempool_transactions: self.submitted().len() as u64,
            min_fee: 2,
            syncing,
            sync: syncing.then_some(SyncProgress {
                height: 2,
                target: 10_000,
                blocks_per_second: 250.0,
                eta_seconds: Some(40),
            }),
        })
    }

    fn block_by_height(&self, height: u64) -> Result<Option<Block>, ViewError> {
        Ok(self
            .blocks
            .iter()
            .find(|b| b.header.height == height)
            .cloned())
    }

    fn block_by_hash(&self, hash: &BlockHash) -> Result<Option<Block>, ViewError> {
        Ok(self
            .blocks
            .iter()
            .find(|b| b.header.hash() == *hash)
            .cloned())
    }

    fn finality_proof(&self, height: u64) -> Result<Option<Vec<u8>>, ViewError> {
        Ok((height == 1).then(proof))
    }

    fn transaction(&self, hash: &TxHash) -> Result<Option<TxRecord>, ViewError> {
        for block in &self.blocks {
            for (index, tx) in block.transactions.iter().enumerate() {
                if tx.hash() == *hash {
                    return Ok(Some(TxRecord {
                        tx: tx.clone(),
                        inclusion: Some(TxInclusion {
                            height: block.header.height,
                            block_hash: block.header.hash(),
                            index: index as u32,
                            receipt: receipt(*hash),
                        }),
                    }));
                }
            }
        }
        Ok(self
            .submitted()
            .into_iter()
            .find(|tx| tx.hash() == *hash)
            .map(|tx| TxRecord {
                tx,
                inclusion: None,
            }))
    }

    fn account(&self, address: &Address, page: Page) -> Result<AccountInfo, ViewError> {
        let history: Vec<HistoryEntry> = (1..=25u64)
            .rev()
            .filter(|seq| page.before.is_none_or(|before| *seq < before))
            .take(page.limit)
            .map(|seq| HistoryEntry {
                seq,
                height: seq,
                tx: None,
                events: vec![LedgerEvent::BalanceChanged {
                    account: *address,
                    before: Chips(seq),
                    after: Chips(seq + 1),
                }],
            })
            .collect();
        let next_before = (history.len() == page.limit)
            .then(|| history.last().map(|e| e.seq))
            .flatten();
        // The fake ledger's nonce is 0; submitted transactions wait after it.
        let pending_nonce = self
            .submitted()
            .iter()
            .filter(|tx| tx.sender_address() == *address)
            .map(|tx| tx.tx.nonce + 1)
            .max()
            .unwrap_or(0);
        Ok(AccountInfo {
            address: *address,
            balance: 1_000,
            nonce: 0,
            pending_nonce,
            stake: 0,
            bankroll_shares: u128::MAX,
            history,
            next_before,
        })
    }

    fn validators(&self) -> Result<Vec<ValidatorInfo>, ViewError> {
        Ok(vec![ValidatorInfo {
            address: keypair().address(),
            consensus_key: keypair().public_key(),
            stake: 5_000,
            unbonding: 0,
            active: true,
            uptime: 0.99,
            missed_heights: 2,
            slashed: false,
            slashed_amount: 0,
            network_address: "/ip4/127.0.0.1/tcp/7000".into(),
        }])
    }

    fn tables(&self) -> Result<Vec<TableInfo>, ViewError> {
        Ok(vec![
            TableInfo {
                id: TableId(1),
                name: "Moon".into(),
                owner: keypair().address(),
                game: TableGame::Crash {
                    min_bet: Chips(1),
                    max_bet: Chips(1_000),
                },
                max_players: 10,
                players: vec![],
                round: Some(3),
                shooter: None,
            },
            TableInfo {
                id: TableId(2),
                name: "Pit".into(),
                owner: keypair().address(),
                game: TableGame::Craps {
                    min_bet: Chips(5),
                    max_bet: Chips(500),
                    odds: game_rules::craps::OddsLimit::ThreeFourFive,
                },
                max_players: 8,
                players: vec![keypair().address()],
                round: None,
                shooter: Some(keypair().address()),
            },
        ])
    }

    fn table_rounds(
        &self,
        table: TableId,
        page: Page,
    ) -> Result<Option<Vec<RoundSummary>>, ViewError> {
        if table != TableId(1) {
            return Ok(None);
        }
        Ok(Some(
            (1..=3u64)
                .rev()
                .filter(|round| page.before.is_none_or(|before| *round < before))
                .take(page.limit)
                .map(summary)
                .collect(),
        ))
    }

    fn table_bets(
        &self,
        table: TableId,
        player: Option<&Address>,
    ) -> Result<Option<Vec<OpenBet>>, ViewError> {
        let me = keypair().address();
        let other = Keypair::from_secret_bytes(&[2; 32]).address();
        let bets = match table.0 {
            1 => vec![OpenBet {
                bet: 4,
                player: other,
                amount: Chips(25),
                wager: Wager::Crash {
                    auto_cash_out: Some(200),
                },
                state: OpenBetState::Crash {
                    round: 3,
                    state: CrashBetState::Riding,
                },
            }],
            2 => vec![
                OpenBet {
                    bet: 1,
                    player: me,
                    amount: Chips(30),
                    wager: Wager::Craps {
                        kind: BetKind::Place(PointNumber::Six),
                    },
                    state: OpenBetState::Craps {
                        odds: Chips::ZERO,
                        point: None,
                        working: Working::Off,
                        works_next_roll: false,
                    },
                },
                OpenBet {
                    bet: 2,
                    player: other,
                    amount: Chips(10),
                    wager: Wager::Craps {
                        kind: BetKind::Pass,
                    },
                    state: OpenBetState::Craps {
                        odds: Chips(20),
                        point: Some(8),
                        working: Working::TableDefault,
                        works_next_roll: true,
                    },
                },
            ],
            _ => return Ok(None),
        };
        Ok(Some(
            bets.into_iter()
                .filter(|bet| player.is_none_or(|p| bet.player == *p))
                .collect(),
        ))
    }

    fn round(&self, table: TableId, round: u64) -> Result<Option<RoundInfo>, ViewError> {
        if table != TableId(1) || !(1..=3).contains(&round) {
            return Ok(None);
        }
        Ok(Some(RoundInfo {
            summary: summary(round),
            randomness: vec![RoundRandomness {
                entry: BeaconEntry {
                    height: 1,
                    signature: BoundedBytes::new(vec![0xbb; 96]).unwrap(),
                },
                published_height: 2,
                epoch: 1,
                message: "cc".repeat(40),
                group_public_key: "aa".repeat(96),
                derivation: "bitcraps/v1/crash".into(),
            }],
            events: vec![LedgerEvent::CrashTick {
                table,
                round,
                multiplier: Multiplier::from_hundredths(106).unwrap(),
                elapsed_ms: 1_000,
            }],
        }))
    }

    fn leaderboard(
        &self,
        game: Option<Game>,
        limit: usize,
    ) -> Result<Vec<LeaderboardEntry>, ViewError> {
        let _ = game;
        Ok((1..=limit.min(50) as u32).map(leader).collect())
    }

    fn bankroll(&self) -> Result<BankrollInfo, ViewError> {
        Ok(BankrollInfo {
            balance: 1_000_000,
            total_shares: 1_000_000_000_000,
            pending_withdrawal_shares: 0,
            withdrawal_delay_blocks: 100,
            exposure: 2_000,
            max_round_exposure_bps: 300,
        })
    }

    fn submit_transaction(&self, tx: SignedTransaction) -> Result<TxHash, SubmitError> {
        let mut state = self.state.lock().unwrap();
        if let Some(error) = state.refuse_next.take() {
            return Err(error);
        }
        let hash = tx.hash();
        if state.submitted.iter().any(|t| t.hash() == hash) {
            return Err(SubmitError::AlreadyKnown(hash));
        }
        state.submitted.push(tx);
        Ok(hash)
    }
}

fn summary(round: u64) -> RoundSummary {
    RoundSummary {
        table: TableId(1),
        round,
        game: Game::Crash,
        status: if round == 3 {
            RoundStatus::Betting
        } else {
            RoundStatus::Settled
        },
        opened_height: round,
        settled_height: (round < 3).then_some(round + 1),
        bets: 2,
        wagered: 20,
        paid: 15,
        outcome: (round < 3).then_some(RoundOutcome::Crashed {
            at_hundredths: 100 + round,
        }),
    }
}

fn leader(rank: u32) -> LeaderboardEntry {
    LeaderboardEntry {
        rank,
        address: Address::from_bytes([rank as u8; 20]),
        net_winnings: 4 - 3 * (i64::from(rank) - 1),
        wagered: 100,
        bets: 7,
    }
}

/// A leaderboard event of `entries` lines starting at rank `first`
/// (about 130 bytes of JSON per line).
pub(super) fn big_leaderboard(first: u32, entries: u32) -> ApiEvent {
    ApiEvent::Leaderboard {
        game: None,
        entries: (first..first + entries).map(leader).collect(),
    }
}

/// Events for the WebSocket topic test.
pub(super) struct TableEvents {
    pub(super) crash_tick: ApiEvent,
    pub(super) other_crash_table: ApiEvent,
    pub(super) craps_roll: ApiEvent,
    pub(super) receipt: ApiEvent,
}

pub(super) fn table_events() -> TableEvents {
    let tick = |table| ApiEvent::Table {
        table: TableId(table),
        game: Game::Crash,
        height: 5,
        event: LedgerEvent::CrashTick {
            table: TableId(table),
            round: 3,
            multiplier: Multiplier::from_hundredths(106).unwrap(),
            elapsed_ms: 1_000,
        },
    };
    TableEvents {
        crash_tick: tick(1),
        other_crash_table: tick(2),
        craps_roll: ApiEvent::Table {
            table: TableId(1),
            game: Game::Craps,
            height: 5,
            event: LedgerEvent::DiceRolled {
                table: TableId(1),
                roll_number: 9,
                dice: Roll::new(6, 1).unwrap(),
                beacon_height: 4,
                point: None,
                seven_out: true,
            },
        },
        receipt: ApiEvent::Receipt {
            account: keypair().address(),
            height: 5,
            receipt: receipt(Hash::new([4; 32])),
        },
    }
}

/// A wallet that records the actions it is asked to send.
#[derive(Default)]
pub(super) struct FakeWallet {
    actions: Mutex<Vec<(Action, Option<Chips>)>>,
    refuse_next: Mutex<Option<SubmitError>>,
}

impl FakeWallet {
    /// What was sent, in order, with the fee asked for.
    pub(super) fn actions(&self) -> Vec<(Action, Option<Chips>)> {
        self.actions.lock().unwrap().clone()
    }

    /// Makes the next action fail with `error`.
    pub(super) fn refuse_next(&self, error: SubmitError) {
        *self.refuse_next.lock().unwrap() = Some(error);
    }
}

impl NodeWallet for FakeWallet {
    fn address(&self) -> Address {
        Address::from_bytes([9; 20])
    }

    fn submit_action(
        &self,
        action: Action,
        fee: Option<Chips>,
    ) -> Result<WalletSubmission, SubmitError> {
        if let Some(error) = self.refuse_next.lock().unwrap().take() {
            return Err(error);
        }
        let mut actions = self.actions.lock().unwrap();
        actions.push((action, fee));
        let n = actions.len() as u64;
        Ok(WalletSubmission {
            hash: Hash::new([n as u8; 32]),
            nonce: n - 1,
            fee: fee.map_or(1, |f| f.0),
        })
    }
}
