//! The fleet on this machine: the registry on port 8000 and the services of
//! `fleet.toml`, started from this checkout and remembered in `.fleet/`.
//! Nothing here prints; the commands report what these functions return.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use semver::Version;

use crate::history::{self, SHARED_LIB, Verify};
use crate::index;
use crate::manifest::{Fleet, Service};
use crate::ops::cargo::cargo;
use crate::ops::postgres::{self, Postgres};
use crate::ops::procs::{self, PidRecord};
use crate::ops::registry::{FLEET_PORT, Health, Kellnr};
use crate::ops::run::run;
use crate::ops::tools::KELLNR;
use crate::paths::Layout;

/// A service's base URL on this machine at `port`.
pub fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The debug binary cargo builds for `service` in the shared target dir.
pub fn binary(layout: &Layout, service: &Service) -> PathBuf {
    layout.target_dir().join("debug").join(&service.name)
}

/// The environment `service` runs with natively: its port, and each
/// callee's URL in the variable the manifest names, with callees on the
/// ports `port_of` gives.
pub fn service_env(
    fleet: &Fleet,
    service: &Service,
    port_of: impl Fn(&Service) -> u16,
) -> Result<Vec<(String, String)>> {
    let mut env = vec![("PORT".to_string(), port_of(service).to_string())];
    for call in &service.calls {
        let callee = fleet.service(&call.service)?;
        env.push((call.env.clone(), url(port_of(callee))));
    }
    Ok(env)
}

/// Where `up` keeps the services' data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataBackend {
    /// Each service's SQLite file under `.fleet/data/<service>/` (the default).
    Sqlite,
    /// A database and role per service on the project's PostgreSQL server
    /// (`up --postgres`).
    Postgres,
}

impl DataBackend {
    /// `sqlite` or `postgres`, as pid records and messages say it.
    pub fn name(self) -> &'static str {
        match self {
            DataBackend::Sqlite => "sqlite",
            DataBackend::Postgres => "postgres",
        }
    }
}

/// The services' SQLite files of `up`: `.fleet/data/<service>/`.
pub fn data_dir(layout: &Layout) -> PathBuf {
    layout.state_dir().join("data")
}

/// The PostgreSQL server of `up --postgres`: port 55432, data outside the
/// checkout (the server's user must own it), one per checkout.
pub fn fleet_postgres(layout: &Layout) -> Postgres {
    // FNV-1a of the checkout's path: stable across runs and toolchains.
    let hash = layout
        .root
        .to_string_lossy()
        .bytes()
        .fold(0xcbf29ce484222325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        });
    Postgres::new(
        postgres::base_dir().join(format!("fleet-{:012x}", hash & 0xffff_ffff_ffff)),
        postgres::FLEET_PORT,
    )
}

/// The environment that puts `service`'s data where `backend` says:
/// `DATA_DIR`, or `DATABASE_URL` of its own database on `pg`.
pub fn data_env(
    layout: &Layout,
    service: &Service,
    backend: DataBackend,
    pg: Option<&Postgres>,
) -> Result<Vec<(String, String)>> {
    Ok(match (backend, pg) {
        (DataBackend::Postgres, Some(pg)) => {
            vec![("DATABASE_URL".into(), pg.ensure_database(&service.name)?)]
        }
        (DataBackend::Postgres, None) => bail!("no PostgreSQL server given for {}", service.name),
        (DataBackend::Sqlite, _) => vec![(
            "DATA_DIR".into(),
            data_dir(layout)
                .join(&service.name)
                .to_string_lossy()
                .into_owned(),
        )],
    })
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryStart {
    /// Started by this checkout's `up`, already running (its pid).
    AlreadyRunning(u32),
    /// A Kellnr this checkout did not start answers on port 8000.
    Foreign,
    /// This call started it (its pid).
    Started(u32),
}

impl RegistryStart {
    /// Whether this call started it (and so should stop it when done).
    pub fn started(&self) -> bool {
        matches!(self, RegistryStart::Started(_))
    }
}

/// Makes sure Kellnr answers on port 8000: uses the running one, or
/// installs (once) and starts it with this checkout's data.
pub fn ensure_registry(layout: &Layout) -> Result<(Kellnr, RegistryStart)> {
    let kellnr = fleet_registry(layout);
    let record_path = procs::record_path(&layout.state_dir(), "kellnr");
    let start = match kellnr.health() {
        Health::Up => match procs::read_record(&record_path)? {
            Some(r) if procs::is_running(&r) => RegistryStart::AlreadyRunning(r.pid),
            _ => RegistryStart::Foreign,
        },
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
                    database: String::new(),
                },
            )?;
            RegistryStart::Started(child.id())
        }
    };
    Ok((kellnr, start))
}

