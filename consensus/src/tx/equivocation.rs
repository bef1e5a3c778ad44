//! Equivocation in the BFT engine: two conflicting consensus votes.
//!
//! The engine ([`crate::engine`]) signs its votes with the
//! `bls12381_threshold::vrf` scheme: each vote is a partial signature of
//! participant `i` (its index in the committee's canonical order), which
//! anyone verifies against the public polynomial evaluated at `i` — that
//! of the sharing in force in the vote's epoch (the genesis
//! `beacon_sharing`, or a resharing's output: see
//! [`crate::ledger::staking`]). When simplex sees one
//! participant sign two votes that cannot both be honest in one view, it
//! reports them; [`Equivocation`] carries them to the ledger in
//! commonware's own encoding:
//!
//! | [`ConflictKind`] | commonware type | the two votes |
//! |---|---|---|
//! | `Notarize` (0) | `ConflictingNotarize` | notarize ‖ notarize, different proposals |
//! | `Finalize` (1) | `ConflictingFinalize` | finalize ‖ finalize, different proposals |
//! | `NullifyFinalize` (2) | `NullifyFinalize` | nullify ‖ finalize |
//!
//! **Decoding** ([`Equivocation::decode`]) is bounded ([`MAX_EQUIVOCATION_BYTES`]
//! by the borsh layer, then commonware's decoder with no trailing bytes),
//! checks the structural rules with commonware's own decoder (one signer,
//! one round, different proposals), and requires the bytes to be the
//! canonical encoding of what they decode to, so one pair of votes has one
//! encoding. It needs no keys: it is part of [`super::Evidence::check_well_formed`].
//!
//! **Verification** ([`ConsensusCommittee::verify`]) needs the chain's
//! committee: both votes must verify (commonware's
//! `verify_attestation`, vote and seed signature) under the consensus
//! namespace of the chain and the signer's partial public key. The
//! offender is the committee's validator at the signer's index; the offence's
//! [`Slot`] is the view's round, at [`Slot::CONSENSUS_HEIGHT`].

use borsh::{BorshDeserialize, BorshSerialize};
use commonware_codec::{Copying, Decode as _, Encode as _, MaxEncodeSize, Read};
use commonware_consensus::simplex::types::{
    Activity, Attributable as _, ConflictingFinalize, ConflictingNotarize, Finalize, Notarize,
    Nullify, NullifyFinalize,
};
use commonware_consensus::{Epochable as _, Viewable as _};
use commonware_cryptography::ed25519;
use commonware_parallel::Sequential;
use commonware_utils::N3f1;
use commonware_utils::TryCollect as _;
use commonware_utils::ordered::{Quorum as _, Set};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use serde::{Deserialize, Serialize};
use wallet::{ChainId, PublicKey};

use super::evidence::{EvidenceError, Slot, VoteSide};
use crate::beacon::PublicSharing;
use crate::encoding::BoundedBytes;
use crate::engine::{Digest, Scheme, namespace};
use crate::genesis::Genesis;

/// The most bytes of an [`Equivocation`]'s votes: two notarize (or
/// finalize) votes at their largest (a nullify is smaller).
pub const MAX_EQUIVOCATION_BYTES: usize =
    2 * <Notarize<Scheme, Digest> as MaxEncodeSize>::MAX_ENCODE_SIZE;

/// The BLAKE3 key-derivation context of the batch-verification randomness
/// (see [`ConsensusCommittee::verify`]).
const BATCH_RNG_CONTEXT: &str = "bitcraps v1 equivocation batch verification";

/// Which two votes conflict (the borsh tag is the variant's index).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Two notarize votes for different proposals in one view.
    Notarize,
    /// Two finalize votes for different proposals in one view.
    Finalize,
    /// A nullify and a finalize vote in one view.
    NullifyFinalize,
}

/// Two conflicting consensus votes of one participant, in commonware's
/// encoding of `kind`'s type (`ConflictingNotarize`, `ConflictingFinalize`
/// or `NullifyFinalize`: the two votes one after the other). Its form is
/// checked by [`super::Evidence::check_well_formed`] (bounded, canonical,
/// one signer and round, conflicting), its signatures by
/// [`ConsensusCommittee::verify`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equivocation {
    /// What conflicts.
    pub kind: ConflictKind,
    /// The two votes, one after the other: the commonware encoding of
    /// `kind`'s type.
    pub votes: BoundedBytes<MAX_EQUIVOCATION_BYTES>,
}

