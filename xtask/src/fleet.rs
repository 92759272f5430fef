//! The fleet on this machine: the registry on port 8000 and both services,
//! started from this checkout and remembered in `.fleet/`.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use semver::Version;

use crate::history::{self, SHARED_LIB, Verify};
use crate::index;
use crate::paths::Layout;
use crate::procs::{self, PidRecord};
use crate::registry::{FLEET_PORT, Health, Kellnr};
use crate::run::run;
use crate::tools::KELLNR;

/// A service of the fleet and how it runs natively.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// Its name: directory, package and binary.
    pub name: &'static str,
    /// Its default port (the service's own default; the README's).
    pub port: u16,
}

/// Every service, in start order (order-service needs user-service).
pub const SERVICES: [Service; 2] = [
    Service {
        name: "user-service",
        port: 8081,
    },
    Service {
        name: "order-service",
        port: 8082,
    },
];

/// The names of every service.
pub fn service_names() -> Vec<&'static str> {
    SERVICES.iter().map(|s| s.name).collect()
}

impl Service {
    /// Its base URL on this machine.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The debug binary cargo builds for it in the shared target dir.
    pub fn binary(&self, layout: &Layout) -> std::path::PathBuf {
        layout.target_dir().join("debug").join(self.name)
    }

    /// The environment it runs with natively.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("PORT", self.port.to_string())];
        if self.name == "order-service" {
            env.push(("USER_SERVICE_URL", SERVICES[0].url()));
        }
        env
    }
}

/// The fleet's registry: port 8000, data under `registry/data`.
pub fn fleet_registry(layout: &Layout) -> Kellnr {
    Kellnr {
        port: FLEET_PORT,
        data_dir: layout.registry_data(),
        config: layout.kellnr_config(),
        log: layout.state_dir().join("kellnr.log"),
    }
}

/// What [`ensure_registry`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryStart {
    /// It was already answering on port 8000.
    AlreadyRunning,
    /// This call started it.
    Started,
}

/// Makes sure Kellnr answers on port 8000: uses the running one, or
/// installs (once) and starts it with this checkout's data.
pub fn ensure_registry(layout: &Layout) -> Result<RegistryStart> {
    let kellnr = fleet_registry(layout);
    let record_path = procs::record_path(&layout.state_dir(), "kellnr");
    match kellnr.health() {
        Health::Up => {
            match procs::read_record(&record_path)? {
                Some(r) if procs::is_running(&r) => {
                    eprintln!(
                        "registry: already running at {} (pid {})",
                        kellnr.base_url(),
                        r.pid
                    )
                }
                _ => eprintln!(
                    "registry: a Kellnr already answers at {} (not started from this checkout); using it",
                    kellnr.base_url()
                ),
            }
            Ok(RegistryStart::AlreadyRunning)
        }
        Health::Foreign(what) => bail!(
            "port {FLEET_PORT} is taken by something that is not Kellnr ({what}); the registry URL \
             in every Cargo.lock is fixed to 127.0.0.1:{FLEET_PORT}, so stop that program \
             (`ss -ltnp 'sport = :{FLEET_PORT}'` shows it) and run the command again"
        ),
        Health::Down => {
            let bin = KELLNR.ensure()?;
            let child = kellnr.start(&bin)?;
            procs::write_record(
                &record_path,
                &PidRecord {
                    pid: child.id(),
                    program: bin.clone(),
                    program_mtime: procs::mtime(&bin)?,
                    url: kellnr.base_url(),
                    log: kellnr.log.clone(),
                },
            )?;
            eprintln!(
                "registry: started Kellnr {} at {} (pid {}, data in {}, log {})",
                KELLNR.version,
                kellnr.base_url(),
                child.id(),
                kellnr.data_dir.display(),
                kellnr.log.display()
            );
            Ok(RegistryStart::Started)
        }
    }
}

