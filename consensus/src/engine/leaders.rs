//! # Who leads a view
//!
//! The one place the leader elector is configured: the engine runs simplex
//! with [`elector_config`], and the node's chain view counts the views each
//! validator led with [`leader_of`] / [`Leaders`], which build the same
//! elector, so the two can never disagree on who led a view.
//!
//! The schedule: commonware's `RoundRobin` over the epoch's committee in
//! its canonical (sorted) order, without a seed, except that the first
//! leader of an epoch leads its first two views.
//!
//! Why view 2 is special: a new epoch's engine starts with no record of
//! anyone's activity, and commonware's skip policy (`SkipPolicy::Enabled`)
//! nullifies a view at once when a quorum has been heard from recently but
//! its leader has not (`TimeoutReason::Inactivity`). A validator enters
//! view 2 on view 1's notarization, which needs the notarize votes of only
//! a quorum: with round-robin leaders, view 2's leader is often the one
//! whose first vote of the epoch has not arrived yet. Skipping it is
//! harmless for one validator, but two of four split view 2 between
//! notarize and nullify votes until the certification timeout (2 s).
//! View 1's leader is heard from by every validator that voted in view 1
//! (its notarize vote carries the proposal), so it leads view 2 as well;
//! from view 3 on, the rotation goes on one view late. Every later leader
//! has had a whole view for its first vote to arrive.
//!
//! The schedule is fixed per (epoch, view) and the same on every
//! validator, as the elector must be; it is part of the protocol: nodes
//! electing leaders differently refuse each other's proposals.
//!
//! Why an elector of our own: commonware 2026.10.0 has no supported way
//! to give a fresh engine's leaders a grace period. The skip policy is
//! all or nothing (`SkipPolicy::Disabled` gives up skipping crashed
//! leaders everywhere), and stable leaders (`Terms::stable`, a leader per
//! `term_length` views) change every term of the epoch, with a stall
//! timeout and same-term vote rules, for a problem of its first view.
//! The terms stay rotating (every view its own term): the `Elector`
//! contract asks for one leader per stable term only, and commonware's
//! own voter tests elect one participant for two consecutive rotating
//! views (`RepeatLeaderElector`).

use std::collections::BTreeMap;

use borsh::{BorshDeserialize, BorshSerialize};
use commonware_codec::{Copying, DecodeExt as _};
use commonware_consensus::simplex::elector::{self, Config, Elector, RoundRobin, Scheduled, Terms};
use commonware_consensus::types::{Epoch, Participant, Round, View};
use commonware_cryptography::certificate::Scheme as CertificateScheme;
use commonware_cryptography::{Sha256, ed25519};
use commonware_utils::ordered::Set;
use wallet::PublicKey;

use super::Scheme;
use super::application::wallet_key;
use crate::genesis::Genesis;
use crate::ledger::Ledger;

/// The elector configuration handed to simplex (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct EpochStartLeaders;

/// The elector configuration the engine's simplex runs with.
pub fn elector_config() -> EpochStartLeaders {
    EpochStartLeaders
}

impl<S: CertificateScheme> elector::Config<S> for EpochStartLeaders {
    type Elector = EpochStartElector<S>;

    fn build(self, participants: &Set<S::PublicKey>) -> EpochStartElector<S> {
        EpochStartElector {
            round_robin: elector::Config::<S>::build(RoundRobin::<Sha256>::default(), participants),
        }
    }
}

/// The elector built by [`EpochStartLeaders`] for one epoch's participants.
#[derive(Clone, Debug)]
pub struct EpochStartElector<S: CertificateScheme> {
    round_robin: elector::RoundRobinElector<S>,
}

/// The view whose round-robin leader leads `view`: view 1's for views 1
/// and 2, the view before for every later one.
fn rotation_view(view: View) -> View {
    View::new(view.get().saturating_sub(1).max(1))
}

impl<S: CertificateScheme> Elector<S> for EpochStartElector<S> {
    type Mode = Scheduled;

    fn terms(&self) -> Terms {
        self.round_robin.terms()
    }

    fn elect(&self, round: Round, _: ()) -> Participant {
        self.round_robin
            .elect(Round::new(round.epoch(), rotation_view(round.view())), ())
    }
}

/// The leader of `round` among `participants` (the epoch's committee in
/// canonical order), as the engine elects it. `None` for an empty
/// committee.
pub fn leader_of(
    participants: &Set<ed25519::PublicKey>,
    round: Round,
) -> Option<ed25519::PublicKey> {
    if participants.is_empty() {
        return None;
    }
    let elector = Config::<Scheme>::build(elector_config(), participants);
    let index = elector.elect(round, ());
    participants.get(usize::from(index)).cloned()
}

/// The leaders of one epoch's views, for a committee given as wallet keys
/// (the elector built once, for many views).
#[derive(Clone, Debug)]
pub struct Leaders {
    participants: Set<ed25519::PublicKey>,
    elector: EpochStartElector<Scheme>,
}

