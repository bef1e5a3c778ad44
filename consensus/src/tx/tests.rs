//! Transaction tests, and the proptest strategies the block and receipt
//! tests share.

use super::*;
use crate::encoding::{BoundedBytes, BoundedString};
use crate::hash::Hash;
use game_rules::craps::{BetKind, Hop, OddsLimit, PointNumber, Working};
use proptest::prelude::*;

pub(crate) const CHAIN: ChainId = ChainId::new([0x42; 32]);
pub(crate) const OTHER_CHAIN: ChainId = ChainId::new([0x43; 32]);

pub(crate) fn keypair(seed: u8) -> Keypair {
    Keypair::from_secret_bytes(&[seed; 32])
}

/// Every craps bet kind (58 of them).
pub(crate) fn all_bet_kinds() -> Vec<BetKind> {
    BetKind::all().collect()
}

pub(crate) mod strategies {
    use super::*;
    use crate::block::{BeaconEntry, MAX_BEACON_SIGNATURE_BYTES};
    use crate::tx::evidence::Vote;

    pub(crate) fn chips() -> impl Strategy<Value = Chips> {
        prop_oneof![Just(0u64), 1u64..1_000, any::<u64>()].prop_map(Chips)
    }

    pub(crate) fn table() -> impl Strategy<Value = TableId> {
        prop_oneof![0u64..10, any::<u64>()].prop_map(TableId)
    }

    pub(crate) fn bet_kind() -> impl Strategy<Value = BetKind> {
        let kinds = all_bet_kinds();
        (0..kinds.len()).prop_map(move |i| kinds[i])
    }

    pub(crate) fn odds_limit() -> impl Strategy<Value = OddsLimit> {
        prop_oneof![
            Just(OddsLimit::ThreeFourFive),
            any::<u32>().prop_map(OddsLimit::Flat)
        ]
    }

    pub(crate) fn working() -> impl Strategy<Value = Working> {
        prop_oneof![
            Just(Working::TableDefault),
            Just(Working::On),
            Just(Working::Off)
        ]
    }

    pub(crate) fn text<const N: usize>() -> impl Strategy<Value = BoundedString<N>> {
        ".{0,40}".prop_map(|s| BoundedString::lossy(&s))
    }

    pub(crate) fn bytes<const N: usize>() -> impl Strategy<Value = BoundedBytes<N>> {
        prop::collection::vec(any::<u8>(), 0..=N).prop_map(|b| BoundedBytes::new(b).unwrap())
    }

    pub(crate) fn public_key() -> impl Strategy<Value = PublicKey> {
        any::<[u8; 32]>().prop_map(|s| Keypair::from_secret_bytes(&s).public_key())
    }

    pub(crate) fn address() -> impl Strategy<Value = Address> {
        any::<[u8; 20]>().prop_map(Address::from_bytes)
    }

    pub(crate) fn table_game() -> impl Strategy<Value = TableGame> {
        prop_oneof![
            (chips(), chips()).prop_map(|(min_bet, max_bet)| TableGame::Crash { min_bet, max_bet }),
            (chips(), chips(), odds_limit()).prop_map(|(min_bet, max_bet, odds)| {
                TableGame::Craps {
                    min_bet,
                    max_bet,
                    odds,
                }
            }),
        ]
    }

    /// Evidence with real signatures: sometimes a genuine double vote,
    /// sometimes not (same block, other slot); or engine votes that are
    /// arbitrary bytes (real ones are in `equivocation`'s tests: signing
    /// them is too slow for every case here).
    pub(crate) fn evidence() -> impl Strategy<Value = Evidence> {
        prop_oneof![
            3 => double_vote(),
            1 => (
                prop_oneof![
                    Just(ConflictKind::Notarize),
                    Just(ConflictKind::Finalize),
                    Just(ConflictKind::NullifyFinalize),
                ],
                bytes::<MAX_EQUIVOCATION_BYTES>(),
            )
                .prop_map(|(kind, votes)| Evidence::Equivocation(Equivocation { kind, votes })),
        ]
    }

