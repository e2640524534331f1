//! Midtrans Core API v2 wire structs and their conversions to and from
//! Kasir's domain types. Nothing else in Kasir knows these shapes.

use kasir_shared::payment::{Bank, PaymentStatus, Store, Wallet};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::providers::clock::{JAKARTA_OFFSET_SECS, civil_from_days, days_from_civil};
use crate::providers::{Echo, EchoedAmount, ProviderAction, ProviderOutcome};

/// `POST /v2/charge`: `payment_type`, `transaction_details` and the one
/// method object `payment_type` names.
#[derive(Debug, Serialize)]
pub struct ChargeRequest<'a> {
    /// `credit_card`, `bank_transfer`, `permata`, `echannel`, `qris`, `gopay`,
    /// `shopeepay` or `cstore`.
    pub payment_type: &'static str,
    /// Our order id and the amount.
    pub transaction_details: TransactionDetails<'a>,
    /// Card: the token and 3DS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_card: Option<CreditCard<'a>>,
    /// BCA, BNI, BRI (and CIMB) virtual accounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_transfer: Option<BankTransfer>,
    /// Mandiri bill payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub echannel: Option<Echannel>,
    /// QRIS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qris: Option<Qris>,
    /// GoPay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gopay: Option<Gopay>,
    /// ShopeePay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shopeepay: Option<Shopeepay>,
    /// Indomaret / Alfamart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cstore: Option<Cstore>,
    /// What Kasir knows of the shopper (all optional at Midtrans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_details: Option<CustomerDetails>,
    /// Every method but cards: the code dies with the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_expiry: Option<CustomExpiry>,
}

/// `transaction_details`.
#[derive(Debug, Serialize)]
pub struct TransactionDetails<'a> {
    /// Kasir's attempt id, unchanged (`pa_` + 24 base62: within Midtrans's
    /// characters).
    pub order_id: &'a str,
    /// Whole rupiah, a JSON integer (decimals are refused).
    pub gross_amount: u64,
}

/// `credit_card`.
#[derive(Debug, Serialize)]
pub struct CreditCard<'a> {
    /// From `GET /v2/token`.
    pub token_id: &'a str,
    /// 3DS always.
    pub authentication: bool,
    /// Installment months, with the issuing bank.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installment_term: Option<u8>,
    /// The acquiring bank for installments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<&'a str>,
}

/// `bank_transfer`.
#[derive(Debug, Serialize)]
pub struct BankTransfer {
    /// `bca`, `bni`, `bri`.
    pub bank: &'static str,
}

/// `echannel` (Mandiri bill payment).
#[derive(Debug, Serialize)]
pub struct Echannel {
    /// At most 10 characters.
    pub bill_info1: String,
    /// At most 30 characters.
    pub bill_info2: String,
}

/// `qris`.
#[derive(Debug, Serialize)]
pub struct Qris {
    /// `gopay` (the documented default acquirer).
    pub acquirer: &'static str,
}

/// `gopay`.
#[derive(Debug, Serialize)]
pub struct Gopay {
    /// Send the shopper back after paying in the app.
    pub enable_callback: bool,
    /// Where.
    pub callback_url: String,
}

/// `shopeepay`.
#[derive(Debug, Serialize)]
pub struct Shopeepay {
    /// Where the app sends the shopper back.
    pub callback_url: String,
}

/// `cstore`.
#[derive(Debug, Serialize)]
pub struct Cstore {
    /// `indomaret` or `alfamart`.
    pub store: &'static str,
    /// Shown at the till (Indomaret).
    pub message: String,
}

/// `customer_details`.
#[derive(Debug, Serialize)]
pub struct CustomerDetails {
    /// The shopper's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone, `+62…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// `custom_expiry`.
#[derive(Debug, Serialize)]
pub struct CustomExpiry {
    /// `YYYY-MM-DD HH:MM:SS +0700`.
    pub order_time: String,
    /// How long from `order_time`.
    pub expiry_duration: i64,
    /// Always `second`.
    pub unit: &'static str,
}

/// `POST /v2/{id}/refund`.
#[derive(Debug, Serialize)]
pub struct RefundRequest<'a> {
    /// Kasir's refund id: Midtrans's idempotency key for the refund.
    pub refund_key: &'a str,
    /// Whole rupiah.
    pub amount: u64,
    /// Free text.
    pub reason: &'static str,
}

/// One entry of `actions`.
#[derive(Debug, Deserialize, Clone)]
pub struct Action {
    /// `generate-qr-code`, `deeplink-redirect`, …
    pub name: String,
    /// Where.
    pub url: String,
}

