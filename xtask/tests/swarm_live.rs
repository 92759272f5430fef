//! The fleet replicated on a real orchestrator: the stack of `up --swarm`
//! (services, PostgreSQL, the registry, the proxy) on the project's Docker
//! engine in swarm mode, under a steady load through the front proxy. `cargo xtask test` runs it after the compose
//! checks (it is `#[ignore]`d for a plain `cargo test`).

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use std::collections::BTreeSet;
use std::time::Duration;

mod common;

use common::load::{Load, all_present, http};

use xtask::commands::{Runtime, down, up};
use xtask::fleet::{self, DataBackend};
use xtask::ops::docker;
use xtask::ops::procs::wait_until;
use xtask::ops::registry::Health;
use xtask::ops::swarm::{kill, roll, running_tasks};
use xtask::paths::Layout;
use xtask::swarm::{REPLICAS, database, swarm_service};

/// The replicas of `service` (Prometheus' instances) that answered
/// `GET /health` at least once, by their own `http_requests_total`.
fn replicas_that_served(service: &str) -> BTreeSet<String> {
    xtask::ops::prometheus::query(
        &xtask::running::fleet_prometheus(),
        &format!(
            r#"sum by (instance) (http_requests_total{{service="{service}",route="/health"}}) > 0"#
        ),
    )
    .unwrap_or_default()
    .into_iter()
    .filter_map(|s| s.labels.get("instance").cloned())
    .collect()
}