    fn double_vote() -> impl Strategy<Value = Evidence> {
        (
            any::<u8>(),
            any::<u64>(),
            any::<u64>(),
            0u64..4,
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            any::<bool>(),
        )
            .prop_map(|(seed, epoch, height, view, a, b, same_view)| {
                let k = keypair(seed);
                let first = Vote {
                    epoch,
                    height,
                    view,
                    block: Hash::new(a),
                };
                let second = Vote {
                    view: if same_view { view } else { view + 1 },
                    block: Hash::new(b),
                    ..first
                };
                Evidence::DoubleVote {
                    validator: k.public_key(),
                    first: first.sign(&CHAIN, &k),
                    second: second.sign(&CHAIN, &k),
                }
            })
    }

    pub(crate) fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            (address(), chips()).prop_map(|(to, amount)| Action::Transfer { to, amount }),
            chips().prop_map(|amount| Action::BankrollDeposit { amount }),
            any::<u128>().prop_map(|shares| Action::BankrollWithdraw { shares }),
            (text(), any::<u16>(), table_game()).prop_map(|(name, max_players, game)| {
                Action::CreateTable {
                    name,
                    max_players,
                    game,
                }
            }),
            table().prop_map(|table| Action::CloseTable { table }),
            table().prop_map(|table| Action::JoinTable { table }),
            table().prop_map(|table| Action::LeaveTable { table }),
            (table(), bet_kind(), chips()).prop_map(|(table, kind, amount)| Action::CrapsBet {
                table,
                kind,
                amount
            }),
            (table(), any::<u64>(), chips()).prop_map(|(table, bet, amount)| Action::CrapsOdds {
                table,
                bet,
                amount
            }),
            (table(), any::<u64>()).prop_map(|(table, bet)| Action::CrapsTakeDown { table, bet }),
            (table(), any::<u64>(), working()).prop_map(|(table, bet, working)| {
                Action::CrapsSetWorking {
                    table,
                    bet,
                    working,
                }
            }),
            (
                table(),
                chips(),
                prop::option::of(prop_oneof![100u64..1_000, any::<u64>()])
            )
                .prop_map(|(table, amount, auto_cash_out)| Action::CrashBet {
                    table,
                    amount,
                    auto_cash_out
                }),
            table().prop_map(|table| Action::CrashCashOut { table }),
            (public_key(), text()).prop_map(|(consensus_key, network_address)| {
                Action::RegisterValidator {
                    consensus_key,
                    network_address,
                }
            }),
            chips().prop_map(|amount| Action::Stake { amount }),
            chips().prop_map(|amount| Action::Unstake { amount }),
            evidence().prop_map(|evidence| Action::SlashingEvidence { evidence }),
            chips().prop_map(|amount| Action::Faucet { amount }),
            (any::<u64>(), bytes::<MAX_DEALER_LOG_BYTES>())
                .prop_map(|(round, log)| Action::DealerLog { round, log }),
        ]
    }

    /// An arbitrary transaction signed by its sender (on [`CHAIN`] or,
    /// rarely, another chain).
    pub(crate) fn signed_transaction() -> impl Strategy<Value = SignedTransaction> {
        (
            any::<u8>(),
            prop_oneof![9 => Just(CHAIN), 1 => Just(OTHER_CHAIN)],
            any::<u64>(),
            chips(),
            any::<u64>(),
            action(),
        )
            .prop_map(|(seed, chain_id, nonce, fee, expiry_height, action)| {
                let k = keypair(seed);
                Transaction {
                    chain_id,
                    sender: k.public_key(),
                    nonce,
                    fee,
                    expiry_height,
                    action,
                }
                .sign(&k)
            })
    }

    pub(crate) fn beacon_entry() -> impl Strategy<Value = BeaconEntry> {
        (any::<u64>(), bytes::<MAX_BEACON_SIGNATURE_BYTES>())
            .prop_map(|(height, signature)| BeaconEntry { height, signature })
    }
}

