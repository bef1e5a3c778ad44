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
//! **Restarts.** With a dealing store ([`Resharer::use_dealing_store`];
//! the application gives it its share store's directory, see
//! [`super::DealingStore`]) a player writes each dealing it accepts — the
//! round, the dealer, the dealer's commitment and its private dealing —
//! durably *before* it sends the acknowledgement: once a dealer logs the
//! acknowledgement it no longer reveals that dealing, so the player's copy
//! is the only one. A resharer that first sees a round already open (a
//! restarted validator) rebuilds its player from that round's files,
//! verifying each dealing again against its commitment exactly as when it
//! arrived (a file that does not decode or verify is reported and left
//! out), and sends its acknowledgements again to the dealers whose logs
//! the ledger has not recorded yet (they are the ones it sent: ed25519
//! signatures are deterministic; one lost in the crash would make its
//! dealer reveal the dealing). When the ledger completes the round it
//! derives its share from exactly the logs the ledger recorded, as if it
//! had never stopped. A resharer that first sees the round completed, for
//! a player that holds no share of the new sharing (it stopped before the
//! application wrote it, or was down through the round), rebuilds the
//! player the same way and derives the share from the round's files and
//! the dealings the logs reveal. Dealings that reached the validator while
//! it was down are not lost either: their dealers got no acknowledgement
//! and reveal them in their logs. What is lost: a dealing it acknowledged
//! whose file is missing, altered or was never written (a failed write is
//! reported, and the dealing acknowledged anyway, as without a store) —
//! if the output uses that dealer's log, this validator gets no share (a
//! warning says so at the restart) — and everything once the ledger no
//! longer keeps the round (a later round opened) or the sharing it
//! replaced (past the evidence window).
//!
//! **A restarted dealer does not deal again.** A dealer records in the
//! same store that it dealt in the round before it sends its first
//! dealing, and a restarted one that finds the record stays out of the
//! round's dealing: its state (its random polynomial, the
//! acknowledgements collected) is gone, a second dealing would be ignored
//! by every player that kept the first, so its log would have to reveal
//! their new dealings in the clear (or, with too many reveals, be
//! unusable), and the round needs only a quorum of dealers' logs. A log it
//! submitted before stopping still counts if it reaches a block; it signs
//! no other. (Without a store, or if the record cannot be written, a
//! restarted dealer deals again as a new one.)
//!
//! **Erasure.** A round's files are deleted when the round fails, when it
//! gives this validator no share, or — when it gives one — once the
//! application has written the new share ([`Resharer::forget_dealings`];
//! until then a restart derives the share again); opening a round deletes
//! those of every earlier round. The share a completed round gives is
//! persisted by the application ([`super::ShareStore`]) before it signs
//! with it; a resharer started after a round completed, for a validator
//! that loaded its share of the new sharing from there, reports no share
//! for the round, and the application keeps the one it loaded.
//!
//! Without a dealing store the state lives in memory: a validator
//! restarted during a round has lost the dealings it acknowledged (it gets
//! no share unless the dealers revealed its dealing; it is then among the
//! faulty for the new epoch's beacon) and deals again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use commonware_cryptography::Signer as _;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use wallet::PublicKey;

