//! The one validation error type: a stable machine code, the field it
//! concerns, and a message in English and Bahasa Indonesia.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The language a message is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// Bahasa Indonesia, the default.
    #[default]
    Id,
    /// English.
    En,
}

impl Locale {
    /// The BCP 47 tag (`id` or `en`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Locale::Id => "id",
            Locale::En => "en",
        }
    }

    /// Picks a locale from a tag such as `id`, `id-ID`, `en-US`; `None` if neither.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("id") || primary.eq_ignore_ascii_case("in") {
            Some(Locale::Id)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Locale::En)
        } else {
            None
        }
    }
}

macro_rules! error_codes {
    ($( $variant:ident => $code:literal, $field:literal, $en:literal, $id:literal; )*) => {
        /// Every error Kasir reports: input rejections and API errors. The
        /// string form (`code()`) is part of the public API and never changes meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( #[doc = $en] $variant, )*
        }

        impl ErrorCode {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The stable machine code, e.g. `card_number.luhn`.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The field this code concerns unless a caller names a more precise one.
            pub const fn default_field(self) -> &'static str {
                match self { $(ErrorCode::$variant => $field,)* }
            }

            /// The message for a person, in the given language.
            pub const fn message(self, locale: Locale) -> &'static str {
                match locale {
                    Locale::En => match self { $(ErrorCode::$variant => $en,)* },
                    Locale::Id => match self { $(ErrorCode::$variant => $id,)* },
                }
            }

            /// Looks a code up by its string form.
            pub fn from_code(code: &str) -> Option<ErrorCode> {
                match code { $($code => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

error_codes! {
    AmountEmpty => "amount.empty", "amount",
        "Enter an amount.", "Masukkan jumlah.";
    AmountFormat => "amount.format", "amount",
        "Enter the amount in whole rupiah, e.g. 150000 or Rp150.000.",
        "Masukkan jumlah dalam rupiah bulat, misalnya 150000 atau Rp150.000.";
    AmountFraction => "amount.fraction", "amount",
        "Rupiah amounts cannot have cents.", "Jumlah rupiah tidak boleh memiliki sen.";
    AmountTooLarge => "amount.too_large", "amount",
        "The amount is too large.", "Jumlah terlalu besar.";
    AmountTooSmall => "amount.too_small", "amount",
        "The amount is below the minimum.", "Jumlah di bawah batas minimum.";
    CurrencyUnsupported => "currency.unsupported", "currency",
        "Only IDR is supported.", "Hanya IDR yang didukung.";

    CardNumberEmpty => "card_number.empty", "card_number",
        "Enter the card number.", "Masukkan nomor kartu.";
    CardNumberCharacters => "card_number.characters", "card_number",
        "The card number may contain only digits.", "Nomor kartu hanya boleh berisi angka.";
    CardNumberLength => "card_number.length", "card_number",
        "The card number has the wrong number of digits.",
        "Jumlah digit nomor kartu tidak sesuai.";
    CardNumberLuhn => "card_number.luhn", "card_number",
        "The card number is not valid; please check it.",
        "Nomor kartu tidak valid; periksa kembali.";
    ExpiryEmpty => "expiry.empty", "expiry",
        "Enter the expiry date.", "Masukkan tanggal kedaluwarsa.";
    ExpiryFormat => "expiry.format", "expiry",
        "Enter the expiry date as MM/YY.",
        "Masukkan tanggal kedaluwarsa dengan format BB/TT.";
    ExpiryMonth => "expiry.month", "expiry",
        "The expiry month must be between 01 and 12.",
        "Bulan kedaluwarsa harus antara 01 dan 12.";
    ExpiryPast => "expiry.past", "expiry",
        "This card has expired.", "Kartu ini sudah kedaluwarsa.";
    ExpiryTooFar => "expiry.too_far", "expiry",
        "The expiry date is too far in the future.",
        "Tanggal kedaluwarsa terlalu jauh di masa depan.";
    CvvEmpty => "cvv.empty", "cvv",
        "Enter the security code.", "Masukkan kode keamanan (CVV).";
    CvvCharacters => "cvv.characters", "cvv",
        "The security code may contain only digits.",
        "Kode keamanan hanya boleh berisi angka.";
    CvvLength => "cvv.length", "cvv",
        "The security code must have 3 digits (4 for American Express).",
        "Kode keamanan harus 3 digit (4 digit untuk American Express).";

    EmailEmpty => "email.empty", "email",
        "Enter an email address.", "Masukkan alamat email.";
    EmailFormat => "email.format", "email",
        "Enter a valid email address, e.g. nama@contoh.co.id.",
        "Masukkan alamat email yang valid, misalnya nama@contoh.co.id.";
    EmailLocalTooLong => "email.local_too_long", "email",
        "The part before @ may have at most 64 characters.",
        "Bagian sebelum @ maksimal 64 karakter.";
    EmailTooLong => "email.too_long", "email",
        "The email address may have at most 254 characters.",
        "Alamat email maksimal 254 karakter.";
    EmailDomain => "email.domain", "email",
        "The part after @ is not a valid domain.",
        "Bagian setelah @ bukan domain yang valid.";
    PhoneEmpty => "phone.empty", "phone",
        "Enter a phone number.", "Masukkan nomor telepon.";
    PhoneCharacters => "phone.characters", "phone",
        "The phone number may contain only digits, spaces, dashes and a leading +.",
        "Nomor telepon hanya boleh berisi angka, spasi, tanda hubung, dan + di depan.";
    PhoneCountry => "phone.country", "phone",
        "Only Indonesian numbers (+62) are accepted.",
        "Hanya nomor Indonesia (+62) yang diterima.";
    PhoneFormat => "phone.format", "phone",
        "This is not a valid Indonesian phone number.",
        "Ini bukan nomor telepon Indonesia yang valid.";
    PhoneLength => "phone.length", "phone",
        "The phone number has the wrong number of digits.",
        "Jumlah digit nomor telepon tidak sesuai.";
    PhoneNotMobile => "phone.not_mobile", "phone",
        "Enter a mobile number (081x, 082x, 083x, 085x, 087x, 088x or 089x; or +62 8…).",
        "Masukkan nomor ponsel (081x, 082x, 083x, 085x, 087x, 088x atau 089x; atau +62 8…).";
    NikEmpty => "nik.empty", "nik",
        "Enter your NIK (16-digit national identity number).",
        "Masukkan NIK (16 digit Nomor Induk Kependudukan).";
    NikCharacters => "nik.characters", "nik",
        "The NIK may contain only digits.", "NIK hanya boleh berisi angka.";
    NikLength => "nik.length", "nik",
        "The NIK must have exactly 16 digits.", "NIK harus tepat 16 digit.";
    NikProvince => "nik.province", "nik",
        "The first two digits of the NIK are not a province code.",
        "Dua digit pertama NIK bukan kode provinsi yang valid.";
    NikRegion => "nik.region", "nik",
        "The regency or district code in the NIK is not valid.",
        "Kode kabupaten/kota atau kecamatan pada NIK tidak valid.";
    NikBirthDay => "nik.birth_day", "nik",
        "The birth day in the NIK is not valid (01-31, or 41-71 for women).",
        "Tanggal lahir pada NIK tidak valid (01-31, atau 41-71 untuk perempuan).";
    NikBirthMonth => "nik.birth_month", "nik",
        "The birth month in the NIK is not valid.", "Bulan lahir pada NIK tidak valid.";
    NikSequence => "nik.sequence", "nik",
        "The last four digits of the NIK cannot be 0000.",
        "Empat digit terakhir NIK tidak boleh 0000.";
    NameEmpty => "name.empty", "name",
        "Enter the full name.", "Masukkan nama lengkap.";
    NameTooShort => "name.too_short", "name",
        "The name must have at least 3 characters.", "Nama minimal 3 karakter.";
    NameTooLong => "name.too_long", "name",
        "The name may have at most 50 characters.", "Nama maksimal 50 karakter.";
    NameCharacters => "name.characters", "name",
        "The name contains characters that are not allowed.",
        "Nama mengandung karakter yang tidak diperbolehkan.";
    AddressEmpty => "address.empty", "billing.address",
        "Enter this part of the billing address.", "Isi bagian alamat penagihan ini.";
    AddressTooLong => "address.too_long", "billing.address",
        "This part of the billing address is too long or has characters that are not allowed.",
        "Bagian alamat penagihan ini terlalu panjang atau mengandung karakter yang tidak diperbolehkan.";
    CountryFormat => "country.format", "billing.country",
        "Enter a two-letter country code, e.g. ID.", "Masukkan kode negara dua huruf, misalnya ID.";
    FieldRequired => "field.required", "",
        "The payment provider for this method needs this field.",
        "Penyedia pembayaran untuk metode ini memerlukan kolom ini.";
    InstallmentUnsupported => "installment.unsupported", "installment_months",
        "Installments are offered for 3, 6 or 12 months only, and only where the card provider supports them.",
        "Cicilan hanya tersedia 3, 6, atau 12 bulan, dan hanya bila penyedia kartu mendukungnya.";
    PostalCodeEmpty => "postal_code.empty", "postal_code",
        "Enter the postal code.", "Masukkan kode pos.";
    PostalCodeFormat => "postal_code.format", "postal_code",
        "The postal code must be 5 digits.", "Kode pos harus 5 digit.";

    ReferenceEmpty => "reference.empty", "reference",
        "Enter the order reference.", "Masukkan referensi pesanan.";
    ReferenceTooLong => "reference.too_long", "reference",
        "The order reference may have at most 64 characters.",
        "Referensi pesanan maksimal 64 karakter.";
    ReferenceCharacters => "reference.characters", "reference",
        "The order reference may contain only letters, digits and - _ . : /",
        "Referensi pesanan hanya boleh berisi huruf, angka, dan - _ . : /";
    PaymentMethodUnknown => "payment_method.unknown", "method",
        "This payment method is not supported.", "Metode pembayaran ini tidak didukung.";
    BankUnknown => "bank.unknown", "bank",
        "This bank is not supported for virtual accounts.",
        "Bank ini tidak didukung untuk virtual account.";
    WalletUnknown => "wallet.unknown", "wallet",
        "This e-wallet is not supported.", "E-wallet ini tidak didukung.";
    StoreUnknown => "store.unknown", "store",
        "Choose Indomaret or Alfamart.", "Pilih Indomaret atau Alfamart.";

    RequestMalformed => "request.malformed", "body",
        "The request body is not valid JSON of the expected shape.",
        "Isi permintaan bukan JSON yang valid dengan bentuk yang diharapkan.";
    RequestMissingField => "request.missing_field", "body",
        "A required field is missing.", "Kolom wajib tidak ada.";
    AuthMissing => "auth.missing", "authorization",
        "Send your secret key as 'Authorization: Bearer sk_...'.",
        "Kirim kunci rahasia Anda sebagai 'Authorization: Bearer sk_...'.";
    AuthInvalid => "auth.invalid", "authorization",
        "The key is not valid.", "Kunci tidak valid.";
    ResourceNotFound => "resource.not_found", "id",
        "No such object.", "Objek tidak ditemukan.";
    IdempotencyKeyReused => "idempotency_key.reused", "idempotency_key",
        "This Idempotency-Key was already used with a different request.",
        "Idempotency-Key ini sudah dipakai untuk permintaan yang berbeda.";
    IdempotencyKeyInvalid => "idempotency_key.invalid", "idempotency_key",
        "The Idempotency-Key must be 1-255 visible ASCII characters.",
        "Idempotency-Key harus 1-255 karakter ASCII yang terlihat.";
    ExpiresInRange => "expires_in.range", "expires_in",
        "expires_in must be between 300 and 86400 seconds.",
        "expires_in harus antara 300 dan 86400 detik.";
    PaymentMethodsEmpty => "payment_methods.empty", "payment_methods",
        "Allow at least one payment method.", "Izinkan setidaknya satu metode pembayaran.";
    MetadataTooLarge => "metadata.too_large", "metadata",
        "metadata may have at most 20 keys of 40 characters and values of 500 characters.",
        "metadata maksimal 20 kunci (40 karakter) dengan nilai maksimal 500 karakter.";
    UrlInvalid => "url.invalid", "return_url",
        "Enter an absolute http or https URL.", "Masukkan URL http atau https yang lengkap.";
    DescriptionTooLong => "description.too_long", "description",
        "The description may have at most 500 characters.", "Deskripsi maksimal 500 karakter.";
    TextControlCharacters => "text.control_characters", "description",
        "This text may not contain control characters (such as NUL, tab or line breaks).",
        "Teks ini tidak boleh berisi karakter kontrol (seperti NUL, tab, atau baris baru).";
    LocaleUnsupported => "locale.unsupported", "locale",
        "locale must be id or en.", "locale harus id atau en.";
    SessionNotCancellable => "session.not_cancellable", "id",
        "Only an open session, or one waiting for the shopper, can be cancelled.",
        "Hanya sesi yang masih terbuka atau menunggu pembeli yang dapat dibatalkan.";
    SessionConflict => "session.conflict", "id",
        "The session changed at the same moment; retry the request.",
        "Sesi berubah pada saat yang sama; ulangi permintaan.";
    PaginationLimit => "pagination.limit", "limit",
        "limit must be between 1 and 100.", "limit harus antara 1 dan 100.";
    ServiceUnavailable => "service.unavailable", "",
        "Kasir cannot reach its database right now; try again shortly.",
        "Kasir tidak dapat menjangkau basis datanya saat ini; coba lagi sebentar lagi.";
    PaymentMethodNotAllowed => "payment_method.not_allowed", "method",
        "This session does not accept that payment method.",
        "Sesi ini tidak menerima metode pembayaran tersebut.";
    PaymentMethodUnavailable => "payment_method.unavailable", "method",
        "That payment method is not available right now; choose another.",
        "Metode pembayaran tersebut sedang tidak tersedia; pilih yang lain.";
    SessionNotPayable => "session.not_payable", "",
        "This session can no longer be paid (it is paid, expired, cancelled or a payment is in progress).",
        "Sesi ini tidak dapat dibayar lagi (sudah dibayar, kedaluwarsa, dibatalkan, atau pembayaran sedang diproses).";
    AttemptsTooMany => "attempts.too_many", "",
        "Too many payment attempts on this session.",
        "Terlalu banyak percobaan pembayaran pada sesi ini.";
    CardsTooMany => "cards.too_many", "card.number",
        "Too many different cards have been tried from this connection; use a card already tried or wait an hour.",
        "Terlalu banyak kartu berbeda dicoba dari koneksi ini; gunakan kartu yang sudah dicoba atau tunggu satu jam.";
    RateLimited => "rate_limit.exceeded", "",
        "Too many requests; wait a minute and try again.",
        "Terlalu banyak permintaan; tunggu satu menit lalu coba lagi.";
    WebhookSignature => "webhook.signature", "",
        "The webhook signature is missing or invalid.",
        "Tanda tangan webhook tidak ada atau tidak valid.";
    WebhookStale => "webhook.stale", "",
        "The webhook timestamp is too old or in the future.",
        "Cap waktu webhook terlalu lama atau berada di masa depan.";
    WebhookSource => "webhook.source_not_allowed", "",
        "Webhooks for this provider are not accepted from this address.",
        "Webhook untuk penyedia ini tidak diterima dari alamat ini.";
    WebhookContentType => "webhook.content_type", "content-type",
        "Webhooks must be sent as application/json.",
        "Webhook harus dikirim sebagai application/json.";
    WebhookMalformed => "webhook.malformed", "",
        "The webhook body cannot be read.",
        "Isi webhook tidak dapat dibaca.";
    ProviderUnknown => "provider.unknown", "provider",
        "No such payment provider.",
        "Penyedia pembayaran tidak dikenal.";
    ProviderUnavailable => "provider.unavailable", "",
        "The payment provider did not answer; try again later.",
        "Penyedia pembayaran tidak menjawab; coba lagi nanti.";
    RefundNotAllowed => "refund.not_allowed", "",
        "Only a paid session can be refunded.",
        "Hanya sesi yang sudah dibayar yang dapat dikembalikan dananya.";
    RefundAmount => "refund.amount", "amount",
        "The refund exceeds what remains to be refunded.",
        "Jumlah pengembalian melebihi sisa yang dapat dikembalikan.";
    RefundUnsupported => "refund.unsupported", "amount",
        "This payment's provider cannot make this refund (it offers no refunds, only whole ones, or Kasir holds no provider reference for this payment).",
        "Penyedia pembayaran ini tidak dapat melakukan pengembalian dana ini (tidak mendukung pengembalian, hanya pengembalian penuh, atau Kasir tidak memiliki referensi penyedia untuk pembayaran ini).";
    WebhookUnknownPayment => "webhook.unknown_payment", "",
        "No payment matches this webhook yet; send it again later.",
        "Belum ada pembayaran yang cocok dengan webhook ini; kirim lagi nanti.";
    NotUnderReview => "session.not_under_review", "id",
        "Only a session whose payment Kasir asked you to review (checkout_session.requires_review) can be resolved.",
        "Hanya sesi yang pembayarannya diminta untuk Anda tinjau (checkout_session.requires_review) yang dapat diselesaikan.";
    RefundNotUnderReview => "refund.not_under_review", "refund_id",
        "Only a pending refund Kasir asked you to review (checkout_session.refund_requires_review) can be resolved.",
        "Hanya pengembalian dana tertunda yang diminta untuk Anda tinjau (checkout_session.refund_requires_review) yang dapat diselesaikan.";
    LatePaymentNotUnderReview => "late_payment.not_under_review", "late_payment_id",
        "Only a late payment whose refund Kasir asked you to review (checkout_session.late_payment_refund_requires_review) can be resolved.",
        "Hanya pembayaran terlambat yang pengembalian dananya diminta untuk Anda tinjau (checkout_session.late_payment_refund_requires_review) yang dapat diselesaikan.";
    ResolutionOutcome => "resolution.outcome", "outcome",
        "outcome must be succeeded or failed, as confirmed with the payment provider.",
        "outcome harus succeeded atau failed, sesuai konfirmasi dari penyedia pembayaran.";
    ResolutionNote => "resolution.note", "note",
        "note must be at most 500 characters.",
        "note paling banyak 500 karakter.";
    LiveModeSandbox => "livemode.sandbox", "",
        "The sandbox never takes live payments: this is a live-mode session.",
        "Sandbox tidak pernah menerima pembayaran sungguhan: sesi ini dalam mode live.";
    TestModeOnly => "test_mode.required", "",
        "Test helpers work only with a test-mode (sk_test_) key.",
        "Fitur uji hanya dapat dipakai dengan kunci mode uji (sk_test_).";
    NothingToPay => "test_helpers.nothing_to_pay", "",
        "The session has no sandbox QRIS, virtual account or e-wallet payment waiting.",
        "Sesi ini tidak memiliki pembayaran QRIS, virtual account, atau e-wallet sandbox yang menunggu.";
    BodyTooLarge => "request.too_large", "",
        "The request body is too large.",
        "Isi permintaan terlalu besar.";
    Internal => "internal.error", "",
        "Something went wrong on our side. It has been logged.",
        "Terjadi kesalahan di pihak kami. Kesalahan ini telah dicatat.";

    QrisEmpty => "qris.empty", "qris",
        "The QRIS payload is empty.", "Data QRIS kosong.";
    QrisTooLong => "qris.too_long", "qris",
        "The QRIS payload is longer than 512 characters.",
        "Data QRIS lebih dari 512 karakter.";
    QrisCharacters => "qris.characters", "qris",
        "The QRIS payload contains characters that are not allowed.",
        "Data QRIS mengandung karakter yang tidak diperbolehkan.";
    QrisTlv => "qris.tlv", "qris",
        "The QRIS payload is not a valid sequence of tag-length-value fields.",
        "Data QRIS bukan rangkaian tag-panjang-nilai yang valid.";
    QrisFormat => "qris.format", "qris",
        "The QRIS payload must start with payload format 01 (000201).",
        "Data QRIS harus diawali format 01 (000201).";
    QrisCrcMissing => "qris.crc_missing", "qris",
        "The QRIS payload does not end with a CRC field (6304).",
        "Data QRIS tidak diakhiri kolom CRC (6304).";
    QrisCrc => "qris.crc", "qris",
        "The QRIS checksum (CRC) does not match; the code is damaged.",
        "Checksum QRIS (CRC) tidak cocok; kode rusak.";
    QrisMissingField => "qris.missing_field", "qris",
        "The QRIS payload lacks a required field (merchant account, category, currency, country, name or city).",
        "Data QRIS tidak memiliki kolom wajib (akun merchant, kategori, mata uang, negara, nama, atau kota).";
    QrisTemplate => "qris.template", "qris",
        "A merchant account template in the QRIS payload lacks its identifier.",
        "Templat akun merchant pada data QRIS tidak memiliki pengenal.";
    QrisPointOfInitiation => "qris.point_of_initiation", "qris",
        "The QRIS payload is neither static (11) nor dynamic (12).",
        "Data QRIS bukan statis (11) maupun dinamis (12).";
    QrisCurrency => "qris.currency", "qris",
        "The QRIS payload is not in rupiah (currency 360, country ID).",
        "Data QRIS bukan dalam rupiah (mata uang 360, negara ID).";
    QrisAmount => "qris.amount", "qris",
        "The amount in the QRIS payload is not valid.",
        "Jumlah pada data QRIS tidak valid.";
    QrisFieldTooLong => "qris.field_too_long", "qris",
        "A value is too long for a QRIS payload (merchant name 25, city 15, other fields 99 characters).",
        "Nilai terlalu panjang untuk data QRIS (nama merchant 25, kota 15, kolom lain 99 karakter).";
    QrisMerchantAccount => "qris.merchant_account", "qris",
        "The merchant account does not fit QRIS (identifier at most 32 characters, merchant PAN 19, merchant ID 15; NMID is ID and 13 digits).",
        "Akun merchant tidak sesuai QRIS (pengenal maksimal 32 karakter, PAN merchant 19, ID merchant 15; NMID berupa ID dan 13 digit).";
}

impl ErrorCode {
    /// The one HTTP status Kasir answers this code with, wherever it is
    /// raised. Every input rejection not named here is a `422`.
    pub const fn http_status(self) -> u16 {
        use ErrorCode as C;
        match self {
            C::RequestMalformed
            | C::RequestMissingField
            | C::IdempotencyKeyInvalid
            | C::PaginationLimit
            | C::WebhookMalformed => 400,
            C::AuthMissing | C::AuthInvalid | C::WebhookSignature | C::WebhookStale => 401,
            C::WebhookSource | C::TestModeOnly => 403,
            C::ResourceNotFound | C::ProviderUnknown => 404,
            C::IdempotencyKeyReused
            | C::SessionNotCancellable
            | C::SessionConflict
            | C::SessionNotPayable
            | C::RefundNotAllowed
            | C::NotUnderReview
            | C::RefundNotUnderReview
            | C::LatePaymentNotUnderReview
            | C::NothingToPay => 409,
            C::BodyTooLarge => 413,
            C::WebhookContentType => 415,
            C::AttemptsTooMany | C::CardsTooMany | C::RateLimited => 429,
            C::Internal => 500,
            C::ProviderUnavailable => 502,
            C::ServiceUnavailable | C::WebhookUnknownPayment => 503,
            _ => 422,
        }
    }
}

/// An input was rejected. Carries a stable code, the field it concerns, and
/// messages in both languages. Never carries the rejected value itself, so it
/// can be logged and returned without leaking card data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    code: ErrorCode,
    field: Cow<'static, str>,
}

impl ValidationError {
    /// A rejection for the code's default field.
    pub const fn new(code: ErrorCode) -> Self {
        ValidationError { code, field: Cow::Borrowed(code.default_field()) }
    }

    /// The same rejection re-scoped to a more precise field, e.g. `customer.email`.
    #[must_use]
    pub fn at(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        self.field = field.into();
        self
    }

    /// The stable machine code, e.g. `card_number.luhn`.
    pub const fn code(&self) -> &'static str {
        self.code.as_str()
    }

    /// The code as an enum, for exhaustive handling.
    pub const fn kind(&self) -> ErrorCode {
        self.code
    }

    /// The field the rejection concerns.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The message in the given language.
    pub const fn message(&self, locale: Locale) -> &'static str {
        self.code.message(locale)
    }

    /// The English message.
    pub const fn message_en(&self) -> &'static str {
        self.code.message(Locale::En)
    }

    /// The Bahasa Indonesia message.
    pub const fn message_id(&self) -> &'static str {
        self.code.message(Locale::Id)
    }
}

