//! Inbound provider webhooks, after the HTTP layer: verifying one (bounded
//! work for an anonymous sender) and applying what it reports to its
//! attempt. The signature is verified on the raw bytes before anything is
//! parsed; the transition is idempotent, so a duplicate or late webhook
//! changes nothing and emits nothing. An authentic webhook for no known
//! attempt is refused (`503`) so the provider retries; one whose amount,
//! currency or order is not its attempt's settles nothing and leaves an
//! open attempt `unknown` for review.

use std::net::IpAddr;

use kasir_shared::ErrorCode;
use kasir_shared::money::Idr;
use kasir_shared::payment::{PaymentStatus, SessionStatus, StatusSource};

use super::settle::{ms, settle, settle_with};
use crate::AppState;
use crate::error::ApiError;
use crate::providers::{
    AttemptRef, PaymentProvider, ProviderError, ProviderOutcome, WebhookError, WebhookKind, WebhookReport,
    WebhookRequest,
};
use crate::store::{AttemptRow, AttemptUpdate, now_ms};

/// Verifies a webhook from `ip`: the source allow-list, the signature's
/// size, the content type, then the provider's own check.
pub fn verify(
    state: &AppState,
    provider: &dyn PaymentProvider,
    ip: IpAddr,
    request: &WebhookRequest<'_>,
) -> Result<WebhookReport, ApiError> {
    let headers = request.headers;
    // Every webhook is verified, however many forgeries came from its
    // address before (a proxy's address carries the provider's genuine ones
    // too): verification is bounded instead. A signature header longer than
    // the limit is refused unread, and each verifier does one HMAC or RSA
    // check over at most 64 KiB. An address over the forgery limit gets 429
    // for what does not verify, as a signal; its genuine webhooks pass.
    let per_minute = state.config.limits.rejected_webhooks_per_ip_per_minute;
    let longest = state.config.limits.webhook_signature_bytes;
    let oversized =
        headers.iter().any(|(name, value)| name.as_str().contains("sign") && value.len() > longest);
    if oversized {
        state.webhook_rejections.allow(ip, now_ms(), per_minute);
        state.metrics.webhook_in(provider.name(), "rejected");
        return Err(ApiError::code(ErrorCode::WebhookSignature));
    }
    // The operator's allow-list of the provider's networks, when given.
    if let Some(sources) = state.config.webhook_sources.get(provider.name())
        && !sources.iter().any(|net| net.contains(&ip))
    {
        state.metrics.webhook_in(provider.name(), "source_not_allowed");
        if state.webhook_rejections.allow(ip, now_ms(), per_minute) {
            // Over the limit, counted but not logged: a flood from
            // anywhere must not fill the disk with warnings.
            tracing::warn!(provider = provider.name(), %ip, "webhook from an address not in webhook_sources");
        } else {
            state.metrics.rate_limited("rejected_webhooks_per_ip");
        }
        return Err(ApiError::code(ErrorCode::WebhookSource));
    }
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|media| {
            let media = media.trim().to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json")
        });
    if json == Some(false) {
        state.webhook_rejections.allow(ip, now_ms(), per_minute);
        state.metrics.webhook_in(provider.name(), "rejected");
        return Err(ApiError::code(ErrorCode::WebhookContentType));
    }
    match provider.verify_webhook(request, now_ms() / 1000) {
        Ok(report) => Ok(report),
        Err(e) => {
            if !state.webhook_rejections.allow(ip, now_ms(), per_minute) {
                // Over the limit: counted apart, not logged again.
                state.metrics.webhook_in(provider.name(), "throttled");
                state.metrics.rate_limited("rejected_webhooks_per_ip");
                return Err(ApiError::code(ErrorCode::RateLimited));
            }
            state.metrics.webhook_in(provider.name(), "rejected");
            tracing::warn!(provider = provider.name(), error = %e, "webhook rejected");
            let code = match e {
                WebhookError::Signature => ErrorCode::WebhookSignature,
                WebhookError::Stale => ErrorCode::WebhookStale,
                WebhookError::Malformed(_) => ErrorCode::WebhookMalformed,
            };
            Err(ApiError::code(code))
        }
    }
}

