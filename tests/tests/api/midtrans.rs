//! Kasir against the strict Midtrans simulator (`tests/src/sim/midtrans.rs`,
//! written from GATEWAYS.md §1 apart from the adapter): every method paid
//! end to end, notifications checked and confirmed by a status inquiry,
//! lost answers settled by inquiry, a reversed Indomaret payment never
//! counted, a QR paid after it was voided kept as a late payment, refunds.
//! Each test runs on SQLite and PostgreSQL.

use std::time::Duration;

use kasir_tests::sim::Scenario;
use kasir_tests::sim::midtrans::{self, MidtransSim, NotificationMode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn attempt(app: &TestApp, id: &str, secret: &str, body: &Value) -> Value {
    let res = widget_attempt(app, id, secret, body).await;
    assert_eq!(res.status(), 201, "attempt {body}");
    res.json().await.unwrap()
}

fn order(a: &Value) -> String {
    a["id"].as_str().unwrap().to_owned()
}

fn tx(sim: &MidtransSim, a: &Value) -> midtrans::Transaction {
    sim.transaction(&order(a)).unwrap_or_else(|| panic!("Midtrans has {a}"))
}

#[tokio::test]
async fn every_method_is_paid_through_midtrans() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "reversal_hold_secs = 1\n").await;

        // QRIS: Midtrans's payload, checked by kasir-shared, for the amount.
        let (id, secret) = midtrans_session(&app, 150_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
        assert_eq!(
            (a["status"].as_str(), a["provider"].as_str()),
            (Some("requires_action"), Some("midtrans"))
        );
        let qr =
            kasir_shared::qris::QrisPayload::parse(a["next_action"]["qr_payload"].as_str().unwrap()).unwrap();
        assert_eq!(qr.amount().unwrap().rupiah(), 150_000);
        assert_eq!(tx(&sim, &a).payment_type, "qris");
        assert_eq!(sim.pay(&order(&a)).await.0, 200);
        wait_session_status(&app, &id, "succeeded").await;

        // Virtual accounts: the number Midtrans gave, per bank's own field.
        for bank in ["bca", "bni", "bri", "permata"] {
            let (id, secret) = midtrans_session(&app, 75_000).await;
            let a = attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": bank})).await;
            assert_eq!(a["next_action"]["type"], "show_virtual_account", "{a}");
            assert_eq!(a["next_action"]["number"].as_str(), tx(&sim, &a).va_number.as_deref(), "{bank}: {a}");
            assert!(a["next_action"].get("biller_code").is_none(), "{a}");
            sim.pay(&order(&a)).await;
            wait_session_status(&app, &id, "succeeded").await;
        }
        // Mandiri bill payment: the company code beside the bill key; its
        // settlement may be reversed, so it is paid only after the hold.
        let (id, secret) = midtrans_session(&app, 80_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "mandiri"})).await;
        assert_eq!(a["next_action"]["biller_code"], midtrans::BILLER_CODE, "{a}");
        assert_eq!(a["next_action"]["number"].as_str(), tx(&sim, &a).bill_key.as_deref());
        assert_eq!(tx(&sim, &a).payment_type, "echannel");
        sim.pay(&order(&a)).await;
        wait_session_status(&app, &id, "succeeded").await;

        // GoPay: the app link and a QR; ShopeePay: the link only.
        let (id, secret) = midtrans_session(&app, 20_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "ewallet", "wallet": "gopay"})).await;
        assert_eq!(a["next_action"]["type"], "redirect", "{a}");
        assert!(a["next_action"]["url"].as_str().unwrap().starts_with(&sim.url), "{a}");
        assert!(
            a["next_action"]["qr_payload"].is_string() || a["next_action"]["qr_image_url"].is_string(),
            "{a}"
        );
        sim.pay(&order(&a)).await;
        wait_session_status(&app, &id, "succeeded").await;
        let (id, secret) = midtrans_session(&app, 20_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "ewallet", "wallet": "shopeepay"})).await;
        assert_eq!(a["next_action"]["type"], "redirect", "{a}");
        assert!(a["next_action"].get("qr_payload").is_none(), "{a}");
        sim.pay(&order(&a)).await;
        wait_session_status(&app, &id, "succeeded").await;
        // Wallets Midtrans's Core API does not take are refused up front.
        let (id, secret) = midtrans_session(&app, 20_000).await;
        let res = widget_attempt(&app, &id, &secret, &json!({"method": "ewallet", "wallet": "dana"})).await;
        assert_eq!(assert_error(res, 422, "payment_method.unavailable").await["error"]["field"], "wallet");

        // Indomaret and Alfamart: the code to pay at the till.
        for store in ["indomaret", "alfamart"] {
            let (id, secret) = midtrans_session(&app, 50_000).await;
            let a =
                attempt(&app, &id, &secret, &json!({"method": "convenience_store", "store": store})).await;
            assert_eq!(a["next_action"]["type"], "show_payment_code", "{a}");
            let t = tx(&sim, &a);
            assert_eq!(a["next_action"]["code"].as_str(), t.payment_code.as_deref());
            assert_eq!(t.store.as_deref(), Some(store));
            sim.pay(&order(&a)).await;
            wait_session_status(&app, &id, "succeeded").await;
        }

        // Cards: frictionless (paid at once), 3DS in the frame (paid by the
        // notification), a bank decline and insufficient funds.
        let (id, secret) = midtrans_session(&app, 120_000).await;
        let a = attempt(&app, &id, &secret, &card(midtrans::CARD_FRICTIONLESS)).await;
        assert_eq!(a["status"], "succeeded", "{a}");
        assert_eq!(a["card"]["last4"], "6624");
        assert_eq!(session_status(&app, &id).await, "succeeded");
        let (id, secret) = midtrans_session(&app, 120_000).await;
        let a = attempt(&app, &id, &secret, &card(midtrans::CARD_3DS)).await;
        assert_eq!(
            (a["status"].as_str(), a["next_action"]["type"].as_str()),
            (Some("requires_action"), Some("three_ds"))
        );
        let frame = app
            .client
            .get(format!(
                "{}?client_secret={secret}",
                a["next_action"]["url"].as_str().unwrap().replace(PUBLIC_URL, &app.url(""))
            ))
            .send()
            .await
            .unwrap();
        let html = frame.text().await.unwrap();
        assert!(
            html.contains(&format!("{}/v2/3ds/redirect/", sim.url)),
            "the bank's page in the frame: {html}"
        );
        assert_eq!(sim.complete_3ds(&order(&a), true).await.0, 200);
        wait_session_status(&app, &id, "succeeded").await;
        for (pan, code) in
            [(midtrans::CARD_BANK_DENY, "card_declined"), (midtrans::CARD_RC51, "insufficient_funds")]
        {
            let (id, secret) = midtrans_session(&app, 120_000).await;
            let a = attempt(&app, &id, &secret, &card(pan)).await;
            assert_eq!(
                (a["status"].as_str(), a["failure_code"].as_str()),
                (Some("failed"), Some(code)),
                "{a}"
            );
            assert_eq!(session_status(&app, &id).await, "open", "a decline leaves the session payable");
        }
        // The card never reached Midtrans's charge: only a token did.
        assert!(sim.tokens_issued().iter().all(|t| t.used), "{:?}", sim.tokens_issued());
        assert!(sim.rejections().is_empty(), "Kasir sent nothing Midtrans refuses: {:?}", sim.rejections());
        app.stop().await;
    }
}

