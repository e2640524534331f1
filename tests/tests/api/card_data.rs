//! Card data never rests, secrets never leak: the real server
//! (`kasir-simulate`, a separate process logging at `debug` in JSON) takes
//! card payments through every card provider (the sandbox, and the SingaPay,
//! Smart Glocal and Midtrans simulators; Midtrans takes the card in its
//! token request's query string) with known test cards, good, declined, 3DS,
//! answered too late, mistyped and malformed; then every byte it left is
//! scanned: its log lines (stdout and stderr, panics included), the SQLite
//! file with its WAL, every PostgreSQL table, and the webhooks the merchant
//! received. Not one PAN (plain, spaced or dashed), CVV, expiry, provider
//! secret, merchant key or client secret may appear.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::{Connection, Row};

use crate::helpers::{
    Backend, Receiver, backends, billing, card_with, create_session, fixture, fresh_database_url,
    full_customer,
};

const MERCHANT_KEY: &str = "sk_test_scan_7Hq2Lw9Zp4Xv6Nc1Rb8Ty3Md";
const WEBHOOK_SECRET: &str = "whsec_scan_5Gk8Pw2Qz7Lm4Vx9";
/// kasir-simulate's provider secrets (SingaPay client secret, Smilepayz
/// merchant secret) and a line of the fixture private keys it signs with.
const PROVIDER_SECRETS: [&str; 1] = ["simulated-secret-0123456789"];

/// The test cards: each used in the requests below.
const PANS: [&str; 7] = [
    "4242424242424242", // approved
    "5555555555554444", // approved (Mastercard)
    "378282246310005",  // approved (Amex, four-digit CVV)
    "4000000000003220", // 3DS
    "4000000000000002", // declined
    "4000000000000119", // charged, answered too late (SingaPay)
    "4242424242424241", // fails the Luhn check: refused before any provider
];
/// Distinct CVVs and an expiry, searched for next to their names.
const CVV: &str = "947";
const CVV_AMEX: &str = "3846";
const EXPIRY: (&str, &str) = ("07", "38");

/// The forms a PAN could take in text: plain, grouped by spaces or dashes.
fn pan_forms(pan: &str) -> Vec<String> {
    let groups: Vec<&str> = if pan.len() == 15 {
        // Amex: 4-6-5.
        vec![&pan[..4], &pan[4..10], &pan[10..]]
    } else {
        (0..pan.len()).step_by(4).map(|i| &pan[i..(i + 4).min(pan.len())]).collect()
    };
    vec![pan.to_owned(), groups.join(" "), groups.join("-")]
}

/// Every needle that must not be found, with what it is.
fn needles(client_secrets: &[String]) -> Vec<(String, String)> {
    let mut n = Vec::new();
    for pan in PANS {
        for form in pan_forms(pan) {
            n.push((form, format!("PAN {pan}")));
        }
    }
    for cvv in [CVV, CVV_AMEX] {
        for form in [format!("\"{cvv}\""), format!("={cvv}"), format!(": {cvv}"), format!(":{cvv}")] {
            n.push((form, format!("CVV {cvv}")));
        }
    }
    let (mm, yy) = EXPIRY;
    for form in
        [format!("{mm}/{yy}"), format!("{mm} / {yy}"), format!("\"{mm}{yy}\""), format!("\"{yy}{mm}\"")]
    {
        n.push((form, "expiry".into()));
    }
    n.push((MERCHANT_KEY.into(), "merchant secret key".into()));
    n.push((WEBHOOK_SECRET.into(), "merchant webhook secret".into()));
    for s in PROVIDER_SECRETS {
        n.push((s.into(), "provider secret".into()));
    }
    // Midtrans's Basic credentials, as they would appear in a logged header.
    {
        use base64::Engine;
        let basic =
            base64::engine::general_purpose::STANDARD.encode("SB-Mid-server-simulated-secret-0123456789:");
        n.push((basic, "Midtrans server key (Basic)".into()));
    }
    for key in ["merchant.key.pem", "smartglocal_partner.key.pem"] {
        let pem = fixture(key);
        let line = pem.lines().nth(3).unwrap().to_owned();
        n.push((line, format!("private key {key}")));
    }
    for s in client_secrets {
        n.push((s.clone(), "client secret (logs only)".into()));
    }
    n
}

/// Finds every needle in `haystack`; returns "what (where)" for each hit.
fn scan(haystack: &str, needles: &[(String, String)], place: &str) -> Vec<String> {
    needles
        .iter()
        .filter(|(needle, _)| haystack.contains(needle.as_str()))
        .map(|(needle, what)| {
            let at = haystack.find(needle.as_str()).unwrap_or(0);
            let start = haystack.floor_char_boundary(at.saturating_sub(80));
            let end = haystack.ceil_char_boundary((at + needle.len() + 80).min(haystack.len()));
            format!("{what} in {place}: …{}…", &haystack[start..end])
        })
        .collect()
}

