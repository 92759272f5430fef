//! Helpers shared by the tests (the same names in every service): the
//! settings and state, the real app on port 0, and reading answers.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use shared_lib::config::ServiceConfig;
use shared_lib::testing::{ScratchDb, TestServer};
use user_service::{AppState, Config};

/// In-process requests and the shared error body's code, as every service
/// reads them (not every test binary uses all three).
#[allow(unused_imports)]
pub use shared_lib::testing::{Resp, error_code, post_json};

/// Settings for tests: every default, the database `db` with a patient
/// pool. Tests run side by side with builds on a busy machine, and one of
/// them sends 50 sign-ups at once. The default 3 s wait for a connection
/// can run out there, and its 503 is the service doing its job, not what
/// that test is about.
pub fn config(db: &ScratchDb) -> Config {
    let mut config = Config::from_lookup(&|_| None).unwrap();
    config.database = db.config.clone();
    config.database.acquire_timeout = Duration::from_secs(30);
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

/// A running user-service on an ephemeral port.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A client for typed requests.
    pub client: reqwest::Client,
    /// The server, stopped by [`TestApp::shutdown`] or when dropped.
    server: TestServer,
    /// Its database, removed when the app is dropped.
    _db: ScratchDb,
}

/// Starts the real server on port 0, on a fresh database; returns once
/// `/ready` answers (the database is migrated).
pub async fn spawn_app() -> TestApp {
    let db = ScratchDb::new(user_service::SERVICE).await;
    let config = config(&db);
    let server = TestServer::start("/ready", |listener, shutdown| {
        user_service::run(listener, config, shutdown)
    })
    .await;
    TestApp {
        addr: server.addr,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
        server,
        _db: db,
    }
}

impl TestApp {
    /// The URL of `path` on this app.
    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
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
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.server.shutdown().await
    }
}
