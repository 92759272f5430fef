//! What `cargo xtask` prints, pinned by snapshots of real runs (snapbox,
//! as cargo-release pins its own): `status`, `check-consumers`, a refused
//! `release`, and the common error messages.
//!
//! Each runs the real xtask binary in a small checkout of its own (a git
//! repository with `fleet.toml`, `xtask/` and the projects the command
//! reads) against the fleet's registry on port 8000, which must be up
//! (`cargo xtask up`; `cargo xtask test` starts it). What changes from run
//! to run is redacted: `[ROOT]` the checkout, `[NEWEST]` the newest
//! shared-lib in the registry, `[CANDIDATE]` the working tree's, `[TIME]`
//! durations; `[..]` stands for the columns whose width varies with them.
//! `SNAPSHOTS=overwrite cargo test --test cli` rewrites the snapshots after
//! a deliberate change of the output.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use std::path::Path;

use snapbox::cmd::Command;
use snapbox::{Redactions, str};
use xtask::history::{self, SHARED_LIB};
use xtask::ops::registry::{Health, Kellnr};
use xtask::paths::Layout;

/// The checkout these tests run in, found at run time: a binary compiled
/// in another checkout sharing the build cache (at the same commit, cargo
/// reuses it) must not read that checkout's registry and tokens.
fn repo() -> Layout {
    Layout::detect()
}

/// The fleet's registry, which every test here reads.
fn fleet_registry() -> Kellnr {
    let registry = xtask::fleet::fleet_registry(&repo());
    assert_eq!(
        registry.health(),
        Health::Up,
        "the fleet's registry does not answer on port 8000: start it with `cargo xtask up`"
    );
    registry
}

