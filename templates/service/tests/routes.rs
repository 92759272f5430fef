//! The API in-process, through warp's test client.

mod common;

use serde_json::Value;
use warp::test::request;

#[tokio::test]
async fn the_root_names_the_service_and_its_shared_lib() {
    let api = {{crate}}::routes::routes(common::state());
    let resp = request().path("/").reply(&api).await;
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(body["service"], "{{name}}");
    assert_eq!(body["shared_lib_version"], shared_lib::VERSION);
}

#[tokio::test]
async fn hello_greets_and_bad_names_get_the_shared_error_body() {
    let api = {{crate}}::routes::routes(common::state());
    let resp = request().path("/api/hello?name=Ada").reply(&api).await;
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(body["greeting"], "hello, Ada");
    for (path, status, code) in [
        ("/api/hello?name=%20", 422, "invalid_name"),
        ("/nowhere", 404, "not_found"),
    ] {
        let resp = request().path(path).reply(&api).await;
        assert_eq!(resp.status(), status, "{path}");
        assert_eq!(common::error_code(&resp), code, "{path}");
    }
    let resp = common::post_json(&api, "/api/hello", "{}").await;
    assert_eq!(common::error_code(&resp), "method_not_allowed");
}

#[tokio::test]
async fn the_openapi_document_describes_hello_and_405s_name_the_allowed_methods() {
    let api = {{crate}}::routes::routes(common::state());
    let resp = request().path("/openapi.json").reply(&api).await;
    assert_eq!(resp.status(), 200);
    let doc: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(doc["info"]["title"], "{{name}}");
    assert!(doc["paths"]["/api/hello"]["get"].is_object());
    let resp = request().method("POST").path("/api/hello").reply(&api).await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "GET");
}
