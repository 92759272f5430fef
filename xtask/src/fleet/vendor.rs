//! The dependencies of a service vendored for its image build.

use anyhow::{Context, Result, bail};

use crate::ops::cargo::cargo;
use crate::ops::registry::Kellnr;
use crate::paths::Layout;

/// Vendors the dependencies of the project in `dir` (a service),
/// shared-lib from `registry` included, into `<dir>/vendor/` with
/// `cargo vendor --locked --versioned-dirs`, and writes the source replacement cargo prints
/// to `vendor/config.toml`: the image build compiles from it offline
/// (`--config vendor/config.toml`).
pub fn vendor(layout: &Layout, registry: &Kellnr, dir: &std::path::Path) -> Result<()> {
    let vendor = dir.join("vendor");
    // Vendored for this very Cargo.lock already: keep the files (and their
    // mtimes, so builds from them stay incremental).
    let lock = std::fs::read(dir.join("Cargo.lock"))
        .with_context(|| format!("{} has no Cargo.lock", dir.display()))?;
    let stamp = vendor.join("Cargo.lock.vendored");
    if vendor.join("config.toml").is_file() && std::fs::read(&stamp).is_ok_and(|s| s == lock) {
        return Ok(());
    }
    if vendor.exists() {
        std::fs::remove_dir_all(&vendor)
            .with_context(|| format!("cannot clear {}", vendor.display()))?;
    }
    // Not --quiet: that also drops the config cargo prints on stdout.
    // --versioned-dirs: every crate in `vendor/<name>-<version>/`. cargo
    // vendor keeps the fixed mtime cargo packages with, so shared-lib 0.2.4
    // in the directory 0.2.3 had used, with a file of the same size, looked
    // unchanged to BuildKit's incremental context transfer and the image
    // built 0.2.3. A new version is a new path instead, and the unchanged
    // crates keep their old mtimes: their build scripts' rerun-if-changed
    // stays quiet and the build cache mount is reused (restamping every
    // file with the vendoring time recompiled all 78 crates of user-service
    // after each fresh clone).
    let mut cmd = cargo(
        layout,
        dir,
        &["vendor", "--locked", "--versioned-dirs", "vendor"],
    );
    crate::ops::cargo::reading(&mut cmd, registry)?;
    let config = crate::ops::run::capture(&mut cmd)
        .with_context(|| format!("vendoring the dependencies of {}", dir.display()))?;
    if !config.contains("[source.vendored-sources]") {
        bail!(
            "cargo vendor printed no source replacement for {}: {config:?}",
            dir.display()
        );
    }
    std::fs::write(
        vendor.join("config.toml"),
        format!(
            "# Written by `cargo xtask up --docker` (cargo vendor): build offline from vendor/.\n{config}"
        ),
    )?;
    std::fs::write(&stamp, lock)?;
    Ok(())
}
