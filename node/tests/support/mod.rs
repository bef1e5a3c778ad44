//! A real test chain for the node's integration tests: a genesis with a
//! dealer-made threshold sharing (the testnet shortcut), blocks built and
//! applied by an in-memory ledger, beacon entries recovered from the
//! validators' shares, and finality proofs signed by `t` of the committee's
//! shares — everything a follower checks with the group key alone.

#![allow(dead_code)] // Each test binary uses part of it.

use std::num::NonZeroU32;

use commonware_codec::{Copying, Decode as _, DecodeExt as _, Encode as _};
use commonware_consensus::simplex::types::{Context, Finalization, Finalize, Proposal};
use commonware_consensus::types::{Epoch, Round, View};
use commonware_cryptography::bls12381::primitives::group::Share;
use commonware_cryptography::bls12381::primitives::sharing::{ModeVersion, Sharing};
use commonware_cryptography::bls12381::primitives::variant::MinSig;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_parallel::Sequential;
use commonware_utils::TryCollect as _;
use commonware_utils::iter::NonEmpty;
use commonware_utils::ordered::Set;
use consensus::beacon::{
    BeaconAggregator, BeaconMessage, BeaconSigner, DealerKeys, SecretShare, dealer_keys, quorum,
};
use consensus::block::{BeaconEntry, Block, BlockTemplate};
use consensus::encoding::{BoundedBytes, BoundedVec};
use consensus::engine::leaders::Leaders;
use consensus::engine::{ConsensusBlock, Digest, FinalityProof, Scheme, namespace};
use consensus::genesis::{
    FaucetParams, Genesis, GenesisAccount, GenesisBankroll, GenesisValidator, Params,
};
use consensus::ledger::Ledger;
use consensus::tx::{Action, SignedTransaction, TableGame, Transaction};
use game_rules::Chips;
use wallet::{Address, Keypair};

pub const GENESIS_TIME: u64 = 1_000_000;
pub const STEP_MS: u64 = 1_000;
pub const VALIDATORS: u32 = 4;
pub const PLAYERS: u8 = 4;

pub fn kp(seed: u8) -> Keypair {
    Keypair::from_secret_bytes(&[seed; 32])
}

