//! `explore round`'s offline verification: the round's outcome re-derived
//! here from its beacon entry, trusting nothing the node says but data.
//!
//! The trust anchor is the chain's genesis file: its hash is the chain id
//! and its `beacon_sharing` holds the validators' group key. Then:
//!
//! 1. **group key**: the key the node serves for the entry is the
//!    genesis's;
//! 2. **σ**: σ is the threshold BLS signature, under the genesis group key,
//!    of the beacon message for this chain
//!    ([`consensus::beacon::verify_beacon`]);
//! 3. **block**: the block the node serves at the signed height hashes,
//!    recomputed here, to the block hash the message signs, on this chain;
//! 4. **finalized**: that block was finalized: its finality certificate
//!    (`proof` of `GET /v1/blocks/{height}`) verifies under the genesis
//!    group key ([`consensus::engine::verify_finalized`], through
//!    [`FinalityVerifier`]); or, if the node has none of its own for it,
//!    the nearest descendant's does (at most [`MAX_DESCENDANTS`] blocks
//!    on) and the parent hashes, recomputed here, lead from that
//!    descendant down to it — as a syncing node accepts it;
//! 5. **published**: the block at the entry's publishing height carries the
//!    same entry (so the ledger settled the round with it);
//! 6. **outcome**: the dice or the crash point derived from σ with
//!    `game-rules` (the ledger's own functions, through
//!    [`node::client::verify::verify`]) equal what the ledger recorded.

use std::io::Write;

use consensus::beacon::verify_beacon;
use consensus::block::Block;
use consensus::genesis::Genesis;
use consensus::hash::BlockHash;
use node::api::RoundInfo;
use node::client::verify::Outcome;
use node::client::{ApiClient, BlockReply, ClientError};
use node::follow::FinalityVerifier;
use serde::Serialize;

use crate::api::{ApiArgs, short};
use crate::node::{EXIT_CONFIG, coded};

/// How many descendants the finality check walks to find a certificate
/// when the signed block has none of its own.
pub const MAX_DESCENDANTS: u64 = 32;

/// One check and what it found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which check.
    pub check: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was compared.
    pub detail: String,
}

/// The verdict on a round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Whether the round was decided at all (an open or void round has
    /// nothing to verify).
    pub decided: bool,
    /// Whether every check passed.
    pub verified: bool,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// Why there is nothing to verify, for an undecided round.
    pub note: Option<String>,
}

fn check(check: &'static str, result: Result<String, String>) -> Check {
    match result {
        Ok(detail) => Check {
            check,
            ok: true,
            detail,
        },
        Err(detail) => Check {
            check,
            ok: false,
            detail,
        },
    }
}

