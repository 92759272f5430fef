//! `cargo xtask test`: the whole suite. Starts the registry when none
//! runs, publishes what the services pin, starts a throwaway PostgreSQL 15
//! server, runs fmt, clippy and the tests of every project (the
//! database-backed ones on SQLite and again on PostgreSQL) and the
//! end-to-end tests; then, if it started the registry, stops it and runs
//! the services' tests again from Cargo's cache and the container checks,
//! while the release tests (registries of their own) run beside them.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::fleet::{self, DataBackend, RegistryStart};
use crate::history::SHARED_LIB;
use crate::ops::cargo::cargo;
use crate::ops::docker::{self, Engine};
use crate::ops::postgres;
use crate::ops::procs;
use crate::ops::run;
use crate::ops::tools::{
    CARGO_RELEASE, KUBERNETES_VALIDATE, RENOVATE, SCHEMATHESIS, SEMVER_CHECKS,
};
use crate::paths::{self, Layout};

/// One step of `test`.
struct Step {
    /// What it checks, as printed.
    name: String,
    /// The command.
    cmd: Command,
}

fn step(layout: &Layout, name: String, project: &str, args: &[&str]) -> Step {
    Step {
        name,
        cmd: cargo(layout, layout.project(project), args),
    }
}

/// Every project of the repository, each checked on its own: shared-lib,
/// each service of the manifest, `cargo fleet`, xtask, the benchmark
/// baseline and the benchmark's database anchor.
pub fn projects(layout: &Layout) -> Result<Vec<String>> {
    let mut all = vec![SHARED_LIB.to_string()];
    all.extend(layout.fleet()?.names().iter().map(|s| s.to_string()));
    all.extend(
        [FLEET_TOOL, "xtask", paths::BARE_WARP, paths::DB_ANCHOR]
            .into_iter()
            .map(String::from),
    );
    Ok(all)
}

