//! `cargo xtask rollout <service> [--to IMAGE_OR_COMMIT] [--bake 30] [--max-error-ratio 0.05] [--dry-run]`:
//! one service of the swarm fleet moved to a new image, one replica at a
//! time, each new replica watched through the fleet's metrics before the
//! next, and rolled back when it does worse than the old ones.
//!
//! Swarm's own update machinery does the replacing (`docker service update
//! --update-parallelism 1 --update-order start-first --update-delay
//! <bake>`, and `docker service rollback` with the stack's
//! `rollback_config`); this command adds the health gate: every couple of
//! seconds it asks the stack's Prometheus for the 5xx ratio and p99 of the
//! new replicas (the instances that were not there before) against the old
//! ones over the bake window (which replica is new the engine says: the
//! image its container runs, its addresses mapped to Prometheus'
//! instances, so an address reused by a new task is not taken for an old
//! one). A new replica worse than the old ones by
//! more than `--max-error-ratio` rolls the service back at once and the
//! command fails with the numbers that decided it; otherwise it ends once
//! every replica is new and the last one has baked, printing what runs
//! where.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::ops::docker::{self, Engine};
use crate::ops::prometheus;
use crate::ops::swarm as engine_swarm;
use crate::paths::Layout;
use crate::running;
use crate::swarm::{REPLICAS, swarm_service};

/// How long after a replica starts Prometheus has two scrapes of it: its
/// DNS discovery looks every 5 s, then it scrapes every 2 s.
const DISCOVERY_LAG: Duration = Duration::from_secs(10);

/// What to roll out and how to judge it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The service of `fleet.toml`.
    pub service: String,
    /// The image to move to, or a commit whose tree it is built from;
    /// `None`: built from this checkout's tree.
    pub to: Option<String>,
    /// How long each new replica is watched before the next one.
    pub bake: Duration,
    /// How much worse than the old replicas a new one's 5xx ratio may be.
    pub max_error_ratio: f64,
    /// Print the plan and change nothing.
    pub dry_run: bool,
}

/// Requests answered and 5xx among them over a window, and the p99.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Health {
    /// Requests answered.
    pub requests: f64,
    /// Of them, answered 5xx.
    pub errors: f64,
    /// The 99th percentile latency in seconds, if any request was seen.
    pub p99: Option<f64>,
}

impl Health {
    /// The 5xx ratio (0 without requests).
    pub fn error_ratio(&self) -> f64 {
        if self.requests > 0.0 {
            self.errors / self.requests
        } else {
            0.0
        }
    }

    fn describe(&self) -> String {
        format!(
            "{:.0} of {:.0} requests answered 5xx ({:.1} %), p99 {}",
            self.errors,
            self.requests,
            100.0 * self.error_ratio(),
            self.p99
                .filter(|p| p.is_finite())
                .map_or("-".to_string(), |p| format!("{:.1} ms", p * 1000.0))
        )
    }
}

/// Whether the new replicas are worse than the old ones: their 5xx ratio
/// exceeds the old ones' by more than `max_error_ratio` (at least one 5xx
/// seen). `None`: healthy so far.
pub fn verdict(new: &Health, old: &Health, max_error_ratio: f64) -> Option<String> {
    if new.errors >= 1.0 && new.error_ratio() > old.error_ratio() + max_error_ratio {
        return Some(format!(
            "its new replicas: {}; the old ones: {} (allowed: {:.1} points more)",
            new.describe(),
            old.describe(),
            100.0 * max_error_ratio
        ));
    }
    None
}

