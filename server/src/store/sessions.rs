//! Checkout sessions.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError};

/// A checkout session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// `cs_…`.
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// Session status (wire name).
    pub status: String,
    /// Whole rupiah.
    pub amount: i64,
    /// Always `IDR` today.
    pub currency: String,
    /// The merchant's order reference.
    pub reference: String,
    /// Optional description.
    pub description: Option<String>,
    /// JSON array of method names.
    pub payment_methods: String,
    /// JSON object of customer fields.
    pub customer: String,
    /// Where the shopper goes afterwards.
    pub return_url: Option<String>,
    /// `id` or `en`.
    pub locale: String,
    /// JSON object.
    pub metadata: String,
    /// The widget's credential for this session.
    pub client_secret: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub expires_at: i64,
    /// Whole rupiah refunded so far.
    pub amount_refunded: i64,
    /// Created with a live key: real money, never the sandbox.
    pub livemode: bool,
}

/// One page of sessions, newest first.
#[derive(Debug, Clone)]
pub struct SessionPage {
    /// The sessions.
    pub sessions: Vec<SessionRow>,
    /// Whether more follow the last one.
    pub has_more: bool,
}

/// The column list, as a macro so queries stay `&'static str` literals
/// (sqlx refuses dynamically built SQL).
macro_rules! session_columns {
    () => {
        "id, merchant_id, status, amount, currency, reference, description, payment_methods, \
         customer, return_url, locale, metadata, client_secret, created_at, expires_at, amount_refunded, \
         livemode"
    };
}

fn from_row(row: &AnyRow) -> Result<SessionRow, sqlx::Error> {
    Ok(SessionRow {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        status: row.try_get("status")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        reference: row.try_get("reference")?,
        description: row.try_get("description")?,
        payment_methods: row.try_get("payment_methods")?,
        customer: row.try_get("customer")?,
        return_url: row.try_get("return_url")?,
        locale: row.try_get("locale")?,
        metadata: row.try_get("metadata")?,
        client_secret: row.try_get("client_secret")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        amount_refunded: row.try_get("amount_refunded")?,
        livemode: row.try_get::<i64, _>("livemode")? != 0,
    })
}

pub(super) async fn insert<'c, E>(executor: E, s: &SessionRow) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(concat!(
        "INSERT INTO checkout_sessions (",
        session_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(&s.id)
    .bind(&s.merchant_id)
    .bind(&s.status)
    .bind(s.amount)
    .bind(&s.currency)
    .bind(&s.reference)
    .bind(&s.description)
    .bind(&s.payment_methods)
    .bind(&s.customer)
    .bind(&s.return_url)
    .bind(&s.locale)
    .bind(&s.metadata)
    .bind(&s.client_secret)
    .bind(s.created_at)
    .bind(s.expires_at)
    .bind(s.amount_refunded)
    .bind(i64::from(s.livemode))
    .execute(executor)
    .await?;
    Ok(())
}

impl Store {
    /// The merchant's session with this id, if any (another merchant's is `None`).
    pub async fn session(&self, merchant_id: &str, id: &str) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM checkout_sessions WHERE merchant_id = $1 AND id = $2"
        ))
        .bind(merchant_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// The session with this id, whoever owns it (widget API, webhooks, workers).
    pub async fn session_by_id(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        let row =
            sqlx::query(concat!("SELECT ", session_columns!(), " FROM checkout_sessions WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Up to `limit` sessions still `open` or `requires_action` after their expiry.
    pub async fn sessions_past_expiry(&self, limit: i64) -> Result<Vec<SessionRow>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM checkout_sessions WHERE status IN ('open', 'requires_action') AND expires_at <= $1 \
             ORDER BY expires_at LIMIT $2"
        ))
        .bind(super::now_ms())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?)
    }

    /// Newest first, `limit` at most, after the session `starting_after`.
    pub async fn sessions(
        &self,
        merchant_id: &str,
        limit: u32,
        starting_after: Option<&str>,
    ) -> Result<Option<SessionPage>, StoreError> {
        let fetch = i64::from(limit) + 1;
        let rows = match starting_after {
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    session_columns!(),
                    " FROM checkout_sessions WHERE merchant_id = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ))
                .bind(merchant_id)
                .bind(fetch)
                .fetch_all(self.pool())
                .await?
            }
            Some(cursor) => {
                let Some(after) = self.session(merchant_id, cursor).await? else {
                    return Ok(None);
                };
                sqlx::query(concat!(
                    "SELECT ",
                    session_columns!(),
                    " FROM checkout_sessions WHERE merchant_id = $1 \
                     AND (created_at < $2 OR (created_at = $3 AND id < $4)) \
                     ORDER BY created_at DESC, id DESC LIMIT $5"
                ))
                .bind(merchant_id)
                .bind(after.created_at)
                .bind(after.created_at)
                .bind(&after.id)
                .bind(fetch)
                .fetch_all(self.pool())
                .await?
            }
        };
        let mut sessions = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
        let has_more = sessions.len() > limit as usize;
        sessions.truncate(limit as usize);
        Ok(Some(SessionPage { sessions, has_more }))
    }
}
