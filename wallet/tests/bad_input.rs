//! Bad input to the wallet, as a user or an attacker supplies it: wrong
//! passwords, keystore files of the wrong version, hostile JSON, costly
//! KDF parameters, and backup phrases with bad checksums. Each is refused
//! with a typed error whose message says what is wrong — never a panic,
//! never a secret in the message — and no file is changed.
//!
//! Complements `keystore_files.rs` (truncation, single-byte corruption,
//! size limits) and the unit tests of `keystore` and `mnemonic`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use wallet::{
    KdfParams, Keypair, Keystore, KeystoreError, MAX_KEYSTORE_SIZE, MNEMONIC_WORDS, Mnemonic,
    MnemonicError,
};

const CHEAP: KdfParams = KdfParams::insecure_for_tests();
const PASSWORD: &str = "Correct horse — battery staple é";

/// A keystore file in `dir`, and the bytes and modification time it has.
fn keystore_file(dir: &Path) -> (Keypair, PathBuf, Vec<u8>, SystemTime) {
    let keypair = Keypair::from_secret_bytes(&[11; 32]);
    let path = dir.join("wallet.json");
    Keystore::encrypt(&keypair, PASSWORD.as_bytes(), CHEAP)
        .unwrap()
        .write_new(&path)
        .unwrap();
    let bytes = fs::read(&path).unwrap();
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    (keypair, path, bytes, modified)
}

/// The file holds exactly `bytes` and was not rewritten; nothing else
/// appeared in its directory.
fn assert_untouched(path: &Path, bytes: &[u8], modified: SystemTime) {
    assert_eq!(fs::read(path).unwrap(), bytes, "{} changed", path.display());
    assert_eq!(fs::metadata(path).unwrap().modified().unwrap(), modified);
    let dir = path.parent().unwrap();
    let names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "files appeared beside it: {names:?}");
}

#[test]
fn wrong_passwords_are_refused_and_the_file_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (keypair, path, bytes, modified) = keystore_file(dir.path());
    let decomposed = PASSWORD.replace('é', "e\u{301}");
    let long = "x".repeat(1 << 20);
    let wrong: Vec<&[u8]> = vec![
        b"".as_slice(),
        b" ".as_slice(),
        &PASSWORD.as_bytes()[..PASSWORD.len() - 1],
        b"Correct horse".as_slice(),
        // The same text typed with another Unicode normalisation, with a
        // trailing newline (as read from a file), in another case.
        decomposed.as_bytes(),
        b"Correct horse \xe2\x80\x94 battery staple \xc3\xa9\n".as_slice(),
        b"CORRECT HORSE".as_slice(),
        b"\0".as_slice(),
        b"\xff\xfe\xfd".as_slice(),
        long.as_bytes(),
    ];
    for password in wrong {
        let keystore = Keystore::read(&path).unwrap();
        let error = keystore.decrypt(password).unwrap_err();
        assert!(
            matches!(error, KeystoreError::WrongPasswordOrCorrupted),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("password is wrong"), "{message}");
        assert!(
            !message.contains("horse"),
            "the message echoes the password"
        );
        assert_untouched(&path, &bytes, modified);
    }
    // The right one still opens it.
    let restored = Keystore::read(&path)
        .unwrap()
        .decrypt(PASSWORD.as_bytes())
        .unwrap();
    assert_eq!(restored.address(), keypair.address());
    assert_untouched(&path, &bytes, modified);
}

#[test]
fn wrong_versions_are_refused_naming_the_version() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path, bytes, _) = keystore_file(dir.path());
    let json = String::from_utf8(bytes).unwrap();
    let other = dir.path().join("other");
    fs::create_dir(&other).unwrap();
    let file = other.join("wallet.json");
    for version in [
        "0",
        "2",
        "-1",
        "1.0",
        "1e0",
        "4294967297",
        "18446744073709551616",
        "\"1\"",
        "\"v1\"",
        "true",
        "[1]",
        "{\"major\":1}",
    ] {
        let changed = json.replacen("\"version\":1", &format!("\"version\":{version}"), 1);
        fs::write(&file, &changed).unwrap();
        let modified = fs::metadata(&file).unwrap().modified().unwrap();
        match Keystore::read(&file) {
            Err(error @ KeystoreError::UnsupportedVersion { .. }) => {
                let message = error.to_string();
                assert!(message.contains("version"), "{message}");
                assert!(message.contains("reads version 1"), "{message}");
            }
            other => panic!("version {version}: {other:?}"),
        }
        assert_untouched(&file, changed.as_bytes(), modified);
    }
    // No version at all, or a null one: malformed, saying which field.
    for changed in [
        json.replacen("\"version\":1,", "", 1),
        json.replacen("\"version\":1", "\"version\":null", 1),
    ] {
        fs::write(&file, &changed).unwrap();
        match Keystore::read(&file) {
            Err(KeystoreError::Malformed { reason }) => {
                assert!(reason.contains("version"), "{reason}")
            }
            other => panic!("{changed}: {other:?}"),
        }
    }
    assert_eq!(fs::read(&path).unwrap(), json.as_bytes());
}

