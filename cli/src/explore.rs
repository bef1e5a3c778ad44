//! `bitcraps explore`: read the chain through a node's API: blocks,
//! transactions, accounts, rounds with their randomness (verified offline
//! against the genesis, see [`crate::verify`]), validators, the
//! leaderboard and the bankroll.

use std::io::{self, Write};

use consensus::hash::{BlockHash, TxHash};
use consensus::tx::TableId;
use node::api::{AccountInfo, BankrollInfo, Game, LeaderboardEntry, RoundInfo, ValidatorInfo};
use node::client::{BlockReply, TxReply};
use wallet::Address;

use crate::api::{self, ApiArgs, GenesisArg, JsonArg, one_line};
use crate::node::{EXIT_NOT_VERIFIED, coded};
use crate::verify::{Verdict, verify_round, write_verdict};

/// Arguments of `bitcraps explore`.
#[derive(clap::Args)]
#[command(
    mut_args(api::help_of("json", "Print the API's JSON")),
    mut_args(api::help_of(
        "genesis",
        "The chain's genesis file, the trust anchor `explore round` verifies against \
         [default: the genesis of the node in --home]"
    ))
)]
pub struct Args {
    #[command(flatten)]
    api: ApiArgs,
    #[command(flatten)]
    output: JsonArg,
    #[command(flatten)]
    genesis: GenesisArg,
    #[command(subcommand)]
    command: ExploreCommand,
}

/// What to look at.
#[derive(clap::Subcommand, Debug, PartialEq)]
enum ExploreCommand {
    /// A block, by height, hash, or `latest`.
    Block {
        /// A height, a 64-hex-character hash, or `latest`.
        #[arg(value_parser = parse_block_ref)]
        block: BlockRef,
    },
    /// A transaction and its receipt.
    Tx {
        /// The transaction's hash.
        hash: TxHash,
    },
    /// An account: balance, nonce, stake, shares, recent history.
    Account {
        /// The address.
        address: Address,
        /// How many history entries, newest first (1 to 100).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100))]
        history: u64,
    },
    /// A round with its beacon entry and outcome, verified offline when
    /// the genesis is known: σ under the genesis group key, the signed
    /// block's hash recomputed and its finality certificate checked, the
    /// outcome re-derived with game-rules.
    Round {
        /// The table's id.
        table: u64,
        /// The round (crash) or roll number (craps).
        round: u64,
        /// Fail (exit code 6) unless the round verifies: also when it is
        /// not decided yet or no genesis is known.
        #[arg(long)]
        verify: bool,
    },
    /// The validators: stake, uptime, missed views, slashing.
    Validators,
    /// The top players by net winnings.
    Leaderboard {
        /// One game, or both if absent.
        #[arg(long, value_parser = ["crash", "craps"])]
        game: Option<String>,
        /// How many (1 to 100).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100))]
        limit: u64,
    },
    /// The shared bankroll.
    Bankroll,
}

/// How a block is named.
#[derive(Clone, Debug, PartialEq)]
enum BlockRef {
    Height(u64),
    Hash(BlockHash),
    Latest,
}

fn parse_block_ref(text: &str) -> Result<BlockRef, String> {
    if text == "latest" {
        return Ok(BlockRef::Latest);
    }
    if !text.is_empty() && text.len() < 21 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map(BlockRef::Height)
            .map_err(|e| format!("{text:?}: {e}"));
    }
    text.parse().map(BlockRef::Hash).map_err(|e| {
        format!("{text:?} is neither a height nor a block hash ({e}); e.g. 1, latest or 64 hex")
    })
}

/// Runs `bitcraps explore`.
pub fn run(args: Args) -> anyhow::Result<()> {
    api::finish(api::block_on(execute(args)))
}

