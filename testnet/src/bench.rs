//! # `bitcraps bench`: one table of what this machine does
//!
//! 1. **The verification bound**, measured first: ed25519 verifications
//!    per second of signed bets on one core, one by one
//!    ([`SignedTransaction::verify`]) and batched ([`wallet::verify_batch`],
//!    the same rule). Each validator checks each bet's signature once (on
//!    mempool entry, in batches of what one API request or gossip message
//!    carries), so `cores × rate / validators` is the most bets per second
//!    the validators on this box could ever check; the batched figure is
//!    the bound the headline is compared with. The rate is per second of the measuring thread's CPU time
//!    (`/proc/thread-self/stat`), so other work on the machine slows the
//!    measurement without lowering the figure.
//! 2. For each of `runs`: a **fresh testnet** of 4 validators (no player
//!    node; bets go to the validators' APIs) as real processes on loopback
//!    ([`crate::net`]), whose API limits are raised for the load generator
//!    (the per-IP rate limit is off, the WebSocket queue and topic limits
//!    are larger: every local process shares `127.0.0.1`'s bucket); then
//!    - **idle CPU** per validator over `idle` with no load (utime + stime
//!      from `/proc/<pid>/stat`) and the idle block rate;
//!    - **saturation**: [`crate::load`] at an infinite rate with several
//!      submitters for `saturation`: sustained finalized (and applied)
//!      bets/s, and that as a fraction of the batched bound;
//!    - the **on-disk growth** of the validators' data directories over
//!      the saturation phase (allocated blocks), per million finalized bets;
//!    - **latency** at the fixed offered `rate` for `latency`: submission to
//!      finality (the receipt on the node's WebSocket) and to settlement
//!      (the roll that settled the bet), p50/p90/p99;
//!    - **peak resident memory** per validator (`VmHWM`).
//! 3. The **spread** of the headline (saturated finalized bets/s) over the
//!    runs: `(max − min) / mean`.
//!
//! [`BenchReport`] prints as one table and serializes to JSON.

use std::fmt;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use consensus::tx::{Action, TableId, Transaction};
use game_rules::Chips;
use game_rules::craps::BetKind;
use node::client::ApiClient;
use serde::Serialize;
use wallet::{ChainId, Keypair, SignDomain, SignedMessage};

use crate::layout::{Layout, NodeEntry, Role};
use crate::load::{self, LoadError, LoadOptions, LoadReport, Percentiles};
use crate::manifest::Manifest;
use crate::net::{self, NetError, PrepareOptions};
use crate::process;

/// Validators in the benchmark's testnet.
pub const VALIDATORS: u32 = 4;

/// Signed bets the verification measurement cycles through.
const VERIFY_SAMPLES: usize = 256;

/// The batch size of the batched verification measurement.
pub const VERIFY_BATCH: usize = 64;

/// `/proc` reports CPU times in USER_HZ ticks, 100 per second on Linux.
const TICKS_PER_SEC: f64 = 100.0;

/// How long nodes get to exit after SIGTERM.
const GRACE: Duration = Duration::from_secs(10);

/// Why the benchmark stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The testnet could not be made, started or stopped.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The load generator failed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The options cannot work.
    #[error("invalid bench options: {0}")]
    Options(String),
    /// The measurement itself failed.
    #[error("measurement failed: {0}")]
    Measure(String),
}

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// The `bitcraps` binary the nodes run.
    pub binary: PathBuf,
    /// Where the testnets go (`run-<i>` below it, replaced each run).
    pub dir: PathBuf,
    /// The first port of the testnets (each node takes 10 from here).
    pub base_port: u16,
    /// Testnets to run, one after the other.
    pub runs: u32,
    /// How long each verification measurement runs (CPU time).
    pub verify_time: Duration,
    /// How long idle CPU is measured.
    pub idle: Duration,
    /// How long the saturating load runs.
    pub saturation: Duration,
    /// Submitters at once in the saturating load.
    pub saturation_concurrency: usize,
    /// Wallets of the saturating load (each may have 64 bets pooled).
    pub saturation_wallets: u32,
    /// The fixed offered rate of the latency phase, bets/s.
    pub rate: f64,
    /// How long the fixed-rate load runs.
    pub latency: Duration,
    /// Wallets of the fixed-rate load.
    pub latency_wallets: u32,
    /// Submitters at once in the fixed-rate load.
    pub latency_concurrency: usize,
    /// How long each load waits afterwards for finality and settlement.
    pub drain: Duration,
    /// How long the testnet may take to be ready.
    pub ready_timeout: Duration,
    /// The most bets per submission request of both loads
    /// ([`load::DEFAULT_BATCH`] by default; 1 submits each bet on its own
    /// `POST /v1/txs`, as before batching, to compare).
    pub batch: usize,
}

