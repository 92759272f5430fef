//! Handler and filter tests in process (`warp::test`): every endpoint and
//! every kind of bad input, each answered with the shared error body.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use common::{error_code, state};
use serde_json::json;
use shared_lib::config::ServiceConfig;
use shared_lib::wire::{Page, ServiceInfo, User};
use user_service::routes::routes;
use warp::test::request;

/// The API on a fresh database, and that database (keep it while testing).
async fn api() -> (
    impl warp::Filter<Extract = (impl warp::Reply,), Error = std::convert::Infallible>
    + Clone
    + Send
    + Sync
    + 'static,
    shared_lib::testing::ScratchDb,
) {
    let (state, db) = state().await;
    (routes(state), db)
}

async fn post_json(
    api: &(
         impl warp::Filter<Extract = (impl warp::Reply,), Error = std::convert::Infallible>
         + Clone
         + Send
         + Sync
         + 'static
     ),
    body: &str,
) -> common::Resp {
    common::post_json(api, "/api/users", body).await
}

#[tokio::test]
async fn root_says_who_it_is_and_which_shared_lib_it_runs() {
    let resp = request().path("/").reply(&api().await.0).await;
    assert_eq!(resp.status(), 200);
    let info: ServiceInfo = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(info.service, "user-service");
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(info.shared_lib_version, shared_lib::VERSION);
}

#[tokio::test]
async fn health_and_ready_answer_200() {
    let (api, _db) = api().await;
    for path in ["/health", "/ready"] {
        assert_eq!(
            request().path(path).reply(&api).await.status(),
            200,
            "{path}"
        );
    }
}

#[tokio::test]
async fn created_users_can_be_fetched_and_listed() {
    let (api, _db) = api().await;
    let resp = post_json(&api, r#"{"name":" Ada ","email":"ada@example.com"}"#).await;
    assert_eq!(resp.status(), 201);
    let ada: User = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(
        (ada.id, ada.name.as_str(), ada.email.as_str()),
        (1, "Ada", "ada@example.com")
    );

    let resp = request().path("/api/users/1").reply(&api).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(serde_json::from_slice::<User>(resp.body()).unwrap(), ada);

    post_json(&api, r#"{"name":"Bob","email":"bob@example.com"}"#).await;
    let resp = request()
        .path("/api/users?offset=1&limit=1")
        .reply(&api)
        .await;
    let page: Page<User> = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].name, "Bob");
}

