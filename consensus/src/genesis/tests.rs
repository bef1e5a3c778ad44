use super::*;
use proptest::prelude::*;
use wallet::Keypair;

fn keypair(seed: u8) -> Keypair {
    Keypair::from_secret_bytes(&[seed; 32])
}

fn validator(seed: u8) -> GenesisValidator {
    GenesisValidator {
        consensus_key: keypair(seed).public_key(),
        network_address: format!("/ip4/127.0.0.1/tcp/{}", 9000 + u16::from(seed))
            .parse()
            .unwrap(),
        stake: Chips(10_000),
    }
}

fn sample() -> Genesis {
    Genesis {
        chain_name: "bitcraps-testnet-1".parse().unwrap(),
        genesis_time_ms: 1_750_000_000_000,
        accounts: BoundedVec::new(vec![
            GenesisAccount {
                address: keypair(1).address(),
                balance: Chips(1_000_000),
            },
            GenesisAccount {
                address: keypair(2).address(),
                balance: Chips(500),
            },
        ])
        .unwrap(),
        bankroll: GenesisBankroll {
            initial: Chips(10_000_000),
            owner: keypair(1).address(),
        },
        validators: BoundedVec::new(vec![
            validator(11),
            validator(12),
            validator(13),
            validator(14),
        ])
        .unwrap(),
        params: Params {
            faucet: Some(FaucetParams {
                max_per_request: Chips(1_000),
            }),
            ..Params::default()
        },
        dealer_beacon: true,
        beacon_sharing: None,
    }
}

#[test]
fn the_sample_is_valid_and_round_trips_in_json_and_borsh() {
    let genesis = sample();
    assert_eq!(genesis.validate(), Ok(()));
    let json = genesis.to_json();
    assert_eq!(
        Genesis::from_json_bytes(json.as_bytes()),
        Ok(genesis.clone())
    );
    assert_eq!(Genesis::decode(&genesis.encode()), Ok(genesis.clone()));
    assert_eq!(
        genesis.total_supply(),
        Some(Chips(1_000_000 + 500 + 10_000_000 + 40_000))
    );
}

#[test]
fn json_uses_the_text_forms() {
    let genesis = sample();
    let json: serde_json::Value = serde_json::from_str(&genesis.to_json()).unwrap();
    let address = json["accounts"][0]["address"].as_str().unwrap();
    assert!(address.starts_with("craps1"));
    assert_eq!(json["accounts"][0]["balance"], 1_000_000);
    assert_eq!(
        json["validators"][0]["consensus_key"],
        keypair(11).public_key().to_string()
    );
    let fields: Vec<_> = json["validators"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, ["consensus_key", "network_address", "stake"]);
    assert_eq!(json["params"]["crash_risk_cap_bps"], 300);
    assert_eq!(json["params"]["faucet"]["max_per_request"], 1_000);
    assert_eq!(json["dealer_beacon"], true);
}

#[test]
fn optional_fields_default_and_unknown_fields_are_refused() {
    let mut json: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
    let object = json.as_object_mut().unwrap();
    object.remove("dealer_beacon");
    object["params"].as_object_mut().unwrap().remove("faucet");
    let genesis = Genesis::from_json_bytes(json.to_string().as_bytes()).unwrap();
    assert!(!genesis.dealer_beacon);
    assert_eq!(genesis.params.faucet, None);

    let mut with_extra = json.clone();
    with_extra["params"]["crash_risk_cap_pct"] = 3.into();
    assert!(matches!(
        Genesis::from_json_bytes(with_extra.to_string().as_bytes()),
        Err(GenesisError::Json { .. })
    ));
    let mut missing = json.clone();
    missing["params"].as_object_mut().unwrap().remove("min_fee");
    assert!(matches!(
        Genesis::from_json_bytes(missing.to_string().as_bytes()),
        Err(GenesisError::Json { .. })
    ));
    let mut bad_address = json.clone();
    bad_address["accounts"][0]["address"] = "craps1notanaddress".into();
    assert!(matches!(
        Genesis::from_json_bytes(bad_address.to_string().as_bytes()),
        Err(GenesisError::Json { .. })
    ));
    let mut control = json;
    control["chain_name"] = "bad\nname".into();
    assert!(matches!(
        Genesis::from_json_bytes(control.to_string().as_bytes()),
        Err(GenesisError::Json { .. })
    ));
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let len = MAX_GENESIS_JSON_BYTES + 1;
    assert_eq!(
        Genesis::from_json_bytes(&vec![b' '; len]),
        Err(GenesisError::TooLarge {
            len,
            max: MAX_GENESIS_JSON_BYTES
        })
    );
}

