//! The fleet as containers on a real engine: `cargo xtask test` runs these
//! (they are `#[ignore]`d for a plain `cargo test`) once the engine answers
//! and the base images exist, with port 8000 free for the registry
//! container.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use std::time::{Duration, Instant};

mod common;

use serde_json::{Value, json};
use xtask::commands::{Runtime, down, up};
use xtask::fleet::DataBackend;
use xtask::fleet::container_registry;
use xtask::history::SHARED_LIB;
use xtask::ops::docker;
use xtask::ops::procs::wait_until;
use xtask::paths::Layout;

/// `docker compose <args>` as the CLI runs it (the registry's secrets
/// exported).
fn compose(args: &[&str]) -> std::process::Output {
    compose_cmd().args(args).output().unwrap()
}

/// `docker compose <args>` as a user types it: nothing exported, so the
/// compose file's variables come from `.env` alone.
fn plain_compose(args: &[&str]) -> std::process::Output {
    compose_cmd()
        .env_remove("KELLNR_ADMIN_TOKEN")
        .env_remove("KELLNR_ADMIN_PWD")
        .args(args)
        .output()
        .unwrap()
}

fn compose_cmd() -> std::process::Command {
    let layout = Layout::detect();
    let engine = docker::engine().unwrap();
    engine
        .compose(&layout, &container_registry(&layout))
        .unwrap()
}

/// Whether `url` answers 200 within a minute.
fn ready_within_a_minute(http: &reqwest::blocking::Client, url: &str) -> bool {
    wait_until(Duration::from_secs(60), || {
        http.get(url).send().is_ok_and(|r| r.status() == 200)
    })
}

