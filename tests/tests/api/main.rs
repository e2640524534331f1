#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may panic: that is how they fail.

//! Black-box tests of the real server over HTTP: one binary, `spawn_app()`
//! starts the server on port 0.

mod attack;
mod browser;
mod card_data;
mod crash;
mod differential;
mod fuzz_api;
mod generated_client;
mod health;
mod helpers;
mod midtrans;
mod money_safety;
mod outage;
mod pages;
mod payments;
mod sessions;
mod singapay;
mod smartglocal;
mod smilepayz;
mod two_instances;
mod webhooks_out;
