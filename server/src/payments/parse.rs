//! The shopper's choice, parsed with the same `kasir-shared` parsers the
//! widget runs, each rejection naming its field.

use kasir_shared::api::AttemptRequest;
use kasir_shared::card::{CardNumber, Cvv, Expiry};
use kasir_shared::customer::{BillingAddress, Email, FullName, Nik, PhoneNumber};
use kasir_shared::{ErrorCode, ValidationError};

use crate::error::ApiError;
use crate::providers::{CardDetails, Customer, MethodDetails};
use crate::store::now_ms;

/// Today's year and month in Jakarta (UTC+7), for card expiry checks.
fn jakarta_year_month() -> (u16, u8) {
    let (year, month, _) = crate::providers::clock::jakarta_date(now_ms() / 1000);
    (u16::try_from(year).unwrap_or(u16::MAX), u8::try_from(month).unwrap_or(1))
}

/// The shopper's choice, parsed, with the contact details they typed.
#[derive(Debug)]
pub struct ParsedAttempt {
    /// The method and its details.
    pub details: MethodDetails,
    /// Email and phone typed in the widget (override the session's).
    pub contact: Customer,
}

/// Parses the shopper's choice with the same `kasir-shared` parsers the
/// widget runs, each rejection naming its field. A wallet that needs a
/// mobile number (OVO) uses the one on the order (`phone_on_file`) when the
/// shopper typed none.
pub fn parse_request(
    request: AttemptRequest,
    allowed: &[String],
    phone_on_file: Option<&str>,
) -> Result<ParsedAttempt, ApiError> {
    let mut contact = Customer::default();
    let details = match request {
        AttemptRequest::Card { card, nik, installment_months, billing, email, phone } => {
            let number = CardNumber::parse(card.number.expose_secret()).map_err(|e| e.at("card.number"))?;
            let (year, month) = jakarta_year_month();
            let expiry = Expiry::parse_at(card.expiry.expose_secret(), year, month)
                .map_err(|e| e.at("card.expiry"))?;
            let cvv = Cvv::parse(card.cvv.expose_secret(), number.brand()).map_err(|e| e.at("card.cvv"))?;
            let holder_name = FullName::parse(&card.holder_name).map_err(|e| e.at("card.holder_name"))?;
            let nik = nik.as_deref().map(Nik::parse).transpose().map_err(|e| e.at("nik"))?;
            if installment_months.is_some_and(|m| ![3, 6, 12].contains(&m)) {
                return Err(ValidationError::new(ErrorCode::InstallmentUnsupported).into());
            }
            let billing = billing.as_deref().map(BillingAddress::parse).transpose()?;
            contact.email = email.as_deref().map(Email::parse).transpose().map_err(|e| e.at("email"))?;
            contact.phone =
                phone.as_deref().map(PhoneNumber::parse_mobile).transpose().map_err(|e| e.at("phone"))?;
            MethodDetails::Card(Box::new(CardDetails {
                number,
                expiry,
                cvv,
                holder_name,
                nik,
                installment_months,
                billing,
            }))
        }
        AttemptRequest::Qris => MethodDetails::Qris,
        AttemptRequest::VirtualAccount { bank } => MethodDetails::VirtualAccount(bank),
        AttemptRequest::ConvenienceStore { store } => MethodDetails::ConvenienceStore(store),
        AttemptRequest::Ewallet { wallet, phone } => {
            let phone = match phone.as_deref() {
                Some(p) => Some(PhoneNumber::parse_mobile(p).map_err(|e| e.at("phone"))?),
                None if wallet.needs_phone() => {
                    match phone_on_file.and_then(|p| PhoneNumber::parse_mobile(p).ok()) {
                        Some(p) => Some(p),
                        None => return Err(ValidationError::new(ErrorCode::PhoneEmpty).at("phone").into()),
                    }
                }
                None => None,
            };
            MethodDetails::Ewallet { wallet, phone }
        }
    };
    if !allowed.iter().any(|m| m == details.kind().as_str()) {
        return Err(ValidationError::new(ErrorCode::PaymentMethodNotAllowed).at("method").into());
    }
    Ok(ParsedAttempt { details, contact })
}
