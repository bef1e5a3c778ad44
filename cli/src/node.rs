//! `bitcraps node init | start | status` and `bitcraps config show`: thin
//! shells over `node::config` and `node::daemon`.
//!
//! Exit codes: 0 done; 1 any other failure; 2 bad command line (clap);
//! [`EXIT_CONFIG`] the configuration is invalid; [`EXIT_UNREACHABLE`] the
//! node's API did not answer; [`EXIT_EXISTS`] `node init` (or `wallet
//! new`) found an existing file; [`EXIT_NOT_VERIFIED`] a round's outcome
//! did not verify; [`EXIT_REFUSED`] the node refused the request;
//! [`EXIT_KEYSTORE`] a keystore could not be opened (wrong password,
//! corrupt file, no password given); [`EXIT_PENDING`] `--wait` gave up
//! while the transaction was still pending.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use clap::{Args, Subcommand};
use node::client::ApiClient;
use node::config::{ConfigArgs, LoadedConfig, NetworkIdentity, NodeConfig, WALLET_PASSWORD_ENV};
use node::daemon;
use node::network::NodeKey;
use serde_json::json;
use wallet::{KdfParams, Keystore, Mnemonic};

/// The configuration is invalid (unknown key, bad value, unreadable file).
pub const EXIT_CONFIG: u8 = 3;
/// `node status`: the node's API did not answer.
pub const EXIT_UNREACHABLE: u8 = 4;
/// `node init`: the home already has a configuration (`wallet new`: the
/// keystore exists).
pub const EXIT_EXISTS: u8 = 5;
/// `explore round`: the round's randomness or outcome did not verify.
pub const EXIT_NOT_VERIFIED: u8 = 6;
/// The node answered with an error: bad input, not found, or a
/// transaction it refused (retrying the same request will not help).
pub const EXIT_REFUSED: u8 = 7;
/// A keystore could not be opened: wrong password, corrupt or missing
/// file, no password given.
pub const EXIT_KEYSTORE: u8 = 8;
/// `--wait`: the transaction was still pending when the wait timed out (it
/// may yet be included).
pub const EXIT_PENDING: u8 = 9;

/// The keystore `node init --wallet` writes, relative to the home.
const WALLET_FILE: &str = "wallet.json";

/// A failure with its own exit code.
#[derive(Debug)]
pub struct Coded {
    /// The process exit code.
    pub code: u8,
    /// What went wrong and what to do.
    pub message: String,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {}

/// An error with its exit code.
pub(crate) fn coded(code: u8, message: impl fmt::Display) -> anyhow::Error {
    anyhow::Error::new(Coded {
        code,
        message: message.to_string(),
    })
}

fn load(args: &ConfigArgs) -> anyhow::Result<LoadedConfig> {
    NodeConfig::load(args).map_err(|e| coded(EXIT_CONFIG, e))
}

/// `bitcraps node …`.
#[derive(Args)]
pub struct NodeArgs {
    #[command(subcommand)]
    command: NodeCommand,
}

#[derive(Subcommand)]
enum NodeCommand {
    /// Create the home directory: a default config.toml, the libp2p node
    /// key, optionally the chain's genesis and a new wallet keystore.
    Init(InitArgs),
    /// Run the node (follow the chain, serve the local API) until Ctrl-C
    /// or SIGTERM.
    Start(StartArgs),
    /// Ask a running node's API for its height, peers and sync progress.
    Status(StatusArgs),
}

#[derive(Args)]
struct InitArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Copy this genesis file (checked) into the home as genesis.json.
    #[arg(long, value_name = "FILE")]
    genesis: Option<PathBuf>,
    /// Also create a new wallet keystore (wallet.json), encrypted with
    /// BITCRAPS_WALLET_PASSWORD (or the --wallet-password-file); its
    /// 24-word backup is printed once.
    #[arg(long)]
    wallet: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct StartArgs {
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Args)]
struct StatusArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// The API to ask [default: http://<api.listen>].
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `bitcraps config …`.
#[derive(Args)]
pub struct ConfigCmd {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration: defaults, then config.toml, then
    /// BITCRAPS_* variables, then flags.
    Show(ShowArgs),
}

