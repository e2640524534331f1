//! The primary account number (PAN).

use std::fmt;

use zeroize::Zeroizing;

use super::CardBrand;
use crate::error::{ErrorCode, ValidationError, reject};

/// A card number that passed length and Luhn checks for its brand.
///
/// The digits live in zeroised memory and are shown only by
/// [`CardNumber::expose_secret`], at the one line that sends them to a
/// provider. `Debug` and `Display` print the masked form `411111******1111`.
/// There is deliberately no `Clone` and no `Serialize`.
pub struct CardNumber {
    digits: Zeroizing<String>,
    brand: CardBrand,
}

impl CardNumber {
    /// Parses a number as typed: spaces and dashes are ignored, anything else
    /// that is not a digit is rejected; 12-19 digits, the brand's own lengths
    /// (any, for Discover, Diners Club and UnionPay's `81` range, which are
    /// only labelled), and a valid Luhn check digit.
    pub fn parse(input: &str) -> Result<CardNumber, ValidationError> {
        let mut digits = Zeroizing::new(String::with_capacity(19));
        for c in input.trim().chars() {
            match c {
                '0'..='9' if digits.len() < 32 => digits.push(c),
                '0'..='9' => return reject(ErrorCode::CardNumberLength),
                ' ' | '-' => {}
                _ => return reject(ErrorCode::CardNumberCharacters),
            }
        }
        if digits.is_empty() {
            return reject(ErrorCode::CardNumberEmpty);
        }
        let brand = CardBrand::detect(&digits);
        let lengths = CardBrand::accepted_lengths(&digits);
        if !(12..=19).contains(&digits.len()) || !lengths.contains(&digits.len()) {
            return reject(ErrorCode::CardNumberLength);
        }
        if !luhn_valid(digits.as_bytes()) {
            return reject(ErrorCode::CardNumberLuhn);
        }
        Ok(CardNumber { digits, brand })
    }

    /// The card's brand.
    pub fn brand(&self) -> CardBrand {
        self.brand
    }

    /// The first six digits (the BIN), safe to store.
    pub fn bin(&self) -> &str {
        &self.digits[..6]
    }

    /// The last four digits, safe to store and show.
    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }

    /// BIN, a star for every hidden digit, and the last four: `411111******1111`.
    pub fn masked(&self) -> String {
        let hidden = self.digits.len() - 10;
        format!("{}{}{}", self.bin(), "*".repeat(hidden), self.last4())
    }

    /// The number of digits.
    pub fn len(&self) -> usize {
        self.digits.len()
    }

    /// Always false: a valid number has at least 12 digits.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The full digits. Call only where they are sent to a provider.
    pub fn expose_secret(&self) -> &str {
        &self.digits
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.masked())
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Whether ASCII digits pass the Luhn (ISO/IEC 7812) check. Any non-digit
/// makes it false.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    luhn_sum(digits, false).is_multiple_of(10)
}

