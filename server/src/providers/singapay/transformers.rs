//! SingaPay payment-b2b wire structs (access token, card payment v2.0,
//! inquiry, cancel) and their conversions to and from Kasir's domain types.

use kasir_shared::payment::PaymentStatus;
use serde::{Deserialize, Serialize};

use crate::providers::{Echo, EchoedAmount, ProviderAction, ProviderError, ProviderOutcome};

/// `POST /api/v1.1/access-token/b2b`.
#[derive(Debug, Serialize)]
pub struct TokenRequest {
    /// Always `client_credentials`.
    pub grant_type: &'static str,
}

/// The token answer: `{"status":200,"success":true,"data":{…}}`.
#[derive(Debug, Deserialize)]
pub struct TokenAnswer {
    /// True on success.
    #[serde(default)]
    pub success: bool,
    /// The token.
    #[serde(default)]
    pub data: Option<TokenData>,
    /// On errors.
    #[serde(default)]
    pub response_code: Option<String>,
}

/// `data` of the token answer.
#[derive(Debug, Deserialize)]
pub struct TokenData {
    /// The bearer token.
    pub access_token: String,
    /// Seconds, as a string (`"3600"`; FACTS.md §2.1).
    pub expires_in: String,
}

/// `POST /api/v2.0/card/{account_id}/payment`. Card fields are borrowed
/// from the zeroizing card types for the one serialisation, never stored.
#[derive(Debug, Serialize)]
pub struct PaymentBody<'a> {
    /// Whole rupiah.
    pub amount: u64,
    /// ≤ 255.
    pub goods_name: String,
    /// ≤ 255.
    pub customer_name: &'a str,
    /// ≤ 255.
    pub customer_email: &'a str,
    /// ≤ 50.
    pub customer_phone: String,
    /// ≤ 500.
    pub customer_address: &'a str,
    /// ≤ 100.
    pub customer_city: &'a str,
    /// ≤ 100.
    pub customer_state: &'a str,
    /// ≤ 20.
    pub customer_postal_code: &'a str,
    /// Two letters.
    pub customer_country: &'a str,
    /// Digits only.
    pub card_number: &'a str,
    /// YYMM (FACTS.md §2.2: the OpenAPI page's MMYY is wrong).
    pub card_expiry: String,
    /// 3–4 digits.
    pub card_cvv: &'a str,
    /// ≤ 45.
    pub card_holder_name: String,
    /// ≤ 100.
    pub card_holder_email: &'a str,
    /// Kasir's attempt id.
    pub reference_no: &'a str,
    /// ≤ 500.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Installment payment.
    pub installment: bool,
    /// `"3"`, `"6"`, `"12"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installment_month: Option<String>,
}

/// `PATCH …/cancel/{id}`.
#[derive(Debug, Serialize)]
pub struct CancelBody {
    /// `void` or `refund`.
    pub cancel_type: &'static str,
}

/// The v2 envelope.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    /// `SP000`, `SP001`, …
    pub response_code: String,
    /// Human-readable.
    #[serde(default)]
    pub response_message: String,
    /// The transaction.
    #[serde(default)]
    pub data: Option<CardTransaction>,
}

/// A card transaction as SingaPay reports it.
#[derive(Debug, Deserialize)]
pub struct CardTransaction {
    /// `99…` + ULID.
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// Our reference.
    #[serde(default)]
    pub reference_no: Option<String>,
    /// The transaction's status.
    #[serde(default)]
    pub status: Option<CardStatus>,
    /// `complete` or `redirect`.
    #[serde(default)]
    pub action: Option<String>,
    /// A URL or HTML (FACTS.md §2.2 [?]).
    #[serde(default)]
    pub payment_url: Option<String>,
    /// HTML.
    #[serde(default)]
    pub html_form: Option<String>,
    /// Amount, where reported.
    #[serde(default)]
    pub amount: Option<serde_json::Value>,
}

/// The card lifecycle (FACTS.md §2.2). Anything else fails to parse, which
/// leaves the outcome unknown rather than guessed.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CardStatus {
    /// Waiting for 3DS.
    Pending,
    /// Being processed.
    Processing,
    /// Paid.
    Success,
    /// Declined or failed.
    Failed,
    /// Voided.
    Cancelled,
    /// Refunded after success.
    Refunded,
}

