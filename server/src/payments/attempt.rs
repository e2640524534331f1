//! Payment attempts: parsing the shopper's choice with `kasir-shared`,
//! writing the attempt before the provider call, calling the routed provider
//! with a timeout, and settling its answer through the state machine.

use std::sync::Arc;

use kasir_shared::api::AttemptRequest;
use kasir_shared::card::{CardNumber, Cvv, Expiry};
use kasir_shared::customer::{BillingAddress, Email, FullName, Nik, PhoneNumber};
use kasir_shared::money::Idr;
use kasir_shared::payment::{PaymentMethodKind, PaymentStatus, SessionStatus, StatusSource};
use kasir_shared::{ErrorCode, ValidationError};
use serde::Serialize;

use crate::AppState;
use crate::error::ApiError;
use crate::ids::new_id;
use crate::payments::object::snapshot_fn;
use crate::providers::{
    AttemptRef, CardDetails, Customer, MethodDetails, PaymentProvider, PaymentRequest, ProviderAction,
    ProviderError, ProviderOutcome, ProviderRefSlot,
};
use crate::store::{AttemptRow, AttemptSettle, AttemptStart, AttemptUpdate, SessionRow, StoreError, now_ms};

/// The widget-facing next action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NextAction {
    /// Show `url` (Kasir's one-time sandboxed 3DS page) in an iframe.
    ThreeDs {
        /// The one-time URL.
        url: String,
    },
    /// Show a QRIS code.
    ShowQr {
        /// The EMVCo payload, validated by `kasir-shared`.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        qr_payload: Option<String>,
        /// An image of the code, when the provider gives one instead.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        image_url: Option<String>,
        /// Unix seconds.
        expires_at: i64,
    },
    /// Transfer to a virtual account.
    ShowVirtualAccount {
        /// Bank code.
        bank: String,
        /// Account number.
        number: String,
        /// Unix seconds.
        expires_at: i64,
    },
    /// Send the shopper to the provider (e-wallet approval).
    Redirect {
        /// Where.
        url: String,
    },
}

/// An attempt as the API shows it. No card data beyond brand and last four.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptObject {
    /// `pa_…`.
    pub id: String,
    /// Always `payment_attempt`.
    #[schema(value_type = String)]
    pub object: &'static str,
    /// Attempt status.
    pub status: String,
    /// Method.
    pub method: String,
    /// Provider that handles it.
    pub provider: String,
    /// Whole rupiah.
    pub amount: i64,
    /// What the shopper must do next, when `requires_action`.
    pub next_action: Option<NextAction>,
    /// Why it failed, when `failed`.
    pub failure_code: Option<String>,
    /// `{brand, last4}` for cards.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub card: Option<serde_json::Value>,
    /// Unix seconds.
    pub created_at: i64,
    /// `true` once Kasir could not learn the outcome from the provider and
    /// asked the merchant to check (`checkout_session.requires_review`).
    pub requires_review: bool,
    /// How the merchant settled it: `{outcome, by, at, note}`.
    #[schema(value_type = Option<Object>)]
    pub resolution: Option<serde_json::Value>,
}

impl AttemptObject {
    /// The API object for a stored attempt.
    pub fn from_row(row: &AttemptRow) -> AttemptObject {
        let card = row
            .card_last4
            .as_ref()
            .map(|last4| serde_json::json!({ "brand": row.card_brand, "last4": last4 }));
        AttemptObject {
            id: row.id.clone(),
            object: "payment_attempt",
            status: row.status.clone(),
            method: row.method.clone(),
            provider: row.provider.clone(),
            amount: row.amount,
            next_action: row.next_action.as_deref().and_then(|j| serde_json::from_str(j).ok()),
            failure_code: row.failure_code.clone(),
            card,
            created_at: row.created_at / 1000,
            requires_review: row.review_requested_at.is_some() && row.resolution.is_none(),
            resolution: row.resolution.as_deref().and_then(|j| serde_json::from_str(j).ok()),
        }
    }
}