impl From<ErrorCode> for ValidationError {
    fn from(code: ErrorCode) -> Self {
        ValidationError::new(code)
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message_en(), self.code())
    }
}

impl std::error::Error for ValidationError {}

/// Shorthand used by every parser in this crate.
pub(crate) fn reject<T>(code: ErrorCode) -> Result<T, ValidationError> {
    Err(ValidationError::new(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_unique_namespaced_and_translated() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            let (prefix, rest) = s.split_once('.').expect("namespaced code");
            assert!(!prefix.is_empty() && !rest.is_empty());
            assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'));
            let en = code.message(Locale::En);
            let id = code.message(Locale::Id);
            assert!(!en.is_empty() && !id.is_empty());
            assert_ne!(en, id, "{s} is not translated");
            assert_eq!(ErrorCode::from_code(s), Some(*code));
            assert!((400..600).contains(&code.http_status()), "{s}");
        }
    }

    #[test]
    fn at_rescopes_the_field_and_display_never_needs_the_value() {
        let e = ValidationError::new(ErrorCode::EmailFormat).at("customer.email");
        assert_eq!(e.field(), "customer.email");
        assert_eq!(e.code(), "email.format");
        assert_eq!(e.to_string(), format!("customer.email: {} (email.format)", e.message_en()));
    }

    #[test]
    fn locale_from_browser_tags() {
        assert_eq!(Locale::from_tag("id-ID"), Some(Locale::Id));
        assert_eq!(Locale::from_tag("en_US"), Some(Locale::En));
        assert_eq!(Locale::from_tag("in"), Some(Locale::Id));
        assert_eq!(Locale::from_tag("fr"), None);
        assert_eq!(Locale::from_tag(""), None);
    }
}
