//! Checkout sessions and payment attempts: parsing what the merchant and the
//! shopper ask for, running attempts through providers, and the objects we answer with.

pub mod attempt;
pub mod inbound;
mod object;
pub mod parse;
pub mod refund;
mod request;
pub mod settle;
pub mod void;

pub use object::{
    attempt_in, attempt_object, event_object, event_with_delivery, late_payment_object, refund_object,
    session_object, session_view, snapshot_fn,
};
pub use request::{CreateSessionRequest, CustomerInput, NewSession};
