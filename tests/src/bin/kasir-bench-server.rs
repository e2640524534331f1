//! `cargo xtask bench` (server part): requests per second and latency
//! percentiles on loopback, each Kasir figure beside a baseline measured in
//! the same run: a bare axum JSON echo served the same way. Load generator
//! and servers share this process and the machine's cores; ratios hold where
//! absolute figures drift.
//!
//! Each scenario runs closed-loop at a fixed concurrency (the saturating
//! rate), then open-loop at half that rate (the latency a shop sees when
//! the server is not saturated). Bounded by request count and time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use kasir_server::config::{Limits, MerchantConfig};
use kasir_server::{Config, Server};
use kasir_shared::secret::SecretString;
use serde_json::{Value, json};

const KEY: &str = "sk_test_bench_server_0123456789abcdef";
const SANDBOX_SECRET: &str = "sbx_whsec_bench_0123456789abcdef";
const CONCURRENCY: usize = 32;

/// Builds request `i`.
type Make = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

struct Stats {
    requests: usize,
    errors: usize,
    rps: f64,
    p50: f64,
    p99: f64,
    p999: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn stats(mut latencies_ms: Vec<f64>, errors: usize, elapsed: Duration) -> Stats {
    latencies_ms.sort_by(f64::total_cmp);
    Stats {
        requests: latencies_ms.len(),
        errors,
        rps: latencies_ms.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies_ms, 0.50),
        p99: percentile(&latencies_ms, 0.99),
        p999: percentile(&latencies_ms, 0.999),
    }
}

async fn one(client: &reqwest::Client, make: &Make, i: usize) -> (f64, bool) {
    let started = Instant::now();
    let ok = match make(client, i).send().await {
        Ok(r) => {
            let ok = r.status().is_success();
            let _ = r.bytes().await;
            ok
        }
        Err(_) => false,
    };
    (started.elapsed().as_secs_f64() * 1000.0, ok)
}

/// `CONCURRENCY` workers, each sending its next request as soon as the last
/// one is answered, until `total` requests or `limit` time.
async fn closed_loop(make: &Make, total: usize, limit: Duration) -> Stats {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().unwrap_or_default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (client, make, next) = (client.clone(), make.clone(), next.clone());
        workers.spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total || started.elapsed() > limit {
                    return (lat, errors);
                }
                let (ms, ok) = one(&client, &make, i).await;
                lat.push(ms);
                errors += usize::from(!ok);
            }
        });
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    while let Some(Ok((lat, e))) = workers.join_next().await {
        all.extend(lat);
        errors += e;
    }
    stats(all, errors, started.elapsed())
}

/// Requests started at a fixed `rate` per second whatever the answers do
/// (no coordinated omission), `offset` onwards in `make`'s numbering.
async fn open_loop(make: &Make, rate: f64, seconds: f64, offset: usize, cap: usize) -> Stats {
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap_or_default();
    let total = ((rate * seconds).max(1.0) as usize).min(cap);
    let gap = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let started = Instant::now();
    let mut inflight = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = started + gap.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let (client, make) = (client.clone(), make.clone());
        inflight.spawn(async move {
            // Latency counts from when the request was due, not sent.
            let (_, ok) = one(&client, &make, offset + i).await;
            (due.elapsed().as_secs_f64() * 1000.0, ok)
        });
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    while let Some(Ok((ms, ok))) = inflight.join_next().await {
        all.push(ms);
        errors += usize::from(!ok);
    }
    stats(all, errors, started.elapsed())
}

async fn kasir(database_url: String) -> Option<String> {
    let merchant = MerchantConfig::new("bench", "Toko Bench", SecretString::new(KEY.into()));
    let config = Config {
        listen: "127.0.0.1:0".parse().ok()?,
        public_url: "http://127.0.0.1".into(),
        database_url,
        merchants: vec![merchant],
        limits: Limits { attempts_per_ip_per_minute: u32::MAX, ..Limits::default() },
        sandbox_webhook_secret: SecretString::new(SANDBOX_SECRET.into()),
        ..Config::default()
    };
    let server = Server::bind(config).await.ok()?;
    let addr = server.local_addr().ok()?;
    tokio::spawn(server.run_until(std::future::pending()));
    Some(format!("http://{addr}"))
}

