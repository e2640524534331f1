//! The OpenAPI 3 document served at `/openapi.json`, generated from the
//! handlers' `#[utoipa::path]` annotations and the schemas of the wire
//! types in `kasir_shared::api` (its `openapi` feature): the same types the
//! server serialises and the widget decodes, so the document cannot drift.

use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::AppState;

#[derive(Debug)]
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |what: &str| {
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(what)).build(),
            )
        };
        components.add_security_scheme(
            "merchant_key",
            bearer("The merchant's secret key, `sk_test_…` or `sk_live_…`"),
        );
        components
            .add_security_scheme("client_secret", bearer("The session's `client_secret` (widget API only)"));
    }
}

/// What any route can answer besides its own errors: the database out of
/// reach or the request over its time limit (`503 service.unavailable`,
/// which may be retried), a bug (`500 internal.error`), and for a route
/// with a body, a body too large (`413`) or malformed (`400`). Added here
/// so no route's list can forget them.
#[derive(Debug)]
struct EveryRoute;

impl Modify for EveryRoute {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use kasir_shared::ErrorCode;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |code: ErrorCode| {
            ResponseBuilder::new()
                .description(format!("`{}`: {}", code.as_str(), code.message(kasir_shared::Locale::En)))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorResponse"))).build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations =
                [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                // A body can be too large, or not JSON of the route's shape.
                let with_body = operation.request_body.is_some();
                let body_codes = [ErrorCode::BodyTooLarge, ErrorCode::RequestMalformed];
                for code in body_codes.into_iter().filter(|_| with_body) {
                    let status = code.http_status().to_string();
                    operation.responses.responses.entry(status).or_insert_with(|| error(code).into());
                }
                for code in [ErrorCode::Internal, ErrorCode::ServiceUnavailable] {
                    let status = code.http_status().to_string();
                    operation.responses.responses.entry(status).or_insert_with(|| error(code).into());
                }
            }
        }
    }
}

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Kasir", description = "Self-hosted checkout for Indonesia: merchant API, widget API, provider webhooks."),
    modifiers(&Security, &EveryRoute),
    paths(
        crate::api::sessions::create, crate::api::sessions::list, crate::api::sessions::retrieve,
        crate::api::sessions::cancel, crate::api::sessions::refund, crate::api::resolve::resolve, crate::api::resolve::resolve_refund, crate::api::resolve::resolve_late_payment,
        crate::api::events::list, crate::api::events::retrieve, crate::api::events::redeliver,
        crate::api::widget::retrieve, crate::api::widget::create_attempt, crate::api::widget::events,
        crate::api::widget::three_ds, crate::api::webhooks::receive,
        crate::api::sandbox::page, crate::api::sandbox::decide, crate::api::sandbox::pay,
        crate::api::health::healthz, crate::api::health::readyz, crate::api::health::metrics,
    ),
    components(schemas(kasir_shared::api::ErrorResponse, kasir_shared::api::AttemptRequest, kasir_shared::api::NextAction))
)]
pub struct ApiDoc;

/// `GET /openapi.json`: the document is built and serialised once, not on
/// every (anonymous) request.
pub fn router() -> axum::Router<AppState> {
    static DOCUMENT: std::sync::OnceLock<axum::body::Bytes> = std::sync::OnceLock::new();
    axum::Router::new().route(
        "/openapi.json",
        get(|| async {
            let body = DOCUMENT.get_or_init(|| {
                serde_json::to_vec(&ApiDoc::openapi()).map(axum::body::Bytes::from).unwrap_or_default()
            });
            ([(axum::http::header::CONTENT_TYPE, "application/json")], body.clone())
        }),
    )
}

#[cfg(test)]
mod tests {
    use kasir_shared::payment::{Bank, PaymentMethodKind, Wallet};
    use utoipa::OpenApi;

    /// The document's enums list exactly the wire values the parsers take:
    /// they come from the same declaration.
    #[test]
    fn enums_in_the_document_are_the_parsers_values() {
        let doc = serde_json::to_value(super::ApiDoc::openapi()).unwrap_or_default();
        let names = |schema: &str| -> Vec<String> {
            doc["components"]["schemas"][schema]["enum"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let banks: Vec<String> = Bank::ALL.iter().map(|b| b.as_str().to_owned()).collect();
        let wallets: Vec<String> = Wallet::ALL.iter().map(|w| w.as_str().to_owned()).collect();
        let methods: Vec<String> = PaymentMethodKind::ALL.iter().map(|m| m.as_str().to_owned()).collect();
        assert_eq!(names("Bank"), banks);
        assert_eq!(names("Wallet"), wallets);
        assert_eq!(names("PaymentMethodKind"), methods);
        assert!(names("SessionStatus").contains(&"partially_refunded".to_owned()));
    }

    /// Every operation lists the statuses any route can give (issue 17: the
    /// webhook's `503` was missing).
    #[test]
    fn every_operation_lists_the_common_statuses() {
        let doc = serde_json::to_value(super::ApiDoc::openapi()).unwrap_or_default();
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        assert!(paths.len() > 15);
        for (path, item) in paths {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let responses = &operation["responses"];
                for status in ["500", "503"] {
                    assert!(responses.get(status).is_some(), "{method} {path} lacks {status}");
                }
                if operation.get("requestBody").is_some() {
                    assert!(responses.get("413").is_some(), "{method} {path} lacks 413");
                }
            }
        }
        let webhook = &doc["paths"]["/webhooks/{provider}"]["post"]["responses"];
        assert!(webhook["502"]["description"].as_str().unwrap_or_default().contains("provider.unavailable"));
        assert!(
            webhook["503"]["description"].as_str().unwrap_or_default().contains("webhook.unknown_payment")
        );
    }
}
