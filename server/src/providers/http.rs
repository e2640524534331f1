//! Sending a provider request and reading its answer, with one mapping of
//! transport failures to `ProviderError`: no answer in time is `Timeout`,
//! a refused connection, a 5xx or an unreadable body is `Unavailable`; both
//! leave the attempt `unknown`. Neither the request body nor its URL (either
//! may hold card data) appears in an error.

use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::ProviderError;

/// The HTTP client every adapter uses: no redirects (a provider API never
/// needs one, and following one could send card data elsewhere).
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("http client: {e}"))
}

/// An answer with a status below 500.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: axum::body::Bytes,
}

impl Answer {
    /// The body as `T`; anything else is `Unavailable` (the outcome is unknown).
    pub fn json<T: DeserializeOwned>(&self, provider: &str) -> Result<T, ProviderError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            tracing::warn!(provider, status = %self.status, error = %e, "unreadable provider answer");
            ProviderError::Unavailable(format!("{provider}: unreadable answer (HTTP {})", self.status))
        })
    }
}

/// Sends `request`; 5xx and transport failures become `ProviderError`.
pub async fn send(provider: &str, request: reqwest::RequestBuilder) -> Result<Answer, ProviderError> {
    // Without the URL: a card token request carries the card in its query
    // string (Midtrans), and errors reach the logs.
    let response = request.send().await.map_err(|e| transport(provider, &e.without_url()))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| transport(provider, &e.without_url()))?;
    if status.is_server_error() {
        tracing::warn!(provider, %status, "provider answered with a server error");
        return Err(ProviderError::Unavailable(format!("{provider}: HTTP {status}")));
    }
    Ok(Answer { status, body })
}

fn transport(provider: &str, e: &reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        ProviderError::Timeout
    } else if e.is_connect() {
        ProviderError::Unavailable(format!("{provider}: cannot connect"))
    } else {
        // The URL was taken out by the caller; reqwest never names the body.
        ProviderError::Unavailable(format!("{provider}: {e}"))
    }
}