/// Applies a verified report to its attempt: settles it (asking the
/// provider first where the report alone is not enough), or explains why
/// not. `Ok` means the provider may be told the webhook was received.
pub async fn apply(
    state: &AppState,
    provider: &dyn PaymentProvider,
    report: WebhookReport,
) -> Result<(), ApiError> {
    let Some(attempt) = find_attempt(state, provider.name(), &report).await? else {
        // Possibly a webhook that overtook the answer carrying the
        // provider's id (not recorded yet): refuse it so the provider sends
        // it again, rather than acknowledge and drop an outcome.
        state.metrics.webhook_in(provider.name(), "unknown_payment");
        tracing::warn!(provider = provider.name(), provider_ref = ?report.provider_ref,
            attempt = ?report.attempt_id, "webhook for no known attempt; asked to retry");
        return Err(ApiError::code(ErrorCode::WebhookUnknownPayment));
    };
    if in_flight(state, &attempt) {
        // The provider's answer to our own call is still on its way (a
        // notification that overtook it). Settling now from an inquiry
        // would record the status without what only the answer carries (a
        // QR code, a 3DS page), and the answer would then change nothing:
        // the shopper would wait at a blank screen. Ask for it again.
        state.metrics.webhook_in(provider.name(), "in_flight");
        tracing::info!(provider = provider.name(), attempt = %attempt.id,
            "webhook overtook the provider's answer; asked to retry");
        return Err(ApiError::code(ErrorCode::WebhookUnknownPayment));
    }
    let amount = Idr::from_i64(attempt.amount).unwrap_or(Idr::ZERO);
    // Closed without being paid (cancelled, expired, failed): only a
    // success can still move it (to a late payment). Anything else the
    // provider says of money here is kept unacknowledged, below.
    let closed_unpaid = PaymentStatus::from_wire(&attempt.status)
        .is_some_and(|s| s.is_final() && s != PaymentStatus::Succeeded);
    if matches!(report.kind, WebhookKind::Pending) && !closed_unpaid {
        // The reconciler keeps asking about an open attempt.
        state.metrics.webhook_in(provider.name(), "pending");
        tracing::info!(provider = provider.name(), attempt = %attempt.id, "webhook reports no outcome yet");
        return Ok(());
    }
    if let Some(why) = report.echo.mismatch(&attempt.id, amount) {
        if closed_unpaid {
            // Money for a closed attempt, but not the amount or order it
            // was: neither a late payment Kasir could refund nor nothing.
            // Acknowledging would end the provider's retries with the money
            // only in a log line; refusing keeps it asking (and visible).
            state.metrics.provider_mismatch(provider.name());
            state.metrics.webhook_in(provider.name(), "mismatch_closed");
            tracing::error!(attempt = %attempt.id, provider = provider.name(), %why, status = %attempt.status,
                "webhook about money for a closed attempt does not match it; not acknowledged, check at the provider");
            return Err(ApiError::code(ErrorCode::WebhookUnknownPayment));
        }
        // Signed, but about another amount or order: nothing is confirmed or
        // settled; an open attempt becomes unknown, for review.
        state.metrics.provider_mismatch(provider.name());
        state.metrics.webhook_in(provider.name(), "mismatch");
        tracing::error!(attempt = %attempt.id, provider = provider.name(), %why,
            "webhook does not match the attempt; left unknown for review");
        let update = AttemptUpdate {
            reconcile_after: Some(now_ms() + ms(state.config.timings.reconcile_after)),
            ..AttemptUpdate::default()
        };
        settle(state, &attempt.id, PaymentStatus::Unknown, StatusSource::Webhook, &update, None).await?;
        return Ok(());
    }
    let r = AttemptRef { attempt_id: &attempt.id, provider_ref: attempt.provider_ref.as_deref(), amount };
    let timeout = state.config.timings.provider_timeout;
    let call = match report.kind {
        WebhookKind::Outcome(outcome) => Ok(outcome),
        // "No outcome yet" about an attempt Kasir closed (a Smart Glocal
        // session in `error` after a cancel it refused): nothing will ask
        // about a closed attempt again, so it is asked now. Cancelled at
        // the provider is acknowledged; still open, or not answerable, is
        // not, and the provider keeps telling until it is a late payment.
        WebhookKind::Pending | WebhookKind::Inquire => with_timeout(timeout, provider.inquire(r)).await,
        WebhookKind::ConfirmRequested => {
            if still_wanted(state, &attempt).await? {
                with_timeout(timeout, provider.confirm(r)).await
            } else {
                tracing::info!(attempt = %attempt.id, "provider asks to confirm an attempt no longer wanted; cancelling");
                with_timeout(timeout, provider.cancel(r)).await
            }
        }
    };
    let outcome = match call {
        Ok(outcome) => outcome,
        // Not settled: let the provider retry; the reconciler will ask too.
        Err(e) => {
            tracing::warn!(provider = provider.name(), attempt = %attempt.id, error = %e, "webhook follow-up call failed");
            return Err(ApiError::code(ErrorCode::ProviderUnavailable));
        }
    };
    let unsettled = matches!(outcome.status, PaymentStatus::Processing | PaymentStatus::Unknown)
        || outcome.echo.mismatch(&attempt.id, amount).is_some();
    if closed_unpaid && unsettled {
        // The provider says money is on its way for an attempt Kasir closed
        // (a Mandiri or Indomaret settlement inside its reversal hold, an
        // answer that does not match): not yet a late payment, and not
        // nothing. Not acknowledged, so the provider asks again once it
        // is settled, and the late payment is recorded then.
        state.metrics.webhook_in(provider.name(), "closed_not_settled");
        tracing::warn!(provider = provider.name(), attempt = %attempt.id, status = %attempt.status,
            reported = %outcome.status, "money reported for a closed attempt is not settled yet; asked to retry");
        return Err(ApiError::code(ErrorCode::WebhookUnknownPayment));
    }
    let before = attempt.status.clone();
    let after = settle_with(state, &attempt, Ok(outcome), Some(StatusSource::Webhook)).await?;
    let result = if after.status == before { "duplicate" } else { "applied" };
    state.metrics.webhook_in(provider.name(), result);
    tracing::info!(provider = provider.name(), attempt = %attempt.id, from = %before, to = %after.status, result, "webhook");
    Ok(())
}

