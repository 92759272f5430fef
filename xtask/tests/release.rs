//! Releasing and bumping against a real, throwaway Kellnr, in a throwaway
//! clone of this repository (its committed HEAD): real `cargo publish`,
//! `cargo add`, `cargo update`, `cargo yank`, cargo-release and
//! cargo-semver-checks. `cargo xtask test` installs the tools first.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use semver::Version;
use xtask::history::{self, Release, SHARED_LIB, Verify};
use xtask::paths::Layout;
use xtask::procs::free_port;
use xtask::registry::Kellnr;
use xtask::release::{Level, release, semver_guard};
use xtask::status::{Verdict, bump, status};
use xtask::tools::KELLNR;

/// A throwaway registry and a clone of the repository pointed at it.
struct Sandbox {
    /// Holds the registry data and the clone.
    _tmp: tempfile::TempDir,
    registry: Kellnr,
    kellnr: Child,
    copy: Layout,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.kellnr.id() as i32), Signal::SIGTERM);
        let _ = self.kellnr.wait();
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Registry up, repository cloned (no remote, a committer set), every
/// pinned shared-lib version published to the throwaway registry.
fn sandbox() -> Sandbox {
    let real = Layout::detect();
    let tmp = tempfile::tempdir().unwrap();
    let registry = Kellnr {
        port: free_port().unwrap(),
        data_dir: tmp.path().join("data"),
        config: real.kellnr_config(),
        log: tmp.path().join("kellnr.log"),
    };
    let kellnr = registry.start(&KELLNR.path()).unwrap();
    let root = tmp.path().join("repo");
    let status = Command::new("git")
        .args(["clone", "--quiet"])
        .arg(&real.root)
        .arg(&root)
        .status()
        .unwrap();
    assert!(status.success());
    git(&root, &["remote", "remove", "origin"]);
    git(&root, &["config", "user.name", "Release Test"]);
    git(&root, &["config", "user.email", "release-test@example.com"]);
    // Nested cargo runs get a cache of their own: the outer `cargo test`
    // may hold the lock of the usual one.
    let copy = Layout::at(root, real.target_dir().join("nested"));
    xtask::fleet::publish_pinned(&copy, &registry).unwrap();
    Sandbox {
        _tmp: tmp,
        registry,
        kellnr,
        copy,
    }
}

fn manifest_version(layout: &Layout) -> Version {
    history::working_version(layout).unwrap()
}

/// Commits a new shared-lib version (same code) and publishes it from that commit.
fn publish_throwaway_version(sb: &Sandbox, version: &Version) {
    let manifest = sb.copy.project(SHARED_LIB).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let current = manifest_version(&sb.copy);
    let edited = text.replacen(
        &format!("\nversion = \"{current}\"\n"),
        &format!("\nversion = \"{version}\"\n"),
        1,
    );
    assert_ne!(
        edited,
        text,
        "version line not found in {}",
        manifest.display()
    );
    std::fs::write(&manifest, edited).unwrap();
    let status = Command::new("cargo")
        .args(["update", "--workspace", "--quiet"])
        .current_dir(sb.copy.project(SHARED_LIB))
        .env("CARGO_TARGET_DIR", sb.copy.target_dir())
        .status()
        .unwrap();
    assert!(status.success());
    git(
        &sb.copy.root,
        &[
            "commit",
            "--quiet",
            "-am",
            &format!("throwaway shared-lib {version}"),
        ],
    );
    let release = Release {
        version: version.clone(),
        commit: git(&sb.copy.root, &["rev-parse", "HEAD"]),
    };
    history::publish_release(&sb.copy, &sb.registry, &release, Verify::Skip).unwrap();
}

fn verdict_of(sb: &Sandbox, service: &str) -> (Verdict, String) {
    let rows = status(&sb.copy, &sb.registry).unwrap();
    let row = rows.into_iter().find(|r| r.service == service).unwrap();
    (row.verdict, row.locked)
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn status_and_bump_move_one_service_and_see_yanks() {
    let sb = sandbox();
    let rows = status(&sb.copy, &sb.registry).unwrap();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert!(
            matches!(
                row.verdict,
                Verdict::UpToDate | Verdict::CompatibleUpdateAvailable | Verdict::NeedsBreakingBump
            ),
            "{row:?}"
        );
    }

    // A throwaway next minor: outside every service's requirement.
    let current = manifest_version(&sb.copy);
    let next = Version::new(current.major, current.minor + 1, 0);
    publish_throwaway_version(&sb, &next);
    for service in ["user-service", "order-service"] {
        assert_eq!(
            verdict_of(&sb, service).0,
            Verdict::NeedsBreakingBump,
            "{service}"
        );
    }

    // Refusals come before any change.
    let err = bump(
        &sb.copy,
        &sb.registry,
        "order-service",
        Some(&Version::new(9, 9, 9)),
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("9.9.9 is not published"),
        "{err:#}"
    );
    let err = bump(&sb.copy, &sb.registry, "billing-service", None).unwrap_err();
    assert!(format!("{err:#}").contains("unknown service"), "{err:#}");

    // Bump only order-service, to the newest: user-service does not move.
    let user_manifest = read(sb.copy.project("user-service").join("Cargo.toml"));
    let user_lock = read(sb.copy.project("user-service").join("Cargo.lock"));
    let bumped = bump(&sb.copy, &sb.registry, "order-service", None).unwrap();
    assert_eq!(bumped.to, next);
    assert_eq!(
        verdict_of(&sb, "order-service"),
        (Verdict::UpToDate, next.to_string())
    );
    assert_eq!(
        read(sb.copy.project("user-service").join("Cargo.toml")),
        user_manifest
    );
    assert_eq!(
        read(sb.copy.project("user-service").join("Cargo.lock")),
        user_lock
    );
    assert_eq!(
        verdict_of(&sb, "user-service").0,
        Verdict::NeedsBreakingBump
    );

    // Yank it: the verdict says so, and bump refuses it.
    let token = sb.registry.token().unwrap();
    let yank = Command::new("cargo")
        .args([
            "yank",
            SHARED_LIB,
            "--version",
            &next.to_string(),
            "--registry",
            "local",
            "--token",
            &token,
        ])
        .env("CARGO_REGISTRIES_LOCAL_INDEX", sb.registry.index_url())
        .current_dir(&sb.copy.root)
        .output()
        .unwrap();
    assert!(
        yank.status.success(),
        "{}",
        String::from_utf8_lossy(&yank.stderr)
    );
    assert_eq!(
        verdict_of(&sb, "order-service").0,
        Verdict::PinsYankedVersion
    );
    let err = bump(&sb.copy, &sb.registry, "user-service", Some(&next)).unwrap_err();
    assert!(format!("{err:#}").contains("is yanked"), "{err:#}");
}

