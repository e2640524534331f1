//! The card's expiry month.

use std::fmt;

use crate::error::{ErrorCode, ValidationError, reject};

/// How far ahead an expiry may lie before it is treated as a typo.
const MAX_YEARS_AHEAD: u16 = 20;

/// A card expiry: the card is valid through the last day of this month.
/// Card data: `Debug` is redacted and there is no `Display`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    year: u16,
    month: u8,
}

impl Expiry {
    /// Parses `MM/YY`, `MMYY`, `MM/YYYY`, `MM / YY`, `MM-YY` and `M/YY`.
    /// Two-digit years are in 2000-2099. Checks the format and the month;
    /// whether the card has expired needs today's date: see [`Expiry::check_at`].
    pub fn parse(input: &str) -> Result<Expiry, ValidationError> {
        let s = input.trim();
        if s.is_empty() {
            return reject(ErrorCode::ExpiryEmpty);
        }
        if !s.is_ascii() {
            return reject(ErrorCode::ExpiryFormat);
        }
        let (month, year) = match s.find(['/', '-']) {
            Some(i) => (s[..i].trim(), s[i + 1..].trim()),
            None if s.len() == 4 || s.len() == 6 => s.split_at(2),
            None => return reject(ErrorCode::ExpiryFormat),
        };
        let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(month) || !all_digits(year) || month.len() > 2 {
            return reject(ErrorCode::ExpiryFormat);
        }
        let month: u8 = month.parse().map_err(|_| ValidationError::new(ErrorCode::ExpiryFormat))?;
        let year: u16 = match year.len() {
            2 => 2000 + year.parse::<u16>().map_err(|_| ValidationError::new(ErrorCode::ExpiryFormat))?,
            4 => year.parse().map_err(|_| ValidationError::new(ErrorCode::ExpiryFormat))?,
            _ => return reject(ErrorCode::ExpiryFormat),
        };
        if !(2000..=2099).contains(&year) {
            return reject(ErrorCode::ExpiryFormat);
        }
        if !(1..=12).contains(&month) {
            return reject(ErrorCode::ExpiryMonth);
        }
        Ok(Expiry { year, month })
    }

    /// Parses and checks against today's year and month in one step.
    pub fn parse_at(input: &str, year: u16, month: u8) -> Result<Expiry, ValidationError> {
        let expiry = Expiry::parse(input)?;
        expiry.check_at(year, month)?;
        Ok(expiry)
    }

    /// Whether the card has expired in the given year and month (it is still
    /// valid during its expiry month).
    pub fn is_expired_at(&self, year: u16, month: u8) -> bool {
        (year, month) > (self.year, self.month)
    }

    /// `expiry.past` if expired, `expiry.too_far` if more than twenty years ahead.
    pub fn check_at(&self, year: u16, month: u8) -> Result<(), ValidationError> {
        if self.is_expired_at(year, month) {
            reject(ErrorCode::ExpiryPast)
        } else if (self.year, self.month) > (year.saturating_add(MAX_YEARS_AHEAD), month) {
            reject(ErrorCode::ExpiryTooFar)
        } else {
            Ok(())
        }
    }

    /// Four-digit year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// Month, 1-12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// `YYMM`, as SingaPay wants it (December 2030 is `3012`; FACTS.md 2.2).
    pub fn yymm(&self) -> String {
        format!("{:02}{:02}", self.year % 100, self.month)
    }

    /// `MMYY` (December 2030 is `1230`).
    pub fn mmyy(&self) -> String {
        format!("{:02}{:02}", self.month, self.year % 100)
    }
}

impl fmt::Debug for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Expiry(**/**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_common_forms() {
        for input in ["12/30", "1230", "12/2030", "12 / 30", "12-30", " 12/30 ", "122030"] {
            let e = Expiry::parse(input).unwrap_or_else(|err| panic!("{input}: {err}"));
            assert_eq!((e.year(), e.month()), (2030, 12), "{input}");
            assert_eq!(e.yymm(), "3012");
            assert_eq!(e.mmyy(), "1230");
        }
        assert_eq!(Expiry::parse("1/39").unwrap().yymm(), "3901");
    }

    #[test]
    fn rejects_with_stable_codes() {
        let code = |s: &str| Expiry::parse(s).unwrap_err().code();
        assert_eq!(code(""), "expiry.empty");
        assert_eq!(code("12"), "expiry.format");
        assert_eq!(code("12/3"), "expiry.format");
        assert_eq!(code("ab/cd"), "expiry.format");
        assert_eq!(code("123/30"), "expiry.format");
        assert_eq!(code("12/1999"), "expiry.format");
        assert_eq!(code("13/30"), "expiry.month");
        assert_eq!(code("00/30"), "expiry.month");
        assert_eq!(code("1é/30"), "expiry.format");
    }

    #[test]
    fn expiry_is_inclusive_of_its_month() {
        let e = Expiry::parse("11/26").unwrap();
        assert!(!e.is_expired_at(2026, 11));
        assert!(e.is_expired_at(2026, 12));
        assert!(e.is_expired_at(2027, 1));
        assert!(!e.is_expired_at(2025, 12));
        assert_eq!(e.check_at(2026, 12).unwrap_err().code(), "expiry.past");
        assert_eq!(Expiry::parse_at("12/99", 2026, 11).unwrap_err().code(), "expiry.too_far");
        assert!(Expiry::parse_at("11/46", 2026, 11).is_ok());
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", Expiry::parse("12/30").unwrap()), "Expiry(**/**)");
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = Expiry::parse(&s);
        }

        #[test]
        fn round_trips(month in 1u8..=12, year in 2000u16..=2099) {
            let e = Expiry { year, month };
            prop_assert_eq!(Expiry::parse(&e.mmyy()), Ok(e));
            let slashed = format!("{:02}/{:02}", month, year % 100);
            prop_assert_eq!(Expiry::parse(&slashed), Ok(e));
            prop_assert_eq!(Expiry::parse(&crate::card::format_expiry(&e.mmyy())), Ok(e));
        }
    }
}
