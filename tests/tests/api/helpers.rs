//! Starting the real server for a test, on SQLite and on PostgreSQL.

use std::net::SocketAddr;

use kasir_server::config::MerchantConfig;
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
async fn fresh_database(backend: Backend) -> String {
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

/// A running server; shut down gracefully when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `POST` JSON as merchant A.
    pub async fn post_a(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client.post(self.url(path)).bearer_auth(KEY_A).json(body).send().await.unwrap()
    }

    /// `GET` as the merchant with `key`.
    pub async fn get_as(&self, key: &str, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).bearer_auth(key).send().await.unwrap()
    }
}

/// Starts the real server on 127.0.0.1 with a free port, a fresh database on
/// `backend`, and two merchants (A and B).
pub async fn spawn_app(backend: Backend) -> TestApp {
    let merchant = |id: &str, key: &str| MerchantConfig {
        id: id.into(),
        display_name: format!("Toko {id}"),
        secret_key: SecretString::new(key.into()),
    };
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: fresh_database(backend).await,
        public_url: "http://kasir.test".into(),
        merchants: vec![merchant("merchant_a", KEY_A), merchant("merchant_b", KEY_B)],
        ..Config::default()
    };
    let server = Server::bind(config).await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    TestApp { addr, client: reqwest::Client::new(), _stop: stop }
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
