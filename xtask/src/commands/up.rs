//! `cargo xtask up [--docker | --swarm | --postgres]`: the registry started, every
//! pinned shared-lib version published, every service of `fleet.toml`
//! built, started in dependency order with its data (SQLite files, or
//! PostgreSQL) and ready. A second `up` changes nothing.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::fleet::{self, DataBackend};
use crate::ops::docker::{self, Engine};
use crate::ops::procs;
use crate::ops::registry::Health;
use crate::ops::run::run as exec;
use crate::paths::Layout;

use super::Runtime;

/// Runs `up` on `runtime`; natively, the services' data where `backend`
/// says (containers keep theirs on named volumes).
pub fn run(layout: &Layout, runtime: Runtime, backend: DataBackend) -> Result<()> {
    match runtime {
        Runtime::Native => super::start_native_fleet(layout, backend),
        Runtime::Docker => docker(layout),
        Runtime::Swarm => swarm(layout),
    }
}

/// Runs `up --swarm`. The order is the point: the engine, the base and
/// stand-in images and a one-node swarm; the secrets (database password,
/// the registry's admin token and passwords, its cookie signing key),
/// generated once into `.fleet/swarm/` and `registry/swarm/` (git-ignored,
/// mode 600); the stack files of `deploy/swarm/` written from `fleet.toml`
/// and the stack deployed; the registry ready through the proxy on port
/// 8000 and every pinned shared-lib version published into it; the
/// services' images built from sources vendored from it, and a service
/// rolled when its image changed (or its replicas could not start without
/// it); every service ready through the proxy on its port.
fn swarm(layout: &Layout) -> Result<()> {
    use crate::ops::swarm as engine_swarm;
    use crate::swarm::{
        self, ADMIN_PWD_VAR, ADMIN_TOKEN_VAR, COOKIE_KEY_VAR, PASSWORD_VAR, REPLICAS, STACK,
    };
    let started = Instant::now();
    let fleet = layout.fleet()?;
    for name in fleet
        .names()
        .into_iter()
        .chain(["kellnr", crate::fleet::prometheus::NAME])
    {
        if let Some(record) = procs::read_record(&procs::record_path(&layout.state_dir(), name))?
            && procs::is_running(&record)
        {
            bail!(
                "{name} started by `cargo xtask up` (pid {}) holds a port the stack publishes; run `cargo xtask down` first",
                record.pid
            );
        }
    }
    let (engine, engine_started) = Engine::ensure()?;
    if engine_started {
        println!("docker: started the project's engine at {}", engine.host);
    }
    for name in docker::ensure_base_images(&engine)?
        .built
        .into_iter()
        .chain(docker::ensure_swarm_images(&engine)?)
    {
        println!("docker: built the local stand-in {name} (no image can be pulled here)");
    }
    if engine_swarm::ensure_swarm(&engine)? {
        println!("swarm: the engine is now a one-node swarm manager on 127.0.0.1");
    }
    let registry = fleet::swarm_registry(layout);
    let password_file = layout.state_dir().join("swarm").join("postgres.password");
    let new_password = !password_file.exists();
    // Always called: it makes the registry's secrets when missing.
    let new_registry_secrets = registry.ensure_secrets()?;
    let new_secrets = new_password || new_registry_secrets;
    let password = crate::ops::secrets::ensure_secret(&password_file, 32)?;
    let cookie_key = crate::ops::secrets::ensure_secret(&registry.data_dir.join("cookie.key"), 64)?;
    if new_secrets {
        // Volumes made with other secrets cannot be opened with these: the
        // stack starts empty (every pinned version is published again).
        engine_swarm::remove(&engine, STACK)?;
        for volume in swarm::VOLUMES {
            if engine.remove_volume(&format!("{STACK}_{volume}"))? {
                println!(
                    "swarm: new secrets; deleted the volume {STACK}_{volume} made with older ones"
                );
            }
        }
    }
    let changed = swarm::write(&layout.root, &fleet)?;
    println!(
        "swarm: {}/ ({changed} file(s) written from fleet.toml)",
        swarm::DIR
    );
    let read = |path: std::path::PathBuf| crate::ops::secrets::read_secret(&path);
    engine_swarm::deploy(
        &engine,
        &layout.root.join(swarm::DIR).join("stack.yml"),
        STACK,
        &[
            (PASSWORD_VAR, password),
            (COOKIE_KEY_VAR, cookie_key),
            (ADMIN_TOKEN_VAR, read(registry.token_file())?),
            (ADMIN_PWD_VAR, read(registry.password_file())?),
        ],
    )?;
    if !procs::wait_until(Duration::from_secs(180), || registry.health() == Health::Up) {
        bail!(
            "the registry did not answer {}/api/v1/health through the proxy within 180 s; `docker service logs {}` says why",
            registry.base_url(),
            swarm::swarm_service("registry")
        );
    }
    registry.ensure_read_token()?;
    super::publish_pinned(layout, &registry)?;
    println!("services: vendoring dependencies from the stack's registry and building images");
    for service in &fleet.services {
        fleet::vendor(layout, &registry, &layout.project(&service.name))?;
    }
    let image = |name: &str| format!("shared-fleet/{name}:local");
    let before: Vec<Option<String>> = fleet
        .services
        .iter()
        .map(|s| engine.image_id(&image(&s.name)))
        .collect();
    let mut build = engine.compose(layout, &registry)?;
    build.arg("build");
    for service in &fleet.services {
        build.arg(&service.name);
    }
    exec(&mut build)?;
    for (service, before) in fleet.services.iter().zip(before) {
        let name = swarm::swarm_service(&service.name);
        let rebuilt = engine.image_id(&image(&service.name)) != before;
        let short = engine_swarm::running_tasks(&engine, &name)?.len() < REPLICAS as usize;
        if rebuilt || short {
            println!(
                "swarm: rolling {name} onto its {} image",
                if rebuilt { "new" } else { "built" }
            );
            engine_swarm::roll(&engine, &name, None)?;
        }
    }
    for service in &fleet.services {
        let name = swarm::swarm_service(&service.name);
        wait_ready(
            service,
            180,
            &format!(
                " through the proxy; `docker service ps {name}` and `docker service logs {name}` say why"
            ),
        )?;
        println!(
            "{:<14} {} ({REPLICAS} replicas behind the proxy)",
            service.name,
            fleet::url(service.port),
        );
    }
    println!(
        "registry       {} ({REPLICAS} Kellnr replicas on PostgreSQL behind the proxy)",
        registry.base_url()
    );
    println!(
        "stack {STACK} up in {:.0}s; `cargo xtask down --swarm` removes it (its volumes stay)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs `up --docker`. The order is the point: the engine (started when
/// none answers) and the base images (local stand-ins where pulls are
/// impossible); the registry container, healthy; every pinned shared-lib
/// version published into it; each service's dependencies vendored; then
/// the images built (offline) and everything started and healthy.
fn docker(layout: &Layout) -> Result<()> {
    let started = Instant::now();
    let (engine, engine_started) = Engine::ensure()?;
    if engine_started {
        println!("docker: started the project's engine at {}", engine.host);
    }
    let stand_ins = docker::ensure_base_images(&engine)?;
    for name in &stand_ins.built {
        println!("docker: built the local stand-in {name} (no image can be pulled here)");
    }
    let fleet = layout.fleet()?;
    if let Some(record) = procs::read_record(&procs::record_path(&layout.state_dir(), "kellnr"))?
        && procs::is_running(&record)
    {
        bail!(
            "the native registry started by `cargo xtask up` holds port 8000 (pid {}); run `cargo xtask down` first",
            record.pid
        );
    }
    if crate::ops::swarm::stack_exists(&engine, crate::swarm::STACK)? {
        bail!(
            "the swarm stack {} runs on this engine and holds port 8000 and the services' ports; run `cargo xtask down --swarm` first",
            crate::swarm::STACK
        );
    }
    let registry = fleet::container_registry(layout);
    // Only the registry's volume: the services' data volumes stay.
    let reset_volume = || -> Result<()> {
        exec(engine.compose(layout, &registry)?.arg("down"))?;
        engine.remove_volume(&docker::volume_name(layout, "kellnr-data"))?;
        Ok(())
    };
    let start_registry = || -> Result<()> {
        println!("registry: starting the Kellnr container");
        exec(
            engine
                .compose(layout, &registry)?
                .args(["up", "-d", "registry"]),
        )?;
        if !procs::wait_until(Duration::from_secs(120), || registry.health() == Health::Up) {
            bail!(
                "the registry container did not answer {}/api/v1/health within 120 s; `docker-compose logs registry` says why",
                registry.base_url()
            );
        }
        Ok(())
    };
    if registry.ensure_secrets()? {
        // New tokens cannot open a volume made with other ones (a fresh
        // clone, or registry/container/ deleted): start it empty; every
        // pinned version is published again from git history below.
        println!(
            "registry: new tokens in {}; resetting the registry volume",
            registry.data_dir.display()
        );
        reset_volume()?;
    }
    let env_file = docker::write_env_file(layout, &registry)?;
    println!(
        "compose: {} holds the registry's first-start secrets (mode 600, git-ignored), so plain `docker compose up -d` works too",
        env_file.display()
    );
    start_registry()?;
    if !registry.admin_accepted()? {
        // The volume was made with other secrets than the ones in
        // registry/container/: another checkout of the same directory
        // name used this engine (compose names the volume after it). It
        // holds only versions published from git history: start it anew.
        println!(
            "registry: the registry volume was made with other tokens than {} (another checkout with this directory name?); resetting it",
            registry.data_dir.display()
        );
        reset_volume()?;
        start_registry()?;
    }
    registry.ensure_read_token()?;
    super::publish_pinned(layout, &registry)?;
    println!("services: vendoring dependencies (shared-lib included) for offline image builds");
    for service in &fleet.services {
        fleet::vendor(layout, &registry, &layout.project(&service.name))?;
    }
    println!("services: building images");
    exec(engine.compose(layout, &registry)?.arg("build"))?;
    exec(engine.compose(layout, &registry)?.args(["up", "-d"]))?;
    for service in &fleet.services {
        wait_ready(
            service,
            60,
            &format!("; `docker-compose logs {}` says why", service.name),
        )?;
        println!("{:<14} {}", service.name, fleet::url(service.port));
    }
    println!(
        "containers up in {:.0}s; `cargo xtask down --docker` stops them (the registry volume stays)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Waits until `service` answers its ready path on its port, at most
/// `seconds`; else an error ending with `hint` (where to look).
fn wait_ready(service: &crate::manifest::Service, seconds: u64, hint: &str) -> Result<()> {
    let ready = format!("{}{}", fleet::url(service.port), service.ready);
    let answered = procs::wait_until(Duration::from_secs(seconds), || {
        crate::ops::http::answers_ok(&crate::ops::http::client(), &ready)
    });
    if !answered {
        bail!(
            "{} did not answer {ready} within {seconds} s{hint}",
            service.name
        );
    }
    Ok(())
}
