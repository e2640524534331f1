//! Liveness and readiness.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;

/// `/healthz`: the process answers. `/readyz`: it can serve traffic (grows
/// a database check with the store).
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn readyz() -> Json<Value> {
    Json(json!({ "status": "ready" }))
}
