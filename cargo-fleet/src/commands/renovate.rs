//! `cargo fleet renovate [--crate NAME] [--json]`: runs Renovate as a dry
//! run (`--platform=local`: lookups only, no branch is made) on the fleet's
//! repository (its path services, with its own Renovate configuration)
//! and on the checkout of each service that lives in a repository of its
//! own, against the fleet's registry with cargo's token, and prints for
//! each service what Renovate would propose for the shared crate, beside
//! `status`'s verdict.
//!
//! Renovate is found on `PATH` (the harness passes the one it installed,
//! 44.121.2 on Node 24). Its JSON reports and logs are kept in
//! `.fleet/renovate/`. Renovate reads the files git tracks: an uncommitted
//! `renovate.json5` needs `git add` first.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::manifest::{Shared, Source};
use crate::ops::run::{output_to, program, succeeds};
use crate::pins::Row;
use crate::renovate::{Proposal, proposals};
use crate::table::{Column, Table};
use crate::workspace::Workspace;

/// What one run of the command found.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// Renovate's proposals, one entry per project that depends on the
    /// shared crate (a service of a repository of its own: by its name).
    pub proposals: Vec<Proposal>,
    /// `status` for the same fleet, for the table.
    pub status: Vec<Row>,
    /// Where Renovate's own JSON reports are, one per repository it ran on.
    pub reports: Vec<String>,
    /// How long Renovate ran, in seconds, all runs together.
    pub seconds: f64,
}

/// Renovate found on `PATH`.
pub fn from_path() -> Result<Command> {
    let found = crate::ops::run::on_path("renovate").context(
        "renovate is not on PATH; install it with `npm install -g renovate@44.121.2` (Node 24)",
    )?;
    Ok(program(found))
}

/// Runs Renovate over the fleet's repository and every git service's
/// checkout; `renovate` makes the command to run (each time anew).
pub fn renovate(
    ws: &Workspace,
    shared: &Shared,
    renovate: &dyn Fn() -> Result<Command>,
) -> Result<Outcome> {
    let dir = ws.state_dir().join("renovate");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut runs: Vec<(String, PathBuf, Option<String>)> = Vec::new();
    if ws
        .manifest
        .services
        .iter()
        .any(|s| matches!(s.source, Source::Path(_)))
    {
        runs.push(("fleet".into(), ws.root.clone(), None));
    }
    for service in &ws.manifest.services {
        if let Source::Git { .. } = service.source {
            runs.push((
                service.name.clone(),
                ws.service_dir(service)?,
                Some(service.name.clone()),
            ));
        }
    }
    let started = Instant::now();
    let mut found = Vec::new();
    let mut reports = Vec::new();
    for (name, repo, as_service) in runs {
        let report = dir.join(format!("{name}.json"));
        let mut cmd = renovate()?;
        configure(
            &mut cmd,
            ws,
            shared,
            repo.as_path(),
            &dir.join(&name),
            &report,
        );
        let log = dir.join(format!("{name}.log"));
        output_to(&mut cmd, &log)?;
        let _ = std::fs::remove_file(&report);
        if !succeeds(&mut cmd)? || !report.is_file() {
            bail!(
                "Renovate failed on {}; its log is {}",
                repo.display(),
                log.display()
            );
        }
        let text = std::fs::read_to_string(&report)
            .with_context(|| format!("cannot read {}", report.display()))?;
        for mut proposal in proposals(&text, &shared.name)? {
            if let Some(service) = &as_service {
                proposal.project = service.clone();
            }
            found.push(proposal);
        }
        reports.push(report.display().to_string());
    }
    Ok(Outcome {
        proposals: found,
        status: crate::pins::status(ws, shared)?,
        reports,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Renovate's settings for a dry run on `repo`: the local platform, the
/// fleet's registry and token, and (whatever the repository configures on
/// top) only the shared crate looked up.
fn configure(
    cmd: &mut Command,
    ws: &Workspace,
    shared: &Shared,
    repo: &Path,
    base: &Path,
    report: &Path,
) {
    let mut host_rule = serde_json::json!({
        "matchHost": ws.registry.origin(),
        "hostType": "crate",
    });
    if let Some(token) = ws.registry.token() {
        host_rule["token"] = token.into();
    }
    let global = serde_json::json!({
        "enabledManagers": ["cargo"],
        "packageRules": [{
            "matchManagers": ["cargo"],
            "matchPackageNames": [format!("!{}", shared.name)],
            "enabled": false,
        }],
    });
    cmd.current_dir(repo)
        .env("RENOVATE_PLATFORM", "local")
        .env("RENOVATE_ONBOARDING", "false")
        .env("RENOVATE_REQUIRE_CONFIG", "optional")
        .env("RENOVATE_ALLOW_CUSTOM_CRATE_REGISTRIES", "true")
        .env(
            "RENOVATE_HOST_RULES",
            serde_json::json!([host_rule]).to_string(),
        )
        .env("RENOVATE_CONFIG", global.to_string())
        .env("RENOVATE_REPORT_TYPE", "file")
        .env("RENOVATE_REPORT_PATH", report)
        .env("RENOVATE_BASE_DIR", base);
    // The registry this run reads, whatever .cargo/config.toml says.
    ws.registry.configure(cmd);
}

/// The proposals beside `status`'s verdicts, as an aligned table.
pub fn render(outcome: &Outcome) -> String {
    let mut table = Table::new(&[
        Column::left("project", 14),
        Column::left("requirement", 12),
        Column::left("locked", 8),
        Column::left("renovate proposes", 60),
        Column::left("status", 0),
    ]);
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
        table.row(vec![
            p.project.clone(),
            p.current.clone(),
            p.locked.clone().unwrap_or_else(|| "-".into()),
            proposes,
            verdict.to_string(),
        ]);
    }
    table.render()
}

/// Runs `renovate` with Renovate from `PATH`.
pub fn run(ws: &Workspace, krate: Option<&str>, json: bool) -> Result<()> {
    run_with(ws, krate, json, &from_path)
}

/// Runs `renovate`, `renovate` making the command to run.
pub fn run_with(
    ws: &Workspace,
    krate: Option<&str>,
    json: bool,
    renovate: &dyn Fn() -> Result<Command>,
) -> Result<()> {
    let shared = ws.manifest.shared(krate)?;
    let outcome = self::renovate(ws, shared, renovate)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print!("{}", render(&outcome));
        println!(
            "(Renovate ran in {:.0}s; its reports: {})",
            outcome.seconds,
            outcome.reports.join(", ")
        );
    }
    Ok(())
}