/// Runs `test`.
pub fn run(layout: &Layout) -> Result<()> {
    let started = Instant::now();
    // On a machine that never ran the project's engine: its packages and
    // the stand-in images' root file systems (network and disk, about 2
    // minutes), made while cargo compiles; the container flow waits for it.
    let first_engine = std::thread::spawn(docker::prepare_first_engine);
    let release_tools = install_release_tools(layout);
    let (registry, start) = with_downloads(|| super::registry(layout))?;
    // The services' supply-chain tests run `cargo deny` and `cargo fleet
    // audit`: the pinned cargo-deny and this checkout's cargo-fleet, on the
    // `PATH` of every step that runs them.
    let tools = crate::fleet::tool::service_test_tools(layout);
    let outcome = super::publish_pinned(layout, &registry).and_then(|_| {
        // The observability tests scrape the services with a real one.
        crate::ops::prometheus::ensure_installed()?;
        let pg = postgres::Throwaway::start("test")?;
        println!(
            "postgres: a throwaway PostgreSQL 15 on 127.0.0.1:{} for the database-backed tests (data in {})",
            pg.0.port,
            pg.0.data.display()
        );
        let tools = tools.as_deref().map_err(|err| anyhow::anyhow!("{err:#}"))?;
        Ok(run_steps(steps(layout, &pg.0.superuser_url("postgres")?, tools)?))
    });
    // The rest needs port 8000 free and the registry stopped. A fleet this
    // checkout's `up` started makes room (stopped now, started again at the
    // end); a registry of another checkout cannot, and fails the run.
    let restart = match &start {
        RegistryStart::Started(_) => {
            fleet::down(layout)?;
            None
        }
        RegistryStart::AlreadyRunning(_) => {
            let backend = running_backend(layout)?;
            println!(
                "(making room: stopping the fleet `cargo xtask up` started, for the registry-stopped and container checks; it starts again at the end)"
            );
            fleet::down(layout)?;
            Some(backend)
        }
        RegistryStart::Foreign => None,
    };
    let (mut total, mut failed) = outcome?;
    // The release tests need no port 8000 (each starts a registry of its
    // own) and mostly compile, where the container checks mostly wait on
    // containers: they run side by side, the release tests' output kept in
    // a log and printed when they end.
    let releases = release_tests(layout);
    let log = layout.state_dir().join("release-tests.log");
    let (beside, here) = std::thread::scope(|scope| {
        let beside = scope.spawn(|| match release_tools.join() {
            Ok(Ok(())) => run_logged(releases, &log),
            Ok(Err(err)) => {
                println!("FAILED: {}: {err:#}", releases.name);
                (1, vec![releases.name])
            }
            Err(_) => {
                println!("FAILED: {}: installing its tools panicked", releases.name);
                (1, vec![releases.name])
            }
        });
        let here = if start == RegistryStart::Foreign {
            println!(
                "FAILED: the registry-stopped and container checks: a Kellnr this checkout did not start holds port 8000; stop it (`cargo xtask down` in its checkout) and run the command again"
            );
            (
                1,
                vec!["registry-stopped and container checks (port 8000 held)".into()],
            )
        } else {
            registry_stopped_and_containers(
                layout,
                first_engine,
                tools.as_deref().unwrap_or_default(),
            )
        };
        let beside = beside
            .join()
            .unwrap_or_else(|_| (1, vec!["test xtask (releases): the runner panicked".into()]));
        (beside, here)
    });
    for (n, f) in [here, beside] {
        total += n;
        failed.extend(f);
    }
    if let Some(backend) = restart {
        println!("==> starting the fleet again, as `cargo xtask up` had it");
        if let Err(err) = super::start_native_fleet(layout, backend) {
            println!("FAILED: starting the fleet again: {err:#}");
            total += 1;
            failed.push("starting the fleet again".into());
        }
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

/// With the registry stopped: each service's tests from Cargo's cache,
/// then the container flow (port 8000 must be free for the registry
/// container).
fn registry_stopped_and_containers(
    layout: &Layout,
    first_engine: std::thread::JoinHandle<Result<()>>,
    tools: &[std::path::PathBuf],
) -> (usize, Vec<String>) {
    // Once the lockfiles are complete and the crates cached, a service
    // builds and tests without the registry: check it with Kellnr stopped.
    // Their supply-chain test asks the registry whether the locked versions
    // were yanked: it ran in `test <service>`, with the registry up, and
    // is the one test left out here.
    let offline = match layout.fleet() {
        Ok(fleet) => fleet
            .services
            .iter()
            .map(|s| {
                let name = format!("test {} with the registry stopped", s.name);
                let mut test = step(
                    layout,
                    name,
                    &s.name,
                    &[
                        "test",
                        "--locked",
                        "--quiet",
                        "--",
                        "--skip",
                        "no_locked_shared_crate_is_advised_yanked_or_unpublished",
                    ],
                );
                run::path_first(&mut test.cmd, tools);
                test
            })
            .collect(),
        Err(err) => {
            println!("FAILED: reading fleet.toml: {err:#}");
            return (1, vec!["reading fleet.toml".into()]);
        }
    };
    let (mut total, mut failed) = run_steps(offline);
    let (n, f) = container_flow(layout, first_engine);
    total += n;
    failed.extend(f);
    (total, failed)
}

/// Runs `registry` (which installs Kellnr when missing) while a thread
/// installs the PyPI and npm tools the suite needs and this machine lacks
/// (mostly waiting on the network). Both have finished when this returns;
/// the first error ends the command, the other is printed.
fn with_downloads<T>(registry: impl FnOnce() -> Result<T>) -> Result<T> {
    std::thread::scope(|scope| {
        let downloads = scope.spawn(|| -> Result<()> {
            // The contract tests fuzz each service from its OpenAPI document.
            SCHEMATHESIS.ensure()?;
            // The Renovate test runs `cargo xtask renovate`'s code.
            RENOVATE.ensure()?;
            // The Kubernetes test validates the rendered manifests offline.
            KUBERNETES_VALIDATE.ensure()?;
            Ok(())
        });
        let registry = registry();
        let downloads = downloads.join().unwrap_or_else(|_| {
            Err(anyhow::anyhow!(
                "installing the PyPI and npm tools panicked"
            ))
        });
        match (registry, downloads) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(err)) => Err(err),
            (Err(err), downloads) => {
                if let Err(also) = downloads {
                    eprintln!("error: {also:#}");
                }
                Err(err)
            }
        }
    })
}

