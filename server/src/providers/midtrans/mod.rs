//! Midtrans Core API v2: cards with 3DS (and installments), QRIS, virtual
//! accounts (BCA, BNI, BRI, Permata, Mandiri bill payment), GoPay,
//! ShopeePay, Indomaret and Alfamart (`../shared/providers/gateways/
//! GATEWAYS.md` §1; the research digest is `docs/providers/midtrans.md`).
//!
//! - Server calls carry `Authorization: Basic base64(server_key + ":")`.
//!   The card is tokenised with `GET /v2/token` and the **client** key as a
//!   query parameter (never the server key there), then charged with
//!   `token_id` and 3DS; the bank's page opens in Kasir's sandboxed frame.
//! - Answers are read from the body's `status_code` string first (Midtrans
//!   sends errors with HTTP 200 too), the HTTP status second.
//! - Notifications (`POST /webhooks/midtrans`) are checked against
//!   `signature_key = SHA512(order_id + status_code + gross_amount +
//!   server_key)` in constant time, over the fields exactly as sent. The
//!   signature covers no outcome, so each one is confirmed with `GET
//!   /v2/{id}/status` before anything changes; the signed `order_id` and
//!   `gross_amount` are compared with the attempt.
//! - The attempt id is sent unchanged as `order_id`, so a lost answer is
//!   settled by asking for the order.
//!
//! Choices where the documents are silent or disagree ([?] in GATEWAYS.md):
//! - A `406` on a charge (duplicate `order_id`) is never a refusal: Kasir
//!   sends each attempt id once, so Midtrans already has this order (a lost
//!   first answer); the attempt stays unknown and the inquiry settles it.
//!   `401` (a wrong key) is Kasir's fault, never the shopper's: unknown too.
//! - `404` on a status inquiry is not final (`not_found_is_final` false):
//!   nothing documents that Midtrans has not received the charge.
//! - `capture` with `fraud_status` other than `accept` is not a success;
//!   `failure` and `authorize` are `unknown`; an undocumented status is no
//!   answer.
//! - Indomaret/Alfamart and Mandiri bill payments may be reversed shortly
//!   after `settlement`: such a settlement stays `processing` for
//!   `reversal_hold_secs` (default 120) after its `settlement_time`, and is
//!   asked about again before it counts as paid.
//! - A void uses `expire` for codes waiting to be paid and `cancel` for a
//!   card waiting on 3DS; whatever the answer, the status is then read, so
//!   a payment made a moment before is reported as paid.
//! - A refund is sent with `refund_key` = Kasir's refund id. A `406`
//!   (duplicate key), an HTTP 202, or no answer leave it pending;
//!   `refund_status` looks for the key in the status answer's `refunds`
//!   and keeps it pending (reserved) while it is not there. `412` and `414`
//!   are refusals (no money moved). The `refund_amount` of the answer or of
//!   the listed refund is compared with the amount asked: another amount is
//!   not recorded as done (pending, handed to the merchant for review).
//! - ShopeePay gives only a deep link: on a computer the widget shows the
//!   link (no QR is invented). QRIS is charged with the `gopay` acquirer.
//! - Installments are offered only when `installment_bank` and
//!   `installment_months` are set (Midtrans needs the acquiring bank).
//! - Automatic Fee Imposition changes the notification's `gross_amount`:
//!   turn it off, or every notification is refused as another amount.

pub mod transformers;

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use kasir_shared::money::Idr;
use kasir_shared::payment::{Bank, PaymentMethodKind, PaymentStatus, Store, Wallet};
use kasir_shared::secret::SecretString;
use kasir_shared::{ErrorCode, ValidationError};
use serde::Deserialize;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use self::transformers as wire;
use super::{
    AttemptRef, EchoedAmount, MethodDetails, PaymentProvider, PaymentRequest, ProviderError, ProviderOutcome,
    RefundOutcome, WebhookError, WebhookKind, WebhookReport, WebhookRequest, http,
};
use crate::config_error::ConfigError;
use crate::store::now_ms;

