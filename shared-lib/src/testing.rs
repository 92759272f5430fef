//! Helpers for a service's own tests, the same in every service (the
//! template's `tests/common` re-exports them): a request answered in
//! process, the code of the shared error body, and the real server on an
//! ephemeral port with a clean shutdown.
//!
//! And a database of its own for each test ([`ScratchDb`]), SQLite or
//! PostgreSQL.
//!
//! Behind the `testing` feature: a service enables it for its tests only,
//! `shared-lib = { ..., features = ["testing"] }` under
//! `[dev-dependencies]`, so nothing here is compiled into a service binary.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use warp::hyper::body::Bytes;
use warp::{Filter, Reply};

use sqlx::{Connection, PgConnection};

use crate::db::DbConfig;
use crate::error::ErrorBody;
use crate::lifecycle::Shutdown;

/// An answer produced in process by [`post_json`].
pub type Resp = warp::http::Response<Bytes>;

/// `POST path` with the JSON `body` (and its `content-length`), answered in
/// process by `api`: no socket, so a route test needs no server.
///
/// # Panics
/// When `path` is not a valid request target.
pub async fn post_json<F, R>(api: &F, path: &str, body: &str) -> Resp
where
    F: Filter<Extract = (R,), Error = std::convert::Infallible> + Clone + Send + Sync + 'static,
    R: Reply,
{
    use http_body_util::BodyExt;
    use tower::Service;
    let request = warp::http::Request::post(path)
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(body.to_string())
        .unwrap_or_else(|e| panic!("cannot build POST {path}: {e}"));
    let answer = match warp::service(api.clone()).call(request).await {
        Ok(answer) => answer,
        Err(never) => match never {},
    };
    let (parts, body) = answer.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_else(|e| panic!("cannot read the answer to POST {path}: {e}"));
    Resp::from_parts(parts, bytes)
}

/// The `code` of the shared error body in `resp`.
///
/// # Panics
/// When the body is not the shared error body.
pub fn error_code(resp: &Resp) -> String {
    serde_json::from_slice::<ErrorBody>(resp.body())
        .unwrap_or_else(|e| panic!("not the shared error body ({e}): {:?}", resp.body()))
        .code
}

/// How long [`TestServer::start`] waits for the ready path.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A service's real server on `127.0.0.1:<ephemeral port>`, in the test's
/// runtime. Dropping it stops the server too.
#[derive(Debug)]
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Completes the shutdown future handed to `run`.
    stop: Option<oneshot::Sender<()>>,
    /// The server task, to see how it ended.
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Binds an ephemeral port, spawns `run(listener, shutdown)` (a
    /// service's `run` with its settings) and waits until `ready_path`
    /// answers 200, at most [`READY_TIMEOUT`]. Test logs go through
    /// [`crate::telemetry::init_for_tests`].
    ///
    /// # Panics
    /// When no port can be bound, or the server stops or is not ready in
    /// time (with what it answered last).
    pub async fn start<F, Fut>(ready_path: &str, run: F) -> TestServer
    where
        F: FnOnce(TcpListener, Shutdown) -> Fut,
        Fut: Future<Output = std::io::Result<()>> + Send + 'static,
    {
        crate::telemetry::init_for_tests();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("cannot bind a port for the test server: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the test server's port: {e}"));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(run(
            listener,
            Box::pin(async move {
                let _ = stopped.await;
            }),
        ));
        let started = TestServer {
            addr,
            stop: Some(stop),
            server,
        };
        started.wait_ready(ready_path).await;
        started
    }

    async fn wait_ready(&self, path: &str) {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            let addr = self.addr;
            let path_owned = path.to_string();
            let answer =
                tokio::task::spawn_blocking(move || crate::lifecycle::probe(addr, &path_owned))
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()));
            let Err(last) = answer else { return };
            assert!(
                !self.server.is_finished(),
                "the test server stopped before {path} answered 200 ({last})"
            );
            assert!(
                tokio::time::Instant::now() < deadline,
                "the test server is not ready after {READY_TIMEOUT:?}: {last}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Completes the shutdown future and waits for `run` to return; its
    /// result.
    ///
    /// # Panics
    /// When the server task panicked.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server)
            .await
            .unwrap_or_else(|e| panic!("the test server panicked: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::handle_rejection;

    fn api() -> impl Filter<Extract = (impl Reply,), Error = std::convert::Infallible> + Clone {
        crate::filters::health()
            .or(warp::path("echo")
                .and(crate::filters::json_body::<serde_json::Value>(1024))
                .map(|v: serde_json::Value| warp::reply::json(&v)))
            .recover(handle_rejection)
    }

    #[tokio::test]
    async fn post_json_answers_in_process_and_error_code_reads_the_shared_body() {
        let ok = post_json(&api(), "/echo", r#"{"a":1}"#).await;
        assert_eq!(ok.status(), 200);
        assert_eq!(&ok.body()[..], br#"{"a":1}"#);
        let bad = post_json(&api(), "/echo", "{").await;
        assert_eq!(bad.status(), 400);
        assert_eq!(error_code(&bad), "invalid_body");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_server_is_ready_when_started_and_stops_on_shutdown() {
        let server = TestServer::start("/health", |listener, shutdown| {
            crate::server::serve(listener, api(), shutdown)
        })
        .await;
        let addr = server.addr;
        assert_eq!(crate::lifecycle::probe(addr, "/health"), Ok(()));
        assert!(server.url("/x").ends_with("/x"));
        server.shutdown().await.expect("a clean stop");
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "listener closed"
        );
    }
}

/// A database of its own for one test. With `FLEET_TEST_POSTGRES` set to a
/// PostgreSQL server URL whose user may create databases (`cargo xtask
/// test` sets it for the second run of every suite), a new, empty database
/// on that server; otherwise a SQLite file in a new temporary directory,
/// removed on drop.
#[derive(Debug)]
pub struct ScratchDb {
    /// The settings that reach it.
    pub config: DbConfig,
    dir: Option<PathBuf>,
}

impl ScratchDb {
    /// A fresh, empty database for `service`'s tests.
    ///
    /// # Panics
    /// When the PostgreSQL server of `FLEET_TEST_POSTGRES` refuses: a test
    /// helper fails loudly.
    pub async fn new(service: &str) -> ScratchDb {
        let unique = format!(
            "t{}_{}",
            std::process::id(),
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..12)
                .unwrap_or("0")
        );
        match std::env::var("FLEET_TEST_POSTGRES")
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(server) => {
                let mut admin = PgConnection::connect(&server).await.unwrap_or_else(|e| {
                    panic!("FLEET_TEST_POSTGRES={}: {e}", crate::db::redact(&server))
                });
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {unique}")))
                    .execute(&mut admin)
                    .await
                    .unwrap_or_else(|e| panic!("cannot create database {unique}: {e}"));
                let _ = admin.close().await;
                let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
                let url = format!("{base}/{unique}");
                let config =
                    DbConfig::from_lookup(&|k| (k == "DATABASE_URL").then(|| url.clone()), service)
                        .unwrap_or_else(|e| panic!("{e}"));
                ScratchDb { config, dir: None }
            }
            None => {
                let dir = std::env::temp_dir().join(format!("{service}-{unique}"));
                let data = dir.to_string_lossy().into_owned();
                let config =
                    DbConfig::from_lookup(&|k| (k == "DATA_DIR").then(|| data.clone()), service)
                        .unwrap_or_else(|e| panic!("{e}"));
                ScratchDb {
                    config,
                    dir: Some(dir),
                }
            }
        }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
