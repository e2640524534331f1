//! The attack surface (issue 15): what an anonymous client can make Kasir
//! spend. Connections and header reads are bounded (the server runs as its
//! own process under `ulimit -n 1024`, as an operator's would), signature
//! checks cost one HMAC whatever the header holds, event streams are
//! bounded per session. Each test fails on the code before the fix.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// A Kasir process on SQLite with the sandbox, under an open-file limit.
struct Limited {
    port: u16,
    child: Child,
    workdir: std::path::PathBuf,
}

impl Limited {
    async fn start(file_limit: u32, limits: &str) -> Limited {
        let port = kasir_tests::webdriver::free_port();
        let workdir =
            std::env::temp_dir().join(format!("kasir-attack-{}", kasir_server::ids::random_token(8)));
        std::fs::create_dir_all(&workdir).unwrap();
        let config = format!(
            "listen = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n\
             database_url = \"sqlite://kasir.db?mode=rwc\"\nlog_format = \"json\"\n\
             [limits]\n{limits}\n\
             [[merchants]]\nid = \"toko\"\ndisplay_name = \"Toko\"\nsecret_key_env = \"ATTACK_KEY\"\n"
        );
        std::fs::write(workdir.join("kasir.toml"), config).unwrap();
        let log = std::fs::File::create(workdir.join("kasir.log")).unwrap();
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {file_limit} && exec \"$0\""))
            .arg(env!("CARGO_BIN_EXE_kasir-server-under-test"))
            .current_dir(&workdir)
            .env("RUST_LOG", "info")
            .env("ATTACK_KEY", KEY_A)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the server starts");
        let me = Limited { port, child, workdir };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !client.get(me.url("/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            assert!(Instant::now() < deadline, "the server did not start (see {:?})", me.workdir);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        me
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.workdir);
    }
}

/// `/healthz` on a fresh connection, and how long it took.
async fn health(url: &str) -> (Option<u16>, Duration) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let started = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(5), client.get(url).send())
        .await
        .ok()
        .and_then(Result::ok)
        .map(|r| r.status().as_u16());
    (status, started.elapsed())
}

/// 1,100 connections that never send a byte, against a server allowed 1,024
/// open files: it stays up, and a fresh client is answered at once.
#[tokio::test]
async fn idle_connections_cannot_exhaust_the_server() {
    let kasir = Limited::start(1024, "").await;
    let mut held = Vec::new();
    for _ in 0..1_100 {
        match tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(kasir.addr())).await {
            Ok(Ok(stream)) => held.push(stream),
            _ => break,
        }
    }
    assert!(held.len() >= 1_050, "the test could open only {} connections", held.len());
    for _ in 0..3 {
        let (status, took) = health(&kasir.url("/healthz")).await;
        assert_eq!(status, Some(200), "healthz while {} idle connections are held ({took:?})", held.len());
        assert!(took < Duration::from_secs(2), "healthz took {took:?}");
    }
    let metrics = reqwest::get(kasir.url("/metrics")).await.unwrap().text().await.unwrap();
    let evicted = metrics
        .lines()
        .find_map(|l| l.strip_prefix("kasir_connections_evicted_total "))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(evicted > 0, "{metrics}");
    drop(held);
}

