//! Widget API: authenticated with the session's `client_secret` (never a
//! merchant key), CORS-restricted to the merchants' allowed origins plus
//! Kasir's own.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, ORIGIN};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kasir_shared::ErrorCode;
use kasir_shared::api::{AttemptRequest, PaymentAttempt, Theme, WidgetMerchant, WidgetSession};
use kasir_shared::payment::{PaymentMethodKind, SessionStatus};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::payments::{attempt, parse};
use crate::store::{SessionRow, now_ms};

/// `/v1/widget/…`.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/widget/sessions/{id}", get(retrieve))
        .route("/v1/widget/sessions/{id}/attempts", post(create_attempt))
        .route("/v1/widget/sessions/{id}/events", get(events))
        .route("/v1/widget/3ds/{attempt_id}", get(three_ds))
        .layer(axum::middleware::from_fn_with_state(state.clone(), cors))
}

/// The origins allowed to call the widget API: every merchant's allow-list
/// and Kasir's own public origin.
fn origin_allowed(state: &AppState, origin: &str) -> bool {
    let own = state.config.public_url.trim_end_matches('/');
    origin == own
        || state.config.merchants.iter().any(|m| m.allowed_origins.iter().any(|o| o.as_str() == origin))
}

/// Whether `origin` may read this session's answers: Kasir's own origin,
/// or one of the session's own merchant's (issue 15: any merchant's
/// origin could read every session).
async fn origin_allowed_for(state: &AppState, origin: &str, session_id: &str) -> bool {
    let own = state.config.public_url.trim_end_matches('/');
    if origin == own {
        return true;
    }
    let merchant = state.store.session_by_id(session_id).await.ok().flatten().map(|s| s.merchant_id);
    merchant
        .and_then(|id| state.merchant(&id).map(|m| m.allowed_origins.iter().any(|o| o.as_str() == origin)))
        .unwrap_or(false)
}

/// CORS: answers preflights (for any configured origin: a preflight
/// carries no credential and reads nothing) and echoes the `Origin` on an
/// answer only when that origin belongs to the session's merchant;
/// anything else gets no CORS headers, so the browser refuses the response.
async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
    let session_id = request
        .uri()
        .path()
        .strip_prefix("/v1/widget/sessions/")
        .map(|rest| rest.split('/').next().unwrap_or_default().to_owned());
    let permitted = match (origin.as_deref(), &session_id) {
        (None, _) => false,
        (Some(o), _) if request.method() == Method::OPTIONS => origin_allowed(&state, o),
        (Some(o), Some(id)) => origin_allowed_for(&state, o, id).await,
        (Some(o), None) => origin_allowed(&state, o),
    };
    let allowed = origin.as_deref().filter(|_| permitted).and_then(|o| HeaderValue::from_str(o).ok());
    if request.method() == Method::OPTIONS {
        let mut res = StatusCode::NO_CONTENT.into_response();
        if let Some(origin) = allowed {
            let h = res.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type"),
            );
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
        res.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
        return res;
    }
    let mut res = next.run(request).await;
    if let Some(origin) = allowed {
        res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    res.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
    res
}