/// Verifies `info` against `genesis`, fetching the signed and the
/// publishing blocks from the node.
pub async fn verify_round(
    client: &ApiClient,
    api: &ApiArgs,
    info: &RoundInfo,
    genesis: &Genesis,
) -> anyhow::Result<Verdict> {
    let verifier = genesis.beacon_verifier().ok_or_else(|| {
        anyhow::anyhow!(
            "the genesis has no beacon sharing, so no group key to verify randomness with"
        )
    })?;
    let finality = FinalityVerifier::from_genesis(genesis).map_err(|e| coded(EXIT_CONFIG, e))?;
    let chain = verifier.chain_id;
    let derived = node::client::verify::verify(info, Some(chain));
    let (Some(entry), Some(message)) = (&derived.randomness, derived.signed_block) else {
        return Ok(Verdict {
            decided: false,
            verified: false,
            checks: Vec::new(),
            note: derived.signature.err(),
        });
    };
    let mut checks = Vec::new();
    let genesis_key = hex::encode(verifier.group_key.to_bytes());
    checks.push(check(
        "group key",
        if entry.group_public_key == genesis_key {
            Ok(format!(
                "the genesis's group key {} (epoch {})",
                short(&genesis_key),
                entry.epoch
            ))
        } else {
            Err(format!(
                "the node serves group key {}, the genesis has {}",
                short(&entry.group_public_key),
                short(&genesis_key)
            ))
        },
    ));
    let sigma = entry.entry.signature.as_bytes();
    checks.push(check(
        "σ",
        if message.chain_id != chain {
            Err(format!(
                "the message signs chain {}, the genesis is chain {chain}",
                message.chain_id
            ))
        } else if message.height != entry.entry.height {
            Err(format!(
                "the message signs height {}, the entry is for {}",
                message.height, entry.entry.height
            ))
        } else {
            verify_beacon(&verifier.group_key, &message, sigma)
                .map(|()| {
                    format!(
                        "a threshold signature of block {} at height {} under the genesis key",
                        short(&message.block.to_string()),
                        message.height
                    )
                })
                .map_err(|e| e.to_string())
        },
    ));
    let signed = client
        .block(message.height)
        .await
        .map_err(|e| api.explain(e))?;
    let recomputed = signed.block.hash();
    checks.push(check(
        "block",
        if recomputed != message.block {
            Err(format!(
                "block {} hashes to {recomputed} here, but σ signs {}",
                message.height, message.block
            ))
        } else if signed.block.header.chain_id != chain {
            Err(format!(
                "block {} is on chain {}, not the genesis's",
                message.height, signed.block.header.chain_id
            ))
        } else {
            Ok(format!(
                "block {} hashes to {} (recomputed here)",
                message.height,
                short(&recomputed.to_string())
            ))
        },
    ));
    checks.push(check(
        "finalized",
        finalized(client, api, &finality, signed).await?,
    ));
    let publishing = client
        .block(entry.published_height)
        .await
        .map_err(|e| api.explain(e))?;
    checks.push(check(
        "published",
        if publishing.block.beacon_entries.contains(&entry.entry) {
            Ok(format!(
                "block {} carries the entry",
                entry.published_height
            ))
        } else {
            Err(format!(
                "block {} does not carry this entry",
                entry.published_height
            ))
        },
    ));
    checks.push(check(
        "outcome",
        match &derived.outcome {
            Ok(outcome) => {
                let text = describe(outcome);
                if outcome.agrees() {
                    Ok(text)
                } else {
                    Err(text)
                }
            }
            Err(e) => Err(e.clone()),
        },
    ));
    Ok(Verdict {
        decided: true,
        verified: checks.iter().all(|c| c.ok),
        checks,
        note: None,
    })
}

/// Whether `signed` was finalized, fetching its descendants from the
/// node: [`walk_to_certificate`] with the genesis group key. The outer
/// error is the node failing to answer; the inner one a failed check.
async fn finalized(
    client: &ApiClient,
    api: &ApiArgs,
    verifier: &FinalityVerifier,
    signed: BlockReply,
) -> anyhow::Result<Result<String, String>> {
    let height = signed.height;
    let fetch = async |at: u64| match client.block(at).await {
        Ok(reply) => Ok(Some(reply)),
        Err(ClientError::Api { status, .. }) if status.as_u16() == 404 => Ok(None),
        Err(e) => Err(e),
    };
    let walked = walk_to_certificate(signed, fetch, |block, proof| verifier.verify(block, proof))
        .await
        .map_err(|e| api.explain(e))?;
    Ok(match walked {
        Ok(Finalized::Own) => Ok(format!(
            "block {height}'s finality certificate verifies under the genesis group key"
        )),
        Ok(Finalized::Through { descendant }) => Ok(format!(
            "block {descendant}'s finality certificate verifies under the genesis group key, \
             and its parent hashes lead down to block {height}"
        )),
        Err(failure) => Err(failure.to_string()),
    })
}

/// How a block was shown final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finalized {
    /// By its own finality certificate.
    Own,
    /// By the certificate of this descendant, whose parent hashes lead
    /// down to it.
    Through {
        /// The certified descendant's height.
        descendant: u64,
    },
}

