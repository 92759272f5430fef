//! Helpers shared by the tests: the app in-process, or on a real socket.

#![allow(dead_code)]

use std::net::SocketAddr;

use tokio::sync::oneshot;
use {{crate}}::{AppState, Config};

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
    /// Completes the shutdown future handed to `run`.
    pub stop: Option<oneshot::Sender<()>>,
    /// The server task, to check how it ended.
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Starts the real server on port 0.
pub async fn spawn_app() -> TestApp {
    shared_lib::telemetry::init_for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    let server = tokio::spawn({{crate}}::run(listener, config(), async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        stop: Some(stop),
        server,
    }
}

impl TestApp {
    /// The URL of `path` on this app.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}
