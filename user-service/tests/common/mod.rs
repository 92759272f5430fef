//! Helpers shared by the tests (the same names in every service): the
//! settings and state, the real app on port 0, and reading answers.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use shared_lib::db::ScratchDb;
use shared_lib::error::ErrorBody;
use tokio::sync::oneshot;
use user_service::{AppState, Config};

/// An in-process answer of `warp::test`.
pub type Resp = warp::http::Response<warp::hyper::body::Bytes>;

/// Settings for tests: every default, the database `db`.
pub fn config(db: &ScratchDb) -> Config {
    let mut config = Config::from_lookup(&|_| None).unwrap();
    config.database = db.config.clone();
    config
}

/// A fresh database of the test's own (a SQLite file; a PostgreSQL
/// database when `FLEET_TEST_POSTGRES` names a server) and the state on
/// it, migrated. Keep the database as long as the state.
pub async fn state() -> (AppState, ScratchDb) {
    let db = ScratchDb::new(user_service::SERVICE).await;
    let state = AppState::new(&config(&db)).unwrap();
    state.db.migrated().await.unwrap();
    (state, db)
}

/// `POST path` with a JSON body, in process.
pub async fn post_json(
    api: &(
         impl warp::Filter<Extract = (impl warp::Reply,), Error = std::convert::Infallible>
         + Clone
         + 'static
     ),
    path: &str,
    body: &str,
) -> Resp {
    warp::test::request()
        .method("POST")
        .path(path)
        .header("content-type", "application/json")
        .body(body)
        .reply(api)
        .await
}

/// The `code` of the shared error body; panics when the body is not one.
pub fn error_code(resp: &Resp) -> String {
    serde_json::from_slice::<ErrorBody>(resp.body())
        .unwrap_or_else(|e| panic!("not the shared error body ({e}): {:?}", resp.body()))
        .code
}

/// A running user-service on an ephemeral port.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A client for typed requests.
    pub client: reqwest::Client,
    /// Completes the shutdown future handed to `run`.
    stop: Option<oneshot::Sender<()>>,
    /// The server task, to check how it ended.
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Its database, removed when the app is dropped.
    _db: ScratchDb,
}

/// Starts the real server on port 0.
pub async fn spawn_app() -> TestApp {
    shared_lib::telemetry::init_for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    let db = ScratchDb::new(user_service::SERVICE).await;
    let server = tokio::spawn(user_service::run(listener, config(&db), async {
        let _ = stopped.await;
    }));
    let app = TestApp {
        addr,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        stop: Some(stop),
        server,
        _db: db,
    };
    app.wait_ready().await;
    app
}

impl TestApp {
    /// Waits until the app's database is migrated and answers (`GET
    /// /health` would answer sooner; requests need the database), at most
    /// 10 s.
    async fn wait_ready(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let ready = self.client.get(self.url("/ready")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the app is not ready after 10 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The URL of `path` on this app.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `POST /api/users`.
    pub async fn create_user(&self, name: &str, email: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/users"))
            .json(&serde_json::json!({"name": name, "email": email}))
            .send()
            .await
            .unwrap()
    }

    /// Completes the shutdown future and waits for `run` to return.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        self.stop.take().unwrap().send(()).unwrap();
        self.server.await.unwrap()
    }
}
