//! Handler and filter tests in process (`warp::test`): pricing, the user
//! check, and every kind of bad input, each answered with the shared error
//! body and never a 5xx (except 503 when user-service or the database
//! cannot be asked).

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use common::{Peer, Resp, dead_url, error_code, post_json, state, stub_users};
use serde_json::{Value, json};
use shared_lib::config::ServiceConfig;
use shared_lib::discount::{DiscountRng, DiscountRule};
use shared_lib::money::Cents;
use shared_lib::wire::{Order, Page, ServiceInfo};
use warp::test::request;

async fn post(
    api: &(
         impl warp::Filter<Extract = (impl warp::Reply,), Error = std::convert::Infallible>
         + Clone
         + Send
         + Sync
         + 'static
     ),
    body: &str,
) -> Resp {
    post_json(api, "/api/orders", body).await
}

#[tokio::test]
async fn orders_are_priced_with_the_shared_discount_rule() {
    let users = stub_users(Peer::Healthy).await;
    let (state, _db) = state(&users.url).await;
    let api = order_service::routes::routes(state);
    // The service is seeded with DISCOUNT_SEED=7: the same draws as shared-lib's rule.
    let mut rng = DiscountRng::seeded(7);
    for _ in 0..5 {
        let body = json!({"user_id": 1, "items": [
            {"sku": "BOOK", "quantity": 3, "unit_price_cents": 1999},
            {"sku": "PEN", "quantity": 1, "unit_price_cents": 250}
        ]});
        let resp = post(&api, &body.to_string()).await;
        assert_eq!(resp.status(), 201);
        let order: Order = serde_json::from_slice(resp.body()).unwrap();
        let expected = DiscountRule::STANDARD.price(Cents::new(6_247).unwrap(), 4, &mut rng);
        assert_eq!(order.subtotal_cents.get(), 6_247);
        assert_eq!(order.items[0].line_total_cents.get(), 5_997);
        assert_eq!(order.discount_percent, expected.percent);
        assert_eq!(order.volume_bonus_percent, 0, "4 units: no volume bonus");
        assert_eq!(order.discount_cents, expected.amount);
        assert_eq!(order.total_cents, expected.total);
    }
}

#[tokio::test]
async fn ten_units_or_more_earn_the_volume_bonus() {
    let users = stub_users(Peer::Healthy).await;
    let (state, _db) = state(&users.url).await;
    let api = order_service::routes::routes(state);
    let mut rng = DiscountRng::seeded(7);
    let body = json!({"user_id": 2, "items": [
        {"sku": "CUP", "quantity": 6, "unit_price_cents": 500},
        {"sku": "LID", "quantity": 4, "unit_price_cents": 100}
    ]});
    let resp = post(&api, &body.to_string()).await;
    assert_eq!(resp.status(), 201);
    let order: Order = serde_json::from_slice(resp.body()).unwrap();
    let expected = DiscountRule::STANDARD.price(Cents::new(3_400).unwrap(), 10, &mut rng);
    assert_eq!(order.volume_bonus_percent, 5);
    assert_eq!(order.discount_percent, expected.percent);
    assert!((5..=25).contains(&order.discount_percent));
    assert_eq!(order.discount_cents, expected.amount);
    assert_eq!(order.total_cents, expected.total);
}

