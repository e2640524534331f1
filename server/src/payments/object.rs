//! The checkout session as the API shows it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::attempt::AttemptObject;
use crate::store::{AttemptRow, SessionRow, StoreError};

/// `{"object":"checkout_session", ...}`. Times are Unix seconds.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionObject {
    /// `cs_…`.
    pub id: String,
    /// Always `checkout_session`.
    #[schema(value_type = String)]
    pub object: &'static str,
    /// Session status.
    pub status: String,
    /// `true` for a session of a live key (real money), `false` in test mode.
    pub livemode: bool,
    /// Whole rupiah.
    pub amount: i64,
    /// `IDR`.
    pub currency: String,
    /// The merchant's order id.
    pub reference: String,
    /// Description.
    pub description: Option<String>,
    /// Allowed methods.
    pub payment_methods: Vec<String>,
    /// Customer details given at creation.
    #[schema(value_type = Object)]
    pub customer: serde_json::Value,
    /// Return URL.
    pub return_url: Option<String>,
    /// `id` or `en`.
    pub locale: String,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
    /// The widget's credential for this session. Left out of event
    /// snapshots (webhooks, `/v1/events`): a credential must not travel to
    /// every webhook log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The hosted payment page.
    pub url: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Whole rupiah refunded so far.
    pub amount_refunded: i64,
    /// The newest payment attempt, if any.
    pub latest_attempt: Option<AttemptObject>,
    /// Money the provider reported after the session had closed (a QR paid
    /// after cancel or expiry, a second payment), and what became of it.
    #[schema(value_type = Vec<Object>)]
    pub late_payments: Vec<serde_json::Value>,
}

impl SessionObject {
    /// Builds the API object from a stored row.
    pub fn from_row(row: SessionRow, public_url: &str) -> Result<SessionObject, StoreError> {
        let corrupt =
            |what: &str, e: serde_json::Error| StoreError::Corrupt(format!("{what} of {}: {e}", row.id));
        Ok(SessionObject {
            // The page's secret rides in the fragment, which browsers never
            // send to a server: it is in no access log, and no webhook
            // carries it (the snapshot drops it). As Stripe's hosted URL.
            url: format!("{public_url}/pay/{}#{}", row.id, row.client_secret),
            object: "checkout_session",
            payment_methods: serde_json::from_str(&row.payment_methods).map_err(|e| corrupt("methods", e))?,
            customer: serde_json::from_str(&row.customer).map_err(|e| corrupt("customer", e))?,
            metadata: serde_json::from_str(&row.metadata).map_err(|e| corrupt("metadata", e))?,
            created_at: row.created_at / 1000,
            expires_at: row.expires_at / 1000,
            amount_refunded: row.amount_refunded,
            latest_attempt: None,
            late_payments: Vec::new(),
            livemode: row.livemode,
            id: row.id,
            status: row.status,
            amount: row.amount,
            currency: row.currency,
            reference: row.reference,
            description: row.description,
            return_url: row.return_url,
            locale: row.locale,
            client_secret: Some(row.client_secret),
        })
    }
}

impl SessionObject {
    /// With its late payments.
    pub fn with_late_payments(mut self, late: &[crate::store::LatePaymentRow]) -> SessionObject {
        self.late_payments = late.iter().map(crate::store::LatePaymentRow::to_json).collect();
        self
    }

    /// With its newest attempt.
    pub fn with_attempt(mut self, attempt: Option<&AttemptRow>) -> SessionObject {
        self.latest_attempt = attempt.map(AttemptObject::from_row);
        self
    }
}

/// The event snapshot: the session object with its latest attempt, as JSON.
pub fn snapshot_fn(
    public_url: String,
) -> impl Fn(&SessionRow, Option<&AttemptRow>) -> Result<String, StoreError> + Sync {
    move |row, attempt| {
        let mut object = SessionObject::from_row(row.clone(), &public_url)?.with_attempt(attempt);
        object.client_secret = None;
        object.url = format!("{public_url}/pay/{}", row.id);
        Ok(serde_json::to_string(&object)?)
    }
}
