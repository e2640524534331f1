//! Merchant API: the event log.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use kasir_shared::{ErrorCode, ValidationError};

use super::sessions::ListQuery;
use crate::AppState;
use crate::auth::Merchant;
use crate::error::ApiError;
use crate::extract::AppQuery;
use crate::payments::EventObject;

/// `/v1/events` and `/v1/events/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", get(list))
        .route("/v1/events/{id}", get(retrieve))
        .route("/v1/events/{id}/redeliver", post(redeliver))
}

async fn retrieve(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<EventObject>, ApiError> {
    let row = state.store.event(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(EventObject::from_row(&row)?.with_delivery(&row)))
}

/// Queues the event for delivery to the merchant's webhook URL again, now.
async fn redeliver(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<EventObject>, ApiError> {
    let row = state.store.redeliver(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    state.wake_delivery();
    Ok(Json(EventObject::from_row(&row)?.with_delivery(&row)))
}

async fn list(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = query.limit()?;
    let (rows, has_more) =
        state.store.events(&merchant.id, limit, query.starting_after.as_deref()).await?.ok_or_else(|| {
            ApiError::BadRequest(ValidationError::new(ErrorCode::ResourceNotFound).at("starting_after"))
        })?;
    let data = rows
        .iter()
        .map(|row| Ok(EventObject::from_row(row)?.with_delivery(row)))
        .collect::<Result<Vec<_>, crate::store::StoreError>>()?;
    Ok(Json(serde_json::json!({ "object": "list", "data": data, "has_more": has_more })))
}
