//! A test chain: genesis, a deterministic beacon, block building, nonce
//! tracking, and invariant checks after every block.

use std::collections::{BTreeMap, BTreeSet};

use game_rules::Chips;
use wallet::{Address, Keypair};

use crate::block::{BeaconEntry, Block, BlockTemplate};
use crate::encoding::{BoundedBytes, BoundedVec};
use crate::genesis::{
    FaucetParams, Genesis, GenesisAccount, GenesisBankroll, GenesisValidator, Params,
};
use crate::hash::BlockHash;
use crate::ledger::{AppliedBlock, BeaconError, BeaconVerifier, BlockOutcome, Ledger, LedgerError};
use crate::receipt::{LedgerEvent, Receipt, RejectReason, TxStatus};
use crate::tx::{Action, SignedTransaction, TableGame, TableId, Transaction};

/// A deterministic stand-in for the threshold beacon: σ is a keyed BLAKE3
/// of `(epoch, height, block hash)`; `seed` picks a different "group key".
#[derive(Clone, Copy, Debug)]
pub(crate) struct TestBeacon {
    pub(crate) seed: u64,
}

impl TestBeacon {
    pub(crate) fn sign(&self, epoch: u64, height: u64, block_hash: &BlockHash) -> Vec<u8> {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        let mut hasher = blake3::Hasher::new_keyed(&key);
        hasher.update(&epoch.to_be_bytes());
        hasher.update(&height.to_be_bytes());
        hasher.update(block_hash.as_bytes());
        let mut sigma = vec![0u8; 96];
        hasher.finalize_xof().fill(&mut sigma);
        sigma
    }
}

impl BeaconVerifier for TestBeacon {
    fn verify(
        &self,
        epoch: u64,
        height: u64,
        block_hash: &BlockHash,
        signature: &[u8],
    ) -> Result<(), BeaconError> {
        if self.sign(epoch, height, block_hash) == signature {
            Ok(())
        } else {
            Err(BeaconError::new("not the test beacon's signature"))
        }
    }
}

pub(crate) fn kp(seed: u8) -> Keypair {
    Keypair::from_secret_bytes(&[seed; 32])
}

pub(crate) fn addr(seed: u8) -> Address {
    kp(seed).address()
}

/// The validator of the test chains.
pub(crate) const VALIDATOR: u8 = 200;
/// The bankroll's genesis owner.
pub(crate) const HOUSE: u8 = 100;
pub(crate) const GENESIS_TIME: u64 = 1_000_000;
pub(crate) const STEP_MS: u64 = 1_000;

pub(crate) fn params() -> Params {
    Params {
        epoch_length_blocks: 1_000,
        unbonding_blocks: 1_000,
        withdrawal_delay_blocks: 5,
        beacon_void_after_blocks: 3,
        crash_risk_cap_bps: 300,
        crash_betting_ms: 2_000,
        crash_cooldown_ms: 1_000,
        crash_max_bets_per_round: 1_000,
        craps_roll_interval_ms: 1_000,
        max_block_txs: 4_096,
        min_fee: Chips(1),
        faucet: Some(FaucetParams {
            max_per_request: Chips(1_000),
        }),
        max_tables: 100,
        max_players_per_table: 64,
        min_validator_stake: Chips(1_000),
        max_validators: 16,
        double_vote_slash_bps: 500,
    }
}

pub(crate) fn validator(seed: u8, stake: u64) -> GenesisValidator {
    GenesisValidator {
        consensus_key: kp(seed).public_key(),
        network_address: format!("/ip4/127.0.0.1/tcp/{}", 9000 + u16::from(seed))
            .parse()
            .expect("address"),
        stake: Chips(stake),
    }
}

/// Players `1..=players` with `balance` each, a bankroll of `bankroll`
/// owned by [`HOUSE`], and one validator.
pub(crate) fn genesis_with(players: u8, balance: u64, bankroll: u64, params: Params) -> Genesis {
    let accounts = (1..=players)
        .map(|seed| GenesisAccount {
            address: addr(seed),
            balance: Chips(balance),
        })
        .chain([GenesisAccount {
            address: addr(HOUSE),
            balance: Chips(balance),
        }])
        .collect();
    Genesis {
        chain_name: "ledger-test".parse().expect("name"),
        genesis_time_ms: GENESIS_TIME,
        accounts: BoundedVec::new(accounts).expect("accounts"),
        bankroll: GenesisBankroll {
            initial: Chips(bankroll),
            owner: addr(HOUSE),
        },
        validators: BoundedVec::new(vec![validator(VALIDATOR, 10_000)]).expect("validators"),
        params,
        dealer_beacon: true,
        beacon_sharing: None,
    }
}

