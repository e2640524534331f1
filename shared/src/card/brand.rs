//! Card brands and their number ranges, detected from the first digits.

use serde::{Deserialize, Serialize};

/// A card scheme, detected from the number's leading digits (the IIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardBrand {
    /// Visa: `4`.
    Visa,
    /// Mastercard: `51`-`55` and `2221`-`2720`.
    Mastercard,
    /// American Express: `34`, `37`.
    Amex,
    /// JCB: `3528`-`3589` and the older `3088`, `3096`, `3112`, `3158`, `3337`.
    Jcb,
    /// Maestro: `50`, `56`-`58`, `6304`, `6759`, `6761`-`6763`.
    Maestro,
    /// UnionPay: `62` and, since 2019, `8100`-`8171`.
    UnionPay,
    /// Discover: `6011`, `644`-`649`, `65`. The co-branded `622126`-`622925`
    /// stays UnionPay, as in Braintree's `credit-card-type`.
    Discover,
    /// Diners Club: `300`-`305`, `36`, `38`, `39`.
    Diners,
    /// GPN, Indonesia's national debit network: `9360` (domestic only).
    Gpn,
    /// Not (yet) recognised.
    Unknown,
}

/// Every length from 12 to 19: what Kasir accepts where it does not know the
/// brand's own lengths.
const ANY_LENGTH: &[usize] = &[12, 13, 14, 15, 16, 17, 18, 19];

/// `(width, low, high, brand)` over the first `width` digits; the most specific first.
const RANGES: &[(u32, u32, u32, CardBrand)] = &[
    (4, 9360, 9360, CardBrand::Gpn),
    (4, 2221, 2720, CardBrand::Mastercard),
    (4, 3528, 3589, CardBrand::Jcb),
    (4, 3088, 3088, CardBrand::Jcb),
    (4, 3096, 3096, CardBrand::Jcb),
    (4, 3112, 3112, CardBrand::Jcb),
    (4, 3158, 3158, CardBrand::Jcb),
    (4, 3337, 3337, CardBrand::Jcb),
    (4, 6304, 6304, CardBrand::Maestro),
    (4, 6759, 6759, CardBrand::Maestro),
    (4, 6761, 6763, CardBrand::Maestro),
    (4, 6011, 6011, CardBrand::Discover),
    (4, 8100, 8171, CardBrand::UnionPay),
    (3, 810, 810, CardBrand::UnionPay),
    (3, 300, 305, CardBrand::Diners),
    (3, 644, 649, CardBrand::Discover),
    (2, 34, 34, CardBrand::Amex),
    (2, 37, 37, CardBrand::Amex),
    (2, 51, 55, CardBrand::Mastercard),
    (2, 50, 50, CardBrand::Maestro),
    (2, 56, 58, CardBrand::Maestro),
    (2, 62, 62, CardBrand::UnionPay),
    (2, 65, 65, CardBrand::Discover),
    (2, 36, 36, CardBrand::Diners),
    (2, 38, 39, CardBrand::Diners),
    (1, 4, 4, CardBrand::Visa),
];

impl CardBrand {
    /// Every brand, for exhaustive tests and documentation.
    pub const ALL: [CardBrand; 10] = [
        CardBrand::Visa,
        CardBrand::Mastercard,
        CardBrand::Amex,
        CardBrand::Jcb,
        CardBrand::Maestro,
        CardBrand::UnionPay,
        CardBrand::Discover,
        CardBrand::Diners,
        CardBrand::Gpn,
        CardBrand::Unknown,
    ];

    /// Detects the brand from however many digits have been typed so far
    /// (non-digits are ignored). Returns `Unknown` until enough digits are
    /// there to tell: `4` is Visa at once, `2221` needs four digits.
    pub fn detect(partial: &str) -> CardBrand {
        let mut prefix: u32 = 0;
        let mut width: u32 = 0;
        let mut found = [0u32; 5];
        for b in partial.bytes().filter(u8::is_ascii_digit).take(4) {
            prefix = prefix * 10 + u32::from(b - b'0');
            width += 1;
            found[width as usize] = prefix;
        }
        RANGES
            .iter()
            .find(|(w, low, high, _)| *w <= width && (*low..=*high).contains(&found[*w as usize]))
            .map_or(CardBrand::Unknown, |(_, _, _, brand)| *brand)
    }