/// The verification bound of this machine.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerificationBound {
    /// CPU cores available to this process.
    pub cores: usize,
    /// Verifications one by one per CPU-second (one core).
    pub single_per_core: f64,
    /// Batched verifications per CPU-second (one core).
    pub batched_per_core: f64,
    /// The batch size.
    pub batch: usize,
    /// Validators sharing the cores.
    pub validators: u32,
}

impl VerificationBound {
    /// The most bets per second the validators could check one by one:
    /// `cores × single / validators`.
    pub fn bets_per_sec(&self) -> f64 {
        self.cores as f64 * self.single_per_core / f64::from(self.validators.max(1))
    }

    /// The same with batched verification.
    pub fn batched_bets_per_sec(&self) -> f64 {
        self.cores as f64 * self.batched_per_core / f64::from(self.validators.max(1))
    }
}

/// Latency percentiles, ms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Latency {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl From<Percentiles> for Latency {
    fn from(p: Percentiles) -> Latency {
        Latency {
            count: p.count,
            p50_ms: p.p50,
            p90_ms: p.p90,
            p99_ms: p.p99,
            max_ms: p.max,
        }
    }
}

/// One validator's figures in one run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValidatorFigures {
    /// `validator-<i>`.
    pub name: String,
    /// Percent of one core used while idle.
    pub idle_cpu_percent: f64,
    /// Peak resident memory (`VmHWM`) at the end of the run, bytes.
    pub peak_rss_bytes: u64,
}

/// A load phase's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadFigures {
    /// Offered bets/s (`null`: saturation).
    pub offered_per_sec: Option<f64>,
    /// Bets accepted by the APIs per second.
    pub submitted_per_sec: f64,
    /// Submissions refused (mempool full…).
    pub refused: u64,
    /// Bets finalized per second over the measurement window.
    pub finalized_per_sec: f64,
    /// Bets finalized and applied per second over the window.
    pub applied_per_sec: f64,
    /// Bets finalized in all.
    pub finalized: u64,
    /// Finalized bets the ledger rejected (e.g. a roll in progress).
    pub rejected: u64,
    /// Submission to finality.
    pub finality: Option<Latency>,
    /// Submission to settlement.
    pub settlement: Option<Latency>,
    /// Times the observer's WebSocket dropped.
    pub observer_drops: u64,
}

impl From<&LoadReport> for LoadFigures {
    fn from(r: &LoadReport) -> LoadFigures {
        LoadFigures {
            offered_per_sec: r.offered_rate.is_finite().then_some(r.offered_rate),
            submitted_per_sec: r.submitted_per_sec(),
            refused: r.refused,
            finalized_per_sec: r.finalized_per_sec(),
            applied_per_sec: r.applied_per_sec(),
            finalized: r.finalized,
            rejected: r.rejected,
            finality: r.finality.map(Latency::from),
            settlement: r.settlement.map(Latency::from),
            observer_drops: r.observer_drops,
        }
    }
}

/// Where the CPU went during a load's measurement window, percent of one
/// core, and how many blocks were finalized meanwhile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseCpu {
    /// Each validator.
    pub validators_percent: Vec<f64>,
    /// The load generator (this process: signing, HTTP, observing).
    pub generator_percent: f64,
    /// Blocks finalized per second in the window (the first validator's
    /// height), if its status answered at both ends.
    pub blocks_per_sec: Option<f64>,
}