/// One version [`publish_pinned`] published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The version.
    pub version: Version,
    /// The commit it was published from.
    pub commit: String,
}

/// Whether [`publish_pinned`] also makes sure each pinned version's docs
/// are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Docs {
    /// Build and upload the docs of every pinned version that has none.
    Ensure,
    /// Leave docs alone (throwaway registries in tests).
    Skip,
}

/// What [`publish_pinned`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinnedReport {
    /// Versions it published.
    pub replayed: Vec<Replayed>,
    /// Versions whose docs it built and uploaded.
    pub documented: Vec<Version>,
    /// Every version a service pins.
    pub pinned: Vec<Version>,
}

/// Projects of the repository besides the services that resolve shared-lib
/// from the registry: what they pin is published too.
pub const OTHER_CONSUMERS: &[&str] = &["bench/db-anchor"];

/// Publishes every shared-lib version a service (or one of
/// [`OTHER_CONSUMERS`]) pins that `registry` lacks, from git history, then
/// checks that the registry's checksums are the ones the lockfiles
/// recorded, and (with [`Docs::Ensure`]) that each pinned version's docs
/// are served.
pub fn publish_pinned(layout: &Layout, registry: &Kellnr, docs: Docs) -> Result<PinnedReport> {
    let fleet = layout.fleet()?;
    let mut consumers = fleet.names();
    consumers.extend(OTHER_CONSUMERS);
    let pins = history::pins(layout, &consumers)?;
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
    let have: BTreeSet<Version> = index::published(registry, SHARED_LIB)?
        .into_iter()
        .map(|p| p.version)
        .collect();
    let missing: Vec<Version> = needed.difference(&have).cloned().collect();
    let mut replayed = Vec::new();
    let releases = if missing.is_empty() && docs == Docs::Skip {
        Vec::new()
    } else {
        history::releases(&layout.root)?
    };
    for version in &missing {
        let release = releases
            .iter()
            .find(|r| &r.version == version)
            .with_context(|| {
                format!(
                    "a service pins {SHARED_LIB} {version}, but no commit of shared-lib/Cargo.toml \
                 has that version; the history is incomplete (`git fetch --unshallow`) or the \
                 lockfile names a version never released from this repository"
                )
            })?;
        history::publish_release(layout, registry, release, Verify::Skip)?;
        replayed.push(Replayed {
            version: version.clone(),
            commit: release.commit.clone(),
        });
    }
    let published = index::published(registry, SHARED_LIB)?;
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
    let mut documented = Vec::new();
    if docs == Docs::Ensure {
        let session = registry.reader_session()?;
        for version in &needed {
            let url = format!("{}{}", registry.base_url(), history::docs_path(version));
            if session
                .get(&url)
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                continue;
            }
            let release = releases
                .iter()
                .find(|r| &r.version == version)
                .with_context(|| format!("{SHARED_LIB} {version} is not in git history"))?;
            history::publish_docs(layout, registry, release)?;
            documented.push(version.clone());
        }
    }
    Ok(PinnedReport {
        replayed,
        documented,
        pinned: needed.into_iter().collect(),
    })
}

/// Builds every service's binary with `cargo build --locked`, reading
/// shared-lib from `registry`.
pub fn build_services(layout: &Layout, registry: &Kellnr, fleet: &Fleet) -> Result<()> {
    for service in &fleet.services {
        build_service(layout, registry, service)?;
    }
    Ok(())
}

