//! The fleet-growth benchmark (`cargo xtask fleet-bench`): what the
//! everyday commands cost as the fleet grows.
//!
//! A throwaway clone of this checkout's HEAD (under
//! `<target>/fleet-bench/checkout`) grows
//! by `cargo xtask new-service svc-NN --calls <the previous service>`,
//! each service committed, to every size asked. Its services listen on
//! this checkout's ports plus 10000, so a running fleet stays up; it reads
//! the fleet's registry on port 8000. Its builds go to a cache of its own,
//! `<target>/fleet-bench/target`, without debug info
//! (`CARGO_PROFILE_DEV_DEBUG=0`): twenty services' test binaries with
//! debug info took about 45 GB (and filled this machine's disk), without
//! it a few. Both are removed at the end. At each size, after one untimed run
//! that builds what the new services need, every command runs `runs`
//! times, timed as a user runs it (`cargo xtask ...` in the clone):
//!
//! - `status`;
//! - `up` with nothing changed;
//! - `check-consumers` with nothing changed;
//! - `check-consumers` right after a shared-lib change (a comment added to
//!   `src/lib.rs`, so shared-lib and every service recompile), beside
//!   shared-lib's own compile alone;
//! - `release patch` (the dry run: semver guard and consumer check);
//! - `test`'s per-service part: `cargo test --locked` in every service.
//!
//! One more run of each, in the nothing-changed state, goes under strace
//! ([`crate::ops::strace`]): programs started, crates compiled, registry
//! connections. Nothing here asserts a time; the figures are reported.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::history::SHARED_LIB;
use crate::ops::cargo::cargo;
use crate::ops::strace::{self, Counts};
use crate::paths::Layout;
use crate::stats::Spread;

/// The sizes measured unless told otherwise.
pub const SIZES: [usize; 4] = [2, 5, 10, 20];

/// The clone's ports are this checkout's plus this.
pub const PORT_OFFSET: u16 = 10_000;

/// One command measured at one size.
#[derive(Debug, Clone, Serialize)]
pub struct Measure {
    /// What ran, e.g. `status`.
    pub command: String,
    /// Services in the fleet.
    pub services: usize,
    /// Wall time of every run, in seconds.
    pub seconds: Vec<f64>,
    /// Their median and range.
    pub spread: Spread,
    /// The median divided by the number of services.
    pub per_service: f64,
    /// What the traced run did (`None` for the changed-shared-lib check,
    /// which is not traced).
    pub counts: Option<Counts>,
}

/// The whole benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The commit of the checkout the clone was made from.
    pub commit: String,
    /// Runs per command and size.
    pub runs: u32,
    /// Every measure, size by size.
    pub measures: Vec<Measure>,
    /// Seconds `new-service` took for each service added.
    pub new_service_seconds: Vec<f64>,
}

/// The labels, in table order.
pub const STATUS: &str = "status";
/// `up` with nothing changed.
pub const UP: &str = "up, nothing changed";
/// The consumer check with nothing changed.
pub const CHECK: &str = "check-consumers, nothing changed";
/// The consumer check right after a shared-lib change.
pub const CHECK_CHANGED: &str = "check-consumers, shared-lib changed";
/// shared-lib's own compile after that change, alone.
pub const SHARED_LIB_COMPILE: &str = "shared-lib's own compile";
/// The release dry run.
pub const RELEASE: &str = "release patch (dry run)";
/// Every service's tests.
pub const TEST: &str = "cargo test in every service";

/// The throwaway checkout the benchmark grows.
struct Clone {
    layout: Layout,
    registry_port: u16,
    traces: PathBuf,
}

impl Clone {
    /// `cargo xtask <args>` in the clone.
    fn xtask(&self, args: &[&str]) -> Command {
        let mut all = vec!["xtask"];
        all.extend_from_slice(args);
        let mut cmd = self.cargo(&self.layout.root, &all);
        cmd.env_remove("CARGO_MANIFEST_DIR");
        cmd
    }

    /// `cargo <args>` in `dir`, building into the clone's cache.
    fn cargo(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = cargo(&self.layout, dir, args);
        cmd.env("CARGO_TERM_COLOR", "never")
            .env("CARGO_PROFILE_DEV_DEBUG", "0");
        cmd
    }