#[tokio::test]
async fn notifications_are_verified_confirmed_and_idempotent() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "").await;
        let (id, secret) = midtrans_session(&app, 50_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "bca"})).await;
        let o = order(&a);

        // Authentic, but the status inquiry says pending: nothing changes.
        assert_eq!(sim.send_notification(&o, NotificationMode::Normal).await.0, 200);
        assert_eq!(session_status(&app, &id).await, "requires_action");
        // Paid at Midtrans (no notification yet); forged notifications, and
        // one whose signed amount is a number, change nothing.
        sim.set_status(&o, "settlement", Some("accept"));
        assert_eq!(sim.send_notification(&o, NotificationMode::Forged).await.0, 401);
        assert_eq!(sim.send_notification(&o, NotificationMode::AmountAsNumber).await.0, 401);
        assert_eq!(session_status(&app, &id).await, "requires_action");
        app.stop().await;

        // A fee added to the signed amount (Automatic Fee Imposition) is
        // another amount: the notification settles nothing (the attempt is
        // left for the inquiry, which finds it still unpaid).
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "").await;
        let (id, secret) = midtrans_session(&app, 50_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "bca"})).await;
        sim.set_afi_fee(4_000);
        let o = order(&a);
        assert_eq!(sim.send_notification(&o, NotificationMode::Afi).await.0, 200);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_ne!(session_status(&app, &id).await, "succeeded");
        app.stop().await;

        // Duplicates and out-of-order notifications: one success event.
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "").await;
        let (id, secret) = midtrans_session(&app, 50_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
        let o = order(&a);
        let answers = sim.send_pending_then_settlement_out_of_order(&o).await;
        assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
        assert_eq!(sim.send_notification(&o, NotificationMode::Duplicate).await.0, 200);
        wait_session_status(&app, &id, "succeeded").await;
        eventually("the merchant webhook", || async {
            !app.receiver.events_of("checkout_session.succeeded").is_empty()
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let events: Value = app.get_as(KEY_A, "/v1/events?limit=100").await.json().await.unwrap();
        let succeeded = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "checkout_session.succeeded" && e["data"]["object"]["id"] == id)
            .count();
        assert_eq!(succeeded, 1, "one success however many notifications");

        // A notification that arrives before Kasir has the charge's answer
        // (Kasir already knows the attempt by its order id): whatever Kasir
        // answers it, the shopper is still shown the code the answer
        // carries, and the payment that follows settles the session.
        for method in [json!({"method": "qris"}), json!({"method": "virtual_account", "bank": "bca"})] {
            sim.notify_before_answer(true);
            let (id, secret) = midtrans_session(&app, 45_000).await;
            let a = attempt(&app, &id, &secret, &method).await;
            sim.notify_before_answer(false);
            let o = order(&a);
            assert!(sim.notifications().iter().any(|d| d.order_id == o), "a notification went first");
            let view = widget_session(&app, &id, &secret).await;
            let next = &view["latest_attempt"]["next_action"];
            assert!(
                next["qr_payload"].is_string() || next["number"].is_string(),
                "the code is shown: {view}"
            );
            sim.pay(&o).await;
            wait_session_status(&app, &id, "succeeded").await;
        }

        // A card challenged by fraud detection is captured but not paid.
        let (id, secret) = midtrans_session(&app, 120_000).await;
        let a = attempt(&app, &id, &secret, &card(midtrans::CARD_3DS)).await;
        assert_eq!(sim.challenge(&order(&a)).await.0, 200);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let s = session_status(&app, &id).await;
        assert!(
            s != "succeeded" && s != "open",
            "capture + challenge is neither paid nor payable again: {s}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn lost_answers_are_settled_by_inquiry_never_paid_twice() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "poll_secs = 1\n").await;
        // The charge is made but its answer comes after Kasir's 2 s: the
        // attempt is unknown, the session refuses a second payment, and the
        // status inquiry (404 while Midtrans still works on it: not final)
        // settles it once Midtrans knows.
        sim.push_scenario(Scenario::NoAnswer(Duration::from_secs(3)));
        let (id, secret) = midtrans_session(&app, 60_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "bni"})).await;
        assert_eq!(a["status"], "unknown", "{a}");
        let res = widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
        assert_error(res, 409, "session.not_payable").await;
        // Once Midtrans answers the inquiry, the account number it gives is
        // shown after all; then it is paid.
        eventually("the account number from the inquiry", || async {
            let s: Value =
                app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
            s["latest_attempt"]["next_action"]["number"].as_str() == tx(&sim, &a).va_number.as_deref()
        })
        .await;
        sim.set_status(&order(&a), "settlement", None);
        wait_session_status(&app, &id, "succeeded").await;
        assert_eq!(sim.charges_received(), 1, "one charge at Midtrans");

        // A 5xx or an unreadable answer is unknown too, never failed.
        for scenario in [Scenario::ServerError, Scenario::Malformed] {
            sim.push_scenario(scenario);
            let (id, secret) = midtrans_session(&app, 60_000).await;
            let a = attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
            assert_eq!(a["status"], "unknown", "{a}");
            let res = widget_attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
            assert_error(res, 409, "session.not_payable").await;
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a_reversed_indomaret_payment_is_never_counted() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "reversal_hold_secs = 3\n").await;
        let (id, secret) = midtrans_session(&app, 50_000).await;
        let a =
            attempt(&app, &id, &secret, &json!({"method": "convenience_store", "store": "indomaret"})).await;
        assert_eq!(sim.pay(&order(&a)).await.0, 200);
        // Settled at the till, but inside the hold: processing, not paid.
        eventually("processing", || async { session_status(&app, &id).await == "processing" }).await;
        assert!(app.receiver.events_of("checkout_session.succeeded").is_empty());
        // Reversed within the minute: the payment failed; it never succeeded.
        sim.reverse(&order(&a)).await;
        eventually("the reversal", || async {
            let a: Value =
                app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
            a["latest_attempt"]["status"] == "failed"
        })
        .await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_ne!(session_status(&app, &id).await, "succeeded");
        assert!(app.receiver.events_of("checkout_session.succeeded").is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn a_qr_paid_after_it_was_voided_is_a_late_payment_refunded() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "").await;
        let (id, secret) = midtrans_session(&app, 50_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
        // The merchant cancels; Kasir expires the QR at Midtrans first.
        assert_eq!(app.post_a(&format!("/v1/checkout_sessions/{id}/cancel"), &json!({})).await.status(), 200);
        assert_eq!(tx(&sim, &a).status, "expire", "the QR was voided at Midtrans");
        // The shopper's bank app paid it anyway: money moved after the end.
        assert_eq!(sim.pay(&order(&a)).await.0, 200);
        eventually("the late payment", || async {
            !app.receiver.events_of("checkout_session.late_payment").is_empty()
        })
        .await;
        assert_eq!(session_status(&app, &id).await, "cancelled");
        eventually("its refund", || async {
            !app.receiver.events_of("checkout_session.late_payment_refunded").is_empty()
        })
        .await;
        assert_eq!(sim.refund_calls().len(), 1, "refunded once: {:?}", sim.refund_calls());
        app.stop().await;
    }
}

