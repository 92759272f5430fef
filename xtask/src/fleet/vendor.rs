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
    let written = dir.join("sbom.json");
    let text = std::fs::read_to_string(&written)
        .with_context(|| format!("cargo-cyclonedx wrote no sbom.json in {}", dir.display()))?;
    std::fs::remove_file(&written)?;
    std::fs::write(to, reproducible(&text, dir)?)?;
    Ok(())
}

/// The SBOM made the same for the same sources: the service's directory
/// as the image builds it (`/build`), no generation time, and a serial
/// number derived from the rest. Two checkouts of one commit then give
/// byte-identical build contexts, and the image build reuses its layers
/// instead of compiling again.
fn reproducible(text: &str, dir: &std::path::Path) -> Result<String> {
    let text = text.replace(&dir.display().to_string(), "/build");
    let mut bom: serde_json::Value =
        serde_json::from_str(&text).context("cargo-cyclonedx wrote no JSON")?;
    let object = bom
        .as_object_mut()
        .context("the SBOM is not a JSON object")?;
    object.remove("serialNumber");
    if let Some(metadata) = object.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        metadata.remove("timestamp");
    }
    let body = serde_json::to_string(&bom)?;
    let (a, b) = (
        cargo_fleet::workspace::stable_hash(&body),
        cargo_fleet::workspace::stable_hash(&format!("sbom {body}")),
    );
    // A version-4-shaped UUID from the content's hashes.
    let serial = format!(
        "urn:uuid:{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    );
    if let Some(object) = bom.as_object_mut() {
        object.insert("serialNumber".into(), serial.into());
    }
    Ok(serde_json::to_string_pretty(&bom)? + "\n")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_checkouts_of_one_tree_give_the_same_sbom() {
        let made = |dir: &str, time: &str, serial: &str| {
            format!(
                r#"{{"bomFormat":"CycloneDX","serialNumber":"urn:uuid:{serial}","metadata":{{"timestamp":"{time}","component":{{"bom-ref":"path+file://{dir}#0.1.0"}}}},"components":[{{"purl":"pkg:cargo/shared-lib@0.5.3?repository_url=http://127.0.0.1:8000/api/v1/crates/"}}]}}"#
            )
        };
        let one = reproducible(
            &made("/work/a/user-service", "2026-12-05T06:46:37Z", "1"),
            std::path::Path::new("/work/a/user-service"),
        )
        .unwrap();
        let two = reproducible(
            &made("/tmp/b/user-service", "2026-12-06T01:00:00Z", "2"),
            std::path::Path::new("/tmp/b/user-service"),
        )
        .unwrap();
        assert_eq!(one, two);
        assert!(one.contains("path+file:///build#0.1.0"), "{one}");
        assert!(!one.contains("timestamp"), "{one}");
        assert!(one.contains("\"serialNumber\": \"urn:uuid:"), "{one}");
        let other = reproducible(
            &made("/work/a/user-service", "x", "3").replace("0.5.3", "0.5.4"),
            std::path::Path::new("/work/a/user-service"),
        )
        .unwrap();
        assert_ne!(one, other, "another dependency, another serial");
    }
}
