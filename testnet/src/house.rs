//! # The house tables
//!
//! A fresh chain has no tables, and a player who opens the TUI wants one of
//! each game waiting. Once the testnet is finalizing, [`open`] has the
//! bankroll owner (the house: its keystore is in the testnet's wallets
//! directory) open a crash table and a craps table by ordinary signed
//! transactions through a node's API — the same path any operator takes —
//! unless the chain already has a table of that game (a reused testnet).
//! The owner pays the table fees with chips minted from the faucet, which
//! the testnet genesis enables.

use std::path::Path;
use std::time::Duration;

use consensus::tx::{Action, SignedTransaction, TableGame, TableName, Transaction};
use game_rules::Chips;
use game_rules::craps::OddsLimit;
use node::api::{Game, TableInfo};
use node::client::{ApiClient, TxState};
use tokio::time::Instant;
use wallet::Keypair;

use crate::layout::Layout;

/// How long the house waits for its transactions to be applied.
const TIMEOUT: Duration = Duration::from_secs(60);

/// How many blocks the house's transactions stay valid.
const EXPIRY_BLOCKS: u64 = 1_000;

/// Why the house tables could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum HouseError {
    /// The bankroll owner's keystore could not be opened.
    #[error("cannot open the house wallet {path}: {reason}")]
    Wallet {
        /// The keystore.
        path: String,
        /// Why.
        reason: String,
    },
    /// The genesis could not be read.
    #[error("cannot read the genesis: {0}")]
    Genesis(String),
    /// A node did not answer or refused a transaction.
    #[error("the house's {action} transaction failed: {reason}; see the node logs")]
    Transaction {
        /// The action.
        action: &'static str,
        /// Why.
        reason: String,
    },
    /// The testnet has no node with an API.
    #[error("the testnet has no node with an API")]
    NoApi,
}

/// The tables the house opens: one per game, each with the chain's largest
/// seat count.
fn wanted(max_players: u16) -> [(Game, Action); 2] {
    let limits = (Chips(1), Chips(1_000));
    [
        (
            Game::Crash,
            Action::CreateTable {
                name: TableName::new("crash".to_owned()).expect("a short name"),
                max_players,
                game: TableGame::Crash {
                    min_bet: limits.0,
                    max_bet: limits.1,
                },
            },
        ),
        (
            Game::Craps,
            Action::CreateTable {
                name: TableName::new("craps".to_owned()).expect("a short name"),
                max_players,
                game: TableGame::Craps {
                    min_bet: limits.0,
                    max_bet: limits.1,
                    odds: OddsLimit::ThreeFourFive,
                },
            },
        ),
    ]
}

