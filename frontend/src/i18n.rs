//! Every text the widget shows, one table per language. Validation messages
//! come from `kasir-shared`, so the widget and the server say the same thing.

use kasir_shared::Locale;

/// The widget's texts in one language.
#[derive(Debug)]
pub struct Texts {
    /// Page heading.
    pub title: &'static str,
    /// Card number label.
    pub card_number: &'static str,
    /// Expiry label.
    pub expiry: &'static str,
    /// Expiry placeholder.
    pub expiry_placeholder: &'static str,
    /// Security code label.
    pub cvv: &'static str,
    /// Cardholder name label.
    pub holder_name: &'static str,
    /// Label of the language switch.
    pub language: &'static str,
}

const ID: Texts = Texts {
    title: "Pembayaran",
    card_number: "Nomor kartu",
    expiry: "Berlaku hingga",
    expiry_placeholder: "BB / TT",
    cvv: "CVV",
    holder_name: "Nama pada kartu",
    language: "Bahasa",
};

const EN: Texts = Texts {
    title: "Checkout",
    card_number: "Card number",
    expiry: "Expiry date",
    expiry_placeholder: "MM / YY",
    cvv: "Security code",
    holder_name: "Name on card",
    language: "Language",
};

/// The texts for a language.
pub fn texts(locale: Locale) -> &'static Texts {
    match locale {
        Locale::Id => &ID,
        Locale::En => &EN,
    }
}
