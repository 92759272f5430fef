//! Helpers for tests that run the real service binaries (built by
//! `cargo xtask test`, found through `FLEET_BIN_DIR`) on loopback.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use xtask::ops::procs::wait_http_ready;

pub mod containers;
pub mod load;

/// A service binary running for one test, killed when dropped.
pub struct Running {
    pub child: Child,
    pub log: PathBuf,
    pub url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        self.signal(Signal::SIGTERM);
        self.child.wait().unwrap()
    }

    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

pub fn bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("FLEET_BIN_DIR").unwrap_or_else(|| {
        panic!("FLEET_BIN_DIR is not set: run these tests through `cargo xtask test`, which builds the service binaries first")
    });
    let path = Path::new(&dir).join(name);
    assert!(
        path.is_file(),
        "{} is missing: build {name} first (`cargo xtask test` does)",
        path.display()
    );
    path
}

/// Starts `name` on `port` with JSON logs to a file in `dir` and, unless
/// `env` says where (`DATA_DIR`, `DATABASE_URL`), its data in a SQLite
/// file under `dir/<name>-data` (the same on a restart in `dir`); returns
/// once `GET /ready` answers 200 (migrated, its peers up).
pub fn start(name: &str, port: u16, env: &[(&str, String)], dir: &Path) -> Running {
    start_waiting(name, port, env, dir, "/ready")
}

/// [`start`], returning once `wait_path` answers 200.
pub fn start_waiting(
    name: &str,
    port: u16,
    env: &[(&str, String)],
    dir: &Path,
    wait_path: &str,
) -> Running {
    let log = dir.join(format!("{name}-{port}.log"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    let mut cmd = Command::new(bin(name));
    if !env
        .iter()
        .any(|(k, _)| *k == "DATA_DIR" || *k == "DATABASE_URL")
    {
        cmd.env("DATA_DIR", dir.join(format!("{name}-data")));
    }
    let child = cmd
        .env("PORT", port.to_string())
        .env("LOG_FORMAT", "json")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    // Guard the child first, so a failed start kills it (Drop) instead of
    // leaving an orphan behind.
    let mut running = Running { child, log, url };
    let health = format!("{}{wait_path}", running.url);
    if let Err(err) = wait_http_ready(
        &health,
        &mut running.child,
        &running.log,
        Duration::from_secs(30),
    ) {
        panic!("{name} did not start: {err:#}");
    }
    running
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A JSON order body for `user_id`: 3 + 7 = 10 units.
pub fn order_body(user_id: u64) -> serde_json::Value {
    serde_json::json!({"user_id": user_id, "items": [
        {"sku": "BOOK-1", "quantity": 3, "unit_price_cents": 1999},
        {"sku": "PEN-2", "quantity": 7, "unit_price_cents": 135}
    ]})
}

/// What order-service does while user-service is down, wherever it runs
/// (processes, containers): an order of `unchecked` (a user it has not
/// confirmed lately) is a 503 `user_service_unavailable`, and it stays
/// ready, its `/ready` body saying user-service is down (readiness does
/// not cascade).
pub fn assert_orders_degrade_without_user_service(
    http: &reqwest::blocking::Client,
    orders: &str,
    unchecked: u64,
) {
    let refused = http
        .post(format!("{orders}/api/orders"))
        .json(&order_body(unchecked))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 503);
    let body: serde_json::Value = refused.json().unwrap();
    assert_eq!(body["code"], "user_service_unavailable", "{body}");
    let ready = http.get(format!("{orders}/ready")).send().unwrap();
    assert_eq!(ready.status(), 200, "order-service stays ready");
    let ready: serde_json::Value = ready.json().unwrap();
    assert_eq!(ready["dependencies"][0]["name"], "user-service", "{ready}");
    assert_eq!(ready["dependencies"][0]["up"], false, "{ready}");
}

/// Creates a user and returns its id.
pub fn create_user(http: &reqwest::blocking::Client, users: &str, email: &str) -> u64 {
    let resp = http
        .post(format!("{users}/api/users"))
        .json(&serde_json::json!({"name": "Test", "email": email}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json::<serde_json::Value>().unwrap()["id"]
        .as_u64()
        .unwrap()
}

/// A free port below the kernel's ephemeral range, for a service the test
/// stops and starts again on the same port: `bind(0)` in tests running in
/// parallel never hands it out while the service is down.
pub fn restartable_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let span = low.saturating_sub(11_000).max(1);
    // A random start: tests running in parallel rarely pick the same one.
    let start = 10_000 + (rand::random::<u16>() % span);
    (0..span)
        .map(|i| 10_000 + (start - 10_000 + i) % span)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port below the ephemeral range")
}

/// user-service on `user_port`, then order-service on a free port pointed
/// at it, with `order_env` added; logs in `dir`.
pub fn start_pair(dir: &Path, user_port: u16, order_env: &[(&str, String)]) -> (Running, Running) {
    let users = start("user-service", user_port, &[], dir);
    let mut env = vec![("USER_SERVICE_URL", users.url.clone())];
    env.extend(order_env.iter().cloned());
    let orders = start(
        "order-service",
        xtask::ops::procs::free_port().unwrap(),
        &env,
        dir,
    );
    (users, orders)
}

/// `GET url` answered with JSON.
pub fn get_json(http: &reqwest::blocking::Client, url: impl reqwest::IntoUrl) -> serde_json::Value {
    http.get(url).send().unwrap().json().unwrap()
}

/// Where a service keeps its data in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in the test's directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `FLEET_TEST_POSTGRES`.
    Postgres,
}

/// The PostgreSQL server `cargo xtask test` started for this run.
pub fn test_postgres_url() -> String {
    std::env::var("FLEET_TEST_POSTGRES").ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
        panic!("FLEET_TEST_POSTGRES is not set: run these tests through `cargo xtask test`, which starts a PostgreSQL server for them")
    })
}