/// A well-formed transfer from `keypair(seed)`.
pub(crate) fn transfer(seed: u8, nonce: u64, amount: u64) -> SignedTransaction {
    let k = keypair(seed);
    Transaction {
        chain_id: CHAIN,
        sender: k.public_key(),
        nonce,
        fee: Chips(1),
        expiry_height: 1_000,
        action: Action::Transfer {
            to: keypair(200).address(),
            amount: Chips(amount),
        },
    }
    .sign(&k)
}

/// The largest possible transaction of each action (every bounded field
/// full, every integer at its widest), signed.
pub(crate) fn largest_transactions() -> Vec<SignedTransaction> {
    let k = keypair(1);
    let big = Chips(u64::MAX);
    let table = TableId(u64::MAX);
    let vote = |block| Vote {
        epoch: u64::MAX,
        height: u64::MAX,
        view: u64::MAX,
        block: Hash::new([block; 32]),
    };
    let actions = vec![
        Action::Transfer {
            to: k.address(),
            amount: big,
        },
        Action::BankrollWithdraw { shares: u128::MAX },
        Action::CreateTable {
            name: BoundedString::new("x".repeat(MAX_TABLE_NAME_BYTES)).unwrap(),
            max_players: u16::MAX,
            game: TableGame::Craps {
                min_bet: big,
                max_bet: big,
                odds: OddsLimit::Flat(u32::MAX),
            },
        },
        Action::CrapsBet {
            table,
            kind: BetKind::Hop(Hop::new(6, 6).unwrap()),
            amount: big,
        },
        Action::CrapsSetWorking {
            table,
            bet: u64::MAX,
            working: Working::Off,
        },
        Action::CrashBet {
            table,
            amount: big,
            auto_cash_out: Some(u64::MAX),
        },
        Action::RegisterValidator {
            consensus_key: k.public_key(),
            network_address: BoundedString::new("a".repeat(MAX_NETWORK_ADDRESS_BYTES)).unwrap(),
        },
        Action::SlashingEvidence {
            evidence: Evidence::DoubleVote {
                validator: k.public_key(),
                first: vote(1).sign(&CHAIN, &k),
                second: vote(2).sign(&CHAIN, &k),
            },
        },
        Action::SlashingEvidence {
            evidence: Evidence::Equivocation(Equivocation {
                kind: ConflictKind::Notarize,
                votes: BoundedBytes::new(vec![0xff; MAX_EQUIVOCATION_BYTES]).unwrap(),
            }),
        },
        Action::DealerLog {
            round: u64::MAX,
            log: BoundedBytes::new(vec![0xff; MAX_DEALER_LOG_BYTES]).unwrap(),
        },
    ];
    actions
        .into_iter()
        .map(|action| {
            Transaction {
                chain_id: CHAIN,
                sender: k.public_key(),
                nonce: u64::MAX,
                fee: big,
                expiry_height: u64::MAX,
                action,
            }
            .sign(&k)
        })
        .collect()
}

/// The encoded size of the largest possible transaction.
pub(crate) fn largest_transaction_len() -> usize {
    largest_transactions()
        .iter()
        .map(|t| t.encode().len())
        .max()
        .unwrap()
}

#[test]
fn every_possible_transaction_fits_the_limit() {
    let largest = largest_transaction_len();
    // A dealer log: 32+32+8+8+8 header, 1 action tag, 8 round, a 4-byte
    // length and MAX_DEALER_LOG_BYTES, then the 64-byte signature = 53,157
    // bytes. Every other action stays under 2 KiB: SlashingEvidence of
    // engine votes is the next largest, 1 evidence tag, 1 kind tag, a
    // 4-byte length and two votes of at most 163 bytes each (round 2×10,
    // parent view 10, digest 32, signer 5, vote and seed signatures 2×48)
    // = 485 bytes (a double vote is 426, a validator registration 317).
    assert_eq!(MAX_EQUIVOCATION_BYTES, 2 * 163);
    assert_eq!(MAX_DEALER_LOG_BYTES, 52_992);
    assert_eq!(largest, 53_157);
    assert!(largest <= MAX_TX_BYTES, "{largest} > {MAX_TX_BYTES}");
    let others = largest_transactions()
        .iter()
        .filter(|t| !matches!(t.tx.action, Action::DealerLog { .. }))
        .map(|t| t.encode().len())
        .max()
        .unwrap();
    assert!(others < 2 * 1024, "{others}");
    for t in largest_transactions() {
        assert_eq!(SignedTransaction::decode(&t.encode()), Ok(t.clone()));
        assert_eq!(t.verify(), Ok(()));
    }
}

