//! # `testnet chaos`: kill, pause, restart and partition nodes at random under load
//!
//! Against a running testnet, drives signed field bets with the load
//! generator ([`crate::load`], whose observer acknowledges each bet when
//! the player node's WebSocket delivers its finalized receipt), then, `kills`
//! times in a row:
//!
//! 1. waits a random moment (up to `max_wait`), picks a random target (a
//!    validator, or with [`Targets::All`] any validator or player node) and
//!    a random fault of the `faults` mix ([`ChaosFault`]): **kill**
//!    (SIGKILL mid-load, while its RocksDB ledger and consensus journal are
//!    being written, down a random `hold`, then started again on the same
//!    data directory), **pause** (SIGSTOP, SIGCONT after a random `hold`),
//!    **restart** (SIGTERM, SIGKILL after a grace period, started again) or
//!    **partition** (cut off from every other node through the partition
//!    files, [`crate::partition`], healed after a random `hold`). With
//!    several kinds in the mix, the first faults take every kind once (in a
//!    seeded order), the rest are drawn at random. **Partitions run in the
//!    background**: the next faults begin (after their own waits) while
//!    one is in force, so a kill, pause or restart may hit one node while
//!    another is cut off, and partitions may overlap (two nodes each
//!    isolated: a 2|1|1 split of 4 validators, or more groups). A fault
//!    waits for open ones to end when it would hit a node already under a
//!    fault, or take down more than [`max_validators_down`] validators at
//!    once — `f` of the `n` validators, at least one — a partitioned
//!    validator counting as down until it has caught up. With 4
//!    validators (`f` = 1) a partitioned validator therefore overlaps only
//!    faults on player nodes (`--targets all`); with 7, two validators may
//!    be down at once;
//! 2. waits until it has **caught up**: its height reaches the highest
//!    height the other nodes had when the fault ended (its start, SIGCONT
//!    or heal; the recovery time is from then to the catch-up). A
//!    partition's node is waited for in the background, and its checks
//!    (below) run before the next fault begins after it caught up;
//! 3. checks that **nothing acknowledged is lost**: every bet acknowledged
//!    since the previous iteration is asked for on every node
//!    (`GET /v1/txs/{hash}`) and must be there with the acknowledged
//!    height and the very same receipt; on the restarted validator also
//!    every bet acknowledged in the last [`TAIL_BLOCKS`] blocks before the
//!    kill and a seeded sample of [`SAMPLE`] older ones. Bets in blocks
//!    some node has not reached yet wait for the next iteration;
//! 4. checks that **all nodes agree** with a [`Checker`]
//!    ([`crate::check`], carried on from where the last iteration
//!    stopped): the same block at every height on every node, each block
//!    replayed from the genesis by an independent in-memory ledger with
//!    the same state roots, and the supply conserved after every block;
//! 5. checks that **no validator signed twice**: every validator's
//!    `bitcraps_equivocations_total` (the conflicting notarize, conflicting
//!    finalize and nullify-and-finalize votes its simplex engine received
//!    from any one signer in one view) must be zero. The counter lives in
//!    the process, so it is read from the victim just before each kill or
//!    restart and from every validator after each recovery, and the counts
//!    of all incarnations are added up. This fails whenever a validator that
//!    forgot a vote across the kill (an unsynced journal) votes again
//!    differently in that view: any peer holding both signed votes reports
//!    it. **Injected twins** (`testnet twin`, [`crate::twin`]) equivocate
//!    on purpose: on a testnet that has one, the counters may be non-zero,
//!    and the check becomes attribution through the ledger instead — every
//!    validator the chain slashed (`GET /v1/validators`) must be one with
//!    an injected twin; an honest validator slashed is a double sign.
//!
//! After the last kill the load stops and drains, then every bet ever
//! acknowledged is checked on every node and the whole chain is checked
//! again from the genesis ([`crate::check::check`]). The first violation
//! ends the run (the testnet is left as it is, for inspection). The random
//! choices (victim, moment, hold) come from `seed` alone, so a run's
//! schedule replays exactly; the interleaving with the nodes' own timing
//! does not.

use std::collections::BTreeMap;
use std::fmt;
use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

use consensus::hash::TxHash;
use node::client::{ApiClient, ClientError, TxState};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::check::{self, CheckError, Checker};
use crate::layout::{Layout, LayoutError, NodeEntry, Role};
use crate::load::{self, Acknowledged, LoadError, LoadOptions, LoadReport, Percentiles, Tap};
use crate::net::{self, NetError};
use crate::process::{self, ProcessError};

/// The restarted validator is asked for every bet acknowledged in this
/// many blocks before its kill.
pub const TAIL_BLOCKS: u64 = 100;

/// The restarted validator is also asked for this many older acknowledged
/// bets, drawn at random.
pub const SAMPLE: usize = 300;

/// How long the load may take to acknowledge its first bet (its setup
/// mints, opens tables and seats every wallet first).
const FIRST_ACK_TIMEOUT: Duration = Duration::from_secs(180);

/// Receipt look-ups in flight at once.
const CONCURRENT_LOOKUPS: usize = 32;

/// How often heights are polled while a node catches up.
const POLL: Duration = Duration::from_millis(100);

/// How long a node's height is waited for when the heights of all are
/// read.
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);

/// The metric every validator exports (see `node::metrics`).
pub const EQUIVOCATIONS_METRIC: &str = "bitcraps_equivocations_total";

/// Why the chaos run could not go on (as opposed to a violation found).
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    /// The testnet has no validator to kill.
    #[error("the testnet has no validator")]
    NoValidators,
    /// A node did not answer before the run.
    #[error("{node} does not answer ({reason}); is the testnet up? (`bitcraps testnet status`)")]
    NotRunning {
        /// The node.
        node: String,
        /// Its error.
        reason: String,
    },
    /// A validator's metrics do not show the equivocation counter, so
    /// double signing could not be checked.
    #[error("cannot read {EQUIVOCATIONS_METRIC} from {node}: {reason}")]
    Metrics {
        /// The node.
        node: String,
        /// Why.
        reason: String,
    },
    /// The load did not acknowledge a bet in time, or ended on its own.
    #[error("the load {0}")]
    Load(String),
    /// The load generator failed.
    #[error(transparent)]
    LoadFailed(#[from] LoadError),
    /// The check could not run.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// A signal or a pid file failed.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A node could not be started again.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The layout has no such node.
    #[error(transparent)]
    Layout(#[from] LayoutError),
}

/// What a chaos fault does to its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChaosFault {
    /// SIGKILL, down for the hold, started again.
    Kill,
    /// SIGSTOP, SIGCONT after the hold.
    Pause,
    /// SIGTERM (SIGKILL after the grace period), started again at once.
    Restart,
    /// Cut off from every other node, healed after the hold.
    Partition,
}

impl ChaosFault {
    /// Every kind, in the order `--faults` lists them.
    pub const ALL: [ChaosFault; 4] = [
        ChaosFault::Kill,
        ChaosFault::Pause,
        ChaosFault::Restart,
        ChaosFault::Partition,
    ];

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ChaosFault::Kill => "kill",
            ChaosFault::Pause => "pause",
            ChaosFault::Restart => "restart",
            ChaosFault::Partition => "partition",
        }
    }
}

impl std::str::FromStr for ChaosFault {
    type Err = String;

    fn from_str(text: &str) -> Result<ChaosFault, String> {
        ChaosFault::ALL
            .into_iter()
            .find(|kind| kind.name() == text.trim())
            .ok_or_else(|| format!("unknown fault {text:?}; use kill, pause, restart or partition"))
    }
}

