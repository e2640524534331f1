//! Money at the edges (issue 14): a live merchant never reaches the sandbox,
//! money after cancel is recorded as a late payment, a lost answer stays
//! unknown until the merchant resolves it, and refunds are never paid twice.
//! Each test fails on the code before the fix (see RELIABILITY.md's table).

use kasir_server::config::MerchantConfig;
use kasir_shared::secret::SecretString;
use kasir_tests::sim::singapay;
use serde_json::{Value, json};

use crate::helpers::*;

const KEY_LIVE: &str = "sk_live_merchant_l_0123456789abcdef";

async fn session_as(app: &TestApp, key: &str, body: Value) -> Value {
    let res =
        app.client.post(app.url("/v1/checkout_sessions")).bearer_auth(key).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// A live merchant that names no methods gets the ones routed to a real
/// provider, not every method Kasir offers: a method added later (the
/// convenience store, routed to the sandbox by default) never reaches real
/// money, and does not stop the server. A test merchant gets them all. An
/// explicit list that names a sandbox method still refuses to start.
#[tokio::test]
async fn a_live_merchant_that_names_no_methods_gets_only_those_a_real_provider_takes() {
    let sim = singapay_simulator().await;
    let app = spawn_with(fresh_database_url(Backend::Sqlite).await, Receiver::start().await, |config| {
        route_cards_to_singapay(config, &sim, SINGAPAY_SECRET);
        config.merchants.push(MerchantConfig::new("live", "Toko Live", SecretString::new(KEY_LIVE.into())));
    })
    .await;
    let live = session_as(
        &app,
        KEY_LIVE,
        json!({"amount": 90_000, "reference": "INV-LIVE-D", "customer": full_customer()}),
    )
    .await;
    assert_eq!(live["payment_methods"], json!(["card"]), "{live}");
    let test = session_as(&app, KEY_A, json!({"amount": 90_000, "reference": "INV-TEST-D"})).await;
    let all: Vec<&str> = kasir_shared::payment::PaymentMethodKind::ALL.iter().map(|m| m.as_str()).collect();
    assert_eq!(test["payment_methods"], json!(all), "{test}");
    app.stop().await;

    let mut config = kasir_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: fresh_database_url(Backend::Sqlite).await,
        ..kasir_server::Config::default()
    };
    route_cards_to_singapay(&mut config, &sim, SINGAPAY_SECRET);
    let mut explicit = MerchantConfig::new("live", "Toko Live", SecretString::new(KEY_LIVE.into()));
    explicit.payment_methods = Some(vec![
        kasir_shared::payment::PaymentMethodKind::Card,
        kasir_shared::payment::PaymentMethodKind::ConvenienceStore,
    ]);
    config.merchants = vec![explicit];
    let err = kasir_server::Server::bind(config).await.expect_err("a live convenience store on the sandbox");
    assert!(err.to_string().contains("convenience_store") && err.to_string().contains("sandbox"), "{err}");
}

#[tokio::test]
async fn a_live_merchant_never_reaches_the_sandbox() {
    // A live merchant whose methods route to the sandbox (no [routing]): no start.
    let mut config = kasir_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: fresh_database_url(Backend::Sqlite).await,
        ..kasir_server::Config::default()
    };
    config.merchants = vec![MerchantConfig::new("live", "Toko Live", SecretString::new(KEY_LIVE.into()))];
    let err = kasir_server::Server::bind(config).await.expect_err("a live merchant routed to the sandbox");
    assert!(err.to_string().contains("sandbox") && err.to_string().contains("live"), "{err}");

    // Allowed only cards, routed to SingaPay: it starts, and sandbox stays out of reach.
    let sim = singapay_simulator().await;
    let database_url = fresh_database_url(Backend::Sqlite).await;
    let app = spawn_with(database_url, Receiver::start().await, |config| {
        route_cards_to_singapay(config, &sim, SINGAPAY_SECRET);
        let mut live = MerchantConfig::new("live", "Toko Live", SecretString::new(KEY_LIVE.into()));
        live.payment_methods = Some(vec![kasir_shared::payment::PaymentMethodKind::Card]);
        config.merchants.push(live);
    })
    .await;
    let s = session_as(
        &app,
        KEY_LIVE,
        json!({"amount": 90_000, "reference": "INV-LIVE", "customer": full_customer()}),
    )
    .await;
    assert_eq!((s["livemode"].as_bool(), &s["payment_methods"]), (Some(true), &json!(["card"])), "{s}");
    let test = session_as(&app, KEY_A, json!({"amount": 90_000, "reference": "INV-TEST"})).await;
    assert_eq!(test["livemode"], false);
    let res = app
        .client
        .post(app.url("/v1/checkout_sessions"))
        .bearer_auth(KEY_LIVE)
        .json(&json!({"amount": 90_000, "reference": "INV-LIVE", "payment_methods": ["card", "qris"]}))
        .send()
        .await
        .unwrap();
    let body = assert_error(res, 422, "payment_method.not_allowed").await;
    assert_eq!(body["error"]["field"], "payment_methods[1]");
    let id = s["id"].as_str().unwrap();
    let a: Value =
        widget_attempt(&app, id, s["client_secret"].as_str().unwrap(), &singapay_card("5555555555554444"))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(a["provider"], "singapay", "{a}");
    // The test helper that pays through the sandbox refuses a live key.
    let res = app
        .client
        .post(app.url(&format!("/v1/test_helpers/checkout_sessions/{id}/pay")))
        .bearer_auth(KEY_LIVE)
        .send()
        .await
        .unwrap();
    assert_error(res, 403, "test_mode.required").await;
    app.stop().await;
}