#[test]
fn signed_bytes_are_the_wallet_layout_over_the_borsh_encoding() {
    let t = transfer(1, 0, 5);
    let mut expected = b"bitcraps/v1/transaction\0".to_vec();
    expected.extend_from_slice(CHAIN.as_bytes());
    expected.extend_from_slice(&t.tx.encode());
    assert_eq!(t.tx.signing_bytes(), expected);
    assert_eq!(t.encode()[..t.tx.encode().len()], t.tx.encode()[..]);
    assert_eq!(&t.encode()[t.tx.encode().len()..], t.signature.as_bytes());
}

/// Pins the byte layout and the hash of one transaction: if this fails, the
/// encoding changed and every node must change with it.
#[test]
fn golden_transaction_encoding() {
    let t = transfer(7, 3, 250);
    let encoded = hex::encode(t.encode());
    let expected = [
        // chain id
        "42".repeat(32),
        // sender: the ed25519 public key of secret [7; 32]
        hex::encode(keypair(7).public_key().as_bytes()),
        // nonce 3, fee 1, expiry 1000
        "0300000000000000".into(),
        "0100000000000000".into(),
        "e803000000000000".into(),
        // Transfer (tag 0)
        "00".into(),
    ]
    .concat();
    let expected = expected.as_str();
    assert!(encoded.starts_with(expected), "{encoded}");
    let to = keypair(200).address();
    let rest = &encoded[expected.len()..];
    assert_eq!(&rest[..40], hex::encode(to.as_bytes()));
    assert_eq!(&rest[40..56], "fa00000000000000");
    assert_eq!(rest.len(), 56 + 128);
    assert_eq!(
        t.hash(),
        crate::hash::hash(crate::hash::HashDomain::SignedTransaction, &t.encode())
    );
    assert_eq!(
        t.hash().to_string(),
        GOLDEN_TRANSFER_HASH,
        "the transaction hash changed"
    );
}

const GOLDEN_TRANSFER_HASH: &str =
    "7eb57cfab93b5161d9c7d02667e86ec3b53590d180566243d263404bcf6cd6bc";

/// Pins a validator registration's layout: tag 13, the consensus key, the
/// network address, nothing else (a validator has no beacon key of its
/// own: its shares come from the resharing rounds, which name it by its
/// consensus key).
#[test]
fn golden_register_validator_encoding() {
    let k = keypair(5);
    let action = Action::RegisterValidator {
        consensus_key: k.public_key(),
        network_address: BoundedString::new("127.0.0.1:7402").unwrap(),
    };
    let mut expected = vec![13u8];
    expected.extend_from_slice(k.public_key().as_bytes());
    expected.extend_from_slice(&14u32.to_le_bytes());
    expected.extend_from_slice(b"127.0.0.1:7402");
    assert_eq!(crate::encoding::encode(&action), expected);

    let signed = Transaction {
        chain_id: CHAIN,
        sender: k.public_key(),
        nonce: 0,
        fee: Chips(1),
        expiry_height: 1_000,
        action,
    }
    .sign(&k);
    let bytes = signed.encode();
    assert_eq!(bytes.len(), 88 + expected.len() + 64);
    assert_eq!(SignedTransaction::decode(&bytes), Ok(signed.clone()));
    // The former layout, a length-prefixed beacon key after the consensus
    // key, does not decode.
    let key_end = 88 + 1 + 32;
    let mut old = bytes[..key_end].to_vec();
    old.extend_from_slice(&48u32.to_le_bytes());
    old.extend_from_slice(&[0x7e; 48]);
    old.extend_from_slice(&bytes[key_end..]);
    assert!(SignedTransaction::decode(&old).is_err());
}

