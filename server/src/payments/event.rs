//! The event object: what `GET /v1/events/{id}` shows and, without the
//! delivery block, exactly what the merchant's webhook receives.

use serde::Serialize;

use crate::store::{EventRow, StoreError};

/// `{"id":"evt_…","object":"event","type":…,"created_at":…,"data":{"object":{…}}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventObject {
    id: String,
    #[schema(value_type = String)]
    object: &'static str,
    #[serde(rename = "type")]
    event_type: String,
    created_at: i64,
    /// Whether the session is live (real money) or test (as Stripe's `livemode`).
    livemode: bool,
    data: EventData,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery: Option<DeliveryInfo>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct EventData {
    #[schema(value_type = Object)]
    object: serde_json::Value,
}

/// Where the event's webhook delivery stands (API view only).
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct DeliveryInfo {
    state: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
}

impl EventObject {
    /// The webhook body's object for a stored event.
    pub fn from_row(row: &EventRow) -> Result<EventObject, StoreError> {
        let object: serde_json::Value = serde_json::from_str(&row.payload)?;
        Ok(EventObject {
            livemode: object["livemode"].as_bool().unwrap_or(false),
            data: EventData { object },
            id: row.id.clone(),
            object: "event",
            event_type: row.event_type.clone(),
            created_at: row.created_at / 1000,
            delivery: None,
        })
    }

    /// Adds the delivery state (for the merchant API, not the webhook).
    pub fn with_delivery(mut self, row: &EventRow) -> EventObject {
        self.delivery = Some(DeliveryInfo {
            state: row.delivery_state.clone(),
            attempts: row.delivery_attempts,
            next_attempt_at: row.next_delivery_at.map(|t| t / 1000),
        });
        self
    }
}
