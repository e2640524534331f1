//! The database goes away for a while: Kasir answers a clear `503
//! service.unavailable` (never a 500, never a hang), writes nothing by
//! halves, and serves again by itself when the database is back.
//!
//! PostgreSQL: Kasir reaches it through a TCP proxy this test controls: cutting
//! it drops every open connection and refuses new ones, as a database
//! restart or a network partition does. SQLite: another connection holds
//! the write lock past Kasir's busy timeout.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::watch;

use crate::helpers::{Backend, KEY_A, Receiver, backends, fresh_database_url, spawn_with, widget_attempt};

/// Forwards 127.0.0.1:<port> to PostgreSQL while `up`.
async fn proxy(target: String) -> (u16, watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (up, _) = watch::channel(true);
    let state = up.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { continue };
            if !*state.borrow() {
                drop(client); // refused
                continue;
            }
            let mut down = state.subscribe();
            let target = target.clone();
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else { return };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    _ = down.wait_for(|up| !*up) => {} // cut: both ends dropped
                }
            });
        }
    });
    (port, up)
}

#[tokio::test]
async fn a_database_outage_is_a_clear_503_and_service_resumes_by_itself() {
    if !backends().await.contains(&Backend::Postgres) {
        return;
    }
    let direct = fresh_database_url(Backend::Postgres).await;
    // postgres://user@127.0.0.1:5432/name → through the proxy.
    let (prefix, rest) = direct.split_once("@").unwrap();
    let (host_port, name) = rest.split_once('/').unwrap();
    let (port, up) = proxy(host_port.to_owned()).await;
    let via_proxy = format!("{prefix}@127.0.0.1:{port}/{name}");
    let app = spawn_with(via_proxy, Receiver::start().await, |_| {}).await;
    let create = |key: &'static str| {
        app.client
            .post(app.url("/v1/checkout_sessions"))
            .bearer_auth(KEY_A)
            .header("Idempotency-Key", key)
            .json(&json!({"amount": 50000, "reference": format!("INV-OUT-{key}")}))
            .send()
    };
    assert_eq!(create("before").await.unwrap().status(), 201);

    // The database goes away.
    up.send_replace(false);
    let started = Instant::now();
    let mut statuses = Vec::new();
    for key in ["during-1", "during-2", "during-3"] {
        let res = create(key).await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        statuses.push(status);
        assert_eq!(status, 503, "a clear 503, not {status}: {body}");
        assert_eq!(body["error"]["code"], "service.unavailable");
        assert!(body["error"]["message_id"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready while the database is away");
    let list = app.client.get(app.url("/v1/checkout_sessions")).bearer_auth(KEY_A).send().await.unwrap();
    assert_eq!(list.status(), 503);
    let waited = started.elapsed();

    // It comes back: Kasir serves again without a restart.
    up.send_replace(true);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let res = create("during-1").await.unwrap();
        if res.status() == 201 {
            break;
        }
        assert!(Instant::now() < deadline, "service did not resume: {}", res.status());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    // Nothing half-written: only the sessions whose creation succeeded.
    let list: Value = app.get_as(KEY_A, "/v1/checkout_sessions?limit=100").await.json().await.unwrap();
    let references: Vec<&str> =
        list["data"].as_array().unwrap().iter().map(|s| s["reference"].as_str().unwrap()).collect();
    assert_eq!(references, vec!["INV-OUT-during-1", "INV-OUT-before"], "newest first");
    eprintln!(
        "outage: {} requests during the outage, all 503, answered within {:.1} s in all; resumed by itself",
        statuses.len() + 2,
        waited.as_secs_f64()
    );
    app.stop().await;
}

/// SQLite's single writer held by someone else past Kasir's busy timeout (a
/// backup tool, an operator's `sqlite3` shell left in a transaction): writes
/// answer a clear `503`, the provider is never called for an attempt that
/// could not be recorded, nothing is half-written, and service resumes by
/// itself when the lock goes.
#[tokio::test]
async fn a_locked_sqlite_database_is_a_clear_503_and_service_resumes_by_itself() {
    use sqlx::Connection;
    let url = fresh_database_url(Backend::Sqlite).await;
    let app = spawn_with(url.clone(), Receiver::start().await, |_| {}).await;
    let create = |key: &'static str| {
        app.client
            .post(app.url("/v1/checkout_sessions"))
            .bearer_auth(KEY_A)
            .header("Idempotency-Key", key)
            .json(&json!({"amount": 50000, "reference": format!("INV-LOCK-{key}")}))
            .send()
    };
    let before: Value = create("before").await.unwrap().json().await.unwrap();
    let (id, secret) = (before["id"].as_str().unwrap(), before["client_secret"].as_str().unwrap());

    // Someone else takes the write lock and keeps it.
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut other).await.unwrap();
    let started = Instant::now();
    let qris = json!({"method": "qris"});
    let (during, attempt) = tokio::join!(create("during"), widget_attempt(&app, id, secret, &qris));
    for res in [during.unwrap(), attempt] {
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 503, "a clear 503, not {status}: {body}");
        assert_eq!(body["error"]["code"], "service.unavailable");
    }
    let waited = started.elapsed();
    // Reading still works in WAL mode: the session is there, untouched.
    let s: Value = app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
    assert_eq!(s["status"], "open");
    assert_eq!(s["latest_attempt"], Value::Null, "no attempt half-written");

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    assert_eq!(create("during").await.unwrap().status(), 201, "resumed by itself");
    assert_eq!(widget_attempt(&app, id, secret, &qris).await.status(), 201);
    let list: Value = app.get_as(KEY_A, "/v1/checkout_sessions?limit=100").await.json().await.unwrap();
    let references: Vec<&str> =
        list["data"].as_array().unwrap().iter().map(|s| s["reference"].as_str().unwrap()).collect();
    assert_eq!(references, vec!["INV-LOCK-during", "INV-LOCK-before"], "newest first");
    eprintln!(
        "sqlite lock: 2 writes during the lock, both 503 within {:.1} s; resumed",
        waited.as_secs_f64()
    );
    app.stop().await;
}
