//! The subcommands. Each returns an error instead of exiting; `main` turns
//! it into one line on stderr and a non-zero exit code.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::fleet::{self, RegistryStart, SERVICES, ServiceStart};
use crate::history::{self, SHARED_LIB, Verify};
use crate::index;
use crate::paths::Layout;
use crate::procs;
use crate::run::{capture, run};
use crate::tools::{CARGO_CHEF, CARGO_RELEASE, SEMVER_CHECKS};

/// `up`: registry started, pinned shared-lib versions published, both
/// services built, started and ready. A second `up` changes nothing.
pub fn up(layout: &Layout) -> Result<()> {
    let started = Instant::now();
    let registry_start = fleet::ensure_registry(layout)?;
    let registry = fleet::fleet_registry(layout);
    let published = fleet::publish_pinned(layout, &registry)?;
    println!("services: building with `cargo build --locked`");
    fleet::build_services(layout)?;
    let mut changed = registry_start == RegistryStart::Started || !published.is_empty();
    for service in SERVICES {
        let outcome = fleet::start_service(layout, service)?;
        let what = match outcome {
            ServiceStart::AlreadyRunning => "already running",
            ServiceStart::Started => "started",
            ServiceStart::Restarted => "restarted (its binary was rebuilt)",
        };
        changed |= outcome != ServiceStart::AlreadyRunning;
        println!("{}: {what} at {}", service.name, service.url());
    }
    println!();
    println!(
        "registry       {}  (index {})",
        registry.base_url(),
        registry.index_url()
    );
    for service in SERVICES {
        println!(
            "{:<14} {}  (try `curl {}/`)",
            service.name,
            service.url(),
            service.url()
        );
    }
    println!("logs and pids  {}", layout.state_dir().display());
    if changed {
        println!(
            "fleet up in {:.1}s; `cargo xtask down` stops it",
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("nothing changed: everything was already up");
    }
    Ok(())
}

/// `up --docker`: the same fleet as containers. The order is the point:
/// registry container first, pinned shared-lib versions published into it,
/// then the service images built (they download shared-lib while building),
/// then everything started.
pub fn up_docker(layout: &Layout) -> Result<()> {
    docker_engine()?;
    let registry = fleet::fleet_registry(layout);
    if let Some(record) = procs::read_record(&procs::record_path(&layout.state_dir(), "kellnr"))?
        && procs::is_running(&record)
    {
        bail!(
            "the native registry started by `cargo xtask up` holds port 8000 (pid {}); run `cargo xtask down` first",
            record.pid
        );
    }
    registry.ensure_secrets()?;
    println!("registry: starting the Kellnr container");
    run(compose(layout, &registry)?.args(["up", "--detach", "--wait", "registry"]))?;
    fleet::publish_pinned(layout, &registry)?;
    println!("services: building images (they fetch shared-lib from 127.0.0.1:8000)");
    run(compose(layout, &registry)?.arg("build"))?;
    run(compose(layout, &registry)?.args(["up", "--detach", "--wait"]))?;
    for service in SERVICES {
        println!("{:<14} {}", service.name, service.url());
    }
    println!("containers up; `cargo xtask down --docker` stops them (the registry volume stays)");
    Ok(())
}

/// `down --docker`: `docker compose down`; the registry volume stays.
pub fn down_docker(layout: &Layout) -> Result<()> {
    docker_engine()?;
    run(compose(layout, &fleet::fleet_registry(layout))?.arg("down"))
}

/// Fails with a clear message when no Docker engine answers.
fn docker_engine() -> Result<()> {
    let answered = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !answered {
        bail!(
            "no Docker engine answers (`docker info` failed), so the container path cannot run here; \
             start an engine, or use the native path: `cargo xtask up`"
        );
    }
    Ok(())
}

/// `docker compose` in the checkout, with the registry's generated token
/// and password in its environment (compose passes them to Kellnr's first
/// start; they are never written to a file compose reads).
fn compose(layout: &Layout, registry: &crate::registry::Kellnr) -> Result<Command> {
    let read = |path: std::path::PathBuf| {
        std::fs::read_to_string(&path)
            .map(|s| s.trim().to_string())
            .with_context(|| format!("cannot read {}", path.display()))
    };
    let mut cmd = Command::new("docker");
    cmd.arg("compose")
        .current_dir(&layout.root)
        .env("KELLNR_ADMIN_TOKEN", read(registry.token_file())?)
        .env("KELLNR_ADMIN_PWD", read(registry.password_file())?);
    Ok(cmd)
}

/// `down`: stops what `up` started, by pid, and nothing else.
pub fn down(layout: &Layout) -> Result<()> {
    let stopped = fleet::down(layout)?;
    if stopped.is_empty() {
        println!("nothing to stop: no process started by `cargo xtask up` is running");
    }
    Ok(())
}

/// `publish`: publishes the working tree's shared-lib version if the
/// registry lacks it, from the commit that introduced that version.
pub fn publish(layout: &Layout) -> Result<()> {
    let version = history::working_version(layout)?;
    fleet::ensure_registry(layout)?;
    let registry = fleet::fleet_registry(layout);
    if index::published(&registry.base_url(), SHARED_LIB)?
        .iter()
        .any(|p| p.version == version)
    {
        println!(
            "{SHARED_LIB} {version} is already published; nothing to do (versions are immutable: bump to release changes)"
        );
        return Ok(());
    }
    let dirty =
        capture(history::git(&layout.root).args(["status", "--porcelain", "--", SHARED_LIB]))?;
    if !dirty.trim().is_empty() {
        bail!(
            "{SHARED_LIB}/ has uncommitted changes; commit them (or release with `cargo release`) before publishing {version}"
        );
    }
    let release = history::releases(&layout.root)?
        .into_iter()
        .find(|r| r.version == version)
        .with_context(|| {
            format!(
                "{SHARED_LIB} {version} is not in git history; commit {SHARED_LIB}/Cargo.toml first"
            )
        })?;
    let changed_since = history::git(&layout.root)
        .args(["diff", "--quiet", &release.commit, "HEAD", "--", SHARED_LIB])
        .status()?;
    if !changed_since.success() {
        bail!(
            "{SHARED_LIB} changed after version {version} was set in commit {}; a published version \
             must be the commit that introduced it, so bump the version (`cargo release patch`) instead",
            &release.commit[..12]
        );
    }
    history::publish_release(layout, &registry, &release, Verify::Build)?;
    println!(
        "published {SHARED_LIB} {version} to {}",
        registry.index_url()
    );
    Ok(())
}

/// `release`: the semver guard, then cargo-release for shared-lib; a dry
/// run unless `execute`.
pub fn release(layout: &Layout, level: crate::release::Level, execute: bool) -> Result<()> {
    fleet::ensure_registry(layout)?;
    let registry = fleet::fleet_registry(layout);
    let next = crate::release::release(layout, &registry, level, execute)?;
    if execute {
        println!(
            "released {SHARED_LIB} {next} to {}; move a service with `cargo xtask bump <service> --to {next}`",
            registry.index_url()
        );
    } else {
        println!("dry run of {SHARED_LIB} {next}: nothing was changed; add --execute to release");
    }
    Ok(())
}

/// `status`: every service's requirement, locked and newest version, verdict.
pub fn status(layout: &Layout, json: bool) -> Result<()> {
    fleet::ensure_registry(layout)?;
    let rows = crate::status::status(layout, &fleet::fleet_registry(layout))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", crate::status::render(&rows));
    }
    Ok(())
}

