//! A Kellnr registry instance: the fleet's one on port 8000 with its data
//! under `registry/data`, or a throwaway one (tests) on another port.
//!
//! Start-up follows Kellnr's rules: settings from `registry/kellnr.toml`,
//! overridden by `KELLNR_*` variables; the admin token is applied on the
//! first start of an empty data dir only, so it is generated then, kept in
//! `<data>/admin.token` (mode 600) and handed to cargo as
//! `CARGO_REGISTRIES_LOCAL_TOKEN` when publishing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::ops::procs;

/// The port in every Cargo.lock's registry URL.
pub const FLEET_PORT: u16 = 8000;

/// How long Kellnr may take to migrate its database and bind.
pub const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// One Kellnr instance: where it listens and keeps its data.
#[derive(Debug, Clone)]
pub struct Kellnr {
    /// The port on 127.0.0.1 (also written into its `config.json`).
    pub port: u16,
    /// Its data directory (SQLite database, crate files, token).
    pub data_dir: PathBuf,
    /// The checked-in settings file.
    pub config: PathBuf,
    /// Where its output goes.
    pub log: PathBuf,
}

/// What answers on a Kellnr port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Kellnr answered `GET /api/v1/health` with 200.
    Up,
    /// Nothing listens.
    Down,
    /// Something else listens there.
    Foreign(String),
}

impl Kellnr {
    /// The base URL, e.g. `http://127.0.0.1:8000`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The sparse index URL cargo uses, e.g.
    /// `sparse+http://127.0.0.1:8000/api/v1/crates/`.
    pub fn index_url(&self) -> String {
        format!("sparse+{}/api/v1/crates/", self.base_url())
    }

    /// The file holding the admin token.
    pub fn token_file(&self) -> PathBuf {
        self.data_dir.join("admin.token")
    }

    /// The file holding the admin web-UI password.
    pub fn password_file(&self) -> PathBuf {
        self.data_dir.join("admin.password")
    }

    /// A GET of `url` on this registry, as a reader.
    pub fn get(&self, url: &str) -> reqwest::blocking::RequestBuilder {
        crate::ops::http::client().get(url)
    }

    /// Asks `GET /api/v1/health`.
    pub fn health(&self) -> Health {
        match crate::ops::http::client()
            .get(format!("{}/api/v1/health", self.base_url()))
            .send()
        {
            Ok(resp) if resp.status().is_success() => Health::Up,
            Ok(resp) => {
                Health::Foreign(format!("it answered /api/v1/health with {}", resp.status()))
            }
            Err(err) if err.is_connect() => Health::Down,
            Err(err) => Health::Foreign(format!("it did not answer HTTP: {err}")),
        }
    }

    /// Starts Kellnr from `bin` and waits until it answers. On the first
    /// start of an empty data dir, a random admin token and password are
    /// generated and saved beside the data.
    pub fn start(&self, bin: &Path) -> Result<Child> {
        if let Health::Foreign(what) = self.health() {
            bail!(
                "port {} is taken by something that is not Kellnr ({what}); stop it \
                 (`ss -ltnp 'sport = :{}'` shows which process) and run the command again",
                self.port,
                self.port
            );
        }
        self.ensure_secrets()?;
        let mut cmd = Command::new(bin);
        cmd.arg("start")
            .arg("--config")
            .arg(&self.config)
            .env("KELLNR_REGISTRY__DATA_DIR", &self.data_dir)
            .env("KELLNR_LOCAL__PORT", self.port.to_string())
            .env("KELLNR_ORIGIN__PORT", self.port.to_string());
        // Applied by Kellnr only while no user exists (first start); passing
        // them on every start also covers a first start that was interrupted.
        if let Ok(token) = std::fs::read_to_string(self.token_file()) {
            cmd.env("KELLNR_SETUP__ADMIN_TOKEN", token.trim());
        }
        if let Ok(pwd) = std::fs::read_to_string(self.password_file()) {
            cmd.env("KELLNR_SETUP__ADMIN_PWD", pwd.trim());
        }
        let health = format!("{}/api/v1/health", self.base_url());
        procs::spawn_ready(cmd, &self.log, &health, READY_TIMEOUT)
            .with_context(|| format!("Kellnr did not start on port {}", self.port))
    }

    /// Generates the admin token and web-UI password of an empty data dir
    /// (random, mode 600). A data dir that already has a database but no
    /// token file keeps it that way: its token was lost, see [`Kellnr::token`].
    pub fn ensure_secrets(&self) -> Result<()> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create {}", self.data_dir.display()))?;
        let empty = !self.data_dir.join("db.sqlite").exists();
        if empty && !self.token_file().exists() {
            write_secret(&self.token_file(), &random_secret(40))?;
            write_secret(&self.password_file(), &random_secret(24))?;
        }
        Ok(())
    }

    /// The token that publishes to this instance: `CARGO_REGISTRIES_LOCAL_TOKEN`
    /// when set, else the one generated at its first start.
    pub fn token(&self) -> Result<String> {
        if let Ok(token) = std::env::var("CARGO_REGISTRIES_LOCAL_TOKEN")
            && !token.trim().is_empty()
        {
            return Ok(token.trim().to_string());
        }
        match std::fs::read_to_string(self.token_file()) {
            Ok(token) => Ok(token.trim().to_string()),
            Err(_) => bail!(
                "no registry token: {} is missing. Set CARGO_REGISTRIES_LOCAL_TOKEN to the admin \
                 token, or reset the registry (`cargo xtask down`, delete {}, `cargo xtask up` \
                 republishes every pinned version from git history)",
                self.token_file().display(),
                self.data_dir.display()
            ),
        }
    }
}

fn random_secret(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Writes a secret readable by its owner only.
fn write_secret(path: &Path, secret: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{secret}")?;
    Ok(())
}
