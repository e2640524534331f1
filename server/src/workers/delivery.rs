//! The delivery worker: POSTs outbox events to merchants' webhook URLs,
//! signed with `Kasir-Signature` and, for a `whsec_<base64>` secret, the
//! Standard Webhooks headers, retrying on the configured schedule.
//! Claims are leases in the database, so a crash mid-delivery only delays
//! the event until the lease ends, and two instances never send one event
//! at the same time.

use std::time::Instant;

use crate::AppState;
use crate::payments::settle::ms;
use crate::signing;
use crate::store::{Delivery, EventRow, NextDelivery, StoreError, now_ms};

/// Events claimed per round.
const BATCH: i64 = 16;

/// Delivers every due event; returns how many were tried.
pub async fn deliver_due(state: &AppState) -> Result<usize, StoreError> {
    let lease = ms(state.config.timings.delivery_timeout) * 2 + 5_000;
    let events = state.store.claim_due_events(BATCH, lease).await?;
    let n = events.len();
    let sends = events.iter().map(|event| deliver_one(state, event));
    for result in futures_util::future::join_all(sends).await {
        result?;
    }
    Ok(n)
}

/// The exact bytes the merchant receives for an event.
pub fn webhook_body(event: &EventRow) -> Result<String, StoreError> {
    Ok(serde_json::to_string(&crate::payments::event_object(event)?)?)
}

async fn deliver_one(state: &AppState, event: &EventRow) -> Result<(), StoreError> {
    let merchant = state.merchant(&event.merchant_id);
    let target = merchant.and_then(|m| Some((m.webhook_url.as_deref()?, m.webhook_secret.as_ref()?)));
    let started_at = now_ms();
    let Some((url, secret)) = target else {
        let none = Delivery { attempted_at: started_at, response_status: None, error: None, duration_ms: 0 };
        return state.store.record_delivery(&event.id, &none, NextDelivery::Skipped).await;
    };
    let body = webhook_body(event)?;
    let timestamp = now_ms() / 1000;
    let signature = signing::sign(secret.expose_secret().as_bytes(), timestamp, body.as_bytes());
    let mut request = state
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("Kasir-Webhooks/", env!("CARGO_PKG_VERSION")))
        .header("kasir-signature", signature)
        .header("kasir-event-id", &event.id);
    // Standard Webhooks, for a `whsec_<base64>` secret: the event id is the
    // message id, the same on every retry, so the merchant can deduplicate.
    if let Some(key) = signing::standard_key(secret.expose_secret()) {
        request = request
            .header("webhook-id", &event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signing::standard_signature(&key, &event.id, timestamp, body.as_bytes()),
            );
    }
    let clock = Instant::now();
    let sent = request.body(body).send().await;
    let duration_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (response_status, error) = match &sent {
        Ok(res) => (Some(res.status().as_u16()), None),
        // reqwest's error text names the URL, never the body or secret.
        Err(e) => (None, Some(if e.is_timeout() { "timeout".to_owned() } else { e.to_string() })),
    };
    let delivered = response_status.is_some_and(|s| (200..300).contains(&s));
    let next = if delivered {
        NextDelivery::Delivered
    } else {
        let schedule = &state.config.timings.delivery_schedule;
        let tried = usize::try_from(event.delivery_attempts).unwrap_or(usize::MAX).saturating_add(1);
        match schedule.get(tried - 1) {
            Some(delay) => NextDelivery::RetryAt(now_ms() + ms(*delay)),
            None => NextDelivery::Failed,
        }
    };
    state.metrics.delivery(if delivered { "delivered" } else { "failed" });
    if !delivered {
        tracing::warn!(event = %event.id, ?response_status, error = ?error, ?next, "webhook delivery failed");
    }
    let delivery = Delivery { attempted_at: started_at, response_status, error, duration_ms };
    state.store.record_delivery(&event.id, &delivery, next).await
}
