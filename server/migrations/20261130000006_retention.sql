-- Retention (issue 15): the purge job finds old rows by age.
CREATE INDEX checkout_sessions_by_created ON checkout_sessions (created_at);
CREATE INDEX events_by_created ON events (created_at);
CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created_at);
CREATE INDEX sandbox_payments_by_created ON sandbox_payments (created_at);
