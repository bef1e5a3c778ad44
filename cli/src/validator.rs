//! `bitcraps validator`: register as a validator (signed with a keystore:
//! no node-wallet route carries it), bond and unbond stake, and a
//! validator's standing.

use std::io::{self, Write};

use consensus::tx::{Action, NetworkAddress};
use game_rules::Chips;
use node::api::ValidatorInfo;
use serde_json::json;
use wallet::{Address, PublicKey};

use crate::api;
use crate::sign::{self, ClientArgs, Signer};

/// Arguments of `bitcraps validator`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    node: ClientArgs,
    #[command(subcommand)]
    command: ValidatorCommand,
}

/// What to do.
#[derive(clap::Subcommand, Debug, PartialEq)]
enum ValidatorCommand {
    /// Make a validator identity for a node that is not in the genesis: a
    /// key file for its `validator.key_file` (no genesis share: resharing
    /// rounds give it its shares once the ledger puts it in a set) and a
    /// keystore NAME of the same key, which signs its `register` and
    /// `stake`.
    NewKey {
        /// The keystore to write: a name in the wallet directory, or a
        /// path.
        name: String,
        /// The validator key file to write (mode 0600, never overwritten).
        #[arg(long, value_name = "FILE")]
        key_file: std::path::PathBuf,
    },
    /// Register the keystore's account as a validator (needs --keystore;
    /// then bond stake with `validator stake`).
    Register(Box<RegisterArgs>),
    /// Bond chips of the balance as validator stake.
    Stake {
        /// How much, chips.
        amount: u64,
    },
    /// Start unbonding stake (released after the chain's unbonding
    /// period).
    Unstake {
        /// How much, chips.
        amount: u64,
    },
    /// A validator's stake, uptime, missed views and slashing [default:
    /// the signing wallet's].
    Status {
        /// The validator's account address.
        address: Option<Address>,
    },
}

/// What `validator register` announces.
#[derive(clap::Args, Debug, PartialEq)]
struct RegisterArgs {
    /// Where peers reach the validator, e.g. /ip4/203.0.113.5/tcp/7300.
    #[arg(long, value_name = "ADDRESS")]
    network_address: NetworkAddress,
    /// The ed25519 key that signs its consensus messages, hex [default:
    /// the keystore's own key].
    #[arg(long, value_name = "HEX")]
    consensus_key: Option<PublicKey>,
}

/// Runs `bitcraps validator`.
pub fn run(args: Args) -> anyhow::Result<()> {
    api::finish(api::block_on(execute(args)))
}

async fn execute(args: Args) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    if let ValidatorCommand::NewKey { name, key_file } = &args.command {
        return new_key(&args, name, key_file, &mut out);
    }
    let client = args.node.api.client()?;
    let action = match args.command {
        ValidatorCommand::Status { address } => {
            let address = match address {
                Some(address) => address,
                None => {
                    args.node
                        .my_address(&client, "give the validator's ADDRESS or --keystore")
                        .await?
                }
            };
            let validators = client
                .validators()
                .await
                .map_err(|e| args.node.api.explain(e))?;
            let found = validators.into_iter().find(|v| v.address == address);
            if args.node.json() {
                return api::write_json(
                    &mut out,
                    &json!({ "address": address, "validator": found }),
                );
            }
            return write_status(&mut out, &address, found.as_ref());
        }
        ValidatorCommand::Register(ref register) => {
            let Some(name) = &args.node.sign.keystore else {
                anyhow::bail!(
                    "registering a validator is signed with its own key: give --keystore \
                     FILE|NAME (the node's wallet routes do not carry it)"
                );
            };
            let consensus_key = match register.consensus_key {
                Some(key) => key,
                None => sign::open_keystore(&args.node.sign, &args.node.api, name)?
                    .1
                    .public_key(),
            };
            Action::RegisterValidator {
                consensus_key,
                network_address: register.network_address.clone(),
            }
        }
        ValidatorCommand::NewKey { .. } => unreachable!("handled above: it needs no node"),
        ValidatorCommand::Stake { amount } => Action::Stake {
            amount: Chips(amount),
        },
        ValidatorCommand::Unstake { amount } => Action::Unstake {
            amount: Chips(amount),
        },
    };
    let mut signer = Signer::open(&args.node.sign, &args.node.api, &client).await?;
    signer
        .deliver(&client, &args.node.api, &action, &mut out, args.node.json())
        .await
}

