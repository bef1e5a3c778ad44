//! Beacon keys without a dealer: the Feldman–Desmedt DKG and resharing of
//! commonware (Joint-Feldman for a new key, Desmedt resharing to move a key
//! to a new validator set).
//!
//! ## A round
//!
//! Every dealer picks a random polynomial of degree `t − 1` (for a reshare,
//! with its old share as constant term), broadcasts the commitment and
//! sends each player its evaluation privately; a player checks its
//! evaluation against the commitment and acknowledges it with a signature;
//! each dealer then publishes a signed log of its commitment with, for
//! every player, the ack or — if it got none — the evaluation in the clear
//! (a *reveal*). With the logs of at least a quorum of dealers, every
//! player and every observer computes the same public output (the sum of
//! the commitments, or for a reshare their Lagrange interpolation, which
//! keeps the constant term: the group key), and each player its share.
//! Nobody ever holds the secret key.
//!
//! Participants are identified by commonware ed25519 keys (the validators'
//! network identities); share `i` goes to the `i`-th player in **byte
//! order of those keys**, not in the order given. Every round is bound to
//! [`DKG_NAMESPACE`], its round number, the previous output, and the dealer
//! and player sets ([`round_info`]), so messages of one round are
//! worthless in another.
//!
//! ## What this module offers
//!
//! - [`run_dkg`] and [`run_reshare`]: a whole round in one process, every
//!   message delivered at once. Tests and tools use them.
//! - The chain-driven resharing drives the same commonware state machines
//!   with messages carried by the validator network and logs recorded in
//!   blocks: [`genesis_output`] (the output standing for a genesis
//!   sharing), [`round_info`], [`start_dealer`], [`new_player`],
//!   [`receive_dealing`], [`finalize_dealer`], [`DkgMessage`] (the wire
//!   format of dealings and acks), [`decode_log`] and [`check_log`] (a dealer
//!   log from a transaction, bounded and canonical), [`observe_logs`] (the
//!   ledger's output, with verification randomness no dealer could know)
//!   and [`finalize_player`] (a player's share from the recorded logs). See
//!   [`crate::ledger::reshare`] and [`crate::validator::Resharer`].
//! - [`deal`]: the testnet dealer with player identities, so a chain that
//!   started with a dealer can reshare to a DKG-held key at its first epoch
//!   change.
//!
//! ## Caveats (from commonware's documentation, and ours)
//!
//! - Shares are sent privately and must be authenticated; reveals make a
//!   player's share public. Under synchrony at most `f` shares are revealed
//!   and none of honest players; a partitioned network can reveal more.
//!   [`DkgOutput::revealed`] lists players whose shares may be public.
//! - Resharing keeps the secret. Old shares stay valid shares of it, so a
//!   threshold of the *old* set can still sign after the reshare; validators
//!   erase their old beacon share once the new epoch starts (the validator
//!   application drops it), but proactive security depends on every former
//!   holder doing so, and a threshold of former validators colluding
//!   defeats it. While the consensus engine still signs votes with the
//!   genesis shares (see [`crate::engine`]), those are shares of the same
//!   secret too: there is no proactive security until the engine follows
//!   epochs.
//! - A dealer log's size grows with the player set (193 bytes a player);
//!   a log travels in one transaction, so rounds are limited to
//!   [`max_reshare_players`] players, which the transaction bound makes
//!   every set the genesis allows.
//! - Joint-Feldman lets an adversary bias the group key by a few bits; for
//!   BLS signatures this does not weaken security.

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use commonware_codec::{Copying, Decode, Encode, FixedSize, Read};
use commonware_cryptography::Signer;
use commonware_cryptography::bls12381::dkg::feldman_desmedt::{
    self, Dealer, DealerPrivMsg, Info, Logs, Output, Player, Reveal,
};
use commonware_cryptography::bls12381::primitives::group::Share;
use commonware_cryptography::bls12381::primitives::sharing::{Mode, ModeVersion};
use commonware_parallel::Sequential;
use commonware_utils::{N3f1, TryCollect, ordered::Set};
use rand_chacha::rand_core::CryptoRng;
use rand_chacha::rand_core::SeedableRng;