/// The newest non-yanked shared-lib in the registry.
fn newest(registry: &Kellnr) -> xtask::index::Published {
    xtask::index::published(&registry.client(), SHARED_LIB)
        .expect("the registry's index")
        .into_iter()
        .filter(|p| !p.yanked)
        .max_by(|a, b| a.version.cmp(&b.version))
        .expect("shared-lib is published")
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=cli test",
            "-c",
            "user.email=cli@example.com",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// A checkout in a temporary directory whose fleet is `services` (name,
/// Cargo.toml requirement, Cargo.lock, test source), with this
/// repository's shared-lib, the registry's read token and password (so
/// the fleet's registry lets it read), committed.
struct Checkout {
    dir: tempfile::TempDir,
}

impl Checkout {
    fn new(services: &[(&str, &str, &str, &str)]) -> Checkout {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let repo = repo();
        let mut fleet = String::new();
        for (i, (name, requirement, lock, test)) in services.iter().enumerate() {
            fleet.push_str(&format!(
                "[[service]]\nname = \"{name}\"\nport = {}\nready = \"/ready\"\n\n",
                9101 + i
            ));
            let project = root.join(name);
            write(
                &project.join("Cargo.toml"),
                &like_user_service(&repo, name, requirement),
            );
            write(&project.join("Cargo.lock"), lock);
            write(&project.join("src/lib.rs"), test);
            std::fs::create_dir_all(project.join(".cargo")).expect("mkdir");
            std::fs::copy(
                repo.project(SHARED_LIB).join(".cargo/config.toml"),
                project.join(".cargo/config.toml"),
            )
            .expect("registry config");
        }
        write(&root.join("fleet.toml"), &fleet);
        write(&root.join("xtask/.keep"), "");
        write(
            &root.join(".gitignore"),
            "/.fleet/\n/registry/data/\ntarget/\n",
        );
        xtask::ops::fs::copy_tree(
            &repo.project(SHARED_LIB),
            &root.join(SHARED_LIB),
            &["target"],
            None,
        )
        .expect("copy shared-lib");
        for secret in ["read.token", "read.password"] {
            let from = repo.registry_data().join(secret);
            let to = root.join("registry/data").join(secret);
            std::fs::create_dir_all(to.parent().expect("a parent")).expect("mkdir");
            std::fs::copy(&from, &to)
                .unwrap_or_else(|e| panic!("cannot copy {}: {e}", from.display()));
        }
        git(root, &["init", "-q", "-b", "main"]);
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "fixture"]);
        Checkout { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `cargo xtask <args>` run in this checkout, building into this
    /// repository's build cache.
    fn xtask(&self, args: &[&str]) -> Command {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .current_dir(self.root())
            .env_remove("CARGO_MANIFEST_DIR")
            .env("CARGO_TARGET_DIR", repo().target_dir())
            .env("CARGO_TERM_COLOR", "never")
            .env("NO_COLOR", "1")
    }

    fn assert(&self, extra: &[(&'static str, String)]) -> snapbox::Assert {
        let mut redactions = Redactions::new();
        redactions
            .insert("[ROOT]", self.root().to_path_buf())
            .expect("redaction");
        for (placeholder, value) in extra {
            redactions
                .insert(placeholder, value.clone())
                .expect("redaction");
        }
        redactions
            .insert("[TIME]", regex::Regex::new(r"\b\d+s\b").expect("regex"))
            .expect("redaction");
        snapbox::Assert::new()
            .action_env("SNAPSHOTS")
            .redact_with(redactions)
    }
}

/// user-service's manifest for a fixture service `name` that requires
/// shared-lib `requirement`: the same dependencies, features and profile,
/// so that with user-service's lockfile its builds are units the suite
/// already compiled (a manifest of shared-lib alone unified other
/// features and compiled about 150 crates anew on a first run).
fn like_user_service(repo: &Layout, name: &str, requirement: &str) -> String {
    let manifest = std::fs::read_to_string(repo.project("user-service").join("Cargo.toml"))
        .expect("user-service's manifest");
    let pin = regex::Regex::new(r#"(?m)^shared-lib = \{ version = "[^"]*""#).expect("regex");
    assert!(
        pin.is_match(&manifest),
        "user-service's shared-lib line moved"
    );
    let manifest = pin.replace(
        &manifest,
        format!(r#"shared-lib = {{ version = "{requirement}""#).as_str(),
    );
    manifest.replacen("name = \"user-service\"", &format!("name = \"{name}\""), 1)
}

/// A minimal Cargo.lock of `name` pinning shared-lib `version` from the
/// fleet's registry (enough for `status`, which reads, never builds).
fn small_lock(name: &str, version: &str, checksum: &str) -> String {
    format!(
        "version = 4\n\n[[package]]\nname = \"{name}\"\nversion = \"0.1.0\"\ndependencies = [\"shared-lib\"]\n\n\
         [[package]]\nname = \"shared-lib\"\nversion = \"{version}\"\n\
         source = \"sparse+http://127.0.0.1:8000/api/v1/crates/\"\nchecksum = \"{checksum}\"\n"
    )
}

#[test]
fn status_prints_one_row_per_service_and_where_its_docs_are() {
    let registry = fleet_registry();
    let newest = newest(&registry);
    let v = newest.version.to_string();
    let checkout = Checkout::new(&[
        (
            "alpha-service",
            &v,
            &small_lock("alpha-service", &v, &newest.checksum),
            "",
        ),
        (
            "beta-service",
            "0.0.1",
            &small_lock("beta-service", "0.0.1", &"0".repeat(64)),
            "",
        ),
    ]);
    let assert = checkout.assert(&[("[NEWEST]", v.clone())]);
    // beta pins a version the registry never had: exit 1, the service named.
    checkout
        .xtask(&["status"])
        .assert()
        .with_assert(assert.clone())
        .code(1)
        .stderr_eq(str![[r#"
registry: a Kellnr already answers at http://127.0.0.1:8000 (not started from this checkout); using it
error: a service must move: beta-service (shared-lib 0.0.1: not published); `cargo fleet bump <service> --execute` moves one to the newest version

"#]])
        .stdout_eq(str![[r#"
service        requirement  locked   newest   verdict
alpha-service  ^[NEWEST][..][NEWEST][..][NEWEST][..]up to date
beta-service   ^0.0.1       0.0.1    [NEWEST][..]not published
docs (sign in to the registry's web UI first):
  alpha-service  http://127.0.0.1:8000/docs/shared-lib/[NEWEST]/doc/shared_lib/index.html
  beta-service   http://127.0.0.1:8000/docs/shared-lib/0.0.1/doc/shared_lib/index.html
running ([..]):
  alpha-service  no instance answers
  beta-service   no instance answers

"#]]);
    checkout
        .xtask(&["status", "--json"])
        .assert()
        .with_assert(assert)
        .code(1)
        .stdout_eq(str![[r#"
[
  {
    "service": "alpha-service",
    "shared": "shared-lib",
    "requirement": "^[NEWEST]",
    "locked": "[NEWEST]",
    "newest": "[NEWEST]",
    "verdict": "up_to_date",
    "docs_url": "http://127.0.0.1:8000/docs/shared-lib/[NEWEST]/doc/shared_lib/index.html",
    "running": [],
    "advisories": []
  },
  {
    "service": "beta-service",
    "shared": "shared-lib",
    "requirement": "^0.0.1",
    "locked": "0.0.1",
    "newest": "[NEWEST]",
    "verdict": "not_published",
    "docs_url": "http://127.0.0.1:8000/docs/shared-lib/0.0.1/doc/shared_lib/index.html",
    "running": [],
    "advisories": []
  }
]

"#]]);
}

#[test]
fn check_consumers_prints_a_row_per_service_and_names_the_one_it_breaks() {
    let registry = fleet_registry();
    let _ = newest(&registry);
    // Both services lock what user-service locks (every crate already in
    // the build cache); beta's own test fails, as a service broken by the
    // candidate would.
    let repo = repo();
    let lock = std::fs::read_to_string(repo.project("user-service").join("Cargo.lock"))
        .expect("user-service's lockfile");
    let pinned = history::pin(&repo.project("user-service")).expect("its pin");
    let requirement = pinned.version.to_string();
    let alpha_lock = lock.replace("name = \"user-service\"", "name = \"alpha-service\"");
    let beta_lock = lock.replace("name = \"user-service\"", "name = \"beta-service\"");
    let checkout = Checkout::new(&[
        (
            "alpha-service",
            &requirement,
            &alpha_lock,
            "//! A fixture service.\n#[test]\nfn sees_shared_lib() {\n    assert!(!shared_lib::VERSION.is_empty());\n}\n",
        ),
        (
            "beta-service",
            &requirement,
            &beta_lock,
            "//! A fixture service.\n#[test]\nfn wants_another_shared_lib() {\n    assert_eq!(shared_lib::VERSION, \"0.0.0\", \"not the shared-lib it was written for\");\n}\n",
        ),
    ]);
    let candidate = history::working_version(&repo)
        .expect("the working version")
        .to_string();
    // Version columns vary in width: `[..]` there.
    let extra = [("[CANDIDATE]", candidate)];
    checkout
        .xtask(&["check-consumers"])
        .assert()
        .with_assert(checkout.assert(&extra))
        .failure()
        .stderr_eq(str![[r#"
registry: a Kellnr already answers at http://127.0.0.1:8000 (not started from this checkout); using it
registry: already holds every pinned shared-lib version ([..])
[1/2] alpha-service: building and testing against shared-lib [CANDIDATE]
[1/2] alpha-service: passes ([TIME])
[2/2] beta-service: building and testing against shared-lib [CANDIDATE]
[2/2] beta-service: BREAKS on its next cargo update ([TIME])
error: shared-lib [CANDIDATE] breaks beta-service (test wants_another_shared_lib) whose requirement accepts it; fix shared-lib (or the service), or release it as a breaking version

"#]])
        .stdout_eq(str![[r#"
service        pinned   candidate  accepts  builds  tests     time verdict
alpha-service  [..]yes      ok      ok[..]passes
beta-service   [..]yes      ok      FAILED[..]BREAKS on its next cargo update
                 first failure: test wants_another_shared_lib
report: [ROOT]/.fleet/consumers/report.md

"#]]);
}

#[test]
fn a_release_from_a_dirty_tree_is_refused_before_anything_runs() {
    let checkout = Checkout::new(&[("alpha-service", "0.3", "", "")]);
    write(
        &checkout.root().join("shared-lib/src/lib.rs"),
        "// half-done\n",
    );
    checkout
        .xtask(&["release", "patch", "--execute"])
        .assert()
        .with_assert(checkout.assert(&[]))
        .code(1)
        .stdout_eq(str![""])
        .stderr_eq(str![[r#"
error: uncommitted changes (shared-lib/src/lib.rs); commit or stash them, then run the release again

"#]]);
}

#[test]
fn common_mistakes_get_one_line_that_says_what_to_do() {
    let checkout = Checkout::new(&[("alpha-service", "0.3", "", "")]);
    let assert = checkout.assert(&[]);
    // A service that is not in fleet.toml.
    checkout
        .xtask(&["bump", "gamma-service"])
        .assert()
        .with_assert(assert.clone())
        .code(1)
        .stderr_eq(str![[r#"
error: unknown service "gamma-service"; the services in fleet.toml are alpha-service

"#]]);
    // A release level that does not exist.
    checkout
        .xtask(&["release", "huge"])
        .assert()
        .with_assert(assert.clone())
        .code(2)
        .stderr_eq(str![[r#"
error: invalid value 'huge' for '<LEVEL>'
  [possible values: patch, minor, major]

For more information, try '--help'.

"#]]);
    // A service name cargo would not accept as a package.
    checkout
        .xtask(&["new-service", "Billing_Service"])
        .assert()
        .with_assert(assert.clone())
        .code(1)
        .stderr_eq(str![[r#"
error: "Billing_Service" is not a service name: use lower-case letters, digits and dashes, starting with a letter (e.g. billing-service)

"#]]);
    // Outside any checkout: nothing runs.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("status")
        .current_dir(elsewhere.path())
        .env_remove("CARGO_MANIFEST_DIR")
        .assert()
        .with_assert(assert)
        .code(1)
        .stderr_eq(str![[r#"
error: [..] is not inside a checkout of the fleet (no fleet.toml and xtask/ here or above); run cargo xtask from your clone

"#]]);
}
