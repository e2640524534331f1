-- Payment attempts, refunds, the merchant-webhook outbox, and the built-in
-- sandbox provider's own ledger. Portable SQL (SQLite and PostgreSQL).

-- One row per payment attempt, written before the provider is called. Card
-- data is never stored: brand, BIN and last four only.
CREATE TABLE attempts (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    method TEXT NOT NULL,
    status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    provider_ref TEXT,
    next_action TEXT,
    three_ds_html TEXT,
    failure_code TEXT,
    card_brand TEXT,
    card_bin TEXT,
    card_last4 TEXT,
    detail TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    reconcile_after BIGINT,
    claimed_until BIGINT
);

CREATE INDEX attempts_by_session ON attempts (session_id, created_at);
CREATE UNIQUE INDEX attempts_by_provider_ref ON attempts (provider, provider_ref);
-- At most one succeeded attempt per session, whatever the code above does.
CREATE UNIQUE INDEX attempts_one_success ON attempts (session_id) WHERE status = 'succeeded';
CREATE INDEX attempts_to_reconcile ON attempts (status, reconcile_after);

-- The amount refunded so far; the compare-and-set on it keeps concurrent
-- refunds from exceeding the amount paid.
ALTER TABLE checkout_sessions ADD COLUMN amount_refunded BIGINT NOT NULL DEFAULT 0;
CREATE INDEX checkout_sessions_by_expiry ON checkout_sessions (status, expires_at);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    attempt_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    status TEXT NOT NULL,
    provider_ref TEXT,
    created_at BIGINT NOT NULL
);

CREATE INDEX refunds_by_session ON refunds (session_id, created_at);

-- The outbox: delivery state of each event to the merchant's webhook URL.
ALTER TABLE events ADD COLUMN delivery_state TEXT NOT NULL DEFAULT 'none';
ALTER TABLE events ADD COLUMN delivery_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN next_delivery_at BIGINT;
ALTER TABLE events ADD COLUMN claimed_until BIGINT;
CREATE INDEX events_to_deliver ON events (delivery_state, next_delivery_at);

-- Every delivery attempt, for the operator and the merchant.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    attempted_at BIGINT NOT NULL,
    response_status BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL
);

CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id, attempted_at);

-- The built-in sandbox provider's ledger: what "the provider" believes,
-- kept apart from Kasir's own attempts exactly as a real provider's would be.
CREATE TABLE sandbox_payments (
    id TEXT PRIMARY KEY,
    attempt_id TEXT NOT NULL,
    method TEXT NOT NULL,
    amount BIGINT NOT NULL,
    status TEXT NOT NULL,
    scenario TEXT NOT NULL,
    amount_refunded BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
