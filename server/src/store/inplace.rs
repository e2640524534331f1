//! SQLite called in place (issue 21): the same queries as everywhere else
//! (`sqlx::query(…).bind(…)`, `$n` parameters, rows read as `AnyRow`), run
//! by rusqlite on the calling thread instead of being sent to sqlx's
//! per-connection SQLite thread and back.
//!
//! That hand-off was most of the cost of a statement: a card attempt's
//! fifteen statements were fifteen round trips between threads (and the
//! kernel's scheduling of them), against microseconds of SQLite's own work
//! (BENCHMARKS.md, "Group commit"). Here:
//! - reads run on the request's own thread, on one of a few connections
//!   kept open (WAL readers never wait for the writer);
//! - writes run on the group-commit thread, which owns the one writing
//!   connection and runs a whole batch without leaving its thread.
//!
//! [`Reader`] and [`Conn`] are sqlx executors for the `Any` driver, so a
//! store function is written once for SQLite and PostgreSQL. rusqlite
//! links the same `libsqlite3-sys` (0.37) as sqlx: one SQLite library.
//!
//! Parameters: SQLite reads `$1` as a named parameter; each is bound to the
//! argument its number names, so `$1` may appear twice. Values map as sqlx's
//! own SQLite driver maps them for `Any`: integers as `BigInt`, reals as
//! `Double`, by the value's type.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use rusqlite::types::ValueRef;
use sqlx::any::{
    Any, AnyArguments, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo, AnyTypeInfoKind, AnyValue,
};
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::{AnyConnection, AnyPool, Either, Execute, Executor};
use sqlx_core::any::{AnyColumn, AnyValueKind};
use sqlx_core::ext::ustr::UStr;

/// Connections kept open for reads.
const IDLE_READERS: usize = 8;
/// Statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 128;

/// Column names by SQL text, shared by every row of every run of it.
type Names = Arc<sqlx_core::HashMap<UStr, usize>>;

/// The database file and the connections open on it.
#[derive(Debug)]
pub(crate) struct Local {
    path: PathBuf,
    synchronous: &'static str,
    idle: Mutex<Vec<rusqlite::Connection>>,
    names: Mutex<HashMap<String, Names>>,
}

impl Local {
    /// Connections to the SQLite file at `path`, syncing as `synchronous`
    /// (`PRAGMA synchronous = …`) says.
    pub(crate) fn new(path: PathBuf, synchronous: &'static str) -> Local {
        Local { path, synchronous, idle: Mutex::default(), names: Mutex::default() }
    }

    /// A new connection, set up as sqlx sets up its own: foreign keys
    /// enforced, a 5 s busy timeout, the sync mode.
    pub(crate) fn open(&self) -> Result<rusqlite::Connection, sqlx::Error> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = rusqlite::Connection::open_with_flags(&self.path, flags).map_err(error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(error)?;
        conn.execute_batch(&format!("PRAGMA foreign_keys = ON; {};", self.synchronous)).map_err(error)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    /// Runs `f` on an idle reading connection (or a new one).
    fn with_reader<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match taken {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = f(&conn);
        // A connection inside a transaction it cannot end is not reused.
        if conn.is_autocommit()
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_READERS
        {
            idle.push(conn);
        }
        result
    }

    fn names(&self, sql: &str, stmt: &rusqlite::Statement<'_>) -> Names {
        if let Some(names) = self.names.lock().ok().and_then(|n| n.get(sql).cloned()) {
            return names;
        }
        let names: Names =
            Arc::new(stmt.column_names().into_iter().enumerate().map(|(i, n)| (UStr::new(n), i)).collect());
        if let Ok(mut cache) = self.names.lock() {
            cache.insert(sql.to_owned(), names.clone());
        }
        names
    }

    /// Runs one statement on `conn`: its rows (all of them, or the first
    /// only) and the rows it changed.
    pub(crate) fn run(
        &self,
        conn: &rusqlite::Connection,
        sql: &str,
        arguments: Option<AnyArguments>,
        first_only: bool,
    ) -> Result<(Vec<AnyRow>, u64), sqlx::Error> {
        let mut stmt = conn.prepare_cached(sql).map_err(error)?;
        let values = arguments.map(|a| a.values.0).unwrap_or_default();
        for i in 1..=stmt.parameter_count() {
            let number = stmt
                .parameter_name(i)
                .and_then(|name| name.get(1..))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n >= 1)
                .unwrap_or(i);
            let value =
                values.get(number - 1).ok_or_else(|| bug(format!("no value for parameter {number}")))?;
            bind(&mut stmt, i, value)?;
        }
        let names = self.names(sql, &stmt);
        let readonly = stmt.readonly();
        let width = stmt.column_count();
        let mut ordered = vec![UStr::new(""); width];
        for (name, i) in names.iter() {
            if let Some(slot) = ordered.get_mut(*i) {
                *slot = name.clone();
            }
        }
        let mut out = Vec::new();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(error)? {
            if first_only && !out.is_empty() {
                continue;
            }
            let mut columns = Vec::with_capacity(width);
            let mut values = Vec::with_capacity(width);
            for (i, name) in ordered.iter().enumerate() {
                let kind = match row.get_ref(i).map_err(error)? {
                    ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
                    ValueRef::Integer(n) => AnyValueKind::BigInt(n),
                    ValueRef::Real(r) => AnyValueKind::Double(r),
                    ValueRef::Text(t) => AnyValueKind::Text(Arc::new(
                        String::from_utf8(t.to_vec()).map_err(|e| sqlx::Error::Decode(e.into()))?,
                    )),
                    ValueRef::Blob(b) => AnyValueKind::Blob(Arc::new(b.to_vec())),
                };
                let type_info = AnyTypeInfo { kind: type_of(&kind) };
                columns.push(AnyColumn { ordinal: i, name: name.clone(), type_info });
                values.push(AnyValue { kind });
            }
            out.push(AnyRow { column_names: names.clone(), columns, values });
        }
        drop(rows);
        let changed = if readonly { 0 } else { conn.changes() };
        Ok((out, changed))
    }
}

