//! Tests of the beacon with real BLS12-381: no mocks.

use std::collections::BTreeSet;

use commonware_codec::{Copying, DecodeExt, EncodeFixed};
use commonware_cryptography::Signer as _;
use commonware_cryptography::bls12381::primitives::group::G1;
use commonware_cryptography::bls12381::primitives::ops::{self, threshold};
use commonware_cryptography::bls12381::primitives::variant::PartialSignature;
use commonware_parallel::Sequential;
use commonware_utils::{Faults as _, N3f1, Participant};
use game_rules::randomness::{Purpose, Randomness};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use wallet::{ChainId, Keypair};

use super::dkg::{self, DkgOutput, PrivateKey};
use super::*;
use crate::hash::Hash;

const CHAIN: ChainId = ChainId::new([0x11; 32]);
const OTHER_CHAIN: ChainId = ChainId::new([0x12; 32]);

fn message(epoch: u64, height: u64) -> BeaconMessage {
    BeaconMessage {
        chain_id: CHAIN,
        epoch,
        height,
        block: block(height, 0),
    }
}

fn block(height: u64, fork: u8) -> Hash {
    let mut bytes = [fork; 32];
    bytes[..8].copy_from_slice(&height.to_le_bytes());
    Hash::new(bytes)
}

fn keypair(i: u32) -> Keypair {
    let mut secret = [0x5a; 32];
    secret[..4].copy_from_slice(&i.to_le_bytes());
    Keypair::from_secret_bytes(&secret)
}

/// A dealt committee: signers, their ed25519 keys, and an aggregator.
struct Committee {
    epoch: u64,
    sharing: PublicSharing,
    signers: Vec<BeaconSigner>,
    keys: Vec<Keypair>,
}

impl Committee {
    fn dealt(n: u32, seed: u8, epoch: u64) -> Committee {
        let DealerKeys { sharing, shares } = dealer_keys(n, &[seed; 32]).unwrap();
        let signers = shares
            .into_iter()
            .map(|share| BeaconSigner::new(epoch, share, &sharing).unwrap())
            .collect();
        Committee {
            epoch,
            sharing,
            signers,
            keys: (0..n).map(keypair).collect(),
        }
    }

    fn n(&self) -> usize {
        self.signers.len()
    }

    fn t(&self) -> usize {
        self.sharing.threshold() as usize
    }

    fn aggregator(&self) -> BeaconAggregator {
        BeaconAggregator::new(
            CHAIN,
            self.epoch,
            self.sharing.clone(),
            self.keys.iter().map(Keypair::public_key).collect(),
        )
        .unwrap()
    }

    fn share(&self, i: usize, message: &BeaconMessage) -> SignedBeaconShare {
        self.signers[i].sign_sealed(message, &self.keys[i]).unwrap()
    }

    fn partial(&self, i: usize, message: &BeaconMessage) -> PartialSignature<V> {
        let share = self.signers[i].sign(message).unwrap();
        PartialSignature {
            index: Participant::new(share.index),
            value: G1::decode(Copying(&share.partial[..])).unwrap(),
        }
    }

    /// σ from the partials of `who`, by direct interpolation (no checks).
    fn recover(&self, who: &[usize], message: &BeaconMessage) -> Result<[u8; 48], String> {
        let partials: Vec<_> = who.iter().map(|&i| self.partial(i, message)).collect();
        recover_from(&self.sharing, &partials)
    }
}

fn recover_from(
    sharing: &PublicSharing,
    partials: &[PartialSignature<V>],
) -> Result<[u8; 48], String> {
    threshold::recover::<V, _>(sharing.sharing(), partials, &Sequential)
        .map(|sigma| sigma.encode_fixed())
        .map_err(|e| e.to_string())
}

/// σ through an aggregator fed the shares of `who`, in order.
fn aggregate(committee: &Committee, who: &[usize], message: &BeaconMessage) -> [u8; 48] {
    let mut aggregator = committee.aggregator();
    let mut result = None;
    for &i in who {
        if let Some(recovered) = aggregator.add(committee.share(i, message)).unwrap() {
            assert!(result.is_none(), "σ is returned once");
            result = Some(recovered);
        }
    }
    let recovered = result.expect("t shares recover σ");
    assert_eq!(recovered.message, *message);
    recovered.signature
}

fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    (0u32..1 << n)
        .filter(|mask| mask.count_ones() as usize == k)
        .map(|mask| (0..n).filter(|i| mask & (1 << i) != 0).collect())
        .collect()
}

fn shuffled(rng: &mut ChaCha20Rng, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

#[test]
fn quorum_is_commonware_n3f1_and_above_two_thirds() {
    for n in 1..=MAX_PARTICIPANTS {
        assert_eq!(quorum(n), N3f1::quorum(n), "n={n}");
        assert_eq!(max_faults(n), N3f1::max_faults(n), "n={n}");
        assert!(3 * quorum(n) > 2 * n, "n={n}");
        assert!(quorum(n) <= n);
    }
    assert_eq!((quorum(4), quorum(7), quorum(10)), (3, 5, 7));
    assert_eq!(quorum(0), 0);
}

/// What bounds a resharing round (README): a dealer's signed log travels in
/// one transaction, at most [`crate::tx::MAX_DEALER_LOG_BYTES`], and its
/// worst case grows by 193 bytes a player (a 96-byte commitment
/// coefficient, the player's 32-byte key, a tag and a 64-byte
/// acknowledgement). The transaction bound is sized so that every set the
/// genesis allows ([`MAX_PARTICIPANTS`] validators) can be reshared; with
/// the old 2 KiB bound rounds stopped at 8 players.
#[test]
fn dealer_logs_of_every_legal_round_fit_a_transaction() {
    let size = |n: u32| dkg::SignedLog::max_encode_size(std::num::NonZeroU32::new(n).unwrap());
    for n in [1, 4, 7, 8, 9, 16, 64, 128, MAX_PARTICIPANTS] {
        eprintln!(
            "{n} players: a signed dealer log of at most {} bytes",
            size(n)
        );
    }
    assert_eq!(size(9) - size(8), 193);
    assert_eq!(size(MAX_PARTICIPANTS) - size(MAX_PARTICIPANTS - 1), 193);
    assert!(size(MAX_PARTICIPANTS) <= crate::tx::MAX_DEALER_LOG_BYTES);
    assert_eq!(dkg::max_reshare_players(), MAX_PARTICIPANTS);
}

#[test]
fn message_encoding_is_the_documented_80_bytes() {
    let m = BeaconMessage {
        chain_id: CHAIN,
        epoch: 0x0102,
        height: 0x0304,
        block: Hash::new([0x22; 32]),
    };
    let mut expected = vec![0x11; 32];
    expected.extend_from_slice(&0x0102u64.to_le_bytes());
    expected.extend_from_slice(&0x0304u64.to_le_bytes());
    expected.extend_from_slice(&[0x22; 32]);
    assert_eq!(m.encode(), expected);
    assert_eq!(m.encode().len(), BeaconMessage::ENCODED_LENGTH);
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<BeaconMessage>(&json).unwrap(), m);
    // The BLS input is varint(18) ‖ namespace ‖ message.
    assert_eq!(BEACON_NAMESPACE.len(), 18);
    let mut bls_input = vec![18u8];
    bls_input.extend_from_slice(BEACON_NAMESPACE);
    bls_input.extend_from_slice(&expected);
    assert_eq!(
        commonware_utils::union_unique(BEACON_NAMESPACE, &expected),
        bls_input
    );
}

