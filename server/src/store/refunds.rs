//! Refunds: the amount is reserved on the session with a compare-and-set
//! before the provider is called, so concurrent refunds can never exceed
//! what was paid; a refund the provider refuses releases its reservation.

use sqlx::Row;

use super::attempts::AttemptRow;
use super::events::{self, EventRow};
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
    /// The merchant's `Idempotency-Key`, if sent.
    pub idempotency_key: Option<String>,
    /// What the key was first used for (session and amount).
    pub request_hash: Option<String>,
    /// When `checkout_session.refund_requires_review` was raised (Unix ms).
    pub review_requested_at: Option<i64>,
    /// The merchant's settling of it after review (JSON), if any.
    pub resolution: Option<String>,
}

/// What reserving a refund did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundReserve {
    /// Reserved and written `pending`.
    Reserved,
    /// More than remains, or the session is not paid.
    Exceeds,
    /// The `Idempotency-Key` was used before: this refund (to replay, or a
    /// conflict when `request_hash` differs).
    Existing(Box<RefundRow>),
}

/// The column list (a macro so queries stay literals).
macro_rules! refund_columns {
    () => {
        "id, session_id, merchant_id, attempt_id, amount, status, provider_ref, created_at, idempotency_key, \
         request_hash, review_requested_at, resolution"
    };
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<RefundRow, sqlx::Error> {
    Ok(RefundRow {
        id: r.try_get("id")?,
        session_id: r.try_get("session_id")?,
        merchant_id: r.try_get("merchant_id")?,
        attempt_id: r.try_get("attempt_id")?,
        amount: r.try_get("amount")?,
        status: r.try_get("status")?,
        provider_ref: r.try_get("provider_ref")?,
        created_at: r.try_get("created_at")?,
        idempotency_key: r.try_get("idempotency_key")?,
        request_hash: r.try_get("request_hash")?,
        review_requested_at: r.try_get("review_requested_at")?,
        resolution: r.try_get("resolution")?,
    })
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

    /// The merchant's refund `refund_id` of session `session_id`, if any.
    pub async fn refund_of(
        &self,
        merchant_id: &str,
        session_id: &str,
        refund_id: &str,
    ) -> Result<Option<RefundRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            refund_columns!(),
            " FROM refunds WHERE merchant_id = $1 AND session_id = $2 AND id = $3"
        ))
        .bind(merchant_id)
        .bind(session_id)
        .bind(refund_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose().map_err(StoreError::Database)
    }

    /// The merchant's refund made with `Idempotency-Key` `key`, if any.
    pub async fn refund_by_key(&self, merchant_id: &str, key: &str) -> Result<Option<RefundRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            refund_columns!(),
            " FROM refunds WHERE merchant_id = $1 AND idempotency_key = $2"
        ))
        .bind(merchant_id)
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose().map_err(StoreError::Database)
    }

    /// Claims up to `limit` pending refunds to ask the provider about, for
    /// `lease_ms`: those due again, and those never asked about that are
    /// older than `min_age_ms` (younger ones may still be in their first call).
    pub async fn claim_pending_refunds(
        &self,
        limit: i64,
        min_age_ms: i64,
        lease_ms: i64,
    ) -> Result<Vec<RefundRow>, StoreError> {
        let now = super::now_ms();
        let sql = if self.is_postgres() {
            concat!(
                "UPDATE refunds SET next_try_at = $1 WHERE id IN (SELECT id FROM refunds WHERE status = 'pending' \
                 AND (next_try_at <= $2 OR (next_try_at IS NULL AND created_at <= $3)) ORDER BY created_at \
                 LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING ",
                refund_columns!()
            )
        } else {
            concat!(
                "UPDATE refunds SET next_try_at = $1 WHERE id IN (SELECT id FROM refunds WHERE status = 'pending' \
                 AND (next_try_at <= $2 OR (next_try_at IS NULL AND created_at <= $3)) ORDER BY created_at \
                 LIMIT $4) RETURNING ",
                refund_columns!()
            )
        };
        self.write_one(move |conn| {
            Box::pin(async move {
                let rows = sqlx::query(sql)
                    .bind(now + lease_ms)
                    .bind(now)
                    .bind(now - min_age_ms)
                    .bind(limit)
                    .fetch_all(conn)
                    .await?;
                Ok(rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?)
            })
        })
        .await
    }

    /// Asks about a pending refund again at `at_ms`.
    pub async fn retry_refund(&self, id: &str, at_ms: i64) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write_one(move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE refunds SET next_try_at = $1 WHERE id = $2 AND status = 'pending'")
                    .bind(at_ms)
                    .bind(&id)
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// What the session's succeeded refunds add up to.
    pub async fn refunded_total(&self, session_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total FROM refunds WHERE session_id = $1 AND status = 'succeeded'",
        )
        .bind(session_id)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<i64, _>("total")?)
    }

    /// Reserves `refund.amount` on the session and writes the pending refund,
    /// unless its `Idempotency-Key` was used before.
    pub async fn reserve_refund(&self, refund: &RefundRow) -> Result<RefundReserve, StoreError> {
        // The caller looked the key up already; only a concurrent first use
        // of the same key gets here and is caught by the unique index.
        match self.reserve_refund_once(refund).await {
            Ok(true) => Ok(RefundReserve::Reserved),
            Ok(false) => Ok(RefundReserve::Exceeds),
            // Two requests with one key at once: the unique index let one in.
            Err(e) => match &refund.idempotency_key {
                Some(key) => match self.refund_by_key(&refund.merchant_id, key).await? {
                    Some(existing) => Ok(RefundReserve::Existing(Box::new(existing))),
                    None => Err(e),
                },
                None => Err(e),
            },
        }
    }

    async fn reserve_refund_once(&self, refund: &RefundRow) -> Result<bool, StoreError> {
        let refund = refund.clone();
        self.write(move |tx| {
            Box::pin(async move {
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
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO refunds (id, session_id, merchant_id, attempt_id, amount, status, provider_ref, \
                     created_at, idempotency_key, request_hash, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(&refund.id)
                .bind(&refund.session_id)
                .bind(&refund.merchant_id)
                .bind(&refund.attempt_id)
                .bind(refund.amount)
                .bind(&refund.status)
                .bind(&refund.provider_ref)
                .bind(refund.created_at)
                .bind(&refund.idempotency_key)
                .bind(&refund.request_hash)
                .bind(refund.created_at)
                .execute(&mut *tx)
                .await?;
                Ok(true)
            })
        })
        .await
    }

    /// Records that the provider accepted the refund but has not finished it:
    /// it stays `pending`, its amount reserved.
    pub async fn refund_pending(
        &self,
        refund: &RefundRow,
        provider_ref: Option<&str>,
    ) -> Result<(), StoreError> {
        let (id, provider_ref) = (refund.id.clone(), provider_ref.map(str::to_owned));
        self.write_one(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE refunds SET provider_ref = $1, updated_at = $2 WHERE id = $3 AND status = 'pending'",
                )
                .bind(&provider_ref)
                .bind(super::now_ms())
                .bind(&id)
                .execute(conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Raises `checkout_session.refund_requires_review` for a pending refund
    /// whose outcome Kasir cannot learn, once (the session `snapshot` with
    /// the refund); `None` if it was raised already or the refund ended.
    pub async fn request_refund_review(
        &self,
        refund: &RefundRow,
        snapshot: &str,
    ) -> Result<Option<EventRow>, StoreError> {
        let Some(session) = self.session_by_id(&refund.session_id).await? else {
            return Err(StoreError::Corrupt(format!("refund {} has no session", refund.id)));
        };
        let mut flagged = refund.clone();
        flagged.review_requested_at = Some(super::now_ms());
        let mut payload: serde_json::Value = serde_json::from_str(snapshot)?;
        if let Some(object) = payload.as_object_mut() {
            object.insert("refund".into(), serde_json::to_value(crate::payments::refund_object(&flagged)?)?);
        }
        let current = kasir_shared::payment::SessionStatus::from_wire(&session.status)
            .unwrap_or(kasir_shared::payment::SessionStatus::Succeeded);
        let mut event = EventRow::new(&session, current, serde_json::to_string(&payload)?);
        event.event_type = "checkout_session.refund_requires_review".into();
        self.flag_once(
            "UPDATE refunds SET review_requested_at = $1 WHERE id = $2 \
             AND review_requested_at IS NULL AND status = 'pending'",
            &refund.id,
            event,
        )
        .await
    }

    /// Records the provider's final answer once, with its event
    /// (`checkout_session.refund_succeeded` or `…refund_failed`, the session
    /// `snapshot` with the refund); a failed refund releases its
    /// reservation. `resolution` records a merchant's settling of a refund
    /// under review (who, when, why). `None` if it was no longer pending.
    pub async fn finish_refund(
        &self,
        refund: &RefundRow,
        succeeded: bool,
        provider_ref: Option<&str>,
        failure_code: Option<&str>,
        resolution: Option<&str>,
        snapshot: &str,
    ) -> Result<Option<EventRow>, StoreError> {
        let status = if succeeded { "succeeded" } else { "failed" };
        let Some(session) = self.session_by_id(&refund.session_id).await? else {
            return Err(StoreError::Corrupt(format!("refund {} has no session", refund.id)));
        };
        let mut after = refund.clone();
        after.status = status.to_owned();
        if let Some(resolution) = resolution {
            after.resolution = Some(resolution.to_owned());
        }
        let mut payload: serde_json::Value = serde_json::from_str(snapshot)?;
        if let Some(object) = payload.as_object_mut() {
            object.insert("refund".into(), serde_json::to_value(crate::payments::refund_object(&after)?)?);
        }
        let current = kasir_shared::payment::SessionStatus::from_wire(&session.status)
            .unwrap_or(kasir_shared::payment::SessionStatus::Succeeded);
        let mut event = EventRow::new(&session, current, serde_json::to_string(&payload)?);
        event.event_type = format!("checkout_session.refund_{status}");
        let deliver = self.delivers_to(&event.merchant_id);
        let written = event.clone();
        let (refund, provider_ref, failure_code, resolution) = (
            refund.clone(),
            provider_ref.map(str::to_owned),
            failure_code.map(str::to_owned),
            resolution.map(str::to_owned),
        );
        let changed = self
            .write_guarded(move |tx| {
                Box::pin(async move {
                    let changed = sqlx::query(
                        "UPDATE refunds SET status = $1, provider_ref = COALESCE($2, provider_ref), \
                         failure_code = $3, updated_at = $4, next_try_at = NULL, resolution = COALESCE($6, resolution) \
                         WHERE id = $5 AND status = 'pending'",
                    )
                    .bind(status)
                    .bind(&provider_ref)
                    .bind(&failure_code)
                    .bind(super::now_ms())
                    .bind(&refund.id)
                    .bind(&resolution)
                    .execute(&mut *tx)
                    .await?;
                    if changed.rows_affected() != 1 {
                        return Ok(false);
                    }
                    if !succeeded {
                        sqlx::query(
                            "UPDATE checkout_sessions SET amount_refunded = amount_refunded - $1 WHERE id = $2",
                        )
                        .bind(refund.amount)
                        .bind(&refund.session_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    events::insert(&mut *tx, &written, deliver).await?;
                    Ok(true)
                })
            })
            .await?;
        Ok(changed.then_some(event))
    }
}