/// Opens the house tables the chain lacks (see the module documentation)
/// and returns every open table.
pub async fn open(layout: &Layout) -> Result<Vec<TableInfo>, HouseError> {
    let node = layout.api_nodes().next().ok_or(HouseError::NoApi)?;
    let client = ApiClient::new(&node.http_url()).map_err(|e| HouseError::Transaction {
        action: "status",
        reason: e.to_string(),
    })?;
    let failed = |action: &'static str| {
        move |e: node::client::ClientError| HouseError::Transaction {
            action,
            reason: e.to_string(),
        }
    };
    let tables = client.tables().await.map_err(failed("tables"))?;
    let genesis =
        crate::net::read_genesis(layout).map_err(|e| HouseError::Genesis(e.to_string()))?;
    let missing: Vec<Action> = wanted(genesis.params.max_players_per_table)
        .into_iter()
        .filter(|(game, _)| !tables.iter().any(|t| Game::of(&t.game) == *game))
        .map(|(_, action)| action)
        .collect();
    if missing.is_empty() {
        return Ok(tables);
    }
    let house = house_wallet(&layout.wallets_dir())?;
    let account = client
        .account(&house.address(), None, 1)
        .await
        .map_err(failed("account"))?;
    let status = client.status().await.map_err(failed("status"))?;
    let fee = genesis.params.min_fee;
    let needed = Chips(fee.0 * missing.len() as u64);
    let mut nonce = account.nonce;
    let mut actions = Vec::new();
    if account.balance < needed.0 {
        let faucet = genesis.params.faucet.ok_or_else(|| HouseError::Transaction {
            action: "faucet",
            reason: format!(
                "the house holds {} chips, needs {needed} for fees, and the genesis has no faucet",
                account.balance
            ),
        })?;
        actions.push((
            Action::Faucet {
                amount: faucet.max_per_request.min(Chips(needed.0.max(1_000))),
            },
            Chips::ZERO,
        ));
    }
    actions.extend(missing.into_iter().map(|a| (a, fee)));
    let expiry_height = status.node.height.unwrap_or(0) + EXPIRY_BLOCKS;
    let txs: Vec<SignedTransaction> = actions
        .into_iter()
        .map(|(action, fee)| {
            let tx = Transaction {
                chain_id: status.node.chain_id,
                sender: house.public_key(),
                nonce,
                fee,
                expiry_height,
                action,
            }
            .sign(&house);
            nonce += 1;
            tx
        })
        .collect();
    // One at a time: the mempool checks the fee against the balance the
    // faucet transaction has not yet paid in.
    let deadline = Instant::now() + TIMEOUT;
    let mut applied_at = 0;
    for tx in &txs {
        client
            .submit_transaction(tx)
            .await
            .map_err(failed(tx.tx.action.name()))?;
        applied_at = wait_applied(&client, tx, deadline).await?;
    }
    // Every node, not just the one asked, has the tables before `up`
    // reports them: a player node follows a block or so behind.
    for node in layout.api_nodes() {
        wait_height(node, applied_at, deadline).await?;
    }
    client.tables().await.map_err(failed("tables"))
}

/// Waits until the node behind `entry` has applied `height`.
async fn wait_height(
    entry: &crate::layout::NodeEntry,
    height: u64,
    deadline: Instant,
) -> Result<(), HouseError> {
    let client = ApiClient::new(&entry.http_url()).map_err(|e| HouseError::Transaction {
        action: "status",
        reason: e.to_string(),
    })?;
    loop {
        if let Ok(status) = client.status().await
            && status.node.height.is_some_and(|h| h >= height)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(HouseError::Transaction {
                action: "status",
                reason: format!(
                    "{} did not reach height {height} within {TIMEOUT:?}; is it following the chain?",
                    entry.name
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until `tx` is applied and returns the height of its block; a
/// rejection or the deadline is an error.
async fn wait_applied(
    client: &ApiClient,
    tx: &SignedTransaction,
    deadline: Instant,
) -> Result<u64, HouseError> {
    let action = tx.tx.action.name();
    loop {
        match client.transaction(&tx.hash()).await {
            Ok(reply) if reply.status == TxState::Applied => {
                return Ok(reply.block_height.unwrap_or_default());
            }
            Ok(reply) if reply.status == TxState::Rejected => {
                return Err(HouseError::Transaction {
                    action,
                    reason: reply.receipt.map_or_else(
                        || "rejected".into(),
                        |r| format!("rejected: {:?}", r.status),
                    ),
                });
            }
            _ => {}
        }
        if Instant::now() >= deadline {
            return Err(HouseError::Transaction {
                action,
                reason: format!("not applied within {TIMEOUT:?}; is the chain finalizing?"),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The bankroll owner's key, from `bankroll.json` and its password file.
fn house_wallet(dir: &Path) -> Result<Keypair, HouseError> {
    let keystore = dir.join("bankroll.json");
    let password = dir.join("bankroll.password");
    node::daemon::open_wallet(&keystore, Some(&password)).map_err(|e| HouseError::Wallet {
        path: keystore.display().to_string(),
        reason: e.to_string(),
    })
}
