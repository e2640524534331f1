//! Payments end to end through the sandbox provider: widget API, attempts,
//! 3DS, QRIS, VA, timeouts and the reconciler, refunds, inbound webhooks and
//! signed merchant webhooks. Every test runs on SQLite and PostgreSQL.

use serde_json::{Value, json};

use crate::helpers::{
    KEY_A, KEY_B, PUBLIC_URL, SANDBOX_SECRET, TestApp, assert_error, backends, card, eventually,
    sandbox_session, sandbox_signature, spawn_app, widget_attempt,
};

const CARD_OK: &str = "4242 4242 4242 4242";
const CARD_3DS: &str = "4000000000003220";
const CARD_DECLINED: &str = "4000000000000002";
const CARD_TIMEOUT: &str = "4000000000000119";

/// The hidden form token of a sandbox approval page.
fn form_token(page: &str) -> String {
    let at = page.find("name=\"token\" value=\"").expect("a form token") + "name=\"token\" value=\"".len();
    page[at..].chars().take_while(|c| *c != '"').collect()
}

async fn session(app: &TestApp, id: &str) -> Value {
    app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap()
}

async fn wait_status(app: &TestApp, id: &str, status: &str) {
    eventually(&format!("session {id} {status}"), || async { session(app, id).await["status"] == status })
        .await;
}

/// The path of an absolute URL under the test public URL.
fn path_of(url: &str) -> &str {
    url.strip_prefix(PUBLIC_URL).unwrap_or_else(|| panic!("{url} is not under {PUBLIC_URL}"))
}

#[tokio::test]
async fn card_payment_end_to_end_with_a_signed_merchant_webhook() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let (id, secret) = sandbox_session(&app, 150_000).await;

        // The widget's view: no client secret, no customer PII.
        let res = app
            .client
            .get(app.url(&format!("/v1/widget/sessions/{id}")))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let view: Value = res.json().await.unwrap();
        assert_eq!(view["merchant"]["display_name"], "Toko A");
        assert_eq!(view["amount"], 150_000);
        assert!(view.get("client_secret").is_none() && view.get("customer").is_none(), "{view}");

        let res = widget_attempt(&app, &id, &secret, &card(CARD_OK)).await;
        assert_eq!(res.status(), 201, "{backend:?}");
        let a: Value = res.json().await.unwrap();
        assert_eq!(a["status"], "succeeded");
        assert_eq!(a["card"], json!({"brand": "visa", "last4": "4242"}));
        assert!(a["id"].as_str().unwrap().starts_with("pa_"));

        let s = session(&app, &id).await;
        assert_eq!(s["status"], "succeeded");
        assert_eq!(s["latest_attempt"]["id"], a["id"]);

        // A paid session takes no second payment.
        assert_error(widget_attempt(&app, &id, &secret, &card(CARD_OK)).await, 409, "session.not_payable")
            .await;

        // The event is listed and delivered to the merchant, signed.
        let events: Value = app.get_as(KEY_A, "/v1/events").await.json().await.unwrap();
        let types: Vec<&str> =
            events["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["checkout_session.succeeded", "checkout_session.processing"]);
        eventually("succeeded webhook", || async {
            !app.receiver.events_of("checkout_session.succeeded").is_empty()
        })
        .await;
        let hook = &app.receiver.events_of("checkout_session.succeeded")[0];
        assert_eq!(hook["data"]["object"]["id"], id.as_str());
        assert_eq!(hook["data"]["object"]["status"], "succeeded");
        assert_eq!(hook["id"], events["data"][0]["id"]);
        let evt_id = hook["id"].as_str().unwrap().to_owned();
        eventually("delivery recorded", || async {
            let e: Value = app.get_as(KEY_A, &format!("/v1/events/{evt_id}")).await.json().await.unwrap();
            e["delivery"]["state"] == "delivered"
        })
        .await;

        // The sandbox's duplicate webhook for the same payment changed nothing.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let events: Value = app.get_as(KEY_A, "/v1/events").await.json().await.unwrap();
        assert_eq!(events["data"].as_array().unwrap().len(), 2);

        // Card data never rests: brand, BIN, last four only.
        if backend == crate::helpers::Backend::Sqlite {
            let path = app.database_url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
            app.stop().await;
            for file in [path.clone(), format!("{path}-wal")] {
                let bytes = std::fs::read(&file).unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes);
                assert!(!text.contains("4242424242424242") && !text.contains("12/30"), "card data in {file}");
            }
        }
    }
}