/// The health of `instances` of `service` over the last `window`, from
/// Prometheus at `base`.
fn health(base: &str, service: &str, instances: &BTreeSet<String>, window: Duration) -> Health {
    if instances.is_empty() {
        return Health::default();
    }
    let pattern = instances
        .iter()
        .map(|i| i.replace('.', "\\\\."))
        .collect::<Vec<_>>()
        .join("|");
    let secs = window.as_secs().max(1);
    let selector = format!(r#"service="{service}",instance=~"{pattern}""#);
    let one = |promql: String| {
        prometheus::query(base, &promql)
            .ok()
            .and_then(|s| s.first().map(|s| s.value))
    };
    Health {
        requests: one(format!(
            "sum(increase(http_requests_total{{{selector}}}[{secs}s]))"
        ))
        .unwrap_or(0.0),
        errors: one(format!(
            r#"sum(increase(http_requests_total{{{selector},status="5xx"}}[{secs}s]))"#
        ))
        .unwrap_or(0.0),
        p99: one(format!(
            "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{selector}}}[{secs}s])))"
        )),
    }
}

/// The replicas of swarm service `name` as Prometheus names them
/// (`address:port`): those running `image`, and the others.
fn replicas(
    engine: &Engine,
    name: &str,
    port: u16,
    image: &str,
) -> Result<(BTreeSet<String>, BTreeSet<String>)> {
    let (mut new, mut old) = (BTreeSet::new(), BTreeSet::new());
    let target = engine
        .image_id(image)
        .with_context(|| format!("the engine has no image {image}"))?;
    for (_, runs, addresses) in engine_swarm::task_containers(engine, name)? {
        let set = if runs == target { &mut new } else { &mut old };
        set.extend(addresses.iter().map(|a| format!("{a}:{port}")));
    }
    Ok((new, old))
}

/// Runs `rollout`.
pub fn run(layout: &Layout, plan: &Plan) -> Result<()> {
    let fleet = layout.fleet()?;
    let port = fleet.service(&plan.service)?.port;
    let name = swarm_service(&plan.service);
    let engine = docker::engine()?;
    let previous = engine_swarm::service_image(&engine, &name)?;
    let base = running::fleet_prometheus();
    if prometheus::query(&base, "up").is_err() {
        bail!(
            "the stack's Prometheus does not answer at {base}; the health gate needs it (`cargo xtask up --swarm` deploys it)"
        );
    }
    let target = match &plan.to {
        Some(image) if engine.has_image(image) => image.clone(),
        Some(other) => match crate::ops::git::commit_of(&layout.root, other) {
            Some(commit) if plan.dry_run => {
                format!("shared-fleet/{}:<built from commit {commit}>", plan.service)
            }
            Some(commit) => build_from_commit(layout, &engine, &plan.service, &commit)?,
            None => bail!(
                "{other:?} is neither an image the engine has (`docker images`) nor a commit of this repository; leave --to out to build this checkout's tree"
            ),
        },
        None if plan.dry_run => format!("shared-fleet/{}:<built from this tree>", plan.service),
        None => build_from_tree(layout, &engine, &plan.service)?,
    };
    println!(
        "rollout {}: {previous} -> {target}, {REPLICAS} replicas one at a time (start-first), each watched {} s through Prometheus at {base}; rolled back when its 5xx ratio exceeds the old replicas' by more than {:.1} points",
        plan.service,
        plan.bake.as_secs(),
        100.0 * plan.max_error_ratio
    );
    if plan.dry_run {
        println!("dry run: nothing changed");
        return Ok(());
    }
    if target == previous {
        println!(
            "{} already runs {target}; nothing to roll out",
            plan.service
        );
        return Ok(());
    }
    let started = Instant::now();
    // Swarm waits the bake time plus Prometheus' lag before the next
    // replica, so each one is judged before the next starts.
    engine_swarm::start_update(&engine, &name, &target, plan.bake + DISCOVERY_LAG)?;
    // When each new replica was first scraped.
    let mut first_seen: Vec<(String, Instant)> = Vec::new();
    let deadline = started + (plan.bake + DISCOVERY_LAG + Duration::from_secs(90)) * (REPLICAS + 1);
    loop {
        std::thread::sleep(prometheus::SCRAPE_INTERVAL);
        let (new, old) = replicas(&engine, &name, port, &target)?;
        for instance in &new {
            if !first_seen.iter().any(|(i, _)| i == instance) {
                println!(
                    "  new replica {instance} after {:.0} s",
                    started.elapsed().as_secs_f64()
                );
                first_seen.push((instance.clone(), Instant::now()));
            }
        }
        let window = plan.bake + Duration::from_secs(10);
        let new_health = health(&base, &plan.service, &new, window);
        let old_health = health(&base, &plan.service, &old, window);
        if let Some(why) = verdict(&new_health, &old_health, plan.max_error_ratio) {
            println!("  {why}; rolling back to {previous}");
            engine_swarm::rollback(&engine, &name)?;
            bail!(
                "rolled {} back to {previous} after {:.0} s: {why}",
                plan.service,
                started.elapsed().as_secs_f64()
            );
        }
        let state = engine_swarm::update_state(&engine, &name)?;
        if state.starts_with("rollback") || state == "paused" {
            bail!(
                "swarm stopped the update of {} ({state}): a new replica failed its healthcheck; `docker service ps {name}` says why",
                plan.service
            );
        }
        let baked = first_seen
            .last()
            .is_some_and(|(_, at)| at.elapsed() >= plan.bake);
        if state == "completed" && old.is_empty() && new.len() >= REPLICAS as usize && baked {
            println!("  every replica new and healthy: {}", new_health.describe());
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "the update of {} did not finish within {:.0} s (swarm says {state:?}); `docker service ps {name}` says why",
                plan.service,
                (deadline - started).as_secs_f64()
            );
        }
    }
    println!(
        "rolled out {} in {:.0} s; what runs:",
        plan.service,
        started.elapsed().as_secs_f64()
    );
    // As `status` shows it, once Prometheus scrapes the new replicas (its
    // DNS discovery looks every 5 s).
    let (new, _) = replicas(&engine, &name, port, &target)?;
    let mut listed = Vec::new();
    crate::ops::procs::wait_until(Duration::from_secs(30), || {
        listed = running::instances(&fleet, &base)
            .0
            .remove(&plan.service)
            .unwrap_or_default();
        !listed.is_empty() && listed.iter().all(|i| new.contains(&i.instance))
    });
    if listed.is_empty() {
        println!(
            "  Prometheus lists none of them yet; `cargo xtask status` shows them once it does"
        );
    }
    for i in &listed {
        println!("  {:<21} shared-lib {}", i.instance, i.shared_lib_version);
    }
    Ok(())
}

