//! `bitcraps tui`: the terminal UI on a running node's local API.

use anyhow::{Context, Result};

use crate::api::ApiArgs;

/// Arguments of `bitcraps tui`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    api: ApiArgs,
}

/// Runs the UI until the user quits.
pub fn run(args: Args) -> Result<()> {
    // Without a home the UI still reads; betting then says what is missing.
    let cookie = args.api.cookie_file();
    ::tui::run(::tui::Options {
        api: args.api.api.clone(),
        cookie,
    })
    .with_context(|| format!("the terminal UI on {} failed", args.api.api))
}