/// One entry of `va_numbers`.
#[derive(Debug, Deserialize, Clone)]
pub struct VaNumber {
    /// `bca`, `bni`, `bri`, …
    pub bank: String,
    /// The account number.
    pub va_number: String,
}

/// One refund in a status answer.
#[derive(Debug, Deserialize, Clone)]
pub struct RefundEntry {
    /// The key Kasir sent.
    #[serde(default)]
    pub refund_key: Option<String>,
    /// `"5000.00"`.
    #[serde(default)]
    pub refund_amount: Option<Value>,
}

/// Any Midtrans answer or notification: every field optional, because the
/// same object describes a charge, a status, an error and a notification,
/// and Midtrans documents few of them as always present.
#[derive(Debug, Deserialize, Default)]
pub struct Transaction {
    /// A string (`"201"`); read leniently.
    #[serde(default)]
    pub status_code: Option<Value>,
    /// Human-readable.
    #[serde(default)]
    pub status_message: Option<String>,
    /// Midtrans's id.
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// Ours.
    #[serde(default)]
    pub order_id: Option<String>,
    /// `"150000.00"`.
    #[serde(default)]
    pub gross_amount: Option<Value>,
    /// `IDR`.
    #[serde(default)]
    pub currency: Option<String>,
    /// The method.
    #[serde(default)]
    pub payment_type: Option<String>,
    /// `pending`, `capture`, `settlement`, …
    #[serde(default)]
    pub transaction_status: Option<String>,
    /// `accept`, `challenge`, `deny`; absent for some methods.
    #[serde(default)]
    pub fraud_status: Option<String>,
    /// The card issuer's response code (`51`: insufficient funds).
    #[serde(default)]
    pub channel_response_code: Option<Value>,
    /// QR and deep-link actions.
    #[serde(default)]
    pub actions: Vec<Action>,
    /// The QRIS payload, when Midtrans gives it.
    #[serde(default)]
    pub qr_string: Option<String>,
    /// Virtual accounts.
    #[serde(default)]
    pub va_numbers: Vec<VaNumber>,
    /// Permata's account.
    #[serde(default)]
    pub permata_va_number: Option<String>,
    /// Mandiri: the bill key.
    #[serde(default)]
    pub bill_key: Option<String>,
    /// Mandiri: the company code.
    #[serde(default)]
    pub biller_code: Option<String>,
    /// Indomaret / Alfamart code.
    #[serde(default)]
    pub payment_code: Option<String>,
    /// `indomaret` / `alfamart`.
    #[serde(default)]
    pub store: Option<String>,
    /// 3DS page.
    #[serde(default)]
    pub redirect_url: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` WIB.
    #[serde(default)]
    pub expiry_time: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` WIB.
    #[serde(default)]
    pub settlement_time: Option<String>,
    /// Refunds made.
    #[serde(default)]
    pub refunds: Vec<RefundEntry>,
    /// The refund's amount in a refund answer (`"5000.00"`).
    #[serde(default)]
    pub refund_amount: Option<Value>,
    /// `GET /v2/token`.
    #[serde(default)]
    pub token_id: Option<String>,
}

impl Transaction {
    /// `status_code` as a number (a string or a number on the wire).
    pub fn code(&self) -> Option<u16> {
        match self.status_code.as_ref()? {
            Value::String(s) => s.trim().parse().ok(),
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            _ => None,
        }
    }

    /// What the answer echoes of the payment.
    pub fn echo(&self) -> Echo {
        Echo {
            amount: self.gross_amount.as_ref().map(EchoedAmount::from_json),
            currency: self.currency.clone(),
            order: self.order_id.clone(),
        }
    }

    fn action(&self, name: &str) -> Option<String> {
        self.actions.iter().find(|a| a.name == name).map(|a| a.url.clone())
    }

    fn lower(field: &Option<String>) -> Option<String> {
        field.as_deref().map(|s| s.trim().to_ascii_lowercase())
    }
}

/// The method Kasir asked for, as far as the answer's shape depends on it.
#[derive(Debug, Clone, Copy)]
pub enum Asked {
    /// A card.
    Card,
    /// QRIS.
    Qris,
    /// A virtual account at this bank.
    VirtualAccount(Bank),
    /// A wallet.
    Ewallet(Wallet),
    /// A convenience store.
    Store(Store),
}

