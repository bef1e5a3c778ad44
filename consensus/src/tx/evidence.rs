//! Consensus votes and proof of equivocation.
//!
//! Two kinds of proof: [`Evidence::DoubleVote`], about ed25519-signed
//! [`Vote`]s (below), and [`Evidence::Equivocation`], two conflicting votes
//! of the BFT engine itself — threshold BLS partial signatures, as simplex
//! reports them (see [`Equivocation`]). The second is what the
//! engine produces; its signatures need the chain's committee to verify,
//! so [`Evidence::verify`] only checks its form and the ledger verifies the
//! rest ([`ConsensusCommittee::verify`]).
//!
//! A validator's vote is a [`Vote`] — `(epoch, height, view, block)` — signed
//! with its ed25519 consensus key over
//! `wallet::signing_bytes(SignDomain::ConsensusVote, chain_id, borsh(vote))`.
//! The BFT binding must sign exactly these bytes for its votes, so that any
//! two conflicting votes it ever gossips are evidence here.
//!
//! Two votes by one validator for the same *slot* — the same epoch, height
//! and view — naming different blocks are a double vote, which
//! [`Evidence::DoubleVote`] carries and [`Evidence::verify`] checks. (A vote
//! for "no block", if the engine has one, is a vote for [`Hash::ZERO`] and
//! conflicts with a vote for a block in the same slot.)

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use wallet::{ChainId, Keypair, PublicKey, SignDomain, Signature, VerifyError};

#[cfg(doc)]
use super::equivocation::ConsensusCommittee;
use super::equivocation::Equivocation;
use crate::encoding::encode;
use crate::hash::{BlockHash, Hash};

/// A consensus vote: which block a validator votes for in a slot.
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
#[serde(deny_unknown_fields)]
pub struct Vote {
    /// The validator-set epoch.
    pub epoch: u64,
    /// The block height voted on.
    pub height: u64,
    /// The view (round) within the height.
    pub view: u64,
    /// The block voted for ([`Hash::ZERO`] for none).
    pub block: BlockHash,
}

impl Vote {
    /// The slot this vote is for.
    pub const fn slot(&self) -> Slot {
        Slot {
            epoch: self.epoch,
            height: self.height,
            view: self.view,
        }
    }

    /// The message signed: the vote's borsh encoding (the wallet adds the
    /// domain and chain id).
    pub fn message(&self) -> Vec<u8> {
        encode(self)
    }

    /// Signs the vote for chain `chain_id`.
    pub fn sign(self, chain_id: &ChainId, keypair: &Keypair) -> SignedVote {
        let signature = keypair.sign(SignDomain::ConsensusVote, chain_id, &self.message());
        SignedVote {
            vote: self,
            signature,
        }
    }
}

/// Where a vote is cast: one vote per validator per slot. The engine's
/// votes name a consensus epoch and view but no height: their slots are at
/// [`Slot::CONSENSUS_HEIGHT`].
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
pub struct Slot {
    /// The epoch.
    pub epoch: u64,
    /// The height.
    pub height: u64,
    /// The view.
    pub view: u64,
}

impl Slot {
    /// The height of every slot of an [`Evidence::Equivocation`]: a
    /// consensus vote names a view, not a height, and a height no chain
    /// reaches keeps its offences apart from any [`Evidence::DoubleVote`]'s.
    pub const CONSENSUS_HEIGHT: u64 = u64::MAX;

    /// Whether this is the slot of an engine vote (see
    /// [`Slot::CONSENSUS_HEIGHT`]).
    pub const fn is_consensus(&self) -> bool {
        self.height == Slot::CONSENSUS_HEIGHT
    }
}

/// A vote and its signature.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// The validator's ed25519 signature under
    /// [`SignDomain::ConsensusVote`].
    pub signature: Signature,
}

impl SignedVote {
    /// Verifies the signature as `validator`'s on chain `chain_id`
    /// (the consensus rule, `wallet::PublicKey::verify`).
    pub fn verify(&self, validator: &PublicKey, chain_id: &ChainId) -> Result<(), VerifyError> {
        validator.verify(
            SignDomain::ConsensusVote,
            chain_id,
            &self.vote.message(),
            &self.signature,
        )
    }
}

/// Which of the two votes of a piece of evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteSide {
    /// The first vote.
    First,
    /// The second vote.
    Second,
}

/// Why evidence was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The two votes are for different slots, so they do not conflict.
    #[error(
        "the votes are for different slots ({first:?} and {second:?}), so they do not conflict"
    )]
    DifferentSlots {
        /// The first vote's slot.
        first: Slot,
        /// The second vote's slot.
        second: Slot,
    },
    /// Both votes name the same block: that is one vote, not two.
    #[error("both votes are for block {block}: the same vote twice is not equivocation")]
    SameBlock {
        /// The block.
        block: Hash,
    },
    /// A vote's signature is not the accused validator's on this chain.
    #[error("the {which:?} vote is not signed by the accused validator on this chain")]
    BadSignature {
        /// Which vote.
        which: VoteSide,
    },
    /// The engine votes of an [`Evidence::Equivocation`] do not decode to
    /// two conflicting votes of one signer in one round, canonically
    /// encoded.
    #[error("the consensus votes are malformed: {reason}")]
    MalformedVotes {
        /// What is wrong.
        reason: String,
    },
    /// The votes' signer index is not a member of the committee.
    #[error("the votes are signed by participant {index}, who is not in the committee")]
    UnknownSigner {
        /// The signer's index.
        index: u32,
    },
}

