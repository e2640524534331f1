//! SingaPay payment-b2b: cards with 3DS and installments (3/6/12 months).
//!
//! - Access token: `POST /api/v1.1/access-token/b2b` with `X-PARTNER-ID`,
//!   `X-CLIENT-ID` and `X-Signature` = lowercase hex HMAC-SHA512(client
//!   secret, `client_id_client_secret_YYYYMMDD`) with the **Asia/Jakarta**
//!   date (FACTS.md §2.1 [S]). Cached until `token_margin_secs` before
//!   `expires_in`; one refresh at a time (single flight under a mutex), and
//!   refreshed once more when a call answers `SP013`.
//! - Payment: `POST /api/v2.0/card/{account_id}/payment`, Bearer +
//!   `X-PARTNER-ID`, `card_expiry` as YYMM, every billing field. `SP000`
//!   only means accepted: `data.status` decides. `action: redirect` gives
//!   3DS as HTML (`html_form`, or `payment_url` holding HTML) or a URL
//!   (`payment_url`, FACTS.md §2.2 [?]); both become Kasir's sandboxed
//!   one-time 3DS page.
//! - Status: `GET …/inquiry-status/{id}` with the transaction id (or, when
//!   the first answer was lost, our reference; FACTS.md says only
//!   transaction ids are confirmed). No card webhook is documented [?], so
//!   attempts waiting for 3DS are polled every `poll_secs` (default 5).
//! - Void and refund: `PATCH …/cancel/{id}` with `cancel_type` `void` or
//!   `refund`; refunds are whole (a partial refund is refused).
//! - Webhooks: HMAC-SHA512(client secret, `POST:{path}:{token}:{sha256hex(body)}:{X-Timestamp}`)
//!   in `X-Signature`, checked against the raw body and against SingaPay's
//!   re-normalised body (sorted keys, unescaped; FACTS.md §2.4 [S]); the
//!   timestamp must be within `webhook_tolerance_secs` (default 300); the
//!   outcome is then confirmed by inquiry. `webhook_path` overrides the path
//!   when a proxy rewrites it.

pub mod transformers;

use std::time::Duration;

use async_trait::async_trait;
use kasir_shared::money::Idr;
use kasir_shared::payment::PaymentMethodKind;
use kasir_shared::secret::SecretString;
use kasir_shared::{ErrorCode, ValidationError};
use serde::Deserialize;
use tokio::sync::Mutex;

use self::transformers as wire;
use super::clock::jakarta_yyyymmdd;
use super::crypto::{hmac_sha512_hex, same, sha256_hex};
use super::{
    AttemptRef, Echo, EchoedAmount, MethodDetails, PaymentProvider, PaymentRequest, ProviderError,
    ProviderOutcome, RefundOutcome, WebhookError, WebhookKind, WebhookReport, WebhookRequest, http, required,
};
use crate::config_error::ConfigError;
use crate::store::now_ms;

/// `[providers.singapay]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `https://sandbox-payment-b2b.singapay.id` (default) or `https://payment-b2b.singapay.id`.
    #[serde(default = "Settings::sandbox_url")]
    pub base_url: String,
    /// The API key (`X-PARTNER-ID`).
    pub partner_id: String,
    /// The client id.
    pub client_id: String,
    /// The client secret (signs token requests; verifies webhooks).
    pub client_secret: SecretString,
    /// The merchant account ULID in card paths.
    pub account_id: String,
    /// Smallest card amount (SingaPay's default 5,000; configurable on their side).
    #[serde(default = "Settings::min_amount")]
    pub min_amount: u64,
    /// Largest card amount.
    #[serde(default = "Settings::max_amount")]
    pub max_amount: u64,
    /// Renew the token this long before it expires.
    #[serde(default = "Settings::margin")]
    pub token_margin_secs: i64,
    /// Oldest webhook timestamp accepted.
    #[serde(default = "Settings::tolerance")]
    pub webhook_tolerance_secs: i64,
    /// The path SingaPay signs, when it differs from the one received.
    #[serde(default)]
    pub webhook_path: Option<String>,
    /// How often an attempt waiting for 3DS is polled.
    #[serde(default = "Settings::poll")]
    pub poll_secs: u64,
}

impl crate::providers::registry::AdapterSettings for Settings {
    const NAME: &'static str = "singapay";

