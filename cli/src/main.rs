//! `bitcraps`: the one binary through which players, validators and developers
//! drive BitCraps. A thin shell over the workspace libraries: it parses
//! arguments, calls a library, and prints.

mod simulate;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => simulate::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
