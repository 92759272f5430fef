//! `cargo xtask publish`: publishes the working tree's shared-lib version
//! if the registry lacks it, from the commit that introduced that version.

use anyhow::{Context, Result, bail};

use crate::history::{self, SHARED_LIB, Verify};
use crate::index;
use crate::ops::git::{git, is_dirty};
use crate::paths::Layout;

/// Runs `publish`.
pub fn run(layout: &Layout) -> Result<()> {
    let version = history::working_version(layout)?;
    let (registry, _) = super::registry(layout)?;
    if index::published(&registry.client(), SHARED_LIB)?
        .iter()
        .any(|p| p.version == version)
    {
        println!(
            "{SHARED_LIB} {version} is already published; nothing to do (versions are immutable: bump to release changes)"
        );
        return Ok(());
    }
    if is_dirty(&layout.root, SHARED_LIB)? {
        bail!(
            "{SHARED_LIB}/ has uncommitted changes; commit them (or release with `cargo xtask release`) before publishing {version}"
        );
    }
    let release = history::releases(&layout.root)?
        .into_iter()
        .find(|r| r.version == version)
        .with_context(|| {
            format!(
                "{SHARED_LIB} {version} is not in git history; commit {SHARED_LIB}/Cargo.toml first"
            )
        })?;
    let unchanged_since = crate::ops::run::succeeds(git(&layout.root).args([
        "diff",
        "--quiet",
        &release.commit,
        "HEAD",
        "--",
        SHARED_LIB,
    ]))?;
    if !unchanged_since {
        bail!(
            "{SHARED_LIB} changed after version {version} was set in commit {}; a published version \
             must be the commit that introduced it, so release a new version (`cargo xtask release patch`) instead",
            &release.commit[..12]
        );
    }
    history::publish_release(layout, &registry, &release, Verify::Build)?;
    history::publish_docs(layout, &registry, &release)?;
    println!(
        "published {SHARED_LIB} {version} to {}, docs at {}{}",
        registry.index_url(),
        registry.base_url(),
        history::docs_path(&version)
    );
    Ok(())
}