/// `bump`: moves one service to a shared-lib version and runs its tests.
pub fn bump(layout: &Layout, service: &str, to: Option<&semver::Version>) -> Result<()> {
    fleet::ensure_registry(layout)?;
    let registry = fleet::fleet_registry(layout);
    fleet::publish_pinned(layout, &registry)?;
    let bumped = crate::status::bump(layout, &registry, service, to)?;
    if bumped.from != bumped.to {
        println!(
            "{service}: {SHARED_LIB} {} -> {}, tests pass. Untouched: {}.",
            bumped.from,
            bumped.to,
            crate::status::others(service).join(", ")
        );
        println!(
            "commit it: git commit -m \"{service}: move to {SHARED_LIB} {}\" {service}/Cargo.toml {service}/Cargo.lock",
            bumped.to
        );
    }
    Ok(())
}

/// `bench`: load on both services and a bare warp baseline; prints the
/// table and writes it as JSON under `bench-results/` (git-ignored).
pub fn bench(layout: &Layout, load: crate::bench::Load) -> Result<()> {
    let report = crate::bench::bench(layout, load)?;
    print!("{}", crate::bench::render(&report));
    let dir = layout.root.join("bench-results");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("bench-{}.json", report.started_unix));
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("written to {}", path.display());
    Ok(())
}

