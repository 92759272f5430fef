//! A PostgreSQL 15 server of the project's own, from Debian's
//! `postgresql-15` (installed with apt-get when missing): its own data
//! directory and port, listening on 127.0.0.1 only, password logins
//! (scram) for a superuser `fleet` and one role and database per service.
//!
//! `initdb` refuses to run as root, so as root every server command runs as
//! the `postgres` user (`runuser`), and the data directory (owned by that
//! user) lives outside root's home. As another user, they run as that user.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::ops::run::capture;
use crate::ops::secrets::ensure_secret;
use crate::ops::tools::{ensure_debian, on_path};

/// Where Debian puts the server programs.
pub const BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
/// The superuser the project creates.
pub const SUPERUSER: &str = "fleet";
/// The port of `cargo xtask up --postgres`'s server.
pub const FLEET_PORT: u16 = 55432;

/// One server: its data directory, port and superuser password.
#[derive(Debug, Clone)]
pub struct Postgres {
    /// The data directory (owned by the server's user).
    pub data: PathBuf,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// Where the generated passwords live (the superuser's and each role's).
    pub secrets: PathBuf,
    /// A server for tests, deleted afterwards: it runs without fsync.
    scratch: bool,
}

fn as_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// The directory that holds the project's servers: outside root's home
/// when root (the `postgres` user must reach it), else the tool cache.
pub fn base_dir() -> PathBuf {
    if as_root() {
        PathBuf::from("/var/lib/shared-fleet/postgres")
    } else {
        crate::paths::tools_dir().join("postgres")
    }
}

/// Debian's server programs, installed when missing.
pub fn ensure_installed() -> Result<()> {
    if Path::new(BIN_DIR).join("initdb").is_file() {
        return Ok(());
    }
    ensure_debian("pg_ctlcluster", "postgresql-15")?;
    if !Path::new(BIN_DIR).join("initdb").is_file() {
        bail!(
            "{BIN_DIR}/initdb is missing after installing postgresql-15; install it \
             (`apt-get install postgresql-15`, as root) and run the command again"
        );
    }
    if on_path("psql").is_none() {
        ensure_debian("psql", "postgresql-client-15")?;
    }
    Ok(())
}

impl Postgres {
    /// The server whose data lives in `data`, listening on `port`.
    pub fn new(data: PathBuf, port: u16) -> Postgres {
        let secrets = data.with_extension("secrets");
        Postgres {
            data,
            port,
            secrets,
            scratch: false,
        }
    }

    /// The same server for tests whose data is deleted afterwards: it runs
    /// with `fsync=off`. A crash of the machine may corrupt it, which
    /// nobody minds; its shutdown no longer writes every test database's
    /// pages to disk (a run of the suite makes a few hundred of them: the
    /// shutdown checkpoint alone took 5 to 11 s, measured with 100 to 150).
    pub fn scratch(self) -> Postgres {
        Postgres {
            scratch: true,
            ..self
        }
    }

    /// A server program (`initdb`, `pg_ctl`) run as the server's user.
    fn server_cmd(&self, program: &str) -> Command {
        let path = Path::new(BIN_DIR).join(program);
        if as_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }

    fn superuser_password(&self) -> Result<String> {
        ensure_secret(&self.secrets.join(format!("{SUPERUSER}.password")), 32)
    }

