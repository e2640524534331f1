//! Durable state through sqlx's `Any` driver: one code path for SQLite (the
//! embedded default, WAL mode) and PostgreSQL (scale-out). The SQL is kept
//! portable: `$n` parameters, BIGINT milliseconds, TEXT JSON.

mod attempts;
#[macro_use]
mod events;
mod idempotency;
pub(crate) mod inplace;
mod late;
mod outbox;
mod refunds;
mod retention;
mod sessions;
mod transitions;
mod writer;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use attempts::{AttemptRow, AttemptStart};
pub use events::{EventRow, event_type};
pub use idempotency::{IdempotencyOutcome, IdempotentRequest, StoredResponse};
pub(crate) use inplace::{Conn, Reader};
pub use late::{LatePaymentRow, late_payload};
pub use outbox::{Delivery, NextDelivery};
pub use refunds::{RefundReserve, RefundRow};
pub use retention::Purged;
pub use sessions::{SessionPage, SessionRow};
pub use transitions::{AttemptSettle, AttemptUpdate, SessionTransition, Snapshot};
pub use writer::GroupStats;
pub(crate) use writer::WriteFn;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A value could not be encoded or decoded as JSON.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// Another request changed the row between our read and our write.
    #[error("concurrent change")]
    Conflict,
    /// Migrations failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row holds something this version cannot read.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database is set up in a way that could lose acknowledged
    /// payments, or its files cannot be made private.
    #[error("unsafe database setup: {0}")]
    Unsafe(String),
}

/// The database behind Kasir.
#[derive(Debug, Clone)]
pub struct Store {
    /// Migrations and checks (and everything on PostgreSQL).
    pool: AnyPool,
    /// A SQLite file, read and written in place (`inplace.rs`).
    local: Option<std::sync::Arc<inplace::Local>>,
    /// Writes: on SQLite one connection behind the group-commit task, on
    /// PostgreSQL the same pool.
    writer: writer::Writer,
    postgres: bool,
    /// Merchants with no webhook endpoint: their events are written
    /// `skipped`, so the delivery worker never has to look at them.
    silent: std::sync::Arc<std::collections::HashSet<String>>,
    /// Merchants with `late_payments = "notify"`: their late payments are
    /// reported, not refunded.
    notify_only: std::sync::Arc<std::collections::HashSet<String>>,
}

impl Store {
    /// Names the merchants that have no webhook endpoint.
    pub fn with_silent_merchants(mut self, ids: impl IntoIterator<Item = String>) -> Store {
        self.silent = std::sync::Arc::new(ids.into_iter().collect());
        self
    }

    /// Names the merchants whose late payments are reported, not refunded.
    pub fn with_notify_only_merchants(mut self, ids: impl IntoIterator<Item = String>) -> Store {
        self.notify_only = std::sync::Arc::new(ids.into_iter().collect());
        self
    }

    /// Whether events of `merchant_id` are to be delivered.
    pub(crate) fn delivers_to(&self, merchant_id: &str) -> bool {
        !self.silent.contains(merchant_id)
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How SQLite syncs a commit to disk (`PRAGMA synchronous`, in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSynchronous {
    /// Every commit is synced before Kasir answers: an acknowledged payment
    /// survives a power cut. The default.
    #[default]
    Full,
    /// The WAL is synced at checkpoints only: faster, but a power cut or a
    /// host crash can lose the last commits (a process crash cannot).
    Normal,
}

impl SqliteSynchronous {
    /// `full` or `normal` (any case).
    pub fn parse(s: &str) -> Option<SqliteSynchronous> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Some(SqliteSynchronous::Full),
            "normal" => Some(SqliteSynchronous::Normal),
            _ => None,
        }
    }

    fn pragma(self) -> &'static str {
        match self {
            SqliteSynchronous::Full => "PRAGMA synchronous = FULL",
            SqliteSynchronous::Normal => "PRAGMA synchronous = NORMAL",
        }
    }
}

