//! Kasir's API on the wire, declared once: the server serialises these
//! types, the widget decodes them, and `/openapi.json` is derived from them
//! (with the `openapi` feature). Statuses, methods and amounts are typed, so
//! a value the other side does not know is a decoding error, not a string
//! that silently matches nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

use crate::customer::BillingFields;
use crate::error::{Locale, ValidationError};
use crate::money::Idr;
use crate::payment::{Bank, PaymentMethodKind, PaymentStatus, SessionStatus, Store, Wallet};
use crate::secret::SecretString;

/// The body of every error response: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorResponse {
    /// The error.
    pub error: ApiError,
}

/// One error: a stable machine code, messages in English and Bahasa
/// Indonesia, and the field concerned when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// Stable machine code (the README's table), e.g. `card_number.luhn`.
    pub code: String,
    /// English message.
    pub message: String,
    /// Bahasa Indonesia message.
    pub message_id: String,
    /// The request field concerned, e.g. `card.number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    /// The message in `locale`.
    pub fn message_in(&self, locale: Locale) -> &str {
        match locale {
            Locale::Id => &self.message_id,
            Locale::En => &self.message,
        }
    }
}

impl From<&ValidationError> for ApiError {
    fn from(e: &ValidationError) -> Self {
        ApiError {
            code: e.code().to_owned(),
            message: e.message_en().to_owned(),
            message_id: e.message_id().to_owned(),
            field: Some(e.field().to_owned()).filter(|f| !f.is_empty()),
        }
    }
}

impl From<ValidationError> for ErrorResponse {
    fn from(e: ValidationError) -> Self {
        ErrorResponse { error: ApiError::from(&e) }
    }
}

/// Sends a raw card field. Only the widget serialises a card (to send it
/// to Kasir, once); `SecretString` itself stays without `Serialize`.
fn expose<S: Serializer>(value: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.expose_secret())
}

/// Raw card fields as the widget sends them; parsed by the server with the
/// same `kasir-shared` parsers the widget ran. Never stored or logged.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardFields {
    /// The card number as typed, spaces allowed.
    #[serde(serialize_with = "expose")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "4242 4242 4242 4242"))]
    pub number: SecretString,
    /// The expiry as typed (`MM/YY`).
    #[serde(serialize_with = "expose")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12/30"))]
    pub expiry: SecretString,
    /// The security code: 3 digits (4 for American Express).
    #[serde(serialize_with = "expose")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub cvv: SecretString,
    /// The cardholder's name, as on the card.
    pub holder_name: String,
}

/// `POST /v1/widget/sessions/{id}/attempts`: what the shopper chose, tagged
/// by `method`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum AttemptRequest {
    /// Pay by card.
    #[cfg_attr(feature = "openapi", schema(title = "CardAttempt"))]
    Card {
        /// The card.
        card: CardFields,
        /// NIK, for providers that require it (Smart Glocal).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nik: Option<String>,
        /// Installment months (3, 6, 12) where offered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        installment_months: Option<u8>,
        /// The billing address, for providers that require it (SingaPay).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        billing: Option<Box<BillingFields>>,
        /// The shopper's email, when the session has none and the provider needs one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
        /// The shopper's mobile phone, when the session has none and the provider needs one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone: Option<String>,
    },
    /// Pay with QRIS.
    #[cfg_attr(feature = "openapi", schema(title = "QrisAttempt"))]
    Qris,
    /// Pay by transfer to a virtual account.
    #[cfg_attr(feature = "openapi", schema(title = "VirtualAccountAttempt"))]
    VirtualAccount {
        /// The bank.
        bank: Bank,
    },
    /// Pay with an e-wallet.
    #[cfg_attr(feature = "openapi", schema(title = "EwalletAttempt"))]
    Ewallet {
        /// The wallet.
        wallet: Wallet,
        /// The shopper's mobile phone (required for OVO).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone: Option<String>,
    },
    /// Pay cash at a convenience store's till with a payment code.
    #[cfg_attr(feature = "openapi", schema(title = "ConvenienceStoreAttempt"))]
    ConvenienceStore {
        /// The chain.
        store: Store,
    },
}

