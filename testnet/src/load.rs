//! # `testnet load`: bets from many wallets at a steady rate
//!
//! Signs every transaction locally (`wallet` keys, `consensus::tx`) and
//! submits it raw on the player nodes (round robin; the validators if
//! there are none), like any outside client would: in batches of up to
//! [`DEFAULT_BATCH`] through `POST /v1/txs/batch` over the
//! client's keep-alive connections, or one per `POST /v1/txs` request with
//! a batch of 1 ([`run_batched`]).
//!
//! 1. **Setup** (not measured): `wallets` new keys each mint chips from the
//!    faucet (the faucet pays its caller, so the load needs no funded
//!    account), the first wallet opens enough craps tables for everyone,
//!    and each wallet takes a seat. Each step waits until its transactions
//!    are applied.
//! 2. **Load**: for `duration`, `concurrency` submitters, each with its own
//!    share of the wallets (so each wallet's nonces arrive in order), sign
//!    one-roll **field** bets with the wallet's next nonce and submit them
//!    round robin to the nodes: together at `rate` bets per second on a
//!    fixed schedule, or, with an infinite rate, each as fast as the nodes
//!    answer (**saturation**). A saturating submitter keeps at most
//!    [`IN_FLIGHT_PER_WALLET`] bets per wallet submitted but not finalized
//!    and sends as many as it may, up to a batch, per request (its wallets
//!    in turn, consecutive nonces); at a fixed
//!    rate a request carries the bets that are due, so one batches only
//!    when the node answers more slowly than the schedule. A bet the node
//!    refuses (mempool full, rate limit) is counted `refused` and its
//!    nonce reused; a saturating submitter with a refused bet in its
//!    request then backs off for [`REFUSED_BACKOFF`].
//! 3. **Observation** over the first node's WebSocket: the wallets'
//!    `receipts:{address}` topics deliver each transaction's receipt when
//!    its block is final and applied — **finalized** (latency from
//!    submission), **applied** (the bet's id) or **rejected**; the tables'
//!    `craps:{id}` topics say when each bet was **settled** by a roll.
//!    Topics are spread over several connections of at most
//!    [`TOPICS_PER_SUBSCRIPTION`] topics (below the API's default limit),
//!    and each connection is drained into a local queue at once, so a slow
//!    report loop never makes the node drop it.
//! 4. After the load, it waits up to `drain` for the rest to finalize and
//!    settle, then reports counts, latency percentiles and the **sustained
//!    rate**: bets finalized (and applied) per second between the end of
//!    the warm-up (the first quarter of the load) and the end of the load.
//!
//! [`run_tapped`] runs the same load with a [`Tap`]: every receipt the
//! observer acknowledges is passed on as it arrives, and the load can be
//! ended early (`testnet chaos` does both).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use consensus::hash::TxHash;
use consensus::receipt::{LedgerEvent, Receipt, TxStatus};
use consensus::tx::{Action, SignedTransaction, TableGame, TableId, TableName, Transaction};
use game_rules::Chips;
use game_rules::craps::{BetKind, OddsLimit};
use node::api::{ApiEvent, Topic};
use node::client::{ApiClient, ClientError, SubscriptionUpdate, TxState};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use wallet::{ChainId, Keypair};

use crate::layout::{Layout, Role};

/// How many blocks a transaction stays valid for.
const EXPIRY_BLOCKS: u64 = 10_000;

/// How long a setup step may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(120);

/// The most topics one WebSocket connection of the observer subscribes to
/// (the API's default `ws_max_subscriptions` is 32).
pub const TOPICS_PER_SUBSCRIPTION: usize = 30;

/// How long a saturating submitter waits after a refusal.
pub const REFUSED_BACKOFF: Duration = Duration::from_millis(10);

/// The most bets one submission request carries by default: as many as a
/// wallet may have pooled in a mempool (64), so a saturating submitter's
/// batch spreads over its wallets.
pub const DEFAULT_BATCH: usize = 64;

/// The most bets of one wallet a saturating load keeps submitted but not
/// yet finalized. Without a bound, saturation fills every wallet's share
/// of the mempools (64) and then measures a queue — seconds of latency and
/// refusals by the hundred thousand — instead of the chain.
pub const IN_FLIGHT_PER_WALLET: usize = 16;

