//! The Docker engine and `docker compose` in the checkout.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::ops::registry::Kellnr;
use crate::paths::Layout;

/// Fails with a clear message when no Docker engine answers.
pub fn engine() -> Result<()> {
    let answered = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !answered {
        bail!(
            "no Docker engine answers (`docker info` failed), so the container path cannot run here; \
             start an engine, or use the native path: `cargo xtask up`"
        );
    }
    Ok(())
}

/// `docker compose` in the checkout, with the registry's generated token
/// and password in its environment (compose passes them to Kellnr's first
/// start; they are never written to a file compose reads).
pub fn compose(layout: &Layout, registry: &Kellnr) -> Result<Command> {
    let read = |path: std::path::PathBuf| {
        std::fs::read_to_string(&path)
            .map(|s| s.trim().to_string())
            .with_context(|| format!("cannot read {}", path.display()))
    };
    let mut cmd = Command::new("docker");
    cmd.arg("compose")
        .current_dir(&layout.root)
        .env("KELLNR_ADMIN_TOKEN", read(registry.token_file())?)
        .env("KELLNR_ADMIN_PWD", read(registry.password_file())?);
    Ok(cmd)
}
