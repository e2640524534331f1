//! Per-request plumbing: a request id (kept from `X-Request-Id` when it is
//! sane, else new) on a tracing span and on the response, the request
//! counter by route and status, and a time limit for everything except the
//! SSE stream.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kasir_shared::ErrorCode;
use tracing::Instrument;

use crate::AppState;
use crate::error::ApiError;
use crate::ids::random_token;

/// The client's address: the TCP peer, unless the peer is a trusted reverse
/// proxy; then the nearest `X-Forwarded-For` address (read from the right)
/// that is not itself a trusted proxy. Addresses left of it could have been
/// written by the client, so they are never believed.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    let addresses: Vec<&str> = hops.flat_map(|v| v.split(',')).map(str::trim).collect();
    for text in addresses.into_iter().rev() {
        let Ok(ip) = text.parse::<IpAddr>() else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The request-id header.
pub const REQUEST_ID: &str = "x-request-id";

fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(|| format!("req_{}", random_token(20)), str::to_owned)
}

/// Headers every response carries unless its handler chose its own: no
/// MIME sniffing, no referrer (URLs hold session ids), nothing cached unless
/// the handler says so (API answers hold client secrets), and HSTS when
/// Kasir is reached over TLS.
fn harden(headers: &mut axum::http::HeaderMap, hsts: bool) {
    use axum::http::header;
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    if hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
}

/// The middleware.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let id = request_id(&request);
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    // Behind a trusted proxy, the per-address connection cap cannot see the
    // clients: cap each client's requests in flight instead.
    let peer =
        request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let trusted = &state.config.trusted_proxies;
    let mut slot = None;
    if let Some(peer) = peer
        && trusted.iter().any(|net| net.contains(&peer))
    {
        let client = client_ip(peer, request.headers(), trusted);
        match state.proxied_requests.enter(client, state.config.limits.max_connections_per_ip) {
            Some(held) => slot = Some(held),
            None => {
                state.metrics.rate_limited("requests_per_client");
                let mut response = ApiError::code(ErrorCode::RateLimited).into_response();
                harden(response.headers_mut(), state.config.public_url.starts_with("https://"));
                state.metrics.request(&route, response.status().as_u16());
                return response;
            }
        }
    }
    let streaming = route.ends_with("/events") && route.starts_with("/v1/widget/");
    let span = tracing::info_span!("request", request_id = %id, method = %request.method(), route = %route);
    // Long enough for a provider call that times out, and its settling.
    let limit = state.config.timings.provider_timeout + Duration::from_secs(15);
    // Served over TLS (a terminating proxy in front): browsers must keep to it.
    let hsts = state.config.public_url.starts_with("https://");
    let response = async move {
        let mut response = if streaming {
            next.run(request).await
        } else {
            match tokio::time::timeout(limit, next.run(request)).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::error!("request timed out");
                    ApiError::code(ErrorCode::ServiceUnavailable).into_response()
                }
            }
        };
        let status = response.status();
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), "request done");
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        harden(response.headers_mut(), hsts);
        response
    }
    .instrument(span)
    .await;
    state.metrics.request(&route, response.status().as_u16());
    match slot {
        // Held until the body has been sent (an event stream, a response
        // the client reads slowly).
        Some(slot) => {
            let (parts, body) = response.into_parts();
            let body = axum::body::Body::from_stream(futures_util::StreamExt::map(
                body.into_data_stream(),
                move |chunk| {
                    let _held = &slot;
                    chunk
                },
            ));
            Response::from_parts(parts, body)
        }
        None => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_peer_is_the_client_unless_it_is_a_trusted_proxy() {
        let peer: IpAddr = "198.51.100.9".parse().unwrap();
        let spoofed = forwarded(&["203.0.113.5"]);
        assert_eq!(client_ip(peer, &spoofed, &[]), peer);
        assert_eq!(client_ip(peer, &spoofed, &nets(&["10.0.0.0/8"])), peer);
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted = nets(&["10.0.0.0/8"]);
        // The client wrote "1.1.1.1" itself; the proxies appended the rest.
        let h = forwarded(&["1.1.1.1, 203.0.113.5", "10.0.0.3"]);
        assert_eq!(client_ip(proxy, &h, &trusted), "203.0.113.5".parse::<IpAddr>().unwrap());
        // No header: the proxy itself (all its clients share one limit).
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy);
        // Garbage stops the walk at the last good hop.
        let h = forwarded(&["203.0.113.5, not-an-ip, 10.0.0.4"]);
        assert_eq!(client_ip(proxy, &h, &trusted), "10.0.0.4".parse::<IpAddr>().unwrap());
    }
}