/// A live merchant routed to a provider's own sandbox or demo host is
/// refused at start like one routed to Kasir's sandbox: a shopper could
/// "pay" in the provider's public simulator and the goods would ship. The
/// adapters' base URLs default to the sandbox hosts, so forgetting it is
/// the easy mistake. The production host starts.
#[tokio::test]
async fn a_live_merchant_is_never_routed_to_a_providers_sandbox_host() {
    let singapay = |base_url: &str| {
        format!(
            "{base_url}partner_id = \"api-key-1\"\nclient_id = \"client-1\"\nclient_secret = \"s\"\n\
             account_id = \"01K5G4FZZ18DMK0M5QTR8Y9QY9\"\n"
        )
    };
    let midtrans = |base_url: &str| format!("{base_url}server_key = \"k\"\nclient_key = \"c\"\n");
    let cases = [
        ("singapay", singapay(""), false),
        ("singapay", singapay("base_url = \"https://sandbox-payment-b2b.singapay.id\"\n"), false),
        ("midtrans", midtrans(""), false),
        ("midtrans", midtrans("base_url = \"https://API.sandbox.midtrans.com/\"\n"), false),
        ("singapay", singapay("base_url = \"https://payment-b2b.singapay.id\"\n"), true),
        ("midtrans", midtrans("base_url = \"https://api.midtrans.com\"\n"), true),
    ];
    for (provider, table, starts) in cases {
        let mut config = kasir_server::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: fresh_database_url(Backend::Sqlite).await,
            ..kasir_server::Config::default()
        };
        let table: toml::Table = toml::from_str(&table).unwrap();
        let tables = kasir_server::config_file::ProviderTables::from([(provider.to_owned(), table)]);
        config.providers = kasir_server::config::ProviderSettings::load(tables, &|_| None).unwrap();
        config.routing.insert("card".into(), provider.into());
        let mut live = MerchantConfig::new("live", "Toko Live", SecretString::new(KEY_LIVE.into()));
        live.payment_methods = Some(vec![kasir_shared::payment::PaymentMethodKind::Card]);
        config.merchants = vec![live];
        match kasir_server::Server::bind(config).await {
            Ok(_) => assert!(starts, "{provider} on its sandbox host started for a live merchant"),
            Err(e) => {
                assert!(!starts, "{provider} on its production host: {e}");
                assert!(e.to_string().contains("test environment"), "{e}");
            }
        }
    }
}