/// Prices pinned to literal numbers, not recomputed with shared-lib's rule:
/// any change to how an order is priced (the draw, the volume threshold or
/// bonus, rounding) fails here, so the consumer check catches it before
/// a shared-lib release reaches this service.
#[tokio::test]
async fn prices_are_the_ones_this_service_promises() {
    let users = stub_users(Peer::Healthy).await;
    let (state, _db) = state(&users.url).await;
    let api = order_service::routes::routes(state);
    // (units of one line at 1999 cents, then: discount %, volume bonus %,
    // discount cents, total cents), with DISCOUNT_SEED=7.
    // 10 units at 5 % shows rounding half up: 999.5 cents -> 1000.
    let expected = [
        (9, (8, 0, 1_439, 16_552)),
        (10, (5, 5, 1_000, 18_990)),
        (11, (7, 5, 1_539, 20_450)),
        (1, (6, 0, 120, 1_879)),
    ];
    let mut seen = Vec::new();
    for (units, _) in expected {
        let body = json!({"user_id": 1, "items": [{"sku": "BOOK", "quantity": units, "unit_price_cents": 1999}]});
        let resp = post(&api, &body.to_string()).await;
        assert_eq!(resp.status(), 201);
        let o: Order = serde_json::from_slice(resp.body()).unwrap();
        seen.push((
            units,
            (
                o.discount_percent,
                o.volume_bonus_percent,
                o.discount_cents.get(),
                o.total_cents.get(),
            ),
        ));
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn orders_can_be_fetched_and_listed_by_user() {
    let users = stub_users(Peer::Healthy).await;
    let (state, _db) = state(&users.url).await;
    let api = order_service::routes::routes(state);
    for user in [1, 2, 1] {
        let body = json!({"user_id": user, "items": [{"sku": "A", "quantity": 1, "unit_price_cents": 100}]});
        assert_eq!(post(&api, &body.to_string()).await.status(), 201);
    }
    let resp = request().path("/api/orders/2").reply(&api).await;
    let order: Order = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!((order.id, order.user_id), (2, 2));
    let resp = request().path("/api/orders?user_id=1").reply(&api).await;
    let page: Page<Order> = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(page.items.iter().map(|o| o.id).collect::<Vec<_>>(), [1, 3]);
    // Each with its own line (read for this user's orders only).
    assert!(page.items.iter().all(|o| o.items.len() == 1), "{page:?}");
    let resp = request()
        .path("/api/orders?limit=1&offset=2")
        .reply(&api)
        .await;
    let page: Page<Order> = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!((page.total, page.items[0].id), (3, 3));
}

#[tokio::test]
async fn an_unknown_user_is_a_422() {
    let users = stub_users(Peer::Healthy).await;
    let (state, _db) = state(&users.url).await;
    let api = order_service::routes::routes(state);
    let resp = post(
        &api,
        r#"{"user_id":99,"items":[{"sku":"A","quantity":1,"unit_price_cents":1}]}"#,
    )
    .await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (422, "unknown_user")
    );
}

#[tokio::test]
async fn user_service_down_or_hanging_is_a_503_within_the_timeout() {
    let hanging = stub_users(Peer::Hanging).await;
    let dead = dead_url().await;
    for url in [dead.clone(), hanging.url.clone()] {
        let (state, _db) = state(&url).await;
        let api = order_service::routes::routes(state);
        let started = std::time::Instant::now();
        let resp = post(
            &api,
            r#"{"user_id":1,"items":[{"sku":"A","quantity":1,"unit_price_cents":1}]}"#,
        )
        .await;
        assert_eq!(
            (resp.status().as_u16(), error_code(&resp).as_str()),
            (503, "user_service_unavailable"),
            "{url}"
        );
        // Bounded by the configured 500 ms timeout (generous margin for a loaded machine).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{url}"
        );
    }
    // Readiness does not cascade: ready while nothing listens for
    // user-service, which its body reports as down.
    let (state, _db) = state(&dead).await;
    state.db.migrated().await.unwrap();
    let api = order_service::routes::routes(state);
    let ready = request().path("/ready").reply(&api).await;
    assert_eq!(ready.status(), 200);
    let body: shared_lib::wire::Readiness = serde_json::from_slice(ready.body()).unwrap();
    assert_eq!(body.dependencies.len(), 1);
    assert_eq!(body.dependencies[0].name, "user-service");
    assert!(!body.dependencies[0].up, "{body:?}");
}

#[tokio::test]
async fn bad_orders_are_4xx_with_the_shared_error_body() {
    let users = stub_users(Peer::Healthy).await;
    let (state, _db) = state(&users.url).await;
    let api = order_service::routes::routes(state);
    let item = |q: &str, p: &str| {
        format!(r#"{{"user_id":1,"items":[{{"sku":"A","quantity":{q},"unit_price_cents":{p}}}]}}"#)
    };
    let cases: Vec<(String, u16, &str)> = vec![
        ("{".into(), 400, "invalid_body"),
        ("null".into(), 400, "invalid_body"),
        (r#"{"user_id":1}"#.into(), 400, "invalid_body"),
        (r#"{"user_id":"1","items":[]}"#.into(), 400, "invalid_body"),
        (
            r#"{"user_id":1,"items":[],"coupon":"x"}"#.into(),
            400,
            "invalid_body",
        ),
        (
            r#"{"user_id":1,"items":[{"sku":"A","quantity":1,"unit_price_cents":1,"x":1}]}"#.into(),
            400,
            "invalid_body",
        ),
        (item("-1", "100"), 400, "invalid_body"),
        (item("1.5", "100"), 400, "invalid_body"),
        (item("1", "-100"), 400, "invalid_body"),
        (item("1", "99999999999999999999"), 400, "invalid_body"),
        (item("1", "9007199254740992"), 400, "invalid_body"),
        (item("4294967296", "1"), 400, "invalid_body"),
        (r#"{"user_id":-1,"items":[]}"#.into(), 400, "invalid_body"),
        (r#"{"user_id":1,"items":[]}"#.into(), 422, "invalid_items"),
        (
            r#"{"user_id":0,"items":[{"sku":"A","quantity":1,"unit_price_cents":1}]}"#.into(),
            422,
            "unknown_user",
        ),
        (item("0", "100"), 422, "invalid_quantity"),
        (item("1000001", "100"), 422, "invalid_quantity"),
        (item("1000000", "9007199254740991"), 422, "amount_overflow"),
        (
            r#"{"user_id":1,"items":[{"sku":"","quantity":1,"unit_price_cents":1}]}"#.into(),
            422,
            "invalid_sku",
        ),
        (
            format!(
                r#"{{"user_id":1,"items":[{{"sku":"{}","quantity":1,"unit_price_cents":1}}]}}"#,
                "S".repeat(65)
            ),
            422,
            "invalid_sku",
        ),
    ];
    for (body, status, expected) in &cases {
        let resp = post(&api, body).await;
        assert_eq!(resp.status().as_u16(), *status, "{body}");
        assert_eq!(error_code(&resp), *expected, "{body}");
    }
    // Two lines that each fit but whose sum overflows.
    let max = "9007199254740991";
    let body = format!(
        r#"{{"user_id":1,"items":[{{"sku":"A","quantity":1,"unit_price_cents":{max}}},{{"sku":"B","quantity":1,"unit_price_cents":1}}]}}"#
    );
    let resp = post(&api, &body).await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (422, "amount_overflow")
    );
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"sku": format!("S{i}"), "quantity": 1, "unit_price_cents": 1}))
        .collect();
    let resp = post(&api, &json!({"user_id": 1, "items": many}).to_string()).await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (422, "invalid_items")
    );
}

