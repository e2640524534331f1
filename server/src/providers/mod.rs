//! Payment providers behind one trait. Each adapter turns Kasir's domain
//! request into the provider's wire format and the provider's answers back
//! into Kasir's one status enum; the server only ever sees this module's types.

pub mod clock;
pub mod crypto;
pub mod http;
pub mod midtrans;
pub mod registry;
pub mod sandbox;
pub mod settings;
pub mod singapay;
pub mod smartglocal;
pub mod smilepayz;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use axum::http::HeaderMap;
use kasir_shared::ValidationError;
use kasir_shared::card::{CardNumber, Cvv, Expiry};
use kasir_shared::customer::{BillingAddress, Email, FullName, Nik, PhoneNumber};
use kasir_shared::money::Idr;
use kasir_shared::payment::{Bank, PaymentMethodKind, PaymentStatus, Store, Wallet};

/// Card data for one provider call. Held in zeroizing types and dropped when
/// the call returns; never stored, logged or serialised.
#[derive(Debug)]
pub struct CardDetails {
    /// The PAN.
    pub number: CardNumber,
    /// Expiry.
    pub expiry: Expiry,
    /// Security code.
    pub cvv: Cvv,
    /// Cardholder name.
    pub holder_name: FullName,
    /// NIK, for providers that require it.
    pub nik: Option<Nik>,
    /// Installment months, where offered.
    pub installment_months: Option<u8>,
    /// The billing address, for providers that require it (SingaPay).
    pub billing: Option<BillingAddress>,
}

/// What the shopper chose, parsed.
#[derive(Debug)]
pub enum MethodDetails {
    /// Card.
    Card(Box<CardDetails>),
    /// QRIS.
    Qris,
    /// Virtual account at a bank.
    VirtualAccount(Bank),
    /// E-wallet, with the shopper's phone where the wallet needs it.
    Ewallet {
        /// The wallet.
        wallet: Wallet,
        /// The shopper's phone.
        phone: Option<PhoneNumber>,
    },
    /// Cash with a payment code at a convenience store.
    ConvenienceStore(Store),
}

impl MethodDetails {
    /// The method without details.
    pub fn kind(&self) -> PaymentMethodKind {
        match self {
            MethodDetails::Card(_) => PaymentMethodKind::Card,
            MethodDetails::Qris => PaymentMethodKind::Qris,
            MethodDetails::VirtualAccount(_) => PaymentMethodKind::VirtualAccount,
            MethodDetails::Ewallet { .. } => PaymentMethodKind::Ewallet,
            MethodDetails::ConvenienceStore(_) => PaymentMethodKind::ConvenienceStore,
        }
    }
}

/// One payment to start at a provider.
#[derive(Debug)]
pub struct PaymentRequest<'a> {
    /// Kasir's attempt id: the provider's order number, unique per attempt.
    pub attempt_id: &'a str,
    /// The session.
    pub session_id: &'a str,
    /// The merchant's order reference.
    pub reference: &'a str,
    /// The amount.
    pub amount: Idr,
    /// Shown on QR codes and provider pages.
    pub merchant_name: &'a str,
    /// The method and its details.
    pub method: &'a MethodDetails,
    /// What Kasir knows of the shopper: the session's customer, completed
    /// by what the shopper typed in the widget.
    pub customer: &'a Customer,
    /// The merchant's description of the purchase, if any.
    pub description: Option<&'a str>,
    /// When the session expires (Unix ms).
    pub expires_at_ms: i64,
    /// Where the provider sends the shopper back (Kasir's payment page).
    pub return_url: String,
    /// Where an adapter that makes several calls records the provider's id
    /// as soon as it has one, so that a later timeout still leaves Kasir
    /// something to inquire about.
    pub provider_ref: &'a ProviderRefSlot,
    /// A live-mode session (real money): the sandbox refuses it.
    pub livemode: bool,
}

/// The provider's id for a payment, learned in the middle of creating it.
#[derive(Debug, Default)]
pub struct ProviderRefSlot(std::sync::Mutex<Option<String>>);

impl ProviderRefSlot {
    /// Records the id.
    pub fn set(&self, id: &str) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(id.to_owned());
        }
    }

    /// The id, if one was recorded.
    pub fn take(&self) -> Option<String> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// The shopper, as far as Kasir knows them. Each field is already parsed.
