//! Inbound provider webhooks: `POST /webhooks/{provider}`. The handler
//! reads the request; `payments::inbound` verifies it and applies it.

use axum::Router;
use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit, OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kasir_shared::ErrorCode;

use crate::AppState;
use crate::error::ApiError;
use crate::payments::inbound;
use crate::providers::WebhookRequest;

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
        (status = 400, description = "`webhook.malformed`", body = kasir_shared::api::ErrorResponse),
        (status = 401, description = "`webhook.signature`, `webhook.stale`", body = kasir_shared::api::ErrorResponse),
        (status = 403, description = "`webhook.source_not_allowed`: the address is not in the provider's `webhook_sources`", body = kasir_shared::api::ErrorResponse),
        (status = 404, description = "`provider.unknown`", body = kasir_shared::api::ErrorResponse),
        (status = 413, description = "Body over 64 KiB"),
        (status = 415, description = "`webhook.content_type`: not JSON", body = kasir_shared::api::ErrorResponse),
        (status = 429, description = "`rate_limit.exceeded`: too many unverifiable webhooks from this address this minute", body = kasir_shared::api::ErrorResponse),
        (status = 502, description = "`provider.unavailable`: the follow-up call to the provider (status inquiry, confirm) failed; the provider retries", body = kasir_shared::api::ErrorResponse),
        (status = 503, description = "`webhook.unknown_payment`: a payment Kasir has not recorded yet; `service.unavailable`: Kasir could not record it. Either way the provider retries", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn receive(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let provider = state.providers.get(&name).cloned().ok_or(ApiError::code(ErrorCode::ProviderUnknown))?;
    let ip = crate::http::client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let request = WebhookRequest { path_and_query, headers: &headers, body: &body };
    let report = inbound::verify(&state, provider.as_ref(), ip, &request)?;
    match inbound::apply(&state, provider.as_ref(), report).await {
        Ok(()) => Ok((StatusCode::OK, provider.webhook_ack()).into_response()),
        // Not recorded: ask for it again. Providers retry a 503 more than a
        // 500 (Midtrans: four times against once).
        Err(ApiError::Store(e)) => {
            tracing::error!(provider = %name, error = %e, "webhook not recorded; answering 503 so it is sent again");
            Err(ApiError::code(ErrorCode::ServiceUnavailable))
        }
        Err(e) => Err(e),
    }
}
