//! Step 1: the semver guard.
//!
//! cargo-semver-checks cannot read an alternative registry, so the guard
//! downloads the last published `.crate` from the registry (its index's
//! `dl` address), unpacks it and hands it over as `--baseline-root`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use semver::Version;

use crate::error::{problem, usage};
use crate::index;
use crate::level::Level;
use crate::manifest::Shared;
use crate::ops::registry::Registry;
use crate::ops::run::program;
use crate::workspace::Workspace;

/// Whether Cargo treats `from -> to` as compatible (same caret range):
/// 0.1.0 -> 0.1.1 and 1.2.0 -> 1.3.0 are; 0.1.x -> 0.2.0 and 1.x -> 2.0 are not.
pub fn is_compatible(from: &Version, to: &Version) -> bool {
    match (from.major, to.major) {
        (0, 0) => from.minor == to.minor,
        (a, b) => a == b,
    }
}

/// The published version a release `current -> next` is compared with: the
/// newest non-yanked one on `current`'s line (a 0.1.x backport is compared
/// with 0.1.x, not with a newer 0.2.0), else the newest one below `next`.
pub fn baseline_for(
    current: &Version,
    next: &Version,
    published: &[index::Published],
) -> Option<Version> {
    let live = || published.iter().filter(|p| !p.yanked).map(|p| &p.version);
    live()
        .filter(|v| is_compatible(current, v) && *v < next)
        .max()
        .or_else(|| live().filter(|v| *v < next).max())
        .cloned()
}

/// The `--release-type` to give cargo-semver-checks for `baseline -> next`.
/// It reads the type literally (`minor` forbids breaking changes even on
/// 0.x), so it gets the change as Cargo sees it: leaving the caret range
/// (0.1 -> 0.2, 1.x -> 2.0) is `major`; a compatible 0.x bump or a 1.x minor
/// may add API (`minor`); a 1.x patch is `patch`.
pub fn semver_checks_release_type(
    baseline: &Version,
    next: &Version,
    level: Level,
) -> &'static str {
    if !is_compatible(baseline, next) {
        "major"
    } else if next.major == 0 || level != Level::Patch {
        "minor"
    } else {
        "patch"
    }
}

/// Downloads `name`'s published `version` from `registry` and unpacks it
/// under `into`; returns the crate's directory.
pub fn fetch_published_source(
    registry: &Registry,
    name: &str,
    version: &Version,
    into: &Path,
) -> Result<PathBuf> {
    let bytes = registry.download(name, version)?;
    tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]))
        .unpack(into)
        .with_context(|| format!("the registry's {name} {version} is not a .crate archive"))?;
    Ok(into.join(format!("{name}-{version}")))
}