#[derive(Debug, Clone, Default)]
pub struct Customer {
    /// Full name.
    pub name: Option<FullName>,
    /// Email.
    pub email: Option<Email>,
    /// Mobile phone.
    pub phone: Option<PhoneNumber>,
}

/// `Some(v)`, or the `field.required` rejection at `field`.
pub fn required<T: Clone>(value: Option<&T>, field: &'static str) -> Result<T, ValidationError> {
    value.cloned().ok_or_else(|| ValidationError::new(kasir_shared::ErrorCode::FieldRequired).at(field))
}

/// What the shopper must do next, as the provider said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderAction {
    /// 3DS: HTML to show in the sandboxed one-time frame.
    ThreeDsHtml(String),
    /// Show a QRIS code: the EMVCo payload, or an image URL.
    ShowQr {
        /// The payload, validated with `kasir-shared` before it is shown.
        payload: Option<String>,
        /// An image of the code.
        image_url: Option<String>,
        /// Unix ms.
        expires_at_ms: i64,
    },
    /// Transfer to a virtual account.
    ShowVirtualAccount {
        /// The bank.
        bank: Bank,
        /// The account number (Mandiri bill payment: the bill key).
        number: String,
        /// Mandiri bill payment: the company (biller) code to enter first.
        biller_code: Option<String>,
        /// Unix ms.
        expires_at_ms: i64,
    },
    /// Send the shopper to a provider page (e-wallet approval), with a QR
    /// code for the same payment where the provider gives one.
    Redirect {
        /// Where.
        url: String,
        /// A QRIS payload, validated with `kasir-shared` before it is shown.
        qr_payload: Option<String>,
        /// Or an image of the code.
        qr_image_url: Option<String>,
    },
    /// A payment code to pay in cash at a convenience store's till.
    ShowPaymentCode {
        /// The chain.
        store: Store,
        /// The code.
        code: String,
        /// Unix ms.
        expires_at_ms: i64,
    },
}

/// A provider's answer about one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderOutcome {
    /// The provider's id for the payment.
    pub provider_ref: Option<String>,
    /// What the answer means in Kasir's terms.
    pub status: PaymentStatus,
    /// The next action when `status` is `requires_action`.
    pub action: Option<ProviderAction>,
    /// A stable reason when `status` is `failed` (e.g. `card_declined`).
    pub failure_code: Option<String>,
    /// What the answer says about which payment it describes, checked
    /// against the attempt before the answer may settle it.
    pub echo: Echo,
}

/// What a provider echoes of the payment (amount, currency, our order
/// number), as far as its answer carries them. Kasir compares each with the
/// attempt: an answer about another amount, currency or order never settles
/// the attempt, which becomes `unknown` and goes to review (issue 14).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Echo {
    /// The amount, converted to rupiah with the adapter's units.
    pub amount: Option<EchoedAmount>,
    /// The currency code as sent (compared case-insensitively with `IDR`).
    pub currency: Option<String>,
    /// Kasir's attempt id as the provider echoed it (adapters map their
    /// order-number format back to the attempt id; what they cannot map is
    /// kept as sent, so that it differs).
    pub order: Option<String>,
}

/// An echoed amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EchoedAmount {
    /// Whole rupiah.
    Rupiah(Idr),
    /// Present but not a whole rupiah amount in the configured units (a
    /// fraction, a negative, text): as sent, for the log.
    Unreadable(String),
}

impl EchoedAmount {
    /// An amount in whole rupiah as JSON carries it: an integer, or a
    /// number or decimal string whose fraction is zero (`"150000.00"`).
    pub fn from_json(value: &serde_json::Value) -> EchoedAmount {
        let unreadable = || EchoedAmount::Unreadable(value.to_string());
        let text = match value {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.trim().to_owned(),
            _ => return unreadable(),
        };
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b == b'0')
        {
            return unreadable();
        }
        whole.parse::<u64>().ok().and_then(Idr::new).map_or_else(unreadable, EchoedAmount::Rupiah)
    }
}

