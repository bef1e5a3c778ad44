//! `bitcraps testnet …`: a local testnet of real processes (crate
//! `testnet`): up, down, status, faults (partition and heal among them),
//! check, load and chaos.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use testnet::chaos::{self, ChaosOptions};
use testnet::faults::{self, Children, FaultEvent};
use testnet::house;
use testnet::layout::Layout;
use testnet::load::{self, LoadOptions};
use testnet::manifest::FaultKind;
use testnet::net::{self, PrepareOptions, Prepared};
use testnet::{check, process};

use crate::stop::StopSignals;

/// How long nodes get to exit after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(10);

/// `bitcraps testnet …`.
#[derive(Args)]
pub struct TestnetArgs {
    #[command(subcommand)]
    command: TestnetCommand,
}

#[derive(Args, Clone)]
struct DirArg {
    /// The testnet directory [default: ~/.bitcraps/testnet].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl DirArg {
    fn path(&self) -> anyhow::Result<PathBuf> {
        match &self.dir {
            Some(dir) => Ok(dir.clone()),
            None => Ok(node::config::default_home()?.join("testnet")),
        }
    }

    fn layout(&self) -> anyhow::Result<Layout> {
        Ok(Layout::load(&self.path()?)?)
    }
}

#[derive(Subcommand)]
enum TestnetCommand {
    /// Make keys and a genesis (or reuse the directory's), start the
    /// bootstrap peer, the validators and the player nodes, wait until they
    /// finalize, print where everything is, then run the manifest's fault
    /// schedule and open the terminal UI on the first player node (in a
    /// terminal; quitting it stops the testnet), or wait for Ctrl-C with
    /// --no-tui or when not in a terminal, or exit at once with --detach.
    Up(UpArgs),
    /// Stop a testnet (SIGTERM, SIGKILL after a grace period).
    Down(DirArg),
    /// Each node's process, height and peers.
    Status(DirArg),
    /// SIGKILL a node; with --restart-after, start it again after that many
    /// seconds.
    Kill(KillArgs),
    /// SIGSTOP a node.
    Pause(NodeArg),
    /// SIGCONT a paused node.
    Resume(NodeArg),
    /// Stop a node (SIGTERM, SIGKILL after a grace period) if it runs, and
    /// start it again.
    Restart(NodeArg),
    /// Cut a node (and --with others) off from every other node, on libp2p
    /// and on the validators' network; with --hold, heal after that many
    /// seconds, else it stays cut until `testnet heal`. The nodes cut the
    /// links themselves (fault injection in their configuration), it is
    /// not packet loss.
    Partition(PartitionArgs),
    /// End the partitions: every node is connected again; with --id, end
    /// that partition alone (`testnet status` lists those in force).
    Heal(HealArgs),
    /// Start an equivocating twin of a validator: a second process with its
    /// key, started from a copy of its data (so both are in one view) and
    /// deaf to the other validators; then SIGKILL the original so its links
    /// go to the twin, wait until an honest validator reports the double
    /// signing, and start the original again. The honest validators slash
    /// it. --stop stops the twin.
    Twin(TwinArgs),
    /// Run the manifest's fault schedule against the running testnet.
    Faults(DirArg),
    /// Check that every node agrees on every block and state root and that
    /// the supply is conserved; exits 1 on any violation.
    Check(DirArg),
    /// Send signed field bets from many wallets at a steady rate and report
    /// what was submitted, finalized, settled and rejected, with latencies.
    Load(LoadArgs),
    /// Under load, at a random moment, kill (SIGKILL, then start again),
    /// pause (SIGSTOP, SIGCONT), restart or partition (cut off, then heal) a
    /// random node (--faults, --targets), wait until it caught up and check
    /// that no acknowledged bet is lost, all nodes agree and no validator
    /// signed twice; --kills times in a row. Exits 1 on any violation.
    Chaos(ChaosArgs),
}

