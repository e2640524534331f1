//! Smilepayz Pay-In v2.0: QRIS, virtual accounts and e-wallets (DANA, OVO…).
//!
//! Requests carry `X-TIMESTAMP`, `X-PARTNER-ID` and `X-SIGNATURE` =
//! base64 SHA256withRSA(merchant private key, `timestamp|merchantSecret|body`),
//! where `body` is exactly the bytes sent (serialised once, signed, sent).
//! Callbacks are signed over `tradeNo|X-TIMESTAMP` with the platform key;
//! the signature does not cover the outcome, so every callback is confirmed
//! with `POST /v2.0/inquiry-status` before anything changes, and answered
//! with the plain string `SUCCESS`.
//!
//! Choices where FACTS.md marks the documents unconfirmed [?]:
//! - `area` (old documents: mandatory, `10`): sent only with `send_area = true`
//!   (the current document and newest demo omit it; default off).
//! - The v2.0 error-code table is unpublished: any code other than `"00"`
//!   on pay-in is a refusal (`smilepayz_<code>`, the attempt fails, no money
//!   moved); on inquiry it is "no answer" (the attempt stays as it was).
//! - Method codes beyond `QRIS`, `W_DANA`, `W_OVO`, `BCA`, `CIMB` come from a
//!   look-alike platform: offered only with `unconfirmed_methods = true`.
//! - `X-TIMESTAMP` is written `+07:00` as the document shows; `timestamp_utc
//!   = true` writes the demos' `Z` form instead.
//! - Callback timestamps older than `callback_tolerance_secs` (default 600)
//!   are refused (the retry schedule is unpublished; a refused retry is
//!   harmless, the reconciler asks anyway).
//! - Smilepayz documents no void and no refund for pay-ins: `cancel` asks the
//!   status and, if unpaid, lets the attempt go (the code stays payable at
//!   Smilepayz until `expiryPeriod`; a late payment raises
//!   `checkout_session.late_payment`); `refund` is refused.

pub mod transformers;

use async_trait::async_trait;
use kasir_shared::payment::PaymentMethodKind;
use kasir_shared::secret::SecretString;
use kasir_shared::{ErrorCode, ValidationError};
use serde::Deserialize;

use self::transformers as wire;
use super::clock::{JAKARTA_OFFSET_SECS, iso8601, parse_iso8601};
use super::crypto::{RsaHash, RsaSigner, RsaVerifier, SignatureEncoding};
use super::{
    AttemptRef, Echo, MethodDetails, PaymentProvider, PaymentRequest, ProviderError, ProviderOutcome,
    RefundOutcome, WebhookError, WebhookKind, WebhookReport, WebhookRequest, http,
};
use crate::config_error::ConfigError;
use crate::store::now_ms;

/// `[providers.smilepayz]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `https://sandbox-gateway.smilepayz.com` (default) or `https://gateway.smilepayz.com`.
    #[serde(default = "Settings::sandbox_url")]
    pub base_url: String,
    /// The merchant id (`X-PARTNER-ID`, `merchant.merchantId`).
    pub merchant_id: String,
    /// The merchant secret (part of the signed string).
    pub merchant_secret: SecretString,
    /// The merchant's RSA private key, PKCS#8 PEM or base64 DER.
    pub private_key: SecretString,
    /// Smilepayz's platform public key, SPKI PEM or base64 DER.
    pub platform_public_key: String,
    /// Where callbacks go; default `{public_url}/webhooks/smilepayz`.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Send `area: 10`.
    #[serde(default)]
    pub send_area: bool,
    /// Write `X-TIMESTAMP` in UTC (`Z`) instead of `+07:00`.
    #[serde(default)]
    pub timestamp_utc: bool,
    /// Offer method codes Smilepayz has not confirmed.
    #[serde(default)]
    pub unconfirmed_methods: bool,
    /// Oldest callback timestamp accepted.
    #[serde(default = "Settings::tolerance")]
    pub callback_tolerance_secs: i64,
}

impl crate::providers::registry::AdapterSettings for Settings {
    const NAME: &'static str = "smilepayz";

    fn build(
        settings: std::sync::Arc<Self>,
        context: crate::providers::registry::BuildContext<'_>,
    ) -> Result<std::sync::Arc<dyn crate::providers::PaymentProvider>, ConfigError> {
        Ok(std::sync::Arc::new(Smilepayz::new(settings, context.public_url, context.timeout)?))
    }
}

impl Settings {
    fn sandbox_url() -> String {
        "https://sandbox-gateway.smilepayz.com".into()
    }
    fn tolerance() -> i64 {
        600
    }
}

/// The Smilepayz adapter.
#[derive(Debug)]
pub struct Smilepayz {
    settings: std::sync::Arc<Settings>,
    signer: RsaSigner,
    platform: RsaVerifier,
    callback_url: String,
    http: reqwest::Client,
}