#[tokio::test]
async fn a_lost_singapay_answer_stays_unknown_until_the_merchant_resolves_it() {
    for backend in backends().await {
        let sim = singapay_simulator().await;
        let database_url = fresh_database_url(backend).await;
        let app = spawn_with(database_url, Receiver::start().await, |config| {
            route_cards_to_singapay(config, &sim, SINGAPAY_SECRET);
            config.timings.review_after = std::time::Duration::from_millis(2_500);
        })
        .await;
        let (id, secret) = app
            .new_session(&json!({"amount": 90_000, "reference": "INV-LOST", "customer": full_customer()}))
            .await;
        let (id, secret) = (id.as_str(), secret.as_str());
        // Charged at SingaPay; the answer comes after Kasir's timeout, and
        // SingaPay cannot be asked by our reference.
        let a: Value =
            widget_attempt(&app, id, secret, &singapay_card(singapay::CARD_SLOW)).await.json().await.unwrap();
        assert_eq!(a["status"], "unknown", "{a}");
        // The shopper cannot pay again while the money may have moved.
        let again = widget_attempt(&app, id, secret, &singapay_card("4242424242424242")).await;
        assert_eq!(again.status(), 409);
        // The merchant is told, once, and the attempt stays unknown.
        eventually("requires_review", || async {
            !app.receiver.events_of("checkout_session.requires_review").is_empty()
        })
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        let reviews = app.receiver.events_of("checkout_session.requires_review");
        assert_eq!(reviews.len(), 1);
        assert_eq!(reviews[0]["data"]["object"]["id"], id);
        let got: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(got["status"], "processing", "{got}");
        assert_eq!(got["latest_attempt"]["status"], "unknown", "{got}");
        assert_eq!(got["latest_attempt"]["requires_review"], true, "{got}");

        // The merchant checked SingaPay's dashboard and settles it.
        let path = format!("/v1/checkout_sessions/{id}/resolve");
        assert_error(app.post_a(&path, &json!({"outcome": "maybe"})).await, 422, "resolution.outcome").await;
        let res =
            app.post_a(&path, &json!({"outcome": "succeeded", "note": "paid per SingaPay dashboard"})).await;
        assert_eq!(res.status(), 200);
        let resolved: Value = res.json().await.unwrap();
        assert_eq!(resolved["status"], "succeeded", "{resolved}");
        let resolution = &resolved["latest_attempt"]["resolution"];
        assert_eq!(
            (resolution["outcome"].as_str(), resolution["by"]["merchant"].as_str()),
            (Some("succeeded"), Some("merchant_a"))
        );
        eventually("succeeded event", || async {
            app.receiver.events_of("checkout_session.succeeded").len() == 1
        })
        .await;
        assert_error(app.post_a(&path, &json!({"outcome": "failed"})).await, 409, "session.not_under_review")
            .await;
        app.stop().await;
    }
}

#[tokio::test]
async fn a_qr_paid_after_cancel_is_a_late_payment_never_dropped() {
    for backend in backends().await {
        let sim = smilepayz_simulator().await;
        let app = smilepayz_kasir(backend, &sim, SMILEPAYZ_SECRET, "").await;
        let (id, secret) = app.new_session(&json!({"amount": 50_000, "reference": "INV-LATE"})).await;
        let (id, secret) = (id.as_str(), secret.as_str());
        let a: Value =
            widget_attempt(&app, id, secret, &json!({"method": "qris"})).await.json().await.unwrap();
        assert_eq!(a["status"], "requires_action", "{a}");
        let res = app.post_a(&format!("/v1/checkout_sessions/{id}/cancel"), &json!({})).await;
        assert_eq!(res.status(), 200);
        // Smilepayz documents no void: the QR is still payable, and is paid.
        let order = sim.order_for_attempt(a["id"].as_str().unwrap()).unwrap();
        assert_eq!(sim.pay(&order.order_no).await, (200, "SUCCESS".to_owned()));
        // A duplicate callback changes nothing.
        sim.send_callback(&order.order_no, kasir_tests::sim::smilepayz::CallbackMode::Valid).await;
        eventually("late payment event", || async {
            !app.receiver.events_of("checkout_session.late_payment").is_empty()
        })
        .await;
        let late = app.receiver.events_of("checkout_session.late_payment");
        assert_eq!(late.len(), 1);
        assert_eq!(late[0]["data"]["object"]["late_payment"]["amount"], 50_000, "{}", late[0]);
        // Smilepayz cannot refund: the merchant is told so, and the session says it.
        eventually("refund outcome", || async {
            !app.receiver.events_of("checkout_session.late_payment_refund_failed").is_empty()
        })
        .await;
        let got: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(got["status"], "cancelled", "{got}");
        let lp = &got["late_payments"];
        assert_eq!(lp.as_array().map(Vec::len), Some(1), "{got}");
        assert_eq!(
            (lp[0]["status"].as_str(), lp[0]["failure_code"].as_str()),
            (Some("refund_failed"), Some("refund_unsupported"))
        );
        assert_eq!(lp[0]["provider_reference"].as_str(), Some(order.trade_no.as_str()), "{got}");
        app.stop().await;
    }
}

