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
