//! Payment providers behind one trait. Each adapter turns Kasir's domain
//! request into the provider's wire format and the provider's answers back
//! into Kasir's one status enum; the server only ever sees this module's types.

pub mod sandbox;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use axum::http::HeaderMap;
use kasir_shared::card::{CardNumber, Cvv, Expiry};
use kasir_shared::customer::{FullName, Nik, PhoneNumber};
use kasir_shared::money::Idr;
use kasir_shared::payment::{Bank, PaymentMethodKind, PaymentStatus, Wallet};

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
}

impl MethodDetails {
    /// The method without details.
    pub fn kind(&self) -> PaymentMethodKind {
        match self {
            MethodDetails::Card(_) => PaymentMethodKind::Card,
            MethodDetails::Qris => PaymentMethodKind::Qris,
            MethodDetails::VirtualAccount(_) => PaymentMethodKind::VirtualAccount,
            MethodDetails::Ewallet { .. } => PaymentMethodKind::Ewallet,
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
    /// The shopper's email, if known.
    pub customer_email: Option<&'a str>,
    /// When the session expires (Unix ms).
    pub expires_at_ms: i64,
    /// Where the provider sends the shopper back (Kasir's payment page).
    pub return_url: String,
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
        /// The account number.
        number: String,
        /// Unix ms.
        expires_at_ms: i64,
    },
    /// Send the shopper to a provider page (e-wallet approval).
    Redirect {
        /// Where.
        url: String,
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
}

/// What an authentic webhook reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReport {
    /// The provider's payment id.
    pub provider_ref: String,
    /// The reported status.
    pub status: PaymentStatus,
    /// The amount the provider says was paid, to compare with the attempt.
    pub amount: Option<Idr>,
    /// The signature does not cover the outcome: confirm with an inquiry.
    pub confirm_with_inquiry: bool,
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

    /// Starts a payment. `Err(Timeout | Unavailable)` leaves it `unknown`.
    async fn create_payment(&self, request: &PaymentRequest<'_>) -> Result<ProviderOutcome, ProviderError>;

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

    /// Verifies a webhook on its raw bytes, then parses it.
    fn verify_webhook(
        &self,
        headers: &HeaderMap,
        body: &[u8],
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
