//! Smart Glocal API v1 wire structs (sessions, card payments, webhooks) and
//! their conversions to and from Kasir's domain types.

use std::collections::BTreeMap;

use kasir_shared::payment::PaymentStatus;
use serde::{Deserialize, Serialize};

use kasir_shared::money::Idr;

use crate::providers::{Echo, EchoedAmount, ProviderAction, ProviderError, ProviderOutcome};

/// `amount_details`.
#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
pub struct AmountDetails {
    /// In the configured units (whole rupiah by default).
    pub amount: u64,
    /// Always `idr`.
    pub currency: Currency,
}

/// The one currency (case-insensitive on Smart Glocal's side; sent lower-case).
#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    /// Rupiah.
    #[serde(rename = "idr", alias = "IDR")]
    Idr,
}

/// `customer`: Kasir's attempt id is the reference.
#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct CustomerRef {
    /// `pa_…`.
    pub reference: String,
}

/// `payment_options`.
#[derive(Debug, Serialize)]
pub struct PaymentOptions<'a> {
    /// Where the shopper comes back after 3DS.
    pub return_url: &'a str,
}

/// `session/create`.
#[derive(Debug, Serialize)]
pub struct CreateSession<'a> {
    /// The amount.
    pub amount_details: AmountDetails,
    /// Our reference.
    pub customer: CustomerRef,
    /// Return URL.
    pub payment_options: PaymentOptions<'a>,
}

/// `session/start/payment` (with `session_id`) or `session/init/payment` (without).
#[derive(Debug, Serialize)]
pub struct StartPayment<'a> {
    /// The session, for `start`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<&'a str>,
    /// Card and sender.
    pub payment_details: PaymentDetails<'a>,
    /// The amount.
    pub amount_details: AmountDetails,
    /// Our reference.
    pub customer: CustomerRef,
    /// Return URL.
    pub payment_options: PaymentOptions<'a>,
}

/// `payment_details` for a card in Indonesia.
#[derive(Debug, Serialize)]
pub struct PaymentDetails<'a> {
    /// `card`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The card.
    pub card: Card<'a>,
    /// The sender (full name, email, NIK).
    pub sender: Sender<'a>,
}

/// `card`.
#[derive(Debug, Serialize)]
pub struct Card<'a> {
    /// `bank_card`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The card data, borrowed for one serialisation.
    pub bank_card: BankCard<'a>,
}

/// `bank_card`.
#[derive(Debug, Serialize)]
pub struct BankCard<'a> {
    /// PAN.
    pub number: &'a str,
    /// `MM`.
    pub expiration_month: String,
    /// `YY`.
    pub expiration_year: String,
    /// CVV.
    pub security_code: &'a str,
    /// As on the card.
    pub cardholder_name: &'a str,
}

/// `sender`.
#[derive(Debug, Serialize)]
pub struct Sender<'a> {
    /// 3–50 characters.
    pub full_name: &'a str,
    /// ≤ 64 before the `@`.
    pub email: &'a str,
    /// NIK, 16 digits.
    pub identity_document: &'a str,
}

/// `{"session_id": …}` for status, confirm and cancel.
#[derive(Debug, Serialize)]
pub struct SessionId<'a> {
    /// The session.
    pub session_id: &'a str,
}

/// `session/refund`.
#[derive(Debug, Serialize)]
pub struct Refund<'a> {
    /// The paid session.
    pub session_id: &'a str,
    /// The refund's amount.
    pub amount_details: AmountDetails,
    /// Kasir's refund id.
    pub metadata: &'a str,
}

/// Every answer: `{"status":"ok"|"error","session":…,"error":…}`.
#[derive(Debug, Deserialize)]
pub struct Answer {
    /// `ok` or `error`.
    pub status: AnswerStatus,
    /// The session.
    #[serde(default)]
    pub session: Option<Session>,
    /// What went wrong.
    #[serde(default)]
    pub error: Option<ApiError>,
}

/// `status` of an answer.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AnswerStatus {
    /// Done.
    Ok,
    /// Refused.
    Error,
}

/// `error`.
#[derive(Debug, Deserialize)]
pub struct ApiError {
    /// Machine code.
    #[serde(default)]
    pub code: String,
    /// Human text.
    #[serde(default)]
    pub description: String,
}

/// A payment session (lenient: webhooks may gain fields).
#[derive(Debug, Deserialize)]
pub struct Session {
    /// `ps_…`.
    pub id: String,
    /// Session status.
    pub status: SessionState,
    /// The card payments in it.
    #[serde(default)]
    pub acquiring_payments: Vec<AcquiringPayment>,
    /// Its refunds, oldest first.
    #[serde(default)]
    pub refunds: Vec<RefundOperation>,
}

/// One refund operation of a session.
#[derive(Debug, Deserialize, Clone)]
pub struct RefundOperation {
    /// `succeeded`, `in_progress`, `pending` or `failed`.
    pub status: String,
    /// Kasir's refund id, as sent.
    #[serde(default)]
    pub metadata: Option<String>,
}