/// The cargo tools only the release tests use, installed beside the rest
/// of the run (see [`crate::ops::tools::Tool::ensure_beside`]): they
/// compile from the start at the lowest priority, one after the other, and
/// the release tests, which run last, wait for them. They take the CPU the
/// foreground leaves (network waits, servers starting, a compile's
/// single-threaded stretches), which still slows it some: Kellnr compiled
/// in 483 s beside them against 348-363 s alone. Cargo's progress goes to
/// `.fleet/install-<tool>.log`.
fn install_release_tools(layout: &Layout) -> std::thread::JoinHandle<Result<()>> {
    let logs = layout.state_dir();
    std::thread::spawn(move || {
        for tool in [CARGO_RELEASE, SEMVER_CHECKS] {
            tool.ensure_beside(&logs.join(format!("install-{}.log", tool.krate)))?;
        }
        Ok(())
    })
}

/// The container flow: the engine (installed and started when missing,
/// stopped afterwards by pid when this run started it, also when the base
/// images fail), stand-in base images where pulls are impossible, then the
/// live container tests (`up --docker`, HTTP through the containers, a
/// stopped container, `down --docker` and `up --docker` again).
fn container_flow(
    layout: &Layout,
    first_engine: std::thread::JoinHandle<Result<()>>,
) -> (usize, Vec<String>) {
    println!("==> containers: engine and base images");
    let started = Instant::now();
    // What failed ahead is tried again below, where its error counts.
    match first_engine.join() {
        Ok(Err(err)) => println!("(preparing the engine ahead failed: {err:#})"),
        Err(_) => println!("(preparing the engine ahead panicked)"),
        Ok(Ok(())) => {}
    }
    let (engine, owned) = match Engine::ensure().and_then(|(engine, owned)| {
        match docker::ensure_base_images(&engine) {
            Ok(stand_ins) => Ok((engine, owned, stand_ins)),
            Err(err) => {
                if owned {
                    let _ = Engine::stop_own();
                }
                Err(err)
            }
        }
    }) {
        Ok((engine, owned, stand_ins)) => {
            if owned {
                println!("docker: started the project's engine at {}", engine.host);
            }
            for name in &stand_ins.built {
                println!("docker: built the local stand-in {name}");
            }
            (engine, owned)
        }
        Err(err) => {
            println!("FAILED: containers: engine and base images: {err:#}");
            return (1, vec!["containers: engine and base images".into()]);
        }
    };
    println!(
        "(engine and base images ready in {:.0}s)",
        started.elapsed().as_secs_f64()
    );
    // The swarm stack publishes the ports compose needs. One left on the
    // project's engine (an `up --swarm`, or a run cut off mid-way) makes
    // room here, as the swarm test itself removes it before deploying.
    match crate::ops::swarm::remove(&engine, crate::swarm::STACK) {
        Ok(true) => println!(
            "(making room: removed the swarm stack {} left on the project's engine; it holds the ports compose publishes)",
            crate::swarm::STACK
        ),
        Ok(false) => {}
        Err(err) => println!("(removing a leftover swarm stack failed: {err:#})"),
    }
    let mut live = step(
        layout,
        "test containers (live, docker compose)".into(),
        "xtask",
        &[
            "test",
            "--locked",
            "--test",
            "containers_live",
            "--",
            "--ignored",
            "--nocapture",
        ],
    );
    live.cmd.env("DOCKER_HOST", &engine.host);
    // Then the same fleet replicated on the engine in swarm mode.
    let mut swarm = step(
        layout,
        "test swarm (live, replicated stack)".into(),
        "xtask",
        &[
            "test",
            "--locked",
            "--test",
            "swarm_live",
            "--",
            "--ignored",
            "--nocapture",
        ],
    );
    swarm.cmd.env("DOCKER_HOST", &engine.host);
    // One shared-lib change from commit to every running replica, on a
    // stack of its own (after the swarm checks: one stack at a time). It
    // releases, so it waits for the release tools installed beside.
    let mut whole_path = step(
        layout,
        "test the whole path (commit to every running replica)".into(),
        "xtask",
        &[
            "test",
            "--locked",
            "--test",
            "whole_path",
            "--",
            "--ignored",
            "--nocapture",
        ],
    );
    whole_path.cmd.env("DOCKER_HOST", &engine.host).env(
        crate::fleet::tool::BIN_VAR,
        crate::fleet::tool::built(layout),
    );
    let (mut n, mut f) = run_steps(vec![live, swarm, whole_path]);
    n += 1;
    if owned {
        match Engine::stop_own() {
            Ok(_) => println!("docker: stopped the project's engine"),
            Err(err) => {
                println!("FAILED: stopping the project's engine: {err:#}");
                f.push("containers: stopping the engine".into());
            }
        }
    }
    (n, f)
}

