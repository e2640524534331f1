//! Refunds: all or part of a paid session, through the provider that took
//! the payment. The amount is reserved with a compare-and-set before the
//! provider is called, so concurrent refunds never exceed the payment; a
//! refund without a final answer stays `pending` and reserved until the
//! reconciler learns its outcome.

use kasir_shared::api::Refund;
use kasir_shared::money::Idr;
use kasir_shared::payment::{SessionStatus, StatusSource};
use kasir_shared::{ErrorCode, ValidationError};
use sha2::{Digest, Sha256};

use super::{refund_object, snapshot_fn};
use crate::AppState;
use crate::error::ApiError;
use crate::ids::new_id;
use crate::providers::{AttemptRef, ProviderError};
use crate::store::{RefundReserve, RefundRow, SessionRow, SessionTransition, now_ms};

/// Refunds `requested` whole rupiah of the merchant's session (the rest of
/// the payment when `None`); `key` is the request's `Idempotency-Key`.
pub async fn refund(
    state: &AppState,
    merchant_id: &str,
    session_id: &str,
    requested: Option<i64>,
    key: Option<String>,
) -> Result<Refund, ApiError> {
    let session = state.store.session(merchant_id, session_id).await?.ok_or(ApiError::NotFound)?;
    // The key names one refund of one session and amount (absent: the rest).
    let request_hash = key.as_ref().map(|_| {
        let canonical =
            format!("{}|{}", session.id, requested.map_or_else(|| "rest".into(), |a| a.to_string()));
        crate::providers::crypto::hex(&Sha256::digest(canonical.as_bytes()))
    });
    if let Some(key) = &key
        && let Some(existing) = state.store.refund_by_key(merchant_id, key).await?
    {
        return replay(&existing, request_hash.as_deref());
    }
    let paid = SessionStatus::from_wire(&session.status)
        .is_some_and(|s| matches!(s, SessionStatus::Succeeded | SessionStatus::PartiallyRefunded));
    let attempt = state.store.succeeded_attempt(&session.id).await?;
    let (true, Some(attempt)) = (paid, attempt) else {
        return Err(ApiError::code(ErrorCode::RefundNotAllowed));
    };
    let remaining = session.amount - session.amount_refunded;
    let amount = requested.unwrap_or(remaining);
    let bad_amount = || ApiError::Rejected(ValidationError::new(ErrorCode::RefundAmount).at("amount"));
    if amount <= 0 || amount > remaining {
        return Err(bad_amount());
    }
    let refund = RefundRow {
        id: new_id("re"),
        session_id: session.id.clone(),
        merchant_id: merchant_id.to_owned(),
        attempt_id: attempt.id.clone(),
        amount,
        status: "pending".into(),
        provider_ref: None,
        created_at: now_ms(),
        idempotency_key: key.clone(),
        request_hash: request_hash.clone(),
        review_requested_at: None,
        resolution: None,
    };
    match state.store.reserve_refund(&refund).await? {
        RefundReserve::Reserved => {}
        RefundReserve::Exceeds => return Err(bad_amount()),
        RefundReserve::Existing(existing) => return replay(&existing, request_hash.as_deref()),
    }
    let provider = state.providers.get(&attempt.provider).cloned();
    let idr = Idr::from_i64(amount).unwrap_or(Idr::ZERO);
    let paid = Idr::from_i64(attempt.amount).unwrap_or(Idr::ZERO);
    let r =
        AttemptRef { attempt_id: &attempt.id, provider_ref: attempt.provider_ref.as_deref(), amount: paid };
    let result = match &provider {
        Some(p) => tokio::time::timeout(state.config.timings.provider_timeout, p.refund(r, &refund.id, idr))
            .await
            .unwrap_or(Err(ProviderError::Timeout)),
        None => Err(ProviderError::Unavailable("provider no longer configured".into())),
    };
    let status = match result {
        Ok(outcome) if outcome.amount_mismatch(idr).is_some() => {
            // The provider's answer names another amount than asked. Not
            // done, not failed: pending and reserved. The reconciler asks
            // again; if the provider lists it in another amount too, the
            // merchant is asked to check it (an answer's total is not
            // always this refund's amount, so one answer alone does not).
            let why = outcome.amount_mismatch(idr).unwrap_or_default();
            tracing::warn!(refund = %refund.id, why = %why, "refund answer names another amount; left pending");
            state.store.refund_pending(&refund, Some(&outcome.provider_ref)).await?;
            "pending"
        }
        Ok(outcome) if outcome.pending => {
            // Accepted, not finished: the amount stays reserved, so a retry
            // cannot refund it twice; the reconciler asks until it ends.
            state.store.refund_pending(&refund, Some(&outcome.provider_ref)).await?;
            tracing::info!(refund = %refund.id, amount, "refund accepted by the provider, not yet finished");
            "pending"
        }
        Ok(outcome) => {
            finish(state, &refund, Ok(Some(&outcome.provider_ref)), None).await?;
            tracing::info!(session = %session_id, refund = %refund.id, amount, "refunded");
            "succeeded"
        }
        Err(ProviderError::Refused { code }) => {
            tracing::warn!(refund = %refund.id, code = %code, "refund refused by the provider");
            finish(state, &refund, Err(&code), None).await?;
            return Err(if code.ends_with("unsupported") {
                ApiError::code(ErrorCode::RefundUnsupported)
            } else {
                bad_amount()
            });
        }
        Err(e) => {
            // No answer: the provider may have refunded. Keep it pending and
            // reserved rather than free the amount for a second refund; the
            // reconciler asks the provider about it.
            tracing::warn!(refund = %refund.id, error = %e, "refund got no answer; left pending");
            "pending"
        }
    };
    let mut done = refund.clone();
    done.status = status.into();
    Ok(refund_object(&done)?)
}