#[derive(Args)]
struct ShowArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Print JSON instead of TOML.
    #[arg(long)]
    json: bool,
}

/// Runs `bitcraps node …`.
pub fn run(args: NodeArgs) -> anyhow::Result<()> {
    match args.command {
        NodeCommand::Init(args) => init(&args),
        NodeCommand::Start(args) => start(&args),
        NodeCommand::Status(args) => status(&args),
    }
}

/// Runs `bitcraps config …`.
pub fn run_config(args: ConfigCmd) -> anyhow::Result<()> {
    match args.command {
        ConfigCommand::Show(args) => {
            let loaded = load(&args.config)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&loaded.config)?);
            } else {
                let source = if loaded.file_found {
                    format!("# from {} and overrides", loaded.file.display())
                } else {
                    format!(
                        "# defaults and overrides ({} does not exist)",
                        loaded.file.display()
                    )
                };
                println!("{source}\n{}", loaded.config.to_toml());
            }
            Ok(())
        }
    }
}

fn init(args: &InitArgs) -> anyhow::Result<()> {
    let home = match &args.config.home {
        Some(home) => home.clone(),
        None => node::config::default_home().map_err(|e| coded(EXIT_CONFIG, e))?,
    };
    let file = args
        .config
        .config
        .clone()
        .unwrap_or_else(|| home.join(node::config::CONFIG_FILE_NAME));
    if file.exists() {
        return Err(coded(
            EXIT_EXISTS,
            format!(
                "{} already exists: this home is initialized; edit it, or choose another --home",
                file.display()
            ),
        ));
    }
    let mut config = NodeConfig::default();
    config.apply(&args.config);
    if args.wallet && config.wallet.keystore.is_none() {
        // Where the wallet made below goes, known before validation so that
        // settings needing a keystore (`network.identity = "wallet"`) pass.
        config.wallet.keystore = Some(PathBuf::from(WALLET_FILE));
    }
    config.validate().map_err(|e| coded(EXIT_CONFIG, e))?;
    std::fs::create_dir_all(&home)
        .with_context(|| format!("cannot create the home directory {}", home.display()))?;

    let mut wallet = None;
    let mut wallet_identity = None;
    if args.wallet {
        let password = wallet_password(&home, &config)?;
        let mnemonic = Mnemonic::generate().map_err(|e| anyhow!("{e}"))?;
        let keypair = mnemonic.to_keypair("");
        wallet_identity = Some(NodeKey::from_secret_bytes(&mut keypair.secret_bytes()).peer_id());
        let keystore = Keystore::encrypt(&keypair, password.as_bytes(), KdfParams::default())
            .map_err(|e| anyhow!("cannot encrypt the wallet: {e}"))?;
        let path = config
            .wallet
            .keystore
            .clone()
            .unwrap_or_else(|| PathBuf::from(WALLET_FILE));
        keystore
            .write_new(home.join(&path))
            .map_err(|e| anyhow!("cannot write the wallet keystore {}: {e}", path.display()))?;
        config.wallet.keystore = Some(path.clone());
        wallet = Some((keypair.address(), home.join(path), mnemonic.phrase()));
    }

    let genesis = match &args.genesis {
        None => None,
        Some(source) => {
            daemon::read_genesis(source).map_err(|e| coded(EXIT_CONFIG, e))?;
            let target = home.join(&config.genesis_file);
            std::fs::copy(source, &target).with_context(|| {
                format!("cannot copy {} to {}", source.display(), target.display())
            })?;
            Some(target)
        }
    };
    // The peer id the node will have: its node key's, or its wallet's. A
    // wallet keystore made elsewhere is locked here, so its peer id is
    // known only once the node starts and unlocks it.
    let peer_id = match config.network.identity {
        NetworkIdentity::NodeKey => {
            Some(NodeKey::load_or_generate(&home.join(&config.network.node_key_file))?.peer_id())
        }
        NetworkIdentity::Wallet => wallet_identity,
    };
    config.write_new(&file).map_err(|e| coded(EXIT_EXISTS, e))?;

    if args.json {
        let wallet = wallet.as_ref().map(|(address, path, phrase)| {
            json!({"address": address, "keystore": path, "mnemonic": phrase.as_str()})
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "home": home,
                "config": file,
                "peer_id": peer_id.map(|id| id.to_string()),
                "genesis": genesis,
                "wallet": wallet,
            }))?
        );
    } else {
        println!("initialized {}", home.display());
        println!("  config   {}", file.display());
        match peer_id {
            Some(id) => println!("  peer id  {id}"),
            None => println!("  peer id  the wallet keystore's, shown when the node starts"),
        }
        match &genesis {
            Some(path) => println!("  genesis  {}", path.display()),
            None => println!(
                "  genesis  none yet: copy the chain's genesis.json to {}",
                home.join(&config.genesis_file).display()
            ),
        }
        if let Some((address, path, phrase)) = &wallet {
            println!("  wallet   {address} ({})", path.display());
            println!();
            println!("Write down this backup phrase; it is shown only once:");
            println!("  {}", phrase.as_str());
        }
        println!();
        println!(
            "start the node with: bitcraps node start --home {}",
            home.display()
        );
    }
    Ok(())
}