#[tokio::test]
async fn oversized_bodies_wrong_methods_bad_ids_and_queries_are_4xx() {
    let users = stub_users(Peer::Healthy).await;
    let (state, _db) = state(&users.url).await;
    let api = order_service::routes::routes(state);
    let big = json!({"user_id": 1, "items": [{"sku": "x".repeat(70_000), "quantity": 1, "unit_price_cents": 1}]});
    let resp = post(&api, &big.to_string()).await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (413, "payload_too_large")
    );
    let cases: &[(&str, &str, u16, &str)] = &[
        ("GET", "/api/orders/abc", 400, "invalid_id"),
        ("GET", "/api/orders/0", 400, "invalid_id"),
        ("GET", "/api/orders/5", 404, "order_not_found"),
        ("DELETE", "/api/orders", 405, "method_not_allowed"),
        ("PATCH", "/api/orders/1", 405, "method_not_allowed"),
        ("GET", "/api/order", 404, "not_found"),
        ("GET", "/api/orders?user_id=abc", 400, "invalid_query"),
        ("GET", "/api/orders?limit=1000", 400, "invalid_limit"),
        (
            "GET",
            "/api/orders?user_id=9223372036854775808",
            400,
            "invalid_query",
        ),
    ];
    for (method, path, status, expected) in cases {
        let resp = request().method(method).path(path).reply(&api).await;
        assert_eq!(resp.status().as_u16(), *status, "{method} {path}");
        assert_eq!(error_code(&resp), *expected, "{method} {path}");
    }
    // A 405 names what the path accepts.
    for (path, allow) in [("/api/orders", "GET, POST"), ("/api/orders/1", "GET")] {
        let resp = request().method("DELETE").path(path).reply(&api).await;
        assert_eq!(resp.headers()["allow"], allow, "DELETE {path}");
    }
    let resp = request().path("/openapi.json").reply(&api).await;
    let doc: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(doc["info"]["title"], "order-service");
    assert!(doc["paths"]["/api/orders"]["post"]["responses"]["422"].is_object());
    let resp = request()
        .method("POST")
        .path("/api/orders")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user_id=1")
        .reply(&api)
        .await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (415, "unsupported_media_type")
    );
}

#[tokio::test]
async fn root_names_the_service_and_its_shared_lib() {
    let (state, _db) = state(&dead_url().await).await;
    let api = order_service::routes::routes(state);
    let info: ServiceInfo =
        serde_json::from_slice(request().path("/").reply(&api).await.body()).unwrap();
    assert_eq!(
        (info.service.as_str(), info.shared_lib_version.as_str()),
        ("order-service", shared_lib::VERSION)
    );
    assert_eq!(request().path("/health").reply(&api).await.status(), 200);
}

#[tokio::test]
async fn a_database_that_does_not_answer_is_a_503_not_500() {
    // The user check passes; the write cannot reach the database (nothing
    // listens on port 1) within the acquire timeout.
    let users = stub_users(Peer::Healthy).await;
    let config = order_service::Config::from_lookup(&|k| match k {
        "USER_SERVICE_URL" => Some(users.url.clone()),
        "DATABASE_URL" => Some("postgres://u:p@127.0.0.1:1/orders".into()),
        "DATABASE_ACQUIRE_TIMEOUT_MS" => Some("200".into()),
        _ => None,
    })
    .unwrap();
    let api = order_service::routes::routes(order_service::AppState::new(&config).unwrap());
    let resp = post(
        &api,
        r#"{"user_id":1,"items":[{"sku":"A","quantity":1,"unit_price_cents":1}]}"#,
    )
    .await;
    assert_eq!(
        (resp.status().as_u16(), error_code(&resp).as_str()),
        (503, "database_unavailable")
    );
    for path in ["/api/orders/1", "/api/orders", "/ready"] {
        let resp = request().path(path).reply(&api).await;
        assert_eq!(resp.status(), 503, "{path}");
    }
}
