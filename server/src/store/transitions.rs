//! Session state changes: checked by the `kasir-shared` state machine,
//! written with a compare-and-set on the old status, and recorded as an
//! event in the same transaction.

use kasir_shared::payment::{PaymentStatus, SessionStatus, StatusSource, Transition, TransitionRejection};

use super::attempts::{AttemptRow, update_attempt, update_attempt_if};
use super::events::{self, EventRow};
use super::late::{LatePaymentRow, insert_late};
use super::sessions::SessionRow;
use super::{Store, StoreError, now_ms};

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

/// Builds the event's JSON snapshot of the changed session (with its latest attempt).
pub type Snapshot<'a> = &'a (dyn Fn(&SessionRow, Option<&AttemptRow>) -> Result<String, StoreError> + Sync);

/// Fields a provider answer may set on an attempt besides its status.
#[derive(Debug, Clone, Default)]
pub struct AttemptUpdate {
    /// The provider's id, once known.
    pub provider_ref: Option<String>,
    /// The widget-facing next action (JSON), for `requires_action`.
    pub next_action: Option<String>,
    /// Why it failed, for `failed`.
    pub failure_code: Option<String>,
    /// When the reconciler should look again, for a non-final status.
    pub reconcile_after: Option<i64>,
    /// The merchant's resolution (JSON), for `StatusSource::Resolution`.
    pub resolution: Option<String>,
}

