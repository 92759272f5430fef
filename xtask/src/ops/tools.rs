//! Installing the tools the project needs, pinned, once per machine: cargo
//! tools with `cargo install --locked`, Python tools from PyPI into a
//! virtual environment of their own, Debian packages with apt-get.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::paths::tools_dir;

/// A tool installed from crates.io at a pinned version.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// The crate to install.
    pub krate: &'static str,
    /// The pinned version (the newest that builds with this toolchain).
    pub version: &'static str,
    /// The binary it installs.
    pub bin: &'static str,
    /// What a first install costs here, said before it starts.
    pub cost: &'static str,
    /// How it is compiled.
    pub build: Build,
    /// Extra `cargo install` arguments: `--no-default-features` where the
    /// defaults only compile a C library Debian ships (OpenSSL).
    pub args: &'static [&'static str],
    /// The Debian packages its build then needs, installed with apt-get
    /// when missing.
    pub debian: &'static [&'static str],
}

/// How a tool is compiled: the fastest setting under which it still does
/// its job well (measured on 2 cores, see the README's "First run").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `--debug` without debug info: a third of a release build's compile
    /// time, for a tool whose work is I/O (Kellnr serves the fleet at
    /// thousands of requests a second this way; cargo-release runs cargo
    /// and git).
    Debug,
    /// Release without optimisation (`opt-level = 0`, 16 codegen units, no
    /// LTO, no debug info), but for `optimized`, the packages where the
    /// tool computes, at `opt-level = 1`: for cargo-semver-checks, whose
    /// query engine and rustdoc adapters compile slower unoptimised than
    /// at level 1 (its all-debug build took longer than this).
    Release {
        /// The packages built at `opt-level = 1`.
        optimized: &'static [&'static str],
    },
}

impl Build {
    /// The `cargo install` arguments and profile overrides.
    fn apply(self, cmd: &mut Command) {
        match self {
            Build::Debug => {
                cmd.arg("--debug").env("CARGO_PROFILE_DEV_DEBUG", "0");
            }
            Build::Release { optimized } => {
                cmd.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
                    .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
                    .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
                    .env("CARGO_PROFILE_RELEASE_LTO", "false")
                    .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "false");
                for package in optimized {
                    cmd.arg("--config")
                        .arg(format!("profile.release.package.\"{package}\".opt-level=1"));
                }
            }
        }
    }
}

/// The private registry server.
pub const KELLNR: Tool = Tool {
    krate: "kellnr",
    version: "6.6.0",
    bin: "kellnr",
    cost: "a one-time compile of about 7 minutes on 2 cores",
    build: Build::Debug,
    // The default feature compiles OpenSSL from source; Debian's is the
    // same library, linked instead.
    args: &["--no-default-features"],
    debian: SYSTEM_OPENSSL,
};

/// What linking the system's OpenSSL instead of compiling one takes.
const SYSTEM_OPENSSL: &[&str] = &["libssl-dev", "pkg-config"];

/// Releases shared-lib: version bump, CHANGELOG, commit, tag, publish.
/// 1.1.6 is the newest that builds with rustc 1.95.
pub const CARGO_RELEASE: Tool = Tool {
    krate: "cargo-release",
    version: "1.1.6",
    bin: "cargo-release",
    cost: "a one-time compile of about 2 minutes on 2 cores",
    build: Build::Debug,
    // Its defaults vendor OpenSSL and libgit2; libgit2 is still compiled
    // (Debian 12's is older than git2 accepts), OpenSSL is Debian's.
    args: &["--no-default-features"],
    debian: SYSTEM_OPENSSL,
};

/// Compares shared-lib's API with the last published version.
pub const SEMVER_CHECKS: Tool = Tool {
    krate: "cargo-semver-checks",
    version: "0.51.0",
    bin: "cargo-semver-checks",
    cost: "a one-time compile of about 3 minutes on 2 cores",
    build: Build::Release {
        optimized: &[
            "cargo-semver-checks",
            "trustfall_core",
            "trustfall_rustdoc",
            "trustfall-rustdoc-adapter",
        ],
    },
    args: &[],
    debian: &[],
};

