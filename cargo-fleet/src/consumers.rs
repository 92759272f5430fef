//! The consumer check: which services break if the working tree's shared
//! crate is published? (`cargo fleet check-consumers` prints it, `release`
//! gates on it.)
//!
//! For every service of `fleet.toml` that depends on the shared crate, in
//! its directory or its repository's checkout ([`crate::workspace`]), a
//! throwaway copy is made under `.fleet/consumers/` (the service's own
//! files stay untouched), the candidate is patched in for the registry's
//! crate with cargo's `[patch.<registry>]` (given as `--config`), then the service is built and
//! its tests run. A service whose requirement does not accept the
//! candidate (a new line) is checked "as if bumped": the copy's
//! requirement is rewritten first, and the row says what that bump costs.
//! Builds go to `<target>/consumers`, inside the shared build cache (the
//! first one starts from what the shared cache compiled of the registries'
//! crates, [`crate::ops::cargo::seed_target`]); the
//! copies keep their files' modification times, so a second run rebuilds
//! only what changed, and the real binaries are never overwritten. Services
//! are checked two (or as many as there are cores) at a time.
//! Logs and a Markdown report land in `.fleet/consumers/` (git-ignored).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use semver::{Version, VersionReq};
use serde::Serialize;

use crate::lock::{self, requirement};
use crate::manifest::{Service, Shared};
use crate::ops::cargo::cargo_in;
use crate::workspace::Workspace;

/// How one step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// It succeeded.
    Passed,
    /// It failed.
    Failed,
    /// It did not run (the build failed first).
    Skipped,
}

impl Step {
    fn as_text(self) -> &'static str {
        match self {
            Step::Passed => "ok",
            Step::Failed => "FAILED",
            Step::Skipped => "-",
        }
    }
}

/// What the candidate means for one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Its requirement accepts the candidate and it builds and passes.
    Passes,
    /// Its requirement accepts the candidate and it fails: publishing breaks
    /// it on its next `cargo update`.
    Breaks,
    /// The candidate is a new line for it; bumped, it builds and passes.
    BumpPasses,
    /// The candidate is a new line for it; bumped, it fails (the bump
    /// needs code changes).
    BumpBreaks,
}

impl Verdict {
    /// How the table says it.
    pub fn as_text(self) -> &'static str {
        match self {
            Verdict::Passes => "passes",
            Verdict::Breaks => "BREAKS on its next cargo update",
            Verdict::BumpPasses => "needs a breaking bump; it would pass",
            Verdict::BumpBreaks => "needs a breaking bump; it would break",
        }
    }
}

/// One service's row.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The service.
    pub service: String,
    /// The shared-lib version its Cargo.lock pins.
    pub pinned: String,
    /// Its requirement in Cargo.toml.
    pub requirement: String,
    /// The candidate's version.
    pub candidate: String,
    /// Whether the requirement accepts the candidate.
    pub accepts: bool,
    /// `cargo build` against the candidate.
    pub build: Step,
    /// `cargo test` against the candidate.
    pub tests: Step,
    /// What it means.
    pub verdict: Verdict,
    /// The first failure: a failing test's name or the first compile error.
    pub first_failure: Option<String>,
    /// The log of the build and tests, when something failed.
    pub log: Option<PathBuf>,
    /// Wall time of the build and tests, in seconds.
    pub seconds: f64,
}

/// The whole check.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The shared crate.
    pub shared: String,
    /// The candidate's version.
    pub candidate: String,
    /// One row per service.
    pub services: Vec<Outcome>,
    /// The Markdown report.
    pub markdown: PathBuf,
}

impl Report {
    /// Services whose requirement accepts the candidate and that fail.
    pub fn broken(&self) -> Vec<&Outcome> {
        self.services
            .iter()
            .filter(|o| o.verdict == Verdict::Breaks)
            .collect()
    }
}

/// One line naming every broken service and its first failure.
pub fn broken_message(broken: &[&Outcome], krate: &str, candidate: &Version) -> String {
    let names: Vec<String> = broken
        .iter()
        .map(|o| {
            format!(
                "{} ({})",
                o.service,
                o.first_failure.as_deref().unwrap_or("see its log")
            )
        })
        .collect();
    format!(
        "{krate} {candidate} breaks {} whose requirement accepts it; fix {krate} (or the \
         service), or release it as a breaking version",
        names.join(", ")
    )
}

