//! # `testnet check`: do all nodes agree, and is the supply conserved?
//!
//! Reads every node through its public API only, then:
//!
//! 1. **Agreement.** For every height up to the highest any node reports,
//!    fetches `/v1/blocks/{height}` from every node that has it and
//!    compares the block hashes; the hash covers the header, so equal
//!    hashes mean equal parents, transactions, beacon entries and
//!    `parent_state_root` (the state root after the previous height). Each
//!    answer's hash is also recomputed from the block it carries.
//! 2. **An independent replica.** Replays the agreed chain from the genesis
//!    in a fresh in-memory ledger (`consensus::ledger::Ledger`), verifying
//!    every signature and every beacon σ against the genesis group key: a
//!    block whose `parent_state_root` is not the state root this replica
//!    computed, or that the ledger refuses, is a violation.
//! 3. **Supply.** After every block, the replica checks the ledger's
//!    invariants, the first of which is conservation: balances + bankroll +
//!    stakes + unbonding + table escrow + fee pool = genesis supply + faucet
//!    mints − burned fees and slashing.
//!
//! A node that cannot be reached is reported but is not a violation (it
//! may be killed or paused on purpose); fewer than one reachable node is
//! an error.
//!
//! [`check`] starts from the genesis each time; a [`Checker`] keeps its
//! replica between runs and goes on from the last height it replayed
//! (comparing that height again, so a node that rewrote it is caught),
//! which is what a check after every fault of a long run needs.

use std::collections::BTreeMap;
use std::fmt;

use consensus::block::FIRST_BLOCK_HEIGHT;
use consensus::genesis::Genesis;
use consensus::hash::BlockHash;
use consensus::ledger::Ledger;
use node::client::{ApiClient, BlockReply, ClientError};

use crate::layout::Layout;

/// How many block requests are in flight at once.
const CONCURRENT_FETCHES: usize = 16;

/// Why a check could not run (as opposed to finding a violation).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The genesis could not be read.
    #[error("cannot read the genesis {path}: {reason}")]
    Genesis {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// No node answered.
    #[error("no node answered; is the testnet running? (`bitcraps testnet status`)")]
    NoNodes,
}

/// One node's state as the check saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSeen {
    /// The node.
    pub name: String,
    /// Its height, or why it could not be read.
    pub height: Result<Option<u64>, String>,
}

/// A broken promise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Two nodes have different blocks at a height.
    Fork {
        /// The height.
        height: u64,
        /// Each node's block hash there.
        hashes: Vec<(String, BlockHash)>,
    },
    /// A node served a block whose hash is not the one it claimed.
    BadHash {
        /// The node.
        node: String,
        /// The height.
        height: u64,
    },
    /// A node reports a height but cannot serve a block at or below it.
    Missing {
        /// The node.
        node: String,
        /// The height.
        height: u64,
        /// What it answered.
        reason: String,
    },
    /// The replica refused a block (wrong state root, bad signature or σ,
    /// not the next block…).
    Refused {
        /// The height.
        height: u64,
        /// The ledger's reason.
        reason: String,
    },
    /// An invariant (supply first) broke after a block.
    Invariant {
        /// The height.
        height: u64,
        /// What broke.
        reason: String,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Fork { height, hashes } => {
                write!(f, "fork at height {height}:")?;
                for (node, hash) in hashes {
                    write!(f, " {node}={hash}")?;
                }
                Ok(())
            }
            Violation::BadHash { node, height } => write!(
                f,
                "{node} served a block at height {height} whose hash is not the one it claimed"
            ),
            Violation::Missing {
                node,
                height,
                reason,
            } => write!(
                f,
                "{node} reports a later height but did not serve block {height}: {reason}"
            ),
            Violation::Refused { height, reason } => write!(
                f,
                "the replica refused block {height} (the nodes agree on it): {reason}"
            ),
            Violation::Invariant { height, reason } => {
                write!(f, "invariant broken after block {height}: {reason}")
            }
        }
    }
}

/// The supply after the last replayed block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Supply {
    /// Balances, bankroll and stakes at genesis.
    pub genesis: u64,
    /// Minted by the faucet since.
    pub minted: u64,
    /// Burned since (fee remainders and slashing).
    pub burned: u128,
    /// What must exist now: genesis + minted − burned (the invariant
    /// checks that exactly this much is held).
    pub expected: u128,
}