/// `[providers.midtrans]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `https://api.sandbox.midtrans.com` (default) or `https://api.midtrans.com`.
    #[serde(default = "Settings::sandbox_url")]
    pub base_url: String,
    /// The server key: Basic auth and the notification signature.
    pub server_key: SecretString,
    /// The client key, for card tokens only.
    pub client_key: String,
    /// Where notifications go (sent as `X-Override-Notification` on every
    /// charge); default `{public_url}/webhooks/midtrans`.
    #[serde(default)]
    pub notification_url: Option<String>,
    /// How long an Indomaret/Alfamart/Mandiri settlement stays `processing`.
    #[serde(default = "Settings::hold")]
    pub reversal_hold_secs: i64,
    /// The acquiring bank for card installments (`bni`, `bca`, `mandiri`, …).
    #[serde(default)]
    pub installment_bank: Option<String>,
    /// Installment plans offered with `installment_bank` (3, 6, 12).
    #[serde(default)]
    pub installment_months: Vec<u8>,
    /// How often to ask about a payment still waiting for the shopper
    /// (3DS, a code not yet paid). Midtrans notifies every outcome, so the
    /// default is Kasir's usual slow backstop (15 minutes).
    #[serde(default)]
    pub poll_secs: Option<u64>,
}

impl crate::providers::registry::AdapterSettings for Settings {
    const NAME: &'static str = "midtrans";

    fn build(
        settings: std::sync::Arc<Self>,
        context: crate::providers::registry::BuildContext<'_>,
    ) -> Result<std::sync::Arc<dyn PaymentProvider>, ConfigError> {
        Ok(std::sync::Arc::new(Midtrans::new(settings, context.public_url, context.timeout)?))
    }
}

impl Settings {
    fn sandbox_url() -> String {
        "https://api.sandbox.midtrans.com".into()
    }
    fn hold() -> i64 {
        120
    }
}

/// Every set of plans `installment_months` may name.
const PLANS: [&[u8]; 7] = [&[3], &[6], &[12], &[3, 6], &[3, 12], &[6, 12], &[3, 6, 12]];

/// The Midtrans adapter.
#[derive(Debug)]
pub struct Midtrans {
    settings: std::sync::Arc<Settings>,
    authorization: SecretString,
    notification_url: String,
    installments: &'static [u8],
    http: reqwest::Client,
}