impl Echo {
    /// Why the echo does not describe the attempt `attempt_id` of `amount`,
    /// if it does not.
    pub fn mismatch(&self, attempt_id: &str, amount: Idr) -> Option<String> {
        match &self.amount {
            Some(EchoedAmount::Rupiah(a)) if *a != amount => {
                return Some(format!("amount {} where the attempt is {}", a.rupiah(), amount.rupiah()));
            }
            Some(EchoedAmount::Unreadable(raw)) => {
                return Some(format!("amount {raw:?} where the attempt is {}", amount.rupiah()));
            }
            _ => {}
        }
        if let Some(currency) = &self.currency
            && !currency.eq_ignore_ascii_case("IDR")
        {
            return Some(format!("currency {currency:?}"));
        }
        match &self.order {
            Some(order) if order != attempt_id => {
                Some(format!("order {order:?} where the attempt is {attempt_id}"))
            }
            _ => None,
        }
    }
}

/// A provider call did not produce an answer we can trust.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// No answer in time: the outcome is unknown.
    #[error("provider timed out")]
    Timeout,
    /// Connection refused, 5xx, or an answer we cannot read: unknown.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The provider knows no such payment.
    #[error("provider has no such payment")]
    NotFound,
    /// The provider refused the request outright; no money moved.
    #[error("provider refused: {code}")]
    Refused {
        /// The provider's reason, e.g. `refund_exceeds_payment`.
        code: String,
    },
}

/// Identifies a payment already started at the provider.
#[derive(Debug, Clone, Copy)]
pub struct AttemptRef<'a> {
    /// Kasir's attempt id (the provider's order number).
    pub attempt_id: &'a str,
    /// The provider's id, when its answer reached us.
    pub provider_ref: Option<&'a str>,
    /// The attempt's amount.
    pub amount: Idr,
}

/// A refund's result at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOutcome {
    /// The provider's refund id.
    pub provider_ref: String,
    /// Accepted but not yet done (SingaPay `processing`, Smart Glocal
    /// `in_progress`): the money is reserved, and the refund is asked about
    /// again until it ends.
    pub pending: bool,
    /// The amount the provider says it refunded, where its answer gives one
    /// (Midtrans `refund_amount`). Kasir compares it with the amount asked:
    /// a refund the provider reports in another amount is not recorded as
    /// done but left pending and handed to the merchant for review.
    pub amount: Option<EchoedAmount>,
}

impl RefundOutcome {
    /// Refunded.
    pub fn done(provider_ref: impl Into<String>) -> RefundOutcome {
        RefundOutcome { provider_ref: provider_ref.into(), pending: false, amount: None }
    }

    /// Accepted, not finished.
    pub fn pending(provider_ref: impl Into<String>) -> RefundOutcome {
        RefundOutcome { provider_ref: provider_ref.into(), pending: true, amount: None }
    }

    /// With the amount the provider's answer names.
    #[must_use]
    pub fn echoing(mut self, amount: Option<EchoedAmount>) -> RefundOutcome {
        self.amount = amount;
        self
    }

    /// Why the provider's answer does not describe a refund of `asked`, if
    /// it names another amount (or one Kasir cannot read).
    pub fn amount_mismatch(&self, asked: Idr) -> Option<String> {
        match &self.amount {
            Some(EchoedAmount::Rupiah(a)) if *a != asked => {
                Some(format!("refund of {} where {} was asked", a.rupiah(), asked.rupiah()))
            }
            Some(EchoedAmount::Unreadable(raw)) => {
                Some(format!("refund of {raw:?} where {} was asked", asked.rupiah()))
            }
            _ => None,
        }
    }
}

/// An inbound webhook as received: what verifiers may look at.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// The path and query it was sent to (SingaPay signs it).
    pub path_and_query: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The raw body, exactly as received.
    pub body: &'a [u8],
}

impl WebhookRequest<'_> {
    /// A header as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What an authentic webhook reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReport {
    /// The provider's payment id, when it sends one.
    pub provider_ref: Option<String>,
    /// Kasir's attempt id, when the provider echoes our order number (this
    /// finds the attempt even when the provider's first answer was lost).
    pub attempt_id: Option<String>,
    /// What the signed webhook echoes of the payment, compared with the
    /// attempt before anything is done about it.
    pub echo: Echo,
    /// What Kasir should do about it.
    pub kind: WebhookKind,
}

