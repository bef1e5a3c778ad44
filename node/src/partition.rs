//! # Partition fault injection (test networks only)
//!
//! A local testnet runs every node on loopback, where a network partition
//! cannot be made with packet filters without root. Instead each node can
//! be told, by a file, which peers it is cut off from, and it stops
//! exchanging anything with them on both of its networks:
//!
//! | network | how the cut works |
//! |---|---|
//! | libp2p (gossip, block sync, Kademlia, identify, ping) | the peers go on the swarm's block list ([`Network::partition`]): their connections close and every dial to or from them is refused |
//! | the validators' commonware network (consensus votes, certificates, resolver, backfill, block broadcast, beacon shares) | every channel is wrapped: [`CutSender`] drops cut peers from a message's recipients, [`CutReceiver`] discards what arrives from them |
//!
//! **This is an application-level cut, not packet loss.** The commonware
//! network keeps its authenticated connections to cut peers (its own
//! blocking cannot be undone before its block duration ends, so a heal
//! could not be prompt); only the application messages on them stop, in
//! both directions, on every channel. A libp2p peer is really disconnected
//! and refused. Nothing on the other side of the cut reaches the
//! consensus engine or the ledger, which is what a partition tests.
//!
//! ## Why a file
//!
//! Only a node whose configuration has a `[fault_injection]` section
//! ([`crate::config::FaultInjectionConfig`]) watches a file; without it
//! none of this is reachable. The file is in the node's own directory, so
//! whoever can write it could already replace the node's keys: it adds no
//! way in, unlike an API route. It outlives the process, so a partitioned
//! node that is killed and restarted comes back still partitioned (a
//! partition is a property of the network, not of the process), and a
//! heal reaches a paused or stopped node. The node reads it every
//! [`POLL_INTERVAL`] and once before its validator starts; a missing or
//! empty file means no cut. A file that does not parse is reported in the
//! log and the previous cut stays.
//!
//! ```toml
//! # written by `bitcraps testnet partition`
//! libp2p = ["12D3KooW…"]            # libp2p peer ids
//! validators = ["a1b2…"]            # validator identities, ed25519 public keys in hex
//! ```
//!
//! A cut is symmetric only if both sides are told: the testnet writes each
//! node of a partition the peers on the other side. With several
//! partitions in force at once it writes each node everyone any of them
//! separates it from, and rewrites the files when one heals: each read
//! replaces the cut in force (libp2p peers no longer listed are unblocked,
//! validators no longer listed are heard again), so a partial heal is a
//! file with fewer peers.
//!
//! **One-way cuts.** `ignored` lists validators whose messages this node
//! discards while it still sends to them: it talks but does not listen.
//! The testnet's equivocating twin (a second process with one validator's
//! key) is started this way, so that it stays in the view it was copied
//! in and keeps re-sending its vote there instead of catching up.
//!
//! ```toml
//! ignored = ["a1b2…"]               # heard by them, deaf to them
//! ```

use std::collections::BTreeSet;
use std::io::Read as _;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use commonware_codec::{Copying, DecodeExt as _, Encode as _};
use commonware_cryptography::ed25519;
use commonware_p2p::{LimitedSender, Message, Receiver, Recipients};
use libp2p::PeerId;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::network::{Network, NetworkError};
use crate::validator::{ValidatorError, ValidatorKeyFile};

/// A validator's identity on the validators' network: the ed25519 public
/// key of its key file (the genesis's `consensus_key`).
pub type ValidatorKey = ed25519::PublicKey;

/// The validator identity of the key file at `path`, for a partition file.
pub fn validator_identity(path: &Path) -> Result<ValidatorKey, ValidatorError> {
    use commonware_cryptography::Signer as _;
    Ok(ValidatorKeyFile::read_contents(path)?.identity.public_key())
}

/// How often the partition file is read.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The largest partition file read, in bytes.
pub const MAX_PARTITION_FILE_BYTES: u64 = 64 * 1024;

