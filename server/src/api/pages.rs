//! The hosted payment page `/pay/{id}` and the widget's files under
//! `/assets/`, as `cargo xtask widget` built them into `dist/`: carried
//! inside the binary (`kasir-widget-files`), or read from `widget_dir`.
//!
//! - `/pay/{id}` is the built `index.html` with the session id in a `<meta>`
//!   tag, and its loading screen already showing the merchant, the amount
//!   and the order (description and reference). The client secret is not in the page: the session's `url` carries
//!   it in the fragment (`/pay/{id}#{client_secret}`), which the browser
//!   keeps to itself, so knowing a session id (it is in every webhook and
//!   the merchant's logs) gives nothing (issue 15). It is never cached, and carries a
//!   strict Content-Security-Policy: scripts only from Kasir's own origin
//!   plus the exact SHA-256 of the page's inline module loader (no
//!   `'unsafe-inline'`), frames only Kasir's own one-time 3DS pages, and
//!   `frame-ancestors` from the merchant's allowed origins (`'none'` when
//!   there are none).
//! - `/assets/*` are the content-hashed files: cached for a year
//!   (`immutable`), served precompressed (`.br`, `.gz` beside them) when the
//!   browser accepts it.

use std::borrow::Cow;
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

/// The widget's built files: those inside the binary, or a directory read
/// at start-up (`widget_dir`).
#[derive(Debug, Clone, Default)]
pub struct Widget {
    /// `index.html`, when the widget has been built.
    index: Option<Arc<IndexPage>>,
    files: Files,
}

/// Built files carried in the binary: name → bytes.
type Embedded = &'static [(&'static str, &'static [u8])];

#[derive(Debug, Clone)]
enum Files {
    /// Embedded at build time (`kasir-widget-files`, release builds).
    Embedded(Embedded),
    Dir(PathBuf),
}

impl Default for Files {
    fn default() -> Self {
        Files::Embedded(&[])
    }
}

fn embedded(files: Embedded, name: &str) -> Option<&'static [u8]> {
    files.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
}

#[derive(Debug)]
struct IndexPage {
    html: String,
    /// `'sha256-…'` of each inline `<script>`.
    script_hashes: Vec<String>,
    /// `'sha256-…'` of each inline `<style>` (the widget's style sheet).
    style_hashes: Vec<String>,
}

impl Widget {
    /// The widget from `dir`; with no `dir`, the one inside the binary, or
    /// `dist/` when the binary was built before the widget.
    pub fn load(dir: Option<&FsPath>) -> Widget {
        Widget::from(dir, kasir_widget_files::FILES)
    }

    fn from(dir: Option<&FsPath>, inside: Embedded) -> Widget {
        let files = match dir {
            Some(dir) => Files::Dir(dir.to_owned()),
            None if embedded(inside, "index.html").is_some() => Files::Embedded(inside),
            None => Files::Dir("dist".into()),
        };
        let html = match &files {
            Files::Embedded(inside) => {
                embedded(inside, "index.html").and_then(|b| String::from_utf8(b.to_vec()).ok())
            }
            Files::Dir(dir) => std::fs::read_to_string(dir.join("index.html")).ok(),
        };
        let index = html.map(|html| {
            let hash = |s: &&str| {
                format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s)))
            };
            let script_hashes = inline_elements(&html, "script").iter().map(hash).collect();
            let style_hashes = inline_elements(&html, "style").iter().map(hash).collect();
            Arc::new(IndexPage { html, script_hashes, style_hashes })
        });
        match (&index, &files) {
            (None, Files::Dir(dir)) => tracing::warn!(
                dir = %dir.display(),
                "no built widget: /pay/{{id}} answers 503 (cargo xtask widget builds it)"
            ),
            (None, Files::Embedded(_)) => tracing::warn!("the embedded widget has no index.html"),
            (Some(_), Files::Dir(dir)) => {
                tracing::info!(dir = %dir.display(), "serving the widget from disk")
            }
            (Some(_), Files::Embedded(_)) => tracing::debug!("serving the widget built into the binary"),
        }
        Widget { index, files }
    }

    /// The bytes of one built file.
    async fn read(&self, name: &str) -> Option<Cow<'static, [u8]>> {
        match &self.files {
            Files::Embedded(inside) => embedded(inside, name).map(Cow::Borrowed),
            Files::Dir(dir) => tokio::fs::read(dir.join(name)).await.ok().map(Cow::Owned),
        }
    }
}

