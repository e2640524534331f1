#!/usr/bin/env python3
"""Verifies one webhook Kasir delivered, as a merchant would: with the
official Standard Webhooks library and with Stripe's library, never with
Kasir's own code. Called by tests/tests/api/webhooks_out.rs.

Input on stdin: {"secret": ..., "body": <exact bytes as text>, "headers": {...}}.
Prints one JSON line: {"standardwebhooks": "ok" | <error>, "stripe": "ok" | <error>,
"tampered_standardwebhooks": ..., "tampered_stripe": ...}; a tampered copy
of the body must be refused by both.
"""

import json
import sys

import standardwebhooks
import stripe


def check(fn):
    try:
        fn()
        return "ok"
    except Exception as e:  # noqa: BLE001 - the error's kind is the answer
        return f"{type(e).__name__}: {e}"


def main():
    given = json.load(sys.stdin)
    secret, body, headers = given["secret"], given["body"], given["headers"]
    tampered = body.replace("checkout_session", "checkout_sessiom", 1)
    sw = standardwebhooks.Webhook(secret)
    standard = {k: headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature") if k in headers}
    kasir = headers.get("kasir-signature", "")
    result = {
        "standardwebhooks": check(lambda: sw.verify(body, standard)),
        "stripe": check(lambda: stripe.WebhookSignature.verify_header(body, kasir, secret, 300)),
        "tampered_standardwebhooks": check(lambda: sw.verify(tampered, standard)),
        "tampered_stripe": check(lambda: stripe.WebhookSignature.verify_header(tampered, kasir, secret, 300)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
