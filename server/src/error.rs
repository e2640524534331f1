//! The server's one public error type. Every variant answers with
//! `{"error":{"code","message","message_id","field"}}`; 5xx never say more
//! than "internal" or "service.unavailable" (details go to the log).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kasir_shared::api::{ApiError as WireError, ErrorResponse};
use kasir_shared::{ErrorCode, ValidationError};

use crate::store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request itself is unusable (bad JSON, bad query, bad header): 400.
    #[error("bad request: {0}")]
    BadRequest(ValidationError),
    /// Well-formed, but a value is not acceptable: 422.
    #[error("unprocessable: {0}")]
    Unprocessable(ValidationError),
    /// No or wrong credentials: 401.
    #[error("unauthorized: {0:?}")]
    Unauthorized(ErrorCode),
    /// No such object for this caller: 404.
    #[error("not found")]
    NotFound,
    /// The request conflicts with the object's state: 409.
    #[error("conflict: {0:?}")]
    Conflict(ErrorCode),
    /// Any other status with its code (403, 429, 502…).
    #[error("{0}: {1:?}")]
    Coded(StatusCode, ErrorCode),
    /// Idempotency key reused with another request: 409.
    #[error("idempotency key reused")]
    IdempotencyConflict,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    fn status_and_error(&self) -> (StatusCode, ValidationError) {
        match self {
            ApiError::BadRequest(e) => (StatusCode::BAD_REQUEST, e.clone()),
            ApiError::Unprocessable(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.clone()),
            ApiError::Unauthorized(code) => (StatusCode::UNAUTHORIZED, ValidationError::new(*code)),
            ApiError::NotFound => (StatusCode::NOT_FOUND, ValidationError::new(ErrorCode::ResourceNotFound)),
            ApiError::Conflict(code) => (StatusCode::CONFLICT, ValidationError::new(*code)),
            ApiError::Coded(status, code) => (*status, ValidationError::new(*code)),
            ApiError::Store(StoreError::Conflict) => {
                (StatusCode::CONFLICT, ValidationError::new(ErrorCode::SessionConflict))
            }
            ApiError::IdempotencyConflict => {
                (StatusCode::CONFLICT, ValidationError::new(ErrorCode::IdempotencyKeyReused))
            }
            ApiError::Store(StoreError::Database(e)) if database_unavailable(e) => {
                (StatusCode::SERVICE_UNAVAILABLE, ValidationError::new(ErrorCode::ServiceUnavailable))
            }
            ApiError::Store(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, ValidationError::new(ErrorCode::Internal))
            }
        }
    }
}

/// Whether a database error means "not reachable right now" (a restart, a
/// partition, a full pool, a lock held too long) rather than a bug: the
/// client gets `503 service.unavailable` and may retry.
fn database_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        // A connection cut mid-conversation reads as a protocol error.
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // PostgreSQL (five-character SQLSTATEs): connection exceptions
            // (08…), shutting down or starting up (57P01-57P03), too many
            // connections (53300).
            // SQLite (numbers; the low byte is the primary code of an
            // extended one): busy (5), locked (6), read-only (8), I/O error
            // (10), disk full (13), cannot open (14).
            let sqlite = (code.len() < 5).then(|| code.parse::<i32>().ok()).flatten();
            code.starts_with("08")
                || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
                || sqlite.is_some_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
        }),
        _ => false,
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::Unprocessable(e)
    }
}

/// The JSON error body for a validation error, with an empty field left out.
pub fn error_body(e: &ValidationError) -> ErrorResponse {
    let mut wire = WireError::from(e);
    wire.field = wire.field.filter(|f| !f.is_empty());
    ErrorResponse { error: wire }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error) = self.status_and_error();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        (status, Json(error_body(&error))).into_response()
    }
}
