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
//! **A restarted dealer resumes.** A dealer draws its dealing from a
//! fresh seed (from its generator) and records the seed, with a digest of
//! the commitment it gives, in the same store before it sends its first
//! dealing (if the record cannot be written it does not deal). A
//! restarted one re-creates the identical dealing from the seed
//! (commonware's dealer is deterministic in its generator; a dealing that
//! does not match the digest is not sent), sends it again and collects the
//! acknowledgements again: a player answers a dealing it already holds
//! with the same acknowledgement, and refuses a different dealing from the
//! same dealer in the round (which is why a dealer must never make a
//! second one). Once it signed its log, the dealer writes the log to the
//! store before submitting it (a failed write is tried again at the next
//! block; the log goes nowhere before); a restarted one that finds it
//! submits those exact bytes again, until the log is in a block or the
//! round is over, and signs no other. A record that cannot be read or
//! does not check is reported and the dealer stays out of the round's
//! dealing (the round needs only a quorum of dealers' logs); so does a
//! dealer whose log the ledger already has.
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
//! faulty for the new epoch's beacon) and deals again as a new dealer,
//! whose dealing every player that kept the first refuses.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use commonware_cryptography::Signer as _;
// chacha20's generator, not rand_chacha's: the same stream (a dealer
// file written before re-creates the same dealing), and its key and
// buffered output are wiped on drop, like every seed and scalar here.
use chacha20::ChaCha20Rng;
use chacha20::rand_core::{Rng as _, SeedableRng as _};
use wallet::PublicKey;
use zeroize::Zeroize as _;

use super::dealing_store::{DealingStore, DealingStoreError};
use crate::beacon::dkg::{self, DkgMessage, DkgOutput, RoundDealer, RoundInfo, RoundPlayer};
use crate::beacon::{MAX_PARTICIPANTS, SecretShare};
use crate::ledger::Ledger;
use crate::ledger::reshare::{self, ReshareRound, RoundStatus};

// The dealer's generators (`ChaCha20Rng`) hold seed material: they must stay wiped on drop.
const _: fn() = || {
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<ChaCha20Rng>();
};

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
    /// Whether the log is in the store (or there is no store): only then
    /// is it submitted, so that a restart never signs a second one.
    log_kept: bool,
}

/// The acknowledgements this validator gave as a player, by dealer: the
/// [`dkg::commitment_digest`] of the dealing and the acknowledgement (sent
/// again, the same bytes, when that dealer sends the same dealing again).
type Given = BTreeMap<dkg::PublicKey, ([u8; 32], dkg::PlayerAck)>;

struct Active {
    round: ReshareRound,
    info: RoundInfo,
    dealing: Option<Dealing>,
    player: Option<RoundPlayer>,
    given: Given,
}

