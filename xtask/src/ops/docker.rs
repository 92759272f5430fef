//! The Docker engine, `docker compose`, and stand-in base images.
//!
//! - [`Engine::ensure`] uses an engine that answers (`DOCKER_HOST`, or the
//!   project's own socket), else installs Debian's `docker.io` and
//!   `docker-compose` when missing and starts a daemon the project owns:
//!   its data root and socket under the tools cache, its pid recorded, so
//!   [`Engine::stop_own`] stops exactly it.
//! - The 20.10 client from `docker.io` (`/usr/bin/docker`) has BuildKit
//!   built in; a newer client without the buildx plugin does not, so
//!   builds use that one and compose finds it first on PATH.
//! - [`prepare_first_engine`]: on a machine that never ran the project's
//!   engine, its packages and the stand-ins' root file systems, made ahead.
//! - [`ensure_base_images`]: where no image can be pulled, the names the
//!   Dockerfiles and compose use are built locally, only when the engine
//!   lacks them: Debian bookworm from debootstrap, the Rust image as
//!   bookworm plus this machine's toolchain under the official image's
//!   paths, Kellnr as the installed binary laid out like the official
//!   image. A machine that can pull keeps the real images.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::ops::procs;
use crate::ops::registry::Kellnr;
use crate::ops::run::{capture, run};
use crate::ops::tools::{self, KELLNR};
use crate::paths::{Layout, tools_dir};

/// The Rust image the Dockerfiles build with.
pub const RUST_IMAGE: &str = "rust:1.95-slim-bookworm";
/// The runtime image of the services.
pub const DEBIAN_IMAGE: &str = "debian:bookworm-slim";
/// The registry image of the compose file.
pub const KELLNR_IMAGE: &str = "ghcr.io/kellnr/kellnr:6.6.0";

/// A Docker engine xtask talks to.
#[derive(Debug, Clone)]
pub struct Engine {
    /// `DOCKER_HOST` for every client call.
    pub host: String,
}

/// Where the project's own daemon keeps its state.
fn engine_dir() -> PathBuf {
    tools_dir().join("docker")
}

/// The pid record of the daemon this project starts.
fn own_record() -> PathBuf {
    procs::record_path(&engine_dir(), "dockerd")
}

fn own_host() -> String {
    format!("unix://{}", engine_dir().join("docker.sock").display())
}

/// The client with BuildKit built in, if Debian's is installed.
fn client_bin() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/docker");
    if debian.is_file() {
        debian
    } else {
        PathBuf::from("docker")
    }
}

