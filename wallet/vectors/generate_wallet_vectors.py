#!/usr/bin/env python3
"""Independent reference for the BitCraps wallet formats, version 1.

Writes wallet-v1.json next to this file. It shares no code with the Rust
crate: the Rust tests (wallet/tests/vectors.rs) check the crate against what
this script computes. Covers addresses, the mnemonic-to-key derivation,
signed bytes and signatures, and one keystore file.

Needs the `blake3` and `cryptography` (>= 44, for Argon2id) packages from
PyPI. bech32m and HChaCha20 are written out here from BIP-350 and the
XChaCha20 draft (draft-irtf-cfrg-xchacha-03).
"""
import hashlib
import json
import os
import struct
import unicodedata

from blake3 import blake3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ADDRESS_DOMAIN = b"bitcraps/v1/address"
ADDRESS_HRP = "craps"
SEED_KEY_CONTEXT = "bitcraps v1 ed25519 key from bip39 seed"
SIGNING_PREFIX = b"bitcraps/v1/"
KEYSTORE_AAD_DOMAIN = b"bitcraps/v1/keystore\x00"

# --- bech32 / bech32m (BIP-173, BIP-350) ---------------------------------

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3


def polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def hrp_expand(hrp):
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def to_5_bits(data):
    acc, bits, out = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def bech32_encode(hrp, data, const):
    values = to_5_bits(data)
    pm = polymod(hrp_expand(hrp) + values + [0] * 6) ^ const
    checksum = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[d] for d in values + checksum)


# --- keys and addresses ----------------------------------------------------


def public_key(secret):
    return Ed25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw
    )


def address_bytes(pk):
    return blake3(ADDRESS_DOMAIN + pk).digest()[:20]


def address(pk):
    return bech32_encode(ADDRESS_HRP, address_bytes(pk), BECH32M_CONST)


# --- BIP39 seed and the BitCraps derivation ---------------------------------


def bip39_seed(phrase, passphrase):
    phrase = unicodedata.normalize("NFKD", phrase)
    salt = unicodedata.normalize("NFKD", "mnemonic" + passphrase)
    return hashlib.pbkdf2_hmac("sha512", phrase.encode(), salt.encode(), 2048, 64)


def secret_from_seed(seed):
    return blake3(seed, derive_key_context=SEED_KEY_CONTEXT).digest()


# The official BIP39 vector (trezor/python-mnemonic vectors.json) checks the
# seed computation above.
_ZERO = " ".join(["abandon"] * 23 + ["art"])
assert bip39_seed(_ZERO, "TREZOR").hex() == (
    "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8"
    "d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8"
)

# 24-word phrases and their entropy, from the same official vectors.
PHRASES = [
    ("00" * 32, _ZERO),
    (
        "7f" * 32,
        "legal winner thank year wave sausage worth useful legal winner thank year wave sausage "
        "worth useful legal winner thank year wave sausage worth title",
    ),
    (
        "80" * 32,
        "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount "
        "doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless",
    ),
    ("ff" * 32, " ".join(["zoo"] * 23 + ["vote"])),
    (
        "f585c11aec520db57dd353c69554b21a89b20fb0650966fa0a9d6f74fd989d8f",
        "void come effort suffer camp survey warrior heavy shoot primary clutch crush open "
        "amazing screen patrol group space point ten exist slush involve unfold",
    ),
]

# --- signing ---------------------------------------------------------------

DOMAINS = [
    "transaction",
    "beacon-registration",
    "block-proposal",
    "consensus-vote",
    "off-chain-message",
    "beacon-share",
]


def signing_bytes(domain, chain_id, message):
    return SIGNING_PREFIX + domain.encode() + b"\x00" + chain_id + message


# --- XChaCha20-Poly1305 ------------------------------------------------------


def _rotl(v, c):
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def _quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl(s[b] ^ s[c], 7)


