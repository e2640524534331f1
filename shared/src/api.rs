//! Wire types of Kasir's own API that the widget and the server share.

use serde::{Deserialize, Serialize};

use crate::customer::BillingFields;
use crate::error::ValidationError;
use crate::payment::{Bank, Wallet};
use crate::secret::SecretString;

/// The body of every error response: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    pub error: ApiError,
}

/// One error: a stable machine code, messages in English and Bahasa
/// Indonesia, and the field concerned when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable machine code, e.g. `card_number.luhn`.
    pub code: String,
    /// English message.
    pub message: String,
    /// Bahasa Indonesia message.
    pub message_id: String,
    /// The request field concerned, e.g. `card.number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<&ValidationError> for ApiError {
    fn from(e: &ValidationError) -> Self {
        ApiError {
            code: e.code().to_owned(),
            message: e.message_en().to_owned(),
            message_id: e.message_id().to_owned(),
            field: Some(e.field().to_owned()),
        }
    }
}

impl From<ValidationError> for ErrorResponse {
    fn from(e: ValidationError) -> Self {
        ErrorResponse { error: ApiError::from(&e) }
    }
}

/// Raw card fields as the widget sends them; parsed by the server with the
/// same `kasir-shared` parsers the widget ran. Never serialised.
#[derive(Debug, Clone, Deserialize)]
pub struct CardFields {
    /// The card number as typed.
    pub number: SecretString,
    /// The expiry as typed (`MM/YY`).
    pub expiry: SecretString,
    /// The security code.
    pub cvv: SecretString,
    /// The cardholder's name.
    pub holder_name: String,
}

/// `POST /v1/widget/sessions/{id}/attempts`: what the shopper chose.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum AttemptRequest {
    /// Pay by card.
    Card {
        /// The card.
        card: CardFields,
        /// NIK, for providers that require it (Smart Glocal).
        #[serde(default)]
        nik: Option<String>,
        /// Installment months (3, 6, 12) where offered.
        #[serde(default)]
        installment_months: Option<u8>,
        /// The billing address, for providers that require it (SingaPay).
        #[serde(default)]
        billing: Option<Box<BillingFields>>,
        /// The shopper's email, when the session has none and the provider needs one.
        #[serde(default)]
        email: Option<String>,
        /// The shopper's phone, when the session has none and the provider needs one.
        #[serde(default)]
        phone: Option<String>,
    },
    /// Pay with QRIS.
    Qris,
    /// Pay by transfer to a virtual account.
    VirtualAccount {
        /// The bank.
        bank: Bank,
    },
    /// Pay with an e-wallet.
    Ewallet {
        /// The wallet.
        wallet: Wallet,
        /// The shopper's phone (required for OVO).
        #[serde(default)]
        phone: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

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