/// The service's image built from this checkout's tree (as `up --swarm`
/// builds it), tagged with its image id so the update has a new name.
fn build_from_tree(layout: &Layout, engine: &Engine, service: &str) -> Result<String> {
    let registry = crate::fleet::swarm_registry(layout);
    crate::fleet::vendor(layout, &registry, &layout.project(service))?;
    crate::ops::run::run(engine.compose(layout, &registry)?.args(["build", service]))?;
    let local = format!("shared-fleet/{service}:local");
    let Some(id) = engine.image_id(&local) else {
        bail!("building {service} left no image {local}");
    };
    let id = id.trim_start_matches("sha256:");
    let tagged = format!("shared-fleet/{service}:{}", &id[..id.len().min(12)]);
    engine_swarm::tag(engine, &local, &tagged)?;
    Ok(tagged)
}

/// The service's image built from `commit`'s tree (a clean worktree,
/// vendored from the stack's registry, `docker build` of the service's
/// Dockerfile), tagged `shared-fleet/<service>:<commit>`.
fn build_from_commit(
    layout: &Layout,
    engine: &Engine,
    service: &str,
    commit: &str,
) -> Result<String> {
    let registry = crate::fleet::swarm_registry(layout);
    let tagged = format!("shared-fleet/{service}:{}", &commit[..commit.len().min(12)]);
    println!("building {tagged} from commit {commit}");
    crate::history::in_worktree_at(layout, commit, &format!("rollout-{service}"), |tree| {
        let dir = tree.join(service);
        if !dir.join("Dockerfile").is_file() {
            bail!("commit {commit} has no {service}/Dockerfile");
        }
        crate::fleet::vendor(layout, &registry, &dir)?;
        let mut build = engine.docker();
        build
            .env("DOCKER_BUILDKIT", "1")
            .args(["build", "--quiet", "-t", &tagged])
            .arg(&dir);
        crate::ops::run::capture(&mut build)?;
        Ok(())
    })?;
    Ok(tagged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(requests: f64, errors: f64) -> Health {
        Health {
            requests,
            errors,
            p99: Some(0.004),
        }
    }

    #[test]
    fn a_new_replica_is_judged_against_the_old_ones() {
        assert_eq!(verdict(&h(100.0, 0.0), &h(300.0, 0.0), 0.05), None);
        let bad = verdict(&h(100.0, 20.0), &h(300.0, 0.0), 0.05).expect("one in five fails");
        assert!(
            bad.contains("20 of 100 requests answered 5xx (20.0 %)"),
            "{bad}"
        );
        // As bad as the old ones (an upstream outage, say): not its fault.
        assert_eq!(verdict(&h(100.0, 20.0), &h(300.0, 60.0), 0.05), None);
        // Within the allowance.
        assert_eq!(verdict(&h(100.0, 3.0), &h(300.0, 0.0), 0.05), None);
        // No traffic yet: nothing to judge.
        assert_eq!(verdict(&Health::default(), &h(300.0, 0.0), 0.05), None);
    }
}
