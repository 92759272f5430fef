//! A bounded pool of connections that hands a connection out and takes it
//! back without a round trip to the database: no ping before (sqlx's
//! `test_before_acquire`) and none after (sqlx's pool pings every
//! connection it gets back, in a task of its own). A connection is trusted
//! as long as it answers: one whose statement failed for a reason that
//! means "the database cannot answer" (I/O, a broken session), or whose
//! statement was cancelled half-way (the request's future dropped), is
//! closed instead of being returned, and the next request opens a new one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::{ConnectOptions, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::DbError;
use crate::sync::lock;

/// One pool's connections at a moment ([`super::Database::pool_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// `read`, `write` or `shared`.
    pub name: &'static str,
    /// Connections open (in use or idle).
    pub size: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// The most it opens.
    pub max: u32,
}

/// At most `max` connections of type `C`, opened when first needed.
#[derive(Debug)]
pub(super) struct Pool<C: Connection> {
    name: &'static str,
    options: C::Options,
    permits: Arc<Semaphore>,
    idle: std::sync::Mutex<Vec<C>>,
    open: AtomicU32,
    max: u32,
    timeout: Duration,
}

impl<C: Connection> Pool<C> {
    /// A pool named `name` (in the metrics) of at most `max` connections
    /// opened with `options`; a request waits at most `timeout` for one.
    pub(super) fn new(
        name: &'static str,
        options: C::Options,
        max: u32,
        timeout: Duration,
    ) -> Pool<C> {
        Pool {
            name,
            options,
            permits: Arc::new(Semaphore::new(max as usize)),
            idle: std::sync::Mutex::new(Vec::new()),
            open: AtomicU32::new(0),
            max,
            timeout,
        }
    }

    /// An idle connection, or a new one; [`DbError::Unavailable`] when
    /// none is free within the timeout or the database does not answer.
    pub(super) async fn get(self: &Arc<Self>) -> Result<Pooled<C>, DbError> {
        let waited = tokio::time::timeout(self.timeout, async {
            let permit = self
                .permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| DbError::Unavailable("the pool is closed".into()))?;
            let idle = lock(&self.idle).pop();
            let conn = match idle {
                Some(conn) => conn,
                None => {
                    let conn = self.options.connect().await?;
                    self.open.fetch_add(1, Ordering::Relaxed);
                    conn
                }
            };
            Ok::<_, DbError>((conn, permit))
        })
        .await;
        let (conn, permit) = waited.map_err(|_| {
            DbError::Unavailable(format!(
                "no {} connection within {} ms",
                self.name,
                self.timeout.as_millis()
            ))
        })??;
        Ok(Pooled {
            conn: Some(conn),
            pool: self.clone(),
            _permit: permit,
            clean: true,
            open_transaction: false,
        })
    }

    /// Its connections now.
    pub(super) fn stats(&self) -> PoolStats {
        PoolStats {
            name: self.name,
            size: self.open.load(Ordering::Relaxed),
            idle: u32::try_from(lock(&self.idle).len()).unwrap_or(u32::MAX),
            max: self.max,
        }
    }

    /// Refuses new requests and closes the idle connections; connections
    /// in use are closed as they come back.
    pub(super) async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *lock(&self.idle));
        for conn in idle {
            self.open.fetch_sub(1, Ordering::Relaxed);
            let _ = conn.close().await;
        }
    }
}

/// A connection taken from a [`Pool`]; back to it when dropped, unless it
/// is no longer trusted.
#[derive(Debug)]
pub(super) struct Pooled<C: Connection> {
    conn: Option<C>,
    pool: Arc<Pool<C>>,
    _permit: OwnedSemaphorePermit,
    /// No statement was cut short or failed for the connection's sake.
    clean: bool,
    /// A transaction is open on it.
    open_transaction: bool,
}

impl<C: Connection> Pooled<C> {
    /// Runs `statement` on the connection. Until it completes the
    /// connection counts as unclean (a statement cancelled half-way leaves
    /// it so); an error meaning the database cannot answer keeps it so.
    pub(super) async fn run<T, F>(&mut self, statement: F) -> Result<T, DbError>
    where
        F: AsyncFnOnce(&mut C) -> Result<T, sqlx::Error>,
    {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| DbError::Other("a pooled connection used after its release".into()))?;
        self.clean = false;
        let outcome = statement(conn).await;
        self.clean = !matches!(&outcome, Err(e) if super::error::transient(e));
        Ok(outcome?)
    }

    /// A transaction is open on it: until [`Pooled::committed`], the
    /// connection is closed instead of returned (closing the session rolls
    /// the transaction back).
    pub(super) fn uncommitted(&mut self) {
        self.open_transaction = true;
    }

    /// Its transaction is committed: it may go back to the pool.
    pub(super) fn committed(&mut self) {
        self.open_transaction = false;
    }
}

impl<C: Connection> Drop for Pooled<C> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.clean && !self.open_transaction && !self.pool.permits.is_closed() {
            lock(&self.pool.idle).push(conn);
        } else {
            self.pool.open.fetch_sub(1, Ordering::Relaxed);
            // Dropping it closes the socket or the SQLite handle.
            drop(conn);
        }
    }
}