#[tokio::test]
async fn refunds_full_and_partial_and_what_midtrans_refuses() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "").await;
        let (id, secret) = midtrans_session(&app, 100_000).await;
        let a = attempt(&app, &id, &secret, &card(midtrans::CARD_FRICTIONLESS)).await;
        assert_eq!(a["status"], "succeeded");
        let refund = |amount: Option<u64>| {
            let body = amount.map_or(json!({}), |a| json!({"amount": a}));
            let app = &app;
            let id = id.clone();
            async move { app.post_a(&format!("/v1/checkout_sessions/{id}/refunds"), &body).await }
        };
        let r: Value = refund(Some(30_000)).await.json().await.unwrap();
        assert_eq!((r["status"].as_str(), r["amount"].as_u64()), (Some("succeeded"), Some(30_000)), "{r}");
        assert_eq!(tx(&sim, &a).status, "partial_refund");
        let r: Value = refund(None).await.json().await.unwrap();
        assert_eq!((r["status"].as_str(), r["amount"].as_u64()), (Some("succeeded"), Some(70_000)), "{r}");
        assert_eq!(session_status(&app, &id).await, "refunded");
        let calls = sim.refund_calls();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert!(
            calls.iter().all(|(_, _, key)| key.as_deref().is_some_and(|k| k.starts_with("re_"))),
            "{calls:?}"
        );

        // A virtual account cannot be refunded through Midtrans's API: the
        // refusal releases the amount, nothing is reserved.
        let (id, secret) = midtrans_session(&app, 40_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "bri"})).await;
        sim.pay(&order(&a)).await;
        wait_session_status(&app, &id, "succeeded").await;
        let res = app.post_a(&format!("/v1/checkout_sessions/{id}/refunds"), &json!({})).await;
        assert!(res.status().is_client_error() || res.status().as_u16() == 502, "{}", res.status());
        let s: Value = app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(
            (s["status"].as_str(), s["amount_refunded"].as_u64()),
            (Some("succeeded"), Some(0)),
            "{s}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn installments_and_an_expired_code_reach_midtrans_as_documented() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app =
            midtrans_kasir(backend, &sim, "installment_bank = \"bni\"\ninstallment_months = [3, 6, 12]\n")
                .await;
        // The widget is offered the plans; a 6-month plan reaches Midtrans
        // with the acquiring bank, and is paid after 3DS.
        let (id, secret) = midtrans_session(&app, 1_200_000).await;
        let view = widget_session(&app, &id, &secret).await;
        assert_eq!(view["installment_months"], json!([3, 6, 12]), "{view}");
        let mut body = card(midtrans::CARD_3DS);
        body["installment_months"] = json!(6);
        let a = attempt(&app, &id, &secret, &body).await;
        let t = tx(&sim, &a);
        assert_eq!((t.installment_term, t.bank.as_deref()), (Some(6), Some("bni")), "{t:?}");
        sim.complete_3ds(&order(&a), true).await;
        wait_session_status(&app, &id, "succeeded").await;
        // A plan Midtrans was not configured for is refused before anything is sent.
        let (id, secret) = midtrans_session(&app, 1_200_000).await;
        body["installment_months"] = json!(24);
        let res = widget_attempt(&app, &id, &secret, &body).await;
        assert!(res.status().is_client_error(), "{}", res.status());

        // A VA whose session runs out is expired at Midtrans, and the session
        // ends expired.
        let (id, secret) = midtrans_session(&app, 30_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "bni"})).await;
        force_expiry(&app.database_url, &id).await;
        wait_session_status(&app, &id, "expired").await;
        assert_eq!(tx(&sim, &a).status, "expire", "voided at Midtrans");
        assert!(sim.rejections().is_empty(), "{:?}", sim.rejections());
        app.stop().await;
    }
}