/// Today's year and month in Jakarta (UTC+7), for card expiry checks.
fn jakarta_year_month() -> (u16, u8) {
    let (year, month, _) = crate::providers::clock::jakarta_date(now_ms() / 1000);
    (u16::try_from(year).unwrap_or(u16::MAX), u8::try_from(month).unwrap_or(1))
}

/// The shopper's choice, parsed, with the contact details they typed.
#[derive(Debug)]
pub struct ParsedAttempt {
    /// The method and its details.
    pub details: MethodDetails,
    /// Email and phone typed in the widget (override the session's).
    pub contact: Customer,
}

/// Parses the shopper's choice with the same `kasir-shared` parsers the
/// widget runs, each rejection naming its field.
pub fn parse_request(request: AttemptRequest, allowed: &[String]) -> Result<ParsedAttempt, ApiError> {
    let mut contact = Customer::default();
    let details = match request {
        AttemptRequest::Card { card, nik, installment_months, billing, email, phone } => {
            let number = CardNumber::parse(card.number.expose_secret()).map_err(|e| e.at("card.number"))?;
            let (year, month) = jakarta_year_month();
            let expiry = Expiry::parse_at(card.expiry.expose_secret(), year, month)
                .map_err(|e| e.at("card.expiry"))?;
            let cvv = Cvv::parse(card.cvv.expose_secret(), number.brand()).map_err(|e| e.at("card.cvv"))?;
            let holder_name = FullName::parse(&card.holder_name).map_err(|e| e.at("card.holder_name"))?;
            let nik = nik.as_deref().map(Nik::parse).transpose().map_err(|e| e.at("nik"))?;
            if installment_months.is_some_and(|m| ![3, 6, 12].contains(&m)) {
                return Err(ValidationError::new(ErrorCode::InstallmentUnsupported).into());
            }
            let billing = billing.as_deref().map(BillingAddress::parse).transpose()?;
            contact.email = email.as_deref().map(Email::parse).transpose().map_err(|e| e.at("email"))?;
            contact.phone =
                phone.as_deref().map(PhoneNumber::parse_mobile).transpose().map_err(|e| e.at("phone"))?;
            MethodDetails::Card(Box::new(CardDetails {
                number,
                expiry,
                cvv,
                holder_name,
                nik,
                installment_months,
                billing,
            }))
        }
        AttemptRequest::Qris => MethodDetails::Qris,
        AttemptRequest::VirtualAccount { bank } => MethodDetails::VirtualAccount(bank),
        AttemptRequest::Ewallet { wallet, phone } => {
            let phone = match phone.as_deref() {
                Some(p) => Some(PhoneNumber::parse_mobile(p).map_err(|e| e.at("phone"))?),
                None if wallet.needs_phone() => {
                    return Err(ValidationError::new(ErrorCode::PhoneEmpty).at("phone").into());
                }
                None => None,
            };
            MethodDetails::Ewallet { wallet, phone }
        }
    };
    if !allowed.iter().any(|m| m == details.kind().as_str()) {
        return Err(ValidationError::new(ErrorCode::PaymentMethodNotAllowed).at("method").into());
    }
    Ok(ParsedAttempt { details, contact })
}

/// Converts a provider's next action into the widget's, storing 3DS HTML
/// for the one-time URL. QR payloads are validated before they are shown.
fn widget_action(
    state: &AppState,
    attempt: &AttemptRow,
    action: Option<ProviderAction>,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let attempt_id = attempt.id.as_str();
    let Some(action) = action else { return Ok((None, None)) };
    let (next, html) = match action {
        ProviderAction::ThreeDsHtml(html) => (
            NextAction::ThreeDs { url: format!("{}/v1/widget/3ds/{attempt_id}", state.config.public_url) },
            Some(html),
        ),
        ProviderAction::ShowQr { payload, image_url, expires_at_ms } => {
            if let Some(p) = &payload {
                kasir_shared::qris::QrisPayload::parse(p).map_err(|e| {
                    tracing::error!(attempt = %attempt_id, code = e.code(), "provider sent an invalid QRIS payload");
                    ApiError::Coded(axum::http::StatusCode::BAD_GATEWAY, ErrorCode::ProviderUnavailable)
                })?;
            }
            (NextAction::ShowQr { qr_payload: payload, image_url, expires_at: expires_at_ms / 1000 }, None)
        }
        ProviderAction::ShowVirtualAccount { bank, number, expires_at_ms } => (
            NextAction::ShowVirtualAccount {
                bank: bank.as_str().to_owned(),
                number,
                expires_at: expires_at_ms / 1000,
            },
            None,
        ),
        ProviderAction::Redirect { url } => (NextAction::Redirect { url }, None),
    };
    let json = serde_json::to_string(&next).map_err(|e| ApiError::Store(e.into()))?;
    Ok((Some(json), html))
}

