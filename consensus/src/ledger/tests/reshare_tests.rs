//! Resharing through the chain (`ledger::reshare`): a round opens when the
//! next set differs, dealers' logs are taken by the rules, the ledger
//! observes at the epoch end; a failed round postpones the change. The
//! off-chain part (dealings and acknowledgements) runs here in process
//! with commonware's state machines, as validators run it over the network.

use std::collections::BTreeMap;

use commonware_codec::Encode as _;
use commonware_cryptography::Signer as _;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use wallet::ChainId;

use super::support::*;
use crate::beacon::dkg::{self, RoundPlayer};
use crate::beacon::{
    BeaconAggregator, BeaconError, BeaconMessage, BeaconSigner, SecretShare,
    ThresholdBeaconVerifier,
};
use crate::encoding::{BoundedBytes, BoundedVec};
use crate::engine::{Committee, dealer_committee};
use crate::genesis::{GenesisAccount, Params};
use crate::hash::Hash;
use crate::ledger::BeaconVerifier as _;
use crate::ledger::reshare::{self, RoundStatus};
use crate::receipt::RejectReason;
use crate::tx::{Action, SignedTransaction};
use game_rules::Chips;
use wallet::{Keypair, PublicKey};

/// A validator's keys as the test holds them.
pub(crate) struct Member {
    pub(crate) identity: dkg::PrivateKey,
    pub(crate) wallet: Keypair,
    /// Its share of the sharing in force, if it holds one.
    pub(crate) share: Option<SecretShare>,
}

/// A copy of a share (shares are not `Clone`, so that copies are
/// deliberate).
fn copy(share: &SecretShare) -> SecretShare {
    dkg::secret_share(share.share().clone())
}

/// The wallet keypair of an identity (the same ed25519 key).
pub(crate) fn wallet_of(identity: &dkg::PrivateKey) -> Keypair {
    let mut secret = [0u8; Keypair::SECRET_LENGTH];
    secret.copy_from_slice(&identity.encode());
    Keypair::from_secret_bytes(&secret)
}

/// The committee's members (with their genesis shares) and `extra`
/// newcomers (no share).
pub(crate) fn members(committee: &Committee, extra: &[u64]) -> Vec<Member> {
    committee
        .validators
        .iter()
        .map(|v| Member {
            identity: v.identity.clone(),
            wallet: v.keypair(),
            share: Some(v.beacon_share()),
        })
        .chain(extra.iter().map(|seed| {
            let identity = dkg::PrivateKey::from_seed(*seed);
            Member {
                wallet: wallet_of(&identity),
                identity,
                share: None,
            }
        }))
        .collect()
}

pub(crate) fn params() -> Params {
    Params {
        epoch_length_blocks: 10,
        unbonding_blocks: 20,
        max_validators: 4,
        ..super::support::params()
    }
}

/// A chain whose genesis has the committee's sharing, every member's
/// wallet funded, validator 0 proposing.
pub(crate) fn chain_of(committee: &Committee, members: &[Member], params: Params) -> Chain {
    let addresses: Vec<_> = (0..committee.validators.len())
        .map(|i| format!("127.0.0.1:{}", 9000 + i).parse().unwrap())
        .collect();
    let mut genesis = genesis_with(4, 1_000_000, 1_000_000, params);
    genesis.validators = BoundedVec::new(
        committee
            .genesis_validators(Chips(10_000), &addresses)
            .unwrap(),
    )
    .unwrap();
    let mut accounts = genesis.accounts.clone().into_vec();
    accounts.extend(members.iter().map(|m| GenesisAccount {
        address: m.wallet.address(),
        balance: Chips(100_000),
    }));
    genesis.accounts = BoundedVec::new(accounts).unwrap();
    genesis.beacon_sharing = Some(committee.beacon_sharing().unwrap());
    genesis.validate().unwrap();
    let mut chain = Chain::new(&genesis);
    chain.proposer = wallet_of(&members[0].identity);
    chain
}