/// One run's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunFigures {
    /// Blocks finalized per second while idle.
    pub idle_blocks_per_sec: f64,
    /// Per validator.
    pub validators: Vec<ValidatorFigures>,
    /// The saturating load.
    pub saturation: LoadFigures,
    /// The fixed-rate load.
    pub fixed_rate: LoadFigures,
    /// CPU during the saturating load's window.
    pub saturation_cpu: Option<PhaseCpu>,
    /// CPU during the fixed-rate load's window.
    pub fixed_rate_cpu: Option<PhaseCpu>,
    /// Growth of the validators' data directories over the saturation
    /// phase, bytes (all validators).
    pub disk_growth_bytes: i64,
    /// That per validator and per million finalized bets.
    pub disk_bytes_per_million_bets: Option<f64>,
    /// The observed node's `bitcraps_api_websocket_dropped_total` lines
    /// at the end of the run (why the observer's connections were dropped).
    pub websocket_drops: Vec<String>,
    /// The 1-minute load average of the machine at the start and the end
    /// of the run.
    pub load_average: (f64, f64),
}

/// Everything measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// `debug` or `release`: how the binary (and so the nodes) was built.
    pub build: String,
    /// The most bets per submission request.
    pub batch: usize,
    /// The verification bound.
    pub bound: VerificationBound,
    /// Each run.
    pub runs: Vec<RunFigures>,
    /// Saturated finalized bets/s: (min, mean, max) over the runs.
    pub headline: (f64, f64, f64),
    /// `(max − min) / mean` of the headline.
    pub spread: f64,
}

/// The current thread's CPU time (user + system), seconds.
fn thread_cpu_secs() -> Result<f64, BenchError> {
    let text = std::fs::read_to_string("/proc/thread-self/stat").map_err(|e| BenchError::File {
        path: "/proc/thread-self/stat".into(),
        reason: e.to_string(),
    })?;
    cpu_ticks(&text)
        .map(|ticks| ticks as f64 / TICKS_PER_SEC)
        .ok_or_else(|| BenchError::Measure("cannot parse /proc/thread-self/stat".into()))
}

