//! The reconciler and the expiry clock. Attempts whose outcome is overdue
//! (`unknown`, stuck `processing` after a crash, `requires_action` for too
//! long) are settled by the provider's status inquiry, never by guessing;
//! sessions past their expiry are expired, voiding any QR or VA first so a
//! late payment cannot slip through.

use kasir_shared::money::Idr;
use kasir_shared::payment::{PaymentStatus, SessionStatus, StatusSource};

use crate::AppState;
use crate::error::ApiError;
use crate::payments::settle::{ms, settle, settle_with, waiting_delay_ms};
use crate::payments::snapshot_fn;
use crate::payments::void::void_waiting_attempt;
use crate::providers::{AttemptRef, ProviderError};
use crate::store::{AttemptRow, AttemptUpdate, SessionRow, SessionTransition, now_ms};

/// Attempts claimed per round.
const BATCH: i64 = 16;

/// Asks providers about every overdue attempt; returns how many.
pub async fn reconcile_due(state: &AppState) -> Result<usize, ApiError> {
    let lease = ms(state.config.timings.provider_timeout) * 2 + 5_000;
    let attempts = state.store.claim_attempts_to_reconcile(BATCH, lease).await?;
    for attempt in &attempts {
        if let Err(e) = reconcile_one(state, attempt).await {
            tracing::warn!(attempt = %attempt.id, error = %e, "reconciliation failed; will retry");
            let later = now_ms() + ms(state.config.timings.reconcile_after);
            state.store.postpone_reconcile(&attempt.id, later).await?;
        }
    }
    Ok(attempts.len())
}

async fn reconcile_one(state: &AppState, attempt: &AttemptRow) -> Result<(), ApiError> {
    let later = now_ms() + ms(state.config.timings.reconcile_after);
    let Some(provider) = state.providers.get(&attempt.provider).cloned() else {
        tracing::error!(attempt = %attempt.id, provider = %attempt.provider, "provider no longer configured");
        state.store.postpone_reconcile(&attempt.id, later).await?;
        return Ok(());
    };
    let amount = Idr::from_i64(attempt.amount).unwrap_or(Idr::ZERO);
    let r = AttemptRef { attempt_id: &attempt.id, provider_ref: attempt.provider_ref.as_deref(), amount };
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(state.config.timings.provider_timeout, provider.inquire(r))
        .await
        .unwrap_or(Err(ProviderError::Timeout));
    state.metrics.provider_call(provider.name(), "inquire", started.elapsed(), result.is_ok());
    match result {
        Ok(outcome) if outcome.status.as_str() == attempt.status => {
            state.metrics.reconciled("unchanged");
            review_if_overdue(state, attempt).await?;
            let later = if outcome.status == PaymentStatus::RequiresAction {
                now_ms() + waiting_delay_ms(state, Some(&attempt.provider))
            } else {
                later
            };
            state.store.postpone_reconcile(&attempt.id, later).await?;
        }
        Ok(outcome) => {
            state.metrics.reconciled(outcome.status.as_str());
            tracing::info!(attempt = %attempt.id, from = %attempt.status, to = %outcome.status, "reconciled");
            settle_with(state, attempt, Ok(outcome), Some(StatusSource::Inquiry)).await?;
        }
        Err(ProviderError::NotFound)
            if provider.not_found_is_final()
                && attempt.status == PaymentStatus::Processing.as_str()
                && now_ms() - attempt.created_at > 2 * ms(state.config.timings.provider_timeout) =>
        {
            // We crashed before the request reached the provider, and its
            // "not found" is documented as proof: no money moved.
            state.metrics.reconciled("not_received");
            let update =
                AttemptUpdate { failure_code: Some("not_received".into()), ..AttemptUpdate::default() };
            settle(state, &attempt.id, PaymentStatus::Failed, StatusSource::Inquiry, &update, None).await?;
        }
        Err(e) if orphaned_and_never_shown(state, attempt) => {
            // Killed between writing the attempt and the provider's answer,
            // and the provider cannot say it has the order: the QR code or
            // account number was never shown, so nobody can pay it. Give
            // the session back to the shopper instead of blocking it.
            state.metrics.reconciled("abandoned_unshown");
            tracing::warn!(attempt = %attempt.id, error = %e,
                "attempt never answered and never shown; cancelled so the shopper can pay again");
            let update = AttemptUpdate { failure_code: Some("not_shown".into()), ..AttemptUpdate::default() };
            settle(state, &attempt.id, PaymentStatus::Cancelled, StatusSource::Cancellation, &update, None)
                .await?;
        }
        Err(e) => {
            state.metrics.reconciled("error");
            tracing::warn!(attempt = %attempt.id, error = %e, "status inquiry gave no outcome; will retry");
            state.store.postpone_reconcile(&attempt.id, later).await?;
            review_if_overdue(state, attempt).await?;
        }
    }
    Ok(())
}