impl CardStatus {
    /// Kasir's status. A refunded payment was paid: refunds are tracked apart.
    pub fn kasir(self) -> PaymentStatus {
        match self {
            CardStatus::Pending => PaymentStatus::RequiresAction,
            CardStatus::Processing => PaymentStatus::Processing,
            CardStatus::Success | CardStatus::Refunded => PaymentStatus::Succeeded,
            CardStatus::Failed => PaymentStatus::Failed,
            CardStatus::Cancelled => PaymentStatus::Cancelled,
        }
    }
}

/// SingaPay's response codes (FACTS.md §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseCode {
    /// Request accepted (the status decides the outcome).
    Accepted,
    /// Transaction failure; also outcome-unknown cases (SP001).
    TransactionFailure,
    /// Insufficient balance (SP003).
    InsufficientFunds,
    /// Duplicate reference (SP004): something with our id already exists.
    DuplicateReference,
    /// Timeout (SP005): ask later.
    Timeout,
    /// General failure, retryable (SP002, SP019).
    GeneralFailure,
    /// Limits exceeded (SP006, SP007).
    LimitExceeded,
    /// Transaction not found (SP008, SP009, SP014).
    NotFound,
    /// The token expired: refresh it (SP013).
    Unauthorized,
    /// The request was refused as invalid (SP012, SP018).
    Invalid,
    /// Kasir's credentials or set-up are wrong (SP010, SP011, SP015, SP016, SP017, SP020, SP403).
    Configuration(String),
    /// A code not in the table.
    Unrecognised(String),
}

impl ResponseCode {
    /// Reads `SP…`.
    pub fn parse(code: &str) -> ResponseCode {
        match code {
            "SP000" => ResponseCode::Accepted,
            "SP001" => ResponseCode::TransactionFailure,
            "SP002" | "SP019" => ResponseCode::GeneralFailure,
            "SP003" => ResponseCode::InsufficientFunds,
            "SP004" => ResponseCode::DuplicateReference,
            "SP005" => ResponseCode::Timeout,
            "SP006" | "SP007" => ResponseCode::LimitExceeded,
            "SP008" | "SP009" | "SP014" => ResponseCode::NotFound,
            "SP013" => ResponseCode::Unauthorized,
            "SP012" | "SP018" => ResponseCode::Invalid,
            "SP010" | "SP011" | "SP015" | "SP016" | "SP017" | "SP020" | "SP403" => {
                ResponseCode::Configuration(code.to_owned())
            }
            other => ResponseCode::Unrecognised(other.to_owned()),
        }
    }
}

/// 3DS page for a `payment_url` that is a URL: the sandboxed frame goes
/// there itself (a GET form would drop the URL's query string).
pub fn redirect_page(url: &str) -> String {
    let escaped = url.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={escaped}\">\
         <p><a href=\"{escaped}\">Continue to your bank / Lanjut ke bank Anda</a></p>"
    )
}

/// The outcome an envelope describes. `SP000` only means accepted: the
/// status decides.
/// SingaPay's own status in an accepted answer (`SP000`), if any.
pub fn card_status(envelope: &Envelope) -> Option<CardStatus> {
    let accepted = matches!(ResponseCode::parse(&envelope.response_code), ResponseCode::Accepted);
    envelope.data.as_ref().and_then(|d| d.status).filter(|_| accepted)
}

/// `SP001`: a failure, or (FACTS §2.3) an outcome SingaPay does not know
/// yet and asks to look up with inquiry-status.
pub fn outcome_unknown(envelope: &Envelope) -> bool {
    matches!(ResponseCode::parse(&envelope.response_code), ResponseCode::TransactionFailure)
}

