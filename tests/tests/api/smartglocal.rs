//! Kasir against the Smart Glocal simulator: cards with NIK, 3DS through
//! `action_required`, confirmation on `ready_to_confirm`, the outcome on
//! `payment_finished`, a lost answer settled by `session/status`, refunds,
//! and the simulator catching wrong wire formats.

use std::time::Duration;

use kasir_tests::sim::Scenario;
use kasir_tests::sim::smartglocal;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn cards_with_nik_are_confirmed_and_finished_by_webhook() {
    for backend in backends().await {
        let sim = smartglocal_simulator(false).await;
        let app = smartglocal_kasir(backend, &sim, "").await;
        let (id, secret) = smartglocal_session(&app, 150_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &smartglocal_card("4242424242424242"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (a["provider"].as_str(), a["status"].as_str()),
            (Some("smartglocal"), Some("processing")),
            "{a}"
        );
        let s = sim.session_for(a["id"].as_str().unwrap()).unwrap();
        assert_eq!((s.amount, s.nik.as_deref()), (150_000, Some("3171014101900001")));
        assert_eq!(s.expiry, Some(("12".into(), "30".into())));
        // ready_to_confirm → Kasir confirms → payment_finished.
        assert_eq!(sim.advance(&s.id).await, 200);
        wait_session_status(&app, &id, "succeeded").await;
        eventually("merchant webhook", || async {
            !app.receiver.events_of("checkout_session.succeeded").is_empty()
        })
        .await;
        // Partial refunds are allowed at Smart Glocal.
        let path = format!("/v1/checkout_sessions/{id}/refunds");
        assert_eq!(app.post_a(&path, &json!({"amount": 50_000})).await.status(), 201);
        assert_eq!(sim.session_for(a["id"].as_str().unwrap()).unwrap().refunded, 50_000);

        // Declined: payment_finished says failed; the session is open again.
        let (id, secret) = smartglocal_session(&app, 150_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &smartglocal_card(smartglocal::CARD_DECLINED))
            .await
            .json()
            .await
            .unwrap();
        sim.advance(&sim.session_for(a["id"].as_str().unwrap()).unwrap().id).await;
        wait_session_status(&app, &id, "open").await;
        assert!(sim.rejections().is_empty(), "{:?}", sim.rejections());
        app.stop().await;
    }
}

#[tokio::test]
async fn three_ds_comes_by_webhook_and_a_cancelled_session_is_cancelled_at_smart_glocal() {
    for backend in backends().await {
        let sim = smartglocal_simulator(false).await;
        let app = smartglocal_kasir(backend, &sim, "").await;
        let (id, secret) = smartglocal_session(&app, 200_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &smartglocal_card(smartglocal::CARD_3DS))
            .await
            .json()
            .await
            .unwrap();
        let sg = sim.session_for(a["id"].as_str().unwrap()).unwrap();
        assert_eq!(sim.advance(&sg.id).await, 200, "action_required");
        let view: Value = app
            .client
            .get(app.url(&format!("/v1/widget/sessions/{id}")))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let next = &view["latest_attempt"]["next_action"];
        assert_eq!(next["type"], "three_ds", "{view}");
        let path = next["url"].as_str().unwrap().strip_prefix(PUBLIC_URL).unwrap().to_owned();
        let page = app
            .client
            .get(app.url(&format!("{path}?client_secret={secret}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("action=\"https://acs.smartglocal.example/3ds?txn=1\"")
                && page.contains("name=\"PaReq\""),
            "{page}"
        );
        // The bank approves; ready_to_confirm; Kasir confirms; finished.
        assert_eq!(sim.complete_3ds(&sg.id, true).await, 200);
        wait_session_status(&app, &id, "succeeded").await;
        // Out of order: an old action_required after the outcome changes nothing.
        assert_eq!(sim.send("action_required", &sg.id, false).await, 200);
        assert_eq!(session_status(&app, &id).await, "succeeded");

        // Waiting on 3DS, the merchant cancels: Kasir cancels at Smart Glocal first.
        let (id, secret) = smartglocal_session(&app, 200_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &smartglocal_card(smartglocal::CARD_3DS))
            .await
            .json()
            .await
            .unwrap();
        let sg = sim.session_for(a["id"].as_str().unwrap()).unwrap();
        sim.advance(&sg.id).await;
        wait_session_status(&app, &id, "requires_action").await;
        let res = app.post_a(&format!("/v1/checkout_sessions/{id}/cancel"), &json!({})).await;
        assert_eq!(res.status(), 200);
        assert_eq!(sim.session_for(a["id"].as_str().unwrap()).unwrap().status, "cancelled");
        // A late ready_to_confirm for the cancelled attempt is answered by a
        // cancel, never a confirm.
        let before = sim.calls().len();
        assert_eq!(sim.send("ready_to_confirm", &sg.id, false).await, 200);
        let after: Vec<String> = sim.calls()[before..].to_vec();
        assert!(after.contains(&"cancel".to_owned()) && !after.contains(&"confirm".to_owned()), "{after:?}");
        assert_eq!(session_status(&app, &id).await, "cancelled");
        app.stop().await;
    }
}

#[tokio::test]
async fn webhooks_are_verified_and_a_lost_answer_is_settled_by_status() {
    for backend in backends().await {
        let sim = smartglocal_simulator(false).await;
        let app = smartglocal_kasir(backend, &sim, "").await;
        // session/create answered, session/start/payment not: Kasir kept the
        // session id, so session/status settles the attempt.
        sim.push_scenario(Scenario::NoAnswer(Duration::from_secs(3)));
        let (id, secret) = smartglocal_session(&app, 120_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &smartglocal_card("4242424242424242"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(a["status"], "unknown", "{a}");
        let sg = sim.session_for(a["id"].as_str().unwrap()).unwrap();
        sim.settle(&sg.id, true);
        wait_session_status(&app, &id, "succeeded").await;

        // A forged webhook is refused and changes nothing.
        let (id, secret) = smartglocal_session(&app, 120_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &smartglocal_card("4242424242424242"))
            .await
            .json()
            .await
            .unwrap();
        let sg = sim.session_for(a["id"].as_str().unwrap()).unwrap();
        sim.settle(&sg.id, true);
        assert_eq!(sim.send("payment_finished", &sg.id, true).await, 401);
        assert_eq!(session_status(&app, &id).await, "processing");
        assert_eq!(sim.send("payment_finished", &sg.id, false).await, 200);
        assert_eq!(session_status(&app, &id).await, "succeeded");

        // A 5xx or an unreadable answer to start/payment: unknown, with the
        // session id kept for the inquiry.
        for scenario in [Scenario::ServerError, Scenario::Malformed] {
            sim.push_scenario(scenario);
            let (id, secret) = smartglocal_session(&app, 120_000).await;
            let a: Value = widget_attempt(&app, &id, &secret, &smartglocal_card("4242424242424242"))
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(a["status"], "unknown", "{a}");
            assert!(sim.session_for(a["id"].as_str().unwrap()).is_some());
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn required_fields_and_amount_units() {
    let sim = smartglocal_simulator(false).await;
    let app = smartglocal_kasir(Backend::Sqlite, &sim, "").await;
    let (id, secret) = smartglocal_session(&app, 150_000).await;
    let view = widget_view(&app, &id, &secret).await;
    assert_eq!(view["required_fields"], json!({"card": ["nik"]}), "{view}");
    assert_eq!(view["installment_months"], json!([]));
    let mut installments = smartglocal_card("4242424242424242");
    installments["installment_months"] = json!(3);
    assert_error(widget_attempt(&app, &id, &secret, &installments).await, 422, "installment.unsupported")
        .await;
    let mut no_nik = smartglocal_card("4242424242424242");
    no_nik.as_object_mut().unwrap().remove("nik");
    let e = assert_error(widget_attempt(&app, &id, &secret, &no_nik).await, 422, "field.required").await;
    assert_eq!(e["error"]["field"], "nik");
    let mut bad_nik = smartglocal_card("4242424242424242");
    bad_nik["nik"] = json!("3171014101900");
    let e = assert_error(widget_attempt(&app, &id, &secret, &bad_nik).await, 422, "nik.length").await;
    assert_eq!(e["error"]["field"], "nik");
    let (id, secret) = smartglocal_session(&app, 10_999).await;
    assert_error(
        widget_attempt(&app, &id, &secret, &smartglocal_card("4242424242424242")).await,
        422,
        "amount.too_small",
    )
    .await;
    app.stop().await;

    // The amount-units setting matters: whole rupiah sent to a provider that
    // reads hundredths is refused (Rp1.500 < Rp11.000), and minor units work.
    let sim = smartglocal_simulator(true).await;
    let app = smartglocal_kasir(Backend::Sqlite, &sim, "").await;
    let (id, secret) = smartglocal_session(&app, 15_000).await;
    let a: Value =
        widget_attempt(&app, &id, &secret, &smartglocal_card("4242424242424242")).await.json().await.unwrap();
    assert_eq!(a["status"], "failed", "{a}");
    assert_eq!(sim.rejections(), vec![smartglocal::VALIDATION.to_owned()]);
    app.stop().await;
    let app = smartglocal_kasir(Backend::Sqlite, &sim, "amount_units = \"minor\"\nflow = \"init\"").await;
    let (id, secret) = smartglocal_session(&app, 15_000).await;
    let a: Value =
        widget_attempt(&app, &id, &secret, &smartglocal_card("4242424242424242")).await.json().await.unwrap();
    assert_eq!(a["status"], "processing", "{a}");
    assert_eq!(sim.session_for(a["id"].as_str().unwrap()).unwrap().amount, 1_500_000);
    app.stop().await;
}

/// Requests Kasir never sends prove the simulator enforces each rule.
#[tokio::test]
async fn the_simulator_rejects_what_smart_glocal_rejects() {
    let sim = smartglocal_simulator(false).await;
    let key = kasir_tests::sim::common::private_key(&fixture("smartglocal_partner.key.pem"));
    let client = reqwest::Client::new();
    let send = |method: &'static str, body: Value, sign_other: bool| {
        let raw = body.to_string();
        let signed = if sign_other { "{}".to_owned() } else { raw.clone() };
        let signature = kasir_tests::sim::common::rsa_sign_base64(&key, signed.as_bytes());
        client
            .post(format!("{}/api/v1/{method}", sim.url))
            .header("Content-Type", "application/json")
            .header("X-PARTNER-PROJECT", "kasir_test")
            .header("X-PARTNER-SIGN", signature)
            .body(raw)
            .send()
    };
    let code = |res: reqwest::Response| async move {
        let v: Value = res.json().await.unwrap();
        v["error"]["code"].as_str().unwrap_or("ok").to_owned()
    };
    let good = json!({"amount_details": {"amount": 11_000, "currency": "idr"}, "customer": {"reference": "pa_x"},
        "payment_details": {"type": "card", "card": {"type": "bank_card", "bank_card": {"number": "4242424242424242",
        "expiration_month": "12", "expiration_year": "30", "security_code": "123"}},
        "sender": {"full_name": "Jane Doe", "email": "janedoe@mymail.com", "identity_document": "1234567890123456"}}});
    assert_eq!(code(send("session/init/payment", good.clone(), false).await.unwrap()).await, "ok");
    assert_eq!(
        code(send("session/init/payment", good.clone(), true).await.unwrap()).await,
        smartglocal::SIGNATURE_INVALID
    );
    let with = |pointer: &str, v: Value| {
        let mut b = good.clone();
        *b.pointer_mut(pointer).unwrap() = v;
        b
    };
    for (pointer, value) in [
        ("/amount_details/amount", json!(10_999)),
        ("/amount_details/currency", json!("usd")),
        ("/payment_details/sender/full_name", json!("Jo")),
        ("/payment_details/sender/full_name", json!("x".repeat(51))),
        ("/payment_details/sender/email", json!(format!("{}@mymail.com", "a".repeat(65)))),
        ("/payment_details/sender/identity_document", json!("123456789012345")),
        ("/payment_details/card/bank_card/expiration_month", json!("13")),
        ("/payment_details/card/bank_card/expiration_year", json!("2030")),
    ] {
        assert_eq!(
            code(send("session/init/payment", with(pointer, value.clone()), false).await.unwrap()).await,
            smartglocal::VALIDATION,
            "{pointer} = {value}"
        );
    }
}
