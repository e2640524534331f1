//! Starting a payment attempt: deciding the session is payable (one
//! place), routing and planning it, writing it before the provider call,
//! and calling the routed provider with a timeout. Parsing the shopper's
//! choice is in `parse`, settling answers in `settle`, voiding in `void`.

use std::sync::Arc;

use kasir_shared::customer::{Email, FullName, PhoneNumber};
use kasir_shared::money::Idr;
use kasir_shared::payment::{PaymentMethodKind, PaymentStatus, SessionStatus, StatusSource};
use kasir_shared::{ErrorCode, ValidationError};

use crate::AppState;
use crate::error::ApiError;
use crate::ids::new_id;
use crate::payments::object::snapshot_fn;
use crate::providers::{
    Customer, MethodDetails, PaymentProvider, PaymentRequest, ProviderError, ProviderOutcome, ProviderRefSlot,
};
use crate::store::{AttemptRow, AttemptStart, SessionRow, StoreError, now_ms};

use super::parse::ParsedAttempt;
use super::settle::{ms, settle_with};
use super::void::void_waiting_attempt;

/// Starts an attempt on `session` for what the shopper chose. The one place
/// that decides whether a session is payable: open, or waiting on an
/// attempt the shopper leaves (which is voided first, so it can never be
/// paid as well), and before its deadline. The provider's own requirements
/// are checked before anything is voided or written.
pub async fn begin(
    state: &AppState,
    session: SessionRow,
    parsed: ParsedAttempt,
) -> Result<AttemptRow, ApiError> {
    let not_payable = || ApiError::code(ErrorCode::SessionNotPayable);
    let status = SessionStatus::from_wire(&session.status).ok_or_else(not_payable)?;
    let switching = status == SessionStatus::RequiresAction;
    if session.expires_at <= now_ms() || !(status.accepts_attempts() || switching) {
        return Err(not_payable());
    }
    let plan = plan(state, &session, parsed)?;
    let session = if switching {
        let voided = void_waiting_attempt(state, &session, PaymentStatus::Cancelled, None).await?;
        if voided.is_some_and(|a| a.status == PaymentStatus::Succeeded.as_str()) {
            return Err(not_payable());
        }
        // Read again: the void moved it, and another request may have too.
        let again = state.store.session_by_id(&session.id).await?.ok_or(ApiError::NotFound)?;
        if !SessionStatus::from_wire(&again.status).is_some_and(SessionStatus::accepts_attempts) {
            return Err(not_payable());
        }
        again
    } else {
        session
    };
    start(state, &session, plan).await
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
fn plan(state: &AppState, session: &SessionRow, parsed: ParsedAttempt) -> Result<Plan, ApiError> {
    let provider = state
        .providers
        .for_method(parsed.details.kind())
        .cloned()
        .ok_or(ApiError::code(ErrorCode::PaymentMethodUnavailable))?;
    if session.livemode && provider.name() == "sandbox" {
        // Refused at start already; a second line should configuration change.
        tracing::error!(session = %session.id, "live session routed to the sandbox; refused");
        return Err(ApiError::code(ErrorCode::LiveModeSandbox));
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
async fn start(state: &AppState, session: &SessionRow, plan: Plan) -> Result<AttemptRow, ApiError> {
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
        MethodDetails::ConvenienceStore(store) => {
            Some(serde_json::json!({ "store": store.as_str() }).to_string())
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
        AttemptStart::SessionChanged => return Err(ApiError::code(ErrorCode::SessionNotPayable)),
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

/// Whether `kind` is one the session allows (for the widget's method list).
pub fn allowed_methods(session: &SessionRow) -> Vec<PaymentMethodKind> {
    serde_json::from_str::<Vec<String>>(&session.payment_methods)
        .unwrap_or_default()
        .iter()
        .filter_map(|m| PaymentMethodKind::parse(m).ok())
        .collect()
}