/// Which nodes faults hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Targets {
    /// Validators only.
    Validators,
    /// Validators and player nodes (not the bootstrap peer, which has no
    /// ledger to catch up).
    All,
}

impl std::str::FromStr for Targets {
    type Err = String;

    fn from_str(text: &str) -> Result<Targets, String> {
        match text.trim() {
            "validators" => Ok(Targets::Validators),
            "all" => Ok(Targets::All),
            other => Err(format!("unknown targets {other:?}; use validators or all")),
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct ChaosOptions {
    /// Faults in a row.
    pub kills: u32,
    /// The kinds of fault drawn from (at least one).
    pub faults: Vec<ChaosFault>,
    /// Which nodes they hit.
    pub targets: Targets,
    /// The seed of every random choice.
    pub seed: u64,
    /// The load (its `duration` is a limit only: the load is stopped after
    /// the last kill's checks).
    pub load: LoadOptions,
    /// The longest wait before a fault (drawn from zero to this).
    pub max_wait: Duration,
    /// The shortest time a target stays killed, paused or cut off.
    pub min_hold: Duration,
    /// The longest time a target stays killed, paused or cut off.
    pub max_hold: Duration,
    /// How long a target may take to catch up after its fault.
    pub catch_up_timeout: Duration,
}

/// A broken promise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChaosViolation {
    /// An acknowledged bet is missing on a node, or is there with another
    /// height or receipt.
    Lost {
        /// The node.
        node: String,
        /// The transaction.
        tx: TxHash,
        /// What the node answered.
        detail: String,
    },
    /// The nodes disagree on a block or state root, or the supply broke.
    Disagreement(check::Violation),
    /// A validator's engine reported a validator signing twice.
    DoubleSign {
        /// The validator that saw it.
        reported_by: String,
        /// Its count over every incarnation.
        count: u64,
    },
    /// The chain slashed a validator that has no injected twin.
    HonestSlashed {
        /// The validator.
        node: String,
    },
    /// A restarted validator did not catch up in time.
    Stalled {
        /// The node.
        node: String,
        /// Its height when the wait ended, if it answered.
        height: Option<u64>,
        /// The height it had to reach.
        target: u64,
    },
}

impl fmt::Display for ChaosViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChaosViolation::Lost { node, tx, detail } => {
                write!(f, "lost: acknowledged bet {tx} on {node}: {detail}")
            }
            ChaosViolation::Disagreement(violation) => write!(f, "disagreement: {violation}"),
            ChaosViolation::DoubleSign { reported_by, count } => write!(
                f,
                "double sign: {reported_by}'s engine reported {count} equivocation(s)"
            ),
            ChaosViolation::HonestSlashed { node } => write!(
                f,
                "double sign: the chain slashed {node}, which has no injected twin"
            ),
            ChaosViolation::Stalled {
                node,
                height,
                target,
            } => write!(
                f,
                "stalled: {node} did not catch up to height {target} (at {})",
                height.map_or_else(|| "no answer".into(), |h| h.to_string())
            ),
        }
    }
}

/// One fault and its checks.
#[derive(Clone, Debug, Serialize)]
pub struct Iteration {
    /// 1-based.
    pub index: u32,
    /// What was done.
    pub kind: ChaosFault,
    /// The node it was done to.
    pub node: String,
    /// Its pid when the fault began.
    pub pid: i32,
    /// The wait before the fault, ms.
    pub waited_ms: u64,
    /// The highest height any node had just before the fault.
    pub height_at_kill: u64,
    /// How long the fault lasted, ms (from its start to the target's
    /// start, SIGCONT or heal).
    pub down_ms: u64,
    /// The height it had to reach.
    pub target_height: u64,
    /// From its start to reaching the target, ms.
    pub recovery_ms: f64,
    /// The other nodes under a fault when it began (partitions in force,
    /// or their nodes still catching up).
    pub overlapped: Vec<String>,
    /// Bets acknowledged so far.
    pub acknowledged: u64,
    /// (node, bet) receipts compared in this iteration.
    pub receipts_checked: u64,
    /// The height every node was checked through.
    pub checked_height: Option<u64>,
    /// Equivocations reported so far (all validators, all incarnations).
    pub equivocations: u64,
    /// What broke, if anything.
    pub violations: Vec<String>,
}

impl fmt::Display for Iteration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:>3}] {} {} (pid {}) after {:.1} s at height {}, for {:.1} s; caught up to {} in {:.2} s; \
             acked {}, {} receipts checked; agree through {}; equivocations {}",
            self.index,
            self.node,
            self.kind.name(),
            self.pid,
            self.waited_ms as f64 / 1000.0,
            self.height_at_kill,
            self.down_ms as f64 / 1000.0,
            self.target_height,
            self.recovery_ms / 1000.0,
            self.acknowledged,
            self.receipts_checked,
            self.checked_height
                .map_or_else(|| "-".into(), |h| h.to_string()),
            self.equivocations
        )?;
        if !self.overlapped.is_empty() {
            write!(f, "; overlapped {}", self.overlapped.join(", "))?;
        }
        for violation in &self.violations {
            write!(f, "\n      VIOLATION {violation}")?;
        }
        Ok(())
    }
}

/// What the run found.
#[derive(Clone, Debug, Serialize)]
pub struct ChaosReport {
    /// The seed.
    pub seed: u64,
    /// Faults asked for.
    pub kills_planned: u32,
    /// Faults done.
    pub kills: u32,
    /// Faults done, by kind.
    pub faults_by_kind: BTreeMap<String, u64>,
    /// Which nodes were targets.
    pub targets: Targets,
    /// Faults that began while another was open (a partition in force,
    /// or its node still catching up).
    pub overlapping: u64,
    /// The most validators down at once (killed, paused, restarting or
    /// cut off).
    pub max_validators_down: u64,
    /// The most allowed ([`max_validators_down`]).
    pub validators_down_limit: u64,
    /// Validators with an injected twin (their equivocations are expected).
    pub twinned: Vec<String>,
    /// The 1-minute load average after each fault: mean.
    pub load_average_mean: Option<f64>,
    /// The 1-minute load average after each fault: highest.
    pub load_average_max: Option<f64>,
    /// Bets the nodes accepted.
    pub submitted: u64,
    /// Bets acknowledged as finalized.
    pub acknowledged: u64,
    /// Acknowledged bets missing or changed on some node.
    pub lost: u64,
    /// Blocks, state roots or supply the nodes disagree on.
    pub disagreements: u64,
    /// Equivocations reported by the validators' engines.
    pub double_signs: u64,
    /// Validators that did not catch up.
    pub stalls: u64,
    /// (node, bet) receipts compared during the run.
    pub receipts_checked: u64,
    /// (node, bet) receipts compared at the end (every acknowledged bet on
    /// every node).
    pub final_receipts_checked: u64,
    /// Nodes compared.
    pub nodes: usize,
    /// The final check from the genesis reached this height.
    pub checked_height: Option<u64>,
    /// Recovery (start to caught up), median, ms.
    pub recovery_p50_ms: Option<f64>,
    /// Recovery, 90th percentile, ms.
    pub recovery_p90_ms: Option<f64>,
    /// Recovery, longest, ms.
    pub recovery_max_ms: Option<f64>,
    /// The longest stretch without a new acknowledged bet between the
    /// checks after two faults, seconds (`None`: every fault saw new
    /// ones). Long ones mean the load stalled, and the checks of those
    /// faults had no new bets to look for.
    pub longest_without_ack_secs: Option<f64>,
    /// The fault after which that stretch was seen last.
    pub longest_without_ack_through: Option<u32>,
    /// The whole run, seconds.
    pub elapsed_secs: f64,
    /// Every violation.
    pub violations: Vec<String>,
    /// Each kill.
    pub iterations: Vec<Iteration>,
}

