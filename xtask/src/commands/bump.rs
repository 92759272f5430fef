//! `cargo xtask bump <service> [--to VERSION]`: moves one service to a
//! published shared-lib version with `cargo add` and
//! `cargo update --precise`, then runs its tests. Other services are not
//! touched. Manifests and lockfiles are only ever changed through cargo.

use anyhow::{Context, Result, bail};
use semver::Version;

use crate::history::{self, SHARED_LIB};
use crate::index;
use crate::ops::cargo::{cargo, reading};
use crate::ops::registry::Kellnr;
use crate::ops::run::run as exec;
use crate::paths::Layout;

/// What a bump did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bumped {
    /// The version locked before.
    pub from: Version,
    /// The version locked now.
    pub to: Version,
}

/// Runs `bump`.
pub fn run(layout: &Layout, service: &str, to: Option<&Version>) -> Result<()> {
    let fleet = layout.fleet()?;
    fleet.service(service)?;
    let (registry, _) = super::registry(layout)?;
    super::publish_pinned(layout, &registry)?;
    let bumped = bump(layout, &registry, service, to)?;
    if bumped.from == bumped.to {
        println!(
            "{service} already locks {SHARED_LIB} {}; nothing to do",
            bumped.to
        );
        return Ok(());
    }
    let others: Vec<&str> = fleet
        .names()
        .into_iter()
        .filter(|n| *n != service)
        .collect();
    println!(
        "{service}: {SHARED_LIB} {} -> {}, tests pass. Untouched: {}.",
        bumped.from,
        bumped.to,
        if others.is_empty() {
            "-".to_string()
        } else {
            others.join(", ")
        }
    );
    println!(
        "commit it: git commit -m \"{service}: move to {SHARED_LIB} {}\" {service}/Cargo.toml {service}/Cargo.lock",
        bumped.to
    );
    Ok(())
}

/// Moves `service` to shared-lib `to` (the newest published when `None`),
/// then runs its tests.
pub fn bump(
    layout: &Layout,
    registry: &Kellnr,
    service: &str,
    to: Option<&Version>,
) -> Result<Bumped> {
    layout.fleet()?.service(service)?;
    let published = index::published(registry, SHARED_LIB)?;
    let listing = published
        .iter()
        .map(|p| format!("{}{}", p.version, if p.yanked { " (yanked)" } else { "" }))
        .collect::<Vec<_>>()
        .join(", ");
    let target = match to {
        Some(v) => match published.iter().find(|p| &p.version == v) {
            None => bail!(
                "{SHARED_LIB} {v} is not published in the registry (published: {listing}); release it first"
            ),
            Some(p) if p.yanked => {
                bail!("{SHARED_LIB} {v} is yanked; pick another version (published: {listing})")
            }
            Some(_) => v.clone(),
        },
        None => published
            .iter()
            .filter(|p| !p.yanked)
            .map(|p| p.version.clone())
            .max()
            .with_context(|| {
                format!("no {SHARED_LIB} version is published yet; run `cargo xtask up`")
            })?,
    };
    let dir = layout.project(service);
    let from = history::pin(&dir)?.version;
    if from == target {
        return Ok(Bumped { from, to: target });
    }
    let cargo = |args: &[&str]| -> Result<std::process::Command> {
        let mut cmd = cargo(layout, &dir, args);
        reading(&mut cmd, registry)?;
        Ok(cmd)
    };
    exec(&mut cargo(&[
        "add",
        &format!("{SHARED_LIB}@{target}"),
        "--registry",
        "local",
    ])?)?;
    exec(&mut cargo(&[
        "update",
        "-p",
        SHARED_LIB,
        "--precise",
        &target.to_string(),
    ])?)?;
    let locked = history::pin(&dir)?.version;
    if locked != target {
        bail!("{service}/Cargo.lock locks {SHARED_LIB} {locked} after the update, not {target}");
    }
    exec(&mut cargo(&["test", "--locked"])?).with_context(|| {
        format!(
            "{service}'s tests fail on {SHARED_LIB} {target}; the changed Cargo.toml and Cargo.lock are left \
             for you to fix, or undo them with `git checkout -- {service}/Cargo.toml {service}/Cargo.lock`"
        )
    })?;
    Ok(Bumped { from, to: target })
}