    fn build(
        settings: std::sync::Arc<Self>,
        context: crate::providers::registry::BuildContext<'_>,
    ) -> Result<std::sync::Arc<dyn crate::providers::PaymentProvider>, ConfigError> {
        Ok(std::sync::Arc::new(Singapay::new(settings, context.timeout)?))
    }
}

impl Settings {
    fn sandbox_url() -> String {
        "https://sandbox-payment-b2b.singapay.id".into()
    }
    fn min_amount() -> u64 {
        5_000
    }
    fn max_amount() -> u64 {
        999_999_999
    }
    fn margin() -> i64 {
        60
    }
    fn tolerance() -> i64 {
        300
    }
    fn poll() -> u64 {
        5
    }
}

/// A token and when it stops being used (Unix seconds).
#[derive(Debug, Clone)]
struct Token {
    value: String,
    renew_at: i64,
}

/// The SingaPay adapter.
#[derive(Debug)]
pub struct Singapay {
    settings: std::sync::Arc<Settings>,
    http: reqwest::Client,
    token: Mutex<Option<Token>>,
}

impl Singapay {
    /// An adapter with no token yet.
    pub fn new(settings: std::sync::Arc<Settings>, timeout: Duration) -> Result<Singapay, ConfigError> {
        let http = http::client(timeout)
            .map_err(|reason| ConfigError::Invalid { name: "providers.singapay", reason })?;
        Ok(Singapay { settings, http, token: Mutex::new(None) })
    }

    /// The `X-Signature` of a token request on Jakarta's date at `now_secs`.
    pub fn token_signature(client_id: &str, client_secret: &str, now_secs: i64) -> String {
        let message = format!("{client_id}_{client_secret}_{}", jakarta_yyyymmdd(now_secs));
        hmac_sha512_hex(client_secret.as_bytes(), message.as_bytes())
    }

    /// A valid token: the cached one, or a new one fetched by exactly one
    /// caller while the others wait. `stale` is a token a call was refused
    /// with (`SP013`): it is dropped unless another caller already replaced it.
    async fn token(&self, stale: Option<&str>) -> Result<String, ProviderError> {
        let mut guard = self.token.lock().await;
        let now = now_ms() / 1000;
        if let Some(t) = guard.as_ref()
            && t.renew_at > now
            && stale != Some(t.value.as_str())
        {
            return Ok(t.value.clone());
        }
        let secret = self.settings.client_secret.expose_secret();
        let signature = Singapay::token_signature(&self.settings.client_id, secret, now);
        let request = self
            .http
            .post(format!("{}/api/v1.1/access-token/b2b", self.settings.base_url))
            .header("X-PARTNER-ID", &self.settings.partner_id)
            .header("X-CLIENT-ID", &self.settings.client_id)
            .header("X-Signature", signature)
            .header("Accept", "application/json")
            .json(&wire::TokenRequest { grant_type: "client_credentials" });
        let answer = http::send("singapay", request).await?;
        let answer: wire::TokenAnswer = if answer.status.is_client_error() {
            serde_json::from_slice(&answer.body).unwrap_or(wire::TokenAnswer {
                success: false,
                data: None,
                response_code: Some(answer.status.to_string()),
            })
        } else {
            answer.json("singapay")?
        };
        let data = match answer.data {
            Some(data) if answer.success => data,
            _ => {
                // A refused token request means no payment call was made.
                tracing::error!(code = ?answer.response_code, "singapay refused the access-token request");
                return Err(ProviderError::Refused { code: "provider_authentication".into() });
            }
        };
        let lifetime: i64 = data.expires_in.trim().parse().unwrap_or(0);
        let renew_at = now + (lifetime - self.settings.token_margin_secs).max(0);
        *guard = Some(Token { value: data.access_token.clone(), renew_at });
        Ok(data.access_token)
    }