/// Where the running fleet keeps its data (its services' pid records say).
fn running_backend(layout: &Layout) -> Result<DataBackend> {
    for name in layout.fleet()?.names() {
        let record = procs::read_record(&procs::record_path(&layout.state_dir(), name))?;
        if record.is_some_and(|r| r.database == DataBackend::Postgres.name()) {
            return Ok(DataBackend::Postgres);
        }
    }
    Ok(DataBackend::Sqlite)
}

/// The variable that points the database-backed tests at a PostgreSQL
/// server (shared-lib's `db::ScratchDb` reads it).
pub const TEST_POSTGRES_VAR: &str = "FLEET_TEST_POSTGRES";

/// The steps of `test`, in order; `pg_url` is a PostgreSQL server URL
/// whose user may create databases.
fn steps(layout: &Layout, pg_url: &str, tools: &[std::path::PathBuf]) -> Result<Vec<Step>> {
    let projects = projects(layout)?;
    let services = layout
        .fleet()?
        .names()
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>();
    let mut steps = Vec::new();
    for project in &projects {
        steps.push(step(
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
    for project in &projects {
        steps.push(step(layout, format!("clippy {project}"), project, &clippy));
    }
    for project in std::iter::once(&SHARED_LIB.to_string()).chain(&services) {
        let mut test = step(
            layout,
            format!("test {project}"),
            project,
            &["test", "--locked"],
        );
        run::path_first(&mut test.cmd, tools);
        steps.push(test);
        // The same tests again, every database a fresh one on PostgreSQL.
        let mut on_pg = step(
            layout,
            format!("test {project} on PostgreSQL"),
            project,
            &["test", "--locked", "--quiet"],
        );
        on_pg.cmd.env(TEST_POSTGRES_VAR, pg_url);
        run::path_first(&mut on_pg.cmd, tools);
        steps.push(on_pg);
    }
    // `cargo fleet`'s own tests (its commands against a registry, with
    // services in repositories of their own, are among the release tests).
    steps.push(step(
        layout,
        format!("test {FLEET_TOOL}"),
        FLEET_TOOL,
        &["test", "--locked"],
    ));
    for service in &services {
        steps.push(step(
            layout,
            format!("build {service}"),
            service,
            &["build", "--locked", "--quiet"],
        ));
    }
    // xtask's end-to-end tests, but for the release tests (see
    // `release_tests`). --no-fail-fast: one failing test binary does not
    // hide the others.
    let mut e2e_args = vec!["test", "--locked", "--no-fail-fast", "--lib", "--bins"];
    let targets = xtask_test_targets(layout)?;
    for target in targets.iter().filter(|t| *t != RELEASE_TESTS) {
        e2e_args.extend(["--test", target.as_str()]);
    }
    let mut e2e = step(layout, "test xtask (end to end)".into(), "xtask", &e2e_args);
    e2e.cmd
        .env("FLEET_BIN_DIR", layout.target_dir().join("debug"))
        .env(
            crate::fleet::tool::BIN_VAR,
            crate::fleet::tool::built(layout),
        )
        .env(TEST_POSTGRES_VAR, pg_url);
    run::path_first(&mut e2e.cmd, tools);
    steps.push(e2e);
    // Selecting targets leaves the doc tests out: a step of their own.
    steps.push(step(
        layout,
        "test xtask (doc tests)".into(),
        "xtask",
        &["test", "--locked", "--doc"],
    ));
    Ok(steps)
}

/// The fleet tool's project directory.
const FLEET_TOOL: &str = "cargo-fleet";

/// The release tests' target (`xtask/tests/release.rs`).
const RELEASE_TESTS: &str = "release";

/// xtask's integration test targets, as cargo finds them: each
/// `tests/*.rs`, and each `tests/<dir>/main.rs` (`tests/common/` is a
/// module the others share).
fn xtask_test_targets(layout: &Layout) -> Result<Vec<String>> {
    let dir = layout.project("xtask").join("tests");
    let mut targets = Vec::new();
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?
    {
        let path = entry?.path();
        let name = path.file_stem().map(|n| n.to_string_lossy().into_owned());
        let is_target = if path.is_dir() {
            path.join("main.rs").is_file()
        } else {
            path.extension().is_some_and(|e| e == "rs")
        };
        if let (true, Some(name)) = (is_target, name) {
            targets.push(name);
        }
    }
    targets.sort();
    Ok(targets)
}

/// The release tests: throwaway clones of the repository, each on a
/// registry of its own on a free port, built into `<target>/nested` at a
/// fixed path per test (`<target>/sandboxes/<test>`), so the crates.io
/// dependencies built there are reused from run to run;
/// cargo-semver-checks runs one at a time per build cache (see
/// `release::guard`), so sandboxes never read each other's rustdoc
/// output.
fn release_tests(layout: &Layout) -> Step {
    let mut releases = step(
        layout,
        "test xtask (releases)".into(),
        "xtask",
        &[
            "test",
            "--locked",
            "--no-fail-fast",
            "--test",
            RELEASE_TESTS,
        ],
    );
    releases.cmd.env(
        crate::fleet::tool::BIN_VAR,
        crate::fleet::tool::built(layout),
    );
    releases
}

/// Runs `step` with its output in `log` (emptied first), then prints the
/// log; its count and failure as [`run_steps`] gives them.
fn run_logged(mut step: Step, log: &std::path::Path) -> (usize, Vec<String>) {
    println!(
        "(started {} beside the checks that follow; its output goes to {} and is printed when it ends)",
        step.name,
        log.display()
    );
    let ok = crate::ops::run::output_to(&mut step.cmd, log)
        .and_then(|_| crate::ops::run::succeeds(&mut step.cmd));
    println!(
        "==> {} (ran beside the checks above; its output, kept in {}:)",
        step.name,
        log.display()
    );
    match std::fs::read_to_string(log) {
        Ok(text) => print!("{text}"),
        Err(err) => println!("(cannot read {}: {err})", log.display()),
    }
    match ok {
        Ok(true) => (1, Vec::new()),
        Ok(false) => {
            println!("FAILED: {}", step.name);
            (1, vec![step.name])
        }
        Err(err) => {
            println!("FAILED: {}: {err:#}", step.name);
            (1, vec![step.name])
        }
    }
}

/// Runs every step, even after a failure; returns how many ran and the
/// names of those that failed.
fn run_steps(steps: Vec<Step>) -> (usize, Vec<String>) {
    let total = steps.len();
    let mut failed = Vec::new();
    for mut step in steps {
        println!("==> {}", step.name);
        let ok = match crate::ops::run::succeeds(&mut step.cmd) {
            Ok(ok) => ok,
            Err(err) => {
                eprintln!("{}: {err:#}", step.name);
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
