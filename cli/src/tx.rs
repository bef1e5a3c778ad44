//! `bitcraps tx`: send chips, or submit transactions signed elsewhere
//! (`tx send`: hex or JSON from a file or standard input, bounded, checked
//! here before the node sees them).

use std::io::{self, Read as _, Write};
use std::path::PathBuf;

use consensus::tx::{Action, MAX_TX_BYTES, SignedTransaction};
use game_rules::Chips;
use serde_json::json;
use wallet::Address;

use crate::api::{self, one_line};
use crate::node::{EXIT_REFUSED, coded};
use crate::sign::{ClientArgs, Signer, wait_and_report};

/// The most bytes `tx send` reads: room for [`MAX_SIGNED_PER_SEND`]
/// transactions of the largest size as hex.
const MAX_RAW_INPUT: u64 = 2 * MAX_TX_BYTES as u64 * MAX_SIGNED_PER_SEND as u64 + 4096;

/// The most transactions one `tx send` submits.
const MAX_SIGNED_PER_SEND: usize = 64;

/// Arguments of `bitcraps tx`.
#[derive(clap::Args)]
#[command(mut_args(api::help_of("json", "Print JSON, one object per transaction, one per line")))]
pub struct Args {
    #[command(flatten)]
    node: ClientArgs,
    #[command(subcommand)]
    command: TxCommand,
}

/// What to send.
#[derive(clap::Subcommand, Debug, PartialEq)]
enum TxCommand {
    /// Send chips to another account.
    Transfer {
        /// The receiving address.
        to: Address,
        /// How much, chips.
        amount: u64,
    },
    /// Submit signed transactions: the hex of their canonical encoding
    /// (several separated by white space, as `--sign-only` prints them),
    /// or one as JSON (`{"tx": "<hex>"}` or the transaction's own JSON).
    /// Each is checked (size, encoding, chain, signature) before any is
    /// sent; with --wait, all are sent, then each is waited for in turn.
    Send {
        /// The file to read, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
}

/// Runs `bitcraps tx`.
pub fn run(args: Args) -> anyhow::Result<()> {
    api::finish(api::block_on(execute(args)))
}

async fn execute(args: Args) -> anyhow::Result<()> {
    let client = args.node.api.client()?;
    let mut out = io::stdout().lock();
    match &args.command {
        TxCommand::Transfer { to, amount } => {
            let action = Action::Transfer {
                to: *to,
                amount: Chips(*amount),
            };
            let mut signer = Signer::open(&args.node.sign, &args.node.api, &client).await?;
            signer
                .deliver(&client, &args.node.api, &action, &mut out, args.node.json())
                .await
        }
        TxCommand::Send { file } => {
            let signed = parse_signed(&read_input(file)?)?;
            let status = client
                .status()
                .await
                .map_err(|e| args.node.api.explain(e))?;
            for (i, tx) in signed.iter().enumerate() {
                tx.check(&status.node.chain_id).map_err(|e| {
                    coded(
                        EXIT_REFUSED,
                        format!(
                            "transaction {} of {} ({}): {e}; nothing was sent",
                            i + 1,
                            signed.len(),
                            tx.hash()
                        ),
                    )
                })?;
            }
            let mut hashes = Vec::with_capacity(signed.len());
            for tx in &signed {
                let submitted = client
                    .submit_transaction(tx)
                    .await
                    .map_err(|e| args.node.api.explain(e))?;
                if args.node.json() {
                    serde_json::to_writer(
                        &mut out,
                        &json!({
                            "hash": submitted.hash,
                            "status": submitted.status,
                            "sender": tx.sender_address(),
                            "nonce": tx.tx.nonce,
                            "fee": tx.tx.fee,
                            "action": tx.tx.action,
                        }),
                    )
                    .map_err(io::Error::from)?;
                    writeln!(out)?;
                } else {
                    writeln!(
                        out,
                        "sent {} from {} (tx {}, nonce {}, fee {}): pending; `bitcraps explore \
                         tx {}` follows it",
                        one_line(&tx.tx.action),
                        tx.sender_address(),
                        submitted.hash,
                        tx.tx.nonce,
                        tx.tx.fee.get(),
                        submitted.hash
                    )?;
                }
                hashes.push(submitted.hash);
            }
            // All are submitted before waiting, so they may share a block;
            // the first that fails ends the command with its exit code.
            if let Some(timeout) = args.node.sign.wait() {
                for hash in &hashes {
                    wait_and_report(
                        &client,
                        &args.node.api,
                        hash,
                        timeout,
                        &mut out,
                        args.node.json(),
                    )
                    .await?;
                }
            }
            Ok(())
        }
    }
}

/// Reads `file` (`-`: standard input), refusing more than
/// [`MAX_RAW_INPUT`] bytes.
fn read_input(file: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let limit = MAX_RAW_INPUT + 1;
    let read = if file.as_os_str() == "-" {
        io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    if bytes.len() as u64 > MAX_RAW_INPUT {
        anyhow::bail!(
            "{} is over {MAX_RAW_INPUT} bytes: more than {MAX_SIGNED_PER_SEND} signed \
             transactions; nothing was sent",
            file.display()
        );
    }
    Ok(bytes)
}

/// Signed transactions from text: one JSON object, or hex encodings
/// separated by white space. Each is decoded with the consensus crate's
/// bounded decoder; nothing is verified yet.
fn parse_signed(input: &[u8]) -> anyhow::Result<Vec<SignedTransaction>> {
    let text = std::str::from_utf8(input)
        .map_err(|_| anyhow::anyhow!("the input is not text; give hex or JSON"))?
        .trim();
    if text.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("the input is not valid JSON: {e}"))?;
        if let Some(hex) = value.get("tx").and_then(|t| t.as_str()) {
            return Ok(vec![decode_hex(hex, 1)?]);
        }
        let signed: SignedTransaction = serde_json::from_value(value).map_err(|e| {
            anyhow::anyhow!(
                "the JSON is not a signed transaction ({e}); give {{\"tx\": \"<hex>\"}}"
            )
        })?;
        return Ok(vec![signed]);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        anyhow::bail!("no transaction in the input; give the hex `--sign-only` printed");
    }
    if words.len() > MAX_SIGNED_PER_SEND {
        anyhow::bail!(
            "{} transactions: at most {MAX_SIGNED_PER_SEND} per `tx send`; nothing was sent",
            words.len()
        );
    }
    words
        .iter()
        .enumerate()
        .map(|(i, word)| decode_hex(word, i + 1))
        .collect()
}