/// Why a partition file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    /// The file could not be read or written.
    #[error("partition file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is over [`MAX_PARTITION_FILE_BYTES`].
    #[error("partition file {path} is over {MAX_PARTITION_FILE_BYTES} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a partition file (TOML with `libp2p` and
    /// `validators` lists of strings).
    #[error("invalid partition file: {0}")]
    Parse(String),
    /// An entry is not a peer id or a validator key.
    #[error("invalid partition file: {list}[{index}] = {value:?} is not {expected}")]
    BadEntry {
        /// `libp2p` or `validators`.
        list: &'static str,
        /// Its position in the list.
        index: usize,
        /// The entry.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
}

/// The file's text form.
#[derive(Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawFile {
    libp2p: Vec<String>,
    validators: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored: Vec<String>,
}

/// The peers a node is cut off from. See the [module documentation](self).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionFile {
    /// libp2p peers.
    pub libp2p: BTreeSet<PeerId>,
    /// Validator identities on the validators' network.
    pub validators: BTreeSet<ed25519::PublicKey>,
    /// Validator identities whose messages are discarded on receipt only:
    /// this node still sends to them (a one-way cut).
    pub ignored: BTreeSet<ed25519::PublicKey>,
}

impl PartitionFile {
    /// Whether it cuts nothing.
    pub fn is_empty(&self) -> bool {
        self.libp2p.is_empty() && self.validators.is_empty() && self.ignored.is_empty()
    }

    /// Parses a file's text (empty text: no cut).
    pub fn parse(text: &str) -> Result<PartitionFile, PartitionError> {
        let raw: RawFile = toml::from_str(text)
            .map_err(|e| PartitionError::Parse(e.to_string().trim_end().to_owned()))?;
        let mut file = PartitionFile::default();
        for (index, value) in raw.libp2p.iter().enumerate() {
            let peer = value
                .parse::<PeerId>()
                .map_err(|_| PartitionError::BadEntry {
                    list: "libp2p",
                    index,
                    value: value.clone(),
                    expected: "a libp2p peer id (12D3KooW…)",
                })?;
            file.libp2p.insert(peer);
        }
        file.validators = validator_keys("validators", &raw.validators)?;
        file.ignored = validator_keys("ignored", &raw.ignored)?;
        Ok(file)
    }

    /// The file's text.
    pub fn to_toml(&self) -> String {
        let raw = RawFile {
            libp2p: self.libp2p.iter().map(ToString::to_string).collect(),
            validators: self
                .validators
                .iter()
                .map(|key| hex::encode(key.encode()))
                .collect(),
            ignored: self
                .ignored
                .iter()
                .map(|key| hex::encode(key.encode()))
                .collect(),
        };
        let body = toml::to_string(&raw).expect("lists of strings always serialize");
        format!("# the peers this node is cut off from (fault injection)\n{body}")
    }

    /// Reads `path` (at most [`MAX_PARTITION_FILE_BYTES`]); a missing file
    /// is no cut.
    pub fn read(path: &Path) -> Result<PartitionFile, PartitionError> {
        let text = read_text(path)?;
        PartitionFile::parse(&text)
    }

    /// Writes the file atomically (a temporary file renamed over it), so
    /// a node never reads half of it.
    pub fn write(&self, path: &Path) -> Result<(), PartitionError> {
        let error = |source| PartitionError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        std::fs::write(&tmp, self.to_toml()).map_err(error)?;
        std::fs::rename(&tmp, path).map_err(error)
    }

    /// Removes the file (a heal); a missing file is already healed.
    pub fn remove(path: &Path) -> Result<(), PartitionError> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(PartitionError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }
}

/// The validator keys of the list `list` of a partition file.
fn validator_keys(
    list: &'static str,
    values: &[String],
) -> Result<BTreeSet<ed25519::PublicKey>, PartitionError> {
    let mut keys = BTreeSet::new();
    for (index, value) in values.iter().enumerate() {
        let bad = || PartitionError::BadEntry {
            list,
            index,
            value: value.clone(),
            expected: "an ed25519 public key in hex (64 digits)",
        };
        let bytes = hex::decode(value).map_err(|_| bad())?;
        let key = ed25519::PublicKey::decode(Copying(&bytes[..])).map_err(|_| bad())?;
        keys.insert(key);
    }
    Ok(keys)
}

