//! Every service of `fleet.toml` keeps the template's shape, so a test (not
//! a reviewer) notices drift: the template's files are all there, its test
//! helpers (`tests/common`) exist under the same names, and `main.rs` is
//! the template's, word for word.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use std::collections::BTreeSet;
use std::path::Path;

use xtask::paths::Layout;

/// The names a helper module makes public: functions, methods, types, and
/// what it re-exports (`pub use a::{b, c};`).
fn public_names(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let reexported = text.lines().filter_map(|line| {
        let used = line.trim_start().strip_prefix("pub use ")?;
        let names = match used.split_once('{') {
            Some((_, list)) => list.trim_end_matches([';', '}']).to_string(),
            None => used.rsplit("::").next()?.trim_end_matches(';').to_string(),
        };
        Some(names)
    });
    let reexported: Vec<String> = reexported
        .flat_map(|list| {
            list.split(',')
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
        })
        .collect();
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            ["pub async fn ", "pub fn ", "pub type ", "pub struct "]
                .iter()
                .find_map(|p| line.strip_prefix(p))
        })
        .map(|rest| {
            rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .chain(reexported)
        .collect()
}

#[test]
fn every_service_has_the_templates_files_helpers_and_main() {
    let layout = Layout::detect();
    let template = layout.root.join("templates/service");
    let files = xtask::ops::fs::files(&template, &["target", "vendor"]).unwrap();
    assert!(files.len() > 10, "the template has files: {files:?}");
    let helpers = public_names(&template.join("tests/common/mod.rs"));
    for expected in [
        "post_json",
        "error_code",
        "spawn_app",
        "shutdown",
        "state",
        "config",
    ] {
        assert!(
            helpers.contains(expected),
            "the template's tests/common has {expected}"
        );
    }
    let main = std::fs::read_to_string(template.join("src/main.rs")).unwrap();
    let mut drift = Vec::new();
    for service in &layout.fleet().unwrap().services {
        let name = &service.name;
        let dir = layout.project(name);
        for file in &files {
            // Migrations are named after each service's own tables: the
            // template's folder must be there, with migrations in it.
            if let Ok(rest) = file.strip_prefix("migrations") {
                let folder = dir.join("migrations").join(rest.parent().unwrap_or(rest));
                let has_sql = std::fs::read_dir(&folder).is_ok_and(|entries| {
                    entries
                        .flatten()
                        .any(|e| e.path().extension().is_some_and(|x| x == "sql"))
                });
                if !has_sql {
                    drift.push(format!("{name}: lacks migrations in {}", folder.display()));
                }
                continue;
            }
            if !dir.join(file).is_file() {
                drift.push(format!("{name}: lacks the template's {}", file.display()));
            }
        }
        let theirs = public_names(&dir.join("tests/common/mod.rs"));
        for helper in helpers.difference(&theirs) {
            drift.push(format!("{name}: tests/common has no `{helper}`"));
        }
        let expected = main
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{name}}", name);
        let actual = std::fs::read_to_string(dir.join("src/main.rs")).unwrap_or_default();
        if actual != expected {
            drift.push(format!(
                "{name}: src/main.rs differs from the template's (keep main thin; put the rest in lib.rs)"
            ));
        }
    }
    assert!(
        drift.is_empty(),
        "services drifted from templates/service:\n{}",
        drift.join("\n")
    );
}
