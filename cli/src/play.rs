//! `bitcraps play`: bet on crash and craps with the node's wallet or a
//! keystore (`--keystore`). A bet at a table where the wallet has no seat
//! takes the seat first.

use std::io;

use consensus::tx::{Action, TableId};
use game_rules::Chips;
use game_rules::craps::{BetKind, Working};
use game_rules::crash::Multiplier;
use node::api::Game;
use node::client::ApiClient;

use crate::api::{self, ApiArgs};
use crate::sign::{ClientArgs, Signer};

/// Arguments of `bitcraps play`.
#[derive(clap::Args)]
#[command(mut_args(api::help_of(
    "json",
    "Print the API's JSON: one object per transaction sent, one per line"
)))]
pub struct Args {
    #[command(flatten)]
    node: ClientArgs,
    #[command(subcommand)]
    game: PlayGame,
}

/// The game.
#[derive(clap::Subcommand, Debug, PartialEq)]
enum PlayGame {
    /// Crash: bet on the next round, cash out while it runs.
    #[command(subcommand)]
    Crash(CrashCommand),
    /// Craps: place bets, set odds, take bets down.
    #[command(subcommand)]
    Craps(CrapsCommand),
}

/// A crash action.
#[derive(clap::Subcommand, Debug, PartialEq)]
enum CrashCommand {
    /// Bet on the next round (takes a seat first if needed).
    Bet {
        /// The crash table's id.
        table: u64,
        /// The stake, chips.
        amount: u64,
        /// Cash out automatically at this multiplier, e.g. 2.5 (above 1.00,
        /// two decimals at most).
        #[arg(long, value_name = "MULTIPLIER", value_parser = parse_multiplier)]
        auto: Option<u64>,
    },
    /// Cash out the running bet.
    CashOut {
        /// The crash table's id.
        table: u64,
    },
}

/// A craps action.
#[derive(clap::Subcommand, Debug, PartialEq)]
enum CrapsCommand {
    /// Place a bet (takes a seat first if needed).
    Bet {
        /// The craps table's id.
        table: u64,
        /// What the bet is on: pass, dont-pass, come, dont-come, field,
        /// place-6, buy-4, lay-10, hard-8, any-seven, any-craps, two, three,
        /// eleven, twelve, horn, craps-eleven, hop-2-5, big-6, big-8.
        #[arg(value_parser = parse_kind)]
        kind: BetKind,
        /// The stake, chips.
        amount: u64,
    },
    /// Set the odds behind one of your line bets (0 takes them down).
    Odds {
        /// The craps table's id.
        table: u64,
        /// The line bet's id.
        bet: u64,
        /// The odds amount, chips.
        amount: u64,
    },
    /// Take down one of your bets where the rules allow.
    TakeDown {
        /// The craps table's id.
        table: u64,
        /// The bet's id.
        bet: u64,
    },
    /// Turn one of your bets (a line bet: its odds) on, off, or back to
    /// the table's default.
    Working {
        /// The craps table's id.
        table: u64,
        /// The bet's id.
        bet: u64,
        /// on, off or default.
        #[arg(value_parser = parse_working)]
        working: Working,
    },
}

/// Reads `on`, `off` or `default`.
fn parse_working(text: &str) -> Result<Working, String> {
    match text {
        "on" => Ok(Working::On),
        "off" => Ok(Working::Off),
        "default" => Ok(Working::TableDefault),
        _ => Err(format!("{text:?} is not a switch; use on, off or default")),
    }
}

/// Reads a multiplier such as `2.5` or `2.31` into hundredths (`250`).
fn parse_multiplier(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "{text:?} is not a multiplier; use e.g. 2.5 (above 1.00, at most {})",
            Multiplier::MAX_HUNDREDTHS / 100
        )
    };
    let text = text.trim().trim_end_matches(['x', '×']);
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let fraction: u64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let hundredths = whole
        .checked_mul(100)
        .and_then(|h| h.checked_add(fraction))
        .ok_or_else(bad)?;
    if !(101..=Multiplier::MAX_HUNDREDTHS).contains(&hundredths) {
        return Err(bad());
    }
    Ok(hundredths)
}

