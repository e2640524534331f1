//! `/embed.js`, the storefront loader, and `/demo`, a demo storefront for a
//! test-mode merchant (on only when `demo_merchant` is set, as `cargo xtask
//! serve` does with no merchant configured). The demo plays the merchant's
//! backend: it creates sessions through the same handler as the merchant
//! API, then embeds the checkout or redirects to it.

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Merchant;
use crate::extract::AppJson;

const EMBED_JS: &str = include_str!("../../static/embed.js");
const DEMO_JS: &str = include_str!("../../static/demo.js");

/// `/embed.js`, `/demo`, `/demo.js`, `/demo/checkout`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/embed.js", get(embed_js))
        .route("/demo", get(demo))
        .route("/demo.js", get(demo_js))
        .route("/demo/checkout", post(demo_checkout))
}

fn script(body: &'static str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    // Not content-hashed: short-lived, so a fix reaches storefronts soon.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    (headers, body).into_response()
}

async fn embed_js() -> Response {
    script(EMBED_JS)
}

async fn demo_js() -> Response {
    script(DEMO_JS)
}

/// Creates a demo session through the merchant API's own handler, for a
/// client within its per-minute budget (`attempts_per_ip_per_minute`, shared
/// with payment attempts): anyone can reach the demo, so it is bounded.
async fn new_session(
    state: &AppState,
    peer: std::net::SocketAddr,
    headers: &HeaderMap,
) -> Result<(String, String), StatusCode> {
    let ip = crate::http::client_ip(peer.ip(), headers, &state.config.trusted_proxies);
    let per_minute = state.config.limits.attempts_per_ip_per_minute;
    if !state.ip_limiter.allow(ip, crate::store::now_ms(), per_minute) {
        state.metrics.rate_limited("demo_sessions_per_ip");
        return Err(StatusCode::TOO_MANY_REQUESTS);
    }
    let merchant = state
        .config
        .demo_merchant
        .as_deref()
        .and_then(|id| state.merchant(id))
        .filter(|m| m.is_test_mode())
        .cloned()
        .ok_or(StatusCode::NOT_FOUND)?;
    let request = serde_json::from_value(serde_json::json!({
        "amount": 150000, "reference": format!("DEMO-{}", crate::ids::random_token(8)),
        "description": "Kopi Gayo 250 g", "return_url": format!("{}/demo", state.config.public_url),
    }))
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let response =
        super::sessions::create(State(state.clone()), Merchant(merchant), HeaderMap::new(), AppJson(request))
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    let body =
        to_bytes(response.into_body(), 64 * 1024).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let session: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let text = |k: &str| session[k].as_str().map(str::to_owned).ok_or(StatusCode::INTERNAL_SERVER_ERROR);
    Ok((text("id")?, text("url")?))
}

#[derive(Debug, Deserialize)]
struct DemoQuery {
    #[serde(default)]
    mode: Option<String>,
}

fn page(body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Toko Demo Kasir</title><style>body{{font-family:system-ui,sans-serif;max-width:520px;margin:24px auto;padding:0 16px}}\
         .product{{border:1px solid #ddd;border-radius:8px;padding:16px}}button,a.button{{font-size:16px;padding:10px 14px;margin:4px 4px 4px 0}}</style></head>\
         <body><h1>Toko Demo Kasir</h1>{body}</body></html>"
    );
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'unsafe-inline'; frame-src 'self'; form-action 'self'; base-uri 'none'",
        ),
    );
    (headers, html).into_response()
}

async fn demo(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<DemoQuery>,
) -> Response {
    if state.config.demo_merchant.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let product = "<div class=\"product\"><h2>Kopi Gayo 250 g</h2><p>Rp150.000</p>\
        <a class=\"button\" href=\"/demo?mode=embed\" data-testid=\"demo-embed\">Bayar di halaman ini (embed)</a>\
        <form method=\"post\" action=\"/demo/checkout\"><button data-testid=\"demo-redirect\">Bayar di halaman Kasir (redirect)</button></form></div>";
    if query.mode.as_deref() != Some("embed") {
        return page(product);
    }
    match new_session(&state, peer, &headers).await {
        Ok((_, url)) => page(&format!(
            "<div class=\"product\"><h2>Kopi Gayo 250 g</h2></div>\
             <div data-kasir-checkout=\"{}\" data-testid=\"checkout\"></div>\
             <h3>Events</h3><ul id=\"events\" data-testid=\"events\"></ul>\
             <script src=\"/embed.js\"></script><script src=\"/demo.js\"></script>",
            url.replace('"', "&quot;")
        )),
        Err(status) => status.into_response(),
    }
}

async fn demo_checkout(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Response {
    match new_session(&state, peer, &headers).await {
        Ok((_, url)) => Redirect::to(&url).into_response(),
        Err(status) => status.into_response(),
    }
}