fn type_of(kind: &AnyValueKind) -> AnyTypeInfoKind {
    match kind {
        AnyValueKind::Null(_) => AnyTypeInfoKind::Null,
        AnyValueKind::Bool(_) => AnyTypeInfoKind::Bool,
        AnyValueKind::SmallInt(_) => AnyTypeInfoKind::SmallInt,
        AnyValueKind::Integer(_) => AnyTypeInfoKind::Integer,
        AnyValueKind::BigInt(_) => AnyTypeInfoKind::BigInt,
        AnyValueKind::Real(_) => AnyTypeInfoKind::Real,
        AnyValueKind::Double(_) => AnyTypeInfoKind::Double,
        AnyValueKind::Text(_) | AnyValueKind::TextSlice(_) => AnyTypeInfoKind::Text,
        AnyValueKind::Blob(_) => AnyTypeInfoKind::Blob,
        _ => AnyTypeInfoKind::Null,
    }
}

fn bind(stmt: &mut rusqlite::Statement<'_>, i: usize, value: &AnyValueKind) -> Result<(), sqlx::Error> {
    let bound = match value {
        AnyValueKind::Null(_) => stmt.raw_bind_parameter(i, rusqlite::types::Null),
        AnyValueKind::Bool(b) => stmt.raw_bind_parameter(i, i64::from(*b)),
        AnyValueKind::SmallInt(n) => stmt.raw_bind_parameter(i, i64::from(*n)),
        AnyValueKind::Integer(n) => stmt.raw_bind_parameter(i, i64::from(*n)),
        AnyValueKind::BigInt(n) => stmt.raw_bind_parameter(i, *n),
        AnyValueKind::Real(r) => stmt.raw_bind_parameter(i, f64::from(*r)),
        AnyValueKind::Double(d) => stmt.raw_bind_parameter(i, *d),
        AnyValueKind::Text(t) => stmt.raw_bind_parameter(i, t.as_str()),
        AnyValueKind::TextSlice(t) => stmt.raw_bind_parameter(i, &**t),
        AnyValueKind::Blob(b) => stmt.raw_bind_parameter(i, b.as_slice()),
        _ => return Err(bug("a value of a type SQLite in place cannot bind".into())),
    };
    bound.map_err(error)
}

/// An error from SQLite as sqlx reports one, so callers tell a unique
/// violation (or any other) the same way on both paths.
#[derive(Debug)]
struct LocalError {
    message: String,
    code: i32,
}

impl std::fmt::Display for LocalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for LocalError {}

impl DatabaseError for LocalError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        use rusqlite::ffi;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// rusqlite's error as sqlx's.
pub(crate) fn error(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(failure, message) => {
            let message = message.unwrap_or_else(|| failure.to_string());
            sqlx::Error::Database(Box::new(LocalError { message, code: failure.extended_code }))
        }
        // Anything else (a parameter count, a column type, two statements in
        // one string) is a bug in a query, not an outage: a 500, never a
        // 503 that tells clients to retry for ever.
        other => sqlx::Error::Decode(Box::new(other)),
    }
}

/// A mistake in a query (never a transient failure): reads as a 500.
fn bug(what: String) -> sqlx::Error {
    sqlx::Error::Decode(what.into())
}

