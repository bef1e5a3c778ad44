//! The ledger's view of the beacon: [`ThresholdBeaconVerifier`].

use wallet::ChainId;

use super::{BeaconMessage, GroupKey, verify_beacon};
use crate::hash::BlockHash;
use crate::ledger::{BeaconError, BeaconVerifier};

/// Checks a block's beacon entries against the threshold group key: the
/// ledger's [`BeaconVerifier`] backed by [`verify_beacon`].
///
/// σ for `(epoch, height, block_hash)` must be the unique, canonically
/// encoded BLS signature of the [`BeaconMessage`] `(chain_id, epoch,
/// height, block_hash)` under `group_key`. Deterministic: it reads no
/// clock and no local state, so every node accepts exactly the same σ.
///
/// One group key covers every epoch: resharing keeps the group key, so
/// the epoch only enters as part of the signed message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThresholdBeaconVerifier {
    /// The chain whose messages are signed.
    pub chain_id: ChainId,
    /// The group public key of the validators' threshold sharing.
    pub group_key: GroupKey,
}

impl BeaconVerifier for ThresholdBeaconVerifier {
    fn verify(
        &self,
        epoch: u64,
        height: u64,
        block_hash: &BlockHash,
        signature: &[u8],
    ) -> Result<(), BeaconError> {
        let message = BeaconMessage {
            chain_id: self.chain_id,
            epoch,
            height,
            block: *block_hash,
        };
        verify_beacon(&self.group_key, &message, signature)
            .map_err(|e| BeaconError::new(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::beacon::{BeaconAggregator, BeaconSigner, dealer_keys};
    use crate::hash::Hash;
    use wallet::Keypair;

    #[test]
    fn threshold_verifier_accepts_sigma_and_refuses_others() {
        let chain_id = ChainId::new([3; 32]);
        let keys = dealer_keys(4, &[5; 32]).unwrap();
        let pairs: Vec<Keypair> = (0..4u8)
            .map(|i| Keypair::from_secret_bytes(&[i + 1; 32]))
            .collect();
        let mut aggregator = BeaconAggregator::new(
            chain_id,
            0,
            keys.sharing.clone(),
            pairs.iter().map(Keypair::public_key).collect(),
        )
        .unwrap();
        let block = Hash::new([9; 32]);
        let message = BeaconMessage {
            chain_id,
            epoch: 0,
            height: 12,
            block,
        };
        let mut sigma = None;
        for (share, pair) in keys.shares.into_iter().zip(&pairs).take(3) {
            let signer = BeaconSigner::new(0, share, &keys.sharing).unwrap();
            let signed = signer.sign_sealed(&message, pair).unwrap();
            if let Some(recovered) = aggregator.add(signed).unwrap() {
                sigma = Some(recovered.signature);
            }
        }
        let sigma = sigma.expect("3 of 4 shares recover σ");
        let verifier = ThresholdBeaconVerifier {
            chain_id,
            group_key: *keys.sharing.group_key(),
        };
        verifier.verify(0, 12, &block, &sigma).unwrap();
        // Another height, block, epoch or chain; a flipped bit; a short σ;
        // another group's key.
        assert!(verifier.verify(0, 13, &block, &sigma).is_err());
        assert!(verifier.verify(0, 12, &Hash::new([8; 32]), &sigma).is_err());
        assert!(verifier.verify(1, 12, &block, &sigma).is_err());
        let other_chain = ThresholdBeaconVerifier {
            chain_id: ChainId::new([4; 32]),
            ..verifier.clone()
        };
        assert!(other_chain.verify(0, 12, &block, &sigma).is_err());
        let mut flipped = sigma;
        flipped[10] ^= 1;
        assert!(verifier.verify(0, 12, &block, &flipped).is_err());
        assert!(verifier.verify(0, 12, &block, &sigma[..47]).is_err());
        let other_group = ThresholdBeaconVerifier {
            chain_id,
            group_key: *dealer_keys(4, &[6; 32]).unwrap().sharing.group_key(),
        };
        assert!(other_group.verify(0, 12, &block, &sigma).is_err());
    }
}
