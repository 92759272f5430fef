//! Every shared-lib version the repository's projects pin, present in the
//! registry: what a fresh clone needs before anything builds.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use semver::Version;

use super::registry::fleet_registry;
use crate::history::{self, SHARED_LIB, Verify};
use crate::index;
use crate::ops::http;
use crate::ops::registry::Kellnr;
use crate::paths::{self, Layout};

/// One version [`publish_pinned`] published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The version.
    pub version: Version,
    /// The commit it was published from.
    pub commit: String,
}

/// Whether [`publish_pinned`] also makes sure each pinned version's docs
/// are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Docs {
    /// Build and upload the docs of every pinned version that has none.
    Ensure,
    /// Leave docs alone (throwaway registries in tests).
    Skip,
}

/// What [`publish_pinned`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinnedReport {
    /// Versions it published.
    pub replayed: Vec<Replayed>,
    /// Versions whose docs it built and uploaded.
    pub documented: Vec<Version>,
    /// Every version a service pins.
    pub pinned: Vec<Version>,
}

/// Publishes every shared-lib version a service (or one of
/// [`paths::OTHER_CONSUMERS`]) pins that `registry` lacks, from git history, then
/// checks that the registry's checksums are the ones the lockfiles
/// recorded, and (with [`Docs::Ensure`]) that each pinned version's docs
/// are served.
pub fn publish_pinned(layout: &Layout, registry: &Kellnr, docs: Docs) -> Result<PinnedReport> {
    let fleet = layout.fleet()?;
    let mut consumers = fleet.names();
    // A checkout without the benchmark (a team's copy) has nothing more to publish.
    consumers.extend(
        paths::OTHER_CONSUMERS
            .iter()
            .filter(|p| layout.project(p).join("Cargo.lock").is_file()),
    );
    let pins = history::pins(layout, &consumers)?;
    let expected_source = fleet_registry(layout).index_url();
    for (service, pin) in &pins {
        if pin.source != expected_source {
            bail!(
                "{service}/Cargo.lock takes {SHARED_LIB} from {}, not from the fleet registry \
                 {expected_source}; depend on it with `registry = \"local\"` and run `cargo update -p {SHARED_LIB}` there",
                pin.source
            );
        }
    }
    let needed: BTreeSet<Version> = pins.values().map(|p| p.version.clone()).collect();
    let before = index::published(&registry.client(), SHARED_LIB)?;
    let have: BTreeSet<Version> = before.iter().map(|p| p.version.clone()).collect();
    let missing: Vec<Version> = needed.difference(&have).cloned().collect();
    let mut replayed = Vec::new();
    let releases = if missing.is_empty() && docs == Docs::Skip {
        Vec::new()
    } else {
        history::releases(&layout.root)?
    };
    for version in &missing {
        let release = releases
            .iter()
            .find(|r| &r.version == version)
            .with_context(|| {
                format!(
                    "a service pins {SHARED_LIB} {version}, but no commit of shared-lib/Cargo.toml \
                 has that version; the history is incomplete (`git fetch --unshallow`) or the \
                 lockfile names a version never released from this repository"
                )
            })?;
        history::publish_release(layout, registry, release, Verify::Skip)?;
        replayed.push(Replayed {
            version: version.clone(),
            commit: release.commit.clone(),
        });
    }
    // The index is read again only when this call published something.
    let published = if replayed.is_empty() {
        before
    } else {
        index::published(&registry.client(), SHARED_LIB)?
    };
    for (service, pin) in &pins {
        let entry = published.iter().find(|p| p.version == pin.version);
        match (entry, &pin.checksum) {
            (Some(p), Some(sum)) if &p.checksum != sum => bail!(
                "the registry's {SHARED_LIB} {} has checksum {} but {service}/Cargo.lock expects {sum}: \
                 the registry holds a different build of that version. Reset the registry \
                 (`cargo xtask down`, delete registry/data, `cargo xtask up`)",
                pin.version,
                p.checksum
            ),
            (None, _) => bail!(
                "{SHARED_LIB} {} is still missing from the registry",
                pin.version
            ),
            _ => {}
        }
    }
    let mut documented = Vec::new();
    if docs == Docs::Ensure {
        let session = registry.reader_session()?;
        for version in &needed {
            let url = format!("{}{}", registry.base_url(), history::docs_path(version));
            if http::answers_ok(&session, &url) {
                continue;
            }
            let release = releases
                .iter()
                .find(|r| &r.version == version)
                .with_context(|| format!("{SHARED_LIB} {version} is not in git history"))?;
            history::publish_docs(layout, registry, release)?;
            documented.push(version.clone());
        }
    }
    Ok(PinnedReport {
        replayed,
        documented,
        pinned: needed.into_iter().collect(),
    })
}
