//! `cargo xtask renovate [--json]`: `cargo fleet renovate` on this
//! checkout's registry (started first), with the Renovate the harness
//! installs: 44.121.2 and the Node 24 it needs, from the npm registry into
//! the tool cache when missing ([`cargo_fleet::commands::renovate`] runs
//! it). Its reports and logs are kept in `.fleet/renovate/`.

use anyhow::Result;
pub use cargo_fleet::commands::renovate::{Outcome, render};

use crate::history::SHARED_LIB;
use crate::ops::registry::Kellnr;
use crate::ops::tools::RENOVATE;
use crate::paths::Layout;

/// Runs Renovate over `layout`'s checkout against `registry`.
pub fn renovate(layout: &Layout, registry: &Kellnr) -> Result<Outcome> {
    let ws = layout.workspace(registry)?;
    let shared = ws.manifest.shared(Some(SHARED_LIB))?;
    cargo_fleet::commands::renovate::renovate(&ws, shared, &|| RENOVATE.command())
}

/// Runs `renovate`.
pub fn run(layout: &Layout, json: bool) -> Result<()> {
    let (registry, _) = super::registry(layout)?;
    let ws = layout.workspace(&registry)?;
    cargo_fleet::commands::renovate::run_with(&ws, Some(SHARED_LIB), json, &|| RENOVATE.command())
}