    /// `cargo test --locked` in each service, one command per service.
    fn service_tests(&self) -> Result<Vec<Command>> {
        Ok(self
            .layout
            .fleet()?
            .services
            .iter()
            .map(|s| {
                self.cargo(
                    &self.layout.project(&s.name),
                    &["test", "--locked", "--quiet"],
                )
            })
            .collect())
    }

    /// Runs `cmds` one after the other; the seconds they took together.
    fn timed(&self, cmds: &mut [Command]) -> Result<f64> {
        let started = Instant::now();
        for cmd in cmds.iter_mut() {
            must_succeed(cmd)?;
        }
        Ok(started.elapsed().as_secs_f64())
    }

    /// Runs `cmds` under strace; what they did together.
    fn counted(&self, label: &str, cmds: &mut [Command]) -> Result<Counts> {
        std::fs::create_dir_all(&self.traces)?;
        let mut total = Counts::default();
        for (i, cmd) in cmds.iter_mut().enumerate() {
            let file = self.traces.join(format!(
                "{}-{i}.trace",
                label.replace([' ', ',', '\''], "-")
            ));
            must_succeed(&mut strace::traced(cmd, &file)?)?;
            total += strace::read(&file, self.registry_port)?;
        }
        Ok(total)
    }

    /// Appends a comment line to shared-lib's `src/lib.rs`, a change every
    /// consumer recompiles for.
    fn touch_shared_lib(&self, n: u32) -> Result<()> {
        let lib = self.layout.project(SHARED_LIB).join("src/lib.rs");
        let mut text = std::fs::read_to_string(&lib)?;
        text.push_str(&format!("// fleet-bench change {n}\n"));
        std::fs::write(&lib, text)?;
        Ok(())
    }
}

/// Makes the commands one measured step runs, afresh for every run.
type Commands<'a> = Box<dyn Fn() -> Result<Vec<Command>> + 'a>;

/// Runs `cmd`, an error with its output's end when it fails.
fn must_succeed(cmd: &mut Command) -> Result<()> {
    let (ok, output) = crate::ops::run::transcript(cmd)?;
    if !ok {
        let tail: Vec<&str> = output.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "`{:?}` failed in the benchmark's clone:\n{}",
            cmd.get_args().collect::<Vec<_>>(),
            tail.join("\n")
        );
    }
    Ok(())
}

/// Makes the clone: HEAD of `layout`, the registry's tokens, ports moved by
/// [`PORT_OFFSET`].
fn make_clone(layout: &Layout, registry_port: u16) -> Result<Clone> {
    let base = bench_dir(layout);
    let root = base.join("checkout");
    if root.exists() {
        // A previous run's services may still run from it.
        let old = Layout::at(root.clone(), base.join("target"));
        crate::fleet::down(&old).ok();
    }
    remove(&base)?;
    std::fs::create_dir_all(&base)?;
    let mut clone = crate::ops::git::git(&base);
    clone
        .args(["clone", "--quiet"])
        .arg(&layout.root)
        .arg(&root);
    crate::ops::run::capture(&mut clone)?;
    let secrets = layout.registry_data();
    for entry in
        std::fs::read_dir(&secrets).with_context(|| format!("cannot read {}", secrets.display()))?
    {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".token") || name.ends_with(".password") {
            let to = root.join("registry/data").join(&name);
            std::fs::create_dir_all(to.parent().context("a parent")?)?;
            std::fs::copy(entry.path(), &to)?;
        }
    }
    let manifest = root.join(crate::manifest::FILE);
    let text = std::fs::read_to_string(&manifest)?;
    std::fs::write(&manifest, shift_ports(&text, PORT_OFFSET)?)?;
    let clone = Clone {
        layout: Layout::at(root, base.join("target")),
        registry_port,
        traces: base.join("traces"),
    };
    commit(&clone.layout.root, "fleet-bench: ports moved")?;
    Ok(clone)
}

