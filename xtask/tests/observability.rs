//! Watching the fleet run, with the real binaries and a real Prometheus:
//! the metrics of a known sequence of requests, one trace id across both
//! services' logs, Prometheus' query API answering rates, error ratios and
//! every instance's `build_info`, `status`'s running versions read from it,
//! and readiness that does not cascade when user-service stops.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use std::time::Duration;

use common::{client, create_user, order_body, start_pair};
use serde_json::Value;
use xtask::ops::procs::{free_port, spawn_ready, wait_until};
use xtask::ops::prometheus::{self, Job, Targets};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// The value of the series `prefix` (its whole name and labels) in a
/// `/metrics` text, if it is there.
fn value(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.trim().parse().ok())
}

/// The JSON access lines of a service log, once `pred` holds for one of
/// them (the access thread writes within about 10 ms).
fn access_line(log: impl Fn() -> String, pred: impl Fn(&Value) -> bool) -> Value {
    let mut found = None;
    let appeared = wait_until(Duration::from_secs(10), || {
        found = log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["target"] == "shared_lib::access" && pred(l));
        found.is_some()
    });
    assert!(appeared, "no such access line in:\n{}", log());
    found.unwrap()
}

/// The `/metrics` text of the service at `url`.
fn metrics_of(url: &str) -> String {
    client()
        .get(format!("{url}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap()
}

#[test]
fn metrics_traces_prometheus_and_readiness_with_the_real_binaries() {
    let tmp = tempfile::tempdir().unwrap();
    let http = client();
    let (users, orders) = start_pair(tmp.path(), free_port().unwrap(), &[]);

    // A known sequence on user-service, before order-service calls it.
    let id = create_user(&http, &users.url, "ada@example.com");
    for (method, path, expected) in [
        ("GET", format!("/api/users/{id}"), 200),
        ("GET", "/api/users/999999".to_string(), 404),
        ("GET", "/api/users/abc".to_string(), 400),
        ("DELETE", format!("/api/users/{id}"), 405),
        ("GET", "/no/such/path/7".to_string(), 404),
    ] {
        let resp = http
            .request(method.parse().unwrap(), format!("{}{path}", users.url))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), expected, "{method} {path}");
    }
    let resp = http.get(format!("{}/metrics", users.url)).send().unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = resp.text().unwrap();
    let series = |route: &str, method: &str, class: &str| {
        value(
            &text,
            &format!(
                r#"http_requests_total{{service="user-service",route="{route}",method="{method}",status="{class}"}}"#
            ),
        )
    };
    assert_eq!(series("/api/users", "POST", "2xx"), Some(1.0), "{text}");
    assert_eq!(series("/api/users/{id}", "GET", "2xx"), Some(1.0));
    assert_eq!(series("/api/users/{id}", "GET", "4xx"), Some(2.0));
    assert_eq!(series("/api/users/{id}", "DELETE", "4xx"), Some(1.0));
    assert_eq!(series("unmatched", "GET", "4xx"), Some(1.0));
    assert_eq!(series("/api/users/{id}", "GET", "5xx"), None);
    assert!(
        !text.contains("route=\"/api/users/999999") && !text.contains("route=\"/no/"),
        "no raw path is a label: {text}"
    );
    let info: Value = http.get(&users.url).send().unwrap().json().unwrap();
    assert!(text.contains(&format!(
        r#"build_info{{service="user-service",version="{}",shared_lib_version="{}"}} 1"#,
        info["version"].as_str().unwrap(),
        info["shared_lib_version"].as_str().unwrap()
    )));
    assert!(text.contains(r#"db_pool_max_connections{service="user-service",pool="read"}"#));

    // One trace across both services: the caller's traceparent in
    // order-service's access line and, passed on, in user-service's.
    let resp = http
        .post(format!("{}/api/orders", orders.url))
        .header("traceparent", format!("00-{TRACE}-00f067aa0ba902b7-01"))
        .header("x-request-id", "trace-me-1")
        .json(&order_body(id))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
    let order_line = access_line(
        || orders.log(),
        |l| l["fields"]["request_id"] == "trace-me-1",
    );
    assert_eq!(order_line["fields"]["trace_id"], TRACE, "{order_line}");
    let user_line = access_line(
        || users.log(),
        |l| l["fields"]["request_id"] == "trace-me-1",
    );
    assert_eq!(user_line["fields"]["trace_id"], TRACE, "{user_line}");
    assert_eq!(user_line["fields"]["path"], format!("/api/users/{id}"));
    let order_metrics = metrics_of(&orders.url);
    assert_eq!(
        value(
            &order_metrics,
            r#"upstream_requests_total{service="order-service",callee="user-service",outcome="ok"}"#
        ),
        Some(1.0),
        "{order_metrics}"
    );

    // A real Prometheus scraping both: rates, the error ratio and every
    // instance's build_info through its query API.
    let program = prometheus::ensure_installed().unwrap();
    let port = free_port().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let target = |url: &str| url.trim_start_matches("http://").to_string();
    let jobs = [
        Job {
            name: "user-service".into(),
            targets: Targets::Static(vec![target(&users.url)]),
        },
        Job {
            name: "order-service".into(),
            targets: Targets::Static(vec![target(&orders.url)]),
        },
    ];
    let config = tmp.path().join("prometheus.yml");
    std::fs::write(&config, prometheus::config("", &jobs)).unwrap();
    let mut server = spawn_ready(
        prometheus::command(&program, &config, &tmp.path().join("tsdb"), port),
        &tmp.path().join("prometheus.log"),
        &prometheus::ready_url(&base),
        Duration::from_secs(60),
    )
    .unwrap();
    let per_service = |promql: &str| -> std::collections::BTreeMap<String, f64> {
        prometheus::query(&base, promql)
            .unwrap()
            .into_iter()
            .filter_map(|s| Some((s.labels.get("service")?.clone(), s.value)))
            .collect()
    };
    let rates = "sum by (service) (rate(http_requests_total[1m]))";
    let mut seen = Default::default();
    let both_served = wait_until(Duration::from_secs(60), || {
        // Traffic between scrapes, so the rate has something to measure.
        for _ in 0..20 {
            http.get(format!("{}/api/users/{id}", users.url))
                .send()
                .unwrap();
            http.get(format!("{}/api/orders?user_id={id}", orders.url))
                .send()
                .unwrap();
            // One in two of user-service's answers a 404: its error ratio.
            http.get(format!("{}/api/users/999999", users.url))
                .send()
                .unwrap();
        }
        seen = per_service(rates);
        seen.len() == 2 && seen.values().all(|&r| r > 0.0)
    });
    assert!(both_served, "{rates} gave {seen:?}");
    let ratio = per_service(
        "sum by (service) (rate(http_requests_total{status=~\"4xx|5xx\"}[1m])) / sum by (service) (rate(http_requests_total[1m]))",
    );
    let user_errors = ratio["user-service"];
    assert!(user_errors > 0.2 && user_errors < 0.8, "{ratio:?}");
    let builds = prometheus::query(&base, "build_info").unwrap();
    assert_eq!(builds.len(), 2, "{builds:?}");
    for b in &builds {
        assert_eq!(
            b.labels["shared_lib_version"],
            info["shared_lib_version"].as_str().unwrap(),
            "{b:?}"
        );
    }
    // `status`'s running view reads the same.
    let fleet = xtask::manifest::Fleet::parse(&format!(
        "[[service]]\nname = \"user-service\"\nport = {}\nready = \"/ready\"\n\n\
         [[service]]\nname = \"order-service\"\nport = {}\nready = \"/ready\"\n",
        users.url.rsplit(':').next().unwrap(),
        orders.url.rsplit(':').next().unwrap(),
    ))
    .unwrap();
    let (running, source) = xtask::running::instances(&fleet, &base);
    assert_eq!(source, xtask::running::Source::Prometheus(base.clone()));
    assert_eq!(running["user-service"][0].instance, target(&users.url));
    assert_eq!(
        running["order-service"][0].shared_lib_version,
        info["shared_lib_version"].as_str().unwrap()
    );
    let _ = server.kill();
    let _ = server.wait();

    // user-service stopped: order-service stays ready (its body says
    // user-service is down) and keeps answering reads.
    drop(users);
    common::assert_orders_degrade_without_user_service(&http, &orders.url, id + 1000);
    let list = http
        .get(format!("{}/api/orders?user_id={id}", orders.url))
        .send()
        .unwrap();
    assert_eq!(list.status(), 200);
    let order_metrics = metrics_of(&orders.url);
    assert!(
        order_metrics.contains(r#"upstream_up{service="order-service",callee="user-service"} 0"#),
        "{order_metrics}"
    );
}
