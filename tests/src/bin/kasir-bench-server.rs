//! `cargo xtask bench` (server part): requests per second and latency
//! percentiles on loopback, each Kasir figure beside a baseline measured in
//! the same run: a bare axum JSON echo served the same way. Load generator
//! and servers share this process and the machine's cores; ratios hold where
//! absolute figures drift.
//!
//! Each scenario runs closed-loop at a fixed concurrency (the saturating
//! rate), then open-loop at half that rate (the latency a shop sees when
//! the server is not saturated). Bounded by request count and time.
//!
//! Last, end to end: a provider's success webhook sent to Kasir → the
//! merchant's webhook received by an endpoint in this process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use kasir_server::config::{Limits, MerchantConfig};
use kasir_server::{Config, Server};
use kasir_shared::secret::SecretString;
use serde_json::{Value, json};

const KEY: &str = "sk_test_bench_server_0123456789abcdef";
const SANDBOX_SECRET: &str = "sbx_whsec_bench_0123456789abcdef";
const HOOKS_KEY: &str = "sk_test_bench_hooks_0123456789abcdef";
const HOOKS_WHSEC: &str = "whsec_bench_hooks_0123456789abcdef";
use kasir_tests::load::{CONCURRENCY, Make, Stats, closed_loop, json_of, open_loop, percentile};

/// Kasir with two merchants: `bench` (no webhook endpoint, for the request
/// scenarios) and `hooks`, whose events go to `hooks_url`.
async fn kasir(database_url: String, hooks_url: &str) -> Option<String> {
    let merchant = MerchantConfig::new("bench", "Toko Bench", SecretString::new(KEY.into()));
    let mut hooks = MerchantConfig::new("hooks", "Toko Hooks", SecretString::new(HOOKS_KEY.into()));
    hooks.webhook_url = Some(hooks_url.to_owned());
    hooks.webhook_secret = Some(SecretString::new(HOOKS_WHSEC.into()));
    let config = Config {
        listen: "127.0.0.1:0".parse().ok()?,
        public_url: "http://127.0.0.1".into(),
        database_url,
        merchants: vec![merchant, hooks],
        limits: Limits {
            attempts_per_ip_per_minute: u32::MAX,
            cards_per_ip_per_hour: u32::MAX,
            // All the load comes from one address: when latency spikes,
            // the open loop has more requests in flight than the default
            // 256 connections per address, and the refusals would be the
            // defence at work, not the server's capacity.
            max_connections_per_ip: 4096,
            ..Limits::default()
        },
        sandbox_webhook_secret: SecretString::new(SANDBOX_SECRET.into()),
        allow_private_webhook_urls: true,
        // As the server reads it: FULL unless KASIR_SQLITE_SYNCHRONOUS says normal.
        sqlite_synchronous: std::env::var("KASIR_SQLITE_SYNCHRONOUS")
            .ok()
            .and_then(|m| kasir_server::store::SqliteSynchronous::parse(&m))
            .unwrap_or_default(),
        ..Config::default()
    };
    let server = Server::bind(config).await.ok()?;
    let addr = server.local_addr().ok()?;
    tokio::spawn(server.run_until(std::future::pending()));
    Some(format!("http://{addr}"))
}

/// Group commit's counters from Kasir's `/metrics` (loopback, no token):
/// commits made and writes carried.
async fn group_commit(base: &str) -> Option<(u64, u64)> {
    let text = reqwest::get(format!("{base}/metrics")).await.ok()?.text().await.ok()?;
    let read = |name: &str| {
        text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse::<u64>().ok())
    };
    Some((read("kasir_store_commits_total")?, read("kasir_store_writes_total")?))
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

/// A session made untimed, outside the measured requests: id and secret.
async fn new_session(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    amount: u64,
    reference: &str,
) -> Option<(String, String)> {
    let s = json_of(
        client
            .post(format!("{base}/v1/checkout_sessions"))
            .bearer_auth(key)
            .json(&json!({"amount": amount, "reference": reference})),
    )
    .await?;
    Some((s["id"].as_str()?.to_owned(), s["client_secret"].as_str()?.to_owned()))
}