/// `fleet.toml` with every service's `port = N` moved by `offset`.
pub fn shift_ports(text: &str, offset: u16) -> Result<String> {
    let mut out = String::new();
    for line in text.lines() {
        match line.strip_prefix("port = ").map(str::parse::<u16>) {
            Some(Ok(port)) => {
                let moved = port
                    .checked_add(offset)
                    .with_context(|| format!("port {port} + {offset} is not a port"))?;
                out.push_str(&format!("port = {moved}\n"));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// Where the clone, its build cache and the traces live while it runs.
fn bench_dir(layout: &Layout) -> PathBuf {
    layout.target_dir().join("fleet-bench")
}

/// Removes `dir` when it exists.
fn remove(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    Ok(())
}

fn commit(root: &Path, message: &str) -> Result<()> {
    for args in [
        &["add", "-A"][..],
        &[
            "-c",
            "user.name=fleet-bench",
            "-c",
            "user.email=fleet-bench@localhost",
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            message,
        ][..],
    ] {
        let mut cmd = crate::ops::git::git(root);
        cmd.args(args);
        crate::ops::run::capture(&mut cmd)?;
    }
    Ok(())
}

/// Runs the benchmark over `sizes` (ascending, at least 2) with `runs`
/// timed runs per command. `progress` gets a line per step, `measured` the
/// report so far after each size (so a run stopped at 20 services keeps
/// what it measured up to 10).
pub fn run(
    layout: &Layout,
    registry_port: u16,
    sizes: &[usize],
    runs: u32,
    progress: &mut dyn FnMut(String),
    measured: &mut dyn FnMut(&Report) -> Result<()>,
) -> Result<Report> {
    if sizes.is_empty() || sizes.windows(2).any(|w| w[0] >= w[1]) || sizes[0] < 2 {
        bail!("--sizes must rise and start at 2 or more, e.g. 2,5,10,20");
    }
    if runs == 0 {
        bail!("--runs must be 1 or more");
    }
    let commit_id = {
        let mut cmd = crate::ops::git::git(&layout.root);
        cmd.args(["rev-parse", "HEAD"]);
        crate::ops::run::capture(&mut cmd)?.trim().to_string()
    };
    progress(format!(
        "cloning {} ({}) into {}",
        layout.root.display(),
        &commit_id[..12],
        layout.target_dir().join("fleet-bench/checkout").display()
    ));
    let clone = make_clone(layout, registry_port)?;
    let mut report = Report {
        commit: commit_id,
        runs,
        measures: Vec::new(),
        new_service_seconds: Vec::new(),
    };
    let result = measure_all(&clone, sizes, &mut report, progress, measured);
    crate::fleet::down(&clone.layout).ok();
    remove(&bench_dir(layout))?;
    result?;
    Ok(report)
}

fn measure_all(
    clone: &Clone,
    sizes: &[usize],
    report: &mut Report,
    progress: &mut dyn FnMut(String),
    measured: &mut dyn FnMut(&Report) -> Result<()>,
) -> Result<()> {
    let runs = report.runs;
    let mut changes = 0;
    for &size in sizes {
        let fleet = clone.layout.fleet()?;
        let mut last = fleet
            .services
            .last()
            .context("the fleet is empty")?
            .name
            .clone();
        let mut count = fleet.services.len();
        while count < size {
            count += 1;
            let name = format!("svc-{count:02}");
            progress(format!(
                "{size} services: new-service {name} --calls {last}"
            ));
            let started = Instant::now();
            must_succeed(&mut clone.xtask(&["new-service", &name, "--calls", &last]))?;
            report
                .new_service_seconds
                .push(started.elapsed().as_secs_f64());
            commit(&clone.layout.root, &format!("{name}: new service"))?;
            last = name;
        }
        let n = clone.layout.fleet()?.services.len();
        if n != size {
            bail!("the clone has {n} services, more than the size {size} asked");
        }
        progress(format!(
            "{size} services: warming up (builds of the new services)"
        ));
        // Restores shared-lib after the last size's change, then builds.
        let mut restore = crate::ops::git::git(&clone.layout.root);
        restore.args(["checkout", "--", SHARED_LIB]);
        crate::ops::run::capture(&mut restore)?;
        clone.timed(&mut [clone.xtask(&["up"])])?;
        clone.timed(&mut [clone.xtask(&["check-consumers", "--json"])])?;
        clone.timed(&mut clone.service_tests()?)?;

        let nothing_changed: Vec<(&str, Commands)> = vec![
            (STATUS, Box::new(|| Ok(vec![clone.xtask(&["status"])]))),
            (UP, Box::new(|| Ok(vec![clone.xtask(&["up"])]))),
            (
                CHECK,
                Box::new(|| Ok(vec![clone.xtask(&["check-consumers", "--json"])])),
            ),
            (
                RELEASE,
                Box::new(|| Ok(vec![clone.xtask(&["release", "patch"])])),
            ),
            (TEST, Box::new(|| clone.service_tests())),
        ];
        for (label, make) in &nothing_changed {
            let mut seconds = Vec::new();
            for run in 1..=runs {
                progress(format!("{size} services: {label} (run {run}/{runs})"));
                seconds.push(clone.timed(&mut make()?)?);
            }
            progress(format!("{size} services: {label} (traced)"));
            let counts = clone.counted(&format!("{size}-{label}"), &mut make()?)?;
            report
                .measures
                .push(measure(label, size, seconds, Some(counts)));
        }

        let (mut checks, mut alone) = (Vec::new(), Vec::new());
        for run in 1..=runs {
            changes += 1;
            clone.touch_shared_lib(changes)?;
            progress(format!(
                "{size} services: {CHECK_CHANGED} (run {run}/{runs})"
            ));
            checks.push(clone.timed(&mut [clone.xtask(&["check-consumers", "--json"])])?);
            let mut build = clone.cargo(&clone.layout.project(SHARED_LIB), &["build", "--quiet"]);
            changes += 1;
            clone.touch_shared_lib(changes)?;
            alone.push(clone.timed(std::slice::from_mut(&mut build))?);
        }
        report
            .measures
            .push(measure(CHECK_CHANGED, size, checks, None));
        report
            .measures
            .push(measure(SHARED_LIB_COMPILE, size, alone, None));
        measured(report)?;
    }
    Ok(())
}

fn measure(label: &str, services: usize, seconds: Vec<f64>, counts: Option<Counts>) -> Measure {
    let spread = Spread::of(&seconds).unwrap_or(Spread {
        median: f64::NAN,
        min: f64::NAN,
        max: f64::NAN,
    });
    Measure {
        command: label.to_string(),
        services,
        per_service: spread.median / services as f64,
        spread,
        seconds,
        counts,
    }
}

/// The Markdown table: one row per command, a column per size (median
/// seconds, and per service), then what grows per service.
pub fn table(report: &Report) -> String {
    let sizes = sizes_of(report);
    let mut out = String::from("| command |");
    for size in &sizes {
        out.push_str(&format!(" {size} services |"));
    }
    out.push_str(" per service at the largest | programs / crates compiled / registry connections at the largest |\n|---|");
    for _ in &sizes {
        out.push_str("---:|");
    }
    out.push_str("---:|---|\n");
    for label in labels(report) {
        out.push_str(&format!("| {label} |"));
        let mut last = None;
        for size in &sizes {
            match find(report, &label, *size) {
                Some(m) => {
                    out.push_str(&format!(" {} |", seconds(m.spread.median)));
                    last = Some(m);
                }
                None => out.push_str(" - |"),
            }
        }
        match last {
            Some(m) => {
                out.push_str(&format!(" {} |", seconds(m.per_service)));
                match m.counts {
                    Some(c) => out.push_str(&format!(
                        " {} / {} / {} |\n",
                        c.processes, c.compilations, c.registry_connections
                    )),
                    None => out.push_str(" - |\n"),
                }
            }
            None => out.push_str(" - | - |\n"),
        }
    }
    out
}

fn seconds(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.0} s")
    }
}

fn sizes_of(report: &Report) -> Vec<usize> {
    let mut sizes: Vec<usize> = report.measures.iter().map(|m| m.services).collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

fn labels(report: &Report) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for m in &report.measures {
        if !labels.contains(&m.command) {
            labels.push(m.command.clone());
        }
    }
    labels
}

fn find<'a>(report: &'a Report, label: &str, size: usize) -> Option<&'a Measure> {
    report
        .measures
        .iter()
        .find(|m| m.command == label && m.services == size)
}

