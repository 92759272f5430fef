//! `cargo fleet bump <service> [--to VERSION] [--crate NAME] [--execute]`:
//! moves one service to a published version of a shared crate with
//! `cargo add` and `cargo update --precise`, then runs its tests
//! (`cargo test --locked`). Other services are not touched. A dry run
//! unless `--execute`.
//!
//! A service declared by `path` is changed in place, for its owners to
//! commit. One declared by `git` is changed in the tool's checkout of its
//! repository, on a branch `fleet/<crate>-<version>` started from the
//! followed branch; once its tests pass the change is committed there
//! (Cargo.toml and Cargo.lock) and the branch pushed to the repository,
//! for its owners to merge.

use std::path::Path;

use anyhow::{Context, Result};
use semver::Version;

use crate::error::{problem, usage};
use crate::index;
use crate::lock;
use crate::manifest::{Service, Shared, Source};
use crate::ops::cargo::cargo_in;
use crate::ops::run::run as exec;
use crate::workspace::Workspace;

/// What a bump did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bumped {
    /// The version locked before.
    pub from: Version,
    /// The version locked now.
    pub to: Version,
}

/// The published, non-yanked version of `shared` to move to: `to`, or the
/// newest.
pub fn target(ws: &Workspace, shared: &Shared, to: Option<&Version>) -> Result<Version> {
    let krate = shared.name.as_str();
    let published = index::published(&ws.registry, krate)?;
    let listing = published
        .iter()
        .map(|p| format!("{}{}", p.version, if p.yanked { " (yanked)" } else { "" }))
        .collect::<Vec<_>>()
        .join(", ");
    match to {
        Some(v) => match published.iter().find(|p| &p.version == v) {
            None => Err(usage(format!(
                "{krate} {v} is not published in the registry (published: {listing}); release it first"
            ))),
            Some(p) if p.yanked => Err(usage(format!(
                "{krate} {v} is yanked; pick another version (published: {listing})"
            ))),
            Some(_) => Ok(v.clone()),
        },
        None => published
            .iter()
            .filter(|p| !p.yanked)
            .map(|p| p.version.clone())
            .max()
            .ok_or_else(|| {
                usage(format!(
                    "no {krate} version is published yet; release one first"
                ))
            }),
    }
}

/// Moves the project in `dir` to `shared` `to`, then runs its tests (an
/// error of kind "problem" when they fail, the changes left in place).
pub fn apply(ws: &Workspace, dir: &Path, shared: &Shared, to: &Version) -> Result<Bumped> {
    let krate = shared.name.as_str();
    let from = lock::pin(dir, krate)?.version;
    if &from == to {
        return Ok(Bumped {
            from,
            to: to.clone(),
        });
    }
    let cargo = |args: &[&str]| {
        let mut cmd = cargo_in(ws.target.clone(), dir, args);
        ws.registry.configure(&mut cmd);
        ws.tools_on_path(&mut cmd);
        // cargo's own output (the test run's included) is progress, on
        // stderr; stdout carries the command's report only.
        cmd.stdout(std::io::stderr());
        cmd
    };
    let add = format!("{krate}@{to}");
    // The tests' own dependency on it (for a feature such as `testing`)
    // moves first, keeping its features: moved second, cargo would resolve
    // the new dependency beside the old dev-dependency and refuse a
    // feature the old version lacks.
    if lock::dev_dependency(dir, krate)? {
        exec(&mut cargo(&[
            "add",
            "--dev",
            &add,
            "--registry",
            &ws.registry.name,
        ]))?;
    }
    exec(&mut cargo(&["add", &add, "--registry", &ws.registry.name]))?;
    exec(&mut cargo(&[
        "update",
        "-p",
        krate,
        "--precise",
        &to.to_string(),
    ]))?;
    let locked = lock::pin(dir, krate)?.version;
    if &locked != to {
        anyhow::bail!(
            "{}/Cargo.lock locks {krate} {locked} after the update, not {to}",
            dir.display()
        );
    }
    exec(&mut cargo(&["test", "--locked"])).map_err(|err| {
        problem(format!(
            "the tests of {} fail on {krate} {to} ({err:#})",
            dir.display()
        ))
    })?;
    Ok(Bumped {
        from,
        to: to.clone(),
    })
}