/// Checks every service that depends on `shared` against the shared
/// crate's working tree (its checkout, for one in a repository of its own),
/// carrying version `candidate`. Services are checked by as many workers as the
/// machine has cores: cargo builds one at a time in the shared cache (its
/// lock), so one service's tests run while the next one builds. `progress`
/// gets a line when a service starts and one when it is done; those lines
/// and the rows follow the fleet's order whatever order the workers run in.
pub fn check(
    ws: &Workspace,
    shared: &Shared,
    candidate: &Version,
    progress: &mut dyn FnMut(String),
) -> Result<Report> {
    let krate = shared.name.as_str();
    let mut services = Vec::new();
    for service in &ws.manifest.services {
        if lock::dependency(&ws.service_dir(service)?, krate, &ws.registry.name)?.is_some() {
            services.push(service.clone());
        }
    }
    let work = ws.state_dir().join("consumers");
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("cannot clear {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)?;
    let lib = work.join(krate);
    copy_project(&ws.shared_dir(shared)?, &lib)?;
    set_package_version(&lib.join("Cargo.toml"), candidate)?;
    // In each copy's own `.cargo/config.toml`, not on cargo's command
    // line: the tools a service's tests run (cargo-deny's `cargo
    // metadata`) see the same dependency graph as its build.
    let patch = format!(
        "[patch.{}]\n{krate} = {{ path = {} }}\n",
        ws.registry.name,
        toml::Value::String(lib.display().to_string())
    );
    let target = ws.target.join("consumers");
    crate::ops::cargo::seed_target(&ws.target, &target, &[krate])?;
    let job = Job {
        ws,
        krate,
        candidate,
        work: &work,
        patch: &patch,
        target,
    };
    let total = services.len();
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, total.max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Option<Result<Outcome>>)>();
    let mut done: Vec<Option<Result<Outcome>>> = (0..total).map(|_| None).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (tx, next, job, services) = (tx.clone(), &next, &job, &services);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(service) = services.get(i) else {
                        break;
                    };
                    let _ = tx.send((i, None));
                    let _ = tx.send((i, Some(job.check_one(service))));
                }
            });
        }
        drop(tx);
        // Lines come in the fleet's order whatever order the workers run
        // in: a service's start line once every service before it is
        // done, then its done line.
        let (mut printed, mut announced) = (0, 0);
        let mut started = vec![false; total];
        for (i, result) in rx {
            match result {
                None => started[i] = true,
                Some(result) => done[i] = Some(result),
            }
            while printed < total {
                if announced == printed && started[printed] {
                    progress(format!(
                        "[{}/{total}] {}: building and testing against {krate} {candidate}",
                        printed + 1,
                        services[printed].name
                    ));
                    announced += 1;
                }
                let Some(Some(result)) = done.get(printed) else {
                    break;
                };
                if let Ok(o) = result {
                    progress(format!(
                        "[{}/{total}] {}: {} ({:.0}s)",
                        printed + 1,
                        o.service,
                        o.verdict.as_text(),
                        o.seconds
                    ));
                }
                printed += 1;
            }
        }
    });
    let mut outcomes = Vec::new();
    for result in done {
        outcomes.push(result.context("a consumer check worker stopped early")??);
    }
    let markdown = work.join("report.md");
    let mut report = Report {
        shared: krate.to_string(),
        candidate: candidate.to_string(),
        services: outcomes,
        markdown: markdown.clone(),
    };
    std::fs::write(&markdown, render_markdown(&report))?;
    report.markdown = markdown;
    Ok(report)
}

/// What every service's check shares.
struct Job<'a> {
    ws: &'a Workspace,
    krate: &'a str,
    candidate: &'a Version,
    /// `.fleet/consumers/`: the copies, logs and report.
    work: &'a Path,
    /// The `.cargo/config.toml` patching the candidate in.
    patch: &'a str,
    /// `<target>/consumers`.
    target: PathBuf,
}