/// Whether Kasir's call that starts the attempt may still be waiting for the
/// provider's answer: still `processing` with nothing recorded from the
/// provider (no id, nothing to show), and younger than the call's timeout.
/// An answer that leaves the attempt `processing` (Smart Glocal, whose 3DS
/// page comes by webhook) records the provider's id, so its webhooks pass;
/// a `processing` attempt older than the timeout was orphaned by a crash,
/// and the reconciler and later webhooks settle it.
fn in_flight(state: &AppState, attempt: &AttemptRow) -> bool {
    attempt.status == PaymentStatus::Processing.as_str()
        && attempt.provider_ref.is_none()
        && attempt.next_action.is_none()
        && now_ms() - attempt.created_at < ms(state.config.timings.provider_timeout) + 1_000
}

/// The attempt a webhook is about: by Kasir's own id when the provider
/// echoes it (and it belongs to this provider), else by the provider's id.
async fn find_attempt(
    state: &AppState,
    provider: &str,
    report: &WebhookReport,
) -> Result<Option<AttemptRow>, ApiError> {
    if let Some(id) = &report.attempt_id
        && let Some(attempt) = state.store.attempt(id).await?
        && attempt.provider == provider
    {
        return Ok(Some(attempt));
    }
    match &report.provider_ref {
        Some(reference) => Ok(state.store.attempt_by_provider_ref(provider, reference).await?),
        None => Ok(None),
    }
}

/// Whether the attempt may still be completed: not final, and its session
/// neither cancelled nor expired in the meantime.
async fn still_wanted(state: &AppState, attempt: &AttemptRow) -> Result<bool, ApiError> {
    let open_attempt = PaymentStatus::from_wire(&attempt.status).is_some_and(|s| !s.is_final());
    let session = state.store.session_by_id(&attempt.session_id).await?;
    let open_session = session.is_some_and(|s| {
        SessionStatus::from_wire(&s.status)
            .is_some_and(|s| matches!(s, SessionStatus::Processing | SessionStatus::RequiresAction))
    });
    Ok(open_attempt && open_session)
}

async fn with_timeout(
    timeout: std::time::Duration,
    call: impl Future<Output = Result<ProviderOutcome, ProviderError>>,
) -> Result<ProviderOutcome, ProviderError> {
    tokio::time::timeout(timeout, call).await.unwrap_or(Err(ProviderError::Timeout))
}
