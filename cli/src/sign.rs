//! Who signs what a command sends: the node's wallet (through its
//! `/v1/wallet/*` routes, behind the cookie), or a local keystore
//! (`--keystore`), signed here and submitted through the open `POST
//! /v1/txs`, so a user acts without the node holding their key.
//!
//! Secrets never come from the command line: a keystore's password is read
//! from `--password-file`, else `BITCRAPS_WALLET_PASSWORD`, else asked for
//! on the terminal without echo; a backup phrase from `--mnemonic-file`,
//! else standard input, else the terminal.
//!
//! With `--keystore`, what signing needs comes from the node unless given:
//! the fee from the chain's `min_fee` in `/v1/status` (or the genesis's,
//! when one is known), the nonce from the account's `pending_nonce` (after
//! its transactions already waiting in the node's mempool), so commands
//! may follow each other without `--nonce`.
//!
//! With `--wait`, each transaction sent is followed until a finalized block
//! includes it ([`ApiClient::wait_included`]) and its receipt is printed;
//! a transaction the ledger rejected fails with exit code 7, one still
//! pending at `--wait-timeout` with exit code 9.

use std::io::{self, IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use consensus::genesis::Genesis;
use consensus::hash::TxHash;
use consensus::receipt::TxStatus;
use consensus::tx::{Action, SignedTransaction, Transaction};
use game_rules::Chips;
use node::chain::DEFAULT_EXPIRY_BLOCKS;
use node::client::{ApiClient, ClientError, TxReply, TxState, WalletReply};
use node::config::WALLET_PASSWORD_ENV;
use wallet::{Address, ChainId, Keypair, Keystore};
use zeroize::Zeroizing;

use crate::api::{ApiArgs, GenesisArg, JsonArg, one_line, short};
use crate::node::{EXIT_CONFIG, EXIT_KEYSTORE, EXIT_REFUSED, coded};

/// The most bytes read from a password or backup-phrase file (or stdin).
const MAX_SECRET_BYTES: u64 = 4096;

/// How a command signs: global, so the flags may come anywhere.
#[derive(clap::Args, Clone, Debug, Default, PartialEq)]
#[command(next_help_heading = "Signing (default: the node's wallet)")]
pub struct SignArgs {
    /// Sign with this keystore instead of the node's wallet and submit
    /// through the open /v1/txs: a file, or a name in the wallet directory
    /// (`alice` is WALLET_DIR/alice.json).
    #[arg(
        long,
        global = true,
        env = "BITCRAPS_KEYSTORE",
        value_name = "FILE|NAME"
    )]
    pub keystore: Option<String>,
    /// The keystore's password, from the first line of this file [default:
    /// BITCRAPS_WALLET_PASSWORD, else a prompt on the terminal].
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// The wallet directory, where keystores are named [default:
    /// HOME/wallets].
    #[arg(long, global = true, env = "BITCRAPS_WALLET_DIR", value_name = "DIR")]
    pub wallet_dir: Option<PathBuf>,
    /// The fee each transaction pays, chips [default: the chain's minimum:
    /// the node wallet's own default, or with --keystore the genesis's
    /// min_fee if a genesis is known, else the min_fee the node reports].
    #[arg(long, global = true, value_name = "CHIPS")]
    pub fee: Option<u64>,
    /// With --keystore: the first transaction's nonce [default: the
    /// account's pending nonce on the node: after its transactions still
    /// waiting in the node's mempool].
    #[arg(long, global = true, value_name = "N")]
    pub nonce: Option<u64>,
    /// With --keystore: print each signed transaction (hex, one per line)
    /// instead of submitting it; `bitcraps tx send` submits it later.
    #[arg(long, global = true)]
    pub sign_only: bool,
    /// Wait until a finalized block includes each transaction sent, and
    /// print its receipt; exit code 7 if the ledger rejected it, 9 if it is
    /// still pending after --wait-timeout.
    #[arg(long, global = true)]
    pub wait: bool,
    /// With --wait: how long to wait for each transaction, seconds.
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub wait_timeout: u64,
    /// `--genesis`, which the fee and the chain id are checked against.
    #[command(flatten)]
    pub genesis: GenesisArg,
}

