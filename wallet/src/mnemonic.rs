//! The 24-word backup phrase.
//!
//! A [`Mnemonic`] is a BIP39 phrase in the English word list, always 24
//! words (256 bits of entropy and an 8-bit checksum). The key it backs up
//! is derived as
//!
//! ```text
//! seed   = BIP39 seed: PBKDF2-HMAC-SHA512(phrase, "mnemonic" ‖ passphrase, 2048 rounds, 64 bytes)
//!          (phrase and passphrase NFKD-normalised, as BIP39 says)
//! secret = blake3::derive_key("bitcraps v1 ed25519 key from bip39 seed", seed)   (32 bytes)
//! key    = the ed25519 keypair whose RFC 8032 secret is `secret`
//! ```
//!
//! This is not BIP32/SLIP-10: one phrase and passphrase give exactly one
//! key. The derivation is pinned by test vectors computed independently of
//! this crate (`vectors/wallet-v1.json`); it must never change, or every
//! backup would restore a different key.
//!
//! A passphrase (possibly empty) is an extra secret: the same words with
//! another passphrase restore a different, equally valid key, so a typo in
//! the passphrase is not detected — check the restored address.

use std::fmt;

use bip39::Language;
use zeroize::Zeroizing;

use crate::error::{MnemonicError, RandomnessError};
use crate::keys::{Keypair, fill_random};

/// Number of words of a BitCraps backup phrase.
pub const MNEMONIC_WORDS: usize = 24;

/// The blake3 `derive_key` context turning a BIP39 seed into the ed25519
/// secret.
pub const SEED_KEY_CONTEXT: &str = "bitcraps v1 ed25519 key from bip39 seed";

/// A 24-word BIP39 (English) backup phrase.
///
/// Zeroized on drop; `Debug` does not show the words. There is no
/// `Display`: use [`Mnemonic::phrase`] on purpose, to show it to its owner.
pub struct Mnemonic(bip39::Mnemonic);

impl Mnemonic {
    /// A new phrase from 256 bits of the operating system's randomness.
    pub fn generate() -> Result<Mnemonic, RandomnessError> {
        let mut entropy = Zeroizing::new([0u8; 32]);
        fill_random(&mut entropy[..])?;
        Ok(Mnemonic::from_entropy(&entropy))
    }

    /// The phrase that encodes these 256 bits of entropy.
    pub fn from_entropy(entropy: &[u8; 32]) -> Mnemonic {
        Mnemonic(
            bip39::Mnemonic::from_entropy_in(Language::English, entropy)
                .expect("32 bytes is a valid BIP39 entropy length"),
        )
    }

    /// Parses a phrase typed or pasted by a person.
    ///
    /// Words may be separated by any white space and written in any case;
    /// there must be exactly 24, all from the BIP39 English list, with a
    /// matching checksum.
    pub fn parse(phrase: &str) -> Result<Mnemonic, MnemonicError> {
        let found = phrase.split_whitespace().count();
        if found != MNEMONIC_WORDS {
            return Err(MnemonicError::WrongWordCount {
                found,
                expected: MNEMONIC_WORDS,
            });
        }
        let mut normalized = Zeroizing::new(String::with_capacity(phrase.len()));
        for (i, word) in phrase.split_whitespace().enumerate() {
            if i > 0 {
                normalized.push(' ');
            }
            for c in word.chars() {
                normalized.push(c.to_ascii_lowercase());
            }
        }
        bip39::Mnemonic::parse_in_normalized(Language::English, &normalized)
            .map(Mnemonic)
            .map_err(|e| match e {
                bip39::Error::UnknownWord(index) => MnemonicError::UnknownWord {
                    position: index + 1,
                },
                bip39::Error::InvalidChecksum => MnemonicError::InvalidChecksum,
                bip39::Error::BadWordCount(found) => MnemonicError::WrongWordCount {
                    found,
                    expected: MNEMONIC_WORDS,
                },
                other => MnemonicError::Invalid {
                    reason: other.to_string(),
                },
            })
    }

