//! The API's objects, built from stored rows. The types themselves live in
//! `kasir_shared::api`, once, for the server, the widget and `/openapi.json`;
//! here a stored value that does not parse as its wire type is a corrupt
//! row (an error), never a string passed through unchecked.

use kasir_shared::Locale;
use kasir_shared::api::{
    CardSummary, CheckoutSession, Delivery, Event, EventData, LatePayment, NextAction, PaymentAttempt,
    Refund, RefundStatus,
};
use kasir_shared::money::Idr;
use kasir_shared::payment::{PaymentMethodKind, PaymentStatus, SessionStatus};

use crate::store::{AttemptRow, EventRow, LatePaymentRow, RefundRow, SessionRow, StoreError};

fn corrupt(what: &str, id: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} of {id}: {detail}"))
}

fn rupiah(what: &str, id: &str, amount: i64) -> Result<Idr, StoreError> {
    Idr::from_i64(amount).ok_or_else(|| corrupt(what, id, amount))
}

fn stored_json<T: serde::de::DeserializeOwned>(
    what: &str,
    id: &str,
    value: Option<&str>,
) -> Result<Option<T>, StoreError> {
    value.map(|j| serde_json::from_str(j).map_err(|e| corrupt(what, id, e))).transpose()
}

/// The checkout session as the merchant sees it (with its `client_secret`
/// and the hosted URL carrying it in the fragment), without its attempt.
pub fn session_object(row: SessionRow, public_url: &str) -> Result<CheckoutSession, StoreError> {
    let id = row.id.as_str();
    let methods: Vec<String> =
        serde_json::from_str(&row.payment_methods).map_err(|e| corrupt("methods", id, e))?;
    let payment_methods = methods
        .iter()
        .map(|m| PaymentMethodKind::parse(m).map_err(|_| corrupt("method", id, m)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CheckoutSession {
        // The page's secret rides in the fragment, which browsers never
        // send to a server: it is in no access log, and no webhook
        // carries it (the snapshot drops it). As Stripe's hosted URL.
        url: format!("{public_url}/pay/{}#{}", row.id, row.client_secret),
        object: "checkout_session".into(),
        status: SessionStatus::from_wire(&row.status).ok_or_else(|| corrupt("status", id, &row.status))?,
        payment_methods,
        customer: serde_json::from_str(&row.customer).map_err(|e| corrupt("customer", id, e))?,
        metadata: serde_json::from_str(&row.metadata).map_err(|e| corrupt("metadata", id, e))?,
        locale: Locale::from_tag(&row.locale).ok_or_else(|| corrupt("locale", id, &row.locale))?,
        amount: rupiah("amount", id, row.amount)?,
        amount_refunded: rupiah("amount_refunded", id, row.amount_refunded)?,
        created_at: row.created_at / 1000,
        expires_at: row.expires_at / 1000,
        latest_attempt: None,
        late_payments: Vec::new(),
        livemode: row.livemode,
        currency: row.currency,
        reference: row.reference,
        description: row.description,
        return_url: row.return_url,
        client_secret: Some(row.client_secret),
        id: row.id,
    })
}

/// The session with its newest attempt.
pub fn session_view(
    row: SessionRow,
    public_url: &str,
    attempt: Option<&AttemptRow>,
) -> Result<CheckoutSession, StoreError> {
    let mut object = session_object(row, public_url)?;
    let locale = object.locale;
    object.latest_attempt = attempt.map(|a| attempt_in(a, locale)).transpose()?;
    Ok(object)
}

/// The attempt with what it shows the shopper: a payment code's steps in
/// the session's language, a virtual account's per channel in both.
pub fn attempt_in(row: &AttemptRow, locale: Locale) -> Result<PaymentAttempt, StoreError> {
    let mut attempt = attempt_object(row)?;
    match &mut attempt.next_action {
        Some(NextAction::ShowPaymentCode { store, instructions, .. }) if instructions.is_empty() => {
            *instructions = store.steps(locale).iter().map(|s| (*s).to_owned()).collect();
        }
        Some(NextAction::ShowVirtualAccount { bank, steps, .. }) if steps.is_empty() => {
            *steps = kasir_shared::api::VaChannelSteps::for_bank(*bank);
        }
        _ => {}
    }
    Ok(attempt)
}

/// An attempt as the API shows it: no card data beyond brand and last four.
pub fn attempt_object(row: &AttemptRow) -> Result<PaymentAttempt, StoreError> {
    let id = row.id.as_str();
    Ok(PaymentAttempt {
        id: row.id.clone(),
        object: "payment_attempt".into(),
        status: PaymentStatus::from_wire(&row.status).ok_or_else(|| corrupt("status", id, &row.status))?,
        method: PaymentMethodKind::parse(&row.method).map_err(|_| corrupt("method", id, &row.method))?,
        provider: row.provider.clone(),
        amount: rupiah("amount", id, row.amount)?,
        next_action: stored_json("next_action", id, row.next_action.as_deref())?,
        failure_code: row.failure_code.clone(),
        card: row
            .card_last4
            .as_ref()
            .map(|last4| CardSummary { brand: row.card_brand.clone(), last4: last4.clone() }),
        created_at: row.created_at / 1000,
        requires_review: row.review_requested_at.is_some() && row.resolution.is_none(),
        resolution: stored_json("resolution", id, row.resolution.as_deref())?,
    })
}

/// A late payment as the API shows it.
pub fn late_payment_object(row: &LatePaymentRow) -> Result<LatePayment, StoreError> {
    Ok(LatePayment {
        id: row.id.clone(),
        object: "late_payment".into(),
        attempt_id: row.attempt_id.clone(),
        provider: row.provider.clone(),
        provider_reference: row.provider_ref.clone(),
        amount: rupiah("amount", &row.id, row.amount)?,
        status: row.status.clone(),
        failure_code: row.failure_code.clone(),
        created_at: row.created_at / 1000,
        updated_at: row.updated_at / 1000,
        requires_review: row.review_requested_at.is_some() && row.status == "refund_pending",
        resolution: stored_json("resolution", &row.id, row.resolution.as_deref())?,
    })
}

/// A refund as the API shows it.
pub fn refund_object(row: &RefundRow) -> Result<Refund, StoreError> {
    Ok(Refund {
        id: row.id.clone(),
        object: "refund".into(),
        session_id: row.session_id.clone(),
        amount: rupiah("amount", &row.id, row.amount)?,
        status: RefundStatus::from_wire(&row.status)
            .ok_or_else(|| corrupt("status", &row.id, &row.status))?,
        created_at: row.created_at / 1000,
        requires_review: row.review_requested_at.is_some() && row.status == "pending",
        resolution: stored_json("resolution", &row.id, row.resolution.as_deref())?,
    })
}

/// The webhook body for a stored event: exactly what the merchant receives.
pub fn event_object(row: &EventRow) -> Result<Event, StoreError> {
    let object: serde_json::Value = serde_json::from_str(&row.payload)?;
    Ok(Event {
        livemode: object["livemode"].as_bool().unwrap_or(false),
        data: EventData { object },
        id: row.id.clone(),
        object: "event".into(),
        event_type: row.event_type.clone(),
        created_at: row.created_at / 1000,
        delivery: None,
    })
}

/// The event with its delivery state (for the merchant API, not the webhook).
pub fn event_with_delivery(row: &EventRow) -> Result<Event, StoreError> {
    let mut event = event_object(row)?;
    event.delivery = Some(Delivery {
        state: row.delivery_state.clone(),
        attempts: row.delivery_attempts,
        next_attempt_at: row.next_delivery_at.map(|t| t / 1000),
    });
    Ok(event)
}

/// The event snapshot: the session object with its latest attempt, as JSON,
/// without the client secret (in the object or in the URL's fragment).
pub fn snapshot_fn(
    public_url: String,
) -> impl Fn(&SessionRow, Option<&AttemptRow>) -> Result<String, StoreError> + Sync {
    move |row, attempt| {
        let mut object = session_view(row.clone(), &public_url, attempt)?;
        object.client_secret = None;
        object.url = format!("{public_url}/pay/{}", row.id);
        Ok(serde_json::to_string(&object)?)
    }
}
