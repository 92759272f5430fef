//! SQLite's readers: connections of SQLite's own C API (rusqlite, on the
//! same SQLite library as the writer), each used by one thread at a time.
//!
//! A point query (SQLite's own plan says it looks rows up by key:
//! `SEARCH ... USING ... PRIMARY KEY` or an index, never a `SCAN`) runs
//! inline on the request's runtime thread: a few microseconds, with no
//! thread handoff and no channel, from a statement prepared once per
//! connection. Anything that can scan (a count, a page) runs on a blocking
//! thread, so a long read never holds up the other requests of its
//! runtime thread. In WAL mode a reader waits for no writer.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::DbError;
use super::pool::PoolStats;
use super::query::{Owned, Query, Row, Value};
use crate::sync::lock;

/// How SQLite plans to run a statement, learnt once per statement.
#[derive(Debug)]
struct Plan {
    /// Only key lookups: it runs inline.
    point: bool,
    /// Its result's column names, shared by every row.
    columns: Arc<[String]>,
}

/// At most `max` reader connections to one SQLite file.
#[derive(Debug)]
pub(super) struct Readers {
    file: PathBuf,
    busy_timeout: Duration,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Connection>>,
    open: std::sync::atomic::AtomicU32,
    max: u32,
    timeout: Duration,
    plans: Mutex<HashMap<&'static str, Arc<Plan>>>,
}

impl Readers {
    /// Readers of `file`, at most `max`; a request waits at most `timeout`
    /// for one.
    pub(super) fn new(
        file: PathBuf,
        max: u32,
        timeout: Duration,
        busy_timeout: Duration,
    ) -> Readers {
        Readers {
            file,
            busy_timeout,
            permits: Arc::new(Semaphore::new(max as usize)),
            idle: Mutex::new(Vec::new()),
            open: std::sync::atomic::AtomicU32::new(0),
            max,
            timeout,
            plans: Mutex::new(HashMap::new()),
        }
    }

    /// The rows `q` reads.
    pub(super) async fn read(self: &Arc<Self>, q: Query) -> Result<Vec<Row>, DbError> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => tokio::time::timeout(self.timeout, self.permits.clone().acquire_owned())
                .await
                .map_err(|_| {
                    DbError::Unavailable(format!(
                        "no read connection within {} ms",
                        self.timeout.as_millis()
                    ))
                })?
                .map_err(|_| DbError::Unavailable("the database is closed".into()))?,
        };
        let known = lock(&self.plans).get(q.sql()).cloned();
        match known {
            Some(plan) if plan.point => {
                let mut conn = self.checkout(permit)?;
                let rows = rows(conn.conn(), &q, Some(&plan.columns));
                conn.finish(&rows);
                rows
            }
            _ => {
                let readers = self.clone();
                tokio::task::spawn_blocking(move || {
                    let mut conn = readers.checkout(permit)?;
                    let plan = match known {
                        Some(plan) => plan,
                        None => readers.learn(conn.conn(), q.sql())?,
                    };
                    let rows = rows(conn.conn(), &q, Some(&plan.columns));
                    conn.finish(&rows);
                    rows
                })
                .await
                .map_err(|e| DbError::Other(format!("a read stopped: {e}")))?
            }
        }
    }

    /// Asks SQLite how it runs `sql` (`EXPLAIN QUERY PLAN`) and remembers.
    fn learn(&self, conn: &Connection, sql: &'static str) -> Result<Arc<Plan>, DbError> {
        let stmt = conn.prepare_cached(sql).map_err(error)?;
        let columns: Arc<[String]> = stmt.column_names().into_iter().map(String::from).collect();
        let count = stmt.parameter_count();
        drop(stmt);
        let mut explain = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .map_err(error)?;
        // The plan does not depend on the values: NULL for each.
        let nulls = vec![rusqlite::types::Null; count];
        let details: Vec<String> = explain
            .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
            .map_err(error)?
            .collect::<Result<_, _>>()
            .map_err(error)?;
        let point = details
            .iter()
            .all(|d| d.starts_with("SEARCH ") || d == "SCAN CONSTANT ROW");
        let plan = Arc::new(Plan { point, columns });
        lock(&self.plans).insert(sql, plan.clone());
        Ok(plan)
    }

    /// An idle connection, or a new one.
    fn checkout(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Result<Reader, DbError> {
        let idle = lock(&self.idle).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.file,
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(error)?;
                conn.busy_timeout(self.busy_timeout).map_err(error)?;
                conn.pragma_update(None, "query_only", true)
                    .map_err(error)?;
                conn.set_prepared_statement_cache_capacity(64);
                self.open.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                conn
            }
        };
        Ok(Reader {
            conn: Some(conn),
            readers: self.clone(),
            _permit: permit,
            keep: false,
        })
    }

    /// Its connections now (the `read` pool).
    pub(super) fn stats(&self) -> PoolStats {
        PoolStats {
            name: "read",
            size: self.open.load(std::sync::atomic::Ordering::Relaxed),
            idle: u32::try_from(lock(&self.idle).len()).unwrap_or(u32::MAX),
            max: self.max,
        }
    }

    /// Refuses new reads and closes the idle connections.
    pub(super) fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *lock(&self.idle));
        self.open.fetch_sub(
            u32::try_from(idle.len()).unwrap_or(0),
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

/// A reader connection taken out; back to the pool when dropped after a
/// read that did not fail for the connection's sake.
struct Reader {
    conn: Option<Connection>,
    readers: Arc<Readers>,
    _permit: OwnedSemaphorePermit,
    keep: bool,
}

impl Reader {
    fn conn(&mut self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a reader holds its connection until dropped")
    }

    /// Keeps the connection unless the read failed as unavailable.
    fn finish(&mut self, rows: &Result<Vec<Row>, DbError>) {
        self.keep = !matches!(rows, Err(e) if e.is_unavailable());
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if self.keep && !self.readers.permits.is_closed() {
            lock(&self.readers.idle).push(conn);
        } else {
            self.readers
                .open
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Prepares (once per connection) and binds `q` on `conn`.
fn bound<'c>(conn: &'c Connection, q: &Query) -> Result<rusqlite::CachedStatement<'c>, DbError> {
    let mut stmt = conn.prepare_cached(q.sql()).map_err(error)?;
    for (i, value) in q.params().iter().enumerate() {
        let at = i + 1;
        match value {
            Value::Int(v) => stmt.raw_bind_parameter(at, v),
            Value::Text(v) => stmt.raw_bind_parameter(at, v),
            Value::Bytes(v) => stmt.raw_bind_parameter(at, v),
            Value::Bool(v) => stmt.raw_bind_parameter(at, v),
        }
        .map_err(error)?;
    }
    Ok(stmt)
}

/// The rows `q` gives on `conn`, its column names shared by them
/// (`columns` when the caller knows them).
pub(super) fn rows(
    conn: &Connection,
    q: &Query,
    columns: Option<&Arc<[String]>>,
) -> Result<Vec<Row>, DbError> {
    let mut stmt = bound(conn, q)?;
    let columns: Arc<[String]> = match columns {
        Some(columns) => columns.clone(),
        None => stmt.column_names().into_iter().map(String::from).collect(),
    };
    let width = columns.len();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(error)? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            use rusqlite::types::ValueRef;
            values.push(match row.get_ref(i).map_err(error)? {
                ValueRef::Null => Owned::Null,
                ValueRef::Integer(v) => Owned::Int(v),
                ValueRef::Real(v) => Owned::Real(v),
                ValueRef::Text(v) => Owned::Text(String::from_utf8_lossy(v).into_owned()),
                ValueRef::Blob(v) => Owned::Bytes(v.to_vec()),
            });
        }
        out.push(Row::owned(columns.clone(), values));
    }
    Ok(out)
}

