//! Provider simulators: one real HTTP server per provider on 127.0.0.1,
//! implementing the documented endpoints and *rejecting* what the provider
//! would reject (bad signature, stale timestamp, wrong field format), with
//! scripted scenarios (decline, 3DS, no answer, 5xx, malformed body) and
//! signed callbacks back to Kasir. Their crypto is written here with the
//! RustCrypto crates directly, not borrowed from Kasir's adapters.

pub mod common;
pub mod midtrans;
pub mod singapay;
pub mod smartglocal;
pub mod smilepayz;

pub use common::Scenario;
