-- A late payment's automatic refund is sent once: after that, the
-- reconciler only asks the provider about it (a provider whose refund is not
-- documented as idempotent could otherwise refund it twice).
ALTER TABLE late_payments ADD COLUMN refund_sent_at BIGINT;
