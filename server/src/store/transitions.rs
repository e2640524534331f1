//! Session state changes: checked by the `kasir-shared` state machine,
//! written with a compare-and-set on the old status, and recorded as an
//! event in the same transaction.

use kasir_shared::payment::{SessionStatus, StatusSource, Transition, TransitionRejection};

use super::events::{self, EventRow};
use super::sessions::SessionRow;
use super::{Store, StoreError, now_ms};
use crate::ids::new_id;

/// What a requested session transition did.
#[derive(Debug, Clone)]
pub enum SessionTransition {
    /// Changed; here is the session after it and the event written.
    Changed(SessionRow, EventRow),
    /// Already in that status: nothing written.
    Unchanged(SessionRow),
    /// The state machine refused; nothing written.
    Refused(SessionRow, TransitionRejection),
}

/// Builds the event's JSON snapshot of the changed session.
pub type Snapshot<'a> = &'a (dyn Fn(&SessionRow) -> Result<String, StoreError> + Sync);

/// How often a lost compare-and-set race is retried before giving up.
const ATTEMPTS: usize = 3;

impl Store {
    /// Moves the merchant's session `id` to `to`; `None` if there is no such session.
    ///
    /// The read happens outside the transaction and the transaction starts
    /// with the compare-and-set write: on SQLite a transaction that reads
    /// first cannot upgrade to a writer after another commit, and on
    /// PostgreSQL the `WHERE status = old` makes two racing instances agree.
    /// A lost race is retried, and then usually finds the work already done.
    pub async fn transition_session(
        &self,
        merchant_id: &str,
        id: &str,
        to: SessionStatus,
        source: StatusSource,
        snapshot: Snapshot<'_>,
    ) -> Result<Option<SessionTransition>, StoreError> {
        for _ in 0..ATTEMPTS {
            let Some(mut session) = self.session(merchant_id, id).await? else { return Ok(None) };
            let from = SessionStatus::from_wire(&session.status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {:?} of {id}", session.status)))?;
            let next = match from.transition(to, source) {
                Ok(Transition::Changed(next)) => next,
                Ok(Transition::Unchanged) => return Ok(Some(SessionTransition::Unchanged(session))),
                Err(refused) => return Ok(Some(SessionTransition::Refused(session, refused.reason))),
            };
            let mut tx = self.pool().begin().await?;
            let updated =
                sqlx::query("UPDATE checkout_sessions SET status = $1 WHERE id = $2 AND status = $3")
                    .bind(next.as_str())
                    .bind(id)
                    .bind(from.as_str())
                    .execute(&mut *tx)
                    .await?;
            if updated.rows_affected() != 1 {
                tx.rollback().await?;
                continue;
            }
            session.status = next.as_str().to_owned();
            let event = EventRow {
                id: new_id("evt"),
                merchant_id: merchant_id.to_owned(),
                event_type: format!("checkout_session.{}", next.as_str()),
                session_id: id.to_owned(),
                payload: snapshot(&session)?,
                created_at: now_ms(),
            };
            events::insert(&mut *tx, &event).await?;
            tx.commit().await?;
            return Ok(Some(SessionTransition::Changed(session, event)));
        }
        Err(StoreError::Conflict)
    }
}
