//! `cargo fleet status [--json]`: which version of each shared crate every
//! service requires and locks, the newest published, and a verdict
//! ([`crate::pins`]). Services in repositories of their own are read from
//! their checkouts, the team's advisories from its database
//! ([`crate::advisories`]). Exit 1 when a service pins an advised, yanked or
//! unpublished version.

use anyhow::Result;

use crate::error::problem;
use crate::pins::{Row, Verdict, status};
use crate::table::{Column, Table};
use crate::workspace::Workspace;

/// The rows of every shared crate (or of `krate` alone).
pub fn rows(ws: &Workspace, krate: Option<&str>) -> Result<Vec<Row>> {
    let shared = match krate {
        Some(name) => vec![ws.manifest.shared(Some(name))?.clone()],
        None => ws.manifest.shared.clone(),
    };
    let mut rows = Vec::new();
    for shared in &shared {
        rows.extend(status(ws, shared)?);
    }
    Ok(rows)
}

/// The rows as an aligned text table (a `shared` column when the fleet has
/// several shared crates), then where each locked version's docs are.
pub fn render(rows: &[Row]) -> String {
    let w = name_width(rows);
    let several = rows.iter().any(|r| r.shared != rows[0].shared);
    let mut columns = vec![Column::left("service", 14)];
    if several {
        columns.push(Column::left("shared", 14));
    }
    columns.extend([
        Column::left("requirement", 12),
        Column::left("locked", 8),
        Column::left("newest", 8),
        Column::left("verdict", 0),
    ]);
    let mut table = Table::new(&columns);
    for r in rows {
        let mut cells = vec![r.service.clone()];
        if several {
            cells.push(r.shared.clone());
        }
        cells.extend([
            r.requirement.clone(),
            r.locked.clone(),
            r.newest.clone().unwrap_or_else(|| "-".into()),
            r.verdict.as_text().to_string(),
        ]);
        table.row(cells);
        for a in &r.advisories {
            table.note(format!("{}: {} (move to {})", a.id, a.title, a.patched));
        }
    }
    let mut out = table.render();
    out.push_str("docs (sign in to the registry's web UI first):\n");
    for r in rows {
        out.push_str(&format!("  {:<w$} {}\n", r.service, r.docs_url));
    }
    out
}

/// The width of the service names' column: the longest, at least 14.
pub fn name_width(rows: &[Row]) -> usize {
    rows.iter()
        .map(|r| r.service.len())
        .max()
        .unwrap_or(0)
        .max(14)
}

/// An error of kind "problem" naming every service that pins a yanked or
/// unpublished version, if any.
pub fn problems(rows: &[Row]) -> Result<()> {
    let bad: Vec<String> = rows
        .iter()
        .filter(|r| {
            matches!(
                r.verdict,
                Verdict::PinsAdvisedVersion | Verdict::PinsYankedVersion | Verdict::NotPublished
            )
        })
        .map(|r| {
            let why = if r.advisories.is_empty() {
                r.verdict.as_text().to_string()
            } else {
                r.advisories
                    .iter()
                    .map(|a| format!("{} {}, move to {}", a.id, a.title, a.patched))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            format!("{} ({} {}: {why})", r.service, r.shared, r.locked)
        })
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(problem(format!(
        "{} must move: {}; `cargo fleet bump <service> --execute` moves one to the newest version",
        if bad.len() == 1 {
            "a service"
        } else {
            "services"
        },
        bad.join(", ")
    )))
}

/// Runs `status`.
pub fn run(ws: &Workspace, krate: Option<&str>, json: bool) -> Result<()> {
    let rows = rows(ws, krate)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", render(&rows));
    }
    problems(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(service: &str, verdict: Verdict) -> Row {
        Row {
            service: service.into(),
            shared: "shared-lib".into(),
            requirement: "^0.1".into(),
            locked: "0.1.0".into(),
            newest: Some("0.2.0".into()),
            verdict,
            docs_url: "http://127.0.0.1:8000/docs/shared-lib/0.1.0/doc/shared_lib/index.html"
                .into(),
            running: Vec::new(),
            advisories: Vec::new(),
        }
    }

    #[test]
    fn the_table_is_aligned_and_a_yank_is_a_problem() {
        let rows = vec![
            row("billing-service", Verdict::NeedsBreakingBump),
            row("user-service", Verdict::PinsYankedVersion),
        ];
        let text = render(&rows);
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .ends_with("needs a breaking bump"),
            "{text}"
        );
        assert!(
            text.contains("user-service    ^0.1         0.1.0    0.2.0    pins a yanked version"),
            "{text}"
        );
        let err = problems(&rows).unwrap_err();
        assert_eq!(crate::error::Kind::of(&err), crate::error::Kind::Problem);
        assert!(
            format!("{err}").contains("user-service (shared-lib 0.1.0: pins a yanked version)")
        );
        assert!(problems(&rows[..1]).is_ok());
        let json = serde_json::to_value(&rows).unwrap();
        assert_eq!(json[0]["verdict"], "needs_breaking_bump");
    }
}
