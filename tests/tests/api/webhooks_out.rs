//! Merchant webhooks: retries with backoff, a restart in the middle of the
//! retries, redelivery by hand; and the expiry clock. Both backends.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    Backend, KEY_A, Receiver, TestApp, assert_error, backends, eventually, force_expiry, fresh_database_url,
    spawn_app, spawn_with,
};

async fn paid_session(app: &TestApp) -> String {
    let res = app.post_a("/v1/checkout_sessions", &json!({"amount": 20_000, "reference": "INV-HOOK"})).await;
    let body: Value = res.json().await.unwrap();
    let (id, secret) = (body["id"].as_str().unwrap().to_owned(), body["client_secret"].as_str().unwrap());
    let res = app
        .client
        .post(app.url(&format!("/v1/widget/sessions/{id}/attempts")))
        .bearer_auth(secret)
        .json(&json!({"method": "card", "card": {"number": "4242424242424242", "expiry": "12/39", "cvv": "123", "holder_name": "Siti Aminah"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    id
}

fn received_ids(receiver: &Receiver, event_type: &str) -> Vec<String> {
    receiver.events_of(event_type).iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_event_id() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        // Three failures, spread over the two events (processing, succeeded)
        // in whatever order the worker sends them.
        app.receiver.fail_next.store(3, Ordering::SeqCst);
        paid_session(&app).await;
        let events: Value = app.get_as(KEY_A, "/v1/events").await.json().await.unwrap();
        let ids: Vec<String> =
            events["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids.len(), 2);
        for id in &ids {
            eventually("delivered", || async {
                let e: Value = app.get_as(KEY_A, &format!("/v1/events/{id}")).await.json().await.unwrap();
                e["delivery"]["state"] == "delivered"
            })
            .await;
        }
        let received = app.receiver.received.lock().unwrap().clone();
        assert_eq!(received.len(), 5, "{backend:?}");
        for id in &ids {
            let e: Value = app.get_as(KEY_A, &format!("/v1/events/{id}")).await.json().await.unwrap();
            let copies = received.iter().filter(|r| r.event_id == *id).count();
            assert_eq!(e["delivery"]["attempts"], copies as i64, "{e}");
        }
        let path = format!("/v1/events/{}", received_ids(&app.receiver, "checkout_session.succeeded")[0]);
        let before = received_ids(&app.receiver, "checkout_session.succeeded").len();

        // Redelivery by hand sends the very same event again.
        let res = app.post_a(&format!("{path}/redeliver"), &json!({})).await;
        assert_eq!(res.status(), 200, "{backend:?}");
        eventually("redelivered", || async {
            received_ids(&app.receiver, "checkout_session.succeeded").len() == before + 1
        })
        .await;
        let ids = received_ids(&app.receiver, "checkout_session.succeeded");
        assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
        assert_error(
            app.post_a("/v1/events/evt_nope/redeliver", &json!({})).await,
            404,
            "resource.not_found",
        )
        .await;
    }
}

#[tokio::test]
async fn a_restart_in_the_middle_of_retries_loses_no_event() {
    for backend in backends().await {
        let slow = |c: &mut kasir_server::Config| {
            c.timings.delivery_schedule = vec![Duration::from_millis(700); 10];
        };
        let app = spawn_app(backend).await;
        let (db, receiver) = app.stop().await;
        let app = spawn_with(db, receiver, slow).await;
        app.receiver.fail_next.store(usize::MAX / 2, Ordering::SeqCst);
        paid_session(&app).await;
        eventually("a failed attempt", || async {
            !received_ids(&app.receiver, "checkout_session.succeeded").is_empty()
        })
        .await;
        let (db, receiver) = app.stop().await;
        receiver.fail_next.store(0, Ordering::SeqCst);
        let tried = receiver.received.lock().unwrap().len();
        let app = spawn_with(db, receiver, slow).await;
        eventually("delivery after the restart", || async {
            app.receiver.received.lock().unwrap().len() > tried
        })
        .await;
        let events: Value = app.get_as(KEY_A, "/v1/events?limit=100").await.json().await.unwrap();
        let succeeded = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "checkout_session.succeeded")
            .unwrap();
        let path = format!("/v1/events/{}", succeeded["id"].as_str().unwrap());
        eventually("delivered after restart", || async {
            let e: Value = app.get_as(KEY_A, &path).await.json().await.unwrap();
            e["delivery"]["state"] == "delivered"
        })
        .await;
        let ids = received_ids(&app.receiver, "checkout_session.succeeded");
        assert!(ids.iter().all(|i| *i == ids[0]), "{backend:?}: {ids:?}");
    }
}

#[tokio::test]
async fn sessions_expire_and_a_waiting_qr_is_voided_first() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let mut ids = Vec::new();
        for with_qr in [false, true] {
            let res =
                app.post_a("/v1/checkout_sessions", &json!({"amount": 15_000, "reference": "INV-EXP"})).await;
            let body: Value = res.json().await.unwrap();
            let id = body["id"].as_str().unwrap().to_owned();
            if with_qr {
                let res = app
                    .client
                    .post(app.url(&format!("/v1/widget/sessions/{id}/attempts")))
                    .bearer_auth(body["client_secret"].as_str().unwrap())
                    .json(&json!({"method": "qris"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
            }
            force_expiry(&app.database_url, &id).await;
            ids.push(id);
        }
        for id in &ids {
            eventually("expired", || async {
                let s: Value =
                    app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
                s["status"] == "expired"
            })
            .await;
        }
        let s: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{}", ids[1])).await.json().await.unwrap();
        assert_eq!(s["latest_attempt"]["status"], "expired", "{backend:?}");
        // The voided QR can no longer be paid.
        let res = app
            .client
            .post(app.url(&format!("/v1/test_helpers/checkout_sessions/{}/pay", ids[1])))
            .bearer_auth(KEY_A)
            .send()
            .await
            .unwrap();
        assert_error(res, 409, "test_helpers.nothing_to_pay").await;
        eventually("expired webhooks", || async {
            received_ids(&app.receiver, "checkout_session.expired").len() == 2
        })
        .await;
    }
}

/// Issue 20: a merchant verifies Kasir's webhooks with the official
/// libraries of their language, not with code copied from Kasir. With a
/// `whsec_<base64>` secret each delivery carries the Standard Webhooks
/// headers, which Python's `standardwebhooks` accepts, and `Kasir-Signature`,
/// which Stripe's library accepts; both refuse a tampered body. A secret in
/// another form gets `Kasir-Signature` only.
#[tokio::test]
async fn merchants_verify_webhooks_with_the_official_libraries() {
    use std::io::Write;
    let secret = "whsec_BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY=";
    let app = spawn_with(fresh_database_url(Backend::Sqlite).await, Receiver::start().await, |c| {
        c.merchants[0].webhook_secret = Some(kasir_shared::secret::SecretString::new(secret.into()));
    })
    .await;
    let (id, _) = app.new_session(&json!({"amount": 25_000, "reference": "INV-SW"})).await;
    assert_eq!(app.post_a(&format!("/v1/checkout_sessions/{id}/cancel"), &json!({})).await.status(), 200);
    eventually("a delivery", || async { !app.receiver.received.lock().unwrap().is_empty() }).await;
    let got = app.receiver.received.lock().unwrap()[0].clone();
    assert_eq!(got.headers.get("webhook-id"), Some(&got.event_id), "the event id is the message id");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/merchant/verify_webhook.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let input = json!({"secret": secret, "body": got.body, "headers": got.headers});
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["standardwebhooks"], "ok", "{verdict}");
    assert_eq!(verdict["stripe"], "ok", "{verdict}");
    assert_ne!(verdict["tampered_standardwebhooks"], "ok", "{verdict}");
    assert_ne!(verdict["tampered_stripe"], "ok", "{verdict}");
    app.stop().await;

    // The test secret (not base64 after `whsec_`): Kasir-Signature only.
    let app = spawn_app(Backend::Sqlite).await;
    let (id, _) = app.new_session(&json!({"amount": 25_000, "reference": "INV-SW2"})).await;
    assert_eq!(app.post_a(&format!("/v1/checkout_sessions/{id}/cancel"), &json!({})).await.status(), 200);
    eventually("a delivery", || async { !app.receiver.received.lock().unwrap().is_empty() }).await;
    let got = app.receiver.received.lock().unwrap()[0].clone();
    assert!(!got.signature.is_empty() && !got.headers.contains_key("webhook-signature"), "{:?}", got.headers);
    app.stop().await;
}