/// Clients that ask for more than they read: each of 8 connections (the
/// server's whole budget) pipelines 200 requests for `/openapi.json` with a
/// 4 KiB receive buffer and never reads. Every connection is then busy
/// writing, so none can be evicted for a newcomer; with
/// `write_stall_timeout_secs = 2` each is cut off when its write has waited
/// that long, and a fresh client is answered again.
#[tokio::test]
async fn clients_that_stop_reading_are_cut_off_and_free_their_connections() {
    let kasir = Limited::start(1024, "max_connections = 8\nwrite_stall_timeout_secs = 2").await;
    let request = "GET /openapi.json HTTP/1.1\r\nHost: kasir\r\n\r\n".repeat(200);
    let mut held = Vec::new();
    for _ in 0..8 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut stream = socket.connect(kasir.addr().parse().unwrap()).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        held.push(stream);
    }
    // Past the stall limit (and the 2 s it takes for a write to wait).
    tokio::time::sleep(Duration::from_secs(6)).await;
    for _ in 0..3 {
        let (status, took) = health(&kasir.url("/healthz")).await;
        assert_eq!(status, Some(200), "healthz while 8 clients have stopped reading ({took:?})");
        assert!(took < Duration::from_secs(2), "healthz took {took:?}");
    }
    // The stalled connections were closed by the server.
    let mut closed = 0;
    for stream in &mut held {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => {
                    closed += 1;
                    break;
                }
                Ok(Ok(_)) => continue,
                Err(_) => break,
            }
        }
    }
    assert_eq!(closed, 8, "every stalled connection was closed");
}

/// A client has `header_read_timeout` to send its headers: one trickling a
/// header line a second, and an idle keep-alive connection, are closed.
#[tokio::test]
async fn trickled_headers_and_idle_keep_alive_are_cut_off() {
    let kasir = Limited::start(1024, "header_read_timeout_secs = 2\nbody_read_timeout_secs = 2").await;
    // A body trickled after its headers: refused when the time is up.
    let mut body = TcpStream::connect(kasir.addr()).await.unwrap();
    let head = format!(
        "POST /v1/checkout_sessions HTTP/1.1\r\nHost: kasir\r\nAuthorization: Bearer {KEY_A}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"amount\""
    );
    body.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(8), body.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let answer = String::from_utf8_lossy(&answer).to_string();
    assert!(answer.starts_with("HTTP/1.1 400"), "a trickled body: {answer:?} after {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    // Trickle: a line a second, never finishing.
    let mut slow = TcpStream::connect(kasir.addr()).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: kasir\r\n").await.unwrap();
    let started = Instant::now();
    let mut closed = false;
    for i in 0..10 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if slow.write_all(format!("X-Trickle-{i}: {i}\r\n").as_bytes()).await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(10), slow.read(&mut buf)).await {
            // An error answer (408) or the end of the stream: cut off.
            let _ = n;
            closed = true;
            break;
        }
    }
    assert!(closed, "a trickling client was still connected after {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    // Idle keep-alive: one request, then silence.
    let mut idle = TcpStream::connect(kasir.addr()).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: kasir\r\n\r\n").await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
        let n = idle.read(&mut buf).await.unwrap();
        assert!(n > 0, "answered");
        seen.extend_from_slice(&buf[..n]);
    }
    let waited = Instant::now();
    let end = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match idle.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(end.is_ok(), "an idle keep-alive connection was still open after 8 s");
    assert!(waited.elapsed() >= Duration::from_secs(1), "closed too early: {:?}", waited.elapsed());
}

