//! Step 3: cargo-release, in the shared crate's directory (its checkout,
//! for one declared by git: cargo-release's commit, tag and push, when its
//! `release.toml` asks for one, land in that repository), publishing to
//! the fleet's registry with cargo's token.

use std::path::Path;

use anyhow::Result;

use crate::level::Level;
use crate::manifest::Shared;
use crate::ops::cargo::seed_target;
use crate::ops::run::{program, run as exec};
use crate::workspace::Workspace;

/// cargo-release (the binary `cargo_release`) for `shared` at `level`.
pub fn cargo_release(
    ws: &Workspace,
    shared: &Shared,
    level: Level,
    execute: bool,
    cargo_release: &Path,
) -> Result<()> {
    // Its verification build starts from what the shared cache compiled.
    let target = ws.target.join("publish");
    seed_target(&ws.target, &target, &[shared.name.as_str()])?;
    let mut cmd = program(cargo_release);
    cmd.args(["release", level.as_str(), "--registry", &ws.registry.name])
        .current_dir(ws.shared_dir(shared)?)
        .env("CARGO_TARGET_DIR", target);
    ws.registry.configure(&mut cmd);
    if execute {
        cmd.args(["--execute", "--no-confirm"]);
    }
    exec(&mut cmd)
}