#[tokio::test]
async fn declines_leave_the_session_open_for_another_try() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let (id, secret) = sandbox_session(&app, 50_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &card(CARD_DECLINED)).await.json().await.unwrap();
        assert_eq!(a["status"], "failed");
        assert_eq!(a["failure_code"], "card_declined");
        assert_eq!(session(&app, &id).await["status"], "open");
        let a: Value =
            widget_attempt(&app, &id, &secret, &card("4000000000009995")).await.json().await.unwrap();
        assert_eq!(a["failure_code"], "insufficient_funds");
        let a: Value = widget_attempt(&app, &id, &secret, &card(CARD_OK)).await.json().await.unwrap();
        assert_eq!(a["status"], "succeeded", "{backend:?}");
        eventually("payment_failed webhooks", || async {
            app.receiver.events_of("checkout_session.payment_failed").len() == 2
        })
        .await;
    }
}

#[tokio::test]
async fn three_ds_challenge_in_a_one_time_sandboxed_page() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        for (decision, final_status) in [("approve", "succeeded"), ("decline", "open")] {
            let (id, secret) = sandbox_session(&app, 75_000).await;
            let a: Value = widget_attempt(&app, &id, &secret, &card(CARD_3DS)).await.json().await.unwrap();
            assert_eq!(a["status"], "requires_action");
            assert_eq!(a["next_action"]["type"], "three_ds");
            let url = a["next_action"]["url"].as_str().unwrap();
            assert_eq!(url, format!("{PUBLIC_URL}/v1/widget/3ds/{}", a["id"].as_str().unwrap()));
            assert_eq!(session(&app, &id).await["status"], "requires_action");

            // Only with the session's secret: the attempt's id alone (it is
            // in merchant webhooks) cannot take the one-time page.
            let (_, other_secret) = sandbox_session(&app, 75_000).await;
            for query in [String::new(), format!("?client_secret={other_secret}")] {
                let res = app.client.get(app.url(&format!("{}{query}", path_of(url)))).send().await.unwrap();
                assert_eq!(res.status(), 401, "3DS page with {query:?}");
            }
            let with_secret = format!("{}?client_secret={secret}", path_of(url));
            let res = app.client.get(app.url(&with_secret)).send().await.unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["content-security-policy"], "sandbox allow-forms allow-scripts");
            let html = res.text().await.unwrap();
            // One time only.
            assert_error(
                app.client.get(app.url(&with_secret)).send().await.unwrap(),
                404,
                "resource.not_found",
            )
            .await;

            let start = html.find("/sandbox/pay/").unwrap();
            let challenge: String = html[start..].chars().take_while(|c| *c != '"').collect();
            let page = app.client.get(app.url(&challenge)).send().await.unwrap();
            let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
            assert!(csp.contains("frame-ancestors 'self' https://toko-a.example"), "{csp}");
            let page = page.text().await.unwrap();
            assert!(page.contains("75.000"), "{page}");
            let token = form_token(&page);
            // A cross-site form post (no token, or another's) decides nothing.
            for forged in ["", "0123456789abcdef0123456789abcdef"] {
                let res = app
                    .client
                    .post(app.url(&challenge))
                    .form(&[("decision", "approve"), ("token", forged)])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 403);
            }
            assert_eq!(session(&app, &id).await["status"], "requires_action");
            let res = app
                .client
                .post(app.url(&challenge))
                .form(&[("decision", decision), ("token", token.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            wait_status(&app, &id, final_status).await;
            // Deciding twice changes nothing.
            let res = app
                .client
                .post(app.url(&challenge))
                .form(&[("decision", "approve"), ("token", token.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 409);
            assert_eq!(session(&app, &id).await["status"], final_status, "{backend:?}");
        }
    }
}

#[tokio::test]
async fn qris_shows_a_valid_payload_and_is_paid_through_the_test_helper() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let (id, secret) = sandbox_session(&app, 123_456).await;
        let res = widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
        assert_eq!(res.status(), 201);
        let a: Value = res.json().await.unwrap();
        assert_eq!(a["next_action"]["type"], "show_qr");
        let payload = a["next_action"]["qr_payload"].as_str().unwrap();
        let qr = kasir_shared::qris::QrisPayload::parse(payload).unwrap();
        assert_eq!(qr.amount(), kasir_shared::money::Idr::new(123_456));
        assert_eq!(qr.merchant_name(), "Toko A");
        assert!(a["next_action"]["expires_at"].as_i64().unwrap() > 0);

        // Only test-mode keys may use the helper; other merchants cannot see the session.
        let pay = format!("/v1/test_helpers/checkout_sessions/{id}/pay");
        let res = app.client.post(app.url(&pay)).bearer_auth(KEY_B).send().await.unwrap();
        assert_error(res, 404, "resource.not_found").await;
        let res = app.client.post(app.url(&pay)).bearer_auth(KEY_A).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let paid: Value = res.json().await.unwrap();
        assert_eq!(paid["status"], "succeeded", "{backend:?}");
        assert_eq!(paid["latest_attempt"]["status"], "succeeded");
        let res = app.client.post(app.url(&pay)).bearer_auth(KEY_A).send().await.unwrap();
        assert_error(res, 409, "test_helpers.nothing_to_pay").await;
    }
}

