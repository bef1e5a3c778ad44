//! # The BFT engine binding
//!
//! Validators order blocks with commonware's **simplex** consensus
//! (`commonware-consensus =2026.10.0`), signing votes with the
//! **`bls12381_threshold::vrf`** scheme over BLS12-381 with the `MinSig`
//! variant (48-byte signatures, 96-byte group key). Blocks are disseminated,
//! stored, backfilled and delivered in order by commonware's **marshal**,
//! and the application is plugged in behind
//! `marshal::standard::Deferred`, which lets a validator vote to notarize as
//! soon as the block is available and its embedded consensus context matches,
//! while execution ([`Executor::verify`]) overlaps the network round trip;
//! the finalize vote waits for the verdict.
//!
//! ```text
//!             votes / certificates / resolver        backfill / broadcast
//!                         │                                   │
//!   ┌─────────────────────▼──────────┐            ┌───────────▼───────────────┐
//!   │ simplex::Engine                │  Activity  │ marshal::core::Actor      │
//!   │  (bls12381_threshold::vrf,     ├───────────►│  immutable archives:      │
//!   │   MinSig, round-robin leaders) │ (Deferred) │  finalized blocks + certs │
//!   └───────┬────────────────────────┘            └───────────┬───────────────┘
//!           │ propose / verify / certify                     │ Update::Block (height order,
//!   ┌───────▼────────────────────────┐                        │  at least once) + ack
//!   │ Deferred<App>  (this module)   │            ┌───────────▼───────────────┐
//!   │  App::propose → Executor       │            │ finalizer task            │
//!   │  App::verify  → Executor       │            │  Executor::finalized(..)  │
//!   └────────────────────────────────┘            │  then ack                 │
//!                                                 └───────────────────────────┘
//! ```
//!
//! ## The application interface
//!
//! The ledger and mempool plug in through [`Executor`]: build a block on a
//! parent, give a deterministic verdict on a proposed block, and apply a
//! finalized block durably. The engine itself checks everything that needs
//! no ledger state before calling [`Executor::verify`]: the block is
//! well-formed and its signatures verify ([`Block::check`]), it extends its
//! parent ([`crate::block::BlockHeader::check_extends`]: chain, next height,
//! parent hash, strictly later timestamp), its header's view is the round's
//! and, within an epoch, after its parent's
//! ([`crate::block::BlockHeader::check_view`]), its proposer is the view's leader,
//! and its timestamp is not ahead of the local clock by more than
//! [`Timing::max_skew`] — a block from the future is *waited for*
//! (`sleep_until(ts − max_skew)`), never rejected, because a verdict must
//! not depend on the local clock. The proposer stamps blocks from the
//! runtime clock (`context.current()`, simulated time in the deterministic
//! runtime) as this validator reads it: shifted by [`Config::clock_skew`],
//! which is zero in a node and lets the simulations give one validator a
//! clock that is ahead or behind (it then stamps its proposals, bounds
//! others' and paces by that clock); the ledger never reads a clock.
//!
//! What the wait implies for a clock ahead by `skew` more than
//! `max_skew`: its views are certified `skew − max_skew` late by the
//! others, so while that is under `certification_timeout` its blocks get
//! in late, and beyond it its views are nullified. Either way, since a
//! block is final only once a quorum has certified it, and a quorum holds
//! an honest clock, a finalized timestamp is never more than `max_skew`
//! ahead of the honest clocks when it is first final: the chain's time,
//! which drives the ledger's timed steps, does not run ahead of them by
//! more (an honest leader after a fast one stamps `parent + 1 ms`, under
//! the same wait). See the clock tests in `validator::schedule`.
//!
//! ## The consensus block and its digest
//!
//! Our [`Block`] carries only the view of simplex's consensus context (its
//! header's `view`, which the application checks against the round and,
//! within an epoch, against the parent's — so the chain alone shows which
//! views produced no block and, with [`leaders`], whose they were), not
//! the rest (epoch, leader, parent view); but marshal's deferred verification requires a
//! `CertifiableBlock` whose digest commits to that context (a validator that
//! restarts mid-view recovers the context from the block). So consensus
//! orders a [`ConsensusBlock`]: the context plus our block, with digest
//! `BLAKE3-derive-key("bitcraps v1 consensus block", 1 ‖ context ‖ block hash)`.
//! The chain starts at an *anchor* ([`ConsensusBlock::anchor`], engine height
//! 0) standing for the genesis; our block at height `h` is engine height
//! `h + 1`. See [`block`] for the encoding.
//!
//! ## Configuration ([`Config`], [`Timing`], [`Storage`])
//!
//! | setting | value | why |
//! |---|---|---|
//! | `leader_timeout` | 1 s | a view without a proposal is nullified after this |
//! | `certification_timeout` | 2 s | a view without a notarization is nullified after this |
//! | `timeout_retry` | 500 ms | rebroadcast of nullify votes while stuck |
//! | `skip` | 5 s, budget = participants | an inactive leader is skipped |
//! | `elector` | round-robin, view 1's leader also leads view 2 (`leaders.rs`) | a new epoch's engine knows nobody's activity: view 2's leader must be one already heard from |
//! | `view_retention` | 64 views | votes and certificates kept behind the finalized view |
//! | `mailbox_size` | 1024 | every actor mailbox |
//! | marshal `max_pending_acks` | 16 | finalized blocks awaiting the executor's ack |
//! | marshal `max_repair` | 20 | missing finalized heights fetched in parallel |
//! | `epoch_length` | the ledger's `epoch_length_blocks` (`u64::MAX` in [`Config::new`]) | engine epochs are the ledger's (see below) |
//! | `max_skew` | 500 ms | a future timestamp within this is accepted at once |
//! | `max_block_interval` | 500 ms | an idle leader waits this long after its parent for work |
//! | `pacing_poll` | 5 ms | how often a waiting leader looks for work again |
//!
//! ## Proposal pacing
//!
//! Simplex starts the next view as soon as the last one is notarized, so
//! without pacing the validators finalize empty blocks as fast as the
//! network allows (about 17 a second on loopback, a third of a core each).
//! A leader therefore asks its executor whether a block would carry work
//! ([`Executor::has_work`]: transactions, recovered beacon entries, a
//! timed step of the ledger that is due) and, while it would not, sleeps
//! on the runtime clock in steps of [`Timing::pacing_poll`] until work
//! appears or [`Timing::max_block_interval`] has passed since the parent's
//! timestamp. Under load the first check is `true` and nothing changes; an
//! idle chain makes about two blocks a second. The wait uses the runtime's
//! clock, so it is simulated (and reproducible) in the deterministic
//! runtime, and it is bounded well below `leader_timeout`, so a pacing
//! leader is never taken for a silent one.
//!
//! ## Memory
//!
//! Everything that grows is bounded by configuration:
//!
//! - **One page cache per validator** ([`Storage::page_cache_pages`] pages of
//!   [`PAGE_SIZE`] bytes, allocated up front), shared by the simplex journal
//!   and all marshal archives: 8192 pages ≈ 32 MiB by default, 64 pages
//!   (≈ 256 KiB) in the tests.
//! - Small write/replay buffers (64 KiB default) instead of the examples' MiBs.
//! - Actor mailboxes of 1024; p2p rate quotas with small bursts
//!   ([`Timing::messages_per_second`] per peer per channel); the largest
//!   message is [`max_message_size`] (what the block bound and committee size
//!   admit), so inbound queues are `peers × burst × max_message_size` at most.
//! - `view_retention` 64 bounds simplex's in-memory rounds and journal;
//!   marshal keeps at most `2 × max_pending_acks` finalized blocks in memory.
//! - The finalizer's queue is fed only by marshal, which never has more than
//!   `max_pending_acks` unacknowledged blocks outstanding.
//! - [`ConsensusBlock`]s are bounded by [`Config::max_block_bytes`] before decoding.
//!
//! ## Keys
//!
//! Each validator has an ed25519 identity (p2p authentication, committee
//! order, leader election) and a share of the group's BLS12-381 secret. Until
//! the DKG lands, [`dealer_committee`] is the explicit testnet shortcut (a
//! trusted dealer who knows the whole secret). The group public key alone
//! verifies any finalization: [`verify_finalized`].
//!
//! ## Epochs: one simplex engine per epoch
//!
//! The engine follows the ledger's epochs. Engine epoch `e` is exactly the
//! ledger's epoch `e` shifted by the anchor (engine heights `e·L + 1 ..=
//! (e+1)·L` for `e ≥ 1`, `0 ..= L` for epoch 0; `L` is
//! [`Config::epoch_length`], the ledger's `epoch_length_blocks`), so every
//! block is voted on by its ledger epoch's committee and the last block of
//! an epoch is the boundary block that simplex re-proposes (marshal's
//! `Deferred`) until it is final. One marshal serves every epoch; simplex
//! runs one engine per epoch:
//!
//! - when the last block of epoch `e` has been applied, the engine asks the
//!   executor for epoch `e + 1`'s committee ([`Executor::committee`]: the
//!   players of the sharing in force, its public polynomial and this
//!   validator's share, the reshared one after a completed resharing),
//!   starts that epoch's simplex from the boundary block (if this validator
//!   holds a share of it), stops epoch `e`'s, and only then acknowledges
//!   the block. A validator outside the set runs no engine and follows
//!   finalized blocks; a newcomer starts voting and leading in its first
//!   epoch. [`Running::epoch`] says where a validator is.
//! - simplex's three channels are multiplexed by epoch
//!   (`commonware_p2p::utils::mux`), so no message of one epoch reaches
//!   another epoch's engine; a message of a later epoch is a hint that its
//!   sender is ahead, and marshal fetches from it the last block before
//!   the sender's epoch (at most 64 epochs ahead) and backfills below it
//!   (that is how a validator that missed boundaries, or one following
//!   without an engine, catches up: straight to the sender's epoch).
//! - marshal verifies certificates of any epoch under the group key, which
//!   resharing keeps: [`verify_finalized`] checks the finalizations of
//!   every epoch with the group key alone.
//! - a restarted validator resumes in the epoch of the first height marshal
//!   has not delivered; each epoch has its own simplex journal
//!   (`…-simplex` for epoch 0, `…-simplex-<epoch>` after), removed once
//!   the epoch is over and marshal has durably recorded its last block as
//!   processed (and at start-up, the epoch before's, which a crash in
//!   between leaves behind).
//! - the ledger verifies equivocation evidence of epoch `e` against `e`'s
//!   committee (the sharing in force in `e`), so a double vote signed with
//!   a reshared share is slashable like one of epoch 0.
//!
//! [`start`] is generic over the p2p channels, so the same code runs over
//! the simulated network in the tests and over real sockets in the node.
//!
//! ## Equivocation
//!
//! The [`FaultMonitor`] reporter counts what simplex reports and forwards
//! every conflicting pair of votes (`ConflictingNotarize`,
//! `ConflictingFinalize`, `NullifyFinalize`) as an
//! [`Equivocation`] to [`Executor::equivocation`], on a task of its own so
//! that reporting never waits for the executor.

