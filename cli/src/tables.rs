//! `bitcraps tables`: list the tables and the bets on one, open or close
//! one, take or leave a seat.

use std::io::{self, Write};

use consensus::receipt::Wager;
use consensus::tx::{Action, TableGame, TableId, TableName};
use game_rules::Chips;
use game_rules::craps::{OddsLimit, Working};
use game_rules::crash::Multiplier;
use node::api::{CrashBetState, Game, OpenBet, OpenBetState, TableInfo};
use node::client::WalletReply;
use wallet::Address;

use crate::api;
use crate::sign::{ClientArgs, Signer};

/// Arguments of `bitcraps tables`.
#[derive(clap::Args)]
#[command(mut_args(api::help_of(
    "json",
    "Print the API's JSON (one object per transaction sent, one per line, for the commands \
     that send)"
)))]
pub struct Args {
    #[command(flatten)]
    node: ClientArgs,
    /// Without a subcommand: list the tables.
    #[command(subcommand)]
    command: Option<TablesCommand>,
}

/// What to do with tables.
#[derive(clap::Subcommand, Debug, PartialEq)]
enum TablesCommand {
    /// Open a table owned by the signing wallet.
    Create {
        /// The game.
        #[arg(value_parser = ["crash", "craps"])]
        game: String,
        /// The name shown in the lobby (at most 32 bytes).
        name: String,
        /// The smallest bet, chips.
        #[arg(long, default_value_t = 1)]
        min: u64,
        /// The largest bet, chips.
        #[arg(long, default_value_t = 1_000)]
        max: u64,
        /// The most players seated at once.
        #[arg(long, default_value_t = 8)]
        seats: u16,
        /// Craps only: the odds a line bet may carry, `3-4-5` or a flat
        /// multiple such as `10`.
        #[arg(long, default_value = "3-4-5", value_parser = parse_odds)]
        odds: OddsLimit,
    },
    /// Take a seat at a table.
    Join {
        /// The table's id.
        id: u64,
    },
    /// Leave a table.
    Leave {
        /// The table's id.
        id: u64,
    },
    /// Close a table the signing wallet owns (refused while bets are
    /// outstanding).
    Close {
        /// The table's id.
        id: u64,
    },
    /// The bets still on a table: stake, odds, point and whether each
    /// works on the next roll (craps); riding or cashing out (crash).
    Bets {
        /// The table's id.
        id: u64,
        /// Only this player's bets (craps1…).
        #[arg(long)]
        player: Option<Address>,
    },
}

/// Reads `3-4-5` or a flat odds multiple.
fn parse_odds(text: &str) -> Result<OddsLimit, String> {
    if text == "3-4-5" {
        return Ok(OddsLimit::ThreeFourFive);
    }
    text.trim_end_matches(['x', '×'])
        .parse()
        .map(OddsLimit::Flat)
        .map_err(|_| format!("{text:?} is not an odds limit; use 3-4-5 or a multiple such as 10"))
}

/// The `CreateTable` action for `tables create`.
fn create_action(
    game: &str,
    name: &str,
    min: u64,
    max: u64,
    seats: u16,
    odds: OddsLimit,
) -> anyhow::Result<Action> {
    let (min_bet, max_bet) = (Chips(min), Chips(max));
    let game = match game {
        "crash" => TableGame::Crash { min_bet, max_bet },
        "craps" => TableGame::Craps {
            min_bet,
            max_bet,
            odds,
        },
        other => anyhow::bail!("{other:?} is not a game; use crash or craps"),
    };
    let name = TableName::new(name.trim().to_owned())
        .map_err(|e| anyhow::anyhow!("{name:?} is not a table name: {e}"))?;
    let action = Action::CreateTable {
        name,
        max_players: seats,
        game,
    };
    action
        .check_well_formed()
        .map_err(|e| anyhow::anyhow!("{e}; change --min, --max, --seats or the name"))?;
    Ok(action)
}

/// Runs `bitcraps tables`.
pub fn run(args: Args) -> anyhow::Result<()> {
    api::finish(api::block_on(execute(args)))
}