/// Issue 18: GoPay gives a QR beside the wallet link (for a shopper on a
/// computer), checked like any QRIS code and for the session's amount;
/// ShopeePay and DANA give the link only.
#[tokio::test]
async fn gopay_comes_with_a_qr_beside_the_link() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        for (wallet, has_qr) in [("gopay", true), ("shopeepay", false), ("dana", false)] {
            let (id, secret) =
                app.new_session(&json!({"amount": 43_210, "reference": format!("INV-W-{wallet}")})).await;
            let res =
                widget_attempt(&app, &id, &secret, &json!({"method": "ewallet", "wallet": wallet})).await;
            assert_eq!(res.status(), 201);
            let a: Value = res.json().await.unwrap();
            let action = &a["next_action"];
            assert_eq!(action["type"], "redirect", "{a}");
            assert!(action["url"].as_str().unwrap().starts_with("http"), "{a}");
            match action["qr_payload"].as_str() {
                Some(payload) => {
                    assert!(has_qr, "{wallet}: {a}");
                    let qr = kasir_shared::qris::QrisPayload::parse(payload).unwrap();
                    assert_eq!(qr.amount(), kasir_shared::money::Idr::new(43_210));
                }
                None => assert!(!has_qr, "{wallet}: no QR in {a}"),
            }
        }
    }
}

/// Issue 18: cash at Indomaret or Alfamart with a payment code, through the
/// sandbox: the code, its deadline and the steps in the session's language;
/// an unknown chain is refused with its field; paid through the test helper.
#[tokio::test]
async fn a_convenience_store_code_is_shown_with_its_steps_and_paid() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        for (store, locale, digits, first_step) in [
            ("alfamart", "id", 16, "Datang ke gerai Alfamart, Alfamidi atau Dan+Dan terdekat."),
            ("indomaret", "en", 14, "Go to the nearest Indomaret store."),
        ] {
            let (id, secret) = app
                .new_session(
                    &json!({"amount": 75_000, "reference": format!("INV-CS-{store}"), "locale": locale}),
                )
                .await;
            let view = crate::helpers::widget_view(&app, &id, &secret).await;
            assert!(
                view["payment_methods"].as_array().unwrap().contains(&json!("convenience_store")),
                "{view}"
            );
            let res = widget_attempt(
                &app,
                &id,
                &secret,
                &json!({"method": "convenience_store", "store": "lawson"}),
            )
            .await;
            assert!(res.status() == 400 || res.status() == 422, "{}", res.status());
            let res =
                widget_attempt(&app, &id, &secret, &json!({"method": "convenience_store", "store": store}))
                    .await;
            assert_eq!(res.status(), 201);
            let a: Value = res.json().await.unwrap();
            assert_eq!(a["method"], "convenience_store");
            let action = &a["next_action"];
            assert_eq!(
                (action["type"].as_str(), action["store"].as_str()),
                (Some("show_payment_code"), Some(store))
            );
            let code = action["code"].as_str().unwrap();
            assert!(code.len() == digits && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
            assert_eq!(action["instructions"][0], first_step, "{a}");
            let deadline = action["expires_at"].as_i64().unwrap();
            let s = session(&app, &id).await;
            assert!(deadline > 0 && deadline <= s["expires_at"].as_i64().unwrap(), "{a} {s}");
            assert_eq!(s["latest_attempt"]["next_action"]["instructions"][0], first_step);
            let pay = format!("/v1/test_helpers/checkout_sessions/{id}/pay");
            let res = app.client.post(app.url(&pay)).bearer_auth(KEY_A).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let paid: Value = res.json().await.unwrap();
            assert_eq!(paid["status"], "succeeded", "{backend:?} {store}");
        }
    }
}

