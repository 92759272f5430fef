//! `cargo xtask advise <version> --reason "..." [--patched RANGE] [--yank]
//! [--execute]`: `cargo fleet advise` on this checkout's registry (started
//! first, every pinned shared-lib version published), with the publish
//! token so `--yank` may yank. The advisory database is
//! `registry/advisories/` (fleet.toml's `[advisories]`), a git repository
//! of its own that the first `--execute` makes. The command itself is
//! [`cargo_fleet::commands::advise`].

use anyhow::Result;

use crate::paths::Layout;

/// Runs `advise`.
pub fn run(layout: &Layout, request: &cargo_fleet::commands::advise::Request) -> Result<()> {
    let (registry, _) = super::registry(layout)?;
    super::publish_pinned(layout, &registry)?;
    let ws = layout.workspace_with_token(&registry, registry.token()?)?;
    cargo_fleet::commands::advise::run(&ws, request).map(|_| ())
}