impl Midtrans {
    /// Checks the settings; `public_url` gives the default notification URL.
    pub fn new(
        settings: std::sync::Arc<Settings>,
        public_url: &str,
        timeout: Duration,
    ) -> Result<Midtrans, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid { name: "providers.midtrans", reason };
        if settings.server_key.expose_secret().trim().is_empty() || settings.client_key.trim().is_empty() {
            return Err(invalid("server_key and client_key are required".into()));
        }
        let installments = match (&settings.installment_bank, settings.installment_months.as_slice()) {
            (_, []) => &[][..],
            (None, _) => return Err(invalid("installment_months needs installment_bank".into())),
            (Some(_), months) => PLANS
                .iter()
                .copied()
                .find(|plan| {
                    let mut sorted = months.to_vec();
                    sorted.sort_unstable();
                    sorted.dedup();
                    *plan == sorted.as_slice()
                })
                .ok_or_else(|| invalid("installment_months are 3, 6 or 12".into()))?,
        };
        let authorization = SecretString::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:", settings.server_key.expose_secret()))
        ));
        let notification_url =
            settings.notification_url.clone().unwrap_or_else(|| format!("{public_url}/webhooks/midtrans"));
        let http = http::client(timeout).map_err(invalid)?;
        Ok(Midtrans { settings, authorization, notification_url, installments, http })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url.trim_end_matches('/'))
    }

    /// Sends a server-authenticated request and reads the answer.
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, wire::Transaction), ProviderError> {
        let request = request
            .header("Authorization", self.authorization.expose_secret())
            .header("Accept", "application/json");
        let answer = http::send("midtrans", request).await?;
        let body: wire::Transaction = answer.json("midtrans")?;
        Ok((answer.status.as_u16(), body))
    }

    /// `GET /v2/token`: the card for a one-time token. The card rides in the
    /// query string, so no error here may carry the URL.
    async fn token(&self, card: &super::CardDetails) -> Result<String, ProviderError> {
        let request = self.http.get(self.url("/v2/token")).header("Accept", "application/json").query(&[
            ("client_key", self.settings.client_key.as_str()),
            ("card_number", card.number.expose_secret()),
            ("card_exp_month", &format!("{:02}", card.expiry.month())),
            ("card_exp_year", &format!("{:04}", card.expiry.year())),
            ("card_cvv", card.cvv.expose_secret()),
        ]);
        let answer = http::send("midtrans", request).await?;
        let body: wire::Transaction = answer.json("midtrans")?;
        match (body.code(), body.token_id) {
            (Some(200), Some(token)) if !token.is_empty() => Ok(token),
            (Some(code), _) if (400..500).contains(&code) && code != 401 && code != 406 => {
                tracing::info!(code, "midtrans refused to tokenise the card");
                Err(ProviderError::Refused { code: "card_declined".into() })
            }
            (code, _) => {
                tracing::warn!(?code, "midtrans token answer without a token");
                Err(ProviderError::Unavailable("midtrans: no card token".into()))
            }
        }
    }

    fn hold(&self) -> i64 {
        self.settings.reversal_hold_secs.max(0)
    }

    async fn status(&self, attempt: AttemptRef<'_>) -> Result<wire::Transaction, ProviderError> {
        let id = attempt.provider_ref.unwrap_or(attempt.attempt_id);
        let (_, body) = self.call(self.http.get(self.url(&format!("/v2/{id}/status")))).await?;
        match body.code() {
            Some(404) => Err(ProviderError::NotFound),
            // 407 is the status of an expired transaction, not an error.
            Some(code) if code >= 400 && code != 407 => {
                tracing::warn!(code, "midtrans status inquiry refused");
                Err(ProviderError::Unavailable(format!("midtrans status: {code}")))
            }
            Some(_) => Ok(body),
            None => Err(ProviderError::Unavailable("midtrans status: no status_code".into())),
        }
    }

    /// A status, cancel or expire answer. A pending one carries the
    /// account number or payment code again (not a QR or a 3DS page), so a
    /// lost charge answer still ends with something the shopper can pay.
    fn read(&self, body: &wire::Transaction) -> Result<ProviderOutcome, ProviderError> {
        let expiry = body.expiry_time.as_deref().and_then(wire::parse_wib);
        let asked = expiry.and_then(|_| wire::asked_from_status(body));
        let default_expiry_ms = expiry.map_or(0, |at| at * 1000);
        let mut outcome = wire::outcome(body, asked, default_expiry_ms, self.hold(), now_ms() / 1000)
            .or_else(|| wire::outcome(body, None, 0, self.hold(), now_ms() / 1000))
            .ok_or_else(|| ProviderError::Unavailable("midtrans: answer without a known status".into()))?;
        if outcome.status != PaymentStatus::RequiresAction {
            outcome.action = None;
        }
        Ok(outcome)
    }
}

/// A void's result as the trait reports it: a code that can no longer be
/// paid (expired or cancelled at Midtrans) is `cancelled`; anything else
/// (paid a moment before, unknown) as it is.
fn voided(mut outcome: ProviderOutcome) -> ProviderOutcome {
    if matches!(outcome.status, PaymentStatus::Expired | PaymentStatus::Cancelled) {
        outcome.status = PaymentStatus::Cancelled;
        outcome.action = None;
    }
    outcome
}