/// What the commands that read through a node and send transactions take
/// (`tables`, `play`, `wallet`, `tx`, `bankroll`, `validator`): where the
/// node is, `--json`, and who signs.
#[derive(clap::Args, Clone, Debug)]
pub struct ClientArgs {
    /// The node's API and its cookie.
    #[command(flatten)]
    pub api: ApiArgs,
    /// `--json`.
    #[command(flatten)]
    pub output: JsonArg,
    /// Who signs, and whether to wait.
    #[command(flatten)]
    pub sign: SignArgs,
}

impl ClientArgs {
    /// Whether to print JSON.
    pub fn json(&self) -> bool {
        self.output.json
    }

    /// The signing wallet's address: the keystore named by `--keystore`
    /// (read in clear, no password), else the node's wallet; without
    /// either, an error that ends with `what_to_do`.
    pub async fn my_address(
        &self,
        client: &ApiClient,
        what_to_do: &str,
    ) -> anyhow::Result<Address> {
        match &self.sign.keystore {
            Some(name) => {
                let path = self.sign.keystore_path(&self.api, name)?;
                Keystore::read(&path)
                    .map(|k| k.address())
                    .map_err(|e| coded(EXIT_KEYSTORE, e))
            }
            None => self.api.node_wallet(client, what_to_do).await,
        }
    }
}

impl SignArgs {
    /// The wallet directory: `--wallet-dir`, else `wallets` in the node's
    /// home.
    pub fn wallet_dir(&self, api: &ApiArgs) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.wallet_dir {
            return Ok(dir.clone());
        }
        let home = match &api.home {
            Some(home) => home.clone(),
            None => node::config::default_home().map_err(|e| {
                coded(
                    EXIT_CONFIG,
                    format!("{e}; give the wallet directory with --wallet-dir"),
                )
            })?,
        };
        Ok(home.join("wallets"))
    }

    /// The keystore file `name` means: a path if it names one (it has a
    /// `/` or ends in `.json`), else `name.json` in the wallet directory.
    pub fn keystore_path(&self, api: &ApiArgs, name: &str) -> anyhow::Result<PathBuf> {
        if name.contains(std::path::MAIN_SEPARATOR) || name.ends_with(".json") {
            return Ok(PathBuf::from(name));
        }
        if name.is_empty() || name.starts_with('.') {
            anyhow::bail!("{name:?} is not a wallet name; use e.g. alice, or a path to a keystore");
        }
        Ok(self.wallet_dir(api)?.join(format!("{name}.json")))
    }

    /// How long `--wait` waits for each transaction; `None` without
    /// `--wait`.
    pub fn wait(&self) -> Option<Duration> {
        self.wait.then(|| Duration::from_secs(self.wait_timeout))
    }
}

/// Reads a genesis file (bounded) and checks it.
pub fn read_genesis(file: &Path) -> anyhow::Result<Genesis> {
    node::daemon::read_genesis(file).map_err(|e| coded(EXIT_CONFIG, e))
}

/// Reads the first line of a secret file, at most [`MAX_SECRET_BYTES`].
fn read_secret_file(file: &Path, what: &str) -> anyhow::Result<Zeroizing<String>> {
    let mut text = Zeroizing::new(String::new());
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_SECRET_BYTES).read_to_string(&mut text))
        .map_err(|e| {
            coded(
                EXIT_KEYSTORE,
                format!("cannot read the {what} file {}: {e}", file.display()),
            )
        })?;
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or("").trim_end().to_owned(),
    ))
}

/// Asks for a secret on the terminal without echoing it.
fn prompt_hidden(label: &str) -> anyhow::Result<Zeroizing<String>> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    let mut err = io::stderr().lock();
    write!(err, "{label}: ")?;
    err.flush()?;
    crossterm::terminal::enable_raw_mode().context("cannot read from the terminal")?;
    let read = (|| -> anyhow::Result<Zeroizing<String>> {
        let mut text = Zeroizing::new(String::new());
        loop {
            let Event::Key(key) = event::read()? else {
                continue;
            };
            if key.kind == KeyEventKind::Release {
                continue;
            }
            match key.code {
                KeyCode::Enter => return Ok(text),
                KeyCode::Char('c' | 'd') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    anyhow::bail!("cancelled")
                }
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) => text.push(c),
                _ => {}
            }
        }
    })();
    let _ = crossterm::terminal::disable_raw_mode();
    writeln!(err)?;
    read
}

