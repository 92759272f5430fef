//! A Kellnr registry instance: the fleet's one on port 8000 with its data
//! under `registry/data`, or a throwaway one (tests) on another port.
//!
//! Start-up follows Kellnr's rules: settings from `registry/kellnr.toml`,
//! overridden by `KELLNR_*` variables. Reads need a token
//! (`auth_required = true`). Two tokens, least privilege, both generated
//! on the first start of an empty data dir and kept in it (mode 600,
//! git-ignored):
//! - `admin.token`, the admin's: publishes and yanks. Kellnr applies it on
//!   the first start only (`KELLNR_SETUP__ADMIN_TOKEN`); only `publish` and
//!   `release` hand it to cargo.
//! - `read.token`, a read-only user's (`fleet-reader`), made through
//!   Kellnr's API once the registry answers: reads the index, downloads
//!   crates. Builds, tests, `status`, `bump` and image builds use it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::ops::procs;
use crate::ops::secrets::{random_secret, read_secret, write_secret};

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

    /// This instance as `cargo fleet` reads it: the registry `local` at
    /// its index, with the read token when there is one.
    pub fn client(&self) -> cargo_fleet::ops::registry::Registry {
        cargo_fleet::ops::registry::Registry::with_token(
            &cargo_fleet::manifest::Registry {
                name: "local".into(),
                index: self.index_url(),
            },
            self.read_token().ok(),
        )
    }

    /// The file holding the admin token.
    pub fn token_file(&self) -> PathBuf {
        self.data_dir.join("admin.token")
    }

    /// The file holding the admin web-UI password.
    pub fn password_file(&self) -> PathBuf {
        self.data_dir.join("admin.password")
    }

    /// Uploads `archive` (a zip of a `doc/` directory) as the docs of
    /// `name` `version` (`PUT /api/v1/docs/<name>/<version>`, with the
    /// publish token: only an owner may).
    pub fn upload_docs(
        &self,
        name: &str,
        version: &semver::Version,
        archive: Vec<u8>,
    ) -> Result<()> {
        let url = format!("{}/api/v1/docs/{name}/{version}", self.base_url());
        let resp = crate::ops::http::client()
            .put(&url)
            .header("authorization", self.token()?)
            .body(archive)
            .send()
            .with_context(|| format!("cannot upload docs to {url}"))?;
        if !resp.status().is_success() {
            bail!("uploading docs to {url} answered {}", resp.status());
        }
        Ok(())
    }

    /// The file holding the read-only user's token.
    pub fn read_token_file(&self) -> PathBuf {
        Kellnr::read_token_file_in(&self.data_dir)
    }

    /// The read-only token's file of the instance whose data is `data_dir`.
    pub fn read_token_file_in(data_dir: &Path) -> PathBuf {
        data_dir.join("read.token")
    }

    /// The file holding the read-only user's password.
    pub fn read_password_file(&self) -> PathBuf {
        self.data_dir.join("read.password")
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
        let mut child = procs::spawn_ready(cmd, &self.log, &health, READY_TIMEOUT)
            .with_context(|| format!("Kellnr did not start on port {}", self.port))?;
        if let Err(err) = self.ensure_read_token() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(err.context("Kellnr started, but its read-only token could not be made"));
        }
        Ok(child)
    }

    /// Makes the read-only user `fleet-reader` and its token when
    /// `read.token` is missing (the first start), through Kellnr's API with
    /// an admin session.
    pub fn ensure_read_token(&self) -> Result<()> {
        let base = self.base_url();
        if let Ok(token) = read_secret(&self.read_token_file()) {
            let probe = crate::ops::http::client()
                .get(format!("{base}/api/v1/crates/config.json"))
                .header("authorization", token)
                .send()?;
            if probe.status() != reqwest::StatusCode::UNAUTHORIZED {
                return Ok(());
            }
            // A registry whose data was reset under a kept token file.
            std::fs::remove_file(self.read_token_file())?;
        }
        let admin_pwd = read_secret(&self.password_file())?;
        if !self.read_password_file().exists() {
            write_secret(&self.read_password_file(), &random_secret(24))?;
        }
        let reader_pwd = read_secret(&self.read_password_file())?;
        let admin = login(&base, "admin", &admin_pwd)?;
        let created = admin
            .post(format!("{base}/api/v1/users"))
            .json(&serde_json::json!({
                "name": READER, "pwd1": reader_pwd, "pwd2": reader_pwd,
                "is_admin": false, "is_read_only": true
            }))
            .send()?;
        // A user left by an interrupted first start is fine: log in as it.
        if !created.status().is_success() && login(&base, READER, &reader_pwd).is_err() {
            bail!("creating the read-only user answered {}", created.status());
        }
        let reader = login(&base, READER, &reader_pwd)?;
        let resp = reader
            .post(format!("{base}/api/v1/users/me/tokens"))
            .json(&serde_json::json!({"name": "fleet-read"}))
            .send()?;
        if !resp.status().is_success() {
            bail!("creating the read token answered {}", resp.status());
        }
        let body: serde_json::Value = resp.json()?;
        let token = body["token"]
            .as_str()
            .context("Kellnr's token answer has no token")?;
        write_secret(&self.read_token_file(), token)
    }

    /// A web session as `user` (for the docs, which Kellnr serves to logged-in
    /// users only, and for user management).
    pub fn session(&self, user: &str, pwd: &str) -> Result<reqwest::blocking::Client> {
        login(&self.base_url(), user, pwd)
    }

    /// Whether the registry takes the admin password in this data dir: a
    /// Kellnr whose database was made with other secrets refuses it.
    pub fn admin_accepted(&self) -> Result<bool> {
        let pwd = read_secret(&self.password_file())?;
        let resp = crate::ops::http::client()
            .post(format!("{}/api/v1/auth/login", self.base_url()))
            .json(&serde_json::json!({"user": "admin", "pwd": pwd}))
            .send()
            .with_context(|| format!("cannot reach {} to log in", self.base_url()))?;
        Ok(resp.status().is_success())
    }

    /// The read-only user's web session.
    pub fn reader_session(&self) -> Result<reqwest::blocking::Client> {
        self.session(READER, &read_secret(&self.read_password_file())?)
    }

    /// Generates the admin token and web-UI password of an empty data dir
    /// (random, mode 600). A data dir that already has a database but no
    /// token file keeps it that way: its token was lost, see [`Kellnr::token`].
    /// Returns whether it generated them now.
    pub fn ensure_secrets(&self) -> Result<bool> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create {}", self.data_dir.display()))?;
        let empty = !self.data_dir.join("db.sqlite").exists();
        if empty && !self.token_file().exists() {
            write_secret(&self.token_file(), &random_secret(40))?;
            write_secret(&self.password_file(), &random_secret(24))?;
            write_secret(&self.read_password_file(), &random_secret(24))?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The read-only token: the one made at this instance's first start,
    /// else `CARGO_REGISTRIES_LOCAL_TOKEN` (a registry this checkout did not
    /// start; the README's `cargo login` step).
    pub fn read_token(&self) -> Result<String> {
        token_from(&self.read_token_file(), "CARGO_REGISTRIES_LOCAL_TOKEN").with_context(|| {
            format!(
                "no read token: {} is missing and CARGO_REGISTRIES_LOCAL_TOKEN is not set. Set it \
                 to a token of this registry, or reset the registry (`cargo xtask down`, delete {}, \
                 `cargo xtask up` republishes every pinned version from git history)",
                self.read_token_file().display(),
                self.data_dir.display()
            )
        })
    }

    /// The token that publishes to this instance: the admin token generated
    /// at its first start, else `FLEET_PUBLISH_TOKEN`.
    pub fn token(&self) -> Result<String> {
        token_from(&self.token_file(), "FLEET_PUBLISH_TOKEN").with_context(|| {
            format!(
                "no publish token: {} is missing and FLEET_PUBLISH_TOKEN is not set. Set it to \
                 the admin token, or reset the registry (`cargo xtask down`, delete {}, `cargo xtask up` \
                 republishes every pinned version from git history)",
                self.token_file().display(),
                self.data_dir.display()
            )
        })
    }
}

/// The read-only user's name.
pub const READER: &str = "fleet-reader";

/// The token in `file`, else in the environment variable `var`.
fn token_from(file: &Path, var: &str) -> Result<String> {
    if let Ok(token) = read_secret(file) {
        return Ok(token);
    }
    match std::env::var(var) {
        Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_string()),
        _ => bail!("{} is missing", file.display()),
    }
}

/// A client holding a Kellnr web session for `user`.
fn login(base: &str, user: &str, pwd: &str) -> Result<reqwest::blocking::Client> {
    let client = reqwest::blocking::Client::builder()
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(10))
        .build()?;
    let resp = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"user": user, "pwd": pwd}))
        .send()
        .with_context(|| format!("cannot reach {base} to log in"))?;
    if !resp.status().is_success() {
        bail!("logging in to {base} as {user} answered {}", resp.status());
    }
    Ok(client)
}