/// `POST /v1/checkout_sessions/{id}/refunds`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Whole rupiah; the rest of the payment when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
}

/// The merchant's look, as CSS values (checked when the configuration loads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// `#rrggbb`.
    #[serde(default = "Theme::default_color")]
    pub primary_color: String,
    /// A CSS length, e.g. `8px`.
    #[serde(default = "Theme::default_radius")]
    pub radius: String,
    /// A font family name.
    #[serde(default = "Theme::default_font")]
    pub font: String,
    /// The merchant's logo, an `https://` image shown beside its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            primary_color: Theme::default_color(),
            radius: Theme::default_radius(),
            font: Theme::default_font(),
            logo_url: None,
        }
    }
}

impl Theme {
    fn default_color() -> String {
        "#0a7d38".into()
    }
    fn default_radius() -> String {
        "8px".into()
    }
    fn default_font() -> String {
        "system-ui".into()
    }

    /// Rejects values that are not a plain colour, length or font name.
    pub fn check(&self) -> Result<(), String> {
        let c = self.primary_color.as_bytes();
        if !(c.len() == 7 && c[0] == b'#' && c[1..].iter().all(u8::is_ascii_hexdigit)) {
            return Err(format!("primary_color must be #rrggbb, not {:?}", self.primary_color));
        }
        let number = self.radius.trim_end_matches("px").trim_end_matches("rem");
        if number.is_empty() || number.len() > 5 || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(format!("radius must be like 8px or 0.5rem, not {:?}", self.radius));
        }
        let font_ok = |b: u8| b.is_ascii_alphanumeric() || b == b' ' || b == b'-';
        if self.font.is_empty() || self.font.len() > 64 || !self.font.bytes().all(font_ok) {
            return Err(format!("font must be a plain family name, not {:?}", self.font));
        }
        if let Some(logo) = &self.logo_url {
            // https only (the page's CSP allows no other image source but
            // its own), one plain URL: no spaces, quotes or angle brackets.
            let plain =
                |b: u8| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\' | b'`');
            let host = logo.strip_prefix("https://").and_then(|rest| rest.split('/').next()).unwrap_or("");
            if host.is_empty() || logo.len() > 2048 || !logo.bytes().all(plain) {
                return Err(format!("logo_url must be an https:// URL, not {logo:?}"));
            }
        }
        Ok(())
    }
}

/// The next step an attempt asks of the shopper, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NextAction {
    /// Show `url` (Kasir's one-time sandboxed 3DS page) in an iframe.
    #[cfg_attr(feature = "openapi", schema(title = "ThreeDsAction"))]
    ThreeDs {
        /// The one-time URL.
        url: String,
    },
    /// Show a QRIS code.
    #[cfg_attr(feature = "openapi", schema(title = "ShowQrAction"))]
    ShowQr {
        /// The EMVCo payload, validated by `kasir-shared`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        qr_payload: Option<String>,
        /// An image of the code, when the provider gives one instead.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_url: Option<String>,
        /// Unix seconds.
        expires_at: i64,
    },
    /// Transfer to a virtual account.
    #[cfg_attr(feature = "openapi", schema(title = "ShowVirtualAccountAction"))]
    ShowVirtualAccount {
        /// The bank.
        bank: Bank,
        /// The account number (Mandiri bill payment: the bill key).
        number: String,
        /// Mandiri bill payment: the company (biller) code, entered before
        /// the bill key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        biller_code: Option<String>,
        /// Unix seconds.
        expires_at: i64,
        /// How to pay at this bank: its app, its ATMs, its internet
        /// banking, each in both languages (filled when shown).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        steps: Vec<VaChannelSteps>,
    },
    /// Send the shopper to the provider (e-wallet approval): on a phone the
    /// wallet's app link; on a computer, where the provider gives one, a QR
    /// code the shopper scans with the wallet's app.
    #[cfg_attr(feature = "openapi", schema(title = "RedirectAction"))]
    Redirect {
        /// Where (the wallet's deep link or approval page).
        url: String,
        /// A QR code for the same payment, as a payload checked by
        /// `kasir-shared` (QRIS), when the provider gives one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        qr_payload: Option<String>,
        /// Or as an image.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        qr_image_url: Option<String>,
    },
    /// Pay this code in cash at the store's till before `expires_at`.
    #[cfg_attr(feature = "openapi", schema(title = "ShowPaymentCodeAction"))]
    ShowPaymentCode {
        /// The chain whose tills take the code.
        store: Store,
        /// The payment code, as the cashier types it.
        code: String,
        /// Unix seconds.
        expires_at: i64,
        /// How to pay it, step by step, in the session's language.
        #[serde(default)]
        instructions: Vec<String>,
    },
}

/// One channel's steps to pay a virtual account at its bank, in Bahasa
/// Indonesia (`id`) and English (`en`), from `kasir-shared`'s one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VaChannelSteps {
    /// `mobile`, `atm` or `internet`.
    pub channel: crate::payment::Channel,
    /// The steps in Bahasa Indonesia.
    pub id: Vec<String>,
    /// The steps in English.
    pub en: Vec<String>,
}

impl VaChannelSteps {
    /// Every channel's steps for `bank`, the app first.
    pub fn for_bank(bank: Bank) -> Vec<VaChannelSteps> {
        use crate::payment::Channel;
        let owned = |steps: &[&str]| steps.iter().map(|s| (*s).to_owned()).collect();
        [Channel::Mobile, Channel::Atm, Channel::Internet]
            .into_iter()
            .map(|channel| VaChannelSteps {
                channel,
                id: owned(bank.va_steps(channel, crate::Locale::Id)),
                en: owned(bank.va_steps(channel, crate::Locale::En)),
            })
            .collect()
    }
}

/// A card as the API shows it: never more than its brand and last four.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardSummary {
    /// `visa`, `mastercard`, …, when known.
    #[serde(default)]
    pub brand: Option<String>,
    /// The last four digits.
    pub last4: String,
}

/// Who settled a payment under review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResolvedBy {
    /// The merchant's id.
    pub merchant: String,
    /// The key used, shortened (`sk_test_…abcd`).
    pub key: String,
}

/// How the merchant settled a payment Kasir could not learn the outcome of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resolution {
    /// `succeeded` or `failed`.
    pub outcome: PaymentStatus,
    /// Who.
    pub by: ResolvedBy,
    /// Unix seconds.
    pub at: i64,
    /// Why, as the merchant wrote it.
    #[serde(default)]
    pub note: Option<String>,
}

/// `{"object":"payment_attempt", ...}`: one try at paying a session. No
/// card data beyond brand and last four. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentAttempt {
    /// `pa_…`.
    pub id: String,
    /// Always `payment_attempt`.
    pub object: String,
    /// Where the attempt stands.
    pub status: PaymentStatus,
    /// The method.
    pub method: PaymentMethodKind,
    /// The provider that handles it.
    pub provider: String,
    /// Whole rupiah.
    pub amount: Idr,
    /// What the shopper must do next, when `requires_action`.
    #[serde(default)]
    pub next_action: Option<NextAction>,
    /// Why it failed, when `failed`.
    #[serde(default)]
    pub failure_code: Option<String>,
    /// For cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardSummary>,
    /// Unix seconds.
    pub created_at: i64,
    /// `true` once Kasir could not learn the outcome from the provider and
    /// asked the merchant to check (`checkout_session.requires_review`).
    #[serde(default)]
    pub requires_review: bool,
    /// How the merchant settled it.
    #[serde(default)]
    pub resolution: Option<Resolution>,
}

/// The customer details given when the session was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerDetails {
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Mobile phone, E.164 (`+628…`).
    #[serde(default)]
    pub phone: Option<String>,
}

/// Money the provider reported after the session had closed (a QR paid
/// after cancel or expiry, a second payment), and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LatePayment {
    /// `lp_…`.
    pub id: String,
    /// Always `late_payment`.
    pub object: String,
    /// The attempt that was paid.
    pub attempt_id: String,
    /// The provider that took the money.
    pub provider: String,
    /// The provider's id for the payment.
    pub provider_reference: Option<String>,
    /// Whole rupiah.
    pub amount: Idr,
    /// `refunding`, `refunded`, `refund_failed`, `review` or `kept`.
    pub status: String,
    /// Why a refund failed.
    pub failure_code: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Its refund's outcome is not known and the merchant was asked to check
    /// it (`checkout_session.late_payment_refund_requires_review`).
    #[serde(default)]
    pub requires_review: bool,
    /// How the merchant settled it after review
    /// (`POST …/late_payments/{id}/resolve`).
    #[serde(default)]
    pub resolution: Option<Resolution>,
}

/// `{"object":"checkout_session", ...}` as the merchant API and webhooks
/// show it. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutSession {
    /// `cs_…`.
    pub id: String,
    /// Always `checkout_session`.
    pub object: String,
    /// Where the session stands.
    pub status: SessionStatus,
    /// `true` for a session of a live key (real money), `false` in test mode.
    pub livemode: bool,
    /// Whole rupiah.
    pub amount: Idr,
    /// `IDR`.
    pub currency: String,
    /// The merchant's order id.
    pub reference: String,
    /// Shown to the shopper.
    pub description: Option<String>,
    /// The methods the shopper may choose from.
    pub payment_methods: Vec<PaymentMethodKind>,
    /// Customer details given at creation.
    pub customer: CustomerDetails,
    /// Where the shopper goes back to.
    pub return_url: Option<String>,
    /// The page's language.
    pub locale: Locale,
    /// The merchant's own key-value pairs.
    pub metadata: BTreeMap<String, String>,
    /// The widget's credential for this session. Left out of event
    /// snapshots (webhooks, `/v1/events`): a credential must not travel to
    /// every webhook log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The hosted payment page (`/pay/{id}#{client_secret}` for the
    /// merchant; without the fragment in event snapshots).
    pub url: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Whole rupiah refunded so far.
    pub amount_refunded: Idr,
    /// The newest payment attempt, if any.
    pub latest_attempt: Option<PaymentAttempt>,
    /// Money that arrived after the session closed.
    #[serde(default)]
    pub late_payments: Vec<LatePayment>,
}

/// The merchant as the widget shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetMerchant {
    /// Shown at the top of the page.
    pub display_name: String,
    /// Colours, radius and font.
    pub theme: Theme,
}