async fn execute(args: Args) -> anyhow::Result<()> {
    let client = args.node.api.client()?;
    let mut out = io::stdout().lock();
    let action = match args.command {
        None => {
            let tables = client
                .tables()
                .await
                .map_err(|e| args.node.api.explain(e))?;
            if args.node.json() {
                return api::write_json(&mut out, &serde_json::json!({ "tables": tables }));
            }
            return write_tables(&mut out, &tables);
        }
        Some(TablesCommand::Create {
            game,
            name,
            min,
            max,
            seats,
            odds,
        }) => create_action(&game, &name, min, max, seats, odds)?,
        Some(TablesCommand::Join { id }) => Action::JoinTable { table: TableId(id) },
        Some(TablesCommand::Leave { id }) => Action::LeaveTable { table: TableId(id) },
        Some(TablesCommand::Close { id }) => Action::CloseTable { table: TableId(id) },
        Some(TablesCommand::Bets { id, player }) => {
            let bets = client
                .table_bets(TableId(id), player.as_ref())
                .await
                .map_err(|e| args.node.api.explain(e))?;
            if args.node.json() {
                return api::write_json(
                    &mut out,
                    &serde_json::json!({ "table": id, "bets": bets }),
                );
            }
            return write_bets(&mut out, id, &bets);
        }
    };
    let mut signer = Signer::open(&args.node.sign, &args.node.api, &client).await?;
    signer
        .deliver(&client, &args.node.api, &action, &mut out, args.node.json())
        .await
}

/// `min–max` of a table's game, with the craps odds.
fn limits(game: &TableGame) -> String {
    match *game {
        TableGame::Crash { min_bet, max_bet } => format!("{}–{}", min_bet.0, max_bet.0),
        TableGame::Craps {
            min_bet,
            max_bet,
            odds,
        } => {
            let odds = match odds {
                OddsLimit::ThreeFourFive => "3-4-5×".to_owned(),
                OddsLimit::Flat(n) => format!("{n}×"),
            };
            format!("{}–{}, odds {odds}", min_bet.0, max_bet.0)
        }
    }
}

/// The table list: id, name, game, limits, seats.
pub(crate) fn write_tables(out: &mut impl Write, tables: &[TableInfo]) -> anyhow::Result<()> {
    if tables.is_empty() {
        writeln!(
            out,
            "no tables yet; open one with `bitcraps tables create crash NAME`"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>4}  {:<20} {:<6} {:<22} {:>7}  round",
        "id", "name", "game", "limits (chips)", "seats"
    )?;
    for table in tables {
        let seats = format!("{}/{}", table.players.len(), table.max_players);
        writeln!(
            out,
            "{:>4}  {:<20} {:<6} {:<22} {:>7}  {}",
            table.id.0,
            table.name,
            Game::of(&table.game),
            limits(&table.game),
            seats,
            table
                .round
                .map_or_else(|| "-".to_owned(), |r| r.to_string())
        )?;
    }
    Ok(())
}

/// A table's open bets, one line each.
fn write_bets(out: &mut impl Write, table: u64, bets: &[OpenBet]) -> anyhow::Result<()> {
    if bets.is_empty() {
        writeln!(out, "no bets on table {table}")?;
        return Ok(());
    }
    for bet in bets {
        let wager = match bet.wager {
            Wager::Craps { kind } => kind.to_string(),
            Wager::Crash { auto_cash_out } => {
                match auto_cash_out.map(Multiplier::from_hundredths) {
                    Some(Ok(target)) => format!("crash, auto {target}"),
                    _ => "crash".to_owned(),
                }
            }
        };
        let state = match &bet.state {
            OpenBetState::Craps {
                odds,
                point,
                working,
                works_next_roll,
            } => {
                let mut parts = Vec::new();
                if *odds > Chips::ZERO {
                    parts.push(format!("odds {odds}"));
                }
                if let Some(point) = point {
                    parts.push(format!("point {point}"));
                }
                let switch = match working {
                    Working::TableDefault => "table default",
                    Working::On => "on",
                    Working::Off => "off",
                };
                let next = if *works_next_roll { "works" } else { "off" };
                parts.push(format!("{switch}, {next} on the next roll"));
                parts.join(", ")
            }
            OpenBetState::Crash { round, state } => match state {
                CrashBetState::Riding => format!("round {round}, riding"),
                CrashBetState::CashingOut { at } => {
                    format!("round {round}, cashing out at {at}")
                }
            },
        };
        writeln!(
            out,
            "#{:<5} {} {:<16} {:>8}  {state}",
            bet.bet,
            api::short(&bet.player.to_string()),
            wager,
            bet.amount.get()
        )?;
    }
    Ok(())
}