impl ChaosReport {
    /// No violation, and every planned kill done.
    pub fn ok(&self) -> bool {
        self.violations.is_empty() && self.kills == self.kills_planned
    }
}

impl fmt::Display for ChaosReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "faults {} of {} (seed {}, targets {}), {:.0} s: {}",
            self.kills,
            self.kills_planned,
            self.seed,
            match self.targets {
                Targets::Validators => "validators",
                Targets::All => "validators and players",
            },
            self.elapsed_secs,
            self.faults_by_kind
                .iter()
                .map(|(kind, n)| format!("{kind} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        writeln!(
            f,
            "overlapping faults {} (begun while a partition was in force or its node catching up); \
             at most {} validator(s) down at once (limit {})",
            self.overlapping, self.max_validators_down, self.validators_down_limit
        )?;
        if let (Some(mean), Some(max)) = (self.load_average_mean, self.load_average_max) {
            writeln!(
                f,
                "load average (1 min) after each fault: mean {mean:.1}, max {max:.1}"
            )?;
        }
        writeln!(
            f,
            "bets submitted {}, acknowledged {}, lost {}  ({} receipts compared during the run, {} at the end: every acknowledged bet on {} nodes)",
            self.submitted,
            self.acknowledged,
            self.lost,
            self.receipts_checked,
            self.final_receipts_checked,
            self.nodes
        )?;
        writeln!(
            f,
            "disagreements {}  (blocks and state roots of every node through height {}, replayed from the genesis, supply conserved)",
            self.disagreements,
            self.checked_height
                .map_or_else(|| "-".into(), |h| h.to_string())
        )?;
        if self.twinned.is_empty() {
            writeln!(
                f,
                "double signs {}  ({EQUIVOCATIONS_METRIC} of every validator, every incarnation)",
                self.double_signs
            )?;
        } else {
            writeln!(
                f,
                "equivocations {} reported, all attributed to the injected twins of {} (no other validator slashed)",
                self.double_signs,
                self.twinned.join(", ")
            )?;
        }
        if self.stalls > 0 {
            writeln!(f, "stalled recoveries {}", self.stalls)?;
        }
        if let (Some(gap), Some(index)) = (
            self.longest_without_ack_secs,
            self.longest_without_ack_through,
        ) {
            writeln!(
                f,
                "longest stretch without a new acknowledged bet: {gap:.1} s (through fault {index})"
            )?;
        }
        match (
            self.recovery_p50_ms,
            self.recovery_p90_ms,
            self.recovery_max_ms,
        ) {
            (Some(p50), Some(p90), Some(max)) => writeln!(
                f,
                "recovery (end of fault to caught up): p50 {:.2} s  p90 {:.2} s  max {:.2} s",
                p50 / 1000.0,
                p90 / 1000.0,
                max / 1000.0
            )?,
            _ => writeln!(f, "recovery: no fault completed")?,
        }
        if self.ok() {
            write!(f, "OK")
        } else {
            for violation in &self.violations {
                writeln!(f, "  - {violation}")?;
            }
            write!(f, "FAILED (replay the schedule with --seed {})", self.seed)
        }
    }
}

/// A SplitMix64 generator: every random choice of a run, from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform below `bound` (> 0), up to a negligible modulo bias.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    /// Uniform in `[low, high]`, to the microsecond.
    fn between(&mut self, low: Duration, high: Duration) -> Duration {
        let span = high.saturating_sub(low).as_micros() as u64;
        low + Duration::from_micros(self.below(span + 1))
    }
}

/// One fault of a run's schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kill {
    /// Which target (its index among the targets, validators first, in
    /// layout order).
    pub validator: usize,
    /// What is done to it.
    pub kind: ChaosFault,
    /// The wait before the fault.
    pub wait: Duration,
    /// How long it stays killed, paused or cut off.
    pub hold: Duration,
}

/// The faults of a run with `options` over `targets` targets: from the
/// seed alone (the victims from the seed and `targets` only), so a run's
/// schedule replays exactly. A run of kills alone draws what runs before
/// the mix did, so their seeds replay too. With several kinds, the first
/// `faults.len()` faults take each kind once, in a seeded order.
pub fn schedule(options: &ChaosOptions, targets: usize) -> Vec<Kill> {
    let mut rng = Rng(options.seed);
    let mut kinds = Rng(options.seed ^ 0x6b69_6e64);
    let mut mix: Vec<ChaosFault> = options.faults.clone();
    mix.sort();
    mix.dedup();
    if mix.is_empty() {
        mix.push(ChaosFault::Kill);
    }
    let mut first = mix.clone();
    // Fisher-Yates with the kinds' own generator.
    for i in (1..first.len()).rev() {
        first.swap(i, kinds.below(i as u64 + 1) as usize);
    }
    (0..options.kills as usize)
        .map(|i| {
            let validator = rng.below(targets as u64) as usize;
            let wait = rng.between(Duration::ZERO, options.max_wait);
            let hold = rng.between(options.min_hold, options.max_hold);
            let kind = match first.get(i) {
                Some(kind) if mix.len() > 1 => *kind,
                _ => mix[kinds.below(mix.len() as u64) as usize],
            };
            Kill {
                validator,
                kind,
                wait,
                hold,
            }
        })
        .collect()
}

/// The nodes faults may hit: the validators, then (with
/// [`Targets::All`]) the player nodes, in layout order.
pub fn targets(layout: &Layout, targets: Targets) -> Vec<NodeEntry> {
    let mut out: Vec<NodeEntry> = layout
        .nodes
        .iter()
        .filter(|n| n.role == Role::Validator)
        .cloned()
        .collect();
    if targets == Targets::All {
        out.extend(
            layout
                .nodes
                .iter()
                .filter(|n| n.role == Role::Player)
                .cloned(),
        );
    }
    out
}

/// The 1-minute load average (`/proc/loadavg`), where there is one.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The validators the chain slashed, by node name (matched on their
/// validator-network address).
async fn slashed(layout: &Layout, nodes: &[(NodeEntry, ApiClient)]) -> Option<Vec<String>> {
    for (_, client) in nodes {
        let Ok(validators) = client.validators().await else {
            continue;
        };
        return Some(
            validators
                .into_iter()
                .filter(|v| v.slashed)
                .map(|v| {
                    layout
                        .nodes
                        .iter()
                        .find(|n| {
                            n.validator_port
                                .is_some_and(|p| v.network_address.ends_with(&format!(":{p}")))
                        })
                        .map_or_else(|| v.network_address.clone(), |n| n.name.clone())
                })
                .collect(),
        );
    }
    None
}

/// Sums the `bitcraps_equivocations_total` series of a `/metrics` text;
/// `None` unless every kind is there (a validator exports all three).
pub fn equivocations(metrics: &str) -> Option<u64> {
    let mut kinds = 0;
    let mut total = 0u64;
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix(EQUIVOCATIONS_METRIC) else {
            continue;
        };
        if !rest.starts_with("{kind=") {
            continue;
        }
        let value = rest.rsplit(' ').next()?.parse::<f64>().ok()?;
        kinds += 1;
        total = total.saturating_add(value as u64);
    }
    (kinds == 3).then_some(total)
}