/// An attempt whose outcome the provider has not given for `review_after`
/// (a lost answer it cannot find by our reference, an inquiry that keeps
/// failing) goes to the merchant: `checkout_session.requires_review`, once.
/// It stays `unknown`, its session stays closed to new attempts, and the
/// reconciler keeps asking; the merchant may settle it with `POST …/resolve`.
async fn review_if_overdue(state: &AppState, attempt: &AttemptRow) -> Result<(), ApiError> {
    let overdue = now_ms() - attempt.created_at > ms(state.config.timings.review_after);
    let unsettled = matches!(attempt.status.as_str(), "unknown" | "processing");
    if !overdue || !unsettled || attempt.review_requested_at.is_some() {
        return Ok(());
    }
    let Some(session) = state.store.session_by_id(&attempt.session_id).await? else { return Ok(()) };
    let mut flagged = attempt.clone();
    flagged.review_requested_at = Some(now_ms());
    let snapshot = snapshot_fn(state.config.public_url.clone())(&session, Some(&flagged))?;
    if let Some(event) = state.store.request_review(&attempt.id, &session, &snapshot).await? {
        tracing::error!(attempt = %attempt.id, session = %session.id, event = %event.id, provider = %attempt.provider,
            "outcome still unknown; the merchant is asked to check with the provider");
        state.metrics.review(&attempt.provider);
        state.wake_delivery();
        state.notify_session(&session.id);
    }
    Ok(())
}

/// Refunds late payments due for it (merchants with `late_payments =
/// "refund"`); returns how many were tried. A refusal the provider gives
/// for good (no refunds, or this one refused) is reported to the merchant;
/// no answer is tried again later.
pub async fn refund_late_payments(state: &AppState) -> Result<usize, ApiError> {
    let lease = ms(state.config.timings.provider_timeout) * 2 + 5_000;
    let due = state.store.claim_late_refunds(BATCH, lease).await?;
    for late in &due {
        let Some(provider) = state.providers.get(&late.provider).cloned() else { continue };
        let Some(session) = state.store.session_by_id(&late.session_id).await? else { continue };
        let amount = Idr::from_i64(late.amount).unwrap_or(Idr::ZERO);
        let r =
            AttemptRef { attempt_id: &late.attempt_id, provider_ref: late.provider_ref.as_deref(), amount };
        // Sent once; after that (pending, or no answer) only asked about.
        let call = async {
            if state.store.late_refund_sent_before(&late.id).await? {
                Ok::<_, ApiError>(provider.refund_status(r, &late.id).await)
            } else {
                Ok(provider.refund(r, &late.id, amount).await)
            }
        };
        let result = tokio::time::timeout(state.config.timings.provider_timeout, call)
            .await
            .unwrap_or(Ok(Err(ProviderError::Timeout)))?;
        let attempt = state.store.attempt(&late.attempt_id).await?;
        let snapshot = snapshot_fn(state.config.public_url.clone())(&session, attempt.as_ref())?;
        // Under review, asked every `review_after` rather than `reconcile_after`.
        let timings = &state.config.timings;
        let every =
            if late.review_requested_at.is_some() { timings.review_after } else { timings.reconcile_after };
        let retry_at = now_ms() + ms(every);
        let finished = match result {
            Ok(outcome) if outcome.amount_mismatch(amount).is_some() => {
                // Refunded in another amount than the late payment's: not
                // recorded as refunded. It stays `refund_pending` (visible in
                // the session's `late_payments`), is asked about again, and
                // the merchant is asked to check it.
                let why = outcome.amount_mismatch(amount).unwrap_or_default();
                tracing::error!(late_payment = %late.id, why = %why, "late refund answered with another amount; left pending");
                state.store.retry_late_refund(&late.id, retry_at).await?;
                review_late_refund(state, late, &snapshot, true).await?
            }
            Ok(outcome) if outcome.pending => {
                // Accepted, not done: ask again later.
                state.store.retry_late_refund(&late.id, retry_at).await?;
                review_late_refund(state, late, &snapshot, false).await?
            }
            Ok(outcome) => {
                state
                    .store
                    .finish_late_refund(late, "refunded", Some(&outcome.provider_ref), None, None, &snapshot)
                    .await?
            }
            Err(ProviderError::Refused { code }) => {
                tracing::error!(late_payment = %late.id, code = %code, "late payment could not be refunded; merchant must act");
                state
                    .store
                    .finish_late_refund(late, "refund_failed", None, Some(&code), None, &snapshot)
                    .await?
            }
            Err(e) => {
                tracing::warn!(late_payment = %late.id, error = %e, "late refund got no answer; will retry");
                state.store.retry_late_refund(&late.id, retry_at).await?;
                review_late_refund(state, late, &snapshot, false).await?
            }
        };
        if finished.is_some() {
            state.wake_delivery();
        }
    }
    Ok(due.len())
}

