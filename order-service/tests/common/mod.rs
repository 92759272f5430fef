//! Test helpers: a stand-in user-service (users 1 and 2 exist) that records
//! the request ids it sees, and the real order-service on port 0.
//! The stand-in keeps these tests about order-service alone; the xtask
//! end-to-end tests run it against the real user-service binary.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use order_service::{AppState, Config};
use shared_lib::db::ScratchDb;
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

/// An in-process answer of `warp::test`.
pub type Resp = warp::http::Response<warp::hyper::body::Bytes>;

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
    serde_json::from_slice::<shared_lib::error::ErrorBody>(resp.body())
        .unwrap_or_else(|e| panic!("not the shared error body ({e}): {:?}", resp.body()))
        .code
}

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
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Its database, removed when the app is dropped.
    _db: ScratchDb,
}

pub async fn spawn_app(user_service_url: &str) -> TestApp {
    spawn_app_with(user_service_url, &[]).await
}

/// [`spawn_app`] with `extra` settings (see [`config_with`]).
pub async fn spawn_app_with(user_service_url: &str, extra: &[(&str, &str)]) -> TestApp {
    shared_lib::telemetry::init_for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    let db = ScratchDb::new(order_service::SERVICE).await;
    let server = tokio::spawn(order_service::run(
        listener,
        config_with(user_service_url, &db, extra),
        async {
            let _ = stopped.await;
        },
    ));
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

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn create_order(&self, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/orders"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn shutdown(mut self) -> std::io::Result<()> {
        self.stop.take().unwrap().send(()).unwrap();
        self.server.await.unwrap()
    }
}