#[test]
fn hostile_json_is_refused_without_exhausting_the_stack_or_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.json");
    let limit = MAX_KEYSTORE_SIZE as usize;
    let deep_array = "[".repeat(limit - 1);
    let deep_version = format!("{{\"version\":{}", "[".repeat(limit - 20));
    let deep_object = "{\"a\":".repeat((limit - 10) / 5);
    let long_string = format!(
        "{{\"version\":1,\"address\":\"{}\"}}",
        "a".repeat(limit - 40)
    );
    let duplicate = "{\"version\":1,\"version\":1,\"address\":\"x\"}".to_owned();
    let many_keys: String = format!(
        "{{\"version\":1,{}\"z\":0}}",
        (0..3000)
            .map(|i| format!("\"k{i}\":0,"))
            .collect::<String>()
    );
    let started = Instant::now();
    for contents in [
        deep_array,
        deep_version,
        deep_object,
        long_string,
        duplicate,
        many_keys,
    ] {
        assert!(contents.len() as u64 <= MAX_KEYSTORE_SIZE);
        fs::write(&path, &contents).unwrap();
        match Keystore::read(&path) {
            Err(KeystoreError::Malformed { reason }) => assert!(!reason.is_empty()),
            other => panic!("{:.60}: {other:?}", contents),
        }
        assert_eq!(fs::read(&path).unwrap(), contents.as_bytes());
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A file asking for the most expensive Argon2id parameters is refused
/// before any key derivation: a hostile keystore cannot make `read` or
/// `decrypt` allocate gigabytes or spin for minutes.
#[test]
fn costly_kdf_parameters_are_refused_before_running_argon2() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path, bytes, modified) = keystore_file(dir.path());
    let json = String::from_utf8(bytes.clone()).unwrap();
    let cheap = "\"m_cost_kib\":8,\"t_cost\":1,\"p_cost\":1";
    assert!(json.contains(cheap), "{json}");
    let other = dir.path().join("costly.json");
    for (m, t, p) in [
        (u32::MAX, 1, 1),
        (KdfParams::MAX_M_COST_KIB, KdfParams::MAX_T_COST, 1),
        (KdfParams::MAX_M_COST_KIB + 1, 1, 1),
        (1024, u32::MAX, 1),
        (1024, 1, u32::MAX),
        (0, 0, 0),
    ] {
        let changed = json.replacen(
            cheap,
            &format!("\"m_cost_kib\":{m},\"t_cost\":{t},\"p_cost\":{p}"),
            1,
        );
        fs::write(&other, &changed).unwrap();
        let started = Instant::now();
        match Keystore::read(&other) {
            Err(error @ KeystoreError::KdfParamsOutOfBounds { .. }) => {
                assert!(error.to_string().contains("refused without trying them"));
            }
            outcome => panic!("m={m} t={t} p={p}: {outcome:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    // Negative or fractional costs do not even parse as numbers of the
    // right type.
    for bad in ["-1", "8.5", "\"8\"", "null"] {
        let changed = json.replacen("\"m_cost_kib\":8", &format!("\"m_cost_kib\":{bad}"), 1);
        fs::write(&other, &changed).unwrap();
        assert!(
            matches!(Keystore::read(&other), Err(KeystoreError::Malformed { .. })),
            "{bad}"
        );
    }
    assert_eq!(fs::read(&path).unwrap(), bytes);
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), modified);
}

/// Bit flips (not only byte replacements) anywhere in a file on disk:
/// every one refused, the file left as it was.
#[test]
fn every_single_bit_flip_is_refused_and_leaves_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path, bytes, _) = keystore_file(dir.path());
    let mut refused = 0;
    for position in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[position] ^= 1 << bit;
            let outcome =
                Keystore::from_json(&flipped).and_then(|k| k.decrypt(PASSWORD.as_bytes()));
            assert!(outcome.is_err(), "bit {bit} of byte {position} accepted");
            refused += 1;
        }
    }
    assert_eq!(refused, bytes.len() * 8);
    // One flip written to disk, read and tried: the file is as written.
    let mut flipped = bytes.clone();
    let last_hex = bytes.len() - 4;
    flipped[last_hex] ^= 1;
    fs::write(&path, &flipped).unwrap();
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    assert!(
        Keystore::read(&path)
            .and_then(|k| k.decrypt(PASSWORD.as_bytes()))
            .is_err()
    );
    assert_untouched(&path, &flipped, modified);
}

// ------------------------------------------------------------ mnemonics

fn english() -> &'static [&'static str; 2048] {
    bip39::Language::English.word_list()
}

