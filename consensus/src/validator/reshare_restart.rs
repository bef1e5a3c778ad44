//! A validator restarted during a resharing round keeps its part in it
//! (`validator/dealing_store.rs`, `validator/reshare.rs`), run with the
//! real [`Resharer`]s over an in-process message queue and the ledger of
//! `ledger/tests/reshare_tests.rs`: 4 genesis validators and a newcomer,
//! validator 1 unstakes and the newcomer stakes, so a round opens with
//! dealers 0–3 and players 0, 2, 3 and the newcomer.
//!
//! Validator [`P`] (a dealer and a player) deals, collects every
//! acknowledgement and accepts the dealings of dealers 0, 1 and itself,
//! then stops — before it signed its log, or (a scenario) after it signed
//! it but before the log reached a block — and before dealer [`LATE`]'s
//! dealing reaches it (that one is lost: its dealer gets no
//! acknowledgement and reveals it in its log). A new [`Resharer`] is made
//! for it over the same directory and the round runs to its end on the
//! ledger: the restarted player's share must be its share of the ledger's
//! new sharing (the sharing's public polynomial at its index), and the
//! restarted dealer's log must be in the round — re-created and
//! acknowledged again by every player, or the very bytes it signed before
//! it stopped.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use commonware_cryptography::Signer as _;

use super::{ReshareStep, Resharer, ShareStore};
use crate::beacon::SecretShare;
use crate::beacon::dkg::{self, DkgMessage, DkgOutput};
use crate::encoding::BoundedBytes;
use crate::engine::dealer_committee;
use crate::ledger::reshare::RoundStatus;
use crate::ledger::tests::reshare_tests::{
    Member, chain_of, members, params, replace, until_open, wallet_of,
};
use crate::ledger::tests::support::{Chain, all_applied};
use crate::tx::Action;

/// The validator restarted mid-round: a dealer and a player.
const P: usize = 2;
/// The dealer whose dealing to [`P`] arrives while it is down.
const LATE: usize = 3;
/// The validator that leaves the set (a dealer, not a player).
const LEAVER: usize = 1;
/// The newcomer (a player, not a dealer).
const NEWCOMER: usize = 4;

/// Messages in flight: (from, to, bytes).
type Queue = Arc<Mutex<VecDeque<(dkg::PublicKey, dkg::PublicKey, Vec<u8>)>>>;

/// How the scenario treats [`P`].
#[derive(Clone, Copy, PartialEq, Eq)]
struct Scenario {
    /// Whether [`P`]'s resharer persists its dealings.
    store: bool,
    /// Whether [`P`] also stops again before the ledger completes the
    /// round, and starts only after it.
    down_at_completion: bool,
    /// A byte of [`P`]'s persisted dealing from dealer 0 to flip while it
    /// is down (an altered file, which must be refused).
    tamper: bool,
    /// Whether [`P`] is down through the whole round instead (it starts
    /// only after the round completed).
    absent: bool,
    /// Whether [`P`] stops only after it signed its log (which is lost
    /// with it, before reaching a block).
    after_log: bool,
    /// A byte of [`P`]'s recorded dealer seed to flip while it is down (it
    /// would re-create another dealing, which must not be sent).
    tamper_seed: bool,
    /// Whether [`P`]'s directory holds, while it is down, what a version
    /// before the dealer file left: a `dealt-<round>` marker and no dealer
    /// file (the node was upgraded mid-round).
    legacy_marker: bool,
}

const RESTARTED: Scenario = Scenario {
    store: true,
    down_at_completion: false,
    tamper: false,
    absent: false,
    after_log: false,
    tamper_seed: false,
    legacy_marker: false,
};

