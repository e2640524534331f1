use serde_json::json;

use crate::helpers::{KEY_A, KEY_B, assert_error, backends, spawn_app};

#[tokio::test]
async fn create_then_retrieve_a_session() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let res = app
            .post_a(
                "/v1/checkout_sessions",
                &json!({
                    "amount": 150000, "currency": "IDR", "reference": "INV-2026-0001",
                    "description": "Kopi susu 2x", "payment_methods": ["qris", "card", "qris"],
                    "customer": {"name": "Budi Santoso", "email": "Budi@Contoh.CO.ID", "phone": "0812-3456-7890"},
                    "return_url": "https://toko.example/selesai", "expires_in": 900, "locale": "en",
                    "metadata": {"order": "42"}
                }),
            )
            .await;
        assert_eq!(res.status(), 201, "{backend:?}");
        let created: serde_json::Value = res.json().await.unwrap();
        let id = created["id"].as_str().unwrap();
        assert!(id.starts_with("cs_"));
        assert_eq!(created["status"], "open");
        assert_eq!(created["amount"], 150000);
        assert_eq!(created["payment_methods"], json!(["qris", "card"]));
        assert_eq!(created["customer"]["email"], "Budi@contoh.co.id");
        assert_eq!(created["customer"]["phone"], "+6281234567890");
        let secret = created["client_secret"].as_str().unwrap();
        assert_eq!(created["url"], format!("http://kasir.test/pay/{id}#{secret}"));
        assert!(created["client_secret"].as_str().unwrap().starts_with(&format!("{id}_secret_")));
        assert_eq!(created["expires_at"].as_i64().unwrap() - created["created_at"].as_i64().unwrap(), 900);

        let fetched: serde_json::Value =
            app.get_as(KEY_A, &format!("/v1/checkout_sessions/{id}")).await.json().await.unwrap();
        assert_eq!(fetched, created);

        // Another merchant cannot see it; a missing id is the same 404.
        assert_error(
            app.get_as(KEY_B, &format!("/v1/checkout_sessions/{id}")).await,
            404,
            "resource.not_found",
        )
        .await;
        assert_error(app.get_as(KEY_A, "/v1/checkout_sessions/cs_nope").await, 404, "resource.not_found")
            .await;
    }
}

#[tokio::test]
async fn authentication_is_required_and_checked() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let body = json!({"amount": 10000, "reference": "A"});
    let res = app.client.post(app.url("/v1/checkout_sessions")).json(&body).send().await.unwrap();
    assert_error(res, 401, "auth.missing").await;
    let res = app
        .client
        .post(app.url("/v1/checkout_sessions"))
        .bearer_auth("sk_test_wrong")
        .json(&body)
        .send()
        .await;
    assert_error(res.unwrap(), 401, "auth.invalid").await;
    let res = app.client.get(app.url("/v1/checkout_sessions")).header("Authorization", KEY_A).send().await;
    assert_error(res.unwrap(), 401, "auth.missing").await;
}

#[tokio::test]
async fn bad_input_gets_a_code_a_field_and_both_languages() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let res = app
        .post_a(
            "/v1/checkout_sessions",
            &json!({"amount": 10000, "reference": "A", "customer": {"email": "nope"}}),
        )
        .await;
    let body = assert_error(res, 422, "email.format").await;
    assert_eq!(body["error"]["field"], "customer.email");
    assert!(body["error"]["message_id"].as_str().unwrap().starts_with("Masukkan alamat email"));
    assert_error(
        app.post_a("/v1/checkout_sessions", &json!({"amount": 1.5, "reference": "A"})).await,
        422,
        "amount.format",
    )
    .await;
    assert_error(
        app.post_a("/v1/checkout_sessions", &json!({"amount": 1, "reference": "A", "colour": "red"})).await,
        400,
        "request.malformed",
    )
    .await;
    let res = app
        .client
        .post(app.url("/v1/checkout_sessions"))
        .bearer_auth(KEY_A)
        .header("Content-Type", "application/json")
        .body("{\"amount\": 4111111111111111,")
        .send()
        .await
        .unwrap();
    let body = assert_error(res, 400, "request.malformed").await;
    assert!(!body.to_string().contains("4111111111111111"), "the input is never echoed");
    assert_error(app.get_as(KEY_A, "/v1/checkout_sessions?limit=0").await, 400, "pagination.limit").await;
    assert_error(app.get_as(KEY_A, "/v1/checkout_sessions?limit=x").await, 400, "request.malformed").await;
}

