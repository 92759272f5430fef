//! `cargo fleet` itself in the fleet's registry: the version of this
//! checkout's HEAD published when the registry lacks it, so `cargo install
//! --registry local cargo-fleet` works on any machine that reads the
//! registry. Published from a clean worktree of HEAD (a published version
//! is immutable, and never a working tree's uncommitted state).

use anyhow::{Context, Result};
use semver::Version;

use crate::history::{Verify, publish_at};
use crate::index;
use crate::ops::registry::Kellnr;
use crate::ops::run::capture;
use crate::paths::Layout;

/// The tool's package name and directory.
pub const NAME: &str = "cargo-fleet";

/// The variable naming a `cargo-fleet` binary already built from this
/// checkout's HEAD (the test command passes its own to the release tests'
/// throwaway clones, which would each compile one otherwise).
pub const BIN_VAR: &str = "CARGO_FLEET_BIN";

/// Where this checkout's debug build of `cargo-fleet` is.
pub fn built(layout: &Layout) -> std::path::PathBuf {
    layout.target_dir().join("debug").join(NAME)
}

/// The directories a service's tests need first on `PATH`: its supply-chain
/// test runs `cargo deny` (the pinned cargo-deny, installed when missing)
/// and `cargo fleet audit` (this checkout's `cargo-fleet`, built when
/// missing or stale: a no-op build when fresh).
pub fn service_test_tools(layout: &Layout) -> Result<Vec<std::path::PathBuf>> {
    let deny = crate::ops::tools::CARGO_DENY.ensure()?;
    let fleet = match std::env::var_os(BIN_VAR) {
        Some(bin) => std::path::PathBuf::from(bin),
        None => {
            let mut build = crate::ops::cargo::cargo(
                layout,
                layout.project(NAME),
                &["build", "--locked", "--quiet", "--bin", NAME],
            );
            crate::ops::run::run(&mut build)
                .context("building cargo-fleet for the services' tests")?;
            built(layout)
        }
    };
    Ok([deny, fleet]
        .iter()
        .filter_map(|bin| bin.parent().map(std::path::PathBuf::from))
        .collect())
}

/// Publishes HEAD's `cargo-fleet` to `registry` unless it holds that
/// version; the version published now, if any.
pub fn publish_tool(layout: &Layout, registry: &Kellnr) -> Result<Option<Version>> {
    let head = crate::ops::git::commit_of(&layout.root, "HEAD")
        .context("this checkout has no commit to publish cargo-fleet from")?;
    let manifest = capture(
        crate::ops::git::git(&layout.root).args(["show", &format!("{head}:{NAME}/Cargo.toml")]),
    )?;
    let version = crate::history::manifest_version(&manifest)?;
    if index::published(&registry.client(), NAME)?
        .iter()
        .any(|p| p.version == version)
    {
        return Ok(None);
    }
    publish_at(layout, registry, NAME, &version, &head, Verify::Skip)?;
    Ok(Some(version))
}