/// What the scenario found.
struct Outcome {
    /// The share [`P`]'s last resharer derived (`None`: none).
    share: Option<SecretShare>,
    /// The ledger's new sharing.
    output: DkgOutput,
    /// The messages [`P`]'s resharer sent when it was started again, mid
    /// round, decoded, by recipient.
    resent: Vec<(dkg::PublicKey, DkgMessage)>,
    /// The dealers whose logs the ledger recorded, with the logs.
    logged: BTreeMap<dkg::PublicKey, Vec<u8>>,
    /// The log [`P`] signed before it stopped, if it did.
    signed_before_stop: Option<Vec<u8>>,
    /// The round's description.
    info: dkg::RoundInfo,
    /// What the other validators derived (by member index).
    others: BTreeMap<usize, Option<SecretShare>>,
    /// The files in [`P`]'s directory after the round, before and after
    /// [`Resharer::forget_dealings`].
    files: (Vec<String>, Vec<String>),
    /// The files in the leaver's directory after the round.
    leaver_files: Vec<String>,
    /// Whether [`P`]'s last resharer was started after the round completed.
    started_after_completion: bool,
    members: Vec<Member>,
}

struct Node {
    identity: dkg::PrivateKey,
    resharer: Option<Resharer>,
    dir: Option<PathBuf>,
}

fn start(node: &mut Node, queue: &Queue, seed: u8) {
    let me = node.identity.public_key();
    let queue = queue.clone();
    let resharer = Resharer::new(
        node.identity.clone(),
        Box::new(move |to, bytes| {
            queue
                .lock()
                .unwrap()
                .push_back((me.clone(), to.clone(), bytes));
        }),
        [seed; 32],
    )
    .unwrap();
    if let Some(dir) = &node.dir {
        resharer.use_dealing_store(ShareStore::open(dir).unwrap().dealings());
    }
    node.resharer = Some(resharer);
}

/// Delivers every message in flight (and those the deliveries make) to
/// the running recipients; `keep` may take a message out of the queue
/// instead (it is then lost to its recipient).
fn deliver(
    queue: &Queue,
    nodes: &[Node],
    mut keep: impl FnMut(&dkg::PublicKey, &dkg::PublicKey, &[u8]) -> bool,
) {
    loop {
        let Some((from, to, bytes)) = queue.lock().unwrap().pop_front() else {
            return;
        };
        if keep(&from, &to, &bytes) {
            continue;
        }
        if let Some(resharer) = nodes
            .iter()
            .find(|n| n.identity.public_key() == to)
            .and_then(|n| n.resharer.as_ref())
        {
            resharer.receive(&from, &bytes);
        }
    }
}

