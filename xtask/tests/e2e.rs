//! End to end: the real service binaries on loopback, and real `cargo
//! publish` into a real, throwaway Kellnr.
//!
//! `cargo xtask test` builds the service binaries and points
//! `FLEET_BIN_DIR` at them; Kellnr must be installed (the same command
//! installs it).

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use common::{client, get_json, order_body, restartable_port, start, start_pair};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use xtask::history::{self, SHARED_LIB, Verify};
use xtask::ops::procs::{free_port, wait_until};
use xtask::ops::registry::Kellnr;
use xtask::ops::tools::KELLNR;
use xtask::paths::Layout;

/// shared-lib's rule, restated: a drawn 0..=20 %, plus (from shared-lib
/// 0.2 on) 5 points for 10 units or more, amount rounded half up.
fn assert_priced_by_the_rule(order: &Value, volume_bonus: u64) {
    let subtotal = order["subtotal_cents"].as_u64().unwrap();
    let percent = order["discount_percent"].as_u64().unwrap();
    let discount = order["discount_cents"].as_u64().unwrap();
    assert_eq!(subtotal, 3 * 1999 + 7 * 135);
    assert_eq!(
        order["volume_bonus_percent"].as_u64().unwrap_or(0),
        volume_bonus,
        "{order}"
    );
    assert!(
        (volume_bonus..=20 + volume_bonus).contains(&percent),
        "{order}"
    );
    assert_eq!(discount, (subtotal * percent + 50) / 100, "{order}");
    assert_eq!(order["total_cents"].as_u64().unwrap(), subtotal - discount);
}

