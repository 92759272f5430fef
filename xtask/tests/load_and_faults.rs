//! Load and faults on the real service binaries over loopback: concurrent
//! traffic with no errors, user-service crashing under load, SIGTERM with
//! requests in flight, and a registry that does not answer. Every loop is
//! bounded in count and time.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{
    client, create_user, get_json, order_body, restartable_port, start, start_pair, start_waiting,
};
use nix::sys::signal::Signal;
use serde_json::Value;
use xtask::ops::procs::{free_port, wait_until};

#[test]
fn concurrent_load_on_both_services_gives_no_error_and_every_order_reads_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (users, orders) = start_pair(tmp.path(), free_port().unwrap(), &[]);
    let http = client();
    const THREADS: u64 = 8;
    const ROUNDS: u64 = 40;
    let ids: Vec<u64> = (0..THREADS)
        .map(|t| create_user(&http, &users.url, &format!("load{t}@example.com")))
        .collect();

    let handles: Vec<_> = ids
        .iter()
        .map(|&user_id| {
            let (http, users, orders) = (http.clone(), users.url.clone(), orders.url.clone());
            std::thread::spawn(move || {
                let mut created = Vec::new();
                for _ in 0..ROUNDS {
                    let resp = http
                        .post(format!("{orders}/api/orders"))
                        .json(&order_body(user_id))
                        .send()
                        .unwrap();
                    assert_eq!(resp.status(), 201);
                    let order: Value = resp.json().unwrap();
                    let resp = http
                        .get(format!("{users}/api/users/{user_id}"))
                        .send()
                        .unwrap();
                    assert_eq!(resp.status(), 200);
                    let resp = http
                        .get(format!("{orders}/api/orders/{}", order["id"]))
                        .send()
                        .unwrap();
                    assert_eq!(resp.status(), 200);
                    created.push(order);
                }
                created
            })
        })
        .collect();
    let created: Vec<Value> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("a load thread failed"))
        .collect();
    assert_eq!(created.len() as u64, THREADS * ROUNDS);
    let mut seen: Vec<u64> = created.iter().map(|o| o["id"].as_u64().unwrap()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len() as u64, THREADS * ROUNDS, "order ids are unique");
    for order in &created {
        let back: Value = get_json(&http, format!("{}/api/orders/{}", orders.url, order["id"]));
        assert_eq!(&back, order);
    }
    let page: Value = get_json(&http, format!("{}/api/orders?limit=1", orders.url));
    assert_eq!(page["total"].as_u64(), Some(THREADS * ROUNDS));
}