def hchacha20(key, nonce16):
    s = list(struct.unpack("<4I", b"expand 32-byte k"))
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    for _ in range(10):
        _quarter(s, 0, 4, 8, 12)
        _quarter(s, 1, 5, 9, 13)
        _quarter(s, 2, 6, 10, 14)
        _quarter(s, 3, 7, 11, 15)
        _quarter(s, 0, 5, 10, 15)
        _quarter(s, 1, 6, 11, 12)
        _quarter(s, 2, 7, 8, 13)
        _quarter(s, 3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


# HChaCha20 test vector from draft-irtf-cfrg-xchacha-03, section 2.2.1.
assert hchacha20(
    bytes(range(32)), bytes.fromhex("000000090000004a0000000031415927")
).hex() == "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"


def xchacha20poly1305_encrypt(key, nonce24, plaintext, aad):
    subkey = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(subkey).encrypt(b"\x00" * 4 + nonce24[16:], plaintext, aad)


# XChaCha20-Poly1305 AEAD test vector from draft-irtf-cfrg-xchacha-03, A.3.1.
_pt = (
    b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
    b"future, sunscreen would be it."
)
_ct = xchacha20poly1305_encrypt(
    bytes(range(0x80, 0xA0)),
    bytes(range(0x40, 0x58)),
    _pt,
    bytes.fromhex("50515253c0c1c2c3c4c5c6c7"),
)
assert _ct[-16:].hex() == "c0875924c1c7987947deafd8780acf49"
assert _ct[:16].hex() == "bd6d179d3e83d43b9576579493c0e939"


def keystore(secret, password, salt, nonce, m_cost_kib, t_cost, p_cost):
    pk = public_key(secret)
    key = Argon2id(
        salt=salt, length=32, iterations=t_cost, lanes=p_cost, memory_cost=m_cost_kib
    ).derive(password)
    aad = KEYSTORE_AAD_DOMAIN + struct.pack("<I", 1) + address_bytes(pk)
    ciphertext = xchacha20poly1305_encrypt(key, nonce, secret, aad)
    document = {
        "version": 1,
        "address": address(pk),
        "crypto": {
            "kdf": "argon2id",
            "kdfparams": {
                "m_cost_kib": m_cost_kib,
                "t_cost": t_cost,
                "p_cost": p_cost,
                "salt": salt.hex(),
            },
            "cipher": "xchacha20-poly1305",
            "cipherparams": {"nonce": nonce.hex()},
            "ciphertext": ciphertext.hex(),
        },
    }
    return json.dumps(document, separators=(",", ":"))


def main():
    secrets = [
        bytes(32),
        bytes([1] * 32),
        bytes(range(32)),
        bytes([0xFF] * 32),
        blake3(b"bitcraps wallet vector secret 4").digest(),
        blake3(b"bitcraps wallet vector secret 5").digest(),
    ]
    addresses = []
    for secret in secrets:
        pk = public_key(secret)
        addresses.append(
            {
                "secret": secret.hex(),
                "public_key": pk.hex(),
                "address_bytes": address_bytes(pk).hex(),
                "address": address(pk),
                # The same payload with a bech32 (not bech32m) checksum, which
                # a parser must refuse.
                "address_bech32": bech32_encode(ADDRESS_HRP, address_bytes(pk), BECH32_CONST),
            }
        )

    mnemonics = []
    for entropy, phrase in PHRASES:
        for passphrase in ["", "TREZOR", "correct horse battery staple"]:
            seed = bip39_seed(phrase, passphrase)
            secret = secret_from_seed(seed)
            pk = public_key(secret)
            mnemonics.append(
                {
                    "entropy": entropy,
                    "phrase": phrase,
                    "passphrase": passphrase,
                    "seed": seed.hex(),
                    "secret": secret.hex(),
                    "public_key": pk.hex(),
                    "address": address(pk),
                }
            )

    signatures = []
    for i, domain in enumerate(DOMAINS):
        secret = secrets[(i + 1) % len(secrets)]
        chain_id = blake3(b"bitcraps vector chain %d" % i).digest()
        for message in [b"", b"hello", bytes(range(200))]:
            signed = signing_bytes(domain, chain_id, message)
            signature = Ed25519PrivateKey.from_private_bytes(secret).sign(signed)
            signatures.append(
                {
                    "secret": secret.hex(),
                    "public_key": public_key(secret).hex(),
                    "domain": domain,
                    "chain_id": chain_id.hex(),
                    "message": message.hex(),
                    "signed_bytes": signed.hex(),
                    "signature": signature.hex(),
                }
            )

    keystore_secret = secrets[4]
    keystores = [
        {
            "password": "correct horse battery staple",
            "secret": keystore_secret.hex(),
            "address": address(public_key(keystore_secret)),
            "file": keystore(
                keystore_secret,
                b"correct horse battery staple",
                bytes(range(32)),
                bytes(range(100, 124)),
                64,
                2,
                1,
            ),
        },
        {
            "password": "",
            "secret": secrets[5].hex(),
            "address": address(public_key(secrets[5])),
            "file": keystore(
                secrets[5],
                b"",
                bytes([0xA5] * 32),
                bytes([0x5A] * 24),
                32,
                1,
                2,
            ),
        },
    ]

    out = {
        "version": 1,
        "description": (
            "address = bech32m('craps', blake3('bitcraps/v1/address' || pk)[..20]); "
            "mnemonic secret = blake3.derive_key('bitcraps v1 ed25519 key from bip39 seed', "
            "bip39_seed(phrase, passphrase)); signed bytes = 'bitcraps/v1/' || domain || 0x00 || "
            "chain_id || message, signature = ed25519(secret, signed bytes); keystore = compact "
            "JSON, key = argon2id(password, salt, m, t, p, 32), ciphertext = "
            "xchacha20poly1305(key, nonce, secret, aad = 'bitcraps/v1/keystore' || 0x00 || "
            "u32le(1) || address bytes)"
        ),
        "addresses": addresses,
        "mnemonics": mnemonics,
        "signatures": signatures,
        "keystores": keystores,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wallet-v1.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
