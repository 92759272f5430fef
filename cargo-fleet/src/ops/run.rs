//! Running external commands (cargo, git, the pinned tools) to completion,
//! with errors that say which command failed. Code outside `ops` describes
//! a `Command` and hands it here (or to [`super::procs`] for a background
//! process); it never starts one itself.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Points `cmd`'s stdout and stderr at `log`, a new file (its directory
/// made when missing), in place of the terminal.
pub fn output_to(cmd: &mut Command, log: &Path) -> Result<()> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file =
        std::fs::File::create(log).with_context(|| format!("cannot write {}", log.display()))?;
    cmd.stdout(file.try_clone()?).stderr(file);
    Ok(())
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    if let Some(dir) = cmd.get_current_dir() {
        text.push_str(&format!(" (in {})", dir.display()));
    }
    text
}

/// A command for `program` (a binary this checkout built, or one a tool
/// install returned), to describe and then hand to [`run`], [`capture`],
/// or [`super::procs`] for a background process. Commands are made here
/// or by the other `ops` modules, never elsewhere.
pub fn program(program: impl AsRef<std::ffi::OsStr>) -> Command {
    Command::new(program)
}

/// The program `name` in the first directory of `PATH` that has it.
pub fn on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Runs `cmd` with inherited output; an error when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let what = describe(cmd);
    eprintln!("    $ {what}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot run `{what}`"))?;
    if !status.success() {
        bail!("`{what}` failed ({status})");
    }
    Ok(())
}

/// Runs `cmd` with inherited output; whether it succeeded. An error only
/// when it cannot start.
pub fn succeeds(cmd: &mut Command) -> Result<bool> {
    let what = describe(cmd);
    let status = cmd
        .status()
        .with_context(|| format!("cannot run `{what}`"))?;
    Ok(status.success())
}

/// Runs `cmd` with its output captured; whether it succeeded, and its
/// stderr followed by its stdout. An error only when it cannot start.
pub fn transcript(cmd: &mut Command) -> Result<(bool, String)> {
    let what = describe(cmd);
    let out = cmd
        .output()
        .with_context(|| format!("cannot run `{what}`"))?;
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    Ok((out.status.success(), text))
}

/// Runs `cmd` and returns its stdout; an error with its stderr when it fails.
pub fn capture(cmd: &mut Command) -> Result<String> {
    let what = describe(cmd);
    let out = cmd
        .output()
        .with_context(|| format!("cannot run `{what}`"))?;
    if !out.status.success() {
        bail!(
            "`{what}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Puts `dirs` first on `cmd`'s `PATH` (this process's `PATH` after them).
pub fn path_first(cmd: &mut Command, dirs: &[std::path::PathBuf]) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let all = dirs.iter().cloned().chain(std::env::split_paths(&path));
    if let Ok(joined) = std::env::join_paths(all) {
        cmd.env("PATH", joined);
    }
}
