//! Where things are: the checkout, the shared build cache, the state of
//! running processes and the tools installed outside the checkout.

use std::path::{Path, PathBuf};

/// The benchmark's bare warp server, a project of the repository beside the
/// services (no shared-lib).
pub const BARE_WARP: &str = "bench/bare-warp";

/// The benchmark's database anchor, a project of the repository that
/// resolves shared-lib from the registry like a service.
pub const DB_ANCHOR: &str = "bench/db-anchor";

/// Projects of the repository besides the services that resolve shared-lib
/// from the registry: what they pin is published too.
pub const OTHER_CONSUMERS: &[&str] = &[DB_ANCHOR];

/// The paths of one checkout.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The repository root (the directory holding `.cargo/` and `xtask/`).
    pub root: PathBuf,
    /// The build cache to use instead of the usual one (tests point a copy
    /// of the repository at a cache of its own).
    pub target: Option<PathBuf>,
}

impl Layout {
    /// The checkout this command runs in: the parent of the xtask
    /// manifest `cargo run` names (cargo sets `CARGO_MANIFEST_DIR` for the
    /// process), else the nearest directory holding `fleet.toml` and
    /// `xtask/` above the working directory. Never the path the binary was
    /// compiled at: checkouts sharing a build cache share one binary.
    pub fn find() -> anyhow::Result<Layout> {
        let is_root = |dir: &Path| dir.join("fleet.toml").is_file() && dir.join("xtask").is_dir();
        let from_cargo = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .and_then(|m| m.parent().map(Path::to_path_buf))
            .filter(|root| is_root(root));
        let cwd = std::env::current_dir()?;
        let root = from_cargo
            .or_else(|| cwd.ancestors().find(|d| is_root(d)).map(Path::to_path_buf))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{} is not inside a checkout of the fleet (no fleet.toml and xtask/ here or above); \
                     run cargo xtask from your clone",
                    cwd.display()
                )
            })?;
        Ok(Layout { root, target: None })
    }

    /// [`Layout::find`] for tests, which always run inside the checkout.
    ///
    /// # Panics
    /// Outside a checkout.
    pub fn detect() -> Layout {
        Layout::find().unwrap_or_else(|err| panic!("{err}"))
    }

    /// A checkout at `root` building into `target`.
    pub fn at(root: PathBuf, target: PathBuf) -> Layout {
        Layout {
            root,
            target: Some(target),
        }
    }

    /// The one build cache of every project: the override, else `CARGO_TARGET_DIR` when set
    /// (CI puts it outside the checkout), else `target/` at the root, as
    /// `.cargo/config.toml` says.
    pub fn target_dir(&self) -> PathBuf {
        if let Some(target) = &self.target {
            return target.clone();
        }
        match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => std::env::current_dir().unwrap_or_default().join(dir),
            None => self.root.join("target"),
        }
    }

    /// Pid records and logs of what `up` started (git-ignored).
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".fleet")
    }

    /// Kellnr's checked-in settings.
    pub fn kellnr_config(&self) -> PathBuf {
        self.root.join("registry").join("kellnr.toml")
    }

    /// Kellnr's data: database, crate files, admin token (git-ignored).
    pub fn registry_data(&self) -> PathBuf {
        self.root.join("registry").join("data")
    }

    /// The fleet manifest, `fleet.toml`, read and checked (the harness's
    /// view: the services it runs).
    pub fn fleet(&self) -> anyhow::Result<crate::manifest::Fleet> {
        crate::manifest::Fleet::load(&self.root)
    }

    /// This checkout as `cargo fleet` works on it, reading `registry` with
    /// its read token and building into this layout's cache.
    pub fn workspace(
        &self,
        registry: &crate::ops::registry::Kellnr,
    ) -> anyhow::Result<cargo_fleet::Workspace> {
        self.workspace_with_token(registry, registry.read_token()?)
    }

    /// [`Layout::workspace`] with `token` (the publish token, for a release).
    pub fn workspace_with_token(
        &self,
        registry: &crate::ops::registry::Kellnr,
        token: String,
    ) -> anyhow::Result<cargo_fleet::Workspace> {
        Ok(
            cargo_fleet::Workspace::open(self.root.clone(), Some(token))?
                .with_registry_index(registry.index_url())
                .with_target(self.target_dir()),
        )
    }

    /// A project directory of the checkout (`shared-lib`, a service ...).
    pub fn project(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

/// Tools the project installs for itself (Kellnr, cargo-release ...), each
/// in a versioned directory outside any checkout, so every clone on this
/// machine, CI's included, reuses them: `$SHARED_FLEET_TOOLS`, else
/// `$XDG_CACHE_HOME/shared-fleet`, else `~/.cache/shared-fleet`.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SHARED_FLEET_TOOLS") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("shared-fleet")
}

pub use cargo_fleet::workspace::stable_hash;
