//! `cargo xtask status [--json]`: `cargo fleet status` on this checkout's
//! registry (started first when it does not answer), followed by the
//! shared-lib every running instance runs ([`crate::running`]: the fleet's
//! Prometheus, else each service's `GET /`), which only the harness knows
//! how to find.

use anyhow::Result;
use cargo_fleet::commands::status as fleet_status;

use crate::paths::Layout;
pub use crate::pins::{Row, Verdict, status, verdict};
use crate::running::{self, Source};

/// What runs, read from `source`, beside each service's locked version.
pub fn render_running(rows: &[Row], source: &Source) -> String {
    let w = fleet_status::name_width(rows);
    let mut out = match source {
        Source::Prometheus(url) => format!("running (build_info through Prometheus at {url}):\n"),
        Source::ServiceInfo => {
            "running (each service's GET / on its port; the fleet's Prometheus does not answer):\n"
                .to_string()
        }
    };
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

/// Runs `status`: exit 1 when a service pins a yanked or unpublished
/// version, as `cargo fleet status` does.
pub fn run(layout: &Layout, json: bool) -> Result<()> {
    let (registry, _) = super::registry(layout)?;
    let ws = layout.workspace(&registry)?;
    let mut rows = fleet_status::rows(&ws, None)?;
    let (mut found, source) = running::instances(&layout.fleet()?, &running::fleet_prometheus());
    for row in &mut rows {
        row.running = found.remove(&row.service).unwrap_or_default();
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!(
            "{}{}",
            fleet_status::render(&rows),
            render_running(&rows, &source)
        );
    }
    fleet_status::problems(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_instance_is_shown_beside_the_locked_version() {
        let rows = vec![Row {
            service: "billing-service".into(),
            shared: "shared-lib".into(),
            requirement: "^0.1".into(),
            locked: "0.1.0".into(),
            newest: Some("0.2.0".into()),
            verdict: Verdict::NeedsBreakingBump,
            docs_url: String::new(),
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
            advisories: Vec::new(),
        }];
        let text = render_running(&rows, &Source::Prometheus("http://127.0.0.1:9090".into()));
        assert!(
            text.contains("  billing-service 10.0.0.5:8083         shared-lib 0.1.0\n"),
            "{text}"
        );
        assert!(
            text.contains("10.0.0.6:8083         shared-lib 0.2.0  <- its Cargo.lock holds 0.1.0"),
            "{text}"
        );
        assert_eq!(rows[0].stale().count(), 1);
    }
}
