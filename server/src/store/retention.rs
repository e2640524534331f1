//! Retention (issue 15): records past their keeping time are deleted in
//! small batches, so the database does not grow without end. A session is
//! deleted only once nothing about its money is open: final status, no
//! attempt `unknown`/`processing`/`requires_action`, no refund `pending`,
//! no late payment waiting for its refund. Its attempts, refunds, late
//! payments and events go with it; events, their delivery records, the
//! sandbox's ledger and idempotency records go by age.

use super::{Store, StoreError};

/// What one purge round deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Sessions (with their attempts, refunds and late payments).
    pub sessions: u64,
    /// Events (with their delivery records).
    pub events: u64,
    /// Idempotency records.
    pub idempotency_keys: u64,
    /// Sandbox ledger rows.
    pub sandbox_payments: u64,
}

impl Purged {
    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.sessions + self.events + self.idempotency_keys + self.sandbox_payments
    }
}

/// Sessions older than the cut-off with nothing open about their money.
macro_rules! purgeable_sessions {
    () => {
        "SELECT s.id FROM checkout_sessions s WHERE s.created_at < $1 \
         AND s.status IN ('succeeded', 'refunded', 'partially_refunded', 'expired', 'cancelled') \
         AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.session_id = s.id \
             AND a.status IN ('unknown', 'processing', 'requires_action')) \
         AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.session_id = s.id AND r.status = 'pending') \
         AND NOT EXISTS (SELECT 1 FROM late_payments l WHERE l.session_id = s.id AND l.status = 'refund_pending') \
         ORDER BY s.created_at LIMIT $2"
    };
}

impl Store {
    /// Deletes up to `batch` of each kind: sessions and events created
    /// before `records_before_ms`, idempotency records before
    /// `idempotency_before_ms`.
    pub async fn purge(
        &self,
        records_before_ms: i64,
        idempotency_before_ms: i64,
        batch: i64,
    ) -> Result<Purged, StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                let mut purged = Purged::default();
                let ids: Vec<String> = sqlx::query_scalar(purgeable_sessions!())
                    .bind(records_before_ms)
                    .bind(batch)
                    .fetch_all(&mut *tx)
                    .await?;
                for id in &ids {
                    for sql in [
                        "DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM events WHERE session_id = $1)",
                        "DELETE FROM events WHERE session_id = $1",
                        "DELETE FROM late_payments WHERE session_id = $1",
                        "DELETE FROM refunds WHERE session_id = $1",
                        "DELETE FROM attempts WHERE session_id = $1",
                        "DELETE FROM checkout_sessions WHERE id = $1",
                    ] {
                        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
                    }
                }
                purged.sessions = ids.len() as u64;
                let events: Vec<String> = sqlx::query_scalar(
                    "SELECT id FROM events WHERE created_at < $1 AND delivery_state IN ('delivered', 'failed', 'skipped') \
                     ORDER BY created_at LIMIT $2",
                )
                .bind(records_before_ms)
                .bind(batch)
                .fetch_all(&mut *tx)
                .await?;
                for id in &events {
                    sqlx::query("DELETE FROM webhook_deliveries WHERE event_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM events WHERE id = $1").bind(id).execute(&mut *tx).await?;
                }
                purged.events = events.len() as u64;
                purged.idempotency_keys = sqlx::query(
                    "DELETE FROM idempotency_keys WHERE (merchant_id, idempotency_key) IN \
                     (SELECT merchant_id, idempotency_key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)",
                )
                .bind(idempotency_before_ms)
                .bind(batch)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                purged.sandbox_payments = sqlx::query(
                    "DELETE FROM sandbox_payments WHERE id IN \
                     (SELECT id FROM sandbox_payments WHERE created_at < $1 LIMIT $2)",
                )
                .bind(records_before_ms)
                .bind(batch)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                Ok(purged)
            })
        })
        .await
    }
}
