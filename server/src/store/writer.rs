//! Group commit (issue 21): every write is a job, and on SQLite one task
//! runs the jobs that are waiting in one transaction, so many requests
//! share one synced commit (`synchronous = FULL`: one fsync per batch, not
//! per request).
//!
//! - Each job runs inside its own savepoint: a job that fails is undone
//!   alone, and the jobs after it go on in the next batch. A job of one
//!   statement (`Store::write_one`) needs none: SQLite undoes a failed
//!   statement by itself, and the savepoint's two round trips to SQLite's
//!   thread were most of such a job's cost. Nor does a job whose first
//!   statement decides and whose later ones cannot fail in normal
//!   operation (`Store::write_guarded`); if one fails anyway, the batch is
//!   given up and every job in it told so.
//! - A job is answered only after the batch's `COMMIT` returned: no caller
//!   learns of a write that a power cut could still take away.
//! - If the batch cannot commit (a full disk, an I/O error), every job in
//!   it is told so, including those that succeeded: none of them is kept.
//! - A batch takes what is waiting and never waits for more; it holds at
//!   most `MAX_BATCH` jobs, and the queue at most `QUEUE` (callers wait).
//!
//! On PostgreSQL (and an in-memory SQLite) a job is simply its own
//! transaction on a pooled connection: the server batches its own WAL
//! flushes across connections.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::inplace::{Conn, Local};

/// The most jobs one commit carries.
const MAX_BATCH: usize = 64;
/// The most jobs waiting for the writer; further callers wait to queue.
const QUEUE: usize = 4096;

/// How writes reach the database.
#[derive(Debug, Clone)]
pub(super) enum Writer {
    /// Each job is its own transaction on this pool.
    Direct(AnyPool),
    /// Jobs are queued to the group-commit thread, which writes on its
    /// own connection to `local`'s file, in place.
    Group {
        /// The queue.
        queue: mpsc::Sender<Box<dyn Job>>,
        /// What the thread has done.
        stats: Arc<GroupStats>,
    },
}

/// What the group-commit task has done, for benchmarks and logs.
#[derive(Debug, Default)]
pub struct GroupStats {
    /// Commits made.
    pub batches: AtomicU64,
    /// Jobs run (those in failed batches included).
    pub jobs: AtomicU64,
    /// The largest batch so far.
    pub largest: AtomicU64,
}

/// How a job is kept atomic inside a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// In its own savepoint: a failure undoes it alone.
    Savepoint,
    /// One statement: SQLite undoes a failed statement by itself.
    One,
    /// Its first statement decides and the others cannot fail in normal
    /// operation: a failure after it wrote gives up the whole batch.
    Guarded,
}

/// A write: statements on the writer's connection, inside a transaction.
pub(crate) trait WriteFn<T>:
    for<'c> FnOnce(&'c mut Conn<'c>) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static
{
}

impl<T, F> WriteFn<T> for F where
    F: for<'c> FnOnce(&'c mut Conn<'c>) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static
{
}

impl Writer {
    /// Starts the group-commit thread on `local`'s file: its own OS
    /// thread (a commit's fsync never blocks the server's), running every
    /// statement of a batch in place.
    pub(super) fn group(local: Arc<Local>) -> Result<Writer, StoreError> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(GroupStats::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        let thread_stats = stats.clone();
        std::thread::Builder::new()
            .name("kasir-writer".into())
            .spawn(move || runtime.block_on(run(local, rx, thread_stats)))
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        Ok(Writer::Group { queue: tx, stats })
    }