/// How this validator takes its dealer's part in a round it opens here.
enum Resume {
    /// A new dealing (no store, or nothing recorded for the round).
    New,
    /// The dealing recorded before a restart: re-created from its seed.
    Seed(super::dealing_store::StoredDealer),
    /// The log signed before a restart: submitted again.
    Log(Vec<u8>),
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
    /// derive it from their seed so runs reproduce. This copy of it is
    /// wiped here, the generator's state when the resharer is dropped.
    pub fn new(
        identity: dkg::PrivateKey,
        send: DkgSend,
        mut seed: [u8; 32],
    ) -> Result<Resharer, String> {
        let rng = ChaCha20Rng::from_seed(seed);
        seed.zeroize();
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
    /// (before acknowledging it), and as a dealer the seed of its dealing
    /// (before dealing) and its signed log (before submitting it), and
    /// rebuilds its part in an open round from `store` when
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
                let digest = dkg::commitment_digest(&public);
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
                let ack = match accepted {
                    Ok(Some(ack)) => {
                        active.given.insert(from.clone(), (digest, ack.clone()));
                        ack
                    }
                    // A dealing from a dealer it already heard: the same one
                    // again (a restarted dealer collecting its
                    // acknowledgements again) gets the same acknowledgement;
                    // another one is refused, the first stands.
                    Ok(None) => match active.given.get(&from) {
                        Some((acked, ack)) if *acked == digest => ack.clone(),
                        _ => {
                            tracing::warn!(
                                round = active.round.round,
                                dealer = ?from,
                                "a second, different dealing from this dealer in the round refused (the first stands)"
                            );
                            return;
                        }
                    },
                    Err(error) => {
                        tracing::warn!(dealer = ?from, %error, "a dealing refused");
                        return;
                    }
                };
                if from == self.me {
                    // Its own dealing: the network does not loop back.
                    if let Some(dealing) = active.dealing.as_mut()
                        && let Some(dealer) = dealing.dealer.as_mut()
                        && dealer.receive_player_ack(from.clone(), ack).is_ok()
                    {
                        dealing.acked.insert(from);
                    }
                } else {
                    let round = active.round.round;
                    (self.send)(&from, DkgMessage::Ack { round, ack }.encode());
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
    fn player_of(&self, info: &RoundInfo, round: &ReshareRound) -> Option<(RoundPlayer, Given)> {
        if !round.players.contains(&self.wallet) {
            return None;
        }
        let mut player = dkg::new_player(info, self.identity.clone()).ok()?;
        let mut acks = Given::new();
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
            let digest = dkg::commitment_digest(&stored.public);
            match dkg::receive_dealing(&mut player, dealer.clone(), stored.public, stored.private) {
                Ok(Some(ack)) => {
                    acks.insert(dealer, (digest, ack));
                }
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
            if !acks.contains_key(&dealer)
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

    /// How this validator deals in `round` (described by `info`): as its
    /// store recorded before a restart, or anew. `None`: it must not deal
    /// (what its store holds for the round cannot be read or does not
    /// check, or an older version dealt in it without keeping the seed;
    /// not dealing is always safe, the round needs only a quorum of
    /// dealers).
    fn resume_dealing(&self, info: &RoundInfo, round: u64) -> Option<Resume> {
        let Some(store) = &self.store else {
            return Some(Resume::New);
        };
        let refused = |error: &DealingStoreError| {
            tracing::error!(
                round,
                %error,
                "this validator's record of its dealing is refused: not dealing in the round (the round needs only a quorum of dealers)"
            );
        };
        match store.load_log(round) {
            Ok(Some(log)) => {
                let checked =
                    dkg::decode_log(&log).and_then(|signed| dkg::check_log(info, signed, &self.me));
                return match checked {
                    Ok(_) => Some(Resume::Log(log)),
                    Err(error) => {
                        refused(&DealingStoreError::Invalid {
                            path: store.log_path(round),
                            reason: error.to_string(),
                        });
                        None
                    }
                };
            }
            Ok(None) => {}
            Err(error) => {
                refused(&error);
                return None;
            }
        }
        match store.load_dealer(round) {
            Ok(Some(stored)) => Some(Resume::Seed(stored)),
            Ok(None) => match store.has_legacy_dealt(round) {
                Ok(false) => Some(Resume::New),
                Ok(true) => {
                    tracing::warn!(
                        round,
                        "this validator dealt in the round before an upgrade (a dealt marker, no dealer file): its dealing cannot be re-created, so it does not deal again (the round needs only a quorum of dealers)"
                    );
                    None
                }
                Err(error) => {
                    refused(&error);
                    None
                }
            },
            Err(error) => {
                refused(&error);
                None
            }
        }
    }

    /// This validator's dealing in `round` (it is a dealer holding
    /// `share`), and the private dealings to send, by player: resumed as
    /// its store recorded before a restart (its log, or its dealing
    /// re-created from the recorded seed, checked to be the same), or a new
    /// one, recorded before anything is sent. `None`: it does not deal.
    fn start_dealing(
        &mut self,
        info: &RoundInfo,
        round: &ReshareRound,
        share: &SecretShare,
    ) -> Option<(Dealing, Vec<(dkg::PublicKey, DkgMessage)>)> {
        let number = round.round;
        let (seed, recorded) = match self.resume_dealing(info, number)? {
            Resume::Log(log) => {
                tracing::info!(
                    round = number,
                    "the dealer log signed before a restart is submitted again"
                );
                let dealing = Dealing {
                    dealer: None,
                    acked: BTreeSet::new(),
                    players: round.players.len(),
                    log: Some(log),
                    log_kept: true,
                };
                return Some((dealing, Vec::new()));
            }
            Resume::Seed(stored) => (stored.seed, Some(stored.commitment)),
            Resume::New => {
                let mut seed = zeroize::Zeroizing::new([0u8; 32]);
                self.rng.fill_bytes(seed.as_mut());
                (seed, None)
            }
        };
        // commonware's dealer draws its polynomial from this generator
        // only: the same seed, share and round give the same dealing.
        let (dealer, public, private) = match dkg::start_dealer(
            &mut ChaCha20Rng::from_seed(*seed),
            info,
            self.identity.clone(),
            share,
        ) {
            Ok(started) => started,
            Err(error) => {
                tracing::error!(round = number, %error, "cannot deal");
                return None;
            }
        };
        let digest = dkg::commitment_digest(&public);
        match (recorded, &self.store) {
            (Some(recorded), _) if recorded != digest => {
                tracing::error!(
                    round = number,
                    "the dealing re-created after a restart is not the one recorded (another share?): not dealing in the round"
                );
                return None;
            }
            (Some(_), _) => tracing::info!(
                round = number,
                "the dealing sent before a restart is re-created and sent again"
            ),
            (None, Some(store)) => {
                // Before any share leaves: a restart then re-creates this
                // dealing rather than making a second one (which every
                // player that kept the first would refuse).
                if let Err(error) = store.save_dealer(number, &seed, &digest) {
                    tracing::error!(
                        round = number,
                        %error,
                        "cannot record this validator's dealing: not dealing in the round"
                    );
                    return None;
                }
            }
            (None, None) => {}
        }
        let messages = private
            .into_iter()
            .map(|(player, private)| {
                let message = DkgMessage::Dealing {
                    round: number,
                    public: public.clone(),
                    private,
                };
                (player, message)
            })
            .collect();
        let dealing = Dealing {
            dealer: Some(dealer),
            acked: BTreeSet::new(),
            players: round.players.len(),
            log: None,
            log_kept: false,
        };
        Some((dealing, messages))
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
            None => (None, Given::new()),
        };
        let mut dealing = None;
        let mut to_self = None;
        // A dealer whose log the ledger has has nothing left to do.
        let logged = round.logs.iter().any(|(dealer, _)| *dealer == self.wallet);
        if round.dealers.contains(&self.wallet)
            && !logged
            && let Some(share) = share
            && previous.index_of(&self.me) == Some(share.index())
            && let Some((started, messages)) = self.start_dealing(&info, round, share)
        {
            dealing = Some(started);
            for (player, message) in messages {
                if player == self.me {
                    to_self = Some(message);
                } else {
                    (self.send)(&player, message.encode());
                }
            }
        }
        self.active = Some(Active {
            round: round.clone(),
            info,
            dealing,
            player,
            given: restored.clone(),
        });
        // The acknowledgements of restored dealings, again, to the dealers
        // still collecting them (one lost when this validator stopped would
        // make its dealer reveal the dealing). Its own dealer, if it deals
        // again, has its acknowledgement when it hands itself its dealing.
        for (dealer, (_, ack)) in restored {
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
        // Durable before submitted: a restarted dealer submits these bytes
        // again and signs no other log. A failed write is tried again at
        // the next block; until it succeeds the log goes nowhere.
        if !dealing.log_kept {
            if let Some(store) = &self.store
                && let Err(error) = store.save_log(round.round, &log)
            {
                tracing::error!(
                    round = round.round,
                    %error,
                    "cannot persist this validator's signed dealer log: not submitting it yet (tried again at the next block)"
                );
                return None;
            }
            dealing.log_kept = true;
        }
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

#[cfg(test)]
mod tests {
    use chacha20::rand_core::{Rng as _, SeedableRng as _};

    /// A dealer file written when dealings were drawn from rand_chacha's
    /// generator re-creates the same dealing now: the two generators give
    /// the same stream, however it is drawn.
    #[test]
    fn the_dealer_generator_draws_rand_chachas_stream() {
        let seeds: [[u8; 32]; 3] = [[0; 32], [0x5a; 32], std::array::from_fn(|i| i as u8)];
        for seed in seeds {
            let mut ours = super::ChaCha20Rng::from_seed(seed);
            let mut theirs = rand_chacha::ChaCha20Rng::from_seed(seed);
            for len in [1usize, 7, 32, 64, 255, 1_000, 4_099] {
                let (mut a, mut b) = (vec![0u8; len], vec![0u8; len]);
                ours.fill_bytes(&mut a);
                theirs.fill_bytes(&mut b);
                assert_eq!(a, b, "seed {seed:?}, {len} bytes");
                assert_eq!(ours.next_u32(), theirs.next_u32());
                assert_eq!(ours.next_u64(), theirs.next_u64());
            }
        }
    }
}
