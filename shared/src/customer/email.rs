//! Email addresses.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ValidationError, reject};

/// An email address with a dotted-atom local part of at most 64 characters
/// and a lower-cased DNS domain. Quoted local parts and internationalised
/// domains in Unicode are refused: no Indonesian provider accepts them.
/// Internationalised domains in their ASCII (punycode, `xn--`) form are
/// accepted, top-level domain included.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses and normalises (trims, lower-cases the domain).
    pub fn parse(input: &str) -> Result<Email, ValidationError> {
        let s = input.trim();
        if s.is_empty() {
            return reject(ErrorCode::EmailEmpty);
        }
        if s.len() > 254 {
            return reject(ErrorCode::EmailTooLong);
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return reject(ErrorCode::EmailFormat);
        };
        if local.is_empty() || local.contains('@') {
            return reject(ErrorCode::EmailFormat);
        }
        if local.chars().count() > 64 {
            return reject(ErrorCode::EmailLocalTooLong);
        }
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
        if local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || !local.chars().all(|c| atext(c) || c == '.')
        {
            return reject(ErrorCode::EmailFormat);
        }
        let domain = domain.to_ascii_lowercase();
        if !valid_domain(&domain) {
            return reject(ErrorCode::EmailDomain);
        }
        Ok(Email(format!("{local}@{domain}")))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At least two labels of letters, digits and inner hyphens, 1-63 each; a
/// top-level label that is alphabetic or an IDN in punycode (`xn--p1ai`).
fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    labels.len() >= 2 && labels.iter().all(label_ok) && labels.last().is_some_and(|tld| valid_tld(tld))
}

/// Top-level domains are letters (never all digits, which would read as an IP
/// address), or an internationalised one's `xn--` A-label.
fn valid_tld(tld: &str) -> bool {
    let alphabetic = tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic());
    // The label's own check has already kept it to letters, digits and inner hyphens.
    let punycode = tld.strip_prefix("xn--").is_some_and(|encoded| !encoded.is_empty());
    alphabetic || punycode
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Email::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", ""));
        write!(f, "Email({}@{domain})", super::mask_tail(local, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(
            Email::parse(" Budi.Santoso@Contoh.CO.ID ").unwrap().as_str(),
            "Budi.Santoso@contoh.co.id"
        );
        assert!(Email::parse("a+tag@mail.example.com").is_ok());
        assert!(Email::parse(&format!("{}@x.id", "a".repeat(64))).is_ok());
        assert_eq!(format!("{:?}", Email::parse("budi@contoh.id").unwrap()), "Email(b***@contoh.id)");
    }

    #[test]
    fn rejects_with_stable_codes() {
        let code = |s: &str| Email::parse(s).unwrap_err().code();
        assert_eq!(code(""), "email.empty");
        assert_eq!(code("budi"), "email.format");
        assert_eq!(code("@contoh.id"), "email.format");
        assert_eq!(code("budi@@contoh.id"), "email.format");
        assert_eq!(code(".budi@contoh.id"), "email.format");
        assert_eq!(code("bu..di@contoh.id"), "email.format");
        assert_eq!(code("bu di@contoh.id"), "email.format");
        assert_eq!(code(&format!("{}@x.id", "a".repeat(65))), "email.local_too_long");
        assert_eq!(code(&format!("a@{}.id", "b".repeat(260))), "email.too_long");
        assert_eq!(code("budi@contoh"), "email.domain");
        assert_eq!(code("budi@-contoh.id"), "email.domain");
        assert_eq!(code("budi@contoh.i"), "email.domain");
        assert_eq!(code("budi@contoh..id"), "email.domain");
        assert_eq!(code("budi@"), "email.domain");
    }

    #[test]
    fn accepts_internationalised_top_level_domains_in_punycode() {
        assert_eq!(Email::parse("user@domain.xn--p1ai").unwrap().as_str(), "user@domain.xn--p1ai");
        assert_eq!(Email::parse("User@Domain.XN--P1AI").unwrap().as_str(), "User@domain.xn--p1ai");
        assert!(Email::parse("budi@xn--80ak6aa92e.xn--p1ai").is_ok());
        assert!(Email::parse("budi@contoh.xn--3e0b707e").is_ok());
        let code = |s: &str| Email::parse(s).unwrap_err().code();
        assert_eq!(code("budi@contoh.123"), "email.domain");
        assert_eq!(code("budi@contoh.1"), "email.domain");
        assert_eq!(code("budi@contoh.xn--"), "email.domain");
        assert_eq!(code("budi@contoh.xn--p1ai-"), "email.domain");
        assert_eq!(code("budi@contoh.xn--p1_ai"), "email.domain");
        assert_eq!(code("budi@contoh.-xn--p1ai"), "email.domain");
        assert_eq!(code("budi@contoh.1xn--p1ai"), "email.domain");
        assert_eq!(code("budi@contoh.ab--p1ai"), "email.domain");
        assert_eq!(code(&format!("budi@contoh.xn--{}", "a".repeat(60))), "email.domain");
        assert_eq!(code("budi@xn--p1ai"), "email.domain");
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = Email::parse(&s);
        }

        #[test]
        fn numeric_top_level_domains_are_refused(tld in "[0-9]{1,10}") {
            prop_assert_eq!(Email::parse(&format!("budi@contoh.{tld}")).unwrap_err().code(), "email.domain");
        }

        #[test]
        fn round_trips(local in "[a-z0-9_+-]{1,20}(\\.[a-z0-9]{1,8})?", domain in "[a-z0-9]{1,10}\\.(co\\.)?[a-z]{2,5}") {
            let e = Email::parse(&format!("{local}@{domain}")).unwrap();
            prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
            let json = serde_json::to_string(&e).unwrap();
            prop_assert_eq!(serde_json::from_str::<Email>(&json).unwrap(), e);
        }
    }
}