mod application;
pub mod block;
mod epochs;
mod keys;
pub mod leaders;
mod light;
mod validator;

#[cfg(test)]
mod tests;

use std::num::{NonZeroU16, NonZeroU64, NonZeroUsize};
use std::time::Duration;

use commonware_consensus::simplex;
use commonware_consensus::simplex::scheme::bls12381_threshold::vrf;
use commonware_cryptography::bls12381::primitives::group::Share;
use commonware_cryptography::bls12381::primitives::sharing::Sharing;
use commonware_cryptography::bls12381::primitives::variant::MinSig;
use commonware_cryptography::ed25519;
use commonware_utils::ordered::Set;
use wallet::ChainId;

use crate::block::{Block, BlockTemplate, MAX_BLOCK_BYTES};
use crate::tx::Equivocation;

pub use application::{ClockSkew, FaultMonitor, Faults, LATENCY};
pub use block::ConsensusBlock;
pub use keys::{Committee, ValidatorKeys, dealer_committee};
pub use light::{FinalityProof, verify_finalized};
pub use validator::{Channels, EpochStatus, Running, channel, max_message_size, quota, start};

/// The signing scheme: threshold BLS12-381 (MinSig) with a per-view VRF
/// seed, identities ed25519. The seed must never settle bets (see
/// [`crate::beacon`]): a leader with `f` colluders can learn it before the
/// view resolves.
pub type Scheme = vrf::Scheme<ed25519::PublicKey, MinSig>;