/// The provider's answer (or its absence) as a status and a source.
fn outcome_status(result: &Result<ProviderOutcome, ProviderError>) -> (PaymentStatus, StatusSource) {
    match result {
        Ok(outcome) => (outcome.status, StatusSource::ProviderResponse),
        Err(ProviderError::Timeout | ProviderError::Unavailable(_) | ProviderError::NotFound) => {
            (PaymentStatus::Unknown, StatusSource::Timeout)
        }
        Err(ProviderError::Refused { .. }) => (PaymentStatus::Failed, StatusSource::ProviderResponse),
    }
}

/// An attempt ready to start: routed to its provider and checked against
/// what that provider needs, with nothing written yet.
#[derive(Debug)]
pub struct Plan {
    attempt_id: String,
    provider: Arc<dyn PaymentProvider>,
    details: MethodDetails,
    customer: Customer,
}

/// The session's customer, completed by what the shopper typed.
fn customer_of(session: &SessionRow, contact: Customer) -> Customer {
    let stored: serde_json::Value = serde_json::from_str(&session.customer).unwrap_or_default();
    let text = |k: &str| stored[k].as_str().map(str::to_owned);
    Customer {
        name: text("name").and_then(|n| FullName::parse(&n).ok()),
        email: contact.email.or_else(|| text("email").and_then(|e| Email::parse(&e).ok())),
        phone: contact.phone.or_else(|| text("phone").and_then(|p| PhoneNumber::parse(&p).ok())),
    }
}

fn payment_request<'a>(
    state: &'a AppState,
    session: &'a SessionRow,
    plan: &'a Plan,
    provider_ref: &'a ProviderRefSlot,
) -> PaymentRequest<'a> {
    PaymentRequest {
        attempt_id: &plan.attempt_id,
        session_id: &session.id,
        reference: &session.reference,
        amount: Idr::from_i64(session.amount).unwrap_or(Idr::ZERO),
        merchant_name: state.merchant(&session.merchant_id).map_or("Kasir", |m| m.display_name.as_str()),
        method: &plan.details,
        customer: &plan.customer,
        description: session.description.as_deref(),
        expires_at_ms: session.expires_at,
        return_url: format!("{}/pay/{}", state.config.public_url, session.id),
        provider_ref,
        livemode: session.livemode,
    }
}

/// Routes the parsed attempt and lets the provider check it (amount range,
/// required fields) before anything is written or voided.
pub fn plan(state: &AppState, session: &SessionRow, parsed: ParsedAttempt) -> Result<Plan, ApiError> {
    let provider = state.providers.for_method(parsed.details.kind()).cloned().ok_or(ApiError::Coded(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::PaymentMethodUnavailable,
    ))?;
    if session.livemode && provider.name() == "sandbox" {
        // Refused at start already; a second line should configuration change.
        tracing::error!(session = %session.id, "live session routed to the sandbox; refused");
        return Err(ApiError::Coded(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::LiveModeSandbox,
        ));
    }
    let plan = Plan {
        attempt_id: new_id("pa"),
        provider,
        details: parsed.details,
        customer: customer_of(session, parsed.contact),
    };
    if let MethodDetails::Card(card) = &plan.details
        && card.installment_months.is_some_and(|m| !plan.provider.installment_months().contains(&m))
    {
        return Err(ValidationError::new(ErrorCode::InstallmentUnsupported).into());
    }
    plan.provider.check_request(&payment_request(state, session, &plan, &ProviderRefSlot::default()))?;
    Ok(plan)
}

