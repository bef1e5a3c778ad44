//! Entry points for fuzzing the node's decoders of outside input, beside
//! `consensus::fuzz` (transactions, blocks, genesis, receipts).
//!
//! Each function takes arbitrary bytes and runs exactly the code the node
//! runs on them when they arrive from a peer, a file or an API client:
//! the gossip validation pipelines, the sync protocol's codec and response
//! checks, the configuration parser and the API's body parsers. They are
//! pure (no I/O, no clock, no randomness), so a `cargo fuzz` target is one
//! line (see `fuzz/` at the top of the repository):
//!
//! ```ignore
//! fuzz_target!(|data: &[u8]| node::fuzz::sync_response(data));
//! ```
//!
//! The decoders never panic. These functions panic **only** when an
//! invariant is broken — something accepted that does not round-trip, a
//! response accepted that breaks its request, a refusal that is not a
//! structured 4xx — which would be a bug for the fuzzer to report.

use std::path::Path;

use consensus::tx::SignedTransaction;
use libp2p::PeerId;
use libp2p::StreamProtocol;
use libp2p::futures::executor::block_on;
use libp2p::futures::io::Cursor;
use libp2p::request_response::Codec;
use wallet::ChainId;

use crate::api::{WALLET_ROUTES, parse_transaction_body, parse_wallet_request};
use crate::config::NodeConfig;
use crate::mempool::CheckedTransaction;
use crate::network::sync::{SyncCodec, decode_response};
use crate::network::{
    BlockValidator, FinalizedBlock, MAX_BLOCKS_PER_RESPONSE, MAX_FINALIZED_BLOCK_BYTES,
    MAX_SYNC_REQUEST_BYTES, MAX_SYNC_RESPONSE_BYTES, SyncRequest, TransactionValidator, Verdict,
    decode_batch, encode_batch, validate_block, validate_tx_batch,
};

/// The chain the fuzzed messages are judged against when they name none.
const FUZZ_CHAIN: ChainId = ChainId::new([7; 32]);

/// A stateful validator that accepts whatever passed the stateless checks,
/// so that the fuzzer reaches the end of each pipeline.
struct AcceptAll;

impl TransactionValidator for AcceptAll {
    fn validate_transaction(&self, _tx: CheckedTransaction, _from: &PeerId) -> Verdict {
        Verdict::Accept
    }
}

impl BlockValidator for AcceptAll {
    fn validate_block(&self, _block: &FinalizedBlock, _from: &PeerId) -> Verdict {
        Verdict::Accept
    }
}

/// A fixed peer id (only logged by the pipelines).
fn peer() -> PeerId {
    let key = libp2p::identity::Keypair::ed25519_from_bytes([1u8; 32])
        .expect("any 32 bytes are an ed25519 secret key");
    key.public().to_peer_id()
}

/// The gossip pipeline of the transaction topic
/// (`network::validation::validate_tx_batch`): the batch's framing within
/// its bounds, each transaction's decode, signature and stateless checks,
/// then the verdict. A batch whose transactions are all delivered must
/// re-encode (with its nonce) to the gossiped bytes; an accepted batch
/// must decode
/// ([`decode_batch`]) and a rejected one must not have all its
/// transactions delivered.
pub fn gossip_tx_batch(data: &[u8]) {
    // Judge it against the chain of its first transaction when that
    // decodes, so the fuzzer gets past the chain check to the signature.
    let chain = decode_batch(data)
        .ok()
        .and_then(|batch| batch.txs.first().map(|tx| tx.tx.chain_id))
        .unwrap_or(FUZZ_CHAIN);
    let outcome = validate_tx_batch(data, &chain, &AcceptAll, &peer());
    match outcome.verdict {
        Verdict::Accept => {
            // `AcceptAll` admits every transaction that passed the
            // stateless checks and knows none, so all of them are here.
            assert_eq!(outcome.ignored, 0, "AcceptAll ignores nothing");
            let encoded: Vec<Vec<u8>> = outcome
                .admitted
                .iter()
                .map(SignedTransaction::encode)
                .collect();
            let batch = decode_batch(data).expect("accepted but does not decode");
            assert_eq!(
                batch.txs, outcome.admitted,
                "accepted but decodes otherwise"
            );
            assert_eq!(
                encode_batch(batch.nonce, &encoded),
                data,
                "an accepted batch re-encodes differently"
            );
        }
        Verdict::Reject => assert!(outcome.admitted.is_empty(), "rejected but delivered"),
        Verdict::Ignore => panic!("AcceptAll never ignores, so neither does the pipeline"),
    }
}

