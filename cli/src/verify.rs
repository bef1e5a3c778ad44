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

/// Whether `signed` was finalized: its own certificate, or the nearest
/// certified descendant's with the parent hashes leading down to it. The
/// outer error is the node failing to answer; the inner one a failed
/// check.
async fn finalized(
    client: &ApiClient,
    api: &ApiArgs,
    verifier: &FinalityVerifier,
    signed: BlockReply,
) -> anyhow::Result<Result<String, String>> {
    let height = signed.height;
    let mut block = signed;
    // The height and hash (recomputed) of the block the next one served
    // must name as its parent.
    let mut child_of: Option<(u64, BlockHash)> = None;
    for step in 0..=MAX_DESCENDANTS {
        if let Some((below, parent)) = child_of
            && block.block.header.parent != parent
        {
            return Ok(Err(format!(
                "the block served after block {below} does not descend from it: its parent is \
                 {}, not {}",
                short(&block.block.header.parent.to_string()),
                short(&parent.to_string())
            )));
        }
        let proof = block.proof_bytes().map_err(|e| api.explain(e))?;
        if let Some(proof) = proof {
            return Ok(verifier
                .verify(&block.block, &proof)
                .map(|()| {
                    if step == 0 {
                        format!(
                            "block {height}'s finality certificate verifies under the genesis \
                             group key"
                        )
                    } else {
                        format!(
                            "block {}'s finality certificate verifies under the genesis group \
                             key, and its parent hashes lead down to block {height}",
                            block.block.header.height
                        )
                    }
                })
                .map_err(|e| {
                    format!(
                        "the finality certificate of block {} does not verify: {e}",
                        block.block.header.height
                    )
                }));
        }
        if step == MAX_DESCENDANTS {
            break;
        }
        let below = block.height;
        child_of = Some((below, block.block.hash()));
        let next = below + 1;
        block = match client.block(next).await {
            Ok(reply) => reply,
            Err(ClientError::Api { status, .. }) if status.as_u16() == 404 => {
                return Ok(Err(format!(
                    "neither block {height} nor its descendants up to {} have a finality \
                     certificate on this node yet; retry once more blocks are finalized",
                    next - 1
                )));
            }
            Err(e) => return Err(api.explain(e)),
        };
    }
    Ok(Err(format!(
        "neither block {height} nor its next {MAX_DESCENDANTS} descendants have a finality \
         certificate on this node"
    )))
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
    use super::*;

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
