//! Keystore files on disk: round trip, permissions, atomic writes, and every
//! way a file can be wrong — each a typed error, never a panic, the file
//! untouched.

use std::fs;
use std::path::Path;

use proptest::prelude::*;
use wallet::{KdfParams, Keypair, Keystore, KeystoreError, MAX_KEYSTORE_SIZE};

const CHEAP: KdfParams = KdfParams::insecure_for_tests();
const PASSWORD: &[u8] = b"hunter2 but longer";

fn keypair(seed: u8) -> Keypair {
    Keypair::from_secret_bytes(&[seed; 32])
}

fn write_sample(dir: &Path) -> (Keypair, std::path::PathBuf) {
    let keypair = keypair(3);
    let path = dir.join("player.json");
    Keystore::encrypt(&keypair, PASSWORD, CHEAP)
        .unwrap()
        .write_new(&path)
        .unwrap();
    (keypair, path)
}

#[test]
fn round_trip_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (keypair, path) = write_sample(dir.path());
    let keystore = Keystore::read(&path).unwrap();
    assert_eq!(keystore.address(), keypair.address());
    assert_eq!(keystore.kdf_params(), CHEAP);
    let restored = keystore.decrypt(PASSWORD).unwrap();
    assert_eq!(restored.public_key(), keypair.public_key());
    // Only the keystore is left in the directory: no temporary files.
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("player.json")]);
}

#[cfg(unix)]
#[test]
fn files_are_written_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = write_sample(dir.path());
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");

    // Replacing a world-readable file leaves a 0600 file.
    let other = dir.path().join("other.json");
    fs::write(&other, b"old").unwrap();
    fs::set_permissions(&other, fs::Permissions::from_mode(0o644)).unwrap();
    Keystore::encrypt(&keypair(4), PASSWORD, CHEAP)
        .unwrap()
        .write_replace(&other)
        .unwrap();
    let mode = fs::metadata(&other).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
}

#[test]
fn write_new_never_replaces_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = write_sample(dir.path());
    let before = fs::read(&path).unwrap();
    let other = Keystore::encrypt(&keypair(9), PASSWORD, CHEAP).unwrap();
    assert!(matches!(
        other.write_new(&path),
        Err(KeystoreError::AlreadyExists { .. })
    ));
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );

    other.write_replace(&path).unwrap();
    assert_eq!(
        Keystore::read(&path).unwrap().address(),
        keypair(9).address()
    );
}

#[test]
fn a_failed_decrypt_leaves_the_file_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = write_sample(dir.path());
    let before = fs::read(&path).unwrap();
    let modified_before = fs::metadata(&path).unwrap().modified().unwrap();
    let keystore = Keystore::read(&path).unwrap();
    assert!(matches!(
        keystore.decrypt(b"wrong"),
        Err(KeystoreError::WrongPasswordOrCorrupted)
    ));
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(
        fs::metadata(&path).unwrap().modified().unwrap(),
        modified_before
    );
}

#[test]
fn truncated_files_are_typed_errors_and_stay_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = write_sample(dir.path());
    let full = fs::read(&path).unwrap();
    let truncated = dir.path().join("truncated.json");
    for len in 0..full.len() {
        fs::write(&truncated, &full[..len]).unwrap();
        match Keystore::read(&truncated) {
            Err(KeystoreError::Malformed { .. }) => {}
            other => panic!("truncated to {len} bytes: {other:?}"),
        }
        assert_eq!(fs::read(&truncated).unwrap(), &full[..len]);
    }
}

#[test]
fn an_unknown_version_in_a_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = write_sample(dir.path());
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replacen("\"version\":1", "\"version\":2", 1)).unwrap();
    assert!(matches!(
        Keystore::read(&path),
        Err(KeystoreError::UnsupportedVersion { supported: 1, .. })
    ));
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    let file = fs::File::create(&path).unwrap();
    // Sparse: the size is what matters, not the contents.
    file.set_len(MAX_KEYSTORE_SIZE + 1).unwrap();
    match Keystore::read(&path) {
        Err(KeystoreError::TooLarge { size, max }) => {
            assert_eq!(size, MAX_KEYSTORE_SIZE + 1);
            assert_eq!(max, MAX_KEYSTORE_SIZE);
        }
        other => panic!("{other:?}"),
    }
    let huge = dir.path().join("huge.json");
    fs::File::create(&huge).unwrap().set_len(1 << 40).unwrap();
    assert!(matches!(
        Keystore::read(&huge),
        Err(KeystoreError::TooLarge { .. })
    ));
}

#[test]
fn missing_files_and_directories_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Keystore::read(dir.path().join("absent.json")),
        Err(KeystoreError::Io { action: "read", .. })
    ));
    assert!(matches!(
        Keystore::read(dir.path()),
        Err(KeystoreError::NotAFile { .. })
    ));
    let keystore = Keystore::encrypt(&keypair(6), PASSWORD, CHEAP).unwrap();
    assert!(matches!(
        keystore.write_new(dir.path().join("no such dir").join("k.json")),
        Err(KeystoreError::Io { .. })
    ));
}

