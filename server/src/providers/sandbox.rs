//! The built-in `sandbox` provider: the default for every method, with no
//! credentials. It behaves like a real provider: it keeps its own ledger
//! (`sandbox_payments`, apart from Kasir's attempts), answers status
//! inquiries from it, and reports outcomes through a signed webhook to
//! `POST /webhooks/sandbox`, the same pipeline real providers use.
//!
//! Magic values (also in the README):
//!
//! | card number | outcome |
//! |---|---|
//! | `4000000000003220` | 3DS challenge (approve or decline on the sandbox page) |
//! | `4000000000000002` | declined, `card_declined` |
//! | `4000000000009995` | declined, `insufficient_funds` |
//! | `4000000000000119` | the provider charges but never answers: the attempt is `unknown` until the reconciler's inquiry finds it `succeeded` |
//! | any other valid card (e.g. `4242424242424242`) | succeeded at once |
//!
//! QRIS shows a real dynamic payload (built by `kasir-shared`, valid CRC,
//! the session's amount); virtual accounts show a number; e-wallets redirect
//! to a sandbox approval page. QR, VA and e-wallet payments are completed
//! by the shopper on the sandbox page or, in test mode, by
//! `POST /v1/test_helpers/checkout_sessions/{id}/pay`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kasir_shared::money::Idr;
use kasir_shared::payment::{PaymentMethodKind, PaymentStatus, Store as Chain, Wallet};
use kasir_shared::qris::{MerchantCriteria, QrisMerchant};
use kasir_shared::secret::SecretString;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{
    AttemptRef, Echo, EchoedAmount, MethodDetails, PaymentProvider, PaymentRequest, ProviderAction,
    ProviderError, ProviderOutcome, RefundOutcome, WebhookError, WebhookKind, WebhookReport, WebhookRequest,
};
use crate::ids::{new_id, random_digits};
use crate::signing::{self, SignatureError};
use crate::store::{Store, StoreError, now_ms};

/// 3DS challenge.
pub const CARD_3DS: &str = "4000000000003220";
/// Issuer decline.
pub const CARD_DECLINED: &str = "4000000000000002";
/// Insufficient funds.
pub const CARD_INSUFFICIENT_FUNDS: &str = "4000000000009995";
/// Charged, but the answer never comes back.
pub const CARD_TIMEOUT: &str = "4000000000000119";

/// The header the sandbox signs its webhooks with.
pub const SIGNATURE_HEADER: &str = "sandbox-signature";
/// How far a webhook's timestamp may be from now.
const TOLERANCE_SECS: i64 = 300;
/// QR codes and virtual accounts live at most this long.
const ACTION_TTL_MS: i64 = 15 * 60 * 1000;
/// How long a sandbox VA or payment code stays payable, at most.
const LONG_ACTION_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// One payment in the sandbox's ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPayment {
    /// `sbx_…`.
    pub id: String,
    /// Kasir's attempt id (the "order number" Kasir sent).
    pub attempt_id: String,
    /// Method name.
    pub method: String,
    /// Whole rupiah.
    pub amount: i64,
    /// Status (Kasir's wire names).
    pub status: String,
    /// Refunded so far.
    pub amount_refunded: i64,
}

/// The webhook body the sandbox sends.
#[derive(Debug, Serialize, Deserialize)]
struct WebhookBody {
    payment_id: String,
    status: String,
    amount: i64,
}

/// The built-in sandbox provider.
#[derive(Debug)]
pub struct Sandbox {
    store: Store,
    webhook: Arc<SandboxWebhook>,
    public_url: String,
    signature_limits: signing::SignatureLimits,
}

impl Sandbox {
    /// A sandbox whose ledger lives in `store`, which sends its webhooks to
    /// `webhook_url` (the server's own `/webhooks/sandbox`) signed with
    /// `secret`, and whose shopper pages live under `public_url`.
    pub fn new(store: Store, webhook_url: String, secret: SecretString, public_url: String) -> Sandbox {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Sandbox {
            store,
            webhook: Arc::new(SandboxWebhook { http, url: webhook_url, secret }),
            public_url,
            signature_limits: signing::SignatureLimits::default(),
        }
    }