/// How long a bet holds its place in a saturating submitter's window
/// without a receipt. A receipt the observer missed (its connection was
/// dropped) would otherwise hold the place for good, and a few drops would
/// shrink the window until the load stalls.
pub const IN_FLIGHT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the observer's connections may take to come up.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the load could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// No node to submit to.
    #[error("no node answered at {0}; is the testnet up? (`bitcraps testnet status`)")]
    NoNode(String),
    /// The chain has no faucet.
    #[error(
        "the chain has no faucet, which the load uses to fund its wallets; set [chain] faucet_max_per_request in the manifest"
    )]
    NoFaucet,
    /// A setup transaction failed.
    #[error("setup failed: {0}")]
    Setup(String),
    /// An API call failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The options cannot work.
    #[error("invalid load options: {0}")]
    Options(String),
}

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Bets per second, over all wallets; `f64::INFINITY` submits as fast
    /// as the nodes accept (saturation).
    pub rate: f64,
    /// How long to send.
    pub duration: Duration,
    /// How many wallets bet.
    pub wallets: u32,
    /// Each bet's stake.
    pub stake: u64,
    /// How long to wait after the load for finality and settlement.
    pub drain: Duration,
    /// Submitters at work at once (at least 1, at most one per wallet).
    pub concurrency: usize,
}

/// Latency percentiles, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentiles {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// The percentiles of `samples` (ms), `None` if there are none.
    pub fn of(samples: &[f64]) -> Option<Percentiles> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let rank = (q * sorted.len() as f64).ceil() as usize;
            sorted[rank.clamp(1, sorted.len()) - 1]
        };
        Some(Percentiles {
            count: sorted.len(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: sorted[sorted.len() - 1],
        })
    }
}

impl fmt::Display for Percentiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {:.0} ms  p90 {:.0} ms  p99 {:.0} ms  max {:.0} ms  (n = {})",
            self.p50, self.p90, self.p99, self.max, self.count
        )
    }
}

/// What the load did.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadReport {
    /// Bets accepted by a node's API.
    pub submitted: u64,
    /// Bets the API refused (mempool full, rate limit…).
    pub refused: u64,
    /// Submitted bets found in a finalized block.
    pub finalized: u64,
    /// Finalized and applied (a bet placed).
    pub applied: u64,
    /// Finalized but refused by the ledger (paid the fee only).
    pub rejected: u64,
    /// Placed bets settled by a roll.
    pub settled: u64,
    /// Submission to finality.
    pub finality: Option<Percentiles>,
    /// Submission to settlement.
    pub settlement: Option<Percentiles>,
    /// How long the load ran.
    pub elapsed: Duration,
    /// Why some bets were rejected, with counts.
    pub reject_reasons: BTreeMap<String, u64>,
    /// The offered rate (bets/s; infinite for saturation).
    pub offered_rate: f64,
    /// How long the load ran (without the drain).
    pub load_duration: Duration,
    /// The measurement window of the sustained rate: from the end of the
    /// warm-up (a quarter of the load) to the end of the load.
    pub window: Duration,
    /// Bets finalized within the window.
    pub finalized_in_window: u64,
    /// Bets finalized and applied within the window.
    pub applied_in_window: u64,
    /// Times an observer connection was lost (receipts and settlements
    /// sent meanwhile were missed; the counts are then lower bounds).
    pub observer_drops: u64,
}

