//! The validator's side of a resharing round (see
//! [`crate::ledger::reshare`] for the chain's side).
//!
//! A [`Resharer`] follows the finalized ledger. When a round opens it
//! takes its part:
//!
//! - **as a dealer** (a player of the sharing in force, holding a share):
//!   starts commonware's dealer with that share, sends each player its
//!   private dealing over the validator network's DKG channel (point to
//!   point: a dealing must reach only its player), collects the players'
//!   acknowledgements, and once every player acknowledged — or half of the
//!   round's blocks have passed — signs its log (acks, reveals for the
//!   rest) and hands it to the application as a dealer-log transaction;
//! - **as a player**: checks each dealing against the dealer's commitment
//!   and acknowledges the valid ones; when the ledger completes the round
//!   it derives its new share from exactly the logs the ledger recorded
//!   ([`dkg::finalize_player`], checked against the ledger's output).
//!
//! Dealings that arrive before this validator has finalized the opening
//! block are kept (at most one per peer, only for a later round) and
//! replayed when the round opens.
//!
//! The state lives in memory: a validator restarted during a round has
//! lost its dealer (it does not log; the round needs only a quorum of
//! dealers) and the dealings it acknowledged (it gets no share unless the
//! dealers revealed its dealing; it is then among the faulty for the new
//! epoch's beacon). Persisting dealings is left for later. The share a
//! completed round gives is persisted by the application
//! ([`super::ShareStore`]) before it signs with it; a resharer started
//! after a round completed reports no share for it, and the application
//! keeps the one it loaded.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use commonware_cryptography::Signer as _;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use wallet::PublicKey;

use crate::beacon::dkg::{self, DkgMessage, DkgOutput, RoundDealer, RoundInfo, RoundPlayer};
use crate::beacon::{MAX_PARTICIPANTS, SecretShare};
use crate::ledger::Ledger;
use crate::ledger::reshare::{self, ReshareRound, RoundStatus};

/// Sends a DKG message to one validator (by its network identity).
pub type DkgSend = Box<dyn FnMut(&dkg::PublicKey, Vec<u8>) + Send>;

/// What the application must do after a finalized block.
#[derive(Debug)]
pub enum ReshareStep {
    /// Submit this dealer log of `round` as a transaction.
    SubmitLog {
        /// The round.
        round: u64,
        /// The encoded signed log.
        log: Vec<u8>,
    },
    /// A round completed: from `epoch` this validator signs with `share`
    /// (`None`: it is not in the new set and must erase its old share).
    NewShare {
        /// The first epoch of the new sharing.
        epoch: u64,
        /// The new share, if this validator is a player.
        share: Option<SecretShare>,
        /// The new sharing.
        output: Box<DkgOutput>,
    },
}

/// This validator's part in resharing rounds; clones share the state (the
/// application and the DKG channel's receive task hold one each).
#[derive(Clone)]
pub struct Resharer {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for Resharer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resharer").finish_non_exhaustive()
    }
}

struct Dealing {
    dealer: Option<RoundDealer>,
    acked: BTreeSet<dkg::PublicKey>,
    players: usize,
    /// The log, once signed (kept to submit again if it is lost).
    log: Option<Vec<u8>>,
}

struct Active {
    round: ReshareRound,
    info: RoundInfo,
    dealing: Option<Dealing>,
    player: Option<RoundPlayer>,
}

struct Inner {
    identity: dkg::PrivateKey,
    me: dkg::PublicKey,
    wallet: PublicKey,
    send: DkgSend,
    rng: ChaCha20Rng,
    active: Option<Active>,
    /// Dealings for a round not open here yet, by sender.
    early: BTreeMap<dkg::PublicKey, DkgMessage>,
    /// The last round this validator finished (completed or failed).
    done: Option<u64>,
}