/// The digest consensus votes on: a [`ConsensusBlock`]'s (BLAKE3, 32 bytes).
pub type Digest = commonware_cryptography::blake3::Digest;

/// The consensus context of a proposal: round, leader, parent view and digest.
pub type ConsensusContext = simplex::types::Context<Digest, ed25519::PublicKey>;

/// A finalization certificate: the proposal and the recovered threshold
/// signature (part of a [`FinalityProof`]).
pub type Finalization = simplex::types::Finalization<Scheme, Digest>;

/// What simplex reports: votes, certificates and evidence of faults.
pub type Activity = simplex::types::Activity<Scheme, Digest>;

/// The prefix of the consensus namespace; [`namespace`] appends the chain id.
pub const NAMESPACE_PREFIX: &[u8] = b"bitcraps-v1-consensus-";

/// The logical page size of the shared page cache (a 4 KiB physical page,
/// checksum included). Part of the storage format: never change it for
/// existing data.
pub const PAGE_SIZE: NonZeroU16 = commonware_runtime::buffer::paged::page_size(4096);

/// The consensus namespace of a chain: [`NAMESPACE_PREFIX`] ‖ chain id. Every
/// vote and certificate is signed under it, so nothing signed for one chain
/// counts on another.
pub fn namespace(chain_id: &ChainId) -> Vec<u8> {
    let mut namespace = NAMESPACE_PREFIX.to_vec();
    namespace.extend_from_slice(chain_id.as_bytes());
    namespace
}