impl LoadReport {
    /// Bets finalized per second over the window.
    pub fn finalized_per_sec(&self) -> f64 {
        self.finalized_in_window as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// Bets finalized and applied per second over the window.
    pub fn applied_per_sec(&self) -> f64 {
        self.applied_in_window as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// Bets submitted per second over the load.
    pub fn submitted_per_sec(&self) -> f64 {
        self.submitted as f64 / self.load_duration.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "submitted {}  refused {}  finalized {}  applied {}  rejected {}  settled {}  ({:.1} bets/s submitted)",
            self.submitted,
            self.refused,
            self.finalized,
            self.applied,
            self.rejected,
            self.settled,
            self.submitted as f64 / secs
        )?;
        writeln!(
            f,
            "sustained: {:.1} bets/s finalized, {:.1} applied (over the last {:.1} s of the load)",
            self.finalized_per_sec(),
            self.applied_per_sec(),
            self.window.as_secs_f64()
        )?;
        if self.observer_drops > 0 {
            writeln!(
                f,
                "the observer lost its connection {} time(s): counts are lower bounds",
                self.observer_drops
            )?;
        }
        match &self.finality {
            Some(p) => writeln!(f, "finality latency:   {p}")?,
            None => writeln!(f, "finality latency:   no bet finalized")?,
        }
        match &self.settlement {
            Some(p) => write!(f, "settlement latency: {p}")?,
            None => write!(f, "settlement latency: no bet settled")?,
        }
        for (reason, count) in &self.reject_reasons {
            write!(f, "\n  rejected {count}×: {reason}")?;
        }
        Ok(())
    }
}

/// A bet the load saw finalized: the observer node sent its receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acknowledged {
    /// The including block's height.
    pub height: u64,
    /// The receipt, as the observer node sent it.
    pub receipt: Receipt,
}

/// Hooks into a running load (see [`run_tapped`]).
#[derive(Debug)]
pub struct Tap {
    /// Receives each bet's receipt once, when the observer first sees it.
    pub acknowledged: mpsc::UnboundedSender<Acknowledged>,
    /// Ends the load early when it turns `true`: submitting stops at once,
    /// then the drain runs as usual.
    pub stop: watch::Receiver<bool>,
}

/// One load wallet.
struct Bettor {
    keypair: Keypair,
    nonce: u64,
    table: TableId,
}

/// A submitted bet being followed.
struct Pending {
    submitted: Instant,
    /// Which submitter sent it (whose window it occupies).
    submitter: usize,
    /// Whether it still holds its place in that window.
    holds_place: bool,
    finalized: Option<Instant>,
}

/// What a submitter tells the report loop.
enum Sent {
    /// The node accepted the bet (from the `submitter`-th submitter).
    Submitted {
        hash: TxHash,
        at: Instant,
        submitter: usize,
    },
    /// The node refused it.
    Refused,
}

/// The schedule all submitters share.
#[derive(Clone, Copy)]
struct Plan {
    chain_id: ChainId,
    fee: u64,
    stake: u64,
    height: u64,
    rate: f64,
    start: Instant,
    end: Instant,
    submitters: usize,
    /// The most bets per request; 1 uses `POST /v1/txs`.
    batch: usize,
}