/// Runs the write `q` on `conn`; how many rows it changed.
pub(super) fn affected(conn: &Connection, q: &Query) -> Result<u64, DbError> {
    let mut stmt = bound(conn, q)?;
    let n = stmt.raw_execute().map_err(error)?;
    Ok(u64::try_from(n).unwrap_or(u64::MAX))
}

/// SQLite's error, classified once: a unique or primary key refused the
/// write; busy, locked, I/O, full or cannot open (the database cannot
/// answer now); anything else.
pub(super) fn error(err: rusqlite::Error) -> DbError {
    use rusqlite::ErrorCode;
    match &err {
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            DbError::UniqueViolation(err.to_string())
        }
        rusqlite::Error::SqliteFailure(e, _)
            if matches!(
                e.code,
                ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::DiskFull
                    | ErrorCode::CannotOpen
            ) =>
        {
            DbError::Unavailable(err.to_string())
        }
        _ => DbError::Other(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::query;

    #[tokio::test]
    async fn key_lookups_run_inline_and_anything_that_scans_on_a_blocking_thread() {
        let dir = tempfile_dir();
        let file = dir.join("t.db");
        let setup = Connection::open(&file).unwrap();
        setup
            .execute_batch(
                "PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v TEXT);
                 INSERT INTO t (k, v) VALUES ('a', 'x'), ('b', NULL);",
            )
            .unwrap();
        let readers = Arc::new(Readers::new(
            file,
            2,
            Duration::from_secs(1),
            Duration::from_secs(1),
        ));
        let by_id = readers
            .read(query("SELECT k, v FROM t WHERE id = $1").bind(1_i64))
            .await
            .unwrap();
        assert_eq!(by_id[0].get::<String>("k").unwrap(), "a");
        let by_key = readers
            .read(query("SELECT id, v FROM t WHERE k = $1").bind("b"))
            .await
            .unwrap();
        assert_eq!(by_key[0].get::<u64>("id").unwrap(), 2);
        assert_eq!(by_key[0].get::<Option<String>>("v").unwrap(), None);
        let count = readers
            .read(query("SELECT COUNT(*) AS n FROM t"))
            .await
            .unwrap();
        assert_eq!(count[0].get::<i64>("n").unwrap(), 2);
        let page = readers
            .read(
                query("SELECT id FROM t ORDER BY id LIMIT $1 OFFSET $2")
                    .bind(5_i64)
                    .bind(0_i64),
            )
            .await
            .unwrap();
        assert_eq!(page.len(), 2);
        {
            let plans = lock(&readers.plans);
            let point = |sql: &str| plans.iter().find(|(k, _)| **k == sql).unwrap().1.point;
            assert!(point("SELECT k, v FROM t WHERE id = $1"));
            assert!(point("SELECT id, v FROM t WHERE k = $1"));
            assert!(!point("SELECT COUNT(*) AS n FROM t"));
            assert!(!point("SELECT id FROM t ORDER BY id LIMIT $1 OFFSET $2"));
        }
        let wrong = readers.read(query("SELECT nope FROM t")).await.unwrap_err();
        assert!(!wrong.is_unavailable(), "{wrong}");
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "readers-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
