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
//!
//! [`cut`] also records the partition in `<dir>/partition.json` (the two
//! sides, since when, and when a timed partition heals), which `testnet
//! status` shows as long as it is in force; [`heal`] removes it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use node::config::NodeConfig;
use node::network::NodeKey;
use node::partition::{PartitionFile, ValidatorKey, validator_identity};

use crate::layout::{Layout, NodeEntry, Role};
use crate::net::NetError;

/// The partition file's name in a node's directory.
pub const PARTITION_FILE: &str = "partition.toml";

/// The record of the partition in force, in the testnet directory.
pub const RECORD_FILE: &str = "partition.json";

/// The partition in force, as [`cut`] recorded it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// The named nodes.
    pub side: Vec<String>,
    /// Every other node.
    pub rest: Vec<String>,
    /// When the cut was made, ms since the Unix epoch.
    pub since_ms: u64,
    /// When it is due to heal, ms since the Unix epoch (`None`: at
    /// `testnet heal`).
    pub heal_at_ms: Option<u64>,
}

impl Record {
    /// The record in `layout`'s directory, if a partition is in force.
    pub fn read(layout: &Layout) -> Option<Record> {
        let text = std::fs::read_to_string(layout.dir.join(RECORD_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn write(&self, layout: &Layout) -> Result<(), NetError> {
        let path = layout.dir.join(RECORD_FILE);
        let tmp = layout.dir.join(format!("{RECORD_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).expect("a record always serializes");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| file_error(path.clone())(e.to_string()))
    }

    /// One line for `testnet status`, at `now_ms`.
    pub fn describe(&self, now_ms: u64) -> String {
        let secs = |ms: u64| ms as f64 / 1000.0;
        let mut line = format!(
            "{} cut off from {} for {:.0} s",
            self.side.join(", "),
            self.rest.join(", "),
            secs(now_ms.saturating_sub(self.since_ms))
        );
        match self.heal_at_ms {
            Some(at) if at > now_ms => {
                line.push_str(&format!("; heals in {:.0} s", secs(at - now_ms)));
            }
            Some(_) => line.push_str("; due to heal now"),
            None => line.push_str("; until `testnet heal`"),
        }
        line
    }
}

/// Sets the heal time of the recorded partition to `hold` from its start.
pub fn plan_heal(layout: &Layout, hold: std::time::Duration) -> Result<(), NetError> {
    if let Some(mut record) = Record::read(layout) {
        record.heal_at_ms = Some(record.since_ms + hold.as_millis() as u64);
        record.write(layout)?;
    }
    Ok(())
}

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
    let (side, rest): (Vec<String>, Vec<String>) = layout
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .partition(|name| named.contains(name));
    Record {
        side: side.clone(),
        rest: rest.clone(),
        since_ms: crate::twin::now_ms(),
        heal_at_ms: None,
    }
    .write(layout)?;
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
    let record = layout.dir.join(RECORD_FILE);
    match std::fs::remove_file(&record) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(file_error(record)(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_says_who_is_cut_since_when_and_until_when() {
        let record = Record {
            side: vec!["validator-0".into(), "validator-1".into()],
            rest: vec!["bootstrap".into(), "validator-2".into()],
            since_ms: 10_000,
            heal_at_ms: Some(40_000),
        };
        assert_eq!(
            record.describe(25_000),
            "validator-0, validator-1 cut off from bootstrap, validator-2 for 15 s; heals in 15 s"
        );
        assert!(record.describe(41_000).ends_with("due to heal now"));
        let open = Record {
            heal_at_ms: None,
            ..record
        };
        assert!(open.describe(12_000).ends_with("until `testnet heal`"));
    }
}
