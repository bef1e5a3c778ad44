//! `bitcraps wallet`: keystores (new, import from a backup phrase, list,
//! address), an account's balance and history, transfers and the testnet
//! faucet — with the node's wallet, or with a keystore (`--keystore`).

use std::io::{self, Write};
use std::path::Path;

use consensus::tx::Action;
use game_rules::Chips;
use node::client::ApiClient;
use serde_json::json;
use wallet::{Address, KdfParams, Keypair, Keystore, KeystoreError, Mnemonic};

use crate::api;
use crate::explore::write_account;
use crate::node::{EXIT_EXISTS, EXIT_KEYSTORE, coded};
use crate::sign::{self, ClientArgs, Signer};

/// Arguments of `bitcraps wallet`.
#[derive(clap::Args)]
#[command(mut_args(api::help_of("json", api::JSON_SENT_HELP)))]
pub struct Args {
    #[command(flatten)]
    node: ClientArgs,
    #[command(subcommand)]
    command: WalletCommand,
}

/// What to do with a wallet.
#[derive(clap::Subcommand, Debug, PartialEq)]
enum WalletCommand {
    /// Create a keystore with a new key; its 24-word backup phrase is
    /// printed once.
    New {
        /// The keystore: a name in the wallet directory, or a path.
        name: String,
    },
    /// Restore a key from its 24-word backup phrase into a new keystore
    /// (the phrase is read from --mnemonic-file, standard input or the
    /// terminal, never from the command line).
    Import {
        /// The keystore: a name in the wallet directory, or a path.
        name: String,
        /// Read the phrase from the first line of this file.
        #[arg(long, value_name = "FILE")]
        mnemonic_file: Option<std::path::PathBuf>,
    },
    /// The keystores in the wallet directory and their addresses (no
    /// password needed).
    List,
    /// The wallet's address (--keystore, else the node's wallet).
    Address,
    /// The wallet's balance, nonce, stake and bankroll shares.
    Balance,
    /// Balance, nonce, stake, bankroll shares and recent history.
    Show {
        /// How many history entries, newest first (1 to 100).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100))]
        history: u64,
    },
    /// Send chips to another account.
    Transfer {
        /// The receiving address.
        to: Address,
        /// How much, chips.
        amount: u64,
    },
    /// Mint test chips (only where the genesis enables the faucet).
    Faucet {
        /// How much, chips.
        amount: u64,
    },
}

/// Runs `bitcraps wallet`.
pub fn run(args: Args) -> anyhow::Result<()> {
    api::finish(api::block_on(execute(args)))
}

async fn execute(args: Args) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    let action = match args.command {
        WalletCommand::New { ref name } => return new(&args, name, None, &mut out),
        WalletCommand::Import {
            ref name,
            ref mnemonic_file,
        } => {
            let text = sign::mnemonic_text(mnemonic_file.as_deref())?;
            let mnemonic = Mnemonic::parse(&text)
                .map_err(|e| coded(EXIT_KEYSTORE, format!("{e}; nothing was written")))?;
            return new(&args, name, Some(mnemonic), &mut out);
        }
        WalletCommand::List => return list(&args, &mut out),
        WalletCommand::Address => {
            let address = my_address(&args, &args.node.api.client()?).await?;
            if args.node.json() {
                return api::write_json(&mut out, &json!({ "address": address }));
            }
            writeln!(out, "{address}")?;
            return Ok(());
        }
        WalletCommand::Balance => return show(&args, 1, true, &mut out).await,
        WalletCommand::Show { history } => return show(&args, history, false, &mut out).await,
        WalletCommand::Transfer { to, amount } => Action::Transfer {
            to,
            amount: Chips(amount),
        },
        WalletCommand::Faucet { amount } => Action::Faucet {
            amount: Chips(amount),
        },
    };
    let client = args.node.api.client()?;
    let mut signer = Signer::open(&args.node.sign, &args.node.api, &client).await?;
    signer
        .deliver(&client, &args.node.api, &action, &mut out, args.node.json())
        .await
}