async fn execute(args: Args) -> anyhow::Result<()> {
    let client = args.api.client()?;
    let explain = |e| args.api.explain(e);
    let mut out = io::stdout().lock();
    let json = args.output.json;
    match args.command {
        ExploreCommand::Block { block } => {
            let reply = match block {
                BlockRef::Height(h) => client.block(h).await,
                BlockRef::Hash(hash) => client.block_by_hash(&hash).await,
                BlockRef::Latest => client.latest_block().await,
            }
            .map_err(explain)?;
            if json {
                return api::write_json(&mut out, &reply);
            }
            write_block(&mut out, &reply)
        }
        ExploreCommand::Tx { hash } => {
            let reply = client.transaction(&hash).await.map_err(explain)?;
            if json {
                return api::write_json(&mut out, &reply);
            }
            write_tx(&mut out, &reply)
        }
        ExploreCommand::Account { address, history } => {
            let limit = usize::try_from(history).unwrap_or(100);
            let account = client
                .account(&address, None, limit)
                .await
                .map_err(explain)?;
            if json {
                return api::write_json(&mut out, &account);
            }
            write_account(&mut out, &account)
        }
        ExploreCommand::Round {
            table,
            round,
            verify,
        } => {
            let info = client.round(TableId(table), round).await.map_err(explain)?;
            let verdict = match args.genesis.file(&args.api) {
                Some(file) => {
                    let genesis = crate::sign::read_genesis(&file)?;
                    Some(verify_round(&client, &args.api, &info, &genesis).await?)
                }
                None => None,
            };
            if json {
                let mut value = serde_json::to_value(&info)?;
                value["verification"] = serde_json::to_value(&verdict)?;
                api::write_json(&mut out, &value)?;
            } else {
                write_round(&mut out, &info)?;
                match &verdict {
                    Some(verdict) => write_verdict(&mut out, verdict)?,
                    None => writeln!(
                        out,
                        "verify     not done: give the chain's genesis with --genesis FILE"
                    )?,
                }
            }
            round_exit(table, round, verdict.as_ref(), verify)
        }
        ExploreCommand::Validators => {
            let validators = client.validators().await.map_err(explain)?;
            if json {
                return api::write_json(&mut out, &serde_json::json!({ "validators": validators }));
            }
            write_validators(&mut out, &validators)
        }
        ExploreCommand::Leaderboard { game, limit } => {
            let game = game
                .map(|g| g.parse::<Game>())
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let limit = usize::try_from(limit).unwrap_or(100);
            let entries = client.leaderboard(game, limit).await.map_err(explain)?;
            if json {
                return api::write_json(&mut out, &serde_json::json!({ "entries": entries }));
            }
            write_leaderboard(&mut out, &entries)
        }
        ExploreCommand::Bankroll => {
            let bankroll = client.bankroll().await.map_err(explain)?;
            if json {
                return api::write_json(&mut out, &bankroll);
            }
            write_bankroll(&mut out, &bankroll)
        }
    }
}

/// The round's exit: an error (exit code 6) when it failed verification,
/// or, with `--verify`, when it could not be verified.
fn round_exit(
    table: u64,
    round: u64,
    verdict: Option<&Verdict>,
    required: bool,
) -> anyhow::Result<()> {
    let failed = match verdict {
        Some(v) if v.decided && !v.verified => "did not verify: its randomness or outcome is wrong",
        Some(v) if required && !v.decided => "is not decided yet, so it cannot be verified",
        None if required => "was not verified: no genesis (give --genesis FILE)",
        _ => return Ok(()),
    };
    Err(coded(
        EXIT_NOT_VERIFIED,
        format!("round {round} of table {table} {failed}"),
    ))
}