/// A keystore's password: `file`, else `BITCRAPS_WALLET_PASSWORD`, else a
/// prompt (twice when `confirm`, for a new keystore). Never empty.
pub fn password(
    file: Option<&Path>,
    label: &str,
    confirm: bool,
) -> anyhow::Result<Zeroizing<String>> {
    let password = if let Some(file) = file {
        read_secret_file(file, "password")?
    } else if let Some(env) = std::env::var_os(WALLET_PASSWORD_ENV).filter(|v| !v.is_empty()) {
        Zeroizing::new(
            env.into_string()
                .map_err(|_| coded(EXIT_KEYSTORE, format!("{WALLET_PASSWORD_ENV} is not UTF-8")))?,
        )
    } else if io::stdin().is_terminal() {
        let first = prompt_hidden(&format!("password for {label}"))?;
        if confirm && *prompt_hidden("again, to confirm")? != *first {
            return Err(coded(
                EXIT_KEYSTORE,
                "the two passwords differ; nothing was written",
            ));
        }
        first
    } else {
        return Err(coded(
            EXIT_KEYSTORE,
            format!(
                "{label} needs a password: give --password-file FILE, set \
                 {WALLET_PASSWORD_ENV}, or run in a terminal to be asked"
            ),
        ));
    };
    if password.is_empty() {
        return Err(coded(
            EXIT_KEYSTORE,
            format!("the password for {label} is empty; a keystore needs one"),
        ));
    }
    Ok(password)
}

/// A backup phrase: the first line of `file`, else standard input when it
/// is not a terminal, else a prompt.
pub fn mnemonic_text(file: Option<&Path>) -> anyhow::Result<Zeroizing<String>> {
    if let Some(file) = file {
        return read_secret_file(file, "backup phrase");
    }
    if io::stdin().is_terminal() {
        return prompt_hidden("backup phrase (24 words)");
    }
    let mut text = Zeroizing::new(String::new());
    io::stdin()
        .lock()
        .take(MAX_SECRET_BYTES)
        .read_to_string(&mut text)
        .context("cannot read the backup phrase from standard input")?;
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or("").trim().to_owned(),
    ))
}

/// Opens the keystore `name` with its password: nothing else is done, and
/// the file is never changed, whatever goes wrong.
pub fn open_keystore(
    sign: &SignArgs,
    api: &ApiArgs,
    name: &str,
) -> anyhow::Result<(PathBuf, Keypair)> {
    let path = sign.keystore_path(api, name)?;
    let keystore = Keystore::read(&path).map_err(|e| coded(EXIT_KEYSTORE, e))?;
    let password = password(
        sign.password_file.as_deref(),
        &format!("{} ({})", path.display(), keystore.address()),
        false,
    )?;
    let keypair = keystore
        .decrypt(password.as_bytes())
        .map_err(|e| coded(EXIT_KEYSTORE, format!("{}: {e}", path.display())))?;
    Ok((path, keypair))
}

/// Who signs, and whether to wait for what is sent.
pub struct Signer {
    by: SignedBy,
    /// `--wait`: how long to wait for each transaction.
    wait: Option<Duration>,
}

/// Who signs: the node's wallet, or a key from a keystore.
enum SignedBy {
    /// The node's wallet, through its wallet routes.
    Node {
        /// The fee to offer, if not the node's default.
        fee: Option<u64>,
    },
    /// A local key, signed here and sent through `POST /v1/txs`.
    Key(Box<LocalKey>),
}

/// A local key and what signing with it needs.
struct LocalKey {
    keypair: Keypair,
    chain_id: ChainId,
    nonce: u64,
    fee: Chips,
    expiry_height: u64,
    sign_only: bool,
}

