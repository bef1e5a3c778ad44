//! `bitcraps completions`: the shell completion script, for bash, zsh or
//! fish.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;

/// Arguments of `bitcraps completions`.
#[derive(clap::Args)]
pub struct Args {
    /// The shell: bash, zsh or fish (e.g. `bitcraps completions bash >
    /// ~/.local/share/bash-completion/completions/bitcraps`).
    #[arg(value_parser = ["bash", "zsh", "fish"])]
    shell: String,
}

/// The completion script for `shell`.
fn script(shell: Shell) -> Vec<u8> {
    let mut command = crate::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "bitcraps", &mut script);
    script
}

/// Prints the completion script.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let shell = match args.shell.as_str() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        _ => Shell::Fish,
    };
    // Generated into memory first: clap_complete panics on a write error.
    let script = script(shell);
    let mut out = io::stdout().lock();
    crate::api::finish(
        out.write_all(&script)
            .and_then(|()| out.flush())
            .map_err(anyhow::Error::from),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_completes_the_new_commands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = String::from_utf8(script(shell)).unwrap();
            for word in [
                "tables",
                "play",
                "wallet",
                "explore",
                "cash-out",
                "import",
                "bankroll",
                "validator",
                "unstake",
                "working",
                "keystore",
                "password-file",
                "sign-only",
            ] {
                assert!(text.contains(word), "{shell:?} lacks {word}");
            }
        }
    }
}
