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
    /// Shown while the outcome is awaited.
    pub processing: &'static str,
    /// Heading of the 3DS frame.
    pub three_ds: &'static str,
    /// Shown while the page loads the checkout.
    pub loading: &'static str,
    /// No answer from Kasir.
    pub network: &'static str,
    /// The merchant cancelled the session.
    pub cancelled: &'static str,
    /// The session was paid and then refunded in full.
    pub refunded: &'static str,
    /// The QR, VA or wallet request expired; the session is still open.
    pub code_expired: &'static str,
    /// The method picker's label.
    pub choose_method: &'static str,
    /// Button that creates a QR code.
    pub show_qr: &'static str,
    /// Under the QR code.
    pub scan_qr: &'static str,
    /// Before the countdown.
    pub expires_in: &'static str,
    /// Download link of the QR code.
    pub save_qr: &'static str,
    /// Bank picker label.
    pub bank: &'static str,
    /// Button that creates a virtual account.
    pub get_va: &'static str,
    /// Above the virtual account number.
    pub va_number: &'static str,
    /// Mandiri bill payment: the company code, typed before the bill key.
    pub biller_code: &'static str,
    /// Mandiri bill payment: what the number is.
    pub bill_key: &'static str,
    /// How to pay a virtual account.
    pub va_howto: &'static str,
    /// Copy button.
    pub copy: &'static str,
    /// After copying.
    pub copied: &'static str,
    /// Copy the amount (for a transfer).
    pub copy_amount: &'static str,
    /// Wallet picker label.
    pub wallet: &'static str,
    /// Phone label (OVO).
    pub phone: &'static str,
    /// Under the phone field when the order has a number: followed by its
    /// last four digits.
    pub phone_on_file: &'static str,
    /// Button that starts the wallet payment, before the wallet's name.
    pub pay_wallet: &'static str,
    /// Link to the wallet.
    pub open_wallet: &'static str,
    /// The NIK field.
    pub nik: &'static str,
    /// The email field (when the provider needs one the session lacks).
    pub email: &'static str,
    /// Heading of the billing address.
    pub billing: &'static str,
    /// Street address.
    pub address: &'static str,
    /// City.
    pub city: &'static str,
    /// Province.
    pub province: &'static str,
    /// Postal code.
    pub postal_code: &'static str,
    /// Installment picker.
    pub installments: &'static str,
    /// No installments.
    pub pay_in_full: &'static str,
    /// "months".
    pub months: &'static str,
    /// "month", after a monthly amount.
    pub month: &'static str,
    /// The session's time ran out.
    pub expired: &'static str,
    /// Back to the merchant.
    pub back_to_shop: &'static str,
    /// Leave a waiting QR, VA, wallet or 3DS for another method.
    pub change_method: &'static str,
    /// Back from the method picker to the code still waiting.
    pub back_to_code: &'static str,
    /// A QR or VA expired while the session is open.
    pub code_timed_out: &'static str,
    /// Ask for a new QR or VA.
    pub new_code: &'static str,
    /// Before the merchant's order id.
    pub order: &'static str,
    /// Before the session's deadline.
    pub pay_before: &'static str,
    /// The card method's name.
    pub method_card: &'static str,
    /// The convenience-store picker.
    pub store: &'static str,
    /// Button that asks for a payment code.
    pub get_code: &'static str,
    /// Above the payment code.
    pub payment_code: &'static str,
    /// Heading of the steps.
    pub how_to_pay: &'static str,
    /// Print or save the code.
    pub print_code: &'static str,
    /// Above a wallet's QR on a computer.
    pub scan_wallet: &'static str,
    /// Open the wallet on this device instead of scanning.
    pub open_here: &'static str,
    /// Show the wallet's QR on a phone.
    pub show_wallet_qr: &'static str,
    /// The card's bank refused it.
    pub failed_card_declined: &'static str,
    /// Not enough balance or limit on the card.
    pub failed_insufficient_funds: &'static str,
    /// An e-wallet payment was refused or cancelled.
    pub failed_wallet: &'static str,
    /// A QR, VA or payment code was not paid or was refused.
    pub failed_other: &'static str,
    /// Ask Kasir now whether the payment arrived.
    pub check_status: &'static str,
}

