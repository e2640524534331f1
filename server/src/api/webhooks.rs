//! Inbound provider webhooks: `POST /webhooks/{provider}`. The signature is
//! verified on the raw bytes before anything is parsed; the transition is
//! idempotent, so a duplicate or late webhook changes nothing and emits
//! nothing. An authentic webhook that does not match its attempt (unknown
//! payment, other amount) is logged and acknowledged without any change.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kasir_shared::ErrorCode;
use kasir_shared::money::Idr;
use kasir_shared::payment::StatusSource;

use crate::AppState;
use crate::error::ApiError;
use crate::payments::attempt::settle_with;
use crate::providers::{AttemptRef, ProviderOutcome, WebhookError};
use crate::store::now_ms;

/// Webhook bodies larger than this are refused unread.
const MAX_BODY: usize = 64 * 1024;

/// `/webhooks/{provider}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/{provider}", post(receive)).layer(DefaultBodyLimit::max(MAX_BODY))
}

#[utoipa::path(post, path = "/webhooks/{provider}", tag = "provider_webhooks",
    params(("provider" = String, Path, description = "e.g. `sandbox`")),
    request_body(content = String, description = "The provider's raw body; verified before it is parsed", content_type = "application/json"),
    responses((status = 200, description = "Accepted (applied, duplicate, or authentic but ignored); body is the provider's expected acknowledgement", content_type = "text/plain"),
        (status = 400, description = "`webhook.malformed`", body = crate::openapi::ErrorBody),
        (status = 401, description = "`webhook.signature`, `webhook.stale`", body = crate::openapi::ErrorBody),
        (status = 404, description = "`provider.unknown`", body = crate::openapi::ErrorBody),
        (status = 413, description = "Body over 64 KiB")))]
pub(crate) async fn receive(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let provider = state
        .providers
        .get(&name)
        .cloned()
        .ok_or(ApiError::Coded(StatusCode::NOT_FOUND, ErrorCode::ProviderUnknown))?;
    let report = match provider.verify_webhook(&headers, &body, now_ms() / 1000) {
        Ok(report) => report,
        Err(e) => {
            state.metrics.webhook_in(provider.name(), "rejected");
            tracing::warn!(provider = provider.name(), error = %e, "webhook rejected");
            let code = match e {
                WebhookError::Signature => ErrorCode::WebhookSignature,
                WebhookError::Stale => ErrorCode::WebhookStale,
                WebhookError::Malformed(_) => ErrorCode::WebhookMalformed,
            };
            let status = if code == ErrorCode::WebhookMalformed {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNAUTHORIZED
            };
            return Err(ApiError::Coded(status, code));
        }
    };
    let ack = provider.webhook_ack();
    let Some(attempt) = state.store.attempt_by_provider_ref(provider.name(), &report.provider_ref).await?
    else {
        state.metrics.webhook_in(provider.name(), "unknown_payment");
        tracing::warn!(provider = provider.name(), provider_ref = %report.provider_ref, "webhook for no known attempt");
        return Ok((StatusCode::OK, ack).into_response());
    };
    if report.amount.is_some_and(|a| Some(a) != Idr::from_i64(attempt.amount)) {
        state.metrics.webhook_in(provider.name(), "amount_mismatch");
        tracing::error!(attempt = %attempt.id, "webhook amount does not match the attempt; ignored");
        return Ok((StatusCode::OK, ack).into_response());
    }
    let outcome = if report.confirm_with_inquiry {
        let amount = Idr::from_i64(attempt.amount).unwrap_or(Idr::ZERO);
        let r = AttemptRef { attempt_id: &attempt.id, provider_ref: attempt.provider_ref.as_deref(), amount };
        match tokio::time::timeout(state.config.timings.provider_timeout, provider.inquire(r)).await {
            Ok(Ok(outcome)) => outcome,
            // Not confirmed: let the provider retry, the reconciler will ask too.
            _ => {
                return Err(ApiError::Coded(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::ProviderUnavailable));
            }
        }
    } else {
        ProviderOutcome {
            provider_ref: Some(report.provider_ref.clone()),
            status: report.status,
            action: None,
            failure_code: None,
        }
    };
    let before = attempt.status.clone();
    let after = settle_with(&state, &attempt.id, Ok(outcome), Some(StatusSource::Webhook)).await?;
    let result = if after.status == before { "duplicate" } else { "applied" };
    state.metrics.webhook_in(provider.name(), result);
    tracing::info!(provider = provider.name(), attempt = %attempt.id, from = %before, to = %after.status, result, "webhook");
    Ok((StatusCode::OK, ack).into_response())
}
