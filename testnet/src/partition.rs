//! # Partitions of a running testnet
//!
//! Every node of a testnet is configured with fault injection on
//! (`[fault_injection] partition_file = "<node dir>/partition.toml"`), so
//! it obeys a partition file listing the peers it is cut off from
//! (`node::partition`: it disconnects and refuses them on libp2p and drops
//! every validator-network message to and from them). The nodes notice a
//! change within 100 ms.
//!
//! ## Several partitions at once
//!
//! [`cut`] adds a partition to those in force: the named nodes on one
//! side, every other node on the other. Any number may be in force at
//! once, each with its own id, and two nodes are cut off from each other
//! as long as **any** partition in force puts them on different sides.
//! Cutting `validator-2` and then `validator-3` off therefore splits the
//! testnet into three groups (`validator-2 | validator-3 | the rest`, a
//! 2|1|1 split of 4 validators); cutting `validator-0 --with validator-1`
//! and then `validator-0` alone gives `validator-0 | validator-1 | the
//! rest`. [`heal_one`] ends one partition (the others stay), [`heal`]
//! ends them all. [`cut_off`] and [`Record::groups`] are that rule, and
//! each node's file holds everyone it is cut off from under all of them
//! together, rewritten whenever a partition starts or ends.
//!
//! This is an application-level cut made by the nodes themselves, not
//! packet loss: on loopback a real one would need root and a packet
//! filter. The bootstrap peer has no filter; the nodes on the other side
//! refuse it, which cuts it just as well. A partition file outlives its
//! node, so a partitioned node that is killed and restarted stays
//! partitioned until its partition heals; `testnet up` heals a reused
//! testnet before starting it.
//!
//! The partitions in force are recorded in `<dir>/partition.json`
//! ([`Record`]: each one's sides, since when, and when a timed one heals),
//! which `testnet status` shows. Every change takes an exclusive lock on
//! `<dir>/partition.lock` while it reads the record, rewrites the nodes'
//! files and writes the record back, so partitions started and healed at
//! once (overlapping faults of a schedule, or several commands) never
//! lose one another.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use node::config::NodeConfig;
use node::network::NodeKey;
use node::partition::{PartitionFile, ValidatorKey, validator_identity};

use crate::layout::{Layout, NodeEntry, Role};
use crate::net::NetError;

/// The partition file's name in a node's directory.
pub const PARTITION_FILE: &str = "partition.toml";

/// The record of the partitions in force, in the testnet directory.
pub const RECORD_FILE: &str = "partition.json";

/// The lock file every change of the partitions holds, in the testnet
/// directory.
pub const LOCK_FILE: &str = "partition.lock";

/// One partition in force: `side` cut off from `rest`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Partition {
    /// Its id (1, 2, …): never reused while any partition is in force;
    /// numbering starts again once none is.
    pub id: u64,
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

impl Partition {
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
            None => line.push_str(&format!("; until `testnet heal --id {}`", self.id)),
        }
        line
    }
}

/// The partitions in force, as [`cut`] recorded them in
/// `<dir>/partition.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// Every partition in force, oldest first.
    pub partitions: Vec<Partition>,
    /// The id the next partition gets.
    pub next_id: u64,
}

impl Record {
    /// The record in `layout`'s directory, if a partition is in force.
    pub fn read(layout: &Layout) -> Option<Record> {
        Record::load(layout)
            .ok()
            .filter(|record| !record.partitions.is_empty())
    }