use super::dealing_store::{DealingStore, DealingStoreError};
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
    /// Once `share` is durable, call [`Resharer::forget_dealings`] with
    /// `round`.
    NewShare {
        /// The round.
        round: u64,
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
    /// Where accepted dealings are persisted (`None`: in memory only).
    store: Option<DealingStore>,
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
                store: None,
            })),
        })
    }

    /// Persists in `store` each dealing this validator accepts as a player
    /// (before acknowledging it) and that it dealt in a round (before
    /// dealing), and rebuilds its part in an open round from `store` when
    /// it first sees the round (see the [module documentation](self)).
    /// Call it before the first [`Resharer::finalized`]: a round already
    /// open here keeps the dealings it holds in memory only.
    pub fn use_dealing_store(&self, store: DealingStore) {
        let mut inner = self.lock();
        if let Some(active) = &inner.active {
            tracing::warn!(
                round = active.round.round,
                "dealing store attached during a round: its earlier dealings are not persisted"
            );
        }
        inner.store = Some(store);
    }

    /// The share that round `round` gave this validator is durable (or it
    /// got none): deletes the persisted dealings of that round and every
    /// earlier one. (A failed round, and a completed one that gave no
    /// share, have theirs deleted by the resharer itself.)
    pub fn forget_dealings(&self, round: u64) {
        self.lock().forget_dealings(round);
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
    /// part in a new round (rebuilt from the dealing store after a
    /// restart), signs its log when due, and derives its share when the
    /// round completes. `share` is its share of the sharing in force
    /// (`None` if it holds none): it deals with it, and once a round
    /// completed, a resharer that took no part in the round derives a share
    /// only if `share` is not this validator's share of the new sharing.
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
                let kept = self
                    .store
                    .as_ref()
                    .map(|store| (store, public.clone(), private.clone()));
                let accepted = dkg::receive_dealing(player, from.clone(), public, private);
                // Durable before acknowledged: once its dealer logs the
                // acknowledgement it no longer reveals the dealing, so a
                // restarted player needs its copy.
                if let (Ok(Some(_)), Some((store, public, private))) = (&accepted, kept)
                    && let Err(error) = store.save(active.round.round, &from, &public, &private)
                {
                    tracing::error!(
                        round = active.round.round,
                        dealer = ?from,
                        %error,
                        "cannot persist an accepted dealing: acknowledging it anyway (a restart before the round completes may cost this validator its new share)"
                    );
                }
                match accepted {
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
                steps.extend(self.complete(ledger, &round, epoch, share));
            }
            RoundStatus::Failed => {
                self.finish(round.round);
                self.forget_dealings(round.round);
            }
        }
        steps
    }

    fn finish(&mut self, round: u64) {
        self.active = None;
        self.done = Some(round);
        self.early.retain(|_, m| m.round() > round);
    }

    /// Deletes the persisted dealings of `round` and earlier rounds.
    fn forget_dealings(&self, round: u64) {
        if let Some(store) = &self.store
            && let Err(error) = store.prune_before(round.saturating_add(1))
        {
            tracing::error!(round, %error, "cannot erase the persisted dealings of the round");
        }
    }

    /// This validator's player of `round` described by `info`, if it is
    /// one of the round's players, with the dealings persisted for the
    /// round replayed into it (a restart: each verified again, exactly as
    /// when it arrived); and the acknowledgements replaying gave, by
    /// dealer (the ones it sent: ed25519 signatures are deterministic).
    fn player_of(
        &self,
        info: &RoundInfo,
        round: &ReshareRound,
    ) -> Option<(RoundPlayer, Vec<(dkg::PublicKey, dkg::PlayerAck)>)> {
        if !round.players.contains(&self.wallet) {
            return None;
        }
        let mut player = dkg::new_player(info, self.identity.clone()).ok()?;
        let mut acks = Vec::new();
        let Some(store) = &self.store else {
            return Some((player, acks));
        };
        let loaded = match store.load_round(round.round) {
            Ok(loaded) => loaded,
            Err(error) => {
                tracing::error!(round = round.round, %error, "cannot read the persisted dealings");
                return Some((player, acks));
            }
        };
        for error in &loaded.refused {
            tracing::error!(round = round.round, %error, "a persisted dealing refused");
        }
        for stored in loaded.dealings {
            let dealer = stored.dealer;
            match dkg::receive_dealing(&mut player, dealer.clone(), stored.public, stored.private) {
                Ok(Some(ack)) => acks.push((dealer, ack)),
                Ok(None) => {}
                Err(error) => {
                    let error = DealingStoreError::Invalid {
                        path: store.path_of(round.round, &dealer),
                        reason: error.to_string(),
                    };
                    tracing::error!(round = round.round, %error, "a persisted dealing refused");
                }
            }
        }
        if !acks.is_empty() {
            tracing::info!(
                round = round.round,
                dealings = acks.len(),
                "the dealings acknowledged before a restart are restored"
            );
        }
        // A log that lists this validator's acknowledgement of a dealing it
        // does not hold: if the output uses that log, no share (the dealer
        // did not reveal it). Say so now rather than at the round's end.
        for (dealer, log) in reshare::round_logs(round).unwrap_or_default() {
            if acks.iter().all(|(restored, _)| *restored != dealer)
                && dkg::log_acknowledges(info, &dealer, &log, &self.me).unwrap_or(false)
            {
                tracing::warn!(
                    round = round.round,
                    ?dealer,
                    "the ledger records this validator's acknowledgement of a dealing it has not kept: if the round's output uses that log, it gets no share"
                );
            }
        }
        Some((player, acks))
    }

    /// Whether this validator dealt in `round` before (a restart), as its
    /// store recorded. A record it cannot read counts as dealt (not
    /// dealing is always safe).
    fn dealt_before(&self, round: u64) -> bool {
        let Some(store) = &self.store else {
            return false;
        };
        match store.has_dealt(round) {
            Ok(dealt) => dealt,
            Err(error) => {
                tracing::error!(round, %error, "the record of this validator's dealing: taken as dealt");
                true
            }
        }
    }

    fn open(&mut self, ledger: &Ledger, round: &ReshareRound, share: Option<&SecretShare>) {
        // While the round is open, the sharing in force is its previous one.
        let Ok(Some(previous)) = ledger.beacon_output() else {
            return;
        };
        let Ok(info) = reshare::round_info(&previous, round) else {
            return;
        };
        // Earlier rounds are over: their dealings are of no use any more.
        if let Some(store) = &self.store
            && let Err(error) = store.prune_before(round.round)
        {
            tracing::error!(round = round.round, %error, "cannot erase the dealings of earlier rounds");
        }
        let (player, restored) = match self.player_of(&info, round) {
            Some((player, acks)) => (Some(player), acks),
            None => (None, Vec::new()),
        };
        let mut dealing = None;
        let mut to_self = None;
        if round.dealers.contains(&self.wallet)
            && let Some(share) = share
            && previous.index_of(&self.me) == Some(share.index())
        {
            if self.dealt_before(round.round) {
                tracing::info!(
                    round = round.round,
                    "dealt in this round before a restart: not dealing again (the round needs only a quorum of dealers)"
                );
            } else {
                match dkg::start_dealer(&mut self.rng, &info, self.identity.clone(), share) {
                    Ok((dealer, public, private)) => {
                        if let Some(store) = &self.store
                            && let Err(error) = store.mark_dealt(round.round)
                        {
                            tracing::error!(
                                round = round.round,
                                %error,
                                "cannot record this dealing: dealing anyway (after a restart this validator would deal again)"
                            );
                        }
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
        }
        self.active = Some(Active {
            round: round.clone(),
            info,
            dealing,
            player,
        });
        // The acknowledgements of restored dealings, again, to the dealers
        // still collecting them (one lost when this validator stopped would
        // make its dealer reveal the dealing). Its own dealer is gone.
        for (dealer, ack) in restored {
            let logged = round
                .logs
                .iter()
                .any(|(key, _)| reshare::identity(key).is_ok_and(|key| key == dealer));
            if dealer != self.me && !logged {
                let message = DkgMessage::Ack {
                    round: round.round,
                    ack,
                };
                (self.send)(&dealer, message.encode());
            }
        }
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

    fn complete(
        &mut self,
        ledger: &Ledger,
        round: &ReshareRound,
        epoch: u64,
        share: Option<&SecretShare>,
    ) -> Vec<ReshareStep> {
        let Ok(Some(output)) = ledger.beacon_output() else {
            return Vec::new();
        };
        let restored = match self.active.take() {
            Some(active) if active.round.round == round.round => {
                active.player.map(|player| (player, active.info))
            }
            // Started after the round completed (a restart).
            _ => self.restore_completed(ledger, round, epoch, &output, share),
        };
        self.finish(round.round);
        let share = match restored {
            Some((player, info)) => match reshare::round_logs(round) {
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
            None => None,
        };
        // The dealings go once the share is durable (the application says
        // so), or now if they gave none.
        if share.is_none() {
            self.forget_dealings(round.round);
        }
        vec![ReshareStep::NewShare {
            round: round.round,
            epoch,
            share,
            output: Box::new(output),
        }]
    }

    /// The player of completed `round` for a resharer started after the
    /// round completed, if this validator is one of the new sharing's
    /// players and `share` (the application's) is not its share of it (it
    /// stopped before the application wrote the new share, or was down
    /// through the round): rebuilt from the dealings persisted for the
    /// round (if any; the logs' reveals give the rest), with the round's
    /// description (on the sharing it replaced, in force until `epoch`).
    fn restore_completed(
        &self,
        ledger: &Ledger,
        round: &ReshareRound,
        epoch: u64,
        output: &DkgOutput,
        share: Option<&SecretShare>,
    ) -> Option<(RoundPlayer, RoundInfo)> {
        let index = output.index_of(&self.me)?;
        if share.is_some_and(|share| share.index() == index && output.sharing().holds(share)) {
            return None;
        }
        let previous = match ledger.sharing_at(epoch.checked_sub(1)?) {
            Ok(Some(previous)) => previous,
            _ => {
                tracing::warn!(
                    round = round.round,
                    "the sharing the round replaced is no longer kept: no share from the round"
                );
                return None;
            }
        };
        let info = reshare::round_info(&previous, round).ok()?;
        let (player, _) = self.player_of(&info, round)?;
        Some((player, info))
    }
}
