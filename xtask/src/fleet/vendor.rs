//! A service's image build context: its dependencies vendored, the
//! pinned `cargo-auditable` the build runs, and the service's CycloneDX
//! SBOM, which the image carries.

use anyhow::{Context, Result, bail};

use crate::ops::cargo::cargo;
use crate::ops::registry::Kellnr;
use crate::ops::tools::{CARGO_AUDITABLE, CARGO_CYCLONEDX};
use crate::paths::Layout;

/// Where the image build finds `cargo-auditable` (`vendor/tools/`).
pub const TOOLS: &str = "tools";

/// The SBOM in the build context (`vendor/sbom.cdx.json`).
pub const SBOM: &str = "sbom.cdx.json";

/// Vendors the dependencies of the project in `dir` (a service),
/// shared-lib from `registry` included, into `<dir>/vendor/` with
/// `cargo vendor --locked --versioned-dirs`, and writes the source replacement cargo prints
/// to `vendor/config.toml`: the image build compiles from it offline
/// (`--config vendor/config.toml`). Beside them: `vendor/tools/cargo-auditable`
/// (the pinned one, installed once per machine; a Linux binary of this
/// machine's Debian, which the bookworm-based build image runs) and
/// `vendor/sbom.cdx.json`, cargo-cyclonedx's SBOM of the service, written
/// anew with each vendoring.
pub fn vendor(layout: &Layout, registry: &Kellnr, dir: &std::path::Path) -> Result<()> {
    let vendor = dir.join("vendor");
    vendor_sources(layout, registry, dir)?;
    let auditable = CARGO_AUDITABLE.ensure()?;
    let tools = vendor.join(TOOLS);
    std::fs::create_dir_all(&tools)?;
    let copied = tools.join(CARGO_AUDITABLE.bin);
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).ok();
    if size(&copied) != size(&auditable) {
        std::fs::copy(&auditable, &copied)
            .with_context(|| format!("cannot copy cargo-auditable into {}", tools.display()))?;
    }
    if !vendor.join(SBOM).is_file() {
        sbom(layout, registry, dir, &vendor.join(SBOM))?;
    }
    Ok(())
}

/// Writes the CycloneDX SBOM (JSON, spec 1.5) of the service in `dir` to
/// `to`: every crate it depends on, the registry's with the registry's URL
/// in its package URL (`pkg:cargo/shared-lib@0.5.3?repository_url=...`).
fn sbom(
    layout: &Layout,
    registry: &Kellnr,
    dir: &std::path::Path,
    to: &std::path::Path,
) -> Result<()> {
    let mut cmd = CARGO_CYCLONEDX.command()?;
    cmd.args([
        "cyclonedx",
        "--format",
        "json",
        "--spec-version",
        "1.5",
        "--override-filename",
        "sbom",
    ])
    .current_dir(dir)
    .env("CARGO_TARGET_DIR", layout.target_dir());
    crate::ops::cargo::reading(&mut cmd, registry)?;
    crate::ops::run::capture(&mut cmd)
        .with_context(|| format!("writing the SBOM of {}", dir.display()))?;
    // `--override-filename sbom` writes `sbom.json` beside Cargo.toml.
    std::fs::rename(dir.join("sbom.json"), to)
        .with_context(|| format!("cargo-cyclonedx wrote no sbom.json in {}", dir.display()))?;
    Ok(())
}

/// The vendoring itself (see [`vendor`]); nothing when `vendor/` holds this
/// very Cargo.lock's dependencies already.
fn vendor_sources(layout: &Layout, registry: &Kellnr, dir: &std::path::Path) -> Result<()> {
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
