//! # `testnet check`: do all nodes agree, and is the supply conserved?
//!
//! Reads every node through its public API only, then:
//!
//! 1. **Agreement.** For every height up to the highest any node reports,
//!    fetches `/v1/blocks/{height}` from every node that has it and
//!    compares the block hashes; the hash covers the header, so equal
//!    hashes mean equal parents, transactions, beacon entries and
//!    `parent_state_root` (the state root after the previous height). Each
//!    answer's hash is also recomputed from the block it carries, and its
//!    transactions and beacon entries are checked against the header's
//!    roots. When the nodes disagree at a height the violation names the
//!    nodes, the height and what differs: the state root after the height
//!    before ([`Violation::StateRoots`]) or the other header fields
//!    ([`Violation::Fork`]). [`compare_height`] is that comparison, a pure
//!    function of what the nodes answered.
//! 2. **An independent replica.** Replays the agreed chain from the genesis
//!    in a fresh in-memory ledger (`consensus::ledger::Ledger`), verifying
//!    every signature and every beacon σ against the genesis group key: a
//!    block whose `parent_state_root` is not the state root this replica
//!    computed, or that the ledger refuses, is a violation.
//! 3. **Supply.** After every block, the replica checks the ledger's
//!    invariants, the first of which is conservation: balances + bankroll +
//!    stakes + unbonding + table escrow + fee pool = genesis supply + faucet
//!    mints − burned fees and slashing ([`Violation::Supply`]); and
//!    [`supply_step`] checks the accounting itself from one block to the
//!    next (the genesis supply never changes, mints and burns never go
//!    down, the expected supply is genesis + minted − burned).
//!
//! A node that cannot be reached is reported but is not a violation (it
//! may be killed or paused on purpose); fewer than one reachable node is
//! an error. Every request is bounded by [`REQUEST_TIMEOUT`], and a node
//! that stops answering during the check (killed, paused) is reported as
//! unreachable from then on instead of being asked for every later
//! height. The state after the highest height is compared once the next
//! block exists (it is that block's `parent_state_root`).
//!
//! [`check`] starts from the genesis each time; a [`Checker`] keeps its
//! replica between runs and goes on from the last height it replayed
//! (comparing that height again, so a node that rewrote it is caught),
//! which is what a check after every fault of a long run needs.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use consensus::block::{BlockHeader, FIRST_BLOCK_HEIGHT};
use consensus::genesis::Genesis;
use consensus::hash::{BlockHash, Hash};
use consensus::ledger::{InvariantError, Ledger};
use node::client::{ApiClient, BlockReply, ClientError};

use crate::layout::Layout;

/// How many block requests are in flight at once.
const CONCURRENT_FETCHES: usize = 16;

/// How long one request to a node may take: a paused (SIGSTOP) node is
/// reported as unreachable after this instead of holding the check up.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// Its height, or why it could not be read (also: why it stopped
    /// answering during the check).
    pub height: Result<Option<u64>, String>,
}

/// A broken promise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Two nodes have different blocks at a height, with the same
    /// `parent_state_root` (see [`Violation::StateRoots`] otherwise).
    Fork {
        /// The height.
        height: u64,
        /// Each node's block hash there ("(checked before)": the hash an
        /// earlier run of a [`Checker`] agreed on).
        hashes: Vec<(String, BlockHash)>,
        /// The header fields that differ between the nodes' blocks.
        differs: Vec<&'static str>,
    },
    /// Two nodes' blocks at `height` name different state roots for the
    /// state after `height - 1` (after the genesis for the first block):
    /// the nodes computed different states.
    StateRoots {
        /// The height of the blocks that carry the roots.
        height: u64,
        /// Each node's `parent_state_root` there.
        roots: Vec<(String, Hash)>,
        /// Each node's block hash there.
        hashes: Vec<(String, BlockHash)>,
        /// The other header fields that differ as well.
        differs: Vec<&'static str>,
    },
    /// A node served a block that is not what it claims: its hash, height
    /// or roots do not match its contents.
    BadHash {
        /// The node.
        node: String,
        /// The height.
        height: u64,
        /// What does not match.
        reason: String,
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
    /// The supply is not conserved after a block: the chips held are not
    /// genesis + minted − burned.
    Supply {
        /// The height.
        height: u64,
        /// The chips held (balances, bankroll, stakes, unbonding, escrow,
        /// fee pool).
        held: u128,
        /// Genesis supply + minted − burned.
        expected: u128,
    },
    /// The supply's own accounting broke from one block to the next (see
    /// [`supply_step`]).
    SupplyAccounting {
        /// The height.
        height: u64,
        /// Everything wrong.
        problems: Vec<String>,
    },
    /// Another invariant broke after a block.
    Invariant {
        /// The height.
        height: u64,
        /// What broke.
        reason: String,
    },
}