impl Signer {
    /// The signer `sign` asks for. With `--keystore` this opens it (the
    /// password first, before the node is contacted), then reads the
    /// node's chain and height, the account's pending nonce unless
    /// `--nonce` is given, and the fee unless `--fee` is: the genesis's
    /// `min_fee` when a genesis is known (checked to be the node's chain),
    /// else the `min_fee` the node reports.
    pub async fn open(
        sign: &SignArgs,
        api: &ApiArgs,
        client: &ApiClient,
    ) -> anyhow::Result<Signer> {
        if sign.sign_only && sign.wait {
            anyhow::bail!(
                "--sign-only sends nothing, so there is nothing to --wait for; submit with \
                 `bitcraps tx send --wait`"
            );
        }
        let wait = sign.wait();
        let Some(name) = &sign.keystore else {
            if sign.sign_only || sign.nonce.is_some() {
                anyhow::bail!(
                    "--sign-only and --nonce sign locally: give the key with --keystore FILE|NAME"
                );
            }
            return Ok(Signer {
                by: SignedBy::Node { fee: sign.fee },
                wait,
            });
        };
        let (_, keypair) = open_keystore(sign, api, name)?;
        let status = client.status().await.map_err(|e| api.explain(e))?;
        let fee = match (sign.fee, sign.genesis.file(api)) {
            (Some(fee), _) => Chips(fee),
            (None, Some(file)) => {
                let genesis = read_genesis(&file)?;
                if genesis.chain_id() != status.node.chain_id {
                    return Err(coded(
                        EXIT_CONFIG,
                        format!(
                            "the node at {} follows chain {}, but the genesis {} is for chain \
                             {}; point --api and --genesis at the same chain",
                            api.api,
                            status.node.chain_id,
                            file.display(),
                            genesis.chain_id()
                        ),
                    ));
                }
                genesis.params.min_fee
            }
            (None, None) => Chips(status.node.min_fee),
        };
        let nonce = match sign.nonce {
            Some(nonce) => nonce,
            None => match client.account(&keypair.address(), None, 1).await {
                Ok(account) => account.pending_nonce,
                Err(ClientError::Api { status, .. }) if status.as_u16() == 404 => 0,
                Err(e) => return Err(api.explain(e)),
            },
        };
        let next_height = status.node.height.map_or(0, |h| h + 1);
        Ok(Signer {
            by: SignedBy::Key(Box::new(LocalKey {
                keypair,
                chain_id: status.node.chain_id,
                nonce,
                fee,
                expiry_height: next_height.saturating_add(DEFAULT_EXPIRY_BLOCKS),
                sign_only: sign.sign_only,
            })),
            wait,
        })
    }

    /// The signing account, if it is known without asking the node.
    pub fn address(&self) -> Option<Address> {
        match &self.by {
            SignedBy::Node { .. } => None,
            SignedBy::Key(key) => Some(key.keypair.address()),
        }
    }

    /// Signs `action` with the next nonce (no network).
    fn sign_next(key: &mut LocalKey, action: &Action) -> SignedTransaction {
        let tx = Transaction {
            chain_id: key.chain_id,
            sender: key.keypair.public_key(),
            nonce: key.nonce,
            fee: key.fee,
            expiry_height: key.expiry_height,
            action: action.clone(),
        }
        .sign(&key.keypair);
        key.nonce += 1;
        tx
    }

