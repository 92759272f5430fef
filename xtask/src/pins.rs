//! Where each service of the fleet stands against the registry: the
//! shared-lib it requires (Cargo.toml) and locks (Cargo.lock), the newest
//! published, and a verdict. `status` prints it; `renovate` prints it
//! beside Renovate's proposals.

use anyhow::Result;
use semver::{Version, VersionReq};
use serde::Serialize;

use crate::history::requirement;
use crate::history::{self, SHARED_LIB};
use crate::index::{self, Published};
use crate::ops::registry::Kellnr;
use crate::paths::Layout;

/// Where a service stands against the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It locks the newest published version.
    UpToDate,
    /// A newer version matches its requirement: `cargo update` takes it.
    CompatibleUpdateAvailable,
    /// Newer versions exist only outside its requirement: its owners must
    /// change the requirement (`cargo xtask bump`).
    NeedsBreakingBump,
    /// The locked version was yanked.
    PinsYankedVersion,
    /// The locked version is not in the registry (`cargo xtask up` publishes it).
    NotPublished,
}

impl Verdict {
    /// How the table says it.
    pub fn as_text(self) -> &'static str {
        match self {
            Verdict::UpToDate => "up to date",
            Verdict::CompatibleUpdateAvailable => "compatible update available",
            Verdict::NeedsBreakingBump => "needs a breaking bump",
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

/// One row of `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The service.
    pub service: String,
    /// Its shared-lib requirement in Cargo.toml, e.g. `0.1`.
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
    /// Its running instances and the shared-lib each runs (filled by
    /// `status` from [`crate::running`]; empty when none answers).
    pub running: Vec<crate::running::Instance>,
}

impl Row {
    /// The running instances whose shared-lib is not the locked one (a
    /// rollout under way, or a stale instance).
    pub fn stale(&self) -> impl Iterator<Item = &crate::running::Instance> {
        self.running
            .iter()
            .filter(|i| i.shared_lib_version != self.locked)
    }
}

/// The status of every service against `registry`.
pub fn status(layout: &Layout, registry: &Kellnr) -> Result<Vec<Row>> {
    let published = index::published(registry, SHARED_LIB)?;
    let newest = published
        .iter()
        .filter(|p| !p.yanked)
        .map(|p| p.version.clone())
        .max();
    layout
        .fleet()?
        .names()
        .into_iter()
        .map(|service| {
            let dir = layout.project(service);
            let req = requirement(&dir)?;
            let pin = history::pin(&dir)?;
            Ok(Row {
                service: service.to_string(),
                requirement: req.to_string(),
                locked: pin.version.to_string(),
                newest: newest.as_ref().map(ToString::to_string),
                verdict: verdict(&req, &pin.version, &published),
                docs_url: format!(
                    "{}{}",
                    registry.base_url(),
                    history::docs_path(&pin.version)
                ),
                running: Vec::new(),
            })
        })
        .collect()
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