#[tokio::test]
async fn a_refund_whose_answer_is_lost_stays_pending_until_midtrans_lists_it() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "").await;
        let (id, secret) = midtrans_session(&app, 90_000).await;
        let a = attempt(&app, &id, &secret, &card(midtrans::CARD_FRICTIONLESS)).await;
        assert_eq!(a["status"], "succeeded");
        // Midtrans makes the refund but its answer never reaches Kasir, and
        // the refund shows in the status only once Midtrans has finished it.
        sim.set_refunds_pending(true);
        sim.hold_next_refund_answer(Duration::from_secs(4));
        let res =
            app.post_a(&format!("/v1/checkout_sessions/{id}/refunds"), &json!({"amount": 40_000})).await;
        let r: Value = res.json().await.unwrap();
        assert_eq!(r["status"], "pending", "unknown is pending, never failed: {r}");
        // Reserved meanwhile: no second refund can exceed what is left.
        let res =
            app.post_a(&format!("/v1/checkout_sessions/{id}/refunds"), &json!({"amount": 60_000})).await;
        assert!(res.status().is_client_error(), "{}", res.status());
        // The reconciler asks, finds it not listed, keeps it pending; once
        // Midtrans lists it, it has succeeded.
        tokio::time::sleep(Duration::from_secs(6)).await;
        let s: Value = app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(s["status"], "succeeded", "not refunded before Midtrans lists it: {s}");
        assert!(app.receiver.events_of("checkout_session.refund_succeeded").is_empty());
        sim.finish_pending_refunds().await;
        eventually("the refund succeeded", || async {
            !app.receiver.events_of("checkout_session.refund_succeeded").is_empty()
        })
        .await;
        wait_session_status(&app, &id, "partially_refunded").await;
        assert_eq!(sim.refund_calls().len(), 1, "sent once, then only asked about: {:?}", sim.refund_calls());
        app.stop().await;
    }
}