impl Texts {
    /// What to tell the shopper about a failed attempt, by method and code.
    pub fn failure(
        &self,
        method: kasir_shared::payment::PaymentMethodKind,
        code: Option<&str>,
    ) -> &'static str {
        use kasir_shared::payment::PaymentMethodKind as M;
        match (method, code) {
            (M::Card, Some("insufficient_funds")) => self.failed_insufficient_funds,
            (M::Card, Some("card_declined")) => self.failed_card_declined,
            (M::Card, _) => self.failed,
            (M::Ewallet, _) => self.failed_wallet,
            (M::Qris | M::VirtualAccount | M::ConvenienceStore, _) => self.failed_other,
        }
    }
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
    processing: "Pembayaran Anda sedang diproses. Halaman ini akan diperbarui otomatis; jangan membayar lagi.",
    failed: "Pembayaran gagal. Periksa data kartu atau gunakan kartu lain.",
    three_ds: "Verifikasi dengan bank Anda",
    loading: "Memuat pembayaran…",
    network: "Tidak dapat terhubung. Periksa koneksi Anda lalu coba lagi.",
    cancelled: "Pembayaran ini dibatalkan oleh penjual dan tidak dapat dibayar lagi.",
    refunded: "Pembayaran ini sudah dikembalikan kepada Anda.",
    code_expired: "Kode pembayaran sudah kedaluwarsa dan tidak dapat dibayar lagi. Pilih metode untuk mendapatkan kode baru.",
    choose_method: "Metode pembayaran",
    show_qr: "Tampilkan kode QRIS",
    scan_qr: "Pindai dengan aplikasi m-banking atau e-wallet apa pun yang mendukung QRIS (misalnya GoPay, OVO, DANA, ShopeePay, LinkAja, atau m-banking bank Anda).",
    expires_in: "Berlaku",
    save_qr: "Simpan kode QR",
    bank: "Bank",
    get_va: "Buat nomor Virtual Account",
    va_number: "Nomor Virtual Account",
    biller_code: "Kode perusahaan (biller)",
    bill_key: "Kode bayar (bill key)",
    va_howto: "Transfer jumlah yang tepat ke nomor ini melalui m-banking, internet banking, atau ATM. Status akan diperbarui otomatis.",
    copy: "Salin",
    copied: "Tersalin",
    copy_amount: "Salin jumlah",
    wallet: "E-Wallet",
    phone: "Nomor ponsel",
    phone_on_file: "Boleh dikosongkan: kami memakai nomor pada pesanan Anda, yang berakhiran",
    pay_wallet: "Bayar dengan",
    open_wallet: "Buka e-wallet untuk membayar",
    nik: "NIK (16 digit)",
    email: "Email",
    billing: "Alamat penagihan kartu",
    address: "Alamat",
    city: "Kota/Kabupaten",
    province: "Provinsi",
    postal_code: "Kode pos",
    installments: "Cicilan",
    pay_in_full: "Bayar penuh",
    months: "bulan",
    month: "bulan",
    expired: "Waktu pembayaran habis.",
    back_to_shop: "Kembali ke toko",
    change_method: "Ganti metode pembayaran",
    back_to_code: "Kembali ke kode pembayaran",
    code_timed_out: "Kode ini sudah kedaluwarsa dan tidak dapat dibayar lagi.",
    new_code: "Buat kode baru",
    order: "Pesanan",
    pay_before: "Bayar sebelum",
    method_card: "Kartu kredit/debit",
    store: "Gerai",
    get_code: "Dapatkan kode pembayaran",
    payment_code: "Kode pembayaran",
    how_to_pay: "Cara membayar",
    print_code: "Cetak atau simpan kode",
    scan_wallet: "Pindai kode QR ini dengan aplikasi e-wallet Anda di ponsel.",
    open_here: "Buka e-wallet di perangkat ini",
    show_wallet_qr: "Tampilkan kode QR",
    failed_card_declined: "Kartu ditolak oleh bank penerbit. Periksa data kartu, hubungi bank Anda, atau gunakan kartu lain.",
    failed_insufficient_funds: "Saldo atau limit kartu tidak mencukupi. Gunakan kartu lain atau metode pembayaran lain.",
    failed_wallet: "Pembayaran e-wallet ditolak atau dibatalkan. Coba lagi atau pilih metode lain.",
    failed_other: "Pembayaran tidak berhasil. Coba lagi atau pilih metode lain.",
    check_status: "Cek status pembayaran",
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
    processing: "Your payment is being processed. This page updates by itself; please do not pay again.",
    failed: "The payment failed. Check the card details or use another card.",
    three_ds: "Verify with your bank",
    loading: "Loading the checkout…",
    network: "Cannot connect. Check your connection and try again.",
    cancelled: "The merchant cancelled this checkout; it can no longer be paid.",
    refunded: "This payment has been refunded to you.",
    code_expired: "The payment code expired and can no longer be paid. Choose a method to get a new one.",
    choose_method: "Payment method",
    show_qr: "Show the QRIS code",
    scan_qr: "Scan with any mobile banking or e-wallet app that supports QRIS (for example GoPay, OVO, DANA, ShopeePay, LinkAja, or your bank's app).",
    expires_in: "Valid for",
    save_qr: "Save the QR code",
    bank: "Bank",
    get_va: "Get a virtual account number",
    va_number: "Virtual account number",
    biller_code: "Company (biller) code",
    bill_key: "Bill key",
    va_howto: "Transfer the exact amount to this number with mobile banking, internet banking or an ATM. The status updates by itself.",
    copy: "Copy",
    copied: "Copied",
    copy_amount: "Copy the amount",
    wallet: "E-wallet",
    phone: "Mobile number",
    phone_on_file: "You may leave it empty: we use the number on your order, ending in",
    pay_wallet: "Pay with",
    open_wallet: "Open the e-wallet to pay",
    nik: "NIK (16 digits)",
    email: "Email",
    billing: "Card billing address",
    address: "Street address",
    city: "City",
    province: "Province",
    postal_code: "Postal code",
    installments: "Installments",
    pay_in_full: "Pay in full",
    months: "months",
    month: "month",
    expired: "The payment time ran out.",
    back_to_shop: "Back to the shop",
    change_method: "Change payment method",
    back_to_code: "Back to the payment code",
    code_timed_out: "This code has expired and can no longer be paid.",
    new_code: "Get a new code",
    order: "Order",
    pay_before: "Pay before",
    method_card: "Credit/debit card",
    store: "Store",
    get_code: "Get a payment code",
    payment_code: "Payment code",
    how_to_pay: "How to pay",
    print_code: "Print or save the code",
    scan_wallet: "Scan this QR code with your e-wallet app on your phone.",
    open_here: "Open the e-wallet on this device",
    show_wallet_qr: "Show the QR code",
    failed_card_declined: "Your bank declined the card. Check the card details, call your bank, or use another card.",
    failed_insufficient_funds: "The card has too little balance or credit. Use another card or another method.",
    failed_wallet: "The e-wallet payment was refused or cancelled. Try again or choose another method.",
    failed_other: "The payment did not go through. Try again or choose another method.",
    check_status: "Check the payment status",
};

/// The texts for a language.
pub fn texts(locale: Locale) -> &'static Texts {
    match locale {
        Locale::Id => &ID,
        Locale::En => &EN,
    }
}
