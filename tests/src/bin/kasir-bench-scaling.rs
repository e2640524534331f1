//! `cargo xtask bench` (scaling part): how Kasir's throughput, latency and
//! memory grow with the sessions it stores (10k, 100k, 1M rows in SQLite)
//! and with the shoppers watching their sessions live over Server-Sent
//! Events (100, 1,000, 10,000 open streams): the cost curve, not a point.
//!
//! Kasir runs as its own process (the release `kasir-server-under-test`
//! binary, given as the first argument or found beside this one), so its
//! memory is read alone from `/proc/<pid>/status` and the 10,000 streams'
//! sockets are split between two processes' file limits.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kasir_tests::load::{Make, Stats, closed_loop, percentile};
use serde_json::{Value, json};
use sqlx::Connection;

const KEY: &str = "sk_test_bench_scaling_0123456789abcdef";
const CARD: &str = "4242 4242 4242 4242";

/// One Kasir process on its own SQLite file.
struct Kasir {
    child: Child,
    base: String,
    dir: std::path::PathBuf,
}

impl Kasir {
    async fn start(exe: &std::path::Path) -> Option<Kasir> {
        let port = kasir_tests::webdriver::free_port();
        let dir = std::env::temp_dir().join(format!("kasir-scaling-{}", kasir_server::ids::random_token(8)));
        std::fs::create_dir_all(&dir).ok()?;
        let config = format!(
            "listen = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n\
             database_url = \"sqlite://{}/kasir.db?mode=rwc\"\nlog_format = \"json\"\n\
             [limits]\nattempts_per_ip_per_minute = 1000000000\ncards_per_ip_per_hour = 1000000000\n\
             [[merchants]]\nid = \"bench\"\ndisplay_name = \"Toko Bench\"\nsecret_key_env = \"BENCH_KEY\"\n",
            dir.display()
        );
        std::fs::write(dir.join("kasir.toml"), config).ok()?;
        let log = std::fs::File::create(dir.join("kasir.log")).ok()?;
        let child = Command::new(exe)
            .current_dir(&dir)
            .env("RUST_LOG", "warn")
            .env("BENCH_KEY", KEY)
            .stdin(Stdio::null())
            .stdout(log.try_clone().ok()?)
            .stderr(log)
            .spawn()
            .ok()?;
        let kasir = Kasir { child, base: format!("http://127.0.0.1:{port}"), dir };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if client.get(format!("{}/readyz", kasir.base)).send().await.is_ok_and(|r| r.status() == 200) {
                return Some(kasir);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}/kasir.db", self.dir.display())
    }

    /// Resident memory of the server process, MiB.
    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(f64::NAN);
        kib / 1024.0
    }

    /// The database file and its WAL, MiB.
    fn database_mib(&self) -> f64 {
        let size = |name: &str| std::fs::metadata(self.dir.join(name)).map_or(0, |m| m.len());
        (size("kasir.db") + size("kasir.db-wal")) as f64 / 1024.0 / 1024.0
    }
}

