//! What the fleet's images carry, read from the images themselves: each
//! image of a service on the Docker engine (compose's `:local`, the swarm's
//! and `rollout`'s tags), its binary copied out of a stopped container and
//! the dependency list `cargo auditable build` embedded in it read back
//! (auditable-info). Not from a lockfile: an image built before a bump
//! still says what it was built with.

use anyhow::{Context, Result};
use semver::Version;

use crate::ops::docker::Engine;
use crate::ops::run::capture;

/// One image of a service and the version of a shared crate in its binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    /// The service.
    pub service: String,
    /// Its names on the engine (`shared-fleet/user-service:local`, ...).
    pub tags: Vec<String>,
    /// The image id (short).
    pub id: String,
    /// The crate's version in the binary; `None` when the binary has no
    /// embedded dependency list (built without cargo auditable) or does
    /// not contain the crate.
    pub version: Option<Version>,
    /// Whether the binary has an embedded dependency list at all.
    pub auditable: bool,
    /// The containers running it (compose's and the swarm's tasks).
    pub containers: Vec<String>,
}

/// Every image on `engine` of the services `services` (named
/// `shared-fleet/<service>`), with the version of `krate` (from a registry
/// other than crates.io) its binary carries.
pub fn carried(engine: &Engine, services: &[&str], krate: &str) -> Result<Vec<Carried>> {
    let mut found = Vec::new();
    for service in services {
        let listing = capture(engine.docker().args([
            "images",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.Repository}}:{{.Tag}}",
            &format!("shared-fleet/{service}"),
        ]))?;
        let mut images: Vec<(String, Vec<String>)> = Vec::new();
        for line in listing.lines() {
            let Some((id, tag)) = line.split_once(' ') else {
                continue;
            };
            match images.iter_mut().find(|(known, _)| known == id) {
                Some((_, tags)) => tags.push(tag.to_string()),
                None => images.push((id.to_string(), vec![tag.to_string()])),
            }
        }
        for (id, tags) in images {
            let binary = binary_of(engine, &id, service)?;
            let info = auditable_info::audit_info_from_file(&binary, Default::default());
            let _ = std::fs::remove_file(&binary);
            let (auditable, version) = match info {
                Ok(info) => (
                    true,
                    info.packages
                        .iter()
                        .find(|p| p.name == krate && String::from(p.source.clone()) != "crates.io")
                        .and_then(|p| Version::parse(&p.version.to_string()).ok()),
                ),
                Err(_) => (false, None),
            };
            let containers = capture(engine.docker().args([
                "ps",
                "--filter",
                &format!("ancestor={id}"),
                "--format",
                "{{.Names}}",
            ]))?
            .lines()
            .map(String::from)
            .collect();
            let short = id.trim_start_matches("sha256:");
            found.push(Carried {
                service: service.to_string(),
                tags,
                id: short[..short.len().min(12)].to_string(),
                version,
                auditable,
                containers,
            });
        }
    }
    Ok(found)
}

/// The service's binary of image `id`, copied to a temporary file.
fn binary_of(engine: &Engine, id: &str, service: &str) -> Result<std::path::PathBuf> {
    let container = capture(engine.docker().args(["create", id]))?
        .trim()
        .to_string();
    let to = std::env::temp_dir().join(format!(
        "fleet-image-{}-{}",
        std::process::id(),
        &container[..container.len().min(12)]
    ));
    let copied = capture(engine.docker().args([
        "cp",
        &format!("{container}:/usr/local/bin/{service}"),
        &to.display().to_string(),
    ]));
    let _ = capture(engine.docker().args(["rm", &container]));
    copied.with_context(|| format!("copying /usr/local/bin/{service} out of image {id}"))?;
    Ok(to)
}