impl Leaders {
    /// The elector over `committee` (in any order; the engine's order is
    /// the sorted one). `None` if the committee is empty, names a key twice
    /// or a key that is not a valid ed25519 point.
    pub fn new(committee: &[PublicKey]) -> Option<Leaders> {
        let keys = committee
            .iter()
            .map(|key| ed25519::PublicKey::decode(Copying(&key.as_bytes()[..])).ok())
            .collect::<Option<Vec<_>>>()?;
        let participants = Set::try_from(keys).ok()?;
        if participants.is_empty() {
            return None;
        }
        let elector = Config::<Scheme>::build(elector_config(), &participants);
        Some(Leaders {
            participants,
            elector,
        })
    }

    /// The leader of `view` in `epoch`.
    pub fn leader(&self, epoch: u64, view: u64) -> PublicKey {
        let index = self
            .elector
            .elect(Round::new(Epoch::new(epoch), View::new(view)), ());
        let key = self
            .participants
            .get(usize::from(index))
            .expect("the elector picks one of the participants it was built over");
        wallet_key(key).expect("the key was built from a wallet key")
    }
}

/// The committee simplex runs epoch `epoch` with, as the chain records it:
/// the players of the sharing in force in `epoch` (what
/// [`super::Executor::committee`] hands the engine), or, on a chain
/// without a sharing, the genesis validators (the configuration's
/// committee, kept for every epoch). `None` if `ledger` no longer keeps
/// the epoch's sharing (or it does not decode).
pub fn committee(genesis: &Genesis, ledger: &Ledger, epoch: u64) -> Option<Vec<PublicKey>> {
    if ledger.genesis_beacon_output().is_none() && ledger.resharing().is_none() {
        return Some(
            genesis
                .validators
                .iter()
                .map(|validator| validator.consensus_key)
                .collect(),
        );
    }
    let sharing = ledger.sharing_at(epoch).ok()??;
    sharing.players().iter().map(wallet_key).collect()
}

/// One epoch's views as the chain shows them: for each validator, the
/// views of the epoch it led that produced a finalized block and those
/// that produced none (missed), from the epoch's first view (1) up to the
/// view of its last finalized block counted. A view between two
/// consecutive blocks of the epoch, or before its first block, produced no
/// block: its leader missed it.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EpochViews {
    epoch: u64,
    /// The view of the last block counted (0 before the epoch's first).
    last_view: u64,
    produced: BTreeMap<PublicKey, u64>,
    missed: BTreeMap<PublicKey, u64>,
}

impl EpochViews {
    /// No view of `epoch` counted yet.
    pub fn new(epoch: u64) -> EpochViews {
        EpochViews {
            epoch,
            ..EpochViews::default()
        }
    }

    /// The epoch counted.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The view of the last block counted (0 before the epoch's first).
    pub fn last_view(&self) -> u64 {
        self.last_view
    }

    /// Counts the epoch's next finalized block, proposed by `proposer` in
    /// `view`: its view is produced, and every view since the last block's
    /// was missed by its leader (`leaders`, the epoch's committee). A view
    /// not after the last one, which the engine never finalizes, counts
    /// the block and no miss.
    pub fn record(&mut self, leaders: &Leaders, view: u64, proposer: PublicKey) {
        for skipped in self.last_view.saturating_add(1)..view {
            let missed = self
                .missed
                .entry(leaders.leader(self.epoch, skipped))
                .or_default();
            *missed = missed.saturating_add(1);
        }
        let produced = self.produced.entry(proposer).or_default();
        *produced = produced.saturating_add(1);
        self.last_view = self.last_view.max(view);
    }

    /// The views `validator` led that produced a finalized block.
    pub fn produced(&self, validator: &PublicKey) -> u64 {
        self.produced.get(validator).copied().unwrap_or(0)
    }

    /// The views `validator` led that produced no finalized block.
    pub fn missed(&self, validator: &PublicKey) -> u64 {
        self.missed.get(validator).copied().unwrap_or(0)
    }

    /// The views `validator` led: produced + missed.
    pub fn led(&self, validator: &PublicKey) -> u64 {
        self.produced(validator)
            .saturating_add(self.missed(validator))
    }
}

#[cfg(test)]
mod tests {
    use commonware_cryptography::Signer as _;
    use commonware_utils::TryCollect as _;
    use proptest::prelude::*;
    use wallet::Keypair;

    use super::*;

    fn committee(n: u8) -> Vec<PublicKey> {
        (1..=n)
            .map(|seed| Keypair::from_secret_bytes(&[seed; 32]).public_key())
            .collect()
    }

    /// Counts a chain of blocks at `views`, each proposed by its view's
    /// leader.
    fn count(leaders: &Leaders, epoch: u64, views: &[u64]) -> EpochViews {
        let mut counted = EpochViews::new(epoch);
        for &view in views {
            counted.record(leaders, view, leaders.leader(epoch, view));
        }
        counted
    }