#[derive(Args)]
struct UpArgs {
    #[command(flatten)]
    dir: DirArg,
    /// The testnet manifest (TOML) [default: the directory's, or 4
    /// validators and 1 player].
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// Wipe the directory first: new keys, a new chain.
    #[arg(long)]
    fresh: bool,
    /// Leave the testnet running in the background and exit once it is
    /// ready (stop it with `bitcraps testnet down`).
    #[arg(long)]
    detach: bool,
    /// Stay in the foreground printing what happens until Ctrl-C instead
    /// of opening the terminal UI on the first player node (the UI opens
    /// only when stdin and stdout are a terminal).
    #[arg(long, conflicts_with = "detach")]
    no_tui: bool,
    /// How long to wait for every node to be ready and finalizing, seconds.
    #[arg(long, value_name = "SECS", default_value_t = 180)]
    timeout: u64,
    /// Print what happens on standard error (`chaos --up --json`, whose
    /// standard output is the JSON report alone).
    #[arg(skip)]
    report_on_stderr: bool,
}

impl UpArgs {
    /// Prints one line of what `up` is doing.
    fn say(&self, line: impl std::fmt::Display) {
        if self.report_on_stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
}

#[derive(Args)]
struct NodeArg {
    /// The node (validator-0, player-0, bootstrap…).
    node: String,
    #[command(flatten)]
    dir: DirArg,
}

#[derive(Args)]
struct KillArgs {
    #[command(flatten)]
    node: NodeArg,
    /// Start it again this many seconds after the kill.
    #[arg(long, value_name = "SECS")]
    restart_after: Option<u64>,
}

#[derive(Args)]
struct PartitionArgs {
    #[command(flatten)]
    node: NodeArg,
    /// Other nodes on the same side, comma-separated (the rest form the
    /// other side).
    #[arg(long, value_name = "NODES", value_delimiter = ',')]
    with: Vec<String>,
    /// Heal after this many seconds (default: stay cut until `testnet
    /// heal`).
    #[arg(long, value_name = "SECS")]
    hold: Option<u64>,
}

#[derive(Args)]
struct HealArgs {
    #[command(flatten)]
    dir: DirArg,
    /// End only this partition (the id `testnet partition` printed); the
    /// nodes it separated stay apart if another partition still separates
    /// them.
    #[arg(long, value_name = "ID")]
    id: Option<u64>,
}

#[derive(Args)]
struct TwinArgs {
    #[command(flatten)]
    node: NodeArg,
    /// Stop the validator's twin instead.
    #[arg(long)]
    stop: bool,
    /// Leave the original running: the twin stays alone (its dials are
    /// refused while the original holds the links), so nothing is reported.
    #[arg(long, conflicts_with = "stop")]
    no_expose: bool,
    /// How long to wait for an honest validator to report the twin before
    /// the original is started again anyway (then another copy is tried,
    /// three in all).
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    expose_timeout: Duration,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct LoadArgs {
    #[command(flatten)]
    dir: DirArg,
    /// Bets per second, over all wallets.
    #[arg(long, value_name = "PER_SEC", default_value_t = 10.0)]
    rate: f64,
    /// How long to send: e.g. 30s, 2m, 500ms (a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// How many wallets bet (funded by the faucet).
    #[arg(long, value_name = "N", default_value_t = 20)]
    wallets: u32,
    /// Each bet's stake, chips.
    #[arg(long, value_name = "CHIPS", default_value_t = 10)]
    stake: u64,
    /// How long to wait after the load for finality and settlement.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    drain: Duration,
    /// Submitters at work at once, each with its own wallets (`--rate inf`
    /// with several submitters saturates the chain).
    #[arg(long, value_name = "N", default_value_t = 1)]
    concurrency: usize,
}

#[derive(Args)]
struct ChaosArgs {
    #[command(flatten)]
    dir: DirArg,
    /// Faults in a row.
    #[arg(long, value_name = "N", default_value_t = 100)]
    kills: u32,
    /// The faults drawn from, comma-separated: kill, pause, restart,
    /// partition (each appears once in the first faults, then at random).
    #[arg(
        long,
        value_name = "KINDS",
        value_delimiter = ',',
        default_value = "kill"
    )]
    faults: Vec<chaos::ChaosFault>,
    /// Which nodes are hit: validators, or all (validators and player
    /// nodes).
    #[arg(long, value_name = "WHICH", default_value = "validators")]
    targets: chaos::Targets,
    /// The seed of the victims, moments and holds (a run prints its seed;
    /// giving it again replays that schedule) [default: from the clock].
    #[arg(long, value_name = "SEED")]
    seed: Option<u64>,
    /// Bets per second of the load, over all wallets.
    #[arg(long, value_name = "PER_SEC", default_value_t = 10.0)]
    rate: f64,
    /// How many wallets bet (funded by the faucet).
    #[arg(long, value_name = "N", default_value_t = 8)]
    wallets: u32,
    /// The longest wait before each fault (drawn from zero to this).
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    max_wait: Duration,
    /// The shortest time a node stays killed, paused or cut off.
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_duration)]
    min_hold: Duration,
    /// The longest time a node stays killed, paused or cut off.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    max_hold: Duration,
    /// How long a node may take to catch up after its fault.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_duration)]
    catch_up_timeout: Duration,
    /// Start the testnet first, as `up --detach` (with --manifest, --fresh).
    #[arg(long)]
    up: bool,
    /// The manifest for --up.
    #[arg(long, value_name = "FILE", requires = "up")]
    manifest: Option<PathBuf>,
    /// With --up: a new chain.
    #[arg(long, requires = "up")]
    fresh: bool,
    /// Print the report as JSON on standard output (progress goes to
    /// standard error).
    #[arg(long)]
    json: bool,
}

