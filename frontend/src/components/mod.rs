//! The widget's components, one per file.

mod card_form;
mod field;
mod language_switch;
mod methods;
mod order;
mod payment_code;
mod qris;
mod virtual_account;

pub use card_form::CardForm;
pub use field::Field;
pub use language_switch::LanguageSwitch;
pub use methods::{ConvenienceStorePay, EwalletPay, QrisPay, VirtualAccountPay};
pub use order::OrderSummary;
pub use payment_code::PaymentCodeView;
pub use qris::{QrisView, now_secs, on_phone, qr_svg};
pub use virtual_account::VirtualAccountView;
