//! SQLite's writer: one connection on a thread of its own, writes
//! committed in groups.
//!
//! SQLite takes one writer at a time, and with `synchronous=FULL` each
//! commit waits for the disk. Requests that write queue here (first come,
//! first served, as they queued for the one writer connection before);
//! the writer opens one transaction, runs each queued request's
//! statements inside a savepoint of its own (so one that fails rolls back
//! alone), and when the queue is empty (or the group is full) commits once:
//! one fsync for the whole group. Only then is each request told that its
//! write is done: an answer never runs ahead of the disk. A request waits
//! for the requests queued before it and one commit, never for one commit
//! per request ahead of it as before.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use super::error::DbError;
use super::pool::PoolStats;
use super::query::{Query, Row};
use super::readers::{affected, error, rows};

/// The most requests committed together: a bound on how long the first of
/// a group waits behind the others.
pub(super) const MAX_GROUP: usize = 64;

/// What a request wants from a statement.
#[derive(Debug, Clone, Copy)]
pub(super) enum Want {
    /// Its rows.
    Rows,
    /// How many rows it changed.
    Affected,
}

/// What a statement gave.
#[derive(Debug)]
pub(super) enum Out {
    Rows(Vec<Row>),
    Affected(u64),
}

/// One step of a request's transaction.
#[derive(Debug)]
pub(super) enum Cmd {
    /// Run a statement and answer with what it gave.
    Run {
        query: Query,
        want: Want,
        reply: oneshot::Sender<Result<Out, DbError>>,
    },
    /// The request is done: answer once its statements are on disk.
    Commit {
        reply: oneshot::Sender<Result<(), DbError>>,
    },
}

/// A request's transaction, as the writer receives it.
pub(super) type Job = mpsc::UnboundedReceiver<Cmd>;

/// What the writer's queue carries.
#[derive(Debug)]
enum Msg {
    /// A request's transaction.
    Job(Job),
    /// Close the connection and stop, then say so.
    Close(oneshot::Sender<()>),
}

/// The handle requests queue their transactions on. Cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    queue: mpsc::UnboundedSender<Msg>,
    state: Arc<State>,
}

/// What the metrics read of the writer.
#[derive(Debug, Default)]
struct State {
    /// Its connection is open.
    open: AtomicBool,
    /// A group is being written.
    busy: AtomicBool,
}

impl Writer {
    /// Starts the writer's thread; it opens its connection to `file` when
    /// the first request comes, and again after a failure.
    pub(super) fn start(file: PathBuf, busy_timeout: Duration) -> Result<Writer, DbError> {
        let (queue, jobs) = mpsc::unbounded_channel();
        let state = Arc::new(State::default());
        let shared = state.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(&file, busy_timeout, jobs, &shared))
            .map_err(|e| DbError::Unavailable(format!("cannot start the writer: {e}")))?;
        Ok(Writer { queue, state })
    }

    /// Queues a new transaction; its statements go through the returned
    /// sender, in order.
    pub(super) fn begin(&self) -> Result<mpsc::UnboundedSender<Cmd>, DbError> {
        let (cmds, job) = mpsc::unbounded_channel();
        self.queue
            .send(Msg::Job(job))
            .map_err(|_| DbError::Unavailable("the database is closed".into()))?;
        Ok(cmds)
    }

    /// The writer's one connection, as a pool of one (`write`).
    pub(super) fn stats(&self) -> PoolStats {
        let open = u32::from(self.state.open.load(Ordering::Relaxed));
        let busy = u32::from(self.state.busy.load(Ordering::Relaxed));
        PoolStats {
            name: "write",
            size: open,
            idle: open.saturating_sub(busy),
            max: 1,
        }
    }

    /// Writes what is queued before it, then closes the connection; later
    /// writes are refused.
    pub(super) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.queue.send(Msg::Close(done)).is_ok() {
            let _ = closed.await;
        }
    }
}

/// How a request's transaction ended.
enum End {
    /// It asked to commit, with no failed statement.
    Commit(oneshot::Sender<Result<(), DbError>>),
    /// It went away without committing, or asked to after a statement
    /// failed (told so).
    RolledBack,
}