pub use commonware_cryptography::ed25519::{PrivateKey, PublicKey};

use super::keys::dealer_rng;
use super::{BeaconError, GroupKey, MAX_PARTICIPANTS, PublicSharing, SecretShare, V};

/// The namespace of every DKG and resharing round of the chain.
pub const DKG_NAMESPACE: &[u8] = b"BITCRAPS_DKG_V1";

/// The public result of a DKG, reshare or identity-aware deal: the public
/// sharing and who holds which share. Keep it: the next reshare needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DkgOutput {
    output: Output<V, PublicKey>,
    sharing: PublicSharing,
}

impl DkgOutput {
    /// Wraps a commonware output (from `Player::finalize` or `observe`),
    /// checking its sharing.
    pub fn from_output(output: Output<V, PublicKey>) -> Result<DkgOutput, BeaconError> {
        let sharing = PublicSharing::from_sharing(output.public().clone())?;
        if sharing.participants() as usize != output.players().len() {
            return Err(BeaconError::InvalidKeys {
                reason: "the sharing and the player set differ in size".into(),
            });
        }
        Ok(DkgOutput { output, sharing })
    }

    /// The commonware output.
    pub const fn output(&self) -> &Output<V, PublicKey> {
        &self.output
    }

    /// The public sharing.
    pub const fn sharing(&self) -> &PublicSharing {
        &self.sharing
    }

    /// The group key.
    pub const fn group_key(&self) -> &GroupKey {
        self.sharing.group_key()
    }

    /// The players, in share-index order.
    pub fn players(&self) -> Vec<PublicKey> {
        self.output.players().iter().cloned().collect()
    }

    /// The share index of `player`, if it holds one.
    pub fn index_of(&self, player: &PublicKey) -> Option<u32> {
        self.output
            .players()
            .position(player)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// The dealers whose dealings make up the key.
    pub fn dealers(&self) -> Vec<PublicKey> {
        self.output.dealers().iter().cloned().collect()
    }

    /// Players whose shares were revealed by enough dealers to be public:
    /// treat them as known to the adversary.
    pub fn revealed(&self) -> Vec<PublicKey> {
        self.output.revealed().iter().cloned().collect()
    }

    /// The largest encoding for [`MAX_PARTICIPANTS`].
    pub fn max_encoded_length() -> usize {
        Output::<V, PublicKey>::max_encode_size(max_participants())
    }

    /// The canonical encoding (commonware's).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.output.encode().to_vec()
    }

    /// Decodes [`DkgOutput::to_bytes`], bounded before decoding, canonical.
    pub fn from_bytes(bytes: &[u8]) -> Result<DkgOutput, BeaconError> {
        const WHAT: &str = "DKG output";
        let max = DkgOutput::max_encoded_length();
        if bytes.len() > max {
            return Err(BeaconError::TooLarge {
                what: WHAT,
                len: bytes.len(),
                max,
            });
        }
        let output = Output::<V, PublicKey>::decode_cfg(
            Copying(bytes),
            &(max_participants(), ModeVersion::v0()),
        )
        .map_err(|e| BeaconError::Malformed {
            what: WHAT,
            reason: e.to_string(),
        })?;
        if output.encode().as_ref() != bytes {
            return Err(BeaconError::Malformed {
                what: WHAT,
                reason: "not canonically encoded".into(),
            });
        }
        DkgOutput::from_output(output)
    }
}

/// A finished round: the public output and every share handed out, by
/// player.
#[derive(Debug)]
pub struct DkgResult {
    /// The public output.
    pub output: DkgOutput,
    /// Each player that finished and its share, in share-index order.
    pub shares: Vec<(PublicKey, SecretShare)>,
}

impl DkgResult {
    /// The share of `player`, if it finished.
    pub fn share_of(&self, player: &PublicKey) -> Option<&SecretShare> {
        self.shares
            .iter()
            .find(|(p, _)| p == player)
            .map(|(_, share)| share)
    }
}

