//! Test support shared by the black-box tests and `cargo xtask serve
//! --simulate`: provider simulators that behave like the real services.

pub mod sim;
