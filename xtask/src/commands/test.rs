//! `cargo xtask test`: the whole suite. Starts the registry when none
//! runs, publishes what the services pin, starts a throwaway PostgreSQL 15
//! server, runs fmt, clippy and the tests of every project (the
//! database-backed ones on SQLite and again on PostgreSQL) and the
//! end-to-end tests; then, if it started the registry, stops it and runs
//! the services' tests again from Cargo's cache.

use std::process::Command;
use std::time::Instant;

use anyhow::{Result, bail};

use crate::fleet::{self, DataBackend, RegistryStart};
use crate::history::SHARED_LIB;
use crate::ops::cargo::cargo;
use crate::ops::docker::{self, Engine};
use crate::ops::postgres::{self, Postgres};
use crate::ops::procs;
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
/// each service of the manifest, xtask, the benchmark baseline and the
/// benchmark's database anchor.
pub fn projects(layout: &Layout) -> Result<Vec<String>> {
    let mut all = vec![SHARED_LIB.to_string()];
    all.extend(layout.fleet()?.names().iter().map(|s| s.to_string()));
    all.extend(
        ["xtask", paths::BARE_WARP, paths::DB_ANCHOR]
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
    install_tools()?;
    let (registry, start) = super::registry(layout)?;
    let outcome = super::publish_pinned(layout, &registry).and_then(|_| {
        let pg = ThrowawayPostgres::start()?;
        println!(
            "postgres: a throwaway PostgreSQL 15 on 127.0.0.1:{} for the database-backed tests (data in {})",
            pg.0.port,
            pg.0.data.display()
        );
        Ok(run_steps(steps(layout, &pg.0.superuser_url("postgres")?)?))
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
    if start == RegistryStart::Foreign {
        println!(
            "FAILED: the registry-stopped and container checks: a Kellnr this checkout did not start holds port 8000; stop it (`cargo xtask down` in its checkout) and run the command again"
        );
        total += 1;
        failed.push("registry-stopped and container checks (port 8000 held)".into());
    } else {
        // Once the lockfiles are complete and the crates cached, a service
        // builds and tests without the registry: check it with Kellnr stopped.
        let offline = layout
            .fleet()?
            .services
            .iter()
            .map(|s| {
                let name = format!("test {} with the registry stopped", s.name);
                step(layout, name, &s.name, &["test", "--locked", "--quiet"])
            })
            .collect();
        let (n, f) = run_steps(offline);
        total += n;
        failed.extend(f);
        // The same fleet as containers, on a real engine: port 8000 must be
        // free for the registry container.
        let (n, f) = container_flow(layout, first_engine);
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

/// Installs the tools the suite needs and this machine lacks (Kellnr comes
/// with the registry, next). The cargo tools compile one after the other:
/// compiled side by side with Kellnr on 2 cores, the three took 709 s in
/// a cold CI run, where one after the other took 660 s in the one before.
/// The PyPI and npm downloads, mostly waiting on the network, go on
/// meanwhile. Every install has finished when this returns, failed or
/// not.
fn install_tools() -> Result<()> {
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
        // The end-to-end tests release and compare APIs with these.
        let cargo_tools = CARGO_RELEASE
            .ensure()
            .and_then(|_| SEMVER_CHECKS.ensure())
            .map(drop);
        let joined = |handle: std::thread::ScopedJoinHandle<'_, Result<()>>, what: &str| {
            handle
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("installing {what} panicked")))
        };
        let downloads = joined(downloads, "the PyPI and npm tools");
        // Each failure said; the first one ends the command.
        let mut errors = [cargo_tools, downloads].into_iter().filter_map(Result::err);
        let first = errors.next();
        for other in errors {
            eprintln!("error: {other:#}");
        }
        first.map_or(Ok(()), Err)
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
    let (mut n, mut f) = run_steps(vec![live, swarm]);
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

/// A PostgreSQL server for one run, deleted when dropped.
struct ThrowawayPostgres(Postgres);

impl ThrowawayPostgres {
    fn start() -> Result<ThrowawayPostgres> {
        let pg = Postgres::new(
            postgres::base_dir().join(format!("test-{}", std::process::id())),
            crate::ops::procs::free_port()?,
        )
        .scratch();
        // Guard first: a failed start still removes what it made.
        let pg = ThrowawayPostgres(pg);
        pg.0.ensure_running()?;
        Ok(pg)
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        if let Err(err) = self.0.destroy() {
            eprintln!("cannot remove the throwaway PostgreSQL server: {err:#}");
        }
    }
}

/// The variable that points the database-backed tests at a PostgreSQL
/// server (shared-lib's `db::ScratchDb` reads it).
pub const TEST_POSTGRES_VAR: &str = "FLEET_TEST_POSTGRES";

/// The steps of `test`, in order; `pg_url` is a PostgreSQL server URL
/// whose user may create databases.
fn steps(layout: &Layout, pg_url: &str) -> Result<Vec<Step>> {
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
        steps.push(step(
            layout,
            format!("test {project}"),
            project,
            &["test", "--locked"],
        ));
        // The same tests again, every database a fresh one on PostgreSQL.
        let mut on_pg = step(
            layout,
            format!("test {project} on PostgreSQL"),
            project,
            &["test", "--locked", "--quiet"],
        );
        on_pg.cmd.env(TEST_POSTGRES_VAR, pg_url);
        steps.push(on_pg);
    }
    for service in &services {
        steps.push(step(
            layout,
            format!("build {service}"),
            service,
            &["build", "--locked", "--quiet"],
        ));
    }
    // The release tests build their throwaway clones into `<target>/nested`,
    // each at a fixed path of its own (`<target>/sandboxes/<test>`), so the
    // crates.io dependencies built there are reused from run to run;
    // cargo-semver-checks runs one at a time per build cache (see
    // `release::guard`), so sandboxes never read each other's rustdoc
    // output.
    // --no-fail-fast: one failing test binary does not hide the others.
    let mut e2e = step(
        layout,
        "test xtask (end to end)".into(),
        "xtask",
        &["test", "--locked", "--no-fail-fast"],
    );
    e2e.cmd
        .env("FLEET_BIN_DIR", layout.target_dir().join("debug"))
        .env(TEST_POSTGRES_VAR, pg_url);
    steps.push(e2e);
    Ok(steps)
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
