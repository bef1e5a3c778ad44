//! # BitCraps wallet
//!
//! Will own a player's or validator's identity: ed25519 keys, addresses with a
//! checksum and a human-readable form, encrypted keystore files, the mnemonic
//! backup, and signing with the chain id and a domain string in what is signed.
//!
//! It must not know about blocks, ledgers or networks: it signs bytes that the
//! `consensus` crate defines, and nothing in it decides a game outcome.