/// The signature header is bounded and costs one HMAC: four requests with a
/// header full of `v1=` values and a 64 KiB body each are refused at once,
/// and `/healthz` answers meanwhile; a 380 KB header never reaches a handler.
#[tokio::test]
async fn webhook_signatures_cannot_amplify_cpu() {
    let app = spawn_app(Backend::Sqlite).await;
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(64 * 1024 - 16));
    let many = format!("t=1,{}", "v1=,".repeat(500));
    let hostile = |header: String| {
        let (client, url, body) = (app.client.clone(), app.url("/webhooks/sandbox"), body.clone());
        async move {
            let started = Instant::now();
            let res = client
                .post(url)
                .header("sandbox-signature", header)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            (res.map(|r| r.status().as_u16()).ok(), started.elapsed())
        }
    };
    let (status, took) = hostile(many.clone()).await;
    assert_eq!(status, Some(401));
    assert!(took < Duration::from_secs(1), "one hostile webhook took {took:?}");
    let four = futures_util::future::join_all((0..4).map(|_| hostile(many.clone())));
    let health_url = app.url("/healthz");
    let (results, (health_status, health_took)) = tokio::join!(four, health(&health_url));
    assert_eq!(health_status, Some(200));
    assert!(health_took < Duration::from_secs(2), "healthz during four hostile webhooks: {health_took:?}");
    for (status, took) in results {
        assert!(matches!(status, Some(401 | 429)), "{status:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
    // 380 KB of header: hyper refuses it (431) before any handler runs.
    let huge = format!("t=1,{}", "v1=00,".repeat(380 * 1024 / 6));
    let (status, _) = hostile(huge).await;
    assert!(matches!(status, Some(431) | None), "{status:?}");
    app.stop().await;
}

/// One client secret opens at most `event_streams_per_session` streams.
#[tokio::test]
async fn event_streams_are_bounded_per_session() {
    let app = spawn_app(Backend::Sqlite).await;
    let (id, secret) =
        create_session(&app.client, &app.url(""), KEY_A, &json!({"amount": 10_000, "reference": "INV-SSE"}))
            .await;
    let url = app.url(&format!("/v1/widget/sessions/{id}/events?client_secret={secret}"));
    let mut open = Vec::new();
    for _ in 0..4 {
        let res = app.client.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        open.push(res);
    }
    let res = app.client.get(&url).send().await.unwrap();
    let body: Value = assert_error(res, 429, "rate_limit.exceeded").await;
    assert!(body["error"]["message_id"].is_string());
    // A closed stream frees its place (the server notices within seconds).
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = app.client.get(&url).send().await.unwrap();
        if res.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "a closed stream's place was never freed");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    app.stop().await;
}