/// What an authentic webhook asks of Kasir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookKind {
    /// The signature covers this outcome: apply it.
    Outcome(ProviderOutcome),
    /// The signature does not cover the outcome (Smilepayz): confirm it
    /// with the provider's status inquiry before anything changes.
    Inquire,
    /// The provider reports a state that is not an outcome and not final
    /// (Smart Glocal's session `error`): acknowledged, nothing changes, and
    /// the reconciler keeps asking.
    Pending,
    /// The provider waits for Kasir to confirm the payment (Smart Glocal's
    /// `ready_to_confirm`): confirm if the attempt is still wanted, else cancel.
    ConfirmRequested,
}

/// Why an inbound webhook was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Missing or wrong signature.
    #[error("signature missing or invalid")]
    Signature,
    /// The signed timestamp is too old or in the future.
    #[error("timestamp outside tolerance")]
    Stale,
    /// Authentic but unreadable.
    #[error("malformed webhook: {0}")]
    Malformed(String),
}

/// A payment provider. Adapters are injected as `Arc<dyn PaymentProvider>`.
#[async_trait]
pub trait PaymentProvider: Send + Sync + fmt::Debug {
    /// The name in configuration, URLs (`/webhooks/{name}`) and the store.
    fn name(&self) -> &'static str;

    /// Whether the provider can take this method.
    fn supports(&self, method: PaymentMethodKind) -> bool;

    /// Fields of an attempt this provider needs beyond the method's own
    /// (`nik`, `email`, `phone`, `billing`), for the widget to ask for.
    fn required_fields(&self, method: PaymentMethodKind) -> &'static [&'static str] {
        let _ = method;
        &[]
    }

    /// Installment plans (months) offered on cards.
    fn installment_months(&self) -> &'static [u8] {
        &[]
    }

    /// Checks, before anything is written, that the request carries what
    /// this provider needs (its amount range, NIK, billing address…).
    fn check_request(&self, request: &PaymentRequest<'_>) -> Result<(), ValidationError> {
        let _ = request;
        Ok(())
    }

    /// Starts a payment. `Err(Timeout | Unavailable)` leaves it `unknown`.
    async fn create_payment(&self, request: &PaymentRequest<'_>) -> Result<ProviderOutcome, ProviderError>;

    /// Whether this provider's "no such payment" to `inquire` proves that it
    /// never received the payment, so no money moved. Only where its
    /// documents say so: elsewhere an attempt it cannot find stays
    /// `unknown` and goes to the merchant for review.
    fn not_found_is_final(&self) -> bool {
        false
    }

    /// Asks the provider for the payment's current status.
    async fn inquire(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError>;

    /// Voids a payment not yet made (a QR the shopper abandoned). The answer
    /// is the payment's status afterwards: `cancelled`, or `succeeded` if the
    /// shopper paid first.
    async fn cancel(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError>;

    /// Refunds `amount` of a succeeded payment; `refund_id` is Kasir's id,
    /// which the provider uses to make retries idempotent.
    async fn refund(
        &self,
        attempt: AttemptRef<'_>,
        refund_id: &str,
        amount: Idr,
    ) -> Result<RefundOutcome, ProviderError>;

    /// Asks about a refund started with `refund(…, refund_id, …)` that was
    /// left pending (accepted and not finished, or no answer): done,
    /// still pending, or `Refused` (failed; the amount is released). The
    /// default is a provider with no refund inquiry: `Unavailable`, so the
    /// refund stays pending (reserved) and is never sent a second time.
    async fn refund_status(
        &self,
        attempt: AttemptRef<'_>,
        refund_id: &str,
    ) -> Result<RefundOutcome, ProviderError> {
        let _ = (attempt, refund_id);
        Err(ProviderError::Unavailable(format!("{}: no refund inquiry", self.name())))
    }

    /// Confirms a payment the provider holds for confirmation (Smart
    /// Glocal); providers without that step refuse.
    async fn confirm(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        let _ = attempt;
        Err(ProviderError::Refused { code: "confirm_unsupported".into() })
    }

    /// How often to ask about an attempt waiting for the shopper (3DS) when
    /// the provider sends no webhook for its outcome; `None`: the usual
    /// reconcile delay.
    fn poll_while_waiting(&self) -> Option<std::time::Duration> {
        None
    }

    /// Whether this provider is a test environment (Kasir's sandbox, or a
    /// provider's sandbox or demo host), where nobody's money moves. A live
    /// merchant is never routed to one: a shopper could "pay" in the
    /// provider's public simulator and the goods would ship.
    fn test_environment(&self) -> bool {
        false
    }

    /// Verifies a webhook on its raw bytes, then parses it.
    fn verify_webhook(
        &self,
        request: &WebhookRequest<'_>,
        now_secs: i64,
    ) -> Result<WebhookReport, WebhookError>;

    /// The body the provider expects when a webhook is accepted.
    fn webhook_ack(&self) -> &'static str {
        "OK"
    }
}

/// The configured providers and the routing table (method → provider).
#[derive(Debug, Clone, Default)]
pub struct Providers {
    by_name: HashMap<&'static str, Arc<dyn PaymentProvider>>,
    routes: HashMap<PaymentMethodKind, &'static str>,
}

impl Providers {
    /// Adds a provider.
    pub fn register(&mut self, provider: Arc<dyn PaymentProvider>) {
        self.by_name.insert(provider.name(), provider);
    }

    /// Routes `method` to the provider named `name` (which must be registered
    /// and support it).
    pub fn route(&mut self, method: PaymentMethodKind, name: &str) -> Result<(), String> {
        let provider = self.by_name.get(name).ok_or_else(|| format!("no provider named {name:?}"))?;
        if !provider.supports(method) {
            return Err(format!("provider {name:?} does not support {method}"));
        }
        self.routes.insert(method, provider.name());
        Ok(())
    }

    /// The provider for a method, if routed.
    pub fn for_method(&self, method: PaymentMethodKind) -> Option<&Arc<dyn PaymentProvider>> {
        self.routes.get(&method).and_then(|name| self.by_name.get(name))
    }

    /// The provider by name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn PaymentProvider>> {
        self.by_name.get(name)
    }
}

