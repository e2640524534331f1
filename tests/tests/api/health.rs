use crate::helpers::{backends, spawn_app};

#[tokio::test]
async fn healthz_and_readyz_answer() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let health = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let body: serde_json::Value = health.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200, "{backend:?}");
    }
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let res = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn the_openapi_document_lists_every_endpoint() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let doc: serde_json::Value =
        app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/checkout_sessions",
        "/v1/checkout_sessions/{id}",
        "/v1/checkout_sessions/{id}/cancel",
        "/v1/checkout_sessions/{id}/refunds",
        "/v1/events",
        "/v1/events/{id}",
        "/v1/events/{id}/redeliver",
        "/v1/widget/sessions/{id}",
        "/v1/widget/sessions/{id}/attempts",
        "/v1/widget/sessions/{id}/events",
        "/v1/widget/3ds/{attempt_id}",
        "/webhooks/{provider}",
        "/v1/test_helpers/checkout_sessions/{id}/pay",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from /openapi.json");
    }
    assert!(doc["components"]["securitySchemes"]["merchant_key"].is_object());
}
