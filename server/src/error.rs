//! The server's one public error type. Every variant answers with
//! `{"error":{"code","message","message_id","field"}}`; 5xx never say more
//! than "internal" or "service.unavailable" (details go to the log).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kasir_shared::api::{ApiError as WireError, ErrorResponse};
use kasir_shared::{ErrorCode, ValidationError};

use crate::store::StoreError;

/// Why a request failed. The HTTP status comes from the error code's one
/// entry in `kasir-shared`'s table (`ErrorCode::http_status`), never from
/// the call site, so a code means the same status everywhere.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A rejection with its code and field.
    #[error("{0}")]
    Rejected(ValidationError),
    /// No such object for this caller (`resource.not_found`).
    #[error("not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    /// A rejection with the code's default field.
    pub const fn code(code: ErrorCode) -> ApiError {
        ApiError::Rejected(ValidationError::new(code))
    }

    /// The error as its wire code.
    fn error(&self) -> ValidationError {
        match self {
            ApiError::Rejected(e) => e.clone(),
            ApiError::NotFound => ValidationError::new(ErrorCode::ResourceNotFound),
            ApiError::Store(StoreError::Conflict) => ValidationError::new(ErrorCode::SessionConflict),
            ApiError::Store(StoreError::Database(e)) if database_unavailable(e) => {
                ValidationError::new(ErrorCode::ServiceUnavailable)
            }
            ApiError::Store(_) => ValidationError::new(ErrorCode::Internal),
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
        ApiError::Rejected(e)
    }
}

/// The JSON error body for a validation error, with an empty field left out.
pub fn error_body(e: &ValidationError) -> ErrorResponse {
    ErrorResponse { error: WireError::from(e) }
}

/// The status for a code, from its one entry in the table.
pub fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.error();
        let status = status_of(error.kind());
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        (status, Json(error_body(&error))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use kasir_shared::ErrorCode;

    /// A mistake in a query run in place (a missing parameter) is a bug:
    /// never the 503 that tells clients to retry; a busy database is.
    #[test]
    fn a_bug_in_a_query_is_not_an_outage() {
        let bug = crate::store::inplace::error(rusqlite::Error::InvalidParameterCount(1, 2));
        assert!(!super::database_unavailable(&bug), "{bug:?}");
        let busy = crate::store::inplace::error(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        ));
        assert!(super::database_unavailable(&busy), "{busy:?}");
    }

    /// The README's list of statuses is the code table's: every code it
    /// names sits under the one status `ErrorCode::http_status` gives it.
    #[test]
    fn the_readme_lists_each_code_under_its_one_status() {
        let readme = include_str!("../../README.md");
        let start = readme.find("**Errors.**").unwrap_or_default();
        let end = readme[start..].find("\n\n").map_or(readme.len(), |e| start + e);
        let mut status = 0u16;
        let mut seen = 0;
        for (i, token) in readme[start..end].split('`').enumerate() {
            if i % 2 == 0 {
                continue;
            }
            if let Ok(number) = token.parse::<u16>() {
                status = number;
            } else if let Some(code) = ErrorCode::from_code(token) {
                assert_eq!(code.http_status(), status, "{token} is listed under {status}");
                seen += 1;
            }
        }
        assert!(seen > 40, "only {seen} codes found in the README's list");
        for code in
            [ErrorCode::ProviderUnavailable, ErrorCode::WebhookUnknownPayment, ErrorCode::BodyTooLarge]
        {
            assert!(readme[start..end].contains(code.as_str()), "{} is not in the README", code.as_str());
        }
    }
}