/// Wraps a share from commonware's `Player::finalize`.
pub fn secret_share(share: Share) -> SecretShare {
    SecretShare::new(share)
}

pub(crate) fn max_participants() -> NonZeroU32 {
    NonZeroU32::new(MAX_PARTICIPANTS).expect("MAX_PARTICIPANTS is not zero")
}

fn dkg_error(reason: impl std::fmt::Display) -> BeaconError {
    BeaconError::Dkg {
        reason: reason.to_string(),
    }
}

fn set_of(
    keys: impl IntoIterator<Item = PublicKey>,
    what: &str,
) -> Result<Set<PublicKey>, BeaconError> {
    let keys: Vec<PublicKey> = keys.into_iter().collect();
    if keys.is_empty() || keys.len() > MAX_PARTICIPANTS as usize {
        return Err(dkg_error(format!(
            "{} {what}: a round needs 1 to {MAX_PARTICIPANTS}",
            keys.len()
        )));
    }
    keys.into_iter()
        .try_collect()
        .map_err(|_| dkg_error(format!("a key is listed twice among the {what}")))
}

/// The commonware round description every participant of round `round`
/// must build identically: [`DKG_NAMESPACE`], counter mode, contributor-
/// aware reveals (`Reveal::V1`), the `N3f1` fault model (`t = quorum(n)`),
/// the previous output for a reshare (`None` for a new key), and the
/// dealer and player sets (order does not matter; repeats are refused).
/// For a reshare the dealers must be previous players, at least a quorum
/// of them.
pub fn round_info(
    round: u64,
    previous: Option<&DkgOutput>,
    dealers: &[PublicKey],
    players: &[PublicKey],
) -> Result<Info<V, PublicKey>, BeaconError> {
    let dealers = set_of(dealers.iter().cloned(), "dealers")?;
    let players = set_of(players.iter().cloned(), "players")?;
    Info::new::<N3f1>(
        DKG_NAMESPACE,
        round,
        previous.map(|p| p.output.clone()),
        Mode::NonZeroCounter,
        Reveal::V1,
        dealers,
        players,
    )
    .map_err(dkg_error)
}

/// Ways to misbehave in an in-process round (for tests of the DKG's fault
/// handling).
#[derive(Default)]
pub(crate) struct Faults {
    /// Players that never answer a dealer and never finish.
    pub(crate) offline_players: Vec<PublicKey>,
    /// `(dealer, player)`: the dealer sends the player another player's
    /// evaluation, which the player refuses.
    pub(crate) corrupt_dealings: Vec<(PublicKey, PublicKey)>,
    /// Dealers that deal but never publish their log.
    pub(crate) silent_dealers: Vec<PublicKey>,
}

