//! `bitcraps bankroll`: the shared bankroll; deposit chips for pool
//! shares, redeem shares.

use std::io;

use consensus::tx::Action;
use game_rules::Chips;

use crate::api;
use crate::explore::write_bankroll;
use crate::sign::{ClientArgs, Signer};

/// Arguments of `bitcraps bankroll`.
#[derive(clap::Args)]
#[command(mut_args(api::help_of("json", api::JSON_SENT_HELP)))]
pub struct Args {
    #[command(flatten)]
    node: ClientArgs,
    /// Without a subcommand: show the bankroll.
    #[command(subcommand)]
    command: Option<BankrollCommand>,
}

/// What to do with the bankroll.
#[derive(clap::Subcommand, Debug, PartialEq)]
enum BankrollCommand {
    /// Deposit chips for pool shares at the current share price.
    Deposit {
        /// How much, chips.
        amount: u64,
    },
    /// Redeem pool shares; paid after the chain's withdrawal delay, at the
    /// share price then.
    Withdraw {
        /// How many shares (`bitcraps wallet balance` shows yours).
        shares: u128,
    },
}

/// Runs `bitcraps bankroll`.
pub fn run(args: Args) -> anyhow::Result<()> {
    api::finish(api::block_on(execute(args)))
}

async fn execute(args: Args) -> anyhow::Result<()> {
    let client = args.node.api.client()?;
    let mut out = io::stdout().lock();
    let action = match args.command {
        None => {
            let bankroll = client
                .bankroll()
                .await
                .map_err(|e| args.node.api.explain(e))?;
            if args.node.json() {
                return api::write_json(&mut out, &bankroll);
            }
            return write_bankroll(&mut out, &bankroll);
        }
        Some(BankrollCommand::Deposit { amount }) => Action::BankrollDeposit {
            amount: Chips(amount),
        },
        Some(BankrollCommand::Withdraw { shares }) => Action::BankrollWithdraw { shares },
    };
    let mut signer = Signer::open(&args.node.sign, &args.node.api, &client).await?;
    signer
        .deliver(&client, &args.node.api, &action, &mut out, args.node.json())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[&str]) -> Result<Args, clap::Error> {
        crate::api::parse_args(line)
    }

    #[test]
    fn parses_the_bankroll_commands() {
        assert_eq!(parse(&[]).unwrap().command, None);
        assert_eq!(
            parse(&["deposit", "500"]).unwrap().command,
            Some(BankrollCommand::Deposit { amount: 500 })
        );
        let huge = "340282366920938463463374607431768211455";
        assert_eq!(
            parse(&["withdraw", huge, "--json"]).unwrap().command,
            Some(BankrollCommand::Withdraw { shares: u128::MAX })
        );
        assert!(parse(&["deposit", "-5"]).is_err());
        assert!(parse(&["withdraw", "half"]).is_err());
    }
}