/// The `payment_type` and bank for a virtual account: Permata and Mandiri
/// are their own payment types; `None` for banks Midtrans does not offer.
pub fn va_payment_type(bank: Bank) -> Option<(&'static str, Option<&'static str>)> {
    match bank {
        Bank::Bca => Some(("bank_transfer", Some("bca"))),
        Bank::Bni => Some(("bank_transfer", Some("bni"))),
        Bank::Bri => Some(("bank_transfer", Some("bri"))),
        Bank::Permata => Some(("permata", None)),
        Bank::Mandiri => Some(("echannel", None)),
        _ => None,
    }
}

/// The method a status answer describes, where the answer carries what the
/// shopper needs to pay it (an account number, a bill key, a payment code);
/// `None` for QRIS, wallets and cards, whose QR, link or 3DS page only the
/// charge answer has.
pub fn asked_from_status(answer: &Transaction) -> Option<Asked> {
    match Transaction::lower(&answer.payment_type).as_deref()? {
        "echannel" => Some(Asked::VirtualAccount(Bank::Mandiri)),
        "cstore" => Some(Asked::Store(Store::parse(answer.store.as_deref()?).ok()?)),
        "bank_transfer" | "permata" if answer.permata_va_number.is_some() => {
            Some(Asked::VirtualAccount(Bank::Permata))
        }
        "bank_transfer" => {
            let bank = Bank::parse(&answer.va_numbers.first()?.bank).ok()?;
            va_payment_type(bank).map(|_| Asked::VirtualAccount(bank))
        }
        _ => None,
    }
}

/// Kasir's status for a Midtrans `transaction_status` × `fraud_status`, or
/// `None` for a value Midtrans does not document (the answer then counts as
/// no answer). `held` is true while a cash or bill payment's settlement may
/// still be reversed: it stays `processing` and is asked about again.
pub fn status(transaction_status: &str, fraud_status: Option<&str>, held: bool) -> Option<PaymentStatus> {
    let fraud = fraud_status.map(|f| f.trim().to_ascii_lowercase());
    let fraud = fraud.as_deref();
    Some(match transaction_status.trim().to_ascii_lowercase().as_str() {
        "pending" => PaymentStatus::RequiresAction,
        // Only an accepted capture is money taken; `challenge` waits for the
        // merchant's decision in Midtrans's dashboard.
        "capture" => match fraud {
            Some("accept") => PaymentStatus::Succeeded,
            Some("deny") => PaymentStatus::Failed,
            _ => PaymentStatus::Unknown,
        },
        "settlement" => match fraud {
            None | Some("accept") if held => PaymentStatus::Processing,
            None | Some("accept") => PaymentStatus::Succeeded,
            _ => PaymentStatus::Unknown,
        },
        "deny" => PaymentStatus::Failed,
        "cancel" => PaymentStatus::Cancelled,
        // `expire` is documented; `expired` was reported once in a callback.
        "expire" | "expired" => PaymentStatus::Expired,
        // Refunds are of a paid payment: the attempt stays paid.
        "refund" | "partial_refund" => PaymentStatus::Succeeded,
        // `failure` is undocumented in meaning and `authorize` is pre-auth,
        // which Kasir does not use: neither proves that no money moved.
        "failure" | "authorize" => PaymentStatus::Unknown,
        _ => return None,
    })
}

/// `YYYY-MM-DD HH:MM:SS +0700` for `unix_secs` (the `order_time` format).
pub fn wib_with_zone(unix_secs: i64) -> String {
    format!("{} +0700", wib(unix_secs))
}

