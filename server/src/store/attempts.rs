//! Payment attempts: written before the provider is called, settled through
//! the state machine, reconciled when their outcome stays unknown.

use kasir_shared::payment::{PaymentStatus, SessionStatus};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::events::{self, EventRow};
use super::sessions::SessionRow;
use super::{Store, StoreError, now_ms};

/// An attempt as stored. No PAN, CVV or expiry: brand, BIN and last four.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    /// `pa_…`.
    pub id: String,
    /// The session.
    pub session_id: String,
    /// Owner.
    pub merchant_id: String,
    /// Provider name.
    pub provider: String,
    /// Method name.
    pub method: String,
    /// Attempt status (wire name).
    pub status: String,
    /// Whole rupiah.
    pub amount: i64,
    /// The provider's id, once known.
    pub provider_ref: Option<String>,
    /// JSON of the widget-facing next action.
    pub next_action: Option<String>,
    /// Failure reason code.
    pub failure_code: Option<String>,
    /// Card brand.
    pub card_brand: Option<String>,
    /// First six digits.
    pub card_bin: Option<String>,
    /// Last four digits.
    pub card_last4: Option<String>,
    /// Method details that are not secret (bank, wallet), JSON.
    pub detail: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// When the reconciler should ask the provider (Unix ms), if ever.
    pub reconcile_after: Option<i64>,
    /// When `checkout_session.requires_review` was raised (Unix ms).
    pub review_requested_at: Option<i64>,
    /// How the merchant settled it (JSON: outcome, by, at, note).
    pub resolution: Option<String>,
}

macro_rules! attempt_columns {
    () => {
        "id, session_id, merchant_id, provider, method, status, amount, provider_ref, next_action, \
         failure_code, card_brand, card_bin, card_last4, detail, created_at, updated_at, reconcile_after, \
         review_requested_at, resolution"
    };
}

fn from_row(row: &AnyRow) -> Result<AttemptRow, sqlx::Error> {
    Ok(AttemptRow {
        id: row.try_get("id")?,
        session_id: row.try_get("session_id")?,
        merchant_id: row.try_get("merchant_id")?,
        provider: row.try_get("provider")?,
        method: row.try_get("method")?,
        status: row.try_get("status")?,
        amount: row.try_get("amount")?,
        provider_ref: row.try_get("provider_ref")?,
        next_action: row.try_get("next_action")?,
        failure_code: row.try_get("failure_code")?,
        card_brand: row.try_get("card_brand")?,
        card_bin: row.try_get("card_bin")?,
        card_last4: row.try_get("card_last4")?,
        detail: row.try_get("detail")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        reconcile_after: row.try_get("reconcile_after")?,
        review_requested_at: row.try_get("review_requested_at")?,
        resolution: row.try_get("resolution")?,
    })
}

/// What starting an attempt did.
#[derive(Debug, Clone)]
pub enum AttemptStart {
    /// The attempt is written and the session is `processing`; the event's id.
    Started(String),
    /// The session changed (paid, expired, another attempt) since it was read.
    SessionChanged,
}