/// A late payment's refund whose outcome stays unknown (`now`: an answer in
/// another amount; otherwise once `review_after` has passed since the late
/// payment) goes to the merchant:
/// `checkout_session.late_payment_refund_requires_review`, once. It stays
/// `refund_pending` and is asked about again.
async fn review_late_refund(
    state: &AppState,
    late: &crate::store::LatePaymentRow,
    snapshot: &str,
    now: bool,
) -> Result<Option<crate::store::EventRow>, ApiError> {
    let overdue = now_ms() - late.created_at > ms(state.config.timings.review_after);
    if !(now || overdue) || late.review_requested_at.is_some() {
        return Ok(None);
    }
    let event = state.store.request_late_refund_review(late, snapshot).await?;
    if event.is_some() {
        tracing::error!(late_payment = %late.id, session = %late.session_id, provider = %late.provider,
            "late payment's refund outcome not known; the merchant is asked to check it with the provider");
        state.metrics.refund_review(&late.provider);
    }
    Ok(event)
}

/// Asks providers about refunds left pending (accepted and not finished,
/// or no answer): a refund is never sent twice, only asked about, and its
/// amount stays reserved until the provider says it failed. Returns how
/// many were asked about.
pub async fn reconcile_refunds(state: &AppState) -> Result<usize, ApiError> {
    let timings = &state.config.timings;
    let lease = ms(timings.provider_timeout) * 2 + 5_000;
    let due = state.store.claim_pending_refunds(BATCH, ms(timings.provider_timeout) * 2, lease).await?;
    for refund in &due {
        // Under review, the merchant is on it: ask the provider every
        // `review_after` rather than every `reconcile_after`.
        let every =
            if refund.review_requested_at.is_some() { timings.review_after } else { timings.reconcile_after };
        let later = now_ms() + ms(every);
        let attempt = state.store.attempt(&refund.attempt_id).await?;
        let provider = attempt.as_ref().and_then(|a| state.providers.get(&a.provider)).cloned();
        let (Some(provider), Some(attempt)) = (provider, attempt) else {
            state.store.retry_refund(&refund.id, later).await?;
            review_refund_if_overdue(state, refund, "its provider is no longer configured").await?;
            continue;
        };
        let amount = Idr::from_i64(attempt.amount).unwrap_or(Idr::ZERO);
        let r = AttemptRef { attempt_id: &attempt.id, provider_ref: attempt.provider_ref.as_deref(), amount };
        let result = tokio::time::timeout(timings.provider_timeout, provider.refund_status(r, &refund.id))
            .await
            .unwrap_or(Err(ProviderError::Timeout));
        let asked = Idr::from_i64(refund.amount).unwrap_or(Idr::ZERO);
        match result {
            Ok(outcome) if outcome.amount_mismatch(asked).is_some() => {
                // Done, but in another amount than asked: not recorded as
                // done; the merchant checks it with the provider (asked once).
                state.store.retry_refund(&refund.id, later).await?;
                if refund.review_requested_at.is_none() {
                    let why = outcome.amount_mismatch(asked).unwrap_or_default();
                    crate::payments::refund::request_review(state, refund, &why).await?;
                }
            }
            Ok(outcome) if !outcome.pending => {
                tracing::info!(refund = %refund.id, "pending refund finished at the provider");
                let done = Ok(Some(outcome.provider_ref.as_str()));
                if !crate::payments::refund::finish(state, refund, done, None).await? {
                    // Settled meanwhile (a merchant's resolution): if it said
                    // `failed`, the provider now says otherwise.
                    tracing::error!(refund = %refund.id,
                        "the provider reports a refund done that was settled meanwhile; check it against the resolution");
                }
            }
            Err(ProviderError::Refused { code }) => {
                tracing::warn!(refund = %refund.id, code = %code, "pending refund failed at the provider; amount released");
                crate::payments::refund::finish(state, refund, Err(&code), None).await?;
            }
            // Not finished at the provider: asked again, and handed to the
            // merchant if it stays so (a refund accepted but never applied).
            Ok(_) => {
                state.store.retry_refund(&refund.id, later).await?;
                review_refund_if_overdue(state, refund, "not finished at the provider").await?;
            }
            Err(e) => {
                tracing::warn!(refund = %refund.id, error = %e, "pending refund: no answer from the provider; will ask again");
                state.store.retry_refund(&refund.id, later).await?;
                review_refund_if_overdue(state, refund, &e.to_string()).await?;
            }
        }
    }
    Ok(due.len())
}