/// The request body's method object, and what the answer will be read as.
fn method_body<'a>(
    request: &'a PaymentRequest<'a>,
    token: Option<&'a str>,
    installment_bank: Option<&'a str>,
) -> Result<(wire::ChargeRequest<'a>, wire::Asked), ProviderError> {
    let unsupported = || ProviderError::Refused { code: "method_unsupported".into() };
    let mut body = wire::ChargeRequest {
        payment_type: "",
        transaction_details: wire::TransactionDetails {
            order_id: request.attempt_id,
            gross_amount: request.amount.rupiah(),
        },
        credit_card: None,
        bank_transfer: None,
        echannel: None,
        qris: None,
        gopay: None,
        shopeepay: None,
        cstore: None,
        customer_details: None,
        custom_expiry: None,
    };
    let asked = match request.method {
        MethodDetails::Card(card) => {
            body.payment_type = "credit_card";
            body.credit_card = Some(wire::CreditCard {
                token_id: token.ok_or_else(unsupported)?,
                authentication: true,
                installment_term: card.installment_months,
                bank: card.installment_months.and(installment_bank),
            });
            wire::Asked::Card
        }
        MethodDetails::Qris => {
            body.payment_type = "qris";
            body.qris = Some(wire::Qris { acquirer: "gopay" });
            wire::Asked::Qris
        }
        MethodDetails::VirtualAccount(bank) => {
            let (payment_type, wire_bank) = wire::va_payment_type(*bank).ok_or_else(unsupported)?;
            body.payment_type = payment_type;
            match *bank {
                Bank::Mandiri => {
                    body.echannel = Some(wire::Echannel {
                        bill_info1: "Payment:".into(),
                        bill_info2: request.reference.chars().take(30).collect(),
                    });
                }
                Bank::Permata => {}
                _ => {
                    body.bank_transfer = Some(wire::BankTransfer { bank: wire_bank.ok_or_else(unsupported)? })
                }
            }
            wire::Asked::VirtualAccount(*bank)
        }
        MethodDetails::Ewallet { wallet: Wallet::Gopay, .. } => {
            body.payment_type = "gopay";
            body.gopay =
                Some(wire::Gopay { enable_callback: true, callback_url: request.return_url.clone() });
            wire::Asked::Ewallet(Wallet::Gopay)
        }
        MethodDetails::Ewallet { wallet: Wallet::Shopeepay, .. } => {
            body.payment_type = "shopeepay";
            body.shopeepay = Some(wire::Shopeepay { callback_url: request.return_url.clone() });
            wire::Asked::Ewallet(Wallet::Shopeepay)
        }
        MethodDetails::Ewallet { .. } => return Err(unsupported()),
        MethodDetails::ConvenienceStore(store) => {
            body.payment_type = "cstore";
            let message: String = request
                .description
                .map_or_else(|| format!("Order {}", request.reference), str::to_owned)
                .chars()
                .take(20)
                .collect();
            body.cstore = Some(wire::Cstore {
                store: match store {
                    Store::Indomaret => "indomaret",
                    Store::Alfamart => "alfamart",
                },
                message,
            });
            wire::Asked::Store(*store)
        }
    };
    let customer = request.customer;
    if customer.name.is_some() || customer.email.is_some() || customer.phone.is_some() {
        body.customer_details = Some(wire::CustomerDetails {
            first_name: customer.name.as_ref().map(|n| n.as_str().chars().take(50).collect()),
            email: customer.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: customer.phone.as_ref().map(|p| p.e164()),
        });
    }
    Ok((body, asked))
}