/// Of the 2048 possible last words of a 24-word phrase, exactly 8 have a
/// matching checksum (3 bits of entropy, 8 of checksum); every other one
/// is refused as a checksum error.
#[test]
fn every_wrong_last_word_is_a_checksum_error() {
    let phrase = Mnemonic::from_entropy(&[0x5a; 32]).phrase();
    let words: Vec<&str> = phrase.split(' ').collect();
    assert_eq!(words.len(), MNEMONIC_WORDS);
    let mut valid = 0;
    for last in english() {
        let mut candidate = words.clone();
        candidate[MNEMONIC_WORDS - 1] = last;
        match Mnemonic::parse(&candidate.join(" ")) {
            Ok(_) => valid += 1,
            Err(error) => {
                assert_eq!(error, MnemonicError::InvalidChecksum, "{last}");
                let message = error.to_string();
                assert!(message.contains("checksum"), "{message}");
            }
        }
    }
    assert_eq!(valid, 8);
}

/// A word replaced anywhere by another list word, or two different
/// neighbouring words swapped: refused (as a checksum error) in all but
/// the rare cases the 8-bit checksum cannot see, which must then restore a
/// *different* key — never the original one.
#[test]
fn substituted_and_swapped_words_are_refused() {
    let original = Mnemonic::from_entropy(&[0xc3; 32]);
    let key = original.to_keypair("").public_key();
    let phrase = original.phrase();
    let words: Vec<&str> = phrase.split(' ').collect();
    let mut refused = 0;
    let mut tried = 0;
    let mut undetected = Vec::new();
    for position in 0..MNEMONIC_WORDS {
        for replacement in english().iter().step_by(97) {
            if *replacement == words[position] {
                continue;
            }
            let mut candidate = words.clone();
            candidate[position] = replacement;
            tried += 1;
            match Mnemonic::parse(&candidate.join(" ")) {
                Err(MnemonicError::InvalidChecksum) => refused += 1,
                Err(other) => panic!("{other:?}"),
                Ok(changed) => undetected.push(changed),
            }
        }
        if position + 1 < MNEMONIC_WORDS && words[position] != words[position + 1] {
            let mut swapped = words.clone();
            swapped.swap(position, position + 1);
            tried += 1;
            match Mnemonic::parse(&swapped.join(" ")) {
                Err(MnemonicError::InvalidChecksum) => refused += 1,
                Err(other) => panic!("{other:?}"),
                Ok(changed) => undetected.push(changed),
            }
        }
    }
    // An 8-bit checksum misses about 1 in 256 changes.
    assert!(refused * 100 >= tried * 97, "{refused} of {tried}");
    for changed in undetected {
        assert_ne!(changed.to_keypair("").public_key(), key);
    }
}

#[test]
fn hostile_phrases_are_typed_errors_that_echo_nothing() {
    let valid = Mnemonic::from_entropy(&[7; 32]).phrase();
    let words: Vec<&str> = valid.split(' ').collect();
    let secret_word = words[5];
    let huge = "abandon ".repeat(1 << 17);
    let french = "abaisser ".repeat(MNEMONIC_WORDS);
    let with_nul = valid.replacen(' ', "\0", 1);
    let accented = format!("{secret_word}\u{301}");
    let mut accent_words = words.clone();
    accent_words[5] = &accented;
    let with_accent = accent_words.join(" ");
    let with_dash = valid.replacen(' ', "-", 1);
    let fullwidth: String = valid
        .chars()
        .map(|c| match c {
            'a'..='z' => char::from_u32(c as u32 - 'a' as u32 + 0xff41).unwrap(),
            c => c,
        })
        .collect();
    type Expected = fn(&MnemonicError) -> bool;
    let cases: Vec<(&str, Expected)> = vec![
        (&huge, |e| matches!(e, MnemonicError::WrongWordCount { .. })),
        (&french, |e| {
            matches!(e, MnemonicError::UnknownWord { position: 1 })
        }),
        (&with_nul, |e| {
            matches!(e, MnemonicError::WrongWordCount { found: 23, .. })
        }),
        (&with_accent, |e| {
            matches!(e, MnemonicError::UnknownWord { position: 6 })
        }),
        (&with_dash, |e| {
            matches!(e, MnemonicError::WrongWordCount { found: 23, .. })
        }),
        (&fullwidth, |e| {
            matches!(e, MnemonicError::UnknownWord { position: 1 })
        }),
        ("", |e| {
            matches!(e, MnemonicError::WrongWordCount { found: 0, .. })
        }),
        ("\u{feff}", |e| {
            matches!(e, MnemonicError::WrongWordCount { .. })
        }),
    ];
    for (phrase, expected) in cases {
        let started = Instant::now();
        let error = Mnemonic::parse(phrase).expect_err("refused");
        assert!(expected(&error), "{:.40}: {error:?}", phrase);
        assert!(started.elapsed() < Duration::from_secs(2));
        // Nothing typed is echoed (the words are the secret).
        let message = error.to_string();
        for typed in [accented.as_str(), "abaisser", "\u{ff41}", "\0"] {
            assert!(!message.contains(typed), "{message}");
        }
    }
}
