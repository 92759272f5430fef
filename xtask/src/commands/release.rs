//! `cargo xtask release <level> [--execute]`: shared-lib released with a
//! semver guard against the last version in the registry, then
//! cargo-release (a dry run unless `--execute`).
//!
//! cargo-semver-checks cannot read an alternative registry, so the guard
//! downloads the last published `.crate` from Kellnr
//! (`/api/v1/crates/dl/<name>/<version>/download`, anonymous), unpacks it
//! and hands it over as `--baseline-root`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use semver::Version;

use crate::consumers as check_consumers;
use crate::history::{self, SHARED_LIB};
use crate::index;
use crate::level::Level;
use crate::ops::cargo::publishing;
use crate::ops::registry::Kellnr;
use crate::ops::run::run as exec;
use crate::ops::tools::{CARGO_RELEASE, SEMVER_CHECKS};
use crate::paths::Layout;

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
    registry: &Kellnr,
    name: &str,
    version: &Version,
    into: &Path,
) -> Result<PathBuf> {
    let url = format!(
        "{}/api/v1/crates/dl/{name}/{version}/download",
        registry.base_url()
    );
    let resp = registry
        .get(&url)
        .send()
        .with_context(|| format!("cannot download {url}"))?;
    if !resp.status().is_success() {
        bail!("{url} answered {}", resp.status());
    }
    let bytes = resp.bytes()?;
    tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]))
        .unpack(into)
        .with_context(|| format!("{url} is not a .crate archive"))?;
    Ok(into.join(format!("{name}-{version}")))
}

/// Refuses a release whose API change is larger than `level` allows,
/// comparing the working tree with the newest non-yanked version in
/// `registry`. Returns the version the release makes.
pub fn semver_guard(layout: &Layout, registry: &Kellnr, level: Level) -> Result<Version> {
    let manifest = layout.project(SHARED_LIB).join("Cargo.toml");
    let current = history::working_version(layout)?;
    let next = level.next(&current);
    let published = index::published(registry, SHARED_LIB)?;
    if published.iter().any(|p| p.version == next) {
        bail!(
            "{SHARED_LIB} {next} is already published and versions are immutable; \
             set shared-lib/Cargo.toml to the last release of this line or pick another level"
        );
    }
    let Some(baseline) = baseline_for(&current, &next, &published) else {
        println!("semver guard: nothing published on this line yet, no API to compare with");
        return Ok(next);
    };
    let checks = SEMVER_CHECKS.ensure()?;
    let tmp = tempfile::tempdir()?;
    let baseline_root = fetch_published_source(registry, SHARED_LIB, &baseline, tmp.path())?;
    println!(
        "semver guard: comparing the working tree with published {SHARED_LIB} {baseline} for a {} release ({current} -> {next})",
        level.as_str()
    );
    let status = Command::new(checks)
        .args(["semver-checks", "check-release", "--manifest-path"])
        .arg(&manifest)
        .arg("--baseline-root")
        .arg(&baseline_root)
        .args([
            "--release-type",
            semver_checks_release_type(&baseline, &next, level),
        ])
        .env(
            "CARGO_TARGET_DIR",
            layout.target_dir().join("semver-checks"),
        )
        .status()
        .context("cannot run cargo-semver-checks")?;
    if !status.success() {
        let needed = if next.major == 0 {
            "minor (0.x)"
        } else {
            "major"
        };
        bail!(
            "refused: the API changes above break users of {SHARED_LIB} {baseline}, but {current} -> {next} \
             is a compatible {} release for Cargo. Release them as a {needed} bump \
             (`cargo xtask release {}`), or keep the old API",
            level.as_str(),
            if next.major == 0 { "minor" } else { "major" }
        );
    }
    Ok(next)
}

