//! `cargo xtask fleet-bench [--sizes 2,5,10,20] [--runs N]`: what the
//! everyday commands cost as the fleet grows ([`crate::growth`]). Prints
//! the table; writes every run as JSON to `bench-results/`, the plot to
//! `docs/fleet-growth.svg` and the table into `docs/benchmarks.md` between its
//! `fleet-growth` markers.

use std::path::Path;

use anyhow::{Context, Result};

use crate::growth;
use crate::paths::Layout;

/// The markers around the generated table in `docs/benchmarks.md`.
pub const BEGIN: &str = "<!-- fleet-growth: begin (written by `cargo xtask fleet-bench`) -->";
/// The closing marker.
pub const END: &str = "<!-- fleet-growth: end -->";

/// Runs `fleet-bench`.
pub fn run(layout: &Layout, sizes: &[usize], runs: u32) -> Result<()> {
    let (registry, _) = super::registry(layout)?;
    super::publish_pinned(layout, &registry)?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let json = layout
        .root
        .join("bench-results")
        .join(format!("fleet-growth-{stamp}.json"));
    let plot = layout.root.join("docs/fleet-growth.svg");
    let report = growth::run(
        layout,
        registry.port,
        sizes,
        runs,
        &mut |line| eprintln!("{line}"),
        &mut |report| write(layout, report, &json, &plot),
    )?;
    print!("{}", growth::table(&report));
    println!(
        "runs: {}; plot: {}; table written into {PAGE}",
        json.display(),
        plot.display()
    );
    Ok(())
}

/// The docs page the table is written into, between [`BEGIN`] and [`END`].
const PAGE: &str = "docs/benchmarks.md";

/// Writes what is measured so far: every run as JSON, the plot, the table
/// into [`PAGE`].
fn write(layout: &Layout, report: &growth::Report, json: &Path, plot: &Path) -> Result<()> {
    for file in [json, plot] {
        std::fs::create_dir_all(file.parent().context("a parent")?)?;
    }
    std::fs::write(json, serde_json::to_string_pretty(report)?)?;
    std::fs::write(plot, growth::svg(report))?;
    let table = growth::table(report);
    let page = layout.root.join(PAGE);
    let text = std::fs::read_to_string(&page)?;
    // The plot sits beside the page, in docs/.
    let updated = replace_between(
        &text,
        &format!("{table}\n![the table as a plot](fleet-growth.svg)\n"),
    )
    .with_context(|| {
        format!("{PAGE} has no `{BEGIN}` ... `{END}` block to write the table into")
    })?;
    std::fs::write(&page, updated)?;
    Ok(())
}

/// `text` with what lies between [`BEGIN`] and [`END`] replaced by `body`.
pub fn replace_between(text: &str, body: &str) -> Option<String> {
    let start = text.find(BEGIN)? + BEGIN.len();
    let end = start + text[start..].find(END)?;
    Some(format!("{}\n{body}{}", &text[..start], &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_goes_between_the_markers_and_nowhere_else() {
        let text = format!("a\n{BEGIN}\nold\n{END}\nb\n");
        assert_eq!(
            replace_between(&text, "new\n").unwrap(),
            format!("a\n{BEGIN}\nnew\n{END}\nb\n")
        );
        assert!(replace_between("no markers", "x").is_none());
    }
}
