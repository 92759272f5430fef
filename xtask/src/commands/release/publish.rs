//! Step 3: cargo-release.

use anyhow::Result;

use crate::history::SHARED_LIB;
use crate::level::Level;
use crate::ops::cargo::publishing;
use crate::ops::registry::Kellnr;
use crate::ops::run::run as exec;
use crate::ops::tools::CARGO_RELEASE;
use crate::paths::Layout;

/// cargo-release for shared-lib at `level`.
pub fn cargo_release(
    layout: &Layout,
    registry: &Kellnr,
    level: Level,
    execute: bool,
) -> Result<()> {
    let mut cmd = CARGO_RELEASE.command()?;
    cmd.args(["release", level.as_str()])
        .current_dir(layout.project(SHARED_LIB))
        .env("CARGO_TARGET_DIR", layout.target_dir().join("publish"));
    publishing(&mut cmd, registry)?;
    if execute {
        cmd.args(["--execute", "--no-confirm"]);
    }
    exec(&mut cmd)
}
