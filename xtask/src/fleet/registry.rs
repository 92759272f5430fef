//! The fleet's Kellnr: the native one on port 8000 with its data under
//! `registry/data`, started once and shared by every command, and the
//! container one of `up --docker`.

use anyhow::{Result, bail};

use crate::ops::procs::{self, PidRecord};
use crate::ops::registry::{FLEET_PORT, Health, Kellnr};
use crate::ops::tools::KELLNR;
use crate::paths::Layout;

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
            _ => {
                // This checkout's compose or swarm registry: its own tokens.
                let ours = [container_registry(layout), swarm_registry(layout)]
                    .into_iter()
                    .find(|k| k.password_file().is_file() && k.admin_accepted().unwrap_or(false));
                if let Some(ours) = ours {
                    return Ok((ours, RegistryStart::Foreign));
                }
                RegistryStart::Foreign
            }
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

/// The registry of the swarm stack (`up --swarm`): its replicas behind the
/// proxy on the same port; its generated tokens, passwords and cookie key
/// in `registry/swarm/` (git-ignored; the data itself is in PostgreSQL and
/// the stack's `registry-data` volume).
pub fn swarm_registry(layout: &Layout) -> Kellnr {
    Kellnr {
        port: FLEET_PORT,
        data_dir: layout.root.join("registry").join("swarm"),
        config: layout.kellnr_config(),
        log: layout.state_dir().join("kellnr-swarm.log"),
    }
}
