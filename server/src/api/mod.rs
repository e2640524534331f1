//! HTTP routes. Each resource module exposes `router()`.

mod events;
mod health;
mod sessions;

use axum::Router;

use crate::AppState;

/// Every route of the server.
pub fn router() -> Router<AppState> {
    Router::new().merge(health::router()).merge(sessions::router()).merge(events::router())
}
