#!/usr/bin/env python3
"""Independent reference for the BitCraps crash game, version 1.

Writes crash-v1.json next to this file. It shares no code with the Rust crate:

- the multiplier m(t) = floor(e^(6 t / 100000) * 2^32), clamped to 1,000,000 x, is
  computed with the `decimal` module at 60 significant digits (libmpdec's exp is
  correctly rounded), not with the crate's integer series; the script checks that
  no value is within 2^-40 of an integer, so every floor below is certain;
- the crash decisions reuse the stream derivation of generate_randomness.py (imported,
  so the two reference scripts cannot drift apart) and apply the published rule;
- the exact probabilities use Python's `fractions`.

Needs the `blake3` package from PyPI (`pip install blake3`). Runs in ~10 s.
"""
import json
import os
import sys
from decimal import ROUND_FLOOR, Decimal, getcontext
from fractions import Fraction

from blake3 import blake3

sys.dont_write_bytecode = True  # keep vectors/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_randomness import Stream, randomness  # noqa: E402

FRACTION_BITS = 32
ONE = 1 << FRACTION_BITS
MAX_WHOLE = 1_000_000
MAX_BITS = MAX_WHOLE << FRACTION_BITS
UNIT = 1 << 52  # the uniform draws are numerators over 2^52

getcontext().prec = 60


def t_max() -> int:
    """The first whole millisecond at which e^(6 t / 100000) >= 1,000,000."""
    t = int(Decimal(MAX_WHOLE).ln() * 100000 / 6)
    while (Decimal(6 * t) / 100000).exp() < MAX_WHOLE:
        t += 1
    assert (Decimal(6 * (t - 1)) / 100000).exp() < MAX_WHOLE
    return t


T_MAX = t_max()
# How close to an integer e^x * 2^32 may come before this script refuses to trust a
# floor at 60 digits: far above decimal's error (~1e-44 here), far below any gap seen.
SAFETY = Decimal(2) ** -40


def multiplier(t: int):
    """(bits, distance of e^x * 2^32 to the nearest integer) for elapsed t ms."""
    if t >= T_MAX:
        return MAX_BITS, None
    v = (Decimal(6 * t) / 100000).exp() * ONE
    f = int(v.to_integral_value(rounding=ROUND_FLOOR))
    if t == 0:
        return f, None  # e^0 = 1 exactly
    dist = min(v - f, f + 1 - v)
    assert dist > SAFETY, f"t={t}: e^x*2^32 is within 2^-40 of an integer; raise precision"
    return min(f, MAX_BITS), dist


def full_range():
    h = blake3()
    prev = 0
    min_dist = Decimal(1)
    min_dist_t = None
    values = {}
    for t in range(0, T_MAX + 1):
        bits, dist = multiplier(t)
        assert bits >= prev, "multiplier must never decrease"
        prev = bits
        if dist is not None and dist < min_dist:
            min_dist, min_dist_t = dist, t
        h.update(bits.to_bytes(8, "little"))
        values[t] = bits
    return h.hexdigest(), min_dist, min_dist_t, values


