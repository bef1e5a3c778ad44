//! `bitcraps testnet check` through the real binary, against stand-in
//! nodes: a testnet directory made by `testnet::net::prepare` (real keys
//! and genesis, nothing started), a chain of real empty blocks built on
//! that genesis (the check replays them), and tiny HTTP servers on the
//! layout's API ports answering `/v1/status` and `/v1/blocks/{h}` as
//! nodes would. What is under test is the check's detection, so one
//! "node" can be made to serve a block whose state root differs.
//!
//! validator-0 and validator-1 serve the honest chain; validator-2 serves
//! it too or, when told to, a block 4 whose `parent_state_root` differs;
//! validator-3 has nothing on its port (refused) and player-0 accepts
//! connections but never answers (a paused node): both are reported as
//! unreachable, neither holds the check up beyond its request timeout.
//!
//! Ports: 29000–29399 (`base_port(29_000, 4)`), below the ephemeral range.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bitcraps_tests::{bitcraps_binary, run_bitcraps};
use consensus::block::{Block, BlockTemplate};
use consensus::genesis::Genesis;
use consensus::hash::Hash;
use consensus::ledger::Ledger;
use node::client::BlockReply;
use testnet::net::{PrepareOptions, prepare};

/// The honest chain's highest height.
const TOP: u64 = 5;
/// The height at which validator-2 diverges when told to.
const DIVERGES_AT: u64 = 4;

/// `TOP + 1` empty blocks on `genesis` that a fresh ledger applies, as
/// `/v1/blocks/{h}` serves them.
fn honest_chain(genesis: &Genesis) -> Vec<BlockReply> {
    let mut ledger = Ledger::in_memory(genesis).expect("the testnet genesis makes a ledger");
    let verifier = genesis
        .beacon_verifier()
        .expect("a testnet genesis has a beacon");
    let proposer = genesis.validators[0].consensus_key;
    let mut chain = Vec::new();
    for _ in 0..=TOP {
        let block = Block::assemble(
            BlockTemplate {
                chain_id: ledger.chain_id(),
                height: ledger.next_height(),
                view: ledger.next_height() + 1,
                parent: ledger.next_parent(),
                timestamp_ms: ledger.last_timestamp_ms() + 1_000,
                proposer,
                parent_state_root: ledger.state_root(),
            },
            Vec::new(),
            Vec::new(),
        )
        .expect("an empty block");
        ledger
            .apply(&block, &verifier)
            .unwrap_or_else(|e| panic!("block {}: {e}", block.header.height));
        chain.push(served(block));
    }
    chain
}

fn served(block: Block) -> BlockReply {
    let encoded = hex::encode(block.encode());
    BlockReply {
        hash: block.hash(),
        height: block.header.height,
        size_bytes: encoded.len() / 2,
        encoded,
        proof: None,
        block,
    }
}

/// Serves `/v1/status` and `/v1/blocks/{h}` from `honest`, or from
/// `divergent` while `diverge` is set, one connection at a time (the
/// check's requests are small).
fn stand_in(
    listener: TcpListener,
    honest: Vec<BlockReply>,
    divergent: Vec<BlockReply>,
    diverge: Arc<AtomicBool>,
    chain_id: serde_json::Value,
) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let chain = if diverge.load(Ordering::SeqCst) {
                &divergent
            } else {
                &honest
            };
            let _ = answer(stream, chain, &chain_id);
        }
    });
}