/// `GET /v1/widget/sessions/{id}` and each event of its stream: what the
/// widget may see. No secrets, and of the customer only the last four
/// digits of the mobile number on the order (`phone_hint`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetSession {
    /// `cs_…`.
    pub id: String,
    /// Always `checkout_session`.
    pub object: String,
    /// The merchant.
    pub merchant: WidgetMerchant,
    /// Where the session stands.
    pub status: SessionStatus,
    /// Whole rupiah.
    pub amount: Idr,
    /// `IDR`.
    pub currency: String,
    /// What is being bought.
    pub description: Option<String>,
    /// The merchant's order id, shown so the shopper can recognise the order.
    pub reference: String,
    /// The methods the shopper may choose from.
    pub payment_methods: Vec<PaymentMethodKind>,
    /// The page's language.
    pub locale: Locale,
    /// Where the shopper goes back to.
    pub return_url: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// The newest attempt.
    pub latest_attempt: Option<PaymentAttempt>,
    /// Per method (`card`, …), the fields the routed provider needs that the
    /// session does not already have (`nik`, `email`, `phone`, `billing`).
    #[serde(default)]
    pub required_fields: BTreeMap<String, Vec<String>>,
    /// Installment plans (months) offered on cards; empty when none.
    #[serde(default)]
    pub installment_months: Vec<u8>,
    /// The last four digits of the mobile number on the order, when it has
    /// one: a wallet that needs a number (OVO) uses it unless the shopper
    /// types another. Never the whole number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_hint: Option<String>,
}