/// `30s`, `2m`, `500ms`, `1h`, or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; use e.g. 30s, 2m or 500ms"))?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?}; use ms, s, m or h"
            ));
        }
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{text:?}: {e}"))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Runs `bitcraps testnet …`.
pub fn run(args: TestnetArgs) -> anyhow::Result<()> {
    match args.command {
        TestnetCommand::Up(args) => up(args),
        TestnetCommand::Down(dir) => down(&dir.layout()?),
        TestnetCommand::Status(dir) => {
            let layout = dir.layout()?;
            runtime()?.block_on(print_status(&layout));
            Ok(())
        }
        TestnetCommand::Kill(args) => {
            let hold = args.restart_after.map(Duration::from_secs);
            fault(&args.node, hold.map(|_| FaultKind::Kill), hold)
        }
        TestnetCommand::Pause(node) => {
            let layout = node.dir.layout()?;
            let record = process::pause(&node.node, &layout.node(&node.node)?.pid_file())?;
            println!("{}: SIGSTOP (pid {})", node.node, record.pid);
            Ok(())
        }
        TestnetCommand::Resume(node) => {
            let layout = node.dir.layout()?;
            let record = process::resume(&node.node, &layout.node(&node.node)?.pid_file())?;
            println!("{}: SIGCONT (pid {})", node.node, record.pid);
            Ok(())
        }
        TestnetCommand::Restart(node) => fault(&node, Some(FaultKind::Restart), None),
        TestnetCommand::Partition(args) => partition(args),
        TestnetCommand::Heal(args) => heal(&args),
        TestnetCommand::Twin(args) => twin(args),
        TestnetCommand::Faults(dir) => {
            let layout = dir.layout()?;
            let children: Children = Arc::default();
            let (_, error) = runtime()?.block_on(faults::run_schedule(
                &layout,
                &layout.manifest.faults,
                &children,
                Arc::new(print_event),
            ));
            match error {
                Some(error) => Err(error.into()),
                None => Ok(()),
            }
        }
        TestnetCommand::Check(dir) => {
            let layout = dir.layout()?;
            let report = runtime()?.block_on(check::check(&layout))?;
            println!("{report}");
            if !report.ok() {
                bail!(
                    "the testnet is inconsistent ({} violations)",
                    report.violations.len()
                );
            }
            Ok(())
        }
        TestnetCommand::Load(args) => {
            let layout = args.dir.layout()?;
            let options = LoadOptions {
                rate: args.rate,
                duration: args.duration,
                wallets: args.wallets,
                stake: args.stake,
                drain: args.drain,
                concurrency: args.concurrency,
            };
            let report = runtime()?.block_on(load::run(&layout, &options, &|line: &str| {
                println!("{line}")
            }))?;
            println!("{report}");
            Ok(())
        }
        TestnetCommand::Chaos(args) => run_chaos(args),
    }
}

