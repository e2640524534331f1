//! Checkout sessions: parsing what the merchant asks for, and the object we answer with.

mod object;
mod request;

pub use object::SessionObject;
pub use request::{CreateSessionRequest, CustomerInput, NewSession};
