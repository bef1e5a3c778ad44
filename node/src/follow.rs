//! # Following the chain
//!
//! A node that does not validate learns finalized blocks from its peers and
//! applies them to its ledger ([`Follower`]):
//!
//! - **Gossip.** A block on the block topic comes with its finality proof.
//!   [`Follower`] is the network's [`BlockValidator`]: it verifies the proof
//!   with the group key alone ([`FinalityVerifier`], i.e.
//!   `consensus::engine::verify_finalized`) — an invalid proof is
//!   **Reject**ed (the sender loses gossip score), a block already applied,
//!   too far ahead or without a proof is **Ignore**d, a proven block is
//!   **Accept**ed (relayed) and queued.
//! - **Sync.** Every [`FollowConfig::sync_interval`], and at once after a
//!   full batch, it asks a connected peer (round robin) for up to
//!   [`FollowConfig::batch`] blocks from its next height with the bounded
//!   request-response protocol of [`crate::network::sync`]; each proof that
//!   comes with them is verified the same way, and a response with a bad
//!   proof is dropped whole.
//! - **Applying.** Queued blocks are applied in height order with
//!   `Ledger::apply` and the chain's beacon verifier
//!   ([`Chain::apply_finalized`]). A block that came without its own proof
//!   is applied only once a *certified* descendant is queued and the chain
//!   of parent hashes from that descendant down to it matches; a block off
//!   that chain is dropped.
//!
//! Progress — height reached, best height known from peers, rate and ETA —
//! is logged every few seconds while behind and served by `/ready`,
//! `/v1/status` and `bitcraps_sync_lag_blocks` (see
//! [`Chain::refresh_sync`]).
//!
//! A validator node follows too, next to its consensus engine: both apply
//! finalized blocks to the one shared ledger, in height order, and
//! whichever comes second finds the block applied (a no-op). While the
//! validator votes, its engine is usually first; outside the set (a
//! newcomer waiting to be chosen, a validator that left) the engine hears
//! of finality only at epoch boundaries, and this is what keeps its ledger
//! current: its API and its view of the validator set (the peers its
//! validator network tracks). It never decides what is final beyond
//! checking proofs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use commonware_codec::{Copying, DecodeExt as _};
use commonware_cryptography::bls12381::primitives::variant::{MinSig, Variant};
use consensus::block::Block;
use consensus::engine::{EngineError, namespace, verify_finalized};
use consensus::genesis::Genesis;
use libp2p::PeerId;
use tokio::sync::{Notify, watch};
use wallet::ChainId;

use crate::chain::{Chain, Heard};
use crate::network::{BlockValidator, FinalizedBlock, MAX_BLOCKS_PER_RESPONSE, Network, Verdict};

/// Why following could not start.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The genesis has no threshold sharing, so no group key verifies
    /// finality.
    #[error(
        "the genesis has no beacon_sharing, so finality cannot be verified; use the chain's published genesis file"
    )]
    NoGroupKey,
    /// The group key does not decode.
    #[error("the group public key is invalid: {0}")]
    BadGroupKey(String),
}

/// Checks finality proofs with the chain's group public key alone.
#[derive(Clone)]
pub struct FinalityVerifier {
    group_key: <MinSig as Variant>::Public,
    namespace: Vec<u8>,
}

impl std::fmt::Debug for FinalityVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FinalityVerifier").finish_non_exhaustive()
    }
}

impl FinalityVerifier {
    /// A verifier for `chain_id` from the 96-byte compressed group key.
    pub fn new(chain_id: &ChainId, group_key: &[u8]) -> Result<FinalityVerifier, FollowError> {
        let group_key = <MinSig as Variant>::Public::decode(Copying(group_key))
            .map_err(|e| FollowError::BadGroupKey(e.to_string()))?;
        Ok(FinalityVerifier {
            group_key,
            namespace: namespace(chain_id),
        })
    }

    /// The verifier of a genesis's chain (its `beacon_sharing`'s group
    /// key, which also signs finality).
    pub fn from_genesis(genesis: &Genesis) -> Result<FinalityVerifier, FollowError> {
        let sharing = genesis
            .beacon_sharing
            .as_ref()
            .ok_or(FollowError::NoGroupKey)?;
        FinalityVerifier::new(&genesis.chain_id(), sharing.group_key().as_bytes())
    }

