#!/usr/bin/env python3
"""Independent reference for the BitCraps randomness derivation, version 1.

Writes randomness-v1.json next to this file. It shares no code with the Rust
crate: the Rust tests check the crate against what this script computes.
Needs the `blake3` package from PyPI (`pip install blake3`).
"""
import json
import os

from blake3 import blake3

DOMAIN = b"bitcraps/v1/randomness"
PURPOSES = {
    "craps-roll": b"bitcraps/v1/craps-roll",
    "crash-instant": b"bitcraps/v1/crash-instant",
    "crash-interval": b"bitcraps/v1/crash-interval",
    "simulation": b"bitcraps/v1/simulation",
}


def randomness(sigma: bytes) -> bytes:
    return blake3(DOMAIN + sigma).digest()


class Stream:
    def __init__(self, r: bytes, purpose: str, label: bytes):
        data = PURPOSES[purpose] + b"\x00" + len(label).to_bytes(8, "little") + label
        # 4 KiB of output is far more than any vector reads.
        self.bytes = blake3(data, key=r).digest(length=4096)
        self.pos = 0

    def byte(self) -> int:
        b = self.bytes[self.pos]
        self.pos += 1
        return b

    def word(self) -> int:
        return int.from_bytes(bytes(self.byte() for _ in range(8)), "big")

    def die(self) -> int:
        while True:
            b = self.byte()
            if b < 252:
                return 1 + b % 6

    def uniform(self) -> int:
        return self.word() >> 12

    def below(self, n: int) -> int:
        limit = 2**64 - (2**64 % n)
        while True:
            w = self.word()
            if w < limit:
                return w % n


def case(sigma: bytes) -> dict:
    r = randomness(sigma)
    streams = []
    for purpose in PURPOSES:
        for label in (b"", b"table-1", bytes(range(40))):
            s = Stream(r, purpose, label)
            first = bytes(s.byte() for _ in range(48))
            s = Stream(r, purpose, label)
            rolls = [[s.die(), s.die()] for _ in range(12)]
            s = Stream(r, purpose, label)
            uniforms = [s.uniform() for _ in range(6)]
            s = Stream(r, purpose, label)
            below = [s.below(100) for _ in range(6)]
            streams.append(
                {
                    "purpose": purpose,
                    "label": label.hex(),
                    "first_bytes": first.hex(),
                    "rolls": rolls,
                    "uniforms": uniforms,
                    "below_100": below,
                }
            )
    return {"sigma": sigma.hex(), "randomness": r.hex(), "streams": streams}


def main() -> None:
    sigmas = [b"", b"bitcraps", bytes(range(96)), bytes([0xFF] * 48)]
    out = {
        "version": 1,
        "description": "r = blake3(domain || sigma); stream = blake3 XOF keyed by r over "
        "purpose || 0x00 || u64le(len(label)) || label; die: reject bytes >= 252, 1 + b mod 6; "
        "word: 8 bytes big-endian; uniform: word >> 12 (numerator over 2^52); "
        "below(n): reject words >= 2^64 - (2^64 mod n), then word mod n",
        "cases": [case(s) for s in sigmas],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "randomness-v1.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
