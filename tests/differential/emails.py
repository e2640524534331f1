"""Email addresses: Kasir's Email::parse against `email-validator`
(`validate_email(s, check_deliverability=False, strict=True)`: strict
for RFC 5321's 64-character local part; otherwise its defaults).
Both normalise; the reference's address is compared in its ASCII form
(`ascii_email`, punycode domain), which is what Kasir keeps.

Generated: every printable ASCII character and a few non-ASCII ones at the
start, middle and end of the local part, of a domain label and of the
top-level domain; lengths at the 64-character local-part, 63-character label
and 254-character address limits. Hand-picked: the usual edge cases.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

ODD = ["\u00e9", "\u00fc", "\u03b1", "\u0440", "\uff58", "\u00a0", "\t"]

HAND_PICKED = [
    "Budi.Santoso@Contoh.CO.ID", " budi@contoh.id ", "budi@contoh.id\n", "user@domain.xn--p1ai",
    "User@Domain.XN--P1AI", "budi@xn--80ak6aa92e.xn--p1ai", "budi@contoh.xn--3e0b707e",
    "budi@contoh.xn--zz", "budi@xn--zz.id", "budi@contoh.123", "budi@contoh.1", "a@b.test",
    "a@b.invalid", "a@b.local", "a@b.localhost", "a@b.onion", "a@b.arpa", "a@localhost",
    "a@b.example", "a@example.com", "a@b.c", "a@b.co", "a@b.c0m", "a@1.id", "a@123.456",
    "a@x.xn--", "a@x.xn--p1ai-", "a@b.id.", "a@.b.id", "a@b..id", "a@@b.id", "@b.id", "a@", "a",
    "", " ", '"a b"@x.id', '"a"@x.id', "a@[1.2.3.4]", "a@[IPv6:::1]", "\u00fcser@x.id",
    "a@b\u00fccher.de", "a@xn--bcher-kva.de", "budi@\uff58.id", "a..b@x.id", ".a@x.id",
    "a.@x.id", "a+tag@x.id", "a!#$%&'*+-/=?^_`{|}~@x.id", "a@-x.id", "a@x-.id", "a@x_y.id",
    "a@x--y.id", "a@xn--x.id", "A@B.ID", "budi@contoh.co.id", "budi(comment)@x.id",
    "budi@x.id (Budi)", "Budi <budi@x.id>", "a@b@c.id", "a\\@b@x.id", "a@sub.sub.sub.x.id",
]


def generated() -> list[str]:
    chars = [chr(c) for c in range(0x21, 0x7F)] + [" "] + ODD
    out = []
    for c in chars:
        out += [f"{c}a@x.id", f"a{c}b@x.id", f"ab{c}@x.id"]
        out += [f"a@{c}x.id", f"a@x{c}y.id", f"a@xy{c}.id", f"a@x.i{c}d", f"a@x.id{c}"]
    for n in (63, 64, 65):
        out.append("a" * n + "@x.id")
        out.append("a@" + "b" * n + ".id")
        out.append("a@x." + "c" * n)
    # The whole address at 253, 254 and 255 characters.
    for total in (253, 254, 255):
        labels = "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + "."
        domain = labels + "e" * (total - 2 - len(labels))
        out.append("a@" + domain)
    return out


def reference(text: str) -> str:
    try:
        r = validate_email(text, check_deliverability=False, strict=True)
    except EmailNotValidError as e:
        return f"refuse | {e}"
    return f"accept {r.ascii_email}" if r.ascii_email else f"accept-unicode {r.normalized}"


def compare(kasir) -> list[tuple]:
    inputs = HAND_PICKED + generated()
    ours = kasir("email", inputs)
    return [
        ("email", text, f"accept {k['email']}" if k["ok"] else f"refuse | {k['code']}", reference(text))
        for text, k in zip(inputs, ours)
    ]