    /// Sends `action`: through the node's wallet route, or signed here and
    /// submitted (with `--sign-only`, signed and returned unsent).
    async fn send(
        &mut self,
        client: &ApiClient,
        api: &ApiArgs,
        action: &Action,
    ) -> anyhow::Result<Sent> {
        action
            .check_well_formed()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        match &mut self.by {
            SignedBy::Node { fee } => {
                if node::api::wallet_route_of(action).is_none() {
                    anyhow::bail!(
                        "the node's wallet cannot send {}: sign it yourself with --keystore FILE|NAME",
                        action.name()
                    );
                }
                let reply = client.act(action, *fee).await.map_err(|e| api.explain(e))?;
                Ok(Sent::Submitted(Box::new(reply)))
            }
            SignedBy::Key(key) => {
                let signed = Self::sign_next(key, action);
                if key.sign_only {
                    return Ok(Sent::Signed(Box::new(signed)));
                }
                let submitted = client
                    .submit_transaction(&signed)
                    .await
                    .map_err(|e| api.explain(e))?;
                Ok(Sent::Submitted(Box::new(WalletReply {
                    hash: submitted.hash,
                    nonce: signed.tx.nonce,
                    fee: signed.tx.fee.get(),
                    sender: signed.sender_address(),
                    action: signed.tx.action,
                    status: TxState::Pending,
                })))
            }
        }
    }

    /// Sends `action` and prints what was sent (a sentence or the API's
    /// JSON; the hex with `--sign-only`); with `--wait`, then waits for the
    /// block that includes it and prints the receipt ([`wait_and_report`]).
    pub async fn deliver(
        &mut self,
        client: &ApiClient,
        api: &ApiArgs,
        action: &Action,
        out: &mut impl io::Write,
        json: bool,
    ) -> anyhow::Result<()> {
        let sent = self.send(client, api, action).await?;
        sent.write(out, json)?;
        match (&sent, self.wait) {
            (Sent::Submitted(reply), Some(timeout)) => {
                wait_and_report(client, api, &reply.hash, timeout, out, json).await
            }
            _ => Ok(()),
        }
    }
}

/// What [`Signer::send`] did.
enum Sent {
    /// Submitted: pending in the mempool.
    Submitted(Box<WalletReply>),
    /// Signed and not sent (`--sign-only`).
    Signed(Box<SignedTransaction>),
}

impl Sent {
    /// Prints it: a sentence or the API's JSON for a submission, the hex
    /// encoding for a signed transaction.
    fn write(&self, out: &mut impl io::Write, json: bool) -> anyhow::Result<()> {
        match self {
            Sent::Submitted(reply) => crate::tables::write_sent(out, reply, json),
            Sent::Signed(signed) => {
                writeln!(out, "{}", hex::encode(signed.encode()))?;
                Ok(())
            }
        }
    }
}

/// `--wait`: waits up to `timeout` until a finalized block includes
/// transaction `hash`, then prints its receipt (a few lines, or the
/// `/v1/txs/{hash}` JSON on one line). Fails with exit code 7 if the
/// ledger rejected it or the node dropped it, 9 if it is still pending.
pub async fn wait_and_report(
    client: &ApiClient,
    api: &ApiArgs,
    hash: &TxHash,
    timeout: Duration,
    out: &mut impl io::Write,
    json: bool,
) -> anyhow::Result<()> {
    let reply = client
        .wait_included(hash, timeout)
        .await
        .map_err(|e| api.explain(e))?;
    if json {
        serde_json::to_writer(&mut *out, &reply).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        write_receipt(out, &reply)?;
    }
    refusal(&reply)
}

/// The included transaction's block and receipt: one line, then its events.
fn write_receipt(out: &mut impl io::Write, reply: &TxReply) -> anyhow::Result<()> {
    let block = match (reply.block_height, reply.block_hash) {
        (Some(height), Some(hash)) => format!(
            "block {height} ({}), position {}",
            short(&hash.to_string()),
            reply.index.unwrap_or_default()
        ),
        _ => "a block".to_owned(),
    };
    match &reply.receipt {
        Some(receipt) => {
            writeln!(
                out,
                "finalized in {block}: {}, fee charged {}",
                one_line(&receipt.status),
                receipt.fee_charged.get()
            )?;
            for event in receipt.events.iter() {
                writeln!(out, "  {}", one_line(event))?;
            }
        }
        None => writeln!(out, "finalized in {block}: {}", one_line(&reply.status))?,
    }
    Ok(())
}

