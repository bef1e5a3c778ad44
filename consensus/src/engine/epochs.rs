//! Engine epochs: which engine height belongs to which epoch (the
//! ledger's epochs, shifted by the anchor), and the signing scheme of each
//! epoch for marshal.

use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::sync::Arc;

use commonware_consensus::types::{Epoch, EpochInfo, Epocher, Height};
use commonware_cryptography::certificate::{Provider, Scoped};
use commonware_utils::sync::Mutex;

use super::Scheme;

/// The ledger's epochs in engine heights.
///
/// The ledger's epoch `e` holds our heights `e·L ..= (e+1)·L − 1` (it ends
/// with the block at position `L − 1`), and our height `h` is engine
/// height `h + 1` (the anchor is engine height 0). So engine epoch 0 is
/// `0 ..= L` (the anchor and the ledger's first epoch) and engine epoch
/// `e ≥ 1` is `e·L + 1 ..= (e+1)·L`: every block is voted on by the
/// committee of its ledger epoch, and the last block of a ledger epoch is
/// the boundary block simplex re-proposes until it is finalized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LedgerEpocher {
    length: u64,
}

impl LedgerEpocher {
    /// Epochs of `length` blocks (the ledger's `epoch_length_blocks`;
    /// `u64::MAX` for one epoch that never ends).
    pub(crate) const fn new(length: NonZeroU64) -> LedgerEpocher {
        LedgerEpocher {
            length: length.get(),
        }
    }

    fn bounds(&self, epoch: u64) -> Option<(u64, u64)> {
        let last = epoch.checked_add(1)?.checked_mul(self.length)?;
        let first = match epoch {
            0 => 0,
            _ => epoch.checked_mul(self.length)?.checked_add(1)?,
        };
        Some((first, last))
    }
}

impl Epocher for LedgerEpocher {
    fn containing(&self, height: Height) -> Option<EpochInfo> {
        let epoch = height.get().saturating_sub(1) / self.length;
        let (first, last) = self.bounds(epoch)?;
        Some(EpochInfo::new(
            Epoch::new(epoch),
            height,
            Height::new(first),
            Height::new(last),
        ))
    }

    fn first(&self, epoch: Epoch) -> Option<Height> {
        self.bounds(epoch.get())
            .map(|(first, _)| Height::new(first))
    }

    fn last(&self, epoch: Epoch) -> Option<Height> {
        self.bounds(epoch.get()).map(|(_, last)| Height::new(last))
    }
}

/// The most epochs whose full schemes [`EpochSchemes`] keeps (the current
/// one and a few before it, for marshal's backfill of notarized blocks).
const KEPT_EPOCHS: usize = 4;

/// Marshal's scheme provider: the full scheme of each epoch this validator
/// entered (a signer, or a verifier knowing the participants), and for
/// every other epoch a verifier of certificates under the group key, which
/// resharing keeps — so finalizations of every epoch verify.
#[derive(Clone)]
pub(crate) struct EpochSchemes {
    entered: Arc<Mutex<BTreeMap<u64, Arc<Scheme>>>>,
    any: Arc<Scheme>,
}

impl EpochSchemes {
    /// A provider verifying certificates with `any` (a certificate
    /// verifier of the group key).
    pub(crate) fn new(any: Scheme) -> EpochSchemes {
        EpochSchemes {
            entered: Arc::new(Mutex::new(BTreeMap::new())),
            any: Arc::new(any),
        }
    }

    /// Records `scheme` as `epoch`'s, forgetting the oldest past
    /// [`KEPT_EPOCHS`].
    pub(crate) fn enter(&self, epoch: u64, scheme: Scheme) {
        let mut entered = self.entered.lock();
        entered.insert(epoch, Arc::new(scheme));
        while entered.len() > KEPT_EPOCHS {
            entered.pop_first();
        }
    }
}

impl Provider for EpochSchemes {
    type Scope = Epoch;
    type Scheme = Scheme;

    fn scoped(&self, scope: Epoch) -> Option<Scoped<Scheme>> {
        Some(match self.entered.lock().get(&scope.get()) {
            Some(scheme) => Scoped::scheme(scheme.clone()),
            None => Scoped::verifier(self.any.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch_of(epocher: &LedgerEpocher, height: u64) -> u64 {
        epocher
            .containing(Height::new(height))
            .unwrap()
            .epoch()
            .get()
    }

    #[test]
    fn engine_epochs_are_the_ledger_epochs_shifted_by_the_anchor() {
        let length = 50;
        let epocher = LedgerEpocher::new(NonZeroU64::new(length).unwrap());
        for ours in 0..500u64 {
            // The ledger's epoch of our height, and engine height ours + 1.
            assert_eq!(epoch_of(&epocher, ours + 1), ours / length, "height {ours}");
        }
        assert_eq!(epoch_of(&epocher, 0), 0, "the anchor is in epoch 0");
        for epoch in 0..10u64 {
            let first = epocher.first(Epoch::new(epoch)).unwrap().get();
            let last = epocher.last(Epoch::new(epoch)).unwrap().get();
            assert_eq!(
                last,
                (epoch + 1) * length,
                "ends with the ledger's last block"
            );
            assert_eq!(epoch_of(&epocher, first), epoch);
            assert_eq!(epoch_of(&epocher, last), epoch);
            assert_eq!(epoch_of(&epocher, last + 1), epoch + 1);
        }
    }

    #[test]
    fn one_endless_epoch() {
        let epocher = LedgerEpocher::new(NonZeroU64::new(u64::MAX).unwrap());
        assert_eq!(epoch_of(&epocher, u64::MAX), 0);
        assert_eq!(epocher.last(Epoch::zero()).unwrap().get(), u64::MAX);
        assert!(epocher.first(Epoch::new(1)).is_none());
    }
}
