//! Indonesian phone numbers.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ValidationError, reject};

/// An Indonesian phone number, kept as its national significant number (the
/// digits after `+62`). Accepts `0812-3456-7890`, `62812…`, `+62 812…`,
/// `(+62) 812…`, `0062 812…`, `(0812) 3456 7890` and `(021) 555-1234`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber {
    national: String,
}

impl PhoneNumber {
    /// Parses and normalises any common way of writing an Indonesian number.
    pub fn parse(input: &str) -> Result<PhoneNumber, ValidationError> {
        let s = input.trim();
        if s.is_empty() {
            return reject(ErrorCode::PhoneEmpty);
        }
        let (plus, body) = if let Some(rest) = s.strip_prefix('+') {
            (true, rest)
        } else if let Some(rest) = s.strip_prefix("(+") {
            // `(+62) 812…`, a common Indonesian way of writing it: the `+` is
            // accepted only before a country code closed by `)`.
            match rest.split_once(')') {
                Some((code, _)) if !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()) => {
                    (true, rest)
                }
                _ => return reject(ErrorCode::PhoneCharacters),
            }
        } else {
            (false, s)
        };
        if !body.chars().all(|c| c.is_ascii_digit() || " -.()".contains(c)) {
            return reject(ErrorCode::PhoneCharacters);
        }
        let digits: String = body.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return reject(ErrorCode::PhoneEmpty);
        }
        let national = if plus {
            match digits.strip_prefix("62") {
                Some(rest) => rest,
                None => return reject(ErrorCode::PhoneCountry),
            }
        } else if let Some(rest) = digits.strip_prefix("0062") {
            rest
        } else if let Some(rest) = digits.strip_prefix("62") {
            rest
        } else if digits.starts_with("00") {
            // The international prefix, dialling a country other than Indonesia.
            return reject(ErrorCode::PhoneCountry);
        } else if let Some(rest) = digits.strip_prefix('0') {
            rest
        } else {
            digits.as_str()
        };
        // `+62 (0) 812…` and `620812…` carry the trunk zero after the country code.
        let national = national.strip_prefix('0').unwrap_or(national);
        match national.bytes().next() {
            Some(b'2'..=b'9') => {}
            Some(_) => return reject(ErrorCode::PhoneFormat),
            None => return reject(ErrorCode::PhoneLength),
        }
        let min = if national.starts_with('8') { 9 } else { 8 };
        if !(min..=12).contains(&national.len()) {
            return reject(ErrorCode::PhoneLength);
        }
        Ok(PhoneNumber { national: national.to_owned() })
    }

    /// Parses and requires a mobile number (see [`PhoneNumber::is_mobile`]), as
    /// e-wallets do.
    pub fn parse_mobile(input: &str) -> Result<PhoneNumber, ValidationError> {
        let phone = PhoneNumber::parse(input)?;
        if phone.is_mobile() { Ok(phone) } else { reject(ErrorCode::PhoneNotMobile) }
    }

    /// Whether this is a mobile number: one of the operators' blocks `081x`,
    /// `082x`, `083x`, `085x`, `087x`, `088x`, `089x`. The rest of `08…` are
    /// service numbers (`0800` toll-free, `0804` shared cost, `0807` UAN,
    /// `0809` premium) or unused, and no e-wallet account has one.
    pub fn is_mobile(&self) -> bool {
        matches!(self.national.as_bytes(), [b'8', b'1' | b'2' | b'3' | b'5' | b'7' | b'8' | b'9', ..])
    }

    /// E.164: `+6281234567890`.
    pub fn e164(&self) -> String {
        format!("+62{}", self.national)
    }

    /// The domestic form: `081234567890`.
    pub fn national(&self) -> String {
        format!("0{}", self.national)
    }

    /// The digits after the country code: `81234567890`.
    pub fn significant(&self) -> &str {
        &self.national
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PhoneNumber::parse(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.e164()
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.national;
        let tail = &n[n.len() - 2..];
        write!(f, "PhoneNumber(+62{}{tail})", super::mask_tail(&n[..n.len() - 2], 3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_indonesian_numbers() {
        for input in [
            "0812-3456-7890",
            "081234567890",
            "6281234567890",
            "+62 812 3456 7890",
            "+62-812-3456-7890",
            "+62 (0) 812 3456 7890",
            "0062 812 3456 7890",
            "81234567890",
            " 0812.3456.7890 ",
        ] {
            let p = PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(p.e164(), "+6281234567890", "{input}");
            assert_eq!(p.national(), "081234567890");
            assert!(p.is_mobile());
        }
        let landline = PhoneNumber::parse("(021) 555-1234").unwrap();
        assert_eq!(landline.e164(), "+62215551234");
        assert!(!landline.is_mobile());
        assert_eq!(PhoneNumber::parse_mobile("(021) 555-1234").unwrap_err().code(), "phone.not_mobile");
        assert_eq!(
            format!("{:?}", PhoneNumber::parse("081234567890").unwrap()),
            "PhoneNumber(+62812******90)"
        );
    }

    #[test]
    fn rejects_with_stable_codes() {
        let code = |s: &str| PhoneNumber::parse(s).unwrap_err().code();
        assert_eq!(code(""), "phone.empty");
        assert_eq!(code("+"), "phone.empty");
        assert_eq!(code("0812-abc"), "phone.characters");
        assert_eq!(code("+65 9123 4567"), "phone.country");
        assert_eq!(code("0065 9123 4567"), "phone.country");
        assert_eq!(code("0812"), "phone.length");
        assert_eq!(code("0812345678901234"), "phone.length");
        assert_eq!(code("+62"), "phone.length");
        assert_eq!(code("0112345678"), "phone.format");
    }

    #[test]
    fn accepts_the_country_code_or_the_leading_group_in_parentheses() {
        for input in [
            "(+62) 812-3456-7890",
            "(+62)81234567890",
            "(+62) (0) 812 3456 7890",
            "(0812) 3456 7890",
            "(0812)-3456-7890",
        ] {
            let p = PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(p.e164(), "+6281234567890", "{input}");
        }
        let code = |s: &str| PhoneNumber::parse(s).unwrap_err().code();
        assert_eq!(code("(+65) 9123 4567"), "phone.country");
        assert_eq!(code("(+62 812 3456 7890"), "phone.characters");
        assert_eq!(code("(+) 62 812 3456 7890"), "phone.characters");
        assert_eq!(code("(+62) +812 3456 7890"), "phone.characters");
        assert_eq!(code("((+62)) 812 3456 7890"), "phone.characters");
        assert_eq!(code("(+6 2) 812 3456 7890"), "phone.characters");
    }

    #[test]
    fn only_the_operators_blocks_are_mobile() {
        for input in [
            "0811-1234-567",
            "0821-1234-5678",
            "0831-1234-5678",
            "0851-1234-5678",
            "0877-1234-5678",
            "0881-1234-5678",
            "0895-1234-5678",
            "+62 812 3456 7890",
        ] {
            let p = PhoneNumber::parse_mobile(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert!(p.is_mobile(), "{input}");
        }
        // Toll-free, shared cost, UAN, premium, and blocks no operator uses.
        for input in [
            "0800-1-234567",
            "0804 1 500 000",
            "08071 234 567",
            "0809 1234 567",
            "+62 800 1234 567",
            "0840 1234 5678",
            "0860 1234 5678",
        ] {
            let p = PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert!(!p.is_mobile(), "{input}");
            assert_eq!(PhoneNumber::parse_mobile(input).unwrap_err().code(), "phone.not_mobile", "{input}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = PhoneNumber::parse(&s);
        }

        #[test]
        fn mobile_means_an_operators_block(block in "8[0-9]", rest in "[0-9]{8}") {
            let p = PhoneNumber::parse(&format!("0{block}{rest}")).unwrap();
            let mobile = ["81", "82", "83", "85", "87", "88", "89"].contains(&block.as_str());
            prop_assert_eq!(p.is_mobile(), mobile);
            prop_assert_eq!(PhoneNumber::parse_mobile(&format!("(+62) {block}{rest}")).is_ok(), mobile);
        }

        #[test]
        fn round_trips(rest in "8[0-9]{8,11}") {
            let p = PhoneNumber::parse(&format!("0{rest}")).unwrap();
            prop_assert_eq!(&PhoneNumber::parse(&p.e164()).unwrap(), &p);
            prop_assert_eq!(&PhoneNumber::parse(&p.national()).unwrap(), &p);
            let json = serde_json::to_string(&p).unwrap();
            prop_assert_eq!(serde_json::from_str::<PhoneNumber>(&json).unwrap(), p);
        }
    }
}
