//! # Genesis
//!
//! The [`Genesis`] document fixes everything a chain starts from: its name
//! and start time, the initial balances, the bankroll, the validators and
//! the protocol parameters. It is written as JSON (read with
//! [`Genesis::from_json_bytes`], at most [`MAX_GENESIS_JSON_BYTES`], unknown
//! fields refused) and identified by its canonical borsh encoding:
//!
//! ```text
//! chain id = genesis hash = BLAKE3-derive-key("bitcraps v1 chain id from genesis", borsh(genesis))
//! ```
//!
//! Every signature on the chain covers the chain id, so changing any field of
//! the genesis — a balance, a parameter, the order of the accounts or
//! validators (which is kept as written) — makes a different chain on which
//! no old signature is valid. The first block's `parent` is this hash.
//!
//! [`Genesis::validate`] refuses a genesis no chain should start from:
//! duplicate accounts or validator keys, a supply that overflows 64 bits, a
//! validator below the minimum stake, parameters out of range. Each refusal
//! is a [`GenesisError`] that says what to fix.
//!
//! `dealer_beacon` is the explicit testnet shortcut the design allows: when
//! `true`, the beacon's group key may come from a trusted dealer instead of a
//! DKG. It defaults to `false` and is part of the chain id, so a chain that
//! used it can never pass for one that did not.
//!
//! `beacon_sharing` is the first epoch's public threshold sharing (the
//! output of the DKG, or of the dealer): its constant term is the group key
//! that verifies every finality certificate and every beacon σ for the life
//! of the chain (resharing keeps it). A chain that runs validators must
//! have one; with it, the validators must be listed in ascending
//! consensus-key order (the committee order of the BFT engine, so share `i`
//! belongs to validator `i` in both), one share each. A validator has no
//! beacon key of its own: its share is identified by its consensus key.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use game_rules::Chips;
use game_rules::crash::MAX_BETS_PER_ROUND;
use serde::{Deserialize, Serialize};
use wallet::{Address, ChainId, PublicKey};

use crate::beacon::{PublicSharing, ThresholdBeaconVerifier};
use crate::block::MAX_TXS_PER_BLOCK;
use crate::encoding::{BoundedString, BoundedVec, DecodeError, decode, encode};
use crate::hash::{Hash, HashDomain, hash};
use crate::tx::NetworkAddress;

/// The largest genesis JSON file read, in bytes; larger input is refused
/// before parsing.
pub const MAX_GENESIS_JSON_BYTES: usize = 16 * 1024 * 1024;

/// The largest borsh encoding of a genesis accepted by [`Genesis::decode`].
pub const MAX_GENESIS_BYTES: usize = 16 * 1024 * 1024;

/// The most initial accounts.
pub const MAX_GENESIS_ACCOUNTS: usize = 100_000;

/// The most validators a chain can have, at genesis or later (a bound for
/// the threshold beacon and BFT).
pub const MAX_VALIDATORS: usize = 256;

/// The longest chain name, in bytes.
pub const MAX_CHAIN_NAME_BYTES: usize = 64;

/// One basis point is 1/10,000.
pub const BPS_DENOMINATOR: u16 = 10_000;

/// An account that exists from the start.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// Its address (`craps1…`).
    pub address: Address,
    /// Its starting balance.
    pub balance: Chips,
}

/// The shared bankroll at the start.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisBankroll {
    /// The chips in it.
    pub initial: Chips,
    /// Who holds its initial pool shares.
    pub owner: Address,
}

/// A validator of the first epoch.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// Its ed25519 consensus key (hex); its stake belongs to this key's
    /// address.
    pub consensus_key: PublicKey,
    /// Where the other validators reach its validator-network endpoint
    /// (`host:port`, e.g. `127.0.0.1:7400`).
    pub network_address: NetworkAddress,
    /// Its bonded stake.
    pub stake: Chips,
}

/// The testnet faucet, when enabled.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct FaucetParams {
    /// The most one faucet transaction may mint (at least 1).
    pub max_per_request: Chips,
}

