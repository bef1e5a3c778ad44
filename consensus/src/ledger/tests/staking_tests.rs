//! Validators, stake, epochs, fees and slashing through blocks.

use game_rules::Chips;

use super::support::*;
use crate::genesis::Params;
use crate::hash::{HashDomain, hash};
use crate::receipt::{LedgerEvent, RejectReason};
use crate::tx::{Action, Evidence, Vote};

fn staking_params() -> Params {
    Params {
        epoch_length_blocks: 10,
        unbonding_blocks: 20,
        ..params()
    }
}

fn register(seed: u8) -> Action {
    Action::RegisterValidator {
        consensus_key: kp(seed).public_key(),
        network_address: format!("/ip4/10.0.0.{seed}/tcp/9000").parse().unwrap(),
    }
}

/// Runs empty blocks until the next block is the first of an epoch.
fn to_epoch_start(chain: &mut Chain) -> Vec<crate::ledger::AppliedBlock> {
    let length = chain.ledger.params().epoch_length_blocks;
    let mut blocks = Vec::new();
    while !chain.ledger.next_height().is_multiple_of(length) {
        blocks.push(chain.apply(Vec::new()));
    }
    blocks
}

#[test]
fn validators_join_and_leave_at_epoch_boundaries_and_split_the_fees() {
    let mut chain = Chain::new(&genesis_with(4, 1_000_000, 1_000_000, staking_params()));
    let genesis_validator = kp(VALIDATOR).public_key();
    assert_eq!(chain.ledger.active_validators(), &[genesis_validator]);

    // Refusals first.
    let block = chain.send(vec![
        (1, Action::Stake { amount: Chips(5) }),
        (
            1,
            Action::RegisterValidator {
                consensus_key: kp(2).public_key(),
                network_address: "/ip4/1.2.3.4/tcp/1".parse().unwrap(),
            },
        ),
        (1, register(1)),
        (1, register(1)),
        (
            1,
            Action::Stake {
                amount: Chips(2_000),
            },
        ),
        (
            1,
            Action::Unstake {
                amount: Chips(2_001),
            },
        ),
    ]);
    let reasons: Vec<_> = block
        .receipts
        .iter()
        .map(|r| rejection(r).cloned())
        .collect();
    assert_eq!(reasons[0], Some(RejectReason::NotAValidator));
    assert_eq!(reasons[1], Some(RejectReason::ConsensusKeyNotSender));
    assert_eq!(reasons[2], None);
    assert_eq!(reasons[3], Some(RejectReason::AlreadyRegistered));
    assert_eq!(reasons[4], None);
    assert_eq!(
        reasons[5],
        Some(RejectReason::InsufficientStake {
            requested: Chips(2_001),
            staked: Chips(2_000),
        })
    );
    assert_eq!(
        chain.ledger.active_validators(),
        &[genesis_validator],
        "a new validator waits for the epoch"
    );

    // Epoch 0 ends: its fees all go to the only validator; player 1 joins.
    let validator_before = chain.ledger.account(&addr(VALIDATOR)).balance;
    let fees_epoch0 = chain.ledger.globals().fee_pool;
    let blocks = to_epoch_start(&mut chain);
    let last = blocks.last().unwrap();
    assert!(last.events.events.iter().any(|e| matches!(
        e,
        LedgerEvent::EpochStarted {
            epoch: 1,
            validators: 2,
            ..
        }
    )));
    assert_eq!(
        chain.ledger.account(&addr(VALIDATOR)).balance,
        validator_before.checked_add(fees_epoch0).unwrap()
    );
    assert_eq!(chain.ledger.epoch(), 1);
    // Largest stake first.
    assert_eq!(
        chain.ledger.active_validators(),
        &[genesis_validator, kp(1).public_key()]
    );

    // Epoch 1: seven fees of 1 chip, split 10,000 : 2,000.
    chain.proposer = kp(1);
    let block = chain.send(
        (0..7)
            .map(|_| {
                (
                    3u8,
                    Action::Transfer {
                        to: addr(4),
                        amount: Chips(1),
                    },
                )
            })
            .collect(),
    );
    all_applied(&block);
    assert_eq!(chain.ledger.globals().fee_pool, Chips(7));
    let v_before = chain.balance(VALIDATOR);
    let p_before = chain.balance(1);
    let burned_before = chain.ledger.globals().burned_fees;
    let blocks = to_epoch_start(&mut chain);
    let end = blocks.last().unwrap();
    // 7 · 10,000/12,000 = 5.83 → 5; 7 · 2,000/12,000 = 1.17 → 1; 1 burned.
    assert_eq!(chain.balance(VALIDATOR), v_before + 5);
    assert_eq!(chain.balance(1), p_before + 1);
    assert!(
        end.events
            .events
            .contains(&LedgerEvent::FeesBurned { amount: Chips(1) })
    );
    assert_eq!(
        chain.ledger.globals().burned_fees,
        burned_before.checked_add(Chips(1)).unwrap()
    );
    assert_eq!(chain.ledger.globals().fee_pool, Chips::ZERO);

    // Epoch 2: player 1 unstakes everything; it leaves at the next epoch
    // and gets its stake back after the unbonding period.
    let block = chain.send(vec![(
        1,
        Action::Unstake {
            amount: Chips(2_000),
        },
    )]);
    all_applied(&block);
    let release_at = block.height + chain.ledger.params().unbonding_blocks;
    assert_eq!(
        chain.ledger.active_validators().len(),
        2,
        "still in until the epoch ends"
    );
    to_epoch_start(&mut chain);
    assert_eq!(chain.ledger.active_validators(), &[genesis_validator]);
    chain.proposer = kp(VALIDATOR);
    let before = chain.balance(1);
    while chain.ledger.next_height() <= release_at {
        let b = chain.apply(Vec::new());
        let released = b.events.events.contains(&LedgerEvent::StakeReleased {
            account: addr(1),
            amount: Chips(2_000),
        });
        assert_eq!(released, b.height == release_at);
    }
    assert_eq!(chain.balance(1), before + 2_000);
}