/// The equivocation counts of every validator incarnation.
#[derive(Default)]
struct Signatures {
    /// Counts of processes that were killed.
    past: BTreeMap<String, u64>,
    /// The last count read from each running process.
    current: BTreeMap<String, u64>,
}

impl Signatures {
    async fn read(&mut self, node: &NodeEntry) -> Result<(), ChaosError> {
        let error = |reason: String| ChaosError::Metrics {
            node: node.name.clone(),
            reason,
        };
        let client = client(node);
        let text = client.metrics().await.map_err(|e| error(e.to_string()))?;
        let count = equivocations(&text)
            .ok_or_else(|| error("no series with all three kinds (a binary without it?)".into()))?;
        self.current.insert(node.name.clone(), count);
        Ok(())
    }

    /// `node`'s process is gone: its last count is final.
    fn killed(&mut self, node: &str) {
        let count = self.current.remove(node).unwrap_or(0);
        *self.past.entry(node.to_owned()).or_default() += count;
    }

    fn by_node(&self) -> BTreeMap<&str, u64> {
        let mut out: BTreeMap<&str, u64> = BTreeMap::new();
        for (node, count) in self.past.iter().chain(&self.current) {
            *out.entry(node).or_default() += count;
        }
        out
    }

    fn total(&self) -> u64 {
        self.by_node().values().sum()
    }

    /// Double signs: any count at all on a testnet without injected
    /// twins; with twins, the counts are theirs, and a validator the chain
    /// slashed without a twin of its own is the violation.
    fn violations_with(
        &self,
        twinned: &[String],
        slashed: Option<&[String]>,
    ) -> Vec<ChaosViolation> {
        if twinned.is_empty() {
            return self.violations();
        }
        slashed
            .unwrap_or_default()
            .iter()
            .filter(|node| !twinned.contains(node))
            .map(|node| ChaosViolation::HonestSlashed { node: node.clone() })
            .collect()
    }

    fn violations(&self) -> Vec<ChaosViolation> {
        self.by_node()
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .map(|(node, count)| ChaosViolation::DoubleSign {
                reported_by: node.to_owned(),
                count,
            })
            .collect()
    }
}

fn client(node: &NodeEntry) -> ApiClient {
    ApiClient::new(&node.http_url()).expect("a loopback URL is valid")
}

/// Every API node's height (`None`: no answer or no block).
/// A node that does not answer within [`STATUS_TIMEOUT`] (paused by a
/// fault) counts as no answer.
async fn heights(nodes: &[(NodeEntry, ApiClient)]) -> Vec<(String, Option<u64>)> {
    let mut out = Vec::new();
    for (node, client) in nodes {
        let height = tokio::time::timeout(STATUS_TIMEOUT, client.status())
            .await
            .ok()
            .and_then(Result::ok)
            .and_then(|s| s.node.height);
        out.push((node.name.clone(), height));
    }
    out
}

/// Asks `node` for each of `bets`; returns how many were compared and
/// every mismatch.
async fn verify(
    node: &NodeEntry,
    client: &ApiClient,
    bets: &[&Acknowledged],
) -> (u64, Vec<ChaosViolation>) {
    let mut violations = Vec::new();
    let mut compared = 0;
    for chunk in bets.chunks(CONCURRENT_LOOKUPS) {
        let mut lookups = JoinSet::new();
        for bet in chunk {
            let client = client.clone();
            let bet = (*bet).clone();
            lookups.spawn(async move {
                let mut answer = client.transaction(&bet.receipt.tx).await;
                for _ in 0..3 {
                    match &answer {
                        Err(error) if error.is_transient() => {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            answer = client.transaction(&bet.receipt.tx).await;
                        }
                        _ => break,
                    }
                }
                (bet, answer)
            });
        }
        while let Some(done) = lookups.join_next().await {
            let Ok((bet, answer)) = done else { continue };
            compared += 1;
            if let Some(detail) = mismatch(&bet, answer) {
                violations.push(ChaosViolation::Lost {
                    node: node.name.clone(),
                    tx: bet.receipt.tx,
                    detail,
                });
            }
        }
    }
    (compared, violations)
}

/// What is wrong with a node's answer about an acknowledged bet.
fn mismatch(
    bet: &Acknowledged,
    answer: Result<node::client::TxReply, ClientError>,
) -> Option<String> {
    let reply = match answer {
        Ok(reply) => reply,
        Err(error) => return Some(error.to_string()),
    };
    if reply.status == TxState::Pending {
        return Some("pending, though acknowledged as finalized".into());
    }
    if reply.block_height != Some(bet.height) {
        return Some(format!(
            "in block {:?}, acknowledged in block {}",
            reply.block_height, bet.height
        ));
    }
    if reply.receipt.as_ref() != Some(&bet.receipt) {
        return Some(format!(
            "another receipt: {:?}, acknowledged {:?}",
            reply.receipt, bet.receipt
        ));
    }
    None
}

/// The acknowledged bets and which of them are still to be checked on
/// every node.
#[derive(Default)]
struct Ledgered {
    all: Vec<Acknowledged>,
    /// Indexes into `all` not yet checked everywhere.
    unchecked: Vec<usize>,
}

impl Ledgered {
    fn drain(&mut self, acks: &mut mpsc::UnboundedReceiver<Acknowledged>) {
        while let Ok(ack) = acks.try_recv() {
            self.unchecked.push(self.all.len());
            self.all.push(ack);
        }
    }

    /// Takes the unchecked bets at or below `floor` out of `unchecked`.
    fn take_ready(&mut self, floor: u64) -> Vec<usize> {
        let (ready, later): (Vec<usize>, Vec<usize>) = self
            .unchecked
            .iter()
            .partition(|&&i| self.all[i].height <= floor);
        self.unchecked = later;
        ready
    }
}

/// How many validators chaos has down at once at most: the `f` that `n`
/// validators tolerate (`(n - 1) / 3`), and at least one (a run of kills
/// takes validators down one at a time even where `f` is 0).
pub fn max_validators_down(validators: usize) -> usize {
    (validators.saturating_sub(1) / 3).max(1)
}

/// Whether a fault on `victim` may begin while the faults on `open` (node,
/// is a validator) are still open — partitions in force, or their nodes
/// still catching up: never a second fault on one node, and never more
/// than [`max_validators_down`] of `validators` validators down at once,
/// a partitioned validator counting as down.
pub fn admissible(
    victim: &str,
    is_validator: bool,
    open: &[(String, bool)],
    validators: usize,
) -> bool {
    if open.iter().any(|(node, _)| node == victim) {
        return false;
    }
    let down = open.iter().filter(|(_, v)| *v).count() + usize::from(is_validator);
    down <= max_validators_down(validators)
}

/// A fault as it began.
struct Begun {
    index: u32,
    kind: ChaosFault,
    node: NodeEntry,
    pid: i32,
    waited: Duration,
    height_at_kill: u64,
    /// The other nodes under a fault when it began.
    overlapped: Vec<String>,
}

/// A fault ended and its node caught up (or stalled).
struct Ended {
    begun: Begun,
    down: Duration,
    target: u64,
    recovery: Duration,
    stalled: Option<ChaosViolation>,
}

/// Heals a chaos partition when dropped unless [`Healer::heal`] did: a
/// run that ends early (an error) never leaves a node cut off.
struct Healer {
    layout: Layout,
    id: u64,
    healed: bool,
}

