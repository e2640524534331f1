"""QRIS, both ways, against `qriskit` (parse + validate: a payload is valid
when it has no error-level issue; warnings such as a missing postal code do
not count).

Theirs parsed by us: payloads built by qriskit (names, cities, amounts, tips,
additional data, several merchant accounts), hand-made edits resealed with a
fresh CRC, and every one-character substitution and deletion of three
payloads; Kasir's verdict and the fields it reads (name, city, amount, NMID,
static or dynamic) against qriskit's.

Ours checked by them: Kasir's builder (`qris_build`) and qriskit's builder get
the same merchant; where Kasir builds a payload, qriskit must find no error in
it and read back what was asked.
"""

from __future__ import annotations

from decimal import Decimal

import qriskit
from qriskit import MerchantAccount, Tip
from qriskit.tlv import Node

NMID = "ID1020012345678"
MERCHANT = {
    "name": "Toko Kasir", "city": "Jakarta", "postal_code": "12190", "nmid": NMID,
    "mcc": "5411", "criteria": "UMI", "acquirer_gui": "ID.CO.KASIR.WWW",
    "merchant_pan": "9360001400000000012", "merchant_id": "KSR000000000001",
}


def build(amount=None, tip=None, extra=None, accounts=None, **over) -> str:
    """A payload from qriskit's builder, for MERCHANT with `over` changed."""
    m = {**MERCHANT, **over}
    return qriskit.build(
        merchant_name=m["name"], merchant_city=m["city"], mcc=m["mcc"],
        postal_code=m["postal_code"], amount=amount, tip=tip, additional_data=extra,
        accounts=accounts or [
            MerchantAccount.create(tag="26", guid=m["acquirer_gui"], pan=m["merchant_pan"],
                                   merchant_id=m["merchant_id"], criteria=m["criteria"]),
            MerchantAccount.national(nmid=m["nmid"], criteria=m["criteria"]),
        ],
    ).dumps()


def theirs() -> list[str]:
    base = qriskit.parse(build())
    wallet = MerchantAccount.create(tag="27", guid="COM.EXAMPLE.WALLET", pan="936009990000000001")
    out = [build(), build(amount=15000, extra={"01": "INV-2026-001"}), build(amount=1),
           build(amount=9999999999999), build(amount=Decimal("15000.50")), build(amount="1.5"),
           build(name="A" * 25, city="C" * 15), build(name="Toko \"Budi\" & Sons #1"),
           build(name="Kopi \u00c9t\u00e9"), build(postal_code=None), build(tip=Tip.prompt(), amount=5000),
           build(tip=Tip.fixed(2000), amount=5000), build(tip=Tip.percent("2.5"), amount=5000),
           build(extra={"05": "REF-1", "07": "T01", "08": "Pembayaran"}),
           build(accounts=[*base.merchant_accounts[:1], wallet, base.merchant_accounts[1]]),
           build(accounts=base.merchant_accounts[:1]),
           base.to_dynamic(25000, reference="INV-2026-001").dumps(),
           base.to_dynamic(25000).to_static().dumps()]
    edits = [("01", "12"), ("01", "13"), ("53", "840"), ("58", "SG"), ("54", "0"), ("54", "-1"),
             ("54", "15000."), ("54", "15000.00"), ("54", "00015000"), ("54", "1234567890123"),
             ("54", "12345678901234"), ("54", "1234567890.00"), ("54", "1e5"), ("52", "54a1"),
             ("52", "541"), ("59", ""), ("59", "N" * 26), ("60", "C" * 16), ("61", "12345678901"),
             ("26.00", ""), ("26.01", "93600014ABC"), ("26.00", "G" * 33), ("51.02", "ID123"),
             ("55", "04"), ("55", "02"), ("57", "2.5"), ("62", "abc"), ("62.01", ""),
             ("64", "0002ID0104Toko"), ("99", "abc"), ("80", "0004test")]
    for path, value in edits:
        out.append(base.with_tag(path, value).dumps())
    for path in ("01", "52", "53", "58", "59", "60", "51", "26.00", "26", "63"):
        out.append(base.without_tag(path).dumps() if path != "63" else build()[:-8])
    nodes = list(base.nodes)
    out.append(qriskit.QRIS(tuple(nodes[:-1] + [nodes[-2], nodes[-1]])).dumps())  # tag twice
    out.append(qriskit.QRIS(tuple([nodes[1], nodes[0]] + nodes[2:])).dumps())  # 00 not first
    # The CRC in lower case: the first payload whose CRC has a letter.
    lettered = next(p for p in out if any(c in "ABCDEF" for c in p[-4:]))
    out.append(lettered[:-4] + lettered[-4:].lower())
    out += [" " + build() + " ", build() + "\n", "", "000201"]
    return out