#[test]
fn double_votes_are_slashed_once_and_the_offender_leaves() {
    let mut chain = Chain::new(&genesis_with(4, 1_000_000, 1_000_000, staking_params()));
    all_applied(&chain.send(vec![
        (1, register(1)),
        (
            1,
            Action::Stake {
                amount: Chips(3_000),
            },
        ),
    ]));
    to_epoch_start(&mut chain);
    assert!(
        chain
            .ledger
            .active_validators()
            .contains(&kp(1).public_key())
    );
    all_applied(&chain.send(vec![(
        1,
        Action::Unstake {
            amount: Chips(1_000),
        },
    )]));

    // Player 1 votes twice in one slot of epoch 1.
    let chain_id = chain.ledger.chain_id();
    let vote = |block: &[u8]| Vote {
        epoch: 1,
        height: 12,
        view: 0,
        block: hash(HashDomain::BlockHeader, block),
    };
    let first = vote(b"a").sign(&chain_id, &kp(1));
    let second = vote(b"b").sign(&chain_id, &kp(1));
    let evidence = Evidence::DoubleVote {
        validator: kp(1).public_key(),
        first: first.clone(),
        second: second.clone(),
    };
    let swapped = Evidence::DoubleVote {
        validator: kp(1).public_key(),
        first: second,
        second: first,
    };
    let supply = chain.ledger.globals().expected_supply();
    let block = chain.send(vec![
        (
            2,
            Action::SlashingEvidence {
                evidence: evidence.clone(),
            },
        ),
        (3, Action::SlashingEvidence { evidence }),
        (3, Action::SlashingEvidence { evidence: swapped }),
    ]);
    assert!(applied(&block.receipts[0]));
    for r in &block.receipts[1..] {
        assert!(matches!(
            rejection(r),
            Some(RejectReason::EvidenceNotApplicable { .. })
        ));
    }
    // 5% of the 2,000 bonded and of the 1,000 unbonding.
    assert!(block.receipts[0].events.iter().any(|e| matches!(
        e,
        LedgerEvent::Slashed {
            amount: Chips(150),
            ..
        }
    )));
    let validator = chain.ledger.validator(&kp(1).public_key()).unwrap();
    assert!(validator.slashed);
    assert_eq!(validator.stake, Chips(1_900));
    let unbonding: Vec<Chips> = chain.ledger.unbonding().map(|(_, u)| u.amount).collect();
    assert_eq!(unbonding, vec![Chips(950)]);
    assert_eq!(chain.ledger.globals().slashed, Chips(150));
    assert_eq!(
        chain.ledger.globals().expected_supply(),
        supply - 150,
        "slashed stake is burned"
    );
    // The offender earns nothing more and leaves at the next epoch.
    to_epoch_start(&mut chain);
    assert!(
        !chain
            .ledger
            .active_validators()
            .contains(&kp(1).public_key())
    );
    // A validator that never was in the set cannot be accused.
    let stranger = Evidence::DoubleVote {
        validator: kp(4).public_key(),
        first: vote(b"a").sign(&chain_id, &kp(4)),
        second: vote(b"b").sign(&chain_id, &kp(4)),
    };
    let block = chain.send(vec![(2, Action::SlashingEvidence { evidence: stranger })]);
    assert!(matches!(
        rejection(&block.receipts[0]),
        Some(RejectReason::EvidenceNotApplicable { .. })
    ));
}

