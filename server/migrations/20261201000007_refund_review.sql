-- A refund whose outcome Kasir cannot learn (no final answer within
-- `review_after`, or reported by the provider in another amount than asked)
-- is handed to the merchant once: `checkout_session.refund_requires_review`.
-- The merchant may then settle it with what the provider confirmed
-- (`POST …/refunds/{id}/resolve`), recorded in `resolution`.
ALTER TABLE refunds ADD COLUMN review_requested_at BIGINT;
ALTER TABLE refunds ADD COLUMN resolution TEXT;
-- Likewise a late payment's automatic refund:
-- `checkout_session.late_payment_refund_requires_review`, once.
-- The merchant may settle it (`POST …/late_payments/{id}/resolve`).
ALTER TABLE late_payments ADD COLUMN review_requested_at BIGINT;
ALTER TABLE late_payments ADD COLUMN resolution TEXT;
