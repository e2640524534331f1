"""Card numbers: Kasir's CardNumber::parse against Braintree's card-validator
(`number(n, {luhnValidateUnionPay: true})`, brands from credit-card-type).

Generated: a Luhn-valid number for every range boundary of every brand either
side knows (each range's first and last prefix and the prefixes just outside),
at every length 11-20, filled with 0s, with 9s and with pseudo-random digits,
and the pseudo-random one again with its check digit broken. Hand-picked:
public test cards and written forms.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Kasir's ranges (shared/src/card/brand.rs), for their boundaries.
KASIR_RANGES = [
    (9360, 9360), (2221, 2720), (3528, 3589), (3088, 3088), (3096, 3096), (3112, 3112),
    (3158, 3158), (3337, 3337), (6304, 6304), (6759, 6759), (6761, 6763), (6011, 6011),
    (8100, 8171), (810, 810), (300, 305), (644, 649), (34, 34), (37, 37), (51, 55),
    (50, 50), (56, 58), (62, 62), (65, 65), (36, 36), (38, 39), (4, 4),
]

# credit-card-type's names, as Kasir's; brands Kasir does not label keep theirs.
BRAND_NAMES = {
    "visa": "visa", "mastercard": "mastercard", "american-express": "amex", "jcb": "jcb",
    "maestro": "maestro", "unionpay": "union_pay", "discover": "discover",
    "diners-club": "diners",
}

HAND_PICKED = [
    "4111 1111 1111 1111", "4111-1111-1111-1111", " 4242424242424242 ", "4111.1111.1111.1111",
    "4111 1111 1111 1112", "378282246310005", "3782822463100005", "5555555555554444",
    "2223003122003222", "3566002020360505", "6200000000000005", "6759649826438453",
    "8171 9999 0000 0000 021", "6011111111111117", "6011000990139424", "6445644564456445",
    "3056930009020004", "36227206271667", "38520000023237", "4000000000002503",
    "3337000000200004", "9360 0000 0000 0000 7", "", " ", "abcd", "4111 1111 1111 111a",
    "41111111111", "4" * 20, "0000000000000000", "4111111111111111\n",
]


def digits(seed: str, n: int) -> str:
    """n pseudo-random digits, the same on every run."""
    out = ""
    while len(out) < n:
        seed = hashlib.sha256(seed.encode()).hexdigest()
        out += "".join(c for c in seed if c.isdigit())
    return out[:n]


def luhn_digit(payload: str) -> str:
    total = 0
    for i, c in enumerate(reversed(payload)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def boundary_prefixes(ranges: list[tuple[int, int]]) -> set[str]:
    out = set()
    for low, high in ranges:
        width = len(str(low))
        for p in (low - 1, low, high, high + 1):
            if len(str(p)) == width:
                out.add(str(p))
    return out


def braintree(numbers: list[str]) -> dict:
    done = subprocess.run(
        ["node", str(HERE / "cards.js")],
        input=json.dumps({"numbers": numbers}),
        capture_output=True, text=True, check=True, cwd=HERE,
    )
    return json.loads(done.stdout)


def braintree_ranges(patterns: dict) -> list[tuple[int, int]]:
    out = []
    for info in patterns.values():
        for p in info["patterns"]:
            out.append((p[0], p[1]) if isinstance(p, list) else (p, p))
    return out


def generated(ranges: list[tuple[int, int]]) -> list[str]:
    numbers = []
    for prefix in sorted(boundary_prefixes(ranges)):
        for length in range(11, 21):
            for fill in ("0", "9", "r"):
                body = fill * length if fill != "r" else digits(prefix + str(length), length)
                payload = (prefix + body)[: length - 1]
                good = payload + luhn_digit(payload)
                numbers.append(good)
                if fill == "r":
                    numbers.append(payload + str((int(good[-1]) + 1) % 10))
    return numbers


def compare(kasir) -> list[tuple]:
    patterns = braintree([])["patterns"]
    numbers = HAND_PICKED + sorted(set(generated(KASIR_RANGES + braintree_ranges(patterns))))
    theirs = braintree(numbers)["results"]
    ours = kasir("card", numbers)
    rows = []
    for number, k, r in zip(numbers, ours, theirs):
        kasir_says = f"accept {k['brand']}" if k["ok"] else f"refuse | {k['code']}"
        brand = BRAND_NAMES.get(r["type"], r["type"] or "no single brand")
        ref_says = f"accept {brand}" if r["valid"] else f"refuse | {brand}"
        rows.append(("card", number, kasir_says, ref_says))
    return rows
