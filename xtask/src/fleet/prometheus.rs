//! The fleet's Prometheus: Debian's server, started by `up` beside the
//! services on 127.0.0.1:9090, scraping every instance of `fleet.toml`,
//! its configuration and data under `.fleet/prometheus/`.

use std::time::Duration;

use anyhow::{Result, bail};

use super::services::{ServiceStart, url};
use crate::manifest::Fleet;
use crate::ops::procs::{self, PidRecord};
use crate::ops::prometheus::{self, Job, PORT, Targets};
use crate::paths::Layout;

/// The name of its pid record and log in `.fleet/`.
pub const NAME: &str = "prometheus";

/// The scrape jobs of `fleet`: each service on its port.
pub fn jobs(fleet: &Fleet) -> Vec<Job> {
    fleet
        .services
        .iter()
        .map(|s| Job {
            name: s.name.clone(),
            targets: Targets::Static(vec![format!("127.0.0.1:{}", s.port)]),
        })
        .collect()
}

/// Starts the fleet's Prometheus unless it runs; a running one re-reads its
/// configuration when `fleet.toml` changed it. Installs the server first
/// when missing.
pub fn ensure_running(layout: &Layout, fleet: &Fleet) -> Result<ServiceStart> {
    let program = prometheus::ensure_installed()?;
    let dir = layout.state_dir().join(NAME);
    std::fs::create_dir_all(dir.join("data"))?;
    let config_path = dir.join("prometheus.yml");
    let config = prometheus::config(
        "# Written by `cargo xtask up` from fleet.toml; edits are overwritten.\n",
        &jobs(fleet),
    );
    let changed = std::fs::read_to_string(&config_path).ok().as_deref() != Some(config.as_str());
    if changed {
        std::fs::write(&config_path, &config)?;
    }
    let base = url(PORT);
    let record_path = procs::record_path(&layout.state_dir(), NAME);
    if let Some(record) = procs::read_record(&record_path)? {
        if procs::is_running(&record) {
            if changed {
                prometheus::reload(&base)?;
            }
            return Ok(ServiceStart::AlreadyRunning);
        }
        std::fs::remove_file(&record_path).ok();
    }
    if procs::port_in_use(PORT) {
        bail!(
            "port {PORT} is taken by another program, so the fleet's Prometheus cannot start; \
             stop it (`ss -ltnp 'sport = :{PORT}'` shows which)"
        );
    }
    let log = layout.state_dir().join(format!("{NAME}.log"));
    let cmd = prometheus::command(&program, &config_path, &dir.join("data"), PORT);
    let child = procs::spawn_ready(
        cmd,
        &log,
        &prometheus::ready_url(&base),
        Duration::from_secs(60),
    )?;
    procs::write_record(
        &record_path,
        &PidRecord {
            pid: child.id(),
            program_mtime: procs::mtime(&program)?,
            program,
            url: base,
            log,
            database: String::new(),
        },
    )?;
    Ok(ServiceStart::Started)
}
