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
