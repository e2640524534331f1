//! Kasir against the Smilepayz simulator: QRIS, virtual accounts and
//! e-wallets end to end, signed callbacks confirmed by inquiry, the unknown
//! → settled path, and the simulator catching wrong wire formats.

use std::time::Duration;

use kasir_tests::sim::Scenario;
use kasir_tests::sim::smilepayz::{self, CallbackMode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn qris_virtual_account_and_ewallet_are_paid_through_smilepayz() {
    for backend in backends().await {
        let sim = smilepayz_simulator().await;
        let app = smilepayz_kasir(backend, &sim, SMILEPAYZ_SECRET, "").await;

        // QRIS: a payload that parses, then the shopper pays and the signed
        // callback (confirmed by inquiry) settles the session.
        let (id, secret) = smilepayz_session(&app, 150_000).await;
        let res = widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
        assert_eq!(res.status(), 201);
        let a: Value = res.json().await.unwrap();
        assert_eq!(a["status"], "requires_action", "{a}");
        assert_eq!(a["provider"], "smilepayz");
        let payload = a["next_action"]["qr_payload"].as_str().unwrap();
        let qr = kasir_shared::qris::QrisPayload::parse(payload).unwrap();
        assert_eq!(qr.amount().unwrap().rupiah(), 150_000);
        let order = sim.order_for_attempt(a["id"].as_str().unwrap()).unwrap();
        assert_eq!((order.method.as_str(), order.amount), ("QRIS", 150_000));
        let (status, body) = sim.pay(&order.order_no).await;
        assert_eq!((status, body.as_str()), (200, "SUCCESS"));
        wait_session_status(&app, &id, "succeeded").await;
        eventually("merchant webhook", || async {
            !app.receiver.events_of("checkout_session.succeeded").is_empty()
        })
        .await;

        // Virtual account at BCA.
        let (id, secret) = smilepayz_session(&app, 75_000).await;
        let a: Value =
            widget_attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "bca"}))
                .await
                .json()
                .await
                .unwrap();
        assert_eq!(a["next_action"]["type"], "show_virtual_account", "{a}");
        assert!(a["next_action"]["number"].as_str().unwrap().starts_with("1419"));
        let order = sim.order_for_attempt(a["id"].as_str().unwrap()).unwrap();
        assert_eq!(order.method, "BCA");
        sim.pay(&order.order_no).await;
        wait_session_status(&app, &id, "succeeded").await;

        // OVO needs the phone; it reaches Smilepayz as +62….
        let (id, secret) = smilepayz_session(&app, 20_000).await;
        let res = widget_attempt(&app, &id, &secret, &json!({"method": "ewallet", "wallet": "ovo"})).await;
        assert_error(res, 422, "phone.empty").await;
        let body = json!({"method": "ewallet", "wallet": "ovo", "phone": "0812-3456-7890"});
        let a: Value = widget_attempt(&app, &id, &secret, &body).await.json().await.unwrap();
        assert_eq!(a["next_action"]["type"], "redirect", "{a}");
        assert_eq!(sim.order_for_attempt(a["id"].as_str().unwrap()).unwrap().method, "W_OVO");

        // Issue 19: with a mobile number on the order, the shopper need not
        // type it: the widget sees its last four digits only, and OVO gets
        // the number (the simulator refuses W_OVO without payer.phone).
        let (id, secret) = app
            .new_session(&json!({"amount": 20_000, "reference": "INV-SPZ-OVO",
                "customer": {"phone": "0812-9876-5432"}}))
            .await;
        let view = widget_session(&app, &id, &secret).await;
        assert_eq!(view["phone_hint"], "5432", "{view}");
        assert!(!view.to_string().contains("98765432"), "the whole number reached the widget: {view}");
        let a: Value = widget_attempt(&app, &id, &secret, &json!({"method": "ewallet", "wallet": "ovo"}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(a["next_action"]["type"], "redirect", "{a}");
        assert_eq!(sim.order_for_attempt(a["id"].as_str().unwrap()).unwrap().method, "W_OVO");

        // A Mandiri VA code is not confirmed by Smilepayz: refused unless enabled.
        let (id, secret) = smilepayz_session(&app, 20_000).await;
        let res =
            widget_attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "mandiri"}))
                .await;
        let e = assert_error(res, 422, "payment_method.unavailable").await;
        assert_eq!(e["error"]["field"], "bank");
        // Below Smilepayz's minimum: refused before anything is written.
        let (id, secret) = smilepayz_session(&app, 9_999).await;
        let e = assert_error(
            widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await,
            422,
            "amount.too_small",
        )
        .await;
        assert_eq!(e["error"]["field"], "amount");
        assert!(
            sim.rejections().is_empty(),
            "Kasir sent nothing the simulator refused: {:?}",
            sim.rejections()
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn callbacks_are_verified_confirmed_by_inquiry_and_idempotent() {
    for backend in backends().await {
        let sim = smilepayz_simulator().await;
        let app = smilepayz_kasir(backend, &sim, SMILEPAYZ_SECRET, "").await;
        let (id, secret) = smilepayz_session(&app, 50_000).await;
        let a: Value =
            widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await.json().await.unwrap();
        let order = sim.order_for_attempt(a["id"].as_str().unwrap()).unwrap();

        // A callback for an unpaid order: authentic, but the inquiry says
        // PROCESSING, so nothing changes.
        assert_eq!(sim.send_callback(&order.order_no, CallbackMode::Valid).await.0, 200);
        assert_eq!(session_status(&app, &id).await, "requires_action");
        // The order is paid, but forged and stale callbacks change nothing.
        sim.set_status(&order.order_no, "SUCCESS");
        assert_eq!(sim.send_callback(&order.order_no, CallbackMode::Forged).await.0, 401);
        assert_eq!(sim.send_callback(&order.order_no, CallbackMode::Stale).await.0, 401);
        assert_eq!(session_status(&app, &id).await, "requires_action");
        // The real one settles it; duplicates are answered SUCCESS and change nothing.
        for _ in 0..3 {
            assert_eq!(
                sim.send_callback(&order.order_no, CallbackMode::Valid).await,
                (200, "SUCCESS".into())
            );
        }
        assert_eq!(session_status(&app, &id).await, "succeeded");
        let events: Value = app.get_as(KEY_A, "/v1/events?limit=100").await.json().await.unwrap();
        let succeeded = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "checkout_session.succeeded")
            .count();
        assert_eq!(succeeded, 1);
        app.stop().await;
    }
}