/// Protocol parameters, fixed at genesis.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Blocks per validator-set epoch (at least 1); set changes and a new
    /// DKG happen at epoch boundaries.
    pub epoch_length_blocks: u64,
    /// Blocks between an unstake and the release of the stake (at least one
    /// epoch, so evidence can still slash it).
    pub unbonding_blocks: u64,
    /// Blocks between a bankroll withdrawal request and its payment (at
    /// least 1).
    pub withdrawal_delay_blocks: u64,
    /// Blocks after which a round still waiting for randomness is void and
    /// refunded (at least 1).
    pub beacon_void_after_blocks: u64,
    /// The most a crash round may pay out in total, in basis points of the
    /// bankroll (300 = 3%; 1 to 10,000).
    pub crash_risk_cap_bps: u16,
    /// How long a crash round takes bets, in ms (at least 1).
    pub crash_betting_ms: u64,
    /// The pause between a crash and the next round's betting, in ms.
    pub crash_cooldown_ms: u64,
    /// The most bets in one crash round (1 to 10,000).
    pub crash_max_bets_per_round: u32,
    /// The least time between two craps rolls of a table, in ms (at least 1).
    pub craps_roll_interval_ms: u64,
    /// The most transactions in one block (1 to [`MAX_TXS_PER_BLOCK`]).
    pub max_block_txs: u32,
    /// The smallest fee a transaction may pay.
    pub min_fee: Chips,
    /// The testnet faucet; `None` (or absent) disables it.
    #[serde(default)]
    pub faucet: Option<FaucetParams>,
    /// The most open tables (at least 1).
    pub max_tables: u32,
    /// The largest `max_players` a table may have (at least 1).
    pub max_players_per_table: u16,
    /// The least stake of an active validator.
    pub min_validator_stake: Chips,
    /// The most active validators (1 to [`MAX_VALIDATORS`]).
    pub max_validators: u32,
    /// The share of its stake a validator loses for a double vote, in basis
    /// points (0 to 10,000).
    pub double_vote_slash_bps: u16,
}

impl Default for Params {
    /// Suggested values for a local testnet: 1,000-block epochs, a 2,000-block
    /// unbonding, a 100-block withdrawal delay, rounds void after 20 blocks
    /// without randomness, bustabit's 3% risk cap, 10 s of crash betting and
    /// 3 s of cooldown, a craps roll at most every 3 s, 1,000 transactions
    /// per block, a 1-chip fee, no faucet, 1,000 tables of up to 64 players,
    /// 1,000-chip minimum stake, 64 validators, 5% slashed for a double vote.
    fn default() -> Self {
        Params {
            epoch_length_blocks: 1_000,
            unbonding_blocks: 2_000,
            withdrawal_delay_blocks: 100,
            beacon_void_after_blocks: 20,
            crash_risk_cap_bps: 300,
            crash_betting_ms: 10_000,
            crash_cooldown_ms: 3_000,
            crash_max_bets_per_round: 1_000,
            craps_roll_interval_ms: 3_000,
            max_block_txs: 1_000,
            min_fee: Chips(1),
            faucet: None,
            max_tables: 1_000,
            max_players_per_table: 64,
            min_validator_stake: Chips(1_000),
            max_validators: 64,
            double_vote_slash_bps: 500,
        }
    }
}

impl Params {
    /// Checks every parameter's range (see each field).
    pub fn validate(&self) -> Result<(), GenesisError> {
        let bad = |param: &'static str, rule: &'static str| {
            Err(GenesisError::InvalidParam { param, rule })
        };
        if self.epoch_length_blocks == 0 {
            return bad("epoch_length_blocks", "must be at least 1");
        }
        if self.unbonding_blocks < self.epoch_length_blocks {
            return bad(
                "unbonding_blocks",
                "must be at least epoch_length_blocks, so evidence can still slash unbonding stake",
            );
        }
        if self.withdrawal_delay_blocks == 0 {
            return bad("withdrawal_delay_blocks", "must be at least 1");
        }
        if self.beacon_void_after_blocks == 0 {
            return bad("beacon_void_after_blocks", "must be at least 1");
        }
        if self.crash_risk_cap_bps == 0 || self.crash_risk_cap_bps > BPS_DENOMINATOR {
            return bad("crash_risk_cap_bps", "must be 1 to 10000 (300 is 3%)");
        }
        if self.crash_betting_ms == 0 {
            return bad("crash_betting_ms", "must be at least 1");
        }
        if self.crash_max_bets_per_round == 0 || self.crash_max_bets_per_round > MAX_BETS_PER_ROUND
        {
            return bad("crash_max_bets_per_round", "must be 1 to 10000");
        }
        if self.craps_roll_interval_ms == 0 {
            return bad("craps_roll_interval_ms", "must be at least 1");
        }
        if self.max_block_txs == 0 || self.max_block_txs as usize > MAX_TXS_PER_BLOCK {
            return bad("max_block_txs", "must be 1 to 4096 (MAX_TXS_PER_BLOCK)");
        }
        if let Some(faucet) = self.faucet
            && faucet.max_per_request == Chips::ZERO
        {
            return bad(
                "faucet.max_per_request",
                "must be at least 1 (omit the faucet to disable it)",
            );
        }
        if self.max_tables == 0 {
            return bad("max_tables", "must be at least 1");
        }
        if self.max_players_per_table == 0 {
            return bad("max_players_per_table", "must be at least 1");
        }
        if self.max_validators == 0 || self.max_validators as usize > MAX_VALIDATORS {
            return bad("max_validators", "must be 1 to 256 (MAX_VALIDATORS)");
        }
        if self.double_vote_slash_bps > BPS_DENOMINATOR {
            return bad("double_vote_slash_bps", "must be 0 to 10000");
        }
        Ok(())
    }
}

