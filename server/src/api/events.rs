//! Merchant API: the event log.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use kasir_shared::{ErrorCode, ValidationError};
use serde::Serialize;

use super::sessions::ListQuery;
use crate::AppState;
use crate::auth::Merchant;
use crate::error::ApiError;
use crate::extract::AppQuery;
use crate::store::{EventRow, StoreError};

/// `/v1/events` and `/v1/events/{id}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/events", get(list)).route("/v1/events/{id}", get(retrieve))
}

/// `{"id":"evt_…","object":"event","type":…,"created_at":…,"data":{"object":{…}}}`,
/// the same shape the merchant's webhook receives.
#[derive(Debug, Serialize)]
pub struct EventObject {
    id: String,
    object: &'static str,
    #[serde(rename = "type")]
    event_type: String,
    created_at: i64,
    data: EventData,
}

#[derive(Debug, Serialize)]
struct EventData {
    object: serde_json::Value,
}

impl EventObject {
    fn from_row(row: EventRow) -> Result<EventObject, StoreError> {
        Ok(EventObject {
            data: EventData { object: serde_json::from_str(&row.payload)? },
            id: row.id,
            object: "event",
            event_type: row.event_type,
            created_at: row.created_at / 1000,
        })
    }
}

async fn retrieve(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<EventObject>, ApiError> {
    let row = state.store.event(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(EventObject::from_row(row)?))
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
    let data = rows.into_iter().map(EventObject::from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(serde_json::json!({ "object": "list", "data": data, "has_more": has_more })))
}
