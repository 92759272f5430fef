//! Helpers shared by the tests (the same names in every service): the
//! settings and state, the real app on port 0, and reading answers.

#![allow(dead_code)]

use std::net::SocketAddr;

use shared_lib::error::ErrorBody;
use tokio::sync::oneshot;
use {{crate}}::{AppState, Config};

/// An in-process answer of `warp::test`.
pub type Resp = warp::http::Response<warp::hyper::body::Bytes>;

/// The settings with every default.
pub fn config() -> Config {
    Config::from_lookup(&|_| None).unwrap()
}

/// The state for the default settings.
pub fn state() -> AppState {
    AppState::new(&config())
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

/// A running {{name}} on an ephemeral port.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Completes the shutdown future handed to `run`.
    stop: Option<oneshot::Sender<()>>,
    /// The server task, to check how it ended.
    server: tokio::task::JoinHandle<std::io::Result<()>>,
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

    /// Completes the shutdown future and waits for `run` to return.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        self.stop.take().unwrap().send(()).unwrap();
        self.server.await.unwrap()
    }
}
