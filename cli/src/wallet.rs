//! `bitcraps wallet`: the node wallet's account, transfers, the testnet
//! faucet.

use std::io;

use consensus::tx::Action;
use game_rules::Chips;
use wallet::Address;

use crate::api::{self, ApiArgs};
use crate::explore::write_account;
use crate::tables::write_sent;

/// Arguments of `bitcraps wallet`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    api: ApiArgs,
    /// Print the API's JSON (one object per transaction sent, one per line,
    /// for the commands that send).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: WalletCommand,
}

/// What to do with the node's wallet.
#[derive(clap::Subcommand, Debug, PartialEq)]
enum WalletCommand {
    /// Address, balance, nonce, stake, bankroll shares and recent history.
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
    let client = args.api.client()?;
    let mut out = io::stdout().lock();
    let action = match args.command {
        WalletCommand::Show { history } => {
            let status = client.status().await.map_err(|e| args.api.explain(e))?;
            let me = status.wallet.ok_or_else(|| {
                anyhow::anyhow!(
                    "the node at {} has no wallet loaded; create one with \
                     `bitcraps node init --wallet`",
                    args.api.api
                )
            })?;
            let history = usize::try_from(history).unwrap_or(100);
            let account = client
                .account(&me, None, history)
                .await
                .map_err(|e| args.api.explain(e))?;
            if args.json {
                return api::write_json(&mut out, &account);
            }
            return write_account(&mut out, &account);
        }
        WalletCommand::Transfer { to, amount } => Action::Transfer {
            to,
            amount: Chips(amount),
        },
        WalletCommand::Faucet { amount } => Action::Faucet {
            amount: Chips(amount),
        },
    };
    action
        .check_well_formed()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let reply = client
        .act(&action, None)
        .await
        .map_err(|e| args.api.explain(e))?;
    write_sent(&mut out, &reply, args.json)
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
        assert!(args.json);
        assert!(parse(&["transfer", "not-an-address", "25"]).is_err());
        assert_eq!(
            parse(&["faucet", "1000"]).unwrap().command,
            WalletCommand::Faucet { amount: 1000 }
        );
    }
}
