//! Leader election: round-robin, with the first leader of an epoch
//! leading its first two views.
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

use commonware_consensus::simplex::elector::{self, Elector, RoundRobin, Scheduled, Terms};
use commonware_consensus::types::{Participant, Round, View};
use commonware_cryptography::Sha256;
use commonware_cryptography::certificate::Scheme as CertificateScheme;
use commonware_utils::ordered::Set;

/// The elector configuration handed to simplex (see the module docs).
#[derive(Clone, Debug, Default)]
pub(super) struct EpochStartLeaders;

/// The elector configuration every validator's simplex engine uses.
pub(super) fn elector_config() -> EpochStartLeaders {
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
pub(super) struct EpochStartElector<S: CertificateScheme> {
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

#[cfg(test)]
mod tests {
    use commonware_consensus::types::Epoch;
    use commonware_cryptography::{Signer as _, ed25519};
    use commonware_utils::TryCollect as _;

    use super::*;
    use crate::engine::Scheme;

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