/// What the check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// Every node with an API.
    pub nodes: Vec<NodeSeen>,
    /// The highest height compared and replayed (`None`: no block yet).
    pub checked_height: Option<u64>,
    /// How many (node, height) block answers were compared.
    pub blocks_compared: u64,
    /// The replica's state root after `checked_height` (hex), if any block.
    pub state_root: Option<String>,
    /// The supply after `checked_height`.
    pub supply: Option<Supply>,
    /// Everything wrong; empty means the testnet is consistent.
    pub violations: Vec<Violation>,
}

impl CheckReport {
    /// No violation.
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for node in &self.nodes {
            match &node.height {
                Ok(Some(height)) => writeln!(f, "  {:<14} height {height}", node.name)?,
                Ok(None) => writeln!(f, "  {:<14} no block yet", node.name)?,
                Err(reason) => writeln!(f, "  {:<14} unreachable: {reason}", node.name)?,
            }
        }
        match self.checked_height {
            Some(top) => writeln!(
                f,
                "compared {} block answers for heights {FIRST_BLOCK_HEIGHT}..={top} and replayed them from the genesis",
                self.blocks_compared
            )?,
            None => writeln!(f, "no node has a block yet: nothing to compare")?,
        }
        if let (Some(root), Some(top)) = (&self.state_root, self.checked_height) {
            writeln!(f, "state root after height {top}: {root}")?;
        }
        if let Some(supply) = self.supply {
            writeln!(
                f,
                "supply: genesis {} + minted {} - burned {} = {} (held, checked after every block)",
                supply.genesis, supply.minted, supply.burned, supply.expected
            )?;
        }
        if self.ok() {
            write!(
                f,
                "OK: every node agrees on every block and state root, and the supply is conserved"
            )
        } else {
            writeln!(f, "VIOLATIONS ({}):", self.violations.len())?;
            for violation in &self.violations {
                writeln!(f, "  - {violation}")?;
            }
            write!(f, "FAILED")
        }
    }
}

/// Runs the check over every API node of `layout`, from the genesis.
pub async fn check(layout: &Layout) -> Result<CheckReport, CheckError> {
    Checker::new(layout)?.run(layout).await
}

/// A check that goes on where its last run stopped (see the module
/// documentation).
pub struct Checker {
    replica: Replica,
    /// The last height replayed and the hash the nodes agreed on there.
    last: Option<(u64, BlockHash)>,
}

impl Checker {
    /// A checker at the genesis of `layout`'s chain.
    pub fn new(layout: &Layout) -> Result<Checker, CheckError> {
        let path = layout.genesis_file();
        let genesis_error = |reason: String| CheckError::Genesis {
            path: path.display().to_string(),
            reason,
        };
        let bytes = std::fs::read(&path).map_err(|e| genesis_error(e.to_string()))?;
        let genesis = Genesis::from_json_bytes(&bytes).map_err(|e| genesis_error(e.to_string()))?;
        Ok(Checker {
            replica: Replica::new(&genesis),
            last: None,
        })
    }

    /// Checks every API node of `layout` from the last height replayed
    /// (compared again) to the highest any node reports. After a
    /// violation the replica stays where it was: later runs find it again.
    pub async fn run(&mut self, layout: &Layout) -> Result<CheckReport, CheckError> {
        run_from(layout, &mut self.replica, &mut self.last).await
    }
}