impl Smilepayz {
    /// Reads the keys once; `public_url` gives the default callback URL.
    pub fn new(
        settings: std::sync::Arc<Settings>,
        public_url: &str,
        timeout: std::time::Duration,
    ) -> Result<Smilepayz, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid { name: "providers.smilepayz", reason };
        let signer = RsaSigner::from_text(settings.private_key.expose_secret())
            .map_err(|e| invalid(format!("private_key: {e}")))?;
        let platform = RsaVerifier::from_text(&settings.platform_public_key)
            .map_err(|e| invalid(format!("platform_public_key: {e}")))?;
        let callback_url =
            settings.callback_url.clone().unwrap_or_else(|| format!("{public_url}/webhooks/smilepayz"));
        let http = http::client(timeout).map_err(invalid)?;
        Ok(Smilepayz { settings, signer, platform, callback_url, http })
    }

    fn timestamp(&self) -> String {
        let now = now_ms() / 1000;
        if self.settings.timestamp_utc {
            iso8601(now, 0, true)
        } else {
            iso8601(now, JAKARTA_OFFSET_SECS, false)
        }
    }

    /// Serialises `body` once, signs those bytes and POSTs them.
    async fn call<B: serde::Serialize>(&self, path: &str, body: &B) -> Result<wire::Answer, ProviderError> {
        let bytes =
            serde_json::to_vec(body).map_err(|e| ProviderError::Unavailable(format!("smilepayz: {e}")))?;
        let timestamp = self.timestamp();
        let mut to_sign = Vec::with_capacity(bytes.len() + 96);
        to_sign.extend_from_slice(timestamp.as_bytes());
        to_sign.push(b'|');
        to_sign.extend_from_slice(self.settings.merchant_secret.expose_secret().as_bytes());
        to_sign.push(b'|');
        to_sign.extend_from_slice(&bytes);
        let signature = self
            .signer
            .sign_encoded(RsaHash::Sha256, SignatureEncoding::Base64, &to_sign)
            .map_err(|e| ProviderError::Unavailable(format!("smilepayz: {e}")))?;
        let request = self
            .http
            .post(format!("{}{path}", self.settings.base_url))
            .header("Content-Type", "application/json")
            .header("X-TIMESTAMP", timestamp)
            .header("X-PARTNER-ID", &self.settings.merchant_id)
            .header("X-SIGNATURE", signature)
            .body(bytes);
        http::send("smilepayz", request).await?.json("smilepayz")
    }
}