/// The gossip pipeline of the block topic
/// (`network::validation::validate_block`): size bound, decode of the
/// finalized block, well-formedness for its chain, every transaction
/// signature. A block that is delivered must re-encode to the gossiped
/// bytes.
pub fn gossip_block(data: &[u8]) {
    let chain = FinalizedBlock::decode(data, MAX_FINALIZED_BLOCK_BYTES)
        .map_or(FUZZ_CHAIN, |b| b.block.header.chain_id);
    let (verdict, delivered) =
        validate_block(data, MAX_FINALIZED_BLOCK_BYTES, &chain, &AcceptAll, &peer());
    match delivered {
        Some(block) => {
            assert_eq!(verdict, Verdict::Accept);
            assert_eq!(
                block.encode(),
                data,
                "a delivered block re-encodes differently"
            );
        }
        None => assert_ne!(verdict, Verdict::Accept, "accepted but not delivered"),
    }
}

fn protocol() -> StreamProtocol {
    StreamProtocol::new("/bitcraps/fuzz/sync")
}

/// The sync protocol's request reader (`SyncCodec::read_request`: read to
/// the end of the stream under `MAX_SYNC_REQUEST_BYTES`, then the bounded
/// decoder). An accepted request must re-encode to its bytes.
pub fn sync_request(data: &[u8]) {
    let mut codec = SyncCodec {
        max_response_bytes: MAX_SYNC_RESPONSE_BYTES,
    };
    let mut io = Cursor::new(data);
    if let Ok(request) = block_on(codec.read_request(&protocol(), &mut io)) {
        assert!(data.len() <= MAX_SYNC_REQUEST_BYTES);
        assert_eq!(
            consensus::encoding::encode(&request),
            data,
            "a sync request re-encodes differently"
        );
    }
}

/// The sync protocol's response reader (`SyncCodec::read_response`), then
/// the checks against a request (`decode_response`). The first 9 bytes
/// choose the request (`from_height`, `max`); the rest is the response on
/// the wire. Blocks accepted must be of the asked chain, at consecutive
/// heights from the asked one, and no more than asked.
pub fn sync_response(data: &[u8]) {
    let Some((head, wire)) = data.split_first_chunk::<9>() else {
        return;
    };
    let from_height = u64::from_le_bytes(head[..8].try_into().unwrap_or([0; 8])) % 1_000;
    let max = usize::from(head[8]) % (MAX_BLOCKS_PER_RESPONSE + 1);
    // A small response limit keeps each run fast; the reader's bound is
    // the same code whatever the limit.
    let mut codec = SyncCodec {
        max_response_bytes: 64 * 1024,
    };
    let mut io = Cursor::new(wire);
    let Ok(response) = block_on(codec.read_response(&protocol(), &mut io)) else {
        return;
    };
    assert_eq!(
        consensus::encoding::encode(&response),
        wire,
        "a sync response re-encodes differently"
    );
    // Judge the blocks against the chain of the first one, to go deep.
    let chain = match &response {
        crate::network::SyncResponse::Blocks(items) => items
            .iter()
            .next()
            .and_then(|b| FinalizedBlock::decode(b.as_bytes(), MAX_FINALIZED_BLOCK_BYTES).ok())
            .map_or(FUZZ_CHAIN, |b| b.block.header.chain_id),
        crate::network::SyncResponse::Refused(_) => FUZZ_CHAIN,
    };
    if let Ok(blocks) = decode_response(&chain, from_height, max, response) {
        assert!(blocks.len() <= max, "more blocks than asked for");
        for (expected, block) in (from_height..).zip(&blocks) {
            assert_eq!(block.block.header.height, expected);
            assert_eq!(block.block.header.chain_id, chain);
        }
    }
    // The request a syncing node sends round-trips too.
    let request = SyncRequest::GetBlocks {
        from_height,
        max: max as u32,
    };
    let mut wire = Cursor::new(Vec::new());
    let written = block_on(codec.write_request(&protocol(), &mut wire, request.clone()));
    assert!(written.is_ok());
    let mut read = Cursor::new(wire.into_inner());
    assert_eq!(
        block_on(codec.read_request(&protocol(), &mut read)).ok(),
        Some(request)
    );
}

