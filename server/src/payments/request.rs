//! `POST /v1/checkout_sessions`: the request as sent, and its parsed form.

use std::collections::BTreeMap;

use kasir_shared::customer::{Email, FullName, PhoneNumber};
use kasir_shared::money::Idr;
use kasir_shared::payment::{OrderReference, PaymentMethodKind};
use kasir_shared::{ErrorCode, Locale, ValidationError};
use serde::{Deserialize, Serialize};

/// Bounds on `expires_in`, in seconds (5 minutes to 24 hours).
pub const EXPIRES_IN: std::ops::RangeInclusive<i64> = 300..=86_400;
/// Default `expires_in`: one hour.
pub const DEFAULT_EXPIRES_IN: i64 = 3_600;

/// The request body as the merchant sent it. Values stay raw here so each
/// rejection can name its field; serialised again (sorted maps) to hash it
/// for `Idempotency-Key`.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    /// Integer rupiah.
    #[schema(value_type = i64, example = 150000)]
    pub amount: serde_json::Value,
    /// `IDR`.
    #[serde(default)]
    pub currency: Option<String>,
    /// The merchant's order id (1-64 characters).
    #[schema(min_length = 1, max_length = 64)]
    pub reference: String,
    /// Shown to the shopper.
    #[serde(default)]
    pub description: Option<String>,
    /// Allowed methods; all four when absent.
    #[serde(default)]
    pub payment_methods: Option<Vec<String>>,
    /// What the merchant already knows about the shopper.
    #[serde(default)]
    pub customer: Option<CustomerInput>,
    /// Where the shopper returns after paying.
    #[serde(default)]
    pub return_url: Option<String>,
    /// Seconds until the session expires (300-86400; default 3600).
    #[serde(default)]
    #[schema(minimum = 300, maximum = 86400)]
    pub expires_in: Option<i64>,
    /// `id` or `en`.
    #[serde(default)]
    pub locale: Option<String>,
    /// Up to 20 string pairs.
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// The shopper's details as sent.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A session request that passed every check.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Amount.
    pub amount: Idr,
    /// Order reference.
    pub reference: OrderReference,
    /// Description.
    pub description: Option<String>,
    /// Allowed methods, without duplicates, in the order given.
    pub payment_methods: Vec<PaymentMethodKind>,
    /// Customer name.
    pub name: Option<FullName>,
    /// Customer email.
    pub email: Option<Email>,
    /// Customer phone.
    pub phone: Option<PhoneNumber>,
    /// Return URL.
    pub return_url: Option<String>,
    /// Lifetime in seconds.
    pub expires_in: i64,
    /// Language.
    pub locale: Locale,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
}

fn reject(code: ErrorCode) -> ValidationError {
    ValidationError::new(code)
}

impl CreateSessionRequest {
    /// Checks every field; the first rejection names its field.
    pub fn parse(&self) -> Result<NewSession, ValidationError> {
        let amount = match &self.amount {
            serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(v), _) => Idr::new(v).ok_or(reject(ErrorCode::AmountTooLarge))?,
                (None, Some(_)) => return Err(reject(ErrorCode::AmountTooSmall)),
                (None, None) => return Err(reject(ErrorCode::AmountFormat)),
            },
            _ => return Err(reject(ErrorCode::AmountFormat)),
        };
        let amount = amount.ensure_between(Idr::new(1).unwrap_or(Idr::ZERO), Idr::MAX_PAYMENT)?;
        if self.currency.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case("IDR")) {
            return Err(reject(ErrorCode::CurrencyUnsupported));
        }
        let reference = OrderReference::parse(&self.reference)?;
        let description = self.description.as_deref().map(str::trim).filter(|d| !d.is_empty());
        if description.is_some_and(|d| d.chars().count() > 500) {
            return Err(reject(ErrorCode::DescriptionTooLong));
        }
        // NUL broke PostgreSQL (500); no control character belongs in text a
        // shopper sees or a provider receives.
        if self.description.as_deref().is_some_and(has_control) {
            return Err(reject(ErrorCode::TextControlCharacters).at("description"));
        }
        if has_control(&self.reference) {
            return Err(reject(ErrorCode::TextControlCharacters).at("reference"));
        }
        let mut payment_methods = Vec::new();
        match &self.payment_methods {
            None => payment_methods.extend_from_slice(PaymentMethodKind::ALL),
            Some(list) if list.is_empty() => return Err(reject(ErrorCode::PaymentMethodsEmpty)),
            Some(list) => {
                for (i, m) in list.iter().enumerate() {
                    let kind =
                        PaymentMethodKind::parse(m).map_err(|e| e.at(format!("payment_methods[{i}]")))?;
                    if !payment_methods.contains(&kind) {
                        payment_methods.push(kind);
                    }
                }
            }
        }
        let customer = self.customer.clone().unwrap_or_default();
        let name =
            customer.name.as_deref().map(FullName::parse).transpose().map_err(|e| e.at("customer.name"))?;
        let email =
            customer.email.as_deref().map(Email::parse).transpose().map_err(|e| e.at("customer.email"))?;
        let phone = customer
            .phone
            .as_deref()
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(|e| e.at("customer.phone"))?;
        let return_url = self.return_url.as_deref().map(parse_url).transpose()?;
        let expires_in = self.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
        if !EXPIRES_IN.contains(&expires_in) {
            return Err(reject(ErrorCode::ExpiresInRange));
        }
        let locale = match self.locale.as_deref() {
            None => Locale::Id,
            Some("id") => Locale::Id,
            Some("en") => Locale::En,
            Some(_) => return Err(reject(ErrorCode::LocaleUnsupported)),
        };
        let metadata = self.metadata.clone().unwrap_or_default();
        if metadata.len() > 20 || metadata.iter().any(|(k, v)| k.is_empty() || k.len() > 40 || v.len() > 500)
        {
            return Err(reject(ErrorCode::MetadataTooLarge));
        }
        if let Some((key, _)) = metadata.iter().find(|(k, v)| has_control(k) || has_control(v)) {
            return Err(
                reject(ErrorCode::TextControlCharacters).at(format!("metadata.{}", key.escape_default()))
            );
        }
        Ok(NewSession {
            amount,
            reference,
            description: description.map(str::to_owned),
            payment_methods,
            name,
            email,
            phone,
            return_url,
            expires_in,
            locale,
            metadata,
        })
    }
}

