//! `wallet::Mnemonic::parse`, the reader of backup phrases typed by a user:
//! it never panics, and a phrase it accepts prints back (`phrase`) to one
//! that parses to the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet::Mnemonic;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(mnemonic) = Mnemonic::parse(text) {
        let again = Mnemonic::parse(&mnemonic.phrase()).expect("a printed phrase parses");
        assert_eq!(again.phrase(), mnemonic.phrase());
        assert_eq!(
            again.to_keypair("").public_key(),
            mnemonic.to_keypair("").public_key()
        );
    }
});