    /// Runs `job` in a transaction and returns its result once committed.
    /// An error from the job rolls back what it wrote, and only that.
    pub(super) async fn write<T, F>(&self, job: F, mode: Mode) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: WriteFn<T>,
    {
        match self {
            Writer::Direct(pool) if mode == Mode::One => {
                // One statement: it is atomic on its own.
                let mut conn = pool.acquire().await?;
                job(&mut Conn::Any(&mut conn)).await
            }
            Writer::Direct(pool) => {
                let mut tx = pool.begin().await?;
                let result = job(&mut Conn::Any(&mut tx)).await;
                match result {
                    Ok(value) => {
                        tx.commit().await?;
                        Ok(value)
                    }
                    Err(e) => {
                        tx.rollback().await?;
                        Err(e)
                    }
                }
            }
            Writer::Group { queue, .. } => {
                let (reply, answer) = oneshot::channel();
                queue
                    .send(Box::new(Typed { job, reply, mode }))
                    .await
                    .map_err(|_| StoreError::Database(sqlx::Error::WorkerCrashed))?;
                answer.await.map_err(|_| StoreError::Database(sqlx::Error::WorkerCrashed))?
            }
        }
    }

    /// Whether writes can be made: false once the group-commit task is gone.
    pub(super) fn alive(&self) -> bool {
        match self {
            Writer::Direct(_) => true,
            Writer::Group { queue, .. } => !queue.is_closed(),
        }
    }

    /// What the group-commit task has done (none without one).
    pub(super) fn stats(&self) -> Option<&GroupStats> {
        match self {
            Writer::Direct(_) => None,
            Writer::Group { stats, .. } => Some(stats),
        }
    }
}

/// A queued job with its caller's answer, its result type erased.
pub(super) trait Job: Send {
    /// How it is kept atomic.
    fn mode(&self) -> Mode;
    /// Runs the job; says whether it succeeded, and how to answer later.
    fn run<'c>(self: Box<Self>, conn: &'c mut Conn<'c>) -> BoxFuture<'c, (bool, Box<dyn Answer>)>;
    /// The job never ran: the batch failed before it.
    fn refuse(self: Box<Self>, why: &str);
}

/// A ran job's answer, held until the batch's commit is known.
pub(super) trait Answer: Send {
    /// The batch committed: the caller gets the job's result.
    fn committed(self: Box<Self>);
    /// The batch did not commit: nothing of it is kept.
    fn lost(self: Box<Self>, why: &str);
}

impl std::fmt::Debug for dyn Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

struct Typed<T, F> {
    job: F,
    reply: oneshot::Sender<Result<T, StoreError>>,
    mode: Mode,
}

struct Reply<T> {
    result: Result<T, StoreError>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

fn not_committed(why: &str) -> StoreError {
    // Reads as "the database is not available" (503): the caller may retry,
    // and nothing of the job was kept.
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(format!("the commit failed: {why}"))))
}

impl<T: Send + 'static, F: WriteFn<T>> Job for Typed<T, F> {
    fn mode(&self) -> Mode {
        self.mode
    }

    fn run<'c>(self: Box<Self>, conn: &'c mut Conn<'c>) -> BoxFuture<'c, (bool, Box<dyn Answer>)> {
        let Typed { job, reply, .. } = *self;
        Box::pin(async move {
            // The caller gave up (its request timed out or its client left)
            // before the job began: not writing it is what its dropped
            // transaction would have done before group commit.
            if reply.is_closed() {
                return (true, Box::new(Gone) as Box<dyn Answer>);
            }
            let panicked = || Err(StoreError::Corrupt("a write panicked".into()));
            // A panic while the job builds its future must not end the
            // writer's thread either.
            let result = match std::panic::catch_unwind(AssertUnwindSafe(|| job(conn))) {
                Ok(future) => AssertUnwindSafe(future).catch_unwind().await.unwrap_or_else(|_| panicked()),
                Err(_) => panicked(),
            };
            (result.is_ok(), Box::new(Reply { result, reply }) as Box<dyn Answer>)
        })
    }

    fn refuse(self: Box<Self>, why: &str) {
        let _ = self.reply.send(Err(not_committed(why)));
    }
}