    /// The record, empty if there is none; an error if the file cannot
    /// be read or is not a record (e.g. written by an older `bitcraps`).
    fn load(layout: &Layout) -> Result<Record, NetError> {
        let path = layout.dir.join(RECORD_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Record::default()),
            Err(e) => return Err(file_error(path)(e.to_string())),
        };
        serde_json::from_str(&text).map_err(|e| {
            file_error(path)(format!(
                "not a record of partitions ({e}); `bitcraps testnet heal` ends every partition and removes it"
            ))
        })
    }

    /// Writes the record, or removes it when no partition is left.
    fn save(&self, layout: &Layout) -> Result<(), NetError> {
        let path = layout.dir.join(RECORD_FILE);
        if self.partitions.is_empty() {
            return remove_file(&path);
        }
        let tmp = layout.dir.join(format!("{RECORD_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).expect("a record always serializes");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| file_error(path.clone())(e.to_string()))
    }

    /// Adds a partition of `side` from the other `nodes` since `since_ms`;
    /// returns its id.
    fn add(&mut self, nodes: &[String], side: &BTreeSet<String>, since_ms: u64) -> u64 {
        let id = self.next_id.max(1);
        self.next_id = id + 1;
        let (side, rest): (Vec<String>, Vec<String>) =
            nodes.iter().cloned().partition(|name| side.contains(name));
        self.partitions.push(Partition {
            id,
            side,
            rest,
            since_ms,
            heal_at_ms: None,
        });
        id
    }

    /// The groups of mutually connected nodes, in the order of their
    /// first node in `nodes`: nodes are in one group when every partition
    /// in force puts them on the same side.
    pub fn groups(&self, nodes: &[String]) -> Vec<Vec<String>> {
        let mut groups: Vec<(Vec<bool>, Vec<String>)> = Vec::new();
        for name in nodes {
            let sides = self.sides_of(name);
            match groups.iter_mut().find(|(key, _)| *key == sides) {
                Some((_, group)) => group.push(name.clone()),
                None => groups.push((sides, vec![name.clone()])),
            }
        }
        groups.into_iter().map(|(_, group)| group).collect()
    }

    /// For each partition in force, whether `name` is on its named side.
    fn sides_of(&self, name: &str) -> Vec<bool> {
        self.partitions
            .iter()
            .map(|p| p.side.iter().any(|n| n == name))
            .collect()
    }

    /// One line for `testnet status`, at `now_ms`: the partition, or with
    /// several each of them and the groups they leave, largest first.
    pub fn describe(&self, now_ms: u64) -> String {
        match self.partitions.as_slice() {
            [] => "none".into(),
            [one] => format!("[{}] {}", one.id, one.describe(now_ms)),
            several => {
                let nodes: Vec<String> = several[0]
                    .side
                    .iter()
                    .chain(&several[0].rest)
                    .cloned()
                    .collect();
                // Each group is in layout order (its nodes share a side of
                // the first partition); the groups go largest first.
                let mut groups = self.groups(&nodes);
                groups.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a[0].cmp(&b[0])));
                let each: Vec<String> = several
                    .iter()
                    .map(|p| format!("[{}] {}", p.id, p.describe(now_ms)))
                    .collect();
                format!(
                    "{} in force: {}; groups: {}",
                    several.len(),
                    each.join("; "),
                    describe_groups(&groups)
                )
            }
        }
    }
}

/// `a, b | c | d, e`.
fn describe_groups(groups: &[Vec<String>]) -> String {
    groups
        .iter()
        .map(|g| g.join(", "))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Who is cut off from whom under `partitions`: each of `nodes` with the
/// nodes some partition puts on the other side (empty: connected to all).
pub fn cut_off(nodes: &[String], partitions: &[Partition]) -> BTreeMap<String, BTreeSet<String>> {
    let side = |p: &Partition, name: &str| p.side.iter().any(|n| n == name);
    nodes
        .iter()
        .map(|me| {
            let others = nodes
                .iter()
                .filter(|other| partitions.iter().any(|p| side(p, me) != side(p, other)))
                .cloned()
                .collect();
            (me.clone(), others)
        })
        .collect()
}

/// Sets the heal time of partition `id` to `hold` from its start (nothing
/// if it is no longer in force).
pub fn plan_heal(layout: &Layout, id: u64, hold: std::time::Duration) -> Result<(), NetError> {
    let _lock = lock(layout)?;
    let mut record = Record::load(layout)?;
    let Some(partition) = record.partitions.iter_mut().find(|p| p.id == id) else {
        return Ok(());
    };
    partition.heal_at_ms = Some(partition.since_ms + hold.as_millis() as u64);
    record.save(layout)
}

/// What [`cut`] did: the two sides, by node name, and the groups every
/// partition in force leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// The new partition's id (for [`heal_one`]).
    pub id: u64,
    /// The named nodes.
    pub side: Vec<String>,
    /// Every other node.
    pub rest: Vec<String>,
    /// The groups of mutually connected nodes now (two for a partition
    /// alone, more when others are in force).
    pub groups: Vec<Vec<String>>,
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cut off from {} (partition {}",
            self.side.join(", "),
            self.rest.join(", "),
            self.id
        )?;
        if self.groups.len() > 2 {
            write!(
                f,
                "; with those in force: {}",
                describe_groups(&self.groups)
            )?;
        }
        f.write_str(")")
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

/// Removes `path`; a missing file is fine.
fn remove_file(path: &Path) -> Result<(), NetError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(file_error(path.to_path_buf())(e.to_string())),
    }
}

