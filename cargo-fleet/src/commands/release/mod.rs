//! `cargo fleet release <level> [--crate NAME] [--execute] [--allow-break
//! SERVICE]...`: a shared crate released in steps, each in its own module,
//! run in this order (cargo-release's `steps/` is the model):
//!
//! 0. No advisory of the team's database may name the version to be made
//!    ([`refuse_advised`]).
//! 1. [`guard`]: the semver guard. cargo-semver-checks compares the working
//!    tree with the newest non-yanked version in the registry and refuses
//!    an API change larger than `level` allows.
//! 2. [`gate`]: the consumer check. Every service (in this tree or in its
//!    own repository) is built and tested against the candidate; a failure
//!    refuses the release unless `--allow-break` names the service and the
//!    CHANGELOG says so (that is checked before step 1, before any build).
//! 3. [`publish`]: cargo-release (a dry run unless `--execute`: then it
//!    commits, tags and publishes).
//!
//! cargo-semver-checks and cargo-release are found on `PATH` (the harness
//! passes the ones it installed); a refusal is exit 1.

use std::path::PathBuf;

use anyhow::Result;
use semver::Version;

use crate::error::usage;
use crate::level::Level;
use crate::manifest::Shared;
use crate::workspace::Workspace;

pub mod gate;
pub mod guard;
pub mod publish;

pub use guard::semver_guard;

/// The tools a release runs, each pinned to a version that builds with
/// rustc 1.95.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `cargo-semver-checks` (0.51.0).
    pub semver_checks: PathBuf,
    /// `cargo-release` (1.1.6).
    pub cargo_release: PathBuf,
}

impl Tools {
    /// The tools on `PATH`, or an error saying how to install the missing one.
    pub fn from_path() -> Result<Tools> {
        let find = |bin: &str, install: &str| {
            crate::ops::run::on_path(bin).ok_or_else(|| {
                anyhow::anyhow!(
                    "{bin} is not on PATH; install it with `cargo install --locked {install}`"
                )
            })
        };
        Ok(Tools {
            semver_checks: find("cargo-semver-checks", "cargo-semver-checks@0.51.0")?,
            cargo_release: find("cargo-release", "cargo-release@1.1.6 --no-default-features")?,
        })
    }
}

/// The semver guard, the consumer check, then cargo-release for `shared`
/// at `level`. Without `execute` it is cargo-release's dry run: nothing is
/// written. Returns the version it makes.
pub fn release(
    ws: &Workspace,
    shared: &Shared,
    level: Level,
    execute: bool,
    allow_break: &[String],
    tools: &Tools,
) -> Result<Version> {
    // What the arguments promise is checked before minutes of builds.
    gate::declared_breaks(ws, shared, allow_break)?;
    let current = crate::lock::crate_version(&ws.shared_dir(shared)?)?;
    refuse_advised(ws, shared, &level.next(&current))?;
    let next = guard::semver_guard(ws, shared, level, &tools.semver_checks)?;
    gate::consumer_gate(ws, shared, &next, allow_break)?;
    publish::cargo_release(ws, shared, level, execute, &tools.cargo_release)?;
    Ok(next)
}

/// A version an advisory of the team's database already names is never
/// published: refused (exit 1) before any build.
pub fn refuse_advised(ws: &Workspace, shared: &Shared, next: &Version) -> Result<()> {
    let advisories = ws.advisories()?;
    let named =
        crate::advisories::affecting(&advisories, &shared.name, &ws.manifest.registry.index, next);
    if let Some(a) = named.first() {
        return Err(crate::error::problem(format!(
            "{} {next} is named by advisory {} ({}): release a version it marks patched ({})",
            shared.name,
            a.id,
            a.title,
            a.moves_to()
        )));
    }
    Ok(())
}

/// With `--execute`, the shared crate's files must be committed
/// (cargo-release refuses otherwise): said before minutes of checks.
pub fn refuse_uncommitted(ws: &Workspace, shared: &Shared) -> Result<()> {
    let dir = ws.shared_dir(shared)?;
    let dirty = crate::ops::git::uncommitted(&dir).unwrap_or_default();
    if !dirty.is_empty() {
        return Err(usage(format!(
            "uncommitted changes ({}); commit or stash them, then run the release again",
            dirty.join(", ")
        )));
    }
    Ok(())
}

/// Runs `release`.
pub fn run(
    ws: &Workspace,
    krate: Option<&str>,
    level: Level,
    execute: bool,
    allow_break: &[String],
) -> Result<()> {
    let shared = ws.manifest.shared(krate)?;
    if execute {
        refuse_uncommitted(ws, shared)?;
    }
    let tools = Tools::from_path()?;
    let next = release(ws, shared, level, execute, allow_break, &tools)?;
    let name = &shared.name;
    if execute {
        println!(
            "released {name} {next} to {} ({}); move a service with `cargo fleet bump <service> --to {next} --execute`",
            ws.registry.name, ws.registry.index
        );
    } else {
        println!(
            "dry run of {name} {next}: nothing was committed or published; add --execute to release"
        );
    }
    Ok(())
}
