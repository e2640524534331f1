//! Events: one per state change, written in the transaction that made it.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError};

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
}

macro_rules! event_columns {
    () => {
        "id, merchant_id, event_type, session_id, payload, created_at"
    };
}

fn from_row(row: &AnyRow) -> Result<EventRow, sqlx::Error> {
    Ok(EventRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        event_type: row.try_get("event_type")?,
        session_id: row.try_get("session_id")?,
        payload: row.try_get("payload")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) async fn insert<'c, E>(executor: E, e: &EventRow) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(concat!("INSERT INTO events (", event_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6)"))
        .bind(&e.id)
        .bind(&e.merchant_id)
        .bind(&e.event_type)
        .bind(&e.session_id)
        .bind(&e.payload)
        .bind(e.created_at)
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
