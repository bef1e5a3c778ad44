//! The API's OpenAPI 3.1 document, built here and checked in as
//! `node/openapi.json` (the API tests fail if the two differ; run them with
//! `BITCRAPS_UPDATE_OPENAPI=1` to rewrite the file).
//!
//! Shapes owned by the consensus crate (blocks, transactions, receipts,
//! ledger events, actions) are described as objects pointing at their Rust
//! documentation rather than restated field by field.

use serde_json::{Value, json};

/// A JSON reference to a component schema.
fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A JSON response of `name`.
fn ok(description: &str, name: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": schema(name) } }
    })
}

/// An error response.
fn err(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": schema("Error") } }
    })
}

/// The answers every route may give besides its own.
fn common(mut responses: Value) -> Value {
    let map = responses.as_object_mut().expect("responses is an object");
    map.insert(
        "403".into(),
        err("Host or Origin is not this node's API (DNS-rebinding defence)"),
    );
    map.insert(
        "429".into(),
        err("Rate limited; wait the Retry-After seconds"),
    );
    responses
}

/// A path parameter.
fn param(name: &str, description: &str, kind: &str) -> Value {
    json!({
        "name": name, "in": "path", "required": true, "description": description,
        "schema": { "type": kind }
    })
}

/// A query parameter.
fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// `limit` from 1 to 100.
fn limit(default: u64) -> Value {
    query(
        "limit",
        "How many entries, 1 to 100.",
        json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": default }),
    )
}

/// A GET operation.
fn read(summary: &str, parameters: Vec<Value>, responses: Value) -> Value {
    json!({ "get": {
        "summary": summary,
        "parameters": parameters,
        "responses": common(responses),
    }})
}

/// A wallet POST operation taking `body`.
fn wallet(summary: &str, body: &str) -> Value {
    json!({ "post": {
        "summary": summary,
        "security": [{ "cookieToken": [] }],
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": schema(body) } }
        },
        "responses": common(json!({
            "202": ok("Signed with the node's key and submitted", "WalletSubmitted"),
            "400": err("Malformed JSON, an unknown field or an invalid action (code malformed_json, invalid_action, bad_bet_kind)"),
            "401": err("Missing or wrong bearer token (code missing_token, invalid_token)"),
            "409": err("Already known"),
            "413": err("Body over the limit"),
            "422": err("Refused by the ledger state (nonce, balance, expiry)"),
            "503": err("No wallet loaded, mempool full or node not ready"),
        })),
    }})
}

/// The component schema of a wallet route's body: `crash_bet` →
/// `CrashBetRequest`.
fn request_schema(action: &str) -> String {
    let mut name: String = action
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    name.push_str("Request");
    name
}

/// An object schema with `required` fields.
fn object(description: &str, required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
    })
}

/// A schema for a type owned by the consensus crate.
fn external(description: &str) -> Value {
    json!({ "type": "object", "description": description })
}

fn chips(description: &str) -> Value {
    json!({ "type": "integer", "minimum": 0, "description": format!("{description}, chips") })
}

fn nullable(kind: &str) -> Value {
    json!({ "type": [kind, "null"] })
}