#[async_trait]
impl PaymentProvider for Midtrans {
    fn name(&self) -> &'static str {
        <Settings as crate::providers::registry::AdapterSettings>::NAME
    }

    /// The provider's test host: api.sandbox.midtrans.com (and Midtrans's other `sandbox` hosts).
    fn test_environment(&self) -> bool {
        crate::providers::test_host(&self.settings.base_url, |host| {
            host.split('.').any(|label| label == "sandbox")
        })
    }

    fn supports(&self, method: PaymentMethodKind) -> bool {
        match method {
            PaymentMethodKind::Card
            | PaymentMethodKind::Qris
            | PaymentMethodKind::VirtualAccount
            | PaymentMethodKind::Ewallet
            | PaymentMethodKind::ConvenienceStore => true,
        }
    }

    fn installment_months(&self) -> &'static [u8] {
        self.installments
    }

    fn check_request(&self, request: &PaymentRequest<'_>) -> Result<(), ValidationError> {
        match request.method {
            MethodDetails::VirtualAccount(bank) if wire::va_payment_type(*bank).is_none() => {
                Err(ValidationError::new(ErrorCode::PaymentMethodUnavailable).at("bank"))
            }
            MethodDetails::Ewallet { wallet, .. } if !matches!(wallet, Wallet::Gopay | Wallet::Shopeepay) => {
                Err(ValidationError::new(ErrorCode::PaymentMethodUnavailable).at("wallet"))
            }
            MethodDetails::Card(card)
                if card.installment_months.is_some_and(|m| !self.installments.contains(&m)) =>
            {
                Err(ValidationError::new(ErrorCode::PaymentMethodUnavailable).at("installment_months"))
            }
            _ => Ok(()),
        }
    }

    async fn create_payment(&self, request: &PaymentRequest<'_>) -> Result<ProviderOutcome, ProviderError> {
        let token = match request.method {
            MethodDetails::Card(card) => Some(self.token(card).await?),
            _ => None,
        };
        let (mut body, asked) =
            method_body(request, token.as_deref(), self.settings.installment_bank.as_deref())?;
        let now = now_ms();
        let seconds = ((request.expires_at_ms - now) / 1000).max(60);
        if !matches!(request.method, MethodDetails::Card(_)) {
            body.custom_expiry = Some(wire::CustomExpiry {
                order_time: wire::wib_with_zone(now / 1000),
                expiry_duration: seconds,
                unit: "second",
            });
        }
        let (http_status, answer) = self
            .call(
                self.http
                    .post(self.url("/v2/charge"))
                    .header("Content-Type", "application/json")
                    .header("X-Override-Notification", &self.notification_url)
                    .json(&body),
            )
            .await?;
        if let Some(id) = &answer.transaction_id {
            request.provider_ref.set(id);
        }
        match answer.code() {
            // Still processing an earlier identical request: unknown.
            _ if http_status == 202 => {
                Err(ProviderError::Unavailable("midtrans: charge still processing".into()))
            }
            Some(200..=202) => {
                wire::outcome(&answer, Some(asked), now + seconds * 1000, self.hold(), now / 1000).ok_or_else(
                    || ProviderError::Unavailable("midtrans: charge answer without what it needs".into()),
                )
            }
            Some(code @ (401 | 406)) => {
                tracing::error!(code, message = ?answer.status_message, "midtrans charge: configuration or duplicate order");
                Err(ProviderError::Unavailable(format!("midtrans charge: {code}")))
            }
            Some(code) if (400..500).contains(&code) => {
                tracing::warn!(code, message = ?answer.status_message, "midtrans refused the charge");
                Err(ProviderError::Refused { code: format!("midtrans_{code}") })
            }
            code => {
                tracing::warn!(?code, "midtrans charge answer not understood");
                Err(ProviderError::Unavailable(format!("midtrans charge: {code:?}")))
            }
        }
    }

    async fn inquire(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        let body = self.status(attempt).await?;
        self.read(&body)
    }

    async fn cancel(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        // A card waits on 3DS (cancel); every other method waits for its code
        // to be paid (expire). Which one it is, the status says.
        let current = match self.status(attempt).await {
            Ok(body) => body,
            // Midtrans never had it: nothing to void.
            Err(ProviderError::NotFound) => return Err(ProviderError::NotFound),
            Err(e) => return Err(e),
        };
        let outcome = self.read(&current)?;
        if outcome.status != PaymentStatus::RequiresAction {
            return Ok(voided(outcome));
        }
        let card = current.payment_type.as_deref() == Some("credit_card");
        let id = attempt.provider_ref.or(current.transaction_id.as_deref()).unwrap_or(attempt.attempt_id);
        let verb = if card { "cancel" } else { "expire" };
        let (_, answer) = self.call(self.http.post(self.url(&format!("/v2/{id}/{verb}")))).await?;
        match answer.transaction_status.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("expire" | "cancel") => self.read(&answer).map(voided),
            // 412 (paid a moment before) or anything else: what is it now?
            _ => self.inquire(attempt).await.map(voided),
        }
    }

    async fn refund(
        &self,
        attempt: AttemptRef<'_>,
        refund_id: &str,
        amount: Idr,
    ) -> Result<RefundOutcome, ProviderError> {
        let id = attempt.provider_ref.unwrap_or(attempt.attempt_id);
        let body =
            wire::RefundRequest { refund_key: refund_id, amount: amount.rupiah(), reason: "Kasir refund" };
        let (http_status, answer) = self
            .call(
                self.http
                    .post(self.url(&format!("/v2/{id}/refund")))
                    .header("Content-Type", "application/json")
                    .json(&body),
            )
            .await?;
        let pending = RefundOutcome::pending(refund_id);
        match answer.code() {
            _ if http_status == 202 => Ok(pending),
            Some(200)
                if matches!(
                    answer.transaction_status.as_deref().map(str::to_ascii_lowercase).as_deref(),
                    Some("refund" | "partial_refund")
                ) =>
            {
                Ok(RefundOutcome::done(refund_id)
                    .echoing(answer.refund_amount.as_ref().map(EchoedAmount::from_json)))
            }
            Some(412) => Err(ProviderError::Refused { code: "refund_not_allowed".into() }),
            Some(414) => Err(ProviderError::Refused { code: "refund_exceeds_payment".into() }),
            // A repeated key may be a refund already made: ask, never refuse.
            Some(code) => {
                tracing::warn!(code, "midtrans refund answer is not final; asking later");
                Ok(pending)
            }
            None => Ok(pending),
        }
    }

    async fn refund_status(
        &self,
        attempt: AttemptRef<'_>,
        refund_id: &str,
    ) -> Result<RefundOutcome, ProviderError> {
        let body = self.status(attempt).await?;
        if let Some(entry) = body.refunds.iter().find(|r| r.refund_key.as_deref() == Some(refund_id)) {
            Ok(RefundOutcome::done(refund_id)
                .echoing(entry.refund_amount.as_ref().map(EchoedAmount::from_json)))
        } else {
            // Not listed (yet): the amount stays reserved.
            Err(ProviderError::Unavailable("midtrans: refund not listed yet".into()))
        }
    }

    fn poll_while_waiting(&self) -> Option<Duration> {
        self.settings.poll_secs.map(|s| Duration::from_secs(s.max(1)))
    }

    fn verify_webhook(
        &self,
        request: &WebhookRequest<'_>,
        _now_secs: i64,
    ) -> Result<WebhookReport, WebhookError> {
        let body: serde_json::Value =
            serde_json::from_slice(request.body).map_err(|_| WebhookError::Signature)?;
        // The signed fields as the text Midtrans signed: a number where a
        // string belongs could never be re-written byte for byte.
        let text =
            |name: &str| body.get(name).and_then(serde_json::Value::as_str).ok_or(WebhookError::Signature);
        let (order_id, status_code, gross_amount) =
            (text("order_id")?, text("status_code")?, text("gross_amount")?);
        let signature = text("signature_key")?.trim().to_ascii_lowercase();
        let mut hash = Sha512::new();
        hash.update(order_id.as_bytes());
        hash.update(status_code.as_bytes());
        hash.update(gross_amount.as_bytes());
        hash.update(self.settings.server_key.expose_secret().as_bytes());
        let expected: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        if !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            return Err(WebhookError::Signature);
        }
        let transaction_id =
            body.get("transaction_id").and_then(serde_json::Value::as_str).map(str::to_owned);
        Ok(WebhookReport {
            attempt_id: Some(order_id.to_owned()),
            provider_ref: transaction_id,
            // What the signature covers: the order and the amount.
            echo: super::Echo {
                amount: Some(super::EchoedAmount::from_json(&serde_json::Value::String(
                    gross_amount.to_owned(),
                ))),
                currency: None,
                order: Some(order_id.to_owned()),
            },
            kind: WebhookKind::Inquire,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter() -> Midtrans {
        let settings = Settings {
            base_url: "http://127.0.0.1:9".into(),
            server_key: SecretString::new("SB-Mid-server-test".into()),
            client_key: "SB-Mid-client-test".into(),
            notification_url: None,
            reversal_hold_secs: 120,
            installment_bank: None,
            installment_months: Vec::new(),
            poll_secs: None,
        };
        Midtrans::new(std::sync::Arc::new(settings), "https://kasir.test", Duration::from_secs(1)).unwrap()
    }

    fn signed(order: &str, code: &str, gross: &str, key: &str) -> String {
        let digest = Sha512::digest(format!("{order}{code}{gross}{key}").as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn notifications_are_checked_over_the_fields_as_sent() {
        let m = adapter();
        let headers = axum::http::HeaderMap::new();
        let check = |body: serde_json::Value| {
            let bytes = serde_json::to_vec(&body).unwrap();
            m.verify_webhook(
                &WebhookRequest { path_and_query: "/webhooks/midtrans", headers: &headers, body: &bytes },
                0,
            )
        };
        let sig = signed("pa_1", "200", "150000.00", "SB-Mid-server-test");
        let report =
            check(serde_json::json!({"order_id":"pa_1","status_code":"200","gross_amount":"150000.00",
            "signature_key": sig, "transaction_status":"settlement","transaction_id":"t-1"}))
            .unwrap();
        assert_eq!(report.kind, WebhookKind::Inquire);
        assert_eq!(report.attempt_id.as_deref(), Some("pa_1"));
        assert_eq!(report.provider_ref.as_deref(), Some("t-1"));
        // Upper-case hex is the same signature.
        assert!(
            check(serde_json::json!({"order_id":"pa_1","status_code":"200","gross_amount":"150000.00",
            "signature_key": sig.to_uppercase()}))
            .is_ok()
        );
        // Another amount, a number for the amount, another key, no signature.
        assert_eq!(
            check(serde_json::json!({"order_id":"pa_1","status_code":"200","gross_amount":"150001.00",
            "signature_key": sig})),
            Err(WebhookError::Signature)
        );
        assert_eq!(
            check(serde_json::json!({"order_id":"pa_1","status_code":"200","gross_amount":150000.00,
            "signature_key": sig})),
            Err(WebhookError::Signature)
        );
        let other = signed("pa_1", "200", "150000.00", "another-key");
        assert_eq!(
            check(serde_json::json!({"order_id":"pa_1","status_code":"200","gross_amount":"150000.00",
            "signature_key": other})),
            Err(WebhookError::Signature)
        );
        assert_eq!(
            check(serde_json::json!({"order_id":"pa_1","status_code":"200","gross_amount":"150000.00"})),
            Err(WebhookError::Signature)
        );
    }

    #[test]
    fn only_banks_and_wallets_midtrans_offers_are_accepted() {
        let m = adapter();
        assert!(m.installment_months().is_empty());
        for bank in Bank::ALL {
            let offered = matches!(bank, Bank::Bca | Bank::Bni | Bank::Bri | Bank::Permata | Bank::Mandiri);
            assert_eq!(wire::va_payment_type(*bank).is_some(), offered, "{bank:?}");
        }
    }
}
