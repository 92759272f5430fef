//! `cargo xtask test`: the whole suite. Starts the registry when none
//! runs, publishes what the services pin, runs fmt, clippy and the tests of
//! every project and the end-to-end tests; then, if it started the
//! registry, stops it and runs the services' tests again from Cargo's cache.

use std::process::Command;
use std::time::Instant;

use anyhow::{Result, bail};

use crate::fleet;
use crate::history::SHARED_LIB;
use crate::ops::cargo::cargo;
use crate::ops::tools::{CARGO_CHEF, CARGO_RELEASE, SEMVER_CHECKS};
use crate::paths::Layout;

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
/// each service of the manifest, xtask and the benchmark baseline.
pub fn projects(layout: &Layout) -> Result<Vec<String>> {
    let mut all = vec![SHARED_LIB.to_string()];
    all.extend(layout.fleet()?.names().iter().map(|s| s.to_string()));
    all.extend(["xtask".to_string(), "bench/bare-warp".to_string()]);
    Ok(all)
}

/// Runs `test`.
pub fn run(layout: &Layout) -> Result<()> {
    let started = Instant::now();
    // The end-to-end tests release, compare APIs and run the Dockerfiles'
    // build commands with these.
    CARGO_RELEASE.ensure()?;
    SEMVER_CHECKS.ensure()?;
    CARGO_CHEF.ensure()?;
    let (registry, start) = super::registry(layout)?;
    let outcome =
        super::publish_pinned(layout, &registry).and_then(|_| Ok(run_steps(steps(layout)?)));
    if start.started() {
        fleet::down(layout)?;
    }
    let (mut total, mut failed) = outcome?;
    // Once the lockfiles are complete and the crates cached, a service
    // builds and tests without the registry: check it with Kellnr stopped.
    if start.started() {
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
fn steps(layout: &Layout) -> Result<Vec<Step>> {
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
    }
    for service in &services {
        steps.push(step(
            layout,
            format!("build {service}"),
            service,
            &["build", "--locked", "--quiet"],
        ));
    }
    let mut e2e = step(
        layout,
        "test xtask (end to end)".into(),
        "xtask",
        &["test", "--locked"],
    );
    e2e.cmd
        .env("FLEET_BIN_DIR", layout.target_dir().join("debug"));
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
