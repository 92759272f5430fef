//! `cargo fleet publish [--crate NAME] [--execute]`: publishes the shared
//! crate's working tree version (its checkout's head, for one declared by
//! git) to the fleet's registry with `cargo publish`, when the registry
//! lacks it. A dry run unless `--execute`. The token is cargo's own, and
//! must be one that may publish; cargo refuses uncommitted changes.

use anyhow::{Context, Result};

use crate::error::usage;
use crate::index;
use crate::lock;
use crate::ops::cargo::cargo_in;
use crate::ops::run::run as exec;
use crate::workspace::Workspace;

/// Runs `publish`.
pub fn run(ws: &Workspace, krate: Option<&str>, execute: bool) -> Result<()> {
    let shared = ws.manifest.shared(krate)?;
    let name = shared.name.as_str();
    let dir = ws.shared_dir(shared)?;
    let version = lock::crate_version(&dir)?;
    if index::published(&ws.registry, name)?
        .iter()
        .any(|p| p.version == version)
    {
        println!(
            "{name} {version} is already in the registry; nothing to do (a published version is \
             immutable: raise the version to publish changes)"
        );
        return Ok(());
    }
    if crate::ops::git::is_dirty(&dir, ".").unwrap_or(false) {
        return Err(usage(format!(
            "{} has uncommitted changes; commit them before publishing {name} {version}",
            dir.display()
        )));
    }
    if !execute {
        println!(
            "would publish {name} {version} from {} to {} ({}); run again with --execute",
            dir.display(),
            ws.registry.name,
            ws.registry.index
        );
        return Ok(());
    }
    let mut publish = cargo_in(
        ws.target.join("publish"),
        &dir,
        &["publish", "--locked", "--registry", &ws.registry.name],
    );
    ws.registry.configure(&mut publish);
    publish.stdout(std::io::stderr());
    exec(&mut publish).with_context(|| format!("publishing {name} {version} failed"))?;
    println!(
        "published {name} {version} to {} ({})",
        ws.registry.name, ws.registry.index
    );
    Ok(())
}
