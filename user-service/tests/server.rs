//! The real server on port 0, over real sockets: concurrency, request ids
//! and graceful shutdown.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use common::spawn_app;
use shared_lib::wire::User;

#[tokio::test]
async fn concurrent_sign_ups_get_distinct_ids_and_one_email_wins_once() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (client, url) = (app.client.clone(), app.url("/api/users"));
        tasks.push(tokio::spawn(async move {
            let email = format!("user{}@example.com", i % 25);
            client
                .post(url)
                .json(&serde_json::json!({"name": format!("U{i}"), "email": email}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 25);
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 25);

    let page: serde_json::Value = app
        .client
        .get(app.url("/api/users?limit=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ids: Vec<u64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    // Distinct and positive; not necessarily dense (PostgreSQL spends an
    // id on a refused insert).
    assert_eq!(ids.len(), 25, "{ids:?}");
    assert!(ids[0] >= 1);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_request_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "req-42");
    let resp = app
        .client
        .get(app.url("/api/users/99"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let generated = resp.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn created_users_are_served_over_the_socket() {
    let app = spawn_app().await;
    let resp = app.create_user("Grace", "grace@example.com").await;
    assert_eq!(resp.status(), 201);
    let grace: User = resp.json().await.unwrap();
    let fetched: User = app
        .client
        .get(app.url(&format!("/api/users/{}", grace.id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, grace);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_refuses_new_connections_and_returns_cleanly() {
    let app = spawn_app().await;
    let addr = app.addr;
    assert_eq!(app.create_user("A", "a@example.com").await.status(), 201);
    app.shutdown().await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
