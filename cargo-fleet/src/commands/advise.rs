//! `cargo fleet advise <version> --reason "..." [--patched RANGE] [--yank]
//! [--crate NAME] [--execute]`: an advisory on a published version of a
//! shared crate, written into the team's advisory database (RustSec format,
//! [`crate::advisories`]) and committed there, the version yanked in the
//! registry when asked (`cargo yank`), and every service that locks an
//! affected version named. A dry run unless `--execute`.
//!
//! The advisory names the crate with the registry's index URL as its
//! `source` (the same name on crates.io is another crate), the advised
//! version and every later one below `--patched` as affected (default:
//! patched from the next published version on), earlier ones unaffected.

use anyhow::{Context, Result};
use semver::{Version, VersionReq};

use crate::advisories::{self, Advisory};
use crate::error::usage;
use crate::index;
use crate::ops::cargo::cargo_in;
use crate::ops::run::run as exec;
use crate::pins;
use crate::table::{Column, Table};
use crate::workspace::Workspace;

/// What `advise` was asked.
#[derive(Debug, Clone)]
pub struct Request {
    /// The shared crate (`None`: the only one).
    pub krate: Option<String>,
    /// The advised version.
    pub version: Version,
    /// Why, in one line.
    pub reason: String,
    /// The versions with the fix (default: from the next published one).
    pub patched: Option<VersionReq>,
    /// Yank the version in the registry too.
    pub yank: bool,
    /// Really write, commit and yank.
    pub execute: bool,
}

/// A service locking an affected version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locker {
    /// The service.
    pub service: String,
    /// The version its Cargo.lock holds.
    pub locked: Version,
}

/// Runs `advise`; returns the advisory and the services that lock an
/// affected version.
pub fn run(ws: &Workspace, request: &Request) -> Result<(Advisory, Vec<Locker>)> {
    let shared = ws.manifest.shared(request.krate.as_deref())?;
    let name = shared.name.as_str();
    let reason = request.reason.trim();
    if reason.is_empty() || reason.contains('\n') {
        return Err(usage(
            "--reason must be one line saying what is wrong with the version",
        ));
    }
    let published = index::published(&ws.registry, name)?;
    let version = &request.version;
    if !published.iter().any(|p| &p.version == version) {
        let list: Vec<String> = published.iter().map(|p| p.version.to_string()).collect();
        return Err(usage(format!(
            "{name} {version} is not in the registry ({}); published: {}",
            ws.registry.index,
            if list.is_empty() {
                "none".into()
            } else {
                list.join(", ")
            }
        )));
    }
    let patched = match &request.patched {
        Some(req) if req.matches(version) => {
            return Err(usage(format!(
                "--patched \"{req}\" includes {version}, the version being advised"
            )));
        }
        Some(req) => req.clone(),
        None => {
            let next = published
                .iter()
                .filter(|p| !p.yanked && &p.version > version)
                .map(|p| &p.version)
                .min()
                .ok_or_else(|| {
                    usage(format!(
                        "no version of {name} above {version} is published: publish the fix first, or say which versions are fixed with --patched \">=X.Y.Z\""
                    ))
                })?;
            VersionReq::parse(&format!(">={next}"))?
        }
    };
    let existing = ws.advisories()?;
    let date = today();
    let year = date[..4].parse().context("the system clock's year")?;
    let id = advisories::next_id(&existing, &ws.manifest.advisories.prefix, year)?;
    let advisory = Advisory {
        id,
        package: name.to_string(),
        date,
        // As every Cargo.lock records it (the declared index, whatever
        // address this run reaches the registry at).
        source: Some(ws.manifest.registry.index.clone()),
        patched: vec![patched],
        unaffected: vec![VersionReq::parse(&format!("<{version}"))?],
        title: format!("{name} {version}: {reason}"),
        description: format!(
            "{reason}\n\nEvery service that locks an affected version must move: \
             `cargo fleet bump <service> --execute` takes one to the newest version."
        ),
        withdrawn: false,
    };
    let lockers = lockers(ws, &advisory)?;
    let db = ws.advisories_dir();
    let file = advisories::file_of(&db, name, &advisory.id);
    println!(
        "{} on {name} {version} (affected: {}; patched: {})",
        advisory.id,
        affected_range(version, &advisory),
        advisory.moves_to()
    );
    if request.execute {
        let made = crate::ops::git::init(&db)?;
        if made {
            println!(
                "made the advisory database {} (a git repository)",
                db.display()
            );
        }
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&file, advisory.render())
            .with_context(|| format!("cannot write {}", file.display()))?;
        let relative = file
            .strip_prefix(&db)
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        crate::ops::git::add(&db, &[&relative])?;
        let commit = crate::ops::git::commit(&db, &[&relative], &advisory.title)?;
        println!(
            "wrote {} and committed it ({})",
            file.display(),
            &commit[..12.min(commit.len())]
        );
        if request.yank {
            yank(ws, name, version)?;
            println!("yanked {name} {version} in {}", ws.registry.index);
        }
    } else {
        println!("would write {}:", file.display());
        for line in advisory.render().lines() {
            println!("  | {line}");
        }
    }
    print!("{}", render_lockers(name, &advisory, &lockers));
    if !request.execute {
        println!(
            "dry run: nothing written{}; add --execute",
            if request.yank { " or yanked" } else { "" }
        );
    }
    Ok((advisory, lockers))
}

