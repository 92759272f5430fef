//! Helpers shared by the tests (the same names in every service): the
//! settings and state, the real app on port 0, and reading answers.

#![allow(dead_code)]

use std::net::SocketAddr;

use shared_lib::testing::TestServer;
use {{crate}}::{AppState, Config};

/// In-process requests and the shared error body's code, as every service
/// reads them (not every test binary uses all three).
#[allow(unused_imports)]
pub use shared_lib::testing::{Resp, error_code, post_json};

/// The settings with every default.
pub fn config() -> Config {
    Config::from_lookup(&|_| None).unwrap()
}

/// The state for the default settings.
pub fn state() -> AppState {
    AppState::new(&config())
}

/// A running {{name}} on an ephemeral port.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The server, stopped by [`TestApp::shutdown`] or when dropped.
    server: TestServer,
}

/// Starts the real server on port 0; returns once `/ready` answers.
pub async fn spawn_app() -> TestApp {
    let server = TestServer::start("/ready", |listener, shutdown| {
        {{crate}}::run(listener, config(), shutdown)
    })
    .await;
    TestApp {
        addr: server.addr,
        server,
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
