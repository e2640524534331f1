//! Starting the real server for a test, on SQLite and on PostgreSQL, and
//! what the tests share: fixtures, request bodies, each provider's set-up
//! (`providers`) and the server as a separate process (`process`).

mod process;
mod providers;

pub use process::*;
pub use providers::*;

use std::net::SocketAddr;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kasir_server::config::{Limits, MerchantConfig, Timings};
use kasir_server::{Config, Server};
use kasir_shared::secret::SecretString;
use sqlx::Connection;
use tokio::sync::oneshot;

/// The admin URL of the local PostgreSQL; each test creates its own database.
fn postgres_admin_url() -> String {
    std::env::var("KASIR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The two store backends every store-touching test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite always; PostgreSQL when reachable. In CI (`CI` set) an unreachable
/// PostgreSQL fails the test instead of skipping half of it.
pub async fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    match sqlx::PgConnection::connect(&postgres_admin_url()).await {
        Ok(conn) => {
            let _ = conn.close().await;
            out.push(Backend::Postgres);
        }
        Err(e) if std::env::var_os("CI").is_some() => panic!("PostgreSQL unreachable in CI: {e}"),
        Err(e) => {
            eprintln!("\n!!! PostgreSQL unreachable ({e}); SKIPPING the PostgreSQL half of this test !!!\n")
        }
    }
    out
}

/// A fresh, empty database for one test.
pub async fn fresh_database_url(backend: Backend) -> String {
    let name = format!("kasir_test_{}", kasir_server::ids::random_token(12).to_lowercase());
    match backend {
        Backend::Sqlite => format!("sqlite://{}/{name}.db?mode=rwc", std::env::temp_dir().display()),
        Backend::Postgres => {
            let admin = postgres_admin_url();
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("postgres");
            // `name` is our own `kasir_test_` + base62: safe to splice.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create database");
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            format!("{base}/{name}")
        }
    }
}

pub const KEY_A: &str = "sk_test_merchant_a_0123456789abcdef";
pub const KEY_B: &str = "sk_test_merchant_b_0123456789abcdef";
/// Merchant A's webhook signing secret.
pub const WHSEC_A: &str = "whsec_test_merchant_a_0123456789";
/// The sandbox provider's webhook secret in tests (so tests can forge and replay).
pub const SANDBOX_SECRET: &str = "sbx_whsec_test_0123456789abcdef";
/// Kasir's public origin in tests (widget CORS, hosted-page links).
pub const PUBLIC_URL: &str = "http://kasir.test";

/// One webhook the merchant's receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub signature: String,
    pub event_id: String,
    pub body: String,
    /// Every header, lower-case names (the Standard Webhooks ones among them).
    pub headers: std::collections::BTreeMap<String, String>,
}

/// A real HTTP receiver standing in for the merchant's webhook endpoint.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// While positive, requests are answered 500 (and counted down).
    pub fail_next: Arc<AtomicUsize>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let fail_next: Arc<AtomicUsize> = Arc::default();
        let (r, f) = (received.clone(), fail_next.clone());
        let handler = move |headers: axum::http::HeaderMap, body: String| {
            let (r, f) = (r.clone(), f.clone());
            async move {
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let all = headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                r.lock().unwrap().push(Received {
                    signature: header("kasir-signature"),
                    event_id: header("kasir-event-id"),
                    body,
                    headers: all,
                });
                let failing =
                    f.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                if failing {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        };
        let app = axum::Router::new().route("/hooks", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, received, fail_next }
    }

    /// Received webhooks of `event_type`, as parsed JSON, after checking
    /// each one's signature independently of the server's code.
    pub fn events_of(&self, event_type: &str) -> Vec<serde_json::Value> {
        let all = self.received.lock().unwrap().clone();
        all.iter()
            .map(|r| {
                assert_signature(WHSEC_A, &r.signature, &r.body);
                let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
                assert_eq!(v["id"], r.event_id.as_str());
                v
            })
            .filter(|v| v["type"] == event_type)
            .collect()
    }
}

/// Checks `t=<unix>,v1=<hex hmac-sha256(secret, "<t>.<body>")>` with the
/// `hmac` crate directly.
pub fn assert_signature(secret: &str, header: &str, body: &str) {
    use hmac::{KeyInit, Mac};
    let mut parts = header.split(',');
    let t = parts.next().and_then(|p| p.strip_prefix("t=")).expect("t=");
    let v1 = parts.next().and_then(|p| p.strip_prefix("v1=")).expect("v1=");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((now - t.parse::<i64>().unwrap()).abs() < 600, "timestamp {t}");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(v1, expected, "signature of {body}");
}

/// Signs `body` as the sandbox provider would (for forged/replayed webhook tests).
pub fn sandbox_signature(secret: &str, t: i64, body: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// A running server; shut down gracefully by `stop` or when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub receiver: Receiver,
    pub database_url: String,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `POST` JSON as merchant A.
    pub async fn post_a(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client.post(self.url(path)).bearer_auth(KEY_A).json(body).send().await.unwrap()
    }

    /// Creates a checkout session with `body` as merchant A (asserting 201);
    /// its id and client secret.
    pub async fn new_session(&self, body: &serde_json::Value) -> (String, String) {
        create_session(&self.client, &self.url(""), KEY_A, body).await
    }

    /// `GET` as the merchant with `key`.
    pub async fn get_as(&self, key: &str, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).bearer_auth(key).send().await.unwrap()
    }

    /// Stops the server gracefully (workers included) and waits for it.
    pub async fn stop(mut self) -> (String, Receiver) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
        (self.database_url.clone(), self.receiver.clone())
    }
}

