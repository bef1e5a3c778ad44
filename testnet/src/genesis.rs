//! # Keys and the genesis of a testnet
//!
//! Every fresh testnet gets new keys from the operating system's
//! generator:
//!
//! - **validators**: an ed25519 identity each and a share of the group's
//!   BLS12-381 threshold key from a **trusted dealer**
//!   (`consensus::engine::dealer_committee` from a random seed, threshold
//!   2f + 1), the explicit testnet shortcut — the genesis says
//!   `dealer_beacon = true`, and whoever holds the testnet directory could
//!   compute every roll in advance. The validators are listed in committee
//!   order (ascending key), validator `i` holding share `i`; the genesis
//!   carries the public sharing (`beacon_sharing`) whose group key verifies
//!   finality and randomness, and each validator's key file is written with
//!   `node::validator::ValidatorKeyFile` (mode 0600);
//! - **wallets**: funded player accounts, each written as an encrypted
//!   keystore with its random password next to it (mode 0600) — player node
//!   `i` spends from wallet `i`, the rest are for people and scripts;
//! - **the bankroll owner**: holds the bankroll's initial pool shares (its
//!   keystore is written too);
//! - **validator keystores**: each validator's identity is also its
//!   account's key, so it is written as a keystore too
//!   (`wallets/validator-<i>.json` and `.password`): an operator signs the
//!   validator's `bitcraps validator stake|unstake` with it;
//! - **validator accounts**: each validator's own address holds
//!   [`VALIDATOR_FEE_FUND`] chips, because fees are burned and a validator
//!   pays the fee of the slashing transactions it reports.
//!
//! The chain name gets a random suffix, so two fresh testnets never share
//! a chain id (and a stale node of an old one is refused by the new one).
//! The faucet is on unless the manifest sets its maximum to 0.

use std::path::{Path, PathBuf};

use consensus::beacon::PublicSharing;
use consensus::encoding::{BoundedString, BoundedVec};
use consensus::engine::{ValidatorKeys, dealer_committee};
use consensus::genesis::{FaucetParams, Genesis, GenesisAccount, GenesisBankroll, Params};
use consensus::tx::NetworkAddress;
use game_rules::Chips;
use node::validator::ValidatorKeyFile;
use wallet::{KdfParams, Keypair, Keystore};

use crate::layout::{Layout, Role};

/// The keystores' key derivation: Argon2id with 19 MiB and 2 passes (the
/// OWASP minimum) — cheaper than the wallet default, so a testnet with
/// many wallets starts quickly; these keys guard testnet chips only.
pub fn testnet_kdf() -> KdfParams {
    KdfParams::new(19 * 1024, 2, 1).expect("valid Argon2 parameters")
}

