//! # The validator core on real sockets
//!
//! [`start`] runs a validator next to the node's daemon: the BFT engine
//! ([`consensus::engine`]) with the [`ValidatorApp`] over the node's shared
//! ledger, talking to the other validators over commonware's authenticated
//! `lookup` network (ed25519 identities, encrypted and authenticated
//! streams, peers and addresses from the genesis). The engine runs on its
//! own commonware tokio runtime in a dedicated thread, with its journals
//! and archives under `<data_dir>/consensus`; the daemon's tokio runtime
//! (API, libp2p) is untouched.
//!
//! Channels of the validator network: the engine's five
//! ([`consensus::engine::channel`]), [`SHARES_CHANNEL`] for the
//! post-finality beacon shares and [`DKG_CHANNEL`] for resharing rounds
//! (each dealer's private dealings to the players, point to point, and the
//! players' acknowledgements; see `consensus::validator::Resharer`). A received share goes into the
//! [`BeaconPool`], which verifies it and keeps evidence of bad ones. Every
//! channel is wrapped in [`CutSender`]/[`CutReceiver`], which drop the
//! peers of a [`ValidatorCut`] (empty unless fault injection partitions
//! the node, see [`crate::partition`]).
//!
//! The key file ([`ValidatorKeyFile`]) holds the validator's ed25519
//! identity and, for a genesis validator, its threshold share of
//! `beacon_sharing`; it is written with mode 0600. It must match the
//! genesis: an identity that is one of the genesis validators needs that
//! validator's share, any other identity must come without one.
//!
//! **A newcomer** (an identity the genesis does not list, key file made
//! with [`ValidatorKeyFile::generate_newcomer`], e.g. by `bitcraps
//! validator new-key`) starts as a follower:
//! it runs the validator network and the engine without a share, so it
//! votes in no epoch until the ledger puts it in a set. Its operator
//! registers and stakes its account (`bitcraps validator register`, then
//! `stake`, signed with the same key); once the ledger chooses it for the
//! next set, the other validators dial it (their peer sets follow the
//! ledger), deal it its share of the resharing round, and from the round's
//! epoch it votes, leads and signs beacon shares (the deterministic
//! simulation's epochs test in `consensus::validator`, and over real
//! processes `tests/tests/testnet_epochs.rs`). Outside a set its engine
//! hears of finality only at epoch boundaries; the node's libp2p follower,
//! which runs on validator nodes too, keeps its ledger current meanwhile
//! (see [`crate::follow`]), as for a validator that left the set.
//!
//! The genesis share serves the genesis sharing only: the shares resharing rounds give this
//! validator are persisted under `<data_dir>/beacon-shares`
//! ([`consensus::validator::ShareStore`]: one file per sharing, mode 0600,
//! written atomically, older sharings' files deleted once a newer share is
//! durable), and on start the share of the sharing in force is loaded from
//! there and checked against that sharing's public polynomial. A file that
//! is missing or fails the check is reported as an error and refused: the
//! validator then runs (and votes) but signs no beacon shares until a
//! later round gives it a share. The same directory holds the dealings
//! the validator accepted in a round still running
//! ([`consensus::validator::DealingStore`], wired by
//! `ValidatorApp::use_share_store`): each is written before it is
//! acknowledged, so a validator restarted during a round rebuilds its part
//! and still gets its share (or derives it after the restart, if it
//! stopped before the share was written); a round's dealings are deleted
//! once its share is durable.
//!
//! A testnet makes its validators with the dealer (the genesis must say
//! `dealer_beacon = true`): `consensus::engine::dealer_committee(n, seed)`,
//! then `Committee::genesis_validators(stake, addresses)` for the genesis's
//! `validators`, `Committee::beacon_sharing()` for its `beacon_sharing`,
//! and [`ValidatorKeyFile::write`] of `committee.validators[i]` for
//! validator `i`'s key file.
//!
//! This module must not decide anything: verdicts come from the ledger,
//! ordering from the engine.