/// The check digit that makes `payload` followed by it pass Luhn; `None` if
/// `payload` holds a non-digit. Used to generate test and sandbox numbers.
pub fn luhn_check_digit(payload: &[u8]) -> Option<u8> {
    if !payload.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum = luhn_sum(payload, true);
    Some(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// Sums from the right, doubling every second digit; `double_first` says
/// whether the rightmost digit given is doubled (true when a check digit will
/// follow it).
fn luhn_sum(digits: &[u8], double_first: bool) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if (i % 2 == 0) == double_first {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Public test cards (FACTS.md section 6: Midtrans, Xendit, Faspay,
    /// SingaPay) and the usual Stripe ones, with the brand each must be.
    pub(crate) const TEST_CARDS: &[(&str, CardBrand)] = &[
        ("4811 1111 1111 1114", CardBrand::Visa),
        ("4911 1111 1111 1113", CardBrand::Visa),
        ("4411 1111 1111 1118", CardBrand::Visa),
        ("4611 1111 1111 1116", CardBrand::Visa),
        ("4711 1111 1111 1115", CardBrand::Visa),
        ("4000000000002503", CardBrand::Visa),
        ("5200000000002151", CardBrand::Mastercard),
        ("4000000000001000", CardBrand::Visa),
        ("5200000000001005", CardBrand::Mastercard),
        ("4000000000001091", CardBrand::Visa),
        ("3337000000200004", CardBrand::Jcb),
        ("340000000001098", CardBrand::Amex),
        ("4440000009900010", CardBrand::Visa),
        ("5123450000000008", CardBrand::Mastercard),
        ("4000000000000002", CardBrand::Visa),
        ("4111111111111111", CardBrand::Visa),
        ("4242424242424242", CardBrand::Visa),
        ("5555555555554444", CardBrand::Mastercard),
        ("2223003122003222", CardBrand::Mastercard),
        ("378282246310005", CardBrand::Amex),
        ("3566002020360505", CardBrand::Jcb),
        ("6200000000000005", CardBrand::UnionPay),
        ("6759649826438453", CardBrand::Maestro),
        ("4000-0000-0000-0002", CardBrand::Visa),
        // Adyen's UnionPay test card, in the 81 range issued since 2019.
        ("8171 9999 0000 0000 021", CardBrand::UnionPay),
        ("6011111111111117", CardBrand::Discover),
        ("6011000990139424", CardBrand::Discover),
        ("6445644564456445", CardBrand::Discover),
        ("3056930009020004", CardBrand::Diners),
        ("36227206271667", CardBrand::Diners),
        ("38520000023237", CardBrand::Diners),
    ];

    #[test]
    fn public_test_cards_parse_with_their_brand() {
        for (pan, brand) in TEST_CARDS {
            let card = CardNumber::parse(pan).unwrap_or_else(|e| panic!("{pan}: {e}"));
            assert_eq!(card.brand(), *brand, "{pan}");
        }
    }

    #[test]
    fn masks_and_never_shows_the_number() {
        let card = CardNumber::parse("4111 1111 1111 1111").unwrap();
        assert_eq!(card.masked(), "411111******1111");
        assert_eq!(card.bin(), "411111");
        assert_eq!(card.last4(), "1111");
        assert_eq!(format!("{card}"), "411111******1111");
        assert_eq!(format!("{card:?}"), "CardNumber(411111******1111)");
        assert_eq!(format!("{card:#?}"), "CardNumber(411111******1111)");
        let amex = CardNumber::parse("378282246310005").unwrap();
        assert_eq!(amex.masked(), "378282*****0005");
        assert_eq!(amex.expose_secret(), "378282246310005");
    }

    #[test]
    fn rejects_with_stable_codes() {
        let code = |s: &str| CardNumber::parse(s).unwrap_err().code();
        assert_eq!(code(""), "card_number.empty");
        assert_eq!(code(" - "), "card_number.empty");
        assert_eq!(code("4111 1111 1111 111a"), "card_number.characters");
        assert_eq!(code("4111.1111.1111.1111"), "card_number.characters");
        assert_eq!(code("41111111111"), "card_number.length");
        assert_eq!(code("41111111111111111111"), "card_number.length");
        assert_eq!(code("4111 1111 1111 1112"), "card_number.luhn");
        // Amex is 15 digits; a Luhn-valid 16-digit 37... is still wrong.
        assert_eq!(code("3782822463100005"), "card_number.length");
        assert_eq!(code(&"4".repeat(100)), "card_number.length");
    }

    #[test]
    fn labelling_refuses_no_number_that_was_accepted_as_unknown() {
        let brands = [
            ("6011", CardBrand::Discover),
            ("644", CardBrand::Discover),
            ("649", CardBrand::Discover),
            ("65", CardBrand::Discover),
            ("300", CardBrand::Diners),
            ("305", CardBrand::Diners),
            ("36", CardBrand::Diners),
            ("38", CardBrand::Diners),
            ("39", CardBrand::Diners),
            ("8100", CardBrand::UnionPay),
            ("8171", CardBrand::UnionPay),
        ];
        for (prefix, brand) in brands {
            for len in 12..=19 {
                let mut payload = format!("{prefix:0<width$}", width = len - 1).into_bytes();
                payload.push(luhn_check_digit(&payload).unwrap());
                let pan = String::from_utf8(payload).unwrap();
                let card = CardNumber::parse(&pan).unwrap_or_else(|e| panic!("{pan}: {e}"));
                assert_eq!(card.brand(), brand, "{pan}");
            }
        }
    }

    #[test]
    fn luhn_check_digit_matches_known_numbers() {
        assert_eq!(luhn_check_digit(b"411111111111111"), Some(b'1'));
        assert_eq!(luhn_check_digit(b"37828224631000"), Some(b'5'));
        assert_eq!(luhn_check_digit(b"7992739871"), Some(b'3'));
        assert!(!luhn_valid(b""));
        assert!(!luhn_valid(b"12a4"));
    }

    /// A brand, a prefix in its range, and a length it issues.
    fn brand_prefix_and_length() -> impl Strategy<Value = (CardBrand, String, usize)> {
        prop_oneof![
            (Just(CardBrand::Visa), Just("4".to_string()), prop::sample::select(vec![13usize, 16, 19])),
            (Just(CardBrand::Mastercard), (51u32..=55).prop_map(|p| p.to_string()), Just(16usize)),
            (Just(CardBrand::Mastercard), (2221u32..=2720).prop_map(|p| p.to_string()), Just(16usize)),
            (
                Just(CardBrand::Amex),
                prop::sample::select(vec!["34".to_string(), "37".to_string()]),
                Just(15usize)
            ),
            (Just(CardBrand::Jcb), (3528u32..=3589).prop_map(|p| p.to_string()), 16usize..=19),
            (
                Just(CardBrand::Maestro),
                prop::sample::select(vec!["50", "56", "57", "58", "6304", "6759", "6761"])
                    .prop_map(String::from),
                12usize..=19
            ),
            (Just(CardBrand::UnionPay), Just("62".to_string()), 16usize..=19),
            (Just(CardBrand::UnionPay), (8100u32..=8171).prop_map(|p| p.to_string()), 12usize..=19),
            (
                Just(CardBrand::Discover),
                prop::sample::select(vec!["6011", "644", "645", "646", "647", "648", "649", "65"])
                    .prop_map(String::from),
                12usize..=19
            ),
            (
                Just(CardBrand::Diners),
                prop::sample::select(vec!["300", "301", "302", "303", "304", "305", "36", "38", "39"])
                    .prop_map(String::from),
                12usize..=19
            ),
            (Just(CardBrand::Gpn), Just("9360".to_string()), 16usize..=19),
        ]
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = CardNumber::parse(&s);
        }

        #[test]
        fn never_panics_on_digit_soup(s in "[0-9 -]{0,40}") {
            if let Ok(card) = CardNumber::parse(&s) {
                prop_assert!(!card.masked().contains(card.expose_secret()));
            }
        }

        #[test]
        fn generated_valid_numbers_parse_for_every_brand(
            (brand, prefix, len) in brand_prefix_and_length(),
            fill in prop::collection::vec(0u8..10, 19),
        ) {
            let mut payload = prefix.into_bytes();
            payload.extend(fill.iter().map(|d| b'0' + d).take(len - 1 - payload.len()));
            let check = luhn_check_digit(&payload).unwrap();
            payload.push(check);
            let pan = String::from_utf8(payload).unwrap();
            let card = CardNumber::parse(&pan).unwrap();
            prop_assert_eq!(card.brand(), brand);
            prop_assert_eq!(card.len(), len);
            // Formatting as typed and parsing again gives the same number.
            let formatted = crate::card::format_card_number(&pan);
            let reparsed = CardNumber::parse(&formatted).unwrap();
            prop_assert_eq!(reparsed.expose_secret(), pan.as_str());
            // Changing one digit always breaks Luhn or the brand.
            let mut broken = pan.clone().into_bytes();
            let last = broken.len() - 1;
            broken[last] = b'0' + (broken[last] - b'0' + 1) % 10;
            prop_assert!(CardNumber::parse(std::str::from_utf8(&broken).unwrap()).is_err());
        }
    }
}