#[tokio::test]
async fn refunds_are_idempotent_and_the_last_one_makes_the_session_refunded() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let (id, secret) = app.new_session(&json!({"amount": 100_000, "reference": "INV-RF"})).await;
        let (id, secret) = (id.as_str(), secret.as_str());
        let a = widget_attempt(&app, id, secret, &singapay_card("4242424242424242")).await;
        assert_eq!(a.status(), 201);
        wait_session_status(&app, id, "succeeded").await;
        let path = format!("/v1/checkout_sessions/{id}/refunds");
        let refund = |amount: i64, key: &'static str| {
            let (url, client) = (app.url(&path), app.client.clone());
            async move {
                client
                    .post(url)
                    .bearer_auth(KEY_A)
                    .header("Idempotency-Key", key)
                    .json(&json!({"amount": amount}))
                    .send()
                    .await
                    .unwrap()
            }
        };
        // A retried request with its key refunds once.
        let first: Value = refund(40_000, "rf-1").await.json().await.unwrap();
        assert_eq!(first["status"], "succeeded", "{first}");
        let retry = refund(40_000, "rf-1").await;
        assert_eq!(retry.status(), 201);
        let retry: Value = retry.json().await.unwrap();
        assert_eq!((first["id"].clone(), first["status"].clone()), (retry["id"].clone(), json!("succeeded")));
        assert_error(refund(10_000, "rf-1").await, 409, "idempotency_key.reused").await;
        let got: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(
            (got["amount_refunded"].as_i64(), got["status"].as_str()),
            (Some(40_000), Some("partially_refunded"))
        );
        // Two partial refunds at once that complete the amount: refunded.
        let (x, y) = tokio::join!(refund(30_000, "rf-2"), refund(30_000, "rf-3"));
        assert_eq!((x.status().as_u16(), y.status().as_u16()), (201, 201));
        wait_session_status(&app, id, "refunded").await;
        eventually("refunded event", || async {
            app.receiver.events_of("checkout_session.refunded").len() == 1
        })
        .await;
        app.stop().await;
    }
}