/// One step of `test`.
struct Step {
    /// What it checks, as printed.
    name: String,
    /// The command.
    cmd: Command,
}

fn cargo_step(layout: &Layout, name: impl Into<String>, project: &str, args: &[&str]) -> Step {
    let mut cmd = Command::new("cargo");
    cmd.args(args)
        .current_dir(layout.project(project))
        .env("CARGO_TARGET_DIR", layout.target_dir());
    Step {
        name: name.into(),
        cmd,
    }
}

/// Every project of the repository, each checked on its own.
pub const PROJECTS: [&str; 5] = [
    "shared-lib",
    "user-service",
    "order-service",
    "xtask",
    "bench/bare-warp",
];

/// `test`: the whole suite. Starts the registry when none runs, publishes
/// what the services pin, runs fmt, clippy and the tests of every project
/// and the end-to-end tests; then, if it started the registry, stops it and
/// runs the services' tests again from Cargo's cache.
pub fn test(layout: &Layout) -> Result<()> {
    let started = Instant::now();
    // The end-to-end tests release, compare APIs and run the Dockerfiles'
    // build commands with these.
    CARGO_RELEASE.ensure()?;
    SEMVER_CHECKS.ensure()?;
    CARGO_CHEF.ensure()?;
    let registry_start = fleet::ensure_registry(layout)?;
    let outcome = fleet::publish_pinned(layout, &fleet::fleet_registry(layout))
        .map(|_| run_steps(test_steps(layout)));
    if registry_start == RegistryStart::Started {
        fleet::down(layout)?;
    }
    let (mut total, mut failed) = outcome?;
    // Once the lockfiles are complete and the crates cached, a service
    // builds and tests without the registry: check it with Kellnr stopped.
    if registry_start == RegistryStart::Started {
        let offline = SERVICES.iter().map(|s| {
            let name = format!("test {} with the registry stopped", s.name);
            cargo_step(layout, name, s.name, &["test", "--locked", "--quiet"])
        });
        let (n, f) = run_steps(offline.collect());
        total += n;
        failed.extend(f);
    } else {
        println!(
            "(not checked: building with the registry stopped; a registry this command did not start is running)"
        );
    }
    println!();
    println!(
        "xtask test steps: {} passed, {} failed",
        total - failed.len(),
        failed.len()
    );
    println!("({:.0}s)", started.elapsed().as_secs_f64());
    if !failed.is_empty() {
        bail!("{} step(s) failed: {}", failed.len(), failed.join(", "));
    }
    Ok(())
}

/// The steps of `test`, in order.
fn test_steps(layout: &Layout) -> Vec<Step> {
    let mut steps = Vec::new();
    for project in PROJECTS {
        steps.push(cargo_step(
            layout,
            format!("fmt {project}"),
            project,
            &["fmt", "--check"],
        ));
    }
    let clippy = [
        "clippy",
        "--locked",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ];
    for project in PROJECTS {
        steps.push(cargo_step(
            layout,
            format!("clippy {project}"),
            project,
            &clippy,
        ));
    }
    for project in ["shared-lib", "user-service", "order-service"] {
        steps.push(cargo_step(
            layout,
            format!("test {project}"),
            project,
            &["test", "--locked"],
        ));
    }
    for service in SERVICES {
        let name = format!("build {}", service.name);
        steps.push(cargo_step(
            layout,
            name,
            service.name,
            &["build", "--locked", "--quiet"],
        ));
    }
    let mut e2e = cargo_step(
        layout,
        "test xtask (end to end)",
        "xtask",
        &["test", "--locked"],
    );
    e2e.cmd
        .env("FLEET_BIN_DIR", layout.target_dir().join("debug"));
    steps.push(e2e);
    steps
}

/// Runs every step, even after a failure; returns how many ran and the
/// names of those that failed.
fn run_steps(steps: Vec<Step>) -> (usize, Vec<String>) {
    let total = steps.len();
    let mut failed = Vec::new();
    for mut step in steps {
        println!("==> {}", step.name);
        let ok = match step.cmd.status() {
            Ok(status) => status.success(),
            Err(err) => {
                eprintln!("cannot run {}: {err}", step.name);
                false
            }
        };
        if !ok {
            println!("FAILED: {}", step.name);
            failed.push(step.name);
        }
    }
    (total, failed)
}
