"""Indonesian phone numbers: Kasir's PhoneNumber::parse and parse_mobile
against libphonenumber (`phonenumbers`, region ID). The reference accepts a
number that is_valid_number and belongs to Indonesia; it is mobile when its
number_type is MOBILE.

Generated: every block 0800-0899 (operators' mobile blocks and the service
numbers among them), with 8 to 13 national digits, written as `08…`,
`+62 8…`, `62 8…`, `(+62) 8…`, `0062 8…` and `+62 (0) 8…`, grouped with
spaces, dashes or dots. Hand-picked: landlines, foreign numbers, odd forms.
"""

from __future__ import annotations

import hashlib

import phonenumbers as pn

STYLES = ["0{}", "+62 {}", "62 {}", "(+62) {}", "0062 {}", "+62 (0) {}", "62{}", "+62{}"]
SEPARATORS = [" ", "-", ".", ""]

HAND_PICKED = [
    "0812-3456-7890", "(0812) 3456 7890", "(0812)-3456-7890", "81234567890", " 0812.3456.7890 ",
    "620812345678", "+62 0812 3456 7890", "(+62)81234567890", "(+62) (0) 812 3456 7890",
    "(+62 812 3456 7890", "(+) 62 812 3456 7890", "((+62)) 812 3456 7890", "+62 812 3456 789a",
    "(021) 555-1234", "021-5551234", "0361 234567", "(0274) 123456", "+62 21 555 1234",
    "+62 21 5555 12345", "021 1234", "(022) 2034 5678",
    "+65 9123 4567", "+1 415 555 2671", "0065 9123 4567", "+60 12-345 6789", "008 62 812 3456 7890",
    "009 62 812 3456 7890", "+", "+62", "0812", "", "   ", "0112345678", "0812345678901234",
    "tel:+6281234567890", "+62 812 3456 7890 ext. 12", "081234567890#",
    "\uff10\uff18\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10",
    "0800-1-234567", "0804 1 500 000", "08071 234 567", "0809 1234 567", "0840 1234 5678",
    "14045", "112", "1500 123",
]


def digits(seed: str, n: int) -> str:
    out = ""
    while len(out) < n:
        seed = hashlib.sha256(seed.encode()).hexdigest()
        out += "".join(c for c in seed if c.isdigit())
    return out[:n]


def group(national: str, sep: str) -> str:
    """`812 3456 7890`: the block, then fours."""
    parts = [national[:3]] + [national[i : i + 4] for i in range(3, len(national), 4)]
    return sep.join(parts)


def generated() -> list[str]:
    out = []
    for block in range(100):
        for length in range(8, 14):
            national = f"8{block:02d}" + digits(f"{block}-{length}", length - 3)
            for i, style in enumerate(STYLES):
                out.append(style.format(group(national, SEPARATORS[(block + i) % 4])))
    return out


def reference(text: str) -> tuple[str, str]:
    """libphonenumber's verdicts as (phone, phone_mobile)."""
    try:
        n = pn.parse(text, "ID")
    except pn.NumberParseException as e:
        return f"refuse | {e}", f"refuse | {e}"
    if not pn.is_valid_number(n) or pn.region_code_for_number(n) != "ID":
        why = f"refuse | {pn.format_number(n, pn.PhoneNumberFormat.E164)} not a valid Indonesian number"
        return why, why
    e164 = pn.format_number(n, pn.PhoneNumberFormat.E164)
    if pn.number_type(n) == pn.PhoneNumberType.MOBILE:
        return f"accept {e164} mobile", f"accept {e164}"
    return f"accept {e164} other", f"refuse | {e164} is {pn.PhoneNumberType.to_string(pn.number_type(n))}"


def compare(kasir) -> list[tuple]:
    inputs = HAND_PICKED + generated()
    phone = kasir("phone", inputs)
    mobile = kasir("phone_mobile", inputs)
    rows = []
    for text, p, m in zip(inputs, phone, mobile):
        ref_phone, ref_mobile = reference(text)
        kind = "mobile" if p.get("mobile") else "other"
        ours_phone = f"accept {p['e164']} {kind}" if p["ok"] else f"refuse | {p['code']}"
        ours_mobile = f"accept {m['e164']}" if m["ok"] else f"refuse | {m['code']}"
        rows.append(("phone", text, ours_phone, ref_phone))
        rows.append(("phone_mobile", text, ours_mobile, ref_mobile))
    return rows