#[test]
fn order_service_answers_503_while_user_service_is_down_and_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let user_port = restartable_port();
    // Every order asks user-service here (no memory of confirmed users):
    // this test is about what the hop does when its peer dies.
    let (users, orders) = start_pair(
        tmp.path(),
        user_port,
        &[
            ("USER_SERVICE_TIMEOUT_MS", "1000".into()),
            ("USER_CACHE_TTL_MS", "0".into()),
        ],
    );
    let http = client();
    let user_id = create_user(&http, &users.url, "crash@example.com");

    let stop = Arc::new(AtomicBool::new(false));
    let (created, unavailable) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (http, url) = (http.clone(), orders.url.clone());
            let (stop, created, unavailable) = (stop.clone(), created.clone(), unavailable.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let started = Instant::now();
                    let resp = http
                        .post(format!("{url}/api/orders"))
                        .json(&order_body(user_id))
                        .send()
                        .expect("order-service answers");
                    // Bounded by the 1 s timeout to user-service, never a hang.
                    assert!(started.elapsed() < Duration::from_secs(5));
                    match resp.status().as_u16() {
                        201 => created.fetch_add(1, Ordering::Relaxed),
                        503 => {
                            let body: Value = resp.json().unwrap();
                            assert_eq!(body["code"], "user_service_unavailable");
                            unavailable.fetch_add(1, Ordering::Relaxed)
                        }
                        other => panic!("unexpected status {other}"),
                    };
                }
            })
        })
        .collect();

    assert!(
        wait_until(Duration::from_secs(20), || created.load(Ordering::Relaxed)
            >= 20),
        "orders flow"
    );
    users.signal(Signal::SIGKILL);
    drop(users);
    assert!(
        wait_until(Duration::from_secs(20), || unavailable
            .load(Ordering::Relaxed)
            >= 5),
        "503s while down"
    );
    // Still ready: its readiness is its own database's, not user-service's.
    assert_eq!(
        http.get(format!("{}/ready", orders.url))
            .send()
            .unwrap()
            .status(),
        200
    );

    // user-service is back on the same port with its data: the user it
    // acknowledged before SIGKILL is still there, so orders never see 422.
    let users = start("user-service", user_port, &[], tmp.path());
    assert_eq!(
        http.get(format!("{}/api/users/{user_id}", users.url))
            .send()
            .unwrap()
            .status(),
        200
    );
    let before = created.load(Ordering::Relaxed);
    assert!(
        wait_until(Duration::from_secs(20), || created.load(Ordering::Relaxed)
            >= before + 20),
        "orders flow again"
    );
    assert_eq!(
        http.get(format!("{}/ready", orders.url))
            .send()
            .unwrap()
            .status(),
        200
    );
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join()
            .expect("a worker saw something other than 201 or 503");
    }
}

#[test]
fn sigterm_with_requests_in_flight_answers_them_and_exits_zero() {
    let tmp = tempfile::tempdir().unwrap();
    // A peer that accepts connections and never answers keeps order
    // requests in flight until order-service's own timeout answers them.
    let black_hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let hole_url = format!("http://{}", black_hole.local_addr().unwrap());
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in black_hole.incoming().take(64) {
            held.push(conn);
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    // Its /ready would ask the black hole: wait for /health instead.
    let orders = start_waiting(
        "order-service",
        free_port().unwrap(),
        &[
            ("USER_SERVICE_URL", hole_url),
            ("USER_SERVICE_TIMEOUT_MS", "1500".into()),
        ],
        tmp.path(),
        "/health",
    );
    let http = client();
    let in_flight: Vec<_> = (0..4)
        .map(|_| {
            let (http, url) = (http.clone(), orders.url.clone());
            std::thread::spawn(move || {
                http.post(format!("{url}/api/orders"))
                    .json(&order_body(1))
                    .send()
            })
        })
        .collect();
    assert!(
        wait_until(Duration::from_secs(10), || accepted.load(Ordering::Relaxed)
            >= 4),
        "4 requests in flight"
    );
    let addr = orders.url.trim_start_matches("http://").to_string();
    let status = orders.terminate();
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");
    for request in in_flight {
        let resp = request
            .join()
            .unwrap()
            .expect("the in-flight request was answered, not dropped");
        assert_eq!(resp.status(), 503);
    }
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "no new connections after shutdown"
    );
}

#[test]
fn a_registry_that_does_not_answer_is_named_clearly() {
    let layout = xtask::paths::Layout::detect();
    let dead = format!(
        "sparse+http://127.0.0.1:{}/api/v1/crates/",
        free_port().unwrap()
    );
    let ws = cargo_fleet::Workspace::open(layout.root.clone(), Some("any".into()))
        .unwrap()
        .with_registry_index(dead);
    let shared = ws.manifest.shared(None).unwrap();
    let err = cargo_fleet::pins::status(&ws, shared).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("does not answer") && text.contains("`cargo xtask up`"),
        "{text}"
    );
    assert_eq!(
        cargo_fleet::error::Kind::of(&err),
        cargo_fleet::error::Kind::Failure
    );
    let err = cargo_fleet::commands::bump::bump(&ws, "order-service", None, None).unwrap_err();
    assert!(format!("{err:#}").contains("does not answer"), "{err:#}");
}
