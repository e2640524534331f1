-- A refund whose outcome Kasir cannot learn (still pending after
-- `review_after`, or reported by the provider in another amount than asked)
-- is handed to the merchant once: `checkout_session.refund_requires_review`.
ALTER TABLE refunds ADD COLUMN review_requested_at BIGINT;
