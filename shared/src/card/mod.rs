//! Card data: number, brand, expiry and security code. Each value can only be
//! built valid, zeroises its memory on drop, and never shows the full number,
//! the expiry or the code in `Debug` or `Display`.

mod brand;
mod cvv;
mod expiry;
mod input;
mod number;

pub use brand::CardBrand;
pub use cvv::Cvv;
pub use expiry::Expiry;
pub use input::{CardNumberInput, CardNumberState, format_card_number, format_expiry};
pub use number::{CardNumber, luhn_check_digit, luhn_valid};