/// Midtrans answers a refund with `refund_amount` in other units than
/// asked (and lists it so). Money moved, but not as Kasir would record it:
/// the refund stays pending and reserved, the session is not refunded, and
/// once the listing confirms the odd amount the merchant is asked, once, to
/// check it, and settles it with `…/refunds/{id}/resolve`. On the old code
/// the refund was recorded `succeeded` for the amount asked.
#[tokio::test]
async fn a_refund_reported_in_another_amount_is_never_recorded_as_done() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "").await;
        let (id, secret) = midtrans_session(&app, 100_000).await;
        let a = attempt(&app, &id, &secret, &card(midtrans::CARD_FRICTIONLESS)).await;
        assert_eq!(a["status"], "succeeded");
        sim.echo_refund_amounts_times(100);
        let path = format!("/v1/checkout_sessions/{id}/refunds");
        let r: Value = app.post_a(&path, &json!({"amount": 30_000})).await.json().await.unwrap();
        assert_eq!(
            (r["status"].as_str(), r["requires_review"].as_bool()),
            (Some("pending"), Some(false)),
            "an answer naming 3,000,000 is not a refund of 30,000: {r}"
        );
        let resolve = format!("{path}/{}/resolve", r["id"].as_str().unwrap());
        assert_error(
            app.post_a(&resolve, &json!({"outcome": "succeeded"})).await,
            409,
            "refund.not_under_review",
        )
        .await;
        eventually("refund_requires_review", || async {
            !app.receiver.events_of("checkout_session.refund_requires_review").is_empty()
        })
        .await;
        // The reconciler asks again and finds the same amount: still not
        // done, and the merchant is not told twice.
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(app.receiver.events_of("checkout_session.refund_requires_review").len(), 1);
        assert!(app.receiver.events_of("checkout_session.refund_succeeded").is_empty());
        let s: Value = app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(s["status"], "succeeded", "{s}");
        // Reserved: the rest can be refunded, not more.
        assert!(app.post_a(&path, &json!({"amount": 70_001})).await.status().is_client_error());
        // The merchant checked Midtrans's dashboard: 30,000 was refunded.
        assert_error(app.post_a(&resolve, &json!({"outcome": "perhaps"})).await, 422, "resolution.outcome")
            .await;
        let res =
            app.post_a(&resolve, &json!({"outcome": "succeeded", "note": "30,000 per dashboard"})).await;
        assert_eq!(res.status(), 200);
        let done: Value = res.json().await.unwrap();
        assert_eq!(
            (done["status"].as_str(), done["requires_review"].as_bool()),
            (Some("succeeded"), Some(false))
        );
        assert_eq!(
            (done["resolution"]["outcome"].as_str(), done["resolution"]["by"]["merchant"].as_str()),
            (Some("succeeded"), Some("merchant_a")),
            "the resolution is on the refund: {done}"
        );
        wait_session_status(&app, &id, "partially_refunded").await;
        eventually("refund_succeeded", || async {
            app.receiver.events_of("checkout_session.refund_succeeded").len() == 1
        })
        .await;
        assert_error(
            app.post_a(&resolve, &json!({"outcome": "failed"})).await,
            409,
            "refund.not_under_review",
        )
        .await;
        app.stop().await;
    }
}

