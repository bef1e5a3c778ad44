//! # The threshold randomness beacon
//!
//! Every bet is settled with randomness that nobody — no leader, no
//! validator, no coalition of fewer than `t` validators — can know or steer
//! before it exists. It comes from a **threshold BLS signature**: the
//! validators of an epoch hold Shamir shares of one BLS12-381 secret key
//! whose public key is the epoch's [`GroupKey`]; any `t` of them can
//! produce a signature σ on a message, and σ is the same whichever `t` sign.
//! The randomness is `r = blake3("bitcraps/v1/randomness" ‖ σ)`
//! ([`beacon_randomness`], defined in `game_rules::randomness`).
//!
//! ## What is signed, and when
//!
//! For each finalized height the validators sign a [`BeaconMessage`]
//! `(chain id, epoch, height, block hash)`. The BLS input is
//!
//! ```text
//! varint(18) ‖ "BITCRAPS_BEACON_V1" ‖ chain_id (32) ‖ epoch (u64 LE) ‖ height (u64 LE) ‖ block (32)
//! ```
//!
//! hashed to G1 with the IETF `hash_to_curve` suite and DST
//! `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_`.
//!
//! - **Only after the height is finalized.** A validator signs height `h`
//!   only once block `h` is final, and only that block. This is the
//!   caller's duty (the engine binding), and it is what makes the
//!   randomness unpredictable: the bets it settles were fixed in block `h`
//!   before any share for `h` existed, so no one could choose them knowing
//!   the outcome. Signing a proposal, or the seed of the view in which a bet
//!   was proposed, would let a leader with `f` colluders learn the value
//!   while still able to change the block (the simplex docs explain the
//!   attack); signing two blocks at one height is provable misbehaviour
//!   ([`BeaconEvidence::ConflictingShares`]).
//! - **Unique, so unbiasable.** BLS signatures are deterministic and the
//!   threshold signature is unique for (group key, message): any `t` valid
//!   shares interpolate to the same σ, so withholding a share changes
//!   nothing but timing, and a leader can only include the one σ that
//!   [`verify_beacon`] accepts. σ must also be *canonically* encoded (48
//!   bytes, compressed, re-encoding gives the same bytes), or a proposer
//!   could pick among encodings of one point and with them among values of
//!   `r`.
//! - **Namespace.** [`BEACON_NAMESPACE`] (`BITCRAPS_BEACON_V1`) is used for
//!   nothing else. If the consensus engine uses the same threshold key (the
//!   simplex `bls12381_threshold` scheme does), it signs under its own
//!   namespace with `_SEED`, `_NOTARIZE`, `_NULLIFY`, `_FINALIZE` suffixes;
//!   the varint length prefix makes `(namespace, message)` pairs injective,
//!   so no consensus signature is ever a beacon signature or share.
//!
//! ## MinSig
//!
//! The variant is `MinSig`: signatures (σ and partials) are 48-byte G1
//! points, public keys 96-byte G2 points. σ is stored in every block that
//! records randomness and every share is gossiped, while the group key is
//! stored once per epoch, so the small side goes to signatures. Every point
//! read from outside is checked to be on the curve, in the prime-order
//! subgroup and not the identity before use.
//!
//! ## Thresholds
//!
//! With `n` validators, at most `f = ⌊(n−1)/3⌋` are assumed faulty and
//! `t = n − f` shares are needed ([`quorum`]; `t = 2f + 1` when
//! `n = 3f + 1`, and always `t > 2n/3`). So `f` colluders — indeed any
//! `t − 1` — cannot compute σ before an honest validator releases its
//! share (`t − 1` Shamir shares are consistent with every secret; computing
//! σ from them would break BLS), and the `n − f ≥ t` honest validators
//! produce it without them. [`PublicSharing`] refuses a polynomial whose
//! degree does not give exactly this `t`.
//!
//! ## Shares on the wire, and evidence
//!
//! A validator gossips a [`SignedBeaconShare`]: the [`BeaconShare`]
//! (epoch, height, block, share index, 48-byte partial signature) signed
//! with its ed25519 validator key ([`SignedBeaconShare::signing_message`],
//! under [`SHARE_SIGN_DOMAIN`], the wallet's own `beacon-share` domain).
//! The envelope makes a bad share **third-party verifiable evidence**:
//! anyone with the epoch's [`PublicSharing`] and validator keys can check
//! that validator `i` signed a partial that does not verify
//! ([`BeaconEvidence::InvalidShare`]), or signed shares for two different
//! blocks at one height ([`BeaconEvidence::ConflictingShares`]). A share
//! whose envelope does not verify is not evidence against anyone (anyone
//! can write any index into bytes) and is simply refused.
//!
//! Shares are decoded with [`SignedBeaconShare::decode`], which checks the
//! length (exactly [`SignedBeaconShare::ENCODED_LENGTH`] bytes) before
//! looking at the content and never panics.
//!
//! ## Aggregation
//!
//! [`BeaconAggregator`] (one per epoch) verifies each share as it arrives,
//! keeps at most one share per validator per height, and as soon as `t`
//! valid shares agree on a block it interpolates σ, verifies σ against the
//! group key, and returns it. Its memory is bounded by a window of heights
//! above a watermark that the caller advances.
//!
//! ## Keys
//!
//! Key material comes from a distributed key generation among the epoch's
//! validators ([`dkg::run_dkg`], in one process) or, for a testnet whose
//! genesis says `dealer_beacon = true`, a trusted dealer ([`dealer_keys`]).
//! When an epoch's validator set changes, the old set reshares the *same*
//! secret to the new set through the chain (the round is opened, its
//! dealer logs recorded and its output computed by the ledger,
//! [`crate::ledger::reshare`]; dealings and acknowledgements travel over
//! the validator network, [`crate::validator::Resharer`]), so the group key
//! never changes and every old σ stays verifiable with it. Each epoch's
//! partial signatures verify against that epoch's public polynomial, held
//! by the ledger ([`crate::ledger::Ledger::beacon_output`]); a share of an
//! earlier sharing is refused (and is evidence against its signer if its
//! index still exists).
//!
//! ## Modules
//!
//! - message: [`BeaconMessage`], [`verify_beacon`], [`beacon_randomness`];
//! - keys: [`GroupKey`], [`PublicSharing`], [`SecretShare`],
//!   [`dealer_keys`];
//! - share: [`BeaconSigner`], [`BeaconShare`], [`SignedBeaconShare`],
//!   [`BeaconEvidence`];
//! - aggregator: [`BeaconAggregator`];
//! - verifier: [`ThresholdBeaconVerifier`], the ledger's check of σ;
//! - [`dkg`]: the DKG and resharing: in one process, and the pieces of the
//!   chain-driven resharing.

