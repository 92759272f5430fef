//! Step 2: the consumer check as a gate.

use anyhow::{Context, Result, bail};
use semver::Version;

use crate::consumers as check_consumers;
use crate::history::SHARED_LIB;
use crate::ops::registry::Kellnr;
use crate::paths::Layout;

/// Checks `--allow-break` before any build: each name is a service of
/// the fleet, and the CHANGELOG's Unreleased section names it (a line
/// such as `- ... (breaks order-service: ...)`). A release that breaks a
/// service on purpose says so where its users read.
pub fn declared_breaks(layout: &Layout, allow_break: &[String]) -> Result<()> {
    if allow_break.is_empty() {
        return Ok(());
    }
    let fleet = layout.fleet()?;
    for name in allow_break {
        fleet.service(name)?;
    }
    let changelog = std::fs::read_to_string(layout.project(SHARED_LIB).join("CHANGELOG.md"))
        .context("cannot read shared-lib/CHANGELOG.md")?;
    let unreleased = unreleased_section(&changelog);
    for name in allow_break {
        if !unreleased.contains(name.as_str()) {
            bail!(
                "--allow-break {name}: the CHANGELOG's Unreleased section must say that this release breaks {name} (a line such as `- ... (breaks {name}: ...)`); add it, commit, and run the release again"
            );
        }
    }
    Ok(())
}

/// Builds and tests every service against the candidate `next`. Refuses
/// when a service whose requirement accepts it fails, unless that service
/// is named in `allow_break` (checked by [`declared_breaks`] first).
pub fn consumer_gate(
    layout: &Layout,
    registry: &Kellnr,
    next: &Version,
    allow_break: &[String],
) -> Result<()> {
    println!("consumer check: every service against {SHARED_LIB} {next}");
    let ws = layout.workspace(registry)?;
    let shared = ws.manifest.shared(Some(SHARED_LIB))?;
    let report = check_consumers::check(&ws, shared, next, &mut |line| println!("  {line}"))?;
    print!("{}", check_consumers::render(&report));
    let broken = report.broken();
    let refused: Vec<&check_consumers::Outcome> = broken
        .iter()
        .copied()
        .filter(|o| !allow_break.contains(&o.service))
        .collect();
    if !refused.is_empty() {
        bail!(
            "refused: {}. Logs: {}. To break it on purpose, pass --allow-break <service> and say so in {SHARED_LIB}/CHANGELOG.md",
            check_consumers::broken_message(&refused, SHARED_LIB, next),
            report.markdown.display()
        );
    }
    if !broken.is_empty() {
        println!(
            "consumer check: releasing although it breaks {} (--allow-break, named in the CHANGELOG)",
            broken
                .iter()
                .map(|o| o.service.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// The text of the CHANGELOG's Unreleased section.
pub fn unreleased_section(changelog: &str) -> &str {
    let Some(start) = changelog.find("## [Unreleased]") else {
        return "";
    };
    let rest = &changelog[start + 3..];
    let end = rest.find("\n## [").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}
