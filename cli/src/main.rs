//! `bitcraps`: the one binary through which players, validators and developers
//! drive BitCraps. A thin shell over the workspace libraries: it parses
//! arguments, calls a library, and prints.

mod bootstrap;
mod node;
mod simulate;
mod testnet;
mod tui;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// BitCraps: a peer-to-peer casino with provably fair, threshold-randomness dice.
#[derive(Parser)]
#[command(name = "bitcraps", version, about, propagate_version = true)]
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