fn write_pairs<T: fmt::Display>(f: &mut fmt::Formatter<'_>, pairs: &[(String, T)]) -> fmt::Result {
    for (i, (node, value)) in pairs.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        write!(f, "{sep}{node}={value}")?;
    }
    Ok(())
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Fork {
                height,
                hashes,
                differs,
            } => {
                write!(
                    f,
                    "fork at height {height}: the nodes serve different blocks ("
                )?;
                write_pairs(f, hashes)?;
                write!(f, ")")?;
                if !differs.is_empty() {
                    write!(f, "; they differ in: {}", differs.join(", "))?;
                }
                Ok(())
            }
            Violation::StateRoots {
                height,
                roots,
                hashes,
                differs,
            } => {
                match height
                    .checked_sub(1)
                    .filter(|_| *height > FIRST_BLOCK_HEIGHT)
                {
                    Some(before) => write!(f, "state roots differ after height {before}")?,
                    None => write!(f, "state roots differ for the genesis state")?,
                }
                write!(f, " (parent_state_root of block {height}: ")?;
                write_pairs(f, roots)?;
                write!(f, "), so the blocks at height {height} differ (")?;
                write_pairs(f, hashes)?;
                write!(f, ")")?;
                if !differs.is_empty() {
                    write!(f, "; they also differ in: {}", differs.join(", "))?;
                }
                Ok(())
            }
            Violation::BadHash {
                node,
                height,
                reason,
            } => write!(
                f,
                "{node} served a block at height {height} that is not what it claims: {reason}"
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
            Violation::Supply {
                height,
                held,
                expected,
            } => write!(
                f,
                "supply not conserved after block {height}: balances, bankroll, stakes, \
                 unbonding, escrow and fee pool hold {held} chips, but genesis + minted - burned \
                 is {expected} ({})",
                if held > expected {
                    format!("{} too many", held - expected)
                } else {
                    format!("{} missing", expected - held)
                }
            ),
            Violation::SupplyAccounting { height, problems } => write!(
                f,
                "supply accounting broken at block {height}: {}",
                problems.join("; ")
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

/// Checks the supply's accounting from `before` (the supply before block
/// `height`) to `after` (after it): the genesis supply never changes,
/// mints and burns never go down, no more is burned than ever existed, and
/// the expected supply is genesis + minted − burned. Whether that much is
/// actually held is the ledger's invariant ([`invariant_violation`]).
pub fn supply_step(height: u64, before: &Supply, after: &Supply) -> Option<Violation> {
    let mut problems = Vec::new();
    if after.genesis != before.genesis {
        problems.push(format!(
            "the genesis supply changed from {} to {}",
            before.genesis, after.genesis
        ));
    }
    if after.minted < before.minted {
        problems.push(format!(
            "minted went down from {} to {}",
            before.minted, after.minted
        ));
    }
    if after.burned < before.burned {
        problems.push(format!(
            "burned went down from {} to {}",
            before.burned, after.burned
        ));
    }
    let ever = u128::from(after.genesis) + u128::from(after.minted);
    match ever.checked_sub(after.burned) {
        None => problems.push(format!(
            "{} burned, more than the {ever} that ever existed",
            after.burned
        )),
        Some(expected) if expected != after.expected => problems.push(format!(
            "the expected supply is {} but genesis {} + minted {} - burned {} is {expected}",
            after.expected, after.genesis, after.minted, after.burned
        )),
        Some(_) => {}
    }
    (!problems.is_empty()).then_some(Violation::SupplyAccounting { height, problems })
}

/// The violation for a ledger invariant that broke after block `height`:
/// [`Violation::Supply`] for conservation, [`Violation::Invariant`] for
/// the others.
pub fn invariant_violation(height: u64, error: InvariantError) -> Violation {
    match error {
        InvariantError::Supply { held, expected } => Violation::Supply {
            height,
            held,
            expected,
        },
        other => Violation::Invariant {
            height,
            reason: other.to_string(),
        },
    }
}

/// What the nodes answered for one height, compared ([`compare_height`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compared {
    /// The block every node that served a sound one served (`None`: none
    /// did, or they disagree).
    pub agreed: Option<BlockReply>,
    /// What is wrong at this height.
    pub violations: Vec<Violation>,
    /// The nodes (or a node and an earlier run) disagree here: a
    /// [`Violation::Fork`] or [`Violation::StateRoots`] is among the
    /// violations and nothing above this height can be compared.
    pub diverged: bool,
}

/// Why `reply` is not the sound block of `height` it claims to be, if it
/// is not.
fn unsound(height: u64, reply: &BlockReply) -> Option<String> {
    let header = &reply.block.header;
    if reply.height != height {
        return Some(format!(
            "asked for height {height}, it answered height {}",
            reply.height
        ));
    }
    if header.height != height {
        return Some(format!("its header says height {}", header.height));
    }
    let computed = header.hash();
    if computed != reply.hash {
        return Some(format!(
            "it claims hash {} but the header hashes to {computed}",
            reply.hash
        ));
    }
    if reply.block.computed_transactions_root() != header.transactions_root
        || reply.block.transactions.len() != header.transaction_count as usize
    {
        return Some("its transactions do not match the header's transactions root".into());
    }
    if reply.block.computed_beacon_root() != header.beacon_root
        || reply.block.beacon_entries.len() != header.beacon_entry_count as usize
    {
        return Some("its beacon entries do not match the header's beacon root".into());
    }
    None
}

/// The header fields, other than `parent_state_root`, in which `headers`
/// are not all equal.
fn differing_fields(headers: &[&BlockHeader]) -> Vec<&'static str> {
    type Field = (&'static str, fn(&BlockHeader, &BlockHeader) -> bool);
    const FIELDS: [Field; 6] = [
        ("chain id", |a, b| a.chain_id == b.chain_id),
        ("parent (the block before)", |a, b| a.parent == b.parent),
        ("timestamp", |a, b| a.timestamp_ms == b.timestamp_ms),
        ("proposer", |a, b| a.proposer == b.proposer),
        ("transactions", |a, b| {
            a.transactions_root == b.transactions_root && a.transaction_count == b.transaction_count
        }),
        ("beacon entries", |a, b| {
            a.beacon_root == b.beacon_root && a.beacon_entry_count == b.beacon_entry_count
        }),
    ];
    let Some(first) = headers.first() else {
        return Vec::new();
    };
    FIELDS
        .iter()
        .filter(|(_, same)| headers.iter().any(|h| !same(first, h)))
        .map(|(name, _)| *name)
        .collect()
}

/// Compares what the nodes answered for `height` (each node's name and
/// its block, or what it answered instead); `checked_before` is the hash
/// an earlier run agreed on at this height, if any. A pure function: the
/// whole agreement rule of the check.
pub fn compare_height(
    height: u64,
    answers: &[(String, Result<BlockReply, String>)],
    checked_before: Option<BlockHash>,
) -> Compared {
    let mut violations = Vec::new();
    let mut served: Vec<(&str, &BlockReply)> = Vec::new();
    for (node, answer) in answers {
        match answer {
            Ok(reply) => match unsound(height, reply) {
                Some(reason) => violations.push(Violation::BadHash {
                    node: node.clone(),
                    height,
                    reason,
                }),
                None => served.push((node, reply)),
            },
            Err(reason) => violations.push(Violation::Missing {
                node: node.clone(),
                height,
                reason: reason.clone(),
            }),
        }
    }
    let mut hashes: Vec<(String, BlockHash)> = served
        .iter()
        .map(|(node, reply)| (node.to_string(), reply.hash))
        .collect();
    let split = hashes.windows(2).any(|w| w[0].1 != w[1].1);
    let rewritten = checked_before.is_some_and(|before| hashes.iter().any(|(_, h)| *h != before));
    if !split && !rewritten {
        return Compared {
            agreed: served.first().map(|(_, reply)| (*reply).clone()),
            violations,
            diverged: false,
        };
    }
    let headers: Vec<&BlockHeader> = served.iter().map(|(_, r)| &r.block.header).collect();
    let differs = differing_fields(&headers);
    let roots: Vec<(String, Hash)> = served
        .iter()
        .map(|(node, reply)| (node.to_string(), reply.block.header.parent_state_root))
        .collect();
    if let Some(before) = checked_before {
        hashes.insert(0, ("(checked before)".into(), before));
    }
    violations.push(if roots.windows(2).any(|w| w[0].1 != w[1].1) {
        Violation::StateRoots {
            height,
            roots,
            hashes,
            differs,
        }
    } else {
        Violation::Fork {
            height,
            hashes,
            differs,
        }
    });
    Compared {
        agreed: None,
        violations,
        diverged: true,
    }
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
    // Every node's status at once: a paused node costs one timeout, not
    // one per node.
    let mut statuses = tokio::task::JoinSet::new();
    for (index, entry) in layout.api_nodes().enumerate() {
        let client = ApiClient::new(&entry.http_url())
            .expect("a loopback URL is valid")
            .with_timeout(REQUEST_TIMEOUT);
        let name = entry.name.clone();
        statuses.spawn(async move {
            let height = match client.status().await {
                Ok(status) => Ok(status.node.height),
                Err(error) => Err(error.to_string()),
            };
            (index, name, client, height)
        });
    }
    let mut seen = Vec::new();
    while let Some(done) = statuses.join_next().await {
        if let Ok(status) = done {
            seen.push(status);
        }
    }
    seen.sort_by_key(|(index, ..)| *index);
    let mut clients = Vec::new();
    let mut nodes = Vec::new();
    for (_, name, client, height) in seen {
        if let Ok(Some(top)) = height {
            clients.push((name.clone(), client, top));
        }
        nodes.push(NodeSeen { name, height });
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
        let mut answers = fetch_range(&clients, height, last).await;
        // A node that stopped answering (killed, paused) is unreachable
        // from here on, not a violation at every later height.
        let mut lost: BTreeMap<String, String> = BTreeMap::new();
        for (h, list) in &answers {
            for (node, answer) in list {
                if let Err(error) = answer
                    && error.is_transient()
                    && !lost.contains_key(node)
                {
                    lost.insert(
                        node.clone(),
                        format!("stopped answering during the check (block {h}): {error}"),
                    );
                }
            }
        }
        if !lost.is_empty() {
            clients.retain(|(name, _, _)| !lost.contains_key(name));
            for node in &mut report.nodes {
                if let Some(reason) = lost.get(&node.name) {
                    node.height = Err(reason.clone());
                }
            }
            for list in answers.values_mut() {
                list.retain(|(node, _)| !lost.contains_key(node));
            }
        }
        for h in height..=last {
            let list: Vec<(String, Result<BlockReply, String>)> = answers
                .remove(&h)
                .unwrap_or_default()
                .into_iter()
                .map(|(node, answer)| (node, answer.map_err(|e| e.to_string())))
                .collect();
            report.blocks_compared += list.len() as u64;
            let replayed = replayed_to.filter(|(at, _)| *at == h);
            let compared = compare_height(h, &list, replayed.map(|(_, hash)| hash));
            report.violations.extend(compared.violations);
            if compared.diverged || replayed.is_some() {
                if compared.diverged {
                    return Ok(report);
                }
                continue;
            }
            let Some(reply) = compared.agreed else {
                return Ok(report);
            };
            let before = replica.supply();
            if let Err(violation) = replica.apply(&reply) {
                report.violations.push(violation);
                return Ok(report);
            }
            let after = replica.supply();
            if let Some(violation) = supply_step(h, &before, &after) {
                report.violations.push(violation);
                return Ok(report);
            }
            *replayed_to = Some((h, reply.hash));
            report.checked_height = Some(h);
            report.state_root = Some(replica.ledger.state_root().to_string());
            report.supply = Some(after);
        }
        height = last + 1;
    }
    Ok(report)
}

/// Height → each node's name and answer.
type Answers = BTreeMap<u64, Vec<(String, Result<BlockReply, ClientError>)>>;

/// Fetches heights `from..=to` from every node that reports them, with at
/// most [`CONCURRENT_FETCHES`] requests at once per node.
async fn fetch_range(clients: &[(String, ApiClient, u64)], from: u64, to: u64) -> Answers {
    let mut tasks = tokio::task::JoinSet::new();
    for (name, client, top) in clients {
        for h in from..=to.min(*top) {
            let client = client.clone();
            let name = name.clone();
            tasks.spawn(async move {
                let answer = client.block(h).await;
                (h, name, answer)
            });
        }
    }
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
            .map_err(|e| invariant_violation(height, e))
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

#[cfg(test)]
mod tests {
    use super::*;
    use consensus::block::{Block, BlockTemplate};
    use proptest::prelude::*;
    use wallet::{ChainId, Keypair};

    /// A sound block at `height` with `state_root` as its parent state
    /// root and `stamp` in its timestamp, as a node would serve it.
    fn reply(height: u64, state_root: u8, stamp: u64) -> BlockReply {
        let block = Block::assemble(
            BlockTemplate {
                chain_id: ChainId::new([1; 32]),
                height,
                view: height + 1,
                parent: Hash::new([height as u8; 32]),
                timestamp_ms: 1_000 + stamp,
                proposer: Keypair::from_secret_bytes(&[7; 32]).public_key(),
                parent_state_root: Hash::new([state_root; 32]),
            },
            Vec::new(),
            Vec::new(),
        )
        .expect("an empty block");
        let encoded = hex::encode(block.encode());
        BlockReply {
            hash: block.hash(),
            height,
            size_bytes: encoded.len() / 2,
            encoded,
            proof: None,
            block,
        }
    }

    fn answers(list: &[(&str, BlockReply)]) -> Vec<(String, Result<BlockReply, String>)> {
        list.iter()
            .map(|(node, reply)| (node.to_string(), Ok(reply.clone())))
            .collect()
    }

    #[test]
    fn agreeing_nodes_pass_and_agree_on_the_block() {
        let block = reply(7, 3, 0);
        let compared = compare_height(
            7,
            &answers(&[
                ("validator-0", block.clone()),
                ("validator-1", block.clone()),
            ]),
            None,
        );
        assert_eq!(compared.violations, Vec::new());
        assert!(!compared.diverged);
        assert_eq!(compared.agreed, Some(block.clone()));
        // The same block again after an earlier run agreed on it.
        let again = compare_height(
            7,
            &answers(&[("validator-0", block.clone())]),
            Some(block.hash),
        );
        assert!(again.violations.is_empty() && !again.diverged);
    }

    #[test]
    fn a_fork_names_the_nodes_the_height_and_what_differs() {
        let ours = reply(5, 3, 0);
        let theirs = reply(5, 3, 250);
        let compared = compare_height(
            5,
            &answers(&[
                ("validator-0", ours.clone()),
                ("validator-1", ours.clone()),
                ("validator-2", theirs.clone()),
            ]),
            None,
        );
        assert!(compared.diverged);
        assert_eq!(compared.agreed, None);
        assert_eq!(
            compared.violations,
            vec![Violation::Fork {
                height: 5,
                hashes: vec![
                    ("validator-0".into(), ours.hash),
                    ("validator-1".into(), ours.hash),
                    ("validator-2".into(), theirs.hash),
                ],
                differs: vec!["timestamp"],
            }]
        );
        let text = compared.violations[0].to_string();
        assert!(text.starts_with("fork at height 5:"), "{text}");
        assert!(
            text.contains(&format!("validator-2={}", theirs.hash)),
            "{text}"
        );
        assert!(text.contains("they differ in: timestamp"), "{text}");
    }

    #[test]
    fn a_node_that_rewrote_a_height_checked_before_is_a_fork() {
        let before = reply(4, 3, 0);
        let now = reply(4, 3, 1);
        let compared = compare_height(4, &answers(&[("player-0", now.clone())]), Some(before.hash));
        assert!(compared.diverged);
        let text = compared.violations[0].to_string();
        assert!(
            text.contains(&format!("(checked before)={}", before.hash)),
            "{text}"
        );
        assert!(text.contains(&format!("player-0={}", now.hash)), "{text}");
    }

    #[test]
    fn differing_state_roots_name_the_height_of_the_state_and_each_root() {
        let ours = reply(9, 3, 0);
        let theirs = reply(9, 4, 0);
        let compared = compare_height(
            9,
            &answers(&[
                ("validator-0", ours.clone()),
                ("validator-3", theirs.clone()),
            ]),
            None,
        );
        assert!(compared.diverged);
        assert_eq!(
            compared.violations,
            vec![Violation::StateRoots {
                height: 9,
                roots: vec![
                    ("validator-0".into(), Hash::new([3; 32])),
                    ("validator-3".into(), Hash::new([4; 32])),
                ],
                hashes: vec![
                    ("validator-0".into(), ours.hash),
                    ("validator-3".into(), theirs.hash),
                ],
                differs: Vec::new(),
            }]
        );
        let text = compared.violations[0].to_string();
        assert!(
            text.starts_with("state roots differ after height 8"),
            "{text}"
        );
        assert!(
            text.contains(&format!("validator-3={}", Hash::new([4; 32]))),
            "{text}"
        );
        assert!(!text.contains("also differ"), "{text}");
        // At the first block the roots are the genesis state's.
        let first = compare_height(
            FIRST_BLOCK_HEIGHT,
            &answers(&[("a", reply(0, 1, 0)), ("b", reply(0, 2, 0))]),
            None,
        );
        assert!(
            first.violations[0]
                .to_string()
                .starts_with("state roots differ for the genesis state"),
            "{}",
            first.violations[0]
        );
    }

    #[test]
    fn a_block_that_is_not_what_it_claims_is_refused_not_replayed() {
        let good = reply(3, 3, 0);
        let mut lying = good.clone();
        lying.hash = reply(3, 3, 9).hash;
        let mut wrong_height = reply(2, 3, 0);
        wrong_height.height = 3;
        let mut padded = good.clone();
        padded.block.header.transaction_count = 1;
        padded.hash = padded.block.header.hash();
        let compared = compare_height(
            3,
            &[
                ("validator-0".into(), Ok(good.clone())),
                ("validator-1".into(), Ok(lying)),
                ("validator-2".into(), Ok(wrong_height)),
                ("validator-3".into(), Ok(padded)),
                (
                    "player-0".into(),
                    Err("block 3 not found (not_found, HTTP 404)".into()),
                ),
            ],
            None,
        );
        // The sound answer is still the agreed one: nothing diverged.
        assert!(!compared.diverged);
        assert_eq!(compared.agreed, Some(good));
        let texts: Vec<String> = compared
            .violations
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(texts.len(), 4, "{texts:#?}");
        assert!(
            texts[0].contains("validator-1") && texts[0].contains("claims hash"),
            "{texts:#?}"
        );
        assert!(
            texts[1].contains("validator-2") && texts[1].contains("header says height 2"),
            "{texts:#?}"
        );
        assert!(
            texts[2].contains("validator-3") && texts[2].contains("transactions"),
            "{texts:#?}"
        );
        assert!(
            texts[3].contains("player-0") && texts[3].contains("block 3"),
            "{texts:#?}"
        );
    }

    fn supply(genesis: u64, minted: u64, burned: u128) -> Supply {
        Supply {
            genesis,
            minted,
            burned,
            expected: u128::from(genesis) + u128::from(minted) - burned,
        }
    }

    #[test]
    fn a_conserved_supply_passes_and_a_break_is_named() {
        assert_eq!(
            supply_step(3, &supply(1_000, 0, 0), &supply(1_000, 50, 7)),
            None
        );
        // The chips held are not genesis + minted - burned.
        let broken = invariant_violation(
            12,
            InvariantError::Supply {
                held: 1_040,
                expected: 1_043,
            },
        );
        assert_eq!(
            broken,
            Violation::Supply {
                height: 12,
                held: 1_040,
                expected: 1_043
            }
        );
        let text = broken.to_string();
        assert!(
            text.starts_with("supply not conserved after block 12"),
            "{text}"
        );
        assert!(
            text.contains("hold 1040 chips") && text.contains("is 1043 (3 missing)"),
            "{text}"
        );
        assert!(matches!(
            invariant_violation(2, InvariantError::Broken("x".into())),
            Violation::Invariant { height: 2, .. }
        ));
        // The accounting itself.
        let mut off = supply(1_000, 10, 0);
        off.expected += 1;
        for (before, after, expected) in [
            (
                supply(1_000, 0, 0),
                supply(1_001, 0, 0),
                "genesis supply changed from 1000 to 1001",
            ),
            (
                supply(1_000, 5, 0),
                supply(1_000, 4, 0),
                "minted went down from 5 to 4",
            ),
            (
                supply(1_000, 0, 9),
                supply(1_000, 0, 8),
                "burned went down from 9 to 8",
            ),
            (
                supply(1_000, 0, 0),
                off,
                "expected supply is 1011 but genesis 1000 + minted 10 - burned 0 is 1010",
            ),
        ] {
            let violation = supply_step(6, &before, &after).expect("a violation");
            let text = violation.to_string();
            assert!(
                text.starts_with("supply accounting broken at block 6"),
                "{text}"
            );
            assert!(text.contains(expected), "{text}");
        }
        let burned_all = Supply {
            genesis: 10,
            minted: 0,
            burned: 11,
            expected: 0,
        };
        assert!(
            supply_step(1, &supply(10, 0, 0), &burned_all)
                .expect("a violation")
                .to_string()
                .contains("more than the 10 that ever existed")
        );
    }

    proptest! {
        /// Any set of nodes, each serving the honest block or one changed
        /// in its state root and/or timestamp: the check passes exactly
        /// when nobody changed anything, otherwise it reports one
        /// divergence naming every node and the height, as a state-root
        /// split exactly when a state root was changed.
        #[test]
        fn divergence_is_reported_exactly_when_a_node_differs(
            height in 1u64..1_000,
            changes in proptest::collection::vec((0u8..3, 0u64..3), 1..7),
        ) {
            let list: Vec<(String, Result<BlockReply, String>)> = changes
                .iter()
                .enumerate()
                .map(|(i, (root, stamp))| {
                    (format!("node-{i}"), Ok(reply(height, 10 + root, *stamp)))
                })
                .collect();
            let compared = compare_height(height, &list, None);
            let roots_differ = changes.iter().any(|c| c.0 != changes[0].0);
            let stamps_differ = changes.iter().any(|c| c.1 != changes[0].1);
            if !roots_differ && !stamps_differ {
                prop_assert!(compared.violations.is_empty());
                prop_assert!(!compared.diverged);
                prop_assert!(compared.agreed.is_some());
            } else {
                prop_assert!(compared.diverged);
                prop_assert_eq!(compared.agreed, None);
                prop_assert_eq!(compared.violations.len(), 1);
                let violation = &compared.violations[0];
                let text = violation.to_string();
                for i in 0..changes.len() {
                    let name = format!("node-{i}=");
                    prop_assert!(text.contains(&name), "{}", text);
                }
                match violation {
                    Violation::StateRoots { height: h, differs, .. } => {
                        prop_assert!(roots_differ);
                        prop_assert_eq!(*h, height);
                        let expected = format!("state roots differ after height {}", height - 1);
                        prop_assert!(text.starts_with(&expected), "{}", text);
                        prop_assert_eq!(differs.contains(&"timestamp"), stamps_differ);
                    }
                    Violation::Fork { height: h, differs, .. } => {
                        prop_assert!(!roots_differ);
                        prop_assert_eq!(*h, height);
                        let expected = format!("fork at height {height}");
                        prop_assert!(text.starts_with(&expected), "{}", text);
                        prop_assert_eq!(differs, &vec!["timestamp"]);
                    }
                    other => prop_assert!(false, "unexpected {:?}", other),
                }
            }
        }
    }
}