/// Hands a pending refund whose outcome Kasir cannot learn to the merchant
/// (`checkout_session.refund_requires_review`), once; `why` goes to the log.
/// Returns when it was raised, if this call raised it.
pub async fn request_review(
    state: &AppState,
    refund: &RefundRow,
    why: &str,
) -> Result<Option<i64>, ApiError> {
    let Some(session) = state.store.session_by_id(&refund.session_id).await? else { return Ok(None) };
    let attempt = state.store.attempt(&refund.attempt_id).await?;
    let snapshot = snapshot_fn(state.config.public_url.clone())(&session, attempt.as_ref())?;
    let Some(event) = state.store.request_refund_review(refund, &snapshot).await? else { return Ok(None) };
    tracing::error!(refund = %refund.id, session = %session.id, event = %event.id, why,
        "refund outcome not known; the merchant is asked to check it with the provider");
    if let Some(attempt) = &attempt {
        state.metrics.refund_review(&attempt.provider);
    }
    state.wake_delivery();
    Ok(Some(now_ms()))
}

/// Settles a refund under review (`checkout_session.refund_requires_review`)
/// with the outcome the merchant confirmed at the provider: `succeeded`
/// counts towards the refunded total, `failed` releases its amount. The
/// resolution (`outcome`, by merchant and key hint, when, note) is stored on
/// the refund. `409 refund.not_under_review` for any other refund.
pub async fn resolve(
    state: &AppState,
    merchant_id: &str,
    session_id: &str,
    refund_id: &str,
    succeeded: bool,
    resolution: &str,
) -> Result<Refund, ApiError> {
    let refund =
        state.store.refund_of(merchant_id, session_id, refund_id).await?.ok_or(ApiError::NotFound)?;
    if refund.status != "pending" || refund.review_requested_at.is_none() {
        return Err(ApiError::code(ErrorCode::RefundNotUnderReview));
    }
    let outcome = if succeeded { Ok(None) } else { Err("resolved_failed") };
    // Settled meanwhile (by the provider's answer, or a second resolve):
    // this one changed nothing, and says so.
    if !finish(state, &refund, outcome, Some(resolution)).await? {
        return Err(ApiError::code(ErrorCode::RefundNotUnderReview));
    }
    let after = state.store.refund_of(merchant_id, session_id, refund_id).await?.ok_or(ApiError::NotFound)?;
    tracing::warn!(refund = %refund_id, session = %session_id, merchant = %merchant_id, succeeded,
        "refund resolved by the merchant");
    Ok(refund_object(&after)?)
}