/// Why a genesis was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// The file is larger than [`MAX_GENESIS_JSON_BYTES`]; it was not parsed.
    #[error("the genesis file is {len} bytes, over the limit of {max}: refused before parsing")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The JSON does not describe a genesis.
    #[error("the genesis JSON is invalid: {reason}")]
    Json {
        /// What the parser said (with line and column).
        reason: String,
    },
    /// The chain name is empty.
    #[error("chain_name is empty: name the chain")]
    EmptyChainName,
    /// No validators.
    #[error("there are no validators: a chain needs at least one")]
    NoValidators,
    /// More validators than `max_validators`.
    #[error("{count} validators, over params.max_validators = {max}")]
    TooManyValidators {
        /// How many.
        count: usize,
        /// The maximum.
        max: u32,
    },
    /// An address listed twice in `accounts`.
    #[error("account {address} is listed twice: merge its balances into one entry")]
    DuplicateAccount {
        /// The address.
        address: Address,
    },
    /// A consensus key listed twice in `validators`.
    #[error("validator {index} has the same consensus key as an earlier validator")]
    DuplicateValidatorKey {
        /// The later validator's position.
        index: usize,
    },
    /// An empty network address.
    #[error("validator {index} has an empty network_address")]
    EmptyNetworkAddress {
        /// The validator's position.
        index: usize,
    },
    /// A validator's stake below `min_validator_stake`.
    #[error("validator {index} stakes {stake}, below params.min_validator_stake = {min}")]
    StakeBelowMinimum {
        /// The validator's position.
        index: usize,
        /// Its stake.
        stake: Chips,
        /// The minimum.
        min: Chips,
    },
    /// `beacon_sharing` has another number of shares than there are
    /// validators.
    #[error("beacon_sharing has {shares} shares for {validators} validators: one each")]
    SharingSize {
        /// Shares in the sharing.
        shares: u32,
        /// Validators listed.
        validators: usize,
    },
    /// Validators not in ascending consensus-key order (with a sharing).
    #[error(
        "validator {index} is listed out of order: with a beacon_sharing, list validators by ascending consensus_key"
    )]
    ValidatorsUnsorted {
        /// The first validator out of order.
        index: usize,
    },
    /// Balances, bankroll and stakes together exceed `u64::MAX` chips.
    #[error("the balances, bankroll and stakes add up to more than 2^64 - 1 chips")]
    SupplyOverflow,
    /// A parameter out of range.
    #[error("params.{param} {rule}")]
    InvalidParam {
        /// The parameter.
        param: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
}

/// The document a chain starts from. See the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// A human-readable name (e.g. `bitcraps-testnet-1`), at most
    /// [`MAX_CHAIN_NAME_BYTES`]; part of the chain id.
    pub chain_name: BoundedString<MAX_CHAIN_NAME_BYTES>,
    /// The agreed start time, ms since the Unix epoch; the first block's
    /// timestamp must be later.
    pub genesis_time_ms: u64,
    /// Initial balances, no address twice.
    pub accounts: BoundedVec<GenesisAccount, MAX_GENESIS_ACCOUNTS>,
    /// The bankroll.
    pub bankroll: GenesisBankroll,
    /// The first epoch's validators (1 to `params.max_validators`), in the
    /// order written.
    pub validators: BoundedVec<GenesisValidator, MAX_VALIDATORS>,
    /// Protocol parameters.
    pub params: Params,
    /// Whether the beacon may use a trusted dealer instead of a DKG
    /// (testnets only; defaults to `false`).
    #[serde(default)]
    pub dealer_beacon: bool,
    /// The first epoch's public threshold sharing (hex), whose group key
    /// verifies finality and the beacon; `None` only for a ledger run
    /// without validators (tests, tools). See the [module documentation](self).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon_sharing: Option<PublicSharing>,
}