/// Runs the load against `layout` (see the module documentation),
/// printing progress with `progress`.
pub async fn run(
    layout: &Layout,
    options: &LoadOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<LoadReport, LoadError> {
    run_tapped(layout, options, progress, None).await
}

/// [`run`] with at most `batch` bets per request (1: one `POST /v1/txs`
/// per bet, as clients without batching do).
pub async fn run_batched(
    layout: &Layout,
    options: &LoadOptions,
    progress: &(dyn Fn(&str) + Sync),
    batch: usize,
) -> Result<LoadReport, LoadError> {
    run_with(layout, options, progress, None, batch).await
}

/// [`run`], passing each acknowledged receipt to `tap` and ending the load
/// early when the tap says so.
pub async fn run_tapped(
    layout: &Layout,
    options: &LoadOptions,
    progress: &(dyn Fn(&str) + Sync),
    tap: Option<Tap>,
) -> Result<LoadReport, LoadError> {
    run_with(layout, options, progress, tap, DEFAULT_BATCH).await
}

async fn run_with(
    layout: &Layout,
    options: &LoadOptions,
    progress: &(dyn Fn(&str) + Sync),
    tap: Option<Tap>,
    batch: usize,
) -> Result<LoadReport, LoadError> {
    if !(1..=node::api::MAX_BATCH_TRANSACTIONS).contains(&batch) {
        return Err(LoadError::Options(format!(
            "a batch of {batch}: use 1 to {}",
            node::api::MAX_BATCH_TRANSACTIONS
        )));
    }
    let (acknowledged, mut stop) = match tap {
        Some(tap) => (Some(tap.acknowledged), Some(tap.stop)),
        None => (None, None),
    };
    if options.rate.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
        || options.wallets == 0
        || options.stake == 0
        || options.concurrency == 0
    {
        return Err(LoadError::Options(
            "the rate, the wallets, the stake and the concurrency must be positive".into(),
        ));
    }
    let mut targets: Vec<_> = layout
        .nodes
        .iter()
        .filter(|n| n.role == Role::Player)
        .collect();
    if targets.is_empty() {
        targets = layout.api_nodes().collect();
    }
    let clients: Vec<ApiClient> = targets
        .iter()
        .map(|n| ApiClient::new(&n.http_url()).expect("a loopback URL is valid"))
        .collect();
    let status = clients[0]
        .status()
        .await
        .map_err(|_| LoadError::NoNode(targets[0].http_url()))?;
    let chain_id = status.node.chain_id;
    let genesis = crate::net::read_genesis(layout).map_err(|e| LoadError::Setup(e.to_string()))?;
    let params = genesis.params;
    let faucet = params.faucet.ok_or(LoadError::NoFaucet)?;
    let fee = params.min_fee.0;
    let seats = u32::from(params.max_players_per_table).min(64);

    // 1. Setup.
    let mut bettors = Vec::new();
    for _ in 0..options.wallets {
        bettors.push(Bettor {
            keypair: Keypair::generate().map_err(|e| LoadError::Setup(e.to_string()))?,
            nonce: 0,
            table: TableId(0),
        });
    }
    let mut setup = Setup {
        client: &clients[0],
        chain_id,
    };
    let height = status.node.height.unwrap_or(0);
    let mint = faucet.max_per_request.0;
    progress(&format!(
        "setup: {} wallets mint {mint} chips each from the faucet",
        bettors.len()
    ));
    let mints: Vec<SignedTransaction> = bettors
        .iter_mut()
        .map(|b| {
            sign(
                b,
                chain_id,
                0,
                height,
                Action::Faucet {
                    amount: Chips(mint),
                },
            )
        })
        .collect();
    setup.all_applied(&mints).await?;

    let table_count = options.wallets.div_ceil(seats);
    progress(&format!("setup: opening {table_count} craps table(s)"));
    let max_bet = options.stake.max(1);
    let creates: Vec<SignedTransaction> = (0..table_count)
        .map(|i| {
            let action = Action::CreateTable {
                name: TableName::new(format!("load-{i}")).expect("a short name"),
                max_players: seats as u16,
                game: TableGame::Craps {
                    min_bet: Chips(1),
                    max_bet: Chips(max_bet),
                    odds: OddsLimit::ThreeFourFive,
                },
            };
            sign(&mut bettors[0], chain_id, fee, height, action)
        })
        .collect();
    let receipts = setup.all_applied(&creates).await?;
    let tables: Vec<TableId> = receipts
        .iter()
        .flat_map(|events| events.iter())
        .filter_map(|event| match event {
            LedgerEvent::TableCreated { table, .. } => Some(*table),
            _ => None,
        })
        .collect();
    if tables.len() != table_count as usize {
        return Err(LoadError::Setup(format!(
            "opened {} of {table_count} tables",
            tables.len()
        )));
    }
    progress("setup: every wallet takes a seat");
    let joins: Vec<SignedTransaction> = bettors
        .iter_mut()
        .enumerate()
        .map(|(i, b)| {
            b.table = tables[i / seats as usize];
            let table = b.table;
            sign(b, chain_id, fee, height, Action::JoinTable { table })
        })
        .collect();
    setup.all_applied(&joins).await?;

    // 2 and 3. Observation, then the load.
    let mut topics = vec![Topic::Blocks];
    topics.extend(tables.iter().map(|t| Topic::Craps(*t)));
    topics.extend(bettors.iter().map(|b| Topic::Receipts(b.keypair.address())));
    let (mut updates, _observers) = observe(&clients[0], &topics).await?;
    progress(&format!(
        "load: {} field bets of {} chips from {} wallets by {} submitter(s) for {:?}, {}",
        if options.rate.is_finite() {
            format!("{:.1}/s", options.rate)
        } else {
            "as many as the nodes take".into()
        },
        options.stake,
        bettors.len(),
        options.concurrency.min(bettors.len()),
        options.duration,
        if batch == 1 {
            "one per request".to_owned()
        } else {
            format!("up to {batch} per request")
        }
    ));

    let mut report = LoadReport {
        submitted: 0,
        refused: 0,
        finalized: 0,
        applied: 0,
        rejected: 0,
        settled: 0,
        finality: None,
        settlement: None,
        elapsed: Duration::ZERO,
        reject_reasons: BTreeMap::new(),
        offered_rate: options.rate,
        load_duration: options.duration,
        window: options.duration - options.duration / 4,
        finalized_in_window: 0,
        applied_in_window: 0,
        observer_drops: 0,
    };
    let start = Instant::now();
    let mut load_end = start + options.duration;
    let window_start = start + options.duration / 4;
    let submitters = options.concurrency.min(bettors.len());
    let plan = Plan {
        chain_id,
        fee,
        stake: options.stake,
        height,
        rate: options.rate,
        start,
        end: load_end,
        submitters,
        batch,
    };
    let (sent_tx, mut sent) = mpsc::unbounded_channel();
    let mut shares: Vec<Vec<Bettor>> = (0..submitters).map(|_| Vec::new()).collect();
    for (i, bettor) in bettors.into_iter().enumerate() {
        shares[i % submitters].push(bettor);
    }
    // Each submitter's bound on bets in flight (see `IN_FLIGHT_PER_WALLET`);
    // only a saturating load waits on it.
    let windows: Vec<Option<Arc<Semaphore>>> = shares
        .iter()
        .map(|share| {
            (!options.rate.is_finite())
                .then(|| Arc::new(Semaphore::new(share.len() * IN_FLIGHT_PER_WALLET)))
        })
        .collect();
    let mut workers = JoinSet::new();
    for (k, share) in shares.into_iter().enumerate() {
        workers.spawn(submitter(
            k,
            share,
            clients.clone(),
            plan,
            sent_tx.clone(),
            windows[k].clone(),
        ));
    }
    drop(sent_tx);

    let mut pending: BTreeMap<TxHash, Pending> = BTreeMap::new();
    // The bets holding a place in a window, oldest first (a receipt gives a
    // place back at once; this queue only serves the timeout).
    let mut places: VecDeque<(Instant, TxHash)> = VecDeque::new();
    let mut expiry = tokio::time::interval(Duration::from_millis(500));
    let mut bets: BTreeMap<(TableId, u64), Instant> = BTreeMap::new();
    let mut settled: BTreeSet<(TableId, u64)> = BTreeSet::new();
    let mut early: BTreeMap<(TableId, u64), Instant> = BTreeMap::new();
    let mut finality = Vec::new();
    let mut settlement = Vec::new();
    let mut sending = true;
    let mut drain_end: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if now >= load_end && drain_end.is_none() {
            drain_end = Some(now + options.drain);
            progress("load done; waiting for the rest to finalize and settle");
        }
        if let Some(end) = drain_end {
            let open_bets = bets.len() > settled.len();
            let unfinalized = pending.values().any(|p| p.finalized.is_none());
            if now >= end || (!sending && !open_bets && !unfinalized) {
                break;
            }
        }
        let wake = match drain_end {
            None => load_end,
            Some(_) => now + Duration::from_millis(200),
        };
        let in_window = |at: Instant| at >= window_start && at <= load_end;
        tokio::select! {
            biased;
            () = stop_requested(&mut stop), if drain_end.is_none() => {
                load_end = Instant::now();
                workers.abort_all();
                report.load_duration = load_end - start;
                report.window = load_end.saturating_duration_since(window_start);
                continue;
            }
            message = sent.recv(), if sending => match message {
                Some(Sent::Submitted { hash, at, submitter }) => {
                    report.submitted += 1;
                    pending.insert(hash, Pending { submitted: at, submitter, holds_place: true, finalized: None });
                    places.push_back((at, hash));
                }
                Some(Sent::Refused) => report.refused += 1,
                None => sending = false,
            },
            update = updates.recv() => {
                let Some(update) = update else { break };
                let event = match update {
                    SubscriptionUpdate::Event(event) => event,
                    SubscriptionUpdate::Disconnected { .. } => {
                        report.observer_drops += 1;
                        continue;
                    }
                    _ => continue,
                };
                let seen = Instant::now();
                match *event {
                    ApiEvent::Receipt { height, receipt, .. } => {
                        let Some(entry) = pending.get_mut(&receipt.tx) else { continue };
                        if entry.finalized.is_some() {
                            continue;
                        }
                        entry.finalized = Some(seen);
                        if std::mem::take(&mut entry.holds_place) {
                            give_back(&windows[entry.submitter]);
                        }
                        if let Some(acknowledged) = &acknowledged {
                            let _ = acknowledged.send(Acknowledged { height, receipt: receipt.clone() });
                        }
                        let submitted = entry.submitted;
                        report.finalized += 1;
                        finality.push(ms(seen - submitted));
                        if in_window(seen) {
                            report.finalized_in_window += 1;
                        }
                        match receipt.status {
                            TxStatus::Applied => {
                                report.applied += 1;
                                if in_window(seen) {
                                    report.applied_in_window += 1;
                                }
                                for event in receipt.events.iter() {
                                    if let LedgerEvent::BetPlaced { table, bet, .. } = event {
                                        let key = (*table, *bet);
                                        bets.insert(key, submitted);
                                        if let Some(at) = early.remove(&key)
                                            && settled.insert(key)
                                        {
                                            report.settled += 1;
                                            settlement.push(ms(at - submitted));
                                        }
                                    }
                                }
                            }
                            TxStatus::Rejected { reason } => {
                                report.rejected += 1;
                                *report.reject_reasons.entry(format!("{reason:?}")).or_default() += 1;
                            }
                        }
                    }
                    ApiEvent::Table { table, event: LedgerEvent::BetSettled { bet, .. }, .. } => {
                        // A settlement seen before its bet's receipt waits in
                        // `early`.
                        match bets.get(&(table, bet)) {
                            Some(submitted) => {
                                if settled.insert((table, bet)) {
                                    report.settled += 1;
                                    settlement.push(ms(seen - *submitted));
                                }
                            }
                            None => {
                                early.insert((table, bet), seen);
                            }
                        }
                    }
                    _ => {}
                }
            }
            _ = expiry.tick() => {
                // Places held longer than the timeout are given back.
                while let Some(&(at, hash)) = places.front() {
                    if now.saturating_duration_since(at) < IN_FLIGHT_TIMEOUT {
                        break;
                    }
                    places.pop_front();
                    if let Some(entry) = pending.get_mut(&hash)
                        && std::mem::take(&mut entry.holds_place)
                    {
                        give_back(&windows[entry.submitter]);
                    }
                }
            }
            _ = tokio::time::sleep_until(wake) => {}
        }
    }
    workers.abort_all();
    report.elapsed = start.elapsed();
    report.finality = Percentiles::of(&finality);
    report.settlement = Percentiles::of(&settlement);
    Ok(report)
}

