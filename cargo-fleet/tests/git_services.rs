//! `cargo fleet` in a directory that is not this repository, serving
//! services that each live in a git repository of their own: the real
//! binary, real bare repositories reached by `file://` URL, real cargo,
//! and the fleet's registry on port 8000 (`cargo xtask up` starts it;
//! `cargo xtask test` does), read with its read token as cargo would
//! (`CARGO_REGISTRIES_LOCAL_TOKEN`), and Renovate on `PATH` (`cargo xtask
//! test` puts the one it installs there). Output is pinned by snapshots
//! (snapbox); what changes from run to run is redacted: `[NEWEST]` the
//! newest shared-lib, `[OLDER]` an older line's newest, `[ROOT]` the
//! scratch directory, `[TIME]` durations, `[..]` columns whose width varies.
//! `SNAPSHOTS=overwrite cargo test --test git_services` rewrites them.

use std::path::{Path, PathBuf};

use cargo_fleet::index::{Published, published};
use cargo_fleet::manifest;
use cargo_fleet::ops::registry::Registry;
use snapbox::cmd::Command;
use snapbox::{Redactions, str};

/// This repository's root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository")
        .to_path_buf()
}

/// The read token of the fleet's registry, as `cargo xtask up` made it.
fn token() -> String {
    let file = repo().join("registry/data/read.token");
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; start the fleet's registry with `cargo xtask up`",
                file.display()
            )
        })
        .trim()
        .to_string()
}

/// The build cache this test binary was built in: the tool builds the
/// fixtures there too, so their dependencies are already compiled.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_cargo-fleet"))
        .ancestors()
        .nth(2)
        .expect("<target>/debug/cargo-fleet")
        .to_path_buf()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=fleet test",
            "-c",
            "user.email=fleet@example.com",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Commits `work` (a directory of files) as the first commit of a new
/// repository and makes a bare clone of it under `repos/`; its `file://` URL.
fn bare_repository(scratch: &Path, name: &str, work: &Path) -> String {
    git(work, &["init", "-q", "-b", "main"]);
    git(work, &["add", "-A"]);
    git(work, &["commit", "-q", "-m", "first"]);
    let bare = scratch.join("repos").join(format!("{name}.git"));
    let out = std::process::Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(work)
        .arg(&bare)
        .output()
        .expect("git clone");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("file://{}", bare.display())
}

/// A service like user-service (its dependencies and lockfile, so its
/// builds reuse what the suite compiled) named `name`, requiring and
/// locking shared-lib `version` (checksum from the registry), whose one
/// test is `test`; its repository's URL.
fn service_repository(scratch: &Path, name: &str, pin: &Published, test: &str) -> String {
    let user = repo().join("user-service");
    let manifest =
        std::fs::read_to_string(user.join("Cargo.toml")).expect("user-service's manifest");
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
    let lock = std::fs::read_to_string(user.join("Cargo.lock")).expect("user-service's lockfile");
    let entry = regex::Regex::new(
        r#"name = "shared-lib"\nversion = "[^"]*"\nsource = "([^"]*)"\nchecksum = "[0-9a-f]*""#,
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
                "name = \"shared-lib\"\nversion = \"{}\"\nsource = \"$1\"\nchecksum = \"{}\"",
                pin.version, pin.checksum
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
        &std::fs::read_to_string(user.join(".cargo/config.toml")).expect("registry config"),
    );
    bare_repository(scratch, name, &work)
}

const PASSES: &str =
    "#[test]\nfn sees_shared_lib() {\n    assert!(!shared_lib::VERSION.is_empty());\n}\n";
const BREAKS: &str = "#[test]\nfn wants_another_shared_lib() {\n    assert_eq!(shared_lib::VERSION, \"0.0.0\", \"not the shared-lib it was written for\");\n}\n";

struct Scratch {
    dir: tempfile::TempDir,
    newest: Published,
    older: Published,
}