#[test]
fn the_chain_id_is_the_genesis_hash_in_its_domain() {
    let genesis = sample();
    assert_eq!(genesis.hash(), hash(HashDomain::Genesis, &encode(&genesis)));
    assert_eq!(genesis.chain_id().as_bytes(), genesis.hash().as_bytes());
}

#[test]
fn the_chain_id_changes_when_any_field_changes() {
    type Change = fn(&mut Genesis);
    let changes: Vec<(&str, Change)> = vec![
        ("chain_name", |g| {
            g.chain_name = "bitcraps-testnet-2".parse().unwrap()
        }),
        ("genesis_time_ms", |g| g.genesis_time_ms += 1),
        ("account balance", |g| {
            let mut a = g.accounts.to_vec();
            a[0].balance = Chips(a[0].balance.get() + 1);
            g.accounts = BoundedVec::new(a).unwrap();
        }),
        ("account address", |g| {
            let mut a = g.accounts.to_vec();
            a[1].address = keypair(3).address();
            g.accounts = BoundedVec::new(a).unwrap();
        }),
        ("account order", |g| {
            let mut a = g.accounts.to_vec();
            a.swap(0, 1);
            g.accounts = BoundedVec::new(a).unwrap();
        }),
        ("extra account", |g| {
            let mut a = g.accounts.to_vec();
            a.push(GenesisAccount {
                address: keypair(4).address(),
                balance: Chips(0),
            });
            g.accounts = BoundedVec::new(a).unwrap();
        }),
        ("bankroll initial", |g| g.bankroll.initial = Chips(1)),
        ("bankroll owner", |g| {
            g.bankroll.owner = keypair(2).address()
        }),
        ("validator key", |g| {
            let mut v = g.validators.to_vec();
            v[0].consensus_key = keypair(99).public_key();
            g.validators = BoundedVec::new(v).unwrap();
        }),
        ("validator address", |g| {
            let mut v = g.validators.to_vec();
            v[0].network_address = "/dns/x/tcp/1".parse().unwrap();
            g.validators = BoundedVec::new(v).unwrap();
        }),
        ("validator stake", |g| {
            let mut v = g.validators.to_vec();
            v[0].stake = Chips(10_001);
            g.validators = BoundedVec::new(v).unwrap();
        }),
        ("validator order", |g| {
            let mut v = g.validators.to_vec();
            v.swap(0, 3);
            g.validators = BoundedVec::new(v).unwrap();
        }),
        ("epoch_length_blocks", |g| g.params.epoch_length_blocks += 1),
        ("unbonding_blocks", |g| g.params.unbonding_blocks += 1),
        ("withdrawal_delay_blocks", |g| {
            g.params.withdrawal_delay_blocks += 1
        }),
        ("beacon_void_after_blocks", |g| {
            g.params.beacon_void_after_blocks += 1
        }),
        ("crash_risk_cap_bps", |g| g.params.crash_risk_cap_bps += 1),
        ("crash_betting_ms", |g| g.params.crash_betting_ms += 1),
        ("crash_cooldown_ms", |g| g.params.crash_cooldown_ms += 1),
        ("crash_max_bets_per_round", |g| {
            g.params.crash_max_bets_per_round += 1
        }),
        ("craps_roll_interval_ms", |g| {
            g.params.craps_roll_interval_ms += 1
        }),
        ("max_block_txs", |g| g.params.max_block_txs += 1),
        ("min_fee", |g| g.params.min_fee = Chips(2)),
        ("faucet off", |g| g.params.faucet = None),
        ("faucet max", |g| {
            g.params.faucet = Some(FaucetParams {
                max_per_request: Chips(1_001),
            })
        }),
        ("max_tables", |g| g.params.max_tables += 1),
        ("max_players_per_table", |g| {
            g.params.max_players_per_table += 1
        }),
        ("min_validator_stake", |g| {
            g.params.min_validator_stake = Chips(1)
        }),
        ("max_validators", |g| g.params.max_validators += 1),
        ("double_vote_slash_bps", |g| {
            g.params.double_vote_slash_bps += 1
        }),
        ("dealer_beacon", |g| g.dealer_beacon = false),
    ];
    let base = sample();
    let mut ids = std::collections::BTreeMap::new();
    ids.insert(base.chain_id(), "base");
    for (name, change) in changes {
        let mut changed = base.clone();
        change(&mut changed);
        assert_ne!(changed, base, "{name} changed nothing");
        assert_eq!(changed.validate(), Ok(()), "{name}");
        if let Some(other) = ids.insert(changed.chain_id(), name) {
            panic!("{name} gives the same chain id as {other}");
        }
    }
}

