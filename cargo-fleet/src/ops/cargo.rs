//! cargo as the tool runs it: into a build cache of its choosing, and a
//! cache of its own seeded from the shared one.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

/// `cargo <args>` in `dir`, building into `target`.
pub fn cargo_in(target: PathBuf, dir: impl AsRef<Path>, args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.args(args)
        .current_dir(dir.as_ref())
        .env("CARGO_TARGET_DIR", target);
    cmd
}

/// Gives the build cache `to` (a target dir of its own: the consumer
/// check's, publishing's) what the cache `from` already compiled of the
/// registries' crates, when `to` has no debug build yet; returns the bytes
/// copied. Those builds are named by a hash of the crate, its version,
/// source, features and profile, so the same dependency in another cache
/// is the same files; cargo then compiles only the local crates and what
/// `from` lacks, where it would otherwise compile every dependency again.
///
/// Copied: the entries of `deps/`, `build/` and `.fingerprint/` of every
/// crate but the local ones (the crates `from` compiled incrementally,
/// which cargo does only for local crates, and `also_local`: shared-lib,
/// whose versions differ between registries), each file keeping its
/// modification time, as cargo compares those. Into a temporary directory
/// beside `debug/` first, renamed to it when complete: an interrupted copy
/// leaves no half cache cargo would trust, and of two seeds at once (two
/// consumer checks) the first to finish is kept.
pub fn seed_target(from: &Path, to: &Path, also_local: &[&str]) -> Result<u64> {
    let (source, dest) = (from.join("debug"), to.join("debug"));
    if dest.exists() || !source.join("deps").is_dir() {
        return Ok(0);
    }
    let local = local_crates(&source, also_local);
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let partial = tempfile::Builder::new()
        .prefix("debug.seeding")
        .tempdir_in(to)
        .with_context(|| format!("cannot create a directory in {}", to.display()))?;
    let mut copied = 0;
    for dir in ["deps", "build", ".fingerprint"] {
        for name in crate::ops::fs::entry_names(&source.join(dir)) {
            if built_crate(&name).is_none_or(|candidates| {
                candidates
                    .iter()
                    .any(|c| local.iter().any(|l| l == &c.replace('-', "_")))
            }) {
                continue;
            }
            copied += crate::ops::fs::mirror(
                &source.join(dir).join(&name),
                &partial.path().join(dir).join(&name),
            )?;
        }
    }
    match std::fs::rename(partial.path(), &dest) {
        Ok(()) => Ok(copied),
        // Another seed finished first; this copy goes with `partial`.
        Err(_) if dest.is_dir() => Ok(0),
        Err(err) => Err(err).with_context(|| {
            format!(
                "cannot rename {} to {}",
                partial.path().display(),
                dest.display()
            )
        }),
    }
}

/// The crates of the build cache `cache` (`<target>/debug`) that belong to
/// the project rather than a registry, as crate names (`_` for `-`): the
/// ones with a directory in `incremental/` (cargo compiles only local
/// crates incrementally) and `also_local`.
pub fn local_crates(cache: &Path, also_local: &[&str]) -> Vec<String> {
    crate::ops::fs::entry_names(&cache.join("incremental"))
        .iter()
        .filter_map(|n| n.rsplit_once('-').map(|(name, _)| name.to_string()))
        .chain(also_local.iter().map(|name| name.replace('-', "_")))
        .collect()
}

/// The crate a build-cache entry belongs to, as the names it may have:
/// `<name>-<16 hex digits>` with an extension or not, where a `lib` in
/// front is the library file prefix or part of the name (`libc`).
fn built_crate(entry: &str) -> Option<Vec<&str>> {
    let stem = entry.split_once('.').map_or(entry, |(stem, _)| stem);
    let (name, hash) = stem.rsplit_once('-')?;
    if hash.len() != 16 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || name.is_empty() {
        return None;
    }
    let mut candidates = vec![name];
    if let Some(bare) = name.strip_prefix("lib").filter(|b| !b.is_empty()) {
        candidates.push(bare);
    }
    Some(candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_cache_entries_name_their_crate() {
        assert_eq!(
            built_crate("libserde-0123456789abcdef.rlib"),
            Some(vec!["libserde", "serde"])
        );
        assert_eq!(built_crate("serde-0123456789abcdef.d"), Some(vec!["serde"]));
        assert_eq!(
            built_crate("web-app-0123456789abcdef"),
            Some(vec!["web-app"])
        );
        assert_eq!(
            built_crate("libc-0123456789abcdef.d"),
            Some(vec!["libc", "c"])
        );
        assert_eq!(built_crate("xtask.d"), None);
        assert_eq!(built_crate("tool-0123"), None);
    }

    #[test]
    fn an_empty_cache_gets_the_registry_crates_of_another_and_nothing_local() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("from"), tmp.path().join("to"));
        let hash = "0123456789abcdef";
        let files = [
            format!("debug/deps/libserde-{hash}.rlib"),
            format!("debug/deps/serde-{hash}.d"),
            format!("debug/deps/libweb_app-{hash}.rlib"),
            format!("debug/deps/libshared_lib-{hash}.rmeta"),
            format!("debug/deps/e2e-{hash}"),
            format!("debug/build/serde-{hash}/output"),
            format!("debug/.fingerprint/serde-{hash}/lib-serde"),
            format!("debug/.fingerprint/web-app-{hash}/lib-web_app"),
            format!("debug/incremental/web_app-{hash}/s-1/dep-graph.bin"),
            format!("debug/incremental/e2e-{hash}/s-1/dep-graph.bin"),
            "debug/web-app".to_string(),
        ];
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        for file in &files {
            let path = from.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "x").unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        // Four files of one byte each.
        assert_eq!(seed_target(&from, &to, &["shared-lib"]).unwrap(), 4);
        let mut seeded = crate::ops::fs::files(&to, &[]).unwrap();
        seeded.sort();
        let expected: Vec<std::path::PathBuf> = [
            format!("debug/.fingerprint/serde-{hash}/lib-serde"),
            format!("debug/build/serde-{hash}/output"),
            format!("debug/deps/libserde-{hash}.rlib"),
            format!("debug/deps/serde-{hash}.d"),
        ]
        .iter()
        .map(Into::into)
        .collect();
        assert_eq!(seeded, expected);
        let mtime = std::fs::metadata(to.join(&expected[2]))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(mtime, old, "a copy keeps its modification time");
        // Two seeds at once: one copies, the other finds it done or loses
        // the rename; no half copy is left beside `debug/`.
        let twice = tmp.path().join("twice");
        let bytes = std::thread::scope(|scope| {
            let one = scope.spawn(|| seed_target(&from, &twice, &["shared-lib"]).unwrap());
            let other = scope.spawn(|| seed_target(&from, &twice, &["shared-lib"]).unwrap());
            [one.join().unwrap(), other.join().unwrap()]
        });
        assert_eq!(bytes.iter().sum::<u64>(), 4, "{bytes:?}");
        let beside: Vec<_> = std::fs::read_dir(&twice)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(beside, ["debug"]);
        let mut again = crate::ops::fs::files(&twice, &[]).unwrap();
        again.sort();
        assert_eq!(again, seeded);
        // A cache that has a debug build is left alone.
        std::fs::remove_file(to.join(&expected[2])).unwrap();
        assert_eq!(seed_target(&from, &to, &["shared-lib"]).unwrap(), 0);
        assert!(!to.join(&expected[2]).exists());
    }
}