#[test]
fn any_t_of_4_give_the_same_sigma() {
    let committee = Committee::dealt(4, 1, 0);
    let m = message(0, 10);
    assert_eq!(committee.t(), 3);
    let reference = committee.recover(&[0, 1, 2], &m).unwrap();
    verify_beacon(committee.sharing.group_key(), &m, &reference).unwrap();
    for k in committee.t()..=committee.n() {
        for who in subsets(committee.n(), k) {
            assert_eq!(committee.recover(&who, &m).unwrap(), reference, "{who:?}");
            assert_eq!(aggregate(&committee, &who, &m), reference, "{who:?}");
        }
    }
    // Reverse order through the aggregator too.
    assert_eq!(aggregate(&committee, &[3, 2, 1, 0], &m), reference);
}

#[test]
fn random_subsets_of_7_give_the_same_sigma() {
    let committee = Committee::dealt(7, 2, 5);
    assert_eq!(committee.t(), 5);
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for height in 1..=4 {
        let m = message(5, height);
        let reference = committee.recover(&[0, 1, 2, 3, 4], &m).unwrap();
        verify_beacon(committee.sharing.group_key(), &m, &reference).unwrap();
        for round in 0..6 {
            let order = shuffled(&mut rng, 7);
            let k = committee.t() + round % 3;
            let who = &order[..k];
            assert_eq!(committee.recover(who, &m).unwrap(), reference, "{who:?}");
            assert_eq!(aggregate(&committee, who, &m), reference, "{who:?}");
        }
    }
}

#[test]
fn fewer_than_t_shares_give_no_sigma_that_verifies() {
    let committee = Committee::dealt(7, 3, 0);
    let m = message(0, 9);
    let t = committee.t();
    let key = committee.sharing.group_key();
    for who in subsets(7, t - 1) {
        // Not enough to interpolate at all.
        assert!(committee.recover(&who, &m).is_err());
        // Padded with a forged partial (a valid partial of another message,
        // under the missing index), it interpolates to a σ that fails.
        let missing = (0..7).find(|i| !who.contains(i)).unwrap();
        let mut partials: Vec<_> = who.iter().map(|&i| committee.partial(i, &m)).collect();
        partials.push(committee.partial(missing, &message(0, 10)));
        let forged = recover_from(&committee.sharing, &partials).unwrap();
        assert!(matches!(
            verify_beacon(key, &m, &forged),
            Err(BeaconError::InvalidSignature { .. })
        ));
    }
    // The aggregator holds t − 1 valid shares and returns nothing.
    let mut aggregator = committee.aggregator();
    for i in 0..t - 1 {
        assert_eq!(aggregator.add(committee.share(i, &m)), Ok(None));
    }
    assert_eq!(aggregator.valid_shares(9, &m.block), t - 1);
    assert!(aggregator.recovered(9).is_none());
}

#[test]
fn sigma_verifies_with_the_group_key_alone_and_for_nothing_else() {
    let committee = Committee::dealt(4, 4, 2);
    let m = message(2, 77);
    let sigma = committee.recover(&[1, 2, 3], &m).unwrap();
    // Only the group key's bytes are needed.
    let key = GroupKey::from_bytes(&committee.sharing.group_key().to_bytes()).unwrap();
    verify_beacon(&key, &m, &sigma).unwrap();
    let wrong = [
        BeaconMessage {
            chain_id: OTHER_CHAIN,
            ..m
        },
        BeaconMessage { epoch: 3, ..m },
        BeaconMessage { height: 78, ..m },
        BeaconMessage {
            block: block(77, 1),
            ..m
        },
    ];
    for other in wrong {
        assert_eq!(
            verify_beacon(&key, &other, &sigma),
            Err(BeaconError::InvalidSignature {
                epoch: other.epoch,
                height: other.height
            })
        );
    }
    let other_key = *Committee::dealt(4, 5, 2).sharing.group_key();
    assert!(verify_beacon(&other_key, &m, &sigma).is_err());
    // Every single-bit change of σ is refused: there is one accepted
    // encoding.
    for bit in 0..48 * 8 {
        let mut bad = sigma;
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(verify_beacon(&key, &m, &bad).is_err(), "bit {bit}");
    }
    // Wrong lengths, the identity, a partial instead of σ.
    assert!(matches!(
        verify_beacon(&key, &m, &sigma[..47]),
        Err(BeaconError::Malformed { .. })
    ));
    let mut longer = sigma.to_vec();
    longer.push(0);
    assert!(verify_beacon(&key, &m, &longer).is_err());
    assert!(verify_beacon(&key, &m, &[]).is_err());
    let mut identity = [0u8; 48];
    identity[0] = 0xc0;
    assert!(verify_beacon(&key, &m, &identity).is_err());
    let partial = committee.signers[0].sign(&m).unwrap().partial;
    assert!(verify_beacon(&key, &m, &partial).is_err());
    // The randomness is blake3(domain ‖ σ).
    assert_eq!(
        beacon_randomness(&sigma),
        Randomness::from_beacon_output(&sigma)
    );
}

#[test]
fn a_withholding_validator_cannot_change_sigma() {
    let committee = Committee::dealt(4, 6, 0);
    let m = message(0, 5);
    let everyone = aggregate(&committee, &[0, 1, 2, 3], &m);
    for withheld in 0..4 {
        let rest: Vec<usize> = (0..4).filter(|&i| i != withheld).collect();
        assert_eq!(aggregate(&committee, &rest, &m), everyone);
        // ... and with it among the first t, the same σ again.
        let mut with: Vec<usize> = vec![withheld];
        with.extend(rest.iter().take(committee.t() - 1));
        assert_eq!(aggregate(&committee, &with, &m), everyone);
    }
}