#[tokio::test]
async fn idempotency_replays_and_refuses_reuse() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let send = |body: &'static str, key: &'static str| {
            app.client
                .post(app.url("/v1/checkout_sessions"))
                .bearer_auth(KEY_A)
                .header("Idempotency-Key", key)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
        };
        let first = send(r#"{"amount": 20000, "reference": "INV-7"}"#, "key-1").await.unwrap();
        assert_eq!(first.status(), 201);
        let first = first.text().await.unwrap();
        // Same request, fields in another order: the saved response, byte for byte.
        let again = send(r#"{"reference": "INV-7", "amount": 20000}"#, "key-1").await.unwrap();
        assert_eq!(again.status(), 201);
        assert_eq!(again.text().await.unwrap(), first);
        let conflict = send(r#"{"amount": 20001, "reference": "INV-7"}"#, "key-1").await.unwrap();
        assert_error(conflict, 409, "idempotency_key.reused").await;
        // Concurrent first uses of one key create exactly one session.
        let racers: Vec<_> = (0..8)
            .map(|_| tokio::spawn(send(r#"{"amount": 30000, "reference": "INV-8"}"#, "key-2")))
            .collect();
        let mut ids = std::collections::HashSet::new();
        for racer in racers {
            let res = racer.await.unwrap().unwrap();
            assert_eq!(res.status(), 201, "{backend:?}");
            let v: serde_json::Value = res.json().await.unwrap();
            ids.insert(v["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(ids.len(), 1, "{backend:?}: one key, one session");
        let list: serde_json::Value =
            app.get_as(KEY_A, "/v1/checkout_sessions?limit=100").await.json().await.unwrap();
        assert_eq!(list["data"].as_array().unwrap().len(), 2, "{backend:?}");
    }
}

#[tokio::test]
async fn list_is_newest_first_with_a_cursor() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let mut ids = Vec::new();
        for i in 0..3 {
            let res = app
                .post_a("/v1/checkout_sessions", &json!({"amount": 10000 + i, "reference": format!("R{i}")}))
                .await;
            let v: serde_json::Value = res.json().await.unwrap();
            ids.push(v["id"].as_str().unwrap().to_owned());
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
        app.client
            .post(app.url("/v1/checkout_sessions"))
            .bearer_auth(KEY_B)
            .json(&json!({"amount": 5, "reference": "B"}))
            .send()
            .await
            .unwrap();
        let page: serde_json::Value =
            app.get_as(KEY_A, "/v1/checkout_sessions?limit=2").await.json().await.unwrap();
        let got: Vec<&str> =
            page["data"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(got, vec![ids[2].as_str(), ids[1].as_str()], "{backend:?}");
        assert_eq!(page["has_more"], true);
        let next: serde_json::Value = app
            .get_as(KEY_A, &format!("/v1/checkout_sessions?limit=2&starting_after={}", ids[1]))
            .await
            .json()
            .await
            .unwrap();
        let got: Vec<&str> =
            next["data"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(got, vec![ids[0].as_str()]);
        assert_eq!(next["has_more"], false);
    }
}

#[tokio::test]
async fn cancel_goes_through_the_state_machine_and_writes_one_event() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let created: serde_json::Value = app
            .post_a("/v1/checkout_sessions", &json!({"amount": 50000, "reference": "C-1"}))
            .await
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap();
        let cancel = format!("/v1/checkout_sessions/{id}/cancel");
        let res = app.post_a(&cancel, &json!({})).await;
        assert_eq!(res.status(), 200, "{backend:?}");
        let cancelled: serde_json::Value = res.json().await.unwrap();
        assert_eq!(cancelled["status"], "cancelled");
        // Again: unchanged, and no second event.
        let again: serde_json::Value = app.post_a(&cancel, &json!({})).await.json().await.unwrap();
        assert_eq!(again["status"], "cancelled");
        let events: serde_json::Value = app.get_as(KEY_A, "/v1/events").await.json().await.unwrap();
        let data = events["data"].as_array().unwrap();
        assert_eq!(data.len(), 1, "{backend:?}: {events}");
        assert_eq!(data[0]["type"], "checkout_session.cancelled");
        assert_eq!(data[0]["object"], "event");
        assert_eq!(data[0]["data"]["object"]["id"], id);
        assert_eq!(data[0]["data"]["object"]["status"], "cancelled");
        let evt_id = data[0]["id"].as_str().unwrap();
        assert!(evt_id.starts_with("evt_"));
        let mut one: serde_json::Value =
            app.get_as(KEY_A, &format!("/v1/events/{evt_id}")).await.json().await.unwrap();
        // The delivery block moves on its own (the worker is delivering).
        let mut listed = data[0].clone();
        one.as_object_mut().unwrap().remove("delivery");
        listed.as_object_mut().unwrap().remove("delivery");
        assert_eq!(one, listed);
        // Merchant B sees neither the session nor the event.
        assert_error(app.get_as(KEY_B, &format!("/v1/events/{evt_id}")).await, 404, "resource.not_found")
            .await;
        let res = app.client.post(app.url(&cancel)).bearer_auth(KEY_B).send().await.unwrap();
        assert_error(res, 404, "resource.not_found").await;
        let b_events: serde_json::Value = app.get_as(KEY_B, "/v1/events").await.json().await.unwrap();
        assert_eq!(b_events["data"], json!([]));
    }
}

#[tokio::test]
async fn concurrent_cancels_change_the_session_once() {
    for backend in backends().await {
        let app = spawn_app(backend).await;
        let created: serde_json::Value = app
            .post_a("/v1/checkout_sessions", &json!({"amount": 50000, "reference": "C-2"}))
            .await
            .json()
            .await
            .unwrap();
        let url = app.url(&format!("/v1/checkout_sessions/{}/cancel", created["id"].as_str().unwrap()));
        let racers: Vec<_> =
            (0..8).map(|_| tokio::spawn(app.client.post(url.clone()).bearer_auth(KEY_A).send())).collect();
        for racer in racers {
            let res = racer.await.unwrap().unwrap();
            assert_eq!(res.status(), 200, "{backend:?}");
        }
        let events: serde_json::Value = app.get_as(KEY_A, "/v1/events").await.json().await.unwrap();
        assert_eq!(events["data"].as_array().unwrap().len(), 1, "{backend:?}: one change, one event");
    }
}