/// `testnet chaos`.
fn run_chaos(args: ChaosArgs) -> anyhow::Result<()> {
    if args.up {
        up(UpArgs {
            dir: args.dir.clone(),
            manifest: args.manifest.clone(),
            fresh: args.fresh,
            detach: true,
            no_tui: false,
            timeout: 180,
            report_on_stderr: args.json,
        })?;
    }
    let layout = args.dir.layout()?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let options = ChaosOptions {
        kills: args.kills,
        faults: args.faults.clone(),
        targets: args.targets,
        seed,
        load: LoadOptions {
            rate: args.rate,
            // A limit only: the run stops the load after its last kill.
            duration: Duration::from_secs(7 * 24 * 3600),
            wallets: args.wallets,
            stake: 10,
            drain: Duration::from_secs(30),
            concurrency: 1,
        },
        max_wait: args.max_wait,
        min_hold: args.min_hold,
        max_hold: args.max_hold.max(args.min_hold),
        catch_up_timeout: args.catch_up_timeout,
    };
    let json = args.json;
    let progress = Arc::new(move |line: &str| {
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    });
    let report = runtime()?.block_on(chaos::run(&layout, &options, progress))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    if !report.ok() {
        bail!(
            "chaos: {} violation(s) in {} of {} faults (seed {seed})",
            report.violations.len(),
            report.kills,
            report.kills_planned
        );
    }
    Ok(())
}

fn print_event(event: &FaultEvent) {
    println!("{}", fault_line(event));
}

fn fault_line(event: &FaultEvent) -> String {
    format!("[{:>7.1}s] {}: {}", event.at_secs, event.node, event.what)
}

/// `kill` (with an optional restart) and `restart`, from the command line.
fn fault(node: &NodeArg, kind: Option<FaultKind>, hold: Option<Duration>) -> anyhow::Result<()> {
    let layout = node.dir.layout()?;
    let Some(kind) = kind else {
        let record = process::kill(&node.node, &layout.node(&node.node)?.pid_file())?;
        println!(
            "{}: SIGKILL (pid {}); start it with `bitcraps testnet restart {}`",
            node.node, record.pid, node.node
        );
        return Ok(());
    };
    let children: Children = Arc::default();
    runtime()?.block_on(faults::inject(
        &layout,
        &node.node,
        kind,
        hold.unwrap_or_default(),
        &children,
        &|name: &str, what: String| println!("{name}: {what}"),
    ))?;
    Ok(())
}

/// `testnet partition`.
fn partition(args: PartitionArgs) -> anyhow::Result<()> {
    let layout = args.node.dir.layout()?;
    let mut side = vec![args.node.node.clone()];
    side.extend(args.with);
    let Some(hold) = args.hold else {
        let cut = testnet::partition::cut(&layout, &side)?;
        println!(
            "partitioned: {cut}; heal it with `bitcraps testnet heal --id {} --dir {}`",
            cut.id,
            layout.dir.display()
        );
        return Ok(());
    };
    runtime()?.block_on(faults::partition(
        &layout,
        &side,
        Duration::from_secs(hold),
        &|_: &str, what: String| println!("{what}"),
    ))?;
    Ok(())
}

/// `testnet heal`.
fn heal(args: &HealArgs) -> anyhow::Result<()> {
    let layout = args.dir.layout()?;
    let Some(id) = args.id else {
        testnet::partition::heal(&layout)?;
        println!("healed: every node is connected again");
        return Ok(());
    };
    if !testnet::partition::heal_one(&layout, id)? {
        anyhow::bail!(
            "no partition {id} is in force; `bitcraps testnet status --dir {}` lists those that are",
            layout.dir.display()
        );
    }
    println!("healed partition {id}");
    Ok(())
}