def mutants(payloads: list[str]) -> list[str]:
    out = []
    for p in payloads:
        for i, c in enumerate(p):
            swap = "0123456789ABCDEFGHIJ .-"
            out.append(p[:i] + swap[(swap.find(c) + 7) % len(swap)] + p[i + 1 :])
            out.append(p[:i] + p[i + 1 :])
    return out


def fields(name, city, amount, nmid, dynamic) -> str:
    if isinstance(amount, Decimal):
        amount = int(amount) if amount == amount.to_integral_value() else amount
    return f"accept name={name!r} city={city!r} amount={amount} nmid={nmid} dynamic={dynamic}"


def errors(payload: str) -> list[str]:
    try:
        issues = qriskit.validate(payload)
    except (qriskit.QRISParseError, TypeError) as e:
        return [f"parse: {e}"]
    return [f"{i.code}@{i.path}" for i in issues if i.severity == "error"]


def reference(payload: str) -> str:
    problems = errors(payload)
    if problems:
        return "refuse | " + " ".join(problems)
    q = qriskit.parse(payload)
    return fields(q.merchant_name, q.merchant_city, q.amount, q.nmid, q.is_dynamic)


def ours(k: dict) -> str:
    if not k["ok"]:
        return f"refuse | {k['code']}"
    return fields(k["merchant_name"], k["merchant_city"], k["amount"], k["nmid"], k["dynamic"])


def build_requests() -> list[dict]:
    dyn = {"amount": 15000, "bill_number": "INV-2026-001"}
    changes = [{}, dyn, {**dyn, "amount": 1}, {**dyn, "amount": 9999999999999},
               {**dyn, "amount": 10000000000000}, {**dyn, "amount": 0}, {**dyn, "bill_number": ""},
               {**dyn, "bill_number": "B" * 25}, {**dyn, "bill_number": "B" * 26},
               {"name": "N" * 25}, {"name": "N" * 26}, {"name": ""}, {"name": "Kopi \u00c9t\u00e9"},
               {"city": "C" * 15}, {"city": "C" * 16}, {"postal_code": None},
               {"nmid": "ID123"}, {"nmid": "ID10200123456789"}, {"nmid": "ID102001234567X"},
               {"acquirer_gui": "G" * 32}, {"acquirer_gui": "G" * 33},
               {"merchant_pan": "9" * 19}, {"merchant_pan": "9" * 20}, {"merchant_pan": "93600014ABC"},
               {"merchant_id": "M" * 15}, {"merchant_id": "M" * 16}, {"mcc": "541"}, {"mcc": "54a1"}]
    changes += [{"criteria": c} for c in ("UKE", "UME", "UBE", "URE")]
    return [{k: v for k, v in {**MERCHANT, **c}.items() if v is not None} for c in changes]


def build_reference(r: dict) -> str:
    try:
        extra = {"01": r["bill_number"]} if "amount" in r else None
        payload = build(amount=r.get("amount"), extra=extra, **{k: r.get(k) for k in MERCHANT})
    except (ValueError, TypeError) as e:
        return f"refuse | {e}"
    return f"accept {r['name']!r} {r.get('amount')} {r['nmid']} {r.get('bill_number')} | {payload}"


def build_ours(k: dict) -> str:
    if not k["ok"]:
        return f"refuse | {k['code']}"
    problems = errors(k["payload"])
    if problems:
        return f"accept but qriskit finds {problems} | {k['payload']}"
    q = qriskit.parse(k["payload"])
    bill = q.additional_data.bill_number
    return f"accept {q.merchant_name!r} {q.amount} {q.nmid} {bill} | {k['payload']}"


def compare(kasir) -> list[tuple]:
    rows = []
    requests = build_requests()
    built = kasir("qris_build", requests)
    for r, k in zip(requests, built):
        rows.append(("qris_build", r, build_ours(k), build_reference(r)))
    payloads = theirs()
    # Every one-character change of theirs, static and dynamic, and of ours.
    payloads += mutants([payloads[0], payloads[1], built[1].get("payload", "")])
    rows += [("qris", p, ours(k), reference(p)) for p, k in zip(payloads, kasir("qris", payloads))]
    return rows
