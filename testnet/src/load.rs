//! # `testnet load`: bets from many wallets at a steady rate
//!
//! Signs every transaction locally (`wallet` keys, `consensus::tx`) and
//! submits it raw to `POST /v1/txs` on the player nodes (round robin; the
//! validators if there are none), like any outside client would.
//!
//! 1. **Setup** (not measured): `wallets` new keys each mint chips from the
//!    faucet (the faucet pays its caller, so the load needs no funded
//!    account), the first wallet opens enough craps tables for everyone,
//!    and each wallet takes a seat. Each step waits until its transactions
//!    are applied.
//! 2. **Load**: for `duration`, at `rate` bets per second, the next wallet
//!    (round robin) signs a one-roll **field** bet with its next nonce and
//!    submits it. A submission the node refuses is counted `refused` and
//!    its nonce reused.
//! 3. **Observation** over the API/WebSocket: the `blocks` topic says when
//!    a block is final; the block (`/v1/blocks/{h}`) says which of our
//!    transactions it holds — **finalized**, latency from submission; the
//!    receipt (`/v1/txs/{hash}`) says **applied** (the bet's id) or
//!    **rejected**; the tables' `craps:{id}` topics say when each bet was
//!    **settled** by a roll.
//! 4. After the load, it waits up to `drain` for the rest to finalize and
//!    settle, then reports counts and latency percentiles.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use consensus::receipt::{LedgerEvent, TxStatus};
use consensus::tx::{Action, SignedTransaction, TableGame, TableId, TableName, Transaction};
use game_rules::Chips;
use game_rules::craps::{BetKind, OddsLimit};
use node::api::{ApiEvent, Topic};
use node::client::{ApiClient, ClientError, SubscriptionUpdate, TxState};
use tokio::time::Instant;
use wallet::{ChainId, Keypair};

use crate::layout::{Layout, Role};

/// How many blocks a transaction stays valid for.
const EXPIRY_BLOCKS: u64 = 10_000;

/// How long a setup step may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(120);

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
    /// Bets per second, over all wallets.
    pub rate: f64,
    /// How long to send.
    pub duration: Duration,
    /// How many wallets bet.
    pub wallets: u32,
    /// Each bet's stake.
    pub stake: u64,
    /// How long to wait after the load for finality and settlement.
    pub drain: Duration,
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

/// One load wallet.
struct Bettor {
    keypair: Keypair,
    nonce: u64,
    table: TableId,
}

/// A submitted bet being followed.
struct Pending {
    submitted: Instant,
    finalized: Option<Instant>,
}

/// Runs the load against `layout` (see the module documentation),
/// printing progress with `progress`.
pub async fn run(
    layout: &Layout,
    options: &LoadOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<LoadReport, LoadError> {
    if options.rate.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
        || options.wallets == 0
        || options.stake == 0
    {
        return Err(LoadError::Options(
            "the rate, the wallets and the stake must be positive".into(),
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

    // 2 and 3. Load and observation.
    let mut topics = vec![Topic::Blocks];
    topics.extend(tables.iter().map(|t| Topic::Craps(*t)));
    let mut subscription = clients[0].subscribe(topics);
    loop {
        match subscription.next().await {
            Some(SubscriptionUpdate::Connected { .. }) => break,
            Some(SubscriptionUpdate::Refused { message, .. }) => {
                return Err(LoadError::Setup(format!(
                    "the node refused the subscription: {message}"
                )));
            }
            Some(_) => {}
            None => return Err(LoadError::Setup("the subscription ended".into())),
        }
    }
    progress(&format!(
        "load: {:.1} field bets/s of {} chips from {} wallets for {:?}",
        options.rate,
        options.stake,
        bettors.len(),
        options.duration
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
    };
    let mut pending: BTreeMap<consensus::hash::TxHash, Pending> = BTreeMap::new();
    let mut bets: BTreeMap<(TableId, u64), Instant> = BTreeMap::new();
    let mut settled: BTreeSet<(TableId, u64)> = BTreeSet::new();
    let mut early: BTreeMap<(TableId, u64), Instant> = BTreeMap::new();
    let mut finality = Vec::new();
    let mut settlement = Vec::new();
    let start = Instant::now();
    let load_end = start + options.duration;
    let interval = Duration::from_secs_f64(1.0 / options.rate);
    let mut next_send = start;
    let mut next_bettor = 0usize;
    let mut next_client = 0usize;
    let mut height = height;
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
            if now >= end || (!open_bets && !unfinalized) {
                break;
            }
        }
        let wake = if drain_end.is_none() {
            next_send.min(load_end)
        } else {
            now + Duration::from_millis(200)
        };
        tokio::select! {
                    _ = tokio::time::sleep_until(wake) => {
                        if drain_end.is_some() || Instant::now() < next_send {
                            continue;
                        }
                        next_send += interval;
                        let count = bettors.len();
                        let bettor = &mut bettors[next_bettor];
                        next_bettor = (next_bettor + 1) % count;
                        let table = bettor.table;
                        let tx = unsigned(bettor, chain_id, fee, height, Action::CrapsBet {
                            table,
                            kind: BetKind::Field,
                            amount: Chips(options.stake),
                        })
                        .sign(&bettor.keypair);
                        let client = &clients[next_client];
                        next_client = (next_client + 1) % clients.len();
                        let sent = Instant::now();
                        match client.submit_transaction(&tx).await {
                            Ok(_) => {
                                bettor.nonce += 1;
                                report.submitted += 1;
                                pending.insert(tx.hash(), Pending { submitted: sent, finalized: None });
                            }
                            Err(_) => report.refused += 1,
                        }
                    }
                    update = subscription.next() => {
                        let Some(update) = update else { break };
                        let SubscriptionUpdate::Event(event) = update else { continue };
                        match *event {
                            ApiEvent::Block { height: h, .. } => {
                                height = height.max(h);
                                let block = match clients[0].block(h).await {
                                    Ok(block) => block,
                                    Err(_) => continue,
                                };
                                let seen = Instant::now();
                                for tx in block.block.transactions.iter() {
                                    let hash = tx.hash();
                                    let Some(entry) = pending.get_mut(&hash) else { continue };
                                    if entry.finalized.is_some() {
                                        continue;
                                    }
                                    entry.finalized = Some(seen);
                                    report.finalized += 1;
                                    finality.push(ms(seen - entry.submitted));
                                    let submitted = entry.submitted;
                                    if let Ok(reply) = clients[0].transaction(&hash).await
                                        && let Some(receipt) = reply.receipt
                                    {
                                        match receipt.status {
                                                TxStatus::Applied => {
                                                    report.applied += 1;
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
                                }
                            }
                            ApiEvent::Table { table, event: LedgerEvent::BetSettled { bet, .. }, .. } => {
                                // A settlement seen before its bet's receipt was read
                                // waits in `early`.
                                match bets.get(&(table, bet)) {
                                    Some(submitted) => {
                                        if settled.insert((table, bet)) {
                                            report.settled += 1;
                                            settlement.push(ms(Instant::now() - *submitted));
                                        }
                                    }
                                    None => {
                                        early.insert((table, bet), Instant::now());
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
    }
    report.elapsed = start.elapsed();
    report.finality = Percentiles::of(&finality);
    report.settlement = Percentiles::of(&settlement);
    Ok(report)
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
        for tx in txs {
            debug_assert_eq!(tx.tx.chain_id, self.chain_id);
            self.client.submit_transaction(tx).await.map_err(|e| {
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
