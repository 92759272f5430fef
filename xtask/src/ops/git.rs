//! git, always as `git -C <root>` so the working directory never matters.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::ops::run::capture;

/// `git -C root`.
pub fn git(root: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(root);
    cmd
}

/// The paths under `root` with uncommitted changes, untracked files
/// included, as `git status --porcelain` names them.
pub fn uncommitted(root: &Path) -> Result<Vec<String>> {
    let out = capture(git(root).args(["status", "--porcelain"]))?;
    Ok(out
        .lines()
        .filter_map(|l| l.get(3..))
        .map(str::to_string)
        .collect())
}

/// Whether `path` (relative to `root`) has uncommitted changes.
pub fn is_dirty(root: &Path, path: &str) -> Result<bool> {
    let out = capture(git(root).args(["status", "--porcelain", "--", path]))?;
    Ok(!out.trim().is_empty())
}

/// The full id of the commit `rev` names in the repository at `root`
/// (a branch, tag or abbreviated id), if it names one.
pub fn commit_of(root: &Path, rev: &str) -> Option<String> {
    let out = git(root)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{rev}^{{commit}}"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
