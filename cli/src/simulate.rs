//! `bitcraps simulate`: named strategies over many rounds, measured edge beside
//! the exact edge.

use anyhow::{Context, Result};
use game_rules::craps::TableRules;
use game_rules::simulation::EdgeEstimate;
use game_rules::simulation::craps::{self as craps_sim, CrapsStrategy};
use game_rules::simulation::crash::{self as crash_sim, CrashStrategy};
use num_rational::BigRational;
use num_traits::ToPrimitive;
use serde::Serialize;

/// Arguments of `bitcraps simulate`.
#[derive(clap::Args)]
#[command(after_help = format!(
    "Craps strategies: {}\nCrash strategies: {}\n\nWith no game and no strategy, a representative set of both games is played.",
    CrapsStrategy::NAMES,
    CrashStrategy::NAMES
))]
pub struct Args {
    /// The game to simulate; both when omitted.
    #[arg(value_enum)]
    game: Option<Game>,
    /// A strategy to play (repeatable); a representative set when omitted.
    #[arg(short, long = "strategy", value_name = "NAME")]
    strategies: Vec<String>,
    /// Rounds per strategy.
    #[arg(short = 'n', long, default_value_t = 1_000_000)]
    rounds: u64,
    /// Seed of the simulated randomness: the same seed plays the same rounds.
    #[arg(long, default_value = "bitcraps")]
    seed: String,
    /// Crash only: milliseconds between ticks (finalized blocks) of a running round.
    #[arg(long, default_value_t = 100)]
    tick_ms: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Game {
    Craps,
    Crash,
}

/// One strategy's result.
#[derive(Serialize)]
struct Row {
    game: &'static str,
    strategy: String,
    rounds: u64,
    wagered: u128,
    player_net: i128,
    measured_edge: f64,
    ci95: f64,
    exact_edge: f64,
    exact_fraction: Option<String>,
    /// (measured − exact) in standard errors: |z| < 2 about 95% of the time.
    z: f64,
}

impl Row {
    fn new(
        game: &'static str,
        strategy: String,
        measured: EdgeEstimate,
        exact: &BigRational,
    ) -> Row {
        let exact_edge = exact.to_f64().unwrap_or(f64::NAN);
        // Small fractions (7/1870) say more than digits; huge ones say nothing.
        let exact_fraction = (exact.denom().bits() <= 32).then(|| exact.to_string());
        Row {
            game,
            strategy,
            rounds: measured.rounds,
            wagered: measured.wagered,
            player_net: measured.player_net,
            measured_edge: measured.edge,
            ci95: measured.ci95,
            exact_edge,
            exact_fraction,
            z: if measured.ci95 > 0.0 {
                (measured.edge - exact_edge) / (measured.ci95 / 1.96)
            } else {
                0.0
            },
        }
    }
}

const DEFAULT_CRAPS: &[&str] = &[
    "pass",
    "dont-pass",
    "pass-odds",
    "place-6",
    "field",
    "hard-8",
    "any-7",
];
const DEFAULT_CRASH: &[&str] = &["auto-1.5", "auto-2", "auto-10"];

pub fn run(args: &Args) -> Result<()> {
    let mut rows = Vec::new();
    let wants = |game: Game| args.game.is_none_or(|g| g == game);
    let plays = |game: Game, name: &str| match game {
        Game::Craps => name.parse::<CrapsStrategy>().is_ok(),
        Game::Crash => name.parse::<CrashStrategy>().is_ok(),
    };
    // Named strategies go to the game they belong to; without names, each game
    // played gets its representative set.
    let names = |game: Game, defaults: &'static [&'static str]| -> Vec<&str> {
        if !wants(game) {
            Vec::new()
        } else if args.strategies.is_empty() {
            defaults.to_vec()
        } else {
            args.strategies
                .iter()
                .map(String::as_str)
                .filter(|name| plays(game, name))
                .collect()
        }
    };
    let games = [Game::Craps, Game::Crash];
    if let Some(name) = args
        .strategies
        .iter()
        .find(|name| !games.iter().any(|&g| wants(g) && plays(g, name)))
    {
        anyhow::bail!(
            "unknown strategy {name:?} for {}: craps strategies are {}; crash strategies are {}",
            match args.game {
                Some(Game::Craps) => "craps",
                Some(Game::Crash) => "crash",
                None => "either game",
            },
            CrapsStrategy::NAMES,
            CrashStrategy::NAMES
        );
    }
    {
        let rules = TableRules::default();
        for name in names(Game::Craps, DEFAULT_CRAPS) {
            let strategy: CrapsStrategy = name.parse()?;
            let exact = strategy
                .exact_edge(&rules)
                .with_context(|| format!("exact edge of {name}"))?;
            let tally = craps_sim::simulate(strategy, &rules, args.rounds, args.seed.as_bytes())?;
            rows.push(Row::new("craps", name.to_owned(), tally.estimate(), &exact));
        }
    }
    for name in names(Game::Crash, DEFAULT_CRASH) {
        let strategy: CrashStrategy = name.parse()?;
        let exact = strategy
            .exact_edge(args.tick_ms)
            .with_context(|| format!("exact edge of {name}"))?;
        let tally = crash_sim::simulate(strategy, args.tick_ms, args.rounds, args.seed.as_bytes())?;
        rows.push(Row::new("crash", name.to_owned(), tally.estimate(), &exact));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print_table(args, &rows);
    }
    Ok(())
}

fn print_table(args: &Args, rows: &[Row]) {
    println!(
        "seed {:?}, {} rounds per strategy; edge = house edge per chip wagered",
        args.seed, args.rounds
    );
    println!();
    println!(
        "{:<6} {:<16} {:>14} {:>10} {:>9} {:>10}  {:<10} {:+.2}",
        "game", "strategy", "wagered", "measured", "95% CI", "exact", "exact", "z"
    );
    for row in rows {
        println!(
            "{:<6} {:<16} {:>14} {:>9.3}% {:>8.3}% {:>9.3}%  {:<10} {:+.2}",
            row.game,
            row.strategy,
            row.wagered,
            100.0 * row.measured_edge,
            100.0 * row.ci95,
            100.0 * row.exact_edge,
            row.exact_fraction.as_deref().unwrap_or("-"),
            row.z,
        );
    }
}
