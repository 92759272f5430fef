//! The fleet's CLI, run as `cargo xtask <command>` from anywhere in the
//! checkout (the alias lives in `.cargo/config.toml`).
//!
//! - [`commands`]: one module per subcommand (`up`, `down`, `test`,
//!   `publish`, `release`, `check-consumers`, `status`, `bump`, `bench`,
//!   `fleet-bench`, `new-service`, `renovate`, `k8s`), each the only code that prints for its command.
//! - The product's commands (`status`, `check-consumers`, `bump`,
//!   `release`, `renovate`) and their library are `cargo fleet`'s
//!   ([`cargo_fleet`]): the harness's commands of those names are aliases
//!   that start the registry first (and install the tools they run);
//!   [`consumers`], [`index`], [`level`], [`pins`] and [`renovate`] are its
//!   modules.
//! - [`manifest`]: the harness's view of `fleet.toml`, the one place the
//!   services are declared.
//! - [`fleet`]: the registry on port 8000, the versions the services pin,
//!   the services as `up` starts them, stopping, vendoring.
//! - [`history`]: shared-lib versions in git, service pins, publishing a
//!   version from its commit.
//! - [`swarm`]: the swarm stack of `up --swarm` (services replicated
//!   behind HAProxy, PostgreSQL), generated from `fleet.toml`.
//! - [`k8s`]: the Kubernetes manifests (Kustomize base and overlays)
//!   generated from `fleet.toml`.
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

pub use cargo_fleet::{consumers, index, level, pins, renovate};

pub mod bench_plan;
pub mod commands;
pub mod fleet;
pub mod growth;
pub mod history;
pub mod k8s;
pub mod manifest;
pub mod ops;
pub mod paths;
pub mod running;
pub mod stats;
pub mod swarm;