/// Proof that a validator misbehaved.
// A double vote is stored inline (a few hundred bytes) next to the small
// `Equivocation` (a heap vector): evidence is rare and short-lived, and
// boxing would change the shape of the `DoubleVote` variant for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// Two signed votes by `validator` for the same slot and different
    /// blocks (tag 0).
    DoubleVote {
        /// The accused validator's consensus key.
        validator: PublicKey,
        /// One vote.
        first: SignedVote,
        /// A conflicting vote.
        second: SignedVote,
    },
    /// Two conflicting votes of the BFT engine by one participant (tag 1).
    Equivocation(Equivocation),
}

impl Evidence {
    /// The accused validator, if the evidence names it: an
    /// [`Evidence::Equivocation`] names a participant index, which only the
    /// chain's committee maps to a validator ([`ConsensusCommittee::verify`]).
    pub const fn offender(&self) -> Option<&PublicKey> {
        match self {
            Evidence::DoubleVote { validator, .. } => Some(validator),
            Evidence::Equivocation(_) => None,
        }
    }

    /// The slot of the offence. The ledger slashes a validator at most once
    /// per `(offender, slot)`, whichever pair of votes or order is shown.
    /// Fails only for engine votes that do not decode.
    pub fn slot(&self) -> Result<Slot, EvidenceError> {
        match self {
            Evidence::DoubleVote { first, .. } => Ok(first.vote.slot()),
            Evidence::Equivocation(equivocation) => {
                equivocation.signer_and_slot().map(|(_, slot)| slot)
            }
        }
    }

    /// The checks that need no signature: the votes are for one slot and
    /// different blocks (for engine votes: they decode, canonically, to two
    /// conflicting votes of one signer in one round).
    pub fn check_well_formed(&self) -> Result<(), EvidenceError> {
        match self {
            Evidence::DoubleVote { first, second, .. } => {
                if first.vote.slot() != second.vote.slot() {
                    return Err(EvidenceError::DifferentSlots {
                        first: first.vote.slot(),
                        second: second.vote.slot(),
                    });
                }
                if first.vote.block == second.vote.block {
                    return Err(EvidenceError::SameBlock {
                        block: first.vote.block,
                    });
                }
                Ok(())
            }
            Evidence::Equivocation(equivocation) => equivocation.decode().map(|_| ()),
        }
    }

