//! Payments: methods, the order reference, and the status state machine.

mod method;
mod reference;
mod status;
mod va_steps;

pub use method::{Bank, PaymentMethod, PaymentMethodKind, Store, Wallet};
pub use reference::OrderReference;
pub use status::{
    AttemptStatus, PaymentStatus, SessionStatus, StatusSource, Transition, TransitionError,
    TransitionRejection,
};
pub use va_steps::Channel;
