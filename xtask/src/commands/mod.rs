//! The subcommands, one module each; each is the only code that prints
//! for its command. They return errors instead of exiting; `main` turns an
//! error into one line on stderr and a non-zero exit code.

pub mod advise;
pub mod bench;
pub mod bump;
pub mod check_consumers;
pub mod down;
pub mod fleet_bench;
pub mod k8s;
pub mod new_service;
pub mod publish;
pub mod release;
pub mod renovate;
pub mod rollout;
pub mod status;
pub mod test;
pub mod up;

use anyhow::Result;

/// Where `up` and `down` act: processes on this machine, or containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// Processes started from this checkout, pid records in `.fleet/`.
    Native,
    /// The compose project on the project's Docker engine.
    Docker,
    /// The stack `fleet` on that engine in swarm mode, replicated behind
    /// one proxy.
    Swarm,
}

use std::time::Instant;

use crate::fleet::{self, DataBackend, RegistryStart, ServiceStart};
use crate::history::SHARED_LIB;
use crate::ops::registry::Kellnr;
use crate::ops::tools::KELLNR;
use crate::paths::Layout;

/// The fleet's registry, started when none answers, reported in one line.
fn registry(layout: &Layout) -> Result<(Kellnr, RegistryStart)> {
    let (kellnr, start) = fleet::ensure_registry(layout)?;
    match &start {
        RegistryStart::AlreadyRunning(pid) => {
            eprintln!(
                "registry: already running at {} (pid {pid})",
                kellnr.base_url()
            )
        }
        RegistryStart::Foreign if kellnr.data_dir == layout.registry_data() => eprintln!(
            "registry: a Kellnr already answers at {} (not started from this checkout); using it",
            kellnr.base_url()
        ),
        RegistryStart::Foreign => eprintln!(
            "registry: this checkout's registry container answers at {} (its tokens in {})",
            kellnr.base_url(),
            kellnr.data_dir.display()
        ),
        RegistryStart::Started(pid) => eprintln!(
            "registry: started Kellnr {} at {} (pid {pid}, data in {}, log {})",
            KELLNR.version,
            kellnr.base_url(),
            kellnr.data_dir.display(),
            kellnr.log.display()
        ),
    }
    Ok((kellnr, start))
}

/// Publishes every pinned shared-lib version `registry` lacks, reporting
/// each; whether it published any.
fn publish_pinned(layout: &Layout, registry: &Kellnr) -> Result<bool> {
    let report = fleet::publish_pinned(layout, registry, fleet::Docs::Ensure)?;
    let (replayed, pinned) = (&report.replayed, &report.pinned);
    for r in replayed {
        eprintln!(
            "registry: published {SHARED_LIB} {} from commit {}",
            r.version,
            &r.commit[..12]
        );
    }
    if replayed.is_empty() {
        let listed: Vec<String> = pinned.iter().map(ToString::to_string).collect();
        eprintln!(
            "registry: already holds every pinned {SHARED_LIB} version ({})",
            listed.join(", ")
        );
    }
    for version in &report.documented {
        eprintln!(
            "registry: built and uploaded the docs of {SHARED_LIB} {version} ({}{})",
            registry.base_url(),
            crate::history::docs_path(version)
        );
    }
    Ok(!replayed.is_empty() || !report.documented.is_empty())
}

/// `up`'s native fleet, reported as it goes: registry, pinned versions,
/// builds, the data backend, every service started and ready. `up` runs
/// it; `test` runs it again to restore a fleet it made room for.
fn start_native_fleet(layout: &Layout, backend: DataBackend) -> Result<()> {
    let started = Instant::now();
    let fleet = layout.fleet()?;
    let (registry, start) = registry(layout)?;
    let mut published = publish_pinned(layout, &registry)?;
    if let Some(version) = fleet::publish_tool(layout, &registry)? {
        eprintln!(
            "registry: published {} {version} (`cargo install --registry local {}` installs `cargo fleet`)",
            fleet::tool::NAME,
            fleet::tool::NAME
        );
        published = true;
    }
    println!("services: building with `cargo build --locked`");
    fleet::build_services(layout, &registry, &fleet)?;
    let mut changed = start.started() || published;
    let pg = match backend {
        DataBackend::Sqlite => {
            println!(
                "data: each service's SQLite file under {}",
                fleet::data_dir(layout).display()
            );
            None
        }
        DataBackend::Postgres => {
            let pg = fleet::fleet_postgres(layout);
            let pg_started = pg.ensure_running()?;
            changed |= pg_started;
            println!(
                "data: PostgreSQL 15 {} on 127.0.0.1:{} (data in {}), a database and role per service",
                if pg_started {
                    "started"
                } else {
                    "already running"
                },
                pg.port,
                pg.data.display()
            );
            Some(pg)
        }
    };
    for service in &fleet.services {
        let data = fleet::data_env(layout, service, backend, pg.as_ref())?;
        let outcome = fleet::start_service(layout, &fleet, service, backend, data)?;
        let what = match outcome {
            ServiceStart::AlreadyRunning => "already running",
            ServiceStart::Started => "started",
            ServiceStart::Restarted => "restarted (its binary was rebuilt or its database changed)",
        };
        changed |= outcome != ServiceStart::AlreadyRunning;
        println!("{}: {what} at {}", service.name, fleet::url(service.port));
    }
    for name in &fleet.elsewhere {
        println!(
            "{name}: in a repository of its own (declared by git in fleet.toml); `cargo fleet` serves it, this harness does not run it"
        );
    }
    let prometheus = fleet::prometheus::ensure_running(layout, &fleet)?;
    changed |= prometheus != ServiceStart::AlreadyRunning;
    let prometheus_url = fleet::url(crate::ops::prometheus::PORT);
    println!(
        "prometheus: {} at {prometheus_url}, scraping every service's /metrics",
        if prometheus == ServiceStart::Started {
            "started"
        } else {
            "already running"
        }
    );
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
        "{:<width$} {prometheus_url}  (try `curl '{prometheus_url}/api/v1/query?query=build_info'`)",
        "prometheus"
    );
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
