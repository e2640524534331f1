//! Events: one per state change, written in the transaction that made it.

use sqlx::Row;
use sqlx::any::AnyRow;

use kasir_shared::payment::SessionStatus;

use super::sessions::SessionRow;
use super::{Store, StoreError, now_ms};
use crate::ids::new_id;

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// `evt_…`.
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// E.g. `checkout_session.cancelled`.
    pub event_type: String,
    /// The session it concerns.
    pub session_id: String,
    /// JSON snapshot of the session after the change.
    pub payload: String,
    /// Unix ms.
    pub created_at: i64,
    /// `pending`, `delivered`, `failed` (retries exhausted) or `skipped` (no webhook URL).
    pub delivery_state: String,
    /// Delivery attempts made.
    pub delivery_attempts: i64,
    /// When the next delivery attempt is due (Unix ms).
    pub next_delivery_at: Option<i64>,
}

impl EventRow {
    /// The event for `session` having moved to `status`, pending delivery.
    pub fn new(session: &SessionRow, status: SessionStatus, payload: String) -> EventRow {
        let now = now_ms();
        EventRow {
            id: new_id("evt"),
            merchant_id: session.merchant_id.clone(),
            event_type: event_type(status).to_owned(),
            session_id: session.id.clone(),
            payload,
            created_at: now,
            delivery_state: "pending".into(),
            delivery_attempts: 0,
            next_delivery_at: Some(now),
        }
    }
}

/// The event type for a session entering `status`. Falling back to `open`
/// means the attempt failed and the shopper may try again.
pub fn event_type(status: SessionStatus) -> &'static str {
    match status {
        SessionStatus::Open => "checkout_session.payment_failed",
        SessionStatus::Processing => "checkout_session.processing",
        SessionStatus::RequiresAction => "checkout_session.requires_action",
        SessionStatus::Succeeded => "checkout_session.succeeded",
        SessionStatus::Expired => "checkout_session.expired",
        SessionStatus::Cancelled => "checkout_session.cancelled",
        SessionStatus::Refunded => "checkout_session.refunded",
        SessionStatus::PartiallyRefunded => "checkout_session.partially_refunded",
    }
}

/// The column list (a macro so queries stay literals).
macro_rules! event_columns {
    () => {
        "id, merchant_id, event_type, session_id, payload, created_at, delivery_state, delivery_attempts, \
         next_delivery_at"
    };
}

pub(super) fn from_row(row: &AnyRow) -> Result<EventRow, sqlx::Error> {
    Ok(EventRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        event_type: row.try_get("event_type")?,
        session_id: row.try_get("session_id")?,
        payload: row.try_get("payload")?,
        created_at: row.try_get("created_at")?,
        delivery_state: row.try_get("delivery_state")?,
        delivery_attempts: row.try_get("delivery_attempts")?,
        next_delivery_at: row.try_get("next_delivery_at")?,
    })
}

/// Writes the event; one for a merchant with no webhook endpoint is written
/// `skipped` (not `deliver`), as the delivery worker would have left it.
pub(super) async fn insert<'c, E>(executor: E, e: &EventRow, deliver: bool) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let (state, next) =
        if deliver { (e.delivery_state.as_str(), e.next_delivery_at) } else { ("skipped", None) };
    sqlx::query(concat!(
        "INSERT INTO events (",
        event_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&e.id)
    .bind(&e.merchant_id)
    .bind(&e.event_type)
    .bind(&e.session_id)
    .bind(&e.payload)
    .bind(e.created_at)
    .bind(state)
    .bind(e.delivery_attempts)
    .bind(next)
    .execute(executor)
    .await?;
    Ok(())
}

impl Store {
    /// The merchant's event with this id, if any.
    pub async fn event(&self, merchant_id: &str, id: &str) -> Result<Option<EventRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE merchant_id = $1 AND id = $2"
        ))
        .bind(merchant_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Newest first; `None` if the cursor is not the merchant's event.
    pub async fn events(
        &self,
        merchant_id: &str,
        limit: u32,
        starting_after: Option<&str>,
    ) -> Result<Option<(Vec<EventRow>, bool)>, StoreError> {
        let fetch = i64::from(limit) + 1;
        let rows = match starting_after {
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM events WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
                ))
                .bind(merchant_id)
                .bind(fetch)
                .fetch_all(self.pool())
                .await?
            }
            Some(cursor) => {
                let Some(after) = self.event(merchant_id, cursor).await? else { return Ok(None) };
                sqlx::query(concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM events WHERE merchant_id = $1 \
                     AND (created_at < $2 OR (created_at = $3 AND id < $4)) \
                     ORDER BY created_at DESC, id DESC LIMIT $5"
                ))
                .bind(merchant_id)
                .bind(after.created_at)
                .bind(after.created_at)
                .bind(&after.id)
                .bind(fetch)
                .fetch_all(self.pool())
                .await?
            }
        };
        let mut events = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        let has_more = events.len() > limit as usize;
        events.truncate(limit as usize);
        Ok(Some((events, has_more)))
    }
}
