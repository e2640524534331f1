//! Smilepayz Pay-In v2.0 wire structs and their conversions to and from
//! Kasir's domain types. Nothing else in Kasir knows these shapes.

use kasir_shared::money::Idr;
use kasir_shared::payment::{Bank, PaymentStatus, Wallet};
use serde::{Deserialize, Serialize};

use crate::providers::{Echo, EchoedAmount, MethodDetails, ProviderAction, ProviderOutcome};

/// `POST /v2.0/transaction/pay-in`. Field order is the order sent (and signed).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayInRequest<'a> {
    /// 6–32 alphanumeric, unique per merchant.
    pub order_no: String,
    /// 1–64 characters.
    pub purpose: String,
    /// The merchant.
    pub merchant: Merchant<'a>,
    /// Amount and currency.
    pub money: Money,
    /// Needed for OVO.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer>,
    /// `QRIS`, `W_DANA`, `BCA`, …
    pub payment_method: &'static str,
    /// Seconds, 300–86400.
    pub expiry_period: i64,
    /// Where the shopper returns.
    pub redirect_url: String,
    /// Where Smilepayz posts the callback.
    pub callback_url: &'a str,
    /// `10` (Indonesia) when `send_area` is set: older documents require it (FACTS.md §1.3 [?]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<u8>,
}

/// `merchant` in requests.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Merchant<'a> {
    /// The merchant id Smilepayz assigned.
    pub merchant_id: &'a str,
}

/// `money`.
#[derive(Debug, Serialize, Deserialize, Clone, Copy)]
pub struct Money {
    /// Always `IDR`.
    pub currency: Currency,
    /// Whole rupiah.
    pub amount: u64,
}

/// The one currency.
#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    /// Rupiah.
    #[serde(rename = "IDR")]
    Idr,
}

/// `payer`.
#[derive(Debug, Serialize)]
pub struct Payer {
    /// `+62…`.
    pub phone: String,
}

/// `POST /v2.0/inquiry-status`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InquiryRequest<'a> {
    /// 1 = pay-in.
    pub trade_type: u8,
    /// Our order number.
    pub order_no: &'a str,
    /// Smilepayz's, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trade_no: Option<&'a str>,
}

/// A transaction's status (the documented set; anything else fails to parse,
/// which leaves the outcome unknown rather than guessed).
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum TradeStatus {
    /// Waiting for the customer to choose a method.
    Init,
    /// Waiting for payment.
    Processing,
    /// Paid.
    Success,
    /// Failed (final).
    Failed,
    /// Not paid in time.
    Expired,
}

impl TradeStatus {
    /// Kasir's status.
    pub fn kasir(self) -> PaymentStatus {
        match self {
            TradeStatus::Init | TradeStatus::Processing => PaymentStatus::RequiresAction,
            TradeStatus::Success => PaymentStatus::Succeeded,
            TradeStatus::Failed => PaymentStatus::Failed,
            TradeStatus::Expired => PaymentStatus::Expired,
        }
    }
}

/// Pay-in and inquiry answers (`code` `"00"` is success; any other code is an error).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    /// `"00"` on success.
    pub code: String,
    /// Human-readable.
    #[serde(default)]
    pub message: String,
    /// Smilepayz's id.
    #[serde(default)]
    pub trade_no: Option<String>,
    /// Echoed order number.
    #[serde(default)]
    pub order_no: Option<String>,
    /// Status; absent on errors.
    #[serde(default)]
    pub status: Option<TradeStatus>,
    /// Amount.
    #[serde(default)]
    pub money: Option<Money>,
    /// What the shopper does next.
    #[serde(default)]
    pub channel: Option<Channel>,
}

/// `channel` in a pay-in answer.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    /// EMVCo payload, or an image URL.
    #[serde(default)]
    pub qr_string: Option<String>,
    /// Virtual account number.
    #[serde(default)]
    pub va_number: Option<String>,
    /// Smilepayz cashier page.
    #[serde(default)]
    pub payment_url: Option<String>,
    /// Wallet deep link, for e-wallets.
    #[serde(default)]
    pub additional_info: Option<AdditionalInfo>,
}

/// `channel.additionalInfo`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AdditionalInfo {
    /// The wallet's own payment page.
    #[serde(default)]
    pub payment_url: Option<String>,
}

/// The callback body (only what Kasir reads; the signature does not cover it).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Callback {
    /// Smilepayz's id: the signed string is `tradeNo|X-TIMESTAMP`.
    pub trade_no: String,
    /// Our order number.
    #[serde(default)]
    pub order_no: Option<String>,
}