impl<T: Send + 'static> Answer for Reply<T> {
    fn committed(self: Box<Self>) {
        let _ = self.reply.send(self.result);
    }

    fn lost(self: Box<Self>, why: &str) {
        // Even a job that failed by itself is told "not committed": its own
        // error (a unique key another job of the batch took, say) would
        // send its caller looking for a row the failed commit took away.
        if let Err(e) = &self.result {
            tracing::debug!(error = %e, "a failed write in a batch that did not commit");
        }
        let _ = self.reply.send(Err(not_committed(why)));
    }
}

/// The answer of a job never run because its caller had gone.
struct Gone;

impl Answer for Gone {
    fn committed(self: Box<Self>) {}
    fn lost(self: Box<Self>, _why: &str) {}
}

async fn run(local: Arc<Local>, mut queue: mpsc::Receiver<Box<dyn Job>>, stats: Arc<GroupStats>) {
    let mut waiting: std::collections::VecDeque<Box<dyn Job>> = std::collections::VecDeque::new();
    let mut incoming = Vec::with_capacity(MAX_BATCH);
    let mut conn: Option<rusqlite::Connection> = None;
    loop {
        if waiting.is_empty() {
            if queue.recv_many(&mut incoming, MAX_BATCH).await == 0 {
                return; // every Store is gone
            }
        } else {
            // Take what else is waiting, without waiting for it.
            while incoming.len() < MAX_BATCH
                && let Ok(job) = queue.try_recv()
            {
                incoming.push(job);
            }
        }
        waiting.extend(incoming.drain(..));
        batch(&local, &mut conn, &mut waiting, &stats).await;
    }
}

