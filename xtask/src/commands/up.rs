//! `cargo xtask up [--docker]`: the registry started, every pinned
//! shared-lib version published, every service of `fleet.toml` built,
//! started in dependency order and ready. A second `up` changes nothing.

use std::time::Instant;

use anyhow::{Result, bail};

use crate::fleet::{self, ServiceStart};
use crate::ops::docker;
use crate::ops::procs;
use crate::ops::run::run;
use crate::paths::Layout;

/// Runs `up`.
pub fn run_native(layout: &Layout) -> Result<()> {
    let started = Instant::now();
    let fleet = layout.fleet()?;
    let (registry, start) = super::registry(layout)?;
    let published = super::publish_pinned(layout, &registry)?;
    println!("services: building with `cargo build --locked`");
    fleet::build_services(layout, &fleet)?;
    let mut changed = start.started() || published;
    for service in &fleet.services {
        let outcome = fleet::start_service(layout, &fleet, service)?;
        let what = match outcome {
            ServiceStart::AlreadyRunning => "already running",
            ServiceStart::Started => "started",
            ServiceStart::Restarted => "restarted (its binary was rebuilt)",
        };
        changed |= outcome != ServiceStart::AlreadyRunning;
        println!("{}: {what} at {}", service.name, fleet::url(service.port));
    }
    let width = fleet
        .names()
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(0)
        .max(14);
    println!();
    println!(
        "{:<width$} {}  (index {})",
        "registry",
        registry.base_url(),
        registry.index_url()
    );
    for service in &fleet.services {
        let url = fleet::url(service.port);
        println!("{:<width$} {url}  (try `curl {url}/`)", service.name);
    }
    println!(
        "{:<width$} {}",
        "logs and pids",
        layout.state_dir().display()
    );
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

/// Runs `up --docker`. The order is the point: registry container first,
/// pinned shared-lib versions published into it, then the service images
/// built (they download shared-lib while building), then everything started.
pub fn run_docker(layout: &Layout) -> Result<()> {
    docker::engine()?;
    let fleet = layout.fleet()?;
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
    run(docker::compose(layout, &registry)?.args(["up", "--detach", "--wait", "registry"]))?;
    super::publish_pinned(layout, &registry)?;
    println!("services: building images (they fetch shared-lib from 127.0.0.1:8000)");
    run(docker::compose(layout, &registry)?.arg("build"))?;
    run(docker::compose(layout, &registry)?.args(["up", "--detach", "--wait"]))?;
    for service in &fleet.services {
        println!("{:<14} {}", service.name, fleet::url(service.port));
    }
    println!("containers up; `cargo xtask down --docker` stops them (the registry volume stays)");
    Ok(())
}
