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
    let state = capture(
        engine
            .docker()
            .args(["info", "--format", "{{.Swarm.LocalNodeState}}"]),
    )?;
    if state.trim() == "active" {
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

/// Whether `stack` has any service.
pub fn stack_exists(engine: &Engine, stack: &str) -> Result<bool> {
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

/// `docker service logs` of a service: every replica's lines, each
/// prefixed with its task.
pub fn logs(engine: &Engine, service: &str) -> Result<String> {
    capture(
        engine
            .docker()
            .args(["service", "logs", "--no-trunc", service]),
    )
}

/// Kills one container (SIGKILL), as a crash would.
pub fn kill(engine: &Engine, container: &str) -> Result<()> {
    capture(engine.docker().args(["kill", container]))?;
    Ok(())
}