/// What settling an attempt did.
#[derive(Debug, Clone)]
pub enum AttemptSettle {
    /// The attempt changed; the session too when `event` is set.
    Changed {
        /// The attempt afterwards.
        attempt: AttemptRow,
        /// The session afterwards.
        session: SessionRow,
        /// The event written, if the session changed.
        event: Option<EventRow>,
    },
    /// Already in that status: nothing changed (a duplicate report).
    Unchanged(AttemptRow, SessionRow),
    /// The state machine refused (e.g. the attempt is final).
    Refused(AttemptRow, SessionRow, TransitionRejection),
    /// The provider reported money for an attempt whose session could no
    /// longer take it: recorded as a late payment (with its event, `None`
    /// for a duplicate report); the attempt ends as its session did.
    Late {
        /// The attempt afterwards.
        attempt: AttemptRow,
        /// The session (unchanged).
        session: SessionRow,
        /// The `checkout_session.late_payment` event, when newly recorded.
        event: Option<EventRow>,
    },
}

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
            session.status = next.as_str().to_owned();
            let latest = self.latest_attempt(id).await?;
            let event = EventRow::new(&session, next, snapshot(&session, latest.as_ref())?);
            let deliver = self.delivers_to(&event.merchant_id);
            let (written, id) = (event.clone(), id.to_owned());
            let changed = self
                .write_guarded(move |tx| {
                    Box::pin(async move {
                        let updated = sqlx::query(
                            "UPDATE checkout_sessions SET status = $1 WHERE id = $2 AND status = $3",
                        )
                        .bind(next.as_str())
                        .bind(&id)
                        .bind(from.as_str())
                        .execute(&mut *tx)
                        .await?;
                        if updated.rows_affected() != 1 {
                            return Ok(false);
                        }
                        events::insert(&mut *tx, &written, deliver).await?;
                        Ok(true)
                    })
                })
                .await?;
            if !changed {
                continue;
            }
            return Ok(Some(SessionTransition::Changed(session, event)));
        }
        Err(StoreError::Conflict)
    }

    /// Moves attempt `attempt_id` to `to` as reported by `source`, and its
    /// session to `session_to` (default: what the attempt's status implies),
    /// in one transaction with compare-and-set on both old statuses and the
    /// event. `None` if there is no such attempt.
    ///
    /// A success reported for an attempt whose session can no longer take it
    /// (expired, cancelled, or paid by another attempt), or for an attempt
    /// already final and unpaid, is recorded as a late payment with
    /// `checkout_session.late_payment` in the same transaction: the money is
    /// never silently lost, and is refunded where the merchant wants it.
    pub async fn settle_attempt(
        &self,
        attempt_id: &str,
        to: PaymentStatus,
        source: StatusSource,
        update: &AttemptUpdate,
        session_to: Option<SessionStatus>,
        snapshot: Snapshot<'_>,
    ) -> Result<Option<AttemptSettle>, StoreError> {
        for _ in 0..ATTEMPTS {
            let Some(attempt) = self.attempt(attempt_id).await? else { return Ok(None) };
            let Some(session) = self.session_by_id(&attempt.session_id).await? else {
                return Err(StoreError::Corrupt(format!("attempt {attempt_id} has no session")));
            };
            let from = PaymentStatus::from_wire(&attempt.status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {:?} of {attempt_id}", attempt.status)))?;
            let next = match from.transition(to, source) {
                Ok(Transition::Changed(next)) => next,
                Ok(Transition::Unchanged) => {
                    if attempt.provider_ref.is_none() && update.provider_ref.is_some() {
                        let mut with_ref = attempt.clone();
                        with_ref.provider_ref.clone_from(&update.provider_ref);
                        let written = with_ref.clone();
                        self.write_one(move |conn| {
                            Box::pin(async move { update_attempt(conn, &written, from).await.map(drop) })
                        })
                        .await?;
                        return Ok(Some(AttemptSettle::Unchanged(with_ref, session)));
                    }
                    return Ok(Some(AttemptSettle::Unchanged(attempt, session)));
                }
                Err(refused) if refused.reason == TransitionRejection::LatePayment => {
                    let late = self.late_row(&attempt, update);
                    let payload = snapshot(&session, Some(&attempt))?;
                    let deliver = self.delivers_to(&session.merchant_id);
                    let held = session.clone();
                    let event = self
                        .write_guarded(move |tx| {
                            Box::pin(async move { insert_late(tx, &late, &held, &payload, deliver).await })
                        })
                        .await?;
                    return Ok(Some(AttemptSettle::Late { attempt, session, event }));
                }
                Err(refused) => return Ok(Some(AttemptSettle::Refused(attempt, session, refused.reason))),
            };
            let now = now_ms();
            let mut after = attempt.clone();
            after.status = next.as_str().to_owned();
            after.provider_ref = update.provider_ref.clone().or(attempt.provider_ref.clone());
            after.next_action = (next == PaymentStatus::RequiresAction)
                .then(|| update.next_action.clone().or(attempt.next_action.clone()))
                .flatten();
            if next == PaymentStatus::Failed {
                after.failure_code =
                    update.failure_code.clone().or(attempt.failure_code.clone()).or(Some("declined".into()));
            } else if update.failure_code.is_some() && next.is_final() {
                // Why Kasir ended it (e.g. `not_shown`), when it says.
                after.failure_code = update.failure_code.clone();
            }
            if update.resolution.is_some() {
                after.resolution.clone_from(&update.resolution);
            }
            after.updated_at = now;
            after.reconcile_after =
                if next.is_final() { None } else { update.reconcile_after.or(attempt.reconcile_after) };

            let session_from = SessionStatus::from_wire(&session.status).ok_or_else(|| {
                StoreError::Corrupt(format!("status {:?} of {}", session.status, session.id))
            })?;
            let target = session_to.unwrap_or(SessionStatus::after_attempt(next));
            let session_next = match session_from.transition(target, source) {
                Ok(Transition::Changed(s)) => Some(s),
                Ok(Transition::Unchanged) => None,
                Err(_) => None,
            };
            // Money for a session that can no longer take it (expired,
            // cancelled, or paid by another attempt): the attempt ends as its
            // session did and the money is recorded as a late payment.
            let late = next == PaymentStatus::Succeeded
                && (session_from.is_paid() || session_next.is_none() && session_from != target);
            if late {
                tracing::error!(attempt = %attempt_id, session = %session.id, session_status = %session_from,
                    "payment succeeded on a session that can no longer take it: late payment");
                let ended = if session_from == SessionStatus::Expired {
                    PaymentStatus::Expired
                } else {
                    PaymentStatus::Cancelled
                };
                after.status = ended.as_str().to_owned();
                after.failure_code = Some("late_payment".into());
                after.next_action = None;
                after.reconcile_after = None;
                let record = self.late_row(&after, update);
                let payload = snapshot(&session, Some(&after))?;
                let deliver = self.delivers_to(&session.merchant_id);
                let (written, held) = (after.clone(), session.clone());
                let event = self
                    .write_guarded(move |tx| {
                        Box::pin(async move {
                            if !update_attempt(&mut *tx, &written, from).await? {
                                return Ok(None);
                            }
                            insert_late(tx, &record, &held, &payload, deliver).await.map(Some)
                        })
                    })
                    .await?;
                let Some(event) = event else { continue };
                return Ok(Some(AttemptSettle::Late { attempt: after, session, event }));
            }

            let mut session_after = session.clone();
            let mut event = None;
            if let Some(s) = session_next {
                session_after.status = s.as_str().to_owned();
                event = Some(EventRow::new(&session_after, s, snapshot(&session_after, Some(&after))?));
            }
            let deliver = self.delivers_to(&session.merchant_id);
            let (written, session_id, written_event) = (after.clone(), session.id.clone(), event.clone());
            let changed = self
                .write_guarded(move |tx| {
                    Box::pin(async move {
                        // The first statement checks the session's status
                        // too: once it wrote, the session's move cannot lose.
                        let guard = session_next.map(|_| session_from.as_str());
                        match update_attempt_if(&mut *tx, &written, from, guard).await {
                            Ok(true) => {}
                            Ok(false) => return Ok(false),
                            // On PostgreSQL another instance may have made a
                            // second attempt of this session succeed meanwhile
                            // (one success per session is a unique index): read
                            // again, which finds the session paid and records
                            // this money as a late payment.
                            Err(StoreError::Database(sqlx::Error::Database(e)))
                                if e.is_unique_violation() =>
                            {
                                return Err(StoreError::Conflict);
                            }
                            Err(e) => return Err(e),
                        }
                        if let Some(s) = session_next {
                            let moved = sqlx::query(
                                "UPDATE checkout_sessions SET status = $1 WHERE id = $2 AND status = $3",
                            )
                            .bind(s.as_str())
                            .bind(&session_id)
                            .bind(session_from.as_str())
                            .execute(&mut *tx)
                            .await?;
                            if moved.rows_affected() != 1 {
                                // On SQLite this cannot happen (checked above,
                                // one writer); on PostgreSQL another instance
                                // may have moved the session since: read again.
                                return Err(StoreError::Conflict);
                            }
                        }
                        if let Some(event) = &written_event {
                            events::insert(&mut *tx, event, deliver).await?;
                        }
                        Ok(true)
                    })
                })
                .await;
            match changed {
                Ok(true) => {}
                Ok(false) | Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
            return Ok(Some(AttemptSettle::Changed { attempt: after, session: session_after, event }));
        }
        Err(StoreError::Conflict)
    }
}

impl Store {
    /// The late payment to record for `attempt` (its amount; the provider's
    /// id from this report, or the one known).
    fn late_row(&self, attempt: &AttemptRow, update: &AttemptUpdate) -> LatePaymentRow {
        let now = now_ms();
        let refund = self.refunds_late_payments(&attempt.merchant_id);
        LatePaymentRow {
            id: crate::ids::new_id("lp"),
            session_id: attempt.session_id.clone(),
            merchant_id: attempt.merchant_id.clone(),
            attempt_id: attempt.id.clone(),
            provider: attempt.provider.clone(),
            provider_ref: update.provider_ref.clone().or_else(|| attempt.provider_ref.clone()),
            amount: attempt.amount,
            status: if refund { "refund_pending" } else { "not_refunded" }.into(),
            refund_ref: None,
            failure_code: None,
            created_at: now,
            updated_at: now,
            review_requested_at: None,
            resolution: None,
        }
    }
}