    /// Sends a card call with the token, refreshing it once on `SP013`.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<wire::Envelope, ProviderError> {
        let mut token = self.token(None).await?;
        for round in 0..2 {
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.settings.base_url))
                .bearer_auth(&token)
                .header("X-PARTNER-ID", &self.settings.partner_id)
                .header("Accept", "application/json");
            if let Some(body) = body {
                request = request.header("Content-Type", "application/json").body(body.to_vec());
            }
            let envelope: wire::Envelope = http::send("singapay", request).await?.json("singapay")?;
            if envelope.response_code == "SP013" && round == 0 {
                token = self.token(Some(&token)).await?;
                continue;
            }
            return Ok(envelope);
        }
        Err(ProviderError::Unavailable("singapay: token refused twice".into()))
    }

    fn card_path(&self, tail: &str) -> String {
        format!("/api/v2.0/card/{}/{tail}", self.settings.account_id)
    }
}

#[async_trait]
impl PaymentProvider for Singapay {
    fn name(&self) -> &'static str {
        <Settings as crate::providers::registry::AdapterSettings>::NAME
    }

    /// The provider's test host: `sandbox-payment-b2b.singapay.id`.
    fn test_environment(&self) -> bool {
        crate::providers::test_host(&self.settings.base_url, |host| host.starts_with("sandbox-"))
    }

    fn supports(&self, method: PaymentMethodKind) -> bool {
        match method {
            PaymentMethodKind::Card => true,
            PaymentMethodKind::Qris
            | PaymentMethodKind::VirtualAccount
            | PaymentMethodKind::Ewallet
            | PaymentMethodKind::ConvenienceStore => false,
        }
    }

    fn required_fields(&self, method: PaymentMethodKind) -> &'static [&'static str] {
        match method {
            PaymentMethodKind::Card => &["email", "phone", "billing"],
            PaymentMethodKind::Qris
            | PaymentMethodKind::VirtualAccount
            | PaymentMethodKind::Ewallet
            | PaymentMethodKind::ConvenienceStore => &[],
        }
    }

    fn installment_months(&self) -> &'static [u8] {
        &[3, 6, 12]
    }

    fn check_request(&self, request: &PaymentRequest<'_>) -> Result<(), ValidationError> {
        let amount = request.amount.rupiah();
        if amount < self.settings.min_amount {
            return Err(ValidationError::new(ErrorCode::AmountTooSmall).at("amount"));
        }
        if amount > self.settings.max_amount {
            return Err(ValidationError::new(ErrorCode::AmountTooLarge).at("amount"));
        }
        let MethodDetails::Card(card) = request.method else {
            return Err(ValidationError::new(ErrorCode::PaymentMethodUnavailable).at("method"));
        };
        required(request.customer.email.as_ref(), "email")?;
        required(request.customer.phone.as_ref(), "phone")?;
        required(card.billing.as_ref(), "billing")?;
        Ok(())
    }

    async fn create_payment(&self, request: &PaymentRequest<'_>) -> Result<ProviderOutcome, ProviderError> {
        let MethodDetails::Card(card) = request.method else {
            return Err(ProviderError::Refused { code: "method_unsupported".into() });
        };
        let missing = || ProviderError::Refused { code: "missing_customer_details".into() };
        let email = request.customer.email.as_ref().ok_or_else(missing)?;
        let phone = request.customer.phone.as_ref().ok_or_else(missing)?;
        let billing = card.billing.as_ref().ok_or_else(missing)?;
        let holder: String = card.holder_name.as_str().chars().take(45).collect();
        let customer_name = request.customer.name.as_ref().map_or(holder.as_str(), |n| n.as_str());
        let goods_name: String = request
            .description
            .map_or_else(|| format!("Order {}", request.reference), str::to_owned)
            .chars()
            .take(255)
            .collect();
        let bytes = {
            let body = wire::PaymentBody {
                amount: request.amount.rupiah(),
                goods_name,
                customer_name,
                customer_email: email.as_str(),
                customer_phone: phone.national(),
                customer_address: billing.address(),
                customer_city: billing.city(),
                customer_state: billing.state(),
                customer_postal_code: billing.postal_code(),
                customer_country: billing.country(),
                card_number: card.number.expose_secret(),
                card_expiry: card.expiry.yymm(),
                card_cvv: card.cvv.expose_secret(),
                card_holder_name: holder.clone(),
                card_holder_email: email.as_str(),
                reference_no: request.attempt_id,
                description: request.description.map(|d| d.chars().take(500).collect()),
                installment: card.installment_months.is_some(),
                installment_month: card.installment_months.map(|m| m.to_string()),
            };
            zeroize::Zeroizing::new(
                serde_json::to_vec(&body)
                    .map_err(|e| ProviderError::Unavailable(format!("singapay: {e}")))?,
            )
        };
        let envelope = self.call(reqwest::Method::POST, &self.card_path("payment"), Some(&bytes)).await?;
        wire::outcome(envelope)
    }

    async fn inquire(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        let id = attempt.provider_ref.unwrap_or(attempt.attempt_id);
        let envelope =
            self.call(reqwest::Method::GET, &self.card_path(&format!("inquiry-status/{id}")), None).await?;
        let mut outcome = wire::outcome(envelope)?;
        // An inquiry never carries the 3DS page again; keep the one shown.
        outcome.action = None;
        Ok(outcome)
    }

    async fn cancel(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        let id = attempt.provider_ref.unwrap_or(attempt.attempt_id);
        let body = serde_json::to_vec(&wire::CancelBody { cancel_type: "void" })
            .map_err(|e| ProviderError::Unavailable(format!("singapay: {e}")))?;
        let envelope =
            self.call(reqwest::Method::PATCH, &self.card_path(&format!("cancel/{id}")), Some(&body)).await?;
        match wire::outcome(envelope) {
            Ok(outcome) => Ok(outcome),
            // Already final (paid or failed): say what it is.
            Err(ProviderError::Refused { .. }) => self.inquire(attempt).await,
            Err(e) => Err(e),
        }
    }

    async fn refund(
        &self,
        attempt: AttemptRef<'_>,
        _refund_id: &str,
        amount: Idr,
    ) -> Result<RefundOutcome, ProviderError> {
        if amount != attempt.amount {
            return Err(ProviderError::Refused { code: "partial_refund_unsupported".into() });
        }
        // Without SingaPay's transaction id there is nothing to refund
        // through (a payment the merchant resolved by hand): nothing is sent.
        let id = attempt.provider_ref.ok_or_else(|| ProviderError::Refused {
            code: "refund_without_provider_reference_unsupported".into(),
        })?;
        let body = serde_json::to_vec(&wire::CancelBody { cancel_type: "refund" })
            .map_err(|e| ProviderError::Unavailable(format!("singapay: {e}")))?;
        let envelope =
            self.call(reqwest::Method::PATCH, &self.card_path(&format!("cancel/{id}")), Some(&body)).await?;
        // Only `refunded` is done. `processing` (or `success`, the refund not
        // yet applied) is pending: never reported as failed, which would
        // release the amount for a second refund.
        match wire::card_status(&envelope) {
            Some(wire::CardStatus::Refunded) => Ok(RefundOutcome::done(id)),
            Some(wire::CardStatus::Processing | wire::CardStatus::Success) => Ok(RefundOutcome::pending(id)),
            // `SP001` is also SingaPay's "outcome unknown, call
            // inquiry-status" (FACTS §2.3): the refund may have been made.
            // Pending, so `refund_status` finds out; failed would release
            // the amount for a second refund.
            _ if wire::outcome_unknown(&envelope) => Ok(RefundOutcome::pending(id)),
            _ => {
                let outcome = wire::outcome(envelope)?;
                Err(ProviderError::Refused { code: format!("refund_{}", outcome.status) })
            }
        }
    }

    async fn refund_status(
        &self,
        attempt: AttemptRef<'_>,
        _refund_id: &str,
    ) -> Result<RefundOutcome, ProviderError> {
        // A SingaPay refund is the whole card transaction's (no partial
        // refunds): the transaction's own status says where it stands.
        let id = attempt.provider_ref.ok_or(ProviderError::NotFound)?;
        let envelope =
            self.call(reqwest::Method::GET, &self.card_path(&format!("inquiry-status/{id}")), None).await?;
        match wire::card_status(&envelope) {
            Some(wire::CardStatus::Refunded) => Ok(RefundOutcome::done(id)),
            // Still paid, or being processed: not refunded yet.
            Some(_) => Ok(RefundOutcome::pending(id)),
            None => Err(ProviderError::Unavailable(format!("singapay: inquiry {}", envelope.response_code))),
        }
    }

    fn poll_while_waiting(&self) -> Option<Duration> {
        Some(Duration::from_secs(self.settings.poll_secs.max(1)))
    }

    fn verify_webhook(
        &self,
        request: &WebhookRequest<'_>,
        now_secs: i64,
    ) -> Result<WebhookReport, WebhookError> {
        let signature = request.header("x-signature").ok_or(WebhookError::Signature)?;
        let timestamp = request.header("x-timestamp").ok_or(WebhookError::Signature)?;
        let token = request
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .ok_or(WebhookError::Signature)?;
        let path = self.settings.webhook_path.as_deref().unwrap_or(request.path_and_query);
        let secret = self.settings.client_secret.expose_secret().as_bytes();
        let signed = |body_hash: &str| {
            let message = format!("POST:{path}:{token}:{body_hash}:{timestamp}");
            same(&hmac_sha512_hex(secret, message.as_bytes()), &signature.to_ascii_lowercase())
        };
        let normalised = serde_json::from_slice::<serde_json::Value>(request.body)
            .ok()
            .and_then(|v| serde_json::to_vec(&v).ok())
            .map(|b| sha256_hex(&b));
        let valid = signed(&sha256_hex(request.body)) || normalised.is_some_and(|h| signed(&h));
        if !valid {
            return Err(WebhookError::Signature);
        }
        let sent: i64 = timestamp.trim().parse().map_err(|_| WebhookError::Stale)?;
        if (now_secs - sent).abs() > self.settings.webhook_tolerance_secs {
            return Err(WebhookError::Stale);
        }
        let body: serde_json::Value =
            serde_json::from_slice(request.body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let data = body.get("data").unwrap_or(&body);
        let text = |k: &str| data.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let (provider_ref, attempt_id) = (text("transaction_id"), text("reference_no"));
        if provider_ref.is_none() && attempt_id.is_none() {
            return Err(WebhookError::Malformed("no transaction_id or reference_no".into()));
        }
        // The body is signed: what it echoes is compared with the attempt.
        let echo = Echo {
            amount: data.get("amount").filter(|a| !a.is_null()).map(EchoedAmount::from_json),
            currency: text("currency"),
            order: attempt_id.clone(),
        };
        Ok(WebhookReport { provider_ref, attempt_id, echo, kind: WebhookKind::Inquire })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::providers::fixture;

    fn adapter() -> Singapay {
        let settings: Settings = toml::from_str(
            "partner_id = \"p\"\nclient_id = \"client-123\"\nclient_secret = \"secret-456\"\naccount_id = \"01K\"",
        )
        .unwrap();
        Singapay::new(std::sync::Arc::new(settings), Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn token_signature_matches_openssl_on_jakartas_date() {
        // 2026-11-23T17:30:00Z is already the 24th in Jakarta (the vector's date).
        let t = super::super::clock::parse_iso8601("2026-11-23T17:30:00Z").unwrap();
        assert_eq!(
            Singapay::token_signature("client-123", "secret-456", t),
            fixture("singapay_token.sig").trim()
        );
        assert_ne!(
            Singapay::token_signature("client-123", "secret-456", t - 3600),
            fixture("singapay_token.sig").trim()
        );
    }

    #[test]
    fn webhook_signature_matches_openssl() {
        let body = fixture("singapay_webhook.body");
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-signature", fixture("singapay_webhook.sig").trim().parse().unwrap());
        headers.insert("x-timestamp", "1764000000".parse().unwrap());
        headers.insert("authorization", "Bearer random-token-abc".parse().unwrap());
        let request =
            WebhookRequest { path_and_query: "/webhooks/singapay", headers: &headers, body: body.as_bytes() };
        let report = adapter().verify_webhook(&request, 1_764_000_010).unwrap();
        assert_eq!(report.provider_ref.as_deref(), Some("9901JAB3CD4E5F6G7H8J9K0M1N2"));
        assert_eq!(adapter().verify_webhook(&request, 1_764_001_000), Err(WebhookError::Stale));
        let other = WebhookRequest { path_and_query: "/webhooks/other", ..request };
        assert_eq!(adapter().verify_webhook(&other, 1_764_000_010), Err(WebhookError::Signature));
        let tampered = body.replace("success", "failed");
        let forged = WebhookRequest { body: tampered.as_bytes(), ..request };
        assert_eq!(adapter().verify_webhook(&forged, 1_764_000_010), Err(WebhookError::Signature));
    }
}
