//! Help for the widget while the shopper is still typing: brand detection,
//! formatting, and whether what is there so far is complete, incomplete or wrong.

use super::{CardBrand, CardNumber};
use crate::error::{ErrorCode, ValidationError};

/// Reformats a partly typed card number with the brand's grouping
/// (`4111 1111 1111 1111`, Amex `3782 822463 10005`), dropping non-digits and
/// anything beyond the brand's longest length.
pub fn format_card_number(input: &str) -> String {
    let brand = CardBrand::detect(input);
    let digits: Vec<u8> = input.bytes().filter(u8::is_ascii_digit).take(brand.max_length()).collect();
    let mut out = String::with_capacity(digits.len() + 4);
    let mut groups = brand.grouping().iter().copied();
    let mut left = groups.next().unwrap_or(4);
    for d in digits {
        if left == 0 {
            out.push(' ');
            left = groups.next().unwrap_or(4);
        }
        out.push(char::from(d));
        left -= 1;
    }
    out
}

/// Reformats a partly typed expiry as `MM / YY`: `4` becomes `04 / `, `123`
/// becomes `12 / 3`.
pub fn format_expiry(input: &str) -> String {
    let digits: Vec<char> = input.chars().filter(char::is_ascii_digit).take(4).collect();
    let mut month: String = digits.iter().take(2).collect();
    let mut rest = &digits[month.len().min(digits.len())..];
    if let [first] = digits.as_slice()
        && *first > '1'
    {
        month = format!("0{first}");
        rest = &[];
    }
    if month.len() < 2 {
        return month;
    }
    let year: String = rest.iter().collect();
    format!("{month} / {year}")
}

/// Where a partly typed card number stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardNumberState {
    /// Nothing typed.
    Empty,
    /// Not yet long enough to judge; no error should be shown yet.
    Incomplete,
    /// Long enough and wrong: show this error.
    Invalid(ValidationError),
    /// A valid number.
    Complete,
}

/// What the widget needs to show for the card-number field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardNumberInput {
    /// The brand, as far as it can be told.
    pub brand: CardBrand,
    /// Where the input stands.
    pub state: CardNumberState,
}

impl CardNumberInput {
    /// Judges input as typed. `finished` is true once the shopper has left the
    /// field, so a short number is then an error, not work in progress.
    pub fn assess(input: &str, finished: bool) -> CardNumberInput {
        let brand = CardBrand::detect(input);
        let digit_count = input.bytes().filter(u8::is_ascii_digit).count();
        let state = match CardNumber::parse(input) {
            Ok(_) => CardNumberState::Complete,
            Err(e) if e.kind() == ErrorCode::CardNumberEmpty => CardNumberState::Empty,
            Err(e)
                if e.kind() == ErrorCode::CardNumberLength
                    && !finished
                    && digit_count < brand.max_length() =>
            {
                CardNumberState::Incomplete
            }
            Err(e)
                if e.kind() == ErrorCode::CardNumberLuhn && !finished && digit_count < brand.max_length() =>
            {
                // Visa 16 can still grow to 19: only a full-length number is judged.
                CardNumberState::Incomplete
            }
            Err(e) => CardNumberState::Invalid(e),
        };
        CardNumberInput { brand, state }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_typed() {
        assert_eq!(format_card_number("4111111111111111"), "4111 1111 1111 1111");
        assert_eq!(format_card_number("4111-1111-11"), "4111 1111 11");
        assert_eq!(format_card_number("378282246310005"), "3782 822463 10005");
        assert_eq!(format_card_number("3782822463100059999"), "3782 822463 10005");
        assert_eq!(format_card_number("4111111111111111999"), "4111 1111 1111 1111 999");
        assert_eq!(format_card_number("41111111111111119999"), "4111 1111 1111 1111 999");
        assert_eq!(format_card_number(""), "");
    }

    #[test]
    fn formats_expiry_as_typed() {
        assert_eq!(format_expiry(""), "");
        assert_eq!(format_expiry("1"), "1");
        assert_eq!(format_expiry("4"), "04 / ");
        assert_eq!(format_expiry("12"), "12 / ");
        assert_eq!(format_expiry("123"), "12 / 3");
        assert_eq!(format_expiry("12/30"), "12 / 30");
        assert_eq!(format_expiry("123099"), "12 / 30");
    }

    #[test]
    fn judges_partial_input_without_nagging() {
        let state = |s: &str, done: bool| CardNumberInput::assess(s, done).state;
        assert_eq!(state("", false), CardNumberState::Empty);
        assert_eq!(state("4111 1111", false), CardNumberState::Incomplete);
        assert_eq!(state("4111 1111 1111 1111", false), CardNumberState::Complete);
        assert_eq!(state("4111 1111 1111 1112", false), CardNumberState::Incomplete);
        assert!(matches!(state("4111 1111 1111 1112", true), CardNumberState::Invalid(_)));
        assert!(matches!(state("4111 1111", true), CardNumberState::Invalid(_)));
        assert!(matches!(state("4111 x", false), CardNumberState::Invalid(_)));
        assert!(matches!(state("5555 5555 5555 4445", false), CardNumberState::Invalid(_)));
        assert_eq!(CardNumberInput::assess("37", false).brand, CardBrand::Amex);
    }
}