#[test]
fn validate_refuses_what_no_chain_should_start_from() {
    type Change = fn(&mut Genesis);
    let cases: Vec<(Change, GenesisError)> = vec![
        (
            |g| g.chain_name = " ".parse().unwrap(),
            GenesisError::EmptyChainName,
        ),
        (
            |g| g.validators = BoundedVec::empty(),
            GenesisError::NoValidators,
        ),
        (
            |g| g.params.max_validators = 3,
            GenesisError::TooManyValidators { count: 4, max: 3 },
        ),
        (
            |g| {
                let mut a = g.accounts.to_vec();
                a[1].address = a[0].address;
                g.accounts = BoundedVec::new(a).unwrap();
            },
            GenesisError::DuplicateAccount {
                address: keypair(1).address(),
            },
        ),
        (
            |g| {
                let mut v = g.validators.to_vec();
                v[2].consensus_key = v[0].consensus_key;
                g.validators = BoundedVec::new(v).unwrap();
            },
            GenesisError::DuplicateValidatorKey { index: 2 },
        ),
        (
            |g| {
                let mut v = g.validators.to_vec();
                v[1].network_address = "".parse().unwrap();
                g.validators = BoundedVec::new(v).unwrap();
            },
            GenesisError::EmptyNetworkAddress { index: 1 },
        ),
        (
            |g| {
                let mut v = g.validators.to_vec();
                v[2].stake = Chips(999);
                g.validators = BoundedVec::new(v).unwrap();
            },
            GenesisError::StakeBelowMinimum {
                index: 2,
                stake: Chips(999),
                min: Chips(1_000),
            },
        ),
        (
            |g| {
                let mut a = g.accounts.to_vec();
                a[0].balance = Chips(u64::MAX - 10_000_000);
                g.accounts = BoundedVec::new(a).unwrap();
            },
            GenesisError::SupplyOverflow,
        ),
    ];
    for (change, error) in cases {
        let mut genesis = sample();
        change(&mut genesis);
        assert_eq!(genesis.validate(), Err(error.clone()));
        // The same refusal through the JSON reader.
        assert_eq!(
            Genesis::from_json_bytes(genesis.to_json().as_bytes()),
            Err(error)
        );
    }
}

#[test]
fn parameter_ranges() {
    type Change = fn(&mut Params);
    let cases: Vec<(Change, &str)> = vec![
        (|p| p.epoch_length_blocks = 0, "epoch_length_blocks"),
        (
            |p| p.unbonding_blocks = p.epoch_length_blocks - 1,
            "unbonding_blocks",
        ),
        (|p| p.withdrawal_delay_blocks = 0, "withdrawal_delay_blocks"),
        (
            |p| p.beacon_void_after_blocks = 0,
            "beacon_void_after_blocks",
        ),
        (|p| p.crash_risk_cap_bps = 0, "crash_risk_cap_bps"),
        (|p| p.crash_risk_cap_bps = 10_001, "crash_risk_cap_bps"),
        (|p| p.crash_betting_ms = 0, "crash_betting_ms"),
        (
            |p| p.crash_max_bets_per_round = 0,
            "crash_max_bets_per_round",
        ),
        (
            |p| p.crash_max_bets_per_round = 10_001,
            "crash_max_bets_per_round",
        ),
        (|p| p.craps_roll_interval_ms = 0, "craps_roll_interval_ms"),
        (|p| p.max_block_txs = 0, "max_block_txs"),
        (
            |p| p.max_block_txs = MAX_TXS_PER_BLOCK as u32 + 1,
            "max_block_txs",
        ),
        (
            |p| {
                p.faucet = Some(FaucetParams {
                    max_per_request: Chips(0),
                })
            },
            "faucet.max_per_request",
        ),
        (|p| p.max_tables = 0, "max_tables"),
        (|p| p.max_players_per_table = 0, "max_players_per_table"),
        (|p| p.max_validators = 0, "max_validators"),
        (
            |p| p.max_validators = MAX_VALIDATORS as u32 + 1,
            "max_validators",
        ),
        (
            |p| p.double_vote_slash_bps = 10_001,
            "double_vote_slash_bps",
        ),
    ];
    assert_eq!(Params::default().validate(), Ok(()));
    for (change, param) in cases {
        let mut params = Params::default();
        change(&mut params);
        match params.validate() {
            Err(GenesisError::InvalidParam { param: p, .. }) => assert_eq!(p, param),
            other => panic!("{param}: {other:?}"),
        }
    }
}