/// Runs one round in this process: every dealer deals to every player,
/// players acknowledge, dealers publish logs, players finish; then checks
/// that every player and an outside observer computed the same output.
fn run_round<R: CryptoRng>(
    info: Info<V, PublicKey>,
    dealers: Vec<(PrivateKey, Option<Share>)>,
    players: &[PrivateKey],
    rng: &mut R,
    faults: &Faults,
) -> Result<DkgResult, BeaconError> {
    let mut online: BTreeMap<PublicKey, Player<V, PrivateKey>> = BTreeMap::new();
    for key in players {
        let public = key.public_key();
        if faults.offline_players.contains(&public) {
            continue;
        }
        let player = Player::<V, PrivateKey>::new(info.clone(), key.clone()).map_err(dkg_error)?;
        online.insert(public, player);
    }
    let mut logs = Logs::<V, PublicKey, N3f1>::new(info.clone());
    for (dealer_key, previous_share) in dealers {
        let dealer_public = dealer_key.public_key();
        let (mut dealer, public_message, private_messages) =
            Dealer::<V, PrivateKey>::start::<N3f1>(
                &mut *rng,
                info.clone(),
                dealer_key,
                previous_share,
            )
            .map_err(dkg_error)?;
        let by_player: BTreeMap<PublicKey, DealerPrivMsg> =
            private_messages.iter().cloned().collect();
        for (player_public, private_message) in private_messages {
            let Some(player) = online.get_mut(&player_public) else {
                continue;
            };
            let private_message = if faults
                .corrupt_dealings
                .contains(&(dealer_public.clone(), player_public.clone()))
            {
                // Another player's evaluation: valid-looking, but wrong here.
                by_player
                    .iter()
                    .find(|(other, _)| **other != player_public)
                    .map(|(_, m)| m.clone())
                    .unwrap_or(private_message)
            } else {
                private_message
            };
            // A refused dealing gets no ack, so the dealer must reveal it.
            if let Ok(Some(ack)) = player.dealer_message::<N3f1>(
                dealer_public.clone(),
                public_message.clone(),
                private_message,
            ) {
                dealer
                    .receive_player_ack(player_public.clone(), ack)
                    .map_err(dkg_error)?;
            }
        }
        if faults.silent_dealers.contains(&dealer_public) {
            continue;
        }
        let signed_log = dealer.finalize::<N3f1>();
        if let Some((dealer, log)) = signed_log.check(&info) {
            logs.record(dealer, log);
        }
    }
    let observed =
        feldman_desmedt::observe::<V, PublicKey, N3f1>(&mut *rng, logs.clone(), &Sequential)
            .map_err(dkg_error)?;
    let mut shares = Vec::new();
    for (public, player) in online {
        let (output, share) = player
            .finalize::<N3f1>(&mut *rng, logs.clone(), &Sequential)
            .map_err(dkg_error)?;
        if output != observed {
            return Err(dkg_error(
                "a player computed another output than the observer",
            ));
        }
        shares.push((public, SecretShare::new(share)));
    }
    let output = DkgOutput::from_output(observed)?;
    shares.sort_by_key(|(public, _)| output.index_of(public));
    for (_, share) in &shares {
        if !output.sharing().holds(share) {
            return Err(dkg_error("a player's share does not match the output"));
        }
    }
    Ok(DkgResult { output, shares })
}

/// A new beacon key among `players`, each also a dealer, in this process
/// (every message delivered at once). `round` must increase from round to
/// round, failed ones included. `rng` must be a cryptographic generator
/// (each real dealer uses its own).
pub fn run_dkg<R: CryptoRng>(
    round: u64,
    players: &[PrivateKey],
    rng: &mut R,
) -> Result<DkgResult, BeaconError> {
    run_dkg_with(round, players, rng, &Faults::default())
}

pub(crate) fn run_dkg_with<R: CryptoRng>(
    round: u64,
    players: &[PrivateKey],
    rng: &mut R,
    faults: &Faults,
) -> Result<DkgResult, BeaconError> {
    let publics: Vec<PublicKey> = players.iter().map(Signer::public_key).collect();
    let info = round_info(round, None, &publics, &publics)?;
    let dealers = players.iter().map(|key| (key.clone(), None)).collect();
    run_round(info, dealers, players, rng, faults)
}

/// Moves the key of `previous` to `players` (new, continuing or not) in
/// this process: `dealers` are previous players with their old shares (at
/// least a quorum of the previous set). The group key is unchanged; the
/// new shares are fresh and need `quorum(players)` of the new set.
pub fn run_reshare<R: CryptoRng>(
    round: u64,
    previous: &DkgOutput,
    dealers: &[(PrivateKey, &SecretShare)],
    players: &[PrivateKey],
    rng: &mut R,
) -> Result<DkgResult, BeaconError> {
    run_reshare_with(round, previous, dealers, players, rng, &Faults::default())
}