#[tokio::test]
async fn switching_method_voids_the_waiting_code_at_midtrans() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "").await;
        let (id, secret) = midtrans_session(&app, 35_000).await;
        let qr = attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
        // The shopper changes their mind: the QR is expired at Midtrans
        // first, the attempt is cancelled, and the session stays payable.
        let va = attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "bri"})).await;
        assert_eq!(tx(&sim, &qr).status, "expire");
        assert_eq!(va["status"], "requires_action", "{va}");
        let s: Value = app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(s["status"], "requires_action", "{s}");
        sim.pay(&order(&va)).await;
        wait_session_status(&app, &id, "succeeded").await;
        app.stop().await;
    }
}

/// A Mandiri bill paid and held for reversal is `processing` with its code
/// no longer in `next_action`. Midtrans then fails every status inquiry for
/// longer than Kasir's "never shown" window: the attempt the provider
/// answered, and which holds the money, is not given back to the shopper.
/// Once Midtrans answers again, the hold ends and it is paid.
#[tokio::test]
async fn a_held_mandiri_payment_is_not_reopened_while_midtrans_cannot_be_asked() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "reversal_hold_secs = 9\n").await;
        let (id, secret) = midtrans_session(&app, 80_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "mandiri"})).await;
        assert_eq!(sim.pay(&order(&a)).await.0, 200);
        eventually("processing", || async { session_status(&app, &id).await == "processing" }).await;
        sim.fail_status_calls(1_000_000);
        // Twice the provider timeout (2 s in tests) and more.
        tokio::time::sleep(Duration::from_secs(6)).await;
        let session: Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(session["status"], "processing", "{session}");
        assert_eq!(session["latest_attempt"]["status"], "processing", "{session}");
        assert!(sim.status_calls() > 1, "the reconciler kept asking");
        sim.fail_status_calls(0);
        wait_session_status(&app, &id, "succeeded").await;
        eventually("the succeeded event", || async {
            app.receiver.events_of("checkout_session.succeeded").len() == 1
        })
        .await;
        app.stop().await;
    }
}

