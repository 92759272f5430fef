//! cargo, set up once for this checkout: every run builds into the shared
//! target dir, and runs that talk to a registry other than the fleet's get
//! its index URL and the token they need.

use std::path::Path;
use std::process::Command;

use anyhow::Result;
pub use cargo_fleet::ops::cargo::{cargo_in, local_crates, seed_target};

use crate::ops::registry::Kellnr;
use crate::paths::Layout;

/// `cargo <args>` in `dir`, building into the layout's shared target dir,
/// reading the fleet's registry with its read-only token (when this
/// checkout's registry has one; cargo's `cargo:token` provider takes it from
/// `CARGO_REGISTRIES_LOCAL_TOKEN`; otherwise the caller's own setting).
pub fn cargo(layout: &Layout, dir: impl AsRef<Path>, args: &[&str]) -> Command {
    let mut cmd = cargo_in(layout.target_dir(), dir, args);
    // The token file of this checkout's registry, as the registry layer
    // names it (ops/ reads no fleet configuration).
    let file = Kellnr::read_token_file_in(&layout.registry_data());
    if let Ok(token) = crate::ops::secrets::read_secret(&file) {
        cmd.env("CARGO_REGISTRIES_LOCAL_TOKEN", token);
    }
    cmd
}

/// Points `cmd`'s registry `local` at `registry` (tests use throwaway
/// instances on other ports) with the read-only token.
pub fn reading(cmd: &mut Command, registry: &Kellnr) -> Result<()> {
    cmd.env("CARGO_REGISTRIES_LOCAL_INDEX", registry.index_url())
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", registry.read_token()?);
    Ok(())
}

/// Points `cmd`'s registry `local` at `registry` with the publish token:
/// only `publish` and `release` use it.
pub fn publishing(cmd: &mut Command, registry: &Kellnr) -> Result<()> {
    cmd.env("CARGO_REGISTRIES_LOCAL_INDEX", registry.index_url())
        .env("CARGO_REGISTRIES_LOCAL_TOKEN", registry.token()?);
    Ok(())
}
