//! # The testnet manifest
//!
//! A TOML file describing one local testnet, in the spirit of CometBFT's
//! e2e manifests: how many validators and player nodes, the chain's
//! parameters, where the ports start, and a schedule of faults to inject.
//! Every key is optional (the defaults make a 4-validator, 1-player
//! testnet with fast games); an unknown key is an error naming it, so a
//! typo never silently becomes a default.
//!
//! ```toml
//! validators = 4          # 1 to 64
//! players = 1             # player (non-validator) nodes, 0 to 32
//! base_port = 27000       # each node takes 10 ports from here
//!
//! [chain]
//! name = "bitcraps-local"
//! crash_betting_ms = 5000
//! crash_cooldown_ms = 2000
//! craps_roll_interval_ms = 2000
//! faucet_max_per_request = 1000000   # 0 disables the faucet
//! bankroll = 1000000000
//! validator_stake = 100000
//! wallets = 4                        # funded player wallets with keystores
//! wallet_balance = 1000000
//! min_fee = 1
//! epoch_length_blocks = 1000         # blocks per validator-set epoch, at least 3
//! unbonding_blocks = 2000            # at least epoch_length_blocks
//!
//! [[faults]]
//! at_secs = 20            # after the testnet is ready
//! node = "validator-2"
//! kind = "kill"           # SIGKILL, then restart
//! restart_after_secs = 5
//!
//! [[faults]]
//! at_secs = 40
//! node = "validator-3"
//! kind = "pause"          # SIGSTOP, then SIGCONT
//! duration_secs = 10
//!
//! [[faults]]
//! at_secs = 60
//! node = "player-0"
//! kind = "restart"        # SIGTERM, wait, start again
//!
//! [[faults]]
//! at_secs = 80
//! node = "validator-0"
//! kind = "partition"      # cut off from every other node, then heal
//! duration_secs = 15
//!
//! [[faults]]
//! at_secs = 120
//! node = "validator-0"
//! with = ["validator-1", "player-0"]   # a split: these three | the rest
//! kind = "partition"
//! duration_secs = 10
//!
//! [[faults]]
//! at_secs = 150
//! node = "validator-3"
//! kind = "twin"           # a second process with its key: it equivocates
//! ```
//!
//! **Twin** starts an equivocating twin of a validator (see
//! [`crate::twin`]): a second process signing with its key, started from a
//! copy of its data so that both are in one view, then given the
//! original's links; the honest validators report it and slash it.
//!
//! **Partition** is made by the nodes themselves, not by packet loss (on
//! loopback that would need root and a packet filter): each node is told,
//! through a file in its directory, the peers on the other side, and it
//! disconnects and refuses them on libp2p and drops every validator-network
//! message to and from them (see [`crate::partition`] and
//! `node::partition`). `node` and the nodes in `with` form one side, every
//! other node the other. Partitions may overlap in time: while several are
//! in force, two nodes are cut off from each other if any of them puts
//! them on different sides (two single-node partitions of validators 2 and
//! 3 make a 2|1|1 split of 4 validators).

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The largest manifest read, in bytes.
pub const MAX_MANIFEST_BYTES: u64 = 256 * 1024;

/// The most validators a local testnet runs.
pub const MAX_VALIDATORS: u32 = 64;

/// The most player nodes a local testnet runs.
pub const MAX_PLAYERS: u32 = 32;

/// The most funded wallets written at genesis.
pub const MAX_WALLETS: u32 = 1_000;