/// Takes the exclusive lock on the testnet's partitions (`flock`,
/// released when dropped); waits while another change holds it.
fn lock(layout: &Layout) -> Result<Flock<std::fs::File>, NetError> {
    let path = layout.dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| file_error(path.clone())(e.to_string()))?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| file_error(path.clone())(format!("cannot lock: {e}")))
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

fn names(layout: &Layout) -> Vec<String> {
    layout.nodes.iter().map(|n| n.name.clone()).collect()
}

/// Writes every node the peers `partitions` cut it off from (see
/// [`cut_off`]); a node cut off from no one has its file removed.
fn apply(layout: &Layout, partitions: &[Partition]) -> Result<(), NetError> {
    let identities: BTreeMap<&str, Identity> = layout
        .nodes
        .iter()
        .map(|node| Ok((node.name.as_str(), identity(node)?)))
        .collect::<Result<_, NetError>>()?;
    for (name, others) in cut_off(&names(layout), partitions) {
        let Some(path) = &identities[name.as_str()].partition_file else {
            continue;
        };
        if others.is_empty() {
            PartitionFile::remove(path).map_err(|e| file_error(path.clone())(e.to_string()))?;
            continue;
        }
        let mut file = PartitionFile::default();
        for other in &others {
            let them = &identities[other.as_str()];
            file.libp2p.insert(them.peer);
            if let Some(key) = &them.validator {
                file.validators.insert(key.clone());
            }
        }
        file.write(path)
            .map_err(|e| file_error(path.clone())(e.to_string()))?;
    }
    Ok(())
}

/// Cuts the nodes named in `side` off from every other node (see the
/// module documentation), in addition to the partitions in force.
/// Refuses an unknown name, an empty side and a side holding every node.
pub fn cut(layout: &Layout, side: &[String]) -> Result<Cut, NetError> {
    let mut named = BTreeSet::new();
    for name in side {
        named.insert(layout.node(name)?.name.clone());
    }
    if named.is_empty() || named.len() == layout.nodes.len() {
        return Err(NetError::BadPartition {
            reason: format!(
                "name at least one node and leave at least one on the other side (the nodes are {})",
                names(layout).join(", ")
            ),
        });
    }
    let _lock = lock(layout)?;
    let mut record = Record::load(layout)?;
    let nodes = names(layout);
    let id = record.add(&nodes, &named, crate::twin::now_ms());
    apply(layout, &record.partitions)?;
    record.save(layout)?;
    let added = record
        .partitions
        .last()
        .expect("the partition just added")
        .clone();
    Ok(Cut {
        id,
        side: added.side,
        rest: added.rest,
        groups: record.groups(&nodes),
    })
}