impl Store {
    /// Connects to `sqlite://path?mode=rwc` or `postgres://…` and runs
    /// migrations, with every commit synced to disk.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(url, SqliteSynchronous::Full).await
    }

    /// As `connect`, with SQLite's sync mode chosen. On PostgreSQL a
    /// server with `synchronous_commit = off` is refused: it acknowledges
    /// commits it can still lose.
    pub async fn connect_with(url: &str, synchronous: SqliteSynchronous) -> Result<Store, StoreError> {
        install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        if sqlite && sqlite_file(url).is_some_and(|f| f.contains('%')) {
            // sqlx decodes `%20` in the path, the file checks and SQLite in
            // place would not: two different files. Refused, not guessed.
            return Err(StoreError::Unsafe(
                "a SQLite path with '%' in it is not supported: write the path as it is".into(),
            ));
        }
        if sqlite && let Some(dir) = sqlite_parent_dir(url) {
            let existed = std::path::Path::new(dir).exists();
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unsafe(format!("cannot create {dir}: {e}")))?;
            if !existed {
                owner_only(dir, 0o700)?;
            }
        }
        if sqlite && let Some(file) = sqlite_file(url) {
            private_database_file(file)?;
        }
        let options = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(5))
                // A SQLite connection is a file in this process: it cannot
                // go stale. The check before each use (a round trip to the
                // connection's thread, as many as the statements themselves)
                // stays for PostgreSQL, whose connections can break.
                .test_before_acquire(!sqlite)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if sqlite {
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            conn.execute(synchronous.pragma()).await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = options(if sqlite { 2 } else { 16 }).connect(url).await?;
        if sqlite {
            // WAL persists in the file: readers never block the writer.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        if !sqlite {
            let commit: String =
                sqlx::query_scalar("SELECT current_setting('synchronous_commit')").fetch_one(&pool).await?;
            if commit.eq_ignore_ascii_case("off") {
                return Err(StoreError::Unsafe(
                    "PostgreSQL runs with synchronous_commit = off: it acknowledges commits a crash can \
                     still lose, and a payment must not be one of them. Set synchronous_commit = on."
                        .into(),
                ));
            }
        }
        MIGRATOR.run(&pool).await?;
        // SQLite has one writer. Several connections writing at once do not
        // wait in line: each that finds the file locked backs off and
        // sleeps (the busy handler), up to hundreds of milliseconds, while
        // the lock may long be free. One writing connection makes the
        // writes queue in Kasir instead, in order, with no sleeping.
        let file = if sqlite { sqlite_file(url) } else { None };
        let local =
            file.map(|path| std::sync::Arc::new(inplace::Local::new(path.into(), synchronous.pragma())));
        let writer = match &local {
            Some(local) => writer::Writer::group(local.clone())?,
            None => writer::Writer::Direct(pool.clone()),
        };
        Ok(Store {
            pool,
            local,
            writer,
            postgres: !sqlite,
            silent: std::sync::Arc::default(),
            notify_only: std::sync::Arc::default(),
        })
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        if !self.writer.alive() {
            // Reads would still work, but nothing could be written.
            return Err(StoreError::Database(sqlx::Error::WorkerCrashed));
        }
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    /// Whether the backend is PostgreSQL (which can `SKIP LOCKED`).
    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// For reads: in place on a SQLite file, else sqlx's pool.
    pub(crate) fn pool(&self) -> Reader<'_> {
        match &self.local {
            Some(local) => Reader::Local(local),
            None => Reader::Pool(&self.pool),
        }
    }

    /// Every write: `job` runs in a transaction (on SQLite, with the other
    /// writes waiting, in one commit) and its result comes back once that
    /// is committed. An error from `job` undoes what it wrote, and only that.
    /// `job` holds the writer while it runs: it must only talk to the
    /// database, and read what it needs before.
    pub(crate) async fn write<T: Send + 'static>(&self, job: impl WriteFn<T>) -> Result<T, StoreError> {
        self.writer.write(job, writer::Mode::Savepoint).await
    }

    /// As `write`, for a `job` that runs exactly one statement (atomic on
    /// its own, so it needs no savepoint of its own).
    pub(crate) async fn write_one<T: Send + 'static>(&self, job: impl WriteFn<T>) -> Result<T, StoreError> {
        self.writer.write(job, writer::Mode::One).await
    }

    /// As `write`, for a `job` whose first statement decides (a
    /// compare-and-set: when it changes nothing, the job writes nothing and
    /// returns `Ok`) and whose later statements cannot fail but for an I/O
    /// error or a bug. It needs no savepoint: if a later statement fails
    /// anyway, the whole commit it was in is given up and every write in it
    /// is told so (none was kept). A job that may fail on purpose after
    /// writing (a unique key two requests race for) uses `write`.
    pub(crate) async fn write_guarded<T: Send + 'static>(
        &self,
        job: impl WriteFn<T>,
    ) -> Result<T, StoreError> {
        self.writer.write(job, writer::Mode::Guarded).await
    }

    /// What group commit has done so far (SQLite on a file only).
    pub fn group_stats(&self) -> Option<&GroupStats> {
        self.writer.stats()
    }
}

