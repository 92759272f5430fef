//! Releasing and bumping against a real, throwaway Kellnr, in a throwaway
//! clone of this repository (its committed HEAD): real `cargo publish`,
//! `cargo add`, `cargo update`, `cargo yank`, cargo-release and
//! cargo-semver-checks. `cargo xtask test` installs the tools first.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

mod common;

use common::{edit, git};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use semver::Version;
use xtask::commands::release::{release, semver_guard};
use xtask::commands::status::{self as fleet_status, status};
use xtask::commands::{new_service, test};
use xtask::consumers::{self as check_consumers, Verdict};
use xtask::history::{self, Release, SHARED_LIB, Verify};
use xtask::level::Level;
use xtask::ops::cargo::{cargo, reading};
use xtask::ops::procs::free_port;
use xtask::ops::registry::Kellnr;
use xtask::ops::tools::KELLNR;
use xtask::paths::Layout;

/// A directory of one test's own under the build cache, named after the
/// test (libtest names each test's thread after it), emptied first and
/// removed after. The sandbox's path crates then sit at the same paths
/// run after run, so `<target>/nested` keeps reusing what their crates.io
/// dependencies built (temporary paths made new crates of those each
/// time, about 7 GB a run); what is built on the run's own registry is
/// removed by [`common::forget_run_bound_builds`].
struct SandboxDir(PathBuf);

