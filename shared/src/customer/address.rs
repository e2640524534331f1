//! A card's billing address, as some card providers require it (SingaPay).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::customer::PostalCode;
use crate::error::{ErrorCode, ValidationError};

/// The billing address fields as the widget sends them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BillingFields {
    /// Street address.
    #[serde(default)]
    pub address: String,
    /// City.
    #[serde(default)]
    pub city: String,
    /// Province or state.
    #[serde(default)]
    pub state: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country; `ID` when empty.
    #[serde(default)]
    pub country: String,
}

/// A parsed billing address. Personal data: `Debug` shows only the city.
#[derive(Clone, PartialEq, Eq)]
pub struct BillingAddress {
    address: String,
    city: String,
    state: String,
    postal_code: PostalCode,
    country: String,
}

impl fmt::Debug for BillingAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BillingAddress({}, ***)", self.city)
    }
}

/// A trimmed, non-empty text of at most `max` characters without control characters.
fn line(input: &str, max: usize, field: &'static str) -> Result<String, ValidationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(ValidationError::new(ErrorCode::AddressEmpty).at(field));
    }
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(ValidationError::new(ErrorCode::AddressTooLong).at(field));
    }
    Ok(s.to_owned())
}

/// One typed part of a billing address, checkable alone: the widget checks
/// each as the shopper types, with the rules [`BillingAddress::parse`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingPart {
    /// Street address (at most 200 characters).
    Address,
    /// City (at most 100).
    City,
    /// Province or state (at most 100).
    State,
    /// Indonesian postal code.
    PostalCode,
}

impl BillingFields {
    /// Sets one part, as the widget's form collects them.
    pub fn set(&mut self, part: BillingPart, value: String) {
        let slot = match part {
            BillingPart::Address => &mut self.address,
            BillingPart::City => &mut self.city,
            BillingPart::State => &mut self.state,
            BillingPart::PostalCode => &mut self.postal_code,
        };
        *slot = value;
    }
}

impl BillingPart {
    /// Every part, in the order a form shows them.
    pub const ALL: [BillingPart; 4] =
        [BillingPart::Address, BillingPart::City, BillingPart::State, BillingPart::PostalCode];

    /// The error field (`billing.city`…).
    pub fn field(self) -> &'static str {
        match self {
            BillingPart::Address => "billing.address",
            BillingPart::City => "billing.city",
            BillingPart::State => "billing.state",
            BillingPart::PostalCode => "billing.postal_code",
        }
    }

    /// The part's key in [`BillingFields`] (`postal_code`…).
    pub fn key(self) -> &'static str {
        self.field().trim_start_matches("billing.")
    }

    /// Checks `input` as this part; the error names [`Self::field`].
    pub fn check(self, input: &str) -> Result<(), ValidationError> {
        self.clean(input).map(drop)
    }

    fn clean(self, input: &str) -> Result<String, ValidationError> {
        match self {
            BillingPart::Address => line(input, 200, self.field()),
            BillingPart::City | BillingPart::State => line(input, 100, self.field()),
            BillingPart::PostalCode => {
                PostalCode::parse(input).map(|p| p.as_str().to_owned()).map_err(|e| e.at(self.field()))
            }
        }
    }
}

impl BillingAddress {
    /// Parses every field; errors name the field under `billing.`.
    pub fn parse(fields: &BillingFields) -> Result<BillingAddress, ValidationError> {
        let country = match fields.country.trim() {
            "" => "ID".to_owned(),
            c if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => c.to_ascii_uppercase(),
            _ => return Err(ValidationError::new(ErrorCode::CountryFormat).at("billing.country")),
        };
        Ok(BillingAddress {
            address: BillingPart::Address.clean(&fields.address)?,
            city: BillingPart::City.clean(&fields.city)?,
            state: BillingPart::State.clean(&fields.state)?,
            postal_code: PostalCode::parse(&fields.postal_code)
                .map_err(|e| e.at(BillingPart::PostalCode.field()))?,
            country,
        })
    }

    /// Street address.
    pub fn address(&self) -> &str {
        &self.address
    }
    /// City.
    pub fn city(&self) -> &str {
        &self.city
    }
    /// Province or state.
    pub fn state(&self) -> &str {
        &self.state
    }
    /// Postal code.
    pub fn postal_code(&self) -> &str {
        self.postal_code.as_str()
    }
    /// Two upper-case letters.
    pub fn country(&self) -> &str {
        &self.country
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields() -> BillingFields {
        BillingFields {
            address: " Jl. Sudirman No. 1 ".into(),
            city: "Jakarta".into(),
            state: "DKI Jakarta".into(),
            postal_code: "10210".into(),
            country: String::new(),
        }
    }

    #[test]
    fn parses_and_names_the_bad_field() {
        let a = BillingAddress::parse(&fields()).unwrap();
        assert_eq!((a.address(), a.country(), a.postal_code()), ("Jl. Sudirman No. 1", "ID", "10210"));
        assert!(!format!("{a:?}").contains("Sudirman"));
        let e = BillingAddress::parse(&BillingFields { city: " ".into(), ..fields() }).unwrap_err();
        assert_eq!((e.code(), e.field()), ("address.empty", "billing.city"));
        let e = BillingAddress::parse(&BillingFields { country: "IDN".into(), ..fields() }).unwrap_err();
        assert_eq!((e.code(), e.field()), ("country.format", "billing.country"));
        let e = BillingAddress::parse(&BillingFields { address: "x".repeat(201), ..fields() }).unwrap_err();
        assert_eq!((e.code(), e.field()), ("address.too_long", "billing.address"));
        let e = BillingAddress::parse(&BillingFields { postal_code: "1".into(), ..fields() }).unwrap_err();
        assert_eq!((e.code(), e.field()), ("postal_code.format", "billing.postal_code"));
    }

    #[test]
    fn each_part_checks_alone_as_the_whole_address_does() {
        for part in BillingPart::ALL {
            let e = part.check(" ").unwrap_err();
            assert_eq!(e.field(), part.field());
            let whole = match part {
                BillingPart::Address => BillingFields { address: " ".into(), ..fields() },
                BillingPart::City => BillingFields { city: " ".into(), ..fields() },
                BillingPart::State => BillingFields { state: " ".into(), ..fields() },
                BillingPart::PostalCode => BillingFields { postal_code: " ".into(), ..fields() },
            };
            assert_eq!(BillingAddress::parse(&whole).unwrap_err(), e, "{part:?}");
        }
        assert!(BillingPart::PostalCode.check("10210").is_ok());
        assert!(BillingPart::City.check(&"x".repeat(101)).is_err());
        assert_eq!(BillingPart::PostalCode.key(), "postal_code");
    }

    proptest! {
        #[test]
        fn never_panics(a in ".*", c in ".*", s in ".*", p in ".*", k in ".*") {
            let _ = BillingAddress::parse(&BillingFields { address: a, city: c, state: s, postal_code: p, country: k });
        }
    }
}
