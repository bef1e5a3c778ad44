//! What the commands that talk to a running node share: where its API and
//! cookie file are (`--api`, `--cookie`, `--home`), errors that say what to
//! do, and output to a locked stdout that treats a closed pipe as success.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use node::client::{ApiClient, ClientError};
use serde::Serialize;

use crate::node::{Coded, EXIT_PENDING, EXIT_REFUSED, EXIT_UNREACHABLE, coded};

/// Where the node's API is and how to authenticate to it. Global, so it may
/// come before or after a subcommand.
#[derive(clap::Args, Clone, Debug)]
pub struct ApiArgs {
    /// The node's API.
    #[arg(
        long,
        global = true,
        env = "BITCRAPS_API",
        default_value = "http://127.0.0.1:7380"
    )]
    pub api: String,
    /// The node's API cookie file (its auth token), needed to bet and send
    /// chips [default: api.cookie in the node's home].
    #[arg(long, global = true, env = "BITCRAPS_COOKIE", value_name = "FILE")]
    pub cookie: Option<PathBuf>,
    /// The node's home directory, where its cookie file is by default.
    #[arg(long, global = true, env = "BITCRAPS_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
}

impl ApiArgs {
    /// The cookie file: `--cookie`, else `api.cookie` in `--home`, else in
    /// the default home (none if there is no default home: reads still
    /// work, and a wallet call then says what is missing).
    pub fn cookie_file(&self) -> Option<PathBuf> {
        match (&self.cookie, &self.home) {
            (Some(cookie), _) => Some(cookie.clone()),
            (None, Some(home)) => Some(home.join("api.cookie")),
            (None, None) => ::node::config::default_home()
                .ok()
                .map(|home| home.join("api.cookie")),
        }
    }

    /// A client of the API, with the cookie file for the wallet routes.
    pub fn client(&self) -> anyhow::Result<ApiClient> {
        let client = ApiClient::new(&self.api)
            .map_err(|e| anyhow::anyhow!("{e} (set it with --api or BITCRAPS_API)"))?
            .with_timeout(Duration::from_secs(10));
        Ok(match self.cookie_file() {
            Some(cookie) => client.with_cookie(cookie),
            None => client,
        })
    }

    /// The address of the node's wallet; without one, an error that ends
    /// with `what_to_do`.
    pub async fn node_wallet(
        &self,
        client: &ApiClient,
        what_to_do: &str,
    ) -> anyhow::Result<wallet::Address> {
        let status = client.status().await.map_err(|e| self.explain(e))?;
        status.wallet.ok_or_else(|| {
            anyhow::anyhow!(
                "the node at {} has no wallet loaded; {what_to_do}",
                self.api
            )
        })
    }

    /// A node that does not answer, with what to do and its exit code.
    fn unreachable(&self, what: String) -> anyhow::Error {
        anyhow::Error::new(Coded {
            code: EXIT_UNREACHABLE,
            message: format!(
                "{what}: is the node running? start it with `bitcraps node start` or \
                 `bitcraps testnet up`, or point --api at it"
            ),
        })
    }

    /// Turns a client error into one that says what to do.
    pub fn explain(&self, error: ClientError) -> anyhow::Error {
        match error {
            ClientError::Unreachable { addr, source } => {
                self.unreachable(format!("cannot reach the node at {addr} ({source})"))
            }
            ClientError::Timeout(limit) => self.unreachable(format!(
                "the node at {} did not answer within {} ms",
                self.api,
                limit.as_millis()
            )),
            ClientError::NoCookie | ClientError::Cookie { .. } => anyhow::anyhow!(
                "{error}; give the node's cookie file with --cookie FILE or its home with \
                 --home DIR (`bitcraps testnet up` prints both)"
            ),
            ClientError::StillPending { .. } => coded(EXIT_PENDING, error),
            ClientError::Dropped(_) => coded(EXIT_REFUSED, error),
            ClientError::Api { ref code, .. } if code == "no_wallet" => coded(
                EXIT_REFUSED,
                format!("{error}; or sign with your own key: --keystore FILE|NAME"),
            ),
            ClientError::Api { status, .. }
                if status.is_client_error() && status.as_u16() != 429 =>
            {
                coded(EXIT_REFUSED, error)
            }
            other => anyhow::Error::new(other),
        }
    }
}

/// `--json`'s help in the commands that show things and send transactions.
pub const JSON_SENT_HELP: &str =
    "Print JSON (one object per transaction sent, one per line, for the commands that send)";

/// `--json`: print JSON instead of text. Global, so it may come before or
/// after a subcommand. A command whose JSON needs more words says so with
/// `#[command(mut_args(api::help_of("json", …)))]`.
#[derive(clap::Args, Clone, Copy, Debug, Default, PartialEq)]
pub struct JsonArg {
    /// Print JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `--genesis`: the chain's genesis file, the trust anchor for what a
/// command checks offline. Global, so it may come anywhere.
#[derive(clap::Args, Clone, Debug, Default, PartialEq)]
pub struct GenesisArg {
    /// The chain's genesis file: the trust anchor for the chain id, the
    /// minimum fee and the beacon's group key [default: the genesis of the
    /// node in --home].
    #[arg(long, global = true, env = "BITCRAPS_GENESIS", value_name = "FILE")]
    pub genesis: Option<PathBuf>,
}

impl GenesisArg {
    /// The genesis file: `--genesis`, else the one the configuration of
    /// the node in `--home` names, if that exists.
    pub fn file(&self, api: &ApiArgs) -> Option<PathBuf> {
        if let Some(file) = &self.genesis {
            return Some(file.clone());
        }
        let args = ::node::config::ConfigArgs {
            home: api.home.clone(),
            ..Default::default()
        };
        let loaded = ::node::config::NodeConfig::load(&args).ok()?;
        let file = loaded.config.genesis_file;
        file.exists().then_some(file)
    }
}

/// Sets the help of a shared flag (`"json"`, `"genesis"`) where a command
/// says more about it: `#[command(mut_args(api::help_of("json", …)))]`.
/// In place: `Command::mut_arg` would move the flag last, and with it its
/// place in the shell completions.
pub fn help_of(id: &'static str, help: &'static str) -> impl FnMut(clap::Arg) -> clap::Arg {
    move |arg| {
        if arg.get_id().as_str() == id {
            arg.help(help)
        } else {
            arg
        }
    }
}

/// Runs `work` on a single-threaded async runtime.
pub fn block_on<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(work)
}

