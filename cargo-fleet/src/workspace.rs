//! A fleet as the tool works on it: the directory holding `fleet.toml`,
//! the manifest, the registry with its token, the build cache, and the
//! checkouts of projects that live in repositories of their own.
//!
//! A project declared by `path` is its directory under the root. One
//! declared by `git` is cloned into the tool's cache
//! (`$CARGO_FLEET_CACHE`, else `$XDG_CACHE_HOME/cargo-fleet`, else
//! `~/.cache/cargo-fleet`), under `git/<name>-<hash of the URL>`, and
//! brought to its branch's head once per run; nothing is ever written into
//! the user's tree but the reports under `.fleet/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Result;

use crate::error::usage;
use crate::manifest::{self, Manifest, Service, Shared, Source};
use crate::ops::registry::Registry;

/// A fleet to work on.
#[derive(Debug)]
pub struct Workspace {
    /// The directory holding `fleet.toml`.
    pub root: PathBuf,
    /// `fleet.toml`, read and checked.
    pub manifest: Manifest,
    /// The registry it declares, with the token.
    pub registry: Registry,
    /// The build cache every cargo run of the tool shares.
    pub target: PathBuf,
    /// Where checkouts of git projects are kept.
    pub cache: PathBuf,
    /// Directories put first on `PATH` for the services' tests (their
    /// supply-chain test runs `cargo deny` and `cargo fleet audit`): this
    /// program's own directory by default.
    pub tools: Vec<PathBuf>,
    synced: Mutex<BTreeSet<PathBuf>>,
}

impl Workspace {
    /// The fleet whose `fleet.toml` is in `start` or the nearest directory
    /// above it, with cargo's token for its registry.
    pub fn find(start: &Path) -> Result<Workspace> {
        let root = start
            .ancestors()
            .find(|d| d.join(manifest::FILE).is_file())
            .ok_or_else(|| {
                usage(format!(
                    "no {} in {} or any directory above it; run cargo fleet in the repository that \
                     declares the fleet, or pass --manifest-path",
                    manifest::FILE,
                    start.display()
                ))
            })?;
        Workspace::open(root.to_path_buf(), None)
    }

    /// The fleet of `root`'s `fleet.toml`; the registry's token is `token`
    /// when given, else cargo's (see [`Registry::from_manifest`]).
    pub fn open(root: PathBuf, token: Option<String>) -> Result<Workspace> {
        let manifest = Manifest::load(&root)?;
        let registry = match token {
            Some(token) => Registry::with_token(&manifest.registry, Some(token)),
            None => Registry::from_manifest(&manifest.registry),
        };
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => std::env::current_dir().unwrap_or_default().join(dir),
            None => root.join("target"),
        };
        Ok(Workspace {
            root,
            manifest,
            registry,
            target,
            cache: cache_dir(),
            tools: std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(PathBuf::from))
                .into_iter()
                .collect(),
            synced: Mutex::new(BTreeSet::new()),
        })
    }

    /// This fleet reading the registry at `index` instead of the one
    /// `fleet.toml` declares (the harness's throwaway registries).
    pub fn with_registry_index(mut self, index: String) -> Workspace {
        self.registry.index = index;
        self
    }

    /// This fleet with `dirs` first on the services' tests' `PATH` instead
    /// (a harness that runs the tool as a library passes where its
    /// `cargo-fleet` and `cargo-deny` are).
    pub fn with_tools(mut self, dirs: Vec<PathBuf>) -> Workspace {
        self.tools = dirs;
        self
    }

    /// Puts [`Workspace::tools`] first on `cmd`'s `PATH`.
    pub fn tools_on_path(&self, cmd: &mut std::process::Command) {
        crate::ops::run::path_first(cmd, &self.tools);
    }

    /// This fleet building into `target` instead.
    pub fn with_target(mut self, target: PathBuf) -> Workspace {
        self.target = target;
        self
    }

    /// Reports and scratch copies (`.fleet/` under the root).
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".fleet")
    }

    /// The directory of a service's files, its repository brought to its
    /// branch's head first when it lives in one.
    pub fn service_dir(&self, service: &Service) -> Result<PathBuf> {
        self.dir(&service.name, &service.source)
    }

    /// The advisory database's directory (`[advisories] path`).
    pub fn advisories_dir(&self) -> PathBuf {
        self.root.join(&self.manifest.advisories.path)
    }

    /// Every advisory of the fleet's database.
    pub fn advisories(&self) -> Result<Vec<crate::advisories::Advisory>> {
        crate::advisories::load(&self.advisories_dir())
    }

    /// The directory of a shared crate's files (see [`Workspace::service_dir`]).
    pub fn shared_dir(&self, shared: &Shared) -> Result<PathBuf> {
        self.dir(&shared.name, &shared.source)
    }

    fn dir(&self, name: &str, source: &Source) -> Result<PathBuf> {
        match source {
            Source::Path(path) => {
                let dir = self.root.join(path);
                if !dir.join("Cargo.toml").is_file() {
                    return Err(usage(format!(
                        "{name}: {} has no Cargo.toml; correct its path in {} or declare it by git",
                        dir.display(),
                        manifest::FILE
                    )));
                }
                Ok(dir)
            }
            Source::Git { url, branch } => {
                let dir = self.checkout(name, url);
                let mut synced = self.synced.lock().unwrap_or_else(|e| e.into_inner());
                if !synced.contains(&dir) {
                    crate::ops::git::sync(url, branch, &dir)?;
                    synced.insert(dir.clone());
                }
                Ok(dir)
            }
        }
    }

    /// Where the checkout of `name` from `url` is kept.
    pub fn checkout(&self, name: &str, url: &str) -> PathBuf {
        self.cache
            .join("git")
            .join(format!("{name}-{:016x}", stable_hash(url)))
    }
}

/// The tool's cache directory.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_FLEET_CACHE") {
        return PathBuf::from(dir);
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("cargo-fleet")
}

/// FNV-1a of `text`: stable across runs, machines and toolchains (unlike
/// std's hasher), for names derived from a path or from content.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf29ce484222325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}
