//! Walking and copying directory trees (walkdir), for the
//! commands that copy a project, render the template or zip docs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use walkdir::WalkDir;

/// Every file under `dir`, as paths relative to it, in a stable order;
/// directories named in `skip` (at any depth) are not entered.
pub fn files(dir: &Path, skip: &[&str]) -> Result<Vec<PathBuf>> {
    let mut all = Vec::new();
    let walk = WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || !(e.file_type().is_dir() && skip.iter().any(|s| e.file_name() == *s))
        });
    for entry in walk {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if entry.file_type().is_file() {
            all.push(entry.path().strip_prefix(dir)?.to_path_buf());
        }
    }
    Ok(all)
}

/// The names of the entries of `dir`, in no particular order (none when it
/// cannot be read).
pub fn entry_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Copies the files under `from` to `to` (directories in `skip` left out),
/// each passed through `fill` when given (it must then be text).
pub fn copy_tree(
    from: &Path,
    to: &Path,
    skip: &[&str],
    fill: Option<&dyn Fn(&str) -> String>,
) -> Result<()> {
    for rel in files(from, skip)? {
        let (src, dst) = (from.join(&rel), to.join(&rel));
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        match fill {
            Some(fill) => {
                let text = std::fs::read_to_string(&src)
                    .with_context(|| format!("cannot read {}", src.display()))?;
                std::fs::write(&dst, fill(&text))
            }
            None => std::fs::copy(&src, &dst).map(|_| ()),
        }
        .with_context(|| format!("cannot copy {} to {}", src.display(), dst.display()))?;
    }
    Ok(())
}

/// Copies the files under `from` to `to` (directories in `skip` left out),
/// each copy keeping its source's modification time, so cargo sees an
/// unchanged file in a fresh copy as unchanged and does not rebuild it.
pub fn mirror_tree(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    for rel in files(from, skip)? {
        mirror_file(&from.join(&rel), &to.join(&rel))?;
    }
    Ok(())
}

/// [`mirror_tree`] of the file or directory `from` as `to`, nothing left
/// out; the bytes copied.
pub fn mirror(from: &Path, to: &Path) -> Result<u64> {
    if !from.is_dir() {
        return mirror_file(from, to);
    }
    let mut bytes = 0;
    for rel in files(from, &[])? {
        bytes += mirror_file(&from.join(&rel), &to.join(&rel))?;
    }
    Ok(bytes)
}

/// Copies the file `src` to `dst` (its directory made when missing),
/// keeping the modification time; the bytes copied.
fn mirror_file(src: &Path, dst: &Path) -> Result<u64> {
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::copy(src, dst)
        .and_then(|bytes| {
            let at = std::fs::metadata(src)?.modified()?;
            std::fs::File::options()
                .write(true)
                .open(dst)?
                .set_modified(at)?;
            Ok(bytes)
        })
        .with_context(|| format!("cannot copy {} to {}", src.display(), dst.display()))
}

/// Writes `text` to `path` (its directory made when missing) unless the
/// file already holds exactly that; whether it wrote.
pub fn write_if_changed(path: &Path, text: &str) -> Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(true)
}

/// An exclusive lock on `dir` (a `.xtask-lock` file in it, made with the
/// directory when missing), held until the returned file is dropped;
/// waits while another process holds it.
pub fn lock(dir: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(".xtask-lock");
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_skip_named_directories_at_any_depth_and_fill_text() {
        let tmp = tempfile::tempdir().unwrap();
        let from = tmp.path().join("from");
        for file in [
            "a.txt",
            "src/b.txt",
            "target/x",
            "src/target/y",
            "src/data/z",
        ] {
            let path = from.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "name={{name}}").unwrap();
        }
        assert_eq!(
            files(&from, &["target", "data"]).unwrap(),
            [PathBuf::from("a.txt"), PathBuf::from("src/b.txt")]
        );
        let to = tmp.path().join("to");
        let fill = |t: &str| t.replace("{{name}}", "x");
        copy_tree(&from, &to, &["target", "data"], Some(&fill)).unwrap();
        assert_eq!(
            std::fs::read_to_string(to.join("src/b.txt")).unwrap(),
            "name=x"
        );
        assert!(!to.join("target").exists());
    }
}