#[tokio::test]
async fn lost_answers_leave_the_attempt_unknown_until_the_inquiry_settles_it() {
    for backend in backends().await {
        let sim = smilepayz_simulator().await;
        let app = smilepayz_kasir(backend, &sim, SMILEPAYZ_SECRET, "").await;
        // No answer within Kasir's 2 s: unknown, never failed; the session
        // refuses a second charge; the reconciler's inquiry settles it.
        sim.push_scenario(Scenario::NoAnswer(Duration::from_secs(3)));
        let (id, secret) = smilepayz_session(&app, 60_000).await;
        let a: Value =
            widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await.json().await.unwrap();
        assert_eq!(a["status"], "unknown", "{a}");
        let res = widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
        assert_error(res, 409, "session.not_payable").await;
        let order = sim.order_for_attempt(a["id"].as_str().unwrap()).unwrap();
        sim.set_status(&order.order_no, "SUCCESS");
        wait_session_status(&app, &id, "succeeded").await;
        assert_eq!(sim.orders().len(), 1, "one order at the provider");

        // A 5xx, an unreadable body, and an answer that trickles in past
        // the timeout are unknown too, not failed.
        for scenario in
            [Scenario::ServerError, Scenario::Malformed, Scenario::Trickle(Duration::from_millis(20))]
        {
            sim.push_scenario(scenario);
            let (id, secret) = smilepayz_session(&app, 60_000).await;
            let a: Value =
                widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await.json().await.unwrap();
            assert_eq!(a["status"], "unknown", "{a}");
        }
        app.stop().await;
    }
}

