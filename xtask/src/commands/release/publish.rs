//! Step 3: cargo-release.

use anyhow::Result;

use crate::history::SHARED_LIB;
use crate::level::Level;
use crate::ops::cargo::{build_apart, publishing};
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
        .current_dir(layout.project(SHARED_LIB));
    // It verifies the packaged copy: a build of its own (see
    // `ops::cargo::cargo_apart`).
    build_apart(&mut cmd, layout.target_dir().join("publish"));
    publishing(&mut cmd, registry)?;
    if execute {
        cmd.args(["--execute", "--no-confirm"]);
    }
    exec(&mut cmd)
}