/// What the engine needs from the application; the ledger and mempool
/// implement it.
///
/// The engine calls it from its own tasks, one call at a time (it holds the
/// executor behind a mutex), so calls should be short: `propose` and
/// `verify` sit on the consensus critical path.
///
/// `parent` is `None` for the first block, which builds on the genesis.
pub trait Executor: Send + 'static {
    /// Builds the next block on `parent`. `template` has the chain id, the
    /// height, the view, the parent's hash, the timestamp (from the runtime clock,
    /// strictly after the parent's) and this validator as proposer filled
    /// in; `parent_state_root` is [`crate::hash::Hash::ZERO`] and must be
    /// set. Return the block (e.g. from [`Block::assemble`] with mempool
    /// transactions and beacon entries), or `None` to skip this proposal.
    /// A block that does not keep the template's fields is dropped.
    fn propose(&mut self, parent: Option<&Block>, template: BlockTemplate) -> Option<Block>;

    /// Whether a block built on `parent` at `now_ms` (runtime clock) would
    /// carry work: transactions, beacon entries, or a timed step of the
    /// ledger that is due. A leader whose executor says `false` waits (up
    /// to [`Timing::max_block_interval`] after the parent's timestamp,
    /// asking again every [`Timing::pacing_poll`]) before proposing, so an
    /// idle chain makes few empty blocks. Cheap and side-effect free; the
    /// default (`true`) never waits.
    fn has_work(&mut self, parent: Option<&Block>, now_ms: u64) -> bool {
        let _ = (parent, now_ms);
        true
    }

    /// The deterministic verdict on `block` extending `parent`: the same
    /// answer on every honest node, never `false` for a transient reason.
    /// The engine has already checked everything stateless (see the
    /// [module documentation](self)); this is for the ledger's rules.
    fn verify(&mut self, parent: Option<&Block>, block: &Block) -> bool;

    /// `block` is finalized: apply it durably, then return (the engine
    /// acknowledges it to marshal only afterwards). Blocks come in height
    /// order and at least once — after a restart the last ones may come
    /// again — so applying must be idempotent.
    ///
    /// `certificate` is the encoded [`FinalityProof`] (consensus context and
    /// [`Finalization`]) when the block was finalized by its own
    /// certificate: with it, [`verify_finalized`] checks the block with the
    /// group key alone. It is `None` when the block was finalized through a
    /// descendant's certificate (e.g. while catching up); that descendant's
    /// proof and the chain of `parent` hashes down to this block prove it.
    fn finalized(&mut self, block: &Block, certificate: Option<&[u8]>);

    /// Simplex reported that a committee member signed two conflicting
    /// votes (`evidence`, in commonware's encoding; simplex verified the
    /// signatures before reporting). A validator turns it into a slashing
    /// transaction ([`crate::tx::Evidence::Equivocation`]). Called from
    /// the engine's own task, like the other methods. The default only
    /// logs it: an executor that cannot submit transactions (a test's)
    /// has nothing else to do with it.
    fn equivocation(&mut self, evidence: Equivocation) {
        tracing::warn!(kind = ?evidence.kind, "equivocation reported; not submitted");
    }

    /// The committee of engine epoch `epoch` (the ledger's epoch of the
    /// same number), asked when the engine enters it: after the last block
    /// of the epoch before was applied ([`Executor::finalized`]), and at
    /// start-up for the epoch it resumes in (for epoch 0 the
    /// configuration's committee is used). The default,
    /// [`EpochMembers::Unchanged`], keeps the committee of the
    /// configuration for every epoch.
    fn committee(&mut self, epoch: u64) -> EpochMembers {
        let _ = epoch;
        EpochMembers::Unchanged
    }
}