impl Scratch {
    /// shared-lib and three services, each in a bare repository of its
    /// own, and a directory holding only a `fleet.toml` naming them by URL:
    /// alpha and beta lock the newest shared-lib (beta's test fails on any
    /// shared-lib), gamma an older line.
    fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("tempdir");
        let scratch = dir.path();
        let registry = Registry::with_token(
            &manifest::Registry {
                name: "local".into(),
                index: manifest::DEFAULT_INDEX.into(),
            },
            Some(token()),
        );
        let versions: Vec<Published> = published(&registry, "shared-lib")
            .expect("the fleet's registry answers (`cargo xtask up`)")
            .into_iter()
            .filter(|p| !p.yanked)
            .collect();
        let newest = versions.last().expect("shared-lib is published").clone();
        let older = versions
            .iter()
            .rev()
            .find(|p| {
                (p.version.major, p.version.minor) < (newest.version.major, newest.version.minor)
            })
            .expect("an older line of shared-lib is published (bench/db-anchor pins one)")
            .clone();
        let shared = scratch.join("work/shared-lib");
        cargo_fleet::ops::fs::copy_tree(&repo().join("shared-lib"), &shared, &["target"], None)
            .expect("copy shared-lib");
        let shared_url = bare_repository(scratch, "shared-lib", &shared);
        let alpha = service_repository(scratch, "alpha-service", &newest, PASSES);
        let beta = service_repository(scratch, "beta-service", &newest, BREAKS);
        let gamma = service_repository(scratch, "gamma-service", &older, PASSES);
        write(
            &scratch.join("fleet/fleet.toml"),
            &format!(
                "[[shared]]\nname = \"shared-lib\"\ngit = \"{shared_url}\"\n\n\
                 [[service]]\nname = \"alpha-service\"\ngit = \"{alpha}\"\n\n\
                 [[service]]\nname = \"beta-service\"\ngit = \"{beta}\"\n\n\
                 [[service]]\nname = \"gamma-service\"\ngit = \"{gamma}\"\nbranch = \"main\"\n"
            ),
        );
        Scratch { dir, newest, older }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `cargo fleet <args>` in the directory holding only `fleet.toml`.
    fn fleet(&self, args: &[&str]) -> Command {
        Command::new(env!("CARGO_BIN_EXE_cargo-fleet"))
            .arg("fleet")
            .args(args)
            .current_dir(self.root().join("fleet"))
            .env("CARGO_REGISTRIES_LOCAL_TOKEN", token())
            .env("CARGO_TARGET_DIR", target_dir())
            .env("CARGO_FLEET_CACHE", self.root().join("cache"))
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("CARGO_REGISTRIES_LOCAL_INDEX")
    }

    fn assert(&self) -> snapbox::Assert {
        let mut redactions = Redactions::new();
        let pairs = [
            ("[ROOT]", self.root().display().to_string()),
            ("[NEWEST]", self.newest.version.to_string()),
            ("[OLDER]", self.older.version.to_string()),
        ];
        for (placeholder, value) in pairs {
            redactions.insert(placeholder, value).expect("redaction");
        }
        redactions
            .insert("[TIME]", regex::Regex::new(r"\b\d+s\b").expect("regex"))
            .expect("redaction");
        snapbox::Assert::new()
            .action_env("SNAPSHOTS")
            .redact_with(redactions)
    }
}