#[test]
fn the_faucet_lets_a_new_account_in_without_a_fee() {
    let mut chain = Chain::new(&genesis());
    let newcomer = kp(77);
    let txs = vec![
        chain.tx_with_fee(
            &newcomer,
            Action::Faucet {
                amount: Chips(1_000),
            },
            Chips::ZERO,
        ),
        chain.tx_with_fee(
            &newcomer,
            Action::Faucet {
                amount: Chips(1_001),
            },
            Chips::ZERO,
        ),
        chain.tx_with_fee(
            &newcomer,
            Action::Transfer {
                to: addr(1),
                amount: Chips(10),
            },
            Chips::ZERO,
        ),
    ];
    let block = chain.apply(txs);
    assert!(applied(&block.receipts[0]));
    assert_eq!(
        rejection(&block.receipts[1]),
        Some(&RejectReason::FaucetLimit { max: Chips(1_000) })
    );
    assert_eq!(
        rejection(&block.receipts[2]),
        Some(&RejectReason::FeeTooLow {
            min: Chips(1),
            offered: Chips::ZERO,
        })
    );
    assert_eq!(
        block.receipts[2].fee_charged,
        Chips::ZERO,
        "refused before the fee: no charge"
    );
    assert_eq!(
        chain.ledger.account(&newcomer.address()).balance,
        Chips(1_000)
    );
    assert_eq!(chain.ledger.account(&newcomer.address()).nonce, 2);
    assert_eq!(chain.ledger.globals().minted, Chips(1_000));

    let mut closed = Chain::new(&genesis_with(
        2,
        10,
        10,
        Params {
            faucet: None,
            ..params()
        },
    ));
    let tx = closed.tx_with_fee(&newcomer, Action::Faucet { amount: Chips(1) }, Chips::ZERO);
    let block = closed.apply(vec![tx]);
    assert_eq!(
        rejection(&block.receipts[0]),
        Some(&RejectReason::FaucetDisabled)
    );
}

