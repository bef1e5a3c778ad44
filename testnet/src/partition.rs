//! # Partitions of a running testnet
//!
//! Every node of a testnet is configured with fault injection on
//! (`[fault_injection] partition_file = "<node dir>/partition.toml"`), so
//! it obeys a partition file listing the peers it is cut off from
//! (`node::partition`: it disconnects and refuses them on libp2p and drops
//! every validator-network message to and from them). [`cut`] splits the
//! testnet in two — the named nodes on one side, every other node on the
//! other — by writing each node the identities across the cut (its libp2p
//! peer id and, for a validator, its validator-network key); [`heal`]
//! removes every file. The nodes notice within 100 ms.
//!
//! This is an application-level cut made by the nodes themselves, not
//! packet loss: on loopback a real one would need root and a packet
//! filter. The bootstrap peer has no filter; the nodes on the other side
//! refuse it, which cuts it just as well. A partition file outlives its
//! node, so a partitioned node that is killed and restarted stays
//! partitioned until [`heal`]; `testnet up` heals a reused testnet before
//! starting it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use node::config::NodeConfig;
use node::network::NodeKey;
use node::partition::{PartitionFile, ValidatorKey, validator_identity};

use crate::layout::{Layout, NodeEntry, Role};
use crate::net::NetError;

/// The partition file's name in a node's directory.
pub const PARTITION_FILE: &str = "partition.toml";

/// What [`cut`] did: the two sides, by node name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// The named nodes.
    pub side: Vec<String>,
    /// Every other node.
    pub rest: Vec<String>,
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cut off from {}",
            self.side.join(", "),
            self.rest.join(", ")
        )
    }
}

/// A node's identities on both networks, and where its partition file is
/// (`None` for the bootstrap peer, which has no filter).
struct Identity {
    peer: node::network::PeerId,
    validator: Option<ValidatorKey>,
    partition_file: Option<PathBuf>,
}

fn file_error(path: PathBuf) -> impl Fn(String) -> NetError {
    move |reason| NetError::File {
        path: path.clone(),
        reason,
    }
}

/// Where `node` reads its partition file, from its configuration; an
/// error if fault injection is off there.
fn partition_file(node: &NodeEntry) -> Result<PathBuf, NetError> {
    let path = node.config_file();
    let text =
        std::fs::read_to_string(&path).map_err(|e| file_error(path.clone())(e.to_string()))?;
    let config =
        NodeConfig::from_toml(&text, &path).map_err(|e| file_error(path.clone())(e.to_string()))?;
    let Some(faults) = config.fault_injection else {
        return Err(NetError::FaultInjectionOff {
            name: node.name.clone(),
            config: path,
        });
    };
    Ok(if faults.partition_file.is_relative() {
        node.dir.join(faults.partition_file)
    } else {
        faults.partition_file
    })
}

fn identity(node: &NodeEntry) -> Result<Identity, NetError> {
    let key_name = match node.role {
        Role::Bootstrap => "bootstrap.key",
        Role::Validator | Role::Player => "node.key",
    };
    let key_file = node.dir.join(key_name);
    let key = NodeKey::load_or_generate(&key_file)
        .map_err(|e| file_error(key_file.clone())(e.to_string()))?;
    let validator = match node.role {
        Role::Validator => {
            let key_file = node.dir.join("validator.key");
            Some(
                validator_identity(&key_file)
                    .map_err(|e| file_error(key_file.clone())(e.to_string()))?,
            )
        }
        Role::Bootstrap | Role::Player => None,
    };
    let partition_file = match node.role {
        Role::Bootstrap => None,
        Role::Validator | Role::Player => Some(partition_file(node)?),
    };
    Ok(Identity {
        peer: key.peer_id(),
        validator,
        partition_file,
    })
}

/// Cuts the nodes named in `side` off from every other node (see the
/// module documentation); replaces any partition in force. Refuses an
/// unknown name, an empty side and a side holding every node.
pub fn cut(layout: &Layout, side: &[String]) -> Result<Cut, NetError> {
    let mut named = BTreeSet::new();
    for name in side {
        named.insert(layout.node(name)?.name.clone());
    }
    if named.is_empty() || named.len() == layout.nodes.len() {
        return Err(NetError::BadPartition {
            reason: format!(
                "name at least one node and leave at least one on the other side (the nodes are {})",
                layout
                    .nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let identities: Vec<(&NodeEntry, Identity)> = layout
        .nodes
        .iter()
        .map(|node| Ok((node, identity(node)?)))
        .collect::<Result<_, NetError>>()?;
    for (node, me) in &identities {
        let Some(path) = &me.partition_file else {
            continue;
        };
        let mine = named.contains(&node.name);
        let mut file = PartitionFile::default();
        for (other, them) in &identities {
            if named.contains(&other.name) != mine {
                file.libp2p.insert(them.peer);
                if let Some(key) = &them.validator {
                    file.validators.insert(key.clone());
                }
            }
        }
        file.write(path)
            .map_err(|e| file_error(path.clone())(e.to_string()))?;
    }
    let (side, rest) = layout
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .partition(|name| named.contains(name));
    Ok(Cut { side, rest })
}

/// Removes every node's partition file: the whole testnet is connected
/// again. Nodes without fault injection are skipped.
pub fn heal(layout: &Layout) -> Result<(), NetError> {
    for node in layout.nodes.iter().filter(|n| n.role != Role::Bootstrap) {
        let path = match partition_file(node) {
            Ok(path) => path,
            Err(NetError::FaultInjectionOff { .. }) => continue,
            Err(error) => return Err(error),
        };
        PartitionFile::remove(&path).map_err(|e| file_error(path.clone())(e.to_string()))?;
    }
    Ok(())
}
