//! Indonesian rupiah as whole units in an integer. There are no floats here.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ValidationError, reject};

/// An amount of Indonesian rupiah, in whole rupiah (IDR has no minor unit in
/// practice). Never negative; at most `i64::MAX`, so it always fits a
/// database `BIGINT`. Serialised as a JSON integer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Idr(u64);

impl Idr {
    /// Zero rupiah.
    pub const ZERO: Idr = Idr(0);
    /// The largest amount Kasir represents.
    pub const MAX: Idr = Idr(i64::MAX as u64);
    /// The largest amount a payment may ask for: Rp9,999,999,999. Every
    /// provider and QRIS can carry it, even written with decimals
    /// (`9999999999.00` is EMVCo's 13 characters for tag 54).
    pub const MAX_PAYMENT: Idr = Idr(9_999_999_999);

    /// An amount from whole rupiah; `None` above [`Idr::MAX`].
    pub const fn new(rupiah: u64) -> Option<Idr> {
        if rupiah <= Idr::MAX.0 { Some(Idr(rupiah)) } else { None }
    }

    /// An amount from a database `BIGINT`; `None` if negative.
    pub const fn from_i64(rupiah: i64) -> Option<Idr> {
        if rupiah >= 0 { Some(Idr(rupiah as u64)) } else { None }
    }

    /// Whole rupiah.
    pub const fn rupiah(self) -> u64 {
        self.0
    }

    /// Whole rupiah as a database `BIGINT` (always fits).
    pub const fn to_i64(self) -> i64 {
        self.0 as i64
    }

    /// `self + other`, or `None` on overflow.
    pub const fn checked_add(self, other: Idr) -> Option<Idr> {
        match self.0.checked_add(other.0) {
            Some(sum) => Idr::new(sum),
            None => None,
        }
    }

    /// `self - other`, or `None` if it would go below zero.
    pub const fn checked_sub(self, other: Idr) -> Option<Idr> {
        match self.0.checked_sub(other.0) {
            Some(diff) => Some(Idr(diff)),
            None => None,
        }
    }

    /// `self * factor`, or `None` on overflow.
    pub const fn checked_mul(self, factor: u64) -> Option<Idr> {
        match self.0.checked_mul(factor) {
            Some(product) => Idr::new(product),
            None => None,
        }
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Accepts the amount only within `min..=max`, with `amount.too_small` or
    /// `amount.too_large` otherwise (providers have their own limits).
    pub fn ensure_between(self, min: Idr, max: Idr) -> Result<Idr, ValidationError> {
        if self < min {
            reject(ErrorCode::AmountTooSmall)
        } else if self > max {
            reject(ErrorCode::AmountTooLarge)
        } else {
            Ok(self)
        }
    }

    /// Parses what a person types: `150000`, `150.000`, `Rp 150.000`,
    /// `Rp150.000`, `Rp. 150.000,-`, `IDR 150.000,00`. Dots group thousands;
    /// a comma starts a fraction, which must be zero.
    pub fn parse(input: &str) -> Result<Idr, ValidationError> {
        let mut s = input.trim();
        if s.is_empty() {
            return reject(ErrorCode::AmountEmpty);
        }
        for prefix in ["idr", "rp.", "rp"] {
            if s.len() >= prefix.len()
                && s.is_char_boundary(prefix.len())
                && s[..prefix.len()].eq_ignore_ascii_case(prefix)
            {
                s = s[prefix.len()..].trim_start();
                break;
            }
        }
        let (whole, fraction) = match s.split_once(',') {
            Some((w, f)) => (w, Some(f)),
            None => (s, None),
        };
        if let Some(f) = fraction {
            let zero = f == "-" || (!f.is_empty() && f.bytes().all(|b| b == b'0'));
            if !zero {
                let digits = !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit());
                return reject(if digits { ErrorCode::AmountFraction } else { ErrorCode::AmountFormat });
            }
        }
        parse_grouped(whole)
    }

    /// `150.000`: thousands grouped with dots, no currency sign.
    pub fn grouped(self) -> String {
        let digits = self.0.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push('.');
            }
            out.push(c);
        }
        out
    }
}