#[test]
fn a_wrong_share_is_detected_named_and_does_not_stop_recovery() {
    let committee = Committee::dealt(4, 7, 1);
    let m = message(1, 20);
    let mut aggregator = committee.aggregator();
    let liar = 1usize;
    // A partial for another height, relabelled as this height and sealed
    // properly: the liar's own signature convicts it.
    let mut bad = committee.signers[liar].sign(&message(1, 21)).unwrap();
    bad.height = 20;
    bad.block = m.block;
    let bad = bad.seal(&CHAIN, &committee.keys[liar]);
    let error = aggregator.add(bad.clone()).unwrap_err();
    assert!(error.is_misbehaviour() && !error.is_junk());
    let misbehaviour = error.misbehaviour().unwrap().clone();
    assert_eq!(misbehaviour.index, 1);
    assert_eq!(misbehaviour.signer, committee.keys[liar].public_key());
    assert_eq!(
        misbehaviour.evidence,
        BeaconEvidence::InvalidShare(bad.clone())
    );
    assert!(error.to_string().contains("validator 1"), "{error}");
    // Anyone can check the evidence with the sharing and the liar's key,
    // and it does not convict anyone else or hold on another chain.
    let evidence = misbehaviour.evidence.clone();
    assert!(evidence.verify(&CHAIN, &committee.sharing, &committee.keys[1].public_key()));
    assert!(!evidence.verify(&CHAIN, &committee.sharing, &committee.keys[2].public_key()));
    assert!(!evidence.verify(
        &OTHER_CHAIN,
        &committee.sharing,
        &committee.keys[1].public_key()
    ));
    // Evidence survives its encoding.
    let bytes = crate::encoding::encode(&evidence);
    assert_eq!(
        crate::encoding::decode::<BeaconEvidence>("evidence", &bytes, 1024).unwrap(),
        evidence
    );
    // The liar is not heard again at this height, even with a good share.
    assert_eq!(
        aggregator.add(committee.share(liar, &m)),
        Err(BeaconError::SignerExcluded {
            height: 20,
            index: 1
        })
    );
    // Garbage that is not even a point, signed by the liar at another
    // height: also evidence.
    let mut garbage = committee.signers[liar].sign(&message(1, 22)).unwrap();
    garbage.partial = [0xff; 48];
    let error = aggregator
        .add(garbage.seal(&CHAIN, &committee.keys[liar]))
        .unwrap_err();
    assert_eq!(error.misbehaviour().unwrap().index, 1);
    // The three honest validators still produce σ, the same as without the
    // liar at all.
    assert_eq!(aggregator.add(committee.share(0, &m)), Ok(None));
    assert_eq!(aggregator.add(committee.share(2, &m)), Ok(None));
    let recovered = aggregator.add(committee.share(3, &m)).unwrap().unwrap();
    assert_eq!(
        recovered.signature,
        committee.recover(&[0, 2, 3], &m).unwrap()
    );
    verify_beacon(committee.sharing.group_key(), &m, &recovered.signature).unwrap();
    assert_eq!(
        recovered.randomness(),
        beacon_randomness(&recovered.signature)
    );
    // The aggregator kept both pieces of evidence.
    let kept = aggregator.take_evidence();
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().all(|m| m.index == 1));
    assert!(aggregator.take_evidence().is_empty());
}

#[test]
fn honest_shares_are_never_evidence() {
    let committee = Committee::dealt(4, 8, 0);
    let m = message(0, 3);
    for i in 0..4 {
        let share = committee.share(i, &m);
        assert!(share.verify_partial(CHAIN, &committee.sharing));
        let framed = BeaconEvidence::InvalidShare(share.clone());
        assert!(!framed.verify(&CHAIN, &committee.sharing, &committee.keys[i].public_key()));
        let same_block = BeaconEvidence::ConflictingShares(share.clone(), share);
        assert!(!same_block.verify(&CHAIN, &committee.sharing, &committee.keys[i].public_key()));
    }
}

#[test]
fn shares_for_two_blocks_at_one_height_are_evidence() {
    let committee = Committee::dealt(4, 9, 0);
    let m = message(0, 8);
    let fork = BeaconMessage {
        block: block(8, 9),
        ..m
    };
    let mut aggregator = committee.aggregator();
    assert_eq!(aggregator.add(committee.share(2, &fork)), Ok(None));
    let error = aggregator.add(committee.share(2, &m)).unwrap_err();
    let misbehaviour = error.misbehaviour().unwrap();
    assert_eq!(misbehaviour.index, 2);
    let BeaconEvidence::ConflictingShares(a, b) = &misbehaviour.evidence else {
        panic!("conflicting shares expected");
    };
    assert!(a.share.block < b.share.block);
    assert!(misbehaviour.evidence.verify(
        &CHAIN,
        &committee.sharing,
        &committee.keys[2].public_key()
    ));
    // The others finish the finalized block; the equivocator's first share
    // (for the fork) cannot help the fork reach t.
    assert_eq!(aggregator.add(committee.share(0, &m)), Ok(None));
    assert_eq!(aggregator.valid_shares(8, &fork.block), 1);
    let recovered = aggregator.add(committee.share(1, &m)).unwrap();
    assert!(recovered.is_none(), "two honest shares are not three");
    let recovered = aggregator.add(committee.share(3, &m)).unwrap().unwrap();
    assert_eq!(recovered.message, m);
}

#[test]
fn envelopes_bind_the_sender_and_the_chain() {
    let committee = Committee::dealt(4, 10, 0);
    let m = message(0, 4);
    let mut aggregator = committee.aggregator();
    // Validator 3's valid partial, sealed by validator 0's key: not
    // evidence against 3 (0 could have written anything).
    let stolen = committee.signers[3]
        .sign(&m)
        .unwrap()
        .seal(&CHAIN, &committee.keys[0]);
    let error = aggregator.add(stolen).unwrap_err();
    assert_eq!(error, BeaconError::BadEnvelope { index: 3 });
    assert!(error.is_junk() && !error.is_misbehaviour());
    // Sealed for another chain.
    let other_chain = committee.signers[1]
        .sign(&m)
        .unwrap()
        .seal(&OTHER_CHAIN, &committee.keys[1]);
    assert_eq!(
        aggregator.add(other_chain),
        Err(BeaconError::BadEnvelope { index: 1 })
    );
    // Nothing was recorded against anyone.
    assert!(aggregator.take_evidence().is_empty());
    assert_eq!(aggregator.valid_shares(4, &m.block), 0);
}

