//! Committee keys for tests and testnets: ed25519 identities and dealer-made
//! threshold shares.

use commonware_cryptography::bls12381::dkg::feldman_desmedt;
use commonware_cryptography::bls12381::primitives::group::Share;
use commonware_cryptography::bls12381::primitives::sharing::{Mode, Sharing};
use commonware_cryptography::bls12381::primitives::variant::{MinSig, Variant};
use commonware_cryptography::{Signer as _, ed25519};
use commonware_utils::{N3f1, TryCollect as _, ordered::Set};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;

use commonware_codec::Encode as _;
use game_rules::Chips;
use wallet::Keypair;
use zeroize::Zeroizing;

use super::EngineError;
use crate::beacon::{PublicSharing, SecretShare, dkg};
use crate::genesis::GenesisValidator;
use crate::tx::NetworkAddress;

/// The BLAKE3 key-derivation context that turns a committee seed into the
/// seeds of the identities and of the dealer.
const COMMITTEE_SEED_CONTEXT: &str = "bitcraps v1 testnet consensus committee";

/// One validator's keys.
#[derive(Clone, Debug)]
pub struct ValidatorKeys {
    /// The ed25519 identity (p2p, committee order, leader election).
    pub identity: ed25519::PrivateKey,
    /// Its share of the group's BLS12-381 secret.
    pub share: Share,
}

/// A committee: the identities in canonical order, the public polynomial
/// and each validator's keys (in the same order as `participants`).
#[derive(Clone, Debug)]
pub struct Committee {
    /// The ed25519 identities, sorted.
    pub participants: Set<ed25519::PublicKey>,
    /// The public polynomial; its constant term is the group key.
    pub sharing: Sharing<MinSig>,
    /// Each validator's keys, in `participants` order.
    pub validators: Vec<ValidatorKeys>,
}

impl Committee {
    /// The group public key (96 bytes for MinSig): all a light client needs.
    pub fn group_key(&self) -> <MinSig as Variant>::Public {
        *self.sharing.public()
    }

    /// The same sharing as the beacon sees it (one threshold key serves
    /// consensus and the beacon, under separate namespaces).
    pub fn beacon_sharing(&self) -> Result<PublicSharing, EngineError> {
        PublicSharing::from_sharing(self.sharing.clone())
            .map_err(|e| EngineError::InvalidConfig(e.to_string()))
    }

    /// The genesis entries of this committee, in committee order (which is
    /// ascending key order, as a genesis with a `beacon_sharing` requires):
    /// validator `i` stakes `stake` and is reached at `addresses[i]`.
    pub fn genesis_validators(
        &self,
        stake: Chips,
        addresses: &[NetworkAddress],
    ) -> Result<Vec<GenesisValidator>, EngineError> {
        if addresses.len() != self.validators.len() {
            return Err(EngineError::InvalidConfig(format!(
                "{} addresses for {} validators",
                addresses.len(),
                self.validators.len()
            )));
        }
        Ok(self
            .validators
            .iter()
            .zip(addresses)
            .map(|(keys, address)| GenesisValidator {
                consensus_key: keys.keypair().public_key(),
                network_address: address.clone(),
                stake,
            })
            .collect())
    }
}

impl ValidatorKeys {
    /// The identity as a wallet keypair (the same ed25519 key: it signs
    /// the validator's transactions and its beacon share envelopes).
    pub fn keypair(&self) -> Keypair {
        let mut secret = Zeroizing::new([0u8; Keypair::SECRET_LENGTH]);
        secret.copy_from_slice(&self.identity.encode());
        Keypair::from_secret_bytes(&secret)
    }

    /// The share as the beacon signer takes it.
    pub fn beacon_share(&self) -> SecretShare {
        dkg::secret_share(self.share.clone())
    }
}

/// **Testnet shortcut:** `n` validators whose ed25519 identities and
/// threshold shares (threshold `2f + 1`) are derived from `seed` by a trusted
/// dealer. Whoever knows the seed knows the group secret: never for a chain
/// whose randomness must be fair (the genesis must say `dealer_beacon`).
/// The same seed and `n` always give the same committee.
pub fn dealer_committee(n: u32, seed: &[u8; 32]) -> Result<Committee, EngineError> {
    if n == 0 {
        return Err(EngineError::InvalidConfig(
            "a committee needs at least one validator".into(),
        ));
    }
    let master = blake3::derive_key(COMMITTEE_SEED_CONTEXT, seed);
    let identities: Vec<ed25519::PrivateKey> = (0..n)
        .map(|i| {
            let mut hasher = blake3::Hasher::new_keyed(&master);
            hasher.update(b"identity");
            hasher.update(&i.to_le_bytes());
            let bytes = *hasher.finalize().as_bytes();
            ed25519::PrivateKey::from_seed(u64::from_le_bytes(
                bytes[..8].try_into().expect("8 bytes"),
            ))
        })
        .collect();
    let participants: Set<ed25519::PublicKey> = identities
        .iter()
        .map(|key| key.public_key())
        .try_collect()
        .map_err(|_| EngineError::InvalidConfig("two identities collide".into()))?;
    let mut dealer_seed = blake3::Hasher::new_keyed(&master);
    dealer_seed.update(b"dealer");
    let rng = ChaCha20Rng::from_seed(*dealer_seed.finalize().as_bytes());
    let (output, shares) = feldman_desmedt::deal::<MinSig, ed25519::PublicKey, N3f1>(
        rng,
        Mode::NonZeroCounter,
        participants.clone(),
    )
    .map_err(|e| EngineError::InvalidConfig(e.to_string()))?;
    let mut validators = Vec::with_capacity(n as usize);
    for participant in participants.iter() {
        let identity = identities
            .iter()
            .find(|key| key.public_key() == *participant)
            .expect("every participant has an identity")
            .clone();
        let share = shares
            .get_value(participant)
            .expect("the dealer gives every participant a share")
            .clone();
        validators.push(ValidatorKeys { identity, share });
    }
    Ok(Committee {
        participants,
        sharing: output.public().clone(),
        validators,
    })
}