    /// Checks that `proof` proves `block` final.
    pub fn verify(&self, block: &Block, proof: &[u8]) -> Result<(), EngineError> {
        verify_finalized(&self.group_key, &self.namespace, block, proof)
    }
}

/// The follower's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowConfig {
    /// How often to ask a peer for blocks when not behind.
    pub sync_interval: Duration,
    /// Blocks asked for per request (1 to 64).
    pub batch: u32,
    /// How far ahead of the next height blocks are queued.
    pub max_pending: u64,
    /// How often progress is logged while behind.
    pub progress_interval: Duration,
}

impl Default for FollowConfig {
    fn default() -> Self {
        FollowConfig {
            sync_interval: Duration::from_secs(1),
            batch: MAX_BLOCKS_PER_RESPONSE as u32,
            max_pending: 4096,
            progress_interval: Duration::from_secs(5),
        }
    }
}

/// A queued block.
#[derive(Debug)]
struct Candidate {
    block: FinalizedBlock,
    /// Its own proof verified.
    certified: bool,
    /// How it came.
    heard: Heard,
}

/// Follows the chain: see the [module documentation](self).
pub struct Follower {
    chain: Arc<Chain>,
    verifier: FinalityVerifier,
    config: FollowConfig,
    pending: Mutex<BTreeMap<u64, Candidate>>,
    wake: Notify,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower").finish_non_exhaustive()
    }
}

impl Follower {
    /// A follower of `chain`, checking proofs with `verifier`.
    pub fn new(chain: Arc<Chain>, verifier: FinalityVerifier, config: FollowConfig) -> Follower {
        Follower {
            chain,
            verifier,
            config,
            pending: Mutex::new(BTreeMap::new()),
            wake: Notify::new(),
        }
    }

    /// Verifies a block's own proof, if it has one: `Some(true)` proven,
    /// `Some(false)` the proof is invalid, `None` no proof.
    fn check(&self, block: &FinalizedBlock) -> Option<bool> {
        let proof = block.proof_bytes()?;
        match self.verifier.verify(&block.block, proof) {
            Ok(()) => Some(true),
            Err(error) => {
                tracing::debug!(height = block.block.header.height, %error, "invalid finality proof");
                Some(false)
            }
        }
    }

    /// Queues a block whose proof (if any) was checked. Returns whether it
    /// was queued.
    fn queue(&self, block: FinalizedBlock, certified: bool, heard: Heard) -> bool {
        let height = block.block.header.height;
        let Ok(next) = self.chain.next_height() else {
            return false;
        };
        if height < next || height >= next.saturating_add(self.config.max_pending) {
            return false;
        }
        let Ok(mut pending) = self.pending.lock() else {
            return false;
        };
        match pending.get(&height) {
            Some(existing) if existing.certified || !certified => false,
            _ => {
                pending.insert(
                    height,
                    Candidate {
                        block,
                        certified,
                        heard,
                    },
                );
                true
            }
        }
    }

    /// Takes blocks from sync (their heights already checked consecutive by
    /// the network). A bad proof drops the whole response.
    pub fn ingest(&self, blocks: Vec<FinalizedBlock>) -> Result<usize, EngineError> {
        let mut checked = Vec::with_capacity(blocks.len());
        for block in blocks {
            let certified = match self.check(&block) {
                Some(false) => return Err(EngineError::InvalidSignature),
                Some(true) => true,
                None => false,
            };
            checked.push((block, certified));
        }
        let mut queued = 0;
        for (block, certified) in checked {
            if certified {
                self.chain.note_target(block.block.header.height);
            }
            queued += usize::from(self.queue(block, certified, Heard::Elsewhere));
        }
        if queued > 0 {
            self.wake.notify_one();
        }
        Ok(queued)
    }