/// Sessions made beforehand (untimed), each paid once by card in the run.
async fn card_attempts(base: &str, count: usize) -> Option<Make> {
    let client = reqwest::Client::new();
    let mut sessions = Vec::with_capacity(count);
    for i in 0..count {
        sessions.push(new_session(&client, base, KEY, 150_000, &format!("INV-CARD-{i}")).await?);
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

/// A sandbox DANA payment awaiting the shopper, made untimed: the session id
/// and the sandbox's payment id (from its page URL).
async fn wallet_payment(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    n: usize,
) -> Option<(String, String)> {
    let (id, secret) = new_session(client, base, key, 30_000, &format!("INV-HOOK-{n}")).await?;
    let a = json_of(
        client
            .post(format!("{base}/v1/widget/sessions/{id}/attempts"))
            .bearer_auth(secret)
            .json(&json!({"method": "ewallet", "wallet": "dana"})),
    )
    .await?;
    let payment_id = a["next_action"]["url"].as_str()?.rsplit('/').next()?.to_owned();
    Some((id, payment_id))
}

/// The sandbox's success webhook for `payment_id`: body and signature.
fn sandbox_success(payment_id: &str) -> Option<(String, String)> {
    use hmac::{KeyInit, Mac};
    let body = json!({"payment_id": payment_id, "status": "succeeded", "amount": 30000}).to_string();
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SANDBOX_SECRET.as_bytes()).ok()?;
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    Some((body, format!("t={t},v1={hex}")))
}

/// One sandbox e-wallet payment's signed webhook, delivered again and again:
/// signature check, lookup and the idempotent (no-change) transition.
async fn webhooks(base: &str) -> Option<Make> {
    let client = reqwest::Client::new();
    let (_, payment_id) = wallet_payment(&client, base, KEY, 0).await?;
    let (body, signature) = sandbox_success(&payment_id)?;
    let url = format!("{base}/webhooks/sandbox");
    Some(Arc::new(move |c, _| {
        c.post(&url)
            .header("sandbox-signature", &signature)
            .header("content-type", "application/json")
            .body(body.clone())
    }))
}

/// When each session's `checkout_session.succeeded` reached the merchant.
type Arrivals = Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>>;

/// The merchant's webhook endpoint, answering 200 at once.
async fn merchant_endpoint(arrivals: Arrivals) -> Option<String> {
    let handler = move |body: String| {
        let arrivals = arrivals.clone();
        async move {
            let now = Instant::now();
            if let Ok(v) = serde_json::from_str::<Value>(&body)
                && v["type"] == "checkout_session.succeeded"
                && let Some(id) = v["data"]["object"]["id"].as_str()
                && let Ok(mut seen) = arrivals.lock()
            {
                seen.entry(id.to_owned()).or_insert(now);
            }
            axum::http::StatusCode::OK
        }
    };
    let app = axum::Router::new().route("/hooks", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.ok()?;
    let url = format!("http://{}/hooks", listener.local_addr().ok()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Some(url)
}

/// End to end: the provider's success webhook sent → the merchant's
/// webhook received, for `count` payments sent `gap` apart (open loop).
/// Latencies in ms, and how many never arrived within 10 s.
async fn end_to_end(
    base: &str,
    arrivals: &Arrivals,
    count: usize,
    gap: Duration,
) -> Option<(Vec<f64>, usize)> {
    let client = reqwest::Client::new();
    let mut payments = Vec::with_capacity(count);
    for n in 0..count {
        payments.push(wallet_payment(&client, base, HOOKS_KEY, n).await?);
    }
    let url = format!("{base}/webhooks/sandbox");
    let started = Instant::now();
    let mut sent = tokio::task::JoinSet::new();
    for (i, (id, payment_id)) in payments.into_iter().enumerate() {
        tokio::time::sleep_until((started + gap.mul_f64(i as f64)).into()).await;
        let (body, signature) = sandbox_success(&payment_id)?;
        let request = client
            .post(&url)
            .header("sandbox-signature", signature)
            .header("content-type", "application/json")
            .body(body);
        sent.spawn(async move {
            let at = Instant::now();
            let ok = request.send().await.is_ok_and(|r| r.status().is_success());
            (id, at, ok)
        });
    }
    let mut sent_at = Vec::with_capacity(count);
    while let Some(Ok((id, at, ok))) = sent.join_next().await {
        if ok {
            sent_at.push((id, at));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while arrivals.lock().ok()?.len() < sent_at.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = arrivals.lock().ok()?;
    let mut latencies: Vec<f64> = sent_at
        .iter()
        .filter_map(|(id, at)| Some(seen.get(id)?.duration_since(*at).as_secs_f64() * 1000.0))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let lost = count - latencies.len();
    Some((latencies, lost))
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
    let arrivals: Arrivals = Arrivals::default();
    let Some(hooks_url) = merchant_endpoint(arrivals.clone()).await else {
        return std::process::ExitCode::FAILURE;
    };
    let Some(lite) = kasir(sqlite, &hooks_url).await else {
        eprintln!("kasir-bench-server: cannot start Kasir on SQLite");
        return std::process::ExitCode::FAILURE;
    };
    let pg = match postgres_url().await {
        Some(url) => kasir(url, &hooks_url).await,
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

    // KASIR_BENCH_ONLY=d (say) runs only those scenarios, beside the
    // baseline, e.g. under a profiler; `x` is the end-to-end run.
    let only = std::env::var("KASIR_BENCH_ONLY").ok();
    let wanted = |letter: char| only.as_deref().is_none_or(|o| letter == 'a' || o.contains(letter));
    scenarios.retain(|(name, _)| name.chars().nth(1).is_some_and(wanted));

    let mut saturated = Vec::new();
    let mut half = Vec::new();
    let mut grouped = Vec::new();
    for (name, make) in &scenarios {
        let before = group_commit(&lite).await;
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
        if name.contains("SQLite")
            && let (Some((c0, w0)), Some((c1, w1))) = (before, group_commit(&lite).await)
        {
            grouped.push((*name, c1 - c0, w1 - w0));
        }
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
    if !grouped.is_empty() {
        println!(
            "\nGroup commit on SQLite (both loops of each scenario, with the background workers' writes):\n"
        );
        println!("| scenario | commits | writes | writes per commit |");
        println!("|---|---:|---:|---:|");
        for (name, commits, writes) in grouped {
            let per = if commits == 0 { 0.0 } else { writes as f64 / commits as f64 };
            println!("| {name} | {commits} | {writes} | {per:.1} |");
        }
    }
    // End to end, on SQLite: 400 payments, one every 10 ms (100/s).
    let (count, gap) = std::env::var("KASIR_BENCH_E2E")
        .ok()
        .and_then(|v| {
            let (n, ms) = v.split_once(',')?;
            Some((n.parse().ok()?, Duration::from_millis(ms.parse().ok()?)))
        })
        .unwrap_or((400, Duration::from_millis(10)));
    let e2e = if wanted('x') { end_to_end(&lite, &arrivals, count, gap).await } else { None };
    match e2e {
        Some((ms, lost)) => {
            println!(
                "\nEnd to end (SQLite): provider success webhook sent -> merchant webhook received, \
                 {count} payments at {:.0}/s:\n",
                1.0 / gap.as_secs_f64()
            );
            println!("| payments | p50 ms | p90 ms | p99 ms | max ms | not arrived in 10 s |");
            println!("|---:|---:|---:|---:|---:|---:|");
            println!(
                "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {lost} |",
                ms.len(),
                percentile(&ms, 0.50),
                percentile(&ms, 0.90),
                percentile(&ms, 0.99),
                ms.last().copied().unwrap_or(f64::NAN)
            );
        }
        None if wanted('x') => eprintln!("kasir-bench-server: could not prepare the end-to-end payments"),
        None => {}
    }
    std::process::ExitCode::SUCCESS
}