pub(crate) fn run_reshare_with<R: CryptoRng>(
    round: u64,
    previous: &DkgOutput,
    dealers: &[(PrivateKey, &SecretShare)],
    players: &[PrivateKey],
    rng: &mut R,
    faults: &Faults,
) -> Result<DkgResult, BeaconError> {
    let dealer_publics: Vec<PublicKey> = dealers.iter().map(|(k, _)| k.public_key()).collect();
    let player_publics: Vec<PublicKey> = players.iter().map(Signer::public_key).collect();
    for (key, share) in dealers {
        if previous.index_of(&key.public_key()) != Some(share.index()) {
            return Err(dkg_error(
                "a dealer's old share is not the one the previous output gives it",
            ));
        }
    }
    let info = round_info(round, Some(previous), &dealer_publics, &player_publics)?;
    let dealers = dealers
        .iter()
        .map(|(key, share)| (key.clone(), Some(share.share().clone())))
        .collect();
    let result = run_round(info, dealers, players, rng, faults)?;
    if result.output.group_key() != previous.group_key() {
        return Err(dkg_error("the reshare changed the group key"));
    }
    Ok(result)
}

/// **Testnet shortcut:** a trusted dealer's keys for `players`
/// (deterministic from `seed`, like [`super::dealer_keys`], and with the
/// same warning), as a [`DkgOutput`] that later epochs can reshare from.
pub fn deal(players: &[PublicKey], seed: &[u8; 32]) -> Result<DkgResult, BeaconError> {
    let set = set_of(players.iter().cloned(), "players")?;
    let (output, shares) =
        feldman_desmedt::deal::<V, PublicKey, N3f1>(dealer_rng(seed), Mode::NonZeroCounter, set)
            .map_err(dkg_error)?;
    let output = DkgOutput::from_output(output)?;
    let shares = shares
        .iter_pairs()
        .map(|(public, share)| (public.clone(), SecretShare::new(share.clone())))
        .collect();
    Ok(DkgResult { output, shares })
}

// --- The chain-driven pieces ------------------------------------------------
//
// A resharing round run through the chain (see `crate::ledger::reshare` for
// the ledger's side and `crate::validator` for the validators'): the
// dealings and acknowledgements travel over the validator network as
// [`DkgMessage`]s, the signed dealer logs are recorded in blocks, and the
// ledger computes the output with [`observe_logs`]; each player derives its
// share from the same logs with commonware's `Player::finalize`.

/// The BLAKE3 key-derivation context of the summary of the output that
/// stands for a genesis `beacon_sharing` ([`genesis_output`]).
const GENESIS_OUTPUT_CONTEXT: &str = "bitcraps v1 genesis beacon dkg output";

/// The BLAKE3 key-derivation context of the seed of the verification
/// randomness of [`observe_logs`].
const OBSERVE_SEED_CONTEXT: &str = "bitcraps v1 resharing observe seed";

/// The output that stands for a genesis `beacon_sharing` held by
/// `players` (the genesis validators' identities): so the first resharing
/// has a previous output to build its round on. Its summary is derived
/// from `chain_id` (the genesis hash), its dealers are its players, and
/// nothing is revealed. Every node builds the same bytes from the genesis.
pub fn genesis_output(
    sharing: &PublicSharing,
    players: &[PublicKey],
    chain_id: &[u8; 32],
) -> Result<DkgOutput, BeaconError> {
    let set = set_of(players.iter().cloned(), "players")?;
    if set.len() != sharing.participants() as usize {
        return Err(dkg_error(format!(
            "{} players for a sharing of {}",
            set.len(),
            sharing.participants()
        )));
    }
    // commonware's `Output` has no public constructor: its encoding is
    // summary ‖ sharing ‖ dealers ‖ players ‖ revealed, which is decoded
    // (and so checked) like any stored output.
    let mut bytes = blake3::derive_key(GENESIS_OUTPUT_CONTEXT, chain_id).to_vec();
    bytes.extend_from_slice(&sharing.sharing().encode());
    bytes.extend_from_slice(&set.encode());
    bytes.extend_from_slice(&set.encode());
    bytes.extend_from_slice(&Set::<PublicKey>::default().encode());
    DkgOutput::from_bytes(&bytes)
}

/// A round's commonware description ([`round_info`]).
pub type RoundInfo = Info<V, PublicKey>;

/// A signed dealer log, as carried by a dealer-log transaction.
pub type SignedLog = feldman_desmedt::SignedDealerLog<V, PublicKey>;