impl Drop for Kasir {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn create(base: &str) -> Make {
    let url = format!("{base}/v1/checkout_sessions");
    Arc::new(move |c, i| {
        c.post(&url).bearer_auth(KEY).json(&json!({"amount": 150000, "reference": format!("INV-SCALE-{i}")}))
    })
}

/// Sessions made through the API as fast as it takes them: (id, secret).
async fn sessions(base: &str, count: usize) -> Vec<(String, String)> {
    let client = reqwest::Client::new();
    let url = format!("{base}/v1/checkout_sessions");
    let mut made = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(64) {
        let mut batch = tokio::task::JoinSet::new();
        for &i in chunk {
            let request = client
                .post(&url)
                .bearer_auth(KEY)
                .json(&json!({"amount": 150000, "reference": format!("INV-SSE-{i}")}));
            batch.spawn(async move {
                let s: Value = request.send().await.ok()?.json().await.ok()?;
                Some((s["id"].as_str()?.to_owned(), s["client_secret"].as_str()?.to_owned()))
            });
        }
        while let Some(Ok(Some(s))) = batch.join_next().await {
            made.push(s);
        }
    }
    made
}

/// Adds `count` stored sessions straight into the database, as a busy
/// shop's history: past sessions, expired, of the benchmark's merchant.
async fn fill(database_url: &str, from: usize, count: usize) -> Option<()> {
    let mut conn = sqlx::SqliteConnection::connect(database_url).await.ok()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
    let batch = 100_000;
    let mut done = 0;
    while done < count {
        let n = batch.min(count - done);
        let first = from + done;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH RECURSIVE k(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM k WHERE i < {last}) \
             INSERT INTO checkout_sessions (id, merchant_id, status, amount, currency, reference, description, \
             payment_methods, customer, return_url, locale, metadata, client_secret, created_at, expires_at) \
             SELECT 'cs_fill' || i, 'bench', 'expired', 150000, 'IDR', 'INV-FILL-' || i, NULL, \
             '[\"card\",\"qris\",\"virtual_account\",\"ewallet\"]', '{{}}', NULL, 'id', '{{}}', 'x', \
             {now} - 86400000 - i, {now} - i FROM k",
            last = first + n - 1,
        )))
        .execute(&mut conn)
        .await
        .ok()?;
        done += n;
    }
    Some(())
}

fn retrieve(base: &str, stored: usize) -> Make {
    let base = base.to_owned();
    Arc::new(move |c, i| {
        // Spread over the stored rows (a fixed stride, coprime with the count).
        let n = (i * 7_919) % stored.max(1);
        c.get(format!("{base}/v1/checkout_sessions/cs_fill{n}")).bearer_auth(KEY)
    })
}

fn row(s: &Stats) -> String {
    format!("{:.0} | {:.2} | {:.2}", s.rps, s.p50, s.p99)
}

/// Throughput, latency and memory at 10k, 100k and 1M stored sessions.
async fn stored_rows(exe: &std::path::Path) -> Option<()> {
    let kasir = Kasir::start(exe).await?;
    let limit = Duration::from_secs(15);
    println!("\nStored sessions (SQLite; create and retrieve at 32 connections, closed loop):\n");
    println!(
        "| sessions stored | create req/s | create p50 ms | create p99 ms | retrieve req/s | retrieve p50 ms | retrieve p99 ms | server RSS MiB | database MiB | fill s |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut stored = 0;
    for target in [10_000, 100_000, 1_000_000] {
        let started = Instant::now();
        fill(&kasir.database_url(), stored, target - stored).await?;
        let filled = started.elapsed().as_secs_f64();
        stored = target;
        let created = closed_loop(&create(&kasir.base), 3_000, limit).await;
        let retrieved = closed_loop(&retrieve(&kasir.base, stored), 3_000, limit).await;
        if created.errors + retrieved.errors > 0 {
            eprintln!("scaling: {} create and {} retrieve errors", created.errors, retrieved.errors);
        }
        println!(
            "| {target} | {} | {} | {:.1} | {:.1} | {filled:.1} |",
            row(&created),
            row(&retrieved),
            kasir.rss_mib(),
            kasir.database_mib()
        );
    }
    Some(())
}

/// Shopper `n`'s page watching its session; reports when it saw success.
async fn listen(
    client: reqwest::Client,
    url: String,
    n: usize,
    seen: tokio::sync::mpsc::Sender<(usize, Instant)>,
) -> bool {
    let Ok(mut res) = client.get(url).send().await else { return false };
    if res.status() != 200 {
        return false;
    }
    tokio::spawn(async move {
        let mut text = String::new();
        while let Ok(Some(chunk)) = res.chunk().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains("\"succeeded\"") {
                let _ = seen.send((n, Instant::now())).await;
                return;
            }
            // Keep only the tail: a status name cannot straddle more.
            if text.len() > 4_096 {
                text.drain(..text.len() - 64);
            }
        }
    });
    true
}

