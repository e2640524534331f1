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
    /// The pay button, before the amount.
    pub pay: &'static str,
    /// Shown when the payment succeeded.
    pub succeeded: &'static str,
    /// Shown when the payment failed.
    pub failed: &'static str,
    /// Heading of the 3DS frame.
    pub three_ds: &'static str,
    /// Shown while the page loads the checkout.
    pub loading: &'static str,
    /// No answer from Kasir.
    pub network: &'static str,
    /// The session cannot be paid any more.
    pub closed: &'static str,
}

const ID: Texts = Texts {
    title: "Pembayaran",
    card_number: "Nomor kartu",
    expiry: "Berlaku hingga",
    expiry_placeholder: "BB / TT",
    cvv: "CVV",
    holder_name: "Nama pada kartu",
    language: "Bahasa",
    pay: "Bayar",
    succeeded: "Pembayaran berhasil. Terima kasih!",
    failed: "Pembayaran gagal. Periksa data kartu atau gunakan kartu lain.",
    three_ds: "Verifikasi dengan bank Anda",
    loading: "Memuat pembayaran…",
    network: "Tidak dapat terhubung. Periksa koneksi Anda lalu coba lagi.",
    closed: "Pembayaran ini sudah tidak dapat dibayar.",
};

const EN: Texts = Texts {
    title: "Checkout",
    card_number: "Card number",
    expiry: "Expiry date",
    expiry_placeholder: "MM / YY",
    cvv: "Security code",
    holder_name: "Name on card",
    language: "Language",
    pay: "Pay",
    succeeded: "Payment successful. Thank you!",
    failed: "The payment failed. Check the card details or use another card.",
    three_ds: "Verify with your bank",
    loading: "Loading the checkout…",
    network: "Cannot connect. Check your connection and try again.",
    closed: "This checkout can no longer be paid.",
};

/// The texts for a language.
pub fn texts(locale: Locale) -> &'static Texts {
    match locale {
        Locale::Id => &ID,
        Locale::En => &EN,
    }
}