pub(crate) fn genesis() -> Genesis {
    genesis_with(8, 1_000_000, 10_000_000, params())
}

pub(crate) fn craps_game(min: u64, max: u64) -> TableGame {
    TableGame::Craps {
        min_bet: Chips(min),
        max_bet: Chips(max),
        odds: game_rules::craps::OddsLimit::ThreeFourFive,
    }
}

pub(crate) fn crash_game(min: u64, max: u64) -> TableGame {
    TableGame::Crash {
        min_bet: Chips(min),
        max_bet: Chips(max),
    }
}

pub(crate) fn create_table(name: &str, game: TableGame) -> Action {
    Action::CreateTable {
        name: name.parse().expect("name"),
        max_players: 16,
        game,
    }
}

/// A chain under test.
pub(crate) struct Chain {
    pub(crate) ledger: Ledger,
    pub(crate) beacon: TestBeacon,
    pub(crate) proposer: Keypair,
    pub(crate) step_ms: u64,
    /// Whether blocks carry the beacon entries of every pending height.
    pub(crate) auto_beacon: bool,
    /// Heights whose entries are never included.
    pub(crate) withhold: BTreeSet<u64>,
    nonces: BTreeMap<Address, u64>,
}

impl Chain {
    pub(crate) fn new(genesis: &Genesis) -> Chain {
        Chain::with_ledger(Ledger::in_memory(genesis).expect("genesis"))
    }

    pub(crate) fn with_ledger(mut ledger: Ledger) -> Chain {
        ledger.set_audit(true);
        Chain {
            ledger,
            beacon: TestBeacon { seed: 7 },
            proposer: kp(VALIDATOR),
            step_ms: STEP_MS,
            auto_beacon: true,
            withhold: BTreeSet::new(),
            nonces: BTreeMap::new(),
        }
    }

    /// A signed transaction from `who` with the next nonce and the minimum
    /// fee.
    pub(crate) fn tx(&mut self, who: &Keypair, action: Action) -> SignedTransaction {
        let fee = self.ledger.params().min_fee;
        self.tx_with_fee(who, action, fee)
    }

    pub(crate) fn tx_with_fee(
        &mut self,
        who: &Keypair,
        action: Action,
        fee: Chips,
    ) -> SignedTransaction {
        let address = who.address();
        let nonce = *self
            .nonces
            .entry(address)
            .or_insert_with(|| self.ledger.account(&address).nonce);
        self.nonces.insert(address, nonce + 1);
        Transaction {
            chain_id: self.ledger.chain_id(),
            sender: who.public_key(),
            nonce,
            fee,
            expiry_height: u64::MAX,
            action,
        }
        .sign(who)
    }

    /// A transaction signed with an explicit nonce (the tracked nonces are
    /// left alone).
    pub(crate) fn signed(
        &self,
        who: &Keypair,
        action: Action,
        fee: Chips,
        nonce: u64,
    ) -> SignedTransaction {
        Transaction {
            chain_id: self.ledger.chain_id(),
            sender: who.public_key(),
            nonce,
            fee,
            expiry_height: u64::MAX,
            action,
        }
        .sign(who)
    }

    /// The beacon entries a block at the next height should carry.
    pub(crate) fn entries(&self) -> Vec<BeaconEntry> {
        self.ledger
            .pending_randomness()
            .filter(|(height, _)| !self.withhold.contains(height))
            .map(|(height, pending)| BeaconEntry {
                height: *height,
                signature: BoundedBytes::new(self.beacon.sign(
                    pending.epoch,
                    *height,
                    &pending.block_hash,
                ))
                .expect("signature"),
            })
            .collect()
    }

    /// The next block with `txs` and `entries`.
    pub(crate) fn build(&self, txs: Vec<SignedTransaction>, entries: Vec<BeaconEntry>) -> Block {
        Block::assemble(
            BlockTemplate {
                chain_id: self.ledger.chain_id(),
                height: self.ledger.next_height(),
                view: self.ledger.next_height() + 1,
                parent: self.ledger.next_parent(),
                timestamp_ms: self.ledger.last_timestamp_ms() + self.step_ms,
                proposer: self.proposer.public_key(),
                parent_state_root: self.ledger.state_root(),
            },
            txs,
            entries,
        )
        .expect("block")
    }

    /// The next block with `txs` (and the pending entries, if automatic).
    pub(crate) fn next_block(&self, txs: Vec<SignedTransaction>) -> Block {
        let entries = if self.auto_beacon {
            self.entries()
        } else {
            Vec::new()
        };
        self.build(txs, entries)
    }

