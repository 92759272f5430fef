//! The subcommands, one module each; each is the only code that prints
//! for its command. They return errors instead of exiting; `main` turns an
//! error into one line on stderr and a non-zero exit code.

pub mod bench;
pub mod bump;
pub mod check_consumers;
pub mod down;
pub mod new_service;
pub mod publish;
pub mod release;
pub mod status;
pub mod test;
pub mod up;

use anyhow::Result;

use crate::fleet::{self, RegistryStart};
use crate::history::SHARED_LIB;
use crate::ops::registry::Kellnr;
use crate::ops::tools::KELLNR;
use crate::paths::Layout;

/// The fleet's registry, started when none answers, reported in one line.
fn registry(layout: &Layout) -> Result<(Kellnr, RegistryStart)> {
    let (kellnr, start) = fleet::ensure_registry(layout)?;
    match &start {
        RegistryStart::AlreadyRunning(pid) => {
            eprintln!(
                "registry: already running at {} (pid {pid})",
                kellnr.base_url()
            )
        }
        RegistryStart::Foreign => eprintln!(
            "registry: a Kellnr already answers at {} (not started from this checkout); using it",
            kellnr.base_url()
        ),
        RegistryStart::Started(pid) => eprintln!(
            "registry: started Kellnr {} at {} (pid {pid}, data in {}, log {})",
            KELLNR.version,
            kellnr.base_url(),
            kellnr.data_dir.display(),
            kellnr.log.display()
        ),
    }
    Ok((kellnr, start))
}

/// Publishes every pinned shared-lib version `registry` lacks, reporting
/// each; whether it published any.
fn publish_pinned(layout: &Layout, registry: &Kellnr) -> Result<bool> {
    let report = fleet::publish_pinned(layout, registry, fleet::Docs::Ensure)?;
    let (replayed, pinned) = (&report.replayed, &report.pinned);
    for r in replayed {
        eprintln!(
            "registry: published {SHARED_LIB} {} from commit {}",
            r.version,
            &r.commit[..12]
        );
    }
    if replayed.is_empty() {
        let listed: Vec<String> = pinned.iter().map(ToString::to_string).collect();
        eprintln!(
            "registry: already holds every pinned {SHARED_LIB} version ({})",
            listed.join(", ")
        );
    }
    for version in &report.documented {
        eprintln!(
            "registry: built and uploaded the docs of {SHARED_LIB} {version} ({}{})",
            registry.base_url(),
            crate::history::docs_path(version)
        );
    }
    Ok(!replayed.is_empty() || !report.documented.is_empty())
}