#[test]
fn errors_say_what_to_fix() {
    let mut genesis = sample();
    genesis.params.crash_risk_cap_bps = 0;
    let message = genesis.validate().unwrap_err().to_string();
    assert_eq!(
        message,
        "params.crash_risk_cap_bps must be 1 to 10000 (300 is 3%)"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mutated_json_never_panics(
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = sample().to_json().into_bytes();
        for (index, value) in &mutations {
            let at = index.index(bytes.len());
            bytes[at] = *value;
        }
        if let Ok(genesis) = Genesis::from_json_bytes(&bytes) {
            prop_assert_eq!(genesis.validate(), Ok(()));
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Genesis::from_json_bytes(&bytes);
        if let Ok(genesis) = Genesis::decode(&bytes) {
            prop_assert_eq!(genesis.encode(), bytes);
        }
    }

    #[test]
    fn truncated_borsh_is_refused(cut in any::<prop::sample::Index>()) {
        let bytes = sample().encode();
        let len = cut.index(bytes.len());
        prop_assert!(Genesis::decode(&bytes[..len]).is_err());
    }

    #[test]
    fn any_balance_round_trips(balances in prop::collection::vec(any::<u64>(), 0..20), time in any::<u64>()) {
        let mut genesis = sample();
        genesis.genesis_time_ms = time;
        genesis.accounts = BoundedVec::new(
            balances
                .iter()
                .enumerate()
                .map(|(i, &b)| GenesisAccount {
                    address: Address::from_bytes([i as u8; 20]),
                    balance: Chips(b),
                })
                .collect(),
        )
        .unwrap();
        let json = genesis.to_json();
        let back: Genesis = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &genesis);
        prop_assert_eq!(Genesis::decode(&genesis.encode()), Ok(genesis.clone()));
        let sum: u128 = balances.iter().map(|&b| u128::from(b)).sum::<u128>() + 10_040_000;
        prop_assert_eq!(genesis.validate().is_ok(), sum <= u128::from(u64::MAX));
    }
}

/// A sample genesis whose validators are a dealer committee of `n`, with
/// the committee's `beacon_sharing`.
fn with_committee(n: u32) -> Genesis {
    let committee = crate::engine::dealer_committee(n, &[7; 32]).unwrap();
    let addresses: Vec<_> = (0..n)
        .map(|i| format!("127.0.0.1:{}", 7400 + i).parse().unwrap())
        .collect();
    let mut genesis = sample();
    genesis.validators = BoundedVec::new(
        committee
            .genesis_validators(Chips(10_000), &addresses)
            .unwrap(),
    )
    .unwrap();
    genesis.beacon_sharing = Some(committee.beacon_sharing().unwrap());
    genesis
}

#[test]
fn a_beacon_sharing_must_match_the_validators() {
    let genesis = with_committee(4);
    assert_eq!(genesis.validate(), Ok(()));
    let verifier = genesis.beacon_verifier().unwrap();
    assert_eq!(verifier.chain_id, genesis.chain_id());
    // It survives JSON and changes the chain id.
    let back = Genesis::from_json_bytes(genesis.to_json().as_bytes()).unwrap();
    assert_eq!(back, genesis);
    let mut without = genesis.clone();
    without.beacon_sharing = None;
    assert_ne!(without.chain_id(), genesis.chain_id());

    // One share per validator.
    let mut short = genesis.clone();
    short.beacon_sharing = with_committee(5).beacon_sharing;
    assert!(matches!(
        short.validate(),
        Err(GenesisError::SharingSize {
            shares: 5,
            validators: 4
        })
    ));
    // Committee (ascending key) order.
    let mut swapped = genesis.clone();
    let mut validators = swapped.validators.to_vec();
    validators.swap(1, 2);
    swapped.validators = BoundedVec::new(validators).unwrap();
    assert!(matches!(
        swapped.validate(),
        Err(GenesisError::ValidatorsUnsorted { index: 2 })
    ));
}
