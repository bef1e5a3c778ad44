//! `bitcraps validator`: register as a validator (signed with a keystore:
//! no node-wallet route carries it), bond and unbond stake, and a
//! validator's standing.

use std::io::{self, Write};

use consensus::tx::{Action, BeaconKey, NetworkAddress};
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
    /// A validator's stake, uptime, missed heights and slashing [default:
    /// the signing wallet's].
    Status {
        /// The validator's account address.
        address: Option<Address>,
    },
}

/// What `validator register` announces.
#[derive(clap::Args, Debug, PartialEq)]
struct RegisterArgs {
    /// The BLS12-381 beacon public key, hex (48 or 96 bytes).
    #[arg(long, value_name = "HEX")]
    beacon_key: BeaconKey,
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
    let client = args.node.api.client()?;
    let mut out = io::stdout().lock();
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
                beacon_key: register.beacon_key.clone(),
                network_address: register.network_address.clone(),
            }
        }
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
        "uptime     {:.1}% ({} heights missed this epoch)",
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
        let key = "ab".repeat(96);
        let args = parse(&[
            "register",
            "--beacon-key",
            &key,
            "--network-address",
            "/ip4/127.0.0.1/tcp/7300",
            "--keystore",
            "v",
        ])
        .unwrap();
        let ValidatorCommand::Register(register) = args.command else {
            panic!("not register");
        };
        assert_eq!(register.beacon_key.len(), 96);
        assert_eq!(register.consensus_key, None);
        assert!(
            parse(&["register", "--beacon-key", "zz", "--network-address", "a"]).is_err(),
            "the beacon key is hex"
        );
        assert!(parse(&["register", "--network-address", "a"]).is_err());
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
    fn register_needs_a_keystore() {
        let key = "ab".repeat(48);
        let args = parse(&["register", "--beacon-key", &key, "--network-address", "a"]).unwrap();
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
