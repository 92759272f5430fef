//! `cargo xtask down [--docker] [--wipe]`: stops what `up` started, by the
//! pid records in `.fleet/`, and nothing else; registry data stays, and so
//! does the services' data unless `--wipe` says otherwise.

use anyhow::Result;

use crate::fleet;
use crate::ops::docker;
use crate::ops::run::run as exec;
use crate::paths::Layout;

use super::Runtime;

/// Runs `down` on `runtime`; with `wipe`, then deletes the services' data.
/// `stop_engine` (`--engine`) also stops a Docker engine the project started.
pub fn run(layout: &Layout, runtime: Runtime, wipe: bool, stop_engine: bool) -> Result<()> {
    match runtime {
        Runtime::Native => native(layout, wipe),
        Runtime::Docker => docker(layout, stop_engine, wipe),
        Runtime::Swarm => swarm(stop_engine, wipe),
    }
}

/// Runs `down --swarm`: the stack removed (and, with `wipe`, its volumes:
/// the databases and the registry's crate files); the swarm itself and the
/// engine stay unless `stop_engine`.
fn swarm(stop_engine: bool, wipe: bool) -> Result<()> {
    use crate::swarm::STACK;
    let engine = docker::engine()?;
    if crate::ops::swarm::remove(&engine, STACK)? {
        println!("removed the stack {STACK}");
    } else {
        println!("no stack {STACK} to remove");
    }
    if wipe {
        for volume in crate::swarm::VOLUMES {
            let volume = format!("{STACK}_{volume}");
            if engine.remove_volume(&volume)? {
                println!("deleted the volume {volume}");
            }
        }
    } else {
        println!(
            "the stack's volumes (databases, the registry's crates) stay (`cargo xtask down --swarm --wipe` deletes them)"
        );
    }
    if stop_engine && docker::Engine::stop_own()? {
        println!("stopped the project's Docker engine ({})", engine.host);
    }
    Ok(())
}

fn native(layout: &Layout, wipe: bool) -> Result<()> {
    let stopped = fleet::down(layout)?;
    for (name, pid) in &stopped {
        println!("stopped {name} (pid {pid})");
    }
    if stopped.is_empty() {
        println!("nothing to stop: no process started by `cargo xtask up` is running");
    }
    if wipe {
        let wiped = fleet::wipe_data(layout)?;
        for path in &wiped {
            println!("deleted the services' data in {}", path.display());
        }
        if wiped.is_empty() {
            println!("no service data to delete");
        }
    } else {
        println!(
            "the services' data stays for the next `up` (`cargo xtask down --wipe` deletes it)"
        );
    }
    Ok(())
}

/// Runs `down --docker`: `docker compose down`; the registry volume and
/// the services' data volumes stay, unless `wipe` deletes the latter.
/// An engine the project started keeps running (`up --docker` reuses it)
/// unless `stop_engine` (`--engine`) says otherwise.
fn docker(layout: &Layout, stop_engine: bool, wipe: bool) -> Result<()> {
    let engine = docker::engine()?;
    exec(
        engine
            .compose(layout, &fleet::container_registry(layout))?
            .arg("down"),
    )?;
    if wipe {
        for service in &layout.fleet()?.services {
            let volume = docker::data_volume(layout, &service.name);
            if engine.remove_volume(&volume)? {
                println!("deleted the volume {volume} ({}'s data)", service.name);
            }
        }
    }
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