/// Runs `release`: the semver guard, the consumer check, then cargo-release.
pub fn run(layout: &Layout, level: Level, execute: bool, allow_break: &[String]) -> Result<()> {
    if execute {
        // cargo-release refuses a dirty tree; say so before minutes of checks.
        let dirty = crate::ops::git::uncommitted(&layout.root)?;
        if !dirty.is_empty() {
            bail!(
                "uncommitted changes ({}); commit or stash them, then run the release again",
                dirty.join(", ")
            );
        }
    }
    let (registry, _) = super::registry(layout)?;
    // The checks need every version the services pin in the registry:
    // already-released versions, replayed from git (printed when any is).
    let replayed = super::publish_pinned(layout, &registry)?;
    let next = release(layout, &registry, level, execute, allow_break)?;
    if execute {
        println!(
            "released {SHARED_LIB} {next} to {}, docs at {}{}; move a service with `cargo xtask bump <service> --to {next}`",
            registry.index_url(),
            registry.base_url(),
            history::docs_path(&next)
        );
    } else {
        let registry_note = if replayed {
            "; the registry received only the already-released versions the services pin (above)"
        } else {
            ""
        };
        println!(
            "dry run of {SHARED_LIB} {next}: the repository is unchanged and {next} was not published{registry_note}; add --execute to release"
        );
    }
    Ok(())
}

/// Builds and tests every service against the candidate `next`. Refuses
/// when a service whose requirement accepts it fails, unless that service
/// is named in `allow_break` and the CHANGELOG's Unreleased section says
/// it breaks.
pub fn consumer_gate(
    layout: &Layout,
    registry: &Kellnr,
    next: &Version,
    allow_break: &[String],
) -> Result<()> {
    let fleet = layout.fleet()?;
    for name in allow_break {
        fleet.service(name)?;
    }
    println!("consumer check: every service against {SHARED_LIB} {next}");
    let report = check_consumers::check(layout, registry, next, &mut |line| println!("  {line}"))?;
    print!("{}", check_consumers::render(&report));
    let broken = report.broken();
    let refused: Vec<&check_consumers::Outcome> = broken
        .iter()
        .copied()
        .filter(|o| !allow_break.contains(&o.service))
        .collect();
    if !refused.is_empty() {
        bail!(
            "refused: {}. Logs: {}. To break it on purpose, pass --allow-break <service> and say so in {SHARED_LIB}/CHANGELOG.md",
            check_consumers::broken_message(&refused, next),
            report.markdown.display()
        );
    }
    if !broken.is_empty() {
        let changelog = std::fs::read_to_string(layout.project(SHARED_LIB).join("CHANGELOG.md"))
            .context("cannot read shared-lib/CHANGELOG.md")?;
        let unreleased = unreleased_section(&changelog);
        for o in &broken {
            if !unreleased.contains(&o.service) {
                bail!(
                    "--allow-break {0}: the CHANGELOG's Unreleased section must say that this release breaks {0} (a line such as `- ... (breaks {0}: ...)`); add it, commit, and run the release again",
                    o.service
                );
            }
        }
        println!(
            "consumer check: releasing although it breaks {} (--allow-break, named in the CHANGELOG)",
            broken
                .iter()
                .map(|o| o.service.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// The text of the CHANGELOG's Unreleased section.
pub fn unreleased_section(changelog: &str) -> &str {
    let Some(start) = changelog.find("## [Unreleased]") else {
        return "";
    };
    let rest = &changelog[start + 3..];
    let end = rest.find("\n## [").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// The semver guard, the consumer check, then cargo-release for shared-lib
/// at `level`. Without `execute` it is cargo-release's dry run: nothing is
/// written. Returns the version it makes.
pub fn release(
    layout: &Layout,
    registry: &Kellnr,
    level: Level,
    execute: bool,
    allow_break: &[String],
) -> Result<Version> {
    let next = semver_guard(layout, registry, level)?;
    consumer_gate(layout, registry, &next, allow_break)?;
    cargo_release(layout, registry, level, execute)?;
    if execute {
        let release = history::releases(&layout.root)?
            .into_iter()
            .find(|r| r.version == next)
            .with_context(|| format!("cargo-release made no commit with {SHARED_LIB} {next}"))?;
        history::publish_docs(layout, registry, &release)?;
    }
    Ok(next)
}

/// cargo-release for shared-lib at `level`.
fn cargo_release(layout: &Layout, registry: &Kellnr, level: Level, execute: bool) -> Result<()> {
    let cargo_release = CARGO_RELEASE.ensure()?;
    let mut cmd = Command::new(cargo_release);
    cmd.args(["release", level.as_str()])
        .current_dir(layout.project(SHARED_LIB))
        .env("CARGO_TARGET_DIR", layout.target_dir().join("publish"));
    publishing(&mut cmd, registry)?;
    if execute {
        cmd.args(["--execute", "--no-confirm"]);
    }
    exec(&mut cmd)
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
