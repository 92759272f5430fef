//! `cargo fleet check-consumers [--crate NAME] [--level L] [--json]`: which
//! services break if the shared crate's working tree is published? The
//! check itself is [`crate::consumers`]; this prints it. Exit 1 when a
//! service whose requirement accepts the candidate breaks.

use anyhow::Result;

use crate::consumers::{broken_message, check, render};
use crate::error::problem;
use crate::level::Level;
use crate::workspace::Workspace;

/// Runs `check-consumers`.
pub fn run(ws: &Workspace, krate: Option<&str>, level: Option<Level>, json: bool) -> Result<()> {
    let shared = ws.manifest.shared(krate)?;
    let current = crate::lock::crate_version(&ws.shared_dir(shared)?)?;
    let candidate = level.map_or(current.clone(), |l| l.next(&current));
    let report = check(ws, shared, &candidate, &mut |line| eprintln!("{line}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
        println!("report: {}", report.markdown.display());
    }
    let broken = report.broken();
    if !broken.is_empty() {
        return Err(problem(broken_message(&broken, &shared.name, &candidate)));
    }
    Ok(())
}