/// The file's text, empty if it does not exist.
fn read_text(path: &Path) -> Result<String, PartitionError> {
    let error = |source| PartitionError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(error(e)),
    };
    let mut text = String::new();
    file.take(MAX_PARTITION_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(error)?;
    if text.len() as u64 > MAX_PARTITION_FILE_BYTES {
        return Err(PartitionError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

/// The validator identities cut off on the validators' network, shared by
/// every [`CutSender`] and [`CutReceiver`] of a node and set by the
/// partition file's watcher. Empty (nothing cut) unless fault injection
/// sets it.
#[derive(Clone, Debug, Default)]
pub struct ValidatorCut(Arc<RwLock<Cuts>>);

/// Both sets of a [`ValidatorCut`].
#[derive(Debug, Default)]
struct Cuts {
    /// Cut both ways.
    both: BTreeSet<ed25519::PublicKey>,
    /// Heard from no more, still sent to.
    ignored: BTreeSet<ed25519::PublicKey>,
}

impl ValidatorCut {
    /// Replaces the set of peers cut both ways.
    pub fn set(&self, peers: BTreeSet<ed25519::PublicKey>) {
        self.0.write().unwrap_or_else(|p| p.into_inner()).both = peers;
    }

    /// Replaces the set of peers whose messages are discarded while they
    /// are still sent to (a one-way cut).
    pub fn set_ignored(&self, peers: BTreeSet<ed25519::PublicKey>) {
        self.0.write().unwrap_or_else(|p| p.into_inner()).ignored = peers;
    }

    /// Whether `peer` is cut off both ways.
    pub fn contains(&self, peer: &ed25519::PublicKey) -> bool {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .both
            .contains(peer)
    }

    /// Whether what `peer` sends is discarded (cut both ways, or ignored).
    pub fn discards(&self, peer: &ed25519::PublicKey) -> bool {
        let cuts = self.0.read().unwrap_or_else(|p| p.into_inner());
        cuts.both.contains(peer) || cuts.ignored.contains(peer)
    }

    /// `recipients` without the cut peers. `All` becomes the uncut ones of
    /// `peers` (every other validator) while anything is cut; a list left
    /// empty sends to no one.
    pub fn recipients(
        &self,
        recipients: Recipients<ed25519::PublicKey>,
        peers: &[ed25519::PublicKey],
    ) -> Recipients<ed25519::PublicKey> {
        let cuts = self.0.read().unwrap_or_else(|p| p.into_inner());
        let cut = &cuts.both;
        if cut.is_empty() {
            return recipients;
        }
        match recipients {
            Recipients::All => Recipients::Some(
                peers
                    .iter()
                    .filter(|peer| !cut.contains(peer))
                    .cloned()
                    .collect(),
            ),
            Recipients::Some(list) => {
                Recipients::Some(list.into_iter().filter(|p| !cut.contains(p)).collect())
            }
            Recipients::One(peer) if cut.contains(&peer) => Recipients::Some(Vec::new()),
            one @ Recipients::One(_) => one,
        }
    }
}

/// A validator-network sender that never sends to a cut peer.
#[derive(Clone, Debug)]
pub struct CutSender<S> {
    inner: S,
    cut: ValidatorCut,
    peers: Arc<[ed25519::PublicKey]>,
}

impl<S> CutSender<S> {
    /// Wraps `inner`; `peers` are the other validators (what
    /// `Recipients::All` means).
    pub fn new(inner: S, cut: ValidatorCut, peers: Arc<[ed25519::PublicKey]>) -> CutSender<S> {
        CutSender { inner, cut, peers }
    }
}

impl<S: LimitedSender<PublicKey = ed25519::PublicKey>> LimitedSender for CutSender<S> {
    type PublicKey = ed25519::PublicKey;
    type Checked<'a>
        = S::Checked<'a>
    where
        Self: 'a;

    fn check(
        &mut self,
        recipients: Recipients<Self::PublicKey>,
    ) -> Result<Self::Checked<'_>, SystemTime> {
        let recipients = self.cut.recipients(recipients, &self.peers);
        self.inner.check(recipients)
    }
}

/// A validator-network receiver that discards what a cut peer sent.
#[derive(Debug)]
pub struct CutReceiver<R> {
    inner: R,
    cut: ValidatorCut,
}

impl<R> CutReceiver<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, cut: ValidatorCut) -> CutReceiver<R> {
        CutReceiver { inner, cut }
    }
}