#[tokio::test]
async fn switching_from_a_virtual_account_to_a_card_voids_the_account_first() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let (id, secret) = sandbox_session(&app, 200_000).await;
        let va: Value =
            widget_attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "bca"}))
                .await
                .json()
                .await
                .unwrap();
        assert_eq!(va["next_action"]["type"], "show_virtual_account");
        assert_eq!(va["next_action"]["bank"], "bca");
        assert_eq!(va["next_action"]["number"].as_str().unwrap().len(), 16);
        let wallet: Value =
            widget_attempt(&app, &id, &secret, &json!({"method": "ewallet", "wallet": "dana"}))
                .await
                .json()
                .await
                .unwrap();
        assert_eq!(wallet["next_action"]["type"], "redirect");
        let card: Value = widget_attempt(&app, &id, &secret, &card(CARD_OK)).await.json().await.unwrap();
        assert_eq!(card["status"], "succeeded", "{backend:?}");
        // Nothing is left to pay: the VA and the wallet payment were voided.
        let res = app
            .client
            .post(app.url(&format!("/v1/test_helpers/checkout_sessions/{id}/pay")))
            .bearer_auth(KEY_A)
            .send()
            .await
            .unwrap();
        assert_error(res, 409, "test_helpers.nothing_to_pay").await;
        let wallet_page = path_of(wallet["next_action"]["url"].as_str().unwrap()).to_owned();
        let res =
            app.client.post(app.url(&wallet_page)).form(&[("decision", "approve")]).send().await.unwrap();
        assert_eq!(res.status(), 403, "no form token");
    }
}

#[tokio::test]
async fn a_provider_timeout_is_unknown_until_the_reconciler_settles_it() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let (id, secret) = sandbox_session(&app, 99_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &card(CARD_TIMEOUT)).await.json().await.unwrap();
        assert_eq!(a["status"], "unknown", "{backend:?}");
        // No second charge while the outcome is unknown.
        assert_error(widget_attempt(&app, &id, &secret, &card(CARD_OK)).await, 409, "session.not_payable")
            .await;
        wait_status(&app, &id, "succeeded").await;
        assert_eq!(session(&app, &id).await["latest_attempt"]["id"], a["id"]);
    }
}

#[tokio::test]
async fn the_widget_api_takes_only_the_client_secret() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let (id, secret) = sandbox_session(&app, 10_000).await;
    let (other, _) = sandbox_session(&app, 10_000).await;
    let path = format!("/v1/widget/sessions/{id}");
    let get = |key: Option<String>, p: String| {
        let mut req = app.client.get(app.url(&p));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req.send()
    };
    assert_error(get(None, path.clone()).await.unwrap(), 401, "auth.missing").await;
    assert_error(get(Some(KEY_A.into()), path.clone()).await.unwrap(), 401, "auth.invalid").await;
    assert_error(get(Some("cs_x_secret_y".into()), path.clone()).await.unwrap(), 401, "auth.invalid").await;
    // One session's secret does not open another.
    assert_error(
        get(Some(secret.clone()), format!("/v1/widget/sessions/{other}")).await.unwrap(),
        401,
        "auth.invalid",
    )
    .await;
    // And the client secret does not open the merchant API.
    assert_error(
        get(Some(secret.clone()), format!("/v1/checkout_sessions/{id}")).await.unwrap(),
        401,
        "auth.invalid",
    )
    .await;

    // CORS: the merchant's origin and Kasir's own are echoed; others are not.
    for (origin, allowed) in
        [("https://toko-a.example", true), (PUBLIC_URL, true), ("https://evil.example", false)]
    {
        let res = app
            .client
            .request(reqwest::Method::OPTIONS, app.url(&path))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
        let echoed = res.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(echoed.as_deref() == Some(origin), allowed, "{origin}");
    }
}