/// The method code for what the shopper chose, and whether Smilepayz has
/// confirmed it (FACTS.md §1.4): `QRIS`, `W_DANA`, `W_OVO`, `BCA`, `CIMB`
/// are confirmed; the rest come from a look-alike platform's list.
pub fn method_code(method: &MethodDetails) -> Option<(&'static str, bool)> {
    Some(match method {
        MethodDetails::Card(_) | MethodDetails::ConvenienceStore(_) => return None,
        MethodDetails::Qris => ("QRIS", true),
        MethodDetails::VirtualAccount(bank) => match bank {
            Bank::Bca => ("BCA", true),
            Bank::Cimb => ("CIMB", true),
            Bank::Bni => ("BNI", false),
            Bank::Bri => ("BRI", false),
            Bank::Mandiri => ("MANDIRI", false),
            Bank::Permata => ("PERMATA", false),
            Bank::Danamon => ("DANAMON", false),
            Bank::Bjb => ("BJB", false),
            Bank::Maybank => ("MAYBANK", false),
        },
        MethodDetails::Ewallet { wallet, .. } => match wallet {
            Wallet::Dana => ("W_DANA", true),
            Wallet::Ovo => ("W_OVO", true),
            Wallet::Gopay => ("W_GOPAY", false),
            Wallet::Shopeepay => ("W_SHOPEEPAY", false),
            Wallet::Linkaja => ("W_LINKAJA", false),
        },
    })
}

/// Smilepayz's order number for a Kasir attempt: `pa_X…` without the
/// underscore (26 alphanumerics; the document allows only `[A-Za-z0-9]{6,32}`).
pub fn order_no(attempt_id: &str) -> String {
    attempt_id.replace('_', "")
}

/// The attempt id behind an order number `order_no` made.
pub fn attempt_id(order_no: &str) -> Option<String> {
    order_no.strip_prefix("pa").filter(|rest| !rest.is_empty()).map(|rest| format!("pa_{rest}"))
}

/// The outcome an `"00"` answer describes, with the next action for the
/// method that was asked for.
pub fn outcome(
    answer: &Answer,
    method: Option<&MethodDetails>,
    expires_at_ms: i64,
) -> Option<ProviderOutcome> {
    let status = answer.status?.kasir();
    let channel = answer.channel.as_ref();
    let action = match (status, method) {
        (PaymentStatus::RequiresAction, Some(method)) => action_for(method, channel?, expires_at_ms),
        _ => None,
    };
    Some(ProviderOutcome {
        provider_ref: answer.trade_no.clone(),
        status,
        action,
        failure_code: (status == PaymentStatus::Failed).then(|| "payment_failed".to_owned()),
        echo: Echo {
            amount: answer.money.map(|m| {
                Idr::new(m.amount)
                    .map_or_else(|| EchoedAmount::Unreadable(m.amount.to_string()), EchoedAmount::Rupiah)
            }),
            currency: answer.money.map(|_| "IDR".to_owned()),
            // Our order number maps back to the attempt id; one that does
            // not is kept as sent, so that it differs.
            order: answer.order_no.as_deref().map(|no| attempt_id(no).unwrap_or_else(|| no.to_owned())),
        },
    })
}

fn action_for(method: &MethodDetails, channel: &Channel, expires_at_ms: i64) -> Option<ProviderAction> {
    match method {
        MethodDetails::Qris => {
            let qr = channel.qr_string.clone()?;
            let is_url = qr.starts_with("http://") || qr.starts_with("https://");
            Some(ProviderAction::ShowQr {
                payload: (!is_url).then(|| qr.clone()),
                image_url: is_url.then_some(qr),
                expires_at_ms,
            })
        }
        MethodDetails::VirtualAccount(bank) => Some(ProviderAction::ShowVirtualAccount {
            bank: *bank,
            number: channel.va_number.clone()?,
            biller_code: None,
            expires_at_ms,
        }),
        MethodDetails::Ewallet { .. } => {
            let deep_link = channel.additional_info.as_ref().and_then(|a| a.payment_url.clone());
            Some(ProviderAction::Redirect {
                url: deep_link.or_else(|| channel.payment_url.clone())?,
                qr_payload: None,
                qr_image_url: None,
            })
        }
        MethodDetails::Card(_) | MethodDetails::ConvenienceStore(_) => None,
    }
}

/// Whole rupiah within Smilepayz's range (10,000–999,999,999).
pub fn in_range(amount: Idr) -> bool {
    (10_000..=999_999_999).contains(&amount.rupiah())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_are_alphanumeric_and_map_back() {
        let id = "pa_0123456789ABCDEFGHIJKLMN";
        let no = order_no(id);
        assert!(no.len() <= 32 && no.len() >= 6 && no.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(attempt_id(&no).as_deref(), Some(id));
        assert_eq!(attempt_id("xx12"), None);
    }

    #[test]
    fn the_documents_answers_parse() {
        let doc = include_str!("../../../../tests/fixtures/providers/smilepayz_payin_answer.json");
        let answer: Answer = serde_json::from_str(doc).unwrap();
        let o = outcome(&answer, Some(&MethodDetails::Qris), 1).unwrap();
        assert_eq!(o.status, PaymentStatus::RequiresAction);
        assert_eq!(o.provider_ref.as_deref(), Some("101200012410241325417215"));
        let Some(ProviderAction::ShowQr { payload: Some(p), image_url: None, .. }) = o.action else {
            panic!()
        };
        assert!(p.ends_with("630451D5"));
        assert!(
            serde_json::from_str::<Answer>(r#"{"code":"00","status":"PAID"}"#).is_err(),
            "unknown status"
        );
    }
}