/// Reads a bet kind in the API's text form (`place-6`, `hop-2-5`), through
/// the consensus crate's own decoding of a craps bet.
fn parse_kind(text: &str) -> Result<BetKind, String> {
    let body = serde_json::json!({ "craps_bet": { "table": 0, "kind": text, "amount": 1 } });
    match serde_json::from_value::<Action>(body) {
        Ok(Action::CrapsBet { kind, .. }) => Ok(kind),
        _ => Err(format!(
            "{text:?} is not a craps bet; use e.g. pass, dont-pass, come, field, place-6, \
             buy-4, lay-10, hard-8, any-seven, horn, hop-2-5, big-6"
        )),
    }
}

impl PlayGame {
    /// The action to send and, for a bet, the game its table must play.
    fn action(&self) -> (Action, Option<Game>) {
        match *self {
            PlayGame::Crash(CrashCommand::Bet {
                table,
                amount,
                auto,
            }) => (
                Action::CrashBet {
                    table: TableId(table),
                    amount: Chips(amount),
                    auto_cash_out: auto,
                },
                Some(Game::Crash),
            ),
            PlayGame::Crash(CrashCommand::CashOut { table }) => (
                Action::CrashCashOut {
                    table: TableId(table),
                },
                None,
            ),
            PlayGame::Craps(CrapsCommand::Bet {
                table,
                kind,
                amount,
            }) => (
                Action::CrapsBet {
                    table: TableId(table),
                    kind,
                    amount: Chips(amount),
                },
                Some(Game::Craps),
            ),
            PlayGame::Craps(CrapsCommand::Odds { table, bet, amount }) => (
                Action::CrapsOdds {
                    table: TableId(table),
                    bet,
                    amount: Chips(amount),
                },
                None,
            ),
            PlayGame::Craps(CrapsCommand::TakeDown { table, bet }) => (
                Action::CrapsTakeDown {
                    table: TableId(table),
                    bet,
                },
                None,
            ),
            PlayGame::Craps(CrapsCommand::Working {
                table,
                bet,
                working,
            }) => (
                Action::CrapsSetWorking {
                    table: TableId(table),
                    bet,
                    working,
                },
                None,
            ),
        }
    }
}

/// Runs `bitcraps play`.
pub fn run(args: Args) -> anyhow::Result<()> {
    api::finish(api::block_on(execute(args)))
}

async fn execute(args: Args) -> anyhow::Result<()> {
    let client = args.node.api.client()?;
    let (action, bet_game) = args.game.action();
    action
        .check_well_formed()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut signer = Signer::open(&args.node.sign, &args.node.api, &client).await?;
    let mut out = io::stdout().lock();
    if let (Some(game), Some(table)) = (bet_game, action.table()) {
        let me = match signer.address() {
            Some(me) => me,
            None => {
                args.node
                    .api
                    .node_wallet(
                        &client,
                        "bet with your own key (--keystore FILE|NAME) or start the node with \
                         one (`bitcraps node init --wallet`)",
                    )
                    .await?
            }
        };
        if let Some(join) = seat_needed(&client, &args.node.api, me, table, game).await? {
            // The seat first, accepted (with --wait, finalized) before the
            // bet is sent: the bet gets the next nonce, so the ledger seats
            // the wallet first.
            signer
                .deliver(&client, &args.node.api, &join, &mut out, args.node.json())
                .await?;
        }
    }
    signer
        .deliver(&client, &args.node.api, &action, &mut out, args.node.json())
        .await
}