impl Genesis {
    /// Reads and validates a genesis JSON file's bytes: at most
    /// [`MAX_GENESIS_JSON_BYTES`] (checked first), valid JSON with exactly
    /// the known fields, then [`Genesis::validate`]. Never panics.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Genesis, GenesisError> {
        if bytes.len() > MAX_GENESIS_JSON_BYTES {
            return Err(GenesisError::TooLarge {
                len: bytes.len(),
                max: MAX_GENESIS_JSON_BYTES,
            });
        }
        let genesis: Genesis = serde_json::from_slice(bytes).map_err(|e| GenesisError::Json {
            reason: e.to_string(),
        })?;
        genesis.validate()?;
        Ok(genesis)
    }

    /// Pretty-printed JSON, which [`Genesis::from_json_bytes`] reads back.
    pub fn to_json(&self) -> String {
        // Serializing these types to a string cannot fail: every map key is
        // a string and every value is representable in JSON.
        serde_json::to_string_pretty(self).expect("a genesis always serializes to JSON")
    }

    /// The canonical (borsh) encoding, which the chain id hashes.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a borsh-encoded genesis (at most [`MAX_GENESIS_BYTES`],
    /// canonical). Does not validate: call [`Genesis::validate`].
    pub fn decode(bytes: &[u8]) -> Result<Genesis, DecodeError> {
        decode("genesis", bytes, MAX_GENESIS_BYTES)
    }

    /// The genesis hash, `BLAKE3-derive-key("bitcraps v1 chain id from
    /// genesis", borsh(genesis))`: the first block's parent.
    pub fn hash(&self) -> Hash {
        hash(HashDomain::Genesis, &self.encode())
    }

    /// The chain id: the genesis hash's bytes.
    pub fn chain_id(&self) -> ChainId {
        ChainId::new(self.hash().to_bytes())
    }

    /// The total supply at the start: balances + bankroll + stakes, or
    /// `None` if it overflows.
    pub fn total_supply(&self) -> Option<Chips> {
        let mut total = self.bankroll.initial;
        for account in self.accounts.iter() {
            total = total.checked_add(account.balance)?;
        }
        for validator in self.validators.iter() {
            total = total.checked_add(validator.stake)?;
        }
        Some(total)
    }

    /// The verifier of this chain's beacon entries (the chain id and the
    /// group key of `beacon_sharing`), or `None` without a sharing.
    pub fn beacon_verifier(&self) -> Option<ThresholdBeaconVerifier> {
        self.beacon_sharing
            .as_ref()
            .map(|sharing| ThresholdBeaconVerifier {
                chain_id: self.chain_id(),
                group_key: *sharing.group_key(),
            })
    }

    /// Checks that a chain can start from this genesis (see
    /// [`GenesisError`] for each rule).
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.chain_name.trim().is_empty() {
            return Err(GenesisError::EmptyChainName);
        }
        self.params.validate()?;
        let mut addresses = BTreeSet::new();
        for account in self.accounts.iter() {
            if !addresses.insert(account.address) {
                return Err(GenesisError::DuplicateAccount {
                    address: account.address,
                });
            }
        }
        if self.validators.is_empty() {
            return Err(GenesisError::NoValidators);
        }
        if self.validators.len() > self.params.max_validators as usize {
            return Err(GenesisError::TooManyValidators {
                count: self.validators.len(),
                max: self.params.max_validators,
            });
        }
        let mut keys = BTreeSet::new();
        for (index, validator) in self.validators.iter().enumerate() {
            if !keys.insert(validator.consensus_key) {
                return Err(GenesisError::DuplicateValidatorKey { index });
            }
            if validator.network_address.trim().is_empty() {
                return Err(GenesisError::EmptyNetworkAddress { index });
            }
            if validator.stake < self.params.min_validator_stake {
                return Err(GenesisError::StakeBelowMinimum {
                    index,
                    stake: validator.stake,
                    min: self.params.min_validator_stake,
                });
            }
        }
        if let Some(sharing) = &self.beacon_sharing {
            self.check_sharing(sharing)?;
        }
        if self.total_supply().is_none() {
            return Err(GenesisError::SupplyOverflow);
        }
        Ok(())
    }

    /// The `beacon_sharing` rules: one share per validator, validators in
    /// ascending key order (share `i` is validator `i`'s).
    fn check_sharing(&self, sharing: &PublicSharing) -> Result<(), GenesisError> {
        if sharing.participants() as usize != self.validators.len() {
            return Err(GenesisError::SharingSize {
                shares: sharing.participants(),
                validators: self.validators.len(),
            });
        }
        for (index, pair) in self.validators.windows(2).enumerate() {
            if pair[0].consensus_key.as_bytes() >= pair[1].consensus_key.as_bytes() {
                return Err(GenesisError::ValidatorsUnsorted { index: index + 1 });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