type Step = Either<AnyQueryResult, AnyRow>;

/// Runs `query` on `conn` now; the answer as sqlx's executors give it.
fn fetch_many_now<'q, E: 'q + Execute<'q, Any>>(
    local: &Local,
    conn: &rusqlite::Connection,
    mut query: E,
) -> Result<Vec<Step>, sqlx::Error> {
    let arguments = query.take_arguments().map_err(sqlx::Error::Encode)?;
    let sql = query.sql();
    let (rows, changed) = local.run(conn, sql.as_str(), arguments, false)?;
    let mut steps: Vec<Step> = rows.into_iter().map(Either::Right).collect();
    steps.push(Either::Left(AnyQueryResult { rows_affected: changed, last_insert_id: None }));
    Ok(steps)
}

fn fetch_optional_now<'q, E: 'q + Execute<'q, Any>>(
    local: &Local,
    conn: &rusqlite::Connection,
    mut query: E,
) -> Result<Option<AnyRow>, sqlx::Error> {
    let arguments = query.take_arguments().map_err(sqlx::Error::Encode)?;
    let sql = query.sql();
    Ok(local.run(conn, sql.as_str(), arguments, true)?.0.into_iter().next())
}

/// What ran in place, as the stream sqlx's `fetch_many` gives.
fn stream_of<'e>(steps: Result<Vec<Step>, sqlx::Error>) -> BoxStream<'e, Result<Step, sqlx::Error>> {
    match steps {
        Ok(steps) => futures_util::stream::iter(steps.into_iter().map(Ok)).boxed(),
        Err(e) => futures_util::stream::once(futures_util::future::ready(Err(e))).boxed(),
    }
}

fn unsupported<'e, T: Send + 'e>() -> BoxFuture<'e, Result<T, sqlx::Error>> {
    futures_util::future::ready(Err(bug("not supported on SQLite in place".into()))).boxed()
}

/// Where reads go: sqlx's pool (PostgreSQL, an in-memory SQLite), or the
/// SQLite file in place.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reader<'a> {
    /// sqlx's pool.
    Pool(&'a AnyPool),
    /// In place.
    Local(&'a Local),
}

impl<'c> Executor<'c> for Reader<'c> {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Step, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Reader::Pool(pool) => pool.fetch_many(query),
            Reader::Local(local) => stream_of(local.with_reader(|conn| fetch_many_now(local, conn, query))),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Reader::Pool(pool) => pool.fetch_optional(query),
            Reader::Local(local) => {
                let row = local.with_reader(|conn| fetch_optional_now(local, conn, query));
                futures_util::future::ready(row).boxed()
            }
        }
    }

    fn prepare_with<'e>(
        self,
        sql: sqlx::SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Reader::Pool(pool) => pool.prepare_with(sql, parameters),
            Reader::Local(_) => unsupported(),
        }
    }

    fn describe<'e>(
        self,
        sql: sqlx::SqlStr,
    ) -> BoxFuture<'e, Result<sqlx_core::describe::Describe<Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Reader::Pool(pool) => pool.describe(sql),
            Reader::Local(_) => unsupported(),
        }
    }
}

/// The connection a write runs on: a transaction of sqlx's (PostgreSQL,
/// an in-memory SQLite), or the group-commit thread's SQLite connection.
pub(crate) enum Conn<'a> {
    /// sqlx's.
    Any(&'a mut AnyConnection),
    /// In place.
    Local(&'a Local, &'a mut rusqlite::Connection),
}

impl std::fmt::Debug for Conn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Any(_) => "Conn::Any",
            Conn::Local(..) => "Conn::Local",
        })
    }
}

impl<'c, 'a: 'c> Executor<'c> for &'c mut Conn<'a> {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Step, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Conn::Any(conn) => (&mut **conn).fetch_many(query),
            Conn::Local(local, conn) => stream_of(fetch_many_now(local, conn, query)),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Conn::Any(conn) => (&mut **conn).fetch_optional(query),
            Conn::Local(local, conn) => {
                futures_util::future::ready(fetch_optional_now(local, conn, query)).boxed()
            }
        }
    }

    fn prepare_with<'e>(
        self,
        sql: sqlx::SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Conn::Any(conn) => (&mut **conn).prepare_with(sql, parameters),
            Conn::Local(..) => unsupported(),
        }
    }

    fn describe<'e>(
        self,
        sql: sqlx::SqlStr,
    ) -> BoxFuture<'e, Result<sqlx_core::describe::Describe<Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Conn::Any(conn) => (&mut **conn).describe(sql),
            Conn::Local(..) => unsupported(),
        }
    }
}
