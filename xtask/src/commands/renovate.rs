//! `cargo xtask renovate [--json]`: runs Renovate against this checkout as
//! a dry run (`--platform=local`: lookups only, no branch is made) with
//! the repository's own `renovate.json5`, against the fleet's registry with
//! the read token, and prints for each project that depends on shared-lib
//! what Renovate would propose, beside `status`'s verdict.
//!
//! Renovate 44.121.2 and the Node 24 it needs are installed from the npm
//! registry into the tool cache when missing. Its JSON report is kept in
//! `.fleet/renovate/report.json`, its log in `.fleet/renovate/renovate.log`.
//! Renovate reads the files git tracks: an uncommitted `renovate.json5`
//! needs `git add` first.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::history::SHARED_LIB;
use crate::ops::procs::{log_tail, spawn_logged};
use crate::ops::registry::Kellnr;
use crate::ops::tools::RENOVATE;
use crate::paths::Layout;
use crate::pins::Row;
use crate::renovate::{Proposal, proposals};

/// What one run found.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// Renovate's proposals, one entry per project that depends on shared-lib.
    pub proposals: Vec<Proposal>,
    /// `status` for the same checkout, for the table.
    pub status: Vec<Row>,
    /// Where Renovate's own JSON report is.
    pub report: String,
    /// How long Renovate ran, in seconds.
    pub seconds: f64,
}

/// Runs Renovate over `layout`'s checkout against `registry`.
pub fn renovate(layout: &Layout, registry: &Kellnr) -> Result<Outcome> {
    let mut cmd = RENOVATE.command()?;
    let dir = layout.state_dir().join("renovate");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let report = dir.join("report.json");
    let _ = std::fs::remove_file(&report);
    let log_path = dir.join("renovate.log");
    let _ = std::fs::remove_file(&log_path);
    let host_rules = serde_json::json!([{
        "matchHost": registry.base_url(),
        "hostType": "crate",
        "token": registry.read_token()?,
    }]);
    cmd.current_dir(&layout.root)
        .env("RENOVATE_PLATFORM", "local")
        .env("RENOVATE_ONBOARDING", "false")
        .env("RENOVATE_ALLOW_CUSTOM_CRATE_REGISTRIES", "true")
        .env("RENOVATE_HOST_RULES", host_rules.to_string())
        .env("RENOVATE_REPORT_TYPE", "file")
        .env("RENOVATE_REPORT_PATH", &report)
        .env("RENOVATE_BASE_DIR", dir.join("base"))
        // The registry this run reads, whatever .cargo/config.toml says.
        .env("CARGO_REGISTRIES_LOCAL_INDEX", registry.index_url());
    let started = Instant::now();
    let status = spawn_logged(cmd, &log_path)?
        .wait()
        .context("Renovate did not finish")?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() || !report.is_file() {
        bail!(
            "Renovate failed ({status}); its log is {}:\n{}",
            log_path.display(),
            log_tail(&log_path, 20)
        );
    }
    let text = std::fs::read_to_string(&report)
        .with_context(|| format!("cannot read {}", report.display()))?;
    Ok(Outcome {
        proposals: proposals(&text)?,
        status: cargo_fleet::commands::status::rows(
            &layout.workspace(registry)?,
            Some(SHARED_LIB),
        )?,
        report: report.display().to_string(),
        seconds,
    })
}

/// The proposals beside `status`'s verdicts, as an aligned table.
pub fn render(outcome: &Outcome) -> String {
    let w = outcome
        .proposals
        .iter()
        .map(|p| p.project.len())
        .max()
        .unwrap_or(0)
        .max(14);
    let mut out = format!(
        "{:<w$} {:<12} {:<8} {:<60} {}\n",
        "project", "requirement", "locked", "renovate proposes", "status"
    );
    for p in &outcome.proposals {
        let proposes = match (&p.skipped, p.updates.as_slice()) {
            (Some(why), _) => format!("skipped: {why}"),
            (None, []) => "nothing".to_string(),
            (None, updates) => updates
                .iter()
                .map(|u| format!("{} ({}) on {}", u.version, u.kind, u.branch))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let verdict = outcome
            .status
            .iter()
            .find(|r| r.service == p.project)
            .map_or("(not a service of fleet.toml)", |r| r.verdict.as_text());
        out.push_str(&format!(
            "{:<w$} {:<12} {:<8} {:<60} {}\n",
            p.project,
            p.current,
            p.locked.as_deref().unwrap_or("-"),
            proposes,
            verdict
        ));
    }
    out
}

/// Runs `renovate`.
pub fn run(layout: &Layout, json: bool) -> Result<()> {
    let (registry, _) = super::registry(layout)?;
    let outcome = renovate(layout, &registry)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print!("{}", render(&outcome));
        println!(
            "(Renovate ran in {:.0}s; its report: {})",
            outcome.seconds, outcome.report
        );
    }
    Ok(())
}