    /// `postgres://fleet:<password>@127.0.0.1:<port>/<database>`.
    pub fn superuser_url(&self, database: &str) -> Result<String> {
        Ok(format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.superuser_password()?,
            self.port
        ))
    }

    /// The server's process id, from `postmaster.pid`.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// Whether the server in `data` is running.
    pub fn is_running(&self) -> bool {
        self.data.join("postmaster.pid").is_file()
            && self
                .server_cmd("pg_ctl")
                .arg("status")
                .arg("-D")
                .arg(&self.data)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
    }

    /// Initialises the data directory when it has no cluster yet, then
    /// starts the server unless it runs. Returns whether it started it.
    pub fn ensure_running(&self) -> Result<bool> {
        ensure_installed()?;
        if !self.data.join("PG_VERSION").is_file() {
            self.init()?;
        }
        if self.is_running() {
            return Ok(false);
        }
        if crate::ops::procs::port_in_use(self.port) {
            bail!(
                "port {} is taken by another program, so PostgreSQL cannot start there; stop it \
                 (`ss -ltnp 'sport = :{}'` shows which)",
                self.port,
                self.port
            );
        }
        let log = self.data.with_extension("log");
        if as_root() {
            // The server's user writes its log.
            std::fs::write(&log, "")?;
            chown_postgres(&log)?;
        }
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=200",
            self.port,
            self.data.display()
        );
        if self.scratch {
            options.push_str(" -c fsync=off");
        }
        capture(
            self.server_cmd("pg_ctl")
                .args(["start", "-w", "-t", "60", "-D"])
                .arg(&self.data)
                .arg("-l")
                .arg(&log)
                .args(["-o", &options]),
        )
        .with_context(|| format!("PostgreSQL did not start; its log is {}", log.display()))?;
        Ok(true)
    }

    fn init(&self) -> Result<()> {
        let parent = self
            .data
            .parent()
            .context("the data directory has no parent")?;
        std::fs::create_dir_all(&self.data)
            .with_context(|| format!("cannot create {}", self.data.display()))?;
        // The superuser's password reaches initdb in a file the server's
        // user can read, removed right after.
        let pwfile = parent.join(format!(
            ".{}.pwfile",
            self.data.file_name().unwrap_or_default().to_string_lossy()
        ));
        std::fs::write(&pwfile, format!("{}\n", self.superuser_password()?))?;
        if as_root() {
            // Every parent must be enterable by the postgres user.
            let mut dir = Some(self.data.as_path());
            while let Some(d) = dir {
                if d == Path::new("/") {
                    break;
                }
                if d != self.data {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(d)?.permissions().mode();
                    if mode & 0o001 == 0 {
                        bail!(
                            "{} is not enterable by the postgres user (mode {:o}); choose a data \
                             directory outside root's home",
                            d.display(),
                            mode & 0o777
                        );
                    }
                }
                dir = d.parent();
            }
            chown_postgres(&self.data)?;
            chown_postgres(&pwfile)?;
        }
        let outcome = capture(
            self.server_cmd("initdb")
                .arg("-D")
                .arg(&self.data)
                .args(["-U", SUPERUSER, "-A", "scram-sha-256", "-E", "UTF8"])
                .args(["--locale=C.UTF-8", "--no-sync"])
                .arg(format!("--pwfile={}", pwfile.display())),
        );
        let _ = std::fs::remove_file(&pwfile);
        outcome.context("initdb failed")?;
        Ok(())
    }

    /// Runs `sql` (psql script, `\gexec` allowed) as the superuser.
    fn psql(&self, sql: &str) -> Result<String> {
        use std::io::Write;
        let mut child = Command::new("psql")
            .arg(self.superuser_url("postgres")?)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-t", "-A"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .context("cannot run psql (Debian's postgresql-client-15)")?;
        child
            .stdin
            .take()
            .context("psql has no stdin")?
            .write_all(sql.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "psql failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A login role and a database it owns, both named `name` (dashes
    /// become underscores), with a generated password kept beside the
    /// server's other secrets. Returns the URL a service connects with.
    pub fn ensure_database(&self, name: &str) -> Result<String> {
        let ident = name.replace('-', "_");
        if !ident
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            bail!(
                "{name:?} cannot name a PostgreSQL role: use lower-case letters, digits and dashes"
            );
        }
        let password = ensure_secret(&self.secrets.join(format!("{ident}.password")), 32)?;
        self.psql(&format!(
            "SELECT 'CREATE ROLE {ident} LOGIN' WHERE NOT EXISTS \
               (SELECT FROM pg_roles WHERE rolname = '{ident}')\\gexec\n\
             ALTER ROLE {ident} PASSWORD '{password}';\n\
             SELECT 'CREATE DATABASE {ident} OWNER {ident}' WHERE NOT EXISTS \
               (SELECT FROM pg_database WHERE datname = '{ident}')\\gexec\n"
        ))?;
        Ok(format!(
            "postgres://{ident}:{password}@127.0.0.1:{}/{ident}",
            self.port
        ))
    }

    /// Drops the database and role `name` made (dashes as underscores).
    pub fn drop_database(&self, name: &str) -> Result<()> {
        let ident = name.replace('-', "_");
        self.psql(&format!(
            "DROP DATABASE IF EXISTS {ident} WITH (FORCE);\nDROP ROLE IF EXISTS {ident};\n"
        ))?;
        Ok(())
    }

    /// Stops the server (fast shutdown: clients are disconnected, nothing
    /// committed is lost). Returns whether it was running.
    pub fn stop(&self) -> Result<bool> {
        self.stop_in("fast")
    }

    /// `pg_ctl stop -m <mode>` when the server runs; whether it ran.
    fn stop_in(&self, mode: &str) -> Result<bool> {
        if !self.is_running() {
            return Ok(false);
        }
        capture(
            self.server_cmd("pg_ctl")
                .args(["stop", "-w", "-t", "60", "-m", mode, "-D"])
                .arg(&self.data),
        )?;
        Ok(true)
    }

    /// Stops the server and deletes its data and secrets. An immediate
    /// shutdown: none of the data is kept, so none is written out first.
    pub fn destroy(&self) -> Result<()> {
        self.stop_in("immediate")?;
        for path in [&self.data, &self.secrets] {
            if path.exists() {
                std::fs::remove_dir_all(path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
        let _ = std::fs::remove_file(self.data.with_extension("log"));
        Ok(())
    }

    /// Waits until the server accepts the superuser, at most `timeout`.
    pub fn wait_accepting(&self, timeout: Duration) -> bool {
        crate::ops::procs::wait_until(timeout, || self.psql("SELECT 1").is_ok())
    }
}

fn chown_postgres(path: &Path) -> Result<()> {
    capture(
        Command::new("chown")
            .arg("-R")
            .arg("postgres:postgres")
            .arg(path),
    )
    .map(|_| ())
}

/// A PostgreSQL server of its own for one run (the tests', the
/// benchmark's), on a free port, deleted when dropped.
#[derive(Debug)]
pub struct Throwaway(pub Postgres);

impl Throwaway {
    /// Initialises and starts it, its data under [`base_dir`] named after
    /// `purpose` and this process.
    pub fn start(purpose: &str) -> Result<Throwaway> {
        let pg = Postgres::new(
            base_dir().join(format!("{purpose}-{}", std::process::id())),
            crate::ops::procs::free_port()?,
        )
        .scratch();
        // Guard first: a failed start still removes what it made.
        let pg = Throwaway(pg);
        pg.0.ensure_running()?;
        Ok(pg)
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        if let Err(err) = self.0.destroy() {
            eprintln!("cannot remove the throwaway PostgreSQL server: {err:#}");
        }
    }
}
