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
    /// UnionPay: `62`.
    UnionPay,
    /// GPN, Indonesia's national debit network: `9360` (domestic only).
    Gpn,
    /// Not (yet) recognised.
    Unknown,
}

/// `(low, high, brand)` over the first `width` digits; the most specific first.
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
    (2, 34, 34, CardBrand::Amex),
    (2, 37, 37, CardBrand::Amex),
    (2, 51, 55, CardBrand::Mastercard),
    (2, 50, 50, CardBrand::Maestro),
    (2, 56, 58, CardBrand::Maestro),
    (2, 62, 62, CardBrand::UnionPay),
    (1, 4, 4, CardBrand::Visa),
];

impl CardBrand {
    /// Every brand, for exhaustive tests and documentation.
    pub const ALL: [CardBrand; 8] = [
        CardBrand::Visa,
        CardBrand::Mastercard,
        CardBrand::Amex,
        CardBrand::Jcb,
        CardBrand::Maestro,
        CardBrand::UnionPay,
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
            CardBrand::Visa => &[13, 16, 19],
            CardBrand::Mastercard => &[16],
            CardBrand::Amex => &[15],
            CardBrand::Jcb => &[16, 17, 18, 19],
            CardBrand::UnionPay | CardBrand::Gpn => &[16, 17, 18, 19],
            CardBrand::Maestro | CardBrand::Unknown => &[12, 13, 14, 15, 16, 17, 18, 19],
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
    fn cvv_is_four_digits_only_for_amex() {
        for brand in CardBrand::ALL {
            assert_eq!(brand.cvv_length(), if brand == Amex { 4 } else { 3 });
        }
    }
}