#[test]
fn text_forms_in_json() {
    let t = transfer(7, 3, 250);
    let json = serde_json::to_value(&t).unwrap();
    assert_eq!(json["tx"]["nonce"], 3);
    assert_eq!(json["tx"]["fee"], 1);
    assert_eq!(json["tx"]["chain_id"], CHAIN.to_string());
    assert_eq!(json["tx"]["sender"], keypair(7).public_key().to_string());
    let to = json["tx"]["action"]["transfer"]["to"].as_str().unwrap();
    assert!(to.starts_with("craps1"), "{to}");
    assert_eq!(json["tx"]["action"]["transfer"]["amount"], 250);
    let back: SignedTransaction = serde_json::from_value(json).unwrap();
    assert_eq!(back, t);

    let bet = Action::CrapsBet {
        table: TableId(2),
        kind: BetKind::Place(PointNumber::Six),
        amount: Chips(12),
    };
    assert_eq!(
        serde_json::to_string(&bet).unwrap(),
        r#"{"craps_bet":{"table":2,"kind":"place-6","amount":12}}"#
    );
    let odds = Action::CreateTable {
        name: BoundedString::new("Lucky 7").unwrap(),
        max_players: 8,
        game: TableGame::Craps {
            min_bet: Chips(5),
            max_bet: Chips(500),
            odds: OddsLimit::ThreeFourFive,
        },
    };
    let json = serde_json::to_string(&odds).unwrap();
    assert_eq!(
        json,
        r#"{"create_table":{"name":"Lucky 7","max_players":8,"game":{"craps":{"min_bet":5,"max_bet":500,"odds":"three_four_five"}}}}"#
    );
    assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), odds);
    assert!(
        serde_json::from_str::<Action>(r#"{"craps_bet":{"table":2,"kind":"place-7","amount":12}}"#)
            .is_err()
    );
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    for len in [MAX_TX_BYTES + 1, 10 * MAX_TX_BYTES] {
        assert_eq!(
            SignedTransaction::decode(&vec![0u8; len]),
            Err(DecodeError::TooLarge {
                what: "transaction",
                len,
                max: MAX_TX_BYTES
            })
        );
    }
}

#[test]
fn a_signature_for_one_chain_fails_on_another() {
    let t = transfer(1, 0, 5);
    assert_eq!(t.check(&CHAIN), Ok(()));
    assert_eq!(
        t.check(&OTHER_CHAIN),
        Err(TxError::WrongChain {
            expected: OTHER_CHAIN,
            found: CHAIN
        })
    );
    let mut moved = t.clone();
    moved.tx.chain_id = OTHER_CHAIN;
    assert_eq!(moved.verify(), Err(TxError::BadSignature));
    assert_eq!(moved.check(&OTHER_CHAIN), Err(TxError::BadSignature));
}

#[test]
fn signing_with_another_key_fails_verification() {
    let t = transfer(1, 0, 5);
    let forged = t.tx.clone().sign(&keypair(2));
    assert_eq!(forged.verify(), Err(TxError::BadSignature));
}

