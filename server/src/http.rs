//! Per-request plumbing: a request id (kept from `X-Request-Id` when it is
//! sane, else new) on a tracing span and on the response, the request
//! counter by route and status, and a time limit for everything except the
//! SSE stream.

use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kasir_shared::ErrorCode;
use tracing::Instrument;

use crate::AppState;
use crate::error::ApiError;
use crate::ids::random_token;

/// The request-id header.
pub const REQUEST_ID: &str = "x-request-id";

fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(|| format!("req_{}", random_token(20)), str::to_owned)
}

/// Headers every response carries unless its handler chose its own: no
/// MIME sniffing, no referrer (URLs hold session ids), nothing cached unless
/// the handler says so (API answers hold client secrets), and HSTS when
/// Kasir is reached over TLS.
fn harden(headers: &mut axum::http::HeaderMap, hsts: bool) {
    use axum::http::header;
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    if hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
}

/// The middleware.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let id = request_id(&request);
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let streaming = route.ends_with("/events") && route.starts_with("/v1/widget/");
    let span = tracing::info_span!("request", request_id = %id, method = %request.method(), route = %route);
    // Long enough for a provider call that times out, and its settling.
    let limit = state.config.timings.provider_timeout + Duration::from_secs(15);
    // Served over TLS (a terminating proxy in front): browsers must keep to it.
    let hsts = state.config.public_url.starts_with("https://");
    let response = async move {
        let mut response = if streaming {
            next.run(request).await
        } else {
            match tokio::time::timeout(limit, next.run(request)).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::error!("request timed out");
                    ApiError::Coded(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::ServiceUnavailable)
                        .into_response()
                }
            }
        };
        let status = response.status();
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), "request done");
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        harden(response.headers_mut(), hsts);
        response
    }
    .instrument(span)
    .await;
    state.metrics.request(&route, response.status().as_u16());
    response
}