impl Store {
    /// Writes a new attempt and moves its session from the status it was read
    /// in to `processing`, in one transaction, before any provider call. The
    /// compare-and-set on the session's status (and its expiry) means two
    /// racing attempts cannot both start.
    pub async fn start_attempt(
        &self,
        attempt: &AttemptRow,
        session: &SessionRow,
        snapshot: super::Snapshot<'_>,
    ) -> Result<AttemptStart, StoreError> {
        let now = now_ms();
        let mut after = session.clone();
        after.status = SessionStatus::Processing.as_str().to_owned();
        let event = EventRow::new(&after, SessionStatus::Processing, snapshot(&after, Some(attempt))?);
        let deliver = self.delivers_to(&event.merchant_id);
        let (attempt, session_id, read_status) =
            (attempt.clone(), session.id.clone(), session.status.clone());
        self.write_guarded(move |tx| {
            Box::pin(async move {
                let moved = sqlx::query(
                    "UPDATE checkout_sessions SET status = $1 WHERE id = $2 AND status = $3 AND expires_at > $4",
                )
                .bind(SessionStatus::Processing.as_str())
                .bind(&session_id)
                .bind(&read_status)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if moved.rows_affected() != 1 {
                    return Ok(AttemptStart::SessionChanged);
                }
                sqlx::query(concat!(
                    "INSERT INTO attempts (",
                    attempt_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
                ))
                .bind(&attempt.id)
                .bind(&attempt.session_id)
                .bind(&attempt.merchant_id)
                .bind(&attempt.provider)
                .bind(&attempt.method)
                .bind(&attempt.status)
                .bind(attempt.amount)
                .bind(&attempt.provider_ref)
                .bind(&attempt.next_action)
                .bind(&attempt.failure_code)
                .bind(&attempt.card_brand)
                .bind(&attempt.card_bin)
                .bind(&attempt.card_last4)
                .bind(&attempt.detail)
                .bind(attempt.created_at)
                .bind(attempt.updated_at)
                .bind(attempt.reconcile_after)
                .bind(attempt.review_requested_at)
                .bind(&attempt.resolution)
                .execute(&mut *tx)
                .await?;
                events::insert(&mut *tx, &event, deliver).await?;
                Ok(AttemptStart::Started(event.id))
            })
        })
        .await
    }

