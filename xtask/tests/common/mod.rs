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

/// Starts `name` on `port` with JSON logs to a file in `dir`; returns once
/// `GET /health` answers.
pub fn start(name: &str, port: u16, env: &[(&str, String)], dir: &Path) -> Running {
    let log = dir.join(format!("{name}-{port}.log"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    let child = Command::new(bin(name))
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
    let health = format!("{}/health", running.url);
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
    let start = 10_000 + (std::process::id() as u16 % span);
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