#[test]
fn stateless_refusals() {
    let k = keypair(1);
    let tx = |action| Transaction {
        chain_id: CHAIN,
        sender: k.public_key(),
        nonce: 0,
        fee: Chips(1),
        expiry_height: 10,
        action,
    };
    let cases: Vec<(Action, TxError)> = vec![
        (
            Action::Transfer {
                to: k.address(),
                amount: Chips(0),
            },
            TxError::ZeroAmount { action: "transfer" },
        ),
        (
            Action::BankrollWithdraw { shares: 0 },
            TxError::ZeroAmount {
                action: "bankroll_withdraw",
            },
        ),
        (
            Action::CreateTable {
                name: BoundedString::new("   ").unwrap(),
                max_players: 4,
                game: TableGame::Crash {
                    min_bet: Chips(1),
                    max_bet: Chips(10),
                },
            },
            TxError::EmptyField { field: "name" },
        ),
        (
            Action::CreateTable {
                name: BoundedString::new("t").unwrap(),
                max_players: 0,
                game: TableGame::Crash {
                    min_bet: Chips(1),
                    max_bet: Chips(10),
                },
            },
            TxError::InvalidTable {
                reason: "max_players is 0; allow at least 1 player",
            },
        ),
        (
            Action::CreateTable {
                name: BoundedString::new("t").unwrap(),
                max_players: 4,
                game: TableGame::Crash {
                    min_bet: Chips(11),
                    max_bet: Chips(10),
                },
            },
            TxError::InvalidTable {
                reason: "the minimum bet is above the maximum bet",
            },
        ),
        (
            Action::CreateTable {
                name: BoundedString::new("t").unwrap(),
                max_players: 4,
                game: TableGame::Craps {
                    min_bet: Chips(1),
                    max_bet: Chips(10),
                    odds: OddsLimit::Flat(1001),
                },
            },
            TxError::InvalidTable {
                reason: "the flat odds multiple is above 1000×",
            },
        ),
        (
            Action::CreateTable {
                name: BoundedString::new("t").unwrap(),
                max_players: 4,
                game: TableGame::Crash {
                    min_bet: Chips(1),
                    max_bet: Chips((1 << 48) + 1),
                },
            },
            TxError::InvalidTable {
                reason: "the maximum bet is above 2^48 chips",
            },
        ),
        (
            Action::CrashBet {
                table: TableId(1),
                amount: Chips(5),
                auto_cash_out: Some(100),
            },
            TxError::InvalidAutoCashOut { hundredths: 100 },
        ),
        (
            Action::CrashBet {
                table: TableId(1),
                amount: Chips(5),
                auto_cash_out: Some(100_000_001),
            },
            TxError::InvalidAutoCashOut {
                hundredths: 100_000_001,
            },
        ),
        (
            Action::RegisterValidator {
                consensus_key: k.public_key(),
                network_address: BoundedString::new("").unwrap(),
            },
            TxError::EmptyField {
                field: "network_address",
            },
        ),
        (
            Action::Faucet { amount: Chips(0) },
            TxError::ZeroAmount { action: "faucet" },
        ),
    ];
    for (action, error) in cases {
        let signed = tx(action.clone()).sign(&k);
        assert_eq!(signed.check(&CHAIN), Err(error), "{action:?}");
    }
    // And the edges that are fine.
    for action in [
        Action::CrapsOdds {
            table: TableId(1),
            bet: 1,
            amount: Chips(0),
        },
        Action::CrashBet {
            table: TableId(1),
            amount: Chips(5),
            auto_cash_out: Some(101),
        },
        Action::CrashBet {
            table: TableId(1),
            amount: Chips(5),
            auto_cash_out: None,
        },
        Action::RegisterValidator {
            consensus_key: k.public_key(),
            network_address: BoundedString::new("/dns/v1/tcp/9000").unwrap(),
        },
    ] {
        assert_eq!(
            tx(action.clone()).sign(&k).check(&CHAIN),
            Ok(()),
            "{action:?}"
        );
    }
}

#[test]
fn evidence_in_a_transaction_is_verified() {
    let k = keypair(1);
    let v = keypair(9);
    let vote = |b| Vote {
        epoch: 1,
        height: 2,
        view: 0,
        block: Hash::new([b; 32]),
    };
    let with = |evidence| {
        Transaction {
            chain_id: CHAIN,
            sender: k.public_key(),
            nonce: 0,
            fee: Chips(1),
            expiry_height: 10,
            action: Action::SlashingEvidence { evidence },
        }
        .sign(&k)
    };
    let good = Evidence::DoubleVote {
        validator: v.public_key(),
        first: vote(1).sign(&CHAIN, &v),
        second: vote(2).sign(&CHAIN, &v),
    };
    assert_eq!(with(good).check(&CHAIN), Ok(()));
    let other_chain = Evidence::DoubleVote {
        validator: v.public_key(),
        first: vote(1).sign(&OTHER_CHAIN, &v),
        second: vote(2).sign(&OTHER_CHAIN, &v),
    };
    assert_eq!(
        with(other_chain).check(&CHAIN),
        Err(TxError::InvalidEvidence(EvidenceError::BadSignature {
            which: VoteSide::First
        }))
    );
    let same = Evidence::DoubleVote {
        validator: v.public_key(),
        first: vote(1).sign(&CHAIN, &v),
        second: vote(1).sign(&CHAIN, &v),
    };
    assert!(matches!(
        with(same).check(&CHAIN),
        Err(TxError::InvalidEvidence(EvidenceError::SameBlock { .. }))
    ));
}