/// The writer's thread: groups of requests, each group one transaction.
fn run(
    file: &std::path::Path,
    busy_timeout: Duration,
    mut queue: mpsc::UnboundedReceiver<Msg>,
    state: &State,
) {
    let mut conn: Option<Connection> = None;
    let mut closing = None;
    while let Some(msg) = queue.blocking_recv() {
        let first = match msg {
            Msg::Job(job) => job,
            Msg::Close(done) => {
                closing = Some(done);
                break;
            }
        };
        let mut group = vec![first];
        if conn.is_none() {
            match open(file, busy_timeout) {
                Ok(c) => conn = Some(c),
                Err(err) => {
                    refuse(group, err);
                    continue;
                }
            }
        }
        let Some(c) = conn.as_ref() else { continue };
        state.open.store(true, Ordering::Relaxed);
        state.busy.store(true, Ordering::Relaxed);
        if let Err(err) = exec(c, "BEGIN IMMEDIATE") {
            refuse(group, err);
            conn = None;
            continue;
        }
        let mut done = Vec::new();
        let mut broken = None;
        let mut at = 0;
        while at < group.len() {
            let job = &mut group[at];
            at += 1;
            if let Err(err) = exec(c, "SAVEPOINT request") {
                broken = Some(err);
                break;
            }
            match serve(c, job) {
                End::Commit(reply) => match exec(c, "RELEASE request") {
                    Ok(()) => done.push(reply),
                    Err(err) => {
                        let _ = reply.send(Err(err.clone()));
                        broken = Some(err);
                        break;
                    }
                },
                End::RolledBack => {
                    let undone =
                        exec(c, "ROLLBACK TO request").and_then(|()| exec(c, "RELEASE request"));
                    if let Err(err) = undone {
                        broken = Some(err);
                        break;
                    }
                }
            }
            if at == group.len() && group.len() < MAX_GROUP && closing.is_none() {
                // Whoever queued meanwhile joins this commit.
                match queue.try_recv() {
                    Ok(Msg::Job(next)) => group.push(next),
                    Ok(Msg::Close(done)) => closing = Some(done),
                    Err(_) => {}
                }
            }
        }
        let committed = match broken {
            None => exec(c, "COMMIT"),
            Some(err) => Err(err),
        };
        match committed {
            Ok(()) => {
                for reply in done {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(err) => {
                // Nothing of this group is stored: every request of it
                // hears so, none is answered as done.
                tracing::warn!(%err, "a group of writes failed; rolled back");
                let _ = exec(c, "ROLLBACK");
                for reply in done {
                    let _ = reply.send(Err(err.clone()));
                }
                let rest = group.split_off(at);
                refuse(rest, err);
                conn = None;
            }
        }
        state.busy.store(false, Ordering::Relaxed);
        state.open.store(conn.is_some(), Ordering::Relaxed);
        if closing.is_some() {
            break;
        }
    }
    queue.close();
    if let Some(conn) = conn.take() {
        let _ = conn.close();
    }
    state.open.store(false, Ordering::Relaxed);
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// The writer's connection: WAL, `synchronous=FULL` (a commit is on disk
/// before it returns), foreign keys, the busy timeout.
fn open(file: &std::path::Path, busy_timeout: Duration) -> Result<Connection, DbError> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(error)?;
    conn.busy_timeout(busy_timeout).map_err(error)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .map_err(error)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Runs one request's statements until it commits or goes away.
fn serve(conn: &Connection, job: &mut Job) -> End {
    let mut failed = false;
    while let Some(cmd) = job.blocking_recv() {
        match cmd {
            Cmd::Run { query, want, reply } => {
                let out = statement(conn, &query, want);
                failed |= out.is_err();
                let _ = reply.send(out);
            }
            Cmd::Commit { reply } if failed => {
                let _ = reply.send(Err(DbError::Other(
                    "a statement of this transaction failed; nothing of it was stored".into(),
                )));
                return End::RolledBack;
            }
            Cmd::Commit { reply } => return End::Commit(reply),
        }
    }
    End::RolledBack
}

fn statement(conn: &Connection, query: &Query, want: Want) -> Result<Out, DbError> {
    Ok(match want {
        Want::Rows => Out::Rows(rows(conn, query, None)?),
        Want::Affected => Out::Affected(affected(conn, query)?),
    })
}

fn exec(conn: &Connection, sql: &'static str) -> Result<(), DbError> {
    conn.execute_batch(sql).map_err(error)
}

/// Answers every statement and the commit of `jobs` with `err`.
fn refuse(jobs: Vec<Job>, err: DbError) {
    for mut job in jobs {
        while let Some(cmd) = job.blocking_recv() {
            match cmd {
                Cmd::Run { reply, .. } => {
                    let _ = reply.send(Err(err.clone()));
                }
                Cmd::Commit { reply } => {
                    let _ = reply.send(Err(err.clone()));
                    break;
                }
            }
        }
    }
}