#[tokio::test]
async fn attempts_are_validated_with_field_codes() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let res = app
        .post_a(
            "/v1/checkout_sessions",
            &json!({"amount": 10000, "reference": "R-1", "payment_methods": ["card", "ewallet"]}),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    let (id, secret) = (body["id"].as_str().unwrap(), body["client_secret"].as_str().unwrap());
    let cases = [
        (card("4242 4242 4242 4241"), 422, "card_number.luhn", "card.number"),
        (
            json!({"method": "card", "card": {"number": CARD_OK, "expiry": "01/20", "cvv": "123", "holder_name": "Budi"}}),
            422,
            "expiry.past",
            "card.expiry",
        ),
        (
            json!({"method": "card", "card": {"number": "378282246310005", "expiry": "12/39", "cvv": "123", "holder_name": "Budi"}}),
            422,
            "cvv.length",
            "card.cvv",
        ),
        (json!({"method": "qris"}), 422, "payment_method.not_allowed", "method"),
        (json!({"method": "ewallet", "wallet": "ovo"}), 422, "phone.empty", "phone"),
        (
            json!({"method": "ewallet", "wallet": "ovo", "phone": "021-555-1234"}),
            422,
            "phone.not_mobile",
            "phone",
        ),
    ];
    for (body, status, code, field) in cases {
        let err = assert_error(widget_attempt(&app, id, secret, &body).await, status, code).await;
        assert_eq!(err["error"]["field"], field, "{err}");
        // No card data in the error.
        assert!(!err.to_string().contains("4242"), "{err}");
    }
    let res = widget_attempt(&app, id, secret, &json!({"method": "cash"})).await;
    assert_error(res, 400, "request.malformed").await;
    // Nothing was written by the rejected requests.
    assert_eq!(session(&app, id).await["latest_attempt"], Value::Null);
}

#[tokio::test]
async fn a_session_takes_a_bounded_number_of_attempts() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let (id, secret) = sandbox_session(&app, 10_000).await;
    for _ in 0..10 {
        let a: Value = widget_attempt(&app, &id, &secret, &card(CARD_DECLINED)).await.json().await.unwrap();
        assert_eq!(a["status"], "failed");
    }
    assert_error(widget_attempt(&app, &id, &secret, &card(CARD_OK)).await, 429, "attempts.too_many").await;
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("kasir_rate_limited_total{limit=\"attempts_per_session\"} 1"), "{metrics}");
    assert!(metrics.contains("kasir_attempts_total{provider=\"sandbox\",status=\"failed\"} 10"), "{metrics}");
}

