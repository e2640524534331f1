//! Extractors that answer in Kasir's error shape.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use kasir_shared::{ErrorCode, ValidationError};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `Json<T>` whose rejections are `request.malformed` (400). The serde
/// message is never echoed or logged: it can quote the input, card data included.
#[derive(Debug)]
pub struct AppJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(AppJson(v)),
            Err(rejection) => {
                let kind = match &rejection {
                    JsonRejection::JsonDataError(_) => "data",
                    JsonRejection::JsonSyntaxError(_) => "syntax",
                    JsonRejection::MissingJsonContentType(_) => "content_type",
                    _ => "other",
                };
                tracing::debug!(kind, "rejected JSON body");
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    // Over the body limit: 413, as the README promises (issue 15).
                    return Err(ApiError::code(ErrorCode::BodyTooLarge));
                }
                Err(ApiError::Rejected(ValidationError::new(ErrorCode::RequestMalformed)))
            }
        }
    }
}

/// `Query<T>` whose rejections are `request.malformed` (400).
#[derive(Debug)]
pub struct AppQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state).await.map(|q| AppQuery(q.0)).map_err(
            |_: QueryRejection| {
                ApiError::Rejected(ValidationError::new(ErrorCode::RequestMalformed).at("query"))
            },
        )
    }
}
