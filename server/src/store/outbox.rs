//! The outbox: events waiting to be POSTed to merchants, claimed with a
//! lease so that two workers (or two instances) never deliver one event at
//! the same time, and every delivery attempt recorded.

use super::events::{EventRow, from_row};
use super::{Store, StoreError, now_ms};
use crate::ids::new_id;

/// One delivery attempt's result.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Unix ms.
    pub attempted_at: i64,
    /// The merchant's HTTP status, if it answered.
    pub response_status: Option<u16>,
    /// Why it failed without an answer (timeout, connection refused).
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

/// What happens to the event after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextDelivery {
    /// Delivered (2xx).
    Delivered,
    /// Try again at this time (Unix ms).
    RetryAt(i64),
    /// Retries exhausted.
    Failed,
    /// The merchant has no webhook URL.
    Skipped,
}

impl Store {
    /// Claims up to `limit` events due for delivery, for `lease_ms`.
    pub async fn claim_due_events(&self, limit: i64, lease_ms: i64) -> Result<Vec<EventRow>, StoreError> {
        let now = now_ms();
        let sql = if self.is_postgres() {
            concat!(
                "UPDATE events SET claimed_until = $1 WHERE id IN (SELECT id FROM events \
                 WHERE delivery_state = 'pending' AND next_delivery_at <= $2 \
                 AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY next_delivery_at LIMIT $4 \
                 FOR UPDATE SKIP LOCKED) RETURNING ",
                event_columns!()
            )
        } else {
            concat!(
                "UPDATE events SET claimed_until = $1 WHERE id IN (SELECT id FROM events \
                 WHERE delivery_state = 'pending' AND next_delivery_at <= $2 \
                 AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY next_delivery_at LIMIT $4) \
                 RETURNING ",
                event_columns!()
            )
        };
        let mut events = self
            .write_one(move |conn| {
                Box::pin(async move {
                    let rows = sqlx::query(sql)
                        .bind(now + lease_ms)
                        .bind(now)
                        .bind(now)
                        .bind(limit)
                        .fetch_all(conn)
                        .await?;
                    Ok(rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?)
                })
            })
            .await?;
        events.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(events)
    }

    /// Records a delivery attempt and what follows from it, releasing the claim.
    pub async fn record_delivery(
        &self,
        event_id: &str,
        delivery: &Delivery,
        next: NextDelivery,
    ) -> Result<(), StoreError> {
        let (state, next_at) = match next {
            NextDelivery::Delivered => ("delivered", None),
            NextDelivery::RetryAt(at) => ("pending", Some(at)),
            NextDelivery::Failed => ("failed", None),
            NextDelivery::Skipped => ("skipped", None),
        };
        let counted = i64::from(next != NextDelivery::Skipped);
        let (event_id, delivery) = (event_id.to_owned(), delivery.clone());
        self.write_guarded(move |tx| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE events SET delivery_state = $1, next_delivery_at = $2, claimed_until = NULL, \
                     delivery_attempts = delivery_attempts + $3 WHERE id = $4",
                )
                .bind(state)
                .bind(next_at)
                .bind(counted)
                .bind(&event_id)
                .execute(&mut *tx)
                .await?;
                if counted == 1 {
                    sqlx::query(
                        "INSERT INTO webhook_deliveries \
                         (id, event_id, attempted_at, response_status, error, duration_ms) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(new_id("whd"))
                    .bind(&event_id)
                    .bind(delivery.attempted_at)
                    .bind(delivery.response_status.map(i64::from))
                    .bind(&delivery.error)
                    .bind(delivery.duration_ms)
                    .execute(&mut *tx)
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Queues the merchant's event for delivery again now; `None` if no such event.
    pub async fn redeliver(&self, merchant_id: &str, event_id: &str) -> Result<Option<EventRow>, StoreError> {
        let (merchant, event) = (merchant_id.to_owned(), event_id.to_owned());
        self.write_one(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE events SET delivery_state = 'pending', next_delivery_at = $1, claimed_until = NULL \
                     WHERE merchant_id = $2 AND id = $3",
                )
                .bind(now_ms())
                .bind(&merchant)
                .bind(&event)
                .execute(conn)
                .await?;
                Ok(())
            })
        })
        .await?;
        self.event(merchant_id, event_id).await
    }
}
