//! Voiding the attempt a shopper walked away from (a QR, a VA, a 3DS
//! page) before a new attempt, a cancellation or an expiry, so it can
//! never be paid as well.

use std::sync::Arc;

use kasir_shared::ErrorCode;
use kasir_shared::money::Idr;
use kasir_shared::payment::{PaymentStatus, SessionStatus, StatusSource};

use crate::AppState;
use crate::error::ApiError;
use crate::providers::{AttemptRef, PaymentProvider, ProviderError, ProviderOutcome};
use crate::store::{AttemptRow, AttemptUpdate, SessionRow};

use super::settle::{settle, settle_with};

/// Voids the session's attempt waiting for the shopper (a QR they walked
/// away from) before a new attempt, a cancellation or expiry, moving the
/// attempt to `to` and the session to `session_to` (default: `open`).
/// Returns the attempt afterwards: voided, or `succeeded` if the shopper
/// paid first.
pub async fn void_waiting_attempt(
    state: &AppState,
    session: &SessionRow,
    to: PaymentStatus,
    session_to: Option<SessionStatus>,
) -> Result<Option<AttemptRow>, ApiError> {
    let Some(attempt) = state.store.latest_attempt(&session.id).await? else { return Ok(None) };
    if attempt.status != PaymentStatus::RequiresAction.as_str() {
        return Ok(Some(attempt));
    }
    let Some(provider) = state.providers.get(&attempt.provider).cloned() else {
        return Err(ApiError::code(ErrorCode::ProviderUnavailable));
    };
    let result = call_cancel(&provider, &attempt, state.config.timings.provider_timeout).await;
    match result {
        Ok(outcome) if outcome.status == PaymentStatus::Cancelled => {
            let source =
                if to == PaymentStatus::Expired { StatusSource::Expiry } else { StatusSource::Cancellation };
            let settled =
                settle(state, &attempt.id, to, source, &AttemptUpdate::default(), session_to).await?;
            Ok(Some(settled))
        }
        Ok(outcome) => {
            let after = settle_with(state, &attempt, Ok(outcome), Some(StatusSource::Inquiry)).await?;
            if PaymentStatus::from_wire(&after.status).is_some_and(|s| !s.is_final()) {
                // Not voided (an error inside a 200, a code still pending
                // at the provider's inquiry): the old code can still be
                // paid, so nothing may replace or close it yet.
                tracing::warn!(attempt = %attempt.id, status = %after.status, "provider did not void the attempt");
                return Err(ApiError::code(ErrorCode::ProviderUnavailable));
            }
            Ok(Some(after))
        }
        Err(e) => {
            tracing::warn!(attempt = %attempt.id, error = %e, "provider could not void the attempt");
            Err(ApiError::code(ErrorCode::ProviderUnavailable))
        }
    }
}

async fn call_cancel(
    provider: &Arc<dyn PaymentProvider>,
    attempt: &AttemptRow,
    timeout: std::time::Duration,
) -> Result<ProviderOutcome, ProviderError> {
    let amount = Idr::from_i64(attempt.amount).unwrap_or(Idr::ZERO);
    let r = AttemptRef { attempt_id: &attempt.id, provider_ref: attempt.provider_ref.as_deref(), amount };
    tokio::time::timeout(timeout, provider.cancel(r)).await.unwrap_or(Err(ProviderError::Timeout))
}