/// Streams are never evicted like idle connections, so one client (many
/// sessions' secrets in hand) may hold only `event_streams_per_ip` of them,
/// and none lasts past `event_stream_max`: it ends and the browser's
/// `EventSource` reconnects by itself. Before, a client could hold every
/// stream place for as long as its sessions lived (up to 24 h).
#[tokio::test]
async fn event_streams_are_bounded_per_client_and_in_time() {
    let app = spawn_with(fresh_database_url(Backend::Sqlite).await, Receiver::start().await, |config| {
        config.limits.event_streams_per_ip = 3;
        config.limits.event_stream_max = Duration::from_secs(2);
    })
    .await;
    let mut urls = Vec::new();
    for reference in ["INV-SSE-1", "INV-SSE-2"] {
        let (id, secret) = create_session(
            &app.client,
            &app.url(""),
            KEY_A,
            &json!({"amount": 10_000, "reference": reference}),
        )
        .await;
        urls.push(app.url(&format!("/v1/widget/sessions/{id}/events?client_secret={secret}")));
    }
    let mut open = Vec::new();
    for url in [&urls[0], &urls[0], &urls[1]] {
        let res = app.client.get(url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        open.push(res);
    }
    // Another session's secret does not buy this client a fourth.
    assert_error(app.client.get(&urls[1]).send().await.unwrap(), 429, "rate_limit.exceeded").await;
    // Each stream ends by itself after `event_stream_max`.
    let started = Instant::now();
    let first = open.remove(0);
    let body = tokio::time::timeout(Duration::from_secs(8), first.text()).await;
    assert!(body.is_ok(), "a stream outlived event_stream_max: still open after {:?}", started.elapsed());
    assert!(body.unwrap().unwrap().contains("event: session"));
    app.stop().await;
}

/// The SQLite database and its WAL and shared-memory files are the server
/// user's alone (they hold client secrets and payment records).
#[cfg(unix)]
#[tokio::test]
async fn the_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let kasir = Limited::start(4096, "").await;
    let res = reqwest::Client::new()
        .post(kasir.url("/v1/checkout_sessions"))
        .bearer_auth(KEY_A)
        .json(&json!({"amount": 10_000, "reference": "INV-PERM"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    for file in ["kasir.db", "kasir.db-wal", "kasir.db-shm"] {
        let mode = std::fs::metadata(kasir.workdir.join(file)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{file} is {mode:o}");
    }
}

/// `/metrics` is private: loopback only by default (and not through a
/// proxy), or a bearer token; `/healthz` tells no version.
#[tokio::test]
async fn operations_endpoints_tell_outsiders_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    let health: Value = app.client.get(app.url("/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health, json!({"status": "ok"}));
    assert_eq!(app.client.get(app.url("/metrics")).send().await.unwrap().status(), 200);
    let proxied =
        app.client.get(app.url("/metrics")).header("x-forwarded-for", "203.0.113.7").send().await.unwrap();
    assert_eq!(proxied.status(), 404);
    app.stop().await;
    let token = "metrics-token-0123456789abcdef";
    let app = spawn_with(fresh_database_url(Backend::Sqlite).await, Receiver::start().await, |c| {
        c.metrics_token = Some(kasir_shared::secret::SecretString::new(token.into()));
    })
    .await;
    assert_eq!(app.client.get(app.url("/metrics")).send().await.unwrap().status(), 404);
    let res = app.client.get(app.url("/metrics")).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = app.client.get(app.url("/metrics")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("kasir_build_info{version="));
    app.stop().await;
}

/// Amounts stop at Rp9,999,999,999 (QRIS's 13 characters with decimals,
/// every provider's range) and at a merchant's own maximum; control
/// characters get a field error on both databases; an oversized body 413.
#[tokio::test]
async fn hostile_session_bodies_get_field_errors() {
    for backend in backends().await {
        let app = spawn_with(fresh_database_url(backend).await, Receiver::start().await, |c| {
            c.merchants[1].max_amount = kasir_shared::money::Idr::new(1_000_000);
        })
        .await;
        let create = |key: &'static str, body: Value| {
            app.client.post(app.url("/v1/checkout_sessions")).bearer_auth(key).json(&body).send()
        };
        let ok = create(KEY_A, json!({"amount": 9_999_999_999u64, "reference": "INV-MAX"})).await.unwrap();
        assert_eq!(ok.status(), 201);
        let res = create(KEY_A, json!({"amount": 10_000_000_000u64, "reference": "INV-MAX"})).await.unwrap();
        let e = assert_error(res, 422, "amount.too_large").await;
        assert_eq!(e["error"]["field"], "amount");
        let res = create(KEY_A, json!({"amount": i64::MAX, "reference": "INV-MAX"})).await.unwrap();
        assert_error(res, 422, "amount.too_large").await;
        let res = create(KEY_B, json!({"amount": 1_000_001, "reference": "INV-MAX"})).await.unwrap();
        assert_error(res, 422, "amount.too_large").await;
        let res =
            create(KEY_A, json!({"amount": 10_000, "reference": "INV-NUL", "description": "Kopi\u{0}Gayo"}))
                .await
                .unwrap();
        let e = assert_error(res, 422, "text.control_characters").await;
        assert_eq!(e["error"]["field"], "description", "{backend:?}");
        assert!(e["error"]["message_id"].as_str().unwrap().contains("karakter kontrol"));
        let res =
            create(KEY_A, json!({"amount": 10_000, "reference": "INV-NL", "metadata": {"order": "a\nb"}}))
                .await
                .unwrap();
        let e = assert_error(res, 422, "text.control_characters").await;
        assert_eq!(e["error"]["field"], "metadata.order");
        let huge = json!({"amount": 10_000, "reference": "INV-BIG", "description": "x".repeat(300 * 1024)});
        let res = create(KEY_A, huge).await.unwrap();
        assert_error(res, 413, "request.too_large").await;
        app.stop().await;
    }
}

/// A merchant's storefront origin can read its own sessions from the
/// widget API, never another merchant's.
#[tokio::test]
async fn cors_answers_only_the_sessions_own_merchant() {
    let app = spawn_with(fresh_database_url(Backend::Sqlite).await, Receiver::start().await, |c| {
        c.merchants[1].allowed_origins = vec!["https://toko-b.example".into()];
    })
    .await;
    let (id, secret) =
        create_session(&app.client, &app.url(""), KEY_A, &json!({"amount": 10_000, "reference": "INV-CORS"}))
            .await;
    let read = |origin: &'static str| {
        app.client
            .get(app.url(&format!("/v1/widget/sessions/{id}")))
            .bearer_auth(&secret)
            .header("origin", origin)
            .send()
    };
    let own = read("https://toko-a.example").await.unwrap();
    assert_eq!(own.headers()["access-control-allow-origin"], "https://toko-a.example");
    let other = read("https://toko-b.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none(), "{:?}", other.headers());
    app.stop().await;
}

/// Settings that would leave the server open stop it at start, naming the
/// setting: one key for two merchants, a short key, `*` as an origin, a
/// webhook to a cloud metadata service, `file://` or a private address
/// (unless allowed for development), a short sandbox webhook secret.
#[tokio::test]
async fn unsafe_settings_never_start() {
    use kasir_server::config::MerchantConfig;
    use kasir_shared::secret::SecretString;
    let base = || kasir_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: "sqlite::memory:".into(),
        merchants: vec![MerchantConfig::new("a", "A", SecretString::new(KEY_A.into()))],
        ..kasir_server::Config::default()
    };
    let refused = |config: kasir_server::Config, key: &'static str| async move {
        let err = kasir_server::Server::bind(config).await.expect_err(key).to_string();
        assert!(err.contains(key), "{err}");
    };
    let mut c = base();
    c.merchants.push(MerchantConfig::new("b", "B", SecretString::new(KEY_A.into())));
    refused(c, "merchants[b].secret_key").await;
    let mut c = base();
    c.merchants[0].secret_key = SecretString::new("sk_test_short".into());
    refused(c, "merchants[a].secret_key").await;
    let mut c = base();
    c.merchants[0].allowed_origins = vec!["*".into()];
    refused(c, "merchants[a].allowed_origins").await;
    let mut c = base();
    c.merchants[0].allowed_origins = vec!["https://toko.example\r\nX-Evil: 1".into()];
    refused(c, "merchants[a].allowed_origins").await;
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
        "http://10.0.0.5/hook",
        "http://[::1]:9/x",
    ] {
        let mut c = base();
        c.merchants[0].webhook_url = Some(url.into());
        refused(c, "merchants[a].webhook_url").await;
    }
    let mut c = base();
    c.merchants[0].webhook_url = Some("http://10.0.0.5/hook".into());
    c.allow_private_webhook_urls = true;
    assert!(kasir_server::Server::bind(c).await.is_ok(), "private webhooks allowed for development");
    let mut c = base();
    c.merchants[0].webhook_url = Some("http://169.254.169.254/".into());
    c.allow_private_webhook_urls = true;
    refused(c, "merchants[a].webhook_url").await;
    let mut c = base();
    c.sandbox_webhook_secret = SecretString::new(String::new());
    refused(c, "providers.sandbox.webhook_secret").await;
    let mut c = base();
    c.merchants[0].webhook_url = Some("https://toko.example/kasir/hooks".into());
    c.merchants[0].allowed_origins = vec!["https://toko.example".into(), "http://localhost:3000".into()];
    assert!(kasir_server::Server::bind(c).await.is_ok(), "a sound configuration starts");
}

/// The demo merchant (started when no merchant is configured) makes a
/// session for anyone who opens `/demo`: routed to a production provider it
/// would let anyone pay real money through the operator's account, so the
/// server refuses to start. On its sandbox host it starts.
#[tokio::test]
async fn the_demo_merchant_never_reaches_a_production_provider() {
    use kasir_server::config::MerchantConfig;
    use kasir_shared::secret::SecretString;
    for (base_url, starts) in
        [("https://api.midtrans.com", false), ("https://api.sandbox.midtrans.com", true)]
    {
        let mut config = kasir_server::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: "sqlite::memory:".into(),
            merchants: vec![MerchantConfig::new("demo", "Toko Demo", SecretString::new(KEY_A.into()))],
            demo_merchant: Some("demo".into()),
            ..kasir_server::Config::default()
        };
        let table: toml::Table =
            toml::from_str(&format!("base_url = {base_url:?}\nserver_key = \"k\"\nclient_key = \"c\"\n"))
                .unwrap();
        let tables = kasir_server::config_file::ProviderTables::from([("midtrans".to_owned(), table)]);
        config.providers = kasir_server::config::ProviderSettings::load(tables, &|_| None).unwrap();
        config.routing.insert("card".into(), "midtrans".into());
        match kasir_server::Server::bind(config).await {
            Ok(_) => assert!(starts, "the demo merchant started routed to {base_url}"),
            Err(e) => {
                assert!(!starts, "{base_url}: {e}");
                assert!(e.to_string().contains("demo merchant"), "{e}");
            }
        }
    }
}