/// The provider cannot be reached at all (connection refused): unknown,
/// never failed, and the session refuses a second charge meanwhile.
#[tokio::test]
async fn a_provider_that_refuses_connections_leaves_the_attempt_unknown() {
    // A port nothing listens on.
    let closed = format!("http://127.0.0.1:{}", kasir_tests::webdriver::free_port());
    let app = smilepayz_kasir_at(Backend::Sqlite, &closed, SMILEPAYZ_SECRET, "").await;
    let (id, secret) = smilepayz_session(&app, 60_000).await;
    let a: Value = widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await.json().await.unwrap();
    assert_eq!(a["status"], "unknown", "{a}");
    let res = widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
    assert_error(res, 409, "session.not_payable").await;
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_secret_is_caught_by_the_simulator() {
    let sim = smilepayz_simulator().await;
    let app = smilepayz_kasir(Backend::Sqlite, &sim, "not-the-merchant-secret", "").await;
    let (id, secret) = smilepayz_session(&app, 50_000).await;
    let a: Value = widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await.json().await.unwrap();
    assert_eq!(a["status"], "failed", "{a}");
    assert_eq!(a["failure_code"], format!("smilepayz_{}", smilepayz::SIGNATURE_INVALID));
    assert_eq!(sim.rejections(), vec![smilepayz::SIGNATURE_INVALID.to_owned()]);
    app.stop().await;
}

/// Requests Kasir never sends, signed correctly, prove the simulator
/// enforces each documented rule (so an adapter that broke one would fail).
#[tokio::test]
async fn the_simulator_rejects_what_smilepayz_rejects() {
    let sim = smilepayz_simulator().await;
    let key = kasir_tests::sim::common::private_key(&fixture("merchant.key.pem"));
    let client = reqwest::Client::new();
    let send = |body: Value, timestamp: String, sign_other: bool| {
        let raw = body.to_string();
        let signed = if sign_other {
            format!("{timestamp}|{SMILEPAYZ_SECRET}|{{}}")
        } else {
            format!("{timestamp}|{SMILEPAYZ_SECRET}|{raw}")
        };
        let signature = kasir_tests::sim::common::rsa_sign_base64(&key, signed.as_bytes());
        client
            .post(format!("{}/v2.0/transaction/pay-in", sim.url))
            .header("Content-Type", "application/json")
            .header("X-TIMESTAMP", timestamp)
            .header("X-PARTNER-ID", SMILEPAYZ_MERCHANT_ID)
            .header("X-SIGNATURE", signature)
            .body(raw)
            .send()
    };
    let now = || kasir_tests::sim::common::jakarta_timestamp(kasir_tests::sim::common::now_secs());
    let good = json!({"orderNo": "pa0123456789abcdef", "purpose": "Order 1", "merchant": {"merchantId": SMILEPAYZ_MERCHANT_ID},
        "money": {"currency": "IDR", "amount": 10_000}, "paymentMethod": "QRIS", "expiryPeriod": 900,
        "callbackUrl": "http://127.0.0.1:1/webhooks/smilepayz"});
    let code = |res: reqwest::Response| async move {
        res.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned()
    };
    assert_eq!(code(send(good.clone(), now(), false).await.unwrap()).await, "00");
    assert_eq!(code(send(good.clone(), now(), false).await.unwrap()).await, smilepayz::DUPLICATE_ORDER);
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b["orderNo"] = json!(format!("pa{}", kasir_tests::sim::common::random_id(12)));
        let (outer, inner) = k.split_once('.').unwrap_or((k, ""));
        if inner.is_empty() {
            b[outer] = v
        } else {
            b[outer][inner] = v
        }
        b
    };
    for (field, value) in [
        ("orderNo", json!("pa_with_underscore")),
        ("orderNo", json!("pa1")),
        ("money.amount", json!(9_999)),
        ("money.amount", json!(1_000_000_000)),
        ("money.currency", json!("USD")),
        ("paymentMethod", json!("CASH")),
        ("paymentMethod", json!("W_OVO")),
        ("expiryPeriod", json!(60)),
        ("purpose", json!("x".repeat(65))),
    ] {
        let res = send(with(field, value.clone()), now(), false).await.unwrap();
        assert_eq!(code(res).await, smilepayz::FIELD_INVALID, "{field} = {value}");
    }
    let stale = kasir_tests::sim::common::jakarta_timestamp(kasir_tests::sim::common::now_secs() - 600);
    assert_eq!(
        code(send(with("purpose", json!("ok")), stale, false).await.unwrap()).await,
        smilepayz::TIMESTAMP_INVALID
    );
    assert_eq!(
        code(send(with("purpose", json!("ok")), now(), true).await.unwrap()).await,
        smilepayz::SIGNATURE_INVALID,
        "a signature over other bytes"
    );
}