/// Publishes every shared-lib version a service pins that `registry`
/// lacks, from git history, then checks that the registry's checksums are
/// the ones the lockfiles recorded. Returns the versions it published.
pub fn publish_pinned(layout: &Layout, registry: &Kellnr) -> Result<Vec<Version>> {
    let pins = history::pins(layout, &service_names())?;
    let expected_source = fleet_registry(layout).index_url();
    for (service, pin) in &pins {
        if pin.source != expected_source {
            bail!(
                "{service}/Cargo.lock takes {SHARED_LIB} from {}, not from the fleet registry \
                 {expected_source}; depend on it with `registry = \"local\"` and run `cargo update -p {SHARED_LIB}` there",
                pin.source
            );
        }
    }
    let needed: BTreeSet<Version> = pins.values().map(|p| p.version.clone()).collect();
    let have: BTreeSet<Version> = index::published(&registry.base_url(), SHARED_LIB)?
        .into_iter()
        .map(|p| p.version)
        .collect();
    let missing: Vec<Version> = needed.difference(&have).cloned().collect();
    if !missing.is_empty() {
        let releases = history::releases(&layout.root)?;
        for version in &missing {
            let release = releases.iter().find(|r| &r.version == version).with_context(|| {
                format!(
                    "a service pins {SHARED_LIB} {version}, but no commit of shared-lib/Cargo.toml \
                     has that version; the history is incomplete (`git fetch --unshallow`) or the \
                     lockfile names a version never released from this repository"
                )
            })?;
            eprintln!(
                "registry: publishing {SHARED_LIB} {version} from commit {}",
                &release.commit[..12]
            );
            history::publish_release(layout, registry, release, Verify::Skip)?;
        }
    }
    let published = index::published(&registry.base_url(), SHARED_LIB)?;
    for (service, pin) in &pins {
        let entry = published.iter().find(|p| p.version == pin.version);
        match (entry, &pin.checksum) {
            (Some(p), Some(sum)) if &p.checksum != sum => bail!(
                "the registry's {SHARED_LIB} {} has checksum {} but {service}/Cargo.lock expects {sum}: \
                 the registry holds a different build of that version. Reset the registry \
                 (`cargo xtask down`, delete registry/data, `cargo xtask up`)",
                pin.version,
                p.checksum
            ),
            (None, _) => bail!(
                "{SHARED_LIB} {} is still missing from the registry",
                pin.version
            ),
            _ => {}
        }
    }
    let listed: Vec<String> = needed.iter().map(ToString::to_string).collect();
    if missing.is_empty() {
        eprintln!(
            "registry: already holds every pinned {SHARED_LIB} version ({})",
            listed.join(", ")
        );
    }
    Ok(missing)
}

/// Builds every service's binary with `cargo build --locked`.
pub fn build_services(layout: &Layout) -> Result<()> {
    for service in SERVICES {
        run(Command::new("cargo")
            .args(["build", "--locked", "--quiet"])
            .current_dir(layout.project(service.name))
            .env("CARGO_TARGET_DIR", layout.target_dir()))?;
    }
    Ok(())
}

/// What [`start_service`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStart {
    /// Already running the current binary.
    AlreadyRunning,
    /// Started now.
    Started,
    /// Was running an older binary; restarted.
    Restarted,
}

/// Starts `service` from its built binary unless it already runs that
/// binary, and waits until `GET /ready` answers 200.
pub fn start_service(layout: &Layout, service: Service) -> Result<ServiceStart> {
    let record_path = procs::record_path(&layout.state_dir(), service.name);
    let bin = service.binary(layout);
    let bin_mtime = procs::mtime(&bin).with_context(|| {
        format!(
            "{} is not built; run `cargo build --locked` in {}",
            bin.display(),
            service.name
        )
    })?;
    let mut outcome = ServiceStart::Started;
    if let Some(record) = procs::read_record(&record_path)? {
        if procs::is_running(&record) {
            if record.program_mtime == bin_mtime {
                return Ok(ServiceStart::AlreadyRunning);
            }
            procs::stop(&record, Duration::from_secs(10))?;
            outcome = ServiceStart::Restarted;
        }
        std::fs::remove_file(&record_path).ok();
    }
    if procs::port_in_use(service.port) {
        bail!(
            "port {} is taken by another program, so {} cannot start; stop it \
             (`ss -ltnp 'sport = :{}'` shows which)",
            service.port,
            service.name,
            service.port
        );
    }
    let log = layout.state_dir().join(format!("{}.log", service.name));
    let mut cmd = Command::new(&bin);
    cmd.envs(service.env());
    let ready = format!("{}/ready", service.url());
    let child = procs::spawn_ready(cmd, &log, &ready, Duration::from_secs(30))?;
    procs::write_record(
        &record_path,
        &PidRecord {
            pid: child.id(),
            program: bin,
            program_mtime: bin_mtime,
            url: service.url(),
            log,
        },
    )?;
    Ok(outcome)
}

/// Stops what `up` started (services first, then the registry), by the pid
/// records in `.fleet/`, and nothing else. Returns the names it stopped.
pub fn down(layout: &Layout) -> Result<Vec<String>> {
    let mut stopped = Vec::new();
    let names = SERVICES.iter().rev().map(|s| s.name).chain(["kellnr"]);
    for name in names {
        let path = procs::record_path(&layout.state_dir(), name);
        if let Some(record) = procs::read_record(&path)? {
            if procs::stop(&record, Duration::from_secs(15))? {
                println!("stopped {name} (pid {})", record.pid);
                stopped.push(name.to_string());
            }
            std::fs::remove_file(&path).ok();
        }
    }
    Ok(stopped)
}
