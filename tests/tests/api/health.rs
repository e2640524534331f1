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

/// Every answer (API JSON, errors, the hosted page, the loader) carries
/// `nosniff` and `no-referrer`; API answers are never cached (they hold
/// client secrets); HSTS only when Kasir is reached over TLS.
#[tokio::test]
async fn every_answer_is_hardened() {
    use crate::helpers::{Backend, KEY_A, Receiver, fresh_database_url, spawn_with};
    let app = spawn_app(Backend::Sqlite).await;
    let created = app
        .post_a("/v1/checkout_sessions", &serde_json::json!({"amount": 10000, "reference": "INV-H"}))
        .await;
    assert_eq!(created.status(), 201);
    let check = |res: &reqwest::Response, what: &str| {
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
        assert!(h.get("strict-transport-security").is_none(), "no HSTS over plain HTTP: {what}");
    };
    check(&created, "create session");
    assert_eq!(created.headers()["cache-control"], "no-store");
    let unauthorized = app.client.get(app.url("/v1/checkout_sessions")).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    check(&unauthorized, "401");
    let listed = app.client.get(app.url("/v1/checkout_sessions")).bearer_auth(KEY_A).send().await.unwrap();
    check(&listed, "list");
    assert_eq!(listed.headers()["cache-control"], "no-store");
    let loader = app.client.get(app.url("/embed.js")).send().await.unwrap();
    check(&loader, "embed.js");
    assert_eq!(loader.headers()["cache-control"], "public, max-age=300", "the handler's own choice stays");
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    check(&health, "healthz");
    let unknown = app.client.get(app.url("/no/such/path")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    check(&unknown, "an unknown path");

    let tls = spawn_with(fresh_database_url(Backend::Sqlite).await, Receiver::start().await, |c| {
        c.public_url = "https://kasir.example".into();
    })
    .await;
    let res = tls.client.get(tls.url("/healthz")).send().await.unwrap();
    assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000");
}
