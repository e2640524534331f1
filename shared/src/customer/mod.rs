//! Shopper details: email, phone, NIK, full name, postal code. Personal data,
//! so `Debug` masks it; the full value is available through `as_str()`.

mod address;
mod email;
mod name;
mod nik;
mod phone;
mod postal;

pub use address::{BillingAddress, BillingFields, BillingPart};
pub use email::Email;
pub use name::FullName;
pub use nik::{Nik, Province, Sex};
pub use phone::PhoneNumber;
pub use postal::PostalCode;

/// Keeps the first `keep` characters and masks the rest, for `Debug`.
pub(crate) fn mask_tail(s: &str, keep: usize) -> String {
    s.chars().enumerate().map(|(i, c)| if i < keep { c } else { '*' }).collect()
}
