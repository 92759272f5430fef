//! Helpers shared by the tests (the same names in every service): the
//! settings and state, the real app on port 0, and reading answers.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use shared_lib::config::ServiceConfig;
use shared_lib::testing::{ScratchDb, TestServer};
use {{crate}}::{AppState, Config};

/// In-process requests and the shared error body's code, as every service
/// reads them (not every test binary uses all three).
#[allow(unused_imports)]
pub use shared_lib::testing::{Resp, error_code, post_json};

/// Settings for tests: every default, the database `db` with a patient
/// pool (tests run beside builds on a busy machine).
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
    let db = ScratchDb::new({{crate}}::SERVICE).await;
    let state = AppState::new(&config(&db)).unwrap();
    state.db.migrated().await.unwrap();
    (state, db)
}

/// A running {{name}} on an ephemeral port.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The server, stopped by [`TestApp::shutdown`] or when dropped.
    server: TestServer,
    /// Its database, removed when the app is dropped.
    _db: ScratchDb,
}

/// Starts the real server on port 0, on a fresh database; returns once
/// `/ready` answers (the database is migrated).
pub async fn spawn_app() -> TestApp {
    let db = ScratchDb::new({{crate}}::SERVICE).await;
    let config = config(&db);
    let server = TestServer::start("/ready", |listener, shutdown| {
        {{crate}}::run(listener, config, shutdown)
    })
    .await;
    TestApp {
        addr: server.addr,
        server,
        _db: db,
    }
}

impl TestApp {
    /// The URL of `path` on this app.
    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// Completes the shutdown future and waits for `run` to return.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.server.shutdown().await
    }
}
