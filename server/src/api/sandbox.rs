//! The sandbox provider's shopper pages (3DS challenge, e-wallet approval)
//! and the test-mode helper that pays a session's waiting QR, VA or wallet.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use kasir_shared::ErrorCode;
use kasir_shared::money::Idr;
use kasir_shared::payment::PaymentStatus;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Merchant;
use crate::error::ApiError;
use kasir_shared::api::CheckoutSession;

/// `/sandbox/pay/{id}` and `/v1/test_helpers/…`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sandbox/pay/{id}", get(page).post(decide))
        .route("/v1/test_helpers/checkout_sessions/{id}/pay", post(pay))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The pages' policy: nothing loads but the page's own inline style, and
/// only Kasir's pages (and the merchant's storefronts that embed the
/// checkout) may frame it. (No `form-action`: the 3DS page runs in a
/// sandboxed frame, where `'self'` is not reliably the server's origin;
/// the form token is what stops a cross-site post.)
fn hardened(html: Html<String>, ancestors: &str) -> Response {
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'self' {ancestors}"
    );
    let value = axum::http::HeaderValue::from_str(&csp)
        .unwrap_or(axum::http::HeaderValue::from_static("default-src 'none'; frame-ancestors 'self'"));
    let mut response = html.into_response();
    response.headers_mut().insert(axum::http::header::CONTENT_SECURITY_POLICY, value);
    response
}

/// The storefront origins of the merchant whose session the payment is for.
async fn ancestors_of(state: &AppState, attempt_id: &str) -> String {
    let attempt = state.store.attempt(attempt_id).await.ok().flatten();
    attempt
        .and_then(|a| state.merchant(&a.merchant_id).map(|m| m.allowed_origins.join(" ")))
        .unwrap_or_default()
}

fn shell(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}\
         button{{font-size:1rem;padding:.75rem 1.25rem;margin:.25rem;border-radius:.5rem;border:1px solid #888}}\
         .ok{{background:#0a7d38;color:#fff}}</style></head><body>{body}</body></html>"
    ))
}

#[utoipa::path(get, path = "/sandbox/pay/{id}", tag = "sandbox",
    params(("id" = String, Path, description = "The sandbox payment id")),
    responses((status = 200, description = "The sandbox's 3DS challenge or wallet approval page", content_type = "text/html"),
        (status = 404, description = "`resource.not_found`", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let payment = state.sandbox.payment(&id).await?.ok_or(ApiError::NotFound)?;
    let amount = Idr::from_i64(payment.amount).map_or_else(String::new, |a| a.to_string());
    let (title, what) = if payment.method == "card" {
        ("Sandbox 3-D Secure", "Bank penerbit meminta konfirmasi / The issuer asks you to confirm")
    } else {
        ("Sandbox e-wallet", "Setujui pembayaran di dompet digital / Approve the payment in your wallet")
    };
    let ancestors = ancestors_of(&state, &payment.attempt_id).await;
    if payment.status != PaymentStatus::RequiresAction.as_str() {
        let body = format!("<h1>{title}</h1><p>Status: <b>{}</b></p>", escape(&payment.status));
        return Ok(hardened(shell(title, &body), &ancestors));
    }
    let token = state.sandbox.form_token(&payment.id);
    let body = format!(
        "<h1>{title}</h1><p>{what}</p><p>Jumlah / Amount: <b>{amount}</b></p>\
         <form method=\"post\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <button class=\"ok\" name=\"decision\" value=\"approve\">Setujui / Approve</button>\
         <button name=\"decision\" value=\"decline\">Tolak / Decline</button></form>\
         <p><small>Kasir sandbox: no real money moves.</small></p>"
    );
    Ok(hardened(shell(title, &body), &ancestors))
}

/// The sandbox page's form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Decision {
    /// The shopper's choice: `approve` (pay) or `decline`.
    #[schema(pattern = "^(approve|decline)$", example = "approve")]
    decision: String,
    /// The page's form token (a post without it is refused).
    #[serde(default)]
    token: String,
}

#[utoipa::path(post, path = "/sandbox/pay/{id}", tag = "sandbox",
    params(("id" = String, Path, description = "The sandbox payment id")),
    request_body(content = Decision, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Decided; the sandbox's signed webhook has reached Kasir", content_type = "text/html"),
        (status = 400, description = "Neither approve nor decline", content_type = "text/html"),
        (status = 403, description = "Not the page's own form (no or wrong token), or a live-mode payment", content_type = "text/html"),
        (status = 409, description = "Already decided", content_type = "text/html")))]