def from_hundredths(h: int) -> int:
    # ceil(h * 2^32 / 100): the smallest multiplier at or above h/100
    return -((-h * ONE) // 100)


def reach_count(frm: int, target: int) -> int:
    """How many u in [0, 2^52) satisfy u * target <= frm * 2^52."""
    if target <= frm:
        return UNIT
    return frm * UNIT // target + 1


def decision_case(sigma: bytes, label: bytes, first: bool, t_from: int, t_to: int, targets):
    r = randomness(sigma)
    frm = multiplier(t_from)[0]
    to = multiplier(t_to)[0]
    instant = first and Stream(r, "crash-instant", label).below(100) == 0
    u = Stream(r, "crash-interval", label).uniform()

    def reaches(x):
        return (not instant) and u * x <= frm * UNIT

    survives = reaches(to)
    if survives:
        crash = None
    elif instant:
        crash = ONE
    else:
        # The largest multiplier reached: the exact crash point m_{k-1} * 2^52 / u, floored.
        crash = frm * UNIT // u
        assert frm <= crash < to
    return {
        "sigma": sigma.hex(),
        "label": label.hex(),
        "first": first,
        "from_ms": t_from,
        "to_ms": t_to,
        "from_bits": frm,
        "to_bits": to,
        "instant_crash": instant,
        "draw": u,
        "survives": survives,
        "crash_point_bits": crash,
        "targets": [[x, reaches(x)] for x in targets if frm < x <= to],
    }


def decisions():
    cases = []
    # Find beacon outputs whose first interval crashes instantly (1 in 100).
    instant_sigmas = []
    i = 0
    while len(instant_sigmas) < 3:
        sigma = b"instant-" + i.to_bytes(4, "big")
        r = randomness(sigma)
        if Stream(r, "crash-instant", b"tick-1").below(100) == 0:
            instant_sigmas.append(sigma)
        i += 1
    targets = [from_hundredths(h) for h in (101, 110, 150, 200, 231, 300, 500, 1000, 10000)]
    for sigma in instant_sigmas:
        cases.append(decision_case(sigma, b"tick-1", True, 0, 1000, targets))
    sigmas = [b"", b"bitcraps", bytes(range(96)), bytes([0xFF] * 48)]
    intervals = [
        (True, 0, 0),
        (True, 0, 100),
        (True, 0, 20000),
        (False, 1000, 1100),
        (False, 5000, 30000),
        (False, 11552, 23104),
        (False, 100000, 130000),
        (False, 230000, 230259),
        (False, 230259, 230300),
    ]
    for n, sigma in enumerate(sigmas):
        for first, a, b in intervals:
            for label in (b"tick-%d" % (n + 1), bytes(range(24))):
                cases.append(decision_case(sigma, label, first, a, b, targets))
    # Make sure the vectors exercise every branch.
    assert any(c["instant_crash"] for c in cases)
    assert any(c["survives"] for c in cases)
    assert any(c["crash_point_bits"] not in (None, ONE) for c in cases)
    assert any(any(w for _, w in c["targets"]) and not c["survives"] for c in cases)
    return cases


def reach_probability(values, interval_ms: int, target: int) -> Fraction:
    """P(reach target) with ticks every interval_ms, from counts over the 2^52 grid."""
    p = Fraction(99, 100)
    k = 0
    while True:
        frm = values[min(k * interval_ms, T_MAX)]
        to = values[min((k + 1) * interval_ms, T_MAX)]
        if to >= target:
            return p * Fraction(reach_count(frm, target), UNIT)
        p *= Fraction(reach_count(frm, to), UNIT)
        k += 1


def main() -> None:
    digest, min_dist, min_dist_t, values = full_range()
    sample_ts = sorted(
        set(
            list(range(0, 21))
            + [50, 100, 999, 1000, 1001, 11552, 11553, 50000, 76753, 100000, 115129]
            + [150000, 200000, 230000, T_MAX - 2, T_MAX - 1, T_MAX, T_MAX + 1, 10**9, 2**64 - 1]
            + [(i * 7919 * 104729) % T_MAX for i in range(1, 41)]
        )
    )
    samples = [[t, multiplier(t)[0]] for t in sample_ts]
    hundredths = [[h, from_hundredths(h)] for h in (100, 101, 150, 199, 200, 231, 1000, 10000, 100_000_000)]
    analysis = []
    for interval_ms, h in ((1000, 101), (1000, 150), (1000, 200), (1000, 1000), (100, 200), (50, 101)):
        target = from_hundredths(h)
        p = reach_probability(values, interval_ms, target)
        ret = p * Fraction(target, ONE)
        assert ret >= Fraction(99, 100)
        analysis.append(
            {
                "interval_ms": interval_ms,
                "target_bits": target,
                "reach_probability": f"{p.numerator}/{p.denominator}",
                "expected_return": f"{ret.numerator}/{ret.denominator}",
            }
        )
    out = {
        "version": 1,
        "description": "multiplier bits m(t) = min(floor(e^(6 t / 100000) * 2^32), 10^6 * 2^32), t in ms; "
        "t_max_ms is the first t at the maximum; full_range_blake3 = blake3 of the u64 little-endian bits "
        "for every t in 0..=t_max_ms. from_hundredths(h) = ceil(h * 2^32 / 100). Decisions: instant = first "
        "and stream(crash-instant, label).below(100) == 0; u = stream(crash-interval, label).uniform(); "
        "a target x (from < x <= to) is reached iff not instant and u * x <= from * 2^52; the interval "
        "survives iff `to` is reached; crash point = 1.00x if instant, else floor(from * 2^52 / u). "
        "Analysis: P(reach x) = 99/100 * prod over intervals of #{u: u*m_k <= m_(k-1)*2^52} / 2^52 "
        "* #{u: u*x <= m_(j-1)*2^52} / 2^52, ticks every interval_ms; expected return = P * x / 2^32.",
        "fraction_bits": FRACTION_BITS,
        "max_bits": MAX_BITS,
        "t_max_ms": T_MAX,
        "full_range_blake3": digest,
        "min_distance_to_integer": f"{min_dist:.6e}",
        "min_distance_at_ms": min_dist_t,
        "samples": samples,
        "hundredths": hundredths,
        "decisions": decisions(),
        "analysis": analysis,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crash-v1.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"t_max={T_MAX} digest={digest} min distance {min_dist:.3e} at t={min_dist_t}")


if __name__ == "__main__":
    main()
