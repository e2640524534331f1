//! Smart Glocal: local card payments in Indonesia (3DS; NIK required).
//!
//! Every call is a POST of JSON to `{base_url}/api/v1/<method>` with
//! `X-PARTNER-PROJECT` and `X-PARTNER-SIGN`, an RSA signature over the body
//! exactly as sent. Webhooks carry `X-PARTNER-SIGN` over their raw body,
//! verified with Smart Glocal's public key, and are answered 200.
//!
//! Flow: `session/create` (its id is recorded at once, so a timeout later
//! still leaves a session to ask about), then `session/start/payment` with
//! the card and the sender (full name, email, NIK); or, with `flow = "init"`,
//! both in one `session/init/payment`. Then the webhooks:
//! - `action_required`: a 3DS redirect; Kasir builds the auto-submitting form
//!   from `base_url`, `qs` and `params` and serves it as its one-time page;
//! - `ready_to_confirm`: Kasir calls `session/confirm` if the attempt is still
//!   wanted, `session/cancel` if the shopper's session was cancelled or expired;
//! - `payment_finished`: the outcome. Any other type is confirmed by `session/status`.
//!
//! Choices where FACTS.md §3 marks the documents unconfirmed [?]:
//! - The signature's hash and encoding: `sign_hash` (`sha256` default, or
//!   `sha512`) and `sign_encoding` (`base64` default, or `hex`); PKCS#1 v1.5.
//! - Amount units for IDR: `amount_units = "whole"` (default: the Indonesian
//!   document sends `11000` for its 11,000 IDR minimum) or `"minor"` (×100, as
//!   the generic reference's "minor units" would have it).
//! - The idempotency-key mechanism of `session/init/payment` is unknown, so
//!   the default flow is create-then-start, whose session id Kasir keeps.
//! - Refunds go through `session/refund` with an amount (partial allowed).
//!   The method is undocumented: an `error` answer leaves the refund pending
//!   (reserved) rather than failed, since it may have been made.

pub mod transformers;

use async_trait::async_trait;
use kasir_shared::money::Idr;
use kasir_shared::payment::PaymentMethodKind;
use kasir_shared::secret::SecretString;
use kasir_shared::{ErrorCode, ValidationError};
use serde::Deserialize;

use self::transformers as wire;
use super::crypto::{RsaHash, RsaSigner, RsaVerifier, SignatureEncoding};
use super::{
    AttemptRef, MethodDetails, PaymentProvider, PaymentRequest, ProviderError, ProviderOutcome,
    RefundOutcome, WebhookError, WebhookKind, WebhookReport, WebhookRequest, http, required,
};
use crate::config_error::ConfigError;

/// How amounts are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AmountUnits {
    /// Whole rupiah (`11000` = Rp11.000).
    Whole,
    /// Hundredths (`1100000` = Rp11.000).
    Minor,
}

/// Which calls start a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// `session/create` then `session/start/payment`.
    CreateStart,
    /// `session/init/payment`.
    Init,
}

/// `[providers.smartglocal]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `https://demo.smart-glocal.com` (default) or `https://proxy.smart-glocal.com`.
    #[serde(default = "Settings::demo_url")]
    pub base_url: String,
    /// `X-PARTNER-PROJECT`.
    pub project: String,
    /// Your RSA private key (its public half is registered with Smart Glocal).
    pub private_key: SecretString,
    /// Smart Glocal's public key, for webhooks.
    pub public_key: String,
    /// Hash under the signature.
    #[serde(default = "Settings::hash")]
    pub sign_hash: RsaHash,
    /// Encoding of the signature.
    #[serde(default = "Settings::encoding")]
    pub sign_encoding: SignatureEncoding,
    /// Amount units.
    #[serde(default = "Settings::units")]
    pub amount_units: AmountUnits,
    /// Calls that start a payment.
    #[serde(default = "Settings::flow")]
    pub flow: Flow,
    /// Smallest amount (the document's 11,000 IDR).
    #[serde(default = "Settings::min_amount")]
    pub min_amount: u64,
}

impl crate::providers::registry::AdapterSettings for Settings {
    const NAME: &'static str = "smartglocal";

    fn build(
        settings: std::sync::Arc<Self>,
        context: crate::providers::registry::BuildContext<'_>,
    ) -> Result<std::sync::Arc<dyn crate::providers::PaymentProvider>, ConfigError> {
        Ok(std::sync::Arc::new(SmartGlocal::new(settings, context.timeout)?))
    }
}

impl Settings {
    fn demo_url() -> String {
        "https://demo.smart-glocal.com".into()
    }
    fn hash() -> RsaHash {
        RsaHash::Sha256
    }
    fn encoding() -> SignatureEncoding {
        SignatureEncoding::Base64
    }
    fn units() -> AmountUnits {
        AmountUnits::Whole
    }
    fn flow() -> Flow {
        Flow::CreateStart
    }
    fn min_amount() -> u64 {
        11_000
    }
}