/// Starts the planned attempt on `session` (read in a status that accepts
/// attempts) and returns it after the provider's first answer.
pub async fn start(state: &AppState, session: &SessionRow, plan: Plan) -> Result<AttemptRow, ApiError> {
    let kind = plan.details.kind();
    let provider = plan.provider.clone();
    if Idr::from_i64(session.amount).is_none() {
        return Err(ApiError::Store(StoreError::Corrupt(format!("amount of {}", session.id))));
    }
    let now = now_ms();
    let timings = &state.config.timings;
    let reconcile_after = now + ms(timings.provider_timeout) + ms(timings.reconcile_after);
    let (card_brand, card_bin, card_last4) = match &plan.details {
        MethodDetails::Card(c) => (
            Some(c.number.brand().as_str().to_owned()),
            Some(c.number.bin().to_owned()),
            Some(c.number.last4().to_owned()),
        ),
        _ => (None, None, None),
    };
    let detail = match &plan.details {
        MethodDetails::VirtualAccount(bank) => Some(serde_json::json!({ "bank": bank.as_str() }).to_string()),
        MethodDetails::Ewallet { wallet, .. } => {
            Some(serde_json::json!({ "wallet": wallet.as_str() }).to_string())
        }
        MethodDetails::Card(_) | MethodDetails::Qris => None,
    };
    let attempt = AttemptRow {
        id: plan.attempt_id.clone(),
        session_id: session.id.clone(),
        merchant_id: session.merchant_id.clone(),
        provider: provider.name().to_owned(),
        method: kind.as_str().to_owned(),
        status: PaymentStatus::Processing.as_str().to_owned(),
        amount: session.amount,
        provider_ref: None,
        next_action: None,
        failure_code: None,
        card_brand,
        card_bin,
        card_last4,
        detail,
        created_at: now,
        updated_at: now,
        reconcile_after: Some(reconcile_after),
        review_requested_at: None,
        resolution: None,
    };
    let snapshot = snapshot_fn(state.config.public_url.clone());
    match state.store.start_attempt(&attempt, session, &snapshot).await? {
        AttemptStart::Started(_) => state.notify_session(&session.id),
        AttemptStart::SessionChanged => return Err(ApiError::Conflict(ErrorCode::SessionNotPayable)),
    }
    let started = std::time::Instant::now();
    let slot = ProviderRefSlot::default();
    let result = {
        let request = payment_request(state, session, &plan, &slot);
        match tokio::time::timeout(timings.provider_timeout, provider.create_payment(&request)).await {
            Ok(result) => result,
            Err(_) => Err(ProviderError::Timeout),
        }
    };
    // The card data goes now, before anything else can hold on to it.
    drop(plan);
    state.metrics.provider_call(provider.name(), "create", started.elapsed(), result.is_ok());
    if let Err(e) = &result {
        tracing::warn!(attempt = %attempt.id, provider = provider.name(), error = %e, "provider call failed");
    }
    // No answer, but the provider had already given its id: keep it, so the
    // reconciler can ask about this very payment.
    let (result, source) = match (result, slot.take()) {
        (Err(ProviderError::Timeout | ProviderError::Unavailable(_)), Some(provider_ref)) => {
            let unknown = ProviderOutcome {
                provider_ref: Some(provider_ref),
                status: PaymentStatus::Unknown,
                action: None,
                failure_code: None,
                echo: crate::providers::Echo::default(),
            };
            (Ok(unknown), Some(StatusSource::Timeout))
        }
        (result, _) => (result, None),
    };
    let settled = settle_with(state, &attempt, result, source).await?;
    state.metrics.attempt(provider.name(), &settled.status);
    Ok(settled)
}