fn write_block(out: &mut impl Write, reply: &BlockReply) -> anyhow::Result<()> {
    let header = &reply.block.header;
    writeln!(out, "block      {}", reply.height)?;
    writeln!(out, "hash       {}", reply.hash)?;
    writeln!(out, "parent     {}", header.parent)?;
    writeln!(out, "chain      {}", header.chain_id)?;
    writeln!(out, "time       {} ms since the epoch", header.timestamp_ms)?;
    writeln!(
        out,
        "view       {} (consensus view; views restart every validator epoch)",
        header.view
    )?;
    writeln!(out, "proposer   {}", header.proposer)?;
    writeln!(out, "size       {} bytes", reply.size_bytes)?;
    match &reply.proof {
        Some(proof) => writeln!(
            out,
            "finality   certificate of {} bytes (`explore round --verify` checks it)",
            proof.len() / 2
        )?,
        None => writeln!(
            out,
            "finality   no certificate of its own on this node (finalized through a descendant)"
        )?,
    }
    writeln!(out, "txs        {}", reply.block.transactions.len())?;
    for signed in reply.block.transactions.iter() {
        writeln!(out, "  {}  {}", signed.hash(), one_line(&signed.tx.action))?;
    }
    writeln!(
        out,
        "beacon     {} entries",
        reply.block.beacon_entries.len()
    )?;
    for entry in reply.block.beacon_entries.iter() {
        writeln!(
            out,
            "  for height {}  σ {}",
            entry.height,
            api::short(&api::one_line(&entry.signature))
        )?;
    }
    Ok(())
}

fn write_tx(out: &mut impl Write, reply: &TxReply) -> anyhow::Result<()> {
    writeln!(out, "tx         {}", reply.hash)?;
    writeln!(out, "status     {}", one_line(&reply.status))?;
    writeln!(out, "sender     {}", reply.sender)?;
    writeln!(out, "action     {}", one_line(&reply.tx.tx.action))?;
    writeln!(
        out,
        "nonce      {}, fee {}, expires after height {}",
        reply.tx.tx.nonce, reply.tx.tx.fee, reply.tx.tx.expiry_height
    )?;
    if let (Some(height), Some(hash)) = (reply.block_height, reply.block_hash) {
        writeln!(
            out,
            "block      {height} ({}), position {}",
            hash,
            reply.index.unwrap_or_default()
        )?;
    }
    if let Some(receipt) = &reply.receipt {
        writeln!(
            out,
            "receipt    {}, fee charged {}",
            one_line(&receipt.status),
            receipt.fee_charged
        )?;
        for event in receipt.events.iter() {
            writeln!(out, "  {}", one_line(event))?;
        }
    }
    Ok(())
}

/// An account and its history page, readably.
pub(crate) fn write_account(out: &mut impl Write, account: &AccountInfo) -> anyhow::Result<()> {
    writeln!(out, "address    {}", account.address)?;
    writeln!(out, "balance    {}", account.balance)?;
    if account.pending_nonce > account.nonce {
        writeln!(
            out,
            "nonce      {} ({} with its {} pending in the node's mempool)",
            account.nonce,
            account.pending_nonce,
            account.pending_nonce - account.nonce
        )?;
    } else {
        writeln!(out, "nonce      {}", account.nonce)?;
    }
    writeln!(out, "stake      {}", account.stake)?;
    writeln!(out, "shares     {}", account.bankroll_shares)?;
    if account.history.is_empty() {
        writeln!(out, "history    none")?;
        return Ok(());
    }
    writeln!(out, "history    (newest first)")?;
    for entry in &account.history {
        let source = entry.tx.map_or_else(
            || "by the block".to_owned(),
            |t| format!("tx {}", api::short(&t.to_string())),
        );
        writeln!(
            out,
            "  #{:<5} height {:<7} {source}",
            entry.seq, entry.height
        )?;
        for event in &entry.events {
            writeln!(out, "      {}", one_line(event))?;
        }
    }
    Ok(())
}