impl WidgetSession {
    /// Whether the routed provider for `method` needs `field`.
    pub fn needs(&self, method: PaymentMethodKind, field: &str) -> bool {
        self.required_fields.get(method.as_str()).is_some_and(|f| f.iter().any(|x| x == field))
    }
}

/// What the shopper can do now: the one decision every screen of the
/// widget follows, from the session's status first and its newest attempt
/// second. Pure, so it is tested here rather than only in a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Choose a method and pay, perhaps again after `after`.
    Pay {
        /// Why the shopper is back at the form, if they are.
        after: Option<PayAgain>,
    },
    /// An attempt waits for the shopper: 3DS, a QR, a VA, a wallet.
    Waiting(NextAction),
    /// Sent, outcome not known yet: never offer to pay again meanwhile,
    /// so no one is charged twice.
    Processing,
    /// Paid (perhaps partly refunded since).
    Paid,
    /// The session can no longer be paid.
    Closed(ClosedReason),
}

/// Why the shopper is asked to pay again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayAgain {
    /// The last attempt failed: its method, and the provider's code when
    /// known (`card_declined`, `insufficient_funds`, …), for the right words.
    Failed {
        /// The method that failed.
        method: PaymentMethodKind,
        /// Why, when the provider said.
        code: Option<String>,
    },
    /// The last QR, VA or wallet request expired while the session is open.
    Expired,
}