/// Whether `text` holds a control character (C0, DEL or C1).
fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// An absolute `http`/`https` URL with a host, at most 2,048 characters.
fn parse_url(input: &str) -> Result<String, ValidationError> {
    let s = input.trim();
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
    let ok = s.len() <= 2048
        && host.is_some_and(|h| !h.is_empty() && !h.contains(['@', ' ']))
        && !s.chars().any(char::is_control);
    if ok { Ok(s.to_owned()) } else { Err(reject(ErrorCode::UrlInvalid)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: serde_json::Value) -> CreateSessionRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn every_field_is_checked_with_its_own_code() {
        let base = serde_json::json!({"amount": 150000, "reference": "INV-1"});
        let case = |patch: serde_json::Value| {
            let mut v = base.clone();
            v.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
            request(v).parse().map(|_| ()).map_err(|e| (e.code(), e.field().to_owned()))
        };
        assert!(case(serde_json::json!({})).is_ok());
        assert_eq!(case(serde_json::json!({"amount": 1.5})).unwrap_err().0, "amount.format");
        assert_eq!(case(serde_json::json!({"amount": "150000"})).unwrap_err().0, "amount.format");
        assert_eq!(case(serde_json::json!({"amount": -5})).unwrap_err().0, "amount.too_small");
        assert_eq!(case(serde_json::json!({"amount": 0})).unwrap_err().0, "amount.too_small");
        assert_eq!(case(serde_json::json!({"currency": "USD"})).unwrap_err().0, "currency.unsupported");
        assert_eq!(case(serde_json::json!({"reference": "a b"})).unwrap_err().0, "reference.characters");
        assert_eq!(
            case(serde_json::json!({"payment_methods": ["card", "cash"]})).unwrap_err(),
            ("payment_method.unknown", "payment_methods[1]".into())
        );
        assert_eq!(case(serde_json::json!({"payment_methods": []})).unwrap_err().0, "payment_methods.empty");
        assert_eq!(
            case(serde_json::json!({"customer": {"email": "x"}})).unwrap_err(),
            ("email.format", "customer.email".into())
        );
        assert_eq!(
            case(serde_json::json!({"customer": {"phone": "+1 555"}})).unwrap_err(),
            ("phone.country", "customer.phone".into())
        );
        assert_eq!(
            case(serde_json::json!({"return_url": "javascript:alert(1)"})).unwrap_err().0,
            "url.invalid"
        );
        assert_eq!(case(serde_json::json!({"expires_in": 10})).unwrap_err().0, "expires_in.range");
        assert_eq!(case(serde_json::json!({"locale": "fr"})).unwrap_err().0, "locale.unsupported");
        let many: BTreeMap<String, String> = (0..21).map(|i| (format!("k{i}"), "v".into())).collect();
        assert_eq!(case(serde_json::json!({"metadata": many})).unwrap_err().0, "metadata.too_large");
    }
}