#[test]
fn the_semver_guard_refuses_a_break_as_a_patch_and_cargo_release_publishes_an_addition() {
    let sb = sandbox();
    // The baseline: the working tree's version, published from history.
    let current = manifest_version(&sb.copy);
    let releases = history::releases(&sb.copy.root).unwrap();
    let baseline = releases.iter().find(|r| r.version == current).unwrap();
    if !xtask::index::published(&sb.registry.base_url(), SHARED_LIB)
        .unwrap()
        .iter()
        .any(|p| p.version == current)
    {
        history::publish_release(&sb.copy, &sb.registry, baseline, Verify::Skip).unwrap();
    }

    // Break the API: remove a public method.
    let store = sb.copy.project(SHARED_LIB).join("src/store.rs");
    let original = std::fs::read_to_string(&store).unwrap();
    let removed = "    /// Whether the table holds no row.\n    pub fn is_empty(&self) -> bool {\n        self.rows.is_empty()\n    }\n";
    assert!(
        original.contains(removed),
        "store.rs changed: update this test's break"
    );
    std::fs::write(&store, original.replace(removed, "")).unwrap();
    let err = semver_guard(&sb.copy, &sb.registry, Level::Patch).unwrap_err();
    assert!(format!("{err:#}").contains("refused"), "{err:#}");
    let next_minor = semver_guard(&sb.copy, &sb.registry, Level::Minor).unwrap();
    assert_eq!(
        next_minor,
        Version::new(current.major, current.minor + 1, 0)
    );

    // An addition instead, committed with a CHANGELOG entry, released as a
    // patch through cargo-release: commit, tag and publish.
    let addition = "    /// Whether the table holds no row.\n    pub fn is_empty(&self) -> bool {\n        self.rows.is_empty()\n    }\n\n    /// Whether the table is at its capacity.\n    pub fn is_full(&self) -> bool {\n        self.rows.len() >= self.capacity\n    }\n";
    std::fs::write(&store, original.replace(removed, addition)).unwrap();
    let changelog = sb.copy.project(SHARED_LIB).join("CHANGELOG.md");
    let text = std::fs::read_to_string(&changelog).unwrap();
    let entry = "## [Unreleased] - ReleaseDate\n\n### Added\n- `Table::is_full`.\n";
    std::fs::write(
        &changelog,
        text.replacen("## [Unreleased] - ReleaseDate\n", entry, 1),
    )
    .unwrap();
    git(
        &sb.copy.root,
        &["commit", "--quiet", "-am", "shared-lib: Table::is_full"],
    );

    let released = release(&sb.copy, &sb.registry, Level::Patch, true).unwrap();
    let patch = Version::new(current.major, current.minor, current.patch + 1);
    assert_eq!(released, patch);
    assert_eq!(manifest_version(&sb.copy), patch);
    assert_eq!(
        git(&sb.copy.root, &["log", "-1", "--format=%s"]),
        format!("chore: Release shared-lib version {patch}")
    );
    assert_eq!(
        git(
            &sb.copy.root,
            &["tag", "--list", &format!("shared-lib-v{patch}")]
        ),
        format!("shared-lib-v{patch}")
    );
    let changelog = std::fs::read_to_string(&changelog).unwrap();
    assert!(
        changelog.contains(&format!("## [{patch}] - ")),
        "{changelog}"
    );
    assert!(
        changelog.contains("<!-- next-header -->\n## [Unreleased] - ReleaseDate\n"),
        "{changelog}"
    );
    let published = xtask::index::published(&sb.registry.base_url(), SHARED_LIB).unwrap();
    assert!(
        published.iter().any(|p| p.version == patch),
        "{published:?}"
    );
    // The release commit is the one history replays for that version.
    let head = git(&sb.copy.root, &["rev-parse", "HEAD"]);
    let replay = history::releases(&sb.copy.root).unwrap();
    assert_eq!(
        replay
            .iter()
            .find(|r| r.version == patch)
            .map(|r| r.commit.as_str()),
        Some(head.as_str())
    );
}