/// A Mandiri bill paid after the merchant cancelled: its settlement is
/// inside the reversal hold, so Midtrans's word is "processing", not yet a
/// late payment. Kasir does not acknowledge it (which would end Midtrans's
/// retries with the money only in a log): a retry after the hold records
/// the late payment.
#[tokio::test]
async fn a_held_payment_for_a_cancelled_session_is_asked_again_until_it_is_a_late_payment() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "reversal_hold_secs = 2\n").await;
        let (id, secret) = midtrans_session(&app, 80_000).await;
        let a = attempt(&app, &id, &secret, &json!({"method": "virtual_account", "bank": "mandiri"})).await;
        assert_eq!(app.post_a(&format!("/v1/checkout_sessions/{id}/cancel"), &json!({})).await.status(), 200);
        assert_eq!(tx(&sim, &a).status, "expire", "the bill was voided at Midtrans");
        let (status, answer) = sim.pay(&order(&a)).await;
        assert_eq!(status, 503, "the settlement inside the hold is not acknowledged: {answer}");
        assert!(app.receiver.events_of("checkout_session.late_payment").is_empty(), "not yet a late payment");
        // Midtrans sends it again; after the hold it is a late payment.
        eventually("the late payment", || async {
            !app.receiver.events_of("checkout_session.late_payment").is_empty()
        })
        .await;
        assert!(sim.notifications().iter().any(|d| d.attempt > 0 && d.http_status == 200));
        assert_eq!(session_status(&app, &id).await, "cancelled");
        app.stop().await;
    }
}

/// Midtrans answers the QR's expiry with an error inside HTTP 200 and does
/// nothing: the QR can still be paid. Kasir issues no second code beside
/// it (502, the shopper may try again) and the merchant cannot cancel over
/// it either; once Midtrans voids it, the switch goes through.
#[tokio::test]
async fn a_code_midtrans_did_not_void_is_never_replaced_nor_cancelled_over() {
    for backend in backends().await {
        let sim = midtrans_simulator().await;
        let app = midtrans_kasir(backend, &sim, "").await;
        let (id, secret) = midtrans_session(&app, 35_000).await;
        let qr = attempt(&app, &id, &secret, &json!({"method": "qris"})).await;
        sim.fail_voids(2);
        let va = json!({"method": "virtual_account", "bank": "bri"});
        assert_error(widget_attempt(&app, &id, &secret, &va).await, 502, "provider.unavailable").await;
        assert_error(
            app.post_a(&format!("/v1/checkout_sessions/{id}/cancel"), &json!({})).await,
            502,
            "provider.unavailable",
        )
        .await;
        assert_eq!(tx(&sim, &qr).status, "pending", "the QR is still payable at Midtrans");
        assert_eq!(sim.transactions().len(), 1, "no second code was issued beside it");
        assert_eq!(session_status(&app, &id).await, "requires_action");
        let va = attempt(&app, &id, &secret, &va).await;
        assert_eq!(tx(&sim, &qr).status, "expire");
        assert_eq!(va["status"], "requires_action", "{va}");
        app.stop().await;
    }
}
