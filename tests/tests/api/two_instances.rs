//! Two server instances on one PostgreSQL, both running the delivery worker
//! and the reconciler, every provider callback sent to both at once (as
//! duplicates spread by a load balancer): one transition and one event per
//! change, and no merchant event ever delivered by both instances at the
//! same time.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{
    Backend, KasirProcess, PROCESS_KEY, Receiver, attempt_at, backends, create_session, fresh_database_url,
    smilepayz_simulator, spawn_with, widget_attempt,
};

/// A merchant endpoint that notices two deliveries of one event in flight
/// at once, and fails each event's first delivery so that retries happen.
#[derive(Clone, Default)]
struct Watchful {
    in_flight: Arc<Mutex<HashSet<String>>>,
    first_seen: Arc<Mutex<HashSet<String>>>,
    overlaps: Arc<AtomicUsize>,
    delivered: Arc<Mutex<BTreeMap<String, usize>>>,
    bodies: Arc<Mutex<BTreeMap<String, Value>>>,
}

async fn start(w: Watchful) -> String {
    let handler = move |headers: axum::http::HeaderMap, body: String| {
        let w = w.clone();
        async move {
            let id = headers.get("kasir-event-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            if !w.in_flight.lock().unwrap().insert(id.clone()) {
                w.overlaps.fetch_add(1, Ordering::SeqCst);
            }
            // Slow enough that a second worker would be caught in the act.
            tokio::time::sleep(Duration::from_millis(40)).await;
            w.in_flight.lock().unwrap().remove(&id);
            if w.first_seen.lock().unwrap().insert(id.clone()) {
                return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
            }
            *w.delivered.lock().unwrap().entry(id.clone()).or_default() += 1;
            w.bodies.lock().unwrap().insert(id, serde_json::from_str(&body).unwrap_or(Value::Null));
            axum::http::StatusCode::OK
        }
    };
    let app = axum::Router::new().route("/hooks", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// How many `checkout_session.succeeded` events each session has.
async fn successes_per_session(conn: &mut sqlx::AnyConnection) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT session_id, COUNT(*) FROM events WHERE event_type = 'checkout_session.succeeded' GROUP BY session_id",
    )
    .fetch_all(conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn two_instances_share_one_postgresql_without_doing_anything_twice() {
    if !backends().await.contains(&Backend::Postgres) {
        return;
    }
    let checkouts = 60;
    let sim = smilepayz_simulator().await;
    let receiver = Watchful::default();
    let hooks = start(receiver.clone()).await;
    let database_url = fresh_database_url(Backend::Postgres).await;
    let mut a = KasirProcess::configure(&database_url, &hooks, &sim.url);
    a.start().await; // runs the migrations first
    let mut b = KasirProcess::configure(&database_url, &hooks, &sim.url);
    b.start().await;
    let instances = [a.url(""), b.url("")];
    let http = reqwest::Client::new();

    let mut shoppers = tokio::task::JoinSet::new();
    for n in 0..checkouts {
        let (instances, sim, http) = (instances.clone(), sim.clone(), http.clone());
        shoppers.spawn(async move {
            // Create on one instance, pay on the other.
            let (one, other) = (&instances[n % 2], &instances[(n + 1) % 2]);
            let body = json!({"amount": 20_000 + n, "reference": format!("INV-TWO-{n}")});
            let (id, secret) = create_session(&http, one, PROCESS_KEY, &body).await;
            let res = attempt_at(&http, other, &id, &secret, &json!({"method": "qris"})).await;
            assert_eq!(res.status(), 201);
            let attempt: Value = res.json().await.unwrap();
            let order = sim.order_for_attempt(attempt["id"].as_str().unwrap()).unwrap();
            sim.set_status(&order.order_no, "SUCCESS");
            // The same callback to both instances at once, twice.
            let mode = kasir_tests::sim::smilepayz::CallbackMode::Valid;
            let (to_one, to_other) =
                (format!("{one}/webhooks/smilepayz"), format!("{other}/webhooks/smilepayz"));
            for _ in 0..2 {
                let (x, y) = tokio::join!(
                    sim.send_callback_to(&to_one, &order.order_no, mode),
                    sim.send_callback_to(&to_other, &order.order_no, mode),
                );
                assert_eq!((x.0, y.0), (200, 200), "both acknowledge: {x:?} {y:?}");
            }
            id
        });
    }
    let mut sessions = BTreeSet::new();
    while let Some(id) = shoppers.join_next().await {
        sessions.insert(id.unwrap());
    }

    // One succeeded event per session, written once however many callbacks.
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&database_url).await.unwrap();
    let per_session = successes_per_session(&mut conn).await;
    assert_eq!(per_session.len(), checkouts, "every session succeeded");
    assert!(per_session.iter().all(|(_, n)| *n == 1), "one event per transition: {per_session:?}");
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&mut conn).await.unwrap();

    // Every event delivered (after one refused try), never by both at once.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let delivered = receiver.delivered.lock().unwrap().len();
        if delivered as i64 == events {
            break;
        }
        assert!(Instant::now() < deadline, "{delivered} of {events} events delivered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Give a stray second delivery the time to show up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let delivered = receiver.delivered.lock().unwrap().clone();
    let twice: Vec<_> = delivered.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "events delivered successfully more than once: {twice:?}");
    assert_eq!(receiver.overlaps.load(Ordering::SeqCst), 0, "an event was delivered by two workers at once");
    let told: BTreeSet<String> = receiver
        .bodies
        .lock()
        .unwrap()
        .values()
        .filter(|v| v["type"] == "checkout_session.succeeded")
        .map(|v| v["data"]["object"]["id"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(told, sessions, "every success told to the merchant");
    eprintln!(
        "two instances: {checkouts} checkouts, {} callbacks (4 per payment, 2 at a time), {events} events, \
         {} deliveries refused once then retried, 0 overlapping deliveries, 0 double successes",
        checkouts * 4,
        receiver.first_seen.lock().unwrap().len(),
    );
    a.kill();
    b.kill();
}

/// The reconciler runs in both instances: an attempt whose outcome stays
/// unknown is asked about again and again, by one instance at a time (the claim is a lease
/// taken with `FOR UPDATE SKIP LOCKED`), never by both at once, however
/// often both look; and when the provider says it is paid, it succeeds once.
#[tokio::test]
async fn two_reconcilers_never_ask_about_one_attempt_at_once() {
    if !backends().await.contains(&Backend::Postgres) {
        return;
    }
    let payments = 12;
    let sim = smilepayz_simulator().await;
    // Slow answers widen the window in which a second asker would overlap;
    // failing ones keep the attempts unknown, so both reconcilers come back
    // to them every second.
    sim.slow_inquiries(Duration::from_millis(300));
    sim.fail_inquiries(true);
    let receiver = Watchful::default();
    let hooks = start(receiver.clone()).await;
    let database_url = fresh_database_url(Backend::Postgres).await;
    let mut a = KasirProcess::configure(&database_url, &hooks, &sim.url);
    a.start().await;
    let mut b = KasirProcess::configure(&database_url, &hooks, &sim.url);
    b.start().await;
    let instances = [a.url(""), b.url("")];
    let http = reqwest::Client::new();

    // Each pay-in is recorded by the provider but answered after Kasir's
    // 5-second timeout: every attempt is left unknown, for the reconcilers.
    for _ in 0..payments {
        sim.push_scenario(kasir_tests::sim::Scenario::NoAnswer(Duration::from_secs(6)));
    }
    let mut shoppers = tokio::task::JoinSet::new();
    for n in 0..payments {
        let (base, http) = (instances[n % 2].clone(), http.clone());
        shoppers.spawn(async move {
            let body = json!({"amount": 40_000 + n, "reference": format!("INV-REC-{n}")});
            let (id, secret) = create_session(&http, &base, PROCESS_KEY, &body).await;
            let res = attempt_at(&http, &base, &id, &secret, &json!({"method": "qris"})).await;
            let attempt: Value = res.json().await.unwrap();
            assert_eq!(attempt["status"], "unknown", "{attempt}");
            (id, attempt["id"].as_str().unwrap().to_owned())
        });
    }
    let mut attempts = Vec::new();
    while let Some(done) = shoppers.join_next().await {
        attempts.push(done.unwrap());
    }
    // Both reconcilers keep asking while the provider cannot say.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for (_, attempt) in &attempts {
        sim.set_status(&sim.order_for_attempt(attempt).unwrap().order_no, "SUCCESS");
    }
    sim.fail_inquiries(false);
    let deadline = Instant::now() + Duration::from_secs(60);
    for (id, _) in &attempts {
        loop {
            let s: Value = http
                .get(format!("{}/v1/checkout_sessions/{id}", instances[0]))
                .bearer_auth(PROCESS_KEY)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if s["status"] == "succeeded" {
                break;
            }
            assert!(Instant::now() < deadline, "not reconciled: {s}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    let inquiries = sim.inquiries();
    let mut by_order: BTreeMap<String, Vec<(Instant, Instant)>> = BTreeMap::new();
    for q in &inquiries {
        by_order.entry(q.order_no.clone()).or_default().push((q.started, q.answered));
    }
    assert_eq!(by_order.len(), payments, "every attempt was asked about");
    let mut overlaps = 0;
    for spans in by_order.values_mut() {
        spans.sort();
        overlaps += spans.windows(2).filter(|w| w[1].0 < w[0].1).count();
    }
    assert_eq!(overlaps, 0, "two reconcilers asked about one attempt at once");
    let asked_again = by_order.values().filter(|s| s.len() > 1).count();
    assert!(asked_again > 0, "the test must see attempts asked about more than once");

    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&database_url).await.unwrap();
    let per_session = successes_per_session(&mut conn).await;
    assert_eq!(per_session.len(), payments);
    assert!(per_session.iter().all(|(_, n)| *n == 1), "one success per session: {per_session:?}");
    eprintln!(
        "two reconcilers: {payments} unknown attempts, {} inquiries ({asked_again} attempts asked more than once), \
         0 overlapping, 1 success each",
        inquiries.len()
    );
    a.kill();
    b.kill();
}

/// Issue 21: on PostgreSQL an instance tells the others of each session
/// change (LISTEN/NOTIFY), so a shopper's live stream on one instance
/// follows a change made on another at once. The streams' own re-read is
/// set to a minute here, so only the notification can deliver in time.
#[tokio::test]
async fn a_change_on_one_instance_reaches_a_stream_on_another_at_once() {
    if !backends().await.contains(&Backend::Postgres) {
        return;
    }
    let database_url = fresh_database_url(Backend::Postgres).await;
    let slow_recheck = |c: &mut kasir_server::Config| c.timings.stream_recheck = Duration::from_secs(60);
    let a = spawn_with(database_url.clone(), Receiver::start().await, slow_recheck).await;
    let b = spawn_with(database_url, Receiver::start().await, slow_recheck).await;
    let (id, secret) = a.new_session(&json!({"amount": 40_000, "reference": "INV-LN"})).await;
    let mut stream = a
        .client
        .get(a.url(&format!("/v1/widget/sessions/{id}/events?client_secret={secret}")))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    read_until(&mut stream, &mut seen, "\"status\":\"open\"").await;
    // A QR is shown, through instance B.
    let res = widget_attempt(&b, &id, &secret, &json!({"method": "qris"})).await;
    assert_eq!(res.status(), 201);
    read_until(&mut stream, &mut seen, "show_qr").await;
    // The merchant cancels, through instance B.
    assert_eq!(b.post_a(&format!("/v1/checkout_sessions/{id}/cancel"), &json!({})).await.status(), 200);
    read_until(&mut stream, &mut seen, "\"status\":\"cancelled\"").await;
    a.stop().await;
    b.stop().await;
}

/// Reads the stream until `needle` has been seen (at most 15 s).
async fn read_until(stream: &mut reqwest::Response, seen: &mut String, needle: &str) {
    tokio::time::timeout(Duration::from_secs(15), async {
        while !seen.contains(needle) {
            let chunk = stream.chunk().await.unwrap().expect("the stream is open");
            seen.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the stream on instance A never showed {needle}"));
}