/// Without the session's client secret, an attempt's body is never read:
/// the answer is `401` at once, however slowly the body would come (so an
/// anonymous client cannot hold a connection for the body's read timeout).
/// And asking for a 3DS page that does not exist never reaches the single
/// writer (it was a write transaction per request).
#[tokio::test]
async fn anonymous_requests_neither_wait_for_bodies_nor_reach_the_writer() {
    // The background workers stay quiet, so every write counted is a request's.
    let app = spawn_with(fresh_database_url(Backend::Sqlite).await, Receiver::start().await, |config| {
        config.timings.worker_tick = Duration::from_secs(3600);
    })
    .await;
    let (id, _secret) = app.new_session(&json!({"amount": 10_000, "reference": "INV-ANON"})).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /v1/widget/sessions/{id}/attempts HTTP/1.1\r\nHost: kasir\r\n\
         Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n{{\"method\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(15), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let answer = String::from_utf8_lossy(&answer).to_string();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?} after {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(2), "waited {:?} for the body", started.elapsed());

    let writes = || async {
        let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("kasir_store_writes_total ")?.trim().parse::<u64>().ok())
            .expect("kasir_store_writes_total")
    };
    let before = writes().await;
    for i in 0..50 {
        let res = app.client.get(app.url(&format!("/v1/widget/3ds/pa_made_up_{i}"))).send().await.unwrap();
        assert_eq!(res.status(), 401);
    }
    let after = writes().await;
    assert!(after - before < 5, "50 unknown 3DS pages made {} writes", after - before);
    app.stop().await;
}

/// Records past their retention are deleted (issue 15: nothing ever was):
/// an old session whose money is settled goes with its attempts and events,
/// an old one still open about its money stays, a young one stays, and old
/// idempotency records go.
#[tokio::test]
async fn records_past_their_retention_are_purged() {
    for backend in backends().await {
        let app = spawn_with(fresh_database_url(backend).await, Receiver::start().await, |c| {
            c.retention.records = Some(Duration::from_secs(30 * 86_400));
            c.retention.every = Duration::from_millis(200);
        })
        .await;
        let new = |reference: &'static str| {
            let (client, url) = (app.client.clone(), app.url("/v1/checkout_sessions"));
            async move {
                let res = client
                    .post(url)
                    .bearer_auth(KEY_A)
                    .header("Idempotency-Key", format!("key-{reference}"))
                    .json(&json!({"amount": 10_000, "reference": reference}))
                    .send()
                    .await
                    .unwrap();
                let s: Value = res.json().await.unwrap();
                (s["id"].as_str().unwrap().to_owned(), s["client_secret"].as_str().unwrap().to_owned())
            }
        };
        // Old and settled: cancelled (with its event).
        let (old, _) = new("INV-OLD").await;
        assert_eq!(
            app.post_a(&format!("/v1/checkout_sessions/{old}/cancel"), &json!({})).await.status(),
            200
        );
        // Old but a QR still waits for the shopper: money may still move.
        let (waiting, secret) = new("INV-WAITING").await;
        let a = widget_attempt(&app, &waiting, &secret, &json!({"method": "qris"})).await;
        assert_eq!(a.status(), 201);
        // Young and settled.
        let (young, _) = new("INV-YOUNG").await;
        assert_eq!(
            app.post_a(&format!("/v1/checkout_sessions/{young}/cancel"), &json!({})).await.status(),
            200
        );
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
        let long_ago = kasir_server::store::now_ms() - 31 * 86_400_000;
        for id in [&old, &waiting] {
            for sql in [
                "UPDATE checkout_sessions SET created_at = $1 WHERE id = $2",
                "UPDATE events SET created_at = $1 WHERE session_id = $2",
            ] {
                sqlx::query(sql).bind(long_ago).bind(id).execute(&pool).await.unwrap();
            }
        }
        sqlx::query("UPDATE idempotency_keys SET created_at = $1 WHERE idempotency_key = 'key-INV-OLD'")
            .bind(long_ago)
            .execute(&pool)
            .await
            .unwrap();
        eventually("the old session purged", || async {
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{old}")).await.status() == 404
        })
        .await;
        for id in [&waiting, &young] {
            assert_eq!(app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.status(), 200);
        }
        let count = |sql: &'static str, id: String| {
            let pool = pool.clone();
            async move {
                let n: i64 = sqlx::query_scalar(sql).bind(id).fetch_one(&pool).await.unwrap();
                n
            }
        };
        assert_eq!(count("SELECT COUNT(*) FROM events WHERE session_id = $1", old.clone()).await, 0);
        assert_eq!(count("SELECT COUNT(*) FROM attempts WHERE session_id = $1", waiting.clone()).await, 1);
        // Idempotency records go in the same pass, after the sessions: wait
        // for the pass to finish rather than race it.
        eventually("the old idempotency key purged", || async {
            count("SELECT COUNT(*) FROM idempotency_keys WHERE idempotency_key = $1", "key-INV-OLD".into())
                .await
                == 0
        })
        .await;
        let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("kasir_purged_total{kind=\"sessions\"}"), "{metrics}");
        pool.close().await;
        app.stop().await;
    }
}

