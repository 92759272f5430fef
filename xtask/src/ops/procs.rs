//! Background processes: start them detached with a log file, remember
//! them in pid records, wait until they answer, stop exactly them.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// What `up` remembers of a process it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PidRecord {
    /// The process id.
    pub pid: u32,
    /// The program it runs (`argv[0]`), checked before signalling so a
    /// recycled pid is never killed.
    pub program: PathBuf,
    /// Modification time of the program when started (seconds since the
    /// epoch): a rebuilt binary means the process runs stale code.
    pub program_mtime: u64,
    /// Where it answers.
    pub url: String,
    /// Its log file.
    pub log: PathBuf,
    /// Where a service keeps its data (`sqlite`, `postgres`; empty for
    /// other processes): another backend asked for means a restart.
    #[serde(default)]
    pub database: String,
}

/// The pid record file of `name` in `state_dir`.
pub fn record_path(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join(format!("{name}.pid.json"))
}

/// Reads a pid record, `None` when there is none.
pub fn read_record(path: &Path) -> Result<Option<PidRecord>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is corrupt; delete it and stop the process by hand",
                path.display()
            )
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes a pid record.
pub fn write_record(path: &Path, record: &PidRecord) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(record)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Seconds since the epoch at which `path` was last modified.
pub fn mtime(path: &Path) -> Result<u64> {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .with_context(|| format!("cannot stat {}", path.display()))?;
    Ok(modified
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0))
}

/// Starts `cmd` in its own process group (a Ctrl-C in the terminal that ran
/// `up` does not reach it), stdin closed, stdout and stderr appended to `log`.
pub fn spawn_logged(mut cmd: Command, log: &Path) -> Result<Child> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open log {}", log.display()))?;
    let err = out.try_clone()?;
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .process_group(0);
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.spawn()
        .with_context(|| format!("cannot start {program}"))
}

/// Starts `cmd` like [`spawn_logged`] and waits until `GET ready_url`
/// answers 200. When it does not within `timeout`, the process is killed
/// and reaped before the error returns, so a failed start leaves nothing
/// running.
pub fn spawn_ready(cmd: Command, log: &Path, ready_url: &str, timeout: Duration) -> Result<Child> {
    let mut child = spawn_logged(cmd, log)?;
    if let Err(err) = wait_http_ready(ready_url, &mut child, log, timeout) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(err);
    }
    Ok(child)
}

/// Whether `record`'s process still runs the program it was started with.
pub fn is_running(record: &PidRecord) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{}", record.pid));
    let Ok(stat) = std::fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    // State is the field after the parenthesised command name; Z is a zombie.
    let state = stat
        .rsplit(") ")
        .next()
        .and_then(|rest| rest.chars().next());
    if state == Some('Z') {
        return false;
    }
    let Ok(cmdline) = std::fs::read(proc_dir.join("cmdline")) else {
        return false;
    };
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    use std::os::unix::ffi::OsStrExt;
    Path::new(std::ffi::OsStr::from_bytes(argv0)) == record.program
}

/// Sends SIGTERM and waits up to `grace` for the process to exit, then
/// SIGKILL. Does nothing when the pid no longer runs the recorded program.
pub fn stop(record: &PidRecord, grace: Duration) -> Result<bool> {
    if !is_running(record) {
        return Ok(false);
    }
    let pid = Pid::from_raw(i32::try_from(record.pid).context("pid out of range")?);
    kill(pid, Signal::SIGTERM).with_context(|| format!("cannot signal pid {}", record.pid))?;
    if wait_until(grace, || !is_running(record)) {
        return Ok(true);
    }
    let _ = kill(pid, Signal::SIGKILL);
    if wait_until(Duration::from_secs(5), || !is_running(record)) {
        return Ok(true);
    }
    bail!(
        "pid {} ({}) did not exit after SIGKILL",
        record.pid,
        record.program.display()
    )
}

/// Polls `done` every 50 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until `GET url` answers 200, failing early (with the end of its
/// log) when `child` exits first, or after `timeout`.
pub fn wait_http_ready(url: &str, child: &mut Child, log: &Path, timeout: Duration) -> Result<()> {
    let client = crate::ops::http::client();
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(resp) = client.get(url).send()
            && resp.status().is_success()
        {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!(
                "{} exited ({status}) before {url} answered; end of {}:\n{}",
                child_name(log),
                log.display(),
                log_tail(log, 20)
            );
        }
        if Instant::now() >= deadline {
            bail!(
                "{url} did not answer 200 within {}s; end of {}:\n{}",
                timeout.as_secs(),
                log.display(),
                log_tail(log, 20)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn child_name(log: &Path) -> String {
    log.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The last `lines` lines of a log file (at most its last 64 KiB).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let Ok(mut file) = File::open(path) else {
        return String::from("(no log)");
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    last_lines(&text, lines)
}

/// The last `lines` lines of `text`.
pub fn last_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub fn port_in_use(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

/// A port that was free a moment ago (bind 0, read it, release it).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
