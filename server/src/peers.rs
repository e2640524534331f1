//! Several instances on one PostgreSQL (issue 21): a session that changes
//! in one instance wakes the live streams watching it in every instance at
//! once, through `LISTEN`/`NOTIFY` on the channel [`CHANNEL`], instead of
//! after the streams' periodic re-read (5 s), which stays as the fallback
//! when a notification is lost (a listener reconnecting, a full queue).
//!
//! - Telling: `AppState::notify_session` hands the session id to a bounded
//!   queue; one task sends `SELECT pg_notify(…)` per id. A full queue drops
//!   the id (never blocks a request); the re-read covers it.
//! - Listening: one connection per instance `LISTEN`s and wakes the local
//!   streams of each id it hears (its own included: one extra re-read).
//!   On error it reconnects after a pause.
//!
//! SQLite is one process's file: nothing to tell, nothing runs.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{mpsc, watch};

use crate::AppState;

/// The notification channel.
pub const CHANNEL: &str = "kasir_session_changed";

/// Ids waiting to be told; beyond, they are dropped.
const QUEUE: usize = 4096;

/// The telling side, in `AppState`.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    tx: Option<mpsc::Sender<String>>,
}

impl Peers {
    /// A teller and the queue its task reads, when the store is PostgreSQL.
    pub fn new(postgres: bool) -> (Peers, Option<mpsc::Receiver<String>>) {
        if !postgres {
            return (Peers::default(), None);
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        (Peers { tx: Some(tx) }, Some(rx))
    }

    /// Session `id` changed here: tell the other instances.
    pub fn tell(&self, id: &str) {
        if let Some(tx) = &self.tx {
            let _ = tx.try_send(id.to_owned());
        }
    }
}

/// Runs the telling and the listening tasks until the server stops.
pub fn spawn(state: AppState, mut queue: mpsc::Receiver<String>, stopping: watch::Receiver<bool>) {
    let teller = state.clone();
    let mut stop = stopping.clone();
    tokio::spawn(async move {
        loop {
            let id = tokio::select! {
                id = queue.recv() => match id { Some(id) => id, None => return },
                _ = stop.wait_for(|s| *s) => return,
            };
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(&id)
                .execute(teller.store.pool())
                .await;
            if let Err(e) = sent {
                tracing::debug!(error = %e, "could not tell the other instances; their streams re-read soon");
            }
        }
    });
    let mut stop = stopping;
    tokio::spawn(async move {
        loop {
            let listened = async {
                let mut listener = PgListener::connect(&state.config.database_url).await?;
                listener.listen(CHANNEL).await?;
                loop {
                    let note = listener.recv().await?;
                    state.session_changes.notify(note.payload());
                }
                #[allow(unreachable_code)]
                Ok::<(), sqlx::Error>(())
            };
            tokio::select! {
                result = listened => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "listening for other instances' changes failed; retrying in 5 s");
                    }
                }
                _ = stop.wait_for(|s| *s) => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    });
}