/// `testnet twin`.
fn twin(args: TwinArgs) -> anyhow::Result<()> {
    let layout = args.node.dir.layout()?;
    let validator = &args.node.node;
    if args.stop {
        let stopped = testnet::twin::stop(&layout, validator, GRACE)?;
        println!("{validator}{}: {stopped:?}", testnet::twin::TWIN_SUFFIX);
        return Ok(());
    }
    let options = testnet::twin::TwinOptions {
        expose: !args.no_expose,
        expose_timeout: args.expose_timeout,
    };
    let children: Children = Arc::default();
    let json = args.json;
    let report = runtime()?.block_on(testnet::twin::start(
        &layout,
        validator,
        &options,
        &children,
        &|name: &str, what: String| {
            if json {
                eprintln!("{name}: {what}");
            } else {
                println!("{name}: {what}");
            }
        },
    ))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    if options.expose && report.reported_by.is_empty() {
        bail!(
            "no honest validator reported the twin in {} attempts of {:?}",
            report.attempts,
            options.expose_timeout
        );
    }
    Ok(())
}

async fn print_status(layout: &Layout) {
    println!(
        "testnet in {} (chain {})",
        layout.dir.display(),
        layout.chain_id
    );
    println!(
        "{:<16} {:<8} {:<8} {:<8} peers / api",
        "node", "process", "pid", "height"
    );
    for node in net::status(layout).await {
        let pid = node
            .pid
            .map(|p| p.to_string())
            .unwrap_or_else(|| "-".into());
        let (height, api) = match &node.api {
            Ok((height, peers)) => (
                height.map(|h| h.to_string()).unwrap_or_else(|| "-".into()),
                format!("{peers} peers"),
            ),
            Err(reason) => ("-".into(), reason.clone()),
        };
        println!(
            "{:<16} {:<8} {:<8} {:<8} {}",
            node.name, node.process, pid, height, api
        );
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    for twin in &layout.twins {
        println!(
            "twin: {} signs with {}'s key, started {:.0} s ago ({})",
            twin.node.name,
            twin.of,
            now_ms.saturating_sub(twin.started_ms) as f64 / 1000.0,
            twin.node.dir.display()
        );
    }
    match testnet::partition::Record::read(layout) {
        Some(record) => println!("partition: {}", record.describe(now_ms)),
        None => println!("partition: none (every node is connected)"),
    }
}

fn down(layout: &Layout) -> anyhow::Result<()> {
    let supervisor = layout.supervisor_pid_file();
    if process::live(&supervisor).is_some() {
        println!("stopping the supervisor (testnet up)");
        process::stop("supervisor", &supervisor, GRACE * 3)?;
    }
    report_stops(net::stop_all(layout, GRACE))
}

fn report_stops(
    results: Vec<(String, Result<process::Stopped, process::ProcessError>)>,
) -> anyhow::Result<()> {
    let mut failed = 0;
    for (name, result) in results {
        match result {
            Ok(process::Stopped::NotRunning) => {}
            Ok(outcome) => println!("{name}: {outcome:?}"),
            Err(error) => {
                failed += 1;
                eprintln!("{name}: {error}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} node(s) could not be stopped");
    }
    Ok(())
}

fn up(args: UpArgs) -> anyhow::Result<()> {
    let binary = std::env::current_exe().context("cannot find this program's path")?;
    let dir = args.dir.path()?;
    let (layout, prepared) = net::prepare(&PrepareOptions {
        dir,
        manifest: args.manifest.clone(),
        fresh: args.fresh,
        binary,
    })?;
    match prepared {
        Prepared::Created => args.say(format_args!(
            "made a new testnet in {}: {} validators, {} player node(s), chain {}",
            layout.dir.display(),
            layout.manifest.validators,
            layout.manifest.players,
            layout.chain_id
        )),
        Prepared::Reused => args.say(format_args!(
            "reusing the testnet in {} (chain {}); --fresh starts a new one",
            layout.dir.display(),
            layout.chain_id
        )),
    }
    let runtime = runtime()?;
    runtime.block_on(async {
        let supervisor = layout.supervisor_pid_file();
        if !args.detach {
            process::write_own_pid_file(&supervisor)?;
        }
        let result = run_up(&layout, &args).await;
        if !args.detach || result.is_err() {
            args.say("stopping the testnet");
            let stops = net::stop_all(&layout, GRACE);
            let _ = std::fs::remove_file(&supervisor);
            report_stops(stops)?;
        }
        result
    })
}

async fn run_up(layout: &Layout, args: &UpArgs) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(args.timeout);
    // Ctrl-C is watched from the first process on: without a handler it
    // would end `up` at once and leave the nodes started so far running
    // (each has a process group of its own); with one, the caller stops
    // every node that has a pid file.
    let mut stop = StopSignals::watch()?;
    args.say(format_args!("starting {} processes…", layout.nodes.len()));
    let mut children = tokio::select! {
        biased;
        () = stop.recv() => bail!("interrupted while starting"),
        started = net::start_all(layout, timeout) => interrupted_or(started, &mut stop).await?,
    };
    args.say("waiting until every node is ready and finalizing…");
    tokio::select! {
        biased;
        () = stop.recv() => bail!("interrupted while starting"),
        ready = net::wait_ready(layout, timeout, &mut children) => {
            interrupted_or(ready, &mut stop).await?
        }
    }
    let tables = tokio::select! {
        tables = house::open(layout) => tables?,
        () = stop.recv() => {
            bail!("interrupted while opening the tables");
        }
    };
    args.say(format_args!("\n{}", net::describe(layout)));
    for table in &tables {
        args.say(format_args!(
            "table {}: {} ({}, {} of {} seats taken)",
            table.id.0,
            table.name,
            node::api::Game::of(&table.game),
            table.players.len(),
            table.max_players
        ));
    }
    if args.detach {
        args.say(format_args!(
            "running in the background; stop it with `bitcraps testnet down --dir {}`",
            layout.dir.display()
        ));
        return Ok(());
    }
    let ui = if args.no_tui {
        None
    } else {
        match tui_target(layout) {
            Ok(options) => Some(options),
            Err(why) => {
                println!("{why}");
                None
            }
        }
    };
    // While the UI owns the terminal, what happens goes to a file instead:
    // a line printed under it would tear the screen.
    let report = match &ui {
        Some(_) => Report::to_file(&layout.dir.join("up.log"))?,
        None => {
            println!("Ctrl-C stops the testnet.");
            Report::Stdout
        }
    };
    let children: Children = Arc::new(Mutex::new(children));
    let schedule = {
        let layout = layout.clone();
        let children = children.clone();
        let report = report.clone();
        tokio::spawn(async move {
            if layout.manifest.faults.is_empty() {
                return;
            }
            report.line(&format!(
                "running the manifest's {} fault(s)",
                layout.manifest.faults.len()
            ));
            let events = report.clone();
            let (_, error) = faults::run_schedule(
                &layout,
                &layout.manifest.faults,
                &children,
                Arc::new(move |event: &FaultEvent| events.line(&fault_line(event))),
            )
            .await;
            match error {
                Some(error) => report.line(&format!("fault schedule: {error}")),
                None => report.line("fault schedule done"),
            }
        })
    };
    let reaper = {
        let children = children.clone();
        let report = report.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let exited = {
                    let mut guard = children.lock().unwrap_or_else(|p| p.into_inner());
                    process::reap(&mut guard)
                };
                for (name, status) in exited {
                    report.line(&format!("{name} exited ({status})"));
                }
            }
        })
    };
    let result = match ui {
        Some(options) => {
            println!(
                "opening the terminal UI on {}; quitting it (q or Ctrl-C) stops the testnet; events go to {}",
                options.api,
                layout.dir.join("up.log").display()
            );
            run_tui(options, &mut stop).await
        }
        None => {
            stop.recv().await;
            Ok(())
        }
    };
    schedule.abort();
    reaper.abort();
    result
}