#[test]
#[ignore = "needs a Docker engine in swarm mode; `cargo xtask test` runs it"]
fn the_fleet_runs_replicated_on_swarm_and_rolls_and_heals_without_losing_a_write() {
    let layout = Layout::detect();
    let fleet_manifest = layout.fleet().unwrap();
    // A fresh database volume: the replicas start together on it.
    let _ = down::run(&layout, Runtime::Swarm, true, false);
    up::run(&layout, Runtime::Swarm, DataBackend::Sqlite).expect("up --swarm");
    let engine = docker::engine().unwrap();
    let users = fleet::url(fleet_manifest.service("user-service").unwrap().port);
    let http = http();

    // Migrations applied once although the replicas started at the same
    // moment on an empty database.
    let (pg_task, pg_container) =
        running_tasks(&engine, &swarm_service("postgres")).unwrap()[0].clone();
    let password =
        std::fs::read_to_string(layout.state_dir().join("swarm/postgres.password")).unwrap();
    for service in &fleet_manifest.services {
        let files = std::fs::read_dir(layout.project(&service.name).join("migrations/postgres"))
            .unwrap()
            .count();
        let out = engine
            .docker()
            .args(["exec", "-e", &format!("PGPASSWORD={}", password.trim()), &pg_container])
            .args(["psql", "-h", "127.0.0.1", "-U", "fleet", "-d", &database(&service.name), "-tAc"])
            .arg("select count(*) || ' ' || count(distinct version) from _sqlx_migrations where success")
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("{files} {files}"),
            "{}: each migration applied once ({pg_task}): {}",
            service.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Every replica serves: requests through the proxy reach each one, as
    // each replica's own request counter says (scraped by the stack's
    // Prometheus; `docker service logs` was seen to hang here).
    for service in &fleet_manifest.services {
        let url = fleet::url(service.port);
        let mut reached = BTreeSet::new();
        let spread = wait_until(Duration::from_secs(60), || {
            for _ in 0..10 {
                let _ = http.get(format!("{url}/health")).send();
            }
            reached = replicas_that_served(&service.name);
            reached.len() >= REPLICAS as usize
        });
        assert!(
            spread,
            "{}: requests reached only {reached:?}",
            service.name
        );
    }

    // What runs, as `status` reads it: every replica's build_info through
    // the stack's Prometheus (found by the engine's DNS, behind the proxy).
    let prometheus = xtask::running::fleet_prometheus();
    let replicas_seen = |name: &str| -> BTreeSet<String> {
        xtask::running::instances(&fleet_manifest, &prometheus).0[name]
            .iter()
            .map(|i| {
                assert_eq!(
                    i.shared_lib_version,
                    xtask::history::pin(&layout.project(name))
                        .unwrap()
                        .version
                        .to_string(),
                    "{name}: {i:?} runs what its Cargo.lock holds"
                );
                i.instance.clone()
            })
            .collect()
    };
    for service in &fleet_manifest.services {
        let mut seen = BTreeSet::new();
        let listed = wait_until(Duration::from_secs(60), || {
            seen = replicas_seen(&service.name);
            seen.len() == REPLICAS as usize
        });
        assert!(listed, "{}: Prometheus lists {seen:?}", service.name);
    }
    let instances_before = replicas_seen("user-service");

    // A rolling update to a new image under load: zero failed requests.
    let service = swarm_service("user-service");
    let image = "shared-fleet/user-service:rolled";
    let tagged = engine
        .docker()
        .args(["tag", "shared-fleet/user-service:local", image])
        .status()
        .unwrap();
    assert!(tagged.success());
    let before: BTreeSet<String> = running_tasks(&engine, &service)
        .unwrap()
        .into_iter()
        .map(|t| t.0)
        .collect();
    let load = Load::start(&users, "roll");
    load.wait_for(50);
    // Through `rollout`: one replica at a time, each watched by the health
    // gate (a short bake: the gate's decisions are what is tested here).
    let plan = |to: &str| xtask::commands::rollout::Plan {
        service: "user-service".into(),
        to: Some(to.into()),
        bake: Duration::from_secs(8),
        max_error_ratio: 0.05,
        dry_run: false,
    };
    xtask::commands::rollout::run(&layout, &plan(image)).expect("a healthy build rolls out");
    load.wait_for(50);
    let seen = load.finish();
    let after: BTreeSet<String> = running_tasks(&engine, &service)
        .unwrap()
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert!(
        before.is_disjoint(&after) && after.len() == REPLICAS as usize,
        "every replica replaced: {before:?} -> {after:?}"
    );
    println!(
        "rolling update: {} requests answered, {} failed",
        seen.ok,
        seen.failed.len()
    );
    assert!(
        seen.failed.is_empty(),
        "requests failed during the rolling update: {:?}",
        seen.failed
    );
    all_present(&users, &seen.created);
    assert_eq!(
        xtask::ops::swarm::service_image(&engine, &service).unwrap(),
        image
    );
    // Prometheus follows: the new replicas listed, the old ones gone.
    let mut instances_after = BTreeSet::new();
    let followed = wait_until(Duration::from_secs(60), || {
        instances_after = replicas_seen("user-service");
        instances_after.len() == REPLICAS as usize && instances_after.is_disjoint(&instances_before)
    });
    assert!(
        followed,
        "Prometheus lists {instances_after:?} after the update (before: {instances_before:?})"
    );

    // A bad build (every fifth sign-up answers 500; its healthcheck is
    // green) is rolled back by the gate within its first replica's bake,
    // under the same load: no acknowledged write lost, and what failed is
    // the bad replica's 500s only, counted and bounded.
    let faulty = "shared-fleet/user-service:faulty";
    let mut build = engine.docker();
    build
        .args(["build", "-t", faulty, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    let mut child = build.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "FROM {image}\nENV FAULT_SIGNUP_500_EVERY=5").unwrap();
    }
    assert!(child.wait().unwrap().success(), "the faulty image builds");
    let load = Load::start(&users, "bad");
    load.wait_for(50);
    let started = std::time::Instant::now();
    let refused = xtask::commands::rollout::run(&layout, &plan(faulty))
        .expect_err("the gate rolls the bad build back");
    let took = started.elapsed();
    load.wait_for(50);
    let seen = load.finish();
    let why = format!("{refused:#}");
    println!(
        "bad build: {why} ({:.0} s); {} of {} sign-ups failed, first: {:?}",
        took.as_secs_f64(),
        seen.failed.len(),
        seen.created.len() + seen.failed.len(),
        seen.failed.iter().take(3).collect::<Vec<_>>()
    );
    assert!(why.contains("rolled user-service back to"), "{why}");
    assert!(
        why.contains("answered 5xx"),
        "the numbers that decided it: {why}"
    );
    assert_eq!(
        xtask::ops::swarm::service_image(&engine, &service).unwrap(),
        image,
        "back on the previous image"
    );
    assert!(
        seen.failed
            .iter()
            .all(|f| f.starts_with("POST ") && f.ends_with(": 500 Internal Server Error")),
        "only the bad replica's sign-ups failed: {:?}",
        seen.failed
    );
    // Every fifth sign-up the bad replica took, and it took only part of
    // them: fewer than a fifth of all sign-ups failed.
    let sign_ups = seen.created.len() + seen.failed.len();
    assert!(
        !seen.failed.is_empty() && seen.failed.len() * 5 <= sign_ups,
        "the bad replica's failures are bounded: {} of {sign_ups} sign-ups",
        seen.failed.len()
    );
    all_present(&users, &seen.created);

    // One replica killed under load: what failed is counted and bounded,
    // nothing acknowledged is lost, the orchestrator replaces it.
    let (_, victim) = running_tasks(&engine, &service).unwrap()[0].clone();
    let load = Load::start(&users, "kill");
    load.wait_for(50);
    kill(&engine, &victim).unwrap();
    let replaced = wait_until(Duration::from_secs(60), || {
        running_tasks(&engine, &service)
            .is_ok_and(|t| t.len() == REPLICAS as usize && t.iter().all(|(_, c)| *c != victim))
    });
    load.wait_for(50);
    let seen = load.finish();
    println!(
        "one replica killed: {} requests answered, {} failed: {:?}",
        seen.ok,
        seen.failed.len(),
        seen.failed
    );
    assert!(replaced, "the killed replica was not replaced within 60 s");
    assert!(
        seen.failed.len() <= 10,
        "more than 10 requests failed when one replica died: {:?}",
        seen.failed
    );
    all_present(&users, &seen.created);

    // The registry: two Kellnr replicas on PostgreSQL behind the proxy.
    // Sessions made on one are honoured by the other (one signing key):
    // a signed-in reader's requests alternate between them.
    let registry = fleet::swarm_registry(&layout);
    let session = registry
        .reader_session()
        .expect("a reader signs in through the proxy");
    for n in 0..6 {
        let status = session
            .get(format!("{}/api/v1/users/me/tokens", registry.base_url()))
            .send()
            .unwrap()
            .status();
        assert_eq!(
            status, 200,
            "signed-in request {n} refused by one of the replicas"
        );
    }
    // What was published through the proxy (every pinned shared-lib) is
    // in each replica's index and downloads from each: one database, one
    // volume of crate files.
    let pinned = xtask::index::published(&registry.client(), "shared-lib").unwrap();
    assert!(!pinned.is_empty());
    let version = pinned.last().unwrap().version.to_string();
    let token = registry.read_token().unwrap();
    let replicas = running_tasks(&engine, &swarm_service("registry")).unwrap();
    assert_eq!(replicas.len(), REPLICAS as usize);
    for (task, container) in &replicas {
        let ask = |path: &str| {
            let out = engine
                .docker()
                .args([
                    "exec",
                    container,
                    "curl",
                    "-s",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                ])
                .args(["-H", &format!("Authorization: {token}")])
                .arg(format!("http://127.0.0.1:8000{path}"))
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        assert_eq!(
            ask("/api/v1/crates/sh/ar/shared-lib"),
            "200",
            "replica {task}: index"
        );
        assert_eq!(
            ask(&format!("/api/v1/crates/dl/shared-lib/{version}/download")),
            "200",
            "replica {task}: the crate file of {version}"
        );
    }
    // A token revoked through one replica is refused by both at once. The
    // replicas share the database and keep no token cache (the stack sets
    // KELLNR_REGISTRY__TOKEN_CACHE_ENABLED=false: Kellnr's cache lives in
    // each process and a delete empties only the one of the replica that
    // took it). Each step goes to one replica directly, from inside it.
    let curl = |container: &str, args: &[&str]| -> String {
        let out = engine
            .docker()
            .args(["exec", container, "curl", "-s"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let base = "http://127.0.0.1:8000";
    let jar = "/tmp/fleet-revocation.jar";
    let admin_pwd = std::fs::read_to_string(registry.password_file()).unwrap();
    let sign_in = |container: &str| {
        let body = serde_json::json!({"user": "admin", "pwd": admin_pwd.trim()}).to_string();
        let status = curl(
            container,
            &[
                "-c",
                jar,
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-H",
                "Content-Type: application/json",
                "-d",
                &body,
                &format!("{base}/api/v1/auth/login"),
            ],
        );
        assert_eq!(status, "200", "admin signs in on {container}");
    };
    let index_status = |container: &str, token: &str| {
        curl(
            container,
            &[
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-H",
                &format!("Authorization: {token}"),
                &format!("{base}/api/v1/crates/sh/ar/shared-lib"),
            ],
        )
    };
    let (first, second) = (&replicas[0].1, &replicas[1].1);
    sign_in(first);
    let name = format!("revocation-{}", std::process::id());
    let created: serde_json::Value = serde_json::from_str(&curl(
        first,
        &[
            "-b",
            jar,
            "-H",
            "Content-Type: application/json",
            "-d",
            &serde_json::json!({ "name": name }).to_string(),
            &format!("{base}/api/v1/users/me/tokens"),
        ],
    ))
    .expect("the token is created through the first replica");
    let revoked = created["token"].as_str().unwrap().to_string();
    for replica in [first, second] {
        assert_eq!(
            index_status(replica, &revoked),
            "200",
            "{replica} takes the new token"
        );
    }
    sign_in(second);
    let tokens: serde_json::Value = serde_json::from_str(&curl(
        second,
        &["-b", jar, &format!("{base}/api/v1/users/me/tokens")],
    ))
    .unwrap();
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name.as_str())
        .and_then(|t| t["id"].as_i64())
        .unwrap_or_else(|| panic!("{name} in {tokens}"));
    let deleted = curl(
        second,
        &[
            "-b",
            jar,
            "-X",
            "DELETE",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{base}/api/v1/users/me/tokens/{id}"),
        ],
    );
    assert_eq!(
        deleted, "200",
        "the token is deleted through the second replica"
    );
    for replica in [first, second] {
        let status = index_status(replica, &revoked);
        assert!(
            status == "401" || status == "403",
            "{replica} still takes the revoked token at once: {status}"
        );
    }
    assert_eq!(
        index_status(first, &token),
        "200",
        "the fleet's own token still works"
    );

    // Both replicas replaced: the registry keeps its data.
    roll(&engine, &swarm_service("registry"), None).expect("the registry rolls");
    assert!(
        wait_until(Duration::from_secs(60), || registry.health() == Health::Up),
        "the registry answers after its rolling restart"
    );
    assert_eq!(
        xtask::index::published(&registry.client(), "shared-lib").unwrap(),
        pinned
    );

    down::run(&layout, Runtime::Swarm, true, false).expect("down --swarm");
}
