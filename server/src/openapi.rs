//! The OpenAPI 3 document served at `/openapi.json`, generated from the
//! handlers' `#[utoipa::path]` annotations and the wire types' schemas.
//! Types that live in `kasir-shared` (which stays free of server-only
//! dependencies) are described here by documentation twins.

use axum::Json;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::AppState;

/// `{"error": {...}}`: every error Kasir answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// One error.
#[derive(Debug, Serialize, ToSchema)]
struct ErrorDetail {
    /// Stable machine code (see the README's table), e.g. `card_number.luhn`.
    code: String,
    /// English.
    message: String,
    /// Bahasa Indonesia.
    message_id: String,
    /// The request field concerned, e.g. `card.number`.
    field: Option<String>,
}

/// Card fields as the shopper typed them. Never stored or logged.
#[allow(dead_code)] // Described in the document, never read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CardFieldsDoc {
    /// The PAN, spaces allowed.
    #[schema(example = "4242 4242 4242 4242")]
    number: String,
    /// `MM/YY`.
    #[schema(example = "12/30")]
    expiry: String,
    /// 3 digits (4 for Amex).
    cvv: String,
    /// As on the card.
    holder_name: String,
}

/// A card's billing address.
#[allow(dead_code)] // Described in the document, never read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BillingDoc {
    /// Street address (≤ 200).
    address: String,
    /// City (≤ 100).
    city: String,
    /// Province (≤ 100).
    state: String,
    /// Five-digit postal code.
    postal_code: String,
    /// ISO 3166-1 alpha-2; `ID` when absent.
    country: Option<String>,
}

/// What the shopper chose, tagged by `method`.
#[allow(dead_code)] // Described in the document, never read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum AttemptRequestDoc {
    /// Card.
    Card {
        /// The card.
        card: CardFieldsDoc,
        /// NIK, where the provider requires it.
        nik: Option<String>,
        /// 3, 6 or 12 where offered.
        installment_months: Option<u8>,
        /// Billing address, where the provider requires it (SingaPay).
        billing: Option<Box<BillingDoc>>,
        /// The shopper's email, when the session has none and the provider needs one.
        email: Option<String>,
        /// The shopper's mobile phone, when the session has none and the provider needs one.
        phone: Option<String>,
    },
    /// QRIS.
    Qris,
    /// Bank transfer to a virtual account.
    VirtualAccount {
        /// The bank.
        bank: BankDoc,
    },
    /// E-wallet.
    Ewallet {
        /// The wallet.
        wallet: WalletDoc,
        /// Required for OVO.
        phone: Option<String>,
    },
}

/// A bank that issues virtual accounts (`kasir_shared::payment::Bank`).
#[allow(dead_code)] // Described in the document, never read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BankDoc {
    /// Bank Central Asia.
    Bca,
    /// Bank Negara Indonesia.
    Bni,
    /// Bank Rakyat Indonesia.
    Bri,
    /// Bank Mandiri.
    Mandiri,
    /// Bank Permata.
    Permata,
    /// CIMB Niaga.
    Cimb,
    /// Bank Danamon.
    Danamon,
    /// Bank BJB.
    Bjb,
    /// Maybank Indonesia.
    Maybank,
}

/// An e-wallet (`kasir_shared::payment::Wallet`).
#[allow(dead_code)] // Described in the document, never read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WalletDoc {
    /// DANA.
    Dana,
    /// OVO (needs `phone`).
    Ovo,
    /// GoPay.
    Gopay,
    /// ShopeePay.
    Shopeepay,
    /// LinkAja.
    Linkaja,
}

/// `POST /v1/checkout_sessions/{id}/refunds`.
#[allow(dead_code)] // Described in the document, never read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequestDoc {
    /// Whole rupiah; the rest of the payment when absent.
    amount: Option<i64>,
}

/// A refund.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundObject {
    /// `re_…`.
    id: String,
    /// `refund`.
    object: String,
    /// The session.
    session_id: String,
    /// Whole rupiah.
    amount: i64,
    /// `succeeded`.
    status: String,
    /// Unix seconds.
    created_at: i64,
}

/// The sandbox page's form.
#[allow(dead_code)] // Described in the document, never read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionDoc {
    /// The shopper's choice.
    decision: DecisionValue,
    /// The page's form token (a post without it is refused).
    token: String,
}

/// `approve` or `decline`.
#[allow(dead_code)] // Described in the document, never read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DecisionValue {
    /// Pay.
    Approve,
    /// Refuse.
    Decline,
}

/// A page of sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// `list`.
    object: String,
    /// Newest first.
    data: Vec<crate::payments::SessionObject>,
    /// Whether more follow.
    has_more: bool,
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    /// `list`.
    object: String,
    /// Newest first.
    data: Vec<crate::payments::EventObject>,
    /// Whether more follow.
    has_more: bool,
}

#[derive(Debug)]
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |what: &str| {
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(what)).build(),
            )
        };
        components.add_security_scheme(
            "merchant_key",
            bearer("The merchant's secret key, `sk_test_…` or `sk_live_…`"),
        );
        components
            .add_security_scheme("client_secret", bearer("The session's `client_secret` (widget API only)"));
    }
}

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Kasir", description = "Self-hosted checkout for Indonesia: merchant API, widget API, provider webhooks."),
    modifiers(&Security),
    paths(
        crate::api::sessions::create, crate::api::sessions::list, crate::api::sessions::retrieve,
        crate::api::sessions::cancel, crate::api::sessions::refund, crate::api::sessions::resolve,
        crate::api::events::list, crate::api::events::retrieve, crate::api::events::redeliver,
        crate::api::widget::retrieve, crate::api::widget::create_attempt, crate::api::widget::events,
        crate::api::widget::three_ds, crate::api::webhooks::receive,
        crate::api::sandbox::page, crate::api::sandbox::decide, crate::api::sandbox::pay,
        crate::api::health::healthz, crate::api::health::readyz, crate::api::health::metrics,
    ),
    components(schemas(ErrorBody, AttemptRequestDoc, crate::payments::NextAction))
)]
pub struct ApiDoc;

/// `GET /openapi.json`.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}

#[cfg(test)]
mod doc_twins {
    use kasir_shared::payment::{Bank, Wallet};

    /// The documented enums list exactly the wire values the parsers take.
    #[test]
    fn bank_and_wallet_twins_match_the_shared_enums() {
        let names = |schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| -> Vec<String> {
            let json = serde_json::to_value(schema).unwrap_or_default();
            json["enum"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let banks: Vec<String> = Bank::ALL.iter().map(|b| b.as_str().to_owned()).collect();
        let wallets: Vec<String> = Wallet::ALL.iter().map(|w| w.as_str().to_owned()).collect();
        assert_eq!(names(<super::BankDoc as utoipa::PartialSchema>::schema()), banks);
        assert_eq!(names(<super::WalletDoc as utoipa::PartialSchema>::schema()), wallets);
    }
}