impl Job<'_> {
    /// Builds and tests a copy of `service` against the candidate.
    fn check_one(&self, service: &Service) -> Result<Outcome> {
        let (registry, candidate, krate) = (&self.ws.registry, self.candidate, self.krate);
        let name = service.name.as_str();
        let started = Instant::now();
        let dir = self.ws.service_dir(service)?;
        let req = requirement(&dir, krate, &registry.name)?;
        let pinned = lock::pin(&dir, krate)?.version;
        let accepts = req.matches(candidate);
        let copy = self.work.join(name);
        copy_project(&dir, &copy)?;
        if !accepts {
            set_requirement(&copy.join("Cargo.toml"), krate, candidate)?;
        }
        // Added to a configuration the service may keep there.
        let config = copy.join(".cargo");
        std::fs::create_dir_all(&config)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(config.join("config.toml"))?;
        std::io::Write::write_all(&mut file, format!("\n{}", self.patch).as_bytes())?;
        let log = self.work.join(format!("{name}.log"));
        let mut text = String::new();
        let cargo_step = |args: &[&str], text: &mut String| -> Result<bool> {
            let mut cmd = cargo_in(self.target.clone(), &copy, &[]);
            cmd.args(args).env("CARGO_TERM_COLOR", "never");
            registry.configure(&mut cmd);
            self.ws.tools_on_path(&mut cmd);
            let (ok, output) = crate::ops::run::transcript(&mut cmd)?;
            text.push_str(&format!("$ cargo {}\n", args.join(" ")));
            text.push_str(&output);
            Ok(ok)
        };
        // A lockfile pinning another version of this registry keeps it and
        // ignores the patch ("patch was not used"): move the copy's lock to
        // the candidate first. (A lock naming another registry URL, as in
        // tests against a throwaway registry, is re-resolved anyway.) The
        // candidate comes from a path, so cargo's cached index is enough
        // unless the candidate adds a dependency it has never seen: offline
        // first (no registry read per service), online only then.
        let candidate_text = candidate.to_string();
        if lock::pin(&copy, krate)?.source == registry.index {
            let update = |offline: bool, text: &mut String| {
                let mut args = vec!["update", "-p", krate, "--precise", &candidate_text];
                if offline {
                    args.insert(1, "--offline");
                }
                cargo_step(&args, text)
            };
            if !update(true, &mut text)? {
                let mut online = String::new();
                let updated = update(false, &mut online)?;
                text.push_str(&online);
                if !updated {
                    std::fs::write(&log, &text)?;
                    bail!(
                        "{name}: the candidate {krate} {candidate} could not be patched in: {} (log: {})",
                        online
                            .lines()
                            .find(|l| l.starts_with("error"))
                            .unwrap_or("cargo update failed"),
                        log.display()
                    );
                }
            }
        }
        let built = cargo_step(&["build", "--all-targets"], &mut text)?;
        // The check tests nothing unless the copy really took the candidate.
        let patched =
            lock::pin(&copy, krate).is_ok_and(|p| &p.version == candidate && p.source == "path");
        if !patched {
            std::fs::write(&log, &text)?;
            bail!(
                "{name}: the candidate {krate} {candidate} was not patched in: its Cargo.lock still names \
                 another {krate} (log: {})",
                log.display()
            );
        }
        let tested = if built {
            Some(cargo_step(&["test", "--no-fail-fast"], &mut text)?)
        } else {
            None
        };
        let build = if built { Step::Passed } else { Step::Failed };
        let tests = match tested {
            Some(true) => Step::Passed,
            Some(false) => Step::Failed,
            None => Step::Skipped,
        };
        let ok = built && tested == Some(true);
        let verdict = match (accepts, ok) {
            (true, true) => Verdict::Passes,
            (true, false) => Verdict::Breaks,
            (false, true) => Verdict::BumpPasses,
            (false, false) => Verdict::BumpBreaks,
        };
        std::fs::write(&log, &text)?;
        Ok(Outcome {
            service: name.to_string(),
            pinned: pinned.to_string(),
            requirement: req.to_string(),
            candidate: candidate.to_string(),
            accepts,
            build,
            tests,
            verdict,
            first_failure: if ok { None } else { first_failure(&text) },
            log: if ok { None } else { Some(log) },
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// The first failing test by name (`test a::b ... FAILED`; tests run in
/// parallel, so the order of the output is not stable, the name order is)
/// or the first compile error (`error[E0308]: ...`, `error: ...`) in
/// cargo's output.
pub fn first_failure(text: &str) -> Option<String> {
    let lines = || text.lines().map(str::trim);
    lines()
        .filter_map(|l| {
            l.strip_prefix("test ")
                .and_then(|rest| rest.strip_suffix(" ... FAILED"))
                .map(|name| format!("test {name}"))
        })
        .min()
        .or_else(|| {
            lines()
                .find(|l| {
                    l.starts_with("error[")
                        || (l.starts_with("error: ") && !l.contains("could not compile"))
                })
                .map(str::to_string)
        })
}

/// Copies a project's files (not `target/`, `vendor/`, `data/` nor `.git/`) to `to`,
/// keeping their modification times: the copy lands at the same path every
/// run, so cargo rebuilds in `<target>/consumers` only what changed.
fn copy_project(from: &Path, to: &Path) -> Result<()> {
    crate::ops::fs::mirror_tree(from, to, &["target", "vendor", "data", ".git"])
}

fn edit_manifest(path: &Path, edit: impl FnOnce(&mut toml::Table) -> Result<()>) -> Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut doc: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    edit(&mut doc)?;
    std::fs::write(path, toml::to_string(&doc)?)?;
    Ok(())
}

fn set_package_version(path: &Path, version: &Version) -> Result<()> {
    edit_manifest(path, |doc| {
        let package = doc
            .get_mut("package")
            .and_then(|p| p.as_table_mut())
            .context("no [package]")?;
        package.insert("version".into(), version.to_string().into());
        Ok(())
    })
}

/// Rewrites the copy's requirement on `krate` to `^version` ("as if
/// bumped"), in `[dependencies]` and, when the tests depend on it too (a
/// `testing` feature), in `[dev-dependencies]`.
fn set_requirement(path: &Path, krate: &str, version: &Version) -> Result<()> {
    edit_manifest(path, |doc| {
        let req = VersionReq::parse(&format!("^{version}"))?.to_string();
        let mut found = false;
        for section in ["dependencies", "dev-dependencies"] {
            let Some(dep) = doc.get_mut(section).and_then(|d| d.get_mut(krate)) else {
                continue;
            };
            found = true;
            match dep {
                toml::Value::Table(t) => {
                    t.insert("version".into(), req.clone().into());
                }
                other => *other = req.clone().into(),
            }
        }
        anyhow::ensure!(found, "no {krate} dependency");
        Ok(())
    })
}

/// The table, one row per service.
pub fn render(report: &Report) -> String {
    let mut table = crate::table::Table::new(&{
        use crate::table::Column;
        [
            Column::left("service", 14),
            Column::left("pinned", 8),
            Column::left("candidate", 10),
            Column::left("accepts", 8),
            Column::left("builds", 7),
            Column::left("tests", 7),
            Column::right("time", 6),
            Column::left("verdict", 0),
        ]
    });
    for o in &report.services {
        table.row(vec![
            o.service.clone(),
            o.pinned.clone(),
            o.candidate.clone(),
            if o.accepts { "yes" } else { "no" }.to_string(),
            o.build.as_text().to_string(),
            o.tests.as_text().to_string(),
            format!("{:.0}s", o.seconds),
            o.verdict.as_text().to_string(),
        ]);
        if let Some(failure) = &o.first_failure {
            table.note(format!("  first failure: {failure}"));
        }
    }
    table.render()
}

fn render_markdown(report: &Report) -> String {
    let mut md = format!(
        "# {} {} against every service\n\n| service | pinned | requirement | accepts | builds | tests | verdict | time |\n|---|---|---|---|---|---|---|---|\n",
        report.shared, report.candidate
    );
    for o in &report.services {
        md.push_str(&format!(
            "| {} | {} | `{}` | {} | {} | {} | {} | {:.0}s |\n",
            o.service,
            o.pinned,
            o.requirement,
            if o.accepts { "yes" } else { "no" },
            o.build.as_text(),
            o.tests.as_text(),
            o.verdict.as_text(),
            o.seconds
        ));
    }
    for o in &report.services {
        if let Some(log) = &o.log {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            md.push_str(&format!(
                "\n## {}: {}\n\nFirst failure: {}\n\n```text\n{}\n```\n",
                o.service,
                o.verdict.as_text(),
                o.first_failure.as_deref().unwrap_or("(none found)"),
                last_lines(&text, 200)
            ));
        }
    }
    md
}

/// The last `lines` lines of `text`.
fn last_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_is_a_failing_test_or_a_compile_error() {
        let tests = "running 3 tests\ntest a::ok ... ok\ntest orders::volume_bonus_starts_at_ten ... FAILED\ntest b ... FAILED\n";
        assert_eq!(first_failure(tests).as_deref(), Some("test b"));
        let build = "   Compiling x\nerror[E0061]: this method takes 3 arguments but 2 were supplied\nerror: could not compile `x`\n";
        assert!(first_failure(build).unwrap().starts_with("error[E0061]"));
        assert_eq!(first_failure("all good"), None);
    }

    #[test]
    fn requirements_are_rewritten_in_both_forms() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        for manifest in [
            "[package]\nname = \"s\"\nversion = \"0.1.0\"\n[dependencies]\nshared-lib = { version = \"0.1.2\", registry = \"local\" }\n",
            "[package]\nname = \"s\"\nversion = \"0.1.0\"\n[dependencies]\nshared-lib = \"0.1.2\"\n",
        ] {
            std::fs::write(&path, manifest).unwrap();
            set_requirement(&path, "shared-lib", &Version::new(0, 3, 0)).unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(text.matches("\"^0.3.0\"").count(), 1, "{text}");
        }
        std::fs::write(
            &path,
            "[package]\nname = \"s\"\nversion = \"0.1.0\"\n[dependencies]\nshared-lib = { version = \"0.1.2\", registry = \"local\" }\n[dev-dependencies]\nshared-lib = { version = \"0.1.2\", registry = \"local\", features = [\"testing\"] }\n",
        )
        .unwrap();
        set_requirement(&path, "shared-lib", &Version::new(0, 3, 0)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("\"^0.3.0\"").count(), 2, "{text}");
    }
}
