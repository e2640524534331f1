//! Checkout sessions and payment attempts: parsing what the merchant and the
//! shopper ask for, running attempts through providers, and the objects we answer with.

pub mod attempt;
mod event;
mod object;
mod request;

pub use attempt::{AttemptObject, NextAction};
pub use event::EventObject;
pub use object::{SessionObject, snapshot_fn};
pub use request::{CreateSessionRequest, CustomerInput, NewSession};
