//! `cargo fleet`: the commands are declared here, in one place; each lives
//! in its own module under `commands/`. An error is printed as one line
//! and its kind becomes the exit code (see `--help`).

use std::path::PathBuf;
use std::process::ExitCode;

use cargo_fleet::Workspace;
use cargo_fleet::commands;
use cargo_fleet::error::{Kind, usage};
use cargo_fleet::level::Level;
use clap::{Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the check found a problem: a consumer breaks, a service pins an
     advised, yanked or unpublished version, a release names an advised
     version, the tests of a bump fail
  2  usage or configuration: a bad flag, a bad or missing fleet.toml key
  3  the tool could not do its work: the registry does not answer, git or
     cargo failed

Configured by fleet.toml, in the working directory or above it: [registry]
(name, index), [[shared]] crates and [[service]] entries, each by path or by
git URL and branch. The registry's token is cargo's own:
CARGO_REGISTRIES_<NAME>_TOKEN or `cargo login --registry <name>`.";

/// Day-two tooling for crates shared through a private registry and the
/// services that pin them, in this repository or in their own.
#[derive(Parser)]
#[command(name = "cargo fleet", bin_name = "cargo fleet", version, about, after_help = EXIT_CODES)]
struct Cli {
    /// The fleet.toml to use (default: the nearest one at or above the
    /// working directory).
    #[arg(long, global = true, value_name = "PATH", env = "CARGO_FLEET_MANIFEST")]
    manifest_path: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Show which version of each shared crate every service requires and
    /// locks, against the registry and the team's advisories. Exit 1 when
    /// one pins an advised, yanked or unpublished version.
    Status {
        /// Only this shared crate (default: every one).
        #[arg(long = "crate", value_name = "NAME")]
        krate: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check one project (a service's directory; default: the working
    /// directory): every shared crate named with the fleet's registry, none
    /// locked at an advised, yanked or unpublished version. For a service's
    /// own tests and CI; exit 1 naming each advisory and where to move.
    Audit {
        /// The project's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Build and test every service against the shared crate's working
    /// tree (the release candidate), each in a throwaway copy. Exit 1 when
    /// one whose requirement accepts it breaks.
    CheckConsumers {
        /// The shared crate (needed when fleet.toml declares several).
        #[arg(long = "crate", value_name = "NAME")]
        krate: Option<String>,
        /// Check the candidate as the version this release level would make
        /// (default: the working tree's version as it stands).
        #[arg(long)]
        level: Option<Level>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Move one service to a published version of a shared crate (the
    /// newest by default) and run its tests: in place for a path service,
    /// on a pushed branch of its repository for a git service. A dry run
    /// unless --execute.
    Bump {
        /// The service to move (a name from fleet.toml).
        service: String,
        /// The version to move to; must be published and not yanked.
        #[arg(long, value_name = "VERSION")]
        to: Option<semver::Version>,
        /// The shared crate (needed when fleet.toml declares several).
        #[arg(long = "crate", value_name = "NAME")]
        krate: Option<String>,
        /// Really change the service (and push its branch).
        #[arg(long)]
        execute: bool,
    },
    /// Release the shared crate with cargo-release after a semver check
    /// against the last published version and a build and test of every
    /// service against it. A dry run unless --execute; exit 1 when the guard
    /// or a consumer refuses it.
    Release {
        /// How far to move the version.
        level: Level,
        /// The shared crate (needed when fleet.toml declares several).
        #[arg(long = "crate", value_name = "NAME")]
        krate: Option<String>,
        /// Really commit, tag and publish.
        #[arg(long)]
        execute: bool,
        /// Release even though this service's build or tests fail against
        /// the candidate (a deliberate break; say so in the CHANGELOG).
        /// Repeat it for several services.
        #[arg(long = "allow-break", value_name = "SERVICE")]
        allow_break: Vec<String>,
    },
    /// Run Renovate (dry run) on the fleet's repository and on each git
    /// service's repository, and print per service the update of the
    /// shared crate it proposes beside `status`.
    Renovate {
        /// The shared crate (needed when fleet.toml declares several).
        #[arg(long = "crate", value_name = "NAME")]
        krate: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write an advisory on a published version of a shared crate into the
    /// team's advisory database (RustSec format, committed there), yank the
    /// version when asked, and list every service that locks an affected
    /// version. A dry run unless --execute.
    Advise {
        /// The advised version.
        version: semver::Version,
        /// What is wrong with it, in one line.
        #[arg(long)]
        reason: String,
        /// The versions with the fix, e.g. ">=0.3.6" (default: from the next
        /// published version on).
        #[arg(long, value_name = "RANGE")]
        patched: Option<semver::VersionReq>,
        /// Yank the version in the registry too (the token must be an
        /// owner's).
        #[arg(long)]
        yank: bool,
        /// The shared crate (needed when fleet.toml declares several).
        #[arg(long = "crate", value_name = "NAME")]
        krate: Option<String>,
        /// Really write, commit and yank.
        #[arg(long)]
        execute: bool,
    },
    /// Publish the shared crate's working tree version (a git shared
    /// crate: its branch's head) when the registry lacks it. A dry run
    /// unless --execute; the token must be one that may publish.
    Publish {
        /// The shared crate (needed when fleet.toml declares several).
        #[arg(long = "crate", value_name = "NAME")]
        krate: Option<String>,
        /// Really publish.
        #[arg(long)]
        execute: bool,
    },
}

fn workspace(manifest_path: Option<PathBuf>) -> anyhow::Result<Workspace> {
    match manifest_path {
        Some(path) => {
            let root = if path.is_dir() {
                path
            } else if path.file_name().is_some_and(|n| n == "fleet.toml") {
                path.parent().map(PathBuf::from).unwrap_or_default()
            } else {
                return Err(usage(format!(
                    "--manifest-path {}: name a fleet.toml or the directory holding it",
                    path.display()
                )));
            };
            let root = if root.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                root
            };
            Workspace::open(std::path::absolute(&root)?, None)
        }
        None => Workspace::find(&std::env::current_dir()?),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let ws = workspace(cli.manifest_path)?;
    match cli.command {
        Cmd::Status { krate, json } => commands::status::run(&ws, krate.as_deref(), json),
        Cmd::Audit { dir } => commands::audit::run(&ws, &dir),
        Cmd::CheckConsumers { krate, level, json } => {
            commands::check_consumers::run(&ws, krate.as_deref(), level, json)
        }
        Cmd::Bump {
            service,
            to,
            krate,
            execute,
        } => commands::bump::run(&ws, &service, krate.as_deref(), to.as_ref(), execute),
        Cmd::Renovate { krate, json } => commands::renovate::run(&ws, krate.as_deref(), json),
        Cmd::Release {
            level,
            krate,
            execute,
            allow_break,
        } => commands::release::run(&ws, krate.as_deref(), level, execute, &allow_break),
        Cmd::Advise {
            version,
            reason,
            patched,
            yank,
            krate,
            execute,
        } => commands::advise::run(
            &ws,
            &commands::advise::Request {
                krate,
                version,
                reason,
                patched,
                yank,
                execute,
            },
        )
        .map(|_| ()),
        Cmd::Publish { krate, execute } => commands::publish::run(&ws, krate.as_deref(), execute),
    }
}

fn main() -> ExitCode {
    // Run as `cargo fleet ...`, cargo passes `fleet` first.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "fleet") {
        args.remove(1);
    }
    let cli = Cli::parse_from(args);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(Kind::of(&err).code())
        }
    }
}
