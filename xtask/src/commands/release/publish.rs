//! Step 3: cargo-release.

use anyhow::Result;

use crate::history::SHARED_LIB;
use crate::level::Level;
use crate::ops::cargo::{publishing, seed_target};
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
    // Its verification build starts from what the shared cache compiled.
    let target = layout.target_dir().join("publish");
    seed_target(&layout.target_dir(), &target, &[SHARED_LIB])?;
    let mut cmd = CARGO_RELEASE.command()?;
    cmd.args(["release", level.as_str()])
        .current_dir(layout.project(SHARED_LIB))
        .env("CARGO_TARGET_DIR", target);
    publishing(&mut cmd, registry)?;
    if execute {
        cmd.args(["--execute", "--no-confirm"]);
    }
    exec(&mut cmd)
}
