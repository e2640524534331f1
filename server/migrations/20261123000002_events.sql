-- Every state change writes one event here in the same transaction (the
-- outbox); the delivery worker that POSTs them to merchants reads this table.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    session_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX events_by_merchant ON events (merchant_id, created_at, id);