fn write_round(out: &mut impl Write, info: &RoundInfo) -> anyhow::Result<()> {
    let s = &info.summary;
    writeln!(
        out,
        "round      {} of table {} ({})",
        s.round, s.table.0, s.game
    )?;
    writeln!(out, "status     {}", one_line(&s.status))?;
    writeln!(
        out,
        "heights    opened {}, settled {}",
        s.opened_height,
        s.settled_height
            .map_or_else(|| "-".to_owned(), |h| h.to_string())
    )?;
    writeln!(
        out,
        "bets       {} staking {} chips, {} paid out",
        s.bets, s.wagered, s.paid
    )?;
    if info.randomness.is_empty() {
        writeln!(out, "beacon     not published yet")?;
    }
    for r in &info.randomness {
        writeln!(
            out,
            "beacon     entry for height {}, published at {}, epoch {}",
            r.entry.height, r.published_height, r.epoch
        )?;
        writeln!(out, "  σ          {}", one_line(&r.entry.signature))?;
        writeln!(out, "  message    {}", r.message)?;
        writeln!(out, "  group key  {}", r.group_public_key)?;
        writeln!(out, "  derivation {}", r.derivation)?;
    }
    writeln!(out, "outcome    ({} events)", info.events.len())?;
    for event in &info.events {
        writeln!(out, "  {}", one_line(event))?;
    }
    Ok(())
}

fn write_validators(out: &mut impl Write, validators: &[ValidatorInfo]) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<16} {:>12} {:>10} {:>7} {:>7} {:>6}  slashed",
        "address", "stake", "unbonding", "uptime", "missed", "active"
    )?;
    for v in validators {
        writeln!(
            out,
            "{:<16} {:>12} {:>10} {:>6.1}% {:>7} {:>6}  {}",
            api::short(&v.address.to_string()),
            v.stake,
            v.unbonding,
            v.uptime * 100.0,
            v.missed_heights,
            if v.active { "yes" } else { "no" },
            if v.slashed {
                format!("yes ({} chips)", v.slashed_amount)
            } else {
                "no".to_owned()
            }
        )?;
    }
    Ok(())
}

fn write_leaderboard(out: &mut impl Write, entries: &[LeaderboardEntry]) -> anyhow::Result<()> {
    if entries.is_empty() {
        writeln!(out, "no bets settled yet")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>4}  {:<64} {:>12} {:>12} {:>7}",
        "rank", "address", "net", "wagered", "bets"
    )?;
    for e in entries {
        writeln!(
            out,
            "{:>4}  {:<64} {:>+12} {:>12} {:>7}",
            e.rank, e.address, e.net_winnings, e.wagered, e.bets
        )?;
    }
    Ok(())
}