impl Session {
    /// The refund Kasir asked for with `refund_id`: by its metadata where
    /// echoed. In the answer to the refund call itself (`latest_if_unnamed`:
    /// ours is listed) without metadata, the refunds listed unnamed are read
    /// only when they all have one status, which is then ours too; when
    /// they differ (two partial refunds at once) it is not known which is
    /// ours, and it stays pending rather than take another one's outcome.
    pub fn refund(&self, refund_id: &str, latest_if_unnamed: bool) -> Option<&RefundOperation> {
        let named = self.refunds.iter().rev().find(|r| r.metadata.as_deref() == Some(refund_id));
        named.or_else(|| {
            if !latest_if_unnamed {
                return None;
            }
            let mut unnamed = self.refunds.iter().filter(|r| r.metadata.is_none());
            let last = unnamed.next_back()?;
            unnamed.all(|r| r.status == last.status).then_some(last)
        })
    }
}

/// A refund operation's status as Kasir reads it: `Some(true)` done,
/// `Some(false)` failed, `None` still pending (`in_progress`, `pending`, or
/// not listed yet).
pub fn refund_done(refund: Option<&RefundOperation>) -> Option<bool> {
    match refund.map(|r| r.status.as_str()) {
        Some("succeeded") => Some(true),
        Some("failed") => Some(false),
        _ => None,
    }
}

/// Session statuses (the documented set; anything else fails to parse).
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Waiting to start.
    Created,
    /// Being processed.
    InProgress,
    /// Paid.
    Accepted,
    /// Cancelled.
    Cancelled,
    /// Not final: Smart Glocal's support must look at it.
    Error,
}

/// A card payment.
#[derive(Debug, Deserialize)]
pub struct AcquiringPayment {
    /// `pm_…`.
    #[serde(default)]
    pub id: Option<String>,
    /// Payment status.
    pub status: PaymentState,
    /// Its amount.
    #[serde(default)]
    pub amount_details: Option<AmountDetails>,
    /// Our reference.
    #[serde(default)]
    pub customer: Option<CustomerRef>,
    /// 3DS.
    #[serde(default)]
    pub customer_interaction: Option<CustomerInteraction>,
}

/// Payment statuses.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Paid.
    Succeeded,
    /// Being processed.
    InProgress,
    /// Waiting for `session/confirm` or `session/cancel`.
    Pending,
    /// Failed.
    Failed,
}

/// `customer_interaction`.
#[derive(Debug, Deserialize)]
pub struct CustomerInteraction {
    /// `redirect`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where the shopper goes.
    #[serde(default)]
    pub redirect: Option<Redirect>,
}

/// `customer_interaction.redirect`.
#[derive(Debug, Deserialize)]
pub struct Redirect {
    /// The full URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The form's target.
    #[serde(default)]
    pub base_url: Option<String>,
    /// `POST` or `GET`.
    #[serde(default)]
    pub method: Option<String>,
    /// Query parameters.
    #[serde(default)]
    pub qs: BTreeMap<String, serde_json::Value>,
    /// Form fields (`PaReq`, `MD`, …).
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
}

/// A webhook: `{"type": …, "session": …}`.
#[derive(Debug, Deserialize)]
pub struct Webhook {
    /// `ready_to_confirm`, `action_required`, `payment_finished`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The session.
    pub session: Session,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

fn text_of(value: &serde_json::Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

/// The auto-submitting 3DS form for a redirect: `base_url` with `qs`, the
/// `params` as hidden fields (FACTS.md §3).
pub fn three_ds_form(redirect: &Redirect) -> Option<String> {
    let base = redirect.base_url.as_deref().or(redirect.url.as_deref())?;
    let query: Vec<String> =
        redirect.qs.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(&text_of(v)))).collect();
    let action = if query.is_empty() || redirect.base_url.is_none() {
        base.to_owned()
    } else {
        format!("{base}?{}", query.join("&"))
    };
    let method = if redirect.method.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("get")) {
        "get"
    } else {
        "post"
    };
    let fields: String = redirect
        .params
        .iter()
        .map(|(k, v)| {
            format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(k), escape(&text_of(v)))
        })
        .collect();
    Some(format!(
        "<!doctype html><meta charset=\"utf-8\"><form id=\"tds\" method=\"{method}\" action=\"{}\">{fields}\
         <noscript><button>Continue / Lanjut</button></noscript></form>\
         <script>document.getElementById('tds').submit()</script>",
        escape(&action)
    ))
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What a session says about Kasir's payment; `rupiah` reads an amount in
/// the configured units.
pub fn outcome(
    session: &Session,
    rupiah: &dyn Fn(u64) -> Option<Idr>,
) -> Result<ProviderOutcome, ProviderError> {
    let payment = session.acquiring_payments.last();
    let status = match (session.status, payment.map(|p| p.status)) {
        (SessionState::Error, _) => {
            return Err(ProviderError::Unavailable(format!("smartglocal: session {} in error", session.id)));
        }
        (SessionState::Accepted, _) | (_, Some(PaymentState::Succeeded)) => PaymentStatus::Succeeded,
        (_, Some(PaymentState::Failed)) => PaymentStatus::Failed,
        (SessionState::Cancelled, _) => PaymentStatus::Cancelled,
        (
            SessionState::Created | SessionState::InProgress,
            Some(PaymentState::InProgress | PaymentState::Pending),
        )
        | (SessionState::Created | SessionState::InProgress, None) => PaymentStatus::Processing,
    };
    let action = payment
        .and_then(|p| p.customer_interaction.as_ref())
        .filter(|_| status == PaymentStatus::Processing)
        .and_then(|i| i.redirect.as_ref())
        .and_then(three_ds_form)
        .map(ProviderAction::ThreeDsHtml);
    let status = if action.is_some() { PaymentStatus::RequiresAction } else { status };
    Ok(ProviderOutcome {
        provider_ref: Some(session.id.clone()),
        status,
        action,
        failure_code: (status == PaymentStatus::Failed).then(|| "card_declined".to_owned()),
        echo: payment.map(|p| echo(p, rupiah)).unwrap_or_default(),
    })
}

