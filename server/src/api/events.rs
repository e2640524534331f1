//! Merchant API: the event log.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::sessions::ListQuery;
use crate::AppState;
use crate::auth::Merchant;
use crate::error::ApiError;
use crate::extract::AppQuery;
use kasir_shared::api::{Event, List};

/// `/v1/events` and `/v1/events/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", get(list))
        .route("/v1/events/{id}", get(retrieve))
        .route("/v1/events/{id}/redeliver", post(redeliver))
}

#[utoipa::path(get, path = "/v1/events/{id}", tag = "events", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`evt_…`")),
    responses((status = 200, body = kasir_shared::api::Event), (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse), (status = 404, description = "No such object for this merchant (`resource.not_found`)", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<Event>, ApiError> {
    let row = state.store.event(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(crate::payments::event_with_delivery(&row)?))
}

/// Queues the event for delivery to the merchant's webhook URL again, now.
#[utoipa::path(post, path = "/v1/events/{id}/redeliver", tag = "events", security(("merchant_key" = [])),
    params(("id" = String, Path, description = "`evt_…`")),
    responses((status = 200, description = "Queued for delivery now", body = kasir_shared::api::Event), (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse), (status = 404, description = "No such object for this merchant (`resource.not_found`)", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    Path(id): Path<String>,
) -> Result<Json<Event>, ApiError> {
    let row = state.store.redeliver(&merchant.id, &id).await?.ok_or(ApiError::NotFound)?;
    state.wake_delivery();
    Ok(Json(crate::payments::event_with_delivery(&row)?))
}

#[utoipa::path(get, path = "/v1/events", tag = "events", security(("merchant_key" = [])),
    params(("limit" = Option<u32>, Query, description = "1-100, default 10", minimum = 1, maximum = 100), ("starting_after" = Option<String>, Query, description = "An event id")),
    responses((status = 200, body = kasir_shared::api::List<kasir_shared::api::Event>),
        (status = 400, description = "`pagination.limit`", body = kasir_shared::api::ErrorResponse),
        (status = 404, description = "`resource.not_found`: no such `starting_after` event", body = kasir_shared::api::ErrorResponse), (status = 401, description = "No or wrong secret key (`auth.missing`, `auth.invalid`)", body = kasir_shared::api::ErrorResponse)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Merchant(merchant): Merchant,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<List<Event>>, ApiError> {
    let limit = query.limit()?;
    let (rows, has_more) =
        state.store.events(&merchant.id, limit, query.after()).await?.ok_or_else(|| ApiError::NotFound)?;
    let data = rows
        .iter()
        .map(crate::payments::event_with_delivery)
        .collect::<Result<Vec<_>, crate::store::StoreError>>()?;
    Ok(Json(List::new(data, has_more)))
}
