//! `cargo xtask bench`: load on the real services and on a bare warp
//! baseline in the same run, with wrk (Debian's package), over loopback,
//! bounded in time.
//!
//! Release builds of every service in `fleet.toml` and of `bench/bare-warp`
//! are started on free ports with their default settings (access logs at
//! `info`, to a file; data in a fresh SQLite file each, thrown away after),
//! plus each service's `[env.<service>]` of `bench/bench.toml`, whose
//! `[[setup]]` requests run once; then each `[[run]]` gets `seconds` of load from
//! `connections` connections; wrk reports requests/s and the latency
//! distribution; CPU per request comes from the answering process's
//! `/proc/<pid>/stat`; peak RSS is each process's `VmHWM`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::bench_plan::{Bench, BenchRequest, DriverQuery};
use crate::fleet;
use crate::ops::cargo::cargo;
use crate::ops::postgres::Postgres;
use crate::ops::procs::{self, free_port};
use crate::ops::run::program;
use crate::ops::run::run as exec;
use crate::paths::{BARE_WARP, DB_ANCHOR, Layout};

/// How hard and how long to push.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Seconds of load per endpoint.
    pub seconds: u32,
    /// Concurrent connections.
    pub connections: u32,
    /// wrk threads.
    pub threads: u32,
    /// How many times the whole load runs (a fresh start each time).
    pub runs: u32,
}

/// How many requests the instruction count of an endpoint averages over.
pub const COUNTED_REQUESTS: u32 = 2_000;

/// Instructions per request of one endpoint, counted with callgrind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counted {
    /// e.g. `GET /api/users/{id}`.
    pub endpoint: String,
    /// Which process answered.
    pub target: String,
    /// Requests the count averages over (one keep-alive connection).
    pub requests: u32,
    /// Instructions of the answering process per request, all threads.
    pub instructions_per_request: f64,
    /// Divided by bare warp's for `GET /`.
    pub ratio_to_bare: f64,
}

pub use crate::stats::Spread;

/// One endpoint over every run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// e.g. `GET /api/users/{id}`.
    pub endpoint: String,
    /// Which process answered.
    pub target: String,
    /// Requests per second.
    pub requests_per_sec: Spread,
    /// Throughput over bare warp's, in the same run.
    pub ratio_to_bare: Spread,
    /// Throughput over its query's alone, in the same run.
    pub ratio_to_driver: Option<Spread>,
    /// CPU time per request, microseconds.
    pub cpu_us_per_request: Spread,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: Spread,
    /// Requests that failed, over every run.
    pub errors: u64,
    /// Instructions per request (callgrind; one count, it does not move).
    pub instructions_per_request: Option<f64>,
    /// Those over bare warp's.
    pub instructions_ratio_to_bare: Option<f64>,
}

/// Everything `bench` writes: every run as measured, the instruction
/// counts and the summary.
#[derive(Debug, Clone, Serialize)]
pub struct Runs {
    /// The runs, in order.
    pub runs: Vec<Report>,
    /// Instructions per request, per endpoint.
    pub instructions: Vec<Counted>,
    /// Median and spread per endpoint.
    pub summary: Vec<Summary>,
}

/// The median and spread of each endpoint's figures over `runs`, with its
/// instruction count.
pub fn summarize(runs: &[Report], counted: &[Counted]) -> Vec<Summary> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    let zero = Spread {
        median: 0.0,
        min: 0.0,
        max: 0.0,
    };
    first
        .results
        .iter()
        .map(|row| {
            let same: Vec<&Measured> = runs
                .iter()
                .filter_map(|r| r.results.iter().find(|m| m.endpoint == row.endpoint))
                .collect();
            let spread = |f: fn(&Measured) -> f64| {
                Spread::of(&same.iter().map(|m| f(m)).collect::<Vec<_>>()).unwrap_or(zero)
            };
            let count = counted.iter().find(|c| c.endpoint == row.endpoint);
            Summary {
                endpoint: row.endpoint.clone(),
                target: row.target.clone(),
                requests_per_sec: spread(|m| m.requests_per_sec),
                ratio_to_bare: spread(|m| m.ratio_to_bare),
                ratio_to_driver: Spread::of(
                    &same
                        .iter()
                        .filter_map(|m| m.ratio_to_driver)
                        .collect::<Vec<_>>(),
                ),
                cpu_us_per_request: spread(|m| m.cpu_us_per_request),
                p99_ms: spread(|m| m.p99_ms),
                errors: same.iter().map(|m| m.non_2xx + m.socket_errors).sum(),
                instructions_per_request: count.map(|c| c.instructions_per_request),
                instructions_ratio_to_bare: count.map(|c| c.ratio_to_bare),
            }
        })
        .collect()
}

