//! `cargo fleet audit [DIR]`: one project's own gate, for its tests and
//! its CI. Its Cargo.toml must name every shared crate of the fleet with the
//! fleet's registry (else cargo could take a crate of that name from
//! crates.io), and its Cargo.lock must lock no version that an advisory of
//! the team's database names, that was yanked, or that the registry lacks.
//! It reads the project's files as they stand (a service in a repository of
//! its own is audited from its own checkout, with `--manifest-path` or
//! `CARGO_FLEET_MANIFEST` naming the fleet). Exit 1 with one line naming
//! each advisory, its reason and the version to move to.

use std::path::Path;

use anyhow::Result;

use crate::commands::status;
use crate::lock;
use crate::pins::{self, Against};
use crate::workspace::Workspace;

/// Runs `audit` on the project in `dir`.
pub fn run(ws: &Workspace, dir: &Path) -> Result<()> {
    let name = lock::package_name(dir)?;
    let mut rows = Vec::new();
    let mut patched = false;
    for shared in &ws.manifest.shared {
        let Some((req, pin)) = pins::dependency_of(ws, dir, &shared.name)? else {
            continue;
        };
        if pin.source == "path" {
            // `[patch]` took it from a directory: a candidate under test
            // (the consumer check's copies), not a pin of the registry.
            println!(
                "{name}: {} {} is patched in from a path (a candidate under test); \
                 the registry and the advisories judge the version it will lock once published",
                shared.name, pin.version
            );
            patched = true;
            continue;
        }
        rows.push(Against::read(ws, &shared.name)?.row(&name, &req, &pin));
    }
    if rows.is_empty() {
        if !patched {
            println!(
                "{name} depends on none of the fleet's shared crates ({})",
                ws.manifest
                    .shared
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        return Ok(());
    }
    print!("{}", status::render(&rows));
    status::problems(&rows)
}