/// Lets every running resharer follow the chain; returns the dealer-log
/// transactions they ask for (once per dealer), by node, and records new
/// shares.
fn follow(
    chain: &mut Chain,
    nodes: &[Node],
    members: &[Member],
    submitted: &mut Vec<usize>,
    shares: &mut BTreeMap<usize, Option<SecretShare>>,
) -> Vec<(usize, crate::tx::SignedTransaction)> {
    let mut txs = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let Some(resharer) = &node.resharer else {
            continue;
        };
        for step in resharer.finalized(&chain.ledger, members[i].share.as_ref()) {
            match step {
                ReshareStep::SubmitLog { round, log } => {
                    if !submitted.contains(&i) {
                        submitted.push(i);
                        let action = Action::DealerLog {
                            round,
                            log: BoundedBytes::new(log).unwrap(),
                        };
                        txs.push((i, chain.tx(&members[i].wallet, action)));
                    }
                }
                ReshareStep::NewShare { share, .. } => {
                    shares.insert(i, share);
                }
            }
        }
    }
    txs
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn run(scenario: Scenario) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let committee = dealer_committee(4, &[5; 32]).unwrap();
    let members = members(&committee, &[77]);
    let mut chain = chain_of(&committee, &members, params());
    let newcomer = wallet_of(&members[NEWCOMER].identity);
    let leaving = wallet_of(&members[LEAVER].identity);
    let txs = replace(&mut chain, &newcomer, &leaving);
    all_applied(&chain.apply(txs));
    let round = until_open(&mut chain);
    let key = |i: usize| members[i].identity.public_key();
    assert_eq!(round.dealers.len(), 4);
    assert!(round.players.contains(&members[P].wallet.public_key()));
    assert!(!round.players.contains(&leaving.public_key()));
    let info =
        crate::ledger::reshare::round_info(&chain.ledger.beacon_output().unwrap().unwrap(), &round)
            .unwrap();

    let queue: Queue = Arc::default();
    let mut nodes: Vec<Node> = members
        .iter()
        .enumerate()
        .map(|(i, m)| Node {
            identity: m.identity.clone(),
            resharer: None,
            dir: (i != P || scenario.store).then(|| dir.path().join(format!("node-{i}"))),
        })
        .collect();
    for (i, node) in nodes.iter_mut().enumerate() {
        if i != P || !scenario.absent {
            start(node, &queue, i as u8);
        }
    }
    let mut submitted = Vec::new();
    let mut shares = BTreeMap::new();

    // Everyone deals and acknowledges, except that dealer LATE's dealing
    // to P is held back.
    let txs = follow(&mut chain, &nodes, &members, &mut submitted, &mut shares);
    assert!(txs.is_empty(), "no log before the acknowledgements");
    let mut held = Vec::new();
    deliver(&queue, &nodes, |from, to, bytes| {
        let late = *from == key(LATE)
            && *to == key(P)
            && matches!(DkgMessage::decode(bytes), Ok(DkgMessage::Dealing { .. }));
        if late {
            held.push(bytes.to_vec());
        }
        late
    });
    assert_eq!(held.len(), 1);

    // The dealers sign their logs; P's is lost with it (it stops before
    // the log reaches a block), the others' go in the next block.
    let mut signed_before_stop = None;
    if scenario.after_log {
        let mut others = Vec::new();
        for (i, tx) in follow(&mut chain, &nodes, &members, &mut submitted, &mut shares) {
            match (i, &tx.tx.action) {
                (P, Action::DealerLog { log, .. }) => {
                    signed_before_stop = Some(log.to_vec());
                    submitted.retain(|&j| j != P);
                }
                _ => others.push(tx),
            }
        }
        assert!(signed_before_stop.is_some(), "P signed no log");
        all_applied(&chain.apply(others));
    }

    // P stops; the held dealing reaches it while it is down (lost).
    nodes[P].resharer = None;
    drop(held);
    if scenario.tamper {
        let dealings = ShareStore::open(nodes[P].dir.as_ref().unwrap())
            .unwrap()
            .dealings();
        let path = dealings.path_of(round.round, &key(0));
        let mut bytes = std::fs::read(&path).unwrap();
        // The last byte of the private scalar: it still decodes, but no
        // longer verifies against the commitment.
        bytes[8 + 8 + 32 + 31] ^= 1;
        std::fs::write(&path, bytes).unwrap();
    }
    if scenario.tamper_seed {
        let dealings = ShareStore::open(nodes[P].dir.as_ref().unwrap())
            .unwrap()
            .dealings();
        let path = dealings.dealer_path(round.round);
        let mut bytes = std::fs::read(&path).unwrap();
        // A byte of the seed: the file decodes, the dealing it gives is
        // another.
        bytes[8 + 8] ^= 1;
        std::fs::write(&path, bytes).unwrap();
    }
    if scenario.legacy_marker {
        let dealings = ShareStore::open(nodes[P].dir.as_ref().unwrap())
            .unwrap()
            .dealings();
        std::fs::remove_file(dealings.dealer_path(round.round)).unwrap();
        // The old format: a magic and the round.
        let mut marker = b"BCDEALT1".to_vec();
        marker.extend_from_slice(&round.round.to_le_bytes());
        std::fs::write(dealings.legacy_dealt_path(round.round), marker).unwrap();
    }
    // A new resharer over the same directory, with another seed.
    if !scenario.absent {
        start(&mut nodes[P], &queue, 100);
    }
    let mut txs = follow(&mut chain, &nodes, &members, &mut submitted, &mut shares);
    let resent: Vec<(dkg::PublicKey, DkgMessage)> = queue
        .lock()
        .unwrap()
        .iter()
        .filter(|(from, ..)| *from == key(P))
        .map(|(_, to, bytes)| (to.clone(), DkgMessage::decode(bytes).unwrap()))
        .collect();
    deliver(&queue, &nodes, |_, _, _| false);

    // The round runs to its end on the ledger: logs as the dealers sign
    // them, blocks until the round closes.
    loop {
        let status = chain
            .ledger
            .resharing()
            .and_then(|r| r.round.as_ref())
            .map(|r| r.status);
        if status != Some(RoundStatus::Open) {
            break;
        }
        // P stops again before the closing block (once every log it will
        // see is in).
        if scenario.down_at_completion
            && nodes[P].resharer.is_some()
            && chain.ledger.next_height() == round.deadline
        {
            nodes[P].resharer = None;
        }
        all_applied(&chain.apply(txs.into_iter().map(|(_, tx)| tx).collect()));
        deliver(&queue, &nodes, |_, _, _| false);
        txs = follow(&mut chain, &nodes, &members, &mut submitted, &mut shares);
        deliver(&queue, &nodes, |_, _, _| false);
    }
    let started_after_completion = nodes[P].resharer.is_none();
    if started_after_completion {
        assert!(!shares.contains_key(&P));
        start(&mut nodes[P], &queue, 101);
        let more = follow(&mut chain, &nodes, &members, &mut submitted, &mut shares);
        assert!(more.is_empty());
    }
    let record = chain.ledger.resharing().unwrap().round.clone().unwrap();
    assert!(
        matches!(record.status, RoundStatus::Completed { .. }),
        "the round failed"
    );
    let logged = record
        .logs
        .iter()
        .map(|(dealer, log)| {
            let dealer = crate::ledger::reshare::identity(dealer).unwrap();
            (dealer, log.clone())
        })
        .collect();
    let output = chain.ledger.beacon_output().unwrap().unwrap();
    let share = shares
        .remove(&P)
        .expect("P's resharer reports on the round");

    let p_files = |nodes: &[Node]| nodes[P].dir.as_deref().map(files).unwrap_or_default();
    let before = p_files(&nodes);
    nodes[P]
        .resharer
        .as_ref()
        .unwrap()
        .forget_dealings(record.round);
    let after = p_files(&nodes);
    let leaver_files = files(nodes[LEAVER].dir.as_ref().unwrap());
    Outcome {
        share,
        output,
        resent,
        logged,
        signed_before_stop,
        info,
        others: shares,
        files: (before, after),
        leaver_files,
        started_after_completion,
        members,
    }
}