/// Applies empty blocks until a round is open.
pub(crate) fn until_open(chain: &mut Chain) -> reshare::ReshareRound {
    for _ in 0..100 {
        if let Some(round) = chain.ledger.resharing().and_then(|r| r.round.clone())
            && round.status == RoundStatus::Open
        {
            return round;
        }
        chain.apply(Vec::new());
    }
    panic!("no round opened");
}

/// The off-chain part of the open round: every dealer among `members`
/// not in `silent` deals to every player among `members` (players ack
/// what verifies); returns the players' state machines and each dealer's
/// log transaction.
pub(crate) fn deal(
    chain: &mut Chain,
    members: &[Member],
    silent: &[usize],
    seed: u64,
) -> (BTreeMap<PublicKey, RoundPlayer>, Vec<SignedTransaction>) {
    let round = until_open(chain);
    let previous = chain.ledger.beacon_output().unwrap().unwrap();
    let info = reshare::round_info(&previous, &round).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut players: BTreeMap<PublicKey, RoundPlayer> = members
        .iter()
        .filter(|m| round.players.contains(&m.wallet.public_key()))
        .map(|m| {
            let player = dkg::new_player(&info, m.identity.clone()).unwrap();
            (m.wallet.public_key(), player)
        })
        .collect();
    let mut txs = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let Some(share) = &member.share else { continue };
        if silent.contains(&i) || !round.dealers.contains(&member.wallet.public_key()) {
            continue;
        }
        let (mut dealer, public, private) =
            dkg::start_dealer(&mut rng, &info, member.identity.clone(), share).unwrap();
        for (player_id, dealing) in private {
            let key = reshare::ledger_key(&player_id).unwrap();
            let Some(player) = players.get_mut(&key) else {
                continue;
            };
            if let Ok(Some(ack)) = dkg::receive_dealing(
                player,
                member.identity.public_key(),
                public.clone(),
                dealing,
            ) {
                dealer.receive_player_ack(player_id, ack).unwrap();
            }
        }
        let log = dkg::finalize_dealer(dealer);
        txs.push(chain.tx(
            &member.wallet,
            Action::DealerLog {
                round: round.round,
                log: BoundedBytes::new(log).unwrap(),
            },
        ));
    }
    (players, txs)
}

/// Applies empty blocks until the next epoch starts.
pub(crate) fn to_next_epoch(chain: &mut Chain) {
    let epoch = chain.ledger.epoch();
    while chain.ledger.epoch() == epoch {
        chain.apply(Vec::new());
    }
}

/// After a completed round: each player derives its share from the
/// ledger's logs; the members' shares become the new ones (`None` for
/// those left out: their old share is erased).
pub(crate) fn finish(
    chain: &Chain,
    members: &mut [Member],
    players: BTreeMap<PublicKey, RoundPlayer>,
) {
    let record = chain.ledger.resharing().unwrap();
    let round = record.round.clone().unwrap();
    assert!(matches!(round.status, RoundStatus::Completed { .. }));
    // The round was described on the output it replaced.
    let previous = match chain.ledger.genesis_beacon_output() {
        Some(genesis) if round.round == 0 => genesis.clone(),
        _ => panic!("only a first round is finished here"),
    };
    let info = reshare::round_info(&previous, &round).unwrap();
    let output = chain.ledger.beacon_output().unwrap().unwrap();
    let logs = reshare::round_logs(&round).unwrap();
    let mut players = players;
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for member in members.iter_mut() {
        member.share = players
            .remove(&member.wallet.public_key())
            .map(|player| dkg::finalize_player(player, &info, &logs, &output, &mut rng).unwrap());
    }
}

fn refused(block: &crate::ledger::AppliedBlock, i: usize) -> bool {
    matches!(
        rejection(&block.receipts[i]),
        Some(RejectReason::DealerLogRefused { .. })
    )
}

