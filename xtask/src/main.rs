//! `cargo xtask`: parses the command line and runs one command. Errors are
//! printed as one line (with their causes) and exit with status 1.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::commands;
use xtask::paths::Layout;
use xtask::release::Level;

/// The fleet's CLI: private registry, shared-lib publishing, services, tests.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start everything: Kellnr (installed once), every pinned shared-lib
    /// version published from git history, both services built and ready.
    Up {
        /// Run the fleet as containers with docker compose instead.
        #[arg(long)]
        docker: bool,
    },
    /// Stop what `up` started, by pid, and nothing else.
    Down {
        /// Stop the containers of `up --docker` instead.
        #[arg(long)]
        docker: bool,
    },
    /// Run every check: fmt, clippy, unit, integration and end-to-end tests.
    Test,
    /// Publish the working tree's shared-lib version if the registry lacks it.
    Publish,
    /// Release shared-lib with cargo-release after a semver check against
    /// the last published version. A dry run unless --execute.
    Release {
        /// How far to move the version.
        level: Level,
        /// Really commit, tag and publish.
        #[arg(long)]
        execute: bool,
    },
    /// Show which shared-lib each service requires and locks, against the registry.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Benchmark both services against a bare warp server with wrk (loopback, bounded).
    Bench {
        /// Seconds of load per endpoint.
        #[arg(long, default_value_t = 5)]
        seconds: u32,
        /// Concurrent connections.
        #[arg(long, default_value_t = 32)]
        connections: u32,
    },
    /// Move one service to a shared-lib version (the newest by default) and run its tests.
    Bump {
        /// The service to move (user-service, order-service).
        service: String,
        /// The version to move to; must be published and not yanked.
        #[arg(long, value_name = "VERSION")]
        to: Option<semver::Version>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let layout = Layout::detect();
    let result = match cli.command {
        Cmd::Up { docker: false } => commands::up(&layout),
        Cmd::Up { docker: true } => commands::up_docker(&layout),
        Cmd::Down { docker: false } => commands::down(&layout),
        Cmd::Down { docker: true } => commands::down_docker(&layout),
        Cmd::Test => commands::test(&layout),
        Cmd::Publish => commands::publish(&layout),
        Cmd::Release { level, execute } => commands::release(&layout, level, execute),
        Cmd::Status { json } => commands::status(&layout, json),
        Cmd::Bump { service, to } => commands::bump(&layout, &service, to.as_ref()),
        Cmd::Bench {
            seconds,
            connections,
        } => commands::bench(
            &layout,
            xtask::bench::Load {
                seconds,
                connections,
                threads: 2,
            },
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