/// Why a session can no longer be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedReason {
    /// Not paid before the session's deadline.
    Expired,
    /// Cancelled by the merchant.
    Cancelled,
    /// Paid, then refunded in full.
    Refunded,
}

impl WidgetSession {
    /// The stage at `now` (Unix seconds), given the newest attempt the
    /// widget knows (its own answer may be newer than this view).
    pub fn stage(&self, attempt: Option<&PaymentAttempt>, now: i64) -> Stage {
        let attempt = attempt.or(self.latest_attempt.as_ref());
        match self.status {
            SessionStatus::Succeeded | SessionStatus::PartiallyRefunded => Stage::Paid,
            SessionStatus::Refunded => Stage::Closed(ClosedReason::Refunded),
            SessionStatus::Cancelled => Stage::Closed(ClosedReason::Cancelled),
            SessionStatus::Expired => Stage::Closed(ClosedReason::Expired),
            SessionStatus::Open | SessionStatus::Processing | SessionStatus::RequiresAction => {
                let past_deadline = self.expires_at <= now;
                match attempt.map(|a| (a.status, &a.next_action)) {
                    Some((PaymentStatus::Succeeded, _)) => Stage::Paid,
                    // Money may be moving: the server settles it, whatever the clock says.
                    Some((PaymentStatus::Processing | PaymentStatus::Unknown, _))
                    | Some((PaymentStatus::RequiresAction, None)) => Stage::Processing,
                    _ if past_deadline => Stage::Closed(ClosedReason::Expired),
                    Some((PaymentStatus::RequiresAction, Some(action))) => Stage::Waiting(action.clone()),
                    Some((PaymentStatus::Failed, _)) => Stage::Pay {
                        after: attempt
                            .map(|a| PayAgain::Failed { method: a.method, code: a.failure_code.clone() }),
                    },
                    Some((PaymentStatus::Expired, _)) => Stage::Pay { after: Some(PayAgain::Expired) },
                    Some((PaymentStatus::Cancelled, _)) | None => Stage::Pay { after: None },
                }
            }
        }
    }
}

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Sent, not finished (or no answer yet): the amount stays reserved.
    Pending,
    /// Refunded.
    Succeeded,
    /// Refused by the provider; the amount is free again.
    Failed,
}

impl RefundStatus {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        }
    }

    /// Parses the wire name.
    pub fn from_wire(s: &str) -> Option<RefundStatus> {
        [RefundStatus::Pending, RefundStatus::Succeeded, RefundStatus::Failed]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// `{"object":"refund", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refund {
    /// `re_…`.
    pub id: String,
    /// Always `refund`.
    pub object: String,
    /// The session refunded.
    pub session_id: String,
    /// Whole rupiah.
    pub amount: Idr,
    /// Where it stands.
    pub status: RefundStatus,
    /// Unix seconds.
    pub created_at: i64,
    /// A pending refund whose outcome Kasir cannot learn from the provider
    /// (no final answer within `review_after`, or an answer naming another
    /// amount than asked): the merchant is asked to check it with the
    /// provider (`checkout_session.refund_requires_review`). Its amount stays
    /// reserved, so it cannot be refunded a second time.
    #[serde(default)]
    pub requires_review: bool,
    /// How the merchant settled it after review (`POST …/refunds/{id}/resolve`):
    /// the outcome they confirmed at the provider, who, when and why.
    #[serde(default)]
    pub resolution: Option<Resolution>,
}