/// A refund whose outcome the provider has not given `review_after` after
/// it was asked for (no answer, not listed, not finished) goes
/// to the merchant: `checkout_session.refund_requires_review`, once. It
/// stays pending and reserved, and the reconciler keeps asking.
async fn review_refund_if_overdue(
    state: &AppState,
    refund: &crate::store::RefundRow,
    why: &str,
) -> Result<(), ApiError> {
    let overdue = now_ms() - refund.created_at > ms(state.config.timings.review_after);
    if overdue && refund.review_requested_at.is_none() {
        crate::payments::refund::request_review(state, refund, why).await?;
    }
    Ok(())
}

/// Deletes records past their retention, at most once per
/// `retention.every`, in batches until a round finds less than a batch.
/// Returns how many rows went.
pub async fn purge_due(state: &AppState) -> Result<usize, ApiError> {
    const PURGE_BATCH: i64 = 500;
    let retention = &state.config.retention;
    let now = now_ms();
    let last = state.last_purge.load(std::sync::atomic::Ordering::Relaxed);
    if now - last < ms(retention.every) {
        return Ok(0);
    }
    state.last_purge.store(now, std::sync::atomic::Ordering::Relaxed);
    // No record retention: only idempotency records age out.
    let records_before = retention.records.map_or(i64::MIN, |keep| now - ms(keep));
    let idempotency_before = now - ms(retention.idempotency);
    let mut total = 0;
    loop {
        let purged = state.store.purge(records_before, idempotency_before, PURGE_BATCH).await?;
        state.metrics.purged(&purged);
        total += purged.total();
        let full = [purged.sessions, purged.events, purged.idempotency_keys, purged.sandbox_payments]
            .contains(&(PURGE_BATCH as u64));
        if !full {
            break;
        }
    }
    if total > 0 {
        tracing::info!(rows = total, "records past their retention deleted");
    }
    Ok(usize::try_from(total).unwrap_or(usize::MAX))
}

/// A QRIS or virtual-account attempt still `processing` long after any
/// provider call for it must have ended (so its process died during the
/// call), with no QR code or account number recorded: the shopper never saw
/// what to pay, so nobody can have paid it. (Cards and e-wallets are never
/// abandoned this way: a card can be charged, and an OVO push reaches the
/// shopper's phone, without Kasir showing anything.)
///
/// "Never answered" is `provider_ref` still empty: a `processing` attempt
/// the provider did answer (a Mandiri bill paid and held for reversal, whose
/// code is no longer in `next_action`) may hold money and is never given
/// back this way, however long the inquiry fails.
fn orphaned_and_never_shown(state: &AppState, attempt: &AttemptRow) -> bool {
    attempt.status == PaymentStatus::Processing.as_str()
        && attempt.provider_ref.is_none()
        && matches!(attempt.method.as_str(), "qris" | "virtual_account")
        && attempt.next_action.is_none()
        && now_ms() - attempt.created_at > 2 * ms(state.config.timings.provider_timeout)
}

/// Expires sessions past `expires_at`; returns how many were expired (a
/// session whose QR cannot be voided yet is left for the next round).
pub async fn expire_due(state: &AppState) -> Result<usize, ApiError> {
    let sessions = state.store.sessions_past_expiry(32).await?;
    let mut expired = 0;
    for session in &sessions {
        match expire_one(state, session).await {
            Ok(()) => expired += 1,
            Err(e) => tracing::warn!(session = %session.id, error = %e, "could not expire session yet"),
        }
    }
    Ok(expired)
}

async fn expire_one(state: &AppState, session: &SessionRow) -> Result<(), ApiError> {
    if session.status == SessionStatus::RequiresAction.as_str() {
        void_waiting_attempt(state, session, PaymentStatus::Expired, Some(SessionStatus::Expired)).await?;
        return Ok(());
    }
    let snapshot = snapshot_fn(state.config.public_url.clone());
    let outcome = state
        .store
        .transition_session(
            &session.merchant_id,
            &session.id,
            SessionStatus::Expired,
            StatusSource::Expiry,
            &snapshot,
        )
        .await?;
    if let Some(SessionTransition::Changed(row, event)) = outcome {
        tracing::info!(session = %row.id, event = %event.id, "session expired");
        state.notify_session(&row.id);
        state.wake_delivery();
    }
    Ok(())
}
