//! `cargo fleet`'s one-line errors and exit codes, and its help, from the
//! real binary: nothing here needs a registry (the commands against one,
//! with services in repositories of their own, are tested by the harness's
//! release tests on a throwaway Kellnr: `xtask/tests/release.rs`,
//! `cargo_fleet_serves_services_in_their_own_repositories`).

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use snapbox::cmd::Command;
use snapbox::str;

fn write(path: &std::path::Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
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
Day-two tooling for a shared crate and the services that pin it from a private registry: status, audit, consumer check, bump, publish, release, advisories (run as `cargo fleet`).

Usage: cargo fleet [OPTIONS] <COMMAND>

Commands:
  status           Show which version of each shared crate every service requires and locks, against the registry and the team's advisories. Exit 1 when one pins an advised, yanked or unpublished version
  audit            Check one project (a service's directory; default: the working directory): every shared crate named with the fleet's registry, none locked at an advised, yanked or unpublished version. For a service's own tests and CI; exit 1 naming each advisory and where to move
  check-consumers  Build and test every service against the shared crate's working tree (the release candidate), each in a throwaway copy. Exit 1 when one whose requirement accepts it breaks
  bump             Move one service to a published version of a shared crate (the newest by default) and run its tests: in place for a path service, on a pushed branch of its repository for a git service. A dry run unless --execute
  release          Release the shared crate with cargo-release after a semver check against the last published version and a build and test of every service against it. A dry run unless --execute; exit 1 when the guard or a consumer refuses it
  renovate         Run Renovate (dry run) on the fleet's repository and on each git service's repository, and print per service the update of the shared crate it proposes beside `status`
  advise           Write an advisory on a published version of a shared crate into the team's advisory database (RustSec format, committed there), yank the version when asked, and list every service that locks an affected version. A dry run unless --execute
  publish          Publish the shared crate's working tree version (a git shared crate: its branch's head) when the registry lacks it. A dry run unless --execute; the token must be one that may publish
  help             Print this message or the help of the given subcommand(s)

Options:
      --manifest-path <PATH>  The fleet.toml to use (default: the nearest one at or above the working directory) [env: CARGO_FLEET_MANIFEST=]
  -h, --help                  Print help
  -V, --version               Print version

Exit codes:
  0  success
  1  the check found a problem: a consumer breaks, a service pins an
     advised, yanked or unpublished version, a release names an advised
     version, the tests of a bump fail
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