/// Where an event's webhook delivery stands (merchant API only, never in
/// the webhook itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// `pending`, `delivered`, `failed` or `disabled`.
    pub state: String,
    /// Tries so far.
    pub attempts: i64,
    /// Unix seconds of the next try, if one is planned.
    pub next_attempt_at: Option<i64>,
}

/// The event's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventData {
    /// The session as it was when the event happened (no `client_secret`).
    #[cfg_attr(feature = "openapi", schema(value_type = CheckoutSession))]
    pub object: serde_json::Value,
}

/// `{"object":"event", ...}`: what `GET /v1/events/{id}` shows and, without
/// `delivery`, exactly the body the merchant's webhook receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// `evt_…`.
    pub id: String,
    /// Always `event`.
    pub object: String,
    /// `checkout_session.succeeded`, … (the README's list).
    #[serde(rename = "type")]
    pub event_type: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Whether the session is live (real money) or test, as Stripe's `livemode`.
    pub livemode: bool,
    /// The session.
    pub data: EventData,
    /// The webhook's delivery (merchant API only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

/// `{"object":"list","data":[…],"has_more":…}`: one page, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct List<T> {
    /// Always `list`.
    pub object: String,
    /// This page.
    pub data: Vec<T>,
    /// Whether more follow.
    pub has_more: bool,
}

impl<T> List<T> {
    /// A page.
    pub fn new(data: Vec<T>, has_more: bool) -> List<T> {
        List { object: "list".to_owned(), data, has_more }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_card_request_round_trips_for_the_widget() {
        let request = AttemptRequest::Card {
            card: CardFields {
                number: SecretString::new("4111 1111 1111 1111".into()),
                expiry: SecretString::new("12/30".into()),
                cvv: SecretString::new("123".into()),
                holder_name: "Budi".into(),
            },
            nik: None,
            installment_months: Some(3),
            billing: None,
            email: None,
            phone: None,
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["method"], "card");
        assert_eq!(json["card"]["number"], "4111 1111 1111 1111");
        assert_eq!(json["installment_months"], 3);
        assert!(json.get("nik").is_none());
        let va = serde_json::to_value(AttemptRequest::VirtualAccount { bank: Bank::Bni }).unwrap();
        assert_eq!(va, serde_json::json!({"method": "virtual_account", "bank": "bni"}));
    }

    fn view(status: SessionStatus, attempt: Option<(PaymentStatus, Option<NextAction>)>) -> WidgetSession {
        WidgetSession {
            id: "cs_1".into(),
            object: "checkout_session".into(),
            merchant: WidgetMerchant { display_name: "Toko".into(), theme: Theme::default() },
            status,
            amount: Idr::new(150_000).unwrap(),
            currency: "IDR".into(),
            description: None,
            reference: "INV-1".into(),
            payment_methods: vec![PaymentMethodKind::Card, PaymentMethodKind::Qris],
            locale: Locale::Id,
            return_url: None,
            expires_at: 1_000,
            latest_attempt: attempt.map(|(status, next_action)| PaymentAttempt {
                id: "pa_1".into(),
                object: "payment_attempt".into(),
                status,
                method: PaymentMethodKind::Qris,
                provider: "sandbox".into(),
                amount: Idr::new(150_000).unwrap(),
                next_action,
                failure_code: Some("card_declined".into()).filter(|_| status == PaymentStatus::Failed),
                card: None,
                created_at: 1,
                requires_review: false,
                resolution: None,
            }),
            required_fields: BTreeMap::new(),
            installment_months: Vec::new(),
            phone_hint: None,
        }
    }

    #[test]
    fn a_closed_session_never_shows_the_pay_form() {
        use PaymentStatus as P;
        use SessionStatus as S;
        let qr = NextAction::ShowQr { qr_payload: Some("000201".into()), image_url: None, expires_at: 900 };
        let before = 500;
        // Whatever the attempt says, the session's own end wins.
        for attempt in [None, Some((P::RequiresAction, Some(qr.clone()))), Some((P::Failed, None))] {
            assert_eq!(
                view(S::Cancelled, attempt.clone()).stage(None, before),
                Stage::Closed(ClosedReason::Cancelled)
            );
            assert_eq!(
                view(S::Expired, attempt.clone()).stage(None, before),
                Stage::Closed(ClosedReason::Expired)
            );
            assert_eq!(view(S::Refunded, attempt).stage(None, before), Stage::Closed(ClosedReason::Refunded));
        }
        // Open with no attempt, but past its deadline (the expiry sweep has
        // not run yet): closed, not a form that will be refused.
        assert_eq!(view(S::Open, None).stage(None, 1_000), Stage::Closed(ClosedReason::Expired));
        assert_eq!(view(S::Open, None).stage(None, before), Stage::Pay { after: None });
        // A QR that expired while the session is open: pay again.
        assert_eq!(
            view(S::Open, Some((P::Expired, None))).stage(None, before),
            Stage::Pay { after: Some(PayAgain::Expired) }
        );
        assert_eq!(
            view(S::Open, Some((P::Failed, None))).stage(None, before),
            Stage::Pay {
                after: Some(PayAgain::Failed {
                    method: PaymentMethodKind::Qris,
                    code: Some("card_declined".into())
                })
            }
        );
        assert_eq!(
            view(S::RequiresAction, Some((P::RequiresAction, Some(qr.clone())))).stage(None, before),
            Stage::Waiting(qr)
        );
        // In flight: never a form, even past the deadline.
        assert_eq!(view(S::Processing, Some((P::Unknown, None))).stage(None, 2_000), Stage::Processing);
        assert_eq!(view(S::Succeeded, Some((P::Succeeded, None))).stage(None, 2_000), Stage::Paid);
        // The widget's own answer is newer than the view it holds.
        let fresh = view(S::Open, Some((P::Succeeded, None))).latest_attempt;
        assert_eq!(view(S::Open, Some((P::Failed, None))).stage(fresh.as_ref(), before), Stage::Paid);
    }

    #[test]
    fn statuses_the_widget_does_not_know_are_refused() {
        let attempt = |status: &str| {
            serde_json::json!({"id": "pa_1", "object": "payment_attempt", "status": status, "method": "qris",
                "provider": "sandbox", "amount": 150000, "created_at": 1})
        };
        let ok: PaymentAttempt = serde_json::from_value(attempt("requires_action")).unwrap();
        assert_eq!(ok.status, PaymentStatus::RequiresAction);
        assert_eq!(ok.amount, Idr::new(150_000).unwrap());
        assert!(serde_json::from_value::<PaymentAttempt>(attempt("paid")).is_err());
    }

    #[test]
    fn error_body_shape() {
        let body = ErrorResponse::from(ValidationError::new(ErrorCode::CardNumberLuhn).at("card.number"));
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["error"]["code"], "card_number.luhn");
        assert_eq!(json["error"]["field"], "card.number");
        assert_eq!(json["error"]["message_id"], "Nomor kartu tidak valid; periksa kembali.");
    }