/// An [`Equivocation`] decoded: commonware's evidence types.
#[derive(Clone, Debug)]
pub(crate) enum Conflict {
    Notarize(ConflictingNotarize<Scheme, Digest>),
    Finalize(ConflictingFinalize<Scheme, Digest>),
    NullifyFinalize(NullifyFinalize<Scheme, Digest>),
}

impl Conflict {
    /// The signer's participant index.
    fn signer(&self) -> u32 {
        match self {
            Conflict::Notarize(c) => c.signer().get(),
            Conflict::Finalize(c) => c.signer().get(),
            Conflict::NullifyFinalize(c) => c.signer().get(),
        }
    }

    /// The consensus round: (epoch, view).
    fn round(&self) -> (u64, u64) {
        match self {
            Conflict::Notarize(c) => (c.epoch().get(), c.view().get()),
            Conflict::Finalize(c) => (c.epoch().get(), c.view().get()),
            Conflict::NullifyFinalize(c) => (c.epoch().get(), c.view().get()),
        }
    }
}

impl Equivocation {
    /// The evidence in a simplex report, if the report is evidence of
    /// equivocation (conflicting notarizes or finalizes, or a nullify and
    /// a finalize).
    pub fn from_activity(activity: &Activity<Scheme, Digest>) -> Option<Equivocation> {
        let (kind, bytes) = match activity {
            Activity::ConflictingNotarize(c) => (ConflictKind::Notarize, c.encode()),
            Activity::ConflictingFinalize(c) => (ConflictKind::Finalize, c.encode()),
            Activity::NullifyFinalize(c) => (ConflictKind::NullifyFinalize, c.encode()),
            _ => return None,
        };
        // Two votes never exceed the bound (they are at most
        // `MAX_ENCODE_SIZE` each); a report that did would be dropped.
        let votes = BoundedBytes::new(bytes.to_vec()).ok()?;
        Some(Equivocation { kind, votes })
    }

    /// Decodes the votes (see the [module documentation](self)): no
    /// trailing bytes, commonware's structural rules, canonical.
    pub(crate) fn decode(&self) -> Result<Conflict, EvidenceError> {
        let bytes = self.votes.as_bytes();
        let malformed = |reason: String| EvidenceError::MalformedVotes { reason };
        let conflict = match self.kind {
            ConflictKind::Notarize => {
                ConflictingNotarize::decode_cfg(Copying(bytes), &()).map(Conflict::Notarize)
            }
            ConflictKind::Finalize => {
                ConflictingFinalize::decode_cfg(Copying(bytes), &()).map(Conflict::Finalize)
            }
            ConflictKind::NullifyFinalize => {
                NullifyFinalize::decode_cfg(Copying(bytes), &()).map(Conflict::NullifyFinalize)
            }
        }
        .map_err(|e| malformed(e.to_string()))?;
        let canonical = match &conflict {
            Conflict::Notarize(c) => c.encode(),
            Conflict::Finalize(c) => c.encode(),
            Conflict::NullifyFinalize(c) => c.encode(),
        };
        if canonical.as_ref() != bytes {
            return Err(malformed("not canonically encoded".into()));
        }
        Ok(conflict)
    }

    /// The signer's participant index (in the committee's canonical order)
    /// and the offence's slot, from the votes alone (nothing verified).
    pub fn signer_and_slot(&self) -> Result<(u32, Slot), EvidenceError> {
        let conflict = self.decode()?;
        let (epoch, view) = conflict.round();
        Ok((
            conflict.signer(),
            Slot {
                epoch,
                height: Slot::CONSENSUS_HEIGHT,
                view,
            },
        ))
    }
}

/// Why a [`ConsensusCommittee`] cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommitteeError {
    /// A validator's key is not a valid ed25519 key for the engine.
    #[error("validator {index}'s consensus key is not a valid ed25519 key")]
    BadKey {
        /// The validator's position.
        index: usize,
    },
    /// The validators are not in the engine's canonical (ascending)
    /// order, or one is listed twice.
    #[error("the validators are not listed once each in ascending key order")]
    NotCanonical,
    /// The sharing does not fit the committee.
    #[error("the sharing has {shares} shares and needs {required} for {validators} validators")]
    SharingMismatch {
        /// Shares in the sharing.
        shares: u32,
        /// Shares it needs to recover.
        required: u32,
        /// Validators in the committee.
        validators: usize,
    },
}