async fn echo() -> Option<String> {
    let app = axum::Router::new()
        .route("/echo", axum::routing::post(|Json(v): Json<Value>| async move { Json(v) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.ok()?;
    let url = format!("http://{}", listener.local_addr().ok()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Some(url)
}

async fn postgres_url() -> Option<String> {
    use sqlx::Connection;
    let admin = std::env::var("KASIR_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
    let name = format!("kasir_bench_{}", kasir_server::ids::random_token(10).to_lowercase());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.ok()?;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
    Some(format!("{base}/{name}"))
}

fn create(base: &str) -> Make {
    let url = format!("{base}/v1/checkout_sessions");
    Arc::new(move |c, i| {
        c.post(&url).bearer_auth(KEY).json(&json!({"amount": 150000, "reference": format!("INV-BENCH-{i}")}))
    })
}

/// Sessions made beforehand (untimed), each paid once by card in the run.
async fn card_attempts(base: &str, count: usize) -> Option<Make> {
    let client = reqwest::Client::new();
    let mut sessions = Vec::with_capacity(count);
    for i in 0..count {
        let s: Value = client
            .post(format!("{base}/v1/checkout_sessions"))
            .bearer_auth(KEY)
            .json(&json!({"amount": 150000, "reference": format!("INV-CARD-{i}")}))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        sessions.push((s["id"].as_str()?.to_owned(), s["client_secret"].as_str()?.to_owned()));
    }
    let (base, sessions) = (base.to_owned(), Arc::new(sessions));
    Some(Arc::new(move |c, i| {
        let (id, secret) = &sessions[i % sessions.len()];
        c.post(format!("{base}/v1/widget/sessions/{id}/attempts")).bearer_auth(secret).json(&json!({
            "method": "card",
            "card": {"number": "4242 4242 4242 4242", "expiry": "12/39", "cvv": "123", "holder_name": "Budi Santoso"}
        }))
    }))
}

/// One sandbox e-wallet payment's signed webhook, delivered again and again:
/// signature check, lookup and the idempotent (no-change) transition.
async fn webhooks(base: &str) -> Option<Make> {
    use hmac::{KeyInit, Mac};
    let client = reqwest::Client::new();
    let s: Value = client
        .post(format!("{base}/v1/checkout_sessions"))
        .bearer_auth(KEY)
        .json(&json!({"amount": 30000, "reference": "INV-HOOK"}))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let a: Value = client
        .post(format!("{base}/v1/widget/sessions/{}/attempts", s["id"].as_str()?))
        .bearer_auth(s["client_secret"].as_str()?)
        .json(&json!({"method": "ewallet", "wallet": "dana"}))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let payment_id = a["next_action"]["url"].as_str()?.rsplit('/').next()?.to_owned();
    let body = json!({"payment_id": payment_id, "status": "succeeded", "amount": 30000}).to_string();
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SANDBOX_SECRET.as_bytes()).ok()?;
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let signature = format!("t={t},v1={hex}");
    let url = format!("{base}/webhooks/sandbox");
    Some(Arc::new(move |c, _| {
        c.post(&url)
            .header("sandbox-signature", &signature)
            .header("content-type", "application/json")
            .body(body.clone())
    }))
}

fn row(name: &str, s: &Stats, baseline: Option<&Stats>) -> String {
    let ratio = baseline.map_or_else(|| "1.00".to_owned(), |b| format!("{:.2}", s.rps / b.rps));
    format!(
        "| {name} | {:.0} | {ratio} | {:.2} | {:.2} | {:.2} | {} / {} |",
        s.rps, s.p50, s.p99, s.p999, s.errors, s.requests
    )
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let total: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let limit = Duration::from_secs(15);
    let body = json!({"amount": 150000, "reference": "INV-BENCH"});
    let Some(echo_url) = echo().await else { return std::process::ExitCode::FAILURE };
    let echo_make: Make = {
        let url = format!("{echo_url}/echo");
        Arc::new(move |c, _| c.post(&url).json(&body))
    };
    let sqlite = format!(
        "sqlite://{}/kasir_bench_{}.db?mode=rwc",
        std::env::temp_dir().display(),
        kasir_server::ids::random_token(8)
    );
    let Some(lite) = kasir(sqlite).await else {
        eprintln!("kasir-bench-server: cannot start Kasir on SQLite");
        return std::process::ExitCode::FAILURE;
    };
    let pg = match postgres_url().await {
        Some(url) => kasir(url).await,
        None => None,
    };
    let mut scenarios: Vec<(&str, Make)> = vec![
        ("(a) baseline: axum JSON echo", echo_make),
        ("(b) POST /v1/checkout_sessions, SQLite", create(&lite)),
    ];
    match &pg {
        Some(pg) => scenarios.push(("(c) POST /v1/checkout_sessions, PostgreSQL", create(pg))),
        None => eprintln!("kasir-bench-server: PostgreSQL unreachable; (c) left out"),
    }
    let cards = total.min(3_000);
    match card_attempts(&lite, cards * 2).await {
        Some(m) => scenarios.push(("(d) card attempt (sandbox), SQLite", m)),
        None => eprintln!("kasir-bench-server: could not prepare card sessions"),
    }
    match webhooks(&lite).await {
        Some(m) => scenarios.push(("(e) signed webhook in (sandbox, HMAC), SQLite", m)),
        None => eprintln!("kasir-bench-server: could not prepare the webhook"),
    }

    let mut saturated = Vec::new();
    let mut half = Vec::new();
    for (name, make) in &scenarios {
        // Card attempts: each session is paid once; the closed loop takes
        // the first half of the sessions, the open loop the second.
        let n = if name.starts_with("(d)") { cards } else { total };
        let s = closed_loop(make, n, limit).await;
        eprintln!("{name}: {:.0} req/s at {CONCURRENCY} concurrent ({} requests)", s.rps, s.requests);
        let rate = s.rps / 2.0;
        let seconds = (n as f64 / 2.0 / rate).clamp(1.0, 5.0);
        let h = open_loop(make, rate, seconds, n, n).await;
        eprintln!("{name}: p99 {:.2} ms at {:.0} req/s (half)", h.p99, rate);
        saturated.push(s);
        half.push(h);
    }
    println!("\nAt {CONCURRENCY} concurrent connections (closed loop, saturating):\n");
    println!("| scenario | req/s | × baseline | p50 ms | p99 ms | p99.9 ms | errors / requests |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (i, ((name, _), s)) in scenarios.iter().zip(&saturated).enumerate() {
        println!("{}", row(name, s, (i > 0).then(|| &saturated[0])));
    }
    println!("\nAt half the saturating rate (open loop, fixed arrival rate):\n");
    println!("| scenario | req/s | × baseline | p50 ms | p99 ms | p99.9 ms | errors / requests |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (i, ((name, _), s)) in scenarios.iter().zip(&half).enumerate() {
        println!("{}", row(name, s, (i > 0).then(|| &half[0])));
    }
    std::process::ExitCode::SUCCESS
}