/// What a card payment echoes: its amount and currency, and our reference.
pub fn echo(payment: &AcquiringPayment, rupiah: &dyn Fn(u64) -> Option<Idr>) -> Echo {
    Echo {
        amount: payment.amount_details.map(|a| {
            rupiah(a.amount)
                .map_or_else(|| EchoedAmount::Unreadable(a.amount.to_string()), EchoedAmount::Rupiah)
        }),
        currency: payment.amount_details.map(|_| "IDR".to_owned()),
        order: payment.customer.as_ref().map(|c| c.reference.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unnamed_refund_is_read_only_when_it_cannot_be_another_ones() {
        let session = |refunds: &[&str]| Session {
            refunds: refunds
                .iter()
                .map(|s| RefundOperation { status: (*s).to_owned(), metadata: None })
                .collect(),
            ..serde_json::from_str(r#"{"id":"ps_1","status":"accepted"}"#).unwrap()
        };
        // One refund, or several all in one state: that state is ours.
        assert_eq!(
            session(&["in_progress"]).refund("rf_2", true).map(|r| r.status.as_str()),
            Some("in_progress")
        );
        assert_eq!(
            session(&["succeeded", "succeeded"]).refund("rf_2", true).map(|r| r.status.as_str()),
            Some("succeeded")
        );
        // Two at once in different states: not known which is ours.
        assert!(session(&["in_progress", "succeeded"]).refund("rf_2", true).is_none());
        assert!(session(&["succeeded", "failed"]).refund("rf_2", true).is_none());
        // Named refunds are read by name, and outside the refund's own
        // answer an unnamed one is never taken.
        let mut named = session(&["succeeded", "in_progress"]);
        named.refunds[1].metadata = Some("rf_2".into());
        assert_eq!(named.refund("rf_2", false).map(|r| r.status.as_str()), Some("in_progress"));
        assert!(session(&["succeeded"]).refund("rf_2", false).is_none());
    }

    #[test]
    fn the_documents_action_required_becomes_a_form() {
        let hook: Webhook = serde_json::from_str(
            r#"{"type":"action_required","session":{"id":"ps_3230","status":"in_progress","acquiring_payments":[{"id":"pm_1313","status":"pending",
            "customer_interaction":{"type":"redirect","redirect":{"url":"https://website.com?foo=bar","base_url":"https://website.com","method":"POST","qs":{"foo":"bar"},"params":{"PaReq":"sdfew^//asdhbv","MD":"abc75daefnn"}}}}]},"extra":1}"#,
        )
        .unwrap();
        let o = outcome(&hook.session, &Idr::new).unwrap();
        assert_eq!(o.status, PaymentStatus::RequiresAction);
        let Some(ProviderAction::ThreeDsHtml(html)) = o.action else { panic!() };
        assert!(html.contains("action=\"https://website.com?foo=bar\""), "{html}");
        assert!(html.contains("name=\"PaReq\" value=\"sdfew^//asdhbv\"") && html.contains("name=\"MD\""));
    }

    #[test]
    fn statuses() {
        let s = |json: &str| outcome(&serde_json::from_str::<Session>(json).unwrap(), &Idr::new);
        assert_eq!(s(r#"{"id":"a","status":"accepted"}"#).unwrap().status, PaymentStatus::Succeeded);
        assert_eq!(
            s(r#"{"id":"a","status":"in_progress","acquiring_payments":[{"status":"failed"}]}"#)
                .unwrap()
                .status,
            PaymentStatus::Failed
        );
        assert_eq!(s(r#"{"id":"a","status":"cancelled"}"#).unwrap().status, PaymentStatus::Cancelled);
        assert_eq!(
            s(r#"{"id":"a","status":"in_progress","acquiring_payments":[{"status":"pending"}]}"#)
                .unwrap()
                .status,
            PaymentStatus::Processing
        );
        assert!(s(r#"{"id":"a","status":"error"}"#).is_err());
        assert!(serde_json::from_str::<Session>(r#"{"id":"a","status":"paid"}"#).is_err());
    }
}
