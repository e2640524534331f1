"""The README's walkthrough, done by a merchant with a Python client generated
from Kasir's /openapi.json by openapi-python-client (issue 20): nothing here
is written by hand against the HTTP API, so the document must describe every
request and answer well enough for a generator.

Usage: generated_client_walkthrough.py PACKAGE_PARENT BASE_URL MERCHANT_KEY
Prints one JSON object with what it saw; exits non-zero on the first surprise.
"""

import json
import sys

sys.path.insert(0, sys.argv[1])
base_url, key = sys.argv[2], sys.argv[3]

from kasir_client import AuthenticatedClient  # noqa: E402
from kasir_client.api.checkout_sessions import create, refund, retrieve  # noqa: E402
from kasir_client.api.events import list_ as list_events  # noqa: E402
from kasir_client.api.widget import create_attempt  # noqa: E402
from kasir_client.api.widget import retrieve as widget_retrieve  # noqa: E402
from kasir_client.models import (  # noqa: E402
    CardAttempt,
    CardAttemptMethod,
    CardFields,
    CheckoutSession,
    CreateSessionRequest,
    ErrorResponse,
    ListEvent,
    PaymentAttempt,
    PaymentStatus,
    QrisAttempt,
    QrisAttemptMethod,
    Refund,
    RefundRequest,
    SessionStatus,
    ShowQrAction,
    WidgetSession,
)

seen = {}
merchant = AuthenticatedClient(base_url=base_url, token=key)

# 1. The merchant's backend creates a session, with an idempotency key; the
#    same request again is the same session.
body = CreateSessionRequest(amount=150000, reference="INV-GEN-1", description="Kopi Gayo 250 g")
first = create.sync_detailed(client=merchant, body=body, idempotency_key="order-INV-GEN-1")
assert first.status_code == 201, (first.status_code, first.content)
session = first.parsed
assert isinstance(session, CheckoutSession), session
assert session.status == SessionStatus.OPEN and session.amount == 150000, session
again = create.sync_detailed(client=merchant, body=body, idempotency_key="order-INV-GEN-1")
assert isinstance(again.parsed, CheckoutSession) and again.parsed.id == session.id, again.content
seen["session"] = session.id
seen["idempotent_replay"] = again.parsed.id == session.id

# 2. The widget, with the client secret (never the merchant key), sees the
#    session, starts a QRIS payment, then pays by card instead.
widget = AuthenticatedClient(base_url=base_url, token=session.client_secret)
view = widget_retrieve.sync(session.id, client=widget)
assert isinstance(view, WidgetSession) and view.amount == 150000, view
qris = create_attempt.sync(session.id, client=widget, body=QrisAttempt(method=QrisAttemptMethod.QRIS))
assert isinstance(qris, PaymentAttempt), qris
assert isinstance(qris.next_action, ShowQrAction) and qris.next_action.qr_payload, qris.next_action
seen["qr_payload_prefix"] = qris.next_action.qr_payload[:6]
card = CardFields(number="4242 4242 4242 4242", expiry="12/30", cvv="123", holder_name="Budi Santoso")
paid = create_attempt.sync(session.id, client=widget, body=CardAttempt(method=CardAttemptMethod.CARD, card=card))
assert isinstance(paid, PaymentAttempt), paid
assert paid.status == PaymentStatus.SUCCEEDED, paid.status
assert paid.card.last4 == "4242" and paid.card.brand == "visa", paid.card
seen["attempt"] = paid.id

# 3. The session is paid.
now = retrieve.sync(session.id, client=merchant)
assert isinstance(now, CheckoutSession) and now.status == SessionStatus.SUCCEEDED, now
seen["status_after_payment"] = now.status.value

# 4. A partial refund.
refunded = refund.sync_detailed(session.id, client=merchant, body=RefundRequest(amount=50000))
assert refunded.status_code == 201, (refunded.status_code, refunded.content)
assert isinstance(refunded.parsed, Refund) and refunded.parsed.amount == 50000, refunded.parsed
seen["refund_status"] = refunded.parsed.status.value

# 5. The events, newest first.
events = list_events.sync(client=merchant, limit=20)
assert isinstance(events, ListEvent), events
seen["events"] = sorted({e.type_ for e in events.data})

# 6. Errors are typed too: a refund larger than what is left, and an amount
#    of zero, each with a stable code, the field, and both languages.
too_much = refund.sync_detailed(session.id, client=merchant, body=RefundRequest(amount=200000))
assert isinstance(too_much.parsed, ErrorResponse), (too_much.status_code, too_much.content)
bad = create.sync_detailed(client=merchant, body=CreateSessionRequest(amount=0, reference="INV-GEN-0"))
assert isinstance(bad.parsed, ErrorResponse), (bad.status_code, bad.content)
err = bad.parsed.error
seen["errors"] = [
    {"status": too_much.status_code, "code": too_much.parsed.error.code},
    {"status": bad.status_code, "code": err.code, "field": err.field, "message": err.message, "message_id": err.message_id},
]

print(json.dumps(seen))