/// Settles a late payment's refund under review
/// (`checkout_session.late_payment_refund_requires_review`): `succeeded`
/// (the provider did refund it) makes it `refunded`, `failed` makes it
/// `refund_failed`; recorded as its `resolution`, with the matching event.
/// `409 late_payment.not_under_review` for any other late payment, or one
/// settled meanwhile.
pub async fn resolve_late(
    state: &AppState,
    merchant_id: &str,
    session_id: &str,
    late_payment_id: &str,
    succeeded: bool,
    resolution: &str,
) -> Result<(), ApiError> {
    let late = state
        .store
        .late_payment_of(merchant_id, session_id, late_payment_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if late.status != "refund_pending" || late.review_requested_at.is_none() {
        return Err(ApiError::code(ErrorCode::LatePaymentNotUnderReview));
    }
    let session = state.store.session(merchant_id, session_id).await?.ok_or(ApiError::NotFound)?;
    let attempt = state.store.attempt(&late.attempt_id).await?;
    let snapshot = snapshot_fn(state.config.public_url.clone())(&session, attempt.as_ref())?;
    let (status, code) =
        if succeeded { ("refunded", None) } else { ("refund_failed", Some("resolved_failed")) };
    let event =
        state.store.finish_late_refund(&late, status, None, code, Some(resolution), &snapshot).await?;
    // Settled meanwhile by the provider's own answer, or a first resolve.
    if event.is_none() {
        return Err(ApiError::code(ErrorCode::LatePaymentNotUnderReview));
    }
    state.wake_delivery();
    tracing::warn!(session = %session_id, late_payment = %late_payment_id, merchant = %merchant_id, succeeded,
        "late payment's refund resolved by the merchant");
    Ok(())
}

/// Records a refund's final outcome (`Ok(provider_ref)` succeeded, the
/// provider's reference where one is known; `Err(code)` failed) with its
/// `checkout_session.refund_*` event, and moves the session to
/// `partially_refunded` or `refunded` from the total. `false` if the refund
/// had already ended (nothing changed).
pub async fn finish(
    state: &AppState,
    refund: &RefundRow,
    outcome: Result<Option<&str>, &str>,
    resolution: Option<&str>,
) -> Result<bool, ApiError> {
    let Some(session) = state.store.session_by_id(&refund.session_id).await? else {
        return Err(ApiError::NotFound);
    };
    let attempt = state.store.attempt(&refund.attempt_id).await?;
    let snapshot = snapshot_fn(state.config.public_url.clone())(&session, attempt.as_ref())?;
    let (succeeded, provider_ref, code) = match outcome {
        Ok(provider_ref) => (true, provider_ref, None),
        Err(code) => (false, None, Some(code)),
    };
    let event =
        state.store.finish_refund(refund, succeeded, provider_ref, code, resolution, &snapshot).await?;
    let Some(_) = event else { return Ok(false) };
    state.wake_delivery();
    if succeeded {
        settle_refunded(state, &session.merchant_id, &session).await?;
    }
    Ok(true)
}

/// The stored answer to a refund request repeated with its `Idempotency-Key`;
/// `409 idempotency_key.reused` if the key was used for another refund.
fn replay(existing: &RefundRow, request_hash: Option<&str>) -> Result<Refund, ApiError> {
    if existing.request_hash.as_deref() != request_hash {
        return Err(ApiError::code(ErrorCode::IdempotencyKeyReused));
    }
    Ok(refund_object(existing)?)
}

/// Moves a paid session to `partially_refunded` or `refunded` from what its
/// succeeded refunds add up to, read after this refund committed: however
/// concurrent refunds interleave, the one that completes the amount makes
/// the session `refunded`.
pub async fn settle_refunded(
    state: &AppState,
    merchant_id: &str,
    session: &SessionRow,
) -> Result<(), ApiError> {
    let total = state.store.refunded_total(&session.id).await?;
    let to = if total >= session.amount { SessionStatus::Refunded } else { SessionStatus::PartiallyRefunded };
    let snapshot = snapshot_fn(state.config.public_url.clone());
    let moved = state
        .store
        .transition_session(merchant_id, &session.id, to, StatusSource::ProviderResponse, &snapshot)
        .await?;
    if let Some(SessionTransition::Changed(_, event)) = moved {
        tracing::info!(session = %session.id, event = %event.id, total, "refund total recorded");
        state.wake_delivery();
    }
    Ok(())
}