/// Refuses a release whose API change is larger than `level` allows,
/// comparing the shared crate's working tree with the newest non-yanked
/// version in the registry, with cargo-semver-checks (the binary
/// `semver_checks`). Returns the version the release makes.
pub fn semver_guard(
    ws: &Workspace,
    shared: &Shared,
    level: Level,
    semver_checks: &Path,
) -> Result<Version> {
    let krate = shared.name.as_str();
    let dir = ws.shared_dir(shared)?;
    let manifest = dir.join("Cargo.toml");
    let current = crate::lock::crate_version(&dir)?;
    let next = level.next(&current);
    let registry = &ws.registry;
    let published = index::published(registry, krate)?;
    if published.iter().any(|p| p.version == next) {
        return Err(usage(format!(
            "{krate} {next} is already published and versions are immutable; \
             set {krate}'s Cargo.toml to the last release of this line or pick another level"
        )));
    }
    let Some(baseline) = baseline_for(&current, &next, &published) else {
        println!("semver guard: nothing published on this line yet, no API to compare with");
        return Ok(next);
    };
    let tmp = tempfile::tempdir()?;
    let baseline_root = fetch_published_source(registry, krate, &baseline, tmp.path())?;
    println!(
        "semver guard: comparing the working tree with published {krate} {baseline} for a {} release ({current} -> {next})",
        level.as_str()
    );
    // cargo-semver-checks writes the rustdoc JSON of both versions to fixed
    // paths in its target dir (`doc/shared_lib.json`), whatever checkout
    // the crate comes from: two guards at once over one build cache (two
    // checkouts, or tests in parallel) would read each other's. One at a
    // time.
    let target = ws.target.join("semver-checks");
    let _one_at_a_time = crate::ops::fs::lock(&target)?;
    let passes = crate::ops::run::succeeds(
        program(semver_checks)
            .args(["semver-checks", "check-release", "--manifest-path"])
            .arg(&manifest)
            .arg("--baseline-root")
            .arg(&baseline_root)
            .args([
                "--release-type",
                semver_checks_release_type(&baseline, &next, level),
            ])
            .env("CARGO_TARGET_DIR", &target),
    )?;
    if !passes {
        let needed = if next.major == 0 {
            "minor (0.x)"
        } else {
            "major"
        };
        return Err(problem(format!(
            "refused: the API changes above break users of {krate} {baseline}, but {current} -> {next} \
             is a compatible {} release for Cargo. Release them as a {needed} bump \
             (`release {}`), or keep the old API",
            level.as_str(),
            if next.major == 0 { "minor" } else { "major" }
        )));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn levels_bump_the_right_component() {
        assert_eq!(Level::Patch.next(&v("0.1.0")), v("0.1.1"));
        assert_eq!(Level::Minor.next(&v("0.1.3")), v("0.2.0"));
        assert_eq!(Level::Major.next(&v("0.2.1")), v("1.0.0"));
    }

    #[test]
    fn semver_checks_gets_the_change_as_cargo_sees_it() {
        let t = |from: &str, to: &str, level| semver_checks_release_type(&v(from), &v(to), level);
        assert_eq!(t("0.1.1", "0.2.0", Level::Minor), "major");
        assert_eq!(t("0.1.1", "0.1.2", Level::Patch), "minor");
        assert_eq!(t("1.2.0", "2.0.0", Level::Major), "major");
        assert_eq!(t("1.2.0", "1.3.0", Level::Minor), "minor");
        assert_eq!(t("1.2.0", "1.2.1", Level::Patch), "patch");
    }

    #[test]
    fn the_baseline_is_the_newest_release_of_the_same_line() {
        let published: Vec<index::Published> = [
            ("0.1.0", false),
            ("0.1.1", false),
            ("0.2.0", false),
            ("0.2.1", true),
        ]
        .iter()
        .map(|(ver, yanked)| index::Published {
            version: v(ver),
            yanked: *yanked,
            checksum: String::new(),
        })
        .collect();
        // A backport on 0.1.x compares with 0.1.1, not 0.2.0.
        assert_eq!(
            baseline_for(&v("0.1.1"), &v("0.1.2"), &published),
            Some(v("0.1.1"))
        );
        // The main line compares with its newest live release.
        assert_eq!(
            baseline_for(&v("0.2.0"), &v("0.2.1"), &published),
            Some(v("0.2.0"))
        );
        assert_eq!(
            baseline_for(&v("0.2.0"), &v("0.3.0"), &published),
            Some(v("0.2.0"))
        );
        // A first release of a new major line compares with the newest below it.
        assert_eq!(
            baseline_for(&v("0.9.0"), &v("1.0.0"), &published),
            Some(v("0.2.0"))
        );
        assert_eq!(baseline_for(&v("0.0.1"), &v("0.0.2"), &[]), None);
    }

    #[test]
    fn compatibility_follows_cargos_caret_rules() {
        assert!(is_compatible(&v("0.1.0"), &v("0.1.9")));
        assert!(!is_compatible(&v("0.1.0"), &v("0.2.0")));
        assert!(is_compatible(&v("1.2.0"), &v("1.9.0")));
        assert!(!is_compatible(&v("1.9.0"), &v("2.0.0")));
    }
}