/// Card testing: one address trying many different card numbers is
/// refused after `cards_per_ip_per_hour` of them, with a code, in metrics;
/// a card it already tried still works, and other shoppers are not
/// affected. Behind a trusted proxy the address is the forwarded one.
#[tokio::test]
async fn many_different_cards_from_one_address_are_refused() {
    let database_url = crate::helpers::fresh_database_url(crate::helpers::Backend::Sqlite).await;
    let app = crate::helpers::spawn_with(database_url, crate::helpers::Receiver::start().await, |c| {
        c.limits.cards_per_ip_per_hour = 3;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    // Visa test numbers the sandbox approves: 4111 1111 1111 1111 and
    // others made valid with their Luhn check digit.
    let with_check_digit = |body: &str| {
        let sum: u32 = body
            .chars()
            .rev()
            .map(|c| c.to_digit(10).unwrap())
            .enumerate()
            .map(|(i, d)| if i % 2 == 0 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
            .sum();
        format!("{body}{}", (10 - sum % 10) % 10)
    };
    let cards: Vec<String> = (0..4).map(|n| with_check_digit(&format!("41111111111{n:04}"))).collect();
    let pay = |from: &'static str, number: String| {
        let app = &app;
        async move {
            let (id, secret) = sandbox_session(app, 10_000).await;
            app.client
                .post(app.url(&format!("/v1/widget/sessions/{id}/attempts")))
                .bearer_auth(secret)
                .header("x-forwarded-for", from)
                .json(&card(&number))
                .send()
                .await
                .unwrap()
        }
    };
    for number in &cards[..3] {
        assert_eq!(pay("203.0.113.7", number.clone()).await.status(), 201);
    }
    let e = assert_error(pay("203.0.113.7", cards[3].clone()).await, 429, "cards.too_many").await;
    assert_eq!(e["error"]["field"], "card.number", "{e}");
    assert!(!e.to_string().contains(&cards[3][12..]), "no card digits in the error: {e}");
    // The same address may still pay with a card it already tried…
    assert_eq!(pay("203.0.113.7", cards[0].clone()).await.status(), 201);
    // …and another shopper behind the same proxy is not affected.
    assert_eq!(pay("203.0.113.8", cards[3].clone()).await.status(), 201);
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("kasir_rate_limited_total{limit=\"cards_per_ip\"} 1"), "{metrics}");
    app.stop().await;
}

/// A webhook from outside the provider's configured networks is refused
/// before its signature is read, and changes nothing; from inside, the
/// same webhook is applied. The address is the forwarded one behind a
/// trusted proxy.
#[tokio::test]
async fn webhooks_from_outside_the_providers_networks_are_refused() {
    let database_url = crate::helpers::fresh_database_url(crate::helpers::Backend::Sqlite).await;
    let app = crate::helpers::spawn_with(database_url, crate::helpers::Receiver::start().await, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.webhook_sources.insert("sandbox".into(), vec!["198.51.100.0/24".parse().unwrap()]);
    })
    .await;
    let (wid, payment_id, now) = sandbox_wallet_payment(&app).await;
    let good = json!({"payment_id": payment_id, "status": "succeeded", "amount": 30000}).to_string();
    let send = |from: &'static str| {
        app.client
            .post(app.url("/webhooks/sandbox"))
            .header("sandbox-signature", sandbox_signature(SANDBOX_SECRET, now, &good))
            .header("content-type", "application/json")
            .header("x-forwarded-for", from)
            .body(good.clone())
            .send()
    };
    let res = send("203.0.113.9").await.unwrap();
    assert_error(res, 403, "webhook.source_not_allowed").await;
    assert_eq!(session(&app, &wid).await["status"], "requires_action");
    assert_eq!(send("198.51.100.20").await.unwrap().status(), 200);
    wait_status(&app, &wid, "succeeded").await;
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("result=\"source_not_allowed\"} 1"), "{metrics}");
    // A flood from outside is refused alike, and past the per-address
    // budget of rejected webhooks it is counted, not logged line by line.
    for _ in 0..40 {
        assert_error(send("203.0.113.9").await.unwrap(), 403, "webhook.source_not_allowed").await;
    }
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("result=\"source_not_allowed\"} 41"), "{metrics}");
    assert!(metrics.contains("kasir_rate_limited_total{limit=\"rejected_webhooks_per_ip\"} 11"), "{metrics}");
    app.stop().await;
}

/// A DANA payment of 30,000 on the sandbox awaiting the shopper: the
/// session id, the sandbox's payment id as the provider knows it (from its
/// page URL) and the current Unix time for signing its webhooks.
async fn sandbox_wallet_payment(app: &TestApp) -> (String, String, i64) {
    let (id, secret) = sandbox_session(app, 30_000).await;
    let w: Value = widget_attempt(app, &id, &secret, &json!({"method": "ewallet", "wallet": "dana"}))
        .await
        .json()
        .await
        .unwrap();
    let page = path_of(w["next_action"]["url"].as_str().unwrap()).to_owned();
    let payment_id = page.rsplit('/').next().unwrap().to_owned();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    (id, payment_id, now)
}