/// The configuration file parser (`NodeConfig::from_toml`) and its checks
/// (`validate`). A configuration that parses must print as TOML
/// (`to_toml`, which `bitcraps config show` and `node init` use) and read
/// back as itself.
pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    if let Ok(config) = NodeConfig::from_toml(text, path) {
        let _ = config.validate();
        let printed = config.to_toml();
        match NodeConfig::from_toml(&printed, path) {
            Ok(again) => assert_eq!(again, config, "a configuration does not read back"),
            Err(error) => panic!("a printed configuration does not parse: {error}\n{printed}"),
        }
    }
}

/// The body parser of every wallet route (`api::parse_wallet_request`):
/// the first byte chooses the route, the rest is the body. A refusal must
/// be a structured 400 with a code and a message; an accepted body must
/// be an action of the route's kind.
pub fn api_wallet_body(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let route = &WALLET_ROUTES[usize::from(which) % WALLET_ROUTES.len()];
    match parse_wallet_request(route.action, body) {
        Ok((action, _fee)) => assert_eq!(action.name(), route.action),
        Err(error) => {
            assert!(error.status.is_client_error(), "{}: {error:?}", route.path);
            assert!(!error.code.is_empty() && !error.message.is_empty());
        }
    }
}

/// The body parser of `POST /v1/txs` (`api::routes::parse_transaction_body`):
/// the first byte chooses the content type (raw, JSON, hex text), the rest
/// is the body. A refusal must be a structured 4xx; an accepted
/// transaction must be the canonical decoding of the bytes sent.
pub fn api_transaction_body(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let content_type = match which % 4 {
        0 => "application/octet-stream",
        1 => "application/json",
        2 => "text/plain",
        _ => "",
    };
    match parse_transaction_body(content_type, body) {
        Ok(tx) => {
            if which % 4 == 0 {
                assert_eq!(tx.encode(), body);
            }
        }
        Err(error) => {
            assert!(error.status.is_client_error(), "{error:?}");
            assert!(!error.code.is_empty() && !error.message.is_empty());
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! The entry points on junk and on valid input, and the seed corpora
    //! of the fuzz targets: `BITCRAPS_WRITE_FUZZ_SEEDS=1 cargo test -p
    //! bitcraps-node --lib fuzz` writes them to `fuzz/seeds/<target>/`.

    use super::*;
    use consensus::block::{Block, BlockTemplate};
    use consensus::encoding::encode;
    use consensus::genesis::{Genesis, GenesisBankroll, Params};
    use consensus::hash::Hash;
    use consensus::receipt::{LedgerEvent, Receipt, TxStatus};
    use consensus::tx::{Action, TableGame, TableId, TableName, Transaction};
    use game_rules::Chips;
    use game_rules::craps::{BetKind, OddsLimit, Working};
    use wallet::{KdfParams, Keypair, Keystore, Mnemonic};

    use crate::api::wallet_request_body;
    use crate::network::sync::bounded_response;

    /// A valid action of every kind the wallet routes carry.
    pub(crate) fn sample_actions() -> Vec<Action> {
        let table = TableId(1);
        vec![
            Action::Transfer {
                to: Keypair::from_secret_bytes(&[1; 32]).address(),
                amount: Chips(5),
            },
            Action::CreateTable {
                name: TableName::new("abuse").expect("a short name"),
                max_players: 4,
                game: TableGame::Craps {
                    min_bet: Chips(1),
                    max_bet: Chips(100),
                    odds: OddsLimit::Flat(2),
                },
            },
            Action::CloseTable { table },
            Action::JoinTable { table },
            Action::LeaveTable { table },
            Action::CrashBet {
                table,
                amount: Chips(10),
                auto_cash_out: Some(231),
            },
            Action::CrashCashOut { table },
            Action::CrapsBet {
                table,
                kind: BetKind::all().next().expect("a bet kind"),
                amount: Chips(5),
            },
            Action::CrapsOdds {
                table,
                bet: 1,
                amount: Chips(4),
            },
            Action::CrapsTakeDown { table, bet: 1 },
            Action::CrapsSetWorking {
                table,
                bet: 1,
                working: Working::On,
            },
            Action::Stake {
                amount: Chips(1000),
            },
            Action::Unstake { amount: Chips(10) },
            Action::BankrollDeposit { amount: Chips(50) },
            Action::BankrollWithdraw { shares: 7 },
            Action::Faucet {
                amount: Chips(1000),
            },
        ]
    }

    fn key() -> Keypair {
        Keypair::from_secret_bytes(&[9; 32])
    }

    fn transaction(nonce: u64) -> SignedTransaction {
        Transaction {
            chain_id: FUZZ_CHAIN,
            sender: key().public_key(),
            nonce,
            fee: Chips(2),
            expiry_height: 1_000,
            action: Action::Transfer {
                to: Keypair::from_secret_bytes(&[3; 32]).address(),
                amount: Chips(5),
            },
        }
        .sign(&key())
    }

    fn block(height: u64) -> Block {
        Block::assemble(
            BlockTemplate {
                chain_id: FUZZ_CHAIN,
                height,
                view: height + 1,
                parent: Hash::ZERO,
                timestamp_ms: 5,
                proposer: key().public_key(),
                parent_state_root: Hash::ZERO,
            },
            vec![transaction(height), transaction(height + 1)],
            Vec::new(),
        )
        .expect("a small block")
    }

    /// Valid inputs of each target, by target name.
    fn seeds() -> Vec<(&'static str, Vec<Vec<u8>>)> {
        let tx = transaction(0).encode();
        let finalized = |h: u64, proof: bool| {
            FinalizedBlock::new(block(h), proof.then_some(&[7u8; 96][..])).encode()
        };
        let genesis = Genesis {
            chain_name: "fuzz".parse().expect("a chain name"),
            genesis_time_ms: 0,
            accounts: consensus::encoding::BoundedVec::new(vec![]).expect("empty"),
            bankroll: GenesisBankroll {
                initial: Chips(0),
                owner: key().address(),
            },
            validators: consensus::encoding::BoundedVec::new(vec![]).expect("empty"),
            params: Params::default(),
            dealer_beacon: true,
            beacon_sharing: None,
        };
        let receipt = Receipt {
            tx: transaction(0).hash(),
            status: TxStatus::Applied,
            fee_charged: Chips(1),
            events: consensus::encoding::BoundedVec::new(vec![LedgerEvent::BalanceChanged {
                account: key().address(),
                before: Chips(1_006),
                after: Chips(1_000),
            }])
            .expect("one event"),
        };
        let mut response = 3u64.to_le_bytes().to_vec();
        response.push(4);
        response.extend(encode(&bounded_response(
            vec![finalized(3, true), finalized(4, false)],
            4,
            usize::MAX,
        )));
        let mut with_sections = NodeConfig::default();
        with_sections.wallet.keystore = Some("wallet.json".into());
        with_sections.validator = Some(crate::config::ValidatorConfig {
            key_file: "validator.key".into(),
            listen: "127.0.0.1:7390".parse().expect("an address"),
        });
        let wallet_bodies = sample_actions()
            .iter()
            .map(|action| {
                let index = WALLET_ROUTES
                    .iter()
                    .position(|r| r.action == action.name())
                    .expect("a wallet route");
                let mut body = vec![index as u8];
                body.extend(
                    wallet_request_body(action, Some(3))
                        .to_string()
                        .into_bytes(),
                );
                body
            })
            .collect();
        let tagged = |tag: u8, body: &[u8]| [&[tag][..], body].concat();
        let keystore = Keystore::encrypt(&key(), b"fuzz", KdfParams::insecure_for_tests())
            .expect("encrypt")
            .to_json();
        vec![
            ("consensus_transaction", vec![tx.clone()]),
            ("consensus_block", vec![block(1).encode()]),
            (
                "consensus_genesis_json",
                vec![genesis.to_json().into_bytes()],
            ),
            ("consensus_receipt", vec![receipt.encode()]),
            (
                "gossip_tx_batch",
                vec![
                    encode_batch(0, &[&tx]),
                    encode_batch(
                        u64::MAX,
                        &[transaction(1).encode(), transaction(2).encode()],
                    ),
                ],
            ),
            (
                "gossip_block",
                vec![finalized(1, true), finalized(2, false)],
            ),
            (
                "sync_request",
                vec![encode(&SyncRequest::GetBlocks {
                    from_height: 3,
                    max: 4,
                })],
            ),
            ("sync_response", vec![response]),
            (
                "config_toml",
                vec![
                    NodeConfig::default().to_toml().into_bytes(),
                    with_sections.to_toml().into_bytes(),
                ],
            ),
            ("api_wallet_body", wallet_bodies),
            (
                "api_transaction_body",
                vec![
                    tagged(0, &tx),
                    tagged(
                        1,
                        format!("{{\"tx\": \"{}\"}}", hex::encode(&tx)).as_bytes(),
                    ),
                    tagged(2, hex::encode(&tx).as_bytes()),
                ],
            ),
            ("wallet_keystore", vec![keystore.into_bytes()]),
            (
                "wallet_mnemonic",
                vec![
                    Mnemonic::from_entropy(&[0; 32])
                        .phrase()
                        .as_bytes()
                        .to_vec(),
                ],
            ),
        ]
    }

    /// The seeds reach the end of their pipelines (so the fuzzer starts
    /// from deep paths), and are written out on request.
    #[test]
    fn seeds_are_accepted_and_written_on_request() {
        let seeds = seeds();
        let get = |name: &str| {
            seeds
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| s.clone())
                .unwrap_or_default()
        };
        for batch in get("gossip_tx_batch") {
            let outcome = validate_tx_batch(&batch, &FUZZ_CHAIN, &AcceptAll, &peer());
            assert_eq!(outcome.verdict, Verdict::Accept);
            assert!(!outcome.admitted.is_empty());
            gossip_tx_batch(&batch);
        }
        for block in get("gossip_block") {
            let (verdict, _) = validate_block(
                &block,
                MAX_FINALIZED_BLOCK_BYTES,
                &FUZZ_CHAIN,
                &AcceptAll,
                &peer(),
            );
            assert_eq!(verdict, Verdict::Accept);
            gossip_block(&block);
        }
        for data in get("sync_response") {
            let mut codec = SyncCodec {
                max_response_bytes: 64 * 1024,
            };
            let response = block_on(codec.read_response(&protocol(), &mut Cursor::new(&data[9..])))
                .expect("a response");
            let blocks = decode_response(&FUZZ_CHAIN, 3, 4, response).expect("two blocks");
            assert_eq!(blocks.len(), 2);
            sync_response(&data);
        }
        for body in get("api_wallet_body") {
            let route = &WALLET_ROUTES[usize::from(body[0])];
            assert!(parse_wallet_request(route.action, &body[1..]).is_ok());
            api_wallet_body(&body);
        }
        assert_eq!(get("api_wallet_body").len(), WALLET_ROUTES.len());
        for body in get("api_transaction_body") {
            let content_type = ["application/octet-stream", "application/json", "text/plain"]
                [usize::from(body[0])];
            assert!(parse_transaction_body(content_type, &body[1..]).is_ok());
            api_transaction_body(&body);
        }
        for text in get("config_toml") {
            let config = NodeConfig::from_toml(std::str::from_utf8(&text).unwrap(), Path::new("x"))
                .expect("a configuration");
            config.validate().expect("valid");
            config_toml(&text);
        }
        for data in get("sync_request") {
            sync_request(&data);
        }
        for (name, _) in &seeds {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../fuzz/fuzz_targets")
                .join(format!("{name}.rs"));
            assert!(path.exists(), "no fuzz target {name}");
        }
        if std::env::var_os("BITCRAPS_WRITE_FUZZ_SEEDS").is_some() {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
            for (name, inputs) in &seeds {
                let dir = root.join(name);
                std::fs::create_dir_all(&dir).unwrap();
                for (i, input) in inputs.iter().enumerate() {
                    std::fs::write(dir.join(format!("seed-{i}")), input).unwrap();
                }
            }
        }
    }

    /// The entry points hold on a spread of inputs, including valid
    /// encodings (so that a panic in a deep path is caught by `cargo test`,
    /// not only by the fuzzer).
    #[test]
    fn entry_points_hold_on_junk_and_valid_input() {
        let junk: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0xff; 9],
            vec![0; 64],
            b"{\"to\":1}".to_vec(),
            b"[network]\nlisten = []\n".to_vec(),
        ];
        for data in &junk {
            gossip_tx_batch(data);
            gossip_block(data);
            sync_request(data);
            sync_response(data);
            config_toml(data);
            api_wallet_body(data);
            api_transaction_body(data);
        }
        let request = consensus::encoding::encode(&SyncRequest::GetBlocks {
            from_height: 3,
            max: 2,
        });
        sync_request(&request);
        config_toml(NodeConfig::default().to_toml().as_bytes());
    }
}
