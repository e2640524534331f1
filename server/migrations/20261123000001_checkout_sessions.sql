-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Times are Unix
-- milliseconds in BIGINT; JSON is TEXT; ids are prefixed random strings.
CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reference TEXT NOT NULL,
    description TEXT,
    payment_methods TEXT NOT NULL,
    customer TEXT NOT NULL,
    return_url TEXT,
    locale TEXT NOT NULL,
    metadata TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX checkout_sessions_by_merchant ON checkout_sessions (merchant_id, created_at, id);

CREATE TABLE idempotency_keys (
    merchant_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status BIGINT NOT NULL,
    response_body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, idempotency_key)
);
