//! # Wallet routes: actions signed with the node's own key
//!
//! Every `/v1/wallet/*` route carries one kind of [`Action`]: its body is
//! that action's JSON fields (as the consensus crate writes them, e.g.
//! `{"table": 3, "kind": "place-6", "amount": 10}` for `craps_bet`) plus
//! an optional `fee`. One table, [`WALLET_ROUTES`], lists them; the
//! router, the OpenAPI document and [`ApiClient`](crate::client::ApiClient)
//! all read it, so a route cannot exist in one and be missing in another.
//!
//! A body is refused (400, nothing submitted) when it is not JSON, names a
//! field the action does not have, misses one, or describes an action that
//! is not well formed; the ledger's own checks (balance, seat, limits) come
//! after, when the transaction is included.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use consensus::hash::TxHash;
use consensus::tx::Action;
use game_rules::Chips;
use serde::Serialize;
use serde_json::{Map, Value};
use wallet::Address;

use super::AppState;
use super::error::ApiError;
use super::types::WalletSubmission;

/// One wallet route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalletRoute {
    /// Its path.
    pub path: &'static str,
    /// The action its body describes ([`Action::name`]).
    pub action: &'static str,
    /// One line for the OpenAPI document.
    pub summary: &'static str,
}

const fn route(path: &'static str, action: &'static str, summary: &'static str) -> WalletRoute {
    WalletRoute {
        path,
        action,
        summary,
    }
}

/// Every wallet route. Registering a validator and slashing evidence are
/// not here: sign those yourself and `POST /v1/txs`.
pub const WALLET_ROUTES: &[WalletRoute] = &[
    route("/v1/wallet/transfer", "transfer", "Transfer chips"),
    route(
        "/v1/wallet/tables/create",
        "create_table",
        "Open a table owned by the node's wallet",
    ),
    route(
        "/v1/wallet/tables/close",
        "close_table",
        "Close a table the wallet owns",
    ),
    route("/v1/wallet/tables/join", "join_table", "Take a seat"),
    route("/v1/wallet/tables/leave", "leave_table", "Leave a seat"),
    route(
        "/v1/wallet/crash/bet",
        "crash_bet",
        "Bet on the next crash round",
    ),
    route(
        "/v1/wallet/crash/cash-out",
        "crash_cash_out",
        "Cash out the running crash bet",
    ),
    route("/v1/wallet/craps/bet", "craps_bet", "Place a craps bet"),
    route(
        "/v1/wallet/craps/odds",
        "craps_odds",
        "Set the odds behind a line bet (0 takes them down)",
    ),
    route(
        "/v1/wallet/craps/take-down",
        "craps_take_down",
        "Take down a craps bet",
    ),
    route(
        "/v1/wallet/craps/working",
        "craps_set_working",
        "Turn a craps bet on, off or back to the table default",
    ),
    route("/v1/wallet/stake", "stake", "Bond validator stake"),
    route("/v1/wallet/unstake", "unstake", "Start unbonding stake"),
    route(
        "/v1/wallet/bankroll/deposit",
        "bankroll_deposit",
        "Deposit into the bankroll for pool shares",
    ),
    route(
        "/v1/wallet/bankroll/withdraw",
        "bankroll_withdraw",
        "Redeem bankroll pool shares",
    ),
    route(
        "/v1/wallet/faucet",
        "faucet",
        "Mint test chips (only where the genesis enables the faucet)",
    ),
];

/// The route that carries `action`, if a wallet route does.
pub fn route_of(action: &Action) -> Option<&'static WalletRoute> {
    WALLET_ROUTES.iter().find(|r| r.action == action.name())
}

/// The body of `action`'s wallet route: the action's fields and `fee`.
pub fn request_body(action: &Action, fee: Option<u64>) -> Value {
    let mut fields = match serde_json::to_value(action) {
        Ok(Value::Object(mut outer)) => match outer.remove(action.name()) {
            Some(Value::Object(fields)) => fields,
            _ => Map::new(),
        },
        _ => Map::new(),
    };
    fields.insert("fee".into(), fee.into());
    Value::Object(fields)
}