/// What wrk measured for one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    /// e.g. `GET /api/users/{id}`.
    pub endpoint: String,
    /// Which process answered.
    pub target: String,
    /// Requests per second over the run.
    pub requests_per_sec: f64,
    /// Median latency in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency in milliseconds.
    pub p99_ms: f64,
    /// Responses that were not 2xx or 3xx.
    pub non_2xx: u64,
    /// Connect, read, write and timeout errors.
    pub socket_errors: u64,
    /// `requests_per_sec` divided by the bare baseline's.
    pub ratio_to_bare: f64,
    /// CPU time (user + system) the answering process spent per request,
    /// in microseconds (10 ms tick resolution over the whole run).
    pub cpu_us_per_request: f64,
    /// The request's own database query run alone (`bench/db-anchor`, the
    /// same driver, pool and concurrency, no HTTP), executions per second.
    pub driver_ops_per_sec: Option<f64>,
    /// `requests_per_sec` divided by `driver_ops_per_sec`.
    pub ratio_to_driver: Option<f64>,
}

/// The whole result, as written to `bench-results/`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Seconds since the epoch when the run started.
    pub started_unix: u64,
    /// Seconds per endpoint.
    pub seconds: u32,
    /// Connections.
    pub connections: u32,
    /// One row per endpoint.
    pub results: Vec<Measured>,
    /// Peak resident set size per process after the read-only runs, in
    /// KiB: the service itself, before the POST runs fill its store.
    pub peak_rss_after_reads_kib: Vec<(String, u64)>,
    /// Peak resident set size per process over the whole run, in KiB
    /// (includes every user and order the POST runs stored).
    pub peak_rss_kib: Vec<(String, u64)>,
}

/// Milliseconds from a wrk duration such as `512.00us`, `1.23ms` or `2.01s`.
fn millis(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// Requests/s, p50 and p99 (ms), non-2xx count and socket errors from
/// `wrk --latency` output.
pub fn parse_wrk(output: &str) -> Result<(f64, f64, f64, u64, u64)> {
    let mut rps = None;
    let (mut p50, mut p99) = (None, None);
    let (mut non_2xx, mut errors) = (0, 0);
    for line in output.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            rps = v.trim().parse::<f64>().ok();
        } else if let Some(v) = line.strip_prefix("50%") {
            p50 = millis(v);
        } else if let Some(v) = line.strip_prefix("99%") {
            p99 = millis(v);
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            non_2xx = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            errors = v
                .split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum();
        }
    }
    match (rps, p50, p99) {
        (Some(rps), Some(p50), Some(p99)) => Ok((rps, p50, p99, non_2xx, errors)),
        _ => bail!("could not read wrk's output:\n{output}"),
    }
}

/// Peak resident set size of `pid` in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .context("no VmHWM in /proc status")
}