/// The bankroll, readably.
pub(crate) fn write_bankroll(out: &mut impl Write, b: &BankrollInfo) -> anyhow::Result<()> {
    writeln!(out, "balance          {} chips", b.balance)?;
    writeln!(out, "shares           {}", b.total_shares)?;
    writeln!(
        out,
        "withdrawing      {} shares",
        b.pending_withdrawal_shares
    )?;
    writeln!(out, "withdrawal delay {} blocks", b.withdrawal_delay_blocks)?;
    writeln!(out, "exposure         {} chips at risk", b.exposure)?;
    writeln!(
        out,
        "round limit      {:.2}% of the balance",
        f64::from(b.max_round_exposure_bps) / 100.0
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[&str]) -> Result<Args, clap::Error> {
        crate::api::parse_args(line)
    }

    #[test]
    fn blocks_are_named_by_height_hash_or_latest() {
        assert_eq!(parse_block_ref("1"), Ok(BlockRef::Height(1)));
        assert_eq!(parse_block_ref("latest"), Ok(BlockRef::Latest));
        let hash = "ab".repeat(32);
        assert!(matches!(parse_block_ref(&hash), Ok(BlockRef::Hash(_))));
        assert!(parse_block_ref("xyz").unwrap_err().contains("neither"));
        assert!(parse_block_ref("").is_err());
    }

    #[test]
    fn the_shared_flags_keep_their_place_and_say_what_explore_does_with_them() {
        let command = <Args as clap::Args>::augment_args(clap::Command::new("explore"));
        let flags: Vec<(String, String)> = command
            .get_arguments()
            .map(|a| {
                let help = a.get_help().map(ToString::to_string).unwrap_or_default();
                (a.get_id().to_string(), help)
            })
            .collect();
        let ids: Vec<&str> = flags.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["api", "cookie", "home", "json", "genesis"]);
        assert_eq!(flags[3].1, "Print the API's JSON");
        assert!(
            flags[4]
                .1
                .starts_with("The chain's genesis file, the trust anchor `explore round`"),
            "{flags:?}"
        );
    }

    #[test]
    fn parses_the_explore_commands() {
        let args = parse(&["block", "1", "--json"]).unwrap();
        assert!(args.output.json);
        assert_eq!(
            args.command,
            ExploreCommand::Block {
                block: BlockRef::Height(1)
            }
        );
        assert!(parse(&["tx", "00"]).is_err());
        assert!(parse(&["tx", &"0".repeat(64)]).is_ok());
        assert_eq!(
            parse(&["round", "2", "5"]).unwrap().command,
            ExploreCommand::Round {
                table: 2,
                round: 5,
                verify: false
            }
        );
        let args = parse(&["round", "2", "5", "--verify", "--genesis", "g.json"]).unwrap();
        assert_eq!(args.genesis.genesis, Some("g.json".into()));
        assert!(matches!(
            args.command,
            ExploreCommand::Round { verify: true, .. }
        ));
        assert_eq!(
            parse(&["leaderboard", "--game", "craps"]).unwrap().command,
            ExploreCommand::Leaderboard {
                game: Some("craps".into()),
                limit: 10
            }
        );
        assert!(parse(&["leaderboard", "--game", "poker"]).is_err());
        assert_eq!(
            parse(&["validators"]).unwrap().command,
            ExploreCommand::Validators
        );
        assert_eq!(
            parse(&["bankroll"]).unwrap().command,
            ExploreCommand::Bankroll
        );
    }

    #[test]
    fn only_a_failed_or_required_verification_fails() {
        let verdict = |decided, verified| Verdict {
            decided,
            verified,
            checks: vec![],
            note: None,
        };
        assert!(round_exit(1, 2, Some(&verdict(true, true)), true).is_ok());
        assert!(round_exit(1, 2, Some(&verdict(false, false)), false).is_ok());
        assert!(round_exit(1, 2, None, false).is_ok());
        for (v, required) in [
            (Some(verdict(true, false)), false),
            (Some(verdict(false, false)), true),
            (None, true),
        ] {
            let error = round_exit(1, 2, v.as_ref(), required).unwrap_err();
            assert_eq!(
                error.downcast_ref::<crate::node::Coded>().unwrap().code,
                EXIT_NOT_VERIFIED
            );
        }
    }

    #[test]
    fn shows_an_account_and_a_bankroll() {
        let account = AccountInfo {
            address: wallet::Keypair::generate().unwrap().address(),
            balance: 995,
            nonce: 2,
            pending_nonce: 2,
            stake: 0,
            bankroll_shares: 7,
            history: vec![],
            next_before: None,
        };
        let mut out = Vec::new();
        write_account(&mut out, &account).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("balance    995\n"), "{text}");
        assert!(text.contains("shares     7\n"), "{text}");
        assert!(text.contains("history    none"), "{text}");
        assert!(text.contains("nonce      2\n"), "{text}");
        let busy = AccountInfo {
            pending_nonce: 5,
            ..account
        };
        let mut out = Vec::new();
        write_account(&mut out, &busy).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("nonce      2 (5 with its 3 pending in the node's mempool)"),
            "{text}"
        );
        let bankroll = BankrollInfo {
            balance: 1_000,
            total_shares: 1_000,
            pending_withdrawal_shares: 0,
            withdrawal_delay_blocks: 10,
            exposure: 25,
            max_round_exposure_bps: 250,
        };
        let mut out = Vec::new();
        write_bankroll(&mut out, &bankroll).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("2.50% of the balance"), "{text}");
    }
}