/// The range of versions `advisory` marks affected, from `version` on.
fn affected_range(version: &Version, advisory: &Advisory) -> String {
    match advisory.patched.as_slice() {
        [only] => match only.comparators.as_slice() {
            [c] if c.op == semver::Op::GreaterEq => {
                format!(
                    ">={version}, <{}.{}.{}",
                    c.major,
                    c.minor.unwrap_or(0),
                    c.patch.unwrap_or(0)
                )
            }
            _ => format!(">={version}, not {only}"),
        },
        _ => format!(">={version}"),
    }
}

/// The services whose Cargo.lock holds a version `advisory` affects.
pub fn lockers(ws: &Workspace, advisory: &Advisory) -> Result<Vec<Locker>> {
    Ok(pins::dependents(ws, &advisory.package)?
        .into_iter()
        .filter(|d| advisory.affects(&advisory.package, &d.pin.source, &d.pin.version))
        .map(|d| Locker {
            service: d.service.name.clone(),
            locked: d.pin.version,
        })
        .collect())
}

fn render_lockers(name: &str, advisory: &Advisory, lockers: &[Locker]) -> String {
    if lockers.is_empty() {
        return "no service locks an affected version\n".into();
    }
    let mut table = Table::new(&[
        Column::left("service", 14),
        Column::left("locks", 8),
        Column::left("move", 0),
    ]);
    for l in lockers {
        table.row(vec![
            l.service.clone(),
            format!("{name} {}", l.locked),
            format!(
                "to {} (`cargo fleet bump {} --execute`)",
                advisory.moves_to(),
                l.service
            ),
        ]);
    }
    format!(
        "services that lock an affected version ({}):\n{}",
        lockers.len(),
        table.render()
    )
}

/// `cargo yank --version <version> <name>` against the fleet's registry,
/// with the tool's token (one that may yank: an owner's).
fn yank(ws: &Workspace, name: &str, version: &Version) -> Result<()> {
    let mut cmd = cargo_in(
        ws.target.join("publish"),
        &ws.root,
        &[
            "yank",
            "--registry",
            &ws.registry.name,
            "--version",
            &version.to_string(),
            name,
        ],
    );
    ws.registry.configure(&mut cmd);
    cmd.stdout(std::io::stderr());
    exec(&mut cmd).with_context(|| format!("yanking {name} {version} failed"))
}

/// Today's date (UTC), `2026-12-05`.
fn today() -> String {
    let now = humantime::format_rfc3339(std::time::SystemTime::now()).to_string();
    now[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_a_calendar_date() {
        let d = today();
        assert_eq!(d.len(), 10, "{d}");
        assert_eq!((&d[4..5], &d[7..8]), ("-", "-"));
        assert!(d[..4].parse::<i32>().unwrap() >= 2026);
    }
}