impl<R: Receiver<PublicKey = ed25519::PublicKey>> Receiver for CutReceiver<R> {
    type Error = R::Error;
    type PublicKey = ed25519::PublicKey;

    async fn recv(&mut self) -> Result<Message<Self::PublicKey>, Self::Error> {
        loop {
            let (peer, message) = self.inner.recv().await?;
            if !self.cut.discards(&peer) {
                return Ok((peer, message));
            }
        }
    }

    fn capacity(&self) -> NonZeroUsize {
        self.inner.capacity()
    }
}

/// Applies a node's partition file to its libp2p network and validator
/// cut, whenever the file changes.
#[derive(Debug)]
pub struct PartitionWatch {
    path: PathBuf,
    network: Network,
    cut: ValidatorCut,
    /// The text last seen (`None` before the first read).
    last: Option<String>,
}

impl PartitionWatch {
    /// Watches `path` for `network` and `cut`.
    pub fn new(path: PathBuf, network: Network, cut: ValidatorCut) -> PartitionWatch {
        PartitionWatch {
            path,
            network,
            cut,
            last: None,
        }
    }

    /// Reads the file once and applies it if it changed since the last
    /// read. A file that cannot be read or parsed is logged and the cut
    /// in force stays.
    pub async fn poll(&mut self) -> Result<(), NetworkError> {
        let text = match read_text(&self.path) {
            Ok(text) => text,
            Err(error) => {
                // Said once, not every poll.
                let said = format!("unreadable: {error}");
                if self.last.as_ref() != Some(&said) {
                    tracing::warn!(%error, "partition file unreadable; the cut in force stays");
                    self.last = Some(said);
                }
                return Ok(());
            }
        };
        if self.last.as_ref() == Some(&text) {
            return Ok(());
        }
        let first = self.last.is_none();
        self.last = Some(text.clone());
        let file = match PartitionFile::parse(&text) {
            Ok(file) => file,
            Err(error) => {
                tracing::warn!(file = %self.path.display(), %error, "partition file refused; the cut in force stays");
                return Ok(());
            }
        };
        if first && file.is_empty() {
            return Ok(());
        }
        let (libp2p, validators, ignored) =
            (file.libp2p.len(), file.validators.len(), file.ignored.len());
        self.network.partition(file.libp2p).await?;
        self.cut.set(file.validators);
        self.cut.set_ignored(file.ignored);
        if libp2p + validators + ignored == 0 {
            tracing::warn!("partition healed (fault injection)");
        } else {
            tracing::warn!(
                libp2p,
                validators,
                ignored,
                "partitioned (fault injection): cut off from these peers"
            );
        }
        Ok(())
    }

