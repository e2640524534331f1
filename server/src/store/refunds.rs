//! Refunds: the amount is reserved on the session with a compare-and-set
//! before the provider is called, so concurrent refunds can never exceed
//! what was paid; a refund the provider refuses releases its reservation.

use sqlx::Row;

use super::attempts::AttemptRow;
use super::{Store, StoreError};

/// A refund as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRow {
    /// `re_…`.
    pub id: String,
    /// The session.
    pub session_id: String,
    /// Owner.
    pub merchant_id: String,
    /// The succeeded attempt refunded.
    pub attempt_id: String,
    /// Whole rupiah.
    pub amount: i64,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// The provider's refund id.
    pub provider_ref: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

impl Store {
    /// The session's succeeded attempt, if any (there is at most one).
    pub async fn succeeded_attempt(&self, session_id: &str) -> Result<Option<AttemptRow>, StoreError> {
        let row = sqlx::query("SELECT id FROM attempts WHERE session_id = $1 AND status = 'succeeded'")
            .bind(session_id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => self.attempt(&r.try_get::<String, _>("id")?).await,
            None => Ok(None),
        }
    }

    /// Reserves `refund.amount` on the session and writes the pending refund;
    /// `false` if that would exceed the amount paid or the session is not paid.
    pub async fn reserve_refund(&self, refund: &RefundRow) -> Result<bool, StoreError> {
        let mut tx = self.writer().begin().await?;
        let reserved = sqlx::query(
            "UPDATE checkout_sessions SET amount_refunded = amount_refunded + $1 WHERE id = $2 \
             AND amount_refunded + $3 <= amount AND status IN ('succeeded', 'partially_refunded')",
        )
        .bind(refund.amount)
        .bind(&refund.session_id)
        .bind(refund.amount)
        .execute(&mut *tx)
        .await?;
        if reserved.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO refunds (id, session_id, merchant_id, attempt_id, amount, status, provider_ref, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&refund.id)
        .bind(&refund.session_id)
        .bind(&refund.merchant_id)
        .bind(&refund.attempt_id)
        .bind(refund.amount)
        .bind(&refund.status)
        .bind(&refund.provider_ref)
        .bind(refund.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records the provider's answer; a failed refund releases its reservation.
    pub async fn finish_refund(
        &self,
        refund: &RefundRow,
        succeeded: bool,
        provider_ref: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        let status = if succeeded { "succeeded" } else { "failed" };
        let changed = sqlx::query(
            "UPDATE refunds SET status = $1, provider_ref = $2 WHERE id = $3 AND status = 'pending'",
        )
        .bind(status)
        .bind(provider_ref)
        .bind(&refund.id)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 1 && !succeeded {
            sqlx::query("UPDATE checkout_sessions SET amount_refunded = amount_refunded - $1 WHERE id = $2")
                .bind(refund.amount)
                .bind(&refund.session_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
