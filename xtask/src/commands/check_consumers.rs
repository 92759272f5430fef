//! `cargo xtask check-consumers [--level L] [--json]`: `cargo fleet
//! check-consumers` on this checkout's registry, started first and given
//! every pinned shared-lib version ([`crate::consumers`] is the check).

use anyhow::Result;

use crate::level::Level;
use crate::paths::Layout;

/// Runs `check-consumers`.
pub fn run(layout: &Layout, level: Option<Level>, json: bool) -> Result<()> {
    let (registry, _) = super::registry(layout)?;
    super::publish_pinned(layout, &registry)?;
    let ws = layout
        .workspace(&registry)?
        .with_tools(crate::fleet::tool::service_test_tools(layout)?);
    cargo_fleet::commands::check_consumers::run(&ws, None, level, json)
}