/// One epoch's committee as the engine runs it.
#[derive(Clone, Debug)]
pub struct EpochCommittee {
    /// The epoch's ed25519 identities, in their canonical (sorted) order,
    /// which is the order of the sharing's indices.
    pub participants: Set<ed25519::PublicKey>,
    /// The epoch's public polynomial (its constant term, the group key,
    /// stays the same across resharings).
    pub sharing: Sharing<MinSig>,
    /// This validator's share for the epoch; `None` if it holds none (not
    /// in the set, or its share was lost): it then runs no engine for the
    /// epoch and only follows finalized blocks.
    pub share: Option<Share>,
}

/// What an [`Executor`] knows of an epoch's committee.
#[derive(Clone, Debug)]
pub enum EpochMembers {
    /// The committee of the epoch before (a chain whose committee never
    /// changes).
    Unchanged,
    /// This committee.
    Known(EpochCommittee),
    /// Not known here (e.g. after a restart, the ledger is already past
    /// the epoch): the engine runs no simplex for the epoch and follows
    /// its finalized blocks until the next one.
    Unknown,
}

/// Consensus timing and rates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// A view without a proposal is nullified after this.
    pub leader_timeout: Duration,
    /// A view without a notarization is nullified after this.
    pub certification_timeout: Duration,
    /// How often nullify votes are re-sent while a view is stuck.
    pub timeout_retry: Duration,
    /// After this, an inactive leader may be skipped.
    pub skip_timeout: Duration,
    /// How long a fetch of a missing certificate or block waits for a peer.
    pub fetch_timeout: Duration,
    /// How far ahead of the local clock a block's timestamp may be before
    /// verification waits for the clock to catch up.
    pub max_skew: Duration,
    /// Messages per second per peer on each p2p channel.
    pub messages_per_second: u32,
    /// Proposal pacing: a leader whose executor has no work
    /// ([`Executor::has_work`]) waits until this long after its parent's
    /// timestamp (never more than this from now) before proposing an empty
    /// block, and proposes at once when work appears. Zero disables pacing.
    /// Must stay well below [`Timing::leader_timeout`], or idle views
    /// would be nullified.
    pub max_block_interval: Duration,
    /// How often a pacing leader asks its executor for work again: the
    /// most latency pacing adds to the first transaction after a pause.
    pub pacing_poll: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            leader_timeout: Duration::from_secs(1),
            certification_timeout: Duration::from_secs(2),
            timeout_retry: Duration::from_millis(500),
            skip_timeout: Duration::from_secs(5),
            fetch_timeout: Duration::from_secs(1),
            max_skew: Duration::from_millis(500),
            messages_per_second: 128,
            max_block_interval: Duration::from_millis(500),
            pacing_poll: Duration::from_millis(5),
        }
    }
}

/// Storage and memory settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storage {
    /// Pages of [`PAGE_SIZE`] bytes in the validator's one page cache
    /// (allocated up front).
    pub page_cache_pages: NonZeroUsize,
    /// Replay and write buffer size for journals and archives, in bytes.
    pub buffer_bytes: NonZeroUsize,
    /// Items per section of marshal's archives and caches.
    pub items_per_section: NonZeroU64,
    /// Every actor mailbox's capacity.
    pub mailbox_size: NonZeroUsize,
    /// Views of votes and certificates kept behind the last finalized view.
    pub view_retention: u64,
    /// Finalized blocks delivered to the executor and not yet acknowledged.
    pub max_pending_acks: NonZeroUsize,
    /// Missing finalized heights fetched from peers at a time.
    pub max_repair: NonZeroUsize,
}