#[tokio::test]
async fn a_duplicate_email_is_a_409_whatever_its_case() {
    let (api, _db) = api().await;
    assert_eq!(
        post_json(&api, r#"{"name":"A","email":"a@example.com"}"#)
            .await
            .status(),
        201
    );
    let resp = post_json(&api, r#"{"name":"B","email":"A@Example.COM"}"#).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(&resp), "email_taken");
}

#[tokio::test]
async fn an_unknown_user_is_a_404_and_a_bad_id_a_400() {
    let (api, _db) = api().await;
    let resp = request().path("/api/users/7").reply(&api).await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (404, "user_not_found")
    );
    for bad in [
        "/api/users/abc",
        "/api/users/0",
        "/api/users/-3",
        "/api/users/1e3",
    ] {
        let resp = request().path(bad).reply(&api).await;
        assert_eq!(
            (resp.status().as_u16(), error_code(&resp).as_str()),
            (400, "invalid_id"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn bad_bodies_are_4xx_with_the_shared_error_body() {
    let (api, _db) = api().await;
    let cases: &[(&str, u16, &str)] = &[
        ("{", 400, "invalid_body"),
        ("", 400, "invalid_body"),
        ("[]", 400, "invalid_body"),
        (r#"{"name":"A"}"#, 400, "invalid_body"),
        (r#"{"name":1,"email":"a@example.com"}"#, 400, "invalid_body"),
        (
            r#"{"name":"A","email":"a@example.com","admin":true}"#,
            400,
            "invalid_body",
        ),
        (
            r#"{"name":"","email":"a@example.com"}"#,
            422,
            "invalid_name",
        ),
        (
            r#"{"name":"A","email":"not-an-email"}"#,
            422,
            "invalid_email",
        ),
    ];
    for (body, status, code) in cases {
        let resp = post_json(&api, body).await;
        assert_eq!(resp.status().as_u16(), *status, "{body}");
        assert_eq!(error_code(&resp), *code, "{body}");
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let resp = post_json(&api, &deep).await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (400, "invalid_body")
    );
}

#[tokio::test]
async fn oversized_and_non_json_bodies_are_refused() {
    let big = json!({"name": "A", "email": "a@example.com", "pad": "x".repeat(70_000)}).to_string();
    let resp = post_json(&api().await.0, &big).await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (413, "payload_too_large")
    );

    let resp = request()
        .method("POST")
        .path("/api/users")
        .header("content-type", "text/plain")
        .body(r#"{"name":"A","email":"a@example.com"}"#)
        .reply(&api().await.0)
        .await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (415, "unsupported_media_type")
    );
}

#[tokio::test]
async fn wrong_methods_unknown_paths_and_bad_queries_are_4xx() {
    let (api, _db) = api().await;
    let cases: &[(&str, &str, u16, &str)] = &[
        ("DELETE", "/api/users", 405, "method_not_allowed"),
        ("PUT", "/api/users/1", 405, "method_not_allowed"),
        ("POST", "/", 405, "method_not_allowed"),
        ("PUT", "/openapi.json", 405, "method_not_allowed"),
        ("GET", "/api/nothing", 404, "not_found"),
        ("GET", "/api/users/1/extra", 404, "not_found"),
        ("GET", "/api/users?limit=abc", 400, "invalid_query"),
        ("GET", "/api/users?limit=0", 400, "invalid_limit"),
        ("GET", "/api/users?limit=101", 400, "invalid_limit"),
        ("GET", "/api/users?colour=red", 400, "invalid_query"),
    ];
    for (method, path, status, code) in cases {
        let resp = request().method(method).path(path).reply(&api).await;
        assert_eq!(resp.status().as_u16(), *status, "{method} {path}");
        assert_eq!(error_code(&resp), *code, "{method} {path}");
    }
    // A 405 names what the path accepts.
    for (path, allow) in [
        ("/api/users", "GET, POST"),
        ("/api/users/1", "GET"),
        ("/", "GET"),
    ] {
        let resp = request().method("PATCH").path(path).reply(&api).await;
        assert_eq!(resp.headers()["allow"], allow, "PATCH {path}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let (api, _db) = api().await;
    let resp = request().path("/openapi.json").reply(&api).await;
    assert_eq!(resp.status(), 200);
    let doc: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(doc["info"]["title"], "user-service");
    let paths = &doc["paths"];
    for (path, method) in [
        ("/api/users", "post"),
        ("/api/users", "get"),
        ("/api/users/{id}", "get"),
        ("/ready", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    let created = &paths["/api/users"]["post"]["responses"]["201"]["content"]["application/json"];
    assert_eq!(created["schema"]["$ref"], "#/components/schemas/User");
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn a_database_that_does_not_answer_is_a_503_not_500() {
    // Nothing listens on port 1: every write and read waits at most the
    // acquire timeout, then answers 503 with the shared error body.
    let config = user_service::Config::from_lookup(&|k| match k {
        "DATABASE_URL" => Some("postgres://u:p@127.0.0.1:1/users".into()),
        "DATABASE_ACQUIRE_TIMEOUT_MS" => Some("200".into()),
        _ => None,
    })
    .unwrap();
    let api = routes(user_service::AppState::new(&config).unwrap());
    let resp = post_json(&api, r#"{"name":"A","email":"a@example.com"}"#).await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (503, "database_unavailable")
    );
    let resp = request().path("/api/users/1").reply(&api).await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (503, "database_unavailable")
    );
    let resp = request().path("/ready").reply(&api).await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (503, "not_ready")
    );
}
