//! `cargo xtask check-consumers [--level L] [--json]`: which services break
//! if the working tree's shared-lib is published? The check itself is
//! [`crate::consumers`]; this prints it.

use anyhow::{Result, bail};

use crate::consumers::{broken_message, check, render};
use crate::history;
use crate::level::Level;
use crate::paths::Layout;

/// Runs `check-consumers`: the table (or JSON), non-zero exit when a
/// service that accepts the candidate breaks.
pub fn run(layout: &Layout, level: Option<Level>, json: bool) -> Result<()> {
    let (registry, _) = super::registry(layout)?;
    super::publish_pinned(layout, &registry)?;
    let current = history::working_version(layout)?;
    let candidate = level.map_or(current.clone(), |l| l.next(&current));
    let report = check(layout, &registry, &candidate, &mut |line| {
        eprintln!("{line}")
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
        println!("report: {}", report.markdown.display());
    }
    let broken = report.broken();
    if !broken.is_empty() {
        bail!("{}", broken_message(&broken, &candidate));
    }
    Ok(())
}