/// The component schemas.
fn schemas() -> Value {
    let hash = json!({ "type": "string", "pattern": "^[0-9a-f]{64}$", "description": "32-byte BLAKE3 hash, hex" });
    let address = json!({ "type": "string", "description": "Bech32 address, craps1…" });
    let shares = json!({ "type": "string", "pattern": "^[0-9]+$", "description": "u128 pool shares, decimal" });
    json!({
        "Error": object("Every error body.", &["code", "message"], json!({
            "code": { "type": "string", "description": "Stable machine-readable code" },
            "message": { "type": "string", "description": "What went wrong and what to do" },
        })),
        "Health": object("Liveness.", &["status"], json!({ "status": { "const": "ok" } })),
        "SyncProgress": object("Catch-up progress.", &["height", "target", "blocks_per_second", "eta_seconds"], json!({
            "height": { "type": "integer" }, "target": { "type": "integer" },
            "blocks_per_second": { "type": "number" }, "eta_seconds": nullable("integer"),
        })),
        "Ready": object("Readiness; when not ready also code and message.", &["ready", "height", "sync"], json!({
            "ready": { "type": "boolean" }, "height": nullable("integer"),
            "sync": { "oneOf": [schema("SyncProgress"), { "type": "null" }] },
            "code": { "const": "not_ready" }, "message": { "type": "string" },
        })),
        "Status": object("Node status.", &["version", "chain_id", "height", "block_hash", "epoch", "peers", "mempool_transactions", "min_fee", "syncing", "sync", "wallet"], json!({
            "version": { "type": "string" }, "chain_id": hash.clone(),
            "height": nullable("integer"), "block_hash": nullable("string"),
            "epoch": { "type": "integer" }, "peers": { "type": "integer" },
            "mempool_transactions": { "type": "integer" },
            "min_fee": chips("The chain's minimum fee per transaction (genesis min_fee; faucet requests are exempt)"),
            "syncing": { "type": "boolean" },
            "sync": { "oneOf": [schema("SyncProgress"), { "type": "null" }] },
            "wallet": nullable("string"),
        })),
        "Block": object("A finalized block.", &["hash", "height", "size_bytes", "encoded", "proof", "block"], json!({
            "hash": hash.clone(), "height": { "type": "integer" },
            "size_bytes": { "type": "integer" },
            "encoded": { "type": "string", "description": "Canonical borsh encoding, hex" },
            "proof": {
                "type": ["string", "null"],
                "description": "The block's finality certificate, hex: consensus::engine::FinalityProof (consensus context and threshold finalization), checked by consensus::engine::verify_finalized with the chain's group key alone. null when this node has none of its own (the block was finalized through a certified descendant, whose parent hashes lead to it)",
            },
            "block": external("consensus::block::Block as serde serializes it: header, transactions, beacon_entries"),
        })),
        "Transaction": object("A transaction and what became of it.", &["hash", "status", "sender", "tx", "block_height", "block_hash", "index", "receipt"], json!({
            "hash": hash.clone(),
            "status": { "enum": ["pending", "applied", "rejected"] },
            "sender": address.clone(),
            "tx": external("consensus::tx::SignedTransaction: tx {chain_id, sender, nonce, fee, expiry_height, action}, signature"),
            "block_height": nullable("integer"), "block_hash": nullable("string"), "index": nullable("integer"),
            "receipt": { "oneOf": [external("consensus::receipt::Receipt: tx, status, fee_charged, events"), { "type": "null" }] },
        })),
        "Submitted": object("Accepted into the mempool.", &["hash", "status"], json!({
            "hash": hash.clone(), "status": { "const": "pending" },
        })),
        "SubmitJson": object("A signed transaction as JSON.", &["tx"], json!({
            "tx": { "type": "string", "description": "borsh encoding of the SignedTransaction, hex" },
        })),
        "BatchSubmitJson": object("Signed transactions to submit, in order.", &["txs"], json!({
            "txs": {
                "type": "array", "minItems": 1, "maxItems": super::MAX_BATCH_TRANSACTIONS,
                "items": { "type": "string", "description": "borsh encoding of a SignedTransaction, hex" },
            },
        })),
        "BatchSubmitted": object("One result per transaction, in the request's order.", &["accepted", "results"], json!({
            "accepted": { "type": "integer", "description": "How many entered the mempool" },
            "results": { "type": "array", "items": schema("BatchItem") },
        })),
        "BatchItem": object("What became of one transaction of a batch.", &["hash", "status"], json!({
            "hash": { "type": ["string", "null"], "pattern": "^[0-9a-f]{64}$", "description": "Its hash; null if it did not decode" },
            "status": { "enum": ["pending", "refused"] },
            "error": schema("BatchItemError"),
        })),
        "BatchItemError": object("Why a transaction of a batch was refused: what POST /v1/txs would have answered for it alone.", &["http_status", "code", "message"], json!({
            "http_status": { "type": "integer", "description": "The single submission's HTTP status" },
            "code": { "type": "string", "description": "Its stable error code (already_known, invalid_transaction, transaction_refused, busy, …)" },
            "message": { "type": "string" },
            "retry_after": { "type": "integer", "description": "Seconds to wait before trying it again (busy, not_ready)" },
        })),
        "HistoryEntry": object("One entry of an account's history: a transaction that concerns it, or a block whose own events do (a settlement, a refund, a payout).", &["seq", "height", "tx", "events"], json!({
            "seq": { "type": "integer", "description": "Cursor for history_before" },
            "height": { "type": "integer" },
            "tx": { "type": ["string", "null"], "description": "The transaction; null for the block's own events" },
            "events": { "type": "array", "items": external("consensus::receipt::LedgerEvent"), "description": "What happened to the account, in order: the events that name it, and a transaction's events that name no account" },
        })),
        "Account": object("An account.", &["address", "balance", "nonce", "pending_nonce", "stake", "bankroll_shares", "history", "next_before"], json!({
            "address": address.clone(), "balance": chips("Spendable balance"),
            "nonce": { "type": "integer", "description": "The ledger's next nonce for the account" },
            "pending_nonce": { "type": "integer", "description": "The nonce a new transaction should carry: after the account's transactions waiting in this node's mempool (equal to nonce when none are)" },
            "stake": chips("Bonded stake"),
            "bankroll_shares": shares.clone(),
            "history": { "type": "array", "items": schema("HistoryEntry") },
            "next_before": nullable("integer"),
        })),
        "Validator": object("A validator.", &["address", "consensus_key", "stake", "unbonding", "active", "uptime", "missed_heights", "slashed", "slashed_amount", "network_address"], json!({
            "address": address.clone(), "consensus_key": { "type": "string", "description": "ed25519 key, hex" },
            "stake": chips("Bonded stake"), "unbonding": chips("Unbonding stake"),
            "active": { "type": "boolean" },
            "uptime": { "type": "number", "minimum": 0, "maximum": 1, "description": "Of the views of the current epoch it led, the share that produced a finalized block: (led - missed_heights) / led; 1 when it led none. For display; the counts are exact" },
            "missed_heights": { "type": "integer", "minimum": 0, "description": "The views of the current epoch it led that produced no finalized block (nullified, or never finalized): exact, derived by every node from the chain alone. Each block header carries its view, the leader of each view is the engine's round-robin elector over the epoch's committee, and every view from 1 up to the epoch's last finalized block's view without a finalized block counts against its leader. 0 outside the epoch's committee. Counts views, not heights, despite the name" }, "slashed": { "type": "boolean" },
            "slashed_amount": chips("Slashed in total"), "network_address": { "type": "string" },
        })),
        "Validators": object("Every validator.", &["validators"], json!({
            "validators": { "type": "array", "items": schema("Validator") },
        })),
        "Table": object("An open table.", &["id", "name", "owner", "game", "max_players", "players", "round", "shooter"], json!({
            "id": { "type": "integer" }, "name": { "type": "string" }, "owner": address.clone(),
            "game": external("consensus::tx::TableGame: {\"crash\": {min_bet, max_bet}} or {\"craps\": {min_bet, max_bet, odds}}"),
            "max_players": { "type": "integer" },
            "players": { "type": "array", "items": address.clone() },
            "round": nullable("integer"),
            "shooter": {
                "type": ["string", "null"],
                "description": "Craps: the seated player holding the dice, bech32 craps1…; null at a crash table or an empty craps table",
            },
        })),
        "Tables": object("Open tables.", &["tables"], json!({
            "tables": { "type": "array", "items": schema("Table") },
        })),
        "RoundSummary": object("A round.", &["table", "round", "game", "status", "opened_height", "settled_height", "bets", "wagered", "paid", "outcome"], json!({
            "table": { "type": "integer" }, "round": { "type": "integer" },
            "game": { "enum": ["crash", "craps"] },
            "status": { "enum": ["betting", "running", "settled", "void"] },
            "opened_height": { "type": "integer" }, "settled_height": nullable("integer"),
            "bets": { "type": "integer" }, "wagered": chips("Staked"), "paid": chips("Paid out"),
            "outcome": {
                "description": "What the randomness decided; null while open or void. {\"crashed\": {\"at_hundredths\"}}, \"capped\", or {\"rolled\": {\"dice\": [a, b], \"total\", \"point\", \"seven_out\"}}",
                "oneOf": [{ "type": "null" }, { "const": "capped" }, { "type": "object" }],
            },
        })),
        "Rounds": object("A table's rounds, newest first.", &["table", "rounds", "next_before"], json!({
            "table": { "type": "integer" },
            "rounds": { "type": "array", "items": schema("RoundSummary") },
            "next_before": nullable("integer"),
        })),
        "OpenBet": object("A bet still on a table.", &["bet", "player", "amount", "wager", "state"], json!({
            "bet": { "type": "integer" },
            "player": address.clone(),
            "amount": chips("The stake, a line bet's odds apart"),
            "wager": external("consensus::receipt::Wager: {\"craps\": {\"kind\": \"place-6\"}} or {\"crash\": {\"auto_cash_out\": hundredths or null}}"),
            "state": external("consensus::ledger::OpenBetState: {\"craps\": {\"odds\", \"point\" (null or 4–10), \"working\" (\"table_default\", \"on\" or \"off\"), \"works_next_roll\"}} or {\"crash\": {\"round\", \"state\": \"riding\" or {\"cashing_out\": {\"at\": multiplier}}}}"),
        })),
        "Bets": object("The bets still on a table, in bet id order.", &["table", "bets"], json!({
            "table": { "type": "integer" },
            "bets": { "type": "array", "items": schema("OpenBet") },
        })),
        "RoundRandomness": object("Verify entry.signature as the threshold BLS signature of message under group_public_key, then apply derivation.", &["entry", "published_height", "epoch", "message", "group_public_key", "derivation"], json!({
            "entry": external("consensus::block::BeaconEntry: height, signature (hex)"),
            "published_height": { "type": "integer" }, "epoch": { "type": "integer" },
            "message": { "type": "string", "description": "hex" },
            "group_public_key": { "type": "string", "description": "hex" },
            "derivation": { "type": "string" },
        })),
        "Round": {
            "allOf": [schema("RoundSummary"), object("Randomness and events.", &["randomness", "events"], json!({
                "randomness": { "type": "array", "items": schema("RoundRandomness") },
                "events": { "type": "array", "items": external("consensus::receipt::LedgerEvent") },
            }))]
        },
        "LeaderboardEntry": object("A player's line.", &["rank", "address", "net_winnings", "wagered", "bets"], json!({
            "rank": { "type": "integer", "minimum": 1 }, "address": address.clone(),
            "net_winnings": { "type": "integer", "description": "Paid out minus staked, chips; negative for a loss" },
            "wagered": chips("Staked"), "bets": { "type": "integer" },
        })),
        "Leaderboard": object("Top players by net winnings.", &["game", "entries"], json!({
            "game": { "enum": ["crash", "craps", "all"] },
            "entries": { "type": "array", "items": schema("LeaderboardEntry") },
        })),
        "Bankroll": object("The shared bankroll.", &["balance", "total_shares", "pending_withdrawal_shares", "withdrawal_delay_blocks", "exposure", "max_round_exposure_bps"], json!({
            "balance": chips("In the pool"), "total_shares": shares.clone(),
            "pending_withdrawal_shares": shares.clone(),
            "withdrawal_delay_blocks": { "type": "integer" }, "exposure": chips("At risk in open rounds"),
            "max_round_exposure_bps": { "type": "integer" },
        })),
        "Fee": { "type": ["integer", "null"], "minimum": 0, "description": "Fee in chips; the node's default if absent" },
        "WalletSubmitted": object("Signed and submitted.", &["hash", "nonce", "fee", "sender", "action", "status"], json!({
            "hash": hash, "nonce": { "type": "integer" }, "fee": chips("Fee paid"),
            "sender": address, "action": external("consensus::tx::Action, tagged by its snake_case name"),
            "status": { "const": "pending" },
        })),
    })
}