/// Runs `sql` with psql against `url`; its output (tuples only).
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .arg(url)
        .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    format!("{base}/{database}")
}

/// The environment that gives `service` a database of its own on
/// `backend`: a SQLite file under `dir`, or a new database on the test
/// PostgreSQL server.
pub fn fresh_database(backend: Backend, service: &str, dir: &Path) -> Vec<(&'static str, String)> {
    match backend {
        Backend::Sqlite => vec![(
            "DATA_DIR",
            dir.join(format!("{service}-data"))
                .to_string_lossy()
                .into_owned(),
        )],
        Backend::Postgres => {
            let server = test_postgres_url();
            let name = format!(
                "e2e_{}_{}_{}",
                service.replace('-', "_"),
                std::process::id(),
                rand::random::<u32>()
            );
            psql(&server, &format!("CREATE DATABASE {name}"));
            vec![("DATABASE_URL", with_database(&server, &name))]
        }
    }
}

/// `git -C dir <args>`, which must succeed; its output, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Replaces the first `from` in the file at `path` with `to`; `from` must
/// be there (else the code the test edits has changed: update the test).
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} lacks {from:?}: update this test",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// A clone of the repository at `from` into `to`: no remote (nothing it
/// does can reach the original), `committer` as the author of its commits.
pub fn clone_repo(from: &Path, to: &Path, committer: &str) {
    let status = Command::new("git")
        .args(["clone", "--quiet"])
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success(), "git clone {}", from.display());
    git(to, &["remote", "remove", "origin"]);
    git(to, &["config", "user.name", committer]);
    let email = format!("{}@example.com", committer.to_lowercase().replace(' ', "-"));
    git(to, &["config", "user.email", &email]);
}

/// Removes from the build caches under `nested` what earlier runs of a
/// test that builds on a shared-lib of its own built and no later run can
/// reuse; returns the bytes freed. The release tests' registries have a new
/// URL each run, and the whole-path test releases a version of its own, so
/// shared-lib and every crate built on it (the clone's services, their test
/// targets, a service a test creates) compile anew under new names each
/// run, and such a cache grew by 3-4 GB a run. What the crates.io
/// dependencies built keeps its names run after run and stays.
///
/// In each cache (`nested/debug` and the ones of the consumer check,
/// publishing, docs and the semver guard beside it) the run-bound crates
/// are shared-lib and the crates with a directory in `incremental/`: cargo
/// compiles only the local crates incrementally, never a registry's. Their
/// files in `deps/` go with their `.fingerprint/` entries, and so does
/// `incremental/`, which holds nothing else.
pub fn forget_run_bound_builds(nested: &Path) -> u64 {
    let artifact = regex::Regex::new(r"^(?:lib)?([A-Za-z0-9_]+)-([0-9a-f]{16})(?:\..*)?$").unwrap();
    let names_in = xtask::ops::fs::entry_names;
    let mut freed = 0;
    let mut remove = |path: &Path| {
        freed += du(path);
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        };
    };
    // A cache is a directory holding `deps/`: `nested/debug`, `nested/consumers/debug` ...
    let caches: Vec<PathBuf> = walkdir::WalkDir::new(nested)
        .max_depth(4)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_dir() && e.file_name() == "deps")
        .filter_map(|e| e.path().parent().map(Path::to_path_buf))
        .collect();
    for cache in caches {
        let crates = xtask::ops::cargo::local_crates(&cache, &[xtask::history::SHARED_LIB]);
        let mut hashes = std::collections::HashSet::new();
        for file in names_in(&cache.join("deps")) {
            if let Some(m) = artifact.captures(&file)
                && crates.iter().any(|c| c == &m[1])
            {
                hashes.insert(m[2].to_string());
                remove(&cache.join("deps").join(&file));
            }
        }
        let fingerprints = cache.join(".fingerprint");
        let entries = names_in(&fingerprints);
        let packages: std::collections::HashSet<&str> = entries
            .iter()
            .filter_map(|n| n.rsplit_once('-'))
            .filter(|(_, hash)| hashes.contains(*hash))
            .map(|(package, _)| package)
            .collect();
        for entry in &entries {
            if entry
                .rsplit_once('-')
                .is_some_and(|(package, _)| packages.contains(package))
            {
                remove(&fingerprints.join(entry));
            }
        }
        remove(&cache.join("incremental"));
    }
    freed
}

/// Bytes in the files under `path` (a file or a directory).
pub fn du(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