    /// Verifies what needs no ledger state for chain `chain_id`: well
    /// formed ([`Evidence::check_well_formed`]) and, for a double vote, both
    /// votes validly signed by the accused validator. The signatures of an
    /// [`Evidence::Equivocation`] are threshold partial signatures that only
    /// the chain's committee verifies: the ledger does
    /// ([`ConsensusCommittee::verify`]). Whether the validator was in the
    /// set for that epoch, and whether the offence is still punishable, is
    /// for the ledger.
    pub fn verify(&self, chain_id: &ChainId) -> Result<(), EvidenceError> {
        self.check_well_formed()?;
        match self {
            Evidence::Equivocation(_) => Ok(()),
            Evidence::DoubleVote {
                validator,
                first,
                second,
            } => {
                first
                    .verify(validator, chain_id)
                    .map_err(|_| EvidenceError::BadSignature {
                        which: VoteSide::First,
                    })?;
                second
                    .verify(validator, chain_id)
                    .map_err(|_| EvidenceError::BadSignature {
                        which: VoteSide::Second,
                    })?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{HashDomain, hash};
    use proptest::prelude::*;

    const CHAIN: ChainId = ChainId::new([3; 32]);

    fn keypair(seed: u8) -> Keypair {
        Keypair::from_secret_bytes(&[seed; 32])
    }

    fn vote(view: u64, block: &[u8]) -> Vote {
        Vote {
            epoch: 2,
            height: 40,
            view,
            block: hash(HashDomain::BlockHeader, block),
        }
    }

    fn double_vote(k: &Keypair) -> Evidence {
        Evidence::DoubleVote {
            validator: k.public_key(),
            first: vote(1, b"a").sign(&CHAIN, k),
            second: vote(1, b"b").sign(&CHAIN, k),
        }
    }

    #[test]
    fn a_real_double_vote_is_accepted() {
        let k = keypair(1);
        let evidence = double_vote(&k);
        assert_eq!(evidence.verify(&CHAIN), Ok(()));
        assert_eq!(evidence.offender(), Some(&k.public_key()));
        assert_eq!(
            evidence.slot(),
            Ok(Slot {
                epoch: 2,
                height: 40,
                view: 1
            })
        );
    }

    #[test]
    fn the_same_block_twice_is_refused() {
        let k = keypair(1);
        let v = vote(1, b"a").sign(&CHAIN, &k);
        let evidence = Evidence::DoubleVote {
            validator: k.public_key(),
            first: v.clone(),
            second: v,
        };
        assert!(matches!(
            evidence.verify(&CHAIN),
            Err(EvidenceError::SameBlock { .. })
        ));
    }

    #[test]
    fn different_slots_are_refused() {
        let k = keypair(1);
        for (a, b) in [
            (vote(1, b"a"), vote(2, b"b")),
            (
                vote(1, b"a"),
                Vote {
                    epoch: 3,
                    ..vote(1, b"b")
                },
            ),
            (
                vote(1, b"a"),
                Vote {
                    height: 41,
                    ..vote(1, b"b")
                },
            ),
        ] {
            let evidence = Evidence::DoubleVote {
                validator: k.public_key(),
                first: a.sign(&CHAIN, &k),
                second: b.sign(&CHAIN, &k),
            };
            assert!(matches!(
                evidence.verify(&CHAIN),
                Err(EvidenceError::DifferentSlots { .. })
            ));
        }
    }

    #[test]
    fn votes_by_different_validators_are_refused() {
        let (k1, k2) = (keypair(1), keypair(2));
        let evidence = Evidence::DoubleVote {
            validator: k1.public_key(),
            first: vote(1, b"a").sign(&CHAIN, &k1),
            second: vote(1, b"b").sign(&CHAIN, &k2),
        };
        assert_eq!(
            evidence.verify(&CHAIN),
            Err(EvidenceError::BadSignature {
                which: VoteSide::Second
            })
        );
        let evidence = Evidence::DoubleVote {
            validator: k2.public_key(),
            first: vote(1, b"a").sign(&CHAIN, &k1),
            second: vote(1, b"b").sign(&CHAIN, &k2),
        };
        assert_eq!(
            evidence.verify(&CHAIN),
            Err(EvidenceError::BadSignature {
                which: VoteSide::First
            })
        );
    }

    #[test]
    fn bad_signatures_and_other_chains_are_refused() {
        let k = keypair(1);
        let Evidence::DoubleVote {
            validator,
            first,
            mut second,
        } = double_vote(&k)
        else {
            unreachable!("a double vote")
        };
        let mut bytes = second.signature.to_bytes();
        bytes[10] ^= 1;
        second.signature = Signature::from_bytes(bytes);
        let evidence = Evidence::DoubleVote {
            validator,
            first,
            second,
        };
        assert_eq!(
            evidence.verify(&CHAIN),
            Err(EvidenceError::BadSignature {
                which: VoteSide::Second
            })
        );
        // Votes signed for one chain are no evidence on another.
        assert_eq!(
            double_vote(&k).verify(&ChainId::new([4; 32])),
            Err(EvidenceError::BadSignature {
                which: VoteSide::First
            })
        );
    }

    #[test]
    fn a_vote_signature_is_not_valid_as_another_domain() {
        let k = keypair(1);
        let signed = vote(0, b"a").sign(&CHAIN, &k);
        assert!(
            k.public_key()
                .verify(
                    SignDomain::Transaction,
                    &CHAIN,
                    &signed.vote.message(),
                    &signed.signature
                )
                .is_err()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn any_conflicting_pair_verifies_and_any_tampering_is_refused(
            secret in any::<[u8; 32]>(),
            epoch in any::<u64>(),
            height in any::<u64>(),
            view in any::<u64>(),
            a in any::<[u8; 32]>(),
            b in any::<[u8; 32]>(),
            tamper in 0usize..4,
        ) {
            prop_assume!(a != b);
            let k = Keypair::from_secret_bytes(&secret);
            let base = Vote { epoch, height, view, block: Hash::new(a) };
            let other = Vote { block: Hash::new(b), ..base };
            let evidence = Evidence::DoubleVote {
                validator: k.public_key(),
                first: base.sign(&CHAIN, &k),
                second: other.sign(&CHAIN, &k),
            };
            prop_assert_eq!(evidence.verify(&CHAIN), Ok(()));
            // Change one signed field after signing: the signature no longer fits.
            let Evidence::DoubleVote { validator, first, mut second } = evidence else {
                unreachable!("a double vote")
            };
            match tamper {
                0 => second.vote.block = Hash::new([b[0] ^ 1; 32]),
                1 => second.vote.view = second.vote.view.wrapping_add(1),
                2 => second.vote.height = second.vote.height.wrapping_add(1),
                _ => second.vote.epoch = second.vote.epoch.wrapping_add(1),
            }
            let tampered = Evidence::DoubleVote { validator, first, second };
            prop_assert!(tampered.verify(&CHAIN).is_err());
        }
    }
}