/// Resolves once `stop` turns `true`; never without a tap (or once its
/// sender is gone).
async fn stop_requested(stop: &mut Option<watch::Receiver<bool>>) {
    match stop {
        Some(stop) => {
            if stop.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}

/// One submitter: signs and submits bets from its `bettors` (round robin)
/// on its share of the plan's schedule (the `k`-th of every
/// `plan.submitters` slots, with every slot already due in one request),
/// or back to back at an infinite rate with as many bets per request as
/// its `window` of bets in flight admits (up to a batch; the report loop
/// returns a permit for each bet finalized), until the plan's end.
async fn submitter(
    k: usize,
    mut bettors: Vec<Bettor>,
    clients: Vec<ApiClient>,
    plan: Plan,
    sent: mpsc::UnboundedSender<Sent>,
    window: Option<Arc<Semaphore>>,
) {
    if bettors.is_empty() || clients.is_empty() {
        return;
    }
    let due = |slot: u64| {
        let index = slot as f64 * plan.submitters as f64 + k as f64;
        plan.start + Duration::from_secs_f64(index / plan.rate)
    };
    let mut slot: u64 = 0;
    let mut next = 0usize;
    loop {
        let count = if plan.rate.is_finite() {
            let first = due(slot);
            if first >= plan.end {
                return;
            }
            tokio::time::sleep_until(first).await;
            let now = Instant::now();
            let mut count = 1;
            while count < plan.batch {
                let at = due(slot + count as u64);
                if at > now || at >= plan.end {
                    break;
                }
                count += 1;
            }
            count
        } else if let Some(window) = &window {
            let Ok(Ok(first)) = tokio::time::timeout_at(plan.end, window.acquire()).await else {
                return;
            };
            first.forget();
            let more = window.available_permits().min(plan.batch - 1);
            match window.try_acquire_many(more as u32) {
                Ok(permits) => {
                    permits.forget();
                    1 + more
                }
                Err(_) => 1,
            }
        } else {
            return;
        };
        // Each bet from the next wallet in turn, with its next nonce.
        let mut txs = Vec::with_capacity(count);
        let mut owners = Vec::with_capacity(count);
        for i in 0..count {
            let owner = (next + i) % bettors.len();
            let bettor = &mut bettors[owner];
            let table = bettor.table;
            let action = Action::CrapsBet {
                table,
                kind: BetKind::Field,
                amount: Chips(plan.stake),
            };
            txs.push(sign(bettor, plan.chain_id, plan.fee, plan.height, action));
            owners.push(owner);
        }
        next = (next + count) % bettors.len();
        let client = &clients[(slot as usize).wrapping_add(k) % clients.len()];
        slot += count as u64;
        let at = Instant::now();
        let results: Vec<Result<(), ClientError>> = if plan.batch == 1 {
            vec![client.submit_transaction(&txs[0]).await.map(drop)]
        } else {
            match client.submit_transactions(&txs).await {
                Ok(results) => results.into_iter().map(|r| r.map(drop)).collect(),
                Err(error) => {
                    let message = error.to_string();
                    txs.iter()
                        .map(|_| Err(ClientError::Protocol(message.clone())))
                        .collect()
                }
            }
        };
        let mut accepted = 0;
        for ((tx, owner), result) in txs.iter().zip(&owners).zip(results) {
            let message = match result {
                Ok(()) => {
                    accepted += 1;
                    Sent::Submitted {
                        hash: tx.hash(),
                        at,
                        submitter: k,
                    }
                }
                // Already in the node's mempool (an earlier copy): not new,
                // and already followed under its first submission.
                Err(error) if error.code() == Some("already_known") => {
                    give_back(&window);
                    continue;
                }
                Err(_) => {
                    give_back(&window);
                    // Reuse the first refused nonce of the wallet; its later
                    // bets of this request are signed again after it.
                    let bettor = &mut bettors[*owner];
                    bettor.nonce = bettor.nonce.min(tx.tx.nonce);
                    Sent::Refused
                }
            };
            if sent.send(message).is_err() {
                return;
            }
        }
        // A refusal means the node (or this wallet's share of its mempool)
        // is full: hammering it only buys more refusals.
        if accepted < count && !plan.rate.is_finite() {
            tokio::time::sleep(REFUSED_BACKOFF).await;
        }
    }
}

/// Returns one bet's place in a saturating submitter's window.
fn give_back(window: &Option<Arc<Semaphore>>) {
    if let Some(window) = window {
        window.add_permits(1);
    }
}

/// Subscribes to `topics` on `client`'s WebSocket over as many connections
/// as [`TOPICS_PER_SUBSCRIPTION`] needs, each drained into one queue at
/// once by its own task (the tasks stop when the returned set is dropped).
/// Returns once every connection is up.
async fn observe(
    client: &ApiClient,
    topics: &[Topic],
) -> Result<(mpsc::UnboundedReceiver<SubscriptionUpdate>, JoinSet<()>), LoadError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = JoinSet::new();
    let chunks: Vec<Vec<Topic>> = topics
        .chunks(TOPICS_PER_SUBSCRIPTION)
        .map(<[Topic]>::to_vec)
        .collect();
    let connections = chunks.len();
    for chunk in chunks {
        let mut subscription = client.subscribe(chunk);
        let tx = tx.clone();
        tasks.spawn(async move {
            while let Some(update) = subscription.next().await {
                if tx.send(update).is_err() {
                    return;
                }
            }
        });
    }
    drop(tx);
    let deadline = Instant::now() + SUBSCRIBE_TIMEOUT;
    let mut connected = 0;
    while connected < connections {
        let update = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .map_err(|_| {
                LoadError::Setup(format!(
                    "the node's WebSocket did not accept {connections} subscription(s) within {SUBSCRIBE_TIMEOUT:?}"
                ))
            })?;
        match update {
            Some(SubscriptionUpdate::Connected { .. }) => connected += 1,
            Some(SubscriptionUpdate::Refused { message, .. }) => {
                return Err(LoadError::Setup(format!(
                    "the node refused the subscription: {message}"
                )));
            }
            Some(_) => {}
            None => return Err(LoadError::Setup("the subscription ended".into())),
        }
    }
    Ok((rx, tasks))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn unsigned(
    bettor: &Bettor,
    chain_id: ChainId,
    fee: u64,
    height: u64,
    action: Action,
) -> Transaction {
    Transaction {
        chain_id,
        sender: bettor.keypair.public_key(),
        nonce: bettor.nonce,
        fee: Chips(fee),
        expiry_height: height + EXPIRY_BLOCKS,
        action,
    }
}

/// Signs `action` with the bettor's next nonce and advances it.
fn sign(
    bettor: &mut Bettor,
    chain_id: ChainId,
    fee: u64,
    height: u64,
    action: Action,
) -> SignedTransaction {
    let tx = unsigned(bettor, chain_id, fee, height, action).sign(&bettor.keypair);
    bettor.nonce += 1;
    tx
}

/// Submits setup transactions and waits for them.
struct Setup<'a> {
    client: &'a ApiClient,
    chain_id: ChainId,
}

impl Setup<'_> {
    /// Submits `txs` and waits until each is applied; returns each one's
    /// receipt events. Any rejection fails the setup.
    async fn all_applied(
        &mut self,
        txs: &[SignedTransaction],
    ) -> Result<Vec<Vec<LedgerEvent>>, LoadError> {
        debug_assert!(txs.iter().all(|tx| tx.tx.chain_id == self.chain_id));
        let results = self.client.submit_transactions(txs).await.map_err(|e| {
            LoadError::Setup(format!("the setup transactions were not submitted: {e}"))
        })?;
        for (tx, result) in txs.iter().zip(results) {
            result.map_err(|e| {
                LoadError::Setup(format!(
                    "a {} transaction was refused: {e}",
                    tx.tx.action.name()
                ))
            })?;
        }
        let deadline = Instant::now() + SETUP_TIMEOUT;
        let mut events = Vec::new();
        for tx in txs {
            loop {
                match self.client.transaction(&tx.hash()).await {
                    Ok(reply) if reply.status == TxState::Applied => {
                        events.push(
                            reply
                                .receipt
                                .map(|r| r.events.iter().cloned().collect())
                                .unwrap_or_default(),
                        );
                        break;
                    }
                    Ok(reply) if reply.status == TxState::Rejected => {
                        let reason = reply
                            .receipt
                            .map(|r| format!("{:?}", r.status))
                            .unwrap_or_default();
                        return Err(LoadError::Setup(format!(
                            "a {} transaction was rejected: {reason}",
                            tx.tx.action.name()
                        )));
                    }
                    _ => {}
                }
                if Instant::now() >= deadline {
                    return Err(LoadError::Setup(format!(
                        "a {} transaction was not applied within {SETUP_TIMEOUT:?}; is the chain finalizing?",
                        tx.tx.action.name()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        assert_eq!(Percentiles::of(&[]), None);
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&samples).unwrap();
        assert_eq!(
            (p.p50, p.p90, p.p99, p.max, p.count),
            (50.0, 90.0, 99.0, 100.0, 100)
        );
        let one = Percentiles::of(&[7.0]).unwrap();
        assert_eq!((one.p50, one.p99, one.max), (7.0, 7.0, 7.0));
    }
}
