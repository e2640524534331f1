//! A parsed, checked QRIS payload.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::tlv::{self, Field, crc16_ccitt_false};
use crate::error::{ErrorCode, ValidationError, reject};
use crate::money::Idr;

/// Longest payload accepted (EMVCo allows 512 characters).
const MAX_LEN: usize = 512;

/// A QRIS payload whose structure and CRC are valid, ready to render as a QR
/// code. Serialised as the payload string itself.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QrisPayload {
    raw: String,
    dynamic: bool,
    merchant_name: String,
    merchant_city: String,
    postal_code: Option<String>,
    mcc: String,
    nmid: Option<String>,
    criteria: Option<String>,
    amount: Option<Idr>,
    account_guis: Vec<String>,
    bill_number: Option<String>,
}

impl QrisPayload {
    /// Parses and checks a merchant-presented payload (FACTS.md section 5).
    pub fn parse(input: &str) -> Result<QrisPayload, ValidationError> {
        let raw = input.trim();
        if raw.is_empty() {
            return reject(ErrorCode::QrisEmpty);
        }
        if raw.len() > MAX_LEN {
            return reject(ErrorCode::QrisTooLong);
        }
        if !raw.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
            return reject(ErrorCode::QrisCharacters);
        }
        let fields = tlv::fields(raw)?;
        match fields.first() {
            Some(Field { tag: 0, value: "01" }) => {}
            _ => return reject(ErrorCode::QrisFormat),
        }
        let crc_text = match fields.last() {
            Some(Field { tag: 63, value }) if value.len() == 4 => *value,
            _ => return reject(ErrorCode::QrisCrcMissing),
        };
        let declared = u16::from_str_radix(crc_text, 16)
            .ok()
            .filter(|_| crc_text.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
        let signed = &raw.as_bytes()[..raw.len() - 4];
        if declared != Some(crc16_ccitt_false(signed)) {
            return reject(ErrorCode::QrisCrc);
        }
        let mut seen = [false; 100];
        for f in &fields {
            if std::mem::replace(&mut seen[usize::from(f.tag)], true) {
                return reject(ErrorCode::QrisTlv);
            }
        }
        let get = |tag: u8| fields.iter().find(|f| f.tag == tag).map(|f| f.value);
        let required = |tag: u8| {
            get(tag).filter(|v| !v.is_empty()).ok_or(ValidationError::new(ErrorCode::QrisMissingField))
        };

        let dynamic = match get(1) {
            None | Some("11") => false,
            Some("12") => true,
            Some(_) => return reject(ErrorCode::QrisPointOfInitiation),
        };
        let mut account_guis = Vec::new();
        let (mut nmid, mut criteria) = (None, None);
        for f in fields.iter().filter(|f| (26..=51).contains(&f.tag)) {
            let sub = tlv::fields(f.value)?;
            let sub_get = |tag: u8| sub.iter().find(|s| s.tag == tag).map(|s| s.value.to_owned());
            let gui =
                sub_get(0).filter(|g| !g.is_empty()).ok_or(ValidationError::new(ErrorCode::QrisTemplate))?;
            if f.tag == 51 {
                nmid = sub_get(2);
                criteria = sub_get(3);
            }
            account_guis.push(gui);
        }
        if account_guis.is_empty() {
            return reject(ErrorCode::QrisMissingField);
        }
        let mcc = required(52)?;
        if mcc.len() != 4 || !mcc.bytes().all(|b| b.is_ascii_digit()) {
            return reject(ErrorCode::QrisTlv);
        }
        if required(53)? != "360" || required(58)? != "ID" {
            return reject(ErrorCode::QrisCurrency);
        }
        let amount = get(54).map(parse_amount).transpose()?;
        let bill_number = match get(62) {
            Some(additional) => {
                tlv::fields(additional)?.iter().find(|s| s.tag == 1).map(|s| s.value.to_owned())
            }
            None => None,
        };
        Ok(QrisPayload {
            raw: raw.to_owned(),
            dynamic,
            merchant_name: required(59)?.to_owned(),
            merchant_city: required(60)?.to_owned(),
            postal_code: get(61).map(str::to_owned),
            mcc: mcc.to_owned(),
            nmid,
            criteria,
            amount,
            account_guis,
            bill_number,
        })
    }

    /// The payload text to encode in the QR code.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Dynamic (one payment, `010212`) rather than static (`010211`).
    pub fn is_dynamic(&self) -> bool {
        self.dynamic
    }

    /// Merchant name (tag 59).
    pub fn merchant_name(&self) -> &str {
        &self.merchant_name
    }

    /// Merchant city (tag 60).
    pub fn merchant_city(&self) -> &str {
        &self.merchant_city
    }

    /// Postal code (tag 61), if given.
    pub fn postal_code(&self) -> Option<&str> {
        self.postal_code.as_deref()
    }

    /// Merchant category code (tag 52).
    pub fn mcc(&self) -> &str {
        &self.mcc
    }

    /// The National Merchant ID (tag 51, sub-tag 02), e.g. `ID2024…`.
    pub fn nmid(&self) -> Option<&str> {
        self.nmid.as_deref()
    }

    /// Merchant criteria (tag 51, sub-tag 03): `UMI`, `UKE`, `UME`, `UBE` or `URE`.
    pub fn criteria(&self) -> Option<&str> {
        self.criteria.as_deref()
    }

    /// The amount to pay (tag 54); `None` lets the payer type it.
    pub fn amount(&self) -> Option<Idr> {
        self.amount
    }

    /// The global unique identifiers of the merchant account templates (26-51).
    pub fn account_guis(&self) -> &[String] {
        &self.account_guis
    }

    /// Bill number (tag 62, sub-tag 01), if given.
    pub fn bill_number(&self) -> Option<&str> {
        self.bill_number.as_deref()
    }
}

/// Tag 54: digits with an optional decimal point; rupiah has no cents.
fn parse_amount(value: &str) -> Result<Idr, ValidationError> {
    // EMVCo: tag 54 is at most 13 characters.
    if value.len() > 13 {
        return reject(ErrorCode::QrisAmount);
    }
    let (whole, fraction) = match value.split_once('.') {
        Some((_, "")) => return reject(ErrorCode::QrisAmount),
        Some(parts) => parts,
        None => (value, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.bytes().any(|b| b != b'0') {
        return reject(ErrorCode::QrisAmount);
    }
    whole
        .parse::<u64>()
        .ok()
        .and_then(Idr::new)
        .filter(|a| !a.is_zero())
        .ok_or(ValidationError::new(ErrorCode::QrisAmount))
}

impl TryFrom<String> for QrisPayload {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        QrisPayload::parse(&s)
    }
}

impl From<QrisPayload> for String {
    fn from(p: QrisPayload) -> String {
        p.raw
    }
}

impl fmt::Debug for QrisPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QrisPayload")
            .field("merchant_name", &self.merchant_name)
            .field("dynamic", &self.dynamic)
            .field("amount", &self.amount)
            .field("nmid", &self.nmid)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for QrisPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}