    /// What a webhook's signature header may cost to check.
    pub fn with_signature_limits(mut self, limits: signing::SignatureLimits) -> Sandbox {
        self.signature_limits = limits;
        self
    }

    /// The token the payment's approval page carries in its form, so that a
    /// post from another site cannot approve it (issue 15): an HMAC of the
    /// payment id under the sandbox's secret.
    pub fn form_token(&self, id: &str) -> String {
        let mut header =
            signing::sign(self.webhook.secret.expose_secret().as_bytes(), 0, format!("form|{id}").as_bytes());
        header.split_off(header.len().saturating_sub(32))
    }

    /// Whether `token` is the payment's form token (constant time).
    pub fn form_token_matches(&self, id: &str, token: &str) -> bool {
        bool::from(subtle::ConstantTimeEq::ct_eq(self.form_token(id).as_bytes(), token.as_bytes()))
    }

    /// The shopper-facing page of a payment (3DS challenge or wallet approval).
    pub fn page_url(&self, id: &str) -> String {
        format!("{}/sandbox/pay/{id}", self.public_url)
    }

    async fn insert(&self, p: &SandboxPayment) -> Result<(), StoreError> {
        let now = now_ms();
        let p = p.clone();
        self.store
            .write_one(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO sandbox_payments (id, attempt_id, method, amount, status, scenario, \
                         amount_refunded, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
                    )
                    .bind(&p.id)
                    .bind(&p.attempt_id)
                    .bind(&p.method)
                    .bind(p.amount)
                    .bind(&p.status)
                    .bind(&p.method)
                    .bind(now)
                    .bind(now)
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// A payment by the sandbox's id or by Kasir's attempt id.
    pub async fn payment(&self, id: &str) -> Result<Option<SandboxPayment>, StoreError> {
        let row = sqlx::query(
            "SELECT id, attempt_id, method, amount, status, amount_refunded FROM sandbox_payments \
             WHERE id = $1 OR attempt_id = $2",
        )
        .bind(id)
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        row.map(|r| {
            Ok(SandboxPayment {
                id: r.try_get("id")?,
                attempt_id: r.try_get("attempt_id")?,
                method: r.try_get("method")?,
                amount: r.try_get("amount")?,
                status: r.try_get("status")?,
                amount_refunded: r.try_get("amount_refunded")?,
            })
        })
        .transpose()
        .map_err(StoreError::Database)
    }

    /// Moves a payment waiting for the shopper to `to` (the shopper approved,
    /// declined, or paid the QR/VA). Returns whether it changed; when it did,
    /// the signed webhook has been delivered to Kasir (or given up on, in
    /// which case the reconciler's inquiry settles it) before this returns.
    pub async fn complete(&self, id: &str, to: PaymentStatus) -> Result<bool, StoreError> {
        let key = id.to_owned();
        let changed = self
            .store
            .write_one(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "UPDATE sandbox_payments SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
                    )
                    .bind(to.as_str())
                    .bind(now_ms())
                    .bind(&key)
                    .bind(PaymentStatus::RequiresAction.as_str())
                    .execute(conn)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            })
            .await?;
        if changed && let Some(payment) = self.payment(id).await? {
            self.webhook.send(&payment).await;
        }
        Ok(changed)
    }

    fn outcome(payment: &SandboxPayment) -> Result<ProviderOutcome, ProviderError> {
        let status = PaymentStatus::from_wire(&payment.status)
            .ok_or_else(|| ProviderError::Unavailable(format!("ledger status {:?}", payment.status)))?;
        Ok(ProviderOutcome {
            provider_ref: Some(payment.id.clone()),
            status,
            action: None,
            // Declined on the sandbox's page: by the bank for a card (3DS),
            // by the shopper or the wallet for anything else.
            failure_code: (status == PaymentStatus::Failed).then(|| {
                let card = payment.method == PaymentMethodKind::Card.as_str();
                (if card { "card_declined" } else { "payment_declined" }).to_owned()
            }),
            echo: Echo {
                amount: Some(Idr::from_i64(payment.amount).map_or_else(
                    || EchoedAmount::Unreadable(payment.amount.to_string()),
                    EchoedAmount::Rupiah,
                )),
                currency: None,
                order: Some(payment.attempt_id.clone()),
            },
        })
    }