/// Why a block could not be shown final.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotFinalized {
    /// The block served at `below + 1` does not name block `below` as its
    /// parent: not its descendant (a forged or another fork's block).
    NotADescendant {
        /// The height of the block it should descend from.
        below: u64,
        /// The parent it names.
        parent: BlockHash,
        /// Block `below`'s hash, recomputed here.
        expected: BlockHash,
    },
    /// A certificate was found but does not verify.
    BadCertificate {
        /// The certified block's height.
        height: u64,
        /// Why it does not verify.
        reason: String,
    },
    /// The node has no block after `last` yet, and none up to it has a
    /// certificate: retrying later may succeed.
    NotYet {
        /// The block to show final.
        height: u64,
        /// The last block the node has.
        last: u64,
    },
    /// None of the next [`MAX_DESCENDANTS`] blocks has a certificate.
    TooFar {
        /// The block to show final.
        height: u64,
    },
}

impl std::fmt::Display for NotFinalized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotFinalized::NotADescendant {
                below,
                parent,
                expected,
            } => write!(
                f,
                "the block served after block {below} does not descend from it: its parent is \
                 {}, not {}",
                short(&parent.to_string()),
                short(&expected.to_string())
            ),
            NotFinalized::BadCertificate { height, reason } => write!(
                f,
                "the finality certificate of block {height} does not verify: {reason}"
            ),
            NotFinalized::NotYet { height, last } => write!(
                f,
                "neither block {height} nor its descendants up to {last} have a finality \
                 certificate on this node yet; retry once more blocks are finalized"
            ),
            NotFinalized::TooFar { height } => write!(
                f,
                "neither block {height} nor its next {MAX_DESCENDANTS} descendants have a \
                 finality certificate on this node"
            ),
        }
    }
}

/// Whether `signed` was finalized: its own certificate, or that of the
/// nearest certified descendant (at most [`MAX_DESCENDANTS`] on, fetched
/// with `fetch`, `None` where the node has no block) with the parent
/// hashes, recomputed here, leading from it down to `signed`. `certify`
/// checks a certificate. The outer error is `fetch` failing (or a
/// certificate that is not hex); the inner one a failed check.
pub async fn walk_to_certificate<E: std::fmt::Display>(
    signed: BlockReply,
    mut fetch: impl AsyncFnMut(u64) -> Result<Option<BlockReply>, ClientError>,
    certify: impl Fn(&Block, &[u8]) -> Result<(), E>,
) -> Result<Result<Finalized, NotFinalized>, ClientError> {
    let height = signed.height;
    let mut block = signed;
    for step in 0..=MAX_DESCENDANTS {
        if let Some(proof) = block.proof_bytes()? {
            let certified = block.block.header.height;
            return Ok(match certify(&block.block, &proof) {
                Ok(()) if step == 0 => Ok(Finalized::Own),
                Ok(()) => Ok(Finalized::Through {
                    descendant: certified,
                }),
                Err(e) => Err(NotFinalized::BadCertificate {
                    height: certified,
                    reason: e.to_string(),
                }),
            });
        }
        if step == MAX_DESCENDANTS {
            break;
        }
        let below = block.height;
        let expected = block.block.hash();
        block = match fetch(below + 1).await? {
            Some(next) => next,
            None => {
                return Ok(Err(NotFinalized::NotYet {
                    height,
                    last: below,
                }));
            }
        };
        let parent = block.block.header.parent;
        if parent != expected {
            return Ok(Err(NotFinalized::NotADescendant {
                below,
                parent,
                expected,
            }));
        }
    }
    Ok(Err(NotFinalized::TooFar { height }))
}

