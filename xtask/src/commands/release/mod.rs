//! `cargo xtask release <level> [--execute] [--allow-break SERVICE]`:
//! `cargo fleet release` ([`cargo_fleet::commands::release`]: the semver
//! guard, the consumer gate, cargo-release) on this checkout's registry,
//! with what the harness adds around it:
//!
//! - before: the registry started when it is down, every version the
//!   services pin published to it from git history (the checks need them;
//!   the dry run says when it published any), cargo-semver-checks and
//!   cargo-release installed (pinned) when missing;
//! - after `--execute`: the new version's docs built and uploaded to Kellnr.

use anyhow::{Context, Result};
use cargo_fleet::commands::release as fleet_release;
use semver::Version;

use crate::history::{self, SHARED_LIB};
use crate::level::Level;
use crate::ops::registry::Kellnr;
use crate::ops::tools::{CARGO_RELEASE, SEMVER_CHECKS};
use crate::paths::Layout;

/// Runs `release`: the semver guard, the consumer check, then cargo-release.
pub fn run(layout: &Layout, level: Level, execute: bool, allow_break: &[String]) -> Result<()> {
    if execute {
        // cargo-release refuses a dirty tree; say so before minutes of checks.
        let ws = cargo_fleet::Workspace::open(layout.root.clone(), None)?;
        fleet_release::refuse_uncommitted(&ws, ws.manifest.shared(Some(SHARED_LIB))?)?;
    }
    let (registry, _) = super::registry(layout)?;
    // The checks need every version the services pin in the registry:
    // already-released versions, replayed from git (printed when any is).
    let replayed = super::publish_pinned(layout, &registry)?;
    let next = release(layout, &registry, level, execute, allow_break)?;
    if execute {
        println!(
            "released {SHARED_LIB} {next} to {}, docs at {}{}; move a service with `cargo xtask bump <service> --to {next}`",
            registry.index_url(),
            registry.base_url(),
            history::docs_path(&next)
        );
    } else {
        let registry_note = if replayed {
            "; the registry received only the already-released versions the services pin (above)"
        } else {
            ""
        };
        println!(
            "dry run of {SHARED_LIB} {next}: the repository is unchanged and {next} was not published{registry_note}; add --execute to release"
        );
    }
    Ok(())
}

/// This checkout as `cargo fleet` releases from it: the registry read and
/// written with the publish token.
fn publishing(layout: &Layout, registry: &Kellnr) -> Result<cargo_fleet::Workspace> {
    Ok(layout
        .workspace_with_token(registry, registry.token()?)?
        .with_tools(crate::fleet::tool::service_test_tools(layout)?))
}

/// The tools the release runs, installed (pinned) when missing.
fn tools() -> Result<fleet_release::Tools> {
    Ok(fleet_release::Tools {
        semver_checks: SEMVER_CHECKS.ensure()?,
        cargo_release: CARGO_RELEASE.ensure()?,
    })
}

/// `cargo fleet`'s release of shared-lib at `level` on `registry`, then,
/// with `execute`, the new version's docs uploaded. Returns the version it
/// makes.
pub fn release(
    layout: &Layout,
    registry: &Kellnr,
    level: Level,
    execute: bool,
    allow_break: &[String],
) -> Result<Version> {
    let ws = publishing(layout, registry)?;
    let shared = ws.manifest.shared(Some(SHARED_LIB))?;
    let next = fleet_release::release(&ws, shared, level, execute, allow_break, &tools()?)?;
    if execute {
        let release = history::releases(&layout.root)?
            .into_iter()
            .find(|r| r.version == next)
            .with_context(|| format!("cargo-release made no commit with {SHARED_LIB} {next}"))?;
        history::publish_docs(layout, registry, &release)?;
    }
    Ok(next)
}

/// The semver guard alone, on `registry`.
pub fn semver_guard(layout: &Layout, registry: &Kellnr, level: Level) -> Result<Version> {
    let ws = publishing(layout, registry)?;
    let shared = ws.manifest.shared(Some(SHARED_LIB))?;
    fleet_release::semver_guard(&ws, shared, level, &SEMVER_CHECKS.ensure()?)
}