fn wallet_password(home: &Path, config: &NodeConfig) -> anyhow::Result<zeroize::Zeroizing<String>> {
    if let Some(file) = &config.wallet.password_file {
        let path = home.join(file);
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the password file {}", path.display()))?,
        );
        return Ok(zeroize::Zeroizing::new(
            text.lines().next().unwrap_or("").to_string(),
        ));
    }
    match std::env::var(WALLET_PASSWORD_ENV) {
        Ok(password) if !password.is_empty() => Ok(zeroize::Zeroizing::new(password)),
        _ => Err(coded(
            EXIT_CONFIG,
            format!(
                "a new wallet needs a password: set {WALLET_PASSWORD_ENV} or --wallet-password-file"
            ),
        )),
    }
}

fn start(args: &StartArgs) -> anyhow::Result<()> {
    let loaded = load(&args.config)?;
    daemon::init_logging(&loaded.config.log)?;
    if !loaded.file_found {
        tracing_note(&loaded.file);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(daemon::run(loaded.config))?;
    Ok(())
}

fn tracing_note(file: &Path) {
    eprintln!(
        "note: {} does not exist; running with defaults (bitcraps node init writes one)",
        file.display()
    );
}

fn status(args: &StatusArgs) -> anyhow::Result<()> {
    let loaded = load(&args.config)?;
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| format!("http://{}", loaded.config.api.listen));
    let client = ApiClient::new(&url)
        .map_err(|e| coded(EXIT_CONFIG, e))?
        .with_timeout(Duration::from_secs(5));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let status = runtime.block_on(client.status()).map_err(|e| {
        coded(
            EXIT_UNREACHABLE,
            format!("{e} (is the node running at {url}?)"),
        )
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    let node = &status.node;
    println!("node      {url} (version {})", status.version);
    println!("chain     {}", node.chain_id);
    match node.height {
        Some(height) => println!(
            "height    {height} ({})",
            node.block_hash.map(|h| h.to_string()).unwrap_or_default()
        ),
        None => println!("height    none (at genesis)"),
    }
    println!("epoch     {}", node.epoch);
    println!("peers     {}", node.peers);
    println!("mempool   {} transactions", node.mempool_transactions);
    match &node.sync {
        Some(sync) => println!(
            "syncing   {} / {} at {:.1} blocks/s, eta {}",
            sync.height,
            sync.target,
            sync.blocks_per_second,
            sync.eta_seconds
                .map_or_else(|| "unknown".to_string(), |s| format!("{s} s"))
        ),
        None => println!("synced    yes"),
    }
    if let Some(wallet) = status.wallet {
        println!("wallet    {wallet}");
    }
    Ok(())
}