/// The address of the keystore named by `--keystore` (read in clear, no
/// password), else of the node's wallet.
async fn my_address(args: &Args, client: &ApiClient) -> anyhow::Result<Address> {
    args.node
        .my_address(
            client,
            "name a keystore with --keystore FILE|NAME, or create one with `bitcraps wallet new NAME`",
        )
        .await
}

/// `wallet show` and `wallet balance`: the account (and its history).
async fn show(
    args: &Args,
    history: u64,
    balance_only: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let client = args.node.api.client()?;
    let me = my_address(args, &client).await?;
    let limit = usize::try_from(history).unwrap_or(100);
    let mut account = client
        .account(&me, None, limit)
        .await
        .map_err(|e| args.node.api.explain(e))?;
    if balance_only {
        account.history.clear();
        account.next_before = None;
        if args.node.json() {
            return api::write_json(
                out,
                &json!({
                    "address": account.address,
                    "balance": account.balance,
                    "nonce": account.nonce,
                    "stake": account.stake,
                    "bankroll_shares": account.bankroll_shares.to_string(),
                }),
            );
        }
        writeln!(out, "{} chips", account.balance)?;
        return Ok(());
    }
    if args.node.json() {
        return api::write_json(out, &account);
    }
    write_account(out, &account)
}

/// `wallet new` (no phrase: a new key) and `wallet import`: writes the
/// keystore, never over an existing file.
fn new(
    args: &Args,
    name: &str,
    restore: Option<Mnemonic>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let path = args.node.sign.keystore_path(&args.node.api, name)?;
    refuse_existing(&path, "name")?;
    let (mnemonic, shown) = match restore {
        Some(mnemonic) => (mnemonic, false),
        None => (
            Mnemonic::generate().map_err(|e| anyhow::anyhow!("{e}"))?,
            true,
        ),
    };
    let keypair = mnemonic.to_keypair("");
    let password = sign::password(
        args.node.sign.password_file.as_deref(),
        &format!("the new keystore {}", path.display()),
        true,
    )?;
    write_keystore(&path, &keypair, &password)?;
    let address = keypair.address();
    let phrase = shown.then(|| mnemonic.phrase());
    if args.node.json() {
        return api::write_json(
            out,
            &json!({
                "address": address,
                "keystore": path,
                "mnemonic": phrase.as_ref().map(|p| p.as_str()),
            }),
        );
    }
    writeln!(out, "address   {address}")?;
    writeln!(out, "keystore  {}", path.display())?;
    if let Some(phrase) = phrase {
        writeln!(out)?;
        writeln!(
            out,
            "Write down this backup phrase; it is shown only once and restores the key \
             (`bitcraps wallet import`):"
        )?;
        writeln!(out, "  {}", phrase.as_str())?;
    }
    Ok(())
}