/// What a verified piece of consensus evidence proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offence {
    /// The validator that signed both votes.
    pub offender: PublicKey,
    /// Where: the consensus epoch and view, at [`Slot::CONSENSUS_HEIGHT`].
    pub slot: Slot,
}

/// The engine's committee as the ledger sees it: the verifier of
/// consensus votes (namespace, participants, public polynomial) and the
/// validator behind each participant index.
#[derive(Clone, Debug)]
pub struct ConsensusCommittee {
    scheme: Scheme,
    validators: Vec<PublicKey>,
}

impl ConsensusCommittee {
    /// The committee of chain `chain_id`: `validators` in the engine's
    /// canonical order (ascending key), whose votes are shares of
    /// `sharing`.
    pub fn new(
        chain_id: &ChainId,
        validators: &[PublicKey],
        sharing: &PublicSharing,
    ) -> Result<ConsensusCommittee, CommitteeError> {
        let keys = validators
            .iter()
            .enumerate()
            .map(|(index, key)| {
                ed25519::PublicKey::decode_cfg(Copying(&key.as_bytes()[..]), &())
                    .map_err(|_| CommitteeError::BadKey { index })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let participants: Set<ed25519::PublicKey> = keys
            .iter()
            .cloned()
            .try_collect()
            .map_err(|_| CommitteeError::NotCanonical)?;
        // Participant `i` must be validator `i`: the offender is looked up
        // by index.
        if !participants.iter().eq(keys.iter()) {
            return Err(CommitteeError::NotCanonical);
        }
        let polynomial = sharing.sharing().clone();
        // `Scheme::verifier` panics on a mismatch: check first.
        if polynomial.total().get() as usize != validators.len()
            || polynomial.required() != participants.quorum::<N3f1>()
        {
            return Err(CommitteeError::SharingMismatch {
                shares: polynomial.total().get(),
                required: polynomial.required(),
                validators: validators.len(),
            });
        }
        Ok(ConsensusCommittee {
            scheme: Scheme::verifier(&namespace(chain_id), participants, polynomial),
            validators: validators.to_vec(),
        })
    }

    /// The committee of `genesis` (its validators and `beacon_sharing`),
    /// or `None` for a genesis without a sharing (a ledger run without an
    /// engine) or whose sharing does not fit (`Genesis::validate` refuses
    /// such a genesis).
    pub fn from_genesis(genesis: &Genesis) -> Option<ConsensusCommittee> {
        let sharing = genesis.beacon_sharing.as_ref()?;
        let validators: Vec<PublicKey> =
            genesis.validators.iter().map(|v| v.consensus_key).collect();
        ConsensusCommittee::new(&genesis.chain_id(), &validators, sharing).ok()
    }

    /// The validator at participant index `index`.
    pub fn validator(&self, index: u32) -> Option<&PublicKey> {
        self.validators.get(index as usize)
    }

    /// Verifies `evidence` completely: well formed, the signer is a
    /// participant, and both votes carry its valid signatures on this
    /// chain. Deterministic: commonware's verification batches each vote's
    /// two signatures with random weights, drawn here from a ChaCha20
    /// stream keyed by the votes themselves, so every node computes the
    /// same verdict. (Predictable weights would only let the signer hide
    /// a bad signature of its own; nobody can forge a combination of
    /// another participant's signatures.)
    pub fn verify(&self, evidence: &Equivocation) -> Result<Offence, EvidenceError> {
        let conflict = evidence.decode()?;
        let signer = conflict.signer();
        let offender = *self
            .validator(signer)
            .ok_or(EvidenceError::UnknownSigner { index: signer })?;
        let mut rng = ChaCha20Rng::from_seed(blake3::derive_key(
            BATCH_RNG_CONTEXT,
            evidence.votes.as_bytes(),
        ));
        let strategy = Sequential;
        let bytes = evidence.votes.as_bytes();
        // Commonware's evidence types do not hand out their votes: read
        // them again from the (already checked) encoding, one after the
        // other.
        let (first, second) = match &conflict {
            Conflict::Notarize(_) => {
                let (a, b) = two::<Notarize<Scheme, Digest>, Notarize<Scheme, Digest>>(bytes)?;
                (
                    a.verify(&mut rng, &self.scheme, &strategy),
                    b.verify(&mut rng, &self.scheme, &strategy),
                )
            }
            Conflict::Finalize(_) => {
                let (a, b) = two::<Finalize<Scheme, Digest>, Finalize<Scheme, Digest>>(bytes)?;
                (
                    a.verify(&mut rng, &self.scheme, &strategy),
                    b.verify(&mut rng, &self.scheme, &strategy),
                )
            }
            Conflict::NullifyFinalize(_) => {
                let (a, b) = two::<Nullify<Scheme>, Finalize<Scheme, Digest>>(bytes)?;
                (
                    a.verify::<_, Digest>(&mut rng, &self.scheme, &strategy),
                    b.verify(&mut rng, &self.scheme, &strategy),
                )
            }
        };
        if !first {
            return Err(EvidenceError::BadSignature {
                which: VoteSide::First,
            });
        }
        if !second {
            return Err(EvidenceError::BadSignature {
                which: VoteSide::Second,
            });
        }
        let (epoch, view) = conflict.round();
        Ok(Offence {
            offender,
            slot: Slot {
                epoch,
                height: Slot::CONSENSUS_HEIGHT,
                view,
            },
        })
    }
}

/// Reads an `A` then a `B` from `bytes`, which must hold exactly those.
fn two<A, B>(bytes: &[u8]) -> Result<(A, B), EvidenceError>
where
    A: Read<Cfg = ()>,
    B: Read<Cfg = ()>,
{
    let malformed = |reason: String| EvidenceError::MalformedVotes { reason };
    let mut buf = Copying(bytes);
    let a = A::read_cfg(&mut buf, &()).map_err(|e| malformed(e.to_string()))?;
    let b = B::read_cfg(&mut buf, &()).map_err(|e| malformed(e.to_string()))?;
    if !buf.0.is_empty() {
        return Err(malformed(format!("{} trailing bytes", buf.0.len())));
    }
    Ok((a, b))
}

/// Real conflicting votes of a dealer committee, for tests here and in the
/// ledger.
#[cfg(test)]
pub(crate) mod testing {
    use commonware_consensus::simplex::types::Proposal;
    use commonware_consensus::types::{Epoch, Round, View};

    use super::*;
    use crate::engine::Committee;

    /// Participant `index`'s signing scheme on chain `chain_id`.
    fn signer(committee: &Committee, chain_id: &ChainId, index: usize) -> Scheme {
        Scheme::signer(
            &namespace(chain_id),
            committee.participants.clone(),
            committee.sharing.clone(),
            committee.validators[index].share.clone(),
        )
        .expect("the share belongs to the committee")
    }

    fn proposal(view: u64, payload: u8) -> Proposal<Digest> {
        Proposal::new(
            Round::new(Epoch::zero(), View::new(view)),
            View::new(view.saturating_sub(1)),
            commonware_cryptography::blake3::Digest([payload; 32]),
        )
    }

    /// Participant `index`'s votes of `kind` in `view` on `chain_id`.
    pub(crate) fn equivocation(
        committee: &Committee,
        chain_id: &ChainId,
        index: usize,
        kind: ConflictKind,
        view: u64,
    ) -> Equivocation {
        let scheme = signer(committee, chain_id, index);
        let activity = match kind {
            ConflictKind::Notarize => Activity::ConflictingNotarize(ConflictingNotarize::new(
                Notarize::sign(&scheme, proposal(view, 1)).unwrap(),
                Notarize::sign(&scheme, proposal(view, 2)).unwrap(),
            )),
            ConflictKind::Finalize => Activity::ConflictingFinalize(ConflictingFinalize::new(
                Finalize::sign(&scheme, proposal(view, 1)).unwrap(),
                Finalize::sign(&scheme, proposal(view, 2)).unwrap(),
            )),
            ConflictKind::NullifyFinalize => Activity::NullifyFinalize(NullifyFinalize::new(
                Nullify::sign::<Digest>(&scheme, proposal(view, 1).round).unwrap(),
                Finalize::sign(&scheme, proposal(view, 1)).unwrap(),
            )),
        };
        Equivocation::from_activity(&activity).expect("evidence")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::testing::equivocation;
    use super::*;
    use crate::engine::{Committee, dealer_committee};
    use crate::tx::Evidence;

    const CHAIN: ChainId = ChainId::new([7; 32]);
    const KINDS: [ConflictKind; 3] = [
        ConflictKind::Notarize,
        ConflictKind::Finalize,
        ConflictKind::NullifyFinalize,
    ];

    fn committee() -> Committee {
        dealer_committee(4, &[3; 32]).unwrap()
    }

    fn verifier(committee: &Committee, chain_id: &ChainId) -> ConsensusCommittee {
        let validators: Vec<PublicKey> = committee
            .validators
            .iter()
            .map(|v| v.keypair().public_key())
            .collect();
        ConsensusCommittee::new(chain_id, &validators, &committee.beacon_sharing().unwrap())
            .unwrap()
    }

    #[test]
    fn every_kind_of_conflict_verifies_and_names_its_signer() {
        let committee = committee();
        let verifier = verifier(&committee, &CHAIN);
        for kind in KINDS {
            for index in [0usize, 3] {
                let evidence = equivocation(&committee, &CHAIN, index, kind, 9);
                assert!(evidence.votes.len() <= MAX_EQUIVOCATION_BYTES);
                let offence = verifier.verify(&evidence).unwrap();
                assert_eq!(
                    offence,
                    Offence {
                        offender: committee.validators[index].keypair().public_key(),
                        slot: Slot {
                            epoch: 0,
                            height: Slot::CONSENSUS_HEIGHT,
                            view: 9
                        },
                    }
                );
                let wrapped = Evidence::Equivocation(evidence.clone());
                assert_eq!(wrapped.check_well_formed(), Ok(()));
                assert_eq!(wrapped.verify(&CHAIN), Ok(()));
                assert_eq!(wrapped.slot(), Ok(offence.slot));
                assert_eq!(wrapped.offender(), None);
            }
        }
    }

    #[test]
    fn votes_of_another_chain_or_committee_are_refused() {
        let committee = committee();
        let evidence = equivocation(
            &committee,
            &ChainId::new([8; 32]),
            1,
            ConflictKind::Notarize,
            3,
        );
        assert_eq!(
            verifier(&committee, &CHAIN).verify(&evidence),
            Err(EvidenceError::BadSignature {
                which: VoteSide::First
            })
        );
        let other = dealer_committee(4, &[4; 32]).unwrap();
        let evidence = equivocation(&other, &CHAIN, 1, ConflictKind::Finalize, 3);
        assert!(matches!(
            verifier(&committee, &CHAIN).verify(&evidence),
            Err(EvidenceError::BadSignature { .. })
        ));
    }

    #[test]
    fn the_kind_must_match_the_votes() {
        let committee = committee();
        let mut evidence = equivocation(&committee, &CHAIN, 2, ConflictKind::Notarize, 3);
        evidence.kind = ConflictKind::NullifyFinalize;
        assert!(matches!(
            evidence.decode(),
            Err(EvidenceError::MalformedVotes { .. })
        ));
        // Notarize and finalize votes have the same layout: read as the
        // other kind they decode, but the signatures are over another
        // message.
        evidence.kind = ConflictKind::Finalize;
        assert_eq!(evidence.decode().map(|_| ()), Ok(()));
        assert_eq!(
            verifier(&committee, &CHAIN).verify(&evidence),
            Err(EvidenceError::BadSignature {
                which: VoteSide::First
            })
        );
    }

    #[test]
    fn a_signer_outside_the_committee_is_refused() {
        // Votes of a 7-member committee's participant 5, shown to a
        // committee of 4.
        let big = dealer_committee(7, &[3; 32]).unwrap();
        let evidence = equivocation(&big, &CHAIN, 5, ConflictKind::Notarize, 3);
        assert_eq!(
            verifier(&committee(), &CHAIN).verify(&evidence),
            Err(EvidenceError::UnknownSigner { index: 5 })
        );
    }

    #[test]
    fn one_vote_twice_or_trailing_bytes_are_malformed() {
        let committee = committee();
        let evidence = equivocation(&committee, &CHAIN, 0, ConflictKind::Notarize, 3);
        let bytes = evidence.votes.as_bytes();
        let half = bytes.len() / 2;
        let twice = [&bytes[..half], &bytes[..half]].concat();
        let mut trailing = bytes.to_vec();
        trailing.push(0);
        for votes in [twice, trailing, bytes[..half].to_vec(), Vec::new()] {
            let bad = Equivocation {
                kind: ConflictKind::Notarize,
                votes: BoundedBytes::new(votes).unwrap(),
            };
            assert!(matches!(
                bad.decode(),
                Err(EvidenceError::MalformedVotes { .. })
            ));
            assert!(Evidence::Equivocation(bad).check_well_formed().is_err());
        }
    }

    #[test]
    fn a_committee_must_be_in_canonical_order_and_fit_the_sharing() {
        let committee = committee();
        let sharing = committee.beacon_sharing().unwrap();
        let mut keys: Vec<PublicKey> = committee
            .validators
            .iter()
            .map(|v| v.keypair().public_key())
            .collect();
        keys.swap(0, 1);
        assert_eq!(
            ConsensusCommittee::new(&CHAIN, &keys, &sharing).err(),
            Some(CommitteeError::NotCanonical)
        );
        keys.swap(0, 1);
        assert!(matches!(
            ConsensusCommittee::new(&CHAIN, &keys[..3], &sharing),
            Err(CommitteeError::SharingMismatch { .. })
        ));
    }

    /// Pins the encoding of engine evidence in a transaction: our tags and
    /// length prefix, then commonware's encoding of the votes (a dealer
    /// committee and BLS signatures are deterministic). If this fails, the
    /// encoding changed (e.g. with a commonware upgrade) and every node must
    /// change with it.
    #[test]
    fn golden_equivocation_encoding() {
        let evidence = equivocation(&committee(), &CHAIN, 2, ConflictKind::Notarize, 9);
        let encoded = crate::encoding::encode(&Evidence::Equivocation(evidence.clone()));
        // Evidence tag 1, kind tag 0, u32 length, the votes.
        assert_eq!(encoded[..2], [1, 0]);
        assert_eq!(encoded[2..6], (evidence.votes.len() as u32).to_le_bytes());
        assert_eq!(&encoded[6..], evidence.votes.as_bytes());
        // Two notarizes of 2 + 1 + 32 + 1 + 96 bytes (round: epoch and
        // view varints; parent view; digest; signer; vote and seed
        // signatures).
        assert_eq!(evidence.votes.len(), 2 * 132);
        assert_eq!(
            blake3::hash(&encoded).to_hex().as_str(),
            GOLDEN_EQUIVOCATION_HASH
        );
    }

    const GOLDEN_EQUIVOCATION_HASH: &str =
        "cc7c2fea45054c1d8664b6e71608432a3dde0d5fa11b9abf83150b7131ea8d9b";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Arbitrary bytes as votes never panic, and are never proof.
        #[test]
        fn arbitrary_votes_never_verify(
            kind in 0usize..3,
            votes in prop::collection::vec(any::<u8>(), 0..=MAX_EQUIVOCATION_BYTES),
        ) {
            let evidence = Equivocation {
                kind: KINDS[kind],
                votes: BoundedBytes::new(votes).unwrap(),
            };
            let _ = evidence.decode();
            prop_assert!(verifier(&committee(), &CHAIN).verify(&evidence).is_err());
        }

        /// Any change to real evidence is refused by the decoder or the
        /// signatures, never panics, and never names another offence.
        #[test]
        fn tampered_evidence_is_refused(
            kind in 0usize..3,
            mutations in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        ) {
            let committee = committee();
            let evidence = equivocation(&committee, &CHAIN, 1, KINDS[kind], 6);
            let mut bytes = evidence.votes.to_vec();
            for (index, xor) in &mutations {
                let at = index.index(bytes.len());
                bytes[at] ^= xor;
            }
            prop_assume!(bytes != evidence.votes.as_bytes());
            let tampered = Equivocation {
                kind: evidence.kind,
                votes: BoundedBytes::new(bytes).unwrap(),
            };
            if let Ok(conflict) = tampered.decode() {
                // What decodes is canonical: one encoding per value.
                let encoded = match conflict {
                    Conflict::Notarize(c) => c.encode(),
                    Conflict::Finalize(c) => c.encode(),
                    Conflict::NullifyFinalize(c) => c.encode(),
                };
                prop_assert_eq!(encoded.as_ref(), tampered.votes.as_bytes());
            }
            prop_assert!(verifier(&committee, &CHAIN).verify(&tampered).is_err());
        }
    }
}