    /// One attempt by id.
    pub async fn attempt(&self, id: &str) -> Result<Option<AttemptRow>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", attempt_columns!(), " FROM attempts WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// The attempt a provider knows as `provider_ref`.
    pub async fn attempt_by_provider_ref(
        &self,
        provider: &str,
        provider_ref: &str,
    ) -> Result<Option<AttemptRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM attempts WHERE provider = $1 AND provider_ref = $2"
        ))
        .bind(provider)
        .bind(provider_ref)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// The session's newest attempt.
    pub async fn latest_attempt(&self, session_id: &str) -> Result<Option<AttemptRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            attempt_columns!(),
            " FROM attempts WHERE session_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .bind(session_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// How many attempts the session has had.
    pub async fn attempt_count(&self, session_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM attempts WHERE session_id = $1")
            .bind(session_id)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Stores the provider's 3DS HTML for the one-time frame URL.
    pub async fn put_three_ds_html(&self, attempt_id: &str, html: &str) -> Result<(), StoreError> {
        let (attempt_id, html) = (attempt_id.to_owned(), html.to_owned());
        self.write_one(move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE attempts SET three_ds_html = $1 WHERE id = $2")
                    .bind(&html)
                    .bind(&attempt_id)
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// Takes the 3DS HTML: the first caller gets it, every later one `None`.
    pub async fn take_three_ds_html(&self, attempt_id: &str) -> Result<Option<String>, StoreError> {
        // A read first: an unknown or already served id (anyone may ask)
        // never reaches the single writer.
        let waiting =
            sqlx::query("SELECT 1 AS one FROM attempts WHERE id = $1 AND three_ds_html IS NOT NULL")
                .bind(attempt_id)
                .fetch_optional(self.pool())
                .await?;
        if waiting.is_none() {
            return Ok(None);
        }
        // The first statement takes the write lock (SQLite) or the row lock
        // (PostgreSQL), so of two racing callers only one finds the HTML.
        let attempt_id = attempt_id.to_owned();
        self.write_guarded(move |tx| {
            Box::pin(async move {
                let taken = sqlx::query(
                    "UPDATE attempts SET three_ds_html = three_ds_html WHERE id = $1 AND three_ds_html IS NOT NULL",
                )
                .bind(&attempt_id)
                .execute(&mut *tx)
                .await?;
                if taken.rows_affected() != 1 {
                    return Ok(None);
                }
                let html: Option<String> = sqlx::query("SELECT three_ds_html FROM attempts WHERE id = $1")
                    .bind(&attempt_id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("three_ds_html")?;
                sqlx::query("UPDATE attempts SET three_ds_html = NULL WHERE id = $1")
                    .bind(&attempt_id)
                    .execute(&mut *tx)
                    .await?;
                Ok(html)
            })
        })
        .await
    }

    /// Claims up to `limit` attempts whose outcome is overdue (`processing`
    /// or `unknown` past `reconcile_after`, or `requires_action` past it) for
    /// `lease_ms`: another instance will not claim them meanwhile.
    pub async fn claim_attempts_to_reconcile(
        &self,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<AttemptRow>, StoreError> {
        let now = now_ms();
        let sql = if self.is_postgres() {
            concat!(
                "UPDATE attempts SET claimed_until = $1 WHERE id IN (SELECT id FROM attempts \
                 WHERE status IN ('processing', 'unknown', 'requires_action') AND reconcile_after <= $2 \
                 AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY reconcile_after LIMIT $4 \
                 FOR UPDATE SKIP LOCKED) RETURNING ",
                attempt_columns!()
            )
        } else {
            concat!(
                "UPDATE attempts SET claimed_until = $1 WHERE id IN (SELECT id FROM attempts \
                 WHERE status IN ('processing', 'unknown', 'requires_action') AND reconcile_after <= $2 \
                 AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY reconcile_after LIMIT $4) \
                 RETURNING ",
                attempt_columns!()
            )
        };
        self.write_one(move |conn| {
            Box::pin(async move {
                let rows = sqlx::query(sql)
                    .bind(now + lease_ms)
                    .bind(now)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(conn)
                    .await?;
                Ok(rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?)
            })
        })
        .await
    }

    /// Postpones the next reconciliation of an attempt.
    pub async fn postpone_reconcile(&self, attempt_id: &str, at_ms: i64) -> Result<(), StoreError> {
        let attempt_id = attempt_id.to_owned();
        self.write_one(move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE attempts SET reconcile_after = $1, claimed_until = NULL WHERE id = $2")
                    .bind(at_ms)
                    .bind(&attempt_id)
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }
}

/// Writes the attempt's new state with a compare-and-set on its old status.
pub(super) async fn update_attempt<'c, E>(
    executor: E,
    a: &AttemptRow,
    from: PaymentStatus,
) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    update_attempt_if(executor, a, from, None).await
}

/// As `update_attempt`, and only while its session is in `session_status`
/// (one statement that checks both, so that a job can start with it).
pub(super) async fn update_attempt_if<'c, E>(
    executor: E,
    a: &AttemptRow,
    from: PaymentStatus,
    session_status: Option<&str>,
) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let sql = if session_status.is_some() {
        "UPDATE attempts SET status = $1, provider_ref = $2, next_action = $3, failure_code = $4, \
         updated_at = $5, reconcile_after = $6, claimed_until = NULL, resolution = $7 \
         WHERE id = $8 AND status = $9 \
         AND EXISTS (SELECT 1 FROM checkout_sessions WHERE id = $10 AND status = $11)"
    } else {
        "UPDATE attempts SET status = $1, provider_ref = $2, next_action = $3, failure_code = $4, \
         updated_at = $5, reconcile_after = $6, claimed_until = NULL, resolution = $7 \
         WHERE id = $8 AND status = $9"
    };
    let query = sqlx::query(sql)
        .bind(&a.status)
        .bind(&a.provider_ref)
        .bind(&a.next_action)
        .bind(&a.failure_code)
        .bind(a.updated_at)
        .bind(a.reconcile_after)
        .bind(&a.resolution)
        .bind(&a.id)
        .bind(from.as_str());
    let query = match session_status {
        Some(status) => query.bind(&a.session_id).bind(status),
        None => query,
    };
    let done = query.execute(executor).await?;
    Ok(done.rows_affected() == 1)
}