    /// Polls every [`POLL_INTERVAL`] until `shutdown` or the network stops.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if self.poll().await.is_err() {
                return;
            }
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_cryptography::Signer as _;
    use commonware_runtime::IoBuf;

    fn key(seed: u64) -> ed25519::PublicKey {
        ed25519::PrivateKey::from_seed(seed).public_key()
    }

    #[test]
    fn files_round_trip_and_bad_ones_name_the_entry() {
        let peer = PeerId::random();
        let file = PartitionFile {
            libp2p: [peer].into(),
            validators: [key(1), key(2)].into(),
            ignored: [key(3)].into(),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("partition.toml");
        assert_eq!(
            PartitionFile::read(&path).unwrap(),
            PartitionFile::default()
        );
        file.write(&path).unwrap();
        assert_eq!(PartitionFile::read(&path).unwrap(), file);
        PartitionFile::remove(&path).unwrap();
        PartitionFile::remove(&path).unwrap();
        assert!(PartitionFile::read(&path).unwrap().is_empty());

        let error = PartitionFile::parse("libp2p = [\"nope\"]").unwrap_err();
        assert!(error.to_string().contains("libp2p[0]"), "{error}");
        let error = PartitionFile::parse("validators = [\"00ff\"]").unwrap_err();
        assert!(error.to_string().contains("validators[0]"), "{error}");
        let error = PartitionFile::parse("ignored = [\"zz\"]").unwrap_err();
        assert!(error.to_string().contains("ignored[0]"), "{error}");
        // A file without the one-way list (written before it existed)
        // still reads.
        let old = PartitionFile::parse("libp2p = []\nvalidators = []").unwrap();
        assert!(old.is_empty());
        let error = PartitionFile::parse("peers = []").unwrap_err();
        assert!(error.to_string().contains("peers"), "{error}");
        std::fs::write(&path, "#".repeat(MAX_PARTITION_FILE_BYTES as usize + 1)).unwrap();
        assert!(matches!(
            PartitionFile::read(&path),
            Err(PartitionError::TooLarge { .. })
        ));
    }

    #[test]
    fn the_cut_removes_peers_from_every_kind_of_recipients() {
        let cut = ValidatorCut::default();
        let peers = [key(1), key(2), key(3)];
        let list = |r: Recipients<ed25519::PublicKey>| match r {
            Recipients::Some(list) => list,
            Recipients::One(peer) => vec![peer],
            Recipients::All => panic!("All passes only while nothing is cut"),
        };
        assert!(matches!(
            cut.recipients(Recipients::All, &peers),
            Recipients::All
        ));
        cut.set([key(2)].into());
        assert_eq!(
            list(cut.recipients(Recipients::All, &peers)),
            [key(1), key(3)]
        );
        assert_eq!(
            list(cut.recipients(Recipients::Some(vec![key(2), key(3)]), &peers)),
            [key(3)]
        );
        assert!(list(cut.recipients(Recipients::One(key(2)), &peers)).is_empty());
        assert_eq!(
            list(cut.recipients(Recipients::One(key(1)), &peers)),
            [key(1)]
        );
        cut.set(BTreeSet::new());
        assert!(matches!(
            cut.recipients(Recipients::All, &peers),
            Recipients::All
        ));
    }

    /// Yields a fixed list of messages.
    #[derive(Debug)]
    struct Script(Vec<Message<ed25519::PublicKey>>);

    impl Receiver for Script {
        type Error = std::io::Error;
        type PublicKey = ed25519::PublicKey;

        async fn recv(&mut self) -> Result<Message<Self::PublicKey>, Self::Error> {
            if self.0.is_empty() {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            Ok(self.0.remove(0))
        }

        fn capacity(&self) -> NonZeroUsize {
            NonZeroUsize::new(8).unwrap()
        }
    }

    #[tokio::test]
    async fn the_receiver_discards_what_cut_peers_sent() {
        let cut = ValidatorCut::default();
        cut.set([key(2)].into());
        let message = |seed: u64, byte: u8| (key(seed), IoBuf::from(vec![byte]));
        let mut receiver = CutReceiver::new(
            Script(vec![
                message(2, 1),
                message(1, 2),
                message(2, 3),
                message(3, 4),
            ]),
            cut.clone(),
        );
        let (from, data) = receiver.recv().await.unwrap();
        assert_eq!((from, data.as_ref()), (key(1), &[2][..]));
        cut.set(BTreeSet::new());
        let (from, _) = receiver.recv().await.unwrap();
        assert_eq!(from, key(2), "healed: the cut peer is heard again");
        assert!(receiver.recv().await.is_ok());
        assert!(receiver.recv().await.is_err());
    }

    #[tokio::test]
    async fn an_ignored_peer_is_still_sent_to_but_never_heard() {
        let cut = ValidatorCut::default();
        cut.set_ignored([key(2)].into());
        let peers = [key(1), key(2)];
        // Sending is untouched: `All` stays `All`.
        assert!(matches!(
            cut.recipients(Recipients::All, &peers),
            Recipients::All
        ));
        assert!(!cut.contains(&key(2)));
        assert!(cut.discards(&key(2)));
        let message = |seed: u64| (key(seed), IoBuf::from(vec![seed as u8]));
        let mut receiver = CutReceiver::new(Script(vec![message(2), message(1), message(2)]), cut);
        let (from, _) = receiver.recv().await.unwrap();
        assert_eq!(from, key(1));
        assert!(
            receiver.recv().await.is_err(),
            "the ignored peer is never heard"
        );
    }
}