/// Refuses (with [`EXIT_EXISTS`]) a file that already exists, before
/// anything is asked or written; `instead` names what to choose instead.
pub(crate) fn refuse_existing(path: &Path, instead: &str) -> anyhow::Result<()> {
    if path.exists() {
        return Err(coded(
            EXIT_EXISTS,
            format!(
                "{} already exists and was left untouched; choose another {instead}",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Encrypts `keypair` under `password` into a new keystore at `path`
/// (its directory made if missing); an existing file is refused with
/// [`EXIT_EXISTS`] and left untouched.
pub(crate) fn write_keystore(path: &Path, keypair: &Keypair, password: &str) -> anyhow::Result<()> {
    let keystore = Keystore::encrypt(keypair, password.as_bytes(), KdfParams::default())
        .map_err(|e| anyhow::anyhow!("cannot encrypt the keystore: {e}"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    keystore.write_new(path).map_err(|e| match e {
        KeystoreError::AlreadyExists { .. } => coded(EXIT_EXISTS, e),
        other => anyhow::Error::new(other),
    })?;
    Ok(())
}

/// One keystore file in the wallet directory.
fn entry(path: &Path) -> serde_json::Value {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match Keystore::read(path) {
        Ok(keystore) => json!({ "name": name, "address": keystore.address(), "file": path }),
        Err(e) => json!({ "name": name, "file": path, "error": e.to_string() }),
    }
}

/// `wallet list`.
fn list(args: &Args, out: &mut impl Write) -> anyhow::Result<()> {
    let dir = args.node.sign.wallet_dir(&args.node.api)?;
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => anyhow::bail!("cannot list {}: {e}", dir.display()),
    };
    files.sort();
    let entries: Vec<_> = files.iter().map(|p| entry(p)).collect();
    if args.node.json() {
        return api::write_json(out, &json!({ "dir": dir, "wallets": entries }));
    }
    if entries.is_empty() {
        writeln!(
            out,
            "no keystores in {}; create one with `bitcraps wallet new NAME`",
            dir.display()
        )?;
        return Ok(());
    }
    for e in &entries {
        let name = e["name"].as_str().unwrap_or_default();
        match (e["address"].as_str(), e["error"].as_str()) {
            (Some(address), _) => writeln!(out, "{name:<20} {address}")?,
            (None, error) => writeln!(
                out,
                "{name:<20} unreadable: {}",
                error.unwrap_or("unknown error")
            )?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[&str]) -> Result<Args, clap::Error> {
        crate::api::parse_args(line)
    }

    #[test]
    fn parses_the_wallet_commands() {
        assert_eq!(
            parse(&["show"]).unwrap().command,
            WalletCommand::Show { history: 10 }
        );
        assert!(parse(&["show", "--history", "0"]).is_err());
        let to = wallet::Keypair::generate().unwrap().address();
        let args = parse(&["transfer", &to.to_string(), "25", "--json"]).unwrap();
        assert_eq!(args.command, WalletCommand::Transfer { to, amount: 25 });
        assert!(args.node.json());
        assert!(parse(&["transfer", "not-an-address", "25"]).is_err());
        assert_eq!(
            parse(&["faucet", "1000"]).unwrap().command,
            WalletCommand::Faucet { amount: 1000 }
        );
        let args = parse(&["balance", "--keystore", "alice", "--wallet-dir", "/w"]).unwrap();
        assert_eq!(args.command, WalletCommand::Balance);
        assert_eq!(args.node.sign.keystore.as_deref(), Some("alice"));
        assert_eq!(
            parse(&["import", "bob", "--mnemonic-file", "/m"])
                .unwrap()
                .command,
            WalletCommand::Import {
                name: "bob".into(),
                mnemonic_file: Some("/m".into())
            }
        );
        // Secrets are never arguments.
        assert!(parse(&["new", "x", "--password", "p"]).is_err());
        assert!(parse(&["import", "x", "--mnemonic", "abandon"]).is_err());
    }

    #[test]
    fn new_refuses_an_existing_keystore_and_import_a_bad_phrase() {
        let dir = tempfile::tempdir().unwrap();
        let wallets = dir.path().to_str().unwrap();
        std::fs::write(dir.path().join("taken.json"), "keep").unwrap();
        let args = parse(&["new", "taken", "--wallet-dir", wallets]).unwrap();
        let error = new(&args, "taken", None, &mut Vec::new()).unwrap_err();
        assert_eq!(
            error.downcast_ref::<crate::node::Coded>().unwrap().code,
            EXIT_EXISTS
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("taken.json")).unwrap(),
            "keep"
        );

        let phrase = dir.path().join("phrase");
        std::fs::write(&phrase, "abandon abandon abandon\n").unwrap();
        let text = sign::mnemonic_text(Some(&phrase)).unwrap();
        assert!(Mnemonic::parse(&text).is_err());
    }

    #[test]
    fn lists_keystores_without_a_password() {
        let dir = tempfile::tempdir().unwrap();
        let keypair = wallet::Keypair::generate().unwrap();
        Keystore::encrypt(&keypair, b"pw", KdfParams::insecure_for_tests())
            .unwrap()
            .write_new(dir.path().join("alice.json"))
            .unwrap();
        std::fs::write(dir.path().join("broken.json"), "{").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let args = parse(&["list", "--wallet-dir", dir.path().to_str().unwrap()]).unwrap();
        let mut out = Vec::new();
        list(&args, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].starts_with("alice") && lines[0].ends_with(&keypair.address().to_string())
        );
        assert!(
            lines[1].starts_with("broken") && lines[1].contains("unreadable"),
            "{text}"
        );
    }
}