/// One transaction from hex, its length bounded before decoding.
fn decode_hex(text: &str, position: usize) -> anyhow::Result<SignedTransaction> {
    if text.len() > 2 * MAX_TX_BYTES {
        anyhow::bail!(
            "transaction {position} is {} bytes of hex, over the {MAX_TX_BYTES}-byte limit of a \
             signed transaction; nothing was sent",
            text.len()
        );
    }
    let bytes = hex::decode(text).map_err(|e| {
        anyhow::anyhow!("transaction {position} is not hex ({e}); nothing was sent")
    })?;
    SignedTransaction::decode(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "transaction {position} is not a signed transaction ({e}); nothing was sent"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet::{ChainId, Keypair};

    fn parse(line: &[&str]) -> Result<Args, clap::Error> {
        crate::api::parse_args(line)
    }

    fn signed(nonce: u64) -> SignedTransaction {
        let key = Keypair::generate().unwrap();
        consensus::tx::Transaction {
            chain_id: ChainId::new([3; 32]),
            sender: key.public_key(),
            nonce,
            fee: Chips(1),
            expiry_height: 100,
            action: Action::Faucet { amount: Chips(5) },
        }
        .sign(&key)
    }

    #[test]
    fn parses_the_tx_commands() {
        let to = Keypair::generate().unwrap().address();
        let args = parse(&["transfer", &to.to_string(), "7", "--keystore", "a"]).unwrap();
        assert_eq!(args.command, TxCommand::Transfer { to, amount: 7 });
        assert_eq!(
            parse(&["send"]).unwrap().command,
            TxCommand::Send { file: "-".into() }
        );
        assert_eq!(
            parse(&["send", "t.hex", "--json"]).unwrap().command,
            TxCommand::Send {
                file: "t.hex".into()
            }
        );
        assert!(parse(&["send", "a", "b"]).is_err());
    }

    #[test]
    fn reads_hex_lines_and_json() {
        let (a, b) = (signed(0), signed(1));
        let text = format!("{}\n{}\n", hex::encode(a.encode()), hex::encode(b.encode()));
        assert_eq!(parse_signed(text.as_bytes()).unwrap(), vec![a.clone(), b]);
        let body = json!({ "tx": hex::encode(a.encode()) }).to_string();
        assert_eq!(parse_signed(body.as_bytes()).unwrap(), vec![a.clone()]);
        let own = serde_json::to_string(&a).unwrap();
        assert_eq!(parse_signed(own.as_bytes()).unwrap(), vec![a]);
    }

    #[test]
    fn bad_and_oversized_input_is_refused_before_sending() {
        let oversized = "ab".repeat(MAX_TX_BYTES + 1);
        let error = parse_signed(oversized.as_bytes()).unwrap_err().to_string();
        assert!(
            error.contains(&format!("over the {MAX_TX_BYTES}-byte limit")),
            "{error}"
        );
        assert!(error.contains("nothing was sent"), "{error}");
        let mut truncated = hex::encode(signed(0).encode());
        truncated.truncate(truncated.len() - 2);
        let error = parse_signed(truncated.as_bytes()).unwrap_err().to_string();
        assert!(error.contains("not a signed transaction"), "{error}");
        assert!(
            parse_signed(b"zz")
                .unwrap_err()
                .to_string()
                .contains("not hex")
        );
        assert!(
            parse_signed(b"  \n")
                .unwrap_err()
                .to_string()
                .contains("no transaction")
        );
        assert!(parse_signed(b"{\"tx\": 5}").is_err());
        assert!(
            parse_signed(&[0xff, 0xfe])
                .unwrap_err()
                .to_string()
                .contains("not text")
        );
        let many = vec!["00"; MAX_SIGNED_PER_SEND + 1].join(" ");
        assert!(
            parse_signed(many.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("at most")
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big");
        std::fs::write(&file, vec![b'a'; MAX_RAW_INPUT as usize + 1]).unwrap();
        let error = read_input(&file).unwrap_err().to_string();
        assert!(error.contains("nothing was sent"), "{error}");
    }
}