    /// The number lengths the brand issues.
    pub const fn lengths(self) -> &'static [usize] {
        match self {
            CardBrand::Visa => &[13, 16, 18, 19],
            CardBrand::Mastercard => &[16],
            CardBrand::Amex => &[15],
            CardBrand::Jcb => &[16, 17, 18, 19],
            CardBrand::UnionPay | CardBrand::Gpn => &[16, 17, 18, 19],
            CardBrand::Discover => &[16, 19],
            CardBrand::Diners => &[14, 16, 19],
            CardBrand::Maestro | CardBrand::Unknown => ANY_LENGTH,
        }
    }

    /// The lengths [`CardNumber::parse`](super::CardNumber::parse) accepts for
    /// a number starting with `digits`: the brand's own, except in the ranges
    /// Kasir used to accept at any length as unknown. Discover, Diners Club
    /// and UnionPay's `81` range were labelled later (issue 16) without
    /// refusing any number that was accepted before.
    pub(crate) fn accepted_lengths(digits: &str) -> &'static [usize] {
        match CardBrand::detect(digits) {
            CardBrand::Discover | CardBrand::Diners => ANY_LENGTH,
            CardBrand::UnionPay if digits.starts_with('8') => ANY_LENGTH,
            brand => brand.lengths(),
        }
    }

    /// The longest number the brand issues.
    pub fn max_length(self) -> usize {
        self.lengths().last().copied().unwrap_or(19)
    }

    /// Digits in the security code: 4 for Amex, 3 for every other brand.
    pub const fn cvv_length(self) -> usize {
        match self {
            CardBrand::Amex => 4,
            CardBrand::Visa
            | CardBrand::Mastercard
            | CardBrand::Jcb
            | CardBrand::Maestro
            | CardBrand::UnionPay
            | CardBrand::Discover
            | CardBrand::Diners
            | CardBrand::Gpn
            | CardBrand::Unknown => 3,
        }
    }

    /// How the number is grouped on the card and in the form.
    pub const fn grouping(self) -> &'static [usize] {
        match self {
            CardBrand::Amex => &[4, 6, 5],
            CardBrand::Visa
            | CardBrand::Mastercard
            | CardBrand::Jcb
            | CardBrand::Maestro
            | CardBrand::UnionPay
            | CardBrand::Discover
            | CardBrand::Diners
            | CardBrand::Gpn
            | CardBrand::Unknown => &[4, 4, 4, 4, 3],
        }
    }

    /// The stable wire name, e.g. `mastercard`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CardBrand::Visa => "visa",
            CardBrand::Mastercard => "mastercard",
            CardBrand::Amex => "amex",
            CardBrand::Jcb => "jcb",
            CardBrand::Maestro => "maestro",
            CardBrand::UnionPay => "union_pay",
            CardBrand::Discover => "discover",
            CardBrand::Diners => "diners",
            CardBrand::Gpn => "gpn",
            CardBrand::Unknown => "unknown",
        }
    }

    /// The name shown to a shopper.
    pub const fn display_name(self) -> &'static str {
        match self {
            CardBrand::Visa => "Visa",
            CardBrand::Mastercard => "Mastercard",
            CardBrand::Amex => "American Express",
            CardBrand::Jcb => "JCB",
            CardBrand::Maestro => "Maestro",
            CardBrand::UnionPay => "UnionPay",
            CardBrand::Discover => "Discover",
            CardBrand::Diners => "Diners Club",
            CardBrand::Gpn => "GPN",
            CardBrand::Unknown => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CardBrand::*;
    use super::*;

    #[test]
    fn detects_brands_from_the_first_digits() {
        let cases = [
            ("4", Visa),
            ("4111 11", Visa),
            ("51", Mastercard),
            ("55", Mastercard),
            ("2221", Mastercard),
            ("2720", Mastercard),
            ("2220", Unknown),
            ("2721", Unknown),
            ("222", Unknown),
            ("34", Amex),
            ("37", Amex),
            ("35", Unknown),
            ("3528", Jcb),
            ("3589", Jcb),
            ("3337", Jcb),
            ("3590", Unknown),
            ("50", Maestro),
            ("5018", Maestro),
            ("6304", Maestro),
            ("6759", Maestro),
            ("6762", Maestro),
            ("62", UnionPay),
            ("6212-34", UnionPay),
            ("9360", Gpn),
            ("9361", Unknown),
            ("", Unknown),
            ("x", Unknown),
        ];
        for (input, brand) in cases {
            assert_eq!(CardBrand::detect(input), brand, "{input:?}");
        }
    }

    #[test]
    fn detects_unionpay_81_discover_and_diners() {
        let cases = [
            ("8171 9999 0000 0000 021", UnionPay),
            ("8100", UnionPay),
            ("810", UnionPay),
            ("8110", UnionPay),
            ("8171", UnionPay),
            ("81", Unknown),
            ("8099", Unknown),
            ("8172", Unknown),
            ("6011", Discover),
            ("6011 1111", Discover),
            ("601", Unknown),
            ("6010", Unknown),
            ("6012", Unknown),
            ("644", Discover),
            ("649", Discover),
            ("643", Unknown),
            ("65", Discover),
            ("6599", Discover),
            // Co-branded Discover range: UnionPay, as in Braintree's library.
            ("622126", UnionPay),
            ("622925", UnionPay),
            ("300", Diners),
            ("305", Diners),
            ("306", Unknown),
            ("30", Unknown),
            ("3088", Jcb),
            ("3096", Jcb),
            ("36", Diners),
            ("38", Diners),
            ("39", Diners),
            ("37", Amex),
            ("35", Unknown),
        ];
        for (input, brand) in cases {
            assert_eq!(CardBrand::detect(input), brand, "{input:?}");
        }
    }

    #[test]
    fn as_str_is_the_serde_name() {
        for brand in CardBrand::ALL {
            assert_eq!(serde_json::to_value(brand).unwrap(), brand.as_str(), "{brand:?}");
            assert_eq!(serde_json::from_value::<CardBrand>(brand.as_str().into()).unwrap(), brand);
        }
        assert_eq!(Discover.as_str(), "discover");
        assert_eq!(Diners.as_str(), "diners");
    }

    #[test]
    fn labelled_ranges_keep_every_length_unknown_numbers_had() {
        for digits in ["6011", "644", "65", "300", "36", "38", "39", "8100", "8171"] {
            assert_eq!(CardBrand::accepted_lengths(digits), ANY_LENGTH, "{digits}");
        }
        assert_eq!(CardBrand::accepted_lengths("62"), UnionPay.lengths());
        assert_eq!(CardBrand::accepted_lengths("37"), Amex.lengths());
        assert_eq!(CardBrand::accepted_lengths("99"), ANY_LENGTH);
    }

    #[test]
    fn cvv_is_four_digits_only_for_amex() {
        for brand in CardBrand::ALL {
            assert_eq!(brand.cvv_length(), if brand == Amex { 4 } else { 3 });
        }
    }
}