    /// Applies what is proven, in order. Returns how many blocks were
    /// applied. Blocking (ledger and storage work): run it off the async
    /// workers.
    pub fn advance(&self) -> usize {
        let mut applied = 0;
        loop {
            let Ok(next) = self.chain.next_height() else {
                return applied;
            };
            let run: Vec<(FinalizedBlock, Heard)> = {
                let Ok(mut pending) = self.pending.lock() else {
                    return applied;
                };
                // Forget what is below the ledger now.
                pending.retain(|height, _| *height >= next);
                let mut run = Vec::new();
                let mut last_certified = None;
                for (expected, (height, candidate)) in (next..).zip(pending.iter()) {
                    if *height != expected {
                        break;
                    }
                    if candidate.certified {
                        last_certified = Some(run.len());
                    }
                    run.push((candidate.block.clone(), candidate.heard));
                }
                let Some(last) = last_certified else {
                    return applied;
                };
                run.truncate(last + 1);
                // The certified block proves its ancestors by parent hashes.
                let mut expected = run[last].0.block.header.parent;
                for i in (0..last).rev() {
                    if run[i].0.block.hash() != expected {
                        let height = run[i].0.block.header.height;
                        tracing::warn!(
                            height,
                            "dropping a queued block that is not on the certified chain"
                        );
                        pending.remove(&height);
                        run.truncate(i);
                        break;
                    }
                    expected = run[i].0.block.header.parent;
                }
                run
            };
            if run.is_empty() {
                continue;
            }
            for (finalized, heard) in run {
                let height = finalized.block.header.height;
                match self
                    .chain
                    .apply_finalized(&finalized.block, finalized.proof_bytes(), heard)
                {
                    Ok(_) => applied += 1,
                    Err(error) => {
                        tracing::error!(height, %error, "a finalized block was refused by the ledger; dropping it and syncing again");
                        if let Ok(mut pending) = self.pending.lock() {
                            pending.remove(&height);
                        }
                        return applied;
                    }
                }
            }
        }
    }

    /// The first height not queued after the ledger's next one.
    fn first_missing(&self) -> Option<u64> {
        let next = self.chain.next_height().ok()?;
        let pending = self.pending.lock().ok()?;
        let mut height = next;
        while pending.contains_key(&height) {
            height += 1;
        }
        Some(height)
    }

    /// Asks one peer for the blocks after those queued and queues them.
    /// Returns whether a full batch came and was queued (more may follow).
    async fn sync_once(&self, network: &Network, peer: PeerId) -> bool {
        let Some(from) = self.first_missing() else {
            return false;
        };
        match network.request_blocks(peer, from, self.config.batch).await {
            Ok(blocks) => {
                let got = blocks.len();
                if let Some(last) = blocks.last() {
                    // The peer has at least these; a full batch means more.
                    self.chain.note_target(last.block.header.height);
                }
                match self.ingest(blocks) {
                    Ok(queued) => got as u32 == self.config.batch && queued > 0,
                    Err(error) => {
                        tracing::warn!(%peer, %error, "a peer sent a block with an invalid finality proof");
                        false
                    }
                }
            }
            Err(error) => {
                tracing::debug!(%peer, %error, "block sync request failed");
                false
            }
        }
    }

    /// Runs until `shutdown` turns true: syncs from peers, applies queued
    /// blocks, logs progress.
    pub async fn run(self: Arc<Self>, network: Network, mut shutdown: watch::Receiver<bool>) {
        let mut turn = 0usize;
        let mut last_progress = Instant::now();
        loop {
            let me = self.clone();
            if tokio::task::spawn_blocking(move || me.advance())
                .await
                .is_err()
            {
                tracing::error!("applying blocks panicked; the follower stops");
                return;
            }
            let peers = network.connected_peers().await.unwrap_or_default();
            let mut full = false;
            if !peers.is_empty() {
                let peer = peers[turn % peers.len()];
                turn = turn.wrapping_add(1);
                full = self.sync_once(&network, peer).await;
            }
            if last_progress.elapsed() >= self.config.progress_interval {
                last_progress = Instant::now();
                if let Some(progress) = self.chain.refresh_sync() {
                    tracing::info!(
                        height = progress.height,
                        target = progress.target,
                        blocks_per_second = format!("{:.1}", progress.blocks_per_second),
                        eta_seconds = progress.eta_seconds,
                        "syncing"
                    );
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.config.sync_interval) => {}
            }
        }
    }
}

impl BlockValidator for Follower {
    fn validate_block(&self, block: &FinalizedBlock, _from: &PeerId) -> Verdict {
        let height = block.block.header.height;
        let Ok(next) = self.chain.next_height() else {
            return Verdict::Ignore;
        };
        if height < next {
            return Verdict::Ignore;
        }
        match self.check(block) {
            None => Verdict::Ignore,
            Some(false) => Verdict::Reject,
            Some(true) => {
                tracing::debug!(target: consensus::engine::LATENCY, height, "finalized block received");
                self.chain.note_target(height);
                if self.queue(block.clone(), true, Heard::Gossip) {
                    self.wake.notify_one();
                }
                Verdict::Accept
            }
        }
    }
}