/// Builds one service's binary with `cargo build --locked`.
pub fn build_service(layout: &Layout, registry: &Kellnr, service: &Service) -> Result<()> {
    let mut cmd = cargo(
        layout,
        layout.project(&service.name),
        &["build", "--locked", "--quiet"],
    );
    crate::ops::cargo::reading(&mut cmd, registry)?;
    run(&mut cmd)
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

/// Starts `service` from its built binary with its data where `data` says
/// (see [`data_env`]) unless it already runs that binary on that backend,
/// and waits until its readiness path answers 200.
pub fn start_service(
    layout: &Layout,
    fleet: &Fleet,
    service: &Service,
    backend: DataBackend,
    data: Vec<(String, String)>,
) -> Result<ServiceStart> {
    let record_path = procs::record_path(&layout.state_dir(), &service.name);
    let bin = binary(layout, service);
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
            if record.program_mtime == bin_mtime && record.database == backend.name() {
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
    let mut cmd = std::process::Command::new(&bin);
    cmd.envs(service_env(fleet, service, |s| s.port)?);
    cmd.envs(data);
    let ready = format!("{}{}", url(service.port), service.ready);
    let child = procs::spawn_ready(cmd, &log, &ready, Duration::from_secs(30))?;
    procs::write_record(
        &record_path,
        &PidRecord {
            pid: child.id(),
            program: bin,
            program_mtime: bin_mtime,
            url: url(service.port),
            log,
            database: backend.name().into(),
        },
    )?;
    Ok(outcome)
}

/// Stops what `up` started (services in reverse start order, then the
/// registry), by the pid records in `.fleet/`, and nothing else. Returns
/// the names and pids it stopped.
pub fn down(layout: &Layout) -> Result<Vec<(String, u32)>> {
    let mut names: Vec<String> = layout
        .fleet()?
        .names()
        .iter()
        .rev()
        .map(|s| s.to_string())
        .collect();
    // Records of services no longer in the manifest are stopped too.
    for entry in std::fs::read_dir(layout.state_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let file = entry.file_name().to_string_lossy().into_owned();
        if let Some(name) = file.strip_suffix(".pid.json")
            && name != "kellnr"
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_string());
        }
    }
    names.push("kellnr".to_string());
    let mut stopped = Vec::new();
    for name in names {
        let path = procs::record_path(&layout.state_dir(), &name);
        if let Some(record) = procs::read_record(&path)? {
            if procs::stop(&record, Duration::from_secs(15))? {
                stopped.push((name, record.pid));
            }
            std::fs::remove_file(&path).ok();
        }
    }
    // The PostgreSQL server of `up --postgres`, after the services that use it.
    let pg = fleet_postgres(layout);
    if let Some(pid) = pg.pid()
        && pg.stop()?
    {
        stopped.push(("postgres".to_string(), pid));
    }
    Ok(stopped)
}

/// Deletes the services' data of `up`: the SQLite files under
/// `.fleet/data/` and the `up --postgres` server with its databases. Stop
/// the fleet first ([`down`]). Returns what it deleted.
pub fn wipe_data(layout: &Layout) -> Result<Vec<PathBuf>> {
    let mut wiped = Vec::new();
    let dir = data_dir(layout);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove {}", dir.display()))?;
        wiped.push(dir);
    }
    let pg = fleet_postgres(layout);
    if pg.data.exists() {
        pg.destroy()?;
        wiped.push(pg.data);
    }
    Ok(wiped)
}

/// The registry container of `up --docker`: the same port on the host, its
/// generated tokens and passwords in `registry/container/` (git-ignored;
/// the data itself is in the compose volume `kellnr-data`).
pub fn container_registry(layout: &Layout) -> Kellnr {
    Kellnr {
        port: FLEET_PORT,
        data_dir: layout.root.join("registry").join("container"),
        config: layout.kellnr_config(),
        log: layout.state_dir().join("kellnr-container.log"),
    }
}

/// Vendors the dependencies of the project in `dir` (a service),
/// shared-lib from `registry` included, into `<dir>/vendor/` with
/// `cargo vendor --locked`, and writes the source replacement cargo prints
/// to `vendor/config.toml`: the image build compiles from it offline
/// (`--config vendor/config.toml`).
pub fn vendor(layout: &Layout, registry: &Kellnr, dir: &std::path::Path) -> Result<()> {
    let vendor = dir.join("vendor");
    // Vendored for this very Cargo.lock already: keep the files (and their
    // mtimes, so builds from them stay incremental).
    let lock = std::fs::read(dir.join("Cargo.lock"))
        .with_context(|| format!("{} has no Cargo.lock", dir.display()))?;
    let stamp = vendor.join("Cargo.lock.vendored");
    if vendor.join("config.toml").is_file() && std::fs::read(&stamp).is_ok_and(|s| s == lock) {
        return Ok(());
    }
    if vendor.exists() {
        std::fs::remove_dir_all(&vendor)
            .with_context(|| format!("cannot clear {}", vendor.display()))?;
    }
    // Not --quiet: that also drops the config cargo prints on stdout.
    let mut cmd = cargo(layout, dir, &["vendor", "--locked", "vendor"]);
    crate::ops::cargo::reading(&mut cmd, registry)?;
    let config = crate::ops::run::capture(&mut cmd)
        .with_context(|| format!("vendoring the dependencies of {}", dir.display()))?;
    if !config.contains("[source.vendored-sources]") {
        bail!(
            "cargo vendor printed no source replacement for {}: {config:?}",
            dir.display()
        );
    }
    std::fs::write(
        vendor.join("config.toml"),
        format!(
            "# Written by `cargo xtask up --docker` (cargo vendor): build offline from vendor/.\n{config}"
        ),
    )?;
    // cargo vendor keeps the fixed mtime cargo packages with, so a new
    // version's file of the same size looks unchanged to BuildKit's
    // incremental context transfer and to cargo's fingerprints in the build
    // cache mount: the image would build the previous version. Stamp them.
    crate::ops::fs::touch_tree(&vendor, std::time::SystemTime::now())?;
    std::fs::write(&stamp, lock)?;
    Ok(())
}