pub(crate) async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<Decision>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    // A body that is not the page's form gets the same answer as a wrong choice.
    let (decision, token) = form.map(|Form(f)| (f.decision, f.token)).unwrap_or_default();
    // Only the page's own form decides: a post from another site (which
    // cannot read the page) lacks its token.
    if !state.sandbox.form_token_matches(&id, &token) {
        let body = "<p>Formulir tidak sah / Not this page's form.</p>";
        return Ok((StatusCode::FORBIDDEN, shell("Sandbox", body)).into_response());
    }
    let to = match decision.as_str() {
        "approve" => PaymentStatus::Succeeded,
        "decline" => PaymentStatus::Failed,
        _ => {
            return Ok(
                (StatusCode::BAD_REQUEST, shell("Sandbox", "<p>approve or decline</p>")).into_response()
            );
        }
    };
    if payment_is_live(&state, &id).await? {
        tracing::error!(payment = %id, "sandbox page asked to decide a live-mode payment; refused");
        let body =
            "<p>Sandbox tidak menerima pembayaran sungguhan / The sandbox never takes live payments.</p>";
        return Ok((StatusCode::FORBIDDEN, shell("Sandbox", body)).into_response());
    }
    if !state.sandbox.complete(&id, to).await? {
        let body = "<p>Pembayaran ini sudah selesai / This payment is already complete.</p>";
        return Ok((StatusCode::CONFLICT, shell("Sandbox", body)).into_response());
    }
    let body = format!(
        "<h1>{}</h1><p>Kembali ke halaman pembayaran / Return to the checkout.</p>",
        if to == PaymentStatus::Succeeded { "Disetujui / Approved" } else { "Ditolak / Declined" }
    );
    Ok(shell("Sandbox", &body).into_response())
}

/// Test mode only: the shopper pays the session's waiting sandbox payment
/// (QR scanned, VA transferred, wallet approved, 3DS passed). Returns the
/// session after Kasir has processed the sandbox's webhook.
#[utoipa::path(post, path = "/v1/test_helpers/checkout_sessions/{id}/pay", tag = "sandbox", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`cs_…`")),
    responses((status = 200, description = "The session after the sandbox's webhook was processed", body = kasir_shared::api::CheckoutSession),
        (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse), (status = 403, description = "`test_mode.required`", body = kasir_shared::api::ErrorResponse), (status = 404, description = "No such object for this merchant (`resource.not_found`)", body = kasir_shared::api::ErrorResponse),
        (status = 409, description = "`test_helpers.nothing_to_pay`", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn pay(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<CheckoutSession>, ApiError> {
    if !merchant.is_test_mode() {
        return Err(ApiError::code(ErrorCode::TestModeOnly));
    }
    let session = state.store.session(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    if session.livemode {
        return Err(ApiError::code(ErrorCode::TestModeOnly));
    }
    let attempt = state.store.latest_attempt(&session.id).await?;
    let waiting =
        attempt.filter(|a| a.provider == "sandbox" && a.status == PaymentStatus::RequiresAction.as_str());
    let provider_ref = waiting
        .as_ref()
        .and_then(|a| a.provider_ref.clone())
        .ok_or(ApiError::code(ErrorCode::NothingToPay))?;
    state.sandbox.complete(&provider_ref, PaymentStatus::Succeeded).await?;
    let session = state.store.session(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    let latest = state.store.latest_attempt(&session.id).await?;
    Ok(Json(crate::payments::session_view(session, &state.config.public_url, latest.as_ref())?))
}

/// Whether the sandbox payment `id` belongs to a live-mode session (which
/// the sandbox must never complete). A payment of no known session is not.
async fn payment_is_live(state: &AppState, id: &str) -> Result<bool, ApiError> {
    let Some(payment) = state.sandbox.payment(id).await? else { return Ok(false) };
    let Some(attempt) = state.store.attempt(&payment.attempt_id).await? else { return Ok(false) };
    let session = state.store.session_by_id(&attempt.session_id).await?;
    Ok(session.is_some_and(|s| s.livemode))
}