    /// The 24 words separated by single spaces, zeroized when dropped.
    pub fn phrase(&self) -> Zeroizing<String> {
        let mut phrase = Zeroizing::new(String::with_capacity(MNEMONIC_WORDS * 9));
        for (i, word) in self.0.words().enumerate() {
            if i > 0 {
                phrase.push(' ');
            }
            phrase.push_str(word);
        }
        phrase
    }

    /// The words, in order.
    pub fn words(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.words()
    }

    /// The keypair this phrase and `passphrase` back up (see the
    /// [module documentation](self) for the derivation). Use `""` for no
    /// passphrase.
    pub fn to_keypair(&self, passphrase: &str) -> Keypair {
        let seed = Zeroizing::new(self.0.to_seed(passphrase));
        let secret = Zeroizing::new(blake3::derive_key(SEED_KEY_CONTEXT, &seed[..]));
        Keypair::from_secret_bytes(&secret)
    }
}

impl fmt::Debug for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mnemonic(<24 words redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO_PHRASE: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
         abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
         abandon abandon abandon abandon art";

    #[test]
    fn generated_phrases_have_24_words_and_parse_back() {
        let mnemonic = Mnemonic::generate().unwrap();
        assert_eq!(mnemonic.words().count(), MNEMONIC_WORDS);
        let restored = Mnemonic::parse(&mnemonic.phrase()).unwrap();
        assert_eq!(
            restored.to_keypair("").public_key(),
            mnemonic.to_keypair("").public_key()
        );
        assert_ne!(
            Mnemonic::generate().unwrap().phrase(),
            mnemonic.phrase(),
            "two phrases from the OS generator"
        );
    }

    #[test]
    fn entropy_zero_is_the_known_phrase() {
        assert_eq!(
            Mnemonic::from_entropy(&[0u8; 32]).phrase().as_str(),
            ZERO_PHRASE
        );
    }

    #[test]
    fn case_and_spacing_do_not_matter() {
        let messy = format!("  {}\n", ZERO_PHRASE.to_uppercase().replace(' ', " \t "));
        let parsed = Mnemonic::parse(&messy).unwrap();
        assert_eq!(parsed.phrase().as_str(), ZERO_PHRASE);
    }

    #[test]
    fn passphrase_changes_the_key() {
        let mnemonic = Mnemonic::parse(ZERO_PHRASE).unwrap();
        assert_ne!(
            mnemonic.to_keypair("").public_key(),
            mnemonic.to_keypair("TREZOR").public_key()
        );
    }

    #[test]
    fn wrong_word_count_is_refused() {
        let twelve = "abandon ".repeat(11) + "about";
        assert_eq!(
            Mnemonic::parse(&twelve).err(),
            Some(MnemonicError::WrongWordCount {
                found: 12,
                expected: 24
            })
        );
        assert_eq!(
            Mnemonic::parse("").err(),
            Some(MnemonicError::WrongWordCount {
                found: 0,
                expected: 24
            })
        );
    }

    #[test]
    fn unknown_word_is_refused_by_position_without_echoing_it() {
        let phrase = ZERO_PHRASE
            .replacen("abandon", "abandonn", 3)
            .replacen("abandonn", "abandon", 2);
        let error = Mnemonic::parse(&phrase).err().unwrap();
        assert_eq!(error, MnemonicError::UnknownWord { position: 3 });
        assert!(!error.to_string().contains("abandonn"));
    }

    #[test]
    fn bad_checksum_is_refused() {
        let phrase = ZERO_PHRASE.replace("art", "abandon");
        assert_eq!(
            Mnemonic::parse(&phrase).err(),
            Some(MnemonicError::InvalidChecksum)
        );
    }

    #[test]
    fn debug_does_not_show_the_words() {
        let mnemonic = Mnemonic::parse(ZERO_PHRASE).unwrap();
        let debug = format!("{mnemonic:?}");
        assert!(!debug.contains("abandon"), "{debug}");
    }
}
