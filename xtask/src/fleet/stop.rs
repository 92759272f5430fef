//! Stopping what `up` started, and deleting the data it kept.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use super::services::{data_dir, fleet_postgres};
use crate::ops::procs;
use crate::paths::Layout;

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
