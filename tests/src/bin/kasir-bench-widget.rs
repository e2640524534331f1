//! `cargo xtask bench` (widget part): time from navigation to an
//! interactive card form on the hosted page, in headless Chromium on
//! loopback, each load in a fresh browser profile (cold cache), the real
//! server on SQLite with the sandbox. Reads the page's own
//! `performance.mark("kasir-card-form")` (set when the card form is built,
//! after the session has loaded), relative to navigation start.

use std::time::Duration;

use kasir_server::config::MerchantConfig;
use kasir_server::{Config, Server};
use kasir_shared::secret::SecretString;
use kasir_tests::webdriver::{Driver, free_port};
use serde_json::{Value, json};

const KEY: &str = "sk_test_bench_widget_0123456789abcdef";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let loads: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(20);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let port = free_port();
    let db = std::env::temp_dir().join(format!("kasir_bench_{port}.db"));
    let mut merchant = MerchantConfig::new("bench", "Toko Bench", SecretString::new(KEY.into()));
    merchant.allowed_origins = vec![];
    let config = Config {
        listen: format!("127.0.0.1:{port}").parse().unwrap_or_else(|_| std::process::exit(2)),
        public_url: format!("http://127.0.0.1:{port}"),
        database_url: format!("sqlite://{}?mode=rwc", db.display()),
        merchants: vec![merchant],
        widget_dir: Some(root.join("dist")),
        ..Config::default()
    };
    let Ok(server) = Server::bind(config).await else {
        eprintln!("kasir-bench-widget: cannot start the server");
        return std::process::ExitCode::from(1);
    };
    tokio::spawn(server.run_until(std::future::pending()));
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut times = Vec::new();
    for _ in 0..loads {
        let Some(driver) = Driver::start().await else {
            eprintln!("kasir-bench-widget: chromedriver/chromium not found");
            return std::process::ExitCode::from(1);
        };
        let Ok(res) = http
            .post(format!("{base}/v1/checkout_sessions"))
            .bearer_auth(KEY)
            .json(&json!({"amount": 150000, "reference": "BENCH"}))
            .send()
            .await
        else {
            return std::process::ExitCode::from(1);
        };
        let session: Value = res.json().await.unwrap_or_default();
        let url = session["url"].as_str().unwrap_or_default().to_owned();
        driver.goto(&url).await;
        driver.wait("#card-number").await;
        let mark = driver
            .script("const m = performance.getEntriesByName('kasir-card-form'); return m.length ? m[0].startTime : null")
            .await;
        if let Some(ms) = mark.as_f64() {
            times.push(ms);
        }
        drop(driver);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = std::fs::remove_file(&db);
    if times.is_empty() {
        eprintln!("kasir-bench-widget: no measurement");
        return std::process::ExitCode::from(1);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "navigation -> card form ({} cold loads): median {:.0} ms, p90 {:.0} ms, min {:.0} ms, max {:.0} ms",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        times[0],
        times[times.len() - 1]
    );
    std::process::ExitCode::SUCCESS
}
