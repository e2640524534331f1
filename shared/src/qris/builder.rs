//! Building valid QRIS payloads (the sandbox provider shows real ones).

use serde::{Deserialize, Serialize};

use super::QrisPayload;
use super::tlv::{crc16_ccitt_false, push};
use crate::error::{ErrorCode, ValidationError, reject};
use crate::money::Idr;

/// The longest amount EMVCo's tag 54 holds, in characters.
const AMOUNT_MAX_LEN: usize = 13;

/// QRIS merchant criteria (tag 51, sub-tag 03), by business size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MerchantCriteria {
    /// Usaha mikro.
    Umi,
    /// Usaha kecil.
    Uke,
    /// Usaha menengah.
    Ume,
    /// Usaha besar.
    Ube,
    /// Usaha reguler (e.g. public services).
    Ure,
}

impl MerchantCriteria {
    /// The code in the payload.
    pub const fn as_str(self) -> &'static str {
        match self {
            MerchantCriteria::Umi => "UMI",
            MerchantCriteria::Uke => "UKE",
            MerchantCriteria::Ume => "UME",
            MerchantCriteria::Ube => "UBE",
            MerchantCriteria::Ure => "URE",
        }
    }
}

/// What a QRIS acquirer registers about a merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrisMerchant {
    /// Name shown in the payer's app (at most 25 characters).
    pub name: String,
    /// City (at most 15 characters).
    pub city: String,
    /// Postal code, if any.
    pub postal_code: Option<crate::customer::PostalCode>,
    /// National Merchant ID (tag 51, sub-tag 02), `ID` and 13 digits.
    pub nmid: String,
    /// Merchant category code, 4 digits.
    pub mcc: String,
    /// Business size.
    pub criteria: MerchantCriteria,
    /// The acquirer's reverse-domain identifier (tag 26, sub-tag 00), e.g.
    /// `ID.CO.KASIR.WWW`; at most 32 characters.
    pub acquirer_gui: String,
    /// Merchant PAN (sub-tag 01), starting with the acquirer's NNS (`9360…`);
    /// at most 19 characters.
    pub merchant_pan: String,
    /// The acquirer's merchant id (sub-tag 02); at most 15 characters.
    pub merchant_id: String,
}

impl QrisMerchant {
    /// A static payload: the payer types the amount.
    pub fn static_payload(&self) -> Result<QrisPayload, ValidationError> {
        self.build(None, None)
    }

    /// A dynamic payload for one payment of `amount`, carrying `bill_number`.
    /// The amount must fit tag 54: 1 to 9 999 999 999 999 rupiah.
    pub fn dynamic_payload(&self, amount: Idr, bill_number: &str) -> Result<QrisPayload, ValidationError> {
        if amount.is_zero() || amount.rupiah().to_string().len() > AMOUNT_MAX_LEN {
            return reject(ErrorCode::QrisAmount);
        }
        self.build(Some(amount), Some(bill_number))
    }

    fn build(&self, amount: Option<Idr>, bill_number: Option<&str>) -> Result<QrisPayload, ValidationError> {
        let printable = |s: &str| s.bytes().all(|b| (0x20..=0x7E).contains(&b));
        for value in
            [&self.name, &self.city, &self.nmid, &self.acquirer_gui, &self.merchant_pan, &self.merchant_id]
        {
            if value.is_empty() {
                return reject(ErrorCode::QrisMissingField);
            }
            if !printable(value) {
                return reject(ErrorCode::QrisCharacters);
            }
        }
        // EMVCo has no empty sub-fields: a dynamic code names its bill.
        if bill_number.is_some_and(str::is_empty) {
            return reject(ErrorCode::QrisMissingField);
        }
        if bill_number.is_some_and(|b| !printable(b)) {
            return reject(ErrorCode::QrisCharacters);
        }
        if self.name.len() > 25 || self.city.len() > 15 || bill_number.is_some_and(|b| b.len() > 25) {
            return reject(ErrorCode::QrisFieldTooLong);
        }
        self.check_account()?;
        let mut account = String::new();
        push(&mut account, 0, &self.acquirer_gui)?;
        push(&mut account, 1, &self.merchant_pan)?;
        push(&mut account, 2, &self.merchant_id)?;
        push(&mut account, 3, self.criteria.as_str())?;
        let mut national = String::new();
        push(&mut national, 0, "ID.CO.QRIS.WWW")?;
        push(&mut national, 2, &self.nmid)?;
        push(&mut national, 3, self.criteria.as_str())?;

        let mut out = String::with_capacity(256);
        push(&mut out, 0, "01")?;
        push(&mut out, 1, if amount.is_some() { "12" } else { "11" })?;
        push(&mut out, 26, &account)?;
        push(&mut out, 51, &national)?;
        push(&mut out, 52, &self.mcc)?;
        push(&mut out, 53, "360")?;
        if let Some(amount) = amount {
            push(&mut out, 54, &amount.rupiah().to_string())?;
        }
        push(&mut out, 58, "ID")?;
        push(&mut out, 59, &self.name)?;
        push(&mut out, 60, &self.city)?;
        if let Some(postal) = &self.postal_code {
            push(&mut out, 61, postal.as_str())?;
        }
        if let Some(bill) = bill_number {
            let mut additional = String::new();
            push(&mut additional, 1, bill)?;
            push(&mut out, 62, &additional)?;
        }
        out.push_str("6304");
        let crc = crc16_ccitt_false(out.as_bytes());
        out.push_str(&format!("{crc:04X}"));
        QrisPayload::parse(&out)
    }

    /// The QRIS limits of the merchant account template (tag 26) and the NMID
    /// (tag 51), which the parser does not check: a payload that breaks them
    /// parses here and is refused by the payer's app.
    fn check_account(&self) -> Result<(), ValidationError> {
        let nmid_ok = self
            .nmid
            .strip_prefix("ID")
            .is_some_and(|digits| digits.len() == 13 && digits.bytes().all(|b| b.is_ascii_digit()));
        if self.acquirer_gui.len() > 32
            || self.merchant_pan.len() > 19
            || !self.merchant_pan.bytes().all(|b| b.is_ascii_digit())
            || self.merchant_id.len() > 15
            || !nmid_ok
        {
            return reject(ErrorCode::QrisMerchantAccount);
        }
        Ok(())
    }
}
