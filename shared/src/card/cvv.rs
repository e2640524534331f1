//! The card security code (CVV/CVC/CID).

use std::fmt;

use zeroize::Zeroizing;

use super::CardBrand;
use crate::error::{ErrorCode, ValidationError, reject};

/// A security code of the right length for its brand. Card data: zeroised on
/// drop, redacted in `Debug`, no `Display`, no `Clone`, no `Serialize`.
pub struct Cvv(Zeroizing<String>);

impl Cvv {
    /// Three digits, or four for American Express.
    pub fn parse(input: &str, brand: CardBrand) -> Result<Cvv, ValidationError> {
        let s = input.trim();
        if s.is_empty() {
            return reject(ErrorCode::CvvEmpty);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return reject(ErrorCode::CvvCharacters);
        }
        if s.len() != brand.cvv_length() {
            return reject(ErrorCode::CvvLength);
        }
        Ok(Cvv(Zeroizing::new(s.to_owned())))
    }

    /// The digits. Call only where they are sent to a provider.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Cvv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvv(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn four_digits_for_amex_three_otherwise() {
        assert_eq!(Cvv::parse("123", CardBrand::Visa).unwrap().expose_secret(), "123");
        assert_eq!(Cvv::parse(" 1234 ", CardBrand::Amex).unwrap().expose_secret(), "1234");
        assert_eq!(Cvv::parse("1234", CardBrand::Visa).unwrap_err().code(), "cvv.length");
        assert_eq!(Cvv::parse("123", CardBrand::Amex).unwrap_err().code(), "cvv.length");
        assert_eq!(Cvv::parse("", CardBrand::Visa).unwrap_err().code(), "cvv.empty");
        assert_eq!(Cvv::parse("12a", CardBrand::Visa).unwrap_err().code(), "cvv.characters");
        assert_eq!(format!("{:?}", Cvv::parse("100", CardBrand::Visa).unwrap()), "Cvv(***)");
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            for brand in CardBrand::ALL {
                let _ = Cvv::parse(&s, brand);
            }
        }
    }
}