/// The largest player set whose signed dealer logs always fit
/// [`crate::tx::MAX_DEALER_LOG_BYTES`]: the ledger opens no resharing round
/// with more players.
pub fn max_reshare_players() -> u32 {
    (1..=MAX_PARTICIPANTS)
        .take_while(|n| {
            NonZeroU32::new(*n)
                .is_some_and(|n| SignedLog::max_encode_size(n) <= crate::tx::MAX_DEALER_LOG_BYTES)
        })
        .last()
        .unwrap_or(0)
}

/// Decodes a signed dealer log: bounded by [`crate::tx::MAX_DEALER_LOG_BYTES`]
/// before decoding, canonical. Its signature is checked by [`check_log`].
pub fn decode_log(bytes: &[u8]) -> Result<SignedLog, BeaconError> {
    const WHAT: &str = "dealer log";
    let max = crate::tx::MAX_DEALER_LOG_BYTES;
    if bytes.len() > max {
        return Err(BeaconError::TooLarge {
            what: WHAT,
            len: bytes.len(),
            max,
        });
    }
    let log = SignedLog::decode_cfg(Copying(bytes), &max_participants()).map_err(|e| {
        BeaconError::Malformed {
            what: WHAT,
            reason: e.to_string(),
        }
    })?;
    if log.encode().as_ref() != bytes {
        return Err(BeaconError::Malformed {
            what: WHAT,
            reason: "not canonically encoded".into(),
        });
    }
    Ok(log)
}

/// Checks `log`'s signature for the round `info` and that its dealer is
/// `dealer`; returns the log.
pub fn check_log(
    info: &Info<V, PublicKey>,
    log: SignedLog,
    dealer: &PublicKey,
) -> Result<feldman_desmedt::DealerLog<V, PublicKey>, BeaconError> {
    match log.check(info) {
        Some((signer, log)) if signer == *dealer => Ok(log),
        Some(_) => Err(dkg_error("the log is signed by another dealer")),
        None => Err(dkg_error("the log is not signed for this round")),
    }
}

/// The round's logs, checked, in commonware's collection.
pub fn collect_logs(
    info: &Info<V, PublicKey>,
    logs: &[(PublicKey, Vec<u8>)],
) -> Result<Logs<V, PublicKey, N3f1>, BeaconError> {
    let mut collected = Logs::<V, PublicKey, N3f1>::new(info.clone());
    for (dealer, bytes) in logs {
        let log = check_log(info, decode_log(bytes)?, dealer)?;
        collected.record(dealer.clone(), log);
    }
    Ok(collected)
}

/// What every node computes from a round's recorded logs: commonware's
/// `observe`, its verification randomness seeded with `seed` (which the
/// ledger derives from the block that closes the round, so no dealer
/// knew it when it signed its log: batch verification with randomness a
/// dealer could predict could be fooled). The output must keep the group
/// key of `previous`.
pub fn observe_logs(
    info: &Info<V, PublicKey>,
    previous: &DkgOutput,
    logs: &[(PublicKey, Vec<u8>)],
    seed: &[u8; 32],
) -> Result<DkgOutput, BeaconError> {
    let collected = collect_logs(info, logs)?;
    let mut rng =
        rand_chacha::ChaCha20Rng::from_seed(blake3::derive_key(OBSERVE_SEED_CONTEXT, seed));
    let output = feldman_desmedt::observe::<V, PublicKey, N3f1>(&mut rng, collected, &Sequential)
        .map_err(dkg_error)?;
    let output = DkgOutput::from_output(output)?;
    if output.group_key() != previous.group_key() {
        return Err(dkg_error("the reshare changed the group key"));
    }
    Ok(output)
}

/// A player's share from the round's recorded logs (the same logs the
/// ledger observed), checked against the ledger's `expected` output.
pub fn finalize_player<R: CryptoRng>(
    player: Player<V, PrivateKey>,
    info: &Info<V, PublicKey>,
    logs: &[(PublicKey, Vec<u8>)],
    expected: &DkgOutput,
    rng: &mut R,
) -> Result<SecretShare, BeaconError> {
    let collected = collect_logs(info, logs)?;
    let (output, share) = player
        .finalize::<N3f1>(rng, collected, &Sequential)
        .map_err(dkg_error)?;
    if output != *expected.output() {
        return Err(dkg_error("the logs give another output than the ledger's"));
    }
    let share = SecretShare::new(share);
    if !expected.sharing().holds(&share) {
        return Err(dkg_error("the derived share does not match the output"));
    }
    Ok(share)
}

