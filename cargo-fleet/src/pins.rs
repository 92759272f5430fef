//! Where each service of the fleet stands against the registry: the
//! shared crate it requires (Cargo.toml) and locks (Cargo.lock), the newest
//! published, and a verdict. `status` prints it; the harness's `renovate`
//! prints it beside Renovate's proposals.

use std::path::Path;

use anyhow::Result;
use semver::{Version, VersionReq};
use serde::Serialize;

use crate::advisories::{self, Advisory};
use crate::index::{self, Published};
use crate::lock;
use crate::manifest::Shared;
use crate::workspace::Workspace;

/// Where a service stands against the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It locks the newest published version.
    UpToDate,
    /// A newer version matches its requirement: `cargo update` takes it.
    CompatibleUpdateAvailable,
    /// Newer versions exist only outside its requirement: its owners must
    /// change the requirement (`cargo fleet bump`).
    NeedsBreakingBump,
    /// An advisory of the team's database names the locked version.
    PinsAdvisedVersion,
    /// The locked version was yanked.
    PinsYankedVersion,
    /// The locked version is not in the registry.
    NotPublished,
}

impl Verdict {
    /// How the table says it.
    pub fn as_text(self) -> &'static str {
        match self {
            Verdict::UpToDate => "up to date",
            Verdict::CompatibleUpdateAvailable => "compatible update available",
            Verdict::NeedsBreakingBump => "needs a breaking bump",
            Verdict::PinsAdvisedVersion => "pins an advised version",
            Verdict::PinsYankedVersion => "pins a yanked version",
            Verdict::NotPublished => "not published",
        }
    }
}

/// The verdict for a service requiring `req` and locking `locked`.
pub fn verdict(req: &VersionReq, locked: &Version, published: &[Published]) -> Verdict {
    match published.iter().find(|p| &p.version == locked) {
        None => return Verdict::NotPublished,
        Some(p) if p.yanked => return Verdict::PinsYankedVersion,
        Some(_) => {}
    }
    let newer: Vec<&Version> = published
        .iter()
        .filter(|p| !p.yanked && &p.version > locked)
        .map(|p| &p.version)
        .collect();
    if newer.is_empty() {
        Verdict::UpToDate
    } else if newer.iter().any(|v| req.matches(v)) {
        Verdict::CompatibleUpdateAvailable
    } else {
        Verdict::NeedsBreakingBump
    }
}

/// One running instance of a service (the harness finds them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// Where it answers, `127.0.0.1:8081`.
    pub instance: String,
    /// The shared-lib version compiled into it.
    pub shared_lib_version: String,
}

/// One row of `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The service.
    pub service: String,
    /// The shared crate.
    pub shared: String,
    /// Its requirement on the shared crate in Cargo.toml, e.g. `0.1`.
    pub requirement: String,
    /// The version in its Cargo.lock.
    pub locked: String,
    /// The newest non-yanked version in the registry, if any.
    pub newest: Option<String>,
    /// Where it stands.
    pub verdict: Verdict,
    /// Where the registry serves the locked version's docs (log in to the
    /// registry's web UI first: it serves them to signed-in users only).
    pub docs_url: String,
    /// Its running instances and the shared-lib each runs (filled by the
    /// harness's `status`; empty when none answers or nobody looked).
    pub running: Vec<Instance>,
    /// The advisories that name the locked version.
    pub advisories: Vec<Advised>,
}

/// An advisory naming a service's locked version, as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advised {
    /// Its id, `FLEET-2026-0001`.
    pub id: String,
    /// What is wrong, in one line.
    pub title: String,
    /// The versions to move to.
    pub patched: String,
}

impl From<&Advisory> for Advised {
    fn from(a: &Advisory) -> Advised {
        Advised {
            id: a.id.clone(),
            title: a.title.clone(),
            patched: a.moves_to(),
        }
    }
}

impl Row {
    /// The running instances whose shared-lib is not the locked one (a
    /// rollout under way, or a stale instance).
    pub fn stale(&self) -> impl Iterator<Item = &Instance> {
        self.running
            .iter()
            .filter(|i| i.shared_lib_version != self.locked)
    }
}

/// Where Kellnr serves the docs of `krate` `version`, relative to the
/// registry's origin.
pub fn docs_path(krate: &str, version: &Version) -> String {
    format!(
        "/docs/{krate}/{version}/doc/{}/index.html",
        krate.replace('-', "_")
    )
}

/// A service that depends on a shared crate, as its own files say.
#[derive(Debug, Clone)]
pub struct Dependent<'a> {
    /// The service.
    pub service: &'a crate::manifest::Service,
    /// Its requirement (Cargo.toml).
    pub req: VersionReq,
    /// What its Cargo.lock holds.
    pub pin: lock::Pin,
}