#[test]
fn services_in_their_own_repositories_are_served_by_every_command() {
    let scratch = Scratch::new();

    // status reads each service's Cargo.toml and Cargo.lock from its
    // repository.
    scratch
        .fleet(&["status"])
        .assert()
        .with_assert(scratch.assert())
        .success()
        .stdout_eq(str![[r#"
service        requirement  locked   newest   verdict
alpha-service  ^[NEWEST][..][NEWEST][..][NEWEST][..]up to date
beta-service   ^[NEWEST][..][NEWEST][..][NEWEST][..]up to date
gamma-service  ^[OLDER][..][OLDER][..][NEWEST][..]needs a breaking bump
docs (sign in to the registry's web UI first):
  alpha-service  http://127.0.0.1:8000/docs/shared-lib/[NEWEST]/doc/shared_lib/index.html
  beta-service   http://127.0.0.1:8000/docs/shared-lib/[NEWEST]/doc/shared_lib/index.html
  gamma-service  http://127.0.0.1:8000/docs/shared-lib/[OLDER]/doc/shared_lib/index.html

"#]]);

    // renovate runs Renovate on each repository: it proposes the newest
    // shared-lib to gamma only.
    scratch
        .fleet(&["renovate"])
        .assert()
        .with_assert(scratch.assert())
        .success()
        .stdout_eq(str![[r#"
project        requirement  locked   renovate proposes                                            status
alpha-service  [NEWEST][..][NEWEST][..]nothing[..]up to date
beta-service   [NEWEST][..][NEWEST][..]nothing[..]up to date
gamma-service  [OLDER][..][OLDER][..][NEWEST] ([..]) on renovate/shared-lib-[..]needs a breaking bump
(Renovate ran in [TIME]; its reports: [ROOT]/fleet/.fleet/renovate/alpha-service.json, [ROOT]/fleet/.fleet/renovate/beta-service.json, [ROOT]/fleet/.fleet/renovate/gamma-service.json)

"#]]);

    // check-consumers builds and tests each repository's checkout against
    // shared-lib's (its repository's head, as [NEWEST]); beta breaks: exit 1.
    scratch
        .fleet(&["check-consumers"])
        .assert()
        .with_assert(scratch.assert())
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
service        pinned   candidate  accepts  builds  tests     time  verdict
alpha-service  [NEWEST][..][NEWEST][..]yes      ok      ok[..]passes
beta-service   [NEWEST][..][NEWEST][..]yes      ok      FAILED[..]BREAKS on its next cargo update
                 first failure: test wants_another_shared_lib
gamma-service  [OLDER][..][NEWEST][..]no       ok      ok[..]needs a breaking bump; it would pass
report: [ROOT]/fleet/.fleet/consumers/report.md

"#]]);

    // publish: the shared crate's head is a version the registry holds.
    scratch
        .fleet(&["publish"])
        .assert()
        .with_assert(scratch.assert())
        .success()
        .stdout_eq(str![[r#"
shared-lib [NEWEST] is already in the registry; nothing to do (a published version is immutable: raise the version to publish changes)

"#]]);

    // bump is a dry run without --execute: nothing reaches the repository.
    let branch = format!("fleet/shared-lib-{}", scratch.newest.version);
    let bare = scratch.root().join("repos/gamma-service.git");
    scratch
        .fleet(&["bump", "gamma-service"])
        .assert()
        .with_assert(scratch.assert())
        .success()
        .stdout_eq(str![[r#"
would move gamma-service from shared-lib [OLDER] to [NEWEST] on branch fleet/shared-lib-[NEWEST] of file://[ROOT]/repos/gamma-service.git (from main), run its tests, commit and push the branch; run again with --execute

"#]]);
    assert_eq!(git(&bare, &["branch", "--list", &branch]), "");

    // With --execute: the change is made on a branch of gamma's
    // repository, its tests run, and the branch is pushed for its owners
    // to merge; main does not move.
    let main_before = git(&bare, &["rev-parse", "main"]);
    scratch
        .fleet(&["bump", "gamma-service", "--execute"])
        .assert()
        .with_assert(scratch.assert())
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
            scratch.newest.version
        )),
        "{lock}"
    );
    let manifest = git(&bare, &["show", &format!("{branch}:Cargo.toml")]);
    assert!(
        manifest.contains(&format!(
            "shared-lib = {{ version = \"{}\"",
            scratch.newest.version
        )),
        "{manifest}"
    );
    assert_eq!(
        git(&bare, &["log", "-1", "--format=%s", &branch]),
        format!("Move to shared-lib {}", scratch.newest.version)
    );
    // The user's directory holds fleet.toml and the tool's reports only.
    let mut entries: Vec<String> = std::fs::read_dir(scratch.root().join("fleet"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, [".fleet", "fleet.toml"]);
}

#[test]
fn mistakes_are_one_line_with_an_exit_code_a_script_can_act_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str], manifest: &str| {
        write(&dir.path().join("fleet.toml"), manifest);
        Command::new(env!("CARGO_BIN_EXE_cargo-fleet"))
            .arg("fleet")
            .args(args)
            .current_dir(dir.path())
            .env("CARGO_REGISTRIES_LOCAL_TOKEN", "unused")
            .env("CARGO_FLEET_CACHE", dir.path().join("cache"))
    };
    let assert = snapbox::Assert::new().action_env("SNAPSHOTS");
    // A key fleet.toml does not know: exit 2, the line and the key.
    run(&["status"], "[[service]]\nname = \"a-service\"\nprot = 1\n")
        .assert()
        .with_assert(assert.clone())
        .code(2)
        .stderr_eq(str![[r#"
error: [..]/fleet.toml: line 3: unknown field `prot`, expected one of `name`, `path`, `git`, `branch`, `port`, `ready`, `calls`

"#]]);
    // A service fleet.toml does not declare: exit 2.
    run(
        &["bump", "b-service"],
        "[[service]]\nname = \"a-service\"\n",
    )
    .assert()
    .with_assert(assert.clone())
    .code(2)
    .stderr_eq(str![[r#"
error: unknown service "b-service"; the services in fleet.toml are a-service

"#]]);
    // A registry that does not answer: exit 3, and the tool starts none.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    run(
        &["status"],
        &format!(
            "[registry]\nindex = \"sparse+http://127.0.0.1:{port}/api/v1/crates/\"\n\n\
             [[service]]\nname = \"a-service\"\ngit = \"file:///nowhere.git\"\n"
        ),
    )
    .assert()
    .with_assert(assert.clone())
    .code(3)
    .stderr_eq(str![[r#"
error: the registry local at sparse+http://127.0.0.1:[..]/api/v1/crates/ does not answer ([..]); start it (in the fleet's repository: `cargo xtask up`) or correct [registry] index in fleet.toml

"#]]);
    // The help names every command and the exit codes.
    run(&["--help"], "")
        .assert()
        .with_assert(assert.clone())
        .success()
        .stdout_eq(str![[r#"
Day-two tooling for a shared crate and the services that pin it from a private registry: status, consumer check, bump, publish, release (run as `cargo fleet`).

Usage: cargo fleet [OPTIONS] <COMMAND>

Commands:
  status           Show which version of each shared crate every service requires and locks, against the registry. Exit 1 when one pins a yanked or unpublished version
  check-consumers  Build and test every service against the shared crate's working tree (the release candidate), each in a throwaway copy. Exit 1 when one whose requirement accepts it breaks
  bump             Move one service to a published version of a shared crate (the newest by default) and run its tests: in place for a path service, on a pushed branch of its repository for a git service. A dry run unless --execute
  release          Release the shared crate with cargo-release after a semver check against the last published version and a build and test of every service against it. A dry run unless --execute; exit 1 when the guard or a consumer refuses it
  renovate         Run Renovate (dry run) on the fleet's repository and on each git service's repository, and print per service the update of the shared crate it proposes beside `status`
  publish          Publish the shared crate's working tree version (a git shared crate: its branch's head) when the registry lacks it. A dry run unless --execute; the token must be one that may publish
  help             Print this message or the help of the given subcommand(s)

Options:
      --manifest-path <PATH>  The fleet.toml to use (default: the nearest one at or above the working directory)
  -h, --help                  Print help
  -V, --version               Print version

Exit codes:
  0  success
  1  the check found a problem: a consumer breaks, a service pins a yanked
     or unpublished version, the tests of a bump fail
  2  usage or configuration: a bad flag, a bad or missing fleet.toml key
  3  the tool could not do its work: the registry does not answer, git or
     cargo failed

Configured by fleet.toml, in the working directory or above it: [registry]
(name, index), [[shared]] crates and [[service]] entries, each by path or by
git URL and branch. The registry's token is cargo's own:
CARGO_REGISTRIES_<NAME>_TOKEN or `cargo login --registry <name>`.

"#]]);
    // A flag that does not exist: clap's usage error, exit 2.
    run(&["status", "--jsn"], "")
        .assert()
        .with_assert(assert)
        .code(2);
}
