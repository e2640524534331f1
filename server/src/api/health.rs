//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;

/// `/healthz`: the process answers. `/readyz`: the database answers too.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is up")))]
pub(crate) async fn healthz() -> Json<Value> {
    // No version here: it is public. `/metrics` (private) carries it.
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "The database answers"), (status = 503, description = "The database does not answer")))]
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable" })))
        }
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub(crate) async fn metrics(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !metrics_allowed(&state, peer.ip(), &headers) {
        // As if it were not there: nothing to learn for an outsider.
        return crate::error::ApiError::NotFound.into_response();
    }
    let mut text = state.metrics.render();
    text.push_str(&format!(
        "# HELP kasir_build_info The running version.\n# TYPE kasir_build_info gauge\nkasir_build_info{{version=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION")
    ));
    if let Some(group) = state.store.group_stats() {
        use std::sync::atomic::Ordering::Relaxed;
        text.push_str(&format!(
            "# HELP kasir_store_commits_total SQLite commits made by group commit.\n\
             # TYPE kasir_store_commits_total counter\nkasir_store_commits_total {}\n\
             # HELP kasir_store_writes_total Writes (jobs) those commits carried.\n\
             # TYPE kasir_store_writes_total counter\nkasir_store_writes_total {}\n\
             # HELP kasir_store_largest_commit The most writes one commit has carried.\n\
             # TYPE kasir_store_largest_commit gauge\nkasir_store_largest_commit {}\n",
            group.batches.load(Relaxed),
            group.jobs.load(Relaxed),
            group.largest.load(Relaxed),
        ));
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// With a token configured, only its bearer; without, only a loopback
/// client that came directly (issue 15: `/metrics` was public).
fn metrics_allowed(state: &AppState, peer: std::net::IpAddr, headers: &axum::http::HeaderMap) -> bool {
    match &state.config.metrics_token {
        Some(token) => headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                // Digests of equal length: the comparison reveals neither
                // the token's bytes nor its length.
                use sha2::Digest;
                let (given, token) = (
                    sha2::Sha256::digest(given.as_bytes()),
                    sha2::Sha256::digest(token.expose_secret().as_bytes()),
                );
                bool::from(subtle::ConstantTimeEq::ct_eq(given.as_slice(), token.as_slice()))
            }),
        // A proxied request (a proxy on this host, not listed in
        // trusted_proxies) is not a local one.
        None => {
            let proxied = headers.contains_key("x-forwarded-for") || headers.contains_key("forwarded");
            !proxied && crate::http::client_ip(peer, headers, &state.config.trusted_proxies).is_loopback()
        }
    }
}