/// Checks each service's dependency sources (its `deny.toml`, from its
/// supply-chain test). 0.20.2 is the newest release and builds with rustc
/// 1.95; it predates the fix for registries on IP hosts (issue 892, PR
/// 893), which the services' `deny.toml` works around.
pub const CARGO_DENY: Tool = Tool {
    krate: "cargo-deny",
    version: "0.20.2",
    bin: "cargo-deny",
    cost: "a one-time compile of about 2 minutes on 2 cores",
    build: Build::Debug,
    args: &[],
    debian: &[],
};

/// Builds the services' binaries with their dependency list embedded
/// (the images' Dockerfiles run it as `cargo auditable build`).
pub const CARGO_AUDITABLE: Tool = Tool {
    krate: "cargo-auditable",
    version: "0.7.7",
    bin: "cargo-auditable",
    cost: "a one-time compile of under a minute on 2 cores",
    build: Build::Debug,
    args: &[],
    debian: &[],
};

/// Writes a CycloneDX SBOM of each service for its image.
pub const CARGO_CYCLONEDX: Tool = Tool {
    krate: "cargo-cyclonedx",
    version: "0.5.9",
    bin: "cargo-cyclonedx",
    cost: "a one-time compile of about a minute on 2 cores",
    build: Build::Debug,
    args: &[],
    debian: &[],
};

impl Tool {
    /// Where the binary lives once installed.
    pub fn path(&self) -> PathBuf {
        tools_dir()
            .join(format!("{}-{}", self.krate, self.version))
            .join("bin")
            .join(self.bin)
    }

    /// A command running the program, installed first when missing.
    pub fn command(&self) -> Result<Command> {
        Ok(Command::new(self.ensure()?))
    }

    /// The binary, installed first when missing. Cargo's own progress lines
    /// show while it compiles.
    pub fn ensure(&self) -> Result<PathBuf> {
        self.ensure_with(None)
    }

    /// [`Tool::ensure`] for an install beside other work: cargo runs at the
    /// lowest priority (`nice -n 19`, so it takes the CPU the rest leaves)
    /// and writes its progress to `log` instead of the terminal.
    pub fn ensure_beside(&self, log: &Path) -> Result<PathBuf> {
        self.ensure_with(Some(log))
    }

    fn ensure_with(&self, beside: Option<&Path>) -> Result<PathBuf> {
        let bin = self.path();
        if bin.is_file() {
            return Ok(bin);
        }
        let root = bin
            .parent()
            .and_then(|p| p.parent())
            .context("tool path has no root")?;
        let progress = match beside {
            None => "Cargo's progress follows.".to_string(),
            Some(log) => format!(
                "In the background at the lowest priority, cargo's progress in {}.",
                log.display()
            ),
        };
        eprintln!(
            "==> installing {} {} into {} ({}; later runs reuse it). {progress}",
            self.krate,
            self.version,
            root.display(),
            self.cost
        );
        ensure_debian_packages(self.debian)?;
        let mut cmd = match beside {
            None => Command::new("cargo"),
            Some(log) => {
                let mut cmd = Command::new("nice");
                cmd.args(["-n", "19", "cargo"]);
                crate::ops::run::output_to(&mut cmd, log)?;
                cmd
            }
        };
        cmd.args(["install", "--locked", "--root"])
            .arg(root)
            .args(self.args)
            .arg(format!("{}@{}", self.krate, self.version))
            // The checkout's target dir and config do not apply to installs.
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_BUILD_DIR")
            .current_dir(tools_dir_existing()?);
        self.build.apply(&mut cmd);
        let status = cmd
            .status()
            .with_context(|| format!("cannot run cargo to install {}", self.krate))?;
        if !status.success() || !bin.is_file() {
            let errors = beside.map_or("above".to_string(), |log| format!("in {}", log.display()));
            bail!(
                "installing {} {} failed ({status}); read cargo's error {errors}, fix it (often a missing \
                 Debian package) and run the command again",
                self.krate,
                self.version
            );
        }
        if beside.is_some() {
            eprintln!(
                "(installed {} {} in the background)",
                self.krate, self.version
            );
        }
        Ok(bin)
    }
}