/// Settles `attempt_id` with a provider answer (creation, inquiry,
/// cancellation); `inquiry` marks the source as the provider's word.
pub async fn settle_with(
    state: &AppState,
    attempt: &AttemptRow,
    result: Result<ProviderOutcome, ProviderError>,
    source_override: Option<StatusSource>,
) -> Result<AttemptRow, ApiError> {
    // Only the attempt's fixed fields (id, amount, provider) are read here:
    // the caller's row, however old its status, serves.
    let attempt_id = attempt.id.as_str();
    let result = result.map(|outcome| checked(state, attempt, outcome));
    let (status, source) = outcome_status(&result);
    let source = source_override.unwrap_or(source);
    let mut update = AttemptUpdate {
        reconcile_after: Some(now_ms() + ms(state.config.timings.reconcile_after)),
        ..AttemptUpdate::default()
    };
    match result {
        Ok(outcome) => {
            let (next_action, html) = widget_action(state, attempt, outcome.action)?;
            if let Some(html) = html {
                state.store.put_three_ds_html(attempt_id, &html).await?;
            }
            update.provider_ref = outcome.provider_ref;
            update.next_action = next_action;
            update.failure_code = outcome.failure_code;
            if status == PaymentStatus::RequiresAction {
                update.reconcile_after = Some(now_ms() + waiting_delay_ms(state, Some(&attempt.provider)));
            }
        }
        Err(ProviderError::Refused { code }) => update.failure_code = Some(code),
        Err(_) => {}
    }
    settle(state, attempt_id, status, source, &update, None).await
}

/// The provider's answer if what it echoes (amount, currency, our order
/// number, the amount inside a QR code) is the attempt's; else an `unknown`
/// outcome, logged and counted: an answer about another payment or amount
/// never settles this one (issue 14). The reconciler keeps asking and the
/// merchant is asked to review it after `review_after`.
fn checked(state: &AppState, attempt: &AttemptRow, outcome: ProviderOutcome) -> ProviderOutcome {
    let amount = Idr::from_i64(attempt.amount).unwrap_or(Idr::ZERO);
    let qr_amount = match &outcome.action {
        Some(ProviderAction::ShowQr { payload: Some(p), .. }) => {
            kasir_shared::qris::QrisPayload::parse(p).ok().and_then(|qr| qr.amount())
        }
        _ => None,
    };
    let why = outcome.echo.mismatch(&attempt.id, amount).or_else(|| {
        qr_amount
            .filter(|a| *a != amount)
            .map(|a| format!("QR code for {} where the attempt is {}", a.rupiah(), amount.rupiah()))
    });
    let Some(why) = why else { return outcome };
    state.metrics.provider_mismatch(&attempt.provider);
    tracing::error!(attempt = %attempt.id, provider = %attempt.provider, reported = %outcome.status, %why,
        "provider answer does not match the attempt; left unknown for review");
    let other_order = outcome.echo.order.as_deref().is_some_and(|o| o != attempt.id);
    ProviderOutcome {
        // An answer about another order says nothing of this payment's id.
        provider_ref: if other_order { None } else { outcome.provider_ref },
        status: PaymentStatus::Unknown,
        action: None,
        failure_code: None,
        echo: outcome.echo,
    }
}

/// When to ask again about an attempt waiting for the shopper: soon and
/// often for providers that send no webhook for it (SingaPay's 3DS), else
/// when a QR/VA would have expired or after the reconcile delay.
pub fn waiting_delay_ms(state: &AppState, provider: Option<&str>) -> i64 {
    let poll = provider.and_then(|p| state.providers.get(p)).and_then(|p| p.poll_while_waiting());
    match poll {
        Some(every) => ms(every),
        None => ms(state.config.timings.reconcile_after).max(15 * 60_000),
    }
}