pub fn params() -> Params {
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

/// A chain under test (see the module documentation).
pub struct TestChain {
    pub genesis: Genesis,
    /// The genesis validators' wallet keys, in share order.
    pub validators: Vec<Keypair>,
    pub players: Vec<Keypair>,
    keys: DealerKeys,
    signers: Vec<Scheme>,
    verifier: Scheme,
    identities: Vec<ed25519::PrivateKey>,
    pub ledger: Ledger,
    nonces: std::collections::BTreeMap<Address, u64>,
    last_digest: Digest,
    /// The view of the last block built (views the chain skipped, whose
    /// leaders missed them, are added by [`TestChain::skip_views`]).
    last_view: u64,
    /// Every block built, with its proof.
    pub blocks: Vec<(Block, Vec<u8>)>,
}

impl TestChain {
    pub fn new() -> TestChain {
        let keys = dealer_keys(VALIDATORS, &[9; 32]).expect("dealer keys");
        let mut validators: Vec<Keypair> = (0..VALIDATORS as u8).map(|i| kp(200 + i)).collect();
        validators.sort_by_key(|k| k.public_key().to_bytes());
        let genesis_validators = validators
            .iter()
            .enumerate()
            .map(|(i, key)| GenesisValidator {
                consensus_key: key.public_key(),
                network_address: format!("/ip4/127.0.0.1/tcp/{}", 9000 + i)
                    .parse()
                    .expect("address"),
                stake: Chips(10_000),
            })
            .collect();
        let players: Vec<Keypair> = (1..=PLAYERS).map(kp).collect();
        let accounts = players
            .iter()
            .map(|p| GenesisAccount {
                address: p.address(),
                balance: Chips(1_000_000),
            })
            .collect();
        let genesis = Genesis {
            chain_name: "node-test".parse().expect("name"),
            genesis_time_ms: GENESIS_TIME,
            accounts: BoundedVec::new(accounts).expect("accounts"),
            bankroll: GenesisBankroll {
                initial: Chips(10_000_000),
                owner: players[0].address(),
            },
            validators: BoundedVec::new(genesis_validators).expect("validators"),
            params: params(),
            dealer_beacon: true,
            beacon_sharing: Some(keys.sharing.clone()),
        };
        genesis.validate().expect("a valid genesis");

        // The consensus committee: ed25519 identities, the same sharing.
        let identities: Vec<ed25519::PrivateKey> = (0..VALIDATORS)
            .map(|i| ed25519::PrivateKey::from_seed(u64::from(i) + 1))
            .collect();
        let participants: Set<ed25519::PublicKey> = identities
            .iter()
            .map(|k| k.public_key())
            .try_collect()
            .expect("distinct identities");
        let sharing = Sharing::<MinSig>::decode_cfg(
            Copying(&keys.sharing.to_bytes()[..]),
            &(
                NonZeroU32::new(VALIDATORS).expect("non-zero"),
                ModeVersion::v0(),
            ),
        )
        .expect("the sharing decodes");
        let ns = namespace(&genesis.chain_id());
        let signers = keys
            .shares
            .iter()
            .map(|secret| {
                let share = Share::decode(Copying(&secret.to_bytes()[..])).expect("share decodes");
                Scheme::signer(&ns, participants.clone(), sharing.clone(), share).expect("a signer")
            })
            .collect();
        let verifier = Scheme::verifier(&ns, participants, sharing);
        let ledger = Ledger::in_memory(&genesis).expect("genesis ledger");
        TestChain {
            genesis,
            validators,
            players,
            keys,
            signers,
            verifier,
            identities,
            ledger,
            nonces: Default::default(),
            last_digest: commonware_cryptography::blake3::Digest([0u8; 32]),
            last_view: 0,
            blocks: Vec::new(),
        }
    }

    /// A signed transaction with the next nonce and the minimum fee.
    pub fn tx(&mut self, who: &Keypair, action: Action) -> SignedTransaction {
        let nonce = self.nonces.entry(who.address()).or_insert(0);
        let tx = Transaction {
            chain_id: self.genesis.chain_id(),
            sender: who.public_key(),
            nonce: *nonce,
            fee: Chips(1),
            expiry_height: 1_000_000,
            action,
        }
        .sign(who);
        *nonce += 1;
        tx
    }

    /// σ for `(epoch, height, block)`, recovered from `t` shares.
    fn sigma(&self, epoch: u64, height: u64, block: consensus::hash::BlockHash) -> Vec<u8> {
        let chain_id = self.genesis.chain_id();
        let mut aggregator = BeaconAggregator::new(
            chain_id,
            epoch,
            self.keys.sharing.clone(),
            self.validators.iter().map(Keypair::public_key).collect(),
        )
        .expect("aggregator");
        let message = BeaconMessage {
            chain_id,
            epoch,
            height,
            block,
        };
        for (share, key) in self.keys.shares.iter().zip(&self.validators) {
            let share = SecretShare::from_bytes(&share.to_bytes()).expect("a share");
            let signer = BeaconSigner::new(epoch, share, &self.keys.sharing).expect("signer");
            let sealed = signer.sign_sealed(&message, key).expect("share");
            if let Some(recovered) = aggregator.add(sealed).expect("a valid share") {
                return recovered.signature.to_vec();
            }
        }
        panic!("t shares recover σ");
    }

    /// The finality proof of `block`, signed by `t` of the committee.
    fn prove(&mut self, block: &Block) -> Vec<u8> {
        let height = block.header.height;
        let view = View::new(block.header.view);
        let parent_view = View::new(block.header.view - 1);
        let context = Context {
            round: Round::new(Epoch::new(0), view),
            leader: self.identities[(height % u64::from(VALIDATORS)) as usize].public_key(),
            parent: (parent_view, self.last_digest),
        };
        let digest = ConsensusBlock::proposed_digest(&context, &block.header.hash());
        let proposal = Proposal::new(context.round, parent_view, digest);
        let votes: Vec<_> = self
            .signers
            .iter()
            .take(quorum(VALIDATORS) as usize)
            .map(|s| Finalize::sign(s, proposal.clone()).expect("a vote"))
            .collect();
        let finalization = Finalization::from_finalizes(
            &self.verifier,
            NonEmpty::try_new(votes.iter()).expect("votes"),
            &Sequential,
        )
        .expect("a certificate");
        self.last_digest = digest;
        let proof = FinalityProof {
            context,
            finalization,
        };
        let bytes = proof.to_bytes();
        assert_eq!(bytes, proof.encode().to_vec());
        bytes
    }

    /// The next `views` views produce no block: their leaders miss them.
    pub fn skip_views(&mut self, views: u64) {
        self.last_view += views;
    }

    /// Builds the next block with `txs` and the beacon entries of every
    /// pending height, applies it to the chain's own ledger, and proves it.
    pub fn next_block(&mut self, txs: Vec<SignedTransaction>) -> (Block, Vec<u8>) {
        let height = self.ledger.next_height();
        let entries: Vec<BeaconEntry> = self
            .ledger
            .pending_randomness()
            .map(|(h, p)| (*h, p.epoch, p.block_hash))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|(h, epoch, hash)| BeaconEntry {
                height: h,
                signature: BoundedBytes::from_slice(&self.sigma(epoch, h, hash)).expect("σ"),
            })
            .collect();
        // Proposed by its view's leader, as the engine elects it.
        let view = self.last_view + 1;
        let committee: Vec<_> = self.validators.iter().map(Keypair::public_key).collect();
        let proposer = Leaders::new(&committee)
            .expect("a committee")
            .leader(0, view);
        self.last_view = view;
        let block = Block::assemble(
            BlockTemplate {
                chain_id: self.genesis.chain_id(),
                height,
                view,
                parent: self.ledger.next_parent(),
                timestamp_ms: self.ledger.last_timestamp_ms() + STEP_MS,
                proposer,
                parent_state_root: self.ledger.state_root(),
            },
            txs,
            entries,
        )
        .expect("a block");
        let verifier = self.genesis.beacon_verifier().expect("a sharing");
        self.ledger
            .apply(&block, &verifier)
            .expect("the block applies");
        let proof = self.prove(&block);
        self.blocks.push((block.clone(), proof.clone()));
        (block, proof)
    }

    /// A game: player 1 opens a craps and a crash table, every player sits
    /// at both and bets on the field and on crash (auto cash-out 1.5×),
    /// then `settle` empty blocks let the randomness settle them.
    pub fn play(&mut self, settle: usize) {
        let owner = kp(1);
        let craps = TableGame::Craps {
            min_bet: Chips(1),
            max_bet: Chips(1_000),
            odds: game_rules::craps::OddsLimit::ThreeFourFive,
        };
        let crash = TableGame::Crash {
            min_bet: Chips(1),
            max_bet: Chips(1_000),
        };
        let create = |name: &str, game| Action::CreateTable {
            name: name.parse().expect("name"),
            max_players: 16,
            game,
        };
        let txs = vec![
            self.tx(&owner, create("dice", craps)),
            self.tx(&owner, create("rocket", crash)),
        ];
        self.next_block(txs);
        let players: Vec<Keypair> = (1..=PLAYERS).map(kp).collect();
        let mut joins = Vec::new();
        for p in &players {
            for table in [1, 2] {
                joins.push(self.tx(
                    p,
                    Action::JoinTable {
                        table: consensus::tx::TableId(table),
                    },
                ));
            }
        }
        self.next_block(joins);
        let mut bets = Vec::new();
        for (i, p) in players.iter().enumerate() {
            bets.push(self.tx(
                p,
                Action::CrapsBet {
                    table: consensus::tx::TableId(1),
                    kind: game_rules::craps::BetKind::Field,
                    amount: Chips(10 + i as u64),
                },
            ));
            bets.push(self.tx(
                p,
                Action::CrashBet {
                    table: consensus::tx::TableId(2),
                    amount: Chips(20),
                    auto_cash_out: Some(150),
                },
            ));
        }
        self.next_block(bets);
        for _ in 0..settle {
            self.next_block(Vec::new());
        }
    }
}

/// Writes the genesis as JSON into `dir`.
pub fn write_genesis(genesis: &Genesis, dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("genesis.json");
    std::fs::write(&path, genesis.to_json()).expect("genesis written");
    path
}
