//! The merchant's own order reference.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ValidationError, reject};

/// The merchant's order id: 1-64 characters of letters, digits and `- _ . : /`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderReference(String);

impl OrderReference {
    /// Longest reference accepted.
    pub const MAX: usize = 64;

    /// Trims and checks length and characters.
    pub fn parse(input: &str) -> Result<OrderReference, ValidationError> {
        let s = input.trim();
        if s.is_empty() {
            return reject(ErrorCode::ReferenceEmpty);
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b)) {
            return reject(ErrorCode::ReferenceCharacters);
        }
        if s.len() > Self::MAX {
            return reject(ErrorCode::ReferenceTooLong);
        }
        Ok(OrderReference(s.to_owned()))
    }

    /// The reference.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for OrderReference {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        OrderReference::parse(&s)
    }
}

impl From<OrderReference> for String {
    fn from(r: OrderReference) -> String {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checks_characters_and_length() {
        assert_eq!(OrderReference::parse(" INV/2026/11-0001 ").unwrap().as_str(), "INV/2026/11-0001");
        assert_eq!(OrderReference::parse("").unwrap_err().code(), "reference.empty");
        assert_eq!(OrderReference::parse("order #1").unwrap_err().code(), "reference.characters");
        assert_eq!(OrderReference::parse(&"a".repeat(65)).unwrap_err().code(), "reference.too_long");
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            if let Ok(r) = OrderReference::parse(&s) {
                prop_assert_eq!(OrderReference::parse(&r.to_string()).unwrap(), r);
            }
        }
    }
}