/// σ of `(epoch, height, block)` from the shares of `signers` (indices of
/// `members`) under the ledger's sharing in force; `Err` with the first
/// share refused.
fn sigma(
    chain_id: ChainId,
    ledger_output: &dkg::DkgOutput,
    members: &[Member],
    signers: &[usize],
    epoch: u64,
) -> Result<[u8; 48], BeaconError> {
    let keys: Vec<PublicKey> = ledger_output
        .players()
        .iter()
        .map(|p| reshare::ledger_key(p).unwrap())
        .collect();
    let mut aggregator =
        BeaconAggregator::new(chain_id, epoch, ledger_output.sharing().clone(), keys).unwrap();
    let message = BeaconMessage {
        chain_id,
        epoch,
        height: 40,
        block: Hash::new([4; 32]),
    };
    let mut recovered = None;
    for &i in signers {
        let member = &members[i];
        let share = copy(member.share.as_ref().expect("a share"));
        // A signer checks its share against its own view of the sharing:
        // a stale share is caught here already; sign with it regardless
        // to see what the aggregator does with it.
        let signer = match BeaconSigner::new(epoch, copy(&share), ledger_output.sharing()) {
            Ok(signer) => signer,
            Err(_) => {
                let old = dealer_committee(4, &[5; 32])
                    .unwrap()
                    .beacon_sharing()
                    .unwrap();
                BeaconSigner::new(epoch, share, &old).unwrap()
            }
        };
        let signed = signer.sign_sealed(&message, &member.wallet).unwrap();
        if let Some(r) = aggregator.add(signed)? {
            recovered = Some(r.signature);
        }
    }
    recovered.ok_or(BeaconError::InvalidKeys {
        reason: "too few shares".into(),
    })
}

/// 4 → 4 with a replacement: validator 1 unstakes, a newcomer stakes; the
/// round opens mid-epoch, the three logs needed (and a fourth) are taken,
/// the rules refuse the rest; at the epoch end the newcomer is in, the
/// group key is the same, and σ of the new epoch needs the new shares.
/// The transactions that make `newcomer` a validator of the next set and
/// take `leaving` out of it: register and stake, unstake.
pub(crate) fn replace(
    chain: &mut Chain,
    newcomer: &Keypair,
    leaving: &Keypair,
) -> Vec<SignedTransaction> {
    vec![
        chain.tx(
            newcomer,
            Action::RegisterValidator {
                consensus_key: newcomer.public_key(),
                network_address: "127.0.0.1:9077".parse().unwrap(),
            },
        ),
        chain.tx(
            newcomer,
            Action::Stake {
                amount: Chips(20_000),
            },
        ),
        chain.tx(
            leaving,
            Action::Unstake {
                amount: Chips(10_000),
            },
        ),
    ]
}

