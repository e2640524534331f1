//! `cargo xtask bench` (widget part): time from navigation to an
//! interactive card form on the hosted page, in headless Chromium on
//! loopback, each load in a fresh browser profile (cold cache), the real
//! server on SQLite with the sandbox. Reads the page's own
//! `performance.mark("kasir-card-form")` (set when the card form is built,
//! after the session has loaded), relative to navigation start.
//!
//! Then the same page under Chrome's "Slow 3G" profile (DevTools' preset:
//! 2,000 ms latency, 50,000 B/s each way, set through ChromeDriver): the
//! first contentful paint, when the amount is first on screen, and the card
//! form. `KASIR_BENCH_BEFORE_DIST=dir` measures another build of the widget
//! (an earlier commit's `dist/`) in the same run, for a before/after.

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
    let db = std::env::temp_dir().join(format!("kasir_bench_{}.db", free_port()));
    let Some(base) = serve(&db, root.join("dist")).await else {
        eprintln!("kasir-bench-widget: cannot start the server");
        return std::process::ExitCode::from(1);
    };
    let http = reqwest::Client::new();
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
    let slow: usize = std::env::var("KASIR_BENCH_SLOW3G").ok().and_then(|n| n.parse().ok()).unwrap_or(5);
    let mut builds = vec![("this build", base.clone())];
    if let Some(before) = std::env::var_os("KASIR_BENCH_BEFORE_DIST")
        && let Some(base) = serve(&db, before.into()).await
    {
        builds.push(("KASIR_BENCH_BEFORE_DIST", base));
    }
    if slow > 0 {
        println!(
            "\nUnder Chrome's Slow 3G profile (2,000 ms latency, 50,000 B/s), {slow} cold loads each, medians:\n"
        );
        println!("| widget | first contentful paint ms | amount on screen ms | card form ms |");
        println!("|---|---:|---:|---:|");
    }
    for (name, base) in builds.iter().filter(|_| slow > 0) {
        let (mut fcp, mut amount, mut form) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..slow {
            let Some(driver) = Driver::start().await else { return std::process::ExitCode::from(1) };
            let Some(url) = new_session(&http, base).await else { return std::process::ExitCode::from(1) };
            // Whether the page as served already shows the amount.
            let page = url.split('#').next().unwrap_or_default();
            let served = http.get(page).send().await.ok();
            let in_html = match served {
                Some(r) => r.text().await.unwrap_or_default().contains("Rp150.000"),
                None => false,
            };
            let conditions = json!({"network_conditions": {"offline": false, "latency": 2000,
                "download_throughput": 50_000, "upload_throughput": 50_000}});
            driver.cmd("POST", "/chromium/network_conditions", conditions).await;
            driver.goto(&url).await;
            let mut card = Value::Null;
            for _ in 0..600 {
                card = driver
                    .script("const m = performance.getEntriesByName('kasir-card-form'); return m.length ? m[0].startTime : null")
                    .await;
                if card.is_f64() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let paint = driver
                .script("const p = performance.getEntriesByName('first-contentful-paint'); return p.length ? p[0].startTime : null")
                .await;
            if let (Some(p), Some(c)) = (paint.as_f64(), card.as_f64()) {
                fcp.push(p);
                form.push(c);
                // Without it in the page, the widget shows it with the form.
                amount.push(if in_html { p } else { c });
            }
            drop(driver);
        }
        for v in [&mut fcp, &mut amount, &mut form] {
            v.sort_by(f64::total_cmp);
        }
        if fcp.is_empty() {
            eprintln!("kasir-bench-widget: no Slow 3G measurement for {name}");
            continue;
        }
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} |",
            percentile(&fcp, 0.5),
            percentile(&amount, 0.5),
            percentile(&form, 0.5)
        );
    }
    let _ = std::fs::remove_file(&db);
    std::process::ExitCode::SUCCESS
}

/// Kasir on SQLite (`db`) serving the widget in `dist`; its base URL.
async fn serve(db: &std::path::Path, dist: std::path::PathBuf) -> Option<String> {
    let port = free_port();
    let mut merchant = MerchantConfig::new("bench", "Toko Bench", SecretString::new(KEY.into()));
    merchant.allowed_origins = vec![];
    let config = Config {
        listen: format!("127.0.0.1:{port}").parse().ok()?,
        public_url: format!("http://127.0.0.1:{port}"),
        database_url: format!("sqlite://{}?mode=rwc", db.display()),
        merchants: vec![merchant],
        widget_dir: Some(dist),
        ..Config::default()
    };
    let server = Server::bind(config).await.ok()?;
    tokio::spawn(server.run_until(std::future::pending()));
    Some(format!("http://127.0.0.1:{port}"))
}

async fn new_session(http: &reqwest::Client, base: &str) -> Option<String> {
    let res = http
        .post(format!("{base}/v1/checkout_sessions"))
        .bearer_auth(KEY)
        .json(&json!({"amount": 150000, "reference": "BENCH", "description": "Kopi Gayo 250 g"}))
        .send()
        .await
        .ok()?;
    let session: Value = res.json().await.ok()?;
    session["url"].as_str().map(str::to_owned)
}