/// What a wallet route accepted: the API's JSON (one line) or a sentence.
pub(crate) fn write_sent(
    out: &mut impl Write,
    reply: &WalletReply,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, reply).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "sent {} (tx {}, nonce {}, fee {}): pending; `bitcraps explore tx {}` follows it",
            api::one_line(&reply.action),
            reply.hash,
            reply.nonce,
            reply.fee,
            reply.hash
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &[&str]) -> Args {
        crate::api::parse_args(line).unwrap()
    }

    #[test]
    fn parses_the_subcommands_and_global_flags() {
        let args = parse(&[]);
        assert!(args.command.is_none() && !args.node.json());
        let args = parse(&["join", "3", "--json", "--api", "http://127.0.0.1:9"]);
        assert_eq!(args.command, Some(TablesCommand::Join { id: 3 }));
        assert!(args.node.json());
        assert_eq!(args.node.api.api, "http://127.0.0.1:9");
        let args = parse(&["create", "craps", "Lucky", "--max", "50", "--odds", "10"]);
        let Some(TablesCommand::Create {
            game,
            max,
            min,
            seats,
            odds,
            ..
        }) = args.command
        else {
            panic!("not create");
        };
        assert_eq!((game.as_str(), min, max, seats), ("craps", 1, 50, 8));
        assert_eq!(odds, OddsLimit::Flat(10));
        let args = parse(&["close", "4", "--keystore", "house", "--fee", "2"]);
        assert_eq!(args.command, Some(TablesCommand::Close { id: 4 }));
        assert_eq!(args.node.sign.keystore.as_deref(), Some("house"));
        assert_eq!(args.node.sign.fee, Some(2));
        assert!(crate::api::parse_args::<Args>(&["close", "x"]).is_err());
        let bad = crate::api::parse_args::<Args>(&["create", "roulette", "x"]);
        assert!(bad.is_err());
        let player = wallet::Keypair::from_secret_bytes(&[4; 32]).address();
        let args = parse(&["bets", "2", "--player", &player.to_string()]);
        assert_eq!(
            args.command,
            Some(TablesCommand::Bets {
                id: 2,
                player: Some(player)
            })
        );
        assert!(crate::api::parse_args::<Args>(&["bets", "2", "--player", "nobody"]).is_err());
    }

    #[test]
    fn shows_each_bet_with_its_state() {
        let player = wallet::Keypair::from_secret_bytes(&[4; 32]).address();
        let bets = [
            OpenBet {
                bet: 3,
                player,
                amount: Chips(30),
                wager: Wager::Craps {
                    kind: game_rules::craps::BetKind::Pass,
                },
                state: OpenBetState::Craps {
                    odds: Chips(60),
                    point: Some(6),
                    working: Working::Off,
                    works_next_roll: false,
                },
            },
            OpenBet {
                bet: 4,
                player,
                amount: Chips(25),
                wager: Wager::Crash {
                    auto_cash_out: Some(250),
                },
                state: OpenBetState::Crash {
                    round: 9,
                    state: CrashBetState::CashingOut {
                        at: Multiplier::from_hundredths(180).unwrap(),
                    },
                },
            },
        ];
        let mut out = Vec::new();
        write_bets(&mut out, 1, &bets).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("pass")
                && text.contains("odds 60 chips, point 6, off, off on the next roll"),
            "{text}"
        );
        assert!(
            text.contains("crash, auto 2.50×") && text.contains("round 9, cashing out at 1.80×"),
            "{text}"
        );
        let mut out = Vec::new();
        write_bets(&mut out, 7, &[]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "no bets on table 7\n");
    }

    #[test]
    fn create_checks_the_limits() {
        let action = create_action("crash", "Moon", 1, 100, 4, OddsLimit::ThreeFourFive).unwrap();
        assert!(matches!(action, Action::CreateTable { max_players: 4, .. }));
        let error = create_action("crash", "Moon", 10, 5, 4, OddsLimit::ThreeFourFive);
        assert!(format!("{:#}", error.unwrap_err()).contains("--min"));
    }

    #[test]
    fn lists_tables_readably() {
        let table = TableInfo {
            id: TableId(2),
            name: "craps".into(),
            owner: wallet::Keypair::generate().unwrap().address(),
            game: TableGame::Craps {
                min_bet: Chips(1),
                max_bet: Chips(1000),
                odds: OddsLimit::ThreeFourFive,
            },
            max_players: 8,
            players: vec![],
            round: Some(7),
            shooter: None,
        };
        let mut out = Vec::new();
        write_tables(&mut out, &[table]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let row = text.lines().nth(1).unwrap();
        assert!(row.contains("   2  craps"), "{text}");
        assert!(row.contains("1–1000, odds 3-4-5×"), "{text}");
        assert!(row.contains("0/8"), "{text}");
        assert!(row.ends_with(" 7"), "{text}");
        let mut out = Vec::new();
        write_tables(&mut out, &[]).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("tables create"));
    }
}