/// The engine's own evidence: two conflicting threshold-signed votes of a
/// committee member, verified against the sharing of their epoch (here
/// the genesis sharing; `reshare_tests` covers reshared epochs).
#[test]
fn engine_equivocation_is_slashed_once_per_view_and_the_offender_leaves() {
    use crate::encoding::BoundedVec;
    use crate::engine::dealer_committee;
    use crate::tx::ConflictKind;
    use crate::tx::equivocation::testing::equivocation;

    let committee = dealer_committee(4, &[5; 32]).unwrap();
    let addresses: Vec<_> = (0..4)
        .map(|i| format!("127.0.0.1:{}", 9000 + i).parse().unwrap())
        .collect();
    let mut genesis = genesis_with(4, 1_000_000, 1_000_000, staking_params());
    genesis.validators = BoundedVec::new(
        committee
            .genesis_validators(Chips(10_000), &addresses)
            .unwrap(),
    )
    .unwrap();
    genesis.beacon_sharing = Some(committee.beacon_sharing().unwrap());
    // The validators pay the fees of their resharing logs.
    let members = super::reshare_tests::members(&committee, &[]);
    let mut accounts = genesis.accounts.clone().into_vec();
    accounts.extend(members.iter().map(|m| crate::genesis::GenesisAccount {
        address: m.wallet.address(),
        balance: Chips(1_000),
    }));
    genesis.accounts = BoundedVec::new(accounts).unwrap();
    genesis.validate().unwrap();
    let chain_id = genesis.chain_id();
    let mut chain = Chain::new(&genesis);
    chain.proposer = committee.validators[0].keypair();
    let offender = committee.validators[2].keypair().public_key();
    let evidence = |kind, view| Action::SlashingEvidence {
        evidence: Evidence::Equivocation(equivocation(&committee, &chain_id, 2, kind, view)),
    };

    let supply = chain.ledger.globals().expected_supply();
    let block = chain.send(vec![
        (1, evidence(ConflictKind::Notarize, 7)),
        // The same view again, as another pair of votes: one offence.
        (2, evidence(ConflictKind::NullifyFinalize, 7)),
        // Votes of another chain prove nothing here.
        (
            3,
            Action::SlashingEvidence {
                evidence: Evidence::Equivocation(equivocation(
                    &committee,
                    &crate::tx::tests::OTHER_CHAIN,
                    1,
                    ConflictKind::Finalize,
                    7,
                )),
            },
        ),
    ]);
    assert!(applied(&block.receipts[0]));
    for r in &block.receipts[1..] {
        assert!(
            matches!(
                rejection(r),
                Some(RejectReason::EvidenceNotApplicable { .. })
            ),
            "{r:?}"
        );
    }
    // 5% of the 10,000 bonded.
    assert!(block.receipts[0].events.iter().any(|e| matches!(
        e,
        LedgerEvent::Slashed { validator, amount: Chips(500), .. } if *validator == offender
    )));
    let slot = crate::tx::Slot {
        epoch: 0,
        height: crate::tx::Slot::CONSENSUS_HEIGHT,
        view: 7,
    };
    assert!(chain.ledger.is_punished(&offender, &slot));
    let validator = chain.ledger.validator(&offender).unwrap();
    assert!(validator.slashed);
    assert_eq!(validator.stake, Chips(9_500));
    assert_eq!(chain.ledger.globals().expected_supply(), supply - 500);

    // Another view is another offence; the offender is out at the next
    // epoch, and once epoch 0 is older than the evidence window its votes
    // are refused as too old (and their record is forgotten).
    let block = chain.send(vec![(1, evidence(ConflictKind::Finalize, 8))]);
    assert!(applied(&block.receipts[0]));
    assert_eq!(
        chain.ledger.validator(&offender).unwrap().stake,
        Chips(9_025)
    );
    assert!(chain.ledger.active_validators().contains(&offender));
    // On a chain with a beacon sharing the set changes by resharing: the
    // next round (players: the three others) is dealt and logged.
    let (_, logs) = super::reshare_tests::deal(&mut chain, &members, &[], 3);
    all_applied(&chain.apply(logs));
    for _ in 0..4 {
        chain.apply(Vec::new());
        to_epoch_start(&mut chain);
    }
    assert!(!chain.ledger.active_validators().contains(&offender));
    assert!(
        chain.ledger.epoch() > crate::ledger::staking::evidence_window(chain.ledger.params()) + 1
    );
    assert!(!chain.ledger.is_punished(&offender, &slot));
    let block = chain.send(vec![(2, evidence(ConflictKind::Notarize, 7))]);
    assert!(matches!(
        rejection(&block.receipts[0]),
        Some(RejectReason::EvidenceNotApplicable { reason }) if reason.as_str().contains("too old")
    ));
}
