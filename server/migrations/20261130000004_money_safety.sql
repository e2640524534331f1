-- Money safety (issue 14): live/test mode per session, attempts under
-- review and their merchant resolution, late payments, refunds as their own
-- state machine with idempotency keys. Portable SQL (SQLite and PostgreSQL).

-- 1 when created by a merchant's sk_live_ key: never routed to the sandbox.
ALTER TABLE checkout_sessions ADD COLUMN livemode BIGINT NOT NULL DEFAULT 0;

-- When checkout_session.requires_review was raised for an attempt whose
-- outcome Kasir cannot learn, and how the merchant settled it (JSON).
ALTER TABLE attempts ADD COLUMN review_requested_at BIGINT;
ALTER TABLE attempts ADD COLUMN resolution TEXT;

-- Money a provider reports for an attempt Kasir had already closed
-- (cancelled, expired, failed, or a session paid by another attempt).
-- One row per attempt: a duplicate report changes nothing.
CREATE TABLE late_payments (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    attempt_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_ref TEXT,
    amount BIGINT NOT NULL,
    status TEXT NOT NULL,
    refund_ref TEXT,
    failure_code TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    next_try_at BIGINT
);
CREATE UNIQUE INDEX late_payments_by_attempt ON late_payments (attempt_id);
CREATE INDEX late_payments_to_refund ON late_payments (status, next_try_at);

-- Refunds: pending -> succeeded | failed, reconciled while pending.
ALTER TABLE refunds ADD COLUMN idempotency_key TEXT;
ALTER TABLE refunds ADD COLUMN request_hash TEXT;
ALTER TABLE refunds ADD COLUMN failure_code TEXT;
ALTER TABLE refunds ADD COLUMN updated_at BIGINT;
ALTER TABLE refunds ADD COLUMN next_try_at BIGINT;
CREATE UNIQUE INDEX refunds_by_idempotency_key ON refunds (merchant_id, idempotency_key);
CREATE INDEX refunds_to_reconcile ON refunds (status, next_try_at);