/// Creates a checkout session at the server at `base` as the merchant with
/// `key`; its id and client secret.
pub async fn create_session(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    body: &serde_json::Value,
) -> (String, String) {
    let res =
        http.post(format!("{base}/v1/checkout_sessions")).bearer_auth(key).json(body).send().await.unwrap();
    assert_eq!(res.status(), 201, "create session");
    let s: serde_json::Value = res.json().await.unwrap();
    (s["id"].as_str().unwrap().to_owned(), s["client_secret"].as_str().unwrap().to_owned())
}

/// A provider fixture: `tests/fixtures/providers/<name>` (keys, signed vectors).
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/providers/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A card attempt for the widget: `number`, expiring 12/30, CVV 123, held
/// by Budi Santoso. Provider extras (`billing`, `nik`) are added on top.
pub fn card(number: &str) -> serde_json::Value {
    card_with(number, "12/30", "123", "Budi Santoso")
}

/// A card attempt for the widget with every card field given.
pub fn card_with(number: &str, expiry: &str, cvv: &str, holder_name: &str) -> serde_json::Value {
    serde_json::json!({"method": "card",
        "card": {"number": number, "expiry": expiry, "cvv": cvv, "holder_name": holder_name}})
}

/// A billing address for a card attempt (SingaPay requires one).
pub fn billing() -> serde_json::Value {
    serde_json::json!({"address": "Jl. Sudirman No. 1", "city": "Jakarta", "state": "DKI Jakarta", "postal_code": "10210"})
}

/// A session's customer with name, email and phone: all any provider asks
/// of the session (SingaPay needs the email and the phone).
pub fn full_customer() -> serde_json::Value {
    serde_json::json!({"name": "Budi Santoso", "email": "budi@example.co.id", "phone": "0812-3456-7890"})
}

/// Starts the real server on 127.0.0.1 with a free port, a fresh database on
/// `backend`, two merchants (A, with a webhook receiver, and B), the
/// sandbox provider, and short worker timings.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let database_url = fresh_database_url(backend).await;
    spawn_with(database_url, Receiver::start().await, |_| {}).await
}

/// As `spawn_app`, on an existing database and receiver, with `tweak`
/// applied to the configuration.
pub async fn spawn_with(
    database_url: String,
    receiver: Receiver,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let mut a = MerchantConfig::new("merchant_a", "Toko A", SecretString::new(KEY_A.into()));
    a.webhook_url = Some(receiver.url.clone());
    a.webhook_secret = Some(SecretString::new(WHSEC_A.into()));
    a.allowed_origins = vec!["https://toko-a.example".into()];
    let b = MerchantConfig::new("merchant_b", "Toko B", SecretString::new(KEY_B.into()));
    let ms = std::time::Duration::from_millis;
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.clone(),
        public_url: PUBLIC_URL.into(),
        merchants: vec![a, b],
        timings: Timings {
            stream_recheck: std::time::Duration::from_secs(5),
            provider_timeout: ms(2_000),
            reconcile_after: ms(300),
            worker_tick: ms(100),
            delivery_schedule: vec![ms(200), ms(400), ms(800)],
            delivery_timeout: ms(2_000),
            review_after: ms(60_000),
        },
        limits: Limits {
            attempts_per_ip_per_minute: 10_000,
            cards_per_ip_per_hour: 10_000,
            ..Limits::default()
        },
        sandbox_webhook_secret: SecretString::new(SANDBOX_SECRET.into()),
        // The test receiver listens on loopback.
        allow_private_webhook_urls: true,
        ..Config::default()
    };
    tweak(&mut config);
    let server = Server::bind(config).await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: reqwest::Client::new(),
        receiver,
        database_url,
        stop: Some(stop),
        handle: Some(handle),
    }
}

/// Polls `check` every 50 ms for up to 15 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Asserts Kasir's error shape and returns the body.
pub async fn assert_error(res: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(res.status(), status, "status for {code}");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["error"]["message_id"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    body
}

/// `POST /v1/widget/sessions/{id}/attempts` at the server at `base`.
pub async fn attempt_at(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    let url = format!("{base}/v1/widget/sessions/{id}/attempts");
    http.post(url).bearer_auth(secret).json(body).send().await.unwrap()
}

/// `GET /v1/widget/sessions/{id}` with the client secret: what the widget sees.
pub async fn widget_session(app: &TestApp, id: &str, secret: &str) -> serde_json::Value {
    app.client
        .get(app.url(&format!("/v1/widget/sessions/{id}")))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `POST /v1/widget/sessions/{id}/attempts` with the client secret.
pub async fn widget_attempt(
    app: &TestApp,
    id: &str,
    secret: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    attempt_at(&app.client, &app.url(""), id, secret, body).await
}

/// The session's status as merchant A sees it.
pub async fn session_status(app: &TestApp, id: &str) -> String {
    let s: serde_json::Value =
        app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
    s["status"].as_str().unwrap().to_owned()
}

/// Waits until the session has `status`.
pub async fn wait_session_status(app: &TestApp, id: &str, status: &str) {
    eventually(status, || async { session_status(app, id).await == status }).await;
}

/// The widget's view of a session.
pub async fn widget_view(app: &TestApp, id: &str, secret: &str) -> serde_json::Value {
    let res = app
        .client
        .get(app.url(&format!("/v1/widget/sessions/{id}")))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Moves a session's deadline into the past (the expiry sweep, or the
/// widget's clock, does the rest).
pub async fn force_expiry(database_url: &str, session_id: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    sqlx::query("UPDATE checkout_sessions SET expires_at = 1 WHERE id = $1")
        .bind(session_id)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}
