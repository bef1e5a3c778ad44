//! # Where everything of a testnet lives
//!
//! One directory holds a whole testnet:
//!
//! ```text
//! <dir>/manifest.toml          the manifest it was made from
//! <dir>/testnet.json           this layout (nodes, ports, files, commands)
//! <dir>/genesis.json           the chain's genesis
//! <dir>/wallets/wallet-<i>.json      funded player keystores
//! <dir>/wallets/wallet-<i>.password  and their passwords
//! <dir>/wallets/validator-<i>.json   each validator's account keystore
//!                              (its identity: stake, unstake), .password
//! <dir>/supervisor.pid         the `testnet up` process, while it runs
//! <dir>/nodes/<name>/          one directory per node: config.toml, keys,
//!                              data/, api.cookie, node.log, node.pid,
//!                              partition.toml while it is partitioned
//! <dir>/partition.json         the partition in force (sides, since, heal time)
//! <dir>/twins/<validator>/     an equivocating twin's node directory
//! ```
//!
//! Ports: node `i` in start order (the bootstrap peer is 0, then the
//! validators, then the players) takes `base_port + 10·i` onwards: `+0`
//! libp2p (TCP and QUIC), `+1` the API (the bootstrap peer's `/health` and
//! `/metrics`), `+2` the validator-to-validator network.
//!
//! [`Layout`] is written to `testnet.json` by `testnet up` and read by every
//! other command (`status`, `kill`, `check`, `load`, `down`), so they need
//! nothing but the directory.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::manifest::{BOOTSTRAP_NAME, Manifest, PORTS_PER_NODE, player_name, validator_name};

/// The layout file's name.
pub const LAYOUT_FILE: &str = "testnet.json";

/// The supervisor's pid file name.
pub const SUPERVISOR_PID_FILE: &str = "supervisor.pid";

/// Why a layout could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// No testnet in the directory.
    #[error(
        "no testnet in {dir} ({LAYOUT_FILE} is missing); run `bitcraps testnet up --dir {dir}` first"
    )]
    Missing {
        /// The directory.
        dir: String,
    },
    /// The layout file could not be read or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A node name that is not in this testnet.
    #[error("no node {name:?} in this testnet; the nodes are {known}")]
    UnknownNode {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
}

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The bootstrap peer.
    Bootstrap,
    /// A validator (its index in the genesis order of the testnet).
    Validator,
    /// A player node (follows the chain, holds a wallet).
    Player,
}

/// One node: its ports, files and the command that starts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// `bootstrap`, `validator-<i>` or `player-<i>`.
    pub name: String,
    /// What it is.
    pub role: Role,
    /// Its directory.
    pub dir: PathBuf,
    /// The libp2p port (TCP and QUIC).
    pub p2p_port: u16,
    /// The API port (the bootstrap peer: `/health` and `/metrics`).
    pub http_port: u16,
    /// The validator network's port (validators only).
    pub validator_port: Option<u16>,
    /// Its arguments to the `bitcraps` binary.
    pub args: Vec<String>,
    /// The API cookie file (nodes with an API).
    pub cookie_file: Option<PathBuf>,
    /// The wallet keystore the node spends from (player nodes).
    pub wallet: Option<String>,
}

impl NodeEntry {
    /// Its log file.
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("node.log")
    }

    /// Its pid file.
    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("node.pid")
    }

    /// Its configuration file (not for the bootstrap peer).
    pub fn config_file(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    /// `http://127.0.0.1:<http port>`.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Whether it serves the node API (everything but the bootstrap peer).
    pub fn has_api(&self) -> bool {
        self.role != Role::Bootstrap
    }
}

/// A whole testnet on disk. See the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// The testnet directory.
    pub dir: PathBuf,
    /// The binary that runs every node.
    pub binary: PathBuf,
    /// The chain id (hex), once the genesis exists.
    pub chain_id: String,
    /// The manifest.
    pub manifest: Manifest,
    /// Every node, in start order.
    pub nodes: Vec<NodeEntry>,
    /// Equivocating twins started by `testnet twin` (see [`crate::twin`]):
    /// second processes with a validator's key, not nodes of the testnet
    /// (`check`, `load` and `chaos` leave them out; `status` shows them and
    /// `down` stops them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub twins: Vec<TwinEntry>,
}

/// A running (or stopped) equivocating twin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwinEntry {
    /// The validator whose key it signs with.
    pub of: String,
    /// Its process, directory and ports (`name` is `<validator>-twin`).
    pub node: NodeEntry,
    /// When it was started, ms since the Unix epoch.
    pub started_ms: u64,
}