/// Smart Glocal's amount units are unconfirmed (FACTS.md §3). A provider
/// answering in other units than it was sent (here ×100) must never settle
/// the card: the attempt stays `unknown`, nothing is confirmed, the
/// mismatch is counted, and the session stays closed to a second payment.
#[tokio::test]
async fn an_amount_echoed_in_other_units_never_settles_a_card() {
    for backend in backends().await {
        let sim = smartglocal_simulator(false).await;
        let app = smartglocal_kasir(backend, &sim, "").await;
        sim.echo_amounts_times(100);
        let (id, secret) = smartglocal_session(&app, 150_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &smartglocal_card("4242424242424242"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(a["status"], "unknown", "{a}");
        let sg_session = sim.session_for(a["id"].as_str().unwrap()).unwrap();
        // The authorisation webhook echoes the same units: not confirmed.
        assert_eq!(sim.advance(&sg_session.id).await, 200);
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        assert!(!sim.calls().iter().any(|c| c == "confirm"), "{:?}", sim.calls());
        let got: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(
            (got["status"].as_str(), got["latest_attempt"]["status"].as_str()),
            (Some("processing"), Some("unknown")),
            "{got}"
        );
        assert!(app.receiver.events_of("checkout_session.succeeded").is_empty());
        let again = widget_attempt(&app, &id, &secret, &smartglocal_card("4242424242424242")).await;
        assert_eq!(again.status(), 409, "no second payment while the first is unknown");
        let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("kasir_provider_mismatch_total{provider=\"smartglocal\"}"), "{metrics}");
        app.stop().await;
    }
}

/// A Smart Glocal card session in 3DS that the merchant cancels while Smart
/// Glocal refuses `session/cancel`: Kasir records it cancelled. The
/// session's id, the attempt and Smart Glocal's session.
async fn cancelled_during_3ds(
    app: &TestApp,
    sim: &kasir_tests::sim::smartglocal::SmartGlocalSim,
) -> (String, Value, kasir_tests::sim::smartglocal::SgSession) {
    sim.refuse_cancel_during_3ds(true);
    let (id, secret) = smartglocal_session(app, 200_000).await;
    let a: Value =
        widget_attempt(app, &id, &secret, &smartglocal_card(kasir_tests::sim::smartglocal::CARD_3DS))
            .await
            .json()
            .await
            .unwrap();
    let sg_session = sim.session_for(a["id"].as_str().unwrap()).unwrap();
    assert_eq!(sim.advance(&sg_session.id).await, 200, "action_required");
    wait_session_status(app, &id, "requires_action").await;
    let res = app.post_a(&format!("/v1/checkout_sessions/{id}/cancel"), &json!({})).await;
    assert_eq!(res.status(), 200);
    wait_session_status(app, &id, "cancelled").await;
    (id, a, sg_session)
}

/// Smart Glocal refuses `session/cancel` while the shopper is in 3DS, and
/// the account auto-confirms: the card is charged after the merchant
/// cancelled. Kasir records the late payment and refunds it.
#[tokio::test]
async fn a_card_charged_after_a_refused_cancel_is_a_late_payment_refunded() {
    for backend in backends().await {
        let sim = smartglocal_simulator(false).await;
        let app = smartglocal_kasir(backend, &sim, "").await;
        sim.auto_confirm(true);
        let (id, a, sg_session) = cancelled_during_3ds(&app, &sim).await;
        // The shopper finishes 3DS; the account charges at once.
        assert_eq!(sim.complete_3ds(&sg_session.id, true).await, 200);
        eventually("late payment refunded", || async {
            !app.receiver.events_of("checkout_session.late_payment_refunded").is_empty()
        })
        .await;
        assert_eq!(app.receiver.events_of("checkout_session.late_payment").len(), 1);
        assert!(app.receiver.events_of("checkout_session.succeeded").is_empty());
        assert_eq!(sim.session_for(a["id"].as_str().unwrap()).unwrap().refunded, 200_000);
        let got: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(got["status"], "cancelled", "{got}");
        assert_eq!(got["late_payments"][0]["status"], "refunded", "{got}");
        app.stop().await;
    }
}

/// As above, but Smart Glocal first reports the session in `error` (not
/// final: FACTS.md §3) after the cancel it refused. Kasir closed the
/// attempt, so nothing would ask about it again: the `error` webhook is not
/// acknowledged, and when the charge is later reported it is a late payment,
/// refunded. Acknowledging `error` here would have dropped the money.
#[tokio::test]
async fn an_error_reported_after_a_refused_cancel_is_not_acknowledged() {
    for backend in backends().await {
        let sim = smartglocal_simulator(false).await;
        let app = smartglocal_kasir(backend, &sim, "").await;
        let (_id, a, sg_session) = cancelled_during_3ds(&app, &sim).await;
        // The shopper finishes 3DS; Smart Glocal's session goes to `error`.
        sim.set_session_status(&sg_session.id, "error");
        let status = sim.send("payment_finished", &sg_session.id, false).await;
        assert!(status >= 500, "an `error` about a closed attempt was acknowledged ({status})");
        assert!(app.receiver.events_of("checkout_session.late_payment").is_empty());
        // Support resolves it: the card was charged.
        sim.settle(&sg_session.id, true);
        assert_eq!(sim.send("payment_finished", &sg_session.id, false).await, 200);
        eventually("late payment refunded", || async {
            !app.receiver.events_of("checkout_session.late_payment_refunded").is_empty()
        })
        .await;
        assert_eq!(app.receiver.events_of("checkout_session.late_payment").len(), 1);
        assert_eq!(sim.session_for(a["id"].as_str().unwrap()).unwrap().refunded, 200_000);
        app.stop().await;
    }
}

/// A refund the provider answers `in_progress` is `pending`, keeps its
/// amount reserved, is never sent again, and is finished by asking the
/// provider: then its event, and the session `refunded`.
#[tokio::test]
async fn a_refund_in_progress_is_pending_until_the_provider_finishes_it() {
    for backend in backends().await {
        let sim = smartglocal_simulator(false).await;
        let app = smartglocal_kasir(backend, &sim, "").await;
        sim.slow_refunds(true);
        let (id, secret) = smartglocal_session(&app, 150_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &smartglocal_card("4242424242424242"))
            .await
            .json()
            .await
            .unwrap();
        sim.advance(&sim.session_for(a["id"].as_str().unwrap()).unwrap().id).await;
        wait_session_status(&app, &id, "succeeded").await;
        let path = format!("/v1/checkout_sessions/{id}/refunds");
        let res = app.post_a(&path, &json!({})).await;
        assert_eq!(res.status(), 201);
        let refund: Value = res.json().await.unwrap();
        assert_eq!(refund["status"], "pending", "{refund}");
        // Reserved: nothing more can be refunded meanwhile.
        assert_error(app.post_a(&path, &json!({"amount": 1_000})).await, 422, "refund.amount").await;
        let got: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(got["status"], "succeeded", "not refunded before the provider says so: {got}");
        eventually("refund finished", || async {
            !app.receiver.events_of("checkout_session.refund_succeeded").is_empty()
        })
        .await;
        wait_session_status(&app, &id, "refunded").await;
        let e = &app.receiver.events_of("checkout_session.refund_succeeded")[0];
        assert_eq!(e["data"]["object"]["refund"]["id"], refund["id"], "{e}");
        let refund_calls = sim.calls().iter().filter(|c| c.as_str() == "refund").count();
        assert_eq!(refund_calls, 1, "sent once, then only asked about: {:?}", sim.calls());
        app.stop().await;
    }
}

/// Smart Glocal's `session/refund` is undocumented, so an `error` answer to
/// it may come after the refund was made. Kasir keeps such a refund pending
/// with its amount reserved (a second refund cannot pay twice), learns the
/// outcome from `session/status` by the refund's metadata, and when the
/// provider never lists it, hands it to the merchant after `review_after`.
/// Taking the error as a refusal (the old reading) released the amount.
#[tokio::test]
async fn an_error_answer_to_a_refund_never_frees_its_amount() {
    for backend in backends().await {
        let sim = smartglocal_simulator(false).await;
        let app = smartglocal_kasir_with(backend, &sim, "", |config| {
            config.timings.review_after = std::time::Duration::from_millis(2_500);
        })
        .await;
        let paid = |amount: u64| {
            let (app, sim) = (&app, &sim);
            async move {
                let (id, secret) = smartglocal_session(app, amount).await;
                let a: Value = widget_attempt(app, &id, &secret, &smartglocal_card("4242424242424242"))
                    .await
                    .json()
                    .await
                    .unwrap();
                sim.advance(&sim.session_for(a["id"].as_str().unwrap()).unwrap().id).await;
                wait_session_status(app, &id, "succeeded").await;
                (id, a["id"].as_str().unwrap().to_owned())
            }
        };

        // The refund is made, and the answer is an error.
        let (id, attempt) = paid(150_000).await;
        sim.answer_refunds_with_error(Some(true));
        let path = format!("/v1/checkout_sessions/{id}/refunds");
        let res = app.post_a(&path, &json!({})).await;
        assert_eq!(res.status(), 201, "an error answer was taken as a refusal");
        let refund: Value = res.json().await.unwrap();
        assert_eq!(refund["status"], "pending", "{refund}");
        // A second refund (the merchant retrying) finds nothing left.
        sim.answer_refunds_with_error(None);
        assert_error(app.post_a(&path, &json!({"amount": 150_000})).await, 422, "refund.amount").await;
        eventually("refund finished", || async {
            !app.receiver.events_of("checkout_session.refund_succeeded").is_empty()
        })
        .await;
        wait_session_status(&app, &id, "refunded").await;
        assert_eq!(sim.session_for(&attempt).unwrap().refunded, 150_000, "refunded once");
        assert!(app.receiver.events_of("checkout_session.refund_failed").is_empty());

        // Not made, and the answer is an error: Kasir cannot tell, so the
        // amount stays reserved and the merchant is asked, once.
        let (id, attempt) = paid(80_000).await;
        sim.answer_refunds_with_error(Some(false));
        let path = format!("/v1/checkout_sessions/{id}/refunds");
        let refund: Value = app.post_a(&path, &json!({"amount": 30_000})).await.json().await.unwrap();
        assert_eq!(refund["status"], "pending", "{refund}");
        assert_eq!(refund["requires_review"], false, "{refund}");
        eventually("refund_requires_review", || async {
            !app.receiver.events_of("checkout_session.refund_requires_review").is_empty()
        })
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        let reviews = app.receiver.events_of("checkout_session.refund_requires_review");
        assert_eq!(reviews.len(), 1, "raised once");
        let object = &reviews[0]["data"]["object"];
        assert_eq!(object["id"], id.as_str(), "{object}");
        assert_eq!(object["refund"]["id"], refund["id"], "{object}");
        assert_eq!(
            (object["refund"]["status"].as_str(), object["refund"]["requires_review"].as_bool()),
            (Some("pending"), Some(true)),
            "{object}"
        );
        // The rest can be refunded; the reserved 30,000 cannot.
        sim.answer_refunds_with_error(None);
        assert_error(app.post_a(&path, &json!({"amount": 50_001})).await, 422, "refund.amount").await;
        assert_eq!(app.post_a(&path, &json!({"amount": 50_000})).await.status(), 201);
        assert_eq!(sim.session_for(&attempt).unwrap().refunded, 50_000);
        // The merchant learns from Smart Glocal that nothing was refunded,
        // and says so: the 30,000 is free again, and refunded now.
        let resolve = format!("{path}/{}/resolve", refund["id"].as_str().unwrap());
        let res = app.post_a(&resolve, &json!({"outcome": "failed", "note": "support: not made"})).await;
        assert_eq!(res.status(), 200);
        let failed: Value = res.json().await.unwrap();
        assert_eq!(failed["status"], "failed", "{failed}");
        assert_eq!(failed["resolution"]["note"], "support: not made", "{failed}");
        assert_eq!(app.post_a(&path, &json!({"amount": 30_000})).await.status(), 201);
        assert_eq!(sim.session_for(&attempt).unwrap().refunded, 80_000);
        wait_session_status(&app, &id, "refunded").await;
        app.stop().await;
    }
}

/// A late payment's automatic refund answered with an error that Smart
/// Glocal never follows up (not made, never listed): it stays
/// `refund_pending`, is only asked about, and after `review_after` the
/// merchant is asked, once, to check it. Before, it was asked about for
/// ever with nobody told. The merchant settles it with what Smart Glocal
/// confirmed (`…/late_payments/{id}/resolve`).
#[tokio::test]
async fn a_late_refund_whose_outcome_stays_unknown_goes_to_the_merchant() {
    for backend in backends().await {
        let sim = smartglocal_simulator(false).await;
        let app = smartglocal_kasir_with(backend, &sim, "", |config| {
            config.timings.review_after = std::time::Duration::from_millis(2_500);
        })
        .await;
        sim.auto_confirm(true);
        sim.answer_refunds_with_error(Some(false));
        let (id, a, sg_session) = cancelled_during_3ds(&app, &sim).await;
        assert_eq!(sim.complete_3ds(&sg_session.id, true).await, 200);
        eventually("late_payment_refund_requires_review", || async {
            !app.receiver.events_of("checkout_session.late_payment_refund_requires_review").is_empty()
        })
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        let reviews = app.receiver.events_of("checkout_session.late_payment_refund_requires_review");
        assert_eq!(reviews.len(), 1, "raised once");
        assert_eq!(reviews[0]["data"]["object"]["late_payment"]["status"], "refund_pending");
        let refund_calls = sim.calls().iter().filter(|c| c.as_str() == "refund").count();
        assert_eq!(refund_calls, 1, "sent once, then only asked about: {:?}", sim.calls());
        assert_eq!(sim.session_for(a["id"].as_str().unwrap()).unwrap().refunded, 0);
        let got: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(got["late_payments"][0]["status"], "refund_pending", "{got}");
        assert_eq!(got["late_payments"][0]["requires_review"], true, "{got}");
        assert!(app.receiver.events_of("checkout_session.late_payment_refund_failed").is_empty());
        // Smart Glocal's support says no refund was made: the merchant settles
        // it as failed (theirs to return now), and Kasir stops asking.
        let lp = got["late_payments"][0]["id"].as_str().unwrap();
        let resolve = format!("/v1/checkout_sessions/{id}/late_payments/{lp}/resolve");
        let res = app.post_a(&resolve, &json!({"outcome": "failed", "note": "support: no refund"})).await;
        assert_eq!(res.status(), 200);
        let settled: Value = res.json().await.unwrap();
        let late = &settled["late_payments"][0];
        assert_eq!(
            (late["status"].as_str(), late["requires_review"].as_bool()),
            (Some("refund_failed"), Some(false))
        );
        assert_eq!(late["resolution"]["note"], "support: no refund", "{late}");
        eventually("late_payment_refund_failed", || async {
            app.receiver.events_of("checkout_session.late_payment_refund_failed").len() == 1
        })
        .await;
        assert_error(
            app.post_a(&resolve, &json!({"outcome": "succeeded"})).await,
            409,
            "late_payment.not_under_review",
        )
        .await;
        app.stop().await;
    }
}

/// A payment the merchant resolved by hand has no provider reference:
/// SingaPay and Smart Glocal refunds need one. Nothing is sent; the refund
/// fails at once with `refund.unsupported` and its amount is free again,
/// instead of a refund left pending for ever with nobody told.
#[tokio::test]
async fn a_payment_without_a_provider_reference_is_refused_a_refund_at_once() {
    for backend in backends().await {
        let sim = singapay_simulator().await;
        let database_url = fresh_database_url(backend).await;
        let app = spawn_with(database_url, Receiver::start().await, |config| {
            route_cards_to_singapay(config, &sim, SINGAPAY_SECRET);
            config.timings.review_after = std::time::Duration::from_millis(1_000);
        })
        .await;
        let (id, secret) = app
            .new_session(&json!({"amount": 90_000, "reference": "INV-NOREF", "customer": full_customer()}))
            .await;
        let a: Value = widget_attempt(&app, &id, &secret, &singapay_card(singapay::CARD_SLOW))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(a["status"], "unknown", "{a}");
        eventually("requires_review", || async {
            !app.receiver.events_of("checkout_session.requires_review").is_empty()
        })
        .await;
        let resolve = format!("/v1/checkout_sessions/{id}/resolve");
        assert_eq!(app.post_a(&resolve, &json!({"outcome": "succeeded"})).await.status(), 200);
        let path = format!("/v1/checkout_sessions/{id}/refunds");
        assert_error(app.post_a(&path, &json!({})).await, 422, "refund.unsupported").await;
        eventually("refund_failed", || async {
            !app.receiver.events_of("checkout_session.refund_failed").is_empty()
        })
        .await;
        let got: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(
            (got["status"].as_str(), got["amount_refunded"].as_i64()),
            (Some("succeeded"), Some(0)),
            "{got}"
        );
        app.stop().await;
    }
}

/// Smilepayz's `expiryPeriod` is never below 300 s and it documents no
/// void: a QR can outlive its session. Paid after the session expired, the
/// money is a late payment (recorded, told, refund attempted), never a
/// `succeeded` for an expired session and never dropped.
#[tokio::test]
async fn a_qr_paid_after_its_session_expired_is_a_late_payment() {
    for backend in backends().await {
        let sim = smilepayz_simulator().await;
        let app = smilepayz_kasir(backend, &sim, SMILEPAYZ_SECRET, "").await;
        let (id, secret) = app.new_session(&json!({"amount": 40_000, "reference": "INV-EXPIRED"})).await;
        let (id, secret) = (id.as_str(), secret.as_str());
        let a: Value =
            widget_attempt(&app, id, secret, &json!({"method": "qris"})).await.json().await.unwrap();
        assert_eq!(a["status"], "requires_action", "{a}");
        force_expiry(&app.database_url, id).await;
        wait_session_status(&app, id, "expired").await;
        let order = sim.order_for_attempt(a["id"].as_str().unwrap()).unwrap();
        assert_eq!(sim.pay(&order.order_no).await, (200, "SUCCESS".to_owned()));
        eventually("late payment event", || async {
            !app.receiver.events_of("checkout_session.late_payment").is_empty()
        })
        .await;
        assert!(app.receiver.events_of("checkout_session.succeeded").is_empty());
        let got: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(got["status"], "expired", "{got}");
        assert_eq!(got["late_payments"][0]["amount"], 40_000, "{got}");
        app.stop().await;
    }
}

/// Smart Glocal's session `error` is not final (FACTS.md §3): its webhook
/// is answered 200 (else Smart Glocal retries for 30 minutes and gives up)
/// and changes nothing. A signed webhook for a payment Kasir has not
/// recorded yet is answered 503, so the provider sends it again.
#[tokio::test]
async fn webhooks_that_cannot_settle_yet_are_never_dropped() {
    for backend in backends().await {
        let sim = smartglocal_simulator(false).await;
        let app = smartglocal_kasir(backend, &sim, "").await;
        let (id, secret) = smartglocal_session(&app, 150_000).await;
        let a: Value = widget_attempt(&app, &id, &secret, &smartglocal_card("4242424242424242"))
            .await
            .json()
            .await
            .unwrap();
        let sg_session = sim.session_for(a["id"].as_str().unwrap()).unwrap();
        sim.set_session_status(&sg_session.id, "error");
        assert_eq!(sim.send("payment_finished", &sg_session.id, false).await, 200);
        let got: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(got["latest_attempt"]["status"], "processing", "{got}");
        // A sandbox webhook for a payment no attempt knows yet.
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let body =
            json!({"payment_id": "sbx_not_recorded_yet", "status": "succeeded", "amount": 1000}).to_string();
        let res = app
            .client
            .post(app.url("/webhooks/sandbox"))
            .header("sandbox-signature", sandbox_signature(SANDBOX_SECRET, now, &body))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(res, 503, "webhook.unknown_payment").await;
        app.stop().await;
    }
}