mod aggregator;
pub mod dkg;
mod error;
mod keys;
mod message;
mod share;
mod verifier;

#[cfg(test)]
mod tests;

pub use aggregator::{BeaconAggregator, DEFAULT_HEIGHT_WINDOW, RecoveredBeacon};
pub use error::{BeaconError, Misbehaviour};
pub use keys::{DealerKeys, GroupKey, PublicSharing, SecretShare, dealer_keys};
pub use message::{BeaconMessage, beacon_randomness, verify_beacon};
pub use share::{
    BeaconEvidence, BeaconShare, BeaconSigner, SHARE_ENVELOPE_TAG, SHARE_SIGN_DOMAIN,
    SignedBeaconShare,
};
pub use verifier::ThresholdBeaconVerifier;

/// The namespace of every beacon signature and share (never used for
/// anything else).
pub const BEACON_NAMESPACE: &[u8] = b"BITCRAPS_BEACON_V1";

/// Length of a beacon signature σ and of a partial signature: a compressed
/// G1 point.
pub const SIGNATURE_LENGTH: usize = 48;

/// Length of a group public key or a share's public key: a compressed G2
/// point.
pub const GROUP_KEY_LENGTH: usize = 96;

/// The most participants (validators) a sharing may have: the genesis
/// limit on validators ([`crate::genesis::MAX_VALIDATORS`]).
pub const MAX_PARTICIPANTS: u32 = crate::genesis::MAX_VALIDATORS as u32;

/// The most faulty validators tolerated among `n`: `⌊(n−1)/3⌋` (0 for
/// `n = 0`).
pub const fn max_faults(n: u32) -> u32 {
    n.saturating_sub(1) / 3
}

/// The number of shares needed among `n` validators: `n − max_faults(n)`,
/// which is `2f + 1` for `n = 3f + 1` and always more than `2n/3` (0 for
/// `n = 0`). The same rule as commonware's `N3f1` fault model, which the
/// DKG uses.
pub const fn quorum(n: u32) -> u32 {
    n - max_faults(n)
}

/// The BLS variant: signatures in G1 (48 bytes), public keys in G2 (96).
type V = commonware_cryptography::bls12381::primitives::variant::MinSig;