/// A command-line tool from PyPI, pinned, in a virtual environment of its
/// own under the tool cache.
#[derive(Debug, Clone, Copy)]
pub struct PyPiTool {
    /// The package to install.
    pub package: &'static str,
    /// The pinned version.
    pub version: &'static str,
    /// The program it installs.
    pub bin: &'static str,
}

/// The API fuzzer the contract tests run against each service's OpenAPI
/// document (installs in about 10 s).
pub const SCHEMATHESIS: PyPiTool = PyPiTool {
    package: "schemathesis",
    version: "4.32.5",
    bin: "st",
};

/// The offline validator of Kubernetes manifests against the API's
/// schemas (bundles 1.25 to 1.37; a 22 MB wheel).
pub const KUBERNETES_VALIDATE: PyPiTool = PyPiTool {
    package: "kubernetes-validate",
    version: "1.37.0",
    bin: "kubernetes-validate",
};

impl PyPiTool {
    /// Where the program lives once installed.
    pub fn path(&self) -> PathBuf {
        self.venv().join("bin").join(self.bin)
    }

    fn venv(&self) -> PathBuf {
        tools_dir().join(format!("{}-{}", self.package, self.version))
    }

    /// A command running the program, installed first when missing.
    pub fn command(&self) -> Result<Command> {
        Ok(Command::new(self.ensure()?))
    }

    /// The program, installed first when missing: `python3 -m venv`, then
    /// `pip install <package>==<version>` in it (Debian's `python3-venv`
    /// is installed when the venv module is missing).
    pub fn ensure(&self) -> Result<PathBuf> {
        let bin = self.path();
        if bin.is_file() {
            return Ok(bin);
        }
        let venv = self.venv();
        eprintln!(
            "==> installing {} {} from PyPI into {} (once per machine)",
            self.package,
            self.version,
            venv.display()
        );
        let python = ensure_debian("python3", "python3")?;
        let make_venv = || {
            Command::new(&python)
                .args(["-m", "venv", "--clear"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success())
        };
        if !make_venv() {
            ensure_debian_packages(&["python3-venv"])?;
            if !make_venv() {
                bail!(
                    "cannot create a Python virtual environment in {}; install Debian's python3-venv and run the command again",
                    venv.display()
                );
            }
        }
        let status = Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("{}=={}", self.package, self.version))
            .status()
            .with_context(|| format!("cannot run pip to install {}", self.package))?;
        if !status.success() || !bin.is_file() {
            // A half-made venv would pass for installed next time.
            let _ = std::fs::remove_dir_all(&venv);
            bail!(
                "installing {} {} from PyPI failed ({status}); read pip's error above (often no route to pypi.org) and run the command again",
                self.package,
                self.version
            );
        }
        Ok(bin)
    }
}

/// A command-line tool from the npm registry, pinned, with the Node it
/// needs (the machine's own may be older), in a folder of its own under
/// the tool cache.
#[derive(Debug, Clone, Copy)]
pub struct NpmTool {
    /// The folder name and the version said.
    pub name: &'static str,
    /// The pinned version of the tool.
    pub version: &'static str,
    /// What `npm install` takes, each pinned.
    pub packages: &'static [&'static str],
    /// The program it installs.
    pub bin: &'static str,
}

/// Renovate, which proposes dependency updates; 44.x needs Node ^24.11,
/// which the npm package `node` ships as a binary.
pub const RENOVATE: NpmTool = NpmTool {
    name: "renovate",
    version: "44.121.2",
    packages: &["node@24.21.0", "renovate@44.121.2"],
    bin: "renovate",
};