    #[test]
    fn attempt_requests_parse_and_never_print_card_data() {
        let card: AttemptRequest = serde_json::from_str(
            r#"{"method":"card","card":{"number":"4111111111111111","expiry":"12/30","cvv":"123","holder_name":"Budi"}}"#,
        )
        .unwrap();
        let debug = format!("{card:?}");
        assert!(!debug.contains("4111") && !debug.contains("12/30") && !debug.contains("123"), "{debug}");
        let va: AttemptRequest =
            serde_json::from_str(r#"{"method":"virtual_account","bank":"bca"}"#).unwrap();
        assert!(matches!(va, AttemptRequest::VirtualAccount { bank: Bank::Bca }));
        let w: AttemptRequest =
            serde_json::from_str(r#"{"method":"ewallet","wallet":"ovo","phone":"0812"}"#).unwrap();
        assert!(matches!(w, AttemptRequest::Ewallet { wallet: Wallet::Ovo, .. }));
        assert!(matches!(serde_json::from_str(r#"{"method":"qris"}"#).unwrap(), AttemptRequest::Qris));
        assert!(serde_json::from_str::<AttemptRequest>(r#"{"method":"cash"}"#).is_err());
        assert!(
            serde_json::from_str::<AttemptRequest>(r#"{"method":"virtual_account","bank":"hsbc"}"#).is_err()
        );
    }
}
