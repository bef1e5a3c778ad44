//! The published vectors (`vectors/wallet-v1.json`, computed by an
//! independent Python script) pin every wallet format: if any of these fails,
//! addresses, backups, signatures or keystores have changed, which must never
//! happen silently.

use serde::Deserialize;
use wallet::{
    Address, AddressError, ChainId, Keypair, Keystore, Mnemonic, PublicKey, SignDomain, Signature,
    signing_bytes,
};

#[derive(Deserialize)]
struct Vectors {
    version: u32,
    addresses: Vec<AddressCase>,
    mnemonics: Vec<MnemonicCase>,
    signatures: Vec<SignatureCase>,
    keystores: Vec<KeystoreCase>,
}

#[derive(Deserialize)]
struct AddressCase {
    secret: String,
    public_key: String,
    address_bytes: String,
    address: String,
    address_bech32: String,
}

#[derive(Deserialize)]
struct MnemonicCase {
    entropy: String,
    phrase: String,
    passphrase: String,
    public_key: String,
    address: String,
}

#[derive(Deserialize)]
struct SignatureCase {
    secret: String,
    public_key: String,
    domain: String,
    chain_id: String,
    message: String,
    signed_bytes: String,
    signature: String,
}

#[derive(Deserialize)]
struct KeystoreCase {
    password: String,
    secret: String,
    address: String,
    file: String,
}

fn vectors() -> Vectors {
    let vectors: Vectors =
        serde_json::from_str(include_str!("../vectors/wallet-v1.json")).expect("vectors parse");
    assert_eq!(vectors.version, 1);
    vectors
}

fn bytes32(text: &str) -> [u8; 32] {
    hex::decode(text).unwrap().try_into().unwrap()
}

#[test]
fn addresses_match_the_reference() {
    let vectors = vectors();
    assert!(!vectors.addresses.is_empty());
    for case in &vectors.addresses {
        let keypair = Keypair::from_secret_bytes(&bytes32(&case.secret));
        let public_key = keypair.public_key();
        assert_eq!(hex::encode(public_key.as_bytes()), case.public_key);
        let address = keypair.address();
        assert_eq!(hex::encode(address.as_bytes()), case.address_bytes);
        assert_eq!(address.to_string(), case.address);
        assert_eq!(case.address.parse::<Address>(), Ok(address));
        assert_eq!(
            case.address_bech32.parse::<Address>(),
            Err(AddressError::Bech32NotBech32m)
        );
        assert_eq!(case.public_key.parse::<PublicKey>(), Ok(public_key));
    }
}

#[test]
fn mnemonic_derivation_matches_the_reference() {
    let vectors = vectors();
    assert!(vectors.mnemonics.len() >= 10);
    for case in &vectors.mnemonics {
        let from_entropy = Mnemonic::from_entropy(&bytes32(&case.entropy));
        assert_eq!(from_entropy.phrase().as_str(), case.phrase);
        let mnemonic = Mnemonic::parse(&case.phrase).unwrap();
        let keypair = mnemonic.to_keypair(&case.passphrase);
        assert_eq!(
            hex::encode(keypair.public_key().as_bytes()),
            case.public_key,
            "{:?} / {:?}",
            case.phrase,
            case.passphrase
        );
        assert_eq!(keypair.address().to_string(), case.address);
    }
}

/// The one vector quoted in the documentation: the all-`abandon` phrase
/// (entropy zero) without a passphrase.
#[test]
fn documented_mnemonic_vector() {
    let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                  abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                  abandon abandon abandon art";
    let keypair = Mnemonic::parse(phrase).unwrap().to_keypair("");
    let case = vectors()
        .mnemonics
        .into_iter()
        .find(|c| c.phrase == phrase && c.passphrase.is_empty())
        .unwrap();
    assert_eq!(keypair.address().to_string(), case.address);
    assert_eq!(
        keypair.address().to_string(),
        "craps1wgmu6j6sezsvh5hjm0mzual7a236tnvnguwm67"
    );
}

#[test]
fn signatures_match_the_reference() {
    let vectors = vectors();
    let mut domains_seen = Vec::new();
    for case in &vectors.signatures {
        let domain = *SignDomain::ALL
            .iter()
            .find(|d| d.tag() == case.domain)
            .unwrap_or_else(|| panic!("unknown domain {}", case.domain));
        domains_seen.push(domain);
        let chain_id: ChainId = case.chain_id.parse().unwrap();
        let message = hex::decode(&case.message).unwrap();
        assert_eq!(
            hex::encode(signing_bytes(domain, &chain_id, &message)),
            case.signed_bytes
        );
        let keypair = Keypair::from_secret_bytes(&bytes32(&case.secret));
        assert_eq!(
            hex::encode(keypair.public_key().as_bytes()),
            case.public_key
        );
        let signature = keypair.sign(domain, &chain_id, &message);
        assert_eq!(signature.to_string(), case.signature);
        let parsed: Signature = case.signature.parse().unwrap();
        assert_eq!(
            keypair
                .public_key()
                .verify(domain, &chain_id, &message, &parsed),
            Ok(())
        );
    }
    domains_seen.sort();
    domains_seen.dedup();
    assert_eq!(
        domains_seen.len(),
        SignDomain::ALL.len(),
        "every domain has a vector"
    );
}

#[test]
fn reference_keystores_decrypt_and_reserialize_byte_for_byte() {
    let vectors = vectors();
    for case in &vectors.keystores {
        let keystore = Keystore::from_json(case.file.as_bytes()).unwrap();
        assert_eq!(keystore.address().to_string(), case.address);
        assert_eq!(keystore.to_json(), case.file);
        let keypair = keystore.decrypt(case.password.as_bytes()).unwrap();
        let expected = Keypair::from_secret_bytes(&bytes32(&case.secret));
        assert_eq!(keypair.public_key(), expected.public_key());
        assert!(keystore.decrypt(b"not the password").is_err());
    }
}