/// Whether `error` is (caused by) writing to a closed pipe, e.g.
/// `bitcraps tables | head -1`.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// A command's result with a closed stdout counted as success: the reader
/// has all it wanted.
pub fn finish(result: anyhow::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(error) if is_broken_pipe(&error) => Ok(()),
        other => other,
    }
}

/// Writes `value` as pretty JSON and a newline.
pub fn write_json(out: &mut impl Write, value: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// One line for a serde enum value (an action, a ledger event, a receipt
/// status): `craps_bet table=2 kind=pass amount=5`. Values that are not
/// single-key objects are written as compact JSON.
pub fn one_line(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(value) => line_of(&value),
        Err(e) => format!("<cannot show: {e}>"),
    }
}

fn line_of(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::String(s) => s.clone(),
        Value::Object(map) if map.len() == 1 => {
            let (tag, inner) = map.iter().next().expect("one entry");
            match inner {
                Value::Object(fields) => {
                    let mut line = tag.clone();
                    for (name, field) in fields {
                        line.push_str(&format!(" {name}={}", scalar(field)));
                    }
                    line
                }
                Value::Null => tag.clone(),
                other => format!("{tag} {}", scalar(other)),
            }
        }
        other => other.to_string(),
    }
}

fn scalar(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(map) if map.len() == 1 => format!("({})", line_of(value)),
        other => other.to_string(),
    }
}

/// The first 8 and last 4 characters of a long hex string.
pub fn short(text: &str) -> String {
    if text.len() <= 16 || !text.is_ascii() {
        text.to_owned()
    } else {
        format!("{}…{}", &text[..8], &text[text.len() - 4..])
    }
}

/// Parses `line` as a subcommand's arguments `A`, for the subcommands'
/// tests.
#[cfg(test)]
pub(crate) fn parse_args<A: clap::Args + clap::FromArgMatches>(
    line: &[&str],
) -> Result<A, clap::Error> {
    let command = A::augment_args(clap::Command::new("bitcraps"));
    let matches =
        command.try_get_matches_from(std::iter::once("bitcraps").chain(line.iter().copied()))?;
    A::from_arg_matches(&matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_flattens_tagged_enums() {
        let v = serde_json::json!({"craps_bet": {"table": 2, "kind": "pass", "amount": 5}});
        assert_eq!(line_of(&v), "craps_bet amount=5 kind=pass table=2");
        assert_eq!(line_of(&serde_json::json!("applied")), "applied");
        let nested =
            serde_json::json!({"rejected": {"reason": {"insufficient_balance": {"needed": 3}}}});
        assert_eq!(
            line_of(&nested),
            "rejected reason=(insufficient_balance needed=3)"
        );
    }

    #[test]
    fn broken_pipe_counts_as_success() {
        let pipe = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(finish(Err(pipe.context("writing the tables"))).is_ok());
        let other = anyhow::Error::new(io::Error::from(io::ErrorKind::NotFound));
        assert!(finish(Err(other)).is_err());
    }

    #[test]
    fn cookie_comes_from_the_flag_then_the_home() {
        let mut args = ApiArgs {
            api: "http://127.0.0.1:1".into(),
            cookie: None,
            home: Some("/h".into()),
        };
        assert_eq!(args.cookie_file(), Some(PathBuf::from("/h/api.cookie")));
        args.cookie = Some("/c".into());
        assert_eq!(args.cookie_file(), Some(PathBuf::from("/c")));
    }

    #[test]
    fn waits_that_end_without_a_block_have_their_exit_codes() {
        let args = ApiArgs {
            api: "http://127.0.0.1:1".into(),
            cookie: None,
            home: None,
        };
        let hash = consensus::hash::Hash::new([1; 32]);
        let pending = args.explain(ClientError::StillPending {
            hash,
            waited: Duration::from_secs(60),
        });
        assert_eq!(pending.downcast_ref::<Coded>().unwrap().code, EXIT_PENDING);
        assert!(format!("{pending:#}").contains("explore tx"), "{pending:#}");
        let dropped = args.explain(ClientError::Dropped(hash));
        assert_eq!(dropped.downcast_ref::<Coded>().unwrap().code, EXIT_REFUSED);
    }

    #[test]
    fn unreachable_says_how_to_start_a_node() {
        let args = ApiArgs {
            api: "http://127.0.0.1:1".into(),
            cookie: None,
            home: None,
        };
        let error = args.explain(ClientError::Unreachable {
            addr: "127.0.0.1:1".into(),
            source: io::Error::from(io::ErrorKind::ConnectionRefused),
        });
        let text = format!("{error:#}");
        assert!(text.contains("is the node running?"), "{text}");
        assert!(text.contains("bitcraps testnet up"), "{text}");
        assert_eq!(
            error.downcast_ref::<Coded>().unwrap().code,
            EXIT_UNREACHABLE
        );
    }
}
