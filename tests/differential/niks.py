"""NIK: Kasir's Nik::parse against python-stdnum's `stdnum.id.nik.is_valid`
(length, digits, a birth date that exists in 19yy or 20yy, the province).

Generated: every day 00-99 of every month 00-13 in years `00` (2000 is a
leap year, 1900 is not), `04` (both leap) and `01` (neither); 29 and 30
February, men's and women's (day + 40), in every year 00-99;
every province code 00-99; zero regency, district and sequence. Hand-picked:
written forms.
"""

from __future__ import annotations

from stdnum.exceptions import ValidationError
from stdnum.id import nik

PLACE = "317101"  # Jakarta Selatan, Kebayoran Baru: a real regency and district.
SEQ = "0001"

HAND_PICKED = [
    "3171011708450001", "3171 0117 0845 0001", "317101.170845.0001", "3171-0117-0845-0001",
    " 3171011708450001 ", "3171011708450001\n", "317101170845000", "31710117084500012", "",
    "   ", "317101170845000a", "3171/0117/0845/0001", "\uff13171011708450001",
]


def generated() -> list[str]:
    out = []
    for yy in ("00", "04", "01"):
        for month in range(14):
            for day in range(100):
                out.append(f"{PLACE}{day:02d}{month:02d}{yy}{SEQ}")
    for year in range(100):
        for day in (29, 30, 69, 70):
            out.append(f"{PLACE}{day:02d}02{year:02d}{SEQ}")
    for province in range(100):
        out.append(f"{province:02d}0101170845{SEQ}")
    for place in ("310001", "317100", "000000"):
        out.append(f"{place}170845{SEQ}")
    out.append(f"{PLACE}1708450000")
    return out


def reference(text: str) -> str:
    try:
        nik.validate(text)
    except ValidationError as e:
        return f"refuse | {type(e).__name__}"
    return "accept"


def compare(kasir) -> list[tuple]:
    inputs = HAND_PICKED + sorted(set(generated()))
    ours = kasir("nik", inputs)
    return [
        (
            "nik",
            text,
            "accept" if k["ok"] else f"refuse | {k['code']}",
            reference(text),
        )
        for text, k in zip(inputs, ours)
    ]