/// The `JoinTable` to send first if `me` has no seat at `table`; an error
/// if the table does not exist, plays another game, or is full.
async fn seat_needed(
    client: &ApiClient,
    api: &ApiArgs,
    me: wallet::Address,
    table: TableId,
    game: Game,
) -> anyhow::Result<Option<Action>> {
    let tables = client.tables().await.map_err(|e| api.explain(e))?;
    let info = tables.iter().find(|t| t.id == table).ok_or_else(|| {
        crate::node::coded(
            crate::node::EXIT_REFUSED,
            format!(
                "there is no table {}; list them with `bitcraps tables`",
                table.0
            ),
        )
    })?;
    let plays = Game::of(&info.game);
    if plays != game {
        return Err(crate::node::coded(
            crate::node::EXIT_REFUSED,
            format!(
                "table {} plays {plays}, not {game}; use `bitcraps play {plays} …` or pick a \
                 {game} table from `bitcraps tables`",
                table.0
            ),
        ));
    }
    if info.players.contains(&me) {
        return Ok(None);
    }
    if info.players.len() >= usize::from(info.max_players) {
        return Err(crate::node::coded(
            crate::node::EXIT_REFUSED,
            format!(
                "table {} is full ({} seats); pick another from `bitcraps tables`",
                table.0, info.max_players
            ),
        ));
    }
    Ok(Some(Action::JoinTable { table }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use game_rules::craps::PointNumber;

    fn parse(line: &[&str]) -> Result<Args, clap::Error> {
        crate::api::parse_args(line)
    }

    #[test]
    fn multipliers_become_hundredths() {
        assert_eq!(parse_multiplier("2.5"), Ok(250));
        assert_eq!(parse_multiplier("2.31"), Ok(231));
        assert_eq!(parse_multiplier("3"), Ok(300));
        assert_eq!(parse_multiplier("1.01x"), Ok(101));
        for bad in ["1", "1.00", "0.5", "2.555", "", ".5", "-2", "abc", "2.a"] {
            assert!(parse_multiplier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bet_kinds_use_the_api_text() {
        assert_eq!(parse_kind("pass"), Ok(BetKind::Pass));
        assert_eq!(
            parse_kind("place-6"),
            Ok(BetKind::Place(PointNumber::from_total(6).unwrap()))
        );
        assert!(matches!(parse_kind("hard-8"), Ok(BetKind::Hard(_))));
        assert!(matches!(parse_kind("hop-2-5"), Ok(BetKind::Hop(_))));
        assert!(parse_kind("place-7").unwrap_err().contains("place-6"));
    }

    #[test]
    fn parses_every_play_command() {
        let args = parse(&["crash", "bet", "1", "10", "--auto", "2.5"]).unwrap();
        assert_eq!(
            args.game.action(),
            (
                Action::CrashBet {
                    table: TableId(1),
                    amount: Chips(10),
                    auto_cash_out: Some(250)
                },
                Some(Game::Crash)
            )
        );
        let args = parse(&["crash", "cash-out", "1", "--json"]).unwrap();
        assert!(args.node.json());
        assert_eq!(args.game.action().1, None);
        let args = parse(&["craps", "bet", "2", "pass", "5"]).unwrap();
        assert_eq!(
            args.game.action().0,
            Action::CrapsBet {
                table: TableId(2),
                kind: BetKind::Pass,
                amount: Chips(5)
            }
        );
        let args = parse(&["craps", "odds", "2", "7", "10"]).unwrap();
        assert!(matches!(
            args.game.action().0,
            Action::CrapsOdds { bet: 7, .. }
        ));
        let args = parse(&["craps", "take-down", "2", "7"]).unwrap();
        assert!(matches!(
            args.game.action().0,
            Action::CrapsTakeDown { bet: 7, .. }
        ));
        let args = parse(&["craps", "working", "2", "7", "off"]).unwrap();
        assert_eq!(
            args.game.action().0,
            Action::CrapsSetWorking {
                table: TableId(2),
                bet: 7,
                working: Working::Off
            }
        );
        assert!(parse(&["craps", "working", "2", "7", "maybe"]).is_err());
        let args = parse(&["craps", "bet", "2", "pass", "5", "--keystore", "k.json"]).unwrap();
        assert_eq!(args.node.sign.keystore.as_deref(), Some("k.json"));
        assert!(parse(&["craps", "bet", "2", "nope", "5"]).is_err());
        assert!(parse(&["crash", "bet", "1", "10", "--auto", "0.9"]).is_err());
    }
}
