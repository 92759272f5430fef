//! shared-lib's versions as recorded in git, what each service pins, and
//! publishing a version again from the commit that introduced it.
//!
//! A fresh clone starts with an empty registry. Every version a service
//! pins is rebuilt from the first commit whose `shared-lib/Cargo.toml`
//! carries that version (the release commit cargo-release makes), in a
//! clean detached worktree. Cargo packs the same files the same way, so the
//! `.crate` has the checksum every Cargo.lock recorded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use semver::Version;

use crate::ops::cargo::{cargo_in, publishing};
use crate::ops::git::git;
use crate::ops::registry::Kellnr;
use crate::ops::run::{capture, run};
use crate::paths::Layout;

/// The shared crate's name.
pub const SHARED_LIB: &str = "shared-lib";

/// A version of shared-lib and the commit that introduced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The version.
    pub version: Version,
    /// The first commit whose `shared-lib/Cargo.toml` has it.
    pub commit: String,
}

/// Every shared-lib version in the history of HEAD, oldest first.
pub fn releases(root: &Path) -> Result<Vec<Release>> {
    let shallow = capture(git(root).args(["rev-parse", "--is-shallow-repository"])).context(
        "this is not a git checkout; shared-lib versions are published from git history",
    )?;
    if shallow.trim() == "true" {
        bail!(
            "this clone is shallow, so the commits that introduced shared-lib's versions are \
             missing; run `git fetch --unshallow` and try again"
        );
    }
    // --full-history: a maintenance line merged with `-s ours` (0.1.x
    // releases made after 0.2.0) leaves main's tree unchanged, and git's
    // default simplification would hide the release commits behind it.
    let commits = capture(git(root).args([
        "log",
        "--full-history",
        "--reverse",
        "--format=%H",
        "--",
        "shared-lib/Cargo.toml",
    ]))?;
    let mut found: Vec<Release> = Vec::new();
    for commit in commits.lines().filter(|l| !l.is_empty()) {
        let manifest =
            capture(git(root).args(["show", &format!("{commit}:shared-lib/Cargo.toml")]))?;
        let version = manifest_version(&manifest)
            .with_context(|| format!("shared-lib/Cargo.toml at {commit}"))?;
        if !found.iter().any(|r| r.version == version) {
            found.push(Release {
                version,
                commit: commit.to_string(),
            });
        }
    }
    Ok(found)
}

/// `package.version` of a manifest.
pub fn manifest_version(manifest: &str) -> Result<Version> {
    let doc: toml::Table = toml::from_str(manifest).context("not valid TOML")?;
    let version = doc
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .context("no package.version")?;
    Version::parse(version).with_context(|| format!("bad version {version:?}"))
}

/// The shared-lib version in the working tree of `layout`.
pub fn working_version(layout: &Layout) -> Result<Version> {
    let manifest = layout.project(SHARED_LIB).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    manifest_version(&text).with_context(|| manifest.display().to_string())
}

/// What one service's Cargo.lock says about shared-lib.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The locked version.
    pub version: Version,
    /// The locked checksum (hex), if the lockfile records one.
    pub checksum: Option<String>,
    /// The locked source, e.g. `sparse+http://127.0.0.1:8000/api/v1/crates/`.
    pub source: String,
}

/// The shared-lib entry of the lockfile in `project_dir`.
pub fn pin(project_dir: &Path) -> Result<Pin> {
    let path = project_dir.join("Cargo.lock");
    let lock = cargo_lock::Lockfile::load(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let package = lock
        .packages
        .iter()
        .find(|p| p.name.as_str() == SHARED_LIB)
        .with_context(|| format!("{} has no {SHARED_LIB} entry", path.display()))?;
    Ok(Pin {
        version: Version::parse(&package.version.to_string())?,
        checksum: package.checksum.as_ref().map(ToString::to_string),
        source: package
            .source
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "path".to_string()),
    })
}

/// The pins of every service, by service name.
pub fn pins(layout: &Layout, services: &[&str]) -> Result<BTreeMap<String, Pin>> {
    services
        .iter()
        .map(|s| Ok((s.to_string(), pin(&layout.project(s))?)))
        .collect()
}

/// How to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Build the packaged crate before uploading (a new release).
    Build,
    /// Upload as packed (replaying a release that was verified when made).
    Skip,
}

/// Publishes `release` to `registry` from a clean worktree at its commit,
/// with real `cargo publish`.
pub fn publish_release(
    layout: &Layout,
    registry: &Kellnr,
    release: &Release,
    verify: Verify,
) -> Result<()> {
    let name = format!("{SHARED_LIB}-{}-{}", release.version, registry.port);
    in_worktree(layout, release, &name, |worktree| {
        cargo_publish(layout, registry, release, worktree, verify)
    })
}

/// Runs `work` in a clean detached worktree of `release`'s commit under
/// `.fleet/worktrees/<name>`, removed afterwards whatever happened.
fn in_worktree(
    layout: &Layout,
    release: &Release,
    name: &str,
    work: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    in_worktree_at(layout, &release.commit, name, work)
}