use std::fs;
use std::io::Write as _;
use std::net::SocketAddr;
use std::num::{NonZeroU64, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use commonware_codec::{Copying, DecodeExt as _, Encode as _};
use commonware_cryptography::bls12381::primitives::group::Share;
use commonware_cryptography::{ChaCha20Poly1305, Signer as _, ed25519};
use commonware_p2p::authenticated::lookup;
use commonware_p2p::{Address, AddressableManager as _, Receiver as _, Recipients, Sender as _};
use commonware_runtime::{Clock as _, Quota, Runner as _, Spawner as _, Supervisor as _};
use commonware_stream::cups::{self, Cups};
use commonware_stream::sake::{self, Sake};
use commonware_utils::ordered::{Map, Set};
use commonware_utils::{NZU32, TryCollect as _};
use consensus::beacon::{BeaconAggregator, BeaconSigner};
use consensus::engine::{self, Channels, Config, ValidatorKeys, channel};
use consensus::genesis::Genesis;
use consensus::validator::{
    BeaconKeys, BeaconPool, FinalizedSink, Resharer, ShareStore, ShareStoreError, SharedLedger,
    TransactionSource, ValidatorApp,
};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use zeroize::{Zeroize as _, Zeroizing};

use crate::config::ValidatorConfig;
use crate::metrics::{EquivocationKind, Metrics};
use crate::partition::{CutReceiver, CutSender, ValidatorCut};

/// The validator network's channel for beacon shares (after the engine's
/// five).
pub const SHARES_CHANNEL: u64 = 5;

/// The validator network's channel for resharing rounds.
pub const DKG_CHANNEL: u64 = 6;

/// Resharing messages a peer may send per second (one dealing and one
/// acknowledgement per round, with room for repeats).
const DKG_PER_SECOND: u32 = 16;

/// Beacon shares a peer may send per second (one per finalized height that
/// waits for randomness, with room for catching up).
const SHARES_PER_SECOND: u32 = 256;

/// The directory under the data directory where resharing rounds' beacon
/// shares (and the dealings of a round running) are persisted.
pub const SHARES_DIR: &str = "beacon-shares";

/// The prefix of the validator network's namespace; the chain id follows.
const P2P_NAMESPACE_PREFIX: &[u8] = b"bitcraps-v1-validator-p2p-";

/// Why the validator could not start.
#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    /// The key file cannot be read or written.
    #[error("validator key file {path}: {reason}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The genesis cannot run validators.
    #[error("the genesis cannot run this validator: {0}")]
    Genesis(String),
    /// The engine refused its configuration.
    #[error("the consensus engine refused to start: {0}")]
    Engine(String),
    /// The validator thread could not be spawned.
    #[error("cannot start the validator thread: {0}")]
    Thread(#[from] std::io::Error),
    /// The directory of beacon shares cannot be created.
    #[error("the beacon share store: {0}")]
    Shares(#[from] ShareStoreError),
}

/// The validator key file (JSON): the ed25519 identity's 32-byte secret
/// and, for a genesis validator, its threshold share, both hex. A
/// newcomer's file has no `share` (files written before newcomers existed
/// always have one and read as before).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorKeyFile {
    /// The identity secret (RFC 8032 seed), hex.
    identity: String,
    /// The BLS12-381 genesis share (index and scalar), hex; absent for a
    /// validator that is not in the genesis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    share: Option<String>,
}

impl Drop for ValidatorKeyFile {
    fn drop(&mut self) {
        self.identity.zeroize();
        if let Some(share) = self.share.as_mut() {
            share.zeroize();
        }
    }
}

/// What a key file holds: the identity, and the genesis share if it is a
/// genesis validator's.
#[derive(Clone, Debug)]
pub struct KeyFileContents {
    /// The ed25519 identity.
    pub identity: ed25519::PrivateKey,
    /// The share of the genesis sharing (`None`: a newcomer).
    pub genesis_share: Option<Share>,
}

impl KeyFileContents {
    /// The identity as a wallet keypair (the same ed25519 key: it signs
    /// the validator's transactions and its beacon share envelopes).
    pub fn keypair(&self) -> wallet::Keypair {
        wallet_keypair(&self.identity)
    }
}

/// The largest key file read: a few hundred bytes of JSON.
const MAX_KEY_FILE_BYTES: u64 = 4096;

impl ValidatorKeyFile {
    /// Writes `keys` to `path` with mode 0600 (created or replaced).
    pub fn write(path: &Path, keys: &ValidatorKeys) -> Result<(), ValidatorError> {
        ValidatorKeyFile {
            identity: hex::encode(keys.identity.encode()),
            share: Some(hex::encode(keys.share.encode())),
        }
        .save(path, true)
    }

    /// Makes a newcomer's identity from the operating system's secure
    /// source and writes it to `path`, identity alone (its shares come
    /// from resharing rounds), mode 0600; refused if `path` exists (the
    /// file is created exclusively: a key file is never overwritten by a
    /// new identity). Returns the same key
    /// as a wallet keypair, which signs the validator's `register` and
    /// `stake` transactions.
    pub fn generate_newcomer(path: &Path) -> Result<wallet::Keypair, ValidatorError> {
        let error = |reason: String| ValidatorError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        let mut secret = Zeroizing::new([0u8; wallet::Keypair::SECRET_LENGTH]);
        getrandom::fill(&mut secret[..])
            .map_err(|e| error(format!("no secure randomness for a new identity: {e}")))?;
        let identity = ed25519::PrivateKey::decode(Copying(&secret[..]))
            .map_err(|e| error(format!("identity: {e}")))?;
        ValidatorKeyFile {
            identity: hex::encode(identity.encode()),
            share: None,
        }
        .save(path, false)?;
        Ok(wallet_keypair(&identity))
    }

    /// Writes the file with mode 0600, replacing an existing one only if
    /// `replace`.
    fn save(&self, path: &Path, replace: bool) -> Result<(), ValidatorError> {
        let error = |reason: String| ValidatorError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        let json =
            Zeroizing::new(serde_json::to_string_pretty(self).map_err(|e| error(e.to_string()))?);
        let mut options = fs::OpenOptions::new();
        if replace {
            options.write(true).create(true).truncate(true);
        } else {
            options.write(true).create_new(true);
        }
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(path).map_err(|e| {
            error(if e.kind() == std::io::ErrorKind::AlreadyExists {
                "already exists and was left untouched; choose another file".into()
            } else {
                e.to_string()
            })
        })?;
        out.write_all(json.as_bytes())
            .and_then(|()| out.sync_all())
            .map_err(|e| error(e.to_string()))
    }

    /// Reads the keys in `path` (at most 4 KiB, checked first): a genesis
    /// validator's, with a share.
    pub fn read(path: &Path) -> Result<ValidatorKeys, ValidatorError> {
        let contents = ValidatorKeyFile::read_contents(path)?;
        let share = contents
            .genesis_share
            .ok_or_else(|| ValidatorError::KeyFile {
                path: path.to_owned(),
                reason: "it holds no genesis share (a newcomer's key file)".into(),
            })?;
        Ok(ValidatorKeys {
            identity: contents.identity,
            share,
        })
    }

    /// Reads the identity and, if there is one, the genesis share in
    /// `path` (at most 4 KiB, checked first).
    pub fn read_contents(path: &Path) -> Result<KeyFileContents, ValidatorError> {
        let error = |reason: String| ValidatorError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        let len = fs::metadata(path).map_err(|e| error(e.to_string()))?.len();
        if len > MAX_KEY_FILE_BYTES {
            return Err(error(format!(
                "{len} bytes, over the {MAX_KEY_FILE_BYTES}-byte limit: not a key file"
            )));
        }
        let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| error(e.to_string()))?);
        let file: ValidatorKeyFile =
            serde_json::from_str(&text).map_err(|e| error(format!("not a key file: {e}")))?;
        let identity = Zeroizing::new(
            hex::decode(file.identity.as_bytes()).map_err(|e| error(format!("identity: {e}")))?,
        );
        let identity = ed25519::PrivateKey::decode(Copying(&identity[..]))
            .map_err(|e| error(format!("identity: {e}")))?;
        let genesis_share = match &file.share {
            None => None,
            Some(share) => {
                let share = Zeroizing::new(
                    hex::decode(share.as_bytes()).map_err(|e| error(format!("share: {e}")))?,
                );
                Some(Share::decode(Copying(&share[..])).map_err(|e| error(format!("share: {e}")))?)
            }
        };
        Ok(KeyFileContents {
            identity,
            genesis_share,
        })
    }
}