#[test]
fn a_replacement_validator_gets_a_share_and_the_group_key_stays() {
    let committee = dealer_committee(4, &[5; 32]).unwrap();
    let mut members = members(&committee, &[77]);
    let mut chain = chain_of(&committee, &members, params());
    let chain_id = chain.ledger.chain_id();
    let group_key = *chain.ledger.genesis_beacon_output().unwrap().group_key();
    let newcomer = wallet_of(&members[4].identity);
    let leaving = wallet_of(&members[1].identity);
    let txs = replace(&mut chain, &newcomer, &leaving);
    let block = chain.apply(txs);
    all_applied(&block);

    // Dealer 3 stays silent: three logs of four are the quorum.
    let (players, txs) = deal(&mut chain, &members, &[3], 9);
    let round = chain.ledger.resharing().unwrap().round.clone().unwrap();
    assert_eq!(round.round, 0);
    assert_eq!(round.opened_at, 5, "the middle of epoch 0");
    assert_eq!(round.deadline, 9, "the epoch's last block");
    assert!(round.players.contains(&newcomer.public_key()));
    assert!(!round.players.contains(&leaving.public_key()));
    assert!(round.dealers.contains(&leaving.public_key()));
    assert_eq!(players.len(), 4);
    assert_eq!(txs.len(), 3);
    let first_log = match &txs[0].tx.action {
        Action::DealerLog { log, .. } => log.clone(),
        _ => unreachable!(),
    };
    all_applied(&chain.apply(txs));
    // Refused: a newcomer's log (not a dealer), a log of another round,
    // bytes that are no log, a log signed by another dealer, and a second
    // log of one dealer.
    let nonce = |chain: &Chain, who: &Keypair| chain.ledger.account(&who.address()).nonce;
    let log = |round, log: &BoundedBytes<{ crate::tx::MAX_DEALER_LOG_BYTES }>| Action::DealerLog {
        round,
        log: log.clone(),
    };
    let garbage = BoundedBytes::new(vec![7; 300]).unwrap();
    let bad = vec![
        chain.signed(
            &newcomer,
            log(0, &first_log),
            Chips(1),
            nonce(&chain, &newcomer),
        ),
        chain.signed(
            &members[2].wallet,
            log(1, &first_log),
            Chips(1),
            nonce(&chain, &members[2].wallet),
        ),
        chain.signed(
            &members[3].wallet,
            log(0, &garbage),
            Chips(1),
            nonce(&chain, &members[3].wallet),
        ),
        chain.signed(
            &members[3].wallet,
            log(0, &first_log),
            Chips(1),
            nonce(&chain, &members[3].wallet) + 1,
        ),
        chain.signed(
            &members[0].wallet,
            log(0, &first_log),
            Chips(1),
            nonce(&chain, &members[0].wallet),
        ),
    ];
    let block = chain.apply(bad);
    assert!((0..5).all(|i| refused(&block, i)), "{:?}", block.receipts);
    assert_eq!(chain.ledger.epoch(), 0);
    assert!(
        chain
            .ledger
            .active_validators()
            .contains(&leaving.public_key())
    );

    to_next_epoch(&mut chain);
    let record = chain.ledger.resharing().unwrap();
    assert_eq!(
        record.round.as_ref().unwrap().status,
        RoundStatus::Completed { epoch: 1 }
    );
    assert_eq!(record.since_epoch, 1);
    let mut active = chain.ledger.active_validators().to_vec();
    active.sort_by_key(|k| *k.as_bytes());
    assert_eq!(active, round.players);
    let output = chain.ledger.beacon_output().unwrap().unwrap();
    assert_eq!(
        *output.group_key(),
        group_key,
        "resharing keeps the group key"
    );
    assert_ne!(
        output.sharing(),
        chain.ledger.genesis_beacon_output().unwrap().sharing(),
        "a new polynomial"
    );
    // The old shares are shares of the same secret, but of the old
    // polynomial: kept aside to show they are refused now.
    let old: Vec<Option<SecretShare>> =
        members.iter().map(|m| m.share.as_ref().map(copy)).collect();
    finish(&chain, &mut members, players);
    assert!(members[4].share.is_some(), "the newcomer holds a share");
    assert!(members[1].share.is_none(), "the leaver holds none");
    for m in &members {
        if let Some(share) = &m.share {
            assert!(output.sharing().holds(share));
        }
    }

    // σ of epoch 1 from the newcomer and two others verifies under the
    // unchanged group key, as the ledger checks it.
    let verifier = ThresholdBeaconVerifier {
        chain_id,
        group_key,
    };
    let s = sigma(chain_id, &output, &members, &[4, 0, 2], 1).unwrap();
    verifier
        .verify(1, 40, &Hash::new([4; 32]), &s)
        .expect("σ of the new epoch");
    // The leaver signing with its old share is not a signer of epoch 1:
    // its share index belongs to another validator now, whose key did not
    // sign the envelope, so the share is refused as junk.
    let mut stale = members
        .iter()
        .map(|m| Member {
            identity: m.identity.clone(),
            wallet: wallet_of(&m.identity),
            share: m.share.as_ref().map(copy),
        })
        .collect::<Vec<_>>();
    stale[1].share = old[1].as_ref().map(copy);
    let refused = sigma(chain_id, &output, &stale, &[1, 0, 2], 1);
    assert!(
        matches!(refused, Err(BeaconError::BadEnvelope { index: 1 })),
        "{refused:?}"
    );
    // A continuing validator's old share does not verify against the new
    // polynomial: evidence against it.
    stale[0].share = old[0].as_ref().map(copy);
    let refused = sigma(chain_id, &output, &stale, &[0, 2, 3], 1);
    assert!(
        matches!(refused, Err(BeaconError::Misbehaved(_))),
        "{refused:?}"
    );
}