/// `result` of starting nodes, unless it failed because of a Ctrl-C: a
/// node being spawned is still in `up`'s process group until it moves to
/// its own, so the terminal's SIGINT can reach it and it dies of it, which
/// `up` may see before its own handler has reported the signal. The
/// interruption is what to report then, so a failure waits briefly for it.
async fn interrupted_or<T, E>(result: Result<T, E>, stop: &mut StopSignals) -> anyhow::Result<T>
where
    anyhow::Error: From<E>,
{
    match result {
        Ok(value) => Ok(value),
        Err(error) => match tokio::time::timeout(Duration::from_millis(500), stop.recv()).await {
            Ok(()) => bail!("interrupted while starting"),
            Err(_) => Err(error.into()),
        },
    }
}

/// The UI's options on the first player node if the UI should open: stdin
/// and stdout are a terminal and the testnet has a player node; else what
/// to tell the user instead.
fn tui_target(layout: &Layout) -> Result<::tui::Options, &'static str> {
    use std::io::IsTerminal as _;
    let Some(player) = layout
        .nodes
        .iter()
        .find(|n| n.role == testnet::layout::Role::Player)
    else {
        return Err("the testnet has no player node: no terminal UI to open");
    };
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(
            "not opening the terminal UI: standard input or output is not a terminal; \
             open it from a terminal with the `tui` command above",
        );
    }
    Ok(::tui::Options {
        api: player.http_url(),
        cookie: player.cookie_file.clone(),
    })
}

