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

pub use cargo_fleet::lock::{Pin, manifest_version};

/// The shared-lib version in the working tree of `layout`.
pub fn working_version(layout: &Layout) -> Result<Version> {
    cargo_fleet::lock::crate_version(&layout.project(SHARED_LIB))
}

/// The shared-lib entry of the lockfile in `project_dir`.
pub fn pin(project_dir: &Path) -> Result<Pin> {
    cargo_fleet::lock::pin(project_dir, SHARED_LIB)
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
    publish_at(
        layout,
        registry,
        SHARED_LIB,
        &release.version,
        &release.commit,
        verify,
    )
}

/// Publishes the crate in the checkout's directory `project` (its package
/// name too), version `version`, to `registry` with real `cargo publish`,
/// from a clean worktree at `commit`.
pub fn publish_at(
    layout: &Layout,
    registry: &Kellnr,
    project: &str,
    version: &Version,
    commit: &str,
    verify: Verify,
) -> Result<()> {
    let name = format!("{project}-{version}-{}", registry.port);
    in_worktree_at(layout, commit, &name, |worktree| {
        cargo_publish(layout, registry, &worktree.join(project), project, verify)
    })
    .with_context(|| {
        format!(
            "publishing {project} {version} from commit {} failed",
            &commit[..12.min(commit.len())]
        )
    })
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

/// `cargo publish` of the crate `package` in `dir`.
fn cargo_publish(
    layout: &Layout,
    registry: &Kellnr,
    dir: &Path,
    package: &str,
    verify: Verify,
) -> Result<()> {
    let target = layout.target_dir().join("publish");
    if verify == Verify::Build {
        // The verification build starts from what the shared cache compiled.
        crate::ops::cargo::seed_target(&layout.target_dir(), &target, &[package])?;
    }
    let mut publish = cargo_in(target, dir, &["publish", "--locked", "--registry", "local"]);
    publishing(&mut publish, registry)?;
    if verify == Verify::Skip {
        publish.arg("--no-verify");
    }
    capture(&mut publish).map(drop)
}

/// Where Kellnr serves `version`'s docs, relative to the registry's base URL.
pub fn docs_path(version: &Version) -> String {
    cargo_fleet::pins::docs_path(SHARED_LIB, version)
}

/// Builds `release`'s rustdoc (`cargo doc --no-deps --locked`, from a clean
/// worktree at its commit) and uploads it to `registry`
/// (`PUT /api/v1/docs/shared-lib/<version>`, a zip of `doc/`, with the
/// publish token: only an owner may).
pub fn publish_docs(layout: &Layout, registry: &Kellnr, release: &Release) -> Result<()> {
    let name = format!("{SHARED_LIB}-docs-{}-{}", release.version, registry.port);
    let result = in_worktree_at(layout, &release.commit, &name, |worktree| {
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
pub fn requirement(project_dir: &Path) -> Result<semver::VersionReq> {
    cargo_fleet::lock::requirement(
        project_dir,
        SHARED_LIB,
        cargo_fleet::manifest::DEFAULT_REGISTRY,
    )
}
