//! `cargo xtask status [--json]`: which shared-lib each service of the
//! fleet requires and locks, the newest published, and a verdict.
//!
//! Requirements come from each service's Cargo.toml, locked versions from
//! its Cargo.lock (cargo-lock), published versions from the registry's
//! sparse index (crates-index). Manifests and lockfiles are only ever
//! changed through cargo itself (`cargo add`, `cargo update --precise`).

use anyhow::Result;

use crate::paths::Layout;
pub use crate::pins::{Row, Verdict, status, verdict};

/// The rows as an aligned text table.
pub fn render(rows: &[Row]) -> String {
    let w = rows
        .iter()
        .map(|r| r.service.len())
        .max()
        .unwrap_or(0)
        .max(14);
    let mut out = format!(
        "{:<w$} {:<12} {:<8} {:<8} {}\n",
        "service", "requirement", "locked", "newest", "verdict"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<w$} {:<12} {:<8} {:<8} {}\n",
            r.service,
            r.requirement,
            r.locked,
            r.newest.as_deref().unwrap_or("-"),
            r.verdict.as_text()
        ));
    }
    out.push_str("docs (sign in to the registry's web UI first):\n");
    for r in rows {
        out.push_str(&format!("  {:<w$} {}\n", r.service, r.docs_url));
    }
    out
}

/// Runs `status`.
pub fn run(layout: &Layout, json: bool) -> Result<()> {
    let (registry, _) = super::registry(layout)?;
    let rows = status(layout, &registry)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", render(&rows));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_aligned_and_names_every_verdict() {
        let rows = vec![Row {
            service: "billing-service".into(),
            requirement: "^0.1".into(),
            locked: "0.1.0".into(),
            newest: Some("0.2.0".into()),
            verdict: Verdict::NeedsBreakingBump,
            docs_url: "http://127.0.0.1:8000/docs/shared-lib/0.1.0/doc/shared_lib/index.html"
                .into(),
        }];
        let text = render(&rows);
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .ends_with("needs a breaking bump"),
            "{text}"
        );
        let json = serde_json::to_value(&rows).unwrap();
        assert_eq!(json[0]["verdict"], "needs_breaking_bump");
    }
}
