//! The layering of xtask and of `cargo fleet`, as their `src/lib.rs` and
//! `src/ops/mod.rs` state it, checked on their own source rather than left
//! to a reviewer:
//! - no import loops between its modules (a module's `pub mod` lines do
//!   not count; its `pub use` re-exports do);
//! - no process started and no HTTP call made outside `src/ops/`: code
//!   elsewhere gets a `Command` from `ops` (`ops::run::program`, a tool's
//!   `command()`, `ops::cargo::cargo`), adds its arguments and hands it to
//!   `ops::run` or `ops::procs`.

#![allow(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is the failing assertion"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// This checkout's sources of `project`, found at run time (not where the
/// binary was compiled: checkouts sharing a build cache share test
/// binaries).
fn src_of(project: &str) -> PathBuf {
    xtask::paths::Layout::detect()
        .root
        .join(project)
        .join("src")
}

fn src_dir() -> PathBuf {
    src_of("xtask")
}

/// Every library source file (not the binary's `main.rs`) of the crate
/// whose sources are in `src`, with its module path (`fleet::pinned`; `""`
/// for `lib.rs`).
fn modules_of(src: &Path) -> BTreeMap<String, PathBuf> {
    let src = src.to_path_buf();
    let mut out = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path == src.join("main.rs") {
                continue;
            }
            let rel = path
                .strip_prefix(&src)
                .expect("under src")
                .with_extension("");
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            out.insert(parts.join("::"), path);
        }
    }
    out
}

/// The code of a file without its `#[cfg(test)]` module and comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source");
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("//") && !t.starts_with("pub mod ") && !t.starts_with("mod ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module paths a piece of code names (`crate::a::b::c`,
/// `super::x`), resolved to the longest one that is a module.
fn imports(module: &str, code: &str, all: &BTreeSet<String>) -> BTreeSet<String> {
    // `super` in module `a::b` (`a/b.rs`) is `a`; in module `a` (`a/mod.rs`), the root.
    let mut parent: Vec<&str> = module.split("::").filter(|p| !p.is_empty()).collect();
    parent.pop();
    let mut found = BTreeSet::new();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        for (i, _) in code.match_indices(prefix) {
            // Not part of a longer identifier (`xcrate::`).
            if code[..i]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            let rest = &code[i + prefix.len()..];
            let path: Vec<&str> = rest
                .split("::")
                .map(|seg| {
                    let end = seg
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .unwrap_or(seg.len());
                    &seg[..end]
                })
                .take_while(|seg| !seg.is_empty())
                .collect();
            let mut full: Vec<&str> = base.clone();
            full.extend(path);
            let target = (0..=full.len())
                .rev()
                .map(|n| full[..n].join("::"))
                .find(|candidate| all.contains(candidate))
                .unwrap_or_default();
            if target != module {
                found.insert(target);
            }
        }
    }
    // `use child::...` in a module names its own submodule.
    for line in code.lines() {
        let line = line.trim_start();
        let Some(rest) = line
            .strip_prefix("pub use ")
            .or_else(|| line.strip_prefix("use "))
        else {
            continue;
        };
        let first = rest.split("::").next().unwrap_or_default();
        let child = if module.is_empty() {
            first.to_string()
        } else {
            format!("{module}::{first}")
        };
        if all.contains(&child) {
            found.insert(child);
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    graph_of(&src_dir())
}

/// The import graph of the crate whose sources are in `src`.
fn graph_of(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules_of(src);
    let names: BTreeSet<String> = mods.keys().cloned().collect();
    mods.iter()
        .map(|(name, path)| (name.clone(), imports(name, &code(path), &names)))
        .collect()
}

/// One loop of `graph`, as the modules along it, if there is any.
fn find_loop(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_loop_finder_finds_a_loop() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        find_loop(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn xtask_has_no_import_loops() {
    let g = graph();
    // The scan sees real imports (else an empty map would pass).
    assert!(g["commands::release"].contains("history"), "{g:#?}");
    assert!(g["fleet::pinned"].contains("fleet::registry"), "{g:#?}");
    assert!(
        g["fleet"].contains("fleet::services"),
        "re-exports count: {g:#?}"
    );
    if let Some(cycle) = find_loop(&g) {
        panic!("import loop: {}", cycle.join(" -> "));
    }
    // Commands do not import each other (what two share sits in
    // `commands/mod.rs` or below).
    for (module, deps) in &g {
        if let Some(command) = module.strip_prefix("commands::") {
            let own = format!(
                "commands::{}",
                command.split("::").next().unwrap_or_default()
            );
            for dep in deps {
                assert!(
                    !dep.starts_with("commands::") || dep.starts_with(&own),
                    "{module} imports another command's module {dep}"
                );
            }
        }
    }
}

#[test]
fn cargo_fleet_has_no_import_loops() {
    let g = graph_of(&src_of("cargo-fleet"));
    assert!(g["consumers"].contains("workspace"), "{g:#?}");
    if let Some(cycle) = find_loop(&g) {
        panic!("import loop: {}", cycle.join(" -> "));
    }
}

#[test]
fn processes_and_http_are_only_started_in_ops() {
    let mut offenders = Vec::new();
    for src in [src_dir(), src_of("cargo-fleet")] {
        let ops = src.join("ops");
        for path in modules_of(&src).values() {
            if path.starts_with(&ops) {
                continue;
            }
            let code = code(path);
            for needle in [
                "Command::new",
                ".status()",
                ".output()",
                ".spawn()",
                "reqwest",
            ] {
                if code.contains(needle) {
                    offenders.push(format!("{} uses {needle}", path.display()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "start processes and make HTTP calls through ops/ (ops::run, ops::procs, ops::http, \
         ops::registry):\n{}",
        offenders.join("\n")
    );
}

/// shared-lib, every service of fleet.toml and the template: no import
/// loop between their modules either. A service's crate root (`lib.rs`)
/// is where it is assembled (`run`, `AppState`, `SERVICE`), which every
/// module may name and which names them all, so it is left out of a
/// service's graph; shared-lib's root is only `pub mod` lines and stays.
#[test]
fn the_shared_crate_and_every_service_have_no_import_loops() {
    let layout = xtask::paths::Layout::detect();
    let fleet = layout.fleet().unwrap();
    let crates = ["shared-lib".to_string(), "templates/service".to_string()]
        .into_iter()
        .chain(fleet.names().into_iter().map(String::from));
    for dir in crates {
        let mut g = graph_of(&layout.root.join(&dir).join("src"));
        if dir != "shared-lib" {
            g.remove("");
            for deps in g.values_mut() {
                deps.remove("");
            }
        }
        assert!(g.len() > 3, "{dir}: the scan sees its modules: {g:#?}");
        if let Some(cycle) = find_loop(&g) {
            panic!("{dir}: import loop: {}", cycle.join(" -> "));
        }
    }
}
