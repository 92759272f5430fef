//! The supply chain, checked with the tools a team installs once: every
//! dependency comes from an allowed registry (cargo-deny, with this
//! directory's deny.toml), and no shared crate of the fleet is named
//! without the fleet's registry or locked at a version that the team's
//! advisories name, that was yanked or that the registry lacks
//! (`cargo fleet audit`). A failure prints the tool's own words: the
//! advisory's id, its reason and the version to move to.

use std::process::Command;

/// Runs the cargo subcommand `cargo-<tool>` (found on PATH, as cargo
/// finds it) with `args` in this service's directory; panics with the
/// tool's output when it fails, and with how to install it when missing.
fn run(tool: &str, args: &[&str], install: &str) {
    let out = match Command::new(format!("cargo-{tool}"))
        .arg(tool)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    {
        Ok(out) => out,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            panic!("`cargo {tool}` is not installed (no cargo-{tool} on PATH): {install}")
        }
        Err(err) => panic!("cannot run cargo-{tool}: {err}"),
    };
    assert!(
        out.status.success(),
        "`cargo {tool} {}` failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_dependency_comes_from_an_allowed_registry() {
    run(
        "deny",
        &["--locked", "check", "sources"],
        "cargo install --locked cargo-deny@0.20.2",
    );
}

#[test]
fn no_locked_shared_crate_is_advised_yanked_or_unpublished() {
    run(
        "fleet",
        &["audit"],
        "cargo install --locked --path <the fleet's repository>/cargo-fleet; \
         outside the fleet's tree, CARGO_FLEET_MANIFEST names its fleet.toml",
    );
}