/// 4 → 16: twelve newcomers register and stake, so the next set has 16
/// validators. Their dealer logs (3.3 KB each, over the 2 KiB that once
/// capped rounds at 8 players) are taken, the round completes, every player
/// derives a share of the unchanged group key, and σ of the new epoch from
/// a quorum of the new set verifies.
#[test]
fn a_round_of_sixteen_players_completes() {
    let committee = dealer_committee(4, &[5; 32]).unwrap();
    let newcomers: Vec<u64> = (100..112).collect();
    let mut members = members(&committee, &newcomers);
    let mut chain = chain_of(
        &committee,
        &members,
        Params {
            max_validators: 16,
            ..params()
        },
    );
    let chain_id = chain.ledger.chain_id();
    let group_key = *chain.ledger.genesis_beacon_output().unwrap().group_key();
    let mut joins = Vec::new();
    for (i, member) in members[4..].iter().enumerate() {
        let wallet = wallet_of(&member.identity);
        joins.push(chain.tx(
            &wallet,
            Action::RegisterValidator {
                consensus_key: wallet.public_key(),
                network_address: format!("127.0.0.1:{}", 9100 + i).parse().unwrap(),
            },
        ));
        joins.push(chain.tx(
            &wallet,
            Action::Stake {
                amount: Chips(20_000),
            },
        ));
    }
    all_applied(&chain.apply(joins));

    let (players, txs) = deal(&mut chain, &members, &[], 21);
    let round = chain.ledger.resharing().unwrap().round.clone().unwrap();
    assert_eq!(round.players.len(), 16);
    assert_eq!(players.len(), 16);
    assert_eq!(txs.len(), 4);
    for tx in &txs {
        assert!(tx.encoded_len() > 2 * 1024, "{}", tx.encoded_len());
    }
    // What a mempool admits: a dealer's log of the open round only.
    let key = |i: usize| members[i].wallet.public_key();
    assert!((0..4).all(|i| chain.ledger.takes_dealer_log(&key(i), 0)));
    assert!(!chain.ledger.takes_dealer_log(&key(0), 1), "another round");
    assert!(!chain.ledger.takes_dealer_log(&key(4), 0), "a newcomer");
    all_applied(&chain.apply(txs));
    assert!(
        (0..4).all(|i| !chain.ledger.takes_dealer_log(&key(i), 0)),
        "logged already"
    );

    to_next_epoch(&mut chain);
    let record = chain.ledger.resharing().unwrap();
    assert_eq!(
        record.round.as_ref().unwrap().status,
        RoundStatus::Completed { epoch: 1 }
    );
    let mut active = chain.ledger.active_validators().to_vec();
    active.sort_by_key(|k| *k.as_bytes());
    assert_eq!(active, round.players);
    let output = chain.ledger.beacon_output().unwrap().unwrap();
    assert_eq!(*output.group_key(), group_key, "the group key stays");
    finish(&chain, &mut members, players);
    for m in &members {
        let share = m.share.as_ref().expect("every member is a player");
        assert!(output.sharing().holds(share));
    }
    // A quorum of 16 (11) signs: eight newcomers and three of the old set.
    let quorum = crate::beacon::quorum(16) as usize;
    assert_eq!(quorum, 11);
    let signers: Vec<usize> = (4..16).take(8).chain([0, 1, 2]).collect();
    let s = sigma(chain_id, &output, &members, &signers, 1).unwrap();
    ThresholdBeaconVerifier {
        chain_id,
        group_key,
    }
    .verify(1, 40, &Hash::new([4; 32]), &s)
    .expect("σ of the 16-validator epoch");
    // One share short of the quorum recovers nothing.
    let short = sigma(chain_id, &output, &members, &signers[..quorum - 1], 1);
    assert!(short.is_err(), "{short:?}");
}