/// The bodies of inline `<script>` or `<style>` elements (`element`; for
/// scripts, those without `src`).
fn inline_elements<'a>(html: &'a str, element: &str) -> Vec<&'a str> {
    let (open, end) = (format!("<{element}"), format!("</{element}>"));
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let tag = &after[..open_end];
        let body_start = open_end + 1;
        let Some(close) = after[body_start..].find(&end) else { break };
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
    // Something meaningful at once (issue 19): the loading screen already
    // says who is asking for how much, for what. Only what the merchant's
    // own webhooks carry beside this id; no customer data, nothing to pay
    // with, and no client secret (that stays in the URL's fragment).
    let merchant = state.merchant(&session.merchant_id).map_or("Pembayaran", |m| m.display_name.as_str());
    let amount =
        kasir_shared::money::Idr::from_i64(session.amount).map(|a| a.to_string()).unwrap_or_default();
    let order = match session.description.as_deref().filter(|d| !d.is_empty()) {
        Some(description) => format!("{description} \u{b7} {}", session.reference),
        None => session.reference.clone(),
    };
    let html = index
        .html
        .replacen("<head>", &format!("<head>{meta}"), 1)
        .replacen("<!-- kasir:merchant -->", &escape_attr(merchant), 1)
        .replacen("<!-- kasir:amount -->", &escape_attr(&amount), 1)
        .replacen("<!-- kasir:order -->", &escape_attr(&order), 1);
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self' {}; img-src 'self' data: https:; \
         connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}",
        index.script_hashes.join(" "),
        index.style_hashes.join(" "),
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
    // The build writes flat names; anything else is not ours to serve.
    let safe = !file.is_empty()
        && file.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !file.starts_with('.')
        && !file.starts_with("index.html");
    if !safe {
        return StatusCode::NOT_FOUND.into_response();
    }
    let accepts = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let variants = [("br", "br"), ("gzip", "gz")];
    for (encoding, suffix) in variants {
        if accepts.split(',').any(|e| e.trim().split(';').next() == Some(encoding))
            && let Some(bytes) = state.widget.read(&format!("{file}.{suffix}")).await
        {
            return asset_response(&file, bytes, Some(encoding));
        }
    }
    match state.widget.read(&file).await {
        Some(bytes) => asset_response(&file, bytes, None),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn asset_response(file: &str, bytes: Cow<'static, [u8]>, encoding: Option<&'static str>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(file)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    let body = match bytes {
        Cow::Borrowed(b) => axum::body::Body::from(b),
        Cow::Owned(b) => axum::body::Body::from(b),
    };
    (headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_embedded_widget_is_served_unless_a_directory_is_named() {
        static INSIDE: Embedded = &[
            ("index.html", b"<html><head><script type=\"module\">go()</script></head></html>"),
            ("kasir-frontend-1.js", b"js"),
            ("kasir-frontend-1.js.br", b"br"),
        ];
        let widget = Widget::from(None, INSIDE);
        let page = widget.index.as_ref().expect("the embedded page");
        assert!(page.html.contains("go()"));
        assert_eq!(page.script_hashes.len(), 1);
        assert_eq!(widget.read("kasir-frontend-1.js.br").await.as_deref(), Some(&b"br"[..]));
        assert!(widget.read("missing.js").await.is_none());
        // widget_dir wins over what is inside, even when it holds nothing.
        let dir = Widget::from(Some(FsPath::new("/nonexistent/kasir-dist")), INSIDE);
        assert!(dir.index.is_none());
        assert!(dir.read("kasir-frontend-1.js").await.is_none());
        // Nothing inside (a debug build): dist/ from disk.
        assert!(matches!(Widget::from(None, &[]).files, Files::Dir(ref d) if d == FsPath::new("dist")));
    }

    #[test]
    fn finds_inline_scripts_only() {
        let html = "<head><script src=\"/a.js\"></script><script type=\"module\">import x;</script></head><script>b()</script>";
        assert_eq!(inline_elements(html, "script"), vec!["import x;", "b()"]);
        let html = "<head><style>p{color:red}</style><link rel=\"stylesheet\" href=\"/s.css\"></head>";
        assert_eq!(inline_elements(html, "style"), vec!["p{color:red}"]);
    }
}