#[async_trait]
impl PaymentProvider for Smilepayz {
    fn name(&self) -> &'static str {
        <Settings as crate::providers::registry::AdapterSettings>::NAME
    }

    /// The provider's test host: `sandbox-gateway.smilepayz.com`.
    fn test_environment(&self) -> bool {
        crate::providers::test_host(&self.settings.base_url, |host| host.starts_with("sandbox-"))
    }

    fn supports(&self, method: PaymentMethodKind) -> bool {
        match method {
            PaymentMethodKind::Qris | PaymentMethodKind::VirtualAccount | PaymentMethodKind::Ewallet => true,
            PaymentMethodKind::ConvenienceStore => false,
            PaymentMethodKind::Card => false,
        }
    }

    fn check_request(&self, request: &PaymentRequest<'_>) -> Result<(), ValidationError> {
        if !wire::in_range(request.amount) {
            let code = if request.amount.rupiah() < 10_000 {
                ErrorCode::AmountTooSmall
            } else {
                ErrorCode::AmountTooLarge
            };
            return Err(ValidationError::new(code).at("amount"));
        }
        match wire::method_code(request.method) {
            Some((_, confirmed)) if confirmed || self.settings.unconfirmed_methods => Ok(()),
            _ => Err(ValidationError::new(ErrorCode::PaymentMethodUnavailable).at(match request.method {
                MethodDetails::VirtualAccount(_) => "bank",
                MethodDetails::Ewallet { .. } => "wallet",
                MethodDetails::Card(_) | MethodDetails::Qris | MethodDetails::ConvenienceStore(_) => "method",
            })),
        }
    }

    async fn create_payment(&self, request: &PaymentRequest<'_>) -> Result<ProviderOutcome, ProviderError> {
        let (code, _) = wire::method_code(request.method)
            .ok_or_else(|| ProviderError::Refused { code: "method_unsupported".into() })?;
        let payer = match request.method {
            MethodDetails::Ewallet { phone: Some(phone), .. } => Some(wire::Payer { phone: phone.e164() }),
            _ => None,
        };
        let now = now_ms();
        let expiry_period = ((request.expires_at_ms - now) / 1000).clamp(300, 86_400);
        let purpose: String = request
            .description
            .map_or_else(|| format!("Order {}", request.reference), str::to_owned)
            .chars()
            .take(64)
            .collect();
        let body = wire::PayInRequest {
            order_no: wire::order_no(request.attempt_id),
            purpose,
            merchant: wire::Merchant { merchant_id: &self.settings.merchant_id },
            money: wire::Money { currency: wire::Currency::Idr, amount: request.amount.rupiah() },
            payer,
            payment_method: code,
            expiry_period,
            redirect_url: request.return_url.clone(),
            callback_url: &self.callback_url,
            area: self.settings.send_area.then_some(10),
        };
        let answer = self.call("/v2.0/transaction/pay-in", &body).await?;
        if answer.code != "00" {
            tracing::warn!(code = %answer.code, message = %answer.message, "smilepayz refused the pay-in");
            return Err(ProviderError::Refused { code: format!("smilepayz_{}", answer.code) });
        }
        wire::outcome(&answer, Some(request.method), now + expiry_period * 1000)
            .ok_or_else(|| ProviderError::Unavailable("smilepayz: pay-in answer without a status".into()))
    }

    async fn inquire(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        let order_no = wire::order_no(attempt.attempt_id);
        let body =
            wire::InquiryRequest { trade_type: 1, order_no: &order_no, trade_no: attempt.provider_ref };
        let answer = self.call("/v2.0/inquiry-status", &body).await?;
        if answer.code != "00" {
            tracing::warn!(code = %answer.code, message = %answer.message, "smilepayz inquiry refused");
            return Err(ProviderError::Unavailable(format!("smilepayz inquiry: code {}", answer.code)));
        }
        wire::outcome(&answer, None, 0)
            .ok_or_else(|| ProviderError::Unavailable("smilepayz: inquiry answer without a status".into()))
    }

    async fn cancel(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        let mut outcome = self.inquire(attempt).await?;
        if outcome.status == kasir_shared::payment::PaymentStatus::RequiresAction {
            outcome.status = kasir_shared::payment::PaymentStatus::Cancelled;
        }
        Ok(outcome)
    }

    async fn refund(
        &self,
        _attempt: AttemptRef<'_>,
        _refund_id: &str,
        _amount: kasir_shared::money::Idr,
    ) -> Result<RefundOutcome, ProviderError> {
        Err(ProviderError::Refused { code: "refund_unsupported".into() })
    }

    fn verify_webhook(
        &self,
        request: &WebhookRequest<'_>,
        now_secs: i64,
    ) -> Result<WebhookReport, WebhookError> {
        let timestamp = request.header("x-timestamp").ok_or(WebhookError::Signature)?;
        let signature = request.header("x-signature").ok_or(WebhookError::Signature)?;
        // The signed string names a body field, so the body is read first,
        // but nothing it says is used until the signature holds.
        let callback: wire::Callback =
            serde_json::from_slice(request.body).map_err(|_| WebhookError::Signature)?;
        let message = format!("{}|{timestamp}", callback.trade_no);
        if !self.platform.verify_encoded(
            RsaHash::Sha256,
            SignatureEncoding::Base64,
            message.as_bytes(),
            signature,
        ) {
            return Err(WebhookError::Signature);
        }
        let sent = parse_iso8601(timestamp).ok_or(WebhookError::Stale)?;
        if (now_secs - sent).abs() > self.settings.callback_tolerance_secs {
            return Err(WebhookError::Stale);
        }
        Ok(WebhookReport {
            attempt_id: callback.order_no.as_deref().and_then(wire::attempt_id),
            provider_ref: Some(callback.trade_no),
            // The callback's amount is not signed (and "may differ due to
            // fees"): the inquiry's amount is the one compared.
            echo: Echo::default(),
            kind: WebhookKind::Inquire,
        })
    }

    fn webhook_ack(&self) -> &'static str {
        "SUCCESS"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::providers::fixture;

    /// PKCS#1 v1.5 is deterministic: the Rust signer must produce OpenSSL's
    /// bytes exactly, and the verifier must accept OpenSSL's signatures.
    #[test]
    fn signatures_match_openssl() {
        let signer = RsaSigner::from_text(&fixture("merchant.key.pem")).unwrap();
        let message = fixture("smilepayz_payin.msg");
        let ours =
            signer.sign_encoded(RsaHash::Sha256, SignatureEncoding::Base64, message.as_bytes()).unwrap();
        assert_eq!(ours, fixture("smilepayz_payin.sig").trim());
        let platform = RsaVerifier::from_text(&fixture("platform.pub.pem")).unwrap();
        let callback = fixture("smilepayz_callback.msg");
        let sig = fixture("smilepayz_callback.sig");
        assert!(platform.verify_encoded(
            RsaHash::Sha256,
            SignatureEncoding::Base64,
            callback.as_bytes(),
            &sig
        ));
        assert!(!platform.verify_encoded(RsaHash::Sha256, SignatureEncoding::Base64, b"other|bytes", &sig));
        // Base64 DER without armour is accepted too.
        let bare: String = fixture("platform.pub.pem").lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(RsaVerifier::from_text(&bare).is_ok());
    }
}
