//! git, always as `git -C <root>` so the working directory never matters;
//! the checkouts `cargo fleet` keeps of projects in repositories of their own.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

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

/// Makes `dir` a checkout of `url`'s `branch` as the remote has it now:
/// cloned when missing, else fetched and reset, every local change and
/// untracked file dropped (the directory is the tool's cache, never a
/// user's tree).
pub fn sync(url: &str, branch: &str, dir: &Path) -> Result<()> {
    if !dir.join(".git").exists() {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut clone = Command::new("git");
        clone
            .args(["clone", "--quiet", "--branch", branch, url])
            .arg(dir);
        capture(&mut clone).with_context(|| format!("cannot clone {url} (branch {branch})"))?;
        return Ok(());
    }
    capture(git(dir).args(["fetch", "--quiet", "origin", branch]))
        .with_context(|| format!("cannot fetch {url} (branch {branch})"))?;
    capture(git(dir).args([
        "checkout",
        "--quiet",
        "--force",
        "-B",
        branch,
        &format!("origin/{branch}"),
    ]))?;
    capture(git(dir).args(["clean", "--quiet", "-fdx"]))?;
    Ok(())
}

/// Makes `dir` a git repository (branch `main`) unless it is one already;
/// whether this call made it.
pub fn init(dir: &Path) -> Result<bool> {
    if dir.join(".git").exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    capture(git(dir).args(["init", "--quiet", "--initial-branch", "main"]))?;
    Ok(true)
}

/// `git add` of `paths` in the repository `dir`.
pub fn add(dir: &Path, paths: &[&str]) -> Result<()> {
    capture(git(dir).args(["add", "--"]).args(paths))?;
    Ok(())
}

/// Starts branch `name` in the checkout `dir` at its current commit
/// (replacing a local branch of that name).
pub fn start_branch(dir: &Path, name: &str) -> Result<()> {
    capture(git(dir).args(["checkout", "--quiet", "-B", name]))?;
    Ok(())
}

/// Commits `paths` of the checkout `dir` with `message`; the committer is
/// git's own setting, else `cargo fleet <cargo-fleet@localhost>`.
pub fn commit(dir: &Path, paths: &[&str], message: &str) -> Result<String> {
    let mut cmd = git(dir);
    if capture(git(dir).args(["config", "user.email"])).is_err() {
        cmd.args([
            "-c",
            "user.name=cargo fleet",
            "-c",
            "user.email=cargo-fleet@localhost",
        ]);
    }
    cmd.args(["commit", "--quiet", "-m", message, "--"])
        .args(paths);
    capture(&mut cmd)?;
    Ok(capture(git(dir).args(["rev-parse", "HEAD"]))?
        .trim()
        .to_string())
}

/// Pushes branch `name` of the checkout `dir` to its origin (replacing
/// what that branch held there).
pub fn push_branch(dir: &Path, name: &str) -> Result<()> {
    capture(git(dir).args([
        "push",
        "--quiet",
        "--force",
        "origin",
        &format!("{name}:{name}"),
    ]))?;
    Ok(())
}
