//! Counting what a command does, for the fleet-growth benchmark: the
//! command runs under `strace -f --seccomp-bpf -e trace=execve,connect`
//! (Debian's strace; the seccomp filter stops only on those two calls, so
//! the rest runs at full speed), and the trace is counted: every program
//! started, every crate rustc compiled, every TCP connection to the
//! registry's port.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::ops::tools::ensure_debian;

/// What one traced command did, its children included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Programs started (successful `execve`), the command itself included.
    pub processes: u64,
    /// Crates rustc compiled (`rustc --crate-name ...`; version probes and
    /// `--print` queries are not compilations).
    pub compilations: u64,
    /// TCP connections opened to the registry's port (cargo and xtask
    /// reuse a connection for several requests, so requests are at least
    /// this many).
    pub registry_connections: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.processes += other.processes;
        self.compilations += other.compilations;
        self.registry_connections += other.registry_connections;
    }
}

/// `cmd` wrapped in strace, writing its trace to `trace`.
pub fn traced(cmd: &Command, trace: &Path) -> Result<Command> {
    let strace = ensure_debian("strace", "strace")?;
    let mut wrapped = Command::new(strace);
    wrapped
        .args([
            "-f",
            "--seccomp-bpf",
            "-qq",
            "-e",
            "trace=execve,connect",
            "-o",
        ])
        .arg(trace)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    Ok(wrapped)
}

/// The counts of the trace file `trace`, connections to `port`.
pub fn read(trace: &Path, port: u16) -> Result<Counts> {
    let text = std::fs::read_to_string(trace)
        .with_context(|| format!("cannot read the trace {}", trace.display()))?;
    Ok(count(&text, port))
}

/// The counts of one strace output, connections to `port`.
pub fn count(text: &str, port: u16) -> Counts {
    let mut counts = Counts::default();
    let port = format!("sin_port=htons({port})");
    for line in text.lines() {
        if line.contains("execve(") && line.trim_end().ends_with("= 0") {
            counts.processes += 1;
            let rustc = line.contains("/rustc\"") || line.contains("[\"rustc\"");
            if rustc && line.contains("\"--crate-name\"") {
                counts.compilations += 1;
            }
        } else if line.contains("connect(") && line.contains(&port) {
            counts.registry_connections += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_is_counted() {
        let trace = r#"22257 execve("/root/.cargo/bin/cargo", ["cargo", "xtask", "status"], 0x7ffd /* 35 vars */) = 0
22262 execve("/root/.rustup/toolchains/stable/bin/rustc", ["/root/.rustup/toolchains/stable-"..., "--crate-name", "xtask", "--edition=2024"], 0x5642 /* 41 vars */) = 0
22263 execve("/root/.rustup/toolchains/stable/bin/rustc", ["/root/.rustup/toolchains/stable-"..., "-vV"], 0x5642 /* 41 vars */) = 0
22264 execve("/usr/local/bin/git", ["git", "status"], 0x5642 /* 41 vars */) = -1 ENOENT (No such file or directory)
22264 execve("/usr/bin/git", ["git", "status"], 0x5642 /* 41 vars */) = 0
22265 connect(9, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
22265 connect(10, {sa_family=AF_INET, sin_port=htons(8081), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
"#;
        assert_eq!(
            count(trace, 8000),
            Counts {
                processes: 4,
                compilations: 1,
                registry_connections: 1
            }
        );
    }
}
