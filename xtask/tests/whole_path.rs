//! One shared-lib change from commit to every running replica, each step
//! the project's own command, in a clone of this checkout (the real tree
//! is never touched) deployed as the swarm stack: the release checks the
//! candidate against every service (a behaviour-changing patch is refused
//! naming the service it breaks; an addition passes and is published),
//! Renovate proposes the bump, `bump` moves each service and runs its
//! tests, `rollout` takes each service's replicas to the new image under a
//! steady load with zero failed requests, and the stack's Prometheus then
//! sees every replica on the new version. Each step's output is in the
//! test's log, under its name and with its time; a failure names the step.
//! `cargo xtask test` runs it after the swarm checks (it is `#[ignore]`d
//! for a plain `cargo test`).
//!
//! The version it releases is unique to the run (`0.5.<minutes since
//! 1970>`-like, never a version a real release makes): cargo's download
//! cache and the image build's cache mount are keyed by the registry URL
//! and the version, and the stack's registry has the fleet's URL, so a
//! version made again with other contents would be served from an
//! earlier run's files.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use std::path::Path;
use std::time::{Duration, Instant};

mod common;

use common::{edit, git};

use common::load::{Load, all_present};
use semver::Version;
use xtask::commands::release::release;
use xtask::commands::rollout::{self, Plan};
use xtask::commands::{Runtime, bump, down, renovate, up};
use xtask::fleet::{self, DataBackend};
use xtask::history::SHARED_LIB;
use xtask::level::Level;
use xtask::ops::procs::wait_until;
use xtask::ops::tools::{CARGO_RELEASE, SEMVER_CHECKS};
use xtask::paths::Layout;

/// The steps' names and times, printed at the end.
struct Steps(Vec<(String, Duration)>);

impl Steps {
    /// Runs step `name`, its output under a header; panics naming the step
    /// when it fails.
    fn run<T>(&mut self, name: &str, f: impl FnOnce() -> anyhow::Result<T>) -> T {
        println!("\n==> step {name}");
        let started = Instant::now();
        let out = f().unwrap_or_else(|err| panic!("step {name} failed: {err:#}"));
        let took = started.elapsed();
        println!("<== step {name}: {:.1} s", took.as_secs_f64());
        self.0.push((name.to_string(), took));
        out
    }
}

/// A clone of this checkout's HEAD under the build cache, with a build
/// cache of its own beside it.
fn clone(real: &Layout) -> Layout {
    let base = real.target_dir().join("whole-path");
    let root = base.join("repo");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&base).unwrap();
    let target = base.join("target");
    common::forget_run_bound_builds(&target);
    xtask::ops::cargo::seed_target(&real.target_dir(), &target, &[SHARED_LIB]).unwrap();
    common::clone_repo(&real.root, &root, "Whole Path Test");
    Layout::at(root, target)
}

fn manifest_version(dir: &Path) -> Version {
    xtask::history::manifest_version(&std::fs::read_to_string(dir.join("Cargo.toml")).unwrap())
        .unwrap()
}

/// Waits for the release tools the suite installs beside its other work.
fn release_tools_installed() -> bool {
    wait_until(Duration::from_secs(1800), || {
        CARGO_RELEASE.path().is_file() && SEMVER_CHECKS.path().is_file()
    })
}

