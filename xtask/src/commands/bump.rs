//! `cargo xtask bump <service> [--to VERSION]`: `cargo fleet bump
//! --execute` on this checkout's registry, started first and given every
//! pinned shared-lib version. The bump itself is
//! [`cargo_fleet::commands::bump`].

use anyhow::Result;
use semver::Version;

use crate::paths::Layout;

/// Runs `bump`.
pub fn run(layout: &Layout, service: &str, to: Option<&Version>) -> Result<()> {
    layout.fleet()?.service(service)?;
    let (registry, _) = super::registry(layout)?;
    super::publish_pinned(layout, &registry)?;
    let ws = layout
        .workspace(&registry)?
        .with_tools(crate::fleet::tool::service_test_tools(layout)?);
    cargo_fleet::commands::bump::run(&ws, service, None, to, true)
}