#[test]
fn a_user_and_orders_flow_through_both_real_services() {
    let tmp = tempfile::tempdir().unwrap();
    let user_port = restartable_port();
    let (users, orders) = start_pair(
        tmp.path(),
        user_port,
        &[("USER_SERVICE_TIMEOUT_MS", "1000".into())],
    );
    let http = client();

    // Each binary runs the shared-lib its own Cargo.lock pins: when the pins
    // differ (user-service 0.1.x, order-service 0.2.x), everything below
    // crosses two shared-lib versions on the wire.
    let layout = Layout::detect();
    let mut runs = std::collections::BTreeMap::new();
    for (name, service) in [("user-service", &users), ("order-service", &orders)] {
        let info: Value = get_json(&http, format!("{}/", service.url));
        let running = semver::Version::parse(info["shared_lib_version"].as_str().unwrap()).unwrap();
        assert_eq!(
            running,
            history::pin(&layout.project(name)).unwrap().version,
            "{name}: {info}"
        );
        runs.insert(name, running);
    }
    let volume_bonus = if runs["order-service"] >= semver::Version::new(0, 2, 0) {
        5
    } else {
        0
    };
    assert_eq!(
        http.get(format!("{}/ready", orders.url))
            .send()
            .unwrap()
            .status(),
        200
    );

    // One user per order: order-service remembers confirmed users, so only
    // a user's first order crosses to user-service.
    let mut created = Vec::new();
    let mut user_ids = Vec::new();
    for n in 0..3 {
        let resp = http
            .post(format!("{}/api/users", users.url))
            .json(&json!({"name": format!("Ada {n}"), "email": format!("ada{n}@example.com")}))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 201);
        let user: Value = resp.json().unwrap();
        let user_id = user["id"].as_u64().unwrap();
        user_ids.push(user_id);
        let request_id = format!("e2e-order-{n}-{}", std::process::id());
        let resp = http
            .post(format!("{}/api/orders", orders.url))
            .header("x-request-id", &request_id)
            .json(&order_body(user_id))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 201);
        assert_eq!(resp.headers()["x-request-id"], request_id.as_str());
        let order: Value = resp.json().unwrap();
        assert_priced_by_the_rule(&order, volume_bonus);
        // The id crossed into user-service: its access log for the user
        // lookup carries the same request id. Access logs are written by a
        // background thread (shared-lib 0.2.2), so the line may land just
        // after the answer: wait for it, bounded.
        let logged = || {
            users
                .log()
                .lines()
                .any(|l| l.contains(&request_id) && l.contains("/api/users/"))
        };
        assert!(
            wait_until(Duration::from_secs(5), logged),
            "user-service never logged {request_id}:\n{}",
            users.log()
        );
        created.push(order);
    }
    let user_id = user_ids[0];
    let resp = http
        .post(format!("{}/api/orders", orders.url))
        .json(&order_body(user_id))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201, "a second order of the same user");
    created.push(resp.json().unwrap());
    for order in &created {
        let fetched: Value = get_json(&http, format!("{}/api/orders/{}", orders.url, order["id"]));
        assert_eq!(&fetched, order);
    }
    let page: Value = get_json(
        &http,
        format!("{}/api/orders?user_id={user_id}", orders.url),
    );
    assert_eq!(page["total"], 2);

    let resp = http
        .post(format!("{}/api/orders", orders.url))
        .json(&order_body(999))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert_eq!(resp.json::<Value>().unwrap()["code"], "unknown_user");

    // user-service stops: it exits 0 on SIGTERM. An order of a user
    // order-service confirmed lately still goes through; one it cannot check
    // gets 503 within its timeout; order-service stays ready (readiness
    // does not cascade) and keeps answering what needs no user-service.
    assert_eq!(users.terminate().code(), Some(0));
    let resp = http
        .post(format!("{}/api/orders", orders.url))
        .json(&order_body(user_ids[1]))
        .send()
        .unwrap();
    assert_eq!(
        resp.status(),
        201,
        "user {} was confirmed lately",
        user_ids[1]
    );
    let unchecked = user_ids.iter().max().unwrap() + 1;
    common::assert_orders_degrade_without_user_service(&http, &orders.url, unchecked);
    assert_eq!(
        http.get(format!("{}/api/orders/{}", orders.url, created[0]["id"]))
            .send()
            .unwrap()
            .status(),
        200,
        "reads need no user-service"
    );

    // user-service comes back with its data (its SQLite file in tmp):
    // order-service recovers, and every user is still there.
    let users = start("user-service", user_port, &[], tmp.path());
    for id in &user_ids {
        assert_eq!(
            http.get(format!("{}/api/users/{id}", users.url))
                .send()
                .unwrap()
                .status(),
            200,
            "user {id} after the restart"
        );
    }
    assert_eq!(
        http.get(format!("{}/ready", orders.url))
            .send()
            .unwrap()
            .status(),
        200
    );
    let user: Value = http
        .post(format!("{}/api/users", users.url))
        .json(&json!({"name": "Bob", "email": "bob@example.com"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let resp = http
        .post(format!("{}/api/orders", orders.url))
        .json(&order_body(user["id"].as_u64().unwrap()))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);

    assert_eq!(orders.terminate().code(), Some(0));
    assert_eq!(users.terminate().code(), Some(0));
}

/// A Kellnr in a temporary directory on a free port.
fn throwaway_registry(dir: &Path) -> Kellnr {
    Kellnr {
        port: free_port().unwrap(),
        data_dir: dir.join("data"),
        config: Layout::detect().kellnr_config(),
        log: dir.join("kellnr.log"),
    }
}

/// cargo's words for a registry that refused the token.
fn assert_refused(stderr: &str) {
    let lower = stderr.to_lowercase();
    assert!(
        stderr.contains("401")
            || stderr.contains("403")
            || lower.contains("unauthorized")
            || lower.contains("forbidden")
            || lower.contains("not allowed")
            || lower.contains("read-only")
            || lower.contains("read only"),
        "{stderr}"
    );
}

fn stop(mut child: Child) {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    child.wait().unwrap();
}

/// `cargo publish` of a minimal crate `name@version` to `registry` with `token`.
fn publish_scratch_crate(
    registry: &Kellnr,
    dir: &Path,
    name: &str,
    token: &str,
) -> std::process::Output {
    let krate = dir.join(name);
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        format!("[package]\nname = \"{name}\"\nversion = \"0.0.1\"\nedition = \"2024\"\ndescription = \"scratch\"\nlicense = \"MIT\"\n"),
    )
    .unwrap();
    std::fs::write(krate.join("src/lib.rs"), "//! scratch\n").unwrap();
    Command::new("cargo")
        .args([
            "publish",
            "--registry",
            "local",
            "--allow-dirty",
            "--no-verify",
            "--token",
            token,
        ])
        .current_dir(&krate)
        .env("CARGO_REGISTRIES_LOCAL_INDEX", registry.index_url())
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .unwrap()
}