/// A process started for the benchmark, stopped when dropped.
struct Proc {
    name: String,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_as(
    name: &str,
    mut cmd: Command,
    env: &[(String, String)],
    health: &str,
    logs: &Path,
) -> Result<Proc> {
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let log = logs.join(format!("{name}.log"));
    // Under valgrind a start takes seconds, not milliseconds.
    let child = procs::spawn_ready(cmd, &log, health, Duration::from_secs(90))?;
    Ok(Proc {
        name: name.to_string(),
        child,
    })
}

/// Runs `bench`: the load `load.runs` times (a fresh start each), then the
/// instruction counts; prints the summary (median and range of each
/// figure) and writes every run, the counts and the summary as JSON under
/// `bench-results/` (git-ignored).
pub fn run(layout: &Layout, load: Load) -> Result<()> {
    let wrk = prepare(layout)?;
    crate::ops::postgres::ensure_installed()?;
    let pg = crate::ops::postgres::Throwaway::start("bench")?;
    eprintln!(
        "==> a throwaway PostgreSQL 15 on 127.0.0.1:{} for the PostgreSQL pass",
        pg.0.port
    );
    let mut runs = Vec::new();
    for i in 1..=load.runs.max(1) {
        eprintln!("==> run {i} of {}", load.runs.max(1));
        let report = bench(layout, load, &wrk, Some(&pg.0))?;
        eprint!("{}", render(&report));
        runs.push(report);
    }
    let counted = instructions(layout, Some(&pg.0))?;
    let summary = summarize(&runs, &counted);
    print!("{}", render_summary(&summary, &runs));
    let all = Runs {
        runs,
        instructions: counted,
        summary,
    };
    let dir = layout.root.join("bench-results");
    std::fs::create_dir_all(&dir)?;
    let started = all.runs.first().map_or(0, |r| r.started_unix);
    let path = dir.join(format!("bench-{started}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&all)?)?;
    println!("written to {}", path.display());
    Ok(())
}

/// The summary as a table: medians, with each figure's range over the
/// runs, and the instruction counts.
pub fn render_summary(summary: &[Summary], runs: &[Report]) -> String {
    let mut out = format!(
        "{:<22} {:>10} {:>6} {:>16} {:>16} {:>11} {:>9} {:>12} {:>8} {:>6}\n",
        "endpoint",
        "req/s",
        "range",
        "x bare (range)",
        "x db (range)",
        "CPU us/req",
        "p99 ms",
        "instr/req",
        "x bare",
        "errors"
    );
    let ratio = |s: &Spread| format!("{:.2} ({:.2}-{:.2})", s.median, s.min, s.max);
    for s in summary {
        out.push_str(&format!(
            "{:<22} {:>10.0} {:>5.0}% {:>16} {:>16} {:>11.1} {:>9.2} {:>12} {:>8} {:>6}\n",
            s.endpoint,
            s.requests_per_sec.median,
            s.requests_per_sec.range_percent(),
            ratio(&s.ratio_to_bare),
            s.ratio_to_driver.as_ref().map_or("-".into(), ratio),
            s.cpu_us_per_request.median,
            s.p99_ms.median,
            s.instructions_per_request
                .map_or("-".into(), |i| format!("{i:.0}")),
            s.instructions_ratio_to_bare
                .map_or("-".into(), |r| format!("{r:.2}")),
            s.errors
        ));
    }
    if let Some(first) = runs.first() {
        out.push_str(&format!(
            "(medians of {} runs, {}s per endpoint, {} connections; instructions per request are \
             the repeatable figure, counted with callgrind over {COUNTED_REQUESTS} requests)\n",
            runs.len(),
            first.seconds,
            first.connections
        ));
    }
    out
}

/// The wrk Lua script for `req`: method, path, headers and a body whose
/// `{unique}` becomes `<thread>-<n>`.
fn wrk_lua(req: &BenchRequest) -> String {
    let body = req.body.clone().unwrap_or_default();
    let lua_str = |s: &str| format!("{s:?}");
    let parts: Vec<&str> = body.split("{unique}").collect();
    let body_expr = if parts.len() == 1 {
        lua_str(&body)
    } else {
        parts
            .iter()
            .map(|p| lua_str(p))
            .collect::<Vec<_>>()
            .join(" .. id .. \"-\" .. n .. ")
    };
    let headers = if req.body.is_some() {
        r#"{["content-type"] = "application/json"}"#
    } else {
        "{}"
    };
    format!(
        r#"-- `id` is a global: setup() runs in wrk's main Lua state and sets it
-- in each thread's state; a `local` would be captured as 0 everywhere.
id = 0
local n = 0
function setup(thread) id = id + 1; thread:set("id", id) end
function request()
  n = n + 1
  return wrk.format({method}, {path}, {headers}, {body})
end
"#,
        method = lua_str(&req.method),
        path = lua_str(&req.path),
        body = if req.body.is_some() {
            body_expr
        } else {
            "nil".into()
        },
    )
}

/// What every run needs, done once: wrk (installed when missing), the
/// registry with every pinned shared-lib version, and release builds of
/// every service, `bench/bare-warp` and `bench/db-anchor`. Returns wrk.
pub fn prepare(layout: &Layout) -> Result<std::path::PathBuf> {
    let wrk = crate::ops::tools::ensure_debian("wrk", "wrk")?;
    let fleet = layout.fleet()?;
    let (registry, _) = super::registry(layout)?;
    super::publish_pinned(layout, &registry)?;
    eprintln!("==> release builds of every service, {BARE_WARP} and {DB_ANCHOR}");
    let projects = fleet.names().into_iter().chain([BARE_WARP, DB_ANCHOR]);
    for project in projects {
        exec(&mut cargo(
            layout,
            layout.project(project),
            &["build", "--release", "--locked", "--quiet"],
        ))?;
    }
    Ok(wrk)
}

/// One run of the load on the builds [`prepare`] made, every process
/// started afresh.
pub fn bench(layout: &Layout, load: Load, wrk: &Path, pg: Option<&Postgres>) -> Result<Report> {
    let fleet = layout.fleet()?;
    let plan = Bench::load(&layout.root, &fleet)?;
    let release = layout.target_dir().join("release");
    let logs = layout.state_dir().join("bench");
    std::fs::create_dir_all(&logs)?;
    let started_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let scripts = tempfile::tempdir()?;
    let (bare, bare_url) = start_bare(&release, &logs, &|bin| Ok(program(bin)))?;
    let bare_row = measure(
        load,
        wrk,
        scripts.path(),
        &bare_request(),
        &bare,
        &bare_url,
        None,
        "",
    )?;
    let bare_rps = bare_row.requests_per_sec;
    let mut results = vec![bare_row];
    let mut after_reads = Vec::new();
    let mut peaks = Vec::new();
    // Each service on a fresh SQLite file of its own, thrown away after;
    // then, with a server, on a fresh PostgreSQL database of its own.
    let data = tempfile::tempdir()?;
    let stores: Vec<Store> = std::iter::once(Store::Sqlite(data.path()))
        .chain(pg.map(Store::Postgres))
        .collect();
    for store in &stores {
        let started = start_services(&fleet, &plan, &release, &logs, store, &|bin| {
            Ok(program(bin))
        })?;
        for req in &plan.run {
            if req.method != "GET" && after_reads.is_empty() {
                for p in started.services.iter().chain(std::iter::once(&bare)) {
                    after_reads.push((p.name.clone(), peak_rss_kib(p.child.id())?));
                }
            }
            let target = started
                .services
                .iter()
                .find(|p| p.name == req.service)
                .context("bench request for a service that is not running")?;
            let base = fleet::url(started.ports[&req.service]);
            let mut row = measure(
                load,
                wrk,
                scripts.path(),
                req,
                target,
                &base,
                Some(bare_rps),
                store.suffix(),
            )?;
            if let Some(query) = &req.driver {
                eprintln!(
                    "==> {}{}: its query alone, {}",
                    req.label(),
                    store.suffix(),
                    store.anchor()
                );
                let env = &started.env[&req.service];
                let ops = anchor(
                    &release,
                    store,
                    env,
                    &req.service,
                    query,
                    load,
                    scripts.path(),
                )?;
                row.driver_ops_per_sec = Some(ops);
                row.ratio_to_driver = (ops > 0.0).then(|| row.requests_per_sec / ops);
            }
            results.push(row);
        }
        for p in &started.services {
            peaks.push((
                format!("{}{}", p.name, store.suffix()),
                peak_rss_kib(p.child.id())?,
            ));
        }
    }
    peaks.push((bare.name.clone(), peak_rss_kib(bare.child.id())?));
    Ok(Report {
        started_unix,
        seconds: load.seconds,
        connections: load.connections,
        results,
        peak_rss_after_reads_kib: after_reads,
        peak_rss_kib: peaks,
    })
}

/// wrk's load on `req` at `base` for `load.seconds`, with the answering
/// process's CPU; `bare_rps` is bare warp's rate of the same run (`None`
/// for bare warp itself); `suffix` names the backend in the label.
#[allow(clippy::too_many_arguments)]
fn measure(
    load: Load,
    wrk: &Path,
    scripts: &Path,
    req: &BenchRequest,
    target: &Proc,
    base: &str,
    bare_rps: Option<f64>,
    suffix: &str,
) -> Result<Measured> {
    let label = format!("{}{suffix}", req.label());
    eprintln!(
        "==> {label}: {}s, {} connections",
        load.seconds, load.connections
    );
    let script = scripts.join(format!(
        "run-{}.lua",
        label.replace(['/', ' ', '{', '}', '(', ')'], "_")
    ));
    std::fs::write(&script, wrk_lua(req))?;
    let cpu_before = cpu_ticks(target.child.id())?;
    let text = crate::ops::run::capture(
        program(wrk)
            .args([
                format!("-t{}", load.threads),
                format!("-c{}", load.connections),
                format!("-d{}s", load.seconds),
                "--timeout".into(),
                "2s".into(),
                "--latency".into(),
                "-s".into(),
            ])
            .arg(&script)
            .arg(format!("{base}{}", req.path)),
    )?;
    let cpu = cpu_ticks(target.child.id())?.saturating_sub(cpu_before);
    let (rps, p50, p99, non_2xx, socket_errors) = parse_wrk(&text)?;
    let requests = rps * f64::from(load.seconds);
    let bare_rps = bare_rps.unwrap_or(rps);
    Ok(Measured {
        endpoint: label,
        target: req.service.clone(),
        requests_per_sec: rps,
        p50_ms: p50,
        p99_ms: p99,
        non_2xx,
        socket_errors,
        ratio_to_bare: if bare_rps > 0.0 { rps / bare_rps } else { 0.0 },
        cpu_us_per_request: if requests > 0.0 {
            cpu as f64 * 1e6 / clock_ticks_per_sec() / requests
        } else {
            0.0
        },
        driver_ops_per_sec: None,
        ratio_to_driver: None,
    })
}

/// Where the services keep their data for one pass of the benchmark.
enum Store<'a> {
    /// A fresh SQLite file per service under this directory.
    Sqlite(&'a Path),
    /// A fresh database per service on this server.
    Postgres(&'a Postgres),
}

impl Store<'_> {
    /// What the endpoint labels of this pass end with.
    fn suffix(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "",
            Store::Postgres(_) => " (PostgreSQL)",
        }
    }

    /// What the database anchor of this pass is.
    fn anchor(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "through shared-lib's data layer (bench/db-anchor)",
            Store::Postgres(_) => "pgbench, prepared",
        }
    }

    /// The environment that points `service` at a fresh database.
    fn env(&self, service: &str) -> Result<Vec<(String, String)>> {
        Ok(match self {
            Store::Sqlite(dir) => vec![(
                "DATA_DIR".into(),
                dir.join(service).to_string_lossy().into_owned(),
            )],
            Store::Postgres(pg) => {
                pg.drop_database(service)?;
                vec![("DATABASE_URL".into(), pg.ensure_database(service)?)]
            }
        })
    }
}

/// `query` alone against `service`'s database at the load's concurrency
/// for the load's seconds: on SQLite through `bench/db-anchor` (shared-lib's
/// data layer, no HTTP), on PostgreSQL through pgbench (prepared protocol,
/// `-c connections -j 2`). Executions per second.
fn anchor(
    release: &Path,
    store: &Store,
    env: &[(String, String)],
    service: &str,
    query: &DriverQuery,
    load: Load,
    scripts: &Path,
) -> Result<f64> {
    match store {
        Store::Sqlite(_) => {
            let mut anchor = program(release.join("db-anchor"));
            anchor
                .envs(env.iter().map(|(k, v)| (k, v)))
                .arg(service)
                .arg(load.connections.to_string())
                .arg(load.seconds.to_string())
                .arg(&query.sql)
                .args(&query.binds);
            let out = crate::ops::run::capture(&mut anchor)?;
            let value: serde_json::Value = serde_json::from_str(out.trim())
                .with_context(|| format!("{DB_ANCHOR} printed {out:?}"))?;
            value["ops_per_sec"]
                .as_f64()
                .with_context(|| format!("{DB_ANCHOR} printed {out:?}"))
        }
        Store::Postgres(_) => {
            let url = env
                .iter()
                .find(|(k, _)| k == "DATABASE_URL")
                .map(|(_, v)| v.clone())
                .context("no DATABASE_URL for the PostgreSQL pass")?;
            let script = scripts.join(format!("{service}.pgbench.sql"));
            std::fs::write(&script, pgbench_script(query))?;
            let out = crate::ops::run::capture(
                program(Path::new(crate::ops::postgres::BIN_DIR).join("pgbench"))
                    .args(["-n", "-M", "prepared", "-f"])
                    .arg(&script)
                    .args([
                        format!("-c{}", load.connections),
                        "-j2".into(),
                        format!("-T{}", load.seconds),
                    ])
                    .arg(&url),
            )?;
            parse_pgbench(&out)
        }
    }
}

/// The driver query as a pgbench script: `$n` becomes a pgbench variable
/// (`\set pN` for an integer bind; a text bind is written in place, its
/// `{unique}` made unique from the client id and a random number).
pub fn pgbench_script(query: &DriverQuery) -> String {
    let mut script = String::new();
    let mut sql = query.sql.clone();
    if query.binds.iter().any(|b| b.contains("{unique}")) {
        script.push_str("\\set u random(1, 1000000000000)\n");
    }
    // From the last, so `$1` does not match the start of `$10`.
    for (i, bind) in query.binds.iter().enumerate().rev() {
        let n = i + 1;
        let value = if bind.parse::<i64>().is_ok() {
            script.push_str(&format!("\\set p{n} {bind}\n"));
            format!(":p{n}")
        } else {
            let quoted = format!("'{}'", bind.replace('\'', "''"));
            quoted.replace("{unique}", "' || :client_id || '-' || :u || '")
        };
        sql = sql.replace(&format!("${n}"), &value);
    }
    script.push_str(&sql);
    script.push_str(";\n");
    script
}

/// Transactions per second from pgbench's report (`tps = 1234.5 (...)`).
pub fn parse_pgbench(output: &str) -> Result<f64> {
    output
        .lines()
        .find_map(|l| l.trim().strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("pgbench printed no tps line: {output}"))
}

/// The fleet as the benchmark runs it, ready, the plan's setup requests
/// made.
struct Started {
    ports: BTreeMap<String, u16>,
    services: Vec<Proc>,
    /// Each service's database settings.
    env: BTreeMap<String, Vec<(String, String)>>,
}

/// Starts every service (its data in `store`) from the release builds,
/// each through `wrap` (plain, or under callgrind), then makes the plan's
/// `[[setup]]` requests.
fn start_services(
    fleet: &crate::manifest::Fleet,
    plan: &Bench,
    release: &Path,
    logs: &Path,
    store: &Store,
    wrap: &dyn Fn(&Path) -> Result<Command>,
) -> Result<Started> {
    let mut ports = BTreeMap::new();
    for s in &fleet.services {
        ports.insert(s.name.clone(), free_port()?);
    }
    let mut services = Vec::new();
    let mut envs = BTreeMap::new();
    for s in &fleet.services {
        let mut env = fleet::service_env(fleet, s, |s| ports[&s.name])?;
        let data = store.env(&s.name)?;
        env.extend(data.iter().cloned());
        env.extend(plan.env_of(&s.name).map(|(k, v)| (k.clone(), v.clone())));
        let ready = format!("{}{}", fleet::url(ports[&s.name]), s.ready);
        let cmd = wrap(&release.join(&s.name))?;
        let log_name = match store {
            Store::Sqlite(_) => s.name.clone(),
            Store::Postgres(_) => format!("{}-postgres", s.name),
        };
        let mut proc = start_as(&log_name, cmd, &env, &ready, logs)?;
        proc.name = s.name.clone();
        services.push(proc);
        envs.insert(s.name.clone(), data);
    }
    let http = crate::ops::http::client();
    for req in &plan.setup {
        let url = format!("{}{}", fleet::url(ports[&req.service]), req.path);
        send(&http, req, &url, "setup")?;
    }
    Ok(Started {
        ports,
        services,
        env: envs,
    })
}

/// bare warp from its release build, through `wrap`, on a free port.
fn start_bare(
    release: &Path,
    logs: &Path,
    wrap: &dyn Fn(&Path) -> Result<Command>,
) -> Result<(Proc, String)> {
    let bare_port = free_port()?;
    let bare_url = fleet::url(bare_port);
    let bare = start_as(
        "bare-warp",
        wrap(&release.join("bare-warp"))?,
        &[("PORT".to_string(), bare_port.to_string())],
        &bare_url,
        logs,
    )?;
    Ok((bare, bare_url))
}

/// `req` to `url`, `{unique}` in its body replaced by `unique`; an error
/// unless it answers 2xx.
fn send(
    http: &crate::ops::http::Client,
    req: &BenchRequest,
    url: &str,
    unique: &str,
) -> Result<()> {
    let body = req.body.as_ref().map(|b| b.replace("{unique}", unique));
    let status = crate::ops::http::send(http, &req.method, url, body)?;
    if !(200..300).contains(&status) {
        bail!("bench: {} answered {status}", req.label());
    }
    Ok(())
}

/// bare warp's `GET /`, the first row of every table.
fn bare_request() -> BenchRequest {
    BenchRequest {
        name: Some("GET / (bare warp)".into()),
        service: "bare-warp".into(),
        method: "GET".into(),
        path: "/".into(),
        body: None,
        driver: None,
    }
}

/// Instructions per request of bare warp's `GET /` and of every
/// `[[run]]` endpoint of the plan: the fleet started again with every process
/// under callgrind (counting off), then for each endpoint 200 requests to
/// warm up and [`COUNTED_REQUESTS`] counted, on one keep-alive connection,
/// one at a time.
pub fn instructions(layout: &Layout, pg: Option<&Postgres>) -> Result<Vec<Counted>> {
    let fleet = layout.fleet()?;
    let plan = Bench::load(&layout.root, &fleet)?;
    let release = layout.target_dir().join("release");
    let logs = layout.state_dir().join("bench").join("callgrind");
    if logs.exists() {
        std::fs::remove_dir_all(&logs)?;
    }
    std::fs::create_dir_all(&logs)?;
    let data = tempfile::tempdir()?;
    let wrap = |bin: &Path| crate::ops::callgrind::command(bin, &logs);
    let http = crate::ops::http::client();
    let (bare, bare_url) = start_bare(&release, &logs, &wrap)?;
    let bare_count = count(&http, &bare_request(), &bare, &bare_url, &logs)?;
    let mut counted = vec![Counted {
        endpoint: bare_request().label(),
        target: "bare-warp".into(),
        requests: COUNTED_REQUESTS,
        instructions_per_request: bare_count,
        ratio_to_bare: 1.0,
    }];
    let stores: Vec<Store> = std::iter::once(Store::Sqlite(data.path()))
        .chain(pg.map(Store::Postgres))
        .collect();
    for store in &stores {
        let started = start_services(&fleet, &plan, &release, &logs, store, &wrap)?;
        for req in &plan.run {
            let proc = started
                .services
                .iter()
                .find(|p| p.name == req.service)
                .context("bench request for a service that is not running")?;
            let base = fleet::url(started.ports[&req.service]);
            let per = count(&http, req, proc, &base, &logs)?;
            counted.push(Counted {
                endpoint: format!("{}{}", req.label(), store.suffix()),
                target: req.service.clone(),
                requests: COUNTED_REQUESTS,
                instructions_per_request: per,
                ratio_to_bare: per / bare_count,
            });
        }
    }
    Ok(counted)
}

/// Instructions per request of `req` answered by `proc` (under callgrind):
/// 200 requests to warm up, then [`COUNTED_REQUESTS`] counted.
fn count(
    http: &crate::ops::http::Client,
    req: &BenchRequest,
    proc: &Proc,
    base: &str,
    logs: &Path,
) -> Result<f64> {
    eprintln!(
        "==> {}: instructions per request (callgrind, {COUNTED_REQUESTS} requests)",
        req.label()
    );
    let url = format!("{base}{}", req.path);
    for n in 0..200 {
        send(http, req, &url, &format!("warm-{n}"))?;
    }
    let total = crate::ops::callgrind::count(proc.child.id(), logs, || {
        for n in 0..COUNTED_REQUESTS {
            send(http, req, &url, &format!("counted-{n}"))?;
        }
        Ok(())
    })?;
    Ok(total as f64 / f64::from(COUNTED_REQUESTS))
}

/// User plus system CPU time of `pid` so far, in clock ticks
/// (`/proc/<pid>/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit(") ").next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command name: field 3 is index 0, so utime (14) is 11.
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(tick(11) + tick(12))
}

