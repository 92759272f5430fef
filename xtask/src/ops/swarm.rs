//! Swarm mode on the project's Docker engine: a one-node swarm on
//! loopback, a stack deployed and removed, its services listed and updated.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::ops::docker::Engine;
use crate::ops::procs;
use crate::ops::run::{capture, run};

/// Makes the engine a swarm manager (a one-node swarm advertised on
/// 127.0.0.1) unless it already is; whether this call did it.
pub fn ensure_swarm(engine: &Engine) -> Result<bool> {
    if swarm_active(engine)? {
        return Ok(false);
    }
    capture(
        engine
            .docker()
            .args(["swarm", "init", "--advertise-addr", "127.0.0.1"]),
    )
    .context("cannot make the engine a swarm manager")?;
    Ok(true)
}

/// `docker stack deploy` of `file` as `stack`, with `env` for the file's
/// interpolation, using the images the engine has (nothing is pulled).
pub fn deploy(engine: &Engine, file: &Path, stack: &str, env: &[(&str, String)]) -> Result<()> {
    let mut cmd = engine.docker();
    cmd.args([
        "stack",
        "deploy",
        "--resolve-image",
        "never",
        "--prune",
        "--compose-file",
    ])
    .arg(file)
    .arg(stack);
    if let Some(dir) = file.parent() {
        cmd.current_dir(dir);
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    run(&mut cmd)
}

/// Whether the engine is in swarm mode (a manager here: the project makes
/// one-node swarms only).
fn swarm_active(engine: &Engine) -> Result<bool> {
    let state = capture(
        engine
            .docker()
            .args(["info", "--format", "{{.Swarm.LocalNodeState}}"]),
    )?;
    Ok(state.trim() == "active")
}

/// Whether `stack` has any service (none on an engine outside swarm mode).
pub fn stack_exists(engine: &Engine, stack: &str) -> Result<bool> {
    if !swarm_active(engine)? {
        return Ok(false);
    }
    let out = capture(engine.docker().args([
        "service",
        "ls",
        "--filter",
        &format!("label=com.docker.stack.namespace={stack}"),
        "--format",
        "{{.Name}}",
    ]))?;
    Ok(!out.trim().is_empty())
}

/// `docker stack rm`, then waits until its containers and network are gone
/// (a stack deployed again too soon would find its network half removed).
pub fn remove(engine: &Engine, stack: &str) -> Result<bool> {
    if !stack_exists(engine, stack)? {
        return Ok(false);
    }
    capture(engine.docker().args(["stack", "rm", stack]))?;
    let label = format!("label=com.docker.stack.namespace={stack}");
    let gone = procs::wait_until(Duration::from_secs(60), || {
        let containers = capture(engine.docker().args(["ps", "-aq", "--filter", &label]));
        let networks = capture(
            engine
                .docker()
                .args(["network", "ls", "-q", "--filter", &label]),
        );
        matches!((containers, networks), (Ok(c), Ok(n)) if c.trim().is_empty() && n.trim().is_empty())
    });
    if !gone {
        bail!(
            "the stack {stack} was removed but its containers or network are still there after 60 s"
        );
    }
    Ok(true)
}

/// The running tasks of a swarm service: (task id, container id).
pub fn running_tasks(engine: &Engine, service: &str) -> Result<Vec<(String, String)>> {
    let out = capture(engine.docker().args([
        "ps",
        "--filter",
        &format!("label=com.docker.swarm.service.name={service}"),
        "--format",
        "{{.Label \"com.docker.swarm.task.id\"}} {{.ID}}",
    ]))?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(task, container)| (task.to_string(), container.to_string()))
        .collect())
}

/// `docker service update --force`: every replica replaced, one at a time,
/// as the service's `update_config` says; returns when the update is done.
pub fn roll(engine: &Engine, service: &str, image: Option<&str>) -> Result<()> {
    let mut cmd = engine.docker();
    cmd.args(["service", "update", "--quiet", "--force"]);
    if let Some(image) = image {
        cmd.args(["--image", image]);
    }
    cmd.arg(service);
    capture(&mut cmd).with_context(|| format!("rolling update of {service}"))?;
    Ok(())
}