/// Digits, optionally grouped by dots in threes (`1.500.000`).
fn parse_grouped(s: &str) -> Result<Idr, ValidationError> {
    if s.is_empty() {
        return reject(ErrorCode::AmountFormat);
    }
    let mut groups = s.split('.');
    let first = groups.next().unwrap_or_default();
    let grouped = s.contains('.');
    if first.is_empty() || (grouped && first.len() > 3) {
        return reject(ErrorCode::AmountFormat);
    }
    let mut value: u64 = 0;
    let mut push = |part: &str| -> Result<(), ValidationError> {
        for b in part.bytes() {
            if !b.is_ascii_digit() {
                return reject(ErrorCode::AmountFormat);
            }
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .ok_or(ValidationError::new(ErrorCode::AmountTooLarge))?;
        }
        Ok(())
    };
    push(first)?;
    for group in groups {
        if group.len() != 3 {
            return reject(ErrorCode::AmountFormat);
        }
        push(group)?;
    }
    Idr::new(value).ok_or(ValidationError::new(ErrorCode::AmountTooLarge))
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Idr {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::whole_rupiah()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Idr {}

impl TryFrom<u64> for Idr {
    type Error = ValidationError;

    fn try_from(rupiah: u64) -> Result<Self, Self::Error> {
        Idr::new(rupiah).ok_or(ValidationError::new(ErrorCode::AmountTooLarge))
    }
}

impl From<Idr> for u64 {
    fn from(amount: Idr) -> u64 {
        amount.0
    }
}

/// `Rp150.000`, the way Indonesian shops write prices.
impl fmt::Display for Idr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rp{}", self.grouped())
    }
}

impl fmt::Debug for Idr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Idr({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(input: &str) -> &'static str {
        Idr::parse(input).unwrap_err().code()
    }

    #[test]
    fn accepts_the_ways_people_write_rupiah() {
        for input in [
            "150000",
            "150.000",
            "Rp 150.000",
            "Rp150.000",
            "rp150000",
            "Rp. 150.000",
            "Rp150.000,-",
            "IDR 150.000,00",
            " 150.000 ",
            "Rp 150000",
        ] {
            assert_eq!(Idr::parse(input), Ok(Idr(150_000)), "{input}");
        }
        assert_eq!(Idr::parse("0"), Ok(Idr::ZERO));
        assert_eq!(Idr::parse("1.000.000"), Ok(Idr(1_000_000)));
    }

    #[test]
    fn rejects_with_stable_codes() {
        assert_eq!(code(""), "amount.empty");
        assert_eq!(code("  "), "amount.empty");
        assert_eq!(code("Rp"), "amount.format");
        assert_eq!(code("-100"), "amount.format");
        assert_eq!(code("1.50.000"), "amount.format");
        assert_eq!(code("1500.000"), "amount.format");
        assert_eq!(code("150000.00"), "amount.format");
        assert_eq!(code("12abc"), "amount.format");
        assert_eq!(code("1e5"), "amount.format");
        assert_eq!(code("150.000,50"), "amount.fraction");
        assert_eq!(code("9223372036854775808"), "amount.too_large");
        assert_eq!(code("99999999999999999999999"), "amount.too_large");
    }

    #[test]
    fn displays_indonesian_style() {
        assert_eq!(Idr(150_000).to_string(), "Rp150.000");
        assert_eq!(Idr(0).to_string(), "Rp0");
        assert_eq!(Idr(999).to_string(), "Rp999");
        assert_eq!(Idr(1_000).to_string(), "Rp1.000");
        assert_eq!(Idr(1_234_567_890).to_string(), "Rp1.234.567.890");
    }

    #[test]
    fn checked_arithmetic_and_bounds() {
        assert_eq!(Idr(5).checked_sub(Idr(6)), None);
        assert_eq!(Idr::MAX.checked_add(Idr(1)), None);
        assert_eq!(Idr(10_000).checked_mul(3), Some(Idr(30_000)));
        assert_eq!(Idr::from_i64(-1), None);
        let min = Idr(10_000);
        let max = Idr(999_999_999);
        assert_eq!(Idr(9_999).ensure_between(min, max).unwrap_err().code(), "amount.too_small");
        assert_eq!(Idr(1_000_000_000).ensure_between(min, max).unwrap_err().code(), "amount.too_large");
    }

    #[test]
    fn serde_is_a_plain_integer_and_refuses_floats_and_negatives() {
        assert_eq!(serde_json::to_string(&Idr(150_000)).unwrap(), "150000");
        assert_eq!(serde_json::from_str::<Idr>("150000").unwrap(), Idr(150_000));
        assert!(serde_json::from_str::<Idr>("150000.5").is_err());
        assert!(serde_json::from_str::<Idr>("-1").is_err());
        assert!(serde_json::from_str::<Idr>("\"150000\"").is_err());
        assert!(serde_json::from_str::<Idr>("18446744073709551615").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = Idr::parse(&s);
        }

        #[test]
        fn display_round_trips(n in 0u64..=i64::MAX as u64) {
            let amount = Idr(n);
            prop_assert_eq!(Idr::parse(&amount.to_string()), Ok(amount));
            prop_assert_eq!(Idr::parse(&amount.grouped()), Ok(amount));
            prop_assert_eq!(Idr::parse(&n.to_string()), Ok(amount));
        }
    }
}