/// The Smart Glocal adapter.
#[derive(Debug)]
pub struct SmartGlocal {
    settings: std::sync::Arc<Settings>,
    signer: RsaSigner,
    verifier: RsaVerifier,
    http: reqwest::Client,
}

impl SmartGlocal {
    /// Reads the keys once.
    pub fn new(
        settings: std::sync::Arc<Settings>,
        timeout: std::time::Duration,
    ) -> Result<SmartGlocal, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid { name: "providers.smartglocal", reason };
        let signer = RsaSigner::from_text(settings.private_key.expose_secret())
            .map_err(|e| invalid(format!("private_key: {e}")))?;
        let verifier =
            RsaVerifier::from_text(&settings.public_key).map_err(|e| invalid(format!("public_key: {e}")))?;
        let http = http::client(timeout).map_err(invalid)?;
        Ok(SmartGlocal { settings, signer, verifier, http })
    }

    fn amount(&self, idr: Idr) -> wire::AmountDetails {
        let amount = match self.settings.amount_units {
            AmountUnits::Whole => idr.rupiah(),
            AmountUnits::Minor => idr.rupiah().saturating_mul(100),
        };
        wire::AmountDetails { amount, currency: wire::Currency::Idr }
    }

    fn rupiah(&self, amount: u64) -> Option<Idr> {
        match self.settings.amount_units {
            AmountUnits::Whole => Idr::new(amount),
            AmountUnits::Minor => amount.is_multiple_of(100).then(|| Idr::new(amount / 100)).flatten(),
        }
    }

    /// Signs `bytes` (the exact body) and POSTs them to `method`.
    async fn call(&self, method: &str, bytes: Vec<u8>) -> Result<wire::Answer, ProviderError> {
        let bytes = zeroize::Zeroizing::new(bytes);
        let signature = self
            .signer
            .sign_encoded(self.settings.sign_hash, self.settings.sign_encoding, &bytes)
            .map_err(|e| ProviderError::Unavailable(format!("smartglocal: {e}")))?;
        let request = self
            .http
            .post(format!("{}/api/v1/{method}", self.settings.base_url))
            .header("Content-Type", "application/json")
            .header("X-PARTNER-PROJECT", &self.settings.project)
            .header("X-PARTNER-SIGN", signature)
            .body(bytes.to_vec());
        http::send("smartglocal", request).await?.json("smartglocal")
    }

    async fn call_json<B: serde::Serialize>(
        &self,
        method: &str,
        body: &B,
    ) -> Result<wire::Answer, ProviderError> {
        let bytes =
            serde_json::to_vec(body).map_err(|e| ProviderError::Unavailable(format!("smartglocal: {e}")))?;
        self.call(method, bytes).await
    }

    /// A session answer's outcome; an `error` answer is a refusal.
    fn outcome(&self, answer: wire::Answer) -> Result<ProviderOutcome, ProviderError> {
        match (answer.status, answer.session) {
            (wire::AnswerStatus::Ok, Some(session)) => wire::outcome(&session, &|a| self.rupiah(a)),
            (wire::AnswerStatus::Ok, None) => {
                Err(ProviderError::Unavailable("smartglocal: no session".into()))
            }
            (wire::AnswerStatus::Error, _) => {
                let e = answer
                    .error
                    .unwrap_or(wire::ApiError { code: "unknown".into(), description: String::new() });
                tracing::warn!(code = %e.code, description = %e.description, "smart glocal refused the call");
                Err(ProviderError::Refused { code: format!("smartglocal_{}", e.code) })
            }
        }
    }

    fn refund_outcome(session_id: &str, done: Option<bool>) -> Result<RefundOutcome, ProviderError> {
        match done {
            Some(true) => Ok(RefundOutcome::done(session_id)),
            Some(false) => Err(ProviderError::Refused { code: "smartglocal_refund_failed".into() }),
            None => Ok(RefundOutcome::pending(session_id)),
        }
    }

    async fn session_call(
        &self,
        method: &str,
        attempt: AttemptRef<'_>,
    ) -> Result<ProviderOutcome, ProviderError> {
        let session_id = attempt.provider_ref.ok_or(ProviderError::NotFound)?;
        self.outcome(self.call_json(method, &wire::SessionId { session_id }).await?)
    }
}