/// What the project in `dir` requires of `krate` (its Cargo.toml) and locks
/// (its Cargo.lock), `None` when it does not depend on it (a dependency
/// without the fleet's registry is an error, see [`lock::dependency`]). The
/// lock's source is named as `fleet.toml` declares the registry, which
/// advisories name: a lock made against the registry where this run reads
/// it (`CARGO_REGISTRIES_<NAME>_INDEX`) names that URL, and it is the
/// fleet's registry all the same.
pub fn dependency_of(
    ws: &Workspace,
    dir: &Path,
    krate: &str,
) -> Result<Option<(VersionReq, lock::Pin)>> {
    let Some(req) = lock::dependency(dir, krate, &ws.registry.name)? else {
        return Ok(None);
    };
    let mut pin = lock::pin(dir, krate)?;
    if advisories::same_source(&pin.source, &ws.registry.index) {
        pin.source.clone_from(&ws.manifest.registry.index);
    }
    Ok(Some((req, pin)))
}

/// Every service of `ws` that depends on `krate`, with its requirement and
/// lock entry ([`dependency_of`]).
pub fn dependents<'a>(ws: &'a Workspace, krate: &str) -> Result<Vec<Dependent<'a>>> {
    let mut found = Vec::new();
    for service in &ws.manifest.services {
        if let Some((req, pin)) = dependency_of(ws, &ws.service_dir(service)?, krate)? {
            found.push(Dependent { service, req, pin });
        }
    }
    Ok(found)
}

/// What the registry and the team's advisories say of one shared crate:
/// read once, then applied to each service's pin with [`Against::row`].
#[derive(Debug, Clone)]
pub struct Against {
    krate: String,
    published: Vec<Published>,
    newest: Option<Version>,
    advisories: Vec<Advisory>,
    origin: String,
}

impl Against {
    /// The registry's versions of `krate` and the team's advisories.
    pub fn read(ws: &Workspace, krate: &str) -> Result<Against> {
        let published = index::published(&ws.registry, krate)?;
        let newest = published
            .iter()
            .filter(|p| !p.yanked)
            .map(|p| p.version.clone())
            .max();
        Ok(Against {
            krate: krate.to_string(),
            published,
            newest,
            advisories: ws.advisories()?,
            origin: ws.registry.origin(),
        })
    }

    /// Where `service`, requiring `req` and locking `pin` (as
    /// [`dependency_of`] reads it), stands.
    pub fn row(&self, service: &str, req: &VersionReq, pin: &lock::Pin) -> Row {
        let krate = self.krate.as_str();
        let advised: Vec<Advised> =
            advisories::affecting(&self.advisories, krate, &pin.source, &pin.version)
                .into_iter()
                .map(Advised::from)
                .collect();
        let verdict = if advised.is_empty() {
            verdict(req, &pin.version, &self.published)
        } else {
            Verdict::PinsAdvisedVersion
        };
        Row {
            service: service.to_string(),
            shared: krate.to_string(),
            requirement: req.to_string(),
            locked: pin.version.to_string(),
            newest: self.newest.as_ref().map(ToString::to_string),
            verdict,
            docs_url: format!("{}{}", self.origin, docs_path(krate, &pin.version)),
            running: Vec::new(),
            advisories: advised,
        }
    }
}

/// The status against the registry of every service of `ws` that depends
/// on the shared crate `shared`.
pub fn status(ws: &Workspace, shared: &Shared) -> Result<Vec<Row>> {
    let against = Against::read(ws, &shared.name)?;
    Ok(dependents(ws, &shared.name)?
        .into_iter()
        .map(|Dependent { service, req, pin }| against.row(&service.name, &req, &pin))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(list: &[(&str, bool)]) -> Vec<Published> {
        list.iter()
            .map(|(v, yanked)| Published {
                version: Version::parse(v).unwrap(),
                yanked: *yanked,
                checksum: String::new(),
            })
            .collect()
    }

    #[test]
    fn verdicts_cover_every_case() {
        let req = VersionReq::parse("0.1").unwrap();
        let locked = Version::parse("0.1.0").unwrap();
        let cases = [
            (vec![("0.1.0", false)], Verdict::UpToDate),
            (
                vec![("0.1.0", false), ("0.1.1", false)],
                Verdict::CompatibleUpdateAvailable,
            ),
            (
                vec![("0.1.0", false), ("0.2.0", false)],
                Verdict::NeedsBreakingBump,
            ),
            (
                vec![("0.1.0", false), ("0.1.1", false), ("0.2.0", false)],
                Verdict::CompatibleUpdateAvailable,
            ),
            (vec![("0.1.0", false), ("0.1.1", true)], Verdict::UpToDate),
            (
                vec![("0.1.0", true), ("0.1.1", false)],
                Verdict::PinsYankedVersion,
            ),
            (vec![("0.2.0", false)], Verdict::NotPublished),
        ];
        for (list, expected) in cases {
            assert_eq!(
                verdict(&req, &locked, &published(&list)),
                expected,
                "{list:?}"
            );
        }
    }
}