/// A round short of a quorum of logs fails at the deadline: the next epoch
/// keeps the old set and sharing (the change is postponed), and the next
/// round opens in the middle of that epoch and completes.
#[test]
fn a_round_without_a_quorum_of_logs_postpones_the_change() {
    let committee = dealer_committee(4, &[5; 32]).unwrap();
    let mut members = members(&committee, &[77]);
    let mut chain = chain_of(&committee, &members, params());
    let genesis_output = chain.ledger.genesis_beacon_output().unwrap().clone();
    let newcomer = wallet_of(&members[4].identity);
    let leaving = wallet_of(&members[1].identity);
    let txs = replace(&mut chain, &newcomer, &leaving);
    all_applied(&chain.apply(txs));
    let old_set = chain.ledger.active_validators().to_vec();

    // Two of four dealers (three needed) log.
    let (_, txs) = deal(&mut chain, &members, &[2, 3], 11);
    assert_eq!(txs.len(), 2);
    all_applied(&chain.apply(txs));
    to_next_epoch(&mut chain);
    let record = chain.ledger.resharing().unwrap();
    assert_eq!(record.round.as_ref().unwrap().status, RoundStatus::Failed);
    assert_eq!(chain.ledger.epoch(), 1);
    assert_eq!(chain.ledger.active_validators(), old_set.as_slice());
    assert_eq!(
        chain.ledger.beacon_output().unwrap().unwrap(),
        genesis_output
    );
    // The old shares still sign epoch 1 (the old set keeps signing).
    let chain_id = chain.ledger.chain_id();
    sigma(chain_id, &genesis_output, &members, &[0, 1, 2], 1).unwrap();
    // The next round: number 1, in the middle of epoch 1.
    let (players, txs) = deal(&mut chain, &members, &[1], 12);
    let round = chain.ledger.resharing().unwrap().round.clone().unwrap();
    assert_eq!((round.round, round.opened_at, round.deadline), (1, 15, 19));
    all_applied(&chain.apply(txs));
    to_next_epoch(&mut chain);
    assert_eq!(
        chain
            .ledger
            .resharing()
            .unwrap()
            .round
            .as_ref()
            .unwrap()
            .status,
        RoundStatus::Completed { epoch: 2 }
    );
    assert!(
        chain
            .ledger
            .active_validators()
            .contains(&newcomer.public_key())
    );
    assert!(
        !chain
            .ledger
            .active_validators()
            .contains(&leaving.public_key())
    );
    let output = chain.ledger.beacon_output().unwrap().unwrap();
    assert_eq!(output.group_key(), genesis_output.group_key());
    let info = reshare::round_info(&genesis_output, &round).unwrap();
    let logs =
        reshare::round_logs(&chain.ledger.resharing().unwrap().round.clone().unwrap()).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    for (key, player) in players {
        let share = dkg::finalize_player(player, &info, &logs, &output, &mut rng).unwrap();
        let i = members
            .iter()
            .position(|m| m.wallet.public_key() == key)
            .unwrap();
        members[i].share = Some(share);
    }
    members[1].share = None;
    sigma(chain_id, &output, &members, &[4, 2, 3], 2).unwrap();
}

/// Same set, no round: a chain whose stakes do not change never opens one.
#[test]
fn an_unchanged_set_opens_no_round() {
    let committee = dealer_committee(4, &[5; 32]).unwrap();
    let members = members(&committee, &[]);
    let mut chain = chain_of(&committee, &members, params());
    let root = chain.ledger.state_root();
    for _ in 0..25 {
        chain.apply(Vec::new());
    }
    assert_eq!(chain.ledger.epoch(), 2);
    assert!(chain.ledger.resharing().is_none());
    assert_ne!(root, chain.ledger.state_root());
}

/// Conflicting notarize votes of `view` in engine epoch `epoch`, signed
/// with `share` as participant of the committee `output` describes.
pub(crate) fn votes(
    chain_id: &ChainId,
    output: &dkg::DkgOutput,
    share: &SecretShare,
    epoch: u64,
    view: u64,
) -> crate::tx::Equivocation {
    use commonware_consensus::simplex::types::{Activity, ConflictingNotarize, Notarize, Proposal};
    use commonware_consensus::types::{Epoch, Round, View};
    use commonware_utils::TryCollect as _;

    use crate::engine::{Scheme, namespace};

    let participants = output.players().into_iter().try_collect().unwrap();
    let scheme = Scheme::signer(
        &namespace(chain_id),
        participants,
        output.sharing().sharing().clone(),
        share.share().clone(),
    )
    .expect("a share of this sharing");
    let proposal = |payload| {
        Proposal::new(
            Round::new(Epoch::new(epoch), View::new(view)),
            View::new(view - 1),
            commonware_cryptography::blake3::Digest([payload; 32]),
        )
    };
    let activity = Activity::ConflictingNotarize(ConflictingNotarize::new(
        Notarize::sign(&scheme, proposal(1)).unwrap(),
        Notarize::sign(&scheme, proposal(2)).unwrap(),
    ));
    crate::tx::Equivocation::from_activity(&activity).unwrap()
}