/// `share` is `who`'s share of `output`: at its index, and its public
/// share the public polynomial there.
fn assert_share_of(output: &DkgOutput, who: &Member, share: Option<&SecretShare>) {
    let share = share.expect("a share of the new sharing");
    assert_eq!(
        Some(share.index()),
        output.index_of(&who.identity.public_key())
    );
    assert!(
        output.sharing().holds(share),
        "not the sharing's polynomial at its index"
    );
}

/// Whether `dealer`'s `log` of the round `info` acknowledges every one
/// of `players` (none revealed).
fn acknowledges_all(
    info: &dkg::RoundInfo,
    dealer: &dkg::PublicKey,
    log: &[u8],
    players: &[dkg::PublicKey],
) -> bool {
    players
        .iter()
        .all(|player| dkg::log_acknowledges(info, dealer, log, player).unwrap())
}

/// What [`P`] sent when started again mid round: the players it sent a
/// dealing, and the dealers it sent an acknowledgement (sorted).
fn resent_by_kind(outcome: &Outcome) -> (Vec<dkg::PublicKey>, Vec<dkg::PublicKey>) {
    let (mut dealt, mut acked) = (Vec::new(), Vec::new());
    for (to, message) in &outcome.resent {
        match message {
            DkgMessage::Dealing { .. } => dealt.push(to.clone()),
            DkgMessage::Ack { .. } => acked.push(to.clone()),
        }
    }
    dealt.sort();
    acked.sort();
    (dealt, acked)
}

