//! # kasir-shared
//!
//! Kasir's domain types and validation, compiled both into the server and
//! into the WASM checkout widget, so that what the shopper is told while
//! typing and what the server accepts can never disagree.
//!
//! Every type is built by parsing (`CardNumber::parse`, `Idr::parse`, ...)
//! and so can only exist valid. Every rejection is a [`ValidationError`] with
//! a stable machine code, the field, and a message in English and Bahasa
//! Indonesia. No I/O, no clock: functions that need today's date take it.

pub mod api;
pub mod card;
pub mod customer;
pub mod error;
pub mod money;
#[cfg(feature = "openapi")]
mod openapi;
pub mod payment;
pub mod qris;
pub mod secret;

pub use error::{ErrorCode, Locale, ValidationError};
