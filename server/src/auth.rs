//! Merchant authentication: `Authorization: Bearer sk_…`, compared in
//! constant time against every configured key.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use kasir_shared::ErrorCode;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::config::MerchantConfig;
use crate::error::ApiError;

/// The merchant a request is authenticated as.
#[derive(Debug, Clone)]
pub struct Merchant(pub MerchantConfig);

impl FromRequestParts<AppState> for Merchant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::code(ErrorCode::AuthMissing))?;
        let presented = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(ApiError::code(ErrorCode::AuthMissing))?;
        // Comparing fixed-length digests keeps the time independent of the
        // key's length and content; every merchant is checked.
        let presented = Sha256::digest(presented.as_bytes());
        let mut found = None;
        for merchant in &state.config.merchants {
            let expected = Sha256::digest(merchant.secret_key.expose_secret().as_bytes());
            if bool::from(expected.ct_eq(&presented)) {
                found = Some(merchant.clone());
            }
        }
        found.map(Merchant).ok_or(ApiError::code(ErrorCode::AuthInvalid))
    }
}
