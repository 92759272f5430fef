//! Step 2: the consumer check as a gate.

use anyhow::{Context, Result, bail};
use semver::Version;

use crate::consumers as check_consumers;
use crate::history::SHARED_LIB;
use crate::ops::registry::Kellnr;
use crate::paths::Layout;

/// Builds and tests every service against the candidate `next`. Refuses
/// when a service whose requirement accepts it fails, unless that service
/// is named in `allow_break` and the CHANGELOG's Unreleased section says
/// it breaks.
pub fn consumer_gate(
    layout: &Layout,
    registry: &Kellnr,
    next: &Version,
    allow_break: &[String],
) -> Result<()> {
    let fleet = layout.fleet()?;
    for name in allow_break {
        fleet.service(name)?;
    }
    println!("consumer check: every service against {SHARED_LIB} {next}");
    let report = check_consumers::check(layout, registry, next, &mut |line| println!("  {line}"))?;
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
            check_consumers::broken_message(&refused, next),
            report.markdown.display()
        );
    }
    if !broken.is_empty() {
        let changelog = std::fs::read_to_string(layout.project(SHARED_LIB).join("CHANGELOG.md"))
            .context("cannot read shared-lib/CHANGELOG.md")?;
        let unreleased = unreleased_section(&changelog);
        for o in &broken {
            if !unreleased.contains(&o.service) {
                bail!(
                    "--allow-break {0}: the CHANGELOG's Unreleased section must say that this release breaks {0} (a line such as `- ... (breaks {0}: ...)`); add it, commit, and run the release again",
                    o.service
                );
            }
        }
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
