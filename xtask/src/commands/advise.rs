//! `cargo xtask advise <version> --reason "..." [--patched RANGE] [--yank]
//! [--execute]`: `cargo fleet advise` on this checkout's registry (started
//! first, every pinned shared-lib version published), with the publish
//! token so `--yank` may yank. The advisory database is
//! `registry/advisories/` (fleet.toml's `[advisories]`), a git repository
//! of its own that the first `--execute` makes. The command itself is
//! [`cargo_fleet::commands::advise`]; this adds the images: every image of
//! a service on the project's Docker engine (compose and swarm), with the
//! version its binary carries, read from the binary ([`crate::fleet::images`]).

use anyhow::Result;
use cargo_fleet::advisories::Advisory;
use cargo_fleet::table::{Column, Table};

use crate::fleet::images::{self, Carried};
use crate::paths::Layout;

/// Runs `advise`.
pub fn run(layout: &Layout, request: &cargo_fleet::commands::advise::Request) -> Result<()> {
    let (registry, _) = super::registry(layout)?;
    super::publish_pinned(layout, &registry)?;
    let ws = layout.workspace_with_token(&registry, registry.token()?)?;
    let (advisory, _) = cargo_fleet::commands::advise::run(&ws, request)?;
    let Ok(engine) = crate::ops::docker::engine() else {
        println!(
            "images: no Docker engine answers, so no image was read (`cargo xtask up --docker` or `--swarm` builds them)"
        );
        return Ok(());
    };
    let fleet = layout.fleet()?;
    let carried = images::carried(&engine, &fleet.names(), &advisory.package)?;
    print!("{}", render(&advisory, &carried));
    Ok(())
}

/// Whether `image` carries a version `advisory` affects.
pub fn affected(advisory: &Advisory, image: &Carried) -> bool {
    image.version.as_ref().is_some_and(|v| {
        advisory.affects(
            &advisory.package,
            advisory.source.as_deref().unwrap_or_default(),
            v,
        )
    })
}

/// The images as a table: each with the version its binary carries and
/// whether the advisory names it, then a count.
pub fn render(advisory: &Advisory, carried: &[Carried]) -> String {
    let mut table = Table::new(&[
        Column::left("image", 36),
        Column::left("id", 12),
        Column::left("carries", 16),
        Column::left("advised", 7),
        Column::left("running as", 0),
    ]);
    for image in carried {
        table.row(vec![
            image.tags.join(", "),
            image.id.clone(),
            match (&image.version, image.auditable) {
                (Some(v), _) => format!("{} {v}", advisory.package),
                (None, true) => "-".into(),
                (None, false) => "unknown".into(),
            },
            if affected(advisory, image) {
                advisory.id.clone()
            } else if image.auditable {
                "no".into()
            } else {
                "?".into()
            },
            image.containers.join(", "),
        ]);
    }
    let hit = carried.iter().filter(|i| affected(advisory, i)).count();
    let blind = carried.iter().filter(|i| !i.auditable).count();
    let mut out = format!(
        "images on the Docker engine (read from their binaries: the dependency list cargo auditable embedded):\n{}",
        table.render()
    );
    out.push_str(&format!(
        "{} image(s) read, {hit} carry an affected {} version",
        carried.len(),
        advisory.package
    ));
    if blind > 0 {
        out.push_str(&format!(
            "; {blind} without an embedded dependency list (built before cargo auditable: rebuild them)"
        ));
    }
    out.push('\n');
    out
}