/// Everyone but the leaver holds its share of the new sharing: with a
/// threshold of them every later beacon signature verifies under the
/// group key, which the ledger checked the round kept.
fn assert_every_player_has_its_share(outcome: &Outcome) {
    assert_share_of(&outcome.output, &outcome.members[P], outcome.share.as_ref());
    for i in [0, LATE, NEWCOMER] {
        assert_share_of(
            &outcome.output,
            &outcome.members[i],
            outcome.others[&i].as_ref(),
        );
    }
    assert!(outcome.others[&LEAVER].is_none());
}

#[test]
fn a_validator_restarted_mid_round_deals_again_and_derives_its_share() {
    let outcome = run(RESTARTED);
    assert!(!outcome.started_after_completion);
    let key = |i: usize| outcome.members[i].identity.public_key();
    assert_every_player_has_its_share(&outcome);
    // Restarted, P re-created its dealing and sent it again to the other
    // players, and acknowledged again the dealings of the dealers still
    // collecting (0 and the leaver; not LATE's, which never reached it;
    // its own it acknowledged to itself).
    let (dealt, acked) = resent_by_kind(&outcome);
    let mut players = vec![key(0), key(LATE), key(NEWCOMER)];
    players.sort();
    assert_eq!(dealt, players);
    let mut dealers = vec![key(0), key(LEAVER)];
    dealers.sort();
    assert_eq!(acked, dealers);
    // Every player acknowledged the re-sent dealing again (it is the one
    // they kept: a different one would have been refused), so P's log is
    // in the round, revealing nothing; LATE's (revealing P's dealing) too.
    let log = &outcome.logged[&key(P)];
    let all: Vec<dkg::PublicKey> = [0, P, LATE, NEWCOMER].map(key).to_vec();
    assert!(acknowledges_all(&outcome.info, &key(P), log, &all));
    assert!(outcome.logged.contains_key(&key(LATE)));
    // The dealings, P's seed and log stay until the application has the
    // share durable, then go; the leaver (no share to derive) erased its
    // own files itself.
    let (before, after) = &outcome.files;
    assert_eq!(
        before.iter().filter(|f| f.starts_with("dealing-")).count(),
        3,
        "{before:?}"
    );
    assert!(
        before.iter().any(|f| f.starts_with("dealer-")),
        "{before:?}"
    );
    assert!(
        before.iter().any(|f| f.starts_with("dealerlog-")),
        "{before:?}"
    );
    assert!(after.is_empty(), "{after:?}");
    assert!(
        outcome.leaver_files.is_empty(),
        "{:?}",
        outcome.leaver_files
    );
}

/// A dealer stopped after it signed its log, before the log reached a
/// block, submits the very bytes it signed after the restart (it deals
/// no second time and signs no other log), and they are the round's.
#[test]
fn a_dealer_restarted_after_signing_its_log_submits_the_same_log() {
    let outcome = run(Scenario {
        after_log: true,
        ..RESTARTED
    });
    let key = |i: usize| outcome.members[i].identity.public_key();
    assert_every_player_has_its_share(&outcome);
    // No dealing again; no acknowledgement either: the other dealers'
    // logs went in while it was down.
    let (dealt, acked) = resent_by_kind(&outcome);
    assert!(dealt.is_empty(), "P dealt again: {dealt:?}");
    assert!(acked.is_empty(), "{acked:?}");
    let signed = outcome.signed_before_stop.as_ref().unwrap();
    assert_eq!(&outcome.logged[&key(P)], signed);
    let all: Vec<dkg::PublicKey> = [0, P, LATE, NEWCOMER].map(key).to_vec();
    assert!(acknowledges_all(&outcome.info, &key(P), signed, &all));
}