/// A file of `tests/fixtures/providers/` (test keys and OpenSSL vectors).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn fixture(name: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/providers/");
    std::fs::read_to_string(format!("{dir}{name}")).unwrap()
}

/// Whether `base_url`'s host is one a provider documents for testing:
/// `host_test(host)` decides on the lower-case host name.
pub(crate) fn test_host(base_url: &str, host_test: impl Fn(&str) -> bool) -> bool {
    reqwest::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|host| host_test(&host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idr(n: u64) -> Idr {
        Idr::new(n).unwrap()
    }

    #[test]
    fn echoed_amounts_are_whole_rupiah_or_unreadable() {
        use serde_json::json;
        let read = |v: serde_json::Value| EchoedAmount::from_json(&v);
        assert_eq!(read(json!(150000)), EchoedAmount::Rupiah(idr(150_000)));
        assert_eq!(read(json!("150000.00")), EchoedAmount::Rupiah(idr(150_000)));
        assert_eq!(read(json!(150000.0)), EchoedAmount::Rupiah(idr(150_000)));
        for bad in [
            json!("150000.50"),
            json!(-5),
            json!("1e5"),
            json!(""),
            json!(null),
            json!(".5"),
            json!("15 000"),
        ] {
            assert!(matches!(read(bad.clone()), EchoedAmount::Unreadable(_)), "{bad}");
        }
    }

    #[test]
    fn an_echo_of_another_amount_currency_or_order_is_a_mismatch() {
        let ok = Echo {
            amount: Some(EchoedAmount::Rupiah(idr(150_000))),
            currency: Some("idr".into()),
            order: Some("pa_1".into()),
        };
        assert_eq!(ok.mismatch("pa_1", idr(150_000)), None);
        assert_eq!(Echo::default().mismatch("pa_1", idr(150_000)), None);
        let x100 = Echo { amount: Some(EchoedAmount::Rupiah(idr(15_000_000))), ..ok.clone() };
        assert!(x100.mismatch("pa_1", idr(150_000)).is_some());
        let odd = Echo { amount: Some(EchoedAmount::Unreadable("1500.5".into())), ..ok.clone() };
        assert!(odd.mismatch("pa_1", idr(150_000)).is_some());
        let usd = Echo { currency: Some("USD".into()), ..ok.clone() };
        assert!(usd.mismatch("pa_1", idr(150_000)).is_some());
        let other = Echo { order: Some("pa_2".into()), ..ok };
        assert!(other.mismatch("pa_1", idr(150_000)).is_some());
    }
}