fn answer(
    mut stream: TcpStream,
    chain: &[BlockReply],
    chain_id: &serde_json::Value,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("");
    let tip = chain.last().expect("a chain");
    let (status, body) = if path == "/v1/status" {
        let body = serde_json::json!({
            "version": "stand-in",
            "chain_id": chain_id,
            "height": tip.height,
            "block_hash": tip.hash,
            "epoch": 0,
            "peers": 4,
            "mempool_transactions": 0,
            "min_fee": 0,
            "syncing": false,
            "sync": null,
            "wallet": null,
        });
        ("200 OK", body.to_string())
    } else if let Some(block) = path
        .strip_prefix("/v1/blocks/")
        .and_then(|h| h.parse::<u64>().ok())
        .and_then(|h| chain.iter().find(|b| b.height == h))
    {
        (
            "200 OK",
            serde_json::to_string(block).expect("a block reply encodes"),
        )
    } else {
        (
            "404 Not Found",
            serde_json::json!({"code": "not_found", "message": "no such block"}).to_string(),
        )
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn check_names_the_node_the_height_and_the_state_root_that_differ_and_exits_non_zero() {
    let work = tempfile::tempdir().expect("a temporary directory");
    let dir = work.path().join("net");
    let manifest = work.path().join("net.toml");
    let base_port = bitcraps_tests::base_port(29_000, 4);
    std::fs::write(
        &manifest,
        format!("validators = 4\nplayers = 1\nbase_port = {base_port}\n"),
    )
    .expect("the manifest is written");
    let (layout, _) = prepare(&PrepareOptions {
        dir: dir.clone(),
        manifest: Some(manifest),
        fresh: true,
        binary: bitcraps_binary(),
    })
    .expect("a testnet directory");
    let genesis = Genesis::from_json_bytes(
        &std::fs::read(layout.genesis_file()).expect("the genesis is readable"),
    )
    .expect("the genesis parses");
    let chain_id = serde_json::to_value(genesis.chain_id()).expect("a chain id encodes");

    let honest = honest_chain(&genesis);
    // validator-2's divergent chain: the same up to DIVERGES_AT, then a
    // block naming another state root for the state after DIVERGES_AT - 1.
    let mut divergent: Vec<BlockReply> = honest[..DIVERGES_AT as usize].to_vec();
    let mut forked = honest[DIVERGES_AT as usize].block.clone();
    let honest_root = forked.header.parent_state_root;
    let bad_root = Hash::new([0xab; 32]);
    forked.header.parent_state_root = bad_root;
    divergent.push(served(forked));

    let bind = |name: &str| {
        let node = layout.node(name).expect("a node of the layout");
        TcpListener::bind(("127.0.0.1", node.http_port))
            .unwrap_or_else(|e| panic!("cannot bind {name}'s API port {}: {e}", node.http_port))
    };
    let never = Arc::new(AtomicBool::new(false));
    let diverge = Arc::new(AtomicBool::new(false));
    for name in ["validator-0", "validator-1"] {
        stand_in(
            bind(name),
            honest.clone(),
            honest.clone(),
            never.clone(),
            chain_id.clone(),
        );
    }
    stand_in(
        bind("validator-2"),
        honest.clone(),
        divergent,
        diverge.clone(),
        chain_id.clone(),
    );
    // player-0: a paused node, connections accepted and never answered.
    let paused = bind("player-0");
    let dir_arg = dir.to_str().expect("a UTF-8 path");

    // Every node that answers agrees: OK, exit 0.
    let started = Instant::now();
    let (code, stdout, stderr) = run_bitcraps(&["testnet", "check", "--dir", dir_arg], &[], None);
    let took = started.elapsed();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("OK: every node agrees"), "{stdout}");
    assert!(
        stdout.contains(&format!("heights 0..={TOP} and replayed them")),
        "{stdout}"
    );
    assert!(stdout.contains("validator-3"), "{stdout}");
    assert!(
        stdout.contains("player-0") && stdout.contains("did not answer within"),
        "the paused node is reported unreachable:\n{stdout}"
    );
    assert!(
        took < Duration::from_secs(20),
        "a paused node held the check up for {took:?}"
    );

    // validator-2 now serves a block 4 on another state root: a violation
    // naming the nodes, the height and the state roots; exit status 1.
    diverge.store(true, Ordering::SeqCst);
    let (code, stdout, stderr) = run_bitcraps(&["testnet", "check", "--dir", dir_arg], &[], None);
    let output = format!("{stdout}{stderr}");
    assert_ne!(code, 0, "{output}");
    assert_eq!(code, 1, "{output}");
    let expected = format!(
        "state roots differ after height {} (parent_state_root of block {DIVERGES_AT}: \
         validator-0={honest_root}, validator-1={honest_root}, validator-2={bad_root})",
        DIVERGES_AT - 1
    );
    assert!(output.contains(&expected), "no {expected:?} in:\n{output}");
    assert!(
        output.contains(&format!(
            "compared {} block answers for heights 0..={}",
            3 * DIVERGES_AT + 3,
            DIVERGES_AT - 1
        )),
        "{output}"
    );
    assert!(output.contains("FAILED"), "{output}");
    assert!(
        output.contains("the testnet is inconsistent (1 violations)"),
        "{output}"
    );
    drop(paused);
}
