//! Kasir against the SingaPay simulator: cards with 3DS, declines, the
//! token cache and its refresh, the unknown → settled path, webhooks,
//! refunds, and the simulator catching wrong wire formats.

use kasir_tests::sim::Scenario;
use kasir_tests::sim::singapay;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn cards_are_paid_through_singapay_with_one_cached_token() {
    for backend in backends().await {
        let sim = singapay_simulator().await;
        let app = singapay_kasir(backend, &sim, SINGAPAY_SECRET).await;
        let (id, secret) = singapay_session(&app, 150_000).await;
        // The widget learns what SingaPay needs beyond what the session has.
        let view = widget_view(&app, &id, &secret).await;
        assert_eq!(view["required_fields"], json!({"card": ["billing"]}), "{view}");
        assert_eq!(view["installment_months"], json!([3, 6, 12]));
        let a: Value = widget_attempt(&app, &id, &secret, &singapay_card("4242 4242 4242 4242"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(a["provider"], "singapay", "{a}");
        assert_eq!(a["status"], "processing", "SP000 only means accepted: {a}");
        let t = sim.transaction_for(a["id"].as_str().unwrap()).unwrap();
        assert_eq!(t.card_expiry, "3012", "YYMM, not the OpenAPI page's MMYY");
        // The inquiry settles it.
        wait_session_status(&app, &id, "succeeded").await;

        // A second payment reuses the token; a revoked token (SP013) is
        // refreshed once and the call goes through.
        let (id, secret) = singapay_session(&app, 80_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &singapay_card("4111111111111111"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(a["status"], "processing", "{a}");
        assert_eq!(sim.token_requests(), 1);
        sim.revoke_tokens();
        let (id, secret) = singapay_session(&app, 80_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &singapay_card("5555555555554444"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(a["status"], "processing", "{a}");
        assert_eq!(sim.token_requests(), 2);

        // Installments reach SingaPay as a string month.
        let (id, secret) = singapay_session(&app, 80_000).await;
        let mut body = singapay_card("4242424242424242");
        body["installment_months"] = json!(6);
        let a: Value = widget_attempt(&app, &id, &secret, &body).await.json().await.unwrap();
        assert_eq!(
            sim.transaction_for(a["id"].as_str().unwrap()).unwrap().installment_month.as_deref(),
            Some("6")
        );
        assert!(sim.rejections().iter().all(|c| c == "SP013"), "{:?}", sim.rejections());
        app.stop().await;
    }
}

#[tokio::test]
async fn concurrent_first_payments_fetch_one_token() {
    let sim = singapay_simulator().await;
    let app = singapay_kasir(Backend::Sqlite, &sim, SINGAPAY_SECRET).await;
    let mut sessions = Vec::new();
    for _ in 0..6 {
        sessions.push(singapay_session(&app, 50_000).await);
    }
    let body = singapay_card("4242424242424242");
    let calls = sessions.iter().map(|(id, secret)| widget_attempt(&app, id, secret, &body));
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(|r| r.status() == 201));
    assert_eq!(sim.token_requests(), 1, "single flight");
    app.stop().await;
}

#[tokio::test]
async fn three_ds_declines_and_missing_details() {
    for backend in backends().await {
        let sim = singapay_simulator().await;
        let app = singapay_kasir(backend, &sim, SINGAPAY_SECRET).await;
        // 3DS: Kasir's one-time sandboxed page holds SingaPay's form; no
        // webhook is documented, so Kasir polls the inquiry.
        let (id, secret) = singapay_session(&app, 120_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &singapay_card(singapay::CARD_3DS))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(a["status"], "requires_action", "{a}");
        let url = a["next_action"]["url"].as_str().unwrap();
        let path = url.strip_prefix(PUBLIC_URL).unwrap();
        let page = app.client.get(app.url(&format!("{path}?client_secret={secret}"))).send().await.unwrap();
        let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(
            csp.contains("sandbox allow-forms allow-scripts") && !csp.contains("allow-same-origin"),
            "{csp}"
        );
        assert!(page.text().await.unwrap().contains("acs.singapay.example"));
        let t = sim.transaction_for(a["id"].as_str().unwrap()).unwrap();
        sim.complete_3ds(&t.transaction_id, true);
        wait_session_status(&app, &id, "succeeded").await;

        // 3DS declined: the attempt fails and the session is open again.
        let (id, secret) = singapay_session(&app, 120_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &singapay_card(singapay::CARD_3DS))
            .await
            .json()
            .await
            .unwrap();
        sim.complete_3ds(&sim.transaction_for(a["id"].as_str().unwrap()).unwrap().transaction_id, false);
        wait_session_status(&app, &id, "open").await;

        // Issuer decline.
        let a: Value = widget_attempt(&app, &id, &secret, &singapay_card(singapay::CARD_DECLINED))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (a["status"].as_str(), a["failure_code"].as_str()),
            (Some("failed"), Some("card_declined")),
            "{a}"
        );

        // What SingaPay requires is asked for before anything is sent.
        let mut no_billing = singapay_card("4242424242424242");
        no_billing.as_object_mut().unwrap().remove("billing");
        let e =
            assert_error(widget_attempt(&app, &id, &secret, &no_billing).await, 422, "field.required").await;
        assert_eq!(e["error"]["field"], "billing");
        let mut bad_city = singapay_card("4242424242424242");
        bad_city["billing"]["city"] = json!(" ");
        let e = assert_error(widget_attempt(&app, &id, &secret, &bad_city).await, 422, "address.empty").await;
        assert_eq!(e["error"]["field"], "billing.city");
        let res = app.post_a("/v1/checkout_sessions", &json!({"amount": 4_000, "reference": "small"})).await;
        let s: Value = res.json().await.unwrap();
        let res = widget_attempt(
            &app,
            s["id"].as_str().unwrap(),
            s["client_secret"].as_str().unwrap(),
            &singapay_card("4242424242424242"),
        )
        .await;
        assert_error(res, 422, "amount.too_small").await;
        let res =
            app.post_a("/v1/checkout_sessions", &json!({"amount": 40_000, "reference": "noemail"})).await;
        let s: Value = res.json().await.unwrap();
        let res = widget_attempt(
            &app,
            s["id"].as_str().unwrap(),
            s["client_secret"].as_str().unwrap(),
            &singapay_card("4242424242424242"),
        )
        .await;
        let e = assert_error(res, 422, "field.required").await;
        assert_eq!(e["error"]["field"], "email");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_lost_answer_is_settled_by_inquiry_and_webhooks_are_verified() {
    for backend in backends().await {
        let sim = singapay_simulator().await;
        let app = singapay_kasir(backend, &sim, SINGAPAY_SECRET).await;
        // Charged, but the answer comes after Kasir's 2 s: unknown, and it
        // stays unknown (SingaPay cannot be asked by our reference; see
        // money_safety::a_lost_singapay_answer_stays_unknown_until_resolved).
        let (id, secret) = singapay_session(&app, 90_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &singapay_card(singapay::CARD_SLOW))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(a["status"], "unknown", "{a}");
        assert_eq!(session_status(&app, &id).await, "processing");

        // Webhooks: a forged one is refused; an authentic one triggers an inquiry.
        let (id, secret) = singapay_session(&app, 90_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &singapay_card(singapay::CARD_3DS))
            .await
            .json()
            .await
            .unwrap();
        let t = sim.transaction_for(a["id"].as_str().unwrap()).unwrap();
        sim.complete_3ds(&t.transaction_id, true);
        let hook = app.url("/webhooks/singapay");
        assert_eq!(sim.send_webhook(&hook, &t.transaction_id, true).await, 401);
        assert_eq!(sim.send_webhook(&hook, &t.transaction_id, false).await, 200);
        assert_eq!(session_status(&app, &id).await, "succeeded");

        // Refunds are whole at SingaPay.
        let path = format!("/v1/checkout_sessions/{id}/refunds");
        assert_error(app.post_a(&path, &json!({"amount": 1_000})).await, 422, "refund.unsupported").await;
        assert_eq!(app.post_a(&path, &json!({"amount": 90_000})).await.status(), 201);
        assert_eq!(sim.transaction_for(a["id"].as_str().unwrap()).unwrap().status, "refunded");

        // A 5xx or an unreadable answer: unknown, not failed.
        for scenario in [Scenario::ServerError, Scenario::Malformed] {
            sim.push_scenario(scenario);
            let (id, secret) = singapay_session(&app, 90_000).await;
            let a: Value = widget_attempt(&app, &id, &secret, &singapay_card("4242424242424242"))
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(a["status"], "unknown", "{a}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a_wrong_client_secret_is_caught_by_the_simulator() {
    let sim = singapay_simulator().await;
    let app = singapay_kasir(Backend::Sqlite, &sim, "not-the-client-secret").await;
    let (id, secret) = singapay_session(&app, 50_000).await;
    let a: Value =
        widget_attempt(&app, &id, &secret, &singapay_card("4242424242424242")).await.json().await.unwrap();
    assert_eq!(
        (a["status"].as_str(), a["failure_code"].as_str()),
        (Some("failed"), Some("provider_authentication")),
        "{a}"
    );
    assert_eq!(sim.rejections(), vec!["SP016".to_owned()]);
    app.stop().await;
}

/// Requests Kasir never sends prove the simulator enforces each rule.
#[tokio::test]
async fn the_simulator_rejects_what_singapay_rejects() {
    let sim = singapay_simulator().await;
    let client = reqwest::Client::new();
    let now = kasir_tests::sim::common::now_secs();
    let (y, m, d) = kasir_tests::sim::common::civil((now + 7 * 3600).div_euclid(86_400));
    let sign = |date: String| {
        kasir_tests::sim::common::hmac_sha512_hex(
            SINGAPAY_SECRET.as_bytes(),
            format!("client-1_{SINGAPAY_SECRET}_{date}").as_bytes(),
        )
    };
    let token_with = |signature: String| {
        client
            .post(format!("{}/api/v1.1/access-token/b2b", sim.url))
            .header("X-PARTNER-ID", "api-key-1")
            .header("X-CLIENT-ID", "client-1")
            .header("X-Signature", signature)
            .json(&json!({"grant_type": "client_credentials"}))
            .send()
    };
    // The UTC date instead of Jakarta's is wrong for 7 hours a day; a
    // signature over yesterday is always wrong.
    let yesterday = kasir_tests::sim::common::civil((now + 7 * 3600).div_euclid(86_400) - 1);
    let res =
        token_with(sign(format!("{:04}{:02}{:02}", yesterday.0, yesterday.1, yesterday.2))).await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["response_code"], "SP016");
    let res: Value = token_with(sign(format!("{y:04}{m:02}{d:02}"))).await.unwrap().json().await.unwrap();
    let token = res["data"]["access_token"].as_str().unwrap().to_owned();
    let pay = |body: Value, token: &str| {
        client
            .post(format!("{}/api/v2.0/card/01K5G4FZZ18DMK0M5QTR8Y9QY9/payment", sim.url))
            .bearer_auth(token)
            .header("X-PARTNER-ID", "api-key-1")
            .json(&body)
            .send()
    };
    let good = json!({"amount": 100_000, "goods_name": "Premium", "customer_name": "John Doe",
        "customer_email": "john@example.com", "customer_phone": "08123456789", "customer_address": "Jl. Sudirman No. 1",
        "customer_city": "Jakarta", "customer_state": "DKI Jakarta", "customer_postal_code": "10210",
        "customer_country": "ID", "card_number": "4111111111111111", "card_expiry": "3012", "card_cvv": "123",
        "card_holder_name": "John Doe", "card_holder_email": "john@example.com", "reference_no": "ref-1"});
    let code = |res: reqwest::Response| async move {
        res.json::<Value>().await.unwrap()["response_code"].as_str().unwrap().to_owned()
    };
    assert_eq!(code(pay(good.clone(), "expired-or-made-up").await.unwrap()).await, "SP013");
    assert_eq!(code(pay(good.clone(), &token).await.unwrap()).await, "SP000");
    assert_eq!(code(pay(good.clone(), &token).await.unwrap()).await, "SP004", "reference reused");
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b["reference_no"] = json!(kasir_tests::sim::common::random_id(10));
        b
    };
    assert_eq!(
        code(pay(with("card_expiry", json!("1230")), &token).await.unwrap()).await,
        "SP001",
        "MMYY is refused"
    );
    for (field, value) in [
        ("amount", json!(4_999)),
        ("customer_address", json!("")),
        ("customer_country", json!("IDN")),
        ("card_holder_name", json!("x".repeat(46))),
        ("card_number", json!("4111 1111 1111 1111")),
    ] {
        assert_eq!(
            code(pay(with(field, value.clone()), &token).await.unwrap()).await,
            "SP018",
            "{field} = {value}"
        );
    }
}

/// SingaPay makes the refund but answers `SP001` with `processing`, which
/// FACTS §2.3 also names the "outcome unknown, ask inquiry-status" answer.
/// The refund stays pending (never failed, which would release the amount
/// for a second refund) until the inquiry says `refunded`; one refund in
/// all at SingaPay.
#[tokio::test]
async fn a_refund_answered_sp001_is_pending_until_singapay_says_refunded() {
    for backend in backends().await {
        let sim = singapay_simulator().await;
        let app = singapay_kasir(backend, &sim, SINGAPAY_SECRET).await;
        let (id, secret) = singapay_session(&app, 150_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &singapay_card("4242424242424242"))
            .await
            .json()
            .await
            .unwrap();
        wait_session_status(&app, &id, "succeeded").await;
        sim.answer_next_refund_unknown();
        let path = format!("/v1/checkout_sessions/{id}/refunds");
        let res = app.post_a(&path, &json!({"amount": 150_000})).await;
        assert!(res.status().is_success(), "{}", res.status());
        let refund: Value = res.json().await.unwrap();
        assert_eq!(refund["status"], "pending", "SP001 does not say the refund failed: {refund}");
        assert_eq!(sim.transaction_for(a["id"].as_str().unwrap()).unwrap().status, "refunded");
        // Nothing was released for a second refund while it is pending.
        let again = app.post_a(&path, &json!({"amount": 150_000})).await;
        assert!(!again.status().is_success(), "a second refund was accepted: {}", again.status());
        eventually("the refund confirmed by inquiry", || async {
            app.receiver.events_of("checkout_session.refund_succeeded").len() == 1
        })
        .await;
        assert!(app.receiver.events_of("checkout_session.refund_failed").is_empty());
        app.stop().await;
    }
}