/// Ends partition `id` alone: the nodes it separated are connected again
/// unless another partition in force still separates them. Returns
/// whether it was in force.
pub fn heal_one(layout: &Layout, id: u64) -> Result<bool, NetError> {
    let _lock = lock(layout)?;
    let mut record = Record::load(layout)?;
    let before = record.partitions.len();
    record.partitions.retain(|p| p.id != id);
    if record.partitions.len() == before {
        return Ok(false);
    }
    apply(layout, &record.partitions)?;
    record.save(layout)?;
    Ok(true)
}

/// Ends every partition: removes every node's partition file and the
/// record, so the whole testnet is connected again. Nodes without fault
/// injection are skipped.
pub fn heal(layout: &Layout) -> Result<(), NetError> {
    let _lock = lock(layout)?;
    for node in layout.nodes.iter().filter(|n| n.role != Role::Bootstrap) {
        let path = match partition_file(node) {
            Ok(path) => path,
            Err(NetError::FaultInjectionOff { .. }) => continue,
            Err(error) => return Err(error),
        };
        PartitionFile::remove(&path).map_err(|e| file_error(path.clone())(e.to_string()))?;
    }
    remove_file(&layout.dir.join(RECORD_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn partition(id: u64, side: &[&str], nodes: &[&str]) -> Partition {
        Partition {
            id,
            side: strings(side),
            rest: nodes
                .iter()
                .filter(|n| !side.contains(n))
                .map(|n| (*n).to_owned())
                .collect(),
            since_ms: 10_000,
            heal_at_ms: None,
        }
    }

    const NODES: [&str; 6] = [
        "bootstrap",
        "validator-0",
        "validator-1",
        "validator-2",
        "validator-3",
        "player-0",
    ];

    #[test]
    fn a_partition_says_who_is_cut_since_when_and_until_when() {
        let one = Partition {
            id: 1,
            side: strings(&["validator-0", "validator-1"]),
            rest: strings(&["bootstrap", "validator-2"]),
            since_ms: 10_000,
            heal_at_ms: Some(40_000),
        };
        assert_eq!(
            one.describe(25_000),
            "validator-0, validator-1 cut off from bootstrap, validator-2 for 15 s; heals in 15 s"
        );
        assert!(one.describe(41_000).ends_with("due to heal now"));
        let open = Partition {
            heal_at_ms: None,
            ..one.clone()
        };
        assert!(
            open.describe(12_000)
                .ends_with("until `testnet heal --id 1`")
        );
        // A record of one partition reads as that partition, with its id.
        let record = Record {
            partitions: vec![one.clone()],
            next_id: 2,
        };
        assert_eq!(
            record.describe(25_000),
            format!("[1] {}", one.describe(25_000))
        );
    }

    #[test]
    fn two_single_node_partitions_split_the_testnet_in_three() {
        let record = Record {
            partitions: vec![
                partition(1, &["validator-2"], &NODES),
                partition(2, &["validator-3"], &NODES),
            ],
            next_id: 3,
        };
        let nodes = strings(&NODES);
        assert_eq!(
            record.groups(&nodes),
            vec![
                strings(&["bootstrap", "validator-0", "validator-1", "player-0"]),
                strings(&["validator-2"]),
                strings(&["validator-3"]),
            ]
        );
        let cut = cut_off(&nodes, &record.partitions);
        assert_eq!(
            cut["validator-0"],
            strings(&["validator-2", "validator-3"])
                .into_iter()
                .collect()
        );
        // The two cut nodes are cut off from each other too.
        assert!(cut["validator-2"].contains("validator-3"));
        assert!(cut["validator-3"].contains("validator-2"));
        assert_eq!(cut["validator-2"].len(), 5);
        // Symmetric: a is cut off from b exactly when b is from a.
        for (a, others) in &cut {
            assert!(!others.contains(a));
            for b in others {
                assert!(cut[b].contains(a), "{a} / {b}");
            }
        }
        let line = record.describe(12_000);
        assert!(
            line.starts_with("2 in force: [1] validator-2 cut off"),
            "{line}"
        );
        assert!(
            line.ends_with(
                "groups: bootstrap, validator-0, validator-1, player-0 | validator-2 | validator-3"
            ),
            "{line}"
        );
    }

    #[test]
    fn overlapping_sides_and_partial_heals() {
        let nodes = strings(&NODES);
        // validator-0 with validator-1, then validator-0 alone: three groups.
        let both = [
            partition(1, &["validator-0", "validator-1"], &NODES),
            partition(2, &["validator-0"], &NODES),
        ];
        let record = Record {
            partitions: both.to_vec(),
            next_id: 3,
        };
        assert_eq!(
            record.groups(&nodes),
            vec![
                strings(&["bootstrap", "validator-2", "validator-3", "player-0"]),
                strings(&["validator-0"]),
                strings(&["validator-1"]),
            ]
        );
        // The second healed: validator-0 and validator-1 are together again,
        // still cut off from the rest.
        let cut = cut_off(&nodes, &both[..1]);
        assert!(!cut["validator-0"].contains("validator-1"));
        assert_eq!(cut["validator-1"].len(), 4);
        // None in force: nobody is cut off.
        assert!(cut_off(&nodes, &[]).values().all(BTreeSet::is_empty));
        // The same partition twice cuts no more than once.
        let twice = [
            partition(1, &["validator-3"], &NODES),
            partition(2, &["validator-3"], &NODES),
        ];
        assert_eq!(cut_off(&nodes, &twice), cut_off(&nodes, &twice[..1]));
    }

    #[test]
    fn ids_are_never_reused() {
        let nodes = strings(&NODES);
        let mut record = Record::default();
        let side = |name: &str| BTreeSet::from([name.to_owned()]);
        assert_eq!(record.add(&nodes, &side("validator-1"), 0), 1);
        assert_eq!(record.add(&nodes, &side("validator-2"), 0), 2);
        record.partitions.retain(|p| p.id != 2);
        assert_eq!(record.add(&nodes, &side("validator-3"), 0), 3);
        assert_eq!(
            record.partitions[1].rest,
            strings(&[
                "bootstrap",
                "validator-0",
                "validator-1",
                "validator-2",
                "player-0"
            ])
        );
    }

    /// A testnet directory with keys and configurations (no process).
    fn testnet(dir: &Path) -> Layout {
        let (layout, _) = crate::net::prepare(&crate::net::PrepareOptions {
            dir: dir.to_path_buf(),
            manifest: None,
            fresh: true,
            binary: PathBuf::from("/bin/false"),
        })
        .unwrap();
        layout
    }

    /// Each node's partition file, by name (bootstrap has none).
    fn files(layout: &Layout) -> BTreeMap<String, PartitionFile> {
        layout
            .nodes
            .iter()
            .filter(|n| n.role != Role::Bootstrap)
            .map(|n| {
                let path = n.dir.join(PARTITION_FILE);
                (n.name.clone(), PartitionFile::read(&path).unwrap())
            })
            .collect()
    }

    #[test]
    fn several_partitions_are_written_healed_one_by_one_and_all_at_once() {
        let work = tempfile::tempdir().unwrap();
        let layout = testnet(&work.path().join("net"));
        let peer = |name: &str| identity(layout.node(name).unwrap()).unwrap();
        let first = cut(&layout, &strings(&["validator-2"])).unwrap();
        let second = cut(&layout, &strings(&["validator-3"])).unwrap();
        assert_eq!((first.id, second.id), (1, 2));
        assert_eq!(first.groups.len(), 2);
        assert_eq!(second.groups.len(), 3);
        assert!(
            second.to_string().contains("validator-2 | validator-3"),
            "{second}"
        );
        let record = Record::read(&layout).unwrap();
        assert_eq!(record.partitions.len(), 2);

        let now = files(&layout);
        let v0 = &now["validator-0"];
        assert_eq!(
            v0.libp2p,
            BTreeSet::from([peer("validator-2").peer, peer("validator-3").peer])
        );
        assert_eq!(
            v0.validators,
            BTreeSet::from([
                peer("validator-2").validator.unwrap(),
                peer("validator-3").validator.unwrap()
            ])
        );
        // validator-2 is cut off from all five others, validator-3 included.
        assert_eq!(now["validator-2"].libp2p.len(), 5);
        assert_eq!(now["validator-2"].validators.len(), 3);

        plan_heal(&layout, 2, std::time::Duration::from_secs(30)).unwrap();
        let record = Record::read(&layout).unwrap();
        assert_eq!(record.partitions[0].heal_at_ms, None);
        assert_eq!(
            record.partitions[1].heal_at_ms,
            Some(record.partitions[1].since_ms + 30_000)
        );

        // The first heals; the second stays.
        assert!(heal_one(&layout, 1).unwrap());
        assert!(!heal_one(&layout, 1).unwrap(), "already healed");
        let now = files(&layout);
        assert!(
            now["validator-2"]
                .libp2p
                .contains(&peer("validator-3").peer)
        );
        assert_eq!(now["validator-2"].libp2p.len(), 1);
        assert_eq!(
            now["validator-0"].libp2p,
            BTreeSet::from([peer("validator-3").peer])
        );
        assert_eq!(now["validator-3"].libp2p.len(), 5);
        assert_eq!(Record::read(&layout).unwrap().partitions[0].id, 2);

        // A third, then all heal at once.
        cut(&layout, &strings(&["player-0", "validator-1"])).unwrap();
        assert_eq!(Record::read(&layout).unwrap().partitions.len(), 2);
        heal(&layout).unwrap();
        assert!(files(&layout).values().all(PartitionFile::is_empty));
        assert_eq!(Record::read(&layout), None);
        assert!(!layout.dir.join(RECORD_FILE).exists());

        // The last partition healed alone leaves no file either.
        let only = cut(&layout, &strings(&["validator-0"])).unwrap();
        assert!(heal_one(&layout, only.id).unwrap());
        assert!(files(&layout).values().all(PartitionFile::is_empty));
        assert!(!layout.dir.join(RECORD_FILE).exists());
        for node in &layout.nodes {
            assert!(!node.dir.join(PARTITION_FILE).exists(), "{}", node.name);
        }

        // Refused: nobody, everybody, a stranger.
        assert!(cut(&layout, &[]).is_err());
        assert!(cut(&layout, &names(&layout)).is_err());
        assert!(cut(&layout, &strings(&["validator-9"])).is_err());
        // A record that is not one is an error, not silently replaced.
        std::fs::write(layout.dir.join(RECORD_FILE), "{\"side\": []}").unwrap();
        let error = cut(&layout, &strings(&["validator-0"])).unwrap_err();
        assert!(error.to_string().contains("testnet heal"), "{error}");
        heal(&layout).unwrap();
        assert!(cut(&layout, &strings(&["validator-0"])).is_ok());
    }

    #[test]
    fn partitions_started_and_healed_at_once_never_lose_one_another() {
        let work = tempfile::tempdir().unwrap();
        let layout = testnet(&work.path().join("net"));
        // Four threads, each cutting its own node off and healing it again
        // and again, while the others do the same: without the lock one
        // thread's read-modify-write would drop another's partition.
        let victims = ["validator-0", "validator-1", "validator-2", "player-0"];
        std::thread::scope(|scope| {
            for victim in victims {
                let layout = &layout;
                scope.spawn(move || {
                    for _ in 0..10 {
                        let cut = cut(layout, &strings(&[victim])).unwrap();
                        let record = Record::read(layout).unwrap();
                        assert!(record.partitions.iter().any(|p| p.id == cut.id));
                        let mine = PartitionFile::read(
                            &layout.node(victim).unwrap().dir.join(PARTITION_FILE),
                        )
                        .unwrap();
                        assert_eq!(mine.libp2p.len(), 5, "{victim} is cut off from all");
                        assert!(heal_one(layout, cut.id).unwrap(), "{victim}: lost");
                    }
                });
            }
        });
        assert_eq!(Record::read(&layout), None);
        assert!(files(&layout).values().all(PartitionFile::is_empty));
    }
}