/// Moves `service` to `to` (the newest published when `None`) where its
/// files are (a path service in place; a git service in its checkout as it
/// stands), then runs its tests.
pub fn bump(
    ws: &Workspace,
    service: &str,
    krate: Option<&str>,
    to: Option<&Version>,
) -> Result<Bumped> {
    let service = ws.manifest.service(service)?;
    let shared = ws.manifest.shared(krate)?;
    let target = target(ws, shared, to)?;
    apply(ws, &ws.service_dir(service)?, shared, &target)
}

/// The branch a bump of a git service is made on.
pub fn branch(shared: &Shared, to: &Version) -> String {
    format!("fleet/{}-{to}", shared.name)
}

/// Runs `bump`.
pub fn run(
    ws: &Workspace,
    service: &str,
    krate: Option<&str>,
    to: Option<&Version>,
    execute: bool,
) -> Result<()> {
    let service: &Service = ws.manifest.service(service)?;
    let shared = ws.manifest.shared(krate)?;
    let name = service.name.as_str();
    let k = shared.name.as_str();
    let target = target(ws, shared, to)?;
    let dir = ws.service_dir(service)?;
    let from = lock::pin(&dir, k)?.version;
    if from == target {
        println!("{name} already locks {k} {target}; nothing to do");
        return Ok(());
    }
    let others: Vec<&str> = ws
        .manifest
        .names()
        .into_iter()
        .filter(|n| *n != name)
        .collect();
    let untouched = if others.is_empty() {
        "-".to_string()
    } else {
        others.join(", ")
    };
    match &service.source {
        Source::Path(path) => {
            if !execute {
                println!(
                    "would move {name} ({}) from {k} {from} to {target} and run its tests; \
                     run again with --execute",
                    path.display()
                );
                return Ok(());
            }
            apply(ws, &dir, shared, &target).with_context(|| {
                format!(
                    "the changed Cargo.toml and Cargo.lock of {name} are left for you to fix, or undo them \
                     with `git checkout -- {0}/Cargo.toml {0}/Cargo.lock`",
                    path.display()
                )
            })?;
            println!("{name}: {k} {from} -> {target}, tests pass. Untouched: {untouched}.");
            println!(
                "commit it: git commit -m \"{name}: move to {k} {target}\" {0}/Cargo.toml {0}/Cargo.lock",
                path.display()
            );
        }
        Source::Git { url, branch: base } => {
            let branch = branch(shared, &target);
            if !execute {
                println!(
                    "would move {name} from {k} {from} to {target} on branch {branch} of {url} \
                     (from {base}), run its tests, commit and push the branch; run again with --execute"
                );
                return Ok(());
            }
            crate::ops::git::start_branch(&dir, &branch)?;
            apply(ws, &dir, shared, &target).with_context(|| {
                format!(
                    "nothing was pushed to {url}; the failed attempt is in {}",
                    dir.display()
                )
            })?;
            let commit = crate::ops::git::commit(
                &dir,
                &["Cargo.toml", "Cargo.lock"],
                &format!(
                    "Move to {k} {target}\n\nMade by `cargo fleet bump {name}`; its tests pass."
                ),
            )?;
            crate::ops::git::push_branch(&dir, &branch)?;
            println!("{name}: {k} {from} -> {target}, tests pass. Untouched: {untouched}.");
            println!(
                "pushed branch {branch} (commit {}) to {url}; merge it into {base} there \
                 (e.g. git fetch origin {branch} && git merge origin/{branch})",
                &commit[..12.min(commit.len())]
            );
        }
    }
    Ok(())
}