/// Reads a wallet body for the action named `action`: the action and the
/// fee it offers. Errors are the 400s the routes answer.
pub fn parse_request(action: &str, body: &[u8]) -> Result<(Action, Option<u64>), ApiError> {
    let Value::Object(mut fields) =
        serde_json::from_slice(body).map_err(ApiError::malformed_json)?
    else {
        return Err(ApiError::malformed_json("the body is not a JSON object"));
    };
    let fee = match fields.remove("fee") {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_u64().ok_or_else(|| {
            ApiError::malformed_json("fee must be a whole number of chips, or null")
        })?),
    };
    let given: Vec<String> = fields.keys().cloned().collect();
    let wrapped = Value::Object(Map::from_iter([(action.to_owned(), Value::Object(fields))]));
    let parsed = match serde_json::from_value::<Action>(wrapped.clone()) {
        Ok(parsed) => parsed,
        Err(error) if action == "craps_bet" && !bet_kind_parses(&wrapped) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_bet_kind",
                format!(
                    "{error}; use pass, dont-pass, come, dont-come, place-N, buy-N, lay-N, field, hard-N, any-seven, any-craps, two, three, eleven, twelve, horn, craps-eleven, hop-A-B, big-6 or big-8"
                ),
            ));
        }
        Err(error) => return Err(ApiError::malformed_json(error)),
    };
    // The action's own JSON names every field it has (options as null), so
    // a key it does not write back is one it does not know.
    let known = request_body(&parsed, None);
    if let Some(unknown) = given.iter().find(|key| known.get(key.as_str()).is_none()) {
        return Err(ApiError::malformed_json(format!(
            "unknown field `{unknown}`; see /v1/openapi.json for this route's fields"
        )));
    }
    parsed.check_well_formed().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_action",
            format!("{e}; fix the request"),
        )
    })?;
    Ok((parsed, fee))
}

/// Whether the `kind` of a `craps_bet` body is a bet kind the rules know
/// (so a refusal can say the kind was the problem).
fn bet_kind_parses(wrapped: &Value) -> bool {
    let kind = wrapped["craps_bet"]["kind"].clone();
    let probe = serde_json::json!({ "craps_bet": { "table": 0, "kind": kind, "amount": 1 } });
    serde_json::from_value::<Action>(probe).is_ok()
}

/// What a wallet route answers (202).
#[derive(Debug, Serialize)]
pub(crate) struct WalletBody {
    hash: TxHash,
    nonce: u64,
    fee: u64,
    sender: Address,
    action: Action,
    status: &'static str,
}

/// `POST` on a wallet route: parses the body as `route`'s action, then
/// signs and submits it with the node's wallet.
pub(crate) async fn submit(
    route: &'static WalletRoute,
    State(state): State<Arc<AppState>>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = super::routes::body(bytes, state.config.max_body_bytes)?;
    let (action, fee) = parse_request(route.action, &body)?;
    let Some(wallet) = state.wallet.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_wallet",
            "this node has no wallet loaded; start it with a wallet, or sign the transaction yourself and POST it to /v1/txs",
        ));
    };
    let sent = action.clone();
    let submitted = tokio::task::spawn_blocking(move || {
        let sender = wallet.address();
        wallet
            .submit_action(sent, fee.map(Chips))
            .map(|submission: WalletSubmission| (submission, sender))
    })
    .await
    .map_err(|error| {
        ApiError::internal(format!("the wallet failed ({error}); see the node's logs"))
    })?;
    let (submission, sender) = submitted?;
    Ok((
        StatusCode::ACCEPTED,
        Json(WalletBody {
            hash: submission.hash,
            nonce: submission.nonce,
            fee: submission.fee,
            sender,
            action,
            status: "pending",
        }),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use consensus::tx::TableId;
    use game_rules::craps::BetKind;

    #[test]
    fn every_route_names_an_action_once() {
        let mut names: Vec<&str> = WALLET_ROUTES.iter().map(|r| r.action).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), WALLET_ROUTES.len());
        for route in WALLET_ROUTES {
            assert!(route.path.starts_with("/v1/wallet/"), "{}", route.path);
        }
    }

    #[test]
    fn request_bodies_read_back_as_their_action() {
        let actions = [
            Action::JoinTable { table: TableId(4) },
            Action::CrashBet {
                table: TableId(1),
                amount: Chips(10),
                auto_cash_out: Some(231),
            },
            Action::CrapsBet {
                table: TableId(2),
                kind: BetKind::all().nth(7).unwrap(),
                amount: Chips(5),
            },
            Action::CrapsOdds {
                table: TableId(2),
                bet: 9,
                amount: Chips(0),
            },
            Action::Faucet {
                amount: Chips(1_000),
            },
        ];
        for action in actions {
            let route = route_of(&action).expect("a wallet route");
            let body = request_body(&action, Some(3)).to_string();
            let (parsed, fee) = parse_request(route.action, body.as_bytes()).unwrap();
            assert_eq!(parsed, action);
            assert_eq!(fee, Some(3));
        }
    }

    #[test]
    fn bad_bodies_are_refused_with_their_code() {
        let cases = [
            ("join_table", r#"{"table": 1, "seat": 2}"#, "malformed_json"),
            ("join_table", r#"[1]"#, "malformed_json"),
            ("join_table", r#"{"table": 1, "fee": -1}"#, "malformed_json"),
            (
                "craps_bet",
                r#"{"table": 1, "kind": "place-7", "amount": 5}"#,
                "bad_bet_kind",
            ),
            (
                "craps_bet",
                r#"{"table": 1, "kind": "pass"}"#,
                "malformed_json",
            ),
            ("faucet", r#"{"amount": 0}"#, "invalid_action"),
        ];
        for (action, body, code) in cases {
            let error = parse_request(action, body.as_bytes()).unwrap_err();
            assert_eq!(error.code, code, "{action} {body}: {error:?}");
        }
    }
}