    #[test]
    fn leaders_agree_with_the_engine_elector_and_rotate() {
        let keys = committee(4);
        let leaders = Leaders::new(&keys).unwrap();
        let participants: Set<ed25519::PublicKey> = keys
            .iter()
            .map(|key| ed25519::PublicKey::decode(Copying(&key.as_bytes()[..])).unwrap())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        for epoch in 0..3 {
            let mut seen = std::collections::BTreeSet::new();
            for view in 1..=8 {
                let round = Round::new(Epoch::new(epoch), View::new(view));
                let engine = leader_of(&participants, round).unwrap();
                let leader = leaders.leader(epoch, view);
                assert_eq!(wallet_key(&engine), Some(leader));
                seen.insert(leader);
            }
            assert_eq!(seen.len(), 4, "every member leads within 4 views");
        }
        // The order given does not matter: the committee's set is sorted.
        let mut reversed = keys.clone();
        reversed.reverse();
        let other = Leaders::new(&reversed).unwrap();
        assert_eq!(other.leader(2, 7), leaders.leader(2, 7));
    }

    #[test]
    fn a_bad_committee_has_no_leaders() {
        assert!(Leaders::new(&[]).is_none());
        let keys = committee(2);
        assert!(Leaders::new(&[keys[0], keys[1], keys[0]]).is_none());
    }

    #[test]
    fn skipped_views_are_missed_by_their_leaders() {
        let keys = committee(4);
        let leaders = Leaders::new(&keys).unwrap();
        let epoch = 1;
        // Views 3, 6 and 7 produced no block; view 1 is the epoch's first.
        let counted = count(&leaders, epoch, &[1, 2, 4, 5, 8]);
        let mut expected_missed = BTreeMap::<PublicKey, u64>::new();
        for view in [3, 6, 7] {
            *expected_missed
                .entry(leaders.leader(epoch, view))
                .or_default() += 1;
        }
        for key in &keys {
            assert_eq!(
                counted.missed(key),
                expected_missed.get(key).copied().unwrap_or(0),
                "{key}"
            );
            assert_eq!(
                counted.led(key),
                counted.produced(key) + counted.missed(key)
            );
        }
        assert_eq!(counted.last_view(), 8);
        assert_eq!(keys.iter().map(|k| counted.led(k)).sum::<u64>(), 8);
        // A first block in view 3: views 1 and 2 were missed, both by the
        // epoch's first leader.
        let late = count(&leaders, epoch, &[3]);
        let first = leaders.leader(epoch, 1);
        assert_eq!(leaders.leader(epoch, 2), first);
        assert_eq!(late.missed(&first), 2);
        assert_eq!(late.produced(&leaders.leader(epoch, 3)), 1);
        // A validator outside the committee led nothing.
        let outsider = Keypair::from_secret_bytes(&[99; 32]).public_key();
        assert_eq!(counted.led(&outsider), 0);
    }

    #[test]
    fn epoch_views_round_trip() {
        let leaders = Leaders::new(&committee(3)).unwrap();
        let counted = count(&leaders, 5, &[2, 3, 9]);
        let bytes = borsh::to_vec(&counted).unwrap();
        assert_eq!(borsh::from_slice::<EpochViews>(&bytes).unwrap(), counted);
    }

    proptest! {
        #[test]
        fn every_view_up_to_the_last_block_is_led_once(
            n in 1u8..8,
            epoch in 0u64..1000,
            gaps in proptest::collection::vec(1u64..6, 1..40),
        ) {
            let keys = committee(n);
            let leaders = Leaders::new(&keys).unwrap();
            let mut views = Vec::new();
            let mut view = 0;
            for gap in gaps {
                view += gap;
                views.push(view);
            }
            let counted = count(&leaders, epoch, &views);
            let led: u64 = keys.iter().map(|k| counted.led(k)).sum();
            let produced: u64 = keys.iter().map(|k| counted.produced(k)).sum();
            prop_assert_eq!(led, view);
            prop_assert_eq!(produced, views.len() as u64);
        }
    }

    fn elector(n: u64) -> EpochStartElector<Scheme> {
        let participants: Set<ed25519::PublicKey> = (0..n)
            .map(|seed| ed25519::PrivateKey::from_seed(seed).public_key())
            .try_collect()
            .unwrap();
        elector::Config::<Scheme>::build(EpochStartLeaders, &participants)
    }

    #[test]
    fn view_1_leader_leads_view_2_then_the_rotation_goes_on() {
        let elector = elector(4);
        for epoch in 0..6 {
            let leader = |view| elector.elect(Round::new(Epoch::new(epoch), View::new(view)), ());
            assert_eq!(leader(1), leader(2), "epoch {epoch}");
            // From view 2 on, every participant leads once in four views.
            let mut seen: Vec<Participant> = (2..6).map(leader).collect();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), 4, "epoch {epoch}");
            for view in 2..40 {
                assert_eq!(leader(view + 4), leader(view), "epoch {epoch} view {view}");
                assert_ne!(leader(view + 1), leader(view), "epoch {epoch} view {view}");
            }
        }
    }

    #[test]
    fn epochs_start_with_different_leaders() {
        let elector = elector(4);
        let first = |epoch| elector.elect(Round::new(Epoch::new(epoch), View::new(1)), ());
        let firsts: Vec<Participant> = (0..4).map(first).collect();
        let mut distinct = firsts.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 4, "{firsts:?}");
    }
}