    fn qris_merchant(name: &str) -> QrisMerchant {
        // QRIS names are printable ASCII, at most 25 characters.
        let mut name: String = name.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(25).collect();
        if name.trim().is_empty() {
            name = "Kasir Sandbox".into();
        }
        QrisMerchant {
            name,
            city: "Jakarta".into(),
            postal_code: None,
            nmid: "ID1026000000001".into(),
            mcc: "5999".into(),
            criteria: MerchantCriteria::Umi,
            acquirer_gui: "ID.CO.KASIR.WWW".into(),
            merchant_pan: "936000000000000017".into(),
            merchant_id: "KASIRSANDBOX".into(),
        }
    }
}

fn unavailable(e: StoreError) -> ProviderError {
    ProviderError::Unavailable(format!("sandbox ledger: {e}"))
}

#[async_trait]
impl PaymentProvider for Sandbox {
    fn name(&self) -> &'static str {
        super::registry::SANDBOX
    }

    fn test_environment(&self) -> bool {
        true
    }

    fn supports(&self, _method: PaymentMethodKind) -> bool {
        true
    }

    fn check_request(&self, request: &PaymentRequest<'_>) -> Result<(), kasir_shared::ValidationError> {
        // Never for real money, whatever the routing says.
        if request.livemode {
            return Err(kasir_shared::ValidationError::new(kasir_shared::ErrorCode::LiveModeSandbox));
        }
        Ok(())
    }

    /// The ledger is Kasir's own and written before any answer: a payment
    /// it does not have was never made.
    fn not_found_is_final(&self) -> bool {
        true
    }

    async fn create_payment(&self, request: &PaymentRequest<'_>) -> Result<ProviderOutcome, ProviderError> {
        if request.livemode {
            return Err(ProviderError::Refused { code: "livemode_sandbox".into() });
        }
        let id = new_id("sbx");
        let mut payment = SandboxPayment {
            id: id.clone(),
            attempt_id: request.attempt_id.to_owned(),
            method: request.method.kind().as_str().to_owned(),
            amount: request.amount.to_i64(),
            status: PaymentStatus::RequiresAction.as_str().to_owned(),
            amount_refunded: 0,
        };
        // A QR lives 15 minutes (as QRIS codes do); a VA or a payment code,
        // paid at an ATM or a till, lives until the session's deadline (at
        // most a day), as gateways give them hours.
        let action_expires = request.expires_at_ms.min(now_ms() + ACTION_TTL_MS);
        let long_expires = request.expires_at_ms.min(now_ms() + LONG_ACTION_TTL_MS);
        let (status, action, failure) = match request.method {
            MethodDetails::Card(card) => match card.number.expose_secret() {
                CARD_3DS => {
                    let url = self.page_url(&id);
                    // Like a bank's ACS form: posts itself into the challenge page.
                    let html = format!(
                        "<!doctype html><html><body><form id=\"f\" method=\"get\" action=\"{url}\">\
                         <noscript><button>Lanjut ke 3-D Secure / Continue to 3-D Secure</button></noscript>\
                         </form><script>document.getElementById('f').submit()</script></body></html>"
                    );
                    (PaymentStatus::RequiresAction, Some(ProviderAction::ThreeDsHtml(html)), None)
                }
                CARD_DECLINED => (PaymentStatus::Failed, None, Some("card_declined")),
                CARD_INSUFFICIENT_FUNDS => (PaymentStatus::Failed, None, Some("insufficient_funds")),
                CARD_TIMEOUT => {
                    // The money moves, the answer is lost: Kasir's own
                    // timeout ends this call, and only an inquiry can tell.
                    payment.status = PaymentStatus::Succeeded.as_str().to_owned();
                    self.insert(&payment).await.map_err(unavailable)?;
                    std::future::pending::<()>().await;
                    return Err(ProviderError::Timeout);
                }
                _ => (PaymentStatus::Succeeded, None, None),
            },
            MethodDetails::Qris => {
                let amount = request.amount;
                let qr = Sandbox::qris_merchant(request.merchant_name)
                    .dynamic_payload(amount, &id[..id.len().min(25)])
                    .map_err(|e| ProviderError::Refused { code: e.code().to_owned() })?;
                let action = ProviderAction::ShowQr {
                    payload: Some(qr.as_str().to_owned()),
                    image_url: None,
                    expires_at_ms: action_expires,
                };
                (PaymentStatus::RequiresAction, Some(action), None)
            }
            MethodDetails::VirtualAccount(bank) => {
                let action = ProviderAction::ShowVirtualAccount {
                    bank: *bank,
                    number: format!("8808{}", random_digits(12)),
                    // Mandiri bill payment names the company as well.
                    biller_code: (*bank == kasir_shared::payment::Bank::Mandiri).then(|| "70012".to_owned()),
                    expires_at_ms: long_expires,
                };
                (PaymentStatus::RequiresAction, Some(action), None)
            }
            MethodDetails::Ewallet { wallet, .. } => {
                // GoPay also gives a QR for a shopper on a computer (as
                // Midtrans's `generate-qr-code` does); the others only the
                // link (Midtrans's ShopeePay has only its deep link).
                let qr_payload = match wallet {
                    Wallet::Gopay => Some(
                        Sandbox::qris_merchant(request.merchant_name)
                            .dynamic_payload(request.amount, &id[..id.len().min(25)])
                            .map_err(|e| ProviderError::Refused { code: e.code().to_owned() })?
                            .as_str()
                            .to_owned(),
                    ),
                    Wallet::Dana | Wallet::Ovo | Wallet::Shopeepay | Wallet::Linkaja => None,
                };
                let action =
                    ProviderAction::Redirect { url: self.page_url(&id), qr_payload, qr_image_url: None };
                (PaymentStatus::RequiresAction, Some(action), None)
            }
            MethodDetails::ConvenienceStore(store) => {
                // Numeric codes, as the cashier types them; the lengths
                // differ per chain so a screen cannot assume one.
                let code = match store {
                    Chain::Indomaret => random_digits(14),
                    Chain::Alfamart => random_digits(16),
                };
                let action =
                    ProviderAction::ShowPaymentCode { store: *store, code, expires_at_ms: long_expires };
                (PaymentStatus::RequiresAction, Some(action), None)
            }
        };
        payment.status = status.as_str().to_owned();
        self.insert(&payment).await.map_err(unavailable)?;
        if status.is_final() {
            // Real providers confirm a synchronous answer by webhook too;
            // Kasir must treat the duplicate as a no-op.
            let (webhook, paid) = (Arc::clone(&self.webhook), payment.clone());
            tokio::spawn(async move { webhook.send(&paid).await });
        }
        Ok(ProviderOutcome {
            provider_ref: Some(id),
            status,
            action,
            failure_code: failure.map(str::to_owned),
            echo: Echo::default(),
        })
    }

    async fn inquire(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        let key = attempt.provider_ref.unwrap_or(attempt.attempt_id);
        let payment = self.payment(key).await.map_err(unavailable)?.ok_or(ProviderError::NotFound)?;
        Sandbox::outcome(&payment)
    }

    async fn cancel(&self, attempt: AttemptRef<'_>) -> Result<ProviderOutcome, ProviderError> {
        let key = attempt.provider_ref.unwrap_or(attempt.attempt_id);
        let payment = self.payment(key).await.map_err(unavailable)?.ok_or(ProviderError::NotFound)?;
        let id = payment.id.clone();
        self.store
            .write_one(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE sandbox_payments SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
                    )
                    .bind(PaymentStatus::Cancelled.as_str())
                    .bind(now_ms())
                    .bind(&id)
                    .bind(PaymentStatus::RequiresAction.as_str())
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            })
            .await
            .map_err(unavailable)?;
        let after = self.payment(&payment.id).await.map_err(unavailable)?.ok_or(ProviderError::NotFound)?;
        Sandbox::outcome(&after)
    }

    async fn refund(
        &self,
        attempt: AttemptRef<'_>,
        refund_id: &str,
        amount: Idr,
    ) -> Result<RefundOutcome, ProviderError> {
        let key = attempt.provider_ref.unwrap_or(attempt.attempt_id);
        let amount = amount.to_i64();
        let key = key.to_owned();
        let refunded = self
            .store
            .write_one(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "UPDATE sandbox_payments SET amount_refunded = amount_refunded + $1, updated_at = $2 \
                         WHERE id = $3 AND status = 'succeeded' AND amount_refunded + $4 <= amount",
                    )
                    .bind(amount)
                    .bind(now_ms())
                    .bind(&key)
                    .bind(amount)
                    .execute(conn)
                    .await?;
                    Ok(done.rows_affected() == 1)
                })
            })
            .await
            .map_err(unavailable)?;
        if !refunded {
            return Err(ProviderError::Refused { code: "refund_exceeds_payment".into() });
        }
        Ok(RefundOutcome::done(format!("sbx_re_{refund_id}")))
    }

    fn installment_months(&self) -> &'static [u8] {
        &[3, 6, 12]
    }

    fn verify_webhook(
        &self,
        request: &WebhookRequest<'_>,
        now_secs: i64,
    ) -> Result<WebhookReport, WebhookError> {
        let header = request.header(SIGNATURE_HEADER).ok_or(WebhookError::Signature)?;
        let body = request.body;
        signing::verify(
            self.webhook.secret.expose_secret().as_bytes(),
            header,
            body,
            now_secs,
            TOLERANCE_SECS,
            self.signature_limits,
        )
        .map_err(|e| match e {
            SignatureError::Invalid => WebhookError::Signature,
            SignatureError::Stale => WebhookError::Stale,
        })?;
        let body: WebhookBody =
            serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let status = match body.status.as_str() {
            "succeeded" => PaymentStatus::Succeeded,
            "failed" => PaymentStatus::Failed,
            "cancelled" => PaymentStatus::Cancelled,
            "expired" => PaymentStatus::Expired,
            other => return Err(WebhookError::Malformed(format!("status {other:?}"))),
        };
        let echo = Echo {
            amount: Some(
                u64::try_from(body.amount)
                    .ok()
                    .and_then(Idr::new)
                    .map_or_else(|| EchoedAmount::Unreadable(body.amount.to_string()), EchoedAmount::Rupiah),
            ),
            currency: None,
            order: None,
        };
        let outcome = ProviderOutcome {
            provider_ref: Some(body.payment_id.clone()),
            status,
            action: None,
            failure_code: None,
            echo: echo.clone(),
        };
        Ok(WebhookReport {
            provider_ref: Some(body.payment_id),
            attempt_id: None,
            echo,
            kind: WebhookKind::Outcome(outcome),
        })
    }
}

/// Sends the sandbox's signed webhooks to Kasir.
#[derive(Debug)]
struct SandboxWebhook {
    http: reqwest::Client,
    url: String,
    secret: SecretString,
}

impl SandboxWebhook {
    /// POSTs the signed webhook for `payment`, up to three tries.
    async fn send(&self, payment: &SandboxPayment) {
        let body = WebhookBody {
            payment_id: payment.id.clone(),
            status: payment.status.clone(),
            amount: payment.amount,
        };
        let Ok(body) = serde_json::to_vec(&body) else { return };
        for attempt in 0..3u32 {
            let signature = signing::sign(self.secret.expose_secret().as_bytes(), now_ms() / 1000, &body);
            let sent = self
                .http
                .post(&self.url)
                .header(SIGNATURE_HEADER, signature)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(res) if res.status().is_success() => return,
                Ok(res) => {
                    tracing::warn!(status = %res.status(), payment = %payment.id, "sandbox webhook refused")
                }
                Err(e) => tracing::warn!(error = %e, payment = %payment.id, "sandbox webhook not delivered"),
            }
            tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
        }
    }
}