/// The directory of a `sqlite://dir/file.db?...` URL, if it names one.
/// The database file of a SQLite URL (not an in-memory one).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let memory = path.is_empty() || path == ":memory:" || query.contains("mode=memory");
    (!memory).then_some(path)
}

/// The database holds payment records and client secrets: it, and the WAL
/// and shared-memory files SQLite creates with its mode, are readable by
/// the server's user alone (issue 15). A new file is created 0600; an
/// existing one with wider permissions is narrowed, with a warning.
fn private_database_file(path: &str) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let io = |e: std::io::Error| StoreError::Unsafe(format!("{path}: {e}"));
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
        for file in [path.to_owned(), format!("{path}-wal"), format!("{path}-shm")] {
            let Ok(meta) = std::fs::metadata(&file) else { continue };
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(file = %file, "database file was readable by others; narrowed to 0600");
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
            }
        }
    }
    let _ = path;
    Ok(())
}

/// Narrows a directory Kasir created to its owner.
fn owner_only(dir: &str, mode: u32) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
            .map_err(|e| StoreError::Unsafe(format!("{dir}: {e}")))?;
    }
    let _ = (dir, mode);
    Ok(())
}

fn sqlite_parent_dir(url: &str) -> Option<&str> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next()?;
    let dir = &path[..path.rfind('/')?];
    (!dir.is_empty() && path != ":memory:").then_some(dir)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod durability_tests {
    use super::*;

    /// sqlx would open `my db.db` for `my%20db.db` while the file checks
    /// and SQLite in place would use the name as written: refused.
    #[tokio::test]
    async fn a_sqlite_path_with_a_percent_sign_is_refused() {
        let dir = std::env::temp_dir().join(format!("kasir-pct-{}", crate::ids::random_token(8)));
        let url = format!("sqlite://{}/my%20db.db?mode=rwc", dir.display());
        let refused = Store::connect(&url).await;
        assert!(matches!(&refused, Err(StoreError::Unsafe(m)) if m.contains('%')), "{:?}", refused.err());
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Issue 21: every SQLite connection syncs each commit (`synchronous`
    /// 2 = FULL) unless the operator relaxes it (1 = NORMAL).
    #[tokio::test]
    async fn sqlite_commits_are_synced_unless_relaxed() {
        for (mode, expected) in [(SqliteSynchronous::Full, 2_i64), (SqliteSynchronous::Normal, 1)] {
            let dir = std::env::temp_dir().join(format!("kasir-sync-{}", crate::ids::random_token(8)));
            let url = format!("sqlite://{}/kasir.db?mode=rwc", dir.display());
            let store = Store::connect_with(&url, mode).await.unwrap();
            // The connections that write and read in place, and sqlx's.
            let local = store.local.as_ref().unwrap().open().unwrap();
            let n: i64 = local.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
            assert_eq!(n, expected, "{mode:?}");
            let n: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(store.pool()).await.unwrap();
            assert_eq!(n, expected, "{mode:?}");
            let n: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&store.pool).await.unwrap();
            assert_eq!(n, expected, "{mode:?}");
            drop(store);
            let _ = std::fs::remove_dir_all(dir);
        }
        assert_eq!(SqliteSynchronous::default(), SqliteSynchronous::Full);
        assert_eq!(SqliteSynchronous::parse(" NORMAL "), Some(SqliteSynchronous::Normal));
        assert_eq!(SqliteSynchronous::parse("off"), None);
    }
}