#[async_trait]
impl PaymentProvider for SmartGlocal {
    fn name(&self) -> &'static str {
        <Settings as crate::providers::registry::AdapterSettings>::NAME
    }

    /// The provider's test host: `demo.smart-glocal.com`.
    fn test_environment(&self) -> bool {
        crate::providers::test_host(&self.settings.base_url, |host| host.starts_with("demo."))
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
            PaymentMethodKind::Card => &["nik", "email"],
            PaymentMethodKind::Qris
            | PaymentMethodKind::VirtualAccount
            | PaymentMethodKind::Ewallet
            | PaymentMethodKind::ConvenienceStore => &[],
        }
    }

    fn check_request(&self, request: &PaymentRequest<'_>) -> Result<(), ValidationError> {
        if request.amount.rupiah() < self.settings.min_amount {
            return Err(ValidationError::new(ErrorCode::AmountTooSmall).at("amount"));
        }
        let MethodDetails::Card(card) = request.method else {
            return Err(ValidationError::new(ErrorCode::PaymentMethodUnavailable).at("method"));
        };
        required(card.nik.as_ref(), "nik")?;
        required(request.customer.email.as_ref(), "email")?;
        Ok(())
    }

    async fn create_payment(&self, request: &PaymentRequest<'_>) -> Result<ProviderOutcome, ProviderError> {
        let MethodDetails::Card(card) = request.method else {
            return Err(ProviderError::Refused { code: "method_unsupported".into() });
        };
        let missing = || ProviderError::Refused { code: "missing_customer_details".into() };
        let nik = card.nik.as_ref().ok_or_else(missing)?;
        let email = request.customer.email.as_ref().ok_or_else(missing)?;
        let amount = self.amount(request.amount);
        let customer = wire::CustomerRef { reference: request.attempt_id.to_owned() };
        let options = || wire::PaymentOptions { return_url: &request.return_url };
        let session_id = match self.settings.flow {
            Flow::CreateStart => {
                let create = wire::CreateSession {
                    amount_details: amount,
                    customer: customer.clone(),
                    payment_options: options(),
                };
                let answer = self.call_json("session/create", &create).await?;
                let id = self.outcome(answer)?.provider_ref.ok_or_else(|| {
                    ProviderError::Unavailable("smartglocal: session/create gave no id".into())
                })?;
                request.provider_ref.set(&id);
                Some(id)
            }
            Flow::Init => None,
        };
        let holder = card.holder_name.as_str();
        let full_name = request.customer.name.as_ref().map_or(holder, |n| n.as_str());
        let body = wire::StartPayment {
            session_id: session_id.as_deref(),
            payment_details: wire::PaymentDetails {
                kind: "card",
                card: wire::Card {
                    kind: "bank_card",
                    bank_card: wire::BankCard {
                        number: card.number.expose_secret(),
                        expiration_month: format!("{:02}", card.expiry.month()),
                        expiration_year: format!("{:02}", card.expiry.year() % 100),
                        security_code: card.cvv.expose_secret(),
                        cardholder_name: holder,
                    },
                },
                sender: wire::Sender { full_name, email: email.as_str(), identity_document: nik.as_str() },
            },
            amount_details: amount,
            customer,
            payment_options: options(),
        };
        let bytes =
            serde_json::to_vec(&body).map_err(|e| ProviderError::Unavailable(format!("smartglocal: {e}")))?;
        let method = if session_id.is_some() { "session/start/payment" } else { "session/init/payment" };
        self.outcome(self.call(method, bytes).await?)
    }

    async fn inquire(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        let mut outcome = self.session_call("session/status", attempt).await?;
        // The 3DS form already shown stays; an inquiry does not renew it.
        outcome.action = None;
        Ok(outcome)
    }

    async fn confirm(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        self.session_call("session/confirm", attempt).await
    }

    async fn cancel(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        match self.session_call("session/cancel", attempt).await {
            // Cancelled, or no longer cancellable: say what it is.
            Ok(o) if o.status == kasir_shared::payment::PaymentStatus::Cancelled => Ok(o),
            Ok(_) | Err(ProviderError::Refused { .. }) => {
                let status = self.inquire(attempt).await?;
                match status.status {
                    // Smart Glocal cancels a session left unconfirmed; one still
                    // waiting on 3DS is dropped here and expires on their side.
                    kasir_shared::payment::PaymentStatus::Processing
                    | kasir_shared::payment::PaymentStatus::RequiresAction => Ok(ProviderOutcome {
                        status: kasir_shared::payment::PaymentStatus::Cancelled,
                        ..status
                    }),
                    _ => Ok(status),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn refund_status(
        &self,
        attempt: AttemptRef<'_>,
        refund_id: &str,
    ) -> Result<RefundOutcome, ProviderError> {
        let session_id = attempt.provider_ref.ok_or(ProviderError::NotFound)?;
        let answer = self.call_json("session/status", &wire::SessionId { session_id }).await?;
        let Some(session) = answer.session.filter(|_| answer.status == wire::AnswerStatus::Ok) else {
            return Err(ProviderError::Unavailable("smartglocal: status without a session".into()));
        };
        // Only the refund named by our id counts here: a status answer lists
        // every refund of the session. Not listed (an `error` answer to the
        // refund, metadata not echoed): not known, so not an outcome.
        let Some(refund) = session.refund(refund_id, false) else {
            return Err(ProviderError::Unavailable("smartglocal: refund not listed".into()));
        };
        Self::refund_outcome(session_id, wire::refund_done(Some(refund)))
    }

    async fn refund(
        &self,
        attempt: AttemptRef<'_>,
        refund_id: &str,
        amount: Idr,
    ) -> Result<RefundOutcome, ProviderError> {
        // Without Smart Glocal's session id there is nothing to refund
        // through (a payment the merchant resolved by hand): nothing is sent.
        let session_id = attempt.provider_ref.ok_or_else(|| ProviderError::Refused {
            code: "refund_without_provider_reference_unsupported".into(),
        })?;
        let body = wire::Refund { session_id, amount_details: self.amount(amount), metadata: refund_id };
        let answer = self.call_json("session/refund", &body).await?;
        match answer.status {
            wire::AnswerStatus::Ok => {
                // The refund operation's own status decides: `succeeded` is
                // done, `failed` refused, anything else (`in_progress`,
                // `pending`, none yet) still pending.
                let refund = answer.session.as_ref().and_then(|s| s.refund(refund_id, true));
                Self::refund_outcome(session_id, wire::refund_done(refund))
            }
            // `session/refund` and its error codes are documented nowhere
            // (FACTS.md §3 lists no refund method), so an `error` answer
            // cannot be read as "no money moved": failing the refund would
            // release its amount for a second refund that might pay twice.
            // It stays pending and reserved; `refund_status` reads the
            // session's refunds by our metadata, and a refund still unknown
            // after `review_after` goes to the merchant for review.
            wire::AnswerStatus::Error => {
                let e = answer
                    .error
                    .unwrap_or(wire::ApiError { code: "unknown".into(), description: String::new() });
                tracing::warn!(code = %e.code, description = %e.description,
                    "smart glocal answered the refund with an error; left pending, asked about later");
                Ok(RefundOutcome::pending(session_id))
            }
        }
    }

    fn verify_webhook(
        &self,
        request: &WebhookRequest<'_>,
        _now_secs: i64,
    ) -> Result<WebhookReport, WebhookError> {
        let signature = request.header("x-partner-sign").ok_or(WebhookError::Signature)?;
        let settings = &self.settings;
        if !self.verifier.verify_encoded(settings.sign_hash, settings.sign_encoding, request.body, signature)
        {
            return Err(WebhookError::Signature);
        }
        let hook: wire::Webhook =
            serde_json::from_slice(request.body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let payment = hook.session.acquiring_payments.last();
        let attempt_id = payment
            .and_then(|p| p.customer.as_ref())
            .map(|c| c.reference.clone())
            .filter(|r| r.starts_with("pa_"));
        let echo = payment.map(|p| wire::echo(p, &|a| self.rupiah(a))).unwrap_or_default();
        let kind = match hook.kind.as_str() {
            // `error` is not final (FACTS.md §3): for an open attempt, answer
            // 200, so Smart Glocal does not retry for 30 minutes, and keep
            // asking; for one Kasir closed, `inbound::apply` asks at once and
            // does not acknowledge what it cannot settle.
            _ if hook.session.status == wire::SessionState::Error => WebhookKind::Pending,
            "ready_to_confirm" => WebhookKind::ConfirmRequested,
            "action_required" | "payment_finished" => WebhookKind::Outcome(
                wire::outcome(&hook.session, &|a| self.rupiah(a))
                    .map_err(|e| WebhookError::Malformed(e.to_string()))?,
            ),
            // Refund notices and types added later: ask rather than guess.
            _ => WebhookKind::Inquire,
        };
        Ok(WebhookReport { provider_ref: Some(hook.session.id), attempt_id, echo, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::providers::fixture;

    #[test]
    fn signatures_match_openssl() {
        let signer = RsaSigner::from_text(&fixture("smartglocal_partner.key.pem")).unwrap();
        let body = fixture("smartglocal_request.msg");
        let ours = signer.sign_encoded(RsaHash::Sha256, SignatureEncoding::Base64, body.as_bytes()).unwrap();
        assert_eq!(ours, fixture("smartglocal_request.sig").trim());
        let sg = RsaVerifier::from_text(&fixture("smartglocal_sg.pub.pem")).unwrap();
        let sig = fixture("smartglocal_webhook.sig");
        assert!(sg.verify_encoded(RsaHash::Sha256, SignatureEncoding::Base64, body.as_bytes(), &sig));
        assert!(!sg.verify_encoded(RsaHash::Sha512, SignatureEncoding::Base64, body.as_bytes(), &sig));
    }
}
