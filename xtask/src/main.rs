//! `cargo xtask`: parses the command line and runs one command. Errors are
//! printed as one line (with their causes) and exit with status 1.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::commands;
use xtask::paths::Layout;

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
    Up,
    /// Stop what `up` started, by pid, and nothing else.
    Down,
    /// Run every check: fmt, clippy, unit, integration and end-to-end tests.
    Test,
    /// Publish the working tree's shared-lib version if the registry lacks it.
    Publish,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let layout = Layout::detect();
    let result = match cli.command {
        Cmd::Up => commands::up(&layout),
        Cmd::Down => commands::down(&layout),
        Cmd::Test => commands::test(&layout),
        Cmd::Publish => commands::publish(&layout),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