/// `YYYY-MM-DD HH:MM:SS` in WIB.
pub fn wib(unix_secs: i64) -> String {
    let local = unix_secs + JAKARTA_OFFSET_SECS;
    let (y, mo, d) = civil_from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    format!("{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

/// Unix seconds of `YYYY-MM-DD HH:MM:SS` in WIB.
pub fn parse_wib(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = std::str::from_utf8(b.get(r)?).ok()?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - JAKARTA_OFFSET_SECS)
}

/// The outcome a charge or status answer describes, or `None` when it
/// carries no documented `transaction_status`.
///
/// - `asked`: the method of a charge answer (which decides the next action);
///   `None` for a status answer, which carries no action.
/// - `default_expiry_ms`: when the code dies if the answer does not say.
/// - `hold_secs`: how long a cash or bill payment's settlement stays
///   `processing` (a reversal may follow it); `now_secs` is now.
pub fn outcome(
    answer: &Transaction,
    asked: Option<Asked>,
    default_expiry_ms: i64,
    hold_secs: i64,
    now_secs: i64,
) -> Option<ProviderOutcome> {
    let payment_type = Transaction::lower(&answer.payment_type).unwrap_or_default();
    let reversible = matches!(payment_type.as_str(), "cstore" | "echannel");
    let held = reversible
        && match answer.settlement_time.as_deref().and_then(parse_wib) {
            Some(settled) => now_secs - settled < hold_secs,
            // When it settled is unknown: keep asking rather than guess.
            None => true,
        };
    let status = status(answer.transaction_status.as_deref()?, answer.fraud_status.as_deref(), held)?;
    let failure_code = (status == PaymentStatus::Failed).then(|| {
        let rc = match &answer.channel_response_code {
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        match (payment_type.as_str(), rc.as_str()) {
            ("credit_card", "51") => "insufficient_funds".to_owned(),
            ("credit_card", _) => "card_declined".to_owned(),
            _ => "payment_declined".to_owned(),
        }
    });
    let action = match (status, asked) {
        (PaymentStatus::RequiresAction, Some(asked)) => Some(next_action(answer, asked, default_expiry_ms)?),
        _ => None,
    };
    Some(ProviderOutcome {
        provider_ref: answer.transaction_id.clone(),
        status,
        action,
        failure_code,
        echo: answer.echo(),
    })
}

/// What the shopper does next, from a pending charge answer; `None` when
/// the answer lacks what the method needs (the outcome is then unknown).
fn next_action(answer: &Transaction, asked: Asked, default_expiry_ms: i64) -> Option<ProviderAction> {
    // The code dies at the earlier of what Kasir asked and what Midtrans says.
    let expires_at_ms = answer
        .expiry_time
        .as_deref()
        .and_then(parse_wib)
        .map_or(default_expiry_ms, |at| (at * 1000).min(default_expiry_ms));
    Some(match asked {
        Asked::Card => ProviderAction::ThreeDsHtml(crate::providers::singapay::transformers::redirect_page(
            answer.redirect_url.as_deref()?,
        )),
        Asked::Qris => ProviderAction::ShowQr {
            payload: answer.qr_string.clone(),
            image_url: if answer.qr_string.is_some() {
                None
            } else {
                Some(answer.action("generate-qr-code-v2").or_else(|| answer.action("generate-qr-code"))?)
            },
            expires_at_ms,
        },
        Asked::VirtualAccount(bank) => {
            let (number, biller_code) = match bank {
                Bank::Permata => (answer.permata_va_number.clone()?, None),
                Bank::Mandiri => (answer.bill_key.clone()?, Some(answer.biller_code.clone()?)),
                _ => {
                    let (_, wire) = va_payment_type(bank)?;
                    let wire = wire?;
                    let va = answer.va_numbers.iter().find(|v| v.bank.eq_ignore_ascii_case(wire))?;
                    (va.va_number.clone(), None)
                }
            };
            ProviderAction::ShowVirtualAccount { bank, number, biller_code, expires_at_ms }
        }
        Asked::Ewallet(_) => ProviderAction::Redirect {
            url: answer.action("deeplink-redirect")?,
            qr_payload: answer.qr_string.clone(),
            qr_image_url: if answer.qr_string.is_some() { None } else { answer.action("generate-qr-code") },
        },
        Asked::Store(store) => {
            ProviderAction::ShowPaymentCode { store, code: answer.payment_code.clone()?, expires_at_ms }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(v: serde_json::Value) -> Transaction {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_an_accepted_capture_or_a_settlement_is_paid() {
        use PaymentStatus as S;
        assert_eq!(status("capture", Some("accept"), false), Some(S::Succeeded));
        assert_eq!(status("capture", Some("challenge"), false), Some(S::Unknown));
        assert_eq!(status("capture", None, false), Some(S::Unknown));
        assert_eq!(status("capture", Some("deny"), false), Some(S::Failed));
        assert_eq!(status("settlement", None, false), Some(S::Succeeded));
        assert_eq!(status("SETTLEMENT", Some("ACCEPT"), false), Some(S::Succeeded));
        assert_eq!(status("settlement", None, true), Some(S::Processing));
        assert_eq!(status("settlement", Some("challenge"), false), Some(S::Unknown));
        assert_eq!(status("PENDING", None, false), Some(S::RequiresAction));
        assert_eq!(status("deny", Some("accept"), false), Some(S::Failed));
        assert_eq!(status("expire", None, false), Some(S::Expired));
        assert_eq!(status("cancel", None, false), Some(S::Cancelled));
        assert_eq!(status("failure", None, false), Some(S::Unknown));
        assert_eq!(status("partial_refund", Some("accept"), false), Some(S::Succeeded));
        assert_eq!(status("chargeback", None, false), None);
    }

    #[test]
    fn wib_times_round_trip() {
        // 2026-12-01 12:00:00 WIB = 05:00:00 UTC.
        let t = parse_wib("2026-12-01 12:00:00").unwrap();
        assert_eq!(wib(t), "2026-12-01 12:00:00");
        assert_eq!(wib_with_zone(t), "2026-12-01 12:00:00 +0700");
        assert_eq!(crate::providers::clock::iso8601(t, 0, true), "2026-12-01T05:00:00Z");
        for bad in ["2026-12-01T12:00:00", "2026-13-01 12:00:00", "2026-12-01 12:00", ""] {
            assert_eq!(parse_wib(bad), None, "{bad}");
        }
    }

    #[test]
    fn answers_become_next_actions() {
        let now = 1_800_000_000;
        let far = (now + 3600) * 1000;
        // Mandiri: the company code beside the bill key.
        let a = answer(json!({"status_code":"201","transaction_status":"pending","payment_type":"echannel",
            "bill_key":"123456789","biller_code":"70012","order_id":"pa_1","gross_amount":"150000.00"}));
        let o = outcome(&a, Some(Asked::VirtualAccount(Bank::Mandiri)), far, 120, now).unwrap();
        assert_eq!(
            o.action,
            Some(ProviderAction::ShowVirtualAccount {
                bank: Bank::Mandiri,
                number: "123456789".into(),
                biller_code: Some("70012".into()),
                expires_at_ms: far
            })
        );
        assert_eq!(
            o.echo.amount,
            Some(EchoedAmount::Rupiah(kasir_shared::money::Idr::new(150_000).unwrap()))
        );
        // Permata's number is its own field.
        let a =
            answer(json!({"status_code":"201","transaction_status":"pending","payment_type":"bank_transfer",
            "permata_va_number":"8562000000000001"}));
        let o = outcome(&a, Some(Asked::VirtualAccount(Bank::Permata)), far, 120, now).unwrap();
        assert!(
            matches!(o.action, Some(ProviderAction::ShowVirtualAccount { number, .. }) if number == "8562000000000001")
        );
        // A VA answer for another bank is no answer.
        let a =
            answer(json!({"status_code":"201","transaction_status":"pending","payment_type":"bank_transfer",
            "va_numbers":[{"bank":"bni","va_number":"1"}]}));
        assert!(outcome(&a, Some(Asked::VirtualAccount(Bank::Bca)), far, 120, now).is_none());
        // QRIS without a payload: the image; an earlier expiry_time wins.
        let soon = now + 600;
        let a = answer(json!({"status_code":"201","transaction_status":"pending","payment_type":"qris",
            "expiry_time": wib(soon),
            "actions":[{"name":"generate-qr-code","method":"GET","url":"https://x/v2"},
                       {"name":"generate-qr-code-v2","method":"GET","url":"https://x/v4"}]}));
        let o = outcome(&a, Some(Asked::Qris), far, 120, now).unwrap();
        assert_eq!(
            o.action,
            Some(ProviderAction::ShowQr {
                payload: None,
                image_url: Some("https://x/v4".into()),
                expires_at_ms: soon * 1000
            })
        );
        // A settled Indomaret payment is held while a reversal may come.
        let a = answer(json!({"status_code":"200","transaction_status":"settlement","payment_type":"cstore",
            "settlement_time": wib(now - 30)}));
        assert_eq!(outcome(&a, None, 0, 120, now).unwrap().status, PaymentStatus::Processing);
        assert_eq!(outcome(&a, None, 0, 120, now + 200).unwrap().status, PaymentStatus::Succeeded);
        // A status answer carries a VA again (not a QR).
        let a =
            answer(json!({"status_code":"201","transaction_status":"pending","payment_type":"bank_transfer",
            "va_numbers":[{"bank":"bri","va_number":"777"}]}));
        assert!(matches!(asked_from_status(&a), Some(Asked::VirtualAccount(Bank::Bri))));
        let a = answer(
            json!({"status_code":"201","transaction_status":"pending","payment_type":"cstore","store":"Indomaret"}),
        );
        assert!(matches!(asked_from_status(&a), Some(Asked::Store(Store::Indomaret))));
        let a = answer(json!({"status_code":"201","transaction_status":"pending","payment_type":"qris"}));
        assert!(asked_from_status(&a).is_none());
        // A card declined for funds.
        let a = answer(json!({"status_code":"202","transaction_status":"deny","payment_type":"credit_card",
            "fraud_status":"accept","channel_response_code":"51"}));
        assert_eq!(
            outcome(&a, Some(Asked::Card), 0, 120, now).unwrap().failure_code.as_deref(),
            Some("insufficient_funds")
        );
    }
}