#[test]
fn error_messages_say_what_to_do_and_leak_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = write_sample(dir.path());
    let keystore = Keystore::read(&path).unwrap();
    let wrong = keystore.decrypt(b"wrong").unwrap_err().to_string();
    assert!(wrong.contains("password is wrong"), "{wrong}");
    fs::write(&path, b"{\"version\":1,").unwrap();
    let malformed = Keystore::read(&path).unwrap_err().to_string();
    assert!(
        malformed.contains("restore it from a backup"),
        "{malformed}"
    );
}

/// Every single-byte change anywhere in a keystore file is refused with a
/// typed error and never yields a key (a wrong one least of all). Run
/// exhaustively over positions, with a spread of replacement bytes.
#[test]
fn every_single_byte_corruption_is_refused() {
    let keypair = keypair(7);
    let json = Keystore::encrypt(&keypair, PASSWORD, CHEAP)
        .unwrap()
        .to_json()
        .into_bytes();
    let replacements: Vec<u8> = (0u8..=255)
        .step_by(7)
        .chain(*b" \t\n0aAfz\"{}:,\\1")
        .collect();
    let mut checked = 0;
    for position in 0..json.len() {
        for &replacement in &replacements {
            if json[position] == replacement {
                continue;
            }
            let mut corrupted = json.clone();
            corrupted[position] = replacement;
            let outcome = Keystore::from_json(&corrupted).and_then(|k| k.decrypt(PASSWORD));
            assert!(
                outcome.is_err(),
                "byte {position} {:?} -> {:?} accepted",
                json[position] as char,
                replacement as char
            );
            checked += 1;
        }
    }
    assert!(checked > 10_000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_key_and_password_round_trip(
        secret in any::<[u8; 32]>(),
        password in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let keypair = Keypair::from_secret_bytes(&secret);
        let keystore = Keystore::encrypt(&keypair, &password, CHEAP).unwrap();
        let parsed = Keystore::from_json(keystore.to_json().as_bytes()).unwrap();
        let restored = parsed.decrypt(&password).unwrap();
        prop_assert_eq!(restored.public_key(), keypair.public_key());
    }

    #[test]
    fn random_single_byte_corruption_of_a_file_is_refused_and_leaves_it_untouched(
        position in any::<prop::sample::Index>(),
        replacement in any::<u8>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (_, path) = write_sample(dir.path());
        let mut bytes = fs::read(&path).unwrap();
        let at = position.index(bytes.len());
        prop_assume!(bytes[at] != replacement);
        bytes[at] = replacement;
        fs::write(&path, &bytes).unwrap();
        let outcome = Keystore::read(&path).and_then(|k| k.decrypt(PASSWORD));
        prop_assert!(outcome.is_err());
        prop_assert_eq!(fs::read(&path).unwrap(), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Keystore::from_json(&bytes);
    }

    #[test]
    fn arbitrary_json_objects_never_panic(
        version in prop_oneof![Just("1".to_string()), any::<i64>().prop_map(|v| v.to_string())],
        m in any::<u32>(),
        t in any::<u32>(),
        p in any::<u32>(),
        salt in "[0-9a-fA-F]{0,70}",
    ) {
        let json = format!(
            r#"{{"version":{version},"address":"craps1v44lqj96m5g7yvce6f536lra09kzltn8fheh32","crypto":{{"kdf":"argon2id","kdfparams":{{"m_cost_kib":{m},"t_cost":{t},"p_cost":{p},"salt":"{salt}"}},"cipher":"xchacha20-poly1305","cipherparams":{{"nonce":"{}"}},"ciphertext":"{}"}}}}"#,
            "00".repeat(24),
            "00".repeat(48),
        );
        if let Ok(keystore) = Keystore::from_json(json.as_bytes()) {
            // Only in-bounds parameters get this far, so this is cheap enough.
            prop_assume!(u64::from(m) * u64::from(t) <= 4096);
            prop_assert!(keystore.decrypt(b"x").is_err());
        }
    }
}

/// The strong default parameters, once, to show they work end to end.
#[test]
fn default_parameters_work() {
    let keypair = keypair(8);
    let keystore = Keystore::encrypt(&keypair, PASSWORD, KdfParams::default()).unwrap();
    assert_eq!(keystore.kdf_params().m_cost_kib(), 64 * 1024);
    let json = keystore.to_json();
    assert!(json.contains("\"m_cost_kib\":65536,\"t_cost\":3,\"p_cost\":1"));
    let restored = Keystore::from_json(json.as_bytes())
        .unwrap()
        .decrypt(PASSWORD)
        .unwrap();
    assert_eq!(restored.address(), keypair.address());
}