fn logs(service: &str) -> String {
    let out = compose(&["logs", "--no-color", service]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs a Docker engine; `cargo xtask test` runs it"]
fn the_fleet_runs_as_containers_and_survives_a_stopped_service_and_a_restart() {
    let layout = Layout::detect();
    let fleet = layout.fleet().unwrap();
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let t = Instant::now();
    up::run(&layout, Runtime::Docker, DataBackend::Sqlite).unwrap();
    println!("up --docker: {:.0}s", t.elapsed().as_secs_f64());
    let engine = docker::engine().unwrap();
    for s in &fleet.services {
        let image = format!("shared-fleet/{}:local", s.name);
        let size = engine.image_size(&image).unwrap();
        println!("image {image}: {:.1} MB", size as f64 / 1e6);
    }

    // A user, then orders through both containers with one request id.
    let users = "http://127.0.0.1:8081";
    let orders = "http://127.0.0.1:8082";
    let created = http
        .post(format!("{users}/api/users"))
        .json(&json!({"name": "Ada", "email": format!("ada-{}@example.com", std::process::id())}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    let user: Value = created.json().unwrap();
    let order = json!({"user_id": user["id"], "items": [{"sku": "BOOK", "quantity": 10, "unit_price_cents": 1999}]});
    let placed = http
        .post(format!("{orders}/api/orders"))
        .header("x-request-id", "container-flow-1")
        .json(&order)
        .send()
        .unwrap();
    assert_eq!(placed.status(), 201);
    assert_eq!(placed.headers()["x-request-id"], "container-flow-1");
    let placed: Value = placed.json().unwrap();
    assert_eq!(placed["volume_bonus_percent"], 5);
    let fetched: Value = http
        .get(format!("{orders}/api/orders/{}", placed["id"]))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(fetched, placed);
    assert!(
        wait_until(Duration::from_secs(10), || logs("user-service")
            .contains("container-flow-1")
            && logs("order-service").contains("container-flow-1")),
        "the request id is in both containers' logs"
    );
    // Each image says what it contains: its binary's embedded dependency
    // list (cargo auditable) names the shared-lib its lockfile pins, and its
    // SBOM names shared-lib with the registry's URL in the package URL.
    let carried = xtask::fleet::images::carried(&engine, &fleet.names(), SHARED_LIB).unwrap();
    for s in &fleet.services {
        let pin = xtask::history::pin(&layout.project(&s.name)).unwrap();
        let local = format!("shared-fleet/{}:local", s.name);
        let image = carried
            .iter()
            .find(|c| c.tags.contains(&local))
            .unwrap_or_else(|| panic!("{local} in {carried:?}"));
        assert!(image.auditable, "{local}: no embedded dependency list");
        assert_eq!(image.version.as_ref(), Some(&pin.version), "{local}");
        assert!(!image.containers.is_empty(), "{local} runs: {image:?}");
        let out = engine
            .docker()
            .args(["run", "--rm", "--entrypoint", "cat", &local])
            .arg(format!("/usr/share/sbom/{}.cdx.json", s.name))
            .output()
            .unwrap();
        assert!(out.status.success(), "{local}: {out:?}");
        let sbom: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(sbom["bomFormat"], "CycloneDX", "{local}");
        let purl = format!(
            "pkg:cargo/{SHARED_LIB}@{}?repository_url=http://127.0.0.1:8000/api/v1/crates/",
            pin.version
        );
        assert!(
            sbom["components"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["purl"] == purl.as_str()),
            "{local}: no component {purl}"
        );
    }

    // Each runs the shared-lib its lockfile pins.
    for s in &fleet.services {
        let info: Value = http
            .get(format!("http://127.0.0.1:{}/", s.port))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let pin = xtask::history::pin(&layout.project(&s.name)).unwrap();
        assert_eq!(
            info["shared_lib_version"],
            pin.version.to_string(),
            "{}",
            s.name
        );
    }

    // user-service stopped: order-service answers 503 for a user it has
    // not confirmed lately (it remembers Ada) and stays ready, then recovers.
    let out = compose(&["stop", "user-service"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unchecked = user["id"].as_u64().unwrap() + 1;
    common::assert_orders_degrade_without_user_service(&http, orders, unchecked);
    let out = compose(&["start", "user-service"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        ready_within_a_minute(&http, &format!("{orders}/ready")),
        "order-service ready with user-service back"
    );
    // The restarted user-service kept its users (a named volume).
    assert_eq!(
        http.get(format!("{users}/api/users/{}", user["id"]))
            .send()
            .unwrap()
            .status(),
        200
    );
    let again = http
        .post(format!("{users}/api/users"))
        .json(
            &json!({"name": "Grace", "email": format!("grace-{}@example.com", std::process::id())}),
        )
        .send()
        .unwrap();
    assert_eq!(again.status(), 201);
    let grace: Value = again.json().unwrap();
    let order = json!({"user_id": grace["id"], "items": [{"sku": "PEN", "quantity": 1, "unit_price_cents": 100}]});
    let recovered = http
        .post(format!("{orders}/api/orders"))
        .json(&order)
        .send()
        .unwrap();
    assert_eq!(recovered.status(), 201);

    // down, then up again: the registry volume kept every version, the
    // services' volumes every user and order.
    let registry = container_registry(&layout);
    let before = xtask::index::published(&registry.client(), SHARED_LIB).unwrap();
    down::run(&layout, Runtime::Docker, false, false).unwrap();
    assert!(
        http.get(format!("{users}/health")).send().is_err(),
        "down stopped the containers"
    );
    // Plain `docker compose up -d`, nothing exported: `.env` is enough.
    let out = plain_compose(&["up", "-d"]);
    assert!(
        out.status.success(),
        "plain compose up: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        ready_within_a_minute(&http, &format!("{orders}/ready")),
        "the fleet is ready after a plain `docker compose up -d`"
    );
    let t = Instant::now();
    up::run(&layout, Runtime::Docker, DataBackend::Sqlite).unwrap();
    println!("up --docker again: {:.0}s", t.elapsed().as_secs_f64());
    assert_eq!(
        xtask::index::published(&registry.client(), SHARED_LIB).unwrap(),
        before
    );
    let anonymous = http
        .get(format!("{}/api/v1/crates/config.json", registry.base_url()))
        .send()
        .unwrap();
    assert_eq!(anonymous.status(), 401, "private in containers too");
    let kept: Value = http
        .get(format!("{users}/api/users/{}", user["id"]))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(kept, user, "the user survived down and up");
    let kept: Value = http
        .get(format!("{orders}/api/orders/{}", placed["id"]))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(kept, placed, "the order and its lines survived down and up");

    // down --wipe deletes the services' data volumes, and only those.
    down::run(&layout, Runtime::Docker, true, false).unwrap();
    for s in &fleet.services {
        let volume = docker::data_volume(&layout, &s.name);
        assert!(
            !engine.remove_volume(&volume).unwrap(),
            "{volume} is gone after --wipe"
        );
    }
    let kellnr = docker::volume_name(&layout, "kellnr-data");
    let inspect = engine
        .docker()
        .args(["volume", "inspect", &kellnr])
        .output()
        .unwrap();
    assert!(inspect.status.success(), "the registry volume stays");
}
