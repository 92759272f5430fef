//! The fleet's CLI, run as `cargo xtask <command>` from anywhere in the
//! checkout (the alias lives in `.cargo/config.toml`).
//!
//! - [`commands`]: one module per subcommand (`up`, `down`, `test`,
//!   `publish`, `release`, `check-consumers`, `status`, `bump`, `bench`,
//!   `fleet-bench`, `new-service`, `renovate`, `k8s`), each the only code that prints for its command.
//! - [`consumers`]: the consumer check (every service built and tested
//!   against a shared-lib candidate), for `check-consumers` and `release`.
//! - [`level`]: how far a release moves the version.
//! - [`manifest`]: `fleet.toml`, the one place the services are declared.
//! - [`fleet`]: the registry on port 8000, the versions the services pin,
//!   the services as `up` starts them, stopping, vendoring.
//! - [`history`]: shared-lib versions in git, service pins, publishing a
//!   version from its commit.
//! - [`swarm`]: the swarm stack of `up --swarm` (services replicated
//!   behind HAProxy, PostgreSQL), generated from `fleet.toml`.
//! - [`k8s`]: the Kubernetes manifests (Kustomize base and overlays)
//!   generated from `fleet.toml`.
//! - [`index`]: what a registry holds, from its sparse index.
//! - [`pins`]: where each service stands against the registry (`status`).
//! - [`renovate`]: Renovate's proposals for the fleet, read from its report.
//! - [`ops`]: every process and HTTP call (elsewhere a `Command` comes from
//!   `ops`, gets its arguments and goes back to `ops::run` or
//!   `ops::procs`), tree walks and copies, pid records, secrets, Kellnr,
//!   PostgreSQL, Docker and swarm, and the pinned tools installed once per
//!   machine (Kellnr 6.6.0, cargo-release 1.1.6, cargo-semver-checks
//!   0.51.0, schemathesis 4.32.5, kubernetes-validate 1.37.0, Renovate
//!   44.121.2 on Node 24). A command writes its own reports and logs with
//!   `std::fs` where it makes them.
//! - [`growth`]: the fleet-growth benchmark (`fleet-bench`): a throwaway
//!   clone grown service by service, each command timed and traced.
//! - [`stats`]: the median and range of a figure measured several times.
//! - [`paths`]: where things are.

pub mod bench_plan;
pub mod commands;
pub mod consumers;
pub mod fleet;
pub mod growth;
pub mod history;
pub mod index;
pub mod k8s;
pub mod level;
pub mod manifest;
pub mod ops;
pub mod paths;
pub mod pins;
pub mod renovate;
pub mod running;
pub mod stats;
pub mod swarm;
