//! `cargo xtask status [--json]`: which shared-lib each service of the
//! fleet requires and locks, the newest published, a verdict, and the
//! shared-lib every running instance runs ([`crate::running`]: the
//! fleet's Prometheus, else each service's `GET /`).
//!
//! Requirements come from each service's Cargo.toml, locked versions from
//! its Cargo.lock (cargo-lock), published versions from the registry's
//! sparse index (crates-index). Manifests and lockfiles are only ever
//! changed through cargo itself (`cargo add`, `cargo update --precise`).

use anyhow::Result;

use crate::paths::Layout;
pub use crate::pins::{Row, Verdict, status, verdict};
use crate::running::{self, Source};

/// The rows as an aligned text table, then what runs (read from `source`).
pub fn render(rows: &[Row], source: &Source) -> String {
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
    match source {
        Source::Prometheus(url) => {
            out.push_str(&format!(
                "running (build_info through Prometheus at {url}):\n"
            ));
        }
        Source::ServiceInfo => out.push_str(
            "running (each service's GET / on its port; the fleet's Prometheus does not answer):\n",
        ),
    }
    for r in rows {
        if r.running.is_empty() {
            out.push_str(&format!("  {:<w$} no instance answers\n", r.service));
        }
        for i in &r.running {
            let note = if i.shared_lib_version == r.locked {
                String::new()
            } else {
                format!(
                    "  <- its Cargo.lock holds {}: a rollout under way, or a stale instance",
                    r.locked
                )
            };
            out.push_str(&format!(
                "  {:<w$} {:<21} shared-lib {}{note}\n",
                r.service, i.instance, i.shared_lib_version
            ));
        }
    }
    out
}

/// Runs `status`.
pub fn run(layout: &Layout, json: bool) -> Result<()> {
    let (registry, _) = super::registry(layout)?;
    let mut rows = status(layout, &registry)?;
    let (mut found, source) = running::instances(&layout.fleet()?, &running::fleet_prometheus());
    for row in &mut rows {
        row.running = found.remove(&row.service).unwrap_or_default();
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", render(&rows, &source));
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
            running: vec![
                running::Instance {
                    instance: "10.0.0.5:8083".into(),
                    shared_lib_version: "0.1.0".into(),
                },
                running::Instance {
                    instance: "10.0.0.6:8083".into(),
                    shared_lib_version: "0.2.0".into(),
                },
            ],
        }];
        let text = render(&rows, &Source::Prometheus("http://127.0.0.1:9090".into()));
        assert!(
            text.contains("  billing-service 10.0.0.5:8083         shared-lib 0.1.0\n"),
            "{text}"
        );
        assert!(
            text.contains("10.0.0.6:8083         shared-lib 0.2.0  <- its Cargo.lock holds 0.1.0"),
            "{text}"
        );
        assert_eq!(rows[0].stale().count(), 1);
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