/// A chain reshared once: member 1 (of the 4 genesis validators) left and
/// member 4 (a newcomer) joined at the end of epoch 0. The ledger is at
/// the start of epoch 1; the members hold their epoch-1 shares.
pub(crate) struct Reshared {
    pub(crate) chain: Chain,
    pub(crate) members: Vec<Member>,
    /// The genesis sharing (epoch 0's).
    pub(crate) genesis: dkg::DkgOutput,
    /// The sharing in force from epoch 1.
    pub(crate) output: dkg::DkgOutput,
    /// Each member's genesis share.
    pub(crate) old: Vec<Option<SecretShare>>,
}

pub(crate) fn reshared() -> Reshared {
    let committee = dealer_committee(4, &[5; 32]).unwrap();
    let mut members = members(&committee, &[77]);
    let mut chain = chain_of(&committee, &members, params());
    let genesis = chain.ledger.genesis_beacon_output().unwrap().clone();
    let newcomer = wallet_of(&members[4].identity);
    let leaving = wallet_of(&members[1].identity);
    let txs = replace(&mut chain, &newcomer, &leaving);
    all_applied(&chain.apply(txs));
    let (players, txs) = deal(&mut chain, &members, &[3], 9);
    all_applied(&chain.apply(txs));
    to_next_epoch(&mut chain);
    let output = chain.ledger.beacon_output().unwrap().unwrap();
    let old = members.iter().map(|m| m.share.as_ref().map(copy)).collect();
    finish(&chain, &mut members, players);
    assert_eq!(chain.ledger.epoch(), 1);
    Reshared {
        chain,
        members,
        genesis,
        output,
        old,
    }
}

