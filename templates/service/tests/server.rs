//! The real server on port 0, over real sockets, on a database of its own.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

#[tokio::test]
async fn it_serves_and_stores_until_shutdown_and_then_exits_cleanly() {
    let app = common::spawn_app().await;
    let resp = reqwest::get(app.url("/ready")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"));
    let created = reqwest::Client::new()
        .post(app.url("/api/items"))
        .json(&serde_json::json!({"name": "kept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let health = app.url("/health");
    app.shutdown().await.unwrap();
    assert!(reqwest::get(health).await.is_err(), "the listener is closed");
}