/// Loads the session and checks the presented client secret in constant time.
async fn authorize(state: &AppState, id: &str, presented: Option<&str>) -> Result<SessionRow, ApiError> {
    let presented = presented.filter(|p| !p.is_empty()).ok_or(ApiError::code(ErrorCode::AuthMissing))?;
    let session = state.store.session_by_id(id).await?;
    let expected = session.as_ref().map_or_else(String::new, |s| s.client_secret.clone());
    let same = Sha256::digest(expected.as_bytes()).ct_eq(&Sha256::digest(presented.as_bytes()));
    match session {
        Some(session) if bool::from(same) => Ok(session),
        // A wrong secret and a missing session look the same.
        _ => Err(ApiError::code(ErrorCode::AuthInvalid)),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// What the widget may see: no secrets; of the customer, only the last four
/// digits of the order's mobile number.
async fn widget_view(state: &AppState, session: SessionRow) -> Result<WidgetSession, ApiError> {
    let latest = state.store.latest_attempt(&session.id).await?;
    let customer: serde_json::Value = serde_json::from_str(&session.customer).unwrap_or_default();
    let methods = crate::payments::attempt::allowed_methods(&session);
    let required_fields = methods
        .iter()
        .filter_map(|m| {
            let provider = state.providers.for_method(*m)?;
            let missing: Vec<String> = provider
                .required_fields(*m)
                .iter()
                .filter(|f| customer[**f].as_str().is_none())
                .map(|f| (*f).to_owned())
                .collect();
            (!missing.is_empty()).then(|| (m.as_str().to_owned(), missing))
        })
        .collect();
    let installment_months = methods
        .contains(&PaymentMethodKind::Card)
        .then(|| state.providers.for_method(PaymentMethodKind::Card).map(|p| p.installment_months().to_vec()))
        .flatten()
        .unwrap_or_default();
    let merchant = state.merchant(&session.merchant_id).map_or_else(
        || WidgetMerchant { display_name: String::new(), theme: Theme::default() },
        |m| WidgetMerchant { display_name: m.display_name.clone(), theme: m.theme.clone() },
    );
    // The last four digits only: enough for the shopper to recognise it.
    let phone_hint = customer["phone"]
        .as_str()
        .and_then(|p| kasir_shared::customer::PhoneNumber::parse_mobile(p).ok())
        .map(|p| {
            let digits = p.significant();
            digits[digits.len().saturating_sub(4)..].to_owned()
        });
    let object = crate::payments::session_view(session, &state.config.public_url, latest.as_ref())?;
    Ok(WidgetSession {
        phone_hint,
        required_fields,
        installment_months,
        merchant,
        payment_methods: object.payment_methods,
        latest_attempt: object.latest_attempt,
        id: object.id,
        object: object.object,
        status: object.status,
        amount: object.amount,
        currency: object.currency,
        description: object.description,
        reference: object.reference,
        locale: object.locale,
        return_url: object.return_url,
        expires_at: object.expires_at,
    })
}

#[utoipa::path(get, path = "/v1/widget/sessions/{id}", tag = "widget", security(("client_secret" = [])),
    params(("id" = String, Path, description = "`cs_…`")),
    responses((status = 200, body = WidgetSession), (status = 401, description = "No or wrong client secret (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<WidgetSession>, ApiError> {
    let session = authorize(&state, &id, bearer(&headers)).await?;
    Ok(Json(widget_view(&state, session).await?))
}

/// Starts a payment attempt. Limits: attempts per client IP per minute,
/// different cards per client IP per hour, and attempts per session in all
/// (`429`); a session already paid, expired,
/// cancelled or with an attempt in flight refuses (`409 session.not_payable`).
#[utoipa::path(post, path = "/v1/widget/sessions/{id}/attempts", tag = "widget", security(("client_secret" = [])),
    params(("id" = String, Path, description = "`cs_…`")),
    request_body = kasir_shared::api::AttemptRequest,
    responses((status = 201, body = kasir_shared::api::PaymentAttempt),
        (status = 400, description = "`request.malformed`", body = kasir_shared::api::ErrorResponse), (status = 401, description = "No or wrong client secret (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse),
        (status = 409, description = "`session.not_payable`", body = kasir_shared::api::ErrorResponse),
        (status = 422, description = "A field is not acceptable (e.g. `card_number.luhn` at `card.number`)", body = kasir_shared::api::ErrorResponse),
        (status = 429, description = "`attempts.too_many`, `rate_limit.exceeded`, `cards.too_many` (too many different cards from one client IP this hour)", body = kasir_shared::api::ErrorResponse),
        (status = 502, description = "`provider.unavailable`", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn create_attempt(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Request,
) -> Result<Response, ApiError> {
    // The client secret is checked before the body is read: a client
    // without it cannot hold a connection open by trickling a body.
    let session = authorize(&state, &id, bearer(&headers)).await?;
    let AppJson(request) =
        <AppJson<AttemptRequest> as axum::extract::FromRequest<()>>::from_request(body, &()).await?;
    let limits = &state.config.limits;
    let ip = crate::http::client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    if !state.ip_limiter.allow(ip, now_ms(), limits.attempts_per_ip_per_minute) {
        state.metrics.rate_limited("attempts_per_ip");
        return Err(ApiError::code(ErrorCode::RateLimited));
    }
    if state.store.attempt_count(&session.id).await? >= i64::from(limits.attempts_per_session) {
        state.metrics.rate_limited("attempts_per_session");
        return Err(ApiError::code(ErrorCode::AttemptsTooMany));
    }
    let allowed: Vec<String> = serde_json::from_str(&session.payment_methods).unwrap_or_default();
    let on_file: serde_json::Value = serde_json::from_str(&session.customer).unwrap_or_default();
    let parsed = parse::parse_request(request, &allowed, on_file["phone"].as_str())?;
    if let crate::providers::MethodDetails::Card(card) = &parsed.details
        && !state.card_limiter.allow(ip, card.number.expose_secret(), now_ms(), limits.cards_per_ip_per_hour)
    {
        state.metrics.rate_limited("cards_per_ip");
        return Err(ApiError::code(ErrorCode::CardsTooMany));
    }
    let locale = kasir_shared::Locale::from_tag(&session.locale).unwrap_or_default();
    let attempt = attempt::begin(&state, session, parsed).await?;
    let object: PaymentAttempt = crate::payments::attempt_in(&attempt, locale)?;
    Ok((StatusCode::CREATED, Json(object)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct SecretQuery {
    client_secret: Option<String>,
}

/// Server-Sent Events: the session's widget view now and on every change,
/// until a final status. EventSource cannot send headers, so the client
/// secret comes as a query parameter here (and only here).
#[utoipa::path(get, path = "/v1/widget/sessions/{id}/events", tag = "widget",
    params(("id" = String, Path, description = "`cs_…`"), ("client_secret" = String, Query, description = "EventSource cannot send headers")),
    responses((status = 200, description = "`text/event-stream` of `session` events, each the widget view (`WidgetSession`) as JSON; ends at a final status", content_type = "text/event-stream"), (status = 401, description = "No or wrong client secret (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse),
        (status = 429, description = "`rate_limit.exceeded`: too many open streams for this session, from this client or in all", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<SecretQuery>,
) -> Result<Response, ApiError> {
    let session = authorize(&state, &id, query.client_secret.as_deref()).await?;
    let limits = &state.config.limits;
    let client = crate::http::client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    let bounds = crate::limits::StreamLimits {
        per_session: limits.event_streams_per_session,
        per_client: limits.event_streams_per_ip,
        total: limits.event_streams_total,
    };
    let Some(slot) = state.event_streams.open(&id, client, bounds, &state.metrics) else {
        state.metrics.rate_limited("event_streams");
        return Err(ApiError::code(ErrorCode::RateLimited));
    };
    let mut changes = state.session_changes.subscribe(&id);
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(8);
    tokio::spawn(async move {
        // Held while the stream lives; dropped when the task ends.
        let _slot = slot;
        let mut current = Some(session);
        let mut last_sent = String::new();
        let recheck = state.config.timings.stream_recheck;
        // A stream is not for ever: after `event_stream_max` it ends and the
        // browser reconnects (its place counted again, its secret checked
        // again).
        let ends = tokio::time::Instant::now() + state.config.limits.event_stream_max;
        loop {
            if let Some(session) = current.take() {
                let done = SessionStatus::from_wire(&session.status).is_none_or(|s| {
                    s.is_final() || s == SessionStatus::Succeeded || s == SessionStatus::PartiallyRefunded
                });
                let Ok(view) = widget_view(&state, session).await else { return };
                let Ok(json) = serde_json::to_string(&view) else { return };
                if json != last_sent {
                    if tx.send(Event::default().event("session").data(json.clone())).await.is_err() {
                        return;
                    }
                    last_sent = json;
                }
                if done {
                    return;
                }
            }
            // Woken by a change in this process or (PostgreSQL) another
            // instance's notification, else every `stream_recheck`.
            // Ends when the server stops: the widget then falls back to
            // polling, or reconnects to another instance.
            let changed = tokio::select! {
                () = state.stopped() => return,
                () = tokio::time::sleep_until(ends) => return,
                changed = tokio::time::timeout(recheck, changes.changed()) => changed,
            };
            if matches!(changed, Ok(false)) || tx.is_closed() {
                return;
            }
            current = state.store.session_by_id(&id).await.ok().flatten();
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

/// The provider's 3DS HTML, once, to the holder of the session's client
/// secret (an iframe cannot send headers, so it comes in the query, as for
/// the event stream): the attempt's id is in merchant webhooks, and anyone
/// who learned it could otherwise take the one-time page before the
/// shopper. The CSP sandbox (no `allow-same-origin`) gives it an opaque
/// origin: it can post to the bank's ACS but can never read the widget's
/// DOM, storage or cookies.
#[utoipa::path(get, path = "/v1/widget/3ds/{attempt_id}", tag = "widget",
    params(("attempt_id" = String, Path, description = "`pa_…`"), ("client_secret" = String, Query, description = "The session's client secret (an iframe cannot send headers)")),
    responses((status = 200, description = "The provider's 3DS HTML, once, under `Content-Security-Policy: sandbox allow-forms allow-scripts`", content_type = "text/html"),
        (status = 401, description = "No or wrong client secret (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse),
        (status = 404, description = "Unknown or already served (`resource.not_found`)", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn three_ds(
    State(state): State<AppState>,
    Path(attempt_id): Path<String>,
    Query(query): Query<SecretQuery>,
) -> Result<Response, ApiError> {
    let attempt = state.store.attempt(&attempt_id).await?;
    // An unknown attempt answers like a wrong secret: nothing to learn.
    let session_id = attempt.as_ref().map_or("", |a| a.session_id.as_str());
    authorize(&state, session_id, query.client_secret.as_deref()).await?;
    let html = state.store.take_three_ds_html(&attempt_id).await?.ok_or(ApiError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, "sandbox allow-forms allow-scripts"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html,
    )
        .into_response())
}