fn answers(host: &str) -> bool {
    Command::new(client_bin())
        .args(["info", "--format", "{{.ServerVersion}}"])
        .env("DOCKER_HOST", host)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

impl Engine {
    /// An engine that answers, started by the project when none does; the
    /// flag says whether this call started it.
    pub fn ensure() -> Result<(Engine, bool)> {
        if let Ok(engine) = engine() {
            return Ok((engine, false));
        }
        let host = own_host();
        let record = own_record();
        ensure_engine_packages()?;
        let dockerd = tools::on_path("dockerd").context("dockerd is not on PATH")?;
        let dir = engine_dir();
        std::fs::create_dir_all(&dir)?;
        let mut cmd = Command::new(&dockerd);
        cmd.arg("--data-root")
            .arg(dir.join("data"))
            .arg("--host")
            .arg(&host)
            .arg("--pidfile")
            .arg(dir.join("dockerd.pid"))
            // Short: the daemon's runtime sockets live under it.
            .args(["--exec-root", "/run/shared-fleet-docker"]);
        let log = dir.join("dockerd.log");
        let mut child = procs::spawn_logged(cmd, &log)?;
        let ready = procs::wait_until(Duration::from_secs(60), || answers(&host));
        if !ready {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "the Docker daemon did not answer within 60 s (are you root?); end of {}:\n{}",
                log.display(),
                procs::log_tail(&log, 20)
            );
        }
        procs::write_record(
            &record,
            &procs::PidRecord {
                pid: child.id(),
                program: dockerd.clone(),
                program_mtime: procs::mtime(&dockerd)?,
                url: host.clone(),
                log,
                database: String::new(),
            },
        )?;
        Ok((Engine { host }, true))
    }

    /// Whether `engine` is the daemon this project started and still runs.
    pub fn owns(engine: &Engine) -> bool {
        let record = own_record();
        matches!(procs::read_record(&record), Ok(Some(r)) if r.url == engine.host)
    }

    /// Stops the daemon this project started (by its pid record), if any.
    pub fn stop_own() -> Result<bool> {
        let record = own_record();
        let Some(r) = procs::read_record(&record)? else {
            return Ok(false);
        };
        let stopped = procs::stop(&r, Duration::from_secs(30))?;
        std::fs::remove_file(&record).ok();
        Ok(stopped)
    }

    /// The docker client pointed at this engine.
    pub fn docker(&self) -> Command {
        let mut cmd = Command::new(client_bin());
        cmd.env("DOCKER_HOST", &self.host)
            .env("DOCKER_BUILDKIT", "1");
        cmd
    }

    /// `docker compose` (v2) when the client has it, else Debian's
    /// `docker-compose` 1.29, in the checkout, building with BuildKit
    /// through the client that has it built in.
    pub fn compose(&self, layout: &Layout, registry: &Kellnr) -> Result<Command> {
        let read = |path: PathBuf| {
            std::fs::read_to_string(&path)
                .map(|s| s.trim().to_string())
                .with_context(|| format!("cannot read {}", path.display()))
        };
        let v2 = self
            .docker()
            .args(["compose", "version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        let mut cmd = if v2 {
            let mut c = self.docker();
            c.arg("compose");
            c
        } else {
            let mut c = Command::new("docker-compose");
            c.env("DOCKER_HOST", &self.host);
            c
        };
        let path = format!(
            "/usr/bin:{}",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/bin".into())
        );
        cmd.current_dir(&layout.root)
            .env("PATH", path)
            .env("DOCKER_BUILDKIT", "1")
            .env("COMPOSE_DOCKER_CLI_BUILD", "1")
            .env("KELLNR_ADMIN_TOKEN", read(registry.token_file())?)
            .env("KELLNR_ADMIN_PWD", read(registry.password_file())?);
        Ok(cmd)
    }

    /// The id of the image `name`, if the engine has it.
    pub fn image_id(&self, name: &str) -> Option<String> {
        let out = capture(
            self.docker()
                .args(["image", "inspect", "--format", "{{.Id}}", name]),
        )
        .ok()?;
        Some(out.trim().to_string()).filter(|id| !id.is_empty())
    }

    /// Removes the volume `name`; whether it existed.
    pub fn remove_volume(&self, name: &str) -> Result<bool> {
        let exists = self
            .docker()
            .args(["volume", "inspect", name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if exists {
            crate::ops::run::capture(self.docker().args(["volume", "rm", name]))?;
        }
        Ok(exists)
    }

    /// Whether the engine has an image called `name`.
    pub fn has_image(&self, name: &str) -> bool {
        self.docker()
            .args(["image", "inspect", name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// The size of image `name` in bytes.
    pub fn image_size(&self, name: &str) -> Result<u64> {
        let out = capture(
            self.docker()
                .args(["image", "inspect", "--format", "{{.Size}}", name]),
        )?;
        out.trim()
            .parse()
            .with_context(|| format!("docker image inspect {name}: {out:?}"))
    }
}

/// Fails with a clear message when no Docker engine answers.
pub fn engine() -> Result<Engine> {
    if let Ok(host) = std::env::var("DOCKER_HOST")
        && answers(&host)
    {
        return Ok(Engine { host });
    }
    if answers(&own_host()) {
        return Ok(Engine { host: own_host() });
    }
    if answers("unix:///var/run/docker.sock") {
        return Ok(Engine {
            host: "unix:///var/run/docker.sock".into(),
        });
    }
    bail!(
        "no Docker engine answers (DOCKER_HOST, the project's own daemon, /var/run/docker.sock); \
         `cargo xtask up --docker` starts one, or use the native path: `cargo xtask up`"
    )
}

/// What [`ensure_base_images`] built.
#[derive(Debug, Clone, Default)]
pub struct StandIns {
    /// The image names it built locally (the others were present).
    pub built: Vec<String>,
}

/// Builds the stand-ins of the base images the engine lacks.
pub fn ensure_base_images(engine: &Engine) -> Result<StandIns> {
    let mut built = Vec::new();
    if !engine.has_image(DEBIAN_IMAGE) {
        let rootfs = ROOTFS_MINBASE.ensure()?;
        import(engine, &rootfs, DEBIAN_IMAGE, &["CMD [\"bash\"]"], &[])?;
        built.push(DEBIAN_IMAGE.to_string());
    }
    let needs_build_rootfs = !engine.has_image(RUST_IMAGE) || !engine.has_image(KELLNR_IMAGE);
    if needs_build_rootfs {
        let rootfs = ROOTFS_BUILD.ensure()?;
        // Trust the host's CA bundle, as a TLS-intercepting proxy needs.
        let bundle = Path::new("/etc/ssl/certs/ca-certificates.crt");
        if bundle.is_file() {
            std::fs::copy(bundle, rootfs.join("etc/ssl/certs/ca-certificates.crt"))?;
        }
        if !engine.has_image(RUST_IMAGE) {
            let sysroot =
                PathBuf::from(capture(Command::new("rustc").args(["--print", "sysroot"]))?.trim());
            let toolchain = "/usr/local/rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu";
            let mut links = Vec::new();
            for bin in [
                "cargo",
                "rustc",
                "rustdoc",
                "rustfmt",
                "cargo-clippy",
                "clippy-driver",
            ] {
                if sysroot.join("bin").join(bin).is_file() {
                    links.push((
                        format!("{toolchain}/bin/{bin}"),
                        format!("usr/local/cargo/bin/{bin}"),
                    ));
                }
            }
            import(
                engine,
                &rootfs,
                RUST_IMAGE,
                &[
                    "ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin RUST_VERSION=1.95.0",
                    "CMD [\"bash\"]",
                ],
                &[
                    Extra::Tree {
                        from: sysroot,
                        dirs: vec!["bin".into(), "lib".into(), "libexec".into()],
                        to: toolchain.trim_start_matches('/').to_string(),
                    },
                    Extra::Links(links),
                ],
            )?;
            built.push(RUST_IMAGE.to_string());
        }
        if !engine.has_image(KELLNR_IMAGE) {
            let bin = KELLNR.ensure()?;
            import(
                engine,
                &rootfs,
                KELLNR_IMAGE,
                &[
                    "ENV KELLNR_REGISTRY__DATA_DIR=/var/lib/kellnr KELLNR_LOCAL__IP=0.0.0.0 KELLNR_LOCAL__PORT=8000",
                    "EXPOSE 8000",
                    "WORKDIR /opt/kdata",
                    "CMD [\"/usr/local/bin/kellnr\", \"start\"]",
                ],
                &[Extra::File {
                    from: bin,
                    to: "usr/local/bin/kellnr".into(),
                }],
            )?;
            built.push(KELLNR_IMAGE.to_string());
        }
    }
    Ok(StandIns { built })
}

/// The image the swarm's PostgreSQL runs (a local stand-in: Debian's
/// `postgresql-15`).
pub const POSTGRES_IMAGE: &str = "shared-fleet/postgres:15";
/// The image the swarm's front proxy runs (a local stand-in: Debian's
/// `haproxy` 2.6).
pub const HAPROXY_IMAGE: &str = "shared-fleet/haproxy:2.6";

/// The image the swarm's Prometheus runs (a local stand-in: Debian's
/// `prometheus` 2.42).
pub const PROMETHEUS_IMAGE: &str = "shared-fleet/prometheus:2.42";

/// Builds the images the swarm stack needs besides the services' own,
/// when the engine lacks them: one Debian bookworm root file system with
/// `postgresql-15` and `haproxy`, one with `prometheus` (debootstrap,
/// cached), imported once per name. Returns the names it built.
pub fn ensure_swarm_images(engine: &Engine) -> Result<Vec<String>> {
    let mut built = Vec::new();
    if !engine.has_image(PROMETHEUS_IMAGE) {
        let rootfs = ROOTFS_PROMETHEUS.ensure()?;
        import(
            engine,
            &rootfs,
            PROMETHEUS_IMAGE,
            &[
                "CMD [\"prometheus\", \"--config.file=/etc/prometheus/prometheus.yml\", \"--storage.tsdb.path=/var/lib/prometheus\"]",
            ],
            &[],
        )?;
        built.push(PROMETHEUS_IMAGE.to_string());
    }
    let missing: Vec<&str> = [POSTGRES_IMAGE, HAPROXY_IMAGE]
        .into_iter()
        .filter(|name| !engine.has_image(name))
        .collect();
    if missing.is_empty() {
        return Ok(built);
    }
    let rootfs = ROOTFS_SWARM.ensure()?;
    for name in &missing {
        let changes: &[&str] = if *name == POSTGRES_IMAGE {
            &[
                "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "USER postgres",
                "CMD [\"postgres\", \"--version\"]",
            ]
        } else {
            &["CMD [\"haproxy\", \"-f\", \"/usr/local/etc/haproxy/haproxy.cfg\", \"-db\"]"]
        };
        import(engine, &rootfs, name, changes, &[])?;
    }
    built.extend(missing.into_iter().map(String::from));
    Ok(built)
}

/// Debian's `docker.io` and `docker-compose`, installed when missing.
fn ensure_engine_packages() -> Result<()> {
    tools::ensure_debian("dockerd", "docker.io")?;
    tools::ensure_debian("docker-compose", "docker-compose")?;
    Ok(())
}

/// A Debian bookworm root file system the stand-in images are made of.
struct Rootfs {
    /// Its directory under `<tools>/docker/rootfs/`.
    name: &'static str,
    /// The packages debootstrap adds to minbase.
    include: &'static [&'static str],
}

/// Of the Debian image.
const ROOTFS_MINBASE: Rootfs = Rootfs {
    name: "bookworm-minbase",
    include: &[],
};

/// Of the Rust and Kellnr images.
const ROOTFS_BUILD: Rootfs = Rootfs {
    name: "bookworm-build",
    include: &["ca-certificates", "curl", "gcc", "libc6-dev"],
};

/// Of the swarm's PostgreSQL and front proxy images.
const ROOTFS_SWARM: Rootfs = Rootfs {
    name: "bookworm-swarm",
    include: &["postgresql-15", "haproxy"],
};

/// Of the swarm's Prometheus image.
const ROOTFS_PROMETHEUS: Rootfs = Rootfs {
    name: "bookworm-prometheus",
    include: &["prometheus"],
};

impl Rootfs {
    /// Its directory, made by debootstrap when not made yet.
    fn ensure(&self) -> Result<PathBuf> {
        debootstrap(&engine_dir().join("rootfs").join(self.name), self.include)
    }
}

/// On a machine where the project's engine has never run (no data root)
/// and no other engine answers: installs Debian's `docker.io` and
/// `docker-compose` and makes the stand-in root file systems, the slow
/// half of a first container flow and nearly all of it network and disk,
/// so `test` runs it while cargo compiles. Elsewhere nothing: an engine
/// that has run keeps its images, and a foreign one may have the real
/// ones. [`Engine::ensure`] and the `ensure_*_images` functions find what
/// this made and skip it.
pub fn prepare_first_engine() -> Result<()> {
    if engine_dir().join("data").exists() || engine().is_ok() {
        return Ok(());
    }
    ensure_engine_packages()?;
    for rootfs in [
        ROOTFS_MINBASE,
        ROOTFS_BUILD,
        ROOTFS_SWARM,
        ROOTFS_PROMETHEUS,
    ] {
        rootfs.ensure()?;
    }
    Ok(())
}

/// A Debian bookworm root file system made by debootstrap (minbase plus
/// `include`), cached under `dir` once made.
fn debootstrap(dir: &Path, include: &[&str]) -> Result<PathBuf> {
    let done = dir.join(".complete");
    if done.is_file() {
        return Ok(dir.to_path_buf());
    }
    tools::ensure_debian("debootstrap", "debootstrap")?;
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    // At the lowest CPU priority (its dpkg and decompressors inherit it):
    // on a first `test` it runs beside cargo's compiles, and cargo-release
    // compiled in 177 s instead of 113 s beside it at the same priority.
    let mut cmd = Command::new("nice");
    cmd.args(["-n", "19", "debootstrap", "--variant=minbase"]);
    if !include.is_empty() {
        cmd.arg(format!("--include={}", include.join(",")));
    }
    cmd.arg("bookworm")
        .arg(dir)
        .arg("http://deb.debian.org/debian");
    capture(&mut cmd).context("debootstrap failed")?;
    // What a slim image leaves out: package caches, docs, manuals.
    for trim in [
        "var/cache/apt/archives",
        "var/lib/apt/lists",
        "usr/share/doc",
        "usr/share/man",
    ] {
        let path = dir.join(trim);
        if path.is_dir() {
            for entry in std::fs::read_dir(&path)?.flatten() {
                let p = entry.path();
                if p.is_dir() {
                    let _ = std::fs::remove_dir_all(&p);
                } else if p.file_name().is_some_and(|n| n != "lock") {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
    }
    std::fs::write(&done, "")?;
    Ok(dir.to_path_buf())
}

/// More content for an imported image.
enum Extra {
    /// Directories `dirs` of `from`, placed under `to`.
    Tree {
        from: PathBuf,
        dirs: Vec<String>,
        to: String,
    },
    /// One file.
    File { from: PathBuf, to: String },
    /// Symbolic links (target, link path).
    Links(Vec<(String, String)>),
}

/// `docker import` of `rootfs` plus `extras` as `name`, with `changes`
/// (Dockerfile instructions such as ENV and CMD).
fn import(
    engine: &Engine,
    rootfs: &Path,
    name: &str,
    changes: &[&str],
    extras: &[Extra],
) -> Result<()> {
    let staging = tempfile::tempdir()?;
    let tar = staging.path().join("image.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .args(["--exclude", "./.complete", "-cf"])
        .arg(&tar)
        .arg("."))?;
    for extra in extras {
        match extra {
            Extra::Tree { from, dirs, to } => {
                run(Command::new("tar")
                    .arg("-C")
                    .arg(from)
                    .arg(format!("--transform=s,^,{to}/,"))
                    .arg("-rf")
                    .arg(&tar)
                    .args(dirs))?;
            }
            Extra::File { from, to } => {
                let dir = staging.path().join("file");
                let dest = dir.join(to);
                std::fs::create_dir_all(dest.parent().context("no parent")?)?;
                std::fs::copy(from, &dest)?;
                run(Command::new("tar")
                    .arg("-C")
                    .arg(&dir)
                    .arg("-rf")
                    .arg(&tar)
                    .arg(to))?;
            }
            Extra::Links(links) => {
                let dir = staging.path().join("links");
                for (target, link) in links {
                    let path = dir.join(link);
                    std::fs::create_dir_all(path.parent().context("no parent")?)?;
                    std::os::unix::fs::symlink(target, &path)?;
                    run(Command::new("tar")
                        .arg("-C")
                        .arg(&dir)
                        .arg("-rf")
                        .arg(&tar)
                        .arg(link))?;
                }
            }
        }
    }
    let mut cmd = engine.docker();
    cmd.arg("import");
    for change in changes {
        cmd.args(["--change", change]);
    }
    cmd.arg(&tar).arg(name);
    capture(&mut cmd).with_context(|| format!("importing the stand-in {name}"))?;
    Ok(())
}

/// The compose project name: the checkout's directory name, as compose
/// derives it (lower case; letters, digits, `-` and `_` kept).
pub fn project_name(layout: &Layout) -> String {
    layout
        .root
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The named volume compose makes for `volume` of this checkout.
pub fn volume_name(layout: &Layout, volume: &str) -> String {
    format!("{}_{volume}", project_name(layout))
}

/// The volume that holds `service`'s data (`<service>-data` in the compose file).
pub fn data_volume(layout: &Layout, service: &str) -> String {
    volume_name(layout, &format!("{service}-data"))
}

/// Writes `.env` at the checkout's root (git-ignored, mode 600), which
/// `docker compose` and `docker-compose` read by themselves: plain
/// `docker compose up -d` then works with nothing exported. It holds the
/// registry container's first-start admin token and password; nothing of
/// it enters an image (the build contexts are the service directories).
pub fn write_env_file(layout: &Layout, registry: &Kellnr) -> Result<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path)
            .map(|s| s.trim().to_string())
            .with_context(|| format!("cannot read {}", path.display()))
    };
    let text = format!(
        "# Written by `cargo xtask up --docker` (git-ignored): what docker-compose.yml\n\
         # needs from the environment, so `docker compose up -d` works as is.\n\
         KELLNR_ADMIN_TOKEN={}\nKELLNR_ADMIN_PWD={}\n",
        read(registry.token_file())?,
        read(registry.password_file())?
    );
    let path = layout.root.join(".env");
    let _ = std::fs::remove_file(&path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(path)
}