/// The derived and the recorded outcome, side by side.
fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Crash {
            interval,
            from,
            to,
            recorded,
            derived,
        } => format!(
            "interval {interval} ({from} → {to}): derived crash at {}, ledger {recorded}",
            derived.map_or("none (it survives)".to_owned(), |d| d.to_string())
        ),
        Outcome::Dice { recorded, derived } => {
            format!("derived dice {derived}, ledger {recorded}")
        }
    }
}

/// Prints the verdict.
pub fn write_verdict(out: &mut impl Write, verdict: &Verdict) -> anyhow::Result<()> {
    if !verdict.decided {
        writeln!(
            out,
            "verify     nothing to verify yet: {}",
            verdict
                .note
                .as_deref()
                .unwrap_or("the round is not decided")
        )?;
        return Ok(());
    }
    writeln!(out, "verify     (offline, against the genesis)")?;
    for c in &verdict.checks {
        writeln!(
            out,
            "  {} {:<10} {}",
            if c.ok { "✓" } else { "✗" },
            c.check,
            c.detail
        )?;
    }
    if verdict.verified {
        writeln!(
            out,
            "VERIFIED: the validators' randomness decided this outcome"
        )?;
    } else {
        writeln!(out, "NOT VERIFIED: see the ✗ lines above")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use consensus::block::BlockTemplate;
    use consensus::hash::Hash;
    use wallet::{ChainId, Keypair};

    use super::*;

    /// Block `height` on `parent`, with no certificate.
    fn block(height: u64, parent: BlockHash) -> BlockReply {
        let block = Block::assemble(
            BlockTemplate {
                chain_id: ChainId::new([7; 32]),
                height,
                view: height + 1,
                parent,
                timestamp_ms: 1_700_000_000_000 + height,
                proposer: Keypair::from_secret_bytes(&[1; 32]).public_key(),
                parent_state_root: Hash::ZERO,
            },
            vec![],
            vec![],
        )
        .unwrap();
        BlockReply {
            hash: block.hash(),
            height,
            size_bytes: 0,
            encoded: String::new(),
            proof: None,
            block,
        }
    }

    /// Blocks 0 to `top`, each on the one below.
    fn chain(top: u64) -> Vec<BlockReply> {
        let mut blocks = vec![block(0, Hash::ZERO)];
        for height in 1..=top {
            let parent = blocks.last().unwrap().block.hash();
            blocks.push(block(height, parent));
        }
        blocks
    }

    /// The test's stand-in for a finality certificate: the block's own
    /// hash.
    fn certify(reply: &mut BlockReply) {
        reply.proof = Some(hex::encode(reply.block.hash().as_bytes()));
    }

    fn check_certificate(block: &Block, proof: &[u8]) -> Result<(), String> {
        if proof == block.hash().as_bytes() {
            Ok(())
        } else {
            Err("not this block's certificate".into())
        }
    }

    /// Walks from block `from` of `blocks`; returns the result and the
    /// heights fetched.
    async fn walk(blocks: &[BlockReply], from: u64) -> (Result<Finalized, NotFinalized>, Vec<u64>) {
        let fetched = RefCell::new(Vec::new());
        let fetch = async |height: u64| {
            fetched.borrow_mut().push(height);
            Ok(blocks.get(height as usize).cloned())
        };
        let result = walk_to_certificate(blocks[from as usize].clone(), fetch, check_certificate)
            .await
            .unwrap();
        (result, fetched.into_inner())
    }

    #[tokio::test]
    async fn a_certified_descendant_several_blocks_on_finalizes_the_block() {
        let mut blocks = chain(8);
        certify(&mut blocks[6]);
        let (result, fetched) = walk(&blocks, 2).await;
        assert_eq!(result, Ok(Finalized::Through { descendant: 6 }));
        assert_eq!(
            fetched,
            vec![3, 4, 5, 6],
            "up to the certificate, no further"
        );
        // A block with its own certificate needs no descendant.
        let (result, fetched) = walk(&blocks, 6).await;
        assert_eq!(result, Ok(Finalized::Own));
        assert!(fetched.is_empty());
    }

    #[tokio::test]
    async fn a_forged_descendant_is_refused_even_with_a_valid_certificate() {
        let mut blocks = chain(8);
        // Block 5 of another fork, certified: it does not lead down to 2.
        blocks[5] = block(5, Hash::new([9; 32]));
        certify(&mut blocks[5]);
        let (result, fetched) = walk(&blocks, 2).await;
        let Err(failure) = result else {
            panic!("a forged descendant was accepted: {result:?}");
        };
        assert_eq!(
            failure,
            NotFinalized::NotADescendant {
                below: 4,
                parent: Hash::new([9; 32]),
                expected: blocks[4].block.hash(),
            }
        );
        assert_eq!(fetched, vec![3, 4, 5]);
        let text = failure.to_string();
        assert!(
            text.starts_with("the block served after block 4 does not descend from it"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_certificate_that_does_not_verify_is_refused() {
        let mut blocks = chain(8);
        blocks[4].proof = Some(hex::encode(blocks[3].block.hash().as_bytes()));
        let (result, _) = walk(&blocks, 2).await;
        let Err(failure) = result else {
            panic!("{result:?}");
        };
        assert_eq!(
            failure.to_string(),
            "the finality certificate of block 4 does not verify: not this block's certificate"
        );
    }

    #[tokio::test]
    async fn a_missing_descendant_says_to_retry_and_the_walk_is_bounded() {
        let blocks = chain(5);
        let (result, fetched) = walk(&blocks, 2).await;
        let Err(failure) = result else {
            panic!("{result:?}");
        };
        assert_eq!(failure, NotFinalized::NotYet { height: 2, last: 5 });
        assert!(
            failure.to_string().contains("retry once more blocks"),
            "{failure}"
        );
        assert_eq!(fetched, vec![3, 4, 5, 6]);

        let mut blocks = chain(MAX_DESCENDANTS + 10);
        let last = MAX_DESCENDANTS as usize + 2;
        certify(&mut blocks[last]);
        let (result, fetched) = walk(&blocks, 1).await;
        assert_eq!(result, Err(NotFinalized::TooFar { height: 1 }));
        assert_eq!(fetched.len() as u64, MAX_DESCENDANTS, "{fetched:?}");
        // One block nearer, the same certificate is within reach.
        let (result, _) = walk(&blocks, 2).await;
        assert_eq!(
            result,
            Ok(Finalized::Through {
                descendant: last as u64
            })
        );
    }

    #[tokio::test]
    async fn a_node_that_fails_to_answer_is_an_error_not_a_verdict() {
        let blocks = chain(3);
        let fetch = async |_: u64| Err(ClientError::Protocol("gone".into()));
        let result = walk_to_certificate(blocks[1].clone(), fetch, check_certificate).await;
        assert!(
            matches!(result, Err(ClientError::Protocol(_))),
            "{result:?}"
        );
    }

    #[test]
    fn the_verdict_says_what_failed() {
        let verdict = Verdict {
            decided: true,
            verified: false,
            checks: vec![
                check("σ", Ok("fine".into())),
                check("outcome", Err("derived dice 3+4, ledger 6+6".into())),
            ],
            note: None,
        };
        let mut out = Vec::new();
        write_verdict(&mut out, &verdict).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("  ✓ σ "), "{text}");
        assert!(
            text.contains("  ✗ outcome    derived dice 3+4, ledger 6+6"),
            "{text}"
        );
        assert!(
            text.ends_with("NOT VERIFIED: see the ✗ lines above\n"),
            "{text}"
        );
        let open = Verdict {
            decided: false,
            verified: false,
            checks: vec![],
            note: Some("the round is open".into()),
        };
        let mut out = Vec::new();
        write_verdict(&mut out, &open).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("nothing to verify yet: the round is open")
        );
    }
}
