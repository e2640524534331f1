//! HTTP routes. Each resource module exposes `router()`.

pub(crate) mod embed;
pub(crate) mod events;
pub(crate) mod health;
pub mod pages;
pub(crate) mod resolve;
pub(crate) mod sandbox;
pub(crate) mod sessions;
pub(crate) mod webhooks;
pub(crate) mod widget;

use axum::Router;
use axum::extract::DefaultBodyLimit;

use crate::AppState;

/// Request bodies above this are refused with `413` before any handler runs.
const MAX_BODY: usize = 256 * 1024;

/// Every route of the server.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(sessions::router())
        .merge(resolve::router())
        .merge(events::router())
        .merge(widget::router(state))
        .merge(sandbox::router())
        .merge(pages::router())
        .merge(embed::router())
        .merge(crate::openapi::router())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .merge(webhooks::router())
}