pub fn outcome(envelope: Envelope) -> Result<ProviderOutcome, ProviderError> {
    let code = ResponseCode::parse(&envelope.response_code);
    let data = envelope.data;
    let provider_ref = data.as_ref().and_then(|d| d.transaction_id.clone());
    let status = data.as_ref().and_then(|d| d.status);
    let echo = data.as_ref().map(echo).unwrap_or_default();
    let refused = |code: &str| Err(ProviderError::Refused { code: code.to_owned() });
    match code {
        ResponseCode::Accepted | ResponseCode::TransactionFailure => {
            let Some(status) = status else {
                // SP001 without a status is an outcome-unknown case: ask.
                return Err(ProviderError::Unavailable(format!("singapay {}", envelope.response_code)));
            };
            let action = match (status, data) {
                (CardStatus::Pending, Some(d)) => three_ds(d),
                _ => None,
            };
            let status = status.kasir();
            if status == PaymentStatus::RequiresAction && action.is_none() {
                return Err(ProviderError::Unavailable("singapay: 3DS without a page".into()));
            }
            Ok(ProviderOutcome {
                provider_ref,
                status,
                action,
                failure_code: (status == PaymentStatus::Failed).then(|| "card_declined".to_owned()),
                echo,
            })
        }
        ResponseCode::InsufficientFunds => refused("insufficient_funds"),
        ResponseCode::LimitExceeded => refused("limit_exceeded"),
        ResponseCode::Invalid => refused("invalid_request"),
        ResponseCode::NotFound => Err(ProviderError::NotFound),
        ResponseCode::Configuration(c) => {
            tracing::error!(code = %c, message = %envelope.response_message, "singapay refused Kasir's credentials or set-up");
            refused("provider_configuration")
        }
        ResponseCode::DuplicateReference
        | ResponseCode::Timeout
        | ResponseCode::GeneralFailure
        | ResponseCode::Unauthorized
        | ResponseCode::Unrecognised(_) => {
            Err(ProviderError::Unavailable(format!("singapay {}", envelope.response_code)))
        }
    }
}

/// What a transaction echoes: its amount, where reported, and our reference.
fn echo(data: &CardTransaction) -> Echo {
    Echo {
        amount: data.amount.as_ref().filter(|a| !a.is_null()).map(EchoedAmount::from_json),
        currency: None,
        order: data.reference_no.clone(),
    }
}

fn three_ds(data: CardTransaction) -> Option<ProviderAction> {
    if let Some(html) = data.html_form.filter(|h| !h.trim().is_empty()) {
        return Some(ProviderAction::ThreeDsHtml(html));
    }
    let page = data.payment_url.filter(|p| !p.trim().is_empty())?;
    if page.starts_with("https://") || page.starts_with("http://") {
        Some(ProviderAction::ThreeDsHtml(redirect_page(&page)))
    } else {
        Some(ProviderAction::ThreeDsHtml(page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(json: &str) -> Envelope {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_documents_answers_map_to_kasir_statuses() {
        let done = envelope(
            r#"{"response_code":"SP000","response_message":"Successfully","data":{"transaction_id":"9901J","reference_no":"r","status":"processing","action":"complete","immediate_success":true}}"#,
        );
        assert_eq!(outcome(done).unwrap().status, PaymentStatus::Processing);
        let tds = envelope(
            r#"{"response_code":"SP000","data":{"transaction_id":"9901J","status":"pending","action":"redirect","requires_3ds":true,"payment_url":"https://secure-3ds.example.com/auth/?a=1&b=2"}}"#,
        );
        let o = outcome(tds).unwrap();
        let Some(ProviderAction::ThreeDsHtml(html)) = o.action else { panic!() };
        assert!(html.contains("https://secure-3ds.example.com/auth/?a=1&amp;b=2"));
        let declined = envelope(
            r#"{"response_code":"SP001","response_message":"Payment declined by issuer","data":{"transaction_id":"9901J","status":"failed"}}"#,
        );
        assert_eq!(outcome(declined).unwrap().status, PaymentStatus::Failed);
        assert!(matches!(
            outcome(envelope(r#"{"response_code":"SP005"}"#)),
            Err(ProviderError::Unavailable(_))
        ));
        assert!(matches!(
            outcome(envelope(r#"{"response_code":"SP001"}"#)),
            Err(ProviderError::Unavailable(_))
        ));
        assert!(matches!(outcome(envelope(r#"{"response_code":"SP009"}"#)), Err(ProviderError::NotFound)));
        assert!(matches!(
            outcome(envelope(r#"{"response_code":"SP003"}"#)),
            Err(ProviderError::Refused { .. })
        ));
        assert!(
            serde_json::from_str::<Envelope>(r#"{"response_code":"SP000","data":{"status":"weird"}}"#)
                .is_err()
        );
    }
}
