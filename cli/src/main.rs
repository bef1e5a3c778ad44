//! `bitcraps`: the one binary through which players, validators and developers
//! drive BitCraps. A thin shell over the workspace libraries: it parses
//! arguments, calls a library, and prints.

mod api;
mod bankroll;
mod bench;
mod bootstrap;
mod completions;
mod explore;
mod node;
mod play;
mod sign;
mod simulate;
mod stop;
mod tables;
mod testnet;
mod tui;
mod tx;
mod validator;
mod verify;
mod wallet;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The exit codes, for scripts (also in `bitcraps --help`).
const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  any other failure
  2  bad command line
  3  invalid configuration or genesis
  4  the node did not answer (is it running? retrying may help)
  5  the file to create already exists (node init, wallet new)
  6  a round did not verify (explore round)
  7  the node refused the request (bad input, not found, transaction refused,
     or with --wait: the ledger rejected it or it left the mempool)
  8  a keystore could not be opened (wrong password, corrupt file, no password)
  9  --wait timed out while the transaction was still pending (it may yet be
     included: `bitcraps explore tx HASH`)";

/// BitCraps: a peer-to-peer casino with provably fair, threshold-randomness dice.
#[derive(Parser)]
#[command(
    name = "bitcraps",
    version,
    about,
    propagate_version = true,
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Play named strategies for many rounds offline and compare the measured
    /// house edge with the exact one the rules engine derives.
    Simulate(simulate::Args),
    /// Run the bootstrap peer new nodes dial first (Kademlia, identify,
    /// ping; no ledger, no stake), with /health and /metrics.
    Bootstrap(bootstrap::Args),
    /// A local testnet of real processes: up, down, status, kill, pause,
    /// resume, restart, faults, check, load.
    Testnet(testnet::TestnetArgs),
    /// Run a node: init its home, start it, ask a running one its status.
    Node(node::NodeArgs),
    /// Show the node's effective configuration.
    Config(node::ConfigCmd),
    /// The terminal UI: play crash and craps, see the wallet and the
    /// validators, on a running node (--api, --cookie).
    Tui(tui::Args),
    /// Measure this machine: the ed25519 verification bound, then a fresh
    /// 4-validator testnet's throughput, latency, idle CPU, memory and disk.
    Bench(bench::Args),
    /// List the tables (id, name, game, limits, seats); create, join, leave.
    Tables(tables::Args),
    /// Bet: crash bet / cash-out, craps bet / odds / take-down / working (a
    /// bet takes a seat first if needed).
    Play(play::Args),
    /// Keystores (new, import, list, address) and the wallet's balance,
    /// history, transfers and faucet.
    Wallet(wallet::Args),
    /// Send chips, or submit transactions signed elsewhere (send).
    Tx(tx::Args),
    /// The shared bankroll: show it, deposit chips for shares, withdraw.
    Bankroll(bankroll::Args),
    /// Validators: register, stake, unstake, status.
    Validator(validator::Args),
    /// Read the chain: block, tx, account, round (verified offline against
    /// the genesis), validators, leaderboard, bankroll.
    Explore(explore::Args),
    /// Print the shell completion script (bash, zsh, fish).
    Completions(completions::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => simulate::run(&args),
        Command::Bootstrap(args) => bootstrap::run(args),
        Command::Testnet(args) => testnet::run(args),
        Command::Node(args) => node::run(args),
        Command::Config(args) => node::run_config(args),
        Command::Tui(args) => tui::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Tables(args) => tables::run(args),
        Command::Play(args) => play::run(args),
        Command::Wallet(args) => wallet::run(args),
        Command::Tx(args) => tx::run(args),
        Command::Bankroll(args) => bankroll::run(args),
        Command::Validator(args) => validator::run(args),
        Command::Explore(args) => explore::run(args),
        Command::Completions(args) => completions::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            match error.downcast_ref::<node::Coded>() {
                Some(coded) => ExitCode::from(coded.code),
                None => ExitCode::FAILURE,
            }
        }
    }
}
