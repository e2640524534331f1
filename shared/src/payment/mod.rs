//! Payments: methods, the order reference, and the status state machine.

mod method;
mod reference;
mod status;

pub use method::{Bank, PaymentMethod, PaymentMethodKind, Store, Wallet};
pub use reference::OrderReference;
pub use status::{
    AttemptStatus, PaymentStatus, SessionStatus, StatusSource, Transition, TransitionError,
    TransitionRejection,
};