/// Why keys or the genesis could not be made.
#[derive(Debug, thiserror::Error)]
pub enum GenesisBuildError {
    /// The operating system's random generator failed.
    #[error("the operating system's random generator failed: {0}")]
    Randomness(String),
    /// The dealer refused.
    #[error("the beacon dealer refused: {0}")]
    Dealer(String),
    /// The genesis is invalid (a manifest value the chain refuses).
    #[error("the genesis is invalid: {0}; adjust the manifest's [chain] table")]
    Invalid(String),
    /// A file could not be written.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// A validator's secrets.
#[derive(Debug)]
pub struct ValidatorSecrets {
    /// The node name it belongs to (`validator-<i>`, in genesis order).
    pub name: String,
    /// Its identity and beacon share.
    pub keys: ValidatorKeys,
}

impl ValidatorSecrets {
    /// Writes this validator's key file (the validator core's format, mode
    /// 0600).
    pub fn write_key_file(&self, path: &Path) -> Result<(), GenesisBuildError> {
        ValidatorKeyFile::write(path, &self.keys).map_err(|e| GenesisBuildError::Write {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }
}

/// A funded wallet and where its keystore and password are.
#[derive(Debug)]
pub struct WalletFiles {
    /// Its address.
    pub address: wallet::Address,
    /// The keystore file.
    pub keystore: PathBuf,
    /// The password file.
    pub password: PathBuf,
}

/// Everything a fresh testnet is made of.
#[derive(Debug)]
pub struct Material {
    /// The genesis.
    pub genesis: Genesis,
    /// The validators' secrets, in genesis order.
    pub validators: Vec<ValidatorSecrets>,
    /// The funded wallets (not yet written: see [`Material::write`]).
    pub wallets: Vec<Keypair>,
    /// The bankroll owner.
    pub bankroll_owner: Keypair,
    /// The public sharing (also in the genesis).
    pub sharing: PublicSharing,
}

fn random_bytes<const N: usize>() -> Result<[u8; N], GenesisBuildError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| GenesisBuildError::Randomness(e.to_string()))?;
    Ok(bytes)
}

fn keypair() -> Result<Keypair, GenesisBuildError> {
    Keypair::generate().map_err(|e| GenesisBuildError::Randomness(e.to_string()))
}

/// The chips each validator's own account starts with: enough for the
/// fees of the slashing transactions it reports (fees are burned, so a
/// validator's account never fills up by itself).
pub const VALIDATOR_FEE_FUND: u64 = 10_000;

/// Makes the keys and the genesis of `layout` (whose validator nodes, in
/// order, become the genesis validators), starting at `genesis_time_ms`.
pub fn build(layout: &Layout, genesis_time_ms: u64) -> Result<Material, GenesisBuildError> {
    let manifest = &layout.manifest;
    let chain = &manifest.chain;
    let validator_nodes: Vec<_> = layout
        .nodes
        .iter()
        .filter(|n| n.role == Role::Validator)
        .collect();
    let n = validator_nodes.len() as u32;
    let committee = dealer_committee(n, &random_bytes::<32>()?)
        .map_err(|e| GenesisBuildError::Dealer(e.to_string()))?;
    let addresses = validator_nodes
        .iter()
        .map(|node| {
            let port = node
                .validator_port
                .expect("validators have a validator port");
            NetworkAddress::new(format!("127.0.0.1:{port}"))
                .map_err(|e| GenesisBuildError::Invalid(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let genesis_validators = committee
        .genesis_validators(Chips(chain.validator_stake), &addresses)
        .map_err(|e| GenesisBuildError::Dealer(e.to_string()))?;
    let sharing = committee
        .beacon_sharing()
        .map_err(|e| GenesisBuildError::Dealer(e.to_string()))?;
    let validators = validator_nodes
        .iter()
        .zip(committee.validators)
        .map(|(node, keys)| ValidatorSecrets {
            name: node.name.clone(),
            keys,
        })
        .collect();

    let wallets: Vec<Keypair> = (0..chain.wallets)
        .map(|_| keypair())
        .collect::<Result<_, _>>()?;
    let bankroll_owner = keypair()?;
    let accounts = wallets
        .iter()
        .map(|w| GenesisAccount {
            address: w.address(),
            balance: Chips(chain.wallet_balance),
        })
        .chain(genesis_validators.iter().map(|v| GenesisAccount {
            address: wallet::Address::from_public_key(&v.consensus_key),
            balance: Chips(VALIDATOR_FEE_FUND),
        }))
        .collect();
    let suffix = hex::encode(random_bytes::<4>()?);
    let params = Params {
        crash_betting_ms: chain.crash_betting_ms,
        crash_cooldown_ms: chain.crash_cooldown_ms,
        craps_roll_interval_ms: chain.craps_roll_interval_ms,
        faucet: (chain.faucet_max_per_request > 0).then_some(FaucetParams {
            max_per_request: Chips(chain.faucet_max_per_request),
        }),
        min_fee: Chips(chain.min_fee),
        epoch_length_blocks: chain.epoch_length_blocks,
        unbonding_blocks: chain.unbonding_blocks,
        min_validator_stake: Chips(
            chain
                .validator_stake
                .min(Params::default().min_validator_stake.0),
        ),
        ..Params::default()
    };
    let genesis = Genesis {
        chain_name: BoundedString::new(format!("{}-{suffix}", chain.name))
            .map_err(|e| GenesisBuildError::Invalid(e.to_string()))?,
        genesis_time_ms,
        accounts: BoundedVec::new(accounts)
            .map_err(|e| GenesisBuildError::Invalid(e.to_string()))?,
        bankroll: GenesisBankroll {
            initial: Chips(chain.bankroll),
            owner: bankroll_owner.address(),
        },
        validators: BoundedVec::new(genesis_validators)
            .map_err(|e| GenesisBuildError::Invalid(e.to_string()))?,
        params,
        dealer_beacon: true,
        beacon_sharing: Some(sharing.clone()),
    };
    genesis
        .validate()
        .map_err(|e| GenesisBuildError::Invalid(e.to_string()))?;
    Ok(Material {
        genesis,
        validators,
        wallets,
        bankroll_owner,
        sharing,
    })
}

impl Material {
    /// Writes the genesis to `layout.genesis_file()` and every wallet's
    /// keystore and password under `layout.wallets_dir()`
    /// (`wallet-<i>.json`/`.password`, `bankroll.json`/`.password`, and
    /// each validator's `validator-<i>.json`/`.password`). Returns the
    /// funded wallets' files, in order.
    pub fn write(&self, layout: &Layout) -> Result<Vec<WalletFiles>, GenesisBuildError> {
        let genesis_file = layout.genesis_file();
        write_private(&genesis_file, self.genesis.to_json().as_bytes(), false)?;
        let dir = layout.wallets_dir();
        let mut files = Vec::new();
        for (i, keypair) in self.wallets.iter().enumerate() {
            files.push(write_wallet(&dir, &format!("wallet-{i}"), keypair)?);
        }
        write_wallet(&dir, "bankroll", &self.bankroll_owner)?;
        for validator in &self.validators {
            write_wallet(&dir, &validator.name, &validator.keys.keypair())?;
        }
        Ok(files)
    }
}

/// Writes a keystore `<dir>/<stem>.json` and its password
/// `<dir>/<stem>.password`.
fn write_wallet(
    dir: &Path,
    stem: &str,
    keypair: &Keypair,
) -> Result<WalletFiles, GenesisBuildError> {
    let password = hex::encode(random_bytes::<16>()?);
    let keystore_path = dir.join(format!("{stem}.json"));
    let password_path = dir.join(format!("{stem}.password"));
    let keystore = Keystore::encrypt(keypair, password.as_bytes(), testnet_kdf()).map_err(|e| {
        GenesisBuildError::Write {
            path: keystore_path.clone(),
            reason: e.to_string(),
        }
    })?;
    write_private(&keystore_path, keystore.to_json().as_bytes(), true)?;
    write_private(&password_path, format!("{password}\n").as_bytes(), true)?;
    Ok(WalletFiles {
        address: keypair.address(),
        keystore: keystore_path,
        password: password_path,
    })
}

/// Writes a file (creating its directory), mode 0600 when `private`.
pub(crate) fn write_private(
    path: &Path,
    bytes: &[u8],
    private: bool,
) -> Result<(), GenesisBuildError> {
    use std::io::Write as _;
    let error = |e: std::io::Error| GenesisBuildError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = options.open(path).map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    file.sync_all().map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    #[test]
    fn a_fresh_genesis_is_valid_sorted_and_binds_the_shares() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = Manifest {
            validators: 4,
            players: 1,
            ..Manifest::default()
        };
        let layout = Layout::plan(dir.path(), Path::new("/bin/bitcraps"), &manifest);
        let material = build(&layout, 1_700_000_000_000).unwrap();
        let genesis = &material.genesis;
        assert!(genesis.dealer_beacon);
        assert_eq!(genesis.validators.len(), 4);
        assert_eq!(
            genesis.accounts.len(),
            manifest.chain.wallets as usize + 4,
            "the wallets and the validators' own accounts"
        );
        assert!(genesis.chain_name.starts_with("bitcraps-local-"));
        assert!(genesis.params.faucet.is_some());
        for (i, v) in material.validators.iter().enumerate() {
            assert_eq!(v.name, format!("validator-{i}"));
            assert_eq!(
                genesis.validators[i].consensus_key,
                v.keys.keypair().public_key()
            );
            let path = dir.path().join(format!("v{i}.key"));
            v.write_key_file(&path).unwrap();
            let read = ValidatorKeyFile::read(&path).unwrap();
            assert_eq!(read.keypair().public_key(), v.keys.keypair().public_key());
        }
        assert!(genesis.beacon_verifier().is_some());
        // Reads back as the same chain.
        let files = material.write(&layout).unwrap();
        let read =
            Genesis::from_json_bytes(&std::fs::read(layout.genesis_file()).unwrap()).unwrap();
        assert_eq!(read.chain_id(), genesis.chain_id());
        let password = std::fs::read_to_string(&files[0].password).unwrap();
        let keystore = Keystore::read(&files[0].keystore).unwrap();
        let opened = keystore.decrypt(password.trim().as_bytes()).unwrap();
        assert_eq!(opened.address(), material.wallets[0].address());
        // Two fresh testnets are two chains.
        let other = build(&layout, 1_700_000_000_000).unwrap();
        assert_ne!(other.genesis.chain_id(), genesis.chain_id());
    }
}