async fn run_from(
    layout: &Layout,
    replica: &mut Replica,
    replayed_to: &mut Option<(u64, BlockHash)>,
) -> Result<CheckReport, CheckError> {
    let mut clients = Vec::new();
    let mut nodes = Vec::new();
    for entry in layout.api_nodes() {
        let client = ApiClient::new(&entry.http_url()).expect("a loopback URL is valid");
        let height = match client.status().await {
            Ok(status) => Ok(status.node.height),
            Err(error) => Err(error.to_string()),
        };
        if let Ok(Some(top)) = height {
            clients.push((entry.name.clone(), client, top));
        }
        nodes.push(NodeSeen {
            name: entry.name.clone(),
            height,
        });
    }
    if nodes.iter().all(|n| n.height.is_err()) {
        return Err(CheckError::NoNodes);
    }
    let top = clients.iter().map(|(_, _, h)| *h).max();
    let mut report = CheckReport {
        nodes,
        checked_height: replayed_to.map(|(h, _)| h),
        blocks_compared: 0,
        state_root: replayed_to.map(|_| replica.ledger.state_root().to_string()),
        supply: replayed_to.map(|_| replica.supply()),
        violations: Vec::new(),
    };
    let Some(top) = top else {
        return Ok(report);
    };
    let mut height = replayed_to.map_or(FIRST_BLOCK_HEIGHT, |(h, _)| h);
    while height <= top {
        let last = (height + CONCURRENT_FETCHES as u64 - 1).min(top);
        let answers = fetch_range(&clients, height, last).await;
        for h in height..=last {
            let mut agreed: Option<BlockReply> = None;
            let mut hashes = Vec::new();
            for (node, answer) in answers.get(&h).into_iter().flatten() {
                report.blocks_compared += 1;
                match answer {
                    Ok(reply) => {
                        if reply.block.header.hash() != reply.hash || reply.height != h {
                            report.violations.push(Violation::BadHash {
                                node: node.clone(),
                                height: h,
                            });
                            continue;
                        }
                        hashes.push((node.clone(), reply.hash));
                        if agreed.is_none() {
                            agreed = Some(reply.clone());
                        }
                    }
                    Err(reason) => report.violations.push(Violation::Missing {
                        node: node.clone(),
                        height: h,
                        reason: reason.clone(),
                    }),
                }
            }
            let replayed = replayed_to.filter(|(at, _)| *at == h);
            if hashes.windows(2).any(|w| w[0].1 != w[1].1)
                || replayed.is_some_and(|(_, hash)| hashes.iter().any(|(_, h)| *h != hash))
            {
                if let Some((_, hash)) = replayed {
                    hashes.insert(0, ("(checked before)".into(), hash));
                }
                report
                    .violations
                    .push(Violation::Fork { height: h, hashes });
                return Ok(report);
            }
            if replayed.is_some() {
                continue;
            }
            let Some(reply) = agreed else {
                return Ok(report);
            };
            if let Err(violation) = replica.apply(&reply) {
                report.violations.push(violation);
                return Ok(report);
            }
            *replayed_to = Some((h, reply.hash));
            report.checked_height = Some(h);
            report.state_root = Some(replica.ledger.state_root().to_string());
            report.supply = Some(replica.supply());
        }
        height = last + 1;
    }
    Ok(report)
}

/// Fetches heights `from..=to` from every node that reports them, with at
/// most [`CONCURRENT_FETCHES`] requests at once per node.
async fn fetch_range(
    clients: &[(String, ApiClient, u64)],
    from: u64,
    to: u64,
) -> BTreeMap<u64, Vec<(String, Result<BlockReply, String>)>> {
    let mut tasks = tokio::task::JoinSet::new();
    for (name, client, top) in clients {
        for h in from..=to.min(*top) {
            let client = client.clone();
            let name = name.clone();
            tasks.spawn(async move {
                let answer = client
                    .block(h)
                    .await
                    .map_err(|e: ClientError| e.to_string());
                (h, name, answer)
            });
        }
    }
    // Height → each node's name and answer.
    type Answers = BTreeMap<u64, Vec<(String, Result<BlockReply, String>)>>;
    let mut answers: Answers = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok((h, name, answer)) = done {
            answers.entry(h).or_default().push((name, answer));
        }
    }
    for list in answers.values_mut() {
        list.sort_by(|a, b| a.0.cmp(&b.0));
    }
    answers
}

/// The independent replica: the genesis ledger in memory.
struct Replica {
    ledger: Ledger,
    genesis: Genesis,
}

impl Replica {
    fn new(genesis: &Genesis) -> Replica {
        Replica {
            ledger: Ledger::in_memory(genesis).expect("a validated genesis makes a ledger"),
            genesis: genesis.clone(),
        }
    }

    fn apply(&mut self, reply: &BlockReply) -> Result<(), Violation> {
        let height = reply.height;
        let outcome = match self.genesis.beacon_verifier() {
            Some(verifier) => self.ledger.apply(&reply.block, &verifier),
            None => {
                return Err(Violation::Refused {
                    height,
                    reason: "the genesis has no beacon_sharing, so beacon entries cannot be \
                             verified"
                        .into(),
                });
            }
        };
        outcome.map_err(|e| Violation::Refused {
            height,
            reason: e.to_string(),
        })?;
        self.ledger
            .check_invariants()
            .map_err(|e| Violation::Invariant {
                height,
                reason: e.to_string(),
            })
    }

    fn supply(&self) -> Supply {
        let globals = self.ledger.globals();
        Supply {
            genesis: globals.genesis_supply.get(),
            minted: globals.minted.get(),
            burned: globals.burned(),
            expected: globals.expected_supply(),
        }
    }
}
