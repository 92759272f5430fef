//! The dependencies of a service vendored for its image build.

use anyhow::{Context, Result, bail};

use crate::ops::cargo::cargo;
use crate::ops::registry::Kellnr;
use crate::paths::Layout;

/// Vendors the dependencies of the project in `dir` (a service),
/// shared-lib from `registry` included, into `<dir>/vendor/` with
/// `cargo vendor --locked`, and writes the source replacement cargo prints
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
    let mut cmd = cargo(layout, dir, &["vendor", "--locked", "vendor"]);
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
    // cargo vendor keeps the fixed mtime cargo packages with, so a new
    // version's file of the same size looks unchanged to BuildKit's
    // incremental context transfer and to cargo's fingerprints in the build
    // cache mount: the image would build the previous version. Stamp them.
    crate::ops::fs::touch_tree(&vendor, std::time::SystemTime::now())?;
    std::fs::write(&stamp, lock)?;
    Ok(())
}