#[tokio::test]
async fn inbound_webhooks_are_verified_and_idempotent() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let (id, secret) = sandbox_session(&app, 30_000).await;
        let a: Value =
            widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await.json().await.unwrap();
        assert_eq!(a["status"], "requires_action");
        let (wid, payment_id, now) = sandbox_wallet_payment(&app).await;
        let send = |sig: String, body: String| {
            app.client
                .post(app.url("/webhooks/sandbox"))
                .header("sandbox-signature", sig)
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        let good = json!({"payment_id": payment_id, "status": "succeeded", "amount": 30000}).to_string();
        // Forged, other bytes, stale, future: refused, nothing changes.
        assert_error(
            send(sandbox_signature("wrong", now, &good), good.clone()).await.unwrap(),
            401,
            "webhook.signature",
        )
        .await;
        let other = good.replace("30000", "30001");
        assert_error(
            send(sandbox_signature(SANDBOX_SECRET, now, &good), other).await.unwrap(),
            401,
            "webhook.signature",
        )
        .await;
        assert_error(
            send(sandbox_signature(SANDBOX_SECRET, now - 3600, &good), good.clone()).await.unwrap(),
            401,
            "webhook.stale",
        )
        .await;
        assert_error(
            send(sandbox_signature(SANDBOX_SECRET, now + 3600, &good), good.clone()).await.unwrap(),
            401,
            "webhook.stale",
        )
        .await;
        let res = app.client.post(app.url("/webhooks/nobody")).body("{}").send().await.unwrap();
        assert_error(res, 404, "provider.unknown").await;
        // Authentic but about another amount: acknowledged, never settles
        // the attempt as paid; it becomes unknown (the session stays
        // closed to new attempts) until the provider's word matches.
        let wrong_amount = good.replace("30000", "3000000");
        let res = send(sandbox_signature(SANDBOX_SECRET, now, &wrong_amount), wrong_amount).await.unwrap();
        assert_eq!(res.status(), 200);
        let s = session(&app, &wid).await;
        assert_eq!(s["status"], "processing", "{s}");
        assert_eq!(s["latest_attempt"]["status"], "unknown", "{s}");
        // Authentic: applied once; the duplicate changes nothing and emits nothing.
        for _ in 0..3 {
            let res = send(sandbox_signature(SANDBOX_SECRET, now, &good), good.clone()).await.unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(res.text().await.unwrap(), "OK");
        }
        assert_eq!(session(&app, &wid).await["status"], "succeeded", "{backend:?}");
        let events: Value = app.get_as(KEY_A, "/v1/events?limit=100").await.json().await.unwrap();
        let succeeded = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["type"] == "checkout_session.succeeded" && e["data"]["object"]["id"] == wid.as_str()
            })
            .count();
        assert_eq!(succeeded, 1);
        // The other session's QR is untouched.
        assert_eq!(session(&app, &id).await["status"], "requires_action");
        let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(
            metrics.contains("kasir_webhooks_in_total{provider=\"sandbox\",result=\"rejected\"} 4"),
            "{metrics}"
        );
        assert!(metrics.contains("kasir_provider_mismatch_total{provider=\"sandbox\"} 1"), "{metrics}");
    }
}

#[tokio::test]
async fn refunds_full_and_partial_never_exceed_the_payment() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let (id, secret) = sandbox_session(&app, 100_000).await;
        let path = format!("/v1/checkout_sessions/{id}/refunds");
        assert_error(app.post_a(&path, &json!({})).await, 409, "refund.not_allowed").await;
        widget_attempt(&app, &id, &secret, &card(CARD_OK)).await;
        let res = app.post_a(&path, &json!({"amount": 40_000})).await;
        assert_eq!(res.status(), 201, "{backend:?}");
        let r: Value = res.json().await.unwrap();
        assert!(r["id"].as_str().unwrap().starts_with("re_"));
        assert_eq!(session(&app, &id).await["status"], "partially_refunded");
        assert_error(app.post_a(&path, &json!({"amount": 60_001})).await, 422, "refund.amount").await;
        assert_error(app.post_a(&path, &json!({"amount": 0})).await, 422, "refund.amount").await;
        // Concurrent refunds of the rest: exactly one wins.
        let empty = json!({});
        let results = futures_util::future::join_all((0..4).map(|_| app.post_a(&path, &empty))).await;
        let ok = results.iter().filter(|r| r.status() == 201).count();
        assert_eq!(ok, 1);
        let s = session(&app, &id).await;
        assert_eq!(s["status"], "refunded");
        assert_eq!(s["amount_refunded"], 100_000);
        eventually("refund webhooks", || async {
            app.receiver.events_of("checkout_session.refunded").len() == 1
                && app.receiver.events_of("checkout_session.partially_refunded").len() == 1
        })
        .await;
    }
}

#[tokio::test]
async fn server_sent_events_follow_the_session_to_its_end() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let (id, secret) = sandbox_session(&app, 25_000).await;
    let url = app.url(&format!("/v1/widget/sessions/{id}/events?client_secret={secret}"));
    assert_error(
        app.client
            .get(app.url(&format!("/v1/widget/sessions/{id}/events?client_secret=nope")))
            .send()
            .await
            .unwrap(),
        401,
        "auth.invalid",
    )
    .await;
    let mut res = app.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut seen = String::new();
    let first = res.chunk().await.unwrap().unwrap();
    seen.push_str(&String::from_utf8_lossy(&first));
    assert!(seen.contains("\"status\":\"open\""), "{seen}");
    widget_attempt(&app, &id, &secret, &card(CARD_OK)).await;
    let read = async {
        while let Some(chunk) = res.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        seen
    };
    // The stream ends by itself at the final status.
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), read).await.unwrap();
    assert!(seen.contains("\"status\":\"succeeded\""), "{seen}");
    assert!(!seen.contains("client_secret"), "{seen}");
}

