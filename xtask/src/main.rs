//! `cargo xtask`: the commands are declared here, in one place; each lives
//! in its own module under `commands/`. Errors are printed as one line
//! (with their causes) and exit with status 1.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::commands;
use xtask::fleet::DataBackend;
use xtask::level::Level;
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
    /// version published from git history, every service of fleet.toml
    /// built and ready.
    Up {
        /// Run the fleet as containers with docker compose instead.
        #[arg(long, conflicts_with_all = ["postgres", "swarm"])]
        docker: bool,
        /// Run the fleet replicated on the Docker engine in swarm mode
        /// (the stack of deploy/swarm/, generated from fleet.toml): two
        /// replicas of every service and of the registry, on one
        /// PostgreSQL, behind one HAProxy that publishes port 8000 and each
        /// service's port.
        #[arg(long, conflicts_with = "postgres")]
        swarm: bool,
        /// Keep the services' data on the project's PostgreSQL 15 server
        /// (installed and started when needed) instead of SQLite files.
        #[arg(long)]
        postgres: bool,
    },
    /// Stop what `up` started, by pid, and nothing else. The services'
    /// data stays unless --wipe.
    Down {
        /// Stop the containers of `up --docker` instead.
        #[arg(long, conflicts_with = "swarm")]
        docker: bool,
        /// Remove the stack of `up --swarm` instead (with --wipe, its
        /// database volume too).
        #[arg(long)]
        swarm: bool,
        /// With --docker or --swarm: also stop the Docker engine the
        /// project started.
        #[arg(long)]
        engine: bool,
        /// Also delete the services' data (SQLite files and the project's
        /// PostgreSQL server; with --docker, their volumes). The registry's
        /// data stays.
        #[arg(long)]
        wipe: bool,
    },
    /// Run every check: fmt, clippy, unit, integration and end-to-end tests.
    Test,
    /// Publish the working tree's shared-lib version if the registry lacks it.
    Publish,
    /// Release shared-lib with cargo-release after a semver check against
    /// the last published version and a build and test of every service
    /// against it. A dry run unless --execute.
    Release {
        /// How far to move the version.
        level: Level,
        /// Really commit, tag and publish.
        #[arg(long)]
        execute: bool,
        /// Release even though this service's build or tests fail against
        /// the candidate (a deliberate break; say so in the CHANGELOG).
        /// Repeat it for several services.
        #[arg(long = "allow-break", value_name = "SERVICE")]
        allow_break: Vec<String>,
    },
    /// Build and test every service against the working tree's shared-lib
    /// (the release candidate), each in a throwaway copy.
    CheckConsumers {
        /// Check the candidate as the version this release level would make
        /// (default: the working tree's version as it stands).
        #[arg(long)]
        level: Option<Level>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show which shared-lib each service requires and locks, against the registry.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run Renovate (dry run) with the repository's renovate.json5 and print,
    /// per service, the shared-lib update it proposes beside `status`.
    Renovate {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Benchmark the services against a bare warp server with wrk (loopback, bounded).
    Bench {
        /// Seconds of load per endpoint.
        #[arg(long, default_value_t = 5)]
        seconds: u32,
        /// Concurrent connections.
        #[arg(long, default_value_t = 32)]
        connections: u32,
        /// wrk's threads (the load generator shares the machine's cores
        /// with the server; 2 on a 2-core machine).
        #[arg(long, default_value_t = 2)]
        threads: u32,
        /// How many times to run the whole load; the table shows medians
        /// and ranges, the JSON keeps every run.
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Write an advisory on a published shared-lib version into
    /// registry/advisories (RustSec format, committed there), yank it when
    /// asked, and list every service that locks an affected version. A dry
    /// run unless --execute.
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
        /// Yank the version in the registry too.
        #[arg(long)]
        yank: bool,
        /// Really write, commit and yank.
        #[arg(long)]
        execute: bool,
    },
    /// Move one service to a shared-lib version (the newest by default) and run its tests.
    Bump {
        /// The service to move (a name from fleet.toml).
        service: String,
        /// The version to move to; must be published and not yanked.
        #[arg(long, value_name = "VERSION")]
        to: Option<semver::Version>,
    },
    /// Write the Kubernetes manifests of deploy/k8s/ from fleet.toml
    /// (Kustomize base, staging and production overlays), then render each
    /// overlay and validate it offline against the Kubernetes 1.32 schemas.
    K8s {
        /// Write nothing; fail when deploy/k8s/ differs from fleet.toml.
        #[arg(long)]
        check: bool,
    },
    /// What the everyday commands cost as the fleet grows: a throwaway
    /// clone grown by new-service to each size, every command timed (median
    /// of the runs) and traced; table printed and written into docs/benchmarks.md,
    /// plot in docs/fleet-growth.svg, every run in bench-results/.
    FleetBench {
        /// Fleet sizes to measure, rising, from 2.
        #[arg(long, value_delimiter = ',', default_values_t = xtask::growth::SIZES)]
        sizes: Vec<usize>,
        /// Timed runs of each command at each size.
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Move one service of the swarm fleet (`up --swarm`) to a new image,
    /// one replica at a time, each new replica watched through the
    /// stack's Prometheus for --bake seconds and the service rolled back
    /// when its 5xx ratio is worse than the old replicas'. Exit 1 when it
    /// was rolled back, with the numbers that decided it.
    Rollout {
        /// The service of fleet.toml.
        service: String,
        /// An image the engine has, or a commit whose tree is built;
        /// default: built from this checkout's tree.
        #[arg(long, value_name = "IMAGE_OR_COMMIT")]
        to: Option<String>,
        /// Seconds each new replica is watched before the next one.
        #[arg(long, default_value_t = 30)]
        bake: u64,
        /// How many points (0.05 = 5 %) a new replica's 5xx ratio may
        /// exceed the old replicas' before the service is rolled back.
        #[arg(long, default_value_t = 0.05)]
        max_error_ratio: f64,
        /// Print the plan; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Create a service with the same shape as the others, pinned to the
    /// newest shared-lib, and add it to fleet.toml, docker-compose.yml,
    /// deploy/k8s/ and deploy/swarm/.
    NewService {
        /// Its name: lower-case letters, digits and dashes (e.g. billing-service).
        name: String,
        /// Its port (default: the next free one after the fleet's highest).
        #[arg(long)]
        port: Option<u16>,
        /// A service of the fleet it calls (repeatable): declared in
        /// fleet.toml, its base URL given in `<SERVICE>_URL`, and it starts
        /// first.
        #[arg(long = "calls", value_name = "SERVICE")]
        calls: Vec<String>,
    },
}

fn runtime(docker: bool, swarm: bool) -> commands::Runtime {
    if docker {
        commands::Runtime::Docker
    } else if swarm {
        commands::Runtime::Swarm
    } else {
        commands::Runtime::Native
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let layout = match Layout::find() {
        Ok(layout) => layout,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Cmd::Up {
            docker,
            swarm,
            postgres,
        } => commands::up::run(
            &layout,
            runtime(docker, swarm),
            if postgres {
                DataBackend::Postgres
            } else {
                DataBackend::Sqlite
            },
        ),
        Cmd::Down {
            docker,
            swarm,
            engine,
            wipe,
        } => commands::down::run(&layout, runtime(docker, swarm), wipe, engine),
        Cmd::Test => commands::test::run(&layout),
        Cmd::Publish => commands::publish::run(&layout),
        Cmd::Release {
            level,
            execute,
            allow_break,
        } => commands::release::run(&layout, level, execute, &allow_break),
        Cmd::CheckConsumers { level, json } => commands::check_consumers::run(&layout, level, json),
        Cmd::Status { json } => commands::status::run(&layout, json),
        Cmd::Renovate { json } => commands::renovate::run(&layout, json),
        Cmd::Advise {
            version,
            reason,
            patched,
            yank,
            execute,
        } => commands::advise::run(
            &layout,
            &cargo_fleet::commands::advise::Request {
                krate: None,
                version,
                reason,
                patched,
                yank,
                execute,
            },
        ),
        Cmd::Bump { service, to } => commands::bump::run(&layout, &service, to.as_ref()),
        Cmd::Bench {
            seconds,
            connections,
            threads,
            runs,
        } => commands::bench::run(
            &layout,
            commands::bench::Load {
                seconds,
                connections,
                threads,
                runs,
            },
        ),
        Cmd::FleetBench { sizes, runs } => commands::fleet_bench::run(&layout, &sizes, runs),
        Cmd::K8s { check } => commands::k8s::run(&layout, check),
        Cmd::Rollout {
            service,
            to,
            bake,
            max_error_ratio,
            dry_run,
        } => commands::rollout::run(
            &layout,
            &commands::rollout::Plan {
                service,
                to,
                bake: std::time::Duration::from_secs(bake),
                max_error_ratio,
                dry_run,
            },
        ),
        Cmd::NewService { name, port, calls } => {
            commands::new_service::run(&layout, &name, port, &calls)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