#[test]
fn an_invalid_public_key_is_a_decode_error() {
    let t = transfer(1, 0, 5);
    let mut bytes = t.encode();
    // The sender's key is bytes 32..64; the identity point is of small order.
    bytes[32..64].copy_from_slice(&{
        let mut identity = [0u8; 32];
        identity[0] = 1;
        identity
    });
    assert!(matches!(
        SignedTransaction::decode(&bytes),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn a_point_number_7_is_a_decode_error() {
    let k = keypair(1);
    let t = Transaction {
        chain_id: CHAIN,
        sender: k.public_key(),
        nonce: 0,
        fee: Chips(1),
        expiry_height: 10,
        action: Action::CrapsBet {
            table: TableId(1),
            kind: BetKind::Place(PointNumber::Six),
            amount: Chips(6),
        },
    }
    .sign(&k);
    let mut bytes = t.encode();
    // chain 32, sender 32, nonce 8, fee 8, expiry 8, tag 1, table 8, kind tag 1, number.
    let at = 32 + 32 + 8 + 8 + 8 + 1 + 8 + 1;
    assert_eq!(bytes[at], 6);
    bytes[at] = 7;
    let err = SignedTransaction::decode(&bytes).unwrap_err();
    assert!(matches!(err, DecodeError::Malformed { .. }), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn round_trip_in_bytes_and_json(t in strategies::signed_transaction()) {
        let bytes = t.encode();
        prop_assert!(bytes.len() <= MAX_TX_BYTES);
        let back = SignedTransaction::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &t);
        prop_assert_eq!(back.hash(), t.hash());
        prop_assert_eq!(t.verify(), Ok(()));
        let json = serde_json::to_string(&t).unwrap();
        prop_assert_eq!(serde_json::from_str::<SignedTransaction>(&json).unwrap(), t);
    }

    #[test]
    fn every_truncation_is_refused_without_panicking(t in strategies::signed_transaction()) {
        let bytes = t.encode();
        for len in 0..bytes.len() {
            prop_assert!(SignedTransaction::decode(&bytes[..len]).is_err());
        }
    }

    #[test]
    fn mutations_decode_canonically_and_never_verify(
        t in strategies::signed_transaction(),
        mutations in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let original = t.encode();
        let mut bytes = original.clone();
        for (index, xor) in &mutations {
            let at = index.index(bytes.len());
            bytes[at] ^= xor;
        }
        if let Ok(decoded) = SignedTransaction::decode(&bytes) {
            prop_assert_eq!(decoded.encode(), bytes.clone());
            if bytes != original {
                prop_assert_eq!(decoded.verify(), Err(TxError::BadSignature));
                prop_assert_ne!(decoded.hash(), t.hash());
            }
        }
    }

    #[test]
    fn single_byte_changes_anywhere_never_panic(
        t in strategies::signed_transaction(),
        value in any::<u8>(),
    ) {
        let original = t.encode();
        for at in 0..original.len() {
            let mut bytes = original.clone();
            bytes[at] = value;
            if let Ok(decoded) = SignedTransaction::decode(&bytes) {
                prop_assert_eq!(decoded.encode(), bytes.clone());
                if bytes != original {
                    prop_assert!(decoded.verify().is_err());
                }
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(decoded) = SignedTransaction::decode(&bytes) {
            prop_assert_eq!(decoded.encode(), bytes);
        }
    }

    #[test]
    fn a_signature_over_one_chain_fails_under_another(
        t in strategies::signed_transaction(),
        other in any::<[u8; 32]>(),
    ) {
        let other = ChainId::new(other);
        prop_assume!(other != t.tx.chain_id);
        let mut moved = t.clone();
        moved.tx.chain_id = other;
        prop_assert_eq!(moved.verify(), Err(TxError::BadSignature));
        prop_assert!(t.check(&other).is_err());
    }
}
