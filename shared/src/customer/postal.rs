//! Indonesian postal codes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ValidationError, reject};

/// A five-digit Indonesian postal code (`10110`-`99999`; none starts with 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostalCode(String);

impl PostalCode {
    /// Five digits, the first not zero.
    pub fn parse(input: &str) -> Result<PostalCode, ValidationError> {
        let s = input.trim();
        if s.is_empty() {
            return reject(ErrorCode::PostalCodeEmpty);
        }
        if s.len() != 5 || !s.bytes().all(|b| b.is_ascii_digit()) || s.starts_with('0') {
            return reject(ErrorCode::PostalCodeFormat);
        }
        Ok(PostalCode(s.to_owned()))
    }

    /// The five digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PostalCode {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PostalCode::parse(&s)
    }
}

impl From<PostalCode> for String {
    fn from(p: PostalCode) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn five_digits() {
        assert_eq!(PostalCode::parse(" 12210 ").unwrap().as_str(), "12210");
        assert_eq!(PostalCode::parse("").unwrap_err().code(), "postal_code.empty");
        for bad in ["1221", "122100", "0221a", "01221", "1221٠"] {
            assert_eq!(PostalCode::parse(bad).unwrap_err().code(), "postal_code.format", "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            if let Ok(p) = PostalCode::parse(&s) {
                prop_assert_eq!(PostalCode::parse(&p.to_string()).unwrap(), p);
            }
        }
    }
}
