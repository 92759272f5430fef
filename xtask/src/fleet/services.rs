//! The services of `fleet.toml` as `up` runs them natively: where each
//! listens, its environment and data, building and starting it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::manifest::{Fleet, Service};
use crate::ops::cargo::cargo;
use crate::ops::postgres::{self, Postgres};
use crate::ops::procs::{self, PidRecord};
use crate::ops::registry::Kellnr;
use crate::ops::run::run;
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
    let hash = crate::paths::stable_hash(&layout.root.to_string_lossy());
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
    let mut cmd = crate::ops::run::program(&bin);
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