/// utime + stime (ticks) from a `/proc/…/stat` line. The command name
/// (field 2) may hold spaces, so fields are counted after its `)`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A process's CPU ticks.
fn process_ticks(pid: i32) -> Option<u64> {
    cpu_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Cumulative CPU ticks of the validators and of this process, and the
/// chain's height, at one time.
struct CpuSample {
    at: tokio::time::Instant,
    validators: Vec<u64>,
    generator: u64,
    height: Option<u64>,
}

impl CpuSample {
    fn take(pids: &[i32], height: Option<u64>) -> CpuSample {
        CpuSample {
            at: tokio::time::Instant::now(),
            height,
            validators: pids
                .iter()
                .map(|pid| process_ticks(*pid).unwrap_or(0))
                .collect(),
            generator: std::fs::read_to_string("/proc/self/stat")
                .ok()
                .and_then(|s| cpu_ticks(&s))
                .unwrap_or(0),
        }
    }
}

/// Samples CPU and the height of `status`'s node every half second until
/// aborted.
async fn sample_cpu(pids: Vec<i32>, status: ApiClient, samples: Arc<Mutex<Vec<CpuSample>>>) {
    loop {
        let height = status.status().await.ok().and_then(|s| s.node.height);
        let sample = CpuSample::take(&pids, height);
        samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sample);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The CPU used between the first sample at or after `from` and the last
/// at or before `to`.
fn cpu_between(
    samples: &Mutex<Vec<CpuSample>>,
    from: tokio::time::Instant,
    to: tokio::time::Instant,
) -> Option<PhaseCpu> {
    let samples = samples.lock().unwrap_or_else(|e| e.into_inner());
    let a = samples.iter().find(|s| s.at >= from)?;
    let b = samples.iter().rev().find(|s| s.at <= to)?;
    let secs = b.at.checked_duration_since(a.at)?.as_secs_f64();
    if secs < 0.5 {
        return None;
    }
    let percent = |x: u64, y: u64| 100.0 * y.saturating_sub(x) as f64 / TICKS_PER_SEC / secs;
    Some(PhaseCpu {
        validators_percent: a
            .validators
            .iter()
            .zip(&b.validators)
            .map(|(x, y)| percent(*x, *y))
            .collect(),
        generator_percent: percent(a.generator, b.generator),
        blocks_per_sec: a
            .height
            .zip(b.height)
            .map(|(x, y)| y.saturating_sub(x) as f64 / secs),
    })
}

/// The measurement window of a load that just returned `report`: from the
/// end of its warm-up to the end of the load.
fn window_of(report: &LoadReport) -> (tokio::time::Instant, tokio::time::Instant) {
    let start = tokio::time::Instant::now() - report.elapsed;
    (
        start + (report.load_duration - report.window),
        start + report.load_duration,
    )
}

/// A process's peak resident memory (`VmHWM`), bytes.
fn peak_rss(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The 1-minute load average.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Bytes allocated on disk under `dir` (blocks, so preallocated and sparse
/// files count what they take).
fn disk_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => disk_bytes(&entry.path()),
            Ok(meta) => meta.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

/// Runs `work` over the samples until `time` of this thread's CPU has
/// passed; returns items per CPU-second.
fn rate(time: Duration, per_call: usize, mut work: impl FnMut(usize)) -> Result<f64, BenchError> {
    let start = thread_cpu_secs()?;
    let wall = Instant::now();
    let mut calls = 0usize;
    loop {
        work(calls);
        calls += 1;
        let used = thread_cpu_secs()? - start;
        // Tick resolution is 10 ms: run for at least `time` and 50 ticks.
        if used >= time.as_secs_f64().max(0.5) {
            return Ok((calls * per_call) as f64 / used);
        }
        if wall.elapsed() > time * 20 + Duration::from_secs(60) {
            return Err(BenchError::Measure(
                "the verification measurement got almost no CPU".into(),
            ));
        }
    }
}

/// Measures the verification bound (see the module documentation) with
/// `time` of CPU for each of the single and batched figures. Blocking.
pub fn measure_verification(time: Duration) -> Result<VerificationBound, BenchError> {
    let chain_id = ChainId::new([7; 32]);
    let mut txs = Vec::with_capacity(VERIFY_SAMPLES);
    for i in 0..VERIFY_SAMPLES {
        let keypair = Keypair::generate().map_err(|e| BenchError::Measure(e.to_string()))?;
        let tx = Transaction {
            chain_id,
            sender: keypair.public_key(),
            nonce: i as u64,
            fee: Chips(1),
            expiry_height: 1_000,
            action: Action::CrapsBet {
                table: TableId(1),
                kind: BetKind::Field,
                amount: Chips(10),
            },
        }
        .sign(&keypair);
        txs.push(tx);
    }
    if txs.iter().any(|tx| tx.verify().is_err()) {
        return Err(BenchError::Measure(
            "a freshly signed bet does not verify".into(),
        ));
    }
    let single = rate(time, 1, |i| {
        let ok = txs[i % VERIFY_SAMPLES].verify().is_ok();
        std::hint::black_box(ok);
    })?;
    let batches = VERIFY_SAMPLES / VERIFY_BATCH;
    let batched = rate(time, VERIFY_BATCH, |i| {
        let chunk = &txs[(i % batches) * VERIFY_BATCH..][..VERIFY_BATCH];
        let encoded: Vec<Vec<u8>> = chunk.iter().map(|tx| tx.tx.encode()).collect();
        let items: Vec<SignedMessage<'_>> = chunk
            .iter()
            .zip(&encoded)
            .map(|(tx, message)| SignedMessage {
                public_key: &tx.tx.sender,
                domain: SignDomain::Transaction,
                chain_id: &tx.tx.chain_id,
                message,
                signature: &tx.signature,
            })
            .collect();
        let ok = wallet::verify_batch(&items).is_ok();
        std::hint::black_box(ok);
    })?;
    Ok(VerificationBound {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        single_per_core: single,
        batched_per_core: batched,
        batch: VERIFY_BATCH,
        validators: VALIDATORS,
    })
}

/// Raises the API limits of `node`'s configuration for the load generator
/// (see the module documentation).
fn raise_api_limits(node: &NodeEntry) -> Result<(), BenchError> {
    let path = node.config_file();
    let file_error = |reason: String| BenchError::File {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| file_error(e.to_string()))?;
    let mut config: toml::Table = text.parse().map_err(|e| file_error(format!("{e}")))?;
    let api = config
        .entry("api")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(api) = api else {
        return Err(file_error("[api] is not a table".into()));
    };
    api.insert("rate_limit_per_second".into(), toml::Value::Integer(0));
    api.insert("ws_queue".into(), toml::Value::Integer(1 << 16));
    api.insert("ws_max_subscriptions".into(), toml::Value::Integer(1024));
    let text = toml::to_string(&config).map_err(|e| file_error(e.to_string()))?;
    std::fs::write(&path, text).map_err(|e| file_error(e.to_string()))
}

/// The validators' pids.
fn validator_pids(layout: &Layout) -> Vec<(String, i32)> {
    layout
        .nodes
        .iter()
        .filter(|n| n.role == Role::Validator)
        .filter_map(|n| Some((n.name.clone(), process::read_pid_file(&n.pid_file())?.pid)))
        .collect()
}

/// The validators' data directories' allocated bytes.
fn validators_disk(layout: &Layout) -> u64 {
    layout
        .nodes
        .iter()
        .filter(|n| n.role == Role::Validator)
        .map(|n| disk_bytes(&n.dir.join("data")))
        .sum()
}

/// Runs the benchmark, printing progress with `progress`.
pub async fn run(
    options: &BenchOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<BenchReport, BenchError> {
    if options.runs == 0
        || options.saturation_concurrency == 0
        || options.latency_concurrency == 0
        || options.rate.is_nan()
        || options.rate <= 0.0
    {
        return Err(BenchError::Options(
            "runs, concurrency and rate must be positive".into(),
        ));
    }
    progress("measuring the verification bound (one core)…");
    let time = options.verify_time;
    let bound = tokio::task::spawn_blocking(move || measure_verification(time))
        .await
        .map_err(|e| BenchError::Measure(e.to_string()))??;
    progress(&format!(
        "verification: {:.0}/s one by one, {:.0}/s batched ({}) per core; bound for {} validators on {} core(s): {:.0} bets/s batched",
        bound.single_per_core,
        bound.batched_per_core,
        bound.batch,
        bound.validators,
        bound.cores,
        bound.batched_bets_per_sec()
    ));
    let mut runs = Vec::new();
    for i in 0..options.runs {
        progress(&format!("run {} of {}", i + 1, options.runs));
        runs.push(run_once(options, i, progress).await?);
    }
    let headline: Vec<f64> = runs
        .iter()
        .map(|r| r.saturation.finalized_per_sec)
        .collect();
    let min = headline.iter().copied().fold(f64::INFINITY, f64::min);
    let max = headline.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = headline.iter().sum::<f64>() / headline.len() as f64;
    let spread = if mean > 0.0 { (max - min) / mean } else { 0.0 };
    Ok(BenchReport {
        build: if cfg!(debug_assertions) {
            "debug".into()
        } else {
            "release".into()
        },
        batch: options.batch,
        bound,
        runs,
        headline: (min, mean, max),
        spread,
    })
}

/// One fresh testnet: start, measure, stop (always).
async fn run_once(
    options: &BenchOptions,
    index: u32,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<RunFigures, BenchError> {
    let dir = options.dir.join(format!("run-{index}"));
    std::fs::create_dir_all(&options.dir).map_err(|e| BenchError::File {
        path: options.dir.clone(),
        reason: e.to_string(),
    })?;
    let manifest = Manifest {
        validators: VALIDATORS,
        players: 0,
        base_port: options.base_port,
        ..Manifest::default()
    };
    let manifest_file = options.dir.join("bench-manifest.toml");
    std::fs::write(&manifest_file, manifest.to_toml()).map_err(|e| BenchError::File {
        path: manifest_file.clone(),
        reason: e.to_string(),
    })?;
    let (layout, _) = net::prepare(&PrepareOptions {
        dir,
        manifest: Some(manifest_file),
        fresh: true,
        binary: options.binary.clone(),
    })?;
    for node in layout.nodes.iter().filter(|n| n.has_api()) {
        raise_api_limits(node)?;
    }
    let load_start = load_average();
    progress(&format!(
        "starting {} processes in {}…",
        layout.nodes.len(),
        layout.dir.display()
    ));
    let result = async {
        let mut children = net::start_all(&layout, options.ready_timeout).await?;
        net::wait_ready(&layout, options.ready_timeout, &mut children).await?;
        measure(&layout, options, progress).await
    }
    .await;
    progress("stopping the testnet");
    for (name, stopped) in net::stop_all(&layout, GRACE) {
        if let Err(error) = stopped {
            progress(&format!("{name}: {error}"));
        }
    }
    let mut figures = result?;
    figures.load_average.0 = load_start;
    Ok(figures)
}

/// The measurements on a ready testnet.
async fn measure(
    layout: &Layout,
    options: &BenchOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<RunFigures, BenchError> {
    let pids = validator_pids(layout);
    if pids.len() != VALIDATORS as usize {
        return Err(BenchError::Measure(format!(
            "found {} validator processes, expected {VALIDATORS}",
            pids.len()
        )));
    }
    let status = ApiClient::new(&layout.api_nodes().next().expect("validators").http_url())
        .expect("a loopback URL is valid");
    let height = async || -> Result<u64, BenchError> {
        let reply = status.status().await.map_err(LoadError::from)?;
        Ok(reply.node.height.unwrap_or(0))
    };

    // Idle.
    progress(&format!("idle: {:?} without load", options.idle));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before: Vec<Option<u64>> = pids.iter().map(|(_, pid)| process_ticks(*pid)).collect();
    let (h0, t0) = (height().await?, Instant::now());
    tokio::time::sleep(options.idle).await;
    let secs = t0.elapsed().as_secs_f64();
    let h1 = height().await?;
    let idle_cpu: Vec<f64> = pids
        .iter()
        .zip(&before)
        .map(|((_, pid), before)| match (before, process_ticks(*pid)) {
            (Some(a), Some(b)) => 100.0 * b.saturating_sub(*a) as f64 / TICKS_PER_SEC / secs,
            _ => f64::NAN,
        })
        .collect();
    let idle_blocks_per_sec = h1.saturating_sub(h0) as f64 / secs;
    progress(&format!(
        "idle: {} % of a core per validator, {idle_blocks_per_sec:.1} blocks/s",
        idle_cpu
            .iter()
            .map(|c| format!("{c:.1}"))
            .collect::<Vec<_>>()
            .join(" / ")
    ));

    // Saturation.
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampler = tokio::spawn(sample_cpu(
        pids.iter().map(|(_, pid)| *pid).collect(),
        status.clone(),
        samples.clone(),
    ));
    let print = |line: &str| progress(&format!("  {line}"));
    let disk_before = validators_disk(layout);
    let saturation = load::run_batched(
        layout,
        &LoadOptions {
            rate: f64::INFINITY,
            duration: options.saturation,
            wallets: options.saturation_wallets,
            stake: 10,
            drain: options.drain,
            concurrency: options.saturation_concurrency,
        },
        &print,
        options.batch,
    )
    .await;
    let saturation = match saturation {
        Ok(report) => report,
        Err(error) => {
            sampler.abort();
            return Err(error.into());
        }
    };
    let (from, to) = window_of(&saturation);
    let saturation_cpu = cpu_between(&samples, from, to);
    progress(&format!("saturation:\n{saturation}"));
    let disk_growth = validators_disk(layout) as i64 - disk_before as i64;
    let disk_per_million = (saturation.finalized > 0)
        .then(|| disk_growth as f64 / f64::from(VALIDATORS) / saturation.finalized as f64 * 1e6);

    // Fixed rate.
    let fixed = load::run_batched(
        layout,
        &LoadOptions {
            rate: options.rate,
            duration: options.latency,
            wallets: options.latency_wallets,
            stake: 10,
            drain: options.drain,
            concurrency: options.latency_concurrency,
        },
        &print,
        options.batch,
    )
    .await;
    sampler.abort();
    let fixed = fixed?;
    let (from, to) = window_of(&fixed);
    let fixed_rate_cpu = cpu_between(&samples, from, to);
    progress(&format!("fixed rate:\n{fixed}"));

    let websocket_drops = status
        .metrics()
        .await
        .map(|text| {
            text.lines()
                .filter(|l| l.starts_with("bitcraps_api_websocket_dropped_total"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let validators = pids
        .iter()
        .zip(idle_cpu)
        .map(|((name, pid), idle_cpu_percent)| ValidatorFigures {
            name: name.clone(),
            idle_cpu_percent,
            peak_rss_bytes: peak_rss(*pid).unwrap_or(0),
        })
        .collect();
    Ok(RunFigures {
        idle_blocks_per_sec,
        validators,
        saturation: LoadFigures::from(&saturation),
        fixed_rate: LoadFigures::from(&fixed),
        saturation_cpu,
        fixed_rate_cpu,
        websocket_drops,
        disk_growth_bytes: disk_growth,
        disk_bytes_per_million_bets: disk_per_million,
        load_average: (f64::NAN, load_average()),
    })
}

/// A phase's CPU row: each validator, the load generator, the block rate.
fn phase_cpu(cpu: &PhaseCpu) -> String {
    format!(
        "validators {}, load generator {:.0}; {}",
        cpu.validators_percent
            .iter()
            .map(|c| format!("{c:.0}"))
            .collect::<Vec<_>>()
            .join(" / "),
        cpu.generator_percent,
        cpu.blocks_per_sec
            .map_or_else(|| "blocks/s unknown".into(), |b| format!("{b:.1} blocks/s")),
    )
}

fn mib(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

fn latency(l: &Option<Latency>) -> String {
    match l {
        Some(l) => format!("{:.0} / {:.0} / {:.0}", l.p50_ms, l.p90_ms, l.p99_ms),
        None => "-".into(),
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.bound;
        writeln!(
            f,
            "bitcraps bench: {} validators on {} core(s), {} build, {} run(s), up to {} bet(s) per request",
            b.validators,
            b.cores,
            self.build,
            self.runs.len(),
            self.batch
        )?;
        writeln!(f)?;
        let row = |f: &mut fmt::Formatter<'_>, what: &str, value: String| {
            writeln!(f, "{what:<46} {value}")
        };
        row(
            f,
            "ed25519 verify, one core (one by one / batched)",
            format!(
                "{:.0} / {:.0} per s (batches of {})",
                b.single_per_core, b.batched_per_core, b.batch
            ),
        )?;
        row(
            f,
            "bound: bets/s the validators could check",
            format!(
                "{:.0} one by one, {:.0} batched (cores × rate / {})",
                b.bets_per_sec(),
                b.batched_bets_per_sec(),
                b.validators
            ),
        )?;
        for (i, run) in self.runs.iter().enumerate() {
            writeln!(f)?;
            writeln!(
                f,
                "run {} (load average {:.1} at start, {:.1} at end)",
                i + 1,
                run.load_average.0,
                run.load_average.1
            )?;
            let s = &run.saturation;
            row(
                f,
                "saturated: finalized bets/s (of the bound)",
                format!(
                    "{:.0} ({:.1}% of batched bound); applied {:.0}/s; submitted {:.0}/s, refused {}",
                    s.finalized_per_sec,
                    100.0 * s.finalized_per_sec / b.batched_bets_per_sec().max(1e-9),
                    s.applied_per_sec,
                    s.submitted_per_sec,
                    s.refused
                ),
            )?;
            row(
                f,
                "saturated: finality p50 / p90 / p99 ms",
                latency(&s.finality),
            )?;
            if let Some(cpu) = &run.saturation_cpu {
                row(f, "saturated: CPU, % of a core", phase_cpu(cpu))?;
            }
            let x = &run.fixed_rate;
            let offered = x.offered_per_sec.unwrap_or(f64::INFINITY);
            if let Some(cpu) = &run.fixed_rate_cpu {
                row(
                    f,
                    &format!("at {offered:.0} bets/s: CPU, % of a core"),
                    phase_cpu(cpu),
                )?;
            }
            row(
                f,
                &format!("at {offered:.0} bets/s: finality p50 / p90 / p99 ms"),
                format!(
                    "{} (n = {}; submitted {:.0}/s, finalized {:.0}/s)",
                    latency(&x.finality),
                    x.finality.map_or(0, |l| l.count),
                    x.submitted_per_sec,
                    x.finalized_per_sec
                ),
            )?;
            row(
                f,
                &format!("at {offered:.0} bets/s: settlement p50 / p90 / p99 ms"),
                format!(
                    "{} (n = {})",
                    latency(&x.settlement),
                    x.settlement.map_or(0, |l| l.count)
                ),
            )?;
            row(
                f,
                "idle: CPU per validator (% of a core)",
                format!(
                    "{} ({:.1} blocks/s)",
                    run.validators
                        .iter()
                        .map(|v| format!("{:.1}", v.idle_cpu_percent))
                        .collect::<Vec<_>>()
                        .join(" / "),
                    run.idle_blocks_per_sec
                ),
            )?;
            row(
                f,
                "peak RSS per validator (MiB)",
                run.validators
                    .iter()
                    .map(|v| format!("{:.0}", mib(v.peak_rss_bytes as f64)))
                    .collect::<Vec<_>>()
                    .join(" / "),
            )?;
            row(
                f,
                "disk growth per validator per 10⁶ bets",
                match run.disk_bytes_per_million_bets {
                    Some(bytes) => format!(
                        "{:.0} MiB (from {:.1} MiB over {} bets, all validators)",
                        mib(bytes),
                        mib(run.disk_growth_bytes as f64),
                        s.finalized
                    ),
                    None => "-".into(),
                },
            )?;
            if s.observer_drops + x.observer_drops > 0 {
                row(
                    f,
                    "observer WebSocket drops (counts are lower bounds)",
                    format!(
                        "{} ({})",
                        s.observer_drops + x.observer_drops,
                        run.websocket_drops.join(", ")
                    ),
                )?;
            }
        }
        writeln!(f)?;
        let (min, mean, max) = self.headline;
        write!(
            f,
            "{:<46} min {min:.0}, mean {mean:.0}, max {max:.0}: spread {:.1}%",
            "saturated finalized bets/s over the runs",
            100.0 * self.spread
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_skip_a_name_with_spaces() {
        let stat =
            "1234 (bit craps) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 555 0 0";
        assert_eq!(cpu_ticks(stat), Some(300));
        assert_eq!(cpu_ticks("garbage"), None);
    }

    #[test]
    fn the_bound_divides_the_cores_among_the_validators() {
        let bound = VerificationBound {
            cores: 2,
            single_per_core: 20_000.0,
            batched_per_core: 50_000.0,
            batch: 64,
            validators: 4,
        };
        assert_eq!(bound.bets_per_sec(), 10_000.0);
        assert_eq!(bound.batched_bets_per_sec(), 25_000.0);
    }

    #[test]
    fn a_phase_has_its_cpu_and_its_block_rate() {
        let t0 = tokio::time::Instant::now();
        let sample = |secs: u64, ticks: u64, height: Option<u64>| CpuSample {
            at: t0 + Duration::from_secs(secs),
            validators: vec![ticks, 2 * ticks],
            generator: ticks,
            height,
        };
        let samples = Mutex::new(vec![
            sample(0, 0, Some(10)),
            sample(1, 50, Some(15)),
            sample(2, 100, Some(20)),
            sample(3, 150, None),
        ]);
        let cpu = cpu_between(&samples, t0, t0 + Duration::from_secs(2)).unwrap();
        let percent = 100.0 * 100.0 / TICKS_PER_SEC / 2.0;
        assert_eq!(cpu.validators_percent, vec![percent, 2.0 * percent]);
        assert_eq!(cpu.blocks_per_sec, Some(5.0));
        assert!(phase_cpu(&cpu).ends_with("; 5.0 blocks/s"));
        // The status did not answer at the window's end: no rate.
        let cpu = cpu_between(&samples, t0, t0 + Duration::from_secs(3)).unwrap();
        assert_eq!(cpu.blocks_per_sec, None);
        assert!(phase_cpu(&cpu).ends_with("blocks/s unknown"));
    }

    #[test]
    fn verification_is_measured() {
        let bound = measure_verification(Duration::from_millis(200)).unwrap();
        assert!(bound.single_per_core > 0.0 && bound.batched_per_core > 0.0);
    }
}
