//! `wallet::Keystore::from_json`, the parser of keystore files: it never
//! panics, and a keystore it accepts prints back (`to_json`) to a file that
//! reads back as itself. Decrypting is tried only with cheap Argon2id
//! parameters (the parser bounds them; the bound itself is tested in the
//! wallet crate); a key it yields must be the key of the recorded address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet::Keystore;

fuzz_target!(|data: &[u8]| {
    if let Ok(keystore) = Keystore::from_json(data) {
        let json = keystore.to_json();
        let again = Keystore::from_json(json.as_bytes());
        assert_eq!(again.as_ref().ok(), Some(&keystore), "{json}");
        let kdf = keystore.kdf_params();
        if u64::from(kdf.m_cost_kib()) * u64::from(kdf.t_cost()) <= 64
            && let Ok(keypair) = keystore.decrypt(b"fuzz")
        {
            assert_eq!(keypair.address(), keystore.address());
        }
    }
});