/// Memory, card-attempt throughput and the time for a change to reach its
/// watcher, with 100, 1,000 and 10,000 streams open.
async fn listeners(exe: &std::path::Path) -> Option<()> {
    println!(
        "\nShoppers watching live (SSE streams open; card attempts on 200 of the watched sessions, 32 at a time):\n"
    );
    println!(
        "| streams | server RSS MiB idle | server RSS MiB with streams | KiB per stream | card attempts/s | attempt p99 ms | change seen by its stream p50 ms | p99 ms | seen |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for streams in [100usize, 1_000, 10_000] {
        let kasir = Kasir::start(exe).await?;
        let made = sessions(&kasir.base, streams).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle = kasir.rss_mib();
        let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().ok()?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, Instant)>(streams);
        let mut open = 0;
        for (c, chunk) in made.chunks(200).enumerate() {
            let mut batch = tokio::task::JoinSet::new();
            for (k, (id, secret)) in chunk.iter().enumerate() {
                let url = format!("{}/v1/widget/sessions/{id}/events?client_secret={secret}", kasir.base);
                batch.spawn(listen(client.clone(), url, c * 200 + k, tx.clone()));
            }
            while let Some(ok) = batch.join_next().await {
                open += usize::from(ok.unwrap_or(false));
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let with_streams = kasir.rss_mib();
        let paid = 200.min(made.len());
        let targets: Arc<Vec<(String, String)>> = Arc::new(made[..paid].to_vec());
        let base = kasir.base.clone();
        let sent_at = Arc::new(std::sync::Mutex::new(vec![None; paid]));
        let sent = sent_at.clone();
        let pay: Make = Arc::new(move |c, i| {
            let (id, secret) = &targets[i % targets.len()];
            if let Ok(mut s) = sent.lock()
                && let Some(slot) = s.get_mut(i)
            {
                *slot = Some(Instant::now());
            }
            c.post(format!("{base}/v1/widget/sessions/{id}/attempts")).bearer_auth(secret).json(&json!({
                "method": "card",
                "card": {"number": CARD, "expiry": "12/39", "cvv": "123", "holder_name": "Budi Santoso"}
            }))
        });
        let attempts = closed_loop(&pay, paid, Duration::from_secs(30)).await;
        // Each paid session's own stream: attempt sent → success seen.
        let starts = sent_at.lock().ok()?.clone();
        let mut delays = Vec::with_capacity(paid);
        let deadline = Instant::now() + Duration::from_secs(10);
        while delays.len() < paid && Instant::now() < deadline {
            if let Ok(Some((n, at))) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await
                && let Some(Some(sent)) = starts.get(n)
            {
                delays.push(at.saturating_duration_since(*sent).as_secs_f64() * 1000.0);
            }
        }
        delays.sort_by(f64::total_cmp);
        println!(
            "| {open} | {idle:.1} | {with_streams:.1} | {:.1} | {:.0} | {:.2} | {:.2} | {:.2} | {} / {paid} |",
            (with_streams - idle) * 1024.0 / open.max(1) as f64,
            attempts.rps,
            attempts.p99,
            percentile(&delays, 0.5),
            percentile(&delays, 0.99),
            delays.len()
        );
    }
    Some(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let exe = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .or_else(|| Some(std::env::current_exe().ok()?.parent()?.join("kasir-server-under-test")));
    let Some(exe) = exe.filter(|e| e.exists()) else {
        eprintln!("kasir-bench-scaling: build kasir-server-under-test (release) first, or pass its path");
        return std::process::ExitCode::FAILURE;
    };
    if stored_rows(&exe).await.is_none() {
        eprintln!("kasir-bench-scaling: the stored-rows run failed");
        return std::process::ExitCode::FAILURE;
    }
    if listeners(&exe).await.is_none() {
        eprintln!("kasir-bench-scaling: the listeners run failed");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