#[test]
fn shared_lib_republished_from_history_matches_every_lockfile_and_the_registry_holds() {
    let kellnr_bin = KELLNR.path();
    assert!(
        kellnr_bin.is_file(),
        "Kellnr is not installed: `cargo xtask test` installs it"
    );
    let layout = Layout::detect();
    let tmp = tempfile::tempdir().unwrap();
    let registry = throwaway_registry(tmp.path());
    let child = registry.start(&kellnr_bin).unwrap();
    let token = std::fs::read_to_string(registry.token_file())
        .unwrap()
        .trim()
        .to_string();

    // Every version a service pins, rebuilt from its commit with real
    // `cargo publish`, has exactly the checksum the lockfiles recorded.
    let pins = history::pins(&layout, &["user-service", "order-service"]).unwrap();
    let releases = history::releases(&layout.root).unwrap();
    for pin in pins.values() {
        let release = releases.iter().find(|r| r.version == pin.version).unwrap();
        if !xtask::index::published(&registry.client(), SHARED_LIB)
            .unwrap()
            .iter()
            .any(|p| p.version == pin.version)
        {
            history::publish_release(&layout, &registry, release, Verify::Skip).unwrap();
        }
    }
    let published = xtask::index::published(&registry.client(), SHARED_LIB).unwrap();
    for (service, pin) in &pins {
        let entry = published.iter().find(|p| p.version == pin.version).unwrap();
        assert_eq!(Some(&entry.checksum), pin.checksum.as_ref(), "{service}");
    }

    // Reads are private: without a token, config.json, an index entry, a
    // download and the docs are all 401.
    let version = &published[0].version;
    let base = registry.base_url();
    let release = releases.iter().find(|r| &r.version == version).unwrap();
    history::publish_docs(&layout, &registry, release).unwrap();
    let urls = [
        format!("{base}/api/v1/crates/config.json"),
        format!(
            "{base}/api/v1/crates/{}",
            xtask::index::index_path(SHARED_LIB)
        ),
        format!("{base}/api/v1/crates/dl/{SHARED_LIB}/{version}/download"),
        format!("{base}{}", history::docs_path(version)),
    ];
    let anonymous = reqwest::blocking::Client::new();
    for url in &urls {
        assert_eq!(anonymous.get(url).send().unwrap().status(), 401, "{url}");
    }
    // The read token reads the registry; the docs are served to a signed-in
    // reader (Kellnr serves /docs to web sessions, not to API tokens).
    let read_token = registry.read_token().unwrap();
    assert_ne!(read_token, token, "two tokens, least privilege");
    for url in &urls[..3] {
        let resp = anonymous
            .get(url)
            .header("authorization", &read_token)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200, "{url}");
    }
    let config: Value = anonymous
        .get(&urls[0])
        .header("authorization", &read_token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(config["auth-required"], true, "{config}");
    let docs = registry
        .reader_session()
        .unwrap()
        .get(&urls[3])
        .send()
        .unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().unwrap().contains("shared_lib"));

    // The read token can neither publish nor yank.
    let refused = publish_scratch_crate(&registry, tmp.path(), "fleet-scratch", &read_token);
    assert!(!refused.status.success());
    assert_refused(&String::from_utf8_lossy(&refused.stderr));
    let yank = Command::new("cargo")
        .args([
            "yank",
            SHARED_LIB,
            "--version",
            &version.to_string(),
            "--registry",
            "local",
        ])
        .args(["--token", &read_token])
        .env("CARGO_REGISTRIES_LOCAL_INDEX", registry.index_url())
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(!yank.status.success(), "a read-only token yanked");
    assert_refused(&String::from_utf8_lossy(&yank.stderr));
    assert!(!xtask::index::published(&registry.client(), SHARED_LIB).unwrap()[0].yanked);

    // Re-publishing an existing version fails with cargo's own message.
    let release = releases.iter().find(|r| &r.version == version).unwrap();
    let err = history::publish_release(&layout, &registry, release, Verify::Skip).unwrap_err();
    assert!(format!("{err:#}").contains("already exists"), "{err:#}");

    // A wrong token is refused; the right one publishes.
    let refused = publish_scratch_crate(&registry, tmp.path(), "fleet-scratch", "not-the-token");
    assert!(!refused.status.success());
    assert_refused(&String::from_utf8_lossy(&refused.stderr));
    let accepted = publish_scratch_crate(&registry, tmp.path(), "fleet-scratch", &token);
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );

    // Data survives a restart.
    stop(child);
    let child = registry.start(&kellnr_bin).unwrap();
    let after = xtask::index::published(&registry.client(), SHARED_LIB).unwrap();
    assert_eq!(after, published);
    assert_eq!(
        xtask::index::published(&registry.client(), "fleet-scratch")
            .unwrap()
            .len(),
        1
    );
    stop(child);
}
