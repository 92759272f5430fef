//! Step 2: the consumer check as a gate.

use anyhow::{Context, Result};
use semver::Version;

use crate::consumers as check_consumers;
use crate::error::{problem, usage};
use crate::manifest::Shared;
use crate::workspace::Workspace;

/// Checks `--allow-break` before any build: each name is a service of
/// the fleet, and the CHANGELOG's Unreleased section names it (a line
/// such as `- ... (breaks order-service: ...)`). A release that breaks a
/// service on purpose says so where its users read.
pub fn declared_breaks(ws: &Workspace, shared: &Shared, allow_break: &[String]) -> Result<()> {
    if allow_break.is_empty() {
        return Ok(());
    }
    for name in allow_break {
        ws.manifest.service(name)?;
    }
    let path = ws.shared_dir(shared)?.join("CHANGELOG.md");
    let changelog = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let unreleased = unreleased_section(&changelog);
    for name in allow_break {
        if !unreleased.contains(name.as_str()) {
            return Err(usage(format!(
                "--allow-break {name}: the CHANGELOG's Unreleased section must say that this release breaks {name} (a line such as `- ... (breaks {name}: ...)`); add it, commit, and run the release again"
            )));
        }
    }
    Ok(())
}

/// Builds and tests every service against the candidate `next`. Refuses
/// when a service whose requirement accepts it fails, unless that service
/// is named in `allow_break` (checked by [`declared_breaks`] first).
pub fn consumer_gate(
    ws: &Workspace,
    shared: &Shared,
    next: &Version,
    allow_break: &[String],
) -> Result<()> {
    let krate = shared.name.as_str();
    println!("consumer check: every service against {krate} {next}");
    let report = check_consumers::check(ws, shared, next, &mut |line| println!("  {line}"))?;
    print!("{}", check_consumers::render(&report));
    let broken = report.broken();
    let refused: Vec<&check_consumers::Outcome> = broken
        .iter()
        .copied()
        .filter(|o| !allow_break.contains(&o.service))
        .collect();
    if !refused.is_empty() {
        return Err(problem(format!(
            "refused: {}. Logs: {}. To break it on purpose, pass --allow-break <service> and say so in {krate}'s CHANGELOG.md",
            check_consumers::broken_message(&refused, krate, next),
            report.markdown.display()
        )));
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