/// The identity as a wallet keypair (the same ed25519 key: it signs the
/// validator's transactions and its beacon share envelopes).
fn wallet_keypair(identity: &ed25519::PrivateKey) -> wallet::Keypair {
    let mut secret = Zeroizing::new([0u8; wallet::Keypair::SECRET_LENGTH]);
    secret.copy_from_slice(&identity.encode());
    wallet::Keypair::from_secret_bytes(&secret)
}

/// A running validator. Dropping it leaves the validator running until
/// the process exits; [`Validator::stop`] stops it.
#[derive(Debug)]
pub struct Validator {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// This validator's identity.
    pub identity: wallet::PublicKey,
    /// Where its validator network listens.
    pub listen: SocketAddr,
}

impl Validator {
    /// Stops the engine and waits for its thread. What was synced to disk
    /// stays; a later [`start`] resumes from it.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The peers of the validator network and this validator's index among
/// them, checked against the genesis.
struct Committee {
    participants: Set<ed25519::PublicKey>,
    addresses: Map<ed25519::PublicKey, Address>,
    wallet_keys: Vec<wallet::PublicKey>,
}

fn committee(genesis: &Genesis) -> Result<Committee, ValidatorError> {
    let mut participants = Vec::new();
    let mut addresses = Vec::new();
    let mut wallet_keys = Vec::new();
    for (index, validator) in genesis.validators.iter().enumerate() {
        let key = ed25519::PublicKey::decode(Copying(&validator.consensus_key.as_bytes()[..]))
            .map_err(|e| ValidatorError::Genesis(format!("validator {index}'s key: {e}")))?;
        let address: SocketAddr = validator.network_address.parse().map_err(|e| {
            ValidatorError::Genesis(format!(
                "validator {index}'s network_address {:?} is not host:port: {e}",
                validator.network_address.as_str()
            ))
        })?;
        participants.push(key.clone());
        addresses.push((key, Address::from(address)));
        wallet_keys.push(validator.consensus_key);
    }
    let participants: Set<ed25519::PublicKey> = participants
        .into_iter()
        .try_collect()
        .map_err(|_| ValidatorError::Genesis("two validators share a key".into()))?;
    let addresses: Map<ed25519::PublicKey, Address> = addresses
        .into_iter()
        .try_collect()
        .map_err(|_| ValidatorError::Genesis("two validators share a key".into()))?;
    Ok(Committee {
        participants,
        addresses,
        wallet_keys,
    })
}

/// The validator network's peer sets, following the ledger: the genesis
/// committee first, then — whenever it changes — the validators of the set
/// in force and, while a resharing round runs or just ended, its dealers
/// and players (a newcomer must get its dealings, and then votes, before
/// the genesis list could know it), each reached at the network address it
/// registered.
struct PeerSets {
    last: Map<ed25519::PublicKey, Address>,
    id: u64,
}

impl PeerSets {
    fn new(genesis: Map<ed25519::PublicKey, Address>) -> PeerSets {
        PeerSets {
            last: genesis,
            id: 0,
        }
    }