/// Moves the attempt (and its session) and tells SSE listeners.
pub async fn settle(
    state: &AppState,
    attempt_id: &str,
    status: PaymentStatus,
    source: StatusSource,
    update: &AttemptUpdate,
    session_to: Option<SessionStatus>,
) -> Result<AttemptRow, ApiError> {
    let snapshot = snapshot_fn(state.config.public_url.clone());
    let settled = state
        .store
        .settle_attempt(attempt_id, status, source, update, session_to, &snapshot)
        .await?
        .ok_or(ApiError::NotFound)?;
    match settled {
        AttemptSettle::Changed { attempt, session, event } => {
            if let Some(event) = event {
                tracing::info!(attempt = %attempt.id, session = %session.id, event = %event.id,
                    kind = %event.event_type, "attempt settled");
                state.wake_delivery();
            }
            state.notify_session(&session.id);
            Ok(attempt)
        }
        AttemptSettle::Late { attempt, session, event } => {
            if let Some(event) = event {
                tracing::error!(attempt = %attempt.id, session = %session.id, event = %event.id,
                    "money arrived for a closed attempt: recorded as a late payment");
                state.metrics.late_payment(&attempt.provider);
                state.wake_delivery();
            }
            state.notify_session(&session.id);
            Ok(attempt)
        }
        AttemptSettle::Unchanged(attempt, _) => Ok(attempt),
        AttemptSettle::Refused(attempt, _, reason) => {
            tracing::warn!(attempt = %attempt.id, from = %attempt.status, to = %status, ?source, ?reason,
                "attempt transition refused");
            Ok(attempt)
        }
    }
}

/// Voids the session's attempt waiting for the shopper (a QR they walked
/// away from) before a new attempt, a cancellation or expiry, moving the
/// attempt to `to` and the session to `session_to` (default: `open`).
/// Returns the attempt afterwards: voided, or `succeeded` if the shopper
/// paid first.
pub async fn void_waiting_attempt(
    state: &AppState,
    session: &SessionRow,
    to: PaymentStatus,
    session_to: Option<SessionStatus>,
) -> Result<Option<AttemptRow>, ApiError> {
    let Some(attempt) = state.store.latest_attempt(&session.id).await? else { return Ok(None) };
    if attempt.status != PaymentStatus::RequiresAction.as_str() {
        return Ok(Some(attempt));
    }
    let Some(provider) = state.providers.get(&attempt.provider).cloned() else {
        return Err(ApiError::Coded(axum::http::StatusCode::BAD_GATEWAY, ErrorCode::ProviderUnavailable));
    };
    let result = call_cancel(&provider, &attempt, state.config.timings.provider_timeout).await;
    match result {
        Ok(outcome) if outcome.status == PaymentStatus::Cancelled => {
            let source =
                if to == PaymentStatus::Expired { StatusSource::Expiry } else { StatusSource::Cancellation };
            let settled =
                settle(state, &attempt.id, to, source, &AttemptUpdate::default(), session_to).await?;
            Ok(Some(settled))
        }
        Ok(outcome) => {
            Ok(Some(settle_with(state, &attempt, Ok(outcome), Some(StatusSource::Inquiry)).await?))
        }
        Err(e) => {
            tracing::warn!(attempt = %attempt.id, error = %e, "provider could not void the attempt");
            Err(ApiError::Coded(axum::http::StatusCode::BAD_GATEWAY, ErrorCode::ProviderUnavailable))
        }
    }
}

async fn call_cancel(
    provider: &Arc<dyn PaymentProvider>,
    attempt: &AttemptRow,
    timeout: std::time::Duration,
) -> Result<ProviderOutcome, ProviderError> {
    let amount = Idr::from_i64(attempt.amount).unwrap_or(Idr::ZERO);
    let r = AttemptRef { attempt_id: &attempt.id, provider_ref: attempt.provider_ref.as_deref(), amount };
    tokio::time::timeout(timeout, provider.cancel(r)).await.unwrap_or(Err(ProviderError::Timeout))
}

/// Milliseconds of a duration, saturating.
pub fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whether `kind` is one the session allows (for the widget's method list).
pub fn allowed_methods(session: &SessionRow) -> Vec<PaymentMethodKind> {
    serde_json::from_str::<Vec<String>>(&session.payment_methods)
        .unwrap_or_default()
        .iter()
        .filter_map(|m| PaymentMethodKind::parse(m).ok())
        .collect()
}
