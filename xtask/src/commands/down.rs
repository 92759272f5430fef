//! `cargo xtask down [--docker]`: stops what `up` started, by the pid
//! records in `.fleet/`, and nothing else; registry data stays.

use anyhow::Result;

use crate::fleet;
use crate::ops::docker;
use crate::ops::run::run;
use crate::paths::Layout;

/// Runs `down`.
pub fn run_native(layout: &Layout) -> Result<()> {
    let stopped = fleet::down(layout)?;
    for (name, pid) in &stopped {
        println!("stopped {name} (pid {pid})");
    }
    if stopped.is_empty() {
        println!("nothing to stop: no process started by `cargo xtask up` is running");
    }
    Ok(())
}

/// Runs `down --docker`: `docker compose down`; the registry volume stays.
/// An engine the project started keeps running (`up --docker` reuses it)
/// unless `stop_engine` (`--engine`) says otherwise.
pub fn run_docker(layout: &Layout, stop_engine: bool) -> Result<()> {
    let engine = docker::engine()?;
    run(engine
        .compose(layout, &fleet::container_registry(layout))?
        .arg("down"))?;
    if stop_engine {
        if docker::Engine::stop_own()? {
            println!("stopped the project's Docker engine ({})", engine.host);
        } else {
            println!(
                "the engine at {} is not the project's: left running",
                engine.host
            );
        }
    } else if docker::Engine::owns(&engine) {
        println!(
            "the project's Docker engine keeps running for the next `up --docker`; `cargo xtask down --docker --engine` stops it"
        );
    }
    Ok(())
}
