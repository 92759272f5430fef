//! The fleet's registry (port 8000, started by `cargo xtask test`) as a
//! developer meets it: private, with docs, and usable by cargo with the
//! read-only token alone.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use std::process::Command;

use xtask::fleet::fleet_registry;
use xtask::history::{self, SHARED_LIB};
use xtask::paths::Layout;

#[test]
fn the_docs_of_every_pinned_version_are_served_to_signed_in_readers() {
    let layout = Layout::detect();
    let registry = fleet_registry(&layout);
    let fleet = layout.fleet().unwrap();
    let session = registry.reader_session().unwrap();
    let anonymous = reqwest::blocking::Client::new();
    for pin in history::pins(&layout, &fleet.names()).unwrap().values() {
        let url = format!(
            "{}{}",
            registry.base_url(),
            history::docs_path(&pin.version)
        );
        let resp = session.get(&url).send().unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        let page = resp.text().unwrap();
        assert!(
            page.contains(&pin.version.to_string()),
            "{url} is not {} {}",
            SHARED_LIB,
            pin.version
        );
        assert_eq!(anonymous.get(&url).send().unwrap().status(), 401, "{url}");
    }
}

#[test]
fn each_service_alone_in_an_empty_folder_builds_and_tests_with_only_cargo_login() {
    let layout = Layout::detect();
    let registry = fleet_registry(&layout);
    let read_token = registry.read_token().unwrap();
    // A fixed path, emptied each run: nothing cached, no credentials, and
    // the build cache next to it stays valid between runs.
    let home = layout.target_dir().join("empty-cargo-home");
    let target = layout.target_dir().join("empty-cargo-home-target");
    // The team's tools, installed once (its supply-chain test runs them),
    // and where its fleet is declared: a service in a repository of its own
    // names the platform's fleet.toml.
    let tools = xtask::fleet::tool::service_test_tools(&layout).unwrap();
    let cargo = |dir: &std::path::Path, args: &[&str], stdin: Option<&str>| {
        let mut cmd = Command::new("cargo");
        xtask::ops::run::path_first(&mut cmd, &tools);
        cmd.args(args)
            .current_dir(dir)
            .env("CARGO_FLEET_MANIFEST", layout.root.join("fleet.toml"))
            .env("CARGO_HOME", &home)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("CARGO_REGISTRIES_LOCAL_TOKEN")
            .env_remove("FLEET_PUBLISH_TOKEN")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    };
    for service in layout.fleet().unwrap().names() {
        // What `git subtree split --prefix <service>` hands a team: the
        // directory alone, in a folder with no fleet around it.
        let alone = tempfile::tempdir().unwrap();
        let dir = alone.path().join(service);
        let out = Command::new("git")
            .args(["-C"])
            .arg(&layout.root)
            .args(["archive", "--format=tar", &format!("HEAD:{service}")])
            .output()
            .unwrap();
        assert!(out.status.success(), "git archive {service}");
        std::fs::create_dir_all(&dir).unwrap();
        tar::Archive::new(out.stdout.as_slice())
            .unpack(&dir)
            .unwrap();
        assert!(
            dir.join(".cargo/config.toml").is_file(),
            "{service} carries its registry definition"
        );
        // Empty for each service: another's download must not serve it.
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        // Without a token cargo stops at the registry and says what to do.
        let out = cargo(&dir, &["fetch", "--locked"], None);
        assert!(!out.status.success(), "{service} fetched without a token");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cargo login --registry local") || stderr.contains("401"),
            "{stderr}"
        );
        // One `cargo login` with the read token: it builds and its tests pass.
        let out = cargo(&dir, &["login", "--registry", "local"], Some(&read_token));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = cargo(&dir, &["test", "--locked", "--quiet"], None);
        assert!(
            out.status.success(),
            "{service}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