/// A message of a resharing round on the validator network (the DKG
/// channel, authenticated: the sender is the peer's identity).
///
/// Encoding: a tag byte (0 dealing, 1 ack), the round (`u64`
/// little-endian), then commonware's encodings of the parts. Decoded with
/// [`DkgMessage::decode`], bounded by [`DkgMessage::max_encoded_length`]
/// first, canonical.
#[derive(Clone, Debug)]
pub enum DkgMessage {
    /// Dealer → player: the dealer's public commitment and the player's
    /// private evaluation. Sent only to that player (it must stay private).
    Dealing {
        /// The round.
        round: u64,
        /// The commitment.
        public: feldman_desmedt::DealerPubMsg<V>,
        /// The player's evaluation.
        private: DealerPrivMsg,
    },
    /// Player → dealer: the signed acknowledgement of a valid dealing.
    Ack {
        /// The round.
        round: u64,
        /// The acknowledgement.
        ack: feldman_desmedt::PlayerAck<PublicKey>,
    },
}

impl DkgMessage {
    /// The largest encoding for [`MAX_PARTICIPANTS`] players.
    pub fn max_encoded_length() -> usize {
        let dealing = feldman_desmedt::DealerPubMsg::<V>::max_encode_size(max_participants())
            + DealerPrivMsg::SIZE;
        1 + 8 + dealing.max(feldman_desmedt::PlayerAck::<PublicKey>::SIZE)
    }

    /// The round the message belongs to.
    pub const fn round(&self) -> u64 {
        match self {
            DkgMessage::Dealing { round, .. } | DkgMessage::Ack { round, .. } => *round,
        }
    }

    /// The encoding (see the type's documentation).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            DkgMessage::Dealing {
                round,
                public,
                private,
            } => {
                out.push(0);
                out.extend_from_slice(&round.to_le_bytes());
                out.extend_from_slice(&public.encode());
                out.extend_from_slice(&private.encode());
            }
            DkgMessage::Ack { round, ack } => {
                out.push(1);
                out.extend_from_slice(&round.to_le_bytes());
                out.extend_from_slice(&ack.encode());
            }
        }
        out
    }

    /// Decodes [`DkgMessage::encode`] from the network; never panics.
    pub fn decode(bytes: &[u8]) -> Result<DkgMessage, BeaconError> {
        const WHAT: &str = "DKG message";
        let max = DkgMessage::max_encoded_length();
        if bytes.len() > max {
            return Err(BeaconError::TooLarge {
                what: WHAT,
                len: bytes.len(),
                max,
            });
        }
        let malformed = |reason: String| BeaconError::Malformed { what: WHAT, reason };
        let (&tag, rest) = bytes
            .split_first()
            .ok_or_else(|| malformed("empty".into()))?;
        let (round, rest) = rest
            .split_first_chunk::<8>()
            .map(|(r, rest)| (u64::from_le_bytes(*r), rest))
            .ok_or_else(|| malformed("no round".into()))?;
        let mut rest = Copying(rest);
        let message = match tag {
            0 => {
                let public =
                    feldman_desmedt::DealerPubMsg::<V>::read_cfg(&mut rest, &max_participants())
                        .map_err(|e| malformed(e.to_string()))?;
                let private = DealerPrivMsg::read_cfg(&mut rest, &())
                    .map_err(|e| malformed(e.to_string()))?;
                DkgMessage::Dealing {
                    round,
                    public,
                    private,
                }
            }
            1 => {
                let ack = feldman_desmedt::PlayerAck::<PublicKey>::read_cfg(&mut rest, &())
                    .map_err(|e| malformed(e.to_string()))?;
                DkgMessage::Ack { round, ack }
            }
            other => return Err(malformed(format!("unknown tag {other}"))),
        };
        if !rest.0.is_empty() {
            return Err(malformed("trailing bytes".into()));
        }
        // Canonical: the one encoding of what was read.
        if message.encode() != bytes {
            return Err(malformed("not canonically encoded".into()));
        }
        Ok(message)
    }
}

