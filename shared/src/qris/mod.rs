//! QRIS: Indonesia's national EMVCo merchant-presented QR payload. Parsing
//! checks the TLV structure, payload format `01`, the CRC, rupiah and the
//! fields a wallet app needs; the builder makes dynamic payloads with an amount.

mod builder;
mod payload;
mod tlv;

pub use builder::{MerchantCriteria, QrisMerchant};
pub use payload::QrisPayload;
pub use tlv::crc16_ccitt_false;

#[cfg(test)]
mod tests;