struct Run {
    logs: String,
    log_lines: usize,
    client_secrets: Vec<String>,
    attempts: usize,
    webhooks: Vec<String>,
}

/// Starts kasir-simulate with `card` routed to `provider` on `database_url`,
/// makes the payments, stops it with SIGTERM and returns what it printed.
async fn run(provider: &str, database_url: &str) -> Run {
    let receiver = Receiver::start().await;
    let port = kasir_tests::webdriver::free_port();
    let workdir = std::env::temp_dir().join(format!("kasir-scan-{}", kasir_server::ids::random_token(8)));
    std::fs::create_dir_all(&workdir).unwrap();
    // More attempts from one address than the card-testing limit allows in
    // production, and a reconciler quick enough to settle the late answer.
    std::fs::write(
        workdir.join("kasir.toml"),
        "[limits]\nattempts_per_ip_per_minute = 1000\ncards_per_ip_per_hour = 1000\n[timings]\nreconcile_after_secs = 1\nworker_tick_ms = 200\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kasir-simulate"))
        .args(["--card", provider])
        .current_dir(&workdir)
        .env("RUST_LOG", "debug")
        .env("RUST_BACKTRACE", "1")
        .env("KASIR_LOG_FORMAT", "json")
        .env("KASIR_LISTEN", format!("127.0.0.1:{port}"))
        .env("KASIR_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("KASIR_DATABASE_URL", database_url)
        .env("KASIR_MERCHANT_ID", "toko_scan")
        .env("KASIR_MERCHANT_NAME", "Toko Scan")
        .env("KASIR_MERCHANT_SECRET_KEY", MERCHANT_KEY)
        .env("KASIR_MERCHANT_WEBHOOK_URL", &receiver.url)
        .env("KASIR_ALLOW_PRIVATE_WEBHOOK_URLS", "true")
        .env("KASIR_MERCHANT_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kasir-simulate starts");
    let collect = |pipe: Box<dyn std::io::Read + Send>| {
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        rx
    };
    let stdout = collect(Box::new(child.stdout.take().unwrap()));
    let stderr = collect(Box::new(child.stderr.take().unwrap()));
    let mut lines: Vec<String> = Vec::new();
    let mut control = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while control.is_empty() {
        assert!(std::time::Instant::now() < deadline, "kasir-simulate did not start: {lines:?}");
        if let Ok(line) = stdout.recv_timeout(Duration::from_millis(100)) {
            if let Some(rest) = line.trim().strip_prefix("shopper") {
                control = rest.trim().split("/attempts").next().unwrap_or("").to_owned();
            }
            lines.push(line);
        }
        lines.extend(stderr.try_iter());
    }
    let api = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut client_secrets = Vec::new();
    let mut attempts = 0;

    let (mm, yy) = EXPIRY;
    // What every card provider asks for: SingaPay a billing address, Smart
    // Glocal a NIK.
    let card = |number: String, cvv: &str, expiry: String| {
        let mut body = card_with(&number, &expiry, cvv, "Budi Santoso");
        body["nik"] = json!("3174054507900012");
        body["billing"] = billing();
        body
    };
    for (i, pan) in PANS.iter().enumerate() {
        let body = json!({"amount": 150_000 + i as u64 * 1000, "reference": "INV-SCAN", "customer": full_customer()});
        let (id, secret) = create_session(&http, &api, MERCHANT_KEY, &body).await;
        client_secrets.push(secret.clone());
        let forms = pan_forms(pan);
        let cvv = if pan.len() == 15 { CVV_AMEX } else { CVV };
        // Each PAN typed as a shopper might: plain, spaced, dashed.
        let number = forms[i % 3].clone();
        let expiry = if i % 2 == 0 { format!("{mm}/{yy}") } else { format!("{mm}{yy}") };
        let url = format!("{api}/v1/widget/sessions/{id}/attempts");
        // Mistakes first: a past expiry, a short CVV, a malformed body that
        // still carries the card, and unknown fields next to it.
        let mistakes = [
            card(number.clone(), cvv, "01/20".into()).to_string(),
            card(number.clone(), "12", expiry.clone()).to_string(),
            format!("{{\"method\":\"card\",\"card\":{{\"number\":\"{number}\",\"cvv\":\"{cvv}\",\"expiry\":\"{expiry}\""),
            json!({"method": "card", "card": {"number": number, "expiry": expiry, "cvv": cvv, "holder_name": "B", "pan": number}}).to_string(),
            json!({"method": "card", "card": {"number": [number], "expiry": expiry, "cvv": cvv}}).to_string(),
        ];
        for body in mistakes {
            let res = http
                .post(&url)
                .bearer_auth(&secret)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_client_error(), "a mistake is refused: {}", res.status());
            let text = res.text().await.unwrap();
            assert!(
                !text.contains(pan) && !text.contains(&number),
                "the error does not echo the card: {text}"
            );
        }
        let res = http
            .post(&url)
            .bearer_auth(&secret)
            .json(&card(number.clone(), cvv, expiry.clone()))
            .send()
            .await
            .unwrap();
        attempts += 1;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(!text.contains(pan) && !text.contains(&number), "the answer does not echo the card: {text}");
        if *pan == "4242424242424241" {
            assert_eq!(status, 422, "{text}");
            continue;
        }
        let a: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        // Pass 3DS where a simulator holds the attempt.
        if let Some(attempt) = a["id"].as_str()
            && a["status"] == "requires_action"
            && provider != "sandbox"
        {
            let _ = http.post(format!("{control}/attempts/{attempt}/pay")).send().await;
        }
        // The shopper's page reads the session too.
        let view = http
            .get(format!("{api}/v1/widget/sessions/{id}"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!view.contains(pan));
    }
    // Let the workers poll, settle and deliver what they can.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let exited = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(exited.success(), "kasir-simulate stopped cleanly: {exited}");
    lines.extend(stdout.iter());
    lines.extend(stderr.iter());
    let _ = std::fs::remove_dir_all(&workdir);
    let webhooks = receiver.received.lock().unwrap().iter().map(|r| r.body.clone()).collect();
    Run { log_lines: lines.len(), logs: lines.join("\n"), client_secrets, attempts, webhooks }
}

