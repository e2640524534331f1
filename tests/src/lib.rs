// Test support: a simulator that cannot bind, sign or lock fails the test
// that uses it, which is how tests fail.
#![allow(clippy::expect_used, clippy::unwrap_used)]
// Handlers return early with a ready response; its size does not matter here.
#![allow(clippy::result_large_err)]

//! Test support shared by the black-box tests and `cargo xtask serve
//! --simulate`: provider simulators that behave like the real services.

pub mod load;
pub mod sim;
pub mod webdriver;