/// `validator new-key`: the key file first (it refuses to overwrite), then
/// the keystore of the same key.
fn new_key(
    args: &Args,
    name: &str,
    key_file: &std::path::Path,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let path = args.node.sign.keystore_path(&args.node.api, name)?;
    crate::wallet::refuse_existing(&path, "name")?;
    crate::wallet::refuse_existing(key_file, "key file")?;
    let password = sign::password(
        args.node.sign.password_file.as_deref(),
        &format!("the new keystore {}", path.display()),
        true,
    )?;
    let keypair = node::validator::ValidatorKeyFile::generate_newcomer(key_file)?;
    crate::wallet::write_keystore(&path, &keypair, &password)?;
    let address = keypair.address();
    if args.node.json() {
        return api::write_json(
            out,
            &json!({
                "address": address,
                "consensus_key": keypair.public_key(),
                "keystore": path,
                "key_file": key_file,
            }),
        );
    }
    writeln!(out, "address        {address}")?;
    writeln!(out, "consensus key  {}", keypair.public_key())?;
    writeln!(out, "keystore       {}", path.display())?;
    writeln!(out, "key file       {}", key_file.display())?;
    writeln!(
        out,
        "\nnext: set validator.key_file to the key file and start the node (it follows \
         the chain), then `bitcraps validator register --keystore {name} ...` and \
         `bitcraps validator stake AMOUNT --keystore {name}`; it votes from the epoch after \
         the ledger puts it in the set"
    )?;
    Ok(())
}

fn write_status(
    out: &mut impl Write,
    address: &Address,
    found: Option<&ValidatorInfo>,
) -> anyhow::Result<()> {
    let Some(v) = found else {
        writeln!(
            out,
            "{address} is not a validator; register with `bitcraps validator register \
             --keystore …`, then `validator stake AMOUNT`"
        )?;
        return Ok(());
    };
    writeln!(out, "validator  {}", v.address)?;
    writeln!(out, "active     {}", if v.active { "yes" } else { "no" })?;
    writeln!(
        out,
        "stake      {} chips ({} unbonding)",
        v.stake, v.unbonding
    )?;
    writeln!(
        out,
        "uptime     {:.1}% ({} views led without a block this epoch)",
        v.uptime * 100.0,
        v.missed_heights
    )?;
    writeln!(
        out,
        "slashed    {}",
        if v.slashed {
            format!("yes, {} chips", v.slashed_amount)
        } else {
            "no".to_owned()
        }
    )?;
    writeln!(out, "consensus  {}", v.consensus_key)?;
    writeln!(out, "network    {}", v.network_address)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[&str]) -> Result<Args, clap::Error> {
        crate::api::parse_args(line)
    }

    #[test]
    fn parses_the_validator_commands() {
        let args = parse(&[
            "register",
            "--network-address",
            "/ip4/127.0.0.1/tcp/7300",
            "--keystore",
            "v",
        ])
        .unwrap();
        let ValidatorCommand::Register(register) = args.command else {
            panic!("not register");
        };
        assert_eq!(register.network_address.as_str(), "/ip4/127.0.0.1/tcp/7300");
        assert_eq!(register.consensus_key, None);
        assert!(
            parse(&[
                "register",
                "--beacon-key",
                &"ab".repeat(96),
                "--network-address",
                "a"
            ])
            .is_err(),
            "there is no beacon key to give"
        );
        assert!(parse(&["register"]).is_err(), "the address is needed");
        assert_eq!(
            parse(&["stake", "100"]).unwrap().command,
            ValidatorCommand::Stake { amount: 100 }
        );
        assert_eq!(
            parse(&["unstake", "40"]).unwrap().command,
            ValidatorCommand::Unstake { amount: 40 }
        );
        assert_eq!(
            parse(&["status"]).unwrap().command,
            ValidatorCommand::Status { address: None }
        );
        assert!(parse(&["status", "craps1nope"]).is_err());
    }

    #[test]
    fn new_key_writes_a_key_file_and_a_keystore_of_one_key_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("password");
        std::fs::write(&password, "pw\n").unwrap();
        let keystore = dir.path().join("joiner.json");
        let key_file = dir.path().join("validator.key");
        let line = [
            "new-key",
            keystore.to_str().unwrap(),
            "--key-file",
            key_file.to_str().unwrap(),
            "--password-file",
            password.to_str().unwrap(),
        ];
        api::block_on(execute(parse(&line).unwrap())).unwrap();
        let contents = node::validator::ValidatorKeyFile::read_contents(&key_file).unwrap();
        assert!(contents.genesis_share.is_none());
        let opened = wallet::Keystore::read(&keystore).unwrap();
        assert_eq!(
            opened.decrypt(b"pw").unwrap().public_key(),
            contents.keypair().public_key(),
            "the key file and the keystore hold one key"
        );
        let again = api::block_on(execute(parse(&line).unwrap())).unwrap_err();
        assert!(format!("{again:#}").contains("already exists"), "{again:#}");
        std::fs::remove_file(&keystore).unwrap();
        let again = api::block_on(execute(parse(&line).unwrap())).unwrap_err();
        assert!(format!("{again:#}").contains("already exists"), "{again:#}");
    }

    #[test]
    fn register_needs_a_keystore() {
        let args = parse(&["register", "--network-address", "a"]).unwrap();
        let error = api::block_on(execute(args)).unwrap_err();
        assert!(format!("{error:#}").contains("--keystore"), "{error:#}");
    }

    #[test]
    fn shows_a_non_validator_plainly() {
        let address = wallet::Keypair::generate().unwrap().address();
        let mut out = Vec::new();
        write_status(&mut out, &address, None).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("is not a validator")
        );
    }
}