impl NpmTool {
    fn dir(&self) -> PathBuf {
        tools_dir().join(format!("{}-{}", self.name, self.version))
    }

    /// The folder of its programs (`node` among them): put it first on
    /// `PATH` when running the tool, so its `#!/usr/bin/env node` finds
    /// the right Node.
    pub fn bin_dir(&self) -> PathBuf {
        self.dir().join("node_modules").join(".bin")
    }

    /// A command running the program (installed first when missing), its
    /// own folder first on `PATH` so that it finds its own Node.
    pub fn command(&self) -> Result<Command> {
        let bin = self.ensure()?;
        let path = std::env::join_paths(std::iter::once(self.bin_dir()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))?;
        let mut cmd = Command::new(bin);
        cmd.env("PATH", path);
        Ok(cmd)
    }

    /// The program, installed first when missing (`npm install --prefix`;
    /// about a minute and 530 MB).
    pub fn ensure(&self) -> Result<PathBuf> {
        let bin = self.bin_dir().join(self.bin);
        if bin.is_file() && self.bin_dir().join("node").is_file() {
            return Ok(bin);
        }
        let dir = self.dir();
        eprintln!(
            "==> installing {} from the npm registry into {} (once per machine, about a minute)",
            self.packages.join(" "),
            dir.display()
        );
        let npm = match on_path("npm") {
            Some(npm) => npm,
            None => ensure_debian("npm", "npm")?,
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let status = Command::new(npm)
            .args(["install", "--prefix"])
            .arg(&dir)
            .args([
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--save-exact",
            ])
            .args(self.packages)
            .status()
            .with_context(|| format!("cannot run npm to install {}", self.name))?;
        if !status.success() || !bin.is_file() {
            let _ = std::fs::remove_dir_all(&dir);
            bail!(
                "installing {} from the npm registry failed ({status}); read npm's error above and run the command again",
                self.packages.join(" ")
            );
        }
        Ok(bin)
    }
}

/// Debian's `packages`, those not installed yet installed with apt-get
/// (`apt-get update` first when the package lists are stale).
fn ensure_debian_packages(packages: &[&str]) -> Result<()> {
    let installed = |package: &str| {
        Command::new("dpkg-query")
            .args(["-W", "-f=${Status}", package])
            .output()
            .is_ok_and(|out| out.stdout.ends_with(b" installed"))
    };
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !apt_get_install(&missing) {
        bail!(
            "apt-get could not install {}; install them (as root) and run the command again",
            missing.join(" ")
        );
    }
    Ok(())
}

/// `apt-get install` of `packages`, said first; when it fails, `apt-get
/// update` (stale package lists) and once more. Whether it succeeded.
fn apt_get_install(packages: &[&str]) -> bool {
    eprintln!(
        "==> installing {} from Debian's packages (apt-get install {0})",
        packages.join(" ")
    );
    let install = || {
        Command::new("apt-get")
            // Another apt-get at work is waited for, not failed on.
            .args(["install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    install() || {
        let _ = Command::new("apt-get")
            .args(["update", "-q", "-o", "DPkg::Lock::Timeout=300"])
            .status();
        install()
    }
}

/// The program `bin` from Debian's package `package`, installed with
/// apt-get when it is not on PATH (`apt-get update` first when the package
/// lists are stale).
pub fn ensure_debian(bin: &str, package: &str) -> Result<PathBuf> {
    if let Some(path) = on_path(bin) {
        return Ok(path);
    }
    apt_get_install(&[package]);
    on_path(bin).with_context(|| {
        format!(
            "{bin} is not installed and apt-get could not install it; install it \
             (`apt-get install {package}`, as root) and run the command again"
        )
    })
}

pub use cargo_fleet::ops::run::on_path;

fn tools_dir_existing() -> Result<PathBuf> {
    let dir = tools_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}