/// Every table of the database as text, and the number of rows.
async fn database_text(backend: Backend, database_url: &str) -> (String, usize) {
    match backend {
        Backend::Sqlite => {
            let path = database_url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
            let mut text = String::new();
            for suffix in ["", "-wal", "-shm", "-journal"] {
                if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                    text.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
            // Rows also as text, in case a value is stored compressed or split.
            let mut conn = sqlx::SqliteConnection::connect(database_url).await.unwrap();
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
            let mut rows = 0;
            for t in tables {
                let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{t}')"
                )))
                .fetch_all(&mut conn)
                .await
                .unwrap();
                let concat = columns
                    .iter()
                    .map(|c| format!("COALESCE(CAST(\"{c}\" AS BLOB), X'')"))
                    .collect::<Vec<_>>()
                    .join(" || X'7c' || ");
                let values: Vec<Vec<u8>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT CAST({concat} AS BLOB) FROM \"{t}\""
                )))
                .fetch_all(&mut conn)
                .await
                .unwrap();
                rows += values.len();
                for v in values {
                    text.push_str(&String::from_utf8_lossy(&v));
                    text.push('\n');
                }
            }
            (text, rows)
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(database_url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables \
                 WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let mut text = String::new();
            let mut rows = 0;
            for t in tables {
                let values = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT t::text AS row FROM {t} t")))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
                rows += values.len();
                for v in values {
                    text.push_str(&v.get::<String, _>("row"));
                    text.push('\n');
                }
            }
            (text, rows)
        }
    }
}

#[tokio::test]
async fn no_card_data_or_secret_is_found_in_logs_database_or_webhooks() {
    // The scanner finds what it looks for.
    let probe = needles(&["cs_probe_secret_x".into()]);
    for text in ["4242 4242 4242 4242", "{\"cvv\":\"947\"}", "exp 07/38", MERCHANT_KEY, "3782-822463-10005"] {
        assert!(!scan(text, &probe, "probe").is_empty(), "the scanner misses {text}");
    }
    assert!(scan("amount 150000 at 2026-11-24T07:38:47Z", &probe, "probe").is_empty(), "no false alarm");
    let mut found = Vec::new();
    let mut summary = Vec::new();
    for backend in backends().await {
        for provider in ["sandbox", "singapay", "smartglocal", "midtrans"] {
            let database_url = fresh_database_url(backend).await;
            let run = run(provider, &database_url).await;
            let all = needles(&run.client_secrets);
            // The database holds client secrets by design (the widget's
            // credential); everything else is forbidden there too.
            let in_db: Vec<_> =
                all.iter().filter(|(_, what)| !what.starts_with("client secret")).cloned().collect();
            let (db, rows) = database_text(backend, &database_url).await;
            assert!(rows > 0, "the run wrote rows");
            assert!(run.logs.contains("\"level\":\"DEBUG\""), "the scan saw debug logs");
            found.extend(scan(&run.logs, &all, &format!("{provider}/{backend:?} logs")));
            found.extend(scan(&db, &in_db, &format!("{provider}/{backend:?} database")));
            found.extend(scan(&run.webhooks.join("\n"), &all, &format!("{provider}/{backend:?} webhooks")));
            summary.push(format!(
                "{provider}/{backend:?}: {} attempts, {} log lines, {} database rows ({} bytes), {} webhooks",
                run.attempts,
                run.log_lines,
                rows,
                db.len(),
                run.webhooks.len()
            ));
        }
    }
    // The figures SECURITY.md reports.
    eprintln!("card-data scan:\n  {}", summary.join("\n  "));
    assert!(found.is_empty(), "card data or secrets found:\n{}", found.join("\n"));
}
