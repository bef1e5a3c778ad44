//! `bitcraps tui`: the terminal UI on a running node's local API.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// Arguments of `bitcraps tui`.
#[derive(clap::Args)]
pub struct Args {
    /// The node's API.
    #[arg(long, env = "BITCRAPS_API", default_value = "http://127.0.0.1:7380")]
    api: String,
    /// The node's API cookie file (its auth token), needed to bet and send
    /// chips [default: api.cookie in the node's home].
    #[arg(long, env = "BITCRAPS_COOKIE", value_name = "FILE")]
    cookie: Option<PathBuf>,
    /// The node's home directory, where its cookie file is by default.
    #[arg(long, env = "BITCRAPS_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
}

/// Runs the UI until the user quits.
pub fn run(args: Args) -> Result<()> {
    let cookie = match (args.cookie, args.home) {
        (Some(cookie), _) => Some(cookie),
        (None, Some(home)) => Some(home.join("api.cookie")),
        // Without a home the UI still reads; betting then says what is missing.
        (None, None) => ::node::config::default_home()
            .ok()
            .map(|home| home.join("api.cookie")),
    };
    ::tui::run(::tui::Options {
        api: args.api.clone(),
        cookie,
    })
    .with_context(|| format!("the terminal UI on {} failed", args.api))
}