/// A recorded seed altered on disk gives another dealing after the
/// restart: the dealer refuses to send it (its players would refuse it)
/// and stays out of the round's dealing, as before this record existed;
/// the round completes on the other dealers' logs.
#[test]
fn an_altered_dealer_seed_is_refused_and_the_dealer_stays_out() {
    let outcome = run(Scenario {
        tamper_seed: true,
        ..RESTARTED
    });
    let key = |i: usize| outcome.members[i].identity.public_key();
    assert_every_player_has_its_share(&outcome);
    let (dealt, _) = resent_by_kind(&outcome);
    assert!(dealt.is_empty(), "P dealt again: {dealt:?}");
    assert!(!outcome.logged.contains_key(&key(P)));
}

/// A node upgraded mid-round from a version that marked that it dealt
/// (`dealt-<round>`) but kept no seed: it cannot re-create its dealing,
/// and a new one would be a second, different dealing, so it stays out of
/// the round's dealing; as a player it still derives its share, and the
/// round completes on the other dealers' logs.
#[test]
fn a_dealer_upgraded_mid_round_with_a_dealt_marker_does_not_deal_again() {
    let outcome = run(Scenario {
        legacy_marker: true,
        ..RESTARTED
    });
    let key = |i: usize| outcome.members[i].identity.public_key();
    assert_every_player_has_its_share(&outcome);
    let (dealt, _) = resent_by_kind(&outcome);
    assert!(dealt.is_empty(), "P dealt again: {dealt:?}");
    assert!(!outcome.logged.contains_key(&key(P)));
    // The marker goes with the round's other files.
    assert!(
        outcome
            .files
            .0
            .iter()
            .any(|name| name.starts_with("dealt-")),
        "{:?}",
        outcome.files.0
    );
    assert!(
        outcome
            .files
            .1
            .iter()
            .all(|name| !name.starts_with("dealt-")),
        "{:?}",
        outcome.files.1
    );
}

#[test]
fn a_player_restarted_again_after_the_round_completed_derives_its_share() {
    let outcome = run(Scenario {
        down_at_completion: true,
        ..RESTARTED
    });
    assert!(outcome.started_after_completion);
    assert_share_of(&outcome.output, &outcome.members[P], outcome.share.as_ref());
    // It derived it from the files the first restart left.
    assert_eq!(
        outcome
            .files
            .0
            .iter()
            .filter(|f| f.starts_with("dealing-"))
            .count(),
        3
    );
    assert!(outcome.files.1.is_empty(), "{:?}", outcome.files.1);
}

/// The gap the dealing store closes: without it the restarted player has
/// lost the dealings whose acknowledgements dealers 0 and 1 logged, and
/// derives no share.
#[test]
fn without_a_dealing_store_the_restarted_player_gets_no_share() {
    let outcome = run(Scenario {
        store: false,
        ..RESTARTED
    });
    assert!(outcome.share.is_none());
    // The others are not affected (P deals again as a new dealer: every
    // player that kept its first dealing refuses the second).
    assert_share_of(
        &outcome.output,
        &outcome.members[NEWCOMER],
        outcome.others[&NEWCOMER].as_ref(),
    );
}

/// A persisted dealing altered on disk is refused when the player is
/// rebuilt (no panic, not acknowledged again); the player carries on with
/// the others, and since dealer 0's log lists its acknowledgement of the
/// dealing it lost, it derives no share.
#[test]
fn an_altered_persisted_dealing_is_refused_and_the_rest_restored() {
    let outcome = run(Scenario {
        tamper: true,
        ..RESTARTED
    });
    let key = |i: usize| outcome.members[i].identity.public_key();
    let (_, acked) = resent_by_kind(&outcome);
    assert_eq!(acked, vec![key(LEAVER)]);
    assert!(outcome.share.is_none());
    assert_share_of(
        &outcome.output,
        &outcome.members[0],
        outcome.others[&0].as_ref(),
    );
}