/// Ports each node takes, from its base: libp2p (TCP and QUIC), API,
/// validator network (the bootstrap peer uses the second for HTTP).
pub const PORTS_PER_NODE: u16 = 10;

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read the manifest {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_MANIFEST_BYTES`].
    #[error("the manifest {path} is over {MAX_MANIFEST_BYTES} bytes; is it the right file?")]
    TooLarge {
        /// The file.
        path: String,
    },
    /// Not valid TOML for a manifest (the message names the key and line).
    #[error("invalid manifest: {0}")]
    Parse(String),
    /// A value out of range or inconsistent.
    #[error("invalid manifest: {key} {reason}")]
    Invalid {
        /// The key.
        key: String,
        /// What is wrong and what to do.
        reason: String,
    },
}

/// A whole testnet description. See the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Manifest {
    /// Validators (1 to [`MAX_VALIDATORS`]).
    pub validators: u32,
    /// Player nodes, which follow the chain and hold a wallet (0 to
    /// [`MAX_PLAYERS`]).
    pub players: u32,
    /// The first port; node `i` (the bootstrap peer is 0) uses
    /// `base_port + 10·i` onwards.
    pub base_port: u16,
    /// The chain's parameters.
    pub chain: ChainSettings,
    /// Faults to inject, by time after the testnet is ready.
    pub faults: Vec<Fault>,
}

impl Default for Manifest {
    fn default() -> Manifest {
        Manifest {
            validators: 4,
            players: 1,
            base_port: 27_000,
            chain: ChainSettings::default(),
            faults: Vec::new(),
        }
    }
}

/// The `[chain]` table: what goes into the genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainSettings {
    /// The chain name (part of the chain id).
    pub name: String,
    /// How long a crash round takes bets, ms.
    pub crash_betting_ms: u64,
    /// The pause after a crash, ms.
    pub crash_cooldown_ms: u64,
    /// The least time between two craps rolls, ms.
    pub craps_roll_interval_ms: u64,
    /// The most one faucet transaction mints; 0 disables the faucet.
    pub faucet_max_per_request: u64,
    /// The bankroll's starting chips.
    pub bankroll: u64,
    /// Each validator's bonded stake.
    pub validator_stake: u64,
    /// Funded player wallets written with keystores (at least one per
    /// player node).
    pub wallets: u32,
    /// Each wallet's starting balance.
    pub wallet_balance: u64,
    /// The smallest transaction fee.
    pub min_fee: u64,
    /// Blocks per validator-set epoch: stake changes take effect, and a
    /// resharing round (opened mid-epoch) completes, at each boundary. At
    /// least [`MIN_EPOCH_LENGTH_BLOCKS`].
    pub epoch_length_blocks: u64,
    /// Blocks between an unstake and the release of the stake; at least
    /// `epoch_length_blocks` (the chain's rule: evidence must still be
    /// able to slash unbonding stake).
    pub unbonding_blocks: u64,
}

/// The shortest epoch a testnet may have: a resharing round opens at the
/// epoch's middle block and takes dealer logs until its last, so at least
/// one block must lie between them (the ledger opens no round otherwise,
/// and the validator set could never change).
pub const MIN_EPOCH_LENGTH_BLOCKS: u64 = 3;

impl Default for ChainSettings {
    fn default() -> ChainSettings {
        ChainSettings {
            name: "bitcraps-local".into(),
            crash_betting_ms: 5_000,
            crash_cooldown_ms: 2_000,
            craps_roll_interval_ms: 2_000,
            faucet_max_per_request: 1_000_000,
            bankroll: 1_000_000_000,
            validator_stake: 100_000,
            wallets: 4,
            wallet_balance: 1_000_000,
            min_fee: 1,
            epoch_length_blocks: consensus::genesis::Params::default().epoch_length_blocks,
            unbonding_blocks: consensus::genesis::Params::default().unbonding_blocks,
        }
    }
}

/// One scheduled fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Seconds after the testnet is ready (or the schedule starts).
    pub at_secs: u64,
    /// The node's name (`validator-0`, `player-0`, `bootstrap`).
    pub node: String,
    /// What to do.
    pub kind: FaultKind,
    /// For `kill`: seconds between the kill and the restart (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_after_secs: Option<u64>,
    /// For `pause`: seconds paused; for `partition`: seconds before the
    /// heal (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    /// For `partition`: the nodes on `node`'s side (default none: `node`
    /// alone is cut off from every other node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<Vec<String>>,
}

/// The default seconds of a kill's downtime and of a pause.
pub const DEFAULT_FAULT_SECS: u64 = 5;

impl Fault {
    /// For a kill, how long the node stays down; for a pause, how long it
    /// stays stopped; for a partition, how long until the heal; zero for a
    /// restart.
    pub fn hold_secs(&self) -> u64 {
        match self.kind {
            FaultKind::Kill => self.restart_after_secs.unwrap_or(DEFAULT_FAULT_SECS),
            FaultKind::Pause | FaultKind::Partition => {
                self.duration_secs.unwrap_or(DEFAULT_FAULT_SECS)
            }
            FaultKind::Restart | FaultKind::Twin => 0,
        }
    }

    /// The nodes of a partition's side: `node`, then `with`.
    pub fn side(&self) -> Vec<String> {
        let mut side = vec![self.node.clone()];
        side.extend(self.with.iter().flatten().cloned());
        side
    }
}

/// What a fault does to its node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// SIGKILL, then start it again after `restart_after_secs`.
    Kill,
    /// SIGSTOP, then SIGCONT after `duration_secs`.
    Pause,
    /// SIGTERM (SIGKILL after the grace period), then start it again.
    Restart,
    /// Cut `node` (and `with`) off from every other node, then heal after
    /// `duration_secs` (see the module documentation).
    Partition,
    /// Start an equivocating twin of the validator `node` (see
    /// [`crate::twin`]).
    Twin,
}

impl FaultKind {
    /// The name used in the manifest and in logs.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::Restart => "restart",
            FaultKind::Partition => "partition",
            FaultKind::Twin => "twin",
        }
    }
}

impl Manifest {
    /// Reads and validates a manifest file.
    pub fn read(path: &Path) -> Result<Manifest, ManifestError> {
        use std::io::Read as _;
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| ManifestError::Read {
            path: name.clone(),
            source,
        })?;
        let mut text = String::new();
        file.take(MAX_MANIFEST_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|source| ManifestError::Read {
                path: name.clone(),
                source,
            })?;
        if text.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge { path: name });
        }
        Manifest::parse(&text)
    }

    /// Parses and validates a manifest's text.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let manifest: Manifest = toml::from_str(text)
            .map_err(|e| ManifestError::Parse(e.to_string().trim_end().to_owned()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// The manifest as TOML (written next to the testnet's state).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a manifest always serializes to TOML")
    }

    /// The names of every node, in start order: `bootstrap`, the
    /// validators, the players.
    pub fn node_names(&self) -> Vec<String> {
        let mut names = vec![BOOTSTRAP_NAME.to_owned()];
        names.extend((0..self.validators).map(validator_name));
        names.extend((0..self.players).map(player_name));
        names
    }

    /// Checks ranges and references (see each field).
    pub fn validate(&self) -> Result<(), ManifestError> {
        let bad = |key: &str, reason: String| {
            Err(ManifestError::Invalid {
                key: key.to_owned(),
                reason,
            })
        };
        if self.validators == 0 || self.validators > MAX_VALIDATORS {
            return bad(
                "validators",
                format!("is {}: run 1 to {MAX_VALIDATORS}", self.validators),
            );
        }
        if self.players > MAX_PLAYERS {
            return bad(
                "players",
                format!("is {}: run 0 to {MAX_PLAYERS}", self.players),
            );
        }
        let nodes = 1 + self.validators + self.players;
        let last = u32::from(self.base_port) + nodes * u32::from(PORTS_PER_NODE);
        if self.base_port < 1024 || last > u32::from(u16::MAX) {
            return bad(
                "base_port",
                format!(
                    "is {}: the {nodes} nodes need ports {}..{last}, which must lie in 1024..65535",
                    self.base_port, self.base_port
                ),
            );
        }
        let chain = &self.chain;
        if chain.name.trim().is_empty() || chain.name.len() > 48 {
            return bad(
                "chain.name",
                "must be 1 to 48 characters (the testnet adds a suffix)".into(),
            );
        }
        for (key, value) in [
            ("chain.crash_betting_ms", chain.crash_betting_ms),
            ("chain.craps_roll_interval_ms", chain.craps_roll_interval_ms),
            ("chain.bankroll", chain.bankroll),
            ("chain.validator_stake", chain.validator_stake),
        ] {
            if value == 0 {
                return bad(key, "must be at least 1".into());
            }
        }
        if chain.epoch_length_blocks < MIN_EPOCH_LENGTH_BLOCKS {
            return bad(
                "chain.epoch_length_blocks",
                format!(
                    "is {}: use at least {MIN_EPOCH_LENGTH_BLOCKS} (a resharing round opens at \
                     an epoch's middle block and must close at a later one)",
                    chain.epoch_length_blocks
                ),
            );
        }
        if chain.unbonding_blocks < chain.epoch_length_blocks {
            return bad(
                "chain.unbonding_blocks",
                format!(
                    "is {}, shorter than chain.epoch_length_blocks ({}): unbonding stake must \
                     stay slashable for a whole epoch; raise it to at least {}",
                    chain.unbonding_blocks, chain.epoch_length_blocks, chain.epoch_length_blocks
                ),
            );
        }
        if chain.wallets < self.players || chain.wallets > MAX_WALLETS {
            return bad(
                "chain.wallets",
                format!(
                    "is {}: give at least one wallet per player node ({}) and at most {MAX_WALLETS}",
                    chain.wallets, self.players
                ),
            );
        }
        let names: BTreeSet<String> = self.node_names().into_iter().collect();
        for (index, fault) in self.faults.iter().enumerate() {
            let key = format!("faults[{index}]");
            if !names.contains(&fault.node) {
                return bad(
                    &format!("{key}.node"),
                    format!(
                        "is {:?}, which is not a node of this testnet; use one of {}",
                        fault.node,
                        names.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            if fault.kind == FaultKind::Twin && !fault.node.starts_with("validator-") {
                return bad(
                    &format!("{key}.node"),
                    format!(
                        "is {:?}: a twin doubles a validator's key, so name a validator",
                        fault.node
                    ),
                );
            }
            if let Some(with) = &fault.with {
                if fault.kind != FaultKind::Partition {
                    return bad(
                        &format!("{key}.with"),
                        format!(
                            "only applies to kind = \"partition\", not {:?}",
                            fault.kind.name()
                        ),
                    );
                }
                if let Some(unknown) = with.iter().find(|name| !names.contains(*name)) {
                    return bad(
                        &format!("{key}.with"),
                        format!("names {unknown:?}, which is not a node of this testnet"),
                    );
                }
                let side: BTreeSet<String> = fault.side().into_iter().collect();
                if side.len() == names.len() {
                    return bad(
                        &format!("{key}.with"),
                        "puts every node on one side; leave at least one on the other".into(),
                    );
                }
            }
            if fault.restart_after_secs.is_some() && fault.kind != FaultKind::Kill {
                return bad(
                    &format!("{key}.restart_after_secs"),
                    format!(
                        "only applies to kind = \"kill\", not {:?}",
                        fault.kind.name()
                    ),
                );
            }
            if fault.duration_secs.is_some()
                && !matches!(fault.kind, FaultKind::Pause | FaultKind::Partition)
            {
                return bad(
                    &format!("{key}.duration_secs"),
                    format!(
                        "only applies to kind = \"pause\" or \"partition\", not {:?}",
                        fault.kind.name()
                    ),
                );
            }
            if fault.duration_secs == Some(0) {
                return bad(&format!("{key}.duration_secs"), "must be at least 1".into());
            }
        }
        Ok(())
    }
}

/// The bootstrap peer's name.
pub const BOOTSTRAP_NAME: &str = "bootstrap";

/// The name of validator `i`.
pub fn validator_name(i: u32) -> String {
    format!("validator-{i}")
}

/// The name of player node `i`.
pub fn player_name(i: u32) -> String {
    format!("player-{i}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(text: &str) -> String {
        Manifest::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn an_empty_manifest_is_the_default_testnet() {
        let manifest = Manifest::parse("").unwrap();
        assert_eq!(manifest, Manifest::default());
        assert_eq!(manifest.validators, 4);
        assert_eq!(manifest.players, 1);
        assert_eq!(
            manifest.node_names(),
            [
                "bootstrap",
                "validator-0",
                "validator-1",
                "validator-2",
                "validator-3",
                "player-0"
            ]
        );
    }

    #[test]
    fn the_documented_example_parses_and_round_trips() {
        let text = r#"
validators = 4
players = 1
base_port = 27000

[chain]
name = "bitcraps-local"
crash_betting_ms = 5000
crash_cooldown_ms = 2000
craps_roll_interval_ms = 2000
faucet_max_per_request = 1000000
bankroll = 1000000000
validator_stake = 100000
wallets = 4
wallet_balance = 1000000
min_fee = 1
epoch_length_blocks = 1000
unbonding_blocks = 2000

[[faults]]
at_secs = 20
node = "validator-2"
kind = "kill"
restart_after_secs = 5

[[faults]]
at_secs = 40
node = "validator-3"
kind = "pause"
duration_secs = 10

[[faults]]
at_secs = 60
node = "player-0"
kind = "restart"

[[faults]]
at_secs = 80
node = "validator-0"
kind = "partition"
duration_secs = 15

[[faults]]
at_secs = 120
node = "validator-0"
with = ["validator-1", "player-0"]
kind = "partition"
duration_secs = 10
"#;
        let manifest = Manifest::parse(text).unwrap();
        assert_eq!(manifest.faults.len(), 5);
        assert_eq!(manifest.faults[0].kind, FaultKind::Kill);
        assert_eq!(manifest.faults[0].hold_secs(), 5);
        assert_eq!(manifest.faults[1].kind, FaultKind::Pause);
        assert_eq!(manifest.faults[1].hold_secs(), 10);
        assert_eq!(manifest.faults[2].kind, FaultKind::Restart);
        assert_eq!(manifest.faults[3].kind, FaultKind::Partition);
        assert_eq!(manifest.faults[3].hold_secs(), 15);
        assert_eq!(manifest.faults[3].side(), ["validator-0"]);
        assert_eq!(
            manifest.faults[4].side(),
            ["validator-0", "validator-1", "player-0"]
        );
        assert_eq!(Manifest::parse(&manifest.to_toml()).unwrap(), manifest);
    }

    #[test]
    fn bad_manifests_are_refused_with_what_to_fix() {
        assert!(invalid("validatorz = 4").contains("validatorz"));
        assert!(invalid("validators = \"four\"").contains("validators"));
        assert!(invalid("validators = 0").contains("run 1 to 64"));
        assert!(invalid("validators = 65").contains("run 1 to 64"));
        assert!(invalid("players = 33").contains("0 to 32"));
        assert!(invalid("base_port = 80").contains("1024..65535"));
        assert!(invalid("base_port = 65500").contains("1024..65535"));
        assert!(invalid("[chain]\nname = \"\"").contains("chain.name"));
        assert!(invalid("[chain]\nbankroll = 0").contains("chain.bankroll"));
        assert!(invalid("players = 3\n[chain]\nwallets = 2").contains("one wallet per player"));
        assert!(invalid("[chain]\ncolour = 1").contains("colour"));
        let short = invalid("[chain]\nepoch_length_blocks = 2");
        assert!(short.contains("chain.epoch_length_blocks"), "{short}");
        assert!(short.contains("at least 3"), "{short}");
        // A short epoch needs no unbonding of its own below the default…
        let epochs = Manifest::parse("[chain]\nepoch_length_blocks = 40").unwrap();
        assert_eq!(epochs.chain.epoch_length_blocks, 40);
        // …but an unbonding shorter than an epoch is refused with the fix.
        let unbonding = invalid("[chain]\nepoch_length_blocks = 40\nunbonding_blocks = 39");
        assert!(unbonding.contains("chain.unbonding_blocks"), "{unbonding}");
        assert!(unbonding.contains("at least 40"), "{unbonding}");
        let long = invalid("[chain]\nepoch_length_blocks = 5000");
        assert!(long.contains("chain.unbonding_blocks"), "{long}");
        let unknown_node =
            invalid("[[faults]]\nat_secs = 1\nnode = \"validator-9\"\nkind = \"kill\"");
        assert!(unknown_node.contains("validator-9"), "{unknown_node}");
        assert!(unknown_node.contains("validator-3"), "{unknown_node}");
        let no_kind = invalid("[[faults]]\nat_secs = 1\nnode = \"validator-1\"");
        assert!(no_kind.contains("kind"), "{no_kind}");
        let bad_kind = invalid("[[faults]]\nat_secs = 1\nnode = \"validator-1\"\nkind = \"melt\"");
        assert!(bad_kind.contains("melt"), "{bad_kind}");
        let partition = |at: u64, extra: &str| {
            format!(
                "[[faults]]\nat_secs = {at}\nnode = \"validator-1\"\nkind = \"partition\"\n{extra}\n"
            )
        };
        assert!(Manifest::parse(&partition(1, "duration_secs = 9")).is_ok());
        let everyone = invalid(&partition(
            1,
            "with = [\"bootstrap\", \"validator-0\", \"validator-2\", \"validator-3\", \"player-0\"]",
        ));
        assert!(everyone.contains("every node on one side"), "{everyone}");
        let stranger = invalid(&partition(1, "with = [\"validator-7\"]"));
        assert!(stranger.contains("validator-7"), "{stranger}");
        // Partitions may overlap (several in force at once).
        let overlapping = Manifest::parse(&format!(
            "{}{}",
            partition(1, "duration_secs = 10"),
            partition(5, "")
        ))
        .unwrap();
        assert_eq!(overlapping.faults.len(), 2);
        let with_kill = invalid(
            "[[faults]]\nat_secs = 1\nnode = \"validator-1\"\nkind = \"kill\"\nwith = [\"player-0\"]",
        );
        assert!(with_kill.contains("faults[0].with"), "{with_kill}");
        let pause = invalid(
            "[[faults]]\nat_secs = 1\nnode = \"validator-1\"\nkind = \"pause\"\nduration_secs = 0",
        );
        assert!(pause.contains("duration_secs"), "{pause}");
        let twin =
            Manifest::parse("[[faults]]\nat_secs = 1\nnode = \"validator-1\"\nkind = \"twin\"")
                .unwrap();
        assert_eq!(twin.faults[0].kind, FaultKind::Twin);
        assert_eq!(twin.faults[0].hold_secs(), 0);
        let player_twin = invalid("[[faults]]\nat_secs = 1\nnode = \"player-0\"\nkind = \"twin\"");
        assert!(player_twin.contains("name a validator"), "{player_twin}");
        let twin_hold = invalid(
            "[[faults]]\nat_secs = 1\nnode = \"validator-1\"\nkind = \"twin\"\nduration_secs = 3",
        );
        assert!(twin_hold.contains("duration_secs"), "{twin_hold}");
        let stray = invalid(
            "[[faults]]\nat_secs = 1\nnode = \"validator-1\"\nkind = \"restart\"\nduration_secs = 3",
        );
        assert!(stray.contains("duration_secs"), "{stray}");
        assert!(invalid("validators = [").contains("invalid manifest"));
    }

    #[test]
    fn a_missing_or_huge_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Manifest::read(&dir.path().join("nope.toml"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope.toml"), "{missing}");
        let huge = dir.path().join("huge.toml");
        std::fs::write(&huge, "#".repeat(MAX_MANIFEST_BYTES as usize + 10)).unwrap();
        let error = Manifest::read(&huge).unwrap_err().to_string();
        assert!(error.contains("over"), "{error}");
    }
}