#[test]
#[ignore = "needs a Docker engine in swarm mode and the release tools; `cargo xtask test` runs it"]
fn one_shared_lib_change_travels_from_commit_to_every_running_replica() {
    let real = Layout::detect();
    let mut steps = Steps(Vec::new());
    let layout = clone(&real);
    let shared = layout.project(SHARED_LIB);
    let fleet_manifest = layout.fleet().unwrap();
    let services: Vec<String> = fleet_manifest
        .names()
        .iter()
        .map(|s| s.to_string())
        .collect();

    steps.run("0. up --swarm (the stack, from the clone)", || {
        let _ = down::run(&layout, Runtime::Swarm, true, false);
        up::run(&layout, Runtime::Swarm, DataBackend::Sqlite)
    });
    let registry = fleet::swarm_registry(&layout);

    // The run's own line: shared-lib's version moved to one no release
    // makes, committed, before any change.
    let current = manifest_version(&shared);
    let minutes = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60;
    let base = Version::new(current.major, current.minor, 1000 + minutes % 1_000_000);
    edit(
        &shared.join("Cargo.toml"),
        &format!("\nversion = \"{current}\"\n"),
        &format!("\nversion = \"{base}\"\n"),
    );
    let mut update =
        xtask::ops::cargo::cargo(&layout, &shared, &["update", "--workspace", "--offline"]);
    xtask::ops::run::run(&mut update).unwrap();
    git(
        &layout.root,
        &["commit", "--quiet", "-am", "shared-lib: this run's line"],
    );
    let next = Version::new(base.major, base.minor, base.patch + 1);

    assert!(
        release_tools_installed(),
        "cargo-release and cargo-semver-checks were not installed within 30 minutes"
    );

    // 1 and 2: a patch that changes what order-service relies on (the
    // volume bonus from 11 units, not 10) is refused naming it.
    let discount = shared.join("src/discount.rs");
    edit(&discount, "volume_threshold: 10,", "volume_threshold: 11,");
    let refused = steps.run(
        "1-2a. release refuses a behaviour-changing patch",
        || match release(&layout, &registry, Level::Patch, false, &[]) {
            Ok(v) => anyhow::bail!("release accepted {v}, which breaks order-service"),
            Err(err) => Ok(format!("{err:#}")),
        },
    );
    println!("{refused}");
    assert!(
        refused.contains("order-service") && refused.contains("breaks"),
        "{refused}"
    );
    git(&layout.root, &["checkout", "--quiet", "--", "."]);

    // An addition instead, with its CHANGELOG entry, committed: released.
    edit(
        &discount,
        "    /// The largest percentage this rule draws.",
        "    /// Whether an order of `units` units earns the volume bonus.\n    pub const fn earns_volume_bonus(self, units: u64) -> bool {\n        units >= self.volume_threshold\n    }\n\n    /// The largest percentage this rule draws.",
    );
    edit(
        &shared.join("CHANGELOG.md"),
        "## [Unreleased] - ReleaseDate\n",
        "## [Unreleased] - ReleaseDate\n\n### Added\n- `VolumeRule::earns_volume_bonus`.\n",
    );
    git(
        &layout.root,
        &["commit", "--quiet", "-am", "shared-lib: earns_volume_bonus"],
    );
    let released = steps.run("2b. release publishes the addition", || {
        release(&layout, &registry, Level::Patch, true, &[])
    });
    assert_eq!(released, next);
    let published = xtask::index::published(&registry.client(), SHARED_LIB).unwrap();
    assert!(
        published.iter().any(|p| p.version == next && !p.yanked),
        "{next} is not in the index: {published:?}"
    );

    // 3. Renovate proposes it to each service.
    let outcome = steps.run("3. renovate proposes the bump", || {
        renovate::renovate(&layout, &registry)
    });
    let table = renovate::render(&outcome);
    println!("{table}");
    for service in &services {
        let proposal = outcome
            .proposals
            .iter()
            .find(|p| &p.project == service)
            .unwrap_or_else(|| panic!("no proposal for {service}:\n{table}"));
        assert!(
            proposal
                .updates
                .iter()
                .any(|u| u.version == next.to_string()),
            "{service}: {table}"
        );
    }

    // 4. Each service moved, its tests run; committed.
    for service in &services {
        steps.run(&format!("4. bump {service} (its tests run)"), || {
            bump::run(&layout, service, Some(&next))
        });
        let pin = xtask::history::pin(&layout.project(service)).unwrap();
        assert_eq!(pin.version, next, "{service}");
    }
    git(
        &layout.root,
        &[
            "commit",
            "--quiet",
            "-am",
            &format!("services: shared-lib {next}"),
        ],
    );

    // 5. Each service rolled out under a steady load: no request fails.
    let users = fleet::url(fleet_manifest.service("user-service").unwrap().port);
    let load = Load::start(&users, &format!("whole-path-{}", std::process::id()));
    load.wait_for(20);
    for service in &services {
        steps.run(&format!("5. rollout {service} under load"), || {
            rollout::run(
                &layout,
                &Plan {
                    service: service.clone(),
                    to: None,
                    bake: Duration::from_secs(5),
                    max_error_ratio: 0.05,
                    dry_run: false,
                },
            )
        });
    }
    load.wait_for(20);
    let seen = load.finish();
    assert!(
        seen.failed.is_empty(),
        "requests failed during the rollouts: {:?}",
        seen.failed
    );
    all_present(&users, &seen.created);
    println!(
        "load: {} requests answered, none failed, {} users created and all present",
        seen.ok,
        seen.created.len()
    );

    // 6. What runs: every replica of every service on the new version, as
    // the stack's Prometheus sees them.
    let on_next = steps.run("6. status: every replica on the new version", || {
        let prometheus = xtask::running::fleet_prometheus();
        let mut last = String::new();
        let all = wait_until(Duration::from_secs(60), || {
            let (found, _) = xtask::running::instances(&fleet_manifest, &prometheus);
            last = format!("{found:?}");
            services.iter().all(|s| {
                found.get(s).is_some_and(|list| {
                    list.len() >= xtask::swarm::REPLICAS as usize
                        && list
                            .iter()
                            .all(|i| i.shared_lib_version == next.to_string())
                })
            })
        });
        xtask::commands::status::run(&layout, false)?;
        Ok((all, last))
    });
    assert!(on_next.0, "not every replica runs {next}: {}", on_next.1);

    steps.run("7. down --swarm", || {
        down::run(&layout, Runtime::Swarm, true, false)
    });
    println!("\nthe whole path, step by step:");
    let mut total = Duration::ZERO;
    for (name, took) in &steps.0 {
        println!("  {:<52} {:>6.1} s", name, took.as_secs_f64());
        total += *took;
    }
    println!("  {:<52} {:>6.1} s", "total", total.as_secs_f64());
}