/// Engine equivocation is judged against the committee of the votes'
/// epoch: after a resharing, votes signed with a new share in the new
/// epoch slash their signer, and votes signed with a genesis share in
/// epoch 0 still do (the superseded sharing is kept for the evidence
/// window); votes signed with an old share but claiming the new epoch,
/// votes of an epoch not begun, and votes older than the window are
/// refused with the fee and nonce only (the audit checks that), and the
/// superseded sharing is forgotten with the window.
#[test]
fn equivocation_is_judged_by_the_sharing_of_its_epoch() {
    use crate::ledger::EvidenceEpochError;
    use crate::ledger::staking::evidence_window;
    use crate::receipt::LedgerEvent;
    use crate::tx::{Evidence, Slot};

    let Reshared {
        mut chain,
        members,
        genesis: genesis_output,
        output,
        old,
    } = reshared();
    let chain_id = chain.ledger.chain_id();
    let newcomer = wallet_of(&members[4].identity);
    let equivocation = |output, share, epoch, view| {
        Evidence::Equivocation(votes(&chain_id, output, share, epoch, view))
    };
    assert_eq!(
        chain
            .ledger
            .state
            .past_sharings
            .get(&0)
            .map(|p| p.last_epoch),
        Some(0),
        "the genesis sharing is kept for evidence of epoch 0"
    );
    let reporter = wallet_of(&members[2].identity);
    let slash = |chain: &mut Chain, evidence| {
        let tx = chain.tx(&reporter, Action::SlashingEvidence { evidence });
        chain.apply(vec![tx])
    };
    let stake = |chain: &Chain, who: &Keypair| {
        chain
            .ledger
            .validator(&who.public_key())
            .map(|v| (v.stake, v.slashed))
            .unwrap()
    };
    let slot = |epoch, view| Slot {
        epoch,
        height: Slot::CONSENSUS_HEIGHT,
        view,
    };
    let cut = |amount: Chips| amount.get() * u64::from(params().double_vote_slash_bps) / 10_000;

    // The newcomer equivocates in epoch 1 with its reshared share.
    let evidence = equivocation(&output, members[4].share.as_ref().unwrap(), 1, 3);
    let block = slash(&mut chain, evidence);
    all_applied(&block);
    assert!(block.receipts[0].events.iter().any(|e| matches!(
        e,
        LedgerEvent::Slashed { validator, .. } if *validator == newcomer.public_key()
    )));
    assert_eq!(
        stake(&chain, &newcomer),
        (Chips(20_000 - cut(Chips(20_000))), true)
    );
    assert!(
        chain
            .ledger
            .is_punished(&newcomer.public_key(), &slot(1, 3))
    );

    // Validator 0's genesis share, in votes claiming epoch 1 (signed as
    // a member of the genesis committee): its index is a participant of
    // epoch 1's sharing, but the share is not of that polynomial — no
    // proof, nothing cut.
    let audited = chain.ledger.audited_rejections();
    let before = stake(&chain, &members[0].wallet);
    let stale = equivocation(&genesis_output, old[0].as_ref().unwrap(), 1, 4);
    let block = slash(&mut chain, stale);
    let reason = rejection(&block.receipts[0]).cloned();
    assert!(
        matches!(&reason, Some(RejectReason::EvidenceNotApplicable { reason }) if reason.as_str().contains("no proof of equivocation")),
        "{reason:?}"
    );
    assert_eq!(stake(&chain, &members[0].wallet), before);
    assert_eq!(chain.ledger.audited_rejections(), audited + 1);

    // The same genesis share in votes of epoch 0 (before the resharing)
    // proves equivocation against the superseded sharing.
    let evidence = equivocation(&genesis_output, old[0].as_ref().unwrap(), 0, 4);
    all_applied(&slash(&mut chain, evidence));
    assert_eq!(
        stake(&chain, &members[0].wallet),
        (Chips(10_000 - cut(Chips(10_000))), true)
    );
    assert!(
        chain
            .ledger
            .is_punished(&members[0].wallet.public_key(), &slot(0, 4))
    );

    // An epoch that has not begun has no sharing on record: refused.
    assert_eq!(
        chain.ledger.consensus_committee(2).unwrap().err(),
        Some(EvidenceEpochError::Future {
            epoch: 2,
            current: 1
        })
    );
    let audited = chain.ledger.audited_rejections();
    let before = stake(&chain, &members[2].wallet);
    let future = equivocation(&output, members[2].share.as_ref().unwrap(), 2, 5);
    let block = slash(&mut chain, future);
    let reason = rejection(&block.receipts[0]).cloned();
    assert!(
        matches!(&reason, Some(RejectReason::EvidenceNotApplicable { reason }) if reason.as_str().contains("after the current epoch 1")),
        "{reason:?}"
    );
    assert_eq!(stake(&chain, &members[2].wallet), before);
    assert_eq!(chain.ledger.audited_rejections(), audited + 1);

    // Past the window, epoch 0's sharing is forgotten and its votes are
    // refused as too old.
    let window = evidence_window(chain.ledger.params());
    while chain.ledger.epoch() <= window {
        to_next_epoch(&mut chain);
    }
    assert!(chain.ledger.state.past_sharings.get(&0).is_none());
    assert_eq!(
        chain.ledger.consensus_committee(0).unwrap().err(),
        Some(EvidenceEpochError::TooOld {
            epoch: 0,
            current: window + 1,
            window
        })
    );
    let audited = chain.ledger.audited_rejections();
    let before = stake(&chain, &members[3].wallet);
    let evidence = equivocation(&genesis_output, old[3].as_ref().unwrap(), 0, 6);
    let block = slash(&mut chain, evidence);
    let reason = rejection(&block.receipts[0]).cloned();
    assert!(
        matches!(&reason, Some(RejectReason::EvidenceNotApplicable { reason }) if reason.as_str().contains("too old to punish")),
        "{reason:?}"
    );
    assert_eq!(stake(&chain, &members[3].wallet), before);
    assert_eq!(chain.ledger.audited_rejections(), audited + 1);
    // Epoch 1's sharing is the one in force: still judged.
    assert!(matches!(chain.ledger.consensus_committee(1), Ok(Ok(_))));
}
