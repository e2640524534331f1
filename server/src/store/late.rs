//! Late payments and attempts under review: money a provider reports after
//! Kasir closed the attempt, and attempts whose outcome Kasir cannot learn.
//! Both are written with their event in one transaction, once.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::events::{self, EventRow};
use super::sessions::SessionRow;
use super::{Store, StoreError, now_ms};

/// A late payment: money the provider says arrived for an attempt whose
/// session could no longer take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatePaymentRow {
    /// `lp_…`.
    pub id: String,
    /// The session.
    pub session_id: String,
    /// Owner.
    pub merchant_id: String,
    /// The attempt that was paid.
    pub attempt_id: String,
    /// The provider that took the money.
    pub provider: String,
    /// The provider's payment id.
    pub provider_ref: Option<String>,
    /// Whole rupiah.
    pub amount: i64,
    /// `refund_pending`, `refunded`, `refund_failed` or `not_refunded`.
    pub status: String,
    /// The provider's refund id, once refunded.
    pub refund_ref: Option<String>,
    /// Why it was not refunded (`refund_unsupported`, the provider's code).
    pub failure_code: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// When `checkout_session.late_payment_refund_requires_review` was
    /// raised (Unix ms); not written by [`insert_late`].
    pub review_requested_at: Option<i64>,
    /// The merchant's settling of it after review (JSON); not written by
    /// [`insert_late`].
    pub resolution: Option<String>,
}

macro_rules! late_columns {
    () => {
        "id, session_id, merchant_id, attempt_id, provider, provider_ref, amount, status, refund_ref, \
         failure_code, created_at, updated_at"
    };
}

/// What is read back: the written columns and the review mark.
macro_rules! late_read_columns {
    () => {
        concat!(late_columns!(), ", review_requested_at, resolution")
    };
}

fn from_row(row: &AnyRow) -> Result<LatePaymentRow, sqlx::Error> {
    Ok(LatePaymentRow {
        id: row.try_get("id")?,
        session_id: row.try_get("session_id")?,
        merchant_id: row.try_get("merchant_id")?,
        attempt_id: row.try_get("attempt_id")?,
        provider: row.try_get("provider")?,
        provider_ref: row.try_get("provider_ref")?,
        amount: row.try_get("amount")?,
        status: row.try_get("status")?,
        refund_ref: row.try_get("refund_ref")?,
        failure_code: row.try_get("failure_code")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        review_requested_at: row.try_get("review_requested_at")?,
        resolution: row.try_get("resolution")?,
    })
}

/// The event payload: the session snapshot with the late payment in it.
pub fn late_payload(snapshot: &str, late: &LatePaymentRow) -> Result<String, StoreError> {
    let mut value: serde_json::Value = serde_json::from_str(snapshot)?;
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "late_payment".into(),
            serde_json::to_value(crate::payments::late_payment_object(late)?)?,
        );
    }
    Ok(serde_json::to_string(&value)?)
}

/// Writes the late payment and its `checkout_session.late_payment` event,
/// unless the attempt already has one (a duplicate report): then `None`.
pub(super) async fn insert_late(
    tx: &mut super::Conn<'_>,
    late: &LatePaymentRow,
    session: &SessionRow,
    snapshot: &str,
    deliver: bool,
) -> Result<Option<EventRow>, StoreError> {
    let inserted = sqlx::query(concat!(
        "INSERT INTO late_payments (",
        late_columns!(),
        ", next_try_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (attempt_id) DO NOTHING"
    ))
    .bind(&late.id)
    .bind(&late.session_id)
    .bind(&late.merchant_id)
    .bind(&late.attempt_id)
    .bind(&late.provider)
    .bind(&late.provider_ref)
    .bind(late.amount)
    .bind(&late.status)
    .bind(&late.refund_ref)
    .bind(&late.failure_code)
    .bind(late.created_at)
    .bind(late.updated_at)
    .bind((late.status == "refund_pending").then_some(late.created_at))
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() != 1 {
        return Ok(None);
    }
    let mut event = EventRow::new(
        session,
        kasir_shared::payment::SessionStatus::Succeeded,
        late_payload(snapshot, late)?,
    );
    event.event_type = "checkout_session.late_payment".into();
    events::insert(&mut *tx, &event, deliver).await?;
    Ok(Some(event))
}

