//! Full names.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ValidationError, reject};

/// A person's full name: 3-50 characters after trimming and collapsing
/// whitespace (Smart Glocal's limit), letters in any script plus `. ' - ,`.
/// Single names, common in Indonesia, are fine.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FullName(String);

impl FullName {
    /// Minimum length in characters.
    pub const MIN: usize = 3;
    /// Maximum length in characters.
    pub const MAX: usize = 50;

    /// Trims, collapses inner whitespace, and checks length and characters.
    pub fn parse(input: &str) -> Result<FullName, ValidationError> {
        let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return reject(ErrorCode::NameEmpty);
        }
        let allowed = |c: char| c.is_alphabetic() || c == ' ' || ".'-,\u{2019}".contains(c);
        if !name.chars().all(allowed) || !name.chars().any(char::is_alphabetic) {
            return reject(ErrorCode::NameCharacters);
        }
        let len = name.chars().count();
        if len < Self::MIN {
            return reject(ErrorCode::NameTooShort);
        }
        if len > Self::MAX {
            return reject(ErrorCode::NameTooLong);
        }
        Ok(FullName(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FullName {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        FullName::parse(&s)
    }
}

impl From<FullName> for String {
    fn from(n: FullName) -> String {
        n.0
    }
}

impl fmt::Debug for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FullName({})", super::mask_tail(&self.0, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_real_names() {
        assert_eq!(FullName::parse("  Budi   Santoso ").unwrap().as_str(), "Budi Santoso");
        for n in
            ["Sukarno", "Siti Nurhaliza", "Ni Luh Putu Ayu", "O'Brien", "Jean-Luc Picard", "Ahmad, S.Kom."]
        {
            assert!(FullName::parse(n).is_ok(), "{n}");
        }
        assert_eq!(FullName::parse(&"a".repeat(50)).unwrap().as_str().len(), 50);
    }

    #[test]
    fn rejects_with_stable_codes() {
        let code = |s: &str| FullName::parse(s).unwrap_err().code();
        assert_eq!(code(" "), "name.empty");
        assert_eq!(code("Al"), "name.too_short");
        assert_eq!(code(&"a".repeat(51)), "name.too_long");
        assert_eq!(code("Budi 2"), "name.characters");
        assert_eq!(code("<script>"), "name.characters");
        assert_eq!(code("..."), "name.characters");
        assert_eq!(code("Budi\u{0}"), "name.characters");
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            if let Ok(n) = FullName::parse(&s) {
                prop_assert_eq!(FullName::parse(n.as_str()).unwrap(), n);
            }
        }
    }
}