    /// Applies `block`, checks the invariants and nonces, and returns what
    /// it produced.
    pub(crate) fn apply_block(&mut self, block: &Block) -> Result<AppliedBlock, LedgerError> {
        let before: BTreeMap<Address, u64> = block
            .transactions
            .iter()
            .map(|t| {
                let a = t.sender_address();
                (a, self.ledger.account(&a).nonce)
            })
            .collect();
        let outcome = self.ledger.apply(block, &self.beacon);
        self.nonces.clear();
        let applied = match outcome? {
            BlockOutcome::Applied(applied) => *applied,
            BlockOutcome::AlreadyApplied { height } => panic!("block {height} was already applied"),
        };
        self.ledger
            .check_invariants()
            .expect("invariants after a block");
        // Nonces go up by exactly the number of charged transactions.
        let mut charged: BTreeMap<Address, u64> = BTreeMap::new();
        for (t, r) in block.transactions.iter().zip(&applied.receipts) {
            let entry = charged.entry(t.sender_address()).or_default();
            let refused_unpaid = matches!(
                r.status,
                TxStatus::Rejected {
                    reason: RejectReason::BadNonce { .. }
                        | RejectReason::Expired { .. }
                        | RejectReason::FeeTooLow { .. }
                        | RejectReason::InsufficientBalance { .. }
                }
            ) && r.fee_charged == Chips::ZERO;
            if !refused_unpaid {
                *entry += 1;
            }
        }
        for (address, nonce) in before {
            assert_eq!(
                self.ledger.account(&address).nonce,
                nonce + charged.get(&address).copied().unwrap_or(0),
                "nonces go up by one per charged transaction"
            );
        }
        assert_eq!(applied.receipts.len(), block.transactions.len());
        Ok(applied)
    }

    /// Builds and applies the next block with `txs`.
    pub(crate) fn apply(&mut self, txs: Vec<SignedTransaction>) -> AppliedBlock {
        let block = self.next_block(txs);
        self.apply_block(&block).expect("the block applies")
    }

    /// Signs `(sender seed, action)` pairs and applies them as the next
    /// block.
    pub(crate) fn send(&mut self, txs: Vec<(u8, Action)>) -> AppliedBlock {
        let txs = txs
            .into_iter()
            .map(|(seed, action)| self.tx(&kp(seed), action))
            .collect();
        self.apply(txs)
    }

    /// Applies empty blocks until `done` says so (at most `limit`).
    pub(crate) fn run_until(
        &mut self,
        limit: usize,
        mut done: impl FnMut(&AppliedBlock) -> bool,
    ) -> Vec<AppliedBlock> {
        let mut blocks = Vec::new();
        for _ in 0..limit {
            let applied = self.apply(Vec::new());
            let stop = done(&applied);
            blocks.push(applied);
            if stop {
                return blocks;
            }
        }
        panic!("the condition did not happen within {limit} blocks");
    }

    pub(crate) fn balance(&self, seed: u8) -> u64 {
        self.ledger.account(&addr(seed)).balance.get()
    }
}

/// Whether a receipt applied.
pub(crate) fn applied(receipt: &Receipt) -> bool {
    receipt.is_applied()
}

/// The rejection reason of a receipt.
pub(crate) fn rejection(receipt: &Receipt) -> Option<&RejectReason> {
    match &receipt.status {
        TxStatus::Rejected { reason } => Some(reason),
        TxStatus::Applied => None,
    }
}

/// Asserts every receipt applied.
pub(crate) fn all_applied(block: &AppliedBlock) {
    for (i, r) in block.receipts.iter().enumerate() {
        assert!(
            r.is_applied(),
            "transaction {i} was refused: {:?}",
            r.status
        );
    }
}

/// Every event of a block: its transactions' then its own.
pub(crate) fn all_events(block: &AppliedBlock) -> Vec<LedgerEvent> {
    block
        .receipts
        .iter()
        .flat_map(|r| r.events.iter().cloned())
        .chain(block.events.events.iter().cloned())
        .collect()
}

/// The id of the table the block's transactions created last.
pub(crate) fn created_table(block: &AppliedBlock) -> TableId {
    all_events(block)
        .iter()
        .rev()
        .find_map(|e| match e {
            LedgerEvent::TableCreated { table, .. } => Some(*table),
            _ => None,
        })
        .expect("a table was created")
}

/// The bet id of the receipt's `BetPlaced`.
pub(crate) fn placed_bet(receipt: &Receipt) -> u64 {
    receipt
        .events
        .iter()
        .find_map(|e| match e {
            LedgerEvent::BetPlaced { bet, .. } => Some(*bet),
            _ => None,
        })
        .expect("a bet was placed")
}