impl SandboxDir {
    fn new(real: &Layout) -> SandboxDir {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("main").replace("::", "-");
        let dir = real.target_dir().join("sandboxes").join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        SandboxDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SandboxDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn forgetting_earlier_sandbox_builds_keeps_what_crates_io_crates_built() {
    let nested = std::env::temp_dir().join(format!("forget-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&nested);
    let file = |path: &str| {
        let path = nested.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"12345").unwrap();
    };
    let kept = [
        "debug/deps/libserde-0123456789abcdef.rlib",
        "debug/deps/serde-0123456789abcdef.d",
        "debug/.fingerprint/serde-0123456789abcdef/lib-serde",
        "debug/build/serde-1123456789abcdef/out",
        "debug/order-service",
        "consumers/debug/deps/libtokio-2123456789abcdef.rlib",
    ];
    let gone = [
        // A service, one of its test targets and shared-lib from the registry.
        "debug/deps/order_service-3123456789abcdef",
        "debug/deps/order_service-3123456789abcdef.d",
        "debug/deps/server-4123456789abcdef",
        "debug/deps/libshared_lib-5123456789abcdef.rlib",
        "debug/.fingerprint/order-service-3123456789abcdef/test-bin-order-service",
        "debug/.fingerprint/order-service-4123456789abcdef/test-integration-test-server",
        "debug/.fingerprint/order-service-6123456789abcdef/invoked.timestamp",
        "debug/.fingerprint/shared-lib-5123456789abcdef/lib-shared_lib",
        "debug/incremental/order_service-05g7h3a143gvw/s-1/dep-graph.bin",
        "debug/incremental/server-0htq03g8rpled/s-1/dep-graph.bin",
        "consumers/debug/deps/libshared_lib-7123456789abcdef.rlib",
    ];
    for path in kept.iter().chain(&gone) {
        file(path);
    }
    assert_eq!(
        common::forget_run_bound_builds(&nested),
        5 * gone.len() as u64
    );
    for path in kept {
        assert!(nested.join(path).exists(), "{path} was removed");
    }
    for path in gone {
        assert!(!nested.join(path).exists(), "{path} is still there");
    }
    assert!(!nested.join("debug/incremental").exists());
    std::fs::remove_dir_all(&nested).unwrap();
}

/// A throwaway registry and a clone of the repository pointed at it.
struct Sandbox {
    /// Holds the registry data and the clone.
    _tmp: SandboxDir,
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

impl Sandbox {
    /// The clone as `cargo fleet` works on it, on the throwaway registry.
    fn ws(&self) -> cargo_fleet::Workspace {
        self.copy
            .workspace(&self.registry)
            .unwrap()
            .with_tools(xtask::fleet::tool::service_test_tools(&self.copy).unwrap())
    }

    /// Runs `service`'s supply-chain test (`tests/supply_chain.rs`) against
    /// the sandbox's registry, as `cargo fleet bump` runs its tests:
    /// whether it passed, and its output.
    fn supply_chain_test(&self, service: &str) -> (bool, String) {
        // Its lock names the registry at the declared URL; cargo reads this
        // sandbox's registry, whose URL differs: the same versions, locked
        // against it, as `bump` would leave them.
        let lock = self.copy.project(service).join("Cargo.lock");
        let text = std::fs::read_to_string(&lock).unwrap();
        std::fs::write(
            &lock,
            text.replace(
                cargo_fleet::manifest::DEFAULT_INDEX,
                &self.registry.index_url(),
            ),
        )
        .unwrap();
        let mut cmd = cargo(
            &self.copy,
            self.copy.project(service),
            &["test", "--locked", "--test", "supply_chain"],
        );
        reading(&mut cmd, &self.registry).unwrap();
        self.ws().tools_on_path(&mut cmd);
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    fn status(&self) -> anyhow::Result<Vec<fleet_status::Row>> {
        let ws = self.ws();
        status(&ws, ws.manifest.shared(None)?)
    }

    fn check(
        &self,
        candidate: &Version,
        progress: &mut dyn FnMut(String),
    ) -> anyhow::Result<check_consumers::Report> {
        let ws = self.ws();
        check_consumers::check(&ws, ws.manifest.shared(None)?, candidate, progress)
    }

    fn bump(
        &self,
        service: &str,
        to: Option<&Version>,
    ) -> anyhow::Result<cargo_fleet::commands::bump::Bumped> {
        cargo_fleet::commands::bump::bump(&self.ws(), service, None, to)
    }
}

/// Registry up, repository cloned (no remote, a committer set), every
/// pinned shared-lib version published to the throwaway registry.
///
/// The registry listens on a new port each run, so its URL is new: cargo
/// takes a version of a registry for immutable (it keys what it downloads
/// and builds by the registry's URL, and the sources it unpacks carry a
/// fixed 2006 modification time), while each run publishes the same
/// versions with the contents of the commit under test.
fn sandbox() -> Sandbox {
    let real = Layout::detect();
    static FORGET: std::sync::Once = std::sync::Once::new();
    FORGET.call_once(|| {
        let nested = real.target_dir().join("nested");
        let freed = common::forget_run_bound_builds(&nested);
        // A first run's nested cache starts from what the suite's own
        // steps compiled of crates.io's crates.
        let seeded = xtask::ops::cargo::seed_target(&real.target_dir(), &nested, &[SHARED_LIB])
            .unwrap();
        // Straight to stderr: libtest captures `eprintln!` of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "release tests: {:.1} GB of earlier runs' sandbox builds removed from {}, {:.1} GB of crates.io builds copied in from the shared cache",
            freed as f64 / 1e9,
            nested.display(),
            seeded as f64 / 1e9
        );
    });
    let tmp = SandboxDir::new(&real);
    let registry = Kellnr {
        port: free_port().unwrap(),
        data_dir: tmp.path().join("data"),
        config: real.kellnr_config(),
        log: tmp.path().join("kellnr.log"),
    };
    let kellnr = registry.start(&KELLNR.path()).unwrap();
    let root = tmp.path().join("repo");
    common::clone_repo(&real.root, &root, "Release Test");
    // Nested cargo runs get a cache of their own: what they build on the
    // throwaway registry is named anew each run, and the prune removes it
    // there without touching the suite's own builds.
    let copy = Layout::at(root, real.target_dir().join("nested"));
    xtask::fleet::publish_pinned(&copy, &registry, xtask::fleet::Docs::Skip).unwrap();
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

fn verdict_of(sb: &Sandbox, service: &str) -> (fleet_status::Verdict, String) {
    let rows = sb.status().unwrap();
    let row = rows.into_iter().find(|r| r.service == service).unwrap();
    (row.verdict, row.locked)
}

/// `cargo yank` of shared-lib `version` in the sandbox's registry, with the
/// publish token.
fn yank(sb: &Sandbox, version: &Version) {
    let out = Command::new("cargo")
        .args(["yank", SHARED_LIB, "--version", &version.to_string()])
        .args([
            "--registry",
            "local",
            "--token",
            &sb.registry.token().unwrap(),
        ])
        .env("CARGO_REGISTRIES_LOCAL_INDEX", sb.registry.index_url())
        .current_dir(&sb.copy.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn status_and_bump_move_one_service_and_see_yanks() {
    let sb = sandbox();
    let rows = sb.status().unwrap();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert!(
            matches!(
                row.verdict,
                fleet_status::Verdict::UpToDate
                    | fleet_status::Verdict::CompatibleUpdateAvailable
                    | fleet_status::Verdict::NeedsBreakingBump
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
            fleet_status::Verdict::NeedsBreakingBump,
            "{service}"
        );
    }

    // Refusals come before any change.
    let err = sb
        .bump("order-service", Some(&Version::new(9, 9, 9)))
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("9.9.9 is not published"),
        "{err:#}"
    );
    let err = sb.bump("billing-service", None).unwrap_err();
    assert!(format!("{err:#}").contains("unknown service"), "{err:#}");

    // Bump only order-service, to the newest: user-service does not move.
    let user_manifest = read(sb.copy.project("user-service").join("Cargo.toml"));
    let user_lock = read(sb.copy.project("user-service").join("Cargo.lock"));
    let bumped = sb.bump("order-service", None).unwrap();
    assert_eq!(bumped.to, next);
    assert_eq!(
        verdict_of(&sb, "order-service"),
        (fleet_status::Verdict::UpToDate, next.to_string())
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
        fleet_status::Verdict::NeedsBreakingBump
    );

    // Yank it: the verdict says so, and bump refuses it.
    yank(&sb, &next);
    assert_eq!(
        verdict_of(&sb, "order-service").0,
        fleet_status::Verdict::PinsYankedVersion
    );
    let err = sb.bump("user-service", Some(&next)).unwrap_err();
    assert!(format!("{err:#}").contains("is yanked"), "{err:#}");
}

/// `cargo fleet advise` with `request` on the sandbox's registry, with
/// the publish token (it may yank).
fn advise(
    sb: &Sandbox,
    version: &Version,
    patched: Option<&str>,
    yank: bool,
    execute: bool,
) -> anyhow::Result<(
    cargo_fleet::advisories::Advisory,
    Vec<cargo_fleet::commands::advise::Locker>,
)> {
    let ws = sb
        .copy
        .workspace_with_token(&sb.registry, sb.registry.token().unwrap())
        .unwrap();
    cargo_fleet::commands::advise::run(
        &ws,
        &cargo_fleet::commands::advise::Request {
            krate: None,
            version: version.clone(),
            reason: "orders over ten items are undercharged".into(),
            patched: patched.map(|p| semver::VersionReq::parse(p).unwrap()),
            yank,
            execute,
        },
    )
}

#[test]
fn an_advisory_makes_every_service_that_locks_the_version_move_and_the_release_gate_refuses_it() {
    let sb = sandbox();
    let current = manifest_version(&sb.copy);
    for row in sb.status().unwrap() {
        assert_eq!(row.locked, current.to_string(), "{row:?}");
    }
    // A version that does not exist, and no fix published yet: refused.
    let err = advise(&sb, &Version::new(9, 9, 9), None, false, false).unwrap_err();
    assert!(
        format!("{err:#}").contains("9.9.9 is not in the registry"),
        "{err:#}"
    );
    let err = advise(&sb, &current, None, false, false).unwrap_err();
    assert!(
        format!("{err:#}").contains("publish the fix first"),
        "{err:#}"
    );

    let fix = Version::new(current.major, current.minor, current.patch + 1);
    publish_throwaway_version(&sb, &fix);
    let db = sb.copy.root.join("registry/advisories");

    // The dry run writes nothing and names both services.
    let (advisory, lockers) = advise(&sb, &current, None, true, false).unwrap();
    assert!(advisory.id.starts_with("FLEET-20"), "{advisory:?}");
    assert_eq!(advisory.moves_to(), format!(">={fix}"));
    assert_eq!(
        advisory.source.as_deref(),
        Some(cargo_fleet::manifest::DEFAULT_INDEX)
    );
    let mut names: Vec<&str> = lockers.iter().map(|l| l.service.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["order-service", "user-service"]);
    assert!(!db.exists());
    assert_eq!(
        verdict_of(&sb, "user-service").0,
        fleet_status::Verdict::CompatibleUpdateAvailable
    );

    // --execute --yank: the advisory is committed in its own repository, the
    // version is yanked, and status names the advisory for both services.
    let (advisory, _) = advise(&sb, &current, None, true, true).unwrap();
    let file = db
        .join("crates")
        .join(SHARED_LIB)
        .join(format!("{}.md", advisory.id));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        cargo_fleet::advisories::Advisory::parse(&text).unwrap(),
        advisory
    );
    assert!(
        git(&db, &["log", "--format=%s"]).contains("orders over ten items are undercharged"),
        "the advisory is committed"
    );
    assert!(git(&db, &["status", "--porcelain"]).is_empty());
    let yanked = cargo_fleet::index::published(&sb.ws().registry, SHARED_LIB)
        .unwrap()
        .into_iter()
        .find(|p| p.version == current)
        .unwrap();
    assert!(yanked.yanked, "advise --yank yanked {current}");
    let rows = sb.status().unwrap();
    for row in &rows {
        assert_eq!(
            row.verdict,
            fleet_status::Verdict::PinsAdvisedVersion,
            "{row:?}"
        );
        assert_eq!(row.advisories[0].id, advisory.id);
    }
    let err = format!(
        "{:#}",
        cargo_fleet::commands::status::problems(&rows).unwrap_err()
    );
    assert!(
        err.contains(&advisory.id) && err.contains(&format!("move to >={fix}")),
        "{err}"
    );

    // Each service's own tests fail on it: its supply-chain test names the
    // advisory, its reason and where to move.
    let (ok, text) = sb.supply_chain_test("order-service");
    assert!(!ok, "{text}");
    for says in [
        advisory.id.as_str(),
        "orders over ten items are undercharged",
        &format!("move to >={fix}"),
    ] {
        assert!(text.contains(says), "{says:?} in:\n{text}");
    }

    // A bump (which runs the service's tests, that one included) clears
    // one service; the other still must move.
    let bumped = sb.bump("user-service", None).unwrap();
    assert_eq!(bumped.to, fix);
    assert_eq!(
        verdict_of(&sb, "user-service"),
        (fleet_status::Verdict::UpToDate, fix.to_string())
    );
    assert_eq!(
        verdict_of(&sb, "order-service").0,
        fleet_status::Verdict::PinsAdvisedVersion
    );
    let (ok, text) = sb.supply_chain_test("user-service");
    assert!(ok, "{text}");

    // An advisory on the fix with no patched version on that line: the
    // release gate refuses the next patch before any build.
    let (second, _) = advise(
        &sb,
        &fix,
        Some(&format!(">={}.{}.0", current.major, current.minor + 1)),
        false,
        true,
    )
    .unwrap();
    assert_ne!(second.id, advisory.id);
    let err = release(&sb.copy, &sb.registry, Level::Patch, false, &[]).unwrap_err();
    let err = format!("{err:#}");
    assert!(
        err.contains(&second.id) && err.contains("is named by advisory"),
        "{err}"
    );

    // Dependency confusion: shared-lib named without its registry is one
    // line, before anything is built.
    edit(
        &sb.copy.project("order-service").join("Cargo.toml"),
        &format!("shared-lib = {{ version = \"{current}\", registry = \"local\" }}"),
        &format!("shared-lib = \"{current}\""),
    );
    let err = format!("{:#}", sb.status().unwrap_err());
    assert!(
        err.contains("[dependencies] shared-lib names no registry")
            && err.contains("dependency confusion")
            && !err.contains('\n'),
        "{err}"
    );
    // The service's own check says the same, reading files only.
    let fleet = sb.ws().tools[1].join("cargo-fleet");
    let out = Command::new(&fleet)
        .args(["fleet", "audit"])
        .current_dir(sb.copy.project("order-service"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("dependency confusion") && err.trim().lines().count() == 1,
        "{err}"
    );
}

#[test]
fn the_semver_guard_refuses_a_break_as_a_patch_and_cargo_release_publishes_an_addition() {
    let sb = sandbox();
    // The baseline: the working tree's version, published from history.
    let current = manifest_version(&sb.copy);
    let releases = history::releases(&sb.copy.root).unwrap();
    let baseline = releases.iter().find(|r| r.version == current).unwrap();
    if !xtask::index::published(&sb.registry.client(), SHARED_LIB)
        .unwrap()
        .iter()
        .any(|p| p.version == current)
    {
        history::publish_release(&sb.copy, &sb.registry, baseline, Verify::Skip).unwrap();
    }

    // Break the API: remove a public method.
    let store = sb.copy.project(SHARED_LIB).join("src/db/mod.rs");
    let original = std::fs::read_to_string(&store).unwrap();
    let removed = "    /// Which engine this is.\n    pub fn backend(&self) -> Backend {\n        match self.pools {\n            Pools::Sqlite { .. } => Backend::Sqlite,\n            Pools::Postgres(_) => Backend::Postgres,\n        }\n    }\n";
    assert!(
        original.contains(removed),
        "db.rs changed: update this test's break"
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
    let addition = format!(
        "{removed}\n    /// Whether this is a SQLite file.\n    pub fn is_sqlite(&self) -> bool {{\n        self.backend() == Backend::Sqlite\n    }}\n"
    );
    std::fs::write(&store, original.replace(removed, &addition)).unwrap();
    let changelog = sb.copy.project(SHARED_LIB).join("CHANGELOG.md");
    let text = std::fs::read_to_string(&changelog).unwrap();
    let entry = "## [Unreleased] - ReleaseDate\n\n### Added\n- `Database::is_sqlite`.\n";
    std::fs::write(
        &changelog,
        text.replacen("## [Unreleased] - ReleaseDate\n", entry, 1),
    )
    .unwrap();
    git(
        &sb.copy.root,
        &[
            "commit",
            "--quiet",
            "-am",
            "shared-lib: Database::is_sqlite",
        ],
    );

    let released = release(&sb.copy, &sb.registry, Level::Patch, true, &[]).unwrap();
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
    let published = xtask::index::published(&sb.registry.client(), SHARED_LIB).unwrap();
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

/// Restores the clone's shared-lib to its committed state.
fn reset_shared_lib(sb: &Sandbox) {
    git(&sb.copy.root, &["checkout", "--quiet", "--", SHARED_LIB]);
}

fn row<'a>(report: &'a check_consumers::Report, service: &str) -> &'a check_consumers::Outcome {
    report
        .services
        .iter()
        .find(|o| o.service == service)
        .unwrap()
}

#[test]
fn the_consumer_check_catches_a_behaviour_change_the_semver_guard_cannot_see() {
    let sb = sandbox();
    let current = manifest_version(&sb.copy);
    let patch = Level::Patch.next(&current);
    let services = sb
        .copy
        .fleet()
        .unwrap()
        .names()
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>();
    let lines = std::cell::RefCell::new(Vec::new());
    let mut progress = |line: String| lines.borrow_mut().push(line);

    // 2. An additive change: every service whose requirement accepts it passes.
    let lib = sb.copy.project(SHARED_LIB).join("src/discount.rs");
    edit(
        &lib,
        "    /// The largest percentage this rule draws.",
        "    /// Whether an order of `units` units earns the volume bonus.\n    pub const fn earns_volume_bonus(self, units: u64) -> bool {\n        units >= self.volume_threshold\n    }\n\n    /// The largest percentage this rule draws.",
    );
    let report = sb.check(&patch, &mut progress).unwrap();
    assert_eq!(report.services.len(), services.len());
    assert!(
        report.broken().is_empty(),
        "{}",
        check_consumers::render(&report)
    );
    for o in &report.services {
        let expected = if o.accepts {
            Verdict::Passes
        } else {
            Verdict::BumpPasses
        };
        assert_eq!(o.verdict, expected, "{}", check_consumers::render(&report));
    }
    assert!(
        lines.borrow().iter().any(|l| l.contains("order-service")),
        "one progress line per service"
    );

    // 1. A behaviour change with the same API: the volume bonus from 11
    // units. The consumer check names order-service and its failing test,
    // and release refuses it: in its consumer gate, so after its semver
    // guard let it through as a patch.
    reset_shared_lib(&sb);
    edit(&lib, "volume_threshold: 10,", "volume_threshold: 11,");
    let report = sb.check(&patch, &mut progress).unwrap();
    let order = row(&report, "order-service");
    assert!(order.accepts);
    assert_eq!(
        order.verdict,
        Verdict::Breaks,
        "{}",
        check_consumers::render(&report)
    );
    assert_eq!(order.tests, check_consumers::Step::Failed);
    let failure = order.first_failure.clone().unwrap();
    assert!(failure.starts_with("test "), "{failure}");
    let markdown = std::fs::read_to_string(&report.markdown).unwrap();
    assert!(markdown.contains(&failure), "{markdown}");
    let err = release(&sb.copy, &sb.registry, Level::Patch, false, &[]).unwrap_err();
    let err = format!("{err:#}");
    assert!(
        err.contains("order-service") && err.contains(&failure),
        "{err}"
    );
    // --allow-break needs the CHANGELOG to say so, checked before any build.
    let allow = ["order-service".to_string()];
    let err = format!(
        "{:#}",
        release(&sb.copy, &sb.registry, Level::Patch, false, &allow).unwrap_err()
    );
    assert!(err.contains("CHANGELOG"), "{err}");

    // 3. A breaking API change, released as a new line: every service needs
    // a breaking bump, and the report says what that bump would break.
    reset_shared_lib(&sb);
    edit(&lib, "pub fn price(self", "pub fn price_order(self");
    let minor = Level::Minor.next(&current);
    let report = sb.check(&minor, &mut progress).unwrap();
    assert!(report.broken().is_empty(), "nobody accepts {minor}");
    let order = row(&report, "order-service");
    assert!(!order.accepts);
    assert_eq!(order.verdict, Verdict::BumpBreaks);
    assert_eq!(order.build, check_consumers::Step::Failed);
    assert!(
        order.first_failure.as_deref().unwrap().starts_with("error"),
        "{:?}",
        order.first_failure
    );
    for o in report
        .services
        .iter()
        .filter(|o| o.service != "order-service")
    {
        assert_eq!(
            o.verdict,
            Verdict::BumpPasses,
            "{}",
            check_consumers::render(&report)
        );
    }
    assert!(check_consumers::render(&report).contains("needs a breaking bump; it would break"));
    reset_shared_lib(&sb);
}

#[test]
fn a_new_service_is_picked_up_by_every_command_with_no_other_edit() {
    let sb = sandbox();
    let port = free_port().unwrap();
    let none: &[String] = &[];
    let err = new_service::create(
        &sb.copy,
        &sb.registry,
        "billing-service",
        None,
        &["no-such-service".to_string()],
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("--calls no-such-service: no such service"),
        "{err:#}"
    );
    let created = new_service::create(
        &sb.copy,
        &sb.registry,
        "billing-service",
        Some(port),
        &["user-service".to_string()],
    )
    .unwrap();
    assert_eq!(created.port, port);
    let err =
        new_service::create(&sb.copy, &sb.registry, "billing-service", None, none).unwrap_err();
    assert!(format!("{err:#}").contains("already"), "{err:#}");
    let err = new_service::create(&sb.copy, &sb.registry, "Bad_Name", None, none).unwrap_err();
    assert!(format!("{err:#}").contains("not a service name"), "{err:#}");

    let fleet = sb.copy.fleet().unwrap();
    assert!(fleet.names().contains(&"billing-service"));
    // It calls user-service, which therefore starts first.
    let billing = fleet.service("billing-service").unwrap();
    assert_eq!(billing.calls[0].service, "user-service");
    assert_eq!(billing.calls[0].env, "USER_SERVICE_URL");
    // status lists it, on the newest version.
    let rows = sb.status().unwrap();
    let billing = rows
        .iter()
        .find(|r| r.service == "billing-service")
        .unwrap();
    assert_eq!(billing.verdict, fleet_status::Verdict::UpToDate);
    assert_eq!(billing.locked, created.shared_lib.to_string());
    // Its Kubernetes manifests and its place in the swarm stack are written.
    assert!(xtask::k8s::stale(&sb.copy).unwrap().is_empty());
    let stack =
        std::fs::read_to_string(sb.copy.root.join(xtask::swarm::DIR).join("stack.yml")).unwrap();
    assert!(stack.contains("  billing-service:\n"), "{stack}");
    // test: its fmt, clippy and tests are steps; it is formatted (its tests
    // pass in the consumer check below, its lockfile in `up`'s --locked
    // build).
    assert!(
        test::projects(&sb.copy)
            .unwrap()
            .contains(&"billing-service".to_string())
    );
    let dir = sb.copy.project("billing-service");
    let mut fmt = cargo(&sb.copy, &dir, &["fmt", "--check"]);
    reading(&mut fmt, &sb.registry).unwrap();
    let out = fmt.output().unwrap();
    assert!(
        out.status.success(),
        "cargo fmt --check: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // up: built (`cargo build --locked`) and started like the others,
    // ready, answering with its name.
    let service = fleet.service("billing-service").unwrap();
    xtask::fleet::build_service(&sb.copy, &sb.registry, service).unwrap();
    let data =
        xtask::fleet::data_env(&sb.copy, service, xtask::fleet::DataBackend::Sqlite, None).unwrap();
    let started = xtask::fleet::start_service(
        &sb.copy,
        &fleet,
        service,
        xtask::fleet::DataBackend::Sqlite,
        data,
    )
    .unwrap();
    assert_eq!(started, xtask::fleet::ServiceStart::Started);
    let info: serde_json::Value = reqwest::blocking::get(format!("http://127.0.0.1:{port}/"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info["service"], "billing-service");
    let stopped = xtask::fleet::down(&sb.copy).unwrap();
    assert!(
        stopped.iter().any(|(n, _)| n == "billing-service"),
        "{stopped:?}"
    );
    // The consumer check builds it and runs its tests against the candidate.
    let current = manifest_version(&sb.copy);
    let report = sb.check(&current, &mut |_| {}).unwrap();
    assert_eq!(row(&report, "billing-service").verdict, Verdict::Passes);
    // The container checks cover it: compose entry, Dockerfile, .dockerignore
    // (its lockfile names this throwaway registry, not the fleet's URL).
    common::containers::check_compose(&sb.copy);
    common::containers::check_dockerfiles_with(&sb.copy, false);
}

/// `cargo <args>` in `dir` as a person types it, with only what cargo
/// itself reads: the registry's token in `CARGO_REGISTRIES_LOCAL_TOKEN`
/// (and, because this registry is a throwaway one on another port, its
/// index in `CARGO_REGISTRIES_LOCAL_INDEX`), and the team's tools on `PATH`
/// (cargo-deny and cargo-fleet, which a service's tests run).
fn plain_cargo_output(
    sb: &Sandbox,
    dir: &Path,
    token: &str,
    args: &[&str],
) -> std::process::Output {
    let mut cmd = Command::new("cargo");
    sb.ws().tools_on_path(&mut cmd);
    cmd.args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", sb.copy.target_dir())
        .env("CARGO_REGISTRIES_LOCAL_INDEX", sb.registry.index_url())
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", token)
        .output()
        .unwrap()
}

/// [`plain_cargo_output`], which must succeed.
fn plain_cargo(sb: &Sandbox, dir: &Path, token: &str, args: &[&str]) {
    let out = plain_cargo_output(sb, dir, token, args);
    assert!(
        out.status.success(),
        "cargo {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_everyday_flows_work_in_their_plain_cargo_form() {
    let sb = sandbox();
    let shared = sb.copy.project(SHARED_LIB);
    let orders = sb.copy.project("order-service");
    let current = manifest_version(&sb.copy);
    let next = Version::new(current.major, current.minor, current.patch + 1);

    // Publish: a committed version, `cargo publish --registry local` with
    // the publish token.
    edit(
        &shared.join("Cargo.toml"),
        &format!("\nversion = \"{current}\"\n"),
        &format!("\nversion = \"{next}\"\n"),
    );
    plain_cargo(&sb, &shared, "", &["update", "--workspace", "--offline"]);
    git(
        &sb.copy.root,
        &["commit", "--quiet", "-am", "shared-lib: {next}"],
    );
    let admin = sb.registry.token().unwrap();
    let read_token = sb.registry.read_token().unwrap();
    plain_cargo(&sb, &shared, &admin, &["publish", "--registry", "local"]);
    // Published once means immutable: the same version again is refused.
    let again = plain_cargo_output(
        &sb,
        &shared,
        &admin,
        &["publish", "--registry", "local", "--no-verify"],
    );
    assert!(
        !again.status.success(),
        "a second publish of {next} was taken"
    );

    // Move one service: `cargo add`, `cargo update -p shared-lib`, then its
    // own `cargo test --locked`, with the read token.
    let user_lock = read(sb.copy.project("user-service").join("Cargo.lock"));
    let spec = format!("shared-lib@{next}");
    plain_cargo(
        &sb,
        &orders,
        &read_token,
        &["add", &spec, "--registry", "local"],
    );
    plain_cargo(&sb, &orders, &read_token, &["update", "-p", "shared-lib"]);
    let manifest = std::fs::read_to_string(orders.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!(
            "shared-lib = {{ version = \"{next}\", registry = \"local\" }}"
        )),
        "{manifest}"
    );
    assert_eq!(
        verdict_of(&sb, "order-service"),
        (fleet_status::Verdict::UpToDate, next.to_string())
    );
    plain_cargo(&sb, &orders, &read_token, &["test", "--locked", "--quiet"]);
    // The other service did not move.
    assert_eq!(
        read(sb.copy.project("user-service").join("Cargo.lock")),
        user_lock
    );

    // The fleet tool: published to the registry like shared-lib, installed
    // from it with plain `cargo install --registry local` into an empty
    // root, and run as `cargo fleet` in a directory that is not this
    // repository, on a fleet.toml naming the registry and order-service.
    let tool = sb.copy.project("cargo-fleet");
    plain_cargo(
        &sb,
        &tool,
        &admin,
        &["publish", "--registry", "local", "--locked", "--no-verify"],
    );
    // `cargo install` reads cargo's own configuration only, never a
    // project's: the registry is given as a user's ~/.cargo/config.toml
    // would (index and `cargo:token`), here in the environment.
    let root = tempfile::tempdir().unwrap();
    let install = Command::new("cargo")
        .args([
            "install",
            "--registry",
            "local",
            "cargo-fleet",
            "--locked",
            "--debug",
            "--root",
        ])
        .arg(root.path())
        .env("CARGO_TARGET_DIR", sb.copy.target_dir())
        .env("CARGO_REGISTRIES_LOCAL_INDEX", sb.registry.index_url())
        .env("CARGO_REGISTRIES_LOCAL_CREDENTIAL_PROVIDER", "cargo:token")
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", &read_token)
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "cargo install: {}",
        String::from_utf8_lossy(&install.stderr)
    );
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(
        elsewhere.path().join("fleet.toml"),
        format!(
            "[registry]\nindex = \"{}\"\n\n[[service]]\nname = \"order-service\"\n",
            sb.registry.index_url()
        ),
    )
    .unwrap();
    let service = elsewhere.path().join("order-service");
    std::fs::create_dir_all(&service).unwrap();
    for file in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(orders.join(file), service.join(file)).unwrap();
    }
    let path = std::env::join_paths(
        std::iter::once(root.path().join("bin"))
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = Command::new("cargo")
        .args(["fleet", "status"])
        .current_dir(elsewhere.path())
        .env("PATH", path)
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", &read_token)
        .env_remove("CARGO_REGISTRIES_LOCAL_INDEX")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo fleet status: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("order-service  ^{next}")) && stdout.contains("up to date"),
        "{stdout}"
    );
}

#[test]
fn renovate_proposes_a_new_shared_lib_per_service_and_never_a_yanked_one() {
    let sb = sandbox();
    let current = manifest_version(&sb.copy);
    let newer = Version::new(current.major, current.minor, current.patch + 1);
    let yanked = Version::new(current.major, current.minor, current.patch + 2);
    publish_throwaway_version(&sb, &newer);
    // user-service takes it (as `bump` does, without running its tests).
    let spec = format!("{SHARED_LIB}@{newer}");
    for args in [
        &["add", spec.as_str(), "--registry", "local"][..],
        &["update", "-p", SHARED_LIB][..],
    ] {
        let mut cmd = cargo(&sb.copy, sb.copy.project("user-service"), args);
        reading(&mut cmd, &sb.registry).unwrap();
        assert!(cmd.status().unwrap().success(), "cargo {args:?}");
    }
    // A newer one still, yanked at once: never to be proposed.
    publish_throwaway_version(&sb, &yanked);
    yank(&sb, &yanked);

    let outcome = xtask::commands::renovate::renovate(&sb.copy, &sb.registry).unwrap();
    let table = xtask::commands::renovate::render(&outcome);
    println!("{table}");
    let of = |project: &str| {
        outcome
            .proposals
            .iter()
            .find(|p| p.project == project)
            .unwrap_or_else(|| panic!("no proposal row for {project}:\n{table}"))
    };
    let orders = of("order-service");
    assert_eq!(orders.updates.len(), 1, "{table}");
    assert_eq!(orders.updates[0].version, newer.to_string(), "{table}");
    assert!(
        orders.updates[0].branch.contains("order-service"),
        "{table}"
    );
    let users = of("user-service");
    assert_eq!(users.locked.as_deref(), Some(newer.to_string().as_str()));
    assert!(users.updates.is_empty(), "{table}");
    for p in &outcome.proposals {
        assert!(
            p.updates.iter().all(|u| u.version != yanked.to_string()),
            "{} was proposed the yanked {yanked}:\n{table}",
            p.project
        );
    }
    assert!(std::path::Path::new(&outcome.reports[0]).is_file());
}

/// `cargo fleet`, the real binary, in a directory that is not this
/// repository, serving shared-lib and three services that each live in a
/// bare git repository of their own, reached by `file://` URL, against the
/// sandbox's throwaway registry (so it passes with nothing running on port
/// 8000). alpha and beta lock the newest shared-lib (beta's one test fails
/// on any shared-lib), gamma the older line. Every command's output is
/// pinned by a snapshot (snapbox); `SNAPSHOTS=overwrite cargo test --test
/// release cargo_fleet` rewrites them.
mod fleet_tool {
    use std::path::{Path, PathBuf};

    use snapbox::cmd::Command;
    use snapbox::{Redactions, str};
    use xtask::index::Published;

    use super::{SHARED_LIB, Sandbox, Verify, Version, git, history, sandbox};

    // Crate docs first: the manifest is user-service's, missing_docs denied.
    const PASSES: &str = "//! A fixture service.\n#[test]\nfn sees_shared_lib() {\n    assert!(!shared_lib::VERSION.is_empty());\n}\n";
    const BREAKS: &str = "//! A fixture service.\n#[test]\nfn wants_another_shared_lib() {\n    assert_eq!(shared_lib::VERSION, \"0.0.0\", \"not the shared-lib it was written for\");\n}\n";

    /// The `cargo-fleet` binary of this checkout, built into the shared cache.
    fn binary() -> PathBuf {
        let real = xtask::paths::Layout::detect();
        let out = std::process::Command::new("cargo")
            .args(["build", "--quiet", "--locked", "--manifest-path"])
            .arg(real.project("cargo-fleet").join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", real.target_dir())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        real.target_dir().join("debug").join("cargo-fleet")
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Commits `work` as the first commit of a new repository and clones it
    /// bare under `repos/`; its `file://` URL.
    fn bare_repository(scratch: &Path, name: &str, work: &Path) -> String {
        git(work, &["init", "-q", "-b", "main"]);
        git(work, &["add", "-A"]);
        git(
            work,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "commit",
                "-q",
                "-m",
                "first",
            ],
        );
        let bare = scratch.join("repos").join(format!("{name}.git"));
        let status = std::process::Command::new("git")
            .args(["clone", "-q", "--bare"])
            .arg(work)
            .arg(&bare)
            .status()
            .unwrap();
        assert!(status.success());
        format!("file://{}", bare.display())
    }

    /// A service like the clone's user-service (its dependencies and
    /// lockfile, so its builds reuse what the suite compiled) named `name`,
    /// requiring and locking shared-lib `pin` from the sandbox's registry,
    /// whose one test is `test`; its repository's URL.
    fn service_repository(
        sb: &Sandbox,
        scratch: &Path,
        name: &str,
        pin: &Published,
        test: &str,
    ) -> String {
        let user = sb.copy.project("user-service");
        let manifest = std::fs::read_to_string(user.join("Cargo.toml")).unwrap();
        let requirement = regex::Regex::new(r#"(?m)^shared-lib = \{ version = "[^"]*""#).unwrap();
        assert!(
            requirement.is_match(&manifest),
            "user-service's shared-lib line moved"
        );
        let manifest = requirement
            .replace(
                &manifest,
                format!(r#"shared-lib = {{ version = "{}""#, pin.version).as_str(),
            )
            .replacen("name = \"user-service\"", &format!("name = \"{name}\""), 1);
        // Its tests are the one below: no shared-lib test helpers (the
        // older line has no `testing` feature).
        let dev = regex::Regex::new(r#"(?m)^shared-lib = \{ version = "[^"]*", registry = "local", features = \["testing"\] \}\n"#).unwrap();
        assert!(
            dev.is_match(&manifest),
            "user-service's shared-lib dev-dependency moved"
        );
        let manifest = dev.replace(&manifest, "").into_owned();
        let lock = std::fs::read_to_string(user.join("Cargo.lock")).unwrap();
        let entry = regex::Regex::new(
            r#"name = "shared-lib"\nversion = "[^"]*"\nsource = "[^"]*"\nchecksum = "[0-9a-f]*""#,
        )
        .unwrap();
        assert!(
            entry.is_match(&lock),
            "user-service's lockfile has no shared-lib entry"
        );
        let lock = entry
            .replace(
                &lock,
                format!(
                    "name = \"shared-lib\"\nversion = \"{}\"\nsource = \"{}\"\nchecksum = \"{}\"",
                    pin.version,
                    sb.registry.index_url(),
                    pin.checksum
                )
                .as_str(),
            )
            .replacen("name = \"user-service\"", &format!("name = \"{name}\""), 1);
        let work = scratch.join("work").join(name);
        write(&work.join("Cargo.toml"), &manifest);
        write(&work.join("Cargo.lock"), &lock);
        write(&work.join("src/lib.rs"), test);
        write(
            &work.join(".cargo/config.toml"),
            &std::fs::read_to_string(user.join(".cargo/config.toml")).unwrap(),
        );
        bare_repository(scratch, name, &work)
    }

    #[test]
    fn cargo_fleet_serves_services_in_their_own_repositories() {
        let sb = sandbox();
        let scratch = sb.copy.root.parent().unwrap().join("own-repos");
        let published = || -> Vec<Published> {
            xtask::index::published(&sb.registry.client(), SHARED_LIB)
                .unwrap()
                .into_iter()
                .filter(|p| !p.yanked)
                .collect()
        };
        let newest = published().last().expect("shared-lib is published").clone();
        let line = |v: &Version| (v.major, v.minor);
        // gamma pins the newest release of the line before: published from
        // history when nothing in the tree pins that line.
        if !published()
            .iter()
            .any(|p| line(&p.version) < line(&newest.version))
        {
            let releases = history::releases(&sb.copy.root).unwrap();
            let before = releases
                .iter()
                .filter(|r| line(&r.version) < line(&newest.version))
                .max_by(|a, b| a.version.cmp(&b.version))
                .expect("the history holds an older line of shared-lib");
            history::publish_release(&sb.copy, &sb.registry, before, Verify::Skip).unwrap();
        }
        let older = published()
            .into_iter()
            .rev()
            .find(|p| line(&p.version) < line(&newest.version))
            .expect("an older line of shared-lib is published");
        let shared = scratch.join("work").join(SHARED_LIB);
        xtask::ops::fs::copy_tree(&sb.copy.project(SHARED_LIB), &shared, &["target"], None)
            .unwrap();
        let shared_url = bare_repository(&scratch, SHARED_LIB, &shared);
        let alpha = service_repository(&sb, &scratch, "alpha-service", &newest, PASSES);
        let beta = service_repository(&sb, &scratch, "beta-service", &newest, BREAKS);
        let gamma = service_repository(&sb, &scratch, "gamma-service", &older, PASSES);
        write(
            &scratch.join("fleet/fleet.toml"),
            &format!(
                "[registry]\nindex = \"{}\"\n\n\
                 [[shared]]\nname = \"shared-lib\"\ngit = \"{shared_url}\"\n\n\
                 [[service]]\nname = \"alpha-service\"\ngit = \"{alpha}\"\n\n\
                 [[service]]\nname = \"beta-service\"\ngit = \"{beta}\"\n\n\
                 [[service]]\nname = \"gamma-service\"\ngit = \"{gamma}\"\nbranch = \"main\"\n",
                sb.registry.index_url()
            ),
        );
        let bin = binary();
        let path = std::env::join_paths(
            std::iter::once(xtask::ops::tools::RENOVATE.bin_dir()).chain(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            )),
        )
        .unwrap();
        let read_token = sb.registry.read_token().unwrap();
        let fleet = |args: &[&str]| {
            Command::new(&bin)
                .arg("fleet")
                .args(args)
                .current_dir(scratch.join("fleet"))
                .env("CARGO_REGISTRIES_LOCAL_TOKEN", &read_token)
                .env("CARGO_TARGET_DIR", sb.copy.target_dir())
                .env("CARGO_FLEET_CACHE", scratch.join("cache"))
                .env("CARGO_TERM_COLOR", "never")
                .env("PATH", &path)
                .env_remove("CARGO_REGISTRIES_LOCAL_INDEX")
        };
        let mut redactions = Redactions::new();
        for (placeholder, value) in [
            ("[ROOT]", scratch.display().to_string()),
            ("[REGISTRY]", sb.registry.base_url()),
            ("[NEWEST]", newest.version.to_string()),
            ("[OLDER]", older.version.to_string()),
            (
                "[NEXT]",
                xtask::level::Level::Patch.next(&newest.version).to_string(),
            ),
        ] {
            redactions.insert(placeholder, value).unwrap();
        }
        redactions
            .insert("[TIME]", regex::Regex::new(r"\b\d+s\b").unwrap())
            .unwrap();
        let assert = snapbox::Assert::new()
            .action_env("SNAPSHOTS")
            .redact_with(redactions);

        // status reads each service's Cargo.toml and Cargo.lock from its
        // repository.
        fleet(&["status"])
            .assert()
            .with_assert(assert.clone())
            .success()
            .stdout_eq(str![[r#"
service        requirement  locked   newest   verdict
alpha-service  ^[NEWEST][..][NEWEST][..][NEWEST][..]up to date
beta-service   ^[NEWEST][..][NEWEST][..][NEWEST][..]up to date
gamma-service  ^[OLDER][..][OLDER][..][NEWEST][..]needs a breaking bump
docs (sign in to the registry's web UI first):
  alpha-service  [REGISTRY]/docs/shared-lib/[NEWEST]/doc/shared_lib/index.html
  beta-service   [REGISTRY]/docs/shared-lib/[NEWEST]/doc/shared_lib/index.html
  gamma-service  [REGISTRY]/docs/shared-lib/[OLDER]/doc/shared_lib/index.html

"#]]);

        // renovate runs Renovate on each repository: it proposes the newest
        // shared-lib to gamma only.
        fleet(&["renovate"])
            .assert()
            .with_assert(assert.clone())
            .success()
            .stdout_eq(str![[r#"
project        requirement  locked   renovate proposes                                            status
alpha-service  [NEWEST][..][NEWEST][..]nothing[..]up to date
beta-service   [NEWEST][..][NEWEST][..]nothing[..]up to date
gamma-service  [OLDER][..][OLDER][..][NEWEST] ([..]) on renovate/shared-lib-[..]needs a breaking bump
(Renovate ran in [TIME]; its reports: [ROOT]/fleet/.fleet/renovate/alpha-service.json, [ROOT]/fleet/.fleet/renovate/beta-service.json, [ROOT]/fleet/.fleet/renovate/gamma-service.json)

"#]]);

        // check-consumers builds and tests each repository's checkout
        // against shared-lib's (its repository's head); beta breaks: exit 1.
        fleet(&["check-consumers"])
            .assert()
            .with_assert(assert.clone())
            .code(1)
            .stderr_eq(str![[r#"
[1/3] alpha-service: building and testing against shared-lib [NEWEST]
[1/3] alpha-service: passes ([TIME])
[2/3] beta-service: building and testing against shared-lib [NEWEST]
[2/3] beta-service: BREAKS on its next cargo update ([TIME])
[3/3] gamma-service: building and testing against shared-lib [NEWEST]
[3/3] gamma-service: needs a breaking bump; it would pass ([TIME])
error: shared-lib [NEWEST] breaks beta-service (test wants_another_shared_lib) whose requirement accepts it; fix shared-lib (or the service), or release it as a breaking version

"#]])
            .stdout_eq(str![[r#"
service        pinned   candidate  accepts  builds  tests     time verdict
alpha-service  [NEWEST][..][NEWEST][..]yes      ok      ok[..][TIME] passes
beta-service   [NEWEST][..][NEWEST][..]yes      ok      FAILED[..][TIME] BREAKS on its next cargo update
                 first failure: test wants_another_shared_lib
gamma-service  [OLDER][..][NEWEST][..]no       ok      ok[..][TIME] needs a breaking bump; it would pass
report: [ROOT]/fleet/.fleet/consumers/report.md

"#]]);

        // release: the semver guard lets a patch through, the consumer
        // gate refuses it, naming beta: exit 1, nothing published.
        let tools = std::env::join_paths(
            [
                xtask::ops::tools::SEMVER_CHECKS.ensure().unwrap(),
                xtask::ops::tools::CARGO_RELEASE.ensure().unwrap(),
            ]
            .iter()
            .map(|bin| bin.parent().unwrap().to_path_buf())
            .chain(std::env::split_paths(&path)),
        )
        .unwrap();
        fleet(&["release", "patch"])
            .env("PATH", &tools)
            .assert()
            .with_assert(assert.clone())
            .code(1)
            .stdout_eq(str![[r#"
semver guard: comparing the working tree with published shared-lib [NEWEST] for a patch release ([NEWEST] -> [NEXT])
consumer check: every service against shared-lib [NEXT]
  [1/3] alpha-service: building and testing against shared-lib [NEXT]
  [1/3] alpha-service: passes ([TIME])
  [2/3] beta-service: building and testing against shared-lib [NEXT]
  [2/3] beta-service: BREAKS on its next cargo update ([TIME])
  [3/3] gamma-service: building and testing against shared-lib [NEXT]
  [3/3] gamma-service: needs a breaking bump; it would pass ([TIME])
service        pinned   candidate  accepts  builds  tests     time verdict
alpha-service  [NEWEST][..][NEXT][..]yes      ok      ok[..][TIME] passes
beta-service   [NEWEST][..][NEXT][..]yes      ok      FAILED[..][TIME] BREAKS on its next cargo update
                 first failure: test wants_another_shared_lib
gamma-service  [OLDER][..][NEXT][..]no       ok      ok[..][TIME] needs a breaking bump; it would pass

"#]])
            .stderr_eq(str![[r#"
...
error: refused: shared-lib [NEXT] breaks beta-service (test wants_another_shared_lib) whose requirement accepts it; fix shared-lib (or the service), or release it as a breaking version. Logs: [ROOT]/fleet/.fleet/consumers/report.md. To break it on purpose, pass --allow-break <service> and say so in shared-lib's CHANGELOG.md

"#]]);
        // publish: the shared crate's head is a version the registry holds.
        fleet(&["publish"])
            .assert()
            .with_assert(assert.clone())
            .success()
            .stdout_eq(str![[r#"
shared-lib [NEWEST] is already in the registry; nothing to do (a published version is immutable: raise the version to publish changes)

"#]]);

        // bump is a dry run without --execute: nothing reaches the repository.
        let branch = format!("fleet/shared-lib-{}", newest.version);
        let bare = scratch.join("repos/gamma-service.git");
        fleet(&["bump", "gamma-service"])
            .assert()
            .with_assert(assert.clone())
            .success()
            .stdout_eq(str![[r#"
would move gamma-service from shared-lib [OLDER] to [NEWEST] on branch fleet/shared-lib-[NEWEST] of file://[ROOT]/repos/gamma-service.git (from main), run its tests, commit and push the branch; run again with --execute

"#]]);
        assert_eq!(git(&bare, &["branch", "--list", &branch]), "");

        // With --execute: the change is made on a branch of gamma's
        // repository, its tests run, and the branch is pushed for its
        // owners to merge; main does not move.
        let main_before = git(&bare, &["rev-parse", "main"]);
        fleet(&["bump", "gamma-service", "--execute"])
            .assert()
            .with_assert(assert.clone())
            .success()
            .stdout_eq(str![[r#"
gamma-service: shared-lib [OLDER] -> [NEWEST], tests pass. Untouched: alpha-service, beta-service.
pushed branch fleet/shared-lib-[NEWEST] (commit [..]) to file://[ROOT]/repos/gamma-service.git; merge it into main there (e.g. git fetch origin fleet/shared-lib-[NEWEST] && git merge origin/fleet/shared-lib-[NEWEST])

"#]]);
        assert_eq!(git(&bare, &["rev-parse", "main"]), main_before);
        let lock = git(&bare, &["show", &format!("{branch}:Cargo.lock")]);
        assert!(
            lock.contains(&format!(
                "name = \"shared-lib\"\nversion = \"{}\"",
                newest.version
            )),
            "{lock}"
        );
        assert_eq!(
            git(&bare, &["log", "-1", "--format=%s", &branch]),
            format!("Move to shared-lib {}", newest.version)
        );
        // The user's directory holds fleet.toml and the tool's reports only.
        let mut entries: Vec<String> = std::fs::read_dir(scratch.join("fleet"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        entries.sort();
        assert_eq!(entries, [".fleet", "fleet.toml"]);

        // publish: a new version committed to shared-lib's repository is
        // published from its head, a dry run first, then with a token that
        // may publish.
        let next = xtask::level::Level::Patch.next(&newest.version);
        let work = scratch.join("work").join(SHARED_LIB);
        let manifest = std::fs::read_to_string(work.join("Cargo.toml")).unwrap();
        write(
            &work.join("Cargo.toml"),
            &manifest.replacen(
                &format!("\nversion = \"{}\"\n", newest.version),
                &format!("\nversion = \"{next}\"\n"),
                1,
            ),
        );
        let status = std::process::Command::new("cargo")
            .args(["update", "--workspace", "--offline", "--quiet"])
            .current_dir(&work)
            .status()
            .unwrap();
        assert!(status.success());
        git(
            &work,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "commit",
                "-q",
                "-am",
                "next",
            ],
        );
        git(
            &work,
            &[
                "push",
                "-q",
                scratch.join("repos/shared-lib.git").to_str().unwrap(),
                "main",
            ],
        );
        fleet(&["publish"])
            .assert()
            .with_assert(assert.clone())
            .success()
            .stdout_eq(str![[r#"
would publish shared-lib [NEXT] from [ROOT]/cache/git/shared-lib-[..] to local (sparse+[REGISTRY]/api/v1/crates/); run again with --execute

"#]]);
        fleet(&["publish", "--execute"])
            .env("CARGO_REGISTRIES_LOCAL_TOKEN", sb.registry.token().unwrap())
            .assert()
            .with_assert(assert.clone())
            .success()
            .stdout_eq(str![[r#"
published shared-lib [NEXT] to local (sparse+[REGISTRY]/api/v1/crates/)

"#]]);
        assert!(
            xtask::index::published(&sb.registry.client(), SHARED_LIB)
                .unwrap()
                .iter()
                .any(|p| p.version == next)
        );
    }
}
