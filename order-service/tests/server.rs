//! The real order-service on port 0, over real sockets: request-id
//! propagation to user-service, concurrency and graceful shutdown.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use common::{Peer, spawn_app, spawn_app_with, stub_users};
use serde_json::json;
use shared_lib::wire::Order;

fn order(user_id: u64) -> serde_json::Value {
    json!({"user_id": user_id, "items": [{"sku": "A", "quantity": 2, "unit_price_cents": 500}]})
}

#[tokio::test]
async fn the_request_id_is_passed_on_to_user_service_and_returned() {
    let users = stub_users(Peer::Healthy).await;
    let app = spawn_app(&users.url).await;
    let resp = app
        .client
        .post(app.url("/api/orders"))
        .header("x-request-id", "checkout-1234")
        .json(&order(1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["x-request-id"], "checkout-1234");
    assert_eq!(users.seen_ids.lock().unwrap().as_slice(), ["checkout-1234"]);

    // Without one, the generated id is the one passed on.
    let resp = app.create_order(order(2)).await;
    let generated = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(users.seen_ids.lock().unwrap().last().unwrap(), &generated);
    app.shutdown().await.unwrap();
}

/// A TCP relay in front of `target` that counts the connections it accepts.
async fn counting_relay(target: &str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let target = target.trim_start_matches("http://").to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (url, count)
}

#[tokio::test]
async fn orders_reuse_one_connection_to_user_service() {
    let users = stub_users(Peer::Healthy).await;
    let (relay, connections) = counting_relay(&users.url).await;
    let app = spawn_app(&relay).await;
    for i in 0..20 {
        let resp = app.create_order(order(1 + i % 2)).await;
        assert_eq!(resp.status(), 201);
    }
    assert_eq!(users.seen_ids.lock().unwrap().len(), 20);
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "20 orders in a row share one pooled connection to user-service"
    );
    app.shutdown().await.unwrap();
}

/// With the memory of confirmed users on (as by default), a user's next
/// orders skip user-service, even while it is down; unknown users are
/// asked about every time, and while user-service is down they get 503.
#[tokio::test]
async fn confirmed_users_are_remembered_and_unknown_ones_are_asked_again() {
    let users = stub_users(Peer::Healthy).await;
    let app = spawn_app_with(&users.url, &[("USER_CACHE_TTL_MS", "60000")]).await;
    let asked = || users.seen_ids.lock().unwrap().len();
    for _ in 0..3 {
        assert_eq!(app.create_order(order(1)).await.status(), 201);
    }
    assert_eq!(asked(), 1, "user 1 asked about once");
    for _ in 0..2 {
        assert_eq!(app.create_order(order(5)).await.status(), 422);
    }
    assert_eq!(asked(), 3, "an unknown user is asked about every time");
    let url = users.url.clone();
    drop(users);
    assert_eq!(
        app.create_order(order(1)).await.status(),
        201,
        "{url} down, user 1 known"
    );
    let resp = app.create_order(order(2)).await;
    assert_eq!(resp.status(), 503, "user 2 was never confirmed");
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["code"],
        "user_service_unavailable"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn concurrent_orders_all_succeed_with_distinct_ids() {
    let users = stub_users(Peer::Healthy).await;
    let app = spawn_app(&users.url).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (client, url) = (app.client.clone(), app.url("/api/orders"));
        tasks.push(tokio::spawn(async move {
            let resp = client
                .post(url)
                .json(&order(1 + i % 2))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201);
            resp.json::<Order>().await.unwrap().id
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort_unstable();
    assert_eq!(ids, (1..=40).collect::<Vec<u64>>());
    app.shutdown().await.unwrap();
}

/// Readiness follows only order-service's own database: user-service
/// going away shows in `/ready`'s body and in `upstream_up`, and reads
/// are still answered.
#[tokio::test]
async fn ready_reports_user_service_but_does_not_follow_it() {
    let users = stub_users(Peer::Healthy).await;
    let app = spawn_app(&users.url).await;
    let ready = |app: &common::TestApp| {
        let (client, url) = (app.client.clone(), app.url("/ready"));
        async move {
            let resp = client.get(url).send().await.unwrap();
            let status = resp.status().as_u16();
            let body: shared_lib::wire::Readiness = resp.json().await.unwrap();
            (status, body.dependencies[0].up)
        }
    };
    assert_eq!(ready(&app).await, (200, true));
    drop(users);
    assert_eq!(ready(&app).await, (200, false), "ready, user-service down");
    let orders = app
        .client
        .get(app.url("/api/orders?user_id=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(orders.status(), 200, "reads need no user-service");
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"upstream_up{service="order-service",callee="user-service"} 0"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"http_requests_total{service="order-service",route="/api/orders",method="GET",status="2xx"} 1"#
        ),
        "{metrics}"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_in_flight_request_finishes_during_shutdown() {
    // A hanging user-service keeps the order request in flight until
    // order-service's own 500 ms timeout answers it with 503.
    let users = stub_users(Peer::Hanging).await;
    let app = spawn_app(&users.url).await;
    let addr = app.addr;
    let (client, url) = (app.client.clone(), app.url("/api/orders"));
    let in_flight = tokio::spawn(async move { client.post(url).json(&order(1)).send().await });
    // Shut down only once user-service has seen the call: the request is in flight.
    users.arrived.notified().await;
    app.shutdown().await.unwrap();
    let resp = in_flight
        .await
        .unwrap()
        .expect("the in-flight request got an answer");
    assert_eq!(resp.status(), 503);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "new connections are refused"
    );
}
