//! Running external commands (cargo, git) with errors that say which
//! command failed.

use std::process::Command;

use anyhow::{Context, Result, bail};

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