/// An error with exit code 7 if the ledger rejected the transaction.
fn refusal(reply: &TxReply) -> anyhow::Result<()> {
    match reply.receipt.as_ref().map(|r| &r.status) {
        Some(TxStatus::Rejected { reason }) => Err(coded(
            EXIT_REFUSED,
            format!(
                "transaction {} was finalized but the ledger rejected it ({}); it paid its fee \
                 and changed nothing else",
                reply.hash,
                one_line(reason)
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet::KdfParams;

    fn api(home: &Path) -> ApiArgs {
        ApiArgs {
            api: "http://127.0.0.1:1".into(),
            cookie: None,
            home: Some(home.to_owned()),
        }
    }

    #[test]
    fn keystores_are_named_in_the_wallet_directory() {
        let sign = SignArgs::default();
        let api = api(Path::new("/h"));
        assert_eq!(
            sign.keystore_path(&api, "alice").unwrap(),
            PathBuf::from("/h/wallets/alice.json")
        );
        assert_eq!(
            sign.keystore_path(&api, "./k.json").unwrap(),
            PathBuf::from("./k.json")
        );
        assert_eq!(
            sign.keystore_path(&api, "/x/y").unwrap(),
            PathBuf::from("/x/y")
        );
        assert!(sign.keystore_path(&api, "").is_err());
        let sign = SignArgs {
            wallet_dir: Some("/w".into()),
            ..SignArgs::default()
        };
        assert_eq!(
            sign.keystore_path(&api, "bob").unwrap(),
            PathBuf::from("/w/bob.json")
        );
    }

    /// A keystore with cheap KDF parameters and its password file.
    fn keystore(dir: &Path) -> (PathBuf, PathBuf, Address) {
        let keypair = Keypair::generate().unwrap();
        let store = Keystore::encrypt(&keypair, b"right", KdfParams::insecure_for_tests()).unwrap();
        let path = dir.join("k.json");
        store.write_new(&path).unwrap();
        let password = dir.join("k.password");
        std::fs::write(&password, "right\n").unwrap();
        (path, password, keypair.address())
    }

    #[test]
    fn a_keystore_opens_with_its_password_only() {
        let dir = tempfile::tempdir().unwrap();
        let (path, password, address) = keystore(dir.path());
        let mut sign = SignArgs {
            password_file: Some(password),
            ..SignArgs::default()
        };
        let api = api(dir.path());
        let name = path.to_str().unwrap();
        let (_, keypair) = open_keystore(&sign, &api, name).unwrap();
        assert_eq!(keypair.address(), address);

        let before = std::fs::read(&path).unwrap();
        let wrong = dir.path().join("wrong.password");
        std::fs::write(&wrong, "wrong\n").unwrap();
        sign.password_file = Some(wrong);
        let error = open_keystore(&sign, &api, name).unwrap_err();
        assert!(
            format!("{error:#}").contains("password is wrong"),
            "{error:#}"
        );
        assert_eq!(
            error.downcast_ref::<crate::node::Coded>().unwrap().code,
            EXIT_KEYSTORE
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the keystore is unchanged"
        );
    }

    #[test]
    fn a_corrupt_keystore_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let (path, password, _) = keystore(dir.path());
        let sign = SignArgs {
            password_file: Some(password),
            ..SignArgs::default()
        };
        let api = api(dir.path());
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.truncate(text.len() / 2);
        std::fs::write(&path, &text).unwrap();
        let error = open_keystore(&sign, &api, path.to_str().unwrap()).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("malformed"), "{message}");
        assert!(message.contains("backup phrase"), "{message}");
        assert_eq!(
            error.downcast_ref::<crate::node::Coded>().unwrap().code,
            EXIT_KEYSTORE
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

        let missing = open_keystore(&sign, &api, "/nonexistent/k.json").unwrap_err();
        assert!(
            format!("{missing:#}").contains("cannot read keystore"),
            "{missing:#}"
        );
    }

    #[test]
    fn empty_passwords_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p");
        std::fs::write(&file, "\n").unwrap();
        let error = password(Some(&file), "k", false).unwrap_err();
        assert!(format!("{error:#}").contains("empty"), "{error:#}");
        let error = password(Some(&dir.path().join("none")), "k", false).unwrap_err();
        assert!(format!("{error:#}").contains("cannot read the password file"));
    }

    #[test]
    fn sign_only_and_nonce_need_a_keystore() {
        let sign = SignArgs {
            sign_only: true,
            ..SignArgs::default()
        };
        let api = api(Path::new("/h"));
        let client = ApiClient::new(&api.api).unwrap();
        let error = crate::api::block_on(Signer::open(&sign, &api, &client))
            .err()
            .unwrap();
        assert!(format!("{error:#}").contains("--keystore"), "{error:#}");

        let sign = SignArgs {
            sign_only: true,
            wait: true,
            keystore: Some("k".into()),
            ..SignArgs::default()
        };
        let error = crate::api::block_on(Signer::open(&sign, &api, &client))
            .err()
            .unwrap();
        assert!(
            format!("{error:#}").contains("nothing to --wait for"),
            "{error:#}"
        );
    }

    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        sign: SignArgs,
    }

    #[test]
    fn wait_takes_a_timeout_in_seconds() {
        use clap::Parser as _;
        let flags = Flags::try_parse_from(["x", "--wait"]).unwrap();
        assert_eq!(flags.sign.wait(), Some(Duration::from_secs(60)));
        let flags = Flags::try_parse_from(["x", "--wait", "--wait-timeout", "5"]).unwrap();
        assert_eq!(flags.sign.wait(), Some(Duration::from_secs(5)));
        let flags = Flags::try_parse_from(["x", "--wait-timeout", "5"]).unwrap();
        assert_eq!(flags.sign.wait(), None, "only with --wait");
        assert!(Flags::try_parse_from(["x", "--wait-timeout", "0"]).is_err());
        assert!(Flags::try_parse_from(["x", "--wait-timeout", "soon"]).is_err());
    }

    /// An included transfer with `status`.
    fn included(status: TxStatus) -> TxReply {
        use consensus::encoding::BoundedVec;
        use consensus::hash::Hash;
        use consensus::receipt::{LedgerEvent, Receipt};
        let key = Keypair::from_secret_bytes(&[4; 32]);
        let tx = Transaction {
            chain_id: ChainId::new([3; 32]),
            sender: key.public_key(),
            nonce: 2,
            fee: Chips(1),
            expiry_height: 100,
            action: Action::LeaveTable {
                table: consensus::tx::TableId(999),
            },
        }
        .sign(&key);
        let applied = matches!(status, TxStatus::Applied);
        TxReply {
            hash: tx.hash(),
            status: if applied {
                TxState::Applied
            } else {
                TxState::Rejected
            },
            sender: tx.sender_address(),
            block_height: Some(41),
            block_hash: Some(Hash::new([0xab; 32])),
            index: Some(3),
            receipt: Some(Receipt {
                tx: tx.hash(),
                status,
                fee_charged: Chips(1),
                events: BoundedVec::new(vec![LedgerEvent::BalanceChanged {
                    account: tx.sender_address(),
                    before: Chips(10),
                    after: Chips(9),
                }])
                .unwrap(),
            }),
            tx,
        }
    }

    #[test]
    fn a_receipt_is_printed_and_a_rejection_exits_7() {
        let applied = included(TxStatus::Applied);
        let mut out = Vec::new();
        write_receipt(&mut out, &applied).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "finalized in block 41 (abababab…abab), position 3: applied, fee charged 1\n"
            ),
            "{text}"
        );
        assert!(text.contains("\n  balance_changed "), "{text}");
        assert!(refusal(&applied).is_ok());

        let reason = consensus::receipt::RejectReason::BadNonce {
            expected: 1,
            found: 2,
        };
        let rejected = included(TxStatus::Rejected { reason });
        let mut out = Vec::new();
        write_receipt(&mut out, &rejected).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(": rejected reason=(bad_nonce "), "{text}");
        let error = refusal(&rejected).unwrap_err();
        assert_eq!(
            error.downcast_ref::<crate::node::Coded>().unwrap().code,
            EXIT_REFUSED
        );
        assert!(
            format!("{error:#}").contains("the ledger rejected it"),
            "{error:#}"
        );
    }
}
