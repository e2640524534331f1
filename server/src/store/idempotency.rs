//! `Idempotency-Key`: the saved response is written in the same transaction
//! as the object it describes, so a retry either sees both or neither.

use sqlx::Row;

use super::sessions::{SessionRow, insert};
use super::{Store, StoreError};

/// A response saved under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// The JSON body, byte for byte.
    pub body: String,
}

/// What happened to a create under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyOutcome {
    /// Created now; the response was saved.
    Created,
    /// The key was used before with the same request: here is that response.
    Replayed(StoredResponse),
    /// The key was used before with a different request.
    Conflict,
}

/// The key, the hash of the request it came with, and the response to save.
#[derive(Debug, Clone, Copy)]
pub struct IdempotentRequest<'a> {
    /// The merchant's key.
    pub key: &'a str,
    /// SHA-256 (hex) of the canonical request.
    pub request_hash: &'a str,
    /// The response to save if this request creates the object.
    pub response: &'a StoredResponse,
}

impl Store {
    /// Inserts a session, honouring an idempotency key if one is given.
    pub async fn create_session(
        &self,
        row: &SessionRow,
        idempotency: Option<IdempotentRequest<'_>>,
    ) -> Result<IdempotencyOutcome, StoreError> {
        let Some(idem) = idempotency else {
            let row = row.clone();
            self.write_one(move |conn| Box::pin(async move { insert(conn, &row).await })).await?;
            return Ok(IdempotencyOutcome::Created);
        };
        if let Some(outcome) = self.replay(&row.merchant_id, idem).await? {
            return Ok(outcome);
        }
        let (session, key, hash, response) =
            (row.clone(), idem.key.to_owned(), idem.request_hash.to_owned(), idem.response.clone());
        let saved = self
            .write(move |conn| {
                Box::pin(async move {
                    insert(&mut *conn, &session).await?;
                    sqlx::query(
                        "INSERT INTO idempotency_keys \
                         (merchant_id, idempotency_key, request_hash, response_status, response_body, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&session.merchant_id)
                    .bind(&key)
                    .bind(&hash)
                    .bind(i64::from(response.status))
                    .bind(&response.body)
                    .bind(session.created_at)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await;
        match saved {
            Ok(()) => Ok(IdempotencyOutcome::Created),
            // A concurrent request with the same key won the race: answer as it did.
            Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => self
                .replay(&row.merchant_id, idem)
                .await?
                .ok_or_else(|| StoreError::Corrupt("idempotency key vanished".into())),
            Err(e) => Err(e),
        }
    }

    async fn replay(
        &self,
        merchant_id: &str,
        idem: IdempotentRequest<'_>,
    ) -> Result<Option<IdempotencyOutcome>, StoreError> {
        let row = sqlx::query(
            "SELECT request_hash, response_status, response_body FROM idempotency_keys \
             WHERE merchant_id = $1 AND idempotency_key = $2",
        )
        .bind(merchant_id)
        .bind(idem.key)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: String = row.try_get("request_hash")?;
        if hash != idem.request_hash {
            return Ok(Some(IdempotencyOutcome::Conflict));
        }
        let status: i64 = row.try_get("response_status")?;
        let status = u16::try_from(status).map_err(|_| StoreError::Corrupt(format!("status {status}")))?;
        Ok(Some(IdempotencyOutcome::Replayed(StoredResponse { status, body: row.try_get("response_body")? })))
    }
}