/// Kills one container (SIGKILL), as a crash would.
pub fn kill(engine: &Engine, container: &str) -> Result<()> {
    capture(engine.docker().args(["kill", container]))?;
    Ok(())
}

/// The image a swarm service's tasks run (its spec's, digest left out).
pub fn service_image(engine: &Engine, service: &str) -> Result<String> {
    let out = capture(engine.docker().args([
        "service",
        "inspect",
        "--format",
        "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
        service,
    ]))
    .with_context(|| {
        format!(
            "{service} is not a service of the swarm; `cargo xtask up --swarm` deploys the fleet"
        )
    })?;
    let image = out.trim();
    Ok(image
        .split_once('@')
        .map_or(image, |(name, _)| name)
        .to_string())
}

/// Starts a rolling update of `service` to `image` and returns at once:
/// one replica at a time, the new one started (and healthy) before the old
/// one stops, `delay` between replicas. Swarm's own update machinery does
/// the replacing; [`update_state`] follows it.
pub fn start_update(engine: &Engine, service: &str, image: &str, delay: Duration) -> Result<()> {
    capture(engine.docker().args([
        "service",
        "update",
        "--detach",
        "--quiet",
        "--image",
        image,
        "--update-parallelism",
        "1",
        "--update-order",
        "start-first",
        "--update-delay",
        &format!("{}s", delay.as_secs()),
        service,
    ]))
    .with_context(|| format!("cannot start the update of {service} to {image}"))?;
    Ok(())
}

/// The state of `service`'s last update (`updating`, `completed`,
/// `paused`, `rollback_started`, `rollback_completed`, ...), empty when it
/// never had one.
pub fn update_state(engine: &Engine, service: &str) -> Result<String> {
    let out = capture(engine.docker().args([
        "service",
        "inspect",
        "--format",
        "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
        service,
    ]))?;
    Ok(out.trim().to_string())
}

/// `docker service rollback`: the service back on its previous spec (its
/// image before the last update), one replica at a time as its
/// `rollback_config` says; returns when done.
pub fn rollback(engine: &Engine, service: &str) -> Result<()> {
    capture(
        engine
            .docker()
            .args(["service", "rollback", "--quiet", service]),
    )
    .with_context(|| format!("cannot roll {service} back"))?;
    Ok(())
}

/// Tags `image` as `tag` too.
pub fn tag(engine: &Engine, image: &str, tag: &str) -> Result<()> {
    capture(engine.docker().args(["tag", image, tag]))?;
    Ok(())
}

/// The running containers of a swarm service: (container id, its image's
/// id `sha256:...`, its addresses on the stack's networks).
pub fn task_containers(
    engine: &Engine,
    service: &str,
) -> Result<Vec<(String, String, Vec<String>)>> {
    let listed = capture(engine.docker().args([
        "ps",
        "--filter",
        &format!("label=com.docker.swarm.service.name={service}"),
        "--format",
        "{{.ID}}",
    ]))?;
    let mut out = Vec::new();
    for id in listed.lines().map(str::trim).filter(|l| !l.is_empty()) {
        // The image by its id: `docker ps` shows a name, or only a short
        // id when several tags name the image (a rollout's build is tagged
        // both `:local` and by its id), so names do not compare.
        // Gone between the listing and this look: not running any more.
        let Ok(seen) = capture(engine.docker().args([
            "inspect",
            "--format",
            "{{.Image}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
            id,
        ])) else {
            continue;
        };
        let mut fields = seen.split_whitespace();
        let Some(image) = fields.next() else {
            continue;
        };
        out.push((
            id.to_string(),
            image.to_string(),
            fields.map(String::from).collect(),
        ));
    }
    Ok(out)
}