/// Runs the terminal UI until the user quits it or a signal (SIGINT from
/// outside, as Ctrl-C in the UI is a key, or SIGTERM) arrives, which closes
/// the UI and restores the terminal before the testnet stops.
async fn run_tui(options: ::tui::Options, stop: &mut StopSignals) -> anyhow::Result<()> {
    let api = options.api.clone();
    let (close, closed) = tokio::sync::oneshot::channel::<()>();
    let (done, finished) = tokio::sync::oneshot::channel();
    // The UI runs its own runtime, which cannot start on this one's
    // threads: it gets a thread of its own.
    std::thread::Builder::new()
        .name("tui".into())
        .spawn(move || {
            let result = ::tui::run_until(options, async {
                // A dropped sender also closes the UI.
                let _ = closed.await;
            });
            let _ = done.send(result);
        })
        .context("cannot start the terminal UI's thread")?;
    let mut finished = finished;
    tokio::select! {
        result = &mut finished => {
            return match result {
                Ok(result) => result.with_context(|| format!("the terminal UI on {api} failed")),
                Err(_) => bail!("the terminal UI on {api} stopped without a result (it panicked; see above)"),
            };
        }
        () = stop.recv() => {}
    }
    let _ = close.send(());
    // Wait for the UI to give the terminal back before printing anything.
    let _ = finished.await;
    Ok(())
}

/// Where `testnet up` reports what happens once it is running.
#[derive(Clone)]
enum Report {
    /// Printed (no UI).
    Stdout,
    /// Appended to a file (the UI owns the terminal).
    File(Arc<Mutex<std::fs::File>>),
}

impl Report {
    fn to_file(path: &std::path::Path) -> anyhow::Result<Report> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| {
                format!(
                    "cannot open {} for the testnet's events; check the directory's permissions or pass --no-tui",
                    path.display()
                )
            })?;
        Ok(Report::File(Arc::new(Mutex::new(file))))
    }

    fn line(&self, text: &str) {
        match self {
            Report::Stdout => println!("{text}"),
            Report::File(file) => {
                use std::io::Write as _;
                let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
                // A full disk must not take the testnet down with it.
                let _ = writeln!(file, "{text}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("fast").is_err());
    }
}