    /// The next peer set to track, if the ledger's differs from the last.
    fn follow(&mut self, ledger: &SharedLedger) -> Option<(u64, Map<ed25519::PublicKey, Address>)> {
        let peers = {
            // A panicked writer left the ledger between blocks.
            let ledger = ledger.read().unwrap_or_else(|e| e.into_inner());
            let mut keys: std::collections::BTreeSet<wallet::PublicKey> =
                ledger.active_validators().iter().copied().collect();
            if let Some(round) = ledger.resharing().and_then(|r| r.round.as_ref()) {
                keys.extend(round.dealers.iter().copied());
                keys.extend(round.players.iter().copied());
            }
            let mut peers = Vec::with_capacity(keys.len());
            for key in keys {
                let Some(validator) = ledger.validator(&key) else {
                    continue;
                };
                let Ok(address) = validator.network_address.as_str().parse::<SocketAddr>() else {
                    tracing::warn!(%key, "a validator's network address is not host:port; not dialed");
                    continue;
                };
                let Ok(identity) = ed25519::PublicKey::decode(Copying(&key.as_bytes()[..])) else {
                    continue;
                };
                peers.push((identity, Address::from(address)));
            }
            peers.into_iter().try_collect::<Map<_, _>>().ok()?
        };
        if peers == self.last || peers.is_empty() {
            return None;
        }
        self.id = self.id.saturating_add(1);
        self.last = peers.clone();
        Some((self.id, peers))
    }
}

/// How often the engine's equivocation counts are copied to the metrics.
const FAULTS_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// Copies the engine's equivocation counts to `bitcraps_equivocations_total`.
fn publish_faults(metrics: &Metrics, faults: &engine::Faults) {
    for (kind, total) in [
        (
            EquivocationKind::ConflictingNotarize,
            faults.conflicting_notarize,
        ),
        (
            EquivocationKind::ConflictingFinalize,
            faults.conflicting_finalize,
        ),
        (EquivocationKind::NullifyFinalize, faults.nullify_finalize),
    ] {
        metrics.set_equivocations(kind, total);
    }
}

/// The parts of the node a validator core is wired to.
pub struct ValidatorWiring<T, K> {
    /// The finalized ledger, which the core applies finalized blocks to.
    pub ledger: SharedLedger,
    /// Where proposals take transactions from (and slashing reports go).
    pub transactions: T,
    /// Told about every finalized block.
    pub sink: K,
    /// Gets the equivocations the engine reports, every second.
    pub metrics: Arc<Metrics>,
    /// Nothing is sent to or taken from a validator while it holds it.
    pub cut: ValidatorCut,
}

/// Starts the validator of `keys` (read from `config.key_file`) for the
/// chain of `genesis`, wired to the node as `wiring` says. Consensus
/// storage lives under `data_dir/consensus`.
pub fn start<T: TransactionSource, K: FinalizedSink>(
    config: &ValidatorConfig,
    data_dir: &Path,
    genesis: &Genesis,
    wiring: ValidatorWiring<T, K>,
) -> Result<Validator, ValidatorError> {
    let ValidatorWiring {
        ledger,
        transactions,
        sink,
        metrics,
        cut,
    } = wiring;
    let keys = ValidatorKeyFile::read_contents(&config.key_file)?;
    let sharing = genesis.beacon_sharing.clone().ok_or_else(|| {
        ValidatorError::Genesis("it has no beacon_sharing (the validators' group key)".into())
    })?;
    let verifier = genesis
        .beacon_verifier()
        .ok_or_else(|| ValidatorError::Genesis("it has no beacon_sharing".into()))?;
    let committee = committee(genesis)?;
    let me = keys.identity.public_key();
    let index = committee.participants.iter().position(|key| *key == me);
    let genesis_share = match (index, keys.genesis_share.clone()) {
        (Some(index), Some(share)) => {
            let share_index = consensus::beacon::dkg::secret_share(share.clone()).index();
            if share_index as usize != index {
                return Err(ValidatorError::Genesis(format!(
                    "the key file's share is share {share_index} but this validator is number \
                     {index}"
                )));
            }
            Some(share)
        }
        (Some(index), None) => {
            return Err(ValidatorError::Genesis(format!(
                "this key ({me}) is its validator number {index}, but the key file holds no \
                 genesis share; use the key file the genesis was made with"
            )));
        }
        (None, Some(_)) => {
            return Err(ValidatorError::Genesis(format!(
                "this key ({me}) is not one of its validators, but the key file holds a genesis \
                 share; check validator.key_file (a newcomer's key file holds its identity alone)"
            )));
        }
        (None, None) => {
            tracing::info!(
                %me,
                "not a genesis validator: following until the ledger puts this key in a set \
                 (register and stake it with `bitcraps validator`)"
            );
            None
        }
    };
    let keypair = keys.keypair();
    let chain_id = genesis.chain_id();
    let signer = genesis_share
        .clone()
        .map(|share| {
            BeaconSigner::new(0, consensus::beacon::dkg::secret_share(share), &sharing)
                .map_err(|e| ValidatorError::Genesis(format!("the key file's share: {e}")))
        })
        .transpose()?;
    let aggregator =
        BeaconAggregator::new(chain_id, 0, sharing.clone(), committee.wallet_keys.clone())
            .map_err(|e| ValidatorError::Genesis(e.to_string()))?;
    let pool = BeaconPool::new(aggregator);
    let engine_sharing = sharing.sharing().clone();

    let shares = ShareStore::open(data_dir.join(SHARES_DIR))?;
    let storage = data_dir.join("consensus");
    fs::create_dir_all(&storage).map_err(|e| ValidatorError::Engine(e.to_string()))?;
    let listen = config.listen;
    let genesis_time_ms = genesis.genesis_time_ms;
    let epoch_length = NonZeroU64::new(genesis.params.epoch_length_blocks)
        .ok_or_else(|| ValidatorError::Genesis("its epoch_length_blocks is zero".into()))?;
    // Peer sets hold the validators of the set in force and of the next one
    // (while a resharing round runs): at most twice the largest set.
    let max_set = (genesis.params.max_validators as usize).max(committee.participants.len());
    let (stop, stopped) = oneshot::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), ValidatorError>>();
    let identity = keypair.public_key();
    let others: Arc<[ed25519::PublicKey]> = committee
        .participants
        .iter()
        .filter(|key| **key != me)
        .cloned()
        .collect();
    let thread = std::thread::Builder::new()
        .name("validator".into())
        .spawn(move || {
            let runtime = commonware_runtime::tokio::Config::new()
                .with_worker_threads(2)
                .with_storage_directory(storage)
                .with_catch_panics(false);
            commonware_runtime::tokio::Runner::new(runtime).start(|context| async move {
                let mut namespace = P2P_NAMESPACE_PREFIX.to_vec();
                namespace.extend_from_slice(chain_id.as_bytes());
                let timing = engine::Timing::default();
                let max_message = engine::max_message_size(
                    max_set as u32,
                    consensus::block::MAX_BLOCK_BYTES,
                );
                let mut p2p = lookup::Config::recommended(
                    Cups::<_, ChaCha20Poly1305>::new(
                        Sake {
                            signer: keys.identity.clone(),
                            synchrony_bound: std::time::Duration::from_secs(5),
                            max_handshake_age: std::time::Duration::from_secs(10),
                            version: sake::Version::V1,
                        },
                        cups::Version::V1,
                    ),
                    &namespace,
                    listen,
                    NonZeroUsize::new(max_set.saturating_mul(2).max(1))
                        .expect("at least one validator"),
                    max_message,
                    NonZeroUsize::new(1024).expect("non-zero"),
                );
                // Validators of a local testnet live on loopback; a peer is
                // still only accepted with a committee key.
                p2p.allow_private_ips = true;
                p2p.peer_connection_cooldown = std::time::Duration::from_secs(1);
                p2p.dial_frequency = std::time::Duration::from_millis(500);
                p2p.allowed_handshake_rate_per_ip = Quota::per_second(NZU32!(16));
                let (mut network, mut oracle) = lookup::Network::new(context.child("p2p"), p2p);
                let _ = oracle.track(0, committee.addresses.clone());
                let quota = engine::quota(&timing);
                let mut register = |channel, quota| {
                    let (sender, receiver) = network.register(channel, quota);
                    (
                        CutSender::new(sender, cut.clone(), others.clone()),
                        CutReceiver::new(receiver, cut.clone()),
                    )
                };
                let channels = Channels {
                    votes: register(channel::VOTES, quota),
                    certificates: register(channel::CERTIFICATES, quota),
                    resolver: register(channel::RESOLVER, quota),
                    backfill: register(channel::BACKFILL, quota),
                    broadcast: register(channel::BROADCAST, quota),
                };
                let (mut share_sender, mut share_receiver) =
                    register(SHARES_CHANNEL, Quota::per_second(NZU32!(SHARES_PER_SECOND)));
                let (mut dkg_sender, mut dkg_receiver) =
                    register(DKG_CHANNEL, Quota::per_second(NZU32!(DKG_PER_SECOND)));
                network.start();

                // The dealer's polynomials come from the operating system's
                // secure source; without one, this validator does not deal.
                let mut dealer_seed = Zeroizing::new([0u8; 32]);
                let resharer = match getrandom::fill(&mut dealer_seed[..]) {
                    Ok(()) => Resharer::new(
                        keys.identity.clone(),
                        Box::new(move |to: &ed25519::PublicKey, message: Vec<u8>| {
                            let _ = dkg_sender.send(Recipients::One(to.clone()), message, false);
                        }),
                        *dealer_seed,
                    )
                    .map_err(|error| tracing::error!(%error, "no resharing"))
                    .ok(),
                    Err(error) => {
                        tracing::error!(%error, "no secure randomness: not taking part in resharing");
                        None
                    }
                };
                if let Some(resharer) = resharer.clone() {
                    context.child("resharing").spawn(move |_| async move {
                        while let Ok((peer, message)) = dkg_receiver.recv().await {
                            resharer.receive(&peer, message.as_ref());
                        }
                    });
                }

                let inbox = pool.clone();
                context.child("beacon_shares").spawn(move |_| async move {
                    while let Ok((peer, message)) = share_receiver.recv().await {
                        if let Err(error) = inbox.add_bytes(message.as_ref()) {
                            tracing::debug!(%peer, %error, "beacon share refused");
                        }
                    }
                });
                let gossip = Box::new(move |share: &consensus::beacon::SignedBeaconShare| {
                    let _ = share_sender.send(Recipients::All, share.encode(), false);
                });
                let beacon = BeaconKeys {
                    signer,
                    keypair,
                    verifier,
                };
                let peers_ledger = ledger.clone();
                let app = match ValidatorApp::new(ledger, beacon, pool, transactions, gossip) {
                    Ok(mut app) => {
                        // A refused or missing share costs this validator
                        // its beacon shares, not its votes: report, run on.
                        if let Err(error) = app.use_share_store(shares) {
                            tracing::error!(%error, "no beacon share of the sharing in force");
                        }
                        app
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(ValidatorError::Engine(error.to_string())));
                        return;
                    }
                };
                let app = match resharer {
                    Some(resharer) => app.with_resharer(resharer).with_sink(sink),
                    None => app.with_sink(sink),
                };
                let mut engine_config = Config::new(
                    chain_id,
                    genesis_time_ms,
                    keys.identity.clone(),
                    committee.participants.clone(),
                    engine_sharing,
                    genesis_share,
                    app,
                    "validator".into(),
                );
                engine_config.timing = timing;
                // The engine's epochs are the ledger's: each epoch runs with
                // the set and sharing the ledger put in force for it.
                engine_config.epoch_length = epoch_length;
                let mut peers_oracle = oracle.clone();
                match engine::start(
                    context.child("engine"),
                    engine_config,
                    channels,
                    oracle.clone(),
                    oracle,
                ) {
                    Ok(running) => {
                        let _ = ready_tx.send(Ok(()));
                        let mut stopped = stopped;
                        let mut tracked = PeerSets::new(committee.addresses.clone());
                        loop {
                            publish_faults(&metrics, &running.faults());
                            if let Some((id, peers)) = tracked.follow(&peers_ledger) {
                                tracing::info!(id, peers = peers.len(), "validator peer set");
                                let _ = peers_oracle.track(id, peers);
                            }
                            tokio::select! {
                                _ = &mut stopped => break,
                                _ = context.sleep(FAULTS_POLL) => {}
                            }
                        }
                        running.abort();
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(ValidatorError::Engine(error.to_string())));
                    }
                }
            });
        })?;
    match ready_rx.recv() {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            let _ = thread.join();
            return Err(error);
        }
        Err(_) => {
            let _ = thread.join();
            return Err(ValidatorError::Engine(
                "the validator thread stopped while starting".into(),
            ));
        }
    }
    tracing::info!(%identity, %listen, ?index, "validator started");
    Ok(Validator {
        stop: Some(stop),
        thread: Some(thread),
        identity,
        listen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_round_trip_with_mode_0600_and_refuse_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let committee = engine::dealer_committee(4, &[9; 32]).unwrap();
        let keys = &committee.validators[2];
        let path = dir.path().join("validator.key");
        ValidatorKeyFile::write(&path, keys).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = ValidatorKeyFile::read(&path).unwrap();
        assert_eq!(back.identity.public_key(), keys.identity.public_key());
        assert_eq!(back.share, keys.share);

        for (name, content) in [
            ("empty", String::new()),
            ("not json", "validator".to_string()),
            (
                "unknown field",
                r#"{"identity":"00","share":"00","x":1}"#.to_string(),
            ),
            ("bad hex", r#"{"identity":"zz","share":"00"}"#.to_string()),
            (
                "short identity",
                r#"{"identity":"0011","share":"00"}"#.to_string(),
            ),
            ("huge", "x".repeat(5000)),
        ] {
            let bad = dir.path().join(name);
            fs::write(&bad, content).unwrap();
            let error = ValidatorKeyFile::read(&bad).unwrap_err();
            assert!(
                matches!(error, ValidatorError::KeyFile { .. }),
                "{name}: {error}"
            );
        }
        assert!(ValidatorKeyFile::read(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn a_newcomers_key_file_holds_its_identity_alone_and_old_files_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let committee = engine::dealer_committee(4, &[9; 32]).unwrap();
        let keys = &committee.validators[1];
        // A genesis validator's file (the format of files written before
        // newcomers existed) reads with its share.
        let genesis_path = dir.path().join("genesis.key");
        ValidatorKeyFile::write(&genesis_path, keys).unwrap();
        let text = fs::read_to_string(&genesis_path).unwrap();
        assert!(text.contains("\"share\""), "{text}");
        let contents = ValidatorKeyFile::read_contents(&genesis_path).unwrap();
        assert_eq!(contents.genesis_share, Some(keys.share.clone()));

        let path = dir.path().join("newcomer.key");
        let keypair = ValidatorKeyFile::generate_newcomer(&path).unwrap();
        let again = ValidatorKeyFile::generate_newcomer(&path).unwrap_err();
        assert!(again.to_string().contains("already exists"), "{again}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!fs::read_to_string(&path).unwrap().contains("share"));
        let contents = ValidatorKeyFile::read_contents(&path).unwrap();
        assert_eq!(
            contents.identity.public_key().as_ref(),
            keypair.public_key().as_bytes().as_slice(),
            "the key file and the wallet keypair are one key"
        );
        assert!(contents.genesis_share.is_none());
        // Whoever needs a genesis validator's keys is told what it got.
        let error = ValidatorKeyFile::read(&path).unwrap_err().to_string();
        assert!(error.contains("no genesis share"), "{error}");
    }

    #[test]
    fn the_committee_comes_from_the_genesis_in_order() {
        let committee = engine::dealer_committee(4, &[9; 32]).unwrap();
        let addresses: Vec<_> = (0..4)
            .map(|i| format!("127.0.0.1:{}", 7400 + i).parse().unwrap())
            .collect();
        let validators = committee
            .genesis_validators(game_rules::Chips(1), &addresses)
            .unwrap();
        let genesis = Genesis {
            validators: consensus::encoding::BoundedVec::new(validators).unwrap(),
            beacon_sharing: Some(committee.beacon_sharing().unwrap()),
            ..sample_genesis()
        };
        let found = super::committee(&genesis).unwrap();
        assert_eq!(found.participants, committee.participants);
        let mut bad = genesis.clone();
        let mut validators = bad.validators.to_vec();
        validators[1].network_address = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        bad.validators = consensus::encoding::BoundedVec::new(validators).unwrap();
        assert!(matches!(
            super::committee(&bad),
            Err(ValidatorError::Genesis(reason)) if reason.contains("host:port")
        ));
    }

    fn sample_genesis() -> Genesis {
        Genesis {
            chain_name: "validator-test".parse().unwrap(),
            genesis_time_ms: 0,
            accounts: consensus::encoding::BoundedVec::new(vec![]).unwrap(),
            bankroll: consensus::genesis::GenesisBankroll {
                initial: game_rules::Chips(0),
                owner: wallet::Keypair::from_secret_bytes(&[1; 32]).address(),
            },
            validators: consensus::encoding::BoundedVec::new(vec![]).unwrap(),
            params: consensus::genesis::Params::default(),
            dealer_beacon: true,
            beacon_sharing: None,
        }
    }
}