impl Default for Storage {
    fn default() -> Storage {
        Storage {
            page_cache_pages: NonZeroUsize::new(8192).expect("non-zero"),
            buffer_bytes: NonZeroUsize::new(64 * 1024).expect("non-zero"),
            items_per_section: NonZeroU64::new(1024).expect("non-zero"),
            mailbox_size: NonZeroUsize::new(1024).expect("non-zero"),
            view_retention: 64,
            max_pending_acks: NonZeroUsize::new(16).expect("non-zero"),
            max_repair: NonZeroUsize::new(20).expect("non-zero"),
        }
    }
}

/// One validator's engine configuration.
pub struct Config<X> {
    /// The chain (the genesis hash's bytes); part of the consensus namespace.
    pub chain_id: ChainId,
    /// The genesis time: the first block's timestamp must be after it.
    pub genesis_time_ms: u64,
    /// This validator's ed25519 identity.
    pub identity: ed25519::PrivateKey,
    /// The genesis committee's ed25519 identities (epoch 0's), in their
    /// canonical (sorted) order.
    pub participants: Set<ed25519::PublicKey>,
    /// The genesis committee's public polynomial (its constant term is the
    /// group key, which verifies the certificates of every epoch).
    pub sharing: Sharing<MinSig>,
    /// This validator's genesis share; `None` for a validator outside the
    /// genesis committee (it follows epoch 0 and votes from the first epoch
    /// whose committee gives it a share).
    pub share: Option<Share>,
    /// The application.
    pub executor: X,
    /// Prefix of every storage partition of this validator (unique per
    /// validator within one runtime's storage).
    pub partition_prefix: String,
    /// The most bytes a block's encoding may have (at most
    /// [`MAX_BLOCK_BYTES`]); sizes the network's largest message.
    pub max_block_bytes: usize,
    /// Blocks per epoch: the ledger's `epoch_length_blocks` for a chain
    /// whose committee follows the ledger ([`Executor::committee`]);
    /// `u64::MAX` (the default of [`Config::new`]) for one endless epoch.
    pub epoch_length: NonZeroU64,
    /// Timeouts and rates.
    pub timing: Timing,
    /// Storage and memory.
    pub storage: Storage,
    /// This validator's wall clock as an offset from the runtime's:
    /// [`ClockSkew::default`] (zero) in [`Config::new`] and in a node. The
    /// simulations set it to inject clock skew.
    pub clock_skew: ClockSkew,
}

impl<X> Config<X> {
    /// A configuration with the default [`Timing`] and [`Storage`], the
    /// largest block size and a single epoch.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        chain_id: ChainId,
        genesis_time_ms: u64,
        identity: ed25519::PrivateKey,
        participants: Set<ed25519::PublicKey>,
        sharing: Sharing<MinSig>,
        share: Option<Share>,
        executor: X,
        partition_prefix: String,
    ) -> Config<X> {
        Config {
            chain_id,
            genesis_time_ms,
            identity,
            participants,
            sharing,
            share,
            executor,
            partition_prefix,
            max_block_bytes: MAX_BLOCK_BYTES,
            epoch_length: NonZeroU64::new(u64::MAX).expect("non-zero"),
            timing: Timing::default(),
            storage: Storage::default(),
            clock_skew: ClockSkew::default(),
        }
    }
}

/// Why the engine refused something.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The configuration is inconsistent.
    #[error("invalid engine configuration: {0}")]
    InvalidConfig(String),
    /// A certificate could not be decoded.
    #[error("the certificate does not decode: {0}")]
    BadCertificate(String),
    /// The certificate's signature does not verify under the group key.
    #[error("the certificate's threshold signature does not verify under the group key")]
    InvalidSignature,
    /// The certificate finalizes another block.
    #[error("the certificate finalizes {certified}, not this block ({block})")]
    WrongBlock {
        /// The digest the certificate finalizes.
        certified: String,
        /// This block's digest.
        block: String,
    },
    /// The certificate's round is not the block's.
    #[error("the certificate is for round {certified}, the block was proposed in {block}")]
    WrongRound {
        /// The certificate's round.
        certified: String,
        /// The block's round.
        block: String,
    },
}