/// Clock ticks per second of `/proc/<pid>/stat`: USER_HZ, which Linux
/// fixes at 100 for user space on every architecture it runs here.
fn clock_ticks_per_sec() -> f64 {
    100.0
}

/// The report as a table.
pub fn render(report: &Report) -> String {
    let mut out = format!(
        "{:<22} {:<14} {:>10} {:>9} {:>9} {:>8} {:>8} {:>10} {:>10} {:>6}\n",
        "endpoint",
        "process",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "x bare",
        "CPU us/req",
        "db ops/s",
        "x db"
    );
    for r in &report.results {
        let (db, x_db) = match (r.driver_ops_per_sec, r.ratio_to_driver) {
            (Some(d), Some(x)) => (format!("{d:.0}"), format!("{x:.2}")),
            _ => ("-".into(), "-".into()),
        };
        out.push_str(&format!(
            "{:<22} {:<14} {:>10.0} {:>9.2} {:>9.2} {:>8} {:>8.2} {:>10.1} {:>10} {:>6}\n",
            r.endpoint,
            r.target,
            r.requests_per_sec,
            r.p50_ms,
            r.p99_ms,
            r.non_2xx + r.socket_errors,
            r.ratio_to_bare,
            r.cpu_us_per_request,
            db,
            x_db
        ));
    }
    out.push_str(&format!(
        "({}s per endpoint, {} connections)\n",
        report.seconds, report.connections
    ));
    out.push_str("peak RSS          after reads   whole run (incl. stored data)\n");
    let runs = report
        .peak_rss_after_reads_kib
        .iter()
        .zip(&report.peak_rss_kib);
    for ((name, reads), (_, all)) in runs {
        let mib = |kib: &u64| *kib as f64 / 1024.0;
        out.push_str(&format!(
            "  {:<14} {:>8.1} MiB {:>10.1} MiB\n",
            name,
            mib(reads),
            mib(all)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Running 5s test @ http://127.0.0.1:8081/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   512.00us  300.00us  10.00ms   90.00%
    Req/Sec    30.00k     2.00k   35.00k    70.00%
  Latency Distribution
     50%  450.00us
     75%  600.00us
     90%  800.00us
     99%    2.10ms
  300000 requests in 5.00s, 40.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  60000.12
Transfer/sec:      8.00MB
";

    #[test]
    fn wrk_output_is_read_in_milliseconds() {
        let (rps, p50, p99, non_2xx, errors) = parse_wrk(SAMPLE).unwrap();
        assert_eq!(rps, 60000.12);
        assert!((p50 - 0.45).abs() < 1e-9);
        assert!((p99 - 2.1).abs() < 1e-9);
        assert_eq!((non_2xx, errors), (7, 3));
        assert!(parse_wrk("garbage").is_err());
        assert_eq!(millis("1.5s"), Some(1500.0));
    }

    #[test]
    fn spreads_take_the_median_and_the_range() {
        let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Spread::of(&[1.0, 2.0, 3.0, 10.0]).unwrap().median, 2.5);
        assert!(Spread::of(&[]).is_none());
        assert!((Spread::of(&[90.0, 100.0, 110.0]).unwrap().range_percent() - 20.0).abs() < 1e-9);
    }

    #[test]
    fn the_driver_query_becomes_a_pgbench_script() {
        let read = DriverQuery {
            sql: "SELECT id FROM users WHERE id = $1".into(),
            binds: vec!["1".into()],
        };
        assert_eq!(
            pgbench_script(&read),
            "\\set p1 1\nSELECT id FROM users WHERE id = :p1;\n"
        );
        let write = DriverQuery {
            sql: "INSERT INTO t (a, b, c, d, e, f, g, h, i, j) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)".into(),
            binds: ["x{unique}@e", "it's", "3", "4", "5", "6", "7", "8", "9", "10"]
                .map(String::from)
                .to_vec(),
        };
        let script = pgbench_script(&write);
        assert!(
            script.starts_with("\\set u random(1, 1000000000000)\n"),
            "{script}"
        );
        assert!(
            script.contains("VALUES ('x' || :client_id || '-' || :u || '@e', 'it''s', :p3, :p4, :p5, :p6, :p7, :p8, :p9, :p10);"),
            "{script}"
        );
        assert_eq!(
            parse_pgbench("number of failed transactions: 0 (0.000%)\ntps = 86612.345678 (without initial connection time)\n").unwrap(),
            86612.345678
        );
        assert!(parse_pgbench("connection refused").is_err());
    }

    #[test]
    fn the_summary_has_one_row_per_endpoint_with_its_instructions() {
        let row = |rps: f64| Measured {
            endpoint: "GET /".into(),
            target: "users-svc".into(),
            requests_per_sec: rps,
            p50_ms: 1.0,
            p99_ms: 2.0,
            non_2xx: 1,
            socket_errors: 0,
            ratio_to_bare: rps / 100.0,
            cpu_us_per_request: 10.0,
            driver_ops_per_sec: None,
            ratio_to_driver: None,
        };
        let report = |rps: f64| Report {
            started_unix: 0,
            seconds: 5,
            connections: 32,
            results: vec![row(rps)],
            peak_rss_after_reads_kib: vec![],
            peak_rss_kib: vec![],
        };
        let counted = [Counted {
            endpoint: "GET /".into(),
            target: "users-svc".into(),
            requests: 10,
            instructions_per_request: 30_000.0,
            ratio_to_bare: 2.5,
        }];
        let summary = summarize(&[report(50.0), report(70.0), report(60.0)], &counted);
        assert_eq!(summary.len(), 1);
        assert_eq!(summary[0].requests_per_sec.median, 60.0);
        assert_eq!(summary[0].ratio_to_bare.min, 0.5);
        assert_eq!(summary[0].errors, 3);
        assert_eq!(summary[0].instructions_ratio_to_bare, Some(2.5));
        assert!(summary[0].ratio_to_driver.is_none());
        let table = render_summary(&summary, &[report(1.0)]);
        assert!(table.contains("30000"), "{table}");
    }
}