impl Layout {
    /// The layout of `manifest` under `dir` (not yet written), run by
    /// `binary`. Node arguments are left empty for the caller to fill.
    pub fn plan(dir: &Path, binary: &Path, manifest: &Manifest) -> Layout {
        let mut nodes = Vec::new();
        let mut push = |name: String, role: Role| {
            let index = nodes.len() as u16;
            let base = manifest.base_port + index * PORTS_PER_NODE;
            let node_dir = dir.join("nodes").join(&name);
            nodes.push(NodeEntry {
                cookie_file: (role != Role::Bootstrap).then(|| node_dir.join("api.cookie")),
                dir: node_dir,
                name,
                role,
                p2p_port: base,
                http_port: base + 1,
                validator_port: (role == Role::Validator).then_some(base + 2),
                args: Vec::new(),
                wallet: None,
            });
        };
        push(BOOTSTRAP_NAME.to_owned(), Role::Bootstrap);
        for i in 0..manifest.validators {
            push(validator_name(i), Role::Validator);
        }
        for i in 0..manifest.players {
            push(player_name(i), Role::Player);
        }
        Layout {
            dir: dir.to_path_buf(),
            binary: binary.to_path_buf(),
            chain_id: String::new(),
            manifest: manifest.clone(),
            nodes,
            twins: Vec::new(),
        }
    }

    /// Reads `dir/testnet.json`.
    pub fn load(dir: &Path) -> Result<Layout, LayoutError> {
        let path = dir.join(LAYOUT_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LayoutError::Missing {
                    dir: dir.display().to_string(),
                });
            }
            Err(e) => {
                return Err(LayoutError::File {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        serde_json::from_str(&text).map_err(|e| LayoutError::File {
            path: path.display().to_string(),
            reason: format!("not a testnet layout ({e}); start again with --fresh"),
        })
    }

    /// Writes `dir/testnet.json` (atomically).
    pub fn save(&self) -> Result<(), LayoutError> {
        let path = self.dir.join(LAYOUT_FILE);
        let error = |e: std::io::Error| LayoutError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(&self.dir).map_err(error)?;
        let text = serde_json::to_string_pretty(self).expect("a layout always serializes");
        let tmp = self.dir.join(format!("{LAYOUT_FILE}.tmp"));
        std::fs::write(&tmp, text).map_err(error)?;
        std::fs::rename(&tmp, &path).map_err(error)
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Result<&NodeEntry, LayoutError> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| LayoutError::UnknownNode {
                name: name.to_owned(),
                known: self
                    .nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The nodes with an API (validators and players).
    pub fn api_nodes(&self) -> impl Iterator<Item = &NodeEntry> {
        self.nodes.iter().filter(|n| n.has_api())
    }

    /// The genesis file.
    pub fn genesis_file(&self) -> PathBuf {
        self.dir.join("genesis.json")
    }

    /// The wallets directory.
    pub fn wallets_dir(&self) -> PathBuf {
        self.dir.join("wallets")
    }

    /// The supervisor's pid file.
    pub fn supervisor_pid_file(&self) -> PathBuf {
        self.dir.join(SUPERVISOR_PID_FILE)
    }

    /// The twin of validator `of`, if one was started.
    pub fn twin(&self, of: &str) -> Option<&TwinEntry> {
        self.twins.iter().find(|t| t.of == of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_directories_follow_the_start_order() {
        let manifest = Manifest {
            validators: 2,
            players: 1,
            base_port: 30_000,
            ..Manifest::default()
        };
        let layout = Layout::plan(Path::new("/tmp/tn"), Path::new("/bin/bitcraps"), &manifest);
        let names: Vec<&str> = layout.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            ["bootstrap", "validator-0", "validator-1", "player-0"]
        );
        let v1 = layout.node("validator-1").unwrap();
        assert_eq!((v1.p2p_port, v1.http_port), (30_020, 30_021));
        assert_eq!(v1.validator_port, Some(30_022));
        assert_eq!(v1.dir, Path::new("/tmp/tn/nodes/validator-1"));
        assert_eq!(v1.http_url(), "http://127.0.0.1:30021");
        let player = layout.node("player-0").unwrap();
        assert_eq!(player.validator_port, None);
        assert!(player.has_api());
        assert!(!layout.node("bootstrap").unwrap().has_api());
        assert_eq!(layout.api_nodes().count(), 3);
        let error = layout.node("validator-7").unwrap_err().to_string();
        assert!(error.contains("validator-1"), "{error}");
    }

    #[test]
    fn a_layout_round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Layout::load(dir.path()).unwrap_err().to_string();
        assert!(missing.contains("testnet up"), "{missing}");
        let layout = Layout::plan(dir.path(), Path::new("/bin/bitcraps"), &Manifest::default());
        layout.save().unwrap();
        assert_eq!(Layout::load(dir.path()).unwrap(), layout);
        std::fs::write(dir.path().join(LAYOUT_FILE), "{").unwrap();
        let broken = Layout::load(dir.path()).unwrap_err().to_string();
        assert!(broken.contains("--fresh"), "{broken}");
    }
}