impl Store {
    /// The session's late payments, oldest first.
    pub async fn late_payments(&self, session_id: &str) -> Result<Vec<LatePaymentRow>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            late_read_columns!(),
            " FROM late_payments WHERE session_id = $1 ORDER BY created_at, id"
        ))
        .bind(session_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?)
    }

    /// The merchant's late payment `id` of session `session_id`, if any.
    pub async fn late_payment_of(
        &self,
        merchant_id: &str,
        session_id: &str,
        id: &str,
    ) -> Result<Option<LatePaymentRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            late_read_columns!(),
            " FROM late_payments WHERE merchant_id = $1 AND session_id = $2 AND id = $3"
        ))
        .bind(merchant_id)
        .bind(session_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Whether a late payment of `merchant_id` is refunded automatically.
    pub fn refunds_late_payments(&self, merchant_id: &str) -> bool {
        !self.notify_only.contains(merchant_id)
    }

    /// Claims up to `limit` late payments due for an automatic refund for `lease_ms`.
    pub async fn claim_late_refunds(
        &self,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<LatePaymentRow>, StoreError> {
        let now = now_ms();
        let sql = if self.is_postgres() {
            concat!(
                "UPDATE late_payments SET next_try_at = $1 WHERE id IN (SELECT id FROM late_payments \
                 WHERE status = 'refund_pending' AND next_try_at <= $2 ORDER BY next_try_at LIMIT $3 \
                 FOR UPDATE SKIP LOCKED) RETURNING ",
                late_read_columns!()
            )
        } else {
            concat!(
                "UPDATE late_payments SET next_try_at = $1 WHERE id IN (SELECT id FROM late_payments \
                 WHERE status = 'refund_pending' AND next_try_at <= $2 ORDER BY next_try_at LIMIT $3) \
                 RETURNING ",
                late_read_columns!()
            )
        };
        self.write_one(move |conn| {
            Box::pin(async move {
                let rows =
                    sqlx::query(sql).bind(now + lease_ms).bind(now).bind(limit).fetch_all(conn).await?;
                Ok(rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?)
            })
        })
        .await
    }

    /// Records the refund's outcome (`status` final) and its event, once;
    /// `retry_at` instead leaves it pending until then.
    pub async fn finish_late_refund(
        &self,
        late: &LatePaymentRow,
        status: &str,
        refund_ref: Option<&str>,
        failure_code: Option<&str>,
        resolution: Option<&str>,
        snapshot: &str,
    ) -> Result<Option<EventRow>, StoreError> {
        let now = now_ms();
        let Some(session) = self.session_by_id(&late.session_id).await? else {
            return Err(StoreError::Corrupt(format!("late payment {} has no session", late.id)));
        };
        let mut after = late.clone();
        after.status = status.to_owned();
        after.refund_ref = refund_ref.map(str::to_owned);
        after.failure_code = failure_code.map(str::to_owned);
        after.updated_at = now;
        if let Some(resolution) = resolution {
            after.resolution = Some(resolution.to_owned());
        }
        let mut event = EventRow::new(
            &session,
            kasir_shared::payment::SessionStatus::Succeeded,
            late_payload(snapshot, &after)?,
        );
        event.event_type = if status == "refunded" {
            "checkout_session.late_payment_refunded".into()
        } else {
            "checkout_session.late_payment_refund_failed".into()
        };
        let deliver = self.delivers_to(&event.merchant_id);
        let written = event.clone();
        let changed = self
            .write_guarded(move |tx| {
                Box::pin(async move {
                    let changed = sqlx::query(
                        "UPDATE late_payments SET status = $1, refund_ref = $2, failure_code = $3, updated_at = $4, \
                         next_try_at = NULL, resolution = $6 WHERE id = $5 AND status = 'refund_pending'",
                    )
                    .bind(&after.status)
                    .bind(&after.refund_ref)
                    .bind(&after.failure_code)
                    .bind(now)
                    .bind(&after.id)
                    .bind(&after.resolution)
                    .execute(&mut *tx)
                    .await?;
                    if changed.rows_affected() != 1 {
                        return Ok(false);
                    }
                    events::insert(&mut *tx, &written, deliver).await?;
                    Ok(true)
                })
            })
            .await?;
        Ok(changed.then_some(event))
    }

    /// Raises `checkout_session.late_payment_refund_requires_review` for a
    /// late payment whose refund's outcome Kasir cannot learn, once; `None`
    /// if it was raised already or the refund ended.
    pub async fn request_late_refund_review(
        &self,
        late: &LatePaymentRow,
        snapshot: &str,
    ) -> Result<Option<EventRow>, StoreError> {
        let Some(session) = self.session_by_id(&late.session_id).await? else {
            return Err(StoreError::Corrupt(format!("late payment {} has no session", late.id)));
        };
        let mut event = EventRow::new(
            &session,
            kasir_shared::payment::SessionStatus::Succeeded,
            late_payload(snapshot, late)?,
        );
        event.event_type = "checkout_session.late_payment_refund_requires_review".into();
        self.flag_once(
            "UPDATE late_payments SET review_requested_at = $1 WHERE id = $2 \
             AND review_requested_at IS NULL AND status = 'refund_pending'",
            &late.id,
            event,
        )
        .await
    }

    /// Whether the late payment's refund was sent before; if not, records
    /// that it is being sent now (so that it is only ever asked about after).
    pub async fn late_refund_sent_before(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write_one(move |conn| {
            Box::pin(async move {
                let sent = sqlx::query(
                    "UPDATE late_payments SET refund_sent_at = $1 WHERE id = $2 AND refund_sent_at IS NULL",
                )
                .bind(now_ms())
                .bind(&id)
                .execute(conn)
                .await?;
                Ok(sent.rows_affected() == 0)
            })
        })
        .await
    }

    /// Puts a late refund back for another try at `at_ms`.
    pub async fn retry_late_refund(&self, id: &str, at_ms: i64) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write_one(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE late_payments SET next_try_at = $1 WHERE id = $2 AND status = 'refund_pending'",
                )
                .bind(at_ms)
                .bind(&id)
                .execute(conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Raises `checkout_session.requires_review` for an attempt whose outcome
    /// Kasir cannot learn, once; `None` if it was raised already or the
    /// attempt settled meanwhile.
    pub async fn request_review(
        &self,
        attempt_id: &str,
        session: &SessionRow,
        snapshot: &str,
    ) -> Result<Option<EventRow>, StoreError> {
        let mut event =
            EventRow::new(session, kasir_shared::payment::SessionStatus::Processing, snapshot.into());
        event.event_type = "checkout_session.requires_review".into();
        self.flag_once(
            "UPDATE attempts SET review_requested_at = $1 WHERE id = $2 \
             AND review_requested_at IS NULL AND status IN ('unknown', 'processing')",
            attempt_id,
            event,
        )
        .await
    }

    /// Runs `update` (`$1` now, `$2` the row's `id`: a guarded mark such as
    /// `… SET review_requested_at = $1 WHERE id = $2 AND … IS NULL`) and, if
    /// it changed the row, writes `event` in the same transaction: the event
    /// is raised once, however often or concurrently this is called.
    pub(super) async fn flag_once(
        &self,
        update: &'static str,
        id: &str,
        event: EventRow,
    ) -> Result<Option<EventRow>, StoreError> {
        let deliver = self.delivers_to(&event.merchant_id);
        let (written, id) = (event.clone(), id.to_owned());
        let marked = self
            .write_guarded(move |tx| {
                Box::pin(async move {
                    let marked = sqlx::query(update).bind(now_ms()).bind(&id).execute(&mut *tx).await?;
                    if marked.rows_affected() != 1 {
                        return Ok(false);
                    }
                    events::insert(&mut *tx, &written, deliver).await?;
                    Ok(true)
                })
            })
            .await?;
        Ok(marked.then_some(event))
    }
}