#[test]
fn f_colluders_cannot_compute_sigma() {
    let committee = Committee::dealt(7, 11, 0);
    let m = message(0, 100);
    let t = committee.t();
    let key = committee.sharing.group_key();
    let sigma = committee.recover(&[2, 3, 4, 5, 6], &m).unwrap();
    // Unrelated shares the colluders could make up.
    let made_up = Committee::dealt(7, 12, 0);
    // f = 2 colluders, and even t − 1 = 4 (more than the model allows).
    for colluders in [vec![0usize, 1], vec![0, 1, 2, 3]] {
        let own: Vec<_> = colluders
            .iter()
            .map(|&i| committee.partial(i, &m))
            .collect();
        let others: Vec<u32> = (0..7u32)
            .filter(|i| !colluders.contains(&(*i as usize)))
            .collect();
        let fill = t - colluders.len();
        let with = |fillers: Vec<PartialSignature<V>>| -> Vec<PartialSignature<V>> {
            own.iter().cloned().chain(fillers).collect()
        };
        let honest = others.iter().take(fill);
        let attempts = [
            // Their own partials relabelled as honest indices.
            with(
                honest
                    .clone()
                    .map(|&j| PartialSignature {
                        index: Participant::new(j),
                        value: own[0].value,
                    })
                    .collect(),
            ),
            // Partials under made-up shares at honest indices.
            with(
                honest
                    .clone()
                    .map(|&j| made_up.partial(j as usize, &m))
                    .collect(),
            ),
            // Honest validators' partials for *other* heights (public once
            // those heights were signed).
            with(
                honest
                    .clone()
                    .map(|&j| committee.partial(j as usize, &message(0, 99)))
                    .collect(),
            ),
        ];
        for attempt in attempts {
            let forged = recover_from(&committee.sharing, &attempt).unwrap();
            assert_ne!(forged, sigma);
            assert!(verify_beacon(key, &m, &forged).is_err());
        }
        // Through the aggregator, forged shares are refused as evidence and
        // the colluders' valid shares alone recover nothing.
        let mut aggregator = committee.aggregator();
        for &i in &colluders {
            assert_eq!(aggregator.add(committee.share(i, &m)), Ok(None));
        }
        for &j in others.iter().take(fill) {
            let mut forged = made_up.signers[j as usize].sign(&m).unwrap();
            forged.index = j;
            // Sealing needs validator j's key, which the colluders lack;
            // sealed with their own key it is a bad envelope.
            let sealed = forged.seal(&CHAIN, &committee.keys[colluders[0]]);
            assert!(aggregator.add(sealed).is_err());
        }
        assert!(aggregator.recovered(100).is_none());
    }
}

#[test]
fn the_aggregator_is_bounded_and_ignores_what_it_does_not_need() {
    let committee = Committee::dealt(4, 13, 6);
    let mut aggregator = committee.aggregator().with_height_window(10);
    assert_eq!((aggregator.watermark(), aggregator.limit()), (0, 9));
    // Other epoch, too far ahead, unknown index.
    assert_eq!(
        aggregator.add(committee.share(0, &message(6, 10))),
        Err(BeaconError::HeightTooFarAhead {
            height: 10,
            limit: 9
        })
    );
    let other_epoch = Committee::dealt(4, 13, 7);
    assert_eq!(
        aggregator.add(other_epoch.share(0, &message(7, 1))),
        Err(BeaconError::WrongEpoch {
            expected: 6,
            found: 7
        })
    );
    let mut unknown = committee.signers[0].sign(&message(6, 1)).unwrap();
    unknown.index = 4;
    assert_eq!(
        aggregator.add(unknown.seal(&CHAIN, &committee.keys[0])),
        Err(BeaconError::UnknownSigner {
            index: 4,
            validators: 4
        })
    );
    // Duplicates are accepted silently and not counted twice.
    let m = message(6, 5);
    let first = committee.share(0, &m);
    assert_eq!(aggregator.add(first.clone()), Ok(None));
    assert_eq!(aggregator.add(first.clone()), Ok(None));
    assert_eq!(aggregator.add_bytes(&first.encode()), Ok(None));
    assert_eq!(aggregator.valid_shares(5, &m.block), 1);
    assert_eq!(aggregator.add(committee.share(1, &m)), Ok(None));
    let recovered = aggregator.add(committee.share(2, &m)).unwrap().unwrap();
    // After σ, late shares are ignored and σ stays available.
    assert_eq!(aggregator.add(committee.share(3, &m)), Ok(None));
    assert_eq!(aggregator.recovered(5), Some(&recovered));
    assert_eq!(aggregator.valid_shares(5, &m.block), 0);
    // Pruning forgets heights and refuses them from then on.
    aggregator.prune_below(6);
    assert_eq!((aggregator.watermark(), aggregator.limit()), (6, 15));
    assert!(aggregator.recovered(5).is_none());
    assert_eq!(
        aggregator.add(committee.share(3, &m)),
        Err(BeaconError::HeightBelowWatermark {
            height: 5,
            watermark: 6
        })
    );
    aggregator.prune_below(2);
    assert_eq!(aggregator.watermark(), 6, "the watermark never goes down");
    // Filling every height of the window with every share stays bounded by
    // window × n shares.
    for height in 6..=15 {
        for i in 0..2 {
            assert_eq!(
                aggregator.add(committee.share(i, &message(6, height))),
                Ok(None)
            );
        }
    }
    assert!(matches!(
        aggregator.add(committee.share(0, &message(6, 16))),
        Err(BeaconError::HeightTooFarAhead { .. })
    ));
    // Mismatched construction is refused.
    assert!(
        BeaconAggregator::new(
            CHAIN,
            6,
            committee.sharing.clone(),
            vec![keypair(0).public_key(); 4]
        )
        .is_err()
    );
    assert!(
        BeaconAggregator::new(
            CHAIN,
            6,
            committee.sharing.clone(),
            (0..5).map(|i| keypair(i).public_key()).collect()
        )
        .is_err()
    );
}

