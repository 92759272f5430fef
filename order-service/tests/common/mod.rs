//! Test helpers: a stand-in user-service (users 1 and 2 exist) that records
//! the request ids it sees, and the real order-service on port 0.
//! The stand-in keeps these tests about order-service alone; the xtask
//! end-to-end tests run it against the real user-service binary.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use order_service::{AppState, Config};
use shared_lib::config::ServiceConfig;
use shared_lib::testing::{ScratchDb, TestServer};
use shared_lib::wire::User;
use tokio::sync::oneshot;
use warp::Filter;

/// How a stand-in user-service behaves.
#[derive(Clone, Copy)]
pub enum Peer {
    /// Answers: users 1 and 2 exist.
    Healthy,
    /// Accepts connections and never answers.
    Hanging,
}

/// A running stand-in user-service.
pub struct StubUsers {
    /// Its base URL.
    pub url: String,
    /// Request ids seen, in order.
    pub seen_ids: Arc<Mutex<Vec<String>>>,
    /// Notified on every request it receives.
    pub arrived: Arc<tokio::sync::Notify>,
    /// Stops it.
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for StubUsers {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn stub_users(peer: Peer) -> StubUsers {
    let seen_ids = Arc::new(Mutex::new(Vec::new()));
    let seen = seen_ids.clone();
    let arrived = Arc::new(tokio::sync::Notify::new());
    let notify = arrived.clone();
    let users = warp::path!("api" / "users" / u64)
        .and(warp::header::optional::<String>("x-request-id"))
        .then(move |id: u64, rid: Option<String>| {
            let (seen, notify) = (seen.clone(), notify.clone());
            async move {
                seen.lock().unwrap().push(rid.unwrap_or_default());
                notify.notify_one();
                if matches!(peer, Peer::Hanging) {
                    std::future::pending::<()>().await;
                }
                if id <= 2 {
                    let user = User {
                        id,
                        name: format!("user {id}"),
                        email: format!("u{id}@example.com"),
                        created_at: "2026-01-01T00:00:00.000Z".into(),
                    };
                    warp::reply::with_status(warp::reply::json(&user), warp::http::StatusCode::OK)
                } else {
                    warp::reply::with_status(
                        warp::reply::json(
                            &serde_json::json!({"code": "user_not_found", "message": "no"}),
                        ),
                        warp::http::StatusCode::NOT_FOUND,
                    )
                }
            }
        });
    let routes = warp::path!("health")
        .map(|| "ok")
        .or(users)
        .recover(shared_lib::error::handle_rejection);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(shared_lib::server::serve(listener, routes, async {
        let _ = stopped.await;
    }));
    StubUsers {
        url,
        seen_ids,
        arrived,
        stop: Some(stop),
    }
}

/// A URL where nothing listens.
pub async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// In-process requests and the shared error body's code, as every service
/// reads them (not every test binary uses all three).
#[allow(unused_imports)]
pub use shared_lib::testing::{Resp, error_code, post_json};

/// Settings for tests: the given user-service, a 500 ms timeout, seed 7,
/// and no memory of confirmed users (every order asks user-service, which
/// is what most of these tests are about), the database `db`, then `extra`
/// on top.
pub fn config_with(user_service_url: &str, db: &ScratchDb, extra: &[(&str, &str)]) -> Config {
    let mut vars = vec![
        ("USER_SERVICE_URL".to_string(), user_service_url.to_string()),
        ("USER_SERVICE_TIMEOUT_MS".to_string(), "500".to_string()),
        ("DISCOUNT_SEED".to_string(), "7".to_string()),
        ("USER_CACHE_TTL_MS".to_string(), "0".to_string()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut config = Config::from_lookup(&move |k| {
        vars.iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    config.database = db.config.clone();
    config
}

/// [`config_with`] and nothing extra.
pub fn config(user_service_url: &str, db: &ScratchDb) -> Config {
    config_with(user_service_url, db, &[])
}

/// A fresh database of the test's own (a SQLite file; a PostgreSQL
/// database when `FLEET_TEST_POSTGRES` names a server) and the state on
/// it, migrated. Keep the database as long as the state.
pub async fn state(user_service_url: &str) -> (AppState, ScratchDb) {
    let db = ScratchDb::new(order_service::SERVICE).await;
    let state = AppState::new(&config(user_service_url, &db)).unwrap();
    state.db.migrated().await.unwrap();
    (state, db)
}

/// A running order-service on an ephemeral port.
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

/// Starts the real server on port 0, on a fresh database, calling the
/// user-service at `user_service_url`; returns once `/ready` answers.
pub async fn spawn_app(user_service_url: &str) -> TestApp {
    spawn_app_with(user_service_url, &[]).await
}

/// [`spawn_app`] with `extra` settings (see [`config_with`]).
pub async fn spawn_app_with(user_service_url: &str, extra: &[(&str, &str)]) -> TestApp {
    let db = ScratchDb::new(order_service::SERVICE).await;
    let config = config_with(user_service_url, &db, extra);
    let server = TestServer::start("/ready", |listener, shutdown| {
        order_service::run(listener, config, shutdown)
    })
    .await;
    TestApp {
        addr: server.addr,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
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

    /// `POST /api/orders`.
    pub async fn create_order(&self, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/orders"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Completes the shutdown future and waits for `run` to return.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.server.shutdown().await
    }
}
