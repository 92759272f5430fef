//! The API in-process, through warp's test client, on a database of the
//! test's own.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use serde_json::Value;
use warp::test::request;

#[tokio::test]
async fn the_root_names_the_service_and_its_shared_lib() {
    let (state, _db) = common::state().await;
    let api = {{crate}}::routes::routes(state);
    let resp = request().path("/").reply(&api).await;
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(body["service"], "{{name}}");
    assert_eq!(body["shared_lib_version"], shared_lib::VERSION);
}

#[tokio::test]
async fn an_item_is_stored_and_read_back_and_bad_input_gets_the_shared_error_body() {
    let (state, _db) = common::state().await;
    let api = {{crate}}::routes::routes(state);
    let resp = common::post_json(&api, "/api/items", r#"{"name":" Ada "}"#).await;
    assert_eq!(resp.status(), 201);
    let item: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(item["name"], "Ada");
    let id = item["id"].as_u64().unwrap();
    let resp = request().path(&format!("/api/items/{id}")).reply(&api).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(serde_json::from_slice::<Value>(resp.body()).unwrap(), item);
    for (path, status, code) in [
        ("/api/items/999", 404, "item_not_found"),
        ("/api/items/0", 400, "invalid_id"),
        ("/nowhere", 404, "not_found"),
    ] {
        let resp = request().path(path).reply(&api).await;
        assert_eq!(resp.status(), status, "{path}");
        assert_eq!(common::error_code(&resp), code, "{path}");
    }
    for (body, status, code) in [
        (r#"{"name":"  "}"#, 422, "invalid_name"),
        (r#"{"name":"a","extra":1}"#, 400, "invalid_body"),
        ("not json", 400, "invalid_body"),
    ] {
        let resp = common::post_json(&api, "/api/items", body).await;
        assert_eq!(resp.status(), status, "{body}");
        assert_eq!(common::error_code(&resp), code, "{body}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_api_and_405s_name_the_allowed_methods() {
    let (state, _db) = common::state().await;
    let api = {{crate}}::routes::routes(state);
    let resp = request().path("/openapi.json").reply(&api).await;
    assert_eq!(resp.status(), 200);
    let doc: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(doc["info"]["title"], "{{name}}");
    assert!(doc["paths"]["/api/items"]["post"].is_object());
    assert!(doc["paths"]["/api/items/{id}"]["get"].is_object());
    let resp = request().method("DELETE").path("/api/items").reply(&api).await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
}