/// A dealer of a chain-driven round (commonware's state machine).
pub type RoundDealer = Dealer<V, PrivateKey>;

/// A player of a chain-driven round (commonware's state machine).
pub type RoundPlayer = Player<V, PrivateKey>;

/// A dealer's public commitment.
pub type DealerPublic = feldman_desmedt::DealerPubMsg<V>;

/// A dealer's private dealing to one player (its evaluation of the
/// dealer's polynomial at the player's index: a secret).
pub type DealerPrivate = DealerPrivMsg;

/// A player's acknowledgement of a dealing.
pub type PlayerAck = feldman_desmedt::PlayerAck<PublicKey>;

/// The BLAKE3 key-derivation context of [`commitment_digest`].
const COMMITMENT_DIGEST_CONTEXT: &str = "bitcraps v1 resharing dealer commitment";

/// A digest of a dealer's commitment: which dealing of a round a player
/// acknowledged (an acknowledgement signs the commitment, and a commitment
/// fixes each player's valid evaluation), or a restarted dealer re-created.
pub fn commitment_digest(public: &DealerPublic) -> [u8; 32] {
    blake3::derive_key(COMMITMENT_DIGEST_CONTEXT, &public.encode())
}

/// What a dealer starts a round with: its state machine, its public
/// commitment, and each player's private dealing.
pub type DealerStart = (RoundDealer, DealerPublic, Vec<(PublicKey, DealerPrivMsg)>);

/// Starts dealing `share` (the dealer's share of the previous output) in
/// round `info`. `rng` must be a cryptographic generator: it draws the
/// dealer's random polynomial, whose secrecy protects the new shares.
pub fn start_dealer<R: CryptoRng>(
    rng: &mut R,
    info: &RoundInfo,
    key: PrivateKey,
    share: &SecretShare,
) -> Result<DealerStart, BeaconError> {
    let (dealer, public, private) =
        RoundDealer::start::<N3f1>(rng, info.clone(), key, Some(share.share().clone()))
            .map_err(dkg_error)?;
    Ok((dealer, public, private.into_iter().collect()))
}

/// A player of round `info` with identity `key` (`Err` if it is not one).
pub fn new_player(info: &RoundInfo, key: PrivateKey) -> Result<RoundPlayer, BeaconError> {
    RoundPlayer::new(info.clone(), key).map_err(dkg_error)
}

/// A player's answer to a dealing: its acknowledgement if the dealing is
/// valid and new, `None` for a repeat, an error for a bad dealing (never
/// acknowledged: the dealer must then reveal it in its log).
pub fn receive_dealing(
    player: &mut RoundPlayer,
    dealer: PublicKey,
    public: DealerPublic,
    private: DealerPrivMsg,
) -> Result<Option<feldman_desmedt::PlayerAck<PublicKey>>, BeaconError> {
    player
        .dealer_message::<N3f1>(dealer, public, private)
        .map_err(dkg_error)
}

/// A dealer's signed log, encoded for a dealer-log transaction.
pub fn finalize_dealer(dealer: RoundDealer) -> Vec<u8> {
    dealer.finalize::<N3f1>().encode().to_vec()
}

/// Whether `dealer`'s recorded `log` of round `info` (checked) lists
/// `player`'s acknowledgement: the player then needs that dealer's dealing
/// to derive its share should the log be among those the output uses.
pub fn log_acknowledges(
    info: &RoundInfo,
    dealer: &PublicKey,
    log: &[u8],
    player: &PublicKey,
) -> Result<bool, BeaconError> {
    let log = check_log(info, decode_log(log)?, dealer)?;
    Ok(match log.summary() {
        feldman_desmedt::DealerLogSummary::Ok { acks, .. } => acks.position(player).is_some(),
        _ => false,
    })
}
