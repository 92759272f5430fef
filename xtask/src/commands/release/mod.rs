//! `cargo xtask release <level> [--execute]`: shared-lib released in
//! steps, each in its own module, run in this order (cargo-release's
//! `steps/` is the model):
//!
//! 1. [`guard`]: the semver guard. cargo-semver-checks compares the working
//!    tree with the newest non-yanked version in the registry and refuses
//!    an API change larger than `level` allows.
//! 2. [`gate`]: the consumer check. Every service is built and tested
//!    against the candidate; a failure refuses the release unless
//!    `--allow-break` names the service and the CHANGELOG says so (that
//!    is checked before step 1, before any build).
//! 3. [`publish`]: cargo-release (a dry run unless `--execute`: then it
//!    commits, tags and publishes), and the new version's docs uploaded.
//!
//! Before step 1 the registry is started when it is down and every
//! version the services pin is published to it from git history (the
//! checks need them); the dry run says when it published any.

use anyhow::{Context, Result, bail};
use semver::Version;

use crate::history::{self, SHARED_LIB};
use crate::level::Level;
use crate::ops::registry::Kellnr;
use crate::paths::Layout;

pub mod gate;
pub mod guard;
pub mod publish;

pub use guard::semver_guard;

/// Runs `release`: the semver guard, the consumer check, then cargo-release.
pub fn run(layout: &Layout, level: Level, execute: bool, allow_break: &[String]) -> Result<()> {
    if execute {
        // cargo-release refuses a dirty tree; say so before minutes of checks.
        let dirty = crate::ops::git::uncommitted(&layout.root)?;
        if !dirty.is_empty() {
            bail!(
                "uncommitted changes ({}); commit or stash them, then run the release again",
                dirty.join(", ")
            );
        }
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

/// The semver guard, the consumer check, then cargo-release for shared-lib
/// at `level`. Without `execute` it is cargo-release's dry run: nothing is
/// written. Returns the version it makes.
pub fn release(
    layout: &Layout,
    registry: &Kellnr,
    level: Level,
    execute: bool,
    allow_break: &[String],
) -> Result<Version> {
    // What the arguments promise is checked before minutes of builds.
    gate::declared_breaks(layout, allow_break)?;
    let next = guard::semver_guard(layout, registry, level)?;
    gate::consumer_gate(layout, registry, &next, allow_break)?;
    publish::cargo_release(layout, registry, level, execute)?;
    if execute {
        let release = history::releases(&layout.root)?
            .into_iter()
            .find(|r| r.version == next)
            .with_context(|| format!("cargo-release made no commit with {SHARED_LIB} {next}"))?;
        history::publish_docs(layout, registry, &release)?;
    }
    Ok(next)
}
