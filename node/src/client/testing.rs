//! # Test fixtures for round verification
//!
//! Rounds as the API serves them, with genuine threshold signatures: a
//! 4-validator testnet dealer's shares sign each beacon message, so
//! [`super::verify::verify`] checks real σ. For tests only (this crate's
//! and, through the `test-fixtures` feature, the terminal UI's): it panics
//! on anything unexpected.

use consensus::beacon::{BeaconAggregator, BeaconMessage, BeaconSigner, dealer_keys};
use consensus::block::BeaconEntry;
use consensus::encoding::BoundedBytes;
use consensus::hash::Hash;
use consensus::ledger::records::crash_label;
use consensus::receipt::LedgerEvent;
use consensus::tx::TableId;
use game_rules::crash::{Draws, IntervalDecision, Multiplier};
use game_rules::randomness::Randomness;
use wallet::{ChainId, Keypair};

use crate::api::{Game, RoundInfo, RoundRandomness, RoundStatus, RoundSummary};

/// The epoch every fixture entry is signed in.
pub const EPOCH: u64 = 3;

/// The chain the fixtures' beacon messages are for.
pub fn chain() -> ChainId {
    ChainId::new([7; 32])
}

/// Signs beacon messages with a 4-validator testnet dealer's shares (a
/// quorum of 3), for [`chain`] in [`EPOCH`].
pub struct Beacon {
    aggregator: BeaconAggregator,
    signers: Vec<(BeaconSigner, Keypair)>,
    group_key: String,
}

impl Beacon {
    /// The dealer's keys from a fixed seed: the same σ every run.
    pub fn new() -> Beacon {
        let keys = dealer_keys(4, &[5; 32]).expect("dealer keys");
        let keypairs: Vec<Keypair> = (0..4u8)
            .map(|i| Keypair::from_secret_bytes(&[100 + i; 32]))
            .collect();
        let aggregator = BeaconAggregator::new(
            chain(),
            EPOCH,
            keys.sharing.clone(),
            keypairs.iter().map(Keypair::public_key).collect(),
        )
        .expect("an aggregator")
        .with_height_window(1_000_000);
        let group_key = hex::encode(keys.sharing.group_key().to_bytes());
        let signers = keys
            .shares
            .into_iter()
            .zip(keypairs)
            .map(|(share, keypair)| {
                let signer = BeaconSigner::new(3, share, &keys.sharing).expect("a signer");
                (signer, keypair)
            })
            .collect();
        Beacon {
            aggregator,
            signers,
            group_key,
        }
    }

    /// The group public key, hex, as the API serves it.
    pub fn group_key(&self) -> &str {
        &self.group_key
    }

    /// σ for the block at `height` (whose hash is `height` repeated), and
    /// the randomness record the API serves for it: published two blocks
    /// later.
    pub fn sign(&mut self, height: u64) -> RoundRandomness {
        let message = BeaconMessage {
            chain_id: chain(),
            epoch: EPOCH,
            height,
            block: Hash::new([height as u8; 32]),
        };
        let mut sigma = None;
        for (signer, keypair) in &self.signers {
            let share = signer.sign_sealed(&message, keypair).expect("a share");
            if let Some(recovered) = self.aggregator.add(share).expect("a valid share") {
                sigma = Some(recovered.signature);
                break;
            }
        }
        let sigma = sigma.expect("a quorum of shares recovers σ");
        RoundRandomness {
            entry: BeaconEntry {
                height,
                signature: BoundedBytes::new(sigma.to_vec()).expect("σ fits"),
            },
            published_height: height + 2,
            epoch: EPOCH,
            message: hex::encode(message.encode()),
            group_public_key: self.group_key.clone(),
            derivation: "bitcraps/v1/crash".into(),
        }
    }
}

impl Default for Beacon {
    fn default() -> Self {
        Beacon::new()
    }
}

/// A finished crash round of `table` as the ledger decides it: it starts,
/// ticks every 400 ms, each interval decided by σ of its own block (at
/// `round × 1000 + interval`), until one crashes. Settled, with two bets.
pub fn crashed_round(beacon: &mut Beacon, table: TableId, round: u64) -> RoundInfo {
    let mut events = vec![LedgerEvent::CrashRoundStarted {
        table,
        round,
        start_ms: 1_700_000_000_000,
    }];
    let mut randomness = Vec::new();
    let mut from = Multiplier::ONE;
    for interval in 1u32.. {
        let elapsed = 400 * u64::from(interval);
        let to = Multiplier::at(elapsed);
        events.push(LedgerEvent::CrashTick {
            table,
            round,
            multiplier: to,
            elapsed_ms: elapsed,
        });
        let height = round * 1_000 + u64::from(interval);
        let entry = beacon.sign(height);
        let draws = Draws::derive(
            &Randomness::from_beacon_output(entry.entry.signature.as_bytes()),
            &crash_label(table, round, interval),
            interval == 1,
        );
        randomness.push(entry);
        let decision = IntervalDecision::new(draws, from, to).expect("a valid interval");
        if let Some(at) = decision.crash_point() {
            events.push(LedgerEvent::Crashed {
                table,
                round,
                at,
                beacon_height: height,
            });
            break;
        }
        from = to;
    }
    RoundInfo {
        summary: RoundSummary {
            table,
            round,
            game: Game::Crash,
            status: RoundStatus::Settled,
            opened_height: round * 1_000,
            settled_height: Some(round * 1_000 + 10),
            bets: 2,
            wagered: 150,
            paid: 100,
            outcome: None,
        },
        randomness,
        events,
    }
}
