//! `bitcraps bench`: the machine's verification bound, then fresh
//! 4-validator testnets measured end to end (crate `testnet`, module
//! `bench`). A quick run (`--quick`) takes about two minutes.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args as ClapArgs;
use testnet::bench::{self, BenchOptions};

use crate::testnet::parse_duration;

/// `bitcraps bench`.
#[derive(ClapArgs)]
pub struct Args {
    /// Where the benchmark's testnets go (replaced on each run) [default:
    /// ~/.bitcraps/bench].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The first port of the testnets; each node takes 10 from here.
    #[arg(long, value_name = "PORT", default_value_t = 41_000)]
    base_port: u16,
    /// Fresh testnets to measure, one after the other (the spread of the
    /// throughput is over these).
    #[arg(long, value_name = "N", default_value_t = 1)]
    runs: u32,
    /// Short phases: 1 s verification, 10 s idle, 20 s saturation, 20 s
    /// at the fixed rate, 15 s drain (overrides those flags).
    #[arg(long)]
    quick: bool,
    /// CPU time for each verification measurement.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    verify_time: Duration,
    /// How long idle CPU is measured.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    idle: Duration,
    /// How long the saturating load runs.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    saturation: Duration,
    /// Submitters at once in the saturating load.
    #[arg(long, value_name = "N", default_value_t = 32)]
    saturation_concurrency: usize,
    /// Wallets of the saturating load (each may have 64 bets pooled).
    #[arg(long, value_name = "N", default_value_t = 128)]
    saturation_wallets: u32,
    /// The fixed offered rate of the latency phase, bets/s.
    #[arg(long, value_name = "PER_SEC", default_value_t = 1000.0)]
    rate: f64,
    /// How long the fixed-rate load runs.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    latency: Duration,
    /// Wallets of the fixed-rate load.
    #[arg(long, value_name = "N", default_value_t = 64)]
    latency_wallets: u32,
    /// Submitters at once in the fixed-rate load (enough to keep the
    /// schedule while each submission takes a while).
    #[arg(long, value_name = "N", default_value_t = 16)]
    latency_concurrency: usize,
    /// How long each load waits afterwards for finality and settlement.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    drain: Duration,
    /// How long a testnet may take to be ready, seconds.
    #[arg(long, value_name = "SECS", default_value_t = 180)]
    timeout: u64,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// The most bets per submission request (1 to 1024); 1 sends each bet
    /// on its own `POST /v1/txs`, to compare with batching.
    #[arg(long, value_name = "N", default_value_t = testnet::load::DEFAULT_BATCH)]
    batch: usize,
}

/// Runs `bitcraps bench`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let binary = std::env::current_exe().context("cannot find this program's path")?;
    let dir = match args.dir {
        Some(dir) => dir,
        None => node::config::default_home()?.join("bench"),
    };
    let mut options = BenchOptions {
        binary,
        dir,
        base_port: args.base_port,
        runs: args.runs,
        verify_time: args.verify_time,
        idle: args.idle,
        saturation: args.saturation,
        saturation_concurrency: args.saturation_concurrency,
        saturation_wallets: args.saturation_wallets,
        rate: args.rate,
        latency: args.latency,
        latency_wallets: args.latency_wallets,
        latency_concurrency: args.latency_concurrency,
        drain: args.drain,
        ready_timeout: Duration::from_secs(args.timeout),
        batch: args.batch,
    };
    if args.quick {
        options.verify_time = Duration::from_secs(1);
        options.idle = Duration::from_secs(10);
        options.saturation = Duration::from_secs(20);
        options.latency = Duration::from_secs(20);
        options.drain = Duration::from_secs(15);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(bench::run(&options, &|line: &str| println!("{line}")))?;
    println!("\n{report}");
    if let Some(path) = args.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(&path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("figures written to {}", path.display());
    }
    Ok(())
}