impl Healer {
    fn heal(&mut self) -> Result<(), NetError> {
        self.healed = true;
        crate::partition::heal_one(&self.layout, self.id).map(drop)
    }
}

impl Drop for Healer {
    fn drop(&mut self) {
        if !self.healed {
            let _ = crate::partition::heal_one(&self.layout, self.id);
        }
    }
}

/// Waits until `victim` reaches the highest height the other `nodes`
/// have now, until `deadline`; returns that height and the stall, if the
/// deadline came first.
async fn catch_up(
    victim: &NodeEntry,
    nodes: &[(NodeEntry, ApiClient)],
    deadline: Instant,
) -> (u64, Option<ChaosViolation>) {
    let others: Vec<(NodeEntry, ApiClient)> = nodes
        .iter()
        .filter(|(n, _)| n.name != victim.name)
        .cloned()
        .collect();
    let target = heights(&others)
        .await
        .into_iter()
        .filter_map(|(_, h)| h)
        .max()
        .unwrap_or(0);
    let victim_client = client(victim);
    loop {
        let height = victim_client
            .status()
            .await
            .ok()
            .and_then(|s| s.node.height);
        if height.is_some_and(|h| h >= target) {
            return (target, None);
        }
        if Instant::now() >= deadline {
            let stall = ChaosViolation::Stalled {
                node: victim.name.clone(),
                height,
                target,
            };
            return (target, Some(stall));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A partition fault in the background: holds it, heals it, waits for
/// its node to catch up.
async fn hold_partition(
    mut healer: Healer,
    begun: Begun,
    began: Instant,
    hold: Duration,
    nodes: Vec<(NodeEntry, ApiClient)>,
    catch_up_timeout: Duration,
) -> Result<Ended, ChaosError> {
    tokio::time::sleep_until(began + hold).await;
    healer.heal()?;
    let healed = Instant::now();
    let (target, stalled) = catch_up(&begun.node, &nodes, healed + catch_up_timeout).await;
    Ok(Ended {
        down: healed - began,
        target,
        recovery: healed.elapsed(),
        stalled,
        begun,
    })
}

/// What the checks after each fault carry from one fault to the next.
struct Checks<'a> {
    layout: &'a Layout,
    nodes: &'a [(NodeEntry, ApiClient)],
    validators: &'a [NodeEntry],
    twinned: &'a [String],
    checker: Checker,
    signatures: Signatures,
    ledgered: Ledgered,
    acks: mpsc::UnboundedReceiver<Acknowledged>,
    /// The sample of older bets has its own generator: the schedule does
    /// not depend on how many bets there were.
    sampler: Rng,
}

impl Checks<'_> {
    /// Steps 3 to 5 of the module documentation once `victim` caught up:
    /// returns the receipts compared, the height checked through and what
    /// broke.
    async fn after(
        &mut self,
        victim: &NodeEntry,
        height_at_kill: u64,
    ) -> Result<(u64, Option<u64>, Vec<ChaosViolation>), ChaosError> {
        let mut found = Vec::new();
        let mut checked = 0;

        // Nothing acknowledged lost.
        self.ledgered.drain(&mut self.acks);
        let floor = heights(self.nodes)
            .await
            .into_iter()
            .map(|(_, h)| h.unwrap_or(0))
            .min()
            .unwrap_or(0);
        let ready = self.ledgered.take_ready(floor);
        let fresh: Vec<&Acknowledged> = ready.iter().map(|&i| &self.ledgered.all[i]).collect();
        for (node, client) in self.nodes {
            let (compared, lost) = verify(node, client, &fresh).await;
            checked += compared;
            found.extend(lost);
        }
        let tail_from = height_at_kill.saturating_sub(TAIL_BLOCKS);
        let mut older = Vec::new();
        let mut tail = Vec::new();
        for (i, bet) in self.ledgered.all.iter().enumerate() {
            if bet.height > floor || ready.binary_search(&i).is_ok() {
                continue;
            }
            if bet.height >= tail_from {
                tail.push(bet);
            } else {
                older.push(bet);
            }
        }
        for _ in 0..SAMPLE.min(older.len()) {
            let pick = self.sampler.below(older.len() as u64) as usize;
            tail.push(older.swap_remove(pick));
        }
        let (compared, lost) = verify(victim, &client(victim), &tail).await;
        checked += compared;
        found.extend(lost);

        // Agreement and supply.
        let report = self.checker.run(self.layout).await?;
        found.extend(
            report
                .violations
                .into_iter()
                .map(ChaosViolation::Disagreement),
        );

        // Nobody signed twice.
        for validator in self.validators {
            self.signatures.read(validator).await?;
        }
        let slashed_now = if self.twinned.is_empty() {
            None
        } else {
            slashed(self.layout, self.nodes).await
        };
        found.extend(
            self.signatures
                .violations_with(self.twinned, slashed_now.as_deref()),
        );
        Ok((checked, report.checked_height, found))
    }
}

/// The iterations so far and what they found.
#[derive(Default)]
struct Tally {
    iterations: Vec<Iteration>,
    violations: Vec<ChaosViolation>,
    recoveries: Vec<f64>,
    receipts_checked: u64,
    loads: Vec<f64>,
    /// When the count of acknowledged bets last grew, and to what.
    acked_since: Option<(Instant, u64)>,
    /// The longest stretch without a new acknowledged bet, and the fault
    /// after which it was seen last.
    starved: Option<(Duration, u32)>,
}

impl Tally {
    /// Notes the count of acknowledged bets after fault `index`.
    fn acked(&mut self, index: u32, acknowledged: u64) {
        let now = Instant::now();
        match self.acked_since {
            Some((since, count)) if count == acknowledged => {
                let gap = now - since;
                if self.starved.is_none_or(|(longest, _)| gap > longest) {
                    self.starved = Some((gap, index));
                }
            }
            _ => self.acked_since = Some((now, acknowledged)),
        }
    }
}

/// Checks after a fault ended (unless a violation was found already: the
/// run is ending, and its checks would find it again) and records it.
async fn settle(
    checks: &mut Checks<'_>,
    tally: &mut Tally,
    ended: Ended,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), ChaosError> {
    let mut found = Vec::new();
    let (mut checked_now, mut checked_height) = (0, None);
    if let Some(stall) = ended.stalled {
        found.push(stall);
    } else {
        tally.recoveries.push(ended.recovery.as_secs_f64() * 1000.0);
        if tally.violations.is_empty() {
            let (checked, height, broken) = checks
                .after(&ended.begun.node, ended.begun.height_at_kill)
                .await?;
            (checked_now, checked_height) = (checked, height);
            found = broken;
        }
    }
    tally.loads.extend(load_average());
    checks.ledgered.drain(&mut checks.acks);
    tally.acked(ended.begun.index, checks.ledgered.all.len() as u64);
    let begun = ended.begun;
    let iteration = Iteration {
        index: begun.index,
        kind: begun.kind,
        node: begun.node.name.clone(),
        pid: begun.pid,
        waited_ms: begun.waited.as_millis() as u64,
        height_at_kill: begun.height_at_kill,
        down_ms: ended.down.as_millis() as u64,
        target_height: ended.target,
        recovery_ms: ended.recovery.as_secs_f64() * 1000.0,
        overlapped: begun.overlapped,
        acknowledged: checks.ledgered.all.len() as u64,
        receipts_checked: checked_now,
        checked_height,
        equivocations: checks.signatures.total(),
        violations: found.iter().map(ToString::to_string).collect(),
    };
    progress(&iteration.to_string());
    tally.iterations.push(iteration);
    tally.receipts_checked += checked_now;
    tally.violations.extend(found);
    Ok(())
}

/// Partition faults in the background, and their nodes.
#[derive(Default)]
struct Open {
    tasks: JoinSet<Result<Ended, ChaosError>>,
    /// Index of the fault → (node, is a validator).
    nodes: BTreeMap<u32, (String, bool)>,
}

impl Open {
    fn list(&self) -> Vec<(String, bool)> {
        self.nodes.values().cloned().collect()
    }

    /// The next partition to end (and its node to catch up); `None` when
    /// none is open, or with `wait` false when none ended yet.
    async fn next(&mut self, wait: bool) -> Option<Result<Ended, ChaosError>> {
        let done = if wait {
            self.tasks.join_next().await?
        } else {
            self.tasks.try_join_next()?
        };
        let ended = done.unwrap_or_else(|e| panic!("a partition task failed: {e}"));
        if let Ok(ended) = &ended {
            self.nodes.remove(&ended.begun.index);
        }
        Some(ended)
    }
}

/// Runs the chaos loop against `layout` (see the module documentation),
/// reporting each step with `progress`.
pub async fn run(
    layout: &Layout,
    options: &ChaosOptions,
    progress: Arc<dyn Fn(&str) + Send + Sync>,
) -> Result<ChaosReport, ChaosError> {
    let started = Instant::now();
    let validators: Vec<NodeEntry> = layout
        .nodes
        .iter()
        .filter(|n| n.role == Role::Validator)
        .cloned()
        .collect();
    if validators.is_empty() {
        return Err(ChaosError::NoValidators);
    }
    let nodes: Vec<(NodeEntry, ApiClient)> =
        layout.api_nodes().map(|n| (n.clone(), client(n))).collect();
    for (node, client) in &nodes {
        client.status().await.map_err(|e| ChaosError::NotRunning {
            node: node.name.clone(),
            reason: e.to_string(),
        })?;
    }
    let victims = targets(layout, options.targets);
    let twinned: Vec<String> = crate::twin::twinned(layout).into_iter().collect();
    let checker = Checker::new(layout)?;
    let mut signatures = Signatures::default();
    for validator in &validators {
        signatures.read(validator).await?;
    }

    // The load, tapped.
    let (ack_tx, mut acks) = mpsc::unbounded_channel();
    let (stop, stop_rx) = watch::channel(false);
    let mut load_task = {
        let layout = layout.clone();
        let options = options.load.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            let tap = Tap {
                acknowledged: ack_tx,
                stop: stop_rx,
            };
            let say = move |line: &str| progress(line);
            load::run_tapped(&layout, &options, &say, Some(tap)).await
        })
    };
    let mut ledgered = Ledgered::default();
    tokio::select! {
        first = tokio::time::timeout(FIRST_ACK_TIMEOUT, acks.recv()) => match first {
            Ok(Some(ack)) => {
                ledgered.unchecked.push(0);
                ledgered.all.push(ack);
            }
            _ => {
                load_task.abort();
                return Err(ChaosError::Load(format!(
                    "acknowledged no bet within {FIRST_ACK_TIMEOUT:?}"
                )));
            }
        },
        ended = &mut load_task => {
            return Err(match ended {
                Ok(Err(error)) => error.into(),
                _ => ChaosError::Load("ended before acknowledging a bet".into()),
            });
        }
    }
    let limit = max_validators_down(validators.len());
    progress(&format!(
        "bets are being acknowledged; {} faults ({}) of {} nodes, at most {limit} validator(s) down at once (seed {})",
        options.kills,
        options
            .faults
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(","),
        victims.len(),
        options.seed
    ));
    let mut checks = Checks {
        layout,
        nodes: &nodes,
        validators: &validators,
        twinned: &twinned,
        checker,
        signatures,
        ledgered,
        acks,
        sampler: Rng(!options.seed),
    };
    let mut tally = Tally {
        acked_since: Some((Instant::now(), 1)),
        ..Tally::default()
    };
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut children: Vec<(String, Child)> = Vec::new();
    let mut open = Open::default();
    let (mut overlapping, mut most_down) = (0u64, 0usize);
    for (kill, index) in schedule(options, victims.len()).into_iter().zip(1..) {
        if load_task.is_finished() || !tally.violations.is_empty() {
            break;
        }
        let victim = &victims[kill.validator];
        let is_validator = victim.role == Role::Validator;
        let (waited, hold) = (kill.wait, kill.hold);
        tokio::time::sleep(waited).await;

        // Partitions that ended meanwhile are checked first; then, while
        // this fault may not begin yet, the next one to end.
        loop {
            while let Some(ended) = open.next(false).await {
                settle(&mut checks, &mut tally, ended?, &*progress).await?;
            }
            if admissible(&victim.name, is_validator, &open.list(), validators.len()) {
                break;
            }
            let ended = open.next(true).await.expect("a fault is open");
            settle(&mut checks, &mut tally, ended?, &*progress).await?;
        }
        if !tally.violations.is_empty() {
            break;
        }
        let overlapped: Vec<String> = open.list().into_iter().map(|(node, _)| node).collect();
        overlapping += u64::from(!overlapped.is_empty());
        most_down = most_down
            .max(open.list().iter().filter(|(_, v)| *v).count() + usize::from(is_validator));

        // The victim's count is read last thing before a kill or restart
        // ends its process (best effort: the previous iteration's reading
        // stands if it does not answer now).
        if is_validator && matches!(kill.kind, ChaosFault::Kill | ChaosFault::Restart) {
            let _ = checks.signatures.read(victim).await;
        }
        let height_at_kill = heights(&nodes)
            .await
            .into_iter()
            .filter_map(|(_, h)| h)
            .max()
            .unwrap_or(0);
        let begun = Begun {
            index,
            kind: kill.kind,
            node: victim.clone(),
            pid: process::live(&victim.pid_file()).map_or(0, |r| r.pid),
            waited,
            height_at_kill,
            overlapped,
        };
        let began = Instant::now();
        *by_kind.entry(kill.kind.name().to_owned()).or_default() += 1;
        match kill.kind {
            ChaosFault::Kill => {
                let (name, pid_file) = (victim.name.clone(), victim.pid_file());
                tokio::task::spawn_blocking(move || process::kill(&name, &pid_file))
                    .await
                    .expect("the kill task does not panic")?;
                checks.signatures.killed(&victim.name);
                tokio::time::sleep(hold).await;
                process::reap(&mut children);
                children.push((victim.name.clone(), net::start_node(layout, victim)?));
            }
            ChaosFault::Restart => {
                let (name, pid_file) = (victim.name.clone(), victim.pid_file());
                tokio::task::spawn_blocking(move || {
                    process::stop(&name, &pid_file, crate::faults::RESTART_GRACE)
                })
                .await
                .expect("the stop task does not panic")?;
                checks.signatures.killed(&victim.name);
                process::reap(&mut children);
                children.push((victim.name.clone(), net::start_node(layout, victim)?));
            }
            ChaosFault::Pause => {
                process::pause(&victim.name, &victim.pid_file())?;
                tokio::time::sleep(hold).await;
                process::resume(&victim.name, &victim.pid_file())?;
            }
            ChaosFault::Partition => {
                // In the background: the next faults may begin while it
                // is in force. It is checked once healed and caught up.
                let cut = crate::partition::cut(layout, std::slice::from_ref(&victim.name))?;
                let healer = Healer {
                    layout: layout.clone(),
                    id: cut.id,
                    healed: false,
                };
                crate::partition::plan_heal(layout, cut.id, hold)?;
                open.nodes
                    .insert(index, (victim.name.clone(), is_validator));
                open.tasks.spawn(hold_partition(
                    healer,
                    begun,
                    began,
                    hold,
                    nodes.clone(),
                    options.catch_up_timeout,
                ));
                continue;
            }
        }
        let restarted = Instant::now();
        let (target, stalled) =
            catch_up(victim, &nodes, restarted + options.catch_up_timeout).await;
        let ended = Ended {
            begun,
            down: restarted - began,
            target,
            recovery: restarted.elapsed(),
            stalled,
        };
        settle(&mut checks, &mut tally, ended, &*progress).await?;
    }
    // The partitions still in force heal, their nodes catch up, and they
    // are checked.
    while let Some(ended) = open.next(true).await {
        settle(&mut checks, &mut tally, ended?, &*progress).await?;
    }
    tally.iterations.sort_by_key(|i| i.index);
    let Tally {
        iterations,
        mut violations,
        recoveries,
        receipts_checked,
        loads,
        starved,
        ..
    } = tally;
    let Checks {
        mut signatures,
        mut ledgered,
        mut acks,
        ..
    } = checks;

    // Stop the load, let it drain, then check everything from the genesis.
    progress("stopping the load and waiting for its last bets to finalize");
    let _ = stop.send(true);
    let load_report: Option<LoadReport> = match load_task.await {
        Ok(Ok(report)) => Some(report),
        Ok(Err(error)) => return Err(error.into()),
        Err(_) => None,
    };
    ledgered.drain(&mut acks);
    let top = ledgered.all.iter().map(|a| a.height).max().unwrap_or(0);
    let deadline = Instant::now() + options.catch_up_timeout;
    while Instant::now() < deadline {
        let lowest = heights(&nodes)
            .await
            .into_iter()
            .map(|(_, h)| h.unwrap_or(0))
            .min()
            .unwrap_or(0);
        if lowest >= top {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    progress(&format!(
        "checking all {} acknowledged bets on {} nodes and the chain from the genesis",
        ledgered.all.len(),
        nodes.len()
    ));
    let everything: Vec<&Acknowledged> = ledgered.all.iter().collect();
    let mut final_receipts_checked = 0;
    for (node, client) in &nodes {
        let (compared, lost) = verify(node, client, &everything).await;
        final_receipts_checked += compared;
        violations.extend(lost);
    }
    let full = check::check(layout).await?;
    violations.extend(
        full.violations
            .into_iter()
            .map(ChaosViolation::Disagreement),
    );
    for validator in &validators {
        signatures.read(validator).await?;
    }
    let slashed_at_end = if twinned.is_empty() {
        None
    } else {
        slashed(layout, &nodes).await
    };
    for violation in signatures.violations_with(&twinned, slashed_at_end.as_deref()) {
        if !violations.contains(&violation) {
            violations.push(violation);
        }
    }
    process::reap(&mut children);

    let count = |f: fn(&ChaosViolation) -> bool| violations.iter().filter(|v| f(v)).count() as u64;
    let recovery = Percentiles::of(&recoveries);
    Ok(ChaosReport {
        seed: options.seed,
        kills_planned: options.kills,
        kills: iterations.len() as u32,
        faults_by_kind: by_kind,
        targets: options.targets,
        overlapping,
        max_validators_down: most_down as u64,
        validators_down_limit: limit as u64,
        twinned,
        load_average_mean: (!loads.is_empty())
            .then(|| loads.iter().sum::<f64>() / loads.len() as f64),
        load_average_max: loads.iter().copied().reduce(f64::max),
        submitted: load_report.as_ref().map_or(0, |r| r.submitted),
        acknowledged: ledgered.all.len() as u64,
        lost: count(|v| matches!(v, ChaosViolation::Lost { .. })),
        disagreements: count(|v| matches!(v, ChaosViolation::Disagreement(_))),
        double_signs: signatures.total(),
        stalls: count(|v| matches!(v, ChaosViolation::Stalled { .. })),
        receipts_checked,
        final_receipts_checked,
        nodes: nodes.len(),
        checked_height: full.checked_height,
        recovery_p50_ms: recovery.map(|p| p.p50),
        recovery_p90_ms: recovery.map(|p| p.p90),
        recovery_max_ms: recovery.map(|p| p.max),
        longest_without_ack_secs: starved.map(|(gap, _)| gap.as_secs_f64()),
        longest_without_ack_through: starved.map(|(_, index)| index),
        elapsed_secs: started.elapsed().as_secs_f64(),
        violations: violations.iter().map(ToString::to_string).collect(),
        iterations,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_equivocation_metric_is_read_from_every_kind() {
        let clean = "# TYPE bitcraps_equivocations counter\n\
             bitcraps_equivocations_total{kind=\"conflicting_notarize\"} 0\n\
             bitcraps_equivocations_total{kind=\"conflicting_finalize\"} 0\n\
             bitcraps_equivocations_total{kind=\"nullify_finalize\"} 0\n\
             bitcraps_height 12\n# EOF\n";
        assert_eq!(equivocations(clean), Some(0));
        let dirty = clean.replace("finalize\"} 0", "finalize\"} 2");
        assert_eq!(equivocations(&dirty), Some(4));
        // A node without the series (not a validator, or an old binary)
        // cannot vouch for anything.
        assert_eq!(equivocations("bitcraps_height 12\n# EOF\n"), None);
        let partial: String = clean.lines().skip(2).collect::<Vec<_>>().join("\n");
        assert_eq!(equivocations(&partial), None);
    }

    #[test]
    fn double_signs_add_up_over_incarnations() {
        let mut signatures = Signatures::default();
        signatures.current.insert("validator-0".into(), 0);
        signatures.current.insert("validator-1".into(), 2);
        signatures.killed("validator-1");
        // The restarted process counts from zero again.
        signatures.current.insert("validator-1".into(), 1);
        assert_eq!(signatures.total(), 3);
        assert_eq!(
            signatures.violations(),
            vec![ChaosViolation::DoubleSign {
                reported_by: "validator-1".into(),
                count: 3
            }]
        );
    }

    #[test]
    fn a_receipt_must_match_in_block_and_content() {
        use consensus::encoding::BoundedVec;
        use consensus::receipt::{Receipt, TxStatus};
        use consensus::tx::{Action, Transaction};
        use game_rules::Chips;
        let keypair = wallet::Keypair::from_secret_bytes(&[1; 32]);
        let tx = Transaction {
            chain_id: wallet::ChainId::new([3; 32]),
            sender: keypair.public_key(),
            nonce: 0,
            fee: Chips(1),
            expiry_height: 100,
            action: Action::Faucet { amount: Chips(5) },
        }
        .sign(&keypair);
        let receipt = Receipt {
            tx: tx.hash(),
            status: TxStatus::Applied,
            fee_charged: Chips(1),
            events: BoundedVec::new(Vec::new()).unwrap(),
        };
        let bet = Acknowledged {
            height: 10,
            receipt: receipt.clone(),
        };
        let reply = |height: Option<u64>, status: TxState, receipt: Option<Receipt>| {
            Ok(node::client::TxReply {
                hash: tx.hash(),
                status,
                sender: keypair.address(),
                tx: tx.clone(),
                block_height: height,
                block_hash: None,
                index: Some(0),
                receipt,
            })
        };
        let good = reply(Some(10), TxState::Applied, Some(receipt.clone()));
        assert_eq!(mismatch(&bet, good), None);
        let moved = reply(Some(11), TxState::Applied, Some(receipt.clone()));
        assert!(mismatch(&bet, moved).unwrap().contains("block"));
        let pending = reply(None, TxState::Pending, None);
        assert!(mismatch(&bet, pending).unwrap().contains("pending"));
        let mut other = receipt.clone();
        other.fee_charged = Chips(2);
        let changed = reply(Some(10), TxState::Applied, Some(other));
        assert!(mismatch(&bet, changed).unwrap().contains("another receipt"));
        let missing = Err(ClientError::Protocol("404".into()));
        assert!(mismatch(&bet, missing).is_some());
    }

    #[test]
    fn the_schedule_depends_on_the_seed_alone() {
        let options = |seed, max_hold| ChaosOptions {
            kills: 50,
            faults: vec![ChaosFault::Kill],
            targets: Targets::Validators,
            seed,
            load: LoadOptions {
                rate: 1.0,
                duration: Duration::from_secs(1),
                wallets: 1,
                stake: 1,
                drain: Duration::ZERO,
                concurrency: 1,
            },
            max_wait: Duration::from_secs(2),
            min_hold: Duration::from_millis(100),
            max_hold,
            catch_up_timeout: Duration::from_secs(1),
        };
        let three = Duration::from_secs(3);
        let kills = schedule(&options(7, three), 4);
        assert_eq!(kills, schedule(&options(7, three), 4));
        assert_ne!(kills, schedule(&options(8, three), 4));
        assert!(kills.iter().all(|k| k.validator < 4
            && k.wait <= Duration::from_secs(2)
            && (Duration::from_millis(100)..=three).contains(&k.hold)));
        assert!((0..4).all(|v| kills.iter().any(|k| k.validator == v)));
        // Other durations, same victims.
        let victims = |kills: Vec<Kill>| kills.iter().map(|k| k.validator).collect::<Vec<_>>();
        assert_eq!(
            victims(schedule(&options(7, Duration::from_secs(1)), 4)),
            victims(kills.clone())
        );
        assert!(kills.iter().all(|k| k.kind == ChaosFault::Kill));

        // A mix: the same victims, waits and holds as kills alone, every
        // kind in the first four faults, and the mix again for the same
        // seed.
        let mixed = |seed| {
            let mut o = options(seed, three);
            o.faults = ChaosFault::ALL.to_vec();
            schedule(&o, 4)
        };
        let mix = mixed(7);
        assert_eq!(mix, mixed(7));
        assert_eq!(victims(mix.clone()), victims(kills));
        for seed in [1, 7, 11, 2026] {
            let first: BTreeSet<ChaosFault> = mixed(seed)[..4].iter().map(|k| k.kind).collect();
            assert_eq!(first.len(), 4, "seed {seed}: {first:?}");
        }
        let later: BTreeSet<ChaosFault> = mix[4..].iter().map(|k| k.kind).collect();
        assert_eq!(later.len(), 4, "50 faults draw every kind again");
    }

    #[test]
    fn never_more_than_f_validators_down_and_never_two_faults_on_a_node() {
        assert_eq!(
            [1, 3, 4, 6, 7, 10].map(max_validators_down),
            [1, 1, 1, 1, 2, 3]
        );
        let open = |list: &[(&str, bool)]| {
            list.iter()
                .map(|(n, v)| ((*n).to_owned(), *v))
                .collect::<Vec<_>>()
        };
        // Nothing open: anything goes, even the one validator of a
        // 1-validator testnet.
        assert!(admissible("validator-0", true, &[], 1));
        // 4 validators (f = 1): a cut-off validator overlaps faults on
        // player nodes only.
        let cut_validator = open(&[("validator-2", true)]);
        assert!(!admissible("validator-0", true, &cut_validator, 4));
        assert!(admissible("player-0", false, &cut_validator, 4));
        let cut_player = open(&[("player-0", false)]);
        assert!(admissible("validator-3", true, &cut_player, 4));
        assert!(!admissible("player-0", false, &cut_player, 4), "same node");
        // 7 validators (f = 2): two validators down, not three; players
        // do not count.
        let one = open(&[("validator-1", true), ("player-0", false)]);
        assert!(admissible("validator-4", true, &one, 7));
        let two = open(&[("validator-1", true), ("validator-4", true)]);
        assert!(!admissible("validator-5", true, &two, 7));
        assert!(admissible("player-1", false, &two, 7));
        assert!(!admissible("validator-4", true, &one, 4), "f = 1");
    }

    #[test]
    fn the_longest_stretch_without_a_new_acknowledgement_is_kept() {
        let ms = Duration::from_millis;
        let mut tally = Tally {
            acked_since: Some((Instant::now(), 1)),
            ..Tally::default()
        };
        tally.acked(1, 5);
        assert!(tally.starved.is_none(), "the count grew");
        std::thread::sleep(ms(20));
        tally.acked(2, 5);
        assert!(
            tally
                .starved
                .is_some_and(|(gap, at)| gap >= ms(20) && at == 2)
        );
        std::thread::sleep(ms(10));
        tally.acked(3, 5);
        assert!(
            tally
                .starved
                .is_some_and(|(gap, at)| gap >= ms(30) && at == 3)
        );
        // Growth starts a new stretch; a shorter one does not replace it.
        tally.acked(4, 6);
        tally.acked(5, 6);
        assert_eq!(tally.starved.map(|(_, at)| at), Some(3));
    }

    #[test]
    fn faults_and_targets_parse_from_their_names() {
        for kind in ChaosFault::ALL {
            assert_eq!(kind.name().parse::<ChaosFault>(), Ok(kind));
        }
        assert!("melt".parse::<ChaosFault>().unwrap_err().contains("kill"));
        assert_eq!("all".parse::<Targets>(), Ok(Targets::All));
        assert_eq!("validators".parse::<Targets>(), Ok(Targets::Validators));
        assert!("some".parse::<Targets>().is_err());
        let manifest = crate::manifest::Manifest {
            validators: 4,
            players: 2,
            ..crate::manifest::Manifest::default()
        };
        let layout = Layout::plan(
            std::path::Path::new("/tmp/tn"),
            std::path::Path::new("/bin/bitcraps"),
            &manifest,
        );
        let names = |t| {
            targets(&layout, t)
                .into_iter()
                .map(|n| n.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(Targets::Validators).len(), 4);
        assert_eq!(
            names(Targets::All)[4..],
            ["player-0".to_owned(), "player-1".to_owned()]
        );
    }

    #[test]
    fn with_an_injected_twin_only_a_slashed_honest_validator_is_a_double_sign() {
        let mut signatures = Signatures::default();
        signatures.current.insert("validator-0".into(), 3);
        // Without twins any count is a violation.
        assert_eq!(signatures.violations_with(&[], None).len(), 1);
        let twinned = ["validator-3".to_owned()];
        // The twin's validator slashed: expected.
        assert!(
            signatures
                .violations_with(&twinned, Some(&["validator-3".to_owned()]))
                .is_empty()
        );
        // Another one slashed: a double sign.
        assert_eq!(
            signatures.violations_with(
                &twinned,
                Some(&["validator-3".to_owned(), "validator-1".to_owned()])
            ),
            vec![ChaosViolation::HonestSlashed {
                node: "validator-1".into()
            }]
        );
    }
}