/// The plot: median seconds (log scale) against the number of services,
/// one line per command, as a self-contained SVG.
pub fn svg(report: &Report) -> String {
    const W: f64 = 760.0;
    const H: f64 = 420.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 250.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 50.0;
    const COLORS: [&str; 8] = [
        "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
    ];
    let sizes = sizes_of(report);
    let (xmin, xmax) = (
        *sizes.first().unwrap_or(&0) as f64,
        *sizes.last().unwrap_or(&1) as f64,
    );
    let values: Vec<f64> = report
        .measures
        .iter()
        .map(|m| m.spread.median)
        .filter(|v| *v > 0.0)
        .collect();
    let lo = values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(1e-3);
    let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
    let (dmin, dmax) = (lo.log10().floor(), hi.log10().ceil());
    let x = |v: f64| LEFT + (v - xmin) / (xmax - xmin).max(1.0) * (W - LEFT - RIGHT);
    let y =
        |v: f64| TOP + (dmax - v.max(1e-3).log10()) / (dmax - dmin).max(1.0) * (H - TOP - BOTTOM);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n\
         <text x=\"{LEFT}\" y=\"22\" font-size=\"14\">Wall time per command (median of {} runs, commit {})</text>\n",
        report.runs,
        &report.commit[..report.commit.len().min(12)]
    );
    let mut decade = dmin;
    while decade <= dmax {
        let v = 10f64.powf(decade);
        let yy = y(v);
        out.push_str(&format!(
            "<line x1=\"{LEFT}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} s</text>\n",
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            if v < 1.0 { format!("{v}") } else { format!("{v:.0}") }
        ));
        decade += 1.0;
    }
    for size in &sizes {
        let xx = x(*size as f64);
        out.push_str(&format!(
            "<line x1=\"{xx:.1}\" y1=\"{TOP}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>\n<text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{size}</text>\n",
            H - BOTTOM,
            H - BOTTOM + 18.0
        ));
    }
    out.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">services in the fleet</text>\n",
        (LEFT + W - RIGHT) / 2.0,
        H - 12.0
    ));
    for (i, label) in labels(report).iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<String> = sizes
            .iter()
            .filter_map(|s| find(report, label, *s))
            .map(|m| format!("{:.1},{:.1}", x(m.services as f64), y(m.spread.median)))
            .collect();
        out.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\n",
            points.join(" ")
        ));
        for p in &points {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            out.push_str(&format!(
                "<circle cx=\"{px}\" cy=\"{py}\" r=\"3\" fill=\"{color}\"/>\n"
            ));
        }
        let ly = TOP + 10.0 + i as f64 * 20.0;
        out.push_str(&format!(
            "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{color}\" stroke-width=\"2\"/>\n<text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            W - RIGHT + 15.0,
            W - RIGHT + 35.0,
            W - RIGHT + 40.0,
            ly + 4.0,
            label.replace('\'', "&#39;")
        ));
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let m = |command: &str, services: usize, median: f64| Measure {
            command: command.into(),
            services,
            seconds: vec![median],
            spread: Spread::of(&[median]).unwrap(),
            per_service: median / services as f64,
            counts: Some(Counts {
                processes: 3,
                compilations: 0,
                registry_connections: 1,
            }),
        };
        Report {
            commit: "0123456789abcdef".into(),
            runs: 1,
            measures: vec![
                m(STATUS, 2, 0.3),
                m(UP, 2, 2.0),
                m(STATUS, 5, 0.4),
                m(UP, 5, 4.0),
            ],
            new_service_seconds: vec![],
        }
    }

    #[test]
    fn the_table_has_a_row_per_command_and_a_column_per_size() {
        let table = table(&report());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "| command | 2 services | 5 services | per service at the largest | programs / crates compiled / registry connections at the largest |"
        );
        assert_eq!(
            lines[2],
            "| status | 0.30 s | 0.40 s | 0.08 s | 3 / 0 / 1 |"
        );
        assert_eq!(
            lines[3],
            "| up, nothing changed | 2.00 s | 4.00 s | 0.80 s | 3 / 0 / 1 |"
        );
    }

    #[test]
    fn the_plot_draws_a_line_per_command() {
        let svg = svg(&report());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains(">up, nothing changed</text>"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn ports_move_and_nothing_else_does() {
        let text = "[[service]]\nname = \"a\"\nport = 8081\nready = \"/r\"\n# port = 1\n";
        assert_eq!(
            shift_ports(text, 10_000).unwrap(),
            "[[service]]\nname = \"a\"\nport = 18081\nready = \"/r\"\n# port = 1\n"
        );
        assert!(shift_ports("port = 60000\n", 10_000).is_err());
    }
}