/// Runs up to `MAX_BATCH` jobs from the front of `waiting` in one
/// transaction on `conn` (opened first if there is none). After a job fails
/// the batch commits at once: a failure may have ended SQLite's
/// transaction, and the jobs after it start a new one.
async fn batch(
    local: &Local,
    conn: &mut Option<rusqlite::Connection>,
    waiting: &mut std::collections::VecDeque<Box<dyn Job>>,
    stats: &GroupStats,
) {
    let refuse_all = |waiting: &mut std::collections::VecDeque<Box<dyn Job>>, why: &str| {
        for job in waiting.drain(..) {
            job.refuse(why);
        }
    };
    if conn.is_none() {
        match local.open() {
            Ok(opened) => *conn = Some(opened),
            Err(e) => {
                tracing::error!(error = %e, "the database writer is not available");
                return refuse_all(waiting, &e.to_string());
            }
        }
    }
    let Some(c) = conn.as_mut() else { return };
    if let Err(e) = c.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %e, "cannot begin a write transaction");
        *conn = None;
        return refuse_all(waiting, &e.to_string());
    }
    let mut answers: Vec<Box<dyn Answer>> = Vec::new();
    let mut broken: Option<String> = None;
    // After any failure the connection is not used again: an error such as
    // a full disk can end SQLite's transaction by itself, and a fresh
    // connection starts from a known state.
    let mut failed = false;
    while answers.len() < MAX_BATCH
        && let Some(job) = waiting.pop_front()
    {
        let mode = job.mode();
        if mode != Mode::Savepoint {
            let changes_before = c.total_changes();
            let (ok, answer) = job.run(&mut Conn::Local(local, c)).await;
            answers.push(answer);
            failed |= !ok;
            // A guarded job that failed before changing a row (its first
            // statement refused, a unique key say: SQLite undid that
            // statement alone) leaves the batch as it was; one that had
            // written cannot be undone alone.
            let wrote = c.total_changes() != changes_before;
            if !ok && mode == Mode::Guarded && (wrote || c.is_autocommit()) {
                broken = Some("a write failed part-way".into());
                break;
            }
            if !ok {
                // One statement: SQLite undid it (and if the failure ended
                // the whole transaction, the COMMIT below fails and every
                // job in the batch is told so).
                break;
            }
            continue;
        }
        if let Err(e) = c.execute_batch("SAVEPOINT job") {
            job.refuse(&e.to_string());
            broken = Some(e.to_string());
            break;
        }
        let (ok, answer) = job.run(&mut Conn::Local(local, c)).await;
        answers.push(answer);
        failed |= !ok;
        let ended = if ok { "RELEASE job" } else { "ROLLBACK TO job; RELEASE job" };
        if let Err(e) = c.execute_batch(ended) {
            broken = Some(e.to_string());
            break;
        }
        if !ok {
            break;
        }
    }
    stats.batches.fetch_add(1, Ordering::Relaxed);
    stats.jobs.fetch_add(answers.len() as u64, Ordering::Relaxed);
    stats.largest.fetch_max(answers.len() as u64, Ordering::Relaxed);
    let committed = match broken {
        Some(why) => {
            let _ = c.execute_batch("ROLLBACK");
            Err(why)
        }
        // SQLite may have ended the transaction by itself (a full disk):
        // then nothing of the batch is kept, whatever COMMIT would say.
        None if c.is_autocommit() => Err("the transaction was ended by the database".to_owned()),
        None => c.execute_batch("COMMIT").map_err(|e| e.to_string()),
    };
    if failed || committed.is_err() {
        // Dropping the connection rolls back whatever is still open.
        *conn = None;
    }
    match committed {
        Ok(()) => answers.into_iter().for_each(|a| a.committed()),
        Err(why) => {
            tracing::error!(error = %why, jobs = answers.len(), "a group commit failed; its writes were not kept");
            answers.into_iter().for_each(|a| a.lost(&why));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::Store;
    use super::*;

    async fn store() -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("kasir-group-{}", crate::ids::random_token(8)));
        let url = format!("sqlite://{}/kasir.db?mode=rwc", dir.display());
        let store = Store::connect(&url).await.unwrap();
        store
            .write(|conn| {
                Box::pin(async move {
                    for sql in [
                        "CREATE TABLE parent (id TEXT PRIMARY KEY)",
                        "CREATE TABLE child (id TEXT PRIMARY KEY, \
                         parent TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
                    ] {
                        sqlx::query(sql).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .await
            .unwrap();
        (store, dir)
    }

    async fn insert(
        store: &Store,
        table: &'static str,
        id: &str,
        parent: Option<&str>,
    ) -> Result<(), StoreError> {
        let (id, parent) = (id.to_owned(), parent.map(str::to_owned));
        store
            .write_one(move |conn| {
                Box::pin(async move {
                    let sql = if table == "parent" {
                        "INSERT INTO parent (id) VALUES ($1)"
                    } else {
                        "INSERT INTO child (id, parent) VALUES ($1, $2)"
                    };
                    let query = sqlx::query(sql).bind(&id);
                    let query = if table == "parent" { query } else { query.bind(&parent) };
                    query.execute(conn).await?;
                    Ok(())
                })
            })
            .await
    }

    async fn ids(store: &Store, table: &str) -> Vec<String> {
        let sql = if table == "parent" {
            "SELECT id FROM parent ORDER BY id"
        } else {
            "SELECT id FROM child ORDER BY id"
        };
        sqlx::query_scalar(sql).fetch_all(store.pool()).await.unwrap()
    }

    /// `insert` on its own task: queued behind whatever holds the writer.
    fn queue_insert(store: &Store, id: &'static str) -> tokio::task::JoinHandle<Result<(), StoreError>> {
        let store = store.clone();
        tokio::spawn(async move { insert(&store, "parent", id, None).await })
    }

    /// On its own task, a write of two statements whose second fails
    /// ('taken' exists): with its own savepoint, or guarded (none).
    fn queue_half_then_taken(
        store: &Store,
        guarded: bool,
    ) -> tokio::task::JoinHandle<Result<(), StoreError>> {
        let store = store.clone();
        tokio::spawn(async move {
            fn job<'c>(conn: &'c mut Conn<'c>) -> BoxFuture<'c, Result<(), StoreError>> {
                Box::pin(async move {
                    sqlx::query("INSERT INTO parent (id) VALUES ('half')").execute(&mut *conn).await?;
                    sqlx::query("INSERT INTO parent (id) VALUES ('taken')").execute(&mut *conn).await?;
                    Ok(())
                })
            }
            if guarded { store.write_guarded(job).await } else { store.write(job).await }
        })
    }

    /// Holds the writer for a moment, so that the jobs sent meanwhile queue
    /// up and are run together in the next batch.
    fn hold_writer(store: &Store) -> tokio::task::JoinHandle<()> {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .write(|_conn| {
                    Box::pin(async move {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok(())
                    })
                })
                .await
                .unwrap();
        })
    }

    /// Writes sent while the writer is busy are committed together, one
    /// commit for all, and each caller gets its own answer.
    #[tokio::test]
    async fn waiting_writes_share_one_commit() {
        let (store, dir) = store().await;
        let held = hold_writer(&store);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let writes: Vec<_> = (0..40)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { insert(&store, "parent", &format!("p{i:02}"), None).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = store.group_stats().unwrap().batches.load(Ordering::Relaxed);
        held.await.unwrap();
        for write in writes {
            write.await.unwrap().unwrap();
        }
        let stats = store.group_stats().unwrap();
        let batches = stats.batches.load(Ordering::Relaxed) - before;
        assert!(batches <= 2, "40 waiting writes took {batches} commits");
        assert_eq!(stats.largest.load(Ordering::Relaxed), 40);
        assert_eq!(ids(&store, "parent").await.len(), 40);
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A write that fails is undone alone, statements before its error
    /// included; the others in its batch are kept. So is a failed write
    /// of one statement (no savepoint of its own).
    #[tokio::test]
    async fn a_failed_write_is_undone_alone() {
        let (store, dir) = store().await;
        insert(&store, "parent", "taken", None).await.unwrap();
        let held = hold_writer(&store);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let first = queue_insert(&store, "a");
        tokio::time::sleep(Duration::from_millis(5)).await;
        let failing = queue_half_then_taken(&store, false);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let failing_one = queue_insert(&store, "taken");
        tokio::time::sleep(Duration::from_millis(5)).await;
        let last = queue_insert(&store, "z");
        held.await.unwrap();
        first.await.unwrap().unwrap();
        assert!(failing_one.await.unwrap().is_err());
        let failed = failing.await.unwrap();
        assert!(
            matches!(&failed, Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation()),
            "{failed:?}"
        );
        last.await.unwrap().unwrap();
        assert_eq!(ids(&store, "parent").await, ["a", "taken", "z"]);
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// When the batch's commit fails, no caller is told its write was kept,
    /// and none of it was. A deferred foreign key fails only at COMMIT,
    /// after every job in the batch has succeeded.
    #[tokio::test]
    async fn a_failed_commit_is_reported_to_every_write_in_it() {
        let (store, dir) = store().await;
        let held = hold_writer(&store);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let good = queue_insert(&store, "kept?");
        tokio::time::sleep(Duration::from_millis(5)).await;
        let orphan = {
            let store = store.clone();
            tokio::spawn(async move { insert(&store, "child", "c", Some("nobody")).await })
        };
        held.await.unwrap();
        let good = good.await.unwrap();
        let orphan = orphan.await.unwrap();
        assert!(good.is_err(), "the commit failed, yet the caller was told {good:?}");
        assert!(orphan.is_err());
        assert!(ids(&store, "parent").await.is_empty());
        assert!(ids(&store, "child").await.is_empty());
        // The writer goes on.
        insert(&store, "parent", "after", None).await.unwrap();
        assert_eq!(ids(&store, "parent").await, ["after"]);
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A guarded write (no savepoint) that fails after writing gives up its
    /// whole batch: no caller is told its write was kept, and none was.
    #[tokio::test]
    async fn a_guarded_write_failing_part_way_gives_up_its_batch() {
        let (store, dir) = store().await;
        insert(&store, "parent", "taken", None).await.unwrap();
        let held = hold_writer(&store);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let innocent = queue_insert(&store, "innocent");
        tokio::time::sleep(Duration::from_millis(5)).await;
        let guarded = queue_half_then_taken(&store, true);
        held.await.unwrap();
        let innocent = innocent.await.unwrap();
        assert!(innocent.is_err(), "its batch was given up, yet the caller was told {innocent:?}");
        assert!(guarded.await.unwrap().is_err());
        assert_eq!(ids(&store, "parent").await, ["taken"]);
        insert(&store, "parent", "after", None).await.unwrap();
        assert_eq!(ids(&store, "parent").await, ["after", "taken"]);
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A guarded write refused at its first statement (a unique key, as
    /// when a provider reports a reference another attempt holds) changed
    /// nothing: the rest of its batch is committed and told so.
    #[tokio::test]
    async fn a_guarded_write_refused_at_its_first_statement_leaves_its_batch_alone() {
        let (store, dir) = store().await;
        insert(&store, "parent", "taken", None).await.unwrap();
        let held = hold_writer(&store);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let before = queue_insert(&store, "before");
        tokio::time::sleep(Duration::from_millis(5)).await;
        let refused = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write_guarded(|conn| {
                        Box::pin(async move {
                            sqlx::query("INSERT INTO parent (id) VALUES ('taken')")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("INSERT INTO parent (id) VALUES ('never')")
                                .execute(&mut *conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let after = queue_insert(&store, "after");
        held.await.unwrap();
        before.await.unwrap().unwrap();
        let refused = refused.await.unwrap();
        assert!(
            matches!(&refused, Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation()),
            "{refused:?}"
        );
        after.await.unwrap().unwrap();
        assert_eq!(ids(&store, "parent").await, ["after", "before", "taken"]);
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    async fn execute(store: &Store, sql: &'static str) -> Result<(), StoreError> {
        store
            .write_one(move |conn| {
                Box::pin(async move {
                    sqlx::query(sql).execute(conn).await?;
                    Ok(())
                })
            })
            .await
    }

    /// A full disk (SQLite's `max_page_count`, set on the writer's
    /// connection only) fails a write; the writer then leaves that
    /// connection, and later writes commit and reach readers. A full disk
    /// can end SQLite's transaction by itself while sqlx still counts it
    /// open: on the same connection every later "commit" would have been a
    /// savepoint's release that never reached the disk.
    #[tokio::test]
    async fn after_a_full_disk_the_writer_starts_on_a_fresh_connection() {
        let (store, dir) = store().await;
        // No page beyond those the file has: as if the disk were full.
        execute(&store, "PRAGMA max_page_count = 1").await.unwrap();
        let full = execute(&store, "INSERT INTO parent (id) VALUES (hex(randomblob(50000)))").await;
        assert!(full.is_err(), "{full:?}");
        // A fresh connection has no such limit: a large write goes through,
        // and readers see it (it was committed, not left in an open
        // transaction).
        execute(&store, "INSERT INTO parent (id) VALUES ('big' || hex(randomblob(50000)))").await.unwrap();
        insert(&store, "parent", "after", None).await.unwrap();
        let ids = ids(&store, "parent").await;
        assert_eq!(ids.len(), 2, "{}", ids.len());
        assert!(ids.iter().any(|i| i == "after") && ids.iter().any(|i| i.starts_with("big")));
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A write whose caller gave up while it waited (its request timed
    /// out, its client left) is not made, as its dropped transaction was
    /// not before group commit.
    #[tokio::test]
    async fn a_write_whose_caller_gave_up_is_not_made() {
        let (store, dir) = store().await;
        let held = hold_writer(&store);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let abandoned = queue_insert(&store, "abandoned");
        tokio::time::sleep(Duration::from_millis(20)).await;
        abandoned.abort();
        held.await.unwrap();
        insert(&store, "parent", "kept", None).await.unwrap();
        assert_eq!(ids(&store, "parent").await, ["kept"]);
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }
}
