//! The hosted payment page `/pay/{id}` and the widget's files under
//! `/assets/`, built by Trunk into `widget_dir` (default `dist/`).
//!
//! - `/pay/{id}` is Trunk's `index.html` with the session id in a `<meta>`
//!   tag. The client secret is not in the page: the session's `url` carries
//!   it in the fragment (`/pay/{id}#{client_secret}`), which the browser
//!   keeps to itself, so knowing a session id (it is in every webhook and
//!   the merchant's logs) gives nothing (issue 15). It is never cached, and carries a
//!   strict Content-Security-Policy: scripts only from Kasir's own origin
//!   plus the exact SHA-256 of each inline module script Trunk wrote (no
//!   `'unsafe-inline'`), frames only Kasir's own one-time 3DS pages, and
//!   `frame-ancestors` from the merchant's allowed origins (`'none'` when
//!   there are none).
//! - `/assets/*` are Trunk's content-hashed files: cached for a year
//!   (`immutable`), served precompressed (`.br`, `.gz` beside them) when the
//!   browser accepts it.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::AppState;

/// The widget's built files, read once at start-up.
#[derive(Debug, Clone, Default)]
pub struct Widget {
    /// `index.html`, when the widget has been built.
    index: Option<Arc<IndexPage>>,
    dir: PathBuf,
}

#[derive(Debug)]
struct IndexPage {
    html: String,
    /// `'sha256-…'` of each inline `<script>`.
    script_hashes: Vec<String>,
}

impl Widget {
    /// Reads `dir/index.html` if it is there.
    pub fn load(dir: &FsPath) -> Widget {
        let index = std::fs::read_to_string(dir.join("index.html")).ok().map(|html| {
            let script_hashes = inline_scripts(&html)
                .iter()
                .map(|s| {
                    format!(
                        "'sha256-{}'",
                        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s))
                    )
                })
                .collect();
            Arc::new(IndexPage { html, script_hashes })
        });
        if index.is_none() {
            tracing::warn!(dir = %dir.display(), "no built widget: /pay/{{id}} answers 503 (run cargo xtask serve)");
        }
        Widget { index, dir: dir.to_owned() }
    }
}

/// The bodies of inline `<script>` elements (those without `src`).
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let tag = &after[..open_end];
        let body_start = open_end + 1;
        let Some(close) = after[body_start..].find("</script>") else { break };
        if !tag.contains(" src=") {
            out.push(&after[body_start..body_start + close]);
        }
        rest = &after[body_start + close..];
    }
    out
}

/// `/pay/{id}` and `/assets/{*file}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/pay/{id}", get(pay_page)).route("/assets/{*file}", get(asset))
}

fn escape_attr(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

async fn pay_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(index) = state.widget.index.clone() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "The checkout page is not built on this server.")
            .into_response();
    };
    let session = match state.store.session_by_id(&id).await {
        Ok(Some(session)) => session,
        Ok(None) => return (StatusCode::NOT_FOUND, "No such checkout.").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the session for its page");
            return (StatusCode::SERVICE_UNAVAILABLE, "Try again in a moment.").into_response();
        }
    };
    let origins =
        state.merchant(&session.merchant_id).map(|m| m.allowed_origins.join(" ")).unwrap_or_default();
    let ancestors = if origins.is_empty() { "'none'".to_owned() } else { origins.clone() };
    let meta = format!(
        "<meta name=\"kasir-session\" content=\"{}\"><meta name=\"kasir-api\" content=\"{}\"><meta name=\"kasir-parent-origins\" content=\"{}\">",
        escape_attr(&session.id),
        escape_attr(&state.config.public_url),
        escape_attr(&origins),
    );
    let html = index.html.replacen("<head>", &format!("<head>{meta}"), 1);
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self'; img-src 'self' data: https:; \
         connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}",
        index.script_hashes.join(" "),
    );
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    // Origins are checked at start; should one still not fit a header, the
    // page goes out with the policy and no embedding, never without one.
    let value = HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static(
        "default-src 'none'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'",
    ));
    headers.insert(header::CONTENT_SECURITY_POLICY, value);
    (headers, html).into_response()
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("html") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn asset(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    // Trunk writes flat names; anything else is not ours to serve.
    let safe = !file.is_empty()
        && file.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !file.starts_with('.')
        && file != "index.html";
    if !safe {
        return StatusCode::NOT_FOUND.into_response();
    }
    let accepts = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let path = state.widget.dir.join(&file);
    let variants = [("br", "br"), ("gzip", "gz")];
    for (encoding, suffix) in variants {
        if accepts.split(',').any(|e| e.trim().split(';').next() == Some(encoding)) {
            let compressed = path.with_file_name(format!("{file}.{suffix}"));
            if let Ok(bytes) = tokio::fs::read(&compressed).await {
                return asset_response(&file, bytes, Some(encoding));
            }
        }
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => asset_response(&file, bytes, None),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn asset_response(file: &str, bytes: Vec<u8>, encoding: Option<&'static str>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(file)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    (headers, bytes).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_inline_scripts_only() {
        let html = "<head><script src=\"/a.js\"></script><script type=\"module\">import x;</script></head><script>b()</script>";
        assert_eq!(inline_scripts(html), vec!["import x;", "b()"]);
    }
}