/// `a` with `b`'s entries added (both objects).
fn merged(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// The bodies of the wallet routes, named as [`request_schema`] names them.
fn wallet_schemas() -> Value {
    let address = json!({ "type": "string", "description": "Bech32 address, craps1…" });
    let shares = json!({ "type": "string", "pattern": "^[0-9]+$", "description": "u128 pool shares, decimal" });
    json!({
        "TransferRequest": object("Send chips.", &["to", "amount"], json!({
            "to": address.clone(), "amount": chips("How much, at least 1"), "fee": schema("Fee"),
        })),
        "CrashBetRequest": object("Bet on the next crash round.", &["table", "amount"], json!({
            "table": { "type": "integer" }, "amount": chips("Stake, at least 1"),
            "auto_cash_out": { "type": ["integer", "null"], "minimum": 101, "maximum": 100_000_000, "description": "Hundredths (231 = 2.31x)" },
            "fee": schema("Fee"),
        })),
        "CrashCashOutRequest": object("Cash out the running crash bet.", &["table"], json!({
            "table": { "type": "integer" }, "fee": schema("Fee"),
        })),
        "CreateTableRequest": object("Open a table.", &["name", "max_players", "game"], json!({
            "name": { "type": "string", "minLength": 1, "description": "Shown in the lobby" },
            "max_players": { "type": "integer", "minimum": 1, "description": "At most the genesis max_players_per_table" },
            "game": { "description": "{\"crash\": {\"min_bet\", \"max_bet\"}} or {\"craps\": {\"min_bet\", \"max_bet\", \"odds\"}}; odds is \"three_four_five\" or {\"flat\": n}", "type": "object" },
            "fee": schema("Fee"),
        })),
        "CloseTableRequest": object("Close a table the wallet owns; refused while bets are outstanding.", &["table"], json!({
            "table": { "type": "integer" }, "fee": schema("Fee"),
        })),
        "JoinTableRequest": object("Take a seat.", &["table"], json!({
            "table": { "type": "integer" }, "fee": schema("Fee"),
        })),
        "LeaveTableRequest": object("Leave a seat; refused while the wallet has bets at the table.", &["table"], json!({
            "table": { "type": "integer" }, "fee": schema("Fee"),
        })),
        "CrapsOddsRequest": object("Set the odds behind a line bet.", &["table", "bet", "amount"], json!({
            "table": { "type": "integer" }, "bet": { "type": "integer", "description": "The line bet's id" },
            "amount": chips("The new odds amount, 0 takes them down"), "fee": schema("Fee"),
        })),
        "CrapsTakeDownRequest": object("Take down a bet where the rules allow.", &["table", "bet"], json!({
            "table": { "type": "integer" }, "bet": { "type": "integer" }, "fee": schema("Fee"),
        })),
        "CrapsSetWorkingRequest": object("Turn a bet (a line bet's odds) on, off or back to the table default.", &["table", "bet", "working"], json!({
            "table": { "type": "integer" }, "bet": { "type": "integer" },
            "working": { "enum": ["on", "off", "table_default"] }, "fee": schema("Fee"),
        })),
        "UnstakeRequest": object("Start unbonding stake.", &["amount"], json!({
            "amount": chips("How much, at least 1"), "fee": schema("Fee"),
        })),
        "BankrollDepositRequest": object("Deposit into the bankroll.", &["amount"], json!({
            "amount": chips("How much, at least 1"), "fee": schema("Fee"),
        })),
        "BankrollWithdrawRequest": object("Redeem pool shares after the withdrawal delay.", &["shares"], json!({
            "shares": shares.clone(), "fee": schema("Fee"),
        })),
        "FaucetRequest": object("Mint test chips, up to the genesis faucet maximum.", &["amount"], json!({
            "amount": chips("How much, at least 1"), "fee": schema("Fee"),
        })),
        "CrapsBetRequest": object("Place a craps bet.", &["table", "kind", "amount"], json!({
            "table": { "type": "integer" },
            "kind": { "type": "string", "description": "pass, dont-pass, come, dont-come, place-N, buy-N, lay-N, field, hard-N, any-seven, any-craps, two, three, eleven, twelve, horn, craps-eleven, hop-A-B, big-6, big-8" },
            "amount": chips("Stake, at least 1"), "fee": schema("Fee"),
        })),
        "StakeRequest": object("Bond validator stake.", &["amount"], json!({
            "amount": chips("How much, at least 1"), "fee": schema("Fee"),
        })),
    })
}

/// The OpenAPI document.
pub fn document() -> Value {
    let not_found = || err("Not on this node");
    let bad = |what: &str| err(what);
    let mut paths = json!({
        "/health": read("Liveness: 200 while the process runs", vec![], json!({
            "200": ok("Alive", "Health"),
        })),
        "/ready": read("Readiness: 200 when synced", vec![], json!({
            "200": ok("Synced", "Ready"),
            "503": ok("Syncing (code not_ready, with progress)", "Ready"),
        })),
        "/metrics": read("Prometheus metrics (bitcraps_*, base units)", vec![], json!({
            "200": { "description": "OpenMetrics text", "content": { "application/openmetrics-text": { "schema": { "type": "string" } } } },
        })),
        "/v1/openapi.json": read("This document", vec![], json!({
            "200": { "description": "OpenAPI 3.1", "content": { "application/json": { "schema": { "type": "object" } } } },
        })),
        "/v1/status": read("Chain id, height, epoch, peers, the chain's minimum fee, sync progress", vec![], json!({
            "200": ok("Status", "Status"),
        })),
        "/v1/blocks/{height}": read("A block by height, with its finality certificate", vec![param("height", "A height, or latest", "string")], json!({
            "200": ok("The block", "Block"), "400": bad("Not a height (code bad_height)"), "404": not_found(),
        })),
        "/v1/blocks/hash/{hash}": read("A block by hash, with its finality certificate", vec![param("hash", "64 hex characters", "string")], json!({
            "200": ok("The block", "Block"), "400": bad("Not a hash (code bad_hash)"), "404": not_found(),
        })),
        "/v1/txs/{hash}": read("A transaction with its block and receipt", vec![param("hash", "64 hex characters", "string")], json!({
            "200": ok("The transaction", "Transaction"), "400": bad("Not a hash (code bad_hash)"), "404": not_found(),
        })),
        "/v1/txs": { "post": {
            "summary": "Submit a signed transaction (open: it carries its own signature)",
            "requestBody": { "required": true, "content": {
                "application/octet-stream": { "schema": { "type": "string", "format": "binary", "maxLength": consensus::tx::MAX_TX_BYTES } },
                "text/plain": { "schema": { "type": "string", "description": "borsh encoding, hex (0x optional)" } },
                "application/json": { "schema": schema("SubmitJson") },
            }},
            "responses": common(json!({
                "202": ok("In the mempool", "Submitted"),
                "400": bad("Malformed hex, JSON or transaction, or invalid (code malformed_hex, malformed_json, malformed_transaction, invalid_transaction)"),
                "409": bad("Already known (code already_known)"),
                "413": bad("Body or transaction too large (code payload_too_large, transaction_too_large)"),
                "422": bad("Refused by the ledger state (code transaction_refused)"),
                "503": bad("Mempool full or node not ready (code busy, not_ready)"),
            })),
        }},
        "/v1/txs/batch": { "post": {
            "summary": "Submit up to 1024 signed transactions at once (open: each carries its own signature); each is taken as POST /v1/txs would take it, and costs one rate-limit token",
            "requestBody": { "required": true, "content": {
                "application/json": { "schema": schema("BatchSubmitJson") },
            }},
            "responses": common(json!({
                "200": ok("One result per transaction, in order", "BatchSubmitted"),
                "400": bad("Malformed JSON or an empty batch (code malformed_json, empty_batch)"),
                "413": bad("Body over max_batch_body_bytes (1 MiB by default) or more than 1024 transactions (code payload_too_large, too_many_transactions)"),
                "415": bad("Not JSON (code unsupported_media_type)"),
            })),
        }},
        "/v1/accounts/{address}": read("Balance, nonce and pending nonce, stake, shares and history", vec![
            param("address", "craps1…", "string"),
            query("history_before", "Only history entries with seq below this", json!({ "type": "integer" })),
            limit(20),
        ], json!({
            "200": ok("The account", "Account"), "400": bad("Not an address or a bad query (code bad_address, bad_query)"),
        })),
        "/v1/validators": read("Validators: stake, uptime, missed views, slashing", vec![], json!({
            "200": ok("Validators", "Validators"),
        })),
        "/v1/tables": read("Open tables: game, name, limits, players", vec![], json!({
            "200": ok("Tables", "Tables"),
        })),
        "/v1/tables/{id}/rounds": read("A table's rounds, newest first", vec![
            param("id", "Table id", "integer"),
            query("before", "Only rounds numbered below this", json!({ "type": "integer" })),
            limit(20),
        ], json!({
            "200": ok("Rounds", "Rounds"), "400": bad("Bad table id or query (code bad_table, bad_query)"), "404": not_found(),
        })),
        "/v1/tables/{id}/bets": read("The bets still on a table: stake, odds, point, working switch and whether it works on the next roll (craps); riding or cashing out (crash)", vec![
            param("id", "Table id", "integer"),
            query("player", "Only this player's bets (craps1…)", json!({ "type": "string" })),
        ], json!({
            "200": ok("Bets", "Bets"), "400": bad("Bad table id, address or query (code bad_table, bad_address, bad_query)"), "404": not_found(),
        })),
        "/v1/rounds/{table}/{round}": read("A round with its randomness and events", vec![
            param("table", "Table id", "integer"), param("round", "Round number", "integer"),
        ], json!({
            "200": ok("The round", "Round"), "400": bad("Bad table id or round (code bad_table, bad_round)"), "404": not_found(),
        })),
        "/v1/leaderboard": read("Top players by net winnings", vec![
            query("game", "crash, craps or all", json!({ "enum": ["crash", "craps", "all"], "default": "all" })),
            limit(10),
        ], json!({
            "200": ok("Leaderboard", "Leaderboard"), "400": bad("Bad query (code bad_query)"),
        })),
        "/v1/bankroll": read("The shared bankroll", vec![], json!({
            "200": ok("Bankroll", "Bankroll"),
        })),
        "/v1/ws": read(
            "WebSocket: send {\"op\":\"subscribe\"|\"unsubscribe\",\"topics\":[...]} with topics blocks, crash:{table}, craps:{table}, receipts:{address}, leaderboard; receive {\"type\":\"event\",\"topic\",\"event\"}. Slow clients are disconnected.",
            vec![],
            json!({
                "101": { "description": "Switching to the WebSocket protocol" },
                "400": bad("Not a WebSocket upgrade (code websocket_required)"),
                "503": bad("Too many clients (code too_many_clients)"),
            }),
        ),
    });
    if let Some(map) = paths.as_object_mut() {
        for route in super::WALLET_ROUTES {
            map.insert(
                route.path.into(),
                wallet(route.summary, &request_schema(route.action)),
            );
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "BitCraps node local API",
            "version": "1",
            "description": "The node's local REST and WebSocket API. Reads are open; /v1/wallet/* needs Authorization: Bearer <token>, the token being the contents of the node's API cookie file (mode 0600, new at each start). Every error is {\"code\", \"message\"}.",
        },
        "servers": [{ "url": "http://127.0.0.1:7380" }],
        "paths": paths,
        "components": {
            "schemas": merged(schemas(), wallet_schemas()),
            "securitySchemes": {
                "cookieToken": {
                    "type": "http", "scheme": "bearer",
                    "description": "The 64 hex characters in the node's API cookie file",
                },
            },
        },
    })
}

/// The document as served and checked in: pretty JSON and a newline.
pub(crate) fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}