/// Runs `work` in a clean detached worktree of `commit` under
/// `.fleet/worktrees/<name>`, removed afterwards whatever happened.
pub fn in_worktree_at<T>(
    layout: &Layout,
    commit: &str,
    name: &str,
    work: impl FnOnce(&Path) -> Result<T>,
) -> Result<T> {
    let worktree = layout.state_dir().join("worktrees").join(name);
    remove_worktree(&layout.root, &worktree);
    if let Some(parent) = worktree.parent() {
        std::fs::create_dir_all(parent)?;
    }
    run(git(&layout.root)
        .args(["worktree", "add", "--quiet", "--detach"])
        .arg(&worktree)
        .arg(commit))?;
    let result = work(&worktree);
    remove_worktree(&layout.root, &worktree);
    result
}

fn cargo_publish(
    layout: &Layout,
    registry: &Kellnr,
    release: &Release,
    worktree: &Path,
    verify: Verify,
) -> Result<()> {
    let target = layout.target_dir().join("publish");
    if verify == Verify::Build {
        // The verification build starts from what the shared cache compiled.
        crate::ops::cargo::seed_target(&layout.target_dir(), &target, &[SHARED_LIB])?;
    }
    let mut publish = cargo_in(
        target,
        worktree.join(SHARED_LIB),
        &["publish", "--locked", "--registry", "local"],
    );
    publishing(&mut publish, registry)?;
    if verify == Verify::Skip {
        publish.arg("--no-verify");
    }
    capture(&mut publish).map(drop).with_context(|| {
        format!(
            "publishing {SHARED_LIB} {} from commit {} failed",
            release.version,
            &release.commit[..12.min(release.commit.len())]
        )
    })
}

/// Where Kellnr serves `version`'s docs, relative to the registry's base URL.
pub fn docs_path(version: &Version) -> String {
    format!(
        "/docs/{SHARED_LIB}/{version}/doc/{}/index.html",
        SHARED_LIB.replace('-', "_")
    )
}

/// Builds `release`'s rustdoc (`cargo doc --no-deps --locked`, from a clean
/// worktree at its commit) and uploads it to `registry`
/// (`PUT /api/v1/docs/shared-lib/<version>`, a zip of `doc/`, with the
/// publish token: only an owner may).
pub fn publish_docs(layout: &Layout, registry: &Kellnr, release: &Release) -> Result<()> {
    let name = format!("{SHARED_LIB}-docs-{}-{}", release.version, registry.port);
    let result = in_worktree(layout, release, &name, |worktree| {
        let target = layout.target_dir().join("docs");
        let doc = target.join("doc");
        if doc.exists() {
            std::fs::remove_dir_all(&doc)?;
        }
        let mut cmd = cargo_in(
            target.clone(),
            worktree.join(SHARED_LIB),
            &["doc", "--no-deps", "--locked", "--quiet"],
        );
        // Only `doc/` is this build's own: what it compiles (the
        // dependencies' check builds) goes to the shared cache, where
        // clippy's are. On a first run this saved 44 s of 57 (190 units
        // compiled, then 12 once clippy had run).
        cmd.env("CARGO_BUILD_BUILD_DIR", layout.target_dir());
        crate::ops::cargo::reading(&mut cmd, registry)?;
        capture(&mut cmd)?;
        let archive = zip_dir(&doc, "doc")?;
        registry.upload_docs(SHARED_LIB, &release.version, archive)
    });
    result.with_context(|| format!("publishing the docs of {SHARED_LIB} {}", release.version))
}

/// A zip of `dir`'s files under `prefix/`.
fn zip_dir(dir: &Path, prefix: &str) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for rel in crate::ops::fs::files(dir, &[])? {
        let name = format!("{prefix}/{}", rel.to_string_lossy().replace('\\', "/"));
        zip.start_file(name, options)?;
        zip.write_all(&std::fs::read(dir.join(&rel))?)?;
    }
    Ok(zip.finish()?.into_inner())
}

fn remove_worktree(root: &Path, worktree: &PathBuf) {
    if worktree.exists() {
        let _ = capture(
            git(root)
                .args(["worktree", "remove", "--force"])
                .arg(worktree),
        );
        let _ = std::fs::remove_dir_all(worktree);
    }
    let _ = capture(git(root).args(["worktree", "prune"]));
}

/// The shared-lib requirement in the manifest of `project_dir`.
pub fn requirement(project_dir: &std::path::Path) -> Result<semver::VersionReq> {
    let path = project_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let manifest: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    let dep = manifest
        .get("dependencies")
        .and_then(|d| d.get(SHARED_LIB))
        .with_context(|| format!("{} does not depend on {SHARED_LIB}", path.display()))?;
    let req = dep
        .as_str()
        .or_else(|| dep.get("version").and_then(|v| v.as_str()))
        .with_context(|| {
            format!(
                "{}: the {SHARED_LIB} dependency has no version",
                path.display()
            )
        })?;
    semver::VersionReq::parse(req)
        .with_context(|| format!("{}: bad requirement {req:?}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_versions_are_read_from_the_package_table() {
        let v = manifest_version("[package]\nname = \"x\"\nversion = \"0.2.1\"\n").unwrap();
        assert_eq!(v, Version::new(0, 2, 1));
        assert!(manifest_version("[package]\nname = \"x\"\n").is_err());
        assert!(manifest_version("not toml [").is_err());
    }
}
