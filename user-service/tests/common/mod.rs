//! Helpers shared by the tests (the same names in every service): the
//! settings and state, the real app on port 0, and reading answers.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use shared_lib::error::ErrorBody;
use tokio::sync::oneshot;
use user_service::{AppState, Config};

/// An in-process answer of `warp::test`.
pub type Resp = warp::http::Response<warp::hyper::body::Bytes>;

/// Settings for tests: every default, at most `max_users` users.
pub fn config(max_users: usize) -> Config {
    let max = max_users.to_string();
    Config::from_lookup(&move |k| (k == "MAX_USERS").then(|| max.clone())).unwrap()
}

/// The state for [`config`].
pub fn state(max_users: usize) -> AppState {
    AppState::new(&config(max_users))
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
}

/// Starts the real server on port 0.
pub async fn spawn_app() -> TestApp {
    shared_lib::telemetry::init_for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    let server = tokio::spawn(user_service::run(listener, config(1_000), async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        stop: Some(stop),
        server,
    }
}

impl TestApp {
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