impl Resharer {
    /// A resharer for the validator with network identity `identity`,
    /// sending with `send`. `seed` seeds the generator of the dealer's
    /// random polynomials: take it from the operating system's secure
    /// source (its secrecy protects the new shares); the simulations
    /// derive it from their seed so runs reproduce.
    pub fn new(
        identity: dkg::PrivateKey,
        send: DkgSend,
        seed: [u8; 32],
    ) -> Result<Resharer, String> {
        let rng = ChaCha20Rng::from_seed(seed);
        let me = identity.public_key();
        let wallet = reshare::ledger_key(&me).map_err(|e| e.to_string())?;
        Ok(Resharer {
            inner: Arc::new(Mutex::new(Inner {
                identity,
                me,
                wallet,
                send,
                rng,
                active: None,
                early: BTreeMap::new(),
                done: None,
            })),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every method leaves the state consistent before returning.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A message from peer `from` on the DKG channel. Junk, messages of
    /// another round and dealings that do not verify are dropped (a bad
    /// dealing is not acknowledged, so its dealer must reveal it).
    pub fn receive(&self, from: &dkg::PublicKey, bytes: &[u8]) {
        let Ok(message) = DkgMessage::decode(bytes) else {
            return;
        };
        self.lock().handle(from.clone(), message);
    }

    /// Follows the finalized `ledger` after a block: opens this validator's
    /// part in a new round, signs its log when due, and derives its share
    /// when the round completes. `share` is its share of the sharing in
    /// force (`None` if it holds none).
    pub fn finalized(&self, ledger: &Ledger, share: Option<&SecretShare>) -> Vec<ReshareStep> {
        self.lock().finalized(ledger, share)
    }
}

impl Inner {
    fn handle(&mut self, from: dkg::PublicKey, message: DkgMessage) {
        let Some(active) = self.active.as_mut() else {
            self.keep_early(from, message);
            return;
        };
        if message.round() != active.round.round {
            if message.round() > active.round.round {
                self.keep_early(from, message);
            }
            return;
        }
        match message {
            DkgMessage::Dealing {
                public, private, ..
            } => {
                let Some(player) = active.player.as_mut() else {
                    return;
                };
                match dkg::receive_dealing(player, from.clone(), public, private) {
                    Ok(Some(ack)) if from == self.me => {
                        // Its own dealing: the network does not loop back.
                        if let Some(dealing) = active.dealing.as_mut()
                            && let Some(dealer) = dealing.dealer.as_mut()
                            && dealer.receive_player_ack(from.clone(), ack).is_ok()
                        {
                            dealing.acked.insert(from);
                        }
                    }
                    Ok(Some(ack)) => {
                        let round = active.round.round;
                        (self.send)(&from, DkgMessage::Ack { round, ack }.encode());
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(dealer = ?from, %error, "a dealing refused");
                    }
                }
            }
            DkgMessage::Ack { ack, .. } => {
                let Some(dealing) = active.dealing.as_mut() else {
                    return;
                };
                let Some(dealer) = dealing.dealer.as_mut() else {
                    return;
                };
                if dealer.receive_player_ack(from.clone(), ack).is_ok() {
                    dealing.acked.insert(from);
                }
            }
        }
    }

    fn keep_early(&mut self, from: dkg::PublicKey, message: DkgMessage) {
        if matches!(message, DkgMessage::Ack { .. })
            || self.done.is_some_and(|done| message.round() <= done)
        {
            return;
        }
        if self.early.len() >= MAX_PARTICIPANTS as usize && !self.early.contains_key(&from) {
            return;
        }
        self.early.insert(from, message);
    }

    fn finalized(&mut self, ledger: &Ledger, share: Option<&SecretShare>) -> Vec<ReshareStep> {
        let mut steps = Vec::new();
        let Some(round) = ledger.resharing().and_then(|r| r.round.clone()) else {
            return steps;
        };
        if self.done.is_some_and(|done| round.round <= done) {
            return steps;
        }
        let known = self
            .active
            .as_ref()
            .is_some_and(|a| a.round.round == round.round);
        match round.status {
            RoundStatus::Open => {
                if !known {
                    self.open(ledger, &round, share);
                }
                if let Some(step) = self.log_if_due(ledger, &round) {
                    steps.push(step);
                }
            }
            RoundStatus::Completed { epoch } => {
                steps.extend(self.complete(ledger, &round, epoch));
            }
            RoundStatus::Failed => {
                self.finish(round.round);
            }
        }
        steps
    }

    fn finish(&mut self, round: u64) {
        self.active = None;
        self.done = Some(round);
        self.early.retain(|_, m| m.round() > round);
    }

    fn open(&mut self, ledger: &Ledger, round: &ReshareRound, share: Option<&SecretShare>) {
        // While the round is open, the sharing in force is its previous one.
        let Ok(Some(previous)) = ledger.beacon_output() else {
            return;
        };
        let Ok(info) = reshare::round_info(&previous, round) else {
            return;
        };
        let player = round
            .players
            .contains(&self.wallet)
            .then(|| dkg::new_player(&info, self.identity.clone()).ok())
            .flatten();
        let mut dealing = None;
        let mut to_self = None;
        if round.dealers.contains(&self.wallet)
            && let Some(share) = share
            && previous.index_of(&self.me) == Some(share.index())
        {
            match dkg::start_dealer(&mut self.rng, &info, self.identity.clone(), share) {
                Ok((dealer, public, private)) => {
                    let players = private.len();
                    for (player, message) in private {
                        let message = DkgMessage::Dealing {
                            round: round.round,
                            public: public.clone(),
                            private: message,
                        };
                        if player == self.me {
                            to_self = Some(message);
                        } else {
                            (self.send)(&player, message.encode());
                        }
                    }
                    dealing = Some(Dealing {
                        dealer: Some(dealer),
                        acked: BTreeSet::new(),
                        players,
                        log: None,
                    });
                }
                Err(error) => tracing::error!(round = round.round, %error, "cannot deal"),
            }
        }
        self.active = Some(Active {
            round: round.clone(),
            info,
            dealing,
            player,
        });
        if let Some(message) = to_self {
            self.handle(self.me.clone(), message);
        }
        let early = std::mem::take(&mut self.early);
        for (from, message) in early {
            self.handle(from, message);
        }
    }

    fn log_if_due(&mut self, ledger: &Ledger, round: &ReshareRound) -> Option<ReshareStep> {
        let active = self.active.as_mut()?;
        let dealing = active.dealing.as_mut()?;
        if round.logs.iter().any(|(dealer, _)| *dealer == self.wallet) {
            return None;
        }
        let height = ledger.head().map_or(0, |h| h.height);
        let half = round.opened_at + (round.deadline.saturating_sub(round.opened_at)) / 2;
        if dealing.log.is_none()
            && (dealing.acked.len() >= dealing.players || height >= half)
            && let Some(dealer) = dealing.dealer.take()
        {
            dealing.log = Some(dkg::finalize_dealer(dealer));
        }
        let log = dealing.log.clone()?;
        Some(ReshareStep::SubmitLog {
            round: round.round,
            log,
        })
    }

    fn complete(&mut self, ledger: &Ledger, round: &ReshareRound, epoch: u64) -> Vec<ReshareStep> {
        let Ok(Some(output)) = ledger.beacon_output() else {
            return Vec::new();
        };
        let active = self.active.take();
        self.finish(round.round);
        let share = match active {
            Some(Active {
                player: Some(player),
                info,
                ..
            }) => match reshare::round_logs(round) {
                Ok(logs) => {
                    match dkg::finalize_player(player, &info, &logs, &output, &mut self.rng) {
                        Ok(share) => Some(share),
                        Err(error) => {
                            tracing::error!(round = round.round, %error, "no share from the round");
                            None
                        }
                    }
                }
                Err(_) => None,
            },
            _ => None,
        };
        vec![ReshareStep::NewShare {
            epoch,
            share,
            output: Box::new(output),
        }]
    }
}