#[test]
fn signers_refuse_other_epochs_and_foreign_shares() {
    let committee = Committee::dealt(4, 14, 3);
    assert_eq!(
        committee.signers[0].sign(&message(4, 1)),
        Err(BeaconError::SignerEpochMismatch {
            share_epoch: 3,
            message_epoch: 4
        })
    );
    let foreign = dealer_keys(4, &[15; 32]).unwrap();
    let share = foreign.shares.into_iter().next().unwrap();
    assert!(!committee.sharing.holds(&share));
    assert!(BeaconSigner::new(3, share, &committee.sharing).is_err());
}

#[test]
fn key_material_round_trips_and_refuses_bad_bytes() {
    let DealerKeys { sharing, shares } = dealer_keys(7, &[16; 32]).unwrap();
    assert_eq!((sharing.participants(), sharing.threshold()), (7, 5));
    let key = *sharing.group_key();
    // Group key: bytes, hex, serde, borsh.
    assert_eq!(GroupKey::from_bytes(&key.to_bytes()).unwrap(), key);
    assert_eq!(key.to_string().len(), 192);
    assert_eq!(key.to_string().parse::<GroupKey>().unwrap(), key);
    assert_eq!(
        key.to_string().to_uppercase().parse::<GroupKey>().unwrap(),
        key
    );
    let json = serde_json::to_string(&key).unwrap();
    assert_eq!(serde_json::from_str::<GroupKey>(&json).unwrap(), key);
    let borsh_bytes = crate::encoding::encode(&key);
    assert_eq!(borsh_bytes, key.to_bytes());
    assert_eq!(
        crate::encoding::decode::<GroupKey>("key", &borsh_bytes, 96).unwrap(),
        key
    );
    assert!(GroupKey::from_bytes(&key.to_bytes()[..95]).is_err());
    assert!(GroupKey::from_bytes(&[0u8; 96]).is_err());
    let mut infinity = [0u8; 96];
    infinity[0] = 0xc0;
    assert!(GroupKey::from_bytes(&infinity).is_err());
    assert!("zz".repeat(96).parse::<GroupKey>().is_err());
    // Public sharing: layout, bytes, hex, serde, borsh.
    let bytes = sharing.to_bytes();
    assert_eq!(bytes[0], 0, "counter mode");
    assert_eq!(&bytes[1..5], &7u32.to_be_bytes());
    assert_eq!(bytes[5], 5, "t coefficients");
    assert_eq!(bytes.len(), 6 + 5 * 96);
    assert_eq!(&bytes[6..102], &key.to_bytes(), "the constant term first");
    assert_eq!(PublicSharing::from_bytes(&bytes).unwrap(), sharing);
    assert_eq!(
        sharing.to_string().parse::<PublicSharing>().unwrap(),
        sharing
    );
    let json = serde_json::to_string(&sharing).unwrap();
    assert_eq!(
        serde_json::from_str::<PublicSharing>(&json).unwrap(),
        sharing
    );
    let borsh_bytes = crate::encoding::encode(&sharing);
    assert_eq!(
        crate::encoding::decode::<PublicSharing>("sharing", &borsh_bytes, 1 << 16).unwrap(),
        sharing
    );
    assert!(PublicSharing::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(PublicSharing::from_bytes(&trailing).is_err());
    // A polynomial of the wrong degree for its n: claim 4 participants (t
    // would be 3) with 5 coefficients, or 10 (t would be 7).
    for n in [4u32, 10] {
        let mut wrong = bytes.clone();
        wrong[1..5].copy_from_slice(&n.to_be_bytes());
        assert!(matches!(
            PublicSharing::from_bytes(&wrong),
            Err(BeaconError::InvalidKeys { .. })
        ));
    }
    // Another mode.
    let mut mode = bytes.clone();
    mode[0] = 1;
    assert!(PublicSharing::from_bytes(&mode).is_err());
    let huge = vec![0u8; PublicSharing::max_encoded_length() + 1];
    assert!(matches!(
        PublicSharing::from_bytes(&huge),
        Err(BeaconError::TooLarge { .. })
    ));
    // Share public keys are the polynomial at i + 1.
    for (i, share) in shares.iter().enumerate() {
        assert_eq!(share.index(), i as u32);
        assert!(sharing.holds(share));
        assert!(sharing.share_public_key(i as u32).is_some());
    }
    assert!(sharing.share_public_key(7).is_none());
    // Secret shares: bytes, refusals, redacted debug.
    for share in &shares {
        let bytes = share.to_bytes();
        assert_eq!(bytes.len(), 1 + 32);
        let back = SecretShare::from_bytes(&bytes).unwrap();
        assert_eq!(back.index(), share.index());
        assert!(sharing.holds(&back));
        assert!(!format!("{share:?}").contains(&hex::encode(&bytes[1..])));
    }
    let mut zero = shares[0].to_bytes().to_vec();
    zero[1..].fill(0);
    assert!(SecretShare::from_bytes(&zero).is_err());
    assert!(SecretShare::from_bytes(&[0u8; 38]).is_err());
    assert!(SecretShare::from_bytes(&[]).is_err());
    // The dealer refuses impossible sizes.
    assert!(dealer_keys(0, &[0; 32]).is_err());
    assert!(dealer_keys(MAX_PARTICIPANTS + 1, &[0; 32]).is_err());
}

#[test]
fn the_dealer_is_deterministic_in_its_seed() {
    let a = dealer_keys(4, &[20; 32]).unwrap();
    let b = dealer_keys(4, &[20; 32]).unwrap();
    let c = dealer_keys(4, &[21; 32]).unwrap();
    assert_eq!(a.sharing, b.sharing);
    assert_ne!(a.sharing.group_key(), c.sharing.group_key());
    for (x, y) in a.shares.iter().zip(&b.shares) {
        assert_eq!(*x.to_bytes(), *y.to_bytes());
    }
}

/// Pinned vectors: a 4-validator testnet dealt from seed `[0x42; 32]`, and
/// the beacon for chain `11…11`, epoch 3, height 42, block `22…22`.
mod vectors {
    pub(super) const SEED: [u8; 32] = [0x42; 32];
    pub(super) const GROUP_KEY: &str = "a93ff5b3221b96aba49a2007bb32478c78205d61372badfcaaa1e244ba2fec6db339d0b3f18e3c2ba6ffa11040d2702510e4d2b0afc8ae291fb971b8c8cf12cb0a5ed11f8fa49eb2ef3529972ada8f0afa01299d6f9f199c64e6e62a16c1810c";
    pub(super) const SIGMA: &str = "93a9906a83a5c0cb006e0aad14a885b7dcc7b49f38b2b3c2c19b07ec06bd7a57918bfde15bffddb1d073ccd0523c2d92";
    pub(super) const RANDOMNESS: &str =
        "3eb838965ab6047801ca59487f709f6d2bc8cbaf165a23d83f1880ca9828dfcf";
    /// The first three craps rolls of label `table-1`.
    pub(super) const ROLLS: [(u8, u8); 3] = [(4, 6), (2, 6), (2, 1)];
    /// The σ of heights 43 and 44 (same block bytes), for more coverage.
    pub(super) const MORE_SIGMAS: [&str; 2] = [
        "b0d8cdb054936c40e24febba99108932c45abd33f02500ced9bae9cb95935e11118bec28d11621c4a34fc53b07476adb",
        "904ca4b9c27b2bc50585015cfad70eaec6778d683e4fc530aa0d15d3cb6418778aa0316616551a15928d0552564bc6c7",
    ];
}

fn vector_message(height: u64) -> BeaconMessage {
    BeaconMessage {
        chain_id: ChainId::new([0x11; 32]),
        epoch: 3,
        height,
        block: Hash::new([0x22; 32]),
    }
}

fn rolls(sigma: &[u8]) -> Vec<(u8, u8)> {
    let mut stream = beacon_randomness(sigma).stream(Purpose::CrapsRoll, b"table-1");
    (0..3)
        .map(|_| {
            let roll = stream.roll();
            (roll.first.face(), roll.second.face())
        })
        .collect()
}

#[test]
fn pinned_vectors_from_the_fixed_dealer_seed() {
    let committee = {
        let DealerKeys { sharing, shares } = dealer_keys(4, &vectors::SEED).unwrap();
        let signers = shares
            .into_iter()
            .map(|s| BeaconSigner::new(3, s, &sharing).unwrap())
            .collect();
        Committee {
            epoch: 3,
            sharing,
            signers,
            keys: (0..4).map(keypair).collect(),
        }
    };
    let sigmas: Vec<String> = [42u64, 43, 44]
        .iter()
        .map(|&h| hex::encode(committee.recover(&[0, 1, 3], &vector_message(h)).unwrap()))
        .collect();
    let sigma = hex::decode(&sigmas[0]).unwrap();
    let randomness = hex::encode(beacon_randomness(&sigma).as_bytes());
    assert_eq!(
        committee.sharing.group_key().to_string(),
        vectors::GROUP_KEY
    );
    assert_eq!(sigmas[0], vectors::SIGMA);
    assert_eq!(sigmas[1..], vectors::MORE_SIGMAS);
    assert_eq!(randomness, vectors::RANDOMNESS);
    assert_eq!(rolls(&sigma), vectors::ROLLS);
    // Any t shares through the aggregator give the same pinned σ.
    assert_eq!(
        hex::encode(aggregate(&committee, &[2, 1, 3], &vector_message(42))),
        vectors::SIGMA
    );
}

/// What an explorer does with only public data: parse the group key and σ,
/// verify, derive the dice.
#[test]
fn an_explorer_checks_the_pinned_rolls_offline() {
    let key: GroupKey = vectors::GROUP_KEY.parse().unwrap();
    let sigma = hex::decode(vectors::SIGMA).unwrap();
    verify_beacon(&key, &vector_message(42), &sigma).unwrap();
    assert!(verify_beacon(&key, &vector_message(43), &sigma).is_err());
    assert_eq!(
        hex::encode(beacon_randomness(&sigma).as_bytes()),
        vectors::RANDOMNESS
    );
    // r is plain BLAKE3 of the domain and σ: recomputable without this code.
    let mut input = b"bitcraps/v1/randomness".to_vec();
    input.extend_from_slice(&sigma);
    assert_eq!(blake3::hash(&input).to_hex().as_str(), vectors::RANDOMNESS);
    assert_eq!(rolls(&sigma), vectors::ROLLS);
    for (i, other) in vectors::MORE_SIGMAS.iter().enumerate() {
        let other = hex::decode(other).unwrap();
        verify_beacon(&key, &vector_message(43 + i as u64), &other).unwrap();
    }
    // The pairing check itself, with commonware's primitives directly.
    let point = G1::decode(Copying(&sigma[..])).unwrap();
    ops::verify_message::<V>(
        &commonware_cryptography::bls12381::primitives::group::G2::decode(Copying(
            &key.to_bytes()[..],
        ))
        .unwrap(),
        BEACON_NAMESPACE,
        &vector_message(42).encode(),
        &point,
    )
    .unwrap();
}

#[test]
fn share_encoding_is_the_documented_164_bytes() {
    let committee = Committee::dealt(4, 22, 9);
    let m = message(9, 300);
    let signed = committee.share(2, &m);
    let bytes = signed.encode();
    assert_eq!(bytes.len(), SignedBeaconShare::ENCODED_LENGTH);
    assert_eq!(SignedBeaconShare::ENCODED_LENGTH, 164);
    assert_eq!(&bytes[..8], &9u64.to_le_bytes());
    assert_eq!(&bytes[8..16], &300u64.to_le_bytes());
    assert_eq!(&bytes[16..48], m.block.as_bytes());
    assert_eq!(&bytes[48..52], &2u32.to_le_bytes());
    assert_eq!(&bytes[52..100], &signed.share.partial);
    assert_eq!(&bytes[100..], signed.signature.as_bytes());
    assert_eq!(SignedBeaconShare::decode(&bytes).unwrap(), signed);
    let mut message = b"bitcraps beacon share v1\0".to_vec();
    message.extend_from_slice(&bytes[..100]);
    assert_eq!(signed.signing_message(), message);
    assert!(matches!(
        SignedBeaconShare::decode(&[0u8; 165]),
        Err(BeaconError::TooLarge { .. })
    ));
}

fn decoding_fixture() -> (Committee, SignedBeaconShare) {
    let committee = Committee::dealt(4, 23, 0);
    let share = committee.share(1, &message(0, 3));
    (committee, share)
}

#[test]
fn every_truncation_of_a_share_is_refused() {
    let (committee, share) = decoding_fixture();
    let bytes = share.encode();
    let mut aggregator = committee.aggregator();
    for len in 0..bytes.len() {
        assert!(SignedBeaconShare::decode(&bytes[..len]).is_err());
        assert!(aggregator.add_bytes(&bytes[..len]).unwrap_err().is_junk());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_shares_never_panic(
        flips in prop::collection::vec((0usize..164, 1u8..=255), 1..6),
        cut in 0usize..200,
        junk in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let (committee, share) = decoding_fixture();
        let mut aggregator = committee.aggregator();
        let mut bytes = share.encode();
        for (at, mask) in flips {
            bytes[at] ^= mask;
        }
        // A mutated share decodes (every byte pattern of the right length
        // does) but is refused one way or another.
        if let Ok(decoded) = SignedBeaconShare::decode(&bytes) {
            prop_assert!(aggregator.add(decoded).is_err());
        }
        bytes.truncate(cut.min(bytes.len()));
        let _ = aggregator.add_bytes(&bytes);
        let _ = aggregator.add_bytes(&junk);
        let _ = GroupKey::from_bytes(&junk);
        let _ = PublicSharing::from_bytes(&junk);
        let _ = SecretShare::from_bytes(&junk);
        let _ = DkgOutput::from_bytes(&junk);
        let _ = verify_beacon(committee.sharing.group_key(), &message(0, 3), &junk);
        // The valid share is still accepted after all that.
        prop_assert_eq!(aggregator.add(share), Ok(None));
    }

    #[test]
    fn mutated_key_material_never_panics(
        flips in prop::collection::vec((0usize..486, 1u8..=255), 1..4),
        cut in 0usize..486,
    ) {
        let sharing = dealer_keys(4, &[24; 32]).unwrap().sharing;
        let mut bytes = sharing.to_bytes();
        prop_assert_eq!(bytes.len(), 6 + 3 * 96);
        for (at, mask) in flips {
            let at = at % bytes.len();
            bytes[at] ^= mask;
        }
        if let Ok(decoded) = PublicSharing::from_bytes(&bytes) {
            // Only a valid sharing comes back.
            prop_assert_eq!(decoded.threshold(), quorum(decoded.participants()));
        }
        let _ = PublicSharing::from_bytes(&bytes[..cut.min(bytes.len())]);
        let _ = GroupKey::from_bytes(&bytes[6..102]);
    }
}

// ---- DKG and resharing ----

fn dkg_keys(seeds: &[u8]) -> Vec<PrivateKey> {
    seeds
        .iter()
        .map(|&s| PrivateKey::decode(Copying(&[s; 32][..])).unwrap())
        .collect()
}

/// Signs `m` with the shares of a DKG result (in its index order) and
/// aggregates `who`.
fn dkg_sigma(result: &dkg::DkgResult, epoch: u64, who: &[usize], m: &BeaconMessage) -> [u8; 48] {
    let sharing = result.output.sharing().clone();
    let keys: Vec<Keypair> = (0..sharing.participants())
        .map(|i| keypair(100 + i))
        .collect();
    let mut aggregator = BeaconAggregator::new(
        CHAIN,
        epoch,
        sharing.clone(),
        keys.iter().map(Keypair::public_key).collect(),
    )
    .unwrap();
    let mut out = None;
    for &i in who {
        let (_, share) = &result.shares[i];
        let index = share.index() as usize;
        let signer = BeaconSigner::new(
            epoch,
            SecretShare::from_bytes(&share.to_bytes()).unwrap(),
            &sharing,
        )
        .unwrap();
        if let Some(r) = aggregator
            .add(signer.sign_sealed(m, &keys[index]).unwrap())
            .unwrap()
        {
            out = Some(r.signature);
        }
    }
    out.expect("t shares")
}

#[test]
fn a_dkg_among_four_gives_shares_whose_sigma_verifies() {
    let players = dkg_keys(&[1, 2, 3, 4]);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let result = dkg::run_dkg(0, &players, &mut rng).unwrap();
    let output = &result.output;
    assert_eq!(result.shares.len(), 4);
    assert_eq!(
        (
            output.sharing().participants(),
            output.sharing().threshold()
        ),
        (4, 3)
    );
    assert_eq!(output.dealers().len(), 3, "a quorum of dealings is used");
    assert!(output.revealed().is_empty());
    // Share i goes to the i-th key in byte order.
    let mut sorted: Vec<_> = players.iter().map(|k| k.public_key()).collect();
    sorted.sort();
    assert_eq!(output.players(), sorted);
    for (i, (player, share)) in result.shares.iter().enumerate() {
        assert_eq!(output.index_of(player), Some(i as u32));
        assert_eq!(share.index(), i as u32);
        assert!(output.sharing().holds(share));
    }
    let m = message(0, 1);
    let sigma = dkg_sigma(&result, 0, &[0, 1, 2], &m);
    assert_eq!(dkg_sigma(&result, 0, &[3, 1, 0], &m), sigma);
    verify_beacon(output.group_key(), &m, &sigma).unwrap();
    // The output survives its encoding (the chain keeps it for the next
    // reshare).
    let bytes = output.to_bytes();
    assert_eq!(DkgOutput::from_bytes(&bytes).unwrap(), *output);
    assert!(DkgOutput::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    // Another run gives another key.
    let again = dkg::run_dkg(1, &players, &mut rng).unwrap();
    assert_ne!(again.output.group_key(), output.group_key());
}

#[test]
fn resharing_to_a_new_set_of_five_keeps_the_group_key() {
    // Epoch 0: A, B, C, D. Epoch 1: D leaves, E and F join.
    let old_players = dkg_keys(&[1, 2, 3, 4]);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let old = dkg::run_dkg(0, &old_players, &mut rng).unwrap();
    let d = old_players[3].public_key();
    let dealers: Vec<(PrivateKey, &SecretShare)> = old_players[..3]
        .iter()
        .map(|k| (k.clone(), old.share_of(&k.public_key()).unwrap()))
        .collect();
    let new_players = dkg_keys(&[1, 2, 3, 5, 6]);
    let new = dkg::run_reshare(1, &old.output, &dealers, &new_players, &mut rng).unwrap();
    assert_eq!(new.output.group_key(), old.output.group_key());
    assert_ne!(new.output.sharing(), old.output.sharing());
    assert_eq!(
        (
            new.output.sharing().participants(),
            new.output.sharing().threshold()
        ),
        (5, 4)
    );
    assert_eq!(new.shares.len(), 5);
    assert!(new.output.index_of(&d).is_none(), "D left");
    // Same secret: the new set's σ equals the old set's σ for one message,
    // and verifies under the unchanged group key.
    let m = message(1, 200);
    let new_sigma = dkg_sigma(&new, 1, &[0, 2, 3, 4], &m);
    // (This is also why old shares must be erased after a reshare: a
    // threshold of the old set can still sign new epochs' messages.)
    assert_eq!(dkg_sigma(&old, 1, &[0, 1, 3], &m), new_sigma);
    verify_beacon(old.output.group_key(), &m, &new_sigma).unwrap();
    // The newcomers' shares are real shares: E and F with two old members.
    let e = new.output.index_of(&new_players[3].public_key()).unwrap() as usize;
    let f = new.output.index_of(&new_players[4].public_key()).unwrap() as usize;
    let mut who: Vec<usize> = vec![e, f];
    who.extend((0..5).filter(|i| *i != e && *i != f).take(2));
    assert_eq!(dkg_sigma(&new, 1, &who, &m), new_sigma);
    // Three new shares are not enough under the new threshold.
    let sharing = new.output.sharing();
    let partials: Vec<_> = new.shares[..3]
        .iter()
        .map(|(_, s)| threshold::sign_message::<V>(s.share(), BEACON_NAMESPACE, &m.encode()))
        .collect();
    assert!(recover_from(sharing, &partials).is_err());
    // A second reshare, back to four, still keeps the key.
    let dealers: Vec<(PrivateKey, &SecretShare)> = new_players[1..]
        .iter()
        .map(|k| (k.clone(), new.share_of(&k.public_key()).unwrap()))
        .collect();
    let third = dkg::run_reshare(2, &new.output, &dealers, &new_players[1..], &mut rng).unwrap();
    assert_eq!(third.output.group_key(), old.output.group_key());
    assert_eq!(dkg_sigma(&third, 1, &[0, 1, 2], &m), new_sigma);
}

#[test]
fn reshares_refuse_too_few_or_foreign_dealers() {
    let players = dkg_keys(&[1, 2, 3, 4]);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let old = dkg::run_dkg(0, &players, &mut rng).unwrap();
    let share_of = |k: &PrivateKey| old.share_of(&k.public_key()).unwrap();
    // Two of four old players are below the old quorum of three.
    let two: Vec<_> = players[..2]
        .iter()
        .map(|k| (k.clone(), share_of(k)))
        .collect();
    assert!(dkg::run_reshare(1, &old.output, &two, &players, &mut rng).is_err());
    // A dealer that was not an old player.
    let outsider = dkg_keys(&[9]).remove(0);
    let mut with_outsider: Vec<_> = players[..3]
        .iter()
        .map(|k| (k.clone(), share_of(k)))
        .collect();
    with_outsider[0].0 = outsider;
    assert!(dkg::run_reshare(1, &old.output, &with_outsider, &players, &mut rng).is_err());
    // A dealer with someone else's old share.
    let mut swapped: Vec<_> = players[..3]
        .iter()
        .map(|k| (k.clone(), share_of(k)))
        .collect();
    swapped[0].1 = share_of(&players[1]);
    assert!(dkg::run_reshare(1, &old.output, &swapped, &players, &mut rng).is_err());
    // Repeated players.
    let repeated = vec![players[0].clone(), players[0].clone()];
    assert!(dkg::run_dkg(5, &repeated, &mut rng).is_err());
    assert!(dkg::run_dkg(5, &[], &mut rng).is_err());
}

#[test]
fn the_dkg_survives_an_offline_player_and_a_corrupting_dealer() {
    let players = dkg_keys(&[1, 2, 3, 4, 5, 6, 7]);
    let publics: Vec<_> = players.iter().map(|k| k.public_key()).collect();
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let faults = dkg::Faults {
        offline_players: vec![publics[6].clone()],
        corrupt_dealings: vec![(publics[0].clone(), publics[1].clone())],
        silent_dealers: vec![publics[5].clone()],
    };
    let result = dkg::run_dkg_with(0, &players, &mut rng, &faults).unwrap();
    // Six finished; the offline one got nothing from this run.
    assert_eq!(result.shares.len(), 6);
    assert!(result.share_of(&publics[6]).is_none());
    assert!(
        !result.output.dealers().contains(&publics[5]),
        "silent dealer unused"
    );
    let m = message(0, 9);
    let sigma = dkg_sigma(&result, 0, &[0, 1, 2, 3, 4], &m);
    assert_eq!(dkg_sigma(&result, 0, &[5, 4, 3, 2, 1], &m), sigma);
    verify_beacon(result.output.group_key(), &m, &sigma).unwrap();
    // Too many silent dealers: no key, and it says so.
    let faults = dkg::Faults {
        silent_dealers: publics[..3].to_vec(),
        ..dkg::Faults::default()
    };
    assert!(matches!(
        dkg::run_dkg_with(1, &players, &mut rng, &faults),
        Err(BeaconError::Dkg { .. })
    ));
}

#[test]
fn a_dealer_testnet_can_reshare_into_a_dkg_held_key() {
    let players = dkg_keys(&[1, 2, 3, 4]);
    let publics: Vec<_> = players.iter().map(|k| k.public_key()).collect();
    let dealt = dkg::deal(&publics, &[30; 32]).unwrap();
    assert_eq!(
        dkg::deal(&publics, &[30; 32]).unwrap().output.group_key(),
        dealt.output.group_key()
    );
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let dealers: Vec<_> = players
        .iter()
        .map(|k| (k.clone(), dealt.share_of(&k.public_key()).unwrap()))
        .collect();
    let reshared = dkg::run_reshare(1, &dealt.output, &dealers, &players, &mut rng).unwrap();
    assert_eq!(reshared.output.group_key(), dealt.output.group_key());
    let m = message(1, 2);
    assert_eq!(
        dkg_sigma(&reshared, 1, &[0, 1, 2], &m),
        dkg_sigma(&dealt, 1, &[1, 2, 3], &m)
    );
}

#[test]
fn dkg_rounds_do_not_depend_on_the_order_of_participants() {
    // The same players given in any order make the same round.
    let players = dkg_keys(&[7, 3, 5, 1]);
    let publics: Vec<_> = players.iter().map(|k| k.public_key()).collect();
    let mut reversed = publics.clone();
    reversed.reverse();
    let a = dkg::round_info(0, None, &publics, &publics).unwrap();
    let b = dkg::round_info(0, None, &reversed, &reversed).unwrap();
    assert!(a == b);
    let c = dkg::round_info(1, None, &publics, &publics).unwrap();
    assert!(a != c, "the round number is bound");
    let distinct: BTreeSet<_> = publics.iter().collect();
    assert_eq!(distinct.len(), 4);
}