/// Behind a trusted proxy every client shares the proxy's connections, so
/// the per-address connection cap cannot tell them apart (the review of
/// 2026-12-01: one client could pin every connection the proxy opens).
/// There each client's requests in flight are capped instead
/// (`max_connections_per_ip`): a client holding 4 trickled bodies is
/// refused a fifth request (`429`), another client is served, and the first
/// is served again once its requests end.
#[tokio::test]
async fn behind_a_proxy_one_client_cannot_hold_every_request() {
    let database_url = fresh_database_url(Backend::Sqlite).await;
    let app = spawn_with(database_url, Receiver::start().await, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.limits.max_connections_per_ip = 4;
    })
    .await;
    let addr = app.url("").trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /v1/checkout_sessions HTTP/1.1\r\nHost: kasir\r\nAuthorization: Bearer {KEY_A}\r\n\
         X-Forwarded-For: 203.0.113.5\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"amount\""
    );
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let health =
        |client: &'static str| app.client.get(app.url("/healthz")).header("x-forwarded-for", client).send();
    assert_error(health("203.0.113.5").await.unwrap(), 429, "rate_limit.exceeded").await;
    assert_eq!(health("198.51.100.7").await.unwrap().status(), 200, "another client is served");
    drop(held);
    eventually("the client's requests ended", || async {
        health("203.0.113.5").await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    app.stop().await;
}
