//! cargo, set up once for this checkout: every run builds into the shared
//! target dir, and runs that talk to a registry other than the fleet's get
//! its index URL and the token they need.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::ops::registry::Kellnr;
use crate::paths::Layout;

/// `cargo <args>` in `dir`, building into the layout's shared target dir.
pub fn cargo(layout: &Layout, dir: impl AsRef<Path>, args: &[&str]) -> Command {
    cargo_in(layout.target_dir(), dir, args)
}

/// `cargo <args>` in `dir`, building into `target`.
pub fn cargo_in(target: PathBuf, dir: impl AsRef<Path>, args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.args(args)
        .current_dir(dir.as_ref())
        .env("CARGO_TARGET_DIR", target);
    cmd
}

/// Points `cmd`'s registry `local` at `registry` (tests use throwaway
/// instances on other ports) with the token that reads it.
pub fn reading(cmd: &mut Command, registry: &Kellnr) -> Result<()> {
    cmd.env("CARGO_REGISTRIES_LOCAL_INDEX", registry.index_url());
    Ok(())
}

/// Like [`reading`], with the token that publishes to it.
pub fn publishing(cmd: &mut Command, registry: &Kellnr) -> Result<()> {
    reading(cmd, registry)?;
    cmd.env("CARGO_REGISTRIES_LOCAL_TOKEN", registry.token()?);
    Ok(())
}