/// Hostile webhooks beyond the signature: wrong content type, an oversized
/// body; a source that keeps sending what does not verify gets 429 for its
/// forgeries, but its genuine webhooks still pass (issue 15: behind a
/// proxy, one address carries every provider's webhooks); none of the
/// hostile ones changes anything.
#[tokio::test]
async fn hostile_webhooks_are_refused_and_their_source_throttled() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let (wid, payment_id, now) = sandbox_wallet_payment(&app).await;
    let good = json!({"payment_id": payment_id, "status": "succeeded", "amount": 30000}).to_string();
    let send = |content_type: &'static str, sig: String, body: String| {
        app.client
            .post(app.url("/webhooks/sandbox"))
            .header("sandbox-signature", sig)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    // Authentic bytes, but not sent as JSON: refused.
    let res = send("text/plain", sandbox_signature(SANDBOX_SECRET, now, &good), good.clone()).await.unwrap();
    let e = assert_error(res, 415, "webhook.content_type").await;
    assert!(e["error"]["message_id"].as_str().unwrap().contains("application/json"));
    // Over 64 KiB: refused unread.
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    let res = send("application/json", sandbox_signature(SANDBOX_SECRET, now, &huge), huge).await.unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(session(&app, &wid).await["status"], "requires_action");
    // 29 forgeries more make 30 unverifiable webhooks this minute; the
    // next forgery gets 429.
    for _ in 0..29 {
        let res =
            send("application/json", sandbox_signature("forged", now, &good), good.clone()).await.unwrap();
        assert_error(res, 401, "webhook.signature").await;
    }
    let res = send("application/json", sandbox_signature("forged", now, &good), good.clone()).await.unwrap();
    assert_error(res, 429, "rate_limit.exceeded").await;
    assert_eq!(session(&app, &wid).await["status"], "requires_action", "nothing changed");
    // The provider's genuine webhook from the same address is applied.
    let res =
        send("application/json; charset=utf-8", sandbox_signature(SANDBOX_SECRET, now, &good), good.clone())
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(session(&app, &wid).await["status"], "succeeded");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("kasir_webhooks_in_total{provider=\"sandbox\",result=\"rejected\"} 30"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kasir_webhooks_in_total{provider=\"sandbox\",result=\"throttled\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("kasir_rate_limited_total{limit=\"rejected_webhooks_per_ip\"} 1"), "{metrics}");
}

/// Reads the event stream until an event whose data contains `needle`.
async fn next_event_with(res: &mut reqwest::Response, seen: &mut String, needle: &str) -> String {
    loop {
        if let Some(end) = seen.find("\n\n") {
            let event: String = seen.drain(..end + 2).collect();
            if event.contains(needle) {
                return event;
            }
            continue;
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(15), res.chunk())
            .await
            .unwrap_or_else(|_| panic!("no event with {needle:?} on the stream"))
            .unwrap()
            .unwrap_or_else(|| panic!("the stream ended before an event with {needle:?}"));
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

/// The widget's live status (Server-Sent Events): the session at once, each
/// change as it happens, a wrong secret refused, and the stream ends when the
/// server stops, so that a graceful stop never waits on listening shoppers.
#[tokio::test]
async fn the_event_stream_follows_the_session_and_ends_when_the_server_stops() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let (id, secret) = sandbox_session(&app, 150_000).await;
    let wrong = app
        .client
        .get(app.url(&format!("/v1/widget/sessions/{id}/events?client_secret=cs_secret_wrong")))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let url = app.url(&format!("/v1/widget/sessions/{id}/events?client_secret={secret}"));
    let mut res = app.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    let first = next_event_with(&mut res, &mut seen, "event: session").await;
    assert!(first.contains("\"status\":\"open\""), "{first}");
    assert!(!first.contains(&secret), "the stream never repeats the secret");

    let res_qr = widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
    assert_eq!(res_qr.status(), 201);
    let shown = next_event_with(&mut res, &mut seen, "show_qr").await;
    assert!(shown.contains("qr_payload"), "{shown}");

    // The listener is still connected; stopping must end its stream.
    let stopped = tokio::spawn(app.stop());
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            match res.chunk().await {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the event stream did not end when the server stopped");
    tokio::time::timeout(std::time::Duration::from_secs(20), stopped)
        .await
        .expect("the server stopped")
        .unwrap();
}