/// A player down through the whole round (no dealing reached it, so every
/// dealer revealed its dealing) derives its share when it starts after the
/// round completed, from the logs' reveals: it holds no share of the new
/// sharing, so its new resharer rebuilds a player for the round.
#[test]
fn a_player_down_through_the_round_derives_its_share_from_the_reveals() {
    let outcome = run(Scenario {
        absent: true,
        ..RESTARTED
    });
    assert!(outcome.started_after_completion);
    assert!(outcome.resent.is_empty());
    assert_share_of(&outcome.output, &outcome.members[P], outcome.share.as_ref());
    assert!(outcome.files.0.is_empty(), "{:?}", outcome.files.0);
}

/// A player answers a dealer that sends its dealing again (a restarted
/// dealer collecting its acknowledgements again) with the same
/// acknowledgement, and refuses a different dealing from that dealer in
/// the round — before and after a restart of its own.
#[test]
fn a_player_acknowledges_the_same_dealing_again_and_refuses_another() {
    let dir = tempfile::tempdir().unwrap();
    let committee = dealer_committee(4, &[5; 32]).unwrap();
    let members = members(&committee, &[77]);
    let mut chain = chain_of(&committee, &members, params());
    let newcomer = wallet_of(&members[NEWCOMER].identity);
    let leaving = wallet_of(&members[LEAVER].identity);
    let txs = replace(&mut chain, &newcomer, &leaving);
    all_applied(&chain.apply(txs));
    let round = until_open(&mut chain);
    let info =
        crate::ledger::reshare::round_info(&chain.ledger.beacon_output().unwrap().unwrap(), &round)
            .unwrap();
    let dealer = members[0].identity.public_key();
    let me = members[NEWCOMER].identity.public_key();
    // Dealer 0's dealing to the newcomer, drawn from `seed`.
    let dealing = |seed: u64| {
        use rand_chacha::rand_core::SeedableRng as _;
        let (_, public, private) = dkg::start_dealer(
            &mut rand_chacha::ChaCha20Rng::seed_from_u64(seed),
            &info,
            members[0].identity.clone(),
            members[0].share.as_ref().unwrap(),
        )
        .unwrap();
        let private = private.into_iter().find(|(p, _)| *p == me).unwrap().1;
        DkgMessage::Dealing {
            round: round.round,
            public,
            private,
        }
        .encode()
    };
    let queue: Queue = Arc::default();
    // What the newcomer sent dealer 0 since the last call.
    let sent = |queue: &Queue| -> Vec<Vec<u8>> {
        queue
            .lock()
            .unwrap()
            .drain(..)
            .filter(|(_, to, _)| *to == dealer)
            .map(|(.., bytes)| bytes)
            .collect()
    };
    let mut node = Node {
        identity: members[NEWCOMER].identity.clone(),
        resharer: None,
        dir: Some(dir.path().to_owned()),
    };
    start(&mut node, &queue, 9);
    let resharer = node.resharer.clone().unwrap();
    assert!(resharer.finalized(&chain.ledger, None).is_empty());
    resharer.receive(&dealer, &dealing(1));
    let ack = sent(&queue);
    assert_eq!(ack.len(), 1);
    assert!(matches!(
        DkgMessage::decode(&ack[0]),
        Ok(DkgMessage::Ack { .. })
    ));
    resharer.receive(&dealer, &dealing(1));
    assert_eq!(sent(&queue), ack, "the same dealing again");
    resharer.receive(&dealer, &dealing(2));
    assert!(sent(&queue).is_empty(), "another dealing acknowledged");

    // Restarted: it acknowledges the kept dealing again at once (dealer 0
    // has no log in yet), and answers as before.
    start(&mut node, &queue, 10);
    let resharer = node.resharer.clone().unwrap();
    assert!(resharer.finalized(&chain.ledger, None).is_empty());
    assert_eq!(sent(&queue), ack);
    resharer.receive(&dealer, &dealing(1));
    assert_eq!(sent(&queue), ack, "the same dealing after a restart");
    resharer.receive(&dealer, &dealing(2));
    assert!(sent(&queue).is_empty(), "another dealing after a restart");
}
